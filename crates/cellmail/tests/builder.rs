//! The builder refuses what no module could send, naming the field; hostile
//! strings are refused by `validate` or are safe to encode.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use cellmail::{Attachment, Charset, Email, MailError, validate};
use proptest::prelude::*;

fn invalid_field(r: Result<Email, MailError>) -> String {
    match r {
        Err(MailError::Invalid { field, .. }) => field,
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[test]
fn sender_and_recipients_are_required() {
    assert_eq!(
        invalid_field(Email::builder().to("a@example.com", None).build()),
        "from"
    );
    assert_eq!(
        invalid_field(Email::builder().from("a@example.com", None).build()),
        "recipients"
    );
}

#[test]
fn bad_addresses_name_their_field() {
    let b = || {
        Email::builder()
            .from("a@example.com", None)
            .to("b@example.com", None)
    };
    assert_eq!(
        invalid_field(
            b().cc("c@example.com", None)
                .cc("not-an-address", None)
                .build()
        ),
        "cc[1]"
    );
    assert_eq!(
        invalid_field(b().bcc("x\"@example.com", None).build()),
        "bcc[0]"
    );
    assert_eq!(
        invalid_field(b().to("b@example.com\r\nRCPT TO:<e@vil>", None).build()),
        "to[1]"
    );
    assert_eq!(
        invalid_field(
            Email::builder()
                .from("ä@example.com", None)
                .to("b@example.com", None)
                .build()
        ),
        "from"
    );
}

#[test]
fn header_fields_are_one_line() {
    let b = || {
        Email::builder()
            .from("a@example.com", None)
            .to("b@example.com", None)
    };
    assert_eq!(
        invalid_field(b().subject("a\r\nBcc: x@y.z").build()),
        "subject"
    );
    assert_eq!(
        invalid_field(b().to("c@example.com", Some("C\u{1b}[2J")).build()),
        "to[1].name"
    );
    assert_eq!(invalid_field(b().subject("Zähler").build()), "subject"); // ASCII charset
    assert!(b().charset(Charset::Utf8).subject("Zähler").build().is_ok());
}

#[test]
fn body_may_have_lines_but_not_module_controls() {
    let b = || {
        Email::builder()
            .from("a@example.com", None)
            .to("b@example.com", None)
    };
    assert!(b().body("line 1\r\nline 2\r\n").build().is_ok());
    assert_eq!(invalid_field(b().body("end\u{1a}").build()), "body");
    assert_eq!(invalid_field(b().body("nul\0").build()), "body");
}

#[test]
fn attachment_names_are_plain_file_names() {
    let b = || {
        Email::builder()
            .from("a@example.com", None)
            .to("b@example.com", None)
    };
    let bad = Attachment::from_bytes("../etc/passwd", b"x".to_vec());
    assert_eq!(
        invalid_field(b().attach(bad).build()),
        "attachments[0].name"
    );
    let empty = Attachment::from_bytes("", b"x".to_vec());
    assert_eq!(
        invalid_field(b().attach(empty).build()),
        "attachments[0].name"
    );
}

#[test]
fn host_files_are_measured_not_read() {
    let dir = std::env::temp_dir().join(format!("cellmail-builder-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("log.txt");
    std::fs::write(&path, vec![b'x'; 4096]).unwrap();
    let a = Attachment::from_file(&path).unwrap();
    assert_eq!((a.name(), a.size()), ("log.txt", Some(4096)));
    let missing = Attachment::from_file(dir.join("missing")).unwrap_err();
    assert!(
        matches!(&missing, MailError::Invalid { field, reason, .. }
            if field == "attachment" && reason.contains("missing")),
        "{missing:?}"
    );
    assert!(
        !missing.is_transient(),
        "a missing file does not come back by retrying"
    );
    let not_found = MailError::Io(std::io::Error::from(std::io::ErrorKind::NotFound));
    assert!(!not_found.is_transient());
    let broken_pipe = MailError::Io(std::io::Error::from(std::io::ErrorKind::BrokenPipe));
    assert!(broken_pipe.is_transient());
    std::fs::remove_dir_all(&dir).unwrap();
}

fn hostile() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("\"".to_string()),
        Just("\r\n".to_string()),
        Just("\u{1a}".to_string()),
        Just("\u{1b}".to_string()),
        Just("\0".to_string()),
        Just("+++".to_string()),
        Just("é".to_string()),
        Just("AT+QSMTPPUT".to_string()),
        "[a-zA-Z0-9 ,.]{0,8}",
    ];
    proptest::collection::vec(piece, 0..6).prop_map(|v| v.concat())
}

proptest! {
    /// For any hostile subject, name and body: the builder or `validate`
    /// refuses it naming a field, or every quoted field is encodable.
    #[test]
    fn hostile_strings_are_refused_or_safe(subject in hostile(), name in hostile(), body in hostile(), utf8 in any::<bool>()) {
        let caps = cellmail::capabilities::example();
        let built = Email::builder()
            .from("a@example.com", Some(&name))
            .to("b@example.com", None)
            .subject(subject.clone())
            .body(body.clone())
            .charset(if utf8 { Charset::Utf8 } else { Charset::Ascii })
            .build();
        let checked = built.and_then(|e| validate(&e, &caps).map(|()| e));
        match checked {
            Ok(e) => {
                prop_assert!(cellmail_at::command::check_string("name", e.sender().name.as_deref().unwrap_or("")).is_ok());
                // Raw text must fit an AT string; hex (a mail whose charset
                // is not ASCII, on a hex family) carries any byte.
                let hexed = e.charset() != Charset::Ascii
                    && caps.subject_encoding == cellmail::TextEncoding::Hex;
                if e.subject().is_ascii() && !hexed {
                    prop_assert!(cellmail_at::command::check_string("subject", e.subject()).is_ok());
                }
                let controls = ['\0', '\u{1a}', '\u{1b}'];
                prop_assert!(!e.body().contains(controls), "body holds a control");
            }
            Err(MailError::Invalid { field, .. }) => {
                prop_assert!(["from.name", "subject", "body"].contains(&field.as_str()), "field {}", field);
            }
            Err(MailError::Unsupported { .. }) => {}
            Err(other) => prop_assert!(false, "unexpected {:?}", other),
        }
    }
}

fn in_charset(charset: Charset, subject: &str, body: &str) -> Result<Email, MailError> {
    Email::builder()
        .from("a@example.com", None)
        .to("b@example.com", None)
        .charset(charset)
        .subject(subject)
        .body(body)
        .build()
}

#[test]
fn gb2312_and_big5_text_goes_in_its_charset() {
    let email = in_charset(Charset::Gb2312, "电表", "读数 42").unwrap();
    assert_eq!(*email.subject_bytes(), [0xB5, 0xE7, 0xB1, 0xED]);
    assert_eq!(
        *email.body_bytes(),
        [0xB6, 0xC1, 0xCA, 0xFD, b' ', b'4', b'2']
    );
    let email = in_charset(Charset::Big5, "電表", "").unwrap();
    assert_eq!(*email.subject_bytes(), [0xB9, 0x71, 0xAA, 0xED]);
    // UTF-8 and ASCII go as they are.
    let email = in_charset(Charset::Utf8, "Zähler", "m³").unwrap();
    assert_eq!(*email.subject_bytes(), *"Zähler".as_bytes());
    assert_eq!(*email.body_bytes(), *"m³".as_bytes());
}

#[test]
fn text_a_charset_cannot_hold_is_refused_naming_the_field() {
    // A check mark is in neither; 丂 is GBK but not GB2312; 電 is traditional only.
    assert_eq!(
        invalid_field(in_charset(Charset::Gb2312, "✓", "")),
        "subject"
    );
    assert_eq!(invalid_field(in_charset(Charset::Gb2312, "", "丂")), "body");
    assert_eq!(
        invalid_field(in_charset(Charset::Gb2312, "電", "")),
        "subject"
    );
    assert_eq!(invalid_field(in_charset(Charset::Big5, "", "✓")), "body");
    assert_eq!(invalid_field(in_charset(Charset::Ascii, "", "m³")), "body");
}
