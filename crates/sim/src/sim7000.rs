//! A virtual SIMCom SIM7000G (SIM7000 e-mail application note).

use async_trait::async_trait;

use crate::Behaviour;
use crate::engine::{AtCommand, Closed, Io, decode_text, unhex};
use crate::net::{self, NetError, Outgoing, Pop3, Security, TlsTrust};

/// The chunk the module grants per `AT+SMTPFT` (the manual's example).
const GRANT: usize = 1360;

#[derive(Default)]
pub(crate) struct Sim7000 {
    charset: String,
    server: Option<(String, u16)>,
    login: Option<(String, String)>,
    from: Option<(String, Option<String>)>,
    /// Recipients by type (0 To, 1 Cc, 2 Bcc) and index.
    rcpt: net::Recipients,
    subject: Vec<u8>,
    body: Vec<u8>,
    file: Option<String>,
    attachment: Vec<u8>,
    sending: bool,
    pop3_server: Option<(String, String, String, u16)>,
    pop3: Option<Pop3>,
    unread: Vec<u8>,
    /// The bearer of profile 1 (`AT+SAPBR=1,1`): closed at boot, like the
    /// module's (§4.1 opens it before any e-mail command).
    bearer: bool,
}

fn send_code(e: &NetError) -> u8 {
    match e {
        NetError::Dns => 62,
        NetError::Connect(_) => 63,
        NetError::Timeout => 64,
        NetError::Auth => 67,
        NetError::Rejected(530, _) => 66,
        NetError::Rejected(550..=554, _) => 68,
        NetError::Rejected(..) | NetError::Tls(_) => 65,
        NetError::Network(_) => 61,
    }
}

fn pop3_code(e: &NetError) -> u8 {
    match e {
        NetError::Dns => 62,
        NetError::Connect(_) => 63,
        NetError::Timeout => 64,
        NetError::Auth => 68,
        NetError::Rejected(..) | NetError::Tls(_) => 65,
        NetError::Network(_) => 61,
    }
}

impl Sim7000 {
    fn text(&self, bytes: &[u8]) -> Vec<u8> {
        if self.charset.is_empty() || self.charset.eq_ignore_ascii_case("ASCII") {
            bytes.to_vec()
        } else {
            unhex(&String::from_utf8_lossy(bytes)).unwrap_or_default()
        }
    }

    fn outgoing(&self, io: &Io) -> Option<Outgoing> {
        let (host, port) = self.server.clone()?;
        let people = |t: usize| self.rcpt.of(t);
        let charset = if self.charset.is_empty() {
            "us-ascii".to_owned()
        } else {
            self.charset.to_ascii_lowercase()
        };
        Some(Outgoing {
            host,
            port,
            security: Security::None,
            trust: TlsTrust::default(),
            login: self.login.clone(),
            from: self.from.clone()?,
            to: people(0),
            cc: people(1),
            bcc: people(2),
            subject: decode_text(&self.text(&self.subject), &charset),
            body: self.text(&self.body),
            charset: if charset == "ascii" {
                "us-ascii".into()
            } else {
                charset
            },
            attachments: self
                .file
                .clone()
                .map(|n| vec![(n, self.attachment.clone())])
                .unwrap_or_default(),
            date: Some(io.clock.now()),
        })
    }

    async fn deliver(&mut self, io: &mut Io) {
        self.sending = false;
        let code = match self.outgoing(io) {
            // No bearer, no TCP: a network error (§3.2.10 code 61).
            Some(_) if !self.bearer => 61,
            Some(mail) => {
                let result = net::send_mail(&mail, &io.faults).await;
                io.network_delay().await;
                match result {
                    Ok(()) => 1,
                    Err(e) => {
                        tracing::info!(error = %e, "SIM7000 send failed");
                        send_code(&e)
                    }
                }
            }
            None => 61,
        };
        io.line(&format!("+SMTPSEND: {code}")).await;
    }

    /// Runs a POP3 step; a failure ends the session with `+POP3OUT: <code>`.
    async fn pop3_fail(&mut self, io: &mut Io, e: &NetError) {
        self.pop3 = None;
        io.line(&format!("+POP3OUT: {}", pop3_code(e))).await;
    }
}

#[async_trait]
impl Behaviour for Sim7000 {
    fn ident(&self) -> [&'static str; 3] {
        ["SIMCOM_Ltd", "SIM7000G", "1529B08SIM7000G"]
    }

    fn reset(&mut self) {
        *self = Self::default();
    }

    async fn notice_faults(&mut self, io: &mut Io) {
        // The network released the bearer (§4: `+SAPBR 1: DEACT`).
        if self.bearer && io.faults.snapshot().2 {
            self.bearer = false;
            io.line("+SAPBR 1: DEACT").await;
        }
    }

    async fn handle(&mut self, cmd: &AtCommand, io: &mut Io) -> Result<bool, Closed> {
        let name = cmd.name.as_str();
        if cmd.test {
            io.ok().await;
            return Ok(true);
        }
        match name {
            "+EMAILCID" | "+EMAILTO" | "+CNTPCID" if cmd.write => io.ok().await,
            "+SAPBR" => match cmd.int(0) {
                Some(2) => {
                    io.line(if self.bearer {
                        "+SAPBR: 1,1,\"10.89.193.1\""
                    } else {
                        "+SAPBR: 1,3,\"0.0.0.0\""
                    })
                    .await;
                    io.ok().await;
                }
                // Opening an open bearer, or with no network, is refused.
                Some(1) if self.bearer || io.faults.snapshot().2 => io.error().await,
                Some(1) => {
                    self.bearer = true;
                    io.ok().await;
                }
                Some(0) => {
                    self.bearer = false;
                    io.ok().await;
                }
                _ => io.ok().await,
            },
            "+CNTP" if cmd.write => io.ok().await,
            "+CNTP" => {
                io.ok().await;
                let now = io.clock.show();
                io.line(&format!("+CNTP: 1,\"{now}\"")).await;
            }
            "+SMTPCS" if cmd.write => {
                self.charset = cmd.arg(0).unwrap_or("ASCII").to_owned();
                io.ok().await;
            }
            "+SMTPSRV" if cmd.write => {
                self.server = Some((
                    cmd.arg(0).unwrap_or("").to_owned(),
                    cmd.int(1).unwrap_or(25) as u16,
                ));
                io.ok().await;
            }
            "+SMTPAUTH" if cmd.write => {
                self.login = match cmd.int(0) {
                    Some(1) => Some((
                        cmd.arg(1).unwrap_or("").to_owned(),
                        cmd.arg(2).unwrap_or("").to_owned(),
                    )),
                    _ => None,
                };
                io.ok().await;
            }
            "+SMTPFROM" if cmd.write => {
                self.from = Some((
                    cmd.arg(0).unwrap_or("").to_owned(),
                    cmd.arg(1).map(str::to_owned),
                ));
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
                self.subject = cmd.arg(0).unwrap_or("").as_bytes().to_vec();
                io.ok().await;
            }
            "+SMTPBODY" if cmd.write => {
                let len = usize::try_from(cmd.int(0).unwrap_or(0)).unwrap_or(0);
                io.line("DOWNLOAD").await;
                self.body = io.read_exact(len).await?;
                io.ok().await;
            }
            "+SMTPFILE" if cmd.write => {
                self.file = match cmd.int(0) {
                    Some(1 | 2) => cmd.arg(1).map(str::to_owned),
                    _ => None,
                };
                io.ok().await;
            }
            "+SMTPSEND" => {
                io.ok().await;
                if self.file.is_some() {
                    self.sending = true;
                    self.attachment.clear();
                    io.line(&format!("+SMTPFT: 1,{GRANT}")).await;
                } else {
                    self.deliver(io).await;
                }
            }
            "+SMTPFT" if cmd.write && self.sending => {
                let want = usize::try_from(cmd.int(0).unwrap_or(0)).unwrap_or(0);
                if want == 0 {
                    io.ok().await;
                    self.deliver(io).await;
                } else {
                    let n = want.min(GRANT);
                    io.line(&format!("+SMTPFT: 2,{n}")).await;
                    let data = io.read_exact(n).await?;
                    self.attachment.extend_from_slice(&data);
                    io.ok().await;
                    io.line(&format!("+SMTPFT: 1,{GRANT}")).await;
                }
            }
            "+POP3SRV" if cmd.write => {
                self.pop3_server = Some((
                    cmd.arg(0).unwrap_or("").to_owned(),
                    cmd.arg(1).unwrap_or("").to_owned(),
                    cmd.arg(2).unwrap_or("").to_owned(),
                    cmd.int(3).unwrap_or(110) as u16,
                ));
                io.ok().await;
            }
            "+POP3IN" => {
                io.ok().await;
                let Some((host, user, pass, port)) = self.pop3_server.clone() else {
                    io.line("+POP3IN: 65").await;
                    return Ok(true);
                };
                if !self.bearer {
                    io.line("+POP3IN: 61").await;
                    return Ok(true);
                }
                let session = async {
                    let mut p =
                        Pop3::connect(&host, port, false, &TlsTrust::default(), &io.faults).await?;
                    p.login(&user, &pass).await?;
                    Ok::<_, NetError>(p)
                }
                .await;
                io.network_delay().await;
                match session {
                    Ok(p) => {
                        self.pop3 = Some(p);
                        io.line("+POP3IN: 1").await;
                    }
                    Err(e) => io.line(&format!("+POP3IN: {}", pop3_code(&e))).await,
                }
            }
            "+POP3NUM" | "+POP3LIST" | "+POP3UIDL" | "+POP3CMD" | "+POP3DEL" | "+POP3RSET" => {
                io.ok().await;
                let Some(mut pop) = self.pop3.take() else {
                    io.line("+POP3OUT: 61").await;
                    return Ok(true);
                };
                let n = cmd.int(0).unwrap_or(0);
                let answer: Result<String, NetError> = match name {
                    "+POP3NUM" => pop
                        .stat()
                        .await
                        .map(|(c, s)| format!("+POP3NUM: 1,{c},{s}")),
                    "+POP3LIST" => pop
                        .single(&format!("LIST {n}"))
                        .await
                        .map(|f| format!("+POP3LIST: 1,{}", f.join(","))),
                    "+POP3UIDL" => pop
                        .single(&format!("UIDL {n}"))
                        .await
                        .map(|f| format!("+POP3UIDL: 1,{}", f.join(","))),
                    "+POP3DEL" => pop
                        .simple(&format!("DELE {n}"))
                        .await
                        .map(|()| "+POP3DEL: 1".into()),
                    "+POP3RSET" => pop.simple("RSET").await.map(|()| "+POP3RSET: 1".into()),
                    _ => {
                        let request = match (n, cmd.int(1), cmd.int(2)) {
                            (1, _, _) => "LIST".to_owned(),
                            (2, _, _) => "UIDL".to_owned(),
                            (3, Some(m), Some(l)) => format!("TOP {m} {l}"),
                            (4, Some(m), _) => format!("RETR {m}"),
                            _ => String::new(),
                        };
                        match pop.multi(&request).await {
                            Ok(data) => {
                                self.unread = data;
                                Ok("+POP3CMD: 1".into())
                            }
                            Err(NetError::Rejected(..)) => Ok("+POP3CMD: 0".into()),
                            Err(e) => Err(e),
                        }
                    }
                };
                match answer {
                    Ok(line) => {
                        self.pop3 = Some(pop);
                        io.line(&line).await;
                    }
                    Err(NetError::Rejected(..)) => {
                        self.pop3 = Some(pop);
                        io.line(&format!("{}: 0", name)).await;
                    }
                    Err(e) => self.pop3_fail(io, &e).await,
                }
            }
            "+POP3READ" if cmd.write => {
                let want = usize::try_from(cmd.int(0).unwrap_or(1460))
                    .unwrap_or(1460)
                    .clamp(1, 1460);
                let n = want.min(self.unread.len());
                let chunk: Vec<u8> = self.unread.drain(..n).collect();
                let mode = if self.unread.is_empty() { 2 } else { 1 };
                let mut out = format!("\r\n+POP3READ: {mode},{n}\r\n").into_bytes();
                out.extend_from_slice(&chunk);
                out.extend_from_slice(b"\r\nOK\r\n");
                io.send(&out).await;
            }
            "+POP3OUT" => {
                io.ok().await;
                let code = match self.pop3.take() {
                    Some(p) => match p.quit().await {
                        Ok(()) => 1,
                        Err(e) => pop3_code(&e),
                    },
                    None => 1,
                };
                io.line(&format!("+POP3OUT: {code}")).await;
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}
