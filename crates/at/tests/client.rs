//! The async client against a scripted module on the other end of a duplex.
//! Each test reads like a manual example: what the host sends, what the module
//! answers, and what the call returns.

use std::time::Duration;

use cellmail_at::{
    Arrived, AtError, Client, ClientConfig, CmeError, Command, DataEnd, DecoderConfig, Payload,
    Prompt, PromptKind,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// The module's side of the line.
struct Module(DuplexStream);

impl Module {
    /// Reads exactly `expected.len()` bytes and checks them.
    async fn expect(&mut self, expected: &[u8]) {
        let mut got = vec![0; expected.len()];
        self.0
            .read_exact(&mut got)
            .await
            .expect("host closed the line");
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(expected)
        );
    }

    async fn send(&mut self, bytes: &[u8]) {
        self.0.write_all(bytes).await.expect("host closed the line");
    }
}

fn pair(config: ClientConfig) -> (Client<DuplexStream>, Module) {
    let (host, module) = tokio::io::duplex(64 * 1024);
    (Client::new(host, config), Module(module))
}

fn spawn<F: std::future::Future<Output = Module> + Send + 'static>(f: F) -> JoinHandle<Module> {
    tokio::spawn(f)
}

#[tokio::test(start_paused = true)]
async fn deferred_result_after_ok() {
    let (mut client, mut module) = pair(ClientConfig::default());
    let task = spawn(async move {
        module.expect(b"AT+QSMTPPUT=300\r").await;
        module.send(b"\r\nOK\r\n").await;
        tokio::time::sleep(Duration::from_secs(40)).await;
        module.send(b"\r\n+QSMTPPUT: 0\r\n").await;
        module
    });
    let put = Command::write("+QSMTPPUT")
        .int(300)
        .expect_deferred("+QSMTPPUT:");
    client.execute(&put).await.unwrap();
    let started = Instant::now();
    let result = client
        .deferred("+QSMTPPUT:", Duration::from_secs(310))
        .await
        .unwrap();
    assert_eq!(result, "+QSMTPPUT: 0");
    assert!(started.elapsed() >= Duration::from_secs(40));
    task.await.unwrap();
}

#[tokio::test]
async fn urcs_before_between_and_after_information_lines() {
    let (mut client, mut module) = pair(ClientConfig::with_decoder(
        DecoderConfig::default().urc("+SMTP:"),
    ));
    let mut subscriber = client.subscribe();
    let task = spawn(async move {
        module.send(b"\r\nRDY\r\n").await;
        module.expect(b"AT+QSMTPDST?\r").await;
        module
            .send(b"\r\n+CPIN: READY\r\n\r\n+QSMTPDST: 1,\"a@b.c\"\r\n\r\nCall Ready\r\n\r\n+QSMTPDST: 2,\"c@d.e\"\r\n\r\nOK\r\n\r\n+SMTP: OK\r\n")
            .await;
        module
    });
    let r = client.execute(&Command::read("+QSMTPDST")).await.unwrap();
    assert_eq!(r.info, ["+QSMTPDST: 1,\"a@b.c\"", "+QSMTPDST: 2,\"c@d.e\""]);
    assert_eq!(
        client
            .wait_urc("+SMTP:", Duration::from_secs(1))
            .await
            .unwrap(),
        "+SMTP: OK"
    );
    assert_eq!(client.take_urcs(), ["RDY", "+CPIN: READY", "Call Ready"]);
    let mut seen = Vec::new();
    while let Ok(urc) = subscriber.try_recv() {
        seen.push(urc);
    }
    assert_eq!(seen, ["RDY", "+CPIN: READY", "Call Ready", "+SMTP: OK"]);
    task.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn timeout_then_recovery_never_takes_the_late_answer() {
    let (mut client, mut module) = pair(ClientConfig::default());
    let task = spawn(async move {
        module.expect(b"AT+CGATT?\r").await;
        // Answers far too late: after the host gave up.
        tokio::time::sleep(Duration::from_secs(8)).await;
        module.send(b"\r\n+CGATT: 0\r\n\r\nOK\r\n").await;
        module.expect(b"AT\r").await;
        module.send(b"\r\nOK\r\n").await;
        module.expect(b"AT+CGATT?\r").await;
        module.send(b"\r\n+CGATT: 1\r\n\r\nOK\r\n").await;
        module
    });
    let cmd = Command::read("+CGATT").timeout(Duration::from_secs(5));
    let err = client.execute(&cmd).await.unwrap_err();
    // Nothing has come back on this line yet: the timeout says so.
    assert!(
        matches!(err, AtError::Silent { ref command, after } if command == "AT+CGATT?" && after == Duration::from_secs(5)),
        "{err}"
    );
    tokio::time::sleep(Duration::from_secs(5)).await;
    let r = client.execute(&cmd).await.unwrap();
    assert_eq!(r.info, ["+CGATT: 1"]);
    task.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn timeout_then_recovery_when_the_answer_never_comes() {
    let (mut client, mut module) = pair(ClientConfig::default());
    let task = spawn(async move {
        module.expect(b"AT+QIACT\r").await;
        module.expect(b"AT\r").await;
        module.send(b"\r\nOK\r\n").await;
        module.expect(b"AT+CGMM\r").await;
        module.send(b"\r\nM95\r\n\r\nOK\r\n").await;
        module
    });
    assert!(
        client
            .execute(&Command::exec("+QIACT"))
            .await
            .unwrap_err()
            .is_timeout()
    );
    let r = client.execute(&Command::exec("+CGMM")).await.unwrap();
    assert_eq!(r.info, ["M95"]);
    task.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn late_deferred_result_is_not_taken_for_the_retry() {
    let (mut client, mut module) = pair(ClientConfig::default());
    let task = spawn(async move {
        module.expect(b"AT+QSMTPPUT\r").await;
        module.send(b"\r\nOK\r\n").await;
        module.expect(b"AT+QSMTPPUT\r").await;
        // The first one's result, late, then the retry's answer.
        module
            .send(b"\r\n+QSMTPPUT: -9\r\n\r\nOK\r\n\r\n+QSMTPPUT: 0\r\n")
            .await;
        module
    });
    let put = Command::exec("+QSMTPPUT").expect_deferred("+QSMTPPUT:");
    client.execute(&put).await.unwrap();
    assert!(
        client
            .deferred("+QSMTPPUT:", Duration::from_secs(10))
            .await
            .unwrap_err()
            .is_timeout()
    );
    let r = client.execute(&put).await.unwrap();
    assert!(r.info.is_empty(), "taken for the retry's answer: {r:?}");
    assert_eq!(
        client
            .deferred("+QSMTPPUT:", Duration::from_secs(10))
            .await
            .unwrap(),
        "+QSMTPPUT: 0"
    );
    assert_eq!(client.take_urcs(), ["+QSMTPPUT: -9"]);
    task.await.unwrap();
}

#[tokio::test]
async fn error_and_cme_error() {
    let (mut client, mut module) = pair(ClientConfig::default());
    let task = spawn(async move {
        module.expect(b"AT+QSMTPCLR\r").await;
        module.send(b"\r\nERROR\r\n").await;
        module.expect(b"AT+CPIN?\r").await;
        module.send(b"\r\n+CME ERROR: 10\r\n").await;
        module.expect(b"AT+CPIN?\r").await;
        module.send(b"\r\n+CME ERROR: SIM not inserted\r\n").await;
        module.expect(b"AT\r").await;
        module.send(b"\r\nOK\r\n").await;
        module
    });
    let err = client
        .execute(&Command::exec("+QSMTPCLR"))
        .await
        .unwrap_err();
    assert!(matches!(err, AtError::Error { ref command } if command == "AT+QSMTPCLR"));
    let err = client.execute(&Command::read("+CPIN")).await.unwrap_err();
    assert!(matches!(
        err,
        AtError::Cme {
            error: CmeError::Code(10),
            ..
        }
    ));
    let err = client.execute(&Command::read("+CPIN")).await.unwrap_err();
    assert!(
        matches!(err, AtError::Cme { error: CmeError::Text(ref t), .. } if t == "SIM not inserted")
    );
    // Still usable.
    client.execute(&Command::exec("")).await.unwrap();
    task.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn connect_then_escape_upload_keeps_guard_time() {
    let (mut client, mut module) = pair(ClientConfig::default());
    let task = spawn(async move {
        module.expect(b"AT+QSMTPBODY=1,60\r").await;
        module.send(b"\r\nOK\r\n\r\nCONNECT\r\n").await;
        module.expect(b"Hello, welcome!").await;
        let before = Instant::now();
        module.expect(b"+++").await;
        assert!(
            before.elapsed() >= Duration::from_secs(1),
            "no guard time before +++"
        );
        module.send(b"\r\n+QSMTPBODY: 15\r\n").await;
        module.expect(b"AT+QSMTPPUT\r").await;
        module
    });
    let body = Command::write("+QSMTPBODY")
        .int(1)
        .int(60)
        .expect_prompt(PromptKind::Connect)
        .expect_deferred("+QSMTPBODY:");
    let r = client
        .upload(&body, b"Hello, welcome!", DataEnd::Escape)
        .await
        .unwrap();
    assert_eq!(r.prompt, Some(Prompt::Connect));
    assert_eq!(
        client
            .deferred("+QSMTPBODY:", Duration::from_secs(5))
            .await
            .unwrap(),
        "+QSMTPBODY: 15"
    );
    // The module has answered, so it took +++ as the escape: the next
    // command need not wait out the guard time after it.
    let after_answer = Instant::now();
    client.begin(&Command::exec("+QSMTPPUT")).await.unwrap();
    assert!(
        after_answer.elapsed() < Duration::from_millis(100),
        "waited {:?} after the module answered",
        after_answer.elapsed()
    );
    task.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn nothing_is_written_within_the_guard_time_after_an_unanswered_escape() {
    let (mut client, mut module) = pair(ClientConfig::default());
    let task = spawn(async move {
        module.expect(b"AT+QSMTPBODY=1,60\r").await;
        module.send(b"\r\nOK\r\n\r\nCONNECT\r\n").await;
        module.expect(b"Hi").await;
        module.expect(b"+++").await;
        let escape_seen = Instant::now();
        // The module stays silent; the host's next bytes must not come
        // within the guard time, or the module would take +++ as data.
        module.expect(b"AT\r").await;
        assert!(
            escape_seen.elapsed() >= Duration::from_millis(900),
            "no guard time after +++: {:?}",
            escape_seen.elapsed()
        );
        module.send(b"\r\nOK\r\n").await;
        module
    });
    let body = Command::write("+QSMTPBODY")
        .int(1)
        .int(60)
        .expect_prompt(PromptKind::Connect);
    client.upload(&body, b"Hi", DataEnd::Escape).await.unwrap();
    client.execute(&Command::exec("")).await.unwrap();
    task.await.unwrap();
}

#[tokio::test]
async fn download_length_delimited_upload() {
    let (mut client, mut module) = pair(ClientConfig::default());
    let task = spawn(async move {
        module.expect(b"AT+SMTPBODY=19\r").await;
        module.send(b"\r\nDOWNLOAD\r\n").await;
        module.expect(b"This is a new Email").await;
        module.send(b"\r\nOK\r\n").await;
        module
    });
    let cmd = Command::write("+SMTPBODY")
        .int(19)
        .expect_prompt(PromptKind::Download);
    let r = client
        .upload(&cmd, b"This is a new Email", DataEnd::Length)
        .await
        .unwrap();
    assert_eq!(r.prompt, Some(Prompt::Download));
    let stats = client.stats();
    assert_eq!(stats.commands, 1);
    assert_eq!(stats.bytes_written, b"AT+SMTPBODY=19\r".len() as u64 + 19);
    task.await.unwrap();
}

#[tokio::test]
async fn smtpft_prompt_line_grants_the_length() {
    let (mut client, mut module) = pair(ClientConfig::with_decoder(
        DecoderConfig::default().urc("+SMTPFT:"),
    ));
    let task = spawn(async move {
        module.send(b"\r\n+SMTPFT: 1,1360\r\n").await;
        module.expect(b"AT+SMTPFT=100\r").await;
        module.send(b"\r\n+SMTPFT: 2,10\r\n").await;
        module.expect(b"0123456789").await;
        module.send(b"\r\nOK\r\n\r\n+SMTPFT: 1,1360\r\n").await;
        module
    });
    assert_eq!(
        client
            .wait_urc("+SMTPFT: 1,", Duration::from_secs(1))
            .await
            .unwrap(),
        "+SMTPFT: 1,1360"
    );
    let cmd = Command::write("+SMTPFT")
        .int(100)
        .expect_prompt(PromptKind::Line("+SMTPFT: 2,".into()));
    client.begin(&cmd).await.unwrap();
    let Prompt::Line(line) = client.wait_prompt().await.unwrap() else {
        panic!("not a line prompt")
    };
    assert_eq!(
        cellmail_at::fields::info(&line, "+SMTPFT:").unwrap()[1].as_int(),
        Some(10)
    );
    client.write_data(b"0123456789").await.unwrap();
    client.finish().await.unwrap();
    assert_eq!(
        client
            .wait_urc("+SMTPFT: 1,", Duration::from_secs(1))
            .await
            .unwrap(),
        "+SMTPFT: 1,1360"
    );
    task.await.unwrap();
}

fn pop3read(line: &str) -> Option<usize> {
    let (mode, len) = line.strip_prefix("+POP3READ: ")?.split_once(',')?;
    matches!(mode, "1" | "2").then(|| len.parse().ok())?
}

#[tokio::test]
async fn announced_raw_data_is_read_by_count() {
    let (mut client, mut module) = pair(ClientConfig::with_decoder(
        DecoderConfig::default().urc("+POP3READ: 3,"),
    ));
    let chunk = b"Subject: x\r\n\r\nOK\r\n.\r\n";
    let task = spawn(async move {
        module.expect(b"AT+POP3READ=1460\r").await;
        module
            .send(format!("\r\n+POP3READ: 2,{}\r\n", chunk.len()).as_bytes())
            .await;
        for b in chunk {
            module.send(std::slice::from_ref(b)).await;
        }
        module.send(b"\r\nOK\r\n").await;
        module.send(b"\r\n+POP3READ: 3,1460\r\n").await;
        module
    });
    let cmd = Command::write("+POP3READ").int(1460).expect_raw(pop3read);
    let r = client.execute(&cmd).await.unwrap();
    assert_eq!(r.raw, chunk);
    assert_eq!(r.info, [format!("+POP3READ: 2,{}", chunk.len())]);
    assert_eq!(
        client
            .wait_urc("+POP3READ: 3,", Duration::from_secs(1))
            .await
            .unwrap(),
        "+POP3READ: 3,1460"
    );
    task.await.unwrap();
}

#[tokio::test]
async fn echo_on_is_tolerated() {
    let (mut client, mut module) = pair(ClientConfig::default());
    let task = spawn(async move {
        module.expect(b"AT+CGMI\r").await;
        module.send(b"AT+CGMI\r\r\nSIMCOM_Ltd\r\n\r\nOK\r\n").await;
        module
    });
    let r = client.execute(&Command::exec("+CGMI")).await.unwrap();
    assert_eq!(r.info, ["SIMCOM_Ltd"]);
    task.await.unwrap();
}

#[tokio::test]
async fn encode_error_writes_nothing() {
    let (mut client, mut module) = pair(ClientConfig::default());
    let err = client
        .execute(&Command::write("+SMTPSUB").string("subject", "a\r\nAT+SMTPSEND"))
        .await
        .unwrap_err();
    assert!(matches!(err, AtError::Encode(_)), "{err}");
    assert!(err.to_string().contains("`subject`"));
    assert_eq!(client.stats().bytes_written, 0);
    drop(client);
    let mut rest = Vec::new();
    module.0.read_to_end(&mut rest).await.unwrap();
    assert!(rest.is_empty());
}

#[tokio::test]
async fn closed_line_is_reported() {
    let (mut client, mut module) = pair(ClientConfig::default());
    let task = tokio::spawn(async move {
        module.expect(b"AT\r").await;
        drop(module);
    });
    let err = client.execute(&Command::exec("")).await.unwrap_err();
    assert!(matches!(err, AtError::Closed), "{err}");
    task.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_cancelled_call_leaves_the_client_usable() {
    let (mut client, mut module) = pair(ClientConfig::default());
    let task = spawn(async move {
        module.expect(b"AT+SMTPSEND\r").await;
        // The caller gives up before the module answers...
        tokio::time::sleep(Duration::from_secs(2)).await;
        module.send(b"\r\nOK\r\n").await;
        // ...and the client resynchronises before the next command.
        module.expect(b"AT\r").await;
        module.send(b"\r\nOK\r\n").await;
        module.expect(b"AT+CSQ\r").await;
        module.send(b"\r\n+CSQ: 27,99\r\n\r\nOK\r\n").await;
        module
    });
    let slow = Command::exec("+SMTPSEND").timeout(Duration::from_secs(60));
    let cancelled = tokio::time::timeout(Duration::from_secs(1), client.execute(&slow)).await;
    assert!(cancelled.is_err(), "the call was cancelled");
    let r = client.execute(&Command::exec("+CSQ")).await.unwrap();
    assert_eq!(
        r.info,
        ["+CSQ: 27,99"],
        "the late OK was not taken for ours"
    );
    task.await.unwrap();
}

// ---- Recovery: what a timeout, an error or an abandoned result leaves behind ----

#[tokio::test(start_paused = true)]
async fn a_raw_block_cut_short_is_dropped_after_the_timeout() {
    let (mut client, mut module) = pair(ClientConfig::with_decoder(
        DecoderConfig::default().urc("+POP3OUT:"),
    ));
    let task = spawn(async move {
        module.expect(b"AT+POP3READ=1460\r").await;
        // Announces 1460 bytes, sends a few (which look like lines), then
        // stays silent past the host's timeout.
        module
            .send(b"\r\n+POP3READ: 1,1460\r\nSubject: cut\r\nRDY\r\n\r\nOK\r\n")
            .await;
        // A line after a long gap: the session is over.
        tokio::time::sleep(Duration::from_secs(6)).await;
        module.send(b"\r\n+POP3OUT: 3\r\n").await;
        module.expect(b"AT\r").await;
        module.send(b"\r\nOK\r\n").await;
        module.expect(b"AT+CSQ\r").await;
        module.send(b"\r\n+CSQ: 27,99\r\n\r\nOK\r\n").await;
        module
    });
    let read = Command::write("+POP3READ")
        .int(1460)
        .expect_raw(pop3read)
        .timeout(Duration::from_secs(5));
    let err = client.execute(&read).await.unwrap_err();
    assert!(err.is_timeout(), "{err}");
    let r = client.execute(&Command::exec("+CSQ")).await.unwrap();
    assert_eq!(r.info, ["+CSQ: 27,99"]);
    // The partial block's bytes were data: none of them became a URC.
    assert_eq!(client.take_urcs(), ["+POP3OUT: 3"]);
    task.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn own_result_before_the_late_one_reaches_the_retrys_waiter() {
    let (mut client, mut module) = pair(ClientConfig::default());
    let task = spawn(async move {
        module.expect(b"AT+QSMTPPUT\r").await;
        module.send(b"\r\nOK\r\n").await;
        module.expect(b"AT+QSMTPPUT\r").await;
        module.send(b"\r\nOK\r\n\r\n+QSMTPPUT: 0\r\n").await;
        tokio::time::sleep(Duration::from_secs(5)).await;
        // The first one's result, later still.
        module.send(b"\r\n+QSMTPPUT: -9\r\n").await;
        module.expect(b"AT+QSMTPPUT\r").await;
        module.send(b"\r\nOK\r\n\r\n+QSMTPPUT: 1\r\n").await;
        module
    });
    let put = Command::exec("+QSMTPPUT").expect_deferred("+QSMTPPUT:");
    let wait = Duration::from_secs(10);
    client.execute(&put).await.unwrap();
    assert!(
        client
            .deferred("+QSMTPPUT:", wait)
            .await
            .unwrap_err()
            .is_timeout()
    );
    client.execute(&put).await.unwrap();
    assert_eq!(
        client.deferred("+QSMTPPUT:", wait).await.unwrap(),
        "+QSMTPPUT: 0"
    );
    client.idle(Duration::from_secs(10)).await.unwrap();
    assert_eq!(client.take_urcs(), ["+QSMTPPUT: -9"]);
    // Exactly one line was dropped: the next result is a result.
    client.execute(&put).await.unwrap();
    assert_eq!(
        client.deferred("+QSMTPPUT:", wait).await.unwrap(),
        "+QSMTPPUT: 1"
    );
    task.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_result_that_will_never_come_is_forgotten() {
    let (mut client, mut module) = pair(ClientConfig::with_decoder(
        DecoderConfig::default().urc("+POP3OUT:"),
    ));
    let task = spawn(async move {
        module.expect(b"AT+POP3NUM\r").await;
        // The session ends instead of the answer.
        module.send(b"\r\nOK\r\n\r\n+POP3OUT: 3\r\n").await;
        module.expect(b"AT+POP3NUM\r").await;
        module.send(b"\r\nOK\r\n\r\n+POP3NUM: 0,2,2134\r\n").await;
        tokio::time::sleep(Duration::from_secs(1)).await;
        module.send(b"\r\n+POP3NUM: 0,9,9\r\n").await;
        module.expect(b"AT+POP3NUM\r").await;
        module.send(b"\r\nOK\r\n\r\n+POP3NUM: 0,1,10\r\n").await;
        module
    });
    let num = Command::exec("+POP3NUM").expect_deferred("+POP3NUM:");
    let wait = Duration::from_secs(30);
    client.execute(&num).await.unwrap();
    assert_eq!(
        client
            .wait_any(&["+POP3NUM:"], &["+POP3OUT:"], wait)
            .await
            .unwrap(),
        Arrived::Urc("+POP3OUT: 3".into())
    );
    client.forget_deferred_prefix("+POP3NUM:");
    client.execute(&num).await.unwrap();
    assert_eq!(
        client.deferred("+POP3NUM:", wait).await.unwrap(),
        "+POP3NUM: 0,2,2134"
    );
    // Nothing is expected any more: a stray line is a URC, not a result
    // kept for the next waiter.
    client.idle(Duration::from_secs(2)).await.unwrap();
    assert_eq!(client.take_urcs(), ["+POP3NUM: 0,9,9"]);
    let err = client.deferred("+POP3NUM:", wait).await.unwrap_err();
    assert!(matches!(err, AtError::Protocol { .. }), "{err}");
    // A result received and not yet waited for is forgotten too.
    client.execute(&num).await.unwrap();
    client.idle(Duration::from_secs(1)).await.unwrap();
    client.forget_deferred_prefix("+POP3NUM:");
    let err = client.deferred("+POP3NUM:", wait).await.unwrap_err();
    assert!(matches!(err, AtError::Protocol { .. }), "{err}");
    task.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_line_the_command_ends_on_ends_the_wait_for_its_prompt_at_once() {
    let (mut client, mut module) = pair(ClientConfig::with_decoder(
        DecoderConfig::default().urc("+SMTPFT: 1,"),
    ));
    let task = spawn(async move {
        module.expect(b"AT+SMTPSEND\r").await;
        module.send(b"\r\nOK\r\n\r\n+SMTPFT: 1,1360\r\n").await;
        module.expect(b"AT+SMTPFT=100\r").await;
        // SIM7000 §3.2.11: "If some error occur: +SMTPSEND: <code>".
        module.send(b"\r\n+SMTPSEND: 64\r\n").await;
        // The module may or may not close AT+SMTPFT itself: the client
        // resynchronises before the next command.
        module.expect(b"AT\r").await;
        module.send(b"\r\nOK\r\n").await;
        module.expect(b"AT+CSQ\r").await;
        module.send(b"\r\n+CSQ: 27,99\r\n\r\nOK\r\n").await;
        module
    });
    let send = Command::exec("+SMTPSEND").expect_deferred("+SMTPSEND:");
    client.execute(&send).await.unwrap();
    client
        .wait_urc("+SMTPFT: 1,", Duration::from_secs(1))
        .await
        .unwrap();
    let chunk = Command::write("+SMTPFT")
        .int(100)
        .expect_prompt(PromptKind::Line("+SMTPFT: 2,".into()))
        .ends_on("+SMTPSEND:")
        .timeout(Duration::from_secs(30));
    client.begin(&chunk).await.unwrap();
    let started = Instant::now();
    let err = client.wait_prompt().await.unwrap_err();
    assert!(
        matches!(err, AtError::Failed { ref command, ref result }
            if command == "AT+SMTPFT=100" && result == "+SMTPSEND: 64"),
        "{err}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "waited {:?}",
        started.elapsed()
    );
    // It is also the result the send's waiter gets, at once.
    assert_eq!(
        client
            .deferred("+SMTPSEND:", Duration::from_secs(60))
            .await
            .unwrap(),
        "+SMTPSEND: 64"
    );
    assert!(started.elapsed() < Duration::from_secs(1));
    let r = client.execute(&Command::exec("+CSQ")).await.unwrap();
    assert_eq!(r.info, ["+CSQ: 27,99"]);
    assert!(client.take_urcs().is_empty());
    task.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_call_cancelled_within_the_guard_time_leaves_the_silence_to_keep() {
    let (mut client, mut module) = pair(ClientConfig::default());
    let task = spawn(async move {
        module.expect(b"AT+QSMTPBODY=1,60\r").await;
        module.send(b"\r\nOK\r\n\r\nCONNECT\r\n").await;
        module.expect(b"Hi").await;
        module.expect(b"+++").await;
        let escape_seen = Instant::now();
        module.expect(b"AT+CSQ\r").await;
        assert!(
            escape_seen.elapsed() >= Duration::from_millis(900),
            "no guard time after +++: {:?}",
            escape_seen.elapsed()
        );
        module.send(b"\r\n+CSQ: 27,99\r\n\r\nOK\r\n").await;
        module
    });
    let body = Command::write("+QSMTPBODY")
        .int(1)
        .int(60)
        .expect_prompt(PromptKind::Connect);
    client.upload(&body, b"Hi", DataEnd::Escape).await.unwrap();
    let csq = Command::exec("+CSQ");
    // Given up while it still keeps the silence after +++: nothing written.
    let cancelled = tokio::time::timeout(Duration::from_millis(100), client.execute(&csq)).await;
    assert!(cancelled.is_err());
    let r = client.execute(&csq).await.unwrap();
    assert_eq!(r.info, ["+CSQ: 27,99"]);
    task.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_prompt_that_never_came_leaves_no_result_expected() {
    let (mut client, mut module) = pair(ClientConfig::default());
    let task = spawn(async move {
        module.expect(b"AT+QSMTPBODY=1,60\r").await;
        // OK, and no CONNECT in time.
        module.send(b"\r\nOK\r\n").await;
        module.expect(b"AT\r").await;
        // The abandoned upload's result, late.
        module.send(b"\r\n+QSMTPBODY: 0\r\n\r\nOK\r\n").await;
        module.expect(b"AT+QSMTPBODY=1,60\r").await;
        module.send(b"\r\nOK\r\n\r\nCONNECT\r\n").await;
        module.expect(b"Hi").await;
        module.expect(b"+++").await;
        module.send(b"\r\n+QSMTPBODY: 2\r\n").await;
        module
    });
    let body = Command::write("+QSMTPBODY")
        .int(1)
        .int(60)
        .expect_prompt(PromptKind::Connect)
        .expect_deferred("+QSMTPBODY:");
    let err = client
        .upload(&body, b"Hi", DataEnd::Escape)
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err}");
    client.upload(&body, b"Hi", DataEnd::Escape).await.unwrap();
    assert_eq!(
        client
            .deferred("+QSMTPBODY:", Duration::from_secs(5))
            .await
            .unwrap(),
        "+QSMTPBODY: 2"
    );
    assert_eq!(client.take_urcs(), ["+QSMTPBODY: 0"]);
    task.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_result_that_came_instead_of_the_prompt_is_not_kept_for_the_next() {
    let (mut client, mut module) = pair(ClientConfig::default());
    let task = spawn(async move {
        module.expect(b"AT+QSMTPBODY=1,60\r").await;
        module.send(b"\r\nOK\r\n\r\n+QSMTPBODY: -1\r\n").await;
        module.expect(b"AT\r").await;
        module.send(b"\r\nOK\r\n").await;
        module.expect(b"AT+QSMTPBODY=1,60\r").await;
        module.send(b"\r\nOK\r\n\r\nCONNECT\r\n").await;
        module.expect(b"Hi").await;
        module.expect(b"+++").await;
        tokio::time::sleep(Duration::from_secs(3)).await;
        module.send(b"\r\n+QSMTPBODY: 2\r\n").await;
        module
    });
    let body = Command::write("+QSMTPBODY")
        .int(1)
        .int(60)
        .expect_prompt(PromptKind::Connect)
        .expect_deferred("+QSMTPBODY:");
    let err = client
        .upload(&body, b"Hi", DataEnd::Escape)
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err}");
    client.upload(&body, b"Hi", DataEnd::Escape).await.unwrap();
    assert_eq!(
        client
            .deferred("+QSMTPBODY:", Duration::from_secs(5))
            .await
            .unwrap(),
        "+QSMTPBODY: 2"
    );
    task.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn the_echo_of_the_resynchronising_at_is_no_urc() {
    let (mut client, mut module) = pair(ClientConfig::default());
    let task = spawn(async move {
        module.expect(b"AT+CGATT?\r").await;
        module.send(b"AT+CGATT?\r").await;
        module.expect(b"AT\r").await;
        // Echo on (ATE1), and the late answer of the abandoned command.
        module
            .send(b"\r\n+CGATT: 0\r\n\r\nOK\r\nAT\r\r\nOK\r\n")
            .await;
        module.expect(b"AT+CSQ\r").await;
        module.send(b"AT+CSQ\r\r\n+CSQ: 27,99\r\n\r\nOK\r\n").await;
        module
    });
    let err = client.execute(&Command::read("+CGATT")).await.unwrap_err();
    assert!(err.is_timeout(), "{err}");
    let r = client.execute(&Command::exec("+CSQ")).await.unwrap();
    assert_eq!(r.info, ["+CSQ: 27,99"]);
    assert!(client.take_urcs().is_empty(), "{:?}", client.take_urcs());
    task.await.unwrap();
}

/// A stream whose next read fails once when told to.
struct Flaky {
    io: DuplexStream,
    fail: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl tokio::io::AsyncRead for Flaky {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        if self.fail.swap(false, std::sync::atomic::Ordering::SeqCst) {
            return std::task::Poll::Ready(Err(std::io::Error::other("framing error")));
        }
        std::pin::Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl tokio::io::AsyncWrite for Flaky {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.io).poll_write(cx, buf)
    }
    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.io).poll_flush(cx)
    }
    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

#[tokio::test(start_paused = true)]
async fn a_read_error_mid_command_is_followed_by_a_resync() {
    let (host, module) = tokio::io::duplex(4096);
    let fail = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let io = Flaky {
        io: host,
        fail: fail.clone(),
    };
    let mut client = Client::new(io, ClientConfig::default());
    let mut module = Module(module);
    let task = spawn(async move {
        module.expect(b"AT+CGATT?\r").await;
        module.send(b"\r\n+CGATT: 0\r\n\r\nOK\r\n").await;
        module.expect(b"AT\r").await;
        module.send(b"\r\nOK\r\n").await;
        module.expect(b"AT+CGATT?\r").await;
        module.send(b"\r\n+CGATT: 1\r\n\r\nOK\r\n").await;
        module
    });
    let cgatt = Command::read("+CGATT");
    let err = client.execute(&cgatt).await.unwrap_err();
    assert!(matches!(err, AtError::Io(_)), "{err}");
    let r = client.execute(&cgatt).await.unwrap();
    assert_eq!(r.info, ["+CGATT: 1"], "the first answer was not taken");
    task.await.unwrap();
}

// ---- Data mode, cancellation while writing, caller-supplied timeouts ----

/// A stream whose every flush takes `delay`, as a serial port's does while
/// its line drains.
struct SlowFlush {
    io: DuplexStream,
    delay: Duration,
    sleep: Option<std::pin::Pin<Box<tokio::time::Sleep>>>,
}

fn slow_flush_pair(delay: Duration) -> (Client<SlowFlush>, Module) {
    let (host, module) = tokio::io::duplex(64 * 1024);
    let io = SlowFlush {
        io: host,
        delay,
        sleep: None,
    };
    (Client::new(io, ClientConfig::default()), Module(module))
}

impl tokio::io::AsyncRead for SlowFlush {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl tokio::io::AsyncWrite for SlowFlush {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        // New bytes: the next flush waits for them all over again.
        self.sleep = None;
        std::pin::Pin::new(&mut self.io).poll_write(cx, buf)
    }
    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        use std::future::Future;
        let delay = self.delay;
        let sleep = self
            .sleep
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(delay)));
        std::task::ready!(sleep.as_mut().poll(cx));
        self.sleep = None;
        std::pin::Pin::new(&mut self.io).poll_flush(cx)
    }
    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

fn quectel_body() -> Command {
    Command::write("+QSMTPBODY")
        .int(1)
        .int(60)
        .expect_prompt(PromptKind::Connect)
}

/// The module's side of an escape-ended upload given up after `data`: it
/// must see silence, `+++` alone, silence, and only then `AT`.
async fn expect_escape_then_resync(module: &mut Module, data: &[u8]) {
    module.expect(b"AT+QSMTPBODY=1,60\r").await;
    module.send(b"\r\nOK\r\n\r\nCONNECT\r\n").await;
    module.expect(data).await;
    let data_seen = Instant::now();
    // Not `AT\r` into the body: the escape, alone, after the guard time.
    module.expect(b"+++").await;
    assert!(
        data_seen.elapsed() >= Duration::from_secs(1),
        "no guard time before +++: {:?}",
        data_seen.elapsed()
    );
    let escape_seen = Instant::now();
    module.send(b"\r\n+QSMTPBODY: 5\r\n").await;
    module.expect(b"AT\r").await;
    assert!(
        escape_seen.elapsed() >= Duration::from_millis(900),
        "no guard time after +++: {:?}",
        escape_seen.elapsed()
    );
    module.send(b"\r\nOK\r\n").await;
    module.expect(b"AT+CSQ\r").await;
    module.send(b"\r\n+CSQ: 27,99\r\n\r\nOK\r\n").await;
}

#[tokio::test(start_paused = true)]
async fn an_upload_cancelled_in_the_guard_time_before_its_escape_is_escaped_before_the_next_command()
 {
    let (mut client, mut module) = pair(ClientConfig::default());
    let task = spawn(async move {
        expect_escape_then_resync(&mut module, b"Hello").await;
        module
    });
    // Given up while it keeps the silence before `+++`.
    let cancelled = tokio::time::timeout(
        Duration::from_millis(500),
        client.upload(&quectel_body(), b"Hello", DataEnd::Escape),
    )
    .await;
    assert!(cancelled.is_err());
    let r = client.execute(&Command::exec("+CSQ")).await.unwrap();
    assert_eq!(r.info, ["+CSQ: 27,99"]);
    task.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_declared_escape_payload_left_open_is_escaped_before_the_next_command() {
    let (mut client, mut module) = pair(ClientConfig::default());
    let task = spawn(async move {
        expect_escape_then_resync(&mut module, b"Hel").await;
        module
    });
    let body = quectel_body().expect_payload(Payload::Escape);
    client.begin(&body).await.unwrap();
    client.wait_prompt().await.unwrap();
    client.write_data(b"Hel").await.unwrap();
    // The caller goes away in the middle of the body.
    let r = client.execute(&Command::exec("+CSQ")).await.unwrap();
    assert_eq!(r.info, ["+CSQ: 27,99"]);
    task.await.unwrap();
}

fn smtpbody() -> Command {
    Command::write("+SMTPBODY")
        .int(19)
        .expect_prompt(PromptKind::Download)
}

#[tokio::test(start_paused = true)]
async fn a_length_delimited_upload_cut_short_refuses_the_next_command() {
    // A small pipe: the upload blocks once the module stops reading.
    let (host, module) = tokio::io::duplex(8);
    let mut client = Client::new(host, ClientConfig::default());
    let mut module = Module(module);
    let task = spawn(async move {
        module.expect(b"AT+SMTPBODY=19\r").await;
        module.send(b"\r\nDOWNLOAD\r\n").await;
        module.expect(b"This is").await;
        tokio::time::sleep(Duration::from_secs(10)).await;
        // Everything the host wrote since is payload, never `AT`.
        module.expect(b" a new E").await;
        // The module gives up on the body itself (its input timeout).
        module.send(b"\r\nERROR\r\n").await;
        module.expect(b"AT+CSQ\r").await;
        module.send(b"\r\n+CSQ: 27,99\r\n\r\nOK\r\n").await;
        module
    });
    let cancelled = tokio::time::timeout(
        Duration::from_secs(1),
        client.upload(&smtpbody(), b"This is a new Email", DataEnd::Length),
    )
    .await;
    assert!(cancelled.is_err());
    let csq = Command::exec("+CSQ");
    for _ in 0..2 {
        let err = client.execute(&csq).await.unwrap_err();
        assert!(
            matches!(err, AtError::Protocol { ref command, ref detail }
                if command == "AT+CSQ" && detail.contains("still in data mode: 4 bytes owed to AT+SMTPBODY=19")),
            "{err}"
        );
        assert!(client.in_data_mode());
    }
    let written = client.stats().bytes_written;
    assert_eq!(written, b"AT+SMTPBODY=19\r".len() as u64 + 15);
    // The module's own final ends its data mode.
    client.idle(Duration::from_secs(12)).await.unwrap();
    assert!(!client.in_data_mode());
    let r = client.execute(&csq).await.unwrap();
    assert_eq!(r.info, ["+CSQ: 27,99"]);
    task.await.unwrap();
}

/// A source that fails after a few bytes.
struct FailingSource(&'static [u8]);

impl tokio::io::AsyncRead for FailingSource {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        if self.0.is_empty() {
            return std::task::Poll::Ready(Err(std::io::Error::other("disk error")));
        }
        let n = self.0.len().min(buf.remaining());
        buf.put_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        std::task::Poll::Ready(Ok(()))
    }
}

#[tokio::test(start_paused = true)]
async fn a_failing_source_leaves_bytes_owed_until_the_data_mode_is_forgotten() {
    let (mut client, mut module) = pair(ClientConfig::default());
    let task = spawn(async move {
        module.expect(b"AT+SMTPBODY=19\r").await;
        module.send(b"\r\nDOWNLOAD\r\n").await;
        module.expect(b"This ").await;
        // Whatever the host does next, it is no AT command into the body
        // until it says the module left data mode.
        module.expect(b"AT\r").await;
        module.send(b"\r\nOK\r\n").await;
        module.expect(b"AT+CSQ\r").await;
        module.send(b"\r\n+CSQ: 27,99\r\n\r\nOK\r\n").await;
        module
    });
    client
        .begin(&smtpbody().expect_payload(Payload::Length(19)))
        .await
        .unwrap();
    client.wait_prompt().await.unwrap();
    let err = client
        .copy_data(&mut FailingSource(b"This "), 19)
        .await
        .unwrap_err();
    assert!(matches!(err, AtError::Io(_)), "{err}");
    let csq = Command::exec("+CSQ");
    let err = client.execute(&csq).await.unwrap_err();
    assert!(err.to_string().contains("14 bytes owed"), "{err}");
    // E.g. after the module's input timeout, or a reset.
    client.forget_data_mode();
    let r = client.execute(&csq).await.unwrap();
    assert_eq!(r.info, ["+CSQ: 27,99"]);
    task.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_payload_given_up_whose_end_was_not_declared_refuses_the_next_command() {
    let (mut client, mut module) = pair(ClientConfig::with_decoder(
        DecoderConfig::default().urc("+SMTPFT:"),
    ));
    let task = spawn(async move {
        module.expect(b"AT+SMTPFT=10\r").await;
        module.send(b"\r\n+SMTPFT: 2,10\r\n").await;
        module.expect(b"01234").await;
        module
    });
    let chunk = Command::write("+SMTPFT")
        .int(10)
        .expect_prompt(PromptKind::Line("+SMTPFT: 2,".into()));
    client.begin(&chunk).await.unwrap();
    client.wait_prompt().await.unwrap();
    client.write_data(b"01234").await.unwrap();
    // The caller went away without saying how much the module takes.
    let err = client.execute(&Command::exec("+CSQ")).await.unwrap_err();
    assert!(
        matches!(err, AtError::Protocol { ref detail, .. } if detail.contains("not declared")),
        "{err}"
    );
    let mut module = task.await.unwrap();
    drop(client);
    let mut rest = Vec::new();
    module.0.read_to_end(&mut rest).await.unwrap();
    assert!(rest.is_empty(), "{:?}", String::from_utf8_lossy(&rest));
}

#[tokio::test(start_paused = true)]
async fn a_grant_declared_after_the_prompt_counts_what_is_owed() {
    let (mut client, mut module) = pair(ClientConfig::default());
    let task = spawn(async move {
        module.expect(b"AT+SMTPFT=10\r").await;
        module.send(b"\r\n+SMTPFT: 2,6\r\n").await;
        module.expect(b"0123").await;
        module
    });
    let chunk = Command::write("+SMTPFT")
        .int(10)
        .expect_prompt(PromptKind::Line("+SMTPFT: 2,".into()));
    client.begin(&chunk).await.unwrap();
    client.wait_prompt().await.unwrap();
    // The module grants 6 of the 10 bytes asked for.
    client.declare_payload(Payload::Length(6)).unwrap();
    client.write_data(b"0123").await.unwrap();
    let err = client.execute(&Command::exec("+CSQ")).await.unwrap_err();
    assert!(err.to_string().contains("2 bytes owed"), "{err}");
    task.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_call_cancelled_while_its_command_is_written_is_resynchronised() {
    let (mut client, mut module) = slow_flush_pair(Duration::from_secs(2));
    let task = spawn(async move {
        module.expect(b"AT+CGATT?\r").await;
        module.send(b"\r\n+CGATT: 0\r\n\r\nOK\r\n").await;
        // Its answer was not read: the host resynchronises first.
        module.expect(b"AT\r").await;
        module.send(b"\r\nOK\r\n").await;
        module.expect(b"AT+CSQ\r").await;
        module.send(b"\r\n+CSQ: 27,99\r\n\r\nOK\r\n").await;
        module
    });
    // Given up while the line drains the command: all of it was written.
    let cancelled = tokio::time::timeout(
        Duration::from_secs(1),
        client.execute(&Command::read("+CGATT")),
    )
    .await;
    assert!(cancelled.is_err());
    let r = client.execute(&Command::exec("+CSQ")).await.unwrap();
    assert_eq!(
        r.info,
        ["+CSQ: 27,99"],
        "the late answer was taken for ours"
    );
    task.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_command_cut_short_while_written_is_resynchronised() {
    // A pipe too small for the command: the module reads it late.
    let (host, module) = tokio::io::duplex(4);
    let mut client = Client::new(host, ClientConfig::default());
    let mut module = Module(module);
    let task = spawn(async move {
        tokio::time::sleep(Duration::from_secs(2)).await;
        // Half a command, then the resynchronising AT (the module answers
        // the garbled line with ERROR), then the next command.
        module.expect(b"AT+CAT\r").await;
        module.send(b"\r\nERROR\r\n").await;
        module.expect(b"AT+CSQ\r").await;
        module.send(b"\r\n+CSQ: 27,99\r\n\r\nOK\r\n").await;
        module
    });
    let cancelled = tokio::time::timeout(
        Duration::from_secs(1),
        client.execute(&Command::read("+CGATT")),
    )
    .await;
    assert!(cancelled.is_err());
    let r = client.execute(&Command::exec("+CSQ")).await.unwrap();
    assert_eq!(r.info, ["+CSQ: 27,99"]);
    task.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn the_silence_after_an_escape_is_kept_when_the_call_is_cancelled_while_writing_it() {
    let (mut client, mut module) = slow_flush_pair(Duration::from_secs(2));
    let task = spawn(async move {
        module.expect(b"AT+QSMTPBODY=1,60\r").await;
        module.send(b"\r\nOK\r\n\r\nCONNECT\r\n").await;
        module.expect(b"Hi").await;
        module.expect(b"+++").await;
        let escape_seen = Instant::now();
        module.expect(b"AT\r").await;
        assert!(
            escape_seen.elapsed() >= Duration::from_millis(900),
            "no guard time after +++: {:?}",
            escape_seen.elapsed()
        );
        module.send(b"\r\nOK\r\n").await;
        module.expect(b"AT+CSQ\r").await;
        module.send(b"\r\n+CSQ: 27,99\r\n\r\nOK\r\n").await;
        module
    });
    // Command written by 2 s, data by 4 s, `+++` at 5 s: given up at 5.5 s,
    // while the line drains it.
    let started = Instant::now();
    let cancelled = tokio::time::timeout(
        Duration::from_millis(5500),
        client.upload(&quectel_body(), b"Hi", DataEnd::Escape),
    )
    .await;
    assert!(cancelled.is_err());
    assert_eq!(started.elapsed(), Duration::from_millis(5500));
    let r = client.execute(&Command::exec("+CSQ")).await.unwrap();
    assert_eq!(r.info, ["+CSQ: 27,99"]);
    task.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn the_longest_timeouts_do_not_overflow() {
    let config = ClientConfig {
        command_timeout: Duration::MAX,
        resync_timeout: Duration::MAX,
        ..ClientConfig::with_decoder(DecoderConfig::default().urc("+SMTP:"))
    };
    let (mut client, mut module) = pair(config);
    let task = spawn(async move {
        module.expect(b"AT+QSMTPPUT\r").await;
        module.send(b"\r\nOK\r\n\r\n+QSMTPPUT: 0\r\n").await;
        module.expect(b"AT+CSQ\r").await;
        module
            .send(b"\r\n+CSQ: 27,99\r\n\r\nOK\r\n\r\n+SMTP: 1\r\n")
            .await;
        module.expect(b"AT+QSMTPPUT\r").await;
        module.send(b"\r\nOK\r\n\r\n+QSMTPPUT: 1\r\n").await;
        module.expect(b"AT+CGATT?\r").await;
        // Too late for its 1 s timeout: resynchronised with no time limit.
        module.expect(b"AT\r").await;
        module.send(b"\r\nOK\r\n").await;
        module.expect(b"AT+CSQ\r").await;
        module.send(b"\r\n+CSQ: 27,99\r\n\r\nOK\r\n").await;
        module
    });
    let put = Command::exec("+QSMTPPUT")
        .expect_deferred("+QSMTPPUT:")
        .timeout(Duration::MAX);
    client.execute(&put).await.unwrap();
    assert_eq!(
        client.deferred("+QSMTPPUT:", Duration::MAX).await.unwrap(),
        "+QSMTPPUT: 0"
    );
    // The configured command timeout.
    client.execute(&Command::exec("+CSQ")).await.unwrap();
    assert_eq!(
        client.wait_urc("+SMTP:", Duration::MAX).await.unwrap(),
        "+SMTP: 1"
    );
    client.execute(&put).await.unwrap();
    assert_eq!(
        client
            .wait_any(&["+QSMTPPUT:"], &["+SMTP:"], Duration::MAX)
            .await
            .unwrap(),
        Arrived::Deferred("+QSMTPPUT: 1".into())
    );
    let cgatt = Command::read("+CGATT").timeout(Duration::from_secs(1));
    assert!(client.execute(&cgatt).await.unwrap_err().is_timeout());
    client.execute(&Command::exec("+CSQ")).await.unwrap();
    let module = task.await.unwrap();
    drop(module);
    // The line closes while idling for ever.
    let err = client.idle(Duration::MAX).await.unwrap_err();
    assert!(matches!(err, AtError::Closed), "{err}");
}

#[tokio::test(start_paused = true)]
async fn a_final_the_module_sent_by_itself_ends_its_data_mode_before_the_next_command() {
    let (mut client, mut module) = pair(ClientConfig::default());
    let task = spawn(async move {
        module.expect(b"AT+SMTPBODY=19\r").await;
        module.send(b"\r\nDOWNLOAD\r\n").await;
        module.expect(b"This ").await;
        // Its input timeout: it ends the body itself.
        module.send(b"\r\nERROR\r\n").await;
        module.expect(b"AT+CSQ\r").await;
        module.send(b"\r\n+CSQ: 27,99\r\n\r\nOK\r\n").await;
        module
    });
    client
        .begin(&smtpbody().expect_payload(Payload::Length(19)))
        .await
        .unwrap();
    client.wait_prompt().await.unwrap();
    let err = client
        .copy_data(&mut FailingSource(b"This "), 19)
        .await
        .unwrap_err();
    assert!(matches!(err, AtError::Io(_)), "{err}");
    // The module's ERROR is on the line; nobody read it yet.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let r = client.execute(&Command::exec("+CSQ")).await.unwrap();
    assert_eq!(r.info, ["+CSQ: 27,99"]);
    assert!(!client.in_data_mode());
    task.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn an_unexpected_connect_is_escaped_before_the_next_command() {
    let (mut client, mut module) = pair(ClientConfig::default());
    let task = spawn(async move {
        module.expect(b"AT+QSMTPBODY=1,60\r").await;
        module.send(b"\r\nCONNECT\r\n").await;
        // No payload, then the escape, alone, and the resync.
        module.expect(b"+++").await;
        module.send(b"\r\nOK\r\n").await;
        module.expect(b"AT\r").await;
        module.send(b"\r\nOK\r\n").await;
        module.expect(b"AT+CSQ\r").await;
        module.send(b"\r\n+CSQ: 27,99\r\n\r\nOK\r\n").await;
        module
    });
    let body = Command::write("+QSMTPBODY")
        .int(1)
        .int(60)
        .expect_prompt(PromptKind::Connect);
    let err = client.execute(&body).await.unwrap_err();
    assert!(
        matches!(err, AtError::Protocol { ref detail, .. } if detail.contains("unexpected prompt") && detail.contains("+++")),
        "{err}"
    );
    let r = client.execute(&Command::exec("+CSQ")).await.unwrap();
    assert_eq!(r.info, ["+CSQ: 27,99"]);
    task.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn an_unexpected_download_prompt_does_not_block_later_commands() {
    let (mut client, mut module) = pair(ClientConfig::default());
    let task = spawn(async move {
        module.expect(b"AT+SMTPBODY=19\r").await;
        module.send(b"\r\nDOWNLOAD\r\n").await;
        module.expect(b"AT\r").await;
        module.send(b"\r\nERROR\r\n\r\nOK\r\n").await;
        module.expect(b"AT+CSQ\r").await;
        module.send(b"\r\n+CSQ: 27,99\r\n\r\nOK\r\n").await;
        module
    });
    let err = client.execute(&smtpbody()).await.unwrap_err();
    assert!(
        matches!(err, AtError::Protocol { ref detail, .. } if detail.contains("unexpected prompt") && detail.contains("resynchronises")),
        "{err}"
    );
    let r = client.execute(&Command::exec("+CSQ")).await.unwrap();
    assert_eq!(r.info, ["+CSQ: 27,99"]);
    task.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn lines_that_start_like_at_are_urcs_unless_they_are_the_exact_echo() {
    let (mut client, mut module) = pair(ClientConfig::default());
    let task = spawn(async move {
        module.expect(b"AT+CSQ\r").await;
        // No answer: the host gives up; then its echo and two data lines.
        tokio::time::sleep(Duration::from_secs(6)).await;
        module
            .send(b"\r\nAT+CSQ\r\n\r\nat+csq\r\n\r\nAt 10:00 the meter read 42\r\n")
            .await;
        module
    });
    let csq = Command::exec("+CSQ");
    let err = client.execute(&csq).await.unwrap_err();
    assert!(err.is_timeout(), "{err}");
    let mut module = task.await.unwrap();
    client.idle(Duration::from_secs(1)).await.unwrap();
    assert_eq!(client.take_urcs(), ["at+csq", "At 10:00 the meter read 42"]);
    module.send(b"\r\nAttached 2 files\r\n").await;
    client.idle(Duration::from_secs(1)).await.unwrap();
    assert_eq!(client.take_urcs(), ["Attached 2 files"]);
}

/// A line whose flush never ends (a wedged `tcdrain`), once `wedged` is set.
struct WedgedFlush {
    inner: DuplexStream,
    wedged: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl tokio::io::AsyncRead for WedgedFlush {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl tokio::io::AsyncWrite for WedgedFlush {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        if self.wedged.load(std::sync::atomic::Ordering::SeqCst) {
            return std::task::Poll::Pending;
        }
        std::pin::Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[tokio::test(start_paused = true)]
async fn a_flush_that_never_ends_times_out_with_the_command() {
    let (host, module) = tokio::io::duplex(1024);
    let wedged = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let io = WedgedFlush {
        inner: host,
        wedged: std::sync::Arc::clone(&wedged),
    };
    let mut client = Client::new(io, ClientConfig::default());
    let mut module = Module(module);
    let csq = Command::exec("+CSQ");
    let started = Instant::now();
    let err = tokio::time::timeout(Duration::from_secs(60), client.execute(&csq))
        .await
        .expect("the flush is bounded by the command's deadline")
        .unwrap_err();
    assert!(
        matches!(err, AtError::Timeout { ref command, after } if command == "AT+CSQ" && after == Duration::from_secs(5)),
        "{err}"
    );
    assert_eq!(started.elapsed(), Duration::from_secs(5));
    // The line drains again: the next command resynchronises first.
    wedged.store(false, std::sync::atomic::Ordering::SeqCst);
    let task = spawn(async move {
        module.expect(b"AT+CSQ\r").await;
        module.send(b"\r\n+CSQ: 1,99\r\n\r\nOK\r\n").await;
        module.expect(b"AT\r").await;
        module.send(b"\r\nOK\r\n").await;
        module.expect(b"AT+CSQ\r").await;
        module.send(b"\r\n+CSQ: 27,99\r\n\r\nOK\r\n").await;
        module
    });
    let r = client.execute(&csq).await.unwrap();
    assert_eq!(r.info, ["+CSQ: 27,99"]);
    task.await.unwrap();
}

/// What an operator reads when a prompt comes that nobody asked for: words,
/// one space between them, what the next command will do.
#[tokio::test(start_paused = true)]
async fn an_unexpected_prompt_is_told_in_plain_words() {
    let (mut client, mut module) = pair(ClientConfig::default());
    let task = spawn(async move {
        module.expect(b"AT+QSMTPBODY=1,60\r").await;
        module.send(b"\r\nCONNECT\r\n").await;
        module.expect(b"+++").await;
        module.send(b"\r\nOK\r\n").await;
        module.expect(b"AT\r").await;
        module.send(b"\r\nOK\r\n").await;
        module.expect(b"AT+SMTPBODY=19\r").await;
        module.send(b"\r\nDOWNLOAD\r\n").await;
        module
    });
    let body = Command::write("+QSMTPBODY")
        .int(1)
        .int(60)
        .expect_prompt(PromptKind::Connect);
    let connect = client.execute(&body).await.unwrap_err();
    let download = client.execute(&smtpbody()).await.unwrap_err();
    let cases = [
        (
            connect,
            "unexpected prompt CONNECT (no payload was sent; the next command first ends the \
             data mode with +++)",
        ),
        (
            download,
            "unexpected prompt DOWNLOAD (no payload was declared nor sent; the next command \
             resynchronises with AT first)",
        ),
    ];
    for (err, want) in cases {
        let shown = err.to_string();
        assert!(
            matches!(err, AtError::Protocol { ref detail, .. } if detail == want),
            "{shown}"
        );
        assert!(!shown.contains("  "), "{shown}");
    }
    task.await.unwrap();
}

/// A port where nothing ever answers says so at its first timeout, in words
/// an operator can act on; once the module has said anything, a timeout is
/// an ordinary one.
#[tokio::test(start_paused = true)]
async fn a_line_that_never_answered_says_so_at_its_first_timeout() {
    let (mut client, mut module) = pair(ClientConfig::default());
    let task = spawn(async move {
        module.expect(b"AT\r").await;
        // Silence: wrong port, wrong baud rate, module off.
        module.expect(b"AT\r").await;
        module.send(b"\r\nOK\r\n").await;
        module.expect(b"AT+CSQ\r").await;
        module
    });
    let at = Command::exec("").timeout(Duration::from_secs(2));
    let err = client.execute(&at).await.unwrap_err();
    assert!(matches!(err, AtError::Silent { .. }), "{err:?}");
    assert!(err.is_timeout());
    assert_eq!(
        err.to_string(),
        "AT: nothing came back on the serial line within 2 s: check that the module is powered, \
         that this is its port and that the baud rate is its own"
    );
    // The resynchronising AT is answered: the line has spoken.
    let csq = Command::exec("+CSQ").timeout(Duration::from_secs(2));
    let err = client.execute(&csq).await.unwrap_err();
    assert!(matches!(err, AtError::Timeout { .. }), "{err:?}");
    drop(task.await.unwrap());
}

fn rebooting() -> ClientConfig {
    ClientConfig {
        reboot_lines: vec!["RDY".into()],
        ..ClientConfig::default()
    }
}

/// A reboot forgets the command in flight: its `RDY` ends the wait at once
/// instead of the command's timeout, the line stays queued, and the next
/// command resynchronises first (an answer could still come).
#[tokio::test(start_paused = true)]
async fn a_reboot_line_ends_the_wait_for_an_answer_at_once() {
    let (mut client, mut module) = pair(rebooting());
    let task = spawn(async move {
        module.expect(b"AT+QSMTPPUT=100\r").await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        module.send(b"\r\nRDY\r\n\r\n+CPIN: READY\r\n").await;
        module.expect(b"AT\r").await;
        module.send(b"\r\nOK\r\n").await;
        module.expect(b"AT+CGMM\r").await;
        module.send(b"\r\nM95\r\n\r\nOK\r\n").await;
        module
    });
    let started = Instant::now();
    let put = Command::write("+QSMTPPUT")
        .int(100)
        .timeout(Duration::from_secs(60))
        .expect_deferred("+QSMTPPUT:");
    let err = client.execute(&put).await.unwrap_err();
    assert!(
        matches!(&err, AtError::Rebooted { command, line } if command == "AT+QSMTPPUT=100" && line == "RDY"),
        "{err}"
    );
    assert_eq!(started.elapsed(), Duration::from_millis(300));
    let r = client.execute(&Command::exec("+CGMM")).await.unwrap();
    assert_eq!(r.info, ["M95"]);
    assert_eq!(client.take_urcs(), ["RDY", "+CPIN: READY"]);
    task.await.unwrap();
}

/// Without reboot lines (the default) the client waits out the timeout,
/// as before: `RDY` is a URC like any other.
#[tokio::test(start_paused = true)]
async fn without_reboot_lines_a_reboot_waits_out_the_timeout() {
    let (mut client, mut module) = pair(ClientConfig::default());
    let task = spawn(async move {
        module.expect(b"AT+CGMM\r").await;
        module.send(b"\r\nRDY\r\n").await;
        module
    });
    let started = Instant::now();
    let err = client.execute(&Command::exec("+CGMM")).await.unwrap_err();
    assert!(err.is_timeout(), "{err}");
    assert_eq!(started.elapsed(), Duration::from_secs(5));
    task.await.unwrap();
}

/// The module rebooted as the resynchronising `AT` went out (the probe is
/// lost): the resync ends at once and stays owed; the next command sends it
/// again.
#[tokio::test(start_paused = true)]
async fn a_reboot_during_the_resynchronisation_ends_it_at_once() {
    let (mut client, mut module) = pair(rebooting());
    let task = spawn(async move {
        module.expect(b"AT+CGMM\r").await;
        module.expect(b"AT\r").await;
        module.send(b"\r\nRDY\r\n").await;
        module.expect(b"AT\r").await;
        module.send(b"\r\nOK\r\n").await;
        module.expect(b"AT+CGMM\r").await;
        module.send(b"\r\nM95\r\n\r\nOK\r\n").await;
        module
    });
    let cgmm = Command::exec("+CGMM");
    assert!(client.execute(&cgmm).await.unwrap_err().is_timeout());
    let started = Instant::now();
    let err = client.execute(&cgmm).await.unwrap_err();
    assert!(
        matches!(&err, AtError::Rebooted { command, .. } if command == "AT (resynchronisation)"),
        "{err}"
    );
    assert_eq!(started.elapsed(), Duration::ZERO);
    let r = client.execute(&cgmm).await.unwrap();
    assert_eq!(r.info, ["M95"]);
    task.await.unwrap();
}

/// A reboot line set in the configuration ends a plain `deferred` wait too.
#[tokio::test(start_paused = true)]
async fn a_reboot_line_ends_a_deferred_wait_at_once() {
    let (mut client, mut module) = pair(rebooting());
    let task = spawn(async move {
        module.expect(b"AT+QSMTPPUT=100\r").await;
        module.send(b"\r\nOK\r\n").await;
        tokio::time::sleep(Duration::from_secs(2)).await;
        module.send(b"\r\nRDY\r\n").await;
        module
    });
    let put = Command::write("+QSMTPPUT")
        .int(100)
        .expect_deferred("+QSMTPPUT:");
    client.execute(&put).await.unwrap();
    let started = Instant::now();
    let err = client
        .deferred("+QSMTPPUT:", Duration::from_secs(130))
        .await
        .unwrap_err();
    assert!(matches!(err, AtError::Rebooted { .. }), "{err}");
    assert_eq!(started.elapsed(), Duration::from_secs(2));
    task.await.unwrap();
}

/// Line noise set the high bit of a byte of the result's prefix: no waiter
/// would ever take `+QSMTP\u{fffd}UT: 0`. The wait ends at once as a fault
/// of the line (transient, the result in doubt); should the result come
/// after all it is dropped, and the next command's own result still reaches
/// its waiter. A garbled line that is not the result does not end the wait.
#[tokio::test(start_paused = true)]
async fn a_result_garbled_in_its_prefix_ends_the_wait_at_once() {
    let (mut client, mut module) = pair(ClientConfig::default());
    let task = spawn(async move {
        module.expect(b"AT+QSMTPPUT=100\r").await;
        module.send(b"\r\nOK\r\n").await;
        tokio::time::sleep(Duration::from_secs(1)).await;
        module.send(b"\r\n+CP\xc9N: READY\r\n").await;
        module.send(b"\r\n+QSMTP\xd0UT: 0\r\n").await;
        module.expect(b"AT+QSMTPPUT=100\r").await;
        module
            .send(b"\r\n+QSMTPPUT: -9\r\n\r\nOK\r\n\r\n+QSMTPPUT: 0\r\n")
            .await;
        module
    });
    let put = Command::write("+QSMTPPUT")
        .int(100)
        .expect_deferred("+QSMTPPUT:");
    client.execute(&put).await.unwrap();
    let started = Instant::now();
    let err = client
        .deferred("+QSMTPPUT:", Duration::from_secs(130))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, AtError::Io(io) if io.kind() == std::io::ErrorKind::InvalidData),
        "{err}"
    );
    assert!(err.to_string().contains("garbled"), "{err}");
    assert_eq!(started.elapsed(), Duration::from_secs(1));
    client.execute(&put).await.unwrap();
    assert_eq!(
        client
            .deferred("+QSMTPPUT:", Duration::from_secs(10))
            .await
            .unwrap(),
        "+QSMTPPUT: 0"
    );
    task.await.unwrap();
}

/// SIM5360 `AT+POP3READ` prints the saved mail line by line with no length:
/// a line reading `OK` or `ERROR` followed by more text within
/// `text_block_quiet` is the mail's own; the `OK` the module keeps quiet
/// after ends the answer.
#[tokio::test(start_paused = true)]
async fn a_text_blocks_ok_and_error_lines_are_the_messages_when_text_follows_soon() {
    let (mut client, mut module) = pair(ClientConfig::default());
    let task = spawn(async move {
        module.expect(b"AT+POP3READ\r").await;
        module.send(b"\r\nSubject: x\r\n\r\nfirst\r\nOK\r\n").await;
        // A pause shorter than the quiet that ends the answer.
        tokio::time::sleep(Duration::from_millis(100)).await;
        module.send(b"ERROR\r\nlast\r\n\r\nOK\r\n").await;
        module.expect(b"AT+CSQ\r").await;
        module.send(b"\r\n+CSQ: 27,99\r\n\r\nOK\r\n").await;
        module
    });
    let read = Command::exec("+POP3READ").expect_text_block();
    let started = Instant::now();
    let r = client.execute(&read).await.unwrap();
    assert_eq!(
        r.info,
        ["Subject: x", "", "first", "OK", "ERROR", "last", ""]
    );
    // The answer ended one quiet after its last `OK`, not at the timeout.
    assert_eq!(
        started.elapsed(),
        Duration::from_millis(100) + ClientConfig::default().text_block_quiet
    );
    let csq = client.execute(&Command::exec("+CSQ")).await.unwrap();
    assert_eq!(csq.info, ["+CSQ: 27,99"]);
    drop(task.await.unwrap());
}
