//! The plans: a mail or a mailbox call, and what the host knows of the
//! module → the exchanges, in the manual's order (§4.1 bearer, §4.2 send,
//! §4.3 POP3). Pure: the settings the module holds are skipped by the driver,
//! what an earlier mail left is cleared here.

use cellmail::{
    Attachment, AttachmentSource, Auth, Charset, Email, Pop3Account, RecipientKind, SmtpAccount,
    TlsMode,
};
use cellmail_at::DataEnd;
use cellmail_session::{Exchange, ModuleState, Owing, Payload, Residue, Source, Then, Wait};

use super::Sim7000Options;
use super::commands::{self, AttachmentKind, EmailSsl};
use crate::common;

/// §4.1: the bearer's APN, `AT+SAPBR=1` to open it, `AT+SAPBR=2` to ask.
/// The open may be refused when the bearer is open already: the query
/// decides ([`policy::bearer_outcome`](super::policy::bearer_outcome)).
pub fn bearer(cid: u8, apn: &str) -> [Exchange; 3] {
    [
        Exchange::new(commands::bearer_apn(cid, apn)),
        Exchange::new(commands::bearer_open(cid)),
        Exchange::new(commands::bearer_query(cid)),
    ]
}

/// The settings SMTP and POP3 share (§3.2.1, §3.2.2): the bearer profile
/// and the server timeout.
pub fn common(options: &Sim7000Options) -> [Exchange; 2] {
    [
        Exchange::setting("cid", commands::set_cid(options.cid)),
        Exchange::setting(
            "timeout",
            commands::set_timeout(super::policy::server_secs(options.server_timeout)),
        ),
    ]
}

/// The key of the `AT+EMAILSSL` setting (one for SMTP and POP3).
pub const EMAIL_SSL: &str = "emailssl";

/// The settings that name a server, sent again after `AT+EMAILSSL` changes:
/// the SSL note sends `AT+EMAILSSL` before `AT+SMTPSRV` / `AT+POP3SRV` and
/// does not say whether a server set earlier follows a later change
/// (spec §2.1, OPEN); resending keeps the note's order on every change.
pub const SERVER_SETTINGS: [&str; 2] = ["server", "pop3srv"];

/// `AT+EMAILSSL=<n>` for an account's TLS mode (SIM800 SSL note §2.1, §3.1-
/// §3.4: after `AT+EMAILCID` / `AT+EMAILTO`, before the server): a setting,
/// skipped while the module holds it.
pub fn email_ssl(mode: TlsMode) -> Exchange {
    Exchange::setting(EMAIL_SSL, commands::set_email_ssl(EmailSsl::of(mode)))
}

/// The mail's charset as `AT+SMTPCS` names it (§3.2.12).
pub fn charset_name(charset: Charset) -> &'static str {
    match charset {
        Charset::Ascii => "ASCII",
        Charset::Utf8 => "UTF-8",
        Charset::Gb2312 => "GB2312",
        Charset::Big5 => "BIG5",
    }
}

/// The SMTP settings (§3.2.12, §3.2.3-§3.2.5): charset, server, login, sender.
pub fn smtp_settings(email: &Email, account: &SmtpAccount) -> [Exchange; 4] {
    let login = match &account.auth {
        Auth::None => None,
        Auth::Login { user, password } => Some((user.as_str(), password)),
    };
    let sender = email.sender();
    [
        Exchange::setting(
            "charset",
            commands::set_charset(charset_name(email.charset())),
        ),
        Exchange::setting(
            "server",
            common::set_smtp_server(&account.server.host, account.server.port),
        ),
        Exchange::setting("auth", common::set_smtp_auth(login)),
        Exchange::setting(
            "from",
            common::set_sender(sender.address.as_str(), sender.name.as_deref()),
        ),
    ]
}

/// How an attachment goes (§3.2.9): ASCII held in memory with lines of at
/// most 998 bytes as 7-bit text, anything else as base64.
pub fn attachment_kind(attachment: &Attachment) -> AttachmentKind {
    match attachment.source() {
        AttachmentSource::Memory(bytes)
            if bytes.is_ascii() && bytes.split(|&b| b == b'\n').all(|l| l.len() <= 998) =>
        {
            AttachmentKind::Text
        }
        _ => AttachmentKind::Binary,
    }
}

/// The mail on the module (§3.2.6-§3.2.9): the recipients an earlier mail
/// may have left deleted (a kind is known clear only once its delete
/// succeeded), the new ones, subject and body (hex of the mail's charset
/// when it is not ASCII, §3.2.7, §3.2.8), then the attachment's setting, or
/// `AT+SMTPFILE=0` when an earlier one may be set.
pub fn compose(email: &Email, state: &ModuleState) -> Vec<Exchange> {
    let mut plan: Vec<Exchange> = state
        .leftovers
        .maybe_set()
        .filter_map(|residue| match residue {
            Residue::Recipients(kind) => {
                Some(Exchange::new(common::delete_recipients_of(kind)).then(Then::Clears(residue)))
            }
            Residue::Attachments => None,
        })
        .collect();
    for kind in [RecipientKind::To, RecipientKind::Cc, RecipientKind::Bcc] {
        for (i, r) in email.recipients_of(kind).enumerate() {
            let index = u8::try_from(i).unwrap_or(u8::MAX);
            let add = common::add_recipient(kind, index, r.address.as_str(), r.name.as_deref());
            plan.push(Exchange::new(add).then(Then::Leaves(Residue::Recipients(kind))));
        }
    }
    let hex = email.charset() != Charset::Ascii;
    plan.push(Exchange::new(if hex {
        common::set_subject_hex(&email.subject_bytes())
    } else {
        common::set_subject(email.subject(), false)
    }));
    let body = if hex {
        common::hex(&email.body_bytes()).into_bytes()
    } else {
        email.body_bytes().into_owned()
    };
    plan.push(Exchange::new(commands::body(body.len())).payload(Payload {
        source: Source::Memory(body),
        end: DataEnd::Length,
        phase: None,
    }));
    match email.attachments().first() {
        Some(a) => plan.push(
            Exchange::new(commands::set_attachment(attachment_kind(a), a.name()))
                .then(Then::Leaves(Residue::Attachments)),
        ),
        None if state
            .leftovers
            .maybe_set()
            .any(|r| r == Residue::Attachments) =>
        {
            plan.push(
                Exchange::new(commands::no_attachment()).then(Then::Clears(Residue::Attachments)),
            )
        }
        None => {}
    }
    plan
}

/// `AT+SMTPSEND` (§3.2.10): the point of no return. Its `+SMTPSEND:
/// <code>` follows its `OK`, after the attachment's transfer: owed from the
/// `OK` on, waited for by the mailer.
pub fn send() -> Exchange {
    Exchange::new(commands::send())
        .wait(Wait::Final)
        .then(Then::Submits(Owing::Ok))
}

/// The POP3 server setting (§3.2.13); the login (`AT+POP3IN`) follows it.
pub fn pop3_server(account: &Pop3Account) -> Exchange {
    Exchange::setting(
        "pop3srv",
        common::set_pop3_server(
            &account.server.host,
            &account.user,
            &account.password,
            account.server.port,
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use cellmail::{Secret, ServerAddr};
    use cellmail_session::exchange::lines;

    fn account() -> SmtpAccount {
        SmtpAccount {
            server: ServerAddr::new("smtp.example.com", 25),
            auth: Auth::Login {
                user: "user".into(),
                password: Secret::new("pw"),
            },
            tls: Default::default(),
        }
    }

    fn mail(attach: bool) -> Email {
        let b = Email::builder()
            .from("a@example.com", None)
            .to("b@example.com", Some("B"))
            .subject("Hi")
            .body("Hello");
        let b = if attach {
            b.attach(Attachment::from_bytes("log.txt", b"line\n".to_vec()))
        } else {
            b
        };
        b.build().unwrap()
    }

    fn ran(state: &mut ModuleState, plan: &[Exchange]) {
        for ex in plan {
            state.handle_done(&ex.then, &ex.command.encode().unwrap());
        }
    }

    #[test]
    fn a_first_mail_clears_every_kind_and_sets_its_attachment() {
        let state = ModuleState::new();
        let mut plan = smtp_settings(&mail(true), &account()).to_vec();
        plan.extend(compose(&mail(true), &state));
        plan.push(send());
        assert_eq!(
            lines(&plan),
            [
                "AT+SMTPCS=\"ASCII\"",
                "AT+SMTPSRV=\"smtp.example.com\",25",
                "AT+SMTPAUTH=1,\"user\",\"***\"",
                "AT+SMTPFROM=\"a@example.com\"",
                "AT+SMTPRCPT=0",
                "AT+SMTPRCPT=1",
                "AT+SMTPRCPT=2",
                "AT+SMTPRCPT=0,0,\"b@example.com\",\"B\"",
                "AT+SMTPSUB=\"Hi\"",
                "AT+SMTPBODY=5",
                "AT+SMTPFILE=1,\"log.txt\",0",
                "AT+SMTPSEND",
            ]
        );
        assert_eq!(plan[9].payload.as_ref().map(|p| p.source.len()), Some(5));
    }

    #[test]
    fn a_second_mail_without_attachment_clears_the_first_ones() {
        let mut state = ModuleState::new();
        let first = compose(&mail(true), &state);
        ran(&mut state, &first);
        assert_eq!(
            lines(&compose(&mail(false), &state)),
            [
                "AT+SMTPRCPT=0",
                "AT+SMTPRCPT=0,0,\"b@example.com\",\"B\"",
                "AT+SMTPSUB=\"Hi\"",
                "AT+SMTPBODY=5",
                "AT+SMTPFILE=0",
            ]
        );
        let second = compose(&mail(false), &state);
        ran(&mut state, &second);
        assert!(!lines(&compose(&mail(false), &state)).contains(&"AT+SMTPFILE=0".to_owned()));
    }

    #[test]
    fn non_ascii_goes_as_hex() {
        let email = Email::builder()
            .from("a@example.com", None)
            .to("b@example.com", None)
            .charset(Charset::Utf8)
            .subject("Grüße")
            .body("ü")
            .build()
            .unwrap();
        assert_eq!(
            smtp_settings(&email, &account())[0].label(),
            "AT+SMTPCS=\"UTF-8\""
        );
        let plan = compose(&email, &ModuleState::new());
        let body = plan.iter().find_map(|e| e.payload.as_ref()).unwrap();
        assert_eq!(body.source, Source::Memory(b"C3BC".to_vec()));
    }

    #[test]
    fn text_in_memory_goes_as_7bit_anything_else_as_base64() {
        let text = Attachment::from_bytes("a.txt", b"ok\r\n".to_vec());
        let long = Attachment::from_bytes("b.txt", vec![b'x'; 999]);
        let binary = Attachment::from_bytes("c.bin", vec![0xff]);
        assert_eq!(attachment_kind(&text), AttachmentKind::Text);
        assert_eq!(attachment_kind(&long), AttachmentKind::Binary);
        assert_eq!(attachment_kind(&binary), AttachmentKind::Binary);
    }

    #[test]
    fn the_bearer_follows_the_manual() {
        assert_eq!(
            lines(&bearer(1, "CMNET")),
            [
                "AT+SAPBR=3,1,\"APN\",\"CMNET\"",
                "AT+SAPBR=1,1",
                "AT+SAPBR=2,1"
            ]
        );
        let options = Sim7000Options::default();
        assert_eq!(lines(&common(&options)), ["AT+EMAILCID=1", "AT+EMAILTO=30"]);
    }

    #[test]
    fn email_ssl_is_one_setting_for_both_services() {
        let lines = |m| email_ssl(m).label();
        assert_eq!(lines(TlsMode::None), "AT+EMAILSSL=0");
        assert_eq!(lines(TlsMode::Implicit), "AT+EMAILSSL=1");
        assert_eq!(lines(TlsMode::StartTls), "AT+EMAILSSL=2");
        assert_eq!(email_ssl(TlsMode::Implicit).then, Then::Setting(EMAIL_SSL));
    }

    #[test]
    fn the_send_owes_its_result_from_its_ok() {
        assert_eq!(send().then, Then::Submits(Owing::Ok));
    }
}
