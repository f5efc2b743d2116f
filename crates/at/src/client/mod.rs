//! The async client: sequences one command at a time over any byte stream.
//!
//! All protocol decisions are the [`Decoder`]'s; this layer writes bytes, reads
//! bytes, keeps time and routes URCs and deferred results to whoever waits.

//!
//! What the line owes before the next command (a resync, a `+++`, bytes the
//! host cannot send) is one enum, `state::Line`; the guard timing of the
//! write side is `state::Wire`. Both are pure and tested without a runtime.
//!
//! - `mod.rs`: sending a command and reading its answer, giving it up,
//!   recovering the line;
//! - `data_mode.rs`: prompts, payloads and `+++`;
//! - `wait.rs`: deferred results and URCs;
//! - `io.rs`: the bytes: writes, flushes, reads, the resynchronisation;
//! - `state.rs`: the pure state.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::broadcast;
use tokio::time::Instant;

use crate::command::{Command, Payload};
use crate::decode::{Decoder, DecoderConfig, Event, Final, Prompt};
use crate::error::AtError;

mod data_mode;
mod io;
mod response;
mod state;
mod wait;

pub use response::{Arrived, DataEnd, Response, SeenUrcs, UrcWatch};
use state::{Current, Late, LateFinal, Line, Owed, Wire};

/// Where a deadline goes when a caller's timeout (e.g. `Duration::MAX`) does
/// not fit in an `Instant`: as tokio's own `sleep` does, about 30 years on.
const FAR_FUTURE: Duration = Duration::from_secs(86_400 * 365 * 30);

/// `from + timeout`, or the far future when that overflows.
fn after(from: Instant, timeout: Duration) -> Instant {
    from.checked_add(timeout)
        .or_else(|| from.checked_add(FAR_FUTURE))
        .unwrap_or(from)
}

/// Settings of a [`Client`].
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// The dialect's URC prefixes and extra finals.
    pub decoder: DecoderConfig,
    /// Timeout of a command that sets none itself.
    pub command_timeout: Duration,
    /// Silence kept before and after `+++` (the manuals' guard time).
    pub guard_time: Duration,
    /// How long the `AT` sent to resynchronise after a timeout may take.
    pub resync_timeout: Duration,
    /// After resynchronising, how long to listen for a second final result.
    pub resync_quiet: Duration,
    /// URCs kept for [`Client::wait_urc`] before the oldest is dropped.
    pub urc_queue: usize,
    /// Inside a [text block](crate::Command::expect_text_block), how long the
    /// module must keep quiet after a line reading `OK` or `ERROR` for that
    /// line to end the answer; text sooner makes it the message's own line.
    /// The module prints a file it holds in one go, so a pause this long
    /// mid-message is not expected (a project choice: no manual gives one).
    pub text_block_quiet: Duration,
    /// URCs that mean the module rebooted (`RDY`), exactly. One that comes
    /// while the client waits for the answer or prompt of a command, for
    /// the answer of its resynchronising `AT` or for a deferred result ends
    /// that wait at once with [`AtError::Rebooted`]: a reboot forgets every
    /// command in flight, so waiting out the timeout would only cost time.
    /// The command is given up as after a timeout (a late answer is
    /// dropped); the line stays queued, and watches see it. Default: none
    /// (`cellmail_session::Driver` sets its dialect's reboot lines).
    pub reboot_lines: Vec<Cow<'static, str>>,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            decoder: DecoderConfig::default(),
            command_timeout: Duration::from_secs(5),
            guard_time: Duration::from_secs(1),
            resync_timeout: Duration::from_secs(2),
            resync_quiet: Duration::from_millis(200),
            urc_queue: 64,
            text_block_quiet: Duration::from_millis(300),
            reboot_lines: Vec::new(),
        }
    }
}

impl ClientConfig {
    /// The default settings with a dialect's decoder configuration.
    pub fn with_decoder(decoder: DecoderConfig) -> Self {
        Self {
            decoder,
            ..Self::default()
        }
    }
}

/// Counters of what crossed the line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// AT commands written (resynchronisation probes included).
    pub commands: u64,
    /// Bytes written to the module.
    pub bytes_written: u64,
    /// Bytes read from the module.
    pub bytes_read: u64,
}

/// How long a flush may take, and what to report when it takes longer.
#[derive(Clone, Copy)]
struct Limit<'a> {
    deadline: Instant,
    command: &'a str,
    after: Duration,
}

/// The AT client over any tokio byte stream (a serial port, a pseudo-terminal,
/// `tokio::io::duplex` in tests).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), cellmail_at::AtError> {
/// use cellmail_at::{Client, ClientConfig, Command};
/// use tokio::io::{AsyncReadExt, AsyncWriteExt};
/// let (host, mut module) = tokio::io::duplex(256);
/// tokio::spawn(async move {
///     let mut buf = [0u8; 64];
///     let n = module.read(&mut buf).await.unwrap();
///     assert_eq!(&buf[..n], b"AT+CGMM\r");
///     module.write_all(b"\r\nSIM7000G\r\n\r\nOK\r\n").await.unwrap();
/// });
/// let mut client = Client::new(host, ClientConfig::default());
/// let r = client.execute(&Command::exec("+CGMM")).await?;
/// assert_eq!(r.info, ["SIM7000G"]);
/// # Ok(()) }
/// ```
pub struct Client<T> {
    io: T,
    decoder: Decoder,
    config: ClientConfig,
    /// What the line owes before the next command.
    line: Line,
    /// The guard timing of the write side.
    wire: Wire,
    urcs: VecDeque<String>,
    deferred: VecDeque<String>,
    urc_tx: broadcast::Sender<String>,
    stats: Stats,
    read_buf: Box<[u8]>,
}

impl<T: AsyncRead + AsyncWrite + Unpin + Send> Client<T> {
    /// A client over `io`.
    pub fn new(io: T, config: ClientConfig) -> Self {
        let (urc_tx, _) = broadcast::channel(config.urc_queue.max(1));
        Self {
            io,
            decoder: Decoder::new(config.decoder.clone()),
            config,
            line: Line::Ready,
            wire: Wire::Drained(None),
            urcs: VecDeque::new(),
            deferred: VecDeque::new(),
            urc_tx,
            stats: Stats::default(),
            read_buf: vec![0; 4096].into_boxed_slice(),
        }
    }

    /// The settings.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// Sets the URCs that mean the module rebooted
    /// ([`ClientConfig::reboot_lines`]): from now on one of them ends the
    /// wait for a command's answer, a resynchronisation or a deferred result
    /// at once with [`AtError::Rebooted`].
    pub fn set_reboot_lines(&mut self, lines: &[&'static str]) {
        self.config.reboot_lines = lines.iter().map(|l| Cow::Borrowed(*l)).collect();
    }

    /// The reboot line `ev` is, if it is one ([`ClientConfig::reboot_lines`]).
    pub(super) fn reboot_line(&self, ev: &Event, more: &[&str]) -> Option<String> {
        match ev {
            Event::Urc(line)
                if more.contains(&line.as_str())
                    || self.config.reboot_lines.iter().any(|l| l == line) =>
            {
                Some(line.clone())
            }
            _ => None,
        }
    }

    /// Counters of what crossed the line so far.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// The underlying stream.
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.io
    }

    /// Gives the stream back.
    pub fn into_inner(self) -> T {
        self.io
    }

    /// Receives every URC from now on (in addition to [`wait_urc`](Self::wait_urc)).
    pub fn subscribe(&self) -> broadcast::Receiver<String> {
        self.urc_tx.subscribe()
    }

    /// A [`UrcWatch`]: the URCs from now on, for a dialect that acts on them
    /// (`RDY`, a released bearer) while leaving the queue to the application.
    pub fn watch_urcs(&self) -> UrcWatch {
        UrcWatch(self.urc_tx.subscribe())
    }

    /// Takes the URCs received so far and not yet waited for.
    pub fn take_urcs(&mut self) -> Vec<String> {
        self.urcs.drain(..).collect()
    }

    /// Sends `cmd` and waits for its final result.
    pub async fn execute(&mut self, cmd: &Command) -> Result<Response, AtError> {
        self.begin(cmd).await?;
        self.finish().await
    }

    /// Sends `cmd`, waits for its prompt, sends `data`, ends it as `end` says and
    /// waits for the final result (which some modules send before the prompt).
    /// The payload is [declared](Self::declare_payload) as `end` says: should
    /// the call be given up in data mode, the next command first ends it
    /// (`+++`) or fails (bytes still owed).
    pub async fn upload(
        &mut self,
        cmd: &Command,
        data: &[u8],
        end: DataEnd,
    ) -> Result<Response, AtError> {
        self.begin(cmd).await?;
        self.declare_payload(match end {
            DataEnd::Escape => Payload::Escape,
            DataEnd::Length => Payload::Length(data.len() as u64),
        })?;
        self.wait_prompt().await?;
        self.write_data(data).await?;
        if end == DataEnd::Escape {
            self.write_escape().await?;
        }
        self.finish().await
    }

    /// Writes `cmd`. Encoding errors come back before any byte is written.
    ///
    /// If an earlier command was given up (timeout, I/O error, cancelled
    /// call) the line is made ready first: a data mode it left open is ended
    /// with `+++` inside its guard times if its payload ends so, and `AT` is
    /// sent so that its late answer is never taken for this one's. A
    /// length-delimited payload it left short (or one whose end was never
    /// declared) cannot be ended honestly: then nothing is written and this
    /// fails with [`AtError::Protocol`] until [`forget_data_mode`](Self::forget_data_mode).
    pub async fn begin(&mut self, cmd: &Command) -> Result<(), AtError> {
        let bytes = cmd.encode()?;
        if let Some(current) = self.line.current() {
            // The call that wrote it was dropped (cancelled, e.g. by
            // `tokio::time::timeout`) before its answer came: give it up as
            // after a timeout, so its late answer is never taken for ours.
            tracing::debug!(command = %current.label, "abandoned: its caller went away");
            self.abandon();
        }
        let label = cmd.redacted();
        self.recover(&label).await?;
        self.keep_quiet().await;
        // From its first byte on, the module may answer this command: a call
        // cancelled (or failing) before it is in flight leaves that answer
        // to be skipped by a resynchronisation, and its echo or secret
        // answer to be kept out of the logs and the URCs.
        self.line = Line::Resync(Some(Late::of(cmd)));
        tracing::debug!(command = %label, "send");
        let timeout = cmd.timeout_value().unwrap_or(self.config.command_timeout);
        let limit = Limit {
            deadline: after(Instant::now(), timeout),
            command: &label,
            after: timeout,
        };
        self.send(&bytes, false, limit).await?;
        self.stats.commands += 1;
        self.decoder.begin(cmd);
        let late = match std::mem::replace(&mut self.line, Line::Ready) {
            Line::Resync(Some(late)) => late,
            _ => Late::of(cmd),
        };
        self.line = Line::InFlight(Current {
            label,
            timeout,
            deadline: after(Instant::now(), timeout),
            response: Response {
                sensitive: cmd.has_sensitive_answer(),
                ..Response::default()
            },
            result: None,
            late,
            payload: cmd.payload(),
            data_written: 0,
        });
        Ok(())
    }

    /// Waits for the final result of the command in flight. A payload whose
    /// end was not [declared](Self::declare_payload) is complete from now on.
    pub async fn finish(&mut self) -> Result<Response, AtError> {
        if self.line.current().is_some_and(|c| c.payload.is_none()) {
            self.line.out_of_data();
        }
        loop {
            if let Some(Final::Ok | Final::Declared { success: true, .. }) =
                self.line.current().and_then(|c| c.result.as_ref())
            {
                return Ok(self.complete());
            }
            match self.next_for_current().await? {
                Event::Final(f) if f.is_success() => {
                    if let Some(c) = self.line.current_mut() {
                        c.result = Some(f);
                    }
                }
                Event::Final(f) => return Err(self.fail(f)),
                Event::Prompt(p) => return Err(self.unexpected_prompt(&p)),
                _ => {}
            }
        }
    }

    /// A prompt `finish` did not expect: the command is given up, and what
    /// the next command does about it is said.
    pub(super) fn unexpected_prompt(&mut self, p: &Prompt) -> AtError {
        let mut detail = format!("unexpected prompt {p}");
        let label = self
            .line
            .current()
            .map(|c| c.label.clone())
            .unwrap_or_default();
        match (self.line.current().and_then(|c| c.payload), p) {
            (Some(_), _) => {}
            (None, Prompt::Connect) => {
                // Its data ends with `+++`: the next command ends it so
                // before resynchronising.
                if let Some(c) = self.line.current_mut() {
                    c.payload = Some(Payload::Escape);
                }
                detail.push_str(
                    " (no payload was sent; the next command first ends the data mode with +++)",
                );
            }
            (None, _) => {
                // How its data ends is unknown: not taken for a data mode
                // that would block every later command. The next one
                // resynchronises first.
                self.line.out_of_data();
                detail.push_str(
                    " (no payload was declared nor sent; the next command resynchronises with \
                     AT first)",
                );
            }
        }
        self.abandon();
        AtError::Protocol {
            command: label,
            detail,
        }
    }

    pub(super) fn refresh_deadline(&mut self) {
        if let Some(c) = self.line.current_mut() {
            c.deadline = after(Instant::now(), c.timeout);
        }
    }

    pub(super) fn complete(&mut self) -> Response {
        self.decoder.end();
        let Some(c) = self.line.complete() else {
            return Response::default();
        };
        if self.line.in_data_mode() {
            // Its final came before its prompt (Quectel `OK`, `CONNECT`) and
            // its caller finished without ending the payload: the module
            // still takes data. Leave it before the next command.
            tracing::debug!(command = %c.label, "finished while the module takes data");
        }
        c.response
    }

    pub(super) fn fail(&mut self, result: Final) -> AtError {
        let label = self
            .line
            .current()
            .map(|c| c.label.clone())
            .unwrap_or_default();
        if self.decoder.ended_early() {
            // A line it ends on came instead of its answer; a final of its
            // own may still follow.
            self.abandon();
        } else {
            self.decoder.end();
            if self.line.current().is_some() {
                self.line = Line::Ready;
            }
        }
        AtError::from_final(label, result)
    }

    /// Gives up on the command in flight; its late answer will be dropped,
    /// and so will the deferred result its `OK` promised. What its answer may
    /// hold stays known until the resynchronisation, and so does a data mode
    /// it leaves open. With none in flight, a resync is owed.
    pub(super) fn abandon(&mut self) {
        if let Some(line) = self.decoder.abandon() {
            if let Some(i) = self.deferred.iter().position(|l| *l == line) {
                tracing::debug!(result = %line, "result of an abandoned command dropped");
                self.deferred.remove(i);
            }
        }
        let label = self.line.current().map(|c| c.label.clone());
        self.line.give_up();
        if let (Some(label), true) = (label, self.line.in_data_mode()) {
            tracing::debug!(command = %label, "given up in data mode");
        }
    }

    /// Makes the line ready for a command after one was given up: ends a
    /// data mode it left open (`+++`) or refuses to go on (bytes owed), then
    /// resynchronises.
    pub(super) async fn recover(&mut self, label: &str) -> Result<(), AtError> {
        if matches!(self.line, Line::Blocked { .. }) {
            // A final result the module sent by itself (its input timeout)
            // may already be here: read what is available, without waiting,
            // before refusing.
            let now = Instant::now();
            while let Some(ev) = self.next_event(now).await? {
                self.route(ev);
            }
        }
        match &self.line {
            Line::Blocked { command, owed, .. } => {
                let detail = match owed {
                    Owed::Bytes(n) => format!(
                        "not sent: the line is still in data mode: {n} bytes owed to {command} \
                         (its length-delimited payload was cut short; the host sends no made-up \
                         data, so call forget_data_mode() once the module has left data mode)"
                    ),
                    Owed::Undeclared => format!(
                        "not sent: the line may still be in data mode: {command} was given up \
                         after its prompt and how its payload ends was not declared \
                         (Command::expect_payload, Client::declare_payload); call \
                         forget_data_mode() once the module has left data mode"
                    ),
                };
                return Err(AtError::Protocol {
                    command: label.to_owned(),
                    detail,
                });
            }
            Line::Escape { command, .. } => {
                tracing::debug!(command = %command, "ending the data mode of a command given up with +++");
                // Leaves a resync owed.
                self.escape().await?;
            }
            _ => {}
        }
        if let Line::Resync(_) = self.line {
            self.resync().await?;
        }
        Ok(())
    }

    /// The next event that concerns the command in flight; the rest is routed.
    pub(super) async fn next_for_current(&mut self) -> Result<Event, AtError> {
        loop {
            let Some(deadline) = self.line.current().map(|c| c.deadline) else {
                return Err(AtError::Protocol {
                    command: String::new(),
                    detail: "no command in flight".into(),
                });
            };
            match self.next_event(deadline).await {
                Ok(Some(ev @ (Event::Info(_) | Event::Raw(_)))) => {
                    if let Some(c) = self.line.current_mut() {
                        match ev {
                            Event::Info(line) => c.response.info.push(line),
                            Event::Raw(bytes) => c.response.raw.extend_from_slice(&bytes),
                            _ => {}
                        }
                    }
                }
                Ok(Some(ev @ (Event::Final(_) | Event::Prompt(_)))) => {
                    if matches!(ev, Event::Prompt(_)) {
                        // The module takes data from now on.
                        self.line.prompted();
                    } else {
                        // It answers: it is back in command mode.
                        self.line.out_of_data();
                    }
                    return Ok(ev);
                }
                Ok(Some(ev)) => {
                    let rebooted = self.reboot_line(&ev, &[]);
                    self.route(ev);
                    if let Some(line) = rebooted {
                        // The module forgot the command: no answer will come.
                        // Given up as after a timeout, so that should one come
                        // all the same it is never taken for the next one's.
                        let command = self
                            .line
                            .current()
                            .map(|c| c.label.clone())
                            .unwrap_or_default();
                        self.abandon();
                        return Err(AtError::Rebooted { command, line });
                    }
                }
                Ok(None) => {
                    let (command, after) = self
                        .line
                        .current()
                        .map(|c| (c.label.clone(), c.timeout))
                        .unwrap_or_default();
                    self.abandon();
                    return Err(AtError::timeout(command, after, self.stats.bytes_read));
                }
                Err(e) => {
                    // What the module answered is unknown: the next command
                    // resynchronises first.
                    self.abandon();
                    return Err(e);
                }
            }
        }
    }

    /// Whether `line`, which no command in flight claims, must be neither
    /// logged nor routed: what a command given up may still send, its echo
    /// included (it may hold a password; see [`Late`]).
    pub(super) fn hidden(&self, line: &str) -> bool {
        self.line.hides(line, self.decoder.config())
    }

    /// Files an event no one is waiting for right now.
    pub(super) fn route(&mut self, ev: Event) {
        match ev {
            Event::Urc(line) if self.hidden(&line) => {
                tracing::debug!(
                    len = line.len(),
                    "line of a command given up (or an echo) dropped unread: it may hold a secret"
                );
            }
            Event::Urc(line) => {
                tracing::debug!(urc = %line, "urc");
                if self.urcs.len() >= self.config.urc_queue {
                    self.urcs.pop_front();
                }
                // Nobody subscribed is fine: the queue still has it.
                let _ = self.urc_tx.send(line.clone());
                self.urcs.push_back(line);
            }
            Event::Deferred(line) => {
                tracing::debug!(result = %line, "deferred result");
                self.deferred.push_back(line);
            }
            Event::Final(f) => match self.line.late_final() {
                LateFinal::Answered | LateFinal::EscapeStillOwed => {
                    tracing::debug!(result = ?f, "late final result of an abandoned command dropped");
                }
                LateFinal::LeftDataMode(command) => {
                    tracing::debug!(result = ?f, "late final result of an abandoned command dropped");
                    tracing::debug!(command = %command, "the module ended its data mode itself");
                }
                LateFinal::Stray => tracing::debug!(event = ?f, "stray event dropped"),
            },
            // The echo may hold secrets (passwords are echoed too): never logged.
            Event::Echo(_) => {}
            // Whose it is is unknown (a command given up, a sensitive answer):
            // its length only.
            Event::Info(line) => {
                tracing::debug!(len = line.len(), "stray information line dropped");
            }
            Event::Raw(bytes) => tracing::debug!(len = bytes.len(), "stray raw data dropped"),
            other => tracing::debug!(event = ?other, "stray event dropped"),
        }
    }
}
