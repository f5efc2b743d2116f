//! The SIM5360 family (3G): SMTP with the `+SMTP:` URCs, POP3 with the
//! `+POP3:` results, e-mails and attachments kept in the module's file system
//! (SIM5360 e-mail application note V0.01).
//!
//! # Known limits of reading messages
//!
//! The manual shows `AT+POP3HDR` and `AT+POP3READ` answering a message as
//! plain lines before `OK` (§4.3, §4.4, §4.7): no length, no raw block. What the
//! AT layer cannot tell from the module's own lines is therefore lost or
//! refused, and the mailer says so rather than return a wrong message:
//!
//! - blank lines vanish among the line ends; only the blank line between
//!   header and body is put back (after the last header line);
//! - a message line reading exactly `OK` ends the answer early: the mailer sees
//!   the rest arrive after it and fails with
//!   [`cellmail_at::AtError::Protocol`]; a line reading
//!   `ERROR` (or `+CME ERROR: ...`) fails the command;
//! - a line that starts like a URC (`RDY`, `+CPIN:`, `+SMTP:`, `+POP3:`...) is
//!   taken for one and is missing from the message;
//! - the manual's answers carry no POP3 terminator: the saved file is the
//!   message. Should a module relay the server's bytes instead (ending in a
//!   `.` line), the `.` line is dropped and `..` at a line start un-stuffed
//!   once ([`Message::from_pop3_data`]).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use cellmail::{
    AttachmentSource, Auth, Capabilities, Charset, Dialect, Email, MailError, MailSender, Mailbox,
    MailboxStat, Message, MessageInfo, MessageUid, ModuleInfo, Pop3Account, RecipientKind,
    SendReport, SmtpAccount, VendorCode, validate, validate_pop3_account, validate_smtp_account,
};
use cellmail_at::{AtError, Client, Command, DecoderConfig, Response};
use tokio::io::{AsyncRead, AsyncWrite};

use crate::common;

/// The family name.
pub const FAMILY: &str = "sim5360";

/// §1: the subject takes up to 512 ASCII characters.
pub const SUBJECT_MAX: usize = 512;
/// §1: the body takes up to 5120 ASCII characters.
pub const BODY_MAX: usize = 5120;
/// §1: at most 10 attachments.
pub const ATTACHMENTS_MAX: usize = 10;
/// §1: attachments hold at most 10 MB in all (read as MiB).
pub const ATTACHMENT_BYTES_MAX: u64 = 10 * 1024 * 1024;

/// `+SMTP:` and `+POP3:` results arrive as URCs after `OK`.
pub fn decoder_config() -> DecoderConfig {
    DecoderConfig::default().urc("+SMTP:").urc("+POP3:")
}

/// Drives SIMCom SIM5360 modules: the one model the manual covers (other
/// SIMCom 3G modules are not claimed).
pub struct Sim5360;

impl Dialect for Sim5360 {
    const NAME: &'static str = FAMILY;

    fn drives(info: &ModuleInfo) -> bool {
        let model = info.model.to_ascii_uppercase();
        let model = model.trim_start_matches("SIMCOM_");
        info.manufacturer.to_ascii_uppercase().contains("SIMCOM") && model.starts_with("SIM5360")
    }
}

/// The SIM5360 capabilities.
///
/// From the manual (§1 "SMTP features"): ASCII subject up to 512 characters,
/// ASCII body up to 5120 characters, attachments from the file system only,
/// "total size up to 10MB or maximal number up to 10 files"; the body is given
/// inline in `AT+SMTPBODY="..."` (§2), so it is one line without quotes. The
/// manual names no TLS. The 10 MB total cannot be checked by the host (the
/// files are on the module and `AT+FSLS` lists no sizes): the module enforces
/// it.
///
/// **Not in the manual**: the recipient counts and the address, name, file
/// name, user, password and server lengths are conservative host-side
/// choices.
pub fn capabilities() -> Capabilities {
    use cellmail::{AttachmentSources, Limits, Storage, TextEncoding, TlsMode};
    Capabilities {
        family: FAMILY,
        smtp: true,
        pop3: true,
        smtp_tls: vec![TlsMode::None],
        pop3_tls: vec![TlsMode::None],
        tls_verify: false,
        charsets: vec![Charset::Ascii],
        subject_encoding: TextEncoding::Raw,
        body_encoding: TextEncoding::Raw,
        attachment_sources: AttachmentSources {
            memory: false,
            host_file: false,
            module_file: true,
        },
        storages: vec![Storage::Drive('C'), Storage::Drive('D')],
        recipient_names: true,
        // The body travels inside an AT string.
        body_forbids: vec!["\r", "\n", "\""],
        limits: Limits {
            // Not in the manual (host-side choices).
            recipients: 30,
            recipients_per_kind: Some(10),
            address: 128,
            name: 64,
            // §1: "up to 512 characters", "up to 5120 characters" (ASCII).
            subject_ascii: SUBJECT_MAX,
            subject_encoded: SUBJECT_MAX,
            body: BODY_MAX,
            // §1: "maximal number up to 10 files", "total size up to 10MB".
            attachments: ATTACHMENTS_MAX,
            attachment_bytes_serial: 0,
            attachment_bytes_total: Some(ATTACHMENT_BYTES_MAX),
            // Not in the manual (host-side choices).
            attachment_name: 128,
            user: 64,
            password: 64,
            server: 128,
            // §1 NOTE: the module's own SMTP timer is 30 s, not settable.
            send_timeout_secs: None,
        },
    }
}

/// Typed SIM5360 commands (sans-I/O).
pub mod commands {
    use cellmail_at::{Command, Secret};

    /// `AT+CGSOCKCONT=<cid>,"IP","<apn>","0.0.0.0",0,0`: the socket PDP context.
    pub fn socket_context(cid: u8, apn: &str) -> Command {
        Command::write("+CGSOCKCONT")
            .int(i64::from(cid))
            .string("pdp type", "IP")
            .string("apn", apn)
            .string("address", "0.0.0.0")
            .int(0)
            .int(0)
    }

    /// `AT+SMTPBODY="<text>"`: the body inline.
    pub fn set_body(text: &str) -> Command {
        Command::write("+SMTPBODY").string("body", text)
    }

    /// `AT+SMTPFILE=<index>,"<file>"`: a file of the current directory.
    pub fn set_attachment(index: u8, file: &str) -> Command {
        Command::write("+SMTPFILE")
            .int(i64::from(index))
            .string("file", file)
    }

    /// `AT+SMTPFILE=<index>`: removes one attachment.
    pub fn delete_attachment(index: u8) -> Command {
        Command::write("+SMTPFILE").int(i64::from(index))
    }

    /// `AT+SMTPFILE`: removes every attachment.
    pub fn delete_attachments() -> Command {
        Command::exec("+SMTPFILE")
    }

    /// `AT+SMTPSEND` → `+SMTP: OK`, `OK`, later `+SMTP: SUCCESS` or an error URC.
    pub fn send() -> Command {
        Command::exec("+SMTPSEND").response_prefix("+SMTPSEND:")
    }

    /// `AT+SMTPSEND?`: is the SMTP client idle?
    pub fn read_send() -> Command {
        Command::read("+SMTPSEND")
    }

    /// `AT+SMTPSTOP`: ends the SMTP session at once.
    pub fn stop() -> Command {
        Command::exec("+SMTPSTOP")
    }

    fn pop3(name: &'static str) -> Command {
        Command::exec(name).response_prefix("+POP3:")
    }

    /// `AT+POP3SRV="<server>","<user>","<password>",<port>`.
    pub fn set_pop3_server(host: &str, user: &str, password: &Secret, port: u16) -> Command {
        crate::common::set_pop3_server(host, user, password, port)
    }

    /// `AT+POP3IN` → `+POP3: SUCCESS`, `OK`.
    pub fn login() -> Command {
        pop3("+POP3IN")
    }

    /// `AT+POP3NUM` → `+POP3: <count> <size>`.
    pub fn count() -> Command {
        pop3("+POP3NUM")
    }

    /// `AT+POP3LIST=<n>` → `+POP3: <n>, <size>`.
    pub fn list(number: u32) -> Command {
        Command::write("+POP3LIST")
            .int(i64::from(number))
            .response_prefix("+POP3:")
    }

    /// `AT+POP3LIST` → one `+POP3: <n>, <size>` per message.
    pub fn list_all() -> Command {
        pop3("+POP3LIST")
    }

    /// `AT+POP3HDR=<n>` → the header lines, `OK`.
    pub fn header(number: u32) -> Command {
        Command::write("+POP3HDR")
            .int(i64::from(number))
            .response_prefix("+POP3:")
    }

    /// `AT+POP3GET=<n>` → `OK`, `+POP3: SUCCESS`, then the saved path line.
    pub fn get(number: u32) -> Command {
        Command::write("+POP3GET")
            .int(i64::from(number))
            .response_prefix("+POP3GET:")
    }

    /// `AT+POP3READ`: the last e-mail got, as lines.
    pub fn read_last() -> Command {
        Command::exec("+POP3READ").response_prefix("+POP3READ:")
    }

    /// `AT+POP3READ=0,"<folder>/<file>"`: an e-mail saved in the file system.
    pub fn read_file(path: &str) -> Command {
        Command::write("+POP3READ")
            .int(0)
            .string("file", path)
            .response_prefix("+POP3READ:")
    }

    /// `AT+POP3DEL=<n>` → `+POP3: SUCCESS`, `OK`.
    pub fn delete(number: u32) -> Command {
        Command::write("+POP3DEL")
            .int(i64::from(number))
            .response_prefix("+POP3:")
    }

    /// `AT+POP3OUT` → `+POP3: SUCCESS`, `OK`: deletions take effect.
    pub fn logout() -> Command {
        pop3("+POP3OUT")
    }

    /// `AT+POP3STOP`: ends the POP3 session at once (deletions are lost).
    pub fn stop_pop3() -> Command {
        Command::exec("+POP3STOP")
    }

    /// `AT+FSLOCA=<0 local|1 card>`: where e-mails are saved.
    pub fn storage(card: bool) -> Command {
        Command::write("+FSLOCA").int(i64::from(card))
    }

    /// `AT+FSCD=<folder>` (unquoted, as the manual writes it).
    pub fn change_directory(folder: &str) -> Command {
        Command::write("+FSCD").bare("folder", folder)
    }

    /// `AT+FSLS`: the current folder's entries.
    pub fn list_directory() -> Command {
        Command::exec("+FSLS")
    }

    /// `AT+CCLK="<yy/MM/dd,hh:mm:ss±zz>"`: §1 recommends setting the clock
    /// and time zone, which go into the mail's header ("refer to command
    /// +CCLK"); the note gives no example, the form is SIMCom's (as in the
    /// SIM7000 note §5.1).
    pub fn set_clock(time: &str) -> Command {
        Command::write("+CCLK").string("time", time)
    }

    /// The folder `AT+POP3GET` saves e-mails into (§2: `C:/Email` or `D:/Email`
    /// by `AT+FSLOCA`).
    pub fn email_folder(card: bool) -> &'static str {
        if card { "D:/Email/" } else { "C:/Email/" }
    }
}

/// A `+SMTP:` result (§1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SmtpResult {
    /// `OK`: the session started.
    Started,
    /// `SUCCESS`: sent.
    Success,
    /// `ONGOING`: another e-mail is being sent.
    Ongoing,
    /// `PARAM ERROR`: a mandatory parameter is invalid.
    ParamError,
    /// `NETWORK ERROR`: the network is unavailable.
    NetworkError,
    /// `SERVER ERROR`: invalid server, or the link to it failed.
    ServerError,
    /// `AUTH REQUIRED`. The manual's table (§1, "SMTP URCs"; lines 80-81 of
    /// simcom-sim5360-email-application-note-v0.01.txt) gives this text two
    /// rows: "SMTP server released the session, or SMTP server rejects
    /// the operation with wrong response, or SMTP server doesn't give SMTP
    /// client a response in time", and "Authentication is required by SMTP
    /// server". See [`SmtpResult::into_result_for`] for how the two are told
    /// apart.
    AuthRequired,
    /// `AUTH ERROR`: bad user name and password.
    AuthError,
    /// `BAD RCPT [<address>]`: a recipient was refused.
    BadRecipient(Option<String>),
    /// Anything else, kept.
    Other(String),
}

impl SmtpResult {
    /// Parses the text after `+SMTP: `.
    pub fn parse(text: &str) -> Self {
        match text.trim() {
            "OK" => SmtpResult::Started,
            "SUCCESS" => SmtpResult::Success,
            "ONGOING" => SmtpResult::Ongoing,
            "PARAM ERROR" => SmtpResult::ParamError,
            "NETWORK ERROR" => SmtpResult::NetworkError,
            "SERVER ERROR" => SmtpResult::ServerError,
            "AUTH REQUIRED" => SmtpResult::AuthRequired,
            "AUTH ERROR" => SmtpResult::AuthError,
            t if t.starts_with("BAD RCPT") => {
                let addr = t["BAD RCPT".len()..]
                    .trim()
                    .trim_matches(|c| c == '[' || c == ']' || c == '"');
                SmtpResult::BadRecipient((!addr.is_empty()).then(|| addr.to_owned()))
            }
            other => SmtpResult::Other(other.to_owned()),
        }
    }

    /// Whether the session is over with this result.
    pub fn is_final(&self) -> bool {
        !matches!(self, SmtpResult::Started)
    }

    /// `Ok` for success, the facade's error otherwise, the text kept, when
    /// the mailer does not say whether it logged in: `AUTH REQUIRED` is read
    /// as "authentication is required" (`Auth`). Prefer
    /// [`into_result_for`](Self::into_result_for).
    pub fn into_result(self, text: &str) -> Result<(), MailError> {
        self.into_result_for(text, false)
    }

    /// `Ok` for success, the facade's error otherwise, the text kept.
    ///
    /// `AUTH REQUIRED` has two readings in the manual's table (§1). §2
    /// `AT+SMTPAUTH` says when the first one applies: "If SMTP server
    /// requests authentication but SMTP client does not provide, Email will
    /// be sent with a failed result". So with `logged_in` false (the module
    /// was set `AT+SMTPAUTH=0`) it is `Auth`: authentication is required
    /// and was not given, a configuration fault. With `logged_in` true the
    /// module did authenticate (bad credentials are `AUTH ERROR`), which
    /// leaves the other reading: the server released the session, answered
    /// wrongly or not in time, a transient `Network` failure.
    ///
    /// ```
    /// use cellmail::MailError;
    /// use cellmail_simcom::sim5360::SmtpResult;
    /// let r = || SmtpResult::parse("AUTH REQUIRED");
    /// assert!(matches!(r().into_result_for("AUTH REQUIRED", false), Err(MailError::Auth { .. })));
    /// let e = r().into_result_for("AUTH REQUIRED", true).unwrap_err();
    /// assert!(matches!(e, MailError::Network { .. }) && e.is_transient());
    /// ```
    pub fn into_result_for(self, text: &str, logged_in: bool) -> Result<(), MailError> {
        let vendor = Some(VendorCode::Text(text.trim().to_owned()));
        Err(match self {
            SmtpResult::Started | SmtpResult::Success => return Ok(()),
            SmtpResult::Ongoing => MailError::Busy { vendor },
            SmtpResult::ParamError => MailError::Invalid {
                field: "parameters".into(),
                reason: "the module reports PARAM ERROR (a mandatory parameter is invalid)".into(),
                vendor,
            },
            SmtpResult::NetworkError => MailError::Network {
                detail: "network unavailable for SMTP".into(),
                vendor,
            },
            SmtpResult::ServerError => MailError::Network {
                detail: "invalid SMTP server or bad link to it".into(),
                vendor,
            },
            SmtpResult::AuthRequired if logged_in => MailError::Network {
                detail: "the SMTP server released the session, or answered wrongly or not in \
                         time (AUTH REQUIRED after a login, §1)"
                    .into(),
                vendor,
            },
            SmtpResult::AuthRequired | SmtpResult::AuthError => MailError::Auth { vendor },
            SmtpResult::BadRecipient(address) => MailError::BadRecipient { address, vendor },
            SmtpResult::Other(t) => MailError::Rejected {
                code: 0,
                text: t,
                vendor,
            },
        })
    }
}

/// A `+POP3:` result (§1 "POP3 URCs").
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pop3Result {
    /// `SUCCESS`.
    Success,
    /// `FAILURE`: the POP3 client failed to get the e-mail.
    Failure,
    /// `NETWORK ERROR`: invalid server, or the link to it is bad.
    NetworkError,
    /// `SERVER ERROR` (§1 "POP3 URCs", line 114 of the note's text): "POP3
    /// server released the session, or POP3 server rejects the operation
    /// with wrong response, or POP3 server doesn't give POP3 client a
    /// response in time, or POP3 client gives wrong e-mail's ID. POP3 client
    /// will not close the session." Mapped like the SMTP `SERVER ERROR`: a
    /// transient `Network` failure (the manual does not tell the readings
    /// apart; a wrong id repeats, and `stat` tells how many messages there
    /// are).
    ServerError,
    /// `INVALID UN`: invalid user name.
    InvalidUser,
    /// `INVALID UN/PWD`: invalid user name and password combination.
    InvalidCredentials,
    /// `FILE SYSTEM ERROR`: the e-mail could not be saved; "POP3 client will
    /// close the session with POP3 server".
    FileSystemError,
    /// Anything else, kept.
    Other(String),
}

impl Pop3Result {
    /// Every result the manual lists, as the module writes it.
    pub const ALL: [&'static str; 7] = [
        "SUCCESS",
        "FAILURE",
        "NETWORK ERROR",
        "SERVER ERROR",
        "INVALID UN",
        "INVALID UN/PWD",
        "FILE SYSTEM ERROR",
    ];

    /// Parses the text after `+POP3: `.
    pub fn parse(text: &str) -> Self {
        match text.trim() {
            "SUCCESS" => Pop3Result::Success,
            "FAILURE" => Pop3Result::Failure,
            "NETWORK ERROR" => Pop3Result::NetworkError,
            "SERVER ERROR" => Pop3Result::ServerError,
            "INVALID UN" => Pop3Result::InvalidUser,
            "INVALID UN/PWD" => Pop3Result::InvalidCredentials,
            "FILE SYSTEM ERROR" => Pop3Result::FileSystemError,
            other => Pop3Result::Other(other.to_owned()),
        }
    }

    /// Whether the module closes the POP3 session with this result (§1: only
    /// `FILE SYSTEM ERROR` says so).
    pub fn ends_session(&self) -> bool {
        matches!(self, Pop3Result::FileSystemError)
    }

    /// `Ok` for success, the facade's error otherwise, the text kept.
    ///
    /// ```
    /// use cellmail::{MailError, VendorCode};
    /// use cellmail_simcom::sim5360::Pop3Result;
    /// let e = Pop3Result::parse("INVALID UN/PWD").into_result("INVALID UN/PWD").unwrap_err();
    /// assert!(matches!(e, MailError::Auth { vendor: Some(VendorCode::Text(ref t)) } if t == "INVALID UN/PWD"));
    /// ```
    pub fn into_result(self, text: &str) -> Result<(), MailError> {
        let vendor = Some(VendorCode::Text(text.trim().to_owned()));
        Err(match self {
            Pop3Result::Success => return Ok(()),
            Pop3Result::Failure => MailError::Rejected {
                code: 0,
                text: "POP3 client failed to get the e-mail".into(),
                vendor,
            },
            Pop3Result::NetworkError => MailError::Network {
                detail: "invalid POP3 server or bad link".into(),
                vendor,
            },
            Pop3Result::ServerError => MailError::Network {
                detail: "the POP3 server released the session, answered wrongly or not in \
                         time, or the e-mail id is wrong (SERVER ERROR, §1)"
                    .into(),
                vendor,
            },
            Pop3Result::InvalidUser | Pop3Result::InvalidCredentials => MailError::Auth { vendor },
            Pop3Result::FileSystemError => MailError::Rejected {
                code: 0,
                text: "the module's file system failed (the session is closed)".into(),
                vendor,
            },
            Pop3Result::Other(t) => MailError::Rejected {
                code: 0,
                text: t,
                vendor,
            },
        })
    }
}

/// A `+POP3:` result (§1) as the facade's result.
pub fn pop3_result(text: &str) -> Result<(), MailError> {
    Pop3Result::parse(text).into_result(text)
}

/// Where `AT+POP3GET` saved an e-mail: the line after `+POP3: SUCCESS`,
/// `C:/Email/100202110457/, EMAIL000.TXT` (§4.4): folder and file.
///
/// ```
/// assert_eq!(
///     cellmail_simcom::sim5360::saved_path("C:/Email/100202110457/, EMAIL000.TXT"),
///     Some(("C:/Email/100202110457/", "EMAIL000.TXT"))
/// );
/// assert_eq!(cellmail_simcom::sim5360::saved_path("RDY"), None);
/// ```
pub fn saved_path(line: &str) -> Option<(&str, &str)> {
    let (folder, file) = line.trim().split_once(',')?;
    let folder = folder.trim();
    let file = file.trim();
    let email = folder
        .strip_prefix("C:/Email/")
        .or_else(|| folder.strip_prefix("D:/Email/"))?;
    (!email.is_empty() && !file.is_empty() && !file.contains(['/', ','])).then_some((folder, file))
}

/// The numbers of a `+POP3: 2 2134` or `+POP3: 1, 1050` answer.
fn numbers(text: &str) -> Vec<u64> {
    text.split(|c: char| c == ',' || c.is_whitespace())
        .filter_map(|s| s.parse().ok())
        .collect()
}

/// Puts message lines back together (see the module's "known limits"): the
/// blank line between header and body is restored after the last header line;
/// a terminating `.` line, if the module relayed one, is dropped and the lines
/// un-stuffed once by [`Message::from_pop3_data`].
fn message_from_lines(lines: &[String]) -> Result<Message, MailError> {
    let mut raw = String::new();
    let mut in_header = true;
    for line in lines {
        let is_header = line.starts_with([' ', '\t'])
            || line
                .split_once(':')
                .is_some_and(|(k, _)| !k.is_empty() && !k.contains(' '));
        if in_header && !is_header {
            raw.push_str("\r\n");
            in_header = false;
        }
        raw.push_str(line);
        raw.push_str("\r\n");
    }
    if in_header {
        raw.push_str("\r\n");
    }
    Message::from_pop3_data(raw.into_bytes())
}

/// Settings of a [`Sim5360Mailer`].
#[derive(Clone, Debug)]
pub struct Sim5360Options {
    /// Set the socket PDP context with this APN (`AT+CGSOCKCONT=1,...`).
    pub apn: Option<String>,
    /// The POP3 account, for [`Mailbox`].
    pub pop3: Option<Pop3Account>,
    /// How long to wait for `+SMTP: SUCCESS` and `+POP3:` results (the
    /// module's own timer is 30 s).
    pub result_timeout: Duration,
}

impl Default for Sim5360Options {
    fn default() -> Self {
        Self {
            apn: None,
            pop3: None,
            result_timeout: Duration::from_secs(120),
        }
    }
}

/// Sends and reads mail through a SIM5360.
///
/// A call dropped while it waits for the module (a `select!` or timeout
/// around `send`, `retrieve`...), or a send whose `AT+SMTPSEND` got no answer
/// in time, leaves a session the module may still run: the next call first
/// ends it with `AT+SMTPSTOP` (§3.3) or `AT+POP3STOP` (§4.6).
/// See the module's "known limits" for reading messages.
///
/// [`Mailbox::reset`] is `Unsupported`: the note has no command that
/// unmarks deletions.
///
/// URCs stay with the application (`client().take_urcs()`,
/// `client().subscribe()`): the mailer watches them (`RDY`, `START`,
/// `NORMAL POWER DOWN`) through a subscription of its own. Off the client's
/// queue it takes only its own results (`+SMTP:`, `+POP3:`, the saved path of
/// `AT+POP3GET`) and the lines of a message answer that came after its `OK`.
///
/// A length-delimited payload cut short (e.g. one the application sent
/// through `client()`) leaves the module waiting for the bytes still owed, and the
/// client refuses to write anything (`AtError::Protocol`, "still in data
/// mode") rather than send made-up data. It recovers by itself once the
/// module ends the data with a final result of its own, or reboots (`RDY`).
/// Otherwise the application reboots the module, or waits out the module's
/// input timeout, then calls `client().forget_data_mode()`.
pub struct Sim5360Mailer<T> {
    client: Client<T>,
    /// The mailer's own view of the URCs; the client's queue stays the application's.
    urcs: cellmail_at::UrcWatch,
    account: SmtpAccount,
    options: Sim5360Options,
    caps: Capabilities,
    configured: HashMap<&'static str, Vec<u8>>,
    stale_recipients: Vec<RecipientKind>,
    stale_attachments: bool,
    pop3_open: bool,
    /// An SMTP session may be running (set before `AT+SMTPSEND`, cleared once
    /// its result came, the module refused the command, or `AT+SMTPSTOP`
    /// succeeded): still set at the next call when a send was dropped or
    /// `AT+SMTPSEND` got no answer in time.
    smtp_busy: bool,
    /// A POP3 exchange may be running (set before the wait for `AT+POP3GET`'s
    /// result): still set at the next call when it was dropped.
    pop3_busy: bool,
}

impl<T> std::fmt::Debug for Sim5360Mailer<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sim5360Mailer")
            .field("account", &self.account)
            .finish_non_exhaustive()
    }
}

fn modem(e: AtError) -> MailError {
    MailError::Modem(e)
}

fn protocol(command: &str, detail: String) -> MailError {
    MailError::Modem(AtError::Protocol {
        command: command.to_owned(),
        detail,
    })
}

/// How long lines of a message answer that came after its `OK` are waited
/// for (see the module's "known limits").
const ANSWER_QUIET: Duration = Duration::from_millis(100);

/// Why [`Mailbox::reset`] is `Unsupported` on a SIM5360.
pub const RESET_UNSUPPORTED: &str = "unmarking deletions (POP3 RSET): the SIM5360 e-mail note \
     has no such command; AT+POP3DEL marks a message for deletion when the session finishes \
     normally, and AT+POP3STOP is only described as \"Force to finish the session\", not as \
     dropping the marks";

impl<T: AsyncRead + AsyncWrite + Unpin + Send> Sim5360Mailer<T> {
    /// A mailer over a client configured with [`decoder_config`].
    pub fn new(client: Client<T>, account: SmtpAccount, options: Sim5360Options) -> Self {
        Self {
            urcs: client.watch_urcs(),
            client,
            account,
            options,
            caps: capabilities(),
            configured: HashMap::new(),
            stale_recipients: vec![RecipientKind::To, RecipientKind::Cc, RecipientKind::Bcc],
            stale_attachments: true,
            pop3_open: false,
            smtp_busy: false,
            pop3_busy: false,
        }
    }

    /// The AT client.
    pub fn client(&mut self) -> &mut Client<T> {
        &mut self.client
    }

    /// Gives the client back.
    pub fn into_client(self) -> Client<T> {
        self.client
    }

    async fn configure(&mut self, key: &'static str, command: Command) -> Result<(), MailError> {
        let bytes = command.encode().map_err(AtError::from)?;
        if self.configured.get(key) == Some(&bytes) {
            return Ok(());
        }
        self.client.execute(&command).await.map_err(modem)?;
        self.configured.insert(key, bytes);
        Ok(())
    }

    /// The manual: "only configure mandatory parameters once correctly, until
    /// reboot". A reboot URC makes the mailer configure them again. The URCs
    /// are read through the mailer's subscription: the client's queue stays
    /// the application's.
    fn notice_reboot(&mut self) {
        let urcs = self.take_seen();
        self.notice_reboot_in(&urcs);
    }

    /// The lines the subscription got since the last look.
    fn take_seen(&mut self) -> Vec<String> {
        let seen = self.urcs.seen();
        if seen.missed > 0 {
            // A reboot may be among them: send every setting again (the
            // sessions are left as they are: a missed reboot is not known to
            // be one).
            tracing::warn!(
                missed = seen.missed,
                "URCs were missed; configuring the module again"
            );
            self.configured.clear();
            self.stale_recipients = vec![RecipientKind::To, RecipientKind::Cc, RecipientKind::Bcc];
            self.stale_attachments = true;
        }
        seen.lines
    }

    /// Takes the mailer's own results that no wait took (`+SMTP:` and
    /// `+POP3:` of a stopped session, a saved path) off the client's queue,
    /// so a later wait does not take an old one for its own. The
    /// application's URCs stay queued.
    async fn drop_own_results(&mut self) {
        for p in ["+SMTP:", "+POP3:", commands::email_folder(false)] {
            while self.client.wait_urc(p, Duration::ZERO).await.is_ok() {}
        }
    }

    fn notice_reboot_in(&mut self, urcs: &[String]) {
        if urcs
            .iter()
            .any(|u| u == "RDY" || u == "START" || u == "NORMAL POWER DOWN")
        {
            tracing::info!("the module rebooted: configuring it again");
            self.client.forget_deferred();
            // A reboot ends any data mode a payload cut short left open.
            self.client.forget_data_mode();
            self.configured.clear();
            self.stale_recipients = vec![RecipientKind::To, RecipientKind::Cc, RecipientKind::Bcc];
            self.stale_attachments = true;
            self.pop3_open = false;
            self.smtp_busy = false;
            self.pop3_busy = false;
        }
    }

    async fn context(&mut self) -> Result<(), MailError> {
        self.notice_reboot();
        if let Some(apn) = self.options.apn.clone() {
            self.configure("context", commands::socket_context(1, &apn))
                .await?;
        }
        Ok(())
    }

    /// Ends a session a dropped call (or a send without an answer) left
    /// running (§3.3, §4.6), best effort.
    async fn recover(&mut self) {
        // What the module said while no call was running is still unread.
        let _ = self.client.idle(Duration::ZERO).await;
        self.notice_reboot();
        if self.smtp_busy {
            tracing::info!("a send may still run: stopping its SMTP session");
            self.stop_smtp().await;
        }
        if self.pop3_busy {
            tracing::info!("a POP3 call was cancelled: stopping the POP3 session");
            let _ = self.client.execute(&commands::stop_pop3()).await;
            self.pop3_busy = false;
            self.pop3_open = false;
        }
        // Results of a stopped session are not the next call's.
        self.drop_own_results().await;
        self.notice_reboot();
    }

    /// `AT+SMTPSTOP` (§2: "Force to stop the TCP session and then SMTP client
    /// is in idle state"): the session is known over only once it succeeded.
    async fn stop_smtp(&mut self) {
        match self.client.execute(&commands::stop()).await {
            Ok(_) => self.smtp_busy = false,
            Err(e) => tracing::warn!(error = %e, "AT+SMTPSTOP failed; trying again next call"),
        }
    }

    async fn wait_smtp_result(&mut self) -> Result<String, MailError> {
        loop {
            let line = self
                .client
                .wait_urc("+SMTP:", self.options.result_timeout)
                .await;
            let line = match line {
                Ok(l) => l,
                Err(e) => {
                    // The module's own timer is 30 s: stop the session rather than leave it hanging.
                    self.stop_smtp().await;
                    return Err(modem(e));
                }
            };
            let text = line.trim_start_matches("+SMTP:").trim().to_owned();
            let result = SmtpResult::parse(&text);
            if result.is_final() {
                // The session is over with its result.
                self.smtp_busy = false;
                let logged_in = matches!(self.account.auth, Auth::Login { .. });
                result.into_result_for(&text, logged_in)?;
                return Ok(line);
            }
        }
    }

    fn pop3_account(&self) -> Result<Pop3Account, MailError> {
        self.options.pop3.clone().ok_or_else(|| {
            MailError::invalid("pop3", "no POP3 account was given (Sim5360Options::pop3)")
        })
    }

    /// A `+POP3:` result: `FILE SYSTEM ERROR` closes the session (§1).
    fn pop3_outcome(&mut self, text: &str) -> Result<(), MailError> {
        let result = Pop3Result::parse(text);
        if result.ends_session() {
            self.pop3_open = false;
        }
        result.into_result(text)
    }

    /// A POP3 command answered `+POP3: <result>` before `OK`.
    async fn pop3_ok(&mut self, command: &Command) -> Result<Response, MailError> {
        let r = self.client.execute(command).await.map_err(modem)?;
        if let Some(text) = r.line("+POP3:") {
            if !text.trim().starts_with(|c: char| c.is_ascii_digit()) {
                self.pop3_outcome(text)?;
            }
        }
        Ok(r)
    }

    /// Logs in unless a session is open; a reboot noticed first ends it.
    async fn pop3_session(&mut self) -> Result<(), MailError> {
        self.recover().await;
        if self.pop3_open {
            return Ok(());
        }
        let account = self.pop3_account()?;
        validate_pop3_account(&account, &self.caps)?;
        self.context().await?;
        let server = commands::set_pop3_server(
            &account.server.host,
            &account.user,
            &account.password,
            account.server.port,
        );
        self.configure("pop3srv", server).await?;
        let r = self.pop3_ok(&commands::login()).await?;
        if r.line("+POP3:").is_none() {
            // The result came after OK.
            let line = self
                .client
                .wait_urc("+POP3:", self.options.result_timeout)
                .await
                .map_err(modem)?;
            self.pop3_outcome(line.trim_start_matches("+POP3:"))?;
        }
        self.pop3_open = true;
        Ok(())
    }

    /// A command answering a message as lines (`AT+POP3HDR`, `AT+POP3READ`).
    /// Lines arriving after its `OK` mean a message line read `OK` and cut the
    /// answer short (see the module's "known limits"): they are taken off the
    /// line so the next command is not confused, and the call fails.
    async fn message_lines(&mut self, command: &Command) -> Result<Message, MailError> {
        // What came before this command is looked at now; what the
        // subscription gets from here on came with or after the answer.
        self.notice_reboot();
        let r = self.client.execute(command).await.map_err(modem)?;
        self.client.idle(ANSWER_QUIET).await.map_err(modem)?;
        let seen = self.take_seen();
        let config = self.client.config().decoder.clone();
        let (urcs, rest): (Vec<String>, Vec<String>) =
            seen.into_iter().partition(|l| config.is_urc(l));
        self.notice_reboot_in(&urcs);
        // The lines after the OK are the message's, not URCs: off the
        // client's queue (the application's URCs stay).
        for line in &rest {
            // Exactly this line: a message line is no prefix of the
            // application's URCs (`R` of `RDY`).
            let _ = self.client.remove_urc(line);
        }
        if !rest.is_empty() {
            return Err(protocol(
                &command.redacted(),
                format!(
                    "{} line(s) came after the answer's OK: the message holds a line \
                     reading OK, which AT cannot carry",
                    rest.len()
                ),
            ));
        }
        message_from_lines(&r.info)
    }

    async fn send_mail(&mut self, email: &Email) -> Result<SendReport, MailError> {
        let started = Instant::now();
        let before = self.client.stats();
        self.context().await?;
        let account = self.account.clone();
        self.configure(
            "server",
            common::set_smtp_server(&account.server.host, account.server.port),
        )
        .await?;
        let login = match &account.auth {
            Auth::None => None,
            Auth::Login { user, password } => Some((user.as_str(), password)),
        };
        self.configure("auth", common::set_smtp_auth(login)).await?;
        let sender = email.sender();
        self.configure(
            "from",
            common::set_sender(sender.address.as_str(), sender.name.as_deref()),
        )
        .await?;
        // A kind is known clean only once its delete succeeded.
        for kind in self.stale_recipients.clone() {
            self.client
                .execute(&common::delete_recipients_of(kind))
                .await
                .map_err(modem)?;
            self.stale_recipients.retain(|k| *k != kind);
        }
        for kind in [RecipientKind::To, RecipientKind::Cc, RecipientKind::Bcc] {
            for (i, r) in email.recipients_of(kind).enumerate() {
                let index = u8::try_from(i).unwrap_or(u8::MAX);
                let add = common::add_recipient(kind, index, r.address.as_str(), r.name.as_deref());
                self.client.execute(&add).await.map_err(modem)?;
                if !self.stale_recipients.contains(&kind) {
                    self.stale_recipients.push(kind);
                }
            }
        }
        // §1: ASCII subject and body (the capabilities allow no other
        // charset), so the bytes in the mail's charset are text.
        let subject = email.subject_bytes();
        let subject = std::str::from_utf8(&subject)
            .map_err(|_| MailError::unsupported("a subject that is not ASCII"))?;
        self.client
            .execute(&common::set_subject(subject, false))
            .await
            .map_err(modem)?;
        let body = email.body_bytes();
        let body = std::str::from_utf8(&body)
            .map_err(|_| MailError::unsupported("a body that is not ASCII"))?;
        self.client
            .execute(&commands::set_body(body))
            .await
            .map_err(modem)?;
        if self.stale_attachments {
            self.client
                .execute(&commands::delete_attachments())
                .await
                .map_err(modem)?;
            self.stale_attachments = false;
        }
        let mut folder: Option<String> = None;
        for (i, a) in email.attachments().iter().enumerate() {
            let AttachmentSource::Module(path) = a.source() else {
                return Err(MailError::unsupported(
                    "attachments not on the module's file system",
                ));
            };
            let dir = path.folder().unwrap_or("C:").to_owned();
            if folder.as_deref() != Some(dir.as_str()) {
                self.client
                    .execute(&commands::change_directory(&dir))
                    .await
                    .map_err(modem)?;
                folder = Some(dir);
            }
            let index = u8::try_from(i + 1).unwrap_or(u8::MAX);
            self.client
                .execute(&commands::set_attachment(index, path.name()))
                .await
                .map_err(modem)?;
            self.stale_attachments = true;
        }
        // A `+SMTP:` of an earlier (stopped) session is not this mail's result.
        self.drop_own_results().await;
        self.notice_reboot();
        self.smtp_busy = true;
        match self.client.execute(&commands::send()).await {
            Ok(_) => {}
            // Refused: no session started.
            Err(e @ (AtError::Error { .. } | AtError::Cme { .. } | AtError::Cms { .. })) => {
                self.smtp_busy = false;
                return Err(modem(e));
            }
            // No answer in time (or the line failed): the session may run;
            // `smtp_busy` stays set so the next call stops it first.
            Err(e) => return Err(modem(e)),
        }
        let line = self.wait_smtp_result().await?;
        let after = self.client.stats();
        Ok(SendReport {
            module_result: line,
            bytes_sent: after.bytes_written - before.bytes_written,
            commands: after.commands - before.commands,
            duration: started.elapsed(),
        })
    }

    /// `AT+POP3GET` (§4.4): `OK`, then `+POP3: SUCCESS` and the saved path, or
    /// `+POP3: FAILURE` / `FILE SYSTEM ERROR`...
    async fn get(&mut self, id: u32) -> Result<(), MailError> {
        self.client
            .execute(&commands::storage(false))
            .await
            .map_err(modem)?;
        self.pop3_busy = true;
        self.client
            .execute(&commands::get(id))
            .await
            .map_err(modem)?;
        let result = match self
            .client
            .wait_urc("+POP3:", self.options.result_timeout)
            .await
        {
            Ok(line) => line,
            Err(e) => {
                let _ = self.client.execute(&commands::stop_pop3()).await;
                self.pop3_busy = false;
                self.pop3_open = false;
                return Err(modem(e));
            }
        };
        self.pop3_busy = false;
        self.pop3_outcome(result.trim_start_matches("+POP3:"))?;
        // Then the saved path, a line of its own (only a path is taken: other
        // URCs stay queued for the next call).
        let path = self
            .client
            .wait_urc(commands::email_folder(false), Duration::from_secs(5))
            .await
            .map_err(modem)?;
        match saved_path(&path) {
            Some((folder, file)) => {
                tracing::debug!(folder, file, "e-mail saved");
                Ok(())
            }
            None => Err(protocol(
                "AT+POP3GET",
                format!("unreadable saved path {path:?}"),
            )),
        }
    }
}

#[async_trait]
impl<T: AsyncRead + AsyncWrite + Unpin + Send> MailSender for Sim5360Mailer<T> {
    fn capabilities(&self) -> &Capabilities {
        &self.caps
    }

    async fn send(&mut self, email: &Email) -> Result<SendReport, MailError> {
        validate(email, &self.caps)?;
        validate_smtp_account(&self.account, &self.caps)?;
        self.recover().await;
        // `smtp_busy` is cleared inside, once the session is known over; a
        // dropped call or a send without an answer leaves it set, and the next
        // call stops the session first.
        self.send_mail(email).await
    }
}

#[async_trait]
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Mailbox for Sim5360Mailer<T> {
    async fn stat(&mut self) -> Result<MailboxStat, MailError> {
        self.pop3_session().await?;
        let r = self.pop3_ok(&commands::count()).await?;
        match numbers(r.line("+POP3:").unwrap_or("")).as_slice() {
            [count, size] => match u32::try_from(*count) {
                Ok(count) => Ok(MailboxStat {
                    count,
                    total_size: *size,
                }),
                Err(_) => Err(protocol(
                    "AT+POP3NUM",
                    format!("a count that does not fit: {:?}", r.info),
                )),
            },
            _ => Err(protocol(
                "AT+POP3NUM",
                format!("unreadable answer {:?}", r.info),
            )),
        }
    }

    async fn list(&mut self) -> Result<Vec<MessageInfo>, MailError> {
        let stat = self.stat().await?;
        let mut out = Vec::new();
        for id in 1..=stat.count {
            let r = self.pop3_ok(&commands::list(id)).await?;
            // §4.3: `+POP3: <id>, <size>` for the id asked for.
            match numbers(r.line("+POP3:").unwrap_or("")).as_slice() {
                [n, size] if *n == u64::from(id) => out.push(MessageInfo { id, size: *size }),
                _ => {
                    return Err(protocol(
                        &format!("AT+POP3LIST={id}"),
                        format!("unreadable answer {:?}", r.info),
                    ));
                }
            }
        }
        Ok(out)
    }

    async fn uids(&mut self) -> Result<Vec<MessageUid>, MailError> {
        Err(MailError::unsupported(
            "unique ids (the SIM5360 has no UIDL command)",
        ))
    }

    /// `AT+POP3HDR=<n>` (§4.3); see the module's "known limits".
    async fn headers(&mut self, id: u32) -> Result<Message, MailError> {
        self.pop3_session().await?;
        self.message_lines(&commands::header(id)).await
    }

    /// `AT+FSLOCA=0`, `AT+POP3GET=<n>`, then `AT+POP3READ` of the last e-mail
    /// got (§4.4); see the module's "known limits".
    async fn retrieve(&mut self, id: u32) -> Result<Message, MailError> {
        self.pop3_session().await?;
        self.get(id).await?;
        self.message_lines(&commands::read_last()).await
    }

    async fn delete(&mut self, id: u32) -> Result<(), MailError> {
        self.pop3_session().await?;
        self.pop3_ok(&commands::delete(id)).await.map(|_| ())
    }

    /// `Unsupported`, and nothing is sent: the note has no command that
    /// unmarks deletions. `AT+POP3DEL` marks a message to be deleted "after
    /// POP3 client finishes the session normally" (§2), i.e. by
    /// `AT+POP3OUT` ("Finish the session normally"); `AT+POP3STOP` is only
    /// described as "Force to finish the session" (§2, §4.6): whether it
    /// drops the marks is not stated. Marks made stay until the session ends.
    async fn reset(&mut self) -> Result<(), MailError> {
        Err(MailError::unsupported(RESET_UNSUPPORTED))
    }

    async fn close(&mut self) -> Result<(), MailError> {
        self.recover().await;
        if !self.pop3_open {
            return Ok(());
        }
        self.pop3_open = false;
        self.pop3_ok(&commands::logout()).await.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_results_parse() {
        assert_eq!(
            SmtpResult::parse("BAD RCPT x@y.z"),
            SmtpResult::BadRecipient(Some("x@y.z".into()))
        );
        assert_eq!(
            SmtpResult::parse("BAD RCPT"),
            SmtpResult::BadRecipient(None)
        );
        assert!(!SmtpResult::parse("OK").is_final());
    }

    #[test]
    fn numbers_in_both_forms() {
        assert_eq!(numbers(" 2 2134"), [2, 2134]);
        assert_eq!(numbers(" 1, 1050"), [1, 1050]);
    }

    #[test]
    fn every_pop3_result_has_its_variant() {
        for text in Pop3Result::ALL {
            let r = Pop3Result::parse(text);
            assert!(!matches!(r, Pop3Result::Other(_)), "{text}");
            assert_eq!(r.ends_session(), text == "FILE SYSTEM ERROR");
            assert_eq!(r.into_result(text).is_ok(), text == "SUCCESS");
        }
    }

    #[test]
    fn saved_paths_only() {
        assert_eq!(
            saved_path("D:/Email/100202113456/, EMAIL000.TXT"),
            Some(("D:/Email/100202113456/", "EMAIL000.TXT"))
        );
        for line in [
            "PB DONE",
            "C:/Picture/a, b.jpg",
            "C:/Email/, X.TXT",
            "+POP3: SUCCESS",
        ] {
            assert_eq!(saved_path(line), None, "{line}");
        }
    }

    #[test]
    fn only_the_simcom_sim5360_is_claimed() {
        let info = |model: &str| ModuleInfo {
            manufacturer: "SIMCOM INCORPORATED".into(),
            model: model.into(),
            revision: String::new(),
        };
        assert!(Sim5360::drives(&info("SIMCOM_SIM5360E")));
        assert!(!Sim5360::drives(&info("SIMCOM_SIM5320E")));
        assert!(!Sim5360::drives(&info("SIM7000G")));
    }

    #[test]
    fn without_a_terminator_the_lines_are_kept_as_they_are() {
        // The manual's form: the module read the saved file, nothing to undo.
        let lines = ["Subject: Hi", "..still two dots"].map(String::from);
        let m = message_from_lines(&lines).unwrap();
        assert_eq!(m.text_body().as_deref(), Some("..still two dots\r\n"));
    }

    #[test]
    fn lines_become_a_message() {
        let lines = [
            "From: \"A\" <a@b.c>",
            "Subject: Hi",
            "Hello there.",
            "Bye: not a header",
        ]
        .map(String::from);
        let m = message_from_lines(&lines).unwrap();
        assert_eq!(m.subject().as_deref(), Some("Hi"));
        assert_eq!(
            m.text_body().as_deref(),
            Some("Hello there.\r\nBye: not a header\r\n")
        );
    }
}
