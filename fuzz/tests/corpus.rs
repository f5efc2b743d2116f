//! Replays every seed and regression input of `corpus/<target>/` and
//! `regressions/<target>/` through the fuzz bodies, so CI runs them without a fuzzer.

use std::path::Path;

fn replay(target: &str, body: fn(&[u8])) -> usize {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut count = 0;
    for dir in ["seeds", "regressions"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir).join(target)) else { continue };
        for entry in entries.flatten() {
            let data = std::fs::read(entry.path()).expect("readable seed");
            body(&data);
            count += 1;
        }
    }
    count
}

#[test]
fn decoder_seeds() {
    assert!(replay("decoder", cellmail_fuzz::decoder) > 0, "no seeds for decoder");
}

#[test]
fn encoder_seeds() {
    assert!(replay("encoder", cellmail_fuzz::encoder) > 0, "no seeds for encoder");
}

#[test]
fn client_seeds() {
    assert!(replay("client", cellmail_fuzz::client) > 0, "no seeds for client");
}

#[test]
fn transcript_seeds() {
    assert!(replay("transcript", cellmail_fuzz::transcript) > 0, "no seeds for transcript");
}

#[test]
fn parsers_seeds() {
    assert!(replay("parsers", cellmail_fuzz::parsers) > 0, "no seeds for parsers");
}

#[test]
fn mailer_seeds() {
    assert!(replay("mailer", cellmail_fuzz::mailer) > 0, "no seeds for mailer");
}
