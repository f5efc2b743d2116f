//! The SIMCom A76xx family (A7670, A7672, A7682, A7608, A7678...: the
//! modules sold today on most boards): SMTP, plain or over TLS, with the
//! `AT+CSMTPS*` commands of chapter 32 of the *A76XX Series AT Command Manual
//! V1.09*; attachments uploaded to the module's file system first with
//! `AT+CFTRANRX`. The chapter has no POP3.
//!
//! The manual's note (§32.1): "Currently, only ASR1603 and ASR1803S support
//! SMTPS." Which part numbers carry those chips it does not say; a module
//! whose firmware lacks the command set answers `AT+CSMTPSSRV=?` with
//! `ERROR`, and the mailer then reports `Unsupported` with that reason before
//! sending anything.

pub mod codes;
pub mod commands;
mod mailer;
pub mod plan;
pub mod setup;

pub use mailer::{A76xxMailer, A76xxOptions, Session, no_smtps};

use cellmail::{
    AttachmentSources, Capabilities, Charset, Dialect, Limits, ModuleInfo, Storage, TextEncoding,
    TlsMode,
};
use cellmail_at::DecoderConfig;

/// The family name.
pub const FAMILY: &str = "a76xx";

/// URCs of this family: `+IPERROR:` (which may come before the `ERROR` of
/// `AT+NETOPEN`) is kept as a URC so the mailer can read it.
pub fn decoder_config() -> DecoderConfig {
    DecoderConfig::default().urc(setup::prefix::IPERROR)
}

/// Drives SIMCom A76xx modules (see the [module docs](self)).
pub struct A76xx;

/// The model prefixes this dialect claims: the A76XX series of the manual.
/// SIM7600/SIM7500 modules are not claimed: no manual here covers them,
/// though public code drives a SIM7100A with commands of the same names.
pub const MODELS: [&str; 1] = ["A76"];

impl Dialect for A76xx {
    const NAME: &'static str = FAMILY;

    fn drives(info: &ModuleInfo) -> bool {
        let model = info.model.to_ascii_uppercase();
        let model = model.trim_start_matches("SIMCOM_").trim();
        info.manufacturer.to_ascii_uppercase().contains("SIMCOM")
            && MODELS.iter().any(|m| model.starts_with(m))
    }
}

/// The A76xx capabilities, from chapter 32 (sections in the comments).
///
/// Lengths the manual gives in "characters" are counted in bytes (the
/// smaller reading for UTF-8 text). The file-name limit is the manual's
/// full-path limit on `C:/` (115, §12.2) less the `C:/` the mailer puts
/// before an uploaded attachment.
pub fn capabilities() -> Capabilities {
    use commands as c;
    Capabilities {
        family: FAMILY,
        smtp: true,
        // §32 has no POP3 and the manual no POP3 chapter.
        pop3: false,
        // §32.2.2 <server_type> 1, 2, 3.
        smtp_tls: vec![TlsMode::None, TlsMode::Implicit, TlsMode::StartTls],
        pop3_tls: vec![],
        // §19.2.1 "authmode" 1 with "cacert" (§19.2.2 AT+CCERTDOWN).
        tls_verify: true,
        // AT+CSSLCFG="sslversion": SSL 3.0, TLS 1.0, 1.1, 1.2, all.
        tls_versions: vec![
            cellmail::TlsVersion::Ssl3,
            cellmail::TlsVersion::Tls1_0,
            cellmail::TlsVersion::Tls1_1,
            cellmail::TlsVersion::Tls1_2,
        ],
        // §32.2.6/§32.2.8: the charsets are labels; text goes as its bytes.
        charsets: vec![Charset::Ascii, Charset::Utf8],
        subject_encoding: TextEncoding::Raw,
        body_encoding: TextEncoding::Raw,
        attachment_sources: AttachmentSources {
            memory: true,
            host_file: true,
            module_file: true,
        },
        // §12.2: C: local storage, D: SD card.
        storages: vec![Storage::Drive('C'), Storage::Drive('D')],
        recipient_names: true,
        // Length-delimited data after `>`: nothing ends it early.
        body_forbids: vec![],
        body_transport: cellmail::BodyTransport::DataMode,
        bearer_login: false,
        limits: Limits {
            // §32.2.5: 3 kinds of 5 slots.
            recipients: 3 * c::RECIPIENT_INDEX.len(),
            recipients_per_kind: Some(c::RECIPIENT_INDEX.len()),
            address: c::STRING_MAX,
            name: c::NAME_MAX,
            subject_ascii: c::SUBJECT_MAX,
            subject_encoded: c::SUBJECT_MAX,
            body: c::BODY_MAX,
            attachments: c::ATTACHMENT_INDEX.len(),
            // §13.2.1: "about 3 MB" per upload over the UART, "not ensured".
            attachment_bytes_serial: 3_000_000,
            attachment_bytes_total: Some(c::ATTACHMENTS_TOTAL),
            attachment_name: setup::PATH_MAX - "C:/".len(),
            user: c::STRING_MAX,
            password: c::STRING_MAX,
            server: c::STRING_MAX,
            // §32 has no server timeout setting.
            send_timeout_secs: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_a76xx_series_is_claimed_and_nothing_else() {
        let info = |manufacturer: &str, model: &str| ModuleInfo {
            manufacturer: manufacturer.into(),
            model: model.into(),
            revision: String::new(),
        };
        for model in [
            "A7670E-LASE",
            "A7672SA",
            "A7682E",
            "A7608SA-H",
            "SIMCOM_A7678",
        ] {
            assert!(
                A76xx::drives(&info("SIMCOM INCORPORATED", model)),
                "{model}"
            );
        }
        for model in ["SIM7600E", "SIM7000G", "SIM7080G", "SIM800L", "SIM5360E"] {
            assert!(
                !A76xx::drives(&info("SIMCOM INCORPORATED", model)),
                "{model}"
            );
        }
        assert!(!A76xx::drives(&info("Quectel", "A7670")));
    }

    #[test]
    fn capabilities_follow_the_chapter() {
        let caps = capabilities();
        assert!(!caps.pop3);
        assert_eq!(caps.limits.recipients, 15);
        assert_eq!(caps.limits.recipients_per_kind, Some(5));
        assert_eq!(caps.limits.attachments, 10);
        assert_eq!(caps.limits.attachment_name, 112);
        assert!(caps.smtp_tls.contains(&TlsMode::StartTls));
    }
}
