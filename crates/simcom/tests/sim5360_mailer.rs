//! Sim5360Mailer: its transcripts replayed byte-exact, every `+SMTP:` and
//! `+POP3:` result through the facade, faults.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use cellmail::{
    Attachment, Auth, Email, Fidelity, Lost, MailError, MailSender, Mailbox, ModuleFile,
    Pop3Account, Secret, ServerAddr, SmtpAccount, VendorCode,
};
use cellmail_replay::harness::{self, PASSWORD, ReplayClient};
use std::time::Duration;

use cellmail_replay::{Faults, ScriptedModem, Transcript};
use cellmail_simcom::sim5360::{
    MailStorage, SavedMail, Sim5360Mailer, Sim5360Options, decoder_config,
};

fn mailer(client: ReplayClient) -> Sim5360Mailer<ScriptedModem> {
    mailer_with(client, Sim5360Options::default())
}

/// A mailer with the note's account, bearer and POP3 server over `options`.
fn mailer_with(client: ReplayClient, options: Sim5360Options) -> Sim5360Mailer<ScriptedModem> {
    let account = SmtpAccount {
        server: ServerAddr::new("smtp.server.com", 25),
        auth: Auth::Login {
            user: "UserName".into(),
            password: Secret::new(PASSWORD),
        },
        tls: Default::default(),
    };
    let options = Sim5360Options {
        bearer: Some(cellmail::Bearer::new("3GNET")),
        pop3: Some(Pop3Account {
            server: ServerAddr::new("pop3.server.com", 110),
            user: "un".into(),
            password: Secret::new(PASSWORD),
            tls: Default::default(),
        }),
        ..options
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

#[tokio::test(start_paused = true)]
async fn smtp_ok_then_success() {
    // "+SMTP: OK": the session started, not the result; "+SMTP: SUCCESS" is.
    let (first, _) = two_mails();
    let mut m = play(&first);
    let report = m.send(&self::first()).await.unwrap();
    assert_eq!(report.module_result, "+SMTP: SUCCESS");
    harness::finish(m.into_client()).unwrap();
}

smtp_results! {
    smtp_bad_rcpt_unnamed: "BAD RCPT" => MailError::BadRecipient { address: None, .. },
    smtp_ongoing: "ONGOING" => MailError::Busy { .. },
    smtp_param_error: "PARAM ERROR" => MailError::Invalid { .. },
    smtp_network_error: "NETWORK ERROR" => MailError::Network { .. },
    smtp_server_error: "SERVER ERROR" => MailError::Network { .. },
    // Logged in (AT+SMTPAUTH=1): the manual's other reading of AUTH REQUIRED,
    // the server released the session or did not answer in time (§1).
    smtp_auth_required_after_login: "AUTH REQUIRED" => MailError::Network { .. },
    smtp_auth_error: "AUTH ERROR" => MailError::Auth { .. },
    smtp_bad_rcpt: "BAD RCPT ToAddr@server.com" => MailError::BadRecipient { address: Some(_), .. },
}

#[tokio::test(start_paused = true)]
async fn smtp_auth_required_without_login_is_auth() {
    // §2 AT+SMTPAUTH: "If SMTP server requests authentication but SMTP client
    // does not provide, Email will be sent with a failed result": with
    // AT+SMTPAUTH=0, AUTH REQUIRED means authentication is required.
    let (first, _) = two_mails();
    let text = first
        .replace(
            "> AT+SMTPAUTH=1,\"UserName\",\"${password}\"",
            "> AT+SMTPAUTH=0",
        )
        .replace("< +SMTP: SUCCESS", "< +SMTP: AUTH REQUIRED");
    let t = Transcript::parse(&text).unwrap();
    let account = SmtpAccount {
        server: ServerAddr::new("smtp.server.com", 25),
        auth: Auth::None,
        tls: Default::default(),
    };
    let options = Sim5360Options {
        bearer: Some(cellmail::Bearer::new("3GNET")),
        ..Default::default()
    };
    let client = harness::client(&t, decoder_config(), Faults::new()).unwrap();
    let mut m = Sim5360Mailer::new(client, account, options);
    let err = m.send(&self::first()).await.unwrap_err();
    assert!(
        matches!(err, MailError::Auth { vendor: Some(VendorCode::Text(ref t)) } if t == "AUTH REQUIRED"),
        "{err:?}"
    );
    assert!(!err.is_transient());
    harness::finish(m.into_client()).unwrap();
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
    pop3_network_error: "NETWORK ERROR" => MailError::Network { .. },
    // §1: released, wrong response, no response in time (or a wrong id):
    // transient, like the SMTP SERVER ERROR.
    pop3_server_error: "SERVER ERROR" => MailError::Network { .. },
    pop3_invalid_un: "INVALID UN" => MailError::Auth { .. },
    pop3_invalid_un_pwd: "INVALID UN/PWD" => MailError::Auth { .. },
}

/// §4.1: the parameters and the login.
const LOGIN: &str = "> AT+CGSOCKCONT=1,\"IP\",\"3GNET\",\"0.0.0.0\",0,0\n< OK\n\
    > AT+POP3SRV=\"pop3.server.com\",\"un\",\"${password}\",110\n< OK\n\
    > AT+POP3IN\n< +POP3: SUCCESS\n< OK\n";

/// A new login (the parameters are kept) and AT+POP3NUM.
const RELOGIN_STAT: &str =
    "> AT+POP3IN\n< +POP3: SUCCESS\n< OK\n> AT+POP3NUM\n< +POP3: 2 2134\n< OK\n";

/// AT+POP3NUM in the same session.
const STAT: &str = "> AT+POP3NUM\n< +POP3: 2 2134\n< OK\n";

/// §4.4: AT+FSLOCA=0 and AT+POP3GET=1, answered OK.
const GET: &str = "> AT+FSLOCA=0\n< OK\n> AT+POP3GET=1\n< OK\n";

/// The saved folder listed (§4.7's commands): only the mail's text file.
const LISTED: &str = "> AT+FSCD=C:/Email/100202110457\n< +FSCD: C:/Email/100202110457/\n< OK\n\
    > AT+FSLS\n< +FSLS: FILES:\n< EMAIL000.TXT\n< OK\n";

fn play(text: &str) -> Sim5360Mailer<ScriptedModem> {
    let t = Transcript::parse(text).unwrap();
    mailer(harness::client(&t, decoder_config(), Faults::new()).unwrap())
}

#[tokio::test(start_paused = true)]
async fn pop3_success() {
    let mut m = play(&format!("{LOGIN}{STAT}"));
    assert_eq!(m.stat().await.unwrap().total_size, 2134);
    harness::finish(m.into_client()).unwrap();
}

#[tokio::test(start_paused = true)]
async fn pop3_failure_of_pop3get_keeps_the_session() {
    // §1: "POP3 client gets an e-mail unsuccessfully".
    let mut m = play(&format!("{LOGIN}{GET}< +POP3: FAILURE\n{STAT}"));
    let err = m.retrieve(1).await.unwrap_err();
    assert!(
        matches!(err, MailError::Rejected { vendor: Some(VendorCode::Text(ref t)), .. } if t == "FAILURE"),
        "{err:?}"
    );
    // Same session: no new login.
    assert_eq!(m.stat().await.unwrap().count, 2);
    harness::finish(m.into_client()).unwrap();
}

#[tokio::test(start_paused = true)]
async fn pop3_file_system_error_of_pop3get_closes_the_session() {
    // §1: "If POP3 client encounters this error, POPE client will close the
    // session with POP3 server."
    let mut m = play(&format!(
        "{LOGIN}{GET}< +POP3: FILE SYSTEM ERROR\n{RELOGIN_STAT}"
    ));
    let err = m.retrieve(1).await.unwrap_err();
    assert!(
        matches!(err, MailError::Rejected { vendor: Some(VendorCode::Text(ref t)), .. } if t == "FILE SYSTEM ERROR"),
        "{err:?}"
    );
    // A new login.
    assert_eq!(m.stat().await.unwrap().count, 2);
    harness::finish(m.into_client()).unwrap();
}

#[tokio::test(start_paused = true)]
async fn only_a_path_is_taken_for_the_saved_path() {
    // Another URC between +POP3: SUCCESS and the path is not the path.
    let text = format!(
        "{LOGIN}{GET}< +POP3: SUCCESS\n< PB DONE\n< C:/Email/100202110457/, EMAIL000.TXT\n\
         > AT+POP3READ\n< Subject: First Test Email\n< This is a test email with an attachment.\n< OK\n{LISTED}"
    );
    let mut m = play(&text);
    let msg = m.retrieve(1).await.unwrap();
    assert_eq!(msg.subject().as_deref(), Some("First Test Email"));
    harness::finish(m.into_client()).unwrap();
}

/// `AT+POP3READ` prints the file `AT+POP3GET` saved (§4.4, §4.7), the
/// module's own text: no POP3 transparency is left to undo, so dot lines,
/// a last `.` line too, are the mail's.
#[tokio::test(start_paused = true)]
async fn dot_lines_are_the_mails_own() {
    let text = format!(
        "{LOGIN}{GET}< +POP3: SUCCESS\n< C:/Email/100202110457/, EMAIL000.TXT\n\
         > AT+POP3READ\n< Subject: Dots\n< From: \"FromName\" <FromAddr@server.com>\n\
         < ..two dots\n< .\n< OK\n{LISTED}"
    );
    let mut m = play(&text);
    let msg = m.retrieve(1).await.unwrap();
    assert_eq!(
        msg.raw(),
        b"Subject: Dots\r\nFrom: \"FromName\" <FromAddr@server.com>\r\n\r\n..two dots\r\n.\r\n"
    );
    assert_eq!(msg.text_body().as_deref(), Some("..two dots\r\n.\r\n"));
    harness::finish(m.into_client()).unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_message_line_reading_ok_or_error_is_the_messages_own() {
    // The module's answer has no length: it prints the saved file in one go,
    // so an `OK` or `ERROR` with more text right after it is the mail's own
    // line; only the `OK` it then keeps quiet after ends the answer.
    let text = format!(
        "{LOGIN}{GET}< +POP3: SUCCESS\n< C:/Email/100202110457/, EMAIL000.TXT\n\
         > AT+POP3READ\n< Subject: Status\n< \n< Did it work?\n< OK\n< ERROR\n< It did.\n< OK\n{LISTED}\
         > AT+POP3OUT\n< +POP3: SUCCESS\n< OK\n"
    );
    let mut m = play(&text);
    let msg = m.retrieve(1).await.unwrap();
    assert_eq!(
        msg.text_body().as_deref(),
        Some("Did it work?\r\nOK\r\nERROR\r\nIt did.\r\n")
    );
    assert!(m.client().take_urcs().is_empty());
    m.close().await.unwrap();
    harness::finish(m.into_client()).unwrap();
}

#[tokio::test(start_paused = true)]
async fn known_limit_a_pause_after_a_message_line_reading_ok_cuts_the_answer() {
    // Were the module to pause longer than `text_block_quiet` right after a
    // message line reading `OK`, the answer would end there: the lines after
    // it are taken off the line and the call fails rather than return a
    // short message.
    let text = format!(
        "{LOGIN}{GET}< +POP3: SUCCESS\n< C:/Email/100202110457/, EMAIL000.TXT\n\
         > AT+POP3READ\n< Subject: Status\n< \n< Did it work?\n< OK\n~ 350ms\n< It did.\n< OK\n\
         > AT+POP3OUT\n< +POP3: SUCCESS\n< OK\n"
    );
    let mut m = play(&text);
    let err = m.retrieve(1).await.unwrap_err();
    assert!(
        matches!(err, MailError::Modem(cellmail_at::AtError::Protocol { ref command, ref detail })
            if command == "AT+POP3READ" && detail.contains("paused")),
        "{err:?}"
    );
    // The message's lines are not left in the application's URC queue.
    assert!(m.client().take_urcs().is_empty());
    m.close().await.unwrap();
    harness::finish(m.into_client()).unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_reboot_during_a_pop3_session_logs_in_again() {
    let mut m = play(&format!("{LOGIN}{STAT}< RDY\n{LOGIN}{STAT}"));
    m.stat().await.unwrap();
    m.stat().await.unwrap();
    harness::finish(m.into_client()).unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_retrieve_dropped_mid_wait_is_stopped_first() {
    // §4.6: AT+POP3STOP ends the session; the next call logs in again.
    let mut m = play(&format!("{LOGIN}{GET}> AT+POP3STOP\n< OK\n{RELOGIN_STAT}"));
    let r = tokio::time::timeout(Duration::from_secs(10), m.retrieve(1)).await;
    assert!(r.is_err(), "the call was cut short");
    assert_eq!(m.stat().await.unwrap().count, 2);
    harness::finish(m.into_client()).unwrap();
}

fn two_mails() -> (String, String) {
    let t =
        std::fs::read_to_string(harness::folder("sim5360").join("mailer-two-mails.at")).unwrap();
    let (first, second) = t.split_once("# The second mail.\n").unwrap();
    (first.to_owned(), second.to_owned())
}

fn second() -> Email {
    Email::builder()
        .from("UserName@server.com", Some("PresentName"))
        .to("ToAddr@server.com", None)
        .subject("Second Email")
        .body("No attachment this time.")
        .build()
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn a_send_dropped_mid_wait_is_stopped_first() {
    // §3.3: AT+SMTPSTOP; the +SMTP: OK of the dropped send is not the next's.
    let (first, second_mail) = two_mails();
    let first = first.replace("~ 5s\n< +SMTP: SUCCESS\n", "");
    let mut m = play(&format!("{first}> AT+SMTPSTOP\n< OK\n{second_mail}"));
    let r = tokio::time::timeout(Duration::from_secs(10), m.send(&self::first())).await;
    assert!(r.is_err(), "the call was cut short");
    let report = m.send(&second()).await.unwrap();
    assert_eq!(report.module_result, "+SMTP: SUCCESS");
    harness::finish(m.into_client()).unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_failed_recipient_delete_is_tried_again() {
    let (first, _) = two_mails();
    let (setup, rest) = first.split_once("> AT+SMTPRCPT=1\n< OK\n").unwrap();
    let text = format!("{setup}> AT+SMTPRCPT=1\n< ERROR\n> AT+SMTPRCPT=1\n< OK\n{rest}");
    let mut m = play(&text);
    let err = m.send(&self::first()).await.unwrap_err();
    assert!(
        matches!(err, MailError::Modem(cellmail_at::AtError::Error { ref command }) if command == "AT+SMTPRCPT=1"),
        "{err:?}"
    );
    m.send(&self::first()).await.unwrap();
    harness::finish(m.into_client()).unwrap();
}

#[tokio::test(start_paused = true)]
async fn urcs_and_split_reads_around_the_mailbox_calls() {
    let path = harness::folder("sim5360").join("mailer-mailbox.at");
    let text = std::fs::read_to_string(&path).unwrap();
    let lines = text.lines().count();
    // A line inside a text block answer (after its first line, before its
    // OK) is the message's: `AT+POP3READ` prints the mail, whose lines may
    // read like URCs (`RDY`), and the note shows no URC inside an answer.
    let mut in_block = std::collections::HashSet::new();
    let mut open = None;
    for (i, l) in text.lines().enumerate() {
        let n = i + 1;
        if l.starts_with("> AT+POP3READ") || l.starts_with("> AT+POP3HDR") {
            open = Some(false);
        } else if l == "< OK" {
            open = None;
        } else if l.starts_with("< ") {
            match open {
                Some(false) => open = Some(true),
                Some(true) => {
                    in_block.insert(n);
                }
                None => {}
            }
        }
    }
    let t = Transcript::load(&path).unwrap();
    for line in 1..=lines {
        for urc in ["+CPIN: READY", "PB DONE"] {
            let faults = Faults::new()
                .insert_before(line, urc)
                .split_random(line as u64, 9);
            let mut m = mailer(harness::client(&t, decoder_config(), faults).unwrap());
            let r = async {
                m.stat().await?;
                m.list().await?;
                let head = m.headers(2).await?;
                let msg = m.retrieve(1).await?;
                if in_block.contains(&line) {
                    let kept =
                        |m: &cellmail::Message| String::from_utf8_lossy(m.raw()).contains(urc);
                    assert!(kept(&head) || kept(&msg), "{urc} before line {line}");
                } else {
                    assert_eq!(msg.subject().as_deref(), Some("First Test Email"));
                }
                m.delete(1).await?;
                m.close().await
            }
            .await;
            assert!(r.is_ok(), "{urc} before line {line}: {r:?}");
            harness::finish(m.into_client()).unwrap();
        }
    }
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

#[tokio::test(start_paused = true)]
async fn the_manuals_limits_are_checked_before_any_byte() {
    // §1: subject up to 512 and body up to 5120 ASCII characters, at most 10
    // attachments from the file system.
    let base = || {
        Email::builder()
            .from("UserName@server.com", None)
            .to("ToAddr@server.com", None)
    };
    let mut eleven = base().subject("s").body("b");
    for i in 0..11 {
        eleven = eleven.attach(Attachment::from_module(&format!("C:/Picture/{i}.jpg")).unwrap());
    }
    let cases = [
        (
            "subject",
            base().subject("s".repeat(513)).body("b").build().unwrap(),
        ),
        (
            "body",
            base().subject("s").body("b".repeat(5121)).build().unwrap(),
        ),
        ("attachments", eleven.build().unwrap()),
    ];
    for (field, email) in cases {
        let mut m = play("");
        let err = m.send(&email).await.unwrap_err();
        assert!(
            matches!(err, MailError::Invalid { field: ref f, .. } if f == field),
            "{field}: {err:?}"
        );
        assert_eq!(m.client().stats().bytes_written, 0);
    }
    // At the limits the mail is valid.
    let mut ten = base().subject("s".repeat(512)).body("b".repeat(5120));
    for i in 0..10 {
        ten = ten.attach(Attachment::from_module(&format!("C:/Picture/{i}.jpg")).unwrap());
    }
    cellmail::validate(
        &ten.build().unwrap(),
        &cellmail_simcom::sim5360::capabilities(),
    )
    .unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_send_without_an_answer_is_stopped_before_the_next() {
    // AT+SMTPSEND gets no answer in time: the session may be running, so the
    // next call resynchronises (AT) and stops it (§3.3) before its mail.
    let (first, second_mail) = two_mails();
    let first = first.replace(
        "> AT+SMTPSEND\n< +SMTP: OK\n< OK\n~ 5s\n< +SMTP: SUCCESS\n",
        "> AT+SMTPSEND\n",
    );
    let mut m = play(&format!(
        "{first}> AT\n< OK\n> AT+SMTPSTOP\n< OK\n{second_mail}"
    ));
    let err = m.send(&self::first()).await.unwrap_err();
    assert!(
        matches!(err, MailError::Modem(ref e) if e.is_timeout()),
        "{err:?}"
    );
    let report = m.send(&second()).await.unwrap();
    assert_eq!(report.module_result, "+SMTP: SUCCESS");
    harness::finish(m.into_client()).unwrap();
}

#[tokio::test(start_paused = true)]
async fn urcs_stay_queued_for_the_application() {
    // A URC during the first mail and one between the mails: the mailer
    // notices reboots through its own subscription and leaves both queued.
    let (first, second_mail) = two_mails();
    let first = first.replacen("< OK\n", "< OK\n< PB DONE\n", 1);
    let mut m = play(&format!("{first}< SMS DONE\n{second_mail}"));
    m.send(&self::first()).await.unwrap();
    m.send(&second()).await.unwrap();
    assert_eq!(m.client().take_urcs(), ["PB DONE", "SMS DONE"]);
    harness::finish(m.into_client()).unwrap();
}

#[tokio::test(start_paused = true)]
async fn reset_is_unsupported_and_writes_nothing() {
    // §2: AT+POP3DEL marks for deletion "after POP3 client finishes the
    // session normally"; nothing in the note unmarks, and AT+POP3STOP is only
    // "Force to finish the session".
    let mut m = play(&format!("{LOGIN}{STAT}"));
    m.stat().await.unwrap();
    let written = m.client().stats().bytes_written;
    let err = m.reset().await.unwrap_err();
    assert!(
        matches!(err, MailError::Unsupported { ref feature }
            if feature == cellmail_simcom::sim5360::RESET_UNSUPPORTED),
        "{err:?}"
    );
    assert_eq!(m.client().stats().bytes_written, written);
    harness::finish(m.into_client()).unwrap();
}

#[tokio::test(start_paused = true)]
async fn counts_and_list_rows_that_do_not_read_are_protocol_errors() {
    // A count beyond u32 is not taken for 0 messages.
    let mut m = play(&format!(
        "{LOGIN}> AT+POP3NUM\n< +POP3: 4294967296 2134\n< OK\n"
    ));
    let err = m.stat().await.unwrap_err();
    assert!(
        matches!(err, MailError::Modem(cellmail_at::AtError::Protocol { ref command, .. }) if command == "AT+POP3NUM"),
        "{err:?}"
    );
    harness::finish(m.into_client()).unwrap();
    // A row that does not read (or names another id) is not dropped.
    for row in ["+POP3: 1", "+POP3: 2, 1050"] {
        let mut m = play(&format!("{LOGIN}{STAT}> AT+POP3LIST=1\n< {row}\n< OK\n"));
        let err = m.list().await.unwrap_err();
        assert!(
            matches!(err, MailError::Modem(cellmail_at::AtError::Protocol { ref command, .. }) if command == "AT+POP3LIST=1"),
            "{row}: {err:?}"
        );
        harness::finish(m.into_client()).unwrap();
    }
}

#[tokio::test(start_paused = true)]
async fn message_lines_after_the_ok_leave_the_applications_urcs_queued() {
    // A line of the message after its OK is taken off the queue, and only
    // that line: not the application's URC it is a prefix of.
    let text = format!(
        "{LOGIN}{GET}< +CMTI: \"SM\",3\n< +POP3: SUCCESS\n< C:/Email/100202110457/, EMAIL000.TXT\n\
         > AT+POP3READ\n< Subject: Status\n< Did it work?\n< OK\n~ 350ms\n< +CMTI\n< OK\n\
         > AT+POP3OUT\n< +POP3: SUCCESS\n< OK\n"
    );
    let mut m = play(&text);
    let err = m.retrieve(1).await.unwrap_err();
    assert!(
        matches!(err, MailError::Modem(cellmail_at::AtError::Protocol { ref detail, .. })
            if detail.contains("paused")),
        "{err:?}"
    );
    assert_eq!(m.client().take_urcs(), ["+CMTI: \"SM\",3"]);
    m.close().await.unwrap();
    harness::finish(m.into_client()).unwrap();
}

/// Issue 17 §1 (the same test fails on the code before the fix, 5059088^:
/// `text_body()` came back empty): body lines that read like headers, after
/// the module's blank line, stay in the body.
#[tokio::test(start_paused = true)]
async fn issue_17_body_lines_that_read_like_headers_stay_in_the_body() {
    let text = format!(
        "{LOGIN}{GET}< +POP3: SUCCESS\n< C:/Email/100202110457/, EMAIL000.TXT\n\
         > AT+POP3READ\n< Subject: Status\n< \n< CMD: reboot\n< Verbrauch: 42,7 m3\n< OK\n{LISTED}"
    );
    let mut m = play(&text);
    let msg = m.retrieve(1).await.unwrap();
    assert_eq!(
        msg.text_body().as_deref(),
        Some("CMD: reboot\r\nVerbrauch: 42,7 m3\r\n")
    );
}

/// Issue 14 §4: `AT+POP3GET` saves a mail's attachments into the folder it
/// names (§2); the message names each of them with its module path, and its
/// size when the module told it (`AT+FSATTRI` refused: unknown). Before, the
/// folder was logged and dropped: no listing, no files.
#[tokio::test(start_paused = true)]
async fn a_retrieved_mails_attachments_are_named_with_their_module_path() {
    let mut m =
        mailer(harness::golden("sim5360", "mailer-attachments.at", decoder_config()).unwrap());
    let msg = m.retrieve(1).await.unwrap();
    assert_eq!(
        msg.text_body().as_deref(),
        Some("This is a test email with an attachment.\r\n")
    );
    let file = |path: &str, size| ModuleFile::new(path.parse().unwrap(), size);
    assert_eq!(
        msg.module_files(),
        [
            file("C:/Email/100202110457/log.bin", Some(6)),
            file("C:/Email/100202110457/20100202_100006.jpg", None),
        ]
    );
    // The bytes stay on the module, and the digest says so.
    assert!(msg.attachments().is_empty());
    assert_eq!(
        msg.fidelity(),
        &Fidelity::Digest(vec![
            Lost::HeaderBoundary,
            Lost::AttachmentsOnModule {
                folder: "C:/Email/100202110457/".into()
            }
        ])
    );
    // Forwarded as it is: a module file the mailer can attach.
    let forward = Attachment::from_module(msg.module_files()[0].path.as_str()).unwrap();
    assert_eq!(forward.name(), "log.bin");
    m.close().await.unwrap();
    harness::finish(m.into_client()).unwrap();
}

/// The card (`AT+FSLOCA=1`, §2 "D:/Email") and [`SavedMail::KeepAttachments`]:
/// the text file goes (`AT+FSDEL`); a folder with an attachment stays, one
/// without is removed (`AT+FSRMDIR` from `D:/Email`), so plain mails leave
/// nothing on the module.
#[tokio::test(start_paused = true)]
async fn card_storage_and_kept_attachments_only() {
    let get = |id: u32, folder: &str| {
        format!(
            "> AT+FSLOCA=1\n< OK\n> AT+POP3GET={id}\n< OK\n< +POP3: SUCCESS\n\
             < D:/Email/{folder}/, EMAIL000.TXT\n\
             > AT+POP3READ\n< Subject: Mail {id}\n< To: ToAddr@server.com\n< \n< text\n< OK\n\
             > AT+FSCD=D:/Email/{folder}\n< +FSCD: D:/Email/{folder}/\n< OK\n> AT+FSLS\n< +FSLS: FILES:\n< EMAIL000.TXT\n"
        )
    };
    let text = format!(
        "{LOGIN}{}< log.bin\n< OK\n> AT+FSATTRI=log.bin\n< +FSATTRI: 6\n< OK\n\
         > AT+FSDEL=EMAIL000.TXT\n< OK\n\
         {}< OK\n> AT+FSDEL=EMAIL000.TXT\n< OK\n> AT+FSCD=D:/Email\n< +FSCD: D:/Email/\n< OK\n\
         > AT+FSRMDIR=100202110459\n< OK\n",
        get(1, "100202110458"),
        get(2, "100202110459"),
    );
    let t = Transcript::parse(&text).unwrap();
    let options = Sim5360Options {
        storage: MailStorage::Card,
        saved_mail: SavedMail::KeepAttachments,
        ..Default::default()
    };
    let mut m = mailer_with(
        harness::client(&t, decoder_config(), Faults::new()).unwrap(),
        options,
    );
    let with = m.retrieve(1).await.unwrap();
    assert_eq!(
        with.module_files(),
        [ModuleFile::new(
            "D:/Email/100202110458/log.bin".parse().unwrap(),
            Some(6)
        )]
    );
    let without = m.retrieve(2).await.unwrap();
    assert!(without.module_files().is_empty());
    // Listed, and nothing there: nothing lost.
    assert_eq!(without.fidelity(), &Fidelity::Digest(vec![]));
    harness::finish(m.into_client()).unwrap();
}

/// A listing the module refuses does not lose the mail: it comes back, and
/// says attachments may be in the folder.
#[tokio::test(start_paused = true)]
async fn a_refused_listing_keeps_the_message_and_says_so() {
    let text = format!(
        "{LOGIN}{GET}< +POP3: SUCCESS\n< C:/Email/100202110457/, EMAIL000.TXT\n\
         > AT+POP3READ\n< Subject: x\n< To: ToAddr@server.com\n< \n< text\n< OK\n\
         > AT+FSCD=C:/Email/100202110457\n< ERROR\n"
    );
    let mut m = play(&text);
    let msg = m.retrieve(1).await.unwrap();
    assert!(msg.module_files().is_empty());
    assert_eq!(
        msg.fidelity(),
        &Fidelity::Digest(vec![Lost::AttachmentsOnModule {
            folder: "C:/Email/100202110457/".into()
        }])
    );
    harness::finish(m.into_client()).unwrap();
}
