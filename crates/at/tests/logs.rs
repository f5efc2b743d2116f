//! Secrets never reach the logs: a password argument is written to the module
//! but logged as `***`, and the information lines of a command whose answer
//! carries the password (SIM7000 `AT+SMTPAUTH?`, manual §3.2.4) are not logged.

use std::io::Write;
use std::sync::{Arc, Mutex};

use cellmail_at::{Client, ClientConfig, Command, Secret};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

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

#[tokio::test]
async fn passwords_are_sent_but_never_logged() {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

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

    let logs = String::from_utf8(logs.0.lock().expect("log buffer").clone()).expect("utf-8");
    assert!(!logs.contains("hunter2"), "a password was logged:\n{logs}");
    assert!(logs.contains("AT+SMTPAUTH=1,\"user\",\"***\""), "{logs}");
    assert!(logs.contains("carries a secret"), "{logs}");
    // An ordinary answer is still logged.
    assert!(logs.contains("mail.example.com"), "{logs}");
}
