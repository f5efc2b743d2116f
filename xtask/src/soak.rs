//! `cargo xtask soak`: many mails through the durable outbox and a virtual
//! module whose world fails at random, then the mailbox is read over POP3
//! (straight from Dovecot, not through the code under test) to count what was
//! lost, duplicated or wrongly reported.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use cellmail::{Auth, Email, MailSender, Secret, ServerAddr, SmtpAccount, TlsSettings};
use cellmail_at::{Client, ClientConfig};
use cellmail_outbox::{Clock, MailId, MailState, Outbox, RetryPolicy, Runner, RunnerConfig};
use cellmail_sim::{Family, Faults, SimOptions, VirtualModule};

use crate::mailstack::{self, Endpoints};

const HELP: &str = "usage: cargo xtask soak [--mails N] [--family all|quectel-gsm|sim7000|sim5360] [--modules M] [--seed S] [--no-faults]
    sends N mails (default 1000) per family through the outbox with faults injected at random,
    then counts the mailbox over POP3: sent / retried / failed / lost (0 lost expected);
    faults come one at a time, 0.2-2 s apart (quectel-gsm: 24 times as far apart, as its
    fault-free send is 24 times as long), each lasting 0.2-1.2 s;
    --modules M: one runner over M virtual modules of the family (failover), each with its own faults";

struct Args {
    mails: usize,
    families: Vec<Family>,
    seed: u64,
    faults: bool,
    modules: usize,
}

fn parse(args: &[String]) -> Result<Args, String> {
    let mut a = Args {
        mails: 1000,
        families: vec![Family::QuectelGsm, Family::Sim7000, Family::Sim5360],
        seed: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(1, |d| d.as_secs()),
        faults: true,
        modules: 1,
    };
    let mut flags = crate::Flags::new(args, HELP);
    while let Some(flag) = flags.next_flag() {
        let mut value = || flags.value(flag);
        match flag {
            "--mails" => {
                a.mails = value()?
                    .parse()
                    .map_err(|_| format!("--mails takes a number\n{HELP}"))?
            }
            "--family" => {
                let v = value()?;
                a.families = match v.as_str() {
                    "all" => a.families,
                    name => vec![
                        Family::parse(name)
                            .ok_or_else(|| format!("unknown family {name:?}\n{HELP}"))?,
                    ],
                };
            }
            "--seed" => {
                a.seed = value()?
                    .parse()
                    .map_err(|_| format!("--seed takes a number\n{HELP}"))?
            }
            "--no-faults" => a.faults = false,
            "--modules" => {
                a.modules = value()?
                    .parse()
                    .ok()
                    .filter(|m| *m >= 1)
                    .ok_or_else(|| format!("--modules takes a number of at least 1\n{HELP}"))?
            }
            "--help" | "-h" => return Err(HELP.to_owned()),
            other => return Err(format!("unknown option {other}\n{HELP}")),
        }
    }
    Ok(a)
}

/// The faults the virtual modules offer (`cellmail_sim::Faults`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Fault {
    Reboot,
    BearerLost,
    DnsFailure,
    ServerDown,
    SlowResult,
    Garbled,
}

impl Fault {
    const ALL: [Fault; 6] = [
        Fault::Reboot,
        Fault::BearerLost,
        Fault::DnsFailure,
        Fault::ServerDown,
        Fault::SlowResult,
        Fault::Garbled,
    ];

    fn name(self) -> &'static str {
        match self {
            Fault::Reboot => "reboot",
            Fault::BearerLost => "bearer lost",
            Fault::DnsFailure => "DNS failure",
            Fault::ServerDown => "server down",
            Fault::SlowResult => "slow result",
            Fault::Garbled => "garbled bytes",
        }
    }
}

/// How long the host waits for a SIM5360 send result in the soak: the slow
/// result fault delays it past this.
const SIM5360_RESULT_TIMEOUT: Duration = Duration::from_secs(3);

/// The delay of a slow result. Only the SIM5360's host wait is short enough to
/// go past in a soak (the SIM7000 waits 4 × its 10-120 s server timeout + 30 s,
/// the Quectel `AT+QSMTPPUT` at least 100 s): the others get a result late
/// but within their wait.
fn slow_result(family: Family) -> Duration {
    match family {
        Family::Sim5360 => SIM5360_RESULT_TIMEOUT + Duration::from_secs(2),
        _ => Duration::from_millis(1500),
    }
}

/// How much longer than the SIMCom families' the gap between faults is for
/// `family`: its fault-free send time over theirs, so that every family
/// meets about as many faults per mail. Measured with `cargo xtask soak
/// --no-faults` (debug build, 2 shared cores): a SIM7000 or SIM5360 mail
/// takes about 65 ms on its virtual module, a Quectel mail 1.56 s (its body
/// ends with `+++`: the guard second of silence before it, and the
/// module's half second to take it as the escape), 24 times as long. Under
/// one schedule per second a Quectel send met a fault almost every time.
/// A fault lasts as long on every family (0.2-1.2 s): it is an event of the
/// module's world, not a share of a send.
fn gap_scale(family: Family) -> u64 {
    match family {
        Family::QuectelGsm => 24,
        Family::Sim7000 | Family::Sim5360 | Family::A76xx => 1,
    }
}

/// The gap between two faults, before the scale: 0.2-2 s.
const GAP_MS: std::ops::RangeInclusive<u64> = 200..=2000;

/// Injects one fault at a time at random moments until `stop` is set: a gap
/// of [`GAP_MS`] times [`gap_scale`], then a fault lasting 0.2-1.2 s.
async fn inject(
    faults: Faults,
    family: Family,
    seed: u64,
    stop: tokio::sync::watch::Receiver<bool>,
) -> HashMap<Fault, u32> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut counts = HashMap::new();
    let scale = gap_scale(family);
    while !*stop.borrow() {
        let gap = Duration::from_millis(rng.u64(GAP_MS) * scale);
        // Watched while it lasts: a long gap must not outlive the run.
        let mut stopped = stop.clone();
        tokio::select! {
            () = tokio::time::sleep(gap) => {}
            _ = stopped.wait_for(|s| *s) => break,
        }
        if *stop.borrow() {
            break;
        }
        let fault = Fault::ALL[rng.usize(..Fault::ALL.len())];
        *counts.entry(fault).or_insert(0) += 1;
        let lasting = Duration::from_millis(rng.u64(200..=1200));
        match fault {
            Fault::Reboot => faults.reboot(),
            Fault::BearerLost => faults.bearer_lost(true),
            Fault::DnsFailure => faults.dns_failure(true),
            Fault::ServerDown => faults.unreachable(true),
            Fault::SlowResult => faults.delay(Some(slow_result(family))),
            Fault::Garbled => faults.garble(true),
        }
        tokio::time::sleep(lasting).await;
        faults.bearer_lost(false);
        faults.dns_failure(false);
        faults.unreachable(false);
        faults.delay(None);
        faults.garble(false);
    }
    counts
}

pub(crate) fn get<'a>(e: &'a Endpoints, key: &str) -> Result<&'a str, String> {
    e.get(key)
        .ok_or_else(|| format!("the mail stack's env has no {key}"))
}

pub(crate) fn mailer(
    family: Family,
    module: &VirtualModule,
    account: SmtpAccount,
) -> Result<Box<dyn MailSender>, String> {
    let path = module.path().to_str().ok_or("pty path is not UTF-8")?;
    let port = cellmail_at::serial::open(path, 115_200).map_err(|e| e.to_string())?;
    let decoder = match family {
        Family::QuectelGsm => cellmail_quectel::decoder_config(),
        Family::Sim7000 => cellmail_simcom::sim7000::decoder_config(),
        Family::Sim5360 => cellmail_simcom::sim5360::decoder_config(),
        Family::A76xx => cellmail_simcom::a76xx::decoder_config(),
    };
    let mut config = ClientConfig::with_decoder(decoder);
    // A command lost in a reboot is given up after this.
    config.command_timeout = Duration::from_secs(5);
    let client = Client::new(port, config);
    Ok(match family {
        Family::QuectelGsm => Box::new(cellmail_quectel::QuectelMailer::new(
            client,
            account,
            cellmail_quectel::QuectelOptions {
                bearer: Some(cellmail::Bearer {
                    apn: "CMNET".into(),
                    user: None,
                    password: None,
                }),
                send_timeout: std::time::Duration::from_secs(100),
                // The outbox retries; the dialect makes one attempt.
                retry: cellmail_quectel::RetryPolicy::once(),
                ..Default::default()
            },
        )),
        Family::Sim7000 => Box::new(cellmail_simcom::Sim7000Mailer::new(
            client,
            account,
            cellmail_simcom::Sim7000Options {
                bearer: Some(cellmail::Bearer::new("CMNET")),
                server_timeout: std::time::Duration::from_secs(10),
                ..Default::default()
            },
        )),
        Family::Sim5360 => Box::new(cellmail_simcom::Sim5360Mailer::new(
            client,
            account,
            cellmail_simcom::Sim5360Options {
                bearer: Some(cellmail::Bearer::new("3GNET")),
                result_timeout: SIM5360_RESULT_TIMEOUT,
                ..Default::default()
            },
        )),
        Family::A76xx => Box::new(cellmail_simcom::A76xxMailer::new(
            client,
            account,
            cellmail_simcom::A76xxOptions {
                bearer: Some(cellmail::Bearer::new("internet")),
                send_timeout: Duration::from_secs(60),
                ..Default::default()
            },
        )),
    })
}

/// What one family's soak found.
struct Report {
    family: Family,
    mails: usize,
    modules: usize,
    failovers: u64,
    attempts: u64,
    retried: u64,
    counts: cellmail_outbox::StateCounts,
    flagged: Vec<MailId>,
    faults: HashMap<Fault, u32>,
    /// Arrivals per mail index, from the mailbox.
    arrived: Vec<u32>,
    states: Vec<MailState>,
    ids: Vec<MailId>,
    took: Duration,
    last_error: Option<String>,
}

impl Report {
    /// Mails the outbox does not report as failed or unknown that never arrived.
    fn lost(&self) -> Vec<MailId> {
        self.ids
            .iter()
            .zip(&self.states)
            .zip(&self.arrived)
            .filter(|((_, s), n)| **n == 0 && !matches!(s, MailState::Failed | MailState::Unknown))
            .map(|((id, _), _)| *id)
            .collect()
    }

    /// Mails that arrived more than once.
    fn duplicated(&self) -> Vec<MailId> {
        self.ids
            .iter()
            .zip(&self.arrived)
            .filter(|(_, n)| **n > 1)
            .map(|(id, _)| *id)
            .collect()
    }

    /// Duplicates the outbox did not flag: must be none.
    fn unflagged(&self) -> Vec<MailId> {
        self.duplicated()
            .into_iter()
            .filter(|id| !self.flagged.contains(id))
            .collect()
    }

    /// Mails reported failed that arrived all the same: must be none.
    fn failed_but_arrived(&self) -> Vec<MailId> {
        self.ids
            .iter()
            .zip(&self.states)
            .zip(&self.arrived)
            .filter(|((_, s), n)| **s == MailState::Failed && **n > 0)
            .map(|((id, _), _)| *id)
            .collect()
    }

    fn print(&self) {
        let mut faults: Vec<_> = self.faults.iter().collect();
        faults.sort();
        let faults: Vec<_> = faults
            .iter()
            .map(|(f, n)| format!("{} {n}", f.name()))
            .collect();
        let c = &self.counts;
        println!(
            "soak {}: {} mails over {} module(s) in {:.1}s, {} attempts, {} failovers; sent {}, retried {}, failed {}, unknown {}, lost {}",
            self.family.name(),
            self.mails,
            self.modules,
            self.took.as_secs_f64(),
            self.attempts,
            self.failovers,
            c.sent,
            self.retried,
            c.failed,
            c.unknown,
            self.lost().len()
        );
        println!(
            "  faults injected: {}",
            if faults.is_empty() {
                "none".to_owned()
            } else {
                faults.join(", ")
            }
        );
        println!(
            "  mailbox over POP3: {} arrived, {} of them more than once; flagged possible duplicates {}, unflagged duplicates {}, failed yet arrived {}",
            self.arrived.iter().filter(|n| **n > 0).count(),
            self.duplicated().len(),
            self.flagged.len(),
            self.unflagged().len(),
            self.failed_but_arrived().len()
        );
        if let Some(e) = &self.last_error {
            println!("  last error: {e}");
        }
        for (what, ids) in [
            ("lost", self.lost()),
            ("unflagged duplicates", self.unflagged()),
            ("failed yet arrived", self.failed_but_arrived()),
        ] {
            if !ids.is_empty() {
                println!("  {what}: {ids:?}");
            }
        }
    }

    fn ok(&self) -> bool {
        self.lost().is_empty()
            && self.unflagged().is_empty()
            && self.failed_but_arrived().is_empty()
    }
}

async fn soak_family(
    family: Family,
    args: &Args,
    stack: &Endpoints,
    seed: u64,
) -> Result<(Report, String), String> {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let tag = format!("soak-{}-{nanos}", family.name());
    let dir = crate::root().join("target/soak").join(&tag);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let outbox = Outbox::open(dir.join("outbox.db")).map_err(|e| e.to_string())?;
    let from = get(stack, "CELLMAIL_USER_ALICE")?.to_owned();
    let to = get(stack, "CELLMAIL_USER_BOB")?.to_owned();
    let mut ids = Vec::with_capacity(args.mails);
    for i in 0..args.mails {
        let email = Email::builder()
            .from(&from, Some("Soak"))
            .to(&to, None)
            .subject(format!("{tag} #{i}"))
            .body(format!("soak mail {i} of {}", args.mails))
            .build()
            .map_err(|e| e.to_string())?;
        ids.push(outbox.enqueue(&email).map_err(|e| e.to_string())?);
    }
    let account = SmtpAccount {
        server: ServerAddr::new(
            get(stack, "CELLMAIL_SMTP_HOST")?,
            get(stack, "CELLMAIL_SMTP_PORT")?
                .parse()
                .map_err(|_| "bad CELLMAIL_SMTP_PORT")?,
        ),
        auth: Auth::Login {
            user: from.clone(),
            password: Secret::new(get(stack, "CELLMAIL_PASSWORD_ALICE")?),
        },
        tls: TlsSettings::default(),
    };
    let mut modules = Vec::with_capacity(args.modules);
    let mut senders = Vec::with_capacity(args.modules);
    for _ in 0..args.modules {
        let module =
            VirtualModule::spawn(family, SimOptions::default()).map_err(|e| e.to_string())?;
        senders.push(mailer(family, &module, account.clone())?);
        modules.push(module);
    }
    let config = RunnerConfig {
        retry: RetryPolicy {
            initial: Duration::from_millis(200),
            max_delay: Duration::from_secs(3),
            jitter_percent: 50,
            max_attempts: Some(40),
            max_age: None,
        },
        clock: Clock::system(),
        seed: Some(seed),
        ..RunnerConfig::default()
    };
    let mut runner = Runner::new(outbox.clone(), senders, config).map_err(|e| e.to_string())?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(!args.faults);
    let injectors: Vec<_> = modules
        .iter()
        .enumerate()
        .map(|(k, m)| {
            let seed = seed.wrapping_mul(31).wrapping_add(k as u64);
            tokio::spawn(inject(m.faults().clone(), family, seed, stop_rx.clone()))
        })
        .collect();
    let started = Instant::now();
    let (mut done, mut next_line) = (0usize, 0usize);
    let summary = runner
        .run_until_empty(|e| {
            done += usize::from(e.state.is_final());
            if done >= next_line {
                eprintln!("  {}: {done} of {} mails done", family.name(), args.mails);
                next_line = done + 50;
            }
        })
        .await
        .map_err(|e| e.to_string())?;
    let took = started.elapsed();
    let _ = stop_tx.send(true);
    let mut faults = HashMap::new();
    for injector in injectors {
        for (fault, n) in injector.await.map_err(|e| e.to_string())? {
            *faults.entry(fault).or_insert(0) += n;
        }
    }
    let status = outbox.status().map_err(|e| e.to_string())?;
    let mut states = Vec::with_capacity(ids.len());
    for id in &ids {
        states.push(outbox.mail(*id).map_err(|e| e.to_string())?.state);
    }
    let report = Report {
        family,
        mails: args.mails,
        modules: args.modules,
        failovers: summary.failovers,
        attempts: summary.attempts,
        retried: summary.retried,
        counts: status.counts,
        flagged: status.possible_duplicates.clone(),
        faults,
        arrived: vec![0; ids.len()],
        states,
        ids,
        took,
        last_error: status
            .last_error
            .map(|e| format!("mail {}: {}", e.id, e.error)),
    };
    Ok((report, tag))
}

/// A POP3 session straight to Dovecot (plain, loopback).
struct Pop3 {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Pop3 {
    fn connect(port: u16, user: &str, password: &str) -> Result<Self, String> {
        let stream = TcpStream::connect(("127.0.0.1", port)).map_err(|e| format!("POP3: {e}"))?;
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .map_err(|e| e.to_string())?;
        let writer = stream.try_clone().map_err(|e| e.to_string())?;
        let mut s = Self {
            reader: BufReader::new(stream),
            writer,
        };
        s.status_line()?;
        s.command(&format!("USER {user}"))?;
        s.command(&format!("PASS {password}"))
            .map_err(|_| "POP3: the server refused the login".to_owned())?;
        Ok(s)
    }

    fn status_line(&mut self) -> Result<String, String> {
        let mut line = String::new();
        self.reader
            .read_line(&mut line)
            .map_err(|e| format!("POP3: {e}"))?;
        if line.starts_with("+OK") {
            Ok(line)
        } else {
            Err(format!("POP3: {}", line.trim_end()))
        }
    }

    fn command(&mut self, cmd: &str) -> Result<String, String> {
        self.writer
            .write_all(format!("{cmd}\r\n").as_bytes())
            .map_err(|e| format!("POP3: {e}"))?;
        self.status_line()
    }

    /// A multi-line answer, dot-unstuffed.
    fn lines(&mut self, cmd: &str) -> Result<Vec<u8>, String> {
        self.command(cmd)?;
        let mut out = Vec::new();
        loop {
            let mut line = Vec::new();
            let n = self
                .reader
                .read_until(b'\n', &mut line)
                .map_err(|e| format!("POP3: {e}"))?;
            if n == 0 {
                return Err("POP3: the server closed the connection".into());
            }
            if line == b".\r\n" {
                return Ok(out);
            }
            let body = if line.starts_with(b"..") {
                &line[1..]
            } else {
                &line[..]
            };
            out.extend_from_slice(body);
        }
    }
}

/// One POP3 session: counts the mails tagged `tag` by index, deletes them, and
/// returns the counts only if the deletions were committed (QUIT answered +OK),
/// so no mail is counted twice.
pub(crate) fn take_arrivals(stack: &Endpoints, tag: &str) -> Result<HashMap<usize, u32>, String> {
    let port: u16 = get(stack, "CELLMAIL_POP3_PORT")?
        .parse()
        .map_err(|_| "bad CELLMAIL_POP3_PORT")?;
    let mut pop = Pop3::connect(
        port,
        get(stack, "CELLMAIL_USER_BOB")?,
        get(stack, "CELLMAIL_PASSWORD_BOB")?,
    )?;
    let list = pop.lines("LIST")?;
    let numbers: Vec<u32> = String::from_utf8_lossy(&list)
        .lines()
        .filter_map(|l| l.split_whitespace().next()?.parse().ok())
        .collect();
    let prefix = format!("{tag} #");
    let mut found = HashMap::new();
    for n in numbers {
        let head = pop.lines(&format!("TOP {n} 0"))?;
        let subject = cellmail::Message::parse(head)
            .ok()
            .and_then(|m| m.subject());
        if let Some(i) = subject
            .as_deref()
            .and_then(|s| s.strip_prefix(&prefix))
            .and_then(|i| i.trim().parse::<usize>().ok())
        {
            *found.entry(i).or_insert(0) += 1;
            pop.command(&format!("DELE {n}"))?;
        }
    }
    pop.command("QUIT")?;
    Ok(found)
}

/// Reads the mailbox until every mail the outbox reports sent has arrived (or
/// 60 s passed), then once more after a pause for late duplicates.
fn count_mailbox(report: &mut Report, stack: &Endpoints, tag: &str) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut complete_once = false;
    loop {
        for (i, n) in take_arrivals(stack, tag)? {
            if let Some(slot) = report.arrived.get_mut(i) {
                *slot += n;
            }
        }
        let waiting = report
            .states
            .iter()
            .zip(&report.arrived)
            .any(|(s, n)| *s == MailState::Sent && *n == 0);
        if !waiting && complete_once {
            return Ok(());
        }
        complete_once = !waiting;
        if Instant::now() > deadline {
            return Ok(()); // what has not arrived now is counted as lost
        }
        std::thread::sleep(Duration::from_secs(2));
    }
}

/// `cargo xtask soak`.
pub fn run(args: &[String]) -> Result<(), String> {
    let args = parse(args)?;
    let stack = mailstack::ensure_up()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let mut all_ok = true;
    println!(
        "soak: {} mails per family, faults {}, seed {}",
        args.mails,
        if args.faults { "on" } else { "off" },
        args.seed
    );
    for (k, family) in args.families.iter().enumerate() {
        let seed = args.seed.wrapping_add(k as u64);
        if args.faults {
            let scale = gap_scale(*family) as f64;
            println!(
                "soak {}: one fault at a time, {:.1}-{:.1} s apart, each lasting 0.2-1.2 s",
                family.name(),
                *GAP_MS.start() as f64 * scale / 1000.0,
                *GAP_MS.end() as f64 * scale / 1000.0
            );
        }
        let (mut report, tag) = rt.block_on(soak_family(*family, &args, &stack, seed))?;
        count_mailbox(&mut report, &stack, &tag)?;
        report.print();
        all_ok &= report.ok();
    }
    if all_ok {
        println!("soak: 0 lost, every duplicate flagged, no failed mail arrived");
        Ok(())
    } else {
        Err(
            "soak: mail was lost, duplicated without a flag, or reported failed yet delivered"
                .into(),
        )
    }
}
