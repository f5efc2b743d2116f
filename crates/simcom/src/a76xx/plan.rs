//! The A76xx send plan: pure. One mail and its account become the list of
//! steps the mailer runs, in the order chapter 32 needs them; the mailer
//! only executes it. Everything the module would refuse is refused here
//! first (`MailError::Invalid` / `Unsupported`), before any byte is sent.

use std::collections::HashSet;

use cellmail::{
    AttachmentSource, Auth, CertSource, Email, MailError, RecipientKind, SmtpAccount, TlsMode,
    TlsVersion, Verify,
};
use cellmail_at::Command;

use super::commands::{self as cmd, ContextKey, ServerType};
use super::setup::{self, SslAuthMode, SslVersion};

/// One step of a plan.
#[derive(Clone, Debug)]
pub enum Step {
    /// A command answered `OK`.
    Exec(Command),
    /// A command with a `>` prompt, then exactly these bytes.
    Data(Command, Vec<u8>),
    /// A file deletion whose `ERROR` (no such file) is fine: `AT+CFTRANRX`
    /// refuses an existing name (§13.2.1 note 1).
    DeleteQuietly(Command),
    /// Attachment `index` of the mail uploaded to `path` with `AT+CFTRANRX`.
    Upload {
        /// The attachment's position in the mail.
        index: usize,
        /// The module path it goes to.
        path: String,
    },
}

/// What a mail becomes.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    /// The steps up to (not including) `AT+CSMTPSSEND`.
    pub steps: Vec<Step>,
    /// The files this plan uploads, deleted again after the send.
    pub uploaded: Vec<String>,
}

/// Where the mailer's contexts are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Contexts {
    /// The PDP context (`AT+CSMTPSCFG="pdpCtxId"`, 1-15).
    pub pdp: u8,
    /// The SSL context (`AT+CSMTPSCFG="sslCtxId"`, 0-9).
    pub ssl: u8,
}

/// The CA certificate's name in the module's certificate store.
pub const CA_NAME: &str = "cellmail-ca.pem";

fn ssl_version(v: TlsVersion) -> SslVersion {
    match v {
        TlsVersion::Ssl3 => SslVersion::Ssl3,
        TlsVersion::Tls1_0 => SslVersion::Tls10,
        TlsVersion::Tls1_1 => SslVersion::Tls11,
        TlsVersion::Tls1_2 => SslVersion::Tls12,
        TlsVersion::Any => SslVersion::All,
    }
}

/// The SSL context steps for `account` (none for plain SMTP).
fn ssl_steps(account: &SmtpAccount, ctx: u8, steps: &mut Vec<Step>) -> Result<(), MailError> {
    let tls = &account.tls;
    if tls.mode == TlsMode::None {
        return Ok(());
    }
    steps.push(Step::Exec(setup::ssl_version(
        ctx,
        ssl_version(tls.version),
    )));
    match &tls.verify {
        Verify::None => steps.push(Step::Exec(setup::ssl_auth_mode(ctx, SslAuthMode::None))),
        Verify::Server {
            ca: CertSource::Pem(pem),
        } => {
            if !setup::CERT_SIZE.contains(&pem.len()) {
                return Err(MailError::invalid(
                    "tls.verify.ca",
                    format!(
                        "the certificate is {} bytes, the module takes 1-10240 (AT+CCERTDOWN)",
                        pem.len()
                    ),
                ));
            }
            steps.push(Step::DeleteQuietly(setup::cert_delete(CA_NAME)));
            steps.push(Step::Data(
                setup::cert_download(CA_NAME, pem.len()),
                pem.clone(),
            ));
            steps.push(Step::Exec(setup::ssl_ca_cert(ctx, CA_NAME)));
            steps.push(Step::Exec(setup::ssl_auth_mode(ctx, SslAuthMode::Server)));
        }
        Verify::Server {
            ca: CertSource::Module(_),
        } => {
            return Err(MailError::unsupported(
                "a CA certificate from the module's file system (give its PEM bytes: \
                 the A76xx takes certificates through AT+CCERTDOWN)",
            ));
        }
        _ => {
            return Err(MailError::unsupported(
                "client certificates on the A76xx dialect (not implemented yet)",
            ));
        }
    }
    steps.push(Step::Exec(setup::ssl_ignore_local_time(
        ctx,
        tls.ignore_module_clock,
    )));
    Ok(())
}

/// The module path an uploaded attachment goes to.
pub fn upload_path(name: &str) -> String {
    format!("C:/{name}")
}

/// The plan of one mail. `email` was checked against the capabilities.
///
/// ```
/// use cellmail::{Email, ServerAddr, SmtpAccount};
/// use cellmail_simcom::a76xx::plan::{plan, Contexts, Step};
/// let email = Email::builder().from("a@b.c", None).to("d@e.f", None).subject("Hi").body("x").build()?;
/// let account = SmtpAccount { server: ServerAddr::new("smtp.e.f", 25), auth: Default::default(), tls: Default::default() };
/// let p = plan(&email, &account, Contexts { pdp: 1, ssl: 0 })?;
/// assert!(p.steps.iter().any(|s| matches!(s, Step::Data(c, d) if c.to_string() == "AT+CSMTPSSUB=2,\"us-ascii\"" && d == b"Hi")));
/// # Ok::<(), cellmail::MailError>(())
/// ```
pub fn plan(email: &Email, account: &SmtpAccount, ctx: Contexts) -> Result<Plan, MailError> {
    let mut steps = Vec::new();
    ssl_steps(account, ctx.ssl, &mut steps)?;
    steps.push(Step::Exec(cmd::set_config(ContextKey::PdpCtxId, ctx.pdp)));
    if account.tls.mode != TlsMode::None {
        steps.push(Step::Exec(cmd::set_config(ContextKey::SslCtxId, ctx.ssl)));
    }
    steps.push(Step::Exec(cmd::set_server(
        &account.server.host,
        account.server.port,
        Some(ServerType::for_tls(account.tls.mode)),
    )));
    steps.push(Step::Exec(match &account.auth {
        Auth::None => cmd::set_auth(None),
        Auth::Login { user, password } => cmd::set_auth(Some((user, password))),
    }));
    let sender = email.sender();
    steps.push(Step::Exec(cmd::set_sender(
        sender.address.as_str(),
        sender.name.as_deref(),
    )));
    steps.push(Step::Exec(cmd::clear_recipients()));
    for kind in [RecipientKind::To, RecipientKind::Cc, RecipientKind::Bcc] {
        for (i, r) in email.recipients_of(kind).enumerate() {
            let field = format!("{}[{i}]", kind.as_str());
            let index = cmd::check_index(&field, i, cmd::RECIPIENT_INDEX)?;
            steps.push(Step::Exec(cmd::set_recipient(
                kind,
                index,
                r.address.as_str(),
                r.name.as_deref(),
            )));
        }
    }
    let charset = email.charset().mime_name();
    let subject = email.subject_bytes();
    steps.push(if subject.is_empty() {
        Step::Exec(cmd::clear_subject())
    } else {
        Step::Data(
            cmd::set_subject(subject.len(), Some(charset)),
            subject.into_owned(),
        )
    });
    steps.push(Step::Exec(cmd::set_charset(charset)));
    let body = email.body_bytes();
    steps.push(if body.is_empty() {
        Step::Exec(cmd::clear_body())
    } else {
        Step::Data(cmd::set_body(body.len()), body.into_owned())
    });
    steps.push(Step::Exec(cmd::clear_attachments()));
    let mut uploaded = Vec::new();
    let mut names = HashSet::new();
    for (i, a) in email.attachments().iter().enumerate() {
        let field = format!("attachments[{i}]");
        let slot = cmd::check_index(&field, i + 1, cmd::ATTACHMENT_INDEX)?;
        // §32.2.9: "two attachments may not have the same file name" (604).
        if !names.insert(a.name().to_owned()) {
            return Err(MailError::invalid(
                format!("{field}.name"),
                format!("{:?} is the name of an earlier attachment", a.name()),
            ));
        }
        let path = match a.source() {
            AttachmentSource::Module(p) => p.as_str().to_owned(),
            AttachmentSource::Memory(_) | AttachmentSource::HostFile { .. } => {
                let path = upload_path(a.name());
                steps.push(Step::DeleteQuietly(setup::file_delete(&path)));
                steps.push(Step::Upload {
                    index: i,
                    path: path.clone(),
                });
                uploaded.push(path.clone());
                path
            }
        };
        steps.push(Step::Exec(cmd::set_attachment(slot, &path)));
    }
    Ok(Plan { steps, uploaded })
}

#[cfg(test)]
mod tests {
    use super::*;
    use cellmail::{Attachment, Secret, ServerAddr, TlsSettings};

    fn account(mode: TlsMode, verify: Verify) -> SmtpAccount {
        SmtpAccount {
            server: ServerAddr::new("smtp.example.com", 465),
            auth: Auth::Login {
                user: "u".into(),
                password: Secret::new("pw"),
            },
            tls: TlsSettings {
                mode,
                verify,
                ..Default::default()
            },
        }
    }

    fn lines(p: &Plan) -> Vec<String> {
        p.steps
            .iter()
            .map(|s| match s {
                Step::Exec(c) | Step::Data(c, _) | Step::DeleteQuietly(c) => c.to_string(),
                Step::Upload { path, .. } => format!("upload {path}"),
            })
            .collect()
    }

    fn email() -> Email {
        Email::builder()
            .from("a@example.com", Some("A"))
            .to("b@example.com", None)
            .cc("c@example.com", Some("C"))
            .subject("Hello")
            .body("Body")
            .attach(Attachment::from_bytes("log.txt", b"1234".to_vec()))
            .build()
            .unwrap()
    }

    const CTX: Contexts = Contexts { pdp: 1, ssl: 0 };

    #[test]
    fn a_plain_mail_in_the_chapter_order() {
        let p = plan(&email(), &account(TlsMode::None, Verify::None), CTX).unwrap();
        assert_eq!(
            lines(&p),
            [
                "AT+CSMTPSCFG=\"pdpCtxId\",1",
                "AT+CSMTPSSRV=\"smtp.example.com\",465,1",
                "AT+CSMTPSAUTH=1,\"u\",\"***\"",
                "AT+CSMTPSFROM=\"a@example.com\",\"A\"",
                "AT+CSMTPSRCPT",
                "AT+CSMTPSRCPT=0,0,\"b@example.com\"",
                "AT+CSMTPSRCPT=1,0,\"c@example.com\",\"C\"",
                "AT+CSMTPSSUB=5,\"us-ascii\"",
                "AT+CSMTPSBCH=\"us-ascii\"",
                "AT+CSMTPSBODY=4",
                "AT+CSMTPSFILE",
                "AT+FSDEL=\"C:/log.txt\"",
                "upload C:/log.txt",
                "AT+CSMTPSFILE=1,\"C:/log.txt\"",
            ]
        );
        assert_eq!(p.uploaded, ["C:/log.txt"]);
    }

    #[test]
    fn tls_modes_choose_the_server_type_and_the_ssl_context() {
        let p = plan(&email(), &account(TlsMode::StartTls, Verify::None), CTX).unwrap();
        let l = lines(&p);
        assert_eq!(l[0], "AT+CSSLCFG=\"sslversion\",0,4");
        assert_eq!(l[1], "AT+CSSLCFG=\"authmode\",0,0");
        assert!(l.contains(&"AT+CSMTPSCFG=\"sslCtxId\",0".to_owned()));
        assert!(l.contains(&"AT+CSMTPSSRV=\"smtp.example.com\",465,3".to_owned()));
        let p = plan(&email(), &account(TlsMode::Implicit, Verify::None), CTX).unwrap();
        assert!(lines(&p).contains(&"AT+CSMTPSSRV=\"smtp.example.com\",465,2".to_owned()));
    }

    #[test]
    fn a_ca_is_downloaded_and_named() {
        let verify = Verify::Server {
            ca: CertSource::Pem(b"-----BEGIN CERTIFICATE-----".to_vec()),
        };
        let p = plan(&email(), &account(TlsMode::Implicit, verify), CTX).unwrap();
        let l = lines(&p);
        assert!(l.contains(&"AT+CCERTDOWN=\"cellmail-ca.pem\",27".to_owned()));
        assert!(l.contains(&"AT+CSSLCFG=\"cacert\",0,\"cellmail-ca.pem\"".to_owned()));
        assert!(l.contains(&"AT+CSSLCFG=\"authmode\",0,1".to_owned()));
        let empty = Verify::Server {
            ca: CertSource::Pem(Vec::new()),
        };
        assert!(matches!(
            plan(&email(), &account(TlsMode::Implicit, empty), CTX),
            Err(MailError::Invalid { .. })
        ));
    }

    #[test]
    fn what_the_module_refuses_is_refused_first() {
        let mut b = Email::builder().from("a@example.com", None);
        for i in 0..6 {
            b = b.to(&format!("r{i}@example.com"), None);
        }
        let e = plan(
            &b.build().unwrap(),
            &account(TlsMode::None, Verify::None),
            CTX,
        );
        assert!(matches!(e, Err(MailError::Invalid { ref field, .. }) if field == "to[5]"));
        let twice = Email::builder()
            .from("a@example.com", None)
            .to("b@example.com", None)
            .attach(Attachment::from_bytes("x.txt", b"1".to_vec()))
            .attach(Attachment::from_bytes("x.txt", b"2".to_vec()))
            .build()
            .unwrap();
        let e = plan(&twice, &account(TlsMode::None, Verify::None), CTX);
        assert!(
            matches!(e, Err(MailError::Invalid { ref field, .. }) if field == "attachments[1].name")
        );
    }

    #[test]
    fn module_files_are_attached_directly() {
        let email = Email::builder()
            .from("a@example.com", None)
            .to("b@example.com", None)
            .attach(Attachment::from_module("C:/pic.jpg").unwrap())
            .build()
            .unwrap();
        let p = plan(&email, &account(TlsMode::None, Verify::None), CTX).unwrap();
        assert!(p.uploaded.is_empty());
        assert_eq!(lines(&p).last().unwrap(), "AT+CSMTPSFILE=1,\"C:/pic.jpg\"");
    }
}
