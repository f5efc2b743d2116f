//! Send and read e-mail through the mail clients built into cellular modules.
//!
//! This crate is the one API; a dialect crate per module family implements it
//! (`cellmail-quectel`, `cellmail-simcom`). Build an [`Email`], hand it to the
//! dialect's [`MailSender`]; read a mailbox through its [`Mailbox`]. Every
//! e-mail is checked against the module's [`Capabilities`] before one byte is
//! written, and every failure is a [`MailError`] a program can match on.
//!
//! ```
//! use cellmail::{validate, Email};
//! let caps = cellmail::capabilities::example();
//! let email = Email::builder()
//!     .from("meter-17@example.com", Some("Meter 17"))
//!     .to("ops@example.com", None)
//!     .subject("Daily reading")
//!     .body("42.7 m3\r\n")
//!     .build()?;
//! validate(&email, &caps)?;
//! # Ok::<(), cellmail::MailError>(())
//! ```

mod account;
pub mod capabilities;
mod email;
mod error;
mod message;
mod probe;
mod sender;
mod settings;

pub use account::{
    APN_MAX, module_seconds, validate_bearer, validate_mailbox, validate_message_id,
    validate_pop3_account, validate_send, validate_serial, validate_smtp_account,
};
pub use capabilities::{
    AttachmentSources, BodyTransport, Capabilities, Limits, TextEncoding, validate,
};
pub use email::{
    Address, Attachment, AttachmentSource, Charset, Email, EmailBuilder, ModulePath, Recipient,
    RecipientKind, Sender, Storage,
};
pub use error::{MailError, VendorCode};
pub use message::{Fidelity, Lost, MailboxAddr, Message, ModuleFile, ReceivedAttachment};
pub use probe::{Dialect, ModuleInfo, probe};
pub use sender::{
    MailSender, Mailbox, MailboxStat, MessageInfo, MessageUid, Phase, Progress, ProgressEvent,
    SendReport, SendStage,
};
pub use settings::{
    Auth, Bearer, CertSource, CipherSuites, KeySource, Pop3Account, Secret, ServerAddr,
    SmtpAccount, TlsMode, TlsSettings, TlsVersion, Verify,
};
