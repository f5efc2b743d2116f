//! Sim7000Mailer on the session engine: the point of no return reported once,
//! over the golden two-mail transcript (where in the exchange order the driver
//! reports it is tested in crates/session/tests/driver.rs).

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::sync::Mutex;

use cellmail::{Auth, Email, MailSender, Pop3Account, Secret, SendStage, ServerAddr, SmtpAccount};
use cellmail_replay::harness::{self, PASSWORD};
use cellmail_simcom::sim7000::{Sim7000Mailer, Sim7000Options, decoder_config};

#[tokio::test(start_paused = true)]
async fn submitting_is_reported_once_per_send() {
    let client = harness::golden("sim7000", "mailer-two-mails.at", decoder_config()).unwrap();
    let account = SmtpAccount {
        server: ServerAddr::new("mail.sim.com", 25),
        auth: Auth::Login {
            user: "john".into(),
            password: Secret::new(PASSWORD),
        },
        tls: Default::default(),
    };
    let options = Sim7000Options {
        pop3: Some(Pop3Account {
            server: ServerAddr::new("mail.sim.com", 110),
            user: "john".into(),
            password: Secret::new(PASSWORD),
            tls: Default::default(),
        }),
        // These transcripts are about the session, not the lengths: the
        // built-in numbers are given, so no test form is asked (the forms
        // are asked and read in sim7000_lengths.rs).
        lengths: cellmail_simcom::sim7000::Lengths::Assume(
            cellmail_simcom::sim7000::capabilities().limits,
        ),
        ..Default::default()
    };
    let mut m = Sim7000Mailer::new(client, account, options);
    let email = Email::builder()
        .from("john@sim.com", Some("john"))
        .to("john@sim.com", Some("john"))
        .subject("Test")
        .body("This is a new Email")
        .build()
        .unwrap();
    let stages = Mutex::new(Vec::new());
    let observe = |stage: SendStage| stages.lock().unwrap().push(stage);
    let report = m.send_observed(&email, &observe).await.unwrap();
    assert_eq!(report.module_result, "+SMTPSEND: 1");
    assert_eq!(*stages.lock().unwrap(), [SendStage::Submitting]);
}
