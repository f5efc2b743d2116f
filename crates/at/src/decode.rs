//! The streaming response decoder (sans-I/O).
//!
//! Bytes go in with [`Decoder::push`] in chunks of any size; [`Decoder::next_event`]
//! hands out [`Event`]s. What a line *means* depends on the command in flight
//! ([`Decoder::begin`]): the same `+SMTPFT:` prefix is an information line, a
//! data prompt or a URC depending on what was asked, a `>` is a prompt only when
//! one was asked for, and the bytes of an announced raw block are data however
//! much they look like `OK`.

use std::borrow::Cow;
use std::fmt;

use crate::command::{Command, FinalLine, PromptKind, RawLength};

/// Lines longer than this without a line end are handed out as they are, so a
/// babbling module cannot grow the buffer without bound.
const MAX_LINE: usize = 16 * 1024;

/// Whether a declared final result means success.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FinalKind {
    /// E.g. `DEACT OK`, `SHUT OK`, `SEND OK`.
    Success,
    /// E.g. `SEND FAIL`, `NO CARRIER`.
    Failure,
}

/// What the decoder knows about a dialect: its URC prefixes and extra finals.
///
/// ```
/// use cellmail_at::{DecoderConfig, FinalKind};
/// let config = DecoderConfig::default()
///     .urc("+QSMTPPUT:")
///     .final_result("DEACT OK", FinalKind::Success);
/// assert!(config.is_urc("RDY"));
/// ```
#[derive(Clone, Debug)]
pub struct DecoderConfig {
    urcs: Vec<Cow<'static, str>>,
    finals: Vec<(Cow<'static, str>, FinalKind)>,
}

/// URCs every module of the manuals may send at any time (boot and status).
pub const BOOT_URCS: &[&str] = &[
    "RDY",
    "+CPIN:",
    "+CFUN:",
    "Call Ready",
    "SMS Ready",
    "SMS DONE",
    "PB DONE",
    "NORMAL POWER DOWN",
    "UNDER-VOLTAGE",
    "OVER-VOLTAGE",
    "+SAPBR 1: DEACT",
];

impl Default for DecoderConfig {
    fn default() -> Self {
        Self {
            urcs: BOOT_URCS.iter().map(|s| Cow::Borrowed(*s)).collect(),
            finals: Vec::new(),
        }
    }
}

impl DecoderConfig {
    /// A configuration that knows no URC prefixes and no extra finals.
    pub fn empty() -> Self {
        Self {
            urcs: Vec::new(),
            finals: Vec::new(),
        }
    }

    /// Declares a URC prefix (a line starting with it is unsolicited unless the
    /// command in flight claims it).
    pub fn urc(mut self, prefix: impl Into<Cow<'static, str>>) -> Self {
        self.urcs.push(prefix.into());
        self
    }

    /// Declares a vendor final result line such as `DEACT OK`.
    pub fn final_result(mut self, line: impl Into<Cow<'static, str>>, kind: FinalKind) -> Self {
        self.finals.push((line.into(), kind));
        self
    }

    /// Whether `line` starts with a declared URC prefix.
    pub fn is_urc(&self, line: &str) -> bool {
        self.urcs.iter().any(|p| line.starts_with(p.as_ref()))
    }

    fn declared_final(&self, line: &str) -> Option<FinalKind> {
        self.finals
            .iter()
            .find(|(text, _)| text.as_ref() == line)
            .map(|(_, kind)| *kind)
    }
}

/// The error detail of `+CME ERROR:` (numeric or verbose mode).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CmeError {
    /// `+CME ERROR: 3`
    Code(u16),
    /// `+CME ERROR: operation not allowed`
    Text(String),
}

impl std::fmt::Display for CmeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CmeError::Code(c) => write!(f, "{c}"),
            CmeError::Text(t) => f.write_str(t),
        }
    }
}

/// A final result code: the end of a command's response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Final {
    /// `OK`
    Ok,
    /// `ERROR`
    Error,
    /// `+CME ERROR: <n or text>`
    CmeError(CmeError),
    /// `+CMS ERROR: <n>`
    CmsError(u16),
    /// A final the dialect declared, e.g. `DEACT OK`.
    Declared {
        /// The line.
        text: String,
        /// Whether it means success.
        success: bool,
    },
}

impl Final {
    /// Whether the command succeeded.
    pub fn is_success(&self) -> bool {
        matches!(self, Final::Ok | Final::Declared { success: true, .. })
    }
}

/// A data prompt the module sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Prompt {
    /// `CONNECT` (the whole line is kept, some modules add a rate).
    Connect,
    /// `DOWNLOAD`
    Download,
    /// `> `
    Angle,
    /// An information line acting as prompt, e.g. `+SMTPFT: 2,100`.
    Line(String),
}

/// The prompt as the module sent it, for operators.
///
/// ```
/// use cellmail_at::Prompt;
/// assert_eq!(Prompt::Download.to_string(), "DOWNLOAD");
/// assert_eq!(Prompt::Line("+SMTPFT: 2,100".into()).to_string(), "+SMTPFT: 2,100");
/// ```
impl std::fmt::Display for Prompt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Prompt::Connect => f.write_str("CONNECT"),
            Prompt::Download => f.write_str("DOWNLOAD"),
            Prompt::Angle => f.write_str("\"> \""),
            Prompt::Line(line) => f.write_str(line),
        }
    }
}

/// One decoded item of the module's output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// The module echoed the command in flight (ATE1).
    Echo(String),
    /// An information line belonging to the command in flight.
    Info(String),
    /// A raw data block announced by the previous information line.
    Raw(Vec<u8>),
    /// A data prompt the command in flight asked for.
    Prompt(Prompt),
    /// A final result.
    Final(Final),
    /// A result that belongs to an earlier command and arrived after its `OK`
    /// (e.g. `+QSMTPPUT: 0`, `+SMTPSEND: 1`).
    Deferred(String),
    /// An unsolicited result code.
    Urc(String),
}

struct InFlight {
    echo: Vec<u8>,
    prefix: Option<String>,
    prompt: Option<PromptKind>,
    deferred: Option<String>,
    raw: Option<RawLength>,
    final_line: Option<FinalLine>,
    ends_on: Vec<Cow<'static, str>>,
    echo_seen: bool,
    final_seen: bool,
    prompt_seen: bool,
    /// The expectation its `OK` registered for its deferred result.
    registered: Option<u64>,
    /// That result, once handed out as [`Event::Deferred`].
    delivered: Option<String>,
    /// A line it [ends on](Command::ends_on) ended it.
    ended_early: bool,
    /// Its answer is a [text block](Command::expect_text_block), and where
    /// the block stands.
    block: Block,
}

/// Where a [text block](Command::expect_text_block) answer stands.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Block {
    /// The command's answer is lines as usual.
    No,
    /// A text block, not begun yet.
    Expected,
    /// Its first line came: blank lines and URC-like lines are its own.
    Open,
    /// A line reading as a final result (`OK`, `ERROR`, `+CME ERROR: ..`)
    /// came inside the block. The module prints a message line by line with
    /// no length, so the line is the message's if more text follows, and the
    /// answer's end if the module then keeps quiet ([`Decoder::settle`]) or
    /// sends a URC the dialect declared.
    Held(String),
}

impl InFlight {
    /// Whether the module may still answer it: no final yet, or a prompt
    /// still due (Quectel sends `OK` before `CONNECT`).
    fn open(&self) -> bool {
        !self.final_seen || (self.prompt.is_some() && !self.prompt_seen)
    }
}

// By hand: `echo` is the command line as written, password included.
impl fmt::Debug for InFlight {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InFlight")
            .field("echo", &format_args!("<{} bytes>", self.echo.len()))
            .field("prefix", &self.prefix)
            .field("prompt", &self.prompt)
            .field("deferred", &self.deferred)
            .field("raw", &self.raw.is_some())
            .field("ends_on", &self.ends_on)
            .field("echo_seen", &self.echo_seen)
            .field("final_seen", &self.final_seen)
            .field("prompt_seen", &self.prompt_seen)
            .field("registered", &self.registered)
            .field("delivered", &self.delivered)
            .field("ended_early", &self.ended_early)
            .field("block", &self.block)
            .finish()
    }
}

#[derive(Debug)]
struct Pending {
    id: u64,
    prefix: String,
    /// The waiter gave up on it; when it comes it is a late answer, not a result.
    stale: bool,
}

/// Keeps at most this many expected deferred results (stale ones go first).
const MAX_PENDING: usize = 16;

/// The streaming decoder: bytes in with [`push`](Self::push), events out with
/// [`next_event`](Self::next_event), interpreted in the light of the command in
/// flight set with [`begin`](Self::begin).
///
/// ```
/// use cellmail_at::{Command, Decoder, DecoderConfig, Event, Final};
/// let mut dec = Decoder::new(DecoderConfig::default());
/// dec.begin(&Command::exec("+QSMTPPUT").expect_deferred("+QSMTPPUT:"));
/// dec.push(b"\r\nOK\r\n\r\n+QSMTPPUT: 0\r\n");
/// assert_eq!(dec.next_event(), Some(Event::Final(Final::Ok)));
/// dec.end();
/// assert_eq!(dec.next_event(), Some(Event::Deferred("+QSMTPPUT: 0".into())));
/// assert_eq!(dec.next_event(), None);
/// ```
#[derive(Debug)]
pub struct Decoder {
    config: DecoderConfig,
    buf: Vec<u8>,
    pos: usize,
    raw_remaining: Option<usize>,
    /// The line announcing a raw block ended in CR: its LF is not data.
    raw_skip_lf: bool,
    in_flight: Option<InFlight>,
    pending: Vec<Pending>,
    next_id: u64,
    /// An event decided together with the previous one (a final line's `OK`).
    queued: Option<Event>,
    /// The last line read ended in CR: an LF right after it is its own.
    line_cr: bool,
    /// Blank lines of a text block counted and not yet reported.
    blanks: usize,
}

impl Decoder {
    /// A decoder for a dialect's configuration.
    pub fn new(config: DecoderConfig) -> Self {
        Self {
            config,
            buf: Vec::with_capacity(2048),
            pos: 0,
            raw_remaining: None,
            raw_skip_lf: false,
            in_flight: None,
            pending: Vec::new(),
            next_id: 0,
            queued: None,
            line_cr: false,
            blanks: 0,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &DecoderConfig {
        &self.config
    }

    /// A command was written: interpret what follows in its light.
    pub fn begin(&mut self, cmd: &Command) {
        self.in_flight = Some(InFlight {
            echo: cmd.echo_line(),
            prefix: cmd.info_prefix().map(Cow::into_owned),
            prompt: cmd.prompt().cloned(),
            deferred: cmd.deferred().map(str::to_owned),
            raw: cmd.raw(),
            final_line: cmd.final_line(),
            ends_on: cmd.ends_on_prefixes().to_vec(),
            echo_seen: false,
            final_seen: false,
            prompt_seen: false,
            registered: None,
            delivered: None,
            ended_early: false,
            block: if cmd.text_block() {
                Block::Expected
            } else {
                Block::No
            },
        });
    }

    /// The command's exchange is over; its deferred result, if it succeeded and
    /// declared one, is still expected. A raw block it announced and did not
    /// complete is dropped with the bytes received of it (they were data).
    pub fn end(&mut self) {
        self.in_flight = None;
        self.queued = None;
        self.blanks = 0;
        self.drop_partial_raw();
    }

    /// The command in flight is given up (no answer in time, its caller went
    /// away): its answer may still come, and must not be taken for a later
    /// command's. As [`end`](Self::end), and besides: the deferred result its
    /// `OK` registered is abandoned (when it comes it is a URC, see
    /// [`abandon_deferred`](Self::abandon_deferred)). If that result already
    /// came, it is returned: it was handed out as [`Event::Deferred`] and
    /// whoever holds it should drop it, no one will wait for it.
    ///
    /// A raw block cut short is dropped, so what the module sends next (the
    /// `OK` of a resynchronising `AT`) is read as lines again:
    ///
    /// ```
    /// use cellmail_at::{Command, Decoder, DecoderConfig, Event, Final};
    /// fn len(line: &str) -> Option<usize> {
    ///     line.strip_prefix("+POP3READ: 1,")?.parse().ok()
    /// }
    /// let mut dec = Decoder::new(DecoderConfig::default());
    /// dec.begin(&Command::write("+POP3READ").int(1460).expect_raw(len));
    /// dec.push(b"\r\n+POP3READ: 1,1460\r\nonly a few bytes\r\nOK\r\n");
    /// assert_eq!(dec.next_event(), Some(Event::Info("+POP3READ: 1,1460".into())));
    /// assert_eq!(dec.next_event(), None, "1460 bytes announced");
    /// // No more bytes before the timeout.
    /// assert_eq!(dec.abandon(), None);
    /// dec.begin(&Command::exec(""));
    /// dec.push(b"\r\nOK\r\n");
    /// assert_eq!(dec.next_event(), Some(Event::Final(Final::Ok)));
    /// ```
    pub fn abandon(&mut self) -> Option<String> {
        let flight = self.in_flight.take();
        self.end();
        let flight = flight?;
        if let Some(id) = flight.registered {
            if let Some(p) = self.pending.iter_mut().find(|p| p.id == id) {
                p.stale = true;
            }
        }
        flight.delivered
    }

    /// Whether the command in flight ended on a line it
    /// [ends on](Command::ends_on) rather than on a final result.
    pub(crate) fn ended_early(&self) -> bool {
        self.in_flight.as_ref().is_some_and(|f| f.ended_early)
    }

    fn drop_partial_raw(&mut self) {
        if let Some(n) = self.raw_remaining.take() {
            if self.raw_skip_lf && self.buf.get(self.pos) == Some(&b'\n') {
                self.pos += 1;
            }
            let dropped = self.buffered().min(n);
            self.pos += dropped;
            tracing::debug!(
                dropped,
                missing = n - dropped,
                "raw block cut short: its bytes dropped"
            );
        }
        self.raw_skip_lf = false;
    }

    /// Whether a command is in flight.
    pub fn in_flight(&self) -> bool {
        self.in_flight.is_some()
    }

    /// Expects a deferred result with this prefix (normally registered by the
    /// `OK` of a command that declared it).
    pub fn expect_deferred(&mut self, prefix: impl Into<String>) {
        self.push_pending(prefix.into());
    }

    fn push_pending(&mut self, prefix: String) -> u64 {
        if self.pending.len() >= MAX_PENDING {
            let victim = self.pending.iter().position(|p| p.stale).unwrap_or(0);
            self.pending.remove(victim);
        }
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        self.pending.push(Pending {
            id,
            prefix,
            stale: false,
        });
        id
    }

    /// Whether a deferred result with this prefix is still expected by a waiter.
    pub fn is_expecting(&self, prefix: &str) -> bool {
        self.pending.iter().any(|p| !p.stale && p.prefix == prefix)
    }

    /// The waiter of one expected result with this prefix gave up, and the
    /// module will still send it: exactly one line with the prefix is then
    /// dropped as *late* (reported as [`Event::Urc`]), never handed out as
    /// the result of a later command. A later command's own result with the
    /// same prefix still reaches its waiter:
    ///
    /// - a line that comes while no later expectation of the prefix is
    ///   registered (idle, or while a later command that declared the same
    ///   prefix waits for its final) is the late one;
    /// - once a later command's `OK` registered the prefix again, the next
    ///   line goes to that command and the late one is the line after it. A
    ///   module answers in order and runs one such operation at a time, so a
    ///   late result that still comes comes before it accepts the next
    ///   command of the same kind.
    ///
    /// If the module will never send it, use
    /// [`forget_deferred_prefix`](Self::forget_deferred_prefix) instead.
    ///
    /// ```
    /// use cellmail_at::{Command, Decoder, DecoderConfig, Event, Final};
    /// let put = Command::exec("+QSMTPPUT").expect_deferred("+QSMTPPUT:");
    /// let mut dec = Decoder::new(DecoderConfig::default());
    /// dec.begin(&put);
    /// dec.push(b"\r\nOK\r\n");
    /// assert_eq!(dec.next_event(), Some(Event::Final(Final::Ok)));
    /// dec.end();
    /// dec.abandon_deferred("+QSMTPPUT:"); // its waiter timed out
    /// dec.begin(&put); // the retry
    /// dec.push(b"\r\nOK\r\n\r\n+QSMTPPUT: 0\r\n\r\n+QSMTPPUT: -9\r\n");
    /// assert_eq!(dec.next_event(), Some(Event::Final(Final::Ok)));
    /// dec.end();
    /// assert_eq!(dec.next_event(), Some(Event::Deferred("+QSMTPPUT: 0".into())));
    /// assert_eq!(dec.next_event(), Some(Event::Urc("+QSMTPPUT: -9".into())));
    /// ```
    pub fn abandon_deferred(&mut self, prefix: &str) {
        if let Some(p) = self
            .pending
            .iter_mut()
            .find(|p| !p.stale && p.prefix == prefix)
        {
            p.stale = true;
        }
    }

    /// Stops expecting results with this prefix altogether, waited for or
    /// abandoned: the module will send none (e.g. its session ended with
    /// `+POP3OUT`). The next line with the prefix is then a URC, or the
    /// result of a later command that declares it.
    ///
    /// ```
    /// use cellmail_at::{Command, Decoder, DecoderConfig, Event, Final};
    /// let num = Command::exec("+POP3NUM").expect_deferred("+POP3NUM:");
    /// let mut dec = Decoder::new(DecoderConfig::default());
    /// dec.begin(&num);
    /// dec.push(b"\r\nOK\r\n");
    /// assert_eq!(dec.next_event(), Some(Event::Final(Final::Ok)));
    /// dec.end();
    /// dec.forget_deferred_prefix("+POP3NUM:"); // the session ended instead
    /// assert!(!dec.is_expecting("+POP3NUM:"));
    /// dec.begin(&num);
    /// dec.push(b"\r\nOK\r\n\r\n+POP3NUM: 0,2,2134\r\n");
    /// assert_eq!(dec.next_event(), Some(Event::Final(Final::Ok)));
    /// dec.end();
    /// assert_eq!(dec.next_event(), Some(Event::Deferred("+POP3NUM: 0,2,2134".into())));
    /// ```
    pub fn forget_deferred_prefix(&mut self, prefix: &str) {
        self.pending.retain(|p| p.prefix != prefix);
    }

    /// Takes the expectation `line` fulfils: a waited-for one first, else an
    /// abandoned one. `Some(true)` when the line is a late (abandoned) result.
    fn take_pending(&mut self, line: &str) -> Option<bool> {
        let matches = |p: &Pending| line.starts_with(p.prefix.as_str());
        let i = self
            .pending
            .iter()
            .position(|p| !p.stale && matches(p))
            .or_else(|| self.pending.iter().position(|p| p.stale && matches(p)))?;
        let pending = self.pending.remove(i);
        if pending.stale {
            tracing::debug!(line = %line, "late deferred result after its waiter gave up");
        } else if let Some(f) = self.in_flight.as_mut() {
            if f.registered == Some(pending.id) {
                f.delivered = Some(line.to_owned());
            }
        }
        Some(pending.stale)
    }

    /// Forgets every expected deferred result (the module rebooted).
    pub fn forget_pending(&mut self) {
        self.pending.clear();
    }

    /// Feeds bytes from the module.
    pub fn push(&mut self, bytes: &[u8]) {
        if self.pos > 0 && (self.pos == self.buf.len() || self.pos > 4096) {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// Bytes received but not yet decoded.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// The next complete event, or `None` until more bytes arrive.
    pub fn next_event(&mut self) -> Option<Event> {
        if let Some(event) = self.queued.take() {
            return Some(event);
        }
        if let Some(n) = self.raw_remaining {
            if self.raw_skip_lf {
                match self.buf.get(self.pos) {
                    None => return None,
                    Some(b'\n') => self.pos += 1,
                    Some(_) => {}
                }
                self.raw_skip_lf = false;
            }
            if self.buffered() < n {
                return None;
            }
            let block = self.buf[self.pos..self.pos + n].to_vec();
            self.pos += n;
            self.raw_remaining = None;
            return Some(Event::Raw(block));
        }
        if self.blanks > 0 {
            self.blanks -= 1;
            return Some(Event::Info(String::new()));
        }
        if self.end_in_doubt() {
            // The next line after the held one decides: a URC the dialect
            // declared means the answer ended and the module spoke after it;
            // any other text means the held line was the message's own. Only
            // line ends so far: wait for more, or for quiet.
            let rest = &self.buf[self.pos..];
            let start = rest.iter().position(|b| !matches!(b, b'\r' | b'\n'))?;
            let line = &rest[start..];
            let line = match line.iter().position(|b| matches!(b, b'\r' | b'\n')) {
                Some(end) => &line[..end],
                None if line.len() > MAX_LINE => line,
                None => return None,
            };
            if self.config.is_urc(&String::from_utf8_lossy(line)) {
                self.settle();
                return self.next_event();
            }
            return self.take_held().map(Event::Info);
        }
        if self.in_block() {
            // Count the line ends before the next line; a run cut by the end
            // of the bytes so far may go on, so wait for the rest of it.
            let mut i = self.pos;
            if self.line_cr && self.buf.get(i) == Some(&b'\n') {
                i += 1;
            }
            let mut ends = 0;
            loop {
                match self.buf.get(i) {
                    None => return None,
                    Some(b'\r') => match self.buf.get(i + 1) {
                        None => return None,
                        Some(b'\n') => i += 2,
                        Some(_) => i += 1,
                    },
                    Some(b'\n') => i += 1,
                    Some(_) => break,
                }
                ends += 1;
            }
            self.pos = i;
            self.line_cr = false;
            if ends > 0 {
                self.blanks = ends - 1;
                return Some(Event::Info(String::new()));
            }
        }
        while self.pos < self.buf.len() && matches!(self.buf[self.pos], b'\r' | b'\n') {
            self.pos += 1;
        }
        let rest = &self.buf[self.pos..];
        if rest.is_empty() {
            return None;
        }
        if rest[0] == b'>' && self.expects_prompt(|k| *k == PromptKind::Angle) {
            match rest.get(1) {
                None => return None,
                Some(b' ') => {
                    self.pos += 2;
                    return Some(self.prompt_seen(Prompt::Angle));
                }
                Some(_) => {}
            }
        }
        // Look for the line end within MAX_LINE + 1 bytes only, and cut an
        // overlong line at exactly MAX_LINE: the pieces are then the same
        // however the stream was chunked.
        let window = &rest[..rest.len().min(MAX_LINE + 1)];
        let (line_len, consumed) = match window.iter().position(|b| matches!(b, b'\r' | b'\n')) {
            Some(i) => (i, i + 1),
            None if rest.len() > MAX_LINE => (MAX_LINE, MAX_LINE),
            None => return None,
        };
        let ended_in_cr = rest.get(line_len) == Some(&b'\r');
        let text = String::from_utf8_lossy(&rest[..line_len]).into_owned();
        let is_echo = self
            .in_flight
            .as_ref()
            .is_some_and(|f| !f.echo_seen && rest[..line_len].eq_ignore_ascii_case(&f.echo));
        self.pos += consumed;
        self.line_cr = ended_in_cr;
        if is_echo {
            if let Some(f) = self.in_flight.as_mut() {
                f.echo_seen = true;
            }
            return Some(Event::Echo(text));
        }
        if self.in_block() && self.parse_final(&text).is_some() {
            if let Some(f) = self.in_flight.as_mut() {
                f.block = Block::Held(text);
            }
            return self.next_event();
        }
        let event = self.classify(text);
        if self.raw_remaining.is_some() {
            self.raw_skip_lf = ended_in_cr;
        }
        Some(event)
    }

    /// Whether a line reading as a final result came inside the command's
    /// text block and only line ends followed it so far: the block ends
    /// there if the module keeps quiet ([`settle`](Self::settle)) or its next
    /// line is a declared URC, and goes on, the line its own, if other text
    /// comes.
    ///
    /// ```
    /// use cellmail_at::{Command, Decoder, DecoderConfig, Event, Final};
    /// let mut dec = Decoder::new(DecoderConfig::default());
    /// dec.begin(&Command::exec("+POP3READ").expect_text_block());
    /// dec.push(b"\r\nfirst\r\nOK\r\n");
    /// assert_eq!(dec.next_event(), Some(Event::Info("first".into())));
    /// assert_eq!(dec.next_event(), None);
    /// assert!(dec.end_in_doubt());
    /// dec.push(b"last\r\nOK\r\n");
    /// assert_eq!(dec.next_event(), Some(Event::Info("OK".into())));
    /// assert_eq!(dec.next_event(), Some(Event::Info("last".into())));
    /// assert_eq!(dec.next_event(), None);
    /// // The module kept quiet after the second `OK`.
    /// dec.settle();
    /// assert_eq!(dec.next_event(), Some(Event::Final(Final::Ok)));
    /// ```
    pub fn end_in_doubt(&self) -> bool {
        self.in_flight
            .as_ref()
            .is_some_and(|f| matches!(f.block, Block::Held(_)))
    }

    /// The module kept quiet after a line [in doubt](Self::end_in_doubt):
    /// that line is the block's final result, the next event. Does nothing
    /// otherwise.
    pub fn settle(&mut self) {
        if let Some(line) = self.take_held() {
            self.queued = Some(self.classify(line));
        }
    }

    /// The held line, the block open again.
    fn take_held(&mut self) -> Option<String> {
        let f = self.in_flight.as_mut()?;
        match std::mem::replace(&mut f.block, Block::Open) {
            Block::Held(line) => Some(line),
            other => {
                f.block = other;
                None
            }
        }
    }

    /// Whether the command in flight is inside its text block.
    fn in_block(&self) -> bool {
        self.in_flight
            .as_ref()
            .is_some_and(|f| f.block == Block::Open && !f.final_seen)
    }

    fn expects_prompt(&self, pred: impl Fn(&PromptKind) -> bool) -> bool {
        self.in_flight
            .as_ref()
            .is_some_and(|f| !f.prompt_seen && f.prompt.as_ref().is_some_and(pred))
    }

    fn prompt_seen(&mut self, prompt: Prompt) -> Event {
        if let Some(f) = self.in_flight.as_mut() {
            f.prompt_seen = true;
        }
        Event::Prompt(prompt)
    }

    fn classify(&mut self, text: String) -> Event {
        if let Some(result) = self.parse_final(&text) {
            let mut register = None;
            if let Some(f) = self.in_flight.as_mut() {
                f.final_seen = true;
                if result.is_success() {
                    register = f.deferred.take();
                }
            }
            if let Some(prefix) = register {
                let id = self.push_pending(prefix);
                if let Some(f) = self.in_flight.as_mut() {
                    f.registered = Some(id);
                }
            }
            return Event::Final(result);
        }
        if self.in_block() {
            return self.info(text);
        }
        if let Some(f) = &self.in_flight {
            if !f.prompt_seen {
                let prompt = match &f.prompt {
                    Some(PromptKind::Connect) if text.starts_with("CONNECT") => {
                        Some(Prompt::Connect)
                    }
                    Some(PromptKind::Download) if text == "DOWNLOAD" => Some(Prompt::Download),
                    Some(PromptKind::Angle) if text == ">" => Some(Prompt::Angle),
                    Some(PromptKind::Line(p)) if text.starts_with(p.as_ref()) => {
                        Some(Prompt::Line(text.clone()))
                    }
                    _ => None,
                };
                if let Some(prompt) = prompt {
                    return self.prompt_seen(prompt);
                }
            }
            if f.open() && f.ends_on.iter().any(|p| text.starts_with(p.as_ref())) {
                return self.end_early(text);
            }
            let own = f.prefix.as_deref().is_some_and(|p| text.starts_with(p));
            // Before its final, a line with the command's own deferred prefix
            // cannot be its deferred result: it is an earlier command's, if
            // one is expected (or was abandoned).
            let earlier = f.deferred.as_deref().is_some_and(|d| text.starts_with(d))
                && self
                    .pending
                    .iter()
                    .any(|p| text.starts_with(p.prefix.as_str()));
            if !f.final_seen && own && !earlier {
                return self.info(text);
            }
        }
        match self.take_pending(&text) {
            Some(true) => return Event::Urc(text),
            Some(false) => return Event::Deferred(text),
            None => {}
        }
        if self.config.is_urc(&text) {
            return Event::Urc(text);
        }
        match &self.in_flight {
            Some(f) if !f.final_seen => self.info(text),
            _ => Event::Urc(text),
        }
    }

    /// A line the command in flight ends on: reported as what it is anyway
    /// (an expected deferred result, else a URC), then as the command's
    /// failing final.
    fn end_early(&mut self, text: String) -> Event {
        let first = match self.take_pending(&text) {
            Some(false) => Event::Deferred(text.clone()),
            _ => Event::Urc(text.clone()),
        };
        if let Some(f) = self.in_flight.as_mut() {
            // Over: nothing after this line is its answer or its prompt.
            f.final_seen = true;
            f.prompt_seen = true;
            f.deferred = None;
            f.ended_early = true;
        }
        self.queued = Some(Event::Final(Final::Declared {
            text,
            success: false,
        }));
        first
    }

    fn info(&mut self, text: String) -> Event {
        if let Some(f) = self.in_flight.as_mut() {
            if f.block == Block::Expected {
                f.block = Block::Open;
            }
            if f.final_line.is_some_and(|is_final| is_final(&text)) {
                f.final_seen = true;
                self.queued = Some(Event::Final(Final::Ok));
                return Event::Info(text);
            }
        }
        if let Some(len) = self
            .in_flight
            .as_ref()
            .and_then(|f| f.raw)
            .and_then(|raw| raw(&text))
        {
            self.raw_remaining = Some(len);
        }
        Event::Info(text)
    }

    fn parse_final(&self, line: &str) -> Option<Final> {
        match line {
            "OK" => return Some(Final::Ok),
            "ERROR" => return Some(Final::Error),
            _ => {}
        }
        if let Some(rest) = line.strip_prefix("+CME ERROR:") {
            let rest = rest.trim();
            return Some(Final::CmeError(match rest.parse() {
                Ok(code) => CmeError::Code(code),
                Err(_) => CmeError::Text(rest.to_owned()),
            }));
        }
        if let Some(rest) = line.strip_prefix("+CMS ERROR:") {
            // A non-numeric CMS error is still an error; 500 is "unknown error".
            return Some(Final::CmsError(rest.trim().parse().unwrap_or(500)));
        }
        self.config
            .declared_final(line)
            .map(|kind| Final::Declared {
                text: line.to_owned(),
                success: kind == FinalKind::Success,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(dec: &mut Decoder) -> Vec<Event> {
        std::iter::from_fn(|| dec.next_event()).collect()
    }

    fn info(s: &str) -> Event {
        Event::Info(s.into())
    }

    fn urc(s: &str) -> Event {
        Event::Urc(s.into())
    }

    #[test]
    fn debug_output_never_shows_the_command_line_with_its_secret() {
        let mut dec = Decoder::new(DecoderConfig::default());
        let pwd = crate::Secret::new("hunter2");
        dec.begin(&Command::write("+QSMTPPWD").secret("pwd", &pwd));
        let shown = format!("{dec:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("InFlight"), "{shown}");
    }

    #[test]
    fn information_and_ok() {
        let mut dec = Decoder::new(DecoderConfig::default());
        dec.begin(&Command::read("+QSMTPSRV"));
        dec.push(b"\r\n+QSMTPSRV: \"smtp.163.com\",25\r\n\r\nOK\r\n");
        assert_eq!(
            drain(&mut dec),
            vec![
                info("+QSMTPSRV: \"smtp.163.com\",25"),
                Event::Final(Final::Ok)
            ]
        );
    }

    #[test]
    fn echo_is_recognised_with_ate1() {
        let mut dec = Decoder::new(DecoderConfig::default());
        dec.begin(&Command::exec("+POP3NUM"));
        dec.push(b"AT+POP3NUM\r\r\n+POP3NUM: 0,2,2134\r\n\r\nOK\r\n");
        assert_eq!(
            drain(&mut dec),
            vec![
                Event::Echo("AT+POP3NUM".into()),
                info("+POP3NUM: 0,2,2134"),
                Event::Final(Final::Ok)
            ]
        );
    }

    #[test]
    fn error_finals() {
        let mut dec =
            Decoder::new(DecoderConfig::default().final_result("DEACT OK", FinalKind::Success));
        dec.push(b"\r\nERROR\r\n\r\n+CME ERROR: 3\r\n+CME ERROR: SIM not inserted\r\n+CMS ERROR: 305\r\nDEACT OK\r\n");
        assert_eq!(
            drain(&mut dec),
            vec![
                Event::Final(Final::Error),
                Event::Final(Final::CmeError(CmeError::Code(3))),
                Event::Final(Final::CmeError(CmeError::Text("SIM not inserted".into()))),
                Event::Final(Final::CmsError(305)),
                Event::Final(Final::Declared {
                    text: "DEACT OK".into(),
                    success: true
                }),
            ]
        );
    }

    #[test]
    fn urcs_around_information_lines() {
        let mut dec = Decoder::new(DecoderConfig::default().urc("+SMTPFT:"));
        dec.push(b"\r\nRDY\r\n");
        assert_eq!(drain(&mut dec), vec![urc("RDY")]);
        dec.begin(&Command::exec("+CGMM"));
        dec.push(b"\r\n+CPIN: READY\r\nSIM7000G\r\n\r\nSMS Ready\r\nOK\r\n");
        assert_eq!(
            drain(&mut dec),
            vec![
                urc("+CPIN: READY"),
                info("SIM7000G"),
                urc("SMS Ready"),
                Event::Final(Final::Ok),
            ]
        );
        dec.end();
        dec.push(b"\r\n+SMTPFT: 1,1360\r\n");
        assert_eq!(drain(&mut dec), vec![urc("+SMTPFT: 1,1360")]);
    }

    #[test]
    fn angle_prompt_only_when_asked_for() {
        let mut dec = Decoder::new(DecoderConfig::default());
        dec.begin(&Command::exec("+POP3HDR"));
        dec.push(b"\r\nFrom: <a@b.c>\r\n> quoted\r\nOK\r\n");
        assert_eq!(
            drain(&mut dec),
            vec![
                info("From: <a@b.c>"),
                info("> quoted"),
                Event::Final(Final::Ok)
            ]
        );
        dec.end();
        dec.begin(&Command::exec("+X").expect_prompt(PromptKind::Angle));
        dec.push(b"\r\n> ");
        assert_eq!(drain(&mut dec), vec![Event::Prompt(Prompt::Angle)]);
        dec.begin(&Command::exec("+X").expect_prompt(PromptKind::Angle));
        dec.push(b"\r\n>\r\n");
        assert_eq!(drain(&mut dec), vec![Event::Prompt(Prompt::Angle)]);
    }

    #[test]
    fn connect_after_ok_then_deferred() {
        let mut dec = Decoder::new(DecoderConfig::default());
        let cmd = Command::write("+QSMTPBODY")
            .int(1)
            .int(60)
            .expect_prompt(PromptKind::Connect)
            .expect_deferred("+QSMTPBODY:");
        dec.begin(&cmd);
        dec.push(b"\r\nOK\r\n\r\nCONNECT\r\n");
        assert_eq!(
            drain(&mut dec),
            vec![Event::Final(Final::Ok), Event::Prompt(Prompt::Connect)]
        );
        dec.end();
        dec.push(b"\r\n+QSMTPBODY: 14\r\n");
        assert_eq!(
            drain(&mut dec),
            vec![Event::Deferred("+QSMTPBODY: 14".into())]
        );
    }

    #[test]
    fn same_prefix_two_meanings() {
        let mut dec = Decoder::new(DecoderConfig::default().urc("+SMTPFT:"));
        let cmd = Command::write("+SMTPFT")
            .int(100)
            .expect_prompt(PromptKind::Line("+SMTPFT: 2,".into()));
        dec.begin(&cmd);
        dec.push(b"\r\n+SMTPFT: 2,100\r\n");
        assert_eq!(
            drain(&mut dec),
            vec![Event::Prompt(Prompt::Line("+SMTPFT: 2,100".into()))]
        );
        dec.push(b"\r\nOK\r\n\r\n+SMTPFT: 1,1360\r\n");
        assert_eq!(
            drain(&mut dec),
            vec![Event::Final(Final::Ok), urc("+SMTPFT: 1,1360")]
        );
    }

    fn pop3read_len(line: &str) -> Option<usize> {
        let rest = line.strip_prefix("+POP3READ: ")?;
        let (mode, len) = rest.split_once(',')?;
        matches!(mode, "1" | "2").then(|| len.trim().parse().ok())?
    }

    #[test]
    fn raw_block_may_hold_ok_and_error() {
        let mut dec = Decoder::new(DecoderConfig::default().urc("+POP3READ: 3,"));
        dec.begin(
            &Command::write("+POP3READ")
                .int(1460)
                .expect_raw(pop3read_len),
        );
        let body = b"OK\r\nERROR\r\n";
        dec.push(format!("\r\n+POP3READ: 2,{}\r\n", body.len()).as_bytes());
        dec.push(body);
        dec.push(b"\r\nOK\r\n");
        assert_eq!(
            drain(&mut dec),
            vec![
                info("+POP3READ: 2,11"),
                Event::Raw(body.to_vec()),
                Event::Final(Final::Ok)
            ]
        );
        dec.end();
        dec.push(b"\r\n+POP3READ: 3,1200\r\n");
        assert_eq!(drain(&mut dec), vec![urc("+POP3READ: 3,1200")]);
    }

    fn put() -> Command {
        Command::exec("+QSMTPPUT").expect_deferred("+QSMTPPUT:")
    }

    /// `AT+QSMTPPUT` answered `OK`, then its waiter gave up.
    fn abandoned_put() -> Decoder {
        let mut dec = Decoder::new(DecoderConfig::default());
        dec.begin(&put());
        dec.push(b"\r\nOK\r\n");
        assert_eq!(drain(&mut dec), vec![Event::Final(Final::Ok)]);
        dec.end();
        dec.abandon_deferred("+QSMTPPUT:");
        dec
    }

    #[test]
    fn late_result_while_idle_is_a_urc_and_the_retry_gets_its_own() {
        let mut dec = abandoned_put();
        dec.push(b"\r\n+QSMTPPUT: -9\r\n");
        assert_eq!(drain(&mut dec), vec![urc("+QSMTPPUT: -9")]);
        dec.begin(&put());
        dec.push(b"\r\nOK\r\n");
        assert_eq!(drain(&mut dec), vec![Event::Final(Final::Ok)]);
        dec.end();
        dec.push(b"\r\n+QSMTPPUT: 0\r\n");
        assert_eq!(
            drain(&mut dec),
            vec![Event::Deferred("+QSMTPPUT: 0".into())]
        );
    }

    #[test]
    fn late_result_before_the_retrys_ok_is_a_urc_not_its_information() {
        let mut dec = abandoned_put();
        dec.begin(&put());
        dec.push(b"\r\n+QSMTPPUT: -9\r\n\r\nOK\r\n");
        assert_eq!(
            drain(&mut dec),
            vec![urc("+QSMTPPUT: -9"), Event::Final(Final::Ok)]
        );
        dec.end();
        dec.push(b"\r\n+QSMTPPUT: 0\r\n");
        assert_eq!(
            drain(&mut dec),
            vec![Event::Deferred("+QSMTPPUT: 0".into())]
        );
        assert!(!dec.is_expecting("+QSMTPPUT:"));
    }

    #[test]
    fn own_result_before_the_late_one_reaches_its_waiter() {
        let mut dec = abandoned_put();
        dec.begin(&put());
        dec.push(b"\r\nOK\r\n");
        assert_eq!(drain(&mut dec), vec![Event::Final(Final::Ok)]);
        dec.end();
        dec.push(b"\r\n+QSMTPPUT: 0\r\n\r\n+QSMTPPUT: -9\r\n");
        assert_eq!(
            drain(&mut dec),
            vec![Event::Deferred("+QSMTPPUT: 0".into()), urc("+QSMTPPUT: -9")]
        );
        // Exactly one line was dropped: the next is a result again.
        dec.begin(&put());
        dec.push(b"\r\nOK\r\n\r\n+QSMTPPUT: 2\r\n");
        dec.next_event();
        dec.end();
        assert_eq!(
            drain(&mut dec),
            vec![Event::Deferred("+QSMTPPUT: 2".into())]
        );
    }

    #[test]
    fn an_expected_result_before_a_later_commands_ok_is_the_earlier_ones() {
        let mut dec = Decoder::new(DecoderConfig::default());
        dec.expect_deferred("+QSMTPPUT:");
        dec.begin(&put());
        dec.push(b"\r\n+QSMTPPUT: 0\r\n\r\nOK\r\n");
        assert_eq!(
            drain(&mut dec),
            vec![
                Event::Deferred("+QSMTPPUT: 0".into()),
                Event::Final(Final::Ok)
            ]
        );
        // Without an earlier expectation, the same line is information.
        dec.end();
        dec.forget_pending();
        dec.begin(&put());
        dec.push(b"\r\n+QSMTPPUT: 0\r\n\r\nOK\r\n");
        assert_eq!(
            drain(&mut dec),
            vec![info("+QSMTPPUT: 0"), Event::Final(Final::Ok)]
        );
    }

    #[test]
    fn forgotten_prefix_is_neither_waited_for_nor_dropped() {
        let mut dec = abandoned_put();
        dec.expect_deferred("+QSMTPPUT:");
        dec.expect_deferred("+QSMTPDST:");
        dec.forget_deferred_prefix("+QSMTPPUT:");
        assert!(!dec.is_expecting("+QSMTPPUT:"));
        assert!(dec.is_expecting("+QSMTPDST:"));
        // Nothing swallows a later command's lines with the prefix: before
        // its `OK` they are its information again, after it its result.
        dec.begin(&put());
        dec.push(b"\r\n+QSMTPPUT: 7\r\n\r\nOK\r\n\r\n+QSMTPPUT: 0\r\n");
        assert_eq!(
            drain(&mut dec),
            vec![
                info("+QSMTPPUT: 7"),
                Event::Final(Final::Ok),
                Event::Deferred("+QSMTPPUT: 0".into())
            ]
        );
    }

    fn smtpft() -> Command {
        Command::write("+SMTPFT")
            .int(100)
            .expect_prompt(PromptKind::Line("+SMTPFT: 2,".into()))
            .ends_on("+SMTPSEND:")
    }

    #[test]
    fn a_line_the_command_ends_on_replaces_its_prompt() {
        let mut dec = Decoder::new(DecoderConfig::default().urc("+SMTPFT:"));
        dec.expect_deferred("+SMTPSEND:");
        dec.begin(&smtpft());
        dec.push(b"\r\n+SMTPSEND: 64\r\n\r\n+SMTPFT: 2,100\r\n");
        assert_eq!(
            drain(&mut dec),
            vec![
                Event::Deferred("+SMTPSEND: 64".into()),
                Event::Final(Final::Declared {
                    text: "+SMTPSEND: 64".into(),
                    success: false
                }),
                // Over: a prompt after it is no prompt.
                urc("+SMTPFT: 2,100"),
            ]
        );
        assert!(dec.ended_early());
        assert!(!dec.is_expecting("+SMTPSEND:"));
        dec.abandon();
        // Not expected by anyone: a URC, and still the end of the command.
        dec.begin(&smtpft());
        dec.push(b"\r\n+SMTPSEND: 61\r\n");
        assert_eq!(
            drain(&mut dec),
            vec![
                urc("+SMTPSEND: 61"),
                Event::Final(Final::Declared {
                    text: "+SMTPSEND: 61".into(),
                    success: false
                }),
            ]
        );
    }

    #[test]
    fn a_line_the_command_ends_on_ends_nothing_once_it_is_answered() {
        let mut dec = Decoder::new(DecoderConfig::default());
        dec.expect_deferred("+SMTPSEND:");
        dec.begin(&smtpft());
        dec.push(b"\r\n+SMTPFT: 2,100\r\n");
        assert_eq!(
            drain(&mut dec),
            vec![Event::Prompt(Prompt::Line("+SMTPFT: 2,100".into()))]
        );
        // During the data phase it still ends the command...
        assert!(dec.in_flight.as_ref().is_some_and(InFlight::open));
        dec.push(b"\r\nOK\r\n\r\n+SMTPSEND: 1\r\n");
        // ...after the final it is only the earlier command's result.
        assert_eq!(
            drain(&mut dec),
            vec![
                Event::Final(Final::Ok),
                Event::Deferred("+SMTPSEND: 1".into())
            ]
        );
        assert!(!dec.ended_early());
    }

    #[test]
    fn abandon_drops_a_raw_block_cut_short_and_reads_lines_again() {
        let mut dec = Decoder::new(DecoderConfig::default());
        dec.begin(
            &Command::write("+POP3READ")
                .int(1460)
                .expect_raw(pop3read_len),
        );
        dec.push(b"\r\n+POP3READ: 1,1460\r\nRDY\r\nOK\r\n");
        assert_eq!(drain(&mut dec), vec![info("+POP3READ: 1,1460")]);
        assert_eq!(dec.abandon(), None);
        assert_eq!(dec.buffered(), 0, "the partial block's bytes are dropped");
        dec.begin(&Command::exec(""));
        dec.push(b"\r\nOK\r\n");
        assert_eq!(drain(&mut dec), vec![Event::Final(Final::Ok)]);
    }

    #[test]
    fn end_drops_a_partial_raw_block_too_but_keeps_what_follows_a_complete_one() {
        let mut dec = Decoder::new(DecoderConfig::default());
        let read = Command::write("+POP3READ")
            .int(1460)
            .expect_raw(pop3read_len);
        dec.begin(&read);
        dec.push(b"\r\n+POP3READ: 1,5\r");
        assert_eq!(drain(&mut dec), vec![info("+POP3READ: 1,5")]);
        dec.push(b"\nab");
        dec.end();
        dec.push(b"\r\nRDY\r\n");
        assert_eq!(drain(&mut dec), vec![urc("RDY")]);
        // The exact count: the bytes after a (complete) block are lines.
        dec.begin(&read);
        dec.push(b"\r\n+POP3READ: 1,2\r\nab\r\nOK\r\n");
        dec.next_event();
        dec.end();
        assert_eq!(drain(&mut dec), vec![Event::Final(Final::Ok)]);
    }

    #[test]
    fn abandon_after_ok_makes_the_promised_result_late() {
        let body = || {
            Command::write("+QSMTPBODY")
                .int(1)
                .int(60)
                .expect_prompt(PromptKind::Connect)
                .expect_deferred("+QSMTPBODY:")
        };
        let mut dec = Decoder::new(DecoderConfig::default());
        dec.begin(&body());
        dec.push(b"\r\nOK\r\n");
        assert_eq!(drain(&mut dec), vec![Event::Final(Final::Ok)]);
        // No CONNECT in time.
        assert_eq!(dec.abandon(), None);
        assert!(!dec.is_expecting("+QSMTPBODY:"));
        dec.push(b"\r\n+QSMTPBODY: 0\r\n");
        assert_eq!(drain(&mut dec), vec![urc("+QSMTPBODY: 0")]);
        // Its result came already (instead of CONNECT): handed back.
        dec.begin(&body());
        dec.push(b"\r\nOK\r\n\r\n+QSMTPBODY: -1\r\n");
        assert_eq!(
            drain(&mut dec),
            vec![
                Event::Final(Final::Ok),
                Event::Deferred("+QSMTPBODY: -1".into())
            ]
        );
        assert_eq!(dec.abandon(), Some("+QSMTPBODY: -1".into()));
        assert!(!dec.is_expecting("+QSMTPBODY:"));
        // Idle: abandon changes nothing.
        assert_eq!(dec.abandon(), None);
    }

    #[test]
    fn failed_command_expects_no_deferred() {
        let mut dec = Decoder::new(DecoderConfig::default());
        dec.begin(&Command::exec("+QSMTPPUT").expect_deferred("+QSMTPPUT:"));
        dec.push(b"\r\nERROR\r\n");
        assert_eq!(drain(&mut dec), vec![Event::Final(Final::Error)]);
        assert!(!dec.is_expecting("+QSMTPPUT:"));
    }

    #[test]
    fn final_line_ends_a_command_without_ok() {
        let mut dec = Decoder::new(DecoderConfig::default());
        let is_ip = |l: &str| l.parse::<std::net::Ipv4Addr>().is_ok();
        dec.begin(&Command::exec("+QILOCIP").expect_final_line(is_ip));
        dec.push(b"\r\n10.1.83.188\r\n");
        assert_eq!(
            drain(&mut dec),
            vec![info("10.1.83.188"), Event::Final(Final::Ok)]
        );
    }

    #[test]
    fn overlong_line_is_bounded() {
        let mut dec = Decoder::new(DecoderConfig::default());
        dec.push(&vec![b'x'; MAX_LINE + 10]);
        match dec.next_event() {
            Some(Event::Urc(line)) => assert_eq!(line.len(), MAX_LINE),
            other => panic!("{other:?}"),
        }
        assert_eq!(dec.next_event(), None, "the rest waits for its line end");
        assert_eq!(dec.buffered(), 10);
    }

    #[test]
    fn overlong_line_is_cut_the_same_however_it_arrives() {
        let mut stream = vec![b'y'; MAX_LINE + 5];
        stream.extend_from_slice(b"\r\nOK\r\n");
        let mut whole = Decoder::new(DecoderConfig::default());
        whole.push(&stream);
        let mut split = Decoder::new(DecoderConfig::default());
        let mut events = Vec::new();
        for chunk in stream.chunks(MAX_LINE - 1) {
            split.push(chunk);
            events.extend(drain(&mut split));
        }
        let expected = drain(&mut whole);
        assert_eq!(events, expected);
        assert_eq!(expected.len(), 3, "{} events", expected.len());
    }

    fn block_events(stream: &[u8], chunk: usize) -> Vec<Event> {
        let mut dec = Decoder::new(DecoderConfig::default().urc("RDY").urc("+POP3:"));
        dec.begin(&Command::exec("+POP3READ").expect_text_block());
        let mut events = Vec::new();
        for piece in stream.chunks(chunk) {
            dec.push(piece);
            events.extend(drain(&mut dec));
        }
        // The module keeps quiet after the stream.
        dec.settle();
        events.extend(drain(&mut dec));
        events
    }

    #[test]
    fn a_text_block_line_reading_ok_or_error_is_the_messages_when_text_follows() {
        let stream = b"\r\nfirst\r\nOK\r\n\r\nERROR\r\n+CME ERROR: 4\r\nlast\r\nOK\r\n";
        let whole = block_events(stream, stream.len());
        assert_eq!(
            whole,
            [
                info("first"),
                info("OK"),
                info(""),
                info("ERROR"),
                info("+CME ERROR: 4"),
                info("last"),
                Event::Final(Final::Ok),
            ]
        );
        for chunk in 1..stream.len() {
            assert_eq!(block_events(stream, chunk), whole, "chunks of {chunk}");
        }
    }

    #[test]
    fn a_declared_urc_right_after_a_text_blocks_ok_ends_the_block() {
        let stream = b"\r\nDate: now\r\nOK\r\n\r\n+POP3: SUCCESS\r\nRDY\r\n";
        let whole = block_events(stream, stream.len());
        assert_eq!(
            whole,
            [
                info("Date: now"),
                Event::Final(Final::Ok),
                urc("+POP3: SUCCESS"),
                urc("RDY")
            ]
        );
        for chunk in 1..stream.len() {
            assert_eq!(block_events(stream, chunk), whole, "chunks of {chunk}");
        }
    }

    #[test]
    fn a_text_block_whose_last_line_reads_ok_ends_at_the_ok_after_it() {
        let whole = block_events(b"\r\nbody\r\nOK\r\n\r\nOK\r\n", 64);
        assert_eq!(
            whole,
            [info("body"), info("OK"), info(""), Event::Final(Final::Ok)]
        );
        // Before its first line, `ERROR` is the answer (nothing to print).
        let none = block_events(b"\r\nERROR\r\n", 64);
        assert_eq!(none, [Event::Final(Final::Error)]);
    }

    #[test]
    fn a_text_block_counts_its_blank_lines_however_the_bytes_arrive() {
        // Lines framed one by one (`\r\n...\r\n`), one blank line framed too.
        let stream = b"AT+POP3READ\r\r\nSubject: x\r\n\r\n\r\n\r\nbody\r\n\r\nOK\r\n";
        let whole = block_events(stream, stream.len());
        assert_eq!(
            whole,
            [
                Event::Echo("AT+POP3READ".into()),
                info("Subject: x"),
                info(""),
                info(""),
                info(""),
                info("body"),
                info(""),
                Event::Final(Final::Ok),
            ]
        );
        for chunk in 1..stream.len() {
            assert_eq!(block_events(stream, chunk), whole, "chunks of {chunk}");
        }
    }

    #[test]
    fn a_text_block_keeps_lines_that_look_like_urcs_and_bare_line_ends() {
        let stream = b"\r\nSubject: x\n\n+POP3: SUCCESS\rRDY\r\n\r\nOK\r\n";
        assert_eq!(
            block_events(stream, 3),
            [
                info("Subject: x"),
                info(""),
                info("+POP3: SUCCESS"),
                info("RDY"),
                info(""),
                Event::Final(Final::Ok),
            ]
        );
    }

    #[test]
    fn before_its_first_line_and_after_its_final_a_text_block_command_reads_lines_as_usual() {
        let mut dec = Decoder::new(DecoderConfig::default().urc("RDY").urc("+POP3:"));
        dec.begin(&Command::exec("+POP3READ").expect_text_block());
        dec.push(b"\r\nRDY\r\n\r\nDate: now\r\n\r\nOK\r\n");
        let mut events = drain(&mut dec);
        // The module kept quiet after `OK`: the answer's end.
        dec.settle();
        dec.push(b"\r\n+POP3: SUCCESS\r\n");
        events.extend(drain(&mut dec));
        assert_eq!(
            events,
            [
                urc("RDY"),
                info("Date: now"),
                info(""),
                Event::Final(Final::Ok),
                urc("+POP3: SUCCESS"),
            ]
        );
    }
}
