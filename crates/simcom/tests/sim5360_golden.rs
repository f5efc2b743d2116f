//! Every SIM5360 golden transcript (tests/transcripts/sim5360) replayed
//! byte-exact through the typed commands.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use cellmail::{RecipientKind, Secret};
use cellmail_replay::harness::{self, PASSWORD, ReplayClient, steps::*};
use cellmail_simcom::common;
use cellmail_simcom::sim5360::codes::text_lines;
use cellmail_simcom::sim5360::{commands as cmd, decoder_config, saved_path};

fn replay(file: &str) -> ReplayClient {
    harness::golden("sim5360", file, decoder_config()).unwrap()
}

#[tokio::test(start_paused = true)]
async fn configure() {
    let mut c = replay("configure.at");
    exec(&mut c, cmd::socket_context(1, "3GNET")).await;
    exec(&mut c, common::set_smtp_server("smtp.server.com", 25)).await;
    exec(
        &mut c,
        common::set_smtp_auth(Some(("UserName", &Secret::new(PASSWORD)))),
    )
    .await;
    exec(
        &mut c,
        common::set_sender("UserName@server.com", Some("PresentName")),
    )
    .await;
    harness::finish(c).unwrap();
}

#[tokio::test(start_paused = true)]
async fn send_with_file_system_attachments() {
    let mut c = replay("send.at");
    exec(
        &mut c,
        common::add_recipient(RecipientKind::To, 0, "ToAddr@server.com", Some("ToName")),
    )
    .await;
    exec(
        &mut c,
        common::add_recipient(RecipientKind::Cc, 0, "CcAddr@server.com", Some("CcName")),
    )
    .await;
    exec(&mut c, common::set_subject("First Email", false)).await;
    exec(&mut c, cmd::set_body("This is the first Email!")).await;
    assert_eq!(
        exec(&mut c, cmd::change_directory("C:/Picture")).await.info,
        ["+FSCD: C:/Picture/"]
    );
    let files = exec(&mut c, cmd::list_directory()).await;
    assert_eq!(
        files.info,
        [
            "+FSLS: FILES:",
            "20100202_100006.jpg",
            "20100202_100016.jpg"
        ]
    );
    exec(&mut c, cmd::set_attachment(1, "20100202_100006.jpg")).await;
    exec(&mut c, cmd::set_attachment(2, "20100202_100016.jpg")).await;
    exec(&mut c, cmd::send()).await;
    assert_eq!(urc(&mut c, "+SMTP:").await, "+SMTP: OK");
    assert_eq!(urc(&mut c, "+SMTP:").await, "+SMTP: SUCCESS");
    harness::finish(c).unwrap();
}

#[tokio::test(start_paused = true)]
async fn abort() {
    let mut c = replay("abort.at");
    exec(
        &mut c,
        common::add_recipient(RecipientKind::To, 0, "ToAddr@server.com", Some("ToName")),
    )
    .await;
    exec(&mut c, common::set_subject("First Email", false)).await;
    exec(&mut c, cmd::set_body("This is the first Email!")).await;
    exec(&mut c, cmd::send()).await;
    assert_eq!(urc(&mut c, "+SMTP:").await, "+SMTP: OK");
    exec(&mut c, cmd::stop()).await;
    harness::finish(c).unwrap();
}

#[tokio::test(start_paused = true)]
async fn pop3_inquire() {
    let mut c = replay("pop3-inquire.at");
    exec(&mut c, cmd::socket_context(1, "3GNET")).await;
    exec(
        &mut c,
        cmd::set_pop3_server("pop3.server.com", "un", &Secret::new(PASSWORD), 110),
    )
    .await;
    assert_eq!(exec(&mut c, cmd::login()).await.info, ["+POP3: SUCCESS"]);
    assert_eq!(exec(&mut c, cmd::count()).await.info, ["+POP3: 0, 0"]);
    assert_eq!(exec(&mut c, cmd::logout()).await.info, ["+POP3: SUCCESS"]);
    harness::finish(c).unwrap();
}

/// The common part of §4.3-§4.6: log in, count, list and peek at both.
async fn peek(c: &mut ReplayClient) {
    assert_eq!(exec(c, cmd::login()).await.info, ["+POP3: SUCCESS"]);
    assert_eq!(exec(c, cmd::count()).await.info, ["+POP3: 2 2134"]);
    for (id, size, subject, date) in [
        (1, "1050", "First Test Email", "17:11:30"),
        (2, "1084", "Second Test Email", "17:16:27"),
    ] {
        assert_eq!(
            exec(c, cmd::list(id)).await.info,
            [format!("+POP3: {id}, {size}")]
        );
        let header = exec(c, cmd::header(id)).await;
        assert_eq!(
            text_lines(&header.info),
            [
                "From: \"FromName\" <FromAddr@server.com>".to_owned(),
                format!("Date: Tue, 9 Mar 2010 {date} +0800"),
                format!("Subject: {subject}"),
            ]
        );
    }
}

async fn get_and_read(c: &mut ReplayClient, path: &str) {
    exec(c, cmd::storage(false)).await;
    exec(c, cmd::get(1)).await;
    assert_eq!(urc(c, "+POP3:").await, "+POP3: SUCCESS");
    let line = urc(c, cmd::email_folder(false)).await;
    assert_eq!(line, path);
    let (folder, file) = saved_path(&line).unwrap();
    assert!(folder.starts_with("C:/Email/1002021"), "{folder}");
    assert_eq!(file, "EMAIL000.TXT");
    let r = exec(c, cmd::read_last()).await;
    assert_eq!(
        text_lines(&r.info),
        [
            "Date: Tue, 9 Mar 2010 17:11:30 +0800",
            "From: \"FromName\" <FromAddr@server.com>",
            "To: \"ToName\" <ToAddr@server.com>",
            "Subject: First Test Email",
            "This is a test email with an attachment.",
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn pop3_peek() {
    let mut c = replay("pop3-peek.at");
    peek(&mut c).await;
    exec(&mut c, cmd::logout()).await;
    harness::finish(c).unwrap();
}

#[tokio::test(start_paused = true)]
async fn pop3_retrieve_without_delete() {
    let mut c = replay("pop3-retrieve.at");
    peek(&mut c).await;
    get_and_read(&mut c, "C:/Email/100202110457/, EMAIL000.TXT").await;
    exec(&mut c, cmd::logout()).await;
    harness::finish(c).unwrap();
}

#[tokio::test(start_paused = true)]
async fn pop3_retrieve_with_delete() {
    let mut c = replay("pop3-retrieve-delete.at");
    peek(&mut c).await;
    get_and_read(&mut c, "C:/Email/100202113456/, EMAIL000.TXT").await;
    assert_eq!(exec(&mut c, cmd::delete(1)).await.info, ["+POP3: SUCCESS"]);
    exec(&mut c, cmd::logout()).await;
    harness::finish(c).unwrap();
}

#[tokio::test(start_paused = true)]
async fn pop3_abort() {
    let mut c = replay("pop3-abort.at");
    peek(&mut c).await;
    exec(&mut c, cmd::storage(false)).await;
    exec(&mut c, cmd::get(1)).await;
    exec(&mut c, cmd::stop_pop3()).await;
    harness::finish(c).unwrap();
}

#[tokio::test(start_paused = true)]
async fn pop3_read_from_the_file_system() {
    let mut c = replay("pop3-read-file.at");
    assert_eq!(
        exec(&mut c, cmd::change_directory("C:/Email")).await.info,
        ["+FSCD: C:/Email/"]
    );
    assert_eq!(
        exec(&mut c, cmd::list_directory()).await.info,
        ["+FSLS: SUBDIRECTORIES:", "100202110457", "100202113456"]
    );
    let r = exec(&mut c, cmd::read_file("100202110457/EMAIL000.TXT")).await;
    assert_eq!(
        text_lines(&r.info),
        [
            "Date: Tue, 9 Mar 2010 17:11:30 +0800",
            "From: \"FromName\" <FromAddr@server.com>",
            "To: \"FromName\" <ToAddr@server.com>",
            "Subject: First Test Email",
            "This is a test email with an attachment.",
        ]
    );
    harness::finish(c).unwrap();
}

#[tokio::test(start_paused = true)]
async fn forms_of_section_2() {
    let mut c = replay("forms.at");
    let pwd = Secret::new(PASSWORD);
    exec(&mut c, common::set_smtp_auth(None)).await;
    exec(&mut c, common::set_smtp_auth(Some(("un", &pwd)))).await;
    exec(&mut c, common::set_sender("mike@server.com", Some("mike"))).await;
    exec(&mut c, common::set_sender("mike@server.com", None)).await;
    exec(
        &mut c,
        common::add_recipient(RecipientKind::To, 0, "toaddr@server.com", Some("toname")),
    )
    .await;
    exec(
        &mut c,
        common::add_recipient(RecipientKind::To, 1, "toaddr@server.com", None),
    )
    .await;
    exec(&mut c, common::delete_recipient(RecipientKind::To, 0)).await;
    exec(&mut c, common::delete_recipients_of(RecipientKind::To)).await;
    exec(
        &mut c,
        common::add_recipient(RecipientKind::Cc, 0, "ccaddr@server.com", Some("ccname")),
    )
    .await;
    exec(
        &mut c,
        common::add_recipient(RecipientKind::Bcc, 0, "bccaddr@server.com", Some("bccname")),
    )
    .await;
    exec(&mut c, common::set_subject("First email", false)).await;
    exec(&mut c, cmd::set_body("This is the first email!")).await;
    exec(&mut c, cmd::set_attachment(1, "file1")).await;
    exec(&mut c, cmd::set_attachment(2, "file2")).await;
    exec(&mut c, cmd::delete_attachment(1)).await;
    exec(&mut c, cmd::delete_attachments()).await;
    exec(
        &mut c,
        cmd::set_pop3_server("pop3.server.com", "un", &pwd, 110),
    )
    .await;
    exec(&mut c, cmd::set_clock("10/03/09,17:11:30+32")).await;
    harness::finish(c).unwrap();
}
