//! A durable outbox for cellmail: mail that is never lost.
//!
//! [`Outbox::enqueue`] stores everything needed to send a mail in an SQLite
//! database (WAL, `synchronous=FULL`) and returns its [`MailId`] once it is on
//! disk; host-file attachments are copied in, so a file changed or deleted
//! later cannot lose the mail. A [`Runner`] sends queued mails, oldest first,
//! through one or more [`cellmail::MailSender`]s, retrying transient errors
//! with backoff ([`RetryPolicy`]) and failing over between mailers ([`Pool`]).
//!
//! The point of no return ([`cellmail::SendStage::Submitting`]) is written to
//! the database before the module is told to submit: after a crash, a mail
//! that never reached it is sent again with no risk of a duplicate, and one
//! that did follows the [`Delivery`] policy and is counted as a possible
//! duplicate (the modules let the host set no Message-ID, so this is made
//! visible instead of hidden). See `docs/reliability.md`.
//!
//! ```
//! use cellmail::Email;
//! use cellmail_outbox::{MailState, Outbox};
//! let dir = std::env::temp_dir().join(format!("cellmail-outbox-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir)?;
//! let outbox = Outbox::open(dir.join("outbox.db"))?;
//! let mail = Email::builder()
//!     .from("meter-17@example.com", None)
//!     .to("ops@example.com", None)
//!     .subject("Door open")
//!     .build()?;
//! let id = outbox.enqueue(&mail)?; // on disk now
//! assert_eq!(outbox.mail(id)?.state, MailState::Queued);
//! assert_eq!(outbox.status()?.counts.queued, 1);
//! # drop(outbox);
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod error;
mod policy;
mod runner;
mod schema;
mod store;

use std::fmt;
use std::str::FromStr;

pub use error::{OutboxError, Source};
pub use policy::{
    AfterSubmit, Decision, Delivery, GiveUp, Pool, RetryPolicy, after_submit, variant_name,
};
pub use runner::{Clock, RunEvent, RunSummary, Runner, RunnerConfig};
pub use store::{
    Attempt, AttemptOutcome, LastError, MailInfo, Oldest, OpenOptions, Outbox, Recovery,
    StateCounts, Status,
};

/// The id of a queued mail: increasing in the order mails were enqueued, never
/// reused.
///
/// ```
/// let id: cellmail_outbox::MailId = "42".parse()?;
/// assert_eq!(id.get(), 42);
/// assert_eq!(id.to_string(), "42");
/// # Ok::<(), std::num::ParseIntError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MailId(i64);

impl MailId {
    /// The number.
    pub fn get(self) -> i64 {
        self.0
    }

    /// The id with this number.
    pub fn new(n: i64) -> Self {
        Self(n)
    }
}

impl fmt::Display for MailId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl FromStr for MailId {
    type Err = std::num::ParseIntError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.parse().map(MailId)
    }
}

/// Where a mail stands.
///
/// ```text
/// Queued --take--> Sending --Submitting--> InDoubt --ok--> Sent
///   ^                |  \                    |  \--module said no--> (as before Submitting)
///   |                |   \--error--> Queued (retry) | Failed         \--silence--> Queued + possible duplicate | Unknown
///   +---- crash: Sending -> Queued;  InDoubt -> Queued + possible duplicate (at-least-once) | Unknown (at-most-once)
/// ```
///
/// ```
/// use cellmail_outbox::MailState;
/// assert_eq!("in_doubt".parse::<MailState>(), Ok(MailState::InDoubt));
/// assert!(MailState::Sent.is_final());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MailState {
    /// Waiting to be sent (perhaps until a retry is due).
    Queued,
    /// An attempt is under way and has not reached the point of no return.
    Sending,
    /// An attempt passed the point of no return and its result is not known yet.
    InDoubt,
    /// The module reported the mail accepted by the server.
    Sent,
    /// Ended undelivered: a permanent error, or the retry budget spent.
    Failed,
    /// Ended without knowing whether it was delivered (at-most-once after a
    /// send in doubt, or given up after one).
    Unknown,
}

impl MailState {
    /// Every state, in the order of the diagram.
    pub const ALL: [MailState; 6] = [
        MailState::Queued,
        MailState::Sending,
        MailState::InDoubt,
        MailState::Sent,
        MailState::Failed,
        MailState::Unknown,
    ];

    /// The name stored in the database and printed by `status`.
    pub fn as_str(self) -> &'static str {
        match self {
            MailState::Queued => "queued",
            MailState::Sending => "sending",
            MailState::InDoubt => "in_doubt",
            MailState::Sent => "sent",
            MailState::Failed => "failed",
            MailState::Unknown => "unknown",
        }
    }

    /// Whether the mail is done with (sent, failed or unknown).
    pub fn is_final(self) -> bool {
        matches!(
            self,
            MailState::Sent | MailState::Failed | MailState::Unknown
        )
    }
}

impl fmt::Display for MailState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for MailState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        MailState::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| format!("unknown mail state {s:?}"))
    }
}
