//! What one mail puts on the module, and takes off again: the settings
//! (TLS with its certificates, account), recipients, subject, body and
//! attachments (GSM_SMTP_ATC_V1.1 §2.2.6-§2.2.10), and the clean-up.

use std::time::Duration;

use cellmail::{Attachment, CertSource, Email, MailError, Phase, ProgressEvent};
use cellmail_at::{AtError, DataEnd, Payload};
use cellmail_session::{Exchange, Left, Residue, Then};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};

use super::QuectelMailer;
use crate::commands::{self as cmd, RecipientType, SmtpStyle, SslSetting, TransferTimeout, prefix};
use crate::error::TransferError;
use crate::plan::{self, Plan, Staging, TlsStep};
use crate::policy::{self, BodyStored};

/// The settings-cache key of `AT+QSSLCFG="smtpstyle"` (as `plan::tls` names it).
const STYLE: &str = "smtpstyle";

/// The recipients of every kind: Quectel deletes them all at once.
const RECIPIENTS: [Residue; 3] = [
    Residue::Recipients(cellmail::RecipientKind::To),
    Residue::Recipients(cellmail::RecipientKind::Cc),
    Residue::Recipients(cellmail::RecipientKind::Bcc),
];

impl<T: AsyncRead + AsyncWrite + Unpin + Send> QuectelMailer<T> {
    /// Where the module finds a certificate: its own file, or one uploaded
    /// to `RAM:` (again only when its bytes or path changed).
    async fn cert_path(
        &mut self,
        file: &'static str,
        source: &CertSource,
    ) -> Result<String, MailError> {
        let bytes = match source {
            CertSource::Module(p) => return Ok(p.as_str().to_owned()),
            CertSource::Pem(bytes) => bytes,
        };
        let path = format!("RAM:{file}");
        let key = plan::upload_key(file);
        let mut marker = bytes.clone();
        marker.extend_from_slice(path.as_bytes());
        if self.driver.state().settings.holds(key, &marker) {
            return Ok(path);
        }
        let size = u32::try_from(bytes.len()).map_err(|_| {
            MailError::invalid(
                "tls",
                format!("{file} is {} bytes long, too long to upload", bytes.len()),
            )
        })?;
        let phase = Phase::Upload {
            name: file.to_owned(),
        };
        let sum = self
            .upload_ram_file("tls", &path, bytes.as_slice(), size, phase)
            .await?;
        let uploads = &mut self.driver.state_mut().uploads;
        if !uploads.contains(&path) {
            uploads.push(path.clone());
        }
        // The checksum is only compared: the manuals show `+QFUPL:
        // <size>,<checksum>` results but not how the module computes it, so
        // [`cmd::upload_checksum`] is unverified and a mismatch is logged.
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
        self.driver.state_mut().settings.hold(key, marker);
        Ok(path)
    }

    /// For a plain mail, what `smtpstyle` the module holds, asked once
    /// (`AT+QSSLCFG="smtpstyle"`) until it reboots or is cleared: a style an
    /// earlier user set is undone with `smtpstyle` 0; a module that never
    /// had TLS configured, or has no SSL firmware (`ERROR`), gets no write.
    async fn plain_style(&mut self) -> Result<(), MailError> {
        let reset = cmd::ssl_set(&SslSetting::SmtpStyle(SmtpStyle::Plain));
        let bytes = reset.encode().map_err(cellmail_at::AtError::from)?;
        if self.driver.state().settings.holds(STYLE, &bytes) {
            return Ok(());
        }
        let held = match self
            .driver
            .client()
            .execute(&cmd::ssl_query(STYLE, None))
            .await
        {
            Ok(r) => cmd::parse_ssl_value(&r),
            Err(AtError::Error { .. } | AtError::Cme { .. }) => None,
            Err(e) => return Err(e.into()),
        };
        if policy::plain_needs_style_reset(held.as_deref()) {
            self.driver.run(&Exchange::setting(STYLE, reset)).await?;
        } else {
            self.driver.state_mut().settings.hold(STYLE, bytes);
        }
        Ok(())
    }

    /// The TLS and account settings the module does not hold yet.
    pub(super) async fn configure(&mut self, email: &Email, plan: &Plan) -> Result<(), MailError> {
        if self.account.tls.mode == cellmail::TlsMode::None {
            self.plain_style().await?;
        }
        for step in plan::tls(&self.account, plan) {
            match step {
                TlsStep::Set(ex) => {
                    self.driver.run(&ex).await?;
                }
                TlsStep::Cert {
                    file,
                    source,
                    key,
                    setting,
                } => {
                    let path = self.cert_path(file, &source).await?;
                    let set = cmd::ssl_set(&setting(plan.ssl_context, path));
                    self.driver.run(&Exchange::setting(key, set)).await?;
                }
            }
        }
        for ex in plan::account(&self.account, email) {
            self.driver.run(&ex).await?;
        }
        Ok(())
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
            self.driver.client().write_data(&chunk[..n]).await?;
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

    /// The length in `+QSMTPATT: <len>` must be what was sent (§2.2.9: "the
    /// length of the input ... data"); the body's is read by
    /// [`policy::body_stored`].
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
        staging: &Staging,
        floor: TransferTimeout,
    ) -> Result<(), MailError> {
        let field = format!("attachments[{index}]");
        match staging {
            Staging::ModuleFile(path) => {
                let wait = Duration::from_secs(u64::from(floor.get()) + 10);
                let attach = Exchange::new(cmd::attach_module_file(path))
                    .then(Then::RisksLeaving(Residue::Attachments));
                self.deferred(attach, prefix::ATT, wait).await?;
            }
            Staging::Ram { file, size } => {
                self.upload_to_ram(&field, attachment, file, *size)
                    .await
                    .map_err(|e| policy::attachment_refused(e, &field, *size))?;
                let wait = Duration::from_secs(u64::from(floor.get()) + 10);
                let attach = Exchange::new(cmd::attach_module_file(file))
                    .then(Then::RisksLeaving(Residue::Attachments));
                let stored = self
                    .deferred(attach, prefix::ATT, wait)
                    .await
                    .map_err(|e| policy::attachment_refused(e, &field, *size))?;
                Self::check_length(field, u64::from(*size), stored)?;
            }
            Staging::Uart { size, timeout } => {
                let wait = Duration::from_secs(u64::from(timeout.get()) + 10);
                // Opened before the module is asked to take data: a source
                // that cannot be opened never puts the module in data mode.
                let reader = attachment.open().await?;
                // Ended by `+++`: if the call is cancelled mid-transfer the
                // client escapes before its next command.
                let command = cmd::attach_serial(attachment.name(), *size, *timeout)
                    .expect_payload(Payload::Escape);
                self.driver
                    .state_mut()
                    .leftovers
                    .mark(Residue::Attachments, Left::MaybeSet);
                self.driver.client().begin(&command).await?;
                self.driver.client().wait_prompt().await?;
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
                self.driver.client().write_escape().await?;
                self.driver.client().finish().await?;
                let stored = self.collect(prefix::ATT, wait).await?;
                Self::check_length(field, total, stored)?;
            }
        }
        Ok(())
    }

    /// An attachment uploaded to its `RAM:` file ([`upload_ram_file`](Self::upload_ram_file)),
    /// noted in the session before the upload, so a send dropped midway
    /// leaves it for the next call to delete.
    async fn upload_to_ram(
        &mut self,
        what: &str,
        attachment: &Attachment,
        file: &str,
        size: u32,
    ) -> Result<(), MailError> {
        // Opened before anything is written: a source that cannot be
        // opened costs no byte.
        let reader = attachment.open().await?;
        let files = &mut self.driver.state_mut().mail_files;
        if !files.iter().any(|f| f == file) {
            files.push(file.to_owned());
        }
        let phase = Phase::Upload {
            name: attachment.name().to_owned(),
        };
        self.upload_ram_file(what, file, reader, size, phase)
            .await?;
        Ok(())
    }

    /// `AT+QFUPL="<file>",<size>` (SMTPS note §3.1-§3.3): `CONNECT`,
    /// exactly `size` bytes streamed from `reader` in chunks with progress
    /// (the upload ends at its declared size, no `+++`), `+QFUPL:
    /// <size>,<checksum>`, `OK`; the checksum is returned. A file of that
    /// name an earlier process or mail left is deleted first (`ERROR`, no
    /// such file, is the usual answer: the manuals here do not say whether
    /// `AT+QFUPL` overwrites). Cancelled midway, the client knows the bytes
    /// still owed and ends the upload with `+++` before its next command.
    async fn upload_ram_file(
        &mut self,
        what: &str,
        file: &str,
        reader: impl AsyncRead + Unpin,
        size: u32,
        phase: Phase,
    ) -> Result<String, MailError> {
        match self.driver.client().execute(&cmd::delete_file(file)).await {
            Ok(_) | Err(AtError::Error { .. } | AtError::Cme { .. }) => {}
            Err(e) => return Err(e.into()),
        }
        // At its size the upload ends by itself; a shorter one (the source
        // failed, the call was dropped) is ended with `+++` (§3.1).
        let upload = cmd::upload(file, size).expect_payload(Payload::LengthOrEscape(size.into()));
        self.driver.client().begin(&upload).await?;
        self.driver.client().wait_prompt().await?;
        if let Err(e) = self.transfer(phase, reader, u64::from(size)).await {
            let client = self.driver.client();
            match client.write_escape().await {
                Ok(()) => {
                    if let Err(end) = client.finish().await {
                        tracing::warn!(error = %end, "no answer to the upload cut short");
                    }
                }
                Err(end) => tracing::warn!(error = %end, "could not end the upload with +++"),
            }
            return Err(e);
        }
        let answer = self.driver.client().finish().await?;
        match cmd::parse_upload(&answer) {
            Some((stored, sum)) if stored == u64::from(size) => Ok(sum),
            Some((stored, _)) => Err(TransferError::Truncated {
                what: what.to_owned(),
                sent: u64::from(size),
                received: stored,
            }
            .into_mail_error()),
            None => Err(MailError::Modem(AtError::Protocol {
                command: format!("AT+QFUPL=\"{file}\""),
                detail: format!("no +QFUPL: <size>,<checksum> in the answer ({size} bytes sent)"),
            })),
        }
    }

    /// Deletes the `RAM:` files mails uploaded for their attachments
    /// (`AT+QFDEL`, SMTPS note §3 step 6), after every send, and before the
    /// next one for files a dropped send left. A file whose delete fails
    /// stays noted and is tried again next time (its name is deleted before
    /// any upload of that name anyway).
    pub(super) async fn delete_mail_files(&mut self) -> Result<(), MailError> {
        let mut first = None;
        for file in std::mem::take(&mut self.driver.state_mut().mail_files) {
            match self.driver.client().execute(&cmd::delete_file(&file)).await {
                // `ERROR`: not there (the upload never got that far).
                Ok(_) | Err(AtError::Error { .. }) => {}
                Err(e) => {
                    self.driver.state_mut().mail_files.push(file);
                    first.get_or_insert(MailError::Modem(e));
                }
            }
        }
        first.map_or(Ok(()), Err)
    }

    /// A transfer through the UART failed after `CONNECT` (the source failed,
    /// or ended early): `+++` ends data mode (GSM_SMTP_ATC_V1.1 §2.2.9), then
    /// the module's `+QSMTPATT: <len|err>` for the bytes it got is read (and
    /// only logged: the transfer error is what the caller gets; the clean-up
    /// deletes the attachment). Best effort: on a failure here, the next
    /// command resynchronises first.
    async fn leave_data_mode(&mut self, result: &str) {
        let client = self.driver.client();
        if let Err(e) = client.write_escape().await {
            tracing::warn!(error = %e, "could not end data mode with +++");
            return;
        }
        if let Err(e) = client.finish().await {
            tracing::warn!(error = %e, "no final result after +++");
            return;
        }
        match client.deferred(result, Duration::from_secs(10)).await {
            Ok(line) => tracing::info!(result = %line, "the module's answer to the cut transfer"),
            // Timed out: the client drops the result should it still come.
            Err(e) => tracing::warn!(error = %e, "no result for the cut transfer"),
        }
    }

    /// Recipients, subject, body and attachments of one mail.
    pub(super) async fn compose(&mut self, email: &Email, plan: &Plan) -> Result<(), MailError> {
        let wait = Duration::from_secs(10);
        if !email.recipients().is_empty() {
            // Set before the first one: a failed add may have left some.
            for r in RECIPIENTS {
                self.driver.state_mut().leftovers.mark(r, Left::MaybeSet);
            }
        }
        for r in email.recipients() {
            let add = cmd::add_recipient(RecipientType::from(r.kind), r.address.as_str());
            self.deferred(Exchange::new(add), prefix::DST, wait).await?;
        }
        self.driver
            .run(&Exchange::new(plan.subject.clone()))
            .await?;
        // The body in the mail's charset: GB2312 and BIG5 as their own bytes (§2.2.8).
        let body = email.body_bytes();
        let timeout = plan.transfer_timeout;
        let secs = plan::transfer_seconds(body.len() as u64, self.options.line_rate, timeout.get());
        let body_timeout = TransferTimeout::new(secs).unwrap_or(timeout);
        let command = cmd::body(email.charset(), Some(body_timeout));
        self.driver
            .client()
            .upload(&command, &body, DataEnd::Escape)
            .await?;
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
                Duration::from_secs(u64::from(body_timeout.get()) + 10),
            )
            .await?;
        let sent = body.len() as u64;
        let reported = u64::from(stored.unsigned_abs());
        let accept = self.options.accept_body_one_short;
        match policy::body_stored(sent, reported, accept).map_err(TransferError::into_mail_error)? {
            BodyStored::Exact => {}
            // Accepted as the SMTPS note's examples print it (see
            // `policy::body_stored`); said, since a byte may be missing.
            BodyStored::OneShort => tracing::warn!(
                sent,
                reported,
                "AT+QSMTPBODY: the module reports one byte fewer than was sent, as the SMTPS \
                 note's examples print it; sending, though the body may be one byte short"
            ),
        }
        for (i, (attachment, staging)) in email
            .attachments()
            .iter()
            .zip(&plan.attachments)
            .enumerate()
        {
            self.attach(i, attachment, staging, timeout).await?;
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
        let left = self.driver.state().leftovers;
        if RECIPIENTS.iter().any(|r| left.left(*r) == Left::MaybeSet) {
            let delete = Exchange::new(cmd::delete_all_recipients());
            match self.deferred(delete, prefix::DST, wait).await {
                Ok(_) => {
                    for r in RECIPIENTS {
                        self.driver.state_mut().leftovers.mark(r, Left::Clear);
                    }
                }
                Err(e) => first = Some(e),
            }
        }
        if left.left(Residue::Attachments) == Left::MaybeSet {
            let delete = Exchange::new(cmd::delete_all_attachments());
            match self.deferred(delete, prefix::DATT, wait).await {
                Ok(_) => self
                    .driver
                    .state_mut()
                    .leftovers
                    .mark(Residue::Attachments, Left::Clear),
                Err(e) => {
                    first.get_or_insert(e);
                }
            }
        }
        first.map_or(Ok(()), Err)
    }

    /// `AT+QSMTPCLR` succeeded (§2.2.11): no recipient or attachment left.
    pub(super) fn cleared(&mut self) {
        for r in RECIPIENTS.into_iter().chain([Residue::Attachments]) {
            self.driver.state_mut().leftovers.mark(r, Left::Clear);
        }
    }

    /// [`clean_up`](Self::clean_up), and when a delete fails,
    /// `AT+QSMTPCLR` (§2.2.11: it clears recipients and attachments, and the
    /// account too): then every cached setting is forgotten, so the next
    /// configuration sends them all again. `Ok(true)` when it cleared.
    pub(super) async fn clean_up_or_clear(&mut self) -> Result<bool, MailError> {
        let Err(e) = self.clean_up().await else {
            return Ok(false);
        };
        tracing::warn!(error = %e, "deleting recipients or attachments failed: clearing the module (AT+QSMTPCLR)");
        match self.driver.client().execute(&cmd::clear()).await {
            Ok(_) => {
                self.cleared();
                self.driver.state_mut().settings.forget_all();
                Ok(true)
            }
            Err(clear) => {
                tracing::warn!(error = %clear, "AT+QSMTPCLR failed too");
                Err(e)
            }
        }
    }
}
