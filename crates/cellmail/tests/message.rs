//! Retrieved messages: real multipart messages built by `mail-builder`, parsed
//! back with their non-ASCII subject and binary attachment intact.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use cellmail::Message;
use mail_builder::MessageBuilder;

fn multipart() -> (Vec<u8>, Vec<u8>) {
    let binary: Vec<u8> = (0..=255u8).cycle().take(3000).collect();
    let raw = MessageBuilder::new()
        .from(("Zähler 17", "meter-17@cellmail.test"))
        .to(vec![
            ("Ops", "ops@cellmail.test"),
            ("", "night@cellmail.test"),
        ])
        .cc(("Archive", "archive@cellmail.test"))
        .subject("Zählerstand für März ✓")
        .date(1_700_000_000i64)
        .text_body("Verbrauch: 42,7 m³\r\n.\r\nEnde\r\n")
        .attachment("application/octet-stream", "dump.bin", binary.clone())
        .write_to_vec()
        .unwrap();
    (raw, binary)
}

#[test]
fn multipart_with_non_ascii_subject_and_binary_attachment() {
    let (raw, binary) = multipart();
    let msg = Message::parse(raw.clone()).unwrap();
    assert_eq!(msg.raw(), raw.as_slice());
    assert_eq!(msg.subject().as_deref(), Some("Zählerstand für März ✓"));
    let from = msg.from();
    assert_eq!(from[0].name.as_deref(), Some("Zähler 17"));
    assert_eq!(from[0].address, "meter-17@cellmail.test");
    let to: Vec<_> = msg.to().into_iter().map(|a| a.address).collect();
    assert_eq!(to, ["ops@cellmail.test", "night@cellmail.test"]);
    assert_eq!(msg.cc()[0].address, "archive@cellmail.test");
    assert!(!msg.has_bcc_header());
    assert!(msg.date().is_some());
    assert_eq!(
        msg.text_body().as_deref(),
        Some("Verbrauch: 42,7 m³\r\n.\r\nEnde\r\n")
    );
    let attachments = msg.attachments();
    assert_eq!(attachments.len(), 1);
    assert_eq!(attachments[0].name.as_deref(), Some("dump.bin"));
    assert_eq!(
        attachments[0].content_type.as_deref(),
        Some("application/octet-stream")
    );
    assert_eq!(attachments[0].bytes, binary);
}

#[test]
fn pop3_relayed_bytes_are_unstuffed_once() {
    let (raw, binary) = multipart();
    // What a POP3 server sends for RETR: dot-stuffed lines and the terminator.
    let mut wire = Vec::new();
    for line in raw.split_inclusive(|&b| b == b'\n') {
        if line.first() == Some(&b'.') {
            wire.push(b'.');
        }
        wire.extend_from_slice(line);
    }
    wire.extend_from_slice(b".\r\n");
    let msg = Message::from_pop3_data(wire).unwrap();
    assert_eq!(msg.raw(), raw.as_slice());
    assert_eq!(msg.attachments()[0].bytes, binary);
    assert_eq!(
        msg.text_body().as_deref(),
        Some("Verbrauch: 42,7 m³\r\n.\r\nEnde\r\n")
    );
}

#[test]
fn headers_only() {
    let msg =
        Message::parse(b"From: a@b.c\r\nSubject: Hi\r\nX-Meter: 17\r\n\r\n".to_vec()).unwrap();
    assert_eq!(msg.subject().as_deref(), Some("Hi"));
    assert_eq!(msg.header("X-Meter").as_deref(), Some("17"));
    assert!(msg.attachments().is_empty());
}

/// A module sending in GB2312 (Quectel `<charset>` 2) labels subject and body
/// with it; the parser decodes them (mail-parser's `full_encoding`).
#[test]
fn gb2312_and_big5_mail_decodes() {
    let raw = b"From: meter@cellmail.test\r\n\
To: ops@cellmail.test\r\n\
Subject: =?gb2312?B?teex7bbByv0=?=\r\n\
MIME-Version: 1.0\r\n\
Content-Type: text/plain; charset=big5\r\n\
Content-Transfer-Encoding: base64\r\n\
\r\n\
xaq8xiA0Miw3\r\n"
        .to_vec();
    let msg = Message::parse(raw).unwrap();
    assert_eq!(msg.subject().as_deref(), Some("电表读数"));
    assert_eq!(msg.text_body().as_deref(), Some("讀數 42,7"));
}
