//! Progress of long transfers: one bar per transfer on a terminal, plain lines otherwise.

use std::io::IsTerminal;
use std::sync::{Arc, Mutex};

use cellmail::{Phase, Progress, ProgressEvent};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// What a phase is, for an operator.
pub fn phase_name(phase: &Phase) -> String {
    match phase {
        Phase::Body => "body".to_owned(),
        Phase::Attachment { name } => format!("attachment {name}"),
        Phase::Upload { name } => format!("upload of {name}"),
        Phase::Retrieve { id } => format!("message {id}"),
    }
}

/// The transfer in flight and its bar.
struct Current {
    phase: Phase,
    bar: ProgressBar,
}

/// A `Progress` that draws on stderr: bars when it is a terminal, one line per finished
/// transfer otherwise.
pub fn progress() -> Progress {
    let terminal = std::io::stderr().is_terminal();
    let current: Arc<Mutex<Option<Current>>> = Arc::new(Mutex::new(None));
    Progress::new(move |e: ProgressEvent| {
        let name = phase_name(&e.phase);
        if !terminal {
            if e.total.is_some_and(|t| e.done == t) {
                eprintln!("  {name}: {} bytes", e.done);
            }
            return;
        }
        let Ok(mut current) = current.lock() else {
            return;
        };
        if current.as_ref().is_none_or(|c| c.phase != e.phase) {
            // The previous transfer's bar ends before the next one starts.
            if let Some(old) = current.take() {
                old.bar.finish();
            }
            let bar = ProgressBar::with_draw_target(e.total, ProgressDrawTarget::stderr());
            if let Ok(style) = ProgressStyle::with_template(
                "  {msg} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
            ) {
                bar.set_style(style);
            }
            bar.set_message(name);
            *current = Some(Current {
                phase: e.phase.clone(),
                bar,
            });
        }
        if let Some(c) = current.as_ref() {
            // Length before position: the bar never shows more done than in all.
            if let Some(total) = e.total {
                c.bar.set_length(total);
            }
            c.bar.set_position(e.done);
            if e.total.is_some_and(|t| e.done >= t) {
                c.bar.finish();
            }
        }
        if current.as_ref().is_some_and(|c| c.bar.is_finished()) {
            *current = None;
        }
    })
}
