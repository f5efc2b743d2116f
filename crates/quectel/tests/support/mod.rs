//! Replaying Quectel transcripts with `cellmail_replay::harness`.

#![allow(dead_code, clippy::unwrap_used)]

use cellmail_at::{Command, Response};
use cellmail_replay::harness::{self, ReplayClient, steps};
use cellmail_replay::{Faults, Transcript};

pub use cellmail_replay::harness::PASSWORD;

const FAMILY: &str = "quectel-gsm";

pub fn data(name: &str) -> Vec<u8> {
    harness::data(FAMILY, name).unwrap()
}

pub fn client_for(t: &Transcript, faults: Faults) -> ReplayClient {
    harness::client(t, cellmail_quectel::decoder_config(), faults).unwrap()
}

pub fn replay(name: &str) -> ReplayClient {
    harness::golden(FAMILY, name, cellmail_quectel::decoder_config()).unwrap()
}

pub fn done(client: ReplayClient) {
    harness::finish(client).unwrap();
}

pub async fn exec(c: &mut ReplayClient, command: Command) -> Response {
    steps::exec(c, command).await
}

/// The `<result>` of a deferred line already expected by the client.
pub async fn deferred(c: &mut ReplayClient, prefix: &str) -> i32 {
    cellmail_quectel::commands::parse_result(&steps::deferred(c, prefix).await, prefix).unwrap()
}

/// Runs a command and returns its deferred `<result>`.
pub async fn result(c: &mut ReplayClient, command: Command, prefix: &str) -> i32 {
    steps::exec(c, command).await;
    deferred(c, prefix).await
}

/// CONNECT, data, `+++`.
pub async fn upload_escaped(c: &mut ReplayClient, command: Command, bytes: &[u8]) -> Response {
    steps::upload(c, command, bytes, cellmail_at::DataEnd::Escape).await
}
