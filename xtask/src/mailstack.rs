//! `cargo xtask mailstack up|down|status`: a real Postfix and Dovecot on
//! loopback ports, in `target/mailstack`, for the end-to-end tests and the
//! demo. The facts it relies on are in `../shared/mailstack-notes.md`.
//!
//! `up` installs the Debian packages when they are missing (as root), makes a
//! self-signed certificate, writes the configurations, starts both servers and
//! writes `target/mailstack/env` (`KEY=VALUE` lines, also printed). `down`
//! stops only what `up` started.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::root;

/// The mail domain the stack serves.
pub const DOMAIN: &str = "cellmail.test";

/// The test users (loopback only; the passwords are test data, not secrets).
pub const USERS: [(&str, &str); 4] = [
    ("alice", "alice-secret-1"),
    ("bob", "bob-secret-2"),
    ("carol", "carol-secret-3"),
    ("dave", "dave-secret-4"),
];

/// Where a running stack listens.
#[derive(Clone, Debug)]
pub struct Endpoints {
    /// `KEY=VALUE` pairs as in the env file.
    pub vars: Vec<(String, String)>,
}

impl Endpoints {
    /// A value by key.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.vars
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    fn port(&self, key: &str) -> Option<u16> {
        self.get(key)?.parse().ok()
    }
}

fn state_dir() -> PathBuf {
    std::env::var_os("CELLMAIL_MAILSTACK_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/mailstack"))
}

fn sh(cmd: &mut Command) -> Result<String, String> {
    let shown = format!("{cmd:?}");
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run {shown}: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "{shown} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// Starts a daemon. Its output goes to its log file, not to a pipe a
/// daemonized child would hold open.
fn start(cmd: &mut Command) -> Result<(), String> {
    let shown = format!("{cmd:?}");
    let status = cmd
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .map_err(|e| format!("cannot run {shown}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{shown} failed with {status}"))
    }
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn free_port() -> Result<u16, String> {
    let l = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free port: {e}"))?;
    l.local_addr().map(|a| a.port()).map_err(|e| e.to_string())
}

fn listening(port: u16) -> bool {
    TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(300)).is_ok()
}

/// Every program the stack runs, down to Dovecot's POP3 and LMTP services
/// (a machine may have `dovecot-core` without them).
const PROGRAMS: [&str; 5] = [
    "/usr/sbin/postfix",
    "/usr/sbin/dovecot",
    "/usr/lib/dovecot/pop3",
    "/usr/lib/dovecot/lmtp",
    "/usr/bin/openssl",
];

fn installed() -> bool {
    PROGRAMS.iter().all(|p| Path::new(p).exists())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}

/// The configuration written below is Dovecot 2.3's (Debian 12); 2.4 renamed
/// many of its settings and refuses it.
fn check_dovecot_version() -> Result<(), String> {
    let out = Command::new("/usr/sbin/dovecot")
        .arg("--version")
        .output()
        .map_err(|e| format!("cannot run dovecot --version: {e}"))?;
    let version = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    if version.starts_with("2.3") {
        Ok(())
    } else {
        Err(format!(
            "found Dovecot {version}; the mail stack's configuration is written for Dovecot 2.3 (Debian 12)"
        ))
    }
}

fn install() -> Result<(), String> {
    if installed() {
        return check_dovecot_version();
    }
    if !is_root() {
        return Err(format!(
            "the mail stack needs {} (apt-get install postfix dovecot-pop3d dovecot-lmtpd openssl); run as root to have it installed",
            PROGRAMS.join(", ")
        ));
    }
    println!("mailstack: installing postfix, dovecot-pop3d, dovecot-lmtpd, openssl");
    let apt = |args: &[&str]| {
        sh(Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive"))
    };
    apt(&["update", "-q"])?;
    apt(&[
        "install",
        "-y",
        "-q",
        "postfix",
        "dovecot-pop3d",
        "dovecot-lmtpd",
        "openssl",
    ])?;
    check_dovecot_version()
}

/// Reads the env file of a running stack.
pub fn read_env() -> Result<Endpoints, String> {
    let path = state_dir().join("env");
    let text = std::fs::read_to_string(&path).map_err(|e| {
        format!(
            "no mail stack ({}: {e}); run `cargo xtask mailstack up`",
            path.display()
        )
    })?;
    let vars = text
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    Ok(Endpoints { vars })
}

fn all_listening(e: &Endpoints) -> bool {
    [
        "CELLMAIL_SMTP_PORT",
        "CELLMAIL_SMTPS_PORT",
        "CELLMAIL_POP3_PORT",
        "CELLMAIL_POP3S_PORT",
    ]
    .iter()
    .all(|k| e.port(k).is_some_and(listening))
}

/// Starts the stack unless it runs already; returns its endpoints.
pub fn ensure_up() -> Result<Endpoints, String> {
    if let Ok(e) = read_env() {
        if all_listening(&e) {
            return Ok(e);
        }
        // A stale state from an earlier run: stop what may be left of it.
        let _ = down();
    }
    install()?;
    let started = Instant::now();
    let dir = state_dir();
    let _ = std::fs::remove_dir_all(&dir);
    for sub in [
        "postfix/queue",
        "postfix/data",
        "dovecot/run",
        "dovecot/state",
        "mail",
    ] {
        std::fs::create_dir_all(dir.join(sub))
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let d = dir.to_string_lossy().into_owned();
    let (smtp, smtps, pop3, pop3s) = (free_port()?, free_port()?, free_port()?, free_port()?);

    // A test CA and a server certificate it signs (rustls refuses a CA
    // certificate used as the server's own), for both servers.
    write(
        &dir.join("san.cnf"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
    )?;
    sh(Command::new("openssl").args([
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "3650",
        "-subj",
        "/CN=cellmail test CA",
        "-keyout",
        &format!("{d}/ca.key"),
        "-out",
        &format!("{d}/ca.pem"),
    ]))?;
    // A second CA that signed nothing: certificate checks against it must fail.
    sh(Command::new("openssl").args([
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "3650",
        "-subj",
        "/CN=untrusted CA",
        "-keyout",
        &format!("{d}/other-ca.key"),
        "-out",
        &format!("{d}/other-ca.pem"),
    ]))?;
    sh(Command::new("openssl").args([
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=localhost",
        "-keyout",
        &format!("{d}/key.pem"),
        "-out",
        &format!("{d}/server.csr"),
    ]))?;
    sh(Command::new("openssl").args([
        "x509",
        "-req",
        "-days",
        "3650",
        "-in",
        &format!("{d}/server.csr"),
        "-CA",
        &format!("{d}/ca.pem"),
        "-CAkey",
        &format!("{d}/ca.key"),
        "-CAcreateserial",
        "-extfile",
        &format!("{d}/san.cnf"),
        "-out",
        &format!("{d}/cert.pem"),
    ]))?;

    // Dovecot: SASL for Postfix, LMTP delivery to Maildir, POP3 and POP3S.
    let users: String = USERS
        .iter()
        .map(|(u, p)| format!("{u}@{DOMAIN}:{{PLAIN}}{p}\n"))
        .collect();
    write(&dir.join("dovecot/users"), &users)?;
    write(
        &dir.join("dovecot/dovecot.conf"),
        &format!(
            "base_dir = {d}/dovecot/run\nstate_dir = {d}/dovecot/state\nlog_path = {d}/dovecot.log\n\
             protocols = pop3 lmtp\nlisten = 127.0.0.1\nssl = yes\nssl_cert = <{d}/cert.pem\nssl_key = <{d}/key.pem\n\
             auth_mechanisms = plain login\ndisable_plaintext_auth = no\nmail_location = maildir:{d}/mail/%n\n\
             first_valid_uid = 1\n\
             passdb {{\n  driver = passwd-file\n  args = scheme=PLAIN username_format=%u {d}/dovecot/users\n}}\n\
             userdb {{\n  driver = static\n  args = uid=mail gid=mail home={d}/mail/%n\n}}\n\
             service pop3-login {{\n  inet_listener pop3 {{\n    port = {pop3}\n  }}\n  inet_listener pop3s {{\n    port = {pop3s}\n    ssl = yes\n  }}\n}}\n\
             service lmtp {{\n  unix_listener lmtp {{\n    mode = 0666\n  }}\n}}\n\
             service auth {{\n  unix_listener auth-client {{\n    mode = 0666\n  }}\n}}\n\
             protocol lmtp {{\n  postmaster_address = postmaster@{DOMAIN}\n}}\n"
        ),
    )?;
    sh(Command::new("chown").args(["-R", "mail:mail", &format!("{d}/mail")]))?;
    sh(Command::new("chown").args(["-R", "postfix", &format!("{d}/postfix/data")]))?;

    // Postfix: submission with STARTTLS offered, implicit TLS, SASL through Dovecot.
    let pf = format!("{d}/postfix");
    let main_cf = format!(
        "compatibility_level = 3.6\nqueue_directory = {pf}/queue\ndata_directory = {pf}/data\n\
         command_directory = /usr/sbin\ndaemon_directory = /usr/lib/postfix/sbin\nmail_owner = postfix\n\
         setgid_group = postdrop\nmyhostname = mail.{DOMAIN}\nmydestination =\ninet_interfaces = 127.0.0.1\n\
         inet_protocols = ipv4\nmaillog_file = {d}/postfix.log\nmaillog_file_prefixes = {d}\n\
         virtual_mailbox_domains = {DOMAIN}\nvirtual_transport = lmtp:unix:{d}/dovecot/run/lmtp\n\
         smtpd_sasl_auth_enable = yes\nsmtpd_sasl_type = dovecot\nsmtpd_sasl_path = {d}/dovecot/run/auth-client\n\
         smtpd_tls_cert_file = {d}/cert.pem\nsmtpd_tls_key_file = {d}/key.pem\nsmtpd_tls_security_level = may\n\
         smtpd_relay_restrictions = permit_sasl_authenticated, reject_unauth_destination\n\
         smtp_dns_support_level = disabled\nbiff = no\n"
    );
    write(&dir.join("postfix/main.cf"), &main_cf)?;
    let master = std::fs::read_to_string("/etc/postfix/master.cf")
        .map_err(|e| format!("cannot read /etc/postfix/master.cf: {e}"))?;
    let mut master: String = master
        .lines()
        .filter(|l| {
            !l.starts_with("smtp      inet")
                && !l.starts_with("submission")
                && !l.starts_with("smtps")
        })
        .map(|l| format!("{l}\n"))
        .collect();
    master.push_str(&format!("127.0.0.1:{smtp} inet n - n - - smtpd\n"));
    master.push_str(&format!(
        "127.0.0.1:{smtps} inet n - n - - smtpd\n  -o smtpd_tls_wrappermode=yes\n"
    ));
    write(&dir.join("postfix/master.cf"), &master)?;
    sh(Command::new("postconf").args(["-c", &pf, "-F", "*/*/chroot = n"]))?;
    let alternates = sh(Command::new("postconf").args(["-h", "alternate_config_directories"]))?;
    if !alternates.split([',', ' ', '\n']).any(|a| a == pf) {
        let value = [alternates.trim(), pf.as_str()]
            .iter()
            .filter(|s| !s.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join(", ");
        sh(Command::new("postconf")
            .args(["-e", &format!("alternate_config_directories = {value}")]))?;
    }

    start(Command::new("dovecot").args(["-c", &format!("{d}/dovecot/dovecot.conf")]))?;
    start(Command::new("postfix").args(["-c", &pf, "start"]))
        .map_err(|e| format!("{e}; see {d}/postfix.log"))?;

    let mut vars = vec![
        ("CELLMAIL_MAILSTACK_DIR".to_owned(), d.clone()),
        ("CELLMAIL_SMTP_HOST".to_owned(), "127.0.0.1".to_owned()),
        ("CELLMAIL_SMTP_PORT".to_owned(), smtp.to_string()),
        ("CELLMAIL_SMTPS_PORT".to_owned(), smtps.to_string()),
        ("CELLMAIL_POP3_PORT".to_owned(), pop3.to_string()),
        ("CELLMAIL_POP3S_PORT".to_owned(), pop3s.to_string()),
        ("CELLMAIL_DOMAIN".to_owned(), DOMAIN.to_owned()),
        ("CELLMAIL_CA_CERT".to_owned(), format!("{d}/ca.pem")),
        (
            "CELLMAIL_OTHER_CA_CERT".to_owned(),
            format!("{d}/other-ca.pem"),
        ),
        ("CELLMAIL_MAILDIR_ROOT".to_owned(), format!("{d}/mail")),
    ];
    for (u, p) in USERS {
        vars.push((
            format!("CELLMAIL_USER_{}", u.to_uppercase()),
            format!("{u}@{DOMAIN}"),
        ));
        vars.push((
            format!("CELLMAIL_PASSWORD_{}", u.to_uppercase()),
            p.to_owned(),
        ));
    }
    let endpoints = Endpoints { vars };
    let deadline = Instant::now() + Duration::from_secs(30);
    while !all_listening(&endpoints) {
        if Instant::now() > deadline {
            return Err(format!(
                "the mail stack did not come up; see {d}/postfix.log and {d}/dovecot.log"
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let env: String = endpoints
        .vars
        .iter()
        .map(|(k, v)| format!("{k}={v}\n"))
        .collect();
    write(&dir.join("env"), &env)?;
    println!("mailstack: up in {:.1} s", started.elapsed().as_secs_f64());
    Ok(endpoints)
}

/// Stops (`false`) or starts again (`true`) the stack's Postfix alone, for a real outage:
/// while it is stopped its SMTP ports refuse connections. Returns once the ports say so.
pub fn postfix(running: bool, e: &Endpoints) -> Result<(), String> {
    let d = state_dir().to_string_lossy().into_owned();
    let verb = if running { "start" } else { "stop" };
    start(Command::new("postfix").args(["-c", &format!("{d}/postfix"), verb]))?;
    let port = e
        .port("CELLMAIL_SMTP_PORT")
        .ok_or("the mail stack's env has no SMTP port")?;
    let deadline = Instant::now() + Duration::from_secs(30);
    while listening(port) != running {
        if Instant::now() > deadline {
            return Err(format!("postfix {verb}: port {port} did not follow"));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(())
}

/// Stops what `up` started (nothing else).
pub fn down() -> Result<(), String> {
    let dir = state_dir();
    let d = dir.to_string_lossy().into_owned();
    let mut errors = Vec::new();
    if dir.join("postfix/main.cf").exists()
        && let Err(e) = start(Command::new("postfix").args(["-c", &format!("{d}/postfix"), "stop"]))
    {
        errors.push(e);
    }
    if let Ok(pid) = std::fs::read_to_string(dir.join("dovecot/run/master.pid")) {
        let _ = sh(Command::new("kill").arg(pid.trim()));
    }
    let _ = std::fs::remove_file(dir.join("env"));
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("; "))
    }
}

/// `cargo xtask mailstack up|down|status`.
pub fn run(args: &[String]) -> Result<(), String> {
    match args.first().map(String::as_str) {
        Some("up") => {
            let e = ensure_up()?;
            for (k, v) in &e.vars {
                println!("{k}={v}");
            }
            Ok(())
        }
        Some("down") => down(),
        Some("status") => {
            let e = read_env()?;
            let mut up = true;
            for key in [
                "CELLMAIL_SMTP_PORT",
                "CELLMAIL_SMTPS_PORT",
                "CELLMAIL_POP3_PORT",
                "CELLMAIL_POP3S_PORT",
            ] {
                let port = e.port(key).unwrap_or(0);
                let ok = listening(port);
                up &= ok;
                println!(
                    "{key}={port} {}",
                    if ok { "accepting" } else { "NOT accepting" }
                );
            }
            if up {
                Ok(())
            } else {
                Err("the mail stack is not (fully) up".into())
            }
        }
        _ => Err("usage: cargo xtask mailstack up|down|status".into()),
    }
}
