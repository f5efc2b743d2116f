//! The command line of `cargo xtask hil`.

use std::path::PathBuf;

use cellmail_sim::Family;
use cellmail_suite::hil::{DialectKind, SCENARIOS};

pub(super) const HELP: &str = "usage: cargo xtask hil (--port <path> [--baud <n>] | --sim <quectel-gsm|sim7000|sim800|sim7080|sim5360|a76xx>)
    [--dialect auto|quectel-gsm|sim7000|sim5360|a76xx] [--smtp <host:port>] [--smtps-port <n>] [--pop3-port <n>]
    [--user <address>] [--password-env <VAR>] [--to <address>] [--cc <address>] [--bcc <address>]
    [--tls none|implicit|starttls] [--apn <apn>] [--only <scenario>[,<scenario>...]] [--list] [--record <dir>]";

/// The options of one run.
pub(super) struct Args {
    pub(super) port: Option<String>,
    pub(super) baud: u32,
    pub(super) sim: Option<Family>,
    /// `--sim sim800`: the SIM7000-family virtual module as a SIM800L.
    pub(super) sim800: bool,
    /// `--sim sim7080`: the SIM7000-family virtual module as a SIM7080G.
    pub(super) sim7080: bool,
    pub(super) dialect: Option<DialectKind>,
    pub(super) smtp: Option<(String, u16)>,
    pub(super) smtps_port: Option<u16>,
    pub(super) pop3_port: Option<u16>,
    pub(super) user: Option<String>,
    pub(super) password_env: Option<String>,
    pub(super) to: Option<String>,
    pub(super) cc: Option<String>,
    pub(super) bcc: Option<String>,
    pub(super) tls: Option<String>,
    pub(super) apn: Option<String>,
    pub(super) only: Option<Vec<String>>,
    pub(super) list: bool,
    pub(super) record: Option<PathBuf>,
}

/// Parses the options after `hil`.
pub(super) fn parse(args: &[String]) -> Result<Args, String> {
    let mut a = Args {
        port: None,
        baud: 115_200,
        sim: None,
        sim800: false,
        sim7080: false,
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
    let mut flags = crate::Flags::new(args, HELP);
    while let Some(flag) = flags.next_flag() {
        let mut value = || flags.value(flag);
        match flag {
            "--port" => a.port = Some(value()?),
            "--baud" => {
                a.baud = value()?
                    .parse()
                    .map_err(|_| "--baud takes a number".to_owned())?
            }
            "--sim" => {
                let v = value()?;
                // A SIM800L is a virtual module of the SIM7000 family.
                a.sim800 = v == "sim800";
                a.sim7080 = v == "sim7080";
                let family = if a.sim800 || a.sim7080 {
                    "sim7000"
                } else {
                    v.as_str()
                };
                a.sim = Some(Family::parse(family).ok_or(format!("unknown family {v}"))?);
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
