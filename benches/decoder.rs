//! Decoder throughput: a realistic mixed module stream (responses, deferred
//! results, URCs, prompts, POP3READ raw blocks) decoded by `cellmail-at`, and the
//! same bytes through the `atat` crate's `AtDigester`, in one criterion group so
//! the ratio is read from one run. Chunk sizes: 8 bytes (a slow UART FIFO) and
//! 4096 bytes (a USB CDC read).

#![allow(missing_docs)] // criterion_group! generates undocumented items

use std::hint::black_box;

use atat::digest::ParseError;
use atat::{AtDigester, DigestResult, Digester, Parser};
use cellmail_at::{Command, Decoder, DecoderConfig, Event, PromptKind};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

/// The URC prefixes of the stream, for both decoders.
const URCS: &[&str] = &[
    "+SMTPFT",
    "+POP3READ",
    "RDY",
    "+CPIN",
    "SMS Ready",
    "Call Ready",
];

struct StreamUrcs;

impl Parser for StreamUrcs {
    fn parse(buf: &[u8]) -> Result<(&[u8], usize), ParseError> {
        for token in URCS {
            match atat::digest::parser::urc_helper::<_, atat::nom::error::Error<&[u8]>>(*token)(buf)
            {
                Ok((_, found)) => return Ok(found),
                Err(atat::nom::Err::Incomplete(_)) => return Err(ParseError::Incomplete),
                Err(_) => {}
            }
        }
        Err(ParseError::NoMatch)
    }
}

fn pop3read_len(line: &str) -> Option<usize> {
    let (mode, len) = line.strip_prefix("+POP3READ: ")?.split_once(',')?;
    matches!(mode, "1" | "2").then(|| len.parse().ok())?
}

/// One mail sent through a SIM7000 and one 8 KiB message read back, as
/// (command in flight, what the module answers).
fn exchanges() -> Vec<(Command, Vec<u8>)> {
    let mut ex: Vec<(Command, Vec<u8>)> = vec![
        (
            Command::exec("+CGMM"),
            b"\r\nSIM7000G\r\n\r\nOK\r\n".to_vec(),
        ),
        (
            Command::write("+SMTPSRV")
                .string("s", "smtp.example.com")
                .int(25),
            b"\r\nOK\r\n".to_vec(),
        ),
        (
            Command::read("+SMTPSRV"),
            b"\r\n+SMTPSRV: \"smtp.example.com\",25\r\n\r\nOK\r\n".to_vec(),
        ),
        (
            Command::write("+SMTPBODY")
                .int(19)
                .expect_prompt(PromptKind::Download),
            b"\r\nDOWNLOAD\r\n\r\nOK\r\n".to_vec(),
        ),
        (
            Command::exec("+SMTPSEND").expect_deferred("+SMTPSEND:"),
            b"\r\nOK\r\n\r\n+SMTPFT: 1,1360\r\n".to_vec(),
        ),
    ];
    for _ in 0..8 {
        ex.push((
            Command::write("+SMTPFT")
                .int(1360)
                .expect_prompt(PromptKind::Line("+SMTPFT: 2,".into())),
            b"\r\n+SMTPFT: 2,1360\r\n\r\nOK\r\n\r\n+SMTPFT: 1,1360\r\n".to_vec(),
        ));
    }
    ex.push((
        Command::write("+SMTPFT").int(0),
        b"\r\nOK\r\n\r\n+SMTPSEND: 1\r\n\r\nRDY\r\n".to_vec(),
    ));
    let line = b"The meter reported 42.7 m3 at 06:00; all channels nominal.\r\n";
    let mut message = Vec::new();
    while message.len() < 8 * 1460 {
        message.extend_from_slice(line);
    }
    for (i, chunk) in message.chunks(1460).enumerate() {
        let last = (i + 1) * 1460 >= message.len();
        let mut answer = format!(
            "\r\n+POP3READ: {},{}\r\n",
            if last { 2 } else { 1 },
            chunk.len()
        )
        .into_bytes();
        answer.extend_from_slice(chunk);
        answer.extend_from_slice(b"\r\nOK\r\n");
        ex.push((
            Command::write("+POP3READ")
                .int(1460)
                .expect_raw(pop3read_len),
            answer,
        ));
    }
    ex
}

fn cellmail_decode(ex: &[(Command, Vec<u8>)], chunk: usize, config: &DecoderConfig) -> usize {
    let mut decoder = Decoder::new(config.clone());
    let mut events = 0;
    for (cmd, bytes) in ex {
        decoder.begin(cmd);
        for piece in bytes.chunks(chunk) {
            decoder.push(piece);
            while let Some(ev) = decoder.next_event() {
                events += usize::from(!matches!(ev, Event::Echo(_)));
                black_box(&ev);
            }
        }
        decoder.end();
    }
    events
}

/// Returns (results, bytes left undigested at the end).
fn atat_decode(ex: &[(Command, Vec<u8>)], chunk: usize) -> (usize, usize) {
    let mut digester = AtDigester::<StreamUrcs>::new();
    let mut buf: Vec<u8> = Vec::with_capacity(4096);
    let mut results = 0;
    for (_, bytes) in ex {
        for piece in bytes.chunks(chunk) {
            buf.extend_from_slice(piece);
            loop {
                let (result, used) = digester.digest(&buf);
                if !matches!(result, DigestResult::None) {
                    results += 1;
                }
                black_box(&result);
                if used == 0 {
                    break;
                }
                buf.drain(..used);
            }
        }
    }
    (results, buf.len())
}

fn decoder_throughput(c: &mut Criterion) {
    let ex = exchanges();
    let total: usize = ex.iter().map(|(_, b)| b.len()).sum();
    let config = URCS
        .iter()
        .fold(DecoderConfig::empty(), |cfg, p| cfg.urc(*p));
    for chunk in [8usize, 4096] {
        let (atat_results, left) = atat_decode(&ex, chunk);
        println!(
            "decoder stream: {total} bytes, chunk {chunk}: cellmail-at {} events, atat {atat_results} results ({left} bytes left undigested)",
            cellmail_decode(&ex, chunk, &config)
        );
    }
    let mut group = c.benchmark_group("decoder");
    group.throughput(Throughput::Bytes(total as u64));
    for chunk in [8usize, 4096] {
        group.bench_with_input(
            BenchmarkId::new("cellmail-at", chunk),
            &chunk,
            |b, &chunk| b.iter(|| cellmail_decode(&ex, chunk, &config)),
        );
        group.bench_with_input(BenchmarkId::new("atat", chunk), &chunk, |b, &chunk| {
            b.iter(|| atat_decode(&ex, chunk))
        });
    }
    group.finish();
}

criterion_group!(benches, decoder_throughput);
criterion_main!(benches);
