//! Opening the database: refusing what is not ours (a directory, a foreign or
//! damaged file, a newer schema) before anything is written, then WAL and
//! `synchronous=FULL`.

use std::io::Read;
use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OpenFlags};

use crate::OutboxError;

/// `PRAGMA application_id` of an outbox: "CMOB".
pub(crate) const APPLICATION_ID: i32 = 0x434D_4F42;
/// `PRAGMA user_version`: the schema this build writes and reads.
pub(crate) const SCHEMA_VERSION: i32 = 1;

const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";

const SCHEMA: &str = "
CREATE TABLE mails (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    state TEXT NOT NULL CHECK (state IN ('queued','sending','in_doubt','sent','failed','unknown')),
    enqueued_ms INTEGER NOT NULL,
    next_ms INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    possible_duplicate INTEGER NOT NULL DEFAULT 0,
    ended_ms INTEGER,
    last_error TEXT,
    module_result TEXT,
    from_addr TEXT NOT NULL,
    from_name TEXT,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    charset TEXT NOT NULL
);
CREATE INDEX mails_due ON mails (state, next_ms, id);
CREATE TABLE recipients (
    mail_id INTEGER NOT NULL REFERENCES mails (id),
    pos INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('to','cc','bcc')),
    address TEXT NOT NULL,
    name TEXT,
    PRIMARY KEY (mail_id, pos)
);
CREATE TABLE attachments (
    mail_id INTEGER NOT NULL REFERENCES mails (id),
    pos INTEGER NOT NULL,
    name TEXT NOT NULL,
    data BLOB,
    module_path TEXT,
    PRIMARY KEY (mail_id, pos),
    CHECK ((data IS NULL) <> (module_path IS NULL))
);
CREATE TABLE attempts (
    mail_id INTEGER NOT NULL REFERENCES mails (id),
    n INTEGER NOT NULL,
    sender INTEGER NOT NULL,
    started_ms INTEGER NOT NULL,
    ended_ms INTEGER,
    submitted INTEGER NOT NULL DEFAULT 0,
    outcome TEXT,
    error TEXT,
    variant TEXT,
    vendor_code TEXT,
    PRIMARY KEY (mail_id, n)
);
";

/// Maps an SQLite error to the outbox's, naming the file.
pub(crate) fn db_error(path: &Path, busy: Duration, e: rusqlite::Error) -> OutboxError {
    match e.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => OutboxError::Locked {
            path: path.to_owned(),
            waited: busy,
        },
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => OutboxError::Corrupt {
            path: path.to_owned(),
            detail: e.to_string(),
        },
        _ => OutboxError::Database {
            path: path.to_owned(),
            source: Box::new(e),
        },
    }
}

/// Opens (creating when absent or empty) and checks an outbox database.
pub(crate) fn open(path: &Path, busy: Duration) -> Result<Connection, OutboxError> {
    if path.is_dir() {
        return Err(OutboxError::IsDirectory {
            path: path.to_owned(),
        });
    }
    check_header(path)?;
    let err = |e| db_error(path, busy, e);
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE,
    )
    .map_err(|e| match e.sqlite_error_code() {
        Some(ErrorCode::CannotOpen | ErrorCode::PermissionDenied | ErrorCode::ReadOnly) => {
            OutboxError::Open {
                path: path.to_owned(),
                source: Box::new(e),
            }
        }
        _ => err(e),
    })?;
    conn.busy_timeout(busy).map_err(err)?;
    let app: i32 = conn
        .pragma_query_value(None, "application_id", |r| r.get(0))
        .map_err(err)?;
    let version: i32 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(err)?;
    let tables: i64 = conn
        .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
        .map_err(err)?;
    let fresh = app == 0 && version == 0 && tables == 0;
    if !fresh {
        if app != APPLICATION_ID {
            return Err(OutboxError::ForeignDatabase {
                path: path.to_owned(),
                application_id: app,
            });
        }
        if version > SCHEMA_VERSION {
            return Err(OutboxError::SchemaTooNew {
                path: path.to_owned(),
                found: version,
                supported: SCHEMA_VERSION,
            });
        }
        if version < 1 {
            return Err(OutboxError::Corrupt {
                path: path.to_owned(),
                detail: format!("schema version {version}: never finished being created"),
            });
        }
        let check: String = conn
            .query_row("PRAGMA quick_check", [], |r| r.get(0))
            .map_err(err)?;
        if check != "ok" {
            return Err(OutboxError::Corrupt {
                path: path.to_owned(),
                detail: format!("integrity check: {check}"),
            });
        }
    }
    let mode: String = conn
        .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
        .map_err(err)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(OutboxError::Database {
            path: path.to_owned(),
            source: format!("the file system refused write-ahead logging (journal mode {mode})")
                .into(),
        });
    }
    // FULL: a commit is on disk (WAL fsynced) before enqueue returns the id.
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(err)?;
    conn.pragma_update(None, "foreign_keys", true)
        .map_err(err)?;
    if fresh {
        create(&conn).map_err(err)?;
    }
    Ok(conn)
}

/// Creates the schema, unless another process did since we looked.
fn create(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let created = (|| {
        let tables: i64 = conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))?;
        if tables == 0 {
            conn.execute_batch(&format!(
                "{SCHEMA} PRAGMA application_id = {APPLICATION_ID}; \
                 PRAGMA user_version = {SCHEMA_VERSION};"
            ))?;
        }
        conn.execute_batch("COMMIT")
    })();
    if created.is_err() {
        // Nothing of a half-made schema stays: the next open starts afresh.
        let _ = conn.execute_batch("ROLLBACK");
    }
    created
}

/// A file that exists and is not empty must begin with SQLite's header: SQLite
/// is never let near anything else (it would add `-wal` and `-shm` files
/// beside it).
fn check_header(path: &Path) -> Result<(), OutboxError> {
    let mut file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => {
            return Err(OutboxError::Open {
                path: path.to_owned(),
                source: Box::new(e),
            });
        }
    };
    let mut head = Vec::with_capacity(16);
    file.by_ref()
        .take(16)
        .read_to_end(&mut head)
        .map_err(|e| OutboxError::Open {
            path: path.to_owned(),
            source: Box::new(e),
        })?;
    if head.is_empty() || head == SQLITE_HEADER {
        return Ok(());
    }
    Err(OutboxError::Corrupt {
        path: path.to_owned(),
        detail: "not an SQLite database: the file does not begin with the SQLite header".into(),
    })
}
