//! What a command returns, and what a URC watch sees.

use std::fmt;

use tokio::sync::broadcast;

use crate::decode::Prompt;

/// The answer to one command.
///
/// `Debug` shows the information lines and raw data unless the command was
/// marked [`sensitive_answer`](crate::Command::sensitive_answer) (`sensitive`): then
/// only the prefix of each line and the sizes.
///
/// ```
/// let r = cellmail_at::Response {
///     info: vec!["+SMTPAUTH: 1,\"john\",\"hunter2\"".into()],
///     sensitive: true,
///     ..Default::default()
/// };
/// assert!(!format!("{r:?}").contains("hunter2"));
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Response {
    /// Information lines, in order.
    pub info: Vec<String>,
    /// Announced raw data blocks, concatenated.
    pub raw: Vec<u8>,
    /// The prompt, when the command asked for one.
    pub prompt: Option<Prompt>,
    /// The answer carries a secret (the command was marked
    /// [`sensitive_answer`](crate::Command::sensitive_answer)): `Debug` redacts it.
    pub sensitive: bool,
}

impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        /// A line shown as its prefix only (`+SMTPAUTH: ***`).
        struct Redacted<'a>(&'a str);
        impl fmt::Debug for Redacted<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self.0.split_once(':') {
                    Some((prefix, _)) if prefix.starts_with('+') && !prefix.contains('"') => {
                        write!(f, "\"{prefix}: ***\"")
                    }
                    _ => f.write_str("\"***\""),
                }
            }
        }
        let mut d = f.debug_struct("Response");
        if self.sensitive {
            let lines: Vec<Redacted<'_>> = self.info.iter().map(|l| Redacted(l)).collect();
            d.field("info", &lines)
                .field("raw", &format_args!("<{} bytes>", self.raw.len()));
        } else {
            d.field("info", &self.info).field("raw", &self.raw);
        }
        d.field("prompt", &self.prompt)
            .field("sensitive", &self.sensitive)
            .finish()
    }
}

impl Response {
    /// The first information line starting with `prefix`, without the prefix.
    ///
    /// ```
    /// let r = cellmail_at::Response { info: vec!["+QSMTPSRV: \"a\",25".into()], ..Default::default() };
    /// assert_eq!(r.line("+QSMTPSRV:"), Some(" \"a\",25"));
    /// ```
    pub fn line(&self, prefix: &str) -> Option<&str> {
        self.info.iter().find_map(|l| l.strip_prefix(prefix))
    }

    /// The parameters of the first information line starting with `prefix`.
    pub fn fields(&self, prefix: &str) -> Option<Vec<crate::fields::Field<'_>>> {
        self.line(prefix).map(crate::fields::split)
    }
}

/// What [`Client::wait_any`](crate::Client::wait_any) saw first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Arrived {
    /// A deferred result line.
    Deferred(String),
    /// A URC line.
    Urc(String),
}

/// How a data-mode payload ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataEnd {
    /// The module counts the bytes (`DOWNLOAD`, `+SMTPFT: 2,<n>`).
    Length,
    /// The host ends the data with `+++` inside guard times (Quectel).
    Escape,
}

/// One reader's view of the URCs, apart from the client's own queue: every
/// URC since the last look, and how many were missed when the reader fell
/// more than the channel's capacity behind.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), cellmail_at::AtError> {
/// use cellmail_at::{Client, ClientConfig};
/// use tokio::io::AsyncWriteExt;
/// let (host, mut module) = tokio::io::duplex(256);
/// let mut client = Client::new(host, ClientConfig::default());
/// let mut watch = client.watch_urcs();
/// module.write_all(b"\r\nRDY\r\n").await?;
/// client.idle(std::time::Duration::from_millis(10)).await?;
/// let seen = watch.seen();
/// assert_eq!((seen.lines, seen.missed), (vec!["RDY".to_owned()], 0));
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct UrcWatch(pub(super) broadcast::Receiver<String>);

/// What a [`UrcWatch`] saw since the last look.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SeenUrcs {
    /// URCs missed before `lines` (the reader fell behind); a dialect assumes
    /// the worst of them, e.g. a reboot.
    pub missed: u64,
    /// The URCs, in order.
    pub lines: Vec<String>,
}

impl UrcWatch {
    /// The URCs since the last look, without waiting.
    pub fn seen(&mut self) -> SeenUrcs {
        let mut seen = SeenUrcs::default();
        loop {
            match self.0.try_recv() {
                Ok(line) => seen.lines.push(line),
                // The channel drops the oldest, so the missed ones came first.
                Err(broadcast::error::TryRecvError::Lagged(n)) => seen.missed += n,
                Err(
                    broadcast::error::TryRecvError::Empty | broadcast::error::TryRecvError::Closed,
                ) => return seen,
            }
        }
    }
}
