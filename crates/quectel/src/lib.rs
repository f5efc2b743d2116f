//! The Quectel GSM dialect of cellmail (M10, M66, M85, M95): SMTP with
//! optional SSL or STARTTLS through `AT+QSMTP*` and `AT+QSSLCFG`.
//!
//! - [`commands`]: every command of the two Quectel manuals, typed, sans-I/O.
//! - [`ResultCode`]: every error code of both manuals, mapped to [`cellmail::MailError`].
//! - [`QuectelMailer`]: implements [`cellmail::MailSender`].
//!
//! These modules have no POP3 client.

pub mod commands;
mod error;
mod mailer;

pub use error::ResultCode;
pub use mailer::{QuectelMailer, QuectelOptions, RetryPolicy, capabilities};

use cellmail::{Dialect, ModuleInfo};
use cellmail_at::{DecoderConfig, FinalKind};

/// The family name.
pub const FAMILY: &str = "quectel-gsm";

/// The decoder settings of this dialect: `DEACT OK` ends `AT+QIDEACT`, and
/// `+PDP DEACT` is the URC of a lost context.
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

/// Drives Quectel GSM modules (`AT+CGMI` Quectel, `AT+CGMM` M10/M66/M85/M95 and kin).
pub struct QuectelGsm;

impl Dialect for QuectelGsm {
    const NAME: &'static str = FAMILY;

    fn drives(info: &ModuleInfo) -> bool {
        let model = info
            .model
            .trim_start_matches("Quectel_")
            .to_ascii_uppercase();
        info.manufacturer.to_ascii_lowercase().contains("quectel")
            && [
                "M10", "M12", "M26", "M33", "M35", "M66", "M72", "M85", "M95", "MC60",
            ]
            .iter()
            .any(|m| model.starts_with(m))
    }
}
