//! Every golden transcript under `tests/transcripts/` (the manuals' examples
//! and the hardware-in-loop recordings) parses, is written back by
//! `Transcript::to_text` byte for byte, and resolves every payload it names.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::path::{Path, PathBuf};

use cellmail_replay::Transcript;

/// Fewer files than this means the walk went wrong, not that files are gone.
const AT_LEAST: usize = 30;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/transcripts")
}

/// The `.at` files under `dir`, recursively, sorted.
fn transcripts(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(dir) = todo.pop() {
        let entries = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                todo.push(path);
            } else if path.extension().is_some_and(|e| e == "at") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn every_golden_transcript_round_trips_unchanged() {
    let files = transcripts(&root());
    assert!(
        files.len() >= AT_LEAST,
        "only {} .at files under {}",
        files.len(),
        root().display()
    );
    let mut failures = Vec::new();
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap();
        let t = match Transcript::load(path) {
            Ok(t) => t,
            Err(e) => {
                failures.push(format!("{}: {e}", path.display()));
                continue;
            }
        };
        let written = t.to_text();
        if written != text {
            let line = written
                .lines()
                .zip(text.lines())
                .position(|(a, b)| a != b)
                .map_or_else(
                    || "the line endings (CRLF, or no newline at the end)".to_owned(),
                    |i| format!("line {}", i + 1),
                );
            failures.push(format!(
                "{}: written back differently at {line}",
                path.display()
            ));
            continue;
        }
        // The writer's output is itself a fixed point.
        assert_eq!(Transcript::parse(&written).unwrap().to_text(), written);
        // Every `raw`, `hex` and `file` payload resolves (files exist, are long enough).
        for line in t.lines() {
            if let Some(Err(e)) = t.line_bytes(line) {
                failures.push(format!("{}: {e}", path.display()));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_family_has_golden_transcripts() {
    for family in ["quectel-gsm", "sim5360", "sim7000"] {
        for dir in [root().join(family), root().join("hil").join(family)] {
            assert!(
                !transcripts(&dir).is_empty(),
                "no transcripts in {}",
                dir.display()
            );
        }
    }
}
