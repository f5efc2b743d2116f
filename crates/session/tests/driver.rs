//! The driver against a scripted module on an in-memory line: what it writes,
//! what it skips, where it reports the point of no return, how the state moves.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::sync::{Arc, Mutex};
use std::time::Duration;

use cellmail::{Phase, Progress, SendStage};
use cellmail_at::{Client, ClientConfig, Command, DataEnd, DecoderConfig, PromptKind};
use cellmail_session::{
    Driver, Exchange, Marks, ModuleState, OnStopError, Outcome, Owing, Payload, Pop3, Service,
    Smtp, Source, Stop, Then, Wait,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};
use tokio::task::JoinHandle;

fn marks() -> Marks {
    Marks {
        reboot: &["RDY"],
        bearer_lost: vec!["+SAPBR 1: DEACT".into()],
        pop3_ended: &["+POP3OUT:"],
        late_results: &["+SMTPSEND:"],
        own_results: &["+SMTP:"],
    }
}

/// A module that waits for each expected write, then answers; returns all it read.
fn module(
    mut io: DuplexStream,
    script: Vec<(&'static [u8], &'static [u8])>,
) -> JoinHandle<Vec<u8>> {
    tokio::spawn(async move {
        let mut seen = Vec::new();
        let mut from = 0;
        for (expect, reply) in script {
            while !seen[from..].windows(expect.len()).any(|w| w == expect) {
                let mut buf = [0u8; 256];
                let n = io.read(&mut buf).await.unwrap();
                assert!(n > 0, "the host closed before writing {expect:?}");
                seen.extend_from_slice(&buf[..n]);
            }
            from = seen.len();
            io.write_all(reply).await.unwrap();
        }
        // Whatever the host writes after the script, until it lets go.
        let mut rest = [0u8; 256];
        while let Ok(n @ 1..) = io.read(&mut rest).await {
            seen.extend_from_slice(&rest[..n]);
        }
        seen
    })
}

fn driver(
    script: Vec<(&'static [u8], &'static [u8])>,
) -> (Driver<DuplexStream>, JoinHandle<Vec<u8>>) {
    let (host, far) = tokio::io::duplex(4096);
    let config = ClientConfig::with_decoder(DecoderConfig::default().urc("+SMTP:"));
    let client = Client::new(host, config);
    (Driver::new(client, marks()), module(far, script))
}

fn server() -> Exchange {
    Exchange::setting(
        "server",
        Command::write("+SMTPSRV").string("server", "a").int(25),
    )
}

#[tokio::test]
async fn a_held_setting_is_written_once() {
    let (mut d, m) = driver(vec![(b"AT+SMTPSRV=\"a\",25\r", b"\r\nOK\r\n")]);
    assert!(matches!(
        d.run(&server()).await.unwrap(),
        Outcome::Done { .. }
    ));
    assert_eq!(d.run(&server()).await.unwrap(), Outcome::Skipped);
    assert_eq!(d.client().stats().commands, 1);
    drop(d);
    assert_eq!(m.await.unwrap(), b"AT+SMTPSRV=\"a\",25\r");
}

#[tokio::test]
async fn submitting_is_reported_before_the_command_and_its_result_waited_for() {
    let (mut d, m) = driver(vec![(
        b"AT+SMTPSEND\r",
        b"\r\nOK\r\n\r\n+SMTP: OK\r\n\r\n+SMTP: SUCCESS\r\n",
    )]);
    let written_at_submit = Arc::new(Mutex::new(None));
    let seen = written_at_submit.clone();
    let stats = d.client().stats();
    let send = Exchange::new(Command::exec("+SMTPSEND"))
        .wait(Wait::Urc {
            prefix: "+SMTP:",
            timeout: Duration::from_secs(5),
        })
        .then(Then::Submits(Owing::FirstByte));
    let observe = move |stage: SendStage| {
        assert_eq!(stage, SendStage::Submitting);
        *seen.lock().unwrap() = Some(());
    };
    let meter = d.meter();
    let out = d
        .run_observed(&send, &observe, &|l| l != "+SMTP: OK")
        .await
        .unwrap();
    assert!(written_at_submit.lock().unwrap().is_some());
    assert_eq!(stats.commands, 0);
    let Outcome::Done { result, .. } = out else {
        panic!("skipped")
    };
    assert_eq!(result.as_deref(), Some("+SMTP: SUCCESS"));
    // The debt stays for the dialect's policy to settle.
    assert!(matches!(d.state().smtp, Smtp::Owed(_)));
    let report = d.report(meter, result.unwrap());
    assert_eq!((report.commands, report.bytes_sent), (1, 12));
    drop(d);
    m.await.unwrap();
}

#[tokio::test]
async fn a_payload_from_memory_streams_in_chunks_with_progress() {
    let mut data = vec![b'x'; 4999];
    data.push(b'y');
    let (mut d, m) = driver(vec![(b"AT+UP=5000\r", b"\r\n> "), (b"xy", b"\r\nOK\r\n")]);
    let events = Arc::new(Mutex::new(Vec::new()));
    let log = events.clone();
    d = d.with_progress(Some(Progress::new(move |e| {
        log.lock().unwrap().push(e.done)
    })));
    let up = Exchange::new(
        Command::write("+UP")
            .int(5000)
            .expect_prompt(PromptKind::Angle),
    )
    .payload(Payload {
        source: Source::Memory(data),
        end: DataEnd::Length,
        phase: Some(Phase::Body),
    });
    d.run(&up).await.unwrap();
    assert_eq!(*events.lock().unwrap(), [4096, 5000]);
    drop(d);
    let written = m.await.unwrap();
    assert_eq!(written.len(), "AT+UP=5000\r".len() + 5000);
}

#[tokio::test]
async fn a_reboot_urc_resets_the_state_and_strays_are_taken_back() {
    let (mut d, m) = driver(vec![
        (b"AT+SMTPSRV=\"a\",25\r", b"\r\nOK\r\n"),
        (b"AT+READ\r", b"\r\nline 1\r\nOK\r\n\r\nRDY\r\n\r\nmore\r\n"),
    ]);
    d.run(&server()).await.unwrap();
    d.state_mut().pop3 = Pop3::Open;
    let (response, strays) = d
        .run_then_strays(&Command::exec("+READ"), Duration::from_millis(100))
        .await
        .unwrap();
    assert_eq!(response.info, ["line 1"]);
    assert_eq!(strays, ["more"]);
    let mut fresh = ModuleState::new();
    fresh.reboots = 1;
    assert_eq!(*d.state(), fresh, "RDY forgot everything");
    // The application's URC stays queued; the stray does not.
    assert_eq!(d.client().take_urcs(), ["RDY"]);
    drop(d);
    m.await.unwrap();
}

#[tokio::test]
async fn recovery_stops_only_what_is_owed() {
    let (mut d, m) = driver(vec![(
        b"AT+SMTPSTOP\r",
        b"\r\nOK\r\n\r\n+SMTP: NETWORK ERROR\r\n",
    )]);
    d.state_mut().owe(Service::Smtp, "AT+SMTPSEND");
    let stops = [
        (
            Service::Smtp,
            Stop {
                command: Command::exec("+SMTPSTOP"),
                on_error: OnStopError::StillOwed,
            },
        ),
        (
            Service::Pop3,
            Stop {
                command: Command::exec("+POP3STOP"),
                on_error: OnStopError::Forget,
            },
        ),
    ];
    d.recover(&stops).await;
    assert_eq!(d.state().smtp, Smtp::Idle);
    // The stopped session's result is not left for the next wait.
    assert!(d.client().take_urcs().is_empty());
    drop(d);
    assert_eq!(m.await.unwrap(), b"AT+SMTPSTOP\r");
}

#[tokio::test]
async fn a_failed_stop_keeps_the_debt_when_the_policy_says_so() {
    let (mut d, m) = driver(vec![(b"AT+SMTPSTOP\r", b"\r\nERROR\r\n")]);
    d.state_mut().owe(Service::Smtp, "AT+SMTPSEND");
    let stop = Stop {
        command: Command::exec("+SMTPSTOP"),
        on_error: OnStopError::StillOwed,
    };
    d.stop(Service::Smtp, &stop).await;
    assert!(matches!(d.state().smtp, Smtp::Owed(_)));
    drop(d);
    m.await.unwrap();
}

#[tokio::test]
async fn a_late_result_seen_as_a_urc_ends_the_wait_for_it() {
    let (mut d, m) = driver(vec![(
        b"AT+SMTPSRV=\"a\",25\r",
        b"\r\nOK\r\n\r\n+SMTPSEND: 1\r\n",
    )]);
    d.state_mut().owe(Service::Smtp, "AT+SMTPSEND");
    d.state_mut().give_up_smtp();
    assert_eq!(d.state().smtp, Smtp::Late);
    d.run(&server()).await.unwrap();
    d.recover(&[]).await;
    assert_eq!(d.state().smtp, Smtp::Idle);
    // It stays the application's URC.
    assert_eq!(d.client().take_urcs(), ["+SMTPSEND: 1"]);
    drop(d);
    m.await.unwrap();
}

#[tokio::test]
async fn a_bearer_released_and_a_session_ended_move_the_state() {
    let (mut d, m) = driver(vec![(
        b"AT+SMTPSRV=\"a\",25\r",
        b"\r\nOK\r\n\r\n+SAPBR 1: DEACT\r\n\r\n+POP3OUT: 61\r\n",
    )]);
    d.state_mut().bearer = cellmail_session::Bearer::Open;
    d.state_mut().pop3 = Pop3::Open;
    d.run(&server()).await.unwrap();
    d.recover(&[]).await;
    assert_eq!(d.state().bearer, cellmail_session::Bearer::Lost);
    assert_eq!(d.state().pop3, Pop3::Closed);
    drop(d);
    m.await.unwrap();
}
