//! The client's state, pure: what the line owes before the next command
//! ([`Line`]) and the write side's guard timing ([`Wire`]). No I/O and no
//! clock reads: the driver in `mod.rs` passes the time in.

use std::borrow::Cow;
use std::time::Duration;

use tokio::time::Instant;

use super::Response;
use crate::command::{Command, Payload};
use crate::decode::{DecoderConfig, Final};

/// The command in flight.
pub(super) struct Current {
    pub(super) label: String,
    pub(super) timeout: Duration,
    pub(super) deadline: Instant,
    /// `response.sensitive`: its information lines carry a secret and are
    /// not logged.
    pub(super) response: Response,
    pub(super) result: Option<Final>,
    /// What its answer may still hold should it be given up.
    pub(super) late: Late,
    /// How its data-mode payload ends, when declared.
    pub(super) payload: Option<Payload>,
    /// Payload bytes handed to the line since its prompt.
    pub(super) data_written: u64,
}

impl Current {
    /// What the module still takes, were it in data mode: `None` once a
    /// length-delimited payload went out whole.
    fn data_left(&self) -> Option<DataLeft> {
        match self.payload {
            Some(Payload::Escape) => Some(DataLeft::Escape),
            Some(Payload::Length(n)) => {
                let owed = n.saturating_sub(self.data_written);
                (owed > 0).then_some(DataLeft::Owed(Owed::Bytes(owed)))
            }
            Some(Payload::LengthOrEscape(n)) => (self.data_written < n).then_some(DataLeft::Escape),
            None => Some(DataLeft::Owed(Owed::Undeclared)),
        }
    }
}

/// What a command given up may still send that must never be logged nor
/// routed as a URC: the answer of a [sensitive](Command::sensitive_answer)
/// query, and its echo (the command line, passwords included). Kept from the
/// moment its first byte may go out until the resynchronisation is over. No
/// `Debug`: it holds the command line.
pub(super) struct Late {
    /// Its answer carries a secret.
    sensitive: bool,
    /// The prefix of its information lines.
    prefix: Option<String>,
    /// Its command line as the module echoes it.
    echo: Vec<u8>,
}

impl Late {
    pub(super) fn of(cmd: &Command) -> Self {
        Self {
            sensitive: cmd.has_sensitive_answer(),
            prefix: cmd.info_prefix().map(Cow::into_owned),
            echo: cmd.echo_line(),
        }
    }

    /// Whether `line`, which no command in flight claims, may be part of it.
    /// While a sensitive answer may still come, any line but a declared URC
    /// (with another prefix) may be.
    fn may_hold(&self, line: &str, config: &DecoderConfig) -> bool {
        // Its own echo, exactly: a line that merely starts like a command
        // (`At 10:00 ...`, `Attached ...`) is someone's data.
        (!self.echo.is_empty() && line.as_bytes() == self.echo.as_slice())
            || (self.sensitive
                && (self.prefix.as_deref().is_some_and(|p| line.starts_with(p))
                    || !config.is_urc(line)))
    }
}

/// What a payload cut short still owes, which the host cannot send honestly.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Owed {
    /// This many more bytes of a length-delimited payload.
    Bytes(u64),
    /// An end nobody declared.
    Undeclared,
}

/// What a command given up in data mode leaves the module waiting for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DataLeft {
    /// The `+++` that ends its payload.
    Escape,
    /// Data the host cannot send.
    Owed(Owed),
}

/// The line's state, as far as the host knows: exactly one at a time.
///
/// - `Ready` → `Resync(late)`: `begin` writes a command (from its first
///   byte on, an answer may come) → `InFlight` once written whole;
/// - `InFlight` ⇄ `InData`: its prompt; back on its final, its `+++`, or
///   `finish` on a payload whose end was not declared;
/// - `InFlight`/`InData` → `Ready`: its final result;
/// - given up (timeout, I/O error, a caller gone): `InFlight` → `Resync`;
///   `InData` → `Escape`, `Blocked` or `Resync` by what its payload owes;
///   completed in data mode: `Escape` or `Blocked`, nothing late to hide;
/// - `Escape` → `Resync`: `+++` written; `Resync` → `Ready`: the `AT`
///   answered, or a late final read; `Blocked` → `Ready`: a final the
///   module sent by itself; `Escape`/`Blocked` → `Resync`: `forget_data_mode`.
pub(super) enum Line {
    /// Nothing owed: the next command goes out as it is.
    Ready,
    /// A command was written and its answer is awaited, in command mode.
    InFlight(Current),
    /// A command's prompt came: the module takes its payload.
    InData(Current),
    /// A command was given up (timeout, I/O error, cancelled call), or is
    /// being written: its late answer may still come, so `AT` goes out and
    /// its answer is read before the next command. `Some`: what that late
    /// answer may hold.
    Resync(Option<Late>),
    /// A command was given up in data mode, its payload ending with `+++`:
    /// the next command first writes `+++` inside guard times, then
    /// resynchronises.
    Escape {
        /// The command, redacted.
        command: String,
        /// What its late answer may hold (`None` once a final was read).
        late: Option<Late>,
    },
    /// A command was given up in data mode owing data the host cannot send:
    /// nothing goes out until the module leaves data mode (its own final
    /// result, or [`Client::forget_data_mode`](super::Client::forget_data_mode)).
    Blocked {
        /// The command, redacted.
        command: String,
        /// What it still owes.
        owed: Owed,
        /// What its late answer may hold.
        late: Option<Late>,
    },
}

/// What [`Line::late_final`] did with a final result no command claimed.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum LateFinal {
    /// It ended the answer of the command given up: no resync owed any more.
    Answered,
    /// It ended the data mode of a blocked command, which the module left
    /// by itself.
    LeftDataMode(String),
    /// The command given up is still owed its `+++`; its answer is over.
    EscapeStillOwed,
    /// Nobody owes a final: a stray one.
    Stray,
}

impl Line {
    /// The command in flight.
    pub(super) fn current(&self) -> Option<&Current> {
        match self {
            Line::InFlight(c) | Line::InData(c) => Some(c),
            _ => None,
        }
    }

    pub(super) fn current_mut(&mut self) -> Option<&mut Current> {
        match self {
            Line::InFlight(c) | Line::InData(c) => Some(c),
            _ => None,
        }
    }

    /// What a line no command claims may belong to (see [`Late`]).
    fn late(&self) -> Option<&Late> {
        match self {
            Line::Resync(late) | Line::Escape { late, .. } | Line::Blocked { late, .. } => {
                late.as_ref()
            }
            _ => None,
        }
    }

    /// Whether `line`, which no command in flight claims, must be neither
    /// logged nor routed: it may be part of the answer of a command given up.
    pub(super) fn hides(&self, line: &str, config: &DecoderConfig) -> bool {
        self.late().is_some_and(|l| l.may_hold(line, config))
    }

    /// A command given up in data mode left the module in it.
    pub(super) fn in_data_mode(&self) -> bool {
        matches!(self, Line::Escape { .. } | Line::Blocked { .. })
    }

    /// The prompt of the command in flight came: the module takes data.
    pub(super) fn prompted(&mut self) {
        if let Line::InFlight(_) | Line::InData(_) = self {
            if let Line::InFlight(c) | Line::InData(c) = std::mem::replace(self, Line::Ready) {
                *self = Line::InData(Current {
                    data_written: 0,
                    ..c
                });
            }
        }
    }

    /// The command in flight is back in command mode (it answered, or its
    /// `+++` was handed over, or its payload is complete).
    pub(super) fn out_of_data(&mut self) {
        if let Line::InData(_) = self {
            if let Line::InData(c) = std::mem::replace(self, Line::Ready) {
                *self = Line::InFlight(c);
            }
        }
    }

    /// Gives up the command in flight: its late answer is owed a resync, and
    /// a data mode it leaves open is owed its end. With no command in flight
    /// a resync is owed (a flush that timed out); what is already owed stays.
    pub(super) fn give_up(&mut self) {
        *self = match std::mem::replace(self, Line::Ready) {
            Line::Ready => Line::Resync(None),
            Line::InFlight(c) => Line::Resync(Some(c.late)),
            Line::InData(c) => match c.data_left() {
                None => Line::Resync(Some(c.late)),
                Some(left) => Self::left_in_data(c.label, left, Some(c.late)),
            },
            owed => owed,
        };
    }

    /// The command in flight is over: `Ready`, or (its final came before its
    /// payload was over, e.g. Quectel `OK` then `CONNECT`) the data mode it
    /// leaves. Returns it.
    pub(super) fn complete(&mut self) -> Option<Current> {
        match std::mem::replace(self, Line::Ready) {
            Line::InFlight(c) => Some(c),
            Line::InData(c) => {
                if let Some(left) = c.data_left() {
                    // Its answer is over: nothing late to hide.
                    *self = Self::left_in_data(c.label.clone(), left, None);
                }
                Some(c)
            }
            other => {
                *self = other;
                None
            }
        }
    }

    fn left_in_data(command: String, left: DataLeft, late: Option<Late>) -> Line {
        match left {
            DataLeft::Escape => Line::Escape { command, late },
            DataLeft::Owed(owed) => Line::Blocked {
                command,
                owed,
                late,
            },
        }
    }

    /// The `+++` of the data mode left open went out: what remains owed is
    /// the resync (given up), or the answer (in flight).
    pub(super) fn escaped(&mut self) {
        match std::mem::replace(self, Line::Ready) {
            Line::Escape { late, .. } => *self = Line::Resync(late),
            Line::InData(c) => *self = Line::InFlight(c),
            other => *self = other,
        }
    }

    /// A final result came that no command in flight claims.
    pub(super) fn late_final(&mut self) -> LateFinal {
        match std::mem::replace(self, Line::Ready) {
            Line::Resync(_) => LateFinal::Answered,
            Line::Blocked { command, .. } => LateFinal::LeftDataMode(command),
            Line::Escape { command, .. } => {
                *self = Line::Escape {
                    command,
                    late: None,
                };
                LateFinal::EscapeStillOwed
            }
            other => {
                *self = other;
                LateFinal::Stray
            }
        }
    }

    /// The module left the data mode by other means than this client (a
    /// reset, its input timeout): what remains owed is a resync. Returns the
    /// command whose data mode was forgotten.
    pub(super) fn forget_data_mode(&mut self) -> Option<String> {
        match std::mem::replace(self, Line::Ready) {
            Line::InData(c) => {
                let label = c.label.clone();
                *self = Line::InFlight(c);
                Some(label)
            }
            Line::Escape { command, late } | Line::Blocked { command, late, .. } => {
                *self = Line::Resync(late);
                Some(command)
            }
            other => {
                *self = other;
                None
            }
        }
    }
}

/// The write side's timing, for the guard times around `+++`: whether the
/// bytes handed to the stream have left the line, and when; or the silence
/// still owed after a `+++`. Kept apart from [`Line`]: a silence is owed
/// whatever the command state (after an upload's `+++` while its answer is
/// awaited, after a given-up one's while resynchronising).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Wire {
    /// Every byte handed over left the line, the last at this instant
    /// (`None`: nothing written yet).
    Drained(Option<Instant>),
    /// Bytes were handed to the stream and their flush did not complete:
    /// they may still be on their way.
    Unflushed,
    /// `+++` was handed over, or is being: no byte may follow before
    /// `until`. `left`: when the line last drained (`None`: a flush is owed).
    Guard {
        until: Instant,
        left: Option<Instant>,
    },
}

impl Wire {
    /// Bytes were handed to the stream. A silence owed stays owed.
    pub(super) fn handed(&mut self) {
        *self = match *self {
            Wire::Guard { until, .. } => Wire::Guard { until, left: None },
            _ => Wire::Unflushed,
        };
    }

    /// The stream was flushed at `now`: every byte left the line. (A silence
    /// owed ends `guard` after `now` at the latest, which the `+++` that
    /// follows a flush keeps anyway.)
    pub(super) fn drained(&mut self, now: Instant) {
        *self = Wire::Drained(Some(now));
    }

    /// A flush is owed before the silence on the line can be measured.
    pub(super) fn needs_flush(&self) -> bool {
        matches!(self, Wire::Unflushed | Wire::Guard { left: None, .. })
    }

    /// When the line last drained (the silence before `+++` counts from there).
    pub(super) fn last_left(&self) -> Option<Instant> {
        match *self {
            Wire::Drained(at) | Wire::Guard { left: at, .. } => at,
            Wire::Unflushed => None,
        }
    }

    /// Nothing may be written before `until` (armed before `+++` goes out,
    /// so a call cancelled while writing it still keeps the silence).
    pub(super) fn guard(&mut self, until: Instant) {
        let left = match *self {
            Wire::Drained(at) | Wire::Guard { left: at, .. } => at,
            Wire::Unflushed => None,
        };
        *self = Wire::Guard { until, left };
    }

    /// The silence owed, if any.
    pub(super) fn quiet_until(&self) -> Option<Instant> {
        match *self {
            Wire::Guard { until, .. } => Some(until),
            _ => None,
        }
    }

    /// The silence was kept, or is no longer needed (the module answered the
    /// command it took the data for, so it took the escape).
    pub(super) fn quiet_over(&mut self) {
        if let Wire::Guard { left, .. } = *self {
            *self = match left {
                Some(at) => Wire::Drained(Some(at)),
                None => Wire::Unflushed,
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn current(payload: Option<Payload>, written: u64) -> Current {
        let cmd = Command::write("+SMTPAUTH")
            .int(1)
            .string("user", "john")
            .sensitive_answer();
        Current {
            label: "AT+SMTPBODY".into(),
            timeout: Duration::from_secs(1),
            deadline: Instant::now(),
            response: Response::default(),
            result: None,
            late: Late::of(&cmd),
            payload,
            data_written: written,
        }
    }

    fn in_data(payload: Option<Payload>, written: u64) -> Line {
        let mut line = Line::InFlight(current(payload, 0));
        line.prompted();
        if let Some(c) = line.current_mut() {
            c.data_written = written;
        }
        line
    }

    fn name(line: &Line) -> String {
        match line {
            Line::Ready => "ready".into(),
            Line::InFlight(_) => "in flight".into(),
            Line::InData(_) => "in data".into(),
            Line::Resync(late) => format!("resync (late: {})", late.is_some()),
            Line::Escape { late, .. } => format!("escape (late: {})", late.is_some()),
            Line::Blocked { owed, late, .. } => {
                format!("blocked {owed:?} (late: {})", late.is_some())
            }
        }
    }

    #[test]
    fn giving_up_names_what_the_next_command_owes() {
        let cases = [
            (Line::Ready, "resync (late: false)"),
            (Line::InFlight(current(None, 0)), "resync (late: true)"),
            (in_data(Some(Payload::Escape), 3), "escape (late: true)"),
            (
                in_data(Some(Payload::Length(10)), 4),
                "blocked Bytes(6) (late: true)",
            ),
            (
                in_data(Some(Payload::Length(10)), 10),
                "resync (late: true)",
            ),
            (in_data(None, 0), "blocked Undeclared (late: true)"),
            // AT+QFUPL: a shorter upload is ended by `+++`; a whole one ended itself.
            (
                in_data(Some(Payload::LengthOrEscape(10)), 4),
                "escape (late: true)",
            ),
            (
                in_data(Some(Payload::LengthOrEscape(10)), 10),
                "resync (late: true)",
            ),
        ];
        for (mut line, want) in cases {
            line.give_up();
            assert_eq!(name(&line), want);
            // Giving up again owes nothing more.
            line.give_up();
            assert_eq!(name(&line), want);
        }
    }

    #[test]
    fn a_prompt_restarts_the_payload_count_and_an_answer_leaves_data_mode() {
        let mut line = in_data(Some(Payload::Length(10)), 7);
        line.prompted();
        assert_eq!(line.current().map(|c| c.data_written), Some(0));
        line.out_of_data();
        assert_eq!(name(&line), "in flight");
        // Given up out of data mode, nothing is owed but the resync.
        line.give_up();
        assert_eq!(name(&line), "resync (late: true)");
    }

    #[test]
    fn completing_in_data_mode_leaves_the_data_mode_without_a_late_answer() {
        let mut line = in_data(Some(Payload::Escape), 0);
        assert!(line.complete().is_some());
        assert_eq!(name(&line), "escape (late: false)");
        assert!(line.in_data_mode());
        let mut line = Line::InFlight(current(None, 0));
        assert_eq!(line.complete().map(|c| c.label), Some("AT+SMTPBODY".into()));
        assert_eq!(name(&line), "ready");
        let mut line = Line::Resync(None);
        assert!(line.complete().is_none());
        assert_eq!(name(&line), "resync (late: false)");
    }

    #[test]
    fn a_late_final_ends_what_it_can() {
        let mut line = Line::Resync(None);
        assert_eq!(line.late_final(), LateFinal::Answered);
        assert_eq!(name(&line), "ready");
        let mut line = in_data(None, 0);
        line.give_up();
        assert_eq!(
            line.late_final(),
            LateFinal::LeftDataMode("AT+SMTPBODY".into())
        );
        assert_eq!(name(&line), "ready");
        let mut line = in_data(Some(Payload::Escape), 0);
        line.give_up();
        assert_eq!(line.late_final(), LateFinal::EscapeStillOwed);
        assert_eq!(name(&line), "escape (late: false)");
        let mut line = Line::Ready;
        assert_eq!(line.late_final(), LateFinal::Stray);
        assert_eq!(name(&line), "ready");
    }

    #[test]
    fn forgetting_the_data_mode_leaves_a_resync() {
        let mut line = in_data(Some(Payload::Length(9)), 1);
        line.give_up();
        assert_eq!(line.forget_data_mode(), Some("AT+SMTPBODY".into()));
        assert_eq!(name(&line), "resync (late: true)");
        let mut line = in_data(Some(Payload::Length(9)), 1);
        assert_eq!(line.forget_data_mode(), Some("AT+SMTPBODY".into()));
        assert_eq!(name(&line), "in flight");
        let mut line = Line::Ready;
        assert_eq!(line.forget_data_mode(), None);
    }

    #[test]
    fn the_escape_once_written_leaves_the_resync() {
        let mut line = in_data(Some(Payload::Escape), 0);
        line.give_up();
        line.escaped();
        assert_eq!(name(&line), "resync (late: true)");
        let mut line = in_data(Some(Payload::Escape), 0);
        line.escaped();
        assert_eq!(name(&line), "in flight");
    }

    #[test]
    fn only_a_command_given_up_hides_lines() {
        let config = DecoderConfig::default().urc("+PDP");
        let mut line = Line::InFlight(current(None, 0));
        assert!(!line.hides("+SMTPAUTH: 1", &config));
        line.give_up();
        // A sensitive answer: its prefix, and any line not a declared URC.
        assert!(line.hides("+SMTPAUTH: 1", &config));
        assert!(line.hides("whatever", &config));
        assert!(!line.hides("+PDP: DEACT", &config));
        line.late_final();
        assert!(!line.hides("whatever", &config));
    }

    #[test]
    fn the_wire_keeps_the_silence_after_the_escape() {
        let t0 = Instant::now();
        let guard = Duration::from_secs(1);
        let mut wire = Wire::Drained(None);
        assert!(!wire.needs_flush());
        wire.handed();
        assert!(wire.needs_flush());
        assert_eq!(wire.last_left(), None);
        wire.drained(t0);
        assert_eq!(wire.last_left(), Some(t0));
        // Armed before `+++` goes out; handing it over keeps it.
        wire.guard(t0 + guard);
        wire.handed();
        assert_eq!(wire.quiet_until(), Some(t0 + guard));
        assert!(wire.needs_flush());
        // Kept without the flush: the bytes may still be on their way.
        wire.quiet_over();
        assert_eq!(wire, Wire::Unflushed);
        // Flushed, then armed again: kept, the drain time is what counts.
        let t1 = t0 + guard;
        wire.drained(t1);
        wire.guard(t1 + guard);
        assert!(!wire.needs_flush());
        wire.quiet_over();
        assert_eq!(wire, Wire::Drained(Some(t1)));
        assert_eq!(wire.quiet_until(), None);
    }
}
