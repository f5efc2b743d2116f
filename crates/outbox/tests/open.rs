//! Opening: bad paths, files that are not ours, locks. Nothing queued is ever
//! overwritten or lost.

#![allow(clippy::unwrap_used, missing_docs)] // a failed unwrap is a failed test

mod common;

use std::time::Duration;

use cellmail_outbox::{OpenOptions, Outbox, OutboxError};
use common::{dir, mail};

#[test]
fn a_directory_is_refused_by_name() {
    let d = dir("isdir");
    let err = Outbox::open(&d).unwrap_err();
    assert!(
        matches!(&err, OutboxError::IsDirectory { path } if path == &d),
        "{err}"
    );
    assert!(err.to_string().contains("is a directory"), "{err}");
}

#[test]
fn a_missing_folder_is_an_open_error() {
    let d = dir("nofolder");
    let err = Outbox::open(d.join("no/such/folder/outbox.db")).unwrap_err();
    assert!(matches!(err, OutboxError::Open { .. }), "{err}");
}

#[test]
fn a_file_that_is_not_sqlite_is_refused_and_left_untouched() {
    let d = dir("notsqlite");
    let path = d.join("outbox.db");
    let text = b"queue: alarm 1, alarm 2 (someone's own notes)\n".repeat(50);
    std::fs::write(&path, &text).unwrap();
    let err = Outbox::open(&path).unwrap_err();
    assert!(matches!(err, OutboxError::Corrupt { .. }), "{err}");
    assert!(err.to_string().contains("left untouched"), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), text);
    let names: Vec<_> = std::fs::read_dir(&d)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "no -wal/-shm beside it: {names:?}");
}

#[test]
fn another_applications_database_is_refused() {
    let d = dir("foreign");
    let path = d.join("app.db");
    let c = rusqlite::Connection::open(&path).unwrap();
    c.execute_batch(
        "CREATE TABLE readings (t INTEGER, v REAL); INSERT INTO readings VALUES (1, 42.7);",
    )
    .unwrap();
    drop(c);
    let before = std::fs::read(&path).unwrap();
    let err = Outbox::open(&path).unwrap_err();
    assert!(
        matches!(
            err,
            OutboxError::ForeignDatabase {
                application_id: 0,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn a_newer_schema_is_refused_and_the_mail_in_it_kept() {
    let d = dir("newer");
    let path = d.join("outbox.db");
    let id = Outbox::open(&path).unwrap().enqueue(&mail("kept")).unwrap();
    let c = rusqlite::Connection::open(&path).unwrap();
    c.pragma_update(None, "user_version", 7).unwrap();
    drop(c);
    let err = Outbox::open(&path).unwrap_err();
    assert!(
        matches!(
            err,
            OutboxError::SchemaTooNew {
                found: 7,
                supported: 1,
                ..
            }
        ),
        "{err}"
    );
    let c = rusqlite::Connection::open(&path).unwrap();
    c.pragma_update(None, "user_version", 1).unwrap();
    drop(c);
    assert_eq!(
        Outbox::open(&path).unwrap().email(id).unwrap().subject(),
        "kept"
    );
}

#[test]
fn a_damaged_database_is_refused() {
    let d = dir("damaged");
    let path = d.join("outbox.db");
    {
        let outbox = Outbox::open(&path).unwrap();
        for i in 0..200 {
            outbox.enqueue(&mail(&format!("alarm {i}"))).unwrap();
        }
    }
    // The last connection closed: the log is folded into the file. Scribble over
    // a page in the middle, keeping the header.
    let mut bytes = std::fs::read(&path).unwrap();
    assert!(bytes.len() > 8 * 4096, "{} bytes", bytes.len());
    for b in &mut bytes[3 * 4096..5 * 4096] {
        *b = 0x5A;
    }
    std::fs::write(&path, &bytes).unwrap();
    let err = Outbox::open(&path).unwrap_err();
    assert!(matches!(err, OutboxError::Corrupt { .. }), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), bytes, "left as it was");
}

#[test]
fn a_database_locked_by_another_process_is_a_clear_error_after_the_timeout() {
    let d = dir("locked");
    let path = d.join("outbox.db");
    let outbox = Outbox::open(&path).unwrap();
    let id = outbox.enqueue(&mail("before the lock")).unwrap();
    drop(outbox);
    let holder = rusqlite::Connection::open(&path).unwrap();
    holder
        .pragma_update(None, "locking_mode", "EXCLUSIVE")
        .unwrap();
    holder
        .execute_batch("BEGIN EXCLUSIVE; UPDATE mails SET subject = subject; COMMIT;")
        .unwrap();
    let options = OpenOptions {
        busy_timeout: Duration::from_millis(200),
    };
    let started = std::time::Instant::now();
    let err = Outbox::open_with(&path, options).unwrap_err();
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert!(matches!(err, OutboxError::Locked { .. }), "{err}");
    assert!(
        err.to_string().contains("locked by another process"),
        "{err}"
    );
    drop(holder);
    let outbox = Outbox::open(&path).unwrap();
    assert_eq!(outbox.email(id).unwrap().subject(), "before the lock");
}

#[test]
fn enqueue_while_another_writer_holds_the_lock_fails_clearly_and_loses_nothing() {
    let d = dir("busywriter");
    let path = d.join("outbox.db");
    let options = OpenOptions {
        busy_timeout: Duration::from_millis(100),
    };
    let outbox = Outbox::open_with(&path, options).unwrap();
    let first = outbox.enqueue(&mail("one")).unwrap();
    let other = rusqlite::Connection::open(&path).unwrap();
    other.execute_batch("BEGIN IMMEDIATE").unwrap();
    let err = outbox.enqueue(&mail("two")).unwrap_err();
    assert!(matches!(err, OutboxError::Locked { .. }), "{err}");
    // Readers are not blocked in WAL mode: status still works.
    assert_eq!(outbox.status().unwrap().counts.queued, 1);
    other.execute_batch("ROLLBACK").unwrap();
    let second = outbox.enqueue(&mail("two")).unwrap();
    assert!(second > first);
    assert_eq!(outbox.status().unwrap().counts.queued, 2);
}

#[test]
fn an_empty_file_becomes_an_outbox_and_reopens() {
    let d = dir("empty");
    let path = d.join("outbox.db");
    std::fs::write(&path, b"").unwrap();
    let id = Outbox::open(&path).unwrap().enqueue(&mail("x")).unwrap();
    let again = Outbox::open(&path).unwrap();
    assert_eq!(again.mail(id).unwrap().subject, "x");
    let c = rusqlite::Connection::open(&path).unwrap();
    let mode: String = c
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}
