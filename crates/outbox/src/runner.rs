//! [`Runner`]: the thin async driver. It takes mails in order, sends them
//! through the pool's current mailer, writes the point of no return from
//! inside the mailer's callback, and records what the pure policies decide.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use cellmail::{MailError, MailSender, SendStage};
use rusqlite::{Connection, ErrorCode};

use crate::policy::{AfterSubmit, Decision, Delivery, Pool, RetryPolicy, after_submit};
use crate::store::{AttemptOutcome, Ending, Recovery, Taken};
use crate::{MailId, MailState, Outbox, OutboxError};

/// Where the runner reads the time (it decides retries and ages).
#[derive(Clone)]
pub struct Clock(Arc<dyn Fn() -> SystemTime + Send + Sync>);

impl Clock {
    /// The system's wall clock (the default: retry times survive a restart).
    pub fn system() -> Self {
        Self(Arc::new(SystemTime::now))
    }

    /// Wall-clock time that advances with tokio's clock, so that tests with
    /// paused time (`tokio::time::pause`) see backoff waits pass at once.
    pub fn tokio() -> Self {
        let (wall, start) = (SystemTime::now(), tokio::time::Instant::now());
        Self(Arc::new(move || wall + start.elapsed()))
    }

    /// Any source of time.
    pub fn new(f: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        Self(Arc::new(f))
    }

    /// The time now.
    pub fn now(&self) -> SystemTime {
        (self.0)()
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Clock(..)")
    }
}

/// How a [`Runner`] behaves.
///
/// ```
/// use cellmail_outbox::{Delivery, RunnerConfig};
/// let config = RunnerConfig { delivery: Delivery::AtMostOnce, ..RunnerConfig::default() };
/// assert_eq!(config.failover_after, 3);
/// ```
#[derive(Clone, Debug)]
pub struct RunnerConfig {
    /// When to retry and when to give up.
    pub retry: RetryPolicy,
    /// What to do with a mail that may have been delivered.
    pub delivery: Delivery,
    /// Consecutive transient failures of one mailer before the next one is used.
    pub failover_after: u32,
    /// How often [`Runner::run`] looks for new mail when the outbox is empty.
    pub poll_interval: Duration,
    /// The time source.
    pub clock: Clock,
    /// Seed of the jitter (`None`: random).
    pub seed: Option<u64>,
}

impl Default for RunnerConfig {
    fn default() -> Self {
        Self {
            retry: RetryPolicy::default(),
            delivery: Delivery::default(),
            failover_after: 3,
            poll_interval: Duration::from_secs(1),
            clock: Clock::system(),
            seed: None,
        }
    }
}

/// What one attempt did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunEvent {
    /// The mail.
    pub id: MailId,
    /// The attempt's number (1 for the first).
    pub attempt: u32,
    /// The mailer used (index into the runner's mailers).
    pub sender: usize,
    /// How it ended.
    pub outcome: AttemptOutcome,
    /// The mail's state after it.
    pub state: MailState,
    /// The error, if it failed.
    pub error: Option<String>,
    /// When queued again: the wait drawn before the next attempt.
    pub retry_in: Option<Duration>,
    /// Whether the mail may be delivered more than once.
    pub possible_duplicate: bool,
    /// The mailer the runner switched to after this attempt, if it did.
    pub failed_over_to: Option<usize>,
}

/// Totals of a [`Runner::run_until_empty`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunSummary {
    /// Attempts made.
    pub attempts: u64,
    /// Mails sent.
    pub sent: u64,
    /// Attempts that ended with the mail queued again.
    pub retried: u64,
    /// Mails ended as failed.
    pub failed: u64,
    /// Mails ended as unknown.
    pub unknown: u64,
    /// Switches from one mailer to another.
    pub failovers: u64,
}

impl RunSummary {
    fn add(&mut self, e: &RunEvent) {
        self.attempts += 1;
        match e.state {
            MailState::Sent => self.sent += 1,
            MailState::Failed => self.failed += 1,
            MailState::Unknown => self.unknown += 1,
            _ => self.retried += 1,
        }
        self.failovers += u64::from(e.failed_over_to.is_some());
    }
}

/// Sends an outbox's mails through one or more mailers. One runner per
/// outbox: [`Runner::new`] takes a lock file beside the database
/// (`<db>-runner.lock`, released when the runner is dropped or the process
/// dies) and then recovers what a previous runner left under way.
///
/// Dropping a runner (or the future of one of its calls) mid-send is safe: it
/// is exactly the crash the next [`Runner::new`] recovers from.
pub struct Runner {
    outbox: Outbox,
    senders: Vec<Box<dyn MailSender>>,
    config: RunnerConfig,
    pool: Pool,
    rng: fastrand::Rng,
    recovery: Recovery,
    _lock: Mutex<Connection>,
}

impl std::fmt::Debug for Runner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runner")
            .field("outbox", &self.outbox)
            .field("senders", &self.senders.len())
            .field("current", &self.pool.current())
            .finish()
    }
}

impl Runner {
    /// Takes the runner lock, recovers the outbox after a stop (see
    /// [`Recovery`]) and prepares to send through `senders` (the first is
    /// used first).
    pub fn new(
        outbox: Outbox,
        senders: Vec<Box<dyn MailSender>>,
        config: RunnerConfig,
    ) -> Result<Self, OutboxError> {
        if senders.is_empty() {
            return Err(OutboxError::NoSender);
        }
        let lock = take_lock(outbox.path())?;
        let recovery = outbox.recover(config.delivery, config.clock.now())?;
        let rng = config
            .seed
            .map_or_else(fastrand::Rng::new, fastrand::Rng::with_seed);
        Ok(Self {
            pool: Pool::new(senders.len(), config.failover_after),
            outbox,
            senders,
            config,
            rng,
            recovery,
            _lock: Mutex::new(lock),
        })
    }

    /// What recovery found when the runner started.
    pub fn recovery(&self) -> &Recovery {
        &self.recovery
    }

    /// The outbox (to enqueue or read status while running).
    pub fn outbox(&self) -> &Outbox {
        &self.outbox
    }

    /// The mailer the next attempt will use.
    pub fn current_sender(&self) -> usize {
        self.pool.current()
    }

    /// Gives the mailers back (to close them).
    pub fn into_senders(self) -> Vec<Box<dyn MailSender>> {
        self.senders
    }

    /// Makes one attempt on the oldest mail due now; `None` when none is due.
    pub async fn run_once(&mut self) -> Result<Option<RunEvent>, OutboxError> {
        let now = self.config.clock.now();
        let index = self.pool.current();
        let Some(taken) = self.outbox.take(now, index)? else {
            return Ok(None);
        };
        self.attempt(taken, index).await.map(Some)
    }

    /// Sends until no mail is queued (waiting out backoffs), reporting each
    /// attempt to `on_event`.
    pub async fn run_until_empty(
        &mut self,
        mut on_event: impl FnMut(&RunEvent),
    ) -> Result<RunSummary, OutboxError> {
        let mut summary = RunSummary::default();
        loop {
            if let Some(event) = self.run_once().await? {
                summary.add(&event);
                on_event(&event);
                continue;
            }
            let Some(due) = self.outbox.next_due()? else {
                return Ok(summary);
            };
            tokio::time::sleep(self.wait_until(due)).await;
        }
    }

    /// Sends forever, looking for new mail every [`RunnerConfig::poll_interval`]
    /// when idle. Returns only on an outbox error; stop it by dropping the future.
    pub async fn run(
        &mut self,
        mut on_event: impl FnMut(&RunEvent),
    ) -> Result<std::convert::Infallible, OutboxError> {
        loop {
            if let Some(event) = self.run_once().await? {
                on_event(&event);
                continue;
            }
            let idle = self.config.clock.now() + self.config.poll_interval;
            let due = self.outbox.next_due()?.map_or(idle, |d| d.min(idle));
            tokio::time::sleep(self.wait_until(due)).await;
        }
    }

    fn wait_until(&self, due: SystemTime) -> Duration {
        due.duration_since(self.config.clock.now())
            .unwrap_or_default()
    }

    async fn attempt(&mut self, taken: Taken, index: usize) -> Result<RunEvent, OutboxError> {
        let Taken {
            id,
            attempt: n,
            enqueued_at,
            possible_duplicate: was_in_doubt,
            email,
        } = taken;
        let mut event = RunEvent {
            id,
            attempt: n,
            sender: index,
            outcome: AttemptOutcome::Failed,
            state: MailState::Failed,
            error: None,
            retry_in: None,
            possible_duplicate: was_in_doubt,
            failed_over_to: None,
        };
        let email = match email {
            Ok(email) => email,
            Err(why) => {
                self.outbox
                    .finish_unreadable(id, n, self.config.clock.now(), &why)?;
                event.error = Some(why.to_string());
                return Ok(event);
            }
        };
        let submitted = AtomicBool::new(false);
        let mark_failed: Mutex<Option<OutboxError>> = Mutex::new(None);
        let outbox = self.outbox.clone();
        let observe = |stage: SendStage| {
            if stage == SendStage::Submitting && !submitted.swap(true, Ordering::SeqCst) {
                // Synchronous on purpose: on disk before the module is told to submit.
                if let Err(e) = outbox.mark_submitting(id, n) {
                    *mark_failed.lock().unwrap_or_else(|e| e.into_inner()) = Some(e);
                }
            }
        };
        let result = self.senders[index].send_observed(&email, &observe).await;
        let now = self.config.clock.now();
        let mark_failed = mark_failed.into_inner().unwrap_or_else(|e| e.into_inner());
        let error = match result {
            Ok(report) => {
                self.pool.record_success();
                self.outbox.finish_sent(id, n, now, &report.module_result)?;
                event.outcome = AttemptOutcome::Sent;
                event.state = MailState::Sent;
                return mark_failed.map_or(Ok(event), Err);
            }
            Err(error) => error,
        };
        let switched = error.is_transient() && self.pool.record_transient_failure();
        if switched {
            event.failed_over_to = Some(self.pool.current());
        }
        let age = now.duration_since(enqueued_at).unwrap_or_default();
        // A failed in-doubt write leaves the database unsure too: treat as in doubt.
        let past_point = submitted.load(Ordering::SeqCst) || mark_failed.is_some();
        let in_doubt = past_point && after_submit(&error) == AfterSubmit::InDoubt;
        let (decision, outcome) = if in_doubt {
            event.possible_duplicate = true;
            match self.config.delivery {
                Delivery::AtLeastOnce => (
                    self.config.retry.next_transient(n, age),
                    AttemptOutcome::InDoubt,
                ),
                Delivery::AtMostOnce => (
                    Decision::GiveUp(crate::GiveUp::Permanent),
                    AttemptOutcome::InDoubt,
                ),
            }
        } else {
            (
                self.config.retry.next(n, age, &error),
                AttemptOutcome::Retry,
            )
        };
        let (state, next_at, outcome) = match decision {
            Decision::Retry { min, max } => {
                // After a failover the next mailer has not tried it yet.
                let wait = if switched {
                    Duration::ZERO
                } else {
                    self.draw(min, max)
                };
                event.retry_in = Some(wait);
                (MailState::Queued, now + wait, outcome)
            }
            // It may have arrived in an earlier attempt, or in this one.
            Decision::GiveUp(_) if in_doubt || was_in_doubt => {
                (MailState::Unknown, now, AttemptOutcome::Failed)
            }
            Decision::GiveUp(_) => (MailState::Failed, now, AttemptOutcome::Failed),
        };
        let outcome = if in_doubt {
            AttemptOutcome::InDoubt
        } else {
            outcome
        };
        let duplicate_flag = in_doubt && self.config.delivery == Delivery::AtLeastOnce;
        self.outbox.finish_failed(
            id,
            n,
            now,
            Ending {
                outcome,
                state,
                next_at,
                possible_duplicate: duplicate_flag,
                error: &error,
            },
        )?;
        if switched {
            self.outbox.make_all_due(now)?;
        }
        event.possible_duplicate = was_in_doubt || duplicate_flag;
        event.outcome = outcome;
        event.state = state;
        event.error = Some(error.to_string());
        log_attempt(&event, &error);
        mark_failed.map_or(Ok(event), Err)
    }

    fn draw(&mut self, min: Duration, max: Duration) -> Duration {
        let (lo, hi) = (min.as_millis(), max.as_millis().max(min.as_millis()));
        let lo = u64::try_from(lo).unwrap_or(u64::MAX);
        let hi = u64::try_from(hi).unwrap_or(u64::MAX);
        Duration::from_millis(self.rng.u64(lo..=hi))
    }
}

fn log_attempt(event: &RunEvent, error: &MailError) {
    tracing::info!(
        mail = %event.id,
        attempt = event.attempt,
        sender = event.sender,
        state = %event.state,
        transient = error.is_transient(),
        "attempt failed: {error}"
    );
}

/// The runner's lock: an SQLite file beside the database held in exclusive
/// locking mode (the operating system drops the lock when the process dies,
/// so a crash never leaves it stale).
fn take_lock(db: &Path) -> Result<Connection, OutboxError> {
    let mut name = db.as_os_str().to_owned();
    name.push("-runner.lock");
    let lock = PathBuf::from(name);
    let open_err = |e: rusqlite::Error| OutboxError::Open {
        path: lock.clone(),
        source: Box::new(e),
    };
    let conn = Connection::open(&lock).map_err(open_err)?;
    conn.pragma_update(None, "locking_mode", "EXCLUSIVE")
        .map_err(open_err)?;
    let taken = conn.execute_batch(&format!(
        "BEGIN EXCLUSIVE; CREATE TABLE IF NOT EXISTS runner (pid INTEGER); DELETE FROM runner;
         INSERT INTO runner VALUES ({}); COMMIT;",
        std::process::id()
    ));
    match taken {
        Ok(()) => Ok(conn),
        Err(e)
            if matches!(
                e.sqlite_error_code(),
                Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
            ) =>
        {
            Err(OutboxError::RunnerActive { lock })
        }
        Err(e) => Err(open_err(e)),
    }
}
