//! [`ScriptedModem`]: a module that plays a transcript, checking every byte the
//! host writes and answering with the recorded bytes.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

use crate::faults::Faults;
use crate::transcript::{ParseError, Step, Transcript, escape, redact};

/// Why a replay failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplayError {
    /// The host wrote something other than the script says.
    #[error("line {line}: the host wrote {actual:?} where the transcript expects {expected:?}")]
    Mismatch {
        /// Transcript line.
        line: usize,
        /// What the transcript expects (escaped, secrets written `${name}`).
        expected: String,
        /// What the host wrote on that line (escaped, secrets written `${name}`).
        actual: String,
    },
    /// The host's data-mode escape `+++` did not arrive as a module would
    /// recognise it: in one write of its own, after the guard silence.
    #[error("line {line}: the host's +++ {reason}")]
    Escape {
        /// Transcript line.
        line: usize,
        /// What was wrong with it.
        reason: String,
    },
    /// The host wrote after the script ended.
    #[error("the host wrote {actual:?} after the end of the transcript")]
    Unexpected {
        /// What the host wrote (escaped, secrets written `${name}`).
        actual: String,
    },
    /// The script was not played to the end.
    #[error("the transcript stopped at line {line}: {what}")]
    Unconsumed {
        /// Transcript line.
        line: usize,
        /// What was still to come.
        what: String,
    },
    /// A `${name}` placeholder has no value.
    #[error("the transcript uses ${{{0}}} but no value was given")]
    MissingSecret(String),
    /// A payload could not be resolved.
    #[error("{0}")]
    Payload(String),
}

impl From<ParseError> for ReplayError {
    fn from(e: ParseError) -> Self {
        ReplayError::Payload(e.to_string())
    }
}

#[derive(Debug)]
pub(crate) enum Action {
    /// The host must write these bytes; `escape`: they are `+++`, which must
    /// come in one write after the guard silence.
    Expect {
        bytes: Vec<u8>,
        line: usize,
        escape: bool,
    },
    /// The module sends these bytes.
    Emit { bytes: Vec<u8>, line: usize },
    /// The module waits.
    Delay(Duration),
    /// The line is cut here: reads end, writes fail.
    Eof { line: usize },
}

impl Action {
    fn line(&self) -> usize {
        match self {
            Action::Expect { line, .. } | Action::Emit { line, .. } | Action::Eof { line } => *line,
            Action::Delay(_) => 0,
        }
    }
}

/// Replaces `${name}` with its value.
fn substitute(bytes: Vec<u8>, secrets: &HashMap<String, String>) -> Result<Vec<u8>, ReplayError> {
    if !bytes.windows(2).any(|w| w == b"${") {
        return Ok(bytes);
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i..].starts_with(b"${") {
            if let Some(end) = bytes[i + 2..].iter().position(|&b| b == b'}') {
                let name = String::from_utf8_lossy(&bytes[i + 2..i + 2 + end]).into_owned();
                let value = secrets.get(&name).ok_or(ReplayError::MissingSecret(name))?;
                out.extend_from_slice(value.as_bytes());
                i += end + 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    Ok(out)
}

fn framed(text: &str) -> Vec<u8> {
    let mut v = Vec::with_capacity(text.len() + 4);
    v.extend_from_slice(b"\r\n");
    v.extend_from_slice(text.as_bytes());
    v.extend_from_slice(b"\r\n");
    v
}

fn actions(
    t: &Transcript,
    secrets: &HashMap<String, String>,
    faults: &Faults,
) -> Result<Vec<Action>, ReplayError> {
    let mut out = Vec::new();
    for line in t.lines() {
        let n = line.number;
        for urc in faults.inserts_before(n) {
            out.push(Action::Emit {
                bytes: framed(urc),
                line: n,
            });
        }
        if faults.eof_line() == Some(n) {
            out.push(Action::Eof { line: n });
            return Ok(out);
        }
        let action = match &line.step {
            Step::Blank | Step::Comment(_) => continue,
            Step::HostLine(text) => {
                let mut bytes = text.as_bytes().to_vec();
                bytes.push(b'\r');
                Action::Expect {
                    bytes,
                    line: n,
                    escape: false,
                }
            }
            Step::HostData(p) => Action::Expect {
                bytes: t.payload_bytes_at(p, n)?,
                line: n,
                escape: false,
            },
            Step::HostEscape => Action::Expect {
                bytes: b"+++".to_vec(),
                line: n,
                escape: true,
            },
            Step::ModuleLine(text) => Action::Emit {
                bytes: framed(text),
                line: n,
            },
            Step::ModuleData(p) => Action::Emit {
                bytes: t.payload_bytes_at(p, n)?,
                line: n,
            },
            Step::Delay(d, _) => Action::Delay(*d),
        };
        let action = match action {
            Action::Emit { .. } if faults.withholds(n) => continue,
            Action::Expect {
                bytes,
                line,
                escape,
            } => Action::Expect {
                bytes: substitute(bytes, secrets)?,
                line,
                escape,
            },
            Action::Emit { bytes, line } => Action::Emit {
                bytes: substitute(bytes, secrets)?,
                line,
            },
            other => other,
        };
        out.push(action);
    }
    Ok(out)
}

/// A tokio `AsyncRead + AsyncWrite` that plays a transcript as the module.
///
/// Host writes are checked byte by byte in any chunking; the module's output
/// for a step becomes readable once every earlier host step was received.
/// Delays sleep on tokio's clock, so paused-clock tests run instantly. After
/// the script, reads stay pending (a silent module).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use cellmail_replay::{ScriptedModem, Transcript};
/// use tokio::io::{AsyncReadExt, AsyncWriteExt};
/// let t = Transcript::parse("> AT+QSMTPPWD=\"${password}\"\n< OK\n").unwrap();
/// let mut modem = ScriptedModem::builder(&t).secret("password", "hunter2").build().unwrap();
/// modem.write_all(b"AT+QSMTPPWD=\"hunter2\"\r").await.unwrap();
/// let mut answer = [0u8; 6];
/// modem.read_exact(&mut answer).await.unwrap();
/// assert_eq!(&answer, b"\r\nOK\r\n");
/// modem.finish().unwrap();
/// # }
/// ```
pub struct ScriptedModem {
    actions: Vec<Action>,
    /// Next action the reader plays.
    read_pos: usize,
    /// Bytes of the current Emit already handed out.
    read_offset: usize,
    /// Next action the writer matches (only Expect actions count).
    write_pos: usize,
    write_offset: usize,
    /// Module bytes handed out so far (for split, drop and garble offsets).
    emitted: usize,
    faults: Faults,
    sleep: Option<Pin<Box<Sleep>>>,
    read_waker: Option<Waker>,
    failure: Option<ReplayError>,
    eof_after_end: bool,
    /// Secret values (longest first) written back as `${name}` in errors.
    secrets: Vec<(String, Vec<u8>)>,
    /// The silence a `+++` needs after the previous host write.
    guard_time: Duration,
    /// When the host last wrote.
    last_write: Option<Instant>,
}

/// The guard silence a [`ScriptedModem`] expects before `+++` unless told
/// otherwise: the manuals' (and `cellmail_at::ClientConfig`'s) one second.
pub const DEFAULT_GUARD_TIME: Duration = Duration::from_secs(1);

/// Builds a [`ScriptedModem`]: secrets, faults, end behaviour.
pub struct ScriptedModemBuilder<'a> {
    transcript: &'a Transcript,
    secrets: HashMap<String, String>,
    faults: Faults,
    eof_after_end: bool,
    guard_time: Duration,
}

impl ScriptedModemBuilder<'_> {
    /// The value of a `${name}` placeholder.
    pub fn secret(mut self, name: &str, value: &str) -> Self {
        self.secrets.insert(name.to_owned(), value.to_owned());
        self
    }

    /// Faults to inject.
    pub fn faults(mut self, faults: Faults) -> Self {
        self.faults = faults;
        self
    }

    /// After the script, reads return EOF instead of staying pending.
    pub fn eof_after_end(mut self) -> Self {
        self.eof_after_end = true;
        self
    }

    /// The silence the host must keep before `+++` (since its previous
    /// write), [`DEFAULT_GUARD_TIME`] unless set. `Duration::ZERO` checks only
    /// that `+++` comes in a write of its own.
    pub fn guard_time(mut self, guard: Duration) -> Self {
        self.guard_time = guard;
        self
    }

    /// The modem.
    pub fn build(self) -> Result<ScriptedModem, ReplayError> {
        let mut secrets: Vec<(String, Vec<u8>)> = self
            .secrets
            .iter()
            .map(|(name, value)| (name.clone(), value.as_bytes().to_vec()))
            .collect();
        // Longest first, so a secret that contains another is redacted whole.
        secrets.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then_with(|| a.0.cmp(&b.0)));
        Ok(ScriptedModem {
            actions: actions(self.transcript, &self.secrets, &self.faults)?,
            read_pos: 0,
            read_offset: 0,
            write_pos: 0,
            write_offset: 0,
            emitted: 0,
            faults: self.faults,
            sleep: None,
            read_waker: None,
            failure: None,
            eof_after_end: self.eof_after_end,
            secrets,
            guard_time: self.guard_time,
            last_write: None,
        })
    }
}

impl ScriptedModem {
    /// Starts building a modem that plays `transcript`.
    pub fn builder(transcript: &Transcript) -> ScriptedModemBuilder<'_> {
        ScriptedModemBuilder {
            transcript,
            secrets: HashMap::new(),
            faults: Faults::default(),
            eof_after_end: false,
            guard_time: DEFAULT_GUARD_TIME,
        }
    }

    /// `Ok` when the whole script was played and every host byte matched.
    pub fn finish(&self) -> Result<(), ReplayError> {
        if let Some(f) = &self.failure {
            return Err(f.clone());
        }
        let pending = |from: usize, is: fn(&Action) -> bool| {
            self.actions[from.min(self.actions.len())..]
                .iter()
                .find(|a| is(a))
        };
        if let Some(a) = pending(self.write_pos, |a| matches!(a, Action::Expect { .. })) {
            return Err(ReplayError::Unconsumed {
                line: a.line(),
                what: "the host has not written it".into(),
            });
        }
        // Line ends the host had no reason to read yet (the LF after the CR
        // that ended its last line) do not count as an unread answer.
        let unread = self.actions[self.read_pos.min(self.actions.len())..]
            .iter()
            .enumerate()
            .find(|(i, a)| match a {
                Action::Emit { bytes, .. } => {
                    let from = if *i == 0 { self.read_offset } else { 0 };
                    bytes[from..].iter().any(|b| !matches!(b, b'\r' | b'\n'))
                }
                _ => false,
            });
        if let Some((_, a)) = unread {
            return Err(ReplayError::Unconsumed {
                line: a.line(),
                what: "the host has not read the module's answer".into(),
            });
        }
        Ok(())
    }

    /// The next Expect at or after the writer's position.
    fn next_expect(&self) -> Option<usize> {
        (self.write_pos..self.actions.len())
            .find(|&i| matches!(self.actions[i], Action::Expect { .. } | Action::Eof { .. }))
    }

    /// `bytes` escaped for an error message, secret values written `${name}`.
    fn shown(&self, bytes: &[u8]) -> String {
        escape(&redact(bytes, &self.secrets))
    }

    /// Why a `+++` that matches the script is still no escape, if it is not:
    /// it must start a write of its own, be the whole write, and come after
    /// the guard silence.
    fn escape_violation(&self, data: &[u8], consumed: usize, len: usize) -> Option<String> {
        if consumed > 0 {
            return Some(format!(
                "came in the same write as the {consumed} bytes before it, without the guard silence"
            ));
        }
        match data.len().cmp(&len) {
            std::cmp::Ordering::Less => {
                return Some(format!(
                    "was split across writes ({} of {len} bytes in the first); a module only \
                     recognises it written at once",
                    data.len()
                ));
            }
            std::cmp::Ordering::Greater => {
                // Redact the whole rest first, then shorten: a cut could
                // split a secret and leave part of it unredacted.
                let rest: String = self.shown(&data[len..]).chars().take(48).collect();
                return Some(format!(
                    "was followed by \"{rest}\" in the same write, without the guard silence"
                ));
            }
            std::cmp::Ordering::Equal => {}
        }
        let silence = self.last_write.map(|t| Instant::now().duration_since(t))?;
        (silence < self.guard_time).then(|| {
            format!(
                "came {silence:?} after the host's previous write; the guard time is {:?}",
                self.guard_time
            )
        })
    }

    fn fail(&mut self, e: ReplayError) -> io::Error {
        let err = io::Error::new(io::ErrorKind::InvalidData, e.to_string());
        self.failure.get_or_insert(e);
        err
    }
}

impl AsyncWrite for ScriptedModem {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if let Some(f) = &this.failure {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::InvalidData,
                f.to_string(),
            )));
        }
        let mut consumed = 0;
        while consumed < data.len() {
            let Some(i) = this.next_expect() else {
                let e = ReplayError::Unexpected {
                    actual: this.shown(&data[consumed..]),
                };
                return Poll::Ready(Err(this.fail(e)));
            };
            if i != this.write_pos {
                this.write_pos = i;
                this.write_offset = 0;
            }
            let (bytes, line, is_escape) = match &this.actions[i] {
                Action::Expect {
                    bytes,
                    line,
                    escape,
                } => (bytes, *line, *escape),
                _ => {
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::BrokenPipe,
                        "the line was cut",
                    )));
                }
            };
            let want = &bytes[this.write_offset..];
            let n = want.len().min(data.len() - consumed);
            if want[..n] != data[consumed..consumed + n] {
                // What the host wrote on this line: the part already matched
                // (split writes) and this write, up to 64 bytes past the match.
                // Redacted before it is cut, so no secret shows even in part
                // of a line the host wrote whole.
                let mut actual = bytes[..this.write_offset].to_vec();
                actual.extend_from_slice(&data[consumed..]);
                let mut actual = redact(&actual, &this.secrets);
                actual.truncate(this.write_offset + 64);
                let e = ReplayError::Mismatch {
                    line,
                    expected: this.shown(bytes),
                    actual: escape(&actual),
                };
                return Poll::Ready(Err(this.fail(e)));
            }
            if is_escape {
                if let Some(reason) = this.escape_violation(data, consumed, bytes.len()) {
                    return Poll::Ready(Err(this.fail(ReplayError::Escape { line, reason })));
                }
            }
            consumed += n;
            this.write_offset += n;
            if this.write_offset == bytes.len() {
                this.write_pos = i + 1;
                this.write_offset = 0;
                if let Some(w) = this.read_waker.take() {
                    w.wake();
                }
            }
        }
        if consumed > 0 {
            this.last_write = Some(Instant::now());
        }
        Poll::Ready(Ok(consumed))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl AsyncRead for ScriptedModem {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        loop {
            let Some(action) = this.actions.get(this.read_pos) else {
                if this.eof_after_end {
                    return Poll::Ready(Ok(()));
                }
                // A silent module: nothing will ever wake this read.
                return Poll::Pending;
            };
            match action {
                Action::Expect { .. } => {
                    if this.read_pos < this.write_pos {
                        this.read_pos += 1;
                        continue;
                    }
                    this.read_waker = Some(cx.waker().clone());
                    return Poll::Pending;
                }
                Action::Eof { .. } => return Poll::Ready(Ok(())),
                Action::Delay(d) => {
                    let d = *d;
                    let sleep = this
                        .sleep
                        .get_or_insert_with(|| Box::pin(tokio::time::sleep(d)));
                    match sleep.as_mut().poll(cx) {
                        Poll::Ready(()) => {
                            this.sleep = None;
                            this.read_pos += 1;
                        }
                        Poll::Pending => return Poll::Pending,
                    }
                }
                Action::Emit { bytes, .. } => {
                    let rest = &bytes[this.read_offset..];
                    let limit = this
                        .faults
                        .read_limit(this.emitted)
                        .min(rest.len())
                        .min(buf.remaining());
                    let mut wrote = 0;
                    for (k, &b) in rest[..limit].iter().enumerate() {
                        let offset = this.emitted + k;
                        if this.faults.drops(offset) {
                            continue;
                        }
                        buf.put_slice(&[if this.faults.garbles(offset) {
                            b ^ 0x55
                        } else {
                            b
                        }]);
                        wrote += 1;
                    }
                    this.emitted += limit;
                    this.read_offset += limit;
                    if this.read_offset == bytes.len() {
                        this.read_pos += 1;
                        this.read_offset = 0;
                    }
                    if wrote > 0 {
                        return Poll::Ready(Ok(()));
                    }
                }
            }
        }
    }
}
