//! The SIM5360 family (3G): SMTP with the `+SMTP:` URCs, POP3 with the
//! `+POP3:` results, e-mails and attachments kept in the module's file system
//! (SIM5360 e-mail application note V0.01).
//!
//! # Reading messages: the module's digest
//!
//! `AT+POP3GET` saves the mail and its attachments in the module's file
//! system (§2) and `AT+POP3READ` prints "header and content" (§2, §4.4):
//! plain lines before `OK`, no length, no raw block. The commands declare
//! their answer a text block ([`cellmail_at::Command::expect_text_block`]):
//! once its first line came every line up to `OK` is the message's, one that
//! reads like a URC (`RDY`, `+POP3: SUCCESS`) too, and its blank lines are
//! counted ([`codes::text_lines`]), so a blank line ends the header and a
//! body line `Word: text` stays in the body. The message is a
//! [`cellmail::Fidelity::Digest`] that lists what was lost:
//!
//! - [`cellmail::Lost::AttachmentsOnModule`]: attachments stay in the folder
//!   `AT+POP3GET` named. The mailer lists that folder (`AT+FSCD`, `AT+FSLS`,
//!   as §4.7 lists `C:/Email`; `AT+FSATTRI` for each size) and the message
//!   names them ([`cellmail::Message::module_files`]); a folder that holds
//!   only the mail's text file loses nothing, one the module would not list
//!   may hold attachments. [`Sim5360Options::saved_mail`] says whether the
//!   folder is then tidied, [`Sim5360Options::storage`] where it is
//!   (`AT+FSLOCA`: `C:/Email` or the card's `D:/Email`);
//! - [`cellmail::Lost::HeaderBoundary`]: the module printed no blank line
//!   (the note's own examples): the first line not reading `Name: value`
//!   begins the body;
//! - [`cellmail::Lost::MimeStructure`]: the header declares a multipart type
//!   the text does not carry: the text is given as plain text.
//!
//! The answer has no length, so a message line reading exactly `OK` or
//! `ERROR` (or `+CME ERROR: ...`) is in doubt: the module prints the saved
//! file in one go, so text following it within
//! `ClientConfig::text_block_quiet` (300 ms) makes it the message's own line,
//! and only the `OK` the module keeps quiet after ends the answer
//! ([`cellmail_at::Decoder::end_in_doubt`]; no manual gives the rule, it is
//! the project's reading). Should the module pause longer right after such a
//! line, the lines after it are taken off the line and the call fails with
//! [`cellmail_at::AtError::Protocol`], never a short message. The module
//! prints its own file, so dot lines (a last `.` too) are the mail's: no POP3
//! transparency to undo.
//!
//! # Layout
//!
//! - [`commands`]: the typed commands (§2);
//! - [`codes`]: the `+SMTP:` / `+POP3:` result tables and the answers read;
//! - [`files`]: where mails are saved (`AT+FSLOCA`), what `AT+FSLS` and
//!   `AT+FSATTRI` answer, the saved files as [`cellmail::ModuleFile`]s;
//! - [`plan`]: a mail or a mailbox call → the exchanges, in the note's order;
//! - [`policy`]: a result, refusal or fault → what to do next;
//! - the mailer ([`Sim5360Mailer`]) runs plans on the session driver
//!   (`cellmail_session::Driver`) and reads each result through the policy.

use cellmail::{Capabilities, Charset, Dialect, ModuleInfo};
use cellmail_at::DecoderConfig;

pub mod codes;
pub mod commands;
pub mod files;
mod mailer;
pub mod plan;
pub mod policy;

pub use codes::{Pop3Result, SmtpResult, pop3_result, saved_path};
use commands::{POP3_RESULT, SMTP_RESULT};
pub use files::{MailStorage, SavedMail};
pub use mailer::{Sim5360Mailer, Sim5360Options};

/// The family name.
pub const FAMILY: &str = "sim5360";

/// §1: the subject takes up to 512 ASCII characters.
pub const SUBJECT_MAX: usize = 512;
/// §1: the body takes up to 5120 ASCII characters.
pub const BODY_MAX: usize = 5120;
/// §1: at most 10 attachments.
pub const ATTACHMENTS_MAX: usize = 10;
/// §1: attachments hold at most 10 MB in all (read as MiB).
pub const ATTACHMENT_BYTES_MAX: u64 = 10 * 1024 * 1024;

/// `+SMTP:` and `+POP3:` results arrive as URCs after `OK`.
pub fn decoder_config() -> DecoderConfig {
    DecoderConfig::default().urc(SMTP_RESULT).urc(POP3_RESULT)
}

/// Drives SIMCom SIM5360 modules: the one model the manual covers (other
/// SIMCom 3G modules are not claimed).
pub struct Sim5360;

impl Dialect for Sim5360 {
    const NAME: &'static str = FAMILY;

    fn drives(info: &ModuleInfo) -> bool {
        let model = info.model.to_ascii_uppercase();
        let model = model.trim_start_matches("SIMCOM_");
        info.manufacturer.to_ascii_uppercase().contains("SIMCOM") && model.starts_with("SIM5360")
    }
}

/// The SIM5360 capabilities.
///
/// From the manual (§1 "SMTP features"): ASCII subject up to 512 characters,
/// ASCII body up to 5120 characters, attachments from the file system only,
/// "total size up to 10MB or maximal number up to 10 files"; the body is given
/// inline in `AT+SMTPBODY="..."` (§2), so it is one line without quotes. The
/// manual names no TLS. The 10 MB total cannot be checked by the host (the
/// files are on the module and `AT+FSLS` lists no sizes): the module enforces
/// it.
///
/// **Not in the manual**: the recipient counts and the address, name, file
/// name, user, password and server lengths are conservative host-side
/// choices.
pub fn capabilities() -> Capabilities {
    use cellmail::{AttachmentSources, Limits, Storage, TextEncoding, TlsMode};
    Capabilities {
        family: FAMILY,
        smtp: true,
        pop3: true,
        smtp_tls: vec![TlsMode::None],
        pop3_tls: vec![TlsMode::None],
        tls_verify: false,
        tls_versions: vec![],
        charsets: vec![Charset::Ascii],
        subject_encoding: TextEncoding::Raw,
        body_encoding: TextEncoding::Raw,
        attachment_sources: AttachmentSources {
            memory: false,
            host_file: false,
            module_file: true,
        },
        storages: vec![Storage::Drive('C'), Storage::Drive('D')],
        recipient_names: true,
        // The body travels inside an AT string.
        body_forbids: vec!["\r", "\n", "\""],
        body_transport: cellmail::BodyTransport::InCommand,
        bearer_login: false,
        limits: Limits {
            // Not in the manual (host-side choices).
            recipients: 30,
            recipients_per_kind: Some(10),
            address: 128,
            name: 64,
            // §1: "up to 512 characters", "up to 5120 characters" (ASCII).
            subject_ascii: SUBJECT_MAX,
            subject_encoded: SUBJECT_MAX,
            body: BODY_MAX,
            // §1: "maximal number up to 10 files", "total size up to 10MB".
            attachments: ATTACHMENTS_MAX,
            attachment_bytes_serial: 0,
            attachment_bytes_total: Some(ATTACHMENT_BYTES_MAX),
            // Not in the manual (host-side choices).
            attachment_name: 128,
            user: 64,
            password: 64,
            server: 128,
            // §1 NOTE: the module's own SMTP timer is 30 s, not settable.
            send_timeout_secs: None,
        },
    }
}

/// Why [`Mailbox::reset`](cellmail::Mailbox::reset) is `Unsupported` on a SIM5360.
pub const RESET_UNSUPPORTED: &str = "unmarking deletions (POP3 RSET): the SIM5360 e-mail note \
     has no such command; AT+POP3DEL marks a message for deletion when the session finishes \
     normally, and AT+POP3STOP is only described as \"Force to finish the session\", not as \
     dropping the marks";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_simcom_sim5360_is_claimed() {
        let info = |model: &str| ModuleInfo {
            manufacturer: "SIMCOM INCORPORATED".into(),
            model: model.into(),
            revision: String::new(),
        };
        assert!(Sim5360::drives(&info("SIMCOM_SIM5360E")));
        assert!(!Sim5360::drives(&info("SIMCOM_SIM5320E")));
        assert!(!Sim5360::drives(&info("SIM7000G")));
    }
}
