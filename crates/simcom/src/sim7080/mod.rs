//! SIM7070/SIM7080/SIM7090: the SIM7000 note's e-mail commands (the
//! SIM7080 e-mail note is the same chapter line for line, spec §5) on
//! another bearer (`AT+CNCFG`/`AT+CNACT` instead of `AT+SAPBR`), with TLS
//! through the four-parameter `AT+EMAILSSL` over an `AT+CSSLCFG` context
//! and CA certificates written with `AT+CFSWFILE` and converted.
//!
//! It runs on [`Sim7000Mailer`](crate::Sim7000Mailer) with
//! [`Model::Sim7080`](crate::sim7000::Model::Sim7080): what is shared lives
//! there once, what differs is here ([`commands`], [`plan`]). The facts and
//! their sources: `../shared/specs/simcom-emailssl.md` (\[AT7080\] SIM7070/
//! SIM7080/SIM7090 AT Command Manual V1.05 ch. 7, 9, 11, 21; \[EM7080\] e-mail
//! note V1.02; \[SSL7080\] SSL note V1.00).

pub mod commands;
pub mod plan;

use cellmail::{Capabilities, Charset, Limits, TlsMode, TlsVersion};

/// The models of this family (`AT+CGMM`).
pub const MODELS: [&str; 3] = ["SIM7070", "SIM7080", "SIM7090"];

/// The `AT+EMAILCID` / `AT+CNACT` contexts: 0-3 (`+EMAILCID: (0-3)`).
pub const CONTEXTS: std::ops::RangeInclusive<u8> = 0..=3;

/// The `AT+CSSLCFG` SSL contexts: 0-5.
pub const SSL_CONTEXTS: std::ops::RangeInclusive<u8> = 0..=5;

/// The SIM7080's capabilities: SMTP plain, implicit TLS and STARTTLS, POP3
/// plain and implicit TLS ("startSSL ... only SMTP have", \[AT7080\]
/// §21.2.23), TLS 1.0-1.2, server certificates checked against a CA the
/// host gives. The lengths are the test forms' examples in \[AT7080\] ch. 21
/// (spec §5): server 64, user and password 64, sender 48/48, recipients
/// `(0-4)` of each kind with 48/48, subject 512, body 4096, file name 100,
/// charset 20; like the SIM7000's they are asked from the module
/// ([`Lengths`](crate::sim7000::Lengths)) and these stand until it answers.
///
/// ```
/// use cellmail::TlsMode;
/// let caps = cellmail_simcom::sim7080::capabilities();
/// assert!(caps.smtp_tls.contains(&TlsMode::StartTls));
/// assert!(!caps.pop3_tls.contains(&TlsMode::StartTls));
/// assert_eq!(caps.limits.recipients_per_kind, Some(5));
/// ```
pub fn capabilities() -> Capabilities {
    let mut caps = crate::sim7000::capabilities();
    caps.smtp_tls = vec![TlsMode::None, TlsMode::Implicit, TlsMode::StartTls];
    caps.pop3_tls = vec![TlsMode::None, TlsMode::Implicit];
    caps.tls_verify = true;
    caps.tls_versions = vec![TlsVersion::Tls1_0, TlsVersion::Tls1_1, TlsVersion::Tls1_2];
    caps.charsets = vec![Charset::Ascii, Charset::Utf8];
    caps.limits = Limits {
        recipients: 15,
        recipients_per_kind: Some(5),
        address: 48,
        name: 48,
        subject_ascii: 512,
        subject_encoded: 512,
        body: 4096,
        attachment_name: 100,
        user: 64,
        password: 64,
        server: 64,
        ..caps.limits
    };
    caps
}
