//! `cargo xtask hil`: the scenario matrix against a modem on a serial port or
//! a virtual module, recorded as replayable transcripts; and `cargo xtask demo`.

mod args;
mod delivered;
mod progress;
mod report;

use std::path::{Path, PathBuf};
use std::time::Duration;

use cellmail::Secret;
use cellmail_replay::Recorder;
use cellmail_sim::{SimOptions, VirtualModule};
use cellmail_suite::hil::{self, HilConfig, Outcome, SCENARIOS, ScenarioResult, skip};

use crate::mailstack;
use args::{Args, HELP, parse};
use delivered::Maildir;
use progress::Bars;
use report::{Recorded, headers, print_table, setup};

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
    let bars = Bars::new();
    let work = crate::root().join("target/hil");
    std::fs::create_dir_all(&work).map_err(|e| e.to_string())?;
    let host_file = work.join("log.txt");
    std::fs::write(&host_file, b"boot ok\nreading 42.7 m3\n").map_err(|e| e.to_string())?;
    // A SIM800 checks no certificate cellmail can configure: its TLS scenarios run without
    // the stack's CA (with one they would be skipped as unverifiable).
    let ca_pem = match get("CELLMAIL_CA_CERT").filter(|_| !args.sim800) {
        Some(path) => Some(std::fs::read(path).map_err(|e| e.to_string())?),
        None => None,
    };
    let mut cfg = HilConfig {
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
        // A virtual module is given the large attachment's file below.
        module_large_file: args.sim.map(|_| hil::LARGE_MODULE_FILE.to_owned()),
        progress: Some(bars.progress()),
        sim7000_model: if args.sim800 {
            cellmail_simcom::sim7000::Model::Sim800
        } else if args.sim7080 {
            cellmail_simcom::sim7000::Model::Sim7080
        } else {
            cellmail_simcom::sim7000::Model::Sim7000
        },
    };
    // attachment-large is checked where it arrives when the mail goes to the local stack.
    let maildir_root = get("CELLMAIL_MAILDIR_ROOT").map(PathBuf::from);

    // The module: a virtual one, or the port given.
    let module = match args.sim {
        Some(family) => {
            let files = vec![
                ("UFS:hil.txt".to_owned(), b"module file\n".to_vec()),
                (
                    "C:/Picture/hil.jpg".to_owned(),
                    vec![0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3],
                ),
                (hil::LARGE_MODULE_FILE.to_owned(), hil::large_attachment()),
            ];
            Some(
                VirtualModule::spawn(
                    family,
                    SimOptions {
                        baud: None,
                        files,
                        sim7000_model: if args.sim800 {
                            cellmail_sim::Sim7000Model::Sim800L
                        } else if args.sim7080 {
                            cellmail_sim::Sim7000Model::Sim7080G
                        } else {
                            cellmail_sim::Sim7000Model::Sim7000G
                        },
                    },
                )
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
            // The probed model decides what a SIM7000-family module can do (SIM800: TLS).
            if let Some(model) = modem.info().and_then(cellmail_simcom::sim7000::Model::of) {
                cfg.sim7000_model = model;
            }
            let info = modem
                .info()
                .map_or_else(|| kind.name().to_owned(), ToString::to_string);
            drop(modem);
            eprintln!("probed {info}: dialect {}", kind.name());
            kind
        }
    };
    let shown = match (&module, args.sim) {
        (Some(_), Some(_)) => format!("{path} (a virtual module)"),
        _ => format!("{path} at {} baud", args.baud),
    };
    for line in setup(
        kind,
        &shown,
        &cfg,
        args.tls.as_deref(),
        maildir_root.as_deref(),
    ) {
        println!("{line}");
    }
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
                outcome: Outcome::Skipped(skip::tls_left_out(tls, scenario)),
                duration: Duration::ZERO,
                commands: 0,
                bytes: 0,
            });
            continue;
        }
        bars.end();
        eprintln!("== {} {scenario}", kind.name());
        let recorder = Recorder::new(open()?).redact("password", &password);
        let limit = Duration::from_secs(600);
        let arrival = maildir_root
            .as_deref()
            .filter(|_| scenario == "attachment-large")
            .map(|root| Maildir::of(root, &cfg.to));
        let before = arrival.as_ref().map(Maildir::files).unwrap_or_default();
        let ran = tokio::time::timeout(limit, hil::run(scenario, kind, recorder, &cfg)).await;
        // A bar still open (a transfer cut short) ends before the next line.
        bars.end();
        let Ok((mut result, client)) = ran else {
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
        if let (Some(dir), Outcome::Pass) = (&arrival, &result.outcome) {
            let subject = format!("cellmail hil {scenario}");
            let (name, bytes) = (hil::LARGE_ATTACHMENT_NAME, hil::large_attachment());
            let wait = Duration::from_secs(30);
            let checked =
                tokio::task::block_in_place(|| dir.check(&before, &subject, name, &bytes, wait));
            match checked {
                Ok(()) => eprintln!("  arrived in Dovecot with {name} intact"),
                Err(why) => result.outcome = Outcome::Fail(format!("sent, but {why}")),
            }
        }
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
            let recorded = match args.sim {
                Some(_) => Recorded::VirtualModule,
                None => Recorded::Module,
            };
            let h = headers(kind, scenario, &cfg, &result.outcome, &password, recorded);
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
