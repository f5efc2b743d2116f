//! The session engine every cellmail dialect shares.
//!
//! A dialect is three pure parts and a thin binding:
//!
//! - its **commands** (typed, encode to bytes);
//! - a **plan**: the mail (or mailbox call) and the [`ModuleState`] → the
//!   [`Exchange`]s to run, in order;
//! - a **policy**: a result line, a vendor code or a fault → the next action
//!   (go on, stop the session, clean up, give up with this `MailError`);
//! - a **mailer** that runs the plan on the [`Driver`] and hands each result
//!   to the policy, implementing `MailSender` / `Mailbox`.
//!
//! The [`Driver`] is the only code that awaits. It owns the client, the URC
//! watch (reboot, URCs missed, bearer released move the state, once for all
//! dialects), the debts a cancelled call leaves (set before the first byte),
//! payload streaming with progress, the point of no return
//! ([`cellmail::SendStage::Submitting`]) and the [`cellmail::SendReport`].
//!
//! Like quinn-proto's `Connection` (inputs through `handle_*`, time passed
//! in), the state here moves only through methods a plain `#[test]` calls:
//!
//! ```
//! use cellmail_at::Command;
//! use cellmail_session::{Exchange, ModuleState, Then};
//! let mut state = ModuleState::new();
//! let server = Exchange::setting("server", Command::write("+SMTPSRV").string("server", "a").int(25));
//! let bytes = server.command.encode().unwrap();
//! assert!(!state.skips(&server.then, &bytes));
//! state.handle_done(&server.then, &bytes);
//! assert!(state.skips(&server.then, &bytes), "sent once until a reboot");
//! state.handle_reboot();
//! assert!(!state.skips(&server.then, &bytes));
//! ```

mod driver;
pub mod exchange;
mod mailbox;
mod settings;
mod state;

pub use driver::{
    CHUNK, Driver, Failure, Marks, Meter, OnStopError, Outcome, Stage, Stop, is_refusal, protocol,
};
pub use exchange::{Exchange, Owing, Payload, Source, Then, Wait};
pub use state::{
    Bearer, Debt, Left, Leftovers, ModuleState, Pop3, Residue, Service, Settings, Smtp,
};
