//! `cellmail outbox --db PATH enqueue|run|status`.

use std::time::{Duration, SystemTime};

use cellmail::MailSender;
use cellmail_outbox::{
    AttemptOutcome, Delivery, MailState, Outbox, RunEvent, Runner, RunnerConfig, Status,
};

use crate::args::{LineArgs, OutboxArgs, OutboxCommand, PolicyArg, RunArgs};
use crate::error::CliError;
use crate::{progress, setup};

/// `cellmail outbox`.
pub async fn run(line: &LineArgs, args: OutboxArgs) -> Result<(), CliError> {
    match args.command {
        OutboxCommand::Enqueue(mail) => {
            // The mail first: a bad flag or a missing attachment never touches the database.
            let email = setup::email(&mail)?;
            let outbox = Outbox::open(&args.db)?;
            let id = outbox.enqueue(&email)?;
            println!("{id}");
            Ok(())
        }
        OutboxCommand::Status(s) => {
            let status = Outbox::open(&args.db)?.status()?;
            if s.json {
                println!("{}", status_json(&status));
            } else {
                print_status(&status);
            }
            Ok(())
        }
        OutboxCommand::Run(r) => send(line, &args.db, r).await,
    }
}

async fn send(line: &LineArgs, db: &std::path::Path, args: RunArgs) -> Result<(), CliError> {
    // The database and the account are checked before the module is opened.
    let outbox = Outbox::open(db)?;
    let account = setup::smtp_account(args.smtp.as_deref(), line)?;
    let opened = setup::open(line, Some(account), None, Some(progress::progress())).await?;
    let (modem, _virtual_module) = opened.into_parts();
    let family = modem.family();
    let senders: Vec<Box<dyn MailSender>> = vec![Box::new(modem)];
    let config = RunnerConfig {
        delivery: match args.policy {
            PolicyArg::AtLeastOnce => Delivery::AtLeastOnce,
            PolicyArg::AtMostOnce => Delivery::AtMostOnce,
        },
        ..RunnerConfig::default()
    };
    let mut runner = Runner::new(outbox, senders, config)?;
    let r = runner.recovery();
    if !(r.requeued.is_empty() && r.possible_duplicates.is_empty() && r.unknown.is_empty()) {
        eprintln!(
            "recovered after a stop: queued again {}; possible duplicates {}; ended unknown {}",
            ids(&r.requeued),
            ids(&r.possible_duplicates),
            ids(&r.unknown)
        );
    }
    eprintln!("sending through {family} ({})", args.policy_name());
    if args.until_empty {
        let summary = runner.run_until_empty(print_event).await?;
        println!(
            "{} attempts: {} sent, {} retried, {} failed, {} unknown",
            summary.attempts, summary.sent, summary.retried, summary.failed, summary.unknown
        );
        if summary.failed + summary.unknown > 0 {
            return Err(CliError::Undelivered(format!(
                "{} mails failed and {} ended unknown; `cellmail outbox --db {} status` says why",
                summary.failed,
                summary.unknown,
                db.display()
            )));
        }
        Ok(())
    } else {
        match runner.run(print_event).await {
            Ok(never) => match never {},
            Err(e) => Err(e.into()),
        }
    }
}

impl RunArgs {
    fn policy_name(&self) -> &'static str {
        match self.policy {
            PolicyArg::AtLeastOnce => Delivery::AtLeastOnce.as_str(),
            PolicyArg::AtMostOnce => Delivery::AtMostOnce.as_str(),
        }
    }
}

fn ids(list: &[cellmail_outbox::MailId]) -> String {
    if list.is_empty() {
        return "none".into();
    }
    list.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn print_event(e: &RunEvent) {
    let what = match (e.outcome, e.state) {
        (AttemptOutcome::Sent, _) => "sent".to_owned(),
        (_, MailState::Queued) => match e.retry_in {
            Some(wait) => format!("queued again, next try in {:.1} s", wait.as_secs_f64()),
            None => "queued again".to_owned(),
        },
        (_, MailState::Failed) => "failed".to_owned(),
        (_, MailState::Unknown) => "ended unknown (may or may not have arrived)".to_owned(),
        (_, state) => state.to_string(),
    };
    let mut line = format!("mail {}: {what} (attempt {})", e.id, e.attempt);
    if let Some(error) = &e.error {
        line.push_str(&format!(": {error}"));
    }
    if e.possible_duplicate {
        line.push_str("; possible duplicate");
    }
    println!("{line}");
}

fn age(d: Duration) -> String {
    match d.as_secs() {
        s if s < 120 => format!("{s} s"),
        s if s < 7200 => format!("{} min", s / 60),
        s => format!("{} h", s / 3600),
    }
}

fn print_status(s: &Status) {
    let c = &s.counts;
    println!(
        "queued {}, sending {}, in doubt {}, sent {}, failed {}, unknown {}",
        c.queued, c.sending, c.in_doubt, c.sent, c.failed, c.unknown
    );
    match &s.oldest_queued {
        Some(o) => println!("oldest queued: mail {}, {} old", o.id, age(o.age)),
        None => println!("oldest queued: none"),
    }
    println!("possible duplicates: {}", ids(&s.possible_duplicates));
    match &s.last_error {
        Some(e) => {
            let ago = SystemTime::now().duration_since(e.at).unwrap_or_default();
            println!("last error: mail {}, {} ago: {}", e.id, age(ago), e.error);
        }
        None => println!("last error: none"),
    }
}

fn unix(t: SystemTime) -> f64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64()
}

/// `status --json`: the counts per state and the possible duplicates, and the rest.
fn status_json(s: &Status) -> serde_json::Value {
    let mut counts = serde_json::Map::new();
    for state in MailState::ALL {
        counts.insert(state.as_str().to_owned(), s.counts.get(state).into());
    }
    serde_json::json!({
        "counts": counts,
        "oldest_queued": s.oldest_queued.as_ref().map(|o| serde_json::json!({
            "id": o.id.get(),
            "age_secs": o.age.as_secs_f64(),
        })),
        "possible_duplicates": s.possible_duplicates.iter().map(|i| i.get()).collect::<Vec<_>>(),
        "last_error": s.last_error.as_ref().map(|e| serde_json::json!({
            "id": e.id.get(),
            "at_unix": unix(e.at),
            "error": e.error,
        })),
    })
}
