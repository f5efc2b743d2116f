//! Splitting the parameters of information lines (`+QSMTPSRV: "a,b",25`).

/// One comma-separated parameter of an information line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field<'a> {
    /// A double-quoted value, without its quotes.
    Quoted(&'a str),
    /// An unquoted value, trimmed.
    Bare(&'a str),
}

impl<'a> Field<'a> {
    /// The text, quoted or not.
    pub fn as_str(&self) -> &'a str {
        match self {
            Field::Quoted(s) | Field::Bare(s) => s,
        }
    }

    /// The value as an integer, if it is one.
    pub fn as_int(&self) -> Option<i64> {
        self.as_str().trim().parse().ok()
    }
}

/// Splits `text` at commas outside double quotes.
///
/// ```
/// use cellmail_at::fields::{split, Field};
/// assert_eq!(
///     split(r#"1, "a,b" ,25"#),
///     vec![Field::Bare("1"), Field::Quoted("a,b"), Field::Bare("25")]
/// );
/// assert!(split("").is_empty());
/// ```
pub fn split(text: &str) -> Vec<Field<'_>> {
    let mut out = Vec::new();
    if text.trim().is_empty() {
        return out;
    }
    let bytes = text.as_bytes();
    let mut start = 0;
    let mut in_quotes = false;
    for (i, b) in bytes.iter().enumerate() {
        match b {
            b'"' => in_quotes = !in_quotes,
            b',' if !in_quotes => {
                out.push(field(&text[start..i]));
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(field(&text[start..]));
    out
}

fn field(raw: &str) -> Field<'_> {
    let t = raw.trim();
    match t.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
        Some(inner) => Field::Quoted(inner),
        None => Field::Bare(t),
    }
}

/// The parameters of `line` after `prefix` (e.g. `+QSMTPPUT:`), or `None` when
/// the line does not start with it.
///
/// ```
/// use cellmail_at::fields::{info, Field};
/// assert_eq!(info("+QSMTPPUT: -535", "+QSMTPPUT:"), Some(vec![Field::Bare("-535")]));
/// assert_eq!(info("+QSMTPDST: 0", "+QSMTPPUT:"), None);
/// ```
pub fn info<'a>(line: &'a str, prefix: &str) -> Option<Vec<Field<'a>>> {
    line.strip_prefix(prefix).map(split)
}

/// The first integer parameter of `line` after `prefix`.
///
/// ```
/// assert_eq!(cellmail_at::fields::int("+SMTPSEND: 67", "+SMTPSEND:"), Some(67));
/// ```
pub fn int(line: &str, prefix: &str) -> Option<i64> {
    info(line, prefix)?.first()?.as_int()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_commas_stay_together() {
        let f = split(r#""a,b","c""#);
        assert_eq!(f, vec![Field::Quoted("a,b"), Field::Quoted("c")]);
    }

    #[test]
    fn empty_middle_field() {
        assert_eq!(
            split("1,,3"),
            vec![Field::Bare("1"), Field::Bare(""), Field::Bare("3")]
        );
    }

    #[test]
    fn ints() {
        assert_eq!(split(" -12 ")[0].as_int(), Some(-12));
        assert_eq!(split("x")[0].as_int(), None);
    }
}
