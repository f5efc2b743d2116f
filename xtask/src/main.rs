//! `cargo xtask`: project automation, in Rust so it runs wherever cargo does
//! (the rust-analyzer xtask pattern).
//!
//! - `cargo xtask test`: the README's test command.
//! - `cargo xtask fuzz [--time <s>] [--runs <n>]`: runs every fuzz target.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

mod fuzz;
mod hil;
mod mailstack;
mod outage;
mod soak;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test(&args[1..]),
        Some("fuzz") => fuzz::run(&args[1..]),
        Some("mailstack") => mailstack::run(&args[1..]),
        Some("hil") => hil::run(&args[1..]),
        Some("demo") => hil::demo(&args[1..]),
        Some("soak") => soak::run(&args[1..]),
        _ => Err("usage: cargo xtask <demo|test|hil|mailstack|fuzz|soak> [options]".to_owned()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root (xtask lives one level below it).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Runs a command in the workspace root, failing with its name when it fails.
pub fn sh(cmd: &mut Command) -> Result<(), String> {
    let shown = format!("{cmd:?}");
    let status = cmd
        .current_dir(root())
        .status()
        .map_err(|e| format!("cannot run {shown}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{shown} failed with {status}"))
    }
}

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

/// The README's test command: starts the mail stack, runs the workspace's
/// tests and doctests with its endpoints in the environment (the end-to-end
/// suite needs them), replays the fuzz seed corpora, stops the stack.
fn test(extra: &[String]) -> Result<(), String> {
    let endpoints = mailstack::ensure_up()?;
    let result = sh(cargo()
        .args(["test", "--workspace"])
        .args(extra)
        .envs(endpoints.vars.iter().map(|(k, v)| (k, v))))
    .and_then(|()| sh(cargo().args(["test", "--manifest-path", "fuzz/Cargo.toml"])));
    let stopped = mailstack::down();
    result.and(stopped)
}
