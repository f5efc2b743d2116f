//! The A76xx mailer: a thin async driver over [`plan`](super::plan) and
//! `cellmail_at::Client`. The decisions are pure ([`plan::plan`],
//! [`Session`], [`codes::SendCode`]); this file only runs them.

use std::time::{Duration, Instant};

use async_trait::async_trait;
use cellmail::{
    AttachmentSource, Bearer, Capabilities, Email, MailError, MailSender, Mailbox, MailboxStat,
    Message, MessageInfo, MessageUid, Phase, Progress, ProgressEvent, SendReport, SmtpAccount,
    validate_send,
};
use cellmail_at::{AtError, Client, Payload};
use tokio::io::{AsyncRead, AsyncWrite};

use super::plan::{self, Contexts, Step};
use super::{codes, commands as cmd, setup};

/// Settings of an [`A76xxMailer`].
#[derive(Clone, Debug)]
pub struct A76xxOptions {
    /// The PDP context e-mail uses (1-15; `AT+CSMTPSCFG="pdpCtxId"`).
    pub pdp_cid: u8,
    /// The SSL context for SMTPS and STARTTLS (0-9; `"sslCtxId"`).
    pub ssl_ctx: u8,
    /// Define the PDP context with this APN first (`AT+CGDCONT`); `None`:
    /// the module's own (in LTE the default bearer comes up on attach). The
    /// dialect sets the APN alone: a user or password is refused before a byte.
    pub bearer: Option<Bearer>,
    /// Open the network with `AT+NETOPEN` first (what public code does;
    /// whether SMTPS needs it the manual does not say). An answer that it is
    /// open already is fine.
    pub net_open: bool,
    /// How long to wait for `+CSMTPSSEND: <err>` (the manual gives no bound).
    pub send_timeout: Duration,
    /// Progress of attachment uploads.
    pub progress: Option<Progress>,
}

impl Default for A76xxOptions {
    fn default() -> Self {
        Self {
            pdp_cid: 1,
            ssl_ctx: 0,
            bearer: None,
            net_open: true,
            send_timeout: Duration::from_secs(120),
            progress: None,
        }
    }
}

/// What the mailer knows of the module.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Session {
    /// Nothing yet: the command set is probed and the network opened first.
    Unknown,
    /// The firmware has the SMTPS commands and the network is up.
    Ready,
    /// `AT+CSMTPSSRV=?` was refused: this firmware has no SMTPS.
    NoSmtps,
}

/// The error for a firmware without the chapter's commands.
pub fn no_smtps() -> MailError {
    MailError::unsupported(
        "SMTP on this A76xx firmware: it refuses AT+CSMTPSSRV=? (A76XX manual §32.1: \
         \"only ASR1603 and ASR1803S support SMTPS\")",
    )
}

/// Sends mail through an A76xx module. No POP3: [`Mailbox`] calls fail
/// with `Unsupported`.
///
/// ```no_run
/// # async fn run() -> Result<(), cellmail::MailError> {
/// use cellmail::{Email, MailSender};
/// use cellmail_at::{Client, ClientConfig};
/// use cellmail_simcom::a76xx::{decoder_config, A76xxMailer, A76xxOptions};
/// let port = cellmail_at::serial::open("/dev/ttyUSB2", 115_200)?;
/// let client = Client::new(port, ClientConfig::with_decoder(decoder_config()));
/// let account = cellmail::SmtpAccount {
///     server: cellmail::ServerAddr::new("smtp.example.com", 465),
///     auth: cellmail::Auth::Login {
///         user: "meter-17".into(),
///         password: cellmail::Secret::new(std::env::var("SMTP_PASSWORD").unwrap_or_default()),
///     },
///     tls: Default::default(),
/// };
/// let mut mailer = A76xxMailer::new(client, account, A76xxOptions::default());
/// let email = Email::builder().from("meter@example.com", None).to("ops@example.com", None).build()?;
/// mailer.send(&email).await?;
/// # Ok(()) }
/// ```
pub struct A76xxMailer<T> {
    client: Client<T>,
    urcs: cellmail_at::UrcWatch,
    account: SmtpAccount,
    options: A76xxOptions,
    caps: Capabilities,
    session: Session,
}

impl<T> std::fmt::Debug for A76xxMailer<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("A76xxMailer")
            .field("account", &self.account)
            .field("session", &self.session)
            .finish_non_exhaustive()
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin + Send> A76xxMailer<T> {
    /// A mailer over a client configured with [`decoder_config`](super::decoder_config).
    pub fn new(client: Client<T>, account: SmtpAccount, options: A76xxOptions) -> Self {
        Self {
            urcs: client.watch_urcs(),
            client,
            account,
            options,
            caps: super::capabilities(),
            session: Session::Unknown,
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

    fn check_options(&self) -> Result<(), MailError> {
        if !(1..=15).contains(&self.options.pdp_cid) {
            return Err(MailError::invalid("pdp_cid", "the module takes 1-15"));
        }
        if !setup::SSL_CONTEXT.contains(&self.options.ssl_ctx) {
            return Err(MailError::invalid("ssl_ctx", "the module takes 0-9"));
        }
        Ok(())
    }

    /// Probes the command set and brings the network up, once.
    async fn prepare(&mut self) -> Result<(), MailError> {
        let seen = self.urcs.seen();
        if seen.missed > 0 || seen.lines.iter().any(|u| u == "RDY") {
            self.session = Session::Unknown;
        }
        match self.session {
            Session::Ready => return Ok(()),
            Session::NoSmtps => return Err(no_smtps()),
            Session::Unknown => {}
        }
        match self.client.execute(&cmd::test_server()).await {
            Ok(_) => {}
            Err(AtError::Error { .. } | AtError::Cme { .. }) => {
                self.session = Session::NoSmtps;
                return Err(no_smtps());
            }
            Err(e) => return Err(e.into()),
        }
        if let Some(apn) = self.options.bearer.as_ref().map(|b| &b.apn) {
            let c = setup::pdp_context(self.options.pdp_cid, setup::PdpType::Ip, apn);
            self.client.execute(&c).await?;
        }
        if self.options.net_open {
            self.open_network().await?;
        }
        self.session = Session::Ready;
        Ok(())
    }

    async fn open_network(&mut self) -> Result<(), MailError> {
        // Only the +IPERROR of this exchange counts.
        let _ = self.urcs.seen();
        match self.client.execute(&setup::net_open()).await {
            Ok(_) => {
                let line = self
                    .client
                    .deferred(setup::prefix::NETOPEN, setup::LONG_TIMEOUT)
                    .await?;
                match cellmail_at::fields::int(line.trim(), setup::prefix::NETOPEN) {
                    Some(0) => Ok(()),
                    _ => Err(MailError::Network {
                        detail: format!("the module could not open the network ({line})"),
                        vendor: Some(cellmail::VendorCode::Text(line.trim().to_owned())),
                    }),
                }
            }
            Err(AtError::Error { .. })
                if self
                    .urcs
                    .seen()
                    .lines
                    .iter()
                    .any(|l| setup::already_open(l)) =>
            {
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    }

    async fn run(&mut self, email: &Email, step: &Step) -> Result<(), MailError> {
        match step {
            Step::Exec(c) => {
                self.client.execute(c).await?;
            }
            Step::Data(c, data) => {
                self.client
                    .upload(c, data, cellmail_at::DataEnd::Length)
                    .await?;
            }
            Step::DeleteQuietly(c) => match self.client.execute(c).await {
                Ok(_) | Err(AtError::Error { .. } | AtError::Cme { .. }) => {}
                Err(e) => return Err(e.into()),
            },
            Step::Upload { index, path } => {
                let a = &email.attachments()[*index];
                self.upload(a.name(), a.source(), path).await?;
            }
        }
        Ok(())
    }

    /// `AT+CFTRANRX`: the attachment streamed from memory or from its host file.
    async fn upload(
        &mut self,
        name: &str,
        source: &AttachmentSource,
        path: &str,
    ) -> Result<(), MailError> {
        let size = match source {
            AttachmentSource::Memory(b) => b.len() as u64,
            AttachmentSource::HostFile { size, .. } => *size,
            AttachmentSource::Module(_) => return Ok(()),
        };
        self.client.begin(&setup::upload_file(path, size)).await?;
        self.client.declare_payload(Payload::Length(size))?;
        self.client.wait_prompt().await?;
        match source {
            AttachmentSource::Memory(b) => self.client.write_data(b).await?,
            AttachmentSource::HostFile { path: host, .. } => {
                let mut file = tokio::fs::File::open(host).await?;
                self.client.copy_data(&mut file, size).await?;
            }
            AttachmentSource::Module(_) => {}
        }
        if let Some(p) = &self.options.progress {
            p.report(ProgressEvent {
                phase: Phase::Upload { name: name.into() },
                done: size,
                total: Some(size),
            });
        }
        self.client.finish().await?;
        Ok(())
    }

    async fn send_mail(&mut self, email: &Email) -> Result<SendReport, MailError> {
        let started = Instant::now();
        let before = self.client.stats();
        let ctx = Contexts {
            pdp: self.options.pdp_cid,
            ssl: self.options.ssl_ctx,
        };
        let plan = plan::plan(email, &self.account, ctx)?;
        self.prepare().await?;
        let mut result = Ok(());
        for step in &plan.steps {
            result = self.run(email, step).await;
            if result.is_err() {
                break;
            }
        }
        let sent = match result {
            Ok(()) => self.submit().await,
            Err(e) => Err(e),
        };
        // Uploaded copies are removed whatever happened (§13.2.1 refuses an
        // existing name next time anyway; the delete before each upload
        // covers a removal that failed here).
        for path in &plan.uploaded {
            let _ = self.client.execute(&setup::file_delete(path)).await;
        }
        let line = sent?;
        let after = self.client.stats();
        Ok(SendReport {
            module_result: line,
            bytes_sent: after.bytes_written - before.bytes_written,
            commands: after.commands - before.commands,
            duration: started.elapsed(),
        })
    }

    /// `AT+CSMTPSSEND` and its result.
    async fn submit(&mut self) -> Result<String, MailError> {
        self.client.execute(&cmd::send()).await?;
        let line = match self
            .client
            .deferred(cmd::prefix::CSMTPSSEND, self.options.send_timeout)
            .await
        {
            Ok(line) => line,
            Err(e @ AtError::Timeout { .. }) => {
                // Stop it: its late result must not be taken for the next mail's.
                let _ = self.client.execute(&cmd::stop()).await;
                return Err(e.into());
            }
            Err(e) => return Err(e.into()),
        };
        let code = cmd::result_code(&line).ok_or_else(|| {
            MailError::Modem(AtError::Protocol {
                command: "AT+CSMTPSSEND".into(),
                detail: format!("unreadable result {line:?}"),
            })
        })?;
        codes::SendCode::from_code(code).into_result()?;
        Ok(line.trim().to_owned())
    }
}

#[async_trait]
impl<T: AsyncRead + AsyncWrite + Unpin + Send> MailSender for A76xxMailer<T> {
    fn capabilities(&self) -> &Capabilities {
        &self.caps
    }

    async fn send(&mut self, email: &Email) -> Result<SendReport, MailError> {
        let bearer = self.options.bearer.as_ref();
        validate_send(email, &self.account, bearer, &self.caps)?;
        self.check_options()?;
        self.send_mail(email).await
    }
}

fn no_pop3() -> MailError {
    MailError::unsupported("POP3 on the A76xx family (the A76XX manual has no POP3 commands)")
}

#[async_trait]
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Mailbox for A76xxMailer<T> {
    async fn stat(&mut self) -> Result<MailboxStat, MailError> {
        Err(no_pop3())
    }
    async fn list(&mut self) -> Result<Vec<MessageInfo>, MailError> {
        Err(no_pop3())
    }
    async fn uids(&mut self) -> Result<Vec<MessageUid>, MailError> {
        Err(no_pop3())
    }
    async fn headers(&mut self, _id: u32) -> Result<Message, MailError> {
        Err(no_pop3())
    }
    async fn retrieve(&mut self, _id: u32) -> Result<Message, MailError> {
        Err(no_pop3())
    }
    async fn delete(&mut self, _id: u32) -> Result<(), MailError> {
        Err(no_pop3())
    }
    async fn reset(&mut self) -> Result<(), MailError> {
        Err(no_pop3())
    }
    async fn close(&mut self) -> Result<(), MailError> {
        Err(no_pop3())
    }
}
