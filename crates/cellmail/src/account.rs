//! The gate for everything but the mail: accounts, the bearer, the serial
//! settings and POP3 message numbers. Each check is pure and answers
//! `MailError::Invalid { field, .. }` naming the field, before any byte is
//! written; dialects call them in their prologue.

use crate::capabilities::{Capabilities, length, quoted, validate};
use crate::email::Email;
use crate::error::MailError;
use crate::sender::MailboxStat;
use crate::settings::{
    Auth, Bearer, Pop3Account, Secret, ServerAddr, SmtpAccount, TlsMode, TlsSettings, TlsVersion,
    Verify,
};

/// The longest APN: 100 octets (3GPP TS 23.003 §9.1, network and operator
/// identifier together). The manuals of the families on hand (Quectel
/// `AT+QICSGP`, SIM7000 `AT+SAPBR=3,1,"APN"`, SIM5360 `AT+CGSOCKCONT`) state
/// no shorter limit.
pub const APN_MAX: usize = 100;

/// Checks the server's host and port: a host that is not empty, ASCII, with
/// no space and no byte an AT string cannot hold, within the module's limit;
/// a port other than 0.
fn check_server(server: &ServerAddr, caps: &Capabilities) -> Result<(), MailError> {
    let host = &server.host;
    if host.is_empty() {
        return Err(MailError::invalid(
            "server host",
            "empty: name the server (a host name or an IP address)",
        ));
    }
    length(
        "server host",
        "the server name",
        host.len(),
        caps.limits.server,
    )?;
    if let Some(i) = host.bytes().position(|b| !b.is_ascii()) {
        return Err(MailError::invalid(
            "server host",
            format!(
                "byte {i} is not ASCII: a module resolves ASCII names only (write an \
                 international name in its xn-- form)"
            ),
        ));
    }
    if let Some(i) = host.bytes().position(|b| b == b' ') {
        return Err(MailError::invalid(
            "server host",
            format!("contains a space at byte {i}; a host name has none"),
        ));
    }
    quoted("server host", host)?;
    if server.port == 0 {
        return Err(MailError::invalid("server port", "0 is not a TCP port"));
    }
    Ok(())
}

/// A login's user name and password: a user name that is not empty, both
/// within the module's limits and free of bytes an AT string cannot hold.
/// The password is never echoed, not even the offending byte's position.
fn check_login(user: &str, password: &Secret, caps: &Capabilities) -> Result<(), MailError> {
    let l = &caps.limits;
    if user.is_empty() {
        return Err(MailError::invalid(
            "user",
            "empty: a login needs a user name (Auth::None is a server without login)",
        ));
    }
    length("user", "the user name", user.len(), l.user)?;
    quoted("user", user)?;
    length("password", "the password", password.len(), l.password)?;
    secret("password", password)
}

fn secret(field: &str, password: &Secret) -> Result<(), MailError> {
    quoted(field, password.expose()).map_err(|_| {
        MailError::invalid(
            field,
            "contains a character a module cannot take in an AT string",
        )
    })
}

fn check_tls(
    field: &str,
    tls: &TlsSettings,
    supported: &[TlsMode],
    caps: &Capabilities,
) -> Result<(), MailError> {
    let (mode, verify) = (tls.mode, &tls.verify);
    if !supported.contains(&mode) {
        // The variant's name, as `tests/capabilities.rs` looks for it (the hil
        // matrix says its own skip reasons: `cellmail_suite::hil::skip`).
        let mode = match mode {
            TlsMode::None => "None",
            TlsMode::Implicit => "Implicit",
            TlsMode::StartTls => "StartTls",
        };
        return Err(MailError::unsupported(format!("{field}: TLS mode {mode}")));
    }
    if *verify != Verify::None && !caps.tls_verify {
        return Err(MailError::unsupported(format!(
            "{field}: certificate verification"
        )));
    }
    if mode != TlsMode::None
        && tls.version != TlsVersion::Any
        && !caps.tls_versions.contains(&tls.version)
    {
        let version = match tls.version {
            TlsVersion::Ssl3 => "SSL 3.0",
            TlsVersion::Tls1_0 => "TLS 1.0",
            TlsVersion::Tls1_1 => "TLS 1.1",
            TlsVersion::Tls1_2 => "TLS 1.2",
            TlsVersion::Any => "any",
        };
        return Err(MailError::unsupported(format!(
            "{field}: TLS version {version}"
        )));
    }
    Ok(())
}

/// Checks SMTP account settings against the module's limits: the server
/// host (not empty, ASCII, no space), the port (not 0), a login's user (not
/// empty) and password, the TLS mode.
///
/// ```
/// use cellmail::{validate_smtp_account, Auth, MailError, Secret, ServerAddr, SmtpAccount};
/// # let caps = cellmail::capabilities::example();
/// let account = SmtpAccount {
///     server: ServerAddr::new("smtp.example.com", 25),
///     auth: Auth::Login { user: "u".into(), password: Secret::new("p".repeat(51)) },
///     tls: Default::default(),
/// };
/// let err = validate_smtp_account(&account, &caps).unwrap_err();
/// assert!(matches!(err, MailError::Invalid { ref field, .. } if field == "password"));
/// assert!(!err.to_string().contains("ppp"));
/// ```
pub fn validate_smtp_account(account: &SmtpAccount, caps: &Capabilities) -> Result<(), MailError> {
    check_server(&account.server, caps)?;
    if let Auth::Login { user, password } = &account.auth {
        check_login(user, password, caps)?;
    }
    check_tls("smtp", &account.tls, &caps.smtp_tls, caps)
}

/// Checks POP3 account settings against the module's limits, as
/// [`validate_smtp_account`] does (POP3 always logs in); mailers call it
/// before their first POP3 command.
///
/// ```
/// use cellmail::{validate_pop3_account, Capabilities, Pop3Account, Secret, ServerAddr};
/// fn check(caps: &Capabilities) -> Result<(), cellmail::MailError> {
///     let account = Pop3Account {
///         server: ServerAddr::new("pop.example.com", 110),
///         user: "meter-17".into(),
///         password: Secret::new("s3cret"),
///         tls: Default::default(),
///     };
///     validate_pop3_account(&account, caps)
/// }
/// # let _ = check;
/// ```
pub fn validate_pop3_account(account: &Pop3Account, caps: &Capabilities) -> Result<(), MailError> {
    if !caps.pop3 {
        return Err(MailError::unsupported("reading mail (POP3)"));
    }
    check_server(&account.server, caps)?;
    check_login(&account.user, &account.password, caps)?;
    check_tls("pop3", &account.tls, &caps.pop3_tls, caps)
}

/// Checks the bearer before any bearer command: an APN that is not empty, at
/// most [`APN_MAX`] bytes, of ASCII letters, digits and punctuation (no
/// space, no `"`, no control character); a user and password an AT string
/// can hold, and no password without a user name (PAP and CHAP need both).
/// An empty user is no user. A user or password on a module whose dialect
/// sets the APN alone ([`Capabilities::bearer_login`] false) is
/// `Unsupported`: it would be dropped, and the login fail for no visible reason.
///
/// ```
/// use cellmail::{validate_bearer, Bearer, MailError, Secret};
/// let caps = cellmail::capabilities::example();
/// let bearer = Bearer { apn: "internet\r".into(), user: None, password: None };
/// let err = validate_bearer(&bearer, &caps).unwrap_err();
/// assert!(matches!(err, MailError::Invalid { ref field, .. } if field == "apn"));
/// let bearer = Bearer { apn: "internet.m2m".into(), user: None, password: None };
/// assert!(validate_bearer(&bearer, &caps).is_ok());
/// let pap = Bearer { user: Some("m2m".into()), password: Some(Secret::new("pw")), ..bearer };
/// let apn_only = cellmail::Capabilities { bearer_login: false, ..caps };
/// assert!(matches!(validate_bearer(&pap, &apn_only), Err(MailError::Unsupported { .. })));
/// ```
pub fn validate_bearer(bearer: &Bearer, caps: &Capabilities) -> Result<(), MailError> {
    let apn = &bearer.apn;
    if apn.is_empty() {
        return Err(MailError::invalid(
            "apn",
            "empty: name the access point of the SIM's operator (e.g. internet)",
        ));
    }
    if apn.len() > APN_MAX {
        return Err(MailError::invalid(
            "apn",
            format!(
                "the APN is {} bytes long, at most {APN_MAX} (3GPP TS 23.003 §9.1)",
                apn.len()
            ),
        ));
    }
    if let Some(i) = apn.bytes().position(|b| !b.is_ascii()) {
        return Err(MailError::invalid(
            "apn",
            format!("byte {i} is not ASCII; an APN is letters, digits, '-' and '.'"),
        ));
    }
    quoted("apn", apn)?;
    if let Some(i) = apn.bytes().position(|b| b == b' ') {
        return Err(MailError::invalid(
            "apn",
            format!("contains a space at byte {i}; an APN has none"),
        ));
    }
    let user = bearer.user.as_deref().unwrap_or("");
    quoted("bearer user", user)?;
    if let Some(password) = &bearer.password {
        secret("bearer password", password)?;
        if user.is_empty() && !password.expose().is_empty() {
            return Err(MailError::invalid(
                "bearer password",
                "given without a user name: PAP and CHAP need both (or neither)",
            ));
        }
    }
    let login = !user.is_empty()
        || bearer
            .password
            .as_ref()
            .is_some_and(|p| !p.expose().is_empty());
    if login && !caps.bearer_login {
        return Err(MailError::unsupported(format!(
            "an APN user and password on {}: its dialect sets the APN alone \
             (set the bearer up before handing the line over, or give the APN only)",
            caps.family
        )));
    }
    Ok(())
}

/// The whole gate of a send, as every dialect's prologue runs it before its
/// first byte: the mail against the module's limits ([`validate`]), the SMTP
/// account ([`validate_smtp_account`]) and the bearer the mailer would bring
/// up ([`validate_bearer`]).
///
/// ```
/// use cellmail::{validate_send, Auth, Bearer, Email, MailError, ServerAddr, SmtpAccount};
/// let caps = cellmail::capabilities::example();
/// let email = Email::builder().from("a@example.com", None).to("b@example.com", None)
///     .subject("s").body("b").build()?;
/// let account = SmtpAccount {
///     server: ServerAddr::new("smtp.example.com", 25),
///     auth: Auth::None,
///     tls: Default::default(),
/// };
/// let bearer = Bearer { apn: "inter\"net".into(), user: None, password: None };
/// let err = validate_send(&email, &account, Some(&bearer), &caps).unwrap_err();
/// assert!(matches!(err, MailError::Invalid { ref field, .. } if field == "apn"));
/// assert!(validate_send(&email, &account, None, &caps).is_ok());
/// # Ok::<(), MailError>(())
/// ```
pub fn validate_send(
    email: &Email,
    account: &SmtpAccount,
    bearer: Option<&Bearer>,
    caps: &Capabilities,
) -> Result<(), MailError> {
    validate(email, caps)?;
    validate_smtp_account(account, caps)?;
    bearer.map_or(Ok(()), |b| validate_bearer(b, caps))
}

/// The gate of a mailbox session, before its first byte: the POP3 account
/// ([`validate_pop3_account`]) and the bearer ([`validate_bearer`]).
pub fn validate_mailbox(
    account: &Pop3Account,
    bearer: Option<&Bearer>,
    caps: &Capabilities,
) -> Result<(), MailError> {
    validate_pop3_account(account, caps)?;
    bearer.map_or(Ok(()), |b| validate_bearer(b, caps))
}

/// Checks a POP3 message number against what [`Mailbox::stat`](crate::Mailbox::stat)
/// said: numbers run from 1 to the message count. Dialects call it before
/// `headers`, `retrieve` and `delete`, so an id the mailbox does not have
/// is `Invalid` (permanent) on every family, never a network error a retry
/// loop would spin on.
///
/// ```
/// use cellmail::{validate_message_id, MailboxStat, MailError};
/// let stat = MailboxStat { count: 2, total_size: 4096 };
/// assert!(validate_message_id(2, &stat).is_ok());
/// let err = validate_message_id(9999, &stat).unwrap_err();
/// assert_eq!(err.to_string(), "invalid message id: 9999: the mailbox holds 2 messages, numbered 1 to 2");
/// ```
pub fn validate_message_id(id: u32, stat: &MailboxStat) -> Result<(), MailError> {
    let reason = match (id, stat.count) {
        (0, _) => "0: POP3 numbers messages from 1".to_owned(),
        (_, 0) => format!("{id}: the mailbox is empty"),
        (id, 1) if id > 1 => format!("{id}: the mailbox holds 1 message, numbered 1"),
        (id, count) if id > count => {
            format!("{id}: the mailbox holds {count} messages, numbered 1 to {count}")
        }
        _ => return Ok(()),
    };
    Err(MailError::invalid("message id", reason))
}

/// Checks serial settings before the port is opened (the rules of
/// [`cellmail_at::serial::check`]): a port name that is not empty, a baud
/// rate above 0. [`cellmail_at::serial::open`] refuses the same, and its
/// error converts to the same `Invalid`.
///
/// ```
/// use cellmail::{validate_serial, MailError};
/// let err = validate_serial("/dev/ttyUSB2", 0).unwrap_err();
/// assert!(matches!(err, MailError::Invalid { ref field, .. } if field == "baud"));
/// assert!(validate_serial("/dev/ttyUSB2", 115_200).is_ok());
/// ```
pub fn validate_serial(path: &str, baud: u32) -> Result<(), MailError> {
    cellmail_at::serial::check(path, baud).map_err(|e| MailError::invalid(e.field, e.reason))
}

/// A duration a module takes as a number of whole seconds within `range`
/// (`AT+QSMTPPUT=<timeout>`, `AT+EMAILTO=<timeout>`): the seconds, or
/// `Invalid` naming `field` and the rule (`rule`, e.g. "AT+EMAILTO (SIM7000
/// §3.2.2)"), before any byte.
///
/// ```
/// use std::time::Duration;
/// use cellmail::{module_seconds, MailError};
/// assert_eq!(module_seconds("send_timeout", Duration::from_secs(300), 100..=48_000, "AT+QSMTPPUT").ok(), Some(300));
/// let err = module_seconds("send_timeout", Duration::from_secs(99), 100..=48_000, "AT+QSMTPPUT").unwrap_err();
/// assert_eq!(err.to_string(), "invalid send_timeout: is 99 s; AT+QSMTPPUT takes 100 to 48000 seconds");
/// let half = module_seconds("send_timeout", Duration::from_millis(100_500), 100..=48_000, "AT+QSMTPPUT");
/// assert!(matches!(half, Err(MailError::Invalid { .. })));
/// ```
pub fn module_seconds(
    field: &str,
    value: std::time::Duration,
    range: std::ops::RangeInclusive<u32>,
    rule: &str,
) -> Result<u32, MailError> {
    // Seconds, as the manuals count them (not "1 min 40 s").
    let shown = if value.subsec_nanos() == 0 {
        format!("{} s", value.as_secs())
    } else {
        format!("{} s", value.as_secs_f64())
    };
    if value.subsec_nanos() != 0 {
        return Err(MailError::invalid(
            field,
            format!("is {shown}; {rule} counts whole seconds"),
        ));
    }
    match u32::try_from(value.as_secs()) {
        Ok(secs) if range.contains(&secs) => Ok(secs),
        _ => Err(MailError::invalid(
            field,
            format!(
                "is {shown}; {rule} takes {} to {} seconds",
                range.start(),
                range.end()
            ),
        )),
    }
}
