//! AT command framing for cellular modules.
//!
//! Three layers, each usable alone:
//!
//! - [`Command`] encodes typed commands to bytes, refusing any argument that
//!   could escape its quotes or inject a command (sans-I/O).
//! - [`Decoder`] turns the module's bytes, in chunks of any size, into
//!   [`Event`]s: echo, information lines, final results, prompts, raw data
//!   blocks, deferred results and URCs, interpreted in the light of the command
//!   in flight (sans-I/O).
//! - [`Client`] sequences commands over any tokio `AsyncRead + AsyncWrite`
//!   (a serial port from [`serial::open`], a pseudo-terminal, a test duplex),
//!   with timeouts, data mode and URC routing.
//!
//! ```
//! use cellmail_at::{Command, Decoder, DecoderConfig, Event, Final};
//! let cmd = Command::write("+SMTPSRV").string("server", "smtp.example.com").int(25);
//! assert_eq!(cmd.encode()?, b"AT+SMTPSRV=\"smtp.example.com\",25\r");
//!
//! let mut decoder = Decoder::new(DecoderConfig::default());
//! decoder.begin(&cmd);
//! decoder.push(b"\r\nO");
//! assert_eq!(decoder.next_event(), None);
//! decoder.push(b"K\r\n");
//! assert_eq!(decoder.next_event(), Some(Event::Final(Final::Ok)));
//! # Ok::<(), cellmail_at::EncodeError>(())
//! ```

mod client;
pub mod command;
mod decode;
mod error;
pub mod fields;
mod secret;
#[cfg(feature = "serial")]
pub mod serial;
pub mod text;

pub use client::{Arrived, Client, ClientConfig, DataEnd, Response, SeenUrcs, Stats, UrcWatch};
pub use command::{Arg, Command, EncodeError, FinalLine, Form, Payload, PromptKind, RawLength};
pub use decode::{BOOT_URCS, CmeError, Decoder, DecoderConfig, Event, Final, FinalKind, Prompt};
pub use error::AtError;
pub use secret::Secret;
