//! From flags to what the library takes: accounts, the mail, the module. Everything here is
//! checked before the module is opened, so bad input never costs a byte on the line.

use std::collections::HashMap;
use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};

use cellmail::{
    Attachment, Auth, Bearer, CertSource, Charset, Email, MailError, Pop3Account, Progress, Secret,
    ServerAddr, SmtpAccount, TlsMode, TlsSettings, Verify,
};
use cellmail_at::serial::SerialStream;
use cellmail_modem::{Modem, Settings};
use cellmail_sim::{SimOptions, VirtualModule};

use crate::account::{self, AccountUrl, Protocol};
use crate::args::{CharsetArg, LineArgs, MailArgs, SimFamily};
use crate::error::CliError;

/// The local mail stack's endpoints (`cargo xtask mailstack up`).
pub struct Stack(HashMap<String, String>);

impl Stack {
    /// From `CELLMAIL_*` variables (what `cargo xtask test` sets), else the env file of
    /// `$CELLMAIL_MAILSTACK_DIR` or of `target/mailstack` in this directory or above it.
    pub fn find() -> Result<Self, CliError> {
        let vars: HashMap<String, String> = std::env::vars()
            .filter(|(k, _)| k.starts_with("CELLMAIL_"))
            .collect();
        if vars.contains_key("CELLMAIL_SMTP_HOST") {
            return Ok(Self(vars));
        }
        let mut candidates: Vec<PathBuf> = Vec::new();
        if let Some(dir) = std::env::var_os("CELLMAIL_MAILSTACK_DIR") {
            candidates.push(PathBuf::from(dir).join("env"));
        }
        if let Ok(cwd) = std::env::current_dir() {
            candidates.extend(cwd.ancestors().map(|d| d.join("target/mailstack/env")));
        }
        for path in candidates {
            if let Ok(text) = std::fs::read_to_string(&path) {
                let map = text
                    .lines()
                    .filter_map(|l| l.split_once('='))
                    .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
                    .collect();
                return Ok(Self(map));
            }
        }
        Err(CliError::Usage(
            "--sim without --smtp/--pop3 uses the local mail stack, and none is running: \
             start it with `cargo xtask mailstack up`, or give the account URL"
                .into(),
        ))
    }

    fn get(&self, key: &str) -> Result<&str, CliError> {
        self.0
            .get(key)
            .map(String::as_str)
            .ok_or_else(|| CliError::Usage(format!("the mail stack's settings have no {key}")))
    }

    fn port(&self, key: &str) -> Result<u16, CliError> {
        self.get(key)?
            .parse()
            .map_err(|_| CliError::Usage(format!("the mail stack's {key} is not a port")))
    }
}

/// The password the flags point at, if any.
fn password(line: &LineArgs) -> Result<Option<Secret>, CliError> {
    if let Some(var) = &line.password_env {
        let value = std::env::var(var).map_err(|_| {
            CliError::Usage(format!("--password-env {var}: the variable is not set"))
        })?;
        return Ok(Some(Secret::new(value)));
    }
    if let Some(path) = &line.password_file {
        let text = std::fs::read_to_string(path)
            .map_err(|e| CliError::Usage(format!("--password-file {}: {e}", path.display())))?;
        let text = text.strip_suffix('\n').unwrap_or(&text);
        let text = text.strip_suffix('\r').unwrap_or(text);
        return Ok(Some(Secret::new(text)));
    }
    Ok(None)
}

fn tls(mode: TlsMode, ca: Option<&Vec<u8>>) -> TlsSettings {
    TlsSettings {
        mode,
        verify: match (mode, ca) {
            (TlsMode::None, _) | (_, None) => Verify::None,
            (_, Some(pem)) => Verify::Server {
                ca: CertSource::Pem(pem.clone()),
            },
        },
        // The module's clock may read 1980 after boot.
        ignore_module_clock: true,
        ..Default::default()
    }
}

/// The CA certificate: `--ca`, else (with `--sim`) the mail stack's when it has one, except
/// for a SIM800, which checks no certificate cellmail can configure (`tls_verify` false).
fn ca(line: &LineArgs, stack: Option<&Stack>) -> Result<Option<Vec<u8>>, CliError> {
    let path = match (&line.ca, stack) {
        (Some(p), _) => p.clone(),
        (None, Some(_)) if line.sim == Some(SimFamily::Sim800) => return Ok(None),
        (None, Some(s)) => match s.get("CELLMAIL_CA_CERT") {
            Ok(p) => PathBuf::from(p),
            Err(_) => return Ok(None),
        },
        (None, None) => return Ok(None),
    };
    std::fs::read(&path)
        .map(Some)
        .map_err(|e| CliError::Usage(format!("--ca {}: {e}", path.display())))
}

/// The account a URL flag names, or with `--sim` and no URL the mail stack's `alice`.
fn account_url(
    protocol: Protocol,
    flag: &'static str,
    url: Option<&str>,
    line: &LineArgs,
) -> Result<(AccountUrl, Option<Secret>, Option<Stack>), CliError> {
    match url {
        Some(text) => {
            let url = account::parse(protocol, flag, text)?;
            let password = password(line)?;
            let stack = if line.sim.is_some() {
                Stack::find().ok()
            } else {
                None
            };
            match (&url.user, &password) {
                (Some(user), None) => Err(CliError::Usage(format!(
                    "{flag}: the URL names user {user}: give its password with \
                     --password-env VAR or --password-file PATH"
                ))),
                (None, Some(_)) => Err(CliError::Usage(format!(
                    "{flag}: a password was given but the URL names no user \
                     (write scheme://user@host)"
                ))),
                _ => Ok((url, password, stack)),
            }
        }
        None if line.sim.is_some() => {
            let stack = Stack::find()?;
            let port_key = match protocol {
                Protocol::Smtp => "CELLMAIL_SMTP_PORT",
                Protocol::Pop3 => "CELLMAIL_POP3_PORT",
            };
            let url = AccountUrl {
                host: stack.get("CELLMAIL_SMTP_HOST")?.to_owned(),
                port: stack.port(port_key)?,
                user: Some(stack.get("CELLMAIL_USER_ALICE")?.to_owned()),
                tls: TlsMode::None,
            };
            let password = match password(line)? {
                Some(p) => p,
                None => Secret::new(stack.get("CELLMAIL_PASSWORD_ALICE")?),
            };
            Ok((url, Some(password), Some(stack)))
        }
        None => Err(CliError::Usage(format!(
            "{flag} URL is needed (or --sim FAMILY for the local mail stack's account)"
        ))),
    }
}

/// The SMTP account of `--smtp` (see [`account_url`]).
pub fn smtp_account(url: Option<&str>, line: &LineArgs) -> Result<SmtpAccount, CliError> {
    let (url, password, stack) = account_url(Protocol::Smtp, "--smtp", url, line)?;
    let ca = ca(line, stack.as_ref())?;
    Ok(SmtpAccount {
        server: ServerAddr::new(url.host, url.port),
        auth: match (url.user, password) {
            (Some(user), Some(password)) => Auth::Login { user, password },
            _ => Auth::None,
        },
        tls: tls(url.tls, ca.as_ref()),
    })
}

/// The POP3 account of `--pop3`.
pub fn pop3_account(url: Option<&str>, line: &LineArgs) -> Result<Pop3Account, CliError> {
    let (url, password, stack) = account_url(Protocol::Pop3, "--pop3", url, line)?;
    let ca = ca(line, stack.as_ref())?;
    Ok(Pop3Account {
        server: ServerAddr::new(url.host, url.port),
        user: url.user.unwrap_or_default(),
        password: password.unwrap_or_else(|| Secret::new("")),
        tls: tls(url.tls, ca.as_ref()),
    })
}

/// The mail the flags describe, attachments checked (and measured) now.
pub fn email(mail: &MailArgs) -> Result<Email, CliError> {
    let body = match (&mail.body, &mail.body_file) {
        (Some(text), _) => text.clone(),
        (None, Some(path)) => std::fs::read_to_string(path)
            .map_err(|e| CliError::Usage(format!("--body-file {}: {e}", path.display())))?,
        (None, None) => {
            let mut stdin = std::io::stdin();
            if stdin.is_terminal() {
                return Err(CliError::Usage(
                    "no body: give --body TEXT, --body-file PATH, or pipe it on stdin".into(),
                ));
            }
            let mut text = String::new();
            stdin
                .read_to_string(&mut text)
                .map_err(|e| CliError::Usage(format!("the body on stdin: {e}")))?;
            text
        }
    };
    let charset = match mail.charset {
        Some(CharsetArg::Ascii) => Charset::Ascii,
        Some(CharsetArg::Utf8) => Charset::Utf8,
        Some(CharsetArg::Gb2312) => Charset::Gb2312,
        Some(CharsetArg::Big5) => Charset::Big5,
        None => {
            let ascii = body.is_ascii()
                && mail.subject.is_ascii()
                && mail.from_name.as_deref().is_none_or(str::is_ascii);
            if ascii { Charset::Ascii } else { Charset::Utf8 }
        }
    };
    let mut b = Email::builder()
        .from(&mail.from, mail.from_name.as_deref())
        .subject(mail.subject.clone())
        .body(body)
        .charset(charset);
    for to in &mail.to {
        b = b.to(to, None);
    }
    for cc in &mail.cc {
        b = b.cc(cc, None);
    }
    for bcc in &mail.bcc {
        b = b.bcc(bcc, None);
    }
    for path in &mail.attach {
        b = b.attach(Attachment::from_file(path)?);
    }
    Ok(b.build()?)
}

/// An open module, and the virtual one behind it when `--sim` was given (it lives as long as
/// this value).
pub struct Line {
    /// The module, its dialect picked.
    pub modem: Modem<SerialStream>,
    _virtual: Option<VirtualModule>,
}

/// Opens `--port` or a virtual `--sim` module and probes it.
pub async fn open(
    line: &LineArgs,
    smtp: Option<SmtpAccount>,
    pop3: Option<Pop3Account>,
    progress: Option<Progress>,
) -> Result<Line, CliError> {
    let (path, module) = match (&line.port, line.sim) {
        (Some(port), _) => (port.clone(), None),
        (None, Some(family)) => {
            // A SIM800L is a virtual module of the SIM7000 family.
            let (name, sim7000_model) = match family {
                SimFamily::Sim800 => ("sim7000", cellmail_sim::Sim7000Model::Sim800L),
                other => (other.name(), cellmail_sim::Sim7000Model::default()),
            };
            let family = cellmail_sim::Family::parse(name)
                .ok_or_else(|| CliError::Usage(format!("no virtual {}", family.name())))?;
            let options = SimOptions {
                sim7000_model,
                ..Default::default()
            };
            let module = VirtualModule::spawn(family, options).map_err(|e| CliError::Io {
                what: "starting the virtual module".into(),
                source: e,
            })?;
            (module.path().to_owned(), Some(module))
        }
        (None, None) => {
            return Err(CliError::Usage(
                "give --port PATH (the module's serial port) or --sim FAMILY (a virtual module)"
                    .into(),
            ));
        }
    };
    let apn = line
        .apn
        .clone()
        .or_else(|| line.sim.map(|_| "CMNET".to_owned()));
    let settings = Settings {
        smtp,
        pop3,
        bearer: apn.map(|apn| Bearer {
            apn,
            user: None,
            password: None,
        }),
        progress,
        ..Default::default()
    };
    // A pseudo-terminal takes any rate; the virtual module throttles itself.
    let baud = line.baud.filter(|_| module.is_none()).unwrap_or(115_200);
    let modem = cellmail_modem::open(&path_text(&path)?, baud, &settings).await?;
    Ok(Line {
        modem,
        _virtual: module,
    })
}

fn path_text(path: &Path) -> Result<String, CliError> {
    path.to_str()
        .map(str::to_owned)
        .ok_or_else(|| CliError::Usage(format!("--port {}: not a UTF-8 path", path.display())))
}

impl Line {
    /// The module, and the virtual module to keep alive as long as it is used.
    pub fn into_parts(self) -> (Modem<SerialStream>, Option<VirtualModule>) {
        (self.modem, self._virtual)
    }
}

/// A check of the mail against what the module can do, before any of it is sent.
pub fn fits(email: &Email, modem: &Modem<SerialStream>) -> Result<(), MailError> {
    cellmail::validate(email, &modem.family().capabilities())
}
