//! The app's exit, with its real window under a display: SIGTERM closes it
//! as the window's close button does, and background polling stores the
//! check-ins it has before the process ends.

use std::{
    process::{Command, Stdio},
    time::Duration,
};

use routeros_sim::{wait, SimConfig, SimFleet};

#[path = "support/webdriver.rs"]
mod webdriver;
use webdriver::target_dir;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_closes_the_app_and_stores_its_last_check_ins() {
    assert!(
        std::env::var_os("DISPLAY").is_some(),
        "the exit test needs a display: run it under xvfb-run (scripts/test.sh does)"
    );
    let sim = SimFleet::start(SimConfig {
        devices: 3,
        password: "pw".into(),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let run = target_dir().join(format!("e2e/run-exit-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&run);
    let data = run.join("data");
    std::fs::create_dir_all(&data).unwrap();
    let url = fleet_core::StoreUrl::Sqlite(data.join("fleet.db"));
    {
        let fleet = fleet_core::Fleet::new(
            fleet_core::FleetStore::open(&url).await.unwrap(),
            fleet_core::credentials::CredentialStore::file(data.join("credentials.json")),
        );
        let specs = fleet_core::targets::parse_text(
            &sim.ports()
                .iter()
                .map(|p| format!("127.0.0.1:{p}\n"))
                .collect::<String>(),
        )
        .unwrap();
        let password = fleet_core::credentials::Sensitive::new("pw".to_owned());
        let targets = fleet
            .enroll(&specs, "admin", Some(&password), Duration::from_secs(5))
            .await
            .unwrap();
        // Kept as the app keeps an entered password, for its polling.
        for t in &targets {
            fleet
                .credentials()
                .set_router(&t.device_id, &(&t.connect).into(), &password)
                .unwrap();
        }
    }
    std::fs::write(
        data.join(fleet_core::settings::FILE),
        r#"{"settings": {"pollIntervalSecs": 5, "backgroundPolling": true}}"#,
    )
    .unwrap();
    let log = run.join("app.log");
    let out = std::fs::File::create(&log).unwrap();
    let mut app = Command::new(env!("CARGO_BIN_EXE_fleetdeck"))
        .env("FLEETDECK_DATA_DIR", &data)
        .env("FLEETDECK_CREDENTIALS", "file")
        .env("RUST_LOG", "info")
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let read_log = || std::fs::read_to_string(&log).unwrap_or_default();
    wait::until("background polling to start", wait::DEADLINE, || {
        let text = read_log();
        async move { text.contains("background polling started") }
    })
    .await;
    // Check-ins are being stored: the app is polling for real.
    let store = fleet_core::FleetStore::open(&url).await.unwrap();
    let ids: Vec<String> = store
        .list_devices()
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.id)
        .collect();
    wait::until("check-ins from every router", wait::DEADLINE, || {
        let (store, ids) = (&store, ids.clone());
        async move {
            for id in &ids {
                if store.count_checkins(id).await.unwrap() == 0 {
                    return false;
                }
            }
            true
        }
    })
    .await;
    drop(store);

    let term = Command::new("kill")
        .args(["-TERM", &app.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    let status = wait::until_some("the app to exit", wait::DEADLINE, || {
        let done = app.try_wait().unwrap();
        async move { done }
    })
    .await;
    let text = read_log();
    assert!(
        status.success(),
        "SIGTERM closes the app cleanly (not killed by the signal): {status:?}\n{text}"
    );
    assert!(text.contains("SIGTERM: closing"), "{text}");
    assert!(
        text.contains("background polling stopped for exit") && text.contains(", 0 not stored"),
        "the last check-ins are stored before the process ends:\n{text}"
    );
}
