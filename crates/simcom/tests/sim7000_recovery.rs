//! Sim7000Mailer when the module does not give the answer asked for: the
//! `+POP3OUT: <code>` that replaces an answer (§3.2.15-§3.2.21), the
//! `+POP3READ: 3,<n>` URC that shares the read's prefix, errors mid-read,
//! negative answers, `AT+SMTPFT` errors (§3.2.11), a released bearer (§4.1),
//! a reboot mid-session, failed clean-ups, bad options and cancelled calls.
//! Each is followed by a call that works: the client stays usable.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::time::Duration;

use cellmail::{
    Attachment, Auth, Email, MailError, MailSender, Mailbox, Pop3Account, Secret, ServerAddr,
    SmtpAccount, VendorCode,
};
use cellmail_replay::harness::{self, PASSWORD, ReplayClient};
use cellmail_replay::{Faults, ScriptedModem, Transcript};
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

fn mailer(client: ReplayClient) -> Sim7000Mailer<ScriptedModem> {
    Sim7000Mailer::new(client, account(), options())
}

fn play(text: &str) -> Sim7000Mailer<ScriptedModem> {
    let t = Transcript::parse(text).unwrap();
    mailer(harness::client(&t, decoder_config(), Faults::new()).unwrap())
}

fn golden(file: &str) -> Sim7000Mailer<ScriptedModem> {
    mailer(harness::golden("sim7000", file, decoder_config()).unwrap())
}

fn mail() -> Email {
    Email::builder()
        .from("john@sim.com", Some("john"))
        .to("john@sim.com", Some("john"))
        .subject("Test")
        .body("This is a new Email")
        .build()
        .unwrap()
}

fn mail_with_test_txt() -> Email {
    Email::builder()
        .from("john@sim.com", Some("john"))
        .to("john@sim.com", Some("john"))
        .subject("Test")
        .body("This is a new Email")
        .attach(Attachment::from_bytes(
            "test.txt",
            harness::data("sim7000", "test.txt").unwrap(),
        ))
        .build()
        .unwrap()
}

/// §5.5: the settings and the login.
const LOGIN: &str = "> AT+EMAILCID=1\n< OK\n> AT+EMAILTO=30\n< OK\n\
    > AT+POP3SRV=\"mail.sim.com\",\"john\",\"${password}\",110\n< OK\n\
    > AT+POP3IN\n< OK\n< +POP3IN: 1\n";

/// A new login and AT+POP3NUM: what the call after a closed session sends.
const RELOGIN_STAT: &str =
    "> AT+POP3IN\n< OK\n< +POP3IN: 1\n> AT+POP3NUM\n< OK\n< +POP3NUM: 1,2,9671\n";

/// AT+POP3NUM in the same session.
const STAT: &str = "> AT+POP3NUM\n< OK\n< +POP3NUM: 1,2,9671\n";

fn assert_code(err: &MailError, code: i64) {
    assert_eq!(
        err.vendor_code(),
        Some(&VendorCode::Number(code)),
        "{err:?}"
    );
}

// ---- +POP3OUT instead of the answer (item: an error may replace the expected answer) ----

#[tokio::test(start_paused = true)]
async fn answers_that_are_not_the_one_asked_for() {
    let mut m = golden("mailer-pop3-errors.at");
    // The +POP3READ: 3,19 URC before the answer is not taken for it.
    let list = m.list().await.unwrap();
    assert_eq!(
        list.iter().map(|i| (i.id, i.size)).collect::<Vec<_>>(),
        [(1, 4103), (2, 5568)]
    );
    // ERROR mid-read: the mailer logs out (AT+POP3OUT, the only command taken).
    let err = m.uids().await.unwrap_err();
    assert!(
        matches!(err, MailError::Modem(cellmail_at::AtError::Error { .. })),
        "{err:?}"
    );
    // +POP3OUT: 69 instead of the read's answer: "Read data timeout".
    let err = m.retrieve(1).await.unwrap_err();
    assert!(matches!(err, MailError::Timeout { .. }), "{err:?}");
    assert_code(&err, 69);
    // The session is over: stat logs in again.
    assert_eq!(m.stat().await.unwrap().count, 2);
    m.close().await.unwrap();
    harness::finish(m.into_client()).unwrap();
}

/// `+POP3OUT: <code>` instead of the answer of each command whose section
/// lists it, then a call that logs in again (the session was closed).
async fn pop3out_instead_of(exchange: &str, code: i64) -> MailError {
    let text = format!("{LOGIN}{exchange}< +POP3OUT: {code}\n{RELOGIN_STAT}");
    let mut m = play(&text);
    let err = match exchange.lines().next().unwrap() {
        "> AT+POP3NUM" => m.stat().await.map(|_| ()),
        "> AT+POP3LIST=1" => m.message_size(1).await.map(|_| ()),
        "> AT+POP3UIDL=1" => m.message_uid(1).await.map(|_| ()),
        "> AT+POP3CMD=1" => m.list().await.map(|_| ()),
        "> AT+POP3DEL=1" => m.delete(1).await,
        "> AT+POP3RSET" => m.reset().await,
        other => panic!("no call sends {other}"),
    }
    .unwrap_err();
    assert_code(&err, code);
    assert_eq!(m.stat().await.unwrap().total_size, 9671);
    harness::finish(m.into_client()).unwrap();
    err
}

#[tokio::test(start_paused = true)]
async fn pop3out_instead_of_pop3num() {
    let err = pop3out_instead_of("> AT+POP3NUM\n< OK\n", 61).await;
    assert!(matches!(err, MailError::Network { .. }), "{err:?}");
}

#[tokio::test(start_paused = true)]
async fn pop3out_instead_of_pop3list() {
    let err = pop3out_instead_of("> AT+POP3LIST=1\n< OK\n", 62).await;
    assert!(matches!(err, MailError::Dns { .. }), "{err:?}");
}

#[tokio::test(start_paused = true)]
async fn pop3out_instead_of_pop3uidl() {
    let err = pop3out_instead_of("> AT+POP3UIDL=1\n< OK\n", 63).await;
    assert!(matches!(err, MailError::Network { .. }), "{err:?}");
}

#[tokio::test(start_paused = true)]
async fn pop3out_instead_of_pop3cmd() {
    let err = pop3out_instead_of("> AT+POP3CMD=1\n< OK\n", 64).await;
    assert!(matches!(err, MailError::Timeout { .. }), "{err:?}");
}

#[tokio::test(start_paused = true)]
async fn pop3out_instead_of_pop3del() {
    let err = pop3out_instead_of("> AT+POP3DEL=1\n< OK\n", 61).await;
    assert!(matches!(err, MailError::Network { .. }), "{err:?}");
}

#[tokio::test(start_paused = true)]
async fn pop3out_instead_of_pop3rset() {
    let err = pop3out_instead_of("> AT+POP3RSET\n< OK\n", 63).await;
    assert!(matches!(err, MailError::Network { .. }), "{err:?}");
}

/// `+POP3OUT: <code>` instead of the AT+POP3READ answer (§3.2.19 lists 1,
/// 61-64, 69), through retrieve, then a call that logs in again.
async fn pop3out_code(code: i64) -> MailError {
    let exchange = "> AT+POP3CMD=4,1\n< OK\n< +POP3CMD: 1\n> AT+POP3READ=1460\n";
    let text = format!("{LOGIN}{exchange}< +POP3OUT: {code}\n{RELOGIN_STAT}");
    let mut m = play(&text);
    let err = m.retrieve(1).await.unwrap_err();
    assert_code(&err, code);
    assert_eq!(m.stat().await.unwrap().count, 2);
    harness::finish(m.into_client()).unwrap();
    err
}

macro_rules! pop3out_codes {
    ($($name:ident: $code:literal => $p:pat,)*) => {$(
        #[tokio::test(start_paused = true)]
        async fn $name() {
            let err = pop3out_code($code).await;
            assert!(matches!(err, $p), "{} -> {err:?}", $code);
        }
    )*};
}

pop3out_codes! {
    pop3out_1_logged_out: 1 => MailError::Network { .. },
    pop3out_61_network: 61 => MailError::Network { .. },
    pop3out_62_dns: 62 => MailError::Dns { .. },
    pop3out_63_connect: 63 => MailError::Network { .. },
    pop3out_64_timeout: 64 => MailError::Timeout { .. },
    pop3out_69_read_timeout: 69 => MailError::Timeout { .. },
}

// ---- negative answers keep the module's line; the session goes on ----

async fn negative(exchange: &str, line: &str) -> MailError {
    let text = format!("{LOGIN}{exchange}< {line}\n{STAT}");
    let mut m = play(&text);
    let err = match exchange.lines().next().unwrap() {
        "> AT+POP3NUM" => m.stat().await.map(|_| ()),
        "> AT+POP3LIST=1" => m.message_size(1).await.map(|_| ()),
        "> AT+POP3UIDL=1" => m.message_uid(1).await.map(|_| ()),
        "> AT+POP3CMD=1" => m.list().await.map(|_| ()),
        "> AT+POP3DEL=1" => m.delete(1).await,
        _ => m.reset().await,
    }
    .unwrap_err();
    assert!(
        matches!(err, MailError::Rejected { vendor: Some(VendorCode::Text(ref l)), .. } if l == line),
        "{err:?}"
    );
    // No new login: the session is still open.
    assert_eq!(m.stat().await.unwrap().count, 2);
    harness::finish(m.into_client()).unwrap();
    err
}

#[tokio::test(start_paused = true)]
async fn negative_pop3num() {
    negative("> AT+POP3NUM\n< OK\n", "+POP3NUM: 0").await;
}

#[tokio::test(start_paused = true)]
async fn negative_pop3list() {
    negative("> AT+POP3LIST=1\n< OK\n", "+POP3LIST: 0").await;
}

#[tokio::test(start_paused = true)]
async fn negative_pop3uidl() {
    negative("> AT+POP3UIDL=1\n< OK\n", "+POP3UIDL: 0").await;
}

#[tokio::test(start_paused = true)]
async fn negative_pop3cmd() {
    negative("> AT+POP3CMD=1\n< OK\n", "+POP3CMD: 0").await;
}

#[tokio::test(start_paused = true)]
async fn negative_pop3del() {
    negative("> AT+POP3DEL=1\n< OK\n", "+POP3DEL: 0").await;
}

#[tokio::test(start_paused = true)]
async fn negative_pop3rset_is_spelt_pop3rest() {
    negative("> AT+POP3RSET\n< OK\n", "+POP3REST: 0").await;
}

#[tokio::test(start_paused = true)]
async fn one_message_size_and_uid() {
    let text = format!(
        "{LOGIN}> AT+POP3LIST=1\n< OK\n< +POP3LIST: 1,1,16601\n\
         > AT+POP3UIDL=1\n< OK\n< +POP3UIDL: 1,1,AAAFOpdCAAAv60+tksFqRqk3/6ogog+g\n"
    );
    let mut m = play(&text);
    assert_eq!(m.message_size(1).await.unwrap(), 16601);
    assert_eq!(
        m.message_uid(1).await.unwrap(),
        "AAAFOpdCAAAv60+tksFqRqk3/6ogog+g"
    );
    harness::finish(m.into_client()).unwrap();
}

// ---- AT+SMTPFT errors (§3.2.11) ----

#[tokio::test(start_paused = true)]
async fn smtpsend_code_instead_of_the_smtpft_grant() {
    let mut m = golden("mailer-smtpft-error.at");
    let err = m.send(&mail_with_test_txt()).await.unwrap_err();
    assert!(matches!(err, MailError::Timeout { .. }), "{err:?}");
    assert_code(&err, 64);
    let report = m.send(&mail()).await.unwrap();
    assert_eq!(report.module_result, "+SMTPSEND: 1");
    harness::finish(m.into_client()).unwrap();
}

/// mailer-smtpft-error.at with the module answering `answer` to AT+SMTPFT=100.
fn smtpft_variant(answer: &str) -> String {
    let t =
        std::fs::read_to_string(harness::folder("sim7000").join("mailer-smtpft-error.at")).unwrap();
    t.replace("< +SMTPSEND: 64\n# The next mail.\n> AT\n< OK\n", answer)
}

#[tokio::test(start_paused = true)]
async fn error_instead_of_the_smtpft_grant() {
    // §3.2.10: the +SMTPSEND result still comes ("successfully or not"), here
    // late, during the next mail: it is not taken for the next mail's.
    let text = smtpft_variant("< ERROR\n").replacen(
        "> AT+SMTPRCPT=0\n< OK\n> AT+SMTPRCPT=0,0",
        "> AT+SMTPRCPT=0\n< +SMTPSEND: 61\n< OK\n> AT+SMTPRCPT=0,0",
        1,
    );
    let mut m = play(&text);
    let err = m.send(&mail_with_test_txt()).await.unwrap_err();
    assert!(
        matches!(err, MailError::Modem(cellmail_at::AtError::Error { ref command }) if command == "AT+SMTPFT=100"),
        "{err:?}"
    );
    let report = m.send(&mail()).await.unwrap();
    assert_eq!(report.module_result, "+SMTPSEND: 1");
    harness::finish(m.into_client()).unwrap();
}

#[tokio::test(start_paused = true)]
async fn error_after_the_smtpft_data_then_the_code() {
    // §3.2.11 "send data unsuccessfully": +SMTPFT: 2,<n>, the data, ERROR; the
    // +SMTPSEND that follows is the result.
    let text =
        smtpft_variant("< +SMTPFT: 2,100\n>file 100 data/test.txt\n< ERROR\n< +SMTPSEND: 61\n");
    let t = Transcript::parse(&text)
        .unwrap()
        .with_base(harness::folder("sim7000"));
    let mut m = mailer(harness::client(&t, decoder_config(), Faults::new()).unwrap());
    let err = m.send(&mail_with_test_txt()).await.unwrap_err();
    assert!(matches!(err, MailError::Network { .. }), "{err:?}");
    assert_code(&err, 61);
    m.send(&mail()).await.unwrap();
    harness::finish(m.into_client()).unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_failing_source_never_enters_data_mode() {
    // The attachment shrinks after the mail was built: the mailer finds out
    // while reading the chunk, before AT+SMTPFT=<n>, so the module is never
    // left waiting for bytes. Its late +SMTPSEND is not the next mail's.
    let dir = std::env::temp_dir().join(format!("cellmail-shrink-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("log.bin");
    std::fs::write(&path, vec![0xA5u8; 3000]).unwrap();
    let email = Email::builder()
        .from("john@sim.com", Some("john"))
        .to("john@sim.com", Some("john"))
        .subject("Test")
        .body("This is a new Email")
        .attach(Attachment::from_file(&path).unwrap())
        .build()
        .unwrap();
    std::fs::write(&path, vec![0xA5u8; 1000]).unwrap();
    let t =
        std::fs::read_to_string(harness::folder("sim7000").join("mailer-smtpft-error.at")).unwrap();
    let (first, next) = t.split_once("# The next mail.\n").unwrap();
    let first = first
        .replace(
            "> AT+SMTPFILE=1,\"test.txt\",0",
            "> AT+SMTPFILE=2,\"log.bin\",1",
        )
        .replace("> AT+SMTPFT=100\n< +SMTPSEND: 64\n", "");
    let next = next.replace("> AT\n< OK\n", "").replacen(
        "> AT+SMTPRCPT=0\n< OK\n",
        "> AT+SMTPRCPT=0\n< +SMTPSEND: 64\n< OK\n",
        1,
    );
    let mut m = play(&(first + &next));
    let err = m.send(&email).await.unwrap_err();
    assert!(
        matches!(err, MailError::Io(ref e) if e.kind() == std::io::ErrorKind::UnexpectedEof),
        "{err:?}"
    );
    let report = m.send(&mail()).await.unwrap();
    assert_eq!(report.module_result, "+SMTPSEND: 1");
    harness::finish(m.into_client()).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

// ---- the bearer, a reboot, clean-ups, options ----

#[tokio::test(start_paused = true)]
async fn a_released_bearer_is_opened_again() {
    let t = Transcript::load(harness::folder("sim7000").join("mailer-bearer.at")).unwrap();
    let mut m = Sim7000Mailer::new(
        harness::client(&t, decoder_config(), Faults::new()).unwrap(),
        account(),
        Sim7000Options {
            bearer: Some(cellmail::Bearer::new("CMNET")),
            ..options()
        },
    );
    m.send(&mail()).await.unwrap();
    let report = m.send(&mail()).await.unwrap();
    assert_eq!(report.commands, 8, "the bearer (3) and the mail (5)");
    harness::finish(m.into_client()).unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_refused_bearer_open_is_decided_by_the_query() {
    let t =
        Transcript::load(harness::folder("sim7000").join("mailer-bearer-open-already.at")).unwrap();
    let mut m = Sim7000Mailer::new(
        harness::client(&t, decoder_config(), Faults::new()).unwrap(),
        account(),
        Sim7000Options {
            bearer: Some(cellmail::Bearer::new("CMNET")),
            ..options()
        },
    );
    let report = m.send(&mail()).await.unwrap();
    assert_eq!(report.module_result, "+SMTPSEND: 1");
    harness::finish(m.into_client()).unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_reboot_during_a_pop3_session_logs_in_again() {
    let text = format!("{LOGIN}{STAT}< RDY\n< +CPIN: READY\n{LOGIN}{STAT}");
    let mut m = play(&text);
    m.stat().await.unwrap();
    // RDY: the settings are gone with the session; everything is sent again.
    m.stat().await.unwrap();
    harness::finish(m.into_client()).unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_failed_recipient_delete_is_tried_again() {
    let t =
        std::fs::read_to_string(harness::folder("sim7000").join("mailer-two-mails.at")).unwrap();
    let first = &t[..t.find("# The second mail.").unwrap()];
    let (setup, rest) = first.split_once("> AT+SMTPRCPT=1\n< OK\n").unwrap();
    // The Cc delete fails: To is clean, Cc and Bcc are not.
    let text = format!(
        "{setup}> AT+SMTPRCPT=1\n< ERROR\n> AT+SMTPRCPT=1\n< OK\n{}",
        rest
    );
    let mut m = play(&text);
    let err = m.send(&mail()).await.unwrap_err();
    assert!(
        matches!(err, MailError::Modem(cellmail_at::AtError::Error { ref command }) if command == "AT+SMTPRCPT=1"),
        "{err:?}"
    );
    // Only Cc and Bcc are deleted again, then the mail goes.
    m.send(&mail()).await.unwrap();
    harness::finish(m.into_client()).unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_server_timeout_out_of_range_writes_nothing() {
    for secs in [0u64, 9, 121, 255] {
        let t = Transcript::parse("").unwrap();
        let mut m = Sim7000Mailer::new(
            harness::client(&t, decoder_config(), Faults::new()).unwrap(),
            account(),
            Sim7000Options {
                server_timeout: std::time::Duration::from_secs(secs),
                ..options()
            },
        );
        for err in [
            m.send(&mail()).await.unwrap_err(),
            m.stat().await.unwrap_err(),
        ] {
            assert!(
                matches!(err, MailError::Invalid { ref field, ref reason, .. }
                    if field == "server_timeout" && reason.contains("10 to 120")),
                "{secs}: {err:?}"
            );
        }
        assert_eq!(m.client().stats().bytes_written, 0);
        harness::finish(m.into_client()).unwrap();
    }
}

// ---- cancelled calls ----

#[tokio::test(start_paused = true)]
async fn a_retrieve_dropped_mid_read_ends_the_session_first() {
    // The module has nothing yet (+POP3READ: 1,0) and the caller gives up while
    // the mailer waits for +POP3READ: 3,<n>: the next call logs out first
    // (§3.2.19: only AT+POP3OUT is taken while data is unread).
    let text = format!(
        "{LOGIN}> AT+POP3CMD=4,1\n< OK\n< +POP3CMD: 1\n> AT+POP3READ=1460\n< +POP3READ: 1,0\n< OK\n\
         > AT+POP3OUT\n< OK\n< +POP3OUT: 1\n{RELOGIN_STAT}"
    );
    let mut m = play(&text);
    let r = tokio::time::timeout(Duration::from_secs(5), m.retrieve(1)).await;
    assert!(r.is_err(), "the call was cut short");
    assert_eq!(m.stat().await.unwrap().count, 2);
    harness::finish(m.into_client()).unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_send_dropped_before_its_result_does_not_lend_it_to_the_next() {
    let t =
        std::fs::read_to_string(harness::folder("sim7000").join("mailer-smtpft-error.at")).unwrap();
    let (_, next) = t.split_once("# The next mail.\n> AT\n< OK\n").unwrap();
    let first =
        std::fs::read_to_string(harness::folder("sim7000").join("mailer-two-mails.at")).unwrap();
    let first = &first[..first.find("# The second mail.").unwrap()];
    // The first mail's result is late: it comes during the next mail.
    let first = first.replace("~ 3s\n< +SMTPSEND: 1\n", "");
    let next = next
        .replacen("< OK\n", "< +SMTPSEND: 64\n< OK\n", 1)
        .replace("> AT+SMTPFILE=0\n< OK\n", "");
    let mut m = play(&(first + &next));
    let r = tokio::time::timeout(Duration::from_secs(30), m.send(&mail())).await;
    assert!(r.is_err(), "the call was cut short");
    let report = m.send(&mail()).await.unwrap();
    assert_eq!(report.module_result, "+SMTPSEND: 1");
    harness::finish(m.into_client()).unwrap();
}

// ---- fault injection on the attachment chunks and the POP3 raw blocks ----

#[tokio::test(start_paused = true)]
async fn urcs_and_split_reads_around_smtpft_chunks() {
    let path = harness::folder("sim7000").join("mailer-two-mails.at");
    let text = std::fs::read_to_string(&path).unwrap();
    let t = Transcript::load(&path).unwrap();
    let second_starts = text
        .lines()
        .position(|l| l.starts_with("# The second"))
        .unwrap();
    let lines = text.lines().count();
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
    for line in second_starts + 1..=lines {
        for urc in ["+CPIN: READY", "SMS Ready", "+POP3READ: 3,1460"] {
            let faults = Faults::new()
                .insert_before(line, urc)
                .split_random(line as u64, 7);
            let mut m = mailer(harness::client(&t, decoder_config(), faults).unwrap());
            m.send(&mail()).await.unwrap();
            let r = m.send(&second).await;
            assert!(r.is_ok(), "{urc} before line {line}: {r:?}");
            harness::finish(m.into_client()).unwrap();
        }
    }
}

#[tokio::test(start_paused = true)]
async fn urcs_and_split_reads_around_pop3_raw_blocks() {
    let path = harness::folder("sim7000").join("mailer-mailbox.at");
    let text = std::fs::read_to_string(&path).unwrap();
    let t = Transcript::load(&path).unwrap();
    let mut runs = 0;
    for (i, l) in text.lines().enumerate() {
        let line = i + 1;
        // A URC never falls inside a counted block.
        if l.starts_with("<raw") {
            continue;
        }
        for urc in ["+CPIN: READY", "+POP3READ: 3,1460", "SMS Ready"] {
            runs += 1;
            let faults = Faults::new()
                .insert_before(line, urc)
                .split_random(line as u64, 13);
            let mut m = mailer(harness::client(&t, decoder_config(), faults).unwrap());
            let r = mailbox_round(&mut m).await;
            assert!(r.is_ok(), "{urc} before line {line}: {r:?}");
            harness::finish(m.into_client()).unwrap();
        }
    }
    assert!(runs > 150, "{runs} runs");
}

/// The calls of mailer-mailbox.at.
async fn mailbox_round(m: &mut Sim7000Mailer<ScriptedModem>) -> Result<(), MailError> {
    assert_eq!(m.stat().await?.count, 2);
    assert_eq!(m.list().await?.len(), 2);
    assert_eq!(m.uids().await?.len(), 2);
    m.headers(1).await?;
    let msg = m.retrieve(1).await?;
    assert!(
        msg.raw()
            .ends_with(b"xxxxxxxxxxx\r\n.a dot-stuffed line\r\n")
    );
    m.delete(1).await?;
    m.reset().await?;
    m.delete(2).await?;
    m.close().await
}

#[tokio::test(start_paused = true)]
async fn pop3read_more_urcs_while_idle_between_calls() {
    // §3.2.19: "+POP3READ: 3,<dataLength> is reported every once in a while"
    // while data is unread; between calls it is a URC and nothing else.
    let path = harness::folder("sim7000").join("mailer-mailbox.at");
    let text = std::fs::read_to_string(&path).unwrap();
    let t = Transcript::load(&path).unwrap();
    let mut faults = Faults::new();
    for (i, l) in text.lines().enumerate() {
        if l.starts_with("> AT+POP3") {
            faults = faults.insert_before(i + 1, "+POP3READ: 3,1460");
        }
    }
    let mut m = mailer(harness::client(&t, decoder_config(), faults).unwrap());
    mailbox_round(&mut m).await.unwrap();
    harness::finish(m.into_client()).unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_raw_block_without_its_ok_ends_the_session_and_the_next_call_works() {
    // The OK after the listing never comes: the read times out, the mailer
    // resynchronises (AT) and logs out; the next call logs in again.
    let text = format!(
        "{LOGIN}> AT+POP3CMD=1\n< OK\n< +POP3CMD: 1\n> AT+POP3READ=1460\n< +POP3READ: 2,19\n\
         <raw \"1 4103\\r\\n2 5568\\r\\n.\\r\\n\"\n> AT\n< OK\n> AT+POP3OUT\n< OK\n< +POP3OUT: 1\n{RELOGIN_STAT}"
    );
    let mut m = play(&text);
    let err = m.list().await.unwrap_err();
    assert!(
        matches!(err, MailError::Modem(ref e) if e.is_timeout()),
        "{err:?}"
    );
    assert_eq!(m.stat().await.unwrap().count, 2);
    harness::finish(m.into_client()).unwrap();
}

// ---- answers that will never come, unreadable results, bad lengths ----

/// Whether the client still waits for a result with this prefix: with no
/// expectation left, asking for one is a protocol error at once.
async fn still_expected(m: &mut Sim7000Mailer<ScriptedModem>, prefix: &str) -> bool {
    match m.client().deferred(prefix, Duration::ZERO).await {
        Err(cellmail_at::AtError::Protocol { .. }) => false,
        Err(e) if e.is_timeout() => true,
        other => panic!("{prefix}: {other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn an_answer_replaced_by_pop3out_is_no_longer_expected() {
    // §3.2.15: +POP3OUT instead of +POP3NUM: the +POP3NUM will never come and
    // must not stay expected (a later line with the prefix would be taken
    // for a result).
    let mut m = play(&format!("{LOGIN}> AT+POP3NUM\n< OK\n< +POP3OUT: 61\n"));
    let err = m.stat().await.unwrap_err();
    assert_code(&err, 61);
    assert!(!still_expected(&mut m, "+POP3NUM:").await);
    harness::finish(m.into_client()).unwrap();
}

#[tokio::test(start_paused = true)]
async fn an_answer_replaced_by_pop3rest_is_no_longer_expected() {
    // §3.2.21: +POP3REST: 0 (so spelt) instead of +POP3RSET.
    let mut m = play(&format!(
        "{LOGIN}> AT+POP3RSET\n< OK\n< +POP3REST: 0\n{STAT}"
    ));
    let err = m.reset().await.unwrap_err();
    assert!(
        matches!(err, MailError::Rejected { vendor: Some(VendorCode::Text(ref l)), .. } if l == "+POP3REST: 0"),
        "{err:?}"
    );
    assert!(!still_expected(&mut m, "+POP3RSET:").await);
    // The session goes on.
    assert_eq!(m.stat().await.unwrap().count, 2);
    harness::finish(m.into_client()).unwrap();
}

fn assert_protocol(err: &MailError, command: &str) {
    assert!(
        matches!(err, MailError::Modem(cellmail_at::AtError::Protocol { command: c, .. }) if c == command),
        "{err:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn unreadable_result_codes_are_protocol_errors_not_code_0() {
    // +SMTPSEND
    let t =
        std::fs::read_to_string(harness::folder("sim7000").join("mailer-two-mails.at")).unwrap();
    let first = &t[..t.find("# The second mail.").unwrap()];
    let mut m = play(&first.replace("< +SMTPSEND: 1", "< +SMTPSEND: sent"));
    let err = m.send(&mail()).await.unwrap_err();
    assert_protocol(&err, "+SMTPSEND:");
    harness::finish(m.into_client()).unwrap();
    // +POP3IN
    let login = LOGIN.replace("< +POP3IN: 1", "< +POP3IN: ?");
    let mut m = play(&login);
    let err = m.stat().await.unwrap_err();
    assert_protocol(&err, "+POP3IN:");
    harness::finish(m.into_client()).unwrap();
    // +POP3OUT instead of an answer: the session is over all the same.
    let mut m = play(&format!(
        "{LOGIN}> AT+POP3NUM\n< OK\n< +POP3OUT: x\n{RELOGIN_STAT}"
    ));
    let err = m.stat().await.unwrap_err();
    assert_protocol(&err, "+POP3OUT:");
    assert_eq!(m.stat().await.unwrap().count, 2);
    harness::finish(m.into_client()).unwrap();
    // +POP3OUT of the logout
    let mut m = play(&format!("{LOGIN}{STAT}> AT+POP3OUT\n< OK\n< +POP3OUT: ?\n"));
    m.stat().await.unwrap();
    let err = m.close().await.unwrap_err();
    assert_protocol(&err, "+POP3OUT:");
    harness::finish(m.into_client()).unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_read_longer_than_asked_for_is_a_protocol_error_at_once() {
    // +POP3READ: 1,70000 after AT+POP3READ=1460 (§3.2.19: <cnfLength> is at
    // most <reqLength>), beyond any sane block: not a raw block to wait 10 s
    // for; the session is ended (data may be unread) and the next call logs
    // in again.
    let text = format!(
        "{LOGIN}> AT+POP3CMD=4,1\n< OK\n< +POP3CMD: 1\n> AT+POP3READ=1460\n< +POP3READ: 1,70000\n< OK\n\
         > AT+POP3OUT\n< OK\n< +POP3OUT: 1\n{RELOGIN_STAT}"
    );
    let mut m = play(&text);
    let started = tokio::time::Instant::now();
    let err = m.retrieve(1).await.unwrap_err();
    assert_protocol(&err, "AT+POP3READ");
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(m.stat().await.unwrap().count, 2);
    harness::finish(m.into_client()).unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_longer_block_really_sent_is_read_as_data_then_rejected() {
    // +POP3READ: 1,5000 and 5000 bytes that hold AT-looking lines: they are
    // the block's, never an end of the command nor URCs; the read is a
    // protocol error and the session is ended.
    let lines = "\\r\\nOK\\r\\n\\r\\nRDY\\r\\n\\r\\n+POP3OUT: 1\\r\\n";
    let block = format!("{lines}{}", "a".repeat(5000 - 28));
    let text = format!(
        "{LOGIN}> AT+POP3CMD=4,1\n< OK\n< +POP3CMD: 1\n> AT+POP3READ=1460\n< +POP3READ: 1,5000\n\
         <raw \"{block}\"\n< OK\n> AT+POP3OUT\n< OK\n< +POP3OUT: 1\n{RELOGIN_STAT}"
    );
    let mut m = play(&text);
    let err = m.retrieve(1).await.unwrap_err();
    assert_protocol(&err, "AT+POP3READ");
    assert!(err.to_string().contains("sent 5000"), "{err}");
    assert!(m.client().take_urcs().is_empty());
    assert_eq!(m.stat().await.unwrap().count, 2);
    harness::finish(m.into_client()).unwrap();
}

#[tokio::test(start_paused = true)]
async fn counts_and_listing_rows_that_do_not_read_are_protocol_errors() {
    // A count beyond u32 is not taken for 0 messages.
    let mut m = play(&format!(
        "{LOGIN}> AT+POP3NUM\n< OK\n< +POP3NUM: 1,4294967296,9671\n"
    ));
    let err = m.stat().await.unwrap_err();
    assert_protocol(&err, "AT+POP3NUM");
    harness::finish(m.into_client()).unwrap();
    // A LIST row or a UIDL row that does not read is not dropped.
    for (cmd, call, data) in [
        ("1", "list", "1 4103\\r\\ntwo 5568\\r\\n.\\r\\n"),
        ("2", "uids", "1 AAAF\\r\\n2\\r\\n.\\r\\n"),
    ] {
        let len = data.replace("\\r\\n", "rn").len();
        let text = format!(
            "{LOGIN}> AT+POP3CMD={cmd}\n< OK\n< +POP3CMD: 1\n> AT+POP3READ=1460\n\
             < +POP3READ: 2,{len}\n<raw \"{data}\"\n< OK\n"
        );
        let mut m = play(&text);
        let err = match call {
            "list" => m.list().await.map(|_| ()),
            _ => m.uids().await.map(|_| ()),
        }
        .unwrap_err();
        assert_protocol(&err, &format!("AT+POP3CMD={cmd}"));
        harness::finish(m.into_client()).unwrap();
    }
}

#[tokio::test(start_paused = true)]
async fn a_missing_attachment_file_writes_nothing() {
    // The file is gone when the mail is sent: it is opened before any byte,
    // so no send session is started that the manual could not stop.
    let dir = std::env::temp_dir().join(format!("cellmail-sim7000-gone-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("log.bin");
    std::fs::write(&path, vec![0xA5u8; 100]).unwrap();
    let email = Email::builder()
        .from("john@sim.com", Some("john"))
        .to("john@sim.com", Some("john"))
        .subject("Test")
        .body("This is a new Email")
        .attach(Attachment::from_file(&path).unwrap())
        .build()
        .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    let mut m = play("");
    let err = m.send(&email).await.unwrap_err();
    assert!(
        matches!(err, MailError::Io(ref e) if e.kind() == std::io::ErrorKind::NotFound),
        "{err:?}"
    );
    assert_eq!(m.client().stats().bytes_written, 0);
    harness::finish(m.into_client()).unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_refused_bearer_keeps_the_cme_code() {
    // AT+SAPBR=1,1 refused with +CME ERROR: 3 and the query says closed.
    let text = "> AT+SAPBR=3,1,\"APN\",\"CMNET\"\n< OK\n> AT+SAPBR=1,1\n< +CME ERROR: 3\n\
                > AT+SAPBR=2,1\n< +SAPBR:1,3,\"0.0.0.0\"\n< OK\n";
    let t = Transcript::parse(text).unwrap();
    let mut m = Sim7000Mailer::new(
        harness::client(&t, decoder_config(), Faults::new()).unwrap(),
        account(),
        Sim7000Options {
            bearer: Some(cellmail::Bearer::new("CMNET")),
            ..options()
        },
    );
    let err = m.send(&mail()).await.unwrap_err();
    assert!(
        matches!(
            err,
            MailError::Network {
                vendor: Some(VendorCode::Number(3)),
                ..
            }
        ),
        "{err:?}"
    );
    harness::finish(m.into_client()).unwrap();
}

#[tokio::test(start_paused = true)]
async fn urcs_stay_queued_for_the_application() {
    // A URC during the first mail and one between the mails: the mailer
    // watches them through its own subscription and leaves both queued.
    let path = harness::folder("sim7000").join("mailer-two-mails.at");
    let text = std::fs::read_to_string(&path).unwrap();
    let second_starts = text
        .lines()
        .position(|l| l.starts_with("# The second"))
        .unwrap()
        + 2;
    let faults = Faults::new()
        .insert_before(7, "Call Ready")
        .insert_before(second_starts, "SMS Ready");
    let t = Transcript::load(&path).unwrap();
    let mut m = mailer(harness::client(&t, decoder_config(), faults).unwrap());
    m.send(&mail()).await.unwrap();
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
    m.send(&second).await.unwrap();
    assert_eq!(m.client().take_urcs(), ["Call Ready", "SMS Ready"]);
    harness::finish(m.into_client()).unwrap();
}

/// The first mail of mailer-smtpft-error.at up to its recipients: what a module
/// that rebooted is configured with again.
fn configuration_after_reboot() -> String {
    let t =
        std::fs::read_to_string(harness::folder("sim7000").join("mailer-smtpft-error.at")).unwrap();
    let start = t.find("> AT+EMAILCID=1\n").unwrap();
    let end = t.find("> AT+SMTPRCPT=0,0").unwrap();
    t[start..end].to_owned()
}

#[tokio::test(start_paused = true)]
async fn a_grant_larger_than_asked_for_is_a_protocol_error_and_writes_nothing() {
    // The module grants 200 bytes of the 100 asked for: the host writes no
    // byte of the attachment (it could not end the data honestly), reports
    // it, and the client refuses to write (200 bytes owed) rather than
    // resynchronise with AT into the attachment. A reboot (RDY) ends it.
    let text = smtpft_variant(&format!(
        "< +SMTPFT: 2,200\n< RDY\n> AT\n< OK\n{}",
        configuration_after_reboot()
    ))
    .replacen(
        "> AT+SMTPRCPT=2\n< OK\n> AT+SMTPRCPT=0\n< OK\n",
        "> AT+SMTPRCPT=2\n< OK\n",
        1,
    );
    let mut m = play(&text);
    let err = m.send(&mail_with_test_txt()).await.unwrap_err();
    assert_protocol(&err, "AT+SMTPFT");
    assert!(err.to_string().contains("more than the 100"), "{err}");
    let report = m.send(&mail()).await.unwrap();
    assert_eq!(report.module_result, "+SMTPSEND: 1");
    harness::finish(m.into_client()).unwrap();
}

#[tokio::test(start_paused = true)]
async fn an_unreadable_grant_is_a_protocol_error_and_writes_nothing() {
    let mut m = play(&smtpft_variant("< +SMTPFT: 2,x\n"));
    let err = m.send(&mail_with_test_txt()).await.unwrap_err();
    assert_protocol(&err, "AT+SMTPFT");
    // The module takes an unknown number of bytes: nothing is written.
    assert!(
        m.client()
            .execute(&cellmail_at::Command::exec("+CSQ"))
            .await
            .is_err()
    );
    assert!(m.client().in_data_mode());
}
