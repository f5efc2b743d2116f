//! Shared set-up of the end-to-end tests.

#![allow(dead_code, clippy::unwrap_used)]

use std::time::Duration;

use cellmail::{Auth, Message, Pop3Account, Secret, ServerAddr, SmtpAccount, TlsSettings};
use cellmail_at::{Client, ClientConfig, serial::SerialStream};
use cellmail_sim::{Family, SimOptions, VirtualModule};

/// The running mail stack, from the environment `cargo xtask test` sets.
pub struct Stack {
    host: String,
    pub smtp: u16,
    pub smtps: u16,
    pub pop3: u16,
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
                    if let Ok(bytes) = std::fs::read(e.path()) {
                        if let Ok(m) = Message::parse(bytes) {
                            out.push(m);
                        }
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
        ..Default::default()
    };
    let mailer = cellmail_simcom::Sim7000Mailer::new(
        client,
        stack.smtp_account(from, stack.smtp, TlsSettings::default()),
        options,
    );
    (mailer, module)
}
