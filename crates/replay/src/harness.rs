//! Golden-transcript replays for dialect tests: a `cellmail_at::Client` over a
//! [`ScriptedModem`] playing `tests/transcripts/<family>/<file>` (feature
//! `harness`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use cellmail_at::{Client, ClientConfig, Command, DataEnd, DecoderConfig, Response};

use crate::{Faults, ReplayError, ScriptedModem, Transcript};

/// The password every golden transcript writes as `${password}`.
pub const PASSWORD: &str = "test-only-password";

/// A client replaying one golden transcript.
pub type ReplayClient = Client<ScriptedModem>;

/// `tests/transcripts/<family>` of the workspace.
pub fn folder(family: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/transcripts")
        .join(family)
}

/// A file under `tests/transcripts/<family>/data`.
pub fn data(family: &str, name: &str) -> std::io::Result<Vec<u8>> {
    std::fs::read(folder(family).join("data").join(name))
}

/// A client over a modem playing `transcript` with `faults`.
pub fn client(
    transcript: &Transcript,
    decoder: DecoderConfig,
    faults: Faults,
) -> Result<ReplayClient, ReplayError> {
    let modem = ScriptedModem::builder(transcript)
        .secret("password", PASSWORD)
        .faults(faults)
        .build()?;
    Ok(Client::new(modem, ClientConfig::with_decoder(decoder)))
}

/// A client over a modem playing the golden transcript `family/file`.
pub fn golden(
    family: &str,
    file: &str,
    decoder: DecoderConfig,
) -> Result<ReplayClient, ReplayError> {
    let t = Transcript::load(folder(family).join(file))?;
    client(&t, decoder, Faults::new())
}

/// `Ok` when the whole transcript was played.
pub fn finish(client: ReplayClient) -> Result<(), ReplayError> {
    client.into_inner().finish()
}

/// Small steps golden tests are written in; each fails the test with the
/// command and the error.
pub mod steps {
    use super::*;

    /// Runs a command.
    pub async fn exec(c: &mut ReplayClient, command: Command) -> Response {
        match c.execute(&command).await {
            Ok(r) => r,
            Err(e) => panic!("{command}: {e}"),
        }
    }

    /// Waits for a deferred result line.
    pub async fn deferred(c: &mut ReplayClient, prefix: &str) -> String {
        match c.deferred(prefix, Duration::from_secs(900)).await {
            Ok(l) => l,
            Err(e) => panic!("{prefix}: {e}"),
        }
    }

    /// Waits for a URC line.
    pub async fn urc(c: &mut ReplayClient, prefix: &str) -> String {
        match c.wait_urc(prefix, Duration::from_secs(900)).await {
            Ok(l) => l,
            Err(e) => panic!("{prefix}: {e}"),
        }
    }

    /// Prompt, data, end.
    pub async fn upload(
        c: &mut ReplayClient,
        command: Command,
        bytes: &[u8],
        end: DataEnd,
    ) -> Response {
        match c.upload(&command, bytes, end).await {
            Ok(r) => r,
            Err(e) => panic!("{command}: {e}"),
        }
    }
}
