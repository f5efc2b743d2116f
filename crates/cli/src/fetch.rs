//! `cellmail fetch`: list, retrieve, delete over the module's POP3 client.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use cellmail::{MailError, Mailbox, Message};

use crate::args::{FetchArgs, LineArgs};
use crate::error::CliError;
use crate::{progress, setup};

/// A file name from a POP3 UID: only characters safe on every file system.
fn file_stem(number: u32, uid: Option<&str>) -> String {
    match uid {
        Some(uid) if !uid.is_empty() => uid
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                    c
                } else {
                    '_'
                }
            })
            .collect(),
        _ => number.to_string(),
    }
}

/// Writes `raw` to `dir/<stem>.eml`, never over an existing file (a later message with the
/// same number is not the same message).
fn write_eml(dir: &Path, stem: &str, raw: &[u8]) -> Result<PathBuf, CliError> {
    let io = |what: String| move |source| CliError::Io { what, source };
    std::fs::create_dir_all(dir).map_err(io(format!("--out {}", dir.display())))?;
    for k in 0u32.. {
        let name = match k {
            0 => format!("{stem}.eml"),
            k => format!("{stem}-{k}.eml"),
        };
        let path = dir.join(name);
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(mut f) => {
                f.write_all(raw)
                    .and_then(|()| f.sync_all())
                    .map_err(io(format!("writing {}", path.display())))?;
                return Ok(path);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(io(format!("writing {}", path.display()))(e)),
        }
    }
    Err(CliError::Usage(format!(
        "--out {}: no free file name",
        dir.display()
    )))
}

fn sender(m: &Message) -> String {
    m.from()
        .first()
        .map(|a| a.address.clone())
        .unwrap_or_default()
}

/// One listing or retrieval line.
fn describe(
    number: u32,
    uid: Option<&str>,
    size: u64,
    m: &Message,
    file: Option<&Path>,
) -> serde_json::Value {
    let mut o = serde_json::json!({
        "number": number,
        "size": size,
        "from": sender(m),
        "subject": m.subject().unwrap_or_default(),
    });
    if let Some(uid) = uid {
        o["uid"] = uid.into();
    }
    if let Some(file) = file {
        o["file"] = file.display().to_string().into();
    }
    o
}

/// `cellmail fetch`.
pub async fn run(line: &LineArgs, args: FetchArgs) -> Result<(), CliError> {
    if args.delete && !args.all && args.retrieve.is_empty() {
        return Err(CliError::Usage(
            "--delete deletes the retrieved messages: give --retrieve ID... or --all".into(),
        ));
    }
    let account = setup::pop3_account(args.pop3.as_deref(), line)?;
    let mut opened = setup::open(line, None, Some(account), Some(progress::progress())).await?;
    let mailbox = &mut opened.modem;
    let list = mailbox.list().await?;
    let uids: HashMap<u32, String> = match mailbox.uids().await {
        Ok(u) => u.into_iter().map(|u| (u.id, u.uid)).collect(),
        // The SIM5360 has no UIDL: the listing goes without.
        Err(MailError::Unsupported { .. }) => HashMap::new(),
        Err(e) => return Err(e.into()),
    };
    let size: HashMap<u32, u64> = list.iter().map(|i| (i.id, i.size)).collect();
    let wanted: Vec<u32> = if args.all {
        list.iter().map(|i| i.id).collect()
    } else {
        args.retrieve.clone()
    };
    if let Some(missing) = wanted.iter().find(|id| !size.contains_key(id)) {
        let numbers = match (list.first(), list.last()) {
            (Some(a), Some(b)) => format!("messages {}-{}", a.id, b.id),
            _ => "no messages".to_owned(),
        };
        // Leave the session cleanly; the refusal is what matters.
        let _ = mailbox.close().await;
        return Err(CliError::Usage(format!(
            "--retrieve {missing}: the mailbox has {numbers}"
        )));
    }
    if args.list || wanted.is_empty() {
        for info in &list {
            let head = mailbox.headers(info.id).await?;
            let uid = uids.get(&info.id).map(String::as_str);
            if args.json {
                println!("{}", describe(info.id, uid, info.size, &head, None));
            } else {
                println!(
                    "{:>4} {:>8} {:<24} {:<32} {}",
                    info.id,
                    info.size,
                    uid.unwrap_or("-"),
                    sender(&head),
                    head.subject().unwrap_or_default()
                );
            }
        }
    }
    for id in &wanted {
        let message = mailbox.retrieve(*id).await?;
        let uid = uids.get(id).map(String::as_str);
        let file = match &args.out {
            Some(dir) => Some(write_eml(dir, &file_stem(*id, uid), message.raw())?),
            None => None,
        };
        match (&file, args.json) {
            (_, true) => println!(
                "{}",
                describe(*id, uid, size[id], &message, file.as_deref())
            ),
            (Some(path), false) => println!("{id}: {}", path.display()),
            (None, false) => {
                let mut out = std::io::stdout().lock();
                out.write_all(message.raw())
                    .and_then(|()| out.flush())
                    .map_err(|source| CliError::Io {
                        what: "writing to stdout".into(),
                        source,
                    })?;
            }
        }
        if args.delete {
            mailbox.delete(*id).await?;
        }
    }
    // Deletions take effect only when the session ends normally.
    mailbox.close().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_from_uids_are_safe() {
        assert_eq!(file_stem(3, Some("00000001.5f3a")), "00000001.5f3a");
        assert_eq!(file_stem(3, Some("a/b:c")), "a_b_c");
        assert_eq!(file_stem(3, None), "3");
        assert_eq!(file_stem(3, Some("")), "3");
    }

    #[test]
    fn an_existing_file_is_never_overwritten() {
        let dir = std::env::temp_dir().join(format!("cellmail-eml-{}", std::process::id()));
        let first = write_eml(&dir, "1", b"first").unwrap_or_else(|e| panic!("{e}"));
        let second = write_eml(&dir, "1", b"second").unwrap_or_else(|e| panic!("{e}"));
        assert_ne!(first, second);
        assert_eq!(std::fs::read(&first).ok().as_deref(), Some(&b"first"[..]));
        assert_eq!(std::fs::read(&second).ok().as_deref(), Some(&b"second"[..]));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
