//! The SIM7000 family (SIM7000, and the SIM800/SIM808/SIM900 modules whose
//! e-mail manuals define the same command set): SMTP with the attachment
//! streamed through `AT+SMTPFT`, POP3 with `AT+POP3CMD` / `AT+POP3READ`.
//!
//! # Layout
//!
//! - [`commands`] and [`codes`]: the manual's commands and result tables;
//! - [`plan`]: a mail or a mailbox call → the exchanges, in the manual's order;
//! - [`lengths`]: the test forms that say the module's lengths, and their answers read;
//! - [`policy`]: a result, code or fault → what to do next, and the answers read;
//! - the mailer ([`Sim7000Mailer`]): the plans run on the session driver
//!   (`cellmail_session::Driver`), the attachment streamed through `AT+SMTPFT`
//!   (`stream`), the POP3 calls (`pop3`).

mod asked_lengths;
pub mod codes;
pub mod commands;
pub mod lengths;
mod mailer;
pub mod plan;
pub mod policy;
mod pop3;
mod stream;
mod tls;

use cellmail::{Capabilities, Charset, Dialect, ModuleInfo};
use cellmail_at::DecoderConfig;

use commands::prefix;
pub use mailer::{Lengths, Sim7000Mailer, Sim7000Options, TlsProbe};

/// The family name.
pub const FAMILY: &str = "sim7000";

/// URCs of this family.
pub fn decoder_config() -> DecoderConfig {
    DecoderConfig::default()
        .urc(prefix::SMTPFT_READY)
        .urc(prefix::POP3READ_MORE)
        .urc("+SAPBR")
        // SIM7080: `+APP PDP: <pdpidx>,ACTIVE|DEACTIVE` ([AT7080] §7.2).
        .urc(crate::sim7080::commands::APP_PDP)
}

/// Drives SIMCom SIM7000 and SIM800/SIM808/SIM900 modules; [`Model`] tells
/// them apart (only the SIM800 series has e-mail TLS).
///
/// The SIM7000 e-mail application note is the specification; SIMCom's
/// SIM800/SIM808/SIM900 e-mail manuals define the same command set (DESIGN.md,
/// "which modules speak the SIM7000 command set"), and so do the SIM7070/
/// SIM7080/SIM7090 manuals (on another bearer, with TLS: [`crate::sim7080`]). Public
/// reports say some SIM7000G firmware answers `+SMTPSEND: 65` where a SIM808
/// succeeds with the same commands: the probe says which module it is.
pub struct Sim7000;

/// The models this dialect claims (see [`Sim7000`]).
pub const MODELS: [&str; 7] = [
    "SIM7000", "SIM800", "SIM808", "SIM900", "SIM7070", "SIM7080", "SIM7090",
];

impl Dialect for Sim7000 {
    const NAME: &'static str = FAMILY;

    fn drives(info: &ModuleInfo) -> bool {
        let model = info.model.to_ascii_uppercase();
        let model = model.trim_start_matches("SIMCOM_");
        info.manufacturer.to_ascii_uppercase().contains("SIMCOM")
            && MODELS.iter().any(|m| model.starts_with(m))
    }
}

/// Which module of the family, by the probe's model (`AT+CGMM`): what it
/// can do beyond the SIM7000 note's command set.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Model {
    /// SIM7000 (and any module not known to be one of the others): the
    /// SIM7000 e-mail note, which has no TLS; no SIMCom document gives a
    /// SIM7000 e-mail TLS command (`AT+EMAILSSL` is not in the note or in the
    /// SIM7000 AT manual V1.06).
    #[default]
    Sim7000,
    /// The SIM800 series (SIM800, SIM800H, SIM800L, SIM800C, SIM800-WB64,
    /// SIM800G) and the SIM808: the SIM800 Series SSL application note
    /// (V1.00/V1.01) adds `AT+EMAILSSL` (implicit TLS and STARTTLS/STLS) and
    /// result codes 71/72. Its TLS is "SSL2.0, SSL3.0, TLS1.0", nothing newer.
    /// The SIM808 is taken to be one from users' reports (no SIMCom document
    /// here says so). SIM800 firmware before R14 has no SSL at all: the
    /// module answers `ERROR` to `AT+EMAILSSL=?`, which
    /// [`Sim7000Mailer::probe_tls`] reads.
    Sim800,
    /// SIM900: its e-mail manual V1.02 has no `AT+EMAILSSL` (V1.04 was not
    /// read); public code sends it, but nothing documents it: no TLS claimed.
    Sim900,
    /// SIM7070/SIM7080/SIM7090 ([`crate::sim7080`]): the same e-mail
    /// commands on an `AT+CNACT` context (`AT+EMAILCID` 0-3), TLS 1.0-1.2
    /// through the four-parameter `AT+EMAILSSL` (STARTTLS for SMTP only) over
    /// an `AT+CSSLCFG` context, CA certificates checked.
    Sim7080,
}

impl Model {
    /// The model of a probed module; `None` when this family does not drive it.
    ///
    /// ```
    /// use cellmail::ModuleInfo;
    /// use cellmail_simcom::sim7000::Model;
    /// let info = |m: &str| ModuleInfo { manufacturer: "SIMCOM_Ltd".into(), model: m.into(), revision: String::new() };
    /// assert_eq!(Model::of(&info("SIMCOM_SIM800L")), Some(Model::Sim800));
    /// assert_eq!(Model::of(&info("SIM808")), Some(Model::Sim800));
    /// assert_eq!(Model::of(&info("SIM7000G")), Some(Model::Sim7000));
    /// assert_eq!(Model::of(&info("SIM7080G")), Some(Model::Sim7080));
    /// assert_eq!(Model::of(&info("SIM5360E")), None);
    /// ```
    pub fn of(info: &ModuleInfo) -> Option<Model> {
        if !Sim7000::drives(info) {
            return None;
        }
        let model = info.model.to_ascii_uppercase();
        let model = model.trim_start_matches("SIMCOM_");
        Some(
            if model.starts_with("SIM800") || model.starts_with("SIM808") {
                Model::Sim800
            } else if crate::sim7080::MODELS.iter().any(|m| model.starts_with(m)) {
                Model::Sim7080
            } else if model.starts_with("SIM900") {
                Model::Sim900
            } else {
                Model::Sim7000
            },
        )
    }

    /// Whether the model has e-mail TLS (`AT+EMAILSSL`).
    pub fn has_tls(self) -> bool {
        matches!(self, Model::Sim800 | Model::Sim7080)
    }
}

/// The capabilities of one model: [`capabilities`], plus for the SIM800
/// series SMTP and POP3 with implicit TLS and STARTTLS/STLS
/// (`AT+EMAILSSL` 1 and 2, SIM800 SSL note §1.4, §2.1), TLS 1.0 only
/// ([`TlsVersion::Tls1_0`](cellmail::TlsVersion): the note's "SSL2.0,
/// SSL3.0, TLS1.0"; most servers today accept TLS 1.2 or newer only, so
/// such a module reaches only a server configured to allow TLS 1.0), no
/// certificate verification (the note does not say that `AT+SSLSETCERT` or
/// `AT+SSLOPT` apply to e-mail).
///
/// ```
/// use cellmail::{TlsMode, TlsVersion};
/// use cellmail_simcom::sim7000::{capabilities_of, Model};
/// let sim800 = capabilities_of(Model::Sim800);
/// assert!(sim800.smtp_tls.contains(&TlsMode::StartTls) && sim800.pop3_tls.contains(&TlsMode::Implicit));
/// assert_eq!(sim800.tls_versions, [TlsVersion::Tls1_0]);
/// assert_eq!(capabilities_of(Model::Sim7000).smtp_tls, [TlsMode::None]);
/// ```
pub fn capabilities_of(model: Model) -> Capabilities {
    use cellmail::{TlsMode, TlsVersion};
    if model == Model::Sim7080 {
        return crate::sim7080::capabilities();
    }
    let mut caps = capabilities();
    if model.has_tls() {
        let modes = vec![TlsMode::None, TlsMode::Implicit, TlsMode::StartTls];
        caps.smtp_tls = modes.clone();
        caps.pop3_tls = modes;
        caps.tls_versions = vec![TlsVersion::Tls1_0];
    }
    caps
}

/// The SIM7000 capabilities (every model of the family can do this much;
/// [`capabilities_of`] says what a SIM800 adds).
///
/// From the manual: one attachment per mail (`AT+SMTPFILE` names one file,
/// §3.2.9), streamed through `AT+SMTPFT` so any size passes (§3.2.11);
/// subject and body in hex when the charset is not ASCII (§3.2.7, §3.2.8,
/// §3.2.12); the server timeout 10-120 s (§3.2.2); no TLS.
///
/// **Not in the manual**: the manual gives no numbers for the lengths; the
/// module reports them in the test forms (`AT+SMTPSUB=?` → `+SMTPSUB:
/// <subjectLength>`, `AT+SMTPRCPT=?`, `AT+SMTPSRV=?`...), which the mailer
/// asks before its first call ([`Lengths::AskModule`], [`lengths`]). The
/// recipient counts, address, name, subject, body, file name, user,
/// password and server lengths below are host-side choices that stand only
/// until the module has answered, and for a form it refuses.
pub fn capabilities() -> Capabilities {
    use cellmail::{AttachmentSources, Limits, TextEncoding, TlsMode};
    Capabilities {
        family: FAMILY,
        smtp: true,
        pop3: true,
        smtp_tls: vec![TlsMode::None],
        pop3_tls: vec![TlsMode::None],
        tls_verify: false,
        tls_versions: vec![],
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
    fn the_sim800_and_sim7080_families_are_claimed_and_no_module_without_a_manual() {
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
        for model in ["SIM7070G", "SIM7080G", "SIM7090G"] {
            assert!(Sim7000::drives(&info(model)), "{model}");
            assert_eq!(Model::of(&info(model)), Some(Model::Sim7080), "{model}");
        }
        for model in ["SIM5360E", "SIM7600E", "A7670E", "M95"] {
            assert!(!Sim7000::drives(&info(model)), "{model}");
        }
    }

    #[test]
    fn only_the_sim800_series_claims_tls() {
        use cellmail::{TlsMode, TlsVersion};
        let info = |model: &str| ModuleInfo {
            manufacturer: "SIMCOM_Ltd".into(),
            model: model.into(),
            revision: String::new(),
        };
        for (model, want) in [
            ("SIM800", Model::Sim800),
            ("SIM800H", Model::Sim800),
            ("SIM800L", Model::Sim800),
            ("SIMCOM_SIM800C", Model::Sim800),
            ("SIM808", Model::Sim800),
            ("SIM900A", Model::Sim900),
            ("SIM7000G", Model::Sim7000),
            ("SIMCOM_SIM7000E", Model::Sim7000),
        ] {
            assert_eq!(Model::of(&info(model)), Some(want), "{model}");
        }
        for model in [Model::Sim7000, Model::Sim900] {
            let caps = capabilities_of(model);
            assert_eq!(caps.smtp_tls, [TlsMode::None], "{model:?}");
            assert_eq!(caps.pop3_tls, [TlsMode::None], "{model:?}");
            assert!(caps.tls_versions.is_empty());
        }
        let all = [TlsMode::None, TlsMode::Implicit, TlsMode::StartTls];
        let sim800 = capabilities_of(Model::Sim800);
        assert_eq!(
            (sim800.smtp_tls, sim800.pop3_tls),
            (all.to_vec(), all.to_vec())
        );
        assert_eq!(sim800.tls_versions, [TlsVersion::Tls1_0]);
        assert!(!sim800.tls_verify);
        assert_eq!(capabilities(), capabilities_of(Model::Sim7000));
    }
}
