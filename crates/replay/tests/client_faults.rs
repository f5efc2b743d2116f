//! Byte-level faults seen through the `cellmail-at` client (feature
//! `harness`): a garbled or lost byte in a final result is a timeout after
//! which the same client works again; a cut line is `AtError::Closed`.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::time::Duration;

use cellmail_at::{AtError, ClientConfig, Command, DecoderConfig};
use cellmail_replay::harness::{self, ReplayClient};
use cellmail_replay::{Faults, ReplayError, Transcript};
use tokio::time::Instant;

/// Two commands with the `AT` the client sends to resynchronise after a
/// timeout in between. The module's output offsets:
/// line 2 `\r\nSIM7000G\r\n` is 0..12, line 3 `\r\nOK\r\n` is 12..18
/// (`O` at 14, `K` at 15).
const TWO_COMMANDS: &str = "\
> AT+CGMM
< SIM7000G
< OK
> AT
< OK
> AT+CGMI
< SIMCOM_Ltd
< OK
";
const O_OF_FIRST_OK: usize = 14;
const K_OF_FIRST_OK: usize = 15;

fn client(faults: Faults) -> ReplayClient {
    let t = Transcript::parse(TWO_COMMANDS).unwrap();
    harness::client(&t, DecoderConfig::default(), faults).unwrap()
}

/// The first command times out (its `OK` never reads as `OK`); the second,
/// on the same client, gets its own answer and nothing of the first's.
async fn first_times_out_second_succeeds(faults: Faults) {
    let mut c = client(faults);
    let timeout = ClientConfig::default().command_timeout;
    let started = Instant::now();
    let err = c.execute(&Command::exec("+CGMM")).await.unwrap_err();
    match &err {
        AtError::Timeout { command, after } => {
            assert_eq!(command, "AT+CGMM");
            assert_eq!(*after, timeout);
        }
        other => panic!("a timeout expected, got {other:?}"),
    }
    assert!(started.elapsed() >= timeout, "{:?}", started.elapsed());
    let r = c.execute(&Command::exec("+CGMI")).await.unwrap();
    assert_eq!(r.info, ["SIMCOM_Ltd"]);
    // The resynchronising `AT` was written and the whole script played.
    harness::finish(c).unwrap();
}

#[tokio::test(start_paused = true)]
async fn garbled_ok_is_a_timeout_and_the_next_command_succeeds() {
    first_times_out_second_succeeds(Faults::new().garble_byte(K_OF_FIRST_OK)).await;
}

#[tokio::test(start_paused = true)]
async fn garbled_ok_split_into_single_bytes_is_the_same() {
    first_times_out_second_succeeds(Faults::new().garble_byte(O_OF_FIRST_OK).split_every(1)).await;
}

#[tokio::test(start_paused = true)]
async fn dropped_byte_of_ok_is_a_timeout_and_the_next_command_succeeds() {
    first_times_out_second_succeeds(Faults::new().drop_byte(O_OF_FIRST_OK)).await;
}

#[tokio::test(start_paused = true)]
async fn without_faults_both_commands_succeed_at_once() {
    // The control: the same script without the fault has no timeout and no
    // resynchronisation, so the `AT` of line 4 is never written.
    let mut c = client(Faults::new());
    let started = Instant::now();
    let r = c.execute(&Command::exec("+CGMM")).await.unwrap();
    assert_eq!(r.info, ["SIM7000G"]);
    assert!(started.elapsed() < Duration::from_secs(1));
    let err = c.execute(&Command::exec("+CGMI")).await.unwrap_err();
    assert!(err.to_string().contains("line 4"), "{err}");
    assert!(matches!(
        harness::finish(c),
        Err(ReplayError::Mismatch { line: 4, .. })
    ));
}

#[tokio::test(start_paused = true)]
async fn cut_line_is_closed() {
    // EOF where the `OK` of the first command should come.
    let mut c = client(Faults::new().eof_at(3));
    let started = Instant::now();
    let err = c.execute(&Command::exec("+CGMM")).await.unwrap_err();
    assert!(matches!(err, AtError::Closed), "{err:?}");
    // At once, not after the command's timeout.
    assert!(started.elapsed() < Duration::from_secs(1));
    // The line stays cut: the next command cannot be written.
    let err = c.execute(&Command::exec("+CGMI")).await.unwrap_err();
    assert!(matches!(err, AtError::Io(_) | AtError::Closed), "{err:?}");
}
