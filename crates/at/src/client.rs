//! The async client: sequences one command at a time over any byte stream.
//!
//! All protocol decisions are the [`Decoder`]'s; this layer writes bytes, reads
//! bytes, keeps time and routes URCs and deferred results to whoever waits.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::fmt;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::broadcast;
use tokio::time::{Instant, sleep_until, timeout_at};

use crate::command::{Command, Payload};
use crate::decode::{Decoder, DecoderConfig, Event, Final, Prompt};
use crate::error::AtError;

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

/// The answer to one command.
///
/// `Debug` shows the information lines and raw data unless the command was
/// marked [`sensitive_answer`](Command::sensitive_answer) (`sensitive`): then
/// only the prefix of each line and the sizes.
///
/// ```
/// let r = cellmail_at::Response {
///     info: vec!["+SMTPAUTH: 1,\"john\",\"hunter2\"".into()],
///     sensitive: true,
///     ..Default::default()
/// };
/// assert!(!format!("{r:?}").contains("hunter2"));
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Response {
    /// Information lines, in order.
    pub info: Vec<String>,
    /// Announced raw data blocks, concatenated.
    pub raw: Vec<u8>,
    /// The prompt, when the command asked for one.
    pub prompt: Option<Prompt>,
    /// The answer carries a secret (the command was marked
    /// [`sensitive_answer`](Command::sensitive_answer)): `Debug` redacts it.
    pub sensitive: bool,
}

impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        /// A line shown as its prefix only (`+SMTPAUTH: ***`).
        struct Redacted<'a>(&'a str);
        impl fmt::Debug for Redacted<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self.0.split_once(':') {
                    Some((prefix, _)) if prefix.starts_with('+') && !prefix.contains('"') => {
                        write!(f, "\"{prefix}: ***\"")
                    }
                    _ => f.write_str("\"***\""),
                }
            }
        }
        let mut d = f.debug_struct("Response");
        if self.sensitive {
            let lines: Vec<Redacted<'_>> = self.info.iter().map(|l| Redacted(l)).collect();
            d.field("info", &lines)
                .field("raw", &format_args!("<{} bytes>", self.raw.len()));
        } else {
            d.field("info", &self.info).field("raw", &self.raw);
        }
        d.field("prompt", &self.prompt)
            .field("sensitive", &self.sensitive)
            .finish()
    }
}

impl Response {
    /// The first information line starting with `prefix`, without the prefix.
    ///
    /// ```
    /// let r = cellmail_at::Response { info: vec!["+QSMTPSRV: \"a\",25".into()], ..Default::default() };
    /// assert_eq!(r.line("+QSMTPSRV:"), Some(" \"a\",25"));
    /// ```
    pub fn line(&self, prefix: &str) -> Option<&str> {
        self.info.iter().find_map(|l| l.strip_prefix(prefix))
    }

    /// The parameters of the first information line starting with `prefix`.
    pub fn fields(&self, prefix: &str) -> Option<Vec<crate::fields::Field<'_>>> {
        self.line(prefix).map(crate::fields::split)
    }
}

/// What [`Client::wait_any`] saw first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Arrived {
    /// A deferred result line.
    Deferred(String),
    /// A URC line.
    Urc(String),
}

/// How a data-mode payload ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataEnd {
    /// The module counts the bytes (`DOWNLOAD`, `+SMTPFT: 2,<n>`).
    Length,
    /// The host ends the data with `+++` inside guard times (Quectel).
    Escape,
}

struct Current {
    label: String,
    timeout: Duration,
    deadline: Instant,
    /// `response.sensitive`: its information lines carry a secret and are
    /// not logged.
    response: Response,
    result: Option<Final>,
    /// What its answer may still hold should it be given up.
    late: Late,
    /// How its data-mode payload ends, when declared.
    payload: Option<Payload>,
    /// Its prompt came and, as far as the host knows, the module still
    /// takes data.
    in_data: bool,
    /// Payload bytes handed to the line since its prompt.
    data_written: u64,
}

impl Current {
    /// What the module still takes, if it is in data mode.
    fn data_left(&self) -> Option<DataLeft> {
        if !self.in_data {
            return None;
        }
        match self.payload {
            Some(Payload::Escape) => Some(DataLeft::Escape),
            Some(Payload::Length(n)) => {
                let owed = n.saturating_sub(self.data_written);
                (owed > 0).then_some(DataLeft::Owed(owed))
            }
            None => Some(DataLeft::Undeclared),
        }
    }
}

/// What a command given up may still send that must never be logged nor
/// routed as a URC: the answer of a [sensitive](Command::sensitive_answer)
/// query, and its echo (the command line, passwords included). Kept from the
/// moment it is given up until the resynchronisation is over. No `Debug`: it
/// holds the command line.
struct Late {
    /// Its answer carries a secret.
    sensitive: bool,
    /// The prefix of its information lines.
    prefix: Option<String>,
    /// Its command line as the module echoes it.
    echo: Vec<u8>,
}

impl Late {
    fn of(cmd: &Command) -> Self {
        Self {
            sensitive: cmd.has_sensitive_answer(),
            prefix: cmd.info_prefix().map(Cow::into_owned),
            echo: cmd.echo_line(),
        }
    }

    /// Whether `line`, which no command in flight claims, may be part of it.
    /// While a sensitive answer may still come, any line but a declared URC
    /// (with another prefix) may be.
    fn may_hold(&self, line: &str, config: &DecoderConfig) -> bool {
        // Its own echo, exactly: a line that merely starts like a command
        // (`At 10:00 ...`, `Attached ...`) is someone's data.
        (!self.echo.is_empty() && line.as_bytes() == self.echo.as_slice())
            || (self.sensitive
                && (self.prefix.as_deref().is_some_and(|p| line.starts_with(p))
                    || !config.is_urc(line)))
    }
}

/// How long a flush may take, and what to report when it takes longer.
#[derive(Clone, Copy)]
struct Limit<'a> {
    deadline: Instant,
    command: &'a str,
    after: Duration,
}

/// What a command given up in data mode leaves the module waiting for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DataLeft {
    /// The `+++` that ends its payload.
    Escape,
    /// This many more bytes of a length-delimited payload.
    Owed(u64),
    /// An end nobody declared.
    Undeclared,
}

/// A command given up in data mode.
#[derive(Debug)]
struct DataMode {
    /// The command, redacted.
    command: String,
    left: DataLeft,
}

/// One reader's view of the URCs, apart from the client's own queue: every
/// URC since the last look, and how many were missed when the reader fell
/// more than the channel's capacity behind.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), cellmail_at::AtError> {
/// use cellmail_at::{Client, ClientConfig};
/// use tokio::io::AsyncWriteExt;
/// let (host, mut module) = tokio::io::duplex(256);
/// let mut client = Client::new(host, ClientConfig::default());
/// let mut watch = client.watch_urcs();
/// module.write_all(b"\r\nRDY\r\n").await?;
/// client.idle(std::time::Duration::from_millis(10)).await?;
/// let seen = watch.seen();
/// assert_eq!((seen.lines, seen.missed), (vec!["RDY".to_owned()], 0));
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct UrcWatch(broadcast::Receiver<String>);

/// What a [`UrcWatch`] saw since the last look.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SeenUrcs {
    /// URCs missed before `lines` (the reader fell behind); a dialect assumes
    /// the worst of them, e.g. a reboot.
    pub missed: u64,
    /// The URCs, in order.
    pub lines: Vec<String>,
}

impl UrcWatch {
    /// The URCs since the last look, without waiting.
    pub fn seen(&mut self) -> SeenUrcs {
        let mut seen = SeenUrcs::default();
        loop {
            match self.0.try_recv() {
                Ok(line) => seen.lines.push(line),
                // The channel drops the oldest, so the missed ones came first.
                Err(broadcast::error::TryRecvError::Lagged(n)) => seen.missed += n,
                Err(
                    broadcast::error::TryRecvError::Empty | broadcast::error::TryRecvError::Closed,
                ) => return seen,
            }
        }
    }
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
    current: Option<Current>,
    urcs: VecDeque<String>,
    deferred: VecDeque<String>,
    urc_tx: broadcast::Sender<String>,
    stats: Stats,
    /// A command may have been (partly) written whose answer is not read:
    /// resynchronise before the next one.
    abandoned: bool,
    /// What the answer of that command may hold (see [`Late`]).
    late: Option<Late>,
    /// It was given up in data mode.
    data_mode: Option<DataMode>,
    quiet_until: Option<Instant>,
    /// When the last byte was handed to the line, or (once `drained`) left it.
    last_write: Option<Instant>,
    /// The stream was flushed after the last byte handed to it.
    drained: bool,
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
            current: None,
            urcs: VecDeque::new(),
            deferred: VecDeque::new(),
            urc_tx,
            stats: Stats::default(),
            abandoned: false,
            late: None,
            data_mode: None,
            quiet_until: None,
            last_write: None,
            drained: true,
            read_buf: vec![0; 4096].into_boxed_slice(),
        }
    }

    /// The settings.
    pub fn config(&self) -> &ClientConfig {
        &self.config
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
        if let Some(current) = &self.current {
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
        self.abandoned = true;
        self.late = Some(Late::of(cmd));
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
        let timeout = cmd.timeout_value().unwrap_or(self.config.command_timeout);
        self.current = Some(Current {
            label,
            timeout,
            deadline: after(Instant::now(), timeout),
            response: Response {
                sensitive: cmd.has_sensitive_answer(),
                ..Response::default()
            },
            result: None,
            late: self.late.take().unwrap_or_else(|| Late::of(cmd)),
            payload: cmd.payload(),
            in_data: false,
            data_written: 0,
        });
        self.abandoned = false;
        Ok(())
    }

    /// Declares how the data-mode payload of the command in flight ends
    /// (when its [`Command`] did not, or when the module decides: the grant
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
        match self.current.as_mut() {
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
        self.data_mode.is_some()
    }

    /// The module has left the data mode a command given up left open, by
    /// other means than this client: its own input timeout, a reset, a power
    /// cycle, a DTR drop. Commands are sent again, after an `AT` that
    /// resynchronises. (A final result the module sends by itself in that
    /// state, read while idle, is taken as the end of its data mode too.)
    pub fn forget_data_mode(&mut self) {
        if let Some(c) = self.current.as_mut().filter(|c| c.in_data) {
            // Its caller left it in flight, in data mode: given up later, it
            // leaves no data mode behind.
            tracing::debug!(command = %c.label, "data mode forgotten");
            c.in_data = false;
        }
        if let Some(mode) = self.data_mode.take() {
            tracing::debug!(command = %mode.command, "data mode forgotten");
            self.abandoned = true;
        }
    }

    /// Waits for the data prompt of the command in flight. A line the command
    /// [ends on](Command::ends_on) ends the wait at once with
    /// [`AtError::Failed`].
    pub async fn wait_prompt(&mut self) -> Result<Prompt, AtError> {
        loop {
            match self.next_for_current().await? {
                Event::Prompt(p) => {
                    if let Some(c) = self.current.as_mut() {
                        c.response.prompt = Some(p.clone());
                    }
                    return Ok(p);
                }
                Event::Final(f) if f.is_success() => {
                    if let Some(c) = self.current.as_mut() {
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
            .current
            .as_ref()
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

    /// Waits for the final result of the command in flight. A payload whose
    /// end was not [declared](Self::declare_payload) is complete from now on.
    pub async fn finish(&mut self) -> Result<Response, AtError> {
        if let Some(c) = self.current.as_mut() {
            if c.payload.is_none() {
                c.in_data = false;
            }
        }
        loop {
            if let Some(Final::Ok | Final::Declared { success: true, .. }) =
                self.current.as_ref().and_then(|c| c.result.as_ref())
            {
                return Ok(self.complete());
            }
            match self.next_for_current().await? {
                Event::Final(f) if f.is_success() => {
                    if let Some(c) = self.current.as_mut() {
                        c.result = Some(f);
                    }
                }
                Event::Final(f) => return Err(self.fail(f)),
                Event::Prompt(p) => {
                    let mut detail = format!("unexpected prompt {p:?}");
                    let mut label = String::new();
                    if let Some(c) = self.current.as_mut() {
                        label.clone_from(&c.label);
                        match (&c.payload, &p) {
                            (Some(_), _) => {}
                            (None, Prompt::Connect) => {
                                // Its data ends with `+++`: the next command
                                // ends it so before resynchronising.
                                c.payload = Some(Payload::Escape);
                                detail.push_str(
                                    " (no payload was sent; the next command first ends the                                      data mode with +++)",
                                );
                            }
                            (None, _) => {
                                // How its data ends is unknown: not taken for
                                // a data mode that would block every later
                                // command. The next one resynchronises first.
                                c.in_data = false;
                                detail.push_str(
                                    " (no payload was declared nor sent; the next command                                      resynchronises with AT first)",
                                );
                            }
                        }
                    }
                    self.abandon();
                    return Err(AtError::Protocol {
                        command: label,
                        detail,
                    });
                }
                _ => {}
            }
        }
    }

    /// Waits for the deferred result `prefix` (e.g. `+QSMTPPUT:`) of an earlier
    /// command. On timeout the result, should it still come, is dropped.
    pub async fn deferred(&mut self, prefix: &str, timeout: Duration) -> Result<String, AtError> {
        let deadline = after(Instant::now(), timeout);
        loop {
            if let Some(i) = self.deferred.iter().position(|l| l.starts_with(prefix)) {
                if let Some(line) = self.deferred.remove(i) {
                    // The module answered the command it took data for, so it
                    // has taken our `+++` as the escape: the silence kept
                    // after it has done its job.
                    self.quiet_until = None;
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
                Some(ev) => self.route(ev),
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
    /// [`Decoder::abandon_deferred`] for how the two are told apart). If the
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

    fn refresh_deadline(&mut self) {
        if let Some(c) = self.current.as_mut() {
            c.deadline = after(Instant::now(), c.timeout);
        }
    }

    fn complete(&mut self) -> Response {
        self.decoder.end();
        let Some(c) = self.current.take() else {
            return Response::default();
        };
        if let Some(left) = c.data_left() {
            // Its final came before its prompt (Quectel `OK`, `CONNECT`) and
            // its caller finished without ending the payload: the module
            // still takes data. Leave it before the next command.
            tracing::debug!(command = %c.label, ?left, "finished while the module takes data");
            self.data_mode = Some(DataMode {
                command: c.label.clone(),
                left,
            });
            self.abandoned = true;
        }
        c.response
    }

    fn fail(&mut self, result: Final) -> AtError {
        let label = self
            .current
            .as_ref()
            .map(|c| c.label.clone())
            .unwrap_or_default();
        if self.decoder.ended_early() {
            // A line it ends on came instead of its answer; a final of its
            // own may still follow.
            self.abandon();
        } else {
            self.decoder.end();
            self.current = None;
        }
        AtError::from_final(label, result)
    }

    /// Gives up on the command in flight; its late answer will be dropped,
    /// and so will the deferred result its `OK` promised. What its answer may
    /// hold stays known until the resynchronisation, and so does a data mode
    /// it leaves open.
    fn abandon(&mut self) {
        if let Some(line) = self.decoder.abandon() {
            if let Some(i) = self.deferred.iter().position(|l| *l == line) {
                tracing::debug!(result = %line, "result of an abandoned command dropped");
                self.deferred.remove(i);
            }
        }
        if let Some(c) = self.current.take() {
            if let Some(left) = c.data_left() {
                tracing::debug!(command = %c.label, ?left, "given up in data mode");
                self.data_mode = Some(DataMode {
                    command: c.label.clone(),
                    left,
                });
            }
            self.late = Some(c.late);
        }
        self.abandoned = true;
    }

    /// Makes the line ready for a command after one was given up: ends a
    /// data mode it left open (`+++`) or refuses to go on (bytes owed), then
    /// resynchronises.
    async fn recover(&mut self, label: &str) -> Result<(), AtError> {
        if self
            .data_mode
            .as_ref()
            .is_some_and(|m| matches!(m.left, DataLeft::Owed(_) | DataLeft::Undeclared))
        {
            // A final result the module sent by itself (its input timeout)
            // may already be here: read what is available, without waiting,
            // before refusing.
            let now = Instant::now();
            while let Some(ev) = self.next_event(now).await? {
                self.route(ev);
            }
        }
        if let Some(mode) = &self.data_mode {
            let detail = match mode.left {
                DataLeft::Escape => None,
                DataLeft::Owed(n) => Some(format!(
                    "not sent: the line is still in data mode: {n} bytes owed to {} \
                     (its length-delimited payload was cut short; the host sends no made-up \
                     data, so call forget_data_mode() once the module has left data mode)",
                    mode.command
                )),
                DataLeft::Undeclared => Some(format!(
                    "not sent: the line may still be in data mode: {} was given up after its \
                     prompt and how its payload ends was not declared (Command::expect_payload, \
                     Client::declare_payload); call forget_data_mode() once the module has left \
                     data mode",
                    mode.command
                )),
            };
            if let Some(detail) = detail {
                return Err(AtError::Protocol {
                    command: label.to_owned(),
                    detail,
                });
            }
            tracing::debug!(command = %mode.command, "ending the data mode of a command given up with +++");
            self.escape().await?;
            self.abandoned = true;
        }
        if self.abandoned {
            self.resync().await?;
        }
        Ok(())
    }

    /// `+++` in one write, with the guard time of silence before it (from
    /// when the last byte left the line) and after it.
    async fn escape(&mut self) -> Result<(), AtError> {
        let guard = self.config.guard_time;
        let (deadline, command, timeout) = self
            .current
            .as_ref()
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
        if !self.drained {
            // A flush cancelled earlier: the bytes may still be on their way.
            self.flush_by(&limit).await?;
        }
        if let Some(last) = self.last_write {
            sleep_until(after(last, guard)).await;
        }
        self.keep_quiet().await;
        // The silence after it is kept even if this call is cancelled while
        // writing it.
        self.quiet_until = Some(after(Instant::now(), guard));
        self.hand_over(b"+++", false).await?;
        // Handed over: the module's data mode ends with it.
        if let Some(c) = self.current.as_mut() {
            c.in_data = false;
        }
        self.data_mode = None;
        let limit = Limit {
            deadline: after(limit.deadline, guard),
            ..limit
        };
        self.flush_by(&limit).await?;
        self.quiet_until = Some(after(Instant::now(), guard));
        Ok(())
    }

    /// The next event that concerns the command in flight; the rest is routed.
    async fn next_for_current(&mut self) -> Result<Event, AtError> {
        loop {
            let Some(deadline) = self.current.as_ref().map(|c| c.deadline) else {
                return Err(AtError::Protocol {
                    command: String::new(),
                    detail: "no command in flight".into(),
                });
            };
            match self.next_event(deadline).await {
                Ok(Some(ev @ (Event::Info(_) | Event::Raw(_)))) => {
                    if let Some(c) = self.current.as_mut() {
                        match ev {
                            Event::Info(line) => c.response.info.push(line),
                            Event::Raw(bytes) => c.response.raw.extend_from_slice(&bytes),
                            _ => {}
                        }
                    }
                }
                Ok(Some(ev @ (Event::Final(_) | Event::Prompt(_)))) => {
                    if let Some(c) = self.current.as_mut() {
                        if matches!(ev, Event::Prompt(_)) {
                            // The module takes data from now on.
                            c.in_data = true;
                            c.data_written = 0;
                        } else {
                            // It answers: it is back in command mode.
                            c.in_data = false;
                        }
                    }
                    return Ok(ev);
                }
                Ok(Some(ev)) => self.route(ev),
                Ok(None) => {
                    let (command, after) = self
                        .current
                        .as_ref()
                        .map(|c| (c.label.clone(), c.timeout))
                        .unwrap_or_default();
                    self.abandon();
                    return Err(AtError::Timeout { command, after });
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
    fn hidden(&self, line: &str) -> bool {
        let config = self.decoder.config();
        self.late.as_ref().is_some_and(|l| l.may_hold(line, config))
    }

    /// Files an event no one is waiting for right now.
    fn route(&mut self, ev: Event) {
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
            Event::Final(f) if self.abandoned => {
                tracing::debug!(result = ?f, "late final result of an abandoned command dropped");
                self.abandoned = false;
                self.late = None;
                if let Some(mode) = self
                    .data_mode
                    .take_if(|m| matches!(m.left, DataLeft::Owed(_) | DataLeft::Undeclared))
                {
                    tracing::debug!(command = %mode.command, "the module ended its data mode itself");
                }
            }
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

    /// After a timeout: make sure the abandoned command's answer cannot be taken
    /// for the next one. `AT` is sent; its `OK` (or the late answer followed by
    /// its `OK`) is consumed before the next command goes out.
    async fn resync(&mut self) -> Result<(), AtError> {
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

    async fn resync_answer(&mut self) -> Result<(), AtError> {
        let deadline = after(Instant::now(), self.config.resync_timeout);
        loop {
            match self.next_event(deadline).await? {
                Some(Event::Final(_)) => break,
                Some(ev) => self.route(ev),
                None => {
                    return Err(AtError::Timeout {
                        command: "AT (resynchronisation)".into(),
                        after: self.config.resync_timeout,
                    });
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
        self.abandoned = false;
        self.late = None;
        Ok(())
    }

    /// Keeps the silence still due after `+++`. Only once it is over is it
    /// forgotten: a call cancelled while waiting leaves it to the next write.
    async fn keep_quiet(&mut self) {
        if let Some(until) = self.quiet_until {
            sleep_until(until).await;
            self.quiet_until = None;
        }
    }

    /// Hands `bytes` to the stream and flushes it (for a serial port from
    /// [`serial::open`](crate::serial::open): waits, without blocking the
    /// runtime, until they have left the line), by `limit`.
    async fn send(&mut self, bytes: &[u8], data: bool, limit: Limit<'_>) -> Result<(), AtError> {
        self.hand_over(bytes, data).await?;
        self.flush_by(&limit).await
    }

    /// Flushes the stream, by `limit.deadline`: a flush that never ends (a
    /// wedged `tcdrain`) is a timeout like an answer that never comes, and
    /// the command in flight is given up.
    async fn flush_by(&mut self, limit: &Limit<'_>) -> Result<(), AtError> {
        match timeout_at(limit.deadline, self.io.flush()).await {
            Ok(result) => {
                result?;
                self.mark_drained();
                Ok(())
            }
            Err(_elapsed) => {
                tracing::debug!(command = %limit.command, "the line did not drain in time");
                if self.current.is_some() {
                    self.abandon();
                }
                self.abandoned = true;
                Err(AtError::Timeout {
                    command: limit.command.to_owned(),
                    after: limit.after,
                })
            }
        }
    }

    /// Writes `bytes`, counting each part as the stream takes it, so that a
    /// call cancelled midway knows how much went out (payload bytes owed).
    async fn hand_over(&mut self, mut bytes: &[u8], data: bool) -> Result<(), AtError> {
        while !bytes.is_empty() {
            let n = self.io.write(bytes).await?;
            if n == 0 {
                return Err(AtError::Io(std::io::ErrorKind::WriteZero.into()));
            }
            self.stats.bytes_written += n as u64;
            self.drained = false;
            self.last_write = Some(Instant::now());
            if data {
                if let Some(c) = self.current.as_mut() {
                    c.data_written += n as u64;
                }
            }
            bytes = &bytes[n..];
        }
        Ok(())
    }

    fn mark_drained(&mut self) {
        self.drained = true;
        self.last_write = Some(Instant::now());
    }

    /// Traces what came, never a secret: not the echo (it holds the command
    /// line), not an information line of a sensitive answer, not a line no
    /// command claims (whose it is is unknown), not raw data.
    fn trace_received(&self, ev: &Event) {
        match ev {
            Event::Echo(_) | Event::Raw(_) => {}
            Event::Info(_) if self.current.as_ref().is_some_and(|c| c.response.sensitive) => {
                tracing::trace!("received an information line that carries a secret");
            }
            Event::Info(line) if self.current.is_none() => {
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
    async fn next_event(&mut self, deadline: Instant) -> Result<Option<Event>, AtError> {
        loop {
            if let Some(ev) = self.decoder.next_event() {
                self.trace_received(&ev);
                return Ok(Some(ev));
            }
            let n = match timeout_at(deadline, self.io.read(&mut self.read_buf)).await {
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
