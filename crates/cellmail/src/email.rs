//! The message model: [`Email`], built with [`EmailBuilder`] and checked before
//! any byte reaches a module.

use cellmail_at::text::{char_name, quoted};
use std::borrow::Cow;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use tokio::io::AsyncRead;

use crate::error::MailError;

/// An e-mail address (addr-spec), checked with the `email_address` crate.
///
/// ```
/// let a: cellmail::Address = "meter-17@example.com".parse()?;
/// assert_eq!(a.as_str(), "meter-17@example.com");
/// assert!("not an address".parse::<cellmail::Address>().is_err());
/// # Ok::<(), cellmail::MailError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Address(String);

impl Address {
    /// The address text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn parse_field(value: &str, field: &str) -> Result<Self, MailError> {
        // Modules send addresses inside AT strings and SMTP commands: only the
        // plain ASCII addr-spec form is representable there.
        if !value.is_ascii() {
            return Err(MailError::invalid(
                field,
                format!("{} is not an ASCII address", quoted(value)),
            ));
        }
        if let Some(c) = value
            .chars()
            .find(|c| c.is_ascii_control() || matches!(c, '"' | ' ' | '<' | '>'))
        {
            return Err(MailError::invalid(
                field,
                format!("{} contains {}", quoted(value), char_name(c)),
            ));
        }
        let parsed = email_address::EmailAddress::from_str(value).map_err(|e| {
            MailError::invalid(
                field,
                format!("{} is not an e-mail address: {e}", quoted(value)),
            )
        })?;
        Ok(Address(parsed.email()))
    }
}

impl FromStr for Address {
    type Err = MailError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Address::parse_field(s, "address")
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// To, Cc or Bcc.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RecipientKind {
    /// `To:`
    To,
    /// `Cc:`
    Cc,
    /// Receives the mail, appears in no header.
    Bcc,
}

impl RecipientKind {
    /// `to`, `cc` or `bcc`, as used in field names.
    pub fn as_str(self) -> &'static str {
        match self {
            RecipientKind::To => "to",
            RecipientKind::Cc => "cc",
            RecipientKind::Bcc => "bcc",
        }
    }
}

/// One recipient.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recipient {
    /// To, Cc or Bcc.
    pub kind: RecipientKind,
    /// The address.
    pub address: Address,
    /// The display name, if any.
    pub name: Option<String>,
}

/// The sender.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sender {
    /// The address.
    pub address: Address,
    /// The display name, if any.
    pub name: Option<String>,
}

/// The character sets the manuals name for subject and body.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Charset {
    /// US-ASCII.
    #[default]
    Ascii,
    /// UTF-8.
    Utf8,
    /// GB2312 (simplified Chinese): text is given as Rust strings and encoded
    /// to GB2312 on the way to the module ([`Charset::encode`]).
    Gb2312,
    /// BIG5 (traditional Chinese): text is given as Rust strings and encoded
    /// to BIG5 on the way to the module.
    Big5,
}

impl Charset {
    /// The MIME name.
    pub fn mime_name(self) -> &'static str {
        match self {
            Charset::Ascii => "us-ascii",
            Charset::Utf8 => "utf-8",
            Charset::Gb2312 => "gb2312",
            Charset::Big5 => "big5",
        }
    }

    /// `text` as the bytes of this charset. GB2312 and BIG5 are encoded with
    /// `encoding_rs`; a character the charset cannot hold is an error naming
    /// `field`, never a silent replacement. (`encoding_rs` offers GB2312 only
    /// through its superset GBK, so bytes outside GB2312's EUC-CN rows are
    /// refused here.)
    ///
    /// ```
    /// use cellmail::Charset;
    /// assert_eq!(*Charset::Gb2312.encode("中文", "subject")?, [0xD6, 0xD0, 0xCE, 0xC4]);
    /// assert_eq!(*Charset::Big5.encode("中文", "subject")?, [0xA4, 0xA4, 0xA4, 0xE5]);
    /// assert!(Charset::Big5.encode("✓", "subject").is_err());
    /// assert!(Charset::Gb2312.encode("丂", "subject").is_err()); // GBK only
    /// # Ok::<(), cellmail::MailError>(())
    /// ```
    pub fn encode<'a>(self, text: &'a str, field: &str) -> Result<Cow<'a, [u8]>, MailError> {
        let encoding = match self {
            Charset::Ascii | Charset::Utf8 => return Ok(Cow::Borrowed(text.as_bytes())),
            Charset::Gb2312 => encoding_rs::GBK,
            Charset::Big5 => encoding_rs::BIG5,
        };
        let (bytes, _, unmappable) = encoding.encode(text);
        if unmappable || (self == Charset::Gb2312 && !is_euc_cn(&bytes)) {
            return Err(MailError::invalid(
                field,
                format!("holds characters {} cannot encode", self.mime_name()),
            ));
        }
        Ok(bytes)
    }
}

/// Whether `bytes` are GB2312 as EUC-CN: ASCII, or pairs with both bytes in
/// 0xA1..=0xFE (GBK's other pairs are not GB2312).
fn is_euc_cn(bytes: &[u8]) -> bool {
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] < 0x80 {
            i += 1;
        } else if (0xA1..=0xF7).contains(&bytes[i])
            && bytes.get(i + 1).is_some_and(|b| (0xA1..=0xFE).contains(b))
        {
            i += 2;
        } else {
            return false;
        }
    }
    true
}

/// Where a module keeps a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Storage {
    /// Quectel `RAM:`
    Ram,
    /// Quectel `UFS:` (user file storage)
    Ufs,
    /// Quectel `SD:`
    Sd,
    /// SIMCom drive `C:/` or `D:/`.
    Drive(char),
}

/// A path on the module's own file system: `RAM:log.txt`, `UFS:cert.pem`,
/// `SD:a.jpg`, `C:/Picture/a.jpg`.
///
/// ```
/// use cellmail::{ModulePath, Storage};
/// let p: ModulePath = "RAM:pic.jpg".parse()?;
/// assert_eq!((p.storage(), p.name()), (Storage::Ram, "pic.jpg"));
/// let p: ModulePath = "C:/Picture/20100202_100006.jpg".parse()?;
/// assert_eq!((p.storage(), p.name()), (Storage::Drive('C'), "20100202_100006.jpg"));
/// assert!("/etc/passwd".parse::<ModulePath>().is_err());
/// # Ok::<(), cellmail::MailError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ModulePath {
    storage: Storage,
    full: String,
}

impl ModulePath {
    /// The storage.
    pub fn storage(&self) -> Storage {
        self.storage
    }

    /// The whole path as the module writes it.
    pub fn as_str(&self) -> &str {
        &self.full
    }

    /// The file name without storage and folders.
    pub fn name(&self) -> &str {
        let after_storage = self
            .full
            .split_once(':')
            .map_or(self.full.as_str(), |(_, rest)| rest);
        after_storage.rsplit('/').next().unwrap_or(after_storage)
    }

    /// The folder for drive paths (`C:/Picture`), `None` for Quectel storages.
    pub fn folder(&self) -> Option<&str> {
        match self.storage {
            Storage::Drive(_) => self.full.rsplit_once('/').map(|(dir, _)| dir),
            _ => None,
        }
    }
}

impl FromStr for ModulePath {
    type Err = MailError;
    fn from_str(s: &str) -> Result<Self, MailError> {
        let bad = |why: &str| MailError::invalid("module path", format!("{} {why}", quoted(s)));
        let (prefix, rest) = s
            .split_once(':')
            .ok_or_else(|| bad("has no storage prefix (RAM:, UFS:, SD:, C:/)"))?;
        let storage = match prefix {
            "RAM" => Storage::Ram,
            "UFS" => Storage::Ufs,
            "SD" => Storage::Sd,
            d if d.len() == 1 && d.chars().all(|c| c.is_ascii_uppercase()) => {
                if !rest.starts_with('/') {
                    return Err(bad("needs a '/' after the drive letter"));
                }
                Storage::Drive(d.chars().next().unwrap_or('C'))
            }
            _ => return Err(bad("has an unknown storage prefix")),
        };
        let name = rest.rsplit('/').next().unwrap_or(rest);
        if name.is_empty() {
            return Err(bad("names no file"));
        }
        if let Err(e) = cellmail_at::command::check_string("module path", s) {
            return Err(bad(&e.to_string()));
        }
        Ok(ModulePath {
            storage,
            full: s.to_owned(),
        })
    }
}

impl fmt::Display for ModulePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.full)
    }
}

/// Where an attachment's bytes come from.
#[derive(Clone)]
pub enum AttachmentSource {
    /// Bytes in memory.
    Memory(Arc<[u8]>),
    /// A host file, streamed from disk when sent (never read whole).
    HostFile {
        /// The path.
        path: PathBuf,
        /// Its size when the attachment was made.
        size: u64,
    },
    /// A file already on the module's file system.
    Module(ModulePath),
}

impl fmt::Debug for AttachmentSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AttachmentSource::Memory(b) => write!(f, "Memory({} bytes)", b.len()),
            AttachmentSource::HostFile { path, size } => {
                write!(f, "HostFile({}, {size} bytes)", path.display())
            }
            AttachmentSource::Module(p) => write!(f, "Module({p})"),
        }
    }
}

/// An attachment: a name and where its bytes come from.
///
/// ```
/// use cellmail::Attachment;
/// let a = Attachment::from_bytes("log.txt", b"boot ok\n".to_vec());
/// assert_eq!((a.name(), a.size()), ("log.txt", Some(8)));
/// let m = Attachment::from_module("UFS:photo.jpg")?;
/// assert_eq!((m.name(), m.size()), ("photo.jpg", None));
/// # Ok::<(), cellmail::MailError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Attachment {
    name: String,
    source: AttachmentSource,
}

impl Attachment {
    /// An attachment from bytes in memory.
    pub fn from_bytes(name: impl Into<String>, bytes: impl Into<Arc<[u8]>>) -> Self {
        Self {
            name: name.into(),
            source: AttachmentSource::Memory(bytes.into()),
        }
    }

    /// An attachment streamed from a host file; its name is the file name.
    /// The file is measured now and read only while the mail is sent, a
    /// chunk at a time. A missing file is `Invalid { field: "attachment" }`.
    ///
    /// ```
    /// use cellmail::Attachment;
    /// let path = std::env::temp_dir().join("cellmail-doc-log.txt");
    /// std::fs::write(&path, b"boot ok\n")?;
    /// let log = Attachment::from_file(&path)?;
    /// assert_eq!((log.name(), log.size()), ("cellmail-doc-log.txt", Some(8)));
    /// assert!(Attachment::from_file("/nonexistent/log.txt").is_err());
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, MailError> {
        let path = path.as_ref();
        let name = path.file_name().and_then(|n| n.to_str()).ok_or_else(|| {
            MailError::invalid(
                "attachment",
                format!("{} has no UTF-8 file name", path.display()),
            )
        })?;
        Self::from_file_named(name, path)
    }

    /// An attachment streamed from a host file, under another name.
    pub fn from_file_named(
        name: impl Into<String>,
        path: impl AsRef<Path>,
    ) -> Result<Self, MailError> {
        let path = path.as_ref();
        // A file that is not there is the caller's mistake, not a fault to retry.
        let meta = std::fs::metadata(path).map_err(|e| {
            MailError::invalid("attachment", format!("cannot read {}: {e}", path.display()))
        })?;
        if !meta.is_file() {
            return Err(MailError::invalid(
                "attachment",
                format!("{} is not a file", path.display()),
            ));
        }
        Ok(Self {
            name: name.into(),
            source: AttachmentSource::HostFile {
                path: path.to_owned(),
                size: meta.len(),
            },
        })
    }

    /// A file already on the module (`RAM:x`, `UFS:x`, `SD:x`, `C:/dir/x`).
    pub fn from_module(path: &str) -> Result<Self, MailError> {
        let path: ModulePath = path.parse()?;
        Ok(Self {
            name: path.name().to_owned(),
            source: AttachmentSource::Module(path),
        })
    }

    /// The file name the recipient sees.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Where the bytes come from.
    pub fn source(&self) -> &AttachmentSource {
        &self.source
    }

    /// The size in bytes, when known on the host (not for module files).
    pub fn size(&self) -> Option<u64> {
        match &self.source {
            AttachmentSource::Memory(b) => Some(b.len() as u64),
            AttachmentSource::HostFile { size, .. } => Some(*size),
            AttachmentSource::Module(_) => None,
        }
    }

    /// Whether the bytes travel over the serial line (memory or host file).
    pub fn goes_over_serial(&self) -> bool {
        !matches!(self.source, AttachmentSource::Module(_))
    }

    /// A reader over the bytes (streamed from disk for host files).
    pub async fn open(&self) -> Result<Box<dyn AsyncRead + Unpin + Send>, MailError> {
        match &self.source {
            AttachmentSource::Memory(bytes) => {
                Ok(Box::new(std::io::Cursor::new(Arc::clone(bytes))))
            }
            AttachmentSource::HostFile { path, .. } => {
                Ok(Box::new(tokio::fs::File::open(path).await?))
            }
            AttachmentSource::Module(p) => Err(MailError::invalid(
                "attachment",
                format!("{p} is on the module; it has no host bytes to read"),
            )),
        }
    }
}

/// An e-mail, valid in itself; whether a module can send it is checked by
/// [`validate`](crate::validate) against the module's [`Capabilities`](crate::Capabilities).
#[derive(Clone, Debug)]
pub struct Email {
    sender: Sender,
    recipients: Vec<Recipient>,
    subject: String,
    body: String,
    charset: Charset,
    attachments: Vec<Attachment>,
}

impl Email {
    /// Starts a builder.
    ///
    /// ```
    /// use cellmail::{Attachment, Charset, Email};
    /// let email = Email::builder()
    ///     .from("meter-17@example.com", Some("Meter 17"))
    ///     .to("ops@example.com", None)
    ///     .cc("archive@example.com", Some("Archive"))
    ///     .bcc("audit@example.com", None)
    ///     .subject("Zählerstand")
    ///     .body("42.7 m³\r\n")
    ///     .charset(Charset::Utf8)
    ///     .attach(Attachment::from_bytes("reading.csv", b"t,v\n0,42.7\n".to_vec()))
    ///     .build()?;
    /// assert_eq!(email.recipients().len(), 3);
    /// # Ok::<(), cellmail::MailError>(())
    /// ```
    pub fn builder() -> EmailBuilder {
        EmailBuilder::default()
    }

    /// The sender.
    pub fn sender(&self) -> &Sender {
        &self.sender
    }

    /// All recipients in the order given.
    pub fn recipients(&self) -> &[Recipient] {
        &self.recipients
    }

    /// Recipients of one kind.
    pub fn recipients_of(&self, kind: RecipientKind) -> impl Iterator<Item = &Recipient> {
        self.recipients.iter().filter(move |r| r.kind == kind)
    }

    /// The subject.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// The body text.
    pub fn body(&self) -> &str {
        &self.body
    }

    /// The subject as the module receives it: the bytes of [`Email::charset`].
    ///
    /// ```
    /// use cellmail::{Charset, Email};
    /// let email = Email::builder()
    ///     .from("a@example.com", None)
    ///     .to("b@example.com", None)
    ///     .charset(Charset::Gb2312)
    ///     .subject("中文")
    ///     .build()?;
    /// assert_eq!(*email.subject_bytes(), [0xD6, 0xD0, 0xCE, 0xC4]);
    /// # Ok::<(), cellmail::MailError>(())
    /// ```
    pub fn subject_bytes(&self) -> Cow<'_, [u8]> {
        in_charset(&self.subject, self.charset)
    }

    /// The body as the module receives it: the bytes of [`Email::charset`].
    pub fn body_bytes(&self) -> Cow<'_, [u8]> {
        in_charset(&self.body, self.charset)
    }

    /// The character set of subject and body.
    pub fn charset(&self) -> Charset {
        self.charset
    }

    /// The attachments.
    pub fn attachments(&self) -> &[Attachment] {
        &self.attachments
    }
}

/// Builds an [`Email`]; [`build`](Self::build) reports the first problem, naming
/// the field.
#[derive(Debug, Default)]
pub struct EmailBuilder {
    from: Option<(String, Option<String>)>,
    recipients: Vec<(RecipientKind, String, Option<String>)>,
    subject: String,
    body: String,
    charset: Charset,
    attachments: Vec<Attachment>,
}

impl EmailBuilder {
    /// The sender's address and display name.
    pub fn from(mut self, address: &str, name: Option<&str>) -> Self {
        self.from = Some((address.to_owned(), name.map(str::to_owned)));
        self
    }

    /// Adds a To recipient.
    pub fn to(self, address: &str, name: Option<&str>) -> Self {
        self.recipient(RecipientKind::To, address, name)
    }

    /// Adds a Cc recipient.
    pub fn cc(self, address: &str, name: Option<&str>) -> Self {
        self.recipient(RecipientKind::Cc, address, name)
    }

    /// Adds a Bcc recipient.
    pub fn bcc(self, address: &str, name: Option<&str>) -> Self {
        self.recipient(RecipientKind::Bcc, address, name)
    }

    /// Adds a recipient of any kind.
    pub fn recipient(mut self, kind: RecipientKind, address: &str, name: Option<&str>) -> Self {
        self.recipients
            .push((kind, address.to_owned(), name.map(str::to_owned)));
        self
    }

    /// The subject.
    pub fn subject(mut self, subject: impl Into<String>) -> Self {
        self.subject = subject.into();
        self
    }

    /// The body.
    pub fn body(mut self, body: impl Into<String>) -> Self {
        self.body = body.into();
        self
    }

    /// The character set (default ASCII).
    pub fn charset(mut self, charset: Charset) -> Self {
        self.charset = charset;
        self
    }

    /// Adds an attachment.
    pub fn attach(mut self, attachment: Attachment) -> Self {
        self.attachments.push(attachment);
        self
    }

    /// Checks the rules every module shares and builds the e-mail.
    pub fn build(self) -> Result<Email, MailError> {
        let (from, from_name) = self
            .from
            .ok_or_else(|| MailError::invalid("from", "no sender was given"))?;
        let sender = Sender {
            address: Address::parse_field(&from, "from")?,
            name: header_text(from_name, "from.name", self.charset)?,
        };
        if self.recipients.is_empty() {
            return Err(MailError::invalid("recipients", "no recipient was given"));
        }
        let mut counts = [0usize; 3];
        let mut recipients = Vec::with_capacity(self.recipients.len());
        for (kind, address, name) in self.recipients {
            let i = &mut counts[kind as usize];
            let field = format!("{}[{}]", kind.as_str(), *i);
            *i += 1;
            recipients.push(Recipient {
                kind,
                address: Address::parse_field(&address, &field)?,
                name: header_text(name, &format!("{field}.name"), self.charset)?,
            });
        }
        let subject = header_text(Some(self.subject), "subject", self.charset)?.unwrap_or_default();
        // Refused here so that `subject_bytes` and `body_bytes` cannot fail.
        self.charset.encode(&subject, "subject")?;
        self.charset.encode(&self.body, "body")?;
        check_charset(&self.body, "body", self.charset)?;
        if let Some(i) = self.body.find(['\0', '\u{1A}', '\u{1B}']) {
            return Err(MailError::invalid(
                "body",
                format!(
                    "contains {} at byte {i}",
                    self.body[i..]
                        .chars()
                        .next()
                        .map(char_name)
                        .unwrap_or_default()
                ),
            ));
        }
        for (i, a) in self.attachments.iter().enumerate() {
            let field = format!("attachments[{i}].name");
            if a.name.is_empty() {
                return Err(MailError::invalid(field, "is empty"));
            }
            if let Some(c) = a
                .name
                .chars()
                .find(|c| c.is_control() || matches!(c, '"' | '/' | '\\'))
            {
                return Err(MailError::invalid(
                    field,
                    format!("{} contains {}", quoted(&a.name), char_name(c)),
                ));
            }
        }
        Ok(Email {
            sender,
            recipients,
            subject,
            body: self.body,
            charset: self.charset,
            attachments: self.attachments,
        })
    }
}

/// A header field: one line, no control characters, in the charset.
fn header_text(
    value: Option<String>,
    field: &str,
    charset: Charset,
) -> Result<Option<String>, MailError> {
    let Some(value) = value else { return Ok(None) };
    if let Some(c) = value.chars().find(|c| c.is_control()) {
        return Err(MailError::invalid(
            field,
            format!("contains {}; header fields are one line", char_name(c)),
        ));
    }
    check_charset(&value, field, charset)?;
    Ok(Some(value))
}

/// `text` in `charset`; the builder refused text the charset cannot hold.
fn in_charset(text: &str, charset: Charset) -> Cow<'_, [u8]> {
    charset
        .encode(text, "")
        .unwrap_or(Cow::Borrowed(text.as_bytes()))
}

fn check_charset(value: &str, field: &str, charset: Charset) -> Result<(), MailError> {
    if charset == Charset::Ascii && !value.is_ascii() {
        return Err(MailError::invalid(
            field,
            "is not ASCII; choose Charset::Utf8 (or GB2312/BIG5)",
        ));
    }
    Ok(())
}
