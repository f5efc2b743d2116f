//! What a module can send, filled in by each dialect, and [`validate`], which
//! refuses before any byte reaches the module what the module would refuse.

use std::ops::RangeInclusive;

use crate::email::{AttachmentSource, Charset, Email, Storage};
use crate::error::MailError;
use crate::settings::{TlsMode, TlsVersion};

// Where they were first: `cellmail::capabilities::validate_smtp_account` still names them.
pub use crate::account::{validate_pop3_account, validate_smtp_account};

/// How a module takes non-ASCII subject or body text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextEncoding {
    /// As bytes, unchanged.
    Raw,
    /// As a hexadecimal string whenever the mail's charset is not ASCII:
    /// then every byte, ASCII ones too, becomes two characters (Quectel
    /// `AT+QSMTPSUB=<charset>,...`, SIM7000 §3.2.7/§3.2.8/§3.2.12); an ASCII
    /// mail's text goes as it is.
    Hex,
}

/// How the body reaches the module: what decides why a byte sequence is
/// forbidden in it ([`Capabilities::body_forbids`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyTransport {
    /// In a data mode after a prompt, ended by an escape (`+++`, Ctrl-Z):
    /// the escape may not be in the body.
    DataMode,
    /// Inside a quoted argument of a command (SIM5360 `AT+SMTPBODY="..."`):
    /// one line, no double quote.
    InCommand,
}

/// Which attachment sources a module takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct AttachmentSources {
    /// Bytes in memory, sent over the serial line.
    pub memory: bool,
    /// Host files, streamed over the serial line.
    pub host_file: bool,
    /// Files on the module's file system.
    pub module_file: bool,
}

/// Numeric limits from the manuals. Lengths count bytes as the module receives
/// them (after its encoding of non-ASCII text).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Recipients in all (To + Cc + Bcc).
    pub recipients: usize,
    /// Recipients of one kind, where the module numbers them per kind.
    pub recipients_per_kind: Option<usize>,
    /// Address length.
    pub address: usize,
    /// Display name length (sender and recipients).
    pub name: usize,
    /// Subject length when it is ASCII.
    pub subject_ascii: usize,
    /// Subject length after encoding when it is not ASCII.
    pub subject_encoded: usize,
    /// Body length in bytes after encoding.
    pub body: usize,
    /// Attachment count.
    pub attachments: usize,
    /// Bytes of all attachments that travel over the serial line.
    pub attachment_bytes_serial: u64,
    /// Bytes of all attachments, wherever they come from (`None`: no limit known).
    pub attachment_bytes_total: Option<u64>,
    /// Attachment file name length.
    pub attachment_name: usize,
    /// SMTP/POP3 user name length.
    pub user: usize,
    /// SMTP/POP3 password length.
    pub password: usize,
    /// Server host name length.
    pub server: usize,
    /// The range of the module's own send timeout, in seconds, if it has one.
    pub send_timeout_secs: Option<RangeInclusive<u32>>,
}

/// What one module family can do, filled in by its dialect crate. A program
/// can ask before building a mail:
///
/// ```
/// use cellmail::{Capabilities, Charset, TlsMode};
/// fn can_send_securely(caps: &Capabilities) -> bool {
///     caps.smtp && caps.smtp_tls.contains(&TlsMode::StartTls)
/// }
/// fn can_write_chinese(caps: &Capabilities) -> bool {
///     caps.charsets.contains(&Charset::Gb2312)
/// }
/// # let _ = (can_send_securely, can_write_chinese);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Capabilities {
    /// The family, e.g. `quectel-gsm`.
    pub family: &'static str,
    /// Sends mail.
    pub smtp: bool,
    /// Reads a mailbox.
    pub pop3: bool,
    /// TLS modes for SMTP (always contains `TlsMode::None` if plain works).
    pub smtp_tls: Vec<TlsMode>,
    /// TLS modes for POP3.
    pub pop3_tls: Vec<TlsMode>,
    /// Whether certificates can be verified (CA and client certificates).
    pub tls_verify: bool,
    /// The TLS protocol versions the module speaks (empty when it has no
    /// TLS); an account's [`TlsVersion::Any`] takes whichever of these the
    /// server accepts. An account that asks for a version not listed is
    /// refused as `Unsupported` before a byte. A
    /// SIM800 lists only TLS 1.0 (its SSL note: "SSL2.0, SSL3.0, TLS1.0"),
    /// which most of today's servers refuse.
    pub tls_versions: Vec<TlsVersion>,
    /// Character sets for subject and body.
    pub charsets: Vec<Charset>,
    /// How non-ASCII subjects are sent.
    pub subject_encoding: TextEncoding,
    /// How non-ASCII bodies are sent.
    pub body_encoding: TextEncoding,
    /// Attachment sources.
    pub attachment_sources: AttachmentSources,
    /// Module storages attachments may come from.
    pub storages: Vec<Storage>,
    /// Whether recipients' display names reach the mail (Quectel's
    /// `AT+QSMTPDST` has no name parameter: names are refused, not dropped).
    pub recipient_names: bool,
    /// Byte sequences a body may not hold: they would end the module's data
    /// mode early (`+++` on Quectel), or the command the body travels in (CR,
    /// LF and `"` on a SIM5360).
    pub body_forbids: Vec<&'static str>,
    /// How the body reaches the module.
    pub body_transport: BodyTransport,
    /// Whether the dialect can give the module an APN user and password
    /// (Quectel `AT+QICSGP`); the SIMCom notes set the APN alone.
    pub bearer_login: bool,
    /// The numbers.
    pub limits: Limits,
}

fn too_long(what: &str, len: usize, max: usize) -> String {
    format!("{what} is {len} bytes long, the module takes at most {max}")
}

pub(crate) fn quoted(field: &str, value: &str) -> Result<(), MailError> {
    cellmail_at::command::check_string("value", value).map_err(|e| match e {
        cellmail_at::EncodeError::ForbiddenByte {
            byte_name, index, ..
        } => MailError::invalid(
            field,
            format!(
                "contains {byte_name} at byte {index}, which a module cannot take in an AT string"
            ),
        ),
        other => MailError::invalid(field, other.to_string()),
    })
}

pub(crate) fn length(field: &str, what: &str, len: usize, max: usize) -> Result<(), MailError> {
    if len > max {
        Err(MailError::invalid(field, too_long(what, len, max)))
    } else {
        Ok(())
    }
}

/// Whether text in `charset` reaches the module hex-encoded.
fn hexed(charset: Charset, encoding: TextEncoding) -> bool {
    encoding == TextEncoding::Hex && charset != Charset::Ascii
}

/// Length of `bytes` (text in the mail's charset) as the module receives it.
fn encoded_len(bytes: &[u8], charset: Charset, encoding: TextEncoding) -> usize {
    if hexed(charset, encoding) {
        bytes.len() * 2
    } else {
        bytes.len()
    }
}

/// Checks `email` against a module's capabilities: `Invalid { field, reason }`
/// names the field and the limit, `Unsupported { feature }` what the module
/// cannot do at all. Nothing is sent when this fails.
///
/// ```
/// use cellmail::{validate, Email, MailError};
/// # let caps = cellmail::capabilities::example();
/// let email = Email::builder()
///     .from("a@example.com", None)
///     .to("b@example.com", None)
///     .subject("x".repeat(101))
///     .build()?;
/// match validate(&email, &caps) {
///     Err(MailError::Invalid { field, reason, .. }) => {
///         assert_eq!(field, "subject");
///         assert_eq!(reason, "subject is 101 bytes long, the module takes at most 100");
///     }
///     other => panic!("{other:?}"),
/// }
/// # Ok::<(), MailError>(())
/// ```
pub fn validate(email: &Email, caps: &Capabilities) -> Result<(), MailError> {
    let l = &caps.limits;
    if !caps.smtp {
        return Err(MailError::unsupported("sending mail (SMTP)"));
    }
    if !caps.charsets.contains(&email.charset()) {
        return Err(MailError::unsupported(format!(
            "charset {}",
            email.charset().mime_name()
        )));
    }
    let sender = email.sender();
    length(
        "from",
        "the address",
        sender.address.as_str().len(),
        l.address,
    )?;
    quoted("from", sender.address.as_str())?;
    if let Some(name) = &sender.name {
        length("from.name", "the name", name.len(), l.name)?;
        quoted("from.name", name)?;
    }

    let total = email.recipients().len();
    if total > l.recipients {
        return Err(MailError::invalid(
            "recipients",
            format!(
                "there are {total} recipients, the module takes at most {}",
                l.recipients
            ),
        ));
    }
    let mut seen = [0usize; 3];
    for r in email.recipients() {
        let i = &mut seen[r.kind as usize];
        let field = format!("{}[{}]", r.kind.as_str(), *i);
        *i += 1;
        if let Some(max) = l.recipients_per_kind {
            if *i > max {
                return Err(MailError::invalid(
                    r.kind.as_str(),
                    format!(
                        "there are more than {max} {} recipients, the module takes at most {max}",
                        r.kind.as_str()
                    ),
                ));
            }
        }
        length(&field, "the address", r.address.as_str().len(), l.address)?;
        quoted(&field, r.address.as_str())?;
        if let Some(name) = &r.name {
            let field = format!("{field}.name");
            if !caps.recipient_names {
                return Err(MailError::unsupported(format!(
                    "recipient display names ({field})"
                )));
            }
            length(&field, "the name", name.len(), l.name)?;
            quoted(&field, name)?;
        }
    }

    let subject = email.subject();
    let subject_hexed = hexed(email.charset(), caps.subject_encoding);
    if subject_hexed {
        let len = encoded_len(
            &email.subject_bytes(),
            email.charset(),
            caps.subject_encoding,
        );
        length("subject", "the hex-encoded subject", len, l.subject_encoded)?;
    } else if subject.is_ascii() {
        length("subject", "subject", subject.len(), l.subject_ascii)?;
    } else {
        let len = email.subject_bytes().len();
        length("subject", "subject", len, l.subject_encoded)?;
    }
    // A hex-encoded subject can carry any byte; a raw one must fit an AT string.
    if !subject_hexed {
        quoted("subject", subject)?;
    }

    let body = email.body();
    let body_bytes = email.body_bytes();
    let body_len = encoded_len(&body_bytes, email.charset(), caps.body_encoding);
    let what = if body_len == body_bytes.len() {
        "the body"
    } else {
        "the hex-encoded body"
    };
    length("body", what, body_len, l.body)?;
    if let Some(seq) = caps.body_forbids.iter().find(|s| body.contains(**s)) {
        let why = match caps.body_transport {
            BodyTransport::DataMode => "which ends the module's data mode",
            BodyTransport::InCommand => {
                "but this module takes the body inside its command's quotes (it has no data \
                 mode): one line, no double quotes"
            }
        };
        return Err(MailError::invalid(
            "body",
            format!("contains {}, {why}", cellmail_at::text::quoted(seq)),
        ));
    }

    let attachments = email.attachments();
    if attachments.len() > l.attachments {
        return Err(MailError::invalid(
            "attachments",
            format!(
                "there are {} attachments, the module takes at most {}",
                attachments.len(),
                l.attachments
            ),
        ));
    }
    let (mut serial, mut all) = (0u64, 0u64);
    for (i, a) in attachments.iter().enumerate() {
        let field = format!("attachments[{i}]");
        let sources = caps.attachment_sources;
        match a.source() {
            AttachmentSource::Memory(_) if !sources.memory => {
                return Err(MailError::unsupported(format!(
                    "{field}: attachments from memory"
                )));
            }
            AttachmentSource::HostFile { .. } if !sources.host_file => {
                return Err(MailError::unsupported(format!(
                    "{field}: attachments from host files"
                )));
            }
            AttachmentSource::Module(_) if !sources.module_file => {
                return Err(MailError::unsupported(format!(
                    "{field}: attachments from the module file system"
                )));
            }
            AttachmentSource::Module(p) if !caps.storages.contains(&p.storage()) => {
                return Err(MailError::unsupported(format!(
                    "{field}: module storage of {p}"
                )));
            }
            _ => {}
        }
        length(
            &format!("{field}.name"),
            "the file name",
            a.name().len(),
            l.attachment_name,
        )?;
        quoted(&format!("{field}.name"), a.name())?;
        let size = a.size().unwrap_or(0);
        all += size;
        if a.goes_over_serial() {
            serial += size;
        }
    }
    if serial > l.attachment_bytes_serial {
        return Err(MailError::invalid(
            "attachments",
            format!(
                "{serial} bytes go over the serial line, the module takes at most {}",
                l.attachment_bytes_serial
            ),
        ));
    }
    if let Some(max) = l.attachment_bytes_total {
        if all > max {
            return Err(MailError::invalid(
                "attachments",
                format!("they hold {all} bytes, the module takes at most {max}"),
            ));
        }
    }
    Ok(())
}

/// A small permissive capability set for examples and tests of this crate.
#[doc(hidden)]
pub fn example() -> Capabilities {
    Capabilities {
        family: "example",
        smtp: true,
        pop3: true,
        smtp_tls: vec![TlsMode::None],
        pop3_tls: vec![TlsMode::None],
        tls_verify: false,
        tls_versions: vec![],
        charsets: vec![Charset::Ascii, Charset::Utf8],
        subject_encoding: TextEncoding::Hex,
        body_encoding: TextEncoding::Raw,
        attachment_sources: AttachmentSources {
            memory: true,
            host_file: true,
            module_file: true,
        },
        storages: vec![Storage::Ram, Storage::Ufs],
        recipient_names: true,
        body_forbids: Vec::new(),
        body_transport: BodyTransport::DataMode,
        bearer_login: true,
        limits: Limits {
            recipients: 20,
            recipients_per_kind: None,
            address: 64,
            name: 64,
            subject_ascii: 100,
            subject_encoded: 200,
            body: 10 * 1024,
            attachments: 10,
            attachment_bytes_serial: 100 * 1024,
            attachment_bytes_total: None,
            attachment_name: 64,
            user: 50,
            password: 50,
            server: 64,
            send_timeout_secs: None,
        },
    }
}
