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
//! the program asks the dialect's `Capabilities`. The body is one line
//! without quotes, which every family takes (a SIM5360 has no data mode). The
//! log is a host file, or a file on the module (`C:/Picture/meter.log`,
//! `UFS:meter.log`) for a family that attaches only its own files (SIM5360):
//! what the module cannot take is said before the mail is sent.

use cellmail::{
    Attachment, AttachmentSource, Auth, Bearer, Email, MailError, MailSender, ModulePath, Secret,
    ServerAddr, SmtpAccount, TlsMode, TlsSettings,
};
use cellmail_modem::Settings;

fn usage() -> MailError {
    MailError::invalid(
        "arguments",
        "usage: send_alert <port> <baud> <apn> <smtp-host:port> <from> <to> <file> (password in CELLMAIL_PASSWORD)",
    )
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) if e.is_transient() => {
            eprintln!("not sent, worth retrying later: {e}");
            std::process::ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("not sent, fix the configuration: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// The log: a file on the module when the path names a module storage
/// (`C:/`, `UFS:`, `RAM:`...), a host file otherwise.
fn log(path: &str) -> Result<Attachment, MailError> {
    match path.parse::<ModulePath>() {
        Ok(_) => Attachment::from_module(path),
        Err(_) => Attachment::from_file(path),
    }
}

async fn run() -> Result<(), MailError> {
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
        .body("Pressure above 6 bar since 03:12. Log attached.")
        .attach(log(file)?)
        .build()?;
    let account = |tls: TlsMode| SmtpAccount {
        server: ServerAddr::new(host, smtp_port),
        auth: Auth::Login {
            user: from.clone(),
            password: Secret::new(password.clone()),
        },
        tls: TlsSettings {
            mode: tls,
            ignore_module_clock: true,
            ..Default::default()
        },
    };

    // Who is on the line? One call probes the module and picks the dialect. STARTTLS is
    // asked for only where the family has it, so the module is opened once.
    let mut settings = Settings {
        bearer: Some(Bearer::new(apn.clone())),
        ..Default::default()
    };
    let modem = cellmail_modem::open(port, baud, &settings).await?;
    let family = modem.family();
    let tls = if family.capabilities().smtp_tls.contains(&TlsMode::StartTls) {
        TlsMode::StartTls
    } else {
        TlsMode::None
    };
    let caps = family.capabilities();
    let sources = caps.attachment_sources;
    let on_module = matches!(email.attachments()[0].source(), AttachmentSource::Module(_));
    if !on_module && !sources.host_file {
        return Err(MailError::unsupported(format!(
            "a host file attachment on the {family}: it attaches files on its own file system \
             only; copy the log onto the module and give its path (e.g. C:/Picture/meter.log)"
        )));
    }
    settings.smtp = Some(account(tls));
    let mut mailer = modem.reconfigure(&settings)?;
    if let Some(info) = mailer.info() {
        println!("{info}: the {family} dialect drives it");
    }

    let report = mailer.send(&email).await?;
    println!(
        "sent: {} ({} AT commands, {} bytes, {:.1} s)",
        report.module_result,
        report.commands,
        report.bytes_sent,
        report.duration.as_secs_f64()
    );
    Ok(())
}
