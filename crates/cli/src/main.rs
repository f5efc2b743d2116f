//! `cellmail`: probe a module, send and fetch mail, run a durable outbox. See `cellmail --help`.

mod account;
mod args;
mod error;
mod fetch;
mod outbox;
mod progress;
mod setup;

use std::process::ExitCode;

use cellmail::MailSender;
use clap::Parser;

use crate::args::{Cli, Command, SendArgs};
use crate::error::CliError;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cellmail: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cellmail: {e}");
            if let Some(hint) = e.hint() {
                eprintln!("cellmail: {hint}");
            }
            ExitCode::from(e.exit_code())
        }
    }
}

async fn run(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        Command::Probe => probe(&cli.line).await,
        Command::Send(args) => send(&cli.line, args).await,
        Command::Fetch(args) => fetch::run(&cli.line, args).await,
        Command::Outbox(args) => outbox::run(&cli.line, args).await,
    }
}

async fn probe(line: &args::LineArgs) -> Result<(), CliError> {
    let mut opened = setup::open(line, None, None, None).await?;
    // A module whose model has e-mail TLS (SIM800) is asked which modes it has: one that
    // answers ERROR to AT+EMAILSSL=? has none, and the lines below say so.
    let mut no_tls = None;
    if let cellmail_modem::Mailer::Sim7000(m) = opened.modem.mailer_mut()
        && !m.capabilities().tls_versions.is_empty()
    {
        m.probe_tls().await?;
        if m.capabilities().tls_versions.is_empty() {
            no_tls =
                Some("the module answered ERROR to AT+EMAILSSL=?: its firmware has no e-mail TLS");
        }
    }
    let modem = &opened.modem;
    let family = modem.family();
    if let Some(info) = modem.info() {
        println!("manufacturer: {}", info.manufacturer);
        println!("model:        {}", info.model);
        println!("revision:     {}", info.revision);
    }
    println!("dialect:      {family}");
    let caps = modem.capabilities();
    let modes = |m: &[cellmail::TlsMode]| {
        m.iter()
            .map(|m| match m {
                cellmail::TlsMode::None => "plain",
                cellmail::TlsMode::Implicit => "implicit TLS",
                cellmail::TlsMode::StartTls => "STARTTLS",
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    println!("smtp:         {}", modes(&caps.smtp_tls));
    if family.reads_mail() {
        println!("pop3:         {}", modes(&caps.pop3_tls));
    } else {
        println!("pop3:         none (the module has no POP3 client)");
    }
    let versions: Vec<&str> = caps
        .tls_versions
        .iter()
        .map(|v| match v {
            cellmail::TlsVersion::Ssl3 => "SSL 3.0",
            cellmail::TlsVersion::Tls1_0 => "TLS 1.0",
            cellmail::TlsVersion::Tls1_1 => "TLS 1.1",
            cellmail::TlsVersion::Tls1_2 => "TLS 1.2",
            cellmail::TlsVersion::Any => "any",
        })
        .collect();
    match (no_tls, versions.as_slice()) {
        (Some(why), _) => println!("tls:          none ({why})"),
        (None, []) => println!("tls:          none"),
        (None, ["TLS 1.0"]) => println!(
            "tls:          TLS 1.0 only (most servers today refuse it: only one that allows TLS 1.0 is reached)"
        ),
        (None, v) => println!("tls:          {}", v.join(", ")),
    }
    Ok(())
}

async fn send(line: &args::LineArgs, args: SendArgs) -> Result<(), CliError> {
    // Everything the operator gave is checked before the module is opened.
    let email = setup::email(&args.mail)?;
    let account = setup::smtp_account(args.smtp.as_deref(), line)?;
    let mut opened = setup::open(line, Some(account), None, Some(progress::progress())).await?;
    setup::fits(&email, &opened.modem)?;
    let report = opened.modem.send(&email).await?;
    println!(
        "sent through {}: {} ({} AT commands, {} bytes, {:.1} s)",
        opened.modem.family(),
        report.module_result,
        report.commands,
        report.bytes_sent,
        report.duration.as_secs_f64()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// `--help` of the command and of every subcommand describes every flag.
    #[test]
    fn every_flag_has_help() {
        fn check(cmd: &clap::Command, path: &str) {
            for arg in cmd.get_arguments() {
                let id = arg.get_id().as_str();
                if matches!(id, "help" | "version") {
                    continue;
                }
                assert!(
                    arg.get_help()
                        .is_some_and(|h| !h.to_string().trim().is_empty()),
                    "{path} --{id} has no help"
                );
            }
            for sub in cmd.get_subcommands() {
                assert!(
                    sub.get_about().is_some(),
                    "{path} {} has no about",
                    sub.get_name()
                );
                check(sub, &format!("{path} {}", sub.get_name()));
            }
        }
        let cmd = super::Cli::command();
        cmd.clone().debug_assert();
        check(&cmd, "cellmail");
    }
}
