//! Typed Quectel commands (sans-I/O): each function builds the
//! [`Command`] the manual defines, with its prompt, deferred result and
//! timeout; the `parse_*` functions read the answers.
//!
//! Sources: GSM_SMTP_ATC_V1.1 §2.2 (SMTP), GSM SMTPS application note V3.1
//! §2-3 (AT+QSSLCFG, PDP bring-up, AT+QFUPL/AT+QFDEL, AT+CCLK).

use std::time::Duration;

use cellmail::Charset;
use cellmail_at::fields::{self, Field};
use cellmail_at::{Command, PromptKind, Response, Secret};

/// A parameter the manuals do not allow: refused while the command is built,
/// before anything can be written.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    /// A number outside the range the manual gives.
    #[error("{parameter} is {value}, the manual allows {min} to {max}")]
    OutOfRange {
        /// The parameter as the manual names it, e.g. `<timeout> of AT+QSMTPPUT`.
        parameter: &'static str,
        /// The value given.
        value: i64,
        /// The smallest allowed value.
        min: i64,
        /// The largest allowed value.
        max: i64,
    },
    /// A string longer than the manual allows.
    #[error("{parameter} is {len} characters long, the manual allows at most {max}")]
    TooLong {
        /// The parameter.
        parameter: &'static str,
        /// Its length as it would be sent.
        len: usize,
        /// The manual's maximum.
        max: usize,
    },
    /// Bytes that are not ASCII where the manual asks for ASCII.
    #[error("{parameter} holds a byte that is not ASCII, which <charset> 0 (ASCII) cannot carry")]
    NotAscii {
        /// The parameter.
        parameter: &'static str,
    },
    /// A parameter given without the one it follows (the command's
    /// parameters are positional: it cannot be sent alone).
    #[error("{parameter} is given without {needs}, which comes before it")]
    Unpaired {
        /// The parameter given.
        parameter: &'static str,
        /// The parameter missing.
        needs: &'static str,
    },
}

/// A number the manual allows only within a range, checked when made.
macro_rules! ranged {
    ($(#[$doc:meta])* $name:ident($ty:ty), $param:literal, $min:literal..=$max:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name($ty);

        impl $name {
            /// The smallest value the manual allows.
            pub const MIN: $ty = $min;
            /// The largest value the manual allows.
            pub const MAX: $ty = $max;

            /// `value`, or [`CommandError::OutOfRange`] naming the parameter.
            pub fn new(value: $ty) -> Result<Self, CommandError> {
                if (Self::MIN..=Self::MAX).contains(&value) {
                    Ok(Self(value))
                } else {
                    Err(CommandError::OutOfRange {
                        parameter: $param,
                        value: i64::from(value),
                        min: i64::from(Self::MIN),
                        max: i64::from(Self::MAX),
                    })
                }
            }

            /// The value.
            pub fn get(self) -> $ty {
                self.0
            }
        }

        impl TryFrom<$ty> for $name {
            type Error = CommandError;
            fn try_from(value: $ty) -> Result<Self, CommandError> {
                Self::new(value)
            }
        }
    };
}

ranged!(
    /// `<timeout>` of `AT+QSMTPPUT=<timeout>`: 100-48000 s (GSM_SMTP_ATC_V1.1 §2.2.13).
    SendTimeout(u32),
    "<timeout> of AT+QSMTPPUT",
    100..=48_000
);
ranged!(
    /// `<timeout>` of `AT+QSMTPBODY` and `AT+QSMTPATT` through the UART:
    /// 1-48000 s (§2.2.9; the test form of §2.2.8 answers `(1-48000)`).
    TransferTimeout(u32),
    "<timeout> of AT+QSMTPBODY/AT+QSMTPATT",
    1..=48_000
);
ranged!(
    /// `<filesz>` of `AT+QSMTPATT`: 0-102400 bytes (§2.2.9).
    AttachmentSize(u32),
    "<filesz> of AT+QSMTPATT",
    0..=102_400
);
ranged!(
    /// `<fileindex>` of `AT+QSMTPDATT`: 1-10 (§2.2.10, test form `(1-10)`).
    AttachmentIndex(u8),
    "<fileindex> of AT+QSMTPDATT",
    1..=10
);
ranged!(
    /// `<ctxindex>`, an SSL context: 0-5 (SMTPS note §2.2.1).
    SslContext(u8),
    "<ctxindex> of AT+QSSLCFG",
    0..=5
);

/// A parameter the manual defines as a list of numbered choices.
macro_rules! coded {
    ($(#[$doc:meta])* $name:ident, $param:literal {
        $($(#[$vdoc:meta])* $variant:ident = $code:literal,)*
    }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vdoc])* $variant,)*
        }

        impl $name {
            /// Every value, in the manual's order.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The module's number.
            pub fn code(self) -> u8 {
                match self {
                    $($name::$variant => $code,)*
                }
            }

            /// The value for the module's number.
            pub fn from_code(code: i64) -> Result<Self, CommandError> {
                match code {
                    $($code => Ok($name::$variant),)*
                    other => Err(CommandError::OutOfRange {
                        parameter: $param,
                        value: other,
                        min: 0,
                        max: i64::from($name::ALL.iter().fold(0, |m, v| m.max(v.code()))),
                    }),
                }
            }
        }
    };
}

coded!(
    /// `<sslversion>` (SMTPS note §2.2.1, Table 1).
    SslVersion, "<sslversion>" {
        /// 0: SSL 3.0
        Ssl3 = 0,
        /// 1: TLS 1.0
        Tls1_0 = 1,
        /// 2: TLS 1.1
        Tls1_1 = 2,
        /// 3: TLS 1.2
        Tls1_2 = 3,
        /// 4: all supported
        All = 4,
    }
);
coded!(
    /// `<seclevel>` (SMTPS note §2.2.1).
    SecLevel, "<seclevel>" {
        /// 0: no authentication
        None = 0,
        /// 1: server authentication
        Server = 1,
        /// 2: server and client authentication (if the server asks)
        ServerAndClient = 2,
    }
);
coded!(
    /// `<smtpstyle>` (SMTPS note §2.2.1).
    SmtpStyle, "<smtpstyle>" {
        /// 0: no SSL
        Plain = 0,
        /// 1: SSL from the start
        Ssl = 1,
        /// 2: SSL with STARTTLS
        StartTls = 2,
    }
);

/// `<ciphersuite>`: one code of the SMTPS note's Table 2, or `0XFFFF` for all.
/// The note's syntax reads "list of supported `<ciphersuite>`s" but never
/// shows how a list is written, so one value is sent at a time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CipherSuite {
    /// `0X0035` TLS_RSA_WITH_AES_256_CBC_SHA
    RsaAes256CbcSha,
    /// `0X002F` TLS_RSA_WITH_AES_128_CBC_SHA
    RsaAes128CbcSha,
    /// `0X0005` TLS_RSA_WITH_RC4_128_SHA
    RsaRc4128Sha,
    /// `0X0004` TLS_RSA_WITH_RC4_128_MD5
    RsaRc4128Md5,
    /// `0X000A` TLS_RSA_WITH_3DES_EDE_CBC_SHA
    Rsa3desEdeCbcSha,
    /// `0X003D` TLS_RSA_WITH_AES_256_CBC_SHA256
    RsaAes256CbcSha256,
    /// `0XFFFF`: every suite the module supports.
    All,
}

impl CipherSuite {
    /// Every suite of Table 2 (without [`CipherSuite::All`]).
    pub const TABLE: &'static [CipherSuite] = &[
        CipherSuite::RsaAes256CbcSha,
        CipherSuite::RsaAes128CbcSha,
        CipherSuite::RsaRc4128Sha,
        CipherSuite::RsaRc4128Md5,
        CipherSuite::Rsa3desEdeCbcSha,
        CipherSuite::RsaAes256CbcSha256,
    ];

    /// The code as the module writes it: `0X0035`.
    pub fn code(self) -> &'static str {
        match self {
            CipherSuite::RsaAes256CbcSha => "0X0035",
            CipherSuite::RsaAes128CbcSha => "0X002F",
            CipherSuite::RsaRc4128Sha => "0X0005",
            CipherSuite::RsaRc4128Md5 => "0X0004",
            CipherSuite::Rsa3desEdeCbcSha => "0X000A",
            CipherSuite::RsaAes256CbcSha256 => "0X003D",
            CipherSuite::All => "0XFFFF",
        }
    }

    /// The IANA name (Table 2), `None` for [`CipherSuite::All`].
    pub fn iana_name(self) -> Option<&'static str> {
        Some(match self {
            CipherSuite::RsaAes256CbcSha => "TLS_RSA_WITH_AES_256_CBC_SHA",
            CipherSuite::RsaAes128CbcSha => "TLS_RSA_WITH_AES_128_CBC_SHA",
            CipherSuite::RsaRc4128Sha => "TLS_RSA_WITH_RC4_128_SHA",
            CipherSuite::RsaRc4128Md5 => "TLS_RSA_WITH_RC4_128_MD5",
            CipherSuite::Rsa3desEdeCbcSha => "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
            CipherSuite::RsaAes256CbcSha256 => "TLS_RSA_WITH_AES_256_CBC_SHA256",
            CipherSuite::All => return None,
        })
    }

    /// The suite of Table 2 with this IANA name.
    ///
    /// ```
    /// use cellmail_quectel::commands::CipherSuite;
    /// let s = CipherSuite::from_iana_name("TLS_RSA_WITH_AES_128_CBC_SHA");
    /// assert_eq!(s.map(CipherSuite::code), Some("0X002F"));
    /// assert_eq!(CipherSuite::from_iana_name("TLS_AES_128_GCM_SHA256"), None);
    /// ```
    pub fn from_iana_name(name: &str) -> Option<Self> {
        Self::TABLE
            .iter()
            .copied()
            .find(|s| s.iana_name() == Some(name))
    }
}

/// Deferred result prefixes.
pub mod prefix {
    /// `+QSMTPDST: <result>`
    pub const DST: &str = "+QSMTPDST:";
    /// `+QSMTPBODY: <len|err>`
    pub const BODY: &str = "+QSMTPBODY:";
    /// `+QSMTPATT: <len|err>`
    pub const ATT: &str = "+QSMTPATT:";
    /// `+QSMTPDATT: <result>`
    pub const DATT: &str = "+QSMTPDATT:";
    /// `+QSMTPPUT: <result>`
    pub const PUT: &str = "+QSMTPPUT:";
    /// `+QFUPL: <size>,<checksum>`
    pub const FUPL: &str = "+QFUPL:";
}

/// The module's code for a character set (`AT+QSMTPSUB`, `AT+QSMTPBODY`).
pub fn charset_code(charset: Charset) -> i64 {
    match charset {
        Charset::Ascii => 0,
        Charset::Utf8 => 1,
        Charset::Gb2312 => 2,
        Charset::Big5 => 3,
    }
}

/// `AT+QSMTPUSER="<user>"`
pub fn set_user(user: &str) -> Command {
    Command::write("+QSMTPUSER").string("user", user)
}

/// `AT+QSMTPUSER?`
pub fn read_user() -> Command {
    Command::read("+QSMTPUSER")
}

/// `AT+QSMTPUSER=?`
pub fn test_user() -> Command {
    Command::test("+QSMTPUSER")
}

/// `AT+QSMTPPWD="<pwd>"`, redacted wherever it is shown.
pub fn set_password(password: &Secret) -> Command {
    Command::write("+QSMTPPWD").secret("pwd", password)
}

/// `AT+QSMTPPWD?` — the module answers a mask, never the password.
pub fn read_password() -> Command {
    Command::read("+QSMTPPWD")
}

/// `AT+QSMTPPWD=?`
pub fn test_password() -> Command {
    Command::test("+QSMTPPWD")
}

/// `AT+QSMTPADDR="<addr>"`
pub fn set_sender_address(address: &str) -> Command {
    Command::write("+QSMTPADDR").string("addr", address)
}

/// `AT+QSMTPADDR?`
pub fn read_sender_address() -> Command {
    Command::read("+QSMTPADDR")
}

/// `AT+QSMTPADDR=?`
pub fn test_sender_address() -> Command {
    Command::test("+QSMTPADDR")
}

/// `AT+QSMTPNAME="<name>"`
pub fn set_sender_name(name: &str) -> Command {
    Command::write("+QSMTPNAME").string("name", name)
}

/// `AT+QSMTPNAME?`
pub fn read_sender_name() -> Command {
    Command::read("+QSMTPNAME")
}

/// `AT+QSMTPNAME=?`
pub fn test_sender_name() -> Command {
    Command::test("+QSMTPNAME")
}

/// `AT+QSMTPSRV="<srvaddr>",<port>`
///
/// ```
/// let cmd = cellmail_quectel::commands::set_server("smtp.163.com", 25);
/// assert_eq!(cmd.encode().unwrap(), b"AT+QSMTPSRV=\"smtp.163.com\",25\r");
/// ```
pub fn set_server(host: &str, port: u16) -> Command {
    Command::write("+QSMTPSRV")
        .string("srvaddr", host)
        .int(i64::from(port))
}

/// `AT+QSMTPSRV?`
pub fn read_server() -> Command {
    Command::read("+QSMTPSRV")
}

/// `AT+QSMTPSRV=?`
pub fn test_server() -> Command {
    Command::test("+QSMTPSRV")
}

/// The manual's recipient types (`AT+QSMTPDST` `<type>`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecipientType {
    /// 1: receiver
    To = 1,
    /// 2: copy receiver
    Cc = 2,
    /// 3: secret receiver
    Bcc = 3,
}

impl From<cellmail::RecipientKind> for RecipientType {
    fn from(kind: cellmail::RecipientKind) -> Self {
        match kind {
            cellmail::RecipientKind::To => RecipientType::To,
            cellmail::RecipientKind::Cc => RecipientType::Cc,
            cellmail::RecipientKind::Bcc => RecipientType::Bcc,
        }
    }
}

fn dst(mode: i64) -> Command {
    Command::write("+QSMTPDST")
        .int(mode)
        .expect_deferred(prefix::DST)
}

/// `AT+QSMTPDST=1,<type>,"<e-addr>"` → `OK`, then `+QSMTPDST: <result>`.
pub fn add_recipient(kind: RecipientType, address: &str) -> Command {
    dst(1).int(kind as i64).string("e-addr", address)
}

/// `AT+QSMTPDST=0,<type>,"<e-addr>"`: deletes one recipient.
pub fn delete_recipient(kind: RecipientType, address: &str) -> Command {
    dst(0).int(kind as i64).string("e-addr", address)
}

/// `AT+QSMTPDST=0,<type>`: deletes every recipient of a type.
pub fn delete_recipients_of(kind: RecipientType) -> Command {
    dst(0).int(kind as i64)
}

/// `AT+QSMTPDST=0`: deletes every recipient.
pub fn delete_all_recipients() -> Command {
    dst(0)
}

/// `AT+QSMTPDST?`
pub fn read_recipients() -> Command {
    Command::read("+QSMTPDST")
}

/// `AT+QSMTPDST=?`
pub fn test_recipients() -> Command {
    Command::test("+QSMTPDST")
}

/// Longest `<title>` with `<charset>` 0 (ASCII), §2.2.7.
pub const TITLE_ASCII_MAX: usize = 100;
/// Longest `<title>` as a hex string with any other charset, §2.2.7.
pub const TITLE_HEX_MAX: usize = 200;

/// `AT+QSMTPSUB=<charset>,"<title>"` (§2.2.7): `title` holds the bytes of the
/// subject in `charset` (see [`cellmail::Email::subject_bytes`]). With ASCII
/// they are sent as they are (at most 100), with any other charset as a hex
/// string (at most 200 hex digits).
///
/// ```
/// use cellmail::Charset;
/// use cellmail_quectel::commands::set_subject;
/// let cmd = set_subject(Charset::Utf8, "é".as_bytes())?;
/// assert_eq!(cmd.encode().unwrap(), b"AT+QSMTPSUB=1,\"C3A9\"\r");
/// assert!(set_subject(Charset::Ascii, "é".as_bytes()).is_err());
/// assert!(set_subject(Charset::Gb2312, &[0xD6; 101]).is_err());
/// # Ok::<(), cellmail_quectel::commands::CommandError>(())
/// ```
pub fn set_subject(charset: Charset, title: &[u8]) -> Result<Command, CommandError> {
    let cmd = Command::write("+QSMTPSUB").int(charset_code(charset));
    match charset {
        Charset::Ascii => {
            let text = std::str::from_utf8(title)
                .ok()
                .filter(|t| t.is_ascii())
                .ok_or(CommandError::NotAscii {
                    parameter: "<title> of AT+QSMTPSUB",
                })?;
            if text.len() > TITLE_ASCII_MAX {
                return Err(CommandError::TooLong {
                    parameter: "<title> of AT+QSMTPSUB",
                    len: text.len(),
                    max: TITLE_ASCII_MAX,
                });
            }
            Ok(cmd.string("title", text))
        }
        _ => {
            if title.len() * 2 > TITLE_HEX_MAX {
                return Err(CommandError::TooLong {
                    parameter: "<title> of AT+QSMTPSUB (hex)",
                    len: title.len() * 2,
                    max: TITLE_HEX_MAX,
                });
            }
            Ok(cmd.hex(title))
        }
    }
}

/// `AT+QSMTPSUB?`
pub fn read_subject() -> Command {
    Command::read("+QSMTPSUB")
}

/// `AT+QSMTPSUB=?`
pub fn test_subject() -> Command {
    Command::test("+QSMTPSUB")
}

/// `AT+QSMTPBODY=<charset>[,<timeout>]` → `OK`, `CONNECT`, body, `+++`,
/// `+QSMTPBODY: <len|err>` (§2.2.8). Without a timeout the module waits for
/// the body without limit.
///
/// ```
/// use cellmail::Charset;
/// use cellmail_quectel::commands::{body, TransferTimeout};
/// assert_eq!(body(Charset::Utf8, None).encode().unwrap(), b"AT+QSMTPBODY=1\r");
/// let t = TransferTimeout::new(60)?;
/// assert_eq!(body(Charset::Ascii, Some(t)).encode().unwrap(), b"AT+QSMTPBODY=0,60\r");
/// assert!(TransferTimeout::new(48_001).is_err());
/// # Ok::<(), cellmail_quectel::commands::CommandError>(())
/// ```
pub fn body(charset: Charset, timeout: Option<TransferTimeout>) -> Command {
    let cmd = Command::write("+QSMTPBODY").int(charset_code(charset));
    let cmd = match timeout {
        Some(t) => cmd.int(i64::from(t.get())),
        None => cmd,
    };
    cmd.expect_prompt(PromptKind::Connect)
        .expect_deferred(prefix::BODY)
}

/// `AT+QSMTPBODY=?`
pub fn test_body() -> Command {
    Command::test("+QSMTPBODY")
}

/// `AT+QSMTPATT="<filename>",<filesz>,<timeout>`: an attachment through the
/// UART → `CONNECT`, data, `+++`, `+QSMTPATT: <len|err>` (§2.2.9).
pub fn attach_serial(name: &str, size: AttachmentSize, timeout: TransferTimeout) -> Command {
    Command::write("+QSMTPATT")
        .string("filename", name)
        .int(i64::from(size.get()))
        .int(i64::from(timeout.get()))
        .expect_prompt(PromptKind::Connect)
        .expect_deferred(prefix::ATT)
}

/// `AT+QSMTPATT="<filename>"` without size: the v1.1 manual's form for data
/// through the UART (§4.4) → `CONNECT`, data, `+++`, `+QSMTPATT: <len>`.
pub fn attach_serial_unsized(name: &str) -> Command {
    Command::write("+QSMTPATT")
        .string("filename", name)
        .expect_prompt(PromptKind::Connect)
        .expect_deferred(prefix::ATT)
}

/// `AT+QSMTPATT="RAM:pic.jpg"` (SMTPS note §3), `"/UFS/x"` (v1.1 §2.2.9, §4.5)
/// or, on the M33 only, `"/SD/x"` and `"/RAM/x"` (§2.2.9): a file already on
/// the module → `OK`, `+QSMTPATT: <len|err>`.
pub fn attach_module_file(path: &str) -> Command {
    Command::write("+QSMTPATT")
        .string("filename", path)
        .expect_deferred(prefix::ATT)
}

/// `AT+QSMTPATT?`
pub fn read_attachments() -> Command {
    Command::read("+QSMTPATT")
}

/// `AT+QSMTPATT=?`
pub fn test_attachments() -> Command {
    Command::test("+QSMTPATT")
}

/// `AT+QSMTPDATT=<fileindex>` → `OK`, `+QSMTPDATT: <result>` (§2.2.10).
pub fn delete_attachment(index: AttachmentIndex) -> Command {
    Command::write("+QSMTPDATT")
        .int(i64::from(index.get()))
        .expect_deferred(prefix::DATT)
}

/// `AT+QSMTPDATT`: deletes every attachment.
pub fn delete_all_attachments() -> Command {
    Command::exec("+QSMTPDATT").expect_deferred(prefix::DATT)
}

/// `AT+QSMTPDATT=?`
pub fn test_delete_attachment() -> Command {
    Command::test("+QSMTPDATT")
}

/// `AT+QSMTPCLR`: clears user, password, sender, server, recipients,
/// subject, body and attachments (§2.2.11).
pub fn clear() -> Command {
    Command::exec("+QSMTPCLR")
}

/// `AT+QSMTPCLR=?`
pub fn test_clear() -> Command {
    Command::test("+QSMTPCLR")
}

/// `AT+QSMTPCFG=1,<0|1>`: whether the server needs authentication.
pub fn set_authentication(required: bool) -> Command {
    Command::write("+QSMTPCFG").int(1).int(i64::from(required))
}

/// `AT+QSMTPCFG=1`: queries the authentication setting (`+QSMTPCFG: <value>`).
pub fn query_authentication() -> Command {
    Command::write("+QSMTPCFG").int(1)
}

/// `AT+QSMTPCFG=?`
pub fn test_config() -> Command {
    Command::test("+QSMTPCFG")
}

/// Margin over the module's own send timeout before the host gives up.
const PUT_MARGIN: Duration = Duration::from_secs(30);

/// `AT+QSMTPPUT[=<timeout>]` → `OK`, later `+QSMTPPUT: <result>`
/// (§2.2.13). Without a timeout the module tries without time limit.
///
/// ```
/// use cellmail_quectel::commands::{send, SendTimeout};
/// assert_eq!(send(None).encode().unwrap(), b"AT+QSMTPPUT\r");
/// assert_eq!(send(Some(SendTimeout::new(800)?)).encode().unwrap(), b"AT+QSMTPPUT=800\r");
/// assert!(SendTimeout::new(99).is_err());
/// # Ok::<(), cellmail_quectel::commands::CommandError>(())
/// ```
pub fn send(timeout: Option<SendTimeout>) -> Command {
    match timeout {
        Some(t) => Command::write("+QSMTPPUT").int(i64::from(t.get())),
        None => Command::exec("+QSMTPPUT"),
    }
    .expect_deferred(prefix::PUT)
}

/// How long to wait for `+QSMTPPUT` after `OK`: the module's timeout and a margin.
pub fn send_wait(timeout: SendTimeout) -> Duration {
    Duration::from_secs(u64::from(timeout.get())) + PUT_MARGIN
}

/// `AT+QSMTPPUT=?`
pub fn test_send() -> Command {
    Command::test("+QSMTPPUT")
}

/// One `AT+QSSLCFG` setting (SMTPS note §2.2.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SslSetting {
    /// `"sslversion",<ctx>,<sslversion>`
    Version(SslContext, SslVersion),
    /// `"ciphersuite",<ctx>,"0X0035"` (or `"0XFFFF"` for all)
    CipherSuite(SslContext, CipherSuite),
    /// `"seclevel",<ctx>,<seclevel>`
    SecLevel(SslContext, SecLevel),
    /// `"cacert",<ctx>,"<file>"`
    CaCert(SslContext, String),
    /// `"clientcert",<ctx>,"<file>"`
    ClientCert(SslContext, String),
    /// `"clientkey",<ctx>,"<file>"`
    ClientKey(SslContext, String),
    /// `"ignorertctime",<0|1>`
    IgnoreRtcTime(bool),
    /// `"smtpstyle",<smtpstyle>`
    SmtpStyle(SmtpStyle),
    /// `"smtpsctxi",<ctx>`
    SmtpsContext(SslContext),
}

impl SslSetting {
    /// The key and the context it applies to, if any.
    pub fn key(&self) -> (&'static str, Option<SslContext>) {
        match self {
            SslSetting::Version(c, _) => ("sslversion", Some(*c)),
            SslSetting::CipherSuite(c, _) => ("ciphersuite", Some(*c)),
            SslSetting::SecLevel(c, _) => ("seclevel", Some(*c)),
            SslSetting::CaCert(c, _) => ("cacert", Some(*c)),
            SslSetting::ClientCert(c, _) => ("clientcert", Some(*c)),
            SslSetting::ClientKey(c, _) => ("clientkey", Some(*c)),
            SslSetting::IgnoreRtcTime(_) => ("ignorertctime", None),
            SslSetting::SmtpStyle(_) => ("smtpstyle", None),
            SslSetting::SmtpsContext(_) => ("smtpsctxi", None),
        }
    }
}

/// `AT+QSSLCFG="<key>",...` writing one setting.
///
/// ```
/// use cellmail_quectel::commands::{ssl_set, CipherSuite, SmtpStyle, SslContext, SslSetting};
/// assert_eq!(ssl_set(&SslSetting::SmtpStyle(SmtpStyle::StartTls)).encode().unwrap(),
///            b"AT+QSSLCFG=\"smtpstyle\",2\r");
/// let ctx = SslContext::new(0)?;
/// assert_eq!(ssl_set(&SslSetting::CipherSuite(ctx, CipherSuite::All)).encode().unwrap(),
///            b"AT+QSSLCFG=\"ciphersuite\",0,\"0XFFFF\"\r");
/// assert!(SslContext::new(6).is_err());
/// # Ok::<(), cellmail_quectel::commands::CommandError>(())
/// ```
pub fn ssl_set(setting: &SslSetting) -> Command {
    let (key, ctx) = setting.key();
    let cmd = Command::write("+QSSLCFG").string("type", key);
    let cmd = match ctx {
        Some(c) => cmd.int(i64::from(c.get())),
        None => cmd,
    };
    match setting {
        SslSetting::Version(_, v) => cmd.int(i64::from(v.code())),
        SslSetting::SecLevel(_, l) => cmd.int(i64::from(l.code())),
        SslSetting::SmtpStyle(s) => cmd.int(i64::from(s.code())),
        SslSetting::SmtpsContext(c) => cmd.int(i64::from(c.get())),
        SslSetting::IgnoreRtcTime(on) => cmd.int(i64::from(*on)),
        SslSetting::CipherSuite(_, s) => cmd.string("ciphersuite", s.code()),
        SslSetting::CaCert(_, f) => cmd.string("cacertname", f.as_str()),
        SslSetting::ClientCert(_, f) => cmd.string("clientcertname", f.as_str()),
        SslSetting::ClientKey(_, f) => cmd.string("clientkeyname", f.as_str()),
    }
}

/// `AT+QSSLCFG="<key>"[,<ctx>]`: queries one setting (`+QSSLCFG: "<key>",<value>`).
pub fn ssl_query(key: &'static str, ctx: Option<SslContext>) -> Command {
    let cmd = Command::write("+QSSLCFG").string("type", key);
    match ctx {
        Some(c) => cmd.int(i64::from(c.get())),
        None => cmd,
    }
}

/// `AT+QSSLCFG="ctxindex",<ctx>`: queries a whole SSL context (answer:
/// [`parse_ssl_context`]).
pub fn ssl_query_context(ctx: SslContext) -> Command {
    ssl_query("ctxindex", Some(ctx))
}

/// `AT+QSSLCFG=?`
pub fn ssl_test() -> Command {
    Command::test("+QSSLCFG")
}

/// `AT+QIFGCNT=<id>`: the foreground context.
pub fn foreground_context(id: u8) -> Command {
    Command::write("+QIFGCNT").int(i64::from(id))
}

/// `AT+QICSGP=1,"<apn>"[,"<user>"[,"<pwd>"]]`: GPRS mode and APN (SMTPS
/// note §1.2 step 1: "the APN, username, password of the context profile").
/// The parameters are positional, so a password without a user name cannot
/// be sent: [`CommandError::Unpaired`] rather than a password silently
/// dropped.
///
/// ```
/// use cellmail_at::Secret;
/// use cellmail_quectel::commands::{set_apn, CommandError};
/// let cmd = set_apn("CMNET", None, None)?;
/// assert_eq!(cmd.encode().unwrap(), b"AT+QICSGP=1,\"CMNET\"\r");
/// assert!(matches!(
///     set_apn("CMNET", None, Some(&Secret::new("pw"))),
///     Err(CommandError::Unpaired { .. })
/// ));
/// # Ok::<(), CommandError>(())
/// ```
pub fn set_apn(
    apn: &str,
    user: Option<&str>,
    password: Option<&Secret>,
) -> Result<Command, CommandError> {
    let cmd = Command::write("+QICSGP").int(1).string("apn", apn);
    match (user, password) {
        (Some(u), Some(p)) => Ok(cmd.string("user", u).secret("pwd", p)),
        (Some(u), None) => Ok(cmd.string("user", u)),
        (None, Some(_)) => Err(CommandError::Unpaired {
            parameter: "<password> of AT+QICSGP",
            needs: "<user name>",
        }),
        (None, None) => Ok(cmd),
    }
}

/// `AT+QIREGAPP`: registers to the TCP/IP stack.
pub fn register_app() -> Command {
    Command::exec("+QIREGAPP")
}

/// `AT+QIACT`: activates the GPRS context (the network may take long).
pub fn activate() -> Command {
    Command::exec("+QIACT").timeout(Duration::from_secs(150))
}

fn is_ip_address(line: &str) -> bool {
    line.trim().parse::<std::net::IpAddr>().is_ok()
}

/// `AT+QILOCIP`: answers the local IP address alone, without `OK`.
pub fn local_ip() -> Command {
    Command::exec("+QILOCIP").expect_final_line(is_ip_address)
}

/// `AT+QIDEACT` → `DEACT OK`.
pub fn deactivate() -> Command {
    Command::exec("+QIDEACT").timeout(Duration::from_secs(40))
}

/// `AT+CGATT?`: packet domain attached?
pub fn read_attach() -> Command {
    Command::read("+CGATT")
}

/// `AT+CGATT=1`: attaches the packet domain, what the SMTPS note §1.4.1
/// (item 1) says to do when `AT+CGATT?` answers 0 after `AT+QIACT` failed.
pub fn attach() -> Command {
    Command::write("+CGATT")
        .int(1)
        .timeout(Duration::from_secs(75))
}

/// `AT+CGREG?`: packet domain registration.
pub fn read_registration() -> Command {
    Command::read("+CGREG")
}

/// `AT+QFUPL="<file>",<max size>` → `CONNECT`, data (ended by `+++` when
/// shorter), `+QFUPL: <size>,<checksum>`, `OK`.
pub fn upload(file: &str, max_size: u32) -> Command {
    Command::write("+QFUPL")
        .string("filename", file)
        .int(i64::from(max_size))
        .expect_prompt(PromptKind::Connect)
        .timeout(Duration::from_secs(60))
}

/// `AT+QFDEL="<file>"`
pub fn delete_file(file: &str) -> Command {
    Command::write("+QFDEL").string("filename", file)
}

/// `AT+CCLK="<yy/MM/dd,hh:mm:ss±zz>"`
pub fn set_clock(time: &str) -> Command {
    Command::write("+CCLK").string("time", time)
}

/// `AT+CCLK?`
pub fn read_clock() -> Command {
    Command::read("+CCLK")
}

/// The `<result>` of a deferred line such as `+QSMTPPUT: -535`.
pub fn parse_result(line: &str, prefix: &str) -> Option<i32> {
    fields::int(line, prefix).and_then(|v| i32::try_from(v).ok())
}

/// One row of `AT+QSMTPATT?`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttachmentRow {
    /// 1-based index.
    pub index: u8,
    /// File name.
    pub name: String,
    /// Size in bytes.
    pub size: u64,
}

/// Parses the rows of `AT+QSMTPATT?`.
pub fn parse_attachments(r: &Response) -> Vec<AttachmentRow> {
    r.info
        .iter()
        .filter_map(|l| fields::info(l, prefix::ATT))
        .filter_map(|f| match f.as_slice() {
            [i, name, size] => Some(AttachmentRow {
                index: u8::try_from(i.as_int()?).ok()?,
                name: name.as_str().to_owned(),
                size: u64::try_from(size.as_int()?).ok()?,
            }),
            _ => None,
        })
        .collect()
}

/// Parses the rows of `AT+QSMTPDST?`: (type, address).
pub fn parse_recipients(r: &Response) -> Vec<(i64, String)> {
    r.info
        .iter()
        .filter_map(|l| fields::info(l, prefix::DST))
        .filter_map(|f| match f.as_slice() {
            [t, a] => Some((t.as_int()?, a.as_str().to_owned())),
            _ => None,
        })
        .collect()
}

/// The `+QFUPL: <size>,<checksum>` of an upload (SMTPS note §3:
/// `+QFUPL: 26977,cea0`).
pub fn parse_upload(r: &Response) -> Option<(u64, String)> {
    match r.fields(prefix::FUPL)?.as_slice() {
        [size, sum] => Some((u64::try_from(size.as_int()?).ok()?, sum.as_str().to_owned())),
        _ => None,
    }
}

/// The value of a `+QSSLCFG: "<key>",<value>` answer.
pub fn parse_ssl_value(r: &Response) -> Option<String> {
    match r.fields("+QSSLCFG:")?.as_slice() {
        [_, value, ..] => Some(value.as_str().to_owned()),
        _ => None,
    }
}

/// The answer to `AT+QSSLCFG="ctxindex",<ctx>` (SMTPS note §2.2.1):
/// `+QSSLCFG: <ctxindex>,<sslversion>,<seclevel>,<ciphersuite>,<cacert>,<clientcertname>,<clientkeyname>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SslContextConfig {
    /// `<ctxindex>`
    pub ctx: SslContext,
    /// `<sslversion>`
    pub version: SslVersion,
    /// `<seclevel>`
    pub seclevel: SecLevel,
    /// `<ciphersuite>` as the module wrote it (e.g. `0XFFFF`).
    pub ciphersuite: String,
    /// `<cacert>`: the CA certificate file, empty when none is set.
    pub cacert: String,
    /// `<clientcertname>`, empty when none is set.
    pub clientcert: String,
    /// `<clientkeyname>`, empty when none is set.
    pub clientkey: String,
}

/// Parses the answer to [`ssl_query_context`]; `None` when the line is
/// missing, has another shape or a value outside the manual's ranges.
///
/// ```
/// use cellmail_quectel::commands::{parse_ssl_context, SecLevel, SslVersion};
/// let r = cellmail_at::Response {
///     info: vec![r#"+QSSLCFG: 0,1,0,"0XFFFF","","","""#.into()],
///     ..Default::default()
/// };
/// let c = parse_ssl_context(&r).unwrap();
/// assert_eq!((c.ctx.get(), c.version, c.seclevel), (0, SslVersion::Tls1_0, SecLevel::None));
/// ```
pub fn parse_ssl_context(r: &Response) -> Option<SslContextConfig> {
    match r.fields("+QSSLCFG:")?.as_slice() {
        [
            ctx,
            version,
            seclevel,
            ciphersuite,
            cacert,
            clientcert,
            clientkey,
        ] => Some(SslContextConfig {
            ctx: SslContext::new(u8::try_from(ctx.as_int()?).ok()?).ok()?,
            version: SslVersion::from_code(version.as_int()?).ok()?,
            seclevel: SecLevel::from_code(seclevel.as_int()?).ok()?,
            ciphersuite: ciphersuite.as_str().to_owned(),
            cacert: cacert.as_str().to_owned(),
            clientcert: clientcert.as_str().to_owned(),
            clientkey: clientkey.as_str().to_owned(),
        }),
        _ => None,
    }
}

/// A checksum of `data` in the form `AT+QFUPL` reports it: XOR of the data's
/// 16-bit big-endian words (an odd last byte is the high byte of its word),
/// in lower-case hex.
///
/// **Unverified**: the shared manuals show only `+QFUPL` results (SMTPS
/// note §3) and refer to GSM_FILE_ATC for the command; how the module
/// computes `<checksum>` is not in them. The mailer therefore checks only the
/// size of an upload and logs a checksum that differs from this one.
///
/// ```
/// assert_eq!(cellmail_quectel::commands::upload_checksum(b"\x12\x34\x56"), "4434");
/// ```
pub fn upload_checksum(data: &[u8]) -> String {
    // An odd last byte is the high byte of a word whose low byte is 0.
    let sum = data.chunks(2).fold(0u16, |acc, w| match *w {
        [hi, lo] => acc ^ u16::from_be_bytes([hi, lo]),
        [hi] => acc ^ u16::from_be_bytes([hi, 0]),
        _ => acc,
    });
    format!("{sum:x}")
}

/// First field of an information line as text (for `+QSMTPCFG: <value>` etc.).
pub fn first_field<'a>(r: &'a Response, prefix: &str) -> Option<Field<'a>> {
    r.fields(prefix)?.into_iter().next()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire(cmd: Command) -> String {
        String::from_utf8(cmd.encode().unwrap()).unwrap()
    }

    fn ctx(n: u8) -> SslContext {
        SslContext::new(n).unwrap()
    }

    #[test]
    fn forms_encode_as_the_manual_writes_them() {
        assert_eq!(wire(set_user("quectel")), "AT+QSMTPUSER=\"quectel\"\r");
        assert_eq!(wire(read_password()), "AT+QSMTPPWD?\r");
        assert_eq!(wire(test_server()), "AT+QSMTPSRV=?\r");
        assert_eq!(
            wire(add_recipient(RecipientType::Cc, "colin.hu@quectel.com")),
            "AT+QSMTPDST=1,2,\"colin.hu@quectel.com\"\r"
        );
        assert_eq!(
            wire(delete_recipients_of(RecipientType::Bcc)),
            "AT+QSMTPDST=0,3\r"
        );
        assert_eq!(wire(delete_all_recipients()), "AT+QSMTPDST=0\r");
        assert_eq!(
            wire(set_subject(Charset::Ascii, b"SMTP TEST").unwrap()),
            "AT+QSMTPSUB=0,\"SMTP TEST\"\r"
        );
        let ten = TransferTimeout::new(10).unwrap();
        assert_eq!(wire(body(Charset::Utf8, Some(ten))), "AT+QSMTPBODY=1,10\r");
        assert_eq!(wire(body(Charset::Big5, None)), "AT+QSMTPBODY=3\r");
        let size = AttachmentSize::new(300).unwrap();
        let sixty = TransferTimeout::new(60).unwrap();
        assert_eq!(
            wire(attach_serial("a.bin", size, sixty)),
            "AT+QSMTPATT=\"a.bin\",300,60\r"
        );
        assert_eq!(
            wire(attach_module_file("RAM:pic.jpg")),
            "AT+QSMTPATT=\"RAM:pic.jpg\"\r"
        );
        assert_eq!(
            wire(delete_attachment(AttachmentIndex::new(10).unwrap())),
            "AT+QSMTPDATT=10\r"
        );
        assert_eq!(wire(delete_all_attachments()), "AT+QSMTPDATT\r");
        assert_eq!(wire(set_authentication(false)), "AT+QSMTPCFG=1,0\r");
        let put = SendTimeout::new(800).unwrap();
        assert_eq!(wire(send(Some(put))), "AT+QSMTPPUT=800\r");
        assert_eq!(wire(send(None)), "AT+QSMTPPUT\r");
        assert_eq!(
            wire(set_apn("CMNET", None, None).unwrap()),
            "AT+QICSGP=1,\"CMNET\"\r"
        );
        assert_eq!(
            wire(set_apn("CMNET", Some("u"), Some(&Secret::new("p"))).unwrap()),
            "AT+QICSGP=1,\"CMNET\",\"u\",\"p\"\r"
        );
        assert_eq!(
            set_apn("CMNET", None, Some(&Secret::new("p"))).unwrap_err(),
            CommandError::Unpaired {
                parameter: "<password> of AT+QICSGP",
                needs: "<user name>",
            }
        );
        assert_eq!(wire(attach()), "AT+CGATT=1\r");
        assert_eq!(
            wire(upload("RAM:pic.jpg", 30000)),
            "AT+QFUPL=\"RAM:pic.jpg\",30000\r"
        );
        assert_eq!(
            wire(ssl_query("smtpsctxi", None)),
            "AT+QSSLCFG=\"smtpsctxi\"\r"
        );
        assert_eq!(
            wire(ssl_query_context(ctx(5))),
            "AT+QSSLCFG=\"ctxindex\",5\r"
        );
        assert_eq!(
            wire(ssl_set(&SslSetting::Version(ctx(0), SslVersion::Tls1_0))),
            "AT+QSSLCFG=\"sslversion\",0,1\r"
        );
    }

    #[test]
    fn every_ssl_value_encodes_its_manual_code() {
        let codes: Vec<u8> = SslVersion::ALL.iter().map(|v| v.code()).collect();
        assert_eq!(codes, [0, 1, 2, 3, 4]);
        let codes: Vec<u8> = SecLevel::ALL.iter().map(|v| v.code()).collect();
        assert_eq!(codes, [0, 1, 2]);
        let codes: Vec<u8> = SmtpStyle::ALL.iter().map(|v| v.code()).collect();
        assert_eq!(codes, [0, 1, 2]);
        assert_eq!(
            wire(ssl_set(&SslSetting::SecLevel(
                ctx(3),
                SecLevel::ServerAndClient
            ))),
            "AT+QSSLCFG=\"seclevel\",3,2\r"
        );
        assert_eq!(
            wire(ssl_set(&SslSetting::SmtpStyle(SmtpStyle::Ssl))),
            "AT+QSSLCFG=\"smtpstyle\",1\r"
        );
        assert_eq!(
            wire(ssl_set(&SslSetting::SmtpsContext(ctx(5)))),
            "AT+QSSLCFG=\"smtpsctxi\",5\r"
        );
        let codes: Vec<&str> = CipherSuite::TABLE.iter().map(|s| s.code()).collect();
        assert_eq!(
            codes,
            ["0X0035", "0X002F", "0X0005", "0X0004", "0X000A", "0X003D"]
        );
        for &s in CipherSuite::TABLE {
            let name = s.iana_name().unwrap();
            assert_eq!(CipherSuite::from_iana_name(name), Some(s));
        }
        assert_eq!(
            wire(ssl_set(&SslSetting::CipherSuite(
                ctx(1),
                CipherSuite::RsaAes256CbcSha256
            ))),
            "AT+QSSLCFG=\"ciphersuite\",1,\"0X003D\"\r"
        );
    }

    /// Each range at, below and above its bounds.
    #[test]
    fn ranges_are_the_manuals() {
        fn check<T: std::fmt::Debug>(
            new: impl Fn(i64) -> Result<T, CommandError>,
            min: i64,
            max: i64,
        ) {
            assert!(new(min).is_ok(), "{min}");
            assert!(new(max).is_ok(), "{max}");
            for bad in [min - 1, max + 1] {
                match new(bad) {
                    Err(CommandError::OutOfRange {
                        value,
                        min: lo,
                        max: hi,
                        ..
                    }) => {
                        assert_eq!((value, lo, hi), (bad, min, max));
                    }
                    other => panic!("{bad}: {other:?}"),
                }
            }
        }
        let u32_of = |v: i64| u32::try_from(v).unwrap_or(u32::MAX);
        check(|v| SendTimeout::new(u32_of(v)), 100, 48_000);
        check(|v| TransferTimeout::new(u32_of(v)), 1, 48_000);
        // AttachmentSize: 0 is the floor of u32 itself.
        assert!(AttachmentSize::new(0).is_ok() && AttachmentSize::new(102_400).is_ok());
        assert!(AttachmentSize::new(102_401).is_err());
        check(
            |v| AttachmentIndex::new(u8::try_from(v).unwrap_or(u8::MAX)),
            1,
            10,
        );
        // SslContext: 0 is the floor of u8 itself.
        assert!(SslContext::new(0).is_ok() && SslContext::new(5).is_ok());
        assert!(SslContext::new(6).is_err());
        check(SslVersion::from_code, 0, 4);
        check(SecLevel::from_code, 0, 2);
        check(SmtpStyle::from_code, 0, 2);
        let e = SendTimeout::new(99).unwrap_err();
        assert_eq!(
            e.to_string(),
            "<timeout> of AT+QSMTPPUT is 99, the manual allows 100 to 48000"
        );
    }

    #[test]
    fn subjects_stay_within_the_title_limits() {
        assert!(set_subject(Charset::Ascii, &[b'a'; 100]).is_ok());
        assert!(matches!(
            set_subject(Charset::Ascii, &[b'a'; 101]),
            Err(CommandError::TooLong {
                len: 101,
                max: 100,
                ..
            })
        ));
        assert!(matches!(
            set_subject(Charset::Ascii, "Zähler".as_bytes()),
            Err(CommandError::NotAscii { .. })
        ));
        assert!(set_subject(Charset::Gb2312, &[0xD6; 100]).is_ok());
        assert!(matches!(
            set_subject(Charset::Big5, &[0xA4; 101]),
            Err(CommandError::TooLong {
                len: 202,
                max: 200,
                ..
            })
        ));
        // GB2312 and BIG5 bytes go as they are, in hex: no second encoding.
        assert_eq!(
            wire(set_subject(Charset::Gb2312, &[0xD6, 0xD0, 0xCE, 0xC4]).unwrap()),
            "AT+QSMTPSUB=2,\"D6D0CEC4\"\r"
        );
        assert_eq!(
            wire(set_subject(Charset::Big5, &[0xA4, 0xA4, 0xA4, 0xE5]).unwrap()),
            "AT+QSMTPSUB=3,\"A4A4A4E5\"\r"
        );
        // An empty title is allowed (0-100).
        assert_eq!(
            wire(set_subject(Charset::Utf8, b"").unwrap()),
            "AT+QSMTPSUB=1,\"\"\r"
        );
    }

    #[test]
    fn password_is_sent_but_never_shown() {
        let cmd = set_password(&Secret::new("aol123456"));
        assert_eq!(wire(cmd.clone()), "AT+QSMTPPWD=\"aol123456\"\r");
        assert!(!cmd.to_string().contains("aol123456"));
    }

    #[test]
    fn answers_parse() {
        let r = Response {
            info: vec![
                "+QSMTPATT: 1,\"RAM:pic.jpg\",26977".into(),
                "+QSMTPATT: 2,\"RAM:file_test.txt\",100".into(),
            ],
            ..Default::default()
        };
        assert_eq!(
            parse_attachments(&r)[1],
            AttachmentRow {
                index: 2,
                name: "RAM:file_test.txt".into(),
                size: 100
            }
        );
        assert_eq!(parse_result("+QSMTPPUT:0", prefix::PUT), Some(0));
        assert_eq!(parse_result("+QSMTPPUT: -535", prefix::PUT), Some(-535));
        let r = Response {
            info: vec!["+QFUPL: 26977,cea0".into()],
            ..Default::default()
        };
        assert_eq!(parse_upload(&r), Some((26977, "cea0".into())));
    }

    #[test]
    fn ssl_context_answers_parse_into_fields() {
        let r = |line: &str| Response {
            info: vec![line.into()],
            ..Default::default()
        };
        let c = parse_ssl_context(&r(
            "+QSSLCFG: 2,3,2,\"0X0035\",\"RAM:ca.pem\",\"RAM:c.pem\",\"RAM:c.key\"",
        ))
        .unwrap();
        assert_eq!(
            c,
            SslContextConfig {
                ctx: ctx(2),
                version: SslVersion::Tls1_2,
                seclevel: SecLevel::ServerAndClient,
                ciphersuite: "0X0035".into(),
                cacert: "RAM:ca.pem".into(),
                clientcert: "RAM:c.pem".into(),
                clientkey: "RAM:c.key".into(),
            }
        );
        // Out of the manual's ranges, or another shape: no value.
        assert_eq!(
            parse_ssl_context(&r("+QSSLCFG: 6,1,0,\"0XFFFF\",\"\",\"\",\"\"")),
            None
        );
        assert_eq!(
            parse_ssl_context(&r("+QSSLCFG: 0,5,0,\"0XFFFF\",\"\",\"\",\"\"")),
            None
        );
        assert_eq!(parse_ssl_context(&r("+QSSLCFG: \"smtpstyle\",1")), None);
        assert_eq!(parse_ssl_context(&Response::default()), None);
    }

    #[test]
    fn upload_checksum_pads_an_odd_byte() {
        assert_eq!(upload_checksum(b""), "0");
        assert_eq!(upload_checksum(b"\x12"), "1200");
        assert_eq!(upload_checksum(b"\x12\x34\x12\x34"), "0");
    }
}
