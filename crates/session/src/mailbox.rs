//! The POP3 mailbox of a session: the count (`STAT`) its message numbers
//! are checked against, the same way on every family.

use cellmail::{MailError, MailboxStat, validate_message_id};

use crate::state::{ModuleState, Pop3};

impl ModuleState {
    /// A POP3 login succeeded: a new session, whose count is not known yet.
    pub fn pop3_opened(&mut self) {
        self.pop3 = Pop3::Open;
        self.mailbox = None;
    }

    /// A message number checked before any byte of its own, the same on
    /// every family: against the count this session gave, or, with none
    /// asked in it (or the session over), only that POP3 numbers from 1
    /// (asking would add a command the caller did not make).
    ///
    /// ```
    /// use cellmail::{MailError, MailboxStat};
    /// use cellmail_session::ModuleState;
    /// let mut state = ModuleState::new();
    /// assert!(state.check_message_id(7).is_ok());
    /// state.pop3_opened();
    /// state.mailbox = Some(MailboxStat { count: 2, total_size: 900 });
    /// assert!(matches!(state.check_message_id(3), Err(MailError::Invalid { .. })));
    /// assert!(state.check_message_id(0).is_err());
    /// ```
    pub fn check_message_id(&self, id: u32) -> Result<(), MailError> {
        let open = matches!(self.pop3, Pop3::Open | Pop3::Owed(_));
        let unknown = MailboxStat {
            count: u32::MAX,
            total_size: 0,
        };
        let known = self.mailbox.as_ref().filter(|_| open);
        validate_message_id(id, known.unwrap_or(&unknown))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_ids_are_checked_against_this_sessions_count() {
        let mut state = ModuleState::new();
        assert!(state.check_message_id(0).is_err(), "POP3 numbers from 1");
        assert!(
            state.check_message_id(7).is_ok(),
            "no count asked: the server judges"
        );
        state.pop3_opened();
        state.mailbox = Some(MailboxStat {
            count: 2,
            total_size: 10,
        });
        assert!(state.check_message_id(2).is_ok());
        assert!(matches!(
            state.check_message_id(3),
            Err(MailError::Invalid { field, .. }) if field == "message id"
        ));
        state.pop3 = Pop3::Closed;
        assert!(
            state.check_message_id(3).is_ok(),
            "the count was the last session's"
        );
        state.pop3_opened();
        assert_eq!(state.mailbox, None, "a login forgets the count");
    }
}
