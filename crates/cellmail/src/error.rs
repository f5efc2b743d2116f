//! [`MailError`]: what went wrong, in terms a program can act on.

use cellmail_at::AtError;

/// A vendor's own result code, kept next to the facade's meaning of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VendorCode {
    /// A numeric code, e.g. Quectel `-535` or SIM7000 `67`.
    Number(i64),
    /// A textual result, e.g. SIM5360 `AUTH ERROR`.
    Text(String),
}

impl std::fmt::Display for VendorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            VendorCode::Number(n) => write!(f, "{n}"),
            VendorCode::Text(t) => f.write_str(t),
        }
    }
}

impl VendorCode {
    /// The code of a `+CME ERROR: <err>` answer, for dialects that report a
    /// refused command with the module's own code.
    ///
    /// ```
    /// use cellmail::VendorCode;
    /// use cellmail_at::{AtError, CmeError};
    /// let refused = AtError::Cme { command: "AT+QIACT".into(), error: CmeError::Code(3) };
    /// assert_eq!(VendorCode::of_cme(&refused), Some(VendorCode::Number(3)));
    /// assert_eq!(VendorCode::of_cme(&AtError::Closed), None);
    /// ```
    pub fn of_cme(error: &AtError) -> Option<Self> {
        match error {
            AtError::Cme {
                error: cellmail_at::CmeError::Code(c),
                ..
            } => Some(VendorCode::Number(i64::from(*c))),
            AtError::Cme {
                error: cellmail_at::CmeError::Text(t),
                ..
            } => Some(VendorCode::Text(t.clone())),
            _ => None,
        }
    }
}

/// A server's refusal: with its reply code when the module gave one.
fn rejected(code: u16, text: &str) -> String {
    match code {
        0 => format!("the server refused: {text}"),
        code => format!("the server rejected the mail with {code}: {text}"),
    }
}

fn code_suffix(code: &Option<VendorCode>) -> String {
    code.as_ref()
        .map(|c| format!(" (module code {c})"))
        .unwrap_or_default()
}

/// Everything that can go wrong sending or reading mail. Every variant a module
/// reports keeps the module's own code in `vendor`. No variant ever holds a
/// password.
///
/// ```
/// use cellmail::{MailError, VendorCode};
/// let e = MailError::Auth { vendor: Some(VendorCode::Number(-535)) };
/// assert!(!e.is_transient());
/// assert_eq!(e.to_string(), "the server refused the user name or password (module code -535)");
/// ```
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The e-mail or settings break a rule or a limit; nothing was sent.
    #[error("invalid {field}: {reason}")]
    Invalid {
        /// The field, e.g. `subject`, `to[2]`, `attachments[0].name`.
        field: String,
        /// What is wrong, naming the limit and the value.
        reason: String,
        /// The module's code, when the module (not the host) found it invalid.
        vendor: Option<VendorCode>,
    },
    /// The module cannot do this at all (e.g. TLS on a SIM5360).
    #[error("not supported by this module: {feature}")]
    Unsupported {
        /// What was asked for.
        feature: String,
    },
    /// Authentication failed.
    #[error("the server refused the user name or password{}", code_suffix(.vendor))]
    Auth {
        /// The module's code.
        vendor: Option<VendorCode>,
    },
    /// A server name could not be resolved.
    #[error("the server name could not be resolved{}", code_suffix(.vendor))]
    Dns {
        /// The module's code.
        vendor: Option<VendorCode>,
    },
    /// The bearer, the TCP connection or the link failed.
    #[error("network failure: {detail}{}", code_suffix(.vendor))]
    Network {
        /// What failed.
        detail: String,
        /// The module's code.
        vendor: Option<VendorCode>,
    },
    /// The module or the server did not answer in time.
    #[error("timed out: {detail}{}", code_suffix(.vendor))]
    Timeout {
        /// What timed out.
        detail: String,
        /// The module's code.
        vendor: Option<VendorCode>,
    },
    /// The TLS handshake or certificate check failed.
    #[error("TLS failure: {detail}{}", code_suffix(.vendor))]
    Tls {
        /// What failed.
        detail: String,
        /// The module's code.
        vendor: Option<VendorCode>,
    },
    /// The server answered with an error reply.
    #[error("{}{}", rejected(*.code, .text), code_suffix(.vendor))]
    Rejected {
        /// The SMTP/POP3 reply code (e.g. 554), 0 when the module does not say.
        code: u16,
        /// The reply or the module's description of it.
        text: String,
        /// The module's code.
        vendor: Option<VendorCode>,
    },
    /// The server refuses the mail for now because mail was sent too often
    /// (Quectel `-530`, SMTPS note §1.4.3: "you may send email too frequently
    /// and the SMTP server rejects to post email"). Unlike a 5xx `Rejected`
    /// it is worth sending again, after a pause rather than at once.
    #[error("the server refuses mail sent this often, try again later: {detail}{}", code_suffix(.vendor))]
    Throttled {
        /// What the module or the server said.
        detail: String,
        /// The module's code.
        vendor: Option<VendorCode>,
    },
    /// A recipient was refused.
    #[error("the server refused the recipient {}{}", .address.as_deref().unwrap_or("(not named by the module)"), code_suffix(.vendor))]
    BadRecipient {
        /// The refused address, when the module names it.
        address: Option<String>,
        /// The module's code.
        vendor: Option<VendorCode>,
    },
    /// The module is busy with another mail or session.
    #[error("the module is busy{}", code_suffix(.vendor))]
    Busy {
        /// The module's code.
        vendor: Option<VendorCode>,
    },
    /// The AT exchange itself failed (ERROR, +CME ERROR, timeout, closed line).
    #[error(transparent)]
    Modem(AtError),
    /// Reading an attachment from the host failed.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}

/// The kinds of a serial-line I/O error that no retry mends: the port does
/// not exist, is not a terminal or a device (`/dev/null`, a directory, a
/// file), may not be opened, or cannot take the settings. Others (a line
/// that failed mid-exchange, bytes lost on it) are worth another try.
fn port_is_unusable(kind: std::io::ErrorKind) -> bool {
    use std::io::ErrorKind as K;
    matches!(
        kind,
        K::NotFound
            | K::PermissionDenied
            | K::IsADirectory
            | K::NotADirectory
            | K::InvalidInput
            | K::Unsupported
    )
}

/// An AT-level error as the facade's: `Modem`, except a serial setting
/// [`cellmail_at::serial::open`] refused, which is `Invalid` naming it.
///
/// ```
/// use cellmail::MailError;
/// let refused = cellmail_at::serial::open("/dev/ttyUSB2", 0).unwrap_err();
/// assert!(matches!(MailError::from(refused), MailError::Invalid { field, .. } if field == "baud"));
/// ```
impl From<AtError> for MailError {
    fn from(e: AtError) -> Self {
        if let AtError::Io(io) = &e {
            if let Some(s) = io
                .get_ref()
                .and_then(|i| i.downcast_ref::<cellmail_at::serial::InvalidSetting>())
            {
                return MailError::invalid(s.field, s.reason.clone());
            }
        }
        MailError::Modem(e)
    }
}

impl MailError {
    /// Shorthand for [`MailError::Invalid`].
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        MailError::Invalid {
            field: field.into(),
            reason: reason.into(),
            vendor: None,
        }
    }

    /// Shorthand for [`MailError::Unsupported`].
    pub fn unsupported(feature: impl Into<String>) -> Self {
        MailError::Unsupported {
            feature: feature.into(),
        }
    }

    /// Whether trying the same thing again later can help: what a retry loop
    /// (an outbox) asks. The one table of it; `tests/transient.rs` checks
    /// every row against this function.
    ///
    /// | error | transient | why |
    /// |---|---|---|
    /// | `Invalid` | no | the input breaks a rule or a limit: the same input fails again |
    /// | `Unsupported` | no | the module cannot do it at all |
    /// | `Auth` | no | the user name or password is wrong until someone changes it |
    /// | `Dns` | yes | on cellular links name resolution fails while the bearer settles (an empty host is `Invalid`, refused before) |
    /// | `Network` | yes | the bearer, the TCP connection or the radio link comes back |
    /// | `Timeout` | yes | the module or the server was slow this time |
    /// | `Tls` | no | certificates, versions and ciphers are configuration |
    /// | `Rejected` with a 4xx code | yes | the server says: try again later |
    /// | `Rejected` with a 5xx code, or 0 | no | the server refused this mail or command for good |
    /// | `Throttled` | yes | the server refuses mail sent this often: later (not at once) it takes it |
    /// | `BadRecipient` | no | the address is refused |
    /// | `Busy` | yes | another mail or session holds the module for now |
    /// | `Modem(Timeout)`, `Modem(Closed)` | yes | the module said nothing, or the line dropped: it may answer again |
    /// | `Modem(Silent)` | yes | nothing ever came back on the line: a module still booting answers later (the text tells an operator to check power, port and baud rate) |
    /// | `Modem(Rebooted)` | yes | the module rebooted under a wait (`RDY`): the next call configures it again |
    /// | `Modem(Io)` of a port that cannot work (`NotFound`, `IsADirectory`, `NotADirectory`, `InvalidInput`, `PermissionDenied`, `Unsupported`) | no | the port does not exist, is not a terminal, may not be opened or cannot take the settings |
    /// | `Modem(Io)` of any other kind | yes | the line failed mid-exchange, or bytes were lost on it |
    /// | `Modem(Error)`, `Modem(Cme)`, `Modem(Cms)`, `Modem(Failed)`, `Modem(Protocol)`, `Modem(Encode)` | no | the module refused the command, or its answer breaks the exchange |
    /// | `Io` of a host file that cannot be read (`NotFound`, `PermissionDenied`, `InvalidInput`, `InvalidData`, `Unsupported`) | no | a missing, unreadable or malformed file stays so |
    /// | `Io` of any other kind | yes | reading the host file failed this time |
    ///
    /// ```
    /// use cellmail::MailError;
    /// assert!(MailError::Rejected { code: 451, text: "try later".into(), vendor: None }.is_transient());
    /// assert!(!MailError::Rejected { code: 554, text: "relay denied".into(), vendor: None }.is_transient());
    /// ```
    pub fn is_transient(&self) -> bool {
        match self {
            MailError::Network { .. }
            | MailError::Timeout { .. }
            | MailError::Busy { .. }
            | MailError::Throttled { .. }
            | MailError::Dns { .. } => true,
            MailError::Rejected { code, .. } => (400..500).contains(code),
            MailError::Modem(e) => match e {
                // A reboot mid-wait: the next call configures the module again.
                AtError::Timeout { .. }
                | AtError::Silent { .. }
                | AtError::Rebooted { .. }
                | AtError::Closed => true,
                AtError::Io(io) => !port_is_unusable(io.kind()),
                AtError::Encode(_)
                | AtError::Error { .. }
                | AtError::Cme { .. }
                | AtError::Cms { .. }
                | AtError::Failed { .. }
                | AtError::Protocol { .. } => false,
            },
            MailError::Io(e) => !matches!(
                e.kind(),
                std::io::ErrorKind::NotFound
                    | std::io::ErrorKind::PermissionDenied
                    | std::io::ErrorKind::InvalidInput
                    | std::io::ErrorKind::InvalidData
                    | std::io::ErrorKind::Unsupported
            ),
            MailError::Invalid { .. }
            | MailError::Unsupported { .. }
            | MailError::Auth { .. }
            | MailError::BadRecipient { .. }
            | MailError::Tls { .. } => false,
        }
    }

    /// The module's own code, when the module reported one.
    pub fn vendor_code(&self) -> Option<&VendorCode> {
        match self {
            MailError::Auth { vendor }
            | MailError::Invalid { vendor, .. }
            | MailError::Dns { vendor }
            | MailError::Network { vendor, .. }
            | MailError::Timeout { vendor, .. }
            | MailError::Tls { vendor, .. }
            | MailError::Rejected { vendor, .. }
            | MailError::Throttled { vendor, .. }
            | MailError::BadRecipient { vendor, .. }
            | MailError::Busy { vendor } => vendor.as_ref(),
            _ => None,
        }
    }
}
