//! Sim5360Mailer: its transcripts replayed byte-exact, every `+SMTP:` and
//! `+POP3:` result through the facade, faults.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use cellmail::{
    Attachment, Auth, Email, MailError, MailSender, Mailbox, Pop3Account, Secret, ServerAddr,
    SmtpAccount, VendorCode,
};
use cellmail_replay::harness::{self, PASSWORD, ReplayClient};
use cellmail_replay::{Faults, ScriptedModem, Transcript};
use cellmail_simcom::sim5360::{Sim5360Mailer, Sim5360Options, decoder_config};

fn mailer(client: ReplayClient) -> Sim5360Mailer<ScriptedModem> {
    let account = SmtpAccount {
        server: ServerAddr::new("smtp.server.com", 25),
        auth: Auth::Login {
            user: "UserName".into(),
            password: Secret::new(PASSWORD),
        },
        tls: Default::default(),
    };
    let options = Sim5360Options {
        apn: Some("3GNET".into()),
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

fn first() -> Email {
    Email::builder()
        .from("UserName@server.com", Some("PresentName"))
        .to("ToAddr@server.com", Some("ToName"))
        .cc("CcAddr@server.com", Some("CcName"))
        .subject("First Email")
        .body("This is the first Email!")
        .attach(Attachment::from_module("C:/Picture/20100202_100006.jpg").unwrap())
        .attach(Attachment::from_module("C:/Picture/20100202_100016.jpg").unwrap())
        .build()
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn two_mails_resend_no_settings() {
    let mut m =
        mailer(harness::golden("sim5360", "mailer-two-mails.at", decoder_config()).unwrap());
    let report = m.send(&first()).await.unwrap();
    assert_eq!(report.module_result, "+SMTP: SUCCESS");
    let second = Email::builder()
        .from("UserName@server.com", Some("PresentName"))
        .to("ToAddr@server.com", None)
        .subject("Second Email")
        .body("No attachment this time.")
        .build()
        .unwrap();
    let report = m.send(&second).await.unwrap();
    assert_eq!(report.commands, 7, "no setting sent again");
    harness::finish(m.into_client()).unwrap();
}

#[tokio::test(start_paused = true)]
async fn mailbox_calls() {
    let mut m = mailer(harness::golden("sim5360", "mailer-mailbox.at", decoder_config()).unwrap());
    assert_eq!(m.stat().await.unwrap().count, 2);
    let list = m.list().await.unwrap();
    assert_eq!(
        list.iter().map(|i| (i.id, i.size)).collect::<Vec<_>>(),
        [(1, 1050), (2, 1084)]
    );
    let head = m.headers(2).await.unwrap();
    assert_eq!(head.subject().as_deref(), Some("Second Test Email"));
    let msg = m.retrieve(1).await.unwrap();
    assert_eq!(msg.subject().as_deref(), Some("First Test Email"));
    assert_eq!(
        msg.text_body().as_deref(),
        Some("This is a test email with an attachment.\r\n")
    );
    m.delete(1).await.unwrap();
    m.close().await.unwrap();
    assert!(matches!(m.uids().await, Err(MailError::Unsupported { .. })));
    harness::finish(m.into_client()).unwrap();
}

/// The first mail of mailer-two-mails.at ending in `+SMTP: <result>`.
async fn smtp_result(result: &str) -> MailError {
    let t =
        std::fs::read_to_string(harness::folder("sim5360").join("mailer-two-mails.at")).unwrap();
    let text = t[..t.find("# The second mail.").unwrap()]
        .replace("< +SMTP: SUCCESS", &format!("< +SMTP: {result}"));
    let t = Transcript::parse(&text).unwrap();
    let mut m = mailer(harness::client(&t, decoder_config(), Faults::new()).unwrap());
    let err = m.send(&first()).await.unwrap_err();
    harness::finish(m.into_client()).unwrap();
    assert_eq!(err.vendor_code(), Some(&VendorCode::Text(result.into())));
    err
}

macro_rules! smtp_results {
    ($($name:ident: $text:literal => $p:pat,)*) => {$(
        #[tokio::test(start_paused = true)]
        async fn $name() {
            let err = smtp_result($text).await;
            assert!(matches!(err, $p), "{} -> {err:?}", $text);
        }
    )*};
}

smtp_results! {
    smtp_ongoing: "ONGOING" => MailError::Busy { .. },
    smtp_param_error: "PARAM ERROR" => MailError::Invalid { .. },
    smtp_network_error: "NETWORK ERROR" => MailError::Network { .. },
    smtp_server_error: "SERVER ERROR" => MailError::Network { .. },
    smtp_auth_required: "AUTH REQUIRED" => MailError::Auth { .. },
    smtp_auth_error: "AUTH ERROR" => MailError::Auth { .. },
    smtp_bad_rcpt: "BAD RCPT ToAddr@server.com" => MailError::BadRecipient { address: Some(_), .. },
}

/// POP3 login answered `+POP3: <result>` then `OK`.
async fn pop3_result(result: &str) -> MailError {
    let text = format!(
        "> AT+CGSOCKCONT=1,\"IP\",\"3GNET\",\"0.0.0.0\",0,0\n< OK\n> AT+POP3SRV=\"pop3.server.com\",\"un\",\"${{password}}\",110\n< OK\n\
         > AT+POP3IN\n< +POP3: {result}\n< OK\n"
    );
    let t = Transcript::parse(&text).unwrap();
    let mut m = mailer(harness::client(&t, decoder_config(), Faults::new()).unwrap());
    let err = m.stat().await.unwrap_err();
    harness::finish(m.into_client()).unwrap();
    assert_eq!(err.vendor_code(), Some(&VendorCode::Text(result.into())));
    err
}

macro_rules! pop3_results {
    ($($name:ident: $text:literal => $p:pat,)*) => {$(
        #[tokio::test(start_paused = true)]
        async fn $name() {
            let err = pop3_result($text).await;
            assert!(matches!(err, $p), "{} -> {err:?}", $text);
        }
    )*};
}

pop3_results! {
    pop3_failure: "FAILURE" => MailError::Rejected { .. },
    pop3_network_error: "NETWORK ERROR" => MailError::Network { .. },
    pop3_server_error: "SERVER ERROR" => MailError::Rejected { .. },
    pop3_invalid_un: "INVALID UN" => MailError::Auth { .. },
    pop3_invalid_un_pwd: "INVALID UN/PWD" => MailError::Auth { .. },
    pop3_file_system_error: "FILE SYSTEM ERROR" => MailError::Rejected { .. },
}

#[tokio::test(start_paused = true)]
async fn urcs_at_every_boundary_and_split_reads() {
    let path = harness::folder("sim5360").join("mailer-two-mails.at");
    let text = std::fs::read_to_string(&path).unwrap();
    let first_lines = text
        .lines()
        .take_while(|l| !l.starts_with("# The second"))
        .count();
    let t = Transcript::load(&path).unwrap();
    for line in 1..=first_lines {
        for urc in ["RDY", "+CPIN: READY", "PB DONE"] {
            // RDY before the first line is a boot; later it would rightly reset the settings.
            if urc == "RDY" && line > 1 {
                continue;
            }
            let faults = Faults::new()
                .insert_before(line, urc)
                .split_random(line as u64, 5);
            let mut m = mailer(harness::client(&t, decoder_config(), faults).unwrap());
            let r = m.send(&first()).await;
            assert!(r.is_ok(), "{urc} before line {line}: {r:?}");
        }
    }
}

#[tokio::test(start_paused = true)]
async fn no_result_stops_the_session_and_the_client_stays_usable() {
    let t =
        std::fs::read_to_string(harness::folder("sim5360").join("mailer-two-mails.at")).unwrap();
    let text = t[..t.find("# The second mail.").unwrap()].replace(
        "~ 5s\n< +SMTP: SUCCESS\n",
        "> AT+SMTPSTOP\n< OK\n> AT+CGMM\n< SIM5360E\n< OK\n",
    );
    let t = Transcript::parse(&text).unwrap();
    let mut m = mailer(harness::client(&t, decoder_config(), Faults::new()).unwrap());
    let err = m.send(&first()).await.unwrap_err();
    assert!(
        matches!(err, MailError::Modem(ref e) if e.is_timeout()),
        "{err:?}"
    );
    let r = m
        .client()
        .execute(&cellmail_at::Command::exec("+CGMM"))
        .await
        .unwrap();
    assert_eq!(r.info, ["SIM5360E"]);
    harness::finish(m.into_client()).unwrap();
}
