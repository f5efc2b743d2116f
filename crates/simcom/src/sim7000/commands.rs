//! SIM7000 typed commands (sans-I/O), from the SIM7000 e-mail application
//! note §3.2 (e-mail), §4 (bearer) and §5.1 (time).

use std::time::Duration;

use cellmail_at::fields;
use cellmail_at::{Command, PromptKind};

use super::codes::Pop3Code;

/// Deferred result and URC prefixes.
pub mod prefix {
    /// `+SMTPSEND: <code>`
    pub const SMTPSEND: &str = "+SMTPSEND:";
    /// `+SMTPFT: 1,<maxLength>` (URC: the module takes attachment data).
    pub const SMTPFT_READY: &str = "+SMTPFT: 1,";
    /// `+SMTPFT: 2,<cnfLength>` (prompt of `AT+SMTPFT=<n>`).
    pub const SMTPFT_GRANT: &str = "+SMTPFT: 2,";
    /// `+POP3IN: <code>`
    pub const POP3IN: &str = "+POP3IN:";
    /// `+POP3NUM: ...`
    pub const POP3NUM: &str = "+POP3NUM:";
    /// `+POP3LIST: ...`
    pub const POP3LIST: &str = "+POP3LIST:";
    /// `+POP3UIDL: ...`
    pub const POP3UIDL: &str = "+POP3UIDL:";
    /// `+POP3CMD: <1|0>`
    pub const POP3CMD: &str = "+POP3CMD:";
    /// `+POP3READ: ...`
    pub const POP3READ: &str = "+POP3READ:";
    /// `+POP3READ: 3,<dataLength>` (URC: more data arrived).
    pub const POP3READ_MORE: &str = "+POP3READ: 3,";
    /// `+POP3DEL: <1|0>`
    pub const POP3DEL: &str = "+POP3DEL:";
    /// `+POP3RSET: <1|0>` (the manual also prints `+POP3REST: 0`).
    pub const POP3RSET: &str = "+POP3RSET:";
    /// The manual's misspelt negative answer to AT+POP3RSET.
    pub const POP3REST: &str = "+POP3REST:";
    /// `+POP3OUT: <code>` (also sent instead of a command's result when the session ends).
    pub const POP3OUT: &str = "+POP3OUT:";
    /// `+CNTP: <code>[,"<time>"]`
    pub const CNTP: &str = "+CNTP:";
}

/// `AT+EMAILSSL=<n>` of the SIM800 Series SSL application note (V1.00 and
/// V1.01 §2.1, identical text; not in the SIM7000 note, which has no TLS):
/// how the SMTP and POP3 clients secure their connection. One setting for
/// both services; the note sends it before `AT+SMTPSRV` / `AT+POP3SRV`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EmailSsl {
    /// 0: no encryption.
    Plain,
    /// 1: TLS from the first byte, on the "encryption port" (SMTPS 465,
    /// POP3S 995 when the port is omitted).
    Implicit,
    /// 2: in clear on the "normal port", then `STARTTLS` (SMTP) or `STLS`
    /// (POP3) (25 and 110 when the port is omitted).
    StartTls,
}

impl EmailSsl {
    /// The note's `<n>`.
    pub fn value(self) -> i64 {
        match self {
            EmailSsl::Plain => 0,
            EmailSsl::Implicit => 1,
            EmailSsl::StartTls => 2,
        }
    }

    /// The mode for a module's `<n>`; `None` for a value the note does not
    /// define.
    pub fn from_value(n: i64) -> Option<Self> {
        match n {
            0 => Some(EmailSsl::Plain),
            1 => Some(EmailSsl::Implicit),
            2 => Some(EmailSsl::StartTls),
            _ => None,
        }
    }

    /// The mode of an account's [`TlsMode`](cellmail::TlsMode).
    pub fn of(mode: cellmail::TlsMode) -> Self {
        match mode {
            cellmail::TlsMode::None => EmailSsl::Plain,
            cellmail::TlsMode::Implicit => EmailSsl::Implicit,
            cellmail::TlsMode::StartTls => EmailSsl::StartTls,
        }
    }
}

/// `AT+EMAILSSL=<n>` → `OK` (SIM800 SSL note §2.1).
///
/// ```
/// use cellmail_simcom::sim7000::commands::{set_email_ssl, EmailSsl};
/// assert_eq!(set_email_ssl(EmailSsl::StartTls).encode().unwrap(), b"AT+EMAILSSL=2\r");
/// ```
pub fn set_email_ssl(mode: EmailSsl) -> Command {
    Command::write("+EMAILSSL").int(mode.value())
}

/// `AT+EMAILSSL?` → `+EMAILSSL: <n>` `OK` ([`parse_email_ssl`]).
pub fn read_email_ssl() -> Command {
    Command::read("+EMAILSSL")
}

/// `AT+EMAILSSL=?` → `+EMAILSSL: (list of supported <n>s)` `OK`
/// ([`parse_email_ssl_modes`]). A module without e-mail TLS (a SIM7000,
/// SIM800 firmware before R14) answers `ERROR`: the mailer's TLS probe.
pub fn test_email_ssl() -> Command {
    Command::test("+EMAILSSL")
}

/// The information line of an `AT+EMAILSSL` answer with its prefix taken
/// off, `+EMAILSSL:` or the note's printed `+ EMAILSSL:` (a stray space in
/// §2.1; whether a module sends it is not known, both are read).
fn email_ssl_info(line: &str) -> Option<&str> {
    let rest = line.trim().strip_prefix('+')?.trim_start();
    rest.strip_prefix("EMAILSSL:").map(str::trim)
}

/// The mode in a read answer, `+EMAILSSL: <n>`; `None` for another line or
/// a value the note does not define.
///
/// ```
/// use cellmail_simcom::sim7000::commands::{parse_email_ssl, EmailSsl};
/// assert_eq!(parse_email_ssl("+EMAILSSL: 1"), Some(EmailSsl::Implicit));
/// assert_eq!(parse_email_ssl("+ EMAILSSL: 0"), Some(EmailSsl::Plain));
/// assert_eq!(parse_email_ssl("+EMAILSSL: 3"), None);
/// ```
pub fn parse_email_ssl(line: &str) -> Option<EmailSsl> {
    email_ssl_info(line)?
        .parse()
        .ok()
        .and_then(EmailSsl::from_value)
}

/// The modes a test answer lists, `+EMAILSSL: (0-2)` or `(0,1,2)` (the
/// note prints no concrete list); `None` when the line does not read.
/// Values the note does not define are left out.
///
/// ```
/// use cellmail_simcom::sim7000::commands::{parse_email_ssl_modes, EmailSsl};
/// assert_eq!(parse_email_ssl_modes("+EMAILSSL: (0-2)").map(|m| m.len()), Some(3));
/// assert_eq!(parse_email_ssl_modes("+EMAILSSL: (0,1)"), Some(vec![EmailSsl::Plain, EmailSsl::Implicit]));
/// assert_eq!(parse_email_ssl_modes("+EMAILSSL: 0-2"), None);
/// // The SIM7080's four-parameter form (\[AT7080\] §21.2.23): its first list.
/// assert_eq!(parse_email_ssl_modes("+EMAILSSL: (0-2),(0-5),51,51").map(|m| m.len()), Some(3));
/// ```
pub fn parse_email_ssl_modes(line: &str) -> Option<Vec<EmailSsl>> {
    let info = email_ssl_info(line)?.strip_prefix('(')?;
    let (list, rest) = info.split_once(')')?;
    if !(rest.is_empty() || rest.starts_with(',')) {
        return None;
    }
    let mut modes = Vec::new();
    for part in list.split(',') {
        let part = part.trim();
        let (lo, hi) = match part.split_once('-') {
            Some((lo, hi)) => (
                lo.trim().parse::<i64>().ok()?,
                hi.trim().parse::<i64>().ok()?,
            ),
            None => {
                let n = part.parse::<i64>().ok()?;
                (n, n)
            }
        };
        if lo > hi {
            return None;
        }
        for n in lo.max(0)..=hi.min(2) {
            if let Some(m) = EmailSsl::from_value(n) {
                if !modes.contains(&m) {
                    modes.push(m);
                }
            }
        }
    }
    Some(modes)
}

/// `<opt>` of `AT+SSLOPT` (SIM800 SSL note V1.01 §2.6).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SslOption {
    /// 0: ignore an invalid server certificate.
    IgnoreInvalidCertificate,
    /// 1: client authentication (the note: "not implemented").
    ClientAuthentication,
}

/// `AT+SSLOPT=<opt>,<enable>` → `OK` (SIM800 SSL note V1.01 §2.6). The note
/// does not say whether the option applies to `AT+EMAILSSL` connections
/// (it lists it for SSL operations in general): the mailer does not send it.
///
/// ```
/// use cellmail_simcom::sim7000::commands::{set_ssl_option, SslOption};
/// assert_eq!(set_ssl_option(SslOption::IgnoreInvalidCertificate, true).encode().unwrap(), b"AT+SSLOPT=0,1\r");
/// ```
pub fn set_ssl_option(option: SslOption, enable: bool) -> Command {
    let opt = match option {
        SslOption::IgnoreInvalidCertificate => 0,
        SslOption::ClientAuthentication => 1,
    };
    Command::write("+SSLOPT").int(opt).int(i64::from(enable))
}

/// `AT+SSLOPT?` → `+SSLOPT: 0,<enable>` `+SSLOPT: 1,<enable>` `OK`.
pub fn read_ssl_options() -> Command {
    Command::read("+SSLOPT")
}

/// `AT+SSLOPT=?` → `+SSLOPT: (range of <opt>s),(range of <enable>s)` `OK`.
pub fn test_ssl_options() -> Command {
    Command::test("+SSLOPT")
}

/// `+SSLSETCERT: <0|1>`, the URC after `AT+SSLSETCERT`'s `OK`.
pub const SSLSETCERT: &str = "+SSLSETCERT:";

/// The longest `<file>` of `AT+SSLSETCERT` (V1.01 §2.5: 100 characters).
pub const SSLSETCERT_FILE_MAX: usize = 100;

/// The longest `<password>` of `AT+SSLSETCERT` (V1.01 §2.5: 32 characters).
pub const SSLSETCERT_PASSWORD_MAX: usize = 32;

/// `AT+SSLSETCERT="<file>"[,"<password>"]` → `OK`, then `+SSLSETCERT: 0`
/// (imported) or `1` (failed) (SIM800 SSL note V1.01 §2.5): the one
/// certificate file (`.crt`/`.cer` on the module's file system) SSL uses.
/// The password is a [`Secret`](cellmail_at::Secret), never shown. The note
/// does not say whether it applies to `AT+EMAILSSL`: the mailer does not
/// send it. Lengths beyond [`SSLSETCERT_FILE_MAX`] /
/// [`SSLSETCERT_PASSWORD_MAX`] are the caller's to refuse.
///
/// ```
/// use cellmail_at::Secret;
/// use cellmail_simcom::sim7000::commands::set_certificate;
/// let c = set_certificate("C:\\USER\\HENRY_SSL.CRT", Some(&Secret::new("pw")));
/// assert_eq!(c.encode().unwrap(), b"AT+SSLSETCERT=\"C:\\USER\\HENRY_SSL.CRT\",\"pw\"\r");
/// assert!(!c.to_string().contains("pw\""));
/// ```
pub fn set_certificate(file: &str, password: Option<&cellmail_at::Secret>) -> Command {
    let c = Command::write("+SSLSETCERT")
        .string("file", file)
        .expect_deferred(SSLSETCERT);
    match password {
        Some(p) => c.secret("password", p),
        None => c,
    }
}

/// `AT+SSLSETCERT=?` → `+SSLSETCERT: <max file length>,<max password length>` `OK`.
pub fn test_certificate() -> Command {
    Command::test("+SSLSETCERT")
}

/// Whether a `+SSLSETCERT: <n>` URC says the certificate was imported
/// (`Some(true)` for 0, `Some(false)` for 1, `None` otherwise).
pub fn certificate_imported(line: &str) -> Option<bool> {
    match ints(line, SSLSETCERT).as_slice() {
        [Some(0)] => Some(true),
        [Some(1)] => Some(false),
        _ => None,
    }
}

/// The largest `AT+POP3READ` request (§3.2.19: 1-1460).
pub const POP3READ_MAX: u16 = 1460;

/// The largest `+POP3READ: 1|2,<n>` block read as raw data: a module that
/// announces more than it was asked for (at most [`POP3READ_MAX`]) may
/// still send it, and its bytes must not be decoded as AT lines; beyond this
/// bound the announcement is not believed (the mailer ends the session).
pub const POP3READ_RAW_BOUND: usize = 64 * 1024;

/// `AT+EMAILCID=<cid>`: the bearer profile e-mail uses.
pub fn set_cid(cid: u8) -> Command {
    Command::write("+EMAILCID").int(i64::from(cid))
}

/// `AT+EMAILCID?`
pub fn read_cid() -> Command {
    Command::read("+EMAILCID")
}

/// `AT+EMAILCID=?`
pub fn test_cid() -> Command {
    Command::test("+EMAILCID")
}

/// The range of `AT+EMAILTO=<timeout>` (§3.2.2: 10-120, default 30 s).
pub const TIMEOUT_RANGE: std::ops::RangeInclusive<u8> = 10..=120;

/// `AT+EMAILTO=<timeout>`: the server response timeout, [`TIMEOUT_RANGE`] s
/// (the mailer checks the range before sending).
pub fn set_timeout(secs: u8) -> Command {
    Command::write("+EMAILTO").int(i64::from(secs))
}

/// `AT+EMAILTO?`
pub fn read_timeout() -> Command {
    Command::read("+EMAILTO")
}

/// `AT+EMAILTO=?`
pub fn test_timeout() -> Command {
    Command::test("+EMAILTO")
}

/// `AT+SMTPBODY=<length>` → `DOWNLOAD`, exactly `length` bytes, `OK`.
pub fn body(length: usize) -> Command {
    Command::write("+SMTPBODY")
        .int(i64::try_from(length).unwrap_or(i64::MAX))
        .expect_prompt(PromptKind::Download)
}

/// `AT+SMTPBODY=?`
pub fn test_body() -> Command {
    Command::test("+SMTPBODY")
}

/// `AT+SMTPCS="<charset>"`: e.g. `ASCII`, `UTF-8`, `GB2312`, `BIG5`.
pub fn set_charset(charset: &str) -> Command {
    Command::write("+SMTPCS").string("charset", charset)
}

/// `AT+SMTPCS?`
pub fn read_charset() -> Command {
    Command::read("+SMTPCS")
}

/// `AT+SMTPCS=?`
pub fn test_charset() -> Command {
    Command::test("+SMTPCS")
}

/// An attachment's type and transfer encoding (§3.2.9): a text file goes
/// 7bit, a binary file base64; the manual allows no other pairing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttachmentKind {
    /// `<fileType>` 1 with `<encodeType>` 0 (7bit).
    Text,
    /// `<fileType>` 2 with `<encodeType>` 1 (base64).
    Binary,
}

/// `AT+SMTPFILE=<type>,"<name>",<encoding>`, the pairing rule enforced by the type.
///
/// ```
/// use cellmail_simcom::sim7000::commands::{set_attachment, AttachmentKind};
/// assert_eq!(set_attachment(AttachmentKind::Text, "test.txt").encode().unwrap(), b"AT+SMTPFILE=1,\"test.txt\",0\r");
/// assert_eq!(set_attachment(AttachmentKind::Binary, "a.bin").encode().unwrap(), b"AT+SMTPFILE=2,\"a.bin\",1\r");
/// ```
pub fn set_attachment(kind: AttachmentKind, name: &str) -> Command {
    let (file_type, encoding) = match kind {
        AttachmentKind::Text => (1, 0),
        AttachmentKind::Binary => (2, 1),
    };
    Command::write("+SMTPFILE")
        .int(file_type)
        .string("file name", name)
        .int(encoding)
}

/// `AT+SMTPFILE=0`: no attachment.
pub fn no_attachment() -> Command {
    Command::write("+SMTPFILE").int(0)
}

/// `AT+SMTPFILE?`
pub fn read_attachment() -> Command {
    Command::read("+SMTPFILE")
}

/// `AT+SMTPFILE=?`
pub fn test_attachment() -> Command {
    Command::test("+SMTPFILE")
}

/// `AT+SMTPSEND` → `OK`, then `+SMTPSEND: <code>` (after the attachment, if any).
pub fn send() -> Command {
    Command::exec("+SMTPSEND").expect_deferred(prefix::SMTPSEND)
}

/// `AT+SMTPSEND=?`
pub fn test_send() -> Command {
    Command::test("+SMTPSEND")
}

/// `AT+SMTPFT=<n>` → prompt `+SMTPFT: 2,<cnfLength>`, then that many bytes, `OK`.
pub fn transfer(length: u16) -> Command {
    Command::write("+SMTPFT")
        .int(i64::from(length))
        .expect_prompt(PromptKind::Line(prefix::SMTPFT_GRANT.into()))
        // §3.2.11: the session may end instead of the grant.
        .ends_on(prefix::SMTPSEND)
}

/// `AT+SMTPFT=0`: the attachment is complete.
pub fn transfer_done() -> Command {
    Command::write("+SMTPFT").int(0)
}

/// `AT+SMTPFT=?`
pub fn test_transfer() -> Command {
    Command::test("+SMTPFT")
}

/// `AT+POP3IN` → `OK`, `+POP3IN: <code>`.
pub fn pop3_login() -> Command {
    Command::exec("+POP3IN").expect_deferred(prefix::POP3IN)
}

/// `AT+POP3IN=?`
pub fn test_pop3_login() -> Command {
    Command::test("+POP3IN")
}

/// `AT+POP3NUM` → `OK`, `+POP3NUM: 1,<count>,<size>`.
pub fn pop3_count() -> Command {
    Command::exec("+POP3NUM").expect_deferred(prefix::POP3NUM)
}

/// `AT+POP3NUM=?`
pub fn test_pop3_count() -> Command {
    Command::test("+POP3NUM")
}

/// `AT+POP3LIST=<n>` → `OK`, `+POP3LIST: 1,<n>,<size>`.
pub fn pop3_list(number: u32) -> Command {
    Command::write("+POP3LIST")
        .int(i64::from(number))
        .expect_deferred(prefix::POP3LIST)
}

/// `AT+POP3LIST=?`
pub fn test_pop3_list() -> Command {
    Command::test("+POP3LIST")
}

/// `AT+POP3UIDL=<n>` → `OK`, `+POP3UIDL: 1,<n>,<uid>`.
pub fn pop3_uid(number: u32) -> Command {
    Command::write("+POP3UIDL")
        .int(i64::from(number))
        .expect_deferred(prefix::POP3UIDL)
}

/// `AT+POP3UIDL=?`
pub fn test_pop3_uid() -> Command {
    Command::test("+POP3UIDL")
}

/// `AT+POP3CMD` multi-line commands (§3.2.18).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pop3Request {
    /// 1: LIST, every message.
    List,
    /// 2: UIDL, every message.
    Uidl,
    /// 3: TOP `<msg>` `<lines>`: the header and that many body lines.
    Top(u32, u32),
    /// 4: RETR `<msg>`.
    Retrieve(u32),
}

/// The request as the POP3 protocol names it, for operators: `LIST`,
/// `UIDL`, `TOP 3 0`, `RETR 3`.
///
/// ```
/// use cellmail_simcom::sim7000::commands::Pop3Request;
/// assert_eq!(Pop3Request::Top(3, 0).to_string(), "TOP 3 0");
/// ```
impl std::fmt::Display for Pop3Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Pop3Request::List => f.write_str("LIST"),
            Pop3Request::Uidl => f.write_str("UIDL"),
            Pop3Request::Top(n, lines) => write!(f, "TOP {n} {lines}"),
            Pop3Request::Retrieve(n) => write!(f, "RETR {n}"),
        }
    }
}

/// `AT+POP3CMD=<type>[,<msg>[,<lines>]]` → `OK`, `+POP3CMD: <1|0>`; the
/// answer is then read with [`read`].
pub fn pop3_command(request: Pop3Request) -> Command {
    let cmd = Command::write("+POP3CMD");
    match request {
        Pop3Request::List => cmd.int(1),
        Pop3Request::Uidl => cmd.int(2),
        Pop3Request::Top(n, lines) => cmd.int(3).int(i64::from(n)).int(i64::from(lines)),
        Pop3Request::Retrieve(n) => cmd.int(4).int(i64::from(n)),
    }
    .expect_deferred(prefix::POP3CMD)
}

/// `AT+POP3CMD=?`
pub fn test_pop3_command() -> Command {
    Command::test("+POP3CMD")
}

/// How many raw bytes follow `+POP3READ: 1,<n>` and `+POP3READ: 2,<n>`.
///
/// §3.2.19: `<cnfLength>` is what the module confirms of the `<reqLength>`
/// asked for, 1-[`POP3READ_MAX`]. A larger length is still read as a raw
/// block, up to [`POP3READ_RAW_BOUND`] (should the module really send it,
/// an `OK`, `RDY` or `+POP3OUT:` in the mail is data, not a line), and the
/// mailer rejects it as a protocol error; a length beyond the bound is not
/// taken as a raw block (the read ends at its final result) and the mailer
/// ends the session.
///
/// ```
/// use cellmail_simcom::sim7000::commands::pop3read_length;
/// assert_eq!(pop3read_length("+POP3READ: 2,1183"), Some(1183));
/// assert_eq!(pop3read_length("+POP3READ: 1,1461"), Some(1461));
/// assert_eq!(pop3read_length("+POP3READ: 1,65537"), None);
/// ```
pub fn pop3read_length(line: &str) -> Option<usize> {
    let f = fields::info(line, prefix::POP3READ)?;
    match f.as_slice() {
        [mode, len] if matches!(mode.as_int(), Some(1 | 2)) => usize::try_from(len.as_int()?)
            .ok()
            .filter(|&n| n <= POP3READ_RAW_BOUND),
        _ => None,
    }
}

/// Whether `line` is a `+POP3OUT: <code>` line.
fn is_session_end(line: &str) -> bool {
    line.starts_with(prefix::POP3OUT)
}

/// `AT+POP3READ=<n>` → `+POP3READ: <1 more|2 done>,<cnf>`, `cnf` raw bytes, `OK`.
///
/// §3.2.19: "If some error occur: `+POP3OUT: <code>`" comes instead of the
/// answer, with no `OK` after it: that line ends the command (read it with
/// [`read_answer`]).
pub fn read(length: u16) -> Command {
    Command::write("+POP3READ")
        .int(i64::from(length.clamp(1, POP3READ_MAX)))
        .expect_raw(pop3read_length)
        .expect_final_line(is_session_end)
        .timeout(Duration::from_secs(10))
}

/// What an `AT+POP3READ` answered (§3.2.19).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadAnswer {
    /// `+POP3READ: 1,<cnfLength>` (`done: false`: more to read) or
    /// `+POP3READ: 2,<cnfLength>` (`done: true`).
    Data {
        /// Whether the response was read completely.
        done: bool,
        /// The bytes that followed.
        length: usize,
    },
    /// `+POP3OUT: <code>` instead: the module left the POP3 session.
    SessionEnded(Pop3Code),
}

/// The answer among an `AT+POP3READ`'s lines: the line with mode 1 or 2, or a
/// `+POP3OUT: <code>`. A `+POP3READ: 3,<n>` URC that arrived while the read
/// was in flight has the same prefix and is skipped (see [`data_arrived`]).
///
/// ```
/// use cellmail_simcom::sim7000::commands::{read_answer, ReadAnswer};
/// let info = ["+POP3READ: 3,1460".to_owned(), "+POP3READ: 1,1460".to_owned()];
/// assert_eq!(read_answer(&info), Some(ReadAnswer::Data { done: false, length: 1460 }));
/// ```
pub fn read_answer(info: &[String]) -> Option<ReadAnswer> {
    info.iter().find_map(|line| {
        if let Some(code) = session_end(line) {
            return Some(ReadAnswer::SessionEnded(code));
        }
        let f = fields::info(line, prefix::POP3READ)?;
        let length = usize::try_from(f.get(1)?.as_int()?).ok()?;
        match f.first()?.as_int()? {
            1 => Some(ReadAnswer::Data {
                done: false,
                length,
            }),
            2 => Some(ReadAnswer::Data { done: true, length }),
            _ => None,
        }
    })
}

/// Whether a `+POP3READ: 3,<dataLength>` ("some data need to be read")
/// is among the lines.
pub fn data_arrived(info: &[String]) -> bool {
    info.iter().any(|l| l.starts_with(prefix::POP3READ_MORE))
}

/// The code of a `+POP3OUT: <code>` line.
pub fn session_end(line: &str) -> Option<Pop3Code> {
    fields::int(line.trim(), prefix::POP3OUT).map(Pop3Code::from_code)
}

/// A POP3 command's result line (§3.2.15-§3.2.21): positive `1,...`, or the
/// server's negative response `0`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pop3Answer<'a> {
    /// `<prefix> 1[,<fields>]`: the fields after the 1.
    Positive(Vec<fields::Field<'a>>),
    /// `<prefix> 0`.
    Negative,
    /// Neither.
    Unreadable,
}

/// Reads `+POP3NUM: 1,2,11124`, `+POP3DEL: 0`...
///
/// ```
/// use cellmail_simcom::sim7000::commands::{pop3_answer, prefix, Pop3Answer};
/// use cellmail_at::fields::Field;
/// assert_eq!(pop3_answer("+POP3NUM: 1,2,11124", prefix::POP3NUM),
///            Pop3Answer::Positive(vec![Field::Bare("2"), Field::Bare("11124")]));
/// assert_eq!(pop3_answer("+POP3NUM: 0", prefix::POP3NUM), Pop3Answer::Negative);
/// ```
pub fn pop3_answer<'a>(line: &'a str, prefix: &str) -> Pop3Answer<'a> {
    let Some(mut f) = fields::info(line.trim(), prefix) else {
        return Pop3Answer::Unreadable;
    };
    match f.first().and_then(fields::Field::as_int) {
        Some(1) => Pop3Answer::Positive(f.split_off(1)),
        Some(0) if f.len() == 1 => Pop3Answer::Negative,
        _ => Pop3Answer::Unreadable,
    }
}

/// The `<maxLength>` of a `+SMTPFT: 1,<maxLength>` URC, or the `<cnfLength>`
/// of a `+SMTPFT: 2,<cnfLength>` grant (§3.2.11).
///
/// ```
/// assert_eq!(cellmail_simcom::sim7000::commands::smtpft_length("+SMTPFT: 1,1360"), Some(1360));
/// ```
pub fn smtpft_length(line: &str) -> Option<u16> {
    let f = fields::info(line.trim(), "+SMTPFT:")?;
    u16::try_from(f.get(1)?.as_int()?).ok()
}

/// `AT+POP3READ=?`
pub fn test_read() -> Command {
    Command::test("+POP3READ")
}

/// `AT+POP3DEL=<n>` → `OK`, `+POP3DEL: <1|0>`.
pub fn pop3_delete(number: u32) -> Command {
    Command::write("+POP3DEL")
        .int(i64::from(number))
        .expect_deferred(prefix::POP3DEL)
}

/// `AT+POP3DEL=?`
pub fn test_pop3_delete() -> Command {
    Command::test("+POP3DEL")
}

/// `AT+POP3RSET` → `OK`, `+POP3RSET: <1|0>`.
pub fn pop3_reset() -> Command {
    Command::exec("+POP3RSET").expect_deferred(prefix::POP3RSET)
}

/// `AT+POP3RSET=?`
pub fn test_pop3_reset() -> Command {
    Command::test("+POP3RSET")
}

/// `AT+POP3OUT` → `OK`, `+POP3OUT: <code>`.
pub fn pop3_logout() -> Command {
    Command::exec("+POP3OUT").expect_deferred(prefix::POP3OUT)
}

/// `AT+POP3OUT=?`
pub fn test_pop3_logout() -> Command {
    Command::test("+POP3OUT")
}

/// `AT+SAPBR=3,<cid>,"APN","<apn>"`.
pub fn bearer_apn(cid: u8, apn: &str) -> Command {
    Command::write("+SAPBR")
        .int(3)
        .int(i64::from(cid))
        .string("tag", "APN")
        .string("apn", apn)
}

/// `AT+SAPBR=1,<cid>`: opens the bearer.
pub fn bearer_open(cid: u8) -> Command {
    Command::write("+SAPBR")
        .int(1)
        .int(i64::from(cid))
        .timeout(Duration::from_secs(85))
}

/// `AT+SAPBR=2,<cid>` → `+SAPBR: <cid>,<status>,"<ip>"`.
pub fn bearer_query(cid: u8) -> Command {
    Command::write("+SAPBR").int(2).int(i64::from(cid))
}

/// `AT+SAPBR=0,<cid>`: closes the bearer.
pub fn bearer_close(cid: u8) -> Command {
    Command::write("+SAPBR")
        .int(0)
        .int(i64::from(cid))
        .timeout(Duration::from_secs(65))
}

/// `AT+CNTPCID?`
pub fn read_ntp_cid() -> Command {
    Command::read("+CNTPCID")
}

/// `AT+CNTP="<server>",<timezone quarter-hours>`.
pub fn set_ntp(server: &str, timezone: i8) -> Command {
    Command::write("+CNTP")
        .string("server", server)
        .int(i64::from(timezone))
}

/// `AT+CNTP` → `OK`, `+CNTP: 1,"<time>"`.
pub fn sync_ntp() -> Command {
    Command::exec("+CNTP")
        .expect_deferred(prefix::CNTP)
        .timeout(Duration::from_secs(10))
}

/// `AT+CCLK?`
pub fn read_clock() -> Command {
    Command::read("+CCLK")
}

/// `AT+CCLK="<yy/MM/dd,hh:mm:ss±zz>"` (the form `AT+CCLK?` answers in §5.1).
pub fn set_clock(time: &str) -> Command {
    Command::write("+CCLK").string("time", time)
}

/// `AT+CPIN?`, `AT+CSQ`, `AT+CGATT?`, `AT+COPS?`: the bearer checks of §4.1.
pub fn status_checks() -> [Command; 4] {
    [
        Command::read("+CPIN"),
        Command::exec("+CSQ"),
        Command::read("+CGATT"),
        Command::read("+COPS"),
    ]
}

/// `AT+CGDCONT=1,"IP","<apn>"`: the APN for registration (§4.1).
pub fn pdp_context(apn: &str) -> Command {
    Command::write("+CGDCONT")
        .int(1)
        .string("type", "IP")
        .string("apn", apn)
}

/// The integer fields of a result line after `prefix`.
pub fn ints(line: &str, prefix: &str) -> Vec<Option<i64>> {
    fields::info(line, prefix)
        .map(|f| f.iter().map(fields::Field::as_int).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_lengths_only_for_data_answers() {
        assert_eq!(pop3read_length("+POP3READ: 1,1460"), Some(1460));
        assert_eq!(pop3read_length("+POP3READ: 1,0"), Some(0));
        assert_eq!(pop3read_length("+POP3READ: 1,1461"), Some(1461));
        assert_eq!(pop3read_length("+POP3READ: 1,65536"), Some(65536));
        assert_eq!(pop3read_length("+POP3READ: 1,65537"), None);
        assert_eq!(pop3read_length("+POP3READ: 2,99999"), None);
        assert_eq!(pop3read_length("+POP3READ: 2,1183"), Some(1183));
        assert_eq!(pop3read_length("+POP3READ: 3,1460"), None);
        assert_eq!(pop3read_length("+POP3OUT: 61"), None);
    }

    #[test]
    fn requests_read_as_pop3_names_them() {
        let shown = [
            Pop3Request::List,
            Pop3Request::Uidl,
            Pop3Request::Top(7, 0),
            Pop3Request::Retrieve(12),
        ]
        .map(|r| r.to_string());
        assert_eq!(shown, ["LIST", "UIDL", "TOP 7 0", "RETR 12"]);
    }

    #[test]
    fn email_ssl_forms_and_answers() {
        let w = |c: Command| String::from_utf8(c.encode().unwrap()).unwrap();
        assert_eq!(w(set_email_ssl(EmailSsl::Plain)), "AT+EMAILSSL=0\r");
        assert_eq!(w(set_email_ssl(EmailSsl::Implicit)), "AT+EMAILSSL=1\r");
        assert_eq!(w(set_email_ssl(EmailSsl::StartTls)), "AT+EMAILSSL=2\r");
        assert_eq!(w(read_email_ssl()), "AT+EMAILSSL?\r");
        assert_eq!(w(test_email_ssl()), "AT+EMAILSSL=?\r");
        for m in [EmailSsl::Plain, EmailSsl::Implicit, EmailSsl::StartTls] {
            assert_eq!(EmailSsl::from_value(m.value()), Some(m));
        }
        assert_eq!(EmailSsl::from_value(3), None);
        assert_eq!(EmailSsl::from_value(-1), None);
        assert_eq!(parse_email_ssl("+EMAILSSL: 2"), Some(EmailSsl::StartTls));
        assert_eq!(parse_email_ssl("+ EMAILSSL: 1"), Some(EmailSsl::Implicit));
        assert_eq!(parse_email_ssl("+EMAILCID: 1"), None);
        assert_eq!(parse_email_ssl("+EMAILSSL: x"), None);
        let all = Some(vec![
            EmailSsl::Plain,
            EmailSsl::Implicit,
            EmailSsl::StartTls,
        ]);
        assert_eq!(parse_email_ssl_modes("+EMAILSSL: (0-2)"), all);
        assert_eq!(parse_email_ssl_modes("+EMAILSSL: (0,1,2)"), all);
        assert_eq!(parse_email_ssl_modes("+EMAILSSL: (0-9)"), all);
        assert_eq!(parse_email_ssl_modes("+EMAILSSL: (2-0)"), None);
        assert_eq!(parse_email_ssl_modes("+EMAILSSL: ()"), None);
        // The SIM7080's four-parameter test answer ([AT7080] §21.2.23): the
        // modes are its first list (the SIM7080 probe reads the same line).
        assert_eq!(parse_email_ssl_modes("+EMAILSSL: (0-2),(0-5),51,51"), all);
        assert_eq!(parse_email_ssl_modes("+EMAILSSL: (0-2)x"), None);
    }

    #[test]
    fn ssl_options_and_certificate_forms() {
        let w = |c: Command| String::from_utf8(c.encode().unwrap()).unwrap();
        assert_eq!(
            w(set_ssl_option(SslOption::IgnoreInvalidCertificate, false)),
            "AT+SSLOPT=0,0\r"
        );
        assert_eq!(
            w(set_ssl_option(SslOption::ClientAuthentication, true)),
            "AT+SSLOPT=1,1\r"
        );
        assert_eq!(w(read_ssl_options()), "AT+SSLOPT?\r");
        assert_eq!(w(test_ssl_options()), "AT+SSLOPT=?\r");
        assert_eq!(
            w(set_certificate("ca.crt", None)),
            "AT+SSLSETCERT=\"ca.crt\"\r"
        );
        assert_eq!(w(test_certificate()), "AT+SSLSETCERT=?\r");
        assert_eq!(certificate_imported("+SSLSETCERT: 0"), Some(true));
        assert_eq!(certificate_imported("+SSLSETCERT: 1"), Some(false));
        assert_eq!(certificate_imported("+SSLSETCERT: 2"), None);
    }

    #[test]
    fn encodings() {
        let w = |c: Command| String::from_utf8(c.encode().unwrap()).unwrap();
        assert_eq!(
            w(pop3_command(Pop3Request::Top(1, 0))),
            "AT+POP3CMD=3,1,0\r"
        );
        assert_eq!(
            w(bearer_apn(1, "CMNET")),
            "AT+SAPBR=3,1,\"APN\",\"CMNET\"\r"
        );
        assert_eq!(w(read(5000)), "AT+POP3READ=1460\r");
        assert_eq!(
            w(set_ntp("ntp1.aliyun.com", 32)),
            "AT+CNTP=\"ntp1.aliyun.com\",32\r"
        );
    }
}
