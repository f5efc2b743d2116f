//! A virtual Quectel M95 (GSM SMTP AT commands V1.1, SMTPS note V3.1).

use std::collections::HashMap;

use async_trait::async_trait;

use crate::Behaviour;
use crate::engine::{AtCommand, Closed, Io, decode_text, unhex};
use crate::net::{self, NetError, Outgoing, Security, TlsTrust};

#[derive(Default)]
pub(crate) struct Quectel {
    user: String,
    password: String,
    auth: bool,
    auth_set: bool,
    address: String,
    name: String,
    server: Option<(String, u16)>,
    /// (type 1-3, address)
    recipients: Vec<(i64, String)>,
    subject: Vec<u8>,
    charset: i64,
    body: Vec<u8>,
    attachments: Vec<(String, Vec<u8>)>,
    ssl: HashMap<String, String>,
    bearer_up: bool,
}

/// What the virtual module's `RAM:` files hold at most (no manual gives a
/// module's RAM): 1 MiB.
pub(crate) const RAM_BYTES: u64 = 1024 * 1024;

/// The manual's `<err>` for a network failure.
fn put_code(e: &NetError) -> i32 {
    match e {
        NetError::Dns => -4,
        NetError::Connect(_) | NetError::Tls(_) => -5,
        NetError::Network(_) => -7,
        NetError::Timeout => -9,
        NetError::Auth => -535,
        NetError::Rejected(code, _) => -i32::from(*code),
    }
}

/// The checksum `AT+QFUPL` reports: XOR of 16-bit big-endian words.
fn checksum(data: &[u8]) -> String {
    let sum = data.chunks(2).fold(0u16, |acc, w| {
        acc ^ (u16::from(w[0]) << 8 | u16::from(w.get(1).copied().unwrap_or(0)))
    });
    format!("{sum:x}")
}

/// `RAM:x` as written; `/UFS/x` and `UFS:x` name the same file.
fn fs_key(path: &str) -> String {
    if let Some(rest) = path.strip_prefix("/UFS/") {
        return format!("UFS:{rest}");
    }
    if let Some(rest) = path.strip_prefix("/SD/") {
        return format!("SD:{rest}");
    }
    if let Some(rest) = path.strip_prefix("/RAM/") {
        return format!("RAM:{rest}");
    }
    path.to_owned()
}

fn is_module_file(path: &str) -> bool {
    ["RAM:", "UFS:", "SD:", "/UFS/", "/SD/", "/RAM/"]
        .iter()
        .any(|p| path.starts_with(p))
}

impl Quectel {
    fn text(&self, bytes: &[u8]) -> Vec<u8> {
        if self.charset == 0 {
            bytes.to_vec()
        } else {
            unhex(&String::from_utf8_lossy(bytes)).unwrap_or_default()
        }
    }

    async fn send(&mut self, io: &mut Io) -> i32 {
        let Some((host, port)) = self.server.clone() else {
            return -15;
        };
        if self.recipients.is_empty() {
            return -10;
        }
        if !self.bearer_up || io.faults.snapshot().2 {
            return -8;
        }
        let ssl = |k: &str| self.ssl.get(k).cloned().unwrap_or_default();
        let security = match ssl("smtpstyle").as_str() {
            "1" => Security::Implicit,
            "2" => Security::StartTls,
            _ => Security::None,
        };
        let ctx = ssl("smtpsctxi");
        let ca_pem = match ssl(&format!("seclevel/{ctx}")).as_str() {
            "1" | "2" => match io.file(&fs_key(&ssl(&format!("cacert/{ctx}")))) {
                Some(pem) => Some(pem),
                None => return -5,
            },
            _ => None,
        };
        let charset = ["us-ascii", "utf-8", "gb2312", "big5"]
            [usize::try_from(self.charset.clamp(0, 3)).unwrap_or(0)];
        let people = |t: i64| {
            self.recipients
                .iter()
                .filter(|(k, _)| *k == t)
                .map(|(_, a)| (a.clone(), None))
                .collect()
        };
        let mail = Outgoing {
            host,
            port,
            security,
            trust: TlsTrust { ca_pem },
            login: (self.auth || !self.auth_set)
                .then(|| (self.user.clone(), self.password.clone()))
                .filter(|(u, _)| !u.is_empty()),
            from: (self.address.clone(), Some(self.name.clone())),
            to: people(1),
            cc: people(2),
            bcc: people(3),
            subject: decode_text(&self.text(&self.subject), charset),
            body: self.body.clone(),
            charset: charset.into(),
            attachments: self.attachments.clone(),
            date: Some(io.clock.now()),
        };
        let result = net::send_mail(&mail, &io.faults).await;
        io.network_delay().await;
        match result {
            Ok(()) => 0,
            Err(e) => {
                tracing::info!(error = %e, "Quectel send failed");
                if std::env::var_os("CELLMAIL_SIM_DEBUG").is_some() {
                    eprintln!("quectel sim: send failed: {e}");
                }
                put_code(&e)
            }
        }
    }
}

#[async_trait]
impl Behaviour for Quectel {
    fn ident(&self) -> [&'static str; 3] {
        ["Quectel", "M95", "M95FAR02A08"]
    }

    fn reset(&mut self) {
        *self = Self::default();
    }

    async fn notice_faults(&mut self, io: &mut Io) {
        // The network released the context: Quectel says `+PDP DEACT`.
        if self.bearer_up && io.faults.snapshot().2 {
            self.bearer_up = false;
            io.line("+PDP DEACT").await;
        }
    }

    async fn handle(&mut self, cmd: &AtCommand, io: &mut Io) -> Result<bool, Closed> {
        let arg = |i| cmd.arg(i).unwrap_or("").to_owned();
        match cmd.name.as_str() {
            _ if cmd.test => io.ok().await,
            "+QSMTPUSER" if cmd.write => {
                self.user = arg(0);
                io.ok().await;
            }
            "+QSMTPPWD" if cmd.write => {
                self.password = arg(0);
                io.ok().await;
            }
            "+QSMTPPWD" if cmd.read => {
                io.line("+QSMTPPWD: \"******\"").await;
                io.ok().await;
            }
            "+QSMTPADDR" if cmd.write => {
                self.address = arg(0);
                io.ok().await;
            }
            "+QSMTPNAME" if cmd.write => {
                self.name = arg(0);
                io.ok().await;
            }
            "+QSMTPSRV" if cmd.write => {
                self.server = Some((
                    arg(0),
                    u16::try_from(cmd.int(1).unwrap_or(25)).unwrap_or(25),
                ));
                io.ok().await;
            }
            "+QSMTPSRV" if cmd.read => {
                let (h, p) = self.server.clone().unwrap_or_default();
                io.line(&format!("+QSMTPSRV: \"{h}\",{p}")).await;
                io.ok().await;
            }
            "+QSMTPDST" if cmd.write => {
                io.ok().await;
                let result = match (cmd.int(0), cmd.int(1), cmd.arg(2)) {
                    (Some(1), Some(t @ 1..=3), Some(a)) if self.recipients.len() < 20 => {
                        self.recipients.push((t, a.to_owned()));
                        0
                    }
                    (Some(1), ..) => -15,
                    (Some(0), Some(t), Some(a)) => {
                        self.recipients.retain(|(k, x)| !(*k == t && x == a));
                        0
                    }
                    (Some(0), Some(t), None) => {
                        self.recipients.retain(|(k, _)| *k != t);
                        0
                    }
                    (Some(0), None, _) => {
                        self.recipients.clear();
                        0
                    }
                    _ => -15,
                };
                io.line(&format!("+QSMTPDST: {result}")).await;
            }
            "+QSMTPDST" if cmd.read => {
                for (t, a) in self.recipients.clone() {
                    io.line(&format!("+QSMTPDST: {t},\"{a}\"")).await;
                }
                io.ok().await;
            }
            "+QSMTPSUB" if cmd.write => {
                self.charset = cmd.int(0).unwrap_or(0);
                self.subject = arg(1).into_bytes();
                io.ok().await;
            }
            "+QSMTPBODY" if cmd.write => {
                self.charset = cmd.int(0).unwrap_or(self.charset);
                io.ok().await;
                io.line("CONNECT").await;
                let body = io.read_until_escape(10 * 1024).await?;
                let len = body.len();
                self.body = body;
                io.line(&format!("+QSMTPBODY: {len}")).await;
            }
            "+QSMTPATT" if cmd.write => {
                let name = arg(0);
                io.ok().await;
                if is_module_file(&name) {
                    let result = match io.file(&fs_key(&name)) {
                        Some(bytes) if self.attachments.len() < 10 => {
                            let len = bytes.len();
                            let short = name.rsplit(['/', ':']).next().unwrap_or(&name).to_owned();
                            self.attachments.push((short, bytes));
                            len as i64
                        }
                        Some(_) => -13,
                        None => -12,
                    };
                    io.line(&format!("+QSMTPATT: {result}")).await;
                } else {
                    io.line("CONNECT").await;
                    let max = usize::try_from(cmd.int(1).unwrap_or(102_400)).unwrap_or(102_400);
                    let data = io.read_until_escape(max).await?;
                    let len = data.len();
                    self.attachments.push((name, data));
                    io.line(&format!("+QSMTPATT: {len}")).await;
                }
            }
            "+QSMTPATT" if cmd.read => {
                for (i, (n, b)) in self.attachments.clone().iter().enumerate() {
                    io.line(&format!("+QSMTPATT: {},\"{n}\",{}", i + 1, b.len()))
                        .await;
                }
                io.ok().await;
            }
            "+QSMTPDATT" => {
                io.ok().await;
                match cmd.int(0) {
                    Some(i) if i >= 1 && (i as usize) <= self.attachments.len() => {
                        self.attachments.remove(i as usize - 1);
                    }
                    Some(_) => {
                        io.line("+QSMTPDATT: -15").await;
                        return Ok(true);
                    }
                    None => self.attachments.clear(),
                }
                io.line("+QSMTPDATT: 0").await;
            }
            "+QSMTPCLR" => {
                let (ssl, bearer) = (std::mem::take(&mut self.ssl), self.bearer_up);
                *self = Self {
                    ssl,
                    bearer_up: bearer,
                    ..Self::default()
                };
                io.ok().await;
            }
            "+QSMTPCFG" if cmd.write => {
                match cmd.int(1) {
                    Some(v) => {
                        self.auth = v == 1;
                        self.auth_set = true;
                    }
                    None => {
                        io.line(&format!(
                            "+QSMTPCFG: {}",
                            i32::from(self.auth || !self.auth_set)
                        ))
                        .await
                    }
                }
                io.ok().await;
            }
            "+QSMTPPUT" => {
                io.ok().await;
                let code = self.send(io).await;
                io.line(&format!("+QSMTPPUT: {code}")).await;
            }
            "+QSSLCFG" if cmd.write => {
                let key = arg(0);
                let with_ctx = matches!(
                    key.as_str(),
                    "sslversion"
                        | "ciphersuite"
                        | "seclevel"
                        | "cacert"
                        | "clientcert"
                        | "clientkey"
                );
                let (k, value) = if with_ctx {
                    (format!("{key}/{}", arg(1)), cmd.arg(2))
                } else {
                    (key.clone(), cmd.arg(1))
                };
                match value {
                    Some(v) => {
                        self.ssl.insert(k, v.to_owned());
                    }
                    None => {
                        let v = self.ssl.get(&k).cloned().unwrap_or_else(|| "0".into());
                        io.line(&format!("+QSSLCFG: \"{key}\",{v}")).await;
                    }
                }
                io.ok().await;
            }
            "+QIFGCNT" | "+QICSGP" | "+QIREGAPP" => io.ok().await,
            "+QIACT" => {
                if io.faults.snapshot().2 {
                    io.error().await;
                } else {
                    self.bearer_up = true;
                    io.ok().await;
                }
            }
            "+QILOCIP" => {
                if self.bearer_up {
                    io.line("10.1.83.188").await;
                } else {
                    io.error().await;
                }
            }
            "+QIDEACT" => {
                self.bearer_up = false;
                io.line("DEACT OK").await;
            }
            "+QFUPL" if cmd.write => {
                let path = fs_key(&arg(0));
                let max = usize::try_from(cmd.int(1).unwrap_or(10_240)).unwrap_or(10_240);
                // Not in the manuals here (they point to GSM_FILE_ATC): an
                // existing name is refused, and RAM holds `RAM_BYTES` in all,
                // this virtual module's own figure. The stricter reading, so
                // a mailer that does not delete first, or overfills RAM,
                // fails here as it may on a module.
                let full =
                    path.starts_with("RAM:") && io.bytes_under("RAM:") + max as u64 > RAM_BYTES;
                if io.file(&path).is_some() || full {
                    io.error().await;
                    return Ok(true);
                }
                io.line("CONNECT").await;
                // §3.1-§3.3: at the declared size the upload ends at once;
                // a shorter one by `+++`.
                let data = io.read_sized(max).await?;
                io.line(&format!("+QFUPL: {},{}", data.len(), checksum(&data)))
                    .await;
                io.store(&path, data);
                io.ok().await;
            }
            "+QFDEL" if cmd.write => {
                if io.remove(&fs_key(&arg(0))) {
                    io.ok().await
                } else {
                    io.error().await
                }
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}
