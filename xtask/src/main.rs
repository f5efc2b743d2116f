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

/// The workspace root of the checkout xtask runs in: the nearest directory
/// at or above the current one holding `xtask/Cargo.toml`, so one xtask
/// binary (a shared target directory, a copied binary) never drives another
/// checkout's mail stack. Outside any checkout: the one it was built from.
pub fn root() -> PathBuf {
    let here = std::env::current_dir().ok();
    let found = here.as_deref().and_then(checkout_of);
    found.unwrap_or_else(|| {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."))
    })
}

/// The nearest directory at or above `dir` that is a cellmail checkout.
fn checkout_of(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .find(|d| d.join("xtask/Cargo.toml").is_file() && d.join("Cargo.toml").is_file())
        .map(Path::to_path_buf)
}

/// `--flag [value]` arguments, walked one flag at a time; a flag that takes
/// a value asks for it, and a missing one is an error naming the flag.
pub struct Flags<'a> {
    it: std::slice::Iter<'a, String>,
    help: &'a str,
}

impl<'a> Flags<'a> {
    /// The flags of `args`; `help` is shown with every error.
    pub fn new(args: &'a [String], help: &'a str) -> Self {
        Self {
            it: args.iter(),
            help,
        }
    }

    /// The next flag.
    pub fn next_flag(&mut self) -> Option<&'a str> {
        self.it.next().map(String::as_str)
    }

    /// The value of `flag`: the next argument.
    pub fn value(&mut self, flag: &str) -> Result<String, String> {
        self.it
            .next()
            .cloned()
            .ok_or_else(|| format!("{flag} needs a value\n{}", self.help))
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_checkout_is_found_from_inside_it() {
        let base = std::env::temp_dir().join(format!("xtask-root-{}", std::process::id()));
        let deep = base.join("crates/at/src");
        std::fs::create_dir_all(&deep).expect("dirs");
        std::fs::create_dir_all(base.join("xtask")).expect("dirs");
        std::fs::write(base.join("Cargo.toml"), "").expect("file");
        std::fs::write(base.join("xtask/Cargo.toml"), "").expect("file");
        assert_eq!(checkout_of(&deep).as_deref(), Some(base.as_path()));
        assert_eq!(checkout_of(&base).as_deref(), Some(base.as_path()));
        assert_eq!(checkout_of(Path::new("/")), None);
        std::fs::remove_dir_all(&base).expect("clean up");
    }
}
