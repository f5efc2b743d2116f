//! A SIM7000 stand-in that takes `AT+SMTPFT` data and only counts it: for
//! measuring the host's memory and speed without a module holding the mail.

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Answers every command `OK`, `AT+SMTPBODY` with `DOWNLOAD`, `AT+SMTPSEND`
/// with `+SMTPFT: 1,1360`, `AT+SMTPFT=<n>` by confirming n bytes (every third
/// request only half of them, as §3.2.11 allows a `<cnfLength>` below the
/// request) and taking that many, and `AT+SMTPFT=0` with `+SMTPSEND: 1`.
/// Returns the attachment bytes taken and their FNV-1a hash ([`fnv1a`]).
///
/// # Panics
/// When the host breaks the protocol (asks for more than granted); it is a test tool.
pub async fn smtpft_sink(mut io: tokio::io::DuplexStream, expect: usize) -> (usize, u64) {
    let mut got = 0usize;
    let mut hash = FNV_OFFSET;
    let mut requests = 0usize;
    let mut line = Vec::new();
    let mut buf = vec![0u8; 2048];
    loop {
        let n = io.read(&mut buf).await.expect("the sink's duplex");
        if n == 0 {
            return (got, hash);
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
                requests += 1;
                let confirmed = if requests % 3 == 0 {
                    len.div_ceil(2)
                } else {
                    len
                };
                io.write_all(format!("\r\n+SMTPFT: 2,{confirmed}\r\n").as_bytes())
                    .await
                    .expect("the sink's duplex");
                let mut chunk = vec![0u8; confirmed];
                io.read_exact(&mut chunk).await.expect("the sink's duplex");
                hash = fnv1a_update(hash, &chunk);
                got += confirmed;
                b"\r\nOK\r\n\r\n+SMTPFT: 1,1360\r\n".to_vec()
            } else {
                b"\r\nOK\r\n".to_vec()
            };
            io.write_all(&reply).await.expect("the sink's duplex");
        }
    }
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

fn fnv1a_update(mut hash: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        hash = (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// The FNV-1a hash of `bytes`, as [`smtpft_sink`] reports it.
///
/// ```
/// assert_ne!(cellmail_sim::sink::fnv1a(b"ab"), cellmail_sim::sink::fnv1a(b"ba"));
/// ```
pub fn fnv1a(bytes: &[u8]) -> u64 {
    fnv1a_update(FNV_OFFSET, bytes)
}
