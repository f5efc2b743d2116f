//! The SIM7000 family (SIM7000, and the SIM800/SIM808/SIM900 modules whose
//! e-mail manuals define the same command set): SMTP with the attachment
//! streamed through `AT+SMTPFT`, POP3 with `AT+POP3CMD` / `AT+POP3READ`.

pub mod codes;
pub mod commands;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use cellmail::{
    AttachmentSource, Auth, Capabilities, Charset, Dialect, Email, MailError, MailSender, Mailbox,
    MailboxStat, Message, MessageInfo, MessageUid, ModuleInfo, Phase, Pop3Account, Progress,
    ProgressEvent, RecipientKind, SendReport, SmtpAccount, validate, validate_pop3_account,
    validate_smtp_account,
};
use cellmail_at::{Arrived, AtError, Client, Command, DecoderConfig, Prompt, fields};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};

use crate::common;
use codes::{Pop3Code, SendCode};
use commands::{AttachmentKind, Pop3Request, prefix};

/// The family name.
pub const FAMILY: &str = "sim7000";

/// URCs of this family.
pub fn decoder_config() -> DecoderConfig {
    DecoderConfig::default()
        .urc(prefix::SMTPFT_READY)
        .urc(prefix::POP3READ_MORE)
        .urc("+SAPBR")
}

/// Drives SIMCom SIM7000 and SIM800/SIM808/SIM900 modules.
///
/// Public reports say some SIM7000G firmware answers `+SMTPSEND: 65` where a
/// SIM808 succeeds with the same commands: this claims what the command set
/// covers, and the probe says which module it is.
pub struct Sim7000;

impl Dialect for Sim7000 {
    const NAME: &'static str = FAMILY;

    fn drives(info: &ModuleInfo) -> bool {
        let model = info.model.to_ascii_uppercase();
        let model = model.trim_start_matches("SIMCOM_");
        info.manufacturer.to_ascii_uppercase().contains("SIMCOM")
            && [
                "SIM7000", "SIM7070", "SIM7080", "SIM800", "SIM808", "SIM868", "SIM900",
            ]
            .iter()
            .any(|m| model.starts_with(m))
    }
}

/// The SIM7000 capabilities. The manual has the module report its lengths
/// in the test forms (`AT+SMTPSUB=?` → `+SMTPSUB: <subjectLength>`); these are
/// the values the mailer checks before sending. One attachment per mail
/// (`AT+SMTPFILE` names one file), streamed so any size passes.
pub fn capabilities() -> Capabilities {
    use cellmail::{AttachmentSources, Limits, TextEncoding, TlsMode};
    Capabilities {
        family: FAMILY,
        smtp: true,
        pop3: true,
        smtp_tls: vec![TlsMode::None],
        pop3_tls: vec![TlsMode::None],
        tls_verify: false,
        charsets: vec![Charset::Ascii, Charset::Utf8],
        subject_encoding: TextEncoding::Hex,
        body_encoding: TextEncoding::Hex,
        attachment_sources: AttachmentSources {
            memory: true,
            host_file: true,
            module_file: false,
        },
        storages: vec![],
        recipient_names: true,
        body_forbids: vec![],
        limits: Limits {
            recipients: 30,
            recipients_per_kind: Some(10),
            address: 64,
            name: 64,
            subject_ascii: 256,
            subject_encoded: 256,
            body: 4096,
            attachments: 1,
            attachment_bytes_serial: u64::MAX,
            attachment_bytes_total: None,
            attachment_name: 64,
            user: 64,
            password: 64,
            server: 64,
            send_timeout_secs: Some(10..=120),
        },
    }
}

/// Settings of a [`Sim7000Mailer`].
#[derive(Clone, Debug)]
pub struct Sim7000Options {
    /// The bearer profile (`AT+EMAILCID`).
    pub cid: u8,
    /// The server response timeout (`AT+EMAILTO`), 10-120 s.
    pub server_timeout_secs: u8,
    /// Open the bearer with this APN first (`AT+SAPBR`); `None`: already open.
    pub apn: Option<String>,
    /// The POP3 account, for [`Mailbox`].
    pub pop3: Option<Pop3Account>,
    /// Progress of attachment and message transfers.
    pub progress: Option<Progress>,
}

impl Default for Sim7000Options {
    fn default() -> Self {
        Self {
            cid: 1,
            server_timeout_secs: 30,
            apn: None,
            pop3: None,
            progress: None,
        }
    }
}

/// Sends and reads mail through a SIM7000-family module.
///
/// ```no_run
/// # async fn run() -> Result<(), cellmail::MailError> {
/// use cellmail::{Email, MailSender};
/// use cellmail_at::{Client, ClientConfig};
/// use cellmail_simcom::sim7000::{decoder_config, Sim7000Mailer, Sim7000Options};
/// let port = cellmail_at::serial::open("/dev/ttyUSB2", 115_200)?;
/// let client = Client::new(port, ClientConfig::with_decoder(decoder_config()));
/// # let account: cellmail::SmtpAccount = todo!();
/// let mut mailer = Sim7000Mailer::new(client, account, Sim7000Options::default());
/// let email = Email::builder().from("meter@example.com", None).to("ops@example.com", None).build()?;
/// mailer.send(&email).await?;
/// # Ok(()) }
/// ```
pub struct Sim7000Mailer<T> {
    client: Client<T>,
    account: SmtpAccount,
    options: Sim7000Options,
    caps: Capabilities,
    configured: HashMap<&'static str, Vec<u8>>,
    /// Recipient kinds the module may still hold from an earlier mail
    /// (unknown at start: all of them).
    stale_recipients: Vec<RecipientKind>,
    /// Whether the module may still hold an attachment setting.
    stale_attachment: bool,
    pop3_open: bool,
}

impl<T> std::fmt::Debug for Sim7000Mailer<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sim7000Mailer")
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

impl<T: AsyncRead + AsyncWrite + Unpin + Send> Sim7000Mailer<T> {
    /// A mailer over a client configured with [`decoder_config`].
    pub fn new(client: Client<T>, account: SmtpAccount, options: Sim7000Options) -> Self {
        Self {
            client,
            account,
            options,
            caps: capabilities(),
            configured: HashMap::new(),
            stale_recipients: vec![RecipientKind::To, RecipientKind::Cc, RecipientKind::Bcc],
            stale_attachment: true,
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

    fn forget(&mut self) {
        self.configured.clear();
        self.stale_recipients = vec![RecipientKind::To, RecipientKind::Cc, RecipientKind::Bcc];
        self.stale_attachment = true;
        self.pop3_open = false;
    }

    fn notice_reboot(&mut self) {
        if self
            .client
            .take_urcs()
            .iter()
            .any(|u| u == "RDY" || u == "NORMAL POWER DOWN")
        {
            tracing::info!("the module rebooted: configuring it again");
            self.client.forget_deferred();
            self.forget();
        }
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

    /// Opens the bearer (§4.1) when an APN was given and it is not open yet.
    async fn bearer(&mut self) -> Result<(), MailError> {
        let Some(apn) = self.options.apn.clone() else {
            return Ok(());
        };
        if self.configured.contains_key("bearer") {
            return Ok(());
        }
        let cid = self.options.cid;
        self.client
            .execute(&commands::bearer_apn(cid, &apn))
            .await
            .map_err(modem)?;
        self.client
            .execute(&commands::bearer_open(cid))
            .await
            .map_err(modem)?;
        let r = self
            .client
            .execute(&commands::bearer_query(cid))
            .await
            .map_err(modem)?;
        let up = r
            .fields("+SAPBR:")
            .is_some_and(|f| f.get(1).and_then(|s| s.as_int()) == Some(1));
        if !up {
            return Err(MailError::Network {
                detail: format!("the bearer did not open: {:?}", r.info),
                vendor: None,
            });
        }
        self.configured.insert("bearer", Vec::new());
        Ok(())
    }

    async fn common_settings(&mut self) -> Result<(), MailError> {
        self.notice_reboot();
        self.bearer().await?;
        self.configure("cid", commands::set_cid(self.options.cid))
            .await?;
        self.configure(
            "timeout",
            commands::set_timeout(self.options.server_timeout_secs),
        )
        .await
    }

    async fn smtp_settings(&mut self, email: &Email) -> Result<(), MailError> {
        self.common_settings().await?;
        let charset = match email.charset() {
            Charset::Ascii => "ASCII",
            Charset::Utf8 => "UTF-8",
            Charset::Gb2312 => "GB2312",
            Charset::Big5 => "BIG5",
        };
        self.configure("charset", commands::set_charset(charset))
            .await?;
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
        .await
    }

    async fn compose(&mut self, email: &Email) -> Result<(), MailError> {
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
        // §3.2.7/§3.2.8: when the charset is not ASCII, subject and body go as hex.
        let hex = email.charset() != Charset::Ascii;
        self.client
            .execute(&common::set_subject(email.subject(), hex))
            .await
            .map_err(modem)?;
        let body = if hex {
            common::hex(email.body().as_bytes()).into_bytes()
        } else {
            email.body().as_bytes().to_vec()
        };
        self.client
            .upload(
                &commands::body(body.len()),
                &body,
                cellmail_at::DataEnd::Length,
            )
            .await
            .map_err(modem)?;
        match email.attachments().first() {
            Some(a) => {
                let kind = match a.source() {
                    AttachmentSource::Memory(bytes)
                        if bytes.is_ascii()
                            && bytes.split(|&b| b == b'\n').all(|l| l.len() <= 998) =>
                    {
                        AttachmentKind::Text
                    }
                    _ => AttachmentKind::Binary,
                };
                self.client
                    .execute(&commands::set_attachment(kind, a.name()))
                    .await
                    .map_err(modem)?;
                self.stale_attachment = true;
            }
            None if self.stale_attachment => {
                self.client
                    .execute(&commands::no_attachment())
                    .await
                    .map_err(modem)?;
                self.stale_attachment = false;
            }
            None => {}
        }
        Ok(())
    }

    /// The attachment through `AT+SMTPFT` in chunks of at most what the module
    /// grants, read from its source as it goes (never whole in memory).
    async fn stream_attachment(
        &mut self,
        email: &Email,
        wait: Duration,
    ) -> Result<Option<String>, MailError> {
        let Some(attachment) = email.attachments().first() else {
            return Ok(None);
        };
        let total = attachment.size().unwrap_or(0);
        let mut reader = attachment.open().await?;
        let mut sent = 0u64;
        let mut chunk = Vec::new();
        loop {
            match self
                .client
                .wait_any(&[prefix::SMTPSEND], &[prefix::SMTPFT_READY], wait)
                .await
                .map_err(modem)?
            {
                Arrived::Deferred(line) => return Ok(Some(line)),
                Arrived::Urc(line) => {
                    let max = commands::ints(&line, "+SMTPFT:")
                        .get(1)
                        .copied()
                        .flatten()
                        .unwrap_or(0);
                    let max = u16::try_from(max.max(0)).unwrap_or(u16::MAX);
                    if sent == total {
                        self.client
                            .execute(&commands::transfer_done())
                            .await
                            .map_err(modem)?;
                        return Ok(None);
                    }
                    let want = u16::try_from((total - sent).min(u64::from(max))).unwrap_or(max);
                    if want == 0 {
                        return Err(protocol("AT+SMTPFT", "the module grants 0 bytes".into()));
                    }
                    let command = commands::transfer(want);
                    self.client.begin(&command).await.map_err(modem)?;
                    let granted = match self.client.wait_prompt().await.map_err(modem)? {
                        Prompt::Line(l) => commands::ints(&l, "+SMTPFT:")
                            .get(1)
                            .copied()
                            .flatten()
                            .unwrap_or(0),
                        other => {
                            return Err(protocol(
                                "AT+SMTPFT",
                                format!("unexpected prompt {other:?}"),
                            ));
                        }
                    };
                    let granted = usize::try_from(granted.clamp(0, i64::from(want))).unwrap_or(0);
                    chunk.resize(granted, 0);
                    reader.read_exact(&mut chunk).await?;
                    self.client.write_data(&chunk).await.map_err(modem)?;
                    self.client.finish().await.map_err(modem)?;
                    sent += granted as u64;
                    if let Some(progress) = &self.options.progress {
                        progress.report(ProgressEvent {
                            phase: Phase::Attachment {
                                name: attachment.name().to_owned(),
                            },
                            done: sent,
                            total: Some(total),
                        });
                    }
                }
            }
        }
    }

    // ---- POP3 ----

    fn pop3_account(&self) -> Result<Pop3Account, MailError> {
        self.options.pop3.clone().ok_or_else(|| {
            MailError::invalid("pop3", "no POP3 account was given (Sim7000Options::pop3)")
        })
    }

    fn pop3_wait(&self) -> Duration {
        Duration::from_secs(u64::from(self.options.server_timeout_secs) + 15)
    }

    /// Runs a POP3 command and returns its result line; a `+POP3OUT: <code>`
    /// instead of the result means the module ended the session.
    async fn pop3(&mut self, command: &Command, result: &str) -> Result<String, MailError> {
        self.client.execute(command).await.map_err(modem)?;
        match self
            .client
            .wait_any(&[result], &[prefix::POP3OUT], self.pop3_wait())
            .await
        {
            Ok(Arrived::Deferred(line)) => Ok(line),
            Ok(Arrived::Urc(line)) => {
                self.client.abandon_deferred(result);
                self.pop3_open = false;
                let code = commands::ints(&line, prefix::POP3OUT)
                    .first()
                    .copied()
                    .flatten()
                    .unwrap_or(0);
                Pop3Code::from_code(code).into_result()?;
                Err(protocol(
                    &command.redacted(),
                    "the module ended the POP3 session".into(),
                ))
            }
            Err(e) => Err(modem(e)),
        }
    }

    async fn pop3_session(&mut self) -> Result<(), MailError> {
        if self.pop3_open {
            return Ok(());
        }
        let account = self.pop3_account()?;
        validate_pop3_account(&account, &self.caps)?;
        self.common_settings().await?;
        let server = common::set_pop3_server(
            &account.server.host,
            &account.user,
            &account.password,
            account.server.port,
        );
        self.configure("pop3srv", server).await?;
        let line = self.pop3(&commands::pop3_login(), prefix::POP3IN).await?;
        let code = commands::ints(&line, prefix::POP3IN)
            .first()
            .copied()
            .flatten()
            .unwrap_or(0);
        Pop3Code::from_code(code).into_result()?;
        self.pop3_open = true;
        Ok(())
    }

    /// Reads a multi-line answer with `AT+POP3READ` until the module says it is complete.
    async fn read_all(&mut self, phase: Option<Phase>) -> Result<Vec<u8>, MailError> {
        let mut data = Vec::new();
        loop {
            let r = self
                .client
                .execute(&commands::read(commands::POP3READ_MAX))
                .await
                .map_err(modem)?;
            let line = r.line(prefix::POP3READ).ok_or_else(|| {
                protocol(
                    "AT+POP3READ",
                    format!("no +POP3READ answer in {:?}", r.info),
                )
            })?;
            let f = fields::split(line);
            let mode = f.first().and_then(|x| x.as_int());
            data.extend_from_slice(&r.raw);
            if let (Some(phase), Some(progress)) = (&phase, &self.options.progress) {
                progress.report(ProgressEvent {
                    phase: phase.clone(),
                    done: data.len() as u64,
                    total: None,
                });
            }
            match mode {
                Some(2) => return Ok(data),
                Some(1) if r.raw.is_empty() => {
                    // Nothing yet: wait for "+POP3READ: 3,<n>" or the end of the session.
                    match self
                        .client
                        .wait_any(
                            &[],
                            &[prefix::POP3READ_MORE, prefix::POP3OUT],
                            self.pop3_wait(),
                        )
                        .await
                    {
                        Ok(Arrived::Urc(l)) if l.starts_with(prefix::POP3OUT) => {
                            self.pop3_open = false;
                            let code = commands::ints(&l, prefix::POP3OUT)
                                .first()
                                .copied()
                                .flatten()
                                .unwrap_or(0);
                            Pop3Code::from_code(code).into_result()?;
                            return Err(protocol(
                                "AT+POP3READ",
                                "the module ended the POP3 session".into(),
                            ));
                        }
                        Ok(_) => {}
                        Err(e) => return Err(modem(e)),
                    }
                }
                Some(1) => {}
                _ => {
                    return Err(protocol(
                        "AT+POP3READ",
                        format!("unreadable answer {line:?}"),
                    ));
                }
            }
        }
    }

    async fn multi_line(
        &mut self,
        request: Pop3Request,
        phase: Option<Phase>,
    ) -> Result<Vec<u8>, MailError> {
        self.pop3_session().await?;
        let line = self
            .pop3(&commands::pop3_command(request), prefix::POP3CMD)
            .await?;
        if commands::ints(&line, prefix::POP3CMD)
            .first()
            .copied()
            .flatten()
            != Some(1)
        {
            return Err(MailError::Rejected {
                code: 0,
                text: format!("the POP3 server refused {request:?}"),
                vendor: None,
            });
        }
        self.read_all(phase).await
    }
}

/// The lines of a POP3 listing, without the terminating `.` line.
fn listing(data: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(data)
        .lines()
        .map(str::trim)
        .take_while(|l| *l != ".")
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

#[async_trait]
impl<T: AsyncRead + AsyncWrite + Unpin + Send> MailSender for Sim7000Mailer<T> {
    fn capabilities(&self) -> &Capabilities {
        &self.caps
    }

    async fn send(&mut self, email: &Email) -> Result<SendReport, MailError> {
        validate(email, &self.caps)?;
        validate_smtp_account(&self.account, &self.caps)?;
        let started = Instant::now();
        let before = self.client.stats();
        self.smtp_settings(email).await?;
        self.compose(email).await?;
        self.client
            .execute(&commands::send())
            .await
            .map_err(modem)?;
        let wait = Duration::from_secs(u64::from(self.options.server_timeout_secs) * 4 + 30);
        let line = match self.stream_attachment(email, wait).await? {
            Some(line) => line,
            None => self
                .client
                .deferred(prefix::SMTPSEND, wait)
                .await
                .map_err(modem)?,
        };
        let code = commands::ints(&line, prefix::SMTPSEND)
            .first()
            .copied()
            .flatten()
            .unwrap_or(0);
        SendCode::from_code(code).into_result()?;
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
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Mailbox for Sim7000Mailer<T> {
    async fn stat(&mut self) -> Result<MailboxStat, MailError> {
        self.pop3_session().await?;
        let line = self.pop3(&commands::pop3_count(), prefix::POP3NUM).await?;
        match commands::ints(&line, prefix::POP3NUM).as_slice() {
            [Some(1), Some(count), Some(size)] => Ok(MailboxStat {
                count: u32::try_from(*count).unwrap_or(0),
                total_size: u64::try_from(*size).unwrap_or(0),
            }),
            _ => Err(MailError::Rejected {
                code: 0,
                text: format!("the POP3 server refused STAT: {line}"),
                vendor: None,
            }),
        }
    }

    async fn list(&mut self) -> Result<Vec<MessageInfo>, MailError> {
        let data = self.multi_line(Pop3Request::List, None).await?;
        Ok(listing(&data)
            .iter()
            .filter_map(|l| {
                let (id, size) = l.split_once(' ')?;
                Some(MessageInfo {
                    id: id.parse().ok()?,
                    size: size.trim().parse().ok()?,
                })
            })
            .collect())
    }

    async fn uids(&mut self) -> Result<Vec<MessageUid>, MailError> {
        let data = self.multi_line(Pop3Request::Uidl, None).await?;
        Ok(listing(&data)
            .iter()
            .filter_map(|l| {
                let (id, uid) = l.split_once(' ')?;
                Some(MessageUid {
                    id: id.parse().ok()?,
                    uid: uid.trim().to_owned(),
                })
            })
            .collect())
    }

    async fn headers(&mut self, id: u32) -> Result<Message, MailError> {
        let data = self.multi_line(Pop3Request::Top(id, 0), None).await?;
        Message::from_pop3_data(data)
    }

    async fn retrieve(&mut self, id: u32) -> Result<Message, MailError> {
        let data = self
            .multi_line(Pop3Request::Retrieve(id), Some(Phase::Retrieve { id }))
            .await?;
        Message::from_pop3_data(data)
    }

    async fn delete(&mut self, id: u32) -> Result<(), MailError> {
        self.pop3_session().await?;
        let line = self
            .pop3(&commands::pop3_delete(id), prefix::POP3DEL)
            .await?;
        match commands::ints(&line, prefix::POP3DEL)
            .first()
            .copied()
            .flatten()
        {
            Some(1) => Ok(()),
            _ => Err(MailError::Rejected {
                code: 0,
                text: format!("the POP3 server refused to delete message {id}"),
                vendor: None,
            }),
        }
    }

    async fn reset(&mut self) -> Result<(), MailError> {
        self.pop3_session().await?;
        self.client
            .execute(&commands::pop3_reset())
            .await
            .map_err(modem)?;
        // The manual answers +POP3RSET: 1, or (misspelt) +POP3REST: 0.
        let line = match self
            .client
            .wait_any(
                &[prefix::POP3RSET],
                &[prefix::POP3REST, prefix::POP3OUT],
                self.pop3_wait(),
            )
            .await
            .map_err(modem)?
        {
            Arrived::Deferred(l) => l,
            Arrived::Urc(l) => {
                self.client.abandon_deferred(prefix::POP3RSET);
                l
            }
        };
        if line.starts_with(prefix::POP3RSET)
            && commands::ints(&line, prefix::POP3RSET)
                .first()
                .copied()
                .flatten()
                == Some(1)
        {
            Ok(())
        } else {
            Err(MailError::Rejected {
                code: 0,
                text: format!("the POP3 server refused RSET: {line}"),
                vendor: None,
            })
        }
    }

    async fn close(&mut self) -> Result<(), MailError> {
        if !self.pop3_open {
            return Ok(());
        }
        self.pop3_open = false;
        let line = self.pop3(&commands::pop3_logout(), prefix::POP3OUT).await?;
        let code = commands::ints(&line, prefix::POP3OUT)
            .first()
            .copied()
            .flatten()
            .unwrap_or(0);
        Pop3Code::from_code(code).into_result()
    }
}
