//! The one async driver: runs [`Exchange`]s over a [`cellmail_at::Client`],
//! keeps the [`ModuleState`] moving with them and with the URCs it watches,
//! streams payloads with progress, reports the point of no return and counts
//! what a send cost. The only code of a dialect that awaits.

use std::time::{Duration, Instant};

use cellmail::{Progress, ProgressEvent, SendReport, SendStage};
use cellmail_at::{AtError, Client, Command, DataEnd, Response, Stats, UrcWatch};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};

use crate::exchange::{Exchange, Owing, Payload, Source, Wait};
use crate::state::{ModuleState, Service};

/// The URCs a dialect's driver acts on, and the results it owns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Marks {
    /// Lines that mean the module rebooted (`RDY`, `NORMAL POWER DOWN`).
    pub reboot: &'static [&'static str],
    /// Starts of lines that mean the module released the data bearer (they
    /// may name the profile: `+SAPBR 1: DEACT`, `+PDP DEACT`).
    pub bearer_lost: Vec<String>,
    /// Prefixes of lines that mean the module ended the POP3 session by
    /// itself (`+POP3OUT:`).
    pub pop3_ended: &'static [&'static str],
    /// Prefixes of a result given up on ([`Smtp::Late`](crate::Smtp::Late))
    /// that arrives later as a URC (`+SMTPSEND:`).
    pub late_results: &'static [&'static str],
    /// Prefixes of the dialect's own results that arrive as URCs
    /// (`+SMTP:`): one a stopped session left queued is dropped before the
    /// next exchange that waits for one, never taken for its result.
    pub own_results: &'static [&'static str],
}

/// What [`Driver::run`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing was sent: the module holds the setting.
    Skipped,
    /// The exchange completed.
    Done {
        /// The command's answer.
        response: Response,
        /// The result line that ended the wait ([`Wait::Deferred`], [`Wait::Urc`]).
        result: Option<String>,
    },
}

impl Outcome {
    /// The answer, empty when skipped.
    pub fn into_response(self) -> Response {
        match self {
            Outcome::Skipped => Response::default(),
            Outcome::Done { response, .. } => response,
        }
    }
}

/// What a send cost, from [`Driver::meter`] to [`Driver::report`].
#[derive(Clone, Copy, Debug)]
pub struct Meter {
    started: Instant,
    before: Stats,
}

/// How a session is ended when a dropped call (or a command without an
/// answer) left it owing a result, as the dialect's policy says.
#[derive(Clone, Debug)]
pub struct Stop {
    /// The command that ends it (`AT+SMTPSTOP`).
    pub command: Command,
    /// Whether the debt stays when that command fails.
    pub on_error: OnStopError,
}

/// What a failed [`Stop`] leaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnStopError {
    /// The session may still run: the next call tries again.
    StillOwed,
    /// Best effort: the session is taken as ended.
    Forget,
}

/// Where an exchange failed: before its final result came (the command, its
/// prompt, its payload), or while waiting for the result after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// The command (with its prompt and payload) up to its final result.
    Command,
    /// The wait for the result after the final result.
    Wait,
}

/// An exchange that failed, and where: a policy decides on both.
#[derive(Debug)]
pub struct Failure {
    /// Where.
    pub stage: Stage,
    /// What the client said.
    pub error: AtError,
}

impl Failure {
    /// Whether the module refused the command itself (`ERROR`, `+CME ERROR`,
    /// `+CMS ERROR`): it did not carry it out, so it owes nothing.
    pub fn is_refusal(&self) -> bool {
        self.stage == Stage::Command && is_refusal(&self.error)
    }
}

/// Whether `error` is the module's refusal of a command (a final result
/// other than `OK`), not a fault of the line or a timeout.
pub fn is_refusal(error: &AtError) -> bool {
    matches!(
        error,
        AtError::Error { .. } | AtError::Cme { .. } | AtError::Cms { .. }
    )
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.error.fmt(f)
    }
}

impl std::error::Error for Failure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

impl From<Failure> for AtError {
    fn from(f: Failure) -> Self {
        f.error
    }
}

impl From<Failure> for cellmail::MailError {
    fn from(f: Failure) -> Self {
        cellmail::MailError::from(f.error)
    }
}

/// A module's answer the dialect cannot read, as the facade's error: the
/// command (as logs show it) and what was wrong with the answer.
///
/// ```
/// let e = cellmail_session::protocol("AT+POP3NUM", "unreadable answer".into());
/// assert!(matches!(e, cellmail::MailError::Modem(cellmail_at::AtError::Protocol { .. })));
/// ```
pub fn protocol(command: &str, detail: String) -> cellmail::MailError {
    cellmail::MailError::Modem(AtError::Protocol {
        command: command.to_owned(),
        detail,
    })
}

/// The chunk a payload is written in (and progress reported by).
pub const CHUNK: usize = 4096;

/// Runs exchanges over a client; owns the URC watch and the module's state.
pub struct Driver<T> {
    client: Client<T>,
    watch: UrcWatch,
    state: ModuleState,
    marks: Marks,
    progress: Option<Progress>,
}

impl<T> std::fmt::Debug for Driver<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Driver")
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

impl<T> Driver<T> {
    /// What the host knows of the module.
    pub fn state(&self) -> &ModuleState {
        &self.state
    }

    /// The state, for a policy's decision to move it.
    pub fn state_mut(&mut self) -> &mut ModuleState {
        &mut self.state
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin + Send> Driver<T> {
    /// A driver over `client`, watching the URCs from now on. The marks'
    /// reboot lines become the client's
    /// ([`ClientConfig::reboot_lines`](cellmail_at::ClientConfig::reboot_lines)):
    /// a reboot ends the wait for any answer at once.
    pub fn new(mut client: Client<T>, marks: Marks) -> Self {
        client.set_reboot_lines(marks.reboot);
        Self {
            watch: client.watch_urcs(),
            client,
            state: ModuleState::new(),
            marks,
            progress: None,
        }
    }

    /// Reports payload progress to `progress`.
    pub fn with_progress(mut self, progress: Option<Progress>) -> Self {
        self.progress = progress;
        self
    }

    /// The AT client (the application's URC queue is its own).
    pub fn client(&mut self) -> &mut Client<T> {
        &mut self.client
    }

    /// Gives the client back.
    pub fn into_client(self) -> Client<T> {
        self.client
    }

    /// Looks at the URCs the watch got since the last look (reading
    /// nothing): missed URCs, a reboot, a bearer released move the state.
    /// Returns the lines, for a dialect that reads more of them.
    pub fn notice(&mut self) -> Vec<String> {
        let lines = self.look();
        self.notice_in(&lines);
        lines
    }

    /// The watch's lines since the last look; missed ones move the state.
    fn look(&mut self) -> Vec<String> {
        let seen = self.watch.seen();
        if seen.missed > 0 {
            tracing::warn!(
                missed = seen.missed,
                "URCs were missed; configuring the module again"
            );
            self.state.handle_urcs_missed(seen.missed);
        }
        seen.lines
    }

    /// Acts on `urcs` (already taken off the watch).
    fn notice_in(&mut self, urcs: &[String]) {
        if urcs.iter().any(|u| self.marks.reboot.contains(&u.as_str())) {
            tracing::info!("the module rebooted: configuring it again");
            self.client.forget_deferred();
            // A reboot ends any data mode a payload cut short left open.
            self.client.forget_data_mode();
            self.state.handle_reboot();
        }
        if urcs.iter().any(|u| {
            self.marks
                .bearer_lost
                .iter()
                .any(|b| u.trim().starts_with(b.as_str()))
        }) {
            tracing::info!("the module released the bearer");
            self.state.handle_bearer_lost();
        }
        let starts = |prefixes: &[&str]| {
            urcs.iter()
                .any(|u| prefixes.iter().any(|p| u.starts_with(p)))
        };
        if starts(self.marks.late_results) {
            self.state.handle_late_result();
        }
        if starts(self.marks.pop3_ended) {
            self.state.handle_pop3_ended();
        }
    }

    /// Takes the dialect's own results that no wait took off the client's
    /// queue; the application's URCs stay queued.
    pub async fn drain_own_results(&mut self) {
        for prefix in self.marks.own_results {
            while self.client.wait_urc(prefix, Duration::ZERO).await.is_ok() {}
        }
    }

    /// Reads what the module sent while no command was in flight and looks
    /// at it; a line that failed is the caller's error.
    pub async fn catch_up(&mut self) -> Result<(), AtError> {
        self.client.idle(Duration::ZERO).await?;
        self.notice();
        Ok(())
    }

    /// With the state a dialect starts from (see [`ModuleState::leaving`]).
    pub fn with_state(mut self, state: ModuleState) -> Self {
        self.state = state;
        self
    }

    /// The start of a call: reads what the module said while no call ran,
    /// ends the sessions a dropped call left owing a result (`stops`, from
    /// the dialect's policy), drops the results they leave behind.
    pub async fn recover(&mut self, stops: &[(Service, Stop)]) {
        let _ = self.client.idle(Duration::ZERO).await;
        self.notice();
        for (service, stop) in stops {
            let Some(debt) = self.state.debt(*service) else {
                continue;
            };
            tracing::info!(owed_by = %debt.owed_by, "a call was cut short: ending its session");
            self.stop(*service, stop).await;
        }
        self.drain_own_results().await;
        self.notice();
    }

    /// Ends `service`'s session with `stop` (a debt, a result that never
    /// came): settled on success, or as `stop.on_error` says. The SMTP
    /// client is idle after it, the POP3 session closed.
    pub async fn stop(&mut self, service: Service, stop: &Stop) {
        let result = self.client.execute(&stop.command).await;
        if let Err(e) = &result {
            tracing::warn!(error = %e, command = %stop.command.redacted(), "stop failed");
            if stop.on_error == OnStopError::StillOwed {
                return;
            }
        }
        match service {
            Service::Smtp => self.state.settle(Service::Smtp),
            Service::Pop3 => self.state.pop3 = crate::state::Pop3::Closed,
        }
    }

    /// Runs one exchange (see [`Driver::run_observed`]); a wait for a URC
    /// result ends at its first line.
    pub async fn run(&mut self, ex: &Exchange) -> Result<Outcome, Failure> {
        self.run_observed(ex, &|_| {}, &|_| true).await
    }

    /// Runs one exchange: skipped if it is a setting the module holds;
    /// what it [risks leaving](crate::Then::RisksLeaving) marked and a debt
    /// recorded before its first byte if it owes one from there; for the
    /// exchange that [submits](crate::Then::Submits) the mail, `observe` told
    /// [`SendStage::Submitting`] just before it. The command, its payload
    /// streamed in [`CHUNK`]s with progress, its final result (a debt owed
    /// from the `OK` recorded then), then the wait: a URC result is waited
    /// for until `last` says a line is the last (earlier ones, `+SMTP: OK`,
    /// are skipped). On success the state moves as the exchange's
    /// [`Then`](crate::Then) says; the debt stays for the dialect's policy to
    /// settle.
    pub async fn run_observed(
        &mut self,
        ex: &Exchange,
        observe: &(dyn Fn(SendStage) + Send + Sync),
        last: &(dyn Fn(&str) -> bool + Send + Sync),
    ) -> Result<Outcome, Failure> {
        let command = |error: AtError| Failure {
            stage: Stage::Command,
            error,
        };
        let wait = |error: AtError| Failure {
            stage: Stage::Wait,
            error,
        };
        let bytes = ex.command.encode().map_err(|e| command(e.into()))?;
        if self.state.skips(&ex.then, &bytes) {
            return Ok(Outcome::Skipped);
        }
        if matches!(ex.then, crate::Then::Submits(_)) {
            observe(SendStage::Submitting);
        }
        self.state.handle_start(&ex.then);
        let owes = ex.owes().zip(ex.owing());
        if let Some((service, Owing::FirstByte)) = owes {
            self.state.owe(service, ex.label());
        }
        let response = match &ex.payload {
            None => self.client.execute(&ex.command).await,
            Some(payload) => self.transfer(&ex.command, payload).await,
        }
        .map_err(command)?;
        if let Some((service, Owing::Ok)) = owes {
            self.state.owe(service, ex.label());
        }
        self.state.handle_done(&ex.then, &bytes);
        let result = match &ex.wait {
            Wait::Final => None,
            Wait::Deferred(timeout) => match ex.command.deferred() {
                // A reboot mid-wait ends it: the result will never come.
                Some(prefix) => match self
                    .client
                    .deferred_unless(prefix, self.marks.reboot, *timeout)
                    .await
                {
                    Ok(line) => Some(line),
                    Err(e) => {
                        if matches!(e, AtError::Rebooted { .. }) {
                            self.notice();
                        }
                        return Err(wait(e));
                    }
                },
                None => {
                    return Err(wait(AtError::Protocol {
                        command: ex.label(),
                        detail: "the exchange waits for a deferred result its command does not \
                                 declare"
                            .into(),
                    }));
                }
            },
            Wait::Urc { prefix, timeout } => loop {
                let line = self.client.wait_urc(prefix, *timeout).await.map_err(wait)?;
                if last(&line) {
                    break Some(line);
                }
            },
        };
        Ok(Outcome::Done { response, result })
    }

    /// Runs `command` and reads on for `quiet`: lines that arrive after the
    /// answer and are no URC (the decoder cannot tell them from one) are the
    /// answer's own, taken off the client's queue and returned; the URCs
    /// among them stay the application's, and are looked at.
    pub async fn run_then_strays(
        &mut self,
        command: &Command,
        quiet: Duration,
    ) -> Result<(Response, Vec<String>), AtError> {
        // What came before is looked at now: the watch's lines from here on
        // came with or after the answer.
        self.notice();
        let response = self.client.execute(command).await?;
        self.client.idle(quiet).await?;
        let lines = self.look();
        let config = self.client.config().decoder.clone();
        let (urcs, strays): (Vec<String>, Vec<String>) =
            lines.into_iter().partition(|l| config.is_urc(l));
        self.notice_in(&urcs);
        for line in &strays {
            // Exactly this line: a stray is no prefix of the application's URCs.
            let _ = self.client.remove_urc(line);
        }
        Ok((response, strays))
    }

    /// Waits for a URC starting with `prefix` (one already queued counts).
    pub async fn wait_urc(&mut self, prefix: &str, timeout: Duration) -> Result<String, AtError> {
        self.client.wait_urc(prefix, timeout).await
    }

    /// Starts counting a send.
    pub fn meter(&self) -> Meter {
        Meter {
            started: Instant::now(),
            before: self.client.stats(),
        }
    }

    /// What the send since `meter` cost, with the module's result line.
    pub fn report(&self, meter: Meter, module_result: String) -> SendReport {
        let after = self.client.stats();
        SendReport {
            module_result,
            bytes_sent: after.bytes_written - meter.before.bytes_written,
            commands: after.commands - meter.before.commands,
            duration: meter.started.elapsed(),
        }
    }

    /// The command, its prompt, the payload in chunks with progress, its end.
    async fn transfer(
        &mut self,
        command: &Command,
        payload: &Payload,
    ) -> Result<Response, AtError> {
        let total = payload.source.len();
        self.client.begin(command).await?;
        self.client.declare_payload(match payload.end {
            DataEnd::Escape => cellmail_at::Payload::Escape,
            DataEnd::Length => cellmail_at::Payload::Length(total),
        })?;
        self.client.wait_prompt().await?;
        let mut done = 0u64;
        match &payload.source {
            Source::Memory(bytes) => {
                for chunk in bytes.chunks(CHUNK) {
                    self.client.write_data(chunk).await?;
                    done += chunk.len() as u64;
                    self.progress(payload, done, total);
                }
            }
            Source::HostFile { path, len } => {
                let mut file = tokio::fs::File::open(path).await?;
                let mut chunk = vec![0u8; CHUNK];
                while done < *len {
                    let want = usize::try_from((*len - done).min(CHUNK as u64)).unwrap_or(CHUNK);
                    let n = file.read(&mut chunk[..want]).await?;
                    if n == 0 {
                        return Err(AtError::Io(std::io::Error::new(
                            std::io::ErrorKind::UnexpectedEof,
                            format!("{} ended {} bytes early", path.display(), len - done),
                        )));
                    }
                    self.client.write_data(&chunk[..n]).await?;
                    done += n as u64;
                    self.progress(payload, done, total);
                }
            }
        }
        if payload.end == DataEnd::Escape {
            self.client.write_escape().await?;
        }
        self.client.finish().await
    }

    fn progress(&self, payload: &Payload, done: u64, total: u64) {
        if let (Some(p), Some(phase)) = (&self.progress, &payload.phase) {
            p.report(ProgressEvent {
                phase: phase.clone(),
                done,
                total: Some(total),
            });
        }
    }
}
