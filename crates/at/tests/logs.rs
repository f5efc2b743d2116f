//! Secrets never reach the logs: a password argument is written to the module
//! but logged as `***`, and the information lines of a command whose answer
//! carries the password (SIM7000 `AT+SMTPAUTH?`, manual §3.2.4) are not logged.

use std::io::Write;
use std::sync::{Arc, Mutex};

use std::time::Duration;

use cellmail_at::{Client, ClientConfig, Command, Secret};
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

/// Everything the subscriber writes, shared with the test.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().expect("log buffer").clone()).expect("utf-8")
    }
}

/// Captures everything logged on this thread (the test's current-thread
/// runtime) until the guard is dropped.
fn capture() -> (Captured, tracing::subscriber::DefaultGuard) {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    (logs, tracing::subscriber::set_default(subscriber))
}

#[tokio::test]
async fn passwords_are_sent_but_never_logged() {
    let (logs, _guard) = capture();

    let (host, mut module) = tokio::io::duplex(4096);
    let mut client = Client::new(host, ClientConfig::default());
    let module_side = tokio::spawn(async move {
        let mut line = [0u8; 64];
        let n = module.read(&mut line).await.expect("line");
        assert_eq!(&line[..n], b"AT+SMTPAUTH=1,\"user\",\"hunter2\"\r");
        module.write_all(b"\r\nOK\r\n").await.expect("answer");
        let n = module.read(&mut line).await.expect("line");
        assert_eq!(&line[..n], b"AT+SMTPAUTH?\r");
        module
            .write_all(b"\r\n+SMTPAUTH: 1,\"user\",\"hunter2\"\r\n\r\nOK\r\n")
            .await
            .expect("answer");
        let n = module.read(&mut line).await.expect("line");
        assert_eq!(&line[..n], b"AT+SMTPSRV?\r");
        module
            .write_all(b"\r\n+SMTPSRV: \"mail.example.com\",25\r\n\r\nOK\r\n")
            .await
            .expect("answer");
    });

    let set = Command::write("+SMTPAUTH")
        .int(1)
        .string("user", "user")
        .secret("password", &Secret::new("hunter2"));
    client.execute(&set).await.expect("set");
    let query = Command::read("+SMTPAUTH").sensitive_answer();
    let answer = client.execute(&query).await.expect("query");
    assert_eq!(answer.info, ["+SMTPAUTH: 1,\"user\",\"hunter2\""]);
    client
        .execute(&Command::read("+SMTPSRV"))
        .await
        .expect("server");
    module_side.await.expect("module");

    let logs = logs.text();
    assert!(!logs.contains("hunter2"), "a password was logged:\n{logs}");
    assert!(logs.contains("AT+SMTPAUTH=1,\"user\",\"***\""), "{logs}");
    assert!(logs.contains("carries a secret"), "{logs}");
    // An ordinary answer is still logged.
    assert!(logs.contains("mail.example.com"), "{logs}");
}

/// Reads exactly `expected` from the host.
async fn expect(module: &mut DuplexStream, expected: &[u8]) {
    let mut got = vec![0; expected.len()];
    module
        .read_exact(&mut got)
        .await
        .expect("host closed the line");
    assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(expected)
    );
}

#[tokio::test(start_paused = true)]
async fn late_secrets_of_commands_given_up_are_never_logged_nor_queued() {
    let (logs, _guard) = capture();
    let (host, mut module) = tokio::io::duplex(4096);
    let mut client = Client::new(host, ClientConfig::default());
    let mut urcs = client.subscribe();
    let module_side = tokio::spawn(async move {
        // 1. The answer to a password query comes after its timeout, while
        //    the host idles: it would be a URC.
        expect(&mut module, b"AT+SMTPAUTH?\r").await;
        tokio::time::sleep(Duration::from_secs(2)).await;
        module
            .write_all(b"\r\n+CPIN: READY\r\n\r\n+SMTPAUTH: 1,\"user\",\"hunter2\"\r\n\r\nOK\r\n")
            .await
            .expect("answer");
        expect(&mut module, b"AT+CSQ\r").await;
        module
            .write_all(b"\r\n+CSQ: 27,99\r\n\r\nOK\r\n")
            .await
            .expect("answer");
        // 2. The answer to another one comes during the resynchronisation.
        expect(&mut module, b"AT+POP3SRV?\r").await;
        expect(&mut module, b"AT\r").await;
        module
            .write_all(b"\r\n+POP3SRV: \"pop.example.com\",\"user\",\"hunter2\",110\r\n\r\nOK\r\n\r\nOK\r\n")
            .await
            .expect("answer");
        expect(&mut module, b"AT+CSQ\r").await;
        module
            .write_all(b"\r\n+CSQ: 27,99\r\n\r\nOK\r\n")
            .await
            .expect("answer");
        // 3. The echo of a password setting comes late (ATE1), while idle and
        //    during the resynchronisation.
        expect(&mut module, b"AT+SMTPAUTH=1,\"user\",\"hunter2\"\r").await;
        tokio::time::sleep(Duration::from_secs(2)).await;
        module
            .write_all(b"AT+SMTPAUTH=1,\"user\",\"hunter2\"\r\r\n")
            .await
            .expect("echo");
        expect(&mut module, b"AT\r").await;
        module
            .write_all(b"AT+SMTPAUTH=1,\"user\",\"hunter2\"\r\r\nOK\r\nAT\r\r\nOK\r\n")
            .await
            .expect("answer");
        expect(&mut module, b"AT+CSQ\r").await;
        module
            .write_all(b"\r\n+CSQ: 27,99\r\n\r\nOK\r\n")
            .await
            .expect("answer");
    });

    let second = Duration::from_secs(1);
    let csq = Command::exec("+CSQ");
    let query = Command::read("+SMTPAUTH")
        .sensitive_answer()
        .timeout(second);
    assert!(client.execute(&query).await.unwrap_err().is_timeout());
    client.idle(Duration::from_secs(3)).await.expect("idle");
    client.execute(&csq).await.expect("csq");

    let query = Command::read("+POP3SRV").sensitive_answer().timeout(second);
    assert!(client.execute(&query).await.unwrap_err().is_timeout());
    client.execute(&csq).await.expect("csq");

    let set = Command::write("+SMTPAUTH")
        .int(1)
        .string("user", "user")
        .secret("password", &Secret::new("hunter2"))
        .timeout(second);
    assert!(client.execute(&set).await.unwrap_err().is_timeout());
    client.idle(Duration::from_secs(3)).await.expect("idle");
    client.execute(&csq).await.expect("csq");
    module_side.await.expect("module");

    let mut broadcast = Vec::new();
    while let Ok(urc) = urcs.try_recv() {
        broadcast.push(urc);
    }
    // A URC that came meanwhile is still one.
    assert_eq!(broadcast, ["+CPIN: READY"]);
    assert_eq!(client.take_urcs(), ["+CPIN: READY"]);
    let logs = logs.text();
    assert!(!logs.contains("hunter2"), "a password was logged:\n{logs}");
    assert!(logs.contains("+CPIN: READY"), "{logs}");
}

#[tokio::test]
async fn the_debug_output_of_a_sensitive_answer_shows_no_secret() {
    let (host, mut module) = tokio::io::duplex(4096);
    let mut client = Client::new(host, ClientConfig::default());
    let module_side = tokio::spawn(async move {
        expect(&mut module, b"AT+SMTPAUTH?\r").await;
        module
            .write_all(b"\r\n+SMTPAUTH: 1,\"user\",\"hunter2\"\r\n\r\nOK\r\n")
            .await
            .expect("answer");
        expect(&mut module, b"AT+SMTPSRV?\r").await;
        module
            .write_all(b"\r\n+SMTPSRV: \"mail.example.com\",25\r\n\r\nOK\r\n")
            .await
            .expect("answer");
    });
    let query = Command::read("+SMTPAUTH").sensitive_answer();
    let answer = client.execute(&query).await.expect("query");
    assert_eq!(answer.info, ["+SMTPAUTH: 1,\"user\",\"hunter2\""]);
    assert!(answer.sensitive);
    let shown = format!("{answer:?}");
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(shown.contains("+SMTPAUTH: ***"), "{shown}");
    let shown = format!("{answer:#?}");
    assert!(!shown.contains("hunter2"), "{shown}");
    // An ordinary answer is shown whole.
    let server = client
        .execute(&Command::read("+SMTPSRV"))
        .await
        .expect("server");
    assert!(!server.sensitive);
    assert!(format!("{server:?}").contains("mail.example.com"));
    module_side.await.expect("module");
}
