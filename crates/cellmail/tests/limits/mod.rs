//! Every limit of a `Capabilities` checked by `validate` at, below and above
//! its bound. Shared by the facade's tests (capabilities written against the
//! API) and the suite's `tests/dialect_limits.rs` (the dialects' own values).

use cellmail::{
    Attachment, Auth, Capabilities, Charset, Email, EmailBuilder, MailError, Secret, ServerAddr,
    SmtpAccount, TextEncoding, TlsSettings, validate, validate_smtp_account,
};

fn address_of_len(n: usize) -> String {
    let mut domain = String::from("com");
    while domain.len() < n - 2 {
        let label = (n - 2 - domain.len() - 1).min(60);
        if label == 0 {
            domain.insert(0, 'x');
        } else {
            domain = format!("{}.{domain}", "x".repeat(label));
        }
    }
    let address = format!("a@{domain}");
    assert_eq!(address.len(), n);
    address
}

pub fn base() -> EmailBuilder {
    Email::builder()
        .from("meter@example.com", Some("Meter"))
        .to("ops@example.com", None)
}

fn field_of(result: Result<(), MailError>) -> String {
    match result {
        Err(MailError::Invalid { field, reason, .. }) => {
            assert!(
                reason.contains("at most"),
                "reason names the limit: {reason}"
            );
            field
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
}

/// Builds an e-mail whose measured quantity is `n`, validates it, and checks
/// `n = max - 1` and `n = max` pass and `n = max + 1` fails on `field`.
fn bound(caps: &Capabilities, max: usize, field: &str, make: impl Fn(usize) -> Email) {
    for n in [max.saturating_sub(1), max] {
        assert!(
            validate(&make(n), caps).is_ok(),
            "{} {field}: {n} should pass",
            caps.family
        );
    }
    assert_eq!(
        field_of(validate(&make(max + 1), caps)),
        field,
        "{} {field}: {} should fail",
        caps.family,
        max + 1
    );
}

pub fn check_all_limits(caps: &Capabilities) {
    let l = caps.limits.clone();
    bound(caps, l.subject_ascii, "subject", |n| {
        base().subject("s".repeat(n)).build().unwrap()
    });
    if caps.charsets.contains(&Charset::Utf8) {
        let per_char = match caps.subject_encoding {
            TextEncoding::Hex => 4, // "é" is 2 bytes, 4 hex digits
            TextEncoding::Raw => 2,
        };
        let max_chars = l.subject_encoded / per_char;
        for n in [max_chars - 1, max_chars] {
            let e = base()
                .charset(Charset::Utf8)
                .subject("é".repeat(n))
                .build()
                .unwrap();
            assert!(validate(&e, caps).is_ok(), "{}: {n} é subject", caps.family);
        }
        let e = base()
            .charset(Charset::Utf8)
            .subject("é".repeat(max_chars + 1))
            .build()
            .unwrap();
        assert_eq!(field_of(validate(&e, caps)), "subject");
    }
    bound(caps, l.body, "body", |n| {
        base().body("b".repeat(n)).build().unwrap()
    });
    // ASCII text in a mail whose charset is not ASCII: a hex family sends
    // every byte as two digits (issue 14 §3), a raw one as it is.
    if caps.charsets.contains(&Charset::Utf8) {
        let (subject_max, body_max) = match (caps.subject_encoding, caps.body_encoding) {
            (TextEncoding::Hex, TextEncoding::Hex) => (l.subject_encoded / 2, l.body / 2),
            (TextEncoding::Hex, TextEncoding::Raw) => (l.subject_encoded / 2, l.body),
            (TextEncoding::Raw, TextEncoding::Hex) => (l.subject_ascii, l.body / 2),
            (TextEncoding::Raw, TextEncoding::Raw) => (l.subject_ascii, l.body),
        };
        bound(caps, subject_max, "subject", |n| {
            base()
                .charset(Charset::Utf8)
                .subject("s".repeat(n))
                .build()
                .unwrap()
        });
        bound(caps, body_max, "body", |n| {
            base()
                .charset(Charset::Utf8)
                .body("b".repeat(n))
                .build()
                .unwrap()
        });
    }
    if caps.body_encoding == TextEncoding::Hex && caps.charsets.contains(&Charset::Utf8) {
        // Each "é" is 2 bytes, 4 hex digits on the wire.
        let e = base()
            .charset(Charset::Utf8)
            .body("é".repeat(l.body / 4))
            .build()
            .unwrap();
        assert!(validate(&e, caps).is_ok());
        let e = base()
            .charset(Charset::Utf8)
            .body("é".repeat(l.body / 4 + 1))
            .build()
            .unwrap();
        assert_eq!(field_of(validate(&e, caps)), "body");
    }
    bound(caps, l.recipients, "recipients", |n| {
        let kinds = [
            cellmail::RecipientKind::To,
            cellmail::RecipientKind::Cc,
            cellmail::RecipientKind::Bcc,
        ];
        let mut b = Email::builder().from("meter@example.com", None);
        for i in 0..n.max(1) {
            b = b.recipient(kinds[i % 3], &format!("r{i}@example.com"), None);
        }
        b.build().unwrap()
    });
    if let Some(per_kind) = l.recipients_per_kind {
        bound(caps, per_kind, "cc", |n| {
            let mut b = base();
            for i in 0..n {
                b = b.cc(&format!("c{i}@example.com"), None);
            }
            b.build().unwrap()
        });
    }
    bound(caps, l.address, "to[0]", |n| {
        Email::builder()
            .from("m@example.com", None)
            .to(&address_of_len(n), None)
            .build()
            .unwrap()
    });
    bound(caps, l.name, "from.name", |n| {
        Email::builder()
            .from("m@example.com", Some(&"n".repeat(n)))
            .to("o@example.com", None)
            .build()
            .unwrap()
    });
    let source = |i: usize, size: usize| -> Attachment {
        if caps.attachment_sources.memory {
            Attachment::from_bytes(format!("f{i}.bin"), vec![0u8; size])
        } else {
            Attachment::from_module(&format!("C:/Picture/f{i}.jpg")).unwrap()
        }
    };
    bound(caps, l.attachments, "attachments", |n| {
        (0..n)
            .fold(base(), |b, i| b.attach(source(i, 1)))
            .build()
            .unwrap()
    });
    bound(caps, l.attachment_name, "attachments[0].name", |n| {
        let a = if caps.attachment_sources.memory {
            Attachment::from_bytes("x".repeat(n), vec![1u8])
        } else {
            Attachment::from_module(&format!("C:/{}", "x".repeat(n))).unwrap()
        };
        base().attach(a).build().unwrap()
    });
    if caps.attachment_sources.memory && l.attachment_bytes_serial < u64::MAX {
        let max = usize::try_from(l.attachment_bytes_serial).unwrap();
        bound(caps, max, "attachments", |n| {
            base().attach(source(0, n)).build().unwrap()
        });
    }
    let account = |user: usize, password: usize| SmtpAccount {
        server: ServerAddr::new("smtp.example.com", 25),
        auth: Auth::Login {
            user: "u".repeat(user),
            password: Secret::new("p".repeat(password)),
        },
        tls: TlsSettings::default(),
    };
    for (n, ok) in [(l.user - 1, true), (l.user, true), (l.user + 1, false)] {
        assert_eq!(
            validate_smtp_account(&account(n, 1), caps).is_ok(),
            ok,
            "user {n}"
        );
    }
    for (n, ok) in [
        (l.password - 1, true),
        (l.password, true),
        (l.password + 1, false),
    ] {
        let r = validate_smtp_account(&account(1, n), caps);
        assert_eq!(r.is_ok(), ok, "password {n}");
        if let Err(e) = r {
            assert!(
                !e.to_string().contains("ppp"),
                "the password leaked into {e}"
            );
        }
    }
}
