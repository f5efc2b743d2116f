//! Which module is on the line: [`probe`] and the [`Dialect`] trait.

use cellmail_at::{Client, Command};
use tokio::io::{AsyncRead, AsyncWrite};

use crate::error::MailError;

/// What a module says about itself.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ModuleInfo {
    /// `AT+CGMI`, e.g. `Quectel` or `SIMCOM_Ltd`.
    pub manufacturer: String,
    /// `AT+CGMM`, e.g. `M95` or `SIM7000G`.
    pub model: String,
    /// `AT+CGMR`, e.g. `M95FAR02A08`.
    pub revision: String,
}

impl std::fmt::Display for ModuleInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {} (revision {})",
            self.manufacturer, self.model, self.revision
        )
    }
}

/// A dialect crate's answer to "do you drive this module?".
///
/// ```
/// use cellmail::{Dialect, ModuleInfo};
/// struct Quectel;
/// impl Dialect for Quectel {
///     const NAME: &'static str = "quectel-gsm";
///     fn drives(info: &ModuleInfo) -> bool {
///         info.manufacturer.eq_ignore_ascii_case("quectel") && info.model.starts_with('M')
///     }
/// }
/// let m95 = ModuleInfo { manufacturer: "Quectel".into(), model: "M95".into(), revision: "M95FAR02A08".into() };
/// assert!(Quectel::drives(&m95));
/// ```
pub trait Dialect {
    /// The family name, e.g. `quectel-gsm`.
    const NAME: &'static str;
    /// Whether this dialect drives the probed module.
    fn drives(info: &ModuleInfo) -> bool;
}

/// The text of an identification answer: the first information line, without
/// a `+CGMx:` prefix some firmwares add, or a `Revision:` label.
fn ident(lines: &[String], prefix: &str) -> Option<String> {
    lines
        .iter()
        .map(|l| l.trim())
        .find(|l| !l.is_empty())
        .map(|l| {
            let l = l.strip_prefix(prefix).unwrap_or(l);
            let l = l.strip_prefix("Revision:").unwrap_or(l);
            l.trim().to_owned()
        })
}

/// Asks the module who it is with `AT+CGMI`, `AT+CGMM`, `AT+CGMR`, falling back
/// to `ATI` for any of them the module refuses.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), cellmail::MailError> {
/// use cellmail_at::{Client, ClientConfig};
/// use tokio::io::{AsyncReadExt, AsyncWriteExt};
/// let (host, mut module) = tokio::io::duplex(256);
/// tokio::spawn(async move {
///     let mut buf = [0u8; 32];
///     for answer in ["Quectel", "M95", "Revision: M95FAR02A08"] {
///         let _ = module.read(&mut buf).await;
///         let _ = module.write_all(format!("\r\n{answer}\r\n\r\nOK\r\n").as_bytes()).await;
///     }
/// });
/// let mut client = Client::new(host, ClientConfig::default());
/// let info = cellmail::probe(&mut client).await?;
/// assert_eq!((info.manufacturer.as_str(), info.model.as_str(), info.revision.as_str()), ("Quectel", "M95", "M95FAR02A08"));
/// # Ok(()) }
/// ```
pub async fn probe<T>(client: &mut Client<T>) -> Result<ModuleInfo, MailError>
where
    T: AsyncRead + AsyncWrite + Unpin + Send,
{
    let mut answers = Vec::with_capacity(3);
    for name in ["+CGMI", "+CGMM", "+CGMR"] {
        let answer = match client.execute(&Command::exec(name)).await {
            Ok(r) => ident(&r.info, &format!("{name}:")),
            Err(cellmail_at::AtError::Error { .. } | cellmail_at::AtError::Cme { .. }) => None,
            Err(e) => return Err(e.into()),
        };
        answers.push(answer);
    }
    if answers.iter().any(Option::is_none) {
        // ATI answers manufacturer, model and revision lines on most modules.
        let ati = client.execute(&Command::exec("I")).await?;
        let lines: Vec<&String> = ati.info.iter().filter(|l| !l.trim().is_empty()).collect();
        for (slot, line) in answers.iter_mut().zip(lines) {
            if slot.is_none() {
                *slot = ident(std::slice::from_ref(line), "");
            }
        }
    }
    let mut it = answers.into_iter().map(Option::unwrap_or_default);
    Ok(ModuleInfo {
        manufacturer: it.next().unwrap_or_default(),
        model: it.next().unwrap_or_default(),
        revision: it.next().unwrap_or_default(),
    })
}
