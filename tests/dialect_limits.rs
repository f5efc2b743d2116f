//! The dialects' own `Capabilities`, as their mailers validate with: every
//! limit checked by `validate` at, below and above its bound (the facade's
//! tests check the same rules on capabilities written against the API).

#![allow(clippy::unwrap_used, missing_docs)] // a failed unwrap is a failed test

#[path = "../crates/cellmail/tests/limits/mod.rs"]
mod limits;

use cellmail::{Charset, MailError, validate};
use limits::{base, check_all_limits};

#[test]
fn quectel_gsm_limits() {
    let caps = cellmail_quectel::capabilities();
    assert_eq!(caps.limits.recipients, 20, "GSM_SMTP_ATC §2.2.6");
    assert_eq!(caps.limits.body, 10 * 1024, "§2.2.8");
    assert_eq!(caps.limits.attachments, 10, "§2.2.9 note 2");
    // Through RAM files (the default): the RAM budget, no manual's figure.
    assert_eq!(caps.limits.attachment_bytes_serial, 512 * 1024);
    assert_eq!((caps.limits.user, caps.limits.password), (50, 50));
    check_all_limits(&caps);
    // Through the UART's sized form: 100 KB in all.
    let uart = cellmail_quectel::capabilities_for(&cellmail_quectel::QuectelOptions {
        attachment_route: cellmail_quectel::AttachmentRoute::UartSized,
        ..Default::default()
    });
    assert_eq!(
        uart.limits.attachment_bytes_serial, 102_400,
        "§2.2.9 note 3"
    );
    check_all_limits(&uart);
}

#[test]
fn sim7000_limits() {
    check_all_limits(&cellmail_simcom::sim7000::capabilities());
}

#[test]
fn sim5360_limits() {
    let caps = cellmail_simcom::sim5360::capabilities();
    assert_eq!(caps.limits.subject_ascii, 512, "SIM5360 note: subject 512");
    assert_eq!(caps.limits.body, 5120, "SIM5360 note: body 5120");
    assert_eq!(caps.limits.attachments, 10, "SIM5360 note: 10 attachments");
    check_all_limits(&caps);
}

/// A charset a family does not list is refused before any byte is sent.
#[test]
fn unlisted_charsets_are_unsupported() {
    // The SIMCom notes name ASCII and UTF-8 only (SIM7000 AT+SMTPCS; SIM5360 §1).
    for caps in [
        cellmail_simcom::sim7000::capabilities(),
        cellmail_simcom::sim5360::capabilities(),
    ] {
        assert!(!caps.charsets.contains(&Charset::Big5), "{}", caps.family);
        let email = base().charset(Charset::Big5).subject("中").build().unwrap();
        assert!(
            matches!(validate(&email, &caps), Err(MailError::Unsupported { .. })),
            "{}",
            caps.family
        );
    }
}

/// A SIM5360 has no data mode: a refused body says what the module takes
/// (one line, no double quotes), not that a data mode would end.
#[test]
fn sim5360_body_refusals_say_one_line_no_double_quotes() {
    let caps = cellmail_simcom::sim5360::capabilities();
    for body in ["say \"hi\"", "one\r\ntwo", "one\ntwo"] {
        let email = base().body(body).build().unwrap();
        let e = validate(&email, &caps).unwrap_err();
        let text = e.to_string();
        assert!(
            matches!(&e, MailError::Invalid { field, .. } if field == "body")
                && text.contains("one line, no double quotes")
                && !text.contains("ends the module's data mode"),
            "{body:?}: {text}"
        );
    }
    let quectel = cellmail_quectel::capabilities();
    let e = validate(&base().body("a+++b").build().unwrap(), &quectel).unwrap_err();
    assert!(e.to_string().contains("ends the module's data mode"), "{e}");
}
