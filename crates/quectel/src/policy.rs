//! The SMTPS note's recovery advice (§1.4.1-§1.4.3) as decisions a test can
//! call: a failed `AT+QSMTPPUT` → give up, or resend (bringing the context
//! back first when it is gone, or before the last try; after a pause when the
//! server refused mail sent too often). Pure: the policy says how long to
//! wait, the mailer waits.

use std::time::Duration;

use cellmail::MailError;
use cellmail_at::AtError;

use crate::commands::{self as cmd, prefix};
use crate::error::{ResultCode, TransferError};

/// What to do when `+QSMTPPUT` reports a failure (SMTPS note §1.4.3: "please
/// resend it. If resending is not successful, you should deactivate the PDP
/// context by AT+QIDEACT command, and try again"). Which results are resent
/// is [`ResultCode::worth_resending`]: a wrong password stays wrong and some
/// servers lock accounts that keep trying.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Tries in all, the first included.
    pub attempts: u32,
    /// Deactivate and reactivate the PDP context before the last try (only
    /// when the mailer manages the bearer).
    pub reactivate_before_last: bool,
    /// The pause before resending after `+QSMTPPUT: -530`, which the SMTPS
    /// note §1.4.3 explains as "you may send email too frequently and the
    /// SMTP server rejects to post email": resending at once would be sending
    /// too often again. Default 60 s: the note gives no figure; servers that
    /// limit the rate count messages per minute or longer, so a minute is the
    /// shortest pause that can help, and `attempts` bounds the time `send`
    /// spends waiting (two pauses with the default three tries). Other
    /// failures are resent at once, as the note says.
    pub throttle_delay: Duration,
}

impl RetryPolicy {
    /// One try, no reactivation: for a caller that retries itself (an
    /// outbox, a bench run that reports each failure as it is).
    ///
    /// ```
    /// let once = cellmail_quectel::RetryPolicy::once();
    /// assert_eq!((once.attempts, once.reactivate_before_last), (1, false));
    /// ```
    pub fn once() -> Self {
        Self {
            attempts: 1,
            reactivate_before_last: false,
            ..Self::default()
        }
    }
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 3,
            reactivate_before_last: true,
            throttle_delay: Duration::from_secs(60),
        }
    }
}

/// Why one `AT+QSMTPPUT` failed.
pub enum PutFailure {
    /// `+QSMTPPUT: <result>` other than 0.
    Module(ResultCode),
    /// The exchange itself failed.
    Other(MailError),
}

impl PutFailure {
    /// Whether resending can help (see [`ResultCode::worth_resending`]).
    pub fn worth_resending(&self) -> bool {
        match self {
            PutFailure::Module(code) => code.worth_resending(),
            PutFailure::Other(e) => e.is_transient(),
        }
    }

    /// The error the caller gets.
    pub fn into_mail_error(self) -> MailError {
        match self {
            PutFailure::Module(code) => code.to_mail_error(),
            PutFailure::Other(e) => e,
        }
    }
}

/// What `+QSMTPPUT: <result>` says: `Ok` with the success line for 0,
/// the failure otherwise (§1.4.3: "If `<result>` is not 0, it indicates the
/// sending is failed").
pub fn put_outcome(line: &str) -> Result<String, PutFailure> {
    match cmd::parse_result(line, prefix::PUT) {
        Some(0) => Ok(format!("{} 0", prefix::PUT)),
        Some(r) => Err(PutFailure::Module(ResultCode::from_code(r))),
        None => Err(PutFailure::Other(unreadable(line, prefix::PUT))),
    }
}

/// A deferred `<prefix> <result>` (`+QSMTPDST:`, `+QSMTPBODY:`...): a
/// negative result is the manual's error, others are returned.
pub fn deferred_outcome(line: &str, prefix: &str) -> Result<i32, MailError> {
    match cmd::parse_result(line, prefix) {
        Some(r) if r < 0 => Err(ResultCode::from_code(r).to_mail_error()),
        Some(r) => Ok(r),
        None => Err(unreadable(line, prefix)),
    }
}

/// A result that does not parse. With bytes outside printable ASCII (the
/// module prints its results in ASCII) it is line noise, not an answer:
/// the module may have done what was asked (a mail may have gone), so it is
/// a fault of the line, `Modem(Io)` (transient, in doubt after the point of
/// no return), never the module's answer. Otherwise `Modem(Protocol)`.
fn unreadable(line: &str, prefix: &str) -> MailError {
    if line.chars().any(|c| !(' '..='~').contains(&c)) {
        return MailError::Modem(AtError::Io(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "the module's {prefix} result arrived garbled ({}): bytes were lost on the line",
                cellmail_at::text::quoted(line)
            ),
        )));
    }
    MailError::Modem(AtError::Protocol {
        command: prefix.to_owned(),
        detail: format!("unreadable result {line:?}"),
    })
}

/// Whether the try that failed is the last one: tries used up, a result a
/// resend cannot fix, or the mail itself lost (the module rebooted while
/// sending).
pub fn give_up(failure: &PutFailure, attempt: u32, policy: RetryPolicy, mail_lost: bool) -> bool {
    attempt >= policy.attempts.max(1) || !failure.worth_resending() || mail_lost
}

/// How long to wait before resending after `failure` (when
/// [`give_up`] said to resend): [`RetryPolicy::throttle_delay`] after -530,
/// sent too often (SMTPS note §1.4.3); nothing otherwise ("please resend it").
pub fn resend_after(failure: &PutFailure, policy: RetryPolicy) -> Duration {
    match failure {
        PutFailure::Module(ResultCode::AccessDenied) => policy.throttle_delay,
        _ => Duration::ZERO,
    }
}

/// What `+QSMTPBODY: <len>` says of a body the host sent whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyStored {
    /// The length the host sent.
    Exact,
    /// One byte fewer, as the SMTPS note's three examples print it: accepted.
    OneShort,
}

/// Reads `+QSMTPBODY: <reported>` for a body of `sent` bytes.
///
/// The command reference says `<result>` "represents the length of the
/// input email body data" (GSM_SMTP_ATC_V1.1 §2.2.8), yet the SMTPS note
/// (§3.1, §3.2, §3.3) inputs "Hello, welcome!" (15 bytes, "input 14 bytes"
/// it says) and prints `+QSMTPBODY: 14`, then a successful send. Either the
/// note miscounted (a typo copied into all three examples; a module then
/// reports 15) or the module counts one byte fewer than it gets. The host
/// cannot tell which: `AT+QSMTPBODY` has no read form to see what the module
/// holds. What a user loses either way decides it:
///
/// - refusing one short, on a module that counts like the note, fails every
///   mail at its body, and resending cannot change the count: the transient
///   error makes a caller retry until it gives up, and no mail ever goes;
/// - accepting one short, when a byte really was lost on the line, sends the
///   mail with one byte of its body missing: the mail arrives, and the
///   mailer's warning says it may be one byte short.
///
/// So one short is accepted ([`BodyStored::OneShort`]; the mailer warns, and
/// `QuectelOptions::accept_body_one_short = false` refuses it instead).
/// Anything else is [`TransferError::Truncated`] (transient: bytes were lost
/// on the serial line, a resend can mend it): two or more bytes short is not
/// what the note shows, and more than was sent cannot be right. Attachments
/// get no such leeway: the note's counts match (`+QSMTPATT: 26977` for the
/// 26977-byte `RAM:pic.jpg`) and a file one byte short is a broken file.
///
/// ```
/// use cellmail_quectel::policy::{BodyStored, body_stored};
/// assert_eq!(body_stored(15, 14, true), Ok(BodyStored::OneShort));
/// assert!(body_stored(15, 14, false).is_err());
/// ```
pub fn body_stored(
    sent: u64,
    reported: u64,
    accept_one_short: bool,
) -> Result<BodyStored, TransferError> {
    match sent.checked_sub(reported) {
        Some(0) => Ok(BodyStored::Exact),
        Some(1) if accept_one_short => Ok(BodyStored::OneShort),
        _ => Err(TransferError::Truncated {
            what: "body".into(),
            sent,
            received: reported,
        }),
    }
}

/// What a failure says of a context the mailer manages and holds up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContextAfter {
    /// Still up as far as the result tells.
    Up,
    /// Gone: §4 -8 "GPRS/CSD context is deactivated".
    Gone,
    /// Ask `AT+QILOCIP`: §1.4.2, after -4 (DNS) no address means the
    /// context is deactivated.
    AskAddress,
}

/// See [`ContextAfter`].
pub fn context_after(failure: &PutFailure) -> ContextAfter {
    match failure {
        PutFailure::Module(ResultCode::ContextDeactivated) => ContextAfter::Gone,
        PutFailure::Module(ResultCode::DnsFailed) => ContextAfter::AskAddress,
        _ => ContextAfter::Up,
    }
}

/// Before try `attempt` (from 2): restart the context when it is not up, or
/// before the last try when the policy says so (§1.4.3: "If resending is not
/// successful, you should deactivate the PDP context by AT+QIDEACT command,
/// and try again").
pub fn restart_before(attempt: u32, policy: RetryPolicy, bearer_up: bool) -> bool {
    !bearer_up || (attempt == policy.attempts && policy.reactivate_before_last)
}

/// Whether a plain mail must set `AT+QSSLCFG="smtpstyle",0`, from the
/// module's answer to `AT+QSSLCFG="smtpstyle"` (`None`: it answered `ERROR`,
/// a module without SSL firmware, which GSM_SMTP_ATC_V1.1 §4's plain flow
/// never asks). Only a style an earlier user set (1 SSL, 2 STARTTLS) is
/// undone: a module that never had TLS configured gets no `AT+QSSLCFG`
/// write, as in v1.1 §4.
///
/// ```
/// use cellmail_quectel::policy::plain_needs_style_reset;
/// assert!(!plain_needs_style_reset(None));
/// assert!(!plain_needs_style_reset(Some("0")));
/// assert!(plain_needs_style_reset(Some("1")));
/// assert!(plain_needs_style_reset(Some("2")));
/// ```
pub fn plain_needs_style_reset(style: Option<&str>) -> bool {
    style.is_some_and(|v| v.trim() != "0")
}

/// What a refusal of one `RAM:` attachment means for the user: the
/// module's attachment codes (-12 open, -13 memory, -14 save, mapped to
/// `Invalid { field: "attachments" }`) and an `AT+QFUPL` refusal (`ERROR`,
/// `+CME ERROR`) become `Invalid` on that attachment, naming its size, so
/// the application knows which one to shrink. Anything else (a timeout, a
/// line fault) is returned as it is.
///
/// ```
/// use cellmail::MailError;
/// use cellmail_at::AtError;
/// use cellmail_quectel::policy::attachment_refused;
/// let refused = MailError::Modem(AtError::Error { command: "AT+QFUPL=\"RAM:a.bin\",307200".into() });
/// let e = attachment_refused(refused, "attachments[1]", 307_200);
/// assert!(matches!(&e, MailError::Invalid { field, .. } if field == "attachments[1]"));
/// assert!(e.to_string().contains("307200 bytes"));
/// let late = MailError::Modem(AtError::Timeout { command: "AT+QFUPL".into(), after: std::time::Duration::from_secs(60) });
/// assert!(attachment_refused(late, "attachments[1]", 1).is_transient());
/// ```
pub fn attachment_refused(error: MailError, field: &str, size: u32) -> MailError {
    match error {
        MailError::Invalid {
            field: f,
            reason,
            vendor,
        } if f == "attachments" => MailError::Invalid {
            field: field.to_owned(),
            reason: format!("{size} bytes in the module's RAM: {reason}"),
            vendor,
        },
        MailError::Modem(AtError::Error { command } | AtError::Cme { command, .. })
            if command.starts_with("AT+QFUPL") =>
        {
            MailError::invalid(
                field,
                format!(
                    "{size} bytes: the module refused to store them in its RAM ({command}); \
                     its RAM is too small for them (or holds other files): send a smaller \
                     attachment"
                ),
            )
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(n: i32) -> PutFailure {
        PutFailure::Module(ResultCode::from_code(n))
    }

    /// One row of the result table: the error the caller gets, and whether
    /// the policy sends the mail again (first of three tries).
    macro_rules! put_rows {
        ($($name:ident: $code:literal => $kind:ident, resent $resent:literal,)*) => {$(
            #[test]
            fn $name() {
                let failure = code($code);
                let resent = !give_up(&failure, 1, RetryPolicy::default(), false);
                assert_eq!(resent, $resent, "{}", $code);
                let e = failure.into_mail_error();
                assert!(matches!(e, MailError::$kind { .. }), "{}: {e:?}", $code);
            }
        )*};
    }

    put_rows! {
        put_unknown: -1 => Network, resent true,
        put_busy: -3 => Busy, resent true,
        put_dns: -4 => Dns, resent true,
        put_network: -5 => Network, resent true,
        put_unsupported_auth: -6 => Unsupported, resent false,
        put_closed_by_peer: -7 => Network, resent true,
        put_context_deactivated: -8 => Network, resent true,
        put_timeout: -9 => Timeout, resent true,
        put_no_recipient: -10 => Invalid, resent false,
        put_send_failed: -11 => Network, resent true,
        put_attachment_open_failed: -12 => Invalid, resent false,
        put_attachment_no_memory: -13 => Invalid, resent false,
        put_attachment_save_failed: -14 => Invalid, resent false,
        put_bad_parameter: -15 => Invalid, resent false,
        put_service_not_available: -421 => Rejected, resent true,
        put_mailbox_unavailable_temporarily: -450 => Rejected, resent true,
        put_local_error: -451 => Rejected, resent true,
        put_insufficient_storage: -452 => Rejected, resent true,
        put_syntax_error: -500 => Rejected, resent false,
        put_parameter_syntax_error: -501 => Rejected, resent false,
        put_not_implemented: -502 => Rejected, resent false,
        put_bad_sequence: -503 => Rejected, resent false,
        put_parameter_not_implemented: -504 => Rejected, resent false,
        put_domain_rejects_mail: -521 => Rejected, resent false,
        put_access_denied: -530 => Throttled, resent true,
        put_authentication_failed: -535 => Auth, resent false,
        put_mailbox_unavailable: -550 => Rejected, resent false,
        put_user_not_local: -551 => Rejected, resent false,
        put_storage_exceeded: -552 => Rejected, resent false,
        put_mailbox_name_not_allowed: -553 => Rejected, resent false,
        put_transaction_failed: -554 => Rejected, resent false,
        put_unlisted_code: -2 => Network, resent true,
    }

    /// Line noise in a result's value is a fault of the line (transient),
    /// not the module's answer; a result that is merely unreadable is a
    /// protocol error.
    #[test]
    fn a_garbled_result_is_line_noise() {
        let garbled = put_outcome("+QSMTPPUT: \u{fffd}").unwrap_err();
        assert!(garbled.worth_resending());
        let e = garbled.into_mail_error();
        assert!(
            matches!(&e, MailError::Modem(AtError::Io(io)) if io.kind() == std::io::ErrorKind::InvalidData),
            "{e:?}"
        );
        assert!(e.is_transient());
        let body = deferred_outcome("+QSMTPBODY: 1\u{fffd}", prefix::BODY).unwrap_err();
        assert!(matches!(body, MailError::Modem(AtError::Io(_))) && body.is_transient());
        let odd = put_outcome("+QSMTPPUT: ok").unwrap_err().into_mail_error();
        assert!(
            matches!(odd, MailError::Modem(AtError::Protocol { .. })),
            "{odd:?}"
        );
    }

    /// Every code of both manuals' tables: resent unless a resend cannot fix it.
    #[test]
    fn every_put_result_resent_or_not() {
        let policy = RetryPolicy::default();
        let kept = [-6, -10, -12, -13, -14, -15, -535, -550, -554];
        for n in [
            -1, -2, -3, -4, -5, -6, -7, -8, -9, -10, -11, -12, -13, -14, -15, -421, -450, -451,
            -452, -500, -501, -502, -503, -504, -530, -535, -550, -551, -552, -553, -554,
        ] {
            let failure = code(n);
            let resent = !give_up(&failure, 1, policy, false);
            assert_eq!(
                resent,
                ResultCode::from_code(n).worth_resending(),
                "{n}: the policy follows the table"
            );
            if kept.contains(&n) {
                assert!(!resent, "{n} is not resent");
            }
            if (-499..=-400).contains(&n) {
                assert!(resent, "{n}: a transient reply is resent");
            }
        }
    }

    #[test]
    fn tries_are_counted_and_a_lost_mail_is_not_resent() {
        let policy = RetryPolicy {
            attempts: 2,
            ..RetryPolicy::default()
        };
        let network = code(-5);
        assert!(!give_up(&network, 1, policy, false));
        assert!(give_up(&network, 2, policy, false));
        assert!(
            give_up(&network, 1, policy, true),
            "rebooted under the send"
        );
        let zero = RetryPolicy {
            attempts: 0,
            ..policy
        };
        assert!(give_up(&network, 1, zero, false), "0 tries is one");
    }

    /// SMTPS note §1.4.3: -530 means sent too often, so it is resent after
    /// the policy's pause; everything else that is resent goes at once.
    #[test]
    fn sent_too_often_is_resent_after_the_throttle_delay() {
        let policy = RetryPolicy::default();
        assert_eq!(policy.throttle_delay, Duration::from_secs(60));
        let throttled = code(-530);
        assert!(!give_up(&throttled, 1, policy, false));
        assert_eq!(resend_after(&throttled, policy), Duration::from_secs(60));
        let quick = RetryPolicy {
            throttle_delay: Duration::from_millis(1500),
            ..policy
        };
        assert_eq!(resend_after(&throttled, quick), Duration::from_millis(1500));
        assert!(
            give_up(&throttled, 3, policy, false),
            "the tries bound the waiting"
        );
        for n in [-1, -3, -5, -8, -9, -11, -421, -451] {
            assert_eq!(resend_after(&code(n), policy), Duration::ZERO, "{n}");
        }
        let other = PutFailure::Other(MailError::Modem(AtError::Closed));
        assert_eq!(resend_after(&other, policy), Duration::ZERO);
        assert!(throttled.into_mail_error().is_transient());
    }

    /// The SMTPS note's examples (§3.1-§3.3): 15 bytes in, `+QSMTPBODY: 14`
    /// out, and the mail goes; no other mismatch is accepted.
    #[test]
    fn a_body_one_byte_short_is_accepted_as_the_note_prints_it() {
        assert_eq!(body_stored(15, 15, true), Ok(BodyStored::Exact));
        assert_eq!(body_stored(15, 14, true), Ok(BodyStored::OneShort));
        assert_eq!(body_stored(15, 15, false), Ok(BodyStored::Exact));
        let short = |sent, received| {
            Err(TransferError::Truncated {
                what: "body".into(),
                sent,
                received,
            })
        };
        assert_eq!(body_stored(15, 14, false), short(15, 14));
        assert_eq!(body_stored(15, 13, true), short(15, 13));
        assert_eq!(body_stored(15, 16, true), short(15, 16));
        assert_eq!(body_stored(15, 0, true), short(15, 0));
        assert_eq!(body_stored(0, 0, true), Ok(BodyStored::Exact));
        assert_eq!(body_stored(1, 0, true), Ok(BodyStored::OneShort));
    }

    #[test]
    fn the_context_is_judged_by_the_result() {
        assert_eq!(context_after(&code(-8)), ContextAfter::Gone);
        assert_eq!(context_after(&code(-4)), ContextAfter::AskAddress);
        assert_eq!(context_after(&code(-5)), ContextAfter::Up);
        let other = PutFailure::Other(MailError::invalid("x", "y"));
        assert_eq!(context_after(&other), ContextAfter::Up);
    }

    #[test]
    fn the_context_is_restarted_when_down_or_before_the_last_try() {
        let policy = RetryPolicy::default();
        assert!(restart_before(2, policy, false));
        assert!(!restart_before(2, policy, true));
        assert!(restart_before(3, policy, true));
        let never = RetryPolicy {
            reactivate_before_last: false,
            ..policy
        };
        assert!(!restart_before(3, never, true));
    }

    #[test]
    fn put_and_deferred_results() {
        assert_eq!(
            put_outcome("+QSMTPPUT: 0").ok().as_deref(),
            Some("+QSMTPPUT: 0")
        );
        assert!(matches!(
            put_outcome("+QSMTPPUT: -535"),
            Err(PutFailure::Module(ResultCode::AuthenticationFailed))
        ));
        assert!(matches!(
            put_outcome("+QSMTPPUT: x"),
            Err(PutFailure::Other(_))
        ));
        assert_eq!(deferred_outcome("+QSMTPBODY: 5", "+QSMTPBODY:").unwrap(), 5);
        assert!(deferred_outcome("+QSMTPDST: -10", "+QSMTPDST:").is_err());
    }
}
