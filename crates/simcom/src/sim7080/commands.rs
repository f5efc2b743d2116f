//! The SIM7070/SIM7080/SIM7090 commands that differ from the SIM7000 note:
//! the bearer (`AT+CNCFG`, `AT+CNACT`, \[AT7080\] §7.2), the four-parameter
//! `AT+EMAILSSL` (\[AT7080\] §21.2.23), the SSL context (`AT+CSSLCFG`,
//! \[AT7080\] §11.2.1) and the file system that takes certificates
//! (`AT+CFSINIT`/`AT+CFSWFILE`/`AT+CFSDFILE`/`AT+CFSTERM`, \[AT7080\] §9.2,
//! \[FS7080\] §3). Every other e-mail command is the SIM7000 note's
//! (`sim7000::commands`, `common`). Sources: `../shared/specs/simcom-emailssl.md`
//! §2.2, §3.2, §4 (their tags are used here).

use std::time::Duration;

use cellmail_at::{Command, PromptKind};

/// `AT+CNCFG=<pdpidx>,1,"<apn>"` (IPv4, the \[EM7080\] §4.1 example's type).
///
/// ```
/// use cellmail_simcom::sim7080::commands::configure_bearer;
/// assert_eq!(configure_bearer(0, "ctnb").encode().unwrap(), b"AT+CNCFG=0,1,\"ctnb\"\r");
/// ```
pub fn configure_bearer(pdp: u8, apn: &str) -> Command {
    Command::write("+CNCFG")
        .int(i64::from(pdp))
        .int(1)
        .string("apn", apn)
}

/// `AT+CNACT=<pdpidx>,1`: activates the context (then the URC
/// `+APP PDP: <pdpidx>,ACTIVE`).
pub fn activate_bearer(pdp: u8) -> Command {
    Command::write("+CNACT")
        .int(i64::from(pdp))
        .int(1)
        .timeout(Duration::from_secs(85))
}

/// `AT+CNACT=<pdpidx>,0`: deactivates it.
pub fn deactivate_bearer(pdp: u8) -> Command {
    Command::write("+CNACT")
        .int(i64::from(pdp))
        .int(0)
        .timeout(Duration::from_secs(65))
}

/// `AT+CNACT?` → one `+CNACT: <pdpidx>,<statusx>,"<ip>"` per context.
pub fn read_bearers() -> Command {
    Command::read("+CNACT")
}

/// The URC of a context the network released: `+APP PDP: <pdpidx>,DEACTIVE`.
pub fn bearer_released_urc(pdp: u8) -> String {
    format!("+APP PDP: {pdp},DEACTIVE")
}

/// The prefix of the `+APP PDP` URCs.
pub const APP_PDP: &str = "+APP PDP";

/// `<ssltype>` of `AT+EMAILSSL` (\[AT7080\] §21.2.23): 2 ("startSSL") is for
/// SMTP only.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SslType {
    /// 0: no SSL.
    Plain,
    /// 1: SSL from the first byte (SMTPS 465, POP3S 995).
    Implicit,
    /// 2: in clear, then `STARTTLS` ("only SMTP have").
    StartTls,
}

impl SslType {
    fn value(self) -> i64 {
        match self {
            SslType::Plain => 0,
            SslType::Implicit => 1,
            SslType::StartTls => 2,
        }
    }
}

/// `AT+EMAILSSL=<ssltype>,<index>,"<calist>","<certname>"`: all four
/// parameters, as the manual prints the write form (public code sends two:
/// unproven, spec OPEN 2). An empty `<calist>` names no CA.
///
/// ```
/// use cellmail_simcom::sim7080::commands::{set_email_ssl, SslType};
/// assert_eq!(
///     set_email_ssl(SslType::StartTls, 0, "email.cer", "email.pem").encode().unwrap(),
///     b"AT+EMAILSSL=2,0,\"email.cer\",\"email.pem\"\r"
/// );
/// ```
pub fn set_email_ssl(ssl: SslType, ctx: u8, ca: &str, cert: &str) -> Command {
    Command::write("+EMAILSSL")
        .int(ssl.value())
        .int(i64::from(ctx))
        .string("ca list", ca)
        .string("cert name", cert)
}

/// `<sslversion>` of `AT+CSSLCFG="SSLVERSION"` (1 TLS 1.0, 2 TLS 1.1, 3 TLS 1.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SslVersion {
    /// 1.
    Tls10,
    /// 2.
    Tls11,
    /// 3.
    Tls12,
}

/// `AT+CSSLCFG="SSLVERSION",<ctx>,<version>`.
///
/// ```
/// use cellmail_simcom::sim7080::commands::{ssl_version, SslVersion};
/// assert_eq!(ssl_version(1, SslVersion::Tls12).encode().unwrap(), b"AT+CSSLCFG=\"SSLVERSION\",1,3\r");
/// ```
pub fn ssl_version(ctx: u8, version: SslVersion) -> Command {
    let v = match version {
        SslVersion::Tls10 => 1,
        SslVersion::Tls11 => 2,
        SslVersion::Tls12 => 3,
    };
    Command::write("+CSSLCFG")
        .string("key", "SSLVERSION")
        .int(i64::from(ctx))
        .int(v)
}

/// `AT+CSSLCFG="IGNORERTCTIME",<ctx>,<0|1>`: 1 checks certificates without
/// the module's clock.
pub fn ignore_rtc_time(ctx: u8, ignore: bool) -> Command {
    Command::write("+CSSLCFG")
        .string("key", "IGNORERTCTIME")
        .int(i64::from(ctx))
        .int(i64::from(ignore))
}

/// `AT+CSSLCFG="SNI",<ctx>,"<server name>"` (at most 253 characters).
pub fn server_name(ctx: u8, host: &str) -> Command {
    Command::write("+CSSLCFG")
        .string("key", "SNI")
        .int(i64::from(ctx))
        .string("server name", host)
}

/// `AT+CSSLCFG="CONVERT",2,"<name>"`: the file written to `/customer/`
/// becomes a CA list the module can name in `AT+EMAILSSL`.
pub fn convert_ca(name: &str) -> Command {
    Command::write("+CSSLCFG")
        .string("key", "CONVERT")
        .int(2)
        .string("file name", name)
}

/// `AT+CFSINIT`: allocates the buffer file writes go through.
pub fn fs_init() -> Command {
    Command::exec("+CFSINIT")
}

/// `AT+CFSTERM`: frees it.
pub fn fs_term() -> Command {
    Command::exec("+CFSTERM")
}

/// `<index>` 3 of the file commands: `/customer/`, where \[SSL7080\] §4.2
/// writes certificates before converting them.
pub const CUSTOMER: i64 = 3;

/// The sizes one `AT+CFSWFILE` takes (1-10240 bytes).
pub const FILE_SIZE: std::ops::RangeInclusive<usize> = 1..=10240;

/// `AT+CFSWFILE=3,"<name>",0,<size>,10000` → `DOWNLOAD`, exactly `size`
/// bytes within the 10 s input time, `OK`.
///
/// ```
/// use cellmail_simcom::sim7080::commands::write_file;
/// assert_eq!(write_file("ca.pem", 383).encode().unwrap(), b"AT+CFSWFILE=3,\"ca.pem\",0,383,10000\r");
/// ```
pub fn write_file(name: &str, size: usize) -> Command {
    Command::write("+CFSWFILE")
        .int(CUSTOMER)
        .string("file name", name)
        .int(0)
        .int(i64::try_from(size).unwrap_or(i64::MAX))
        .int(10_000)
        .expect_prompt(PromptKind::Download)
}

/// `AT+CFSDFILE=3,"<name>"`: deletes the plain file once converted
/// (\[SSL7080\] §4.2: "because of security considerations").
pub fn delete_file(name: &str) -> Command {
    Command::write("+CFSDFILE")
        .int(CUSTOMER)
        .string("file name", name)
}
