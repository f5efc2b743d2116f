//! `cellmail outbox` with bad input: a database path that is a directory, a corrupt or locked
//! database, a runner already active, a missing attachment. Each ends with a clear message and
//! a non-zero status, and the mails queued before are all still there, untouched.

#![allow(clippy::unwrap_used, missing_docs)] // a failed unwrap is a failed test

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn cellmail(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cellmail"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cellmail-outbox-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn enqueue(db: &Path, subject: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "outbox",
        "--db",
        db.to_str().unwrap(),
        "enqueue",
        "--from",
        "meter@example.com",
        "--to",
        "ops@example.com",
        "--subject",
        subject,
        "--body",
        "pressure high",
    ];
    args.extend_from_slice(extra);
    cellmail(&args)
}

fn queued(db: &Path) -> u64 {
    let o = cellmail(&["outbox", "--db", db.to_str().unwrap(), "status", "--json"]);
    assert!(o.status.success(), "status: {}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    v["counts"]["queued"].as_u64().unwrap()
}

/// Three mails queued, their ids printed in order.
fn three_queued(dir: &Path) -> PathBuf {
    let db = dir.join("outbox.db");
    for (i, subject) in ["one", "two", "three"].iter().enumerate() {
        let o = enqueue(&db, subject, &[]);
        assert!(o.status.success(), "{}", stderr(&o));
        assert_eq!(
            String::from_utf8_lossy(&o.stdout).trim(),
            (i + 1).to_string()
        );
    }
    assert_eq!(queued(&db), 3);
    db
}

#[test]
fn a_directory_as_database_is_refused() {
    let dir = scratch("dir");
    let o = enqueue(&dir, "x", &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("is a directory"), "{}", stderr(&o));
    let o = cellmail(&["outbox", "--db", dir.to_str().unwrap(), "status"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn a_missing_attachment_queues_nothing_and_keeps_the_rest() {
    let dir = scratch("attach");
    let db = three_queued(&dir);
    let o = enqueue(&db, "four", &["--attach", "/nonexistent/log.txt"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("/nonexistent/log.txt"),
        "{}",
        stderr(&o)
    );
    assert!(
        o.stdout.is_empty(),
        "an id was printed for a mail not queued"
    );
    assert_eq!(queued(&db), 3);
}

#[test]
fn an_attachment_is_copied_in_at_enqueue() {
    let dir = scratch("copy");
    let db = dir.join("outbox.db");
    let log = dir.join("log.txt");
    std::fs::write(&log, "boot ok\n").unwrap();
    let o = enqueue(&db, "with log", &["--attach", log.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    std::fs::remove_file(&log).unwrap();
    let outbox = cellmail_outbox::Outbox::open(&db).unwrap();
    let id: cellmail_outbox::MailId = String::from_utf8_lossy(&o.stdout).trim().parse().unwrap();
    let email = outbox.email(id).unwrap();
    let [attachment] = email.attachments() else {
        panic!("one attachment expected");
    };
    assert_eq!(attachment.name(), "log.txt");
    assert!(matches!(
        attachment.source(),
        cellmail::AttachmentSource::Memory(bytes) if &bytes[..] == b"boot ok\n"
    ));
}

#[test]
fn a_corrupt_database_is_refused_and_left_untouched() {
    let dir = scratch("corrupt");
    let db = dir.join("outbox.db");
    let garbage = b"this is not an SQLite database, and must stay exactly so".repeat(100);
    std::fs::write(&db, &garbage).unwrap();
    for o in [
        enqueue(&db, "x", &[]),
        cellmail(&["outbox", "--db", db.to_str().unwrap(), "status"]),
        cellmail(&[
            "outbox",
            "--db",
            db.to_str().unwrap(),
            "run",
            "--port",
            "/nonexistent/ttyUSB9",
            "--smtp",
            "smtp://127.0.0.1:1",
        ]),
    ] {
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(
            stderr(&o).contains("not a usable outbox database"),
            "{}",
            stderr(&o)
        );
        // Refused before the module: the port was never opened.
        assert!(!stderr(&o).contains("ttyUSB9"), "{}", stderr(&o));
    }
    assert_eq!(std::fs::read(&db).unwrap(), garbage);
}

#[test]
fn a_locked_database_is_reported_and_the_queue_kept() {
    let dir = scratch("locked");
    let db = three_queued(&dir);
    let holder = rusqlite::Connection::open(&db).unwrap();
    holder.execute_batch("BEGIN EXCLUSIVE;").unwrap();
    let o = enqueue(&db, "four", &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("locked by another process"),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("tried again later"), "{}", stderr(&o));
    holder.execute_batch("ROLLBACK;").unwrap();
    drop(holder);
    assert_eq!(queued(&db), 3);
}

#[test]
fn a_second_runner_is_refused_and_the_queue_kept() {
    let dir = scratch("runner");
    let db = three_queued(&dir);
    // What a running `cellmail outbox run` holds: the runner lock beside the database.
    let mut lock = db.as_os_str().to_owned();
    lock.push("-runner.lock");
    let holder = rusqlite::Connection::open(PathBuf::from(lock)).unwrap();
    holder
        .pragma_update(None, "locking_mode", "EXCLUSIVE")
        .unwrap();
    holder
        .execute_batch("BEGIN EXCLUSIVE; CREATE TABLE IF NOT EXISTS runner (pid INTEGER); COMMIT;")
        .unwrap();
    let o = cellmail(&[
        "outbox",
        "--db",
        db.to_str().unwrap(),
        "run",
        "--sim",
        "sim7000",
        "--smtp",
        "smtp://127.0.0.1:1",
        "--until-empty",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("another runner already sends"),
        "{}",
        stderr(&o)
    );
    drop(holder);
    assert_eq!(queued(&db), 3);
}

#[test]
fn a_bad_policy_or_unknown_flag_is_named() {
    let dir = scratch("flags");
    let db = three_queued(&dir);
    let o = cellmail(&[
        "outbox",
        "--db",
        db.to_str().unwrap(),
        "run",
        "--policy",
        "exactly-once",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("exactly-once"), "{}", stderr(&o));
    let o = cellmail(&["outbox", "--db", db.to_str().unwrap(), "status", "--yaml"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--yaml"), "{}", stderr(&o));
    assert_eq!(queued(&db), 3);
}
