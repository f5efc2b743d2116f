//! The POP3 calls of [`Sim7000Mailer`] (§3.2.13-§3.2.22, §4.3): each
//! command's answer waited for with the `+POP3OUT` the module may send in
//! its place, multi-line answers read with `AT+POP3READ`.

use async_trait::async_trait;
use cellmail::{
    MailError, Mailbox, MailboxStat, Message, MessageInfo, MessageUid, Phase, ProgressEvent,
    validate_mailbox,
};
use cellmail_at::{Command, fields};
use cellmail_session::{Pop3, Service};
use tokio::io::{AsyncRead, AsyncWrite};

use super::Sim7000Mailer;
use super::codes;
use super::commands::{self, Pop3Answer, Pop3Request, prefix};
use super::plan;
use super::policy::{self, Pop3Arrival, ReadStep, protocol};

impl<T: AsyncRead + AsyncWrite + Unpin + Send> Sim7000Mailer<T> {
    /// The module left the session (`+POP3OUT: <code>` instead of an
    /// answer): `error` is what the call fails with.
    fn session_ended(&mut self, error: MailError) -> MailError {
        self.driver.state_mut().pop3 = Pop3::Closed;
        error
    }

    /// Runs a POP3 command and returns its result line. A `+POP3OUT: <code>`
    /// instead of the result (§3.2.15-§3.2.21, "if some error occur") ends the
    /// session with that code's error; no result in time ends it too. `alone`
    /// are further lines that replace the answer (`+POP3REST:` of
    /// `AT+POP3RSET`).
    async fn pop3(
        &mut self,
        command: &Command,
        result: &str,
        alone: &[&str],
    ) -> Result<String, MailError> {
        self.driver
            .state_mut()
            .owe(Service::Pop3, command.redacted());
        self.driver.client().execute(command).await?;
        let wait = self.pop3_wait();
        let urcs: Vec<&str> = alone.iter().copied().chain([prefix::POP3OUT]).collect();
        match self.driver.client().wait_any(&[result], &urcs, wait).await {
            Ok(arrived) => {
                let replaced = matches!(arrived, cellmail_at::Arrived::Urc(_));
                if replaced {
                    // The line came instead of the answer: the answer will
                    // never come. Not expected any more, it cannot be taken
                    // for a later command's answer.
                    self.driver.client().forget_deferred_prefix(result);
                }
                match policy::pop3_arrival(arrived) {
                    Pop3Arrival::Answer(line) => {
                        self.driver.state_mut().settle(Service::Pop3);
                        Ok(line)
                    }
                    Pop3Arrival::SessionEnded(line) => {
                        Err(self.session_ended(policy::session_ended_by(&line)))
                    }
                }
            }
            Err(e) => {
                self.end_pop3().await;
                Err(MailError::Modem(e))
            }
        }
    }

    /// Logs in unless a session is open. Called by every POP3 call after
    /// [`recover`](Self::recover), which notices a reboot even mid-session.
    async fn pop3_session(&mut self) -> Result<(), MailError> {
        if matches!(self.driver.state().pop3, Pop3::Open | Pop3::Owed(_)) {
            return Ok(());
        }
        let account = self.pop3_account()?;
        self.tls_refused("pop3", account.tls.mode)?;
        let caps = if self.lengths_known() {
            self.pop3_caps(&self.caps)
        } else {
            self.caps_before_a_byte()
        };
        validate_mailbox(&account, self.options.bearer.as_ref(), &caps)?;
        self.check_tls_plan("pop3", &account.tls)?;
        if self.ask_lengths_if_due().await? {
            let caps = self.pop3_caps(&self.caps);
            validate_mailbox(&account, self.options.bearer.as_ref(), &caps)?;
        }
        self.common_settings().await?;
        self.email_ssl("pop3", &account.tls, &account.server.host)
            .await?;
        self.driver.run(&plan::pop3_server(&account)).await?;
        let line = self
            .pop3(&commands::pop3_login(), prefix::POP3IN, &[])
            .await?;
        policy::pop3_code_outcome(&line, prefix::POP3IN)?;
        self.driver.state_mut().pop3_opened();
        Ok(())
    }

    /// The start of every POP3 call.
    async fn pop3_start(&mut self) -> Result<(), MailError> {
        policy::check_options(&self.options)?;
        self.recover().await;
        self.pop3_session().await
    }

    /// Reads a multi-line answer with `AT+POP3READ` until the module says it is
    /// complete. After an error mid-read the module still holds data and takes
    /// no command but `AT+POP3OUT` (§3.2.19): the session is ended.
    async fn read_all(&mut self, phase: Option<Phase>) -> Result<Vec<u8>, MailError> {
        self.driver.state_mut().owe(Service::Pop3, "AT+POP3READ");
        match self.read_chunks(phase).await {
            Ok(data) => {
                self.driver.state_mut().settle(Service::Pop3);
                Ok(data)
            }
            Err(e) => {
                self.end_pop3().await;
                Err(e)
            }
        }
    }

    async fn read_chunks(&mut self, phase: Option<Phase>) -> Result<Vec<u8>, MailError> {
        let mut data = Vec::new();
        loop {
            let r = self
                .driver
                .client()
                .execute(&commands::read(commands::POP3READ_MAX))
                .await?;
            let (done, wait) = match policy::read_step(&r)? {
                ReadStep::Data { done, wait } => (done, wait),
                ReadStep::Ended(code) => return Err(self.session_ended(code.session_ended())),
            };
            data.extend_from_slice(&r.raw);
            if let (Some(phase), Some(progress)) = (&phase, &self.options.progress) {
                progress.report(ProgressEvent {
                    phase: phase.clone(),
                    done: data.len() as u64,
                    total: None,
                });
            }
            if done {
                return Ok(data);
            }
            if wait {
                // §3.2.19: "If <cnfLength> is less than <reqLength>, you should
                // wait for a URC +POP3READ: 3,<dataLength>" (or the session ends).
                let timeout = self.pop3_wait();
                let urcs = [prefix::POP3READ_MORE, prefix::POP3OUT];
                let arrived = self.driver.client().wait_any(&[], &urcs, timeout).await?;
                if let Pop3Arrival::SessionEnded(l) = policy::pop3_arrival(arrived) {
                    return Err(self.session_ended(policy::session_ended_by(&l)));
                }
            }
        }
    }

    async fn multi_line(
        &mut self,
        request: Pop3Request,
        phase: Option<Phase>,
    ) -> Result<Vec<u8>, MailError> {
        self.pop3_start().await?;
        let command = commands::pop3_command(request);
        let line = self.pop3(&command, prefix::POP3CMD, &[]).await?;
        match commands::pop3_answer(&line, prefix::POP3CMD) {
            Pop3Answer::Positive(_) => self.read_all(phase).await,
            _ => Err(codes::negative_answer(&line, &request.to_string())),
        }
    }

    /// A one-line POP3 command: its positive answer line, or the server's
    /// refusal of `request`.
    async fn one_line(
        &mut self,
        command: Command,
        result: &str,
        request: &str,
    ) -> Result<String, MailError> {
        self.pop3_start().await?;
        let line = self.pop3(&command, result, &[]).await?;
        match commands::pop3_answer(&line, result) {
            Pop3Answer::Positive(_) => Ok(line),
            _ => Err(codes::negative_answer(&line, request)),
        }
    }

    /// The size of one message: `AT+POP3LIST=<n>` (§3.2.16).
    pub async fn message_size(&mut self, id: u32) -> Result<u64, MailError> {
        let request = format!("LIST {id}");
        let line = self
            .one_line(commands::pop3_list(id), prefix::POP3LIST, &request)
            .await?;
        match commands::pop3_answer(&line, prefix::POP3LIST) {
            Pop3Answer::Positive(f) => f
                .get(1)
                .and_then(fields::Field::as_int)
                .and_then(|n| u64::try_from(n).ok()),
            _ => None,
        }
        .ok_or_else(|| protocol("AT+POP3LIST", format!("unreadable answer {line:?}")))
    }

    /// The unique id of one message: `AT+POP3UIDL=<n>` (§3.2.17).
    pub async fn message_uid(&mut self, id: u32) -> Result<String, MailError> {
        let request = format!("UIDL {id}");
        let line = self
            .one_line(commands::pop3_uid(id), prefix::POP3UIDL, &request)
            .await?;
        match commands::pop3_answer(&line, prefix::POP3UIDL) {
            Pop3Answer::Positive(f) => f.get(1).map(|uid| uid.as_str().to_owned()),
            _ => None,
        }
        .ok_or_else(|| protocol("AT+POP3UIDL", format!("unreadable answer {line:?}")))
    }
}

#[async_trait]
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Mailbox for Sim7000Mailer<T> {
    async fn stat(&mut self) -> Result<MailboxStat, MailError> {
        self.pop3_start().await?;
        let line = self
            .pop3(&commands::pop3_count(), prefix::POP3NUM, &[])
            .await?;
        let stat = policy::stat_answer(&line)?;
        self.driver.state_mut().mailbox = Some(stat);
        Ok(stat)
    }

    async fn list(&mut self) -> Result<Vec<MessageInfo>, MailError> {
        let data = self.multi_line(Pop3Request::List, None).await?;
        policy::list_rows(&data)
    }

    async fn uids(&mut self) -> Result<Vec<MessageUid>, MailError> {
        let data = self.multi_line(Pop3Request::Uidl, None).await?;
        policy::uid_rows(&data)
    }

    async fn headers(&mut self, id: u32) -> Result<Message, MailError> {
        self.driver.state().check_message_id(id)?;
        let data = self.multi_line(Pop3Request::Top(id, 0), None).await?;
        Message::from_pop3_data(data)
    }

    async fn retrieve(&mut self, id: u32) -> Result<Message, MailError> {
        self.driver.state().check_message_id(id)?;
        let data = self
            .multi_line(Pop3Request::Retrieve(id), Some(Phase::Retrieve { id }))
            .await?;
        Message::from_pop3_data(data)
    }

    async fn delete(&mut self, id: u32) -> Result<(), MailError> {
        self.driver.state().check_message_id(id)?;
        self.one_line(
            commands::pop3_delete(id),
            prefix::POP3DEL,
            &format!("DELE {id}"),
        )
        .await
        .map(|_| ())
    }

    async fn reset(&mut self) -> Result<(), MailError> {
        self.pop3_start().await?;
        // §3.2.21: +POP3RSET: 1, or (so spelt) +POP3REST: 0, or +POP3OUT: <code>.
        let line = self
            .pop3(
                &commands::pop3_reset(),
                prefix::POP3RSET,
                &[prefix::POP3REST],
            )
            .await?;
        match commands::pop3_answer(&line, prefix::POP3RSET) {
            Pop3Answer::Positive(_) => Ok(()),
            _ => Err(codes::negative_answer(&line, "RSET")),
        }
    }

    async fn close(&mut self) -> Result<(), MailError> {
        self.recover().await;
        if !matches!(self.driver.state().pop3, Pop3::Open | Pop3::Owed(_)) {
            return Ok(());
        }
        self.driver.state_mut().pop3 = Pop3::Closed;
        let line = self
            .pop3(&commands::pop3_logout(), prefix::POP3OUT, &[])
            .await?;
        policy::pop3_code_outcome(&line, prefix::POP3OUT)
    }
}
