//! Replaying Quectel transcripts: a client over a `ScriptedModem` and the
//! small steps the tests are written in.

#![allow(dead_code, clippy::unwrap_used)]

use std::path::PathBuf;
use std::time::Duration;

use cellmail_at::{Client, ClientConfig, Command, Response};
use cellmail_replay::{Faults, ScriptedModem, Transcript};

/// The password the transcripts write as `${password}`.
pub const PASSWORD: &str = "test-only-password";

pub fn transcripts() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/transcripts/quectel-gsm")
}

pub fn data(name: &str) -> Vec<u8> {
    std::fs::read(transcripts().join("data").join(name)).unwrap()
}

pub fn load(name: &str) -> Transcript {
    Transcript::load(transcripts().join(name)).unwrap()
}

pub fn client_for(t: &Transcript, faults: Faults) -> Client<ScriptedModem> {
    let modem = ScriptedModem::builder(t)
        .secret("password", PASSWORD)
        .faults(faults)
        .build()
        .unwrap();
    Client::new(
        modem,
        ClientConfig::with_decoder(cellmail_quectel::decoder_config()),
    )
}

pub fn replay(name: &str) -> Client<ScriptedModem> {
    client_for(&load(name), Faults::new())
}

pub fn done(client: Client<ScriptedModem>) {
    client.into_inner().finish().unwrap();
}

pub async fn exec(c: &mut Client<ScriptedModem>, command: Command) -> Response {
    c.execute(&command).await.unwrap()
}

/// The `<result>` of a deferred line already expected by the client.
pub async fn deferred(c: &mut Client<ScriptedModem>, prefix: &str) -> i32 {
    let line = c.deferred(prefix, Duration::from_secs(900)).await.unwrap();
    cellmail_quectel::commands::parse_result(&line, prefix).unwrap()
}

/// Runs a command and returns its deferred `<result>`.
pub async fn result(c: &mut Client<ScriptedModem>, command: Command, prefix: &str) -> i32 {
    c.execute(&command).await.unwrap();
    deferred(c, prefix).await
}

/// CONNECT, data, `+++`.
pub async fn upload_escaped(
    c: &mut Client<ScriptedModem>,
    command: Command,
    bytes: &[u8],
) -> Response {
    c.upload(&command, bytes, cellmail_at::DataEnd::Escape)
        .await
        .unwrap()
}
