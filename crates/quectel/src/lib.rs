//! The Quectel GSM dialect of cellmail (M10, M66, M85, M95, and the M33 that
//! GSM_SMTP_ATC_V1.1 §2.2.9 names): SMTP with optional SSL or STARTTLS
//! through `AT+QSMTP*` and `AT+QSSLCFG`.
//!
//! - [`commands`]: every command of the two Quectel manuals, typed, sans-I/O.
//! - [`ResultCode`]: every error code of both manuals, mapped to [`cellmail::MailError`];
//!   [`TransferError`]: a body or attachment the module received short.
//! - [`plan`]: the options and the mail checked before any byte, the
//!   settings in the notes' order; [`policy`]: the SMTPS note's recovery
//!   advice (§1.4.1-§1.4.3) as decisions.
//! - [`QuectelMailer`]: implements [`cellmail::MailSender`] on the session
//!   driver (`cellmail_session::Driver`).
//!
//! These modules have no POP3 client.

pub mod commands;
mod error;
mod mailer;
pub mod plan;
pub mod policy;

pub use error::{ResultCode, TransferError};
pub use mailer::{QuectelMailer, QuectelOptions};
pub use plan::{AttachmentRoute, capabilities, capabilities_for};
pub use policy::RetryPolicy;

use cellmail::{Dialect, ModuleInfo};
use cellmail_at::{DecoderConfig, FinalKind};

/// The family name.
pub const FAMILY: &str = "quectel-gsm";

/// The decoder settings of this dialect: `DEACT OK` ends `AT+QIDEACT` (SMTPS
/// note §1.2 step 7, §3), and `+PDP DEACT` is the URC of a lost context.
///
/// `+PDP DEACT` is a **field report**, in neither Quectel manual here: the
/// URC Quectel GSM modules send when the network releases the PDP context.
///
/// ```
/// let config = cellmail_quectel::decoder_config();
/// assert!(config.is_urc("+PDP DEACT"));
/// ```
pub fn decoder_config() -> DecoderConfig {
    DecoderConfig::default()
        .final_result("DEACT OK", FinalKind::Success)
        .urc("+PDP DEACT")
}

/// Drives Quectel GSM modules: `AT+CGMI` Quectel and `AT+CGMM` one of the
/// models the manuals name (the SMTPS note §1: M10, M66, M85, M95;
/// GSM_SMTP_ATC_V1.1 §2.2.9 and §4.5: M33). Other Quectel GSM models (M12,
/// M26, M35, M72, MC60...) may speak the same commands, but neither manual
/// says so: they are not claimed.
///
/// ```
/// use cellmail::{Dialect, ModuleInfo};
/// use cellmail_quectel::QuectelGsm;
/// let info = |model: &str| ModuleInfo {
///     manufacturer: "Quectel".into(),
///     model: model.into(),
///     revision: String::new(),
/// };
/// assert!(QuectelGsm::drives(&info("M95")));
/// assert!(QuectelGsm::drives(&info("Quectel_M66")));
/// assert!(!QuectelGsm::drives(&info("M26")));
/// ```
pub struct QuectelGsm;

/// The models the manuals name.
const MODELS: [&str; 5] = ["M10", "M33", "M66", "M85", "M95"];

impl Dialect for QuectelGsm {
    const NAME: &'static str = FAMILY;

    fn drives(info: &ModuleInfo) -> bool {
        let model = info
            .model
            .trim_start_matches("Quectel_")
            .to_ascii_uppercase();
        info.manufacturer.to_ascii_lowercase().contains("quectel")
            && MODELS.iter().any(|m| model.starts_with(m))
    }
}
