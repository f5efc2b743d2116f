//! The attachment through `AT+SMTPFT` (§3.2.11): chunks of what the module
//! grants, read from the source as they go.

use std::time::Duration;

use cellmail::{Email, MailError, Phase, ProgressEvent};
use cellmail_at::{Arrived, AtError, Payload, Prompt};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};

use super::Sim7000Mailer;
use super::commands::{self, prefix};
use super::policy::protocol;

impl<T: AsyncRead + AsyncWrite + Unpin + Send> Sim7000Mailer<T> {
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
    pub(super) async fn stream_attachment(
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
                .driver
                .client()
                .wait_any(&[prefix::SMTPSEND], &[prefix::SMTPFT_READY], wait)
                .await?
            {
                Arrived::Deferred(line) => return Ok(Some(line)),
                Arrived::Urc(line) => line,
            };
            if sent == total {
                // §3.2.11: "If <reqLength> is 0, it indicates that transferring
                // the attachment have finished: OK".
                return match self
                    .driver
                    .client()
                    .execute(&commands::transfer_done())
                    .await
                {
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
            self.driver
                .client()
                .begin(&commands::transfer(request))
                .await?;
            // §3.2.11: the grant, or ERROR, or "+SMTPSEND: <code>" when some
            // error occurs.
            let grant = match self.driver.client().wait_prompt().await {
                Ok(Prompt::Line(l)) => l,
                Ok(other) => {
                    let _ = self.driver.client().finish().await;
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
            self.driver
                .client()
                .declare_payload(Payload::Length(u64::from(granted)))?;
            if granted == 0 {
                // Nothing to send: the command ends as it should.
                let _ = self.driver.client().finish().await;
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
            self.driver.client().write_data(&chunk[..granted]).await?;
            if let Err(e) = self.driver.client().finish().await {
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
            .driver
            .client()
            .wait_any(&[prefix::SMTPSEND], &[], Duration::from_secs(2))
            .await
        {
            Ok(Arrived::Deferred(line)) => Ok(Some(line)),
            _ => Err(MailError::Modem(e)),
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
