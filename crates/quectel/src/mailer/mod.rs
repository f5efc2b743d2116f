//! [`QuectelMailer`]: the plan run on the session driver, each result read
//! by the policy; the bearer (`bearer`) and the mail's content (`compose`)
//! in their own files.

mod bearer;
mod compose;

use std::time::Duration;

use async_trait::async_trait;
use cellmail::{
    Bearer, Capabilities, Email, MailError, MailSender, Progress, SendReport, SendStage,
    SmtpAccount, validate_send,
};
use cellmail_at::{AtError, Client};
use cellmail_session::{Driver, Exchange, Left, Marks, ModuleState, Owing, Service, Smtp, Then};
use tokio::io::{AsyncRead, AsyncWrite};

use crate::commands::{self as cmd, SendTimeout, prefix};
use crate::plan::{self, AttachmentRoute, Plan, capabilities_for};
use crate::policy::{self, ContextAfter, PutFailure, RetryPolicy};

/// Settings of a [`QuectelMailer`] beyond the account. `send` checks them
/// before writing a byte: out of range is `MailError::Invalid` naming the
/// field.
#[derive(Clone, Debug)]
pub struct QuectelOptions {
    /// Bring the GPRS context up with this APN before sending (`None`: the
    /// application manages the bearer).
    pub bearer: Option<Bearer>,
    /// The SSL context (0-5, SMTPS note §2.2.1) used for SMTPS.
    pub ssl_context: u8,
    /// `AT+QSMTPPUT=<timeout>`, how long the module may take to send: whole
    /// seconds in the capabilities' `send_timeout_secs` (100-48000,
    /// GSM_SMTP_ATC_V1.1 §2.2.13); the host waits for it and a margin.
    pub send_timeout: Duration,
    /// `<timeout>` of body and attachment download through the UART: whole
    /// seconds, 1-48000 (§2.2.8, §2.2.9).
    pub transfer_timeout: Duration,
    /// Retries of a failed send, and the pause before resending after
    /// `-530` ([`RetryPolicy::throttle_delay`], default 60 s).
    pub retry: RetryPolicy,
    /// Progress of body and attachment transfers.
    pub progress: Option<Progress>,
    /// Send the mail when `+QSMTPBODY: <len>` reports one byte fewer than
    /// was sent, as the SMTPS note's examples print it (§3.1-§3.3: 15 bytes,
    /// `+QSMTPBODY: 14`), with a warning; `false` refuses it as a truncated
    /// transfer. Default `true`: refusing would lose every mail on a module
    /// that counts like the note, accepting risks one byte of a body
    /// ([`policy::body_stored`] weighs it).
    pub accept_body_one_short: bool,
    /// How memory and host-file attachments reach the module: through
    /// `RAM:` files (the default, as the SMTPS note recommends) or the
    /// UART's sized `AT+QSMTPATT` form.
    pub attachment_route: AttachmentRoute,
    /// The bytes one mail's attachments may hold in the module's RAM
    /// ([`AttachmentRoute::Ram`]). No manual gives the module's RAM: the
    /// default, 512 KiB, is the project's choice (a 300 KB attachment goes
    /// through); a module with less answers `AT+QFUPL` with an error or
    /// `+QSMTPATT: -13`, reported as `Invalid` on that attachment.
    pub ram_budget: u64,
    /// The serial line's rate in bits per second (8N1: 10 bits a byte): the
    /// `<timeout>` the module gets for a transfer through the UART is sized
    /// from it, so a long transfer on a slow line does not time out.
    pub line_rate: u32,
    /// The module's model as `AT+CGMM` gives it (`cellmail-modem` sets it
    /// from its probe). GSM_SMTP_ATC_V1.1 §2.2.9 allows SD-card attachments
    /// (`/SD/`) on the M33 only; `None`, or any other model, gets the SMTPS
    /// note's models' storages (M10/M66/M85/M95): `RAM:` and UFS, no SD.
    pub model: Option<String>,
}

impl Default for QuectelOptions {
    fn default() -> Self {
        Self {
            bearer: None,
            ssl_context: 0,
            send_timeout: Duration::from_secs(300),
            transfer_timeout: Duration::from_secs(60),
            retry: RetryPolicy::default(),
            progress: None,
            accept_body_one_short: true,
            attachment_route: AttachmentRoute::Ram,
            ram_budget: 512 * 1024,
            line_rate: 115_200,
            model: None,
        }
    }
}

/// Sends mail through a Quectel M10/M66/M85/M95.
///
/// The module keeps the account settings between mails, so the mailer sends
/// each setting once and again only when it changes; after each mail it
/// deletes that mail's recipients and attachments (not `AT+QSMTPCLR`, which
/// would clear the account too, §2.2.11). When done with the module, call
/// [`close`](Self::close): it clears the module and deletes the files the
/// mailer uploaded, as the SMTPS note's last step does.
///
/// If the clean-up fails the mailer clears the module (`AT+QSMTPCLR`) and
/// configures it again for the next mail; if that fails too, or a send is
/// dropped (cancelled) mid-way, the next send deletes the recipients and
/// attachments first (clearing the module if that fails again), and a `+QSMTPPUT`
/// result the dropped send still gets is never taken for the next mail's.
///
/// URCs stay with the application (`client().take_urcs()`,
/// `client().subscribe()`): the mailer watches them through a subscription
/// of its own. It forgets every setting on `RDY` or `NORMAL POWER DOWN` and
/// brings a bearer it manages up again after `+QSMTPPUT: -8` (SMTPS note §4)
/// or `+PDP DEACT` (a field report: the URC Quectel modules send when the
/// network releases the context; neither manual here describes it).
///
/// Memory and host-file attachments go through `RAM:` files by default
/// ([`AttachmentRoute::Ram`]): each is uploaded with `AT+QFUPL` at its exact
/// size (a file of that name deleted first), attached as `RAM:<name>`, and
/// deleted with `AT+QFDEL` after the send, sent or not; files a dropped send
/// left are deleted by the next one. An upload cut short (the source failed,
/// the call was dropped) is ended with `+++`, as the SMTPS note ends a
/// shorter upload (§3.1).
///
/// ```no_run
/// # async fn run() -> Result<(), cellmail::MailError> {
/// use cellmail::{Auth, Email, MailSender, Secret, ServerAddr, SmtpAccount};
/// use cellmail_at::{Client, ClientConfig};
/// use cellmail_quectel::{QuectelMailer, QuectelOptions};
/// let port = cellmail_at::serial::open("/dev/ttyUSB0", 115_200)?;
/// let client = Client::new(port, ClientConfig::with_decoder(cellmail_quectel::decoder_config()));
/// let account = SmtpAccount {
///     server: ServerAddr::new("smtp.example.com", 25),
///     auth: Auth::Login { user: "meter".into(), password: Secret::new("s3cret") },
///     tls: Default::default(),
/// };
/// let mut mailer = QuectelMailer::new(client, account, QuectelOptions::default());
/// let email = Email::builder().from("meter@example.com", None).to("ops@example.com", None).subject("hi").build()?;
/// mailer.send(&email).await?;
/// mailer.close().await?;
/// # Ok(()) }
/// ```
pub struct QuectelMailer<T> {
    driver: Driver<T>,
    account: SmtpAccount,
    options: QuectelOptions,
    caps: Capabilities,
}

impl<T> std::fmt::Debug for QuectelMailer<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QuectelMailer")
            .field("account", &self.account)
            .field("bearer", &self.driver.state().bearer)
            .finish_non_exhaustive()
    }
}

/// What the driver watches for: a reboot (`RDY`, `NORMAL POWER DOWN`) loses
/// every setting, the bearer and the RAM files; `+PDP DEACT` (a field report,
/// in neither manual: the URC Quectel modules send when the network
/// releases the context) a bearer that was up.
fn marks() -> Marks {
    Marks {
        reboot: &["RDY", "NORMAL POWER DOWN"],
        bearer_lost: vec!["+PDP DEACT".into()],
        pop3_ended: &[],
        late_results: &[],
        own_results: &[],
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin + Send> QuectelMailer<T> {
    /// A mailer over a client configured with [`decoder_config`](crate::decoder_config).
    pub fn new(client: Client<T>, account: SmtpAccount, options: QuectelOptions) -> Self {
        // A reboot empties the module's recipient and attachment lists.
        let state = ModuleState::leaving(Left::Clear);
        Self {
            driver: Driver::new(client, marks()).with_state(state),
            account,
            caps: capabilities_for(&options),
            options,
        }
    }

    /// The AT client (for probing, URCs, statistics).
    pub fn client(&mut self) -> &mut Client<T> {
        self.driver.client()
    }

    /// Gives the client back.
    pub fn into_client(self) -> Client<T> {
        self.driver.into_client()
    }

    /// Forgets the settings the module holds (after an `AT+QSMTPCLR` or
    /// `AT+QSSLCFG` of the application's own): the next mail sends every
    /// setting and uploads the certificates again. The bearer is left as it is.
    pub fn forget_configuration(&mut self) {
        self.driver.state_mut().settings.forget_all();
    }

    fn manages_bearer(&self) -> bool {
        self.options.bearer.is_some()
    }

    /// Runs a command whose real result is a deferred `<prefix> <result>`:
    /// negative results become the manual's errors, others are returned.
    async fn deferred(
        &mut self,
        exchange: Exchange,
        prefix: &str,
        wait: Duration,
    ) -> Result<i32, MailError> {
        self.driver.run(&exchange).await?;
        self.collect(prefix, wait).await
    }

    async fn collect(&mut self, prefix: &str, wait: Duration) -> Result<i32, MailError> {
        let line = self.driver.client().deferred(prefix, wait).await?;
        policy::deferred_outcome(&line, prefix)
    }

    /// One `AT+QSMTPPUT=<timeout>` and its `+QSMTPPUT: <result>`.
    async fn put_once(
        &mut self,
        timeout: SendTimeout,
        observe: &(dyn Fn(SendStage) + Send + Sync),
    ) -> Result<String, PutFailure> {
        let other = |e: AtError| PutFailure::Other(MailError::Modem(e));
        let put = Exchange::new(plan::put(timeout)).then(Then::Submits(Owing::Ok));
        self.driver
            .run_observed(&put, observe, &|_| true)
            .await
            .map_err(|f| other(f.error))?;
        // Owed until the result is read: a send dropped now leaves it to come.
        let line = self
            .driver
            .client()
            .deferred(prefix::PUT, cmd::send_wait(timeout))
            .await;
        // Read, or timed out (then the client drops it should it still come).
        self.driver.state_mut().settle(Service::Smtp);
        policy::put_outcome(&line.map_err(other)?)
    }

    /// `AT+QSMTPPUT` with the retry policy (SMTPS note §1.4.3): resend
    /// without configuring again; before the last try deactivate and
    /// reactivate the context; a context known lost is brought back first.
    async fn put(
        &mut self,
        timeout: SendTimeout,
        reboots: u64,
        observe: &(dyn Fn(SendStage) + Send + Sync),
    ) -> Result<String, MailError> {
        let retry = self.options.retry;
        let mut attempt = 1;
        loop {
            let failure = match self.put_once(timeout, observe).await {
                Ok(line) => return Ok(line),
                Err(failure) => failure,
            };
            self.driver.notice();
            // A reboot while sending (RDY) lost the mail itself: nothing to resend.
            let mail_lost = self.driver.state().reboots != reboots;
            if policy::give_up(&failure, attempt, retry, mail_lost) {
                return Err(failure.into_mail_error());
            }
            if self.manages_bearer() && self.driver.state().bearer == cellmail_session::Bearer::Open
            {
                let gone = match policy::context_after(&failure) {
                    ContextAfter::Gone => true,
                    ContextAfter::AskAddress => self
                        .driver
                        .client()
                        .execute(&cmd::local_ip())
                        .await
                        .is_err(),
                    ContextAfter::Up => false,
                };
                if gone {
                    self.driver.state_mut().bearer = cellmail_session::Bearer::Lost;
                }
            }
            let pause = policy::resend_after(&failure, retry);
            let error = failure.into_mail_error();
            tracing::warn!(error = %error, attempt, ?pause, "sending failed; trying again");
            attempt += 1;
            let up = self.driver.state().bearer == cellmail_session::Bearer::Open;
            if self.manages_bearer() && policy::restart_before(attempt, retry, up) {
                self.restart_bearer().await?;
            }
            // The policy decides the pause (-530: sent too often); waiting it
            // here, after any bearer restart, keeps at least that much time
            // between the two sends the server sees.
            if !pause.is_zero() {
                tokio::time::sleep(pause).await;
            }
        }
    }

    /// Ends the mailer's use of the module as the SMTPS note's last step does
    /// (§1.2 step 7, §3.1-§3.3 step 6): `AT+QSMTPCLR` clears the account,
    /// recipients, subject, body and attachments (§2.2.11), `AT+QFDEL`
    /// deletes the certificates the mailer uploaded to RAM, and, when the
    /// mailer manages the bearer, `AT+QIDEACT` deactivates it. Every cached
    /// setting is forgotten, so a later `send` configures the module again.
    ///
    /// Every step is tried; the first failure is returned.
    pub async fn close(&mut self) -> Result<(), MailError> {
        let mut first: Option<MailError> = None;
        if let Err(e) = self.driver.catch_up().await {
            first.get_or_insert(e.into());
        }
        match self.driver.client().execute(&cmd::clear()).await {
            // §2.2.11: recipients and attachments are cleared too.
            Ok(_) => self.cleared(),
            Err(e) => {
                first.get_or_insert(MailError::Modem(e));
            }
        }
        if let Err(e) = self.delete_mail_files().await {
            first.get_or_insert(e);
        }
        for path in std::mem::take(&mut self.driver.state_mut().uploads) {
            if let Err(e) = self.driver.client().execute(&cmd::delete_file(&path)).await {
                first.get_or_insert(MailError::Modem(e));
            }
        }
        if self.manages_bearer() && self.driver.state().bearer != cellmail_session::Bearer::Unknown
        {
            if let Err(e) = self.bearer_down().await {
                first.get_or_insert(e);
            }
        }
        // AT+QSMTPCLR cleared the account; the SSL settings are sent again too.
        self.driver.state_mut().settings.forget_all();
        first.map_or(Ok(()), Err)
    }

    /// Brings up the bearer the mailer manages, as the state says it is.
    async fn ensure_bearer(&mut self) -> Result<(), MailError> {
        match self.driver.state().bearer {
            _ if !self.manages_bearer() => Ok(()),
            cellmail_session::Bearer::Open => Ok(()),
            cellmail_session::Bearer::Unknown => self.bearer_up().await,
            cellmail_session::Bearer::Lost => self.restart_bearer().await,
        }
    }

    async fn send_mail(
        &mut self,
        email: &Email,
        plan: &Plan,
        observe: &(dyn Fn(SendStage) + Send + Sync),
    ) -> Result<SendReport, MailError> {
        let meter = self.driver.meter();
        self.driver.catch_up().await?;
        if matches!(self.driver.state().smtp, Smtp::Owed(_)) {
            // A send was dropped while it waited for its +QSMTPPUT: that
            // result is not this mail's.
            self.driver.client().abandon_deferred(prefix::PUT);
            self.driver.state_mut().settle(Service::Smtp);
        }
        self.ensure_bearer().await?;
        // A reboot read by a bearer command whose failure is survived (an
        // answer the activation's recovery does without) took the bearer and
        // every setting with it: acted on now, before settings are skipped as
        // held, and the bearer brought up again.
        let before = self.driver.state().reboots;
        self.driver.notice();
        if self.driver.state().reboots != before {
            tracing::info!("the module rebooted while the bearer came up: bringing it up again");
            self.ensure_bearer().await?;
            self.driver.notice();
        }
        let reboots = self.driver.state().reboots;
        self.configure(email, plan).await?;
        // An earlier mail's recipients or attachments left on the module
        // (its clean-up failed, or its send was dropped) are deleted first.
        if self.driver.state().leftovers.maybe_set().next().is_some() {
            tracing::info!("deleting an earlier mail's recipients and attachments first");
            if self.clean_up_or_clear().await? {
                // AT+QSMTPCLR cleared the account: configured again.
                self.configure(email, plan).await?;
            }
        }
        if !self.driver.state().mail_files.is_empty() {
            tracing::info!("deleting the RAM files a dropped send left first");
            if let Err(e) = self.delete_mail_files().await {
                tracing::warn!(error = %e, "could not delete an earlier mail's RAM files");
            }
        }
        let composed = self.compose(email, plan).await;
        let result = match composed {
            Ok(()) => self.put(plan.send_timeout, reboots, observe).await,
            Err(e) => Err(e),
        };
        if let Err(e) = self.clean_up_or_clear().await {
            // Left dirty: the next send deletes them before anything else.
            tracing::warn!(error = %e, "could not delete this mail's recipients or attachments");
        }
        // Sent or not, its RAM files go (SMTPS note §3 step 6).
        if let Err(e) = self.delete_mail_files().await {
            tracing::warn!(error = %e, "could not delete this mail's RAM files; the next send tries again");
        }
        let module_result = result?;
        Ok(self.driver.report(meter, module_result))
    }
}

#[async_trait]
impl<T: AsyncRead + AsyncWrite + Unpin + Send> MailSender for QuectelMailer<T> {
    fn capabilities(&self) -> &Capabilities {
        &self.caps
    }

    async fn send(&mut self, email: &Email) -> Result<SendReport, MailError> {
        self.send_observed(email, &|_| {}).await
    }

    /// Reports [`SendStage::Submitting`] just before each `AT+QSMTPPUT`
    /// (a resend is one more point of no return).
    async fn send_observed(
        &mut self,
        email: &Email,
        observe: &(dyn Fn(SendStage) + Send + Sync),
    ) -> Result<SendReport, MailError> {
        let bearer = self.options.bearer.as_ref();
        validate_send(email, &self.account, bearer, &self.caps)?;
        let plan = plan::check(email, &self.account, &self.options, &self.caps)?;
        self.send_mail(email, &plan, observe).await
    }
}
