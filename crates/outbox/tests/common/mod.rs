//! Fake mailers for the runner tests: each follows a script of steps, and
//! records which mails "reached the server" (what a mailbox would hold).

#![allow(dead_code, clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cellmail::{Capabilities, Email, MailError, MailSender, SendReport, SendStage};

/// What the fake does with the next mail.
#[derive(Clone, Copy, Debug)]
pub enum Step {
    /// Delivers it.
    Ok,
    /// Fails before the point of no return.
    Before(fn() -> MailError),
    /// Reaches the point of no return, then fails; the mail did not arrive.
    After(fn() -> MailError),
    /// Reaches the point of no return, the mail arrives, but the answer is lost.
    ArrivedThen(fn() -> MailError),
    /// Never returns, before the point of no return.
    HangBefore,
    /// The mail arrives after the point of no return, then the program dies.
    PanicAfter,
    /// The mail arrives after the point of no return; then it never returns.
    HangAfter,
}

pub fn network() -> MailError {
    MailError::Network {
        detail: "bearer lost".into(),
        vendor: None,
    }
}

pub fn timeout() -> MailError {
    MailError::Modem(cellmail_at::AtError::Timeout {
        command: "+QSMTPPUT".into(),
        after: Duration::from_secs(300),
    })
}

pub fn auth() -> MailError {
    MailError::Auth {
        vendor: Some(cellmail::VendorCode::Number(-535)),
    }
}

pub fn rejected() -> MailError {
    MailError::Rejected {
        code: 554,
        text: "relay denied".into(),
        vendor: Some(cellmail::VendorCode::Number(-554)),
    }
}

/// A scripted mailer. Clones share the script and the record.
#[derive(Clone)]
pub struct Fake {
    caps: Capabilities,
    script: Arc<Mutex<VecDeque<Step>>>,
    /// Used when the script is empty.
    default: Step,
    /// Subjects of mails that reached the server, in order.
    pub arrived: Arc<Mutex<Vec<String>>>,
    /// Calls to send, in all.
    pub calls: Arc<Mutex<u32>>,
}

impl Fake {
    pub fn new(script: impl IntoIterator<Item = Step>, default: Step) -> Self {
        Self {
            caps: cellmail::capabilities::example(),
            script: Arc::new(Mutex::new(script.into_iter().collect())),
            default,
            arrived: Arc::default(),
            calls: Arc::default(),
        }
    }

    pub fn arrived(&self) -> Vec<String> {
        self.arrived.lock().unwrap().clone()
    }

    pub fn calls(&self) -> u32 {
        *self.calls.lock().unwrap()
    }

    pub fn boxed(&self) -> Box<dyn MailSender> {
        Box::new(self.clone())
    }
}

fn report() -> SendReport {
    SendReport {
        module_result: "+QSMTPPUT: 0".into(),
        bytes_sent: 0,
        commands: 0,
        duration: Duration::ZERO,
    }
}

#[async_trait::async_trait]
impl MailSender for Fake {
    fn capabilities(&self) -> &Capabilities {
        &self.caps
    }

    async fn send(&mut self, email: &Email) -> Result<SendReport, MailError> {
        self.send_observed(email, &|_| {}).await
    }

    async fn send_observed(
        &mut self,
        email: &Email,
        observe: &(dyn Fn(SendStage) + Send + Sync),
    ) -> Result<SendReport, MailError> {
        *self.calls.lock().unwrap() += 1;
        let step = self
            .script
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or(self.default);
        let arrive = || {
            self.arrived
                .lock()
                .unwrap()
                .push(email.subject().to_owned())
        };
        match step {
            Step::Ok => {
                observe(SendStage::Submitting);
                arrive();
                Ok(report())
            }
            Step::Before(e) => Err(e()),
            Step::After(e) => {
                observe(SendStage::Submitting);
                Err(e())
            }
            Step::ArrivedThen(e) => {
                observe(SendStage::Submitting);
                arrive();
                Err(e())
            }
            Step::HangBefore => std::future::pending().await,
            Step::PanicAfter => {
                observe(SendStage::Submitting);
                arrive();
                panic!("simulated crash after the point of no return");
            }
            Step::HangAfter => {
                observe(SendStage::Submitting);
                arrive();
                std::future::pending().await
            }
        }
    }
}

/// A fresh folder for one test's database.
pub fn dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("cellmail-outbox-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

pub fn mail(subject: &str) -> Email {
    Email::builder()
        .from("meter-17@example.com", Some("Meter 17"))
        .to("ops@example.com", None)
        .subject(subject)
        .body("reading 42\r\n")
        .build()
        .unwrap()
}
