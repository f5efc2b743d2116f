//! Property: an e-mail and account either fail validation naming a field,
//! before one byte is written, or every command the mailer writes stays
//! within the manuals' lengths and ranges and carries no byte an AT command
//! line cannot hold; subject and body reach the module as the bytes of the
//! mail's charset.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::sync::{Arc, Mutex};
use std::time::Duration;

use cellmail::{
    Attachment, Auth, Charset, Email, MailError, MailSender, Secret, ServerAddr, SmtpAccount,
};
use cellmail_at::fields::{self, Field};
use cellmail_at::{Client, ClientConfig};
use cellmail_quectel::{AttachmentRoute, QuectelMailer, QuectelOptions};
use proptest::prelude::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

/// What the module received: command lines, and data-mode payloads after
/// the command that asked for them.
#[derive(Default, Debug)]
struct Received {
    lines: Vec<Vec<u8>>,
    data: Vec<(String, Vec<u8>)>,
}

/// A module that accepts everything, answering as the manuals' examples do.
struct Module {
    io: DuplexStream,
    buf: Vec<u8>,
    log: Arc<Mutex<Received>>,
}

impl Module {
    async fn fill(&mut self) -> Option<Vec<u8>> {
        let mut chunk = vec![0u8; 16 * 1024];
        match self.io.read(&mut chunk).await {
            Ok(0) | Err(_) => None,
            Ok(n) => Some(chunk[..n].to_vec()),
        }
    }

    async fn line(&mut self) -> Option<Vec<u8>> {
        loop {
            if let Some(i) = self.buf.iter().position(|&b| b == b'\r') {
                return Some(self.buf.drain(..=i).collect());
            }
            let more = self.fill().await?;
            self.buf.extend_from_slice(&more);
        }
    }

    async fn exact(&mut self, n: usize) -> Option<Vec<u8>> {
        while self.buf.len() < n {
            let more = self.fill().await?;
            self.buf.extend_from_slice(&more);
        }
        Some(self.buf.drain(..n).collect())
    }

    /// Data until `+++` written on its own after the guard time.
    async fn until_escape(&mut self) -> Option<Vec<u8>> {
        let mut data = std::mem::take(&mut self.buf);
        loop {
            let more = self.fill().await?;
            if more == b"+++" {
                return Some(data);
            }
            data.extend_from_slice(&more);
        }
    }

    async fn say(&mut self, lines: &[&str]) {
        for l in lines {
            let _ = self.io.write_all(format!("\r\n{l}\r\n").as_bytes()).await;
        }
    }

    fn keep(&self, command: &str, data: Vec<u8>) {
        self.log
            .lock()
            .unwrap()
            .data
            .push((command.to_owned(), data));
    }

    async fn run(mut self) {
        while let Some(line) = self.line().await {
            self.log.lock().unwrap().lines.push(line.clone());
            let text = String::from_utf8_lossy(&line).trim_end().to_owned();
            let (name, args) = text.split_once('=').unwrap_or((&text, ""));
            let args = fields::split(args);
            match name {
                "AT+QSMTPDST" => self.say(&["OK", "+QSMTPDST: 0"]).await,
                "AT+QSMTPBODY" => {
                    self.say(&["OK", "CONNECT"]).await;
                    let Some(body) = self.until_escape().await else {
                        return;
                    };
                    let len = body.len();
                    self.keep(&text, body);
                    self.say(&[&format!("+QSMTPBODY: {len}")]).await;
                }
                "AT+QSMTPATT" if args.len() == 3 => {
                    let size = usize::try_from(args[1].as_int().unwrap()).unwrap();
                    self.say(&["OK", "CONNECT"]).await;
                    let Some(data) = self.exact(size).await else {
                        return;
                    };
                    let Some(escape) = self.exact(3).await else {
                        return;
                    };
                    assert_eq!(escape, b"+++", "the attachment is not ended by +++");
                    self.keep(&text, data);
                    self.say(&[&format!("+QSMTPATT: {size}")]).await;
                }
                "AT+QSMTPATT" => self.say(&["OK", "+QSMTPATT: 100"]).await,
                "AT+QSMTPDATT" => self.say(&["OK", "+QSMTPDATT: 0"]).await,
                "AT+QSMTPPUT" => self.say(&["OK", "+QSMTPPUT: 0"]).await,
                _ => self.say(&["OK"]).await,
            }
        }
    }
}

/// Text mixing ASCII with what the charsets can and cannot hold, and the
/// bytes the manuals forbid.
fn text(max_repeat: usize) -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        16 => "[a-zA-Z0-9 .,:-]{0,40}",
        1 => Just("\"".to_owned()),
        1 => Just("\r\n".to_owned()),
        1 => Just("+++".to_owned()),
        1 => Just("Zählerstand".to_owned()),
        // In GB2312 and in BIG5 (the same hanzi in both).
        3 => Just("中文".to_owned()),
        // GB2312 only (simplified).
        1 => Just("电表读数".to_owned()),
        // BIG5 only (traditional).
        1 => Just("電錶讀數".to_owned()),
        1 => Just("✓".to_owned()),
    ];
    (proptest::collection::vec(piece, 0..4), 1..=max_repeat).prop_map(|(v, n)| v.concat().repeat(n))
}

/// ASCII of about `len` bytes.
fn near(len: usize) -> impl Strategy<Value = String> {
    (len - 12..=len + 12).prop_map(|n| "x".repeat(n))
}

/// `中` about `n` times: 2 bytes each in GB2312 and BIG5, 3 in UTF-8.
fn hanzi(n: std::ops::RangeInclusive<usize>) -> impl Strategy<Value = String> {
    n.prop_map(|n| "中".repeat(n))
}

fn charset() -> impl Strategy<Value = Charset> {
    prop_oneof![
        1 => Just(Charset::Ascii),
        3 => Just(Charset::Utf8),
        2 => Just(Charset::Gb2312),
        2 => Just(Charset::Big5),
    ]
}

fn attachment() -> impl Strategy<Value = Attachment> {
    let name = prop_oneof![
        40 => "[a-z]{1,12}\\.(txt|bin|csv)",
        1 => Just("RAM:x.bin".to_owned()),
        1 => Just("UFS:x.bin".to_owned()),
        1 => Just("sd:x.bin".to_owned()),
    ];
    let size = prop_oneof![4 => 0usize..=2_000, 1 => 20_000usize..=60_000];
    (name, size).prop_map(|(name, size)| {
        let bytes: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
        Attachment::from_bytes(name, bytes)
    })
}

#[derive(Debug, Clone)]
struct Case {
    user: String,
    password: String,
    from: String,
    name: Option<String>,
    recipients: usize,
    charset: Charset,
    subject: String,
    body: String,
    attachments: Vec<Attachment>,
}

fn case() -> impl Strategy<Value = Case> {
    (
        (
            prop_oneof![8 => "[a-z0-9@.]{1,50}", 1 => near(50)],
            // Printable ASCII without '"' (0x22), sometimes with it, sometimes long.
            prop_oneof![8 => "[!#-~]{1,50}", 1 => near(50), 1 => "[!-~]{1,20}"],
            // Local parts up to RFC 5321's 64, whole addresses about the 100 the
            // capabilities allow.
            (
                1usize..=64,
                prop_oneof![6 => 1usize..=10, 1 => 20usize..=30],
            )
                .prop_map(|(l, d)| format!("{}@{}.example.com", "m".repeat(l), "d".repeat(d))),
            prop_oneof![
                3 => Just(None),
                3 => "[a-zA-Z ]{1,30}".prop_map(Some),
                1 => text(2).prop_map(Some),
            ],
            prop_oneof![8 => 1usize..=19, 1 => 20usize..=22],
        ),
        (
            charset(),
            prop_oneof![8 => text(2), 1 => near(100), 1 => hanzi(28..=60)],
            prop_oneof![8 => text(20), 1 => near(10 * 1024), 1 => hanzi(5_100..=5_140)],
            prop_oneof![
                3 => proptest::collection::vec(attachment(), 0..=2),
                1 => proptest::collection::vec(attachment(), 3..=11),
            ],
        ),
    )
        .prop_map(
            |((user, password, from, name, recipients), (charset, subject, body, attachments))| {
                Case {
                    user,
                    password,
                    from,
                    name,
                    recipients,
                    charset,
                    subject,
                    body,
                    attachments,
                }
            },
        )
}

/// The quoted parameters of an encoded command line.
fn quoted(line: &[u8]) -> Vec<&[u8]> {
    line.split(|&b| b == b'"').skip(1).step_by(2).collect()
}

fn int_args(line: &str) -> Vec<i64> {
    let args = line.split_once('=').map_or("", |(_, a)| a);
    fields::split(args)
        .iter()
        .filter(|f| matches!(f, Field::Bare(_)))
        .filter_map(Field::as_int)
        .collect()
}

fn hex(bytes: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(bytes).ok()?;
    if text.len() % 2 != 0 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

const MODULE_FILES: [&str; 6] = ["RAM:", "UFS:", "SD:", "/RAM/", "/UFS/", "/SD/"];

/// What the manuals allow, checked on everything the module received.
fn check(email: &Email, got: &Received) -> Result<(), TestCaseError> {
    let mut recipients = 0;
    let mut attachments = 0;
    let mut serial = 0u64;
    for line in &got.lines {
        prop_assert_eq!(line.last(), Some(&b'\r'));
        let body = &line[..line.len() - 1];
        prop_assert!(body.starts_with(b"AT"));
        prop_assert!(
            !body.iter().any(|b| b.is_ascii_control() || *b == 0x7F),
            "control byte in {:?}",
            String::from_utf8_lossy(line)
        );
        prop_assert_eq!(body.iter().filter(|&&b| b == b'"').count() % 2, 0);
        let text = String::from_utf8_lossy(body).into_owned();
        let q = quoted(body);
        let ints = int_args(&text);
        if text.starts_with("AT+QSMTPUSER=") || text.starts_with("AT+QSMTPPWD=") {
            // §2.2.1, §2.2.2: "The maximum size of the parameter is 50."
            prop_assert!(q[0].len() <= 50, "{} of {} bytes", &text[..12], q[0].len());
        } else if text.starts_with("AT+QSMTPSUB=") {
            // §2.2.7: 0-100 in ASCII, otherwise 0-200 hex digits.
            let code = ints[0];
            prop_assert_eq!(
                code,
                cellmail_quectel::commands::charset_code(email.charset())
            );
            if code == 0 {
                prop_assert!(q[0].len() <= 100 && q[0].is_ascii());
                prop_assert_eq!(q[0], &*email.subject_bytes());
            } else {
                prop_assert!(q[0].len() <= 200, "hex subject of {}", q[0].len());
                prop_assert_eq!(hex(q[0]), Some(email.subject_bytes().into_owned()));
            }
        } else if text.starts_with("AT+QSMTPDST=1,") {
            // §2.2.6: types 1-3, at most 20 recipients.
            prop_assert!((1..=3).contains(&ints[1]));
            recipients += 1;
        } else if text.starts_with("AT+QSMTPBODY=") {
            // §2.2.8: timeout 1-48000.
            prop_assert!((1..=48_000).contains(&ints[1]));
        } else if text.starts_with("AT+QSMTPATT=") && ints.len() == 2 {
            // §2.2.9: size 0-102400, timeout 1-48000, at most 10.
            prop_assert!((0..=102_400).contains(&ints[0]));
            prop_assert!((1..=48_000).contains(&ints[1]));
            let name = String::from_utf8_lossy(q[0]).to_ascii_uppercase();
            prop_assert!(!MODULE_FILES.iter().any(|p| name.starts_with(p)), "{name}");
            attachments += 1;
            serial += u64::try_from(ints[0]).unwrap();
        } else if text.starts_with("AT+QSMTPPUT=") {
            // §2.2.13: 100-48000.
            prop_assert!((100..=48_000).contains(&ints[0]));
        }
    }
    prop_assert!(recipients <= 20);
    prop_assert_eq!(recipients, email.recipients().len());
    prop_assert!(attachments <= 10);
    // §2.2.9: "The total size of the attachments should be not greater than 100 Kbytes."
    prop_assert!(serial <= 102_400);
    let bodies: Vec<&Vec<u8>> = got
        .data
        .iter()
        .filter(|(c, _)| c.starts_with("AT+QSMTPBODY="))
        .map(|(_, d)| d)
        .collect();
    prop_assert_eq!(bodies.len(), 1);
    // §2.2.8: at most 10 KB, in the mail's charset, never holding +++.
    prop_assert!(bodies[0].len() <= 10 * 1024);
    prop_assert_eq!(bodies[0].as_slice(), &*email.body_bytes());
    prop_assert!(!bodies[0].windows(3).any(|w| w == b"+++"));
    Ok(())
}

fn refused(err: &MailError) -> Result<(), TestCaseError> {
    match err {
        MailError::Invalid { field, .. } => prop_assert!(!field.is_empty()),
        MailError::Unsupported { feature } => prop_assert!(!feature.is_empty()),
        other => prop_assert!(false, "not a validation error: {other:?}"),
    }
    Ok(())
}

/// Whether the case reached the module (`Some(true)`), or was refused.
async fn run(case: Case) -> Result<bool, TestCaseError> {
    let mut b = Email::builder()
        .from(&case.from, case.name.as_deref())
        .charset(case.charset)
        .subject(case.subject.clone())
        .body(case.body.clone());
    for i in 0..case.recipients {
        b = b.to(&format!("r{i}@example.com"), None);
    }
    for a in &case.attachments {
        b = b.attach(a.clone());
    }
    let email = match b.build() {
        Ok(email) => email,
        Err(e) => return refused(&e).map(|()| false),
    };
    let (host, module) = tokio::io::duplex(64 * 1024);
    let log = Arc::new(Mutex::new(Received::default()));
    let task = tokio::spawn(
        Module {
            io: module,
            buf: Vec::new(),
            log: Arc::clone(&log),
        }
        .run(),
    );
    let config = ClientConfig {
        guard_time: Duration::from_millis(50),
        ..ClientConfig::with_decoder(cellmail_quectel::decoder_config())
    };
    let account = SmtpAccount {
        server: ServerAddr::new("smtp.example.com", 25),
        auth: Auth::Login {
            user: case.user.clone(),
            password: Secret::new(case.password.clone()),
        },
        tls: Default::default(),
    };
    // The sized UART form, whose ranges (§2.2.9) these properties check;
    // the default RAM route is proven by transcripts and e2e.
    let options = QuectelOptions {
        attachment_route: AttachmentRoute::UartSized,
        ..QuectelOptions::default()
    };
    let mut mailer = QuectelMailer::new(Client::new(host, config), account, options);
    let result = mailer.send(&email).await;
    let written = mailer.client().stats().bytes_written;
    drop(mailer);
    let _ = task.await;
    match result {
        Err(e) => {
            refused(&e)?;
            prop_assert_eq!(written, 0, "refused after writing: {}", e);
            Ok(false)
        }
        Ok(_) => check(&email, &log.lock().unwrap()).map(|()| true),
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn accepted_mail_stays_within_the_manuals(case in case()) {
        runtime().block_on(run(case))?;
    }
}

/// The generator is no use if everything is refused: a fair share of cases
/// must reach the module, and a fair share must be refused.
#[test]
fn the_cases_reach_the_module_and_the_limits() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let rt = runtime();
    let mut sent = 0;
    let total = 200;
    for _ in 0..total {
        let case = case().new_tree(&mut runner).unwrap().current();
        if rt.block_on(run(case)).unwrap() {
            sent += 1;
        }
    }
    assert!(
        sent >= total / 4,
        "only {sent} of {total} cases reached the module"
    );
    assert!(
        sent <= total * 4 / 5,
        "{sent} of {total} cases reached the module"
    );
}

#[tokio::test]
async fn rejected_mail_never_reaches_the_module() {
    let (port, _module) = tokio::io::duplex(64);
    let client = Client::new(
        port,
        ClientConfig::with_decoder(cellmail_quectel::decoder_config()),
    );
    let account = SmtpAccount {
        server: ServerAddr::new("smtp.example.com", 25),
        auth: Auth::None,
        tls: Default::default(),
    };
    let mut mailer = QuectelMailer::new(client, account, Default::default());
    for email in [
        Email::builder()
            .from("a@b.cc", None)
            .to("c@d.ee", None)
            .subject("say \"hi\"")
            .build()
            .unwrap(),
        Email::builder()
            .from("a@b.cc", None)
            .to("c@d.ee", None)
            .body("a\r\n+++\r\n")
            .build()
            .unwrap(),
        Email::builder()
            .from("a@b.cc", None)
            .to("c@d.ee", Some("Named"))
            .build()
            .unwrap(),
    ] {
        assert!(mailer.send(&email).await.is_err());
    }
    assert_eq!(mailer.client().stats().bytes_written, 0);
}
