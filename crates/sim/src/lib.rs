//! Virtual cellular modules for end-to-end tests: a Quectel GSM, a SIMCom
//! SIM7000, a SIMCom SIM5360 and a SIMCom A7670 (A76xx) that speak their family's AT commands on a
//! pseudo-terminal and do the real network work behind them (DNS, TCP, TLS,
//! SMTP through `lettre`, POP3) against real servers.
//!
//! The host opens [`VirtualModule::path`] with `cellmail_at::serial::open`, the
//! code path users run on hardware. [`Faults`] changes the module's world while
//! it runs (DNS failure, unreachable server, lost bearer, delayed answers,
//! reboot); [`SimOptions::baud`] throttles the line to 8N1 timing.
//!
//! A family plugs in by implementing the crate's `Behaviour` trait: its
//! identity, a reset, and a handler per command line; the engine does the
//! lines, echo, data mode, throttling and the commands all families share.
//!
//! ```no_run
//! # async fn run() -> std::io::Result<()> {
//! use cellmail_sim::{Family, SimOptions, VirtualModule};
//! let module = VirtualModule::spawn(Family::Sim7000, SimOptions::default())?;
//! let port = cellmail_at::serial::open(module.path().to_str().unwrap(), 115_200).unwrap();
//! # Ok(()) }
//! ```

mod a76xx;
mod engine;
pub mod net;
mod pty;
mod quectel;
mod sim5360;
mod sim7000;
mod sim7080;
pub mod sink;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
pub use engine::{AtCommand, Clock, Closed, ESCAPE_QUIET, Faults, Io};

/// The module families.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// Quectel M95 (GSM, AT+QSMTP*).
    QuectelGsm,
    /// SIMCom SIM7000G (AT+SMTP*, AT+POP3*).
    Sim7000,
    /// SIMCom SIM5360E (AT+SMTP*, AT+POP3* with +SMTP:/+POP3: URCs).
    Sim5360,
    /// SIMCom A7670E (AT+CSMTPS*: SMTP, SMTPS, STARTTLS; no POP3).
    A76xx,
}

impl Family {
    /// Parses `quectel-gsm`, `sim7000`, `sim5360`, `a76xx`.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "quectel-gsm" | "quectel" => Some(Family::QuectelGsm),
            "sim7000" => Some(Family::Sim7000),
            "sim5360" => Some(Family::Sim5360),
            "a76xx" => Some(Family::A76xx),
            _ => None,
        }
    }

    /// The family name.
    pub fn name(self) -> &'static str {
        match self {
            Family::QuectelGsm => "quectel-gsm",
            Family::Sim7000 => "sim7000",
            Family::Sim5360 => "sim5360",
            Family::A76xx => "a76xx",
        }
    }
}

/// How a virtual module runs.
#[derive(Clone, Debug, Default)]
pub struct SimOptions {
    /// Throttle the serial line to this baud rate (8N1: baud / 10 bytes a second).
    pub baud: Option<u32>,
    /// Files on the module's file system at boot (`RAM:x`, `/UFS/x`, `C:/Picture/x`).
    pub files: Vec<(String, Vec<u8>)>,
    /// Which module a [`Family::Sim7000`] is (other families ignore it).
    pub sim7000_model: Sim7000Model,
}

/// The module a [`Family::Sim7000`] virtual module is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Sim7000Model {
    /// A SIM7000G: the SIM7000 e-mail note, no TLS (`AT+EMAILSSL` answers
    /// `ERROR`).
    #[default]
    Sim7000G,
    /// A SIM800L (firmware R14.18): the same e-mail commands plus the SIM800
    /// SSL note's `AT+EMAILSSL` (0 plain, 1 implicit TLS, 2 STARTTLS/STLS)
    /// and result codes 71/72. **Not TLS 1.0**: a real SIM800 speaks TLS 1.0
    /// at best, which rustls (and the local Postfix/Dovecot's OpenSSL
    /// defaults) refuse; this one speaks what the local stack accepts (rustls:
    /// TLS 1.2 or 1.3). It proves the commands, the order and real implicit
    /// TLS, STARTTLS and STLS handshakes, not interoperation at TLS 1.0. Like
    /// the real module as cellmail drives it, it checks no certificate.
    Sim800L,
    /// A SIM7080G: the same e-mail commands on an `AT+CNCFG`/`AT+CNACT`
    /// bearer, TLS through the four-parameter `AT+EMAILSSL` with a CA
    /// written and converted (STARTTLS for SMTP only); rustls, as the SIM800L.
    Sim7080G,
}

/// What a family adds to the shared engine.
#[async_trait]
pub(crate) trait Behaviour: Send {
    /// Manufacturer, model, revision.
    fn ident(&self) -> [&'static str; 3];
    /// Forget everything (reboot).
    fn reset(&mut self);
    /// Handles a command; `false` when the family does not know it.
    async fn handle(&mut self, cmd: &AtCommand, io: &mut Io) -> Result<bool, Closed>;
    /// Reports what the injected faults changed, as the family's URCs, before
    /// the next command is handled.
    async fn notice_faults(&mut self, _io: &mut Io) {}
}

/// A running virtual module.
pub struct VirtualModule {
    path: PathBuf,
    faults: Faults,
    files: Arc<Mutex<HashMap<String, Vec<u8>>>>,
    task: tokio::task::JoinHandle<()>,
}

impl VirtualModule {
    /// Starts a module of `family` on a new pseudo-terminal.
    pub fn spawn(family: Family, options: SimOptions) -> std::io::Result<Self> {
        let pty = pty::open()?;
        let keep = pty.slave_guard();
        let faults = Faults::default();
        let files = Arc::new(Mutex::new(
            options.files.into_iter().collect::<HashMap<_, _>>(),
        ));
        let mut io = Io::new(
            pty.from_host,
            pty.to_host,
            options.baud,
            faults.clone(),
            Arc::clone(&files),
        );
        let mut behaviour: Box<dyn Behaviour> = match family {
            Family::QuectelGsm => Box::new(quectel::Quectel::default()),
            Family::Sim7000 => Box::new(sim7000::Sim7000::new(options.sim7000_model)),
            Family::Sim5360 => Box::new(sim5360::Sim5360::default()),
            Family::A76xx => Box::new(a76xx::A76xx::default()),
        };
        let path = pty.path.clone();
        let task = tokio::spawn(async move {
            let _keep = keep;
            // The line ends when the host is gone for good: nothing to do then.
            let _ = run(&mut io, behaviour.as_mut()).await;
        });
        Ok(Self {
            path,
            faults,
            files,
            task,
        })
    }

    /// The serial device path the host opens.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Faults to inject while it runs.
    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    /// A file of the module's file system (what a test left there or the module saved).
    pub fn file(&self, path: &str) -> Option<Vec<u8>> {
        self.files
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(path)
            .cloned()
    }

    /// Puts a file on the module's file system.
    pub fn put_file(&self, path: &str, bytes: Vec<u8>) {
        self.files
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(path.to_owned(), bytes);
    }
}

impl Drop for VirtualModule {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn run(io: &mut Io, behaviour: &mut dyn Behaviour) -> Result<(), Closed> {
    loop {
        let line = io.read_line().await?;
        if io.faults.take_reboot() {
            behaviour.reset();
            io.echo = true;
            io.clock = Clock::default();
            io.line("RDY").await;
            io.line("+CPIN: READY").await;
            continue;
        }
        if line.trim().is_empty() {
            continue;
        }
        behaviour.notice_faults(io).await;
        let Some(cmd) = AtCommand::parse(&line) else {
            io.error().await;
            continue;
        };
        if !common(&cmd, io, behaviour.ident()).await && !behaviour.handle(&cmd, io).await? {
            io.error().await;
        }
    }
}

/// The commands every family answers alike.
async fn common(
    cmd: &AtCommand,
    io: &mut Io,
    [manufacturer, model, revision]: [&'static str; 3],
) -> bool {
    let (_, _, bearer_lost, _) = io.faults.snapshot();
    match cmd.name.as_str() {
        "" => io.ok().await,
        "E0" | "E1" => {
            io.echo = cmd.name == "E1";
            io.ok().await;
        }
        "I" => {
            io.line(manufacturer).await;
            io.line(model).await;
            io.line(&format!("Revision: {revision}")).await;
            io.ok().await;
        }
        "+CGMI" | "+CGMM" | "+CGMR" if !cmd.test => {
            let text = match cmd.name.as_str() {
                "+CGMI" => manufacturer,
                "+CGMM" => model,
                _ => revision,
            };
            io.line(text).await;
            io.ok().await;
        }
        "+CCLK" if cmd.read => {
            let now = io.clock.show();
            io.line(&format!("+CCLK: \"{now}\"")).await;
            io.ok().await;
        }
        "+CCLK" if cmd.write => {
            if io.clock.set(cmd.arg(0).unwrap_or("")) {
                io.ok().await
            } else {
                io.error().await
            }
        }
        "+CPIN" if cmd.read => {
            io.line("+CPIN: READY").await;
            io.ok().await;
        }
        "+CSQ" => {
            io.line("+CSQ: 27,99").await;
            io.ok().await;
        }
        "+CGATT" if cmd.read => {
            io.line(if bearer_lost {
                "+CGATT: 0"
            } else {
                "+CGATT: 1"
            })
            .await;
            io.ok().await;
        }
        // Attaching needs the network the bearer fault took away.
        "+CGATT" if cmd.write => {
            if bearer_lost && cmd.int(0) == Some(1) {
                io.error().await
            } else {
                io.ok().await
            }
        }
        "+CGREG" if cmd.read => {
            io.line(if bearer_lost {
                "+CGREG: 0,2"
            } else {
                "+CGREG: 0,1"
            })
            .await;
            io.ok().await;
        }
        "+COPS" if cmd.read => {
            io.line("+COPS: 0,0,\"cellmail sim\",9").await;
            io.ok().await;
        }
        "+CGDCONT" if cmd.write => io.ok().await,
        _ => return false,
    }
    true
}
