//! Careless and hostile input, per family: each row is the input, the
//! `MailError` variant it must give, whether a retry loop may try again, and
//! the bytes the mailer wrote to the module before refusing — 0, because the
//! promise is "checked before the first byte".
//!
//! The module is a line that counts what it is sent and never answers: a
//! mailer that writes anything before refusing waits for an answer that does
//! not come, times out on the paused clock, and the row fails naming the
//! bytes and the error it got instead.

#![allow(clippy::unwrap_used, missing_docs)] // a failed unwrap is a failed test

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};

use cellmail::{
    Attachment, Auth, Bearer, Charset, Email, MailError, MailSender, Mailbox, Pop3Account, Secret,
    ServerAddr, SmtpAccount, TlsMode, TlsSettings,
};
use cellmail_at::{Client, ClientConfig, DecoderConfig};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A module that takes every byte and says nothing.
struct SilentModule(Arc<AtomicUsize>);

impl AsyncRead for SilentModule {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        _: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        // Never ready: the client's own timer ends the wait.
        Poll::Pending
    }
}

impl AsyncWrite for SilentModule {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.0.fetch_add(buf.len(), Ordering::Relaxed);
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

fn silent(decoder: DecoderConfig) -> (Client<SilentModule>, Arc<AtomicUsize>) {
    let written = Arc::new(AtomicUsize::new(0));
    let client = Client::new(
        SilentModule(written.clone()),
        ClientConfig::with_decoder(decoder),
    );
    (client, written)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Family {
    Quectel,
    Sim7000,
    Sim5360,
    A76xx,
}

const FAMILIES: [Family; 4] = [
    Family::Quectel,
    Family::Sim7000,
    Family::Sim5360,
    Family::A76xx,
];

/// What a row expects: the variant (and the field, for `Invalid`).
#[derive(Clone, Debug)]
enum Expect {
    Invalid(&'static str),
    Unsupported,
}

impl Expect {
    fn matches(&self, e: &MailError) -> bool {
        match (self, e) {
            (Expect::Invalid(f), MailError::Invalid { field, .. }) => field == f,
            (Expect::Unsupported, MailError::Unsupported { .. }) => true,
            _ => false,
        }
    }
}

/// The settings of one send: the account, the bearer and the mail.
#[derive(Clone)]
struct Input {
    account: SmtpAccount,
    bearer: Option<Bearer>,
    email: Email,
}

fn account() -> SmtpAccount {
    SmtpAccount {
        server: ServerAddr::new("smtp.example.com", 25),
        auth: Auth::Login {
            user: "meter-17".into(),
            password: Secret::new("s3cret"),
        },
        tls: TlsSettings::default(),
    }
}

fn builder() -> cellmail::EmailBuilder {
    Email::builder()
        .from("meter-17@example.com", None)
        .to("ops@example.com", None)
        .subject("alarm")
        .body("pressure low")
}

fn input() -> Input {
    Input {
        account: account(),
        bearer: Some(bearer("internet")),
        email: builder().build().unwrap(),
    }
}

fn bearer(apn: &str) -> Bearer {
    Bearer::new(apn)
}

fn with_account(f: impl FnOnce(&mut SmtpAccount)) -> Input {
    let mut i = input();
    f(&mut i.account);
    i
}

fn with_bearer(b: Bearer) -> Input {
    Input {
        bearer: Some(b),
        ..input()
    }
}

fn with_email(email: Email) -> Input {
    Input { email, ..input() }
}

fn login(user: &str, password: &str) -> Auth {
    Auth::Login {
        user: user.into(),
        password: Secret::new(password),
    }
}

/// The rows every family shares: account, bearer and limits each family
/// has, named by the field the refusal names.
fn shared_rows(family: Family) -> Vec<(&'static str, Input, Expect)> {
    let caps = capabilities(family);
    let too_many: Vec<String> = (0..=caps.limits.recipients)
        .map(|i| format!("r{i}@example.com"))
        .collect();
    let mut many = builder();
    for r in &too_many {
        many = many.cc(r, None);
    }
    let mut rows = vec![
        (
            "empty server host",
            with_account(|a| a.server = ServerAddr::new("", 25)),
            Expect::Invalid("server host"),
        ),
        (
            "server host with a quote",
            with_account(|a| a.server = ServerAddr::new("smtp\".example.com", 25)),
            Expect::Invalid("server host"),
        ),
        (
            "server host with CR",
            with_account(|a| a.server = ServerAddr::new("smtp.example.com\r", 25)),
            Expect::Invalid("server host"),
        ),
        (
            "server port 0",
            with_account(|a| a.server = ServerAddr::new("smtp.example.com", 0)),
            Expect::Invalid("server port"),
        ),
        (
            "login with an empty user",
            with_account(|a| a.auth = login("", "s3cret")),
            Expect::Invalid("user"),
        ),
        (
            "password with CR LF",
            with_account(|a| a.auth = login("meter-17", "s3\r\ncret")),
            Expect::Invalid("password"),
        ),
        (
            "APN with a quote",
            with_bearer(bearer("inter\"net")),
            Expect::Invalid("apn"),
        ),
        (
            "APN with CR",
            with_bearer(bearer("internet\r")),
            Expect::Invalid("apn"),
        ),
        (
            "non-ASCII APN",
            with_bearer(bearer("intérnet")),
            Expect::Invalid("apn"),
        ),
        ("empty APN", with_bearer(bearer("")), Expect::Invalid("apn")),
        (
            "subject over the module's limit",
            with_email(
                builder()
                    .subject("s".repeat(caps.limits.subject_ascii + 1))
                    .build()
                    .unwrap(),
            ),
            Expect::Invalid("subject"),
        ),
        (
            "body over the module's limit",
            with_email(
                builder()
                    .body("b".repeat(caps.limits.body + 1))
                    .build()
                    .unwrap(),
            ),
            Expect::Invalid("body"),
        ),
        (
            "more recipients than the module takes",
            with_email(many.build().unwrap()),
            Expect::Invalid("recipients"),
        ),
    ];
    if !caps.charsets.contains(&Charset::Big5) {
        rows.push((
            "a charset the module does not list",
            with_email(builder().charset(Charset::Big5).build().unwrap()),
            Expect::Unsupported,
        ));
    }
    rows
}

/// What only some families refuse.
fn family_rows(family: Family) -> Vec<(&'static str, Input, Expect)> {
    let implicit = with_account(|a| a.tls.mode = TlsMode::Implicit);
    let from_memory = with_email(
        builder()
            .attach(Attachment::from_bytes("log.txt", b"line\n".to_vec()))
            .build()
            .unwrap(),
    );
    match family {
        Family::Quectel => vec![
            (
                "body with the data-mode escape +++",
                with_email(builder().body("a+++b").build().unwrap()),
                Expect::Invalid("body"),
            ),
            (
                "a recipient name (the command has none)",
                with_email(builder().to("b@example.com", Some("Bob")).build().unwrap()),
                Expect::Unsupported,
            ),
        ],
        Family::Sim7000 => vec![
            (
                "implicit TLS (not in the manual)",
                implicit,
                Expect::Unsupported,
            ),
            (
                "two attachments (the module takes one)",
                with_email(
                    builder()
                        .attach(Attachment::from_bytes("a.txt", b"a".to_vec()))
                        .attach(Attachment::from_bytes("b.txt", b"b".to_vec()))
                        .build()
                        .unwrap(),
                ),
                Expect::Invalid("attachments"),
            ),
        ],
        Family::Sim5360 => vec![
            (
                "implicit TLS (not in the manual)",
                implicit,
                Expect::Unsupported,
            ),
            (
                "body with a double quote (no data mode)",
                with_email(builder().body("say \"hi\"").build().unwrap()),
                Expect::Invalid("body"),
            ),
            (
                "body of two lines (no data mode)",
                with_email(builder().body("one\r\ntwo").build().unwrap()),
                Expect::Invalid("body"),
            ),
            (
                "an attachment from memory (module files only)",
                from_memory,
                Expect::Unsupported,
            ),
        ],
        Family::A76xx => vec![],
    }
    .into_iter()
    .chain((!capabilities(family).bearer_login).then(|| {
        (
            "an APN login (the dialect sets the APN alone)",
            with_bearer(Bearer {
                user: Some("m2m".into()),
                password: Some(Secret::new("apn-pass")),
                ..bearer("internet")
            }),
            Expect::Unsupported,
        )
    }))
    .collect()
}

fn capabilities(family: Family) -> cellmail::Capabilities {
    match family {
        Family::Quectel => cellmail_quectel::capabilities(),
        Family::Sim7000 => cellmail_simcom::sim7000::capabilities(),
        Family::Sim5360 => cellmail_simcom::sim5360::capabilities(),
        Family::A76xx => cellmail_simcom::a76xx::capabilities(),
    }
}

/// Sends `input` through `family`'s mailer on a silent line: the result and
/// the bytes written.
async fn send(family: Family, input: Input) -> (Result<(), MailError>, usize) {
    let Input {
        account,
        bearer,
        email,
    } = input;
    let result = match family {
        Family::Quectel => {
            let (client, written) = silent(cellmail_quectel::decoder_config());
            let options = cellmail_quectel::QuectelOptions {
                bearer,
                ..Default::default()
            };
            let mut m = cellmail_quectel::QuectelMailer::new(client, account, options);
            (m.send(&email).await.map(drop), written)
        }
        Family::Sim7000 => {
            let (client, written) = silent(cellmail_simcom::sim7000::decoder_config());
            // The lengths given (the built-in ones, which the length rows
            // are built from): by default the mailer asks the module's test
            // forms before it can check a length, so a too-long subject is
            // refused after them, before any byte of the mail (see
            // crates/simcom/tests/sim7000_lengths.rs). Every other row is
            // refused before a byte in either mode: the mailbox rows below
            // run in the default one.
            let options = cellmail_simcom::Sim7000Options {
                bearer,
                lengths: cellmail_simcom::sim7000::Lengths::Assume(
                    cellmail_simcom::sim7000::capabilities().limits,
                ),
                ..Default::default()
            };
            let mut m = cellmail_simcom::Sim7000Mailer::new(client, account, options);
            (m.send(&email).await.map(drop), written)
        }
        Family::Sim5360 => {
            let (client, written) = silent(cellmail_simcom::sim5360::decoder_config());
            let options = cellmail_simcom::Sim5360Options {
                bearer,
                ..Default::default()
            };
            let mut m = cellmail_simcom::Sim5360Mailer::new(client, account, options);
            (m.send(&email).await.map(drop), written)
        }
        Family::A76xx => {
            let (client, written) = silent(cellmail_simcom::a76xx::decoder_config());
            let options = cellmail_simcom::A76xxOptions {
                bearer,
                ..Default::default()
            };
            let mut m = cellmail_simcom::A76xxMailer::new(client, account, options);
            (m.send(&email).await.map(drop), written)
        }
    };
    let (r, written) = result;
    (r, written.load(Ordering::Relaxed))
}

/// Runs every row of `family`; returns the rows that broke their promise.
async fn check(family: Family) -> Vec<String> {
    let mut broken = Vec::new();
    let rows = shared_rows(family).into_iter().chain(family_rows(family));
    for (name, input, expect) in rows {
        let (result, written) = send(family, input).await;
        match result {
            Err(e) if expect.matches(&e) && !e.is_transient() && written == 0 => {}
            Err(e) => broken.push(format!(
                "{family:?} {name}: {e:?} (transient {}, {written} bytes written), expected {expect:?}, permanent, 0 bytes",
                e.is_transient()
            )),
            Ok(()) => broken.push(format!("{family:?} {name}: sent ({written} bytes written)")),
        }
    }
    broken
}

#[tokio::test(start_paused = true)]
async fn every_family_refuses_bad_sends_before_a_byte() {
    let mut broken = Vec::new();
    for family in FAMILIES {
        broken.extend(check(family).await);
    }
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}

fn pop3(f: impl FnOnce(&mut Pop3Account)) -> Pop3Account {
    let mut a = Pop3Account {
        server: ServerAddr::new("pop.example.com", 110),
        user: "meter-17".into(),
        password: Secret::new("s3cret"),
        tls: TlsSettings::default(),
    };
    f(&mut a);
    a
}

/// The POP3 account goes through the same gate, on both families that
/// read mail.
#[tokio::test(start_paused = true)]
async fn mailbox_accounts_are_refused_before_a_byte() {
    let rows: Vec<(&str, Pop3Account, &str)> = vec![
        (
            "empty host",
            pop3(|a| a.server = ServerAddr::new("", 110)),
            "server host",
        ),
        (
            "port 0",
            pop3(|a| a.server = ServerAddr::new("pop.example.com", 0)),
            "server port",
        ),
        ("empty user", pop3(|a| a.user = String::new()), "user"),
        (
            "user with a quote",
            pop3(|a| a.user = "me\"".into()),
            "user",
        ),
        (
            "password with LF",
            pop3(|a| a.password = Secret::new("s3\ncret")),
            "password",
        ),
    ];
    let mut broken = Vec::new();
    for (name, pop3, field) in rows {
        for family in [Family::Sim7000, Family::Sim5360] {
            let (result, written) = match family {
                Family::Sim7000 => {
                    let (client, written) = silent(cellmail_simcom::sim7000::decoder_config());
                    let options = cellmail_simcom::Sim7000Options {
                        pop3: Some(pop3.clone()),
                        ..Default::default()
                    };
                    let mut m = cellmail_simcom::Sim7000Mailer::new(client, account(), options);
                    (m.stat().await.map(drop), written)
                }
                _ => {
                    let (client, written) = silent(cellmail_simcom::sim5360::decoder_config());
                    let options = cellmail_simcom::Sim5360Options {
                        pop3: Some(pop3.clone()),
                        ..Default::default()
                    };
                    let mut m = cellmail_simcom::Sim5360Mailer::new(client, account(), options);
                    (m.stat().await.map(drop), written)
                }
            };
            let written = written.load(Ordering::Relaxed);
            match result {
                Err(MailError::Invalid { field: f, .. }) if f == field && written == 0 => {}
                other => broken.push(format!(
                    "{family:?} {name}: {other:?} ({written} bytes written), expected Invalid {{ {field} }}"
                )),
            }
        }
    }
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}
