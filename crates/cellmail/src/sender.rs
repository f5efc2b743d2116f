//! The traits dialects implement: [`MailSender`] and [`Mailbox`].

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::capabilities::Capabilities;
use crate::email::Email;
use crate::error::MailError;
use crate::message::Message;

/// What a successful send reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SendReport {
    /// The module's own success line, e.g. `+QSMTPPUT: 0` or `+SMTPSEND: 1`.
    pub module_result: String,
    /// Bytes written to the module for this mail.
    pub bytes_sent: u64,
    /// AT commands issued for this mail.
    pub commands: u64,
    /// From the first command to the module's result.
    pub duration: Duration,
}

/// Sends mail through a module.
///
/// ```
/// use cellmail::{Capabilities, Email, MailError, MailSender, SendReport};
/// /// A sender that accepts everything (a stand-in for a dialect's mailer).
/// struct Accepting(Capabilities);
/// #[async_trait::async_trait]
/// impl MailSender for Accepting {
///     fn capabilities(&self) -> &Capabilities { &self.0 }
///     async fn send(&mut self, email: &Email) -> Result<SendReport, MailError> {
///         cellmail::validate(email, &self.0)?;
///         Ok(SendReport { module_result: "OK".into(), bytes_sent: 0, commands: 0, duration: Default::default() })
///     }
/// }
/// ```
#[async_trait]
pub trait MailSender: Send {
    /// What this module can send.
    fn capabilities(&self) -> &Capabilities;

    /// Validates and sends one e-mail.
    async fn send(&mut self, email: &Email) -> Result<SendReport, MailError>;

    /// Sends like [`send`](Self::send), telling `observe` where the send stands as it goes.
    ///
    /// A caller that must not lose or duplicate a mail (a durable outbox) records
    /// [`SendStage::Submitting`] before the module is told to hand the mail to the server: a
    /// crash before that point cannot have delivered it, one after may have. The modules let the
    /// host set no Message-ID, so this is the only way to know.
    ///
    /// The default implementation cannot tell where the point of no return is: it reports
    /// `Submitting` before anything is sent, so the whole send counts as past it. Dialects that
    /// know which exchange submits the mail override it.
    ///
    /// ```
    /// # use cellmail::{Email, MailError, MailSender, SendReport, SendStage};
    /// async fn send_once(mailer: &mut dyn MailSender, email: &Email) -> Result<SendReport, MailError> {
    ///     let mark = |stage: SendStage| {
    ///         if stage == SendStage::Submitting {
    ///             println!("from here on the mail may arrive");
    ///         }
    ///     };
    ///     mailer.send_observed(email, &mark).await
    /// }
    /// ```
    async fn send_observed(
        &mut self,
        email: &Email,
        observe: &(dyn Fn(SendStage) + Send + Sync),
    ) -> Result<SendReport, MailError> {
        observe(SendStage::Submitting);
        self.send(email).await
    }
}

/// Where a send stands, for [`MailSender::send_observed`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SendStage {
    /// The next exchange (`AT+QSMTPPUT`, `AT+SMTPSEND`, ...) makes the module hand the mail to the
    /// server: from here on a failure or a crash may still have delivered it.
    Submitting,
}

/// Size of a mailbox.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MailboxStat {
    /// Messages.
    pub count: u32,
    /// Their total size in bytes.
    pub total_size: u64,
}

/// One message of a listing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MessageInfo {
    /// The message number in this session (1-based).
    pub id: u32,
    /// Its size in bytes.
    pub size: u64,
}

/// A message's unique id (POP3 UIDL), stable across sessions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageUid {
    /// The message number in this session.
    pub id: u32,
    /// The server's unique id.
    pub uid: String,
}

/// Reads a POP3 mailbox through a module. Deletions take effect at [`close`](Mailbox::close).
///
/// Code written against the trait works with every dialect that reads mail:
///
/// ```
/// use cellmail::{MailError, Mailbox};
/// /// Fetches every waiting command mail, then deletes them at logout.
/// async fn take_commands(mailbox: &mut dyn Mailbox) -> Result<Vec<String>, MailError> {
///     let mut commands = Vec::new();
///     for info in mailbox.list().await? {
///         let message = mailbox.retrieve(info.id).await?;
///         if let Some(text) = message.text_body() {
///             commands.push(text.trim().to_owned());
///         }
///         mailbox.delete(info.id).await?;
///     }
///     mailbox.close().await?; // the deletions take effect only now
///     Ok(commands)
/// }
/// ```
#[async_trait]
pub trait Mailbox: Send {
    /// Count and total size.
    async fn stat(&mut self) -> Result<MailboxStat, MailError>;
    /// Every message with its size.
    async fn list(&mut self) -> Result<Vec<MessageInfo>, MailError>;
    /// Every message's unique id.
    async fn uids(&mut self) -> Result<Vec<MessageUid>, MailError>;
    /// The header of one message (the body is not transferred).
    async fn headers(&mut self, id: u32) -> Result<Message, MailError>;
    /// One whole message.
    async fn retrieve(&mut self, id: u32) -> Result<Message, MailError>;
    /// Marks a message for deletion.
    async fn delete(&mut self, id: u32) -> Result<(), MailError>;
    /// Unmarks all messages marked for deletion.
    async fn reset(&mut self) -> Result<(), MailError>;
    /// Logs out normally; marked messages are deleted now.
    async fn close(&mut self) -> Result<(), MailError>;
}

/// What a long transfer is doing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Phase {
    /// The body goes to the module.
    Body,
    /// An attachment goes to the module.
    Attachment {
        /// Its file name.
        name: String,
    },
    /// A file (certificate, attachment) is uploaded to the module's storage.
    Upload {
        /// The file name.
        name: String,
    },
    /// A message comes from the module.
    Retrieve {
        /// The message number.
        id: u32,
    },
}

/// The phase as an operator reads it: `body`, `attachment log.txt`,
/// `upload ca.pem`, `message 3`.
///
/// ```
/// use cellmail::Phase;
/// assert_eq!(Phase::Attachment { name: "log.txt".into() }.to_string(), "attachment log.txt");
/// assert_eq!(Phase::Retrieve { id: 3 }.to_string(), "message 3");
/// ```
impl std::fmt::Display for Phase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Phase::Body => f.write_str("body"),
            Phase::Attachment { name } => write!(f, "attachment {name}"),
            Phase::Upload { name } => write!(f, "upload {name}"),
            Phase::Retrieve { id } => write!(f, "message {id}"),
        }
    }
}

/// Progress of a long transfer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProgressEvent {
    /// What is being transferred.
    pub phase: Phase,
    /// Bytes done so far.
    pub done: u64,
    /// Bytes in all, when known.
    pub total: Option<u64>,
}

/// A callback dialects call during long transfers (progress bars, logs).
///
/// ```
/// let progress = cellmail::Progress::new(|e| println!("{}: {} bytes", e.phase, e.done));
/// progress.report(cellmail::ProgressEvent { phase: cellmail::Phase::Body, done: 10, total: Some(10) });
/// ```
#[derive(Clone)]
pub struct Progress(Arc<dyn Fn(ProgressEvent) + Send + Sync>);

impl Progress {
    /// Wraps a callback.
    pub fn new(f: impl Fn(ProgressEvent) + Send + Sync + 'static) -> Self {
        Self(Arc::new(f))
    }

    /// Reports one event.
    pub fn report(&self, event: ProgressEvent) {
        (self.0)(event);
    }
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Progress(..)")
    }
}
