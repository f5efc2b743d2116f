//! What the host knows of the module between two calls: pure, dialect-neutral
//! state, each part an enum, moved by the inputs the module gives
//! ([`ModuleState::handle_reboot`], [`ModuleState::handle_urcs_missed`],
//! [`ModuleState::handle_bearer_lost`]) and by the exchanges that completed
//! ([`ModuleState::handle_done`]). No I/O, no clock.

use std::borrow::Cow;

use cellmail::{MailboxStat, RecipientKind};

use crate::exchange::Then;
pub use crate::settings::Settings;

/// Something an earlier mail may leave set on the module, which the next
/// mail must clear before it sets its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Residue {
    /// The recipients of one kind.
    Recipients(RecipientKind),
    /// The attachments.
    Attachments,
}

impl Residue {
    /// Every residue, in the order a clean-up clears them.
    pub const ALL: [Residue; 4] = [
        Residue::Recipients(RecipientKind::To),
        Residue::Recipients(RecipientKind::Cc),
        Residue::Recipients(RecipientKind::Bcc),
        Residue::Attachments,
    ];
}

/// Whether one [`Residue`] may be on the module.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Left {
    /// Known clear: a delete succeeded and nothing was set since.
    Clear,
    /// May be set: set by a mail, or not known (a new mailer, a reboot,
    /// URCs missed).
    MaybeSet,
}

/// What an earlier mail may have left on the module, per [`Residue`].
///
/// ```
/// use cellmail::RecipientKind;
/// use cellmail_session::{Left, Leftovers, Residue};
/// let mut l = Leftovers::unknown();
/// l.mark(Residue::Recipients(RecipientKind::Cc), Left::Clear);
/// assert_eq!(l.left(Residue::Recipients(RecipientKind::Cc)), Left::Clear);
/// assert_eq!(l.maybe_set().count(), 3);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Leftovers([Left; 4]);

impl Leftovers {
    /// Nothing is known: every residue may be set.
    pub fn unknown() -> Self {
        Self([Left::MaybeSet; 4])
    }

    fn slot(residue: Residue) -> usize {
        match residue {
            Residue::Recipients(RecipientKind::To) => 0,
            Residue::Recipients(RecipientKind::Cc) => 1,
            Residue::Recipients(RecipientKind::Bcc) => 2,
            Residue::Attachments => 3,
        }
    }

    /// Whether `residue` may be set.
    pub fn left(&self, residue: Residue) -> Left {
        self.0[Self::slot(residue)]
    }

    /// Records what an exchange did to `residue`.
    pub fn mark(&mut self, residue: Residue, left: Left) {
        self.0[Self::slot(residue)] = left;
    }

    /// The residues that may be set, in [`Residue::ALL`] order.
    pub fn maybe_set(&self) -> impl Iterator<Item = Residue> + '_ {
        Residue::ALL
            .into_iter()
            .filter(|r| self.left(*r) == Left::MaybeSet)
    }
}

impl Default for Leftovers {
    fn default() -> Self {
        Self::unknown()
    }
}

/// A result the module still owes, and the command that owes it: set before
/// the command's first byte, so a call dropped (cancelled) while it waits
/// leaves it for the next call to settle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Debt {
    /// The command, as logs show it (`AT+SMTPSEND`).
    pub owed_by: Cow<'static, str>,
}

/// The SMTP client of the module.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Smtp {
    /// No session runs (none started, or its result came, or it was stopped).
    #[default]
    Idle,
    /// A session may run: its result is still owed.
    Owed(Debt),
    /// A result given up on (a timeout, a cancelled call) that the module
    /// will still send, as a URC: never to be taken for a later mail's.
    Late,
}

/// The POP3 session of the module.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Pop3 {
    /// Logged out (or never logged in, or the module ended the session).
    #[default]
    Closed,
    /// No session to end, but a command's result is still owed: a login in
    /// flight, or a command under which the module ended the session.
    ClosedOwed(Debt),
    /// Logged in, nothing owed.
    Open,
    /// Logged in, and a command's result is still owed.
    Owed(Debt),
}

/// The data bearer (PDP context) the mail clients use.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Bearer {
    /// Not known: ask or open it before use.
    #[default]
    Unknown,
    /// Opened by this host, or found open.
    Open,
    /// The module said it was released (`+SAPBR 1: DEACT`, `+QIURC: "pdpdeact"`).
    Lost,
}

/// Which mail client of the module a debt belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Service {
    /// The SMTP client.
    Smtp,
    /// The POP3 client.
    Pop3,
}

/// Everything the host knows of the module between two calls.
///
/// ```
/// use cellmail_session::{ModuleState, Pop3, Smtp, Debt};
/// let mut state = ModuleState::new();
/// state.pop3 = Pop3::Open;
/// state.owe(cellmail_session::Service::Smtp, "AT+SMTPSEND");
/// state.handle_reboot();
/// assert_eq!((state.smtp, state.pop3), (Smtp::Idle, Pop3::Closed));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModuleState {
    /// The settings it holds.
    pub settings: Settings,
    /// What an earlier mail left.
    pub leftovers: Leftovers,
    /// Its SMTP client.
    pub smtp: Smtp,
    /// Its POP3 session.
    pub pop3: Pop3,
    /// What the mailbox count (`STAT`) of the POP3 session gave, if it was
    /// asked since the login: the bound of message numbers.
    pub mailbox: Option<MailboxStat>,
    /// Its data bearer.
    pub bearer: Bearer,
    /// Files the host uploaded to the module's volatile storage (`RAM:`),
    /// by path: a reboot loses them.
    pub uploads: Vec<String>,
    /// Files a mail uploaded for its attachments (`RAM:`), deleted after
    /// its send whatever its outcome; ones a dropped send left are deleted
    /// by the next call. A reboot loses them too.
    pub mail_files: Vec<String>,
    /// Reboots seen so far: a call compares the count at its start and end
    /// to know whether the module rebooted under it.
    pub reboots: u64,
    /// What a reboot (and a new mailer) leaves of an earlier mail, as the
    /// dialect reads its manual.
    boot_leftovers: Left,
}

impl Default for ModuleState {
    fn default() -> Self {
        Self::leaving(Left::MaybeSet)
    }
}

impl ModuleState {
    /// What a new mailer knows: nothing held, anything may be left, no
    /// session, the bearer unknown.
    pub fn new() -> Self {
        Self::default()
    }

    /// As [`new`](Self::new), for a dialect whose module holds nothing of a
    /// mail after a boot (`Left::Clear`: a reboot empties its lists), or
    /// may (`Left::MaybeSet`: cleared again anyway, a reboot URC may come
    /// late).
    pub fn leaving(boot_leftovers: Left) -> Self {
        Self {
            settings: Settings::default(),
            leftovers: Leftovers([boot_leftovers; 4]),
            smtp: Smtp::Idle,
            pop3: Pop3::Closed,
            mailbox: None,
            bearer: Bearer::Unknown,
            uploads: Vec::new(),
            mail_files: Vec::new(),
            reboots: 0,
            boot_leftovers,
        }
    }

    /// The module rebooted (`RDY`, `NORMAL POWER DOWN`...): it holds nothing,
    /// runs no session, owes nothing, keeps no uploaded file; what a mail
    /// set is as a boot leaves it.
    pub fn handle_reboot(&mut self) {
        *self = Self {
            reboots: self.reboots + 1,
            ..Self::leaving(self.boot_leftovers)
        };
    }

    /// The URC watch fell behind and `missed` URCs were lost: a reboot or a
    /// released bearer may be among them, so every setting is sent again,
    /// what a mail left is taken as what it was or what a boot leaves,
    /// whichever asks more clean-up, and an open bearer as lost. The
    /// sessions are left as they are (a missed URC is not known to be a
    /// reboot; a session that ended shows at its next command).
    pub fn handle_urcs_missed(&mut self, missed: u64) {
        if missed == 0 {
            return;
        }
        self.settings.forget_all();
        if self.boot_leftovers == Left::MaybeSet {
            self.leftovers = Leftovers::unknown();
        }
        self.handle_bearer_lost();
    }

    /// The module ended the POP3 session by itself (SIM7000 `+POP3OUT`): a
    /// result still owed stays owed, with no session left to end.
    pub fn handle_pop3_ended(&mut self) {
        self.pop3 = match std::mem::take(&mut self.pop3) {
            Pop3::Owed(d) | Pop3::ClosedOwed(d) => Pop3::ClosedOwed(d),
            Pop3::Closed | Pop3::Open => Pop3::Closed,
        };
    }

    /// The module released the bearer: an open one is lost (one not known
    /// open is opened anyway before use).
    pub fn handle_bearer_lost(&mut self) {
        if self.bearer == Bearer::Open {
            self.bearer = Bearer::Lost;
        }
    }

    /// Records that `service` owes a result to `owed_by` (before its first byte).
    pub fn owe(&mut self, service: Service, owed_by: impl Into<Cow<'static, str>>) {
        let debt = Debt {
            owed_by: owed_by.into(),
        };
        match service {
            Service::Smtp => self.smtp = Smtp::Owed(debt),
            Service::Pop3 => {
                self.pop3 = match self.pop3 {
                    Pop3::Closed | Pop3::ClosedOwed(_) => Pop3::ClosedOwed(debt),
                    Pop3::Open | Pop3::Owed(_) => Pop3::Owed(debt),
                }
            }
        }
    }

    /// The host stops waiting for the SMTP result it is owed; the module
    /// will still send it ([`Smtp::Late`]).
    pub fn give_up_smtp(&mut self) {
        if matches!(self.smtp, Smtp::Owed(_)) {
            self.smtp = Smtp::Late;
        }
    }

    /// A late SMTP result arrived (as a URC): nothing is owed any more.
    pub fn handle_late_result(&mut self) {
        if self.smtp == Smtp::Late {
            self.smtp = Smtp::Idle;
        }
    }

    /// The result `service` owed came (or the module said none will): the
    /// SMTP client is idle; the POP3 session is open again, or, for a login,
    /// still closed until the caller reads the result as a success.
    pub fn settle(&mut self, service: Service) {
        match service {
            Service::Smtp => self.smtp = Smtp::Idle,
            Service::Pop3 => match self.pop3 {
                Pop3::Owed(_) => self.pop3 = Pop3::Open,
                Pop3::ClosedOwed(_) => self.pop3 = Pop3::Closed,
                Pop3::Closed | Pop3::Open => {}
            },
        }
    }

    /// What `service` still owes, if anything.
    pub fn debt(&self, service: Service) -> Option<&Debt> {
        match (service, &self.smtp, &self.pop3) {
            (Service::Smtp, Smtp::Owed(d), _)
            | (Service::Pop3, _, Pop3::Owed(d) | Pop3::ClosedOwed(d)) => Some(d),
            _ => None,
        }
    }

    /// An exchange completed: the state moves as its [`Then`] says. `bytes`
    /// are the command's encoded bytes (what a setting holds).
    pub fn handle_done(&mut self, then: &Then, bytes: &[u8]) {
        match then {
            Then::Keep | Then::Submits(_) | Then::Owes(_) => {}
            Then::Setting(key) => self.settings.hold(key, bytes.to_vec()),
            Then::Clears(r) => self.leftovers.mark(*r, Left::Clear),
            Then::Leaves(r) | Then::RisksLeaving(r) => self.leftovers.mark(*r, Left::MaybeSet),
            Then::OpensBearer => self.bearer = Bearer::Open,
        }
    }

    /// An exchange is about to write its first byte: what it may leave even
    /// if it fails is marked now ([`Then::RisksLeaving`]).
    pub fn handle_start(&mut self, then: &Then) {
        if let Then::RisksLeaving(r) = then {
            self.leftovers.mark(*r, Left::MaybeSet);
        }
    }

    /// Whether an exchange may be skipped: a setting the module holds.
    pub fn skips(&self, then: &Then, bytes: &[u8]) -> bool {
        matches!(then, Then::Setting(key) if self.settings.holds(key, bytes))
    }
}

#[cfg(test)]
mod tests {

    use super::*;

    fn busy() -> ModuleState {
        let mut s = ModuleState::new();
        s.settings.hold("server", b"AT+SMTPSRV=\"a\",25\r".to_vec());
        s.leftovers = Leftovers([Left::Clear; 4]);
        s.owe(Service::Smtp, "AT+SMTPSEND");
        s.pop3 = Pop3::Open;
        s.bearer = Bearer::Open;
        s
    }

    #[test]
    fn a_new_state_holds_nothing_and_assumes_everything_left() {
        let s = ModuleState::new();
        assert!(s.settings.is_empty());
        assert_eq!(s.leftovers.maybe_set().collect::<Vec<_>>(), Residue::ALL);
        assert_eq!(
            (&s.smtp, &s.pop3, &s.bearer),
            (&Smtp::Idle, &Pop3::Closed, &Bearer::Unknown)
        );
    }

    #[test]
    fn a_reboot_mid_mail_forgets_everything() {
        let mut s = busy();
        s.handle_reboot();
        assert_eq!(
            s,
            ModuleState {
                reboots: 1,
                ..ModuleState::new()
            }
        );
    }

    #[test]
    fn urcs_missed_forget_settings_and_leftovers_but_keep_sessions() {
        let mut s = busy();
        s.handle_urcs_missed(3);
        assert!(s.settings.is_empty());
        assert_eq!(s.leftovers, Leftovers::unknown());
        assert!(matches!(s.smtp, Smtp::Owed(_)));
        assert_eq!(s.pop3, Pop3::Open);
        assert_eq!(s.bearer, Bearer::Lost);
    }

    #[test]
    fn urcs_missed_keep_leftovers_a_boot_clears() {
        let mut s = ModuleState::leaving(Left::Clear);
        assert_eq!(s.leftovers.maybe_set().count(), 0);
        s.leftovers.mark(Residue::Attachments, Left::MaybeSet);
        s.handle_urcs_missed(2);
        assert_eq!(
            s.leftovers.maybe_set().collect::<Vec<_>>(),
            [Residue::Attachments]
        );
        s.handle_reboot();
        assert_eq!(
            s.leftovers.maybe_set().count(),
            0,
            "a boot empties the lists"
        );
        assert_eq!(s.reboots, 1);
    }

    #[test]
    fn a_reboot_loses_the_uploads_and_is_counted() {
        let mut s = ModuleState::new();
        s.uploads.push("RAM:ca.pem".into());
        s.mail_files.push("RAM:log.txt".into());
        s.handle_reboot();
        s.handle_reboot();
        assert!(s.uploads.is_empty());
        assert!(s.mail_files.is_empty());
        assert_eq!(s.reboots, 2);
    }

    #[test]
    fn a_command_that_risks_leaving_marks_before_its_first_byte() {
        let mut s = ModuleState::leaving(Left::Clear);
        let then = Then::RisksLeaving(Residue::Attachments);
        s.handle_start(&then);
        assert_eq!(s.leftovers.left(Residue::Attachments), Left::MaybeSet);
        s.handle_start(&Then::Leaves(Residue::Recipients(RecipientKind::To)));
        assert_eq!(
            s.leftovers.left(Residue::Recipients(RecipientKind::To)),
            Left::Clear,
            "Leaves marks only on success"
        );
    }

    #[test]
    fn a_bearer_not_open_is_not_lost() {
        let mut s = ModuleState::new();
        s.handle_bearer_lost();
        assert_eq!(s.bearer, Bearer::Unknown);
    }

    #[test]
    fn no_urc_missed_moves_nothing() {
        let mut s = busy();
        s.handle_urcs_missed(0);
        assert_eq!(s, busy());
    }

    #[test]
    fn a_bearer_lost_is_lost_until_opened() {
        let mut s = busy();
        s.handle_bearer_lost();
        assert_eq!(s.bearer, Bearer::Lost);
        s.handle_urcs_missed(1);
        assert_eq!(s.bearer, Bearer::Lost, "missed URCs do not reopen it");
        s.handle_done(&Then::OpensBearer, b"");
        assert_eq!(s.bearer, Bearer::Open);
    }

    #[test]
    fn a_result_owed_by_a_cancelled_call_stays_until_settled() {
        let mut s = ModuleState::new();
        s.owe(Service::Smtp, "AT+SMTPSEND");
        // The call is dropped here: nothing settles it.
        assert_eq!(
            s.debt(Service::Smtp).map(|d| d.owed_by.as_ref()),
            Some("AT+SMTPSEND")
        );
        s.settle(Service::Smtp);
        assert_eq!(s.debt(Service::Smtp), None);
    }

    #[test]
    fn a_pop3_debt_settles_back_to_open_and_a_login_back_to_closed() {
        let mut s = ModuleState::new();
        s.pop3 = Pop3::Open;
        s.owe(Service::Pop3, "AT+POP3GET=1");
        assert!(matches!(s.pop3, Pop3::Owed(_)));
        s.settle(Service::Pop3);
        assert_eq!(s.pop3, Pop3::Open);
        s.pop3 = Pop3::Closed;
        s.owe(Service::Pop3, "AT+POP3IN");
        assert!(
            matches!(s.pop3, Pop3::ClosedOwed(_)),
            "a login owes, no session yet"
        );
        assert!(s.debt(Service::Pop3).is_some());
        s.settle(Service::Pop3);
        assert_eq!(s.pop3, Pop3::Closed, "settling opens no session");
    }

    #[test]
    fn a_session_the_module_ended_keeps_the_debt_but_nothing_to_end() {
        let mut s = ModuleState::new();
        s.pop3 = Pop3::Open;
        s.handle_pop3_ended();
        assert_eq!(s.pop3, Pop3::Closed);
        s.pop3 = Pop3::Open;
        s.owe(Service::Pop3, "AT+POP3NUM");
        s.handle_pop3_ended();
        assert!(matches!(s.pop3, Pop3::ClosedOwed(_)));
        assert!(s.debt(Service::Pop3).is_some());
    }

    #[test]
    fn a_given_up_smtp_result_is_late_until_it_comes() {
        let mut s = ModuleState::new();
        s.give_up_smtp();
        assert_eq!(s.smtp, Smtp::Idle, "nothing owed, nothing late");
        s.owe(Service::Smtp, "AT+SMTPSEND");
        s.give_up_smtp();
        assert_eq!(s.smtp, Smtp::Late);
        assert_eq!(s.debt(Service::Smtp), None, "late is no debt to stop");
        s.handle_late_result();
        assert_eq!(s.smtp, Smtp::Idle);
    }

    #[test]
    fn a_reboot_forgets_a_late_result_and_a_login_in_flight() {
        let mut s = ModuleState::new();
        s.owe(Service::Smtp, "AT+SMTPSEND");
        s.give_up_smtp();
        s.owe(Service::Pop3, "AT+POP3IN");
        s.handle_reboot();
        assert_eq!((s.smtp, s.pop3), (Smtp::Idle, Pop3::Closed));
    }

    #[test]
    fn settings_are_held_by_their_bytes() {
        let mut s = ModuleState::new();
        let then = Then::Setting("server");
        assert!(!s.skips(&then, b"A"));
        s.handle_done(&then, b"A");
        assert!(s.skips(&then, b"A"));
        assert!(!s.skips(&then, b"B"), "a changed setting is sent again");
        assert!(!s.skips(&Then::Keep, b"A"));
        assert!(s.settings.forget("server"));
        assert!(!s.settings.forget("server"));
    }

    #[test]
    fn leftovers_move_with_clears_and_leaves() {
        let mut s = ModuleState::new();
        let to = Residue::Recipients(RecipientKind::To);
        s.handle_done(&Then::Clears(to), b"");
        assert_eq!(s.leftovers.left(to), Left::Clear);
        s.handle_done(&Then::Leaves(to), b"");
        assert_eq!(s.leftovers.left(to), Left::MaybeSet);
    }

    #[test]
    fn debug_shows_no_setting_bytes() {
        let mut s = ModuleState::new();
        s.settings
            .hold("auth", b"AT+SMTPAUTH=1,\"u\",\"hunter2\"\r".to_vec());
        let shown = format!("{s:?}");
        assert!(
            shown.contains("auth") && !shown.contains("hunter2"),
            "{shown}"
        );
    }
}
