//! Shared set-up of the end-to-end tests.

#![allow(dead_code, clippy::unwrap_used)]

use std::time::Duration;

use cellmail::{Auth, Message, Pop3Account, Secret, ServerAddr, SmtpAccount, TlsMode, TlsSettings};
use cellmail_at::{Client, ClientConfig, serial::SerialStream};
use cellmail_sim::{Family, SimOptions, VirtualModule};

/// The running mail stack, from the environment `cargo xtask test` sets.
pub struct Stack {
    host: String,
    pub smtp: u16,
    pub smtps: u16,
    pub pop3: u16,
    pub pop3s: u16,
    pub maildirs: String,
    pub ca: String,
}

fn var(key: &str) -> String {
    std::env::var(key).unwrap_or_else(|_| panic!("{key} is not set: run the suite with `cargo xtask test` (it starts Postfix and Dovecot)"))
}

impl Stack {
    pub fn from_env() -> Self {
        Self {
            host: var("CELLMAIL_SMTP_HOST"),
            smtp: var("CELLMAIL_SMTP_PORT").parse().unwrap(),
            smtps: var("CELLMAIL_SMTPS_PORT").parse().unwrap(),
            pop3: var("CELLMAIL_POP3_PORT").parse().unwrap(),
            pop3s: var("CELLMAIL_POP3S_PORT").parse().unwrap(),
            maildirs: var("CELLMAIL_MAILDIR_ROOT"),
            ca: var("CELLMAIL_CA_CERT"),
        }
    }

    pub fn user(&self, name: &str) -> String {
        var(&format!("CELLMAIL_USER_{}", name.to_uppercase()))
    }

    pub fn password(&self, name: &str) -> String {
        var(&format!("CELLMAIL_PASSWORD_{}", name.to_uppercase()))
    }

    pub fn smtp_account(&self, user: &str, port: u16, tls: TlsSettings) -> SmtpAccount {
        SmtpAccount {
            server: ServerAddr::new(self.host.clone(), port),
            auth: Auth::Login {
                user: self.user(user),
                password: Secret::new(self.password(user)),
            },
            tls,
        }
    }

    pub fn pop3_account(&self, user: &str) -> Pop3Account {
        Pop3Account {
            server: ServerAddr::new(self.host.clone(), self.pop3),
            user: self.user(user),
            password: Secret::new(self.password(user)),
            tls: Default::default(),
        }
    }

    fn messages(&self, user: &str) -> Vec<Message> {
        let mut out = Vec::new();
        for sub in ["new", "cur"] {
            let dir = format!("{}/{user}/{sub}", self.maildirs);
            if let Ok(entries) = std::fs::read_dir(dir) {
                for e in entries.flatten() {
                    if let Some(m) = std::fs::read(e.path())
                        .ok()
                        .and_then(|b| Message::parse(b).ok())
                    {
                        out.push(m);
                    }
                }
            }
        }
        out
    }

    pub fn maildir_has(&self, user: &str, tag: &str) -> bool {
        self.messages(user)
            .iter()
            .any(|m| m.subject().is_some_and(|s| s.contains(tag)))
    }

    /// Hands `raw` (an RFC 5322 message, CRLF lines) to Postfix for `user`
    /// over plain SMTP on loopback, dot-stuffed, no login (local delivery).
    pub async fn deliver(&self, user: &str, raw: &[u8]) {
        use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
        let stream = tokio::net::TcpStream::connect((self.host.as_str(), self.smtp))
            .await
            .unwrap();
        let mut conn = BufReader::new(stream);
        async fn reply(conn: &mut BufReader<tokio::net::TcpStream>, want: char) {
            loop {
                let mut line = String::new();
                conn.read_line(&mut line).await.unwrap();
                assert!(line.starts_with(want), "SMTP answered {line:?}");
                if line.as_bytes().get(3) != Some(&b'-') {
                    return;
                }
            }
        }
        reply(&mut conn, '2').await;
        let to = self.user(user);
        for (line, want) in [
            ("EHLO test.local\r\n".to_owned(), '2'),
            ("MAIL FROM:<sender@cellmail.test>\r\n".to_owned(), '2'),
            (format!("RCPT TO:<{to}>\r\n"), '2'),
            ("DATA\r\n".to_owned(), '3'),
        ] {
            conn.get_mut().write_all(line.as_bytes()).await.unwrap();
            reply(&mut conn, want).await;
        }
        let mut data = Vec::with_capacity(raw.len() + 16);
        for line in raw.split_inclusive(|b| *b == b'\n') {
            if line.starts_with(b".") {
                data.push(b'.');
            }
            data.extend_from_slice(line);
        }
        if !data.ends_with(b"\r\n") {
            data.extend_from_slice(b"\r\n");
        }
        data.extend_from_slice(b".\r\n");
        conn.get_mut().write_all(&data).await.unwrap();
        reply(&mut conn, '2').await;
        conn.get_mut().write_all(b"QUIT\r\n").await.unwrap();
    }

    /// The delivered message with `tag` in its subject, read from Dovecot's Maildir.
    pub async fn wait_for(&self, user: &str, tag: &str) -> Message {
        for _ in 0..100 {
            if let Some(m) = self
                .messages(user)
                .into_iter()
                .find(|m| m.subject().is_some_and(|s| s.contains(tag)))
            {
                return m;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("no mail tagged {tag} reached {user}");
    }
}

pub fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{prefix}-{nanos}")
}

pub fn open(module: &VirtualModule, decoder: cellmail_at::DecoderConfig) -> Client<SerialStream> {
    let port = cellmail_at::serial::open(module.path().to_str().unwrap(), 115_200).unwrap();
    let mut config = ClientConfig::with_decoder(decoder);
    config.command_timeout = Duration::from_secs(10);
    Client::new(port, config)
}

pub fn sim7000(
    stack: &Stack,
    from: &str,
    pop3_user: &str,
) -> (cellmail_simcom::Sim7000Mailer<SerialStream>, VirtualModule) {
    let module = VirtualModule::spawn(Family::Sim7000, SimOptions::default()).unwrap();
    let client = open(&module, cellmail_simcom::sim7000::decoder_config());
    let options = cellmail_simcom::Sim7000Options {
        pop3: Some(stack.pop3_account(pop3_user)),
        bearer: Some(cellmail::Bearer::new("CMNET")),
        ..Default::default()
    };
    let mailer = cellmail_simcom::Sim7000Mailer::new(
        client,
        stack.smtp_account(from, stack.smtp, TlsSettings::default()),
        options,
    );
    (mailer, module)
}

/// A virtual SIM800L (`AT+EMAILSSL`, real TLS) and a mailer driving it as
/// `Model::Sim800`: SMTP on `smtp_port` with `smtp_tls`, POP3 with `pop3_tls`
/// (on the POP3S port when implicit, else the POP3 port).
pub fn sim800(
    stack: &Stack,
    from: &str,
    pop3_user: &str,
    (smtp_port, smtp_tls): (u16, TlsMode),
    pop3_tls: TlsMode,
) -> (cellmail_simcom::Sim7000Mailer<SerialStream>, VirtualModule) {
    let module = VirtualModule::spawn(
        Family::Sim7000,
        SimOptions {
            sim7000_model: cellmail_sim::Sim7000Model::Sim800L,
            ..Default::default()
        },
    )
    .unwrap();
    let client = open(&module, cellmail_simcom::sim7000::decoder_config());
    let mut pop3 = stack.pop3_account(pop3_user);
    pop3.tls.mode = pop3_tls;
    if pop3_tls == TlsMode::Implicit {
        pop3.server.port = stack.pop3s;
    }
    let options = cellmail_simcom::Sim7000Options {
        pop3: Some(pop3),
        bearer: Some(cellmail::Bearer::new("CMNET")),
        model: cellmail_simcom::sim7000::Model::Sim800,
        ..Default::default()
    };
    let tls = TlsSettings {
        mode: smtp_tls,
        ..Default::default()
    };
    let mailer = cellmail_simcom::Sim7000Mailer::new(
        client,
        stack.smtp_account(from, smtp_port, tls),
        options,
    );
    (mailer, module)
}

/// A virtual SIM7080G and a mailer driving it as `Model::Sim7080`: its
/// bearer through `AT+CNCFG`/`AT+CNACT` on context 0, SMTP on `smtp_port`
/// with `smtp_tls` and POP3 with `pop3_tls` (on the POP3S port when
/// implicit), each checking the server against `ca` when one is given.
pub fn sim7080(
    stack: &Stack,
    (smtp_port, smtp_tls): (u16, TlsMode),
    pop3_tls: TlsMode,
    ca: Option<Vec<u8>>,
) -> (cellmail_simcom::Sim7000Mailer<SerialStream>, VirtualModule) {
    let module = VirtualModule::spawn(
        Family::Sim7000,
        SimOptions {
            sim7000_model: cellmail_sim::Sim7000Model::Sim7080G,
            ..Default::default()
        },
    )
    .unwrap();
    let client = open(&module, cellmail_simcom::sim7000::decoder_config());
    let tls = |mode| TlsSettings {
        mode,
        verify: match &ca {
            Some(pem) => cellmail::Verify::Server {
                ca: cellmail::CertSource::Pem(pem.clone()),
            },
            None => cellmail::Verify::None,
        },
        ignore_module_clock: true,
        ..Default::default()
    };
    let mut pop3 = stack.pop3_account("bob");
    pop3.tls = tls(pop3_tls);
    if pop3_tls == TlsMode::Implicit {
        pop3.server.port = stack.pop3s;
    }
    let options = cellmail_simcom::Sim7000Options {
        pop3: Some(pop3),
        bearer: Some(cellmail::Bearer::new("CMNET")),
        model: cellmail_simcom::sim7000::Model::Sim7080,
        cid: 0,
        ..Default::default()
    };
    let mailer = cellmail_simcom::Sim7000Mailer::new(
        client,
        stack.smtp_account("alice", smtp_port, tls(smtp_tls)),
        options,
    );
    (mailer, module)
}

pub fn quectel(
    stack: &Stack,
    account: SmtpAccount,
) -> (cellmail_quectel::QuectelMailer<SerialStream>, VirtualModule) {
    let module = VirtualModule::spawn(Family::QuectelGsm, SimOptions::default()).unwrap();
    let client = open(&module, cellmail_quectel::decoder_config());
    let _ = stack;
    (
        cellmail_quectel::QuectelMailer::new(client, account, quectel_options()),
        module,
    )
}

pub fn sim5360(
    stack: &Stack,
    from: &str,
    pop3_user: &str,
    files: Vec<(String, Vec<u8>)>,
) -> (cellmail_simcom::Sim5360Mailer<SerialStream>, VirtualModule) {
    sim5360_with(
        stack,
        from,
        pop3_user,
        files,
        Default::default(),
        Default::default(),
    )
}

/// A virtual SIM5360 and its mailer, saving retrieved mails on `storage`,
/// their folders left as `saved_mail` says.
pub fn sim5360_with(
    stack: &Stack,
    from: &str,
    pop3_user: &str,
    files: Vec<(String, Vec<u8>)>,
    storage: cellmail_simcom::sim5360::MailStorage,
    saved_mail: cellmail_simcom::sim5360::SavedMail,
) -> (cellmail_simcom::Sim5360Mailer<SerialStream>, VirtualModule) {
    let module = VirtualModule::spawn(
        Family::Sim5360,
        SimOptions {
            files,
            ..Default::default()
        },
    )
    .unwrap();
    let client = open(&module, cellmail_simcom::sim5360::decoder_config());
    let options = cellmail_simcom::Sim5360Options {
        bearer: Some(cellmail::Bearer::new("3GNET")),
        pop3: Some(stack.pop3_account(pop3_user)),
        result_timeout: Duration::from_secs(60),
        progress: None,
        storage,
        saved_mail,
    };
    let mailer = cellmail_simcom::Sim5360Mailer::new(
        client,
        stack.smtp_account(from, stack.smtp, TlsSettings::default()),
        options,
    );
    (mailer, module)
}

/// A TCP port on loopback where nothing listens.
pub fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// A module of `family` and a client on its pseudo-terminal.
pub fn spawn_client(family: Family) -> (Client<SerialStream>, VirtualModule) {
    let module = VirtualModule::spawn(family, SimOptions::default()).unwrap();
    let decoder = match family {
        Family::QuectelGsm => cellmail_quectel::decoder_config(),
        Family::Sim7000 => cellmail_simcom::sim7000::decoder_config(),
        Family::Sim5360 => cellmail_simcom::sim5360::decoder_config(),
        Family::A76xx => cellmail_simcom::a76xx::decoder_config(),
    };
    (open(&module, decoder), module)
}

/// A mailer of `family` over `client` (any family, for tests that loop over them).
pub trait AnyMailer: cellmail::MailSender {
    fn into_client(self: Box<Self>) -> Client<SerialStream>;
    fn as_mut(&mut self) -> &mut dyn cellmail::MailSender;
}

impl AnyMailer for cellmail_quectel::QuectelMailer<SerialStream> {
    fn into_client(self: Box<Self>) -> Client<SerialStream> {
        cellmail_quectel::QuectelMailer::into_client(*self)
    }
    fn as_mut(&mut self) -> &mut dyn cellmail::MailSender {
        self
    }
}

impl AnyMailer for cellmail_simcom::Sim7000Mailer<SerialStream> {
    fn into_client(self: Box<Self>) -> Client<SerialStream> {
        cellmail_simcom::Sim7000Mailer::into_client(*self)
    }
    fn as_mut(&mut self) -> &mut dyn cellmail::MailSender {
        self
    }
}

impl AnyMailer for cellmail_simcom::A76xxMailer<SerialStream> {
    fn into_client(self: Box<Self>) -> Client<SerialStream> {
        cellmail_simcom::A76xxMailer::into_client(*self)
    }
    fn as_mut(&mut self) -> &mut dyn cellmail::MailSender {
        self
    }
}

impl AnyMailer for cellmail_simcom::Sim5360Mailer<SerialStream> {
    fn into_client(self: Box<Self>) -> Client<SerialStream> {
        cellmail_simcom::Sim5360Mailer::into_client(*self)
    }
    fn as_mut(&mut self) -> &mut dyn cellmail::MailSender {
        self
    }
}

pub fn on(
    family: Family,
    client: Client<SerialStream>,
    account: SmtpAccount,
    stack: &Stack,
) -> Box<dyn AnyMailer> {
    match family {
        Family::QuectelGsm => Box::new(cellmail_quectel::QuectelMailer::new(
            client,
            account,
            quectel_options(),
        )),
        Family::Sim7000 => Box::new(cellmail_simcom::Sim7000Mailer::new(
            client,
            account,
            cellmail_simcom::Sim7000Options {
                pop3: Some(stack.pop3_account("bob")),
                bearer: Some(cellmail::Bearer::new("CMNET")),
                ..Default::default()
            },
        )),
        Family::Sim5360 => Box::new(cellmail_simcom::Sim5360Mailer::new(
            client,
            account,
            cellmail_simcom::Sim5360Options {
                bearer: Some(cellmail::Bearer::new("3GNET")),
                result_timeout: Duration::from_secs(60),
                ..Default::default()
            },
        )),
        Family::A76xx => Box::new(cellmail_simcom::A76xxMailer::new(
            client,
            account,
            a76xx_options(),
        )),
    }
}

pub fn a76xx_options() -> cellmail_simcom::A76xxOptions {
    cellmail_simcom::A76xxOptions {
        bearer: Some(cellmail::Bearer::new("internet")),
        send_timeout: Duration::from_secs(60),
        ..Default::default()
    }
}

/// A virtual A76xx and a mailer on it.
pub fn a76xx(account: SmtpAccount) -> (cellmail_simcom::A76xxMailer<SerialStream>, VirtualModule) {
    let (client, module) = spawn_client(Family::A76xx);
    let mailer = cellmail_simcom::A76xxMailer::new(client, account, a76xx_options());
    (mailer, module)
}

pub fn quectel_options() -> cellmail_quectel::QuectelOptions {
    cellmail_quectel::QuectelOptions {
        bearer: Some(cellmail::Bearer {
            apn: "CMNET".into(),
            user: None,
            password: None,
        }),
        send_timeout: std::time::Duration::from_secs(100),
        retry: cellmail_quectel::RetryPolicy::once(),
        ..Default::default()
    }
}
