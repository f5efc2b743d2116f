//! Sends an alert with a log file attached through whatever module is on the
//! serial port: the module is probed and the dialect that drives it is picked,
//! the rest of the program is the same for every family.
//!
//! ```text
//! CELLMAIL_PASSWORD=... cargo run --example send_alert -- \
//!     /dev/ttyUSB2 115200 internet smtp.example.com:587 meter-17@example.com ops@example.com /var/log/meter.log
//! ```
//!
//! STARTTLS is used where the module has it (Quectel), plain SMTP elsewhere:
//! the program asks the dialect's `Capabilities`.

use std::time::Duration;

use cellmail::{
    Attachment, Auth, Bearer, Capabilities, Dialect, Email, MailError, MailSender, Secret,
    ServerAddr, SmtpAccount, TlsMode, TlsSettings,
};
use cellmail_at::{Client, ClientConfig, DecoderConfig, serial::SerialStream};

fn usage() -> MailError {
    MailError::invalid(
        "arguments",
        "usage: send_alert <port> <baud> <apn> <smtp-host:port> <from> <to> <file> (password in CELLMAIL_PASSWORD)",
    )
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), MailError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [port, baud, apn, server, from, to, file] = args.as_slice() else {
        return Err(usage());
    };
    let baud: u32 = baud.parse().map_err(|_| usage())?;
    let (host, smtp_port) = server.rsplit_once(':').ok_or_else(usage)?;
    let smtp_port: u16 = smtp_port.parse().map_err(|_| usage())?;
    let password = std::env::var("CELLMAIL_PASSWORD").map_err(|_| usage())?;

    let email = Email::builder()
        .from(from, Some("Meter"))
        .to(to, None)
        .subject("Meter alert: pressure high")
        .body("Pressure above 6 bar since 03:12. Log attached.\r\n")
        .attach(Attachment::from_file(file)?)
        .build()?;
    let account = |caps: &Capabilities| SmtpAccount {
        server: ServerAddr::new(host, smtp_port),
        auth: Auth::Login {
            user: from.clone(),
            password: Secret::new(password.clone()),
        },
        tls: TlsSettings {
            mode: if caps.smtp_tls.contains(&TlsMode::StartTls) {
                TlsMode::StartTls
            } else {
                TlsMode::None
            },
            ignore_module_clock: true,
            ..Default::default()
        },
    };

    // Who is on the line? Probe with a neutral decoder, then pick the dialect.
    let io = cellmail_at::serial::open(port, baud)?;
    let mut client = Client::new(io, ClientConfig::with_decoder(DecoderConfig::default()));
    let info = cellmail::probe(&mut client).await?;
    let io = client.into_inner();
    let mut mailer: Box<dyn MailSender> = if cellmail_quectel::QuectelGsm::drives(&info) {
        let options = cellmail_quectel::QuectelOptions {
            bearer: Some(Bearer {
                apn: apn.clone(),
                user: None,
                password: None,
            }),
            ..Default::default()
        };
        Box::new(cellmail_quectel::QuectelMailer::new(
            client_for(io, cellmail_quectel::decoder_config()),
            account(&cellmail_quectel::capabilities()),
            options,
        ))
    } else if cellmail_simcom::Sim7000::drives(&info) {
        let options = cellmail_simcom::Sim7000Options {
            apn: Some(apn.clone()),
            ..Default::default()
        };
        Box::new(cellmail_simcom::Sim7000Mailer::new(
            client_for(io, cellmail_simcom::sim7000::decoder_config()),
            account(&cellmail_simcom::sim7000::capabilities()),
            options,
        ))
    } else if cellmail_simcom::Sim5360::drives(&info) {
        let options = cellmail_simcom::Sim5360Options {
            apn: Some(apn.clone()),
            ..Default::default()
        };
        Box::new(cellmail_simcom::Sim5360Mailer::new(
            client_for(io, cellmail_simcom::sim5360::decoder_config()),
            account(&cellmail_simcom::sim5360::capabilities()),
            options,
        ))
    } else {
        return Err(MailError::unsupported(format!("a mail client on {info}")));
    };

    match mailer.send(&email).await {
        Ok(report) => {
            println!(
                "sent: {} ({} AT commands, {} bytes, {:.1} s)",
                report.module_result,
                report.commands,
                report.bytes_sent,
                report.duration.as_secs_f64()
            );
            Ok(())
        }
        Err(e) if e.is_transient() => {
            eprintln!("not sent, worth retrying later: {e}");
            Err(e)
        }
        Err(e) => {
            eprintln!("not sent, fix the configuration: {e}");
            Err(e)
        }
    }
}

fn client_for(io: SerialStream, decoder: DecoderConfig) -> Client<SerialStream> {
    let mut config = ClientConfig::with_decoder(decoder);
    config.command_timeout = Duration::from_secs(10);
    Client::new(io, config)
}
