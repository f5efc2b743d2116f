//! The runner against scripted fake mailers: order, retries, permanent
//! failures, the point of no return, crashes, failover.

#![allow(clippy::unwrap_used, missing_docs)] // a failed unwrap is a failed test

mod common;

use std::time::Duration;

use cellmail_outbox::{
    AttemptOutcome, Clock, Delivery, MailState, Outbox, OutboxError, RetryPolicy, Runner,
    RunnerConfig,
};
use common::{Fake, Step, auth, dir, mail, network, rejected, timeout};

fn config(delivery: Delivery) -> RunnerConfig {
    RunnerConfig {
        delivery,
        clock: Clock::tokio(),
        seed: Some(7),
        ..RunnerConfig::default()
    }
}

fn outbox(name: &str) -> Outbox {
    Outbox::open(dir(name).join("outbox.db")).unwrap()
}

#[tokio::test(start_paused = true)]
async fn mails_go_in_the_order_they_were_queued() {
    let outbox = outbox("fifo");
    let ids: Vec<_> = ["one", "two", "three"]
        .iter()
        .map(|s| outbox.enqueue(&mail(s)).unwrap())
        .collect();
    let fake = Fake::new([], Step::Ok);
    let mut runner = Runner::new(
        outbox.clone(),
        vec![fake.boxed()],
        config(Delivery::AtLeastOnce),
    )
    .unwrap();
    let mut seen = Vec::new();
    let summary = runner.run_until_empty(|e| seen.push(e.id)).await.unwrap();
    assert_eq!(seen, ids);
    assert_eq!(fake.arrived(), ["one", "two", "three"]);
    assert_eq!((summary.sent, summary.attempts, summary.retried), (3, 3, 0));
    let status = outbox.status().unwrap();
    assert_eq!(status.counts.sent, 3);
    assert_eq!(status.oldest_queued, None);
    let info = outbox.mail(ids[0]).unwrap();
    assert_eq!(info.module_result.as_deref(), Some("+QSMTPPUT: 0"));
    let attempts = outbox.attempts(ids[0]).unwrap();
    assert_eq!(attempts.len(), 1);
    assert!(attempts[0].submitted);
    assert_eq!(attempts[0].outcome, Some(AttemptOutcome::Sent));
}

#[tokio::test(start_paused = true)]
async fn transient_errors_are_retried_with_backoff_and_every_attempt_recorded() {
    let outbox = outbox("transient");
    let id = outbox.enqueue(&mail("alarm")).unwrap();
    let fake = Fake::new([Step::Before(network), Step::Before(network)], Step::Ok);
    let mut runner = Runner::new(
        outbox.clone(),
        vec![fake.boxed()],
        config(Delivery::AtLeastOnce),
    )
    .unwrap();
    let summary = runner.run_until_empty(|_| {}).await.unwrap();
    assert_eq!((summary.sent, summary.retried, summary.attempts), (1, 2, 3));
    let attempts = outbox.attempts(id).unwrap();
    let gaps: Vec<_> = attempts
        .windows(2)
        .map(|w| w[1].started_at.duration_since(w[0].started_at).unwrap())
        .collect();
    // Default policy: 2 s then 4 s, each with up to 25 % taken off at random.
    assert!((1500..=2000).contains(&gaps[0].as_millis()), "{gaps:?}");
    assert!((3000..=4000).contains(&gaps[1].as_millis()), "{gaps:?}");
    assert_eq!(attempts[0].variant.as_deref(), Some("Network"));
    assert_eq!(
        attempts[0].error.as_deref(),
        Some("network failure: bearer lost")
    );
    assert!(!attempts[0].submitted);
    assert_eq!(attempts[1].outcome, Some(AttemptOutcome::Retry));
    assert_eq!(attempts[2].outcome, Some(AttemptOutcome::Sent));
    let status = outbox.status().unwrap();
    assert_eq!(
        status.last_error.unwrap().error,
        "network failure: bearer lost"
    );
    assert!(status.possible_duplicates.is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_permanent_error_ends_the_mail_as_failed_with_the_module_code_kept() {
    let outbox = outbox("permanent");
    let id = outbox.enqueue(&mail("bad login")).unwrap();
    let next = outbox.enqueue(&mail("next")).unwrap();
    let fake = Fake::new([Step::Before(auth)], Step::Ok);
    let mut runner = Runner::new(
        outbox.clone(),
        vec![fake.boxed()],
        config(Delivery::AtLeastOnce),
    )
    .unwrap();
    let summary = runner.run_until_empty(|_| {}).await.unwrap();
    assert_eq!((summary.failed, summary.sent), (1, 1));
    let info = outbox.mail(id).unwrap();
    assert_eq!(info.state, MailState::Failed);
    assert_eq!(info.attempts, 1);
    assert_eq!(
        info.last_error.as_deref(),
        Some("the server refused the user name or password (module code -535)")
    );
    let a = &outbox.attempts(id).unwrap()[0];
    assert_eq!(
        (a.variant.as_deref(), a.vendor_code.as_deref()),
        (Some("Auth"), Some("-535"))
    );
    assert_eq!(outbox.mail(next).unwrap().state, MailState::Sent);
}

#[tokio::test(start_paused = true)]
async fn the_retry_budget_ends_a_mail_as_failed() {
    let outbox = outbox("budget");
    let id = outbox.enqueue(&mail("never")).unwrap();
    let fake = Fake::new([], Step::Before(network));
    let config = RunnerConfig {
        retry: RetryPolicy {
            max_attempts: Some(4),
            ..RetryPolicy::default()
        },
        ..config(Delivery::AtLeastOnce)
    };
    let mut runner = Runner::new(outbox.clone(), vec![fake.boxed()], config).unwrap();
    let summary = runner.run_until_empty(|_| {}).await.unwrap();
    assert_eq!((summary.attempts, summary.failed), (4, 1));
    assert_eq!(fake.calls(), 4);
    assert_eq!(outbox.mail(id).unwrap().state, MailState::Failed);
}

#[tokio::test(start_paused = true)]
async fn a_module_answer_after_the_point_of_no_return_is_a_definite_failure() {
    let outbox = outbox("definite");
    let id = outbox.enqueue(&mail("refused")).unwrap();
    let fake = Fake::new([Step::After(rejected)], Step::Ok);
    let mut runner = Runner::new(
        outbox.clone(),
        vec![fake.boxed()],
        config(Delivery::AtLeastOnce),
    )
    .unwrap();
    runner.run_until_empty(|_| {}).await.unwrap();
    let info = outbox.mail(id).unwrap();
    assert_eq!(info.state, MailState::Failed);
    assert!(!info.possible_duplicate);
    let a = &outbox.attempts(id).unwrap()[0];
    assert!(a.submitted);
    assert_eq!(a.outcome, Some(AttemptOutcome::Failed));
    assert!(outbox.status().unwrap().possible_duplicates.is_empty());
}

#[tokio::test(start_paused = true)]
async fn silence_after_the_point_of_no_return_is_in_doubt_sent_again_and_counted() {
    let outbox = outbox("doubt-alo");
    let id = outbox.enqueue(&mail("maybe twice")).unwrap();
    let fake = Fake::new([Step::ArrivedThen(timeout)], Step::Ok);
    let mut runner = Runner::new(
        outbox.clone(),
        vec![fake.boxed()],
        config(Delivery::AtLeastOnce),
    )
    .unwrap();
    let mut events = Vec::new();
    runner
        .run_until_empty(|e| events.push(e.clone()))
        .await
        .unwrap();
    assert_eq!(fake.arrived(), ["maybe twice", "maybe twice"]);
    assert_eq!(events[0].outcome, AttemptOutcome::InDoubt);
    assert_eq!(events[0].state, MailState::Queued);
    assert!(events[1].possible_duplicate);
    let info = outbox.mail(id).unwrap();
    assert_eq!(
        (info.state, info.possible_duplicate),
        (MailState::Sent, true)
    );
    assert_eq!(outbox.status().unwrap().possible_duplicates, [id]);
}

#[tokio::test(start_paused = true)]
async fn silence_after_the_point_of_no_return_under_at_most_once_ends_unknown() {
    let outbox = outbox("doubt-amo");
    let id = outbox.enqueue(&mail("at most once")).unwrap();
    let fake = Fake::new([Step::ArrivedThen(timeout)], Step::Ok);
    let mut runner = Runner::new(
        outbox.clone(),
        vec![fake.boxed()],
        config(Delivery::AtMostOnce),
    )
    .unwrap();
    let summary = runner.run_until_empty(|_| {}).await.unwrap();
    assert_eq!((summary.unknown, summary.attempts), (1, 1));
    assert_eq!(fake.arrived(), ["at most once"]);
    let info = outbox.mail(id).unwrap();
    assert_eq!(
        (info.state, info.possible_duplicate),
        (MailState::Unknown, false)
    );
    assert_eq!(
        outbox.attempts(id).unwrap()[0].outcome,
        Some(AttemptOutcome::InDoubt)
    );
}

#[tokio::test(start_paused = true)]
async fn a_crash_before_the_point_of_no_return_is_sent_again_without_duplicate_risk() {
    let d = dir("crash-before");
    let path = d.join("outbox.db");
    let outbox = Outbox::open(&path).unwrap();
    let id = outbox.enqueue(&mail("power cut")).unwrap();
    let hang = Fake::new([Step::HangBefore], Step::Ok);
    {
        let mut runner =
            Runner::new(outbox, vec![hang.boxed()], config(Delivery::AtLeastOnce)).unwrap();
        let cut =
            tokio::time::timeout(Duration::from_secs(60), runner.run_until_empty(|_| {})).await;
        assert!(cut.is_err(), "the send hung");
        // The runner is dropped mid-send here: the power cut.
    }
    let outbox = Outbox::open(&path).unwrap();
    assert_eq!(outbox.mail(id).unwrap().state, MailState::Sending);
    let fake = Fake::new([], Step::Ok);
    let mut runner = Runner::new(
        outbox.clone(),
        vec![fake.boxed()],
        config(Delivery::AtLeastOnce),
    )
    .unwrap();
    assert_eq!(runner.recovery().requeued, [id]);
    assert!(runner.recovery().possible_duplicates.is_empty());
    runner.run_until_empty(|_| {}).await.unwrap();
    let info = outbox.mail(id).unwrap();
    assert_eq!(
        (info.state, info.possible_duplicate, info.attempts),
        (MailState::Sent, false, 2)
    );
    assert_eq!(
        outbox.attempts(id).unwrap()[0].outcome,
        Some(AttemptOutcome::Interrupted)
    );
    assert!(outbox.status().unwrap().possible_duplicates.is_empty());
    assert!(hang.arrived().is_empty());
}

/// Runs a runner whose mailer panics right after the point of no return, in a
/// task of its own (the process dying), and returns the database path.
async fn crash_after_submit(name: &str) -> (std::path::PathBuf, cellmail_outbox::MailId, Fake) {
    let d = dir(name);
    let path = d.join("outbox.db");
    let outbox = Outbox::open(&path).unwrap();
    let id = outbox.enqueue(&mail("in doubt")).unwrap();
    let later = outbox.enqueue(&mail("later")).unwrap();
    let crashing = Fake::new([Step::PanicAfter], Step::Ok);
    let sender = crashing.boxed();
    let task = tokio::spawn(async move {
        let mut runner = Runner::new(outbox, vec![sender], config(Delivery::AtLeastOnce)).unwrap();
        runner.run_until_empty(|_| {}).await
    });
    assert!(task.await.unwrap_err().is_panic());
    let outbox = Outbox::open(&path).unwrap();
    assert_eq!(outbox.mail(id).unwrap().state, MailState::InDoubt);
    assert_eq!(outbox.mail(later).unwrap().state, MailState::Queued);
    assert_eq!(outbox.status().unwrap().counts.in_doubt, 1);
    (path, id, crashing)
}

#[tokio::test(start_paused = true)]
async fn a_crash_in_doubt_under_at_least_once_is_sent_again_as_a_possible_duplicate() {
    let (path, id, crashed) = crash_after_submit("crash-alo").await;
    let outbox = Outbox::open(&path).unwrap();
    let fake = Fake::new([], Step::Ok);
    let mut runner = Runner::new(
        outbox.clone(),
        vec![fake.boxed()],
        config(Delivery::AtLeastOnce),
    )
    .unwrap();
    assert_eq!(runner.recovery().possible_duplicates, [id]);
    runner.run_until_empty(|_| {}).await.unwrap();
    assert_eq!(crashed.arrived(), ["in doubt"]);
    assert_eq!(fake.arrived(), ["in doubt", "later"]);
    let status = outbox.status().unwrap();
    assert_eq!(status.counts.sent, 2);
    assert_eq!(status.possible_duplicates, [id]);
}

#[tokio::test(start_paused = true)]
async fn a_crash_in_doubt_under_at_most_once_ends_unknown_and_is_not_sent_again() {
    let (path, id, crashed) = crash_after_submit("crash-amo").await;
    let outbox = Outbox::open(&path).unwrap();
    let fake = Fake::new([], Step::Ok);
    let mut runner = Runner::new(
        outbox.clone(),
        vec![fake.boxed()],
        config(Delivery::AtMostOnce),
    )
    .unwrap();
    assert_eq!(runner.recovery().unknown, [id]);
    runner.run_until_empty(|_| {}).await.unwrap();
    assert_eq!(crashed.arrived(), ["in doubt"]);
    assert_eq!(fake.arrived(), ["later"]);
    let status = outbox.status().unwrap();
    assert_eq!((status.counts.sent, status.counts.unknown), (1, 1));
    assert!(status.possible_duplicates.is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_mailer_that_keeps_failing_is_failed_over() {
    let outbox = outbox("failover");
    let ids: Vec<_> = (0..4)
        .map(|i| outbox.enqueue(&mail(&format!("m{i}"))).unwrap())
        .collect();
    let dead = Fake::new([], Step::Before(network));
    let healthy = Fake::new([], Step::Ok);
    let config = RunnerConfig {
        failover_after: 2,
        ..config(Delivery::AtLeastOnce)
    };
    let mut runner =
        Runner::new(outbox.clone(), vec![dead.boxed(), healthy.boxed()], config).unwrap();
    let mut switched = Vec::new();
    let summary = runner
        .run_until_empty(|e| switched.extend(e.failed_over_to))
        .await
        .unwrap();
    assert_eq!(switched, [1]);
    assert_eq!((summary.sent, summary.failovers), (4, 1));
    assert_eq!(dead.calls(), 2);
    assert_eq!(healthy.arrived(), ["m0", "m1", "m2", "m3"]);
    // m0 and m1 each failed once on the dead one; after the switch they were due
    // at once (their backoffs were the dead mailer's) and kept their order.
    for id in &ids[..2] {
        let senders: Vec<_> = outbox
            .attempts(*id)
            .unwrap()
            .iter()
            .map(|a| a.sender)
            .collect();
        assert_eq!(senders, [0, 1]);
    }
    assert_eq!(runner.current_sender(), 1);
}

#[tokio::test(start_paused = true)]
async fn failover_goes_back_when_the_second_mailer_fails_too() {
    let outbox = outbox("failback");
    outbox.enqueue(&mail("a")).unwrap();
    outbox.enqueue(&mail("b")).unwrap();
    let first = Fake::new([Step::Before(network), Step::Before(network)], Step::Ok);
    let second = Fake::new([], Step::Before(network));
    let config = RunnerConfig {
        failover_after: 2,
        ..config(Delivery::AtLeastOnce)
    };
    let mut runner =
        Runner::new(outbox.clone(), vec![first.boxed(), second.boxed()], config).unwrap();
    let mut switched = Vec::new();
    runner
        .run_until_empty(|e| switched.extend(e.failed_over_to))
        .await
        .unwrap();
    assert_eq!(switched, [1, 0]);
    assert_eq!(first.arrived(), ["a", "b"]);
    assert_eq!(second.calls(), 2);
}

#[tokio::test(start_paused = true)]
async fn one_runner_per_outbox() {
    let d = dir("onerunner");
    let path = d.join("outbox.db");
    let fake = Fake::new([], Step::Ok);
    let first = Runner::new(
        Outbox::open(&path).unwrap(),
        vec![fake.boxed()],
        config(Delivery::AtLeastOnce),
    )
    .unwrap();
    let err = Runner::new(
        Outbox::open(&path).unwrap(),
        vec![fake.boxed()],
        config(Delivery::AtLeastOnce),
    )
    .unwrap_err();
    assert!(matches!(err, OutboxError::RunnerActive { .. }), "{err}");
    drop(first);
    Runner::new(
        Outbox::open(&path).unwrap(),
        vec![fake.boxed()],
        config(Delivery::AtLeastOnce),
    )
    .unwrap();
    let err = Runner::new(
        Outbox::open(&path).unwrap(),
        vec![],
        config(Delivery::AtLeastOnce),
    )
    .unwrap_err();
    assert!(matches!(err, OutboxError::NoSender), "{err}");
}

#[tokio::test(start_paused = true)]
async fn mail_enqueued_by_another_handle_while_running_is_picked_up() {
    let d = dir("concurrent");
    let path = d.join("outbox.db");
    let fake = Fake::new([], Step::Ok);
    let mut runner = Runner::new(
        Outbox::open(&path).unwrap(),
        vec![fake.boxed()],
        config(Delivery::AtLeastOnce),
    )
    .unwrap();
    let other = Outbox::open(&path).unwrap(); // as another process would
    let run = tokio::time::timeout(Duration::from_secs(10), runner.run(|_| {}));
    let enqueue = async {
        tokio::time::sleep(Duration::from_secs(3)).await;
        other.enqueue(&mail("late")).unwrap();
    };
    let (stopped, ()) = tokio::join!(run, enqueue);
    assert!(stopped.is_err(), "run only ends when dropped");
    assert_eq!(fake.arrived(), ["late"]);
}
