//! [`QuectelMailer`]: the send sequence of the manuals, with their recovery
//! advice, remembering what the module already holds.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use cellmail::{
    Attachment, AttachmentSource, Auth, Bearer, Capabilities, CertSource, CipherSuites, Email,
    MailError, MailSender, Phase, Progress, ProgressEvent, SendReport, SmtpAccount, TlsMode,
    TlsVersion, Verify, validate, validate_smtp_account,
};
use cellmail_at::{AtError, Client, Command, DataEnd};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};

use crate::commands::{self as cmd, RecipientType, SslSetting, prefix};
use crate::error::ResultCode;

/// What to do when `+QSMTPPUT` reports a failure (SMTPS note §1.4.3: "resend
/// it; if resending is not successful, deactivate the PDP context and try
/// again"). Only transient failures are retried: a wrong password stays wrong
/// and some servers lock accounts that keep trying.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Tries in all, the first included.
    pub attempts: u32,
    /// Deactivate and reactivate the PDP context before the last try (only
    /// when the mailer manages the bearer).
    pub reactivate_before_last: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 3,
            reactivate_before_last: true,
        }
    }
}

/// Settings of a [`QuectelMailer`] beyond the account.
#[derive(Clone, Debug)]
pub struct QuectelOptions {
    /// Bring the GPRS context up with this APN before sending (`None`: the
    /// application manages the bearer).
    pub bearer: Option<Bearer>,
    /// The SSL context (0-5) used for SMTPS.
    pub ssl_context: u8,
    /// `AT+QSMTPPUT=<timeout>`, 100-48000 seconds.
    pub send_timeout_secs: u32,
    /// `<timeout>` of body and attachment download through the UART, 1-48000 s.
    pub transfer_timeout_secs: u32,
    /// Retries of a failed send.
    pub retry: RetryPolicy,
    /// Progress of body and attachment transfers.
    pub progress: Option<Progress>,
}

impl Default for QuectelOptions {
    fn default() -> Self {
        Self {
            bearer: None,
            ssl_context: 0,
            send_timeout_secs: 300,
            transfer_timeout_secs: 60,
            retry: RetryPolicy::default(),
            progress: None,
        }
    }
}

/// The Quectel GSM capabilities (GSM_SMTP_ATC_V1.1 §2.2, SMTPS note).
pub fn capabilities() -> Capabilities {
    use cellmail::{AttachmentSources, Charset, Limits, Storage, TextEncoding};
    Capabilities {
        family: crate::FAMILY,
        smtp: true,
        pop3: false,
        smtp_tls: vec![TlsMode::None, TlsMode::Implicit, TlsMode::StartTls],
        pop3_tls: vec![],
        tls_verify: true,
        charsets: vec![
            Charset::Ascii,
            Charset::Utf8,
            Charset::Gb2312,
            Charset::Big5,
        ],
        subject_encoding: TextEncoding::Hex,
        body_encoding: TextEncoding::Raw,
        attachment_sources: AttachmentSources {
            memory: true,
            host_file: true,
            module_file: true,
        },
        storages: vec![Storage::Ram, Storage::Ufs, Storage::Sd],
        recipient_names: false,
        body_forbids: vec!["+++"],
        limits: Limits {
            recipients: 20,
            recipients_per_kind: None,
            address: 100,
            name: 100,
            subject_ascii: 100,
            subject_encoded: 200,
            body: 10 * 1024,
            attachments: 10,
            attachment_bytes_serial: 102_400,
            attachment_bytes_total: None,
            attachment_name: 100,
            user: 50,
            password: 50,
            server: 100,
            send_timeout_secs: Some(100..=48_000),
        },
    }
}

/// Sends mail through a Quectel M10/M66/M85/M95.
///
/// ```no_run
/// # async fn run() -> Result<(), cellmail::MailError> {
/// use cellmail::{Auth, Email, MailSender, Secret, ServerAddr, SmtpAccount};
/// use cellmail_at::{Client, ClientConfig};
/// use cellmail_quectel::{QuectelMailer, QuectelOptions};
/// let port = cellmail_at::serial::open("/dev/ttyUSB0", 115_200)?;
/// let client = Client::new(port, ClientConfig::with_decoder(cellmail_quectel::decoder_config()));
/// let account = SmtpAccount {
///     server: ServerAddr::new("smtp.example.com", 25),
///     auth: Auth::Login { user: "meter".into(), password: Secret::new("s3cret") },
///     tls: Default::default(),
/// };
/// let mut mailer = QuectelMailer::new(client, account, QuectelOptions::default());
/// let email = Email::builder().from("meter@example.com", None).to("ops@example.com", None).subject("hi").build()?;
/// mailer.send(&email).await?;
/// # Ok(()) }
/// ```
pub struct QuectelMailer<T> {
    client: Client<T>,
    account: SmtpAccount,
    options: QuectelOptions,
    caps: Capabilities,
    /// The command bytes last accepted per setting: unchanged settings are not sent again.
    configured: HashMap<&'static str, Vec<u8>>,
    bearer_up: bool,
    /// Certificates uploaded to RAM, by their module path.
    uploaded: Vec<String>,
}

impl<T> std::fmt::Debug for QuectelMailer<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QuectelMailer")
            .field("account", &self.account)
            .field("bearer_up", &self.bearer_up)
            .finish_non_exhaustive()
    }
}

fn modem(e: AtError) -> MailError {
    MailError::Modem(e)
}

impl<T: AsyncRead + AsyncWrite + Unpin + Send> QuectelMailer<T> {
    /// A mailer over a client configured with [`decoder_config`](crate::decoder_config).
    pub fn new(client: Client<T>, account: SmtpAccount, options: QuectelOptions) -> Self {
        Self {
            client,
            account,
            options,
            caps: capabilities(),
            configured: HashMap::new(),
            bearer_up: false,
            uploaded: Vec::new(),
        }
    }

    /// The AT client (for probing, URCs, statistics).
    pub fn client(&mut self) -> &mut Client<T> {
        &mut self.client
    }

    /// Gives the client back.
    pub fn into_client(self) -> Client<T> {
        self.client
    }

    /// Forgets what the module holds (after a reboot or `AT+QSMTPCLR`).
    pub fn forget_configuration(&mut self) {
        self.configured.clear();
        self.bearer_up = false;
        self.uploaded.clear();
    }

    /// Sends `command` unless the module already holds exactly this setting.
    async fn configure(&mut self, key: &'static str, command: Command) -> Result<(), MailError> {
        let bytes = command.encode().map_err(AtError::from)?;
        if self.configured.get(key) == Some(&bytes) {
            return Ok(());
        }
        self.client.execute(&command).await.map_err(modem)?;
        self.configured.insert(key, bytes);
        Ok(())
    }

    /// Runs a command whose real result is a deferred `<prefix> <result>`:
    /// negative results become the manual's errors, others are returned.
    async fn deferred(
        &mut self,
        command: &Command,
        prefix: &str,
        wait: Duration,
    ) -> Result<i32, MailError> {
        self.client.execute(command).await.map_err(modem)?;
        self.collect(prefix, wait).await
    }

    async fn collect(&mut self, prefix: &str, wait: Duration) -> Result<i32, MailError> {
        let line = self.client.deferred(prefix, wait).await.map_err(modem)?;
        match cmd::parse_result(&line, prefix) {
            Some(r) if r < 0 => Err(ResultCode::from_code(r).to_mail_error()),
            Some(r) => Ok(r),
            None => Err(MailError::Modem(AtError::Protocol {
                command: prefix.to_owned(),
                detail: format!("unreadable result {line:?}"),
            })),
        }
    }

    /// A reboot loses every setting: notice it from the boot URCs.
    fn notice_reboot(&mut self) {
        if self
            .client
            .take_urcs()
            .iter()
            .any(|u| u == "RDY" || u == "NORMAL POWER DOWN")
        {
            tracing::info!("the module rebooted: configuring it again");
            self.client.forget_deferred();
            self.forget_configuration();
        }
    }

    /// Brings the GPRS context up (SMTPS note §3 step 1).
    pub async fn bearer_up(&mut self) -> Result<(), MailError> {
        let Some(bearer) = self.options.bearer.clone() else {
            return Ok(());
        };
        self.client
            .execute(&cmd::foreground_context(0))
            .await
            .map_err(modem)?;
        let apn = cmd::set_apn(
            &bearer.apn,
            bearer.user.as_deref(),
            bearer.password.as_ref(),
        );
        self.client.execute(&apn).await.map_err(modem)?;
        self.client
            .execute(&cmd::register_app())
            .await
            .map_err(modem)?;
        if let Err(e) = self.client.execute(&cmd::activate()).await {
            return Err(self.explain_activation_failure(e).await);
        }
        self.client.execute(&cmd::local_ip()).await.map_err(modem)?;
        self.bearer_up = true;
        Ok(())
    }

    /// SMTPS note §1.4.1: when AT+QIACT fails, look at attach and registration.
    async fn explain_activation_failure(&mut self, e: AtError) -> MailError {
        if e.is_timeout() {
            return MailError::Modem(e);
        }
        let mut states = Vec::new();
        for query in [cmd::read_attach(), cmd::read_registration()] {
            if let Ok(r) = self.client.execute(&query).await {
                states.extend(r.info);
            }
        }
        MailError::Network {
            detail: format!(
                "the PDP context could not be activated ({e}); module state: {}",
                states.join(", ")
            ),
            vendor: None,
        }
    }

    /// Deactivates the GPRS context (`AT+QIDEACT` → `DEACT OK`).
    pub async fn bearer_down(&mut self) -> Result<(), MailError> {
        self.client
            .execute(&cmd::deactivate())
            .await
            .map_err(modem)?;
        self.bearer_up = false;
        Ok(())
    }

    async fn cert_path(
        &mut self,
        name: &'static str,
        source: &CertSource,
    ) -> Result<String, MailError> {
        match source {
            CertSource::Module(p) => Ok(p.as_str().to_owned()),
            CertSource::Pem(bytes) => {
                let path = format!("RAM:{name}");
                let key: &'static str = match name {
                    "cellmail-ca.pem" => "upload-ca",
                    "cellmail-client.pem" => "upload-cert",
                    _ => "upload-key",
                };
                let mut marker = bytes.clone();
                marker.extend_from_slice(path.as_bytes());
                if self.configured.get(key) != Some(&marker) {
                    let upload = cmd::upload(&path, bytes.len() as u64);
                    self.client.begin(&upload).await.map_err(modem)?;
                    self.client.wait_prompt().await.map_err(modem)?;
                    self.client.write_data(bytes).await.map_err(modem)?;
                    let answer = self.client.finish().await.map_err(modem)?;
                    let expected = (bytes.len() as u64, cmd::upload_checksum(bytes));
                    match cmd::parse_upload(&answer) {
                        Some((size, sum))
                            if size == expected.0 && sum.eq_ignore_ascii_case(&expected.1) => {}
                        other => {
                            return Err(MailError::Modem(AtError::Protocol {
                                command: format!("AT+QFUPL=\"{path}\""),
                                detail: format!(
                                    "the module stored {other:?}, {expected:?} was sent"
                                ),
                            }));
                        }
                    }
                    self.configured.insert(key, marker);
                    self.uploaded.push(path.clone());
                }
                Ok(path)
            }
        }
    }

    /// `AT+QSSLCFG` for the account's TLS settings (SMTPS note §3.2, §3.3).
    async fn configure_tls(&mut self) -> Result<(), MailError> {
        let tls = self.account.tls.clone();
        let style = match tls.mode {
            TlsMode::None => 0,
            TlsMode::Implicit => 1,
            TlsMode::StartTls => 2,
        };
        self.configure("smtpstyle", cmd::ssl_set(&SslSetting::SmtpStyle(style)))
            .await?;
        if style == 0 {
            return Ok(());
        }
        let ctx = self.options.ssl_context;
        let version = match tls.version {
            TlsVersion::Ssl3 => 0,
            TlsVersion::Tls1_0 => 1,
            TlsVersion::Tls1_1 => 2,
            TlsVersion::Tls1_2 => 3,
            TlsVersion::Any => 4,
        };
        self.configure(
            "sslversion",
            cmd::ssl_set(&SslSetting::Version(ctx, version)),
        )
        .await?;
        let suites = match &tls.ciphers {
            CipherSuites::Any => "0XFFFF".to_owned(),
            CipherSuites::Only(names) => names
                .iter()
                .map(|n| cipher_code(n))
                .collect::<Result<Vec<_>, _>>()?
                .join(","),
        };
        self.configure(
            "ciphersuite",
            cmd::ssl_set(&SslSetting::CipherSuite(ctx, suites)),
        )
        .await?;
        let level = match &tls.verify {
            Verify::None => 0,
            Verify::Server { .. } => 1,
            Verify::Mutual { .. } => 2,
        };
        self.configure("seclevel", cmd::ssl_set(&SslSetting::SecLevel(ctx, level)))
            .await?;
        match &tls.verify {
            Verify::None => {}
            Verify::Server { ca } => {
                let ca = self.cert_path("cellmail-ca.pem", ca).await?;
                self.configure("cacert", cmd::ssl_set(&SslSetting::CaCert(ctx, ca)))
                    .await?;
            }
            Verify::Mutual {
                ca,
                client_cert,
                client_key,
            } => {
                let ca = self.cert_path("cellmail-ca.pem", ca).await?;
                self.configure("cacert", cmd::ssl_set(&SslSetting::CaCert(ctx, ca)))
                    .await?;
                let cert = self.cert_path("cellmail-client.pem", client_cert).await?;
                self.configure(
                    "clientcert",
                    cmd::ssl_set(&SslSetting::ClientCert(ctx, cert)),
                )
                .await?;
                let key = self.cert_path("cellmail-client.key", &client_key.0).await?;
                self.configure("clientkey", cmd::ssl_set(&SslSetting::ClientKey(ctx, key)))
                    .await?;
            }
        }
        self.configure(
            "ignorertctime",
            cmd::ssl_set(&SslSetting::IgnoreRtcTime(tls.ignore_module_clock)),
        )
        .await?;
        self.configure("smtpsctxi", cmd::ssl_set(&SslSetting::SmtpsContext(ctx)))
            .await
    }

    /// Server, authentication and sender: kept by the module across mails.
    async fn configure_account(&mut self, email: &Email) -> Result<(), MailError> {
        let account = self.account.clone();
        match &account.auth {
            Auth::None => {
                self.configure("auth", cmd::set_authentication(false))
                    .await?
            }
            Auth::Login { user, password } => {
                self.configure("auth", cmd::set_authentication(true))
                    .await?;
                self.configure("user", cmd::set_user(user)).await?;
                self.configure("password", cmd::set_password(password))
                    .await?;
            }
        }
        let sender = email.sender();
        self.configure("addr", cmd::set_sender_address(sender.address.as_str()))
            .await?;
        self.configure(
            "name",
            cmd::set_sender_name(sender.name.as_deref().unwrap_or("")),
        )
        .await?;
        self.configure(
            "server",
            cmd::set_server(&account.server.host, account.server.port),
        )
        .await
    }

    async fn transfer(
        &mut self,
        phase: Phase,
        mut reader: impl AsyncRead + Unpin,
        total: u64,
    ) -> Result<(), MailError> {
        let mut chunk = vec![0u8; 4096];
        let mut done = 0u64;
        while done < total {
            let want =
                usize::try_from((total - done).min(chunk.len() as u64)).unwrap_or(chunk.len());
            let n = reader.read(&mut chunk[..want]).await?;
            if n == 0 {
                return Err(MailError::Io(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    format!("the attachment ended {} bytes early", total - done),
                )));
            }
            self.client.write_data(&chunk[..n]).await.map_err(modem)?;
            done += n as u64;
            if let Some(progress) = &self.options.progress {
                progress.report(ProgressEvent {
                    phase: phase.clone(),
                    done,
                    total: Some(total),
                });
            }
        }
        Ok(())
    }

    async fn attach(&mut self, attachment: &Attachment) -> Result<(), MailError> {
        let wait = Duration::from_secs(u64::from(self.options.transfer_timeout_secs) + 10);
        match attachment.source() {
            AttachmentSource::Module(path) => {
                self.deferred(
                    &cmd::attach_module_file(&module_file_name(path)),
                    prefix::ATT,
                    wait,
                )
                .await?;
            }
            _ => {
                let size = attachment.size().unwrap_or(0);
                let command =
                    cmd::attach_serial(attachment.name(), size, self.options.transfer_timeout_secs);
                self.client.begin(&command).await.map_err(modem)?;
                self.client.wait_prompt().await.map_err(modem)?;
                let reader = attachment.open().await?;
                let phase = Phase::Attachment {
                    name: attachment.name().to_owned(),
                };
                self.transfer(phase, reader, size).await?;
                self.client.write_escape().await.map_err(modem)?;
                self.client.finish().await.map_err(modem)?;
                self.collect(prefix::ATT, wait).await?;
            }
        }
        Ok(())
    }

    /// Recipients, subject, body and attachments of one mail.
    async fn compose(&mut self, email: &Email) -> Result<(), MailError> {
        let wait = Duration::from_secs(10);
        for r in email.recipients() {
            let add = cmd::add_recipient(RecipientType::from(r.kind), r.address.as_str());
            self.deferred(&add, prefix::DST, wait).await?;
        }
        self.client
            .execute(&cmd::set_subject(email.charset(), email.subject()))
            .await
            .map_err(modem)?;
        let body = email.body().as_bytes();
        let timeout = self.options.transfer_timeout_secs;
        let command = cmd::body(email.charset(), Some(timeout));
        self.client
            .upload(&command, body, DataEnd::Escape)
            .await
            .map_err(modem)?;
        if let Some(progress) = &self.options.progress {
            progress.report(ProgressEvent {
                phase: Phase::Body,
                done: body.len() as u64,
                total: Some(body.len() as u64),
            });
        }
        self.collect(prefix::BODY, Duration::from_secs(u64::from(timeout) + 10))
            .await?;
        for attachment in email.attachments() {
            self.attach(attachment).await?;
        }
        Ok(())
    }

    /// Removes this mail's recipients and attachments; the account settings stay.
    async fn clean_up(&mut self, attachments: bool) {
        let wait = Duration::from_secs(10);
        if let Err(e) = self
            .deferred(&cmd::delete_all_recipients(), prefix::DST, wait)
            .await
        {
            tracing::warn!(error = %e, "could not delete the recipients");
            self.configured.clear();
        }
        if attachments {
            if let Err(e) = self
                .deferred(&cmd::delete_all_attachments(), prefix::DATT, wait)
                .await
            {
                tracing::warn!(error = %e, "could not delete the attachments");
                self.configured.clear();
            }
        }
    }

    /// `AT+QSMTPPUT` with the retry policy.
    async fn put(&mut self) -> Result<String, MailError> {
        let timeout = self.options.send_timeout_secs;
        let policy = self.options.retry;
        let mut attempt = 1;
        loop {
            let result = match self.client.execute(&cmd::send(Some(timeout))).await {
                Ok(_) => self.collect(prefix::PUT, cmd::send_wait(timeout)).await,
                Err(e) => Err(modem(e)),
            };
            match result {
                Ok(_) => return Ok(format!("{} 0", prefix::PUT)),
                Err(e) if attempt < policy.attempts.max(1) && e.is_transient() => {
                    tracing::warn!(error = %e, attempt, "sending failed; trying again");
                    attempt += 1;
                    let last = attempt == policy.attempts;
                    if last && policy.reactivate_before_last && self.options.bearer.is_some() {
                        // A failed bearer_down still leaves the reactivation worth trying.
                        let _ = self.bearer_down().await;
                        self.bearer_up().await?;
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Deletes the certificates uploaded to RAM (`AT+QFDEL`).
    pub async fn delete_uploads(&mut self) -> Result<(), MailError> {
        for path in std::mem::take(&mut self.uploaded) {
            self.client
                .execute(&cmd::delete_file(&path))
                .await
                .map_err(modem)?;
        }
        self.configured.retain(|k, _| !k.starts_with("upload-"));
        Ok(())
    }
}

/// How `AT+QSMTPATT` names a module file: `RAM:x` as the SMTPS note writes
/// it, `/UFS/x` and `/SD/x` as GSM_SMTP_ATC_V1.1 §2.2.9 does.
fn module_file_name(path: &cellmail::ModulePath) -> String {
    match path.storage() {
        cellmail::Storage::Ufs => format!("/UFS/{}", path.name()),
        cellmail::Storage::Sd => format!("/SD/{}", path.name()),
        _ => path.as_str().to_owned(),
    }
}

/// The module's code for an IANA cipher suite name (SMTPS note §2.2.1).
fn cipher_code(name: &str) -> Result<&'static str, MailError> {
    Ok(match name {
        "TLS_RSA_WITH_AES_256_CBC_SHA" => "0X0035",
        "TLS_RSA_WITH_AES_128_CBC_SHA" => "0X002F",
        "TLS_RSA_WITH_RC4_128_SHA" => "0X0005",
        "TLS_RSA_WITH_RC4_128_MD5" => "0X0004",
        "TLS_RSA_WITH_3DES_EDE_CBC_SHA" => "0X000A",
        "TLS_RSA_WITH_AES_256_CBC_SHA256" => "0X003D",
        other => return Err(MailError::unsupported(format!("cipher suite {other}"))),
    })
}

#[async_trait]
impl<T: AsyncRead + AsyncWrite + Unpin + Send> MailSender for QuectelMailer<T> {
    fn capabilities(&self) -> &Capabilities {
        &self.caps
    }

    async fn send(&mut self, email: &Email) -> Result<SendReport, MailError> {
        validate(email, &self.caps)?;
        validate_smtp_account(&self.account, &self.caps)?;
        if !(100..=48_000).contains(&self.options.send_timeout_secs) {
            return Err(MailError::invalid(
                "send_timeout_secs",
                format!(
                    "is {}, the module takes 100 to 48000",
                    self.options.send_timeout_secs
                ),
            ));
        }
        let started = Instant::now();
        let before = self.client.stats();
        self.notice_reboot();
        if self.options.bearer.is_some() && !self.bearer_up {
            self.bearer_up().await?;
        }
        self.configure_tls().await?;
        self.configure_account(email).await?;
        let composed = self.compose(email).await;
        let result = match composed {
            Ok(()) => self.put().await,
            Err(e) => Err(e),
        };
        self.clean_up(!email.attachments().is_empty()).await;
        let module_result = result?;
        let after = self.client.stats();
        Ok(SendReport {
            module_result,
            bytes_sent: after.bytes_written - before.bytes_written,
            commands: after.commands - before.commands,
            duration: started.elapsed(),
        })
    }
}
