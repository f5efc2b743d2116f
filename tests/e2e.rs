//! End to end: host API → dialect → pseudo-terminal → virtual module →
//! Postfix → Dovecot, and back over POP3. Needs the mail stack:
//! `cargo xtask test` starts it (or `cargo xtask mailstack up` and export
//! `target/mailstack/env`).

#![allow(clippy::unwrap_used, missing_docs)] // a failed unwrap is a failed test

mod support;

use cellmail::{Attachment, Charset, Email, MailError, MailSender, Mailbox, TlsMode};
use cellmail_sim::Family;
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sim7000_plain_to_cc_bcc_utf8_with_attachment_and_pop3_back() {
    let stack = Stack::from_env();
    let tag = unique("sim7000");
    let (mut mailer, _module) = sim7000(&stack, "alice", "bob");
    let binary: Vec<u8> = (0..=255u8).cycle().take(5000).collect();
    let email = Email::builder()
        .from(&stack.user("alice"), Some("Älice Meter"))
        .to(&stack.user("bob"), Some("Bob"))
        .cc(&stack.user("carol"), None)
        .bcc(&stack.user("dave"), None)
        .charset(Charset::Utf8)
        .subject(format!("Zählerstand {tag}"))
        .body("Verbrauch: 42,7 m³\r\n")
        .attach(Attachment::from_bytes("dump.bin", binary.clone()))
        .build()
        .unwrap();
    mailer.send(&email).await.unwrap();
    for user in ["bob", "carol", "dave"] {
        let msg = stack.wait_for(user, &tag).await;
        assert_eq!(msg.subject().unwrap(), format!("Zählerstand {tag}"));
        assert_eq!(msg.text_body().unwrap().trim_end(), "Verbrauch: 42,7 m³");
        assert_eq!(msg.attachments()[0].bytes, binary);
        assert!(!msg.has_bcc_header(), "{user} sees a Bcc header");
        assert_eq!(msg.cc()[0].address, stack.user("carol"));
    }
    // Read it back through the module's POP3 client.
    let stat = mailer.stat().await.unwrap();
    assert!(stat.count >= 1);
    let list = mailer.list().await.unwrap();
    let uids = mailer.uids().await.unwrap();
    assert_eq!(list.len(), uids.len());
    let mut found = None;
    for info in &list {
        let head = mailer.headers(info.id).await.unwrap();
        if head.subject().is_some_and(|s| s.contains(&tag)) {
            found = Some(info.id);
        }
    }
    let id = found.expect("the mail is in bob's mailbox");
    let msg = mailer.retrieve(id).await.unwrap();
    assert_eq!(msg.attachments()[0].bytes, binary);
    mailer.delete(id).await.unwrap();
    mailer.reset().await.unwrap();
    mailer.close().await.unwrap();
    assert!(stack.maildir_has("bob", &tag), "reset kept the mail");
}

/// A SIM800 mail over `smtp` TLS arrives, and is read back through the
/// module's POP3 client over `pop3` TLS (the virtual SIM800L speaks rustls'
/// TLS 1.2/1.3 to the local stack, not the real module's TLS 1.0).
async fn sim800_tls(smtp: TlsMode, pop3: TlsMode) {
    let stack = Stack::from_env();
    let tag = unique("sim800-tls");
    let port = if smtp == TlsMode::Implicit {
        stack.smtps
    } else {
        stack.smtp
    };
    let (mut mailer, _module) = sim800(&stack, "alice", "bob", (port, smtp), pop3);
    mailer
        .send(&simple(&stack, "alice", "bob", &tag))
        .await
        .unwrap();
    let delivered = stack.wait_for("bob", &tag).await;
    assert_eq!(delivered.subject().unwrap(), format!("Reading {tag}"));
    let list = mailer.list().await.unwrap();
    let mut found = None;
    for info in &list {
        let head = mailer.headers(info.id).await.unwrap();
        if head.subject().is_some_and(|s| s.contains(&tag)) {
            found = Some(info.id);
        }
    }
    let id = found.expect("the mail is in bob's mailbox");
    let msg = mailer.retrieve(id).await.unwrap();
    assert_eq!(
        msg.text_body().unwrap().trim_end(),
        format!("reading for {tag}")
    );
    mailer.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sim800_starttls_mail_arrives_and_is_read_back_over_pop3s() {
    sim800_tls(TlsMode::StartTls, TlsMode::Implicit).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sim800_implicit_tls_mail_arrives_and_is_read_back_over_stls() {
    sim800_tls(TlsMode::Implicit, TlsMode::StartTls).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sim800_tls_to_a_plain_only_port_is_a_tls_error_with_code_71() {
    // Implicit TLS to the plain SMTP port: the server answers its greeting
    // in clear, the handshake fails, the module reports 71.
    let stack = Stack::from_env();
    let (mut mailer, _module) = sim800(
        &stack,
        "alice",
        "bob",
        (stack.smtp, TlsMode::Implicit),
        TlsMode::None,
    );
    let e = mailer
        .send(&simple(&stack, "alice", "bob", "sim800-tls-mismatch"))
        .await
        .unwrap_err();
    assert!(matches!(e, MailError::Tls { .. }), "{e:?}");
    assert_eq!(
        e.vendor_code().map(|c| c.to_string()).as_deref(),
        Some("71")
    );
    assert!(!e.is_transient());
}

/// A SIM7080 mail over `smtp` TLS (the server checked against the stack's
/// CA, written to the module and converted) arrives, and is read back over
/// POP3S (the SIM7080 has no STLS).
async fn sim7080_tls(smtp: TlsMode) {
    let stack = Stack::from_env();
    let tag = unique("sim7080-tls");
    let port = if smtp == TlsMode::Implicit {
        stack.smtps
    } else {
        stack.smtp
    };
    let ca = std::fs::read(&stack.ca).unwrap();
    let (mut mailer, _module) = sim7080(&stack, (port, smtp), TlsMode::Implicit, Some(ca));
    mailer
        .send(&simple(&stack, "alice", "bob", &tag))
        .await
        .unwrap();
    let delivered = stack.wait_for("bob", &tag).await;
    assert_eq!(delivered.subject().unwrap(), format!("Reading {tag}"));
    // A second mail: the context and the CA are held, not sent again.
    let report = mailer
        .send(&simple(&stack, "alice", "bob", &format!("{tag}-2")))
        .await
        .unwrap();
    assert!(report.commands <= 6, "{report:?}");
    let list = mailer.list().await.unwrap();
    let mut found = None;
    for info in &list {
        let head = mailer.headers(info.id).await.unwrap();
        if head.subject().is_some_and(|s| s.ends_with(&tag)) {
            found = Some(info.id);
        }
    }
    let id = found.expect("the mail is in bob's mailbox");
    let msg = mailer.retrieve(id).await.unwrap();
    assert_eq!(
        msg.text_body().unwrap().trim_end(),
        format!("reading for {tag}")
    );
    mailer.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sim7080_starttls_with_a_ca_arrives_and_is_read_back_over_pop3s() {
    sim7080_tls(TlsMode::StartTls).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sim7080_implicit_tls_with_a_ca_arrives_and_is_read_back_over_pop3s() {
    sim7080_tls(TlsMode::Implicit).await;
}

/// A CA that did not sign the server's certificate: the handshake fails
/// (the virtual SIM7080 says 65: [AT7080] lists no TLS code), and a POP3
/// STARTTLS account is refused before a byte ("startSSL ... only SMTP").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sim7080_refuses_an_untrusted_server_and_pop3_starttls() {
    let stack = Stack::from_env();
    let other_ca = std::fs::read(std::env::var("CELLMAIL_OTHER_CA_CERT").unwrap()).unwrap();
    let (mut mailer, _module) = sim7080(
        &stack,
        (stack.smtps, TlsMode::Implicit),
        TlsMode::StartTls,
        Some(other_ca),
    );
    let e = mailer
        .send(&simple(&stack, "alice", "bob", "sim7080-untrusted"))
        .await
        .unwrap_err();
    assert_eq!(
        e.vendor_code().map(|c| c.to_string()).as_deref(),
        Some("65"),
        "{e:?}"
    );
    assert!(matches!(
        mailer.stat().await.unwrap_err(),
        MailError::Unsupported { .. }
    ));
}

fn simple(stack: &Stack, from: &str, to: &str, tag: &str) -> Email {
    Email::builder()
        .from(&stack.user(from), Some("Meter"))
        .to(&stack.user(to), None)
        .subject(format!("Reading {tag}"))
        .body(format!("reading for {tag}"))
        .build()
        .unwrap()
}

async fn quectel_tls(mode: TlsMode, port_of: fn(&Stack) -> u16) {
    let stack = Stack::from_env();
    let tag = unique(&format!("quectel-{mode:?}"));
    let ca = std::fs::read(&stack.ca).unwrap();
    let tls = cellmail::TlsSettings {
        mode,
        verify: cellmail::Verify::Server {
            ca: cellmail::CertSource::Pem(ca),
        },
        ignore_module_clock: true,
        ..Default::default()
    };
    let (mut mailer, module) = quectel(&stack, stack.smtp_account("alice", port_of(&stack), tls));
    let dir = std::env::temp_dir().join(&tag);
    std::fs::create_dir_all(&dir).unwrap();
    let host_file = dir.join("log.txt");
    std::fs::write(&host_file, b"boot ok\nreading 42.7\n").unwrap();
    module.put_file("UFS:photo.jpg", vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 1, 2, 3]);
    let email = Email::builder()
        .from(&stack.user("alice"), Some("Meter 17"))
        .to(&stack.user("bob"), None)
        .cc(&stack.user("carol"), None)
        .bcc(&stack.user("dave"), None)
        .charset(Charset::Utf8)
        .subject(format!("Zähler {tag}"))
        .body("42,7 m³\r\n")
        .attach(Attachment::from_file(&host_file).unwrap())
        .attach(Attachment::from_module("UFS:photo.jpg").unwrap())
        .build()
        .unwrap();
    mailer.send(&email).await.unwrap();
    for user in ["bob", "carol", "dave"] {
        let msg = stack.wait_for(user, &tag).await;
        assert_eq!(msg.subject().unwrap(), format!("Zähler {tag}"));
        assert_eq!(msg.from()[0].name.as_deref(), Some("Meter 17"));
        let att = msg.attachments();
        assert_eq!(att[0].bytes, b"boot ok\nreading 42.7\n");
        assert_eq!(att[1].bytes, [0xFF, 0xD8, 0xFF, 0xE0, 0, 1, 2, 3]);
        assert!(!msg.has_bcc_header());
    }
    // The next mail on the same connection resends no settings.
    let tag2 = unique("quectel-second");
    let report = mailer
        .send(&simple(&stack, "alice", "bob", &tag2))
        .await
        .unwrap();
    assert_eq!(
        report.commands, 6,
        "second mail: recipients, subject, body, put, cleanup"
    );
    stack.wait_for("bob", &tag2).await;
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quectel_starttls_with_attachments_from_host_file_and_module() {
    quectel_tls(TlsMode::StartTls, |s| s.smtp).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quectel_implicit_tls() {
    quectel_tls(TlsMode::Implicit, |s| s.smtps).await;
}

/// Issue 14 §1: memory and host-file attachments go through `RAM:` files
/// (SMTPS note §1.2 step 5, §3): a 300 KB one, three times the UART form's
/// 100 KB, arrives whole; a stale file of its name an earlier process left
/// does not block it; the RAM files are gone after the send.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quectel_sends_a_300_kb_attachment_through_ram_and_deletes_it() {
    let stack = Stack::from_env();
    let tag = unique("quectel-ram");
    let (mut mailer, module) = quectel(
        &stack,
        stack.smtp_account("alice", stack.smtp, Default::default()),
    );
    module.put_file("RAM:big.bin", b"left by an earlier process".to_vec());
    let big: Vec<u8> = (0..300 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let email = Email::builder()
        .from(&stack.user("alice"), None)
        .to(&stack.user("bob"), None)
        .subject(format!("RAM {tag}"))
        .body("the log is attached")
        .attach(Attachment::from_bytes("big.bin", big.clone()))
        .build()
        .unwrap();
    mailer.send(&email).await.unwrap();
    let msg = stack.wait_for("bob", &tag).await;
    assert_eq!(msg.attachments()[0].bytes, big);
    assert_eq!(module.file("RAM:big.bin"), None, "deleted after the send");

    // More than the module's RAM holds (the virtual module's 1 MiB) with the
    // budget raised past it: the module refuses the upload, reported on that
    // attachment with its size, nothing sent, nothing left.
    let options = cellmail_quectel::QuectelOptions {
        ram_budget: 4 * 1024 * 1024,
        ..support::quectel_options()
    };
    let (client, module) = support::spawn_client(Family::QuectelGsm);
    let mut mailer = cellmail_quectel::QuectelMailer::new(
        client,
        stack.smtp_account("alice", stack.smtp, Default::default()),
        options,
    );
    let email = Email::builder()
        .from(&stack.user("alice"), None)
        .to(&stack.user("bob"), None)
        .subject(format!("too big {tag}"))
        .body("x")
        .attach(Attachment::from_bytes(
            "huge.bin",
            vec![7u8; 2 * 1024 * 1024],
        ))
        .build()
        .unwrap();
    match mailer.send(&email).await {
        Err(e @ MailError::Invalid { .. }) => {
            assert!(!e.is_transient());
            let text = e.to_string();
            assert!(
                text.contains("attachments[0]") && text.contains("2097152 bytes"),
                "{text}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(module.file("RAM:huge.bin"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quectel_plain() {
    let stack = Stack::from_env();
    let tag = unique("quectel-plain");
    let (mut mailer, _module) = quectel(
        &stack,
        stack.smtp_account("alice", stack.smtp, Default::default()),
    );
    mailer
        .send(&simple(&stack, "alice", "bob", &tag))
        .await
        .unwrap();
    assert_eq!(
        stack
            .wait_for("bob", &tag)
            .await
            .text_body()
            .unwrap()
            .trim_end(),
        format!("reading for {tag}")
    );
}

async fn a76xx_tls(mode: TlsMode, port_of: fn(&Stack) -> u16) {
    let stack = Stack::from_env();
    let tag = unique(&format!("a76xx-{mode:?}"));
    let ca = std::fs::read(&stack.ca).unwrap();
    let tls = cellmail::TlsSettings {
        mode,
        verify: cellmail::Verify::Server {
            ca: cellmail::CertSource::Pem(ca),
        },
        ignore_module_clock: true,
        ..Default::default()
    };
    let (mut mailer, module) = a76xx(stack.smtp_account("alice", port_of(&stack), tls));
    let dir = std::env::temp_dir().join(&tag);
    std::fs::create_dir_all(&dir).unwrap();
    let host_file = dir.join("log.txt");
    std::fs::write(&host_file, b"boot ok\nreading 42.7\n").unwrap();
    module.put_file("C:/photo.jpg", vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 1, 2, 3]);
    let email = Email::builder()
        .from(&stack.user("alice"), Some("Meter 17"))
        .to(&stack.user("bob"), None)
        .cc(&stack.user("carol"), None)
        .bcc(&stack.user("dave"), None)
        .charset(Charset::Utf8)
        .subject(format!("Zähler {tag}"))
        .body("42,7 m³\r\n")
        .attach(Attachment::from_file(&host_file).unwrap())
        .attach(Attachment::from_bytes("mem.bin", vec![1u8, 2, 3, 0, 255]))
        .attach(Attachment::from_module("C:/photo.jpg").unwrap())
        .build()
        .unwrap();
    mailer.send(&email).await.unwrap();
    for user in ["bob", "carol", "dave"] {
        let msg = stack.wait_for(user, &tag).await;
        assert_eq!(msg.subject().unwrap(), format!("Zähler {tag}"));
        assert_eq!(msg.from()[0].name.as_deref(), Some("Meter 17"));
        let att = msg.attachments();
        assert_eq!(att[0].bytes, b"boot ok\nreading 42.7\n");
        assert_eq!(att[1].bytes, [1u8, 2, 3, 0, 255]);
        assert_eq!(att[2].bytes, [0xFF, 0xD8, 0xFF, 0xE0, 0, 1, 2, 3]);
        assert!(!msg.has_bcc_header());
    }
    // The uploaded copies are gone from the module; its own file stays.
    assert_eq!(module.file("C:/log.txt"), None);
    assert_eq!(module.file("C:/mem.bin"), None);
    assert!(module.file("C:/photo.jpg").is_some());
    let tag2 = unique("a76xx-second");
    mailer
        .send(&simple(&stack, "alice", "bob", &tag2))
        .await
        .unwrap();
    stack.wait_for("bob", &tag2).await;
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a76xx_starttls_with_attachments_from_host_file_memory_and_module() {
    a76xx_tls(TlsMode::StartTls, |s| s.smtp).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a76xx_implicit_tls() {
    a76xx_tls(TlsMode::Implicit, |s| s.smtps).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a76xx_plain_and_no_pop3() {
    let stack = Stack::from_env();
    let tag = unique("a76xx-plain");
    let (mut mailer, _module) = a76xx(stack.smtp_account("alice", stack.smtp, Default::default()));
    mailer
        .send(&simple(&stack, "alice", "bob", &tag))
        .await
        .unwrap();
    assert_eq!(
        stack
            .wait_for("bob", &tag)
            .await
            .text_body()
            .unwrap()
            .trim_end(),
        format!("reading for {tag}")
    );
    let e = cellmail::Mailbox::stat(&mut mailer).await.unwrap_err();
    assert!(matches!(e, MailError::Unsupported { .. }), "{e:?}");
}

/// A real SIM5360 cannot attach a file its file system does not hold; neither may the virtual
/// one (it once answered `+SMTP: SUCCESS` and sent the mail without it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sim5360_module_attachment_that_does_not_exist_is_refused_and_nothing_is_sent() {
    let stack = Stack::from_env();
    let tag = unique("sim5360-missing");
    let (mut mailer, _module) = sim5360(&stack, "alice", "carol", Vec::new());
    let email = Email::builder()
        .from(&stack.user("alice"), None)
        .to(&stack.user("carol"), None)
        .subject(format!("Photo {tag}"))
        .body("See the attached photo.")
        .attach(Attachment::from_module("C:/Picture/not-there.jpg").unwrap())
        .build()
        .unwrap();
    let err = mailer.send(&email).await.unwrap_err();
    assert!(
        matches!(err, MailError::Modem(_) | MailError::Invalid { .. }),
        "{err:?}"
    );
    assert!(!stack.maildir_has("carol", &tag));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sim5360_send_with_module_attachment_then_pop3() {
    let stack = Stack::from_env();
    let tag = unique("sim5360");
    let files = vec![(
        "C:/Picture/20100202_100006.jpg".to_owned(),
        vec![1u8, 2, 3, 250, 251],
    )];
    let (mut mailer, module) = sim5360(&stack, "alice", "carol", files);
    let email = Email::builder()
        .from(&stack.user("alice"), Some("Meter"))
        .to(&stack.user("carol"), Some("Carol"))
        .bcc(&stack.user("dave"), None)
        .subject(format!("Photo {tag}"))
        .body("See the attached photo.")
        .attach(Attachment::from_module("C:/Picture/20100202_100006.jpg").unwrap())
        .build()
        .unwrap();
    mailer.send(&email).await.unwrap();
    let msg = stack.wait_for("carol", &tag).await;
    assert_eq!(msg.attachments()[0].bytes, [1u8, 2, 3, 250, 251]);
    stack.wait_for("dave", &tag).await;
    let stat = mailer.stat().await.unwrap();
    let mut found = None;
    for id in 1..=stat.count {
        if mailer
            .headers(id)
            .await
            .unwrap()
            .subject()
            .is_some_and(|s| s.contains(&tag))
        {
            found = Some(id);
        }
    }
    let id = found.expect("the mail is in carol's mailbox");
    let msg = mailer.retrieve(id).await.unwrap();
    assert_eq!(msg.subject().unwrap(), format!("Photo {tag}"));
    // Issue 14 §4: the attachment AT+POP3GET saved, named with its module
    // path and size (the virtual module lists the folder as §4.7 shows).
    let [file] = msg.module_files() else {
        panic!("{:?}", msg.module_files())
    };
    assert_eq!(file.name(), "20100202_100006.jpg");
    assert_eq!(file.size, Some(5));
    let folder = file.path.folder().unwrap().to_owned();
    assert!(folder.starts_with("C:/Email/"), "{folder}");
    assert_eq!(
        module.file(file.path.as_str()),
        Some(vec![1u8, 2, 3, 250, 251])
    );
    // §4.7: AT+FSCD=C:/Email, then AT+FSLS lists the saved mail's folder.
    use cellmail_simcom::sim5360::commands as cmd;
    let client = mailer.client();
    let cd = client
        .execute(&cmd::change_directory("C:/Email"))
        .await
        .unwrap();
    assert_eq!(cd.info, ["+FSCD: C:/Email/"]);
    let ls = client.execute(&cmd::list_directory()).await.unwrap();
    assert_eq!(ls.info[0], "+FSLS: SUBDIRECTORIES:");
    assert!(
        ls.info.iter().any(|l| folder.ends_with(l.as_str())),
        "{ls:?}"
    );
    mailer.delete(id).await.unwrap();
    mailer.close().await.unwrap();
    assert!(
        !stack.maildir_has("carol", &tag),
        "the deletion took effect at logout"
    );
}

/// After a failure, the next mail on the same connection goes through.
async fn recovers(mailer: &mut dyn MailSender, stack: &Stack) {
    let tag = unique("recovered");
    mailer
        .send(&simple(stack, "alice", "bob", &tag))
        .await
        .unwrap();
    stack.wait_for("bob", &tag).await;
}

fn anonymous(stack: &Stack) -> cellmail::SmtpAccount {
    let mut a = stack.smtp_account("alice", stack.smtp, Default::default());
    a.auth = cellmail::Auth::None;
    a
}

fn wrong_password(stack: &Stack) -> cellmail::SmtpAccount {
    let mut a = stack.smtp_account("alice", stack.smtp, Default::default());
    a.auth = cellmail::Auth::Login {
        user: stack.user("alice"),
        password: cellmail::Secret::new("wrong-password"),
    };
    a
}

fn good(stack: &Stack) -> cellmail::SmtpAccount {
    stack.smtp_account("alice", stack.smtp, Default::default())
}

/// `bad` fails as `expected` says; then a good mailer on the same serial
/// connection sends a mail that arrives.
macro_rules! fails_then_recovers {
    ($stack:expr, $family:ident, $bad:expr, $email:expr, $expected:pat) => {{
        let stack = $stack;
        let (client, _module) = spawn_client(Family::$family);
        let mut mailer = on(Family::$family, client, $bad, &stack);
        let e = mailer.send(&$email).await.unwrap_err();
        assert!(matches!(e, $expected), "{:?}: {e:?}", Family::$family);
        let mut mailer = on(Family::$family, mailer.into_client(), good(&stack), &stack);
        recovers(mailer.as_mut(), &stack).await;
    }};
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_password_is_auth_on_every_family() {
    let stack = Stack::from_env();
    let email = simple(&stack, "alice", "bob", "wrong");
    fails_then_recovers!(
        &stack,
        QuectelGsm,
        wrong_password(&stack),
        email,
        MailError::Auth { .. }
    );
    fails_then_recovers!(
        &stack,
        Sim7000,
        wrong_password(&stack),
        email,
        MailError::Auth { .. }
    );
    fails_then_recovers!(
        &stack,
        Sim5360,
        wrong_password(&stack),
        email,
        MailError::Auth { .. }
    );
    fails_then_recovers!(
        &stack,
        A76xx,
        wrong_password(&stack),
        email,
        MailError::Auth { .. }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_denied_is_rejected_or_bad_recipient() {
    let stack = Stack::from_env();
    let outside = Email::builder()
        .from(&stack.user("alice"), None)
        .to("someone@example.com", None)
        .subject("x")
        .build()
        .unwrap();
    fails_then_recovers!(
        &stack,
        QuectelGsm,
        anonymous(&stack),
        outside,
        MailError::Rejected { code: 554, .. }
    );
    fails_then_recovers!(
        &stack,
        Sim7000,
        anonymous(&stack),
        outside,
        MailError::BadRecipient { .. }
    );
    fails_then_recovers!(
        &stack,
        Sim5360,
        anonymous(&stack),
        outside,
        MailError::BadRecipient { .. }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopped_server_is_network() {
    let stack = Stack::from_env();
    let mut down = good(&stack);
    down.server.port = closed_port();
    let email = simple(&stack, "alice", "bob", "down");
    fails_then_recovers!(
        &stack,
        QuectelGsm,
        down.clone(),
        email,
        MailError::Network { .. }
    );
    fails_then_recovers!(
        &stack,
        Sim7000,
        down.clone(),
        email,
        MailError::Network { .. }
    );
    fails_then_recovers!(&stack, Sim5360, down, email, MailError::Network { .. });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_server_name_is_dns() {
    let stack = Stack::from_env();
    let mut unknown = good(&stack);
    unknown.server.host = "no-such-host.invalid".into();
    let email = simple(&stack, "alice", "bob", "dns");
    fails_then_recovers!(
        &stack,
        QuectelGsm,
        unknown.clone(),
        email,
        MailError::Dns { .. }
    );
    fails_then_recovers!(&stack, Sim7000, unknown, email, MailError::Dns { .. });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn untrusted_certificate_with_verification_fails() {
    let stack = Stack::from_env();
    // A CA that did not sign the server's certificate.
    let other_ca = std::fs::read(std::env::var("CELLMAIL_OTHER_CA_CERT").unwrap()).unwrap();
    let mut strict = stack.smtp_account("alice", stack.smtps, Default::default());
    strict.tls = cellmail::TlsSettings {
        mode: TlsMode::Implicit,
        verify: cellmail::Verify::Server {
            ca: cellmail::CertSource::Pem(other_ca),
        },
        ..Default::default()
    };
    let email = simple(&stack, "alice", "bob", "tls");
    // Quectel reports a failed handshake as -5 (network error): its table has no TLS code.
    fails_then_recovers!(&stack, QuectelGsm, strict, email, MailError::Network { .. });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sim7000_streams_a_host_file_attachment_through_smtpft() {
    let stack = Stack::from_env();
    let tag = unique("sim7000-file");
    let (mut mailer, _module) = sim7000(&stack, "alice", "bob");
    let dir = std::env::temp_dir().join(&tag);
    std::fs::create_dir_all(&dir).unwrap();
    // Larger than many AT+SMTPFT grants, and every byte value.
    let content: Vec<u8> = (0..300_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let path = dir.join("trace.bin");
    std::fs::write(&path, &content).unwrap();
    let email = Email::builder()
        .from(&stack.user("alice"), Some("Tracker 9"))
        .to(&stack.user("bob"), None)
        .subject(format!("Trace {tag}"))
        .body("The trace of last night.")
        .attach(Attachment::from_file(&path).unwrap())
        .build()
        .unwrap();
    mailer.send(&email).await.unwrap();
    let msg = stack.wait_for("bob", &tag).await;
    let attachments = msg.attachments();
    assert_eq!(attachments.len(), 1);
    assert_eq!(attachments[0].name.as_deref(), Some("trace.bin"));
    assert_eq!(attachments[0].bytes, content);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The virtual SIM7000 reports lengths of its own in its test forms
/// (subject 200, body 8192: not the built-in 256 and 4096) and refuses
/// longer writes: the mailer asks them and checks mail against them, so a
/// body the built-in numbers refuse arrives, and a subject they allow is
/// refused before any byte of the mail.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sim7000_checks_mail_against_the_lengths_the_module_reports() {
    let stack = Stack::from_env();
    let tag = unique("sim7000-lengths");
    let (mut mailer, _module) = sim7000(&stack, "alice", "bob");
    let built_in = cellmail_simcom::sim7000::capabilities().limits;
    let mut subject = format!("Lengths {tag} ");
    while subject.len() < 230 {
        subject.push('s');
    }
    assert!(subject.len() <= built_in.subject_ascii);
    let mail = |subject: &str, body: String| {
        Email::builder()
            .from(&stack.user("alice"), None)
            .to(&stack.user("bob"), None)
            .subject(subject)
            .body(body)
            .build()
            .unwrap()
    };
    match mailer.send(&mail(&subject, "short".into())).await {
        Err(MailError::Invalid { field, reason, .. }) => {
            assert_eq!(field, "subject");
            assert!(reason.contains("200"), "{reason}");
        }
        other => panic!("expected Invalid subject, got {other:?}"),
    }
    assert_eq!(mailer.capabilities().limits.body, 8192);
    let body: String = (0..6000).map(|i| (b'a' + (i % 26) as u8) as char).collect();
    assert!(body.len() > built_in.body);
    mailer
        .send(&mail(&format!("Lengths {tag}"), body.clone()))
        .await
        .unwrap();
    let msg = stack.wait_for("bob", &tag).await;
    assert_eq!(
        msg.text_body().as_deref().map(str::trim_end),
        Some(body.as_str())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quectel_gb2312_mail_arrives_in_its_charset() {
    let stack = Stack::from_env();
    let tag = unique("quectel-gb2312");
    let (mut mailer, _module) = quectel(
        &stack,
        stack.smtp_account("alice", stack.smtp, Default::default()),
    );
    let email = Email::builder()
        .from(&stack.user("alice"), Some("Meter"))
        .to(&stack.user("bob"), None)
        .charset(Charset::Gb2312)
        .subject(format!("电表读数 {tag}"))
        .body("读数：42,7 立方米\r\n")
        .build()
        .unwrap();
    mailer.send(&email).await.unwrap();
    let msg = stack.wait_for("bob", &tag).await;
    assert_eq!(msg.subject().unwrap(), format!("电表读数 {tag}"));
    assert_eq!(msg.text_body().unwrap().trim_end(), "读数：42,7 立方米");
    assert!(
        msg.header("Content-Type")
            .is_some_and(|t| t.to_ascii_lowercase().contains("gb2312")),
        "{:?}",
        msg.header("Content-Type")
    );
}

/// The virtual module's faults, as a field device meets them.
mod faults {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn quectel_bearer_lost_is_network_and_the_next_mail_brings_it_back() {
        let stack = Stack::from_env();
        let (mut mailer, module) = quectel(&stack, good(&stack));
        recovers(&mut mailer, &stack).await;
        // The network releases the context: the module says `+PDP DEACT`,
        // QIACT fails while it is gone, and the send ends as a network fault.
        module.faults().bearer_lost(true);
        let e = mailer
            .send(&simple(&stack, "alice", "bob", "no-bearer"))
            .await
            .unwrap_err();
        assert!(matches!(e, MailError::Network { .. }), "{e:?}");
        assert!(e.is_transient());
        module.faults().bearer_lost(false);
        recovers(&mut mailer, &stack).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn quectel_reboot_between_mails_is_survived() {
        let stack = Stack::from_env();
        let (mut mailer, module) = quectel(&stack, good(&stack));
        recovers(&mut mailer, &stack).await;
        // The module reboots: the command in flight is lost, `RDY` arrives
        // and every setting is gone.
        module.faults().reboot();
        let started = std::time::Instant::now();
        let e = mailer
            .send(&simple(&stack, "alice", "bob", "reboot"))
            .await
            .unwrap_err();
        // The command the module was rebooting through gets no answer: its
        // `RDY` ends the wait at once, not the command timeout.
        assert!(
            matches!(e, MailError::Modem(cellmail_at::AtError::Rebooted { .. })),
            "{e:?}"
        );
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        assert!(e.is_transient(), "a reboot is worth retrying: {e:?}");
        // The mailer noticed `RDY`: the next mail configures everything again.
        recovers(&mut mailer, &stack).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sim7000_reboot_between_mails_is_survived() {
        let stack = Stack::from_env();
        let (mut mailer, module) = sim7000(&stack, "alice", "bob");
        recovers(&mut mailer, &stack).await;
        module.faults().reboot();
        let started = std::time::Instant::now();
        let e = mailer
            .send(&simple(&stack, "alice", "bob", "reboot"))
            .await
            .unwrap_err();
        // The command the module was rebooting through gets no answer: its
        // `RDY` ends the wait at once, not the command timeout.
        assert!(
            matches!(e, MailError::Modem(cellmail_at::AtError::Rebooted { .. })),
            "{e:?}"
        );
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        assert!(e.is_transient(), "a reboot is worth retrying: {e:?}");
        recovers(&mut mailer, &stack).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sim7000_bearer_released_is_network_and_the_next_mail_reopens_it() {
        let stack = Stack::from_env();
        let (mut mailer, module) = sim7000(&stack, "alice", "bob");
        recovers(&mut mailer, &stack).await;
        // The network drops the bearer: `+SAPBR 1: DEACT`, and the send fails (61).
        module.faults().bearer_lost(true);
        let e = mailer
            .send(&simple(&stack, "alice", "bob", "no-bearer"))
            .await
            .unwrap_err();
        assert!(matches!(e, MailError::Network { .. }), "{e:?}");
        module.faults().bearer_lost(false);
        // The mailer saw the URC: AT+SAPBR opens the bearer again before the mail.
        recovers(&mut mailer, &stack).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sim7000_dns_failure_is_dns_then_recovers() {
        let stack = Stack::from_env();
        let (mut mailer, module) = sim7000(&stack, "alice", "bob");
        module.faults().dns_failure(true);
        let e = mailer
            .send(&simple(&stack, "alice", "bob", "dns-fault"))
            .await
            .unwrap_err();
        assert!(matches!(e, MailError::Dns { .. }), "{e:?}");
        assert_eq!(
            e.vendor_code().map(|c| c.to_string()).as_deref(),
            Some("62")
        );
        module.faults().dns_failure(false);
        recovers(&mut mailer, &stack).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sim5360_unreachable_server_is_network_then_recovers() {
        let stack = Stack::from_env();
        let (client, module) = spawn_client(Family::Sim5360);
        let mut mailer = on(Family::Sim5360, client, good(&stack), &stack);
        module.faults().unreachable(true);
        let e = mailer
            .send(&simple(&stack, "alice", "bob", "unreachable"))
            .await
            .unwrap_err();
        assert!(matches!(e, MailError::Network { .. }), "{e:?}");
        module.faults().unreachable(false);
        recovers(mailer.as_mut(), &stack).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sim5360_result_delayed_past_the_timeout_is_timeout_then_recovers() {
        let stack = Stack::from_env();
        let (client, module) = spawn_client(Family::Sim5360);
        let mut mailer = cellmail_simcom::Sim5360Mailer::new(
            client,
            good(&stack),
            cellmail_simcom::Sim5360Options {
                result_timeout: std::time::Duration::from_secs(3),
                ..Default::default()
            },
        );
        module
            .faults()
            .delay(Some(std::time::Duration::from_secs(6)));
        let e = mailer
            .send(&simple(&stack, "alice", "bob", "late"))
            .await
            .unwrap_err();
        // The host gave up waiting (the module itself reported nothing).
        assert!(
            matches!(e, MailError::Modem(cellmail_at::AtError::Timeout { .. })),
            "{e:?}"
        );
        assert!(e.is_transient());
        module.faults().delay(None);
        // The late `+SMTP: SUCCESS` of the first mail is not taken for this one's.
        recovers(&mut mailer, &stack).await;
    }
}

/// Messages whose lines an AT reader can mistake (issue 17), delivered
/// through Postfix and read back through the virtual modules of both SIMCom
/// families: the SIM7000 hands the server's bytes over, the SIM5360 its
/// digest (§2, §4.4), flagged as such, its lines reading `OK` or `ERROR`
/// kept (the module's silence, not the line, ends its answer).
mod hostile_mailbox {
    use super::*;
    use cellmail::{Fidelity, Lost, Message};

    const TRICKY: &str = "Verbrauch: 42,7 m³\r\nCMD: reboot\r\n\r\n+POP3READ: 1,5\r\nRDY\r\n+POP3: SUCCESS\r\n.\r\n..\r\nWord: text\r\n";

    fn text(tag: &str, case: &str, body: &str) -> Vec<u8> {
        format!(
            "From: Meter <meter@cellmail.test>\r\nTo: carol@cellmail.test\r\nSubject: {tag} {case}\r\n\
             MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{body}"
        )
        .into_bytes()
    }

    fn alternative(tag: &str) -> Vec<u8> {
        format!(
            "From: Meter <meter@cellmail.test>\r\nTo: carol@cellmail.test\r\nSubject: {tag} alternative\r\n\
             MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=\"b1\"\r\n\r\n\
             --b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nCMD: reboot\r\n\
             --b1\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>CMD: reboot</p>\r\n--b1--\r\n"
        )
        .into_bytes()
    }

    fn with_attachment(tag: &str) -> Vec<u8> {
        format!(
            "From: Meter <meter@cellmail.test>\r\nTo: carol@cellmail.test\r\nSubject: {tag} attachment\r\n\
             MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b2\"\r\n\r\n\
             --b2\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThe log is attached.\r\n\
             --b2\r\nContent-Type: application/octet-stream; name=\"log.bin\"\r\n\
             Content-Disposition: attachment; filename=\"log.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n\
             AAEC+vv8\r\n--b2--\r\n"
        )
        .into_bytes()
    }

    /// 200 KB of text in 2,700 lines of 75 characters.
    fn large_body() -> String {
        (0..2700)
            .map(|i| format!("{i:05} {}\r\n", "x".repeat(68)))
            .collect()
    }

    /// Delivers the cases (subjects `<tag> <case>`) and waits for them.
    async fn deliver_all(stack: &Stack, tag: &str) {
        let cases = [
            text(tag, "tricky", TRICKY),
            text(tag, "ok-line", "first\r\nOK\r\nlast\r\n"),
            text(tag, "error-line", "first\r\nERROR\r\nlast\r\n"),
            text(tag, "large", &large_body()),
            alternative(tag),
            with_attachment(tag),
        ];
        for raw in &cases {
            stack.deliver("carol", raw).await;
        }
        for case in [
            "tricky",
            "ok-line",
            "error-line",
            "large",
            "alternative",
            "attachment",
        ] {
            stack.wait_for("carol", &format!("{tag} {case}")).await;
        }
    }

    /// The ids of this run's messages, by case.
    async fn ids(mailbox: &mut dyn Mailbox, tag: &str) -> std::collections::HashMap<String, u32> {
        let mut out = std::collections::HashMap::new();
        for info in mailbox.list().await.unwrap() {
            let head = mailbox.headers(info.id).await.unwrap();
            if let Some(case) = head
                .subject()
                .and_then(|s| s.strip_prefix(&format!("{tag} ")).map(str::to_owned))
            {
                out.insert(case, info.id);
            }
        }
        assert_eq!(out.len(), 6, "{out:?}");
        out
    }

    fn lost(msg: &Message) -> Vec<Lost> {
        match msg.fidelity() {
            Fidelity::Digest(lost) => lost.clone(),
            Fidelity::Exact => panic!("a SIM5360 message is the module's digest"),
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn hostile_messages_come_back_intact_or_flagged_on_both_simcom_families() {
        let stack = Stack::from_env();
        let tag = unique("hostile");
        deliver_all(&stack, &tag).await;

        // SIM7000: the server's bytes, length-delimited blocks.
        let (mut m, _module) = sim7000(&stack, "alice", "carol");
        let id = ids(&mut m, &tag).await;
        for case in ["tricky", "ok-line", "error-line"] {
            let msg = m.retrieve(id[case]).await.unwrap();
            assert_eq!(msg.fidelity(), &Fidelity::Exact);
            let want = match case {
                "tricky" => TRICKY,
                "ok-line" => "first\r\nOK\r\nlast\r\n",
                _ => "first\r\nERROR\r\nlast\r\n",
            };
            assert_eq!(msg.text_body().as_deref(), Some(want), "{case}");
        }
        let large = m.retrieve(id["large"]).await.unwrap();
        assert_eq!(large.text_body().unwrap(), large_body());
        let alt = m.retrieve(id["alternative"]).await.unwrap();
        assert_eq!(alt.text_body().as_deref(), Some("CMD: reboot"));
        let att = m.retrieve(id["attachment"]).await.unwrap();
        assert_eq!(att.attachments()[0].bytes, [0u8, 1, 2, 250, 251, 252]);
        m.close().await.unwrap();

        // SIM5360: the module's digest, its blank lines kept.
        let (mut m, module) = sim5360(&stack, "alice", "carol", Vec::new());
        let id = ids(&mut m, &tag).await;
        let tricky = m.retrieve(id["tricky"]).await.unwrap();
        assert_eq!(tricky.text_body().as_deref(), Some(TRICKY));
        // Its folder listed: only the text file, nothing lost.
        assert_eq!(lost(&tricky), []);
        assert!(tricky.module_files().is_empty());
        // A line reading `OK` or `ERROR` with text after it is the mail's
        // own (the module keeps printing); only the `OK` it keeps quiet
        // after ends the answer.
        for (case, want) in [
            ("ok-line", "first\r\nOK\r\nlast\r\n"),
            ("error-line", "first\r\nERROR\r\nlast\r\n"),
        ] {
            let msg = m.retrieve(id[case]).await.unwrap();
            assert_eq!(msg.text_body().as_deref(), Some(want), "{case}");
            assert_eq!(lost(&msg), [], "{case}");
        }
        let large = m.retrieve(id["large"]).await.unwrap();
        assert_eq!(large.text_body().unwrap(), large_body());
        let alt = m.retrieve(id["alternative"]).await.unwrap();
        assert_eq!(alt.text_body().as_deref(), Some("CMD: reboot\r\n"));
        let att = m.retrieve(id["attachment"]).await.unwrap();
        assert_eq!(att.text_body().as_deref(), Some("The log is attached.\r\n"));
        let [Lost::AttachmentsOnModule { folder }] = &lost(&att)[..] else {
            panic!("{:?}", att.fidelity())
        };
        // The virtual module saved the attachment where the flag says, and
        // the message names it there (issue 14 §4).
        let path = format!("{}/log.bin", folder.trim_end_matches('/'));
        assert_eq!(module.file(&path), Some(vec![0u8, 1, 2, 250, 251, 252]));
        let [file] = att.module_files() else {
            panic!("{:?}", att.module_files())
        };
        assert_eq!((file.path.as_str(), file.size), (path.as_str(), Some(6)));
        m.close().await.unwrap();
    }

    /// Issue 14 §4 on the card: `AT+FSLOCA=1` saves into `D:/Email`, and
    /// `SavedMail::KeepAttachments` leaves only the attachments there: a
    /// plain mail's folder is gone, an attachment's folder keeps the file the
    /// message names, without the text file.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sim5360_card_storage_keeps_only_the_attachments() {
        use cellmail_simcom::sim5360::{MailStorage, SavedMail};
        let stack = Stack::from_env();
        let tag = unique("card");
        stack
            .deliver("dave", &text(&tag, "plain", "hello\r\n"))
            .await;
        stack.deliver("dave", &with_attachment(&tag)).await;
        for case in ["plain", "attachment"] {
            stack.wait_for("dave", &format!("{tag} {case}")).await;
        }
        let (mut m, module) = sim5360_with(
            &stack,
            "alice",
            "dave",
            Vec::new(),
            MailStorage::Card,
            SavedMail::KeepAttachments,
        );
        let mut id = std::collections::HashMap::new();
        for info in m.list().await.unwrap() {
            let head = m.headers(info.id).await.unwrap();
            if let Some(case) = head
                .subject()
                .and_then(|s| s.strip_prefix(&format!("{tag} ")).map(str::to_owned))
            {
                id.insert(case, info.id);
            }
        }
        let plain = m.retrieve(id["plain"]).await.unwrap();
        assert_eq!(plain.text_body().as_deref(), Some("hello\r\n"));
        assert_eq!(lost(&plain), []);
        let att = m.retrieve(id["attachment"]).await.unwrap();
        let [file] = att.module_files() else {
            panic!("{:?}", att.module_files())
        };
        assert!(file.path.as_str().starts_with("D:/Email/"), "{file:?}");
        assert_eq!(
            module.file(file.path.as_str()),
            Some(vec![0u8, 1, 2, 250, 251, 252])
        );
        let folder = file.path.folder().unwrap().to_owned();
        assert_eq!(module.file(&format!("{folder}/EMAIL000.TXT")), None);
        // D:/Email holds the attachment's folder only.
        use cellmail_simcom::sim5360::commands as cmd;
        let client = m.client();
        client
            .execute(&cmd::change_directory("D:/Email"))
            .await
            .unwrap();
        let ls = client.execute(&cmd::list_directory()).await.unwrap();
        let name = folder.rsplit('/').next().unwrap();
        assert_eq!(ls.info, ["+FSLS: SUBDIRECTORIES:", name], "{ls:?}");
        m.close().await.unwrap();
    }

    /// An id outside what `stat()` said is `Invalid` on both families that
    /// read mail, permanent, and refused before a byte (a retry loop must
    /// not spin on it); the session goes on.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn ids_the_mailbox_does_not_have_are_invalid_before_a_byte_on_both_simcom_families() {
        let stack = Stack::from_env();
        stack
            .deliver("dave", &text(&unique("ids"), "one", "hello\r\n"))
            .await;
        let (mut a, _m1) = sim7000(&stack, "alice", "dave");
        let (mut b, _m2) = sim5360(&stack, "alice", "dave", Vec::new());
        let families: [(&str, &mut dyn Mailbox); 2] = [("SIM7000", &mut a), ("SIM5360", &mut b)];
        for (family, mailbox) in families {
            let stat = mailbox.stat().await.unwrap();
            assert!(stat.count >= 1, "{family}: {stat:?}");
            let beyond = stat.count + 1;
            for (call, err) in [
                (
                    "retrieve(count + 1)",
                    mailbox.retrieve(beyond).await.map(drop),
                ),
                ("headers(0)", mailbox.headers(0).await.map(drop)),
                ("delete(count + 1)", mailbox.delete(beyond).await),
                ("retrieve(9999)", mailbox.retrieve(9999).await.map(drop)),
            ] {
                match err {
                    Err(e @ MailError::Invalid { .. }) => {
                        assert!(!e.is_transient(), "{family} {call}");
                        assert!(e.to_string().contains("message id"), "{family} {call}: {e}");
                    }
                    other => panic!("{family} {call}: {other:?}"),
                }
            }
            // The session goes on: the last message is there.
            mailbox.headers(stat.count).await.unwrap();
        }
        // No byte of the refused calls: each refusal left the byte count as
        // it was (checked on the clients, whose stats count every byte).
        let before = a.client().stats().bytes_written;
        assert!(a.retrieve(0).await.is_err());
        assert_eq!(a.client().stats().bytes_written, before, "SIM7000");
        let before = b.client().stats().bytes_written;
        assert!(b.delete(u32::MAX).await.is_err());
        assert_eq!(b.client().stats().bytes_written, before, "SIM5360");
        a.close().await.unwrap();
        b.close().await.unwrap();
    }
}
