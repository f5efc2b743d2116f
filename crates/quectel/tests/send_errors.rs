//! One replay per result code of the manuals through `QuectelMailer::send`,
//! the retry advice, fault injection, and a property: what `validate` accepts
//! the module can take.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod support;

use cellmail::{
    Attachment, Auth, CipherSuites, Email, MailError, MailSender, Secret, ServerAddr, SmtpAccount,
    TlsMode, TlsSettings, VendorCode,
};
use cellmail_quectel::{
    AttachmentRoute, QuectelMailer, QuectelOptions, ResultCode, RetryPolicy, TransferError,
};
use cellmail_replay::{Faults, Transcript};
use std::time::Duration;
use support::*;

/// The first mail of mailer-two-mails.at, with `+QSMTPPUT: <result>`.
fn plain_send(results: &[&str], cleanup: bool) -> String {
    plain_send_with(60, 300, results, cleanup)
}

/// A plain mail asks the style the module holds (0: nothing to write).
const STYLE_QUERY: &str = "> AT+QSSLCFG=\"smtpstyle\"\n< +QSSLCFG: \"smtpstyle\",0\n< OK\n";

/// The account settings of mailer-two-mails.at.
const SETTINGS: &str = "> AT+QSMTPCFG=1,1\n< OK\n> AT+QSMTPUSER=\"quectel\"\n< OK\n\
     > AT+QSMTPPWD=\"${password}\"\n< OK\n> AT+QSMTPADDR=\"quectel@163.com\"\n< OK\n> AT+QSMTPNAME=\"\"\n< OK\n\
     > AT+QSMTPSRV=\"smtp.163.com\",25\n< OK\n";

/// The same with the body's `<timeout>` and the send's `<timeout>` as given.
fn plain_send_with(body_secs: u32, put_secs: u32, results: &[&str], cleanup: bool) -> String {
    let mut t = format!("{STYLE_QUERY}{SETTINGS}");
    t.push_str(&content(body_secs));
    for r in results {
        t.push_str(&format!(
            "> AT+QSMTPPUT={put_secs}\n< OK\n~ 2s\n< +QSMTPPUT: {r}\n"
        ));
    }
    if cleanup {
        t.push_str("> AT+QSMTPDST=0\n< OK\n< +QSMTPDST: 0\n");
    }
    t
}

/// Recipient, subject and body of [`email`].
fn content(body_secs: u32) -> String {
    format!(
        "> AT+QSMTPDST=1,1,\"colin.hu@quectel.com\"\n< OK\n< +QSMTPDST: 0\n\
         > AT+QSMTPSUB=0,\"SMTP TEST\"\n< OK\n> AT+QSMTPBODY=0,{body_secs}\n< OK\n< CONNECT\n\
         >raw \"Hello, welcome!\"\n>+++\n< +QSMTPBODY: 15\n"
    )
}

fn email() -> Email {
    Email::builder()
        .from("quectel@163.com", None)
        .to("colin.hu@quectel.com", None)
        .subject("SMTP TEST")
        .body("Hello, welcome!")
        .build()
        .unwrap()
}

fn mailer(
    text: &str,
    faults: Faults,
    attempts: u32,
) -> QuectelMailer<cellmail_replay::ScriptedModem> {
    let options = QuectelOptions {
        retry: RetryPolicy {
            attempts,
            reactivate_before_last: true,
            ..RetryPolicy::default()
        },
        ..Default::default()
    };
    mailer_with(text, faults, options, TlsSettings::default())
}

/// [`mailer`]'s options with attachments through the UART's sized form.
fn uart_sized(attempts: u32) -> QuectelOptions {
    QuectelOptions {
        retry: RetryPolicy {
            attempts,
            reactivate_before_last: true,
            ..RetryPolicy::default()
        },
        attachment_route: AttachmentRoute::UartSized,
        ..Default::default()
    }
}

fn mailer_with(
    text: &str,
    faults: Faults,
    options: QuectelOptions,
    tls: TlsSettings,
) -> QuectelMailer<cellmail_replay::ScriptedModem> {
    let t = Transcript::parse(text).unwrap();
    let account = SmtpAccount {
        server: ServerAddr::new("smtp.163.com", 25),
        auth: Auth::Login {
            user: "quectel".into(),
            password: Secret::new(PASSWORD),
        },
        tls,
    };
    QuectelMailer::new(client_for(&t, faults), account, options)
}

async fn send_with_result(code: i32) -> MailError {
    let mut m = mailer(&plain_send(&[&code.to_string()], true), Faults::new(), 1);
    let err = m.send(&email()).await.unwrap_err();
    done(m.into_client());
    match &err {
        // `Unsupported` has no vendor field: the code is in its text.
        MailError::Unsupported { feature } => {
            assert!(feature.contains(&format!("reports {code}:")), "{err}")
        }
        _ => assert_eq!(
            err.vendor_code(),
            Some(&VendorCode::Number(i64::from(code))),
            "{err}"
        ),
    }
    err
}

macro_rules! code_tests {
    ($($name:ident: $code:literal => $pattern:pat $(if $guard:expr)?,)*) => {$(
        #[tokio::test(start_paused = true)]
        async fn $name() {
            let err = send_with_result($code).await;
            assert!(matches!(err, $pattern $(if $guard)?), "{} -> {err:?}", $code);
        }
    )*
        #[test]
        fn every_manual_code_has_a_replay_test() {
            let tested = [$($code),*];
            for code in ResultCode::ALL {
                assert!(tested.contains(&code.code()), "no test for {}", code.code());
            }
        }
    };
}

code_tests! {
    code_1_unknown: -1 => MailError::Network { .. },
    code_3_busy: -3 => MailError::Busy { .. },
    code_4_dns: -4 => MailError::Dns { .. },
    code_5_network: -5 => MailError::Network { .. },
    code_6_auth_type: -6 => MailError::Unsupported { .. },
    code_7_closed: -7 => MailError::Network { .. },
    code_8_context: -8 => MailError::Network { .. },
    code_9_timeout: -9 => MailError::Timeout { .. },
    code_10_no_recipient: -10 => MailError::Invalid { ref field, .. } if field == "recipients",
    code_11_send_failed: -11 => MailError::Network { .. },
    code_12_open: -12 => MailError::Invalid { ref field, .. } if field == "attachments",
    code_13_memory: -13 => MailError::Invalid { ref field, .. } if field == "attachments",
    code_14_save: -14 => MailError::Invalid { ref field, .. } if field == "attachments",
    code_15_parameter: -15 => MailError::Invalid { ref field, .. } if field == "parameters",
    code_421: -421 => MailError::Rejected { code: 421, .. },
    code_450: -450 => MailError::Rejected { code: 450, .. },
    code_451: -451 => MailError::Rejected { code: 451, .. },
    code_452: -452 => MailError::Rejected { code: 452, .. },
    code_500: -500 => MailError::Rejected { code: 500, .. },
    code_501: -501 => MailError::Rejected { code: 501, .. },
    code_502: -502 => MailError::Rejected { code: 502, .. },
    code_503: -503 => MailError::Rejected { code: 503, .. },
    code_504: -504 => MailError::Rejected { code: 504, .. },
    code_521: -521 => MailError::Rejected { code: 521, .. },
    code_530: -530 => MailError::Throttled { .. },
    code_535_auth: -535 => MailError::Auth { .. },
    code_550: -550 => MailError::Rejected { code: 550, .. },
    code_551: -551 => MailError::Rejected { code: 551, .. },
    code_552: -552 => MailError::Rejected { code: 552, .. },
    code_553: -553 => MailError::Rejected { code: 553, .. },
    code_554: -554 => MailError::Rejected { code: 554, .. },
}

#[tokio::test(start_paused = true)]
async fn transient_failures_are_resent_without_reconfiguring() {
    let mut m = mailer(&plain_send(&["-5", "-9", "0"], true), Faults::new(), 3);
    let report = m.send(&email()).await.unwrap();
    assert_eq!(report.module_result, "+QSMTPPUT: 0");
    done(m.into_client());
}

/// When each `AT+QSMTPPUT` of one `send` was written (tokio's clock), with
/// `throttle_delay` as the pause after -530.
async fn submit_times(results: &[&str], throttle_delay: Duration) -> Vec<tokio::time::Instant> {
    // Written by the project (the manuals print no -530 exchange): the first
    // mail of mailer-two-mails.at answered with `results`.
    let text = format!("#! proof: project\n{}", plain_send(results, true));
    let options = QuectelOptions {
        retry: RetryPolicy {
            attempts: 2,
            throttle_delay,
            ..RetryPolicy::default()
        },
        ..Default::default()
    };
    let mut m = mailer_with(&text, Faults::new(), options, TlsSettings::default());
    let times = std::sync::Mutex::new(Vec::new());
    let observe = |stage: cellmail::SendStage| {
        if matches!(stage, cellmail::SendStage::Submitting) {
            times.lock().unwrap().push(tokio::time::Instant::now());
        }
    };
    let report = m.send_observed(&email(), &observe).await.unwrap();
    assert_eq!(report.module_result, "+QSMTPPUT: 0");
    done(m.into_client());
    times.into_inner().unwrap()
}

/// SMTPS note §1.4.3: -530 "you may send email too frequently": the mail is
/// sent again, but only after the policy's pause; a network failure (-5) is
/// resent at once, as the note says of the other codes.
#[tokio::test(start_paused = true)]
async fn sent_too_often_is_resent_after_the_throttle_delay() {
    let delay = Duration::from_secs(90);
    let times = submit_times(&["-530", "0"], delay).await;
    assert_eq!(times.len(), 2, "sent twice");
    let gap = times[1] - times[0];
    // `~ 2s` before the -530 in the transcript, then the pause.
    assert!(gap >= delay + Duration::from_secs(2), "{gap:?}");
    assert!(gap < delay + Duration::from_secs(10), "{gap:?}");

    let times = submit_times(&["-5", "0"], delay).await;
    assert_eq!(times.len(), 2);
    assert!(
        times[1] - times[0] < Duration::from_secs(10),
        "no pause after -5"
    );

    // With the tries used up, the caller gets the transient `Throttled`.
    let mut m = mailer(&plain_send(&["-530", "-530"], true), Faults::new(), 2);
    let err = m.send(&email()).await.unwrap_err();
    assert!(matches!(err, MailError::Throttled { .. }), "{err:?}");
    assert!(err.is_transient());
    done(m.into_client());
}

#[tokio::test(start_paused = true)]
async fn wrong_password_is_not_retried() {
    let mut m = mailer(&plain_send(&["-535"], true), Faults::new(), 3);
    assert!(matches!(
        m.send(&email()).await,
        Err(MailError::Auth { .. })
    ));
    done(m.into_client());
}

#[tokio::test(start_paused = true)]
async fn urc_inserted_before_any_line_changes_nothing() {
    let text = plain_send(&["0"], true);
    let lines = text.lines().count();
    for line in 1..=lines {
        for urc in ["+CPIN: READY", "Call Ready", "+PDP DEACT"] {
            let mut m = mailer(&text, Faults::new().insert_before(line, urc), 1);
            let r = m.send(&email()).await;
            assert!(r.is_ok(), "{urc} before line {line}: {r:?}");
            done(m.into_client());
        }
    }
}

/// `RDY` is a reboot: the module forgot the command it came under, and
/// every setting. Wherever it comes while the mailer waits for an answer
/// or a result of the mail, the send ends at once with `Modem(Rebooted)`
/// (transient: the next send configures the module again), never after a
/// 5 s command timeout (the transcript's own 2 s and the guard times
/// around `+++` are all the time it takes). Before the first command, or
/// once `+QSMTPPUT: 0` came (the clean-up), the mail is sent.
#[tokio::test(start_paused = true)]
async fn a_reboot_under_any_answer_ends_the_send_at_once() {
    let text = plain_send(&["0"], true);
    let lines: Vec<&str> = text.lines().collect();
    let sent_at = lines.iter().position(|l| *l == "< +QSMTPPUT: 0").unwrap();
    for line in 1..=lines.len() {
        let mut m = mailer(&text, Faults::new().insert_before(line, "RDY"), 1);
        let started = tokio::time::Instant::now();
        let r = m.send(&email()).await;
        assert!(
            started.elapsed() <= Duration::from_secs(3),
            "RDY before line {line}: {:?} after {:?}",
            r,
            started.elapsed()
        );
        if line == 1 || line > sent_at + 1 {
            assert!(r.is_ok(), "RDY before line {line}: {r:?}");
        } else {
            let e = r.unwrap_err();
            assert!(
                matches!(e, MailError::Modem(cellmail_at::AtError::Rebooted { .. })),
                "RDY before line {line}: {e:?}"
            );
            assert!(e.is_transient());
        }
    }
}

#[tokio::test(start_paused = true)]
async fn split_reads_change_nothing() {
    for faults in [
        Faults::new().split_every(1),
        Faults::new().split_random(42, 7),
    ] {
        let mut m = mailer(&plain_send(&["0"], true), faults, 1);
        m.send(&email()).await.unwrap();
        done(m.into_client());
    }
}

#[tokio::test(start_paused = true)]
async fn error_in_the_middle_ends_in_a_typed_error_and_the_client_stays_usable() {
    // The module refuses the subject: the mail is abandoned, recipients are cleaned up.
    let text = plain_send(&[], false).replace(
        "> AT+QSMTPSUB=0,\"SMTP TEST\"\n< OK\n> AT+QSMTPBODY=0,60\n< OK\n< CONNECT\n>raw \"Hello, welcome!\"\n>+++\n< +QSMTPBODY: 15\n",
        "> AT+QSMTPSUB=0,\"SMTP TEST\"\n< ERROR\n> AT+QSMTPDST=0\n< OK\n< +QSMTPDST: 0\n> AT+CGMM\n< M95\n< OK\n",
    );
    let mut m = mailer(&text, Faults::new(), 1);
    let err = m.send(&email()).await.unwrap_err();
    assert!(
        matches!(err, MailError::Modem(cellmail_at::AtError::Error { ref command }) if command.starts_with("AT+QSMTPSUB")),
        "{err:?}"
    );
    let r = m
        .client()
        .execute(&cellmail_at::Command::exec("+CGMM"))
        .await
        .unwrap();
    assert_eq!(r.info, ["M95"]);
    done(m.into_client());
}

#[tokio::test(start_paused = true)]
async fn no_answer_to_the_send_is_a_timeout_and_the_client_recovers() {
    // +QSMTPPUT never comes: the host gives up after the module's timeout and a margin.
    let text = plain_send(&[], false)
        + "> AT+QSMTPPUT=300\n< OK\n> AT+QSMTPDST=0\n< OK\n< +QSMTPDST: 0\n> AT+CGMM\n< M95\n< OK\n";
    let mut m = mailer(&text, Faults::new(), 1);
    let started = tokio::time::Instant::now();
    let err = m.send(&email()).await.unwrap_err();
    assert!(
        matches!(err, MailError::Modem(ref e) if e.is_timeout()),
        "{err:?}"
    );
    assert!(started.elapsed() >= std::time::Duration::from_secs(300));
    let r = m
        .client()
        .execute(&cellmail_at::Command::exec("+CGMM"))
        .await
        .unwrap();
    assert_eq!(r.info, ["M95"]);
    done(m.into_client());
}

#[tokio::test(start_paused = true)]
async fn withheld_ok_times_out_resynchronises_and_continues() {
    // The OK of the first command (line 2) never comes: the send times out. The
    // next send resynchronises with AT before configuring again.
    let text = plain_send(&["0"], true);
    let full =
        format!("> AT+QSSLCFG=\"smtpstyle\"\n< +QSSLCFG: \"smtpstyle\",0\n> AT\n< OK\n{text}");
    let mut m = mailer(&full, Faults::new().withhold(2), 1);
    let err = m.send(&email()).await.unwrap_err();
    assert!(
        matches!(err, MailError::Modem(ref e) if e.is_timeout()),
        "{err:?}"
    );
    m.send(&email()).await.unwrap();
    done(m.into_client());
}

#[tokio::test]
async fn invalid_mail_writes_nothing() {
    let mut m = mailer("", Faults::new(), 1);
    let too_long = Email::builder()
        .from("quectel@163.com", None)
        .to("a@b.cc", None)
        .subject("s".repeat(101))
        .build()
        .unwrap();
    assert!(
        matches!(m.send(&too_long).await, Err(MailError::Invalid { field, .. }) if field == "subject")
    );
    assert_eq!(m.client().stats().bytes_written, 0);
}

#[tokio::test(start_paused = true)]
async fn every_code_is_resent_or_not_as_the_smtps_note_says() {
    for &code in ResultCode::ALL {
        let c = code.code().to_string();
        let results: &[&str] = if code.worth_resending() {
            &[&c, "0"]
        } else {
            &[&c]
        };
        let mut m = mailer(&plain_send(results, true), Faults::new(), 2);
        let r = m.send(&email()).await;
        assert_eq!(r.is_ok(), code.worth_resending(), "{c}: {r:?}");
        done(m.into_client());
    }
}

#[tokio::test(start_paused = true)]
async fn failed_to_send_is_resent_and_auth_or_invalid_are_not() {
    let mut m = mailer(&plain_send(&["-11", "-11", "0"], true), Faults::new(), 3);
    m.send(&email()).await.unwrap();
    done(m.into_client());
    for (code, field) in [("-10", "recipients"), ("-15", "parameters")] {
        let mut m = mailer(&plain_send(&[code], true), Faults::new(), 3);
        let err = m.send(&email()).await.unwrap_err();
        assert!(
            matches!(err, MailError::Invalid { field: ref f, .. } if f == field),
            "{code}: {err:?}"
        );
        done(m.into_client());
    }
}

/// Options out of range: `Invalid` naming the field and the range, and not
/// one byte written.
async fn refused_before_writing(options: QuectelOptions, field: &str, range: &str) {
    let mut m = mailer_with("", Faults::new(), options, TlsSettings::default());
    match m.send(&email()).await {
        Err(MailError::Invalid {
            field: f, reason, ..
        }) => {
            assert_eq!(f, field);
            assert!(reason.ends_with(range), "{reason}");
        }
        other => panic!("{field}: {other:?}"),
    }
    assert_eq!(m.client().stats().bytes_written, 0);
}

#[tokio::test(start_paused = true)]
async fn send_timeout_is_100_to_48000() {
    let caps = cellmail_quectel::capabilities();
    assert_eq!(caps.limits.send_timeout_secs, Some(100..=48_000));
    for secs in [99u32, 48_001, 0] {
        let options = QuectelOptions {
            send_timeout: Duration::from_secs(u64::from(secs)),
            ..Default::default()
        };
        refused_before_writing(options, "send_timeout", "takes 100 to 48000 seconds").await;
    }
    for secs in [100, 48_000] {
        let options = QuectelOptions {
            send_timeout: Duration::from_secs(u64::from(secs)),
            retry: RetryPolicy::once(),
            ..Default::default()
        };
        let text = plain_send_with(60, secs, &["0"], true);
        let mut m = mailer_with(&text, Faults::new(), options, TlsSettings::default());
        m.send(&email()).await.unwrap();
        done(m.into_client());
    }
}

#[tokio::test(start_paused = true)]
async fn transfer_timeout_is_1_to_48000() {
    for secs in [0u32, 48_001] {
        let options = QuectelOptions {
            transfer_timeout: Duration::from_secs(u64::from(secs)),
            ..Default::default()
        };
        refused_before_writing(options, "transfer_timeout", "takes 1 to 48000 seconds").await;
    }
    // The option is the least `<timeout>`: the 15-byte body at 115200 baud
    // gets half its wire time again and 10 s more (`plan::transfer_seconds`).
    for (secs, sent) in [(1u32, 12u32), (48_000, 48_000)] {
        let options = QuectelOptions {
            transfer_timeout: Duration::from_secs(u64::from(secs)),
            ..Default::default()
        };
        let text = plain_send_with(sent, 300, &["0"], true);
        let mut m = mailer_with(&text, Faults::new(), options, TlsSettings::default());
        m.send(&email()).await.unwrap();
        done(m.into_client());
    }
}

/// STARTTLS without verification on SSL context `ctx`.
fn starttls_send(ctx: u8) -> String {
    format!(
        "> AT+QSSLCFG=\"smtpstyle\",2\n< OK\n> AT+QSSLCFG=\"sslversion\",{ctx},4\n< OK\n\
         > AT+QSSLCFG=\"ciphersuite\",{ctx},\"0XFFFF\"\n< OK\n> AT+QSSLCFG=\"seclevel\",{ctx},0\n< OK\n\
         > AT+QSSLCFG=\"ignorertctime\",0\n< OK\n> AT+QSSLCFG=\"smtpsctxi\",{ctx}\n< OK\n\
         {SETTINGS}{}> AT+QSMTPPUT=300\n< OK\n< +QSMTPPUT: 0\n> AT+QSMTPDST=0\n< OK\n< +QSMTPDST: 0\n",
        content(60)
    )
}

fn starttls() -> TlsSettings {
    TlsSettings {
        mode: TlsMode::StartTls,
        ..Default::default()
    }
}

#[tokio::test(start_paused = true)]
async fn ssl_context_is_0_to_5() {
    let options = QuectelOptions {
        ssl_context: 6,
        ..Default::default()
    };
    refused_before_writing(options, "ssl_context", "takes 0 to 5").await;
    for ctx in [0, 5] {
        let options = QuectelOptions {
            ssl_context: ctx,
            ..Default::default()
        };
        let mut m = mailer_with(&starttls_send(ctx), Faults::new(), options, starttls());
        m.send(&email()).await.unwrap();
        done(m.into_client());
    }
}

#[tokio::test(start_paused = true)]
async fn cipher_suites_the_manual_cannot_express_are_refused_before_writing() {
    for names in [
        vec!["TLS_AES_128_GCM_SHA256"],
        vec![
            "TLS_RSA_WITH_AES_256_CBC_SHA",
            "TLS_RSA_WITH_AES_128_CBC_SHA",
        ],
    ] {
        let tls = TlsSettings {
            ciphers: CipherSuites::Only(names.iter().map(|n| n.to_string()).collect()),
            ..starttls()
        };
        let mut m = mailer_with("", Faults::new(), QuectelOptions::default(), tls);
        let err = m.send(&email()).await.unwrap_err();
        assert!(matches!(err, MailError::Unsupported { .. }), "{err:?}");
        assert_eq!(m.client().stats().bytes_written, 0);
    }
}

#[tokio::test(start_paused = true)]
async fn attachment_names_of_module_files_are_refused() {
    for name in [
        "RAM:log.txt",
        "UFS:log.txt",
        "SD:log.txt",
        "ram:log.txt",
        "/RAM/log.txt",
        "/UFS/log.txt",
        "/SD/log.txt",
    ] {
        let built = Email::builder()
            .from("quectel@163.com", None)
            .to("colin.hu@quectel.com", None)
            .attach(Attachment::from_bytes(name, b"boot ok\n".to_vec()))
            .build();
        // The builder refuses '/' in names already; the rest the mailer refuses.
        let err = match built {
            Ok(email) => {
                let mut m = mailer("", Faults::new(), 1);
                let err = m.send(&email).await.unwrap_err();
                assert_eq!(m.client().stats().bytes_written, 0, "{name}");
                err
            }
            Err(e) => e,
        };
        assert!(
            matches!(err, MailError::Invalid { ref field, .. } if field == "attachments[0].name"),
            "{name}: {err:?}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_short_body_is_a_truncated_transfer() {
    // Two bytes short: not what the SMTPS note shows, so bytes were lost.
    let text = plain_send(&[], true).replace("< +QSMTPBODY: 15", "< +QSMTPBODY: 13");
    let mut m = mailer(&text, Faults::new(), 3);
    let err = m.send(&email()).await.unwrap_err();
    assert_eq!(
        TransferError::find(&err),
        Some(&TransferError::Truncated {
            what: "body".into(),
            sent: 15,
            received: 13
        }),
        "{err:?}"
    );
    assert!(err.is_transient());
    done(m.into_client());
}

/// The SMTPS note's body exchange (§3.1-§3.3: "Hello, welcome!", 15 bytes,
/// `+QSMTPBODY: 14`) through the mailer: the mail is sent, as in the note;
/// with `accept_body_one_short: false` it is refused as truncated before
/// `AT+QSMTPPUT`.
#[tokio::test(start_paused = true)]
async fn a_body_one_byte_short_is_sent_as_the_smtps_note_prints_it() {
    let text = plain_send(&["0"], true).replace("< +QSMTPBODY: 15", "< +QSMTPBODY: 14");
    let text = format!("#! proof: project\n{text}");
    let mut m = mailer(&text, Faults::new(), 1);
    let report = m.send(&email()).await.unwrap();
    assert_eq!(report.module_result, "+QSMTPPUT: 0");
    done(m.into_client());

    let strict = QuectelOptions {
        accept_body_one_short: false,
        ..Default::default()
    };
    let text = plain_send(&[], true).replace("< +QSMTPBODY: 15", "< +QSMTPBODY: 14");
    let mut m = mailer_with(&text, Faults::new(), strict, TlsSettings::default());
    let err = m.send(&email()).await.unwrap_err();
    assert_eq!(
        TransferError::find(&err),
        Some(&TransferError::Truncated {
            what: "body".into(),
            sent: 15,
            received: 14
        }),
        "{err:?}"
    );
    done(m.into_client());
}

#[tokio::test(start_paused = true)]
async fn a_short_attachment_is_a_truncated_transfer() {
    let text = format!(
        "{}> AT+QSMTPATT=\"log.txt\",8,60\n< OK\n< CONNECT\n>raw \"boot ok\\n\"\n>+++\n< +QSMTPATT: 7\n\
         > AT+QSMTPDST=0\n< OK\n< +QSMTPDST: 0\n> AT+QSMTPDATT\n< OK\n< +QSMTPDATT: 0\n",
        plain_send(&[], false)
    );
    let email = Email::builder()
        .from("quectel@163.com", None)
        .to("colin.hu@quectel.com", None)
        .subject("SMTP TEST")
        .body("Hello, welcome!")
        .attach(Attachment::from_bytes("log.txt", b"boot ok\n".to_vec()))
        .build()
        .unwrap();
    let mut m = mailer_with(&text, Faults::new(), uart_sized(3), TlsSettings::default());
    let err = m.send(&email).await.unwrap_err();
    assert_eq!(
        TransferError::find(&err),
        Some(&TransferError::Truncated {
            what: "attachments[0]".into(),
            sent: 8,
            received: 7
        }),
        "{err:?}"
    );
    assert!(err.is_transient());
    done(m.into_client());
}

#[tokio::test(start_paused = true)]
async fn urcs_stay_queued_for_the_application() {
    // Before the module's answer to AT+QSMTPCFG (line 4) and before +QSMTPPUT.
    let text = plain_send(&["0"], true);
    let put = text.lines().position(|l| l == "< +QSMTPPUT: 0").unwrap() + 1;
    let faults = Faults::new()
        .insert_before(4, "Call Ready")
        .insert_before(put, "+PDP DEACT");
    let mut m = mailer(&text, faults, 1);
    m.send(&email()).await.unwrap();
    assert_eq!(m.client().take_urcs(), ["Call Ready", "+PDP DEACT"]);
    done(m.into_client());
}

/// A mail with one host-file attachment, `log.bin` of 3000 bytes when built.
fn with_host_file(tag: &str) -> (Email, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("cellmail-quectel-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("log.bin");
    std::fs::write(&path, vec![0xA5u8; 3000]).unwrap();
    let email = Email::builder()
        .from("quectel@163.com", None)
        .to("colin.hu@quectel.com", None)
        .subject("SMTP TEST")
        .body("Hello, welcome!")
        .attach(Attachment::from_file(&path).unwrap())
        .build()
        .unwrap();
    (email, dir)
}

/// The plain mail again on the same module: only its content.
fn again() -> String {
    format!(
        "{}> AT+QSMTPPUT=300\n< OK\n< +QSMTPPUT: 0\n> AT+QSMTPDST=0\n< OK\n< +QSMTPDST: 0\n",
        content(60)
    )
}

#[tokio::test(start_paused = true)]
async fn an_attachment_source_failing_after_connect_leaves_data_mode() {
    // The file shrinks after the mail was built: 1000 of the 3000 announced
    // bytes come, then the source ends. The module is in data mode: +++ ends
    // it, its +QSMTPATT for the bytes it got is read, the attachment and the
    // recipients are deleted, and the next mail goes.
    let (mail, dir) = with_host_file("shrink");
    std::fs::write(dir.join("log.bin"), vec![0xA5u8; 1000]).unwrap();
    let text = format!(
        "{}> AT+QSMTPATT=\"log.bin\",3000,60\n< OK\n< CONNECT\n>hex {}\n>+++\n< +QSMTPATT: 1000\n\
         > AT+QSMTPDST=0\n< OK\n< +QSMTPDST: 0\n> AT+QSMTPDATT\n< OK\n< +QSMTPDATT: 0\n{}",
        plain_send(&[], false),
        "A5".repeat(1000),
        again()
    );
    let mut m = mailer_with(&text, Faults::new(), uart_sized(1), TlsSettings::default());
    let err = m.send(&mail).await.unwrap_err();
    assert!(
        matches!(err, MailError::Io(ref e) if e.kind() == std::io::ErrorKind::UnexpectedEof),
        "{err:?}"
    );
    m.send(&email()).await.unwrap();
    done(m.into_client());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_missing_attachment_file_never_enters_data_mode() {
    // The file is gone when the mail is sent: opened before AT+QSMTPATT, so
    // the module is never asked for data; the recipients are deleted.
    let (mail, dir) = with_host_file("missing");
    std::fs::remove_dir_all(&dir).unwrap();
    let text = format!(
        "{}> AT+QSMTPDST=0\n< OK\n< +QSMTPDST: 0\n{}",
        plain_send(&[], false),
        again()
    );
    let mut m = mailer(&text, Faults::new(), 1);
    let err = m.send(&mail).await.unwrap_err();
    assert!(
        matches!(err, MailError::Io(ref e) if e.kind() == std::io::ErrorKind::NotFound),
        "{err:?}"
    );
    m.send(&email()).await.unwrap();
    done(m.into_client());
}

#[tokio::test(start_paused = true)]
async fn a_failed_clean_up_is_done_before_the_next_mail() {
    // The recipients of the first mail could not be deleted, nor cleared:
    // the next mail deletes them before it adds its own (no mail to the old
    // recipients).
    let text = format!(
        "{}> AT+QSMTPDST=0\n< ERROR\n> AT+QSMTPCLR\n< ERROR\n> AT+QSMTPDST=0\n< OK\n< +QSMTPDST: 0\n{}",
        plain_send(&["0"], false),
        again()
    );
    let mut m = mailer(&text, Faults::new(), 1);
    m.send(&email()).await.unwrap();
    m.send(&email()).await.unwrap();
    done(m.into_client());
}

#[tokio::test(start_paused = true)]
async fn a_clean_up_that_fails_again_stops_the_next_mail() {
    let text = format!(
        "{}> AT+QSMTPDST=0\n< ERROR\n> AT+QSMTPCLR\n< ERROR\n> AT+QSMTPDST=0\n< ERROR\n\
         > AT+QSMTPCLR\n< ERROR\n",
        plain_send(&["0"], false),
    );
    let mut m = mailer(&text, Faults::new(), 1);
    m.send(&email()).await.unwrap();
    let err = m.send(&email()).await.unwrap_err();
    assert!(
        matches!(err, MailError::Modem(cellmail_at::AtError::Error { ref command }) if command == "AT+QSMTPDST=0"),
        "{err:?}"
    );
    done(m.into_client());
}

#[tokio::test(start_paused = true)]
async fn a_send_dropped_before_its_result_does_not_lend_it_to_the_next() {
    // The caller gives up while the module sends: the next mail deletes the
    // recipients first, and the late +QSMTPPUT: -9 of the dropped send is not
    // taken for the next mail's result.
    let text = format!(
        "{}> AT+QSMTPPUT=300\n< OK\n> AT+QSMTPDST=0\n< OK\n< +QSMTPDST: 0\n< +QSMTPPUT: -9\n{}\
         > AT+QSMTPPUT=300\n< OK\n~ 2s\n< +QSMTPPUT: 0\n> AT+QSMTPDST=0\n< OK\n< +QSMTPDST: 0\n",
        plain_send(&[], false),
        content(60)
    );
    let mut m = mailer(&text, Faults::new(), 3);
    let r = tokio::time::timeout(std::time::Duration::from_secs(30), m.send(&email())).await;
    assert!(r.is_err(), "the call was cut short");
    let report = m.send(&email()).await.unwrap();
    assert_eq!(report.module_result, "+QSMTPPUT: 0");
    done(m.into_client());
}

#[tokio::test(start_paused = true)]
async fn missed_urcs_are_not_taken_for_a_reboot() {
    // More URCs than the subscription holds arrive before a failed send
    // (-5): they may hide a reboot, so the settings will be sent again, but
    // the mail is not taken for lost: it is resent.
    let text = plain_send(&["-5", "0"], true).replacen(
        "< +QSMTPPUT: -5\n",
        &format!("{}< +QSMTPPUT: -5\n", "< Call Ready\n".repeat(80)),
        1,
    );
    let mut m = mailer(&text, Faults::new(), 2);
    let report = m.send(&email()).await.unwrap();
    assert_eq!(report.module_result, "+QSMTPPUT: 0");
    done(m.into_client());
}

#[tokio::test(start_paused = true)]
async fn a_failing_clean_up_clears_the_module_and_the_next_mail_configures_it_again() {
    // The recipients cannot be deleted: AT+QSMTPCLR (§2.2.11) clears them,
    // and the account with them, so the next mail sends every setting again.
    let text = format!(
        "{}> AT+QSMTPDST=0\n< ERROR\n> AT+QSMTPCLR\n< OK\n{}",
        plain_send(&["0"], false),
        plain_send(&["0"], true)
    );
    let mut m = mailer(&text, Faults::new(), 1);
    m.send(&email()).await.unwrap();
    m.send(&email()).await.unwrap();
    done(m.into_client());
}

#[tokio::test(start_paused = true)]
async fn a_delete_that_keeps_failing_before_a_mail_falls_back_to_clearing() {
    // Neither the delete nor the clear works after the first mail; before
    // the second the delete fails again, the clear works, and the module is
    // configured again before the mail.
    let text = format!(
        "{}> AT+QSMTPDST=0\n< ERROR\n> AT+QSMTPCLR\n< ERROR\n\
         > AT+QSMTPDST=0\n< ERROR\n> AT+QSMTPCLR\n< OK\n{}",
        plain_send(&["0"], false),
        plain_send(&["0"], true)
    );
    let mut m = mailer(&text, Faults::new(), 1);
    m.send(&email()).await.unwrap();
    m.send(&email()).await.unwrap();
    done(m.into_client());
}

/// The RAM route of one attachment `log.txt` holding `boot ok\n`: a file of
/// its name deleted first (none: `ERROR`), uploaded at its exact size with
/// no `+++` (SMTPS note §3.1-§3.3), `+QFUPL` answering `stored`.
fn ram_upload(stored: &str) -> String {
    format!(
        "> AT+QFDEL=\"RAM:log.txt\"\n< ERROR\n> AT+QFUPL=\"RAM:log.txt\",8\n< CONNECT\n\
         >raw \"boot ok\\n\"\n< +QFUPL: {stored}\n< OK\n"
    )
}

fn with_log() -> Email {
    Email::builder()
        .from("quectel@163.com", None)
        .to("colin.hu@quectel.com", None)
        .subject("SMTP TEST")
        .body("Hello, welcome!")
        .attach(Attachment::from_bytes("log.txt", b"boot ok\n".to_vec()))
        .build()
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn an_attachment_goes_through_a_ram_file_deleted_after_the_send() {
    let text = format!(
        "{}{}> AT+QSMTPATT=\"RAM:log.txt\"\n< OK\n< +QSMTPATT: 8\n\
         > AT+QSMTPPUT=300\n< OK\n< +QSMTPPUT: 0\n\
         > AT+QSMTPDST=0\n< OK\n< +QSMTPDST: 0\n> AT+QSMTPDATT\n< OK\n< +QSMTPDATT: 0\n\
         > AT+QFDEL=\"RAM:log.txt\"\n< OK\n",
        plain_send(&[], false),
        ram_upload("8,467e"),
    );
    let mut m = mailer(&text, Faults::new(), 1);
    m.send(&with_log()).await.unwrap();
    done(m.into_client());
}

#[tokio::test(start_paused = true)]
async fn a_ram_upload_stored_short_is_a_truncated_transfer_and_its_file_is_deleted() {
    let text = format!(
        "{}{}> AT+QSMTPDST=0\n< OK\n< +QSMTPDST: 0\n> AT+QFDEL=\"RAM:log.txt\"\n< OK\n",
        plain_send(&[], false),
        ram_upload("7,467e"),
    );
    let mut m = mailer(&text, Faults::new(), 1);
    let err = m.send(&with_log()).await.unwrap_err();
    assert_eq!(
        TransferError::find(&err),
        Some(&TransferError::Truncated {
            what: "attachments[0]".into(),
            sent: 8,
            received: 7
        }),
        "{err:?}"
    );
    done(m.into_client());
}

#[tokio::test(start_paused = true)]
async fn no_room_in_ram_is_invalid_on_that_attachment_naming_its_size() {
    // -13: "No enough memory for the attachment" (GSM_SMTP_ATC_V1.1 §2.2.9).
    let text = format!(
        "{}{}> AT+QSMTPATT=\"RAM:log.txt\"\n< OK\n< +QSMTPATT: -13\n\
         > AT+QSMTPDST=0\n< OK\n< +QSMTPDST: 0\n> AT+QSMTPDATT\n< OK\n< +QSMTPDATT: 0\n\
         > AT+QFDEL=\"RAM:log.txt\"\n< OK\n",
        plain_send(&[], false),
        ram_upload("8,467e"),
    );
    let mut m = mailer(&text, Faults::new(), 1);
    let err = m.send(&with_log()).await.unwrap_err();
    match &err {
        MailError::Invalid { field, reason, .. } => {
            assert_eq!(field, "attachments[0]");
            assert!(reason.contains("8 bytes"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    assert!(!err.is_transient());
    done(m.into_client());
    // The module refuses the upload itself: the same, before any QSMTPATT.
    let text = format!(
        "{}> AT+QFDEL=\"RAM:log.txt\"\n< ERROR\n> AT+QFUPL=\"RAM:log.txt\",8\n< ERROR\n\
         > AT+QSMTPDST=0\n< OK\n< +QSMTPDST: 0\n> AT+QFDEL=\"RAM:log.txt\"\n< ERROR\n",
        plain_send(&[], false),
    );
    let mut m = mailer(&text, Faults::new(), 1);
    let err = m.send(&with_log()).await.unwrap_err();
    assert!(
        matches!(&err, MailError::Invalid { field, reason, .. }
            if field == "attachments[0]" && reason.contains("8 bytes")),
        "{err:?}"
    );
    done(m.into_client());
}

#[tokio::test(start_paused = true)]
async fn a_ram_upload_whose_source_fails_is_ended_with_escape_and_deleted() {
    // The host file shrinks after the mail was built: 1000 of the 3000
    // bytes come. The upload is shorter than declared, so `+++` ends it
    // (SMTPS note §3.1), the module reports what it stored, and the file is
    // deleted; the next mail goes.
    let (mail, dir) = with_host_file("ram-shrink");
    std::fs::write(dir.join("log.bin"), vec![0xA5u8; 1000]).unwrap();
    let text = format!(
        "{}> AT+QFDEL=\"RAM:log.bin\"\n< ERROR\n> AT+QFUPL=\"RAM:log.bin\",3000\n< CONNECT\n\
         >hex {}\n>+++\n< +QFUPL: 1000,0\n< OK\n\
         > AT+QSMTPDST=0\n< OK\n< +QSMTPDST: 0\n> AT+QFDEL=\"RAM:log.bin\"\n< OK\n{}",
        plain_send(&[], false),
        "A5".repeat(1000),
        again()
    );
    let mut m = mailer(&text, Faults::new(), 1);
    let err = m.send(&mail).await.unwrap_err();
    assert!(
        matches!(err, MailError::Io(ref e) if e.kind() == std::io::ErrorKind::UnexpectedEof),
        "{err:?}"
    );
    m.send(&email()).await.unwrap();
    done(m.into_client());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Issue 14 §2: a plain mail writes no `AT+QSSLCFG` on a module that never
/// had TLS configured (GSM_SMTP_ATC_V1.1 §4): it asks the style; `ERROR`
/// (no SSL firmware) or 0 means nothing to write. A style an earlier user
/// left (1) is undone with `smtpstyle` 0, once.
#[tokio::test(start_paused = true)]
async fn a_plain_mail_undoes_only_a_style_an_earlier_user_left() {
    let after_query = plain_send(&["0"], true).replace(STYLE_QUERY, "");
    for (answer, write) in [
        ("< ERROR\n", ""),
        ("< +QSSLCFG: \"smtpstyle\",0\n< OK\n", ""),
        (
            "< +QSSLCFG: \"smtpstyle\",1\n< OK\n",
            "> AT+QSSLCFG=\"smtpstyle\",0\n< OK\n",
        ),
    ] {
        let text = format!(
            "> AT+QSSLCFG=\"smtpstyle\"\n{answer}{write}{after_query}{}",
            again()
        );
        let mut m = mailer(&text, Faults::new(), 1);
        m.send(&email()).await.unwrap();
        // The second mail asks nothing again.
        m.send(&email()).await.unwrap();
        done(m.into_client());
    }
}
