//! [`Sim7000Mailer`]: the plans run on the session driver, each result read
//! by the policy; `MailSender`. The attachment's transfer is in `stream`,
//! the POP3 calls in `pop3`.

use std::time::Duration;

use async_trait::async_trait;
use cellmail::{
    Capabilities, Email, MailError, MailSender, Pop3Account, Progress, SendReport, SendStage,
    SmtpAccount, TlsMode, validate_send,
};
use cellmail_at::Client;
use cellmail_session::{Bearer, Driver, Marks, Pop3, Service, Smtp};
use tokio::io::{AsyncRead, AsyncWrite};

use super::commands::{self, prefix};
use super::lengths::ModuleLengths;
use super::{Model, capabilities_of, plan, policy};

/// Settings of a [`Sim7000Mailer`].
#[derive(Clone, Debug)]
pub struct Sim7000Options {
    /// The bearer profile (`AT+EMAILCID`).
    pub cid: u8,
    /// The server response timeout (`AT+EMAILTO`): whole seconds, 10-120
    /// (§3.2.2); any other value is refused before a byte is sent.
    pub server_timeout: Duration,
    /// Open the bearer with this APN first (`AT+SAPBR`, §4.1); `None`: already
    /// open. A `+SAPBR <cid>: DEACT` URC (the network released it) makes the
    /// next call open it again. The note sets the APN alone: a user or
    /// password is refused before a byte.
    pub bearer: Option<cellmail::Bearer>,
    /// The POP3 account, for [`Mailbox`](cellmail::Mailbox).
    pub pop3: Option<Pop3Account>,
    /// Progress of attachment and message transfers.
    pub progress: Option<Progress>,
    /// Which module of the family ([`Model::of`] reads the probe): only a
    /// SIM800-series model gets e-mail TLS (`AT+EMAILSSL`). The default,
    /// [`Model::Sim7000`], has none.
    pub model: Model,
    /// The SIM7080's `AT+CSSLCFG` SSL context (0-5) that `AT+EMAILSSL`
    /// names; other models have none. Default 0 (the e-mail note's examples).
    pub ssl_context: u8,
    /// Where the lengths a mail is checked against come from: by default
    /// the module's test forms, asked at the first call and again after a
    /// reboot (the manual gives no numbers, §3.2).
    pub lengths: Lengths,
}

/// Where a [`Sim7000Mailer`] takes the module's lengths (subject, body,
/// addresses, names, recipients, file name, server, login) from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Lengths {
    /// Ask the test forms (`AT+SMTPSUB=?`..., [`lengths::forms`](super::lengths::forms))
    /// before the first mail or mailbox call, and again after a reboot.
    /// Until then a mail is checked before a byte for everything but its
    /// lengths, which are checked once the module has said them (before
    /// any byte of the mail). A form the module refuses keeps the built-in
    /// number of [`capabilities`](super::capabilities).
    #[default]
    AskModule,
    /// These numbers (from the module's own manual, say): nothing is asked,
    /// and a mail over them is refused before a byte is written.
    Assume(cellmail::Limits),
}

/// What the module said of its lengths, and under which boot.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) enum LengthsProbe {
    #[default]
    NotAsked,
    Asked {
        /// [`ModuleState::reboots`](cellmail_session::ModuleState) when asked.
        reboots: u64,
        lengths: Box<ModuleLengths>,
    },
}

/// What `AT+EMAILSSL=?` said ([`Sim7000Mailer::probe_tls`]), or a write of
/// `AT+EMAILSSL` refused.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum TlsProbe {
    /// Not asked yet: the model's capabilities hold.
    #[default]
    NotAsked,
    /// `+EMAILSSL: (<list>)`: the modes the module listed.
    Listed(Vec<TlsMode>),
    /// `ERROR`: the firmware has no e-mail TLS (SIM800 before R14): TLS
    /// accounts are refused as `Unsupported`, naming the probe.
    Refused,
}

impl Default for Sim7000Options {
    fn default() -> Self {
        Self {
            cid: 1,
            server_timeout: Duration::from_secs(30),
            bearer: None,
            pop3: None,
            progress: None,
            model: Model::Sim7000,
            ssl_context: 0,
            lengths: Lengths::AskModule,
        }
    }
}

/// Sends and reads mail through a SIM7000-family module.
///
/// When the module ends a POP3 session itself (`+POP3OUT: <code>` instead of
/// an answer, §3.2.15-§3.2.21) the call fails with that code's error and the
/// next call logs in again. A server's negative answer (`+POP3NUM: 0`,
/// `+POP3DEL: 0`, `+POP3REST: 0`...) fails the call and keeps the session
/// open. After an AT-level failure in a session (`ERROR`, no answer in time,
/// an error mid-read), or when a call was dropped mid-way, the mailer leaves
/// the session with `AT+POP3OUT`: the only command the module takes while it
/// holds unread data (§3.2.19) and the only way out the manual has; like
/// [`Mailbox::close`](cellmail::Mailbox::close) it commits the deletions marked so far. A send has no
/// way to be stopped (§3.2.10); its late result is reported as a URC, never
/// as the next mail's.
///
/// URCs stay with the application (`client().take_urcs()`,
/// `client().subscribe()`): the mailer watches them through a subscription
/// of its own (`RDY`, `+SAPBR <cid>: DEACT`, `+POP3OUT`). Off the client's
/// queue it takes only the lines of its own exchanges (`+SMTPFT: 1,`,
/// `+POP3READ: 3,`, `+POP3OUT:`, `+POP3REST:`), at the start of each call,
/// so an old one is never taken for the call's own.
///
/// A length-delimited payload cut short (`AT+SMTPBODY`/`AT+SMTPFT` data, or
/// its equivalent) leaves the module waiting for the bytes still owed, and the
/// client refuses to write anything (`AtError::Protocol`, "still in data
/// mode") rather than send made-up data. It recovers by itself once the
/// module ends the data with a final result of its own, or reboots (`RDY`).
/// Otherwise the application reboots the module, or waits out the module's
/// input timeout, then calls `client().forget_data_mode()`.
///
/// ```no_run
/// # async fn run() -> Result<(), cellmail::MailError> {
/// use cellmail::{Email, MailSender};
/// use cellmail_at::{Client, ClientConfig};
/// use cellmail_simcom::sim7000::{decoder_config, Sim7000Mailer, Sim7000Options};
/// let port = cellmail_at::serial::open("/dev/ttyUSB2", 115_200)?;
/// let client = Client::new(port, ClientConfig::with_decoder(decoder_config()));
/// let account = cellmail::SmtpAccount {
///     server: cellmail::ServerAddr::new("smtp.example.com", 25),
///     auth: cellmail::Auth::Login {
///         user: "meter-17".into(),
///         password: cellmail::Secret::new(std::env::var("SMTP_PASSWORD").unwrap_or_default()),
///     },
///     tls: Default::default(),
/// };
/// let mut mailer = Sim7000Mailer::new(client, account, Sim7000Options::default());
/// let email = Email::builder().from("meter@example.com", None).to("ops@example.com", None).build()?;
/// mailer.send(&email).await?;
/// # Ok(()) }
/// ```
pub struct Sim7000Mailer<T> {
    pub(super) driver: Driver<T>,
    pub(super) account: SmtpAccount,
    pub(super) options: Sim7000Options,
    pub(super) caps: Capabilities,
    pub(super) tls_probe: TlsProbe,
    pub(super) lengths: LengthsProbe,
}

impl<T> std::fmt::Debug for Sim7000Mailer<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sim7000Mailer")
            .field("account", &self.account)
            .finish_non_exhaustive()
    }
}

/// What the driver watches for (through a subscription of its own: the
/// client's queue stays the application's): a reboot (`RDY`) forgets every
/// setting; `+SAPBR <cid>: DEACT` (§4.1: "wireless bearer is released by
/// network") the bearer; a `+POP3OUT: <code>` means the module left the POP3
/// session (§3.2.19: unread data is not kept forever); a late `+SMTPSEND`
/// came. Its own lines the client filed as URCs (a `+SMTPFT: 1,<max>` of a
/// transfer that failed, a `+POP3OUT` of a session that ended while idle)
/// are dropped at the start of each call.
fn marks(cid: u8, model: Model) -> Marks {
    let bearer_lost = match model {
        // [AT7080] §7.2: `+APP PDP: <pdpidx>,DEACTIVE`.
        Model::Sim7080 => crate::sim7080::commands::bearer_released_urc(cid),
        _ => format!("+SAPBR {cid}: DEACT"),
    };
    Marks {
        reboot: &["RDY", "NORMAL POWER DOWN"],
        bearer_lost: vec![bearer_lost],
        pop3_ended: &[prefix::POP3OUT],
        late_results: &[prefix::SMTPSEND],
        own_results: &[
            prefix::SMTPFT_READY,
            prefix::POP3READ_MORE,
            prefix::POP3OUT,
            prefix::POP3REST,
        ],
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin + Send> Sim7000Mailer<T> {
    /// A mailer over a client configured with [`decoder_config`](super::decoder_config).
    pub fn new(client: Client<T>, account: SmtpAccount, options: Sim7000Options) -> Self {
        let mut mailer = Self {
            driver: Driver::new(client, marks(options.cid, options.model))
                .with_progress(options.progress.clone()),
            account,
            caps: capabilities_of(options.model),
            options,
            tls_probe: TlsProbe::NotAsked,
            lengths: LengthsProbe::NotAsked,
        };
        mailer.refresh_caps();
        mailer
    }

    /// The AT client.
    pub fn client(&mut self) -> &mut Client<T> {
        self.driver.client()
    }

    /// Gives the client back.
    pub fn into_client(self) -> Client<T> {
        self.driver.into_client()
    }

    /// The start of every call: notice URCs, then clean up after a call that
    /// was dropped mid-way.
    pub(super) async fn recover(&mut self) {
        self.driver.recover(&[]).await;
        self.give_up_smtp_result();
        if self.driver.state().debt(Service::Pop3).is_some() {
            for p in policy::POP3_RESULTS {
                self.driver.client().abandon_deferred(p);
            }
            self.end_pop3().await;
        }
    }

    /// A send ended (or was dropped) before its `+SMTPSEND`: the manual has no
    /// way to stop it, and the result will still come (§3.2.10); it is then
    /// reported as a URC rather than taken for the next mail's.
    fn give_up_smtp_result(&mut self) {
        if matches!(self.driver.state().smtp, Smtp::Owed(_)) {
            self.driver.client().abandon_deferred(prefix::SMTPSEND);
            self.driver.state_mut().give_up_smtp();
        }
    }

    /// Ends the POP3 session after an error or a cancelled call, best effort:
    /// §3.2.19 "Other AT commands (but AT+POP3OUT) do not be executed until the
    /// data of response are read completely", so `AT+POP3OUT` it is. Deletion
    /// marks are committed by it: the manual has no other way out.
    pub(super) async fn end_pop3(&mut self) {
        let open = matches!(self.driver.state().pop3, Pop3::Open | Pop3::Owed(_));
        self.driver.state_mut().pop3 = Pop3::Closed;
        if !open {
            return;
        }
        tracing::info!("ending the POP3 session after an error");
        let wait = self.pop3_wait();
        let late = self.driver.state().smtp == Smtp::Late;
        let client = self.driver.client();
        if client.execute(&commands::pop3_logout()).await.is_ok()
            && client.deferred(prefix::POP3OUT, wait).await.is_ok()
            && !late
        {
            // Nothing of the session comes after its +POP3OUT: answers given
            // up on (kept by the client as "late") will not come and must not
            // take the place of the next ones. (With a +SMTPSEND still due
            // they are kept: the client forgets all expectations or none.)
            client.forget_deferred();
        }
    }

    pub(super) fn pop3_wait(&self) -> Duration {
        policy::pop3_wait(policy::server_secs(self.options.server_timeout))
    }

    /// Opens the bearer (§4.1) when an APN was given and it is not open yet.
    async fn bearer(&mut self) -> Result<(), MailError> {
        let Some(apn) = self.options.bearer.as_ref().map(|b| b.apn.clone()) else {
            return Ok(());
        };
        if self.driver.state().bearer == Bearer::Open {
            return Ok(());
        }
        let cid = self.options.cid;
        let sim7080 = self.options.model == Model::Sim7080;
        let [apn, open, query] = if sim7080 {
            crate::sim7080::plan::bearer(cid, &apn)
        } else {
            plan::bearer(cid, &apn)
        };
        self.driver.run(&apn).await?;
        let refused = match self.driver.run(&open).await {
            Ok(_) => None,
            // Refused: most often it is open already (an earlier run of the
            // application opened it); the query below decides.
            Err(f) if policy::bearer_open_refused(&f.error) => Some(f.error),
            Err(f) => return Err(f.into()),
        };
        let r = self.driver.run(&query).await?.into_response();
        if sim7080 {
            crate::sim7080::plan::bearer_outcome(cid, refused.as_ref(), &r)?;
        } else {
            policy::bearer_outcome(refused.as_ref(), &r)?;
        }
        self.driver.state_mut().bearer = Bearer::Open;
        Ok(())
    }

    /// The capabilities from the model, narrowed to what `AT+EMAILSSL=?`
    /// said (only on a model with TLS: on another they already say no TLS),
    /// with the lengths the module said or the user gave.
    pub(super) fn refresh_caps(&mut self) {
        let mut caps = capabilities_of(self.options.model);
        if self.options.model.has_tls() {
            let keep = |modes: &mut Vec<TlsMode>| match &self.tls_probe {
                TlsProbe::NotAsked => {}
                TlsProbe::Listed(listed) => {
                    modes.retain(|m| *m == TlsMode::None || listed.contains(m))
                }
                TlsProbe::Refused => modes.retain(|m| *m == TlsMode::None),
            };
            keep(&mut caps.smtp_tls);
            keep(&mut caps.pop3_tls);
            if self.tls_probe == TlsProbe::Refused {
                caps.tls_versions.clear();
            }
        }
        match (&self.options.lengths, &self.lengths) {
            (Lengths::Assume(limits), _) => caps.limits = limits.clone(),
            (Lengths::AskModule, LengthsProbe::Asked { lengths, .. }) => lengths.apply(&mut caps),
            (Lengths::AskModule, LengthsProbe::NotAsked) => {}
        }
        self.caps = caps;
    }

    /// The bearer and the settings SMTP and POP3 share.
    pub(super) async fn common_settings(&mut self) -> Result<(), MailError> {
        self.bearer().await?;
        for ex in plan::common(&self.options) {
            self.driver.run(&ex).await?;
        }
        Ok(())
    }

    async fn send_mail(
        &mut self,
        email: &Email,
        observe: &(dyn Fn(SendStage) + Send + Sync),
    ) -> Result<SendReport, MailError> {
        let meter = self.driver.meter();
        // The lengths, once the module has said them (the test forms count
        // as this mail's commands).
        if self.ask_lengths_if_due().await? {
            let bearer = self.options.bearer.as_ref();
            validate_send(email, &self.account, bearer, &self.caps)?;
        }
        // The attachment's source is opened before any byte is written: a
        // host file that cannot be opened must not leave the module in a
        // send session (§3.2.10: once AT+SMTPSEND is answered OK, the manual
        // has no way to stop it).
        let reader = match email.attachments().first() {
            Some(a) => Some(a.open().await?),
            None => None,
        };
        self.common_settings().await?;
        let (tls, host) = (self.account.tls.clone(), self.account.server.host.clone());
        self.email_ssl("smtp", &tls, &host).await?;
        for ex in plan::smtp_settings(email, &self.account) {
            self.driver.run(&ex).await?;
        }
        for ex in plan::compose(email, self.driver.state()) {
            self.driver.run(&ex).await?;
        }
        self.driver
            .run_observed(&plan::send(), observe, &|_| true)
            .await?;
        let wait = policy::send_wait(policy::server_secs(self.options.server_timeout));
        let line = match self.stream_attachment(email, reader, wait).await? {
            Some(line) => line,
            None => {
                self.driver
                    .client()
                    .deferred(prefix::SMTPSEND, wait)
                    .await?
            }
        };
        self.driver.state_mut().settle(Service::Smtp);
        policy::send_outcome(&line)?;
        Ok(self.driver.report(meter, line))
    }

    pub(super) fn pop3_account(&self) -> Result<Pop3Account, MailError> {
        self.options.pop3.clone().ok_or_else(|| {
            MailError::invalid("pop3", "no POP3 account was given (Sim7000Options::pop3)")
        })
    }
}

#[async_trait]
impl<T: AsyncRead + AsyncWrite + Unpin + Send> MailSender for Sim7000Mailer<T> {
    fn capabilities(&self) -> &Capabilities {
        &self.caps
    }

    async fn send(&mut self, email: &Email) -> Result<SendReport, MailError> {
        self.send_observed(email, &|_| {}).await
    }

    /// Reports [`SendStage::Submitting`] just before `AT+SMTPSEND`.
    async fn send_observed(
        &mut self,
        email: &Email,
        observe: &(dyn Fn(SendStage) + Send + Sync),
    ) -> Result<SendReport, MailError> {
        self.tls_refused("smtp", self.account.tls.mode)?;
        let caps = self.caps_before_a_byte();
        validate_send(email, &self.account, self.options.bearer.as_ref(), &caps)?;
        self.check_tls_plan("smtp", &self.account.tls)?;
        policy::check_options(&self.options)?;
        self.recover().await;
        let result = self.send_mail(email, observe).await;
        // Not reached when the call is dropped: the next call does it.
        self.give_up_smtp_result();
        result
    }
}
