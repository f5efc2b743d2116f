//! The end-to-end check of `attachment-large` against the local mail stack:
//! the mail arrived in Dovecot's Maildir with its attachment intact.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use cellmail::Message;

/// One user's Maildir (`<root>/<local part>/{new,cur}`, the stack's
/// `mail_location`).
pub struct Maildir {
    dir: PathBuf,
}

impl Maildir {
    /// The Maildir of `address` under the stack's `CELLMAIL_MAILDIR_ROOT`.
    pub fn of(root: &Path, address: &str) -> Self {
        let user = address.split('@').next().unwrap_or(address);
        Self {
            dir: root.join(user),
        }
    }

    /// The mail files there now.
    pub fn files(&self) -> HashSet<PathBuf> {
        ["new", "cur"]
            .iter()
            .filter_map(|sub| std::fs::read_dir(self.dir.join(sub)).ok())
            .flat_map(|entries| entries.flatten().map(|e| e.path()))
            .collect()
    }

    /// Waits up to `wait` for a mail not in `before` whose subject is
    /// `subject`, and checks it carries one attachment `name` with `bytes`.
    pub fn check(
        &self,
        before: &HashSet<PathBuf>,
        subject: &str,
        name: &str,
        bytes: &[u8],
        wait: Duration,
    ) -> Result<(), String> {
        let deadline = Instant::now() + wait;
        loop {
            let mut found = None;
            for path in self.files().difference(before) {
                let Some(m) = std::fs::read(path)
                    .ok()
                    .and_then(|b| Message::parse(b).ok())
                else {
                    continue;
                };
                if m.subject().as_deref() == Some(subject) {
                    found = Some(judge(&m, name, bytes));
                    if found == Some(Ok(())) {
                        return Ok(());
                    }
                }
            }
            if let Some(Err(why)) = found {
                return Err(why);
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "no new mail {subject:?} reached {} in {wait:?}",
                    self.dir.display()
                ));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

/// Whether `m` carries exactly one attachment `name` holding `bytes`.
pub fn judge(m: &Message, name: &str, bytes: &[u8]) -> Result<(), String> {
    let attachments = m.attachments();
    let [a] = attachments.as_slice() else {
        return Err(format!(
            "the mail arrived with {} attachments, not 1",
            attachments.len()
        ));
    };
    if a.name.as_deref() != Some(name) {
        return Err(format!(
            "the attachment arrived named {:?}, not {name:?}",
            a.name
        ));
    }
    if a.bytes != bytes {
        let first = a.bytes.iter().zip(bytes).position(|(x, y)| x != y);
        return Err(format!(
            "the attachment arrived with {} bytes, not the {} sent{}",
            a.bytes.len(),
            bytes.len(),
            first.map_or(String::new(), |i| format!(", the first differing at {i}"))
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mail(subject: &str, name: &str, content: &str) -> Vec<u8> {
        format!(
            "From: a@x.test\r\nTo: b@x.test\r\nSubject: {subject}\r\nMIME-Version: 1.0\r\n\
             Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\n\
             Content-Type: text/plain\r\n\r\nbody\r\n--b\r\n\
             Content-Type: text/plain\r\nContent-Disposition: attachment; filename=\"{name}\"\r\n\
             Content-Transfer-Encoding: 7bit\r\n\r\n{content}\r\n--b--\r\n"
        )
        .into_bytes()
    }

    #[test]
    fn the_attachment_must_arrive_named_and_byte_for_byte() {
        let m = |name, content| Message::parse(mail("s", name, content)).unwrap();
        assert_eq!(judge(&m("log.txt", "abc"), "log.txt", b"abc"), Ok(()));
        assert_eq!(
            judge(&m("other.txt", "abc"), "log.txt", b"abc"),
            Err("the attachment arrived named Some(\"other.txt\"), not \"log.txt\"".into())
        );
        assert_eq!(
            judge(&m("log.txt", "abd"), "log.txt", b"abc"),
            Err(
                "the attachment arrived with 3 bytes, not the 3 sent, the first differing at 2"
                    .into()
            )
        );
    }

    #[test]
    fn only_a_new_mail_with_the_subject_counts() {
        let root = std::env::temp_dir().join(format!("xtask-maildir-{}", std::process::id()));
        let dir = Maildir::of(&root, "alice@cellmail.test");
        std::fs::create_dir_all(root.join("alice/new")).unwrap();
        std::fs::create_dir_all(root.join("alice/cur")).unwrap();
        std::fs::write(root.join("alice/cur/1"), mail("hil", "log.txt", "old")).unwrap();
        let before = dir.files();
        let wait = Duration::ZERO;
        // The old mail does not count.
        assert!(dir.check(&before, "hil", "log.txt", b"old", wait).is_err());
        std::fs::write(root.join("alice/new/2"), mail("other", "log.txt", "new")).unwrap();
        assert!(dir.check(&before, "hil", "log.txt", b"new", wait).is_err());
        std::fs::write(root.join("alice/new/3"), mail("hil", "log.txt", "new")).unwrap();
        assert_eq!(dir.check(&before, "hil", "log.txt", b"new", wait), Ok(()));
        assert_eq!(
            dir.check(&before, "hil", "log.txt", b"newer", wait),
            Err("the attachment arrived with 3 bytes, not the 5 sent".into())
        );
        std::fs::remove_dir_all(&root).unwrap();
    }
}
