//! A 10 MB attachment streamed from disk through AT+SMTPFT with bounded memory.
//! Alone in its test binary, so the allocation counter sees only this test.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use cellmail::{Attachment, Auth, Email, MailSender, Secret, ServerAddr, SmtpAccount};
use cellmail_simcom::sim7000::{Sim7000Mailer, Sim7000Options, decoder_config};

/// Counts live heap bytes, to show the attachment is streamed.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator and only counts.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(live, Ordering::Relaxed);
        // SAFETY: same layout contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: ptr came from System.alloc with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn account() -> SmtpAccount {
    SmtpAccount {
        server: ServerAddr::new("mail.sim.com", 25),
        auth: Auth::Login {
            user: "john".into(),
            password: Secret::new("test-only-password"),
        },
        tls: Default::default(),
    }
}

fn options() -> Sim7000Options {
    Sim7000Options::default()
}

/// A module that grants 1360 bytes per request and only counts what it gets.
async fn counting_module(mut io: tokio::io::DuplexStream, expect: usize) -> usize {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut got = 0usize;
    let mut line = Vec::new();
    let mut buf = vec![0u8; 2048];
    loop {
        let n = io.read(&mut buf).await.unwrap();
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
                let len: usize = len.parse().unwrap();
                io.write_all(b"\r\nDOWNLOAD\r\n").await.unwrap();
                let mut body = vec![0u8; len];
                io.read_exact(&mut body).await.unwrap();
                b"\r\nOK\r\n".to_vec()
            } else if cmd == "AT+SMTPSEND" {
                b"\r\nOK\r\n\r\n+SMTPFT: 1,1360\r\n".to_vec()
            } else if let Some(len) = cmd.strip_prefix("AT+SMTPFT=") {
                let len: usize = len.parse().unwrap();
                if len == 0 {
                    io.write_all(b"\r\nOK\r\n\r\n+SMTPSEND: 1\r\n")
                        .await
                        .unwrap();
                    assert_eq!(got, expect);
                    continue;
                }
                assert!(len <= 1360, "asked for {len} bytes, more than granted");
                io.write_all(format!("\r\n+SMTPFT: 2,{len}\r\n").as_bytes())
                    .await
                    .unwrap();
                let mut chunk = vec![0u8; len];
                io.read_exact(&mut chunk).await.unwrap();
                got += len;
                b"\r\nOK\r\n\r\n+SMTPFT: 1,1360\r\n".to_vec()
            } else {
                b"\r\nOK\r\n".to_vec()
            };
            io.write_all(&reply).await.unwrap();
        }
    }
}

#[tokio::test]
async fn ten_megabytes_stream_from_disk_in_bounded_memory() {
    const SIZE: usize = 10 * 1024 * 1024;
    let dir = std::env::temp_dir().join(format!("cellmail-10mb-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("big.bin");
    {
        use std::io::Write;
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        let block = vec![0xA5u8; 64 * 1024];
        for _ in 0..SIZE / block.len() {
            f.write_all(&block).unwrap();
        }
    }
    let (host, module) = tokio::io::duplex(8192);
    let module = tokio::spawn(counting_module(module, SIZE));
    let client = cellmail_at::Client::new(
        host,
        cellmail_at::ClientConfig::with_decoder(decoder_config()),
    );
    let mut m = Sim7000Mailer::new(client, account(), options());
    let email = Email::builder()
        .from("john@sim.com", None)
        .to("john@sim.com", None)
        .subject("big")
        .body("attached")
        .attach(Attachment::from_file(&path).unwrap())
        .build()
        .unwrap();
    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let report = m.send(&email).await.unwrap();
    let growth = PEAK.load(Ordering::Relaxed).saturating_sub(before);
    assert!(report.bytes_sent > SIZE as u64);
    assert!(
        growth < 1024 * 1024,
        "peak heap grew by {growth} bytes while streaming 10 MB"
    );
    drop(m);
    assert_eq!(module.await.unwrap(), SIZE);
    std::fs::remove_dir_all(&dir).unwrap();
}
