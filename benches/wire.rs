//! Wire efficiency, round trips, memory and CPU, measured in one run against
//! virtual modules throttled to 115200 baud (8N1: 11,520 bytes a second) and
//! the local mail stack (`cargo xtask mailstack up`, env from
//! `target/mailstack/env`).
//!
//! Each case runs once: a 100 KB attachment takes about 9 s and a 1 MB
//! message about 90 s on the line, so criterion's ten samples per case would
//! take half an hour; the ratio to the wire-time bound is the figure.

#![allow(missing_docs, clippy::unwrap_used)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use cellmail::{
    Attachment, Auth, Email, MailSender, Mailbox, Pop3Account, Secret, ServerAddr, SmtpAccount,
};
use cellmail_at::{Client, ClientConfig, serial::SerialStream};
use cellmail_sim::Family;

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

const BAUD: u32 = 115_200;

fn env() -> std::collections::HashMap<String, String> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/mailstack/env");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "no mail stack: run `cargo xtask mailstack up` first ({})",
            path.display()
        )
    });
    text.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

fn cpu_time() -> Duration {
    let u = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_SELF).unwrap();
    let t =
        |tv: nix::sys::time::TimeVal| Duration::new(tv.tv_sec() as u64, tv.tv_usec() as u32 * 1000);
    t(u.user_time()) + t(u.system_time())
}

/// A virtual module in its own process (so this process's CPU time is the
/// host's alone) and a client on its pseudo-terminal.
struct External(std::process::Child);

impl Drop for External {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn module(family: Family, baud: Option<u32>) -> (External, Client<SerialStream>) {
    use std::io::BufRead;
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_virtual-module"));
    cmd.arg(family.name()).stdout(std::process::Stdio::piped());
    if let Some(b) = baud {
        cmd.arg(b.to_string());
    }
    let mut child = cmd.spawn().unwrap();
    let mut path = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut path)
        .unwrap();
    let port = cellmail_at::serial::open(path.trim(), BAUD).unwrap();
    let decoder = match family {
        Family::QuectelGsm => cellmail_quectel::decoder_config(),
        Family::Sim7000 => cellmail_simcom::sim7000::decoder_config(),
        Family::Sim5360 => cellmail_simcom::sim5360::decoder_config(),
        Family::A76xx => cellmail_simcom::a76xx::decoder_config(),
    };
    let mut config = ClientConfig::with_decoder(decoder);
    config.command_timeout = Duration::from_secs(30);
    (External(child), Client::new(port, config))
}

fn account(e: &std::collections::HashMap<String, String>) -> SmtpAccount {
    SmtpAccount {
        server: ServerAddr::new(
            e["CELLMAIL_SMTP_HOST"].clone(),
            e["CELLMAIL_SMTP_PORT"].parse().unwrap(),
        ),
        auth: Auth::Login {
            user: e["CELLMAIL_USER_ALICE"].clone(),
            password: Secret::new(e["CELLMAIL_PASSWORD_ALICE"].clone()),
        },
        tls: Default::default(),
    }
}

fn email(
    e: &std::collections::HashMap<String, String>,
    subject: &str,
    attachment: Option<Attachment>,
) -> Email {
    let mut b = Email::builder()
        .from(&e["CELLMAIL_USER_ALICE"], None)
        .to(&e["CELLMAIL_USER_BOB"], None)
        .subject(subject)
        .body("bench");
    if let Some(a) = attachment {
        b = b.attach(a);
    }
    b.build().unwrap()
}

fn bound(bytes: u64) -> Duration {
    Duration::from_secs_f64(bytes as f64 * 10.0 / f64::from(BAUD))
}

fn report(name: &str, elapsed: Duration, dominant_bytes: u64, cpu: Duration) {
    let b = bound(dominant_bytes);
    println!(
        "{name}: {:.2} s measured, bound {:.2} s ({dominant_bytes} bytes), ratio {:.3}, host CPU {:.3} s = {:.2}% of wall",
        elapsed.as_secs_f64(),
        b.as_secs_f64(),
        elapsed.as_secs_f64() / b.as_secs_f64(),
        cpu.as_secs_f64(),
        100.0 * cpu.as_secs_f64() / elapsed.as_secs_f64()
    );
}

fn quectel_options() -> cellmail_quectel::QuectelOptions {
    cellmail_quectel::QuectelOptions {
        bearer: Some(cellmail::Bearer {
            apn: "CMNET".into(),
            user: None,
            password: None,
        }),
        send_timeout: std::time::Duration::from_secs(100),
        ..Default::default()
    }
}

/// The virtual SIM7000 boots with its bearer closed, like the module: open it.
fn sim7000_options() -> cellmail_simcom::Sim7000Options {
    cellmail_simcom::Sim7000Options {
        bearer: Some(cellmail::Bearer::new("CMNET")),
        ..Default::default()
    }
}

async fn run() {
    let e = env();
    let attachment: Vec<u8> = (0..100 * 1024u32).map(|i| (i % 251) as u8).collect();
    let only = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let wants = |name: &str| only.as_deref().is_none_or(|o| name.contains(o));

    // Round trips: commands for the first and the next mails, per dialect (unthrottled).
    if wants("round-trips") {
        for family in [
            Family::QuectelGsm,
            Family::Sim7000,
            Family::Sim5360,
            Family::A76xx,
        ] {
            let (_m, client) = module(family, None);
            let mut mailer: Box<dyn MailSender> = match family {
                Family::QuectelGsm => Box::new(cellmail_quectel::QuectelMailer::new(
                    client,
                    account(&e),
                    quectel_options(),
                )),
                Family::Sim7000 => Box::new(cellmail_simcom::Sim7000Mailer::new(
                    client,
                    account(&e),
                    sim7000_options(),
                )),
                Family::Sim5360 => Box::new(cellmail_simcom::Sim5360Mailer::new(
                    client,
                    account(&e),
                    Default::default(),
                )),
                Family::A76xx => Box::new(cellmail_simcom::A76xxMailer::new(
                    client,
                    account(&e),
                    Default::default(),
                )),
            };
            let counts: Vec<u64> = {
                let mut v = Vec::new();
                for i in 0..3 {
                    v.push(
                        mailer
                            .send(&email(&e, &format!("round trips {i}"), None))
                            .await
                            .unwrap()
                            .commands,
                    );
                }
                v
            };
            println!(
                "round-trips/{}: AT commands per mail: first {}, then {}, {}",
                family.name(),
                counts[0],
                counts[1],
                counts[2]
            );
        }
    }

    // Wire efficiency: 100 KB through AT+SMTPFT (SIM7000), host → module dominant.
    if wants("wire/sim7000-smtpft-100k") {
        let (_m, client) = module(Family::Sim7000, Some(BAUD));
        let mut mailer =
            cellmail_simcom::Sim7000Mailer::new(client, account(&e), sim7000_options());
        mailer.send(&email(&e, "warm-up", None)).await.unwrap();
        let (cpu, t) = (cpu_time(), Instant::now());
        let r = mailer
            .send(&email(
                &e,
                "wire sim7000",
                Some(Attachment::from_bytes("a.bin", attachment.clone())),
            ))
            .await
            .unwrap();
        report(
            "wire/sim7000-smtpft-100k",
            t.elapsed(),
            r.bytes_sent,
            cpu_time() - cpu,
        );
    }

    // Wire efficiency: 100 KB and 300 KB attachments through a RAM file
    // (Quectel: AT+QFUPL at the exact size, AT+QSMTPATT="RAM:a.bin"). The
    // one `+++` of the mail is the body's: its guard silence is the protocol's.
    for (name, len) in [
        ("wire/quectel-ram-100k", 100_000usize),
        ("wire/quectel-ram-300k", 300_000),
    ] {
        if !wants(name) {
            continue;
        }
        let (_m, client) = module(Family::QuectelGsm, Some(BAUD));
        let mut mailer =
            cellmail_quectel::QuectelMailer::new(client, account(&e), quectel_options());
        mailer.send(&email(&e, "warm-up", None)).await.unwrap();
        let bytes: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
        let (cpu, t) = (cpu_time(), Instant::now());
        let r = mailer
            .send(&email(
                &e,
                "wire quectel",
                Some(Attachment::from_bytes("a.bin", bytes)),
            ))
            .await
            .unwrap();
        let elapsed = t.elapsed();
        report(name, elapsed, r.bytes_sent, cpu_time() - cpu);
        // The silences no driver can fill: the host's guard time before the
        // body's `+++`, and the quiet after it before the module takes it.
        let guard = ClientConfig::default().guard_time;
        let after = cellmail_sim::ESCAPE_QUIET;
        let protocol = bound(r.bytes_sent) + guard + after;
        println!(
            "{name}: protocol bound {:.2} s (wire {:.2} s + guard time {:.2} s before the \
             body's +++ + {:.2} s the module keeps quiet after it), ratio {:.3}; \
             against wire + one guard time: {:.3}",
            protocol.as_secs_f64(),
            bound(r.bytes_sent).as_secs_f64(),
            guard.as_secs_f64(),
            after.as_secs_f64(),
            elapsed.as_secs_f64() / protocol.as_secs_f64(),
            elapsed.as_secs_f64() / (bound(r.bytes_sent) + guard).as_secs_f64()
        );
    }

    // Wire efficiency: a 1 MB message read with AT+POP3READ (SIM7000), module → host dominant.
    if wants("wire/sim7000-pop3read-1m") {
        let (_m, client) = module(Family::Sim7000, None);
        let big: Vec<u8> = (0..1024 * 1024u32).map(|i| (i % 251) as u8).collect();
        let mut sender =
            cellmail_simcom::Sim7000Mailer::new(client, account(&e), sim7000_options());
        let mut to_dave = email(&e, "pop3 1MB", Some(Attachment::from_bytes("big.bin", big)));
        to_dave = Email::builder()
            .from(&e["CELLMAIL_USER_ALICE"], None)
            .to(&e["CELLMAIL_USER_DAVE"], None)
            .subject(to_dave.subject())
            .body("bench")
            .attach(to_dave.attachments()[0].clone())
            .build()
            .unwrap();
        sender.send(&to_dave).await.unwrap();
        tokio::time::sleep(Duration::from_secs(2)).await;
        let (_m2, client) = module(Family::Sim7000, Some(BAUD));
        let pop3 = Pop3Account {
            server: ServerAddr::new(
                e["CELLMAIL_SMTP_HOST"].clone(),
                e["CELLMAIL_POP3_PORT"].parse().unwrap(),
            ),
            user: e["CELLMAIL_USER_DAVE"].clone(),
            password: Secret::new(e["CELLMAIL_PASSWORD_DAVE"].clone()),
            tls: Default::default(),
        };
        let mut mb = cellmail_simcom::Sim7000Mailer::new(
            client,
            account(&e),
            cellmail_simcom::Sim7000Options {
                pop3: Some(pop3),
                bearer: Some(cellmail::Bearer::new("CMNET")),
                ..Default::default()
            },
        );
        let list = mb.list().await.unwrap();
        let biggest = list.iter().max_by_key(|i| i.size).unwrap();
        let before = mb.client().stats();
        let (cpu, t) = (cpu_time(), Instant::now());
        let msg = mb.retrieve(biggest.id).await.unwrap();
        let elapsed = t.elapsed();
        let read = mb.client().stats().bytes_read - before.bytes_read;
        assert!(msg.raw().len() > 1024 * 1024);
        report("wire/sim7000-pop3read-1m", elapsed, read, cpu_time() - cpu);
        mb.delete(biggest.id).await.unwrap();
        mb.close().await.unwrap();
    }

    // Memory: peak heap growth while a 10 MB host file streams through AT+SMTPFT
    // to a module stand-in that only counts (the host's memory alone).
    if wants("memory/sim7000-10m-from-disk") {
        const SIZE: usize = 10 * 1024 * 1024;
        let path = std::env::temp_dir().join("cellmail-bench-10m.bin");
        std::fs::write(&path, vec![0x5Au8; SIZE]).unwrap();
        let (host, module) = tokio::io::duplex(8192);
        let sink = tokio::spawn(cellmail_sim::sink::smtpft_sink(module, SIZE));
        let client = Client::new(
            host,
            ClientConfig::with_decoder(cellmail_simcom::sim7000::decoder_config()),
        );
        let mut mailer =
            cellmail_simcom::Sim7000Mailer::new(client, account(&e), Default::default());
        let mail = email(
            &e,
            "memory 10MB",
            Some(Attachment::from_file(&path).unwrap()),
        );
        let before = LIVE.load(Ordering::Relaxed);
        PEAK.store(before, Ordering::Relaxed);
        let (cpu, t) = (cpu_time(), Instant::now());
        mailer.send(&mail).await.unwrap();
        let growth = PEAK.load(Ordering::Relaxed).saturating_sub(before);
        println!(
            "memory/sim7000-10m-from-disk: peak heap growth {:.3} MB while streaming 10 MB ({:.2} s, CPU {:.2} s unthrottled)",
            growth as f64 / 1048576.0,
            t.elapsed().as_secs_f64(),
            (cpu_time() - cpu).as_secs_f64()
        );
        drop(mailer);
        assert_eq!(sink.await.unwrap().0, SIZE);
        std::fs::remove_file(&path).unwrap();
    }
}

fn main() {
    // `cargo bench --no-run` builds this; `cargo test --benches` runs it with --bench absent.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run());
}
