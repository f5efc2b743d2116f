//! The scripted modem, its faults and the recorder, driven by a small host loop.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::time::Duration;

use cellmail_replay::{Faults, Recorder, ReplayError, ScriptedModem, Step, Transcript};
use proptest::prelude::*;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

const SEND: &str = "\
#! dialect: quectel-gsm
# Send a mail, the server takes its time.
> AT+QSMTPPWD=\"${password}\"
< OK
> AT+QSMTPBODY=1,60
< OK
< CONNECT
>raw \"Hello, welcome!\"
>+++
< +QSMTPBODY: 15
> AT+QSMTPPUT
< OK
~ 800s
< +QSMTPPUT: 0
";

/// Writes `bytes`, then reads until the module has said `until`.
async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
    io: &mut S,
    bytes: &[u8],
    until: &str,
) -> std::io::Result<String> {
    io.write_all(bytes).await?;
    read_until(io, until).await
}

async fn read_until<S: AsyncRead + Unpin>(io: &mut S, until: &str) -> std::io::Result<String> {
    let mut got = Vec::new();
    let mut buf = [0u8; 64];
    while !String::from_utf8_lossy(&got).contains(until) {
        let n = io.read(&mut buf).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        got.extend_from_slice(&buf[..n]);
    }
    Ok(String::from_utf8_lossy(&got).into_owned())
}

async fn host_send<S: AsyncRead + AsyncWrite + Unpin>(io: &mut S) -> std::io::Result<String> {
    exchange(io, b"AT+QSMTPPWD=\"hunter2\"\r", "OK\r\n").await?;
    exchange(io, b"AT+QSMTPBODY=1,60\r", "CONNECT\r\n").await?;
    io.write_all(b"Hello, welcome!").await?;
    // The guard silence before `+++` (the modem checks it).
    tokio::time::sleep(Duration::from_secs(1)).await;
    exchange(io, b"+++", "+QSMTPBODY: 15\r\n").await?;
    exchange(io, b"AT+QSMTPPUT\r", "+QSMTPPUT: 0\r\n").await
}

fn modem(faults: Faults) -> ScriptedModem {
    let t = Transcript::parse(SEND).unwrap();
    ScriptedModem::builder(&t)
        .secret("password", "hunter2")
        .faults(faults)
        .build()
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn plays_a_whole_session_on_the_paused_clock() {
    let mut m = modem(Faults::new());
    let started = tokio::time::Instant::now();
    let last = host_send(&mut m).await.unwrap();
    assert!(last.ends_with("\r\n+QSMTPPUT: 0\r\n"), "{last:?}");
    assert!(started.elapsed() >= Duration::from_secs(800));
    m.finish().unwrap();
}

#[tokio::test]
async fn a_wrong_byte_names_line_expected_and_actual() {
    let mut m = modem(Faults::new());
    let err = m.write_all(b"AT+QSMTPPWD=\"wrong\"\r").await.unwrap_err();
    let text = err.to_string();
    assert!(text.contains("line 3"), "{text}");
    assert!(text.contains("wrong"), "{text}");
    // The secret is written back as its placeholder: test output never shows it.
    assert!(!text.contains("hunter2"), "{text}");
    assert!(text.contains("${password}"), "{text}");
    let Err(ReplayError::Mismatch {
        line: 3,
        expected,
        actual,
    }) = m.finish()
    else {
        panic!("a mismatch on line 3 expected");
    };
    assert_eq!(expected, r#"AT+QSMTPPWD=\"${password}\"\r"#);
    assert_eq!(actual, r#"AT+QSMTPPWD=\"wrong\"\r"#);
}

#[tokio::test]
async fn a_mismatch_after_the_secret_does_not_show_it_even_split_across_writes() {
    let mut m = modem(Faults::new());
    m.write_all(b"AT+QSMTPPWD=\"hun").await.unwrap();
    let err = m.write_all(b"ter2X\"\r").await.unwrap_err();
    let text = err.to_string();
    assert!(
        !text.contains("hunter2") && !text.contains("ter2"),
        "{text}"
    );
    let Err(ReplayError::Mismatch {
        line: 3, actual, ..
    }) = m.finish()
    else {
        panic!("a mismatch on line 3 expected");
    };
    // The whole line so far, with the secret it held written as its placeholder.
    assert_eq!(actual, r#"AT+QSMTPPWD=\"${password}X\"\r"#);
}

#[tokio::test]
async fn bytes_after_the_end_do_not_show_the_secret() {
    let t = Transcript::parse("> AT\n< OK\n").unwrap();
    let mut m = ScriptedModem::builder(&t)
        .secret("password", "hunter2")
        .build()
        .unwrap();
    let err = m.write_all(b"AT\rAT+PWD=\"hunter2\"\r").await.unwrap_err();
    assert!(!err.to_string().contains("hunter2"), "{err}");
    assert_eq!(
        m.finish(),
        Err(ReplayError::Unexpected {
            actual: r#"AT+PWD=\"${password}\"\r"#.into()
        })
    );
}

/// Plays the SEND script up to the body, then writes `+++` as `escape` says.
async fn escape_with<F, Fut>(guard: Option<Duration>, escape: F) -> Result<(), ReplayError>
where
    F: FnOnce(ScriptedModem) -> Fut,
    Fut: std::future::Future<Output = ScriptedModem>,
{
    let t = Transcript::parse(SEND).unwrap();
    let mut b = ScriptedModem::builder(&t).secret("password", "hunter2");
    if let Some(guard) = guard {
        b = b.guard_time(guard);
    }
    let mut m = b.build().unwrap();
    exchange(&mut m, b"AT+QSMTPPWD=\"hunter2\"\r", "OK\r\n")
        .await
        .unwrap();
    exchange(&mut m, b"AT+QSMTPBODY=1,60\r", "CONNECT\r\n")
        .await
        .unwrap();
    let m = escape(m).await;
    m.finish().or_else(|e| match e {
        // Only the escape is under test: the rest of the script is not played.
        ReplayError::Unconsumed { line: 10.., .. } => Ok(()),
        other => Err(other),
    })
}

fn escape_reason(r: Result<(), ReplayError>) -> String {
    match r {
        Err(ReplayError::Escape { line: 9, reason }) => reason,
        other => panic!("an escape error on line 9 expected, got {other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn escape_after_the_default_guard_time_in_one_write_is_accepted() {
    let r = escape_with(None, |mut m| async move {
        m.write_all(b"Hello, welcome!").await.unwrap();
        tokio::time::sleep(Duration::from_secs(1)).await;
        m.write_all(b"+++").await.unwrap();
        let got = read_until(&mut m, "+QSMTPBODY: 15\r\n").await.unwrap();
        assert_eq!(got, "\r\n+QSMTPBODY: 15\r\n");
        m
    })
    .await;
    assert_eq!(r, Ok(()));
}

#[tokio::test(start_paused = true)]
async fn escape_without_the_guard_silence_is_refused() {
    let r = escape_with(None, |mut m| async move {
        m.write_all(b"Hello, welcome!").await.unwrap();
        tokio::time::sleep(Duration::from_millis(999)).await;
        let err = m.write_all(b"+++").await.unwrap_err();
        assert!(err.to_string().contains("line 9"), "{err}");
        m
    })
    .await;
    let reason = escape_reason(r);
    assert!(
        reason.contains("999ms") && reason.contains("guard time is 1s"),
        "{reason}"
    );
}

#[tokio::test(start_paused = true)]
async fn escape_in_the_same_write_as_the_data_is_refused() {
    let r = escape_with(None, |mut m| async move {
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert!(m.write_all(b"Hello, welcome!+++").await.is_err());
        m
    })
    .await;
    assert!(escape_reason(r).contains("same write as the 15 bytes before it"));
}

#[tokio::test(start_paused = true)]
async fn escape_split_across_writes_is_refused() {
    let r = escape_with(None, |mut m| async move {
        m.write_all(b"Hello, welcome!").await.unwrap();
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert!(m.write_all(b"++").await.is_err());
        m
    })
    .await;
    assert!(escape_reason(r).contains("split across writes"));
}

#[tokio::test(start_paused = true)]
async fn escape_followed_by_more_bytes_in_the_write_is_refused() {
    let r = escape_with(None, |mut m| async move {
        m.write_all(b"Hello, welcome!").await.unwrap();
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert!(m.write_all(b"+++AT+QSMTPPUT\r").await.is_err());
        m
    })
    .await;
    assert!(escape_reason(r).contains("followed by \"AT+QSMTPPUT\\r\""));
}

#[tokio::test(start_paused = true)]
async fn a_configured_guard_time_is_the_one_checked() {
    let short = Some(Duration::from_millis(100));
    let r = escape_with(short, |mut m| async move {
        m.write_all(b"Hello, welcome!").await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        m.write_all(b"+++").await.unwrap();
        m
    })
    .await;
    assert_eq!(r, Ok(()));
    let r = escape_with(short, |mut m| async move {
        m.write_all(b"Hello, welcome!").await.unwrap();
        tokio::time::sleep(Duration::from_millis(60)).await;
        assert!(m.write_all(b"+++").await.is_err());
        m
    })
    .await;
    assert!(escape_reason(r).contains("guard time is 100ms"));
}

#[tokio::test]
async fn an_unfinished_script_is_reported() {
    let mut m = modem(Faults::new());
    exchange(&mut m, b"AT+QSMTPPWD=\"hunter2\"\r", "OK")
        .await
        .unwrap();
    assert_eq!(
        m.finish(),
        Err(ReplayError::Unconsumed {
            line: 5,
            what: "the host has not written it".into()
        })
    );
}

#[tokio::test]
async fn missing_secret_is_an_error() {
    let t = Transcript::parse(SEND).unwrap();
    assert_eq!(
        ScriptedModem::builder(&t).build().err(),
        Some(ReplayError::MissingSecret("password".into()))
    );
}

#[test]
fn an_unresolvable_payload_names_its_line() {
    let t = Transcript::parse("> AT+QFUPL=\"a\",3\n>file 3 no-such-file.bin\n")
        .unwrap()
        .with_base(env!("CARGO_MANIFEST_DIR"));
    let err = ScriptedModem::builder(&t).build().err().unwrap();
    assert!(matches!(err, ReplayError::Payload(_)), "{err:?}");
    assert!(err.to_string().starts_with("line 2: cannot read "), "{err}");
    assert!(err.to_string().contains("no-such-file.bin"), "{err}");
}

#[tokio::test(start_paused = true)]
async fn split_reads_one_byte_at_a_time() {
    let mut m = modem(Faults::new().split_every(1));
    m.write_all(b"AT+QSMTPPWD=\"hunter2\"\r").await.unwrap();
    let mut buf = [0u8; 16];
    assert_eq!(m.read(&mut buf).await.unwrap(), 1);
    assert_eq!(m.read(&mut buf).await.unwrap(), 1);
    let rest = read_until(&mut m, "OK").await.unwrap();
    assert_eq!(rest, "OK");
}

#[tokio::test(start_paused = true)]
async fn split_at_chosen_and_random_boundaries_keeps_the_bytes() {
    for faults in [
        Faults::new().split_at([3, 4, 9]),
        Faults::new().split_random(7, 5),
    ] {
        let mut m = modem(faults);
        let last = host_send(&mut m).await.unwrap();
        assert!(last.contains("+QSMTPPUT: 0"));
        m.finish().unwrap();
    }
}

#[tokio::test(start_paused = true)]
async fn inserted_urc_arrives_before_the_line() {
    let mut m = modem(Faults::new().insert_before(4, "RDY"));
    let got = exchange(&mut m, b"AT+QSMTPPWD=\"hunter2\"\r", "OK")
        .await
        .unwrap();
    assert_eq!(got, "\r\nRDY\r\n\r\nOK\r\n");
}

#[tokio::test(start_paused = true)]
async fn dropped_and_garbled_bytes() {
    let mut m = modem(Faults::new().drop_byte(2).garble_byte(3));
    m.write_all(b"AT+QSMTPPWD=\"hunter2\"\r").await.unwrap();
    let mut buf = [0u8; 5];
    m.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, &[b'\r', b'\n', b'K' ^ 0x55, b'\r', b'\n']);
}

#[tokio::test(start_paused = true)]
async fn withheld_answer_times_out() {
    let mut m = modem(Faults::new().withhold(4));
    m.write_all(b"AT+QSMTPPWD=\"hunter2\"\r").await.unwrap();
    let mut buf = [0u8; 8];
    let r = tokio::time::timeout(Duration::from_secs(5), m.read(&mut buf)).await;
    assert!(
        r.is_err(),
        "the module answered although the answer was withheld"
    );
    // The rest of the script still plays.
    exchange(&mut m, b"AT+QSMTPBODY=1,60\r", "CONNECT")
        .await
        .unwrap();
}

#[tokio::test(start_paused = true)]
async fn cut_line_gives_eof_and_broken_writes() {
    let mut m = modem(Faults::new().eof_at(5));
    exchange(&mut m, b"AT+QSMTPPWD=\"hunter2\"\r", "OK")
        .await
        .unwrap();
    let mut buf = [0u8; 8];
    assert_eq!(m.read(&mut buf).await.unwrap(), 0);
    assert!(m.write_all(b"AT+QSMTPBODY=1,60\r").await.is_err());
}

#[tokio::test(start_paused = true)]
async fn recorder_records_redacted_and_the_recording_replays() {
    let mut rec = Recorder::new(modem(Faults::new().split_every(3))).redact("password", "hunter2");
    host_send(&mut rec).await.unwrap();
    rec.get_mut().finish().unwrap();
    let recorded = rec.transcript();
    let text = recorded.to_text();
    assert!(!text.contains("hunter2"), "{text}");
    assert!(text.contains("> AT+QSMTPPWD=\"${password}\""), "{text}");
    assert!(text.contains(">+++"), "{text}");
    assert!(text.contains("< +QSMTPPUT: 0"), "{text}");
    // The recording is itself a transcript: replay it with the same host loop.
    let reparsed = Transcript::parse(&text).unwrap();
    assert_eq!(reparsed.to_text(), text);
    let mut again = ScriptedModem::builder(&reparsed)
        .secret("password", "hunter2")
        .build()
        .unwrap();
    host_send(&mut again).await.unwrap();
    again.finish().unwrap();
}

#[tokio::test]
async fn recorder_redacts_a_secret_split_across_writes() {
    let (port, mut module) = tokio::io::duplex(256);
    let mut rec = Recorder::new(port).redact("password", "hunter2");
    rec.write_all(b"AT+QSMTPPWD=\"hun").await.unwrap();
    rec.write_all(b"ter2\"\r").await.unwrap();
    module.write_all(b"\r\nOK\r\n").await.unwrap();
    read_until(&mut rec, "OK").await.unwrap();
    assert_eq!(
        rec.transcript().to_text(),
        "> AT+QSMTPPWD=\"${password}\"\n< OK\n"
    );
}

#[tokio::test]
async fn recorder_replaces_a_secret_that_contains_another_whole() {
    let (port, mut module) = tokio::io::duplex(256);
    // Named shorter first: the longer one must still be replaced as a whole.
    let mut rec = Recorder::new(port)
        .redact("user", "john")
        .redact("password", "john2024");
    rec.write_all(b"AT+SMTPAUTH=1,\"john\",\"john2024\"\r")
        .await
        .unwrap();
    module.write_all(b"\r\nOK\r\n").await.unwrap();
    read_until(&mut rec, "OK").await.unwrap();
    assert_eq!(
        rec.transcript().to_text(),
        "> AT+SMTPAUTH=1,\"${user}\",\"${password}\"\n< OK\n"
    );
}

fn step() -> impl Strategy<Value = Step> {
    let text = "[ -~]{1,20}".prop_filter("no leading blank", |s: &String| !s.starts_with(' '));
    prop_oneof![
        text.clone().prop_map(Step::HostLine),
        text.prop_map(Step::ModuleLine),
        proptest::collection::vec(any::<u8>(), 0..20).prop_map(|b| Step::HostData(
            cellmail_replay::Payload::Escaped(cellmail_replay::escape(&b))
        )),
        proptest::collection::vec(any::<u8>(), 1..20).prop_map(|b| Step::ModuleData(
            cellmail_replay::Payload::Escaped(cellmail_replay::escape(&b))
        )),
        Just(Step::HostEscape),
        (0u64..5000).prop_map(|ms| Step::Delay(Duration::from_millis(ms), format!("{ms}ms"))),
        "#[ -~]{0,20}".prop_map(Step::Comment),
        Just(Step::Blank),
    ]
}

proptest! {
    /// Any transcript round-trips text -> parse -> text.
    #[test]
    fn generated_transcripts_round_trip(steps in proptest::collection::vec(step(), 0..30)) {
        let text = Transcript::from_steps(steps).to_text();
        let parsed = Transcript::parse(&text).unwrap();
        prop_assert_eq!(parsed.to_text(), text);
    }
}
