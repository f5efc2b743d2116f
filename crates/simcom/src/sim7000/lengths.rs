//! The lengths the module reports in its test forms (§3.2): the manual gives
//! no number for any length, only `AT+SMTPSUB=?` → `+SMTPSUB:
//! <subjectLength>` ("the max length of `<subject>`") and the like. The
//! mailer asks them once, and again after a reboot, and checks each mail
//! against them; [`capabilities`](super::capabilities) holds the built-in
//! numbers, used only until the module has answered (or for a form it
//! refused). Pure: commands out, answer lines in.

use cellmail::{Capabilities, Charset, Limits};
use cellmail_at::Command;

use super::commands;
use crate::common;

/// What the module said in its test forms: `None` where a form was refused
/// (`ERROR`) or its answer did not read, and the built-in number stands.
///
/// ```
/// use cellmail_simcom::sim7000::lengths::ModuleLengths;
/// let mut lengths = ModuleLengths::default();
/// lengths.read("+SMTPSUB: 256");
/// lengths.read("+SMTPRCPT: (0-2),(0-9),64,64");
/// assert_eq!(lengths.subject, Some(256));
/// assert_eq!(lengths.recipients_per_kind, Some(10));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ModuleLengths {
    /// `AT+SMTPSRV=?` `<smtpServerLength>`.
    pub smtp_server: Option<usize>,
    /// `AT+SMTPAUTH=?` `<userNameLength>`.
    pub smtp_user: Option<usize>,
    /// `AT+SMTPAUTH=?` `<passwordLength>`.
    pub smtp_password: Option<usize>,
    /// `AT+SMTPFROM=?` `<senderAddressLength>`.
    pub sender_address: Option<usize>,
    /// `AT+SMTPFROM=?` `<senderNameLength>`.
    pub sender_name: Option<usize>,
    /// `AT+SMTPRCPT=?` `(range of supported <index>s)`: its highest index + 1.
    pub recipients_per_kind: Option<usize>,
    /// `AT+SMTPRCPT=?` `(range of supported <rcptType>s)`: how many kinds.
    pub recipient_kinds: Option<usize>,
    /// `AT+SMTPRCPT=?` `<rcptAddressLength>`.
    pub recipient_address: Option<usize>,
    /// `AT+SMTPRCPT=?` `<rcptNameLength>`.
    pub recipient_name: Option<usize>,
    /// `AT+SMTPSUB=?` `<subjectLength>`.
    pub subject: Option<usize>,
    /// `AT+SMTPBODY=?` `<bodyLength>`.
    pub body: Option<usize>,
    /// `AT+SMTPFILE=?` `<fileNameLength>`.
    pub file_name: Option<usize>,
    /// `AT+SMTPCS=?` `<charsetLength>`: a charset whose name is longer cannot
    /// be set.
    pub charset_name: Option<usize>,
    /// `AT+POP3SRV=?` `<pop3ServerLength>`.
    pub pop3_server: Option<usize>,
    /// `AT+POP3SRV=?` `<userNameLength>`.
    pub pop3_user: Option<usize>,
    /// `AT+POP3SRV=?` `<password-Length>`.
    pub pop3_password: Option<usize>,
}

/// The test forms asked, in the manual's order (§3.2.3-§3.2.13).
pub fn forms() -> [Command; 9] {
    [
        common::test_smtp_server(),
        common::test_smtp_auth(),
        common::test_sender(),
        common::test_recipients(),
        common::test_subject(),
        commands::test_body(),
        commands::test_attachment(),
        commands::test_charset(),
        common::test_pop3_server(),
    ]
}

impl ModuleLengths {
    /// Reads one information line of a test form's answer; a line that is
    /// not one of [`forms`]' answers, or does not read, changes nothing and
    /// gives `false`.
    pub fn read(&mut self, line: &str) -> bool {
        let Some((prefix, rest)) = line.split_once(':') else {
            return false;
        };
        let fields = split_fields(rest);
        let n = |i: usize| fields.get(i).and_then(|f| number(f));
        let max = |i: usize| fields.get(i).and_then(|f| highest(f));
        let count = |i: usize| fields.get(i).and_then(|f| values(f)).map(|v| v.len());
        let read = match (prefix.trim(), fields.len()) {
            ("+SMTPSRV", 2) => n(0).map(|s| self.smtp_server = Some(s)),
            ("+SMTPAUTH", 3) => n(1)
                .zip(n(2))
                .map(|(u, p)| (self.smtp_user, self.smtp_password) = (Some(u), Some(p))),
            ("+SMTPFROM", 2) => n(0)
                .zip(n(1))
                .map(|(a, b)| (self.sender_address, self.sender_name) = (Some(a), Some(b))),
            ("+SMTPRCPT", 4) => {
                count(0)
                    .zip(max(1))
                    .zip(n(2).zip(n(3)))
                    .map(|((kinds, index), (a, b))| {
                        self.recipient_kinds = Some(kinds);
                        self.recipients_per_kind = Some(index + 1);
                        (self.recipient_address, self.recipient_name) = (Some(a), Some(b));
                    })
            }
            ("+SMTPSUB", 1) => n(0).map(|s| self.subject = Some(s)),
            ("+SMTPBODY", 1) => n(0).map(|s| self.body = Some(s)),
            ("+SMTPFILE", 3) => n(1).map(|s| self.file_name = Some(s)),
            ("+SMTPCS", 1) => n(0).map(|s| self.charset_name = Some(s)),
            ("+POP3SRV", 4) => n(0).zip(n(1)).zip(n(2)).map(|((s, u), p)| {
                (self.pop3_server, self.pop3_user, self.pop3_password) = (Some(s), Some(u), Some(p))
            }),
            _ => None,
        };
        read.is_some()
    }

    /// The sender's capabilities with the module's numbers in place of the
    /// built-in ones: the SMTP server and login, the shorter of the
    /// sender's and the recipients' address and name lengths (the facade
    /// has one of each), recipients per kind times kinds, subject (as sent:
    /// hex when the charset is not ASCII), body, file name; a charset whose
    /// `AT+SMTPCS` name is longer than the module takes is dropped.
    pub fn apply(&self, caps: &mut Capabilities) {
        let l = &mut caps.limits;
        set(&mut l.server, self.smtp_server);
        set(&mut l.user, self.smtp_user);
        set(&mut l.password, self.smtp_password);
        set(
            &mut l.address,
            shorter(self.sender_address, self.recipient_address),
        );
        set(&mut l.name, shorter(self.sender_name, self.recipient_name));
        if let Some(per_kind) = self.recipients_per_kind {
            l.recipients_per_kind = Some(per_kind);
            l.recipients = per_kind * self.recipient_kinds.unwrap_or(3);
        }
        set(&mut l.subject_ascii, self.subject);
        set(&mut l.subject_encoded, self.subject);
        set(&mut l.body, self.body);
        set(&mut l.attachment_name, self.file_name);
        if let Some(longest) = self.charset_name {
            caps.charsets
                .retain(|c| super::plan::charset_name(*c).len() <= longest || *c == Charset::Ascii);
        }
    }

    /// A mailbox account's capabilities: `caps` with the `AT+POP3SRV=?`
    /// server, user and password lengths in place of the SMTP ones.
    pub fn for_pop3(&self, caps: &Capabilities) -> Capabilities {
        let mut caps = caps.clone();
        let l = &mut caps.limits;
        set(&mut l.server, self.pop3_server);
        set(&mut l.user, self.pop3_user);
        set(&mut l.password, self.pop3_password);
        caps
    }
}

/// `caps` with every length and count the module reports set out of reach:
/// what can be checked before the module has said its numbers (quotes,
/// line breaks, TLS, charsets, sources...), so only a length waits for the
/// test forms.
pub fn without_lengths(caps: &Capabilities) -> Capabilities {
    const FAR: usize = u32::MAX as usize;
    let mut caps = caps.clone();
    caps.limits = Limits {
        recipients: FAR,
        recipients_per_kind: caps.limits.recipients_per_kind.map(|_| FAR),
        address: FAR,
        name: FAR,
        subject_ascii: FAR,
        subject_encoded: FAR,
        body: FAR,
        attachment_name: FAR,
        user: FAR,
        password: FAR,
        server: FAR,
        ..caps.limits
    };
    caps
}

fn set(limit: &mut usize, module: Option<usize>) {
    if let Some(n) = module {
        *limit = n;
    }
}

fn shorter(a: Option<usize>, b: Option<usize>) -> Option<usize> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The fields of a test form's answer, split at the commas outside
/// parentheses: `(0-2),(0-9),64,64` → four.
fn split_fields(rest: &str) -> Vec<&str> {
    let (mut fields, mut depth, mut start) = (Vec::new(), 0i32, 0);
    for (i, c) in rest.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                fields.push(rest[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    fields.push(rest[start..].trim());
    fields
}

fn number(field: &str) -> Option<usize> {
    field.parse().ok()
}

/// The values of a `(0-2)` or `(0,1)` range.
fn values(field: &str) -> Option<Vec<usize>> {
    let inner = field.strip_prefix('(')?.strip_suffix(')')?;
    let mut out = Vec::new();
    for part in inner.split(',') {
        match part.split_once('-') {
            Some((lo, hi)) => {
                let (lo, hi) = (number(lo.trim())?, number(hi.trim())?);
                if lo > hi || hi - lo > 1000 {
                    return None;
                }
                out.extend(lo..=hi);
            }
            None => out.push(number(part.trim())?),
        }
    }
    Some(out)
}

fn highest(field: &str) -> Option<usize> {
    values(field)?.into_iter().max()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The answers of tests/transcripts/sim7000/forms.at (the manual's
    /// templates, filled in by the project).
    const FORMS: [&str; 9] = [
        "+SMTPSRV: 64,(1-65535)",
        "+SMTPAUTH: (0,1),64,64",
        "+SMTPFROM: 64,64",
        "+SMTPRCPT: (0-2),(0-9),64,64",
        "+SMTPSUB: 256",
        "+SMTPBODY: 4096",
        "+SMTPFILE: (0-2),64,(0,1)",
        "+SMTPCS: 16",
        "+POP3SRV: 64,64,64,(1-65535)",
    ];

    #[test]
    fn every_form_of_the_manual_reads() {
        let mut lengths = ModuleLengths::default();
        for line in FORMS {
            assert!(lengths.read(line), "{line}");
        }
        assert_eq!(
            lengths,
            ModuleLengths {
                smtp_server: Some(64),
                smtp_user: Some(64),
                smtp_password: Some(64),
                sender_address: Some(64),
                sender_name: Some(64),
                recipients_per_kind: Some(10),
                recipient_kinds: Some(3),
                recipient_address: Some(64),
                recipient_name: Some(64),
                subject: Some(256),
                body: Some(4096),
                file_name: Some(64),
                charset_name: Some(16),
                pop3_server: Some(64),
                pop3_user: Some(64),
                pop3_password: Some(64),
            }
        );
    }

    #[test]
    fn an_answer_that_does_not_read_changes_nothing() {
        let mut lengths = ModuleLengths::default();
        for line in [
            "+SMTPSUB: x",
            "+SMTPSUB: 1,2",
            "+SMTPBODY:",
            "+SMTPRCPT: (0-2),(9-0),64,64",
            "+SMTPRCPT: (0-2),(0-9),64",
            "+SMTPSRV: 64",
            "+POP3SRV: 64,64,(1-65535)",
            "+SMTPFILE: (0-2),-1,(0,1)",
            "+SMTPRCPT: (0-99999999),(0-9),64,64",
            "OK",
            "+SMTPSUB: 99999999999999999999999",
        ] {
            assert!(!lengths.read(line), "{line}");
        }
        assert_eq!(lengths, ModuleLengths::default());
    }

    #[test]
    fn the_module_numbers_replace_the_built_in_ones() {
        let mut lengths = ModuleLengths::default();
        for line in [
            "+SMTPSRV: 100,(1-65535)",
            "+SMTPAUTH: (0,1),50,40",
            "+SMTPFROM: 90,30",
            "+SMTPRCPT: (0-2),(0-4),80,35",
            "+SMTPSUB: 120",
            "+SMTPBODY: 6000",
            "+SMTPFILE: (0-2),60,(0,1)",
            "+SMTPCS: 5",
            "+POP3SRV: 70,20,10,(1-65535)",
        ] {
            assert!(lengths.read(line), "{line}");
        }
        let mut caps = super::super::capabilities();
        lengths.apply(&mut caps);
        let l = &caps.limits;
        assert_eq!((l.server, l.user, l.password), (100, 50, 40));
        assert_eq!((l.address, l.name), (80, 30));
        assert_eq!((l.recipients, l.recipients_per_kind), (15, Some(5)));
        assert_eq!(
            (l.subject_ascii, l.subject_encoded, l.body),
            (120, 120, 6000)
        );
        assert_eq!(l.attachment_name, 60);
        // "UTF-8" is five characters: it still fits.
        assert_eq!(caps.charsets, [Charset::Ascii, Charset::Utf8]);
        let pop3 = lengths.for_pop3(&caps);
        assert_eq!(
            (pop3.limits.server, pop3.limits.user, pop3.limits.password),
            (70, 20, 10)
        );
    }

    #[test]
    fn a_charset_name_longer_than_the_module_takes_is_dropped() {
        let mut lengths = ModuleLengths::default();
        assert!(lengths.read("+SMTPCS: 4"));
        let mut caps = super::super::capabilities();
        lengths.apply(&mut caps);
        assert_eq!(caps.charsets, [Charset::Ascii]);
    }

    #[test]
    fn a_refused_form_keeps_the_built_in_number() {
        let mut lengths = ModuleLengths::default();
        assert!(lengths.read("+SMTPBODY: 2048"));
        let built_in = super::super::capabilities();
        let mut caps = built_in.clone();
        lengths.apply(&mut caps);
        assert_eq!(caps.limits.body, 2048);
        assert_eq!(caps.limits.subject_ascii, built_in.limits.subject_ascii);
        assert_eq!(caps.limits.recipients, built_in.limits.recipients);
    }

    #[test]
    fn the_forms_are_the_manuals_test_commands() {
        let wire: Vec<String> = forms()
            .iter()
            .map(|c| String::from_utf8(c.encode().unwrap()).unwrap())
            .collect();
        assert_eq!(
            wire,
            [
                "AT+SMTPSRV=?\r",
                "AT+SMTPAUTH=?\r",
                "AT+SMTPFROM=?\r",
                "AT+SMTPRCPT=?\r",
                "AT+SMTPSUB=?\r",
                "AT+SMTPBODY=?\r",
                "AT+SMTPFILE=?\r",
                "AT+SMTPCS=?\r",
                "AT+POP3SRV=?\r",
            ]
        );
    }
}
