//! Properties of the sans-I/O layer: chunking never changes what is decoded, and
//! no argument value can put a forbidden byte on the wire.

use cellmail_at::fields::{self, Field};
use cellmail_at::{Command, Decoder, DecoderConfig, Event, PromptKind};
use proptest::prelude::*;

/// The exchanges of the manuals, as (command, module bytes) pairs.
fn scenario() -> Vec<(Command, Vec<u8>)> {
    fn pop3read(line: &str) -> Option<usize> {
        let (mode, len) = line.strip_prefix("+POP3READ: ")?.split_once(',')?;
        matches!(mode, "1" | "2").then(|| len.parse().ok())?
    }
    vec![
        (
            Command::read("+QSMTPSRV"),
            b"\r\n+QSMTPSRV: \"smtp.163.com\",25\r\n\r\nOK\r\n".to_vec(),
        ),
        (
            Command::write("+QSMTPDST")
                .int(1)
                .int(1)
                .string("e-addr", "a@b.c")
                .expect_deferred("+QSMTPDST:"),
            b"AT+QSMTPDST=1,1,\"a@b.c\"\r\r\nOK\r\n\r\n+QSMTPDST: 0\r\n\r\nRDY\r\n".to_vec(),
        ),
        (
            Command::write("+QSMTPBODY")
                .int(1)
                .int(60)
                .expect_prompt(PromptKind::Connect)
                .expect_deferred("+QSMTPBODY:"),
            b"\r\nOK\r\n\r\nCONNECT\r\n\r\n+QSMTPBODY: 14\r\n".to_vec(),
        ),
        (
            Command::write("+POP3READ").int(1460).expect_raw(pop3read),
            b"\r\n+POP3READ: 1,12\r\nOK\r\nERROR\r\n\r\nOK\r\n\r\n+POP3READ: 3,99\r\n".to_vec(),
        ),
        (
            Command::write("+SMTPFT")
                .int(5)
                .expect_prompt(PromptKind::Line("+SMTPFT: 2,".into())),
            b"\r\n+SMTPFT: 2,5\r\n\r\nOK\r\n\r\n+SMTPFT: 1,1360\r\n\r\n+CME ERROR: 3\r\n".to_vec(),
        ),
        (
            Command::write("+CMGS")
                .string("da", "123")
                .expect_prompt(PromptKind::Angle),
            b"\r\n> ".to_vec(),
        ),
        (
            Command::exec("+POP3HDR"),
            b"\r\nFrom: <a@b.c>\r\n>\r\n\r\nOK\r\n".to_vec(),
        ),
    ]
}

/// Decodes `scenario` feeding each command's bytes in chunks cut at `cuts`.
fn decode(cuts: &[usize]) -> Vec<Event> {
    let mut decoder = Decoder::new(DecoderConfig::default().urc("+SMTPFT:"));
    let mut events = Vec::new();
    for (cmd, bytes) in scenario() {
        decoder.begin(&cmd);
        let mut start = 0;
        for &cut in cuts.iter().filter(|&&c| c > 0 && c < bytes.len()) {
            if cut > start {
                decoder.push(&bytes[start..cut]);
                events.extend(std::iter::from_fn(|| decoder.next_event()));
                start = cut;
            }
        }
        decoder.push(&bytes[start..]);
        events.extend(std::iter::from_fn(|| decoder.next_event()));
        decoder.end();
        events.extend(std::iter::from_fn(|| decoder.next_event()));
    }
    events
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// (a) However the stream is split, the same events come out.
    #[test]
    fn chunking_does_not_change_events(mut cuts in proptest::collection::vec(0usize..64, 0..20)) {
        cuts.sort_unstable();
        cuts.dedup();
        prop_assert_eq!(decode(&cuts), decode(&[]));
    }

    /// Byte-at-a-time decoding equals whole decoding, for arbitrary bytes too.
    #[test]
    fn arbitrary_bytes_decode_the_same_byte_by_byte(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let mut whole = Decoder::new(DecoderConfig::default());
        whole.push(&bytes);
        let a: Vec<Event> = std::iter::from_fn(|| whole.next_event()).collect();
        let mut single = Decoder::new(DecoderConfig::default());
        let mut b = Vec::new();
        for byte in &bytes {
            single.push(std::slice::from_ref(byte));
            b.extend(std::iter::from_fn(|| single.next_event()));
        }
        prop_assert_eq!(a, b);
    }

    /// (b) No string value puts `"`, CR, LF, Ctrl-Z, ESC or NUL on the wire:
    /// either encoding fails naming the argument, or the bytes are clean.
    #[test]
    fn encoding_never_emits_forbidden_bytes(value in any::<String>(), n in any::<i64>()) {
        let cmd = Command::write("+SMTPSUB").int(n).string("subject", value.clone());
        match cmd.encode() {
            Ok(bytes) => {
                let (body, end) = bytes.split_at(bytes.len() - 1);
                prop_assert_eq!(end, b"\r");
                prop_assert_eq!(body.iter().filter(|&&b| b == b'"').count(), 2);
                prop_assert!(!body.iter().any(|b| matches!(b, b'\r' | b'\n' | 0x1A | 0x1B | 0x00)));
            }
            Err(e) => {
                prop_assert!(e.to_string().contains("`subject`"));
                prop_assert!(value.bytes().any(|b| b == b'"' || b < 0x20 || b == 0x7F));
            }
        }
    }

    /// (b) Every representable string round-trips: encoded, then read back as
    /// the module would see the parameter, it is the same string.
    #[test]
    fn representable_strings_round_trip(value in "[^\"\\x00-\\x1F\\x7F]*", n in any::<i64>()) {
        let bytes = Command::write("+X").int(n).string("v", value.clone()).encode().unwrap();
        let text = std::str::from_utf8(&bytes).unwrap();
        let params = text.strip_prefix("AT+X=").unwrap().strip_suffix('\r').unwrap();
        let parsed = fields::split(params);
        prop_assert_eq!(parsed.len(), 2);
        prop_assert_eq!(parsed[0].as_int(), Some(n));
        prop_assert_eq!(parsed[1], Field::Quoted(value.as_str()));
    }

    /// Hex arguments are always representable and decode back to the bytes.
    #[test]
    fn hex_round_trips(data in proptest::collection::vec(any::<u8>(), 0..64)) {
        let bytes = Command::write("+X").hex(data.clone()).encode().unwrap();
        let text = std::str::from_utf8(&bytes).unwrap();
        let hex = text.strip_prefix("AT+X=\"").unwrap().strip_suffix("\"\r").unwrap();
        let back: Vec<u8> = (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect();
        prop_assert_eq!(back, data);
    }
}
