//! Transcript-replay test harness for AT modules.
//!
//! No modem is attached to CI machines, so every dialect is proven first
//! against transcripts: exact records of what the host writes and what the
//! module answers, written like the manuals' examples (`docs/transcripts.md`).
//!
//! - [`Transcript`]: the `.at` format, parsed and written back unchanged.
//! - [`ScriptedModem`]: a tokio `AsyncRead + AsyncWrite` that plays one,
//!   checking every host byte, on tokio's (pausable) clock.
//! - [`Faults`]: split reads, extra URCs, lost or garbled bytes, withheld
//!   answers, a cut line.
//! - [`Recorder`]: tees a real port into a transcript with secrets redacted.
//!
//! This crate depends on no other cellmail crate: it is bytes in, bytes out.

mod faults;
#[cfg(feature = "harness")]
pub mod harness;
mod modem;
mod recorder;
mod transcript;

pub use faults::Faults;
pub use modem::{DEFAULT_GUARD_TIME, ReplayError, ScriptedModem, ScriptedModemBuilder};
pub use recorder::Recorder;
pub use transcript::{Line, ParseError, Payload, Step, Transcript, escape, unescape};
