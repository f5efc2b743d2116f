//! The note's recovery advice as decisions a test can call: a result line, a
//! refusal or a fault → what the mailer does next (go on, stop the session,
//! give up with this `MailError`). Pure: no I/O, no clock.

use cellmail::{MailError, VendorCode};
use cellmail_at::{AtError, CmeError, Response};
use cellmail_session::{Failure, OnStopError, Service, Stage, Stop};

use super::codes::{Pop3Result, SmtpResult};
use super::commands::{self, POP3_RESULT, SMTP_RESULT};
use super::plan::Step;

/// How a call ends a session a dropped call (or a command without an
/// answer) left running: `AT+SMTPSTOP` (§2: "Force to stop the TCP session
/// and then SMTP client is in idle state", §3.3), known over only once it
/// succeeded; `AT+POP3STOP` (§4.6), best effort.
pub fn recovery() -> [(Service, Stop); 2] {
    [
        (Service::Smtp, stop(Service::Smtp)),
        (Service::Pop3, stop(Service::Pop3)),
    ]
}

/// How `service`'s session is ended (see [`recovery`]).
pub fn stop(service: Service) -> Stop {
    match service {
        Service::Smtp => Stop {
            command: commands::stop(),
            on_error: OnStopError::StillOwed,
        },
        Service::Pop3 => Stop {
            command: commands::stop_pop3(),
            on_error: OnStopError::Forget,
        },
    }
}

/// The text of a result line (`+SMTP: SUCCESS` → `SUCCESS`).
fn text_of<'a>(line: &'a str, prefix: &str) -> &'a str {
    line.trim_start_matches(prefix).trim()
}

/// Whether a `+SMTP:` line ends the wait: every result but `+SMTP: OK`
/// (the session started, §1).
pub fn smtp_is_last(line: &str) -> bool {
    SmtpResult::parse(text_of(line, SMTP_RESULT)).is_final()
}

/// What the final `+SMTP:` line says (see [`SmtpResult::into_result_for`]
/// for `AUTH REQUIRED`, read by whether the mailer logged in).
pub fn smtp_outcome(line: &str, logged_in: bool) -> Result<(), MailError> {
    let text = text_of(line, SMTP_RESULT);
    SmtpResult::parse(text).into_result_for(text, logged_in)
}

/// Whether a refused mail is sent once more with every setting: `PARAM ERROR` ("a mandatory
/// parameter is invalid", §1) after a mail that skipped settings the module was believed to
/// hold means it lost them unseen (a reboot whose `RDY` line noise garbled, or a missed URC).
/// The module answered, so nothing went: no duplicate risk. Without that belief it is the
/// mail's own parameters, refused for good.
pub fn resend_with_every_setting(error: &MailError, skipped_settings: bool) -> bool {
    skipped_settings && matches!(error, MailError::Invalid { field, .. } if field == "parameters")
}

/// What a failed exchange that owes a result leaves behind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Owed {
    /// The module refused the command: no session started, nothing owed.
    Nothing,
    /// No answer in time, or the line failed: the session may run; the next
    /// call stops it first.
    UntilNextCall,
    /// The result did not come: stop the session now rather than leave it
    /// hanging (the module's own timer is 30 s, §1 NOTE).
    StopNow,
}

/// After a failed `AT+SMTPSEND` exchange: a refusal started no session.
pub fn after_send_failure(failure: &Failure) -> Owed {
    match failure.stage {
        _ if failure.is_refusal() => Owed::Nothing,
        Stage::Command => Owed::UntilNextCall,
        Stage::Wait => Owed::StopNow,
    }
}

/// After a failed `AT+POP3GET` exchange. Any failure of the command itself
/// leaves the exchange owed, a refusal too: the note does not say that an
/// `ERROR` to `AT+POP3GET` leaves the POP3 client idle, so the next call
/// stops it (`AT+POP3STOP`, harmless on an idle client).
pub fn after_get_failure(failure: &Failure) -> Owed {
    match failure.stage {
        Stage::Command => Owed::UntilNextCall,
        Stage::Wait => Owed::StopNow,
    }
}

/// A refused step of a send as the facade's error. `AT+SMTPFILE` selects a
/// file "from current directory" (§2): an `ERROR` to it is a file the module
/// does not have, a fault of the mail (`Invalid`, permanent), not of the
/// module.
pub fn step_refused(step: &Step, error: AtError) -> MailError {
    match step {
        Step::Attachment(path) if cellmail_session::is_refusal(&error) => MailError::Invalid {
            field: "attachment".into(),
            reason: format!(
                "the module refused {path} (AT+SMTPFILE answered with an error): no such file \
                 in that folder of its file system; check the name with AT+FSLS"
            ),
            vendor: vendor_of(&error),
        },
        _ => MailError::Modem(error),
    }
}

/// The module's own code of a refusal, when it gave one.
fn vendor_of(error: &AtError) -> Option<VendorCode> {
    match error {
        AtError::Cme {
            error: CmeError::Code(n),
            ..
        } => Some(VendorCode::Number(i64::from(*n))),
        AtError::Cme {
            error: CmeError::Text(t),
            ..
        } => Some(VendorCode::Text(t.clone())),
        AtError::Cms { code, .. } => Some(VendorCode::Number(i64::from(*code))),
        _ => None,
    }
}

/// What a `+POP3:` result does: the facade's result, and whether the module
/// closed the session with it (§1: only `FILE SYSTEM ERROR`).
#[derive(Debug)]
pub struct Pop3Outcome {
    /// `Ok` for `SUCCESS`.
    pub result: Result<(), MailError>,
    /// The session is over.
    pub closes: bool,
}

/// The `+POP3:` result `text` (after the prefix).
pub fn pop3_outcome(text: &str) -> Pop3Outcome {
    let result = Pop3Result::parse(text);
    Pop3Outcome {
        closes: result.ends_session(),
        result: result.into_result(text),
    }
}

/// The result a POP3 command answered before its `OK`, if it did: a
/// `+POP3:` line that is not a number (`+POP3: 2 2134` is a count).
pub fn pop3_answer(response: &Response) -> Option<&str> {
    response
        .line(POP3_RESULT)
        .filter(|t| !t.trim().starts_with(|c: char| c.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(stage: Stage, error: AtError) -> Failure {
        Failure { stage, error }
    }

    fn refused() -> AtError {
        AtError::Error {
            command: "AT+SMTPSEND".into(),
        }
    }

    fn timeout() -> AtError {
        AtError::Timeout {
            command: "AT+SMTPSEND".into(),
            after: std::time::Duration::from_secs(1),
        }
    }

    /// One row of §1 "SMTP URCs": whether the wait ends, and the error (after
    /// a login), with the module's text kept.
    macro_rules! smtp_rows {
        ($($name:ident: $text:literal, last $last:literal => $p:pat,)*) => {$(
            #[test]
            fn $name() {
                let line = concat!("+SMTP: ", $text);
                assert_eq!(smtp_is_last(line), $last);
                let r = smtp_outcome(line, true);
                if let Err(e) = &r {
                    assert_eq!(e.vendor_code(), Some(&VendorCode::Text($text.into())));
                }
                assert!(matches!(r, $p), "{}: {r:?}", $text);
            }
        )*};
    }

    smtp_rows! {
        smtp_ok_only_starts_the_session: "OK", last false => Ok(()),
        smtp_success: "SUCCESS", last true => Ok(()),
        smtp_ongoing_is_busy: "ONGOING", last true => Err(MailError::Busy { .. }),
        smtp_param_error_is_invalid: "PARAM ERROR", last true => Err(MailError::Invalid { .. }),
        smtp_network_error: "NETWORK ERROR", last true => Err(MailError::Network { .. }),
        smtp_server_error: "SERVER ERROR", last true => Err(MailError::Network { .. }),
        smtp_auth_required_after_a_login: "AUTH REQUIRED", last true => Err(MailError::Network { .. }),
        smtp_auth_error: "AUTH ERROR", last true => Err(MailError::Auth { .. }),
        smtp_bad_rcpt: "BAD RCPT a@b.c", last true => Err(MailError::BadRecipient { .. }),
        smtp_unlisted_is_rejected: "SOMETHING NEW", last true => Err(MailError::Rejected { .. }),
    }

    /// One row of §1 "POP3 URCs": the error, and whether the session ends.
    macro_rules! pop3_rows {
        ($($name:ident: $text:literal, closes $closes:literal => $p:pat,)*) => {$(
            #[test]
            fn $name() {
                let o = pop3_outcome($text);
                assert_eq!(o.closes, $closes);
                assert!(matches!(o.result, $p), "{}: {:?}", $text, o.result);
            }
        )*};
    }

    pop3_rows! {
        pop3_success: "SUCCESS", closes false => Ok(()),
        pop3_failure: "FAILURE", closes false => Err(MailError::Rejected { .. }),
        pop3_network_error: "NETWORK ERROR", closes false => Err(MailError::Network { .. }),
        pop3_server_error: "SERVER ERROR", closes false => Err(MailError::Network { .. }),
        pop3_invalid_un: "INVALID UN", closes false => Err(MailError::Auth { .. }),
        pop3_invalid_un_pwd: "INVALID UN/PWD", closes false => Err(MailError::Auth { .. }),
        pop3_file_system_error_closes: "FILE SYSTEM ERROR", closes true => Err(MailError::Rejected { .. }),
        pop3_unlisted_is_rejected: "SOMETHING NEW", closes false => Err(MailError::Rejected { .. }),
        pop3_garbled_is_line_noise: "SUC\u{fffd}ESS", closes false => Err(MailError::Modem(cellmail_at::AtError::Io(_))),
    }

    #[test]
    fn param_error_after_skipped_settings_is_sent_again_with_every_setting() {
        let refused = smtp_outcome("+SMTP: PARAM ERROR", true).unwrap_err();
        assert!(resend_with_every_setting(&refused, true));
        assert!(!resend_with_every_setting(&refused, false));
        let auth = smtp_outcome("+SMTP: AUTH ERROR", true).unwrap_err();
        assert!(!resend_with_every_setting(&auth, true));
    }

    /// Line noise (the soak's garbled-bytes fault) turned `SUCCESS` into bytes no table
    /// has: the mail may have gone, so it is a transient line fault, never a refusal that
    /// would end a delivered mail as failed.
    #[test]
    fn a_garbled_smtp_result_is_line_noise_not_a_refusal() {
        let line = "+SMTP: \u{fffd}UCCESS";
        assert!(smtp_is_last(line));
        let e = smtp_outcome(line, true).unwrap_err();
        assert!(
            matches!(e, MailError::Modem(cellmail_at::AtError::Io(_))),
            "{e:?}"
        );
        assert!(e.is_transient());
    }

    #[test]
    fn auth_required_without_a_login_is_a_configuration_fault() {
        assert!(matches!(
            smtp_outcome("+SMTP: AUTH REQUIRED", false),
            Err(MailError::Auth { .. })
        ));
    }

    #[test]
    fn a_refused_send_owes_nothing() {
        assert_eq!(
            after_send_failure(&failure(Stage::Command, refused())),
            Owed::Nothing
        );
        let cme = AtError::Cme {
            command: "AT+SMTPSEND".into(),
            error: CmeError::Code(3),
        };
        assert_eq!(
            after_send_failure(&failure(Stage::Command, cme)),
            Owed::Nothing
        );
    }

    #[test]
    fn a_send_without_an_answer_is_stopped_at_the_next_call() {
        assert_eq!(
            after_send_failure(&failure(Stage::Command, timeout())),
            Owed::UntilNextCall
        );
    }

    #[test]
    fn a_failed_pop3get_is_stopped_at_the_next_call_even_refused() {
        for error in [refused(), timeout()] {
            assert_eq!(
                after_get_failure(&failure(Stage::Command, error)),
                Owed::UntilNextCall
            );
        }
        assert_eq!(
            after_get_failure(&failure(Stage::Wait, timeout())),
            Owed::StopNow
        );
    }

    #[test]
    fn a_result_that_does_not_come_stops_the_session_now() {
        assert_eq!(
            after_send_failure(&failure(Stage::Wait, timeout())),
            Owed::StopNow
        );
    }

    #[test]
    fn recovery_stops_smtp_until_it_succeeds_and_pop3_best_effort() {
        let [(smtp, stop_smtp), (pop3, stop_pop3)] = recovery();
        assert_eq!((smtp, pop3), (Service::Smtp, Service::Pop3));
        assert_eq!(stop_smtp.command.redacted(), "AT+SMTPSTOP");
        assert_eq!(stop_smtp.on_error, OnStopError::StillOwed);
        assert_eq!(stop_pop3.command.redacted(), "AT+POP3STOP");
        assert_eq!(stop_pop3.on_error, OnStopError::Forget);
    }

    #[test]
    fn an_attachment_the_module_does_not_have_is_invalid() {
        let step = Step::Attachment("C:/Picture/not-there.jpg".into());
        let e = step_refused(
            &step,
            AtError::Error {
                command: "AT+SMTPFILE=1,\"not-there.jpg\"".into(),
            },
        );
        assert!(
            matches!(&e, MailError::Invalid { field, reason, .. }
                if field == "attachment" && reason.contains("C:/Picture/not-there.jpg")),
            "{e:?}"
        );
        assert!(!e.is_transient());
    }

    #[test]
    fn other_faults_of_a_step_stay_the_modules() {
        let step = Step::Attachment("C:/a.jpg".into());
        assert!(matches!(
            step_refused(&step, timeout()),
            MailError::Modem(_)
        ));
        assert!(matches!(
            step_refused(&Step::Folder, refused()),
            MailError::Modem(_)
        ));
    }

    #[test]
    fn a_count_is_no_pop3_result() {
        let answer = |line: &str| Response {
            info: vec![line.into()],
            ..Default::default()
        };
        assert_eq!(pop3_answer(&answer("+POP3: 2 2134")), None);
        assert_eq!(
            pop3_answer(&answer("+POP3: INVALID UN")),
            Some(" INVALID UN")
        );
        assert_eq!(pop3_answer(&Response::default()), None);
    }
}
