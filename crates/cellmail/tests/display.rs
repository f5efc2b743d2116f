//! What an operator reads: every `Display` that used to show Rust's `Debug`
//! (a phase, a duration, a quoted value, a character, a refusal without a
//! reply code) now says it in words. One row per case: the error, its text.

use std::time::Duration;

use cellmail::{Attachment, Email, MailError, Phase, validate};
use cellmail_at::AtError;

fn builder() -> cellmail::EmailBuilder {
    Email::builder()
        .from("meter-17@example.com", None)
        .to("ops@example.com", None)
        .subject("Daily reading")
        .body("42.7 m3\r\n")
}

fn refusal(result: Result<Email, MailError>) -> String {
    match result {
        Ok(_) => panic!("accepted"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn errors_read_as_words() {
    let mut caps = cellmail::capabilities::example();
    caps.body_forbids = vec!["\r\n.\r\n"];
    let dotted = builder().body("a\r\n.\r\nb").build().expect("a valid mail");
    let cases: Vec<(String, &str)> = vec![
        (
            MailError::Rejected {
                code: 0,
                text: "-ERR no such message".into(),
                vendor: None,
            }
            .to_string(),
            "the server refused: -ERR no such message",
        ),
        (
            MailError::Rejected {
                code: 554,
                text: "relay denied".into(),
                vendor: None,
            }
            .to_string(),
            "the server rejected the mail with 554: relay denied",
        ),
        (
            MailError::from(AtError::Timeout {
                command: "AT+SMTPSEND".into(),
                after: Duration::from_secs(5),
            })
            .to_string(),
            "AT+SMTPSEND: no answer within 5 s",
        ),
        (
            MailError::from(AtError::Timeout {
                command: "waiting for +POP3READ:".into(),
                after: Duration::from_millis(1500),
            })
            .to_string(),
            "waiting for +POP3READ:: no answer within 1.5 s",
        ),
        (
            validate(&dotted, &caps).expect_err("forbidden").to_string(),
            "invalid body: contains \"<CR><LF>.<CR><LF>\", which ends the module's data mode",
        ),
        (
            refusal(
                builder()
                    .attach(Attachment::from_bytes("log\r.txt", b"x".to_vec()))
                    .build(),
            ),
            "invalid attachments[0].name: \"log<CR>.txt\" contains a carriage return (CR)",
        ),
        (
            refusal(builder().subject("a\nb").build()),
            "invalid subject: contains a line feed (LF); header fields are one line",
        ),
        (
            refusal(builder().body("a\u{1a}b").build()),
            "invalid body: contains Ctrl-Z at byte 1",
        ),
        (
            refusal(builder().to("ops <ops@example.com>", None).build()),
            "invalid to[1]: \"ops <ops@example.com>\" contains a space",
        ),
        (
            "RAM/log.txt"
                .parse::<cellmail::ModulePath>()
                .expect_err("no prefix")
                .to_string(),
            "invalid module path: \"RAM/log.txt\" has no storage prefix (RAM:, UFS:, SD:, C:/)",
        ),
        (
            Phase::Attachment {
                name: "log.txt".into(),
            }
            .to_string(),
            "attachment log.txt",
        ),
        (Phase::Retrieve { id: 9999 }.to_string(), "message 9999"),
        (Phase::Body.to_string(), "body"),
        (
            Phase::Upload {
                name: "ca.pem".into(),
            }
            .to_string(),
            "upload ca.pem",
        ),
    ];
    for (shown, want) in cases {
        assert_eq!(shown, want);
        // Nothing of Rust's Debug: no escapes, no struct braces.
        assert!(!shown.contains('\\') && !shown.contains(" { "), "{shown}");
    }
}
