//! Every Quectel golden transcript (tests/transcripts/quectel-gsm) replayed
//! byte-exact: the manuals' examples through the typed commands, the mailer's
//! own transcripts through `QuectelMailer`.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod support;

use cellmail::{
    Attachment, Auth, Bearer, CertSource, Charset, Email, MailError, MailSender, Secret,
    ServerAddr, SmtpAccount, TlsMode, TlsSettings, VendorCode, Verify,
};
use cellmail_quectel::commands::{
    self as cmd, AttachmentIndex, CipherSuite, RecipientType, SecLevel, SendTimeout, SmtpStyle,
    SslContext, SslSetting, SslVersion, TransferTimeout, prefix,
};
use cellmail_quectel::policy::{BodyStored, body_stored};
use cellmail_quectel::{QuectelMailer, QuectelOptions, RetryPolicy};
use support::*;

fn put(secs: u32) -> Option<SendTimeout> {
    Some(SendTimeout::new(secs).unwrap())
}

fn within(secs: u32) -> Option<TransferTimeout> {
    Some(TransferTimeout::new(secs).unwrap())
}

fn ctx0() -> SslContext {
    SslContext::new(0).unwrap()
}

#[tokio::test(start_paused = true)]
async fn configure_server() {
    let mut c = replay("configure-server.at");
    exec(&mut c, cmd::set_server("smtp.163.com", 25)).await;
    exec(&mut c, cmd::set_user("quectel")).await;
    exec(&mut c, cmd::set_password(&Secret::new(PASSWORD))).await;
    done(c);
}

#[tokio::test(start_paused = true)]
async fn configure_sender() {
    let mut c = replay("configure-sender.at");
    exec(&mut c, cmd::set_sender_name("quectel")).await;
    exec(&mut c, cmd::set_sender_address("quectel@163.com")).await;
    done(c);
}

#[tokio::test(start_paused = true)]
async fn recipients_add_delete() {
    let mut c = replay("recipients-add-delete.at");
    assert_eq!(
        result(
            &mut c,
            cmd::add_recipient(RecipientType::Cc, "colin.hu@quectel.com"),
            prefix::DST
        )
        .await,
        0
    );
    let r = exec(&mut c, cmd::read_recipients()).await;
    assert_eq!(
        cmd::parse_recipients(&r),
        [(2, "colin.hu@quectel.com".to_owned())]
    );
    assert_eq!(
        result(
            &mut c,
            cmd::delete_recipient(RecipientType::Cc, "colin.hu@quectel.com"),
            prefix::DST
        )
        .await,
        0
    );
    assert_eq!(
        result(
            &mut c,
            cmd::add_recipient(RecipientType::To, "ops@example.com"),
            prefix::DST
        )
        .await,
        0
    );
    assert_eq!(
        result(
            &mut c,
            cmd::add_recipient(RecipientType::Bcc, "audit@example.com"),
            prefix::DST
        )
        .await,
        0
    );
    assert_eq!(
        result(
            &mut c,
            cmd::delete_recipients_of(RecipientType::Bcc),
            prefix::DST
        )
        .await,
        0
    );
    assert_eq!(
        result(&mut c, cmd::delete_all_recipients(), prefix::DST).await,
        0
    );
    let r = exec(&mut c, cmd::test_recipients()).await;
    assert_eq!(r.info, ["+QSMTPDST: (0,1),(1-3),\"ADDRESS\""]);
    done(c);
}

#[tokio::test(start_paused = true)]
async fn body_and_attachment_through_the_uart() {
    let mut c = replay("body-and-attachment-uart.at");
    exec(
        &mut c,
        cmd::set_subject(Charset::Ascii, b"SMTP TEST").unwrap(),
    )
    .await;
    upload_escaped(
        &mut c,
        cmd::body(Charset::Utf8, within(10)),
        &data("body-2009.txt"),
    )
    .await;
    assert_eq!(deferred(&mut c, prefix::BODY).await, 2009);
    upload_escaped(
        &mut c,
        cmd::attach_serial_unsized("bigfile.txt"),
        &data("bigfile.txt"),
    )
    .await;
    assert_eq!(deferred(&mut c, prefix::ATT).await, 20090);
    let r = exec(&mut c, cmd::read_attachments()).await;
    let rows = cmd::parse_attachments(&r);
    assert_eq!(
        (rows[0].index, rows[0].name.as_str(), rows[0].size),
        (1, "bigfile.txt", 20090)
    );
    assert_eq!(
        result(
            &mut c,
            cmd::delete_attachment(AttachmentIndex::new(1).unwrap()),
            prefix::DATT
        )
        .await,
        0
    );
    done(c);
}

#[tokio::test(start_paused = true)]
async fn ufs_attachment() {
    let mut c = replay("ufs-attachment.at");
    assert_eq!(
        result(
            &mut c,
            cmd::attach_module_file("/UFS/attach.txt"),
            prefix::ATT
        )
        .await,
        20100
    );
    let rows = cmd::parse_attachments(&exec(&mut c, cmd::read_attachments()).await);
    assert_eq!(rows.len(), 2);
    assert_eq!(
        (rows[1].name.as_str(), rows[1].size),
        ("/UFS/attach.txt", 20100)
    );
    done(c);
}

#[tokio::test(start_paused = true)]
async fn send() {
    let mut c = replay("send.at");
    exec(&mut c, cmd::foreground_context(0)).await;
    exec(&mut c, cmd::set_apn("CMNET", None, None).unwrap()).await;
    assert_eq!(result(&mut c, cmd::send(put(300)), prefix::PUT).await, 0);
    done(c);
}

#[tokio::test(start_paused = true)]
async fn body_and_send_without_timeouts() {
    let mut c = replay("no-timeouts.at");
    upload_escaped(&mut c, cmd::body(Charset::Utf8, None), b"Hello, welcome!").await;
    assert_eq!(deferred(&mut c, prefix::BODY).await, 15);
    assert_eq!(result(&mut c, cmd::send(None), prefix::PUT).await, 0);
    done(c);
}

#[tokio::test(start_paused = true)]
async fn forms() {
    let mut c = replay("forms.at");
    let answers = [
        (cmd::test_user(), "+QSMTPUSER: \"USER\""),
        (cmd::read_user(), "+QSMTPUSER: \"quectel\""),
        (cmd::test_password(), "+QSMTPPWD: \"PASSWORD\""),
        (cmd::read_password(), "+QSMTPPWD: \"******\""),
        (cmd::test_sender_address(), "+QSMTPADDR: \"ADDRESS\""),
        (
            cmd::read_sender_address(),
            "+QSMTPADDR: \"quectel@163.com\"",
        ),
        (cmd::test_sender_name(), "+QSMTPNAME: \"NAME\""),
        (cmd::read_sender_name(), "+QSMTPNAME: \"quectel\""),
        (cmd::test_server(), "+QSMTPSRV: \"SERVER\",(1-65535)"),
        (cmd::read_server(), "+QSMTPSRV: \"smtp.163.com\",25"),
        (cmd::test_subject(), "+QSMTPSUB: (0-3),\"TITLE\""),
        (cmd::read_subject(), "+QSMTPSUB: 0,\"SMTP TEST\""),
        (cmd::test_body(), "+QSMTPBODY: (0-3),(1-48000)"),
        (
            cmd::test_attachments(),
            "+QSMTPATT: \"FILE NAME\",(0-102400),(1-48000)",
        ),
        (cmd::test_delete_attachment(), "+QSMTPDATT: (1-10)"),
    ];
    for (command, line) in answers {
        assert_eq!(exec(&mut c, command).await.info, [line]);
    }
    assert!(exec(&mut c, cmd::test_clear()).await.info.is_empty());
    assert_eq!(
        exec(&mut c, cmd::test_config()).await.info,
        ["+QSMTPCFG: (1)"]
    );
    let r = exec(&mut c, cmd::query_authentication()).await;
    assert_eq!(
        cmd::first_field(&r, "+QSMTPCFG:").and_then(|f| f.as_int()),
        Some(1)
    );
    exec(&mut c, cmd::set_authentication(false)).await;
    assert_eq!(
        exec(&mut c, cmd::test_send()).await.info,
        ["+QSMTPPUT: (100-48000)"]
    );
    assert_eq!(
        exec(&mut c, cmd::ssl_test()).await.info,
        ["+QSSLCFG: \"type\",(0-5),\"value\""]
    );
    let r = exec(&mut c, cmd::ssl_query_context(ctx0())).await;
    let context = cmd::parse_ssl_context(&r).unwrap();
    assert_eq!(
        context,
        cmd::SslContextConfig {
            ctx: ctx0(),
            version: SslVersion::Tls1_0,
            seclevel: SecLevel::None,
            ciphersuite: "0XFFFF".into(),
            cacert: String::new(),
            clientcert: String::new(),
            clientkey: String::new(),
        }
    );
    assert_eq!(exec(&mut c, cmd::read_attach()).await.info, ["+CGATT: 1"]);
    assert_eq!(
        exec(&mut c, cmd::read_registration()).await.info,
        ["+CGREG: 0,1"]
    );
    exec(&mut c, cmd::set_clock("10/04/23,10:00:00+08")).await;
    assert_eq!(
        exec(&mut c, cmd::read_clock()).await.info,
        ["+CCLK: \"10/04/23,10:00:05+08\""]
    );
    done(c);
}

#[tokio::test(start_paused = true)]
async fn clear_and_delete() {
    let mut c = replay("clear-and-delete.at");
    assert_eq!(
        result(&mut c, cmd::delete_all_attachments(), prefix::DATT).await,
        0
    );
    exec(&mut c, cmd::clear()).await;
    done(c);
}

/// The SMTPS note's three flows differ only in the SSL settings.
async fn smtps(
    file: &str,
    ssl: &[SslSetting],
    queries: &[(&'static str, &str)],
    server: (&str, u16),
    user: &str,
    to: &str,
    subject: &str,
) {
    let mut c = replay(file);
    exec(&mut c, cmd::foreground_context(0)).await;
    exec(&mut c, cmd::set_apn("CMNET", None, None).unwrap()).await;
    exec(&mut c, cmd::register_app()).await;
    exec(&mut c, cmd::activate()).await;
    assert_eq!(exec(&mut c, cmd::local_ip()).await.info, ["10.1.83.188"]);
    for s in ssl {
        exec(&mut c, cmd::ssl_set(s)).await;
    }
    for (key, value) in queries {
        let r = exec(&mut c, cmd::ssl_query(key, None)).await;
        assert_eq!(cmd::parse_ssl_value(&r).as_deref(), Some(*value));
    }
    exec(&mut c, cmd::set_user(user)).await;
    exec(&mut c, cmd::set_password(&Secret::new(PASSWORD))).await;
    exec(&mut c, cmd::set_sender_name("quectel_company")).await;
    exec(&mut c, cmd::set_sender_address(user)).await;
    exec(&mut c, cmd::set_server(server.0, server.1)).await;
    for (kind, address) in [
        (RecipientType::To, to),
        (RecipientType::Cc, "quectel_xxx@hotmail.com"),
        (RecipientType::Bcc, "quectel_xxx@aol.com"),
    ] {
        assert_eq!(
            result(&mut c, cmd::add_recipient(kind, address), prefix::DST).await,
            0
        );
    }
    exec(
        &mut c,
        cmd::set_subject(Charset::Ascii, subject.as_bytes()).unwrap(),
    )
    .await;
    let body = b"Hello, welcome!";
    upload_escaped(&mut c, cmd::body(Charset::Utf8, within(60)), body).await;
    // The note's bytes: 15 sent, 14 reported (§3.1-§3.3 all print it), which
    // the mailer's rule takes as stored and sends (`policy::body_stored`).
    let reported = deferred(&mut c, prefix::BODY).await;
    assert_eq!((body.len(), reported), (15, 14), "as the note prints it");
    assert_eq!(
        body_stored(15, u64::from(reported.unsigned_abs()), true),
        Ok(BodyStored::OneShort)
    );
    // pic.jpg is shorter than the announced maximum: +++ ends it.
    let r = upload_escaped(&mut c, cmd::upload("RAM:pic.jpg", 30000), &data("pic.jpg")).await;
    assert_eq!(cmd::parse_upload(&r), Some((26977, "cea0".into())));
    // file_test.txt fills the announced size: no +++.
    c.begin(&cmd::upload("RAM:file_test.txt", 100))
        .await
        .unwrap();
    c.wait_prompt().await.unwrap();
    c.write_data(&data("file_test.txt")).await.unwrap();
    let r = c.finish().await.unwrap();
    assert_eq!(cmd::parse_upload(&r), Some((100, "7159".into())));
    assert_eq!(
        result(&mut c, cmd::attach_module_file("RAM:pic.jpg"), prefix::ATT).await,
        26977
    );
    assert_eq!(
        result(
            &mut c,
            cmd::attach_module_file("RAM:file_test.txt"),
            prefix::ATT
        )
        .await,
        100
    );
    assert_eq!(
        cmd::parse_attachments(&exec(&mut c, cmd::read_attachments()).await).len(),
        2
    );
    assert_eq!(result(&mut c, cmd::send(put(800)), prefix::PUT).await, 0);
    exec(&mut c, cmd::clear()).await;
    exec(&mut c, cmd::delete_file("RAM:pic.jpg")).await;
    exec(&mut c, cmd::delete_file("RAM:file_test.txt")).await;
    exec(&mut c, cmd::deactivate()).await;
    done(c);
}

#[tokio::test(start_paused = true)]
async fn smtps_without_ssl() {
    smtps(
        "smtps-none.at",
        &[SslSetting::SmtpStyle(SmtpStyle::Plain)],
        &[],
        ("smtp.aol.com", 25),
        "quectel_test@aol.com",
        "quectel_xxx@gmail.com",
        "about smtp e-mail",
    )
    .await;
}

fn ssl(style: SmtpStyle) -> Vec<SslSetting> {
    vec![
        SslSetting::Version(ctx0(), SslVersion::Tls1_0),
        SslSetting::SecLevel(ctx0(), SecLevel::None),
        SslSetting::CipherSuite(ctx0(), CipherSuite::All),
        SslSetting::SmtpStyle(style),
        SslSetting::SmtpsContext(ctx0()),
    ]
}

#[tokio::test(start_paused = true)]
async fn smtps_with_ssl() {
    let queries = [("smtpstyle", "1"), ("smtpsctxi", "0")];
    smtps(
        "smtps-ssl.at",
        &ssl(SmtpStyle::Ssl),
        &queries,
        ("smtp.gmail.com", 465),
        "quecteltestmail@gmail.com",
        "quectel_xxx@gmail.com",
        "about smtps e-mail",
    )
    .await;
}

#[tokio::test(start_paused = true)]
async fn smtps_with_starttls() {
    let queries = [("smtpstyle", "2"), ("smtpsctxi", "0")];
    let user = "quectel_test@hotmail.com";
    smtps(
        "smtps-starttls.at",
        &ssl(SmtpStyle::StartTls),
        &queries,
        ("smtp.live.com", 25),
        user,
        // §3.3 sends to hotmail where §3.1 and §3.2 send to gmail.
        "quectel_xxx@hotmail.com",
        "about smtps starttls e-mail",
    )
    .await;
}

#[tokio::test(start_paused = true)]
async fn send_errors_and_recovery_by_hand() {
    let mut c = replay("send-errors.at");
    for expected in [-535, -4] {
        c.execute(&cmd::send(put(300))).await.unwrap();
        assert_eq!(deferred(&mut c, prefix::PUT).await, expected);
        if expected == -4 {
            // SMTPS note §1.4.2: is the context still up?
            assert_eq!(exec(&mut c, cmd::local_ip()).await.info, ["10.1.83.188"]);
        }
    }
    assert_eq!(result(&mut c, cmd::send(put(300)), prefix::PUT).await, -9);
    exec(&mut c, cmd::deactivate()).await;
    exec(&mut c, cmd::activate()).await;
    assert_eq!(result(&mut c, cmd::send(put(300)), prefix::PUT).await, 0);
    done(c);
}

fn account(user: &str, server: (&str, u16), tls: TlsSettings) -> SmtpAccount {
    SmtpAccount {
        server: ServerAddr::new(server.0, server.1),
        auth: Auth::Login {
            user: user.into(),
            password: Secret::new(PASSWORD),
        },
        tls,
    }
}

#[tokio::test(start_paused = true)]
async fn mailer_two_mails_resend_no_settings() {
    let c = replay("mailer-two-mails.at");
    let mut mailer = QuectelMailer::new(
        c,
        account("quectel", ("smtp.163.com", 25), TlsSettings::default()),
        QuectelOptions::default(),
    );
    let first = Email::builder()
        .from("quectel@163.com", Some("quectel"))
        .to("colin.hu@quectel.com", None)
        .subject("SMTP TEST")
        .body("Hello, welcome!")
        .build()
        .unwrap();
    let report = mailer.send(&first).await.unwrap();
    assert_eq!(report.module_result, "+QSMTPPUT: 0");
    assert_eq!(report.commands, 12, "the style asked, not written");
    let second = Email::builder()
        .from("quectel@163.com", Some("quectel"))
        .to("colin.hu@quectel.com", None)
        .cc("ops@quectel.com", None)
        .subject("SMTP TEST 2")
        .body("Second reading: 42.8\r\n")
        .build()
        .unwrap();
    let report = mailer.send(&second).await.unwrap();
    assert_eq!(report.commands, 6, "the second mail sends no setting again");
    done(mailer.into_client());
}

#[tokio::test(start_paused = true)]
async fn mailer_starttls_with_bearer_and_attachments() {
    let c = replay("mailer-starttls-attachments.at");
    let tls = TlsSettings {
        mode: TlsMode::StartTls,
        verify: Verify::Server {
            ca: CertSource::Pem(b"-----CA-----\n".to_vec()),
        },
        ignore_module_clock: true,
        ..Default::default()
    };
    let options = QuectelOptions {
        bearer: Some(Bearer {
            apn: "CMNET".into(),
            user: None,
            password: None,
        }),
        ..Default::default()
    };
    let mut mailer = QuectelMailer::new(
        c,
        account("quectel_test@hotmail.com", ("smtp.live.com", 25), tls),
        options,
    );
    let email = Email::builder()
        .from("quectel_test@hotmail.com", Some("quectel_company"))
        .to("quectel_xxx@hotmail.com", None)
        .bcc("quectel_xxx@aol.com", None)
        .charset(Charset::Utf8)
        .subject("Zähler")
        .body("42,7 m³\r\n")
        .attach(Attachment::from_bytes("log.txt", b"boot ok\n".to_vec()))
        .attach(Attachment::from_module("UFS:attach.txt").unwrap())
        .build()
        .unwrap();
    mailer.send(&email).await.unwrap();
    done(mailer.into_client());
}

fn cmnet() -> Option<Bearer> {
    Some(Bearer {
        apn: "CMNET".into(),
        user: None,
        password: None,
    })
}

/// The mails of mailer-two-mails.at and the transcripts built like it.
fn first_mail() -> Email {
    Email::builder()
        .from("quectel@163.com", Some("quectel"))
        .to("colin.hu@quectel.com", None)
        .subject("SMTP TEST")
        .body("Hello, welcome!")
        .build()
        .unwrap()
}

fn second_mail() -> Email {
    Email::builder()
        .from("quectel@163.com", Some("quectel"))
        .to("colin.hu@quectel.com", None)
        .subject("SMTP TEST 2")
        .body("Second reading: 42.8")
        .build()
        .unwrap()
}

fn mailer_163(
    file: &str,
    options: QuectelOptions,
) -> QuectelMailer<cellmail_replay::ScriptedModem> {
    QuectelMailer::new(
        replay(file),
        account("quectel", ("smtp.163.com", 25), TlsSettings::default()),
        options,
    )
}

#[tokio::test(start_paused = true)]
async fn mailer_sends_gb2312_and_big5_in_their_own_bytes() {
    let mut mailer = mailer_163("mailer-gb2312-big5.at", QuectelOptions::default());
    let gb = Email::builder()
        .from("quectel@163.com", Some("quectel"))
        .to("colin.hu@quectel.com", None)
        .charset(Charset::Gb2312)
        .subject("电表读数")
        .body("读数：42.7 立方米\r\n")
        .build()
        .unwrap();
    assert_eq!(gb.body_bytes().len(), 19, "GB2312: two bytes per hanzi");
    mailer.send(&gb).await.unwrap();
    let big5 = Email::builder()
        .from("quectel@163.com", Some("quectel"))
        .to("colin.hu@quectel.com", None)
        .charset(Charset::Big5)
        .subject("電錶讀數")
        .body("讀數：42.8 立方米\r\n")
        .build()
        .unwrap();
    let report = mailer.send(&big5).await.unwrap();
    assert_eq!(report.commands, 5, "the second mail sends only its content");
    done(mailer.into_client());
}

#[tokio::test(start_paused = true)]
async fn mailer_close_clears_deletes_uploads_and_forgets() {
    let tls = TlsSettings {
        mode: TlsMode::Implicit,
        verify: Verify::Server {
            ca: CertSource::Pem(b"-----CA-----\n".to_vec()),
        },
        ..Default::default()
    };
    let options = QuectelOptions {
        bearer: cmnet(),
        ..Default::default()
    };
    let mut mailer = QuectelMailer::new(
        replay("mailer-close.at"),
        account("quecteltestmail@gmail.com", ("smtp.gmail.com", 465), tls),
        options,
    );
    let mail = |subject: &str, body: &str| {
        Email::builder()
            .from("quecteltestmail@gmail.com", Some("quectel_company"))
            .to("quectel_xxx@gmail.com", None)
            .subject(subject)
            .body(body)
            .build()
            .unwrap()
    };
    mailer
        .send(&mail("about smtps e-mail", "Hello, welcome!"))
        .await
        .unwrap();
    let before = mailer.client().stats().commands;
    mailer.close().await.unwrap();
    assert_eq!(
        mailer.client().stats().commands - before,
        3,
        "AT+QSMTPCLR, AT+QFDEL, AT+QIDEACT"
    );
    // Everything is configured again, the certificate uploaded again: five
    // commands of bring-up, nine of SSL (a delete before the upload), six
    // of account, five of the mail.
    let report = mailer
        .send(&mail("about smtps e-mail 2", "Hello again!"))
        .await
        .unwrap();
    assert_eq!(report.commands, 25);
    done(mailer.into_client());
}

#[tokio::test(start_paused = true)]
async fn mailer_mutual_tls_one_cipher_suite_and_no_authentication() {
    let tls = TlsSettings {
        mode: TlsMode::StartTls,
        version: cellmail::TlsVersion::Tls1_2,
        ciphers: cellmail::CipherSuites::Only(vec!["TLS_RSA_WITH_AES_256_CBC_SHA".into()]),
        verify: Verify::Mutual {
            ca: CertSource::Pem(b"-----CA-----\n".to_vec()),
            client_cert: CertSource::Pem(b"-----CLIENT CERT-----\n".to_vec()),
            client_key: cellmail::KeySource(CertSource::Pem(b"-----CLIENT KEY-----\n".to_vec())),
        },
        ignore_module_clock: true,
    };
    let account = SmtpAccount {
        server: ServerAddr::new("mail.example.com", 587),
        auth: Auth::None,
        tls,
    };
    let options = QuectelOptions {
        ssl_context: 3,
        ..Default::default()
    };
    let mut mailer = QuectelMailer::new(replay("mailer-auth-none-mutual.at"), account, options);
    let email = Email::builder()
        .from("meter@example.com", None)
        .to("ops@example.com", None)
        .subject("reading")
        .body("42.7\r\n")
        .build()
        .unwrap();
    mailer.send(&email).await.unwrap();
    done(mailer.into_client());
}

#[tokio::test(start_paused = true)]
async fn mailer_resends_after_failed_to_send() {
    let options = QuectelOptions {
        retry: RetryPolicy {
            attempts: 2,
            reactivate_before_last: true,
            ..RetryPolicy::default()
        },
        ..Default::default()
    };
    let mut mailer = mailer_163("mailer-resend.at", options);
    let report = mailer.send(&first_mail()).await.unwrap();
    assert_eq!(report.module_result, "+QSMTPPUT: 0");
    done(mailer.into_client());
}

#[tokio::test(start_paused = true)]
async fn mailer_checks_the_context_then_reactivates_it_before_the_last_try() {
    let options = QuectelOptions {
        bearer: cmnet(),
        ..Default::default()
    };
    let mut mailer = mailer_163("mailer-bearer-recovery.at", options);
    mailer.send(&first_mail()).await.unwrap();
    done(mailer.into_client());
}

#[tokio::test(start_paused = true)]
async fn mailer_brings_a_lost_context_back_and_leaves_the_urc_queued() {
    let options = QuectelOptions {
        bearer: cmnet(),
        retry: RetryPolicy {
            attempts: 2,
            reactivate_before_last: false,
            ..RetryPolicy::default()
        },
        ..Default::default()
    };
    let mut mailer = mailer_163("mailer-context-lost.at", options);
    mailer.send(&first_mail()).await.unwrap();
    let report = mailer.send(&second_mail()).await.unwrap();
    // AT+QIDEACT, five commands of bring-up, then the mail's own five.
    assert_eq!(report.commands, 11);
    assert_eq!(mailer.client().take_urcs(), ["+PDP DEACT"]);
    done(mailer.into_client());
}

#[tokio::test(start_paused = true)]
async fn mailer_after_a_reboot_sends_every_setting_again() {
    let mut mailer = mailer_163("mailer-reboot.at", QuectelOptions::default());
    let first = mailer.send(&first_mail()).await.unwrap();
    let second = mailer.send(&second_mail()).await.unwrap();
    assert_eq!(second.commands, first.commands);
    assert_eq!(mailer.client().take_urcs(), ["RDY", "+CPIN: READY"]);
    done(mailer.into_client());
}

#[tokio::test(start_paused = true)]
async fn mailer_after_a_reboot_under_the_bearer_restart_sends_every_setting_again() {
    let options = QuectelOptions {
        bearer: cmnet(),
        ..Default::default()
    };
    let mut mailer = mailer_163("mailer-reboot-under-bearer-restart.at", options);
    mailer.send(&first_mail()).await.unwrap();
    let started = tokio::time::Instant::now();
    let report = mailer.send(&second_mail()).await.unwrap();
    assert_eq!(report.module_result, "+QSMTPPUT: 0");
    // The transcript's 5 s and the guard times around +++: no command timeout.
    assert!(
        started.elapsed() < std::time::Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        mailer.client().take_urcs(),
        ["+PDP DEACT", "RDY", "+CPIN: READY"]
    );
    done(mailer.into_client());
}

#[tokio::test(start_paused = true)]
async fn mailer_attaches_the_packet_domain_when_activation_fails() {
    let options = QuectelOptions {
        bearer: cmnet(),
        ..Default::default()
    };
    let mut mailer = mailer_163("mailer-activation-attach.at", options);
    mailer.send(&first_mail()).await.unwrap();
    done(mailer.into_client());
}

#[tokio::test(start_paused = true)]
async fn mailer_takes_an_active_context_when_activation_is_refused() {
    let options = QuectelOptions {
        bearer: cmnet(),
        ..Default::default()
    };
    let mut mailer = mailer_163("mailer-context-already-active.at", options);
    let report = mailer.send(&first_mail()).await.unwrap();
    assert_eq!(report.module_result, "+QSMTPPUT: 0");
    done(mailer.into_client());
}

#[tokio::test(start_paused = true)]
async fn mailer_keeps_the_cme_code_of_a_failed_activation() {
    // AT+QIACT refused with +CME ERROR: 3, no address, attached and registered:
    // the §1.4.1 checks find nothing to fix; the error keeps the CME code.
    let text = "> AT+QIFGCNT=0\n< OK\n> AT+QICSGP=1,\"CMNET\"\n< OK\n> AT+QIREGAPP\n< OK\n\
                > AT+QIACT\n< +CME ERROR: 3\n> AT+QILOCIP\n< ERROR\n\
                > AT+CGATT?\n< +CGATT: 1\n< OK\n> AT+CGREG?\n< +CGREG: 0,1\n< OK\n";
    let t = cellmail_replay::Transcript::parse(text).unwrap();
    let options = QuectelOptions {
        bearer: cmnet(),
        ..Default::default()
    };
    let mut mailer = QuectelMailer::new(
        client_for(&t, cellmail_replay::Faults::new()),
        account("quectel", ("smtp.163.com", 25), TlsSettings::default()),
        options,
    );
    let err = mailer.send(&first_mail()).await.unwrap_err();
    assert!(
        matches!(
            &err,
            MailError::Network { vendor: Some(VendorCode::Number(3)), detail }
                if detail.contains("+CGREG: 0,1")
        ),
        "{err:?}"
    );
    done(mailer.into_client());
}

#[tokio::test(start_paused = true)]
async fn mailer_refuses_an_apn_password_without_a_user() {
    let options = QuectelOptions {
        bearer: Some(Bearer {
            apn: "CMNET".into(),
            user: None,
            password: Some(Secret::new("apn-secret")),
        }),
        ..Default::default()
    };
    let t = cellmail_replay::Transcript::parse("").unwrap();
    let mut mailer = QuectelMailer::new(
        client_for(&t, cellmail_replay::Faults::new()),
        account("quectel", ("smtp.163.com", 25), TlsSettings::default()),
        options,
    );
    let err = mailer.send(&first_mail()).await.unwrap_err();
    assert!(
        matches!(&err, MailError::Invalid { field, .. } if field == "bearer password"),
        "{err:?}"
    );
    assert_eq!(mailer.client().stats().bytes_written, 0);
    done(mailer.into_client());
}

/// mailer-starttls-attachments.at with the module's `+QFUPL` answer replaced.
fn starttls_with_upload_answer(answer: &str) -> String {
    let path =
        cellmail_replay::harness::folder("quectel-gsm").join("mailer-starttls-attachments.at");
    std::fs::read_to_string(path)
        .unwrap()
        .replace("< +QFUPL: 13,666e\n", &format!("< {answer}\n"))
}

/// The mailer of mailer-starttls-attachments.at over `text`.
fn starttls_mailer(text: &str) -> QuectelMailer<cellmail_replay::ScriptedModem> {
    let t = cellmail_replay::Transcript::parse(text).unwrap();
    let tls = TlsSettings {
        mode: TlsMode::StartTls,
        verify: Verify::Server {
            ca: CertSource::Pem(b"-----CA-----\n".to_vec()),
        },
        ignore_module_clock: true,
        ..Default::default()
    };
    QuectelMailer::new(
        client_for(&t, cellmail_replay::Faults::new()),
        account("quectel_test@hotmail.com", ("smtp.live.com", 25), tls),
        QuectelOptions {
            bearer: cmnet(),
            ..Default::default()
        },
    )
}

fn starttls_mail() -> Email {
    Email::builder()
        .from("quectel_test@hotmail.com", Some("quectel_company"))
        .to("quectel_xxx@hotmail.com", None)
        .bcc("quectel_xxx@aol.com", None)
        .charset(Charset::Utf8)
        .subject("Zähler")
        .body("42,7 m³\r\n")
        .attach(Attachment::from_bytes("log.txt", b"boot ok\n".to_vec()))
        .attach(Attachment::from_module("UFS:attach.txt").unwrap())
        .build()
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn mailer_checks_the_upload_size_not_the_checksum() {
    // The checksum algorithm is not in the shared manuals: another checksum
    // is logged, and the mail goes.
    let mut mailer = starttls_mailer(&starttls_with_upload_answer("+QFUPL: 13,1234"));
    mailer.send(&starttls_mail()).await.unwrap();
    done(mailer.into_client());
    // Another size is a truncated transfer: bytes were lost (transient).
    let text = starttls_with_upload_answer("+QFUPL: 12,666e");
    let text = &text[..text.find("> AT+QSSLCFG=\"cacert\"").unwrap()];
    let mut mailer = starttls_mailer(text);
    let err = mailer.send(&starttls_mail()).await.unwrap_err();
    assert_eq!(
        cellmail_quectel::TransferError::find(&err),
        Some(&cellmail_quectel::TransferError::Truncated {
            what: "tls".into(),
            sent: 13,
            received: 12
        }),
        "{err:?}"
    );
    assert!(err.is_transient());
    done(mailer.into_client());
}

/// Every transcript of the folder is written in the canonical form and
/// replayed by a test of this crate.
#[test]
fn every_quectel_transcript_is_canonical_and_replayed() {
    let dir = cellmail_replay::harness::folder("quectel-gsm");
    let sources = [include_str!("golden.rs"), include_str!("send_errors.rs")].concat();
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "at") {
            continue;
        }
        seen += 1;
        let text = std::fs::read_to_string(&path).unwrap();
        let t = cellmail_replay::Transcript::load(&path).unwrap();
        assert_eq!(t.to_text(), text, "{} is not canonical", path.display());
        let name = path.file_name().unwrap().to_str().unwrap();
        assert!(
            sources.contains(&format!("\"{name}\"")),
            "no test replays {name}"
        );
    }
    assert!(seen >= 20, "only {seen} transcripts");
}
