//! What enqueue stores: the whole mail, host files copied in, module files by
//! reference; rebuilt equal.

#![allow(clippy::unwrap_used, missing_docs)] // a failed unwrap is a failed test

mod common;

use cellmail::{Attachment, AttachmentSource, Charset, Email, RecipientKind};
use cellmail_outbox::{MailState, Outbox};
use common::dir;
use proptest::prelude::*;

/// Field-by-field equality (`Email` has no `PartialEq`: attachments may be streams).
fn assert_same(a: &Email, b: &Email) {
    assert_eq!(a.sender(), b.sender());
    assert_eq!(a.recipients(), b.recipients());
    assert_eq!(a.subject(), b.subject());
    assert_eq!(a.body(), b.body());
    assert_eq!(a.charset(), b.charset());
    assert_eq!(a.attachments().len(), b.attachments().len());
    for (x, y) in a.attachments().iter().zip(b.attachments()) {
        assert_eq!(x.name(), y.name());
        assert_eq!(bytes_of(x), bytes_of(y), "{}", x.name());
    }
}

/// The bytes an attachment holds, or its module path.
fn bytes_of(a: &Attachment) -> Result<Vec<u8>, String> {
    match a.source() {
        AttachmentSource::Memory(b) => Ok(b.to_vec()),
        AttachmentSource::HostFile { path, .. } => Ok(std::fs::read(path).unwrap()),
        AttachmentSource::Module(p) => Err(p.as_str().to_owned()),
    }
}

fn address() -> impl Strategy<Value = String> {
    (
        "[a-z][a-z0-9.-]{0,8}[a-z0-9]",
        "[a-z]{1,8}",
        "(com|org|net)",
    )
        .prop_map(|(l, d, t)| format!("{l}@{d}.{t}"))
        .prop_filter("no double dots", |a| !a.contains(".."))
}

fn text(charset: Charset, line: bool) -> BoxedStrategy<String> {
    let pattern = match (charset, line) {
        (Charset::Ascii, true) => "[ -~]{0,40}",
        (Charset::Ascii, false) => "([ -~]{0,30}\r\n){0,4}",
        (_, true) => "[ -~äöüß€中文繁體]{0,30}",
        (_, false) => "([ -~äöüß€中文繁體\t]{0,30}\r\n){0,4}",
    };
    proptest::string::string_regex(pattern).unwrap().boxed()
}

fn name(charset: Charset) -> BoxedStrategy<Option<String>> {
    proptest::option::of(text(charset, true)).boxed()
}

fn email() -> impl Strategy<Value = Email> {
    prop_oneof![Just(Charset::Ascii), Just(Charset::Utf8)].prop_flat_map(|charset| {
        let recipient = (
            prop_oneof![
                Just(RecipientKind::To),
                Just(RecipientKind::Cc),
                Just(RecipientKind::Bcc)
            ],
            address(),
            name(charset),
        );
        let attachment = prop_oneof![
            (
                "[a-z]{1,8}\\.(txt|csv|jpg)",
                proptest::collection::vec(any::<u8>(), 0..300)
            )
                .prop_map(|(n, b)| Attachment::from_bytes(n, b)),
            "(RAM:|UFS:|C:/Picture/)[a-z]{1,8}\\.jpg"
                .prop_map(|p| Attachment::from_module(&p).unwrap()),
        ];
        (
            address(),
            name(charset),
            proptest::collection::vec(recipient, 1..5),
            text(charset, true),
            text(charset, false),
            proptest::collection::vec(attachment, 0..3),
        )
            .prop_map(move |(from, from_name, rcpts, subject, body, atts)| {
                let mut b = Email::builder()
                    .from(&from, from_name.as_deref())
                    .subject(subject)
                    .body(body)
                    .charset(charset);
                for (kind, a, n) in &rcpts {
                    b = b.recipient(*kind, a, n.as_deref());
                }
                for a in atts {
                    b = b.attach(a);
                }
                b.build().unwrap()
            })
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
    #[test]
    fn a_stored_mail_is_rebuilt_equal(mails in proptest::collection::vec(email(), 1..4)) {
        let d = dir("roundtrip");
        let outbox = Outbox::open(d.join("outbox.db")).unwrap();
        let ids: Vec<_> = mails.iter().map(|m| outbox.enqueue(m).unwrap()).collect();
        prop_assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids increase: {ids:?}");
        drop(outbox);
        let outbox = Outbox::open(d.join("outbox.db")).unwrap();
        for (m, id) in mails.iter().zip(ids) {
            assert_same(m, &outbox.email(id).unwrap());
        }
    }
}

#[test]
fn host_files_are_copied_at_enqueue_so_changing_or_deleting_them_loses_nothing() {
    let d = dir("hostfile");
    let photo = d.join("photo.jpg");
    let log = d.join("log.txt");
    std::fs::write(&photo, [0xFF, 0xD8, 0xFF, 0xE0, 0, 1, 2]).unwrap();
    std::fs::write(&log, b"boot ok\n").unwrap();
    let email = Email::builder()
        .from("cam@example.com", None)
        .to("ops@example.com", None)
        .subject("motion")
        .attach(Attachment::from_file(&photo).unwrap())
        .attach(Attachment::from_file_named("boot.log", &log).unwrap())
        .attach(Attachment::from_module("UFS:snap.jpg").unwrap())
        .build()
        .unwrap();
    let outbox = Outbox::open(d.join("outbox.db")).unwrap();
    let id = outbox.enqueue(&email).unwrap();
    std::fs::remove_file(&photo).unwrap();
    std::fs::write(&log, b"overwritten later\n").unwrap();
    let back = outbox.email(id).unwrap();
    let got: Vec<_> = back
        .attachments()
        .iter()
        .map(|a| (a.name().to_owned(), bytes_of(a)))
        .collect();
    assert_eq!(
        got,
        [
            (
                "photo.jpg".to_owned(),
                Ok(vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 1, 2])
            ),
            ("boot.log".to_owned(), Ok(b"boot ok\n".to_vec())),
            ("snap.jpg".to_owned(), Err("UFS:snap.jpg".to_owned())),
        ]
    );
}

#[test]
fn a_host_file_gone_before_enqueue_refuses_the_mail_and_stores_nothing() {
    let d = dir("gone");
    let photo = d.join("photo.jpg");
    std::fs::write(&photo, b"x").unwrap();
    let email = Email::builder()
        .from("cam@example.com", None)
        .to("ops@example.com", None)
        .attach(Attachment::from_file(&photo).unwrap())
        .build()
        .unwrap();
    std::fs::remove_file(&photo).unwrap();
    let outbox = Outbox::open(d.join("outbox.db")).unwrap();
    let err = outbox.enqueue(&email).unwrap_err();
    assert!(
        matches!(&err, cellmail_outbox::OutboxError::Mail(cellmail::MailError::Invalid { field, .. }) if field == "attachments[0]"),
        "{err}"
    );
    assert_eq!(outbox.status().unwrap().counts, Default::default());
}

#[test]
fn status_counts_and_ages_a_fresh_queue() {
    let d = dir("status");
    let outbox = Outbox::open(d.join("outbox.db")).unwrap();
    let t0 = std::time::SystemTime::now();
    let first = outbox.enqueue_at(&common::mail("a"), t0).unwrap();
    outbox
        .enqueue_at(&common::mail("b"), t0 + std::time::Duration::from_secs(5))
        .unwrap();
    let status = outbox
        .status_at(t0 + std::time::Duration::from_secs(65))
        .unwrap();
    assert_eq!(status.counts.queued, 2);
    assert_eq!(status.counts.get(MailState::Sent), 0);
    let oldest = status.oldest_queued.unwrap();
    assert_eq!((oldest.id, oldest.age.as_secs()), (first, 65));
    assert!(status.possible_duplicates.is_empty());
    assert_eq!(status.last_error, None);
    assert_eq!(outbox.ids_in(MailState::Queued).unwrap().len(), 2);
}
