//! The built `cellmail` binary: bad input ends with a clear message and a non-zero status
//! before any module is touched; with the mail stack (`cargo xtask test`), send and fetch
//! through virtual modules.

#![allow(clippy::unwrap_used, missing_docs)] // a failed unwrap is a failed test

use std::path::PathBuf;
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

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A port that does not exist: a command that got as far as opening it would say so
/// instead of the error under test.
const NO_PORT: &str = "/nonexistent/ttyUSB9";

fn send_args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec![
        "send",
        "--port",
        NO_PORT,
        "--from",
        "meter@example.com",
        "--to",
        "ops@example.com",
        "--subject",
        "alert",
        "--body",
        "pressure high",
    ];
    v.extend_from_slice(extra);
    v
}

fn assert_refused(o: &Output, code: i32, needle: &str) {
    assert_eq!(o.status.code(), Some(code), "stderr: {}", stderr(o));
    assert!(
        stderr(o).contains(needle),
        "stderr lacks {needle:?}: {}",
        stderr(o)
    );
    assert!(
        !stderr(o).contains(NO_PORT),
        "it went as far as the port: {}",
        stderr(o)
    );
}

#[test]
fn an_unknown_flag_is_named() {
    let o = cellmail(&send_args(&["--smtp", "smtp://h:25", "--urgent"]));
    assert_refused(&o, 2, "--urgent");
}

#[test]
fn a_url_without_a_host_is_refused_before_the_port() {
    let o = cellmail(&send_args(&["--smtp", "smtp://:25"]));
    assert_refused(&o, 2, "--smtp: the URL has no host");
}

#[test]
fn bad_urls_are_refused_with_what_was_wrong() {
    for (url, needle) in [
        ("smtp://host:99999", "bad port \"99999\""),
        ("imap://host", "unknown scheme \"imap\""),
        ("smtp://host?tls=maybe", "unknown tls value \"maybe\""),
    ] {
        let o = cellmail(&send_args(&["--smtp", url]));
        assert_refused(&o, 2, needle);
    }
}

#[test]
fn a_password_on_the_command_line_is_refused_and_not_echoed() {
    let o = cellmail(&send_args(&["--smtp", "smtp://alice:hunter2@host:587"]));
    assert_refused(&o, 2, "secrets never go on the command line");
    assert!(!stderr(&o).contains("hunter2"));
}

#[test]
fn a_login_without_a_password_source_is_refused() {
    let o = cellmail(&send_args(&["--smtp", "smtp://alice@host:587"]));
    assert_refused(&o, 2, "--password-env VAR or --password-file PATH");
    let o = cellmail(&send_args(&[
        "--smtp",
        "smtp://alice@host:587",
        "--password-env",
        "CELLMAIL_NO_SUCH_VARIABLE",
    ]));
    assert_refused(&o, 2, "CELLMAIL_NO_SUCH_VARIABLE: the variable is not set");
}

#[test]
fn a_missing_attachment_is_named_before_the_port() {
    let o = cellmail(&send_args(&[
        "--smtp",
        "smtp://h:25",
        "--attach",
        "/nonexistent/log.txt",
    ]));
    assert_refused(&o, 2, "/nonexistent/log.txt");
}

#[test]
fn text_the_charset_cannot_hold_is_refused() {
    let o = cellmail(&[
        "send",
        "--port",
        NO_PORT,
        "--smtp",
        "smtp://h:25",
        "--from",
        "m@example.com",
        "--to",
        "o@example.com",
        "--subject",
        "Zählerstand",
        "--body",
        "x",
        "--charset",
        "ascii",
    ]);
    assert_refused(&o, 2, "subject");
}

#[test]
fn a_missing_port_is_named() {
    let o = cellmail(&send_args(&["--smtp", "smtp://h:25"]));
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains(NO_PORT), "{}", stderr(&o));
}

#[test]
fn no_module_given_is_refused() {
    let o = cellmail(&["probe"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--port PATH") && stderr(&o).contains("--sim FAMILY"));
}

#[test]
fn fetch_delete_without_retrieve_is_refused() {
    let o = cellmail(&[
        "fetch",
        "--port",
        NO_PORT,
        "--pop3",
        "pop3://u@h:110",
        "--delete",
    ]);
    assert_refused(&o, 2, "--delete deletes the retrieved messages");
}

#[test]
fn help_lists_every_subcommand_and_flag() {
    let o = cellmail(&["--help"]);
    assert!(o.status.success());
    for word in [
        "probe",
        "send",
        "fetch",
        "--port",
        "--sim",
        "--apn",
        "--password-env",
    ] {
        assert!(stdout(&o).contains(word), "--help lacks {word}");
    }
    let o = cellmail(&["send", "--help"]);
    for flag in [
        "--smtp",
        "--from",
        "--from-name",
        "--to",
        "--cc",
        "--bcc",
        "--subject",
        "--body",
        "--body-file",
        "--attach",
        "--charset",
    ] {
        assert!(stdout(&o).contains(flag), "send --help lacks {flag}");
    }
    let o = cellmail(&["fetch", "--help"]);
    for flag in [
        "--pop3",
        "--list",
        "--retrieve",
        "--all",
        "--delete",
        "--out",
        "--json",
    ] {
        assert!(stdout(&o).contains(flag), "fetch --help lacks {flag}");
    }
}

/// `probe` says what TLS the probed model has: TLS 1.0 only on a SIM800 (after asking
/// `AT+EMAILSSL=?`), none on a SIM7000.
#[test]
fn probe_says_which_tls_the_model_has() {
    let o = cellmail(&["--sim", "sim800", "probe"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("SIM800L"), "{out}");
    assert!(
        out.contains("smtp:         plain, implicit TLS, STARTTLS"),
        "{out}"
    );
    assert!(
        out.contains("pop3:         plain, implicit TLS, STARTTLS"),
        "{out}"
    );
    assert!(out.contains("tls:          TLS 1.0 only"), "{out}");
    let o = cellmail(&["--sim", "sim7000", "probe"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("smtp:         plain\n"), "{out}");
    assert!(out.contains("tls:          none\n"), "{out}");
}

fn var(key: &str) -> String {
    std::env::var(key).unwrap_or_else(|_| {
        panic!("{key} is not set: run the suite with `cargo xtask test` (it starts Postfix and Dovecot)")
    })
}

/// Send through each virtual SIMCom module with an attachment, then read it back with
/// `fetch --list --json` and `--retrieve --out`.
#[test]
fn send_then_fetch_through_the_virtual_modules() {
    let dir = std::env::temp_dir().join(format!("cellmail-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // Binary: text attachments travel in canonical form (CRLF), which would not compare.
    let log = dir.join("dump.bin");
    let dump: Vec<u8> = (0..=255u8).cycle().take(3000).collect();
    std::fs::write(&log, &dump).unwrap();
    let alice = var("CELLMAIL_USER_ALICE");
    let bob = var("CELLMAIL_USER_BOB");
    let pop3 = format!(
        "pop3://{}@{}:{}",
        bob.replace('@', "%40"),
        var("CELLMAIL_SMTP_HOST"),
        var("CELLMAIL_POP3_PORT")
    );
    for family in ["sim7000", "quectel-gsm"] {
        let tag = format!(
            "cli-{family}-{}",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        );
        let o = cellmail(&[
            "send",
            "--sim",
            family,
            "--from",
            &alice,
            "--to",
            &bob,
            "--subject",
            &tag,
            "--body",
            "Verbrauch: 42,7 m³",
            "--attach",
            log.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{family} send: {}", stderr(&o));
        assert!(stdout(&o).contains(&format!("sent through {family}")));

        // Postfix hands the mail to Dovecot on its own time: list until it is there
        // (a bounded wait, so a mail that never arrives still fails the test).
        let mut tries = 0;
        let entry = loop {
            let o = cellmail(&[
                "fetch",
                "--sim",
                "sim7000",
                "--pop3",
                &pop3,
                "--password-env",
                "CELLMAIL_PASSWORD_BOB",
                "--list",
                "--json",
            ]);
            assert!(o.status.success(), "fetch --list: {}", stderr(&o));
            let listing: Vec<serde_json::Value> = stdout(&o)
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect();
            if let Some(entry) = listing.into_iter().find(|e| e["subject"] == tag.as_str()) {
                break entry;
            }
            tries += 1;
            assert!(
                tries < 20,
                "{tag} not listed after {tries} tries: {}",
                stdout(&o)
            );
            std::thread::sleep(std::time::Duration::from_millis(500));
        };
        assert_eq!(entry["from"], alice.as_str());
        assert!(entry["uid"].is_string() && entry["size"].as_u64().unwrap() > 0);
        let number = entry["number"].as_u64().unwrap().to_string();

        let out: PathBuf = dir.join(family);
        let o = cellmail(&[
            "fetch",
            "--sim",
            "sim7000",
            "--pop3",
            &pop3,
            "--password-env",
            "CELLMAIL_PASSWORD_BOB",
            "--retrieve",
            &number,
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "fetch --retrieve: {}", stderr(&o));
        let files: Vec<_> = std::fs::read_dir(&out).unwrap().flatten().collect();
        assert_eq!(files.len(), 1);
        let eml = std::fs::read(files[0].path()).unwrap();
        let message = cellmail::Message::parse(eml).unwrap();
        assert_eq!(message.subject().as_deref(), Some(tag.as_str()));
        assert_eq!(message.attachments()[0].bytes, dump);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `--sim sim800`: a mail over SMTPS (implicit TLS) arrives and is listed over POP3S; the
/// virtual SIM800L speaks rustls' TLS to the local stack and, like cellmail on a real SIM800,
/// checks no certificate (no default CA with sim800).
#[test]
fn sim800_sends_over_smtps_and_lists_over_pop3s() {
    let alice = var("CELLMAIL_USER_ALICE");
    let bob = var("CELLMAIL_USER_BOB");
    let host = var("CELLMAIL_SMTP_HOST");
    let smtps = format!(
        "smtps://{}@{host}:{}",
        alice.replace('@', "%40"),
        var("CELLMAIL_SMTPS_PORT")
    );
    let pop3s = format!(
        "pop3s://{}@{host}:{}",
        bob.replace('@', "%40"),
        var("CELLMAIL_POP3S_PORT")
    );
    let tag = format!(
        "cli-sim800-{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    let o = cellmail(&[
        "send",
        "--sim",
        "sim800",
        "--smtp",
        &smtps,
        "--password-env",
        "CELLMAIL_PASSWORD_ALICE",
        "--from",
        &alice,
        "--to",
        &bob,
        "--subject",
        &tag,
        "--body",
        "over TLS",
    ]);
    assert!(o.status.success(), "sim800 send: {}", stderr(&o));
    let mut tries = 0;
    loop {
        let o = cellmail(&[
            "fetch",
            "--sim",
            "sim800",
            "--pop3",
            &pop3s,
            "--password-env",
            "CELLMAIL_PASSWORD_BOB",
            "--list",
            "--json",
        ]);
        assert!(o.status.success(), "sim800 fetch --list: {}", stderr(&o));
        if stdout(&o).contains(&tag) {
            break;
        }
        tries += 1;
        assert!(tries < 20, "{tag} not listed after {tries} tries");
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
}
