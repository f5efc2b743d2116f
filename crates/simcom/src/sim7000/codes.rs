//! The result codes of `+SMTPSEND`, `+POP3IN` and `+POP3OUT` (SIM7000 §3.2.10,
//! §3.2.14, §3.2.22), the POP3 servers' negative answers (`+POP3NUM: 0`...,
//! §3.2.15-§3.2.21), and what they mean to a program. Every error keeps the
//! module's code or line as its [`VendorCode`].
//!
//! Codes 71 and 72 are not in the SIM7000 note: the SIM800 Series SSL
//! application note (V1.00/V1.01 §2.1) adds them to `+SMTPSEND` and
//! `+POP3IN` for a module that speaks TLS (`AT+EMAILSSL`): 71 "the SSL
//! channel could not be established", 72 "an SSL alert of level fatal ended
//! the connection". Both are [`MailError::Tls`]. The note does not list them
//! for `+POP3OUT`; a `+POP3OUT` that carries one is read the same way
//! (the same table of codes, an inference).

use cellmail::{MailError, VendorCode};

fn vendor(code: i64) -> Option<VendorCode> {
    Some(VendorCode::Number(code))
}

/// 71: the module could not set up TLS (a server that speaks no TLS 1.0,
/// no cipher in common, a certificate the module refused).
fn tls_handshake(vendor: Option<VendorCode>) -> MailError {
    MailError::Tls {
        detail: "the SSL channel could not be established".into(),
        vendor,
    }
}

/// 72: the server (or the module) ended TLS with a fatal alert.
fn tls_fatal_alert(vendor: Option<VendorCode>) -> MailError {
    MailError::Tls {
        detail: "a fatal SSL alert ended the connection".into(),
        vendor,
    }
}

/// `+SMTPSEND: <code>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SendCode {
    /// 1: the e-mail has been sent.
    Sent,
    /// 61: network error.
    Network,
    /// 62: DNS resolve error.
    Dns,
    /// 63: SMTP TCP connection error.
    Connect,
    /// 64: timeout of SMTP server response.
    Timeout,
    /// 65: SMTP server response error.
    ServerResponse,
    /// 66: not authenticated (the server wants authentication).
    NotAuthenticated,
    /// 67: authentication failed: user name or password may be wrong.
    AuthFailed,
    /// 68: bad recipient.
    BadRecipient,
    /// 71 (SIM800 SSL note §2.1): the SSL channel could not be established.
    TlsHandshake,
    /// 72 (SIM800 SSL note §2.1): a fatal SSL alert ended the connection.
    TlsFatalAlert,
    /// A code the manual does not list.
    Other(i64),
}

impl SendCode {
    /// The codes the SIM800 SSL note adds (71, 72).
    pub const TLS: [SendCode; 2] = [SendCode::TlsHandshake, SendCode::TlsFatalAlert];

    /// Every code the manual lists.
    pub const ALL: [SendCode; 9] = [
        SendCode::Sent,
        SendCode::Network,
        SendCode::Dns,
        SendCode::Connect,
        SendCode::Timeout,
        SendCode::ServerResponse,
        SendCode::NotAuthenticated,
        SendCode::AuthFailed,
        SendCode::BadRecipient,
    ];

    /// The code for a module's number.
    pub fn from_code(code: i64) -> Self {
        match code {
            1 => SendCode::Sent,
            61 => SendCode::Network,
            62 => SendCode::Dns,
            63 => SendCode::Connect,
            64 => SendCode::Timeout,
            65 => SendCode::ServerResponse,
            66 => SendCode::NotAuthenticated,
            67 => SendCode::AuthFailed,
            68 => SendCode::BadRecipient,
            71 => SendCode::TlsHandshake,
            72 => SendCode::TlsFatalAlert,
            other => SendCode::Other(other),
        }
    }

    /// The module's number.
    pub fn code(self) -> i64 {
        match self {
            SendCode::Sent => 1,
            SendCode::Network => 61,
            SendCode::Dns => 62,
            SendCode::Connect => 63,
            SendCode::Timeout => 64,
            SendCode::ServerResponse => 65,
            SendCode::NotAuthenticated => 66,
            SendCode::AuthFailed => 67,
            SendCode::BadRecipient => 68,
            SendCode::TlsHandshake => 71,
            SendCode::TlsFatalAlert => 72,
            SendCode::Other(c) => c,
        }
    }

    /// `Ok` for 1, the facade's error otherwise, the code kept.
    pub fn into_result(self) -> Result<(), MailError> {
        let v = vendor(self.code());
        Err(match self {
            SendCode::Sent => return Ok(()),
            SendCode::Network => MailError::Network {
                detail: "network error".into(),
                vendor: v,
            },
            SendCode::Dns => MailError::Dns { vendor: v },
            SendCode::Connect => MailError::Network {
                detail: "SMTP TCP connection error".into(),
                vendor: v,
            },
            SendCode::Timeout => MailError::Timeout {
                detail: "the SMTP server did not answer in time".into(),
                vendor: v,
            },
            SendCode::ServerResponse => MailError::Rejected {
                code: 0,
                // Field reports: SIM7000G firmware whose mail client does not
                // work answers 65 on every attempt, whatever the server.
                text: "SMTP server response error: the server refused a step of the SMTP \
                       dialogue; check the server, port and account with another mail client. \
                       If they work and every send gives 65, the module's firmware is the likely \
                       cause (some SIM7000G firmware answers 65 on every attempt): check its \
                       revision (AT+CGMR)"
                    .into(),
                vendor: v,
            },
            SendCode::NotAuthenticated | SendCode::AuthFailed => MailError::Auth { vendor: v },
            SendCode::BadRecipient => MailError::BadRecipient {
                address: None,
                vendor: v,
            },
            SendCode::TlsHandshake => tls_handshake(v),
            SendCode::TlsFatalAlert => tls_fatal_alert(v),
            // As Quectel reads a code its manuals do not list: a failure
            // of the attempt, worth another (transient), not a refusal.
            SendCode::Other(c) => MailError::Network {
                detail: format!("module result {c}, which the SIM7000 note does not list"),
                vendor: v,
            },
        })
    }
}

/// `+POP3IN`, `+POP3OUT` (and the `+POP3OUT` that ends a session early).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pop3Code {
    /// 1: done normally.
    Ok,
    /// 61: network error.
    Network,
    /// 62: DNS resolve error.
    Dns,
    /// 63: POP3 TCP connection error.
    Connect,
    /// 64: timeout of POP3 server response.
    Timeout,
    /// 65: POP3 server response error.
    ServerResponse,
    /// 66: the server rejects the login.
    LoginRejected,
    /// 67: incorrect user name.
    BadUser,
    /// 68: incorrect user name or password.
    BadCredentials,
    /// 69: timeout of read data.
    ReadTimeout,
    /// 71 (SIM800 SSL note §2.1): the SSL channel could not be established.
    TlsHandshake,
    /// 72 (SIM800 SSL note §2.1): a fatal SSL alert ended the connection.
    TlsFatalAlert,
    /// A code the manual does not list.
    Other(i64),
}

impl Pop3Code {
    /// The codes the SIM800 SSL note adds (71, 72).
    pub const TLS: [Pop3Code; 2] = [Pop3Code::TlsHandshake, Pop3Code::TlsFatalAlert];

    /// Every code the manual lists.
    pub const ALL: [Pop3Code; 10] = [
        Pop3Code::Ok,
        Pop3Code::Network,
        Pop3Code::Dns,
        Pop3Code::Connect,
        Pop3Code::Timeout,
        Pop3Code::ServerResponse,
        Pop3Code::LoginRejected,
        Pop3Code::BadUser,
        Pop3Code::BadCredentials,
        Pop3Code::ReadTimeout,
    ];

    /// The code for a module's number.
    pub fn from_code(code: i64) -> Self {
        match code {
            1 => Pop3Code::Ok,
            61 => Pop3Code::Network,
            62 => Pop3Code::Dns,
            63 => Pop3Code::Connect,
            64 => Pop3Code::Timeout,
            65 => Pop3Code::ServerResponse,
            66 => Pop3Code::LoginRejected,
            67 => Pop3Code::BadUser,
            68 => Pop3Code::BadCredentials,
            69 => Pop3Code::ReadTimeout,
            71 => Pop3Code::TlsHandshake,
            72 => Pop3Code::TlsFatalAlert,
            other => Pop3Code::Other(other),
        }
    }

    /// The module's number.
    pub fn code(self) -> i64 {
        match self {
            Pop3Code::Ok => 1,
            Pop3Code::Network => 61,
            Pop3Code::Dns => 62,
            Pop3Code::Connect => 63,
            Pop3Code::Timeout => 64,
            Pop3Code::ServerResponse => 65,
            Pop3Code::LoginRejected => 66,
            Pop3Code::BadUser => 67,
            Pop3Code::BadCredentials => 68,
            Pop3Code::ReadTimeout => 69,
            Pop3Code::TlsHandshake => 71,
            Pop3Code::TlsFatalAlert => 72,
            Pop3Code::Other(c) => c,
        }
    }

    /// `Ok` for 1, the facade's error otherwise, the code kept.
    pub fn into_result(self) -> Result<(), MailError> {
        match self {
            Pop3Code::Ok => Ok(()),
            other => Err(other.session_ended()),
        }
    }

    /// The error for a `+POP3OUT: <code>` the module sent instead of a
    /// command's answer (§3.2.15-§3.2.21: "If some error occur: `+POP3OUT:
    /// <code>`"): the session is over. Code 1 ("normally log out") there still
    /// means the command got no answer: a transient network failure.
    ///
    /// ```
    /// use cellmail::{MailError, VendorCode};
    /// use cellmail_simcom::sim7000::codes::Pop3Code;
    /// let e = Pop3Code::from_code(1).session_ended();
    /// assert!(matches!(e, MailError::Network { vendor: Some(VendorCode::Number(1)), .. }));
    /// ```
    pub fn session_ended(self) -> MailError {
        let v = vendor(self.code());
        match self {
            Pop3Code::Ok => MailError::Network {
                detail: "the module logged out of the POP3 server instead of answering".into(),
                vendor: v,
            },
            Pop3Code::Network => MailError::Network {
                detail: "network error".into(),
                vendor: v,
            },
            Pop3Code::Dns => MailError::Dns { vendor: v },
            Pop3Code::Connect => MailError::Network {
                detail: "POP3 TCP connection error".into(),
                vendor: v,
            },
            Pop3Code::Timeout => MailError::Timeout {
                detail: "the POP3 server did not answer in time".into(),
                vendor: v,
            },
            Pop3Code::ReadTimeout => MailError::Timeout {
                detail: "data was not read in time".into(),
                vendor: v,
            },
            Pop3Code::ServerResponse => MailError::Rejected {
                code: 0,
                text: "POP3 server response error".into(),
                vendor: v,
            },
            Pop3Code::LoginRejected | Pop3Code::BadUser | Pop3Code::BadCredentials => {
                MailError::Auth { vendor: v }
            }
            Pop3Code::TlsHandshake => tls_handshake(v),
            Pop3Code::TlsFatalAlert => tls_fatal_alert(v),
            Pop3Code::Other(c) => MailError::Network {
                detail: format!("module result {c}, which the SIM7000 note does not list"),
                vendor: v,
            },
        }
    }
}

/// The error for a POP3 server's negative answer (`+POP3NUM: 0`,
/// `+POP3LIST: 0`, `+POP3UIDL: 0`, `+POP3CMD: 0`, `+POP3DEL: 0`, `+POP3REST: 0`):
/// the session goes on; the module's line is kept as the vendor code.
///
/// ```
/// use cellmail::{MailError, VendorCode};
/// let e = cellmail_simcom::sim7000::codes::negative_answer("+POP3DEL: 0", "DELE 7");
/// assert!(matches!(e, MailError::Rejected { vendor: Some(VendorCode::Text(ref l)), .. } if l == "+POP3DEL: 0"));
/// ```
pub fn negative_answer(line: &str, request: &str) -> MailError {
    MailError::Rejected {
        code: 0,
        text: format!("the POP3 server refused {request}"),
        vendor: Some(VendorCode::Text(line.trim().to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_smtpsend_code_the_note_does_not_list_is_a_transient_failure_not_a_refusal() {
        for code in [0, 2, 60, 69, 70, 99] {
            let e = SendCode::from_code(code).into_result().unwrap_err();
            assert!(matches!(e, MailError::Network { .. }), "{code}: {e:?}");
            assert!(e.is_transient(), "{code}");
            assert!(
                e.to_string().contains(&format!("module result {code}")),
                "{e}"
            );
            assert!(!e.to_string().contains("rejected"), "{e}");
        }
    }

    #[test]
    fn smtpsend_65_says_what_to_check() {
        let e = SendCode::from_code(65).into_result().unwrap_err();
        assert!(!e.is_transient());
        let text = e.to_string();
        assert!(
            text.contains("another mail client") && text.contains("AT+CGMR"),
            "{text}"
        );
        assert!(!text.contains("with 0"), "{text}");
    }

    #[test]
    fn ssl_note_codes_71_and_72_are_tls_errors_with_their_code() {
        for (code, detail) in [
            (71, "the SSL channel could not be established"),
            (72, "a fatal SSL alert ended the connection"),
        ] {
            let send = SendCode::from_code(code);
            assert!(SendCode::TLS.contains(&send));
            assert_eq!(send.code(), code);
            let login = Pop3Code::from_code(code);
            assert!(Pop3Code::TLS.contains(&login));
            assert_eq!(login.code(), code);
            for err in [
                send.into_result().unwrap_err(),
                login.into_result().unwrap_err(),
            ] {
                match &err {
                    MailError::Tls { detail: d, vendor } => {
                        assert_eq!(d, detail);
                        assert_eq!(vendor, &Some(VendorCode::Number(code)));
                    }
                    other => panic!("{code} -> {other:?}"),
                }
                assert!(!err.is_transient(), "{code}");
            }
        }
        // The SIM7000 note's tables do not list them.
        assert!(SendCode::ALL.iter().all(|c| c.code() < 70));
        assert!(Pop3Code::ALL.iter().all(|c| c.code() < 70));
    }
}
