//! SIM800 e-mail TLS through Sim7000Mailer (SIM800 Series SSL application
//! note §2.1): `AT+EMAILSSL` in the note's place and only when it changes,
//! the TLS probe, and TLS refused before a byte where the model has none.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use cellmail::{
    Auth, Email, MailError, MailSender, Mailbox, Pop3Account, Secret, ServerAddr, SmtpAccount,
    TlsMode, TlsSettings, TlsVersion,
};
use cellmail_replay::harness::{self, PASSWORD, ReplayClient};
use cellmail_replay::{Faults, ScriptedModem, Transcript};
use cellmail_simcom::sim7000::{Model, Sim7000Mailer, Sim7000Options, TlsProbe, decoder_config};

fn tls(mode: TlsMode) -> TlsSettings {
    TlsSettings {
        mode,
        ..Default::default()
    }
}

fn account(port: u16, mode: TlsMode) -> SmtpAccount {
    SmtpAccount {
        server: ServerAddr::new("mail.sim.com", port),
        auth: Auth::Login {
            user: "john".into(),
            password: Secret::new(PASSWORD),
        },
        tls: tls(mode),
    }
}

fn options(model: Model, pop3_mode: TlsMode) -> Sim7000Options {
    Sim7000Options {
        pop3: Some(Pop3Account {
            server: ServerAddr::new("mail.sim.com", 995),
            user: "john".into(),
            password: Secret::new(PASSWORD),
            tls: tls(pop3_mode),
        }),
        model,
        // These transcripts are about the session, not the lengths: the
        // built-in numbers are given, so no test form is asked (the forms
        // are asked and read in sim7000_lengths.rs).
        lengths: cellmail_simcom::sim7000::Lengths::Assume(
            cellmail_simcom::sim7000::capabilities().limits,
        ),
        ..Default::default()
    }
}

fn mail() -> Email {
    Email::builder()
        .from("john@sim.com", Some("john"))
        .to("john@sim.com", Some("john"))
        .subject("Test")
        .body("This is a new Email")
        .build()
        .unwrap()
}

fn inline(text: &str) -> ReplayClient {
    let t = Transcript::parse(text).unwrap();
    harness::client(&t, decoder_config(), Faults::new()).unwrap()
}

fn mailer(
    client: ReplayClient,
    smtp: SmtpAccount,
    o: Sim7000Options,
) -> Sim7000Mailer<ScriptedModem> {
    Sim7000Mailer::new(client, smtp, o)
}

#[tokio::test(start_paused = true)]
async fn starttls_send_pop3s_login_and_a_second_send() {
    let client = harness::golden("sim7000", "mailer-sim800-tls.at", decoder_config()).unwrap();
    let mut m = mailer(
        client,
        account(25, TlsMode::StartTls),
        options(Model::Sim800, TlsMode::Implicit),
    );
    assert_eq!(m.capabilities().tls_versions, [TlsVersion::Tls1_0]);
    let first = m.send(&mail()).await.unwrap();
    assert_eq!(first.module_result, "+SMTPSEND: 1");
    let stat = m.stat().await.unwrap();
    assert_eq!((stat.count, stat.total_size), (1, 5556));
    m.close().await.unwrap();
    let second = m.send(&mail()).await.unwrap();
    assert_eq!(second.commands, 7, "AT+EMAILSSL, AT+SMTPSRV and the mail");
    harness::finish(m.into_client()).unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_plain_account_on_a_sim800_sets_emailssl_0_once() {
    let mut m = mailer(
        inline(
            "> AT+EMAILCID=1\n< OK\n> AT+EMAILTO=30\n< OK\n> AT+EMAILSSL=0\n< OK\n\
             > AT+POP3SRV=\"mail.sim.com\",\"john\",\"${password}\",995\n< OK\n\
             > AT+POP3IN\n< OK\n< +POP3IN: 1\n> AT+POP3NUM\n< OK\n< +POP3NUM: 1,0,0\n\
             > AT+POP3OUT\n< OK\n< +POP3OUT: 1\n\
             > AT+POP3IN\n< OK\n< +POP3IN: 1\n> AT+POP3NUM\n< OK\n< +POP3NUM: 1,0,0\n",
        ),
        account(25, TlsMode::None),
        options(Model::Sim800, TlsMode::None),
    );
    m.stat().await.unwrap();
    m.close().await.unwrap();
    m.stat().await.unwrap();
    harness::finish(m.into_client()).unwrap();
}

#[tokio::test(start_paused = true)]
async fn tls_on_a_sim7000_is_unsupported_before_a_byte() {
    for model in [Model::Sim7000, Model::Sim900] {
        let mut m = mailer(
            inline(""),
            account(465, TlsMode::Implicit),
            options(model, TlsMode::StartTls),
        );
        let err = m.send(&mail()).await.unwrap_err();
        assert!(
            matches!(err, MailError::Unsupported { ref feature } if feature == "smtp: TLS mode Implicit"),
            "{model:?}: {err:?}"
        );
        let err = m.stat().await.unwrap_err();
        assert!(
            matches!(err, MailError::Unsupported { ref feature } if feature == "pop3: TLS mode StartTls"),
            "{model:?}: {err:?}"
        );
        harness::finish(m.into_client()).unwrap();
    }
}

#[tokio::test(start_paused = true)]
async fn a_tls_version_newer_than_1_0_is_unsupported_before_a_byte() {
    let mut smtp = account(465, TlsMode::Implicit);
    smtp.tls.version = TlsVersion::Tls1_2;
    let mut m = mailer(inline(""), smtp, options(Model::Sim800, TlsMode::Implicit));
    let err = m.send(&mail()).await.unwrap_err();
    assert!(
        matches!(err, MailError::Unsupported { ref feature } if feature == "smtp: TLS version TLS 1.2"),
        "{err:?}"
    );
    harness::finish(m.into_client()).unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_probe_answered_error_leaves_no_tls_and_says_so() {
    let mut m = mailer(
        inline("> AT+EMAILSSL=?\n< ERROR\n"),
        account(465, TlsMode::Implicit),
        options(Model::Sim800, TlsMode::Implicit),
    );
    assert_eq!(m.probe_tls().await.unwrap(), TlsProbe::Refused);
    let caps = m.capabilities();
    assert_eq!(
        (caps.smtp_tls.as_slice(), caps.pop3_tls.as_slice()),
        (&[TlsMode::None][..], &[TlsMode::None][..])
    );
    assert!(caps.tls_versions.is_empty());
    for err in [
        m.send(&mail()).await.unwrap_err(),
        m.stat().await.unwrap_err(),
    ] {
        assert!(
            matches!(err, MailError::Unsupported { ref feature } if feature.contains("AT+EMAILSSL")),
            "{err:?}"
        );
        assert!(!err.is_transient());
    }
    harness::finish(m.into_client()).unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_probe_listing_the_modes_keeps_them() {
    let mut m = mailer(
        inline("> AT+EMAILSSL=?\n< +EMAILSSL: (0,1)\n< OK\n"),
        account(465, TlsMode::StartTls),
        options(Model::Sim800, TlsMode::Implicit),
    );
    assert_eq!(
        m.probe_tls().await.unwrap(),
        TlsProbe::Listed(vec![TlsMode::None, TlsMode::Implicit])
    );
    assert_eq!(
        m.capabilities().smtp_tls,
        [TlsMode::None, TlsMode::Implicit]
    );
    let err = m.send(&mail()).await.unwrap_err();
    assert!(
        matches!(err, MailError::Unsupported { ref feature } if feature == "smtp: TLS mode StartTls"),
        "{err:?}"
    );
    harness::finish(m.into_client()).unwrap();
}

#[tokio::test(start_paused = true)]
async fn emailssl_refused_fails_a_tls_send_and_lets_a_plain_one_through() {
    // TLS: the write is refused, the mail is not sent, and the next TLS mail
    // is refused before a byte.
    let mut m = mailer(
        inline("> AT+EMAILCID=1\n< OK\n> AT+EMAILTO=30\n< OK\n> AT+EMAILSSL=1\n< ERROR\n"),
        account(465, TlsMode::Implicit),
        options(Model::Sim800, TlsMode::None),
    );
    for _ in 0..2 {
        let err = m.send(&mail()).await.unwrap_err();
        assert!(
            matches!(err, MailError::Unsupported { ref feature } if feature.contains("AT+EMAILSSL")),
            "{err:?}"
        );
    }
    assert_eq!(m.tls_probe(), &TlsProbe::Refused);
    harness::finish(m.into_client()).unwrap();
    // Plain: a firmware without the command cannot hold TLS on; the mail goes.
    let mut m = mailer(
        inline(
            "> AT+EMAILCID=1\n< OK\n> AT+EMAILTO=30\n< OK\n> AT+EMAILSSL=0\n< ERROR\n\
             > AT+POP3SRV=\"mail.sim.com\",\"john\",\"${password}\",995\n< OK\n\
             > AT+POP3IN\n< OK\n< +POP3IN: 1\n> AT+POP3NUM\n< OK\n< +POP3NUM: 1,0,0\n",
        ),
        account(25, TlsMode::None),
        options(Model::Sim800, TlsMode::None),
    );
    m.stat().await.unwrap();
    harness::finish(m.into_client()).unwrap();
}

#[tokio::test(start_paused = true)]
async fn ssl_codes_reach_the_caller_as_tls_errors() {
    for code in [71, 72] {
        let mut m = mailer(
            inline(&format!(
                "> AT+EMAILCID=1\n< OK\n> AT+EMAILTO=30\n< OK\n> AT+EMAILSSL=1\n< OK\n\
                 > AT+POP3SRV=\"mail.sim.com\",\"john\",\"${{password}}\",995\n< OK\n\
                 > AT+POP3IN\n< OK\n< +POP3IN: {code}\n"
            )),
            account(465, TlsMode::Implicit),
            options(Model::Sim800, TlsMode::Implicit),
        );
        let err = m.stat().await.unwrap_err();
        assert!(matches!(err, MailError::Tls { .. }), "{code}: {err:?}");
        harness::finish(m.into_client()).unwrap();
    }
}
