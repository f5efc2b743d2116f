//! What a SIM7080 sends where the SIM7000 note's flow differs: the bearer
//! (\[EM7080\] §4.1), and the TLS set-up before the server settings
//! (\[EM7080\] §5.8-§5.10, \[SSL7080\] §4.1-§4.2). Pure: the driver skips the
//! settings the module holds. Sources: `../shared/specs/simcom-emailssl.md`.

use cellmail::{CertSource, MailError, TlsMode, TlsSettings, TlsVersion, Verify};
use cellmail_at::{DataEnd, Response};
use cellmail_session::{Exchange, Payload, Source};

use super::commands::{self, SslType, SslVersion};

/// \[EM7080\] §4.1: the APN of context `pdp`, its activation, and the query
/// that decides ([`bearer_outcome`]): an activation refused because the
/// context is active already is not a failure.
pub fn bearer(pdp: u8, apn: &str) -> [Exchange; 3] {
    [
        Exchange::new(commands::configure_bearer(pdp, apn)),
        Exchange::new(commands::activate_bearer(pdp)),
        Exchange::new(commands::read_bearers()),
    ]
}

/// The context is up when `AT+CNACT?` lists it with `<statusx>` 1
/// (activated) or 2 (in operation); otherwise `Network`, naming the
/// activation's refusal if there was one.
///
/// ```
/// use cellmail_at::Response;
/// use cellmail_simcom::sim7080::plan::bearer_outcome;
/// let r = Response { info: vec!["+CNACT: 0,1,\"10.94.36.44\"".into(), "+CNACT: 1,0,\"0.0.0.0\"".into()], ..Default::default() };
/// assert!(bearer_outcome(0, None, &r).is_ok());
/// assert!(bearer_outcome(1, None, &r).is_err());
/// ```
pub fn bearer_outcome(
    pdp: u8,
    refused: Option<&cellmail_at::AtError>,
    query: &Response,
) -> Result<(), MailError> {
    let up = query.info.iter().any(|line| {
        let Some(rest) = line.strip_prefix("+CNACT:") else {
            return false;
        };
        let mut f = rest.split(',').map(str::trim);
        f.next().and_then(|i| i.parse::<u8>().ok()) == Some(pdp)
            && matches!(f.next(), Some("1" | "2"))
    });
    if up {
        return Ok(());
    }
    let why = refused.map(|e| format!(" ({e})")).unwrap_or_default();
    Err(MailError::Network {
        detail: format!("context {pdp} did not activate{why}: {:?}", query.info),
        vendor: refused.and_then(cellmail::VendorCode::of_cme),
    })
}

/// The settings keys of the TLS set-up.
pub mod keys {
    /// `AT+EMAILSSL` (one for SMTP and POP3, as on the SIM800).
    pub const EMAIL_SSL: &str = "emailssl";
    /// `AT+CSSLCFG="SSLVERSION"`.
    pub const VERSION: &str = "sslversion";
    /// `AT+CSSLCFG="SNI"`.
    pub const SNI: &str = "sni";
    /// `AT+CSSLCFG="IGNORERTCTIME"`.
    pub const IGNORE_RTC: &str = "ignorertctime";
    /// `AT+CSSLCFG="CONVERT"`: the CA converted (its name carries a digest
    /// of the certificate, so another certificate is written again).
    pub const CA: &str = "ca";
}

/// The TLS set-up of one account, in the note's order: the context's
/// settings, the CA (written, converted, its plain file deleted), then
/// `AT+EMAILSSL`. For a plain account only `AT+EMAILSSL=0,<ctx>,"",""`.
#[derive(Debug)]
pub struct TlsPlan {
    /// `AT+CSSLCFG` settings of the context.
    pub context: Vec<Exchange>,
    /// The CA's upload, when the account names one ([`CaUpload`]).
    pub ca: Option<CaUpload>,
    /// `AT+EMAILSSL=<type>,<ctx>,"<calist>",""`.
    pub email_ssl: Exchange,
}

/// The CA written to `/customer/` and converted (\[SSL7080\] §4.2):
/// `AT+CFSINIT`, `AT+CFSWFILE` with the PEM, `AT+CSSLCFG="CONVERT",2`
/// (the setting that says it is done), `AT+CFSDFILE`, `AT+CFSTERM`.
#[derive(Debug)]
pub struct CaUpload {
    /// The file name, also `<calist>`.
    pub name: String,
    /// `AT+CFSINIT`.
    pub init: Exchange,
    /// `AT+CFSWFILE` and the bytes.
    pub write: Exchange,
    /// `AT+CSSLCFG="CONVERT"` (setting [`keys::CA`]).
    pub convert: Exchange,
    /// `AT+CFSDFILE`.
    pub delete: Exchange,
    /// `AT+CFSTERM`, also after a failure.
    pub term: Exchange,
}

/// The name a CA is written and converted under: a digest of the PEM, so a
/// changed certificate is another file (at most 50 characters, \[AT7080\]
/// §11.2.1).
pub fn ca_name(pem: &[u8]) -> String {
    // FNV-1a: stable, short; not a security measure.
    let digest = pem.iter().fold(0x811c_9dc5u32, |h, b| {
        (h ^ u32::from(*b)).wrapping_mul(0x0100_0193)
    });
    format!("cellmail-ca-{digest:08x}.pem")
}

/// The TLS plan for `tls` on context `ctx` towards `host`. Refuses, before
/// a byte, what the module cannot do: SSL 3.0, STARTTLS for POP3 (`field`
/// "pop3": "only SMTP have"), a client certificate, a CA on the module or
/// one over 10240 bytes (one `AT+CFSWFILE`).
pub fn tls(field: &str, tls: &TlsSettings, ctx: u8, host: &str) -> Result<TlsPlan, MailError> {
    let ssl = match tls.mode {
        TlsMode::None => {
            return Ok(TlsPlan {
                context: Vec::new(),
                ca: None,
                email_ssl: email_ssl(SslType::Plain, ctx, ""),
            });
        }
        TlsMode::Implicit => SslType::Implicit,
        TlsMode::StartTls if field == "pop3" => {
            return Err(MailError::unsupported(
                "pop3: TLS mode StartTls: the SIM7080 AT+EMAILSSL has startSSL for SMTP only",
            ));
        }
        TlsMode::StartTls => SslType::StartTls,
    };
    let version = match tls.version {
        TlsVersion::Tls1_0 => SslVersion::Tls10,
        TlsVersion::Tls1_1 => SslVersion::Tls11,
        // The newest the module has: a fresh context's default is not
        // stated (spec OPEN 5), and today's servers want TLS 1.2.
        TlsVersion::Tls1_2 | TlsVersion::Any => SslVersion::Tls12,
        TlsVersion::Ssl3 => {
            return Err(MailError::unsupported(format!(
                "{field}: TLS version SSL 3.0 (the SIM7080 has TLS 1.0-1.2)"
            )));
        }
    };
    let context = vec![
        Exchange::setting(keys::VERSION, commands::ssl_version(ctx, version)),
        Exchange::setting(keys::SNI, commands::server_name(ctx, host)),
        Exchange::setting(
            keys::IGNORE_RTC,
            commands::ignore_rtc_time(ctx, tls.ignore_module_clock),
        ),
    ];
    let ca = match &tls.verify {
        Verify::None => None,
        Verify::Server {
            ca: CertSource::Pem(pem),
        } => {
            if !commands::FILE_SIZE.contains(&pem.len()) {
                return Err(MailError::invalid(
                    format!("{field}.tls.verify.ca"),
                    format!(
                        "the certificate is {} bytes, the module takes 1-10240 (AT+CFSWFILE)",
                        pem.len()
                    ),
                ));
            }
            let name = ca_name(pem);
            Some(CaUpload {
                init: Exchange::new(commands::fs_init()),
                write: Exchange::new(commands::write_file(&name, pem.len())).payload(Payload {
                    source: Source::Memory(pem.clone()),
                    end: DataEnd::Length,
                    phase: Some(cellmail::Phase::Upload { name: name.clone() }),
                }),
                convert: Exchange::setting(keys::CA, commands::convert_ca(&name)),
                delete: Exchange::new(commands::delete_file(&name)),
                term: Exchange::new(commands::fs_term()),
                name,
            })
        }
        Verify::Server {
            ca: CertSource::Module(_),
        } => {
            return Err(MailError::unsupported(format!(
                "{field}: a CA from the module's file system (give its PEM bytes: the SIM7080 \
                 converts what AT+CFSWFILE wrote)"
            )));
        }
        Verify::Mutual { .. } => {
            return Err(MailError::unsupported(format!(
                "{field}: client certificates on the SIM7080 (AT+CSSLCFG=\"CONVERT\",1 is in the \
                 manual; not implemented yet)"
            )));
        }
    };
    let ca_list = ca.as_ref().map(|c| c.name.clone()).unwrap_or_default();
    Ok(TlsPlan {
        context,
        ca,
        email_ssl: email_ssl(ssl, ctx, &ca_list),
    })
}

fn email_ssl(ssl: SslType, ctx: u8, ca: &str) -> Exchange {
    Exchange::setting(keys::EMAIL_SSL, commands::set_email_ssl(ssl, ctx, ca, ""))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire(ex: &Exchange) -> String {
        String::from_utf8(ex.command.encode().unwrap()).unwrap()
    }

    #[test]
    fn a_plain_account_sends_emailssl_0_alone() {
        let p = tls("smtp", &TlsSettings::default(), 0, "mail.sim.com").unwrap();
        assert!(p.context.is_empty() && p.ca.is_none());
        assert_eq!(wire(&p.email_ssl), "AT+EMAILSSL=0,0,\"\",\"\"\r");
    }

    #[test]
    fn starttls_sets_the_context_then_names_it() {
        let settings = TlsSettings {
            mode: TlsMode::StartTls,
            ignore_module_clock: true,
            ..Default::default()
        };
        let p = tls("smtp", &settings, 1, "smtp.example.com").unwrap();
        let lines: Vec<String> = p.context.iter().map(wire).collect();
        assert_eq!(
            lines,
            [
                "AT+CSSLCFG=\"SSLVERSION\",1,3\r",
                "AT+CSSLCFG=\"SNI\",1,\"smtp.example.com\"\r",
                "AT+CSSLCFG=\"IGNORERTCTIME\",1,1\r",
            ]
        );
        assert_eq!(wire(&p.email_ssl), "AT+EMAILSSL=2,1,\"\",\"\"\r");
    }

    #[test]
    fn a_ca_is_written_converted_and_named() {
        let pem = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n".to_vec();
        let settings = TlsSettings {
            mode: TlsMode::Implicit,
            verify: Verify::Server {
                ca: CertSource::Pem(pem.clone()),
            },
            ..Default::default()
        };
        let p = tls("pop3", &settings, 0, "pop.example.com").unwrap();
        let ca = p.ca.unwrap();
        assert_eq!(ca.name, ca_name(&pem));
        assert!(ca.name.len() <= 50);
        assert_ne!(ca.name, ca_name(b"another"));
        assert_eq!(
            wire(&ca.write),
            format!("AT+CFSWFILE=3,\"{}\",0,{},10000\r", ca.name, pem.len())
        );
        assert_eq!(
            wire(&ca.convert),
            format!("AT+CSSLCFG=\"CONVERT\",2,\"{}\"\r", ca.name)
        );
        assert_eq!(
            wire(&p.email_ssl),
            format!("AT+EMAILSSL=1,0,\"{}\",\"\"\r", ca.name)
        );
    }

    #[test]
    fn what_the_module_cannot_do_is_refused_before_a_byte() {
        let with = |f: &dyn Fn(&mut TlsSettings)| {
            let mut t = TlsSettings {
                mode: TlsMode::Implicit,
                ..Default::default()
            };
            f(&mut t);
            t
        };
        let starttls = with(&|t| t.mode = TlsMode::StartTls);
        assert!(matches!(
            tls("pop3", &starttls, 0, "h"),
            Err(MailError::Unsupported { .. })
        ));
        assert!(tls("smtp", &starttls, 0, "h").is_ok());
        let ssl3 = with(&|t| t.version = TlsVersion::Ssl3);
        assert!(matches!(
            tls("smtp", &ssl3, 0, "h"),
            Err(MailError::Unsupported { .. })
        ));
        let big = with(&|t| {
            t.verify = Verify::Server {
                ca: CertSource::Pem(vec![b'x'; 10241]),
            }
        });
        match tls("smtp", &big, 0, "h") {
            Err(MailError::Invalid { field, reason, .. }) => {
                assert_eq!(field, "smtp.tls.verify.ca");
                assert!(reason.contains("10241"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_bearer_is_up_when_its_context_is_listed_active() {
        let r = |lines: &[&str]| Response {
            info: lines.iter().map(|l| l.to_string()).collect(),
            ..Default::default()
        };
        // [EM7080] §4.1's answer.
        let manual = r(&[
            "+CNACT: 0,1,\"10.94.36.44\"",
            "+CNACT: 1,0,\"0.0.0.0\"",
            "+CNACT: 2,0,\"0.0.0.0\"",
            "+CNACT: 3,0,\"0.0.0.0\"",
        ]);
        assert!(bearer_outcome(0, None, &manual).is_ok());
        for pdp in 1..=3 {
            assert!(matches!(
                bearer_outcome(pdp, None, &manual),
                Err(MailError::Network { .. })
            ));
        }
        assert!(bearer_outcome(1, None, &r(&["+CNACT: 1,2,\"10.0.0.1\""])).is_ok());
        assert!(bearer_outcome(0, None, &r(&[])).is_err());
        let lines: Vec<String> = bearer(0, "ctnb").iter().map(wire).collect();
        assert_eq!(
            lines,
            ["AT+CNCFG=0,1,\"ctnb\"\r", "AT+CNACT=0,1\r", "AT+CNACT?\r"]
        );
    }
}
