//! End to end: host API → dialect → pseudo-terminal → virtual module →
//! Postfix → Dovecot, and back over POP3. Needs the mail stack:
//! `cargo xtask test` starts it (or `cargo xtask mailstack up` and export
//! `target/mailstack/env`).

#![allow(clippy::unwrap_used, missing_docs)] // a failed unwrap is a failed test

mod support;

use cellmail::{Attachment, Charset, Email, MailError, MailSender, Mailbox, TlsMode};
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sim7000_plain_to_cc_bcc_utf8_with_attachment_and_pop3_back() {
    let stack = Stack::from_env();
    let tag = unique("sim7000");
    let (mut mailer, _module) = sim7000(&stack, "alice", "bob");
    let binary: Vec<u8> = (0..=255u8).cycle().take(5000).collect();
    let email = Email::builder()
        .from(&stack.user("alice"), Some("Älice Meter"))
        .to(&stack.user("bob"), Some("Bob"))
        .cc(&stack.user("carol"), None)
        .bcc(&stack.user("dave"), None)
        .charset(Charset::Utf8)
        .subject(format!("Zählerstand {tag}"))
        .body("Verbrauch: 42,7 m³\r\n")
        .attach(Attachment::from_bytes("dump.bin", binary.clone()))
        .build()
        .unwrap();
    mailer.send(&email).await.unwrap();
    for user in ["bob", "carol", "dave"] {
        let msg = stack.wait_for(user, &tag).await;
        assert_eq!(msg.subject().unwrap(), format!("Zählerstand {tag}"));
        assert_eq!(msg.text_body().unwrap().trim_end(), "Verbrauch: 42,7 m³");
        assert_eq!(msg.attachments()[0].bytes, binary);
        assert!(!msg.has_bcc_header(), "{user} sees a Bcc header");
        assert_eq!(msg.cc()[0].address, stack.user("carol"));
    }
    // Read it back through the module's POP3 client.
    let stat = mailer.stat().await.unwrap();
    assert!(stat.count >= 1);
    let list = mailer.list().await.unwrap();
    let uids = mailer.uids().await.unwrap();
    assert_eq!(list.len(), uids.len());
    let mut found = None;
    for info in &list {
        let head = mailer.headers(info.id).await.unwrap();
        if head.subject().is_some_and(|s| s.contains(&tag)) {
            found = Some(info.id);
        }
    }
    let id = found.expect("the mail is in bob's mailbox");
    let msg = mailer.retrieve(id).await.unwrap();
    assert_eq!(msg.attachments()[0].bytes, binary);
    mailer.delete(id).await.unwrap();
    mailer.reset().await.unwrap();
    mailer.close().await.unwrap();
    assert!(stack.maildir_has("bob", &tag), "reset kept the mail");
}
