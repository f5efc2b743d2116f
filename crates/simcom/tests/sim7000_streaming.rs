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
    Sim7000Options {
        // These transcripts are about the session, not the lengths: the
        // built-in numbers are given, so no test form is asked (the forms
        // are asked and read in sim7000_lengths.rs).
        lengths: cellmail_simcom::sim7000::Lengths::Assume(
            cellmail_simcom::sim7000::capabilities().limits,
        ),
        ..Default::default()
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
        // Every byte depends on its offset, so a lost, doubled or reordered
        // chunk changes the hash.
        let block: Vec<u8> = (0..64 * 1024u32).map(|i| (i % 251) as u8).collect();
        for i in 0..SIZE / block.len() {
            let mut b = block.clone();
            b[0] = i as u8;
            f.write_all(&b).unwrap();
        }
    }
    let (host, module) = tokio::io::duplex(8192);
    let module = tokio::spawn(cellmail_sim::sink::smtpft_sink(module, SIZE));
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
    let (taken, hash) = module.await.unwrap();
    assert_eq!(taken, SIZE);
    assert_eq!(
        hash,
        cellmail_sim::sink::fnv1a(&std::fs::read(&path).unwrap()),
        "the module received other bytes than the file's"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
