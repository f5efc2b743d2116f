//! The module's lengths come from its test forms (§3.2): asked before the
//! first call and again after a reboot, and every mail is checked against
//! what the module said, not against the built-in numbers.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use cellmail::{
    Auth, Email, MailError, MailSender, Mailbox, Pop3Account, Secret, ServerAddr, SmtpAccount,
};
use cellmail_replay::Transcript;
use cellmail_replay::harness::{self, PASSWORD};
use cellmail_simcom::sim7000::{Sim7000Mailer, Sim7000Options, capabilities, decoder_config};

fn account() -> SmtpAccount {
    SmtpAccount {
        server: ServerAddr::new("mail.sim.com", 25),
        auth: Auth::Login {
            user: "john".into(),
            password: Secret::new(PASSWORD),
        },
        tls: Default::default(),
    }
}

fn mail(subject: &str) -> Email {
    Email::builder()
        .from("john@sim.com", Some("john"))
        .to("john@sim.com", Some("john"))
        .subject(subject)
        .body("This is a new Email")
        .build()
        .unwrap()
}

fn invalid(e: &MailError) -> (&str, &str) {
    match e {
        MailError::Invalid { field, reason, .. } => (field.as_str(), reason.as_str()),
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn mail_is_checked_against_the_lengths_the_module_said() {
    let client = harness::golden("sim7000", "mailer-lengths.at", decoder_config()).unwrap();
    let mut m = Sim7000Mailer::new(client, account(), Sim7000Options::default());
    assert!(m.module_lengths().is_none());
    // Within the built-in 256, over the module's 20: refused once it said so.
    let long = "Reading of meter 17 over";
    assert!(long.len() <= capabilities().limits.subject_ascii);
    let e = m.send(&mail(long)).await.unwrap_err();
    assert_eq!(invalid(&e).0, "subject", "{e}");
    assert!(invalid(&e).1.contains("20"), "{e}");
    assert!(!e.is_transient());
    let limits = &m.capabilities().limits;
    assert_eq!(
        (
            limits.subject_ascii,
            limits.body,
            limits.address,
            limits.name
        ),
        (20, 64, 40, 20)
    );
    assert_eq!(
        (limits.recipients, limits.recipients_per_kind),
        (6, Some(2))
    );
    assert_eq!(
        (limits.server, limits.user, limits.attachment_name),
        (40, 20, 20)
    );
    // AT+SMTPCS=? was refused: the built-in charsets stand.
    assert_eq!(m.capabilities().charsets, capabilities().charsets);
    assert_eq!(m.module_lengths().unwrap().charset_name, None);

    let report = m.send(&mail("Test")).await.unwrap();
    assert_eq!(report.module_result, "+SMTPSEND: 1");
    assert_eq!(
        report.commands, 14,
        "the forms were asked by the refused mail"
    );

    // Three To recipients where the module numbers two: refused before a
    // byte (the transcript has nothing for it).
    let three = Email::builder()
        .from("john@sim.com", None)
        .to("a@sim.com", None)
        .to("b@sim.com", None)
        .to("c@sim.com", None)
        .build()
        .unwrap();
    let e = m.send(&three).await.unwrap_err();
    assert_eq!(invalid(&e).0, "to", "{e}");
    // A body over the module's 64 bytes, likewise.
    let body = Email::builder()
        .from("john@sim.com", None)
        .to("a@sim.com", None)
        .body("x".repeat(65))
        .build()
        .unwrap();
    assert_eq!(invalid(&m.send(&body).await.unwrap_err()).0, "body");

    // The reboot (RDY) is noticed at the next call: the forms again, then
    // every setting.
    let report = m.send(&mail("Test")).await.unwrap();
    assert_eq!(report.module_result, "+SMTPSEND: 1");
    assert_eq!(report.commands, 9 + 14, "the forms, then the mail");
    harness::finish(m.into_client()).unwrap();
}

const FORMS: &str = "\
> AT+SMTPSRV=?\n< +SMTPSRV: 40,(1-65535)\n< OK\n\
> AT+SMTPAUTH=?\n< +SMTPAUTH: (0,1),20,20\n< OK\n\
> AT+SMTPFROM=?\n< +SMTPFROM: 40,20\n< OK\n\
> AT+SMTPRCPT=?\n< +SMTPRCPT: (0-2),(0-1),40,20\n< OK\n\
> AT+SMTPSUB=?\n< +SMTPSUB: 20\n< OK\n\
> AT+SMTPBODY=?\n< +SMTPBODY: 6000\n< OK\n\
> AT+SMTPFILE=?\n< +SMTPFILE: (0-2),20,(0,1)\n< OK\n\
> AT+SMTPCS=?\n< +SMTPCS: 4\n< OK\n\
> AT+POP3SRV=?\n< +POP3SRV: 40,4,20,(1-65535)\n< OK\n";

fn scripted(text: &str) -> Sim7000Mailer<cellmail_replay::ScriptedModem> {
    let t = Transcript::parse(text).unwrap();
    let client = harness::client(&t, decoder_config(), Default::default()).unwrap();
    Sim7000Mailer::new(
        client,
        account(),
        Sim7000Options {
            pop3: Some(Pop3Account {
                server: ServerAddr::new("mail.sim.com", 110),
                user: "johnny".into(),
                password: Secret::new(PASSWORD),
                tls: Default::default(),
            }),
            ..Default::default()
        },
    )
}

#[tokio::test(start_paused = true)]
async fn probed_lengths_show_in_the_capabilities_and_open_what_the_built_in_ones_refuse() {
    let mut m = scripted(FORMS);
    let built_in = capabilities();
    m.probe_lengths().await.unwrap();
    let caps = m.capabilities();
    // A body longer than the built-in 4096 is now allowed; "UTF-8" is longer
    // than the 4 characters AT+SMTPCS takes, so only ASCII is left.
    assert!(caps.limits.body > built_in.limits.body);
    assert_eq!(caps.limits.body, 6000);
    assert_eq!(caps.charsets, [cellmail::Charset::Ascii]);
    let utf8 = Email::builder()
        .from("john@sim.com", None)
        .to("a@sim.com", None)
        .charset(cellmail::Charset::Utf8)
        .body("é")
        .build()
        .unwrap();
    assert!(matches!(
        m.send(&utf8).await.unwrap_err(),
        MailError::Unsupported { .. }
    ));
    // The POP3 user is checked against AT+POP3SRV=?'s 4, not SMTP's 20.
    let e = m.stat().await.unwrap_err();
    assert_eq!(invalid(&e).0, "user", "{e}");
    harness::finish(m.into_client()).unwrap();
}

#[tokio::test(start_paused = true)]
async fn what_needs_no_length_is_refused_before_the_forms_are_asked() {
    let m = scripted("");
    let mut bad = account();
    bad.server = ServerAddr::new("mail\r.sim.com", 25);
    let mut m = Sim7000Mailer::new(m.into_client(), bad, Sim7000Options::default());
    let e = m.send(&mail("Test")).await.unwrap_err();
    assert_eq!(invalid(&e).0, "server host", "{e}");
    harness::finish(m.into_client()).unwrap();
}

#[tokio::test(start_paused = true)]
async fn with_assumed_lengths_nothing_is_asked() {
    let mut limits = capabilities().limits;
    limits.subject_ascii = 3;
    let t = Transcript::parse("").unwrap();
    let client = harness::client(&t, decoder_config(), Default::default()).unwrap();
    let mut m = Sim7000Mailer::new(
        client,
        account(),
        Sim7000Options {
            lengths: cellmail_simcom::sim7000::Lengths::Assume(limits),
            ..Default::default()
        },
    );
    m.probe_lengths().await.unwrap();
    assert!(m.module_lengths().is_none());
    assert_eq!(
        invalid(&m.send(&mail("Test")).await.unwrap_err()).0,
        "subject"
    );
    harness::finish(m.into_client()).unwrap();
}
