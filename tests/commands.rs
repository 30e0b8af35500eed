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
