//! `cargo xtask`: project automation (mail stack, hardware-in-loop runs, demo, fuzzing).

fn main() {
    eprintln!("usage: cargo xtask <mailstack|hil|demo|fuzz> ...");
    std::process::exit(2);
}
