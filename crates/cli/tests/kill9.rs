//! kill -9: `cellmail outbox run` as a child process, sending 30 queued mails through a virtual
//! SIM7000 (its answers throttled to 9600 baud, so a send takes a while) to the real mail stack, killed with
//! SIGKILL at seeded random moments and restarted each time. At the end the mailbox is read
//! over POP3: every mail delivered, duplicates only among mails the outbox had "in doubt" when
//! it was killed, and `status` reports exactly those as possible duplicates.
//!
//! Needs the mail stack: `cargo xtask test` provides it. The seed is printed; set
//! `CELLMAIL_KILL9_SEED` to replay a run.

#![allow(clippy::unwrap_used, missing_docs)] // a failed unwrap is a failed test

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use cellmail_outbox::{MailId, MailState, Outbox};

const MAILS: usize = 30;
const KILLS: usize = 12;

fn var(key: &str) -> String {
    std::env::var(key).unwrap_or_else(|_| {
        panic!("{key} is not set: run the suite with `cargo xtask test` (it starts Postfix and Dovecot)")
    })
}

/// xorshift64*: a seeded sequence, no dependency.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }
}

fn runner(db: &Path, log: &Path) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap();
    Command::new(env!("CARGO_BIN_EXE_cellmail"))
        .args(["outbox", "--db", db.to_str().unwrap(), "run"])
        // 9600 baud: the module's answers come at ~960 B/s (the virtual module throttles
        // what it sends), so a mail's ~20 exchanges take a few hundred ms: moments to hit.
        .args(["--sim", "sim7000", "--baud", "9600", "--until-empty"])
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap()
}

/// Where the outbox stood when a runner died.
#[derive(Debug, Default)]
struct Kills {
    /// A mail had passed the point of no return (`in_doubt`).
    in_doubt: usize,
    /// A mail was under way before it (`sending`).
    sending: usize,
    /// No mail under way (starting up, between mails).
    between: usize,
}

/// Waits up to `limit` for a mail in one of `states`.
fn wait_for(outbox: &Outbox, states: &[MailState], limit: Duration) -> bool {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        for s in states {
            if !outbox.ids_in(*s).unwrap().is_empty() {
                return true;
            }
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    false
}

/// The subjects in `user`'s mailbox, read over POP3 (Dovecot on loopback).
fn pop3_subjects(host: &str, port: &str, user: &str, password: &str) -> Vec<String> {
    let stream = TcpStream::connect(format!("{host}:{port}")).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    let mut line = String::new();
    let ok = |reader: &mut BufReader<TcpStream>, line: &mut String| {
        line.clear();
        reader.read_line(line).unwrap();
        assert!(line.starts_with("+OK"), "POP3: {line}");
    };
    ok(&mut reader, &mut line);
    for cmd in [format!("USER {user}"), format!("PASS {password}")] {
        writer.write_all(format!("{cmd}\r\n").as_bytes()).unwrap();
        ok(&mut reader, &mut line);
    }
    writer.write_all(b"STAT\r\n").unwrap();
    ok(&mut reader, &mut line);
    let count: u32 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    let mut subjects = Vec::new();
    for n in 1..=count {
        writer
            .write_all(format!("TOP {n} 0\r\n").as_bytes())
            .unwrap();
        ok(&mut reader, &mut line);
        loop {
            line.clear();
            reader.read_line(&mut line).unwrap();
            let text = line.trim_end_matches(['\r', '\n']);
            if text == "." {
                break;
            }
            if let Some(s) = text.strip_prefix("Subject: ") {
                subjects.push(s.to_owned());
            }
        }
    }
    writer.write_all(b"QUIT\r\n").unwrap();
    subjects
}

#[test]
fn outbox_run_killed_with_sigkill_loses_nothing_and_names_every_possible_duplicate() {
    let started = Instant::now();
    let seed = std::env::var("CELLMAIL_KILL9_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5EED_0FC0_FFEE_u64);
    eprintln!("kill9: seed {seed} (CELLMAIL_KILL9_SEED replays it)");
    let mut rng = Rng(seed | 1);
    let (alice, carol) = (var("CELLMAIL_USER_ALICE"), var("CELLMAIL_USER_CAROL"));
    let run = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let dir = std::env::temp_dir().join(format!("cellmail-kill9-{run}"));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("outbox.db");
    let log = dir.join("runner.log");

    // 30 mails, each with its own subject; the ids enqueue printed.
    let body = "Pressure above 6 bar since 03:12, valve 7 closed, pump 2 running.\r\n".repeat(22);
    let mut tag_of: BTreeMap<MailId, String> = BTreeMap::new();
    for i in 0..MAILS {
        let tag = format!("kill9-{run}-{i:02}");
        let o = Command::new(env!("CARGO_BIN_EXE_cellmail"))
            .args(["outbox", "--db", db.to_str().unwrap(), "enqueue"])
            .args([
                "--from",
                &alice,
                "--to",
                &carol,
                "--subject",
                &tag,
                "--body",
                &body,
            ])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let id: MailId = String::from_utf8_lossy(&o.stdout).trim().parse().unwrap();
        tag_of.insert(id, tag);
    }
    let outbox = Outbox::open(&db).unwrap();

    let mut kills = Kills::default();
    let mut in_doubt_at_a_crash: BTreeSet<MailId> = BTreeSet::new();
    for k in 0..KILLS {
        let mut child = runner(&db, &log);
        // Three kinds of moment, in turn: just after a mail passed the point of no return,
        // while one is under way, and anywhere at all (starting up, between mails).
        match k % 3 {
            0 => {
                wait_for(&outbox, &[MailState::InDoubt], Duration::from_secs(10));
                std::thread::sleep(Duration::from_millis(rng.below(150)));
            }
            1 => {
                wait_for(
                    &outbox,
                    &[MailState::Sending, MailState::InDoubt],
                    Duration::from_secs(10),
                );
                std::thread::sleep(Duration::from_millis(rng.below(30)));
            }
            _ => std::thread::sleep(Duration::from_millis(20 + rng.below(600))),
        }
        if child.try_wait().unwrap().is_some() {
            panic!("the runner ended on its own before kill {k}: too few mails for {KILLS} kills");
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        // What the dead runner left is what the next one recovers from.
        let in_doubt = outbox.ids_in(MailState::InDoubt).unwrap();
        let sending = outbox.ids_in(MailState::Sending).unwrap();
        match (in_doubt.is_empty(), sending.is_empty()) {
            (false, _) => kills.in_doubt += 1,
            (true, false) => kills.sending += 1,
            (true, true) => kills.between += 1,
        }
        in_doubt_at_a_crash.extend(in_doubt);
    }
    eprintln!("kill9: {KILLS} kills: {kills:?}; in doubt at a crash: {in_doubt_at_a_crash:?}");
    assert!(
        kills.in_doubt >= 3,
        "too few kills after the point of no return: {kills:?}"
    );

    // The last runner is left to finish.
    let mut last = runner(&db, &log);
    let end = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = last.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < end,
            "the last runner did not finish in 60 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        status.success(),
        "last runner: {status}; log:\n{}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );

    // `status` (the binary's, as an operator reads it).
    let o = Command::new(env!("CARGO_BIN_EXE_cellmail"))
        .args(["outbox", "--db", db.to_str().unwrap(), "status", "--json"])
        .output()
        .unwrap();
    assert!(o.status.success());
    let status: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(status["counts"]["sent"], MAILS as u64, "{status}");
    for state in ["queued", "sending", "in_doubt", "failed", "unknown"] {
        assert_eq!(status["counts"][state], 0, "{state}: {status}");
    }
    let reported: BTreeSet<MailId> = status["possible_duplicates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| MailId::new(v.as_i64().unwrap()))
        .collect();
    assert_eq!(
        reported, in_doubt_at_a_crash,
        "status names exactly the mails in doubt at a crash"
    );

    // The mailbox, over POP3: every mail there, duplicates only among the reported ones.
    let (host, port) = (var("CELLMAIL_SMTP_HOST"), var("CELLMAIL_POP3_PORT"));
    let password = var("CELLMAIL_PASSWORD_CAROL");
    let prefix = format!("kill9-{run}-");
    let mut copies: BTreeMap<String, usize> = BTreeMap::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        copies.clear();
        for s in pop3_subjects(&host, &port, &carol, &password) {
            if s.starts_with(&prefix) {
                *copies.entry(s).or_default() += 1;
            }
        }
        if copies.len() == MAILS || Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let mut duplicated = Vec::new();
    for (id, tag) in &tag_of {
        let n = copies.get(tag).copied().unwrap_or(0);
        assert!(n >= 1, "mail {id} ({tag}) was lost");
        if n > 1 {
            assert!(
                reported.contains(id),
                "mail {id} arrived {n} times but was never in doubt"
            );
            duplicated.push(*id);
        }
    }
    eprintln!(
        "kill9: {MAILS} delivered; {} arrived more than once ({duplicated:?}) of {} possible duplicates; {:.1} s",
        duplicated.len(),
        reported.len(),
        started.elapsed().as_secs_f64()
    );
    let _ = std::fs::remove_dir_all(&dir);
}
