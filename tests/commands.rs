//! The app's commands through Tauri's real IPC layer (mock runtime, no
//! display), with the app's real capabilities from tauri.conf.json, against
//! a simulated router and a real SQLite file.

use fleet_core::{credentials::CredentialStore, Fleet, FleetStore, StoreUrl};
use fleetdeck_app::{builder, AppState};
use routeros_sim::{SimConfig, SimFleet};
use serde_json::{json, Value};
use tauri::{
    ipc::{CallbackFn, InvokeBody},
    test::{get_ipc_response, mock_builder, INVOKE_KEY},
    webview::InvokeRequest,
    WebviewWindow, WebviewWindowBuilder,
};

#[path = "../crates/fleet-store/tests/common/mod.rs"]
mod store_common;

struct Harness {
    window: WebviewWindow<tauri::test::MockRuntime>,
    sim: SimFleet,
    _rt: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
}

fn harness() -> Harness {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    // The settings file goes to the app's data folder: keep it in the test's
    // own (nextest runs each test in its own process).
    std::env::set_var("XDG_DATA_HOME", dir.path().join("xdg-data"));
    std::env::set_var("XDG_CONFIG_HOME", dir.path().join("xdg-config"));
    let (fleet, sim) = rt.block_on(async {
        let store = FleetStore::open(&StoreUrl::Sqlite(dir.path().join("fleet.db")))
            .await
            .unwrap();
        let creds = CredentialStore::file(dir.path().join("credentials.json"));
        let sim = SimFleet::start(SimConfig {
            devices: 1,
            password: "pw".into(),
            ..SimConfig::default()
        })
        .await
        .unwrap();
        (Fleet::new(store, creds), sim)
    });
    let app = builder(mock_builder())
        .manage(AppState::new(fleet))
        .build(tauri::generate_context!())
        .unwrap();
    let window = WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .unwrap();
    Harness {
        window,
        sim,
        _rt: rt,
        _dir: dir,
    }
}

fn invoke(h: &Harness, cmd: &str, args: Value) -> Result<Value, Value> {
    get_ipc_response(
        &h.window,
        InvokeRequest {
            cmd: cmd.into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            url: "tauri://localhost".parse().unwrap(),
            body: InvokeBody::Json(args),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        },
    )
    .map(|b| b.deserialize::<Value>().unwrap())
}

#[test]
fn add_poll_and_chart_through_ipc_with_camel_case_payloads() {
    let h = harness();
    let info = invoke(&h, "store_info", json!({})).unwrap();
    assert_eq!(info["backend"], "sqlite");
    assert_eq!(info["credentials"]["backend"], "file");
    assert!(info["credentials"]["warning"]
        .as_str()
        .unwrap()
        .contains("0600"));

    let dev = invoke(
        &h,
        "add_device",
        json!({"input": {"host": "127.0.0.1", "port": h.sim.port(0), "username": "admin", "password": "pw"}}),
    )
    .unwrap();
    let id = dev["id"].as_str().unwrap().to_owned();
    assert_eq!(dev["lastCheckinAt"], Value::Null);
    assert!(dev.get("password").is_none());

    let k = invoke(&h, "poll_device", json!({"deviceId": id})).unwrap();
    assert_eq!(k["identity"], "sim-router-0000");
    assert!(k["cpuLoad"].as_i64().unwrap() <= 100);
    assert!(k["totalMemory"].as_i64().unwrap() > 0);

    let list = invoke(&h, "list_devices", json!({})).unwrap();
    assert_eq!(list[0]["identity"], "sim-router-0000");
    assert!(list[0]["lastCheckinAt"].as_i64().is_some());
    assert_eq!(list[0]["cpuLoad"], k["cpuLoad"].as_f64().unwrap());

    let chart = invoke(&h, "cpu_chart", json!({"deviceId": id})).unwrap();
    assert_eq!(chart["points"], 1);
    assert!(chart["svg"].as_str().unwrap().starts_with("<svg"));
}

#[test]
fn errors_reach_the_ui_as_kind_and_message() {
    let h = harness();
    let err = invoke(
        &h,
        "add_device",
        json!({"input": {"host": "", "port": 8728, "username": "admin", "password": ""}}),
    )
    .unwrap_err();
    assert_eq!(err["kind"], "invalid_input");
    assert!(err["message"]
        .as_str()
        .unwrap()
        .contains("not a router address"));

    let dev = invoke(
        &h,
        "add_device",
        json!({"input": {"host": "127.0.0.1", "port": h.sim.port(0), "username": "admin", "password": "bad"}}),
    )
    .unwrap();
    let err = invoke(&h, "poll_device", json!({"deviceId": dev["id"]})).unwrap_err();
    assert_eq!(err["kind"], "auth");
    assert!(err["message"]
        .as_str()
        .unwrap()
        .starts_with("The router at 127.0.0.1:"));

    let err = invoke(&h, "poll_device", json!({"deviceId": "no-such-id"})).unwrap_err();
    assert_eq!(err["kind"], "not_found");
}

#[test]
fn the_window_may_call_only_what_its_capability_grants() {
    let h = harness();
    // The store plugin is registered for Rust-side preferences, but the UI
    // is not granted it.
    let err = invoke(&h, "plugin:store|load", json!({"path": "x.json"})).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("not allowed"), "{text}");
}

#[test]
fn templates_are_checked_saved_listed_and_test_rendered() {
    let h = harness();
    let check = invoke(
        &h,
        "check_template",
        json!({"text": "/system identity set name={{ id: name }} comment={{ router.serial: string }}\n"}),
    )
    .unwrap();
    assert_eq!(check["parameters"][0]["name"], "id");
    assert_eq!(check["parameters"][1]["automatic"], true);
    let bad = invoke(
        &h,
        "check_template",
        json!({"text": "/x set a={{ b: nosuchtype }}\n"}),
    )
    .unwrap();
    assert_eq!(bad["errors"][0]["line"], 1);

    let err = invoke(
        &h,
        "save_template",
        json!({"id": "", "name": "broken", "body": "/x set a={{ b: nosuchtype }}\n"}),
    )
    .unwrap_err();
    assert_eq!(err["kind"], "invalid_input");
    let saved = invoke(
        &h,
        "save_template",
        json!({"id": "", "name": "Branch", "body": "/system identity set name={{ id: name }}\n"}),
    )
    .unwrap();
    let list = invoke(&h, "list_templates", json!({})).unwrap();
    assert_eq!(list[0]["id"], saved["id"]);
    assert_eq!(list[0]["name"], "Branch");

    let ok = invoke(
        &h,
        "test_render",
        json!({"body": "/system identity set name={{ id: name }} comment={{ pw: secret }}\n", "values": {"id": "core-1", "pw": "s3cret"}}),
    )
    .unwrap();
    let text = ok["rendered"].as_str().unwrap();
    assert!(text.contains("name=core-1"), "{text}");
    assert!(!text.contains("s3cret"), "secrets are masked: {text}");
    let bad = invoke(
        &h,
        "test_render",
        json!({"body": "/system identity set name={{ id: name }}\n", "values": {"id": "two words"}}),
    )
    .unwrap();
    assert!(bad["rendered"].is_null());
    assert_eq!(bad["errors"][0]["line"], 1);
}

#[test]
fn settings_are_validated_saved_and_read_back() {
    let h = harness();
    let defaults = invoke(&h, "get_settings", json!({})).unwrap();
    assert_eq!(defaults["pollIntervalSecs"], 60);
    assert_eq!(defaults["theme"], "light");
    let err = invoke(
        &h,
        "save_settings",
        json!({"settings": {"theme": "dark", "pollIntervalSecs": 1, "pushConcurrency": 8, "codepage": "windows-1251"}}),
    )
    .unwrap_err();
    assert!(
        err["message"].as_str().unwrap().contains("poll interval"),
        "{err}"
    );
    let err = invoke(
        &h,
        "save_settings",
        json!({"settings": {"theme": "dark", "pollIntervalSecs": 30, "pushConcurrency": 8, "codepage": "klingon"}}),
    )
    .unwrap_err();
    assert!(
        err["message"].as_str().unwrap().contains("codepage"),
        "{err}"
    );
    invoke(
        &h,
        "save_settings",
        json!({"settings": {"theme": "dark", "pollIntervalSecs": 30, "pushConcurrency": 8, "codepage": "windows-1251"}}),
    )
    .unwrap();
    let back = invoke(&h, "get_settings", json!({})).unwrap();
    assert_eq!(back["theme"], "dark");
    assert_eq!(back["pollIntervalSecs"], 30);
    assert_eq!(back["codepage"], "windows-1251");
}

#[test]
fn the_overview_answers_in_either_theme_and_exports_csv() {
    let h = harness();
    for theme in ["light", "dark"] {
        let o = invoke(
            &h,
            "fleet_overview",
            json!({"theme": theme, "intervalSecs": 60}),
        )
        .unwrap();
        assert_eq!(o["overview"]["summary"]["total"], 0);
        assert!(o["charts"]["versions"]
            .as_str()
            .unwrap()
            .starts_with("<svg"));
    }
    let csv = invoke(
        &h,
        "overview_csv",
        json!({"chart": "states", "intervalSecs": 60}),
    )
    .unwrap();
    assert!(
        csv.as_str().unwrap().starts_with("state,routers\n"),
        "{csv}"
    );
    let err = invoke(
        &h,
        "overview_csv",
        json!({"chart": "nope", "intervalSecs": 60}),
    )
    .unwrap_err();
    assert_eq!(err["kind"], "invalid_input");
    // Exports go only under names the app makes.
    let err = invoke(
        &h,
        "save_export",
        json!({"fileName": "../../.bashrc", "contents": [35]}),
    )
    .unwrap_err();
    assert_eq!(err["kind"], "invalid_input");
}

/// The shared database on the real MariaDB: its address saved (the
/// password refused in the URL, kept for the keyring), records made here
/// sent up by "sync now", the outbox emptied, the last sync recorded.
#[test]
fn a_shared_database_is_set_and_synced_with() {
    let h = harness();
    let db = h._rt.block_on(store_common::create_db());
    let url = store_common::db_url(&db);
    let err = invoke(
        &h,
        "set_shared_store",
        json!({"url": url.replace("root@", "root:secret@"), "password": ""}),
    )
    .unwrap_err();
    assert!(
        err["message"].as_str().unwrap().contains("keyring"),
        "{err}"
    );
    let t = invoke(&h, "set_shared_store", json!({"url": url, "password": ""})).unwrap();
    assert_eq!(t["devices"], 0);

    let port = h.sim.port(0);
    invoke(
        &h,
        "add_device",
        json!({"input": {"host": "127.0.0.1", "port": port, "username": "admin", "password": "pw"}}),
    )
    .unwrap();
    let before = invoke(&h, "sync_status", json!({})).unwrap();
    assert!(before["outboxRecords"].as_u64().unwrap() >= 1, "{before}");
    assert_eq!(before["sharedUrl"], url.as_str());
    assert!(before["lastSync"].is_null());

    let report = invoke(&h, "sync_now", json!({})).unwrap();
    assert!(
        report["recordsDelivered"].as_u64().unwrap() >= 1,
        "{report}"
    );
    let after = invoke(&h, "sync_status", json!({})).unwrap();
    assert_eq!(after["outboxRecords"], 0, "{after}");
    assert!(after["lastSync"]["at"].as_i64().unwrap() > 0);
    let shared = h._rt.block_on(async {
        FleetStore::open(&url.parse().unwrap())
            .await
            .unwrap()
            .list_devices()
            .await
            .unwrap()
    });
    assert_eq!(shared.len(), 1, "the router reached the shared database");
    assert_eq!(shared[0].port, port);
}
