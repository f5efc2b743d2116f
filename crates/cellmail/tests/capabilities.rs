//! The three module families' capabilities written against this API, and every
//! limit checked by `validate` below, at and above its bound.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod limits;
use limits::{base, check_all_limits};

use cellmail::{
    Attachment, AttachmentSources, Auth, Capabilities, Charset, Email, Limits, MailError,
    ServerAddr, SmtpAccount, Storage, TextEncoding, TlsMode, TlsSettings, validate,
    validate_smtp_account,
};

/// Quectel GSM (M10/M66/M85/M95), from GSM_SMTP_ATC_V1.1 §2.2 and the SMTPS note.
fn quectel() -> Capabilities {
    Capabilities {
        family: "quectel-gsm",
        smtp: true,
        pop3: false,
        smtp_tls: vec![TlsMode::None, TlsMode::Implicit, TlsMode::StartTls],
        pop3_tls: vec![],
        tls_verify: true,
        tls_versions: vec![cellmail::TlsVersion::Tls1_2],
        charsets: vec![
            Charset::Ascii,
            Charset::Utf8,
            Charset::Gb2312,
            Charset::Big5,
        ],
        subject_encoding: TextEncoding::Hex,
        body_encoding: TextEncoding::Raw,
        attachment_sources: AttachmentSources {
            memory: true,
            host_file: true,
            module_file: true,
        },
        storages: vec![Storage::Ram, Storage::Ufs, Storage::Sd],
        recipient_names: false,
        body_forbids: vec!["+++"],
        body_transport: cellmail::BodyTransport::DataMode,
        bearer_login: true,
        limits: Limits {
            recipients: 20,            // §2.2.6 "The maximum number of the recipients is 20"
            recipients_per_kind: None, //
            address: 100,
            name: 100,
            subject_ascii: 100,               // §2.2.7 0-100 ASCII
            subject_encoded: 200,             // §2.2.7 0-200 hex characters otherwise
            body: 10 * 1024, // §2.2.8 "maximum size of the email body is 10 Kbytes"
            attachments: 10, // §2.2.9 note 2
            attachment_bytes_serial: 102_400, // §2.2.9 <filesz> 0-102400, note 3
            attachment_bytes_total: None,
            attachment_name: 100,
            user: 50,     // §2.2.1
            password: 50, // §2.2.2
            server: 100,
            send_timeout_secs: Some(100..=48_000), // §2.2.13
        },
    }
}

/// SIMCom SIM5360, from the SIM5360 e-mail application note §1.
fn sim5360() -> Capabilities {
    Capabilities {
        family: "sim5360",
        smtp: true,
        pop3: true,
        smtp_tls: vec![TlsMode::None],
        pop3_tls: vec![TlsMode::None],
        tls_verify: false,
        tls_versions: vec![],
        charsets: vec![Charset::Ascii],
        subject_encoding: TextEncoding::Raw,
        body_encoding: TextEncoding::Raw,
        attachment_sources: AttachmentSources {
            memory: false,
            host_file: false,
            module_file: true,
        },
        storages: vec![Storage::Drive('C'), Storage::Drive('D')],
        recipient_names: true,
        body_forbids: vec![],
        body_transport: cellmail::BodyTransport::DataMode,
        bearer_login: false,
        limits: Limits {
            recipients: 30,
            recipients_per_kind: Some(10),
            address: 128,
            name: 64,
            subject_ascii: 512, // "up to 512 characters"
            subject_encoded: 512,
            body: 5120, // "up to 5120 characters"
            attachments: 10,
            attachment_bytes_serial: 0,
            attachment_bytes_total: Some(10 * 1024 * 1024), // "total size up to 10MB"
            attachment_name: 128,
            user: 64,
            password: 64,
            server: 128,
            send_timeout_secs: None,
        },
    }
}

/// SIMCom SIM7000 (and SIM800 family): the manual has the module report its
/// lengths in the test forms (`AT+SMTPSUB=?` → `+SMTPSUB: <subjectLength>`);
/// these are the values the dialect starts from.
fn sim7000() -> Capabilities {
    Capabilities {
        family: "sim7000",
        smtp: true,
        pop3: true,
        smtp_tls: vec![TlsMode::None],
        pop3_tls: vec![TlsMode::None],
        tls_verify: false,
        tls_versions: vec![],
        charsets: vec![
            Charset::Ascii,
            Charset::Utf8,
            Charset::Gb2312,
            Charset::Big5,
        ],
        subject_encoding: TextEncoding::Raw,
        body_encoding: TextEncoding::Hex,
        attachment_sources: AttachmentSources {
            memory: true,
            host_file: true,
            module_file: false,
        },
        storages: vec![],
        recipient_names: true,
        body_forbids: vec![],
        body_transport: cellmail::BodyTransport::DataMode,
        bearer_login: false,
        limits: Limits {
            recipients: 15,
            recipients_per_kind: Some(5),
            address: 50,
            name: 50,
            subject_ascii: 50,
            subject_encoded: 50,
            body: 4096,
            attachments: 3,
            attachment_bytes_serial: u64::MAX,
            attachment_bytes_total: None,
            attachment_name: 50,
            user: 50,
            password: 50,
            server: 50,
            send_timeout_secs: Some(10..=120),
        },
    }
}

/// A valid address of exactly `n` bytes: `a@` and a domain of 60-byte labels.
#[test]
fn quectel_limits() {
    check_all_limits(&quectel());
}

#[test]
fn sim5360_limits() {
    check_all_limits(&sim5360());
}

#[test]
fn sim7000_limits() {
    check_all_limits(&sim7000());
}

#[test]
fn quectel_body_cannot_hold_the_escape_sequence() {
    let e = base().body("reading: 1\r\n+++\r\n").build().unwrap();
    assert_eq!(field_of_any(validate(&e, &quectel())), "body");
}

fn field_of_any(r: Result<(), MailError>) -> String {
    match r {
        Err(MailError::Invalid { field, .. }) => field,
        other => panic!("{other:?}"),
    }
}

#[test]
fn unsupported_features_are_named() {
    let tls = SmtpAccount {
        server: ServerAddr::new("smtp.example.com", 465),
        auth: Auth::None,
        tls: TlsSettings {
            mode: TlsMode::Implicit,
            ..Default::default()
        },
    };
    assert!(
        matches!(validate_smtp_account(&tls, &sim5360()), Err(MailError::Unsupported { feature }) if feature.contains("Implicit"))
    );
    let from_memory = base()
        .attach(Attachment::from_bytes("a.txt", b"x".to_vec()))
        .build()
        .unwrap();
    assert!(
        matches!(validate(&from_memory, &sim5360()), Err(MailError::Unsupported { feature }) if feature.contains("memory"))
    );
    let utf8 = base().charset(Charset::Utf8).subject("é").build().unwrap();
    assert!(
        matches!(validate(&utf8, &sim5360()), Err(MailError::Unsupported { feature }) if feature.contains("utf-8"))
    );
    let ram = base()
        .attach(Attachment::from_module("RAM:a.jpg").unwrap())
        .build()
        .unwrap();
    assert!(matches!(
        validate(&ram, &sim5360()),
        Err(MailError::Unsupported { .. })
    ));
    assert!(validate(&ram, &quectel()).is_ok());
}

#[test]
fn quotes_cannot_go_into_quoted_fields() {
    let e = base().subject("say \"hi\"").build().unwrap();
    assert_eq!(field_of_any(validate(&e, &quectel())), "subject");
    // Hex-encoded non-ASCII subjects can carry a quote.
    let e = base()
        .charset(Charset::Utf8)
        .subject("«say \"hi\"»")
        .build()
        .unwrap();
    assert!(validate(&e, &quectel()).is_ok());
    let e = Email::builder()
        .from("m@example.com", Some("The \"Meter\""))
        .to("o@example.com", None)
        .build()
        .unwrap();
    assert_eq!(field_of_any(validate(&e, &quectel())), "from.name");
}
