//! A virtual SIMCom SIM5360E (SIM5360 e-mail application note V0.01).

use async_trait::async_trait;
use mail_parser::MimeHeaders;

use crate::Behaviour;
use crate::engine::{AtCommand, Closed, Io};
use crate::net::{self, NetError, Outgoing, Pop3, Security, TlsTrust};

#[derive(Default)]
pub(crate) struct Sim5360 {
    server: Option<(String, u16)>,
    login: Option<(String, String)>,
    from: Option<(String, Option<String>)>,
    rcpt: net::Recipients,
    subject: String,
    body: String,
    folder: String,
    files: Vec<Option<String>>,
    pop3_server: Option<(String, String, String, u16)>,
    pop3: Option<Pop3>,
    last: Option<Vec<u8>>,
    saved: u32,
    /// `AT+FSLOCA=1`: mails are saved on the card, `D:/Email` (§2).
    card: bool,
    /// Folders `AT+POP3GET` made (the file store holds files only), until
    /// `AT+FSRMDIR` removes them.
    dirs: std::collections::BTreeSet<String>,
}

impl Sim5360 {
    /// Where `AT+POP3GET` saves mails (§2: "C:/Email" or "D:/Email",
    /// "depending on the value of command +FSLOCA").
    fn email_root(&self) -> &'static str {
        if self.card { "D:/Email" } else { "C:/Email" }
    }

    /// `name` in the current folder, or as it is when absolute (`C:/...`).
    fn path_of(&self, name: &str) -> String {
        if name.contains(':') {
            name.trim_end_matches('/').to_owned()
        } else {
            format!("{}/{}", self.folder, name.trim_end_matches('/'))
        }
    }

    /// `AT+FSLS[=<type>]`: the note's form (§3.2 files, §4.7 subdirectories:
    /// a section line, then one name a line, no sizes); a section is printed
    /// when it has entries, and `<type>` 1 (subdirectories only) and 2
    /// (files only) as SIMCom's file-system chapter defines them.
    async fn list(&mut self, cmd: &AtCommand, io: &mut Io) {
        let prefix = format!("{}/", self.folder);
        let mut dirs = std::collections::BTreeSet::new();
        let mut files = std::collections::BTreeSet::new();
        let stored: Vec<String> = io
            .files
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .keys()
            .cloned()
            .collect();
        for path in stored.iter().chain(&self.dirs) {
            let Some(rest) = path.strip_prefix(&prefix) else {
                continue;
            };
            match rest.split_once('/') {
                Some((dir, _)) => dirs.insert(dir.to_owned()),
                None if self.dirs.contains(path) => dirs.insert(rest.to_owned()),
                None => files.insert(rest.to_owned()),
            };
        }
        let kind = if cmd.write { cmd.int(0) } else { Some(0) };
        if !matches!(kind, Some(0..=2)) {
            io.error().await;
            return;
        }
        if kind != Some(2) && !dirs.is_empty() {
            io.line("+FSLS: SUBDIRECTORIES:").await;
            for d in dirs {
                io.line(&d).await;
            }
        }
        if kind != Some(1) && !files.is_empty() {
            io.line("+FSLS: FILES:").await;
            for f in files {
                io.line(&f).await;
            }
        }
        io.ok().await;
    }
}

/// An attachment's name as a file name of the module: the characters
/// SIMCom's file-system naming rules forbid (`\ / : * ? " < > | , ;`) and
/// controls become `_`.
fn file_name(name: &str) -> String {
    let name: String = name
        .chars()
        .map(|c| {
            if c.is_control() || "\\/:*?\"<>|,;".contains(c) {
                '_'
            } else {
                c
            }
        })
        .collect();
    if name.is_empty() { "_".into() } else { name }
}

fn smtp_result(e: &NetError) -> String {
    match e {
        NetError::Dns | NetError::Connect(_) | NetError::Tls(_) => "SERVER ERROR".into(),
        NetError::Auth => "AUTH ERROR".into(),
        NetError::Rejected(530, _) => "AUTH REQUIRED".into(),
        NetError::Rejected(550..=554, text) => {
            let addr = text.split(['<', '>']).nth(1).unwrap_or("").to_owned();
            format!("BAD RCPT {addr}").trim_end().to_owned()
        }
        NetError::Rejected(..) | NetError::Timeout => "SERVER ERROR".into(),
        NetError::Network(_) => "NETWORK ERROR".into(),
    }
}

fn pop3_result(e: &NetError) -> &'static str {
    match e {
        NetError::Auth => "INVALID UN/PWD",
        NetError::Dns | NetError::Connect(_) | NetError::Tls(_) | NetError::Network(_) => {
            "NETWORK ERROR"
        }
        NetError::Rejected(..) | NetError::Timeout => "SERVER ERROR",
    }
}

/// The lines of a message, un-stuffed, up to its POP3 terminator.
fn message_lines(data: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(data);
    let mut out = Vec::new();
    for line in text.split("\r\n") {
        if line == "." {
            break;
        }
        out.push(
            line.strip_prefix('.')
                .filter(|l| l.starts_with('.'))
                .unwrap_or(line)
                .to_owned(),
        );
    }
    out
}

/// Prints text the way the note prints every answer: each line framed
/// (`\r\nline\r\n`), a blank line as an empty framed line.
async fn print_lines(io: &mut Io, text: &[u8]) {
    let text = String::from_utf8_lossy(text);
    let text = text.strip_suffix("\r\n").unwrap_or(&text);
    for line in text.split("\r\n") {
        io.line(line).await;
    }
}

/// The header lines `AT+POP3HDR` prints (the server's `TOP n 0`).
fn header_text(data: &[u8]) -> Vec<u8> {
    let mut out = String::new();
    for line in message_lines(data) {
        if line.is_empty() {
            break;
        }
        out.push_str(&line);
        out.push_str("\r\n");
    }
    out.into_bytes()
}

/// What `AT+POP3GET` saves (§2: "save email's attachments into directory
/// C:/Email"; §4.4 `AT+POP3READ` prints Date, From, To, Subject and the
/// text): the mail's own Date/From/To/Cc/Subject lines, a blank line and its
/// first text part decoded; each attachment a file of the folder.
fn digest(data: &[u8]) -> (Vec<u8>, Vec<(String, Vec<u8>)>) {
    let lines = message_lines(data);
    let joined = lines.join("\r\n");
    let mut text = String::new();
    let mut keep = false;
    for line in &lines {
        if line.is_empty() {
            break;
        }
        if !line.starts_with([' ', '\t']) {
            let name = line
                .split(':')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            keep = matches!(name.as_str(), "date" | "from" | "to" | "cc" | "subject");
        }
        if keep {
            text.push_str(line);
            text.push_str("\r\n");
        }
    }
    text.push_str("\r\n");
    let mut files = Vec::new();
    if let Some(msg) = mail_parser::MessageParser::default().parse(joined.as_bytes()) {
        if let Some(body) = msg.body_text(0) {
            let body = body.replace("\r\n", "\n").replace('\n', "\r\n");
            text.push_str(&body);
            if !body.ends_with("\r\n") {
                text.push_str("\r\n");
            }
        }
        for (i, part) in msg.attachments().enumerate() {
            let name = part
                .attachment_name()
                .map(str::to_owned)
                .unwrap_or_else(|| format!("ATTACH{i:03}"));
            files.push((name, part.contents().to_vec()));
        }
    }
    (text.into_bytes(), files)
}

#[async_trait]
impl Behaviour for Sim5360 {
    fn ident(&self) -> [&'static str; 3] {
        ["SIMCOM INCORPORATED", "SIMCOM_SIM5360E", "SIM5360E_V1.5"]
    }

    fn reset(&mut self) {
        *self = Self::default();
    }

    async fn handle(&mut self, cmd: &AtCommand, io: &mut Io) -> Result<bool, Closed> {
        let arg = |i| cmd.arg(i).unwrap_or("").to_owned();
        match cmd.name.as_str() {
            // SIMCom's file-system chapter: `+FSLS: (list of supported <type>s)`.
            "+FSLS" if cmd.test => {
                io.line("+FSLS: (0-2)").await;
                io.ok().await;
            }
            _ if cmd.test => io.ok().await,
            "+CGSOCKCONT" if cmd.write => io.ok().await,
            "+FSLOCA" if cmd.write => match cmd.int(0) {
                Some(n @ 0..=1) => {
                    self.card = n == 1;
                    io.ok().await;
                }
                _ => io.error().await,
            },
            "+SMTPSRV" if cmd.write => {
                self.server = Some((
                    arg(0),
                    u16::try_from(cmd.int(1).unwrap_or(25)).unwrap_or(25),
                ));
                io.ok().await;
            }
            "+SMTPAUTH" if cmd.write => {
                self.login = (cmd.int(0) == Some(1)).then(|| (arg(1), arg(2)));
                io.ok().await;
            }
            "+SMTPFROM" if cmd.write => {
                self.from = Some((arg(0), cmd.arg(1).map(str::to_owned)));
                io.ok().await;
            }
            "+SMTPRCPT" if cmd.write => {
                if self.rcpt.apply(cmd) {
                    io.ok().await
                } else {
                    io.error().await
                }
            }
            "+SMTPSUB" if cmd.write => {
                self.subject = arg(0);
                io.ok().await;
            }
            "+SMTPBODY" if cmd.write => {
                self.body = arg(0);
                io.ok().await;
            }
            "+FSCD" if cmd.write => {
                self.folder = arg(0).trim_end_matches('/').to_owned();
                io.line(&format!("+FSCD: {}/", self.folder)).await;
                io.ok().await;
            }
            "+FSLS" => self.list(cmd, io).await,
            // SIMCom's file-system chapter: `+FSATTRI: <file_size>` (bytes).
            "+FSATTRI" if cmd.write => match io.file(&self.path_of(&arg(0))) {
                Some(bytes) => {
                    io.line(&format!("+FSATTRI: {}", bytes.len())).await;
                    io.ok().await;
                }
                None => io.error().await,
            },
            "+FSDEL" if cmd.write => {
                if io.remove(&self.path_of(&arg(0))) {
                    io.ok().await
                } else {
                    io.error().await
                }
            }
            // A folder with files in it is not removed.
            "+FSRMDIR" if cmd.write => {
                let dir = self.path_of(&arg(0));
                let inside = format!("{dir}/");
                let full = io
                    .files
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .keys()
                    .any(|k| k.starts_with(&inside));
                if !full && self.dirs.remove(&dir) {
                    io.ok().await
                } else {
                    io.error().await
                }
            }
            "+SMTPFILE" => {
                match (cmd.int(0), cmd.arg(1)) {
                    (None, _) => self.files.clear(),
                    (Some(i), None) => {
                        if let Some(slot) = self.files.get_mut((i as usize).saturating_sub(1)) {
                            *slot = None;
                        }
                    }
                    (Some(i), Some(name)) => {
                        // The manual (§2 AT+SMTPFILE) selects a file "from current
                        // directory": one that is not there cannot be selected. The manual
                        // prints no answer for that case; ERROR is the module's answer to any
                        // command it cannot carry out.
                        let path = format!("{}/{name}", self.folder);
                        if io.file(&path).is_none() {
                            io.error().await;
                            return Ok(true);
                        }
                        let i = (i as usize).max(1);
                        if self.files.len() < i {
                            self.files.resize(i, None);
                        }
                        self.files[i - 1] = Some(path);
                    }
                }
                io.ok().await;
            }
            "+SMTPSEND" => {
                io.line("+SMTP: OK").await;
                io.ok().await;
                let result = match (self.server.clone(), self.from.clone()) {
                    (Some((host, port)), Some(from)) => {
                        let people = |t: usize| self.rcpt.of(t);
                        let mut attachments = Vec::new();
                        let mut missing = false;
                        for path in self.files.iter().flatten() {
                            match io.file(path) {
                                Some(bytes) => attachments.push((
                                    path.rsplit('/').next().unwrap_or(path).to_owned(),
                                    bytes,
                                )),
                                // Deleted after it was selected: the module cannot build
                                // the mail, and never sends one without its attachment.
                                None => missing = true,
                            }
                        }
                        let mail = Outgoing {
                            host,
                            port,
                            security: Security::None,
                            trust: TlsTrust::default(),
                            login: self.login.clone(),
                            from,
                            to: people(0),
                            cc: people(1),
                            bcc: people(2),
                            subject: self.subject.clone(),
                            body: self.body.clone().into_bytes(),
                            charset: "us-ascii".into(),
                            attachments,
                            date: Some(io.clock.now()),
                        };
                        if missing {
                            "PARAM ERROR".to_owned()
                        } else {
                            let r = net::send_mail(&mail, &io.faults).await;
                            io.network_delay().await;
                            match r {
                                Ok(()) => "SUCCESS".to_owned(),
                                Err(e) => smtp_result(&e),
                            }
                        }
                    }
                    _ => "PARAM ERROR".to_owned(),
                };
                io.line(&format!("+SMTP: {result}")).await;
            }
            "+SMTPSTOP" => io.ok().await,
            "+POP3SRV" if cmd.write => {
                self.pop3_server = Some((
                    arg(0),
                    arg(1),
                    arg(2),
                    u16::try_from(cmd.int(3).unwrap_or(110)).unwrap_or(110),
                ));
                io.ok().await;
            }
            "+POP3IN" => {
                let Some((host, user, pass, port)) = self.pop3_server.clone() else {
                    io.line("+POP3: NETWORK ERROR").await;
                    io.ok().await;
                    return Ok(true);
                };
                let session = async {
                    let mut p =
                        Pop3::connect(&host, port, false, &TlsTrust::default(), &io.faults).await?;
                    p.login(&user, &pass).await?;
                    Ok::<_, NetError>(p)
                }
                .await;
                match session {
                    Ok(p) => {
                        self.pop3 = Some(p);
                        io.line("+POP3: SUCCESS").await;
                    }
                    Err(e) => io.line(&format!("+POP3: {}", pop3_result(&e))).await,
                }
                io.ok().await;
            }
            "+POP3NUM" | "+POP3LIST" | "+POP3HDR" | "+POP3DEL" | "+POP3GET" => {
                let Some(mut pop) = self.pop3.take() else {
                    io.line("+POP3: SERVER ERROR").await;
                    io.ok().await;
                    return Ok(true);
                };
                let n = cmd.int(0).unwrap_or(0);
                match cmd.name.as_str() {
                    "+POP3NUM" => match pop.stat().await {
                        Ok((c, s)) => io.line(&format!("+POP3: {c} {s}")).await,
                        Err(e) => io.line(&format!("+POP3: {}", pop3_result(&e))).await,
                    },
                    "+POP3LIST" => match pop.single(&format!("LIST {n}")).await {
                        Ok(f) => io.line(&format!("+POP3: {}", f.join(", "))).await,
                        Err(e) => io.line(&format!("+POP3: {}", pop3_result(&e))).await,
                    },
                    "+POP3HDR" => match pop.multi(&format!("TOP {n} 0")).await {
                        Ok(data) => print_lines(io, &header_text(&data)).await,
                        Err(e) => io.line(&format!("+POP3: {}", pop3_result(&e))).await,
                    },
                    "+POP3DEL" => match pop.simple(&format!("DELE {n}")).await {
                        Ok(()) => io.line("+POP3: SUCCESS").await,
                        Err(e) => io.line(&format!("+POP3: {}", pop3_result(&e))).await,
                    },
                    _ => {
                        io.ok().await;
                        match pop.multi(&format!("RETR {n}")).await {
                            Ok(data) => {
                                self.saved += 1;
                                let folder = format!(
                                    "{}/{:012}",
                                    self.email_root(),
                                    100_202_110_457u64 + u64::from(self.saved)
                                );
                                self.dirs.insert(folder.clone());
                                let (text, files) = digest(&data);
                                for (name, bytes) in files {
                                    io.store(&format!("{folder}/{}", file_name(&name)), bytes);
                                }
                                io.store(&format!("{folder}/EMAIL000.TXT"), text.clone());
                                self.last = Some(text);
                                io.line("+POP3: SUCCESS").await;
                                io.line(&format!("{folder}/, EMAIL000.TXT")).await;
                            }
                            Err(e) => io.line(&format!("+POP3: {}", pop3_result(&e))).await,
                        }
                        self.pop3 = Some(pop);
                        return Ok(true);
                    }
                }
                self.pop3 = Some(pop);
                io.ok().await;
            }
            "+POP3READ" => {
                let data = if cmd.write {
                    io.file(&format!("{}/{}", self.email_root(), arg(1)))
                } else {
                    self.last.clone()
                };
                if let Some(d) = data {
                    print_lines(io, &d).await;
                }
                io.ok().await;
            }
            "+POP3OUT" => {
                let result = match self.pop3.take() {
                    Some(p) => match p.quit().await {
                        Ok(()) => "SUCCESS",
                        Err(e) => pop3_result(&e),
                    },
                    None => "SUCCESS",
                };
                io.line(&format!("+POP3: {result}")).await;
                io.ok().await;
            }
            "+POP3STOP" => {
                self.pop3 = None;
                io.ok().await;
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}
