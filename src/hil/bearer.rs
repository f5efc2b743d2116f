//! The `bearer` scenario, per dialect.

use std::net::IpAddr;

use cellmail::TlsSettings;
use cellmail_at::{AtError, Client};
use cellmail_modem::{Mailer, Modem};
use tokio::io::{AsyncRead, AsyncWrite};

use super::{DialectKind, HilConfig, Outcome, account, settings, skip};

/// The `bearer` scenario: brings the packet bearer up the way the dialect
/// does, then asks the module whether it is up and with which address.
/// Without an APN it only checks (the application brought it up).
pub(super) async fn bearer<T: AsyncRead + AsyncWrite + Unpin + Send>(
    kind: DialectKind,
    client: Client<T>,
    cfg: &HilConfig,
) -> (Outcome, Client<T>) {
    fn address(line: &str) -> Option<IpAddr> {
        line.trim()
            .trim_matches('"')
            .parse::<IpAddr>()
            .ok()
            .filter(|ip| !ip.is_unspecified())
    }
    let no_apn = |e: &dyn std::fmt::Display| match cfg.apn {
        Some(_) => e.to_string(),
        None => format!("the bearer is not up and no --apn was given to bring it up ({e})"),
    };
    match kind {
        DialectKind::QuectelGsm => {
            let acct = account(cfg, cfg.smtp_port, TlsSettings::default());
            let modem = Modem::with_family(kind, client.into_inner(), &settings(kind, acct, cfg));
            let Ok(Mailer::Quectel(mut m)) = modem.map(Modem::into_mailer) else {
                unreachable!("a Quectel dialect makes a Quectel mailer")
            };
            // AT+QIFGCNT, AT+QICSGP, AT+QIREGAPP, AT+QIACT, AT+QILOCIP (a no-op without an APN).
            if let Err(e) = m.bearer_up().await {
                return (Outcome::Fail(e.to_string()), m.into_client());
            }
            // Then ask for the local address on our own: the context is up when it has one.
            let outcome = match m
                .client()
                .execute(&cellmail_quectel::commands::local_ip())
                .await
            {
                Ok(r) if r.info.iter().any(|l| address(l).is_some()) => Outcome::Pass,
                Ok(r) => Outcome::Fail(no_apn(&format!(
                    "AT+QILOCIP answered no address: {:?}",
                    r.info
                ))),
                Err(e) => Outcome::Fail(no_apn(&e)),
            };
            (outcome, m.into_client())
        }
        DialectKind::Sim7000 if cfg.sim7000_model == cellmail_simcom::sim7000::Model::Sim7080 => {
            // [EM7080] §4.1 with the dialect's typed commands: the APN of the
            // context the mailer uses, its activation, the query that decides.
            use cellmail_simcom::sim7080::plan;
            let mut client = client;
            let cid = cellmail_simcom::Sim7000Options::default().cid;
            let mut open_error = None;
            if let Some(apn) = &cfg.apn {
                let [config, activate, _] = plan::bearer(cid, apn);
                if let Err(e) = client.execute(&config.command).await {
                    return (Outcome::Fail(e.to_string()), client);
                }
                match client.execute(&activate.command).await {
                    Ok(_) => {}
                    // An active context refuses to activate again: the query tells.
                    Err(e @ (AtError::Error { .. } | AtError::Cme { .. })) => open_error = Some(e),
                    Err(e) => return (Outcome::Fail(e.to_string()), client),
                }
            }
            let query = cellmail_simcom::sim7080::commands::read_bearers();
            let outcome = match client.execute(&query).await {
                Ok(r) => match plan::bearer_outcome(cid, open_error.as_ref(), &r) {
                    Ok(()) => Outcome::Pass,
                    Err(e) => Outcome::Fail(no_apn(&e)),
                },
                Err(e) => Outcome::Fail(no_apn(&e)),
            };
            (outcome, client)
        }
        DialectKind::Sim7000 => {
            // The Sim7000Mailer opens the bearer only inside a send (when given an APN);
            // the application note's own sequence (§4.1) is issued here with the dialect's
            // typed commands, on the profile the mailer uses.
            use cellmail_simcom::sim7000::commands;
            let mut client = client;
            let cid = cellmail_simcom::Sim7000Options::default().cid;
            let mut open_error = None;
            if let Some(apn) = &cfg.apn {
                if let Err(e) = client.execute(&commands::bearer_apn(cid, apn)).await {
                    return (Outcome::Fail(e.to_string()), client);
                }
                match client.execute(&commands::bearer_open(cid)).await {
                    Ok(_) => {}
                    // A module whose bearer is open already refuses to open it again:
                    // the query below tells.
                    Err(e @ (AtError::Error { .. } | AtError::Cme { .. })) => open_error = Some(e),
                    Err(e) => return (Outcome::Fail(e.to_string()), client),
                }
            }
            let outcome = match client.execute(&commands::bearer_query(cid)).await {
                Ok(r) => {
                    let fields = r.fields("+SAPBR:").unwrap_or_default();
                    let status = fields.get(1).and_then(|f| f.as_int());
                    let ip = fields.get(2).and_then(|f| address(f.as_str()));
                    match (status, ip) {
                        (Some(1), Some(_)) => Outcome::Pass,
                        _ => {
                            let mut why = format!(
                                "AT+SAPBR=2,{cid} answered {:?}, not status 1 with an address",
                                r.info
                            );
                            if let Some(e) = open_error {
                                why = format!("{e}; {why}");
                            }
                            Outcome::Fail(no_apn(&why))
                        }
                    }
                }
                Err(e) => Outcome::Fail(no_apn(&e)),
            };
            (outcome, client)
        }
        DialectKind::A76xx => {
            // The A76xxMailer brings the network up inside a send; the same typed
            // commands here: the PDP context (with --apn), then AT+NETOPEN, which
            // passes when it opens (+NETOPEN: 0) or says it is open already.
            use cellmail_simcom::a76xx::setup;
            let mut client = client;
            let mut urcs = client.watch_urcs();
            let cid = cellmail_simcom::A76xxOptions::default().pdp_cid;
            if let Some(apn) = &cfg.apn {
                let c = setup::pdp_context(cid, setup::PdpType::Ip, apn);
                if let Err(e) = client.execute(&c).await {
                    return (Outcome::Fail(e.to_string()), client);
                }
            }
            let outcome = match client.execute(&setup::net_open()).await {
                Ok(_) => match client
                    .deferred(setup::prefix::NETOPEN, setup::LONG_TIMEOUT)
                    .await
                {
                    Ok(l) if l.trim() == "+NETOPEN: 0" => Outcome::Pass,
                    Ok(l) => Outcome::Fail(no_apn(&format!("AT+NETOPEN answered {l:?}"))),
                    Err(e) => Outcome::Fail(no_apn(&e)),
                },
                Err(AtError::Error { .. })
                    if urcs.seen().lines.iter().any(|l| setup::already_open(l)) =>
                {
                    Outcome::Pass
                }
                Err(e) => Outcome::Fail(no_apn(&e)),
            };
            (outcome, client)
        }
        DialectKind::Sim5360 => (Outcome::Skipped(skip::SIM5360_BEARER.into()), client),
    }
}
