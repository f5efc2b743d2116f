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
/// UFS (v1.1 §2.2.9, §4.5). `Storage::Sd` is listed because the dialect also
/// drives the M33, the only module v1.1 §2.2.9 allows SD (its `Picture`
/// folder) for; the M10, M66, M85 and M95 have no SD attachments in either
/// manual, and will answer `+QSMTPATT: -12` (`Invalid { field: "attachments" }`).
///
/// From the manuals: 20 recipients (v1.1 §2.2.6), subject 100 ASCII or 200
/// hex characters (§2.2.7), body 10 KB (§2.2.8), user and password 50
/// (§2.2.1, §2.2.2), attachments 0-102400 bytes through the UART (§2.2.9),
/// `AT+QSMTPPUT` timeout 100-48000 s (§2.2.13).
///
/// **Not in the manual**: neither manual gives a maximum length for the
/// sender and recipient addresses, the sender name, the server name or an
/// attachment's file name. The limits below (100 characters each) are
/// conservative host-side choices, checked before sending so a mail is
/// refused here rather than by the module. The 10 attachments are the
/// `<fileindex>` range of `AT+QSMTPDATT` (§2.2.10).
pub fn capabilities() -> Capabilities {
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
        storages: vec![Storage::Ram, Storage::Ufs, Storage::Sd],
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
            // §2.2.9: `<filesz>` 0-102400.
            attachment_bytes_serial: u64::from(AttachmentSize::MAX),
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
    /// `<filesz>` per attachment through the UART (`None` for module files).
    pub sizes: Vec<Option<AttachmentSize>>,
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
    let mut sizes = Vec::with_capacity(email.attachments().len());
    for (i, a) in email.attachments().iter().enumerate() {
        if !a.goes_over_serial() {
            sizes.push(None);
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
        sizes.push(Some(size));
    }
    Ok(Plan {
        send_timeout,
        transfer_timeout,
        ssl_context,
        cipher,
        subject,
        sizes,
    })
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
pub fn tls(account: &SmtpAccount, plan: &Plan) -> Vec<TlsStep> {
    let tls = &account.tls;
    let style = match tls.mode {
        TlsMode::None => SmtpStyle::Plain,
        TlsMode::Implicit => SmtpStyle::Ssl,
        TlsMode::StartTls => SmtpStyle::StartTls,
    };
    let mut steps = vec![set("smtpstyle", &SslSetting::SmtpStyle(style))];
    if style == SmtpStyle::Plain {
        return steps;
    }
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
    fn plain_smtp_sets_only_the_style_then_the_account() {
        let a = account(TlsSettings::default());
        let plan = check(&email(), &a, &QuectelOptions::default(), &capabilities()).unwrap();
        let steps = tls(&a, &plan);
        assert_eq!(steps.len(), 1);
        let TlsStep::Set(style) = &steps[0] else {
            panic!("a setting")
        };
        assert_eq!(style.label(), "AT+QSSLCFG=\"smtpstyle\",0");
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
