//! The result codes of both Quectel manuals (GSM_SMTP_ATC_V1.1 §3, SMTPS
//! application note §4) and what they mean to a program.

use cellmail::{MailError, VendorCode};
use cellmail_at::AtError;

macro_rules! result_codes {
    ($( $code:literal => $name:ident, $text:literal; )*) => {
        /// A negative `<result>` of `+QSMTPPUT`, `+QSMTPDST`, `+QSMTPBODY`,
        /// `+QSMTPATT` and `+QSMTPDATT`.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum ResultCode {
            $(
                #[doc = concat!("Code ", stringify!($code), ": `", $text, "`.")]
                $name,
            )*
            /// A code neither manual lists, kept as sent.
            Other(i32),
        }

        impl ResultCode {
            /// Every code the manuals list.
            pub const ALL: &'static [ResultCode] = &[$(ResultCode::$name),*];

            /// The code for a module's number.
            pub fn from_code(code: i32) -> Self {
                match code {
                    $($code => ResultCode::$name,)*
                    other => ResultCode::Other(other),
                }
            }

            /// The module's number.
            pub fn code(self) -> i32 {
                match self {
                    $(ResultCode::$name => $code,)*
                    ResultCode::Other(c) => c,
                }
            }

            /// The manual's description.
            pub fn description(self) -> &'static str {
                match self {
                    $(ResultCode::$name => $text,)*
                    ResultCode::Other(_) => "a code the manuals do not list",
                }
            }
        }
    };
}

result_codes! {
    -1 => Unknown, "Unknown error";
    -3 => Busy, "The SMTP service is busy (downloading body or attachment, sending email)";
    -4 => DnsFailed, "Failed to get IP address according to domain name";
    -5 => NetworkError, "Network error: failed to activate the GPRS/CSD context, to connect or to send to the SMTP server";
    -6 => UnsupportedAuth, "Unsupported authentication type";
    -7 => ClosedByPeer, "The connection for the SMTP service is closed by peer";
    -8 => ContextDeactivated, "GPRS/CSD context is deactivated";
    -9 => Timeout, "Timeout";
    -10 => NoRecipient, "No recipient for the SMTP service";
    -11 => SendFailed, "Failed to send email";
    -12 => AttachmentOpenFailed, "Failed to open file for attachment";
    -13 => AttachmentNoMemory, "No enough memory for the attachment";
    -14 => AttachmentSaveFailed, "Failed to save the attachment";
    -15 => BadParameter, "The input parameter is wrong";
    -421 => ServiceNotAvailable, "Service not available, closing transmission channel";
    -450 => MailboxUnavailableTemporarily, "Requested mail action not taken: mailbox unavailable";
    -451 => LocalError, "Requested action aborted: local error in processing";
    -452 => InsufficientStorage, "Requested action not taken: insufficient system storage";
    -500 => SyntaxError, "Syntax error, command unrecognized";
    -501 => ParameterSyntaxError, "Syntax error in parameters or arguments";
    -502 => NotImplemented, "Command not implemented";
    -503 => BadSequence, "Bad sequence of commands";
    -504 => ParameterNotImplemented, "Command parameter not implemented";
    -521 => DomainRejectsMail, "<domain> does not accept mail (see rfc1846)";
    -530 => AccessDenied, "Access denied";
    -535 => AuthenticationFailed, "Authentication failed";
    -550 => MailboxUnavailable, "Requested action not taken: mailbox unavailable";
    -551 => UserNotLocal, "User not local; please try <forward-path>";
    -552 => StorageExceeded, "Requested mail action aborted: exceeded storage allocation";
    -553 => MailboxNameNotAllowed, "Requested action not taken: mailbox name not allowed";
    -554 => TransactionFailed, "Transaction failed";
}

impl ResultCode {
    /// What the code means to a program. The SMTP reply codes (-4xx, -5xx)
    /// become `Rejected { code }` except where the reply has a sharper meaning
    /// (-535 → `Auth`, -530 → `Throttled`, -550/-553 at a recipient → `BadRecipient` is not
    /// knowable here: the module does not say which command failed, so they
    /// stay `Rejected`). The module's own attachment failures (-12 open,
    /// -13 memory, -14 save) are `Invalid { field: "attachments" }`: the
    /// attachment, not the server, is the problem. -6 "Unsupported
    /// authentication type" is `Unsupported` (the module cannot speak the
    /// server's authentication; `Unsupported` has no vendor field, so the
    /// code is in its text). -1 "Unknown error", -11 "Failed to send email"
    /// and codes neither manual lists (outside -400..-599) are `Network`
    /// with the code: transient, as [`worth_resending`](Self::worth_resending)
    /// treats them, so a caller's retry and the mailer's agree.
    ///
    /// ```
    /// use cellmail::{MailError, VendorCode};
    /// use cellmail_quectel::ResultCode;
    /// let e = ResultCode::SendFailed.to_mail_error();
    /// assert!(matches!(e, MailError::Network { vendor: Some(VendorCode::Number(-11)), .. }));
    /// assert_eq!(e.is_transient(), ResultCode::SendFailed.worth_resending());
    /// ```
    pub fn to_mail_error(self) -> MailError {
        let vendor = Some(VendorCode::Number(i64::from(self.code())));
        let detail = self.description().to_owned();
        let invalid = |field: &str| MailError::Invalid {
            field: field.into(),
            reason: format!("the module reports {} ({})", self.code(), detail),
            vendor: vendor.clone(),
        };
        match self {
            ResultCode::AuthenticationFailed => MailError::Auth { vendor },
            ResultCode::UnsupportedAuth => MailError::Unsupported {
                feature: format!(
                    "the server's authentication type (the module reports {}: {})",
                    self.code(),
                    detail
                ),
            },
            ResultCode::DnsFailed => MailError::Dns { vendor },
            ResultCode::NetworkError
            | ResultCode::ClosedByPeer
            | ResultCode::ContextDeactivated => MailError::Network { detail, vendor },
            ResultCode::Timeout => MailError::Timeout { detail, vendor },
            ResultCode::Busy => MailError::Busy { vendor },
            // SMTPS note §1.4.3: "-530 (Access denied), you may send email too
            // frequently and the SMTP server rejects to post email" — a refusal
            // for now, not for good (see `worth_resending`).
            ResultCode::AccessDenied => MailError::Throttled {
                detail: format!(
                    "the module reports {} ({detail}); the SMTPS note reads it as mail sent too often",
                    self.code()
                ),
                vendor,
            },
            ResultCode::NoRecipient => invalid("recipients"),
            ResultCode::BadParameter => invalid("parameters"),
            ResultCode::AttachmentOpenFailed
            | ResultCode::AttachmentNoMemory
            | ResultCode::AttachmentSaveFailed => invalid("attachments"),
            ResultCode::Unknown | ResultCode::SendFailed => MailError::Network {
                detail: format!("the module reports: {detail}"),
                vendor,
            },
            other => {
                let code = other.code();
                match u16::try_from(-i64::from(code)) {
                    Ok(reply @ 400..=599) => MailError::Rejected {
                        code: reply,
                        text: detail,
                        vendor,
                    },
                    _ => MailError::Network {
                        detail: format!("module result {code}, which neither manual lists"),
                        vendor,
                    },
                }
            }
        }
    }

    /// Whether the send is worth repeating after this `+QSMTPPUT` result.
    ///
    /// The SMTPS note §1.4.3 says to resend after any failed `AT+QSMTPPUT`
    /// ("If it is a negative numeric, it means sending mail is failed, please
    /// resend it"), then names two codes whose cause lies elsewhere: -535
    /// (user name or password wrong: a resend cannot fix it) and -530 ("you
    /// may send email too frequently and the SMTP server rejects to post
    /// email": a resend can, once the server stops counting — so it is
    /// resent, but after [`RetryPolicy::throttle_delay`](crate::RetryPolicy)
    /// rather than at once, and the caller's error is the transient
    /// `Throttled`). So every code is resent except those a resend cannot
    /// fix: authentication (-6, -535), what the host gave the module (-10 no
    /// recipient, -12/-13/-14 attachments, -15 parameters), and the server's
    /// permanent replies (-5xx, permanent by RFC 2821 §4.2.1, except -530,
    /// which the note explains as a temporary refusal).
    /// Resent: -1 unknown, -3 busy, -4 DNS, -5 network, -7 closed by peer,
    /// -8 context deactivated, -9 timeout, -11 failed to send, -4xx
    /// (transient replies), -530 (after a pause), and codes neither manual
    /// lists.
    ///
    /// ```
    /// use cellmail_quectel::ResultCode;
    /// assert!(ResultCode::SendFailed.worth_resending());
    /// assert!(!ResultCode::AuthenticationFailed.worth_resending());
    /// ```
    pub fn worth_resending(self) -> bool {
        match self {
            ResultCode::UnsupportedAuth
            | ResultCode::AuthenticationFailed
            | ResultCode::NoRecipient
            | ResultCode::AttachmentOpenFailed
            | ResultCode::AttachmentNoMemory
            | ResultCode::AttachmentSaveFailed
            | ResultCode::BadParameter => false,
            ResultCode::AccessDenied => true,
            other => !(-599..=-500).contains(&other.code()),
        }
    }
}

/// A transfer through the UART that the module acknowledged with another
/// length than the host sent (`+QSMTPBODY: <len>`, `+QSMTPATT: <len>`,
/// GSM_SMTP_ATC_V1.1 §2.2.8, §2.2.9): bytes were lost on the serial line.
/// A body reported one byte short is not one by default: the SMTPS note's
/// examples print exactly that for a mail that goes ([`crate::policy::body_stored`]).
///
/// It reaches the program as `MailError::Modem(AtError::Io(_))` (the serial
/// line failed, worth trying again), with this error inside; [`TransferError::find`]
/// gets it back.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TransferError {
    /// The module holds fewer (or more) bytes than were sent.
    #[error("{what}: {sent} bytes were sent, the module reports {received}")]
    Truncated {
        /// What was sent: `body` or `attachments[<i>]`.
        what: String,
        /// Bytes the host sent.
        sent: u64,
        /// The length the module reported.
        received: u64,
    },
}

impl TransferError {
    /// The facade's error for it.
    pub fn into_mail_error(self) -> MailError {
        MailError::Modem(AtError::Io(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            self,
        )))
    }

    /// The transfer error inside `error`, if it is one.
    ///
    /// ```
    /// use cellmail_quectel::TransferError;
    /// let e = TransferError::Truncated { what: "body".into(), sent: 15, received: 13 };
    /// let mail = e.clone().into_mail_error();
    /// assert!(mail.is_transient());
    /// assert_eq!(TransferError::find(&mail), Some(&e));
    /// ```
    pub fn find(error: &MailError) -> Option<&TransferError> {
        match error {
            MailError::Modem(AtError::Io(io)) => io.get_ref()?.downcast_ref(),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips() {
        assert_eq!(ResultCode::ALL.len(), 31);
        for &c in ResultCode::ALL {
            assert_eq!(ResultCode::from_code(c.code()), c);
        }
        assert_eq!(ResultCode::from_code(-2), ResultCode::Other(-2));
    }

    #[test]
    fn mapping_keeps_the_vendor_code() {
        let e = ResultCode::from_code(-535).to_mail_error();
        assert!(matches!(
            e,
            MailError::Auth {
                vendor: Some(VendorCode::Number(-535))
            }
        ));
        let e = ResultCode::from_code(-554).to_mail_error();
        assert!(matches!(e, MailError::Rejected { code: 554, .. }));
        assert!(!e.is_transient());
        let e = ResultCode::from_code(-530).to_mail_error();
        assert!(
            matches!(&e, MailError::Throttled { vendor: Some(VendorCode::Number(-530)), detail }
                if detail.contains("too often")),
            "{e:?}"
        );
        assert!(
            e.is_transient(),
            "the SMTPS note §1.4.3: sent too often, not for good"
        );
        let e = ResultCode::from_code(-421).to_mail_error();
        assert!(e.is_transient());
        let e = ResultCode::from_code(-6).to_mail_error();
        assert!(
            matches!(&e, MailError::Unsupported { feature } if feature.contains("-6")),
            "{e:?}"
        );
        for code in [-1, -11, -2, -16, -300, -600] {
            let e = ResultCode::from_code(code).to_mail_error();
            assert!(
                matches!(&e, MailError::Network { vendor: Some(VendorCode::Number(c)), .. }
                    if *c == i64::from(code)),
                "{code}: {e:?}"
            );
        }
        for code in [-12, -13, -14] {
            let e = ResultCode::from_code(code).to_mail_error();
            assert!(
                matches!(
                    &e,
                    MailError::Invalid { field, vendor: Some(VendorCode::Number(c)), .. }
                        if field == "attachments" && *c == i64::from(code)
                ),
                "{code}: {e:?}"
            );
        }
    }

    /// What the mailer resends is what a caller is told is transient.
    #[test]
    fn transient_errors_are_the_resent_codes() {
        let others = [-2, -16, -300, -399, -499, -599, -600, -1000].map(ResultCode::from_code);
        for &c in ResultCode::ALL.iter().chain(&others) {
            assert_eq!(
                c.to_mail_error().is_transient(),
                c.worth_resending(),
                "{}",
                c.code()
            );
        }
    }

    #[test]
    fn resending_follows_the_smtps_note() {
        let resent: Vec<i32> = ResultCode::ALL
            .iter()
            .filter(|c| c.worth_resending())
            .map(|c| c.code())
            .collect();
        assert_eq!(
            resent,
            [
                -1, -3, -4, -5, -7, -8, -9, -11, -421, -450, -451, -452, -530
            ]
        );
        assert!(ResultCode::Other(-2).worth_resending());
        assert!(!ResultCode::Other(-599).worth_resending());
    }
}
