//! The SIMCom dialects of cellmail.
//!
//! - [`sim7000`]: SIM7000 (and SIM800/SIM808/SIM900), SMTP with attachments
//!   streamed through `AT+SMTPFT`, POP3 through `AT+POP3CMD`/`AT+POP3READ`.
//! - [`sim7080`]: SIM7070/SIM7080/SIM7090, the SIM7000 commands on an
//!   `AT+CNACT` bearer with TLS through `AT+EMAILSSL` and `AT+CSSLCFG`
//!   (driven by the SIM7000 mailer as `Model::Sim7080`).
//! - [`sim5360`]: SIM5360, SMTP with `+SMTP:` URCs, POP3 with `+POP3:`
//!   results and the module's file system.
//! - [`a76xx`]: A7670/A7672/A7682/A7608 (A76XX manual chapter 32): SMTP,
//!   plain, SMTPS or STARTTLS, attachments uploaded with `AT+CFTRANRX`.
//! - [`common`]: the commands both manuals define alike.

pub mod a76xx;
pub mod common;
pub mod sim5360;
pub mod sim7000;
pub mod sim7080;

pub use a76xx::{A76xx, A76xxMailer, A76xxOptions};
pub use sim5360::{Sim5360, Sim5360Mailer, Sim5360Options};
pub use sim7000::Lengths as Sim7000Lengths;
pub use sim7000::{Sim7000, Sim7000Mailer, Sim7000Options};
