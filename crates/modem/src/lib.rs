//! One call that opens any supported module: [`open`] opens the serial port, probes the module
//! (`AT+CGMI`/`CGMM`/`CGMR`), picks the dialect that drives it and returns one [`Modem`] that
//! implements [`MailSender`](cellmail::MailSender) and [`Mailbox`](cellmail::Mailbox).
//! [`SharedModem`] lets several tasks send through one module, one mail at a time.
//!
//! ```no_run
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), cellmail::MailError> {
//! use cellmail::{Auth, Bearer, Email, MailSender, Secret, ServerAddr, SmtpAccount};
//! let settings = cellmail_modem::Settings {
//!     smtp: Some(SmtpAccount {
//!         server: ServerAddr::new("smtp.example.com", 587),
//!         auth: Auth::Login { user: "meter-17@example.com".into(), password: Secret::new("s3cret") },
//!         tls: Default::default(),
//!     }),
//!     bearer: Some(Bearer { apn: "internet".into(), user: None, password: None }),
//!     ..Default::default()
//! };
//! let mut modem = cellmail_modem::open("/dev/ttyUSB2", 115_200, &settings).await?;
//! println!("{} on the line, driven by {}", modem.info().map(ToString::to_string).unwrap_or_default(), modem.family());
//! let email = Email::builder()
//!     .from("meter-17@example.com", None)
//!     .to("ops@example.com", None)
//!     .subject("Meter alert")
//!     .body("Pressure high.")
//!     .build()?;
//! modem.send(&email).await?;
//! # Ok(()) }
//! ```
//!
//! The one place in the workspace that knows every dialect: adding a family means a variant of
//! [`Family`] and of [`Mailer`], and the compiler shows every `match` to extend.

mod family;
mod modem;
mod shared;

pub use family::{Family, OpenError, identify};
pub use modem::{Mailer, Modem, Settings, open};
pub use shared::SharedModem;
