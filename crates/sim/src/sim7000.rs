//! A virtual SIMCom SIM7000G (SIM7000 e-mail application note), or a SIM800L
//! ([`Sim7000Model::Sim800L`]): the same commands plus the SIM800 Series SSL
//! application note's `AT+EMAILSSL` (§2.1) and codes 71/72.
//!
//! `AT+EMAILSSL` as the note gives it: test `+EMAILSSL: (0-2)` (the note
//! prints no list: the obvious one), read `+EMAILSSL: <n>` (the note prints
//! `+ EMAILSSL:`; this module sends it without the space, as every other
//! answer), write 0/1/2 `OK` (another value: `ERROR`, which the note does not
//! print). Default 0 (not stated in the note). A SIM7000G answers `ERROR` to
//! every form (no SIMCom document gives it the command). A port omitted
//! from `AT+SMTPSRV` / `AT+POP3SRV` follows the mode when the session
//! starts: 465/995 for 1, 25/110 otherwise (the note's examples; when the
//! default is chosen is not stated). The TLS is rustls (TLS 1.2 or 1.3), not
//! the real module's TLS 1.0: see [`Sim7000Model`]. A failed handshake is
//! 71, a fatal alert 72; no certificate is checked.

use async_trait::async_trait;

use crate::engine::{AtCommand, Closed, Io, decode_text, unhex};
use crate::net::{self, NetError, Outgoing, Pop3, Security, TlsTrust};
use crate::{Behaviour, Sim7000Model};

/// The chunk the module grants per `AT+SMTPFT` (the manual's example).
const GRANT: usize = 1360;

/// The lengths this module reports in its test forms (§3.2: the manual gives
/// the templates, no numbers) and holds its write forms to: a longer
/// argument is `ERROR`. They are this module's own, on purpose not the
/// library's built-in ones (64/256/4096), so a test through it shows the
/// mailer checking mail against what the module said.
mod lengths {
    pub const SERVER: usize = 128;
    pub const USER: usize = 40;
    pub const PASSWORD: usize = 40;
    pub const ADDRESS: usize = 96;
    pub const NAME: usize = 48;
    /// `<index>` 0-4: five recipients of each kind.
    pub const LAST_INDEX: i64 = 4;
    pub const SUBJECT: usize = 200;
    pub const BODY: usize = 8192;
    pub const FILE_NAME: usize = 48;
    pub const CHARSET: usize = 16;
}

/// The answer to a test form (§3.2), in the manual's response syntax.
fn test_form(name: &str) -> Option<String> {
    use lengths::*;
    Some(match name {
        "+EMAILCID" => "+EMAILCID: (0-2)".into(),
        "+EMAILTO" => "+EMAILTO: (10-120)".into(),
        "+SMTPSRV" => format!("+SMTPSRV: {SERVER},(1-65535)"),
        "+SMTPAUTH" => format!("+SMTPAUTH: (0,1),{USER},{PASSWORD}"),
        "+SMTPFROM" => format!("+SMTPFROM: {ADDRESS},{NAME}"),
        "+SMTPRCPT" => format!("+SMTPRCPT: (0-2),(0-{LAST_INDEX}),{ADDRESS},{NAME}"),
        "+SMTPSUB" => format!("+SMTPSUB: {SUBJECT}"),
        "+SMTPBODY" => format!("+SMTPBODY: {BODY}"),
        "+SMTPFILE" => format!("+SMTPFILE: (0-2),{FILE_NAME},(0,1)"),
        "+SMTPCS" => format!("+SMTPCS: {CHARSET}"),
        "+POP3SRV" => format!("+POP3SRV: {SERVER},{USER},{PASSWORD},(1-65535)"),
        _ => return None,
    })
}

/// Whether a write form's arguments fit the lengths of [`test_form`].
fn fits(cmd: &AtCommand) -> bool {
    use lengths::*;
    let len = |i: usize, max: usize| cmd.arg(i).is_none_or(|a| a.len() <= max);
    match cmd.name.as_str() {
        "+SMTPSRV" => len(0, SERVER),
        "+SMTPAUTH" => len(1, USER) && len(2, PASSWORD),
        "+SMTPFROM" => len(0, ADDRESS) && len(1, NAME),
        "+SMTPRCPT" => {
            cmd.int(1).is_none_or(|i| (0..=LAST_INDEX).contains(&i))
                && len(2, ADDRESS)
                && len(3, NAME)
        }
        "+SMTPSUB" => len(0, SUBJECT),
        "+SMTPBODY" => cmd
            .int(0)
            .is_none_or(|n| usize::try_from(n).is_ok_and(|n| n <= BODY)),
        "+SMTPFILE" => len(1, FILE_NAME),
        "+SMTPCS" => len(0, CHARSET),
        "+POP3SRV" => len(0, SERVER) && len(1, USER) && len(2, PASSWORD),
        _ => true,
    }
}

#[derive(Default)]
pub(crate) struct Sim7000 {
    model: Sim7000Model,
    /// `AT+EMAILSSL` (SIM800 only): 0 plain, 1 implicit TLS, 2 STARTTLS/STLS.
    email_ssl: u8,
    charset: String,
    /// The server and the port given (`None`: omitted, chosen at the send).
    server: Option<(String, Option<u16>)>,
    login: Option<(String, String)>,
    from: Option<(String, Option<String>)>,
    /// Recipients by type (0 To, 1 Cc, 2 Bcc) and index.
    rcpt: net::Recipients,
    subject: Vec<u8>,
    body: Vec<u8>,
    file: Option<String>,
    attachment: Vec<u8>,
    sending: bool,
    pop3_server: Option<(String, String, String, Option<u16>)>,
    pop3: Option<Pop3>,
    unread: Vec<u8>,
    /// The bearer of profile 1 (`AT+SAPBR=1,1`): closed at boot, like the
    /// module's (§4.1 opens it before any e-mail command). On a SIM7080G:
    /// whether a context is active.
    bearer: bool,
    /// A SIM7080G's bearer, TLS contexts and certificates.
    sim7080: crate::sim7080::Sim7080,
    /// `AT+SMTPFT` requests and `AT+POP3READ`s so far: every second one is
    /// confirmed short, as §3.2.11 and §3.2.19 allow ("may be less than
    /// <reqLength>"), so the host's handling of it is exercised.
    transfers: u32,
}

/// 71 (the SSL channel could not be established) or 72 (a fatal alert), SIM800 SSL note §2.1.
fn tls_code(detail: &str) -> u8 {
    if detail.to_ascii_lowercase().contains("alert") {
        72
    } else {
        71
    }
}

fn send_code(model: Sim7000Model, e: &NetError) -> u8 {
    match e {
        NetError::Tls(detail) if model == Sim7000Model::Sim800L => tls_code(detail),
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

fn pop3_code(model: Sim7000Model, e: &NetError) -> u8 {
    match e {
        NetError::Tls(detail) if model == Sim7000Model::Sim800L => tls_code(detail),
        NetError::Dns => 62,
        NetError::Connect(_) => 63,
        NetError::Timeout => 64,
        NetError::Auth => 68,
        NetError::Rejected(..) | NetError::Tls(_) => 65,
        NetError::Network(_) => 61,
    }
}

impl Sim7000 {
    pub(crate) fn new(model: Sim7000Model) -> Self {
        Self {
            model,
            ..Self::default()
        }
    }

    /// How the mail clients connect, from `AT+EMAILSSL`.
    fn security(&self) -> Security {
        if self.model == Sim7000Model::Sim7080G {
            return self.sim7080.security();
        }
        match self.email_ssl {
            1 => Security::Implicit,
            2 => Security::StartTls,
            _ => Security::None,
        }
    }

    /// `AT+EMAILSSL` (SIM800 SSL note §2.1); `false` on a SIM7000G.
    async fn email_ssl(&mut self, cmd: &AtCommand, io: &mut Io) -> bool {
        if self.model != Sim7000Model::Sim800L {
            return false;
        }
        if cmd.test {
            io.line("+EMAILSSL: (0-2)").await;
            io.ok().await;
        } else if cmd.read {
            io.line(&format!("+EMAILSSL: {}", self.email_ssl)).await;
            io.ok().await;
        } else if cmd.write {
            match cmd.int(0).and_then(|n| u8::try_from(n).ok()) {
                Some(n @ 0..=2) if cmd.arg(1).is_none() => {
                    self.email_ssl = n;
                    io.ok().await;
                }
                _ => io.error().await,
            }
        } else {
            io.error().await;
        }
        true
    }

    /// The CA a SIM7080G was given in `AT+EMAILSSL`; no check otherwise.
    fn trust(&self) -> TlsTrust {
        if self.model == Sim7000Model::Sim7080G {
            self.sim7080.trust()
        } else {
            TlsTrust::default()
        }
    }

    fn text(&self, bytes: &[u8]) -> Vec<u8> {
        if self.charset.is_empty() || self.charset.eq_ignore_ascii_case("ASCII") {
            bytes.to_vec()
        } else {
            unhex(&String::from_utf8_lossy(bytes)).unwrap_or_default()
        }
    }

    fn outgoing(&self, io: &Io) -> Option<Outgoing> {
        let (host, port) = self.server.clone()?;
        let implicit = self.security() == Security::Implicit;
        let port = port.unwrap_or(if implicit { 465 } else { 25 });
        let people = |t: usize| self.rcpt.of(t);
        let charset = if self.charset.is_empty() {
            "us-ascii".to_owned()
        } else {
            self.charset.to_ascii_lowercase()
        };
        Some(Outgoing {
            host,
            port,
            security: self.security(),
            trust: self.trust(),
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
                        send_code(self.model, &e)
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
        io.line(&format!("+POP3OUT: {}", pop3_code(self.model, e)))
            .await;
    }
}

#[async_trait]
impl Behaviour for Sim7000 {
    fn ident(&self) -> [&'static str; 3] {
        match self.model {
            Sim7000Model::Sim7000G => ["SIMCOM_Ltd", "SIM7000G", "1529B08SIM7000G"],
            Sim7000Model::Sim800L => ["SIMCOM_Ltd", "SIMCOM_SIM800L", "1418B05SIM800L24"],
            Sim7000Model::Sim7080G => ["SIMCOM_Ltd", "SIMCOM_SIM7080G", "1951B04SIM7080"],
        }
    }

    fn reset(&mut self) {
        *self = Self::new(self.model);
    }

    async fn notice_faults(&mut self, io: &mut Io) {
        // The network released the bearer (§4: `+SAPBR 1: DEACT`).
        if self.bearer && io.faults.snapshot().2 {
            self.bearer = false;
            if self.model == Sim7000Model::Sim7080G {
                self.sim7080.release(io).await;
            } else {
                io.line("+SAPBR 1: DEACT").await;
            }
        }
    }

    async fn handle(&mut self, cmd: &AtCommand, io: &mut Io) -> Result<bool, Closed> {
        let name = cmd.name.as_str();
        if self.model == Sim7000Model::Sim7080G {
            if name == "+EMAILCID" && cmd.test {
                io.line("+EMAILCID: (0-3)").await;
                io.ok().await;
                return Ok(true);
            }
            let network_up = !io.faults.snapshot().2;
            if self.sim7080.handle(cmd, io, network_up).await?.is_some() {
                self.bearer = self.sim7080.bearer();
                return Ok(true);
            }
        } else if name == "+EMAILSSL" {
            return Ok(self.email_ssl(cmd, io).await);
        }
        if cmd.test {
            if let Some(answer) = test_form(name) {
                io.line(&answer).await;
            }
            io.ok().await;
            return Ok(true);
        }
        if cmd.write && !fits(cmd) {
            io.error().await;
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
                    cmd.int(1).and_then(|p| u16::try_from(p).ok()),
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
                    self.transfers += 1;
                    let n = want.min(GRANT);
                    // Now and then less than asked (§3.2.11 `<cnfLength>`).
                    let n = if self.transfers % 2 == 0 {
                        n.div_ceil(2)
                    } else {
                        n
                    };
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
                    cmd.int(3).and_then(|p| u16::try_from(p).ok()),
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
                let security = self.security();
                let port = port.unwrap_or(if security == Security::Implicit {
                    995
                } else {
                    110
                });
                let trust = self.trust();
                let no_stls = self.model == Sim7000Model::Sim7080G;
                let session = async {
                    if security == Security::StartTls && no_stls {
                        // "startSSL ... only SMTP have" ([AT7080] §21.2.23).
                        return Err(NetError::Rejected(0, "no STLS on a SIM7080".into()));
                    }
                    let implicit = security == Security::Implicit;
                    let mut p = Pop3::connect(&host, port, implicit, &trust, &io.faults).await?;
                    if security == Security::StartTls {
                        p = p.stls(&host, &trust).await?;
                    }
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
                    Err(e) => {
                        io.line(&format!("+POP3IN: {}", pop3_code(self.model, &e)))
                            .await
                    }
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
                self.transfers += 1;
                let n = want.min(self.unread.len());
                // Now and then less than asked, then the URC that more came
                // (§3.2.19: "If <cnfLength> is less than <reqLength>, you
                // should wait for a URC +POP3READ: 3,<dataLength>").
                let short = self.transfers % 2 == 0 && n > 1;
                let n = if short { n / 2 } else { n };
                let chunk: Vec<u8> = self.unread.drain(..n).collect();
                let mode = if self.unread.is_empty() { 2 } else { 1 };
                let mut out = format!("\r\n+POP3READ: {mode},{n}\r\n").into_bytes();
                out.extend_from_slice(&chunk);
                out.extend_from_slice(b"\r\nOK\r\n");
                io.send(&out).await;
                if short {
                    io.line(&format!("+POP3READ: 3,{}", self.unread.len()))
                        .await;
                }
            }
            "+POP3OUT" => {
                io.ok().await;
                let code = match self.pop3.take() {
                    Some(p) => match p.quit().await {
                        Ok(()) => 1,
                        Err(e) => pop3_code(self.model, &e),
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use tokio::sync::mpsc;

    use super::*;
    use crate::Faults;

    /// Runs one command line on `module`; what it answered, and whether it knew it.
    async fn run(module: &mut Sim7000, line: &str) -> (String, bool) {
        let (_to_module, from_host) = mpsc::channel(4);
        let (to_host, mut received) = mpsc::channel(16);
        let mut io = Io::new(from_host, to_host, None, Faults::default(), Arc::default());
        let cmd = AtCommand::parse(line).unwrap();
        let known = module.handle(&cmd, &mut io).await.unwrap();
        drop(io);
        let mut out = Vec::new();
        while let Some(bytes) = received.recv().await {
            out.extend_from_slice(&bytes);
        }
        (String::from_utf8(out).unwrap(), known)
    }

    #[tokio::test]
    async fn a_sim800l_answers_emailssl_as_the_ssl_note_gives_it() {
        let mut m = Sim7000::new(Sim7000Model::Sim800L);
        assert_eq!(m.ident()[1], "SIMCOM_SIM800L");
        let answer = |l: &str| l.to_owned();
        assert_eq!(
            run(&mut m, "AT+EMAILSSL=?").await.0,
            answer("\r\n+EMAILSSL: (0-2)\r\n\r\nOK\r\n")
        );
        assert_eq!(
            run(&mut m, "AT+EMAILSSL?").await.0,
            answer("\r\n+EMAILSSL: 0\r\n\r\nOK\r\n")
        );
        for bad in [
            "AT+EMAILSSL=3",
            "AT+EMAILSSL=-1",
            "AT+EMAILSSL=1,0",
            "AT+EMAILSSL",
        ] {
            assert_eq!(run(&mut m, bad).await.0, "\r\nERROR\r\n", "{bad}");
        }
        assert_eq!(run(&mut m, "AT+EMAILSSL=2").await.0, "\r\nOK\r\n");
        assert_eq!(
            run(&mut m, "AT+EMAILSSL?").await.0,
            "\r\n+EMAILSSL: 2\r\n\r\nOK\r\n"
        );
        assert_eq!(m.security(), Security::StartTls);
        m.reset();
        assert_eq!((m.model, m.email_ssl), (Sim7000Model::Sim800L, 0));
    }

    #[tokio::test]
    async fn test_forms_say_this_modules_lengths_and_writes_are_held_to_them() {
        let mut m = Sim7000::new(Sim7000Model::Sim7000G);
        assert_eq!(
            run(&mut m, "AT+SMTPSUB=?").await.0,
            "\r\n+SMTPSUB: 200\r\n\r\nOK\r\n"
        );
        assert_eq!(
            run(&mut m, "AT+SMTPRCPT=?").await.0,
            "\r\n+SMTPRCPT: (0-2),(0-4),96,48\r\n\r\nOK\r\n"
        );
        assert_eq!(run(&mut m, "AT+SMTPSEND=?").await.0, "\r\nOK\r\n");
        let long_subject = format!("AT+SMTPSUB=\"{}\"", "s".repeat(201));
        let fits = format!("AT+SMTPSUB=\"{}\"", "s".repeat(200));
        for bad in [
            long_subject.as_str(),
            "AT+SMTPBODY=8193",
            "AT+SMTPRCPT=0,5,\"a@b.c\"",
            "AT+SMTPCS=\"ABCDEFGHIJKLMNOPQ\"",
        ] {
            assert_eq!(run(&mut m, bad).await.0, "\r\nERROR\r\n", "{bad}");
        }
        for good in [fits.as_str(), "AT+SMTPRCPT=0,4,\"a@b.c\"", "AT+SMTPRCPT=0"] {
            assert_eq!(run(&mut m, good).await.0, "\r\nOK\r\n", "{good}");
        }
    }

    #[tokio::test]
    async fn a_sim7000g_knows_no_emailssl() {
        let mut m = Sim7000::new(Sim7000Model::Sim7000G);
        for line in ["AT+EMAILSSL=?", "AT+EMAILSSL?", "AT+EMAILSSL=1"] {
            let (out, known) = run(&mut m, line).await;
            assert!(!known && out.is_empty(), "{line}: {out:?}");
        }
    }

    #[tokio::test]
    async fn omitted_ports_follow_the_mode() {
        let mut m = Sim7000::new(Sim7000Model::Sim800L);
        run(&mut m, "AT+SMTPSRV=\"mail.example.com\"").await;
        run(&mut m, "AT+SMTPFROM=\"a@example.com\"").await;
        let io_port = |m: &Sim7000| {
            let (_t, from_host) = mpsc::channel(1);
            let (to_host, _r) = mpsc::channel(1);
            let io = Io::new(from_host, to_host, None, Faults::default(), Arc::default());
            m.outgoing(&io).map(|o| (o.port, o.security))
        };
        assert_eq!(io_port(&m), Some((25, Security::None)));
        run(&mut m, "AT+EMAILSSL=1").await;
        assert_eq!(io_port(&m), Some((465, Security::Implicit)));
        run(&mut m, "AT+SMTPSRV=\"mail.example.com\",587").await;
        run(&mut m, "AT+EMAILSSL=2").await;
        assert_eq!(io_port(&m), Some((587, Security::StartTls)));
    }

    #[test]
    fn tls_failures_are_71_or_72_on_a_sim800_only() {
        let handshake = NetError::Tls("invalid peer certificate".into());
        let alert = NetError::Tls("received fatal alert: ProtocolVersion".into());
        assert_eq!(send_code(Sim7000Model::Sim800L, &handshake), 71);
        assert_eq!(send_code(Sim7000Model::Sim800L, &alert), 72);
        assert_eq!(pop3_code(Sim7000Model::Sim800L, &handshake), 71);
        assert_eq!(pop3_code(Sim7000Model::Sim800L, &alert), 72);
        assert_eq!(send_code(Sim7000Model::Sim7000G, &handshake), 65);
        assert_eq!(pop3_code(Sim7000Model::Sim7000G, &alert), 65);
    }
}
