//! Values as an operator reads them in an error message: durations in
//! units, text with its invisible characters named, never Rust's `Debug`.

use std::time::Duration;

/// A duration in the largest units that fit: `200 ms`, `5 s`, `1.5 s`,
/// `2 min 30 s`, `1 h 5 min`, `30 days`.
///
/// ```
/// use std::time::Duration;
/// use cellmail_at::text::duration;
/// assert_eq!(duration(Duration::from_millis(200)), "200 ms");
/// assert_eq!(duration(Duration::from_millis(1500)), "1.5 s");
/// assert_eq!(duration(Duration::from_secs(150)), "2 min 30 s");
/// ```
pub fn duration(d: Duration) -> String {
    let secs = d.as_secs();
    let (min, hour, day) = (60, 3600, 86_400);
    match secs {
        0 if d.subsec_micros() < 1000 => format!("{} µs", d.subsec_micros()),
        0 => format!("{} ms", d.subsec_millis()),
        s if s < min => {
            let ms = d.subsec_millis();
            if ms == 0 {
                format!("{s} s")
            } else {
                let frac = format!("{ms:03}");
                format!("{s}.{} s", frac.trim_end_matches('0'))
            }
        }
        s if s < hour => match s % min {
            0 => format!("{} min", s / min),
            r => format!("{} min {r} s", s / min),
        },
        s if s < day => match (s % hour) / min {
            0 => format!("{} h", s / hour),
            m => format!("{} h {m} min", s / hour),
        },
        s if s < 2 * day => "1 day".to_owned(),
        s => format!("{} days", s / day),
    }
}

/// `text` in double quotes, its control characters named (`<CR>`, `<LF>`,
/// `<TAB>`, `<U+001B>`), everything else as it is.
///
/// ```
/// assert_eq!(cellmail_at::text::quoted("internet\r"), "\"internet<CR>\"");
/// ```
pub fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '\r' => out.push_str("<CR>"),
            '\n' => out.push_str("<LF>"),
            '\t' => out.push_str("<TAB>"),
            c if c.is_control() => out.push_str(&format!("<U+{:04X}>", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// What a character is called in a sentence: `a double quote`, `a carriage
/// return (CR)`, `Ctrl-Z`, `'<'`.
///
/// ```
/// assert_eq!(cellmail_at::text::char_name('\n'), "a line feed (LF)");
/// assert_eq!(cellmail_at::text::char_name('/'), "'/'");
/// ```
pub fn char_name(c: char) -> String {
    match c {
        '"' => "a double quote".into(),
        ' ' => "a space".into(),
        '\r' => "a carriage return (CR)".into(),
        '\n' => "a line feed (LF)".into(),
        '\t' => "a tab".into(),
        '\0' => "NUL".into(),
        '\u{1A}' => "Ctrl-Z".into(),
        '\u{1B}' => "ESC".into(),
        '\u{7F}' => "DEL".into(),
        c if c.is_control() => format!("control character U+{:04X}", u32::from(c)),
        c => format!("'{c}'"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_in_units() {
        let cases = [
            (Duration::from_micros(250), "250 µs"),
            (Duration::from_millis(200), "200 ms"),
            (Duration::from_secs(5), "5 s"),
            (Duration::from_millis(2_050), "2.05 s"),
            (Duration::from_secs(60), "1 min"),
            (Duration::from_secs(300), "5 min"),
            (Duration::from_secs(3_600), "1 h"),
            (Duration::from_secs(3_900), "1 h 5 min"),
            (Duration::from_secs(86_400), "1 day"),
            (Duration::from_secs(86_400 * 365 * 30), "10950 days"),
        ];
        for (d, want) in cases {
            assert_eq!(duration(d), want);
        }
        // Duration::MAX, as a caller may pass for "no limit": no panic.
        assert!(duration(Duration::MAX).ends_with(" days"));
    }

    #[test]
    fn text_shows_what_cannot_be_seen() {
        let cases = [
            ("plain", "\"plain\""),
            ("a\r\n.\r\n", "\"a<CR><LF>.<CR><LF>\""),
            ("esc\u{1b}", "\"esc<U+001B>\""),
            ("back\\slash", "\"back\\slash\""),
        ];
        for (text, want) in cases {
            assert_eq!(quoted(text), want);
        }
    }
}
