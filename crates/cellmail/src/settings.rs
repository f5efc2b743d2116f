//! Account and connection settings. `Debug` never shows a password or key.

use std::fmt;

pub use cellmail_at::Secret;

use crate::email::ModulePath;

/// A server's host name (or IP address) and port.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ServerAddr {
    /// Host name or IP address.
    pub host: String,
    /// TCP port.
    pub port: u16,
}

impl ServerAddr {
    /// `host:port`.
    pub fn new(host: impl Into<String>, port: u16) -> Self {
        Self {
            host: host.into(),
            port,
        }
    }
}

/// SMTP authentication.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum Auth {
    /// No authentication.
    #[default]
    None,
    /// AUTH with user name and password.
    Login {
        /// The user name.
        user: String,
        /// The password.
        password: Secret,
    },
}

/// How the connection to the server is secured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum TlsMode {
    /// Plain TCP.
    #[default]
    None,
    /// TLS from the first byte (SMTPS, POP3S).
    Implicit,
    /// Plain first, then STARTTLS.
    StartTls,
}

/// The TLS protocol version to offer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum TlsVersion {
    /// SSL 3.0.
    Ssl3,
    /// TLS 1.0.
    Tls1_0,
    /// TLS 1.1.
    Tls1_1,
    /// TLS 1.2.
    Tls1_2,
    /// Whatever both sides support.
    #[default]
    Any,
}

/// The cipher suites to offer.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum CipherSuites {
    /// All the module supports.
    #[default]
    Any,
    /// Only these, by IANA name (e.g. `TLS_RSA_WITH_AES_256_CBC_SHA`).
    Only(Vec<String>),
}

/// A certificate, already on the module or to be uploaded.
#[derive(Clone, PartialEq, Eq)]
pub enum CertSource {
    /// A file on the module's file system.
    Module(ModulePath),
    /// PEM bytes the dialect uploads before use.
    Pem(Vec<u8>),
}

impl fmt::Debug for CertSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CertSource::Module(p) => write!(f, "Module({p})"),
            CertSource::Pem(b) => write!(f, "Pem({} bytes)", b.len()),
        }
    }
}

/// A private key: like a certificate, but never shown.
#[derive(Clone, PartialEq, Eq)]
pub struct KeySource(pub CertSource);

impl fmt::Debug for KeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            CertSource::Module(p) => write!(f, "KeySource(Module({p}))"),
            CertSource::Pem(_) => f.write_str("KeySource(***)"),
        }
    }
}

/// How much of the peer's identity the module checks.
///
/// Mutual TLS with the CA already on the module and the client certificate
/// and key uploaded by the dialect; the key never shows in `Debug`:
///
/// ```
/// use cellmail::{CertSource, KeySource, Verify};
/// let verify = Verify::Mutual {
///     ca: CertSource::Module("RAM:ca.pem".parse()?),
///     client_cert: CertSource::Pem(b"-----BEGIN CERTIFICATE-----...".to_vec()),
///     client_key: KeySource(CertSource::Pem(b"-----BEGIN PRIVATE KEY-----...".to_vec())),
/// };
/// assert!(!format!("{verify:?}").contains("PRIVATE"));
/// # Ok::<(), cellmail::MailError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum Verify {
    /// No check (the module's security level 0).
    #[default]
    None,
    /// Check the server's certificate against a CA certificate.
    Server {
        /// The CA certificate.
        ca: CertSource,
    },
    /// Check the server and present a client certificate.
    Mutual {
        /// The CA certificate.
        ca: CertSource,
        /// The client certificate.
        client_cert: CertSource,
        /// The client's private key.
        client_key: KeySource,
    },
}

/// TLS settings of one connection.
///
/// ```
/// use cellmail::{TlsMode, TlsSettings};
/// let tls = TlsSettings { mode: TlsMode::StartTls, ignore_module_clock: true, ..Default::default() };
/// assert_eq!(tls.mode, TlsMode::StartTls);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct TlsSettings {
    /// None, implicit or STARTTLS.
    pub mode: TlsMode,
    /// The protocol version.
    pub version: TlsVersion,
    /// The cipher suites.
    pub ciphers: CipherSuites,
    /// Certificate checks.
    pub verify: Verify,
    /// Check certificate validity without trusting the module clock (which may
    /// read 1980 after boot).
    pub ignore_module_clock: bool,
}

/// An SMTP account.
///
/// ```
/// use cellmail::{Auth, Secret, ServerAddr, SmtpAccount};
/// let account = SmtpAccount {
///     server: ServerAddr::new("smtp.example.com", 587),
///     auth: Auth::Login { user: "meter-17".into(), password: Secret::new("s3cret") },
///     tls: Default::default(),
/// };
/// assert!(!format!("{account:?}").contains("s3cret"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SmtpAccount {
    /// Server and port.
    pub server: ServerAddr,
    /// Authentication.
    pub auth: Auth,
    /// TLS.
    pub tls: TlsSettings,
}

/// A POP3 account.
///
/// ```
/// use cellmail::{Pop3Account, Secret, ServerAddr};
/// let account = Pop3Account {
///     server: ServerAddr::new("pop.example.com", 110),
///     user: "meter-17".into(),
///     password: Secret::new("s3cret"),
///     tls: Default::default(),
/// };
/// assert!(!format!("{account:?}").contains("s3cret"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pop3Account {
    /// Server and port.
    pub server: ServerAddr,
    /// The user name.
    pub user: String,
    /// The password.
    pub password: Secret,
    /// TLS.
    pub tls: TlsSettings,
}

/// The packet-data bearer (APN) a module needs before any TCP.
///
/// ```
/// use cellmail::{Bearer, Secret};
/// let bearer = Bearer {
///     apn: "internet.m2m".into(),
///     user: Some("m2m".into()),
///     password: Some(Secret::new("apn-pass")),
/// };
/// assert!(!format!("{bearer:?}").contains("apn-pass"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bearer {
    /// The access point name.
    pub apn: String,
    /// The APN user, if any.
    pub user: Option<String>,
    /// The APN password, if any.
    pub password: Option<Secret>,
}

impl Bearer {
    /// A bearer of an APN alone, no login (what most M2M SIMs need).
    ///
    /// ```
    /// let bearer = cellmail::Bearer::new("CMNET");
    /// assert_eq!((bearer.apn.as_str(), bearer.user), ("CMNET", None));
    /// ```
    pub fn new(apn: impl Into<String>) -> Self {
        Self {
            apn: apn.into(),
            user: None,
            password: None,
        }
    }
}
