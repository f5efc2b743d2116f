//! A string that never shows itself in `Debug`, `Display`, logs or errors.

use std::fmt;

/// A secret value (password, key). `Debug` and `Display` print `***`; only
/// [`Secret::expose`] gives the value, and only the encoder calls it.
///
/// ```
/// use cellmail_at::Secret;
/// let pw = Secret::new("hunter2");
/// assert_eq!(format!("{pw:?} {pw}"), "*** ***");
/// assert_eq!(pw.expose(), "hunter2");
/// ```
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value itself. Callers must not log it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Length of the value in bytes (for validating limits without exposing it).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the value is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self::new(value)
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}
