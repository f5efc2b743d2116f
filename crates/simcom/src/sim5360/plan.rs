//! The plans: a mail or a mailbox call, and what the host knows of the
//! module → the exchanges, in the note's order (§3.1 send, §4 POP3). Pure:
//! the settings the module holds are skipped by the driver, what an earlier
//! mail left is cleared here.

use std::time::Duration;

use cellmail::{AttachmentSource, Auth, Email, MailError, Pop3Account, RecipientKind, SmtpAccount};
use cellmail_session::{Exchange, ModuleState, Owing, Residue, Service, Then, Wait};

use super::commands::{self, POP3_RESULT, SMTP_RESULT};
use super::files::{self, MailStorage};
use crate::common;

/// What one step of a send is, for the policy to read a refusal by.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// A setting: the context, the server, the login, the sender.
    Setting,
    /// Clearing what an earlier mail left.
    CleanUp,
    /// A recipient.
    Recipient,
    /// The subject or the body.
    Text,
    /// Into an attachment's folder (`AT+FSCD`).
    Folder,
    /// An attachment selected (`AT+SMTPFILE`), with its module path.
    Attachment(String),
    /// `AT+SMTPSEND`: the mail goes to the server.
    Send,
}

/// One exchange of a plan, with what it is.
#[derive(Clone, Debug)]
pub struct Planned {
    /// What it is.
    pub step: Step,
    /// The exchange.
    pub exchange: Exchange,
}

fn planned(step: Step, exchange: Exchange) -> Planned {
    Planned { step, exchange }
}

/// `AT+CGSOCKCONT=1,...` when an APN is given: a setting.
pub fn context(apn: Option<&str>) -> Option<Exchange> {
    apn.map(|apn| Exchange::setting("context", commands::socket_context(1, apn)))
}

/// A mail to the module and to the server (§3.1): the settings, the
/// recipients an earlier mail left deleted, the new ones, subject, body, the
/// attachments from the module's file system (one `AT+FSCD` per folder),
/// then `AT+SMTPSEND`, waited for until its final `+SMTP:` result.
///
/// The mail's text is checked here, before any byte: §1 takes ASCII only.
pub fn send(
    email: &Email,
    account: &SmtpAccount,
    apn: Option<&str>,
    result_timeout: Duration,
    state: &ModuleState,
) -> Result<Vec<Planned>, MailError> {
    let subject = email.subject_bytes();
    let subject = std::str::from_utf8(&subject)
        .map_err(|_| MailError::unsupported("a subject that is not ASCII"))?;
    let body = email.body_bytes();
    let body = std::str::from_utf8(&body)
        .map_err(|_| MailError::unsupported("a body that is not ASCII"))?;
    let mut plan: Vec<Planned> = context(apn)
        .map(|c| planned(Step::Setting, c))
        .into_iter()
        .collect();
    let login = match &account.auth {
        Auth::None => None,
        Auth::Login { user, password } => Some((user.as_str(), password)),
    };
    let sender = email.sender();
    for (key, command) in [
        (
            "server",
            common::set_smtp_server(&account.server.host, account.server.port),
        ),
        ("auth", common::set_smtp_auth(login)),
        (
            "from",
            common::set_sender(sender.address.as_str(), sender.name.as_deref()),
        ),
    ] {
        plan.push(planned(Step::Setting, Exchange::setting(key, command)));
    }
    // A kind is known clear only once its delete succeeded.
    for residue in state.leftovers.maybe_set() {
        if let Residue::Recipients(kind) = residue {
            let delete =
                Exchange::new(common::delete_recipients_of(kind)).then(Then::Clears(residue));
            plan.push(planned(Step::CleanUp, delete));
        }
    }
    for kind in [RecipientKind::To, RecipientKind::Cc, RecipientKind::Bcc] {
        for (i, r) in email.recipients_of(kind).enumerate() {
            let index = u8::try_from(i).unwrap_or(u8::MAX);
            let add = common::add_recipient(kind, index, r.address.as_str(), r.name.as_deref());
            let add = Exchange::new(add).then(Then::Leaves(Residue::Recipients(kind)));
            plan.push(planned(Step::Recipient, add));
        }
    }
    plan.push(planned(
        Step::Text,
        Exchange::new(common::set_subject(subject, false)),
    ));
    plan.push(planned(Step::Text, Exchange::new(commands::set_body(body))));
    if state
        .leftovers
        .maybe_set()
        .any(|r| r == Residue::Attachments)
    {
        let delete =
            Exchange::new(commands::delete_attachments()).then(Then::Clears(Residue::Attachments));
        plan.push(planned(Step::CleanUp, delete));
    }
    let mut folder: Option<&str> = None;
    for (i, a) in email.attachments().iter().enumerate() {
        let AttachmentSource::Module(path) = a.source() else {
            return Err(MailError::unsupported(
                "attachments not on the module's file system",
            ));
        };
        let dir = path.folder().unwrap_or("C:");
        if folder != Some(dir) {
            plan.push(planned(
                Step::Folder,
                Exchange::new(commands::change_directory(dir)),
            ));
            folder = Some(dir);
        }
        let index = u8::try_from(i + 1).unwrap_or(u8::MAX);
        let set = Exchange::new(commands::set_attachment(index, path.name()))
            .then(Then::Leaves(Residue::Attachments));
        plan.push(planned(Step::Attachment(path.to_string()), set));
    }
    let send = Exchange::new(commands::send())
        .wait(Wait::Urc {
            prefix: SMTP_RESULT,
            timeout: result_timeout,
        })
        .then(Then::Submits(Owing::FirstByte));
    plan.push(planned(Step::Send, send));
    Ok(plan)
}

/// The settings of a POP3 login (§4.1): the context, the server; then
/// `AT+POP3IN`, whose `+POP3:` result comes before or after its `OK`.
pub fn login(account: &Pop3Account, apn: Option<&str>) -> Vec<Exchange> {
    let server = commands::set_pop3_server(
        &account.server.host,
        &account.user,
        &account.password,
        account.server.port,
    );
    context(apn)
        .into_iter()
        .chain([
            Exchange::setting("pop3srv", server),
            Exchange::new(commands::login()),
        ])
        .collect()
}

/// `AT+FSLOCA=<storage>`, then `AT+POP3GET=<n>` (§4.4), which owes its
/// `+POP3:` result after `OK` (the saved path follows it, a line of its own).
pub fn get(id: u32, storage: MailStorage, result_timeout: Duration) -> [Exchange; 2] {
    [
        Exchange::new(storage.command()),
        Exchange::new(commands::get(id))
            .wait(Wait::Urc {
                prefix: POP3_RESULT,
                timeout: result_timeout,
            })
            .then(Then::Owes(Service::Pop3)),
    ]
}

/// Into the folder `AT+POP3GET` named and its listing (§4.7 lists
/// `C:/Email` the same way): `AT+FSCD=<folder>`, `AT+FSLS`.
pub fn list_saved(folder: &str) -> [Exchange; 2] {
    [
        Exchange::new(commands::change_directory(folder.trim_end_matches('/'))),
        Exchange::new(commands::list_directory()),
    ]
}

/// The size of a listed file of the current folder: `AT+FSATTRI=<file>`.
pub fn file_size(file: &str) -> Exchange {
    Exchange::new(commands::file_attributes(file))
}

/// [`SavedMail::KeepAttachments`](files::SavedMail::KeepAttachments), in the saved folder after its listing:
/// the text file deleted, then, when no attachment is left in the folder,
/// back to the storage's `Email` folder and the folder removed.
pub fn tidy(
    folder: &str,
    text_file: &str,
    storage: MailStorage,
    attachments: bool,
) -> Vec<Exchange> {
    let mut plan = vec![Exchange::new(commands::delete_file(text_file))];
    if let (false, Some(name)) = (attachments, files::folder_name(folder)) {
        let email = storage.folder().trim_end_matches('/');
        plan.push(Exchange::new(commands::change_directory(email)));
        plan.push(Exchange::new(commands::remove_directory(name)));
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use cellmail::{Attachment, Secret, ServerAddr};
    use cellmail_session::exchange::lines;

    fn account() -> SmtpAccount {
        SmtpAccount {
            server: ServerAddr::new("smtp.server.com", 25),
            auth: Auth::Login {
                user: "UserName".into(),
                password: Secret::new("Password"),
            },
            tls: Default::default(),
        }
    }

    /// The note's first e-mail (§3.1).
    fn first() -> Email {
        Email::builder()
            .from("UserName@server.com", Some("PresentName"))
            .to("ToAddr@server.com", Some("ToName"))
            .cc("CcAddr@server.com", Some("CcName"))
            .subject("First Email")
            .body("This is the first Email!")
            .attach(Attachment::from_module("C:/Picture/20100202_100006.jpg").unwrap())
            .attach(Attachment::from_module("C:/Picture/20100202_100016.jpg").unwrap())
            .build()
            .unwrap()
    }

    fn exchanges(plan: &[Planned]) -> Vec<Exchange> {
        plan.iter().map(|p| p.exchange.clone()).collect()
    }

    /// Runs a plan on the state as if every exchange succeeded.
    fn ran(state: &mut ModuleState, plan: &[Planned]) {
        for p in plan {
            let bytes = p.exchange.command.encode().unwrap();
            state.handle_done(&p.exchange.then, &bytes);
        }
    }

    #[test]
    fn the_first_mail_follows_the_note() {
        let state = ModuleState::new();
        let plan = send(
            &first(),
            &account(),
            Some("3GNET"),
            Duration::from_secs(1),
            &state,
        )
        .unwrap();
        assert_eq!(
            lines(&exchanges(&plan)),
            [
                "AT+CGSOCKCONT=1,\"IP\",\"3GNET\",\"0.0.0.0\",0,0",
                "AT+SMTPSRV=\"smtp.server.com\",25",
                "AT+SMTPAUTH=1,\"UserName\",\"***\"",
                "AT+SMTPFROM=\"UserName@server.com\",\"PresentName\"",
                "AT+SMTPRCPT=0",
                "AT+SMTPRCPT=1",
                "AT+SMTPRCPT=2",
                "AT+SMTPRCPT=0,0,\"ToAddr@server.com\",\"ToName\"",
                "AT+SMTPRCPT=1,0,\"CcAddr@server.com\",\"CcName\"",
                "AT+SMTPSUB=\"First Email\"",
                "AT+SMTPBODY=\"This is the first Email!\"",
                "AT+SMTPFILE",
                "AT+FSCD=C:/Picture",
                "AT+SMTPFILE=1,\"20100202_100006.jpg\"",
                "AT+SMTPFILE=2,\"20100202_100016.jpg\"",
                "AT+SMTPSEND",
            ]
        );
        assert_eq!(plan.last().map(|p| &p.step), Some(&Step::Send));
        assert_eq!(
            plan.last().map(|p| &p.exchange.then),
            Some(&Then::Submits(Owing::FirstByte))
        );
        assert_eq!(
            plan[13].step,
            Step::Attachment("C:/Picture/20100202_100006.jpg".into())
        );
    }

    #[test]
    fn a_second_mail_clears_only_what_the_first_left() {
        let mut state = ModuleState::new();
        let first_plan = send(&first(), &account(), None, Duration::from_secs(1), &state).unwrap();
        ran(&mut state, &first_plan);
        let second = Email::builder()
            .from("UserName@server.com", Some("PresentName"))
            .bcc("b@server.com", None)
            .subject("Two")
            .body("second")
            .build()
            .unwrap();
        let plan = send(&second, &account(), None, Duration::from_secs(1), &state).unwrap();
        // The settings are in the plan; the driver skips those the module holds.
        let skipped: Vec<bool> = plan
            .iter()
            .map(|p| state.skips(&p.exchange.then, &p.exchange.command.encode().unwrap()))
            .collect();
        assert_eq!(&skipped[..3], [true, true, true]);
        assert_eq!(
            lines(&exchanges(&plan[3..])),
            [
                "AT+SMTPRCPT=0",
                "AT+SMTPRCPT=1",
                "AT+SMTPRCPT=2,0,\"b@server.com\"",
                "AT+SMTPSUB=\"Two\"",
                "AT+SMTPBODY=\"second\"",
                "AT+SMTPFILE",
                "AT+SMTPSEND",
            ]
        );
    }

    #[test]
    fn after_a_reboot_mid_mail_everything_is_set_again() {
        let mut state = ModuleState::new();
        let plan = send(&first(), &account(), None, Duration::from_secs(1), &state).unwrap();
        ran(&mut state, &plan[..5]);
        state.handle_reboot();
        let again = send(&first(), &account(), None, Duration::from_secs(1), &state).unwrap();
        assert_eq!(lines(&exchanges(&again)), lines(&exchanges(&plan)));
        assert!(
            again
                .iter()
                .all(|p| !state.skips(&p.exchange.then, &p.exchange.command.encode().unwrap()))
        );
    }

    #[test]
    fn one_folder_change_per_folder() {
        let email = Email::builder()
            .from("a@b.c", None)
            .to("d@e.f", None)
            .subject("s")
            .body("b")
            .attach(Attachment::from_module("C:/Picture/a.jpg").unwrap())
            .attach(Attachment::from_module("D:/Video/b.mp4").unwrap())
            .attach(Attachment::from_module("D:/Video/c.mp4").unwrap())
            .build()
            .unwrap();
        let plan = send(
            &email,
            &account(),
            None,
            Duration::from_secs(1),
            &ModuleState::new(),
        )
        .unwrap();
        let folders: Vec<String> = plan
            .iter()
            .filter(|p| p.step == Step::Folder)
            .map(|p| p.exchange.label())
            .collect();
        assert_eq!(folders, ["AT+FSCD=C:/Picture", "AT+FSCD=D:/Video"]);
    }

    #[test]
    fn a_pop3_login_follows_the_note() {
        let account = Pop3Account {
            server: ServerAddr::new("pop3.server.com", 110),
            user: "un".into(),
            password: Secret::new("pw"),
            tls: Default::default(),
        };
        assert_eq!(
            lines(&login(&account, None)),
            [
                "AT+POP3SRV=\"pop3.server.com\",\"un\",\"***\",110",
                "AT+POP3IN"
            ]
        );
    }

    #[test]
    fn a_saved_mail_is_listed_in_its_folder() {
        assert_eq!(
            lines(&list_saved("C:/Email/100202110457/")),
            ["AT+FSCD=C:/Email/100202110457", "AT+FSLS"]
        );
        assert_eq!(file_size("log.bin").label(), "AT+FSATTRI=log.bin");
    }

    #[test]
    fn tidying_removes_the_text_and_an_empty_folder_only() {
        let folder = "D:/Email/100202110457/";
        assert_eq!(
            lines(&tidy(folder, "EMAIL000.TXT", MailStorage::Card, false)),
            [
                "AT+FSDEL=EMAIL000.TXT",
                "AT+FSCD=D:/Email",
                "AT+FSRMDIR=100202110457"
            ]
        );
        assert_eq!(
            lines(&tidy(folder, "EMAIL000.TXT", MailStorage::Card, true)),
            ["AT+FSDEL=EMAIL000.TXT"]
        );
    }

    #[test]
    fn a_get_owes_its_pop3_result() {
        let [storage, get] = get(3, MailStorage::Local, Duration::from_secs(1));
        assert_eq!(storage.label(), "AT+FSLOCA=0");
        let [card, _] = super::get(3, MailStorage::Card, Duration::from_secs(1));
        assert_eq!(card.label(), "AT+FSLOCA=1");
        assert_eq!(get.label(), "AT+POP3GET=3");
        assert_eq!(get.owes(), Some(Service::Pop3));
        assert_eq!(get.result_prefix(), Some(POP3_RESULT));
    }
}
