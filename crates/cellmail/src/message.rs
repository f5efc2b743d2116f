//! Retrieved messages: the raw RFC 5322 bytes, parsed with `mail-parser`.

use mail_parser::{MessageParser, MimeHeaders};

use crate::email::ModulePath;
use crate::error::MailError;

/// A name and address from a header (`From`, `To`, `Cc`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MailboxAddr {
    /// The display name, if any.
    pub name: Option<String>,
    /// The address.
    pub address: String,
}

/// An attachment of a retrieved message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceivedAttachment {
    /// The file name, if the sender gave one.
    pub name: Option<String>,
    /// The MIME type, e.g. `application/octet-stream`.
    pub content_type: Option<String>,
    /// The decoded bytes.
    pub bytes: Vec<u8>,
}

/// A file the module saved with a retrieved message, on its own file system
/// (SIM5360: the attachments `AT+POP3GET` saves into the mail's folder). Its
/// bytes stay on the module: attach it to a mail as it is
/// ([`Attachment::from_module`](crate::Attachment::from_module)), or fetch it
/// with the module's file commands.
///
/// ```
/// use cellmail::{Attachment, ModuleFile};
/// let file = ModuleFile::new("C:/Email/100202110457/log.bin".parse()?, Some(6));
/// assert_eq!((file.name(), file.size), ("log.bin", Some(6)));
/// // Forward it: the module sends it from where it is.
/// let forward = Attachment::from_module(file.path.as_str())?;
/// assert_eq!(forward.name(), "log.bin");
/// # Ok::<(), cellmail::MailError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ModuleFile {
    /// Where it is, as the module writes it (`C:/Email/100202110457/log.bin`).
    pub path: ModulePath,
    /// Its size in bytes, when the module told it.
    pub size: Option<u64>,
}

impl ModuleFile {
    /// A file at `path`, of `size` bytes if known.
    pub fn new(path: ModulePath, size: Option<u64>) -> Self {
        Self { path, size }
    }

    /// The file name, without storage and folders.
    pub fn name(&self) -> &str {
        self.path.name()
    }
}

/// A message read from a mailbox. Keeps the raw bytes; headers, text and
/// attachments come from the `mail-parser` crate.
///
/// ```
/// let raw = b"From: Meter <m@example.com>\r\nTo: ops@example.com\r\nSubject: =?utf-8?q?Z=C3=A4hler?=\r\n\r\n42.7\r\n";
/// let msg = cellmail::Message::parse(raw.to_vec())?;
/// assert_eq!(msg.subject().as_deref(), Some("Zähler"));
/// assert_eq!(msg.from()[0].address, "m@example.com");
/// assert_eq!(msg.text_body().as_deref(), Some("42.7\r\n"));
/// # Ok::<(), cellmail::MailError>(())
/// ```
#[derive(Clone)]
pub struct Message {
    raw: Vec<u8>,
    parsed: mail_parser::Message<'static>,
    fidelity: Fidelity,
    module_files: Vec<ModuleFile>,
}

/// How faithfully the module handed a message over.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fidelity {
    /// The server's bytes (POP3 transparency undone): headers, text and
    /// attachments are the sender's.
    Exact,
    /// The module's own digest of the mail (SIM5360 `AT+POP3READ` prints
    /// "header and content" and keeps attachments in its file system): what
    /// it lost is listed, and the text is never dropped for it.
    Digest(Vec<Lost>),
}

/// What a module's digest lost of the original mail.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Lost {
    /// The module printed no blank line: where the header ends was guessed
    /// (the first line that does not read `Name: value` begins the body).
    HeaderBoundary,
    /// The header declares this multipart type but the module's text holds
    /// none of its parts: the body is the module's text, read as plain text.
    MimeStructure {
        /// The declared `Content-Type`, e.g. `multipart/alternative`.
        content_type: String,
    },
    /// The module keeps a mail's attachments in this folder of its file
    /// system and prints only the text. The files it listed are in
    /// [`Message::module_files`]; with none listed it could not tell (the
    /// listing was refused), and the mail may have had attachments or not.
    AttachmentsOnModule {
        /// The folder the module named, e.g. `C:/Email/100202110457/`.
        folder: String,
    },
}

impl std::fmt::Display for Lost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Lost::HeaderBoundary => {
                f.write_str("the module sent no blank line: the end of the header was guessed")
            }
            Lost::MimeStructure { content_type } => write!(
                f,
                "the mail is {content_type} but the module printed none of its parts: \
                 its text is given as plain text"
            ),
            Lost::AttachmentsOnModule { folder } => write!(
                f,
                "attachments, if the mail had any, stay on the module in {folder}"
            ),
        }
    }
}

impl std::fmt::Debug for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Message")
            .field("bytes", &self.raw.len())
            .field("subject", &self.subject())
            .field("fidelity", &self.fidelity)
            .field("module_files", &self.module_files)
            .finish()
    }
}

impl Message {
    /// Parses RFC 5322 bytes.
    pub fn parse(raw: Vec<u8>) -> Result<Self, MailError> {
        let parsed = MessageParser::default()
            .parse(&raw)
            .ok_or_else(|| MailError::invalid("message", "is not an RFC 5322 message"))?
            .into_owned();
        Ok(Self {
            raw,
            parsed,
            fidelity: Fidelity::Exact,
            module_files: Vec::new(),
        })
    }

    /// A module's digest of a mail: `data` as the module printed it (its own
    /// text: no POP3 transparency to undo, a last line `.` is the mail's) and
    /// what the dialect knows it lost. A header that declares a
    /// multipart type the text does not carry is read as plain text, so the
    /// text is never dropped, and [`Lost::MimeStructure`] says so.
    ///
    /// ```
    /// use cellmail::{Fidelity, Lost, Message};
    /// let data = b"Subject: x\r\nContent-Type: multipart/mixed; boundary=b1\r\n\r\nCMD: reboot\r\n";
    /// let msg = Message::from_module_digest(data.to_vec(), vec![])?;
    /// assert_eq!(msg.text_body().as_deref(), Some("CMD: reboot\r\n"));
    /// assert_eq!(msg.fidelity(), &Fidelity::Digest(vec![Lost::MimeStructure {
    ///     content_type: "multipart/mixed".into(),
    /// }]));
    /// # Ok::<(), cellmail::MailError>(())
    /// ```
    pub fn from_module_digest(data: Vec<u8>, mut lost: Vec<Lost>) -> Result<Self, MailError> {
        let mut msg = Self::parse(data)?;
        if let Some(content_type) = lost_parts(&msg) {
            let plain = as_plain_text(&msg.raw);
            msg.parsed = MessageParser::default()
                .parse(&plain)
                .ok_or_else(|| MailError::invalid("message", "is not an RFC 5322 message"))?
                .into_owned();
            lost.insert(0, Lost::MimeStructure { content_type });
        }
        msg.fidelity = Fidelity::Digest(lost);
        Ok(msg)
    }

    /// Whether these are the server's bytes or a module's digest.
    pub fn fidelity(&self) -> &Fidelity {
        &self.fidelity
    }

    /// The files the module saved with this message on its own file system
    /// (SIM5360: the attachments `AT+POP3GET` saved), as it listed them;
    /// empty when it saved none, or the dialect saves nothing. Their bytes
    /// are not in [`attachments`](Self::attachments).
    ///
    /// ```
    /// use cellmail::{Lost, Message, ModuleFile};
    /// let folder = "C:/Email/100202110457/";
    /// let lost = vec![Lost::AttachmentsOnModule { folder: folder.into() }];
    /// let msg = Message::from_module_digest(b"Subject: x\r\n\r\nlog attached\r\n".to_vec(), lost)?
    ///     .with_module_files(vec![ModuleFile::new(format!("{folder}log.bin").parse()?, Some(6))]);
    /// assert_eq!(msg.module_files()[0].path.as_str(), "C:/Email/100202110457/log.bin");
    /// assert!(msg.attachments().is_empty());
    /// # Ok::<(), cellmail::MailError>(())
    /// ```
    pub fn module_files(&self) -> &[ModuleFile] {
        &self.module_files
    }

    /// The same message naming the files the module saved with it (see
    /// [`module_files`](Self::module_files)).
    pub fn with_module_files(mut self, files: Vec<ModuleFile>) -> Self {
        self.module_files = files;
        self
    }

    /// Parses what a module relayed from a POP3 server, undoing the POP3
    /// transparency once: when the data still ends with the POP3 terminator
    /// line (`.` alone), the module passed the server's bytes through, so the
    /// terminator is removed and lines starting with `..` lose one dot. Without
    /// the terminator the module already decoded it and the bytes are kept.
    ///
    /// ```
    /// let data = b"Subject: x\r\n\r\n..hidden\r\n.\r\n".to_vec();
    /// let msg = cellmail::Message::from_pop3_data(data)?;
    /// assert_eq!(msg.raw(), b"Subject: x\r\n\r\n.hidden\r\n");
    /// # Ok::<(), cellmail::MailError>(())
    /// ```
    pub fn from_pop3_data(data: Vec<u8>) -> Result<Self, MailError> {
        Self::parse(undo_pop3_transparency(data))
    }

    /// The raw bytes.
    pub fn raw(&self) -> &[u8] {
        &self.raw
    }

    /// The decoded subject.
    pub fn subject(&self) -> Option<String> {
        self.parsed.subject().map(str::to_owned)
    }

    /// `From:` mailboxes.
    pub fn from(&self) -> Vec<MailboxAddr> {
        addrs(self.parsed.from())
    }

    /// `To:` mailboxes.
    pub fn to(&self) -> Vec<MailboxAddr> {
        addrs(self.parsed.to())
    }

    /// `Cc:` mailboxes.
    pub fn cc(&self) -> Vec<MailboxAddr> {
        addrs(self.parsed.cc())
    }

    /// Whether the message carries a `Bcc:` header (a sent mail must not).
    pub fn has_bcc_header(&self) -> bool {
        self.parsed.bcc().is_some()
    }

    /// The `Date:` header in RFC 822 form.
    pub fn date(&self) -> Option<String> {
        self.parsed.date().map(|d| d.to_rfc822())
    }

    /// A header's raw text by name.
    pub fn header(&self, name: &str) -> Option<String> {
        self.parsed.header_raw(name).map(|v| v.trim().to_owned())
    }

    /// The first text body.
    pub fn text_body(&self) -> Option<String> {
        self.parsed.body_text(0).map(|t| t.into_owned())
    }

    /// The attachments with their names and decoded bytes.
    pub fn attachments(&self) -> Vec<ReceivedAttachment> {
        self.parsed
            .attachments()
            .map(|part| ReceivedAttachment {
                name: part.attachment_name().map(str::to_owned),
                content_type: part.content_type().map(|ct| match ct.subtype() {
                    Some(sub) => format!("{}/{}", ct.ctype(), sub),
                    None => ct.ctype().to_owned(),
                }),
                bytes: part.contents().to_vec(),
            })
            .collect()
    }
}

fn addrs(address: Option<&mail_parser::Address<'_>>) -> Vec<MailboxAddr> {
    address
        .map(|a| {
            a.iter()
                .filter_map(|addr| {
                    Some(MailboxAddr {
                        name: addr.name().map(str::to_owned),
                        address: addr.address()?.to_owned(),
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The multipart type a message declares when its body holds none of the
/// boundary lines that would delimit its parts.
fn lost_parts(msg: &Message) -> Option<String> {
    let ct = msg.parsed.content_type()?;
    if !ct.ctype().eq_ignore_ascii_case("multipart") {
        return None;
    }
    let declared = format!("multipart/{}", ct.subtype().unwrap_or(""));
    let Some(boundary) = ct.attribute("boundary") else {
        return Some(declared);
    };
    let delimiter = format!("--{boundary}");
    let body = String::from_utf8_lossy(&msg.raw);
    let carried = body.lines().any(|l| l.trim_end().starts_with(&delimiter));
    (!carried).then_some(declared)
}

/// The same bytes with every `Content-Type` and `Content-Transfer-Encoding`
/// header dropped and plain UTF-8 text declared instead.
fn as_plain_text(raw: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .or_else(|| text.split_once("\n\n"))
        .unwrap_or((&text, ""));
    let mut out = String::from("Content-Type: text/plain; charset=utf-8\r\n");
    let mut dropping = false;
    for line in head.lines() {
        if line.starts_with([' ', '\t']) {
            if !dropping {
                out.push_str(line);
                out.push_str("\r\n");
            }
            continue;
        }
        let name = line.split(':').next().unwrap_or("").trim();
        dropping = name.eq_ignore_ascii_case("content-type")
            || name.eq_ignore_ascii_case("content-transfer-encoding");
        if !dropping {
            out.push_str(line);
            out.push_str("\r\n");
        }
    }
    out.push_str("\r\n");
    out.push_str(body);
    out.into_bytes()
}

fn undo_pop3_transparency(mut data: Vec<u8>) -> Vec<u8> {
    let terminated = data == b".\r\n" || data.ends_with(b"\r\n.\r\n");
    if !terminated {
        return data;
    }
    data.truncate(data.len() - 3);
    let mut out = Vec::with_capacity(data.len());
    let mut at_line_start = true;
    let mut i = 0;
    while i < data.len() {
        let b = data[i];
        if at_line_start && b == b'.' && data.get(i + 1) == Some(&b'.') {
            i += 1; // drop the stuffed dot
        }
        out.push(data[i]);
        at_line_start = data[i] == b'\n';
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::undo_pop3_transparency as undo;

    #[test]
    fn unterminated_data_is_kept() {
        assert_eq!(undo(b"a\r\n..b\r\n".to_vec()), b"a\r\n..b\r\n");
    }

    #[test]
    fn terminated_data_is_unstuffed_once() {
        assert_eq!(
            undo(b"..a\r\n...b\r\n.c\r\n.\r\n".to_vec()),
            b".a\r\n..b\r\n.c\r\n"
        );
        assert_eq!(undo(b".\r\n".to_vec()), b"");
    }
}
