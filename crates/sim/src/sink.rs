//! A SIM7000 stand-in that takes `AT+SMTPFT` data and only counts it: for
//! measuring the host's memory and speed without a module holding the mail.

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Answers every command `OK`, `AT+SMTPBODY` with `DOWNLOAD`, `AT+SMTPSEND`
/// with `+SMTPFT: 1,1360`, `AT+SMTPFT=<n>` by taking n bytes, and
/// `AT+SMTPFT=0` with `+SMTPSEND: 1`. Returns the attachment bytes taken.
///
/// # Panics
/// When the host breaks the protocol (asks for more than granted); it is a test tool.
pub async fn smtpft_sink(mut io: tokio::io::DuplexStream, expect: usize) -> usize {
    let mut got = 0usize;
    let mut line = Vec::new();
    let mut buf = vec![0u8; 2048];
    loop {
        let n = io.read(&mut buf).await.expect("the sink's duplex");
        if n == 0 {
            return got;
        }
        for &b in &buf[..n] {
            if b != b'\r' {
                line.push(b);
                continue;
            }
            let cmd = String::from_utf8_lossy(&line).into_owned();
            line.clear();
            let reply: Vec<u8> = if let Some(len) = cmd.strip_prefix("AT+SMTPBODY=") {
                let len: usize = len.parse().expect("the sink's duplex");
                io.write_all(b"\r\nDOWNLOAD\r\n")
                    .await
                    .expect("the sink's duplex");
                let mut body = vec![0u8; len];
                io.read_exact(&mut body).await.expect("the sink's duplex");
                b"\r\nOK\r\n".to_vec()
            } else if cmd == "AT+SMTPSEND" {
                b"\r\nOK\r\n\r\n+SMTPFT: 1,1360\r\n".to_vec()
            } else if let Some(len) = cmd.strip_prefix("AT+SMTPFT=") {
                let len: usize = len.parse().expect("the sink's duplex");
                if len == 0 {
                    io.write_all(b"\r\nOK\r\n\r\n+SMTPSEND: 1\r\n")
                        .await
                        .expect("the sink's duplex");
                    debug_assert_eq!(got, expect);
                    continue;
                }
                assert!(len <= 1360, "asked for {len} bytes, more than granted");
                io.write_all(format!("\r\n+SMTPFT: 2,{len}\r\n").as_bytes())
                    .await
                    .expect("the sink's duplex");
                let mut chunk = vec![0u8; len];
                io.read_exact(&mut chunk).await.expect("the sink's duplex");
                got += len;
                b"\r\nOK\r\n\r\n+SMTPFT: 1,1360\r\n".to_vec()
            } else {
                b"\r\nOK\r\n".to_vec()
            };
            io.write_all(&reply).await.expect("the sink's duplex");
        }
    }
}
