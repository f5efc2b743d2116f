//! `cargo xtask fuzz [--time <seconds>] [--runs <n>] [--target <name>]`: runs each
//! fuzz target with cargo-fuzz on the stable toolchain (`-s none`: no sanitizer,
//! which needs nightly), seeded from `fuzz/seeds/<target>`. `--time` bounds each
//! target by seconds (libFuzzer's `-max_total_time`, 60 by default), `--runs` by
//! executions (`-runs`); given `--runs` alone, only the executions bound it.
//! Installs cargo-fuzz when missing.

use std::process::Command;

use crate::{root, sh};

const TARGETS: &[&str] = &[
    "decoder",
    "encoder",
    "client",
    "transcript",
    "parsers",
    "mailer",
];

/// libFuzzer's bounds on one target's run: it stops at the first one reached.
fn bounds(seconds: Option<u64>, runs: Option<u64>) -> Vec<String> {
    let time = seconds.map(|s| format!("-max_total_time={s}"));
    let runs = runs.map(|r| format!("-runs={r}"));
    time.into_iter().chain(runs).collect()
}

fn run_fuzz(target: &str, bounds: &[String]) -> Result<(), String> {
    let corpus = root().join("fuzz/corpus").join(target);
    std::fs::create_dir_all(&corpus)
        .map_err(|e| format!("cannot create {}: {e}", corpus.display()))?;
    println!("== fuzz {target} ({})", bounds.join(" "));
    sh(Command::new("cargo")
        .current_dir(root().join("fuzz"))
        .args(["fuzz", "run", "-s", "none", "--features", "fuzzer", target])
        .arg(&corpus)
        .arg(root().join("fuzz/seeds").join(target))
        .arg("--")
        .args(bounds))
}

fn number(value: Option<&String>, what: &str) -> Result<u64, String> {
    value
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| what.to_owned())
}

pub fn run(args: &[String]) -> Result<(), String> {
    let mut seconds = None;
    let mut runs = None;
    let mut only: Option<String> = None;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--time" => seconds = Some(number(it.next(), "--time takes a number of seconds")?),
            "--runs" => runs = Some(number(it.next(), "--runs takes a number of executions")?),
            "--target" => only = Some(it.next().ok_or("--target takes a name")?.clone()),
            other => return Err(format!("unknown fuzz option {other}")),
        }
    }
    // Without either bound, 60 s per target.
    let bounds = bounds(seconds.or(runs.is_none().then_some(60)), runs);
    let installed = Command::new("cargo")
        .args(["fuzz", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !installed {
        sh(Command::new("cargo").args(["install", "cargo-fuzz", "--locked"]))?;
    }
    for target in TARGETS
        .iter()
        .filter(|t| only.as_deref().is_none_or(|o| o == **t))
    {
        run_fuzz(target, &bounds)?;
    }
    Ok(())
}
