//! Why a scenario is skipped, in words for the person running the matrix.
//!
//! Most reasons are read off the family's [`Capabilities`] before anything
//! is sent ([`before`]); what the dialect still refuses as `Unsupported`
//! while sending is said by [`refused`].

use cellmail::{AttachmentSources, Capabilities, Charset, TlsMode};

use super::{DialectKind, LARGE_ATTACHMENT_BYTES};

/// The `bearer` scenario on a SIM5360.
pub const SIM5360_BEARER: &str = "the SIM5360 has no bearer step of its own: its dialect sets \
     the PDP context (AT+CGSOCKCONT) inside each send";

/// The document a family's capabilities come from, as a sentence names it.
///
/// ```
/// use cellmail_suite::hil::{DialectKind, skip};
/// assert_eq!(skip::manual(DialectKind::Sim7000), "the SIM7000 e-mail manual");
/// ```
pub fn manual(kind: DialectKind) -> &'static str {
    match kind {
        DialectKind::QuectelGsm => "the Quectel GSM SMTP manual",
        DialectKind::Sim7000 => "the SIM7000 e-mail manual",
        DialectKind::Sim5360 => "the SIM5360 e-mail note",
        DialectKind::A76xx => "the A76xx SMTPS chapter",
    }
}

/// What the run was given that a scenario may need.
#[derive(Clone, Copy, Debug, Default)]
pub struct Given {
    /// A CA to check the server's certificate with.
    pub ca: bool,
    /// A port with implicit TLS.
    pub smtps_port: bool,
    /// A POP3 port.
    pub pop3_port: bool,
    /// A host file to attach.
    pub host_file: bool,
    /// The large attachment lies on the module's file system.
    pub large_on_module: bool,
    /// Which module of the SIM7000 family (a SIM800 has e-mail TLS).
    pub sim7000_model: cellmail_simcom::sim7000::Model,
}

/// The capabilities the matrix reads for `kind`: a SIM800's where the run drives one.
pub fn capabilities(kind: DialectKind, model: cellmail_simcom::sim7000::Model) -> Capabilities {
    match kind {
        DialectKind::Sim7000 => cellmail_simcom::sim7000::capabilities_of(model),
        other => other.capabilities(),
    }
}

/// [`manual`], naming the SIM800 SSL note for a SIM800.
fn document(kind: DialectKind, model: cellmail_simcom::sim7000::Model) -> &'static str {
    match (kind, model) {
        (DialectKind::Sim7000, cellmail_simcom::sim7000::Model::Sim800) => {
            "the SIM800 SSL application note"
        }
        _ => manual(kind),
    }
}

/// Why `kind` cannot run `scenario` with what the run was `given`, decided
/// before anything is sent; `None` when it can (the dialect still has the
/// last word).
///
/// ```
/// use cellmail_suite::hil::{DialectKind, skip};
/// let given = skip::Given { ca: true, ..Default::default() };
/// assert_eq!(
///     skip::before(DialectKind::Sim7000, "starttls", given).as_deref(),
///     Some("the SIM7000 e-mail manual has no STARTTLS"),
/// );
/// assert_eq!(skip::before(DialectKind::QuectelGsm, "starttls", given), None);
/// ```
pub fn before(kind: DialectKind, scenario: &str, given: Given) -> Option<String> {
    let caps = capabilities(kind, given.sim7000_model);
    let doc = manual(kind);
    let tls = |mode: TlsMode, words: &str| {
        let doc = document(kind, given.sim7000_model);
        if !caps.smtp_tls.contains(&mode) {
            Some(format!("{doc} has no {words}"))
        } else if given.ca && !caps.tls_verify {
            Some(format!(
                "{doc} has no way to check the server's certificate"
            ))
        } else {
            None
        }
    };
    match scenario {
        "starttls" => tls(TlsMode::StartTls, "STARTTLS"),
        "implicit-tls" => tls(TlsMode::Implicit, "implicit TLS (SMTPS)").or_else(|| {
            (!given.smtps_port).then(|| "no implicit-TLS port was given (--smtps-port)".into())
        }),
        "utf8" if !caps.charsets.contains(&Charset::Utf8) => {
            Some(format!("{doc} takes ASCII text only, not UTF-8"))
        }
        "attachment-memory" => from(doc, &caps, Source::Memory),
        "attachment-file" => from(doc, &caps, Source::HostFile)
            .or_else(|| (!given.host_file).then(|| "no host file was given to attach".into())),
        "attachment-module" => from(doc, &caps, Source::Module),
        "attachment-large" => large(doc, &caps, given.large_on_module),
        "pop3" if !kind.reads_mail() => Some(format!(
            "{doc} has no POP3 client: these modules only send mail"
        )),
        "pop3" if !given.pop3_port => Some("no POP3 port was given (--pop3-port)".into()),
        _ => None,
    }
}

/// The `pop3` scenario on a module that cannot unmark a deletion, once
/// everything else passed.
pub fn no_reset(kind: DialectKind) -> String {
    format!(
        "{} has no command that unmarks a deletion (POP3 RSET), so nothing was deleted; \
         stat, list, headers, retrieve and uids passed",
        manual(kind)
    )
}

/// A scenario skipped by `--tls <flag>`.
///
/// ```
/// use cellmail_suite::hil::skip;
/// assert_eq!(
///     skip::tls_left_out("none", "starttls"),
///     "this run was given --tls none, which leaves out STARTTLS",
/// );
/// ```
pub fn tls_left_out(flag: &str, scenario: &str) -> String {
    let what = match scenario {
        "starttls" => "STARTTLS",
        _ => "implicit TLS",
    };
    format!("this run was given --tls {flag}, which leaves out {what}")
}

/// What the dialect refused as `Unsupported` while the scenario ran.
pub fn refused(kind: DialectKind, feature: &str) -> String {
    format!(
        "the {} dialect does not support this: {feature}",
        kind.name()
    )
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Source {
    Memory,
    HostFile,
    Module,
}

impl Source {
    const ALL: [Source; 3] = [Source::Memory, Source::HostFile, Source::Module];

    fn words(self) -> &'static str {
        match self {
            Source::Memory => "bytes from the host's memory",
            Source::HostFile => "host files",
            Source::Module => "files on the module's file system",
        }
    }

    fn allowed(self, s: AttachmentSources) -> bool {
        match self {
            Source::Memory => s.memory,
            Source::HostFile => s.host_file,
            Source::Module => s.module_file,
        }
    }
}

/// What the family attaches, in words: `host files and files on the module's file system`.
fn sources(caps: &Capabilities) -> Option<String> {
    let words: Vec<&str> = Source::ALL
        .into_iter()
        .filter(|s| s.allowed(caps.attachment_sources))
        .map(Source::words)
        .collect();
    match words.as_slice() {
        [] => None,
        [one] => Some((*one).to_owned()),
        [rest @ .., last] => Some(format!("{} and {last}", rest.join(", "))),
    }
}

fn from(doc: &str, caps: &Capabilities, source: Source) -> Option<String> {
    if source.allowed(caps.attachment_sources) {
        return None;
    }
    Some(match sources(caps) {
        Some(what) => format!("{doc} attaches only {what}, not {}", source.words()),
        None => format!("{doc} has no attachments"),
    })
}

/// The large attachment goes from memory where the family takes that, from
/// the module's file system otherwise (when the run put it there).
fn large(doc: &str, caps: &Capabilities, on_module: bool) -> Option<String> {
    let size = LARGE_ATTACHMENT_BYTES as u64;
    let l = &caps.limits;
    if let Some(max) = l.attachment_bytes_total.filter(|max| *max < size) {
        return Some(format!(
            "{doc} takes at most {max} bytes of attachments, less than the {size} of this one"
        ));
    }
    let s = caps.attachment_sources;
    if s.memory && l.attachment_bytes_serial < size && !(s.module_file && on_module) {
        return Some(format!(
            "{doc} takes at most {} bytes of attachments over the serial line, less than the \
             {size} of this one",
            l.attachment_bytes_serial
        ));
    }
    match (s.memory, s.module_file, on_module) {
        (true, _, _) | (_, true, true) => None,
        (false, true, false) => Some(format!(
            "{doc} attaches only {}, and this run put no {size}-byte file there \
             (only a virtual module, --sim, is given one)",
            Source::Module.words()
        )),
        (false, false, _) => Some(format!("{doc} attaches no bytes from the host's memory")),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_sim800_runs_the_tls_scenarios_without_a_ca_a_sim7000_does_not() {
        use cellmail_simcom::sim7000::Model;
        let sim800 = Given {
            smtps_port: true,
            sim7000_model: Model::Sim800,
            ..Default::default()
        };
        assert_eq!(before(DialectKind::Sim7000, "starttls", sim800), None);
        assert_eq!(before(DialectKind::Sim7000, "implicit-tls", sim800), None);
        let with_ca = Given { ca: true, ..sim800 };
        assert_eq!(
            before(DialectKind::Sim7000, "starttls", with_ca).as_deref(),
            Some("the SIM800 SSL application note has no way to check the server's certificate")
        );
        let sim7000 = Given {
            sim7000_model: Model::Sim7000,
            ..sim800
        };
        assert_eq!(
            before(DialectKind::Sim7000, "starttls", sim7000).as_deref(),
            Some("the SIM7000 e-mail manual has no STARTTLS")
        );
    }

    use super::*;

    fn all() -> Given {
        Given {
            ca: true,
            smtps_port: true,
            pop3_port: true,
            host_file: true,
            large_on_module: true,
            sim7000_model: Default::default(),
        }
    }

    #[test]
    fn each_family_skips_in_words() {
        let s = |k, sc, g| before(k, sc, g);
        use DialectKind::*;
        assert_eq!(
            s(Sim7000, "starttls", all()).as_deref(),
            Some("the SIM7000 e-mail manual has no STARTTLS")
        );
        assert_eq!(
            s(Sim5360, "implicit-tls", all()).as_deref(),
            Some("the SIM5360 e-mail note has no implicit TLS (SMTPS)")
        );
        assert_eq!(
            s(Sim5360, "utf8", all()).as_deref(),
            Some("the SIM5360 e-mail note takes ASCII text only, not UTF-8")
        );
        assert_eq!(
            s(Sim5360, "attachment-memory", all()).as_deref(),
            Some(
                "the SIM5360 e-mail note attaches only files on the module's file system, \
                 not bytes from the host's memory"
            )
        );
        assert_eq!(
            s(Sim7000, "attachment-module", all()).as_deref(),
            Some(
                "the SIM7000 e-mail manual attaches only bytes from the host's memory and host \
                 files, not files on the module's file system"
            )
        );
        assert_eq!(
            s(QuectelGsm, "pop3", all()).as_deref(),
            Some("the Quectel GSM SMTP manual has no POP3 client: these modules only send mail")
        );
        for k in [QuectelGsm, Sim7000, Sim5360] {
            for sc in ["probe", "bearer", "plain", "to-cc-bcc", "wrong-password"] {
                assert_eq!(s(k, sc, all()), None, "{k} {sc}");
            }
        }
        assert_eq!(s(QuectelGsm, "starttls", all()), None);
        assert_eq!(s(QuectelGsm, "attachment-module", all()), None);
        assert_eq!(s(Sim7000, "pop3", all()), None);
    }

    #[test]
    fn what_the_run_was_not_given_is_said() {
        let none = Given::default();
        use DialectKind::*;
        assert_eq!(
            before(QuectelGsm, "implicit-tls", none).as_deref(),
            Some("no implicit-TLS port was given (--smtps-port)")
        );
        assert_eq!(
            before(Sim7000, "pop3", none).as_deref(),
            Some("no POP3 port was given (--pop3-port)")
        );
        assert_eq!(
            before(Sim7000, "attachment-file", none).as_deref(),
            Some("no host file was given to attach")
        );
        // The family's own limit is said first.
        assert_eq!(
            before(Sim5360, "attachment-file", none).as_deref(),
            Some(
                "the SIM5360 e-mail note attaches only files on the module's file system, \
                 not host files"
            )
        );
    }

    #[test]
    fn the_large_attachment_runs_where_the_limits_allow_it() {
        use DialectKind::*;
        // Exactly the most the UART's sized form takes (GSM_SMTP_ATC §2.2.9),
        // within what a Quectel GSM takes through its RAM files.
        assert_eq!(
            cellmail_quectel::capabilities_for(&cellmail_quectel::QuectelOptions {
                attachment_route: cellmail_quectel::AttachmentRoute::UartSized,
                ..Default::default()
            })
            .limits
            .attachment_bytes_serial,
            LARGE_ATTACHMENT_BYTES as u64
        );
        assert!(
            QuectelGsm.capabilities().limits.attachment_bytes_serial
                >= LARGE_ATTACHMENT_BYTES as u64
        );
        let none = Given::default();
        for k in [QuectelGsm, Sim7000, A76xx] {
            assert_eq!(before(k, "attachment-large", none), None, "{k}");
        }
        assert_eq!(before(Sim5360, "attachment-large", all()), None);
        assert_eq!(
            before(Sim5360, "attachment-large", none).as_deref(),
            Some(
                "the SIM5360 e-mail note attaches only files on the module's file system, and \
                 this run put no 102400-byte file there (only a virtual module, --sim, is given one)"
            )
        );
        let mut caps = QuectelGsm.capabilities();
        caps.limits.attachment_bytes_serial = 1000;
        assert_eq!(
            large("the manual", &caps, false).as_deref(),
            Some(
                "the manual takes at most 1000 bytes of attachments over the serial line, less \
                 than the 102400 of this one"
            )
        );
        caps.limits.attachment_bytes_total = Some(2000);
        assert_eq!(
            large("the manual", &caps, true).as_deref(),
            Some(
                "the manual takes at most 2000 bytes of attachments, less than the 102400 of this one"
            )
        );
    }

    #[test]
    fn reasons_are_sentences_without_debug_text() {
        let reasons = [
            no_reset(DialectKind::Sim5360),
            tls_left_out("starttls", "implicit-tls"),
            refused(DialectKind::Sim5360, "smtp: certificate verification"),
            SIM5360_BEARER.to_owned(),
        ];
        assert_eq!(
            reasons[0],
            "the SIM5360 e-mail note has no command that unmarks a deletion (POP3 RSET), so \
             nothing was deleted; stat, list, headers, retrieve and uids passed"
        );
        assert_eq!(
            reasons[1],
            "this run was given --tls starttls, which leaves out implicit TLS"
        );
        for r in &reasons {
            assert!(r.starts_with(char::is_lowercase), "{r}");
            assert!(!r.contains('{') && !r.contains("StartTls"), "{r}");
        }
    }
}
