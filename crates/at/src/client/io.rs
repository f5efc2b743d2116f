//! The bytes: writes and flushes bounded by deadlines, reads, and the `AT`
//! that resynchronises the line after a command was given up.

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::{Instant, sleep_until, timeout_at};

use super::{Client, Limit, Line, after};
use crate::command::Command;
use crate::decode::Event;
use crate::error::AtError;

impl<T: AsyncRead + AsyncWrite + Unpin + Send> Client<T> {
    /// After a timeout: make sure the abandoned command's answer cannot be taken
    /// for the next one. `AT` is sent; its `OK` (or the late answer followed by
    /// its `OK`) is consumed before the next command goes out.
    pub(super) async fn resync(&mut self) -> Result<(), AtError> {
        tracing::debug!("resynchronising after a timeout");
        let probe = Command::exec("");
        let limit = self.config.resync_timeout;
        self.keep_quiet().await;
        let limit = Limit {
            deadline: after(Instant::now(), limit),
            command: "AT (resynchronisation)",
            after: limit,
        };
        self.send(b"AT\r", false, limit).await?;
        self.stats.commands += 1;
        // In flight like any command: its echo (ATE1) is an echo, and late
        // lines of the abandoned command are dropped, not queued as URCs.
        self.decoder.begin(&probe);
        let result = self.resync_answer().await;
        self.decoder.end();
        result
    }

    pub(super) async fn resync_answer(&mut self) -> Result<(), AtError> {
        let deadline = after(Instant::now(), self.config.resync_timeout);
        loop {
            match self.next_event(deadline).await? {
                Some(Event::Final(_)) => break,
                Some(ev) => {
                    let rebooted = self.reboot_line(&ev, &[]);
                    self.route(ev);
                    if let Some(line) = rebooted {
                        // The probe may have been lost in the reboot: the
                        // resync stays owed (the next command sends it again).
                        return Err(AtError::Rebooted {
                            command: "AT (resynchronisation)".into(),
                            line,
                        });
                    }
                }
                None => {
                    return Err(AtError::timeout(
                        "AT (resynchronisation)".into(),
                        self.config.resync_timeout,
                        self.stats.bytes_read,
                    ));
                }
            }
        }
        let quiet = after(Instant::now(), self.config.resync_quiet);
        while let Some(ev) = self.next_event(quiet).await? {
            if matches!(ev, Event::Final(_)) {
                break;
            }
            self.route(ev);
        }
        self.line = Line::Ready;
        Ok(())
    }

    /// Keeps the silence still due after `+++`. Only once it is over is it
    /// forgotten: a call cancelled while waiting leaves it to the next write.
    pub(super) async fn keep_quiet(&mut self) {
        if let Some(until) = self.wire.quiet_until() {
            sleep_until(until).await;
            self.wire.quiet_over();
        }
    }

    /// Hands `bytes` to the stream and flushes it (for a serial port from
    /// [`serial::open`](crate::serial::open): waits, without blocking the
    /// runtime, until they have left the line), by `limit`.
    pub(super) async fn send(
        &mut self,
        bytes: &[u8],
        data: bool,
        limit: Limit<'_>,
    ) -> Result<(), AtError> {
        self.hand_over(bytes, data).await?;
        self.flush_by(&limit).await
    }

    /// Flushes the stream, by `limit.deadline`: a flush that never ends (a
    /// wedged `tcdrain`) is a timeout like an answer that never comes, and
    /// the command in flight is given up.
    pub(super) async fn flush_by(&mut self, limit: &Limit<'_>) -> Result<(), AtError> {
        match timeout_at(limit.deadline, self.io.flush()).await {
            Ok(result) => {
                result?;
                self.mark_drained();
                Ok(())
            }
            Err(_elapsed) => {
                tracing::debug!(command = %limit.command, "the line did not drain in time");
                if self.line.current().is_some() {
                    self.abandon();
                } else {
                    // No command in flight (the decoder keeps what earlier
                    // ones promised): a resync is owed all the same.
                    self.line.give_up();
                }
                Err(AtError::Timeout {
                    command: limit.command.to_owned(),
                    after: limit.after,
                })
            }
        }
    }

    /// Writes `bytes`, counting each part as the stream takes it, so that a
    /// call cancelled midway knows how much went out (payload bytes owed).
    pub(super) async fn hand_over(&mut self, mut bytes: &[u8], data: bool) -> Result<(), AtError> {
        while !bytes.is_empty() {
            let n = self.io.write(bytes).await?;
            if n == 0 {
                return Err(AtError::Io(std::io::ErrorKind::WriteZero.into()));
            }
            self.stats.bytes_written += n as u64;
            self.wire.handed();
            if data {
                if let Some(c) = self.line.current_mut() {
                    c.data_written += n as u64;
                }
            }
            bytes = &bytes[n..];
        }
        Ok(())
    }

    pub(super) fn mark_drained(&mut self) {
        self.wire.drained(Instant::now());
    }

    /// Traces what came, never a secret: not the echo (it holds the command
    /// line), not an information line of a sensitive answer, not a line no
    /// command claims (whose it is is unknown), not raw data.
    pub(super) fn trace_received(&self, ev: &Event) {
        match ev {
            Event::Echo(_) | Event::Raw(_) => {}
            Event::Info(_) if self.line.current().is_some_and(|c| c.response.sensitive) => {
                tracing::trace!("received an information line that carries a secret");
            }
            Event::Info(line) if self.line.current().is_none() => {
                tracing::trace!(
                    len = line.len(),
                    "received a line no command in flight claims"
                );
            }
            Event::Urc(line) if self.hidden(line) => {
                tracing::trace!(len = line.len(), "received a line that may hold a secret");
            }
            _ => tracing::trace!(event = ?ev, "received"),
        }
    }

    /// The next decoded event, reading as needed; `None` once `deadline` passed.
    pub(super) async fn next_event(&mut self, deadline: Instant) -> Result<Option<Event>, AtError> {
        loop {
            if let Some(ev) = self.decoder.next_event() {
                self.trace_received(&ev);
                return Ok(Some(ev));
            }
            // A text block's end in doubt is decided by the module's silence.
            let in_doubt = self.decoder.end_in_doubt();
            let until = if in_doubt {
                deadline.min(after(Instant::now(), self.config.text_block_quiet))
            } else {
                deadline
            };
            let n = match timeout_at(until, self.io.read(&mut self.read_buf)).await {
                Err(_elapsed) if in_doubt => {
                    self.decoder.settle();
                    continue;
                }
                Err(_elapsed) => return Ok(None),
                Ok(Ok(0)) => return Err(AtError::Closed),
                Ok(Ok(n)) => n,
                Ok(Err(e)) => return Err(AtError::Io(e)),
            };
            self.stats.bytes_read += n as u64;
            self.decoder.push(&self.read_buf[..n]);
        }
    }
}
