//! The manual's results as decisions a test can call: a result line, a code
//! or a fault → what the mailer does next, and the answers read. Pure: no
//! I/O, no clock (durations are computed from the options).

use std::time::Duration;

use cellmail::{MailError, MailboxStat, MessageInfo, MessageUid, VendorCode, module_seconds};
use cellmail_at::{Arrived, AtError, Response, fields};

use super::codes::{Pop3Code, SendCode};
use super::commands::{self, Pop3Answer, ReadAnswer, prefix};

pub(super) use cellmail_session::protocol;

/// `AT+EMAILTO` takes whole seconds, 10-120 (§3.2.2): the seconds, or any
/// other value refused before a byte is sent.
pub fn check_timeout(timeout: Duration) -> Result<u8, MailError> {
    let range =
        u32::from(*commands::TIMEOUT_RANGE.start())..=u32::from(*commands::TIMEOUT_RANGE.end());
    let secs = module_seconds(
        "server_timeout",
        timeout,
        range,
        "AT+EMAILTO (SIM7000 §3.2.2)",
    )?;
    u8::try_from(secs).map_err(|_| MailError::invalid("server_timeout", "over 255 s"))
}

/// The options a call's prologue checks before a byte: the server timeout
/// ([`check_timeout`]); on a SIM7080 the context (`AT+EMAILCID`/`AT+CNACT`
/// 0-3) and the SSL context (`AT+CSSLCFG` 0-5).
pub fn check_options(options: &super::Sim7000Options) -> Result<(), MailError> {
    check_timeout(options.server_timeout)?;
    if options.model == super::Model::Sim7080 {
        use crate::sim7080::{CONTEXTS, SSL_CONTEXTS};
        if !CONTEXTS.contains(&options.cid) {
            return Err(MailError::invalid(
                "cid",
                format!(
                    "{}: the SIM7080 takes contexts 0-3 (AT+EMAILCID, AT+CNACT)",
                    options.cid
                ),
            ));
        }
        if !SSL_CONTEXTS.contains(&options.ssl_context) {
            return Err(MailError::invalid(
                "ssl_context",
                format!(
                    "{}: the SIM7080 has SSL contexts 0-5 (AT+CSSLCFG)",
                    options.ssl_context
                ),
            ));
        }
    }
    Ok(())
}

/// The seconds of a timeout [`check_timeout`] let through (the prologue of
/// every call checks it; out of range it saturates, never panics).
pub fn server_secs(timeout: Duration) -> u8 {
    u8::try_from(timeout.as_secs()).unwrap_or(u8::MAX)
}

/// How long a send's `+SMTPSEND` is waited for: the server timeout four
/// times (connect, login, data, end) and a margin.
pub fn send_wait(server_timeout_secs: u8) -> Duration {
    Duration::from_secs(u64::from(server_timeout_secs) * 4 + 30)
}

/// How long a POP3 answer is waited for.
pub fn pop3_wait(server_timeout_secs: u8) -> Duration {
    Duration::from_secs(u64::from(server_timeout_secs) + 15)
}

/// The code of a result line such as `+SMTPSEND: 61`, or a protocol error
/// naming the line: a line without a readable code is not a code the module
/// sent.
pub fn code_of(line: &str, prefix: &str) -> Result<i64, MailError> {
    fields::int(line.trim(), prefix)
        .ok_or_else(|| protocol(prefix, format!("unreadable result {line:?}")))
}

/// What `+SMTPSEND: <code>` says (§3.2.10).
pub fn send_outcome(line: &str) -> Result<(), MailError> {
    SendCode::from_code(code_of(line, prefix::SMTPSEND)?).into_result()
}

/// What `+POP3IN: <code>` or `+POP3OUT: <code>` (as an answer) says.
pub fn pop3_code_outcome(line: &str, prefix: &str) -> Result<(), MailError> {
    Pop3Code::from_code(code_of(line, prefix)?).into_result()
}

/// Whether `AT+EMAILSSL=?` (or a write of it) was refused: `ERROR` or a
/// `+CME ERROR` — the module has no e-mail TLS.
pub fn tls_probe_refused(error: &AtError) -> bool {
    matches!(error, AtError::Error { .. } | AtError::Cme { .. })
}

/// A TLS account on a module without e-mail TLS: `Unsupported`, naming the
/// probe that showed it.
///
/// ```
/// use cellmail::{MailError, TlsMode};
/// let e = cellmail_simcom::sim7000::policy::no_email_tls("smtp", TlsMode::StartTls);
/// assert!(matches!(e, MailError::Unsupported { ref feature } if feature.contains("AT+EMAILSSL")));
/// ```
pub fn no_email_tls(field: &str, mode: cellmail::TlsMode) -> MailError {
    let mode = match mode {
        cellmail::TlsMode::None => "None",
        cellmail::TlsMode::Implicit => "Implicit",
        cellmail::TlsMode::StartTls => "StartTls",
    };
    MailError::unsupported(format!(
        "{field}: TLS mode {mode}: the module answered ERROR to AT+EMAILSSL \
         (its firmware has no e-mail TLS; users report SIM800 SSL from firmware R14 on)"
    ))
}

/// Whether `AT+SAPBR=1` was refused in a way the query may still find open
/// (an earlier run opened it): `ERROR` or `+CME ERROR`.
pub fn bearer_open_refused(error: &AtError) -> bool {
    matches!(error, AtError::Error { .. } | AtError::Cme { .. })
}

/// §4.1: the bearer is up when `AT+SAPBR=2` answers status 1; otherwise a
/// `Network` error naming the open's refusal, with its `+CME ERROR` code.
pub fn bearer_outcome(refused: Option<&AtError>, query: &Response) -> Result<(), MailError> {
    let up = query
        .fields("+SAPBR:")
        .is_some_and(|f| f.get(1).and_then(|s| s.as_int()) == Some(1));
    if up {
        return Ok(());
    }
    let why = refused.map(|e| format!(" ({e})")).unwrap_or_default();
    Err(MailError::Network {
        detail: format!("the bearer did not open{why}: {:?}", query.info),
        vendor: refused.and_then(VendorCode::of_cme),
    })
}

/// What came for a POP3 command (§3.2.15-§3.2.21).
#[derive(Debug, PartialEq, Eq)]
pub enum Pop3Arrival {
    /// Its answer line.
    Answer(String),
    /// `+POP3OUT: <code>` instead: the session is over, and the answer
    /// will never come.
    SessionEnded(String),
}

/// Reads what [`Client::wait_any`](cellmail_at::Client::wait_any) saw: the
/// awaited result, or a `+POP3OUT` (or, for `AT+POP3RSET`, the misspelt
/// `+POP3REST: 0`, an answer) in its place.
pub fn pop3_arrival(arrived: Arrived) -> Pop3Arrival {
    match arrived {
        Arrived::Deferred(line) => Pop3Arrival::Answer(line),
        Arrived::Urc(line) if line.starts_with(prefix::POP3OUT) => Pop3Arrival::SessionEnded(line),
        Arrived::Urc(line) => Pop3Arrival::Answer(line),
    }
}

/// The error of a session the module ended with `line` (`+POP3OUT: ...`);
/// a line without a readable code is a protocol error.
pub fn session_ended_by(line: &str) -> MailError {
    match commands::session_end(line) {
        Some(code) => code.session_ended(),
        None => protocol(prefix::POP3OUT, format!("unreadable result {line:?}")),
    }
}

/// One answer of `AT+POP3READ` (§3.2.19).
#[derive(Debug)]
pub enum ReadStep {
    /// A block of data; `done` when the message is complete. `wait` when
    /// nothing came yet: a `+POP3READ: 3,<n>` (or the session's end) is
    /// to be waited for first.
    Data {
        /// The message is complete.
        done: bool,
        /// Wait for more data to arrive before the next read.
        wait: bool,
    },
    /// The module ended the session.
    Ended(Pop3Code),
}

/// Reads one `AT+POP3READ` answer: `<cnfLength>` is at most the
/// `<reqLength>` asked for (1460), the raw block exactly that long.
pub fn read_step(r: &Response) -> Result<ReadStep, MailError> {
    match commands::read_answer(&r.info) {
        Some(ReadAnswer::Data { done, length })
            if length <= usize::from(commands::POP3READ_MAX) && length == r.raw.len() =>
        {
            Ok(ReadStep::Data {
                done,
                wait: !done && r.raw.is_empty() && !commands::data_arrived(&r.info),
            })
        }
        Some(ReadAnswer::Data { length, .. }) => Err(protocol(
            "AT+POP3READ",
            format!(
                "the module announced {length} bytes (at most {} were asked for) and sent {}",
                commands::POP3READ_MAX,
                r.raw.len()
            ),
        )),
        Some(ReadAnswer::SessionEnded(code)) => Ok(ReadStep::Ended(code)),
        None => Err(protocol(
            "AT+POP3READ",
            format!("no +POP3READ: 1 or 2 answer in {:?}", r.info),
        )),
    }
}

/// `+POP3NUM: 1,<count>,<size>` (§3.2.15), or the server's refusal.
pub fn stat_answer(line: &str) -> Result<MailboxStat, MailError> {
    match commands::pop3_answer(line, prefix::POP3NUM) {
        Pop3Answer::Positive(f) => {
            let int = |i: usize| f.get(i).and_then(fields::Field::as_int);
            let count = int(0).and_then(|c| u32::try_from(c).ok());
            let size = int(1).and_then(|s| u64::try_from(s).ok());
            match (count, size) {
                (Some(count), Some(total_size)) => Ok(MailboxStat { count, total_size }),
                _ => Err(protocol(
                    "AT+POP3NUM",
                    format!("unreadable answer {line:?}"),
                )),
            }
        }
        _ => Err(super::codes::negative_answer(line, "STAT")),
    }
}

/// The lines of a POP3 listing, without the terminating `.` line.
fn listing(data: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(data)
        .lines()
        .map(str::trim)
        .take_while(|l| *l != ".")
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The rows of a `LIST` answer: `<id> <size>`.
pub fn list_rows(data: &[u8]) -> Result<Vec<MessageInfo>, MailError> {
    listing(data)
        .iter()
        .map(|l| {
            let row = l.split_once(' ').and_then(|(id, size)| {
                Some(MessageInfo {
                    id: id.parse().ok()?,
                    size: size.trim().parse().ok()?,
                })
            });
            row.ok_or_else(|| protocol("AT+POP3CMD=1", format!("unreadable LIST row {l:?}")))
        })
        .collect()
}

/// The rows of a `UIDL` answer: `<id> <uid>`.
pub fn uid_rows(data: &[u8]) -> Result<Vec<MessageUid>, MailError> {
    listing(data)
        .iter()
        .map(|l| {
            let row = l.split_once(' ').and_then(|(id, uid)| {
                let uid = uid.trim();
                Some(MessageUid {
                    id: id.parse().ok()?,
                    uid: (!uid.is_empty()).then(|| uid.to_owned())?,
                })
            });
            row.ok_or_else(|| protocol("AT+POP3CMD=2", format!("unreadable UIDL row {l:?}")))
        })
        .collect()
}

/// The deferred results a POP3 call cut short leaves expected: given up at
/// the next call, so a late one is never taken for a later answer.
pub const POP3_RESULTS: [&str; 7] = [
    prefix::POP3IN,
    prefix::POP3NUM,
    prefix::POP3LIST,
    prefix::POP3UIDL,
    prefix::POP3CMD,
    prefix::POP3DEL,
    prefix::POP3RSET,
];

#[cfg(test)]
mod tests {
    use super::*;

    /// One row of §3.2.10 `+SMTPSEND: <code>`.
    macro_rules! send_rows {
        ($($name:ident: $code:literal => $p:pat,)*) => {$(
            #[test]
            fn $name() {
                let r = send_outcome(concat!("+SMTPSEND: ", $code));
                if let Err(e) = &r {
                    assert_eq!(e.vendor_code(), Some(&VendorCode::Number($code)));
                }
                assert!(matches!(r, $p), "{}: {r:?}", $code);
            }
        )*};
    }

    send_rows! {
        send_1_sent: 1 => Ok(()),
        send_61_network: 61 => Err(MailError::Network { .. }),
        send_62_dns: 62 => Err(MailError::Dns { .. }),
        send_63_connect: 63 => Err(MailError::Network { .. }),
        send_64_timeout: 64 => Err(MailError::Timeout { .. }),
        send_65_server_response: 65 => Err(MailError::Rejected { .. }),
        send_66_not_authenticated: 66 => Err(MailError::Auth { .. }),
        send_67_auth_failed: 67 => Err(MailError::Auth { .. }),
        send_68_bad_recipient: 68 => Err(MailError::BadRecipient { .. }),
        // SIM800 SSL note §2.1.
        send_71_ssl_channel: 71 => Err(MailError::Tls { .. }),
        send_72_ssl_fatal_alert: 72 => Err(MailError::Tls { .. }),
        send_unlisted_is_a_transient_failure: 99 => Err(MailError::Network { .. }),
    }

    /// One row of §3.2.14 / §3.2.22: the login's result, and the same code
    /// as the `+POP3OUT` that ends a session instead of an answer.
    macro_rules! pop3_rows {
        ($($name:ident: $code:literal => login $login:pat, ended $ended:pat,)*) => {$(
            #[test]
            fn $name() {
                let login = pop3_code_outcome(concat!("+POP3IN: ", $code), prefix::POP3IN);
                assert!(matches!(login, $login), "{}: {login:?}", $code);
                let ended = session_ended_by(concat!("+POP3OUT: ", $code));
                assert_eq!(ended.vendor_code(), Some(&VendorCode::Number($code)));
                assert!(matches!(ended, $ended), "{}: {ended:?}", $code);
            }
        )*};
    }

    pop3_rows! {
        pop3_1_ok: 1 => login Ok(()), ended MailError::Network { .. },
        pop3_61_network: 61 => login Err(MailError::Network { .. }), ended MailError::Network { .. },
        pop3_62_dns: 62 => login Err(MailError::Dns { .. }), ended MailError::Dns { .. },
        pop3_63_connect: 63 => login Err(MailError::Network { .. }), ended MailError::Network { .. },
        pop3_64_timeout: 64 => login Err(MailError::Timeout { .. }), ended MailError::Timeout { .. },
        pop3_65_server_response: 65 => login Err(MailError::Rejected { .. }), ended MailError::Rejected { .. },
        pop3_66_login_rejected: 66 => login Err(MailError::Auth { .. }), ended MailError::Auth { .. },
        pop3_67_bad_user: 67 => login Err(MailError::Auth { .. }), ended MailError::Auth { .. },
        pop3_68_bad_credentials: 68 => login Err(MailError::Auth { .. }), ended MailError::Auth { .. },
        pop3_69_read_timeout: 69 => login Err(MailError::Timeout { .. }), ended MailError::Timeout { .. },
        // SIM800 SSL note §2.1 (+POP3IN; +POP3OUT read the same way).
        pop3_71_ssl_channel: 71 => login Err(MailError::Tls { .. }), ended MailError::Tls { .. },
        pop3_72_ssl_fatal_alert: 72 => login Err(MailError::Tls { .. }), ended MailError::Tls { .. },
        pop3_unlisted_is_a_transient_failure: 99 => login Err(MailError::Network { .. }), ended MailError::Network { .. },
    }

    #[test]
    fn an_unreadable_send_result_is_a_protocol_error() {
        assert!(matches!(
            send_outcome("+SMTPSEND: x"),
            Err(MailError::Modem(AtError::Protocol { .. }))
        ));
    }

    #[test]
    fn a_pop3out_instead_of_the_answer_ends_the_session() {
        let got = pop3_arrival(Arrived::Urc("+POP3OUT: 61".into()));
        assert_eq!(got, Pop3Arrival::SessionEnded("+POP3OUT: 61".into()));
        let got = pop3_arrival(Arrived::Urc("+POP3REST: 0".into()));
        assert_eq!(got, Pop3Arrival::Answer("+POP3REST: 0".into()));
        let got = pop3_arrival(Arrived::Deferred("+POP3NUM: 1,2,3".into()));
        assert_eq!(got, Pop3Arrival::Answer("+POP3NUM: 1,2,3".into()));
        assert!(matches!(
            session_ended_by("+POP3OUT: ?"),
            MailError::Modem(AtError::Protocol { .. })
        ));
    }

    #[test]
    fn the_timeout_range_is_checked() {
        let secs = Duration::from_secs;
        assert_eq!(check_timeout(secs(10)).ok(), Some(10));
        assert_eq!(check_timeout(secs(120)).ok(), Some(120));
        for t in [
            secs(0),
            secs(9),
            secs(121),
            secs(300),
            Duration::from_millis(10_500),
        ] {
            assert!(
                matches!(
                    check_timeout(t),
                    Err(MailError::Invalid { field, .. }) if field == "server_timeout"
                ),
                "{t:?}"
            );
        }
        assert_eq!(send_wait(30), Duration::from_secs(150));
        assert_eq!(pop3_wait(30), Duration::from_secs(45));
    }

    fn answer(info: &[&str], raw: &[u8]) -> Response {
        Response {
            info: info.iter().map(|s| (*s).to_owned()).collect(),
            raw: raw.to_vec(),
            ..Default::default()
        }
    }

    #[test]
    fn a_bearer_found_open_after_a_refusal_is_up() {
        let refused = AtError::Error {
            command: "AT+SAPBR=1,1".into(),
        };
        assert!(bearer_open_refused(&refused));
        let up = answer(&["+SAPBR: 1,1,\"10.0.0.1\""], b"");
        assert!(bearer_outcome(Some(&refused), &up).is_ok());
        let down = answer(&["+SAPBR: 1,3,\"0.0.0.0\""], b"");
        let e = bearer_outcome(Some(&refused), &down).unwrap_err();
        assert!(matches!(e, MailError::Network { .. }) && e.is_transient());
        let timeout = AtError::Timeout {
            command: "AT+SAPBR=1,1".into(),
            after: Duration::from_secs(1),
        };
        assert!(!bearer_open_refused(&timeout));
    }

    #[test]
    fn read_answers() {
        let more = read_step(&answer(&["+POP3READ: 1,3"], b"abc")).unwrap();
        assert!(matches!(
            more,
            ReadStep::Data {
                done: false,
                wait: false
            }
        ));
        let done = read_step(&answer(&["+POP3READ: 2,0"], b"")).unwrap();
        assert!(matches!(done, ReadStep::Data { done: true, .. }));
        let empty = read_step(&answer(&["+POP3READ: 1,0"], b"")).unwrap();
        assert!(matches!(empty, ReadStep::Data { wait: true, .. }));
        assert!(read_step(&answer(&["+POP3READ: 1,5"], b"abc")).is_err());
        assert!(read_step(&answer(&[], b"")).is_err());
    }

    #[test]
    fn listings_without_their_terminator() {
        let rows = list_rows(b"1 120\r\n2 3000\r\n.\r\n").unwrap();
        assert_eq!(rows[1], MessageInfo { id: 2, size: 3000 });
        assert!(list_rows(b"1\r\n.\r\n").is_err());
        let uids = uid_rows(b"1 abc\r\n.\r\n").unwrap();
        assert_eq!(uids[0].uid, "abc");
        assert!(uid_rows(b"1 \r\n").is_err());
    }

    #[test]
    fn a_count_or_the_servers_refusal() {
        let stat = stat_answer("+POP3NUM: 1,2,2134").unwrap();
        assert_eq!((stat.count, stat.total_size), (2, 2134));
        assert!(matches!(
            stat_answer("+POP3NUM: 0"),
            Err(MailError::Rejected { .. })
        ));
    }
}
