//! The result codes of both Quectel manuals (GSM_SMTP_ATC_V1.1 §3, SMTPS
//! application note §4) and what they mean to a program.

use cellmail::{MailError, VendorCode};

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
    /// (-535 → `Auth`, -550/-553 at a recipient → `BadRecipient` is not
    /// knowable here: the module does not say which command failed, so they
    /// stay `Rejected`).
    pub fn to_mail_error(self) -> MailError {
        let vendor = Some(VendorCode::Number(i64::from(self.code())));
        let detail = self.description().to_owned();
        match self {
            ResultCode::AuthenticationFailed | ResultCode::UnsupportedAuth => {
                MailError::Auth { vendor }
            }
            ResultCode::DnsFailed => MailError::Dns { vendor },
            ResultCode::NetworkError
            | ResultCode::ClosedByPeer
            | ResultCode::ContextDeactivated => MailError::Network { detail, vendor },
            ResultCode::Timeout => MailError::Timeout { detail, vendor },
            ResultCode::Busy => MailError::Busy { vendor },
            ResultCode::NoRecipient => MailError::Invalid {
                field: "recipients".into(),
                reason: format!("the module reports {} ({})", self.code(), detail),
                vendor,
            },
            ResultCode::BadParameter => MailError::Invalid {
                field: "parameters".into(),
                reason: format!("the module reports {} ({})", self.code(), detail),
                vendor,
            },
            ResultCode::Unknown
            | ResultCode::SendFailed
            | ResultCode::AttachmentOpenFailed
            | ResultCode::AttachmentNoMemory
            | ResultCode::AttachmentSaveFailed => MailError::Rejected {
                code: 0,
                text: detail,
                vendor,
            },
            other => {
                let code = other.code();
                if (-599..=-400).contains(&code) {
                    MailError::Rejected {
                        code: u16::try_from(-code).unwrap_or(0),
                        text: detail,
                        vendor,
                    }
                } else {
                    MailError::Rejected {
                        code: 0,
                        text: format!("module result {code}"),
                        vendor,
                    }
                }
            }
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
        let e = ResultCode::from_code(-421).to_mail_error();
        assert!(e.is_transient());
    }
}
