//! [`SharedModem`]: one module, many tasks, one mail at a time.

use std::sync::Arc;

use async_trait::async_trait;
use cellmail::{
    Capabilities, Email, MailError, MailSender, Mailbox, MailboxStat, Message, MessageInfo,
    MessageUid, SendReport, SendStage,
};
use tokio::sync::{Mutex, MutexGuard};

/// A cloneable handle to one mailer (usually a [`Modem`](crate::Modem)) that several tasks
/// send through.
///
/// A module does one thing at a time: every call takes the mailer for its whole length (a
/// tokio `Mutex`, waited for in the order tasks asked), so two mails never interleave their
/// AT commands. A call dropped while waiting gives up its place; one dropped mid-send leaves
/// the mailer to clean up as its dialect does after a cancelled call.
///
/// For a sequence that must not be split (a POP3 session: `list`, then `retrieve` the ids it
/// gave), hold [`lock`](Self::lock) for the whole sequence; the `Mailbox` calls on the handle
/// itself take the lock one call at a time.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), cellmail::MailError> {
/// use cellmail::{MailSender, SendStage};
/// use cellmail_modem::{Family, Modem, Settings, SharedModem};
/// let (host, _module) = tokio::io::duplex(64);
/// let modem = Modem::connect(host, &Settings { family: Some(Family::Sim7000), ..Default::default() }).await?;
/// let shared = SharedModem::new(modem);
/// let for_alarms = shared.clone();
/// let email = cellmail::Email::builder().from("a@example.com", None).to("b@example.com", None).subject("hi").build()?;
/// // No SMTP account in the settings: refused before a byte, through the handle as without it.
/// let err = tokio::spawn(async move { let mut h = for_alarms; h.send(&email).await }).await.unwrap();
/// assert!(matches!(err, Err(cellmail::MailError::Invalid { .. })));
/// assert_eq!(shared.capabilities(), shared.lock().await.capabilities());
/// # Ok(()) }
/// ```
pub struct SharedModem<M> {
    inner: Arc<Mutex<M>>,
    // Fixed per dialect: kept outside the lock so `capabilities()` can hand out a reference.
    caps: Arc<Capabilities>,
}

impl<M> Clone for SharedModem<M> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
            caps: Arc::clone(&self.caps),
        }
    }
}

impl<M> std::fmt::Debug for SharedModem<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedModem")
            .field("handles", &Arc::strong_count(&self.inner))
            .finish_non_exhaustive()
    }
}

impl<M: MailSender> SharedModem<M> {
    /// Shares `mailer`.
    pub fn new(mailer: M) -> Self {
        let caps = Arc::new(mailer.capabilities().clone());
        Self {
            inner: Arc::new(Mutex::new(mailer)),
            caps,
        }
    }

    /// Waits for the mailer and holds it until the guard is dropped.
    pub async fn lock(&self) -> MutexGuard<'_, M> {
        self.inner.lock().await
    }

    /// The mailer back, when this is the last handle.
    pub fn try_into_inner(self) -> Result<M, Self> {
        match Arc::try_unwrap(self.inner) {
            Ok(mutex) => Ok(mutex.into_inner()),
            Err(inner) => Err(Self {
                inner,
                caps: self.caps,
            }),
        }
    }
}

#[async_trait]
impl<M: MailSender> MailSender for SharedModem<M> {
    fn capabilities(&self) -> &Capabilities {
        &self.caps
    }

    async fn send(&mut self, email: &Email) -> Result<SendReport, MailError> {
        self.inner.lock().await.send(email).await
    }

    /// The inner mailer's own `send_observed` (not the trait's default, which would report
    /// the point of no return before anything is sent).
    async fn send_observed(
        &mut self,
        email: &Email,
        observe: &(dyn Fn(SendStage) + Send + Sync),
    ) -> Result<SendReport, MailError> {
        self.inner.lock().await.send_observed(email, observe).await
    }
}

#[async_trait]
impl<M: MailSender + Mailbox> Mailbox for SharedModem<M> {
    async fn stat(&mut self) -> Result<MailboxStat, MailError> {
        self.inner.lock().await.stat().await
    }
    async fn list(&mut self) -> Result<Vec<MessageInfo>, MailError> {
        self.inner.lock().await.list().await
    }
    async fn uids(&mut self) -> Result<Vec<MessageUid>, MailError> {
        self.inner.lock().await.uids().await
    }
    async fn headers(&mut self, id: u32) -> Result<Message, MailError> {
        self.inner.lock().await.headers(id).await
    }
    async fn retrieve(&mut self, id: u32) -> Result<Message, MailError> {
        self.inner.lock().await.retrieve(id).await
    }
    async fn delete(&mut self, id: u32) -> Result<(), MailError> {
        self.inner.lock().await.delete(id).await
    }
    async fn reset(&mut self) -> Result<(), MailError> {
        self.inner.lock().await.reset().await
    }
    async fn close(&mut self) -> Result<(), MailError> {
        self.inner.lock().await.close().await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
    use std::time::Duration;

    use super::*;

    /// A mailer that knows its point of no return (as a dialect overriding `send_observed`
    /// does) and notices two sends at once.
    struct Fake {
        caps: Capabilities,
        busy: Arc<AtomicBool>,
        overlaps: Arc<AtomicU32>,
        sent: Vec<String>,
    }

    #[async_trait]
    impl MailSender for Fake {
        fn capabilities(&self) -> &Capabilities {
            &self.caps
        }
        async fn send(&mut self, email: &Email) -> Result<SendReport, MailError> {
            if self.busy.swap(true, Ordering::SeqCst) {
                self.overlaps.fetch_add(1, Ordering::SeqCst);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
            self.sent.push(email.subject().to_owned());
            self.busy.store(false, Ordering::SeqCst);
            Ok(SendReport {
                module_result: "fake".into(),
                bytes_sent: 0,
                commands: 0,
                duration: Duration::ZERO,
            })
        }
        async fn send_observed(
            &mut self,
            email: &Email,
            observe: &(dyn Fn(SendStage) + Send + Sync),
        ) -> Result<SendReport, MailError> {
            // The override: the stage comes after the content went, marked by the
            // subject being recorded first.
            self.sent.push(format!("composed {}", email.subject()));
            observe(SendStage::Submitting);
            self.send(email).await
        }
    }

    fn fake() -> (Fake, Arc<AtomicU32>) {
        let overlaps = Arc::new(AtomicU32::new(0));
        let fake = Fake {
            caps: cellmail::capabilities::example(),
            busy: Arc::new(AtomicBool::new(false)),
            overlaps: Arc::clone(&overlaps),
            sent: Vec::new(),
        };
        (fake, overlaps)
    }

    fn mail(subject: &str) -> Email {
        Email::builder()
            .from("meter@example.com", None)
            .to("ops@example.com", None)
            .subject(subject)
            .build()
            .expect("a valid test mail")
    }

    #[tokio::test(start_paused = true)]
    async fn send_observed_reaches_the_inner_override() {
        let (fake, _) = fake();
        let mut shared = SharedModem::new(fake);
        let stages = std::sync::Mutex::new(Vec::new());
        let observe = |s: SendStage| stages.lock().expect("not poisoned").push(s);
        shared
            .send_observed(&mail("one"), &observe)
            .await
            .expect("the fake sends");
        assert_eq!(
            *stages.lock().expect("not poisoned"),
            [SendStage::Submitting]
        );
        let inner = shared.try_into_inner().expect("the last handle");
        // The default impl would have called `send` only: no "composed" entry.
        assert_eq!(inner.sent, ["composed one", "one"]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn tasks_sending_at_once_are_served_one_at_a_time() {
        let (fake, overlaps) = fake();
        let shared = SharedModem::new(fake);
        let tasks: Vec<_> = (0..6)
            .map(|i| {
                let mut handle = shared.clone();
                tokio::spawn(async move { handle.send(&mail(&format!("mail {i}"))).await })
            })
            .collect();
        for t in tasks {
            t.await.expect("task ran").expect("the fake sends");
        }
        assert_eq!(overlaps.load(Ordering::SeqCst), 0, "two sends overlapped");
        let inner = shared.try_into_inner().expect("the last handle");
        let mut sent = inner.sent.clone();
        sent.sort();
        assert_eq!(
            sent,
            (0..6).map(|i| format!("mail {i}")).collect::<Vec<_>>()
        );
    }
}
