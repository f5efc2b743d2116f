//! The serial side every virtual module shares: command lines, data mode,
//! echo, the line rate, and the answers that do not depend on the family.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cellmail_at::fields::{self, Field};
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep, sleep_until};

/// One command line from the host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AtCommand {
    /// `+QSMTPSRV`, `I`, `E0`, or empty for a bare `AT`.
    pub name: String,
    /// `?`
    pub read: bool,
    /// `=?`
    pub test: bool,
    /// `=<args>` given.
    pub write: bool,
    /// The arguments, quotes removed.
    pub args: Vec<String>,
}

impl AtCommand {
    /// Parses `AT...` (case of the `AT` prefix ignored).
    pub fn parse(line: &str) -> Option<Self> {
        let line = line.trim();
        let rest = line
            .get(..2)
            .filter(|p| p.eq_ignore_ascii_case("AT"))
            .map(|_| &line[2..])?;
        let (name, read, test, write, args) = if let Some(n) = rest.strip_suffix("=?") {
            (n, false, true, false, "")
        } else if let Some(n) = rest.strip_suffix('?') {
            (n, true, false, false, "")
        } else if let Some((n, a)) = rest.split_once('=') {
            (n, false, false, true, a)
        } else {
            (rest, false, false, false, "")
        };
        Some(Self {
            name: name.trim().to_ascii_uppercase(),
            read,
            test,
            write,
            args: fields::split(args)
                .iter()
                .map(|f| f.as_str().to_owned())
                .collect(),
        })
    }

    /// Argument `i` as text.
    pub fn arg(&self, i: usize) -> Option<&str> {
        self.args.get(i).map(String::as_str)
    }

    /// Argument `i` as an integer.
    pub fn int(&self, i: usize) -> Option<i64> {
        self.args.get(i).and_then(|a| Field::Bare(a).as_int())
    }
}

/// Faults a test injects into a running module.
#[derive(Debug, Default)]
pub struct FaultState {
    /// Names do not resolve.
    pub dns_failure: bool,
    /// Servers cannot be reached.
    pub unreachable: bool,
    /// The packet bearer is lost.
    pub bearer_lost: bool,
    /// Results of network operations are delayed this long.
    pub delay: Option<Duration>,
    /// Reboot at the next chance (`RDY`, settings lost).
    pub reboot: bool,
    /// Line noise: while set, one byte of each burst the module sends arrives with its high bit
    /// set, as a framing error on a real UART delivers it.
    pub garble: bool,
}

/// A handle to change faults while the module runs.
#[derive(Clone, Debug, Default)]
pub struct Faults(pub(crate) Arc<Mutex<FaultState>>);

impl Faults {
    fn with<R>(&self, f: impl FnOnce(&mut FaultState) -> R) -> R {
        let mut state = self.0.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut state)
    }

    /// Names stop (or start again) resolving.
    pub fn dns_failure(&self, on: bool) {
        self.with(|s| s.dns_failure = on);
    }

    /// Servers become unreachable (or reachable again).
    pub fn unreachable(&self, on: bool) {
        self.with(|s| s.unreachable = on);
    }

    /// The bearer is lost (or back).
    pub fn bearer_lost(&self, on: bool) {
        self.with(|s| s.bearer_lost = on);
    }

    /// Network results come this much later (`None`: at once).
    pub fn delay(&self, delay: Option<Duration>) {
        self.with(|s| s.delay = delay);
    }

    /// Line noise starts (or stops): one byte of each burst the module sends is garbled.
    pub fn garble(&self, on: bool) {
        self.with(|s| s.garble = on);
    }

    pub(crate) fn garbling(&self) -> bool {
        self.with(|s| s.garble)
    }

    /// The module reboots: it sends `RDY` and forgets every setting.
    pub fn reboot(&self) {
        self.with(|s| s.reboot = true);
    }

    /// A copy of the current state.
    pub fn snapshot(&self) -> (bool, bool, bool, Option<Duration>) {
        self.with(|s| (s.dns_failure, s.unreachable, s.bearer_lost, s.delay))
    }

    pub(crate) fn take_reboot(&self) -> bool {
        self.with(|s| std::mem::take(&mut s.reboot))
    }
}

/// The module's serial side: what it reads from and writes to the host.
pub struct Io {
    input: mpsc::Receiver<Vec<u8>>,
    output: mpsc::Sender<Vec<u8>>,
    buffer: Vec<u8>,
    /// 8N1 bytes per second, when throttled.
    rate: Option<f64>,
    line_free_in: Instant,
    line_free_out: Instant,
    /// Echo command lines (ATE1, the boot default).
    pub echo: bool,
    /// Faults injected by tests.
    pub faults: Faults,
    /// The module's file system: path → bytes.
    pub files: Arc<Mutex<HashMap<String, Vec<u8>>>>,
    /// The module clock.
    pub clock: Clock,
}

/// The host went away.
#[derive(Debug)]
pub struct Closed;

impl Io {
    pub(crate) fn new(
        input: mpsc::Receiver<Vec<u8>>,
        output: mpsc::Sender<Vec<u8>>,
        baud: Option<u32>,
        faults: Faults,
        files: Arc<Mutex<HashMap<String, Vec<u8>>>>,
    ) -> Self {
        let now = Instant::now();
        Self {
            input,
            output,
            buffer: Vec::new(),
            rate: baud.map(|b| f64::from(b) / 10.0),
            line_free_in: now,
            line_free_out: now,
            echo: true,
            faults,
            files,
            clock: Clock::default(),
        }
    }

    fn line_time(&self, bytes: usize) -> Duration {
        self.rate.map_or(Duration::ZERO, |r| {
            Duration::from_secs_f64(bytes as f64 / r)
        })
    }

    async fn fill(&mut self) -> Result<(), Closed> {
        let bytes = self.input.recv().await.ok_or(Closed)?;
        // The host's bytes take line time to arrive.
        self.line_free_in = self.line_free_in.max(Instant::now()) + self.line_time(bytes.len());
        pace(self.line_free_in).await;
        self.buffer.extend_from_slice(&bytes);
        Ok(())
    }

    /// Sends bytes to the host at the line rate.
    pub async fn send(&mut self, bytes: &[u8]) {
        let garbled;
        let bytes = if self.faults.garbling() && !bytes.is_empty() {
            // The middle byte: a line's text, not its CR LF, so the host sees a line it
            // cannot read rather than two lines run together.
            let mut copy = bytes.to_vec();
            copy[bytes.len() / 2] |= 0x80;
            garbled = copy;
            &garbled[..]
        } else {
            bytes
        };
        if self.rate.is_some() {
            for chunk in bytes.chunks(256) {
                self.line_free_out =
                    self.line_free_out.max(Instant::now()) + self.line_time(chunk.len());
                pace(self.line_free_out).await;
                let _ = self.output.send(chunk.to_vec()).await;
            }
        } else {
            let _ = self.output.send(bytes.to_vec()).await;
        }
    }

    /// `\r\nTEXT\r\n`
    pub async fn line(&mut self, text: &str) {
        self.send(format!("\r\n{text}\r\n").as_bytes()).await;
    }

    /// `\r\nOK\r\n`
    pub async fn ok(&mut self) {
        self.line("OK").await;
    }

    /// `\r\nERROR\r\n`
    pub async fn error(&mut self) {
        self.line("ERROR").await;
    }

    /// A file of the module's file system.
    pub fn file(&self, path: &str) -> Option<Vec<u8>> {
        self.files
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(path)
            .cloned()
    }

    /// Stores a file.
    pub fn store(&self, path: &str, bytes: Vec<u8>) {
        self.files
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(path.to_owned(), bytes);
    }

    /// The bytes the files whose path starts with `prefix` hold.
    pub fn bytes_under(&self, prefix: &str) -> u64 {
        self.files
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|(path, _)| path.starts_with(prefix))
            .map(|(_, bytes)| bytes.len() as u64)
            .sum()
    }

    /// Removes a file; whether it existed.
    pub fn remove(&self, path: &str) -> bool {
        self.files
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(path)
            .is_some()
    }

    /// Waits as the injected delay says (for network results).
    pub async fn network_delay(&self) {
        if let (_, _, _, Some(d)) = self.faults.snapshot() {
            sleep(d).await;
        }
    }

    /// The next command line (the bytes up to CR; a leading LF is dropped).
    pub async fn read_line(&mut self) -> Result<String, Closed> {
        loop {
            if let Some(i) = self.buffer.iter().position(|&b| b == b'\r') {
                let line: Vec<u8> = self.buffer.drain(..=i).collect();
                let text = String::from_utf8_lossy(&line[..line.len() - 1])
                    .trim_start_matches('\n')
                    .to_owned();
                if self.echo {
                    self.send(&line).await;
                }
                return Ok(text);
            }
            self.fill().await?;
        }
    }

    /// Exactly `n` data-mode bytes.
    pub async fn read_exact(&mut self, n: usize) -> Result<Vec<u8>, Closed> {
        while self.buffer.len() < n {
            self.fill().await?;
        }
        Ok(self.buffer.drain(..n).collect())
    }

    /// A length-delimited upload (`AT+QFUPL="<file>",<size>`, SMTPS note
    /// §3.1-§3.3): it ends at once when `size` bytes came, or, shorter, by
    /// `+++` (after which the module keeps quiet 500 ms, as for
    /// [`read_until_escape`](Self::read_until_escape)). Bytes after the
    /// size are the next command's.
    pub async fn read_sized(&mut self, size: usize) -> Result<Vec<u8>, Closed> {
        loop {
            if self.buffer.len() >= size {
                return Ok(self.buffer.drain(..size).collect());
            }
            if self.buffer.ends_with(b"+++") {
                match tokio::time::timeout(ESCAPE_QUIET, self.input.recv()).await {
                    Err(_) => {
                        let mut data: Vec<u8> = std::mem::take(&mut self.buffer);
                        data.truncate(data.len() - 3);
                        return Ok(data);
                    }
                    Ok(Some(more)) => self.buffer.extend_from_slice(&more),
                    Ok(None) => return Err(Closed),
                }
                continue;
            }
            self.fill().await?;
        }
    }

    /// Data-mode bytes up to `+++` followed by silence (the guard time), or
    /// `max` bytes, whichever comes first.
    pub async fn read_until_escape(&mut self, max: usize) -> Result<Vec<u8>, Closed> {
        loop {
            if self.buffer.len() >= max && !self.buffer.ends_with(b"+++") {
                let data: Vec<u8> = self.buffer.drain(..max).collect();
                // A host may still end the data with +++ after its guard time.
                while self.buffer.len() < 3 {
                    match tokio::time::timeout(Duration::from_millis(1500), self.input.recv()).await
                    {
                        Ok(Some(more)) => self.buffer.extend_from_slice(&more),
                        Ok(None) => return Err(Closed),
                        Err(_) => break,
                    }
                }
                if self.buffer.starts_with(b"+++") {
                    self.buffer.drain(..3);
                }
                return Ok(data);
            }
            if self.buffer.ends_with(b"+++") {
                match tokio::time::timeout(ESCAPE_QUIET, self.input.recv()).await {
                    Err(_) => {
                        let mut data: Vec<u8> = std::mem::take(&mut self.buffer);
                        data.truncate(data.len() - 3);
                        return Ok(data);
                    }
                    Ok(Some(more)) => self.buffer.extend_from_slice(&more),
                    Ok(None) => return Err(Closed),
                }
                continue;
            }
            self.fill().await?;
        }
    }
}

/// The silence after `+++` before a virtual module takes it as the escape
/// (a module cannot tell `+++` from data until the line stays quiet after
/// it; the manuals give no figure for this side, the host keeps 1 s before).
pub const ESCAPE_QUIET: Duration = Duration::from_millis(500);

/// Keeps the line rate without paying a timer per short write: bytes are
/// released at once while the line is at most a few milliseconds behind its
/// schedule, so timer granularity does not slow the simulated line down.
async fn pace(line_free: Instant) {
    const SLACK: Duration = Duration::from_millis(3);
    if line_free > Instant::now() + SLACK {
        sleep_until(line_free - SLACK).await;
    }
}

/// Text the host sent in the module's charset (`gb2312`, `big5`, `utf-8`,
/// `us-ascii`), as a string for the mail headers.
pub fn decode_text(bytes: &[u8], charset: &str) -> String {
    let encoding =
        encoding_rs::Encoding::for_label(charset.as_bytes()).unwrap_or(encoding_rs::UTF_8);
    encoding.decode(bytes).0.into_owned()
}

/// The hex text modules use for non-ASCII strings, decoded.
pub fn unhex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The module clock: boots at 1980 like real modules, set with `AT+CCLK`.
#[derive(Clone, Debug)]
pub struct Clock {
    set_at: std::time::Instant,
    /// Seconds since the epoch when set.
    base: u64,
}

impl Default for Clock {
    fn default() -> Self {
        // 1980-01-06 00:00:00 UTC, the GPS epoch modules boot with.
        Self {
            set_at: std::time::Instant::now(),
            base: 315_964_800,
        }
    }
}

impl Clock {
    /// Now, by the module clock.
    pub fn now(&self) -> std::time::SystemTime {
        std::time::UNIX_EPOCH + Duration::from_secs(self.base) + self.set_at.elapsed()
    }

    /// `yy/MM/dd,hh:mm:ss±zz` (zone in quarter hours, ignored).
    pub fn set(&mut self, text: &str) -> bool {
        let parse = || -> Option<u64> {
            let (date, time) = text.split_once(',')?;
            let d: Vec<u64> = date
                .split('/')
                .map(|x| x.parse().ok())
                .collect::<Option<_>>()?;
            let time = time.get(..8)?;
            let t: Vec<u64> = time
                .split(':')
                .map(|x| x.parse().ok())
                .collect::<Option<_>>()?;
            let (y, m, day) = (2000 + *d.first()?, *d.get(1)?, *d.get(2)?);
            // Days from 1970-01-01 (civil calendar).
            let (yy, mm) = if m <= 2 { (y - 1, m + 9) } else { (y, m - 3) };
            let era = yy / 400;
            let yoe = yy - era * 400;
            let doy = (153 * mm + 2) / 5 + day - 1;
            let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
            let days = era * 146_097 + doe - 719_468;
            Some(days * 86_400 + t.first()? * 3600 + t.get(1)? * 60 + t.get(2)?)
        };
        match parse() {
            Some(secs) => {
                self.base = secs;
                self.set_at = std::time::Instant::now();
                true
            }
            None => false,
        }
    }

    /// `yy/MM/dd,hh:mm:ss+00`
    pub fn show(&self) -> String {
        let secs = self
            .now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let days = secs / 86_400;
        let rem = secs % 86_400;
        let z = days + 719_468;
        let era = z / 146_097;
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = doy - (153 * mp + 2) / 5 + 1;
        let m = if mp < 10 { mp + 3 } else { mp - 9 };
        let y = yoe + era * 400 + u64::from(m <= 2);
        format!(
            "{:02}/{m:02}/{d:02},{:02}:{:02}:{:02}+00",
            y % 100,
            rem / 3600,
            rem / 60 % 60,
            rem % 60
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_parse() {
        let c = AtCommand::parse("AT+QSMTPSRV=\"smtp.163.com\",25").unwrap();
        assert_eq!(
            (c.name.as_str(), c.write, c.args.as_slice()),
            (
                "+QSMTPSRV",
                true,
                &["smtp.163.com".to_owned(), "25".to_owned()][..]
            )
        );
        assert!(AtCommand::parse("AT+QSMTPSRV?").unwrap().read);
        assert!(AtCommand::parse("AT+QSMTPSRV=?").unwrap().test);
        assert_eq!(AtCommand::parse("ATE0").unwrap().name, "E0");
        assert!(AtCommand::parse("hello").is_none());
    }

    #[test]
    fn clock_round_trips() {
        let mut c = Clock::default();
        assert!(c.show().starts_with("80/01/06,"));
        assert!(c.set("18/12/26,10:36:57+32"));
        assert!(c.show().starts_with("18/12/26,10:36:5"));
    }

    #[tokio::test]
    async fn line_noise_garbles_one_byte_of_each_burst_until_it_stops() {
        let (_to_module, from_host) = mpsc::channel(4);
        let (to_host, mut received) = mpsc::channel(4);
        let faults = Faults::default();
        let mut io = Io::new(from_host, to_host, None, faults.clone(), Arc::default());
        faults.garble(true);
        io.ok().await;
        assert_eq!(received.recv().await.unwrap(), b"\r\nO\xcb\r\n");
        faults.garble(false);
        io.ok().await;
        assert_eq!(received.recv().await.unwrap(), b"\r\nOK\r\n");
    }
}
