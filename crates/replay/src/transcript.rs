//! The `.at` transcript format: parse, write, and resolve to bytes.
//!
//! See `docs/transcripts.md` for the format with examples.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Why a transcript could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    /// A line has an unknown form.
    #[error("line {line}: {reason}: {text:?}")]
    Line {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        reason: String,
        /// The line.
        text: String,
    },
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file a `file N NAME` payload names could not be read.
    #[error("line {line}: cannot read {path}: {source}")]
    PayloadFile {
        /// 1-based line number of the payload.
        line: usize,
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// Bytes sent in data mode or as a raw block, as written in the transcript.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Payload {
    /// `raw "..."` with escapes (kept as written).
    Escaped(String),
    /// `hex 4142...` (kept as written).
    Hex(String),
    /// `file N NAME`: N bytes from NAME, relative to the transcript's folder.
    File {
        /// How many bytes.
        len: usize,
        /// The file name.
        name: String,
    },
}

/// One line of a transcript.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// A blank line.
    Blank,
    /// `# ...` (the whole line, kept as written; `#! key: value` is metadata).
    Comment(String),
    /// `> TEXT`: the host writes `TEXT\r`.
    HostLine(String),
    /// `>raw`, `>hex`, `>file`: the host writes bytes in data mode.
    HostData(Payload),
    /// `>+++`: the host's data-mode escape.
    HostEscape,
    /// `< TEXT`: the module sends `\r\nTEXT\r\n`.
    ModuleLine(String),
    /// `<raw`, `<hex`, `<file`: the module sends exactly these bytes.
    ModuleData(Payload),
    /// `~ 2s`: the module waits before its next output (kept as written).
    Delay(Duration, String),
}

/// A step with the line it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// 1-based line number.
    pub number: usize,
    /// What the line says.
    pub step: Step,
}

/// A parsed transcript.
///
/// ```
/// use cellmail_replay::Transcript;
/// let text = "#! dialect: quectel-gsm\n> AT+QSMTPSRV=\"smtp.163.com\",25\n< OK\n";
/// let t = Transcript::parse(text)?;
/// assert_eq!(t.meta("dialect"), Some("quectel-gsm"));
/// assert_eq!(t.to_text(), text);
/// # Ok::<(), cellmail_replay::ParseError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transcript {
    lines: Vec<Line>,
    base: Option<PathBuf>,
    meta: BTreeMap<String, String>,
}

impl Transcript {
    /// Parses transcript text; `file` payloads cannot be resolved (no folder).
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let mut lines = Vec::new();
        let mut meta = BTreeMap::new();
        for (i, raw) in text.lines().enumerate() {
            let number = i + 1;
            let step = parse_line(raw).map_err(|reason| ParseError::Line {
                line: number,
                reason,
                text: raw.to_owned(),
            })?;
            if let Step::Comment(c) = &step {
                if let Some((k, v)) = c.strip_prefix("#!").and_then(|m| m.split_once(':')) {
                    meta.insert(k.trim().to_owned(), v.trim().to_owned());
                }
            }
            lines.push(Line { number, step });
        }
        Ok(Self {
            lines,
            base: None,
            meta,
        })
    }

    /// Reads a `.at` file; `file` payloads resolve relative to its folder.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, ParseError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| ParseError::Io {
            path: path.to_owned(),
            source,
        })?;
        let mut t = Self::parse(&text)?;
        t.base = path.parent().map(Path::to_path_buf);
        Ok(t)
    }

    /// Builds a transcript from steps (numbered in order).
    pub fn from_steps(steps: impl IntoIterator<Item = Step>) -> Self {
        Self {
            lines: steps
                .into_iter()
                .enumerate()
                .map(|(i, step)| Line {
                    number: i + 1,
                    step,
                })
                .collect(),
            base: None,
            meta: BTreeMap::new(),
        }
    }

    /// Sets the folder `file` payloads are read from.
    pub fn with_base(mut self, base: impl Into<PathBuf>) -> Self {
        self.base = Some(base.into());
        self
    }

    /// The lines.
    pub fn lines(&self) -> &[Line] {
        &self.lines
    }

    /// A `#! key: value` header value.
    pub fn meta(&self, key: &str) -> Option<&str> {
        self.meta.get(key).map(String::as_str)
    }

    /// Writes the transcript back as text (one line per step, `\n` endings).
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for line in &self.lines {
            out.push_str(&write_step(&line.step));
            out.push('\n');
        }
        out
    }

    /// The bytes of the payload on `line` (a [`Step::HostData`] or
    /// [`Step::ModuleData`]), `${name}` placeholders left as they are; errors
    /// name that line. `None` when the line carries no payload.
    pub fn line_bytes(&self, line: &Line) -> Option<Result<Vec<u8>, ParseError>> {
        match &line.step {
            Step::HostData(p) | Step::ModuleData(p) => Some(self.payload_bytes_at(p, line.number)),
            _ => None,
        }
    }

    /// The bytes of `payload`, written on transcript line `line` (1-based, used
    /// in errors), `${name}` placeholders left as they are.
    pub fn payload_bytes_at(&self, payload: &Payload, line: usize) -> Result<Vec<u8>, ParseError> {
        let at = |reason: String| ParseError::Line {
            line,
            reason,
            text: write_payload(payload),
        };
        match payload {
            Payload::Escaped(s) => unescape(s).map_err(at),
            Payload::Hex(h) => decode_hex(h).map_err(at),
            Payload::File { len, name } => {
                let base = self.base.as_ref().ok_or_else(|| {
                    at(format!(
                        "file {name} cannot be resolved: the transcript was not loaded from a file"
                    ))
                })?;
                let path = base.join(name);
                let bytes = std::fs::read(&path).map_err(|source| ParseError::PayloadFile {
                    line,
                    path: path.clone(),
                    source,
                })?;
                if bytes.len() < *len {
                    return Err(at(format!(
                        "{} holds {} bytes, {len} announced",
                        path.display(),
                        bytes.len()
                    )));
                }
                Ok(bytes[..*len].to_vec())
            }
        }
    }
}

fn parse_line(raw: &str) -> Result<Step, String> {
    let line = raw.trim_end_matches('\r');
    if line.trim().is_empty() {
        return Ok(Step::Blank);
    }
    if line.starts_with('#') {
        return Ok(Step::Comment(line.to_owned()));
    }
    if let Some(rest) = line.strip_prefix("~ ") {
        return parse_delay(rest).map(|d| Step::Delay(d, rest.to_owned()));
    }
    if line == ">+++" {
        return Ok(Step::HostEscape);
    }
    if let Some(text) = line.strip_prefix("> ") {
        return Ok(Step::HostLine(text.to_owned()));
    }
    if let Some(text) = line.strip_prefix("< ") {
        return Ok(Step::ModuleLine(text.to_owned()));
    }
    if let Some(rest) = line.strip_prefix('>') {
        return parse_payload(rest).map(Step::HostData);
    }
    if let Some(rest) = line.strip_prefix('<') {
        return parse_payload(rest).map(Step::ModuleData);
    }
    Err("a line starts with '> ', '< ', '>raw', '<raw', '>hex', '<hex', '>file', '<file', '>+++', '~ ' or '#'".into())
}

fn parse_payload(rest: &str) -> Result<Payload, String> {
    if let Some(q) = rest.strip_prefix("raw ") {
        let inner = q
            .strip_prefix('"')
            .and_then(|s| s.strip_suffix('"'))
            .ok_or("raw data is written in double quotes")?;
        unescape(inner)?;
        return Ok(Payload::Escaped(inner.to_owned()));
    }
    if let Some(h) = rest.strip_prefix("hex ") {
        decode_hex(h)?;
        return Ok(Payload::Hex(h.to_owned()));
    }
    if let Some(f) = rest.strip_prefix("file ") {
        let (len, name) = f.split_once(' ').ok_or("file takes a length and a name")?;
        let len = len
            .parse()
            .map_err(|_| format!("{len:?} is not a length"))?;
        if name.is_empty() {
            return Err("file needs a name".into());
        }
        return Ok(Payload::File {
            len,
            name: name.to_owned(),
        });
    }
    Err("unknown data form (raw, hex, file)".into())
}

fn parse_delay(text: &str) -> Result<Duration, String> {
    let bad = || format!("{text:?} is not a delay like 2s or 150ms");
    if let Some(ms) = text.strip_suffix("ms") {
        return ms.parse().map(Duration::from_millis).map_err(|_| bad());
    }
    if let Some(s) = text.strip_suffix('s') {
        // try_from: a huge delay ("~ 1e300s") is an error, not a panic (found by fuzzing).
        return s
            .parse::<f64>()
            .ok()
            .and_then(|v| Duration::try_from_secs_f64(v).ok())
            .ok_or_else(bad);
    }
    Err(bad())
}

fn write_step(step: &Step) -> String {
    match step {
        Step::Blank => String::new(),
        Step::Comment(c) => c.clone(),
        Step::HostLine(t) => format!("> {t}"),
        Step::HostData(p) => format!(">{}", write_payload(p)),
        Step::HostEscape => ">+++".into(),
        Step::ModuleLine(t) => format!("< {t}"),
        Step::ModuleData(p) => format!("<{}", write_payload(p)),
        Step::Delay(_, text) => format!("~ {text}"),
    }
}

fn write_payload(p: &Payload) -> String {
    match p {
        Payload::Escaped(s) => format!("raw \"{s}\""),
        Payload::Hex(h) => format!("hex {h}"),
        Payload::File { len, name } => format!("file {len} {name}"),
    }
}

/// Writes bytes in the `raw "..."` escape syntax (printable ASCII kept).
///
/// ```
/// assert_eq!(cellmail_replay::escape(b"\r\n> \"x\"\x01"), r#"\r\n> \"x\"\x01"#);
/// ```
pub fn escape(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        match b {
            b'\r' => out.push_str("\\r"),
            b'\n' => out.push_str("\\n"),
            b'\t' => out.push_str("\\t"),
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            0x20..=0x7E => out.push(char::from(b)),
            _ => out.push_str(&format!("\\x{b:02X}")),
        }
    }
    out
}

/// Reads the `raw "..."` escape syntax back into bytes.
pub fn unescape(text: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(text.len());
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b != b'\\' {
            if b == b'"' {
                return Err("a double quote inside raw data must be written \\\"".into());
            }
            out.push(b);
            i += 1;
            continue;
        }
        let esc = *bytes.get(i + 1).ok_or("a backslash ends the raw data")?;
        i += 2;
        out.push(match esc {
            b'r' => b'\r',
            b'n' => b'\n',
            b't' => b'\t',
            b'\\' => b'\\',
            b'"' => b'"',
            b'x' => {
                let (hi, lo) = match (bytes.get(i), bytes.get(i + 1)) {
                    (Some(&hi), Some(&lo)) => (hi, lo),
                    _ => return Err("\\x needs two hex digits".into()),
                };
                i += 2;
                match (hex_digit(hi), hex_digit(lo)) {
                    (Some(hi), Some(lo)) => hi << 4 | lo,
                    _ => {
                        let shown = String::from_utf8_lossy(&[hi, lo]).into_owned();
                        return Err(format!("\\x{shown} is not hex"));
                    }
                }
            }
            other => return Err(format!("unknown escape \\{}", char::from(other))),
        });
    }
    Ok(out)
}

/// Writes every occurrence of each secret value in `bytes` as `${name}`.
/// Secrets are tried in the order given; empty values are skipped.
pub(crate) fn redact(bytes: &[u8], secrets: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    for (name, value) in secrets {
        if value.is_empty() {
            continue;
        }
        let placeholder = format!("${{{name}}}").into_bytes();
        let mut i = 0;
        while i + value.len() <= out.len() {
            if out[i..].starts_with(value) {
                out.splice(i..i + value.len(), placeholder.iter().copied());
                i += placeholder.len();
            } else {
                i += 1;
            }
        }
    }
    out
}

/// The value of one ASCII hex digit. `u8::from_str_radix` is not used: it
/// accepts a leading `+` and slicing a `&str` by two bytes panics inside a
/// multi-byte character.
fn hex_digit(b: u8) -> Option<u8> {
    char::from(b)
        .to_digit(16)
        .filter(|_| b.is_ascii())
        .and_then(|d| u8::try_from(d).ok())
}

fn decode_hex(h: &str) -> Result<Vec<u8>, String> {
    if let Some(c) = h.chars().find(|c| !c.is_ascii()) {
        return Err(format!("hex data holds the non-ASCII character {c:?}"));
    }
    let digits: Vec<u8> = h.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if digits.len() % 2 != 0 {
        return Err("hex data has an odd number of digits".into());
    }
    digits
        .chunks_exact(2)
        .map(|pair| match (hex_digit(pair[0]), hex_digit(pair[1])) {
            (Some(hi), Some(lo)) => Ok(hi << 4 | lo),
            _ => Err(format!("{:?} is not hex", String::from_utf8_lossy(pair))),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_construct_round_trips() {
        let text = "#! dialect: sim7000\n# a comment\n\n> AT+SMTPBODY=5\n< DOWNLOAD\n>raw \"Hi\\r\\n\\x00\"\n< OK\n~ 2s\n< +SMTPSEND: 1\n<hex 48656C6C6F\n<raw \"\\r\\n> \"\n>+++\n>hex 0102\n<file 3 data.bin\n>file 2 data.bin\n~ 150ms\n~ 1.5s\n";
        let t = Transcript::parse(text).unwrap();
        assert_eq!(t.to_text(), text);
        assert_eq!(t.meta("dialect"), Some("sim7000"));
        assert_eq!(
            t.lines()[7].step,
            Step::Delay(Duration::from_secs(2), "2s".into())
        );
    }

    #[test]
    fn errors_name_the_line() {
        let err = Transcript::parse("> AT\n< OK\nOK\n").unwrap_err();
        assert!(matches!(err, ParseError::Line { line: 3, .. }), "{err}");
        assert!(
            Transcript::parse(">raw \"a\\q\"")
                .unwrap_err()
                .to_string()
                .contains("line 1")
        );
        assert!(Transcript::parse("<hex 4").is_err());
        assert!(Transcript::parse("~ soon").is_err());
        assert!(Transcript::parse("~ 1e300s").is_err());
        assert!(Transcript::parse("~ -1s").is_err());
        assert!(Transcript::parse(">file x y").is_err());
    }

    #[test]
    fn non_ascii_hex_is_an_error_naming_the_line() {
        // Used to panic: two-byte slices of a &str split the 'é'.
        // fuzz/regressions/transcript/non-ascii-hex holds exactly this input.
        let err = Transcript::parse("<hex aé1\n").unwrap_err();
        assert!(matches!(err, ParseError::Line { line: 1, .. }), "{err}");
        let err = Transcript::parse("> AT\n<hex aé1\n").unwrap_err();
        assert!(matches!(err, ParseError::Line { line: 2, .. }), "{err}");
        assert!(err.to_string().contains("non-ASCII"), "{err}");
        let err = Transcript::parse("# x\n\n>hex 4é\n").unwrap_err();
        assert!(matches!(err, ParseError::Line { line: 3, .. }), "{err}");
        // The same input inside a \x escape.
        let err = Transcript::parse(">raw \"\\xé\"").unwrap_err();
        assert!(matches!(err, ParseError::Line { line: 1, .. }), "{err}");
        assert!(err.to_string().contains("is not hex"), "{err}");
    }

    #[test]
    fn hex_digits_are_only_hex_digits() {
        // from_str_radix would read "+1" as 0x01.
        assert!(Transcript::parse("<hex +1").is_err());
        assert!(Transcript::parse("<raw \"\\x+1\"").is_err());
        assert!(Transcript::parse("<hex 0g").is_err());
        assert_eq!(decode_hex("0aFf 10").unwrap(), [0x0A, 0xFF, 0x10]);
        assert_eq!(unescape("\\xfF\\x0a").unwrap(), [0xFF, 0x0A]);
    }

    #[test]
    fn payload_errors_name_their_line() {
        let t = Transcript::parse("> AT+QFUPL=\"a\",3\n< CONNECT\n>file 3 missing.bin\n").unwrap();
        let Step::HostData(p) = &t.lines()[2].step else {
            panic!("line 3 is host data")
        };
        // Not loaded from a file: cannot be resolved.
        let err = t.line_bytes(&t.lines()[2]).unwrap().unwrap_err();
        assert!(matches!(err, ParseError::Line { line: 3, .. }), "{err}");
        assert!(err.to_string().starts_with("line 3: "), "{err}");
        // A folder without that file.
        let here = Path::new(env!("CARGO_MANIFEST_DIR"));
        let err = t
            .clone()
            .with_base(here)
            .payload_bytes_at(p, 3)
            .unwrap_err();
        assert!(
            matches!(err, ParseError::PayloadFile { line: 3, .. }),
            "{err}"
        );
        assert!(err.to_string().starts_with("line 3: cannot read"), "{err}");
        // A file shorter than announced.
        let t = Transcript::parse("\n<file 999999 Cargo.toml\n")
            .unwrap()
            .with_base(here);
        let err = t.line_bytes(&t.lines()[1]).unwrap().unwrap_err();
        assert!(matches!(err, ParseError::Line { line: 2, .. }), "{err}");
        assert!(err.to_string().contains("999999 announced"), "{err}");
        // And a line that is no payload has none.
        assert!(t.line_bytes(&t.lines()[0]).is_none());
    }

    #[test]
    fn escapes() {
        assert_eq!(unescape(r#"\r\n\t\\\"\x1A"#).unwrap(), b"\r\n\t\\\"\x1a");
        assert_eq!(escape(b"\x1a${password}"), "\\x1A${password}");
    }
}
