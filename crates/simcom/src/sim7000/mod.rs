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
    ProgressEvent, RecipientKind, SendReport, SmtpAccount, VendorCode, validate,
    validate_pop3_account, validate_smtp_account,
};
use cellmail_at::{Arrived, AtError, Client, Command, DecoderConfig, Payload, Prompt, fields};
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
/// The SIM7000 e-mail application note is the specification; SIMCom's
/// SIM800/SIM808/SIM900 e-mail manuals define the same command set (DESIGN.md,
/// "which modules speak the SIM7000 command set"). Other SIMCom LTE modules
/// (SIM7070, SIM7080...) are not claimed: no manual here covers them. Public
/// reports say some SIM7000G firmware answers `+SMTPSEND: 65` where a SIM808
/// succeeds with the same commands: the probe says which module it is.
pub struct Sim7000;

/// The models this dialect claims (see [`Sim7000`]).
pub const MODELS: [&str; 4] = ["SIM7000", "SIM800", "SIM808", "SIM900"];

impl Dialect for Sim7000 {
    const NAME: &'static str = FAMILY;

    fn drives(info: &ModuleInfo) -> bool {
        let model = info.model.to_ascii_uppercase();
        let model = model.trim_start_matches("SIMCOM_");
        info.manufacturer.to_ascii_uppercase().contains("SIMCOM")
            && MODELS.iter().any(|m| model.starts_with(m))
    }
}

/// The SIM7000 capabilities.
///
/// From the manual: one attachment per mail (`AT+SMTPFILE` names one file,
/// §3.2.9), streamed through `AT+SMTPFT` so any size passes (§3.2.11);
/// subject and body in hex when the charset is not ASCII (§3.2.7, §3.2.8,
/// §3.2.12); the server timeout 10-120 s (§3.2.2); no TLS.
///
/// **Not in the manual**: the manual gives no numbers for the lengths; the
/// module reports them in the test forms (`AT+SMTPSUB=?` → `+SMTPSUB:
/// <subjectLength>`, `AT+SMTPRCPT=?`, `AT+SMTPSRV=?`...). The recipient
/// counts, address, name, subject, body, file name, user, password and
/// server lengths below are conservative host-side choices, checked before
/// sending so a mail is refused here rather than by the module.
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
            // Not in the manual (host-side choices, see above).
            recipients: 30,
            recipients_per_kind: Some(10),
            address: 64,
            name: 64,
            subject_ascii: 256,
            subject_encoded: 256,
            body: 4096,
            // §3.2.9: one <fileName>.
            attachments: 1,
            // §3.2.11: streamed in chunks, no total in the manual.
            attachment_bytes_serial: u64::MAX,
            attachment_bytes_total: None,
            // Not in the manual (host-side choices, see above).
            attachment_name: 64,
            user: 64,
            password: 64,
            server: 64,
            // §3.2.2: AT+EMAILTO 10-120.
            send_timeout_secs: Some(
                u32::from(*commands::TIMEOUT_RANGE.start())
                    ..=u32::from(*commands::TIMEOUT_RANGE.end()),
            ),
        },
    }
}

/// Settings of a [`Sim7000Mailer`].
#[derive(Clone, Debug)]
pub struct Sim7000Options {
    /// The bearer profile (`AT+EMAILCID`).
    pub cid: u8,
    /// The server response timeout (`AT+EMAILTO`), 10-120 s (§3.2.2); any
    /// other value is refused before a byte is sent.
    pub server_timeout_secs: u8,
    /// Open the bearer with this APN first (`AT+SAPBR`, §4.1); `None`: already
    /// open. A `+SAPBR <cid>: DEACT` URC (the network released it) makes the
    /// next call open it again.
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
/// When the module ends a POP3 session itself (`+POP3OUT: <code>` instead of
/// an answer, §3.2.15-§3.2.21) the call fails with that code's error and the
/// next call logs in again. A server's negative answer (`+POP3NUM: 0`,
/// `+POP3DEL: 0`, `+POP3REST: 0`...) fails the call and keeps the session
/// open. After an AT-level failure in a session (`ERROR`, no answer in time,
/// an error mid-read), or when a call was dropped mid-way, the mailer leaves
/// the session with `AT+POP3OUT`: the only command the module takes while it
/// holds unread data (§3.2.19) and the only way out the manual has; like
/// [`Mailbox::close`] it commits the deletions marked so far. A send has no
/// way to be stopped (§3.2.10); its late result is reported as a URC, never
/// as the next mail's.
///
/// URCs stay with the application (`client().take_urcs()`,
/// `client().subscribe()`): the mailer watches them through a subscription
/// of its own (`RDY`, `+SAPBR <cid>: DEACT`, `+POP3OUT`). Off the client's
/// queue it takes only the lines of its own exchanges (`+SMTPFT: 1,`,
/// `+POP3READ: 3,`, `+POP3OUT:`, `+POP3REST:`), at the start of each call,
/// so an old one is never taken for the call's own.
///
/// A length-delimited payload cut short (`AT+SMTPBODY`/`AT+SMTPFT` data, or
/// its equivalent) leaves the module waiting for the bytes still owed, and the
/// client refuses to write anything (`AtError::Protocol`, "still in data
/// mode") rather than send made-up data. It recovers by itself once the
/// module ends the data with a final result of its own, or reboots (`RDY`).
/// Otherwise the application reboots the module, or waits out the module's
/// input timeout, then calls `client().forget_data_mode()`.
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
    /// The mailer's own view of the URCs; the client's queue stays the application's.
    urcs: cellmail_at::UrcWatch,
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
    /// A POP3 exchange is under way; still set at the next call when the
    /// previous one was dropped (cancelled) mid-way: the module may hold unread
    /// data (§3.2.19), so the session is ended first.
    pop3_busy: bool,
    /// `AT+SMTPSEND` was answered `OK` and its `+SMTPSEND: <code>` has not
    /// come yet; still set at the next call when the send was dropped.
    smtp_awaiting: bool,
    /// A `+SMTPSEND` given up on (timeout, failed transfer, cancelled call)
    /// is still to come: §3.2.10 "If send successfully or not, return:
    /// `+SMTPSEND: <code>`". It will arrive as a URC.
    smtp_late: bool,
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

/// The code of a result line such as `+SMTPSEND: 61`, or a protocol error
/// naming the line: a line without a readable code is not a code the module
/// sent.
fn code_of(line: &str, prefix: &str) -> Result<i64, MailError> {
    fields::int(line.trim(), prefix)
        .ok_or_else(|| protocol(prefix, format!("unreadable result {line:?}")))
}

impl<T: AsyncRead + AsyncWrite + Unpin + Send> Sim7000Mailer<T> {
    /// A mailer over a client configured with [`decoder_config`].
    pub fn new(client: Client<T>, account: SmtpAccount, options: Sim7000Options) -> Self {
        Self {
            urcs: client.watch_urcs(),
            client,
            account,
            options,
            caps: capabilities(),
            configured: HashMap::new(),
            stale_recipients: vec![RecipientKind::To, RecipientKind::Cc, RecipientKind::Bcc],
            stale_attachment: true,
            pop3_open: false,
            pop3_busy: false,
            smtp_awaiting: false,
            smtp_late: false,
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

    /// Forgets the settings the module holds: every one is sent again.
    fn forget_settings(&mut self) {
        self.configured.clear();
        self.stale_recipients = vec![RecipientKind::To, RecipientKind::Cc, RecipientKind::Bcc];
        self.stale_attachment = true;
    }

    fn forget(&mut self) {
        self.forget_settings();
        self.pop3_open = false;
    }

    /// Looks at the URCs that came since the last look (through the mailer's
    /// subscription: the client's queue stays the application's): a reboot
    /// (`RDY`) forgets every setting; `+SAPBR <cid>: DEACT` (§4.1: "wireless
    /// bearer is released by network") forgets the bearer; a `+POP3OUT:
    /// <code>` means the module left the POP3 session (§3.2.19: unread data is
    /// not kept forever).
    fn notice_urcs(&mut self) {
        let seen = self.urcs.seen();
        if seen.missed > 0 {
            // A reboot or a released bearer may be among them: send every
            // setting again and query the bearer again.
            tracing::warn!(
                missed = seen.missed,
                "URCs were missed; configuring the module again"
            );
            self.forget_settings();
        }
        let urcs = seen.lines;
        if urcs.iter().any(|u| u == "RDY" || u == "NORMAL POWER DOWN") {
            tracing::info!("the module rebooted: configuring it again");
            self.client.forget_deferred();
            // A reboot ends any data mode a payload cut short left open.
            self.client.forget_data_mode();
            self.forget();
            self.pop3_busy = false;
            self.smtp_awaiting = false;
            self.smtp_late = false;
        }
        if urcs.iter().any(|u| u.starts_with(prefix::SMTPSEND)) {
            self.smtp_late = false;
        }
        let deact = format!("+SAPBR {}: DEACT", self.options.cid);
        if urcs.iter().any(|u| u.trim() == deact) && self.configured.remove("bearer").is_some() {
            tracing::info!("the network released the bearer: opening it again");
        }
        if urcs.iter().any(|u| u.starts_with(prefix::POP3OUT)) {
            self.pop3_open = false;
        }
    }

    /// Refuses options the module would refuse, before any byte is written.
    fn check_options(&self) -> Result<(), MailError> {
        let t = self.options.server_timeout_secs;
        if commands::TIMEOUT_RANGE.contains(&t) {
            Ok(())
        } else {
            Err(MailError::invalid(
                "server_timeout_secs",
                format!(
                    "is {t}; AT+EMAILTO takes {}-{} seconds (SIM7000 §3.2.2)",
                    commands::TIMEOUT_RANGE.start(),
                    commands::TIMEOUT_RANGE.end()
                ),
            ))
        }
    }

    /// Takes the lines of the mailer's own exchanges that the client filed as
    /// URCs and no wait took (e.g. a `+SMTPFT: 1,<max>` of a transfer that
    /// failed, a `+POP3OUT` of a session that ended while idle) off the
    /// client's queue, so a later wait does not take an old one for its own.
    /// The application's URCs stay queued.
    async fn drop_own_lines(&mut self) {
        for p in [
            prefix::SMTPFT_READY,
            prefix::POP3READ_MORE,
            prefix::POP3OUT,
            prefix::POP3REST,
        ] {
            while self.client.wait_urc(p, Duration::ZERO).await.is_ok() {}
        }
    }

    /// The start of every call: notice URCs, then clean up after a call that
    /// was dropped mid-way.
    async fn recover(&mut self) {
        // What the module said while no call was running is still unread.
        let _ = self.client.idle(Duration::ZERO).await;
        self.drop_own_lines().await;
        self.notice_urcs();
        self.give_up_smtp_result();
        if self.pop3_busy {
            for p in [
                prefix::POP3IN,
                prefix::POP3NUM,
                prefix::POP3LIST,
                prefix::POP3UIDL,
                prefix::POP3CMD,
                prefix::POP3DEL,
                prefix::POP3RSET,
            ] {
                self.client.abandon_deferred(p);
            }
            self.end_pop3().await;
        }
    }

    /// A send ended (or was dropped) before its `+SMTPSEND`: the manual has no
    /// way to stop it, and the result will still come (§3.2.10); it is then
    /// reported as a URC rather than taken for the next mail's.
    fn give_up_smtp_result(&mut self) {
        if self.smtp_awaiting {
            self.client.abandon_deferred(prefix::SMTPSEND);
            self.smtp_awaiting = false;
            self.smtp_late = true;
        }
    }

    /// Ends the POP3 session after an error or a cancelled call, best effort:
    /// §3.2.19 "Other AT commands (but AT+POP3OUT) do not be executed until the
    /// data of response are read completely", so `AT+POP3OUT` it is. Deletion
    /// marks are committed by it: the manual has no other way out.
    async fn end_pop3(&mut self) {
        self.pop3_busy = false;
        if !self.pop3_open {
            return;
        }
        self.pop3_open = false;
        tracing::info!("ending the POP3 session after an error");
        if self.client.execute(&commands::pop3_logout()).await.is_ok()
            && self
                .client
                .deferred(prefix::POP3OUT, self.pop3_wait())
                .await
                .is_ok()
            && !self.smtp_late
        {
            // Nothing of the session comes after its +POP3OUT: answers given
            // up on (kept by the client as "late") will not come and must not
            // take the place of the next ones. (With a +SMTPSEND still due
            // they are kept: the client forgets all expectations or none.)
            self.client.forget_deferred();
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
        let refused = match self.client.execute(&commands::bearer_open(cid)).await {
            Ok(_) => None,
            // Refused: most often it is open already (an earlier run of the
            // application opened it); the query below decides.
            Err(e @ (AtError::Error { .. } | AtError::Cme { .. })) => Some(e),
            Err(e) => return Err(modem(e)),
        };
        let r = self
            .client
            .execute(&commands::bearer_query(cid))
            .await
            .map_err(modem)?;
        let up = r
            .fields("+SAPBR:")
            .is_some_and(|f| f.get(1).and_then(|s| s.as_int()) == Some(1));
        if !up {
            let why = refused
                .as_ref()
                .map(|e| format!(" ({e})"))
                .unwrap_or_default();
            return Err(MailError::Network {
                detail: format!("the bearer did not open{why}: {:?}", r.info),
                // The module's +CME ERROR code, when it refused with one.
                vendor: refused.as_ref().and_then(VendorCode::of_cme),
            });
        }
        self.configured.insert("bearer", Vec::new());
        Ok(())
    }

    async fn common_settings(&mut self) -> Result<(), MailError> {
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
        // §3.2.7/§3.2.8: when the charset is not ASCII, subject and body go as
        // hex, of their bytes in the mail's charset.
        let hex = email.charset() != Charset::Ascii;
        let subject = if hex {
            common::set_subject_hex(&email.subject_bytes())
        } else {
            common::set_subject(email.subject(), false)
        };
        self.client.execute(&subject).await.map_err(modem)?;
        let body = if hex {
            common::hex(&email.body_bytes()).into_bytes()
        } else {
            email.body_bytes().into_owned()
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

    /// The attachment through `AT+SMTPFT` (§3.2.11) in chunks of at most what
    /// the module grants, read from its source as it goes (never whole in
    /// memory). Returns the `+SMTPSEND` line, if it came during the transfer.
    ///
    /// Each chunk is read from the source *before* it is offered with
    /// `AT+SMTPFT=<n>`: once the module confirms `+SMTPFT: 2,<cnfLength>` it
    /// takes exactly that many bytes, and the manual has no way to leave that
    /// data mode early. A source that fails (or ends early) therefore stops the
    /// transfer between chunks; `AT+SMTPFT=0` is then not sent, since it would
    /// send a truncated file, and the module's eventual `+SMTPSEND` is dropped
    /// as a URC.
    async fn stream_attachment(
        &mut self,
        email: &Email,
        reader: Option<Box<dyn AsyncRead + Unpin + Send>>,
        wait: Duration,
    ) -> Result<Option<String>, MailError> {
        let (Some(attachment), Some(mut reader)) = (email.attachments().first(), reader) else {
            return Ok(None);
        };
        let total = attachment.size().unwrap_or(0);
        let mut sent = 0u64;
        // Bytes read from the source and not yet taken by the module.
        let mut chunk: Vec<u8> = Vec::new();
        loop {
            let line = match self
                .client
                .wait_any(&[prefix::SMTPSEND], &[prefix::SMTPFT_READY], wait)
                .await
                .map_err(modem)?
            {
                Arrived::Deferred(line) => return Ok(Some(line)),
                Arrived::Urc(line) => line,
            };
            if sent == total {
                // §3.2.11: "If <reqLength> is 0, it indicates that transferring
                // the attachment have finished: OK".
                return match self.client.execute(&commands::transfer_done()).await {
                    Ok(_) => Ok(None),
                    Err(e) => self.transfer_failed(e).await,
                };
            }
            let max = commands::smtpft_length(&line).unwrap_or(0);
            if max == 0 {
                return Err(protocol(
                    "AT+SMTPFT",
                    format!("the module grants no bytes: {line:?}"),
                ));
            }
            let want = usize::try_from((total - sent).min(u64::from(max))).unwrap_or(0);
            if let Err(e) = fill(&mut reader, &mut chunk, want).await {
                return Err(MailError::Io(e));
            }
            let request = u16::try_from(want).unwrap_or(max);
            self.client
                .begin(&commands::transfer(request))
                .await
                .map_err(modem)?;
            // §3.2.11: the grant, or ERROR, or "+SMTPSEND: <code>" when some
            // error occurs.
            let grant = match self.client.wait_prompt().await {
                Ok(Prompt::Line(l)) => l,
                Ok(other) => {
                    let _ = self.client.finish().await;
                    return Err(protocol(
                        "AT+SMTPFT",
                        format!("unexpected prompt {other:?}"),
                    ));
                }
                Err(e) => return self.transfer_failed(e).await,
            };
            // The module now takes exactly the bytes it granted: declared as
            // granted, a call cancelled mid-chunk (or a grant that cannot be
            // honoured) leaves the client reporting the bytes still owed,
            // never resynchronising with `AT` into the attachment.
            let Some(granted) = commands::smtpft_length(&grant) else {
                // How much it takes is unknown: the payload stays undeclared
                // and the client refuses to write until the module ends it.
                return Err(protocol("AT+SMTPFT", format!("unreadable grant {grant:?}")));
            };
            self.client
                .declare_payload(Payload::Length(u64::from(granted)))
                .map_err(modem)?;
            if granted == 0 {
                // Nothing to send: the command ends as it should.
                let _ = self.client.finish().await;
                return Err(protocol(
                    "AT+SMTPFT",
                    format!("the module grants no bytes: {grant:?}"),
                ));
            }
            let granted = usize::from(granted);
            if granted > chunk.len() {
                return Err(protocol(
                    "AT+SMTPFT",
                    format!(
                        "the module grants {granted} bytes, more than the {} asked for",
                        chunk.len()
                    ),
                ));
            }
            self.client
                .write_data(&chunk[..granted])
                .await
                .map_err(modem)?;
            if let Err(e) = self.client.finish().await {
                return self.transfer_failed(e).await;
            }
            chunk.drain(..granted);
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

    /// `AT+SMTPFT` failed (ERROR, or no grant in time): §3.2.11 "If some error
    /// occur: `+SMTPSEND: <code>`", so a `+SMTPSEND` that came instead of (or
    /// right after) the answer is the result; otherwise the AT error is.
    async fn transfer_failed(&mut self, e: AtError) -> Result<Option<String>, MailError> {
        match self
            .client
            .wait_any(&[prefix::SMTPSEND], &[], Duration::from_secs(2))
            .await
        {
            Ok(Arrived::Deferred(line)) => Ok(Some(line)),
            _ => Err(modem(e)),
        }
    }

    async fn send_mail(&mut self, email: &Email) -> Result<SendReport, MailError> {
        let started = Instant::now();
        let before = self.client.stats();
        // The attachment's source is opened before any byte is written: a
        // host file that cannot be opened must not leave the module in a
        // send session (§3.2.10: once AT+SMTPSEND is answered OK, the manual
        // has no way to stop it).
        let reader = match email.attachments().first() {
            Some(a) => Some(a.open().await?),
            None => None,
        };
        self.smtp_settings(email).await?;
        self.compose(email).await?;
        self.client
            .execute(&commands::send())
            .await
            .map_err(modem)?;
        self.smtp_awaiting = true;
        let wait = Duration::from_secs(u64::from(self.options.server_timeout_secs) * 4 + 30);
        let line = match self.stream_attachment(email, reader, wait).await? {
            Some(line) => line,
            None => self
                .client
                .deferred(prefix::SMTPSEND, wait)
                .await
                .map_err(modem)?,
        };
        self.smtp_awaiting = false;
        SendCode::from_code(code_of(&line, prefix::SMTPSEND)?).into_result()?;
        let after = self.client.stats();
        Ok(SendReport {
            module_result: line,
            bytes_sent: after.bytes_written - before.bytes_written,
            commands: after.commands - before.commands,
            duration: started.elapsed(),
        })
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

    /// The module left the session with `+POP3OUT: <code>` instead of an answer.
    fn session_ended(&mut self, code: Pop3Code) -> MailError {
        self.pop3_open = false;
        self.pop3_busy = false;
        code.session_ended()
    }

    /// The module sent `line` (`+POP3OUT: ...`) instead of an answer: the
    /// session is over; a line without a readable code is a protocol error.
    fn session_ended_by(&mut self, line: &str) -> MailError {
        match commands::session_end(line) {
            Some(code) => self.session_ended(code),
            None => {
                self.pop3_open = false;
                self.pop3_busy = false;
                protocol(prefix::POP3OUT, format!("unreadable result {line:?}"))
            }
        }
    }

    /// Runs a POP3 command and returns its result line. A `+POP3OUT: <code>`
    /// instead of the result (§3.2.15-§3.2.21, "if some error occur") ends the
    /// session with that code's error; no result in time ends it too.
    async fn pop3(&mut self, command: &Command, result: &str) -> Result<String, MailError> {
        self.pop3_busy = true;
        self.client.execute(command).await.map_err(modem)?;
        match self
            .client
            .wait_any(&[result], &[prefix::POP3OUT], self.pop3_wait())
            .await
        {
            Ok(Arrived::Deferred(line)) => {
                self.pop3_busy = false;
                Ok(line)
            }
            Ok(Arrived::Urc(line)) => {
                // The +POP3OUT came instead of the answer: the session is
                // over and the answer will never come. Not expected any more,
                // it cannot be taken for a later command's answer.
                self.client.forget_deferred_prefix(result);
                Err(self.session_ended_by(&line))
            }
            Err(e) => {
                self.end_pop3().await;
                Err(modem(e))
            }
        }
    }

    /// Logs in unless a session is open. Called by every POP3 call after
    /// [`recover`](Self::recover), which notices a reboot even mid-session.
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
        Pop3Code::from_code(code_of(&line, prefix::POP3IN)?).into_result()?;
        self.pop3_open = true;
        Ok(())
    }

    /// The start of every POP3 call.
    async fn pop3_start(&mut self) -> Result<(), MailError> {
        self.check_options()?;
        self.recover().await;
        self.pop3_session().await
    }

    /// Reads a multi-line answer with `AT+POP3READ` until the module says it is
    /// complete. After an error mid-read the module still holds data and takes
    /// no command but `AT+POP3OUT` (§3.2.19): the session is ended.
    async fn read_all(&mut self, phase: Option<Phase>) -> Result<Vec<u8>, MailError> {
        self.pop3_busy = true;
        match self.read_chunks(phase).await {
            Ok(data) => {
                self.pop3_busy = false;
                Ok(data)
            }
            Err(e) => {
                self.end_pop3().await;
                Err(e)
            }
        }
    }

    async fn read_chunks(&mut self, phase: Option<Phase>) -> Result<Vec<u8>, MailError> {
        let mut data = Vec::new();
        loop {
            let r = self
                .client
                .execute(&commands::read(commands::POP3READ_MAX))
                .await
                .map_err(modem)?;
            let done = match commands::read_answer(&r.info) {
                // §3.2.19: <cnfLength> is at most the <reqLength> asked for
                // (1460); the raw block is exactly that long.
                Some(commands::ReadAnswer::Data { done, length })
                    if length <= usize::from(commands::POP3READ_MAX) && length == r.raw.len() =>
                {
                    done
                }
                Some(commands::ReadAnswer::Data { length, .. }) => {
                    return Err(protocol(
                        "AT+POP3READ",
                        format!(
                            "the module announced {length} bytes (at most {} were asked for) \
                             and sent {}",
                            commands::POP3READ_MAX,
                            r.raw.len()
                        ),
                    ));
                }
                Some(commands::ReadAnswer::SessionEnded(code)) => {
                    return Err(self.session_ended(code));
                }
                None => {
                    return Err(protocol(
                        "AT+POP3READ",
                        format!("no +POP3READ: 1 or 2 answer in {:?}", r.info),
                    ));
                }
            };
            data.extend_from_slice(&r.raw);
            if let (Some(phase), Some(progress)) = (&phase, &self.options.progress) {
                progress.report(ProgressEvent {
                    phase: phase.clone(),
                    done: data.len() as u64,
                    total: None,
                });
            }
            if done {
                return Ok(data);
            }
            if r.raw.is_empty() && !commands::data_arrived(&r.info) {
                // §3.2.19: "If <cnfLength> is less than <reqLength>, you should
                // wait for a URC +POP3READ: 3,<dataLength>" (or the session ends).
                match self
                    .client
                    .wait_any(
                        &[],
                        &[prefix::POP3READ_MORE, prefix::POP3OUT],
                        self.pop3_wait(),
                    )
                    .await
                    .map_err(modem)?
                {
                    Arrived::Urc(l) if l.starts_with(prefix::POP3OUT) => {
                        return Err(self.session_ended_by(&l));
                    }
                    _ => {}
                }
            }
        }
    }

    async fn multi_line(
        &mut self,
        request: Pop3Request,
        phase: Option<Phase>,
    ) -> Result<Vec<u8>, MailError> {
        self.pop3_start().await?;
        let line = self
            .pop3(&commands::pop3_command(request), prefix::POP3CMD)
            .await?;
        match commands::pop3_answer(&line, prefix::POP3CMD) {
            commands::Pop3Answer::Positive(_) => self.read_all(phase).await,
            _ => Err(codes::negative_answer(&line, &format!("{request:?}"))),
        }
    }

    /// The size of one message: `AT+POP3LIST=<n>` (§3.2.16).
    pub async fn message_size(&mut self, id: u32) -> Result<u64, MailError> {
        self.pop3_start().await?;
        let line = self
            .pop3(&commands::pop3_list(id), prefix::POP3LIST)
            .await?;
        match commands::pop3_answer(&line, prefix::POP3LIST) {
            commands::Pop3Answer::Positive(f) => f
                .get(1)
                .and_then(fields::Field::as_int)
                .and_then(|n| u64::try_from(n).ok())
                .ok_or_else(|| protocol("AT+POP3LIST", format!("unreadable answer {line:?}"))),
            _ => Err(codes::negative_answer(&line, &format!("LIST {id}"))),
        }
    }

    /// The unique id of one message: `AT+POP3UIDL=<n>` (§3.2.17).
    pub async fn message_uid(&mut self, id: u32) -> Result<String, MailError> {
        self.pop3_start().await?;
        let line = self.pop3(&commands::pop3_uid(id), prefix::POP3UIDL).await?;
        match commands::pop3_answer(&line, prefix::POP3UIDL) {
            commands::Pop3Answer::Positive(f) => f
                .get(1)
                .map(|uid| uid.as_str().to_owned())
                .ok_or_else(|| protocol("AT+POP3UIDL", format!("unreadable answer {line:?}"))),
            _ => Err(codes::negative_answer(&line, &format!("UIDL {id}"))),
        }
    }
}

/// Reads from `reader` until `chunk` holds `want` bytes.
async fn fill<R: AsyncRead + Unpin + ?Sized>(
    reader: &mut R,
    chunk: &mut Vec<u8>,
    want: usize,
) -> std::io::Result<()> {
    let mut buf = [0u8; 1460];
    while chunk.len() < want {
        let room = (want - chunk.len()).min(buf.len());
        let n = reader.read(&mut buf[..room]).await?;
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the attachment ended before its size",
            ));
        }
        chunk.extend_from_slice(&buf[..n]);
    }
    Ok(())
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
        self.check_options()?;
        self.recover().await;
        let result = self.send_mail(email).await;
        // Not reached when the call is dropped: the next call does it.
        self.give_up_smtp_result();
        result
    }
}

#[async_trait]
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Mailbox for Sim7000Mailer<T> {
    async fn stat(&mut self) -> Result<MailboxStat, MailError> {
        self.pop3_start().await?;
        let line = self.pop3(&commands::pop3_count(), prefix::POP3NUM).await?;
        match commands::pop3_answer(&line, prefix::POP3NUM) {
            commands::Pop3Answer::Positive(f) => {
                let int = |i: usize| f.get(i).and_then(fields::Field::as_int);
                let count = int(0).and_then(|c| u32::try_from(c).ok());
                let size = int(1).and_then(|s| u64::try_from(s).ok());
                match (count, size) {
                    (Some(count), Some(total_size)) => Ok(MailboxStat { count, total_size }),
                    _ => Err(protocol(
                        "AT+POP3NUM",
                        format!("unreadable answer {line:?}"),
                    )),
                }
            }
            _ => Err(codes::negative_answer(&line, "STAT")),
        }
    }

    async fn list(&mut self) -> Result<Vec<MessageInfo>, MailError> {
        let data = self.multi_line(Pop3Request::List, None).await?;
        listing(&data)
            .iter()
            .map(|l| {
                let row = l.split_once(' ').and_then(|(id, size)| {
                    Some(MessageInfo {
                        id: id.parse().ok()?,
                        size: size.trim().parse().ok()?,
                    })
                });
                row.ok_or_else(|| protocol("AT+POP3CMD=1", format!("unreadable LIST row {l:?}")))
            })
            .collect()
    }

    async fn uids(&mut self) -> Result<Vec<MessageUid>, MailError> {
        let data = self.multi_line(Pop3Request::Uidl, None).await?;
        listing(&data)
            .iter()
            .map(|l| {
                let row = l.split_once(' ').and_then(|(id, uid)| {
                    let uid = uid.trim();
                    Some(MessageUid {
                        id: id.parse().ok()?,
                        uid: (!uid.is_empty()).then(|| uid.to_owned())?,
                    })
                });
                row.ok_or_else(|| protocol("AT+POP3CMD=2", format!("unreadable UIDL row {l:?}")))
            })
            .collect()
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
        self.pop3_start().await?;
        let line = self
            .pop3(&commands::pop3_delete(id), prefix::POP3DEL)
            .await?;
        match commands::pop3_answer(&line, prefix::POP3DEL) {
            commands::Pop3Answer::Positive(_) => Ok(()),
            _ => Err(codes::negative_answer(&line, &format!("DELE {id}"))),
        }
    }

    async fn reset(&mut self) -> Result<(), MailError> {
        self.pop3_start().await?;
        self.pop3_busy = true;
        self.client
            .execute(&commands::pop3_reset())
            .await
            .map_err(modem)?;
        // §3.2.21: +POP3RSET: 1, or (so spelt) +POP3REST: 0, or +POP3OUT: <code>.
        let line = match self
            .client
            .wait_any(
                &[prefix::POP3RSET],
                &[prefix::POP3REST, prefix::POP3OUT],
                self.pop3_wait(),
            )
            .await
        {
            Ok(Arrived::Deferred(l)) => l,
            Ok(Arrived::Urc(l)) => {
                // +POP3REST / +POP3OUT replace the answer: the +POP3RSET will
                // never come (see `pop3`).
                self.client.forget_deferred_prefix(prefix::POP3RSET);
                if l.starts_with(prefix::POP3OUT) {
                    return Err(self.session_ended_by(&l));
                }
                l
            }
            Err(e) => {
                self.end_pop3().await;
                return Err(modem(e));
            }
        };
        self.pop3_busy = false;
        match commands::pop3_answer(&line, prefix::POP3RSET) {
            commands::Pop3Answer::Positive(_) => Ok(()),
            _ => Err(codes::negative_answer(&line, "RSET")),
        }
    }

    async fn close(&mut self) -> Result<(), MailError> {
        self.recover().await;
        if !self.pop3_open {
            return Ok(());
        }
        self.pop3_open = false;
        let line = self.pop3(&commands::pop3_logout(), prefix::POP3OUT).await?;
        self.pop3_busy = false;
        Pop3Code::from_code(code_of(&line, prefix::POP3OUT)?).into_result()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sim800_family_is_claimed_and_no_module_without_a_manual() {
        let info = |model: &str| ModuleInfo {
            manufacturer: "SIMCOM_Ltd".into(),
            model: model.into(),
            revision: String::new(),
        };
        for model in [
            "SIM7000G",
            "SIMCOM_SIM7000E",
            "SIM800L",
            "SIM808",
            "SIM900A",
        ] {
            assert!(Sim7000::drives(&info(model)), "{model}");
        }
        for model in ["SIM7070G", "SIM7080G", "SIM5360E", "M95"] {
            assert!(!Sim7000::drives(&info(model)), "{model}");
        }
    }
}
