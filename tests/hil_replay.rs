//! The recordings of `cargo xtask hil --sim <family> --record tests/transcripts/hil`
//! replayed: the same scenario code, against a `ScriptedModem` playing the
//! recording, writes the same bytes and ends the same way (a skipped scenario
//! for the recorded reason). Every scenario of `SCENARIOS` must have its
//! `<scenario>.at` in each family's folder.

#![allow(clippy::unwrap_used, missing_docs)] // a failed unwrap is a failed test

use std::path::Path;

use cellmail::Secret;
use cellmail_replay::{ScriptedModem, Transcript};
use cellmail_suite::hil::{self, DialectKind, HilConfig, Outcome, SCENARIOS};

fn config(t: &Transcript, dir: &Path) -> HilConfig {
    let meta = |k: &str| t.meta(k).map(str::to_owned);
    let port = |k: &str| meta(k).and_then(|p| p.parse().ok());
    HilConfig {
        host: meta("host").unwrap(),
        smtp_port: port("smtp-port").unwrap(),
        smtps_port: port("smtps-port"),
        pop3_port: port("pop3-port"),
        user: meta("user").unwrap(),
        password: Secret::new("replayed-password"),
        to: meta("to").unwrap(),
        cc: meta("cc"),
        bcc: meta("bcc"),
        apn: meta("apn"),
        ca_pem: meta("ca").map(|f| std::fs::read(dir.join(f)).unwrap()),
        host_file: meta("host-file").map(|f| dir.join(f)),
        module_large_file: meta("module-large-file"),
        progress: None,
        sim7000_model: match meta("model").as_deref() {
            Some("sim800") => cellmail_simcom::sim7000::Model::Sim800,
            Some("sim7080") => cellmail_simcom::sim7000::Model::Sim7080,
            _ => cellmail_simcom::sim7000::Model::Sim7000,
        },
    }
}

async fn replay_family(family: &str) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/transcripts/hil")
        .join(family);
    let mut played = 0;
    for &scenario in SCENARIOS {
        let path = dir.join(format!("{scenario}.at"));
        let t = Transcript::load(&path).unwrap();
        let cfg = config(&t, &dir);
        let kind = DialectKind::parse(t.meta("dialect").unwrap()).unwrap();
        let modem = ScriptedModem::builder(&t)
            .secret("password", "replayed-password")
            .build()
            .unwrap();
        let (result, client) = hil::run(scenario, kind, modem, &cfg).await;
        let expected = t.meta("outcome").unwrap();
        let (got, reason) = match &result.outcome {
            Outcome::Pass => ("pass", None),
            Outcome::Fail(why) => panic!("{family}/{scenario} failed on replay: {why}"),
            Outcome::Skipped(why) => ("skipped", Some(why.as_str())),
        };
        assert_eq!(got, expected, "{family}/{scenario}");
        // A skipped scenario is skipped for the recorded reason.
        let reason = reason.map(|r| r.split_whitespace().collect::<Vec<_>>().join(" "));
        assert_eq!(reason.as_deref(), t.meta("reason"), "{family}/{scenario}");
        client
            .into_inner()
            .finish()
            .unwrap_or_else(|e| panic!("{family}/{scenario}: {e}"));
        played += 1;
    }
    assert_eq!(played, SCENARIOS.len());
}

#[tokio::test(start_paused = true)]
async fn quectel_gsm_recordings_replay() {
    replay_family("quectel-gsm").await;
}

#[tokio::test(start_paused = true)]
async fn sim7000_recordings_replay() {
    replay_family("sim7000").await;
}

#[tokio::test(start_paused = true)]
async fn sim5360_recordings_replay() {
    replay_family("sim5360").await;
}

/// `cargo xtask hil --sim sim7080`: the SIM7000 dialect driving a virtual
/// SIM7080G (`model: sim7080`), its TLS scenarios run with the stack's CA.
#[tokio::test(start_paused = true)]
async fn sim7080_recordings_replay() {
    replay_family("sim7080").await;
}
