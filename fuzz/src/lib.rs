//! Bodies of the fuzz targets, shared by the libFuzzer binaries (`fuzz_targets/`)
//! and by `tests/corpus.rs`, which replays the seed corpora as ordinary tests.
//! Each body panics only when an invariant is broken.

use std::time::Duration;

use cellmail_at::fields;
use cellmail_at::{Client, ClientConfig, Command, DataEnd, Decoder, DecoderConfig, Event, PromptKind};

fn pop3read_len(line: &str) -> Option<usize> {
    let (mode, len) = line.strip_prefix("+POP3READ: ")?.split_once(',')?;
    matches!(mode, "1" | "2").then(|| len.trim().parse().ok())?
}

/// Commands in flight the fuzzer can pick, one per exchange shape.
fn command(selector: u8) -> Command {
    match selector % 6 {
        0 => Command::read("+QSMTPSRV"),
        1 => Command::exec("+QSMTPPUT").expect_deferred("+QSMTPPUT:"),
        2 => Command::write("+QSMTPBODY")
            .int(1)
            .expect_prompt(PromptKind::Connect)
            .expect_deferred("+QSMTPBODY:"),
        3 => Command::write("+SMTPFT").int(100).expect_prompt(PromptKind::Line("+SMTPFT: 2,".into())),
        4 => Command::write("+POP3READ").int(1460).expect_raw(pop3read_len),
        _ => Command::write("+CMGS").string("da", "1").expect_prompt(PromptKind::Angle),
    }
}

fn config() -> DecoderConfig {
    DecoderConfig::default().urc("+SMTPFT:").urc("+POP3READ: 3,").urc("+SMTP:")
}

fn decode(selector: u8, bytes: &[u8], chunk: usize) -> Vec<Event> {
    let mut decoder = Decoder::new(config());
    decoder.begin(&command(selector));
    let mut events = Vec::new();
    for piece in bytes.chunks(chunk.max(1)) {
        decoder.push(piece);
        events.extend(std::iter::from_fn(|| decoder.next_event()));
    }
    decoder.end();
    events.extend(std::iter::from_fn(|| decoder.next_event()));
    events
}

/// The decoder on arbitrary module bytes: never panics, raw blocks never hold
/// more than was received, and the events do not depend on the chunking.
pub fn decoder(data: &[u8]) {
    let Some((&head, bytes)) = data.split_first() else { return };
    let chunk = usize::from(head >> 3) + 1;
    let whole = decode(head, bytes, bytes.len().max(1));
    let chunked = decode(head, bytes, chunk);
    assert_eq!(whole, chunked, "chunking by {chunk} changed the events");
    let raw: usize = whole
        .iter()
        .map(|e| if let Event::Raw(b) = e { b.len() } else { 0 })
        .sum();
    assert!(raw <= bytes.len());
}

/// The encoder on arbitrary strings: a value is refused, or it is on the wire
/// between its quotes, intact, with no forbidden byte.
pub fn encoder(data: &[u8]) {
    let value = String::from_utf8_lossy(data).into_owned();
    match Command::write("+SMTPSUB").string("subject", value.clone()).encode() {
        Ok(bytes) => {
            let body = &bytes[..bytes.len() - 1];
            assert!(!body.iter().any(|b| matches!(b, b'\r' | b'\n' | 0x1A | 0x1B | 0)));
            let text = std::str::from_utf8(body).expect("encoder keeps UTF-8");
            let params = text.strip_prefix("AT+SMTPSUB=").expect("prefix");
            assert_eq!(fields::split(params), vec![fields::Field::Quoted(value.as_str())]);
        }
        Err(e) => assert!(e.to_string().contains("`subject`")),
    }
}

/// The client driven by a module that answers with fuzzer bytes: every call
/// ends in a value or a typed error, never a panic or a hang.
pub fn client(data: &[u8]) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("a current-thread runtime");
    runtime.block_on(async {
        let (host, mut module) = tokio::io::duplex(1 << 16);
        let answers: Vec<Vec<u8>> = data.split(|&b| b == 0xFF).map(<[u8]>::to_vec).collect();
        let feeder = tokio::spawn(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let mut sink = [0u8; 256];
            for answer in answers {
                // Answer after the host wrote something, like a module does.
                if module.read(&mut sink).await.unwrap_or(0) == 0 {
                    return;
                }
                if module.write_all(&answer).await.is_err() {
                    return;
                }
            }
            // Keep the line open and silent: the host's timeouts must end it.
            let _ = module.read(&mut sink).await;
            std::future::pending::<()>().await;
        });
        let mut client = Client::new(host, ClientConfig::with_decoder(config()));
        let run = async {
            let short = Duration::from_secs(2);
            for selector in 0..6u8 {
                let cmd = command(selector).timeout(short);
                match selector {
                    2 => {
                        let _ = client.upload(&cmd, b"body", DataEnd::Escape).await;
                        let _ = client.deferred("+QSMTPBODY:", short).await;
                    }
                    3 | 5 => {
                        let _ = client.upload(&cmd, b"0123456789", DataEnd::Length).await;
                    }
                    _ => {
                        let _ = client.execute(&cmd).await;
                        let _ = client.deferred("+QSMTPPUT:", short).await;
                    }
                }
                let _ = client.wait_urc("+SMTP:", Duration::from_millis(100)).await;
            }
        };
        let finished = tokio::time::timeout(Duration::from_secs(3600), run).await;
        assert!(finished.is_ok(), "the client hung");
        feeder.abort();
    });
}

/// The transcript parser on arbitrary text: it never panics, and whatever it
/// accepts writes back to text that parses to the same transcript.
pub fn transcript(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(t) = cellmail_replay::Transcript::parse(&text) {
        let written = t.to_text();
        let again = cellmail_replay::Transcript::parse(&written).expect("written text parses");
        assert_eq!(again.to_text(), written);
    }
}

/// Every dialect's response and URC parsers on arbitrary lines: a value or
/// nothing, never a panic.
pub fn parsers(data: &[u8]) {
    use cellmail_quectel::commands as q;
    use cellmail_simcom::sim7000::commands as s7;
    let line = String::from_utf8_lossy(data).into_owned();
    let response = cellmail_at::Response {
        info: line.split('\n').map(str::to_owned).collect(),
        raw: data.to_vec(),
        ..Default::default()
    };
    let _ = q::parse_result(&line, q::prefix::PUT);
    let _ = q::parse_attachments(&response);
    let _ = q::parse_recipients(&response);
    let _ = q::parse_upload(&response);
    let _ = q::parse_ssl_value(&response);
    if let Some(code) = q::parse_result(&line, q::prefix::PUT) {
        let _ = cellmail_quectel::ResultCode::from_code(code).to_mail_error();
    }
    let _ = s7::pop3read_length(&line);
    for n in s7::ints(&line, "+SMTPSEND:").into_iter().flatten() {
        let _ = cellmail_simcom::sim7000::codes::SendCode::from_code(n).into_result();
        let _ = cellmail_simcom::sim7000::codes::Pop3Code::from_code(n).into_result();
    }
    let result = cellmail_simcom::sim5360::SmtpResult::parse(&line);
    let _ = result.is_final();
    let _ = result.into_result(&line);
    let _ = cellmail_simcom::sim5360::pop3_result(&line);
    let _ = cellmail_simcom::sim5360::Pop3Result::parse(&line);
    let _ = cellmail_simcom::sim5360::saved_path(&line);
    let _ = q::parse_ssl_context(&response);
    let _ = cellmail_simcom::common::parse_smtp_auth(&response);
    let _ = cellmail_simcom::common::parse_pop3_server(&response);
    let _ = s7::read_answer(&response.info);
    let _ = s7::session_end(&line);
    let _ = s7::pop3_answer(&line, "+POP3NUM:");
    // SIM800 and SIM7080 TLS, the SIM7000-family test forms, the SIM7080
    // bearer, the A76xx answers and result codes.
    let _ = s7::parse_email_ssl(&line);
    let _ = s7::parse_email_ssl_modes(&line);
    let mut lengths = cellmail_simcom::sim7000::lengths::ModuleLengths::default();
    for l in &response.info {
        lengths.read(l);
    }
    let mut caps = cellmail_simcom::sim7000::capabilities();
    lengths.apply(&mut caps);
    let _ = lengths.for_pop3(&caps);
    for pdp in 0..4 {
        let _ = cellmail_simcom::sim7080::plan::bearer_outcome(pdp, None, &response);
    }
    {
        use cellmail_simcom::a76xx::{codes, commands as a};
        let _ = a::parse_config(&line);
        let _ = a::parse_server(&line);
        let _ = a::parse_auth(&line);
        let _ = a::parse_sender(&line);
        let _ = a::parse_recipient(&line);
        let _ = a::parse_subject(&line);
        let _ = a::parse_attachment(&line);
        if let Some(code) = a::result_code(&line) {
            let _ = codes::SendCode::from_code(code).into_result();
        }
    }
    let _ = cellmail::Message::from_pop3_data(data.to_vec());
}

/// The SIM7000 mailer against a module answering with fuzzer bytes: `send`
/// and a POP3 retrieve end in a value or a typed error, never a panic or hang.
pub fn mailer(data: &[u8]) {
    use cellmail::{MailSender, Mailbox};
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("a current-thread runtime");
    runtime.block_on(async {
        let (host, mut module) = tokio::io::duplex(1 << 16);
        let answers: Vec<Vec<u8>> = data.split(|&b| b == 0xFF).map(<[u8]>::to_vec).collect();
        let feeder = tokio::spawn(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let mut sink = [0u8; 4096];
            for answer in answers {
                if module.read(&mut sink).await.unwrap_or(0) == 0 || module.write_all(&answer).await.is_err() {
                    return;
                }
            }
            loop {
                if module.read(&mut sink).await.unwrap_or(0) == 0 {
                    return;
                }
            }
        });
        let mut config = ClientConfig::with_decoder(cellmail_simcom::sim7000::decoder_config());
        config.command_timeout = Duration::from_secs(2);
        let client = Client::new(host, config);
        let account = cellmail::SmtpAccount {
            server: cellmail::ServerAddr::new("mail.example.com", 25),
            auth: cellmail::Auth::None,
            tls: Default::default(),
        };
        let options = cellmail_simcom::Sim7000Options {
            pop3: Some(cellmail::Pop3Account {
                server: cellmail::ServerAddr::new("mail.example.com", 110),
                user: "u".into(),
                password: cellmail::Secret::new("p"),
                tls: Default::default(),
            }),
            server_timeout: std::time::Duration::from_secs(10),
            ..Default::default()
        };
        let mut mailer = cellmail_simcom::Sim7000Mailer::new(client, account, options);
        let email = cellmail::Email::builder()
            .from("a@example.com", None)
            .to("b@example.com", None)
            .subject("s")
            .body("b")
            .attach(cellmail::Attachment::from_bytes("a.bin", vec![1u8; 3000]))
            .build()
            .expect("a valid e-mail");
        let run = async {
            let _ = mailer.send(&email).await;
            let _ = mailer.retrieve(1).await;
            let _ = mailer.close().await;
        };
        let finished = tokio::time::timeout(Duration::from_secs(3600), run).await;
        assert!(finished.is_ok(), "the mailer hung");
        feeder.abort();
    });
}
