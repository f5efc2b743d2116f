//! The gate for accounts, the bearer, serial settings and message numbers:
//! one table per check, each row an input and the field the refusal names
//! (`None`: accepted). Refusals are permanent and never show a password.

use cellmail::{
    APN_MAX, Auth, Bearer, MailError, MailboxStat, Pop3Account, Secret, ServerAddr, SmtpAccount,
    validate_bearer, validate_message_id, validate_pop3_account, validate_serial,
    validate_smtp_account,
};

/// The field an `Invalid` names, `None` for `Ok`; anything else fails.
fn field(result: Result<(), MailError>) -> Option<String> {
    match result {
        Ok(()) => None,
        Err(MailError::Invalid { field, reason, .. }) => {
            assert!(!reason.is_empty());
            let e = MailError::invalid(field.clone(), reason);
            assert!(!e.is_transient(), "{e}");
            Some(field)
        }
        Err(other) => panic!("not Invalid: {other:?}"),
    }
}

fn smtp(host: &str, port: u16, auth: Auth) -> SmtpAccount {
    SmtpAccount {
        server: ServerAddr::new(host, port),
        auth,
        tls: Default::default(),
    }
}

fn login(user: &str, password: &str) -> Auth {
    Auth::Login {
        user: user.into(),
        password: Secret::new(password),
    }
}

#[test]
fn smtp_accounts() {
    let caps = cellmail::capabilities::example();
    let long_host = format!("{}.example.com", "a".repeat(caps.limits.server));
    let cases: Vec<(SmtpAccount, Option<&str>)> = vec![
        (smtp("smtp.example.com", 25, Auth::None), None),
        (smtp("127.0.0.1", 2525, login("meter-17", "s3cret")), None),
        (smtp("", 25, Auth::None), Some("server host")),
        (smtp(&long_host, 25, Auth::None), Some("server host")),
        (
            smtp("smtp example.com", 25, Auth::None),
            Some("server host"),
        ),
        (
            smtp("smtp.exämple.com", 25, Auth::None),
            Some("server host"),
        ),
        (
            smtp("smtp.example.com\"", 25, Auth::None),
            Some("server host"),
        ),
        (
            smtp("smtp.example.com\r", 25, Auth::None),
            Some("server host"),
        ),
        (smtp("smtp.example.com", 0, Auth::None), Some("server port")),
        (
            smtp("smtp.example.com", 25, login("", "s3cret")),
            Some("user"),
        ),
        (
            smtp("smtp.example.com", 25, login("me\"", "s3cret")),
            Some("user"),
        ),
        (
            smtp("smtp.example.com", 25, login("me\n", "s3cret")),
            Some("user"),
        ),
        (
            smtp("smtp.example.com", 25, login("me", "s3\r\ncret")),
            Some("password"),
        ),
        (
            smtp("smtp.example.com", 25, login("me", "s3\"cret")),
            Some("password"),
        ),
    ];
    for (account, want) in cases {
        let got = validate_smtp_account(&account, &caps);
        if let Err(e) = &got {
            assert!(!e.to_string().contains("s3"), "{e}");
        }
        assert_eq!(field(got).as_deref(), want, "{account:?}");
    }
}

#[test]
fn pop3_accounts() {
    let caps = cellmail::capabilities::example();
    let pop3 = |host: &str, port, user: &str, password: &str| Pop3Account {
        server: ServerAddr::new(host, port),
        user: user.into(),
        password: Secret::new(password),
        tls: Default::default(),
    };
    let cases = [
        (pop3("pop.example.com", 110, "meter-17", "s3cret"), None),
        (pop3("", 110, "meter-17", "s3cret"), Some("server host")),
        (
            pop3("pop.example.com", 0, "meter-17", "s3cret"),
            Some("server port"),
        ),
        (pop3("pop.example.com", 110, "", "s3cret"), Some("user")),
        (pop3("pop.example.com", 110, "me\r", "s3cret"), Some("user")),
        (
            pop3("pop.example.com", 110, "me", "s3\x1acret"),
            Some("password"),
        ),
    ];
    for (account, want) in cases {
        assert_eq!(
            field(validate_pop3_account(&account, &caps)).as_deref(),
            want,
            "{account:?}"
        );
    }
}

#[test]
fn bearers() {
    let bearer = |apn: &str, user: Option<&str>, password: Option<&str>| Bearer {
        apn: apn.into(),
        user: user.map(Into::into),
        password: password.map(Secret::new),
    };
    let longest = "a".repeat(APN_MAX);
    let too_long = "a".repeat(APN_MAX + 1);
    let cases = [
        (bearer("internet", None, None), None),
        (bearer("internet.m2m", Some("m2m"), Some("apn-pass")), None),
        (bearer("CMNET", Some(""), None), None),
        (bearer(&longest, None, None), None),
        (bearer("", None, None), Some("apn")),
        (bearer(&too_long, None, None), Some("apn")),
        (bearer("inter\"net", None, None), Some("apn")),
        (bearer("internet\r", None, None), Some("apn")),
        (bearer("internet\n", None, None), Some("apn")),
        (bearer("internet ", None, None), Some("apn")),
        (bearer("intérnet", None, None), Some("apn")),
        (bearer("internet", Some("m2m\""), None), Some("bearer user")),
        (
            bearer("internet", Some("m2m"), Some("apn\rpass")),
            Some("bearer password"),
        ),
        (
            bearer("internet", None, Some("apn-pass")),
            Some("bearer password"),
        ),
    ];
    let caps = cellmail::capabilities::example();
    for (b, want) in cases {
        let got = validate_bearer(&b, &caps);
        if let Err(e) = &got {
            assert!(!e.to_string().contains("apn-pass"), "{e}");
        }
        assert_eq!(field(got).as_deref(), want, "{b:?}");
    }
}

/// A module whose dialect sets the APN alone refuses a login, naming the
/// family, rather than dropping it; an APN alone or an empty user passes.
#[test]
fn bearer_logins_need_a_dialect_that_sets_them() {
    let apn_only = cellmail::Capabilities {
        bearer_login: false,
        ..cellmail::capabilities::example()
    };
    let pap = Bearer {
        user: Some("m2m".into()),
        password: Some(Secret::new("apn-pass")),
        ..Bearer::new("internet")
    };
    match validate_bearer(&pap, &apn_only) {
        Err(e @ MailError::Unsupported { .. }) => {
            assert!(e.to_string().contains("example"), "{e}");
            assert!(!format!("{e} {e:?}").contains("apn-pass"));
            assert!(!e.is_transient());
        }
        other => panic!("{other:?}"),
    }
    for ok in [
        Bearer::new("internet"),
        Bearer {
            user: Some(String::new()),
            ..Bearer::new("CMNET")
        },
    ] {
        assert!(validate_bearer(&ok, &apn_only).is_ok(), "{ok:?}");
    }
}

#[test]
fn message_ids() {
    let stat = |count| MailboxStat {
        count,
        total_size: 0,
    };
    let cases = [
        (1, stat(3), None),
        (3, stat(3), None),
        (0, stat(3), Some("0: POP3 numbers messages from 1")),
        (
            4,
            stat(3),
            Some("4: the mailbox holds 3 messages, numbered 1 to 3"),
        ),
        (
            2,
            stat(1),
            Some("2: the mailbox holds 1 message, numbered 1"),
        ),
        (1, stat(0), Some("1: the mailbox is empty")),
        (
            9999,
            stat(2),
            Some("9999: the mailbox holds 2 messages, numbered 1 to 2"),
        ),
    ];
    for (id, stat, want) in cases {
        match (validate_message_id(id, &stat), want) {
            (Ok(()), None) => {}
            (Err(MailError::Invalid { field, reason, .. }), Some(want)) => {
                assert_eq!((field.as_str(), reason.as_str()), ("message id", want));
            }
            (got, want) => panic!("{id} of {}: {got:?}, want {want:?}", stat.count),
        }
    }
}

#[test]
fn serial_settings() {
    let cases = [
        ("/dev/ttyUSB2", 115_200, None),
        ("COM7", 9_600, None),
        ("/dev/ttyUSB2", 0, Some("baud")),
        ("", 115_200, Some("serial port")),
    ];
    for (path, baud, want) in cases {
        assert_eq!(
            field(validate_serial(path, baud)).as_deref(),
            want,
            "{path} {baud}"
        );
    }
}

#[test]
fn tls_versions_the_module_does_not_speak_are_unsupported() {
    use cellmail::{Capabilities, TlsMode, TlsSettings, TlsVersion};
    // A module like the SIM800: TLS 1.0 only, implicit and STARTTLS.
    let caps = Capabilities {
        smtp_tls: vec![TlsMode::None, TlsMode::Implicit, TlsMode::StartTls],
        pop3_tls: vec![TlsMode::None, TlsMode::Implicit, TlsMode::StartTls],
        tls_versions: vec![TlsVersion::Tls1_0],
        ..cellmail::capabilities::example()
    };
    let with = |mode, version| SmtpAccount {
        tls: TlsSettings {
            mode,
            version,
            ..Default::default()
        },
        ..smtp("smtp.example.com", 465, Auth::None)
    };
    for (mode, version, refused) in [
        (TlsMode::Implicit, TlsVersion::Any, None),
        (TlsMode::StartTls, TlsVersion::Tls1_0, None),
        (
            TlsMode::Implicit,
            TlsVersion::Tls1_2,
            Some("smtp: TLS version TLS 1.2"),
        ),
        (
            TlsMode::StartTls,
            TlsVersion::Ssl3,
            Some("smtp: TLS version SSL 3.0"),
        ),
        // Plain: the version is not used.
        (TlsMode::None, TlsVersion::Tls1_2, None),
    ] {
        match (validate_smtp_account(&with(mode, version), &caps), refused) {
            (Ok(()), None) => {}
            (Err(MailError::Unsupported { feature }), Some(f)) => assert_eq!(feature, f),
            (got, want) => panic!("{mode:?} {version:?}: {got:?}, wanted {want:?}"),
        }
    }
    let pop3 = Pop3Account {
        server: ServerAddr::new("pop.example.com", 995),
        user: "u".into(),
        password: Secret::new("p"),
        tls: TlsSettings {
            mode: TlsMode::Implicit,
            version: TlsVersion::Tls1_1,
            ..Default::default()
        },
    };
    assert!(matches!(
        validate_pop3_account(&pop3, &caps),
        Err(MailError::Unsupported { ref feature }) if feature == "pop3: TLS version TLS 1.1"
    ));
}
