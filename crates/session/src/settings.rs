//! The settings cache: what the module holds, as this host last set it.

use std::collections::BTreeMap;
use std::fmt;

/// The settings the module holds, as this host last set them: a setting is
/// sent only when the module does not hold it already (the manuals: "only
/// configure mandatory parameters once correctly, until reboot").
///
/// The key names the setting (`"server"`, `"auth"`); the value is the
/// command's encoded bytes, so a changed account is sent again. `Debug` lists
/// the keys only: an encoded login carries the password.
///
/// ```
/// use cellmail_session::Settings;
/// let mut s = Settings::default();
/// assert!(!s.holds("auth", b"AT+SMTPAUTH=1,\"u\",\"pw\"\r"));
/// s.hold("auth", b"AT+SMTPAUTH=1,\"u\",\"pw\"\r".to_vec());
/// assert!(s.holds("auth", b"AT+SMTPAUTH=1,\"u\",\"pw\"\r"));
/// assert!(!format!("{s:?}").contains("pw"));
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Settings {
    held: BTreeMap<&'static str, Vec<u8>>,
}

impl Settings {
    /// Whether the module holds exactly `bytes` under `key`.
    pub fn holds(&self, key: &str, bytes: &[u8]) -> bool {
        self.held.get(key).is_some_and(|b| b == bytes)
    }

    /// The module took `bytes` under `key`.
    pub fn hold(&mut self, key: &'static str, bytes: Vec<u8>) {
        self.held.insert(key, bytes);
    }

    /// Forgets one setting (the module may have lost it); whether it was held.
    pub fn forget(&mut self, key: &str) -> bool {
        self.held.remove(key).is_some()
    }

    /// Forgets every setting: each is sent again.
    pub fn forget_all(&mut self) {
        self.held.clear();
    }

    /// Whether nothing is known to be held.
    pub fn is_empty(&self) -> bool {
        self.held.is_empty()
    }
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.held.keys()).finish()
    }
}
