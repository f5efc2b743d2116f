//! `open` and `connect` against the virtual modules (pseudo-terminals) and the replay harness;
//! sending through a `SharedModem` from several tasks against the mail stack
//! (`cargo xtask test` provides it).

#![allow(clippy::unwrap_used, missing_docs)] // a failed unwrap is a failed test

use std::sync::Mutex;

use cellmail::{Auth, Email, MailError, MailSender, Secret, SendStage, ServerAddr, SmtpAccount};
use cellmail_modem::{Family, Modem, OpenError, Settings, SharedModem};
use cellmail_replay::{ScriptedModem, Transcript};
use cellmail_sim::{SimOptions, VirtualModule};

fn sim_family(f: Family) -> cellmail_sim::Family {
    cellmail_sim::Family::parse(f.name()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_probes_every_virtual_module_and_picks_its_dialect() {
    for family in Family::ALL {
        let module = VirtualModule::spawn(sim_family(family), SimOptions::default()).unwrap();
        let path = module.path().to_str().unwrap().to_owned();
        let modem = cellmail_modem::open(&path, 115_200, &Settings::default())
            .await
            .unwrap();
        assert_eq!(modem.family(), family);
        let info = modem.info().unwrap();
        assert!(family.drives(info), "{info} is not a {family}");
        assert!(!info.revision.is_empty());
    }
}

#[tokio::test(start_paused = true)]
async fn an_unclaimed_module_is_named_and_nothing_more_is_sent() {
    let t = Transcript::load(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/transcripts/unclaimed-m26.at"
    ))
    .unwrap();
    let modem = ScriptedModem::builder(&t).build().unwrap();
    let Err(err) = Modem::connect(modem, &Settings::default()).await else {
        panic!("the M26 was claimed");
    };
    let OpenError::Unclaimed { info, dialects } = &err else {
        panic!("expected Unclaimed, got {err}");
    };
    assert_eq!(
        (
            info.manufacturer.as_str(),
            info.model.as_str(),
            info.revision.as_str()
        ),
        ("Quectel", "M26", "M26FBR03A01")
    );
    assert_eq!(dialects, &Family::ALL);
    let text = err.to_string();
    assert!(
        text.contains("M26FBR03A01") && text.contains("sim5360"),
        "{text}"
    );
    assert!(!err.is_transient());
}

#[tokio::test(start_paused = true)]
async fn a_refused_cgmr_falls_back_to_ati() {
    let t = Transcript::load(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/transcripts/probe-sim5360-ati.at"
    ))
    .unwrap();
    let modem = ScriptedModem::builder(&t).build().unwrap();
    let modem = Modem::connect(modem, &Settings::default()).await.unwrap();
    assert_eq!(modem.family(), Family::Sim5360);
    assert_eq!(modem.info().unwrap().revision, "SIM5360E_V1.5");
    modem.into_client().into_inner().finish().unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_probed_sim800_has_tls_1_0_a_sim7000_none() {
    use cellmail::{TlsMode, TlsVersion};
    let t = Transcript::load(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/transcripts/probe-sim800l.at"
    ))
    .unwrap();
    let modem = ScriptedModem::builder(&t).build().unwrap();
    let modem = Modem::connect(modem, &Settings::default()).await.unwrap();
    assert_eq!(modem.family(), Family::Sim7000);
    let caps = modem.capabilities();
    assert!(
        caps.smtp_tls.contains(&TlsMode::Implicit) && caps.pop3_tls.contains(&TlsMode::StartTls)
    );
    assert_eq!(caps.tls_versions, [TlsVersion::Tls1_0]);
    // Reconfigured, the probed model is kept.
    let modem = modem.reconfigure(&Settings::default()).unwrap();
    assert_eq!(modem.capabilities().tls_versions, [TlsVersion::Tls1_0]);
    // The family alone (no probe) claims no TLS: a SIM7000 has none.
    assert_eq!(Family::Sim7000.capabilities().smtp_tls, [TlsMode::None]);
    modem.into_client().into_inner().finish().unwrap();
}

#[tokio::test]
async fn a_missing_port_names_the_path() {
    let err = cellmail_modem::open("/nonexistent/ttyUSB9", 115_200, &Settings::default())
        .await
        .unwrap_err();
    assert!(matches!(&err, OpenError::Port { path, .. } if path == "/nonexistent/ttyUSB9"));
    assert!(err.to_string().contains("/nonexistent/ttyUSB9"), "{err}");
}

#[tokio::test]
async fn an_apn_user_the_simcom_dialects_cannot_take_is_refused() {
    for family in [Family::Sim7000, Family::Sim5360] {
        let (host, _module) = tokio::io::duplex(64);
        let settings = Settings {
            family: Some(family),
            bearer: Some(cellmail::Bearer {
                apn: "m2m".into(),
                user: Some("m2m".into()),
                password: Some(Secret::new("apn-pass")),
            }),
            ..Default::default()
        };
        let err = Modem::connect(host, &settings).await.unwrap_err();
        assert!(
            matches!(&err, OpenError::Settings { source: MailError::Unsupported { feature }, .. } if feature.contains("APN user")),
            "{err}"
        );
        assert!(!format!("{err} {err:?}").contains("apn-pass"));
    }
}

fn var(key: &str) -> String {
    std::env::var(key).unwrap_or_else(|_| {
        panic!("{key} is not set: run the suite with `cargo xtask test` (it starts Postfix and Dovecot)")
    })
}

/// Three tasks send through one virtual SIM7000 at once; every mail arrives, and
/// `send_observed` through the handle and the modem reaches the dialect.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_tasks_share_one_module_and_every_mail_arrives() {
    let module =
        VirtualModule::spawn(cellmail_sim::Family::Sim7000, SimOptions::default()).unwrap();
    let user = var("CELLMAIL_USER_ALICE");
    let settings = Settings {
        smtp: Some(SmtpAccount {
            server: ServerAddr::new(
                var("CELLMAIL_SMTP_HOST"),
                var("CELLMAIL_SMTP_PORT").parse().unwrap(),
            ),
            auth: Auth::Login {
                user: user.clone(),
                password: Secret::new(var("CELLMAIL_PASSWORD_ALICE")),
            },
            tls: Default::default(),
        }),
        bearer: Some(cellmail::Bearer {
            apn: "CMNET".into(),
            user: None,
            password: None,
        }),
        ..Default::default()
    };
    let modem = cellmail_modem::open(module.path().to_str().unwrap(), 115_200, &settings)
        .await
        .unwrap();
    let shared = SharedModem::new(modem);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let tags: Vec<String> = (0..3).map(|i| format!("shared-{nanos}-{i}")).collect();
    let tasks: Vec<_> = tags
        .iter()
        .map(|tag| {
            let mut handle = shared.clone();
            let email = Email::builder()
                .from(&user, None)
                .to(&user, None)
                .subject(tag.clone())
                .body("through a shared modem")
                .build()
                .unwrap();
            tokio::spawn(async move {
                let stages = Mutex::new(Vec::new());
                let observe = |s: SendStage| stages.lock().unwrap().push(s);
                let report = handle.send_observed(&email, &observe).await;
                (report, stages.into_inner().unwrap())
            })
        })
        .collect();
    for t in tasks {
        let (report, stages) = t.await.unwrap();
        report.unwrap();
        assert_eq!(stages, [SendStage::Submitting]);
    }
    let maildir = var("CELLMAIL_MAILDIR_ROOT");
    let local = user.split('@').next().unwrap().to_owned();
    for tag in &tags {
        let mut found = false;
        for _ in 0..100 {
            found = ["new", "cur"].iter().any(|sub| {
                std::fs::read_dir(format!("{maildir}/{local}/{sub}"))
                    .into_iter()
                    .flatten()
                    .flatten()
                    .any(|e| {
                        std::fs::read(e.path())
                            .is_ok_and(|b| String::from_utf8_lossy(&b).contains(tag.as_str()))
                    })
            });
            if found {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert!(found, "{tag} did not reach {user}");
    }
}
