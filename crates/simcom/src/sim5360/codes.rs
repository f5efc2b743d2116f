//! What the module answers: the `+SMTP:` and `+POP3:` result tables (§1),
//! the saved path of `AT+POP3GET`, the numbers of `AT+POP3NUM` and
//! `AT+POP3LIST`, and message lines put back together. Pure.

use cellmail::{Lost, MailError, Message, VendorCode};

use super::files::Saved;

/// A `+SMTP:` result (§1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SmtpResult {
    /// `OK`: the session started.
    Started,
    /// `SUCCESS`: sent.
    Success,
    /// `ONGOING`: another e-mail is being sent.
    Ongoing,
    /// `PARAM ERROR`: a mandatory parameter is invalid.
    ParamError,
    /// `NETWORK ERROR`: the network is unavailable.
    NetworkError,
    /// `SERVER ERROR`: invalid server, or the link to it failed.
    ServerError,
    /// `AUTH REQUIRED`. The manual's table (§1, "SMTP URCs"; lines 80-81 of
    /// simcom-sim5360-email-application-note-v0.01.txt) gives this text two
    /// rows: "SMTP server released the session, or SMTP server rejects
    /// the operation with wrong response, or SMTP server doesn't give SMTP
    /// client a response in time", and "Authentication is required by SMTP
    /// server". See [`SmtpResult::into_result_for`] for how the two are told
    /// apart.
    AuthRequired,
    /// `AUTH ERROR`: bad user name and password.
    AuthError,
    /// `BAD RCPT [<address>]`: a recipient was refused.
    BadRecipient(Option<String>),
    /// Anything else, kept.
    Other(String),
}

impl SmtpResult {
    /// Parses the text after `+SMTP: `.
    pub fn parse(text: &str) -> Self {
        match text.trim() {
            "OK" => SmtpResult::Started,
            "SUCCESS" => SmtpResult::Success,
            "ONGOING" => SmtpResult::Ongoing,
            "PARAM ERROR" => SmtpResult::ParamError,
            "NETWORK ERROR" => SmtpResult::NetworkError,
            "SERVER ERROR" => SmtpResult::ServerError,
            "AUTH REQUIRED" => SmtpResult::AuthRequired,
            "AUTH ERROR" => SmtpResult::AuthError,
            t if t.starts_with("BAD RCPT") => {
                let addr = t["BAD RCPT".len()..]
                    .trim()
                    .trim_matches(|c| c == '[' || c == ']' || c == '"');
                SmtpResult::BadRecipient((!addr.is_empty()).then(|| addr.to_owned()))
            }
            other => SmtpResult::Other(other.to_owned()),
        }
    }

    /// Whether the session is over with this result.
    pub fn is_final(&self) -> bool {
        !matches!(self, SmtpResult::Started)
    }

    /// `Ok` for success, the facade's error otherwise, the text kept, when
    /// the mailer does not say whether it logged in: `AUTH REQUIRED` is read
    /// as "authentication is required" (`Auth`). Prefer
    /// [`into_result_for`](Self::into_result_for).
    pub fn into_result(self, text: &str) -> Result<(), MailError> {
        self.into_result_for(text, false)
    }

    /// `Ok` for success, the facade's error otherwise, the text kept.
    ///
    /// `AUTH REQUIRED` has two readings in the manual's table (§1). §2
    /// `AT+SMTPAUTH` says when the first one applies: "If SMTP server
    /// requests authentication but SMTP client does not provide, Email will
    /// be sent with a failed result". So with `logged_in` false (the module
    /// was set `AT+SMTPAUTH=0`) it is `Auth`: authentication is required
    /// and was not given, a configuration fault. With `logged_in` true the
    /// module did authenticate (bad credentials are `AUTH ERROR`), which
    /// leaves the other reading: the server released the session, answered
    /// wrongly or not in time, a transient `Network` failure.
    ///
    /// ```
    /// use cellmail::MailError;
    /// use cellmail_simcom::sim5360::SmtpResult;
    /// let r = || SmtpResult::parse("AUTH REQUIRED");
    /// assert!(matches!(r().into_result_for("AUTH REQUIRED", false), Err(MailError::Auth { .. })));
    /// let e = r().into_result_for("AUTH REQUIRED", true).unwrap_err();
    /// assert!(matches!(e, MailError::Network { .. }) && e.is_transient());
    /// ```
    pub fn into_result_for(self, text: &str, logged_in: bool) -> Result<(), MailError> {
        let vendor = Some(VendorCode::Text(text.trim().to_owned()));
        Err(match self {
            SmtpResult::Started | SmtpResult::Success => return Ok(()),
            SmtpResult::Ongoing => MailError::Busy { vendor },
            SmtpResult::ParamError => MailError::Invalid {
                field: "parameters".into(),
                reason: "the module reports PARAM ERROR (a mandatory parameter is invalid)".into(),
                vendor,
            },
            SmtpResult::NetworkError => MailError::Network {
                detail: "network unavailable for SMTP".into(),
                vendor,
            },
            SmtpResult::ServerError => MailError::Network {
                detail: "invalid SMTP server or bad link to it".into(),
                vendor,
            },
            SmtpResult::AuthRequired if logged_in => MailError::Network {
                detail: "the SMTP server released the session, or answered wrongly or not in \
                         time (AUTH REQUIRED after a login, §1)"
                    .into(),
                vendor,
            },
            SmtpResult::AuthRequired | SmtpResult::AuthError => MailError::Auth { vendor },
            SmtpResult::BadRecipient(address) => MailError::BadRecipient { address, vendor },
            SmtpResult::Other(t) if garbled(&t) => return Err(unreadable("+SMTP:", &t)),
            SmtpResult::Other(t) => MailError::Rejected {
                code: 0,
                text: t,
                vendor,
            },
        })
    }
}

/// A `+POP3:` result (§1 "POP3 URCs").
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pop3Result {
    /// `SUCCESS`.
    Success,
    /// `FAILURE`: the POP3 client failed to get the e-mail.
    Failure,
    /// `NETWORK ERROR`: invalid server, or the link to it is bad.
    NetworkError,
    /// `SERVER ERROR` (§1 "POP3 URCs", line 114 of the note's text): "POP3
    /// server released the session, or POP3 server rejects the operation
    /// with wrong response, or POP3 server doesn't give POP3 client a
    /// response in time, or POP3 client gives wrong e-mail's ID. POP3 client
    /// will not close the session." Mapped like the SMTP `SERVER ERROR`: a
    /// transient `Network` failure (the manual does not tell the readings
    /// apart; a wrong id repeats, and `stat` tells how many messages there
    /// are).
    ServerError,
    /// `INVALID UN`: invalid user name.
    InvalidUser,
    /// `INVALID UN/PWD`: invalid user name and password combination.
    InvalidCredentials,
    /// `FILE SYSTEM ERROR`: the e-mail could not be saved; "POP3 client will
    /// close the session with POP3 server".
    FileSystemError,
    /// Anything else, kept.
    Other(String),
}

impl Pop3Result {
    /// Every result the manual lists, as the module writes it.
    pub const ALL: [&'static str; 7] = [
        "SUCCESS",
        "FAILURE",
        "NETWORK ERROR",
        "SERVER ERROR",
        "INVALID UN",
        "INVALID UN/PWD",
        "FILE SYSTEM ERROR",
    ];

    /// Parses the text after `+POP3: `.
    pub fn parse(text: &str) -> Self {
        match text.trim() {
            "SUCCESS" => Pop3Result::Success,
            "FAILURE" => Pop3Result::Failure,
            "NETWORK ERROR" => Pop3Result::NetworkError,
            "SERVER ERROR" => Pop3Result::ServerError,
            "INVALID UN" => Pop3Result::InvalidUser,
            "INVALID UN/PWD" => Pop3Result::InvalidCredentials,
            "FILE SYSTEM ERROR" => Pop3Result::FileSystemError,
            other => Pop3Result::Other(other.to_owned()),
        }
    }

    /// Whether the module closes the POP3 session with this result (§1: only
    /// `FILE SYSTEM ERROR` says so).
    pub fn ends_session(&self) -> bool {
        matches!(self, Pop3Result::FileSystemError)
    }

    /// `Ok` for success, the facade's error otherwise, the text kept.
    ///
    /// ```
    /// use cellmail::{MailError, VendorCode};
    /// use cellmail_simcom::sim5360::Pop3Result;
    /// let e = Pop3Result::parse("INVALID UN/PWD").into_result("INVALID UN/PWD").unwrap_err();
    /// assert!(matches!(e, MailError::Auth { vendor: Some(VendorCode::Text(ref t)) } if t == "INVALID UN/PWD"));
    /// ```
    pub fn into_result(self, text: &str) -> Result<(), MailError> {
        let vendor = Some(VendorCode::Text(text.trim().to_owned()));
        Err(match self {
            Pop3Result::Success => return Ok(()),
            Pop3Result::Failure => MailError::Rejected {
                code: 0,
                text: "POP3 client failed to get the e-mail".into(),
                vendor,
            },
            Pop3Result::NetworkError => MailError::Network {
                detail: "invalid POP3 server or bad link".into(),
                vendor,
            },
            Pop3Result::ServerError => MailError::Network {
                detail: "the POP3 server released the session, answered wrongly or not in \
                         time, or the e-mail id is wrong (SERVER ERROR, §1)"
                    .into(),
                vendor,
            },
            Pop3Result::InvalidUser | Pop3Result::InvalidCredentials => MailError::Auth { vendor },
            Pop3Result::FileSystemError => MailError::Rejected {
                code: 0,
                text: "the module's file system failed (the session is closed)".into(),
                vendor,
            },
            Pop3Result::Other(t) if garbled(&t) => return Err(unreadable("+POP3:", &t)),
            Pop3Result::Other(t) => MailError::Rejected {
                code: 0,
                text: t,
                vendor,
            },
        })
    }
}

/// A `+POP3:` result (§1) as the facade's result.
pub fn pop3_result(text: &str) -> Result<(), MailError> {
    Pop3Result::parse(text).into_result(text)
}

/// Where `AT+POP3GET` saved an e-mail: the line after `+POP3: SUCCESS`,
/// `C:/Email/100202110457/, EMAIL000.TXT` (§4.4): folder and file.
///
/// ```
/// assert_eq!(
///     cellmail_simcom::sim5360::saved_path("C:/Email/100202110457/, EMAIL000.TXT"),
///     Some(("C:/Email/100202110457/", "EMAIL000.TXT"))
/// );
/// assert_eq!(cellmail_simcom::sim5360::saved_path("RDY"), None);
/// ```
pub fn saved_path(line: &str) -> Option<(&str, &str)> {
    let (folder, file) = line.trim().split_once(',')?;
    let folder = folder.trim();
    let file = file.trim();
    let email = folder
        .strip_prefix("C:/Email/")
        .or_else(|| folder.strip_prefix("D:/Email/"))?;
    (!email.is_empty() && !file.is_empty() && !file.contains(['/', ','])).then_some((folder, file))
}

/// The numbers of a `+POP3: 2 2134` or `+POP3: 1, 1050` answer.
pub(crate) fn numbers(text: &str) -> Vec<u64> {
    text.split(|c: char| c == ',' || c.is_whitespace())
        .filter_map(|s| s.parse().ok())
        .collect()
}

/// The lines of a text block answer (`AT+POP3READ`, `AT+POP3HDR`) with
/// the blank lines the module meant: the decoder reports every line end
/// beyond a line's own as an empty line, and the module may frame each line
/// (`\r\nline\r\n`, as the note prints every answer) or print the text as
/// it is. The shortest run of empty lines between two lines is the framing;
/// a longer run holds at least one blank line of the message.
///
/// ```
/// use cellmail_simcom::sim5360::codes::text_lines;
/// // Framed lines: one empty line between two lines is the framing.
/// let block = ["Subject: x", "", "To: y", "", "", "", "CMD: reboot", ""].map(String::from);
/// assert_eq!(text_lines(&block), ["Subject: x", "To: y", "", "CMD: reboot"]);
/// ```
pub fn text_lines(block: &[String]) -> Vec<&str> {
    let first = block.iter().position(|l| !l.is_empty());
    let last = block.iter().rposition(|l| !l.is_empty());
    let (Some(first), Some(last)) = (first, last) else {
        return Vec::new();
    };
    // (empty lines before it, the line)
    let mut lines = Vec::new();
    let mut run = 0usize;
    for line in &block[first..=last] {
        if line.is_empty() {
            run += 1;
        } else {
            lines.push((run, line.as_str()));
            run = 0;
        }
    }
    let framing = lines.iter().skip(1).map(|(r, _)| *r).min().unwrap_or(0);
    let mut out = Vec::with_capacity(lines.len());
    for (i, (run, line)) in lines.into_iter().enumerate() {
        if i > 0 {
            let blanks = (run - framing).div_ceil(framing + 1);
            out.extend(std::iter::repeat_n("", blanks));
        }
        out.push(line);
    }
    out
}

/// A message from the module's text block (see [`text_lines`]). With a blank
/// line the header ends there and every line is kept as the module printed
/// it; without one (the note's own examples) the first line that does not
/// read `Name: value` begins the body, and the message says the boundary was
/// guessed. `saved` is where `AT+POP3GET` said the module saved the mail,
/// and the files listed there: its attachments stay there (§2), so the
/// message is the module's digest and names them
/// ([`Message::module_files`]).
pub(crate) fn message_from_block(
    block: &[String],
    saved: Option<&Saved<'_>>,
) -> Result<Message, MailError> {
    let lines = text_lines(block);
    let mut lost = Vec::new();
    let mut raw = String::new();
    if lines.contains(&"") {
        for line in &lines {
            raw.push_str(line);
            raw.push_str("\r\n");
        }
    } else {
        let mut in_header = true;
        for line in &lines {
            let is_header = line.starts_with([' ', '\t'])
                || line
                    .split_once(':')
                    .is_some_and(|(k, _)| !k.is_empty() && !k.contains(' '));
            if in_header && !is_header {
                raw.push_str("\r\n");
                in_header = false;
                lost.push(Lost::HeaderBoundary);
            }
            raw.push_str(line);
            raw.push_str("\r\n");
        }
        if in_header {
            raw.push_str("\r\n");
        }
    }
    let Some(saved) = saved else {
        // Headers only (`AT+POP3HDR`): nothing else was asked for.
        return Message::from_pop3_data(raw.into_bytes());
    };
    let msg = Message::from_module_digest(raw.clone().into_bytes(), lost.clone())?;
    let files = saved.files.clone().unwrap_or_default();
    // Unlisted (the listing was refused): attachments may be there.
    let on_module = saved.files.as_ref().is_none_or(|f| !f.is_empty());
    if msg.attachments().is_empty() && on_module {
        lost.push(Lost::AttachmentsOnModule {
            folder: saved.folder.to_owned(),
        });
        let msg = Message::from_module_digest(raw.into_bytes(), lost)?;
        return Ok(msg.with_module_files(files));
    }
    Ok(msg.with_module_files(files))
}

/// A result text no module prints: bytes outside printable ASCII (the module's tables are
/// ASCII words) are line noise, not an answer.
fn garbled(text: &str) -> bool {
    text.chars().any(|c| !(' '..='~').contains(&c))
}

/// A result that line noise made unreadable: the module may have done what was asked (a mail
/// may have gone), so it is an I/O fault of the line — transient, and in doubt after the point
/// of no return — never the module's refusal.
fn unreadable(prefix: &str, text: &str) -> MailError {
    MailError::Modem(cellmail_at::AtError::Io(std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        format!(
            "the module's {prefix} result arrived garbled ({text:?}): bytes were lost on the line"
        ),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use cellmail::Fidelity;

    #[test]
    fn smtp_results_parse() {
        assert_eq!(
            SmtpResult::parse("BAD RCPT x@y.z"),
            SmtpResult::BadRecipient(Some("x@y.z".into()))
        );
        assert_eq!(
            SmtpResult::parse("BAD RCPT"),
            SmtpResult::BadRecipient(None)
        );
        assert!(!SmtpResult::parse("OK").is_final());
    }

    #[test]
    fn numbers_in_both_forms() {
        assert_eq!(numbers(" 2 2134"), [2, 2134]);
        assert_eq!(numbers(" 1, 1050"), [1, 1050]);
    }

    #[test]
    fn every_pop3_result_has_its_variant() {
        for text in Pop3Result::ALL {
            let r = Pop3Result::parse(text);
            assert!(!matches!(r, Pop3Result::Other(_)), "{text}");
            assert_eq!(r.ends_session(), text == "FILE SYSTEM ERROR");
            assert_eq!(r.into_result(text).is_ok(), text == "SUCCESS");
        }
    }

    #[test]
    fn saved_paths_only() {
        assert_eq!(
            saved_path("D:/Email/100202113456/, EMAIL000.TXT"),
            Some(("D:/Email/100202113456/", "EMAIL000.TXT"))
        );
        for line in [
            "PB DONE",
            "C:/Picture/a, b.jpg",
            "C:/Email/, X.TXT",
            "+POP3: SUCCESS",
        ] {
            assert_eq!(saved_path(line), None, "{line}");
        }
    }

    /// A saved mail whose folder was not listed.
    const FOLDER: Option<&Saved<'static>> = Some(&Saved {
        folder: "C:/Email/100202110457/",
        files: None,
    });

    fn block(lines: &[&str]) -> Vec<String> {
        lines.iter().map(|l| l.to_string()).collect()
    }

    #[test]
    fn without_a_terminator_the_lines_are_kept_as_they_are() {
        // The manual's form: the module read the saved file, nothing to undo.
        let lines = block(&["Subject: Hi", "", "..still two dots", ""]);
        let m = message_from_block(&lines, FOLDER).unwrap();
        assert_eq!(m.text_body().as_deref(), Some("..still two dots\r\n"));
    }

    #[test]
    fn the_notes_lines_become_a_digest_whose_boundary_was_guessed() {
        // §4.4 as printed: every line framed, no blank line between header and body.
        let lines = block(&[
            "Date: Tue, 9 Mar 2010 17:11:30 +0800",
            "",
            "From: \"FromName\" <FromAddr@server.com>",
            "",
            "Subject: First Test Email",
            "",
            "This is a test email with an attachment.",
            "",
        ]);
        let m = message_from_block(&lines, FOLDER).unwrap();
        assert_eq!(m.subject().as_deref(), Some("First Test Email"));
        assert_eq!(
            m.text_body().as_deref(),
            Some("This is a test email with an attachment.\r\n")
        );
        assert_eq!(
            m.fidelity(),
            &Fidelity::Digest(vec![
                Lost::HeaderBoundary,
                Lost::AttachmentsOnModule {
                    folder: "C:/Email/100202110457/".into()
                }
            ])
        );
    }

    #[test]
    fn a_blank_line_ends_the_header_so_word_colon_lines_stay_in_the_body() {
        // Framed lines (one empty line between them), a blank line framed too.
        let framed = block(&[
            "Subject: Verbrauch",
            "",
            "",
            "",
            "Verbrauch: 42,7 m3",
            "",
            "CMD: reboot",
            "",
        ]);
        // The text as it is (no empty line between lines).
        let bare = block(&[
            "Subject: Verbrauch",
            "",
            "Verbrauch: 42,7 m3",
            "CMD: reboot",
        ]);
        for lines in [framed, bare] {
            let m = message_from_block(&lines, FOLDER).unwrap();
            assert_eq!(
                m.text_body().as_deref(),
                Some("Verbrauch: 42,7 m3\r\nCMD: reboot\r\n"),
                "{lines:?}"
            );
            assert!(
                !matches!(m.fidelity(), Fidelity::Digest(l) if l.contains(&Lost::HeaderBoundary))
            );
        }
    }

    #[test]
    fn blank_lines_inside_the_body_are_kept() {
        // Framed: two header lines one empty line apart tell the framing.
        let lines = block(&[
            "Subject: x",
            "",
            "To: y",
            "",
            "",
            "",
            "a",
            "",
            "",
            "",
            "b",
            "",
        ]);
        assert_eq!(
            text_lines(&lines),
            ["Subject: x", "To: y", "", "a", "", "b"]
        );
        // Two header lines side by side tell the text came as it is.
        let bare = block(&["Subject: x", "To: y", "", "a", "", "", "b"]);
        assert_eq!(
            text_lines(&bare),
            ["Subject: x", "To: y", "", "a", "", "", "b"]
        );
    }

    #[test]
    fn a_multipart_mail_without_its_parts_keeps_its_text_and_says_so() {
        let lines = block(&[
            "Subject: x",
            "Content-Type: multipart/alternative; boundary=\"b1\"",
            "",
            "Hello",
        ]);
        let m = message_from_block(&lines, FOLDER).unwrap();
        assert_eq!(m.text_body().as_deref(), Some("Hello\r\n"));
        let Fidelity::Digest(lost) = m.fidelity() else {
            panic!("{:?}", m.fidelity())
        };
        assert_eq!(
            lost[0],
            Lost::MimeStructure {
                content_type: "multipart/alternative".into()
            }
        );
    }

    #[test]
    fn a_relayed_mime_mail_with_its_attachment_claims_nothing_lost() {
        let lines = block(&[
            "Subject: x",
            "MIME-Version: 1.0",
            "Content-Type: multipart/mixed; boundary=\"b1\"",
            "",
            "--b1",
            "Content-Type: text/plain",
            "",
            "Hello",
            "--b1",
            "Content-Type: text/plain; name=log.txt",
            "Content-Disposition: attachment; filename=log.txt",
            "",
            "log line",
            "--b1--",
        ]);
        let m = message_from_block(&lines, FOLDER).unwrap();
        assert_eq!(m.text_body().as_deref(), Some("Hello"));
        assert_eq!(m.attachments().len(), 1);
        assert_eq!(m.fidelity(), &Fidelity::Digest(vec![]));
    }
}
