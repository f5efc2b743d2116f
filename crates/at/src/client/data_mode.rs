//! Data mode: prompts, payloads and the `+++` that ends one.

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};
use tokio::time::{Instant, sleep_until};

use super::{Client, Limit, after};
use crate::command::Payload;
use crate::decode::{Event, Prompt};
use crate::error::AtError;

impl<T: AsyncRead + AsyncWrite + Unpin + Send> Client<T> {
    /// Declares how the data-mode payload of the command in flight ends
    /// (when its [`Command`](crate::Command) did not, or when the module decides: the grant
    /// of `+SMTPFT: 2,<n>`). [`upload`](Self::upload) declares it itself.
    ///
    /// Should the call be given up after the prompt (cancelled during
    /// [`write_data`](Self::write_data), a source that fails in
    /// [`copy_data`](Self::copy_data)...), the next command first ends an
    /// [`Payload::Escape`] payload with `+++` inside its guard times; a
    /// [`Payload::Length`] payload with bytes still owed, or an undeclared
    /// one, leaves the next command failing with [`AtError::Protocol`] (the
    /// host cannot end it without sending made-up data) until
    /// [`forget_data_mode`](Self::forget_data_mode). An undeclared payload is
    /// taken as complete once [`finish`](Self::finish) is called.
    pub fn declare_payload(&mut self, payload: Payload) -> Result<(), AtError> {
        match self.line.current_mut() {
            Some(c) => {
                c.payload = Some(payload);
                Ok(())
            }
            None => Err(AtError::Protocol {
                command: String::new(),
                detail: "no command in flight to declare a payload for".into(),
            }),
        }
    }

    /// Whether a command given up in data mode left the module waiting for
    /// data this client cannot send (a length-delimited payload cut short,
    /// or one whose end was never declared): commands then fail until
    /// [`forget_data_mode`](Self::forget_data_mode).
    pub fn in_data_mode(&self) -> bool {
        self.line.in_data_mode()
    }

    /// The module has left the data mode a command given up left open, by
    /// other means than this client: its own input timeout, a reset, a power
    /// cycle, a DTR drop. Commands are sent again, after an `AT` that
    /// resynchronises. (A final result the module sends by itself in that
    /// state, read while idle, is taken as the end of its data mode too.)
    pub fn forget_data_mode(&mut self) {
        // In flight in data mode, it is back in command mode (given up
        // later, it leaves no data mode behind); given up in data mode, a
        // resync is what remains owed.
        if let Some(command) = self.line.forget_data_mode() {
            tracing::debug!(command = %command, "data mode forgotten");
        }
    }

    /// Waits for the data prompt of the command in flight. A line the command
    /// [ends on](crate::Command::ends_on) ends the wait at once with
    /// [`AtError::Failed`].
    pub async fn wait_prompt(&mut self) -> Result<Prompt, AtError> {
        loop {
            match self.next_for_current().await? {
                Event::Prompt(p) => {
                    if let Some(c) = self.line.current_mut() {
                        c.response.prompt = Some(p.clone());
                    }
                    return Ok(p);
                }
                Event::Final(f) if f.is_success() => {
                    if let Some(c) = self.line.current_mut() {
                        c.result = Some(f);
                    }
                }
                Event::Final(f) => return Err(self.fail(f)),
                _ => {}
            }
        }
    }

    /// Writes data-mode bytes (after a prompt). Restarts the command's timeout.
    pub async fn write_data(&mut self, data: &[u8]) -> Result<(), AtError> {
        self.keep_quiet().await;
        let (deadline, command, after) = self
            .line
            .current()
            .map(|c| (c.deadline, c.label.clone(), c.timeout))
            .unwrap_or_else(|| {
                let t = self.config.command_timeout;
                (after(Instant::now(), t), String::new(), t)
            });
        let limit = Limit {
            deadline,
            command: &command,
            after,
        };
        self.send(data, true, limit).await?;
        self.refresh_deadline();
        Ok(())
    }

    /// Streams `len` bytes from `reader` in data mode without holding them all.
    pub async fn copy_data<R: AsyncRead + Unpin>(
        &mut self,
        reader: &mut R,
        len: u64,
    ) -> Result<(), AtError> {
        let mut chunk = vec![0u8; 4096];
        let mut left = len;
        while left > 0 {
            let want = usize::try_from(left.min(chunk.len() as u64)).unwrap_or(chunk.len());
            let n = reader.read(&mut chunk[..want]).await?;
            if n == 0 {
                return Err(AtError::Io(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    format!("the data source ended {left} bytes early"),
                )));
            }
            self.write_data(&chunk[..n]).await?;
            left -= n as u64;
        }
        Ok(())
    }

    /// Ends data mode with `+++` in one write, with the guard time of silence
    /// before it (counted from when the last byte left the line) and no
    /// write after it for the guard time, even if this call is cancelled.
    pub async fn write_escape(&mut self) -> Result<(), AtError> {
        self.escape().await?;
        self.refresh_deadline();
        Ok(())
    }

    /// `+++` in one write, with the guard time of silence before it (from
    /// when the last byte left the line) and after it.
    pub(super) async fn escape(&mut self) -> Result<(), AtError> {
        let guard = self.config.guard_time;
        let (deadline, command, timeout) = self
            .line
            .current()
            .map(|c| (c.deadline, c.label.clone(), c.timeout))
            .unwrap_or_else(|| {
                let t = self.config.command_timeout;
                (after(Instant::now(), t), "+++".to_owned(), t)
            });
        // Flushing is bounded by the deadline of the command (or by the
        // command timeout plus the guard after `+++`).
        let limit = Limit {
            deadline,
            command: &command,
            after: timeout,
        };
        if self.wire.needs_flush() {
            // A flush cancelled earlier: the bytes may still be on their way.
            self.flush_by(&limit).await?;
        }
        if let Some(last) = self.wire.last_left() {
            sleep_until(after(last, guard)).await;
        }
        self.keep_quiet().await;
        // The silence after it is kept even if this call is cancelled while
        // writing it.
        self.wire.guard(after(Instant::now(), guard));
        self.hand_over(b"+++", false).await?;
        // Handed over: the module's data mode ends with it (given up, a
        // resync remains owed).
        self.line.escaped();
        let limit = Limit {
            deadline: after(limit.deadline, guard),
            ..limit
        };
        self.flush_by(&limit).await?;
        self.wire.guard(after(Instant::now(), guard));
        Ok(())
    }
}
