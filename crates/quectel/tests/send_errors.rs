//! One replay per result code of the manuals through `QuectelMailer::send`,
//! the retry advice, fault injection, and a property: what `validate` accepts
//! the module can take.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod support;

use cellmail::{Auth, Email, MailError, MailSender, Secret, ServerAddr, SmtpAccount, VendorCode};
use cellmail_quectel::{QuectelMailer, QuectelOptions, ResultCode, RetryPolicy};
use cellmail_replay::{Faults, Transcript};
use support::*;

/// The first mail of mailer-two-mails.at, with `+QSMTPPUT: <result>`.
fn plain_send(results: &[&str], cleanup: bool) -> String {
    let mut t = String::from(
        "> AT+QSSLCFG=\"smtpstyle\",0\n< OK\n> AT+QSMTPCFG=1,1\n< OK\n> AT+QSMTPUSER=\"quectel\"\n< OK\n\
         > AT+QSMTPPWD=\"${password}\"\n< OK\n> AT+QSMTPADDR=\"quectel@163.com\"\n< OK\n> AT+QSMTPNAME=\"\"\n< OK\n\
         > AT+QSMTPSRV=\"smtp.163.com\",25\n< OK\n> AT+QSMTPDST=1,1,\"colin.hu@quectel.com\"\n< OK\n< +QSMTPDST: 0\n\
         > AT+QSMTPSUB=0,\"SMTP TEST\"\n< OK\n> AT+QSMTPBODY=0,60\n< OK\n< CONNECT\n>raw \"Hello, welcome!\"\n>+++\n\
         < +QSMTPBODY: 15\n",
    );
    for r in results {
        t.push_str(&format!(
            "> AT+QSMTPPUT=300\n< OK\n~ 2s\n< +QSMTPPUT: {r}\n"
        ));
    }
    if cleanup {
        t.push_str("> AT+QSMTPDST=0\n< OK\n< +QSMTPDST: 0\n");
    }
    t
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
    let t = Transcript::parse(text).unwrap();
    let account = SmtpAccount {
        server: ServerAddr::new("smtp.163.com", 25),
        auth: Auth::Login {
            user: "quectel".into(),
            password: Secret::new(PASSWORD),
        },
        tls: Default::default(),
    };
    let options = QuectelOptions {
        retry: RetryPolicy {
            attempts,
            reactivate_before_last: true,
        },
        ..Default::default()
    };
    QuectelMailer::new(client_for(&t, faults), account, options)
}

async fn send_with_result(code: i32) -> MailError {
    let mut m = mailer(&plain_send(&[&code.to_string()], true), Faults::new(), 1);
    let err = m.send(&email()).await.unwrap_err();
    done(m.into_client());
    assert_eq!(
        err.vendor_code(),
        Some(&VendorCode::Number(i64::from(code))),
        "{err}"
    );
    err
}

macro_rules! code_tests {
    ($($name:ident: $code:literal => $pattern:pat,)*) => {$(
        #[tokio::test(start_paused = true)]
        async fn $name() {
            let err = send_with_result($code).await;
            assert!(matches!(err, $pattern), "{} -> {err:?}", $code);
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
    code_1_unknown: -1 => MailError::Rejected { code: 0, .. },
    code_3_busy: -3 => MailError::Busy { .. },
    code_4_dns: -4 => MailError::Dns { .. },
    code_5_network: -5 => MailError::Network { .. },
    code_6_auth_type: -6 => MailError::Auth { .. },
    code_7_closed: -7 => MailError::Network { .. },
    code_8_context: -8 => MailError::Network { .. },
    code_9_timeout: -9 => MailError::Timeout { .. },
    code_10_no_recipient: -10 => MailError::Invalid { .. },
    code_11_send_failed: -11 => MailError::Rejected { code: 0, .. },
    code_12_open: -12 => MailError::Rejected { code: 0, .. },
    code_13_memory: -13 => MailError::Rejected { code: 0, .. },
    code_14_save: -14 => MailError::Rejected { code: 0, .. },
    code_15_parameter: -15 => MailError::Invalid { .. },
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
    code_530: -530 => MailError::Rejected { code: 530, .. },
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
        for urc in ["RDY", "+CPIN: READY", "Call Ready", "+PDP DEACT"] {
            let mut m = mailer(&text, Faults::new().insert_before(line, urc), 1);
            let r = m.send(&email()).await;
            assert!(r.is_ok(), "{urc} before line {line}: {r:?}");
            done(m.into_client());
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
    let full = format!("> AT+QSSLCFG=\"smtpstyle\",0\n< OK\n> AT\n< OK\n{text}");
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
