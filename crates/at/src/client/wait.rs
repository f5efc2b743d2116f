//! Deferred results and URCs: waiting for them, forgetting them.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::Instant;

use super::{Arrived, Client, after};
use crate::decode::Event;
use crate::error::AtError;

/// Whether `line`, which does not start with `prefix`, may be a result with
/// that prefix that line noise garbled: it holds a byte that is no text (the
/// decoder reads a byte whose high bit a framing error set as U+FFFD; or a
/// control character) and matches `prefix` wherever it is readable. A
/// garbled unrelated URC matches only if noise hit exactly where it differs.
fn garbled_result(line: &str, prefix: &str) -> bool {
    let noise = |c: char| c == '\u{fffd}' || (c.is_control() && c != '\t');
    if line.starts_with(prefix) || !line.chars().any(noise) {
        return false;
    }
    let mut chars = line.chars();
    prefix
        .chars()
        .all(|p| chars.next().is_some_and(|c| c == p || noise(c)))
}

impl<T: AsyncRead + AsyncWrite + Unpin + Send> Client<T> {
    /// Waits for the deferred result `prefix` (e.g. `+QSMTPPUT:`) of an earlier
    /// command. On timeout the result, should it still come, is dropped; a
    /// [reboot line](crate::ClientConfig::reboot_lines) ends the wait at once with
    /// [`AtError::Rebooted`]. A line that is the result with its prefix
    /// garbled by line noise (`+QSMTP\u{fffd}UT: 0`: it matches the prefix
    /// wherever it is readable) ends it at once too, as [`AtError::Io`] of
    /// kind `InvalidData` (transient; the result is then in doubt).
    pub async fn deferred(&mut self, prefix: &str, timeout: Duration) -> Result<String, AtError> {
        self.deferred_unless(prefix, &[], timeout).await
    }

    /// [`deferred`](Self::deferred), ended early by a URC that is exactly
    /// one of `reboot` (`RDY`) or of the [reboot lines](crate::ClientConfig::reboot_lines)
    /// of the configuration: the module rebooted and will never send the
    /// result, so waiting out `timeout` would only cost time. The line stays
    /// queued for the application (and seen by the watch).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() {
    /// use std::time::Duration;
    /// use cellmail_at::{AtError, Client, ClientConfig, Command, DecoderConfig};
    /// use tokio::io::{AsyncReadExt, AsyncWriteExt};
    /// let (host, mut module) = tokio::io::duplex(256);
    /// tokio::spawn(async move {
    ///     let mut buf = [0u8; 64];
    ///     let _ = module.read(&mut buf).await.unwrap();
    ///     module.write_all(b"\r\nOK\r\n\r\nRDY\r\n").await.unwrap();
    ///     std::future::pending::<()>().await;
    /// });
    /// let config = ClientConfig::with_decoder(DecoderConfig::default().urc("RDY"));
    /// let mut client = Client::new(host, config);
    /// let put = Command::write("+QSMTPPUT").int(300).expect_deferred("+QSMTPPUT:");
    /// client.execute(&put).await.unwrap();
    /// let wait = client.deferred_unless("+QSMTPPUT:", &["RDY"], Duration::from_secs(300)).await;
    /// assert!(matches!(wait, Err(AtError::Rebooted { .. })));
    /// # }
    /// ```
    pub async fn deferred_unless(
        &mut self,
        prefix: &str,
        reboot: &[&str],
        timeout: Duration,
    ) -> Result<String, AtError> {
        let deadline = after(Instant::now(), timeout);
        loop {
            if let Some(i) = self.deferred.iter().position(|l| l.starts_with(prefix)) {
                if let Some(line) = self.deferred.remove(i) {
                    // The module answered the command it took data for, so it
                    // has taken our `+++` as the escape: the silence kept
                    // after it has done its job.
                    self.wire.quiet_over();
                    return Ok(line);
                }
            }
            if !self.decoder.is_expecting(prefix) {
                return Err(AtError::Protocol {
                    command: prefix.to_owned(),
                    detail: "no command is waiting for this result".into(),
                });
            }
            match self.next_event(deadline).await? {
                Some(ev) => {
                    let rebooted = self.reboot_line(&ev, reboot);
                    let garbled = match &ev {
                        Event::Urc(line) if garbled_result(line, prefix) => Some(line.clone()),
                        _ => None,
                    };
                    self.route(ev);
                    if let Some(line) = rebooted {
                        self.forget_deferred_prefix(prefix);
                        return Err(AtError::Rebooted {
                            command: prefix.to_owned(),
                            line,
                        });
                    }
                    if let Some(line) = garbled {
                        // Most likely the result itself: waiting out the
                        // timeout would not bring it back. Should the result
                        // come all the same, it is dropped.
                        self.decoder.abandon_deferred(prefix);
                        return Err(AtError::Io(std::io::Error::new(
                            std::io::ErrorKind::InvalidData,
                            format!(
                                "the module's {prefix} result arrived garbled ({}): bytes \
                                 were lost on the line",
                                crate::text::quoted(&line)
                            ),
                        )));
                    }
                }
                None => {
                    self.decoder.abandon_deferred(prefix);
                    return Err(AtError::Timeout {
                        command: prefix.to_owned(),
                        after: timeout,
                    });
                }
            }
        }
    }

    /// Waits for whichever comes first: a deferred result with one of
    /// `deferred` prefixes or a URC with one of `urcs` prefixes (a module may
    /// send an error URC such as `+POP3OUT: 61` instead of the result). On a
    /// URC the deferred results stay expected; on timeout they are abandoned.
    pub async fn wait_any(
        &mut self,
        deferred: &[&str],
        urcs: &[&str],
        timeout: Duration,
    ) -> Result<Arrived, AtError> {
        let deadline = after(Instant::now(), timeout);
        loop {
            if let Some(i) = self
                .deferred
                .iter()
                .position(|l| deferred.iter().any(|p| l.starts_with(p)))
            {
                if let Some(line) = self.deferred.remove(i) {
                    return Ok(Arrived::Deferred(line));
                }
            }
            if let Some(i) = self
                .urcs
                .iter()
                .position(|l| urcs.iter().any(|p| l.starts_with(p)))
            {
                if let Some(line) = self.urcs.remove(i) {
                    return Ok(Arrived::Urc(line));
                }
            }
            match self.next_event(deadline).await? {
                Some(ev) => self.route(ev),
                None => {
                    for prefix in deferred {
                        self.decoder.abandon_deferred(prefix);
                    }
                    return Err(AtError::Timeout {
                        command: format!("waiting for {}", [deferred, urcs].concat().join(" or ")),
                        after: timeout,
                    });
                }
            }
        }
    }

    /// The module rebooted (`RDY`): nothing it promised will come. Forgets
    /// every expected and received deferred result, so none is taken for a
    /// later command's.
    pub fn forget_deferred(&mut self) {
        self.deferred.clear();
        self.decoder.forget_pending();
    }

    /// The module will send no result with this prefix (e.g. its POP3 session
    /// ended with `+POP3OUT`, or it ended the command that promised one):
    /// stops expecting it, waited for or [abandoned](Self::abandon_deferred),
    /// and drops such results received and not yet waited for. A later
    /// command's own result with the prefix then reaches its waiter.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), cellmail_at::AtError> {
    /// use std::time::Duration;
    /// use cellmail_at::{Arrived, Client, ClientConfig, Command, DecoderConfig};
    /// use tokio::io::{AsyncReadExt, AsyncWriteExt};
    /// let (host, mut module) = tokio::io::duplex(256);
    /// tokio::spawn(async move {
    ///     let mut buf = [0u8; 64];
    ///     let n = module.read(&mut buf).await.unwrap();
    ///     assert_eq!(&buf[..n], b"AT+POP3NUM\r");
    ///     // The session ends instead of the answer.
    ///     module.write_all(b"\r\nOK\r\n\r\n+POP3OUT: 3\r\n").await.unwrap();
    ///     let n = module.read(&mut buf).await.unwrap();
    ///     assert_eq!(&buf[..n], b"AT+POP3NUM\r");
    ///     module.write_all(b"\r\nOK\r\n\r\n+POP3NUM: 0,2,2134\r\n").await.unwrap();
    /// });
    /// let config = ClientConfig::with_decoder(DecoderConfig::default().urc("+POP3OUT:"));
    /// let mut client = Client::new(host, config);
    /// let num = Command::exec("+POP3NUM").expect_deferred("+POP3NUM:");
    /// let wait = Duration::from_secs(30);
    /// client.execute(&num).await?;
    /// let first = client.wait_any(&["+POP3NUM:"], &["+POP3OUT:"], wait).await?;
    /// assert_eq!(first, Arrived::Urc("+POP3OUT: 3".into()));
    /// client.forget_deferred_prefix("+POP3NUM:");
    /// client.execute(&num).await?;
    /// assert_eq!(client.deferred("+POP3NUM:", wait).await?, "+POP3NUM: 0,2,2134");
    /// # Ok(()) }
    /// ```
    pub fn forget_deferred_prefix(&mut self, prefix: &str) {
        self.deferred.retain(|l| !l.starts_with(prefix));
        self.decoder.forget_deferred_prefix(prefix);
    }

    /// Gives up on one expected deferred result that the module will still
    /// send. If it was received and not yet waited for it is dropped;
    /// otherwise exactly the one late line is dropped when it comes (reported
    /// as a URC), never taken for the result of a later command, whose own
    /// result with the same prefix still reaches its waiter (see
    /// [`Decoder::abandon_deferred`](crate::Decoder::abandon_deferred) for how the two are told apart). If the
    /// module will never send it, use
    /// [`forget_deferred_prefix`](Self::forget_deferred_prefix).
    pub fn abandon_deferred(&mut self, prefix: &str) {
        if let Some(i) = self.deferred.iter().position(|l| l.starts_with(prefix)) {
            self.deferred.remove(i);
        } else {
            self.decoder.abandon_deferred(prefix);
        }
    }

    /// Takes the first queued URC that is exactly `line` off the queue (a
    /// line a dialect found to be its own), leaving every other one queued.
    /// Reads nothing.
    pub fn remove_urc(&mut self, line: &str) -> Option<String> {
        let i = self.urcs.iter().position(|l| l == line)?;
        self.urcs.remove(i)
    }

    /// Waits for a URC starting with `prefix` (one already received counts).
    pub async fn wait_urc(&mut self, prefix: &str, timeout: Duration) -> Result<String, AtError> {
        let deadline = after(Instant::now(), timeout);
        loop {
            if let Some(i) = self.urcs.iter().position(|l| l.starts_with(prefix)) {
                if let Some(line) = self.urcs.remove(i) {
                    return Ok(line);
                }
            }
            match self.next_event(deadline).await? {
                Some(ev) => self.route(ev),
                None => {
                    return Err(AtError::Timeout {
                        command: format!("waiting for {prefix}"),
                        after: timeout,
                    });
                }
            }
        }
    }

    /// Reads and routes whatever the module sends for `duration` (URCs while idle).
    pub async fn idle(&mut self, duration: Duration) -> Result<(), AtError> {
        let deadline = after(Instant::now(), duration);
        while let Some(ev) = self.next_event(deadline).await? {
            self.route(ev);
        }
        Ok(())
    }
}
