//! Properties of the sans-I/O layer: chunking never changes what is decoded, and
//! no argument value can put a forbidden byte on the wire.

use cellmail_at::fields::{self, Field};
use cellmail_at::{Command, Decoder, DecoderConfig, Event, PromptKind, Secret};
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

/// Argument names, one per position, so an error shows which one it names.
const NAMES: [&str; 4] = ["first", "second", "third", "fourth"];

/// One argument of any kind the encoder takes from outside.
#[derive(Clone, Debug, PartialEq, Eq)]
enum ArgValue {
    Str(String),
    Secret(String),
    Bare(String),
    Hex(Vec<u8>),
}

impl ArgValue {
    fn push(&self, cmd: Command, name: &'static str) -> Command {
        match self {
            ArgValue::Str(v) => cmd.string(name, v.clone()),
            ArgValue::Secret(v) => cmd.secret(name, &Secret::new(v.clone())),
            ArgValue::Bare(v) => cmd.bare(name, v.clone()),
            ArgValue::Hex(v) => cmd.hex(v.clone()),
        }
    }

    /// The rules of `command.rs`, restated: no `"` or C0 control or DEL in a
    /// quoted value; a bare token is also non-empty, without `,` `;` or space.
    fn representable(&self) -> bool {
        let clean = |v: &str| !v.bytes().any(|b| b == b'"' || b < 0x20 || b == 0x7F);
        match self {
            ArgValue::Str(v) | ArgValue::Secret(v) => clean(v),
            ArgValue::Bare(v) => {
                clean(v) && !v.is_empty() && !v.bytes().any(|b| matches!(b, b',' | b';' | b' '))
            }
            ArgValue::Hex(_) => true,
        }
    }
}

/// Text that often holds what must not reach the wire, and anything at all.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9 ,;:/.@\"\\\\\r\n\t\x00\x1a\x1b\x7f]{0,12}",
        any::<String>(),
        "[a-zA-Z0-9:/._@-]{1,12}",
    ]
}

fn arg_value() -> impl Strategy<Value = ArgValue> {
    prop_oneof![
        text().prop_map(ArgValue::Str),
        text().prop_map(ArgValue::Secret),
        text().prop_map(ArgValue::Bare),
        proptest::collection::vec(any::<u8>(), 0..16).prop_map(ArgValue::Hex),
    ]
}

/// Reads encoded parameters back the way a module does, knowing each
/// argument's kind: a quoted value runs to the next `"`, a bare one to the
/// next `,`. `None` when the bytes do not have that shape.
fn read_back(kinds: &[ArgValue], mut params: &[u8]) -> Option<Vec<ArgValue>> {
    let mut out = Vec::new();
    for (i, kind) in kinds.iter().enumerate() {
        if i > 0 {
            params = params.strip_prefix(b",")?;
        }
        let value = if let ArgValue::Bare(_) = kind {
            let end = params
                .iter()
                .position(|&b| b == b',')
                .unwrap_or(params.len());
            let (v, rest) = params.split_at(end);
            params = rest;
            v
        } else {
            let inner = params.strip_prefix(b"\"")?;
            let end = inner.iter().position(|&b| b == b'"')?;
            params = &inner[end + 1..];
            &inner[..end]
        };
        let text = String::from_utf8(value.to_vec()).ok()?;
        out.push(match kind {
            ArgValue::Str(_) => ArgValue::Str(text),
            ArgValue::Secret(_) => ArgValue::Secret(text),
            ArgValue::Bare(_) => ArgValue::Bare(text),
            ArgValue::Hex(_) => {
                let digits = text.as_bytes();
                if digits.len() % 2 != 0
                    || !digits
                        .iter()
                        .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(b))
                {
                    return None;
                }
                ArgValue::Hex(
                    digits
                        .chunks(2)
                        .map(|p| u8::from_str_radix(std::str::from_utf8(p).ok()?, 16).ok())
                        .collect::<Option<_>>()?,
                )
            }
        });
    }
    params.is_empty().then_some(out)
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

    /// (b) No argument of any kind (quoted string, secret, bare token, hex)
    /// puts `"` inside a value, CR or LF before the final CR, Ctrl-Z, ESC or
    /// NUL on the wire: either encoding fails naming the first argument that
    /// cannot be represented, or the bytes are clean and read back as the
    /// values given.
    #[test]
    fn encoding_never_emits_forbidden_bytes(
        n in any::<i64>(),
        args in proptest::collection::vec(arg_value(), 1..5),
    ) {
        let mut cmd = Command::write("+SMTPSUB").int(n);
        for (i, a) in args.iter().enumerate() {
            cmd = a.push(cmd, NAMES[i]);
        }
        let invalid = args.iter().position(|a| !a.representable());
        match cmd.encode() {
            Ok(bytes) => {
                prop_assert_eq!(invalid, None, "{:?} was encoded", args);
                let (body, end) = bytes.split_at(bytes.len() - 1);
                prop_assert_eq!(end, b"\r");
                prop_assert!(
                    !body.iter().any(|b| matches!(b, b'\r' | b'\n' | 0x1A | 0x1B | 0x00)),
                    "{:?}", String::from_utf8_lossy(&bytes)
                );
                let quoted = args.iter().filter(|a| !matches!(a, ArgValue::Bare(_))).count();
                prop_assert_eq!(body.iter().filter(|&&b| b == b'"').count(), 2 * quoted);
                let params = body.strip_prefix(format!("AT+SMTPSUB={n},").as_bytes());
                prop_assert!(params.is_some(), "{:?}", String::from_utf8_lossy(body));
                prop_assert_eq!(read_back(&args, params.unwrap_or_default()), Some(args.clone()));
                // A secret is sent but never shown.
                if args.iter().any(|a| matches!(a, ArgValue::Secret(_))) {
                    prop_assert!(cmd.to_string().contains("\"***\""));
                }
            }
            Err(e) => {
                let first = invalid.map(|i| NAMES[i]);
                prop_assert!(first.is_some(), "{:?} refused: {}", args, e);
                let named = format!("`{}`", first.unwrap_or_default());
                prop_assert!(e.to_string().contains(&named), "{} does not name {}", e, named);
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
