//! E-mail TLS of the models that have it: the SIM800's one-parameter
//! `AT+EMAILSSL` and its probe, the SIM7080's context, CA and
//! four-parameter `AT+EMAILSSL` ([`crate::sim7080::plan::tls`]).

use cellmail::{MailError, TlsMode, TlsSettings};
use cellmail_session::Exchange;
use tokio::io::{AsyncRead, AsyncWrite};

use super::commands::{self, EmailSsl};
use super::mailer::{Sim7000Mailer, TlsProbe};
use super::{Model, plan, policy};
use crate::sim7080::{self, plan::CaUpload};

impl<T: AsyncRead + AsyncWrite + Unpin + Send> Sim7000Mailer<T> {
    /// What `AT+EMAILSSL=?` said, if it was asked.
    pub fn tls_probe(&self) -> &TlsProbe {
        &self.tls_probe
    }

    /// Asks the module which e-mail TLS modes it has (`AT+EMAILSSL=?`, SIM800
    /// SSL note §2.1) and narrows the capabilities to them: `ERROR` (a
    /// SIM7000, SIM800 firmware before R14) leaves plain SMTP and POP3 only,
    /// and a TLS account is then refused as `Unsupported` naming this probe.
    /// An answer that does not read is a protocol error and changes nothing.
    /// Only a model with TLS ([`Model::has_tls`]) narrows: on another the
    /// capabilities already say no TLS, whatever the module answers.
    pub async fn probe_tls(&mut self) -> Result<TlsProbe, MailError> {
        self.recover().await;
        let command = commands::test_email_ssl();
        let probe = match self.driver.client().execute(&command).await {
            Ok(r) => {
                let modes = r
                    .info
                    .iter()
                    .find_map(|l| commands::parse_email_ssl_modes(l))
                    .ok_or_else(|| {
                        cellmail_session::protocol(
                            "AT+EMAILSSL=?",
                            format!("no +EMAILSSL: (<list>) in {:?}", r.info),
                        )
                    })?;
                TlsProbe::Listed(
                    modes
                        .into_iter()
                        .map(|m| match m {
                            EmailSsl::Plain => TlsMode::None,
                            EmailSsl::Implicit => TlsMode::Implicit,
                            EmailSsl::StartTls => TlsMode::StartTls,
                        })
                        .collect(),
                )
            }
            Err(e) if policy::tls_probe_refused(&e) => TlsProbe::Refused,
            Err(e) => return Err(e.into()),
        };
        self.take_probe(probe.clone());
        Ok(probe)
    }

    /// Narrows the capabilities to what the module said.
    fn take_probe(&mut self, probe: TlsProbe) {
        self.tls_probe = probe;
        self.refresh_caps();
    }

    /// A TLS account on a module whose `AT+EMAILSSL` answered `ERROR`:
    /// refused before a byte, naming the probe (the capabilities' own check
    /// would only name the mode).
    pub(super) fn tls_refused(&self, field: &str, mode: TlsMode) -> Result<(), MailError> {
        if mode != TlsMode::None && self.tls_probe == TlsProbe::Refused {
            return Err(policy::no_email_tls(field, mode));
        }
        Ok(())
    }

    /// The TLS set-up before the server, on a model that has it: the
    /// SIM800's `AT+EMAILSSL=<n>` ([`Self::sim800_email_ssl`]) or the
    /// SIM7080's context, CA and `AT+EMAILSSL` ([`Self::sim7080_tls`]).
    pub(super) async fn email_ssl(
        &mut self,
        field: &str,
        tls: &TlsSettings,
        host: &str,
    ) -> Result<(), MailError> {
        match self.options.model {
            Model::Sim7080 => self.sim7080_tls(field, tls, host).await,
            Model::Sim800 => self.sim800_email_ssl(field, tls.mode).await,
            Model::Sim7000 | Model::Sim900 => Ok(()),
        }
    }

    /// What the model's TLS plan refuses, checked in a call's prologue,
    /// before a byte (a SIM7080 POP3 STARTTLS, a client certificate...).
    pub(super) fn check_tls_plan(&self, field: &str, tls: &TlsSettings) -> Result<(), MailError> {
        if self.options.model == Model::Sim7080 {
            crate::sim7080::plan::tls(field, tls, self.options.ssl_context, "")?;
        }
        Ok(())
    }

    /// `AT+EMAILSSL=<n>` before the server (SIM800 SSL note §3.1-§3.4),
    /// unless the module holds it. When it changes, the server settings are
    /// sent again after it (the note's order). A module that refuses it has
    /// no e-mail TLS: a plain account goes on without it (such a module
    /// cannot hold TLS on), a TLS one is `Unsupported`.
    async fn sim800_email_ssl(&mut self, field: &str, mode: TlsMode) -> Result<(), MailError> {
        if self.tls_probe == TlsProbe::Refused {
            return Ok(());
        }
        let ex = plan::email_ssl(mode);
        let changes = self.changes(&ex);
        match self.driver.run(&ex).await {
            Ok(_) => {
                if changes {
                    self.forget_servers();
                }
                Ok(())
            }
            Err(f) if f.is_refusal() => {
                self.take_probe(TlsProbe::Refused);
                match mode {
                    TlsMode::None => Ok(()),
                    _ => Err(policy::no_email_tls(field, mode)),
                }
            }
            Err(f) => Err(f.into()),
        }
    }

    /// The SIM7080's set-up (\[EM7080\] §5.8-§5.10): the `AT+CSSLCFG`
    /// context, the CA if the account names one, then `AT+EMAILSSL`; each a
    /// setting sent only when the module does not hold it. A change of
    /// `AT+EMAILSSL` sends the server settings again after it, as on the
    /// SIM800 (the note's order; whether the module needs it is spec OPEN 8).
    async fn sim7080_tls(
        &mut self,
        field: &str,
        tls: &TlsSettings,
        host: &str,
    ) -> Result<(), MailError> {
        let plan = sim7080::plan::tls(field, tls, self.options.ssl_context, host)?;
        for ex in &plan.context {
            self.driver.run(ex).await?;
        }
        if let Some(ca) = &plan.ca {
            self.sim7080_ca(ca).await?;
        }
        let changes = self.changes(&plan.email_ssl);
        self.driver.run(&plan.email_ssl).await?;
        if changes {
            self.forget_servers();
        }
        Ok(())
    }

    /// \[SSL7080\] §4.2: the CA written to `/customer/`, converted, its plain
    /// file deleted; `AT+CFSTERM` also after a failure, so the buffer is
    /// not left allocated. Skipped while the module holds the conversion
    /// (its name carries the PEM's digest).
    async fn sim7080_ca(&mut self, ca: &CaUpload) -> Result<(), MailError> {
        if !self.changes(&ca.convert) {
            return Ok(());
        }
        self.driver.run(&ca.init).await?;
        let mut result = Ok(());
        for ex in [&ca.write, &ca.convert, &ca.delete] {
            if let Err(f) = self.driver.run(ex).await {
                result = Err(MailError::from(f));
                break;
            }
        }
        let term = self.driver.run(&ca.term).await;
        result?;
        term?;
        Ok(())
    }

    /// Whether running `ex` changes what the module holds.
    fn changes(&self, ex: &Exchange) -> bool {
        ex.command
            .encode()
            .map(|bytes| !self.driver.state().skips(&ex.then, &bytes))
            .unwrap_or(true)
    }

    fn forget_servers(&mut self) {
        for key in plan::SERVER_SETTINGS {
            self.driver.state_mut().settings.forget(key);
        }
    }
}
