//! Every SIM7000 golden transcript (tests/transcripts/sim7000) replayed
//! byte-exact through the typed commands.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use cellmail::{RecipientKind, Secret};
use cellmail_at::DataEnd;
use cellmail_replay::harness::{self, PASSWORD, ReplayClient, steps::*};
use cellmail_simcom::common;
use cellmail_simcom::sim7000::commands::{self as cmd, AttachmentKind, Pop3Request, prefix};
use cellmail_simcom::sim7000::decoder_config;

fn replay(file: &str) -> ReplayClient {
    harness::golden("sim7000", file, decoder_config()).unwrap()
}

async fn smtp_settings(c: &mut ReplayClient) {
    exec(c, cmd::set_cid(0)).await;
    exec(c, cmd::set_timeout(30)).await;
}

async fn account_and_recipients(c: &mut ReplayClient) {
    exec(c, common::set_smtp_server("mail.sim.com", 25)).await;
    exec(
        c,
        common::set_smtp_auth(Some(("john", &Secret::new(PASSWORD)))),
    )
    .await;
    exec(c, common::set_sender("john@sim.com", Some("john"))).await;
    for kind in [RecipientKind::To, RecipientKind::Cc, RecipientKind::Bcc] {
        exec(
            c,
            common::add_recipient(kind, 0, "john@sim.com", Some("john")),
        )
        .await;
    }
}

#[tokio::test(start_paused = true)]
async fn send() {
    let mut c = replay("send.at");
    smtp_settings(&mut c).await;
    account_and_recipients(&mut c).await;
    exec(&mut c, common::set_subject("Test", false)).await;
    upload(
        &mut c,
        cmd::body(19),
        b"This is a new Email",
        DataEnd::Length,
    )
    .await;
    exec(&mut c, cmd::send()).await;
    assert_eq!(deferred(&mut c, prefix::SMTPSEND).await, "+SMTPSEND: 1");
    harness::finish(c).unwrap();
}

#[tokio::test(start_paused = true)]
async fn send_with_attachment_through_smtpft() {
    let mut c = replay("send-attachment.at");
    smtp_settings(&mut c).await;
    account_and_recipients(&mut c).await;
    exec(&mut c, common::set_subject("Test", false)).await;
    upload(
        &mut c,
        cmd::body(19),
        b"This is a new Email",
        DataEnd::Length,
    )
    .await;
    exec(
        &mut c,
        cmd::set_attachment(AttachmentKind::Text, "test.txt"),
    )
    .await;
    exec(&mut c, cmd::send()).await;
    assert_eq!(urc(&mut c, prefix::SMTPFT_READY).await, "+SMTPFT: 1,1360");
    let file = harness::data("sim7000", "test.txt").unwrap();
    c.begin(&cmd::transfer(100)).await.unwrap();
    let prompt = c.wait_prompt().await.unwrap();
    assert_eq!(prompt, cellmail_at::Prompt::Line("+SMTPFT: 2,100".into()));
    c.write_data(&file).await.unwrap();
    c.finish().await.unwrap();
    assert_eq!(urc(&mut c, prefix::SMTPFT_READY).await, "+SMTPFT: 1,1360");
    exec(&mut c, cmd::transfer_done()).await;
    assert_eq!(deferred(&mut c, prefix::SMTPSEND).await, "+SMTPSEND: 1");
    harness::finish(c).unwrap();
}

#[tokio::test(start_paused = true)]
async fn send_utf8_in_hex() {
    let mut c = replay("send-utf8.at");
    smtp_settings(&mut c).await;
    exec(&mut c, cmd::set_charset("UTF-8")).await;
    account_and_recipients(&mut c).await;
    exec(&mut c, common::set_subject("TEST", true)).await;
    let body = common::hex(b"8This is a new Email");
    upload(
        &mut c,
        cmd::body(body.len()),
        body.as_bytes(),
        DataEnd::Length,
    )
    .await;
    exec(&mut c, cmd::send()).await;
    assert_eq!(deferred(&mut c, prefix::SMTPSEND).await, "+SMTPSEND: 1");
    harness::finish(c).unwrap();
}

async fn pop3_login(c: &mut ReplayClient) {
    smtp_settings(c).await;
    exec(
        c,
        common::set_pop3_server("mail.sim.com", "john", &Secret::new(PASSWORD), 110),
    )
    .await;
    exec(c, cmd::pop3_login()).await;
    assert_eq!(deferred(c, prefix::POP3IN).await, "+POP3IN: 1");
}

#[tokio::test(start_paused = true)]
async fn retrieve_in_chunks() {
    let mut c = replay("retrieve.at");
    pop3_login(&mut c).await;
    exec(&mut c, cmd::pop3_count()).await;
    assert_eq!(
        deferred(&mut c, prefix::POP3NUM).await,
        "+POP3NUM: 1,2,11124"
    );
    exec(&mut c, cmd::pop3_list(1)).await;
    assert_eq!(
        deferred(&mut c, prefix::POP3LIST).await,
        "+POP3LIST: 1,1,5556"
    );
    exec(&mut c, cmd::pop3_command(Pop3Request::Retrieve(1))).await;
    assert_eq!(deferred(&mut c, prefix::POP3CMD).await, "+POP3CMD: 1");
    let mut message = Vec::new();
    for expected in [
        "+POP3READ: 1,1460",
        "+POP3READ: 1,1460",
        "+POP3READ: 2,1183",
    ] {
        let r = exec(&mut c, cmd::read(1460)).await;
        assert_eq!(r.info, [expected]);
        message.extend_from_slice(&r.raw);
    }
    assert_eq!(message, harness::data("sim7000", "message-1.eml").unwrap());
    exec(&mut c, cmd::pop3_logout()).await;
    assert_eq!(deferred(&mut c, prefix::POP3OUT).await, "+POP3OUT: 1");
    harness::finish(c).unwrap();
}

#[tokio::test(start_paused = true)]
async fn delete() {
    let mut c = replay("delete.at");
    pop3_login(&mut c).await;
    exec(&mut c, cmd::pop3_count()).await;
    deferred(&mut c, prefix::POP3NUM).await;
    exec(&mut c, cmd::pop3_delete(1)).await;
    assert_eq!(deferred(&mut c, prefix::POP3DEL).await, "+POP3DEL: 1");
    exec(&mut c, cmd::pop3_logout()).await;
    assert_eq!(deferred(&mut c, prefix::POP3OUT).await, "+POP3OUT: 1");
    harness::finish(c).unwrap();
}

#[tokio::test(start_paused = true)]
async fn size_and_unique_id() {
    let mut c = replay("size-and-uid.at");
    pop3_login(&mut c).await;
    exec(&mut c, cmd::pop3_count()).await;
    deferred(&mut c, prefix::POP3NUM).await;
    exec(&mut c, cmd::pop3_list(1)).await;
    assert_eq!(
        deferred(&mut c, prefix::POP3LIST).await,
        "+POP3LIST: 1,1,16601"
    );
    exec(&mut c, cmd::pop3_uid(1)).await;
    assert_eq!(
        deferred(&mut c, prefix::POP3UIDL).await,
        "+POP3UIDL: 1,1,AAAFOpdCAAAv60+tksFqRqk3/6ogog+g"
    );
    exec(&mut c, cmd::pop3_logout()).await;
    deferred(&mut c, prefix::POP3OUT).await;
    harness::finish(c).unwrap();
}

#[tokio::test(start_paused = true)]
async fn bearer_and_time() {
    let mut c = replay("bearer-and-time.at");
    let [cpin, csq, cgatt, cops] = cmd::status_checks();
    assert_eq!(exec(&mut c, cpin).await.info, ["+CPIN: READY"]);
    exec(&mut c, cmd::pdp_context("APN")).await;
    assert_eq!(exec(&mut c, csq).await.info, ["+CSQ: 27,99"]);
    assert_eq!(exec(&mut c, cgatt).await.info, ["+CGATT: 1"]);
    assert_eq!(exec(&mut c, cops).await.info, ["+COPS: 0,0,\"460 01\",9"]);
    exec(&mut c, cmd::bearer_apn(1, "CMNET")).await;
    exec(&mut c, cmd::bearer_open(1)).await;
    assert_eq!(
        exec(&mut c, cmd::bearer_query(1)).await.info,
        ["+SAPBR:1,1,\"10.89.193.1\""]
    );
    assert_eq!(
        exec(&mut c, cmd::read_ntp_cid()).await.info,
        ["+CNTPCID: 1"]
    );
    exec(&mut c, cmd::set_ntp("ntp1.aliyun.com", 32)).await;
    exec(&mut c, cmd::sync_ntp()).await;
    assert_eq!(
        deferred(&mut c, prefix::CNTP).await,
        "+CNTP: 1,\"2018/12/26,10:36:49\""
    );
    assert_eq!(
        exec(&mut c, cmd::read_clock()).await.info,
        ["+CCLK: \"18/12/26,10:36:57+32\""]
    );
    exec(&mut c, cmd::bearer_close(1)).await;
    assert_eq!(urc(&mut c, "+SAPBR 1: DEACT").await, "+SAPBR 1: DEACT");
    harness::finish(c).unwrap();
}

/// Runs `command` and returns its information lines.
async fn info(c: &mut ReplayClient, command: cellmail_at::Command) -> Vec<String> {
    exec(c, command).await.info
}

#[tokio::test(start_paused = true)]
async fn read_and_test_forms() {
    let mut c = replay("forms.at");
    assert_eq!(info(&mut c, cmd::test_cid()).await, ["+EMAILCID: (0-2)"]);
    assert_eq!(info(&mut c, cmd::read_cid()).await, ["+EMAILCID: 0"]);
    assert_eq!(
        info(&mut c, cmd::test_timeout()).await,
        ["+EMAILTO: (10-120)"]
    );
    assert_eq!(info(&mut c, cmd::read_timeout()).await, ["+EMAILTO: 30"]);
    assert_eq!(
        info(&mut c, common::test_smtp_server()).await,
        ["+SMTPSRV: 64,(1-65535)"]
    );
    assert_eq!(
        info(&mut c, common::read_smtp_server()).await,
        ["+SMTPSRV: \"mail.sim.com\",25"]
    );
    assert_eq!(
        info(&mut c, common::test_smtp_auth()).await,
        ["+SMTPAUTH: (0,1),64,64"]
    );
    // The answer carries the password: never logged, parsed into a Secret;
    // the raw response stays inside query_smtp_auth.
    assert!(common::read_smtp_auth().has_sensitive_answer());
    let auth = common::query_smtp_auth(&mut c).await.unwrap();
    assert_eq!(
        auth,
        common::SmtpAuthSetting::Login {
            user: "john".into(),
            password: Secret::new(PASSWORD),
        }
    );
    assert!(!format!("{auth:?}").contains(PASSWORD));
    assert_eq!(
        info(&mut c, common::test_sender()).await,
        ["+SMTPFROM: 64,64"]
    );
    assert_eq!(
        info(&mut c, common::read_sender()).await,
        ["+SMTPFROM: \"john@sim.com\",\"john\""]
    );
    assert_eq!(
        info(&mut c, common::test_recipients()).await,
        ["+SMTPRCPT: (0-2),(0-9),64,64"]
    );
    assert_eq!(
        info(&mut c, common::read_recipients()).await,
        [
            "+SMTPRCPT: 0,0,\"john@sim.com\",\"john\"",
            "+SMTPRCPT: 1,0,\"john@sim.com\",\"john\"",
            "+SMTPRCPT: 2,0,\"john@sim.com\",\"john\"",
        ]
    );
    exec(&mut c, common::delete_recipient(RecipientKind::Cc, 0)).await;
    assert_eq!(
        info(&mut c, common::test_subject()).await,
        ["+SMTPSUB: 256"]
    );
    assert_eq!(
        info(&mut c, common::read_subject()).await,
        ["+SMTPSUB: \"Test\""]
    );
    assert_eq!(info(&mut c, cmd::test_body()).await, ["+SMTPBODY: 4096"]);
    assert_eq!(
        info(&mut c, cmd::test_attachment()).await,
        ["+SMTPFILE: (0-2),64,(0,1)"]
    );
    assert_eq!(
        info(&mut c, cmd::read_attachment()).await,
        ["+SMTPFILE: 1,\"test.txt\",0"]
    );
    assert!(info(&mut c, cmd::test_send()).await.is_empty());
    assert!(info(&mut c, cmd::test_transfer()).await.is_empty());
    assert_eq!(info(&mut c, cmd::test_charset()).await, ["+SMTPCS: 16"]);
    assert_eq!(
        info(&mut c, cmd::read_charset()).await,
        ["+SMTPCS: \"UTF-8\""]
    );
    assert_eq!(
        info(&mut c, common::test_pop3_server()).await,
        ["+POP3SRV: 64,64,64,(1-65535)"]
    );
    assert!(common::read_pop3_server().has_sensitive_answer());
    let server = common::query_pop3_server(&mut c).await.unwrap();
    assert_eq!(
        (server.server.as_str(), server.user.as_str(), server.port),
        ("mail.sim.com", "john", 110)
    );
    assert_eq!(server.password.expose(), PASSWORD);
    assert!(!format!("{server:?}").contains(PASSWORD));
    assert!(info(&mut c, cmd::test_pop3_login()).await.is_empty());
    assert!(info(&mut c, cmd::test_pop3_count()).await.is_empty());
    assert_eq!(
        info(&mut c, cmd::test_pop3_list()).await,
        ["+POP3LIST: (1-65535)"]
    );
    assert_eq!(
        info(&mut c, cmd::test_pop3_uid()).await,
        ["+POP3UIDL: (1-65535)"]
    );
    assert_eq!(
        info(&mut c, cmd::test_pop3_command()).await,
        ["+POP3CMD: (1-4),(1-65535),(0-65535)"]
    );
    assert_eq!(
        info(&mut c, cmd::test_read()).await,
        ["+POP3READ: (1-1460)"]
    );
    assert_eq!(
        info(&mut c, cmd::test_pop3_delete()).await,
        ["+POP3DEL: (1-65535)"]
    );
    assert!(info(&mut c, cmd::test_pop3_reset()).await.is_empty());
    assert!(info(&mut c, cmd::test_pop3_logout()).await.is_empty());
    exec(&mut c, cmd::set_clock("18/12/26,10:36:57+32")).await;
    harness::finish(c).unwrap();
}

#[tokio::test(start_paused = true)]
async fn unreadable_password_answers_are_not_quoted() {
    // An answer the parser refuses (no such <authType>, no port) is a
    // protocol error that does not carry the password it holds.
    let text = "> AT+SMTPAUTH?\n< +SMTPAUTH: 7,\"john\",\"${password}\"\n< OK\n\
                > AT+POP3SRV?\n< +POP3SRV: \"mail.sim.com\",\"john\",\"${password}\"\n< OK\n";
    let t = cellmail_replay::Transcript::parse(text).unwrap();
    let mut c = harness::client(
        &t,
        cellmail_simcom::sim7000::decoder_config(),
        cellmail_replay::Faults::new(),
    )
    .unwrap();
    for (err, command) in [
        (
            common::query_smtp_auth(&mut c)
                .await
                .map(|_| ())
                .unwrap_err(),
            "AT+SMTPAUTH?",
        ),
        (
            common::query_pop3_server(&mut c)
                .await
                .map(|_| ())
                .unwrap_err(),
            "AT+POP3SRV?",
        ),
    ] {
        assert!(
            matches!(&err, cellmail::MailError::Modem(cellmail_at::AtError::Protocol { command: c, .. }) if c == command),
            "{err:?}"
        );
        assert!(!format!("{err:?} {err}").contains(PASSWORD), "{err:?}");
    }
    harness::finish(c).unwrap();
}
