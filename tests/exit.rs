//! The app's process, with its real window under a display: SIGTERM closes
//! it as the window's close button does, and background polling stores the
//! check-ins it has before the process ends; a second launch on the same
//! data folder brings the first forward and ends; the rolling log file is
//! written and flushed at exit.

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

/// A private session bus for one test, as a desktop session has.
struct SessionBus {
    daemon: std::process::Child,
    address: String,
}

impl SessionBus {
    fn start() -> SessionBus {
        use std::io::BufRead;
        let mut daemon = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--print-address=1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon (scripts/setup.sh installs it)");
        let mut line = String::new();
        std::io::BufReader::new(daemon.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        SessionBus {
            daemon,
            address: line.trim().to_owned(),
        }
    }
}

impl Drop for SessionBus {
    fn drop(&mut self) {
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
    }
}

/// The app on `data`, its output in `log`; on the session bus at `bus`, or
/// with none.
fn start_app(
    data: &std::path::Path,
    log: &std::path::Path,
    bus: Option<&str>,
) -> std::process::Child {
    let out = std::fs::File::create(log).unwrap();
    let mut app = Command::new(env!("CARGO_BIN_EXE_fleetdeck"));
    app.env("FLEETDECK_DATA_DIR", data)
        .env("FLEETDECK_CREDENTIALS", "file")
        .env("RUST_LOG", "info")
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .stdin(Stdio::null());
    if let Some(bus) = bus {
        app.env("DBUS_SESSION_BUS_ADDRESS", bus);
    }
    app.spawn().unwrap()
}

/// Everything the app's rolling log files in `data` hold.
fn log_files(data: &std::path::Path) -> String {
    std::fs::read_dir(data.join(fleet_core::diagnostics::LOG_DIR))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
        .collect()
}

/// A second launch on the same data folder, with a session bus (a desktop)
/// and without one (the folder's lock): the second ends at once, the first
/// keeps running, and with the bus it brings its window forward. The first
/// writes its rolling log to the data folder and flushes it at exit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_launch_leaves_the_first_running_alone() {
    assert!(
        std::env::var_os("DISPLAY").is_some(),
        "the instance test needs a display: run it under xvfb-run (scripts/test.sh does)"
    );
    let bus = SessionBus::start();
    for (case, bus) in [("bus", Some(bus.address.as_str())), ("lock", None)] {
        let run = target_dir().join(format!("e2e/run-instance-{case}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&run);
        let data = run.join("data");
        std::fs::create_dir_all(&data).unwrap();
        let mut first = start_app(&data, &run.join("first.log"), bus);
        wait::until(
            "the first to start and log to its file",
            wait::DEADLINE,
            || {
                let text = log_files(&data);
                async move { text.contains("Fleetdeck started") }
            },
        )
        .await;
        let mut second = start_app(&data, &run.join("second.log"), bus);
        let ended = wait::until_some("the second launch to end", wait::DEADLINE, || {
            let done = second.try_wait().unwrap();
            async move { done }
        })
        .await;
        let second_log = std::fs::read_to_string(run.join("second.log")).unwrap();
        assert!(ended.success(), "{case}: {ended:?}\n{second_log}");
        assert!(
            !second_log.contains("Fleetdeck started"),
            "{case}: the second never opened the store:\n{second_log}"
        );
        assert!(
            first.try_wait().unwrap().is_none(),
            "{case}: the first keeps running"
        );
        if bus.is_some() {
            wait::until("the first to be brought forward", wait::DEADLINE, || {
                let text = log_files(&data);
                async move { text.contains("launched again: bringing this window forward") }
            })
            .await;
        } else {
            assert!(
                second_log.contains("already running with the data folder"),
                "{second_log}"
            );
        }
        Command::new("kill")
            .args(["-TERM", &first.id().to_string()])
            .status()
            .unwrap();
        let status = wait::until_some("the first to exit", wait::DEADLINE, || {
            let done = first.try_wait().unwrap();
            async move { done }
        })
        .await;
        assert!(status.success(), "{case}: {status:?}");
        assert!(
            log_files(&data).contains("Fleetdeck closed"),
            "{case}: the log file is flushed at exit"
        );
    }
}
