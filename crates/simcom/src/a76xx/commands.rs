//! A76xx typed commands (sans-I/O): every command and form of chapter 32,
//! "AT Commands for SMTPS", of the *A76XX Series AT Command Manual V1.09*
//! (§32.2.1-§32.2.12), as the fact sheet `simcom-a76xx-csmtps.md` §3 gives
//! them. A form the chapter does not list is not here.
//!
//! Lengths are checked by the mailer (through [`capabilities`](super::capabilities)
//! and [`check_index`]) before a byte is sent; these functions only encode.

use cellmail::{MailError, RecipientKind, TlsMode};
use cellmail_at::fields::{self, Field};
use cellmail_at::{Command, PromptKind, Response, Secret};

/// Result and URC prefixes of the chapter.
pub mod prefix {
    /// `+CSMTPSSEND: <err>` (§32.2.10): the send's result.
    pub const CSMTPSSEND: &str = "+CSMTPSSEND:";
    /// `+CSMTPS: <err>`: the error line `AT+CSMTPSFILE` may send before `ERROR` (§32.2.9).
    pub const CSMTPS: &str = "+CSMTPS:";
    /// `+CSMTPSCFG: "<key>",<id>`
    pub const CSMTPSCFG: &str = "+CSMTPSCFG:";
    /// `+CSMTPSSRV: <server>,<port>,<server_type>`
    pub const CSMTPSSRV: &str = "+CSMTPSSRV:";
    /// `+CSMTPSAUTH: <flag>,<user>,<pwd>`
    pub const CSMTPSAUTH: &str = "+CSMTPSAUTH:";
    /// `+CSMTPSFROM: <saddr>,<sname>`
    pub const CSMTPSFROM: &str = "+CSMTPSFROM:";
    /// `+CSMTPSRCPT: <kind>,<index>,<raddr>,<rname>`
    pub const CSMTPSRCPT: &str = "+CSMTPSRCPT:";
    /// `+CSMTPSSUB: <subject_len>,<subject_character>` (the empty-state example).
    pub const CSMTPSSUB: &str = "+CSMTPSSUB:";
    /// `+CSMTPSBODY: <body_len>`
    pub const CSMTPSBODY: &str = "+CSMTPSBODY:";
    /// `+CSMTPSBCH: <charset>`
    pub const CSMTPSBCH: &str = "+CSMTPSBCH:";
    /// `+CSMTPSFILE: <index>,<filename>[,<filesize>]`
    pub const CSMTPSFILE: &str = "+CSMTPSFILE:";
    /// The three spellings §32.2.6 prints for the subject's read answer: the
    /// example's `+CSMTPSSUB:`, the syntax's `+SMTPSUB:`, the second
    /// example's `+SMTPSSUB:`. All are read.
    pub const SUBJECT_READ: [&str; 3] = ["+CSMTPSSUB:", "+SMTPSUB:", "+SMTPSSUB:"];
    /// The spellings of the server's read answer: `+CSMTPSSRV:` (syntax) and
    /// the example's `+SMTPSRV:` (§32.2.2).
    pub const SERVER_READ: [&str; 2] = ["+CSMTPSSRV:", "+SMTPSRV:"];
}

/// The longest server address, sender and recipient address, user name and
/// password (§32.2.2-§32.2.5: "max length is 127").
pub const STRING_MAX: usize = 127;
/// The longest sender or recipient display name (§32.2.4-§32.2.5: 63).
pub const NAME_MAX: usize = 63;
/// The longest subject (§32.2.6: 511 characters; counted in bytes here).
pub const SUBJECT_MAX: usize = 511;
/// The longest body (§32.2.7: 5120 characters; counted in bytes here).
pub const BODY_MAX: usize = 5120;
/// The longest charset name (§32.2.8: 19 bytes).
pub const CHARSET_MAX: usize = 19;
/// Recipient slots per kind (§32.2.5 `<index>` 0-4).
pub const RECIPIENT_INDEX: std::ops::RangeInclusive<u8> = 0..=4;
/// Attachment slots (§32.2.9 `<index>` 1-10).
pub const ATTACHMENT_INDEX: std::ops::RangeInclusive<u8> = 1..=10;
/// All attachments together (§32.2.9: "total size ... 10 MB"), read as 10⁷
/// bytes, the smaller reading of "MB".
pub const ATTACHMENTS_TOTAL: u64 = 10_000_000;

/// Refuses a slot outside its range before any byte is sent.
///
/// ```
/// use cellmail_simcom::a76xx::commands::{check_index, RECIPIENT_INDEX};
/// assert!(check_index("to[5]", 5, RECIPIENT_INDEX).is_err());
/// assert!(check_index("to[4]", 4, RECIPIENT_INDEX).is_ok());
/// ```
pub fn check_index(
    field: &str,
    index: usize,
    range: std::ops::RangeInclusive<u8>,
) -> Result<u8, MailError> {
    u8::try_from(index)
        .ok()
        .filter(|i| range.contains(i))
        .ok_or_else(|| {
            MailError::invalid(
                field,
                format!(
                    "slot {index} is outside the module's {}-{}",
                    range.start(),
                    range.end()
                ),
            )
        })
}

/// `<server_type>` of `AT+CSMTPSSRV` (§32.2.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServerType {
    /// 1: plain SMTP.
    Smtp,
    /// 2: SMTPS, TLS from the first byte ("SSL3.0/TLS1.0/TLS1.1/TLS1.2").
    Smtps,
    /// 3: SMTP upgraded with STARTTLS.
    StartTls,
}

impl ServerType {
    /// The manual's number.
    pub fn code(self) -> i64 {
        match self {
            ServerType::Smtp => 1,
            ServerType::Smtps => 2,
            ServerType::StartTls => 3,
        }
    }

    /// The type for a number, `None` outside 1-3.
    pub fn from_code(code: i64) -> Option<Self> {
        match code {
            1 => Some(ServerType::Smtp),
            2 => Some(ServerType::Smtps),
            3 => Some(ServerType::StartTls),
            _ => None,
        }
    }

    /// The type for a TLS mode.
    pub fn for_tls(mode: TlsMode) -> Self {
        match mode {
            TlsMode::None => ServerType::Smtp,
            TlsMode::Implicit => ServerType::Smtps,
            TlsMode::StartTls => ServerType::StartTls,
        }
    }
}

/// The two keys of `AT+CSMTPSCFG` (§32.2.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContextKey {
    /// `"sslCtxId"`: the `AT+CSSLCFG` context SMTPS uses (default 0).
    SslCtxId,
    /// `"pdpCtxId"`: the PDP context (default 1).
    PdpCtxId,
}

impl ContextKey {
    /// The key as the manual spells it.
    pub fn name(self) -> &'static str {
        match self {
            ContextKey::SslCtxId => "sslCtxId",
            ContextKey::PdpCtxId => "pdpCtxId",
        }
    }
}

/// `AT+CSMTPSCFG=?`
pub fn test_config() -> Command {
    Command::test("+CSMTPSCFG")
}

/// `AT+CSMTPSCFG="<key>",<id>`
///
/// ```
/// use cellmail_simcom::a76xx::commands::{set_config, ContextKey};
/// assert_eq!(set_config(ContextKey::SslCtxId, 1).encode().unwrap(), b"AT+CSMTPSCFG=\"sslCtxId\",1\r");
/// ```
pub fn set_config(key: ContextKey, id: u8) -> Command {
    Command::write("+CSMTPSCFG")
        .string("key", key.name())
        .int(i64::from(id))
}

/// `AT+CSMTPSCFG="<key>"` → `+CSMTPSCFG: "<key>",<id>` (the chapter's query:
/// it has no read form).
pub fn query_config(key: ContextKey) -> Command {
    Command::write("+CSMTPSCFG").string("key", key.name())
}

/// `AT+CSMTPSCFG`: both ids back to their defaults.
pub fn reset_config() -> Command {
    Command::exec("+CSMTPSCFG")
}

/// Reads `+CSMTPSCFG: "sslCtxId",0`.
///
/// ```
/// use cellmail_simcom::a76xx::commands::{parse_config, ContextKey};
/// assert_eq!(parse_config("+CSMTPSCFG: \"pdpCtxId\",1"), Some((ContextKey::PdpCtxId, 1)));
/// ```
pub fn parse_config(line: &str) -> Option<(ContextKey, u8)> {
    let f = fields::info(line.trim(), prefix::CSMTPSCFG)?;
    let key = match f.first()?.as_str() {
        "sslCtxId" => ContextKey::SslCtxId,
        "pdpCtxId" => ContextKey::PdpCtxId,
        _ => return None,
    };
    Some((key, u8::try_from(f.get(1)?.as_int()?).ok()?))
}

/// `AT+CSMTPSSRV=?`
pub fn test_server() -> Command {
    Command::test("+CSMTPSSRV")
}

/// `AT+CSMTPSSRV?`
pub fn read_server() -> Command {
    Command::read("+CSMTPSSRV")
}

/// `AT+CSMTPSSRV="<server>",<port>[,<server_type>]`.
///
/// ```
/// use cellmail_simcom::a76xx::commands::{set_server, ServerType};
/// assert_eq!(set_server("smtp.server.com", 425, None).encode().unwrap(), b"AT+CSMTPSSRV=\"smtp.server.com\",425\r");
/// assert_eq!(set_server("h", 587, Some(ServerType::StartTls)).encode().unwrap(), b"AT+CSMTPSSRV=\"h\",587,3\r");
/// ```
pub fn set_server(host: &str, port: u16, server_type: Option<ServerType>) -> Command {
    let cmd = Command::write("+CSMTPSSRV")
        .string("server", host)
        .int(i64::from(port));
    match server_type {
        Some(t) => cmd.int(t.code()),
        None => cmd,
    }
}

/// `AT+CSMTPSSRV`: clears the address, the port back to its default.
pub fn clear_server() -> Command {
    Command::exec("+CSMTPSSRV")
}

/// What `AT+CSMTPSSRV?` says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerSetting {
    /// `<server>` (empty when cleared).
    pub host: String,
    /// `<port>`.
    pub port: u16,
    /// `<server_type>`.
    pub server_type: ServerType,
}

/// Reads `+CSMTPSSRV: "smtp.server.com",425,2` (or the example's `+SMTPSRV:`).
///
/// ```
/// use cellmail_simcom::a76xx::commands::{parse_server, ServerType};
/// let s = parse_server("+SMTPSRV: \"\",465,2").unwrap();
/// assert_eq!((s.host.as_str(), s.port, s.server_type), ("", 465, ServerType::Smtps));
/// ```
pub fn parse_server(line: &str) -> Option<ServerSetting> {
    let f = prefix::SERVER_READ
        .iter()
        .find_map(|p| fields::info(line.trim(), p))?;
    match f.as_slice() {
        [host, port, kind] => Some(ServerSetting {
            host: host.as_str().to_owned(),
            port: u16::try_from(port.as_int()?).ok()?,
            server_type: ServerType::from_code(kind.as_int()?)?,
        }),
        _ => None,
    }
}

/// `AT+CSMTPSAUTH=?` → `+CSMTPSAUTH: (list of supported <flag>s)`.
pub fn test_auth() -> Command {
    Command::test("+CSMTPSAUTH")
}

/// `AT+CSMTPSAUTH?` → `+CSMTPSAUTH: <flag>,<user>,<pwd>`.
///
/// **The answer holds the password in plain text**: the command is
/// `sensitive_answer` (never logged); read it with [`parse_auth`] and drop
/// the response.
pub fn read_auth() -> Command {
    Command::read("+CSMTPSAUTH").sensitive_answer()
}

/// `AT+CSMTPSAUTH=0` (user and password must then be omitted, §32.2.3) or
/// `AT+CSMTPSAUTH=1,"<user>","<pwd>"`.
pub fn set_auth(login: Option<(&str, &Secret)>) -> Command {
    match login {
        None => Command::write("+CSMTPSAUTH").int(0),
        Some((user, password)) => Command::write("+CSMTPSAUTH")
            .int(1)
            .string("user", user)
            .secret("pwd", password),
    }
}

/// `AT+CSMTPSAUTH`: clears user name and password.
pub fn clear_auth() -> Command {
    Command::exec("+CSMTPSAUTH")
}

/// What `AT+CSMTPSAUTH?` says. `Debug` shows the password as `***`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthSetting {
    /// `<flag>` 0.
    None,
    /// `<flag>` 1.
    Login {
        /// `<user>`.
        user: String,
        /// `<pwd>`.
        password: Secret,
    },
}

/// Reads the answer to [`read_auth`]; `None` for an unreadable one (the
/// caller reports it without quoting it: it carries the password).
///
/// ```
/// use cellmail_simcom::a76xx::commands::{parse_auth, AuthSetting};
/// assert_eq!(parse_auth("+CSMTPSAUTH: 0,\"\",\"\""), Some(AuthSetting::None));
/// ```
pub fn parse_auth(line: &str) -> Option<AuthSetting> {
    let f = fields::info(line.trim(), prefix::CSMTPSAUTH)?;
    match (f.first()?.as_int()?, f.get(1), f.get(2)) {
        (0, _, _) => Some(AuthSetting::None),
        (1, Some(user), Some(password)) => Some(AuthSetting::Login {
            user: user.as_str().to_owned(),
            password: Secret::new(password.as_str()),
        }),
        _ => None,
    }
}

/// `AT+CSMTPSFROM=?`
pub fn test_sender() -> Command {
    Command::test("+CSMTPSFROM")
}

/// `AT+CSMTPSFROM?`
pub fn read_sender() -> Command {
    Command::read("+CSMTPSFROM")
}

/// `AT+CSMTPSFROM="<saddr>"[,"<sname>"]`.
pub fn set_sender(address: &str, name: Option<&str>) -> Command {
    let cmd = Command::write("+CSMTPSFROM").string("saddr", address);
    match name {
        Some(n) => cmd.string("sname", n),
        None => cmd,
    }
}

/// `AT+CSMTPSFROM`: clears address and name.
pub fn clear_sender() -> Command {
    Command::exec("+CSMTPSFROM")
}

/// Reads `+CSMTPSFROM: "<saddr>","<sname>"` as (address, name).
pub fn parse_sender(line: &str) -> Option<(String, String)> {
    match fields::info(line.trim(), prefix::CSMTPSFROM)?.as_slice() {
        [a, n] => Some((a.as_str().to_owned(), n.as_str().to_owned())),
        _ => None,
    }
}

/// The `<kind>` of a recipient (§32.2.5: 0 TO, 1 CC, 2 BCC).
pub fn kind_code(kind: RecipientKind) -> i64 {
    match kind {
        RecipientKind::To => 0,
        RecipientKind::Cc => 1,
        RecipientKind::Bcc => 2,
    }
}

/// `AT+CSMTPSRCPT=?` → `+CSMTPSRCPT: (list of <kind>s),(list of <index>s)`.
pub fn test_recipients() -> Command {
    Command::test("+CSMTPSRCPT")
}

/// `AT+CSMTPSRCPT?`: one `+CSMTPSRCPT:` line per recipient.
pub fn read_recipients() -> Command {
    Command::read("+CSMTPSRCPT")
}

/// `AT+CSMTPSRCPT=<kind>,<index>,"<raddr>"[,"<rname>"]`; `index` in
/// [`RECIPIENT_INDEX`] (see [`check_index`]).
///
/// ```
/// use cellmail::RecipientKind;
/// use cellmail_simcom::a76xx::commands::set_recipient;
/// let cmd = set_recipient(RecipientKind::Cc, 0, "a@b.c", None);
/// assert_eq!(cmd.encode().unwrap(), b"AT+CSMTPSRCPT=1,0,\"a@b.c\"\r");
/// ```
pub fn set_recipient(kind: RecipientKind, index: u8, address: &str, name: Option<&str>) -> Command {
    let cmd = Command::write("+CSMTPSRCPT")
        .int(kind_code(kind))
        .int(i64::from(index))
        .string("raddr", address);
    match name {
        Some(n) => cmd.string("rname", n),
        None => cmd,
    }
}

/// `AT+CSMTPSRCPT=<kind>,<index>`: clears one recipient.
pub fn clear_recipient(kind: RecipientKind, index: u8) -> Command {
    Command::write("+CSMTPSRCPT")
        .int(kind_code(kind))
        .int(i64::from(index))
}

/// `AT+CSMTPSRCPT=<kind>`: clears every recipient of that kind.
pub fn clear_kind(kind: RecipientKind) -> Command {
    Command::write("+CSMTPSRCPT").int(kind_code(kind))
}

/// `AT+CSMTPSRCPT`: clears every recipient.
pub fn clear_recipients() -> Command {
    Command::exec("+CSMTPSRCPT")
}

/// One line of `AT+CSMTPSRCPT?`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecipientSetting {
    /// `<kind>`.
    pub kind: RecipientKind,
    /// `<index>`.
    pub index: u8,
    /// `<raddr>`.
    pub address: String,
    /// `<rname>` (empty when none was given).
    pub name: String,
}

/// Reads `+CSMTPSRCPT: 0,0,"rcptaddress_to@server.com","rcptname_to"`.
pub fn parse_recipient(line: &str) -> Option<RecipientSetting> {
    let f = fields::info(line.trim(), prefix::CSMTPSRCPT)?;
    let kind = match f.first()?.as_int()? {
        0 => RecipientKind::To,
        1 => RecipientKind::Cc,
        2 => RecipientKind::Bcc,
        _ => return None,
    };
    Some(RecipientSetting {
        kind,
        index: u8::try_from(f.get(1)?.as_int()?).ok()?,
        address: f.get(2)?.as_str().to_owned(),
        name: f.get(3).map(|n| n.as_str().to_owned()).unwrap_or_default(),
    })
}

/// `AT+CSMTPSSUB=?`
pub fn test_subject() -> Command {
    Command::test("+CSMTPSSUB")
}

/// The `<subject_len>` of a subject read answer in any of its three
/// spellings (see [`prefix::SUBJECT_READ`]): that many bytes follow it
/// (none for an empty subject: the syntax's `[<subject>]`).
///
/// ```
/// use cellmail_simcom::a76xx::commands::subject_length;
/// assert_eq!(subject_length("+SMTPSSUB: 19,\"utf-8\""), Some(19));
/// assert_eq!(subject_length("+CSMTPSSUB: 0,\"UTF-8\""), None);
/// assert_eq!(subject_length("+CSMTPSSUB: 512,\"utf-8\""), None);
/// ```
pub fn subject_length(line: &str) -> Option<usize> {
    let f = prefix::SUBJECT_READ
        .iter()
        .find_map(|p| fields::info(line.trim(), p))?;
    usize::try_from(f.first()?.as_int()?)
        .ok()
        .filter(|&n| (1..=SUBJECT_MAX).contains(&n))
}

/// `AT+CSMTPSSUB?` → `+CSMTPSSUB: <len>,"<charset>"`, then `<len>` bytes of
/// subject (read as a raw block: "it can input any binary data"), `OK`.
pub fn read_subject() -> Command {
    Command::read("+CSMTPSSUB").expect_raw(subject_length)
}

/// `AT+CSMTPSSUB=<len>[,"<charset>"]` → `>`, exactly `len` bytes, `OK`.
///
/// ```
/// use cellmail_simcom::a76xx::commands::set_subject;
/// assert_eq!(set_subject(19, Some("utf-8")).encode().unwrap(), b"AT+CSMTPSSUB=19,\"utf-8\"\r");
/// ```
pub fn set_subject(length: usize, charset: Option<&str>) -> Command {
    let cmd = Command::write("+CSMTPSSUB").int(i64::try_from(length).unwrap_or(i64::MAX));
    match charset {
        Some(c) => cmd.string("subject_character", c),
        None => cmd,
    }
    .expect_prompt(PromptKind::Angle)
}

/// `AT+CSMTPSSUB`: clears the subject.
pub fn clear_subject() -> Command {
    Command::exec("+CSMTPSSUB")
}

/// The subject's length and charset from a read answer's first line.
pub fn parse_subject(line: &str) -> Option<(usize, String)> {
    let f = prefix::SUBJECT_READ
        .iter()
        .find_map(|p| fields::info(line.trim(), p))?;
    Some((
        usize::try_from(f.first()?.as_int()?).ok()?,
        f.get(1).map(Field::as_str).unwrap_or_default().to_owned(),
    ))
}

/// `AT+CSMTPSBODY=?`
pub fn test_body() -> Command {
    Command::test("+CSMTPSBODY")
}

/// The `<body_len>` of `+CSMTPSBODY: <len>`: that many bytes follow it.
///
/// ```
/// use cellmail_simcom::a76xx::commands::body_length;
/// assert_eq!(body_length("+CSMTPSBODY: 38"), Some(38));
/// assert_eq!(body_length("+CSMTPSBODY: 5121"), None);
/// assert_eq!(body_length("+CSMTPSBODY: 0"), None);
/// ```
pub fn body_length(line: &str) -> Option<usize> {
    usize::try_from(fields::int(line.trim(), prefix::CSMTPSBODY)?)
        .ok()
        .filter(|&n| (1..=BODY_MAX).contains(&n))
}

/// `AT+CSMTPSBODY?` → `+CSMTPSBODY: <len>`, `<len>` bytes, `OK` (`ERROR`
/// while a send is under way).
pub fn read_body() -> Command {
    Command::read("+CSMTPSBODY").expect_raw(body_length)
}

/// `AT+CSMTPSBODY=<len>` → `>`, exactly `len` bytes, `OK`.
pub fn set_body(length: usize) -> Command {
    Command::write("+CSMTPSBODY")
        .int(i64::try_from(length).unwrap_or(i64::MAX))
        .expect_prompt(PromptKind::Angle)
}

/// `AT+CSMTPSBODY`: clears the body.
pub fn clear_body() -> Command {
    Command::exec("+CSMTPSBODY")
}

/// `AT+CSMTPSBCH=?`
pub fn test_charset() -> Command {
    Command::test("+CSMTPSBCH")
}

/// `AT+CSMTPSBCH?` → `+CSMTPSBCH: "<charset>"`.
pub fn read_charset() -> Command {
    Command::read("+CSMTPSBCH")
}

/// `AT+CSMTPSBCH="<charset>"`: the body's charset label (default `utf-8`).
pub fn set_charset(charset: &str) -> Command {
    Command::write("+CSMTPSBCH").string("charset", charset)
}

/// `AT+CSMTPSBCH` (the manual does not say what it does).
pub fn reset_charset() -> Command {
    Command::exec("+CSMTPSBCH")
}

/// `AT+CSMTPSFILE=?` → `+CSMTPSFILE: (list of supported <index>s)`.
pub fn test_attachment() -> Command {
    Command::test("+CSMTPSFILE")
}

/// `AT+CSMTPSFILE?`: one `+CSMTPSFILE:` line per attachment.
pub fn read_attachments() -> Command {
    Command::read("+CSMTPSFILE")
}

/// `AT+CSMTPSFILE=<index>,"<filename>"`; a name that is not ASCII goes as
/// `{non-ascii}"<hex of its UTF-8>"` (§32.2.9). `index` in [`ATTACHMENT_INDEX`].
///
/// ```
/// use cellmail_simcom::a76xx::commands::set_attachment;
/// assert_eq!(set_attachment(1, "E:/file1.txt").encode().unwrap(), b"AT+CSMTPSFILE=1,\"E:/file1.txt\"\r");
/// assert_eq!(set_attachment(1, "测试附件.jpg").encode().unwrap(),
///            b"AT+CSMTPSFILE=1,{non-ascii}\"E6B58BE8AF95E99984E4BBB62E6A7067\"\r");
/// ```
pub fn set_attachment(index: u8, name: &str) -> Command {
    let cmd = Command::write("+CSMTPSFILE").int(i64::from(index));
    if name.is_ascii() {
        cmd.string("filename", name)
    } else {
        cmd.tagged_hex("{non-ascii}", name.as_bytes())
    }
}

/// `AT+CSMTPSFILE=<index>` (the manual does not say what it does; by
/// analogy with the SIM5360's `AT+SMTPFILE=<index>` it drops that slot).
pub fn clear_attachment(index: u8) -> Command {
    Command::write("+CSMTPSFILE").int(i64::from(index))
}

/// `AT+CSMTPSFILE` (effect not described; the SIM5360's execution form
/// deletes every attachment).
pub fn clear_attachments() -> Command {
    Command::exec("+CSMTPSFILE")
}

/// One line of `AT+CSMTPSFILE?`: (index, name, size). The syntax has a
/// `<filesize>`, the examples do not: both are read.
pub fn parse_attachment(line: &str) -> Option<(u8, String, Option<u64>)> {
    let f = fields::info(line.trim(), prefix::CSMTPSFILE)?;
    let size = match f.get(2) {
        Some(s) => Some(u64::try_from(s.as_int()?).ok()?),
        None => None,
    };
    Some((
        u8::try_from(f.first()?.as_int()?).ok()?,
        f.get(1)?.as_str().to_owned(),
        size,
    ))
}

/// `AT+CSMTPSSEND=?`
pub fn test_send() -> Command {
    Command::test("+CSMTPSSEND")
}

/// `AT+CSMTPSSEND` → `OK`, then `+CSMTPSSEND: <err>`; or `+CSMTPSSEND:
/// <err>` and `ERROR` at once (§32.2.10).
pub fn send() -> Command {
    Command::exec("+CSMTPSSEND").expect_deferred(prefix::CSMTPSSEND)
}

/// `AT+CSMTPSSTOP=?`
pub fn test_stop() -> Command {
    Command::test("+CSMTPSSTOP")
}

/// `AT+CSMTPSSTOP`: stops the send under way (`ERROR` when none is).
pub fn stop() -> Command {
    Command::exec("+CSMTPSSTOP")
}

/// `AT+CSMTPSCLEAN`: clears "mail content and setting" (§32.2.12; no test form).
pub fn clean() -> Command {
    Command::exec("+CSMTPSCLEAN")
}

/// The `<err>` of a `+CSMTPSSEND: <err>` or `+CSMTPS: <err>` line.
///
/// ```
/// use cellmail_simcom::a76xx::commands::result_code;
/// assert_eq!(result_code("+CSMTPSSEND: 611"), Some(611));
/// assert_eq!(result_code("+CSMTPS: 604"), Some(604));
/// assert_eq!(result_code("+CSMTPSRCPT: 0,0"), None);
/// ```
pub fn result_code(line: &str) -> Option<i64> {
    let line = line.trim();
    fields::int(line, prefix::CSMTPSSEND).or_else(|| fields::int(line, prefix::CSMTPS))
}

/// The first line of `response` under any of `prefixes`.
pub fn line_of<'a>(response: &'a Response, prefixes: &[&str]) -> Option<&'a str> {
    prefixes.iter().find_map(|p| response.line(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(c: Command) -> String {
        String::from_utf8(c.encode().unwrap()).unwrap()
    }

    #[test]
    fn encodings() {
        assert_eq!(
            w(query_config(ContextKey::PdpCtxId)),
            "AT+CSMTPSCFG=\"pdpCtxId\"\r"
        );
        assert_eq!(w(clear_kind(RecipientKind::Bcc)), "AT+CSMTPSRCPT=2\r");
        assert_eq!(
            w(clear_recipient(RecipientKind::To, 3)),
            "AT+CSMTPSRCPT=0,3\r"
        );
        assert_eq!(w(set_auth(None)), "AT+CSMTPSAUTH=0\r");
        assert_eq!(w(set_body(38)), "AT+CSMTPSBODY=38\r");
        assert_eq!(w(set_subject(5, None)), "AT+CSMTPSSUB=5\r");
        assert_eq!(w(clear_attachment(2)), "AT+CSMTPSFILE=2\r");
    }

    #[test]
    fn the_password_never_shows() {
        let c = set_auth(Some(("u", &Secret::new("hunter2"))));
        assert!(!c.to_string().contains("hunter2"));
        assert!(!format!("{c:?}").contains("hunter2"));
        let setting = parse_auth("+CSMTPSAUTH: 1,\"u\",\"hunter2\"").unwrap();
        assert!(!format!("{setting:?}").contains("hunter2"));
        assert!(read_auth().has_sensitive_answer());
    }

    #[test]
    fn server_types_round_trip_and_refuse_others() {
        for t in [ServerType::Smtp, ServerType::Smtps, ServerType::StartTls] {
            assert_eq!(ServerType::from_code(t.code()), Some(t));
        }
        assert_eq!(ServerType::from_code(0), None);
        assert_eq!(ServerType::from_code(4), None);
        assert_eq!(ServerType::for_tls(TlsMode::StartTls), ServerType::StartTls);
        assert!(parse_server("+CSMTPSSRV: \"h\",25,4").is_none());
    }

    #[test]
    fn slots_outside_the_manual_are_refused() {
        assert!(check_index("to[0]", 0, RECIPIENT_INDEX).is_ok());
        assert!(check_index("attachments[0]", 0, ATTACHMENT_INDEX).is_err());
        assert!(check_index("attachments[9]", 10, ATTACHMENT_INDEX).is_ok());
        assert!(check_index("attachments[10]", 11, ATTACHMENT_INDEX).is_err());
        assert!(check_index("x", 300, ATTACHMENT_INDEX).is_err());
    }

    #[test]
    fn read_answers() {
        assert_eq!(
            parse_recipient("+CSMTPSRCPT: 1,0,\"rcptaddress_cc@server.com\",\"rcptname_cc\""),
            Some(RecipientSetting {
                kind: RecipientKind::Cc,
                index: 0,
                address: "rcptaddress_cc@server.com".into(),
                name: "rcptname_cc".into(),
            })
        );
        assert_eq!(parse_recipient("+CSMTPSRCPT: 3,0,\"a\""), None);
        assert_eq!(
            parse_attachment("+CSMTPSFILE: 2,\"U:/file2.txt\""),
            Some((2, "U:/file2.txt".into(), None))
        );
        assert_eq!(
            parse_attachment("+CSMTPSFILE: 1,\"C:/a\",42"),
            Some((1, "C:/a".into(), Some(42)))
        );
        assert_eq!(
            parse_subject("+CSMTPSSUB: 0,\"UTF-8\""),
            Some((0, "UTF-8".into()))
        );
        assert_eq!(
            parse_sender("+CSMTPSFROM: \"\",\"\""),
            Some((String::new(), String::new()))
        );
    }
}
