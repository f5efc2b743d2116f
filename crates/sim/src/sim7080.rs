//! What a virtual SIM7080G adds to the SIM7000 e-mail commands
//! (`../shared/specs/simcom-emailssl.md` §2.2, §3.2, §4): the `AT+CNCFG`/
//! `AT+CNACT` bearer (contexts 0-3, URC `+APP PDP: <n>,ACTIVE|DEACTIVE`),
//! the four-parameter `AT+EMAILSSL`, `AT+CSSLCFG` contexts 0-5, and CA
//! certificates written with `AT+CFSINIT`/`AT+CFSWFILE` to `/customer/`,
//! converted with `AT+CSSLCFG="CONVERT",2` and named in `<calist>`.
//!
//! Strict where the manual is: `AT+EMAILSSL` takes all four parameters as
//! printed; `AT+CFSWFILE` only after `AT+CFSINIT`, 1-10240 bytes; a
//! `CONVERT` of a file not written, or an `AT+EMAILSSL` naming a CA list
//! not converted, is `ERROR` (the manual does not say when a real module
//! finds out: this one says it at once). `AT+SAPBR` is not in \[AT7080\]:
//! `ERROR`. The TLS is rustls (1.2 or 1.3) whatever `SSLVERSION` says; with
//! a CA named, the server's certificate is checked against it, with none it
//! is not (spec OPEN 2: unknown on a real module). A failed handshake is
//! `+SMTPSEND: 65` / `+POP3IN: 65`: \[AT7080\] lists no TLS code (spec OPEN 3).

use std::collections::HashMap;

use crate::engine::{AtCommand, Closed, Io};
use crate::net::{Security, TlsTrust};

/// The SIM7080-only state of a virtual SIM7000-family module.
#[derive(Default)]
pub(crate) struct Sim7080 {
    /// Contexts activated with `AT+CNACT=<n>,1`.
    active: [bool; 4],
    apn: [Option<String>; 4],
    /// `AT+EMAILSSL`: type, SSL context, CA list, certificate name.
    email_ssl: (u8, u8, String, String),
    fs_open: bool,
    /// `/customer/` files written with `AT+CFSWFILE`.
    files: HashMap<String, Vec<u8>>,
    /// CA lists converted from them.
    cas: HashMap<String, Vec<u8>>,
}

impl Sim7080 {
    /// Whether any context is active (the e-mail bearer).
    pub(crate) fn bearer(&self) -> bool {
        self.active.iter().any(|a| *a)
    }

    /// The network released the bearer: the URC of each active context.
    pub(crate) async fn release(&mut self, io: &mut Io) {
        for (n, active) in self.active.iter_mut().enumerate() {
            if *active {
                *active = false;
                io.line(&format!("+APP PDP: {n},DEACTIVE")).await;
            }
        }
    }

    /// How the mail clients connect, from `AT+EMAILSSL`.
    pub(crate) fn security(&self) -> Security {
        match self.email_ssl.0 {
            1 => Security::Implicit,
            2 => Security::StartTls,
            _ => Security::None,
        }
    }

    /// The CA named in `AT+EMAILSSL`, if any.
    pub(crate) fn trust(&self) -> TlsTrust {
        TlsTrust {
            ca_pem: self.cas.get(&self.email_ssl.2).cloned(),
        }
    }

    /// Handles a SIM7080-only command; `None` for one it does not add.
    pub(crate) async fn handle(
        &mut self,
        cmd: &AtCommand,
        io: &mut Io,
        network_up: bool,
    ) -> Result<Option<()>, Closed> {
        let ok = match cmd.name.as_str() {
            "+SAPBR" => false,
            "+CNCFG" if cmd.write => match context(cmd.int(0)) {
                Some(n) if cmd.int(1).is_some_and(|t| (0..=4).contains(&t)) => {
                    self.apn[n] = cmd.arg(2).map(str::to_owned);
                    true
                }
                _ => false,
            },
            "+CNACT" if cmd.read => {
                for n in 0..4 {
                    let (status, ip) = if self.active[n] {
                        (1, format!("10.94.36.{}", 44 + n))
                    } else {
                        (0, "0.0.0.0".into())
                    };
                    io.line(&format!("+CNACT: {n},{status},\"{ip}\"")).await;
                }
                true
            }
            "+CNACT" if cmd.write => match (context(cmd.int(0)), cmd.int(1)) {
                // Activating with no network, or an active context, fails.
                (Some(n), Some(1)) if !self.active[n] && network_up && self.apn[n].is_some() => {
                    self.active[n] = true;
                    io.ok().await;
                    io.line(&format!("+APP PDP: {n},ACTIVE")).await;
                    return Ok(Some(()));
                }
                (Some(n), Some(0)) => {
                    self.active[n] = false;
                    io.ok().await;
                    io.line(&format!("+APP PDP: {n},DEACTIVE")).await;
                    return Ok(Some(()));
                }
                _ => false,
            },
            "+EMAILSSL" if cmd.test => {
                io.line("+EMAILSSL: (0-2),(0-5),51,51").await;
                true
            }
            "+EMAILSSL" if cmd.read => {
                let (t, ctx, ca, cert) = &self.email_ssl;
                io.line(&format!("+EMAILSSL: {t},{ctx},\"{ca}\",\"{cert}\""))
                    .await;
                true
            }
            "+EMAILSSL" if cmd.write => {
                let (t, ctx, ca, cert) = (cmd.int(0), cmd.int(1), cmd.arg(2), cmd.arg(3));
                match (t, ctx, ca, cert, cmd.arg(4)) {
                    (Some(t @ 0..=2), Some(ctx @ 0..=5), Some(ca), Some(cert), None)
                        if ca.len() <= 51
                            && cert.len() <= 51
                            && (ca.is_empty() || self.cas.contains_key(ca)) =>
                    {
                        self.email_ssl = (t as u8, ctx as u8, ca.to_owned(), cert.to_owned());
                        true
                    }
                    _ => false,
                }
            }
            "+CSSLCFG" if cmd.write => self.ssl_config(cmd),
            "+CFSINIT" if !cmd.write && !cmd.read && !cmd.test => {
                let fresh = !self.fs_open;
                self.fs_open = true;
                fresh
            }
            "+CFSTERM" if !cmd.write && !cmd.read && !cmd.test => std::mem::take(&mut self.fs_open),
            "+CFSWFILE" if cmd.write => {
                let size = cmd.int(3).and_then(|s| usize::try_from(s).ok());
                match (cmd.int(0), cmd.arg(1), cmd.int(2), size, cmd.int(4)) {
                    (Some(3), Some(name), Some(mode @ 0..=1), Some(size @ 1..=10240), Some(t))
                        if self.fs_open && (100..=10000).contains(&t) && name.len() <= 230 =>
                    {
                        io.line("DOWNLOAD").await;
                        let data = io.read_exact(size).await?;
                        let file = self.files.entry(name.to_owned()).or_default();
                        if mode == 0 {
                            file.clear();
                        }
                        file.extend_from_slice(&data);
                        true
                    }
                    _ => false,
                }
            }
            "+CFSDFILE" if cmd.write => {
                cmd.int(0) == Some(3)
                    && self.fs_open
                    && cmd.arg(1).is_some_and(|n| self.files.remove(n).is_some())
            }
            _ => return Ok(None),
        };
        if ok {
            io.ok().await;
        } else {
            io.error().await;
        }
        Ok(Some(()))
    }

    /// `AT+CSSLCFG` write forms (\[AT7080\] §11.2.1): the settings are taken
    /// (this module's TLS is rustls's, whatever they say); `CONVERT`,2 of a
    /// written file makes it a CA list.
    fn ssl_config(&mut self, cmd: &AtCommand) -> bool {
        let ctx = || cmd.int(1).is_some_and(|c| (0..=5).contains(&c));
        match cmd.arg(0).map(str::to_ascii_uppercase).as_deref() {
            Some("SSLVERSION") => ctx() && cmd.int(2).is_some_and(|v| (0..=5).contains(&v)),
            Some("IGNORERTCTIME") => ctx() && cmd.int(2).is_some_and(|v| (0..=1).contains(&v)),
            Some("SNI") => ctx() && cmd.arg(2).is_some_and(|s| s.len() <= 253),
            Some("CONVERT") => match (cmd.int(1), cmd.arg(2)) {
                (Some(2), Some(name)) if name.len() <= 50 => match self.files.get(name) {
                    Some(pem) => {
                        self.cas.insert(name.to_owned(), pem.clone());
                        true
                    }
                    None => false,
                },
                _ => false,
            },
            _ => false,
        }
    }
}

fn context(n: Option<i64>) -> Option<usize> {
    n.and_then(|n| usize::try_from(n).ok()).filter(|n| *n < 4)
}
