//! The module's lengths asked and kept ([`super::lengths`] reads the
//! answers): when they are due, what a call checks before a byte.

use cellmail::{Capabilities, MailError};
use tokio::io::{AsyncRead, AsyncWrite};

use super::lengths::{self, ModuleLengths};
use super::mailer::{Lengths, LengthsProbe, Sim7000Mailer};

impl<T: AsyncRead + AsyncWrite + Unpin + Send> Sim7000Mailer<T> {
    /// What the test forms said, once asked ([`probe_lengths`](Self::probe_lengths),
    /// or the first call): `None` before, or with [`Lengths::Assume`].
    pub fn module_lengths(&self) -> Option<&ModuleLengths> {
        match &self.lengths {
            LengthsProbe::Asked { lengths, .. } => Some(lengths),
            LengthsProbe::NotAsked => None,
        }
    }

    /// Asks the module its lengths now (the test forms of §3.2, as the first
    /// call would), and checks mail against them from then on, until a
    /// reboot. The capabilities show them. With [`Lengths::Assume`] nothing
    /// is asked.
    ///
    /// ```no_run
    /// # async fn run<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send>(
    /// #     mut mailer: cellmail_simcom::Sim7000Mailer<T>) -> Result<(), cellmail::MailError> {
    /// use cellmail::MailSender;
    /// mailer.probe_lengths().await?;
    /// println!("bodies up to {} bytes", mailer.capabilities().limits.body);
    /// # Ok(()) }
    /// ```
    pub async fn probe_lengths(&mut self) -> Result<(), MailError> {
        self.recover().await;
        if self.options.lengths == Lengths::AskModule {
            self.ask_lengths().await?;
        }
        Ok(())
    }

    /// Whether the lengths of [`caps`](Self::caps) are the module's (or the
    /// user's): asked under the boot the module runs now.
    pub(super) fn lengths_known(&self) -> bool {
        match (&self.options.lengths, &self.lengths) {
            (Lengths::Assume(_), _) => true,
            (Lengths::AskModule, LengthsProbe::Asked { reboots, .. }) => {
                *reboots == self.driver.state().reboots
            }
            (Lengths::AskModule, LengthsProbe::NotAsked) => false,
        }
    }

    /// What a call can check before a byte: everything, once the lengths
    /// are known; else everything but the lengths.
    pub(super) fn caps_before_a_byte(&self) -> Capabilities {
        if self.lengths_known() {
            self.caps.clone()
        } else {
            lengths::without_lengths(&self.caps)
        }
    }

    /// A mailbox account's capabilities: the POP3 server and login lengths
    /// of `AT+POP3SRV=?` in place of the SMTP ones.
    pub(super) fn pop3_caps(&self, caps: &Capabilities) -> Capabilities {
        match (&self.options.lengths, &self.lengths) {
            (Lengths::AskModule, LengthsProbe::Asked { lengths, .. }) => lengths.for_pop3(caps),
            _ => caps.clone(),
        }
    }

    /// Asks the test forms unless the lengths are known: true when it did
    /// (the call checks its input again).
    pub(super) async fn ask_lengths_if_due(&mut self) -> Result<bool, MailError> {
        if self.lengths_known() {
            return Ok(false);
        }
        self.ask_lengths().await?;
        Ok(true)
    }

    /// The test forms, one by one: a refused form (`ERROR`) keeps its
    /// built-in number; an answer that does not read too, with a warning.
    async fn ask_lengths(&mut self) -> Result<(), MailError> {
        let mut said = ModuleLengths::default();
        for command in lengths::forms() {
            match self.driver.client().execute(&command).await {
                Ok(r) => {
                    if !r.info.iter().any(|line| said.read(line)) {
                        tracing::warn!(answer = ?r.info, "a test form's answer does not read: its built-in length stands");
                    }
                }
                Err(e) if cellmail_session::is_refusal(&e) => {
                    tracing::info!(error = %e, "a test form was refused: its built-in length stands");
                }
                Err(e) => return Err(e.into()),
            }
        }
        self.lengths = LengthsProbe::Asked {
            reboots: self.driver.state().reboots,
            lengths: Box::new(said),
        };
        self.refresh_caps();
        Ok(())
    }
}
