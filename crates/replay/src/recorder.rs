//! [`Recorder`]: tees a real port into a transcript, secrets replaced by
//! placeholders, so a bench run becomes a replayable test.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Instant;

use crate::transcript::{Payload, Step, Transcript, escape, redact};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    Host,
    Module,
}

#[derive(Default)]
struct Log {
    steps: Vec<Step>,
    pending: Vec<u8>,
    direction: Option<Direction>,
    secrets: Vec<(String, Vec<u8>)>,
    last_host_write: Option<Instant>,
    gap: Option<Duration>,
    pending_gap: Option<Duration>,
}

impl Log {
    fn redact(&self, bytes: &[u8]) -> Vec<u8> {
        redact(bytes, &self.secrets)
    }

    fn push(&mut self, direction: Direction, bytes: &[u8]) {
        if self.direction != Some(direction) {
            self.flush();
            self.direction = Some(direction);
        }
        self.pending.extend_from_slice(bytes);
    }

    /// Turns the bytes gathered in one direction into steps. Redaction runs on
    /// the whole run of bytes, so a secret split across writes is still caught.
    fn flush(&mut self) {
        let pending = std::mem::take(&mut self.pending);
        let bytes = self.redact(&pending);
        match self.direction {
            Some(Direction::Host) => host_steps(&bytes, &mut self.steps),
            Some(Direction::Module) => {
                if let Some(gap) = self.pending_gap.take() {
                    self.steps
                        .push(Step::Delay(gap, format!("{}ms", gap.as_millis())));
                }
                module_steps(&bytes, &mut self.steps);
            }
            None => {}
        }
    }
}

fn text(bytes: &[u8]) -> Option<String> {
    let s = std::str::from_utf8(bytes).ok()?;
    (!s.is_empty() && !s.chars().any(|c| c.is_control())).then(|| s.to_owned())
}

fn raw(bytes: &[u8]) -> Payload {
    Payload::Escaped(escape(bytes))
}

fn host_steps(mut bytes: &[u8], steps: &mut Vec<Step>) {
    while !bytes.is_empty() {
        if bytes.len() >= 2 && bytes[..2].eq_ignore_ascii_case(b"AT") {
            if let Some(end) = bytes.iter().position(|&b| b == b'\r') {
                if let Some(line) = text(&bytes[..end]) {
                    steps.push(Step::HostLine(line));
                    bytes = &bytes[end + 1..];
                    continue;
                }
            }
        }
        // Data mode ends with `+++` (sent after a guard time, so it is the tail).
        match bytes.strip_suffix(b"+++") {
            Some(data) => {
                if !data.is_empty() {
                    steps.push(Step::HostData(raw(data)));
                }
                steps.push(Step::HostEscape);
            }
            None => steps.push(Step::HostData(raw(bytes))),
        }
        return;
    }
}

fn module_steps(mut bytes: &[u8], steps: &mut Vec<Step>) {
    while !bytes.is_empty() {
        if let Some(rest) = bytes.strip_prefix(b"\r\n") {
            if let Some(end) = rest.windows(2).position(|w| w == b"\r\n") {
                if let Some(line) = text(&rest[..end]) {
                    steps.push(Step::ModuleLine(line));
                    bytes = &rest[end + 2..];
                    continue;
                }
            }
        }
        // Not a framed line: raw bytes up to where the next framed line starts.
        let cut = bytes
            .windows(2)
            .enumerate()
            .skip(1)
            .find(|(_, w)| *w == b"\r\n")
            .map_or(bytes.len(), |(i, _)| i);
        steps.push(Step::ModuleData(raw(&bytes[..cut])));
        bytes = &bytes[cut..];
    }
}

/// Wraps a port and records what passes through as a transcript.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use cellmail_replay::Recorder;
/// use tokio::io::{AsyncReadExt, AsyncWriteExt};
/// let (port, mut module) = tokio::io::duplex(64);
/// let mut rec = Recorder::new(port).redact("password", "hunter2");
/// rec.write_all(b"AT+QSMTPPWD=\"hunter2\"\r").await.unwrap();
/// module.write_all(b"\r\nOK\r\n").await.unwrap();
/// let mut buf = [0u8; 6];
/// rec.read_exact(&mut buf).await.unwrap();
/// assert_eq!(rec.transcript().to_text(), "> AT+QSMTPPWD=\"${password}\"\n< OK\n");
/// # }
/// ```
pub struct Recorder<T> {
    inner: T,
    log: Arc<Mutex<Log>>,
}

impl<T> Recorder<T> {
    /// Records everything that passes through `inner`.
    pub fn new(inner: T) -> Self {
        Self {
            inner,
            log: Arc::new(Mutex::new(Log::default())),
        }
    }

    /// Writes every occurrence of `value` as `${name}`.
    pub fn redact(self, name: &str, value: &str) -> Self {
        {
            let mut log = self.lock();
            log.secrets
                .push((name.to_owned(), value.as_bytes().to_vec()));
            // Longest first, so a secret that contains another is replaced whole.
            log.secrets.sort_by_key(|s| std::cmp::Reverse(s.1.len()));
        }
        self
    }

    /// Records waits longer than `threshold` between a host write and the
    /// module's answer as `~` delays.
    pub fn record_gaps(self, threshold: Duration) -> Self {
        self.lock().gap = Some(threshold);
        self
    }

    fn lock(&self) -> MutexGuard<'_, Log> {
        // A poisoned log still holds what was recorded before the panic.
        self.log.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// What was recorded so far.
    pub fn transcript(&self) -> Transcript {
        let mut log = self.lock();
        log.flush();
        log.direction = None;
        Transcript::from_steps(log.steps.clone())
    }

    /// Writes the recording to `path`, with header comments.
    pub fn save(
        &self,
        path: impl AsRef<std::path::Path>,
        headers: &[(&str, &str)],
    ) -> io::Result<()> {
        let mut text = String::new();
        for (k, v) in headers {
            text.push_str(&format!("#! {k}: {v}\n"));
        }
        text.push_str(&self.transcript().to_text());
        std::fs::write(path, text)
    }

    /// The wrapped port.
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.inner
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Recorder<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write(cx, data);
        if let Poll::Ready(Ok(n)) = &poll {
            let mut log = self.lock();
            log.push(Direction::Host, &data[..*n]);
            log.last_host_write = Some(Instant::now());
        }
        poll
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Recorder<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let poll = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = &poll {
            let new = buf.filled()[before..].to_vec();
            if !new.is_empty() {
                let mut log = self.lock();
                if log.direction != Some(Direction::Module) {
                    if let (Some(threshold), Some(at)) = (log.gap, log.last_host_write) {
                        let waited = at.elapsed();
                        if waited > threshold {
                            log.flush();
                            log.direction = Some(Direction::Module);
                            log.pending_gap = Some(waited);
                        }
                    }
                }
                log.push(Direction::Module, &new);
            }
        }
        poll
    }
}
