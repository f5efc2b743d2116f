//! The hardware-in-loop scenario matrix, shared by `cargo xtask hil` (against
//! a modem or a virtual module) and by the tests that replay its recordings.
//!
//! Every scenario runs over a fresh [`Client`] on any byte stream, so the same
//! code drives a real port wrapped in a `Recorder` and a `ScriptedModem`
//! playing that recording back.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use cellmail::{
    Attachment, Auth, Bearer, CertSource, Charset, Email, MailError, MailSender, Mailbox,
    Pop3Account, Progress, Secret, ServerAddr, SmtpAccount, TlsMode, TlsSettings, Verify,
};
use cellmail_at::{AtError, Client, ClientConfig};
use cellmail_modem::{Mailer, Modem, Settings};
use tokio::io::{AsyncRead, AsyncWrite};

/// The module families the matrix knows: the families `cellmail-modem` opens.
pub use cellmail_modem::Family as DialectKind;

/// The mail account and addresses a run uses.
#[derive(Clone, Debug)]
pub struct HilConfig {
    /// SMTP server host.
    pub host: String,
    /// SMTP port (plain, STARTTLS offered).
    pub smtp_port: u16,
    /// SMTP port with implicit TLS.
    pub smtps_port: Option<u16>,
    /// POP3 port.
    pub pop3_port: Option<u16>,
    /// The account's user (also the sender address).
    pub user: String,
    /// The account's password.
    pub password: Secret,
    /// To, Cc and Bcc recipients.
    pub to: String,
    /// Cc.
    pub cc: Option<String>,
    /// Bcc.
    pub bcc: Option<String>,
    /// The APN, when the dialect brings the bearer up.
    pub apn: Option<String>,
    /// The CA certificate (PEM) the server's certificate is checked with.
    pub ca_pem: Option<Vec<u8>>,
    /// A host file to attach.
    pub host_file: Option<std::path::PathBuf>,
    /// Progress of long transfers.
    pub progress: Option<Progress>,
}

/// Every scenario, in the order they run.
pub const SCENARIOS: &[&str] = &[
    "probe",
    "bearer",
    "plain",
    "starttls",
    "implicit-tls",
    "to-cc-bcc",
    "utf8",
    "attachment-memory",
    "attachment-file",
    "attachment-module",
    "pop3",
    "wrong-password",
    "unknown-server",
];

/// What a scenario does, for `--list`.
pub fn describe(name: &str) -> Option<&'static str> {
    Some(match name {
        "probe" => "AT+CGMI/CGMM/CGMR: the dialect claims the module",
        "bearer" => "packet bearer up through the dialect, checked up with an IP address",
        "plain" => "a plain-text mail, no TLS",
        "starttls" => "a mail over STARTTLS, server certificate checked",
        "implicit-tls" => "a mail over implicit TLS (SMTPS), server certificate checked",
        "to-cc-bcc" => "a mail to To, Cc and Bcc recipients",
        "utf8" => "a UTF-8 subject and body",
        "attachment-memory" => "an attachment from the host's memory",
        "attachment-file" => "an attachment from a host file",
        "attachment-module" => "an attachment from the module's file system",
        "pop3" => "POP3 stat, list, headers, retrieve, delete, reset, uids",
        "wrong-password" => "a wrong password fails with Auth",
        "unknown-server" => "an unknown server name fails with Dns or Network",
        _ => return None,
    })
}

/// How a scenario ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// It did what it should.
    Pass,
    /// It did not; why.
    Fail(String),
    /// The module cannot do it; why.
    Skipped(String),
}

/// One row of the result table.
#[derive(Clone, Debug)]
pub struct ScenarioResult {
    /// Scenario name.
    pub name: &'static str,
    /// How it ended.
    pub outcome: Outcome,
    /// How long it took.
    pub duration: Duration,
    /// AT commands issued.
    pub commands: u64,
    /// Bytes over the line, both ways.
    pub bytes: u64,
}

/// The one-call open's settings for a scenario: the dialect is the one the run probed
/// (`kind`), the account the scenario's; hil keeps one send attempt and short module timers so a
/// failing scenario ends quickly.
fn settings(kind: DialectKind, account: SmtpAccount, cfg: &HilConfig) -> Settings {
    Settings {
        smtp: Some(account),
        pop3: cfg.pop3_port.map(|port| Pop3Account {
            server: ServerAddr::new(cfg.host.clone(), port),
            user: cfg.user.clone(),
            password: cfg.password.clone(),
            tls: TlsSettings::default(),
        }),
        bearer: cfg.apn.clone().map(|apn| Bearer {
            apn,
            user: None,
            password: None,
        }),
        progress: cfg.progress.clone(),
        command_timeout: Duration::from_secs(10),
        family: Some(kind),
        quectel: cellmail_quectel::QuectelOptions {
            send_timeout_secs: 100,
            retry: cellmail_quectel::RetryPolicy {
                attempts: 1,
                reactivate_before_last: false,
            },
            ..Default::default()
        },
        sim5360: cellmail_simcom::Sim5360Options {
            result_timeout: Duration::from_secs(60),
            ..Default::default()
        },
        ..Default::default()
    }
}

fn account(cfg: &HilConfig, port: u16, tls: TlsSettings) -> SmtpAccount {
    SmtpAccount {
        server: ServerAddr::new(cfg.host.clone(), port),
        auth: Auth::Login {
            user: cfg.user.clone(),
            password: cfg.password.clone(),
        },
        tls,
    }
}

fn mail(cfg: &HilConfig, scenario: &str) -> cellmail::EmailBuilder {
    Email::builder()
        .from(&cfg.user, Some("cellmail hil"))
        .to(&cfg.to, None)
        .subject(format!("cellmail hil {scenario}"))
        .body(format!(
            "Scenario {scenario} of the cellmail hardware-in-loop matrix."
        ))
}

fn expect_ok(r: Result<cellmail::SendReport, MailError>) -> Outcome {
    match r {
        Ok(_) => Outcome::Pass,
        Err(MailError::Unsupported { feature }) => Outcome::Skipped(feature),
        Err(e) => Outcome::Fail(e.to_string()),
    }
}

/// Runs one scenario over `io` and hands the client back (so callers can
/// check what a scripted modem consumed).
pub async fn run<T: AsyncRead + AsyncWrite + Unpin + Send>(
    name: &'static str,
    kind: DialectKind,
    io: T,
    cfg: &HilConfig,
) -> (ScenarioResult, Client<T>) {
    let mut config = ClientConfig::with_decoder(kind.decoder());
    config.command_timeout = Duration::from_secs(10);
    let mut client = Client::new(io, config);
    let started = Instant::now();
    let plain = account(cfg, cfg.smtp_port, TlsSettings::default());
    let tls = |mode| TlsSettings {
        mode,
        verify: cfg
            .ca_pem
            .clone()
            .map_or(Verify::None, |ca| Verify::Server {
                ca: CertSource::Pem(ca),
            }),
        ignore_module_clock: true,
        ..Default::default()
    };
    let outcome = match name {
        "probe" => match cellmail::probe(&mut client).await {
            Ok(info) if cellmail_modem::identify(&info).ok() == Some(kind) => Outcome::Pass,
            Ok(info) => Outcome::Fail(format!("{info} is not driven by {}", kind.name())),
            Err(e) => Outcome::Fail(e.to_string()),
        },
        "bearer" => {
            let (outcome, c) = bearer(kind, client, cfg).await;
            client = c;
            outcome
        }
        _ if describe(name).is_none() => Outcome::Fail(format!("no scenario named {name}")),
        _ => {
            let (acct, email): (SmtpAccount, Result<Email, MailError>) = match name {
                "plain" => (plain, mail(cfg, name).build()),
                "starttls" => (
                    account(cfg, cfg.smtp_port, tls(TlsMode::StartTls)),
                    mail(cfg, name).build(),
                ),
                "implicit-tls" => match cfg.smtps_port {
                    Some(port) => (
                        account(cfg, port, tls(TlsMode::Implicit)),
                        mail(cfg, name).build(),
                    ),
                    None => (
                        plain,
                        Err(MailError::unsupported("no implicit-TLS port given")),
                    ),
                },
                "to-cc-bcc" => {
                    let mut b = mail(cfg, name);
                    if let Some(cc) = &cfg.cc {
                        b = b.cc(cc, None);
                    }
                    if let Some(bcc) = &cfg.bcc {
                        b = b.bcc(bcc, None);
                    }
                    (plain, b.build())
                }
                "utf8" => (
                    plain,
                    mail(cfg, name)
                        .charset(Charset::Utf8)
                        .subject("cellmail hil Zählerstand ✓")
                        .body("Verbrauch: 42,7 m³")
                        .build(),
                ),
                "attachment-memory" => (
                    plain,
                    mail(cfg, name)
                        .attach(Attachment::from_bytes(
                            "reading.csv",
                            b"t,v\n0,42.7\n".to_vec(),
                        ))
                        .build(),
                ),
                "attachment-file" => match &cfg.host_file {
                    Some(path) => (
                        plain,
                        Attachment::from_file(path).and_then(|a| mail(cfg, name).attach(a).build()),
                    ),
                    None => (plain, Err(MailError::unsupported("no host file given"))),
                },
                "attachment-module" => {
                    let path = match kind {
                        DialectKind::QuectelGsm => "UFS:hil.txt",
                        _ => "C:/Picture/hil.jpg",
                    };
                    (
                        plain,
                        Attachment::from_module(path)
                            .and_then(|a| mail(cfg, name).attach(a).build()),
                    )
                }
                "wrong-password" => {
                    let mut a = plain;
                    a.auth = Auth::Login {
                        user: cfg.user.clone(),
                        password: Secret::new("wrong-password"),
                    };
                    (a, mail(cfg, name).build())
                }
                "unknown-server" => {
                    let mut a = plain;
                    a.server.host = "no-such-host.invalid".into();
                    (a, mail(cfg, name).build())
                }
                // pop3: the mailbox below, no mail.
                _ => (plain, Err(MailError::unsupported("pop3"))),
            };
            // A fresh client has sent nothing yet: its stream goes to the one-call open.
            let io = client.into_inner();
            let Ok(mut modem) = Modem::with_family(kind, io, &settings(kind, acct, cfg)) else {
                unreachable!("hil's bearer has no APN user: its settings fit every dialect")
            };
            let outcome = match (name, email) {
                ("pop3", _) if !kind.reads_mail() => {
                    Outcome::Skipped(format!("{} has no POP3 client", kind.name()))
                }
                ("pop3", _) if cfg.pop3_port.is_none() => {
                    Outcome::Skipped("no POP3 port given".into())
                }
                ("pop3", _) => pop3(&mut modem, kind).await,
                (_, Err(MailError::Unsupported { feature })) => Outcome::Skipped(feature),
                (_, Err(e)) => Outcome::Fail(e.to_string()),
                ("wrong-password", Ok(e)) => match modem.send(&e).await {
                    Err(MailError::Auth { .. }) => Outcome::Pass,
                    other => Outcome::Fail(format!("expected Auth, got {other:?}")),
                },
                ("unknown-server", Ok(e)) => match modem.send(&e).await {
                    Err(MailError::Dns { .. } | MailError::Network { .. }) => Outcome::Pass,
                    other => Outcome::Fail(format!("expected Dns, got {other:?}")),
                },
                (_, Ok(e)) => expect_ok(modem.send(&e).await),
            };
            client = modem.into_client();
            outcome
        }
    };
    let stats = client.stats();
    let result = ScenarioResult {
        name,
        outcome,
        duration: started.elapsed(),
        commands: stats.commands,
        bytes: stats.bytes_written + stats.bytes_read,
    };
    (result, client)
}

/// The `bearer` scenario: brings the packet bearer up the way the dialect
/// does, then asks the module whether it is up and with which address.
/// Without an APN it only checks (the application brought it up).
async fn bearer<T: AsyncRead + AsyncWrite + Unpin + Send>(
    kind: DialectKind,
    client: Client<T>,
    cfg: &HilConfig,
) -> (Outcome, Client<T>) {
    fn address(line: &str) -> Option<IpAddr> {
        line.trim()
            .trim_matches('"')
            .parse::<IpAddr>()
            .ok()
            .filter(|ip| !ip.is_unspecified())
    }
    let no_apn = |e: &dyn std::fmt::Display| match cfg.apn {
        Some(_) => e.to_string(),
        None => format!("the bearer is not up and no --apn was given to bring it up ({e})"),
    };
    match kind {
        DialectKind::QuectelGsm => {
            let acct = account(cfg, cfg.smtp_port, TlsSettings::default());
            let modem = Modem::with_family(kind, client.into_inner(), &settings(kind, acct, cfg));
            let Ok(Mailer::Quectel(mut m)) = modem.map(Modem::into_mailer) else {
                unreachable!("a Quectel dialect makes a Quectel mailer")
            };
            // AT+QIFGCNT, AT+QICSGP, AT+QIREGAPP, AT+QIACT, AT+QILOCIP (a no-op without an APN).
            if let Err(e) = m.bearer_up().await {
                return (Outcome::Fail(e.to_string()), m.into_client());
            }
            // Then ask for the local address on our own: the context is up when it has one.
            let outcome = match m
                .client()
                .execute(&cellmail_quectel::commands::local_ip())
                .await
            {
                Ok(r) if r.info.iter().any(|l| address(l).is_some()) => Outcome::Pass,
                Ok(r) => Outcome::Fail(no_apn(&format!(
                    "AT+QILOCIP answered no address: {:?}",
                    r.info
                ))),
                Err(e) => Outcome::Fail(no_apn(&e)),
            };
            (outcome, m.into_client())
        }
        DialectKind::Sim7000 => {
            // The Sim7000Mailer opens the bearer only inside a send (when given an APN);
            // the application note's own sequence (§4.1) is issued here with the dialect's
            // typed commands, on the profile the mailer uses.
            use cellmail_simcom::sim7000::commands;
            let mut client = client;
            let cid = cellmail_simcom::Sim7000Options::default().cid;
            let mut open_error = None;
            if let Some(apn) = &cfg.apn {
                if let Err(e) = client.execute(&commands::bearer_apn(cid, apn)).await {
                    return (Outcome::Fail(e.to_string()), client);
                }
                match client.execute(&commands::bearer_open(cid)).await {
                    Ok(_) => {}
                    // A module whose bearer is open already refuses to open it again:
                    // the query below tells.
                    Err(e @ (AtError::Error { .. } | AtError::Cme { .. })) => open_error = Some(e),
                    Err(e) => return (Outcome::Fail(e.to_string()), client),
                }
            }
            let outcome = match client.execute(&commands::bearer_query(cid)).await {
                Ok(r) => {
                    let fields = r.fields("+SAPBR:").unwrap_or_default();
                    let status = fields.get(1).and_then(|f| f.as_int());
                    let ip = fields.get(2).and_then(|f| address(f.as_str()));
                    match (status, ip) {
                        (Some(1), Some(_)) => Outcome::Pass,
                        _ => {
                            let mut why = format!(
                                "AT+SAPBR=2,{cid} answered {:?}, not status 1 with an address",
                                r.info
                            );
                            if let Some(e) = open_error {
                                why = format!("{e}; {why}");
                            }
                            Outcome::Fail(no_apn(&why))
                        }
                    }
                }
                Err(e) => Outcome::Fail(no_apn(&e)),
            };
            (outcome, client)
        }
        DialectKind::A76xx => {
            // The A76xxMailer brings the network up inside a send; the same typed
            // commands here: the PDP context (with --apn), then AT+NETOPEN, which
            // passes when it opens (+NETOPEN: 0) or says it is open already.
            use cellmail_simcom::a76xx::setup;
            let mut client = client;
            let mut urcs = client.watch_urcs();
            let cid = cellmail_simcom::A76xxOptions::default().pdp_cid;
            if let Some(apn) = &cfg.apn {
                let c = setup::pdp_context(cid, setup::PdpType::Ip, apn);
                if let Err(e) = client.execute(&c).await {
                    return (Outcome::Fail(e.to_string()), client);
                }
            }
            let outcome = match client.execute(&setup::net_open()).await {
                Ok(_) => match client
                    .deferred(setup::prefix::NETOPEN, setup::LONG_TIMEOUT)
                    .await
                {
                    Ok(l) if l.trim() == "+NETOPEN: 0" => Outcome::Pass,
                    Ok(l) => Outcome::Fail(no_apn(&format!("AT+NETOPEN answered {l:?}"))),
                    Err(e) => Outcome::Fail(no_apn(&e)),
                },
                Err(AtError::Error { .. })
                    if urcs.seen().lines.iter().any(|l| setup::already_open(l)) =>
                {
                    Outcome::Pass
                }
                Err(e) => Outcome::Fail(no_apn(&e)),
            };
            (outcome, client)
        }
        DialectKind::Sim5360 => (
            Outcome::Skipped(
                "the SIM5360 dialect sets the PDP context with AT+CGSOCKCONT inside send; \
                 no separate bearer step"
                    .into(),
            ),
            client,
        ),
    }
}

/// stat, list, headers, retrieve, delete then reset (the mail stays), uids.
///
/// The SIM5360 has no way to unmark a deletion (its `reset` is
/// `Unsupported`): there the scenario checks that `reset` says so, does not
/// delete (the mark would be committed when the session ends), and is
/// skipped with that reason once everything else passed.
async fn pop3(mb: &mut dyn Mailbox, kind: DialectKind) -> Outcome {
    let mut skipped = None;
    let run = async {
        let stat = mb.stat().await?;
        let list = mb.list().await?;
        if list.len() as u32 != stat.count {
            return Err(MailError::invalid(
                "list",
                format!("{} entries for {} messages", list.len(), stat.count),
            ));
        }
        if let Some(first) = list.first() {
            mb.headers(first.id).await?;
            mb.retrieve(first.id).await?;
            if kind == DialectKind::Sim5360 {
                match mb.reset().await {
                    Err(MailError::Unsupported { feature }) => {
                        skipped = Some(format!("delete and reset: {feature}"));
                    }
                    Ok(()) => {
                        return Err(MailError::invalid(
                            "reset",
                            "the SIM5360 dialect was expected to refuse reset (Unsupported)",
                        ));
                    }
                    Err(e) => return Err(e),
                }
            } else {
                mb.delete(first.id).await?;
                mb.reset().await?;
            }
        }
        match mb.uids().await {
            Ok(_) | Err(MailError::Unsupported { .. }) => {}
            Err(e) => return Err(e),
        }
        mb.close().await
    };
    let result = run.await;
    match result {
        Ok(()) => match skipped {
            Some(why) => Outcome::Skipped(why),
            None => Outcome::Pass,
        },
        Err(e) => Outcome::Fail(e.to_string()),
    }
}
