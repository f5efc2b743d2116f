//! Progress of long transfers in `cargo xtask hil`: on a terminal one bar per
//! transfer (a new one when the phase changes, its length set before its
//! position, cleared before the next transfer or line) and, as otherwise, one
//! plain line per transfer once it ends (`  attachment log.txt: 102400 bytes`).
//!
//! [`Tracker`] decides (and is tested); [`Bars`] draws.

use std::io::IsTerminal;
use std::sync::{Arc, Mutex, PoisonError};

use cellmail::{Phase, Progress, ProgressEvent};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// What the display does, in order, for the events of transfers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Draw {
    /// A transfer starts: a new bar named `name`, `length` bytes long when known.
    Start { name: String, length: Option<u64> },
    /// The transfer's length changed (always before the position).
    Length(u64),
    /// Bytes done so far.
    Position(u64),
    /// The transfer ended with `done` of `total` bytes: the bar is finished.
    End {
        name: String,
        done: u64,
        total: Option<u64>,
    },
}

struct Transfer {
    phase: Phase,
    done: u64,
    total: Option<u64>,
}

/// The transfer in flight, from the events the dialects report.
#[derive(Default)]
pub struct Tracker {
    current: Option<Transfer>,
}

impl Tracker {
    /// What one event draws. A transfer is new when its phase differs from the
    /// one in flight, or when it starts over (fewer bytes done: a resend); the
    /// one in flight then ends first. It ends by itself once all bytes are done.
    pub fn event(&mut self, e: &ProgressEvent) -> Vec<Draw> {
        let mut out = Vec::new();
        let same = self
            .current
            .as_ref()
            .is_some_and(|c| c.phase == e.phase && e.done >= c.done);
        if !same {
            out.extend(self.end());
            out.push(Draw::Start {
                name: e.phase.to_string(),
                length: e.total,
            });
        }
        let c = self.current.get_or_insert(Transfer {
            phase: e.phase.clone(),
            done: 0,
            total: e.total,
        });
        if let Some(total) = e.total.filter(|t| c.total != Some(*t)) {
            out.push(Draw::Length(total));
        }
        c.total = e.total.or(c.total);
        c.done = e.done;
        out.push(Draw::Position(e.done));
        if e.total.is_some_and(|t| e.done >= t) {
            out.extend(self.end());
        }
        out
    }

    /// Ends the transfer in flight, if any (before the next line is printed).
    pub fn end(&mut self) -> Vec<Draw> {
        self.current
            .take()
            .map(|c| Draw::End {
                name: c.phase.to_string(),
                done: c.done,
                total: c.total,
            })
            .into_iter()
            .collect()
    }
}

/// The plain line of a transfer that ended (not on a terminal).
pub fn plain_line(draw: &Draw) -> Option<String> {
    let Draw::End { name, done, total } = draw else {
        return None;
    };
    Some(match total {
        Some(total) if done < total => format!("  {name}: {done} of {total} bytes, cut short"),
        _ => format!("  {name}: {done} bytes"),
    })
}

struct State {
    tracker: Tracker,
    bar: Option<ProgressBar>,
}

/// The display on stderr the hil run hands the dialects, and ends before
/// each line it prints.
#[derive(Clone)]
pub struct Bars {
    terminal: bool,
    state: Arc<Mutex<State>>,
}

impl Bars {
    /// Bars when stderr is a terminal, plain lines otherwise.
    pub fn new() -> Self {
        Self {
            terminal: std::io::stderr().is_terminal(),
            state: Arc::new(Mutex::new(State {
                tracker: Tracker::default(),
                bar: None,
            })),
        }
    }

    /// The callback for `HilConfig::progress`.
    pub fn progress(&self) -> Progress {
        let bars = self.clone();
        Progress::new(move |e: ProgressEvent| {
            let mut state = bars.state.lock().unwrap_or_else(PoisonError::into_inner);
            let draws = state.tracker.event(&e);
            bars.draw(&mut state, draws);
        })
    }

    /// Ends the transfer in flight: call before printing a line.
    pub fn end(&self) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let draws = state.tracker.end();
        self.draw(&mut state, draws);
    }

    fn draw(&self, state: &mut State, draws: Vec<Draw>) {
        for d in draws {
            match d {
                Draw::End { .. } => {
                    // The bar goes, the transfer's line stays: the next line starts clean.
                    if let Some(bar) = state.bar.take() {
                        bar.finish_and_clear();
                    }
                    if let Some(line) = plain_line(&d) {
                        eprintln!("{line}");
                    }
                }
                _ if !self.terminal => {}
                Draw::Start { name, length } => {
                    let bar = ProgressBar::with_draw_target(length, ProgressDrawTarget::stderr());
                    bar.set_style(style(length.is_some()));
                    bar.set_message(name);
                    state.bar = Some(bar);
                }
                Draw::Length(n) => {
                    if let Some(bar) = &state.bar {
                        bar.set_style(style(true));
                        bar.set_length(n);
                    }
                }
                Draw::Position(n) => state.bar.iter().for_each(|b| b.set_position(n)),
            }
        }
    }
}

/// A bar as wide as the terminal when the length is known, a byte count otherwise.
fn style(known_length: bool) -> ProgressStyle {
    let template = if known_length {
        "  {msg} [{wide_bar}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}"
    } else {
        "  {msg} {bytes} {bytes_per_sec}"
    };
    ProgressStyle::with_template(template)
        .map(|s| s.progress_chars("=> "))
        .unwrap_or_else(|_| ProgressStyle::default_bar())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(phase: &Phase, done: u64, total: u64) -> ProgressEvent {
        ProgressEvent {
            phase: phase.clone(),
            done,
            total: Some(total),
        }
    }

    fn att(name: &str) -> Phase {
        Phase::Attachment { name: name.into() }
    }

    fn start(name: &str, length: u64) -> Draw {
        Draw::Start {
            name: name.into(),
            length: Some(length),
        }
    }

    fn end(name: &str, done: u64, total: u64) -> Draw {
        Draw::End {
            name: name.into(),
            done,
            total: Some(total),
        }
    }

    #[test]
    fn one_bar_per_transfer_each_finished_before_the_next() {
        let mut t = Tracker::default();
        let mut draws = Vec::new();
        draws.extend(t.event(&ev(&Phase::Body, 67, 67)));
        for done in [4096, 8192, 10_000] {
            draws.extend(t.event(&ev(&att("log.txt"), done, 10_000)));
        }
        assert_eq!(
            draws,
            [
                start("body", 67),
                Draw::Position(67),
                end("body", 67, 67),
                start("attachment log.txt", 10_000),
                Draw::Position(4096),
                Draw::Position(8192),
                Draw::Position(10_000),
                end("attachment log.txt", 10_000, 10_000),
            ]
        );
        assert_eq!(t.end(), []);
    }

    #[test]
    fn a_new_phase_ends_the_transfer_in_flight() {
        let mut t = Tracker::default();
        assert_eq!(
            t.event(&ev(&att("a.bin"), 100, 1000)),
            [start("attachment a.bin", 1000), Draw::Position(100)]
        );
        assert_eq!(
            t.event(&ev(&Phase::Retrieve { id: 3 }, 10, 20)),
            [
                end("attachment a.bin", 100, 1000),
                start("message 3", 20),
                Draw::Position(10),
            ]
        );
        // Ended from outside (before the next line): once.
        assert_eq!(t.end(), [end("message 3", 10, 20)]);
        assert_eq!(t.end(), []);
    }

    #[test]
    fn a_resend_of_the_same_phase_is_a_new_transfer() {
        let mut t = Tracker::default();
        t.event(&ev(&att("a.bin"), 500, 1000));
        assert_eq!(
            t.event(&ev(&att("a.bin"), 100, 1000)),
            [
                end("attachment a.bin", 500, 1000),
                start("attachment a.bin", 1000),
                Draw::Position(100),
            ]
        );
    }

    #[test]
    fn a_length_that_changes_is_set_before_the_position() {
        let mut t = Tracker::default();
        let unknown = ProgressEvent {
            phase: Phase::Body,
            done: 10,
            total: None,
        };
        assert_eq!(
            t.event(&unknown),
            [
                Draw::Start {
                    name: "body".into(),
                    length: None
                },
                Draw::Position(10),
            ]
        );
        assert_eq!(
            t.event(&ev(&Phase::Body, 20, 40)),
            [Draw::Length(40), Draw::Position(20)]
        );
        assert_eq!(t.event(&ev(&Phase::Body, 30, 40)), [Draw::Position(30)]);
    }

    #[test]
    fn plain_lines_say_each_ended_transfer_in_words() {
        assert_eq!(
            plain_line(&end("attachment log.txt", 102_400, 102_400)).as_deref(),
            Some("  attachment log.txt: 102400 bytes")
        );
        assert_eq!(
            plain_line(&end("upload ca.pem", 10, 1131)).as_deref(),
            Some("  upload ca.pem: 10 of 1131 bytes, cut short")
        );
        assert_eq!(plain_line(&Draw::Position(3)), None);
        assert_eq!(plain_line(&start("body", 3)), None);
    }
}
