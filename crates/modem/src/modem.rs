//! [`Modem`]: one mailer over whichever dialect drives the module, and [`open`].

use std::time::Duration;

use async_trait::async_trait;
use cellmail::{
    Auth, Bearer, Capabilities, Email, MailError, MailSender, Mailbox, MailboxStat, Message,
    MessageInfo, MessageUid, ModuleInfo, Pop3Account, Progress, SendReport, SendStage, ServerAddr,
    SmtpAccount,
};
use cellmail_at::serial::SerialStream;
use cellmail_at::{Client, ClientConfig, DecoderConfig};
use cellmail_quectel::{QuectelMailer, QuectelOptions};
use cellmail_simcom::{
    A76xxMailer, A76xxOptions, Sim5360Mailer, Sim5360Options, Sim7000Mailer, Sim7000Options,
};
use tokio::io::{AsyncRead, AsyncWrite};

use crate::family::{Family, OpenError, identify};

/// What [`open`] needs beyond the port: the accounts, the bearer, progress, and per-family
/// options for anything else a dialect offers.
///
/// The shared fields (`bearer`, `pop3`, `progress`) are set on whichever dialect is picked and
/// win over the same field in the per-family options; a setting the picked dialect cannot
/// take (an APN user on a SIMCom module, whose dialects set only the APN) is refused as
/// [`OpenError::Settings`] before anything is sent, never dropped.
///
/// ```
/// use std::time::Duration;
/// let settings = cellmail_modem::Settings {
///     family: cellmail_modem::Family::parse("sim5360"),
///     sim5360: cellmail_simcom::Sim5360Options { result_timeout: Duration::from_secs(60), ..Default::default() },
///     ..Default::default()
/// };
/// assert!(settings.smtp.is_none());
/// ```
#[derive(Clone, Debug)]
pub struct Settings {
    /// The SMTP account mail is sent through; `None`: sending fails with `Invalid` (a modem
    /// opened only to probe or to read mail).
    pub smtp: Option<SmtpAccount>,
    /// The POP3 account the mailbox reads; `None`: the mailbox calls fail with `Invalid`.
    pub pop3: Option<Pop3Account>,
    /// The packet bearer the dialect brings up before it connects; `None`: the application
    /// brought it up.
    pub bearer: Option<Bearer>,
    /// Progress of long transfers (on the dialects that report it).
    pub progress: Option<Progress>,
    /// The host's wait for an ordinary command's final result.
    pub command_timeout: Duration,
    /// Drive the module with this family's dialect without probing it; `None`: probe.
    pub family: Option<Family>,
    /// Quectel GSM options other than the shared fields.
    pub quectel: QuectelOptions,
    /// SIM7000 options other than the shared fields.
    pub sim7000: Sim7000Options,
    /// SIM5360 options other than the shared fields.
    pub sim5360: Sim5360Options,
    /// A76xx options other than the shared fields.
    pub a76xx: A76xxOptions,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            smtp: None,
            pop3: None,
            bearer: None,
            progress: None,
            command_timeout: Duration::from_secs(10),
            family: None,
            quectel: QuectelOptions::default(),
            sim7000: Sim7000Options::default(),
            sim5360: Sim5360Options::default(),
            a76xx: A76xxOptions::default(),
        }
    }
}

/// The dialect mailer that drives the module, for what only one dialect offers
/// (`QuectelMailer::bearer_up`, `close`, the client...).
#[derive(Debug)]
#[non_exhaustive]
pub enum Mailer<T> {
    /// A Quectel GSM module (no POP3 client).
    Quectel(QuectelMailer<T>),
    /// A SIM7000-family module.
    Sim7000(Sim7000Mailer<T>),
    /// A SIM5360 module.
    Sim5360(Sim5360Mailer<T>),
    /// An A76xx module (no POP3 client).
    A76xx(A76xxMailer<T>),
}

/// The mailer of whichever dialect drives the module: [`MailSender`] and [`Mailbox`] for
/// every family.
///
/// An enum over the dialect mailers rather than a `Box<dyn MailSender>`: the caller gets one
/// type for both traits (a trait object would need two boxes over one module), can still
/// reach the dialect's own calls through [`mailer_mut`](Self::mailer_mut) and hand the
/// client back ([`into_client`](Self::into_client)), and a new family is a new variant the
/// compiler makes every `match` handle. Every call, `send_observed` included, goes to the
/// dialect's own implementation.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), cellmail::MailError> {
/// use cellmail::Mailbox;
/// use cellmail_modem::{Family, Modem, Settings};
/// let (host, _module) = tokio::io::duplex(64);
/// let settings = Settings { family: Some(Family::QuectelGsm), ..Default::default() };
/// let mut modem = Modem::connect(host, &settings).await?;
/// assert_eq!(modem.family(), Family::QuectelGsm);
/// // Quectel GSM modules have no POP3 client: said before a byte is written.
/// assert!(matches!(modem.stat().await, Err(cellmail::MailError::Unsupported { .. })));
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Modem<T> {
    mailer: Mailer<T>,
    info: Option<ModuleInfo>,
    smtp: bool,
    pop3: bool,
}

/// Opens the serial port at `path`, probes the module and returns the mailer of the dialect
/// that drives it (or of `settings.family`, without probing).
///
/// ```no_run
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), cellmail_modem::OpenError> {
/// let modem = cellmail_modem::open("/dev/ttyUSB2", 115_200, &Default::default()).await?;
/// println!("driven by {}", modem.family());
/// # Ok(()) }
/// ```
pub async fn open(
    path: &str,
    baud: u32,
    settings: &Settings,
) -> Result<Modem<SerialStream>, OpenError> {
    let io = cellmail_at::serial::open(path, baud).map_err(|e| OpenError::Port {
        path: path.to_owned(),
        source: e.into(),
    })?;
    // The line's rate sizes the module's transfer timeouts (Quectel `<timeout>`).
    let mut settings = settings.clone();
    settings.quectel.line_rate = baud;
    Modem::connect(io, &settings).await
}

/// The settings with the probed model filled in where a family tells its
/// models apart (SIM7000 family: only a SIM800-series module has e-mail TLS;
/// Quectel: SD attachments on the M33 only).
fn for_model(settings: &Settings, info: &cellmail::ModuleInfo) -> Settings {
    let mut settings = settings.clone();
    if let Some(model) = cellmail_simcom::sim7000::Model::of(info) {
        settings.sim7000.model = model;
    }
    settings.quectel.model = Some(info.model.clone());
    settings
}

fn client<T: AsyncRead + AsyncWrite + Unpin + Send>(
    io: T,
    decoder: DecoderConfig,
    settings: &Settings,
) -> Client<T> {
    let mut config = ClientConfig::with_decoder(decoder);
    config.command_timeout = settings.command_timeout;
    Client::new(io, config)
}

impl<T: AsyncRead + AsyncWrite + Unpin + Send> Modem<T> {
    /// Probes the module on `io` (any byte stream: a port, a recorder, a scripted modem) and
    /// builds the mailer of the dialect that drives it; with `settings.family` set, builds
    /// that family's mailer without probing.
    pub async fn connect(io: T, settings: &Settings) -> Result<Self, OpenError> {
        if let Some(family) = settings.family {
            return Self::with_family(family, io, settings);
        }
        // A neutral decoder: no dialect's URCs or finals are known yet.
        let mut probing = client(io, DecoderConfig::default(), settings);
        let info = cellmail::probe(&mut probing)
            .await
            .map_err(OpenError::Probe)?;
        let family = identify(&info)?;
        let settings = for_model(settings, &info);
        let mut modem = Self::with_family(family, probing.into_inner(), &settings)?;
        modem.info = Some(info);
        Ok(modem)
    }

    /// The mailer of `family` over `io`, without probing.
    pub fn with_family(family: Family, io: T, settings: &Settings) -> Result<Self, OpenError> {
        // The same gate the dialect runs before each call, once here so a
        // setting the family cannot take fails at open, not at the first mail.
        if let Some(bearer) = &settings.bearer {
            cellmail::validate_bearer(bearer, &family.capabilities())
                .map_err(|source| OpenError::Settings { family, source })?;
        }
        let client = client(io, family.decoder(), settings);
        // The dialects take an account at construction; without one, a placeholder the
        // `send` below never lets through.
        let account = settings.smtp.clone().unwrap_or_else(|| SmtpAccount {
            server: ServerAddr::new("", 0),
            auth: Auth::None,
            tls: Default::default(),
        });
        let mailer = match family {
            Family::QuectelGsm => Mailer::Quectel(QuectelMailer::new(
                client,
                account,
                QuectelOptions {
                    bearer: settings.bearer.clone(),
                    progress: settings.progress.clone(),
                    ..settings.quectel.clone()
                },
            )),
            Family::Sim7000 => Mailer::Sim7000(Sim7000Mailer::new(
                client,
                account,
                Sim7000Options {
                    bearer: settings.bearer.clone(),
                    pop3: settings.pop3.clone(),
                    progress: settings.progress.clone(),
                    ..settings.sim7000.clone()
                },
            )),
            Family::Sim5360 => Mailer::Sim5360(Sim5360Mailer::new(
                client,
                account,
                Sim5360Options {
                    bearer: settings.bearer.clone(),
                    pop3: settings.pop3.clone(),
                    progress: settings.progress.clone(),
                    ..settings.sim5360.clone()
                },
            )),
            Family::A76xx => Mailer::A76xx(A76xxMailer::new(
                client,
                account,
                A76xxOptions {
                    bearer: settings.bearer.clone(),
                    progress: settings.progress.clone(),
                    ..settings.a76xx.clone()
                },
            )),
        };
        Ok(Self {
            mailer,
            info: None,
            smtp: settings.smtp.is_some(),
            pop3: settings.pop3.is_some(),
        })
    }

    /// The same module with other settings (an account chosen from what the probed family
    /// can do): a new mailer of the same family over the same line, the probe's answer kept.
    /// Settings the mailer remembered the module holds are forgotten, so they are sent again.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), cellmail_modem::OpenError> {
    /// use cellmail_modem::{Family, Modem, Settings};
    /// let (host, _module) = tokio::io::duplex(64);
    /// let modem = Modem::connect(host, &Settings { family: Some(Family::Sim7000), ..Default::default() }).await?;
    /// let starttls = modem.family().capabilities().smtp_tls.contains(&cellmail::TlsMode::StartTls);
    /// let modem = modem.reconfigure(&Settings { smtp: None, ..Default::default() })?;
    /// assert_eq!((modem.family(), starttls), (Family::Sim7000, false));
    /// # Ok(()) }
    /// ```
    pub fn reconfigure(self, settings: &Settings) -> Result<Self, OpenError> {
        let family = self.family();
        let info = self.info.clone();
        let settings = match &info {
            Some(i) => for_model(settings, i),
            None => settings.clone(),
        };
        let mut modem = Self::with_family(family, self.into_client().into_inner(), &settings)?;
        modem.info = info;
        Ok(modem)
    }

    /// The family whose dialect drives the module.
    pub fn family(&self) -> Family {
        match &self.mailer {
            Mailer::Quectel(_) => Family::QuectelGsm,
            Mailer::Sim7000(_) => Family::Sim7000,
            Mailer::Sim5360(_) => Family::Sim5360,
            Mailer::A76xx(_) => Family::A76xx,
        }
    }

    /// What the module said about itself (`None` when the family was given, not probed).
    pub fn info(&self) -> Option<&ModuleInfo> {
        self.info.as_ref()
    }

    /// The dialect's mailer, for what only that dialect offers.
    pub fn mailer_mut(&mut self) -> &mut Mailer<T> {
        &mut self.mailer
    }

    /// The dialect's mailer.
    pub fn into_mailer(self) -> Mailer<T> {
        self.mailer
    }

    /// The AT client, handed back (its statistics, a recorder inside it).
    pub fn into_client(self) -> Client<T> {
        match self.mailer {
            Mailer::Quectel(m) => m.into_client(),
            Mailer::Sim7000(m) => m.into_client(),
            Mailer::Sim5360(m) => m.into_client(),
            Mailer::A76xx(m) => m.into_client(),
        }
    }

    fn sender(&mut self) -> Result<&mut dyn MailSender, MailError> {
        if !self.smtp {
            return Err(MailError::invalid(
                "smtp account",
                "no SMTP account was given to the modem (Settings::smtp)",
            ));
        }
        Ok(match &mut self.mailer {
            Mailer::Quectel(m) => m,
            Mailer::Sim7000(m) => m,
            Mailer::Sim5360(m) => m,
            Mailer::A76xx(m) => m,
        })
    }

    fn mailbox(&mut self) -> Result<&mut dyn Mailbox, MailError> {
        let mailbox: &mut dyn Mailbox = match &mut self.mailer {
            Mailer::Quectel(_) => {
                return Err(MailError::unsupported(
                    "POP3: the Quectel GSM modules have no POP3 client",
                ));
            }
            Mailer::A76xx(_) => {
                return Err(MailError::unsupported(
                    "POP3: the A76xx modules have no POP3 client (the A76XX manual has none)",
                ));
            }
            Mailer::Sim7000(m) => m,
            Mailer::Sim5360(m) => m,
        };
        if !self.pop3 {
            return Err(MailError::invalid(
                "pop3 account",
                "no POP3 account was given to the modem (Settings::pop3)",
            ));
        }
        Ok(mailbox)
    }
}

#[async_trait]
impl<T: AsyncRead + AsyncWrite + Unpin + Send> MailSender for Modem<T> {
    fn capabilities(&self) -> &Capabilities {
        match &self.mailer {
            Mailer::Quectel(m) => m.capabilities(),
            Mailer::Sim7000(m) => m.capabilities(),
            Mailer::Sim5360(m) => m.capabilities(),
            Mailer::A76xx(m) => m.capabilities(),
        }
    }

    async fn send(&mut self, email: &Email) -> Result<SendReport, MailError> {
        self.sender()?.send(email).await
    }

    /// The dialect's own `send_observed`: where it knows the point of no return, that is what
    /// `observe` hears.
    async fn send_observed(
        &mut self,
        email: &Email,
        observe: &(dyn Fn(SendStage) + Send + Sync),
    ) -> Result<SendReport, MailError> {
        self.sender()?.send_observed(email, observe).await
    }
}

#[async_trait]
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Mailbox for Modem<T> {
    async fn stat(&mut self) -> Result<MailboxStat, MailError> {
        self.mailbox()?.stat().await
    }
    async fn list(&mut self) -> Result<Vec<MessageInfo>, MailError> {
        self.mailbox()?.list().await
    }
    async fn uids(&mut self) -> Result<Vec<MessageUid>, MailError> {
        self.mailbox()?.uids().await
    }
    async fn headers(&mut self, id: u32) -> Result<Message, MailError> {
        self.mailbox()?.headers(id).await
    }
    async fn retrieve(&mut self, id: u32) -> Result<Message, MailError> {
        self.mailbox()?.retrieve(id).await
    }
    async fn delete(&mut self, id: u32) -> Result<(), MailError> {
        self.mailbox()?.delete(id).await
    }
    async fn reset(&mut self) -> Result<(), MailError> {
        self.mailbox()?.reset().await
    }
    async fn close(&mut self) -> Result<(), MailError> {
        self.mailbox()?.close().await
    }
}
