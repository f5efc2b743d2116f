//! Accounts given as URLs: `smtp://user@host:587?tls=starttls`, `smtps://user@host:465`,
//! `smtp://host:25` (no login), `pop3://user@host:110`, `pop3s://user@host:995`.
//!
//! Pure parsing: no file, no network. A password in the URL is refused (secrets never go on
//! the command line) and never echoed in an error.

use cellmail::TlsMode;

/// Which account a URL names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// `smtp://`, `smtps://`.
    Smtp,
    /// `pop3://`, `pop3s://`.
    Pop3,
}

impl Protocol {
    fn schemes(self) -> &'static str {
        match self {
            Self::Smtp => "smtp:// or smtps://",
            Self::Pop3 => "pop3:// or pop3s://",
        }
    }
}

/// A parsed account URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountUrl {
    /// Server host name or address.
    pub host: String,
    /// Server port (the scheme's well-known port when the URL has none).
    pub port: u16,
    /// The login user, percent-decoded (`alice%40example.com` or `alice@example.com@host`).
    pub user: Option<String>,
    /// How the connection is secured.
    pub tls: TlsMode,
}

/// Why an account URL was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum UrlError {
    /// Not a URL at all.
    #[error("{flag}: not a URL ({reason}); write it like {example}")]
    Syntax {
        /// The flag it came with.
        flag: &'static str,
        /// What the parser said.
        reason: String,
        /// A URL of the right shape.
        example: &'static str,
    },
    /// A scheme other than the protocol's.
    #[error("{flag}: unknown scheme {scheme:?}; use {expected}")]
    Scheme {
        /// The flag.
        flag: &'static str,
        /// The scheme given.
        scheme: String,
        /// The schemes accepted.
        expected: &'static str,
    },
    /// No server host.
    #[error("{flag}: the URL has no host; write it like {example}")]
    NoHost {
        /// The flag.
        flag: &'static str,
        /// A URL of the right shape.
        example: &'static str,
    },
    /// A port that is not 1-65535.
    #[error("{flag}: bad port {port:?}: give a number from 1 to 65535")]
    BadPort {
        /// The flag.
        flag: &'static str,
        /// The port as written.
        port: String,
    },
    /// A `tls=` value the scheme does not take.
    #[error("{flag}: unknown tls value {value:?}; {scheme}:// takes tls={allowed}")]
    UnknownTls {
        /// The flag.
        flag: &'static str,
        /// The scheme.
        scheme: String,
        /// The value given.
        value: String,
        /// The values accepted.
        allowed: &'static str,
    },
    /// A query parameter other than `tls`.
    #[error("{flag}: unknown URL parameter {key:?}; the only one is tls")]
    UnknownParameter {
        /// The flag.
        flag: &'static str,
        /// The parameter.
        key: String,
    },
    /// A path after the host.
    #[error("{flag}: the URL has a path ({path:?}); an account is scheme://user@host:port only")]
    Path {
        /// The flag.
        flag: &'static str,
        /// The path.
        path: String,
    },
    /// A password inside the URL.
    #[error(
        "{flag}: the URL holds a password; secrets never go on the command line: \
         give --password-env VAR or --password-file PATH"
    )]
    Password {
        /// The flag.
        flag: &'static str,
    },
    /// POP3 without a user.
    #[error("{flag}: POP3 needs a user: write it like {example}")]
    NoUser {
        /// The flag.
        flag: &'static str,
        /// A URL of the right shape.
        example: &'static str,
    },
}

/// Parses an account URL of `protocol`, given with `flag` (named in errors).
pub fn parse(protocol: Protocol, flag: &'static str, text: &str) -> Result<AccountUrl, UrlError> {
    let example = match protocol {
        Protocol::Smtp => "smtp://user@host:587?tls=starttls",
        Protocol::Pop3 => "pop3://user@host:110",
    };
    // The `url` crate reads the port itself; a port it refuses is named from the text.
    let url = url::Url::parse(text).map_err(|e| match e {
        url::ParseError::InvalidPort => UrlError::BadPort {
            flag,
            port: port_text(text),
        },
        url::ParseError::EmptyHost => UrlError::NoHost { flag, example },
        other => UrlError::Syntax {
            flag,
            reason: other.to_string(),
            example,
        },
    })?;
    let scheme = url.scheme().to_owned();
    let (implicit, known) = match (protocol, scheme.as_str()) {
        (Protocol::Smtp, "smtp") => (false, 25),
        (Protocol::Smtp, "smtps") => (true, 465),
        (Protocol::Pop3, "pop3") => (false, 110),
        (Protocol::Pop3, "pop3s") => (true, 995),
        _ => {
            return Err(UrlError::Scheme {
                flag,
                scheme,
                expected: protocol.schemes(),
            });
        }
    };
    if url.password().is_some() {
        return Err(UrlError::Password { flag });
    }
    let host = url.host_str().unwrap_or_default();
    if host.is_empty() {
        return Err(UrlError::NoHost { flag, example });
    }
    // IPv6 literals come back bracketed; the modules want the bare address.
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let port = match url.port() {
        Some(0) => {
            return Err(UrlError::BadPort {
                flag,
                port: "0".into(),
            });
        }
        Some(p) => p,
        None => known,
    };
    if !matches!(url.path(), "" | "/") {
        return Err(UrlError::Path {
            flag,
            path: url.path().to_owned(),
        });
    }
    let mut tls = if implicit {
        TlsMode::Implicit
    } else {
        TlsMode::None
    };
    for (key, value) in url.query_pairs() {
        if key != "tls" {
            return Err(UrlError::UnknownParameter {
                flag,
                key: key.into_owned(),
            });
        }
        tls = match (implicit, value.as_ref()) {
            (false, "none") => TlsMode::None,
            (false, "starttls") => TlsMode::StartTls,
            (true, "implicit") => TlsMode::Implicit,
            _ => {
                return Err(UrlError::UnknownTls {
                    flag,
                    scheme: scheme.clone(),
                    value: value.into_owned(),
                    allowed: if implicit {
                        "implicit (the default)"
                    } else {
                        "none (the default) or tls=starttls"
                    },
                });
            }
        };
    }
    let user = match url.username() {
        "" => None,
        raw => Some(percent_decode(raw).ok_or(UrlError::Syntax {
            flag,
            reason: "the user is not UTF-8 after percent-decoding".into(),
            example,
        })?),
    };
    if protocol == Protocol::Pop3 && user.is_none() {
        return Err(UrlError::NoUser { flag, example });
    }
    Ok(AccountUrl {
        host,
        port,
        user,
        tls,
    })
}

/// The text between the last `:` after the host and the path or query, for an error.
fn port_text(text: &str) -> String {
    let rest = text.split_once("://").map_or(text, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    host_port
        .rsplit_once(':')
        .map_or_else(String::new, |(_, p)| p.to_owned())
}

fn percent_decode(raw: &str) -> Option<String> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = raw.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn smtp(text: &str) -> Result<AccountUrl, UrlError> {
        parse(Protocol::Smtp, "--smtp", text)
    }

    fn pop3(text: &str) -> Result<AccountUrl, UrlError> {
        parse(Protocol::Pop3, "--pop3", text)
    }

    fn account(host: &str, port: u16, user: Option<&str>, tls: TlsMode) -> AccountUrl {
        AccountUrl {
            host: host.into(),
            port,
            user: user.map(Into::into),
            tls,
        }
    }

    #[test]
    fn every_form_the_issue_names() {
        assert_eq!(
            smtp("smtp://user@host:587?tls=starttls"),
            Ok(account("host", 587, Some("user"), TlsMode::StartTls))
        );
        assert_eq!(
            smtp("smtps://user@host:465"),
            Ok(account("host", 465, Some("user"), TlsMode::Implicit))
        );
        assert_eq!(
            smtp("smtp://host:25"),
            Ok(account("host", 25, None, TlsMode::None))
        );
        assert_eq!(
            pop3("pop3://user@host:110"),
            Ok(account("host", 110, Some("user"), TlsMode::None))
        );
        assert_eq!(
            pop3("pop3s://user@host:995"),
            Ok(account("host", 995, Some("user"), TlsMode::Implicit))
        );
    }

    #[test]
    fn default_ports_addresses_as_users_and_ip_hosts() {
        assert_eq!(smtp("smtp://host").map(|a| a.port), Ok(25));
        assert_eq!(smtp("smtps://host").map(|a| a.port), Ok(465));
        assert_eq!(pop3("pop3://u@host").map(|a| a.port), Ok(110));
        assert_eq!(pop3("pop3s://u@host/").map(|a| a.port), Ok(995));
        let encoded = smtp("smtp://alice%40cellmail.test@127.0.0.1:2525").unwrap();
        assert_eq!(encoded.user.as_deref(), Some("alice@cellmail.test"));
        assert_eq!(encoded.host, "127.0.0.1");
        let plain = smtp("smtp://alice@cellmail.test@127.0.0.1:2525").unwrap();
        assert_eq!(plain.user.as_deref(), Some("alice@cellmail.test"));
        assert_eq!(smtp("smtp://[::1]:25").unwrap().host, "::1");
        assert_eq!(
            smtp("smtp://h:25?tls=none").map(|a| a.tls),
            Ok(TlsMode::None)
        );
        assert_eq!(
            smtp("smtps://h?tls=implicit").map(|a| a.tls),
            Ok(TlsMode::Implicit)
        );
    }

    #[test]
    fn no_host() {
        for text in ["smtp://", "smtp://:25", "smtp://user@:25", "smtp:///path"] {
            assert!(
                matches!(
                    smtp(text),
                    Err(UrlError::NoHost { .. } | UrlError::Syntax { .. })
                ),
                "{text}: {:?}",
                smtp(text)
            );
        }
        assert_eq!(
            smtp("smtp://:25").unwrap_err().to_string(),
            "--smtp: the URL has no host; write it like smtp://user@host:587?tls=starttls"
        );
        assert!(matches!(
            pop3("pop3://u@:110"),
            Err(UrlError::NoHost { .. })
        ));
    }

    #[test]
    fn bad_port() {
        for (text, port) in [
            ("smtp://host:99999", "99999"),
            ("smtp://host:abc", "abc"),
            ("smtp://u@host:0", "0"),
            ("pop3://u@host:-1", "-1"),
        ] {
            let err = if text.starts_with("pop3") {
                pop3(text)
            } else {
                smtp(text)
            };
            assert_eq!(
                err,
                Err(UrlError::BadPort {
                    flag: if text.starts_with("pop3") {
                        "--pop3"
                    } else {
                        "--smtp"
                    },
                    port: port.into()
                }),
                "{text}"
            );
        }
    }

    #[test]
    fn unknown_scheme() {
        for text in ["http://host:25", "imap://u@host", "pop3://u@host"] {
            assert!(matches!(smtp(text), Err(UrlError::Scheme { .. })), "{text}");
        }
        assert!(matches!(
            pop3("smtp://u@host"),
            Err(UrlError::Scheme { .. })
        ));
        assert!(
            smtp("http://host")
                .unwrap_err()
                .to_string()
                .contains("smtp:// or smtps://")
        );
        assert!(matches!(smtp("host:25"), Err(UrlError::Scheme { .. })));
        assert!(matches!(smtp("not a url"), Err(UrlError::Syntax { .. })));
    }

    #[test]
    fn unknown_tls_value() {
        for text in [
            "smtp://h?tls=yes",
            "smtp://h?tls=implicit",
            "smtps://h?tls=starttls",
            "smtp://h?tls=",
        ] {
            assert!(
                matches!(smtp(text), Err(UrlError::UnknownTls { .. })),
                "{text}: {:?}",
                smtp(text)
            );
        }
        assert!(matches!(
            pop3("pop3://u@h?tls=ssl"),
            Err(UrlError::UnknownTls { .. })
        ));
        assert!(matches!(
            smtp("smtp://h?starttls=1"),
            Err(UrlError::UnknownParameter { .. })
        ));
    }

    #[test]
    fn a_password_path_or_missing_pop3_user_is_refused_and_never_echoed() {
        let err = smtp("smtp://alice:hunter2@host:587").unwrap_err();
        assert_eq!(err, UrlError::Password { flag: "--smtp" });
        assert!(!format!("{err} {err:?}").contains("hunter2"));
        assert!(matches!(smtp("smtp://h/inbox"), Err(UrlError::Path { .. })));
        assert!(matches!(
            pop3("pop3://host:110"),
            Err(UrlError::NoUser { .. })
        ));
    }
}
