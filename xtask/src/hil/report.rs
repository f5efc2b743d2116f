//! What `cargo xtask hil` prints and records: the run's set-up, the result
//! table, the transcript headers.

use std::path::Path;

use cellmail_suite::hil::{DialectKind, HilConfig, Outcome, ScenarioResult};

/// What the run uses, printed before the first scenario: the module, the
/// server (host:port and TLS mode of each port the scenarios use), the
/// account's user (never its password), the recipients, the APN, and where
/// delivery is checked.
pub(super) fn setup(
    kind: DialectKind,
    module: &str,
    cfg: &HilConfig,
    tls: Option<&str>,
    maildir: Option<&Path>,
) -> Vec<String> {
    let host = &cfg.host;
    let mut ports = vec![format!(
        "SMTP {host}:{} {}",
        cfg.smtp_port,
        match tls {
            None | Some("starttls") => "plain and STARTTLS",
            Some("none") => "plain only (--tls none)",
            Some(_) => "plain",
        }
    )];
    if let (Some(port), None | Some("implicit")) = (cfg.smtps_port, tls) {
        ports.push(format!("SMTPS {host}:{port} implicit TLS"));
    }
    if let Some(port) = cfg.pop3_port {
        ports.push(format!("POP3 {host}:{port} plain"));
    }
    let check = if cfg.ca_pem.is_some() {
        "server certificates checked against the CA"
    } else {
        "server certificates not checked"
    };
    let mut to = format!("mail to {}", cfg.to);
    if let Some(cc) = &cfg.cc {
        to.push_str(&format!(", cc {cc}"));
    }
    if let Some(bcc) = &cfg.bcc {
        to.push_str(&format!(", bcc {bcc}"));
    }
    let mut lines = vec![
        format!("hil: {} on {module}", kind.name()),
        format!("  server:  {}; {check}", ports.join(", ")),
        format!("  account: {} (password not shown); {to}", cfg.user),
        match &cfg.apn {
            Some(apn) => format!("  bearer:  APN {apn}, brought up by the dialect"),
            None => "  bearer:  no APN: the bearer must be up already".to_owned(),
        },
    ];
    if let Some(dir) = maildir {
        lines.push(format!(
            "  arrival: attachment-large checked in the Maildir of {} under {}",
            cfg.to,
            dir.display()
        ));
    }
    lines
}

/// `text` with `password` written as `${password}`.
pub(super) fn redacted(text: &str, password: &str) -> String {
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
pub(super) fn print_table(kind: DialectKind, results: &[ScenarioResult], password: &str) {
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

/// What a recording proves, as its `proof` header says: a run against the
/// project's virtual module shows the library agrees with the project's
/// reading of the manual; a run on a real module shows that module's
/// behaviour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Recorded {
    /// `--sim`: the virtual module.
    VirtualModule,
    /// `--port`: a module on the bench.
    Module,
}

impl Recorded {
    fn label(self) -> &'static str {
        match self {
            Recorded::VirtualModule => "virtual-module",
            Recorded::Module => "recorded-module",
        }
    }
}

/// The transcript headers of one scenario: what the replay needs to run it again.
pub(super) fn headers(
    kind: DialectKind,
    scenario: &str,
    cfg: &HilConfig,
    outcome: &Outcome,
    password: &str,
    recorded: Recorded,
) -> Vec<(String, String)> {
    let mut h = vec![
        ("dialect".into(), kind.name().into()),
        ("proof".into(), recorded.label().into()),
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
        ("module-large-file", cfg.module_large_file.clone()),
        (
            "model",
            match cfg.sim7000_model {
                cellmail_simcom::sim7000::Model::Sim800 => Some("sim800".to_owned()),
                cellmail_simcom::sim7000::Model::Sim7080 => Some("sim7080".to_owned()),
                _ => None,
            },
        ),
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

#[cfg(test)]
mod tests {
    use super::*;
    use cellmail::Secret;

    fn cfg() -> HilConfig {
        HilConfig {
            host: "127.0.0.1".into(),
            smtp_port: 2525,
            smtps_port: Some(4465),
            pop3_port: Some(1110),
            user: "alice@cellmail.test".into(),
            password: Secret::new("alice-secret-1"),
            to: "bob@cellmail.test".into(),
            cc: Some("carol@cellmail.test".into()),
            bcc: None,
            apn: Some("CMNET".into()),
            ca_pem: Some(b"pem".to_vec()),
            host_file: None,
            module_large_file: None,
            progress: None,
            sim7000_model: Default::default(),
        }
    }

    #[test]
    fn the_setup_names_server_account_and_apn_never_the_password() {
        let maildir = Path::new("/m");
        let lines = setup(
            DialectKind::Sim7000,
            "/dev/pts/3 (a virtual module)",
            &cfg(),
            None,
            Some(maildir),
        );
        assert_eq!(
            lines,
            [
                "hil: sim7000 on /dev/pts/3 (a virtual module)",
                "  server:  SMTP 127.0.0.1:2525 plain and STARTTLS, SMTPS 127.0.0.1:4465 implicit \
                 TLS, POP3 127.0.0.1:1110 plain; server certificates checked against the CA",
                "  account: alice@cellmail.test (password not shown); mail to bob@cellmail.test, \
                 cc carol@cellmail.test",
                "  bearer:  APN CMNET, brought up by the dialect",
                "  arrival: attachment-large checked in the Maildir of bob@cellmail.test under /m",
            ]
        );
        assert!(lines.iter().all(|l| !l.contains("alice-secret-1")));
    }

    #[test]
    fn the_setup_follows_the_tls_flag_and_a_missing_apn() {
        let mut c = cfg();
        c.apn = None;
        c.ca_pem = None;
        let lines = setup(
            DialectKind::QuectelGsm,
            "/dev/ttyUSB2",
            &c,
            Some("none"),
            None,
        );
        assert_eq!(
            lines[1],
            "  server:  SMTP 127.0.0.1:2525 plain only (--tls none), POP3 127.0.0.1:1110 plain; \
             server certificates not checked"
        );
        assert_eq!(lines[3], "  bearer:  no APN: the bearer must be up already");
        assert_eq!(lines.len(), 4);
        let implicit = setup(DialectKind::QuectelGsm, "p", &c, Some("implicit"), None);
        assert!(implicit[1].starts_with(
            "  server:  SMTP 127.0.0.1:2525 plain, SMTPS 127.0.0.1:4465 implicit TLS"
        ));
    }

    #[test]
    fn headers_name_the_module_file_for_the_replay() {
        let mut c = cfg();
        c.module_large_file = Some("C:/Picture/log-100k.txt".into());
        let h = headers(
            DialectKind::Sim5360,
            "attachment-large",
            &c,
            &Outcome::Pass,
            "alice-secret-1",
            Recorded::VirtualModule,
        );
        assert!(h.contains(&("module-large-file".into(), "C:/Picture/log-100k.txt".into())));
        assert!(h.contains(&("proof".into(), "virtual-module".into())));
        assert!(h.iter().all(|(_, v)| !v.contains("alice-secret-1")));
    }
}
