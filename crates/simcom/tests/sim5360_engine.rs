//! Sim5360Mailer on the session engine: the prologue's checks before any
//! byte, a missing module file refused as the mail's fault, the point of no
//! return reported once. The exchanges here are written from the note (§2,
//! §3.1) to prove the mailer's intent, not recorded from a module.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::sync::atomic::{AtomicU32, Ordering};

use cellmail::{
    Attachment, Auth, Email, MailError, MailSender, Mailbox, Pop3Account, Secret, SendStage,
    ServerAddr, SmtpAccount,
};
use cellmail_replay::harness::{self, PASSWORD};
use cellmail_replay::{Faults, ScriptedModem, Transcript};
use cellmail_simcom::sim5360::{Sim5360Mailer, Sim5360Options, decoder_config};

fn mailer(text: &str, apn: &str) -> Sim5360Mailer<ScriptedModem> {
    let t = Transcript::parse(text).unwrap();
    let client = harness::client(&t, decoder_config(), Faults::new()).unwrap();
    let account = SmtpAccount {
        server: ServerAddr::new("smtp.server.com", 25),
        auth: Auth::Login {
            user: "UserName".into(),
            password: Secret::new(PASSWORD),
        },
        tls: Default::default(),
    };
    let options = Sim5360Options {
        bearer: Some(cellmail::Bearer::new(apn)),
        pop3: Some(Pop3Account {
            server: ServerAddr::new("pop3.server.com", 110),
            user: "un".into(),
            password: Secret::new(PASSWORD),
            tls: Default::default(),
        }),
        ..Default::default()
    };
    Sim5360Mailer::new(client, account, options)
}

/// The settings and clean-up of a first mail (§3.1), up to its attachment.
const PROLOGUE: &str = "> AT+CGSOCKCONT=1,\"IP\",\"3GNET\",\"0.0.0.0\",0,0\n< OK\n\
    > AT+SMTPSRV=\"smtp.server.com\",25\n< OK\n\
    > AT+SMTPAUTH=1,\"UserName\",\"${password}\"\n< OK\n\
    > AT+SMTPFROM=\"UserName@server.com\"\n< OK\n\
    > AT+SMTPRCPT=0\n< OK\n> AT+SMTPRCPT=1\n< OK\n> AT+SMTPRCPT=2\n< OK\n\
    > AT+SMTPRCPT=0,0,\"ToAddr@server.com\"\n< OK\n\
    > AT+SMTPSUB=\"Photo\"\n< OK\n> AT+SMTPBODY=\"See the photo.\"\n< OK\n\
    > AT+SMTPFILE\n< OK\n> AT+FSCD=C:/Picture\n< OK\n";

fn photo(path: &str) -> Email {
    Email::builder()
        .from("UserName@server.com", None)
        .to("ToAddr@server.com", None)
        .subject("Photo")
        .body("See the photo.")
        .attach(Attachment::from_module(path).unwrap())
        .build()
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn a_module_file_that_is_not_there_is_invalid_and_nothing_is_submitted() {
    let text = format!("{PROLOGUE}> AT+SMTPFILE=1,\"not-there.jpg\"\n< ERROR\n");
    let mut m = mailer(&text, "3GNET");
    let submitted = AtomicU32::new(0);
    let observe = |stage: SendStage| {
        assert_eq!(stage, SendStage::Submitting);
        submitted.fetch_add(1, Ordering::SeqCst);
    };
    let err = m
        .send_observed(&photo("C:/Picture/not-there.jpg"), &observe)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, MailError::Invalid { field, reason, .. }
            if field == "attachment" && reason.contains("C:/Picture/not-there.jpg")),
        "{err:?}"
    );
    assert!(!err.is_transient());
    assert_eq!(
        submitted.load(Ordering::SeqCst),
        0,
        "AT+SMTPSEND never went"
    );
    harness::finish(m.into_client()).unwrap();
}

#[tokio::test(start_paused = true)]
async fn submitting_is_reported_once_just_before_the_send() {
    let text = format!(
        "{PROLOGUE}> AT+SMTPFILE=1,\"a.jpg\"\n< OK\n\
         > AT+SMTPSEND\n< +SMTP: OK\n< OK\n< +SMTP: SUCCESS\n"
    );
    let mut m = mailer(&text, "3GNET");
    let submitted = AtomicU32::new(0);
    let observe = |_: SendStage| {
        submitted.fetch_add(1, Ordering::SeqCst);
    };
    let report = m
        .send_observed(&photo("C:/Picture/a.jpg"), &observe)
        .await
        .unwrap();
    assert_eq!(report.module_result, "+SMTP: SUCCESS");
    assert_eq!(report.commands, 14);
    assert_eq!(submitted.load(Ordering::SeqCst), 1);
    harness::finish(m.into_client()).unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_bad_apn_is_refused_before_any_byte() {
    for apn in ["", "my apn", "a\"b"] {
        let mut m = mailer("", apn);
        let err = m.send(&photo("C:/Picture/a.jpg")).await.unwrap_err();
        assert!(
            matches!(&err, MailError::Invalid { field, .. } if field == "apn"),
            "{apn:?}: {err:?}"
        );
        let err = m.stat().await.unwrap_err();
        assert!(
            matches!(&err, MailError::Invalid { field, .. } if field == "apn"),
            "{err:?}"
        );
        assert_eq!(m.client().stats().bytes_written, 0);
    }
}

#[tokio::test(start_paused = true)]
async fn a_message_id_beyond_the_count_is_refused_before_its_command() {
    let text = "> AT+CGSOCKCONT=1,\"IP\",\"3GNET\",\"0.0.0.0\",0,0\n< OK\n\
        > AT+POP3SRV=\"pop3.server.com\",\"un\",\"${password}\",110\n< OK\n\
        > AT+POP3IN\n< +POP3: SUCCESS\n< OK\n\
        > AT+POP3NUM\n< +POP3: 2 2134\n< OK\n";
    let mut m = mailer(text, "3GNET");
    assert_eq!(m.stat().await.unwrap().count, 2);
    for id in [0, 3] {
        for err in [
            m.headers(id).await.unwrap_err(),
            m.retrieve(id).await.unwrap_err(),
            m.delete(id).await.unwrap_err(),
        ] {
            assert!(
                matches!(&err, MailError::Invalid { field, .. } if field == "message id"),
                "{id}: {err:?}"
            );
        }
    }
    harness::finish(m.into_client()).unwrap();
}
