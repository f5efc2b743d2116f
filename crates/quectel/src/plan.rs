//! The plan of one mail: the options and the mail checked against the
//! manuals' ranges before any byte (GSM_SMTP_ATC_V1.1 §2.2, SMTPS note §2.2),
//! and the settings the module must hold, in the notes' order. Pure.

use cellmail::{
    Auth, Capabilities, CertSource, CipherSuites, Email, MailError, SmtpAccount, TlsMode,
    TlsVersion, Verify, module_seconds,
};
use cellmail_at::Command;
use cellmail_session::Exchange;

use crate::commands::{
    self as cmd, AttachmentSize, CipherSuite, SecLevel, SendTimeout, SmtpStyle, SslContext,
    SslSetting, SslVersion, TransferTimeout,
};
use crate::mailer::QuectelOptions;

/// The Quectel GSM capabilities (GSM_SMTP_ATC_V1.1 §2.2, SMTPS note).
///
/// Storages: `RAM:` files for every module (SMTPS note §1.2 step 5 and §3),
/// UFS (v1.1 §2.2.9, §4.5), and `Storage::Sd` on the M33 only, the one
/// module v1.1 §2.2.9 allows SD (its `Picture` folder) for
/// ([`QuectelOptions::model`]); the M10, M66, M85 and M95 have no SD
/// attachments in either manual, so an SD attachment is `Unsupported` there
/// before a byte.
///
/// From the manuals: 20 recipients (v1.1 §2.2.6), subject 100 ASCII or 200
/// hex characters (§2.2.7), body 10 KB (§2.2.8), user and password 50
/// (§2.2.1, §2.2.2), attachments 0-102400 bytes through the UART (§2.2.9;
/// through `RAM:` files the module's RAM bounds them, which no manual
/// gives: [`QuectelOptions::ram_budget`]), `AT+QSMTPPUT` timeout
/// 100-48000 s (§2.2.13).
///
/// **Not in the manual**: neither manual gives a maximum length for the
/// sender and recipient addresses, the sender name, the server name or an
/// attachment's file name. The limits below (100 characters each) are
/// conservative host-side choices, checked before sending so a mail is
/// refused here rather than by the module. The 10 attachments are the
/// `<fileindex>` range of `AT+QSMTPDATT` (§2.2.10).
pub fn capabilities() -> Capabilities {
    capabilities_for(&QuectelOptions::default())
}

/// [`capabilities`] for these options: the bytes attachments may hold
/// follow the [`AttachmentRoute`] — the RAM budget through `RAM:` files,
/// 100 KB in all through the UART's sized form (§2.2.9 note 3).
pub fn capabilities_for(o: &QuectelOptions) -> Capabilities {
    use cellmail::{AttachmentSources, Charset, Limits, Storage, TextEncoding};
    Capabilities {
        family: crate::FAMILY,
        smtp: true,
        pop3: false,
        smtp_tls: vec![TlsMode::None, TlsMode::Implicit, TlsMode::StartTls],
        pop3_tls: vec![],
        tls_verify: true,
        // AT+QSSLCFG="sslversion" 0-4: SSL 3.0, TLS 1.0, 1.1, 1.2, all.
        tls_versions: vec![
            TlsVersion::Ssl3,
            TlsVersion::Tls1_0,
            TlsVersion::Tls1_1,
            TlsVersion::Tls1_2,
        ],
        charsets: vec![
            Charset::Ascii,
            Charset::Utf8,
            Charset::Gb2312,
            Charset::Big5,
        ],
        subject_encoding: TextEncoding::Hex,
        body_encoding: TextEncoding::Raw,
        attachment_sources: AttachmentSources {
            memory: true,
            host_file: true,
            module_file: true,
        },
        storages: if o.model.as_deref().is_some_and(is_m33) {
            vec![Storage::Ram, Storage::Ufs, Storage::Sd]
        } else {
            vec![Storage::Ram, Storage::Ufs]
        },
        recipient_names: false,
        body_forbids: vec!["+++"],
        body_transport: cellmail::BodyTransport::DataMode,
        bearer_login: true,
        limits: Limits {
            // §2.2.6: "The maximum number of the recipients is 20."
            recipients: 20,
            recipients_per_kind: None,
            // Not in the manual (host-side choices, see above).
            address: 100,
            name: 100,
            subject_ascii: cmd::TITLE_ASCII_MAX,
            subject_encoded: cmd::TITLE_HEX_MAX,
            // §2.2.8 note 2: "The maximum size of the email body is 10 Kbytes."
            body: 10 * 1024,
            // No count in the manual; `<fileindex>` of AT+QSMTPDATT is 1-10 (§2.2.10).
            attachments: 10,
            attachment_bytes_serial: match o.attachment_route {
                AttachmentRoute::Ram => o.ram_budget,
                // §2.2.9: `<filesz>` 0-102400, and note 3: 100 KB in all.
                AttachmentRoute::UartSized => u64::from(AttachmentSize::MAX),
            },
            attachment_bytes_total: None,
            // Not in the manual (host-side choice, see above).
            attachment_name: 100,
            // §2.2.1, §2.2.2: "The maximum size of the parameter is 50."
            user: 50,
            password: 50,
            // Not in the manual (host-side choice, see above).
            server: 100,
            send_timeout_secs: Some(SendTimeout::MIN..=SendTimeout::MAX),
        },
    }
}

/// Whether `AT+CGMM`'s answer names the M33 (`M33`, `Quectel_M33...`).
fn is_m33(model: &str) -> bool {
    model
        .trim_start_matches("Quectel_")
        .to_ascii_uppercase()
        .starts_with("M33")
}

/// File names the module reads from its own file system instead of the UART
/// (GSM_SMTP_ATC_V1.1 §2.2.9 and §4.5: `/UFS/`, on the M33 `/SD/` and
/// `/RAM/`; SMTPS note §3: `RAM:`; `UFS:` and `SD:` as the SMTPS note's form
/// of the same storages). An attachment sent through the UART must not be
/// named like that.
const MODULE_FILE_PREFIXES: [&str; 6] = ["RAM:", "UFS:", "SD:", "/RAM/", "/UFS/", "/SD/"];

/// What a mail needs, checked before the first byte is written.
#[derive(Debug)]
pub struct Plan {
    /// `AT+QSMTPPUT=<timeout>`.
    pub send_timeout: SendTimeout,
    /// Body and attachment transfer timeout.
    pub transfer_timeout: TransferTimeout,
    /// The SSL context.
    pub ssl_context: SslContext,
    /// The one cipher suite, or all.
    pub cipher: CipherSuite,
    /// `AT+QSMTPSUB`.
    pub subject: Command,
    /// How each attachment reaches the module, in the mail's order.
    pub attachments: Vec<Staging>,
}

/// How one attachment reaches the module.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Staging {
    /// A file already on the module, attached by its path.
    ModuleFile(String),
    /// Uploaded with `AT+QFUPL="RAM:<name>",<size>` at its exact size (the
    /// upload ends by itself, SMTPS note §3.1-§3.3), attached with
    /// `AT+QSMTPATT="RAM:<name>"` and deleted with `AT+QFDEL` after the send.
    Ram {
        /// `RAM:<name>`.
        file: String,
        /// Its size, announced to `AT+QFUPL`.
        size: u32,
    },
    /// Through the UART with the sized `AT+QSMTPATT="<name>",<filesz>,<timeout>`
    /// and `+++` ([`AttachmentRoute::UartSized`]).
    Uart {
        /// `<filesz>`.
        size: AttachmentSize,
        /// `<timeout>`, sized from the line rate.
        timeout: TransferTimeout,
    },
}

/// How memory and host-file attachments reach the module
/// ([`QuectelOptions::attachment_route`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AttachmentRoute {
    /// Through a `RAM:` file, as the SMTPS note recommends ("It is strongly
    /// recommended to use RAM file to upload the attachments", §1.2 step 5):
    /// `AT+QFUPL` at the exact size, then
    /// `AT+QSMTPATT="RAM:<name>"`. Bounded by
    /// [`QuectelOptions::ram_budget`], not by the UART form's 100 KB.
    #[default]
    Ram,
    /// `AT+QSMTPATT="<name>",<filesz>,<timeout>`, the data, one second of
    /// silence and `+++`. No manual shows how that sized form ends (the one
    /// UART example, v1.1 §4.4, is the unsized form ended by `+++`): this
    /// rests on an unproven end rule and takes at most 100 KB in all
    /// (§2.2.9 note 3).
    UartSized,
}

/// The module's `<timeout>` for `bytes` sent at `line_rate` bits per second
/// (10 bits a byte on an 8N1 line): half as long again as the wire time,
/// 10 s more, at least `floor`, at most what the module takes (48000 s).
///
/// ```
/// use cellmail_quectel::plan::transfer_seconds;
/// // 100 KB at 9600 baud is ~107 s on the line.
/// assert_eq!(transfer_seconds(102_400, 9_600, 60), 171);
/// assert_eq!(transfer_seconds(10, 115_200, 60), 60);
/// ```
pub fn transfer_seconds(bytes: u64, line_rate: u32, floor: u32) -> u32 {
    let rate = u64::from(line_rate.max(1));
    let wire = (bytes * 10).div_ceil(rate);
    let secs = wire + wire.div_ceil(2) + 10;
    u32::try_from(secs)
        .unwrap_or(TransferTimeout::MAX)
        .clamp(floor, TransferTimeout::MAX)
}

/// `Invalid` for an option outside its range.
fn out_of_range(field: &str, value: i64, min: i64, max: i64) -> MailError {
    MailError::invalid(
        field,
        format!("is {value}, the module takes {min} to {max}"),
    )
}

pub(crate) fn ssl_version(v: TlsVersion) -> SslVersion {
    match v {
        TlsVersion::Ssl3 => SslVersion::Ssl3,
        TlsVersion::Tls1_0 => SslVersion::Tls1_0,
        TlsVersion::Tls1_1 => SslVersion::Tls1_1,
        TlsVersion::Tls1_2 => SslVersion::Tls1_2,
        TlsVersion::Any => SslVersion::All,
    }
}

/// Checks the options and everything the mail needs against the
/// manuals' ranges, before any byte is written.
pub fn check(
    email: &Email,
    account: &SmtpAccount,
    o: &QuectelOptions,
    caps: &Capabilities,
) -> Result<Plan, MailError> {
    let (lo, hi) = caps
        .limits
        .send_timeout_secs
        .as_ref()
        .map_or((SendTimeout::MIN, SendTimeout::MAX), |r| {
            (*r.start(), *r.end())
        });
    let rule = "AT+QSMTPPUT (GSM_SMTP_ATC §2.2.13)";
    let secs = module_seconds("send_timeout", o.send_timeout, lo..=hi, rule)?;
    let send_timeout = SendTimeout::new(secs).map_err(|_| {
        out_of_range(
            "send_timeout",
            i64::from(secs),
            i64::from(SendTimeout::MIN),
            i64::from(SendTimeout::MAX),
        )
    })?;
    let secs = module_seconds(
        "transfer_timeout",
        o.transfer_timeout,
        TransferTimeout::MIN..=TransferTimeout::MAX,
        "AT+QSMTPBODY/AT+QSMTPATT (§2.2.8, §2.2.9)",
    )?;
    let transfer_timeout = TransferTimeout::new(secs).map_err(|_| {
        out_of_range(
            "transfer_timeout",
            i64::from(secs),
            i64::from(TransferTimeout::MIN),
            i64::from(TransferTimeout::MAX),
        )
    })?;
    let ssl_context = SslContext::new(o.ssl_context).map_err(|_| {
        out_of_range(
            "ssl_context",
            i64::from(o.ssl_context),
            i64::from(SslContext::MIN),
            i64::from(SslContext::MAX),
        )
    })?;
    let cipher = match &account.tls.ciphers {
        CipherSuites::Any => CipherSuite::All,
        CipherSuites::Only(names) => match names.as_slice() {
            [] => {
                return Err(MailError::invalid("tls.ciphers", "names no cipher suite"));
            }
            [name] => CipherSuite::from_iana_name(name).ok_or_else(|| {
                MailError::unsupported(format!(
                    "cipher suite {name} (SMTPS note Table 2 lists the module's)"
                ))
            })?,
            _ => {
                return Err(MailError::unsupported(
                    "more than one cipher suite: the SMTPS note (§2.2.1) does not say how \
                     a list is written; name one, or allow any",
                ));
            }
        },
    };
    let subject = cmd::set_subject(email.charset(), &email.subject_bytes())
        .map_err(|e| MailError::invalid("subject", e.to_string()))?;
    let attachments = stage_attachments(email, o, transfer_timeout)?;
    Ok(Plan {
        send_timeout,
        transfer_timeout,
        ssl_context,
        cipher,
        subject,
        attachments,
    })
}

/// How each attachment of `email` reaches the module, checked: no name a
/// module file could be taken for, no two `RAM:` files of one name, the
/// RAM route within [`QuectelOptions::ram_budget`], the UART route within
/// `<filesz>`.
fn stage_attachments(
    email: &Email,
    o: &QuectelOptions,
    floor: TransferTimeout,
) -> Result<Vec<Staging>, MailError> {
    let mut staged = Vec::with_capacity(email.attachments().len());
    let mut in_ram = 0u64;
    for (i, a) in email.attachments().iter().enumerate() {
        if let cellmail::AttachmentSource::Module(path) = a.source() {
            staged.push(Staging::ModuleFile(module_file_name(path)));
            continue;
        }
        let field = format!("attachments[{i}].name");
        let name = a.name();
        if let Some(p) = MODULE_FILE_PREFIXES.iter().find(|p| {
            name.get(..p.len())
                .is_some_and(|h| h.eq_ignore_ascii_case(p))
        }) {
            return Err(MailError::invalid(
                field,
                format!(
                    "{name:?} starts with {p:?}: the module would attach its own file \
                     of that name instead of these bytes (GSM_SMTP_ATC_V1.1 §2.2.9)"
                ),
            ));
        }
        let field = format!("attachments[{i}]");
        let Some(size) = a.size() else {
            return Err(MailError::invalid(field, "has no size to announce"));
        };
        staged.push(match o.attachment_route {
            AttachmentRoute::Ram => {
                let file = format!("RAM:{name}");
                if staged
                    .iter()
                    .any(|s| matches!(s, Staging::Ram { file: f, .. } if *f == file))
                {
                    return Err(MailError::invalid(
                        format!("{field}.name"),
                        format!(
                            "{name:?} is the name of an earlier attachment: the module keeps \
                             one RAM file per name"
                        ),
                    ));
                }
                in_ram += size;
                if in_ram > o.ram_budget {
                    return Err(MailError::invalid(
                        field,
                        format!(
                            "is {size} bytes, which brings the mail's RAM files to {in_ram} \
                             bytes, over the RAM budget of {} (QuectelOptions::ram_budget)",
                            o.ram_budget
                        ),
                    ));
                }
                let size = u32::try_from(size).map_err(|_| {
                    MailError::invalid(field, format!("is {size} bytes, too long to upload"))
                })?;
                Staging::Ram { file, size }
            }
            AttachmentRoute::UartSized => {
                let size = u32::try_from(size)
                    .ok()
                    .and_then(|s| AttachmentSize::new(s).ok())
                    .ok_or_else(|| {
                        MailError::invalid(
                            field,
                            format!(
                                "is {size} bytes, the module takes {} to {} through the UART",
                                AttachmentSize::MIN,
                                AttachmentSize::MAX
                            ),
                        )
                    })?;
                let secs = transfer_seconds(u64::from(size.get()), o.line_rate, floor.get());
                let timeout = TransferTimeout::new(secs).unwrap_or(floor);
                Staging::Uart { size, timeout }
            }
        });
    }
    Ok(staged)
}

/// One step of the TLS settings (SMTPS note §2.2.1, §3.2, §3.3): a setting,
/// or a certificate that must be on the module (uploaded to `RAM:` when the
/// host holds it) before the setting that names it.
#[derive(Clone, Debug)]
pub enum TlsStep {
    /// A setting.
    Set(Box<Exchange>),
    /// A certificate, then its setting.
    Cert {
        /// The file name it is uploaded under.
        file: &'static str,
        /// Where it comes from.
        source: CertSource,
        /// The setting's key, and how it names the certificate's path.
        key: &'static str,
        /// The setting for the path.
        setting: fn(SslContext, String) -> SslSetting,
    },
}

fn set(key: &'static str, setting: &SslSetting) -> TlsStep {
    TlsStep::Set(Box::new(Exchange::setting(key, cmd::ssl_set(setting))))
}

/// The TLS settings of `account`, in the note's order: the SMTP style; for
/// SSL or STARTTLS the version, the cipher suite, the level, the
/// certificates it needs, whether the module's clock is ignored, and the
/// context SMTPS uses.
///
/// A plain mail writes no setting here, as the plain flow of
/// GSM_SMTP_ATC_V1.1 §4 does (a module without SSL firmware may not know
/// the command): the mailer asks which style the module holds and undoes
/// only one an earlier user set ([`crate::policy::plain_needs_style_reset`]).
pub fn tls(account: &SmtpAccount, plan: &Plan) -> Vec<TlsStep> {
    let tls = &account.tls;
    let style = match tls.mode {
        TlsMode::None => SmtpStyle::Plain,
        TlsMode::Implicit => SmtpStyle::Ssl,
        TlsMode::StartTls => SmtpStyle::StartTls,
    };
    if style == SmtpStyle::Plain {
        return Vec::new();
    }
    let mut steps = vec![set("smtpstyle", &SslSetting::SmtpStyle(style))];
    let ctx = plan.ssl_context;
    steps.push(set(
        "sslversion",
        &SslSetting::Version(ctx, ssl_version(tls.version)),
    ));
    steps.push(set(
        "ciphersuite",
        &SslSetting::CipherSuite(ctx, plan.cipher),
    ));
    let level = match &tls.verify {
        Verify::None => SecLevel::None,
        Verify::Server { .. } => SecLevel::Server,
        Verify::Mutual { .. } => SecLevel::ServerAndClient,
    };
    steps.push(set("seclevel", &SslSetting::SecLevel(ctx, level)));
    let cert = |file, source: &CertSource, key, setting| TlsStep::Cert {
        file,
        source: source.clone(),
        key,
        setting,
    };
    match &tls.verify {
        Verify::None => {}
        Verify::Server { ca } => {
            steps.push(cert("cellmail-ca.pem", ca, "cacert", SslSetting::CaCert));
        }
        Verify::Mutual {
            ca,
            client_cert,
            client_key,
        } => {
            steps.push(cert("cellmail-ca.pem", ca, "cacert", SslSetting::CaCert));
            steps.push(cert(
                "cellmail-client.pem",
                client_cert,
                "clientcert",
                SslSetting::ClientCert,
            ));
            steps.push(cert(
                "cellmail-client.key",
                &client_key.0,
                "clientkey",
                SslSetting::ClientKey,
            ));
        }
    }
    steps.push(set(
        "ignorertctime",
        &SslSetting::IgnoreRtcTime(tls.ignore_module_clock),
    ));
    steps.push(set("smtpsctxi", &SslSetting::SmtpsContext(ctx)));
    steps
}

/// The settings-cache key of an uploaded certificate.
pub fn upload_key(file: &str) -> &'static str {
    match file {
        "cellmail-ca.pem" => "upload-ca",
        "cellmail-client.pem" => "upload-cert",
        _ => "upload-key",
    }
}

/// Server, authentication and sender (§2.2.1-§2.2.5): kept by the module
/// across mails.
pub fn account(account: &SmtpAccount, email: &Email) -> Vec<Exchange> {
    let mut plan = Vec::new();
    match &account.auth {
        Auth::None => plan.push(Exchange::setting("auth", cmd::set_authentication(false))),
        Auth::Login { user, password } => {
            plan.push(Exchange::setting("auth", cmd::set_authentication(true)));
            plan.push(Exchange::setting("user", cmd::set_user(user)));
            plan.push(Exchange::setting("password", cmd::set_password(password)));
        }
    }
    let sender = email.sender();
    plan.push(Exchange::setting(
        "addr",
        cmd::set_sender_address(sender.address.as_str()),
    ));
    plan.push(Exchange::setting(
        "name",
        cmd::set_sender_name(sender.name.as_deref().unwrap_or("")),
    ));
    plan.push(Exchange::setting(
        "server",
        cmd::set_server(&account.server.host, account.server.port),
    ));
    plan
}

/// `AT+QSMTPPUT=<timeout>` (§2.2.13).
pub fn put(timeout: SendTimeout) -> Command {
    cmd::send(Some(timeout))
}

/// How `AT+QSMTPATT` names a module file: `RAM:x` as the SMTPS note writes
/// it (§3), `/UFS/x` as GSM_SMTP_ATC_V1.1 §2.2.9 and §4.5 do, and `/SD/x`
/// (the SD card's `Picture` folder) as §2.2.9 allows on the M33 only.
pub(crate) fn module_file_name(path: &cellmail::ModulePath) -> String {
    match path.storage() {
        cellmail::Storage::Ufs => format!("/UFS/{}", path.name()),
        cellmail::Storage::Sd => format!("/SD/{}", path.name()),
        _ => path.as_str().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cellmail::{Attachment, Secret, ServerAddr, TlsSettings};
    use cellmail_session::exchange::lines;
    use std::time::Duration;

    fn account(tls: TlsSettings) -> SmtpAccount {
        SmtpAccount {
            server: ServerAddr::new("smtp.163.com", 25),
            auth: Auth::Login {
                user: "user".into(),
                password: Secret::new("pw"),
            },
            tls,
        }
    }

    fn email() -> Email {
        Email::builder()
            .from("a@163.com", None)
            .to("b@163.com", None)
            .subject("SMTP TEST")
            .body("Hello")
            .build()
            .unwrap()
    }

    fn field_of(e: MailError) -> String {
        match e {
            MailError::Invalid { field, .. } => field,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn options_out_of_range_are_refused_naming_the_field() {
        let caps = capabilities();
        let a = account(TlsSettings::default());
        let cases = [
            (
                QuectelOptions {
                    send_timeout: Duration::from_secs(99),
                    ..Default::default()
                },
                "send_timeout",
            ),
            (
                QuectelOptions {
                    transfer_timeout: Duration::ZERO,
                    ..Default::default()
                },
                "transfer_timeout",
            ),
            (
                QuectelOptions {
                    ssl_context: 6,
                    ..Default::default()
                },
                "ssl_context",
            ),
        ];
        for (options, field) in cases {
            let e = check(&email(), &a, &options, &caps).unwrap_err();
            assert_eq!(field_of(e), field);
        }
        assert!(check(&email(), &a, &QuectelOptions::default(), &caps).is_ok());
    }

    #[test]
    fn an_attachment_named_like_a_module_file_is_refused() {
        let mail = Email::builder()
            .from("a@163.com", None)
            .to("b@163.com", None)
            .subject("s")
            .body("b")
            .attach(Attachment::from_bytes("RAM:x.txt", b"x".to_vec()))
            .build()
            .unwrap();
        let e = check(
            &mail,
            &account(TlsSettings::default()),
            &QuectelOptions::default(),
            &capabilities(),
        )
        .unwrap_err();
        assert_eq!(field_of(e), "attachments[0].name");
    }

    #[test]
    fn sd_attachments_on_the_m33_only() {
        use cellmail::Storage;
        let with = |model: Option<&str>| {
            capabilities_for(&QuectelOptions {
                model: model.map(str::to_owned),
                ..QuectelOptions::default()
            })
            .storages
        };
        assert_eq!(with(Some("M33")), [Storage::Ram, Storage::Ufs, Storage::Sd]);
        assert_eq!(
            with(Some("Quectel_M33G")),
            [Storage::Ram, Storage::Ufs, Storage::Sd]
        );
        for model in [Some("M95"), Some("M66"), Some("M10"), Some("M85"), None] {
            assert_eq!(with(model), [Storage::Ram, Storage::Ufs], "{model:?}");
        }
        // Refused before a byte on an M95.
        let mail = Email::builder()
            .from("a@163.com", None)
            .to("b@163.com", None)
            .subject("s")
            .body("b")
            .attach(Attachment::from_module("SD:a.jpg").unwrap())
            .build()
            .unwrap();
        let caps = capabilities_for(&QuectelOptions {
            model: Some("M95".into()),
            ..QuectelOptions::default()
        });
        let e = cellmail::validate(&mail, &caps).unwrap_err();
        assert!(matches!(e, MailError::Unsupported { .. }), "{e:?}");
    }

    #[test]
    fn plain_smtp_sends_no_ssl_setting_as_v1_1_section_4_then_the_account() {
        let a = account(TlsSettings::default());
        let plan = check(&email(), &a, &QuectelOptions::default(), &capabilities()).unwrap();
        assert!(tls(&a, &plan).is_empty(), "no AT+QSSLCFG");
        assert_eq!(
            lines(&super::account(&a, &email())),
            [
                "AT+QSMTPCFG=1,1",
                "AT+QSMTPUSER=\"user\"",
                "AT+QSMTPPWD=\"***\"",
                "AT+QSMTPADDR=\"a@163.com\"",
                "AT+QSMTPNAME=\"\"",
                "AT+QSMTPSRV=\"smtp.163.com\",25",
            ]
        );
    }

    #[test]
    fn a_verified_server_needs_its_ca_before_the_setting_that_names_it() {
        let tls_settings = TlsSettings {
            mode: TlsMode::Implicit,
            verify: Verify::Server {
                ca: CertSource::Pem(b"-----BEGIN CERTIFICATE-----".to_vec()),
            },
            ..Default::default()
        };
        let a = account(tls_settings);
        let plan = check(&email(), &a, &QuectelOptions::default(), &capabilities()).unwrap();
        let kinds: Vec<&str> = tls(&a, &plan)
            .iter()
            .map(|s| match s {
                TlsStep::Set(_) => "set",
                TlsStep::Cert { key, .. } => key,
            })
            .collect();
        assert_eq!(kinds, ["set", "set", "set", "set", "cacert", "set", "set"]);
        assert_eq!(upload_key("cellmail-ca.pem"), "upload-ca");
    }
}
