//! [`Sim5360Mailer`]: the plans run on the session driver, each result read
//! by the policy; `MailSender` and `Mailbox`.

use std::time::Duration;

use async_trait::async_trait;
use cellmail::{
    Auth, Bearer, Capabilities, Email, MailError, MailSender, Mailbox, MailboxStat, Message,
    MessageInfo, MessageUid, Phase, Pop3Account, Progress, ProgressEvent, SendReport, SendStage,
    SmtpAccount, validate_mailbox, validate_send,
};
use cellmail_at::{Client, Command, Response};
use cellmail_session::{Driver, Marks, Outcome, Pop3, Service, protocol};
use tokio::io::{AsyncRead, AsyncWrite};

use super::codes::{message_from_block, numbers, saved_path};
use super::commands::{self, POP3_RESULT, SMTP_RESULT};
use super::files::{self, MailStorage, Saved, SavedMail};
use super::policy::{self, Owed};
use super::{RESET_UNSUPPORTED, capabilities, plan};

/// Settings of a [`Sim5360Mailer`].
#[derive(Clone, Debug)]
pub struct Sim5360Options {
    /// Set the socket PDP context with this APN (`AT+CGSOCKCONT=1,...`);
    /// `None`: the module's own. The note sets the APN alone: a user or
    /// password is refused before a byte.
    pub bearer: Option<Bearer>,
    /// The POP3 account, for [`Mailbox`].
    pub pop3: Option<Pop3Account>,
    /// How long to wait for `+SMTP: SUCCESS` and `+POP3:` results (the
    /// module's own timer is 30 s).
    pub result_timeout: Duration,
    /// Progress of message retrievals. The module hands a message over in
    /// one answer (`AT+POP3READ`), so a retrieval reports its start and its
    /// end; a mail has no transfer to report (the body travels inside
    /// `AT+SMTPBODY`, attachments are on the module already).
    pub progress: Option<Progress>,
    /// Where retrieved mails are saved (`AT+FSLOCA`, §2): the module's
    /// `C:/Email` (the default, as §4.4 sets it) or the card's `D:/Email`.
    pub storage: MailStorage,
    /// What becomes of a retrieved mail's folder once read and listed:
    /// [`SavedMail::Keep`] (the default) leaves it as the module saved it.
    pub saved_mail: SavedMail,
}

impl Default for Sim5360Options {
    fn default() -> Self {
        Self {
            bearer: None,
            pop3: None,
            result_timeout: Duration::from_secs(120),
            progress: None,
            storage: MailStorage::Local,
            saved_mail: SavedMail::Keep,
        }
    }
}

/// What the driver watches for: the boot URCs of the note (a reboot makes
/// the mailer configure the module again: "only configure mandatory
/// parameters once correctly, until reboot"), and the mailer's own results
/// that arrive as URCs (`+SMTP:`, `+POP3:`, the saved path of `AT+POP3GET`).
const MARKS: Marks = Marks {
    reboot: &["RDY", "START", "NORMAL POWER DOWN"],
    bearer_lost: Vec::new(),
    pop3_ended: &[],
    late_results: &[],
    own_results: &[
        SMTP_RESULT,
        POP3_RESULT,
        commands::email_folder(false),
        commands::email_folder(true),
    ],
};

/// How long lines of a message answer that came after its `OK` are waited
/// for (see the module's "known limits").
const ANSWER_QUIET: Duration = Duration::from_millis(100);

/// Sends and reads mail through a SIM5360.
///
/// A call dropped while it waits for the module (a `select!` or timeout
/// around `send`, `retrieve`...), or a send whose `AT+SMTPSEND` got no answer
/// in time, leaves a session the module may still run: the next call first
/// ends it with `AT+SMTPSTOP` (§3.3) or `AT+POP3STOP` (§4.6).
/// See the module's "known limits" for reading messages.
///
/// [`Mailbox::reset`] is `Unsupported`: the note has no command that
/// unmarks deletions.
///
/// URCs stay with the application (`client().take_urcs()`,
/// `client().subscribe()`): the mailer watches them (`RDY`, `START`,
/// `NORMAL POWER DOWN`) through a subscription of its own. Off the client's
/// queue it takes only its own results (`+SMTP:`, `+POP3:`, the saved path of
/// `AT+POP3GET`) and the lines of a message answer that came after its `OK`.
///
/// A length-delimited payload cut short (e.g. one the application sent
/// through `client()`) leaves the module waiting for the bytes still owed, and the
/// client refuses to write anything (`AtError::Protocol`, "still in data
/// mode") rather than send made-up data. It recovers by itself once the
/// module ends the data with a final result of its own, or reboots (`RDY`).
/// Otherwise the application reboots the module, or waits out the module's
/// input timeout, then calls `client().forget_data_mode()`.
pub struct Sim5360Mailer<T> {
    driver: Driver<T>,
    account: SmtpAccount,
    options: Sim5360Options,
    caps: Capabilities,
}

impl<T> std::fmt::Debug for Sim5360Mailer<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sim5360Mailer")
            .field("account", &self.account)
            .finish_non_exhaustive()
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin + Send> Sim5360Mailer<T> {
    /// A mailer over a client configured with [`decoder_config`](super::decoder_config).
    pub fn new(client: Client<T>, account: SmtpAccount, options: Sim5360Options) -> Self {
        Self {
            driver: Driver::new(client, MARKS),
            account,
            options,
            caps: capabilities(),
        }
    }

    /// The AT client.
    pub fn client(&mut self) -> &mut Client<T> {
        self.driver.client()
    }

    /// Gives the client back.
    pub fn into_client(self) -> Client<T> {
        self.driver.into_client()
    }

    /// The APN to set, if any.
    fn apn(&self) -> Option<&str> {
        self.options.bearer.as_ref().map(|b| b.apn.as_str())
    }

    /// Ends what a dropped call left running (§3.3, §4.6), best effort.
    async fn recover(&mut self) {
        self.driver.recover(&policy::recovery()).await;
    }

    async fn send_mail(
        &mut self,
        email: &Email,
        observe: &(dyn Fn(SendStage) + Send + Sync),
    ) -> Result<SendReport, MailError> {
        let meter = self.driver.meter();
        self.driver.notice();
        let plan = plan::send(
            email,
            &self.account,
            self.apn(),
            self.options.result_timeout,
            self.driver.state(),
        )?;
        let Some((send, steps)) = plan.split_last() else {
            return Err(protocol("AT+SMTPSEND", "an empty plan".into()));
        };
        for step in steps {
            if let Err(f) = self.driver.run(&step.exchange).await {
                return Err(policy::step_refused(&step.step, f.error));
            }
        }
        // A `+SMTP:` of an earlier (stopped) session is not this mail's result.
        self.driver.drain_own_results().await;
        self.driver.notice();
        let line = match self
            .driver
            .run_observed(&send.exchange, observe, &policy::smtp_is_last)
            .await
        {
            Ok(Outcome::Done {
                result: Some(line), ..
            }) => line,
            Ok(_) => return Err(protocol("AT+SMTPSEND", "no +SMTP: result".into())),
            Err(f) => {
                match policy::after_send_failure(&f) {
                    Owed::Nothing => self.driver.state_mut().settle(Service::Smtp),
                    Owed::UntilNextCall => {}
                    Owed::StopNow => {
                        let stop = policy::stop(Service::Smtp);
                        self.driver.stop(Service::Smtp, &stop).await;
                    }
                }
                return Err(MailError::Modem(f.error));
            }
        };
        // The session is over with its result.
        self.driver.state_mut().settle(Service::Smtp);
        let logged_in = matches!(self.account.auth, Auth::Login { .. });
        policy::smtp_outcome(&line, logged_in)?;
        Ok(self.driver.report(meter, line))
    }

    fn pop3_account(&self) -> Result<Pop3Account, MailError> {
        self.options.pop3.clone().ok_or_else(|| {
            MailError::invalid("pop3", "no POP3 account was given (Sim5360Options::pop3)")
        })
    }

    /// A `+POP3:` result: `FILE SYSTEM ERROR` closes the session (§1).
    fn pop3_outcome(&mut self, text: &str) -> Result<(), MailError> {
        let outcome = policy::pop3_outcome(text);
        if outcome.closes {
            self.driver.state_mut().pop3 = Pop3::Closed;
        }
        outcome.result
    }

    /// A POP3 command answered `+POP3: <result>` before `OK`.
    async fn pop3_ok(&mut self, command: Command) -> Result<Response, MailError> {
        let r = self
            .driver
            .run(&cellmail_session::Exchange::new(command))
            .await?
            .into_response();
        if let Some(text) = policy::pop3_answer(&r) {
            self.pop3_outcome(text)?;
        }
        Ok(r)
    }

    /// Checks the account, ends what a dropped call left, checks the message
    /// number `id` if one is given (before any byte of its own), logs in
    /// unless a session is open (a reboot noticed first ends it).
    async fn pop3_session(&mut self, id: Option<u32>) -> Result<(), MailError> {
        let account = self.pop3_account()?;
        validate_mailbox(&account, self.options.bearer.as_ref(), &self.caps)?;
        self.recover().await;
        if let Some(id) = id {
            self.driver.state().check_message_id(id)?;
        }
        self.login(&account).await
    }

    async fn login(&mut self, account: &Pop3Account) -> Result<(), MailError> {
        if self.driver.state().pop3 != Pop3::Closed {
            return Ok(());
        }
        self.driver.notice();
        let exchanges = plan::login(account, self.apn());
        let Some((login, settings)) = exchanges.split_last() else {
            return Err(protocol("AT+POP3IN", "an empty plan".into()));
        };
        for setting in settings {
            self.driver.run(setting).await?;
        }
        let r = self.pop3_ok(login.command.clone()).await?;
        if r.line(POP3_RESULT).is_none() {
            // The result came after OK.
            let line = self
                .driver
                .wait_urc(POP3_RESULT, self.options.result_timeout)
                .await?;
            self.pop3_outcome(line.trim_start_matches(POP3_RESULT))?;
        }
        self.driver.state_mut().pop3_opened();
        Ok(())
    }

    /// A command answering a message as lines (`AT+POP3HDR`, `AT+POP3READ`).
    /// Its `OK` ends the answer once the module keeps quiet after it
    /// (`ClientConfig::text_block_quiet`); lines arriving later still mean
    /// the module paused right after a message line reading `OK` (see the
    /// module's "known limits"): they are taken off the line so the next
    /// command is not confused, and the call fails rather than return a
    /// short message.
    async fn message_lines(&mut self, command: &Command) -> Result<Vec<String>, MailError> {
        let (r, rest) = self.driver.run_then_strays(command, ANSWER_QUIET).await?;
        if !rest.is_empty() {
            return Err(protocol(
                &command.redacted(),
                format!(
                    "{} line(s) came after the answer's OK and a pause: the module paused \
                     right after a message line reading OK, so the message was cut there; \
                     retrieve it again",
                    rest.len()
                ),
            ));
        }
        if let Some(result) = r.info.first().filter(|l| l.starts_with(POP3_RESULT)) {
            // `+POP3: SERVER ERROR` instead of the message.
            self.pop3_outcome(result.trim_start_matches(POP3_RESULT))?;
        }
        Ok(r.info)
    }

    /// The files of the folder `AT+POP3GET` saved the mail into, but its text
    /// file, each with its size (`AT+FSCD`, `AT+FSLS`, one `AT+FSATTRI` a
    /// file); then the folder tidied as [`SavedMail`] says. A refused
    /// listing gives `None` (the message then says attachments may be on the
    /// module); a refused size is an unknown size; a refused tidy step leaves
    /// the rest on the module, logged. Other faults (no answer) fail the call.
    async fn saved_files(
        &mut self,
        folder: &str,
        text_file: &str,
    ) -> Result<Option<Vec<cellmail::ModuleFile>>, MailError> {
        let [into, list] = plan::list_saved(folder);
        let mut listed = None;
        for ex in [into, list] {
            match self.driver.run(&ex).await {
                Ok(o) => listed = Some(o.into_response()),
                Err(f) if f.is_refusal() => {
                    tracing::warn!(error = %f.error, folder, "the saved mail's folder is not listed");
                    return Ok(None);
                }
                Err(f) => return Err(MailError::Modem(f.error)),
            }
        }
        let names = files::listing(&listed.map(|r| r.info).unwrap_or_default()).files;
        let mut sizes = Vec::new();
        for name in names.iter().filter(|n| n.as_str() != text_file) {
            let size = match self.driver.run(&plan::file_size(name)).await {
                Ok(o) => files::file_size(&o.into_response().info),
                Err(f) if f.is_refusal() => None,
                Err(f) => return Err(MailError::Modem(f.error)),
            };
            sizes.push((name.clone(), size));
        }
        let size_of = |n: &str| sizes.iter().find(|(m, _)| m == n).and_then(|(_, s)| *s);
        let found = files::saved_files(folder, text_file, &names, size_of);
        if self.options.saved_mail == SavedMail::KeepAttachments {
            let others = names.iter().any(|n| n != text_file);
            for ex in plan::tidy(folder, text_file, self.options.storage, others) {
                match self.driver.run(&ex).await {
                    Ok(_) => {}
                    Err(f) if f.is_refusal() => {
                        tracing::warn!(error = %f.error, folder, "the saved mail's folder stays");
                        break;
                    }
                    Err(f) => return Err(MailError::Modem(f.error)),
                }
            }
        }
        Ok(Some(found))
    }

    /// `AT+POP3GET` (§4.4): `OK`, then `+POP3: SUCCESS` and the saved path, or
    /// `+POP3: FAILURE` / `FILE SYSTEM ERROR`...
    async fn get(&mut self, id: u32) -> Result<(String, String), MailError> {
        let storage = self.options.storage;
        let [setting, get] = plan::get(id, storage, self.options.result_timeout);
        self.driver.run(&setting).await?;
        let line = match self.driver.run(&get).await {
            Ok(Outcome::Done {
                result: Some(line), ..
            }) => line,
            Ok(_) => return Err(protocol("AT+POP3GET", "no +POP3: result".into())),
            Err(f) => {
                match policy::after_get_failure(&f) {
                    Owed::Nothing => self.driver.state_mut().settle(Service::Pop3),
                    Owed::UntilNextCall => {}
                    Owed::StopNow => {
                        let stop = policy::stop(Service::Pop3);
                        self.driver.stop(Service::Pop3, &stop).await;
                    }
                }
                return Err(MailError::Modem(f.error));
            }
        };
        self.driver.state_mut().settle(Service::Pop3);
        self.pop3_outcome(line.trim_start_matches(POP3_RESULT))?;
        // Then the saved path, a line of its own (only a path is taken: other
        // URCs stay queued for the next call).
        let path = self
            .driver
            .wait_urc(storage.folder(), Duration::from_secs(5))
            .await?;
        match saved_path(&path) {
            Some((folder, file)) => {
                tracing::debug!(folder, file, "e-mail saved");
                Ok((folder.to_owned(), file.to_owned()))
            }
            None => Err(protocol(
                "AT+POP3GET",
                format!("unreadable saved path {path:?}"),
            )),
        }
    }
}

#[async_trait]
impl<T: AsyncRead + AsyncWrite + Unpin + Send> MailSender for Sim5360Mailer<T> {
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
        let bearer = self.options.bearer.as_ref();
        validate_send(email, &self.account, bearer, &self.caps)?;
        // A debt is settled inside, once the session is known over; a dropped
        // call or a send without an answer leaves it, and the next call stops
        // the session first.
        self.recover().await;
        let skipped_settings = !self.driver.state().settings.is_empty();
        match self.send_mail(email, observe).await {
            Err(e) if policy::resend_with_every_setting(&e, skipped_settings) => {
                tracing::debug!("PARAM ERROR with settings held: sending every setting again");
                self.driver.state_mut().settings.forget_all();
                self.send_mail(email, observe).await
            }
            other => other,
        }
    }
}

#[async_trait]
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Mailbox for Sim5360Mailer<T> {
    async fn stat(&mut self) -> Result<MailboxStat, MailError> {
        self.pop3_session(None).await?;
        let r = self.pop3_ok(commands::count()).await?;
        let stat = match numbers(r.line(POP3_RESULT).unwrap_or("")).as_slice() {
            [count, size] => match u32::try_from(*count) {
                Ok(count) => MailboxStat {
                    count,
                    total_size: *size,
                },
                Err(_) => {
                    return Err(protocol(
                        "AT+POP3NUM",
                        format!("a count that does not fit: {:?}", r.info),
                    ));
                }
            },
            _ => {
                return Err(protocol(
                    "AT+POP3NUM",
                    format!("unreadable answer {:?}", r.info),
                ));
            }
        };
        self.driver.state_mut().mailbox = Some(stat);
        Ok(stat)
    }

    async fn list(&mut self) -> Result<Vec<MessageInfo>, MailError> {
        let stat = self.stat().await?;
        let mut out = Vec::new();
        for id in 1..=stat.count {
            let r = self.pop3_ok(commands::list(id)).await?;
            // §4.3: `+POP3: <id>, <size>` for the id asked for.
            match numbers(r.line(POP3_RESULT).unwrap_or("")).as_slice() {
                [n, size] if *n == u64::from(id) => out.push(MessageInfo { id, size: *size }),
                _ => {
                    return Err(protocol(
                        &format!("AT+POP3LIST={id}"),
                        format!("unreadable answer {:?}", r.info),
                    ));
                }
            }
        }
        Ok(out)
    }

    async fn uids(&mut self) -> Result<Vec<MessageUid>, MailError> {
        Err(MailError::unsupported(
            "unique ids (the SIM5360 has no UIDL command)",
        ))
    }

    /// `AT+POP3HDR=<n>` (§4.3); see the module's "known limits".
    async fn headers(&mut self, id: u32) -> Result<Message, MailError> {
        self.pop3_session(Some(id)).await?;
        let lines = self.message_lines(&commands::header(id)).await?;
        message_from_block(&lines, None)
    }

    /// `AT+FSLOCA=<storage>`, `AT+POP3GET=<n>`, then `AT+POP3READ` of the
    /// last e-mail got (§4.4); then the saved folder listed (`AT+FSCD`,
    /// `AT+FSLS`, `AT+FSATTRI` per file, as §4.7 lists `C:/Email`): its files
    /// but the text are the message's [`Message::module_files`]; tidied as
    /// [`Sim5360Options::saved_mail`] says. See the module's "known limits".
    async fn retrieve(&mut self, id: u32) -> Result<Message, MailError> {
        self.pop3_session(Some(id)).await?;
        let progress = self.options.progress.clone();
        let report = |done: u64, total: Option<u64>| {
            if let Some(p) = &progress {
                p.report(ProgressEvent {
                    phase: Phase::Retrieve { id },
                    done,
                    total,
                });
            }
        };
        report(0, None);
        let (folder, text_file) = self.get(id).await?;
        let lines = self.message_lines(&commands::read_last()).await?;
        let files = self.saved_files(&folder, &text_file).await?;
        let saved = Saved {
            folder: &folder,
            files,
        };
        let message = message_from_block(&lines, Some(&saved))?;
        let size = message.raw().len() as u64;
        report(size, Some(size));
        Ok(message)
    }

    async fn delete(&mut self, id: u32) -> Result<(), MailError> {
        self.pop3_session(Some(id)).await?;
        self.pop3_ok(commands::delete(id)).await.map(|_| ())
    }

    /// `Unsupported`, and nothing is sent: the note has no command that
    /// unmarks deletions. `AT+POP3DEL` marks a message to be deleted "after
    /// POP3 client finishes the session normally" (§2), i.e. by
    /// `AT+POP3OUT` ("Finish the session normally"); `AT+POP3STOP` is only
    /// described as "Force to finish the session" (§2, §4.6): whether it
    /// drops the marks is not stated. Marks made stay until the session ends.
    async fn reset(&mut self) -> Result<(), MailError> {
        Err(MailError::unsupported(RESET_UNSUPPORTED))
    }

    async fn close(&mut self) -> Result<(), MailError> {
        self.recover().await;
        if self.driver.state().pop3 == Pop3::Closed {
            return Ok(());
        }
        self.driver.state_mut().pop3 = Pop3::Closed;
        self.pop3_ok(commands::logout()).await.map(|_| ())
    }
}
