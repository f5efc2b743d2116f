//! Property: no e-mail `validate` accepts makes a command the module would
//! refuse for its length or its characters.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use cellmail::{Charset, Email, MailSender, validate};
use cellmail_quectel::commands::{self as cmd, RecipientType};
use proptest::prelude::*;

fn text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        "[a-zA-Z0-9 .,:-]{0,40}",
        Just("\"".to_string()),
        Just("\r\n".to_string()),
        Just("\u{1a}".to_string()),
        Just("+++".to_string()),
        Just("Zählerstand".to_string()),
    ];
    proptest::collection::vec(piece, 0..5).prop_map(|v| v.concat())
}

/// The quoted parameters of an encoded command line.
fn quoted_params(line: &[u8]) -> Vec<Vec<u8>> {
    line.split(|&b| b == b'"')
        .skip(1)
        .step_by(2)
        .map(<[u8]>::to_vec)
        .collect()
}

proptest! {
    #[test]
    fn accepted_mail_encodes_within_the_module_limits(
        subject in text(), name in text(), body in text(), utf8 in any::<bool>(),
        recipients in 1usize..25,
    ) {
        let caps = cellmail_quectel::capabilities();
        let charset = if utf8 { Charset::Utf8 } else { Charset::Ascii };
        let mut b = Email::builder().from("meter@example.com", Some(&name)).subject(subject).body(body).charset(charset);
        for i in 0..recipients {
            b = b.to(&format!("r{i}@example.com"), None);
        }
        let Ok(email) = b.build() else { return Ok(()) };
        if validate(&email, &caps).is_err() {
            return Ok(());
        }
        let l = &caps.limits;
        prop_assert!(email.recipients().len() <= 20);
        let subject = cmd::set_subject(email.charset(), email.subject()).encode().unwrap();
        let title = &quoted_params(&subject)[0];
        let max = if email.charset() == Charset::Ascii { l.subject_ascii } else { l.subject_encoded };
        prop_assert!(title.len() <= max, "subject of {} bytes", title.len());
        let sender = cmd::set_sender_name(email.sender().name.as_deref().unwrap_or("")).encode().unwrap();
        prop_assert_eq!(sender.iter().filter(|&&b| b == b'"').count(), 2);
        prop_assert!(email.body().len() <= 10 * 1024);
        prop_assert!(!email.body().contains("+++"), "the body would end data mode");
        for r in email.recipients() {
            let line = cmd::add_recipient(RecipientType::from(r.kind), r.address.as_str()).encode().unwrap();
            prop_assert!(!line[..line.len() - 1].iter().any(|b| b.is_ascii_control()));
        }
    }
}

#[tokio::test]
async fn rejected_mail_never_reaches_the_module() {
    let (port, _module) = tokio::io::duplex(64);
    let client = cellmail_at::Client::new(
        port,
        cellmail_at::ClientConfig::with_decoder(cellmail_quectel::decoder_config()),
    );
    let account = cellmail::SmtpAccount {
        server: cellmail::ServerAddr::new("smtp.example.com", 25),
        auth: cellmail::Auth::None,
        tls: Default::default(),
    };
    let mut mailer = cellmail_quectel::QuectelMailer::new(client, account, Default::default());
    for email in [
        Email::builder()
            .from("a@b.cc", None)
            .to("c@d.ee", None)
            .subject("say \"hi\"")
            .build()
            .unwrap(),
        Email::builder()
            .from("a@b.cc", None)
            .to("c@d.ee", None)
            .body("a\r\n+++\r\n")
            .build()
            .unwrap(),
        Email::builder()
            .from("a@b.cc", None)
            .to("c@d.ee", Some("Named"))
            .build()
            .unwrap(),
    ] {
        assert!(mailer.send(&email).await.is_err());
    }
    assert_eq!(mailer.client().stats().bytes_written, 0);
}
