//! The app and the CLI run the same use cases: each one through the app's
//! command layer (Tauri's IPC, mock runtime) and through the CLI binary,
//! against the same simulated routers, each front end on its own store,
//! and the store outcomes compared: check-ins, pinned certificates, push
//! records, audit events, sync reports.

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
    sync::OnceLock,
};

use fleet_core::{
    credentials::{CredentialStore, Sensitive},
    AddDevice, Fleet, FleetStore, StoreUrl,
};
use routeros_sim::{SimConfig, SimFleet};
use serde_json::{json, Value};

#[path = "support/ipc.rs"]
mod ipc;
#[path = "../crates/fleet-store/tests/common/mod.rs"]
mod store_common;

/// The CLI binary of this build, built first if this test runs alone.
fn cli_binary() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let exe = std::env::current_exe().unwrap();
        let profile_dir = exe.parent().unwrap().parent().unwrap().to_path_buf();
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let built = Command::new(cargo)
            .args([
                "build",
                "--locked",
                "--offline",
                "-p",
                "fleetdeck-cli",
                "--bin",
                "fleetdeck-cli",
            ])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .unwrap();
        assert!(built.success(), "the CLI builds");
        profile_dir.join("fleetdeck-cli")
    })
}

/// One front end's side: its data folder (store, credential file,
/// settings) and the fleet over them.
struct Side {
    dir: tempfile::TempDir,
    fleet: Option<Fleet>,
}

impl Side {
    async fn new() -> Side {
        let dir = tempfile::tempdir().unwrap();
        let store = FleetStore::open(&StoreUrl::Sqlite(dir.path().join("fleet.db")))
            .await
            .unwrap();
        let fleet = Fleet::new(
            store,
            CredentialStore::file(dir.path().join("credentials.json")),
        );
        Side {
            dir,
            fleet: Some(fleet),
        }
    }

    fn fleet(&self) -> &Fleet {
        self.fleet.as_ref().unwrap()
    }

    /// The app's window over this side's fleet.
    fn window(&mut self) -> tauri::WebviewWindow<tauri::test::MockRuntime> {
        ipc::window(self.fleet.take().unwrap())
    }

    fn store_url(&self) -> String {
        format!("sqlite://{}", self.dir.path().join("fleet.db").display())
    }

    /// A second handle on this side's store, to read what a front end
    /// wrote.
    async fn store(&self) -> FleetStore {
        FleetStore::open(&self.store_url().parse::<StoreUrl>().unwrap())
            .await
            .unwrap()
    }

    /// Runs the CLI on this side's data folder and credential file.
    fn cli(&self, args: &[&str]) -> Output {
        Command::new(cli_binary())
            .args(args)
            .env("FLEETDECK_DATA_DIR", self.dir.path())
            .env("FLEETDECK_CREDENTIALS", "file")
            .env_remove("FLEETDECK_STORE")
            .output()
            .unwrap()
    }
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "the CLI failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

async fn sim(devices: usize, tls: bool) -> SimFleet {
    SimFleet::start(SimConfig {
        devices,
        password: "pw".into(),
        tls,
        ..SimConfig::default()
    })
    .await
    .unwrap()
}

/// Adds the router at `port` to `side`'s inventory with its password, as
/// a technician would (API-SSL through an inventory import that names
/// the transport), and returns its id.
async fn add_router(side: &Side, port: u16, api_ssl: bool) -> String {
    let password = Sensitive::new("pw".to_string());
    if api_ssl {
        let csv = format!("host,port,username,transport\n127.0.0.1,{port},admin,api-ssl\n");
        side.fleet()
            .import_inventory(&csv, "admin", Some(&password))
            .await
            .unwrap();
        side.fleet()
            .store()
            .find_device("127.0.0.1", port)
            .await
            .unwrap()
            .unwrap()
            .id
    } else {
        side.fleet()
            .add_device(AddDevice {
                host: "127.0.0.1".into(),
                port,
                username: "admin".into(),
                password,
                transport: Default::default(),
            })
            .await
            .unwrap()
            .id
    }
}

/// What a poll left in a store: each check-in's identity, version and
/// board, and the audit trail's actions (oldest first).
async fn poll_outcome(
    store: &FleetStore,
    id: &str,
) -> (Vec<(String, String, String)>, Vec<String>) {
    let checkins = store
        .checkins_of(id, 0, i64::MAX)
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.identity, c.version, c.board_name))
        .collect();
    (checkins, actions(store, id).await)
}

async fn actions(store: &FleetStore, id: &str) -> Vec<String> {
    let mut events = store.audit_events(Some(id), 0, 500).await.unwrap();
    events.reverse();
    events.into_iter().map(|e| e.action.to_string()).collect()
}

#[test]
fn poll_one_router_over_plain_api() {
    let rt = runtime();
    let sim = rt.block_on(sim(1, false));
    let (mut app, cli) = rt.block_on(async { (Side::new().await, Side::new().await) });
    let port = sim.port(0);
    let app_id = rt.block_on(add_router(&app, port, false));
    let cli_id = rt.block_on(add_router(&cli, port, false));

    let window = app.window();
    let via_app = ipc::invoke(&window, "poll_device", json!({"deviceId": app_id})).unwrap();
    let printed = ok(&cli.cli(&["poll", "--device", &cli_id]));
    let via_cli: Value = serde_json::from_str(printed.trim()).unwrap();

    for key in ["identity", "version", "boardName"] {
        assert_eq!(via_app[key], via_cli[key], "{key}: {via_app} / {via_cli}");
    }
    assert_eq!(via_app["identity"], "sim-router-0000");
    let (a, c) = rt.block_on(async {
        (
            poll_outcome(&app.store().await, &app_id).await,
            poll_outcome(&cli.store().await, &cli_id).await,
        )
    });
    assert_eq!(a.0.len(), 1, "one check-in stored: {a:?}");
    assert_eq!(a, c, "the same check-ins and audit trail");
}

#[test]
fn poll_one_router_over_api_ssl_with_a_pinned_certificate() {
    let rt = runtime();
    let sim = rt.block_on(sim(1, true));
    let (mut app, cli) = rt.block_on(async { (Side::new().await, Side::new().await) });
    let port = sim.tls_port(0).unwrap();
    let real = routeros::Fingerprint(sim.fingerprint(0).unwrap()).to_string();
    let wrong = routeros::Fingerprint([7; 32]).to_string();
    let app_id = rt.block_on(add_router(&app, port, true));
    let cli_id = rt.block_on(add_router(&cli, port, true));
    rt.block_on(async {
        for (side, id) in [(&app, &app_id), (&cli, &cli_id)] {
            assert!(side
                .fleet()
                .store()
                .pin_fingerprint(id, &real)
                .await
                .unwrap());
        }
    });

    let window = app.window();
    let via_app = ipc::invoke(&window, "poll_device", json!({"deviceId": app_id})).unwrap();
    let printed = ok(&cli.cli(&["poll", "--device", &cli_id]));
    let via_cli: Value = serde_json::from_str(printed.trim()).unwrap();
    assert_eq!(via_app["identity"], via_cli["identity"]);
    assert_eq!(via_app["version"], via_cli["version"]);
    let (a, c) = rt.block_on(async {
        (
            poll_outcome(&app.store().await, &app_id).await,
            poll_outcome(&cli.store().await, &cli_id).await,
        )
    });
    assert_eq!(a.0.len(), 1, "{a:?}");
    assert_eq!(a, c);

    // A pin the router's certificate does not match is refused by both,
    // in the same words, and nothing is stored.
    let other_port = port;
    let (mut app2, cli2) = rt.block_on(async { (Side::new().await, Side::new().await) });
    let app2_id = rt.block_on(add_router(&app2, other_port, true));
    let cli2_id = rt.block_on(add_router(&cli2, other_port, true));
    rt.block_on(async {
        for (side, id) in [(&app2, &app2_id), (&cli2, &cli2_id)] {
            side.fleet()
                .store()
                .pin_fingerprint(id, &wrong)
                .await
                .unwrap();
        }
    });
    let window2 = app2.window();
    let err = ipc::invoke(&window2, "poll_device", json!({"deviceId": app2_id})).unwrap_err();
    let out = cli2.cli(&["poll", "--device", &cli2_id]);
    assert!(!out.status.success());
    let cli_err = String::from_utf8_lossy(&out.stderr);
    // The app's message is a sentence (capital, full stop); the words are
    // the same.
    let app_err = err["message"].as_str().unwrap().trim_end_matches('.');
    assert!(app_err.contains("certificate has changed"), "{app_err}");
    assert!(
        cli_err.to_lowercase().contains(&app_err.to_lowercase()),
        "{cli_err} / {app_err}"
    );
    let counts = rt.block_on(async {
        (
            app2.store().await.count_checkins(&app2_id).await.unwrap(),
            cli2.store().await.count_checkins(&cli2_id).await.unwrap(),
        )
    });
    assert_eq!(counts, (0, 0));
}

const TEMPLATE: &str = "/interface bridge add name=lan comment={{ router.identity: string }}\n";

#[test]
fn preview_with_the_routers_values() {
    let rt = runtime();
    let sim = rt.block_on(sim(1, false));
    let (mut app, cli) = rt.block_on(async { (Side::new().await, Side::new().await) });
    let port = sim.port(0);
    let app_id = rt.block_on(add_router(&app, port, false));
    let cli_id = rt.block_on(add_router(&cli, port, false));
    let tpl = cli.dir.path().join("t.rsc");
    std::fs::write(&tpl, TEMPLATE).unwrap();
    let values = cli.dir.path().join("v.json");
    std::fs::write(&values, "{}").unwrap();

    let window = app.window();
    let via_app = ipc::invoke(
        &window,
        "preview_push",
        json!({"deviceId": app_id, "template": TEMPLATE, "values": {}, "import": false}),
    )
    .unwrap();
    let printed = ok(&cli.cli(&[
        "preview",
        "--device",
        &cli_id,
        "--template",
        tpl.to_str().unwrap(),
        "--values",
        values.to_str().unwrap(),
        "--json",
    ]));
    let via_cli: Value = serde_json::from_str(&printed).unwrap();
    let app_preview = &via_app["preview"];
    assert!(
        app_preview["after"]
            .as_str()
            .unwrap()
            .contains("comment=sim-router-0000"),
        "{via_app}"
    );
    assert_eq!(app_preview["rendered"], via_cli["rendered"]);
    assert_eq!(app_preview["steps"], via_cli["steps"]);
    assert_eq!(app_preview["diff"], via_cli["diff"]);
    assert_eq!(app_preview["plan"], via_cli["plan"]);
    // A preview writes nothing to the router.
    assert!(sim.device(0).items("interface/bridge").is_empty());
}

#[test]
fn push_and_confirm_by_hand() {
    let rt = runtime();
    let sim = rt.block_on(sim(2, false));
    let (mut app, cli) = rt.block_on(async { (Side::new().await, Side::new().await) });
    // Each front end pushes to its own router of the same simulator.
    let app_id = rt.block_on(add_router(&app, sim.port(0), false));
    let cli_id = rt.block_on(add_router(&cli, sim.port(1), false));
    let tpl = cli.dir.path().join("t.rsc");
    std::fs::write(&tpl, TEMPLATE).unwrap();
    let values = cli.dir.path().join("v.json");
    std::fs::write(&values, "{}").unwrap();

    let window = app.window();
    let report = ipc::invoke(
        &window,
        "push_template",
        json!({
            "request": {
                "deviceIds": [app_id], "template": TEMPLATE, "values": {},
                "concurrency": 1, "stopAfter": 0, "confirmWithinMinutes": 10,
                "manualConfirm": true
            },
            "onEvent": "__CHANNEL__:7"
        }),
    )
    .unwrap();
    let app_result = &report["results"][0];
    assert_eq!(app_result["status"], "awaiting-confirmation", "{report}");
    let scheduler = app_result["report"]["safetyNet"].as_str().unwrap();
    ipc::invoke(
        &window,
        "confirm_push",
        json!({"deviceId": app_id, "scheduler": scheduler}),
    )
    .unwrap();

    let targets = format!("127.0.0.1:{}", sim.port(1));
    let printed = ok(&cli.cli(&[
        "push",
        "--template",
        tpl.to_str().unwrap(),
        "--values",
        values.to_str().unwrap(),
        "--targets",
        &targets,
        "--store",
        &cli.store_url(),
        "--confirm-by-hand",
        "--json",
    ]));
    let line: Value = serde_json::from_str(printed.lines().next().unwrap()).unwrap();
    assert_eq!(line["status"], "awaiting-confirmation", "{printed}");
    let scheduler = line["safetyNet"].as_str().unwrap().to_owned();
    ok(&cli.cli(&["confirm", "--device", &cli_id, "--scheduler", &scheduler]));

    let (a, c) = rt.block_on(async {
        let outcome = |store: FleetStore, id: String| async move {
            let pushes: Vec<(String, bool)> = store
                .push_records(Some(&id), 10)
                .await
                .unwrap()
                .into_iter()
                .map(|p| (p.status.to_string(), p.summary.contains("confirmed by")))
                .collect();
            (pushes, actions(&store, &id).await)
        };
        (
            outcome(app.store().await, app_id.clone()).await,
            outcome(cli.store().await, cli_id.clone()).await,
        )
    });
    assert_eq!(a.0, vec![("succeeded".to_string(), true)], "{a:?}");
    assert!(a.1.iter().any(|x| x == "push.confirmed"), "{a:?}");
    assert_eq!(a, c, "the same push record and audit trail");
    for i in 0..2 {
        let comment = sim
            .device(i)
            .items("interface/bridge")
            .iter()
            .find(|b| b.get_str("name").as_deref() == Some("lan"))
            .and_then(|b| b.get_str("comment"));
        assert_eq!(comment, Some(format!("sim-router-000{i}")));
    }
}

#[test]
fn sync_with_the_shared_database() {
    let rt = runtime();
    let sim = rt.block_on(sim(1, false));
    let (mut app, cli) = rt.block_on(async { (Side::new().await, Side::new().await) });
    let port = sim.port(0);
    let app_id = rt.block_on(add_router(&app, port, false));
    let cli_id = rt.block_on(add_router(&cli, port, false));
    rt.block_on(async {
        app.fleet().poll_device(&app_id).await.unwrap();
        cli.fleet().poll_device(&cli_id).await.unwrap();
    });
    let (app_db, cli_db) = rt.block_on(async {
        (
            store_common::create_db().await,
            store_common::create_db().await,
        )
    });

    // The app: the address typed in Data and sync, then "Sync now". Its
    // settings file is in the data folder the process names.
    std::env::set_var("FLEETDECK_DATA_DIR", app.dir.path());
    let window = app.window();
    let app_url = store_common::db_url(&app_db);
    ipc::invoke(
        &window,
        "set_shared_store",
        json!({"url": app_url, "password": ""}),
    )
    .unwrap();
    let via_app = ipc::invoke(&window, "sync_now", json!({})).unwrap();

    // The CLI: the same settings file in its own data folder.
    let cli_url = store_common::db_url(&cli_db);
    std::fs::write(
        cli.dir.path().join("settings.json"),
        json!({"sharedStoreUrl": cli_url}).to_string(),
    )
    .unwrap();
    let printed = ok(&cli.cli(&["sync", "--shared", "--json"]));
    let via_cli: Value = serde_json::from_str(printed.trim()).unwrap();
    for key in [
        "recordsDelivered",
        "devices",
        "checkins",
        "auditEvents",
        "pushes",
    ] {
        assert_eq!(via_app[key], via_cli[key], "{key}: {via_app} / {via_cli}");
    }
    // The router's record and its check-in went up.
    assert!(
        via_app["recordsDelivered"].as_u64().unwrap() >= 2,
        "{via_app}"
    );
    let shared = |url: String| async move {
        let s = FleetStore::open(&url.parse::<StoreUrl>().unwrap())
            .await
            .unwrap();
        let devices: Vec<(String, u16)> = s
            .list_devices()
            .await
            .unwrap()
            .into_iter()
            .map(|d| (d.host, d.port))
            .collect();
        let checkins = s
            .count_checkins(&s.list_devices().await.unwrap()[0].id)
            .await
            .unwrap();
        (devices, checkins)
    };
    let (a, c) = rt.block_on(async { (shared(app_url).await, shared(cli_url).await) });
    assert_eq!(a, (vec![("127.0.0.1".to_string(), port)], 1));
    assert_eq!(a, c, "the same fleet reached each shared database");
    let left = rt.block_on(async {
        (
            app.store().await.outbox_size().await.unwrap().1,
            cli.store().await.outbox_size().await.unwrap().1,
        )
    });
    assert_eq!(left, (0, 0), "nothing left queued on either side");
    rt.block_on(async {
        store_common::drop_mysql_db(&app_db).await;
        store_common::drop_mysql_db(&cli_db).await;
    });
}
