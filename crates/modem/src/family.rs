//! Which dialect drives a module: [`Family`], [`identify`], and [`OpenError`].

use std::fmt;

use cellmail::{Capabilities, Dialect, MailError, ModuleInfo};
use cellmail_at::DecoderConfig;

/// A module family this workspace has a dialect for.
///
/// ```
/// use cellmail_modem::Family;
/// assert_eq!(Family::parse("sim7000"), Some(Family::Sim7000));
/// assert_eq!(Family::Sim5360.name(), "sim5360");
/// assert_eq!(Family::ALL.len(), 4);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Family {
    /// Quectel GSM (M10, M33, M66, M85, M95): `cellmail_quectel`.
    QuectelGsm,
    /// SIMCom SIM7000 family (also SIM800/808/900): `cellmail_simcom::sim7000`.
    Sim7000,
    /// SIMCom SIM5360 family: `cellmail_simcom::sim5360`.
    Sim5360,
    /// SIMCom A76xx (A7670, A7672, A7682, A7608...): `cellmail_simcom::a76xx`.
    A76xx,
}

impl Family {
    /// Every family, in the order [`identify`] asks them.
    pub const ALL: [Family; 4] = [
        Family::QuectelGsm,
        Family::Sim7000,
        Family::Sim5360,
        Family::A76xx,
    ];

    /// Parses a family name: `quectel-gsm`, `sim7000`, `sim5360`.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.name() == name)
    }

    /// The family name the dialect crate declares (`quectel-gsm`, `sim7000`, `sim5360`).
    pub fn name(self) -> &'static str {
        match self {
            Self::QuectelGsm => cellmail_quectel::FAMILY,
            Self::Sim7000 => cellmail_simcom::sim7000::FAMILY,
            Self::Sim5360 => cellmail_simcom::sim5360::FAMILY,
            Self::A76xx => cellmail_simcom::a76xx::FAMILY,
        }
    }

    /// Whether this family's dialect claims the probed module.
    pub fn drives(self, info: &ModuleInfo) -> bool {
        match self {
            Self::QuectelGsm => cellmail_quectel::QuectelGsm::drives(info),
            Self::Sim7000 => cellmail_simcom::Sim7000::drives(info),
            Self::Sim5360 => cellmail_simcom::Sim5360::drives(info),
            Self::A76xx => cellmail_simcom::A76xx::drives(info),
        }
    }

    /// The decoder settings of the dialect (its URCs, finals, deferred results).
    pub fn decoder(self) -> DecoderConfig {
        match self {
            Self::QuectelGsm => cellmail_quectel::decoder_config(),
            Self::Sim7000 => cellmail_simcom::sim7000::decoder_config(),
            Self::Sim5360 => cellmail_simcom::sim5360::decoder_config(),
            Self::A76xx => cellmail_simcom::a76xx::decoder_config(),
        }
    }

    /// What the family can send, as its dialect declares it.
    pub fn capabilities(self) -> Capabilities {
        match self {
            Self::QuectelGsm => cellmail_quectel::capabilities(),
            Self::Sim7000 => cellmail_simcom::sim7000::capabilities(),
            Self::Sim5360 => cellmail_simcom::sim5360::capabilities(),
            Self::A76xx => cellmail_simcom::a76xx::capabilities(),
        }
    }

    /// Whether the family's modules have a POP3 client.
    pub fn reads_mail(self) -> bool {
        !matches!(self, Self::QuectelGsm | Self::A76xx)
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The family whose dialect drives the probed module.
///
/// ```
/// use cellmail::ModuleInfo;
/// use cellmail_modem::{Family, OpenError, identify};
/// let info = |m: &str, model: &str| ModuleInfo { manufacturer: m.into(), model: model.into(), revision: "1.0".into() };
/// assert_eq!(identify(&info("SIMCOM_Ltd", "SIMCOM_SIM7000G")).ok(), Some(Family::Sim7000));
/// let Err(OpenError::Unclaimed { info, .. }) = identify(&info("Acme", "X1")) else { panic!() };
/// assert_eq!(info.model, "X1");
/// ```
pub fn identify(info: &ModuleInfo) -> Result<Family, OpenError> {
    Family::ALL
        .into_iter()
        .find(|f| f.drives(info))
        .ok_or_else(|| OpenError::Unclaimed {
            info: info.clone(),
            dialects: Family::ALL.to_vec(),
        })
}

/// Why [`open`](crate::open) or [`Modem::connect`](crate::Modem::connect) gave no modem.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The serial port could not be opened (missing, not a tty, in use).
    #[error("cannot open the serial port {path}: {source}")]
    Port {
        /// The path given.
        path: String,
        /// What opening it said.
        source: MailError,
    },
    /// The module did not answer who it is (`AT+CGMI`, `AT+CGMM`, `AT+CGMR`, `ATI`).
    #[error(
        "the module did not say who it is: {0}; check the port, the baud rate and that the module is powered"
    )]
    Probe(#[source] MailError),
    /// No dialect claims the module that answered.
    #[error(
        "no dialect drives this module: manufacturer {:?}, model {:?}, revision {:?}; the dialects are {}",
        info.manufacturer, info.model, info.revision, names(dialects)
    )]
    Unclaimed {
        /// What the module said about itself.
        info: ModuleInfo,
        /// The dialects asked.
        dialects: Vec<Family>,
    },
    /// The settings cannot drive the chosen family (e.g. an APN user on a SIM7000).
    #[error("the settings do not fit the {family} dialect: {source}")]
    Settings {
        /// The family picked.
        family: Family,
        /// Which setting, and why.
        source: MailError,
    },
}

fn names(dialects: &[Family]) -> String {
    dialects
        .iter()
        .map(|f| f.name())
        .collect::<Vec<_>>()
        .join(", ")
}

impl OpenError {
    /// Whether trying again later may work: an I/O or timeout while opening or probing may;
    /// an unclaimed module or settings that do not fit will not.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Port { source, .. } | Self::Probe(source) => source.is_transient(),
            Self::Unclaimed { .. } | Self::Settings { .. } => false,
        }
    }
}

impl From<OpenError> for MailError {
    /// Port and probe failures keep their error; an unclaimed module is `Unsupported` naming
    /// it, settings that do not fit are the `Invalid` they carry.
    fn from(e: OpenError) -> Self {
        match e {
            OpenError::Port { source, .. }
            | OpenError::Probe(source)
            | OpenError::Settings { source, .. } => source,
            unclaimed @ OpenError::Unclaimed { .. } => {
                MailError::unsupported(unclaimed.to_string())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(manufacturer: &str, model: &str, revision: &str) -> ModuleInfo {
        ModuleInfo {
            manufacturer: manufacturer.into(),
            model: model.into(),
            revision: revision.into(),
        }
    }

    #[test]
    fn every_family_claims_what_its_dialect_claims() {
        assert_eq!(
            identify(&info("Quectel", "M95", "M95FAR02A08")).ok(),
            Some(Family::QuectelGsm)
        );
        assert_eq!(
            identify(&info("SIMCOM_Ltd", "SIMCOM_SIM7000G", "1351B04SIM7000G")).ok(),
            Some(Family::Sim7000)
        );
        assert_eq!(
            identify(&info(
                "SIMCOM INCORPORATED",
                "SIMCOM_SIM5360E",
                "SIM5360E_V1.5"
            ))
            .ok(),
            Some(Family::Sim5360)
        );
        for f in Family::ALL {
            assert_eq!(Family::parse(f.name()), Some(f));
        }
        assert_eq!(Family::parse("a7670"), None);
        assert_eq!(
            identify(&info(
                "SIMCOM INCORPORATED",
                "A7670E-LASE",
                "A7670M7_V1.11.1"
            ))
            .ok(),
            Some(Family::A76xx)
        );
    }

    #[test]
    fn an_unclaimed_module_is_named_with_the_dialects() {
        let err = identify(&info("Quectel", "M26", "M26FBR03A01")).unwrap_err();
        let text = err.to_string();
        for part in [
            "\"Quectel\"",
            "\"M26\"",
            "\"M26FBR03A01\"",
            "quectel-gsm, sim7000, sim5360",
        ] {
            assert!(text.contains(part), "{text} lacks {part}");
        }
        assert!(!err.is_transient());
        assert!(matches!(
            MailError::from(err),
            MailError::Unsupported { feature } if feature.contains("M26")
        ));
    }
}
