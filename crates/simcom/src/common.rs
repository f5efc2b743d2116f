//! What the SIM7000 and SIM5360 families share: the commands whose syntax is
//! the same in both manuals, and the hex rule for non-ASCII text.

use cellmail::{MailError, RecipientKind};
use cellmail_at::{AtError, Client, Command, Response, Secret};
use tokio::io::{AsyncRead, AsyncWrite};

/// `AT+SMTPSRV="<server>",<port>` (SIM7000 §3.2.3, SIM5360 §2).
///
/// ```
/// let cmd = cellmail_simcom::common::set_smtp_server("mail.sim.com", 25);
/// assert_eq!(cmd.encode().unwrap(), b"AT+SMTPSRV=\"mail.sim.com\",25\r");
/// ```
pub fn set_smtp_server(host: &str, port: u16) -> Command {
    Command::write("+SMTPSRV")
        .string("server", host)
        .int(i64::from(port))
}

/// `AT+SMTPSRV?`
pub fn read_smtp_server() -> Command {
    Command::read("+SMTPSRV")
}

/// `AT+SMTPSRV=?`
pub fn test_smtp_server() -> Command {
    Command::test("+SMTPSRV")
}

/// `AT+SMTPAUTH=0` or `AT+SMTPAUTH=1,"<user>","<password>"`.
pub fn set_smtp_auth(login: Option<(&str, &Secret)>) -> Command {
    match login {
        None => Command::write("+SMTPAUTH").int(0),
        Some((user, password)) => Command::write("+SMTPAUTH")
            .int(1)
            .string("user", user)
            .secret("password", password),
    }
}

/// `AT+SMTPAUTH?` → `+SMTPAUTH: <authType>,<userName>,<password>` (SIM7000
/// §3.2.4).
///
/// **The raw [`Response`] of this command holds the password in plain text,
/// in its `info` lines** (the client never logs them: the command is
/// `sensitive_answer`). Prefer [`query_smtp_auth`], which returns only the
/// parsed setting with the password as a [`Secret`]; if you execute this
/// command yourself, read it with [`parse_smtp_auth`] and drop the response
/// (never log or `Debug`-print it).
pub fn read_smtp_auth() -> Command {
    Command::read("+SMTPAUTH").sensitive_answer()
}

/// What `AT+SMTPAUTH?` says the module holds. `Debug` shows the password as `***`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SmtpAuthSetting {
    /// `<authType>` 0: no authentication.
    None,
    /// `<authType>` 1 with user name and password.
    Login {
        /// `<userName>`.
        user: String,
        /// `<password>`.
        password: Secret,
    },
}

/// Reads the answer to [`read_smtp_auth`].
///
/// ```
/// use cellmail_simcom::common::{parse_smtp_auth, SmtpAuthSetting};
/// let r = cellmail_at::Response { info: vec!["+SMTPAUTH: 1,\"john\",\"pw\"".into()], ..Default::default() };
/// let setting = parse_smtp_auth(&r).unwrap();
/// assert_eq!(format!("{setting:?}"), "Login { user: \"john\", password: *** }");
/// ```
pub fn parse_smtp_auth(response: &Response) -> Option<SmtpAuthSetting> {
    let f = response.fields("+SMTPAUTH:")?;
    match f.first()?.as_int()? {
        0 => Some(SmtpAuthSetting::None),
        1 => Some(SmtpAuthSetting::Login {
            user: f.get(1)?.as_str().to_owned(),
            password: Secret::new(f.get(2)?.as_str()),
        }),
        _ => None,
    }
}

/// Runs [`read_smtp_auth`] and returns only what it parsed: the password is
/// a [`Secret`], and the raw answer, which holds it in plain text, is dropped
/// here. An answer that does not parse is a protocol error that does not
/// quote it.
pub async fn query_smtp_auth<T>(client: &mut Client<T>) -> Result<SmtpAuthSetting, MailError>
where
    T: AsyncRead + AsyncWrite + Unpin + Send,
{
    let response = client.execute(&read_smtp_auth()).await?;
    parse_smtp_auth(&response).ok_or_else(|| unreadable_secret_answer("AT+SMTPAUTH?"))
}

/// The error for an answer that carries a password and does not parse: it
/// names the command, never the answer.
fn unreadable_secret_answer(command: &str) -> MailError {
    MailError::Modem(AtError::Protocol {
        command: command.to_owned(),
        detail: "unreadable answer (not shown: it carries the password)".into(),
    })
}

/// `AT+SMTPAUTH=?`
pub fn test_smtp_auth() -> Command {
    Command::test("+SMTPAUTH")
}

/// `AT+SMTPFROM="<address>"[,"<name>"]`.
pub fn set_sender(address: &str, name: Option<&str>) -> Command {
    let cmd = Command::write("+SMTPFROM").string("sender address", address);
    match name {
        Some(n) => cmd.string("sender name", n),
        None => cmd,
    }
}

/// `AT+SMTPFROM?`
pub fn read_sender() -> Command {
    Command::read("+SMTPFROM")
}

/// `AT+SMTPFROM=?`
pub fn test_sender() -> Command {
    Command::test("+SMTPFROM")
}

/// The manuals' `<rcptType>`: 0 To, 1 Cc, 2 Bcc.
pub fn recipient_type(kind: RecipientKind) -> i64 {
    match kind {
        RecipientKind::To => 0,
        RecipientKind::Cc => 1,
        RecipientKind::Bcc => 2,
    }
}

/// `AT+SMTPRCPT=<type>,<index>,"<address>"[,"<name>"]`.
pub fn add_recipient(kind: RecipientKind, index: u8, address: &str, name: Option<&str>) -> Command {
    let cmd = Command::write("+SMTPRCPT")
        .int(recipient_type(kind))
        .int(i64::from(index))
        .string("recipient address", address);
    match name {
        Some(n) => cmd.string("recipient name", n),
        None => cmd,
    }
}

/// `AT+SMTPRCPT=<type>,<index>`: deletes one recipient.
pub fn delete_recipient(kind: RecipientKind, index: u8) -> Command {
    Command::write("+SMTPRCPT")
        .int(recipient_type(kind))
        .int(i64::from(index))
}

/// `AT+SMTPRCPT=<type>`: deletes every recipient of a type.
pub fn delete_recipients_of(kind: RecipientKind) -> Command {
    Command::write("+SMTPRCPT").int(recipient_type(kind))
}

/// `AT+SMTPRCPT?`
pub fn read_recipients() -> Command {
    Command::read("+SMTPRCPT")
}

/// `AT+SMTPRCPT=?`
pub fn test_recipients() -> Command {
    Command::test("+SMTPRCPT")
}

/// `AT+SMTPSUB="<subject>"`; `hex` sends the text's UTF-8 bytes as
/// hexadecimal (SIM7000 §3.2.7: required when the charset is not ASCII; for
/// another charset use [`set_subject_hex`] with the bytes in that charset).
pub fn set_subject(subject: &str, hex: bool) -> Command {
    if hex {
        set_subject_hex(subject.as_bytes())
    } else {
        Command::write("+SMTPSUB").string("subject", subject)
    }
}

/// `AT+SMTPSUB="<hex>"`: the subject's bytes, in the mail's charset, as
/// hexadecimal (SIM7000 §3.2.7, §3.2.12: "TEST" → "54455354").
///
/// ```
/// let cmd = cellmail_simcom::common::set_subject_hex(b"TEST");
/// assert_eq!(cmd.encode().unwrap(), b"AT+SMTPSUB=\"54455354\"\r");
/// ```
pub fn set_subject_hex(bytes: &[u8]) -> Command {
    Command::write("+SMTPSUB").hex(bytes)
}

/// `AT+SMTPSUB?`
pub fn read_subject() -> Command {
    Command::read("+SMTPSUB")
}

/// `AT+SMTPSUB=?`
pub fn test_subject() -> Command {
    Command::test("+SMTPSUB")
}

/// `AT+POP3SRV="<server>","<user>","<password>",<port>`.
pub fn set_pop3_server(host: &str, user: &str, password: &Secret, port: u16) -> Command {
    Command::write("+POP3SRV")
        .string("server", host)
        .string("user", user)
        .secret("password", password)
        .int(i64::from(port))
}

/// `AT+POP3SRV?` → `+POP3SRV: <pop3Server>,<userName>,<password>,<pop3Port>`
/// (SIM7000 §3.2.13).
///
/// **The raw [`Response`] of this command holds the password in plain text,
/// in its `info` lines** (the client never logs them: the command is
/// `sensitive_answer`). Prefer [`query_pop3_server`], which returns only the
/// parsed setting with the password as a [`Secret`]; if you execute this
/// command yourself, read it with [`parse_pop3_server`] and drop the
/// response (never log or `Debug`-print it).
pub fn read_pop3_server() -> Command {
    Command::read("+POP3SRV").sensitive_answer()
}

/// What `AT+POP3SRV?` says the module holds. `Debug` shows the password as `***`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pop3ServerSetting {
    /// `<pop3Server>`.
    pub server: String,
    /// `<userName>`.
    pub user: String,
    /// `<password>`.
    pub password: Secret,
    /// `<pop3Port>`.
    pub port: u16,
}

/// Reads the answer to [`read_pop3_server`].
pub fn parse_pop3_server(response: &Response) -> Option<Pop3ServerSetting> {
    let f = response.fields("+POP3SRV:")?;
    Some(Pop3ServerSetting {
        server: f.first()?.as_str().to_owned(),
        user: f.get(1)?.as_str().to_owned(),
        password: Secret::new(f.get(2)?.as_str()),
        port: u16::try_from(f.get(3)?.as_int()?).ok()?,
    })
}

/// Runs [`read_pop3_server`] and returns only what it parsed: the password
/// is a [`Secret`], and the raw answer, which holds it in plain text, is
/// dropped here. An answer that does not parse is a protocol error that does
/// not quote it.
pub async fn query_pop3_server<T>(client: &mut Client<T>) -> Result<Pop3ServerSetting, MailError>
where
    T: AsyncRead + AsyncWrite + Unpin + Send,
{
    let response = client.execute(&read_pop3_server()).await?;
    parse_pop3_server(&response).ok_or_else(|| unreadable_secret_answer("AT+POP3SRV?"))
}

/// `AT+POP3SRV=?`
pub fn test_pop3_server() -> Command {
    Command::test("+POP3SRV")
}

/// Upper-case hex of `bytes`, as the modules want non-ASCII text.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}
