//! The hardware-in-loop scenario matrix, shared by `cargo xtask hil` (against
//! a modem or a virtual module) and by the tests that replay its recordings.
//!
//! Every scenario runs over a fresh [`Client`] on any byte stream, so the same
//! code drives a real port wrapped in a `Recorder` and a `ScriptedModem`
//! playing that recording back.

mod bearer;
pub mod skip;

use std::time::{Duration, Instant};

use cellmail::{
    Attachment, Auth, Bearer, CertSource, Charset, Email, MailError, MailSender, Mailbox,
    Pop3Account, Progress, Secret, ServerAddr, SmtpAccount, TlsMode, TlsSettings, Verify,
};
use cellmail_at::{Client, ClientConfig};
use cellmail_modem::{Modem, Settings};
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
    /// Where the module holds [`large_attachment`]'s bytes, for `attachment-large` on the
    /// families that attach only files on the module's file system (the SIM5360); `cargo xtask
    /// hil --sim` gives the virtual module one at [`LARGE_MODULE_FILE`].
    pub module_large_file: Option<String>,
    /// Progress of long transfers.
    pub progress: Option<Progress>,
    /// Which module of the SIM7000 family the run drives (a SIM800 has e-mail TLS, TLS 1.0
    /// only); other families ignore it.
    pub sim7000_model: cellmail_simcom::sim7000::Model,
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
    "attachment-large",
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
        "attachment-large" => {
            "a 100 KiB attachment (102400 bytes, the most a Quectel GSM takes over the serial \
             line), from memory or the module's file system"
        }
        "pop3" => "POP3 stat, list, headers, retrieve, delete, reset, uids",
        "wrong-password" => "a wrong password fails with Auth",
        "unknown-server" => "an unknown server name fails with Dns or Network",
        _ => return None,
    })
}

/// The size of `attachment-large`'s attachment: 100 KiB, the most a Quectel
/// GSM module takes through the serial line (GSM_SMTP_ATC_V1.1 §2.2.9:
/// `<filesz>` 0-102400), so the progress of a long transfer shows.
pub const LARGE_ATTACHMENT_BYTES: usize = 102_400;

/// The file name of `attachment-large`'s attachment.
pub const LARGE_ATTACHMENT_NAME: &str = "log-100k.txt";

/// Where a virtual module keeps [`large_attachment`] for the families that
/// attach only files on the module's file system.
pub const LARGE_MODULE_FILE: &str = "C:/Picture/log-100k.txt";

/// The bytes of `attachment-large`: a meter log of 3200 lines of 32 bytes.
///
/// ```
/// use cellmail_suite::hil::{LARGE_ATTACHMENT_BYTES, large_attachment};
/// let log = large_attachment();
/// assert_eq!(log.len(), LARGE_ATTACHMENT_BYTES);
/// assert!(log.starts_with(b"0000 meter 7 reading 00042.0 m3\n"));
/// ```
pub fn large_attachment() -> Vec<u8> {
    let mut log = String::with_capacity(LARGE_ATTACHMENT_BYTES);
    for i in 0..LARGE_ATTACHMENT_BYTES / 32 {
        log.push_str(&format!(
            "{i:04} meter 7 reading {:05}.{} m3\n",
            42 + i / 10,
            i % 10
        ));
    }
    log.into_bytes()
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
            send_timeout: std::time::Duration::from_secs(100),
            retry: cellmail_quectel::RetryPolicy::once(),
            ..Default::default()
        },
        sim5360: cellmail_simcom::Sim5360Options {
            result_timeout: Duration::from_secs(60),
            ..Default::default()
        },
        sim7000: cellmail_simcom::Sim7000Options {
            model: cfg.sim7000_model,
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

fn expect_ok(kind: DialectKind, r: Result<cellmail::SendReport, MailError>) -> Outcome {
    match r {
        Ok(_) => Outcome::Pass,
        Err(MailError::Unsupported { feature }) => Outcome::Skipped(skip::refused(kind, &feature)),
        Err(e) => Outcome::Fail(e.to_string()),
    }
}

/// What the run was given, for [`skip::before`].
fn given(cfg: &HilConfig) -> skip::Given {
    skip::Given {
        ca: cfg.ca_pem.is_some(),
        smtps_port: cfg.smtps_port.is_some(),
        pop3_port: cfg.pop3_port.is_some(),
        host_file: cfg.host_file.is_some(),
        large_on_module: cfg.module_large_file.is_some(),
        sim7000_model: cfg.sim7000_model,
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
    // Nothing is sent when the family cannot, or the run was not given what it needs.
    let skipped = skip::before(kind, name, given(cfg));
    let outcome = match (name, skipped) {
        ("probe", _) => match cellmail::probe(&mut client).await {
            Ok(info) if cellmail_modem::identify(&info).ok() == Some(kind) => Outcome::Pass,
            Ok(info) => Outcome::Fail(format!("{info} is not driven by {}", kind.name())),
            Err(e) => Outcome::Fail(e.to_string()),
        },
        ("bearer", _) => {
            let (outcome, c) = bearer::bearer(kind, client, cfg).await;
            client = c;
            outcome
        }
        _ if describe(name).is_none() => Outcome::Fail(format!("no scenario named {name}")),
        (_, Some(why)) => Outcome::Skipped(why),
        (_, None) => {
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
                    // skip::before said so.
                    None => (
                        plain,
                        Err(MailError::invalid(
                            "smtps-port",
                            "no implicit-TLS port was given",
                        )),
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
                    None => (
                        plain,
                        Err(MailError::invalid("host-file", "no host file was given")),
                    ),
                },
                "attachment-large" => {
                    let attachment = if skip::capabilities(kind, cfg.sim7000_model)
                        .attachment_sources
                        .memory
                    {
                        Ok(Attachment::from_bytes(
                            LARGE_ATTACHMENT_NAME,
                            large_attachment(),
                        ))
                    } else {
                        // skip::before let it through: the run put the file there.
                        let path = cfg
                            .module_large_file
                            .as_deref()
                            .unwrap_or(LARGE_MODULE_FILE);
                        Attachment::from_module(path)
                    };
                    (
                        plain,
                        attachment.and_then(|a| mail(cfg, name).attach(a).build()),
                    )
                }
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
                ("pop3", _) => pop3(&mut modem, kind).await,
                (_, Err(MailError::Unsupported { feature })) => {
                    Outcome::Skipped(skip::refused(kind, &feature))
                }
                (_, Err(e)) => Outcome::Fail(e.to_string()),
                ("wrong-password", Ok(e)) => match modem.send(&e).await {
                    Err(MailError::Auth { .. }) => Outcome::Pass,
                    other => Outcome::Fail(format!("expected Auth, got {other:?}")),
                },
                ("unknown-server", Ok(e)) => match modem.send(&e).await {
                    Err(MailError::Dns { .. } | MailError::Network { .. }) => Outcome::Pass,
                    other => Outcome::Fail(format!("expected Dns, got {other:?}")),
                },
                (_, Ok(e)) => expect_ok(kind, modem.send(&e).await),
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
                    Err(MailError::Unsupported { .. }) => skipped = Some(skip::no_reset(kind)),
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
