//! Typed Quectel commands (sans-I/O): each function builds the
//! [`Command`] the manual defines, with its prompt, deferred result and
//! timeout; the `parse_*` functions read the answers.
//!
//! Sources: GSM_SMTP_ATC_V1.1 §2.2 (SMTP), GSM SMTPS application note V3.1
//! §2-3 (AT+QSSLCFG, PDP bring-up, AT+QFUPL/AT+QFDEL, AT+CCLK).

use std::time::Duration;

use cellmail::Charset;
use cellmail_at::fields::{self, Field};
use cellmail_at::{Command, PromptKind, Response, Secret};

/// Deferred result prefixes.
pub mod prefix {
    /// `+QSMTPDST: <result>`
    pub const DST: &str = "+QSMTPDST:";
    /// `+QSMTPBODY: <len|err>`
    pub const BODY: &str = "+QSMTPBODY:";
    /// `+QSMTPATT: <len|err>`
    pub const ATT: &str = "+QSMTPATT:";
    /// `+QSMTPDATT: <result>`
    pub const DATT: &str = "+QSMTPDATT:";
    /// `+QSMTPPUT: <result>`
    pub const PUT: &str = "+QSMTPPUT:";
    /// `+QFUPL: <size>,<checksum>`
    pub const FUPL: &str = "+QFUPL:";
}

/// The module's code for a character set (`AT+QSMTPSUB`, `AT+QSMTPBODY`).
pub fn charset_code(charset: Charset) -> i64 {
    match charset {
        Charset::Ascii => 0,
        Charset::Utf8 => 1,
        Charset::Gb2312 => 2,
        Charset::Big5 => 3,
    }
}

/// `AT+QSMTPUSER="<user>"`
pub fn set_user(user: &str) -> Command {
    Command::write("+QSMTPUSER").string("user", user)
}

/// `AT+QSMTPUSER?`
pub fn read_user() -> Command {
    Command::read("+QSMTPUSER")
}

/// `AT+QSMTPUSER=?`
pub fn test_user() -> Command {
    Command::test("+QSMTPUSER")
}

/// `AT+QSMTPPWD="<pwd>"`, redacted wherever it is shown.
pub fn set_password(password: &Secret) -> Command {
    Command::write("+QSMTPPWD").secret("pwd", password)
}

/// `AT+QSMTPPWD?` — the module answers a mask, never the password.
pub fn read_password() -> Command {
    Command::read("+QSMTPPWD")
}

/// `AT+QSMTPPWD=?`
pub fn test_password() -> Command {
    Command::test("+QSMTPPWD")
}

/// `AT+QSMTPADDR="<addr>"`
pub fn set_sender_address(address: &str) -> Command {
    Command::write("+QSMTPADDR").string("addr", address)
}

/// `AT+QSMTPADDR?`
pub fn read_sender_address() -> Command {
    Command::read("+QSMTPADDR")
}

/// `AT+QSMTPADDR=?`
pub fn test_sender_address() -> Command {
    Command::test("+QSMTPADDR")
}

/// `AT+QSMTPNAME="<name>"`
pub fn set_sender_name(name: &str) -> Command {
    Command::write("+QSMTPNAME").string("name", name)
}

/// `AT+QSMTPNAME?`
pub fn read_sender_name() -> Command {
    Command::read("+QSMTPNAME")
}

/// `AT+QSMTPNAME=?`
pub fn test_sender_name() -> Command {
    Command::test("+QSMTPNAME")
}

/// `AT+QSMTPSRV="<srvaddr>",<port>`
///
/// ```
/// let cmd = cellmail_quectel::commands::set_server("smtp.163.com", 25);
/// assert_eq!(cmd.encode().unwrap(), b"AT+QSMTPSRV=\"smtp.163.com\",25\r");
/// ```
pub fn set_server(host: &str, port: u16) -> Command {
    Command::write("+QSMTPSRV")
        .string("srvaddr", host)
        .int(i64::from(port))
}

/// `AT+QSMTPSRV?`
pub fn read_server() -> Command {
    Command::read("+QSMTPSRV")
}

/// `AT+QSMTPSRV=?`
pub fn test_server() -> Command {
    Command::test("+QSMTPSRV")
}

/// The manual's recipient types (`AT+QSMTPDST` `<type>`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecipientType {
    /// 1: receiver
    To = 1,
    /// 2: copy receiver
    Cc = 2,
    /// 3: secret receiver
    Bcc = 3,
}

impl From<cellmail::RecipientKind> for RecipientType {
    fn from(kind: cellmail::RecipientKind) -> Self {
        match kind {
            cellmail::RecipientKind::To => RecipientType::To,
            cellmail::RecipientKind::Cc => RecipientType::Cc,
            cellmail::RecipientKind::Bcc => RecipientType::Bcc,
        }
    }
}

fn dst(mode: i64) -> Command {
    Command::write("+QSMTPDST")
        .int(mode)
        .expect_deferred(prefix::DST)
}

/// `AT+QSMTPDST=1,<type>,"<e-addr>"` → `OK`, then `+QSMTPDST: <result>`.
pub fn add_recipient(kind: RecipientType, address: &str) -> Command {
    dst(1).int(kind as i64).string("e-addr", address)
}

/// `AT+QSMTPDST=0,<type>,"<e-addr>"`: deletes one recipient.
pub fn delete_recipient(kind: RecipientType, address: &str) -> Command {
    dst(0).int(kind as i64).string("e-addr", address)
}

/// `AT+QSMTPDST=0,<type>`: deletes every recipient of a type.
pub fn delete_recipients_of(kind: RecipientType) -> Command {
    dst(0).int(kind as i64)
}

/// `AT+QSMTPDST=0`: deletes every recipient.
pub fn delete_all_recipients() -> Command {
    dst(0)
}

/// `AT+QSMTPDST?`
pub fn read_recipients() -> Command {
    Command::read("+QSMTPDST")
}

/// `AT+QSMTPDST=?`
pub fn test_recipients() -> Command {
    Command::test("+QSMTPDST")
}

/// `AT+QSMTPSUB=<charset>,"<title>"`: ASCII as it is, any other charset as a
/// hex string of the text's bytes (§2.2.7).
///
/// ```
/// use cellmail::Charset;
/// let cmd = cellmail_quectel::commands::set_subject(Charset::Utf8, "é");
/// assert_eq!(cmd.encode().unwrap(), b"AT+QSMTPSUB=1,\"C3A9\"\r");
/// ```
pub fn set_subject(charset: Charset, subject: &str) -> Command {
    let cmd = Command::write("+QSMTPSUB").int(charset_code(charset));
    match charset {
        Charset::Ascii => cmd.string("title", subject),
        _ => cmd.hex(subject.as_bytes()),
    }
}

/// `AT+QSMTPSUB?`
pub fn read_subject() -> Command {
    Command::read("+QSMTPSUB")
}

/// `AT+QSMTPSUB=?`
pub fn test_subject() -> Command {
    Command::test("+QSMTPSUB")
}

/// `AT+QSMTPBODY=<charset>[,<timeout>]` → `OK`, `CONNECT`, body, `+++`,
/// `+QSMTPBODY: <len|err>`.
pub fn body(charset: Charset, timeout_secs: Option<u32>) -> Command {
    let cmd = Command::write("+QSMTPBODY").int(charset_code(charset));
    let cmd = match timeout_secs {
        Some(t) => cmd.int(i64::from(t)),
        None => cmd,
    };
    cmd.expect_prompt(PromptKind::Connect)
        .expect_deferred(prefix::BODY)
}

/// `AT+QSMTPBODY=?`
pub fn test_body() -> Command {
    Command::test("+QSMTPBODY")
}

/// `AT+QSMTPATT="<filename>",<filesz>,<timeout>`: an attachment through the
/// UART → `CONNECT`, data, `+++`, `+QSMTPATT: <len|err>`.
pub fn attach_serial(name: &str, size: u64, timeout_secs: u32) -> Command {
    Command::write("+QSMTPATT")
        .string("filename", name)
        .int(i64::try_from(size).unwrap_or(i64::MAX))
        .int(i64::from(timeout_secs))
        .expect_prompt(PromptKind::Connect)
        .expect_deferred(prefix::ATT)
}

/// `AT+QSMTPATT="<filename>"` without size: the v1.1 manual's form for data
/// through the UART (§4.4) → `CONNECT`, data, `+++`, `+QSMTPATT: <len>`.
pub fn attach_serial_unsized(name: &str) -> Command {
    Command::write("+QSMTPATT")
        .string("filename", name)
        .expect_prompt(PromptKind::Connect)
        .expect_deferred(prefix::ATT)
}

/// `AT+QSMTPATT="RAM:pic.jpg"` (or `UFS:`, `SD:`, or the v1.1 `/UFS/x`): a
/// file already on the module → `OK`, `+QSMTPATT: <len|err>`.
pub fn attach_module_file(path: &str) -> Command {
    Command::write("+QSMTPATT")
        .string("filename", path)
        .expect_deferred(prefix::ATT)
}

/// `AT+QSMTPATT?`
pub fn read_attachments() -> Command {
    Command::read("+QSMTPATT")
}

/// `AT+QSMTPATT=?`
pub fn test_attachments() -> Command {
    Command::test("+QSMTPATT")
}

/// `AT+QSMTPDATT=<fileindex>` → `OK`, `+QSMTPDATT: <result>`.
pub fn delete_attachment(index: u8) -> Command {
    Command::write("+QSMTPDATT")
        .int(i64::from(index))
        .expect_deferred(prefix::DATT)
}

/// `AT+QSMTPDATT`: deletes every attachment.
pub fn delete_all_attachments() -> Command {
    Command::exec("+QSMTPDATT").expect_deferred(prefix::DATT)
}

/// `AT+QSMTPDATT=?`
pub fn test_delete_attachment() -> Command {
    Command::test("+QSMTPDATT")
}

/// `AT+QSMTPCLR`: clears user, password, sender, server, recipients,
/// subject, body and attachments (§2.2.11).
pub fn clear() -> Command {
    Command::exec("+QSMTPCLR")
}

/// `AT+QSMTPCLR=?`
pub fn test_clear() -> Command {
    Command::test("+QSMTPCLR")
}

/// `AT+QSMTPCFG=1,<0|1>`: whether the server needs authentication.
pub fn set_authentication(required: bool) -> Command {
    Command::write("+QSMTPCFG").int(1).int(i64::from(required))
}

/// `AT+QSMTPCFG=1`: queries the authentication setting (`+QSMTPCFG: <value>`).
pub fn query_authentication() -> Command {
    Command::write("+QSMTPCFG").int(1)
}

/// `AT+QSMTPCFG=?`
pub fn test_config() -> Command {
    Command::test("+QSMTPCFG")
}

/// Margin over the module's own send timeout before the host gives up.
const PUT_MARGIN: Duration = Duration::from_secs(30);

/// `AT+QSMTPPUT[=<timeout>]` → `OK`, later `+QSMTPPUT: <result>`.
pub fn send(timeout_secs: Option<u32>) -> Command {
    match timeout_secs {
        Some(t) => Command::write("+QSMTPPUT").int(i64::from(t)),
        None => Command::exec("+QSMTPPUT"),
    }
    .expect_deferred(prefix::PUT)
}

/// How long to wait for `+QSMTPPUT` after `OK`: the module's timeout and a margin.
pub fn send_wait(timeout_secs: u32) -> Duration {
    Duration::from_secs(u64::from(timeout_secs)) + PUT_MARGIN
}

/// `AT+QSMTPPUT=?`
pub fn test_send() -> Command {
    Command::test("+QSMTPPUT")
}

/// One `AT+QSSLCFG` setting (SMTPS note §2.2.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SslSetting {
    /// `"sslversion",<ctx>,<0 SSL3|1 TLS1.0|2 TLS1.1|3 TLS1.2|4 all>`
    Version(u8, u8),
    /// `"ciphersuite",<ctx>,"0X0035"` (or `"0XFFFF"` for all)
    CipherSuite(u8, String),
    /// `"seclevel",<ctx>,<0 none|1 server|2 server and client>`
    SecLevel(u8, u8),
    /// `"cacert",<ctx>,"<file>"`
    CaCert(u8, String),
    /// `"clientcert",<ctx>,"<file>"`
    ClientCert(u8, String),
    /// `"clientkey",<ctx>,"<file>"`
    ClientKey(u8, String),
    /// `"ignorertctime",<0|1>`
    IgnoreRtcTime(bool),
    /// `"smtpstyle",<0 no SSL|1 SSL|2 STARTTLS>`
    SmtpStyle(u8),
    /// `"smtpsctxi",<ctx>`
    SmtpsContext(u8),
}

impl SslSetting {
    /// The key and the context it applies to, if any.
    pub fn key(&self) -> (&'static str, Option<u8>) {
        match self {
            SslSetting::Version(c, _) => ("sslversion", Some(*c)),
            SslSetting::CipherSuite(c, _) => ("ciphersuite", Some(*c)),
            SslSetting::SecLevel(c, _) => ("seclevel", Some(*c)),
            SslSetting::CaCert(c, _) => ("cacert", Some(*c)),
            SslSetting::ClientCert(c, _) => ("clientcert", Some(*c)),
            SslSetting::ClientKey(c, _) => ("clientkey", Some(*c)),
            SslSetting::IgnoreRtcTime(_) => ("ignorertctime", None),
            SslSetting::SmtpStyle(_) => ("smtpstyle", None),
            SslSetting::SmtpsContext(_) => ("smtpsctxi", None),
        }
    }
}

/// `AT+QSSLCFG="<key>",...` writing one setting.
///
/// ```
/// use cellmail_quectel::commands::{ssl_set, SslSetting};
/// assert_eq!(ssl_set(&SslSetting::SmtpStyle(2)).encode().unwrap(), b"AT+QSSLCFG=\"smtpstyle\",2\r");
/// assert_eq!(ssl_set(&SslSetting::CipherSuite(0, "0XFFFF".into())).encode().unwrap(),
///            b"AT+QSSLCFG=\"ciphersuite\",0,\"0XFFFF\"\r");
/// ```
pub fn ssl_set(setting: &SslSetting) -> Command {
    let (key, ctx) = setting.key();
    let cmd = Command::write("+QSSLCFG").string("type", key);
    let cmd = match ctx {
        Some(c) => cmd.int(i64::from(c)),
        None => cmd,
    };
    match setting {
        SslSetting::Version(_, v)
        | SslSetting::SecLevel(_, v)
        | SslSetting::SmtpStyle(v)
        | SslSetting::SmtpsContext(v) => cmd.int(i64::from(*v)),
        SslSetting::IgnoreRtcTime(on) => cmd.int(i64::from(*on)),
        SslSetting::CipherSuite(_, s) => cmd.string("ciphersuite", s.as_str()),
        SslSetting::CaCert(_, f) => cmd.string("cacertname", f.as_str()),
        SslSetting::ClientCert(_, f) => cmd.string("clientcertname", f.as_str()),
        SslSetting::ClientKey(_, f) => cmd.string("clientkeyname", f.as_str()),
    }
}

/// `AT+QSSLCFG="<key>"[,<ctx>]`: queries one setting (`+QSSLCFG: "<key>",<value>`).
pub fn ssl_query(key: &'static str, ctx: Option<u8>) -> Command {
    let cmd = Command::write("+QSSLCFG").string("type", key);
    match ctx {
        Some(c) => cmd.int(i64::from(c)),
        None => cmd,
    }
}

/// `AT+QSSLCFG="ctxindex",<ctx>`: queries a whole SSL context.
pub fn ssl_query_context(ctx: u8) -> Command {
    ssl_query("ctxindex", Some(ctx))
}

/// `AT+QSSLCFG=?`
pub fn ssl_test() -> Command {
    Command::test("+QSSLCFG")
}

/// `AT+QIFGCNT=<id>`: the foreground context.
pub fn foreground_context(id: u8) -> Command {
    Command::write("+QIFGCNT").int(i64::from(id))
}

/// `AT+QICSGP=1,"<apn>"[,"<user>","<pwd>"]`: GPRS mode and APN.
pub fn set_apn(apn: &str, user: Option<&str>, password: Option<&Secret>) -> Command {
    let cmd = Command::write("+QICSGP").int(1).string("apn", apn);
    match (user, password) {
        (Some(u), Some(p)) => cmd.string("user", u).secret("pwd", p),
        (Some(u), None) => cmd.string("user", u),
        _ => cmd,
    }
}

/// `AT+QIREGAPP`: registers to the TCP/IP stack.
pub fn register_app() -> Command {
    Command::exec("+QIREGAPP")
}

/// `AT+QIACT`: activates the GPRS context (the network may take long).
pub fn activate() -> Command {
    Command::exec("+QIACT").timeout(Duration::from_secs(150))
}

fn is_ip_address(line: &str) -> bool {
    line.trim().parse::<std::net::IpAddr>().is_ok()
}

/// `AT+QILOCIP`: answers the local IP address alone, without `OK`.
pub fn local_ip() -> Command {
    Command::exec("+QILOCIP").expect_final_line(is_ip_address)
}

/// `AT+QIDEACT` → `DEACT OK`.
pub fn deactivate() -> Command {
    Command::exec("+QIDEACT").timeout(Duration::from_secs(40))
}

/// `AT+CGATT?`: packet domain attached?
pub fn read_attach() -> Command {
    Command::read("+CGATT")
}

/// `AT+CGREG?`: packet domain registration.
pub fn read_registration() -> Command {
    Command::read("+CGREG")
}

/// `AT+QFUPL="<file>",<max size>` → `CONNECT`, data (ended by `+++` when
/// shorter), `+QFUPL: <size>,<checksum>`, `OK`.
pub fn upload(file: &str, max_size: u64) -> Command {
    Command::write("+QFUPL")
        .string("filename", file)
        .int(i64::try_from(max_size).unwrap_or(i64::MAX))
        .expect_prompt(PromptKind::Connect)
        .timeout(Duration::from_secs(60))
}

/// `AT+QFDEL="<file>"`
pub fn delete_file(file: &str) -> Command {
    Command::write("+QFDEL").string("filename", file)
}

/// `AT+CCLK="<yy/MM/dd,hh:mm:ss±zz>"`
pub fn set_clock(time: &str) -> Command {
    Command::write("+CCLK").string("time", time)
}

/// `AT+CCLK?`
pub fn read_clock() -> Command {
    Command::read("+CCLK")
}

/// The `<result>` of a deferred line such as `+QSMTPPUT: -535`.
pub fn parse_result(line: &str, prefix: &str) -> Option<i32> {
    fields::int(line, prefix).and_then(|v| i32::try_from(v).ok())
}

/// One row of `AT+QSMTPATT?`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttachmentRow {
    /// 1-based index.
    pub index: u8,
    /// File name.
    pub name: String,
    /// Size in bytes.
    pub size: u64,
}

/// Parses the rows of `AT+QSMTPATT?`.
pub fn parse_attachments(r: &Response) -> Vec<AttachmentRow> {
    r.info
        .iter()
        .filter_map(|l| fields::info(l, prefix::ATT))
        .filter_map(|f| match f.as_slice() {
            [i, name, size] => Some(AttachmentRow {
                index: u8::try_from(i.as_int()?).ok()?,
                name: name.as_str().to_owned(),
                size: u64::try_from(size.as_int()?).ok()?,
            }),
            _ => None,
        })
        .collect()
}

/// Parses the rows of `AT+QSMTPDST?`: (type, address).
pub fn parse_recipients(r: &Response) -> Vec<(i64, String)> {
    r.info
        .iter()
        .filter_map(|l| fields::info(l, prefix::DST))
        .filter_map(|f| match f.as_slice() {
            [t, a] => Some((t.as_int()?, a.as_str().to_owned())),
            _ => None,
        })
        .collect()
}

/// The `+QFUPL: <size>,<checksum>` of an upload.
pub fn parse_upload(r: &Response) -> Option<(u64, String)> {
    match r.fields(prefix::FUPL)?.as_slice() {
        [size, sum] => Some((u64::try_from(size.as_int()?).ok()?, sum.as_str().to_owned())),
        _ => None,
    }
}

/// The value of a `+QSSLCFG: "<key>",<value>` answer.
pub fn parse_ssl_value(r: &Response) -> Option<String> {
    match r.fields("+QSSLCFG:")?.as_slice() {
        [_, value, ..] => Some(value.as_str().to_owned()),
        _ => None,
    }
}

/// The checksum `AT+QFUPL` reports: XOR of the data's 16-bit big-endian words
/// (an odd last byte is the high byte of its word), in lower-case hex.
///
/// ```
/// assert_eq!(cellmail_quectel::commands::upload_checksum(b"\x12\x34\x56"), "4434");
/// ```
pub fn upload_checksum(data: &[u8]) -> String {
    let sum = data.chunks(2).fold(0u16, |acc, w| {
        acc ^ (u16::from(w[0]) << 8 | u16::from(w.get(1).copied().unwrap_or(0)))
    });
    format!("{sum:x}")
}

/// First field of an information line as text (for `+QSMTPCFG: <value>` etc.).
pub fn first_field<'a>(r: &'a Response, prefix: &str) -> Option<Field<'a>> {
    r.fields(prefix)?.into_iter().next()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire(cmd: Command) -> String {
        String::from_utf8(cmd.encode().unwrap()).unwrap()
    }

    #[test]
    fn forms_encode_as_the_manual_writes_them() {
        assert_eq!(wire(set_user("quectel")), "AT+QSMTPUSER=\"quectel\"\r");
        assert_eq!(wire(read_password()), "AT+QSMTPPWD?\r");
        assert_eq!(wire(test_server()), "AT+QSMTPSRV=?\r");
        assert_eq!(
            wire(add_recipient(RecipientType::Cc, "colin.hu@quectel.com")),
            "AT+QSMTPDST=1,2,\"colin.hu@quectel.com\"\r"
        );
        assert_eq!(
            wire(delete_recipients_of(RecipientType::Bcc)),
            "AT+QSMTPDST=0,3\r"
        );
        assert_eq!(wire(delete_all_recipients()), "AT+QSMTPDST=0\r");
        assert_eq!(
            wire(set_subject(Charset::Ascii, "SMTP TEST")),
            "AT+QSMTPSUB=0,\"SMTP TEST\"\r"
        );
        assert_eq!(wire(body(Charset::Utf8, Some(10))), "AT+QSMTPBODY=1,10\r");
        assert_eq!(
            wire(attach_serial("a.bin", 300, 60)),
            "AT+QSMTPATT=\"a.bin\",300,60\r"
        );
        assert_eq!(
            wire(attach_module_file("RAM:pic.jpg")),
            "AT+QSMTPATT=\"RAM:pic.jpg\"\r"
        );
        assert_eq!(wire(delete_all_attachments()), "AT+QSMTPDATT\r");
        assert_eq!(wire(set_authentication(false)), "AT+QSMTPCFG=1,0\r");
        assert_eq!(wire(send(Some(800))), "AT+QSMTPPUT=800\r");
        assert_eq!(wire(send(None)), "AT+QSMTPPUT\r");
        assert_eq!(
            wire(set_apn("CMNET", None, None)),
            "AT+QICSGP=1,\"CMNET\"\r"
        );
        assert_eq!(
            wire(upload("RAM:pic.jpg", 30000)),
            "AT+QFUPL=\"RAM:pic.jpg\",30000\r"
        );
        assert_eq!(
            wire(ssl_query("smtpsctxi", None)),
            "AT+QSSLCFG=\"smtpsctxi\"\r"
        );
        assert_eq!(
            wire(ssl_set(&SslSetting::Version(0, 1))),
            "AT+QSSLCFG=\"sslversion\",0,1\r"
        );
    }

    #[test]
    fn password_is_sent_but_never_shown() {
        let cmd = set_password(&Secret::new("aol123456"));
        assert_eq!(wire(cmd.clone()), "AT+QSMTPPWD=\"aol123456\"\r");
        assert!(!cmd.to_string().contains("aol123456"));
    }

    #[test]
    fn answers_parse() {
        let r = Response {
            info: vec![
                "+QSMTPATT: 1,\"RAM:pic.jpg\",26977".into(),
                "+QSMTPATT: 2,\"RAM:file_test.txt\",100".into(),
            ],
            ..Default::default()
        };
        assert_eq!(
            parse_attachments(&r)[1],
            AttachmentRow {
                index: 2,
                name: "RAM:file_test.txt".into(),
                size: 100
            }
        );
        assert_eq!(parse_result("+QSMTPPUT:0", prefix::PUT), Some(0));
        assert_eq!(parse_result("+QSMTPPUT: -535", prefix::PUT), Some(-535));
        let r = Response {
            info: vec!["+QFUPL: 26977,cea0".into()],
            ..Default::default()
        };
        assert_eq!(parse_upload(&r), Some((26977, "cea0".into())));
    }
}
