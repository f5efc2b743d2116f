//! `cargo xtask hil`: the scenario matrix against a modem on a serial port or
//! a virtual module, recorded as replayable transcripts; and `cargo xtask demo`.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use cellmail::{Progress, ProgressEvent, Secret};
use cellmail_replay::Recorder;
use cellmail_sim::{Family, SimOptions, VirtualModule};
use cellmail_suite::hil::{self, DialectKind, HilConfig, Outcome, SCENARIOS, ScenarioResult};

use crate::mailstack;

const HELP: &str = "usage: cargo xtask hil (--port <path> [--baud <n>] | --sim <quectel-gsm|sim7000|sim5360>)
    [--dialect auto|quectel-gsm|sim7000|sim5360] [--smtp <host:port>] [--smtps-port <n>] [--pop3-port <n>]
    [--user <address>] [--password-env <VAR>] [--to <address>] [--cc <address>] [--bcc <address>]
    [--tls none|implicit|starttls] [--apn <apn>] [--only <scenario>[,<scenario>...]] [--list] [--record <dir>]";

struct Args {
    port: Option<String>,
    baud: u32,
    sim: Option<Family>,
    dialect: Option<DialectKind>,
    smtp: Option<(String, u16)>,
    smtps_port: Option<u16>,
    pop3_port: Option<u16>,
    user: Option<String>,
    password_env: Option<String>,
    to: Option<String>,
    cc: Option<String>,
    bcc: Option<String>,
    tls: Option<String>,
    apn: Option<String>,
    only: Option<Vec<String>>,
    list: bool,
    record: Option<PathBuf>,
}

fn parse(args: &[String]) -> Result<Args, String> {
    let mut a = Args {
        port: None,
        baud: 115_200,
        sim: None,
        dialect: None,
        smtp: None,
        smtps_port: None,
        pop3_port: None,
        user: None,
        password_env: None,
        to: None,
        cc: None,
        bcc: None,
        tls: None,
        apn: None,
        only: None,
        list: false,
        record: None,
    };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let mut value = || {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{flag} needs a value\n{HELP}"))
        };
        match flag.as_str() {
            "--port" => a.port = Some(value()?),
            "--baud" => {
                a.baud = value()?
                    .parse()
                    .map_err(|_| "--baud takes a number".to_owned())?
            }
            "--sim" => {
                let v = value()?;
                a.sim = Some(Family::parse(&v).ok_or(format!("unknown family {v}"))?);
            }
            "--dialect" => {
                let v = value()?;
                a.dialect = match v.as_str() {
                    "auto" => None,
                    other => {
                        Some(DialectKind::parse(other).ok_or(format!("unknown dialect {other}"))?)
                    }
                };
            }
            "--smtp" => {
                let v = value()?;
                let (h, p) = v.rsplit_once(':').ok_or("--smtp takes host:port")?;
                a.smtp = Some((
                    h.to_owned(),
                    p.parse().map_err(|_| "bad --smtp port".to_owned())?,
                ));
            }
            "--smtps-port" => {
                a.smtps_port = Some(
                    value()?
                        .parse()
                        .map_err(|_| "bad --smtps-port".to_owned())?,
                )
            }
            "--pop3-port" | "--pop3" => {
                a.pop3_port = Some(value()?.parse().map_err(|_| "bad --pop3-port".to_owned())?)
            }
            "--user" => a.user = Some(value()?),
            "--password-env" => a.password_env = Some(value()?),
            "--to" => a.to = Some(value()?),
            "--cc" => a.cc = Some(value()?),
            "--bcc" => a.bcc = Some(value()?),
            "--tls" => {
                let v = value()?;
                if !matches!(v.as_str(), "none" | "implicit" | "starttls") {
                    return Err(format!("--tls takes none, implicit or starttls, not {v}"));
                }
                a.tls = Some(v);
            }
            "--apn" => a.apn = Some(value()?),
            "--only" => {
                let v = value()?;
                let names: Vec<String> = v.split(',').map(|s| s.trim().to_owned()).collect();
                if let Some(bad) = names.iter().find(|n| !SCENARIOS.contains(&n.as_str())) {
                    return Err(format!(
                        "no scenario named {bad:?}; the scenarios are: {}",
                        SCENARIOS.join(", ")
                    ));
                }
                a.only.get_or_insert_with(Vec::new).extend(names);
            }
            "--list" => a.list = true,
            "--record" => a.record = Some(PathBuf::from(value()?)),
            other => return Err(format!("unknown option {other}\n{HELP}")),
        }
    }
    if a.port.is_some() && a.sim.is_some() {
        return Err(format!("give --port or --sim, not both\n{HELP}"));
    }
    if a.port.is_some() && a.smtp.is_none() {
        return Err(
            "--port needs --smtp (and --user, --password-env, --to): the local mail stack \
             listens on 127.0.0.1, which a modem cannot reach"
                .into(),
        );
    }
    Ok(a)
}

/// Progress bars on a terminal, plain lines otherwise (indicatif).
fn progress() -> Progress {
    let bar = Arc::new(indicatif::ProgressBar::hidden());
    let terminal = std::io::stderr().is_terminal();
    if terminal {
        bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "  {msg} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        ) {
            bar.set_style(style);
        }
    }
    Progress::new(move |e: ProgressEvent| {
        let what = format!("{:?}", e.phase);
        if terminal {
            bar.set_message(what);
            bar.set_length(e.total.unwrap_or(e.done));
            bar.set_position(e.done);
        } else if e.total.is_none_or(|t| e.done == t) {
            eprintln!("  {what}: {} bytes", e.done);
        }
    })
}

/// `text` with `password` written as `${password}`.
fn redacted(text: &str, password: &str) -> String {
    if password.is_empty() {
        text.to_owned()
    } else {
        text.replace(password, "${password}")
    }
}

fn outcome_text(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Pass => "pass".to_owned(),
        Outcome::Fail(why) => format!("FAIL: {why}"),
        Outcome::Skipped(why) => format!("skipped: {why}"),
    }
}

/// The result table; the result column is as wide as its longest reason
/// (reasons are never cut).
fn print_table(kind: DialectKind, results: &[ScenarioResult], password: &str) {
    let texts: Vec<String> = results
        .iter()
        .map(|r| redacted(&outcome_text(&r.outcome), password))
        .collect();
    let width = texts
        .iter()
        .map(|t| t.chars().count())
        .max()
        .unwrap_or(0)
        .max(6);
    println!(
        "\n{:<20} {:<width$} {:>9} {:>9} {:>9}",
        format!("{} scenario", kind.name()),
        "result",
        "duration",
        "commands",
        "bytes"
    );
    for (r, outcome) in results.iter().zip(&texts) {
        println!(
            "{:<20} {:<width$} {:>8.2}s {:>9} {:>9}",
            r.name,
            outcome,
            r.duration.as_secs_f64(),
            r.commands,
            r.bytes
        );
    }
    let count = |f: fn(&Outcome) -> bool| results.iter().filter(|r| f(&r.outcome)).count();
    println!(
        "{} passed, {} failed, {} skipped",
        count(|o| matches!(o, Outcome::Pass)),
        count(|o| matches!(o, Outcome::Fail(_))),
        count(|o| matches!(o, Outcome::Skipped(_))),
    );
}

fn headers(
    kind: DialectKind,
    scenario: &str,
    cfg: &HilConfig,
    outcome: &Outcome,
    password: &str,
) -> Vec<(String, String)> {
    let mut h = vec![
        ("dialect".into(), kind.name().into()),
        ("scenario".into(), scenario.into()),
        (
            "outcome".into(),
            match outcome {
                Outcome::Pass => "pass".into(),
                Outcome::Fail(_) => "fail".into(),
                Outcome::Skipped(_) => "skipped".into(),
            },
        ),
    ];
    // Why it was skipped (or failed): the replay checks it ends the same way.
    if let Outcome::Skipped(why) | Outcome::Fail(why) = outcome {
        // Redact before collapsing whitespace, which could change the secret's bytes.
        let why = redacted(why, password);
        let why = why.split_whitespace().collect::<Vec<_>>().join(" ");
        h.push(("reason".into(), why));
    }
    h.extend([
        ("host".into(), cfg.host.clone()),
        ("smtp-port".into(), cfg.smtp_port.to_string()),
        ("user".into(), cfg.user.clone()),
        ("to".into(), cfg.to.clone()),
    ]);
    for (k, v) in [
        ("smtps-port", cfg.smtps_port.map(|p| p.to_string())),
        ("pop3-port", cfg.pop3_port.map(|p| p.to_string())),
        ("cc", cfg.cc.clone()),
        ("bcc", cfg.bcc.clone()),
        ("apn", cfg.apn.clone()),
    ] {
        if let Some(v) = v {
            h.push((k.into(), v));
        }
    }
    if cfg.ca_pem.is_some() {
        h.push(("ca".into(), "ca.pem".into()));
    }
    if cfg.host_file.is_some() {
        h.push(("host-file".into(), "log.txt".into()));
    }
    h
}

async fn matrix(args: Args) -> Result<bool, String> {
    // The account: from flags, or the local mail stack for virtual modules.
    let stack = if args.smtp.is_none() {
        Some(mailstack::ensure_up()?)
    } else {
        None
    };
    let get = |k: &str| stack.as_ref().and_then(|s| s.get(k)).map(str::to_owned);
    let password = match &args.password_env {
        Some(var) => std::env::var(var).map_err(|_| format!("{var} is not set"))?,
        None => get("CELLMAIL_PASSWORD_ALICE").ok_or("give --password-env for a real account")?,
    };
    let (host, smtp_port) = match &args.smtp {
        Some(s) => s.clone(),
        None => (
            get("CELLMAIL_SMTP_HOST").unwrap_or_default(),
            get("CELLMAIL_SMTP_PORT")
                .and_then(|p| p.parse().ok())
                .unwrap_or(25),
        ),
    };
    let work = crate::root().join("target/hil");
    std::fs::create_dir_all(&work).map_err(|e| e.to_string())?;
    let host_file = work.join("log.txt");
    std::fs::write(&host_file, b"boot ok\nreading 42.7 m3\n").map_err(|e| e.to_string())?;
    let ca_pem = match get("CELLMAIL_CA_CERT") {
        Some(path) => Some(std::fs::read(path).map_err(|e| e.to_string())?),
        None => None,
    };
    let cfg = HilConfig {
        host,
        smtp_port,
        smtps_port: args
            .smtps_port
            .or_else(|| get("CELLMAIL_SMTPS_PORT").and_then(|p| p.parse().ok())),
        pop3_port: args
            .pop3_port
            .or_else(|| get("CELLMAIL_POP3_PORT").and_then(|p| p.parse().ok())),
        user: args
            .user
            .clone()
            .or_else(|| get("CELLMAIL_USER_ALICE"))
            .ok_or("give --user")?,
        password: Secret::new(password.clone()),
        to: args
            .to
            .clone()
            .or_else(|| get("CELLMAIL_USER_ALICE"))
            .ok_or("give --to")?,
        cc: args.cc.clone().or_else(|| get("CELLMAIL_USER_CAROL")),
        bcc: args.bcc.clone().or_else(|| get("CELLMAIL_USER_DAVE")),
        apn: args
            .apn
            .clone()
            .or_else(|| args.sim.map(|_| "CMNET".to_owned())),
        ca_pem,
        host_file: Some(host_file),
        progress: Some(progress()),
    };

    // The module: a virtual one, or the port given.
    let module = match args.sim {
        Some(family) => {
            let files = vec![
                ("UFS:hil.txt".to_owned(), b"module file\n".to_vec()),
                (
                    "C:/Picture/hil.jpg".to_owned(),
                    vec![0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3],
                ),
            ];
            Some(
                VirtualModule::spawn(family, SimOptions { baud: None, files })
                    .map_err(|e| e.to_string())?,
            )
        }
        None => None,
    };
    let path = match (&module, &args.port) {
        (Some(m), _) => m.path().to_string_lossy().into_owned(),
        (None, Some(p)) => p.clone(),
        (None, None) => return Err(format!("give --port or --sim\n{HELP}")),
    };
    let open = || {
        cellmail_at::serial::open(&path, args.baud).map_err(|e| format!("cannot open {path}: {e}"))
    };

    let kind = match args.dialect {
        Some(k) => k,
        None => {
            // The one-call open probes and picks the dialect; the scenarios then open the
            // port again each, through a recorder.
            let modem = cellmail_modem::open(&path, args.baud, &Default::default())
                .await
                .map_err(|e| {
                    format!("--dialect auto on {path}: {e} (name one with --dialect to force it)")
                })?;
            let kind = modem.family();
            let info = modem
                .info()
                .map_or_else(|| kind.name().to_owned(), ToString::to_string);
            drop(modem);
            eprintln!("probed {info}: dialect {}", kind.name());
            kind
        }
    };
    let skip_tls = |s: &str| {
        matches!(
            (args.tls.as_deref(), s),
            (Some("none"), "starttls" | "implicit-tls")
                | (Some("implicit"), "starttls")
                | (Some("starttls"), "implicit-tls")
        )
    };
    let mut results = Vec::new();
    for &scenario in SCENARIOS
        .iter()
        .filter(|s| args.only.as_ref().is_none_or(|o| o.iter().any(|o| o == *s)))
    {
        if skip_tls(scenario) {
            let tls = args.tls.as_deref().unwrap_or_default();
            results.push(ScenarioResult {
                name: scenario,
                outcome: Outcome::Skipped(format!("--tls {tls}")),
                duration: Duration::ZERO,
                commands: 0,
                bytes: 0,
            });
            continue;
        }
        eprintln!("== {} {scenario}", kind.name());
        let recorder = Recorder::new(open()?).redact("password", &password);
        let limit = Duration::from_secs(600);
        let Ok((result, client)) =
            tokio::time::timeout(limit, hil::run(scenario, kind, recorder, &cfg)).await
        else {
            // The session is gone with the future: a row, no transcript.
            results.push(ScenarioResult {
                name: scenario,
                outcome: Outcome::Fail(format!("did not finish in {limit:?}")),
                duration: limit,
                commands: 0,
                bytes: 0,
            });
            continue;
        };
        if let Some(dir) = &args.record {
            let dir = dir.join(kind.name());
            std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
            if let Some(ca) = &cfg.ca_pem {
                std::fs::write(dir.join("ca.pem"), ca).map_err(|e| e.to_string())?;
            }
            std::fs::copy(
                cfg.host_file.as_deref().unwrap_or(Path::new("")),
                dir.join("log.txt"),
            )
            .map_err(|e| e.to_string())?;
            let h = headers(kind, scenario, &cfg, &result.outcome, &password);
            let h: Vec<(&str, &str)> = h.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            client
                .into_inner()
                .save(dir.join(format!("{scenario}.at")), &h)
                .map_err(|e| e.to_string())?;
        }
        results.push(result);
    }
    print_table(kind, &results, &password);
    if let Some(dir) = &args.record {
        println!("transcripts: {}", dir.join(kind.name()).display());
    }
    Ok(results
        .iter()
        .all(|r| !matches!(r.outcome, Outcome::Fail(_))))
}

/// `cargo xtask hil ...`
pub fn run(args: &[String]) -> Result<(), String> {
    let args = parse(args)?;
    if args.list {
        for s in SCENARIOS {
            println!("{s:<20} {}", hil::describe(s).unwrap_or_default());
        }
        return Ok(());
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    if runtime.block_on(matrix(args))? {
        Ok(())
    } else {
        Err("some scenarios failed".into())
    }
}

/// `cargo xtask demo`: the mail stack, a virtual module of each family, a mail
/// with an attachment through each, read back over POP3.
pub fn demo(_args: &[String]) -> Result<(), String> {
    let stack = mailstack::ensure_up()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let out = crate::root().join("target/demo");
    let result = runtime.block_on(async {
        let mut ok = true;
        for (family, attachment) in [
            ("sim7000", "attachment-memory"),
            ("quectel-gsm", "attachment-file"),
            ("sim5360", "attachment-module"),
        ] {
            let args: Vec<String> = ["--sim", family, "--only", attachment, "--record"]
                .iter()
                .map(|s| (*s).to_owned())
                .chain([out.to_string_lossy().into_owned()])
                .collect();
            ok &= matrix(parse(&args)?).await?;
            let pop3: Vec<String> = ["--sim", family, "--only", "pop3", "--record"]
                .iter()
                .map(|s| (*s).to_owned())
                .chain([out.to_string_lossy().into_owned()])
                .collect();
            ok &= matrix(parse(&pop3)?).await?;
        }
        ok &= crate::outage::run(&stack).await?;
        Ok::<bool, String>(ok)
    });
    match result? {
        true => {
            println!(
                "\ndemo: each family sent a mail with an attachment (from memory, a host file, the module's file system) through Postfix to Dovecot; the SIMCom modules read the mailbox over POP3 (the Quectel GSM modules have no POP3 client)."
            );
            println!(
                "demo: the outbox kept every mail enqueued while Postfix was stopped and delivered each once it was back."
            );
            println!("demo: transcripts of every session: {}", out.display());
            println!(
                "demo: the mail stack keeps running; stop it with `cargo xtask mailstack down`."
            );
            Ok(())
        }
        false => Err("the demo failed".into()),
    }
}
