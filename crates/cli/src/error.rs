//! What ends a command with a non-zero status, in words for the operator.

use cellmail::MailError;
use cellmail_modem::OpenError;
use cellmail_outbox::OutboxError;

use crate::account::UrlError;

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// A flag's value is wrong or missing.
    #[error("{0}")]
    Usage(String),
    /// An account URL is wrong.
    #[error(transparent)]
    Url(#[from] UrlError),
    /// The module could not be opened or is not one a dialect drives.
    #[error(transparent)]
    Open(#[from] OpenError),
    /// The library refused or failed.
    #[error(transparent)]
    Mail(#[from] MailError),
    /// The outbox database refused or failed; nothing queued in it was touched.
    #[error(transparent)]
    Outbox(#[from] OutboxError),
    /// Some mails of an `outbox run --until-empty` ended failed or unknown.
    #[error("{0}")]
    Undelivered(String),
    /// A host file or directory.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The error.
        source: std::io::Error,
    },
}

impl CliError {
    /// 2 for input the operator must fix (flags, URLs, a mail the module cannot take), 1 for
    /// everything else.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Usage(_) | Self::Url(_) | Self::Mail(MailError::Invalid { .. }) => 2,
            Self::Open(OpenError::Settings { .. }) => 2,
            Self::Outbox(
                OutboxError::IsDirectory { .. }
                | OutboxError::Corrupt { .. }
                | OutboxError::ForeignDatabase { .. }
                | OutboxError::SchemaTooNew { .. }
                | OutboxError::Mail(MailError::Invalid { .. }),
            ) => 2,
            _ => 1,
        }
    }

    /// A hint after the message: whether trying again may help.
    pub fn hint(&self) -> Option<&'static str> {
        let transient = match self {
            Self::Mail(e) => e.is_transient(),
            Self::Open(e) => e.is_transient(),
            Self::Outbox(OutboxError::Locked { .. } | OutboxError::RunnerActive { .. }) => true,
            _ => false,
        };
        transient.then_some("this may work when tried again later")
    }
}
