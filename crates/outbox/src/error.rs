//! [`OutboxError`]: what went wrong with the outbox itself (its database), as
//! opposed to a mail's send ([`MailError`], kept per attempt).

use std::path::PathBuf;
use std::time::Duration;

use cellmail::MailError;

use crate::MailId;

/// A boxed underlying error (SQLite's or the file system's), kept as the
/// source so `rusqlite` does not leak into the public API.
pub type Source = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything the outbox can refuse or fail at. Every variant that concerns a
/// file names it; none of them changes a mail already queued.
///
/// ```
/// use cellmail_outbox::{Outbox, OutboxError};
/// let dir = std::env::temp_dir();
/// match Outbox::open(&dir) {
///     Err(OutboxError::IsDirectory { path }) => assert_eq!(path, dir),
///     other => panic!("a directory was accepted: {other:?}"),
/// }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OutboxError {
    /// The database path names a directory.
    #[error("{}: is a directory; give the path of the outbox database file inside it", .path.display())]
    IsDirectory {
        /// The path given.
        path: PathBuf,
    },
    /// The file could not be opened or created (missing folder, permissions).
    #[error("{}: cannot open the outbox database: {source}", .path.display())]
    Open {
        /// The path given.
        path: PathBuf,
        /// What SQLite or the file system said.
        #[source]
        source: Source,
    },
    /// Another process holds the database past the busy timeout.
    #[error("{}: the outbox database is locked by another process (waited {waited:?}); retry when it is done", .path.display())]
    Locked {
        /// The database.
        path: PathBuf,
        /// How long the outbox waited for the lock.
        waited: Duration,
    },
    /// The file is not an SQLite database or is damaged. It is left exactly as it
    /// was: refusing is how no queued mail in it is lost.
    #[error("{}: not a usable outbox database ({detail}); the file was left untouched: restore it from a backup or move it away", .path.display())]
    Corrupt {
        /// The database.
        path: PathBuf,
        /// What was wrong.
        detail: String,
    },
    /// The file is an SQLite database of another application.
    #[error("{}: an SQLite database of another application (application_id {application_id:#x}); the file was left untouched", .path.display())]
    ForeignDatabase {
        /// The database.
        path: PathBuf,
        /// Its `PRAGMA application_id`.
        application_id: i32,
    },
    /// The database was written by a newer cellmail-outbox.
    #[error("{}: outbox schema version {found} is newer than this program's {supported}; upgrade the program", .path.display())]
    SchemaTooNew {
        /// The database.
        path: PathBuf,
        /// The version found.
        found: i32,
        /// The newest version this build knows.
        supported: i32,
    },
    /// Another runner already sends from this outbox.
    #[error("{}: another runner already sends from this outbox; run one runner per outbox", .lock.display())]
    RunnerActive {
        /// The runner's lock file.
        lock: PathBuf,
    },
    /// The mail was refused at enqueue (an attachment file that cannot be
    /// read, for instance); nothing was stored.
    #[error("the mail was not queued: {0}")]
    Mail(#[from] MailError),
    /// No mail with this id.
    #[error("no mail {0} in the outbox")]
    NotFound(MailId),
    /// A runner was given no mailer.
    #[error("the runner was given no mailer to send through")]
    NoSender,
    /// A stored row cannot be turned back into a mail (edited by hand?).
    #[error("mail {id}: stored {field} cannot be read back: {reason}")]
    Stored {
        /// The mail.
        id: MailId,
        /// The column.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// Reading or writing the database failed (disk full, I/O error).
    #[error("{}: outbox database error: {source}", .path.display())]
    Database {
        /// The database.
        path: PathBuf,
        /// What SQLite said.
        #[source]
        source: Source,
    },
}
