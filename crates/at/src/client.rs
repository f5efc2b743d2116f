//! The async client: sequences one command at a time over any byte stream.
//!
//! All protocol decisions are the [`Decoder`]'s; this layer writes bytes, reads
//! bytes, keeps time and routes URCs and deferred results to whoever waits.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::broadcast;
use tokio::time::{Instant, sleep, sleep_until, timeout_at};

use crate::command::Command;
use crate::decode::{Decoder, DecoderConfig, Event, Final, Prompt};
use crate::error::AtError;

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
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Response {
    /// Information lines, in order.
    pub info: Vec<String>,
    /// Announced raw data blocks, concatenated.
    pub raw: Vec<u8>,
    /// The prompt, when the command asked for one.
    pub prompt: Option<Prompt>,
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
    response: Response,
    result: Option<Final>,
    /// Its information lines carry a secret and are not logged.
    sensitive: bool,
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
    abandoned: bool,
    quiet_until: Option<Instant>,
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
            quiet_until: None,
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
    pub async fn upload(
        &mut self,
        cmd: &Command,
        data: &[u8],
        end: DataEnd,
    ) -> Result<Response, AtError> {
        self.begin(cmd).await?;
        self.wait_prompt().await?;
        self.write_data(data).await?;
        if end == DataEnd::Escape {
            self.write_escape().await?;
        }
        self.finish().await
    }

    /// Writes `cmd`. Encoding errors come back before any byte is written.
    pub async fn begin(&mut self, cmd: &Command) -> Result<(), AtError> {
        let bytes = cmd.encode()?;
        if let Some(current) = &self.current {
            // The call that wrote it was dropped (cancelled, e.g. by
            // `tokio::time::timeout`) before its answer came: give it up as
            // after a timeout, so its late answer is never taken for ours.
            tracing::debug!(command = %current.label, "abandoned: its caller went away");
            self.abandon();
        }
        if self.abandoned {
            self.resync().await?;
        }
        let label = cmd.redacted();
        tracing::debug!(command = %label, "send");
        self.write(&bytes).await?;
        self.stats.commands += 1;
        self.decoder.begin(cmd);
        let timeout = cmd.timeout_value().unwrap_or(self.config.command_timeout);
        self.current = Some(Current {
            label,
            timeout,
            deadline: Instant::now() + timeout,
            response: Response::default(),
            result: None,
            sensitive: cmd.has_sensitive_answer(),
        });
        Ok(())
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
        self.write(data).await?;
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

    /// Ends data mode with `+++` in one write, with the guard time before it and
    /// no write after it for the guard time.
    pub async fn write_escape(&mut self) -> Result<(), AtError> {
        sleep(self.config.guard_time).await;
        self.write(b"+++").await?;
        self.quiet_until = Some(Instant::now() + self.config.guard_time);
        self.refresh_deadline();
        Ok(())
    }

    /// Waits for the final result of the command in flight.
    pub async fn finish(&mut self) -> Result<Response, AtError> {
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
                    let label = self
                        .current
                        .as_ref()
                        .map(|c| c.label.clone())
                        .unwrap_or_default();
                    self.abandon();
                    return Err(AtError::Protocol {
                        command: label,
                        detail: format!("unexpected prompt {p:?}"),
                    });
                }
                _ => {}
            }
        }
    }

    /// Waits for the deferred result `prefix` (e.g. `+QSMTPPUT:`) of an earlier
    /// command. On timeout the result, should it still come, is dropped.
    pub async fn deferred(&mut self, prefix: &str, timeout: Duration) -> Result<String, AtError> {
        let deadline = Instant::now() + timeout;
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
        let deadline = Instant::now() + timeout;
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

    /// Waits for a URC starting with `prefix` (one already received counts).
    pub async fn wait_urc(&mut self, prefix: &str, timeout: Duration) -> Result<String, AtError> {
        let deadline = Instant::now() + timeout;
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
        let deadline = Instant::now() + duration;
        while let Some(ev) = self.next_event(deadline).await? {
            self.route(ev);
        }
        Ok(())
    }

    fn refresh_deadline(&mut self) {
        if let Some(c) = self.current.as_mut() {
            c.deadline = Instant::now() + c.timeout;
        }
    }

    fn complete(&mut self) -> Response {
        self.decoder.end();
        self.current.take().map(|c| c.response).unwrap_or_default()
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
    /// and so will the deferred result its `OK` promised.
    fn abandon(&mut self) {
        if let Some(line) = self.decoder.abandon() {
            if let Some(i) = self.deferred.iter().position(|l| *l == line) {
                tracing::debug!(result = %line, "result of an abandoned command dropped");
                self.deferred.remove(i);
            }
        }
        self.current = None;
        self.abandoned = true;
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
                Ok(Some(ev @ (Event::Final(_) | Event::Prompt(_)))) => return Ok(ev),
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

    /// Files an event no one is waiting for right now.
    fn route(&mut self, ev: Event) {
        match ev {
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
            }
            // The echo may hold secrets (passwords are echoed too): never logged.
            Event::Echo(_) => {}
            other => tracing::debug!(event = ?other, "stray event dropped"),
        }
    }

    /// After a timeout: make sure the abandoned command's answer cannot be taken
    /// for the next one. `AT` is sent; its `OK` (or the late answer followed by
    /// its `OK`) is consumed before the next command goes out.
    async fn resync(&mut self) -> Result<(), AtError> {
        tracing::debug!("resynchronising after a timeout");
        let probe = Command::exec("");
        self.write(b"AT\r").await?;
        self.stats.commands += 1;
        // In flight like any command: its echo (ATE1) is an echo, and late
        // lines of the abandoned command are dropped, not queued as URCs.
        self.decoder.begin(&probe);
        let result = self.resync_answer().await;
        self.decoder.end();
        result
    }

    async fn resync_answer(&mut self) -> Result<(), AtError> {
        let deadline = Instant::now() + self.config.resync_timeout;
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
        let quiet = Instant::now() + self.config.resync_quiet;
        while let Some(ev) = self.next_event(quiet).await? {
            if matches!(ev, Event::Final(_)) {
                break;
            }
            self.route(ev);
        }
        self.abandoned = false;
        Ok(())
    }

    async fn write(&mut self, bytes: &[u8]) -> Result<(), AtError> {
        if let Some(until) = self.quiet_until {
            sleep_until(until).await;
            // Only now: a call cancelled while waiting leaves the silence
            // still to keep for the next write.
            self.quiet_until = None;
        }
        self.io.write_all(bytes).await?;
        self.io.flush().await?;
        self.stats.bytes_written += bytes.len() as u64;
        Ok(())
    }

    /// The next decoded event, reading as needed; `None` once `deadline` passed.
    async fn next_event(&mut self, deadline: Instant) -> Result<Option<Event>, AtError> {
        loop {
            if let Some(ev) = self.decoder.next_event() {
                let secret = matches!(ev, Event::Info(_))
                    && self.current.as_ref().is_some_and(|c| c.sensitive);
                if secret {
                    tracing::trace!("received an information line that carries a secret");
                } else if !matches!(ev, Event::Echo(_) | Event::Raw(_)) {
                    tracing::trace!(event = ?ev, "received");
                }
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
