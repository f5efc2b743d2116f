//! A virtual SIMCom A7670E (A76XX Series AT Command Manual V1.09: chapter 32
//! SMTPS, with what it relies on from chapters 5, 12, 13, 15 and 19). Strict
//! where the manual is: ranges and lengths of §32 are checked and a value
//! outside them is answered `ERROR`; a command the manual does not list
//! (e.g. `AT+CSMTPSCLEAN=?`) is `ERROR` too.
//!
//! Where the manual is silent the module makes a choice, named here:
//! - the `>` prompt is sent as `\r\n> `;
//! - network failures map onto §32.3 as: DNS 601, connect 602, TLS 602,
//!   timeout 605, authentication 611, a server error reply 610, a broken
//!   exchange 606;
//! - `AT+CSMTPSCLEAN` clears everything but `AT+CSMTPSCFG`;
//! - the send needs a server and a sender (§32.2.2/§32.2.4 call them
//!   mandatory) and at least one recipient; without them it answers
//!   `+CSMTPSSEND: 608` and `ERROR` (§32.2.10 form (c)).

use async_trait::async_trait;

use crate::Behaviour;
use crate::engine::{AtCommand, Closed, Io, decode_text, unhex};
use crate::net::{self, NetError, Outgoing, Security, TlsTrust};

const STRING_MAX: usize = 127;
const NAME_MAX: usize = 63;
const SUBJECT_MAX: usize = 511;
const BODY_MAX: usize = 5120;
const CHARSET_MAX: usize = 19;
const ATTACHMENTS_TOTAL: usize = 10_000_000;
const PATH_MAX: usize = 115;

#[derive(Clone)]
struct SslCtx {
    version: i64,
    auth_mode: i64,
    ignore_local_time: i64,
    negotiate_time: i64,
    ca: String,
    client_cert: String,
    client_key: String,
    sni: i64,
}

impl Default for SslCtx {
    fn default() -> Self {
        Self {
            version: 4,
            auth_mode: 0,
            ignore_local_time: 1,
            negotiate_time: 300,
            ca: String::new(),
            client_cert: String::new(),
            client_key: String::new(),
            sni: 0,
        }
    }
}

struct Smtp {
    server: String,
    port: u16,
    server_type: i64,
    login: Option<(String, String)>,
    from: (String, String),
    rcpt: net::Recipients,
    subject: Vec<u8>,
    subject_charset: String,
    body: Vec<u8>,
    body_charset: String,
    files: Vec<Option<String>>,
}

impl Default for Smtp {
    fn default() -> Self {
        Self {
            server: String::new(),
            port: 465,
            server_type: 2,
            login: None,
            from: (String::new(), String::new()),
            rcpt: net::Recipients::default(),
            subject: Vec::new(),
            subject_charset: "utf-8".into(),
            body: Vec::new(),
            body_charset: "utf-8".into(),
            files: vec![None; 10],
        }
    }
}

pub(crate) struct A76xx {
    ssl_ctx_id: i64,
    pdp_ctx_id: i64,
    smtp: Smtp,
    ssl: Vec<SslCtx>,
    net_open: bool,
}

impl Default for A76xx {
    fn default() -> Self {
        Self {
            ssl_ctx_id: 0,
            pdp_ctx_id: 1,
            smtp: Smtp::default(),
            ssl: vec![SslCtx::default(); 10],
            net_open: false,
        }
    }
}

fn send_code(e: &NetError) -> u16 {
    match e {
        NetError::Dns => 601,
        NetError::Connect(_) | NetError::Tls(_) => 602,
        NetError::Timeout => 605,
        NetError::Auth => 611,
        NetError::Rejected(..) => 610,
        NetError::Network(_) => 606,
    }
}

/// A path as the module keys it: drive letter upper-case (`c:/t1.txt` is `C:/t1.txt`).
fn path_key(path: &str) -> Option<String> {
    let (drive, rest) = path.split_once(":/")?;
    let drive = drive.to_ascii_uppercase();
    (matches!(drive.as_str(), "C" | "D") && !rest.is_empty() && path.len() <= PATH_MAX)
        .then(|| format!("{drive}:/{rest}"))
}

/// A `{non-ascii}"<hex>"` name decoded, any other name as it is.
fn file_name(arg: &str) -> Option<String> {
    match arg.strip_prefix("{non-ascii}") {
        Some(hex) => String::from_utf8(unhex(hex.trim_matches('"'))?).ok(),
        None => Some(arg.to_owned()),
    }
}

fn len_ok(s: Option<&str>, max: usize, empty_ok: bool) -> bool {
    s.is_some_and(|s| s.len() <= max && (empty_ok || !s.is_empty()))
}

fn cert_key(name: &str) -> String {
    format!("cert:{name}")
}

impl A76xx {
    fn outgoing(&self, io: &Io) -> Result<Outgoing, u16> {
        let s = &self.smtp;
        let ctx = &self.ssl[usize::try_from(self.ssl_ctx_id).unwrap_or(0)];
        let ca_pem = if ctx.auth_mode == 1 || ctx.auth_mode == 2 {
            // Server verification without a CA cannot succeed.
            Some(io.file(&cert_key(&ctx.ca)).ok_or(602u16)?)
        } else {
            None
        };
        let person = |(a, n): (String, Option<String>)| (a, n.filter(|n| !n.is_empty()));
        let mut attachments = Vec::new();
        for f in s.files.iter().flatten() {
            let bytes = path_key(f).and_then(|k| io.file(&k)).ok_or(609u16)?;
            let name = f.rsplit('/').next().unwrap_or(f).to_owned();
            attachments.push((name, bytes));
        }
        Ok(Outgoing {
            host: s.server.clone(),
            port: s.port,
            security: match s.server_type {
                2 => Security::Implicit,
                3 => Security::StartTls,
                _ => Security::None,
            },
            trust: TlsTrust { ca_pem },
            login: s.login.clone(),
            from: person((s.from.0.clone(), Some(s.from.1.clone()))),
            to: s.rcpt.of(0).into_iter().map(person).collect(),
            cc: s.rcpt.of(1).into_iter().map(person).collect(),
            bcc: s.rcpt.of(2).into_iter().map(person).collect(),
            subject: decode_text(&s.subject, &s.subject_charset.to_ascii_lowercase()),
            body: s.body.clone(),
            charset: s.body_charset.to_ascii_lowercase(),
            attachments,
            date: Some(io.clock.now()),
        })
    }

    async fn send(&mut self, io: &mut Io) {
        let s = &self.smtp;
        let ready = !s.server.is_empty()
            && !s.from.0.is_empty()
            && (0..3).any(|k| !s.rcpt.of(k).is_empty());
        if !ready {
            io.line("+CSMTPSSEND: 608").await;
            io.error().await;
            return;
        }
        io.ok().await;
        let code = match self.outgoing(io) {
            Err(code) => code,
            Ok(_) if io.faults.snapshot().2 => 601,
            Ok(mail) => {
                let result = net::send_mail(&mail, &io.faults).await;
                io.network_delay().await;
                match result {
                    Ok(()) => 0,
                    Err(e) => {
                        tracing::info!(error = %e, "A76xx send failed");
                        send_code(&e)
                    }
                }
            }
        };
        io.line(&format!("+CSMTPSSEND: {code}")).await;
    }

    /// The test forms (§32.2.x "Test Command"); `None`: no test form.
    fn test_answer(name: &str) -> Option<Option<&'static str>> {
        Some(match name {
            "+CSMTPSCFG" | "+CSMTPSSRV" | "+CSMTPSFROM" | "+CSMTPSSUB" | "+CSMTPSBODY"
            | "+CSMTPSBCH" | "+CSMTPSSEND" | "+CSMTPSSTOP" => None,
            "+CSMTPSAUTH" => Some("+CSMTPSAUTH: (0,1)"),
            "+CSMTPSRCPT" => Some("+CSMTPSRCPT: (0-2),(0-4)"),
            "+CSMTPSFILE" => Some("+CSMTPSFILE: (1-10)"),
            "+CFTRANRX" => Some("+CFTRANRX: \"FILEPATH\""),
            "+CCERTDOWN" => Some("+CCERTDOWN: (5-108),(1-10240)"),
            "+CSSLCFG" => Some("+CSSLCFG: \"sslversion\",(0-9),(0-4)"),
            "+CGAUTH" => Some("+CGAUTH: (1-15),(0-3),50,50"),
            _ => return None,
        })
    }

    /// Reads `n` bytes after the `>` prompt.
    async fn prompt(io: &mut Io, n: usize) -> Result<Vec<u8>, Closed> {
        io.send(b"\r\n> ").await;
        io.read_exact(n).await
    }

    async fn ssl_cfg(&mut self, cmd: &AtCommand, io: &mut Io) {
        let ctx_of = |i: usize| {
            cmd.int(i)
                .and_then(|c| usize::try_from(c).ok())
                .filter(|c| *c <= 9)
        };
        // `AT+CSSLCFG=<ctx>`: the context's settings.
        if cmd.args.len() == 1 {
            let Some(i) = ctx_of(0) else {
                return io.error().await;
            };
            let c = &self.ssl[i];
            io.line(&format!(
                "+CSSLCFG: {i},{},{},{},{},\"{}\",\"{}\",\"{}\",\"\",{}",
                c.version,
                c.auth_mode,
                c.ignore_local_time,
                c.negotiate_time,
                c.ca,
                c.client_cert,
                c.client_key,
                c.sni
            ))
            .await;
            return io.ok().await;
        }
        let (Some(key), Some(i)) = (cmd.arg(0), ctx_of(1)) else {
            return io.error().await;
        };
        let int = cmd.int(2);
        let name = cmd.arg(2).filter(|n| (5..=108).contains(&n.len()));
        let c = &mut self.ssl[i];
        let ok = match (key.to_ascii_lowercase().as_str(), int, name) {
            ("sslversion", Some(v @ 0..=4), _) => {
                c.version = v;
                true
            }
            ("authmode", Some(v @ 0..=3), _) => {
                c.auth_mode = v;
                true
            }
            ("ignorelocaltime", Some(v @ 0..=1), _) => {
                c.ignore_local_time = v;
                true
            }
            ("negotiatetime", Some(v @ 10..=300), _) => {
                c.negotiate_time = v;
                true
            }
            ("enablesni", Some(v @ 0..=1), _) => {
                c.sni = v;
                true
            }
            ("cacert", _, Some(n)) => {
                c.ca = n.to_owned();
                true
            }
            ("clientcert", _, Some(n)) => {
                c.client_cert = n.to_owned();
                true
            }
            ("clientkey", _, Some(n)) => {
                c.client_key = n.to_owned();
                true
            }
            _ => false,
        };
        if ok { io.ok().await } else { io.error().await }
    }

    async fn file_commands(&mut self, cmd: &AtCommand, io: &mut Io) -> Result<bool, Closed> {
        match cmd.name.as_str() {
            "+CFTRANRX" if cmd.write => {
                let key = cmd.arg(0).and_then(path_key);
                let len = cmd.int(1).and_then(|n| usize::try_from(n).ok());
                match (key, len) {
                    // §13.2.1 note 1: the file must not exist.
                    (Some(k), Some(n)) if n > 0 && io.file(&k).is_none() => {
                        let data = Self::prompt(io, n).await?;
                        io.store(&k, data);
                        io.ok().await;
                    }
                    _ => io.error().await,
                }
            }
            "+FSATTRI" if cmd.write => {
                match cmd.arg(0).and_then(path_key).and_then(|k| io.file(&k)) {
                    Some(f) => {
                        io.line(&format!("+FSATTRI: {}", f.len())).await;
                        io.ok().await;
                    }
                    None => io.error().await,
                }
            }
            "+FSDEL" if cmd.write => match cmd.arg(0).and_then(path_key) {
                Some(k) if io.remove(&k) => io.ok().await,
                _ => io.error().await,
            },
            "+FSMEM" if !cmd.write => {
                io.line("+FSMEM: C:(11348480,2201600)").await;
                io.ok().await;
            }
            "+CCERTDOWN" if cmd.write => {
                let name = cmd.arg(0).filter(|n| {
                    (5..=108).contains(&n.len()) && (n.ends_with(".pem") || n.ends_with(".der"))
                });
                let len = cmd
                    .int(1)
                    .and_then(|n| usize::try_from(n).ok())
                    .filter(|n| (1..=10240).contains(n));
                match (name, len) {
                    (Some(name), Some(n)) => {
                        let key = cert_key(name);
                        let data = Self::prompt(io, n).await?;
                        io.store(&key, data);
                        io.ok().await;
                    }
                    _ => io.error().await,
                }
            }
            "+CCERTLIST" => {
                let mut names: Vec<String> = io
                    .files
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .keys()
                    .filter_map(|k| k.strip_prefix("cert:").map(str::to_owned))
                    .collect();
                names.sort();
                for n in names {
                    io.line(&format!("+CCERTLIST: \"{n}\"")).await;
                }
                io.ok().await;
            }
            "+CCERTDELE" if cmd.write => {
                if io.remove(&cert_key(cmd.arg(0).unwrap_or(""))) {
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

#[async_trait]
impl Behaviour for A76xx {
    fn ident(&self) -> [&'static str; 3] {
        ["SIMCOM INCORPORATED", "A7670E-LASE", "A7670M7_V1.11.1"]
    }

    fn reset(&mut self) {
        // Certificates and files stay: they are on the file system.
        *self = Self::default();
    }

    async fn handle(&mut self, cmd: &AtCommand, io: &mut Io) -> Result<bool, Closed> {
        let name = cmd.name.as_str();
        if cmd.test {
            match Self::test_answer(name) {
                Some(line) => {
                    if let Some(l) = line {
                        io.line(l).await;
                    }
                    io.ok().await;
                }
                None => io.error().await,
            }
            return Ok(true);
        }
        if self.file_commands(cmd, io).await? {
            return Ok(true);
        }
        let s = &mut self.smtp;
        match name {
            "+CSMTPSCFG" if !cmd.write && !cmd.read => {
                self.ssl_ctx_id = 0;
                self.pdp_ctx_id = 1;
                io.ok().await;
            }
            "+CSMTPSCFG" if cmd.write => {
                let (slot, range) = match cmd.arg(0) {
                    Some("sslCtxId") => (&mut self.ssl_ctx_id, 0..=9),
                    Some("pdpCtxId") => (&mut self.pdp_ctx_id, 1..=15),
                    _ => {
                        io.error().await;
                        return Ok(true);
                    }
                };
                match (cmd.args.len(), cmd.int(1)) {
                    (1, _) => {
                        let key = cmd.arg(0).unwrap_or("");
                        io.line(&format!("+CSMTPSCFG: \"{key}\",{slot}")).await;
                        io.ok().await;
                    }
                    (2, Some(v)) if range.contains(&v) => {
                        *slot = v;
                        io.ok().await;
                    }
                    _ => io.error().await,
                }
            }
            "+CSMTPSSRV" if cmd.read => {
                io.line(&format!(
                    "+CSMTPSSRV: \"{}\",{},{}",
                    s.server, s.port, s.server_type
                ))
                .await;
                io.ok().await;
            }
            "+CSMTPSSRV" if cmd.write => {
                let port = cmd
                    .int(1)
                    .and_then(|p| u16::try_from(p).ok())
                    .filter(|p| *p > 0);
                let kind = match cmd.arg(2) {
                    None => Some(s.server_type),
                    Some(_) => cmd.int(2).filter(|t| (1..=3).contains(t)),
                };
                match (len_ok(cmd.arg(0), STRING_MAX, false), port, kind) {
                    (true, Some(port), Some(kind)) if cmd.args.len() <= 3 => {
                        s.server = cmd.arg(0).unwrap_or("").to_owned();
                        s.port = port;
                        s.server_type = kind;
                        io.ok().await;
                    }
                    _ => io.error().await,
                }
            }
            "+CSMTPSSRV" => {
                s.server.clear();
                s.port = 465;
                io.ok().await;
            }
            "+CSMTPSAUTH" if cmd.read => {
                let (flag, user, pwd) = match &s.login {
                    Some((u, p)) => (1, u.as_str(), p.as_str()),
                    None => (0, "", ""),
                };
                io.line(&format!("+CSMTPSAUTH: {flag},\"{user}\",\"{pwd}\""))
                    .await;
                io.ok().await;
            }
            "+CSMTPSAUTH" if cmd.write => match (cmd.int(0), cmd.args.len()) {
                (Some(0), 1) => {
                    s.login = None;
                    io.ok().await;
                }
                (Some(1), 3)
                    if len_ok(cmd.arg(1), STRING_MAX, false)
                        && len_ok(cmd.arg(2), STRING_MAX, true) =>
                {
                    s.login = Some((
                        cmd.arg(1).unwrap_or("").to_owned(),
                        cmd.arg(2).unwrap_or("").to_owned(),
                    ));
                    io.ok().await;
                }
                _ => io.error().await,
            },
            "+CSMTPSAUTH" => {
                s.login = None;
                io.ok().await;
            }
            "+CSMTPSFROM" if cmd.read => {
                io.line(&format!("+CSMTPSFROM: \"{}\",\"{}\"", s.from.0, s.from.1))
                    .await;
                io.ok().await;
            }
            "+CSMTPSFROM" if cmd.write => {
                let name_ok = cmd.arg(1).is_none() || len_ok(cmd.arg(1), NAME_MAX, true);
                if len_ok(cmd.arg(0), STRING_MAX, false) && name_ok && cmd.args.len() <= 2 {
                    s.from = (
                        cmd.arg(0).unwrap_or("").to_owned(),
                        cmd.arg(1).unwrap_or("").to_owned(),
                    );
                    io.ok().await;
                } else {
                    io.error().await;
                }
            }
            "+CSMTPSFROM" => {
                s.from = (String::new(), String::new());
                io.ok().await;
            }
            "+CSMTPSRCPT" if cmd.read => {
                for k in 0..3 {
                    for (i, (a, n)) in s.rcpt.slots(k) {
                        let n = n.unwrap_or_default();
                        io.line(&format!("+CSMTPSRCPT: {k},{i},\"{a}\",\"{n}\""))
                            .await;
                    }
                }
                io.ok().await;
            }
            "+CSMTPSRCPT" if cmd.write => {
                let kind_ok = cmd.int(0).is_some_and(|k| (0..=2).contains(&k));
                let index_ok =
                    cmd.arg(1).is_none() || cmd.int(1).is_some_and(|i| (0..=4).contains(&i));
                let addr_ok = cmd.arg(2).is_none() || len_ok(cmd.arg(2), STRING_MAX, false);
                let name_ok = cmd.arg(3).is_none() || len_ok(cmd.arg(3), NAME_MAX, true);
                if kind_ok && index_ok && addr_ok && name_ok && s.rcpt.apply(cmd) {
                    io.ok().await
                } else {
                    io.error().await
                }
            }
            "+CSMTPSRCPT" => {
                s.rcpt = net::Recipients::default();
                io.ok().await;
            }
            "+CSMTPSSUB" if cmd.read => {
                io.line(&format!(
                    "+CSMTPSSUB: {},\"{}\"",
                    s.subject.len(),
                    s.subject_charset
                ))
                .await;
                if !s.subject.is_empty() {
                    let mut out = s.subject.clone();
                    out.extend_from_slice(b"\r\nOK\r\n");
                    io.send(&out).await;
                } else {
                    io.ok().await;
                }
            }
            "+CSMTPSSUB" if cmd.write => {
                let len = cmd
                    .int(0)
                    .and_then(|n| usize::try_from(n).ok())
                    .filter(|n| (1..=SUBJECT_MAX).contains(n));
                let cs_ok = cmd.arg(1).is_none() || len_ok(cmd.arg(1), CHARSET_MAX, false);
                match len {
                    Some(n) if cs_ok => {
                        let data = Self::prompt(io, n).await?;
                        let s = &mut self.smtp;
                        s.subject = data;
                        s.subject_charset = cmd.arg(1).unwrap_or("utf-8").to_owned();
                        io.ok().await;
                    }
                    _ => io.error().await,
                }
            }
            "+CSMTPSSUB" => {
                s.subject.clear();
                io.ok().await;
            }
            "+CSMTPSBODY" if cmd.read => {
                io.line(&format!("+CSMTPSBODY: {}", s.body.len())).await;
                let mut out = s.body.clone();
                if !out.is_empty() {
                    out.extend_from_slice(b"\r\n");
                }
                out.extend_from_slice(b"OK\r\n");
                io.send(&out).await;
            }
            "+CSMTPSBODY" if cmd.write => match cmd.int(0).and_then(|n| usize::try_from(n).ok()) {
                Some(n) if (1..=BODY_MAX).contains(&n) => {
                    let data = Self::prompt(io, n).await?;
                    self.smtp.body = data;
                    io.ok().await;
                }
                _ => io.error().await,
            },
            "+CSMTPSBODY" => {
                s.body.clear();
                io.ok().await;
            }
            "+CSMTPSBCH" if cmd.read => {
                io.line(&format!("+CSMTPSBCH: \"{}\"", s.body_charset))
                    .await;
                io.ok().await;
            }
            "+CSMTPSBCH" if cmd.write => {
                if len_ok(cmd.arg(0), CHARSET_MAX, false) {
                    s.body_charset = cmd.arg(0).unwrap_or("").to_owned();
                    io.ok().await
                } else {
                    io.error().await
                }
            }
            "+CSMTPSBCH" => {
                s.body_charset = "utf-8".into();
                io.ok().await;
            }
            "+CSMTPSFILE" if cmd.read => {
                for (i, f) in s.files.iter().enumerate() {
                    if let Some(f) = f {
                        io.line(&format!("+CSMTPSFILE: {},\"{f}\"", i + 1)).await;
                    }
                }
                io.ok().await;
            }
            "+CSMTPSFILE" if cmd.write => {
                let Some(slot) = cmd
                    .int(0)
                    .and_then(|i| usize::try_from(i).ok())
                    .filter(|i| (1..=10).contains(i))
                else {
                    {
                        io.error().await;
                        return Ok(true);
                    };
                };
                let Some(name) = cmd.arg(1) else {
                    s.files[slot - 1] = None;
                    io.ok().await;
                    return Ok(true);
                };
                let name = file_name(name);
                let base = |p: &str| p.rsplit('/').next().unwrap_or(p).to_owned();
                let code = match name.as_deref().and_then(path_key) {
                    None => Some(608),
                    Some(k) => match io.file(&k) {
                        None => Some(609),
                        Some(_)
                            if s.files.iter().enumerate().any(|(i, f)| {
                                i != slot - 1 && f.as_deref().map(base) == Some(base(&k))
                            }) =>
                        {
                            Some(604)
                        }
                        Some(bytes) => {
                            let others: usize = s
                                .files
                                .iter()
                                .enumerate()
                                .filter(|(i, _)| *i != slot - 1)
                                .filter_map(|(_, f)| f.as_deref().and_then(path_key))
                                .filter_map(|k| io.file(&k))
                                .map(|b| b.len())
                                .sum();
                            if others + bytes.len() > ATTACHMENTS_TOTAL {
                                Some(603)
                            } else {
                                s.files[slot - 1] = Some(k);
                                None
                            }
                        }
                    },
                };
                match code {
                    None => io.ok().await,
                    Some(c) => {
                        io.line(&format!("+CSMTPS: {c}")).await;
                        io.error().await;
                    }
                }
            }
            "+CSMTPSFILE" => {
                s.files = vec![None; 10];
                io.ok().await;
            }
            "+CSMTPSSEND" if !cmd.write && !cmd.read => self.send(io).await,
            // Sends complete before the next command is read: none is ever
            // under way when AT+CSMTPSSTOP arrives.
            "+CSMTPSSTOP" if !cmd.write && !cmd.read => io.error().await,
            "+CSMTPSCLEAN" if !cmd.write && !cmd.read => {
                self.smtp = Smtp::default();
                io.ok().await;
            }
            "+NETOPEN" if !cmd.write && !cmd.read => {
                if self.net_open {
                    io.line("+IPERROR: Network is already opened").await;
                    io.error().await;
                } else if io.faults.snapshot().2 {
                    io.ok().await;
                    io.line("+NETOPEN: 1").await;
                } else {
                    self.net_open = true;
                    io.ok().await;
                    io.line("+NETOPEN: 0").await;
                }
            }
            "+CGAUTH" if cmd.write => {
                let ok = cmd.int(0).is_some_and(|c| (1..=15).contains(&c))
                    && cmd.int(1).is_some_and(|t| (0..=3).contains(&t))
                    && (cmd.arg(2).is_none() || len_ok(cmd.arg(2), 50, true))
                    && (cmd.arg(3).is_none() || len_ok(cmd.arg(3), 50, true));
                if ok { io.ok().await } else { io.error().await }
            }
            "+CEREG" if cmd.read => {
                let stat = if io.faults.snapshot().2 { 2 } else { 1 };
                io.line(&format!("+CEREG: 0,{stat}")).await;
                io.ok().await;
            }
            "+CSSLCFG" if cmd.write => self.ssl_cfg(cmd, io).await,
            _ => return Ok(false),
        }
        Ok(true)
    }
}
