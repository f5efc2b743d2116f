//! The errors of the AT layer.

use std::time::Duration;

use crate::command::EncodeError;
use crate::decode::{CmeError, Final};

/// Everything that can go wrong in one AT exchange. `command` fields hold the
/// command line with secrets redacted.
#[derive(Debug, thiserror::Error)]
pub enum AtError {
    /// The command could not be encoded; nothing was written.
    #[error(transparent)]
    Encode(#[from] EncodeError),
    /// The module answered `ERROR`.
    #[error("{command}: the module answered ERROR")]
    Error {
        /// The command.
        command: String,
    },
    /// The module answered `+CME ERROR: <err>`.
    #[error("{command}: +CME ERROR: {error}")]
    Cme {
        /// The command.
        command: String,
        /// The module's error code or text.
        error: CmeError,
    },
    /// The module answered `+CMS ERROR: <err>`.
    #[error("{command}: +CMS ERROR: {code}")]
    Cms {
        /// The command.
        command: String,
        /// The module's error code.
        code: u16,
    },
    /// The module answered a failure final the dialect declared (e.g. `SEND FAIL`),
    /// or a line the command [ends on](crate::Command::ends_on) (e.g.
    /// `+SMTPSEND: 64` instead of the grant of `AT+SMTPFT`).
    #[error("{command}: the module answered {result}")]
    Failed {
        /// The command.
        command: String,
        /// The final line.
        result: String,
    },
    /// No answer in time. The client stays usable: a late answer is dropped,
    /// never taken for the next command's.
    #[error("{command}: no answer within {}", crate::text::duration(*.after))]
    Timeout {
        /// The command (or the awaited result prefix).
        command: String,
        /// How long it waited.
        after: Duration,
    },
    /// No answer in time, and not one byte has come back on the line since
    /// the client was made: most often the wrong port or baud rate, or a
    /// module that is off or still booting. A timeout all the same (the
    /// client stays usable), said in words an operator can act on.
    #[error(
        "{command}: nothing came back on the serial line within {}: check that the module is \
         powered, that this is its port and that the baud rate is its own",
        crate::text::duration(*.after)
    )]
    Silent {
        /// The command.
        command: String,
        /// How long it waited.
        after: Duration,
    },
    /// The module answered something the exchange does not allow.
    #[error("{command}: {detail}")]
    Protocol {
        /// The command.
        command: String,
        /// What went wrong.
        detail: String,
    },
    /// The module rebooted (`RDY`) while the host waited for the answer,
    /// prompt or deferred result of `command`: it will never come (a reboot
    /// forgets every command in flight; see
    /// [`ClientConfig::reboot_lines`](crate::ClientConfig::reboot_lines)).
    /// Whether the mail went is unknown; the module is configured again by
    /// the next call.
    #[error("{command}: the module rebooted ({line}) before its result came")]
    Rebooted {
        /// The command (or the awaited result prefix).
        command: String,
        /// The line that said so (`RDY`).
        line: String,
    },
    /// The serial line was closed (EOF).
    #[error("the serial line was closed")]
    Closed,
    /// The serial line failed.
    #[error("serial I/O failed: {0}")]
    Io(#[from] std::io::Error),
}

impl AtError {
    /// The error for a failing final result of `command`.
    pub fn from_final(command: String, result: Final) -> Self {
        match result {
            Final::Ok | Final::Error => AtError::Error { command },
            Final::CmeError(error) => AtError::Cme { command, error },
            Final::CmsError(code) => AtError::Cms { command, code },
            Final::Declared { text, .. } => AtError::Failed {
                command,
                result: text,
            },
        }
    }

    /// Whether this is a timeout (of a line that answered before, or of one
    /// that never did).
    pub fn is_timeout(&self) -> bool {
        matches!(self, AtError::Timeout { .. } | AtError::Silent { .. })
    }

    /// The timeout of `command` after `after` on a line that has read
    /// `bytes_read` bytes so far: [`AtError::Silent`] when none.
    pub(crate) fn timeout(command: String, after: Duration, bytes_read: u64) -> Self {
        if bytes_read == 0 {
            AtError::Silent { command, after }
        } else {
            AtError::Timeout { command, after }
        }
    }
}
