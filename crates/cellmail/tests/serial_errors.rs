//! What a program meets opening a port that cannot work: a permanent
//! error (a retry loop gives up at once), kept apart from a line that failed
//! mid-exchange (worth another try). Real paths, no mocks.
#![cfg(unix)]

use std::io;

use cellmail::MailError;
use cellmail_at::AtError;

fn open(path: &str, baud: u32) -> MailError {
    match cellmail_at::serial::open(path, baud) {
        Ok(port) => panic!("{path} opened: {port:?}"),
        Err(e) => MailError::from(e),
    }
}

#[test]
fn a_port_that_does_not_exist_or_is_not_a_tty_is_permanent() {
    let dir = std::env::temp_dir().join(format!("cellmail-open-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let missing = dir.join("ttyUSB7");
    let cases = [
        ("/dev/null", io::ErrorKind::InvalidInput),
        (dir.to_str().expect("utf-8"), io::ErrorKind::IsADirectory),
        (missing.to_str().expect("utf-8"), io::ErrorKind::NotFound),
    ];
    for (path, kind) in cases {
        let e = open(path, 115_200);
        assert!(
            matches!(&e, MailError::Modem(AtError::Io(io)) if io.kind() == kind),
            "{path}: {e:?}"
        );
        assert!(!e.is_transient(), "{path}: {e}");
        assert!(e.to_string().contains(path), "{e}");
    }
    std::fs::remove_dir_all(&dir).expect("clean up");
}

#[test]
fn impossible_settings_are_invalid_naming_the_field() {
    let cases = [("/dev/ttyUSB2", 0, "baud"), ("", 115_200, "serial port")];
    for (path, baud, field) in cases {
        let e = open(path, baud);
        assert!(
            matches!(&e, MailError::Invalid { field: f, .. } if f == field),
            "{e:?}"
        );
        assert!(!e.is_transient());
    }
}

#[test]
fn a_line_that_fails_mid_exchange_is_still_worth_a_retry() {
    for kind in [
        io::ErrorKind::BrokenPipe,
        io::ErrorKind::InvalidData,
        io::ErrorKind::Other,
        io::ErrorKind::ResourceBusy,
    ] {
        let e = MailError::from(AtError::Io(io::Error::new(kind, "line")));
        assert!(e.is_transient(), "{kind:?}");
    }
}
