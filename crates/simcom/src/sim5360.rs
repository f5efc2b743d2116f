//! The SIM5360 family (3G): SMTP with the `+SMTP:` URCs, POP3 with the
//! `+POP3:` results, e-mails and attachments kept in the module's file system
//! (SIM5360 e-mail application note V0.01).

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

/// `+SMTP:` and `+POP3:` results arrive as URCs after `OK`.
pub fn decoder_config() -> DecoderConfig {
    DecoderConfig::default().urc("+SMTP:").urc("+POP3:")
}

/// Drives SIMCom SIM5360 modules (and the SIM5320 of the same command set).
pub struct Sim5360;

impl Dialect for Sim5360 {
    const NAME: &'static str = FAMILY;

    fn drives(info: &ModuleInfo) -> bool {
        let model = info.model.to_ascii_uppercase();
        let model = model.trim_start_matches("SIMCOM_");
        info.manufacturer.to_ascii_uppercase().contains("SIMCOM")
            && ["SIM5360", "SIM5320"].iter().any(|m| model.starts_with(m))
    }
}

/// The SIM5360 capabilities (§1): ASCII subject up to 512 characters, ASCII
/// body up to 5120 characters given inline in `AT+SMTPBODY="..."` (so one
/// line without quotes), attachments only from the module's file system, at
/// most 10 files and 10 MB. The manual names no TLS.
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
            recipients: 30,
            recipients_per_kind: Some(10),
            address: 128,
            name: 64,
            subject_ascii: 512,
            subject_encoded: 512,
            body: 5120,
            attachments: 10,
            attachment_bytes_serial: 0,
            attachment_bytes_total: Some(10 * 1024 * 1024),
            attachment_name: 128,
            user: 64,
            password: 64,
            server: 128,
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
    /// `AUTH REQUIRED`: the server wants authentication (the manual also uses
    /// it for a session the server released).
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

    /// `Ok` for success, the facade's error otherwise, the text kept.
    pub fn into_result(self, text: &str) -> Result<(), MailError> {
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

/// A `+POP3:` result (§1).
pub fn pop3_result(text: &str) -> Result<(), MailError> {
    let t = text.trim();
    let vendor = Some(VendorCode::Text(t.to_owned()));
    Err(match t {
        "SUCCESS" => return Ok(()),
        "FAILURE" => MailError::Rejected {
            code: 0,
            text: "POP3 client failed to get the e-mail".into(),
            vendor,
        },
        "NETWORK ERROR" => MailError::Network {
            detail: "invalid POP3 server or bad link".into(),
            vendor,
        },
        "SERVER ERROR" => MailError::Rejected {
            code: 0,
            text: "the POP3 server refused or did not answer".into(),
            vendor,
        },
        "INVALID UN" | "INVALID UN/PWD" => MailError::Auth { vendor },
        "FILE SYSTEM ERROR" => MailError::Rejected {
            code: 0,
            text: "the module's file system failed".into(),
            vendor,
        },
        other => MailError::Rejected {
            code: 0,
            text: other.to_owned(),
            vendor,
        },
    })
}

/// The numbers of a `+POP3: 2 2134` or `+POP3: 1, 1050` answer.
fn numbers(text: &str) -> Vec<u64> {
    text.split(|c: char| c == ',' || c.is_whitespace())
        .filter_map(|s| s.parse().ok())
        .collect()
}

/// Puts message lines back together. The module answers a message as lines and
/// blank lines vanish among the line ends, so the blank line between header and
/// body is restored after the last header line.
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
    Message::parse(raw.into_bytes())
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
pub struct Sim5360Mailer<T> {
    client: Client<T>,
    account: SmtpAccount,
    options: Sim5360Options,
    caps: Capabilities,
    configured: HashMap<&'static str, Vec<u8>>,
    stale_recipients: Vec<RecipientKind>,
    stale_attachments: bool,
    pop3_open: bool,
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

impl<T: AsyncRead + AsyncWrite + Unpin + Send> Sim5360Mailer<T> {
    /// A mailer over a client configured with [`decoder_config`].
    pub fn new(client: Client<T>, account: SmtpAccount, options: Sim5360Options) -> Self {
        Self {
            client,
            account,
            options,
            caps: capabilities(),
            configured: HashMap::new(),
            stale_recipients: vec![RecipientKind::To, RecipientKind::Cc, RecipientKind::Bcc],
            stale_attachments: true,
            pop3_open: false,
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
    /// reboot". A reboot URC makes the mailer configure them again.
    fn notice_reboot(&mut self) {
        if self
            .client
            .take_urcs()
            .iter()
            .any(|u| u == "RDY" || u == "START" || u == "NORMAL POWER DOWN")
        {
            self.client.forget_deferred();
            self.configured.clear();
            self.stale_recipients = vec![RecipientKind::To, RecipientKind::Cc, RecipientKind::Bcc];
            self.stale_attachments = true;
            self.pop3_open = false;
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
                    let _ = self.client.execute(&commands::stop()).await;
                    return Err(modem(e));
                }
            };
            let text = line.trim_start_matches("+SMTP:").trim().to_owned();
            let result = SmtpResult::parse(&text);
            if result.is_final() {
                result.into_result(&text)?;
                return Ok(line);
            }
        }
    }

    fn pop3_account(&self) -> Result<Pop3Account, MailError> {
        self.options.pop3.clone().ok_or_else(|| {
            MailError::invalid("pop3", "no POP3 account was given (Sim5360Options::pop3)")
        })
    }

    /// A POP3 command answered `+POP3: <result>` before `OK`.
    async fn pop3_ok(&mut self, command: &Command) -> Result<Response, MailError> {
        let r = self.client.execute(command).await.map_err(modem)?;
        if let Some(text) = r.line("+POP3:") {
            if !text.trim().starts_with(|c: char| c.is_ascii_digit()) {
                pop3_result(text)?;
            }
        }
        Ok(r)
    }

    async fn pop3_session(&mut self) -> Result<(), MailError> {
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
            pop3_result(line.trim_start_matches("+POP3:"))?;
        }
        self.pop3_open = true;
        Ok(())
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
        for kind in std::mem::take(&mut self.stale_recipients) {
            self.client
                .execute(&common::delete_recipients_of(kind))
                .await
                .map_err(modem)?;
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
        self.client
            .execute(&common::set_subject(email.subject(), false))
            .await
            .map_err(modem)?;
        self.client
            .execute(&commands::set_body(email.body()))
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
        self.client
            .execute(&commands::send())
            .await
            .map_err(modem)?;
        let line = self.wait_smtp_result().await?;
        let after = self.client.stats();
        Ok(SendReport {
            module_result: line,
            bytes_sent: after.bytes_written - before.bytes_written,
            commands: after.commands - before.commands,
            duration: started.elapsed(),
        })
    }
}

#[async_trait]
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Mailbox for Sim5360Mailer<T> {
    async fn stat(&mut self) -> Result<MailboxStat, MailError> {
        self.pop3_session().await?;
        let r = self.pop3_ok(&commands::count()).await?;
        match numbers(r.line("+POP3:").unwrap_or("")).as_slice() {
            [count, size] => Ok(MailboxStat {
                count: u32::try_from(*count).unwrap_or(0),
                total_size: *size,
            }),
            _ => Err(MailError::Modem(AtError::Protocol {
                command: "AT+POP3NUM".into(),
                detail: format!("unreadable answer {:?}", r.info),
            })),
        }
    }

    async fn list(&mut self) -> Result<Vec<MessageInfo>, MailError> {
        let stat = self.stat().await?;
        let mut out = Vec::new();
        for id in 1..=stat.count {
            let r = self.pop3_ok(&commands::list(id)).await?;
            if let [n, size] = numbers(r.line("+POP3:").unwrap_or("")).as_slice() {
                out.push(MessageInfo {
                    id: u32::try_from(*n).unwrap_or(id),
                    size: *size,
                });
            }
        }
        Ok(out)
    }

    async fn uids(&mut self) -> Result<Vec<MessageUid>, MailError> {
        Err(MailError::unsupported(
            "unique ids (the SIM5360 has no UIDL command)",
        ))
    }

    async fn headers(&mut self, id: u32) -> Result<Message, MailError> {
        self.pop3_session().await?;
        let r = self.pop3_ok(&commands::header(id)).await?;
        message_from_lines(&r.info)
    }

    async fn retrieve(&mut self, id: u32) -> Result<Message, MailError> {
        self.pop3_session().await?;
        self.client
            .execute(&commands::storage(false))
            .await
            .map_err(modem)?;
        self.client
            .execute(&commands::get(id))
            .await
            .map_err(modem)?;
        let result = self
            .client
            .wait_urc("+POP3:", self.options.result_timeout)
            .await;
        let result = match result {
            Ok(line) => line,
            Err(e) => {
                let _ = self.client.execute(&commands::stop_pop3()).await;
                self.pop3_open = false;
                return Err(modem(e));
            }
        };
        pop3_result(result.trim_start_matches("+POP3:"))?;
        // Then the saved path, an unprefixed line.
        let _path = self
            .client
            .wait_urc("", Duration::from_secs(5))
            .await
            .map_err(modem)?;
        let r = self
            .client
            .execute(&commands::read_last())
            .await
            .map_err(modem)?;
        message_from_lines(&r.info)
    }

    async fn delete(&mut self, id: u32) -> Result<(), MailError> {
        self.pop3_session().await?;
        self.pop3_ok(&commands::delete(id)).await.map(|_| ())
    }

    async fn reset(&mut self) -> Result<(), MailError> {
        // No RSET command: ending the session without logout forgets the marks.
        if self.pop3_open {
            self.client
                .execute(&commands::stop_pop3())
                .await
                .map_err(modem)?;
            self.pop3_open = false;
        }
        Ok(())
    }

    async fn close(&mut self) -> Result<(), MailError> {
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
