//! The command line, as clap derive types. Every flag has its help text here.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Send and read e-mail through the mail client built into a cellular module (Quectel GSM,
/// SIMCom SIM7000/SIM800, SIMCom SIM5360) on a serial port, or through a virtual module.
///
/// Passwords never go on the command line: give --password-env VAR or --password-file PATH.
/// Exit status 0 only on success.
#[derive(Debug, Parser)]
#[command(
    name = "cellmail",
    version,
    about,
    long_about,
    propagate_version = true
)]
pub struct Cli {
    /// Where the module is, the bearer, the password.
    #[command(flatten)]
    pub line: LineArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The module and the secrets, taken by every subcommand (before or after its name).
#[derive(Debug, Args)]
pub struct LineArgs {
    /// The module's serial port, e.g. /dev/ttyUSB2.
    #[arg(
        long,
        global = true,
        help_heading = "Module and secrets",
        value_name = "PATH",
        conflicts_with = "sim"
    )]
    pub port: Option<PathBuf>,
    /// The serial port's baud rate, 8N1 (default 115200). With --sim: the virtual module's
    /// line is throttled to this rate, as a real UART would be (default: not throttled).
    #[arg(long, global = true, help_heading = "Module and secrets", value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..))]
    pub baud: Option<u32>,
    /// A virtual module of this family on a pseudo-terminal instead of a port (it does real
    /// DNS, TCP, TLS, SMTP and POP3). Without --smtp/--pop3 it uses the local mail stack's
    /// account and CA (`cargo xtask mailstack up`; read from CELLMAIL_* variables or
    /// target/mailstack/env).
    #[arg(
        long,
        global = true,
        help_heading = "Module and secrets",
        value_name = "FAMILY"
    )]
    pub sim: Option<SimFamily>,
    /// The access point name the module brings its packet bearer up with (default with --sim:
    /// CMNET; with --port: the bearer is already up).
    #[arg(
        long,
        global = true,
        help_heading = "Module and secrets",
        value_name = "APN"
    )]
    pub apn: Option<String>,
    /// Read the account's password from this environment variable.
    #[arg(
        long,
        global = true,
        help_heading = "Module and secrets",
        value_name = "VAR",
        conflicts_with = "password_file"
    )]
    pub password_env: Option<String>,
    /// Read the account's password from this file (one line; a final newline is dropped).
    #[arg(
        long,
        global = true,
        help_heading = "Module and secrets",
        value_name = "PATH"
    )]
    pub password_file: Option<PathBuf>,
    /// A CA certificate (PEM) the server's certificate is checked with when the URL asks for
    /// TLS (default with --sim: the local mail stack's CA; none with --sim sim800, which
    /// checks no certificate).
    #[arg(
        long,
        global = true,
        help_heading = "Module and secrets",
        value_name = "PATH"
    )]
    pub ca: Option<PathBuf>,
}

/// A virtual module's family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SimFamily {
    /// Quectel M95 (SMTP only).
    QuectelGsm,
    /// SIMCom SIM7000G.
    Sim7000,
    /// SIMCom SIM800L (the SIM7000 family's commands plus AT+EMAILSSL; its TLS is rustls'
    /// TLS 1.2/1.3 against the local stack, not the real module's TLS 1.0).
    Sim800,
    /// SIMCom SIM5360E.
    Sim5360,
}

impl SimFamily {
    /// The family name.
    pub fn name(self) -> &'static str {
        match self {
            Self::QuectelGsm => "quectel-gsm",
            Self::Sim7000 => "sim7000",
            Self::Sim800 => "sim800",
            Self::Sim5360 => "sim5360",
        }
    }
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Ask the module who it is and which dialect drives it.
    Probe,
    /// Send one mail now.
    Send(SendArgs),
    /// Read a POP3 mailbox through the module.
    Fetch(FetchArgs),
    /// A durable outbox on SQLite: queue mail now, send it when the module can.
    Outbox(OutboxArgs),
}

/// `cellmail outbox`.
#[derive(Debug, Args)]
pub struct OutboxArgs {
    /// The outbox database file (created when missing; WAL files go beside it).
    #[arg(long, value_name = "PATH")]
    pub db: PathBuf,
    /// What to do with it.
    #[command(subcommand)]
    pub command: OutboxCommand,
}

/// The outbox subcommands.
#[derive(Debug, Subcommand)]
pub enum OutboxCommand {
    /// Queue one mail (attachments are copied in now) and print its id once it is on disk.
    /// Needs no module.
    Enqueue(MailArgs),
    /// Send the queued mail through the module, oldest first, retrying transient failures.
    Run(RunArgs),
    /// Counts per state, the oldest queued mail, possible duplicates, the last error.
    /// Needs no module.
    Status(StatusArgs),
}

/// `cellmail outbox run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The SMTP account: smtp://user@host:587?tls=starttls, smtps://user@host:465,
    /// smtp://host:25 (no login).
    #[arg(long, value_name = "URL")]
    pub smtp: Option<String>,
    /// Stop when no mail is left queued (waiting out retry delays); without it, keep running
    /// and pick up mail enqueued meanwhile.
    #[arg(long)]
    pub until_empty: bool,
    /// What to do with a mail that may have reached the server when a crash or a lost answer
    /// leaves it unknown: at-least-once sends it again and counts it as a possible duplicate;
    /// at-most-once ends it as unknown.
    #[arg(
        long,
        value_enum,
        value_name = "POLICY",
        default_value = "at-least-once"
    )]
    pub policy: PolicyArg,
}

/// `--policy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum PolicyArg {
    /// Never lost; perhaps twice.
    AtLeastOnce,
    /// Never twice; perhaps never.
    AtMostOnce,
}

/// `cellmail outbox status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Print one JSON object: counts per state, oldest queued, possible duplicates, last error.
    #[arg(long)]
    pub json: bool,
}

/// `cellmail send`.
#[derive(Debug, Args)]
pub struct SendArgs {
    /// The SMTP account: smtp://user@host:587?tls=starttls, smtps://user@host:465,
    /// smtp://host:25 (no login).
    #[arg(long, value_name = "URL")]
    pub smtp: Option<String>,
    /// The mail.
    #[command(flatten)]
    pub mail: MailArgs,
}

/// The mail flags of `send` and `outbox enqueue`.
#[derive(Debug, Args)]
pub struct MailArgs {
    /// The sender's address.
    #[arg(long, value_name = "ADDR")]
    pub from: String,
    /// The sender's display name.
    #[arg(long, value_name = "N")]
    pub from_name: Option<String>,
    /// A recipient (repeat for more).
    #[arg(long, value_name = "ADDR", required = true, num_args = 1..)]
    pub to: Vec<String>,
    /// A Cc recipient (repeat for more).
    #[arg(long, value_name = "ADDR")]
    pub cc: Vec<String>,
    /// A Bcc recipient (repeat for more): gets the mail, shown to nobody.
    #[arg(long, value_name = "ADDR")]
    pub bcc: Vec<String>,
    /// The subject.
    #[arg(long, value_name = "S")]
    pub subject: String,
    /// The body text (without --body or --body-file, the body is read from stdin).
    #[arg(long, value_name = "TEXT", conflicts_with = "body_file")]
    pub body: Option<String>,
    /// Read the body text from this file (UTF-8).
    #[arg(long, value_name = "PATH")]
    pub body_file: Option<PathBuf>,
    /// Attach this host file (repeat for more).
    #[arg(long, value_name = "PATH")]
    pub attach: Vec<PathBuf>,
    /// The charset of subject, names and body (default: ascii when all of it is ASCII,
    /// utf-8 otherwise).
    #[arg(long, value_enum, value_name = "CHARSET")]
    pub charset: Option<CharsetArg>,
}

/// `--charset`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum CharsetArg {
    /// US-ASCII.
    Ascii,
    /// UTF-8.
    #[value(name = "utf-8")]
    Utf8,
    /// GB2312 (simplified Chinese).
    Gb2312,
    /// BIG5 (traditional Chinese).
    Big5,
}

/// `cellmail fetch`.
#[derive(Debug, Args)]
pub struct FetchArgs {
    /// The POP3 account: pop3://user@host:110, pop3s://user@host:995.
    #[arg(long, value_name = "URL")]
    pub pop3: Option<String>,
    /// List the messages: number, UID (where the module has UIDL), size, sender, subject
    /// (the default when nothing is retrieved).
    #[arg(long)]
    pub list: bool,
    /// Retrieve these messages by number (repeat or give several).
    #[arg(long, value_name = "ID", num_args = 1.., conflicts_with = "all",
          value_parser = clap::value_parser!(u32).range(1..))]
    pub retrieve: Vec<u32>,
    /// Retrieve every message.
    #[arg(long)]
    pub all: bool,
    /// Delete the retrieved messages (committed when the session ends normally).
    #[arg(long)]
    pub delete: bool,
    /// Write each retrieved message to DIR as `<number>.eml` (without it: to stdout).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Print one JSON object per line: the listing (number, uid, size, from, subject), and
    /// for retrieved messages also the file written.
    #[arg(long)]
    pub json: bool,
}
