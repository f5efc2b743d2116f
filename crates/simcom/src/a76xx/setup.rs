//! What SMTPS relies on in other chapters of the A76XX manual: the PDP
//! context (§5.2), the network (§15.2.1 `AT+NETOPEN`), the SSL context
//! (§19.2.1 `AT+CSSLCFG`) and certificates (§19.2.2-§19.2.4), the file system
//! (§12.2) and host-to-module uploads (§13.2.1 `AT+CFTRANRX`) for
//! attachments. Sans-I/O, like [`commands`](super::commands).

use std::time::Duration;

use cellmail_at::fields;
use cellmail_at::{Command, PromptKind, Secret};

/// Prefixes of this chapter's answers.
pub mod prefix {
    /// `+NETOPEN: <err>` (0: opened).
    pub const NETOPEN: &str = "+NETOPEN:";
    /// `+IPERROR: <text>`, e.g. `Network is already opened` before `ERROR`.
    pub const IPERROR: &str = "+IPERROR:";
    /// `+CEREG: <n>,<stat>`
    pub const CEREG: &str = "+CEREG:";
    /// `+CGREG: <n>,<stat>`
    pub const CGREG: &str = "+CGREG:";
    /// `+CGATT: <state>`
    pub const CGATT: &str = "+CGATT:";
    /// `+FSATTRI: <file_size>`
    pub const FSATTRI: &str = "+FSATTRI:";
    /// `+FSMEM: C:(<total>,<used>)`
    pub const FSMEM: &str = "+FSMEM:";
    /// `+CCERTLIST: "<name>"`
    pub const CCERTLIST: &str = "+CCERTLIST:";
    /// `+CSSLCFG: <ctx>,...`
    pub const CSSLCFG: &str = "+CSSLCFG:";
}

/// The manual's longest answer time of the PDP commands (§5.2: 9000 ms).
pub const PDP_TIMEOUT: Duration = Duration::from_secs(9);
/// The manual's longest answer time of `AT+NETOPEN` and of the SSL and
/// certificate commands (§15.2.1, §19.2: 120000 ms).
pub const LONG_TIMEOUT: Duration = Duration::from_secs(120);

/// `<PDP_type>` of `AT+CGDCONT` (§5.2.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum PdpType {
    /// `IP`
    #[default]
    Ip,
    /// `IPV6`
    Ipv6,
    /// `IPV4V6`
    Ipv4v6,
}

impl PdpType {
    fn name(self) -> &'static str {
        match self {
            PdpType::Ip => "IP",
            PdpType::Ipv6 => "IPV6",
            PdpType::Ipv4v6 => "IPV4V6",
        }
    }
}

/// `AT+CGDCONT=<cid>,"<type>","<apn>"` (cid 1-15).
///
/// ```
/// use cellmail_simcom::a76xx::setup::{pdp_context, PdpType};
/// assert_eq!(pdp_context(1, PdpType::Ip, "internet").encode().unwrap(), b"AT+CGDCONT=1,\"IP\",\"internet\"\r");
/// ```
pub fn pdp_context(cid: u8, pdp_type: PdpType, apn: &str) -> Command {
    Command::write("+CGDCONT")
        .int(i64::from(cid))
        .string("PDP_type", pdp_type.name())
        .string("APN", apn)
        .timeout(PDP_TIMEOUT)
}

/// `<auth_type>` of `AT+CGAUTH` (§5.2.16).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PdpAuth {
    /// 0: none.
    None,
    /// 1: PAP.
    Pap,
    /// 2: CHAP.
    Chap,
    /// 3: PAP or CHAP (the manual: 1803S platform only).
    PapOrChap,
}

impl PdpAuth {
    fn code(self) -> i64 {
        match self {
            PdpAuth::None => 0,
            PdpAuth::Pap => 1,
            PdpAuth::Chap => 2,
            PdpAuth::PapOrChap => 3,
        }
    }
}

/// The longest `AT+CGAUTH` user name and password (§5.2.16 test form: 50,50).
pub const PDP_LOGIN_MAX: usize = 50;

/// `AT+CGAUTH=<cid>,<auth_type>,"<passwd>","<user>"`.
///
/// **The password comes before the user name** (§5.2.16; public code that
/// sends the user first gets it backwards). The arguments are named so that
/// a call cannot swap them.
///
/// ```
/// use cellmail_at::Secret;
/// use cellmail_simcom::a76xx::setup::{pdp_auth, PdpAuth};
/// let cmd = pdp_auth(1, PdpAuth::Pap, "alice", &Secret::new("pw"));
/// assert_eq!(cmd.encode().unwrap(), b"AT+CGAUTH=1,1,\"pw\",\"alice\"\r");
/// assert_eq!(cmd.to_string(), "AT+CGAUTH=1,1,\"***\",\"alice\"");
/// ```
pub fn pdp_auth(cid: u8, auth: PdpAuth, user: &str, password: &Secret) -> Command {
    Command::write("+CGAUTH")
        .int(i64::from(cid))
        .int(auth.code())
        .secret("passwd", password)
        .string("user", user)
        .timeout(PDP_TIMEOUT)
}

/// `AT+CEREG?` (LTE registration).
pub fn read_eps_registration() -> Command {
    Command::read("+CEREG")
}

/// `AT+CGREG?` (GPRS registration).
pub fn read_gprs_registration() -> Command {
    Command::read("+CGREG")
}

/// Whether a `+CEREG: <n>,<stat>` / `+CGREG: <n>,<stat>` line says
/// registered: `<stat>` 1 (home) or 5 (roaming).
///
/// ```
/// use cellmail_simcom::a76xx::setup::registered;
/// assert_eq!(registered("+CEREG: 0,1"), Some(true));
/// assert_eq!(registered("+CGREG: 0,2"), Some(false));
/// assert_eq!(registered("+CSQ: 27,99"), None);
/// ```
pub fn registered(line: &str) -> Option<bool> {
    let line = line.trim();
    let f = fields::info(line, prefix::CEREG).or_else(|| fields::info(line, prefix::CGREG))?;
    Some(matches!(f.get(1)?.as_int()?, 1 | 5))
}

/// `AT+CGATT?` → `+CGATT: <state>`.
pub fn read_attach() -> Command {
    Command::read("+CGATT").timeout(PDP_TIMEOUT)
}

/// `AT+NETOPEN` → `OK`, `+NETOPEN: <err>`; when already open `+IPERROR:
/// Network is already opened` and `ERROR` (§15.2.1).
pub fn net_open() -> Command {
    Command::exec("+NETOPEN")
        .expect_deferred(prefix::NETOPEN)
        .timeout(LONG_TIMEOUT)
}

/// Whether an `+IPERROR:` line says the network was open already.
///
/// ```
/// assert!(cellmail_simcom::a76xx::setup::already_open("+IPERROR: Network is already opened"));
/// ```
pub fn already_open(line: &str) -> bool {
    line.trim()
        .strip_prefix(prefix::IPERROR)
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("Network is already opened"))
}

/// `<sslversion>` of `AT+CSSLCFG` (§19.2.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SslVersion {
    /// 0: SSL 3.0.
    Ssl3,
    /// 1: TLS 1.0.
    Tls10,
    /// 2: TLS 1.1.
    Tls11,
    /// 3: TLS 1.2.
    Tls12,
    /// 4: all of them (the default).
    #[default]
    All,
}

impl SslVersion {
    fn code(self) -> i64 {
        match self {
            SslVersion::Ssl3 => 0,
            SslVersion::Tls10 => 1,
            SslVersion::Tls11 => 2,
            SslVersion::Tls12 => 3,
            SslVersion::All => 4,
        }
    }
}

/// `<authmode>` of `AT+CSSLCFG` (§19.2.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SslAuthMode {
    /// 0: no verification (the default).
    #[default]
    None,
    /// 1: the server is verified against `"cacert"`.
    Server,
    /// 2: server and client (CA, client certificate and key).
    Mutual,
    /// 3: the client only.
    Client,
}

impl SslAuthMode {
    fn code(self) -> i64 {
        match self {
            SslAuthMode::None => 0,
            SslAuthMode::Server => 1,
            SslAuthMode::Mutual => 2,
            SslAuthMode::Client => 3,
        }
    }
}

/// SSL context ids (§19.2.1: 0-9).
pub const SSL_CONTEXT: std::ops::RangeInclusive<u8> = 0..=9;
/// `"negotiatetime"` seconds (§19.2.1: 10-300, default 300).
pub const NEGOTIATE_TIME: std::ops::RangeInclusive<u16> = 10..=300;
/// Certificate file names (§19.2.2: 5-108 bytes, `.pem` or `.der`).
pub const CERT_NAME: std::ops::RangeInclusive<usize> = 5..=108;
/// Certificate file sizes (§19.2.2: 1-10240 bytes).
pub const CERT_SIZE: std::ops::RangeInclusive<usize> = 1..=10240;

fn ssl(key: &'static str, ctx: u8) -> Command {
    Command::write("+CSSLCFG")
        .string("key", key)
        .int(i64::from(ctx))
        .timeout(LONG_TIMEOUT)
}

/// `AT+CSSLCFG="sslversion",<ctx>,<v>`
///
/// ```
/// use cellmail_simcom::a76xx::setup::{ssl_version, SslVersion};
/// assert_eq!(ssl_version(0, SslVersion::All).encode().unwrap(), b"AT+CSSLCFG=\"sslversion\",0,4\r");
/// ```
pub fn ssl_version(ctx: u8, version: SslVersion) -> Command {
    ssl("sslversion", ctx).int(version.code())
}

/// `AT+CSSLCFG="authmode",<ctx>,<m>`
pub fn ssl_auth_mode(ctx: u8, mode: SslAuthMode) -> Command {
    ssl("authmode", ctx).int(mode.code())
}

/// `AT+CSSLCFG="ignorelocaltime",<ctx>,<0|1>` (1, the default: the
/// certificates' dates are not checked against the module's clock).
pub fn ssl_ignore_local_time(ctx: u8, ignore: bool) -> Command {
    ssl("ignorelocaltime", ctx).int(i64::from(ignore))
}

/// `AT+CSSLCFG="negotiatetime",<ctx>,<s>` ([`NEGOTIATE_TIME`]).
pub fn ssl_negotiate_time(ctx: u8, secs: u16) -> Command {
    ssl("negotiatetime", ctx).int(i64::from(secs))
}

/// `AT+CSSLCFG="cacert",<ctx>,"<file>"`
pub fn ssl_ca_cert(ctx: u8, file: &str) -> Command {
    ssl("cacert", ctx).string("ca_file", file)
}

/// `AT+CSSLCFG="clientcert",<ctx>,"<file>"`
pub fn ssl_client_cert(ctx: u8, file: &str) -> Command {
    ssl("clientcert", ctx).string("clientcert_file", file)
}

/// `AT+CSSLCFG="clientkey",<ctx>,"<file>"`
pub fn ssl_client_key(ctx: u8, file: &str) -> Command {
    ssl("clientkey", ctx).string("clientkey_file", file)
}

/// `AT+CSSLCFG="enableSNI",<ctx>,<0|1>`
pub fn ssl_sni(ctx: u8, on: bool) -> Command {
    ssl("enableSNI", ctx).int(i64::from(on))
}

/// `AT+CSSLCFG=<ctx>`: one context's settings.
pub fn query_ssl(ctx: u8) -> Command {
    Command::write("+CSSLCFG")
        .int(i64::from(ctx))
        .timeout(LONG_TIMEOUT)
}

/// `AT+CSSLCFG?`: every context.
pub fn read_ssl() -> Command {
    Command::read("+CSSLCFG").timeout(LONG_TIMEOUT)
}

/// `AT+CSSLCFG=?`
pub fn test_ssl() -> Command {
    Command::test("+CSSLCFG")
}

/// `AT+CCERTDOWN="<file>",<len>` → `>`, `len` bytes, `OK`.
pub fn cert_download(name: &str, length: usize) -> Command {
    Command::write("+CCERTDOWN")
        .string("filename", name)
        .int(i64::try_from(length).unwrap_or(i64::MAX))
        .expect_prompt(PromptKind::Angle)
        .timeout(LONG_TIMEOUT)
}

/// `AT+CCERTDOWN=?` → `+CCERTDOWN: (5-108),(1-10240)`.
pub fn test_cert_download() -> Command {
    Command::test("+CCERTDOWN")
}

/// `AT+CCERTLIST` → `+CCERTLIST: "<name>"` lines.
pub fn cert_list() -> Command {
    Command::exec("+CCERTLIST").timeout(LONG_TIMEOUT)
}

/// `AT+CCERTDELE="<file>"`
pub fn cert_delete(name: &str) -> Command {
    Command::write("+CCERTDELE")
        .string("filename", name)
        .timeout(LONG_TIMEOUT)
}

/// The names `AT+CCERTLIST` lists.
pub fn cert_names(info: &[String]) -> Vec<String> {
    info.iter()
        .filter_map(|l| fields::info(l.trim(), prefix::CCERTLIST))
        .filter_map(|f| f.first().map(|n| n.as_str().to_owned()))
        .collect()
}

/// The longest full path on `C:/` (§12.2: 115 bytes, directories included).
pub const PATH_MAX: usize = 115;

/// `AT+FSATTRI="<file>"` → `+FSATTRI: <size>`, or `ERROR` when it does not exist.
pub fn file_size(path: &str) -> Command {
    Command::write("+FSATTRI").string("filename", path)
}

/// The size in a `+FSATTRI: <size>` line.
pub fn parse_file_size(line: &str) -> Option<u64> {
    u64::try_from(fields::int(line.trim(), prefix::FSATTRI)?).ok()
}

/// `AT+FSDEL="<file>"` (the manual's names are relative to the current
/// directory; the full path is what public code passes and what the
/// attachment route here uses).
pub fn file_delete(path: &str) -> Command {
    Command::write("+FSDEL").string("filename", path)
}

/// `AT+FSMEM` → `+FSMEM: C:(<total>,<used>)`.
pub fn file_memory() -> Command {
    Command::exec("+FSMEM")
}

/// Free bytes of `C:` in a `+FSMEM: C:(<total>,<used>)` line.
///
/// ```
/// assert_eq!(cellmail_simcom::a76xx::setup::free_bytes("+FSMEM: C:(1000,400)"), Some(600));
/// ```
pub fn free_bytes(line: &str) -> Option<u64> {
    let inner = line
        .trim()
        .strip_prefix(prefix::FSMEM)?
        .trim()
        .strip_prefix("C:(")?
        .split(')')
        .next()?;
    let (total, used) = inner.split_once(',')?;
    let total: u64 = total.trim().parse().ok()?;
    let used: u64 = used.trim().parse().ok()?;
    total.checked_sub(used)
}

/// `AT+CFTRANRX="<path>",<len>` → `>`, `len` bytes, `OK` (§13.2.1; the
/// file must not exist yet).
///
/// ```
/// use cellmail_simcom::a76xx::setup::upload_file;
/// assert_eq!(upload_file("c:/t1.txt", 10).encode().unwrap(), b"AT+CFTRANRX=\"c:/t1.txt\",10\r");
/// ```
pub fn upload_file(path: &str, length: u64) -> Command {
    Command::write("+CFTRANRX")
        .string("filepath", path)
        .int(i64::try_from(length).unwrap_or(i64::MAX))
        .expect_prompt(PromptKind::Angle)
        // §13.2.1 gives no time; the bytes themselves take ~1 s per 11 KB
        // at 115200 baud, which the caller's wait covers.
        .timeout(LONG_TIMEOUT)
}

/// `AT+CFTRANRX="<path>",<len>,<reserved>,<location>`: writes at an offset
/// (§13.2.1: `<reserved>` is 100; only some firmware branches).
pub fn upload_file_at(path: &str, length: u64, location: u64) -> Command {
    Command::write("+CFTRANRX")
        .string("filepath", path)
        .int(i64::try_from(length).unwrap_or(i64::MAX))
        .int(100)
        .int(i64::try_from(location).unwrap_or(i64::MAX))
        .expect_prompt(PromptKind::Angle)
        .timeout(LONG_TIMEOUT)
}

/// `AT+CFTRANRX=?`
pub fn test_upload() -> Command {
    Command::test("+CFTRANRX")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(c: Command) -> String {
        String::from_utf8(c.encode().unwrap()).unwrap()
    }

    #[test]
    fn encodings() {
        assert_eq!(
            w(ssl_auth_mode(0, SslAuthMode::Server)),
            "AT+CSSLCFG=\"authmode\",0,1\r"
        );
        assert_eq!(
            w(ssl_ca_cert(0, "ca.pem")),
            "AT+CSSLCFG=\"cacert\",0,\"ca.pem\"\r"
        );
        assert_eq!(w(ssl_sni(1, true)), "AT+CSSLCFG=\"enableSNI\",1,1\r");
        assert_eq!(
            w(ssl_ignore_local_time(0, true)),
            "AT+CSSLCFG=\"ignorelocaltime\",0,1\r"
        );
        assert_eq!(w(query_ssl(3)), "AT+CSSLCFG=3\r");
        assert_eq!(
            w(upload_file_at("C:/t2.txt", 10, 0)),
            "AT+CFTRANRX=\"C:/t2.txt\",10,100,0\r"
        );
        assert_eq!(w(file_delete("C:/log.txt")), "AT+FSDEL=\"C:/log.txt\"\r");
        assert_eq!(
            w(pdp_context(2, PdpType::Ipv4v6, "a")),
            "AT+CGDCONT=2,\"IPV4V6\",\"a\"\r"
        );
    }

    #[test]
    fn cgauth_takes_the_password_first_and_hides_it() {
        let cmd = pdp_auth(1, PdpAuth::Chap, "user", &Secret::new("secret-pw"));
        let wire = w(cmd.clone());
        assert_eq!(wire, "AT+CGAUTH=1,2,\"secret-pw\",\"user\"\r");
        assert!(!format!("{cmd} {cmd:?}").contains("secret-pw"));
    }

    #[test]
    fn answers() {
        assert_eq!(parse_file_size("+FSATTRI: 1234"), Some(1234));
        assert_eq!(parse_file_size("+FSATTRI: x"), None);
        assert_eq!(free_bytes("+FSMEM: C:(10,20)"), None);
        assert!(!already_open("+IPERROR: Network not opened"));
        assert_eq!(
            cert_names(&["+CCERTLIST: \"ls.pem\"".into(), "junk".into()]),
            ["ls.pem"]
        );
        assert_eq!(registered("+CEREG: 0,5"), Some(true));
        assert_eq!(registered("+CEREG: 0,6"), Some(false));
    }
}
