//! The module's file system after `AT+POP3GET`: where the mail is saved
//! (`AT+FSLOCA`, §2), what `AT+FSLS` and `AT+FSATTRI` answer, and the files
//! of a saved mail as the facade's [`ModuleFile`]s. Pure.
//!
//! The e-mail note shows `AT+FSLS` answering a section line
//! (`+FSLS: SUBDIRECTORIES:` in §4.7, `+FSLs: FILES:` in §3.2, its case as
//! printed) followed by one name a line, and no sizes. It does not show
//! `AT+FSATTRI`, `AT+FSDEL` or `AT+FSRMDIR`: their forms are those of
//! SIMCom's file-system chapter ("AT Commands for File System": `AT+FSATTRI=
//! <filename>` → `+FSATTRI: <file_size>` in bytes, `AT+FSDEL=<filename>`,
//! `AT+FSRMDIR=<dir>` in the current directory; the same commands the
//! SIM5215/SIM5360 command sets list in their file-system chapter).

use cellmail::{ModuleFile, ModulePath};

use super::commands;

/// Where `AT+POP3GET` saves mails (§2: "C:/Email" or "D:/Email", "depending
/// on the value of command +FSLOCA").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MailStorage {
    /// The module's own flash, `C:/Email` (`AT+FSLOCA=0`, as §4.4 sets it).
    #[default]
    Local,
    /// The storage card, `D:/Email` (`AT+FSLOCA=1`).
    Card,
}

impl MailStorage {
    fn card(self) -> bool {
        self == MailStorage::Card
    }

    /// `AT+FSLOCA=<0|1>`.
    pub fn command(self) -> cellmail_at::Command {
        commands::storage(self.card())
    }

    /// The folder mails are saved under, `C:/Email/` or `D:/Email/`.
    pub const fn folder(self) -> &'static str {
        match self {
            MailStorage::Local => commands::email_folder(false),
            MailStorage::Card => commands::email_folder(true),
        }
    }
}

/// What becomes of the folder `AT+POP3GET` saved a mail into, once the mail
/// was read and its files listed. Every retrieval saves one (§2), so they
/// pile up on the module unless removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SavedMail {
    /// Left as the module saved it: the text file (`EMAIL000.TXT`, which
    /// `AT+POP3READ` printed) and the attachments. The default, as before
    /// attachments were listed; the application removes folders it is done
    /// with.
    #[default]
    Keep,
    /// The text file is deleted (`AT+FSDEL`: the message holds its text),
    /// and the folder too when no attachment is in it (`AT+FSRMDIR`), so
    /// mails without attachments leave nothing behind. Attachments stay
    /// where [`cellmail::Message::module_files`] says, for the application
    /// to use and remove.
    KeepAttachments,
}

/// What `AT+FSLS` listed: the current folder's subdirectories and files.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Listing {
    /// The `+FSLS: SUBDIRECTORIES:` section.
    pub subdirectories: Vec<String>,
    /// The `+FSLS: FILES:` section.
    pub files: Vec<String>,
}

/// Reads an `AT+FSLS` answer (its lines before `OK`). A section line starts
/// a section (any case: §3.2 prints `+FSLs:`); each non-empty line after it
/// is a name. Lines before any section are not names.
///
/// ```
/// use cellmail_simcom::sim5360::files::listing;
/// // §4.7, C:/Email.
/// let lines = ["+FSLS: SUBDIRECTORIES:", "100202110457", "100202113456"].map(String::from);
/// let l = listing(&lines);
/// assert_eq!(l.subdirectories, ["100202110457", "100202113456"]);
/// assert!(l.files.is_empty());
/// ```
pub fn listing(lines: &[String]) -> Listing {
    enum Section {
        None,
        Subdirectories,
        Files,
    }
    let mut out = Listing::default();
    let mut section = Section::None;
    for line in lines {
        let line = line.trim();
        let upper = line.to_ascii_uppercase();
        if let Some(rest) = upper.strip_prefix("+FSLS:") {
            section = match rest.trim() {
                "SUBDIRECTORIES:" => Section::Subdirectories,
                "FILES:" => Section::Files,
                _ => Section::None,
            };
            continue;
        }
        if line.is_empty() {
            continue;
        }
        match section {
            Section::Subdirectories => out.subdirectories.push(line.to_owned()),
            Section::Files => out.files.push(line.to_owned()),
            Section::None => {}
        }
    }
    out
}

/// The size in `+FSATTRI: <file_size>` (bytes); a date after a comma, as
/// some SIMCom command sets print it, is not read.
///
/// ```
/// use cellmail_simcom::sim5360::files::file_size;
/// assert_eq!(file_size(&["+FSATTRI: 8604".to_string()]), Some(8604));
/// assert_eq!(file_size(&["+FSATTRI: 8604, 2008/04/28 10:24:46".to_string()]), Some(8604));
/// assert_eq!(file_size(&["+FSATTRI: big".to_string()]), None);
/// ```
pub fn file_size(lines: &[String]) -> Option<u64> {
    lines.iter().find_map(|l| {
        let rest = l.trim().strip_prefix("+FSATTRI:")?;
        rest.split(',').next()?.trim().parse().ok()
    })
}

/// The files of a saved mail's folder as the facade names them: every file
/// `AT+FSLS` listed there but the mail's own text file, with the size
/// `size_of` gives. A name the facade cannot take as a module path (one with
/// a character no AT string carries) is left out and logged.
pub fn saved_files(
    folder: &str,
    text_file: &str,
    listed: &[String],
    size_of: impl Fn(&str) -> Option<u64>,
) -> Vec<ModuleFile> {
    let folder = folder.trim_end_matches('/');
    listed
        .iter()
        .filter(|name| name.as_str() != text_file)
        .filter_map(|name| {
            let path = format!("{folder}/{name}");
            match path.parse::<ModulePath>() {
                Ok(path) => Some(ModuleFile::new(path, size_of(name))),
                Err(e) => {
                    tracing::warn!(%e, "a saved file the facade cannot name");
                    None
                }
            }
        })
        .collect()
}

/// The saved mail's folder name in its storage's `Email` folder
/// (`C:/Email/100202110457/` → `100202110457`), for `AT+FSRMDIR`.
pub fn folder_name(folder: &str) -> Option<&str> {
    let name = folder.trim_end_matches('/').rsplit('/').next()?;
    (!name.is_empty() && !name.contains(':')).then_some(name)
}

/// What `AT+POP3GET` saved, as the digest reports it.
#[derive(Clone, Debug)]
pub(crate) struct Saved<'a> {
    /// The folder, `C:/Email/100202110457/`.
    pub folder: &'a str,
    /// The files `AT+FSLS` listed there (the mail's text file left out);
    /// `None` when the listing was refused.
    pub files: Option<Vec<ModuleFile>>,
}

#[cfg(test)]
mod tests {
    use super::super::codes::message_from_block;
    use super::*;
    use cellmail::{Fidelity, Lost};

    fn lines(l: &[&str]) -> Vec<String> {
        l.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_notes_file_listing_in_its_own_case() {
        // §3.2, C:/Picture.
        let l = listing(&lines(&[
            "+FSLs: FILES:",
            "20100202_100006.jpg",
            "20100202_100016.jpg",
        ]));
        assert_eq!(l.files, ["20100202_100006.jpg", "20100202_100016.jpg"]);
        assert!(l.subdirectories.is_empty());
    }

    #[test]
    fn both_sections_with_blank_lines_between() {
        let l = listing(&lines(&[
            "+FSLS: SUBDIRECTORIES:",
            "old",
            "",
            "+FSLS: FILES:",
            "EMAIL000.TXT",
            "log.bin",
            "",
        ]));
        assert_eq!(l.subdirectories, ["old"]);
        assert_eq!(l.files, ["EMAIL000.TXT", "log.bin"]);
        assert_eq!(
            listing(&lines(&["stray", "+FSLS: OTHER:", "x"])),
            Listing::default()
        );
    }

    #[test]
    fn the_text_file_is_not_an_attachment() {
        let files = saved_files(
            "D:/Email/100202110458/",
            "EMAIL000.TXT",
            &lines(&["EMAIL000.TXT", "log.bin", "bad\"name"]),
            |n| (n == "log.bin").then_some(6),
        );
        assert_eq!(
            files,
            [ModuleFile::new(
                "D:/Email/100202110458/log.bin".parse().unwrap(),
                Some(6)
            )]
        );
    }

    #[test]
    fn storages_and_folder_names() {
        assert_eq!(MailStorage::default().folder(), "C:/Email/");
        assert_eq!(MailStorage::Card.command().redacted(), "AT+FSLOCA=1");
        assert_eq!(folder_name("C:/Email/100202110457/"), Some("100202110457"));
        assert_eq!(folder_name("C:"), None);
    }

    #[test]
    fn a_listed_folder_names_its_files_or_says_nothing_was_lost() {
        let lines = lines(&["Subject: x", "To: y", "", "see the log"]);
        let folder = "C:/Email/100202110457/";
        let log = ModuleFile::new(format!("{folder}log.bin").parse().unwrap(), Some(6));
        let with = Saved {
            folder,
            files: Some(vec![log.clone()]),
        };
        let m = message_from_block(&lines, Some(&with)).unwrap();
        assert_eq!(m.module_files(), [log]);
        assert_eq!(
            m.fidelity(),
            &Fidelity::Digest(vec![Lost::AttachmentsOnModule {
                folder: folder.into()
            }])
        );
        let without = Saved {
            folder,
            files: Some(vec![]),
        };
        let m = message_from_block(&lines, Some(&without)).unwrap();
        assert!(m.module_files().is_empty());
        assert_eq!(m.fidelity(), &Fidelity::Digest(vec![]));
    }
}
