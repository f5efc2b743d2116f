//! The table of `MailError::is_transient`'s rustdoc, checked row by row
//! against the function: the source's table is read, each row's examples are
//! built, and every variant (every `AtError` inside `Modem` too) has a row.

use std::collections::BTreeSet;
use std::io;

use cellmail::{MailError, VendorCode};
use cellmail_at::{AtError, CmeError, Command};

const SOURCE: &str = include_str!("../src/error.rs");

struct Row {
    key: String,
    transient: bool,
    kinds: Vec<io::ErrorKind>,
}

fn kind(name: &str) -> Option<io::ErrorKind> {
    use io::ErrorKind as K;
    Some(match name {
        "NotFound" => K::NotFound,
        "IsADirectory" => K::IsADirectory,
        "NotADirectory" => K::NotADirectory,
        "InvalidInput" => K::InvalidInput,
        "InvalidData" => K::InvalidData,
        "PermissionDenied" => K::PermissionDenied,
        "Unsupported" => K::Unsupported,
        _ => return None,
    })
}

/// The rows of the table in `is_transient`'s rustdoc.
fn rows() -> Vec<Row> {
    SOURCE
        .lines()
        .filter_map(|l| l.trim().strip_prefix("/// | `"))
        .map(|row| {
            let cells: Vec<&str> = row.split(" | ").collect();
            assert!(cells.len() >= 3, "a row of three cells: {row}");
            let key = format!("`{}", cells[0]);
            let transient = match cells[1] {
                "yes" => true,
                "no" => false,
                other => panic!("transient is yes or no, not {other}: {row}"),
            };
            // The io kinds a row names in parentheses.
            let kinds = key
                .split_once(" (")
                .filter(|(head, _)| head.contains(" of "))
                .map(|(_, names)| names.split('`').filter_map(kind).collect())
                .unwrap_or_default();
            Row {
                key,
                transient,
                kinds,
            }
        })
        .collect()
}

fn io_error(kind: io::ErrorKind) -> io::Error {
    io::Error::new(kind, "test")
}

fn vendor() -> Option<VendorCode> {
    Some(VendorCode::Number(61))
}

/// Examples of each row, by the row's first words.
fn examples(row: &Row) -> Vec<MailError> {
    let encode = Command::write("+X")
        .string("apn", "a\"b")
        .encode()
        .expect_err("a quote cannot be encoded");
    let rejected = |code| MailError::Rejected {
        code,
        text: "reply".into(),
        vendor: None,
    };
    let at = |e: AtError| MailError::Modem(e);
    let key = row.key.as_str();
    let from_kinds = |wrap: fn(io::Error) -> MailError| {
        assert!(!row.kinds.is_empty(), "{key}: names its io kinds");
        row.kinds.iter().map(|k| wrap(io_error(*k))).collect()
    };
    match key {
        "`Invalid`" => vec![MailError::invalid("subject", "too long")],
        "`Unsupported`" => vec![MailError::unsupported("TLS")],
        "`Auth`" => vec![MailError::Auth { vendor: vendor() }],
        "`Dns`" => vec![MailError::Dns { vendor: None }],
        "`Network`" => vec![MailError::Network {
            detail: "bearer lost".into(),
            vendor: vendor(),
        }],
        "`Timeout`" => vec![MailError::Timeout {
            detail: "the server".into(),
            vendor: None,
        }],
        "`Tls`" => vec![MailError::Tls {
            detail: "handshake".into(),
            vendor: None,
        }],
        "`BadRecipient`" => vec![MailError::BadRecipient {
            address: None,
            vendor: None,
        }],
        "`Busy`" => vec![MailError::Busy { vendor: None }],
        "`Throttled`" => vec![MailError::Throttled {
            detail: "Access denied".into(),
            vendor: vendor(),
        }],
        k if k.starts_with("`Rejected` with a 4xx") => {
            [400, 421, 451, 499].into_iter().map(rejected).collect()
        }
        k if k.starts_with("`Rejected` with a 5xx") => {
            [0, 500, 550, 554, 599].into_iter().map(rejected).collect()
        }
        "`Modem(Timeout)`, `Modem(Closed)`" => vec![
            at(AtError::Timeout {
                command: "AT".into(),
                after: std::time::Duration::from_secs(5),
            }),
            at(AtError::Closed),
        ],
        "`Modem(Silent)`" => vec![at(AtError::Silent {
            command: "AT".into(),
            after: std::time::Duration::from_secs(5),
        })],
        "`Modem(Rebooted)`" => vec![at(AtError::Rebooted {
            command: "+QSMTPPUT:".into(),
            line: "RDY".into(),
        })],
        k if k.starts_with("`Modem(Io)` of a port") => {
            from_kinds(|e| MailError::Modem(AtError::Io(e)))
        }
        k if k.starts_with("`Modem(Io)` of any other kind") => [
            io::ErrorKind::BrokenPipe,
            io::ErrorKind::InvalidData,
            io::ErrorKind::Other,
            io::ErrorKind::TimedOut,
            io::ErrorKind::UnexpectedEof,
            io::ErrorKind::ResourceBusy,
        ]
        .into_iter()
        .map(|k| at(AtError::Io(io_error(k))))
        .collect(),
        k if k.starts_with("`Modem(Error)`") => vec![
            at(AtError::Error {
                command: "AT".into(),
            }),
            at(AtError::Cme {
                command: "AT".into(),
                error: CmeError::Code(3),
            }),
            at(AtError::Cms {
                command: "AT".into(),
                code: 500,
            }),
            at(AtError::Failed {
                command: "AT".into(),
                result: "SEND FAIL".into(),
            }),
            at(AtError::Protocol {
                command: "AT".into(),
                detail: "unreadable".into(),
            }),
            at(AtError::Encode(encode)),
        ],
        k if k.starts_with("`Io` of a host file") => from_kinds(MailError::Io),
        k if k.starts_with("`Io` of any other kind") => [
            io::ErrorKind::Other,
            io::ErrorKind::Interrupted,
            io::ErrorKind::UnexpectedEof,
            io::ErrorKind::BrokenPipe,
        ]
        .into_iter()
        .map(|k| MailError::Io(io_error(k)))
        .collect(),
        other => panic!("a row without examples: {other}"),
    }
}

/// The variant's name; no wildcard, so a new variant of either enum fails to
/// compile here until it has a row.
fn variant(e: &MailError) -> &'static str {
    match e {
        MailError::Invalid { .. } => "Invalid",
        MailError::Unsupported { .. } => "Unsupported",
        MailError::Auth { .. } => "Auth",
        MailError::Dns { .. } => "Dns",
        MailError::Network { .. } => "Network",
        MailError::Timeout { .. } => "Timeout",
        MailError::Tls { .. } => "Tls",
        MailError::Rejected { .. } => "Rejected",
        MailError::BadRecipient { .. } => "BadRecipient",
        MailError::Busy { .. } => "Busy",
        MailError::Throttled { .. } => "Throttled",
        MailError::Io(_) => "Io",
        MailError::Modem(at) => match at {
            AtError::Encode(_) => "Modem(Encode)",
            AtError::Error { .. } => "Modem(Error)",
            AtError::Cme { .. } => "Modem(Cme)",
            AtError::Cms { .. } => "Modem(Cms)",
            AtError::Failed { .. } => "Modem(Failed)",
            AtError::Timeout { .. } => "Modem(Timeout)",
            AtError::Silent { .. } => "Modem(Silent)",
            AtError::Protocol { .. } => "Modem(Protocol)",
            AtError::Closed => "Modem(Closed)",
            AtError::Rebooted { .. } => "Modem(Rebooted)",
            AtError::Io(_) => "Modem(Io)",
        },
    }
}

const EVERY_VARIANT: &[&str] = &[
    "Invalid",
    "Unsupported",
    "Auth",
    "Dns",
    "Network",
    "Timeout",
    "Tls",
    "Rejected",
    "BadRecipient",
    "Busy",
    "Throttled",
    "Io",
    "Modem(Encode)",
    "Modem(Error)",
    "Modem(Cme)",
    "Modem(Cms)",
    "Modem(Failed)",
    "Modem(Timeout)",
    "Modem(Silent)",
    "Modem(Protocol)",
    "Modem(Closed)",
    "Modem(Rebooted)",
    "Modem(Io)",
];

#[test]
fn every_row_of_the_table_is_what_is_transient_says() {
    let rows = rows();
    assert!(rows.len() >= 17, "the table was found: {} rows", rows.len());
    let mut seen = BTreeSet::new();
    for row in &rows {
        for e in examples(row) {
            assert_eq!(e.is_transient(), row.transient, "{}: {e}", row.key);
            let name = variant(&e);
            assert!(
                row.key.contains(&format!("`{name}")),
                "{name} under {}",
                row.key
            );
            seen.insert(name);
        }
    }
    let every: BTreeSet<&str> = EVERY_VARIANT.iter().copied().collect();
    assert_eq!(seen, every, "every variant has a row");
}
