//! `cargo xtask fuzz [--time <seconds>] [--target <name>]`: runs each fuzz target
//! with cargo-fuzz on the stable toolchain (`-s none`: no sanitizer, which needs
//! nightly), seeded from `fuzz/seeds/<target>`. Installs cargo-fuzz when missing.

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

fn run_fuzz(target: &str, seconds: u32) -> Result<(), String> {
    let corpus = root().join("fuzz/corpus").join(target);
    std::fs::create_dir_all(&corpus)
        .map_err(|e| format!("cannot create {}: {e}", corpus.display()))?;
    println!("== fuzz {target} for {seconds} s");
    sh(Command::new("cargo")
        .current_dir(root().join("fuzz"))
        .args(["fuzz", "run", "-s", "none", "--features", "fuzzer", target])
        .arg(&corpus)
        .arg(root().join("fuzz/seeds").join(target))
        .arg("--")
        .arg(format!("-max_total_time={seconds}")))
}

pub fn run(args: &[String]) -> Result<(), String> {
    let mut seconds = 60u32;
    let mut only: Option<String> = None;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--time" => {
                seconds = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .ok_or("--time takes a number of seconds")?;
            }
            "--target" => only = Some(it.next().ok_or("--target takes a name")?.clone()),
            other => return Err(format!("unknown fuzz option {other}")),
        }
    }
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
        run_fuzz(target, seconds)?;
    }
    Ok(())
}
