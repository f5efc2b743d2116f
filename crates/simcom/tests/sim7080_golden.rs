//! The SIM7080 e-mail note's examples (tests/transcripts/sim7080), replayed
//! byte-exact through the typed commands and read by the plan's policy.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use cellmail::{RecipientKind, Secret};
use cellmail_at::{Command, DataEnd};
use cellmail_replay::harness::{self, PASSWORD, ReplayClient, steps::*};
use cellmail_simcom::common;
use cellmail_simcom::sim7000::commands::{self as cmd, prefix};
use cellmail_simcom::sim7000::decoder_config;
use cellmail_simcom::sim7080::{commands as sim7080, plan};

fn replay(file: &str) -> ReplayClient {
    harness::golden("sim7080", file, decoder_config()).unwrap()
}

#[tokio::test(start_paused = true)]
async fn send_with_startssl() {
    let mut c = replay("send-startssl.at");
    exec(&mut c, cmd::set_cid(0)).await;
    exec(&mut c, cmd::set_timeout(30)).await;
    exec(
        &mut c,
        sim7080::set_email_ssl(sim7080::SslType::StartTls, 0, "email.cer", "email.pem"),
    )
    .await;
    // The note omits the port (default 25); the mailer always gives one.
    exec(
        &mut c,
        Command::write("+SMTPSRV").string("server", "SMTP.GMAIL.COM"),
    )
    .await;
    exec(
        &mut c,
        common::set_smtp_auth(Some(("account", &Secret::new(PASSWORD)))),
    )
    .await;
    exec(
        &mut c,
        common::set_sender("account@GMAIL.COM", Some("account")),
    )
    .await;
    exec(&mut c, common::set_subject("Test", false)).await;
    exec(
        &mut c,
        common::add_recipient(RecipientKind::To, 0, "john@sim.com", Some("john")),
    )
    .await;
    upload(
        &mut c,
        cmd::body(19),
        b"This is a new Email",
        DataEnd::Length,
    )
    .await;
    exec(&mut c, cmd::send()).await;
    assert_eq!(deferred(&mut c, prefix::SMTPSEND).await, "+SMTPSEND: 1");
    harness::finish(c).unwrap();
}

#[tokio::test(start_paused = true)]
async fn bearer_by_pdn_auto_activation() {
    let mut c = replay("bearer.at");
    let [config, activate, query] = plan::bearer(0, "ctnb");
    exec(&mut c, config.command).await;
    exec(&mut c, activate.command).await;
    let r = c.execute(&query.command).await.unwrap();
    plan::bearer_outcome(0, None, &r).unwrap();
    // Context 1 is listed, not active: not up.
    assert!(plan::bearer_outcome(1, None, &r).is_err());
    exec(&mut c, cmd::set_cid(0)).await;
    // The activation's URC was the module's: queued for the application.
    assert!(c.take_urcs().iter().any(|u| u == "+APP PDP: 0,ACTIVE"));
    harness::finish(c).unwrap();
}
