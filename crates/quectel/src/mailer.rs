//! [`QuectelMailer`]: the send sequence of the manuals, with their recovery
//! advice, remembering what the module already holds.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use cellmail::{
    Attachment, AttachmentSource, Auth, Bearer, Capabilities, CertSource, CipherSuites, Email,
    MailError, MailSender, Phase, Progress, ProgressEvent, SendReport, SmtpAccount, TlsMode,
    TlsVersion, VendorCode, Verify, validate, validate_smtp_account,
};
use cellmail_at::{AtError, Client, Command, DataEnd, Payload};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};

use crate::commands::{
    self as cmd, AttachmentSize, CipherSuite, RecipientType, SecLevel, SendTimeout, SmtpStyle,
    SslContext, SslSetting, SslVersion, TransferTimeout, prefix,
};
use crate::error::{ResultCode, TransferError};

/// What to do when `+QSMTPPUT` reports a failure (SMTPS note §1.4.3: "please
/// resend it. If resending is not successful, you should deactivate the PDP
/// context by AT+QIDEACT command, and try again"). Which results are resent
/// is [`ResultCode::worth_resending`]: a wrong password stays wrong and some
/// servers lock accounts that keep trying.
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

/// Settings of a [`QuectelMailer`] beyond the account. `send` checks them
/// before writing a byte: out of range is `MailError::Invalid` naming the
/// field.
#[derive(Clone, Debug)]
pub struct QuectelOptions {
    /// Bring the GPRS context up with this APN before sending (`None`: the
    /// application manages the bearer).
    pub bearer: Option<Bearer>,
    /// The SSL context (0-5, SMTPS note §2.2.1) used for SMTPS.
    pub ssl_context: u8,
    /// `AT+QSMTPPUT=<timeout>`: the capabilities' `send_timeout_secs`
    /// (100-48000 seconds, GSM_SMTP_ATC_V1.1 §2.2.13).
    pub send_timeout_secs: u32,
    /// `<timeout>` of body and attachment download through the UART, 1-48000 s
    /// (§2.2.8, §2.2.9).
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
///
/// Storages: `RAM:` files for every module (SMTPS note §1.2 step 5 and §3),
/// UFS (v1.1 §2.2.9, §4.5). `Storage::Sd` is listed because the dialect also
/// drives the M33, the only module v1.1 §2.2.9 allows SD (its `Picture`
/// folder) for; the M10, M66, M85 and M95 have no SD attachments in either
/// manual, and will answer `+QSMTPATT: -12` (`Invalid { field: "attachments" }`).
///
/// From the manuals: 20 recipients (v1.1 §2.2.6), subject 100 ASCII or 200
/// hex characters (§2.2.7), body 10 KB (§2.2.8), user and password 50
/// (§2.2.1, §2.2.2), attachments 0-102400 bytes through the UART (§2.2.9),
/// `AT+QSMTPPUT` timeout 100-48000 s (§2.2.13).
///
/// **Not in the manual**: neither manual gives a maximum length for the
/// sender and recipient addresses, the sender name, the server name or an
/// attachment's file name. The limits below (100 characters each) are
/// conservative host-side choices, checked before sending so a mail is
/// refused here rather than by the module. The 10 attachments are the
/// `<fileindex>` range of `AT+QSMTPDATT` (§2.2.10).
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
            // §2.2.6: "The maximum number of the recipients is 20."
            recipients: 20,
            recipients_per_kind: None,
            // Not in the manual (host-side choices, see above).
            address: 100,
            name: 100,
            subject_ascii: cmd::TITLE_ASCII_MAX,
            subject_encoded: cmd::TITLE_HEX_MAX,
            // §2.2.8 note 2: "The maximum size of the email body is 10 Kbytes."
            body: 10 * 1024,
            // No count in the manual; `<fileindex>` of AT+QSMTPDATT is 1-10 (§2.2.10).
            attachments: 10,
            // §2.2.9: `<filesz>` 0-102400.
            attachment_bytes_serial: u64::from(AttachmentSize::MAX),
            attachment_bytes_total: None,
            // Not in the manual (host-side choice, see above).
            attachment_name: 100,
            // §2.2.1, §2.2.2: "The maximum size of the parameter is 50."
            user: 50,
            password: 50,
            // Not in the manual (host-side choice, see above).
            server: 100,
            send_timeout_secs: Some(SendTimeout::MIN..=SendTimeout::MAX),
        },
    }
}

/// File names the module reads from its own file system instead of the UART
/// (GSM_SMTP_ATC_V1.1 §2.2.9 and §4.5: `/UFS/`, on the M33 `/SD/` and
/// `/RAM/`; SMTPS note §3: `RAM:`; `UFS:` and `SD:` as the SMTPS note's form
/// of the same storages). An attachment sent through the UART must not be
/// named like that.
const MODULE_FILE_PREFIXES: [&str; 6] = ["RAM:", "UFS:", "SD:", "/RAM/", "/UFS/", "/SD/"];

/// The bearer as the mailer last saw it (only when it manages it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum BearerState {
    Down,
    Up,
    /// Lost while up (`+QSMTPPUT: -8`, SMTPS note §4; or `+PDP DEACT`, a
    /// field report not in the manuals): deactivate, then bring up.
    Lost,
}

/// What the module may still hold of an earlier mail: set before the first
/// `AT+QSMTPDST=1,...` / `AT+QSMTPATT`, cleared once the delete succeeded.
/// While set, the next send deletes first, so a mail never goes to an
/// earlier mail's recipients or with its attachments.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Dirty {
    recipients: bool,
    attachments: bool,
}

/// What a mail needs, checked before the first byte is written.
struct Plan {
    send_timeout: SendTimeout,
    transfer_timeout: TransferTimeout,
    ssl_context: SslContext,
    cipher: CipherSuite,
    subject: Command,
    /// `<filesz>` per attachment through the UART (`None` for module files).
    sizes: Vec<Option<AttachmentSize>>,
}

/// Why one `AT+QSMTPPUT` failed.
enum PutFailure {
    /// `+QSMTPPUT: <result>` other than 0.
    Module(ResultCode),
    /// The exchange itself failed.
    Other(MailError),
}

impl PutFailure {
    fn worth_resending(&self) -> bool {
        match self {
            PutFailure::Module(code) => code.worth_resending(),
            PutFailure::Other(e) => e.is_transient(),
        }
    }

    fn into_mail_error(self) -> MailError {
        match self {
            PutFailure::Module(code) => code.to_mail_error(),
            PutFailure::Other(e) => e,
        }
    }
}

/// Sends mail through a Quectel M10/M66/M85/M95.
///
/// The module keeps the account settings between mails, so the mailer sends
/// each setting once and again only when it changes; after each mail it
/// deletes that mail's recipients and attachments (not `AT+QSMTPCLR`, which
/// would clear the account too, §2.2.11). When done with the module, call
/// [`close`](Self::close): it clears the module and deletes the files the
/// mailer uploaded, as the SMTPS note's last step does.
///
/// If the clean-up fails the mailer clears the module (`AT+QSMTPCLR`) and
/// configures it again for the next mail; if that fails too, or a send is
/// dropped (cancelled) mid-way, the next send deletes the recipients and
/// attachments first (clearing the module if that fails again), and a `+QSMTPPUT`
/// result the dropped send still gets is never taken for the next mail's.
///
/// URCs stay with the application (`client().take_urcs()`,
/// `client().subscribe()`): the mailer watches them through a subscription
/// of its own. It forgets every setting on `RDY` or `NORMAL POWER DOWN` and
/// brings a bearer it manages up again after `+QSMTPPUT: -8` (SMTPS note §4)
/// or `+PDP DEACT` (a field report: the URC Quectel modules send when the
/// network releases the context; neither manual here describes it).
///
/// A length-delimited upload (`AT+QFUPL`) cut short leaves the module
/// waiting for the bytes still owed, and the client refuses to write
/// anything (`AtError::Protocol`, "still in data mode") rather than send
/// made-up data. It recovers by itself once the module ends the upload with a
/// final result of its own, or reboots (`RDY`). Otherwise the application
/// reboots the module, or waits out the module's input timeout, then calls
/// `client().forget_data_mode()`.
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
/// mailer.close().await?;
/// # Ok(()) }
/// ```
pub struct QuectelMailer<T> {
    client: Client<T>,
    /// The mailer's own view of the URCs; the client's queue stays the application's.
    urcs: cellmail_at::UrcWatch,
    account: SmtpAccount,
    options: QuectelOptions,
    caps: Capabilities,
    /// The command bytes last accepted per setting: unchanged settings are not sent again.
    configured: HashMap<&'static str, Vec<u8>>,
    bearer: BearerState,
    /// Certificates uploaded to RAM, by their module path.
    uploaded: Vec<String>,
    /// Recipients or attachments of an earlier mail the module may still hold.
    dirty: Dirty,
    /// `AT+QSMTPPUT` was answered `OK` and its `+QSMTPPUT: <result>` has not
    /// been read: still set at the next send when a send was dropped.
    put_pending: bool,
    /// A reboot URC was seen during the current send: the mail is lost.
    reboot_seen: bool,
}

impl<T> std::fmt::Debug for QuectelMailer<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QuectelMailer")
            .field("account", &self.account)
            .field("bearer", &self.bearer)
            .finish_non_exhaustive()
    }
}

fn modem(e: AtError) -> MailError {
    MailError::Modem(e)
}

/// `Invalid` for an option outside its range.
fn out_of_range(field: &str, value: i64, min: i64, max: i64) -> MailError {
    MailError::invalid(
        field,
        format!("is {value}, the module takes {min} to {max}"),
    )
}

fn ssl_version(v: TlsVersion) -> SslVersion {
    match v {
        TlsVersion::Ssl3 => SslVersion::Ssl3,
        TlsVersion::Tls1_0 => SslVersion::Tls1_0,
        TlsVersion::Tls1_1 => SslVersion::Tls1_1,
        TlsVersion::Tls1_2 => SslVersion::Tls1_2,
        TlsVersion::Any => SslVersion::All,
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin + Send> QuectelMailer<T> {
    /// A mailer over a client configured with [`decoder_config`](crate::decoder_config).
    pub fn new(client: Client<T>, account: SmtpAccount, options: QuectelOptions) -> Self {
        Self {
            urcs: client.watch_urcs(),
            client,
            account,
            options,
            caps: capabilities(),
            configured: HashMap::new(),
            bearer: BearerState::Down,
            uploaded: Vec::new(),
            dirty: Dirty::default(),
            put_pending: false,
            reboot_seen: false,
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

    /// Forgets the settings the module holds (after an `AT+QSMTPCLR` or
    /// `AT+QSSLCFG` of the application's own): the next mail sends every
    /// setting and uploads the certificates again. The bearer is left as it is.
    pub fn forget_configuration(&mut self) {
        self.configured.clear();
    }

    /// The module rebooted: settings, bearer, RAM files, recipients and
    /// attachments are gone, and no result it promised will come.
    fn rebooted(&mut self) {
        self.client.forget_deferred();
        // A reboot ends any data mode a payload cut short left open.
        self.client.forget_data_mode();
        self.configured.clear();
        self.uploaded.clear();
        self.bearer = BearerState::Down;
        self.dirty = Dirty::default();
        self.put_pending = false;
        self.reboot_seen = true;
    }

    fn manages_bearer(&self) -> bool {
        self.options.bearer.is_some()
    }

    /// Reads what the module already sent, so URCs that came while no
    /// command was in flight are seen before the next mail.
    async fn catch_up(&mut self) -> Result<(), MailError> {
        self.client.idle(Duration::ZERO).await.map_err(modem)?;
        self.notice_urcs();
        Ok(())
    }

    /// Acts on the URCs seen since the last look, leaving them queued for
    /// the application.
    fn notice_urcs(&mut self) {
        let seen = self.urcs.seen();
        if seen.missed > 0 {
            // A reboot may be among them: send every setting again. Not
            // known to be a reboot, though: a send under way is not taken
            // for lost (`reboot_seen` stays as it is).
            tracing::warn!(
                missed = seen.missed,
                "URCs were missed; configuring the module again"
            );
            self.configured.clear();
            if self.bearer == BearerState::Up {
                self.bearer = BearerState::Lost;
            }
        }
        for urc in &seen.lines {
            self.notice(urc);
        }
    }

    fn notice(&mut self, urc: &str) {
        if urc == "RDY" || urc == "NORMAL POWER DOWN" {
            // A reboot loses every setting, the bearer and the RAM files.
            tracing::info!(urc, "the module rebooted: configuring it again");
            self.rebooted();
        } else if urc.starts_with("+PDP DEACT") && self.bearer == BearerState::Up {
            // Field report, not in either manual: Quectel modules send
            // `+PDP DEACT` when the network releases the context.
            tracing::info!("the PDP context was deactivated: bringing it up before the next send");
            self.bearer = BearerState::Lost;
        }
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

    /// Brings the GPRS context up (SMTPS note §1.2 steps 1-3, §3 step 1).
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
        )
        .map_err(|e| MailError::invalid("bearer.password", e.to_string()))?;
        self.client.execute(&apn).await.map_err(modem)?;
        self.client
            .execute(&cmd::register_app())
            .await
            .map_err(modem)?;
        match self.client.execute(&cmd::activate()).await {
            Ok(_) => {
                self.client.execute(&cmd::local_ip()).await.map_err(modem)?;
            }
            Err(e) => self.recover_activation(e).await?,
        }
        self.bearer = BearerState::Up;
        Ok(())
    }

    /// Whether `AT+QILOCIP` answers an address: SMTPS note §1.4.2 item 2,
    /// "if it can acquire a valid IP address, it means that the PDP context
    /// is activated successfully".
    async fn has_local_ip(&mut self) -> bool {
        match self.client.execute(&cmd::local_ip()).await {
            Ok(r) => r.info.iter().any(|l| {
                l.trim()
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| !ip.is_unspecified())
            }),
            Err(_) => false,
        }
    }

    /// When AT+QIACT fails. First `AT+QILOCIP` (§1.4.2 item 2): an address
    /// means the context is up. **Field assumption, not in the manuals**: a
    /// module whose context is active already (the application restarted,
    /// the module did not) refuses `AT+QIACT`; neither manual says what
    /// `AT+QIACT` answers then, so the mailer does not rely on the answer
    /// and asks for the address. Without one, SMTPS note §1.4.1: look at
    /// attach (attaching with `AT+CGATT=1` when detached, then activating
    /// once more, then `AT+QILOCIP` as §1.2 step 3) and registration. On
    /// success the context is up and its address was queried.
    async fn recover_activation(&mut self, e: AtError) -> Result<(), MailError> {
        if e.is_timeout() {
            return Err(MailError::Modem(e));
        }
        if self.has_local_ip().await {
            tracing::info!(error = %e, "AT+QIACT failed, but the context has an address: it is up");
            return Ok(());
        }
        let mut last = e;
        let mut states = Vec::new();
        let attached = match self.client.execute(&cmd::read_attach()).await {
            Ok(r) => {
                let value = cmd::first_field(&r, "+CGATT:").and_then(|f| f.as_int());
                states.extend(r.info);
                value
            }
            Err(_) => None,
        };
        if attached == Some(0) {
            match self.client.execute(&cmd::attach()).await {
                Ok(_) => match self.client.execute(&cmd::activate()).await {
                    Ok(_) => {
                        self.client.execute(&cmd::local_ip()).await.map_err(modem)?;
                        return Ok(());
                    }
                    Err(again) => {
                        states.push(format!("attached, then {again}"));
                        last = again;
                    }
                },
                Err(refused) => states.push(refused.to_string()),
            }
        }
        if let Ok(r) = self.client.execute(&cmd::read_registration()).await {
            states.extend(r.info);
        }
        Err(MailError::Network {
            detail: format!(
                "the PDP context could not be activated ({last}); module state: {}",
                states.join(", ")
            ),
            vendor: VendorCode::of_cme(&last),
        })
    }

    /// Deactivates the GPRS context (`AT+QIDEACT` → `DEACT OK`).
    pub async fn bearer_down(&mut self) -> Result<(), MailError> {
        self.client
            .execute(&cmd::deactivate())
            .await
            .map_err(modem)?;
        self.bearer = BearerState::Down;
        Ok(())
    }

    /// SMTPS note §1.4.3: deactivate the context (`AT+QIDEACT`), then
    /// activate it again (§1.4.1).
    async fn restart_bearer(&mut self) -> Result<(), MailError> {
        if let Err(e) = self.bearer_down().await {
            // The context may be gone already; activating is still worth it.
            tracing::warn!(error = %e, "AT+QIDEACT failed");
            self.bearer = BearerState::Down;
        }
        self.bearer_up().await
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
                    let size = u32::try_from(bytes.len()).map_err(|_| {
                        MailError::invalid(
                            "tls",
                            format!("{name} is {} bytes long, too long to upload", bytes.len()),
                        )
                    })?;
                    // Exactly `size` bytes: a cancelled upload leaves the line
                    // in data mode, which the client then reports instead of
                    // writing into the file.
                    let upload =
                        cmd::upload(&path, size).expect_payload(Payload::Length(size.into()));
                    self.client.begin(&upload).await.map_err(modem)?;
                    self.client.wait_prompt().await.map_err(modem)?;
                    self.client.write_data(bytes).await.map_err(modem)?;
                    let answer = self.client.finish().await.map_err(modem)?;
                    if !self.uploaded.contains(&path) {
                        self.uploaded.push(path.clone());
                    }
                    // The size must be what was sent. The checksum is only
                    // compared: the manuals show `+QFUPL: <size>,<checksum>`
                    // results but not how the module computes the checksum,
                    // so [`cmd::upload_checksum`] is unverified and a
                    // mismatch is logged, not an error.
                    match cmd::parse_upload(&answer) {
                        Some((stored, sum)) if stored == u64::from(size) => {
                            let ours = cmd::upload_checksum(bytes);
                            if !sum.eq_ignore_ascii_case(&ours) {
                                tracing::warn!(
                                    file = %path,
                                    module = %sum,
                                    host = %ours,
                                    "AT+QFUPL: the module's checksum differs from the host's \
                                     (unverified) computation; the size matches"
                                );
                            }
                        }
                        other => {
                            return Err(MailError::Modem(AtError::Protocol {
                                command: format!("AT+QFUPL=\"{path}\""),
                                detail: format!(
                                    "the module stored {other:?}, {size} bytes were sent"
                                ),
                            }));
                        }
                    }
                    self.configured.insert(key, marker);
                }
                Ok(path)
            }
        }
    }

    /// `AT+QSSLCFG` for the account's TLS settings (SMTPS note §2.2.1, §3.2, §3.3).
    async fn configure_tls(&mut self, plan: &Plan) -> Result<(), MailError> {
        let tls = self.account.tls.clone();
        let style = match tls.mode {
            TlsMode::None => SmtpStyle::Plain,
            TlsMode::Implicit => SmtpStyle::Ssl,
            TlsMode::StartTls => SmtpStyle::StartTls,
        };
        self.configure("smtpstyle", cmd::ssl_set(&SslSetting::SmtpStyle(style)))
            .await?;
        if style == SmtpStyle::Plain {
            return Ok(());
        }
        let ctx = plan.ssl_context;
        self.configure(
            "sslversion",
            cmd::ssl_set(&SslSetting::Version(ctx, ssl_version(tls.version))),
        )
        .await?;
        self.configure(
            "ciphersuite",
            cmd::ssl_set(&SslSetting::CipherSuite(ctx, plan.cipher)),
        )
        .await?;
        let level = match &tls.verify {
            Verify::None => SecLevel::None,
            Verify::Server { .. } => SecLevel::Server,
            Verify::Mutual { .. } => SecLevel::ServerAndClient,
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

    /// The length in `+QSMTPBODY: <len>` / `+QSMTPATT: <len>` must be what
    /// was sent (§2.2.8, §2.2.9: "the length of the input ... data").
    /// `received` is the non-negative result [`collect`](Self::collect) returned.
    fn check_length(what: String, sent: u64, received: i32) -> Result<(), MailError> {
        let received = u64::from(received.unsigned_abs());
        if received == sent {
            Ok(())
        } else {
            Err(TransferError::Truncated {
                what,
                sent,
                received,
            }
            .into_mail_error())
        }
    }

    async fn attach(
        &mut self,
        index: usize,
        attachment: &Attachment,
        size: Option<AttachmentSize>,
        timeout: TransferTimeout,
    ) -> Result<(), MailError> {
        let wait = Duration::from_secs(u64::from(timeout.get()) + 10);
        match (attachment.source(), size) {
            (AttachmentSource::Module(path), _) => {
                self.dirty.attachments = true;
                self.deferred(
                    &cmd::attach_module_file(&module_file_name(path)),
                    prefix::ATT,
                    wait,
                )
                .await?;
            }
            (_, Some(size)) => {
                // Opened before the module is asked to take data: a source
                // that cannot be opened never puts the module in data mode.
                let reader = attachment.open().await?;
                // Ended by `+++`: if the call is cancelled mid-transfer the
                // client escapes before its next command.
                let command = cmd::attach_serial(attachment.name(), size, timeout)
                    .expect_payload(Payload::Escape);
                self.dirty.attachments = true;
                self.client.begin(&command).await.map_err(modem)?;
                self.client.wait_prompt().await.map_err(modem)?;
                let phase = Phase::Attachment {
                    name: attachment.name().to_owned(),
                };
                let total = u64::from(size.get());
                if let Err(e) = self.transfer(phase, reader, total).await {
                    // The module is in data mode (after CONNECT): end it
                    // with +++ before anything else is written.
                    self.leave_data_mode(prefix::ATT).await;
                    return Err(e);
                }
                self.client.write_escape().await.map_err(modem)?;
                self.client.finish().await.map_err(modem)?;
                let stored = self.collect(prefix::ATT, wait).await?;
                Self::check_length(format!("attachments[{index}]"), total, stored)?;
            }
            (_, None) => {
                return Err(MailError::invalid(
                    format!("attachments[{index}]"),
                    "has no size to announce",
                ));
            }
        }
        Ok(())
    }

    /// A transfer through the UART failed after `CONNECT` (the source failed,
    /// or ended early): `+++` ends data mode (GSM_SMTP_ATC_V1.1 §2.2.9), then
    /// the module's `+QSMTPATT: <len|err>` for the bytes it got is read (and
    /// only logged: the transfer error is what the caller gets; the clean-up
    /// deletes the attachment). Best effort: on a failure here, the next
    /// command resynchronises first.
    async fn leave_data_mode(&mut self, result: &str) {
        if let Err(e) = self.client.write_escape().await {
            tracing::warn!(error = %e, "could not end data mode with +++");
            return;
        }
        if let Err(e) = self.client.finish().await {
            tracing::warn!(error = %e, "no final result after +++");
            return;
        }
        match self.client.deferred(result, Duration::from_secs(10)).await {
            Ok(line) => tracing::info!(result = %line, "the module's answer to the cut transfer"),
            // Timed out: the client drops the result should it still come.
            Err(e) => tracing::warn!(error = %e, "no result for the cut transfer"),
        }
    }

    /// Recipients, subject, body and attachments of one mail.
    async fn compose(&mut self, email: &Email, plan: &Plan) -> Result<(), MailError> {
        let wait = Duration::from_secs(10);
        self.dirty.recipients = !email.recipients().is_empty() || self.dirty.recipients;
        for r in email.recipients() {
            let add = cmd::add_recipient(RecipientType::from(r.kind), r.address.as_str());
            self.deferred(&add, prefix::DST, wait).await?;
        }
        self.client.execute(&plan.subject).await.map_err(modem)?;
        // The body in the mail's charset: GB2312 and BIG5 as their own bytes (§2.2.8).
        let body = email.body_bytes();
        let timeout = plan.transfer_timeout;
        let command = cmd::body(email.charset(), Some(timeout));
        self.client
            .upload(&command, &body, DataEnd::Escape)
            .await
            .map_err(modem)?;
        if let Some(progress) = &self.options.progress {
            progress.report(ProgressEvent {
                phase: Phase::Body,
                done: body.len() as u64,
                total: Some(body.len() as u64),
            });
        }
        let stored = self
            .collect(
                prefix::BODY,
                Duration::from_secs(u64::from(timeout.get()) + 10),
            )
            .await?;
        Self::check_length("body".into(), body.len() as u64, stored)?;
        for (i, (attachment, size)) in email.attachments().iter().zip(&plan.sizes).enumerate() {
            self.attach(i, attachment, *size, timeout).await?;
        }
        Ok(())
    }

    /// Removes the recipients and attachments the module may hold of a mail
    /// (`AT+QSMTPDST=0`, `AT+QSMTPDATT`, §2.2.6, §2.2.10); the account
    /// settings stay. Each is known clean only once its delete succeeded;
    /// the first failure is returned.
    async fn clean_up(&mut self) -> Result<(), MailError> {
        let wait = Duration::from_secs(10);
        let mut first = None;
        if self.dirty.recipients {
            match self
                .deferred(&cmd::delete_all_recipients(), prefix::DST, wait)
                .await
            {
                Ok(_) => self.dirty.recipients = false,
                Err(e) => first = Some(e),
            }
        }
        if self.dirty.attachments {
            match self
                .deferred(&cmd::delete_all_attachments(), prefix::DATT, wait)
                .await
            {
                Ok(_) => self.dirty.attachments = false,
                Err(e) => {
                    first.get_or_insert(e);
                }
            }
        }
        first.map_or(Ok(()), Err)
    }

    /// [`clean_up`](Self::clean_up), and when a delete fails,
    /// `AT+QSMTPCLR` (§2.2.11: it clears recipients and attachments, and the
    /// account too): then every cached setting is forgotten, so the next
    /// configuration sends them all again. `Ok(true)` when it cleared.
    async fn clean_up_or_clear(&mut self) -> Result<bool, MailError> {
        let Err(e) = self.clean_up().await else {
            return Ok(false);
        };
        tracing::warn!(error = %e, "deleting recipients or attachments failed: clearing the module (AT+QSMTPCLR)");
        match self.client.execute(&cmd::clear()).await {
            Ok(_) => {
                self.dirty = Dirty::default();
                self.configured.clear();
                Ok(true)
            }
            Err(clear) => {
                tracing::warn!(error = %clear, "AT+QSMTPCLR failed too");
                Err(e)
            }
        }
    }

    /// One `AT+QSMTPPUT=<timeout>` and its `+QSMTPPUT: <result>`.
    async fn put_once(&mut self, timeout: SendTimeout) -> Result<String, PutFailure> {
        let other = |e: AtError| PutFailure::Other(modem(e));
        self.client
            .execute(&cmd::send(Some(timeout)))
            .await
            .map_err(other)?;
        // Until the result is read: a send dropped now leaves it to come.
        self.put_pending = true;
        let line = self
            .client
            .deferred(prefix::PUT, cmd::send_wait(timeout))
            .await;
        // Read, or timed out (then the client drops it should it still come).
        self.put_pending = false;
        let line = line.map_err(other)?;
        match cmd::parse_result(&line, prefix::PUT) {
            Some(0) => Ok(format!("{} 0", prefix::PUT)),
            // §1.4.3: "If <result> is not 0, it indicates the sending is failed".
            Some(r) => Err(PutFailure::Module(ResultCode::from_code(r))),
            None => Err(PutFailure::Other(MailError::Modem(AtError::Protocol {
                command: prefix::PUT.to_owned(),
                detail: format!("unreadable result {line:?}"),
            }))),
        }
    }

    /// `AT+QSMTPPUT` with the retry policy (SMTPS note §1.4.3): resend
    /// without configuring again; before the last try deactivate and
    /// reactivate the context; a context known lost is brought back first.
    async fn put(&mut self, timeout: SendTimeout) -> Result<String, MailError> {
        let policy = self.options.retry;
        let attempts = policy.attempts.max(1);
        let mut attempt = 1;
        loop {
            let failure = match self.put_once(timeout).await {
                Ok(line) => return Ok(line),
                Err(failure) => failure,
            };
            self.notice_urcs();
            // A reboot while sending (RDY) lost the mail itself: nothing to resend.
            let mail_lost = self.reboot_seen;
            if attempt >= attempts || !failure.worth_resending() || mail_lost {
                return Err(failure.into_mail_error());
            }
            if self.manages_bearer() && self.bearer == BearerState::Up {
                let context_gone = match failure {
                    // §4: "GPRS/CSD context is deactivated".
                    PutFailure::Module(ResultCode::ContextDeactivated) => true,
                    // §1.4.2: after -4, no IP from AT+QILOCIP means the
                    // context is deactivated.
                    PutFailure::Module(ResultCode::DnsFailed) => {
                        self.client.execute(&cmd::local_ip()).await.is_err()
                    }
                    _ => false,
                };
                if context_gone {
                    self.bearer = BearerState::Lost;
                }
            }
            let error = failure.into_mail_error();
            tracing::warn!(error = %error, attempt, "sending failed; trying again");
            attempt += 1;
            let last = attempt == attempts;
            if self.manages_bearer()
                && (self.bearer != BearerState::Up || (last && policy.reactivate_before_last))
            {
                self.restart_bearer().await?;
            }
        }
    }

    /// Ends the mailer's use of the module as the SMTPS note's last step does
    /// (§1.2 step 7, §3.1-§3.3 step 6): `AT+QSMTPCLR` clears the account,
    /// recipients, subject, body and attachments (§2.2.11), `AT+QFDEL`
    /// deletes the certificates the mailer uploaded to RAM, and, when the
    /// mailer manages the bearer, `AT+QIDEACT` deactivates it. Every cached
    /// setting is forgotten, so a later `send` configures the module again.
    ///
    /// Every step is tried; the first failure is returned.
    pub async fn close(&mut self) -> Result<(), MailError> {
        let mut first: Option<MailError> = None;
        if let Err(e) = self.catch_up().await {
            first.get_or_insert(e);
        }
        match self.client.execute(&cmd::clear()).await {
            // §2.2.11: recipients and attachments are cleared too.
            Ok(_) => self.dirty = Dirty::default(),
            Err(e) => {
                first.get_or_insert(modem(e));
            }
        }
        for path in std::mem::take(&mut self.uploaded) {
            if let Err(e) = self.client.execute(&cmd::delete_file(&path)).await {
                first.get_or_insert(modem(e));
            }
        }
        if self.manages_bearer() && self.bearer != BearerState::Down {
            if let Err(e) = self.bearer_down().await {
                first.get_or_insert(e);
            }
        }
        // AT+QSMTPCLR cleared the account; the SSL settings are sent again too.
        self.configured.clear();
        first.map_or(Ok(()), Err)
    }

    /// Checks the options and everything the mail needs against the
    /// manuals' ranges, before any byte is written.
    fn plan(&self, email: &Email) -> Result<Plan, MailError> {
        let o = &self.options;
        if let Some(bearer) = &o.bearer {
            cmd::set_apn(
                &bearer.apn,
                bearer.user.as_deref(),
                bearer.password.as_ref(),
            )
            .map_err(|e| MailError::invalid("bearer.password", e.to_string()))?;
        }
        let (lo, hi) = self
            .caps
            .limits
            .send_timeout_secs
            .as_ref()
            .map_or((SendTimeout::MIN, SendTimeout::MAX), |r| {
                (*r.start(), *r.end())
            });
        let send_range = |v: u32| {
            out_of_range(
                "send_timeout_secs",
                i64::from(v),
                i64::from(lo),
                i64::from(hi),
            )
        };
        if !(lo..=hi).contains(&o.send_timeout_secs) {
            return Err(send_range(o.send_timeout_secs));
        }
        let send_timeout =
            SendTimeout::new(o.send_timeout_secs).map_err(|_| send_range(o.send_timeout_secs))?;
        let transfer_timeout = TransferTimeout::new(o.transfer_timeout_secs).map_err(|_| {
            out_of_range(
                "transfer_timeout_secs",
                i64::from(o.transfer_timeout_secs),
                i64::from(TransferTimeout::MIN),
                i64::from(TransferTimeout::MAX),
            )
        })?;
        let ssl_context = SslContext::new(o.ssl_context).map_err(|_| {
            out_of_range(
                "ssl_context",
                i64::from(o.ssl_context),
                i64::from(SslContext::MIN),
                i64::from(SslContext::MAX),
            )
        })?;
        let cipher = match &self.account.tls.ciphers {
            CipherSuites::Any => CipherSuite::All,
            CipherSuites::Only(names) => match names.as_slice() {
                [] => {
                    return Err(MailError::invalid("tls.ciphers", "names no cipher suite"));
                }
                [name] => CipherSuite::from_iana_name(name).ok_or_else(|| {
                    MailError::unsupported(format!(
                        "cipher suite {name} (SMTPS note Table 2 lists the module's)"
                    ))
                })?,
                _ => {
                    return Err(MailError::unsupported(
                        "more than one cipher suite: the SMTPS note (§2.2.1) does not say how \
                         a list is written; name one, or allow any",
                    ));
                }
            },
        };
        let subject = cmd::set_subject(email.charset(), &email.subject_bytes())
            .map_err(|e| MailError::invalid("subject", e.to_string()))?;
        let mut sizes = Vec::with_capacity(email.attachments().len());
        for (i, a) in email.attachments().iter().enumerate() {
            if !a.goes_over_serial() {
                sizes.push(None);
                continue;
            }
            let field = format!("attachments[{i}].name");
            let name = a.name();
            if let Some(p) = MODULE_FILE_PREFIXES.iter().find(|p| {
                name.get(..p.len())
                    .is_some_and(|h| h.eq_ignore_ascii_case(p))
            }) {
                return Err(MailError::invalid(
                    field,
                    format!(
                        "{name:?} starts with {p:?}: the module would attach its own file \
                         of that name instead of these bytes (GSM_SMTP_ATC_V1.1 §2.2.9)"
                    ),
                ));
            }
            let field = format!("attachments[{i}]");
            let Some(size) = a.size() else {
                return Err(MailError::invalid(field, "has no size to announce"));
            };
            let size = u32::try_from(size)
                .ok()
                .and_then(|s| AttachmentSize::new(s).ok())
                .ok_or_else(|| {
                    MailError::invalid(
                        field,
                        format!(
                            "is {size} bytes, the module takes {} to {} through the UART",
                            AttachmentSize::MIN,
                            AttachmentSize::MAX
                        ),
                    )
                })?;
            sizes.push(Some(size));
        }
        Ok(Plan {
            send_timeout,
            transfer_timeout,
            ssl_context,
            cipher,
            subject,
            sizes,
        })
    }
}

/// How `AT+QSMTPATT` names a module file: `RAM:x` as the SMTPS note writes
/// it (§3), `/UFS/x` as GSM_SMTP_ATC_V1.1 §2.2.9 and §4.5 do, and `/SD/x`
/// (the SD card's `Picture` folder) as §2.2.9 allows on the M33 only.
fn module_file_name(path: &cellmail::ModulePath) -> String {
    match path.storage() {
        cellmail::Storage::Ufs => format!("/UFS/{}", path.name()),
        cellmail::Storage::Sd => format!("/SD/{}", path.name()),
        _ => path.as_str().to_owned(),
    }
}

#[async_trait]
impl<T: AsyncRead + AsyncWrite + Unpin + Send> MailSender for QuectelMailer<T> {
    fn capabilities(&self) -> &Capabilities {
        &self.caps
    }

    async fn send(&mut self, email: &Email) -> Result<SendReport, MailError> {
        validate(email, &self.caps)?;
        validate_smtp_account(&self.account, &self.caps)?;
        let plan = self.plan(email)?;
        let started = Instant::now();
        let before = self.client.stats();
        self.catch_up().await?;
        self.reboot_seen = false;
        if self.put_pending {
            // A send was dropped while it waited for its +QSMTPPUT: that
            // result is not this mail's.
            self.client.abandon_deferred(prefix::PUT);
            self.put_pending = false;
        }
        match self.bearer {
            _ if !self.manages_bearer() => {}
            BearerState::Up => {}
            BearerState::Down => self.bearer_up().await?,
            BearerState::Lost => self.restart_bearer().await?,
        }
        self.configure_tls(&plan).await?;
        self.configure_account(email).await?;
        // An earlier mail's recipients or attachments left on the module
        // (its clean-up failed, or its send was dropped) are deleted first.
        if self.dirty != Dirty::default() {
            tracing::info!("deleting an earlier mail's recipients and attachments first");
            if self.clean_up_or_clear().await? {
                // AT+QSMTPCLR cleared the account: configured again.
                self.configure_tls(&plan).await?;
                self.configure_account(email).await?;
            }
        }
        let composed = self.compose(email, &plan).await;
        let result = match composed {
            Ok(()) => self.put(plan.send_timeout).await,
            Err(e) => Err(e),
        };
        if let Err(e) = self.clean_up_or_clear().await {
            // Left dirty: the next send deletes them before anything else.
            tracing::warn!(error = %e, "could not delete this mail's recipients or attachments");
        }
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
