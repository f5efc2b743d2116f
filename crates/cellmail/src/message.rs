//! Retrieved messages: the raw RFC 5322 bytes, parsed with `mail-parser`.

use mail_parser::{MessageParser, MimeHeaders};

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
}

impl std::fmt::Debug for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Message")
            .field("bytes", &self.raw.len())
            .field("subject", &self.subject())
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
        Ok(Self { raw, parsed })
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
