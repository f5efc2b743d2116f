//! Typed AT commands and their encoding to bytes (sans-I/O).
//!
//! A [`Command`] knows its name, form and arguments, and what the exchange
//! looks like: whether a data prompt is expected, which result arrives after
//! the final `OK` (a *deferred result*), and whether information lines announce
//! raw data blocks. The encoder refuses any argument that could break out of its
//! quoting or inject a second command, naming the argument.

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use crate::secret::Secret;

/// The four syntactic forms of an extended AT command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    /// `AT+X` (also basic commands such as `ATI`, `ATE0`).
    Exec,
    /// `AT+X?`
    Read,
    /// `AT+X=?`
    Test,
    /// `AT+X=<args>`
    Write,
}

/// What the module sends to ask for data-mode input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PromptKind {
    /// A `CONNECT` line (Quectel body, attachment and file upload).
    Connect,
    /// A `DOWNLOAD` line (SIMCom body).
    Download,
    /// `> ` without line end, or a line holding only `>`.
    Angle,
    /// An information line with this prefix, e.g. `+SMTPFT: 2,` which also says
    /// how many bytes the module accepts.
    Line(Cow<'static, str>),
}

/// What the module takes in data mode after the prompt, and how that mode ends.
///
/// Declared with [`Command::expect_payload`] or
/// [`Client::declare_payload`](crate::Client::declare_payload) (and by
/// [`Client::upload`](crate::Client::upload) itself), so that a call given up in
/// data mode can leave it honestly: an `Escape` payload is ended with `+++`
/// inside its guard times before the next command; a `Length` payload cut
/// short cannot be completed without sending made-up bytes as mail content, so
/// the next command fails until the caller
/// [forgets](crate::Client::forget_data_mode) the data mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Payload {
    /// The host ends the data with `+++` inside guard times (Quectel `CONNECT`).
    Escape,
    /// The module takes exactly this many bytes (`DOWNLOAD`, the grant of
    /// `+SMTPFT: 2,<n>`).
    Length(u64),
    /// The module takes at most this many bytes and ends by itself when they
    /// came; a shorter payload the host ends with `+++` inside guard times
    /// (Quectel `AT+QFUPL="<file>",<size>`, SMTPS note §3.1-§3.3). Given up
    /// midway, the next command ends it with `+++` first.
    LengthOrEscape(u64),
}

/// Given an information line of the command in flight, how many raw bytes
/// follow it (e.g. `+POP3READ: 1,1460` -> 1460), or `None` when none do.
pub type RawLength = fn(&str) -> Option<usize>;

/// One argument of a write command.
#[derive(Clone, PartialEq, Eq)]
pub enum Arg {
    /// A decimal integer.
    Int(i64),
    /// A double-quoted string; `name` identifies it in errors.
    Str {
        /// The manual's name of the parameter, for error messages.
        name: &'static str,
        /// The value, without quotes.
        value: String,
    },
    /// Bytes written as a quoted upper-case hexadecimal string (`"41"` for `A`).
    Hex(Vec<u8>),
    /// An unquoted token such as `C:/Picture`.
    Bare {
        /// The manual's name of the parameter, for error messages.
        name: &'static str,
        /// The token.
        value: String,
    },
    /// A quoted string that is redacted wherever the command is shown.
    Secret {
        /// The manual's name of the parameter, for error messages.
        name: &'static str,
        /// The value.
        value: Secret,
    },
    /// Bytes as a quoted upper-case hex string after an unquoted tag, for
    /// SIMCom A76xx non-ASCII names: `{non-ascii}"E6B58B"`.
    TaggedHex {
        /// The tag written before the quoted hex, e.g. `{non-ascii}`.
        tag: &'static str,
        /// The bytes.
        bytes: Vec<u8>,
    },
    /// An omitted optional parameter in the middle of a list (`1,,3`).
    Empty,
}

impl fmt::Debug for Arg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Arg::Int(v) => write!(f, "{v}"),
            Arg::Str { value, .. } => write!(f, "{value:?}"),
            Arg::Hex(bytes) => write!(f, "hex({} bytes)", bytes.len()),
            Arg::TaggedHex { tag, bytes } => write!(f, "{tag}hex({} bytes)", bytes.len()),
            Arg::Bare { value, .. } => f.write_str(value),
            Arg::Secret { .. } => f.write_str("\"***\""),
            Arg::Empty => Ok(()),
        }
    }
}

/// Why a command could not be encoded. Nothing was written to the module.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// A string argument holds a byte that cannot appear inside an AT string.
    #[error(
        "argument `{argument}` contains {byte_name} (byte 0x{byte:02X}) at position {index}, which cannot be sent inside an AT command"
    )]
    ForbiddenByte {
        /// The parameter name.
        argument: &'static str,
        /// The offending byte.
        byte: u8,
        /// A readable name of the byte.
        byte_name: &'static str,
        /// Its byte offset in the value.
        index: usize,
    },
    /// A bare (unquoted) argument is empty or holds a separator.
    #[error("argument `{argument}` is not a valid unquoted token: {reason}")]
    BadToken {
        /// The parameter name.
        argument: &'static str,
        /// What is wrong.
        reason: &'static str,
    },
    /// The command name itself is malformed (a programming error in a dialect).
    #[error("command name `{0}` is not a valid AT command name")]
    BadName(String),
}

/// An AT command ready to be encoded, with what its exchange looks like.
///
/// ```
/// use cellmail_at::Command;
/// let cmd = Command::write("+QSMTPSRV").string("srvaddr", "smtp.163.com").int(25);
/// assert_eq!(cmd.encode().unwrap(), b"AT+QSMTPSRV=\"smtp.163.com\",25\r");
/// assert_eq!(Command::read("+QSMTPSRV").encode().unwrap(), b"AT+QSMTPSRV?\r");
/// assert_eq!(Command::test("+QSMTPSRV").encode().unwrap(), b"AT+QSMTPSRV=?\r");
/// ```
#[derive(Clone, Debug)]
pub struct Command {
    name: Cow<'static, str>,
    form: Form,
    args: Vec<Arg>,
    prompt: Option<PromptKind>,
    deferred: Option<Cow<'static, str>>,
    raw: Option<RawLength>,
    final_line: Option<FinalLine>,
    ends_on: Vec<Cow<'static, str>>,
    timeout: Option<Duration>,
    prefix: Option<Cow<'static, str>>,
    sensitive_answer: bool,
    payload: Option<Payload>,
    text_block: bool,
}

/// Recognises an information line that also ends the command successfully,
/// for commands answered without `OK` (Quectel `AT+QILOCIP` answers only the
/// IP address).
pub type FinalLine = fn(&str) -> bool;

impl Command {
    fn new(name: impl Into<Cow<'static, str>>, form: Form) -> Self {
        Self {
            name: name.into(),
            form,
            args: Vec::new(),
            prompt: None,
            deferred: None,
            raw: None,
            final_line: None,
            ends_on: Vec::new(),
            timeout: None,
            prefix: None,
            sensitive_answer: false,
            payload: None,
            text_block: false,
        }
    }

    /// `AT<name>`, e.g. `Command::exec("+QSMTPCLR")` or `Command::exec("I")`.
    pub fn exec(name: impl Into<Cow<'static, str>>) -> Self {
        Self::new(name, Form::Exec)
    }

    /// `AT<name>?`
    pub fn read(name: impl Into<Cow<'static, str>>) -> Self {
        Self::new(name, Form::Read)
    }

    /// `AT<name>=?`
    pub fn test(name: impl Into<Cow<'static, str>>) -> Self {
        Self::new(name, Form::Test)
    }

    /// `AT<name>=<args>`; add arguments with [`int`](Self::int), [`string`](Self::string)...
    pub fn write(name: impl Into<Cow<'static, str>>) -> Self {
        Self::new(name, Form::Write)
    }

    /// Appends an integer argument.
    pub fn int(mut self, value: i64) -> Self {
        self.args.push(Arg::Int(value));
        self
    }

    /// Appends a quoted string argument named `name` (for errors).
    pub fn string(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.args.push(Arg::Str {
            name,
            value: value.into(),
        });
        self
    }

    /// Appends a quoted string that is redacted in logs, `Debug` and errors.
    pub fn secret(mut self, name: &'static str, value: &Secret) -> Self {
        self.args.push(Arg::Secret {
            name,
            value: value.clone(),
        });
        self
    }

    /// Appends bytes as a quoted upper-case hex string.
    pub fn hex(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.args.push(Arg::Hex(bytes.into()));
        self
    }

    /// Appends bytes as a quoted upper-case hex string after an unquoted
    /// `tag` (SIMCom A76xx: `{non-ascii}"E6B58B"`).
    ///
    /// ```
    /// use cellmail_at::Command;
    /// let cmd = Command::write("+CSMTPSFILE").int(1).tagged_hex("{non-ascii}", "测".as_bytes());
    /// assert_eq!(cmd.encode().unwrap(), b"AT+CSMTPSFILE=1,{non-ascii}\"E6B58B\"\r");
    /// ```
    pub fn tagged_hex(mut self, tag: &'static str, bytes: impl Into<Vec<u8>>) -> Self {
        self.args.push(Arg::TaggedHex {
            tag,
            bytes: bytes.into(),
        });
        self
    }

    /// Appends an unquoted token (e.g. a path some modules take bare).
    pub fn bare(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.args.push(Arg::Bare {
            name,
            value: value.into(),
        });
        self
    }

    /// Appends an omitted optional argument (`a,,c`).
    pub fn empty(mut self) -> Self {
        self.args.push(Arg::Empty);
        self
    }

    /// Appends any argument.
    pub fn arg(mut self, arg: Arg) -> Self {
        self.args.push(arg);
        self
    }

    /// The module asks for data with this prompt before (or after) its `OK`.
    pub fn expect_prompt(mut self, prompt: PromptKind) -> Self {
        self.prompt = Some(prompt);
        self
    }

    /// After the final `OK`, a line with this prefix (e.g. `+QSMTPPUT:`) carries
    /// the real result of the command.
    pub fn expect_deferred(mut self, prefix: impl Into<Cow<'static, str>>) -> Self {
        self.deferred = Some(prefix.into());
        self
    }

    /// Its answer is a block of text (a message the module prints line by
    /// line, SIM5360 `AT+POP3READ`): once its first line came, every line up
    /// to the final result is information — one that looks like a URC too —
    /// and each line end beyond the one that ends a line is reported as an
    /// empty [`Event::Info`](crate::Event::Info), so the blank lines the
    /// module sent can be counted. What they mean is the dialect's to say.
    ///
    /// The block has no length, so a line reading `OK` or `ERROR` inside it
    /// is [in doubt](crate::Decoder::end_in_doubt): the message's own line
    /// if more text follows, the answer's end if the module keeps quiet
    /// ([`Decoder::settle`](crate::Decoder::settle)).
    ///
    /// ```
    /// use cellmail_at::{Command, Decoder, DecoderConfig, Event, Final};
    /// let mut dec = Decoder::new(DecoderConfig::default().urc("RDY"));
    /// dec.begin(&Command::exec("+POP3READ").expect_text_block());
    /// dec.push(b"\r\nSubject: x\r\n\r\nRDY\r\n\r\nOK\r\n");
    /// let mut events: Vec<Event> = std::iter::from_fn(|| dec.next_event()).collect();
    /// // The module kept quiet after `OK` (the client waits
    /// // `ClientConfig::text_block_quiet` for that).
    /// dec.settle();
    /// events.extend(dec.next_event());
    /// assert_eq!(events, [
    ///     Event::Info("Subject: x".into()),
    ///     Event::Info("".into()),
    ///     Event::Info("RDY".into()),
    ///     Event::Info("".into()),
    ///     Event::Final(Final::Ok),
    /// ]);
    /// ```
    pub fn expect_text_block(mut self) -> Self {
        self.text_block = true;
        self
    }

    /// Whether its answer is a [text block](Self::expect_text_block).
    pub fn text_block(&self) -> bool {
        self.text_block
    }

    /// Information lines may announce raw data blocks of the length `len` finds.
    pub fn expect_raw(mut self, len: RawLength) -> Self {
        self.raw = Some(len);
        self
    }

    /// After its prompt the module takes `payload` (see [`Payload`]).
    ///
    /// ```
    /// use cellmail_at::{Command, Payload, PromptKind};
    /// let body = Command::write("+SMTPBODY").int(19).expect_prompt(PromptKind::Download)
    ///     .expect_payload(Payload::Length(19));
    /// assert_eq!(body.payload(), Some(Payload::Length(19)));
    /// ```
    pub fn expect_payload(mut self, payload: Payload) -> Self {
        self.payload = Some(payload);
        self
    }

    /// The declared data-mode payload, if any.
    pub fn payload(&self) -> Option<Payload> {
        self.payload
    }

    /// An information line `is_final` accepts is the command's last line: it
    /// is kept as information and the command ends as if `OK` followed.
    pub fn expect_final_line(mut self, is_final: FinalLine) -> Self {
        self.final_line = Some(is_final);
        self
    }

    /// The final-line recogniser, if any.
    pub fn final_line(&self) -> Option<FinalLine> {
        self.final_line
    }

    /// A line starting with `prefix` may come *instead of* the rest of the
    /// answer (its prompt, information or final result) and ends the command
    /// as a failure: the call waiting for it returns at once with
    /// [`AtError::Failed`](crate::AtError::Failed) holding the line. The line
    /// is also reported as what it is anyway: the deferred result an earlier
    /// command waits for, or a URC. Since the module may or may not close the
    /// command with a final result of its own, the [`Client`](crate::Client)
    /// resynchronises with `AT` before the next command, as after a timeout.
    ///
    /// SIM7000 `AT+SMTPFT` answers `+SMTPSEND: <code>` (the result of the
    /// earlier `AT+SMTPSEND`) instead of its grant when the session failed:
    ///
    /// ```
    /// use cellmail_at::{Command, Decoder, DecoderConfig, Event, Final, PromptKind};
    /// let mut dec = Decoder::new(DecoderConfig::default());
    /// dec.begin(&Command::exec("+SMTPSEND").expect_deferred("+SMTPSEND:"));
    /// dec.push(b"\r\nOK\r\n");
    /// assert_eq!(dec.next_event(), Some(Event::Final(Final::Ok)));
    /// dec.end();
    /// let chunk = Command::write("+SMTPFT")
    ///     .int(100)
    ///     .expect_prompt(PromptKind::Line("+SMTPFT: 2,".into()))
    ///     .ends_on("+SMTPSEND:");
    /// dec.begin(&chunk);
    /// dec.push(b"\r\n+SMTPSEND: 64\r\n");
    /// assert_eq!(dec.next_event(), Some(Event::Deferred("+SMTPSEND: 64".into())));
    /// assert_eq!(
    ///     dec.next_event(),
    ///     Some(Event::Final(Final::Declared { text: "+SMTPSEND: 64".into(), success: false }))
    /// );
    /// ```
    pub fn ends_on(mut self, prefix: impl Into<Cow<'static, str>>) -> Self {
        self.ends_on.push(prefix.into());
        self
    }

    /// The prefixes of the lines this command [ends on](Self::ends_on).
    pub fn ends_on_prefixes(&self) -> &[Cow<'static, str>] {
        &self.ends_on
    }

    /// How long to wait for the final result (or prompt) of this command.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Information lines of this command start with `prefix` instead of
    /// `<name>:` (e.g. `+FSLS:` answered to `AT+FSLS`... or a vendor quirk).
    pub fn response_prefix(mut self, prefix: impl Into<Cow<'static, str>>) -> Self {
        self.prefix = Some(prefix.into());
        self
    }

    /// The answer carries a secret (SIM7000 `AT+SMTPAUTH?` and `AT+POP3SRV?`
    /// answer with the password): its information lines are never logged.
    ///
    /// ```
    /// use cellmail_at::Command;
    /// let query = Command::read("+SMTPAUTH").sensitive_answer();
    /// assert!(query.has_sensitive_answer());
    /// assert!(!Command::read("+SMTPSRV").has_sensitive_answer());
    /// ```
    pub fn sensitive_answer(mut self) -> Self {
        self.sensitive_answer = true;
        self
    }

    /// Whether the answer carries a secret (see [`Command::sensitive_answer`]).
    pub fn has_sensitive_answer(&self) -> bool {
        self.sensitive_answer
    }

    /// The command name, e.g. `+QSMTPSRV`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The form.
    pub fn form(&self) -> Form {
        self.form
    }

    /// The arguments.
    pub fn args(&self) -> &[Arg] {
        &self.args
    }

    /// The expected data prompt, if any.
    pub fn prompt(&self) -> Option<&PromptKind> {
        self.prompt.as_ref()
    }

    /// The prefix of the deferred result, if any.
    pub fn deferred(&self) -> Option<&str> {
        self.deferred.as_deref()
    }

    /// The raw-block length function, if any.
    pub fn raw(&self) -> Option<RawLength> {
        self.raw
    }

    /// The per-command timeout, if set.
    pub fn timeout_value(&self) -> Option<Duration> {
        self.timeout
    }

    /// The prefix of this command's information lines (`+QSMTPSRV:`), if it has one.
    pub fn info_prefix(&self) -> Option<Cow<'_, str>> {
        if let Some(prefix) = &self.prefix {
            return Some(Cow::Borrowed(prefix));
        }
        if self.name.starts_with('+') {
            Some(Cow::Owned(format!("{}:", self.name)))
        } else {
            None
        }
    }

    /// Encodes the command as the module expects it, ending with `\r`.
    pub fn encode(&self) -> Result<Vec<u8>, EncodeError> {
        let mut out = Vec::with_capacity(16 + self.name.len() + 8 * self.args.len());
        self.encode_into(&mut out)?;
        Ok(out)
    }

    /// Appends the encoded command to `out`. On error `out` is left unchanged.
    pub fn encode_into(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        validate_name(&self.name, self.form)?;
        for arg in &self.args {
            validate_arg(arg)?;
        }
        out.extend_from_slice(b"AT");
        out.extend_from_slice(self.name.as_bytes());
        match self.form {
            Form::Exec => {}
            Form::Read => out.push(b'?'),
            Form::Test => out.extend_from_slice(b"=?"),
            Form::Write => {
                out.push(b'=');
                for (i, arg) in self.args.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    write_arg(arg, out, true);
                }
            }
        }
        out.push(b'\r');
        Ok(())
    }

    /// The command line as it may be logged: secrets shown as `"***"`.
    pub fn redacted(&self) -> String {
        let mut out = Vec::new();
        out.extend_from_slice(b"AT");
        out.extend_from_slice(self.name.as_bytes());
        match self.form {
            Form::Exec => {}
            Form::Read => out.push(b'?'),
            Form::Test => out.extend_from_slice(b"=?"),
            Form::Write => {
                out.push(b'=');
                for (i, arg) in self.args.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    write_arg(arg, &mut out, false);
                }
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    /// The bytes of the command line without the final `\r`, used to recognise
    /// the module's echo (ATE1). Secrets are included: the echo holds them too.
    pub(crate) fn echo_line(&self) -> Vec<u8> {
        let mut out = Vec::new();
        // An unencodable command is never sent, so its echo never matters.
        if self.encode_into(&mut out).is_ok() {
            out.pop();
        }
        out
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

fn write_arg(arg: &Arg, out: &mut Vec<u8>, expose: bool) {
    match arg {
        Arg::Int(v) => out.extend_from_slice(v.to_string().as_bytes()),
        Arg::Str { value, .. } => {
            out.push(b'"');
            out.extend_from_slice(value.as_bytes());
            out.push(b'"');
        }
        Arg::Secret { value, .. } => {
            out.push(b'"');
            if expose {
                out.extend_from_slice(value.expose().as_bytes());
            } else {
                out.extend_from_slice(b"***");
            }
            out.push(b'"');
        }
        Arg::Hex(bytes) => write_hex(bytes, out),
        Arg::TaggedHex { tag, bytes } => {
            out.extend_from_slice(tag.as_bytes());
            write_hex(bytes, out);
        }
        Arg::Bare { value, .. } => out.extend_from_slice(value.as_bytes()),
        Arg::Empty => {}
    }
}

fn write_hex(bytes: &[u8], out: &mut Vec<u8>) {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    out.push(b'"');
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)]);
        out.push(DIGITS[usize::from(b & 0x0F)]);
    }
    out.push(b'"');
}

/// A readable name for a byte that may not appear in an AT string.
fn forbidden(byte: u8) -> Option<&'static str> {
    Some(match byte {
        b'"' => "a double quote",
        b'\r' => "a carriage return",
        b'\n' => "a line feed",
        0x1A => "Ctrl-Z",
        0x1B => "ESC",
        0x00 => "NUL",
        0x08 => "a backspace",
        0x7F => "DEL",
        // Other C0 controls have no business in a parameter and some modules
        // act on them while reading the command line.
        0x01..=0x1F => "a control character",
        _ => return None,
    })
}

/// Checks that `value` can be sent inside a quoted AT string argument.
///
/// ```
/// use cellmail_at::command::check_string;
/// assert!(check_string("subject", "Hello, \"world\"").is_err());
/// assert!(check_string("subject", "Grüße, world").is_ok());
/// ```
pub fn check_string(argument: &'static str, value: &str) -> Result<(), EncodeError> {
    match value
        .bytes()
        .enumerate()
        .find_map(|(index, byte)| forbidden(byte).map(|name| (index, byte, name)))
    {
        Some((index, byte, byte_name)) => Err(EncodeError::ForbiddenByte {
            argument,
            byte,
            byte_name,
            index,
        }),
        None => Ok(()),
    }
}

fn validate_arg(arg: &Arg) -> Result<(), EncodeError> {
    match arg {
        Arg::Str { name, value } => check_string(name, value),
        Arg::Secret { name, value } => check_string(name, value.expose()),
        Arg::Bare { name, value } => {
            if value.is_empty() {
                return Err(EncodeError::BadToken {
                    argument: name,
                    reason: "it is empty",
                });
            }
            check_string(name, value)?;
            if value.bytes().any(|b| matches!(b, b',' | b';' | b' ')) {
                return Err(EncodeError::BadToken {
                    argument: name,
                    reason: "it contains a comma, semicolon or space",
                });
            }
            Ok(())
        }
        Arg::Int(_) | Arg::Hex(_) | Arg::TaggedHex { .. } | Arg::Empty => Ok(()),
    }
}

fn validate_name(name: &str, form: Form) -> Result<(), EncodeError> {
    // A bare `AT` (empty name) is the attention probe; other forms need a name.
    let ok = (!name.is_empty() || form == Form::Exec)
        && name.len() <= 32
        && name.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'+' | b'&' | b'%' | b'$' | b'^' | b'#' | b'_')
        });
    if ok {
        Ok(())
    } else {
        Err(EncodeError::BadName(name.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_form_joins_arguments() {
        let cmd = Command::write("+QSMTPDST")
            .int(1)
            .int(1)
            .string("e-addr", "a@b.c");
        assert_eq!(cmd.encode().unwrap(), b"AT+QSMTPDST=1,1,\"a@b.c\"\r");
    }

    #[test]
    fn hex_and_empty_and_bare() {
        let cmd = Command::write("+X")
            .hex(*b"A\x01")
            .empty()
            .bare("path", "C:/Picture");
        assert_eq!(cmd.encode().unwrap(), b"AT+X=\"4101\",,C:/Picture\r");
    }

    #[test]
    fn basic_commands() {
        assert_eq!(Command::exec("I").encode().unwrap(), b"ATI\r");
        assert_eq!(Command::exec("E0").encode().unwrap(), b"ATE0\r");
        assert_eq!(
            Command::exec("+QSMTPCLR").encode().unwrap(),
            b"AT+QSMTPCLR\r"
        );
    }

    #[test]
    fn quote_is_rejected_naming_the_argument() {
        let err = Command::write("+QSMTPSUB")
            .int(0)
            .string("title", "say \"hi\"")
            .encode()
            .unwrap_err();
        assert_eq!(
            err,
            EncodeError::ForbiddenByte {
                argument: "title",
                byte: b'"',
                byte_name: "a double quote",
                index: 4
            }
        );
        assert!(err.to_string().contains("`title`"));
    }

    #[test]
    fn each_forbidden_byte_is_rejected() {
        for b in [b'"', b'\r', b'\n', 0x1A, 0x1B, 0x00] {
            let value = format!("a{}b", char::from(b));
            assert!(
                Command::write("+X").string("v", value).encode().is_err(),
                "{b:#x}"
            );
        }
    }

    #[test]
    fn secrets_are_redacted_but_sent() {
        let cmd = Command::write("+QSMTPPWD").secret("pwd", &Secret::new("hunter2"));
        assert_eq!(cmd.encode().unwrap(), b"AT+QSMTPPWD=\"hunter2\"\r");
        assert_eq!(cmd.to_string(), "AT+QSMTPPWD=\"***\"");
        assert!(!format!("{cmd:?}").contains("hunter2"));
    }

    #[test]
    fn bare_tokens_cannot_carry_separators() {
        assert!(
            Command::write("+FSCD")
                .bare("path", "C:/a;ATD")
                .encode()
                .is_err()
        );
        assert!(Command::write("+FSCD").bare("path", "").encode().is_err());
    }

    #[test]
    fn bad_names_are_rejected() {
        assert!(Command::exec("+X\r").encode().is_err());
        assert!(Command::read("").encode().is_err());
        assert_eq!(Command::exec("").encode().unwrap(), b"AT\r");
    }

    #[test]
    fn info_prefix_defaults_to_name() {
        assert_eq!(
            Command::exec("+POP3NUM").info_prefix().as_deref(),
            Some("+POP3NUM:")
        );
        assert_eq!(Command::exec("I").info_prefix(), None);
        let cmd = Command::exec("+POP3NUM").response_prefix("+POP3:");
        assert_eq!(cmd.info_prefix().as_deref(), Some("+POP3:"));
    }
}
