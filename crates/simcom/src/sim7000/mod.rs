//! The SIM7000 family (SIM7000, and the SIM800/SIM808/SIM900 modules whose
//! e-mail manuals define the same command set): SMTP with the attachment
//! streamed through `AT+SMTPFT`, POP3 with `AT+POP3CMD` / `AT+POP3READ`.
//!
//! # Layout
//!
//! - [`commands`] and [`codes`]: the manual's commands and result tables;
//! - [`plan`]: a mail or a mailbox call → the exchanges, in the manual's order;
//! - [`policy`]: a result, code or fault → what to do next, and the answers read;
//! - the mailer ([`Sim7000Mailer`]): the plans run on the session driver
//!   (`cellmail_session::Driver`), the attachment streamed through `AT+SMTPFT`
//!   (`stream`), the POP3 calls (`pop3`).

pub mod codes;
pub mod commands;
mod mailer;
pub mod plan;
pub mod policy;
mod pop3;
mod stream;

use cellmail::{Capabilities, Charset, Dialect, ModuleInfo};
use cellmail_at::DecoderConfig;

use commands::prefix;
pub use mailer::{Sim7000Mailer, Sim7000Options};

/// The family name.
pub const FAMILY: &str = "sim7000";

/// URCs of this family.
pub fn decoder_config() -> DecoderConfig {
    DecoderConfig::default()
        .urc(prefix::SMTPFT_READY)
        .urc(prefix::POP3READ_MORE)
        .urc("+SAPBR")
}

/// Drives SIMCom SIM7000 and SIM800/SIM808/SIM900 modules.
///
/// The SIM7000 e-mail application note is the specification; SIMCom's
/// SIM800/SIM808/SIM900 e-mail manuals define the same command set (DESIGN.md,
/// "which modules speak the SIM7000 command set"). Other SIMCom LTE modules
/// (SIM7070, SIM7080...) are not claimed: no manual here covers them. Public
/// reports say some SIM7000G firmware answers `+SMTPSEND: 65` where a SIM808
/// succeeds with the same commands: the probe says which module it is.
pub struct Sim7000;

/// The models this dialect claims (see [`Sim7000`]).
pub const MODELS: [&str; 4] = ["SIM7000", "SIM800", "SIM808", "SIM900"];

impl Dialect for Sim7000 {
    const NAME: &'static str = FAMILY;

    fn drives(info: &ModuleInfo) -> bool {
        let model = info.model.to_ascii_uppercase();
        let model = model.trim_start_matches("SIMCOM_");
        info.manufacturer.to_ascii_uppercase().contains("SIMCOM")
            && MODELS.iter().any(|m| model.starts_with(m))
    }
}

/// The SIM7000 capabilities.
///
/// From the manual: one attachment per mail (`AT+SMTPFILE` names one file,
/// §3.2.9), streamed through `AT+SMTPFT` so any size passes (§3.2.11);
/// subject and body in hex when the charset is not ASCII (§3.2.7, §3.2.8,
/// §3.2.12); the server timeout 10-120 s (§3.2.2); no TLS.
///
/// **Not in the manual**: the manual gives no numbers for the lengths; the
/// module reports them in the test forms (`AT+SMTPSUB=?` → `+SMTPSUB:
/// <subjectLength>`, `AT+SMTPRCPT=?`, `AT+SMTPSRV=?`...). The recipient
/// counts, address, name, subject, body, file name, user, password and
/// server lengths below are conservative host-side choices, checked before
/// sending so a mail is refused here rather than by the module.
pub fn capabilities() -> Capabilities {
    use cellmail::{AttachmentSources, Limits, TextEncoding, TlsMode};
    Capabilities {
        family: FAMILY,
        smtp: true,
        pop3: true,
        smtp_tls: vec![TlsMode::None],
        pop3_tls: vec![TlsMode::None],
        tls_verify: false,
        charsets: vec![Charset::Ascii, Charset::Utf8],
        subject_encoding: TextEncoding::Hex,
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
            // Not in the manual (host-side choices, see above).
            recipients: 30,
            recipients_per_kind: Some(10),
            address: 64,
            name: 64,
            subject_ascii: 256,
            subject_encoded: 256,
            body: 4096,
            // §3.2.9: one <fileName>.
            attachments: 1,
            // §3.2.11: streamed in chunks, no total in the manual.
            attachment_bytes_serial: u64::MAX,
            attachment_bytes_total: None,
            // Not in the manual (host-side choices, see above).
            attachment_name: 64,
            user: 64,
            password: 64,
            server: 64,
            // §3.2.2: AT+EMAILTO 10-120.
            send_timeout_secs: Some(
                u32::from(*commands::TIMEOUT_RANGE.start())
                    ..=u32::from(*commands::TIMEOUT_RANGE.end()),
            ),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sim800_family_is_claimed_and_no_module_without_a_manual() {
        let info = |model: &str| ModuleInfo {
            manufacturer: "SIMCOM_Ltd".into(),
            model: model.into(),
            revision: String::new(),
        };
        for model in [
            "SIM7000G",
            "SIMCOM_SIM7000E",
            "SIM800L",
            "SIM808",
            "SIM900A",
        ] {
            assert!(Sim7000::drives(&info(model)), "{model}");
        }
        for model in ["SIM7070G", "SIM7080G", "SIM5360E", "M95"] {
            assert!(!Sim7000::drives(&info(model)), "{model}");
        }
    }
}
