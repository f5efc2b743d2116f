//! Every A76xx golden transcript (tests/transcripts/a76xx) replayed
//! byte-exact through the typed commands. Where the manual misspells a
//! command (`AT+SMTPSRV`, `AT+CSMTSPRCPT?`, `AT+SMTPSSUB?`) the replay sends
//! the misspelling as printed: the library's own commands never do.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use cellmail::{MailError, RecipientKind, Secret};
use cellmail_at::{AtError, Command, DataEnd};
use cellmail_replay::harness::{self, PASSWORD, ReplayClient, steps::*};
use cellmail_simcom::a76xx::commands::{self as cmd, AuthSetting, ContextKey, ServerType, prefix};
use cellmail_simcom::a76xx::setup::{self, PdpAuth, PdpType, SslAuthMode, SslVersion};
use cellmail_simcom::a76xx::{codes::SendCode, decoder_config};

fn replay(file: &str) -> ReplayClient {
    harness::golden("a76xx", file, decoder_config()).unwrap()
}

async fn info(c: &mut ReplayClient, command: Command) -> Vec<String> {
    exec(c, command).await.info
}

#[tokio::test(start_paused = true)]
async fn server() {
    let mut c = replay("server.at");
    exec(&mut c, cmd::set_server("smtp.server.com", 425, None)).await;
    let r = info(&mut c, cmd::read_server()).await;
    let s = cmd::parse_server(&r[0]).unwrap();
    assert_eq!(
        (s.host.as_str(), s.port, s.server_type),
        ("smtp.server.com", 425, ServerType::Smtps)
    );
    // As printed (sic): the manual's example drops the "C".
    exec(&mut c, Command::exec("+SMTPSRV")).await;
    let r = info(&mut c, Command::read("+SMTPSRV")).await;
    let s = cmd::parse_server(&r[0]).unwrap();
    assert_eq!(
        (s.host.as_str(), s.port, s.server_type),
        ("", 465, ServerType::Smtps)
    );
    harness::finish(c).unwrap();
}

#[tokio::test(start_paused = true)]
async fn auth() {
    let mut c = replay("auth.at");
    let read = |r: Vec<String>| cmd::parse_auth(&r[0]).unwrap();
    assert_eq!(
        read(info(&mut c, cmd::read_auth()).await),
        AuthSetting::None
    );
    exec(
        &mut c,
        cmd::set_auth(Some(("username", &Secret::new(PASSWORD)))),
    )
    .await;
    let setting = read(info(&mut c, cmd::read_auth()).await);
    assert_eq!(
        setting,
        AuthSetting::Login {
            user: "username".into(),
            password: Secret::new(PASSWORD)
        }
    );
    assert!(!format!("{setting:?}").contains(PASSWORD));
    exec(&mut c, cmd::clear_auth()).await;
    assert_eq!(
        read(info(&mut c, cmd::read_auth()).await),
        AuthSetting::None
    );
    harness::finish(c).unwrap();
}

#[tokio::test(start_paused = true)]
async fn sender() {
    let mut c = replay("sender.at");
    exec(
        &mut c,
        cmd::set_sender("senderaddress@server.com", Some("sendername")),
    )
    .await;
    let r = info(&mut c, cmd::read_sender()).await;
    assert_eq!(
        cmd::parse_sender(&r[0]).unwrap(),
        ("senderaddress@server.com".into(), "sendername".into())
    );
    exec(&mut c, cmd::clear_sender()).await;
    let r = info(&mut c, cmd::read_sender()).await;
    assert_eq!(
        cmd::parse_sender(&r[0]).unwrap(),
        (String::new(), String::new())
    );
    harness::finish(c).unwrap();
}

#[tokio::test(start_paused = true)]
async fn recipients() {
    let mut c = replay("recipients.at");
    exec(
        &mut c,
        cmd::set_recipient(
            RecipientKind::To,
            0,
            "rcptaddress_to@server.com",
            Some("rcptname_to"),
        ),
    )
    .await;
    let r = info(&mut c, cmd::read_recipients()).await;
    assert_eq!(cmd::parse_recipient(&r[0]).unwrap().kind, RecipientKind::To);
    exec(
        &mut c,
        cmd::set_recipient(
            RecipientKind::Cc,
            0,
            "rcptaddress_cc@server.com",
            Some("rcptname_cc"),
        ),
    )
    .await;
    // As printed (sic): AT+CSMTSPRCPT?.
    let r = info(&mut c, Command::read("+CSMTSPRCPT")).await;
    let all: Vec<_> = r.iter().map(|l| cmd::parse_recipient(l).unwrap()).collect();
    assert_eq!(all.len(), 2);
    assert_eq!(
        (all[1].kind, all[1].address.as_str(), all[1].name.as_str()),
        (
            RecipientKind::Cc,
            "rcptaddress_cc@server.com",
            "rcptname_cc"
        )
    );
    harness::finish(c).unwrap();
}

#[tokio::test(start_paused = true)]
async fn subject_through_the_prompt() {
    let mut c = replay("subject.at");
    let r = exec(&mut c, cmd::read_subject()).await;
    assert_eq!(
        cmd::parse_subject(&r.info[0]),
        Some((0, "UTF-8".to_owned()))
    );
    assert!(r.raw.is_empty());
    upload(
        &mut c,
        cmd::set_subject(19, Some("utf-8")),
        b"THIS IS A TEST MAIL",
        DataEnd::Length,
    )
    .await;
    // As printed (sic): AT+SMTPSSUB?, answered +SMTPSSUB:.
    let r = exec(
        &mut c,
        Command::read("+SMTPSSUB").expect_raw(cmd::subject_length),
    )
    .await;
    assert_eq!(r.info, ["+SMTPSSUB: 19,\"utf-8\""]);
    assert_eq!(r.raw, b"THIS IS A TEST MAIL");
    harness::finish(c).unwrap();
}

#[tokio::test(start_paused = true)]
async fn body_through_the_prompt() {
    let mut c = replay("body.at");
    let text = b"THIS IS A TEST MAIL FROM SIMCOM MODULE";
    upload(&mut c, cmd::set_body(text.len()), text, DataEnd::Length).await;
    let r = exec(&mut c, cmd::read_body()).await;
    assert_eq!(r.info, ["+CSMTPSBODY: 38"]);
    assert_eq!(r.raw, text);
    harness::finish(c).unwrap();
}

#[tokio::test(start_paused = true)]
async fn charset() {
    let mut c = replay("charset.at");
    assert!(info(&mut c, cmd::test_charset()).await.is_empty());
    exec(&mut c, cmd::set_charset("gb2312")).await;
    assert_eq!(
        info(&mut c, cmd::read_charset()).await,
        ["+CSMTPSBCH: \"gb2312\""]
    );
    harness::finish(c).unwrap();
}

#[tokio::test(start_paused = true)]
async fn attachments() {
    let mut c = replay("attachments.at");
    exec(&mut c, cmd::set_attachment(1, "E:/file1.txt")).await;
    exec(&mut c, cmd::set_attachment(1, "测试附件.jpg")).await;
    let r = info(&mut c, cmd::read_attachments()).await;
    assert_eq!(
        cmd::parse_attachment(&r[0]),
        Some((1, "E:/file1.txt".into(), None))
    );
    exec(&mut c, cmd::set_attachment(2, "U:/ file2.txt")).await;
    let r = info(&mut c, cmd::read_attachments()).await;
    assert_eq!(
        r.iter()
            .map(|l| cmd::parse_attachment(l).unwrap().1)
            .collect::<Vec<_>>(),
        ["E:/file1.txt", "U:/file2.txt"]
    );
    harness::finish(c).unwrap();
}

#[tokio::test(start_paused = true)]
async fn send_stop_clean() {
    let mut c = replay("send-stop-clean.at");
    exec(&mut c, cmd::send()).await;
    let line = deferred(&mut c, prefix::CSMTPSSEND).await;
    let code = cmd::result_code(&line).unwrap();
    assert_eq!(SendCode::from_code(code), SendCode::Succeeded);
    SendCode::from_code(code).into_result().unwrap();
    exec(&mut c, cmd::stop()).await;
    exec(&mut c, cmd::clean()).await;
    harness::finish(c).unwrap();
}

#[tokio::test(start_paused = true)]
async fn uploads() {
    let mut c = replay("upload.at");
    upload(
        &mut c,
        setup::upload_file("c:/t1.txt", 10),
        b"0123456789",
        DataEnd::Length,
    )
    .await;
    upload(
        &mut c,
        setup::upload_file_at("C:/t2.txt", 10, 0),
        b"abcdefghij",
        DataEnd::Length,
    )
    .await;
    let pem = harness::data("a76xx", "ls.pem").unwrap();
    assert_eq!(pem.len(), 1970);
    upload(
        &mut c,
        setup::cert_download("ls.pem", pem.len()),
        &pem,
        DataEnd::Length,
    )
    .await;
    harness::finish(c).unwrap();
}

#[tokio::test(start_paused = true)]
async fn the_other_forms() {
    let mut c = replay("forms.at");
    assert!(info(&mut c, cmd::test_config()).await.is_empty());
    let r = info(&mut c, cmd::query_config(ContextKey::SslCtxId)).await;
    assert_eq!(cmd::parse_config(&r[0]), Some((ContextKey::SslCtxId, 0)));
    exec(&mut c, cmd::set_config(ContextKey::PdpCtxId, 1)).await;
    exec(&mut c, cmd::reset_config()).await;
    assert!(info(&mut c, cmd::test_server()).await.is_empty());
    assert_eq!(info(&mut c, cmd::test_auth()).await, ["+CSMTPSAUTH: (0,1)"]);
    assert!(info(&mut c, cmd::test_sender()).await.is_empty());
    assert_eq!(
        info(&mut c, cmd::test_recipients()).await,
        ["+CSMTPSRCPT: (0-2),(0-4)"]
    );
    exec(&mut c, cmd::clear_recipient(RecipientKind::To, 0)).await;
    exec(&mut c, cmd::clear_kind(RecipientKind::Cc)).await;
    exec(&mut c, cmd::clear_recipients()).await;
    assert!(info(&mut c, cmd::test_subject()).await.is_empty());
    exec(&mut c, cmd::clear_subject()).await;
    assert!(info(&mut c, cmd::test_body()).await.is_empty());
    exec(&mut c, cmd::clear_body()).await;
    exec(&mut c, cmd::reset_charset()).await;
    assert_eq!(
        info(&mut c, cmd::test_attachment()).await,
        ["+CSMTPSFILE: (1-10)"]
    );
    exec(&mut c, cmd::clear_attachment(2)).await;
    exec(&mut c, cmd::clear_attachments()).await;
    assert!(info(&mut c, cmd::test_send()).await.is_empty());
    assert!(info(&mut c, cmd::test_stop()).await.is_empty());
    exec(&mut c, setup::pdp_context(1, PdpType::Ip, "internet")).await;
    exec(
        &mut c,
        setup::pdp_auth(1, PdpAuth::Pap, "user", &Secret::new(PASSWORD)),
    )
    .await;
    let r = info(&mut c, setup::read_eps_registration()).await;
    assert_eq!(setup::registered(&r[0]), Some(true));
    assert_eq!(info(&mut c, setup::read_attach()).await, ["+CGATT: 1"]);
    // Already open: +IPERROR (a URC of this family) and ERROR.
    let mut urcs = c.watch_urcs();
    let e = c.execute(&setup::net_open()).await.unwrap_err();
    assert!(matches!(e, AtError::Error { .. }), "{e:?}");
    assert!(urcs.seen().lines.iter().any(|l| setup::already_open(l)));
    exec(&mut c, setup::ssl_version(0, SslVersion::All)).await;
    exec(&mut c, setup::ssl_auth_mode(0, SslAuthMode::None)).await;
    assert_eq!(
        info(&mut c, setup::query_ssl(0)).await,
        ["+CSSLCFG: 0,4,0,1,300,\"\",\"\",\"\",\"\",0"]
    );
    let e = c
        .execute(&setup::file_size("C:/log.txt"))
        .await
        .unwrap_err();
    assert!(matches!(
        MailError::from(e),
        MailError::Modem(AtError::Error { .. })
    ));
    let r = info(&mut c, setup::file_memory()).await;
    assert_eq!(setup::free_bytes(&r[0]), Some(11348480 - 2201600));
    exec(&mut c, setup::file_delete("C:/log.txt")).await;
    harness::finish(c).unwrap();
}
