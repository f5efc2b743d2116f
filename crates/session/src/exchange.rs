//! One AT exchange as data: the command, the payload it carries (and how that
//! ends), what ends the wait for it, and what its success does to the
//! [`ModuleState`](crate::ModuleState). A dialect's plan yields these; the
//! [`Driver`](crate::Driver) runs them.

use std::path::PathBuf;
use std::time::Duration;

use cellmail::Phase;
use cellmail_at::{Command, DataEnd};

use crate::state::{Residue, Service};

/// Where a data-mode payload comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// Bytes the host holds.
    Memory(Vec<u8>),
    /// A file of the host, streamed in chunks (never held whole).
    HostFile {
        /// The file.
        path: PathBuf,
        /// Its length, as announced to the module.
        len: u64,
    },
}

impl Source {
    /// How many bytes the payload has.
    pub fn len(&self) -> u64 {
        match self {
            Source::Memory(b) => b.len() as u64,
            Source::HostFile { len, .. } => *len,
        }
    }

    /// Whether it has none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The data-mode payload of an exchange: sent after the command's prompt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Payload {
    /// Its bytes.
    pub source: Source,
    /// How it ends: the module counts it, or the host sends `+++`.
    pub end: DataEnd,
    /// What progress events call it; `None`: none are reported.
    pub phase: Option<Phase>,
}

/// What ends the wait of an exchange, after the command's final result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Wait {
    /// The final result (`OK`) alone.
    Final,
    /// Then the deferred result the command itself declares
    /// ([`Command::expect_deferred`]): its prefix is stated once, there.
    Deferred(Duration),
    /// Then a result the module sends as a URC (SIM5360 `+SMTP:`), taken
    /// off the client's queue; other URCs stay the application's.
    Urc {
        /// The result's prefix.
        prefix: &'static str,
        /// How long to wait for it.
        timeout: Duration,
    },
}

/// What the exchange's success does to the module's state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Then {
    /// Nothing: the answer is the caller's.
    Keep,
    /// A setting held under this key: skipped while the module holds it.
    Setting(&'static str),
    /// It clears what an earlier mail left.
    Clears(Residue),
    /// It leaves something the next mail must clear, once it succeeded.
    Leaves(Residue),
    /// It may leave something the next mail must clear even when it fails
    /// (marked before its first byte: Quectel `AT+QSMTPDST=1`, `AT+QSMTPATT`).
    RisksLeaving(Residue),
    /// It opens the data bearer.
    OpensBearer,
    /// It starts a result the service owes: the debt is recorded before
    /// the first byte, and stays until the dialect's policy settles it.
    Owes(Service),
    /// It hands the mail to the server: the point of no return. The driver
    /// reports [`cellmail::SendStage::Submitting`] just before it, and
    /// records the SMTP result as owed from when [`Owing`] says.
    Submits(Owing),
}

/// From when a submitting command owes its result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Owing {
    /// From its first byte: the module may start the session as soon as it
    /// reads the command, answered or not (SIM5360 `AT+SMTPSEND`).
    FirstByte,
    /// From its `OK`: a command the module refused or never answered
    /// started nothing the host can wait for (SIM7000 `AT+SMTPSEND`, whose
    /// `+SMTPSEND: <code>` follows the `OK`).
    Ok,
}

/// One AT exchange.
///
/// ```
/// use cellmail_at::Command;
/// use cellmail_session::{Exchange, Then};
/// let ex = Exchange::setting("server", Command::write("+SMTPSRV").string("server", "a").int(25));
/// assert_eq!(ex.then, Then::Setting("server"));
/// assert_eq!(ex.label(), "AT+SMTPSRV=\"a\",25");
/// ```
#[derive(Clone, Debug)]
pub struct Exchange {
    /// The command.
    pub command: Command,
    /// Its payload, if it carries one.
    pub payload: Option<Payload>,
    /// What ends the wait.
    pub wait: Wait,
    /// What its success does.
    pub then: Then,
}

impl Exchange {
    /// A command waited for until its final result, its answer kept.
    pub fn new(command: Command) -> Self {
        Self {
            command,
            payload: None,
            wait: Wait::Final,
            then: Then::Keep,
        }
    }

    /// A setting: sent only when the module does not hold it.
    pub fn setting(key: &'static str, command: Command) -> Self {
        Self::new(command).then(Then::Setting(key))
    }

    /// With a payload after the prompt.
    pub fn payload(mut self, payload: Payload) -> Self {
        self.payload = Some(payload);
        self
    }

    /// Waiting as `wait` says.
    pub fn wait(mut self, wait: Wait) -> Self {
        self.wait = wait;
        self
    }

    /// Its success does `then`.
    pub fn then(mut self, then: Then) -> Self {
        self.then = then;
        self
    }

    /// The command as logs and errors show it (secrets redacted).
    pub fn label(&self) -> String {
        self.command.redacted()
    }

    /// The service that owes a result while it runs, if any.
    pub fn owes(&self) -> Option<Service> {
        match self.then {
            Then::Submits(_) => Some(Service::Smtp),
            Then::Owes(service) => Some(service),
            _ => None,
        }
    }

    /// From when its debt runs, if it owes one.
    pub fn owing(&self) -> Option<Owing> {
        match self.then {
            Then::Submits(owing) => Some(owing),
            Then::Owes(_) => Some(Owing::FirstByte),
            _ => None,
        }
    }

    /// The prefix of the result that ends the wait, if one does.
    pub fn result_prefix(&self) -> Option<&str> {
        match &self.wait {
            Wait::Final => None,
            Wait::Deferred(_) => self.command.deferred(),
            Wait::Urc { prefix, .. } => Some(prefix),
        }
    }
}

/// The commands of a plan as the module reads them (for tests that hold a
/// plan against a manual's sequence).
///
/// ```
/// use cellmail_at::Command;
/// use cellmail_session::{Exchange, exchange::lines};
/// let plan = [Exchange::new(Command::exec("+SMTPSEND"))];
/// assert_eq!(lines(&plan), ["AT+SMTPSEND"]);
/// ```
pub fn lines(plan: &[Exchange]) -> Vec<String> {
    plan.iter().map(Exchange::label).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use cellmail::RecipientKind;

    #[test]
    fn a_deferred_prefix_comes_from_the_command() {
        let cmd = Command::exec("+QSMTPPUT").expect_deferred("+QSMTPPUT:");
        let ex = Exchange::new(cmd).wait(Wait::Deferred(Duration::from_secs(5)));
        assert_eq!(ex.result_prefix(), Some("+QSMTPPUT:"));
        let plain = Exchange::new(Command::exec("+QSMTPPUT"));
        assert_eq!(plain.result_prefix(), None);
    }

    #[test]
    fn a_urc_result_names_its_prefix() {
        let ex = Exchange::new(Command::exec("+SMTPSEND")).wait(Wait::Urc {
            prefix: "+SMTP:",
            timeout: Duration::from_secs(1),
        });
        assert_eq!(ex.result_prefix(), Some("+SMTP:"));
    }

    #[test]
    fn submitting_owes_the_smtp_result() {
        let ex = Exchange::new(Command::exec("+SMTPSEND")).then(Then::Submits(Owing::Ok));
        assert_eq!(ex.owes(), Some(Service::Smtp));
        assert_eq!(ex.owing(), Some(Owing::Ok));
        let get = Exchange::new(Command::exec("+POP3GET")).then(Then::Owes(Service::Pop3));
        assert_eq!(get.owes(), Some(Service::Pop3));
        assert_eq!(get.owing(), Some(Owing::FirstByte));
        let clear =
            Exchange::new(Command::exec("+SMTPFILE")).then(Then::Clears(Residue::Attachments));
        assert_eq!(clear.owes(), None);
        let add = Exchange::new(Command::exec("+SMTPRCPT"))
            .then(Then::Leaves(Residue::Recipients(RecipientKind::To)));
        assert_eq!(add.owes(), None);
    }

    #[test]
    fn a_payload_knows_its_length() {
        let memory = Source::Memory(b"abc".to_vec());
        assert_eq!((memory.len(), memory.is_empty()), (3, false));
        let file = Source::HostFile {
            path: "/tmp/x".into(),
            len: 0,
        };
        assert!(file.is_empty());
    }

    #[test]
    fn labels_redact_secrets() {
        let secret = cellmail_at::Secret::new("hunter2");
        let ex = Exchange::setting(
            "auth",
            Command::write("+SMTPAUTH")
                .int(1)
                .string("user", "u")
                .secret("password", &secret),
        );
        assert!(!ex.label().contains("hunter2"), "{}", ex.label());
    }
}
