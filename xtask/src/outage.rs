//! The demo's last act: mails handed to the outbox while the mail server is down are
//! delivered once it is back. The outage is real: the stack's Postfix is stopped, so the
//! virtual module's SMTP connection is refused, and started again while the runner retries.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use cellmail::{Auth, Email, Secret, ServerAddr, SmtpAccount, TlsSettings};
use cellmail_outbox::{Clock, MailState, Outbox, RetryPolicy, Runner, RunnerConfig};
use cellmail_sim::{Family, SimOptions, VirtualModule};

use crate::mailstack::{self, Endpoints};
use crate::soak::{get, mailer, take_arrivals};

/// Mails queued during the outage.
const MAILS: usize = 5;
/// How long Postfix stays down once the runner has started.
const OUTAGE: Duration = Duration::from_secs(6);

/// Runs the outage; `Ok(true)` when every mail arrived and no duplicate went unflagged.
pub async fn run(stack: &Endpoints) -> Result<bool, String> {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let tag = format!("demo-outage-{nanos}");
    let dir = crate::root().join("target/demo/outbox");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let db = dir.join(format!("{tag}.db"));
    let outbox = Outbox::open(&db).map_err(|e| e.to_string())?;

    mailstack::postfix(false, stack)?;
    println!("\n== outbox: Postfix stopped; its SMTP port refuses connections");
    let from = get(stack, "CELLMAIL_USER_ALICE")?.to_owned();
    let to = get(stack, "CELLMAIL_USER_BOB")?.to_owned();
    let mut ids = Vec::with_capacity(MAILS);
    for i in 0..MAILS {
        let email = Email::builder()
            .from(&from, Some("Meter 17"))
            .to(&to, None)
            .subject(format!("{tag} #{i}"))
            .body(format!("alarm {i}: queued while the mail server was down"))
            .build()
            .map_err(|e| e.to_string())?;
        ids.push(outbox.enqueue(&email).map_err(|e| e.to_string())?);
    }
    let shown: Vec<String> = ids.iter().map(ToString::to_string).collect();
    println!(
        "outbox: {MAILS} mails enqueued in {} (ids {})",
        db.display(),
        shown.join(", ")
    );

    let account = SmtpAccount {
        server: ServerAddr::new(
            get(stack, "CELLMAIL_SMTP_HOST")?,
            get(stack, "CELLMAIL_SMTP_PORT")?
                .parse()
                .map_err(|_| "bad CELLMAIL_SMTP_PORT")?,
        ),
        auth: Auth::Login {
            user: from.clone(),
            password: Secret::new(get(stack, "CELLMAIL_PASSWORD_ALICE")?),
        },
        tls: TlsSettings::default(),
    };
    let module =
        VirtualModule::spawn(Family::Sim7000, SimOptions::default()).map_err(|e| e.to_string())?;
    let sender = mailer(Family::Sim7000, &module, account)?;
    let config = RunnerConfig {
        retry: RetryPolicy {
            initial: Duration::from_millis(500),
            max_delay: Duration::from_secs(2),
            jitter_percent: 20,
            max_attempts: None,
            max_age: Some(Duration::from_secs(120)),
        },
        clock: Clock::system(),
        ..RunnerConfig::default()
    };
    let mut runner =
        Runner::new(outbox.clone(), vec![sender], config).map_err(|e| e.to_string())?;
    let back = {
        let stack = stack.clone();
        tokio::spawn(async move {
            tokio::time::sleep(OUTAGE).await;
            let r = tokio::task::spawn_blocking(move || mailstack::postfix(true, &stack)).await;
            println!("outbox: Postfix started again");
            r.map_err(|e| e.to_string())?
        })
    };
    let started = Instant::now();
    let summary = runner
        .run_until_empty(|e| {
            let how = e
                .error
                .as_deref()
                .map_or_else(|| "sent".to_owned(), |err| format!("{err}; retried later"));
            println!("outbox: mail {} attempt {}: {how}", e.id, e.attempt);
        })
        .await
        .map_err(|e| e.to_string())?;
    back.await.map_err(|e| e.to_string())??;
    let status = outbox.status().map_err(|e| e.to_string())?;

    // Read bob's mailbox straight from Dovecot until every mail is there (or 60 s).
    let mut arrived = vec![0u32; MAILS];
    let deadline = Instant::now() + Duration::from_secs(60);
    while arrived.contains(&0) && Instant::now() < deadline {
        for (i, n) in take_arrivals(stack, &tag)? {
            if let Some(slot) = arrived.get_mut(i) {
                *slot += n;
            }
        }
        if arrived.contains(&0) {
            std::thread::sleep(Duration::from_secs(1));
        }
    }
    let mut sent = 0;
    for id in &ids {
        sent += usize::from(outbox.mail(*id).map_err(|e| e.to_string())?.state == MailState::Sent);
    }
    let delivered = arrived.iter().filter(|n| **n > 0).count();
    let unflagged = ids
        .iter()
        .zip(&arrived)
        .filter(|(id, n)| **n > 1 && !status.possible_duplicates.contains(id))
        .count();
    println!(
        "outbox: {sent} of {MAILS} sent in {:.1} s and {} attempts; {delivered} of {MAILS} in bob's mailbox (read over POP3), {} arrived twice, {} flagged as possible duplicates",
        started.elapsed().as_secs_f64(),
        summary.attempts,
        arrived.iter().filter(|n| **n > 1).count(),
        status.possible_duplicates.len()
    );
    Ok(sent == MAILS && delivered == MAILS && unflagged == 0)
}
