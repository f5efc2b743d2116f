//! Sim7000Mailer: its transcripts replayed byte-exact, one test per result
//! code through the facade, faults, and a 10 MB attachment in bounded memory.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use cellmail::{
    Attachment, Auth, Email, MailError, MailSender, Mailbox, Pop3Account, Secret, ServerAddr,
    SmtpAccount, VendorCode,
};
use cellmail_replay::harness::{self, PASSWORD, ReplayClient};
use cellmail_replay::{Faults, Transcript};
use cellmail_simcom::sim7000::{Sim7000Mailer, Sim7000Options, decoder_config};

fn account() -> SmtpAccount {
    SmtpAccount {
        server: ServerAddr::new("mail.sim.com", 25),
        auth: Auth::Login {
            user: "john".into(),
            password: Secret::new(PASSWORD),
        },
        tls: Default::default(),
    }
}

fn options() -> Sim7000Options {
    Sim7000Options {
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
    }
}

fn mailer(client: ReplayClient) -> Sim7000Mailer<cellmail_replay::ScriptedModem> {
    Sim7000Mailer::new(client, account(), options())
}

fn golden(file: &str) -> Sim7000Mailer<cellmail_replay::ScriptedModem> {
    mailer(harness::golden("sim7000", file, decoder_config()).unwrap())
}

fn first_mail() -> Email {
    Email::builder()
        .from("john@sim.com", Some("john"))
        .to("john@sim.com", Some("john"))
        .subject("Test")
        .body("This is a new Email")
        .build()
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn two_mails_resend_no_settings_and_stream_the_attachment() {
    let mut m = golden("mailer-two-mails.at");
    let report = m.send(&first_mail()).await.unwrap();
    assert_eq!(report.module_result, "+SMTPSEND: 1");
    assert_eq!(report.commands, 14);
    let second = Email::builder()
        .from("john@sim.com", Some("john"))
        .to("ops@sim.com", None)
        .bcc("audit@sim.com", Some("Audit"))
        .subject("Test 2")
        .body("Reading 42\r\n")
        .attach(Attachment::from_bytes(
            "log.bin",
            (0..=255u8).cycle().take(2000).collect::<Vec<u8>>(),
        ))
        .build()
        .unwrap();
    let report = m.send(&second).await.unwrap();
    assert_eq!(report.commands, 10, "no setting sent again");
    harness::finish(m.into_client()).unwrap();
}

#[tokio::test(start_paused = true)]
async fn mailbox_calls() {
    let mut m = golden("mailer-mailbox.at");
    let stat = m.stat().await.unwrap();
    assert_eq!((stat.count, stat.total_size), (2, 9671));
    let list = m.list().await.unwrap();
    assert_eq!(
        list.iter().map(|i| (i.id, i.size)).collect::<Vec<_>>(),
        [(1, 4103), (2, 5568)]
    );
    let uids = m.uids().await.unwrap();
    assert_eq!(uids[0].uid, "AAAFOpdCAAAv60+tksFqRqk3/6ogog+g");
    let head = m.headers(1).await.unwrap();
    assert_eq!(head.subject().as_deref(), Some("Test"));
    assert!(head.text_body().unwrap_or_default().is_empty());
    let msg = m.retrieve(1).await.unwrap();
    assert_eq!(msg.subject().as_deref(), Some("Test"));
    // The server sent "..a dot-stuffed line" and the "." terminator: un-stuffed
    // once, the terminator gone.
    let body = msg.text_body().unwrap();
    assert!(
        body.ends_with("nominal.\r\nxxxxxxxxxxx\r\n.a dot-stuffed line\r\n"),
        "{:?}",
        &body[body.len() - 60..]
    );
    assert!(!body.contains(".."), "stuffing left in the body");
    assert!(
        msg.raw()
            .ends_with(b"\r\nxxxxxxxxxxx\r\n.a dot-stuffed line\r\n")
    );
    assert!(!msg.raw().windows(2).any(|w| w == b".."));
    m.delete(1).await.unwrap();
    m.reset().await.unwrap();
    m.delete(2).await.unwrap();
    m.close().await.unwrap();
    harness::finish(m.into_client()).unwrap();
}

/// The first mail of mailer-two-mails.at with `+SMTPSEND: <code>`.
fn send_with(code: &str) -> String {
    let t =
        std::fs::read_to_string(harness::folder("sim7000").join("mailer-two-mails.at")).unwrap();
    let first = &t[..t.find("# The second mail.").unwrap()];
    first.replace("< +SMTPSEND: 1", &format!("< +SMTPSEND: {code}"))
}

async fn send_error(code: i64) -> MailError {
    let t = Transcript::parse(&send_with(&code.to_string())).unwrap();
    let mut m = mailer(harness::client(&t, decoder_config(), Faults::new()).unwrap());
    let err = m.send(&first_mail()).await.unwrap_err();
    harness::finish(m.into_client()).unwrap();
    assert_eq!(err.vendor_code(), Some(&VendorCode::Number(code)));
    err
}

macro_rules! send_codes {
    ($($name:ident: $code:literal => $p:pat,)*) => {$(
        #[tokio::test(start_paused = true)]
        async fn $name() {
            let err = send_error($code).await;
            assert!(matches!(err, $p), "{} -> {err:?}", $code);
        }
    )*};
}

#[tokio::test(start_paused = true)]
async fn smtpsend_1_sent() {
    let t = Transcript::parse(&send_with("1")).unwrap();
    let mut m = mailer(harness::client(&t, decoder_config(), Faults::new()).unwrap());
    let report = m.send(&first_mail()).await.unwrap();
    assert_eq!(report.module_result, "+SMTPSEND: 1");
    harness::finish(m.into_client()).unwrap();
}

send_codes! {
    smtpsend_61_network: 61 => MailError::Network { .. },
    smtpsend_62_dns: 62 => MailError::Dns { .. },
    smtpsend_63_connect: 63 => MailError::Network { .. },
    smtpsend_64_timeout: 64 => MailError::Timeout { .. },
    smtpsend_65_server: 65 => MailError::Rejected { .. },
    smtpsend_66_not_authenticated: 66 => MailError::Auth { .. },
    smtpsend_67_auth: 67 => MailError::Auth { .. },
    smtpsend_68_bad_recipient: 68 => MailError::BadRecipient { .. },
    // SIM800 SSL note §2.1.
    smtpsend_71_ssl_channel: 71 => MailError::Tls { .. },
    smtpsend_72_ssl_fatal_alert: 72 => MailError::Tls { .. },
}

/// POP3 login with `+POP3IN: <code>`.
async fn login_error(code: i64) -> MailError {
    let text = format!(
        "> AT+EMAILCID=1\n< OK\n> AT+EMAILTO=30\n< OK\n> AT+POP3SRV=\"mail.sim.com\",\"john\",\"${{password}}\",110\n< OK\n\
         > AT+POP3IN\n< OK\n< +POP3IN: {code}\n"
    );
    let t = Transcript::parse(&text).unwrap();
    let mut m = mailer(harness::client(&t, decoder_config(), Faults::new()).unwrap());
    let err = m.stat().await.unwrap_err();
    harness::finish(m.into_client()).unwrap();
    assert_eq!(err.vendor_code(), Some(&VendorCode::Number(code)));
    err
}

macro_rules! login_codes {
    ($($name:ident: $code:literal => $p:pat,)*) => {$(
        #[tokio::test(start_paused = true)]
        async fn $name() {
            let err = login_error($code).await;
            assert!(matches!(err, $p), "{} -> {err:?}", $code);
        }
    )*};
}

login_codes! {
    pop3in_61_network: 61 => MailError::Network { .. },
    pop3in_62_dns: 62 => MailError::Dns { .. },
    pop3in_63_connect: 63 => MailError::Network { .. },
    pop3in_64_timeout: 64 => MailError::Timeout { .. },
    pop3in_65_server: 65 => MailError::Rejected { .. },
    pop3in_66_rejected: 66 => MailError::Auth { .. },
    pop3in_67_user: 67 => MailError::Auth { .. },
    pop3in_68_credentials: 68 => MailError::Auth { .. },
    pop3in_69_read_timeout: 69 => MailError::Timeout { .. },
    // SIM800 SSL note §2.1.
    pop3in_71_ssl_channel: 71 => MailError::Tls { .. },
    pop3in_72_ssl_fatal_alert: 72 => MailError::Tls { .. },
}

#[tokio::test(start_paused = true)]
async fn pop3out_instead_of_a_result_ends_the_session() {
    let text = "> AT+EMAILCID=1\n< OK\n> AT+EMAILTO=30\n< OK\n> AT+POP3SRV=\"mail.sim.com\",\"john\",\"${password}\",110\n< OK\n\
                > AT+POP3IN\n< OK\n< +POP3IN: 1\n> AT+POP3NUM\n< OK\n< +POP3OUT: 64\n";
    let t = Transcript::parse(text).unwrap();
    let mut m = mailer(harness::client(&t, decoder_config(), Faults::new()).unwrap());
    let err = m.stat().await.unwrap_err();
    assert!(
        matches!(
            err,
            MailError::Timeout {
                vendor: Some(VendorCode::Number(64)),
                ..
            }
        ),
        "{err:?}"
    );
    harness::finish(m.into_client()).unwrap();
}

#[tokio::test(start_paused = true)]
async fn urcs_at_every_boundary_and_split_reads() {
    let path = harness::folder("sim7000").join("mailer-two-mails.at");
    let t = Transcript::load(&path).unwrap();
    let first_mail_lines = std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .take_while(|l| !l.starts_with("# The second"))
        .count();
    for line in 1..=first_mail_lines {
        for urc in ["+CPIN: READY", "SMS Ready", "+POP3READ: 3,1460"] {
            let faults = Faults::new()
                .insert_before(line, urc)
                .split_random(line as u64, 9);
            let mut m = mailer(harness::client(&t, decoder_config(), faults).unwrap());
            let r = m.send(&first_mail()).await;
            assert!(r.is_ok(), "{urc} before line {line}: {r:?}");
        }
    }
}

/// `RDY` is a reboot: under any answer of the mail it ends the send at once
/// with `Modem(Rebooted)` (transient), never after a command timeout;
/// before the first command or after the result the mail is sent.
#[tokio::test(start_paused = true)]
async fn a_reboot_at_every_boundary_ends_the_send_at_once_or_changes_nothing() {
    let path = harness::folder("sim7000").join("mailer-two-mails.at");
    let t = Transcript::load(&path).unwrap();
    let first_mail_lines = std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .take_while(|l| !l.starts_with("# The second"))
        .count();
    for line in 1..=first_mail_lines {
        let faults = Faults::new()
            .insert_before(line, "RDY")
            .split_random(line as u64, 9);
        let mut m = mailer(harness::client(&t, decoder_config(), faults).unwrap());
        let started = tokio::time::Instant::now();
        let r = m.send(&first_mail()).await;
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "RDY before line {line}: {r:?} after {:?}",
            started.elapsed()
        );
        if let Err(e) = r {
            assert!(
                matches!(e, MailError::Modem(cellmail_at::AtError::Rebooted { .. })),
                "RDY before line {line}: {e:?}"
            );
            assert!(e.is_transient());
        }
    }
}

#[tokio::test(start_paused = true)]
async fn reboot_mid_send_ends_the_wait_then_everything_is_configured_again() {
    // The module reboots after AT+SMTPSEND's OK: no +SMTPSEND comes, and
    // the wait ends at once with the reboot.
    let t =
        std::fs::read_to_string(harness::folder("sim7000").join("mailer-two-mails.at")).unwrap();
    let first = &t[..t.find("# The second mail.").unwrap()];
    let text = first.replace("~ 3s\n< +SMTPSEND: 1\n", "< RDY\n< +CPIN: READY\n") + first;
    let t = Transcript::parse(&text).unwrap();
    let mut m = mailer(harness::client(&t, decoder_config(), Faults::new()).unwrap());
    let err = m.send(&first_mail()).await.unwrap_err();
    assert!(
        matches!(err, MailError::Modem(cellmail_at::AtError::Rebooted { .. })),
        "{err:?}"
    );
    // RDY was seen: the next mail configures the module from scratch.
    m.send(&first_mail()).await.unwrap();
    harness::finish(m.into_client()).unwrap();
}
