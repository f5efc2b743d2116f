//! [`Outbox`]: the database, what is stored per mail and per attempt, and every
//! change of state as one synchronous SQLite transaction.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cellmail::{Attachment, AttachmentSource, Charset, Email, MailError, RecipientKind};
use rusqlite::{Connection, OptionalExtension, params};

use crate::policy::{Delivery, variant_name};
use crate::schema::{self, db_error};
use crate::{MailId, MailState, OutboxError};

/// How an outbox is opened.
///
/// ```
/// use std::time::Duration;
/// let options = cellmail_outbox::OpenOptions { busy_timeout: Duration::from_secs(1) };
/// assert!(options.busy_timeout < cellmail_outbox::OpenOptions::default().busy_timeout);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpenOptions {
    /// How long to wait for another process's lock before [`OutboxError::Locked`].
    pub busy_timeout: Duration,
}

impl Default for OpenOptions {
    /// Waits 5 s for a lock.
    fn default() -> Self {
        Self {
            busy_timeout: Duration::from_secs(5),
        }
    }
}

/// A durable outbox in one SQLite file. Cheap to clone (the clones share one
/// connection), so an application can enqueue while a [`Runner`](crate::Runner)
/// sends; other processes may open the same file too.
#[derive(Clone)]
pub struct Outbox {
    inner: Arc<Inner>,
}

struct Inner {
    conn: Mutex<Connection>,
    path: PathBuf,
    busy: Duration,
}

impl std::fmt::Debug for Outbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbox")
            .field("path", &self.inner.path)
            .finish()
    }
}

/// One mail's record, without its content (see [`Outbox::email`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MailInfo {
    /// The id.
    pub id: MailId,
    /// Where it stands.
    pub state: MailState,
    /// When it was enqueued.
    pub enqueued_at: SystemTime,
    /// When the next attempt is due (for a queued mail).
    pub next_attempt_at: SystemTime,
    /// Attempts made so far.
    pub attempts: u32,
    /// Whether an attempt may already have delivered it.
    pub possible_duplicate: bool,
    /// The last attempt's error, if it failed.
    pub last_error: Option<String>,
    /// The module's success line, once sent.
    pub module_result: Option<String>,
    /// The subject, to tell mails apart.
    pub subject: String,
}

/// How one attempt ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// The module reported the mail sent.
    Sent,
    /// It failed before or without delivering; the mail was queued again.
    Retry,
    /// It failed and the mail was given up.
    Failed,
    /// It failed after the point of no return without a definite answer.
    InDoubt,
    /// The program stopped during it (found on restart).
    Interrupted,
}

impl AttemptOutcome {
    fn as_str(self) -> &'static str {
        match self {
            AttemptOutcome::Sent => "sent",
            AttemptOutcome::Retry => "retry",
            AttemptOutcome::Failed => "failed",
            AttemptOutcome::InDoubt => "in_doubt",
            AttemptOutcome::Interrupted => "interrupted",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        [
            AttemptOutcome::Sent,
            AttemptOutcome::Retry,
            AttemptOutcome::Failed,
            AttemptOutcome::InDoubt,
            AttemptOutcome::Interrupted,
        ]
        .into_iter()
        .find(|o| o.as_str() == s)
    }
}

/// One recorded attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attempt {
    /// 1 for the first attempt.
    pub n: u32,
    /// Which mailer of the runner (0 for the first).
    pub sender: usize,
    /// When it started.
    pub started_at: SystemTime,
    /// When it ended (`None` while under way).
    pub ended_at: Option<SystemTime>,
    /// Whether it reached the point of no return.
    pub submitted: bool,
    /// How it ended (`None` while under way).
    pub outcome: Option<AttemptOutcome>,
    /// The error's text, as an operator reads it.
    pub error: Option<String>,
    /// The error's variant (`Network`, `Modem(Timeout)`, ...).
    pub variant: Option<String>,
    /// The module's own code, when it reported one.
    pub vendor_code: Option<String>,
}

/// Mails per state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StateCounts {
    /// [`MailState::Queued`].
    pub queued: u64,
    /// [`MailState::Sending`].
    pub sending: u64,
    /// [`MailState::InDoubt`].
    pub in_doubt: u64,
    /// [`MailState::Sent`].
    pub sent: u64,
    /// [`MailState::Failed`].
    pub failed: u64,
    /// [`MailState::Unknown`].
    pub unknown: u64,
}

impl StateCounts {
    /// The count of one state.
    pub fn get(&self, state: MailState) -> u64 {
        match state {
            MailState::Queued => self.queued,
            MailState::Sending => self.sending,
            MailState::InDoubt => self.in_doubt,
            MailState::Sent => self.sent,
            MailState::Failed => self.failed,
            MailState::Unknown => self.unknown,
        }
    }

    fn slot(&mut self, state: MailState) -> &mut u64 {
        match state {
            MailState::Queued => &mut self.queued,
            MailState::Sending => &mut self.sending,
            MailState::InDoubt => &mut self.in_doubt,
            MailState::Sent => &mut self.sent,
            MailState::Failed => &mut self.failed,
            MailState::Unknown => &mut self.unknown,
        }
    }
}

/// The oldest mail not yet done with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Oldest {
    /// Its id.
    pub id: MailId,
    /// How long ago it was enqueued.
    pub age: Duration,
}

/// The most recent failed attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LastError {
    /// The mail.
    pub id: MailId,
    /// When the attempt ended.
    pub at: SystemTime,
    /// The error's text.
    pub error: String,
}

/// What [`Outbox::status`] reports.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Status {
    /// Mails per state.
    pub counts: StateCounts,
    /// The oldest mail not yet sent, failed or unknown.
    pub oldest_queued: Option<Oldest>,
    /// Mails an earlier attempt may already have delivered (in id order).
    pub possible_duplicates: Vec<MailId>,
    /// The most recent error of any attempt.
    pub last_error: Option<LastError>,
}

/// What recovery after a stop found, when a [`Runner`](crate::Runner) started.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Recovery {
    /// Mails stopped before the point of no return: queued again, no duplicate risk.
    pub requeued: Vec<MailId>,
    /// Mails stopped in doubt and queued again (at-least-once): possible duplicates.
    pub possible_duplicates: Vec<MailId>,
    /// Mails stopped in doubt and ended as unknown (at-most-once).
    pub unknown: Vec<MailId>,
}

pub(crate) fn to_ms(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_millis()).unwrap_or(i64::MAX),
    }
}

pub(crate) fn from_ms(ms: i64) -> SystemTime {
    if ms >= 0 {
        UNIX_EPOCH + Duration::from_millis(ms.unsigned_abs())
    } else {
        UNIX_EPOCH - Duration::from_millis(ms.unsigned_abs())
    }
}

/// A mail taken for an attempt.
pub(crate) struct Taken {
    pub id: MailId,
    pub attempt: u32,
    pub enqueued_at: SystemTime,
    pub possible_duplicate: bool,
    pub email: Result<Email, OutboxError>,
}

/// How an attempt that did not deliver ends, as the runner decided.
pub(crate) struct Ending<'a> {
    pub outcome: AttemptOutcome,
    pub state: MailState,
    pub next_at: SystemTime,
    pub possible_duplicate: bool,
    pub error: &'a MailError,
}

fn charset_of(name: &str) -> Option<Charset> {
    [
        Charset::Ascii,
        Charset::Utf8,
        Charset::Gb2312,
        Charset::Big5,
    ]
    .into_iter()
    .find(|c| c.mime_name() == name)
}

fn kind_of(name: &str) -> Option<RecipientKind> {
    [RecipientKind::To, RecipientKind::Cc, RecipientKind::Bcc]
        .into_iter()
        .find(|k| k.as_str() == name)
}

impl Outbox {
    /// Opens the outbox at `path`, creating it when the file is absent or
    /// empty. Refuses a directory, a file that is not an SQLite database, a
    /// damaged one, another application's database and a newer schema, all
    /// without writing to it; waits [`OpenOptions::default`]'s busy timeout for a
    /// lock, then fails with [`OutboxError::Locked`].
    pub fn open(path: impl AsRef<Path>) -> Result<Self, OutboxError> {
        Self::open_with(path, OpenOptions::default())
    }

    /// [`open`](Self::open) with options.
    pub fn open_with(path: impl AsRef<Path>, options: OpenOptions) -> Result<Self, OutboxError> {
        let path = path.as_ref();
        let conn = schema::open(path, options.busy_timeout)?;
        Ok(Self {
            inner: Arc::new(Inner {
                conn: Mutex::new(conn),
                path: path.to_owned(),
                busy: options.busy_timeout,
            }),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic elsewhere while the lock was held leaves SQLite consistent
        // (an open transaction is rolled back), so the connection stays usable.
        self.inner.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn err(&self, e: rusqlite::Error) -> OutboxError {
        db_error(&self.inner.path, self.inner.busy, e)
    }

    /// Runs `f` in one IMMEDIATE transaction, committed (durably) on `Ok`.
    fn write<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, OutboxError>,
    ) -> Result<T, OutboxError> {
        let mut conn = self.conn();
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(|e| self.err(e))?;
        let value = f(&tx)?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(value)
    }

    /// Stores `email` and returns its id once it is committed to disk.
    /// Host-file attachments are read now and stored in the database; a file
    /// that cannot be read refuses the whole mail ([`OutboxError::Mail`],
    /// `Invalid { field: "attachments[i]" }`) and nothing is stored.
    pub fn enqueue(&self, email: &Email) -> Result<MailId, OutboxError> {
        self.enqueue_at(email, SystemTime::now())
    }

    /// [`enqueue`](Self::enqueue) with the time of enqueueing given.
    pub fn enqueue_at(&self, email: &Email, now: SystemTime) -> Result<MailId, OutboxError> {
        let mut parts = Vec::with_capacity(email.attachments().len());
        for (i, a) in email.attachments().iter().enumerate() {
            parts.push(match a.source() {
                AttachmentSource::Memory(bytes) => (Some(bytes.to_vec()), None),
                AttachmentSource::HostFile { path, .. } => {
                    let bytes = std::fs::read(path).map_err(|e| {
                        MailError::invalid(
                            format!("attachments[{i}]"),
                            format!("cannot read {}: {e}", path.display()),
                        )
                    })?;
                    (Some(bytes), None)
                }
                AttachmentSource::Module(p) => (None, Some(p.as_str().to_owned())),
            });
        }
        let now = to_ms(now);
        self.write(|c| {
            let e = |e| self.err(e);
            let sender = email.sender();
            c.execute(
                "INSERT INTO mails (state, enqueued_ms, next_ms, from_addr, from_name, subject, body, charset)
                 VALUES ('queued', ?1, ?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    now,
                    sender.address.as_str(),
                    sender.name,
                    email.subject(),
                    email.body(),
                    email.charset().mime_name()
                ],
            )
            .map_err(e)?;
            let id = c.last_insert_rowid();
            for (pos, r) in email.recipients().iter().enumerate() {
                c.execute(
                    "INSERT INTO recipients (mail_id, pos, kind, address, name) VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![id, pos as i64, r.kind.as_str(), r.address.as_str(), r.name],
                )
                .map_err(e)?;
            }
            for (pos, (a, (data, module))) in email.attachments().iter().zip(parts).enumerate() {
                c.execute(
                    "INSERT INTO attachments (mail_id, pos, name, data, module_path) VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![id, pos as i64, a.name(), data, module],
                )
                .map_err(e)?;
            }
            Ok(MailId(id))
        })
    }

    /// The mail as it will be sent, rebuilt from the database (host-file
    /// attachments come back as the bytes copied at enqueue time).
    pub fn email(&self, id: MailId) -> Result<Email, OutboxError> {
        load_email(&self.conn(), id).map_err(|e| self.map_stored(e))
    }

    fn map_stored(&self, e: LoadError) -> OutboxError {
        match e {
            LoadError::Db(e) => self.err(e),
            LoadError::Outbox(e) => e,
        }
    }

    /// One mail's record.
    pub fn mail(&self, id: MailId) -> Result<MailInfo, OutboxError> {
        let conn = self.conn();
        conn.query_row(
            &format!("SELECT {MAIL_COLUMNS} FROM mails WHERE id = ?1"),
            [id.0],
            mail_info,
        )
        .optional()
        .map_err(|e| self.err(e))?
        .ok_or(OutboxError::NotFound(id))?
        .map_err(|reason| OutboxError::Stored {
            id,
            field: "state",
            reason,
        })
    }

    /// The ids of the mails in `state`, oldest first.
    pub fn ids_in(&self, state: MailState) -> Result<Vec<MailId>, OutboxError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare("SELECT id FROM mails WHERE state = ?1 ORDER BY id")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([state.as_str()], |r| r.get(0).map(MailId))
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// Every attempt of a mail, in order.
    pub fn attempts(&self, id: MailId) -> Result<Vec<Attempt>, OutboxError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare(
                "SELECT n, sender, started_ms, ended_ms, submitted, outcome, error, variant, vendor_code
                 FROM attempts WHERE mail_id = ?1 ORDER BY n",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([id.0], |r| {
                Ok(Attempt {
                    n: r.get(0)?,
                    sender: r.get::<_, i64>(1)?.try_into().unwrap_or(usize::MAX),
                    started_at: from_ms(r.get(2)?),
                    ended_at: r.get::<_, Option<i64>>(3)?.map(from_ms),
                    submitted: r.get(4)?,
                    outcome: r
                        .get::<_, Option<String>>(5)?
                        .and_then(|s| AttemptOutcome::parse(&s)),
                    error: r.get(6)?,
                    variant: r.get(7)?,
                    vendor_code: r.get(8)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// Counts per state, the oldest mail not done with, possible duplicates
    /// and the last error.
    pub fn status(&self) -> Result<Status, OutboxError> {
        self.status_at(SystemTime::now())
    }

    /// [`status`](Self::status) with ages measured at `now`.
    pub fn status_at(&self, now: SystemTime) -> Result<Status, OutboxError> {
        let conn = self.conn();
        let e = |e| self.err(e);
        let mut status = Status::default();
        let mut stmt = conn
            .prepare("SELECT state, count(*) FROM mails GROUP BY state")
            .map_err(e)?;
        let mut rows = stmt.query([]).map_err(e)?;
        while let Some(row) = rows.next().map_err(e)? {
            let state: String = row.get(0).map_err(e)?;
            let n: i64 = row.get(1).map_err(e)?;
            if let Ok(state) = state.parse::<MailState>() {
                *status.counts.slot(state) = n.try_into().unwrap_or(0);
            }
        }
        status.oldest_queued = conn
            .query_row(
                "SELECT id, enqueued_ms FROM mails WHERE state IN ('queued','sending','in_doubt')
                 ORDER BY id LIMIT 1",
                [],
                |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)),
            )
            .optional()
            .map_err(e)?
            .map(|(id, at)| Oldest {
                id: MailId(id),
                age: now.duration_since(from_ms(at)).unwrap_or_default(),
            });
        let mut stmt = conn
            .prepare("SELECT id FROM mails WHERE possible_duplicate = 1 ORDER BY id")
            .map_err(e)?;
        status.possible_duplicates = stmt
            .query_map([], |r| r.get(0).map(MailId))
            .map_err(e)?
            .collect::<Result<_, _>>()
            .map_err(e)?;
        status.last_error = conn
            .query_row(
                "SELECT mail_id, ended_ms, error FROM attempts WHERE error IS NOT NULL
                 ORDER BY ended_ms DESC, mail_id DESC, n DESC LIMIT 1",
                [],
                |r| {
                    Ok(LastError {
                        id: MailId(r.get(0)?),
                        at: from_ms(r.get::<_, Option<i64>>(1)?.unwrap_or(0)),
                        error: r.get(2)?,
                    })
                },
            )
            .optional()
            .map_err(e)?;
        Ok(status)
    }

    /// Ends what a stopped program left under way: `sending` mails (stopped
    /// before the point of no return) are queued again with no duplicate risk;
    /// `in_doubt` mails follow `delivery`. Only the one runner of an outbox may
    /// call it ([`Runner::new`](crate::Runner::new) does, holding the runner
    /// lock), so that it never takes a mail another process is sending.
    pub(crate) fn recover(
        &self,
        delivery: Delivery,
        now: SystemTime,
    ) -> Result<Recovery, OutboxError> {
        let now = to_ms(now);
        self.write(|c| {
            let e = |e| self.err(e);
            let ids = |state: &str| -> Result<Vec<MailId>, OutboxError> {
                let mut stmt = c
                    .prepare("SELECT id FROM mails WHERE state = ?1 ORDER BY id")
                    .map_err(e)?;
                let rows = stmt.query_map([state], |r| r.get(0).map(MailId)).map_err(e)?;
                rows.collect::<Result<_, _>>().map_err(e)
            };
            let sending = ids("sending")?;
            let in_doubt = ids("in_doubt")?;
            c.execute(
                "UPDATE attempts SET ended_ms = ?1, outcome = 'interrupted'
                 WHERE outcome IS NULL AND mail_id IN
                   (SELECT id FROM mails WHERE state IN ('sending','in_doubt'))",
                [now],
            )
            .map_err(e)?;
            c.execute(
                "UPDATE mails SET state = 'queued', next_ms = ?1 WHERE state = 'sending'",
                [now],
            )
            .map_err(e)?;
            let mut recovery = Recovery {
                requeued: sending,
                ..Recovery::default()
            };
            match delivery {
                Delivery::AtLeastOnce => {
                    c.execute(
                        "UPDATE mails SET state = 'queued', next_ms = ?1, possible_duplicate = 1
                         WHERE state = 'in_doubt'",
                        [now],
                    )
                    .map_err(e)?;
                    recovery.possible_duplicates = in_doubt;
                }
                Delivery::AtMostOnce => {
                    c.execute(
                        "UPDATE mails SET state = 'unknown', ended_ms = ?1,
                         last_error = 'stopped after the point of no return; at-most-once: not sent again'
                         WHERE state = 'in_doubt'",
                        [now],
                    )
                    .map_err(e)?;
                    recovery.unknown = in_doubt;
                }
            }
            Ok(recovery)
        })
    }

    /// Takes the oldest queued mail due at `now` for attempt `n + 1`.
    pub(crate) fn take(
        &self,
        now: SystemTime,
        sender: usize,
    ) -> Result<Option<Taken>, OutboxError> {
        let now_ms = to_ms(now);
        let taken = self.write(|c| {
            let e = |e| self.err(e);
            let row = c
                .query_row(
                    "SELECT id, attempts, enqueued_ms, possible_duplicate FROM mails
                     WHERE state = 'queued' AND next_ms <= ?1 ORDER BY id LIMIT 1",
                    [now_ms],
                    |r| {
                        Ok((
                            r.get::<_, i64>(0)?,
                            r.get::<_, u32>(1)?,
                            r.get::<_, i64>(2)?,
                            r.get::<_, bool>(3)?,
                        ))
                    },
                )
                .optional()
                .map_err(e)?;
            let Some((id, attempts, enqueued, dup)) = row else {
                return Ok(None);
            };
            let n = attempts + 1;
            c.execute(
                "UPDATE mails SET state = 'sending', attempts = ?2 WHERE id = ?1",
                params![id, n],
            )
            .map_err(e)?;
            c.execute(
                "INSERT INTO attempts (mail_id, n, sender, started_ms) VALUES (?1, ?2, ?3, ?4)",
                params![id, n, sender as i64, now_ms],
            )
            .map_err(e)?;
            Ok(Some((MailId(id), n, enqueued, dup)))
        })?;
        Ok(
            taken.map(|(id, attempt, enqueued, possible_duplicate)| Taken {
                id,
                attempt,
                enqueued_at: from_ms(enqueued),
                possible_duplicate,
                email: self.email(id),
            }),
        )
    }

    /// The point of no return, written before the module is told to submit.
    pub(crate) fn mark_submitting(&self, id: MailId, n: u32) -> Result<(), OutboxError> {
        self.write(|c| {
            let e = |e| self.err(e);
            c.execute("UPDATE mails SET state = 'in_doubt' WHERE id = ?1", [id.0])
                .map_err(e)?;
            c.execute(
                "UPDATE attempts SET submitted = 1 WHERE mail_id = ?1 AND n = ?2",
                params![id.0, n],
            )
            .map_err(e)?;
            Ok(())
        })
    }

    pub(crate) fn finish_sent(
        &self,
        id: MailId,
        n: u32,
        now: SystemTime,
        module_result: &str,
    ) -> Result<(), OutboxError> {
        let now = to_ms(now);
        self.write(|c| {
            let e = |e| self.err(e);
            c.execute(
                "UPDATE mails SET state = 'sent', ended_ms = ?2, module_result = ?3 WHERE id = ?1",
                params![id.0, now, module_result],
            )
            .map_err(e)?;
            c.execute(
                "UPDATE attempts SET ended_ms = ?3, outcome = 'sent' WHERE mail_id = ?1 AND n = ?2",
                params![id.0, n, now],
            )
            .map_err(e)?;
            Ok(())
        })
    }

    pub(crate) fn finish_failed(
        &self,
        id: MailId,
        n: u32,
        now: SystemTime,
        end: Ending<'_>,
    ) -> Result<(), OutboxError> {
        let now = to_ms(now);
        let text = end.error.to_string();
        let vendor = end.error.vendor_code().map(ToString::to_string);
        let ended = end.state.is_final().then_some(now);
        self.write(|c| {
            let e = |e| self.err(e);
            c.execute(
                "UPDATE mails SET state = ?2, ended_ms = ?3, next_ms = ?4, last_error = ?5,
                 possible_duplicate = possible_duplicate OR ?6 WHERE id = ?1",
                params![
                    id.0,
                    end.state.as_str(),
                    ended,
                    to_ms(end.next_at),
                    text,
                    end.possible_duplicate
                ],
            )
            .map_err(e)?;
            c.execute(
                "UPDATE attempts SET ended_ms = ?3, outcome = ?4, error = ?5, variant = ?6, vendor_code = ?7
                 WHERE mail_id = ?1 AND n = ?2",
                params![
                    id.0,
                    n,
                    now,
                    end.outcome.as_str(),
                    text,
                    variant_name(end.error),
                    vendor
                ],
            )
            .map_err(e)?;
            Ok(())
        })
    }

    /// Ends a mail whose stored row cannot be rebuilt (it can never be sent).
    pub(crate) fn finish_unreadable(
        &self,
        id: MailId,
        n: u32,
        now: SystemTime,
        why: &OutboxError,
    ) -> Result<(), OutboxError> {
        let now = to_ms(now);
        let text = why.to_string();
        self.write(|c| {
            let e = |e| self.err(e);
            c.execute(
                "UPDATE mails SET state = 'failed', ended_ms = ?2, last_error = ?3 WHERE id = ?1",
                params![id.0, now, text],
            )
            .map_err(e)?;
            c.execute(
                "UPDATE attempts SET ended_ms = ?3, outcome = 'failed', error = ?4, variant = 'Stored'
                 WHERE mail_id = ?1 AND n = ?2",
                params![id.0, n, now, text],
            )
            .map_err(e)?;
            Ok(())
        })
    }

    /// Makes every queued mail due at `now` (after a failover: their waits were
    /// the previous mailer's).
    pub(crate) fn make_all_due(&self, now: SystemTime) -> Result<(), OutboxError> {
        let now = to_ms(now);
        self.write(|c| {
            c.execute(
                "UPDATE mails SET next_ms = ?1 WHERE state = 'queued' AND next_ms > ?1",
                [now],
            )
            .map_err(|e| self.err(e))?;
            Ok(())
        })
    }

    /// When the next queued mail is due (`None`: nothing queued).
    pub(crate) fn next_due(&self) -> Result<Option<SystemTime>, OutboxError> {
        self.conn()
            .query_row(
                "SELECT min(next_ms) FROM mails WHERE state = 'queued'",
                [],
                |r| r.get::<_, Option<i64>>(0),
            )
            .map(|t| t.map(from_ms))
            .map_err(|e| self.err(e))
    }
}

const MAIL_COLUMNS: &str = "id, state, enqueued_ms, next_ms, attempts, possible_duplicate, last_error, module_result, subject";

fn mail_info(r: &rusqlite::Row<'_>) -> rusqlite::Result<Result<MailInfo, String>> {
    let state: String = r.get(1)?;
    let Ok(state) = state.parse::<MailState>() else {
        return Ok(Err(format!("unknown state {state:?}")));
    };
    Ok(Ok(MailInfo {
        id: MailId(r.get(0)?),
        state,
        enqueued_at: from_ms(r.get(2)?),
        next_attempt_at: from_ms(r.get(3)?),
        attempts: r.get(4)?,
        possible_duplicate: r.get(5)?,
        last_error: r.get(6)?,
        module_result: r.get(7)?,
        subject: r.get(8)?,
    }))
}

enum LoadError {
    Db(rusqlite::Error),
    Outbox(OutboxError),
}

impl From<rusqlite::Error> for LoadError {
    fn from(e: rusqlite::Error) -> Self {
        LoadError::Db(e)
    }
}

fn load_email(c: &Connection, id: MailId) -> Result<Email, LoadError> {
    let stored =
        |field, reason: String| LoadError::Outbox(OutboxError::Stored { id, field, reason });
    let row = c
        .query_row(
            "SELECT from_addr, from_name, subject, body, charset FROM mails WHERE id = ?1",
            [id.0],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Option<String>>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                ))
            },
        )
        .optional()?;
    let Some((from, from_name, subject, body, charset)) = row else {
        return Err(LoadError::Outbox(OutboxError::NotFound(id)));
    };
    let charset =
        charset_of(&charset).ok_or_else(|| stored("charset", format!("unknown {charset:?}")))?;
    let mut builder = Email::builder()
        .from(&from, from_name.as_deref())
        .subject(subject)
        .body(body)
        .charset(charset);
    let mut stmt =
        c.prepare("SELECT kind, address, name FROM recipients WHERE mail_id = ?1 ORDER BY pos")?;
    let mut rows = stmt.query([id.0])?;
    while let Some(r) = rows.next()? {
        let kind: String = r.get(0)?;
        let kind =
            kind_of(&kind).ok_or_else(|| stored("recipients.kind", format!("unknown {kind:?}")))?;
        let address: String = r.get(1)?;
        let name: Option<String> = r.get(2)?;
        builder = builder.recipient(kind, &address, name.as_deref());
    }
    let mut stmt = c.prepare(
        "SELECT name, data, module_path FROM attachments WHERE mail_id = ?1 ORDER BY pos",
    )?;
    let mut rows = stmt.query([id.0])?;
    while let Some(r) = rows.next()? {
        let name: String = r.get(0)?;
        let data: Option<Vec<u8>> = r.get(1)?;
        let module: Option<String> = r.get(2)?;
        let attachment = match (data, module) {
            (Some(bytes), _) => Attachment::from_bytes(name, bytes),
            (None, Some(path)) => Attachment::from_module(&path)
                .map_err(|e| stored("attachments.module_path", e.to_string()))?,
            (None, None) => return Err(stored("attachments", "neither bytes nor a path".into())),
        };
        builder = builder.attach(attachment);
    }
    builder.build().map_err(|e| stored("mail", e.to_string()))
}
