//! The GPRS context a [`QuectelMailer`] manages (SMTPS note §1.2, §1.4.1,
//! §1.4.2, §3): brought up, recovered when activation fails, restarted.

use cellmail::{MailError, VendorCode};
use cellmail_at::AtError;
use cellmail_session::Bearer;
use tokio::io::{AsyncRead, AsyncWrite};

use super::QuectelMailer;
use crate::commands as cmd;

impl<T: AsyncRead + AsyncWrite + Unpin + Send> QuectelMailer<T> {
    /// Brings the GPRS context up (SMTPS note §1.2 steps 1-3, §3 step 1).
    pub async fn bearer_up(&mut self) -> Result<(), MailError> {
        let Some(bearer) = self.options.bearer.clone() else {
            return Ok(());
        };
        self.driver
            .client()
            .execute(&cmd::foreground_context(0))
            .await?;
        let apn = cmd::set_apn(
            &bearer.apn,
            bearer.user.as_deref(),
            bearer.password.as_ref(),
        )
        .map_err(|e| MailError::invalid("bearer.password", e.to_string()))?;
        self.driver.client().execute(&apn).await?;
        self.driver.client().execute(&cmd::register_app()).await?;
        match self.driver.client().execute(&cmd::activate()).await {
            Ok(_) => {
                self.driver.client().execute(&cmd::local_ip()).await?;
            }
            Err(e) => self.recover_activation(e).await?,
        }
        self.driver.state_mut().bearer = Bearer::Open;
        Ok(())
    }

    /// Whether `AT+QILOCIP` answers an address: SMTPS note §1.4.2 item 2,
    /// "if it can acquire a valid IP address, it means that the PDP context
    /// is activated successfully".
    pub(super) async fn has_local_ip(&mut self) -> bool {
        match self.driver.client().execute(&cmd::local_ip()).await {
            Ok(r) => r.info.iter().any(|l| {
                l.trim()
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| !ip.is_unspecified())
            }),
            Err(_) => false,
        }
    }

    /// When AT+QIACT fails. First `AT+QILOCIP` (§1.4.2 item 2): an address
    /// means the context is up. **Field assumption, not in the manuals**: a
    /// module whose context is active already (the application restarted,
    /// the module did not) refuses `AT+QIACT`; neither manual says what
    /// `AT+QIACT` answers then, so the mailer does not rely on the answer
    /// and asks for the address. Without one, SMTPS note §1.4.1: look at
    /// attach (attaching with `AT+CGATT=1` when detached, then activating
    /// once more, then `AT+QILOCIP` as §1.2 step 3) and registration. On
    /// success the context is up and its address was queried.
    pub(super) async fn recover_activation(&mut self, e: AtError) -> Result<(), MailError> {
        if e.is_timeout() {
            return Err(MailError::Modem(e));
        }
        if self.has_local_ip().await {
            tracing::info!(error = %e, "AT+QIACT failed, but the context has an address: it is up");
            return Ok(());
        }
        let mut last = e;
        let mut states = Vec::new();
        let attached = match self.driver.client().execute(&cmd::read_attach()).await {
            Ok(r) => {
                let value = cmd::first_field(&r, "+CGATT:").and_then(|f| f.as_int());
                states.extend(r.info);
                value
            }
            Err(_) => None,
        };
        if attached == Some(0) {
            match self.driver.client().execute(&cmd::attach()).await {
                Ok(_) => match self.driver.client().execute(&cmd::activate()).await {
                    Ok(_) => {
                        self.driver.client().execute(&cmd::local_ip()).await?;
                        return Ok(());
                    }
                    Err(again) => {
                        states.push(format!("attached, then {again}"));
                        last = again;
                    }
                },
                Err(refused) => states.push(refused.to_string()),
            }
        }
        if let Ok(r) = self
            .driver
            .client()
            .execute(&cmd::read_registration())
            .await
        {
            states.extend(r.info);
        }
        Err(MailError::Network {
            detail: format!(
                "the PDP context could not be activated ({last}); module state: {}",
                states.join(", ")
            ),
            vendor: VendorCode::of_cme(&last),
        })
    }

    /// Deactivates the GPRS context (`AT+QIDEACT` → `DEACT OK`).
    pub async fn bearer_down(&mut self) -> Result<(), MailError> {
        self.driver.client().execute(&cmd::deactivate()).await?;
        self.driver.state_mut().bearer = Bearer::Unknown;
        Ok(())
    }

    /// SMTPS note §1.4.3: deactivate the context (`AT+QIDEACT`), then
    /// activate it again (§1.4.1).
    pub(super) async fn restart_bearer(&mut self) -> Result<(), MailError> {
        if let Err(e) = self.bearer_down().await {
            // The context may be gone already; activating is still worth it.
            tracing::warn!(error = %e, "AT+QIDEACT failed");
            // A reboot that ended it (RDY) lost every setting too: acted on
            // before anything is skipped as held.
            self.driver.notice();
            self.driver.state_mut().bearer = Bearer::Unknown;
        }
        self.bearer_up().await
    }
}
