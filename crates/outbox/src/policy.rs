//! The decisions, as pure functions of their inputs (time passed in): when to
//! retry, whether an error after the point of no return leaves a mail in doubt,
//! and which mailer of several to use. The runner only carries them out.

use std::time::Duration;

use cellmail::MailError;
use cellmail_at::AtError;

/// What to do with a mail after an attempt that did not deliver it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Try again after a wait drawn uniformly from `min..=max` (exponential
    /// backoff with jitter, so that many devices do not retry in step).
    Retry {
        /// Shortest wait.
        min: Duration,
        /// Longest wait.
        max: Duration,
    },
    /// Give up: the error is permanent, or the retry budget is spent.
    GiveUp(GiveUp),
}

/// Why a mail is given up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GiveUp {
    /// The error is permanent (`!is_transient()`): trying again cannot help.
    Permanent,
    /// [`RetryPolicy::max_attempts`] attempts were made.
    Attempts(u32),
    /// The mail is older than [`RetryPolicy::max_age`].
    Age(Duration),
}

/// Exponential backoff with jitter, bounded by a count and an age.
///
/// ```
/// use std::time::Duration;
/// use cellmail::MailError;
/// use cellmail_outbox::{Decision, GiveUp, RetryPolicy};
/// let policy = RetryPolicy::default();
/// let busy = MailError::Busy { vendor: None };
/// assert_eq!(
///     policy.next(1, Duration::ZERO, &busy),
///     Decision::Retry { min: Duration::from_millis(1500), max: Duration::from_secs(2) },
/// );
/// let auth = MailError::Auth { vendor: None };
/// assert_eq!(policy.next(1, Duration::ZERO, &auth), Decision::GiveUp(GiveUp::Permanent));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The wait after the first failed attempt; doubled after each further one.
    pub initial: Duration,
    /// The longest wait between two attempts.
    pub max_delay: Duration,
    /// How much of each wait is random: the wait is drawn from
    /// `delay * (1 - jitter_percent/100) ..= delay`.
    pub jitter_percent: u8,
    /// Give up after this many attempts (`None`: no bound).
    pub max_attempts: Option<u32>,
    /// Give up once the mail is this old (`None`: no bound). An alert that is a
    /// day late may be worse than none; a meter reading is not.
    pub max_age: Option<Duration>,
}

impl Default for RetryPolicy {
    /// 2 s doubling to 10 min, 25 % jitter, at most 50 attempts within 3 days.
    fn default() -> Self {
        Self {
            initial: Duration::from_secs(2),
            max_delay: Duration::from_secs(600),
            jitter_percent: 25,
            max_attempts: Some(50),
            max_age: Some(Duration::from_secs(3 * 24 * 3600)),
        }
    }
}

impl RetryPolicy {
    /// What to do after `attempts` failed attempts (counting the one that just
    /// failed with `error`) of a mail enqueued `age` ago.
    pub fn next(&self, attempts: u32, age: Duration, error: &MailError) -> Decision {
        if !error.is_transient() {
            return Decision::GiveUp(GiveUp::Permanent);
        }
        self.next_transient(attempts, age)
    }

    /// Like [`next`](Self::next) for a failure already known to be worth
    /// retrying (a send left in doubt under at-least-once).
    pub fn next_transient(&self, attempts: u32, age: Duration) -> Decision {
        if let Some(max) = self.max_attempts
            && attempts >= max
        {
            return Decision::GiveUp(GiveUp::Attempts(attempts));
        }
        if let Some(max) = self.max_age
            && age >= max
        {
            return Decision::GiveUp(GiveUp::Age(age));
        }
        let doublings = attempts.saturating_sub(1).min(32);
        let delay = self
            .initial
            .saturating_mul(1u32 << doublings.min(31))
            .min(self.max_delay);
        let jitter = u32::from(self.jitter_percent.min(100));
        let min = delay.saturating_sub(delay * jitter / 100);
        Decision::Retry { min, max: delay }
    }
}

/// What happens to a mail that may have reached the server when the outbox
/// cannot know (a crash or a lost answer after [`SendStage::Submitting`](cellmail::SendStage)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Delivery {
    /// Send it again and count it as a possible duplicate (the default: for an
    /// alert, twice is better than never).
    #[default]
    AtLeastOnce,
    /// End it as [`MailState::Unknown`](crate::MailState::Unknown): never twice, maybe never.
    AtMostOnce,
}

impl Delivery {
    /// `at-least-once` or `at-most-once`.
    pub fn as_str(self) -> &'static str {
        match self {
            Delivery::AtLeastOnce => "at-least-once",
            Delivery::AtMostOnce => "at-most-once",
        }
    }
}

impl std::str::FromStr for Delivery {
    type Err = String;
    /// Parses `at-least-once` or `at-most-once`.
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "at-least-once" => Ok(Delivery::AtLeastOnce),
            "at-most-once" => Ok(Delivery::AtMostOnce),
            _ => Err(format!(
                "unknown delivery policy {s:?}: use at-least-once or at-most-once"
            )),
        }
    }
}

/// What an error returned after [`SendStage::Submitting`](cellmail::SendStage) says about
/// the mail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AfterSubmit {
    /// The module or the server gave a definite answer that the mail was not
    /// accepted: it is handled like an error before the point of no return.
    NotDelivered,
    /// Nobody said what became of it: it may have been delivered.
    InDoubt,
}

/// The in-doubt rule: an error after the point of no return is a definite
/// failure only when someone *answered* with one; silence, a lost line or a
/// broken connection leave the mail in doubt.
///
/// - not delivered: the server's reply refused it (`Rejected`, `Throttled`,
///   `BadRecipient`, `Auth`), the module never got as far as talking to the server (`Dns`,
///   `Tls`, `Busy`, `Invalid`, `Unsupported`), or the module refused the
///   command itself (`ERROR`, `+CME ERROR`, `+CMS ERROR`, an unencodable
///   command);
/// - in doubt: `Network` and `Timeout` (the connection may have dropped or the
///   server gone quiet after it took the mail), host-side timeouts, a closed
///   or failed line, an answer the host could not parse, a module failure line
///   the dialect did not map (`AtError::Failed`), host I/O errors.
///
/// ```
/// use cellmail::MailError;
/// use cellmail_outbox::{after_submit, AfterSubmit};
/// let refused = MailError::Rejected { code: 554, text: "no".into(), vendor: None };
/// assert_eq!(after_submit(&refused), AfterSubmit::NotDelivered);
/// let silence = MailError::Modem(cellmail_at::AtError::Closed);
/// assert_eq!(after_submit(&silence), AfterSubmit::InDoubt);
/// ```
pub fn after_submit(error: &MailError) -> AfterSubmit {
    match error {
        MailError::Rejected { .. }
        | MailError::BadRecipient { .. }
        | MailError::Auth { .. }
        | MailError::Dns { .. }
        | MailError::Tls { .. }
        | MailError::Busy { .. }
        | MailError::Throttled { .. }
        | MailError::Invalid { .. }
        | MailError::Unsupported { .. } => AfterSubmit::NotDelivered,
        MailError::Modem(
            AtError::Error { .. } | AtError::Cme { .. } | AtError::Cms { .. } | AtError::Encode(_),
        ) => AfterSubmit::NotDelivered,
        MailError::Network { .. }
        | MailError::Timeout { .. }
        | MailError::Modem(_)
        | MailError::Io(_) => AfterSubmit::InDoubt,
    }
}

/// The short name of an error's variant, as stored with each attempt.
pub fn variant_name(error: &MailError) -> &'static str {
    match error {
        MailError::Invalid { .. } => "Invalid",
        MailError::Unsupported { .. } => "Unsupported",
        MailError::Auth { .. } => "Auth",
        MailError::Dns { .. } => "Dns",
        MailError::Network { .. } => "Network",
        MailError::Timeout { .. } => "Timeout",
        MailError::Tls { .. } => "Tls",
        MailError::Rejected { .. } => "Rejected",
        MailError::BadRecipient { .. } => "BadRecipient",
        MailError::Busy { .. } => "Busy",
        MailError::Throttled { .. } => "Throttled",
        MailError::Modem(AtError::Timeout { .. }) => "Modem(Timeout)",
        MailError::Modem(AtError::Silent { .. }) => "Modem(Silent)",
        MailError::Modem(AtError::Closed) => "Modem(Closed)",
        MailError::Modem(AtError::Rebooted { .. }) => "Modem(Rebooted)",
        MailError::Modem(AtError::Io(_)) => "Modem(Io)",
        MailError::Modem(AtError::Protocol { .. }) => "Modem(Protocol)",
        MailError::Modem(AtError::Failed { .. }) => "Modem(Failed)",
        MailError::Modem(AtError::Error { .. }) => "Modem(Error)",
        MailError::Modem(AtError::Cme { .. }) => "Modem(Cme)",
        MailError::Modem(AtError::Cms { .. }) => "Modem(Cms)",
        MailError::Modem(AtError::Encode(_)) => "Modem(Encode)",
        MailError::Io(_) => "Io",
    }
}

/// Which of several mailers to use: the current one until it fails
/// `failover_after` times in a row with transient errors, then the next one
/// (round robin). Permanent errors are the mail's fault, not the module's, and
/// do not count.
///
/// ```
/// use cellmail_outbox::Pool;
/// let mut pool = Pool::new(2, 3);
/// assert_eq!(pool.current(), 0);
/// for _ in 0..3 { pool.record_transient_failure(); }
/// assert_eq!(pool.current(), 1); // module 0 kept failing
/// pool.record_success();
/// assert_eq!(pool.current(), 1);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pool {
    len: usize,
    current: usize,
    failover_after: u32,
    consecutive: u32,
}

impl Pool {
    /// A pool of `len` mailers (at least one) switching after `failover_after`
    /// (at least one) consecutive transient failures.
    pub fn new(len: usize, failover_after: u32) -> Self {
        Self {
            len: len.max(1),
            current: 0,
            failover_after: failover_after.max(1),
            consecutive: 0,
        }
    }

    /// The mailer to use now.
    pub fn current(&self) -> usize {
        self.current
    }

    /// The current mailer delivered (or failed for the mail's own reasons).
    pub fn record_success(&mut self) {
        self.consecutive = 0;
    }

    /// The current mailer failed with a transient error. Returns `true` when
    /// this switched to another mailer.
    pub fn record_transient_failure(&mut self) -> bool {
        self.consecutive += 1;
        if self.consecutive < self.failover_after || self.len == 1 {
            return false;
        }
        self.consecutive = 0;
        self.current = (self.current + 1) % self.len;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net() -> MailError {
        MailError::Network {
            detail: "bearer lost".into(),
            vendor: None,
        }
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_with_jitter_below_the_delay() {
        let p = RetryPolicy {
            initial: Duration::from_secs(1),
            max_delay: Duration::from_secs(10),
            jitter_percent: 50,
            max_attempts: None,
            max_age: None,
        };
        let waits: Vec<_> = (1..=6)
            .map(|n| match p.next(n, Duration::ZERO, &net()) {
                Decision::Retry { min, max } => (min.as_millis(), max.as_millis()),
                other => panic!("gave up: {other:?}"),
            })
            .collect();
        assert_eq!(
            waits,
            [
                (500, 1000),
                (1000, 2000),
                (2000, 4000),
                (4000, 8000),
                (5000, 10000),
                (5000, 10000)
            ]
        );
    }

    #[test]
    fn huge_attempt_counts_do_not_overflow() {
        let p = RetryPolicy {
            max_attempts: None,
            max_age: None,
            ..RetryPolicy::default()
        };
        assert_eq!(
            p.next(u32::MAX, Duration::ZERO, &net()),
            Decision::Retry {
                min: Duration::from_secs(450),
                max: Duration::from_secs(600)
            }
        );
    }

    #[test]
    fn permanent_errors_give_up_at_once() {
        let p = RetryPolicy::default();
        for e in [
            MailError::Auth { vendor: None },
            MailError::Rejected {
                code: 550,
                text: "no such user".into(),
                vendor: None,
            },
            MailError::invalid("to[0]", "bad"),
            MailError::Modem(AtError::Error {
                command: "AT+QSMTPPUT".into(),
            }),
        ] {
            assert_eq!(
                p.next(1, Duration::ZERO, &e),
                Decision::GiveUp(GiveUp::Permanent),
                "{e}"
            );
        }
    }

    #[test]
    fn the_budget_ends_by_count_or_by_age() {
        let p = RetryPolicy {
            max_attempts: Some(3),
            max_age: Some(Duration::from_secs(60)),
            ..RetryPolicy::default()
        };
        assert!(matches!(
            p.next(2, Duration::from_secs(59), &net()),
            Decision::Retry { .. }
        ));
        assert_eq!(
            p.next(3, Duration::ZERO, &net()),
            Decision::GiveUp(GiveUp::Attempts(3))
        );
        assert_eq!(
            p.next(1, Duration::from_secs(60), &net()),
            Decision::GiveUp(GiveUp::Age(Duration::from_secs(60)))
        );
    }

    #[test]
    fn after_submit_only_an_answer_proves_non_delivery() {
        let not = [
            MailError::Rejected {
                code: 451,
                text: "later".into(),
                vendor: None,
            },
            MailError::Dns { vendor: None },
            MailError::Modem(AtError::Cme {
                command: "AT+SMTPSEND".into(),
                error: cellmail_at::CmeError::Code(3),
            }),
        ];
        for e in &not {
            assert_eq!(after_submit(e), AfterSubmit::NotDelivered, "{e}");
        }
        let doubt = [
            net(),
            MailError::Timeout {
                detail: "server".into(),
                vendor: None,
            },
            MailError::Modem(AtError::Timeout {
                command: "+QSMTPPUT".into(),
                after: Duration::from_secs(300),
            }),
            MailError::Modem(AtError::Closed),
            MailError::Modem(AtError::Protocol {
                command: "AT+SMTPSEND".into(),
                detail: "garbled".into(),
            }),
            MailError::Modem(AtError::Failed {
                command: "AT+SMTPSEND".into(),
                result: "+SMTPSEND: 9".into(),
            }),
        ];
        for e in &doubt {
            assert_eq!(after_submit(e), AfterSubmit::InDoubt, "{e}");
        }
    }

    #[test]
    fn pool_fails_over_round_robin_and_only_on_consecutive_failures() {
        let mut pool = Pool::new(3, 2);
        assert!(!pool.record_transient_failure());
        pool.record_success(); // the streak is broken
        assert!(!pool.record_transient_failure());
        assert_eq!(pool.current(), 0);
        assert!(pool.record_transient_failure());
        assert_eq!(pool.current(), 1);
        pool.record_transient_failure();
        pool.record_transient_failure();
        pool.record_transient_failure();
        pool.record_transient_failure();
        assert_eq!(pool.current(), 0, "wrapped around: 1 -> 2 -> 0");
        let mut single = Pool::new(1, 1);
        assert!(!single.record_transient_failure());
        assert_eq!(single.current(), 0);
    }

    #[test]
    fn delivery_parses_its_names() {
        for d in [Delivery::AtLeastOnce, Delivery::AtMostOnce] {
            assert_eq!(d.as_str().parse::<Delivery>(), Ok(d));
        }
        assert!("once".parse::<Delivery>().is_err());
    }
}
