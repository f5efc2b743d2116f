//! The SMTPS result codes (A76XX manual §32.3, "Summary of result codes for
//! SMTPS", 15 entries): what `+CSMTPSSEND: <err>` and `+CSMTPS: <err>` mean
//! to a program. Every error keeps the module's number as its [`VendorCode`].
//!
//! The table has no code of its own for a TLS failure: a failed handshake can
//! only come back as one of 601/602/606/610/655 (the manual does not say
//! which), so no code here maps to [`MailError::Tls`].

use cellmail::{MailError, VendorCode};

/// A §32.3 result code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SendCode {
    /// 0: "SMTPS operation succeeded".
    Succeeded,
    /// 600: busy.
    Busy,
    /// 601: network error.
    Network,
    /// 602: socket error.
    Socket,
    /// 603: oversize.
    Oversize,
    /// 604: duplicate file.
    DuplicateFile,
    /// 605: timeout.
    Timeout,
    /// 606: transfer failed.
    TransferFailed,
    /// 607: memory error.
    Memory,
    /// 608: invalid parameter.
    InvalidParameter,
    /// 609: EFS (the module's file system) error.
    Efs,
    /// 610: SMTP server error.
    Server,
    /// 611: authentication failure.
    Auth,
    /// 612: user cancel (`AT+CSMTPSSTOP`).
    Cancelled,
    /// 655: unknown error.
    Unknown,
    /// A number §32.3 does not list.
    Other(i64),
}

impl SendCode {
    /// Every code §32.3 lists, in its order.
    pub const ALL: [SendCode; 15] = [
        SendCode::Succeeded,
        SendCode::Busy,
        SendCode::Network,
        SendCode::Socket,
        SendCode::Oversize,
        SendCode::DuplicateFile,
        SendCode::Timeout,
        SendCode::TransferFailed,
        SendCode::Memory,
        SendCode::InvalidParameter,
        SendCode::Efs,
        SendCode::Server,
        SendCode::Auth,
        SendCode::Cancelled,
        SendCode::Unknown,
    ];

    /// The code for a module's number.
    pub fn from_code(code: i64) -> Self {
        match code {
            0 => SendCode::Succeeded,
            600 => SendCode::Busy,
            601 => SendCode::Network,
            602 => SendCode::Socket,
            603 => SendCode::Oversize,
            604 => SendCode::DuplicateFile,
            605 => SendCode::Timeout,
            606 => SendCode::TransferFailed,
            607 => SendCode::Memory,
            608 => SendCode::InvalidParameter,
            609 => SendCode::Efs,
            610 => SendCode::Server,
            611 => SendCode::Auth,
            612 => SendCode::Cancelled,
            655 => SendCode::Unknown,
            other => SendCode::Other(other),
        }
    }

    /// The module's number.
    pub fn code(self) -> i64 {
        match self {
            SendCode::Succeeded => 0,
            SendCode::Busy => 600,
            SendCode::Network => 601,
            SendCode::Socket => 602,
            SendCode::Oversize => 603,
            SendCode::DuplicateFile => 604,
            SendCode::Timeout => 605,
            SendCode::TransferFailed => 606,
            SendCode::Memory => 607,
            SendCode::InvalidParameter => 608,
            SendCode::Efs => 609,
            SendCode::Server => 610,
            SendCode::Auth => 611,
            SendCode::Cancelled => 612,
            SendCode::Unknown => 655,
            SendCode::Other(c) => c,
        }
    }

    /// `Ok` for 0, the facade's error otherwise, the number kept.
    ///
    /// ```
    /// use cellmail::{MailError, VendorCode};
    /// use cellmail_simcom::a76xx::codes::SendCode;
    /// let e = SendCode::from_code(611).into_result().unwrap_err();
    /// assert!(matches!(e, MailError::Auth { vendor: Some(VendorCode::Number(611)) }));
    /// ```
    pub fn into_result(self) -> Result<(), MailError> {
        let vendor = Some(VendorCode::Number(self.code()));
        let invalid = |field: &str, reason: &str| MailError::Invalid {
            field: field.into(),
            reason: reason.into(),
            vendor: vendor.clone(),
        };
        Err(match self {
            SendCode::Succeeded => return Ok(()),
            SendCode::Busy => MailError::Busy { vendor },
            SendCode::Network => MailError::Network {
                detail: "the module reports a network error (check the PDP context and coverage)"
                    .into(),
                vendor,
            },
            SendCode::Socket => MailError::Network {
                detail: "the module could not open the connection to the server (socket error)"
                    .into(),
                vendor,
            },
            SendCode::Oversize => invalid(
                "email",
                "the module refused the mail as oversize (subject 511, body 5120, attachments 10 MB)",
            ),
            SendCode::DuplicateFile => invalid(
                "attachments",
                "two attachments have the same file name, which the module refuses",
            ),
            SendCode::Timeout => MailError::Timeout {
                detail: "the module gave up waiting for the SMTP server".into(),
                vendor,
            },
            SendCode::TransferFailed => MailError::Network {
                detail: "the transfer to the SMTP server broke off".into(),
                vendor,
            },
            // The module ran short of memory for this mail: freeing it
            // (AT+CSMTPSCLEAN, a later try) can help, so it is not permanent.
            SendCode::Memory => MailError::Busy { vendor },
            SendCode::InvalidParameter => invalid(
                "settings",
                "the module refused a setting of the mail (server, sender, recipient or attachment)",
            ),
            SendCode::Efs => invalid(
                "attachments",
                "the module's file system failed on an attachment file (missing or unreadable)",
            ),
            SendCode::Server => MailError::Rejected {
                code: 0,
                text: "the SMTP server answered with an error (the module does not say which)"
                    .into(),
                vendor,
            },
            SendCode::Auth => MailError::Auth { vendor },
            SendCode::Cancelled => MailError::Timeout {
                detail: "the send was stopped with AT+CSMTPSSTOP before it completed".into(),
                vendor,
            },
            SendCode::Unknown => MailError::Rejected {
                code: 0,
                text: "the module reports an unknown error".into(),
                vendor,
            },
            SendCode::Other(c) => MailError::Rejected {
                code: 0,
                text: format!("result {c}, which the manual does not list"),
                vendor,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(code: i64) -> MailError {
        let e = SendCode::from_code(code).into_result().unwrap_err();
        assert_eq!(e.vendor_code(), Some(&VendorCode::Number(code)), "{code}");
        e
    }

    #[test]
    fn code_0_is_success() {
        assert!(SendCode::from_code(0).into_result().is_ok());
    }

    #[test]
    fn code_600_busy() {
        assert!(matches!(err(600), MailError::Busy { .. }));
    }

    #[test]
    fn code_601_network() {
        assert!(matches!(err(601), MailError::Network { .. }));
    }

    #[test]
    fn code_602_socket() {
        assert!(
            matches!(err(602), MailError::Network { ref detail, .. } if detail.contains("socket"))
        );
    }

    #[test]
    fn code_603_oversize() {
        assert!(matches!(err(603), MailError::Invalid { ref field, .. } if field == "email"));
    }

    #[test]
    fn code_604_duplicate_file() {
        assert!(
            matches!(err(604), MailError::Invalid { ref field, ref reason, .. } if field == "attachments" && reason.contains("same file name"))
        );
    }

    #[test]
    fn code_605_timeout() {
        assert!(matches!(err(605), MailError::Timeout { .. }));
    }

    #[test]
    fn code_606_transfer_failed() {
        assert!(
            matches!(err(606), MailError::Network { ref detail, .. } if detail.contains("broke off"))
        );
    }

    #[test]
    fn code_607_memory() {
        let e = err(607);
        assert!(matches!(e, MailError::Busy { .. }));
        assert!(e.is_transient());
    }

    #[test]
    fn code_608_invalid_parameter() {
        assert!(matches!(err(608), MailError::Invalid { ref field, .. } if field == "settings"));
    }

    #[test]
    fn code_609_efs() {
        assert!(
            matches!(err(609), MailError::Invalid { ref field, ref reason, .. } if field == "attachments" && reason.contains("file system"))
        );
    }

    #[test]
    fn code_610_server() {
        let e = err(610);
        assert!(matches!(e, MailError::Rejected { code: 0, .. }));
        assert!(!e.is_transient());
    }

    #[test]
    fn code_611_auth() {
        assert!(matches!(err(611), MailError::Auth { .. }));
    }

    #[test]
    fn code_612_user_cancel() {
        assert!(
            matches!(err(612), MailError::Timeout { ref detail, .. } if detail.contains("AT+CSMTPSSTOP"))
        );
    }

    #[test]
    fn code_655_unknown() {
        assert!(
            matches!(err(655), MailError::Rejected { code: 0, ref text, .. } if text.contains("unknown"))
        );
    }

    #[test]
    fn unlisted_codes_are_kept() {
        assert_eq!(SendCode::from_code(613), SendCode::Other(613));
        assert!(matches!(err(613), MailError::Rejected { ref text, .. } if text.contains("613")));
    }

    #[test]
    fn every_listed_code_round_trips() {
        for c in SendCode::ALL {
            assert_eq!(SendCode::from_code(c.code()), c);
        }
        // No TLS code in the table (see the module docs).
        for c in SendCode::ALL.into_iter().skip(1) {
            assert!(!matches!(c.into_result(), Err(MailError::Tls { .. })));
        }
    }
}
