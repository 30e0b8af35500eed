//! The app's commands through Tauri's real IPC layer (mock runtime, no
//! display), with the app's real capabilities from tauri.conf.json, against
//! a simulated router and a real SQLite file.

use fleet_core::{credentials::CredentialStore, Fleet, FleetStore, StoreUrl};
use routeros_sim::{SimConfig, SimFleet};
use serde_json::{json, Value};
use tauri::{Manager, WebviewWindow};

#[path = "support/ipc.rs"]
mod ipc;
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
    let window = ipc::window(fleet);
    Harness {
        window,
        sim,
        _rt: rt,
        _dir: dir,
    }
}

fn invoke(h: &Harness, cmd: &str, args: Value) -> Result<Value, Value> {
    ipc::invoke(&h.window, cmd, args)
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

    let list = invoke(&h, "list_devices", json!({"intervalSecs": 60})).unwrap();
    assert_eq!(list[0]["identity"], "sim-router-0000");
    assert_eq!(list[0]["state"], "online", "judged in Rust: {}", list[0]);
    // The detail reads the stored check-in back, whoever polled.
    let latest = invoke(&h, "latest_checkin", json!({"deviceId": id})).unwrap();
    assert_eq!(latest["checkedInAt"], k["checkedInAt"]);
    assert_eq!(latest["uptimeSecs"], k["uptimeSecs"]);
    assert_eq!(latest["identity"], "sim-router-0000");
    assert!(list[0]["lastCheckinAt"].as_i64().is_some());
    assert_eq!(list[0]["cpuLoad"], k["cpuLoad"].as_f64().unwrap());

    let charts = invoke(
        &h,
        "device_charts",
        json!({"deviceId": id, "windowSecs": 3600, "theme": "dark"}),
    )
    .unwrap();
    assert_eq!(charts["points"], 1);
    assert_eq!(charts["resolution"], "raw");
    for key in ["cpuSvg", "memorySvg", "trafficSvg"] {
        let svg = charts[key].as_str().unwrap();
        assert!(svg.starts_with("<svg"), "{key}");
        assert!(
            svg.contains("sim-router-0000"),
            "{key} is titled by identity"
        );
        assert!(svg.contains("#151C24"), "{key} follows the dark theme");
    }
    assert!(charts["trafficSvg"].as_str().unwrap().contains("received"));
    let err = invoke(
        &h,
        "device_charts",
        json!({"deviceId": id, "windowSecs": 1, "theme": "light"}),
    )
    .unwrap_err();
    assert_eq!(err["kind"], "invalid_input");

    // The live monitor's interface list comes from the router itself.
    let ifaces = invoke(&h, "list_interfaces", json!({"deviceId": id})).unwrap();
    let names: Vec<&str> = ifaces
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"ether1"), "{ifaces}");
    assert_eq!(ifaces[0]["running"], true, "running interfaces first");
}

/// An inventory CSV adds routers and their sites, keeps the ones already
/// known, stores the password for the new ones (they can be polled at
/// once), and a bad row is refused with its line number, adding nothing.
#[test]
fn an_inventory_csv_is_imported() {
    let h = harness();
    let port = h.sim.port(0);
    let csv = format!(
        "host,port,username,site,tags\n127.0.0.1,{port},admin,Lisbon POP,core;edge\n10.9.0.2,8728,,Porto,\n"
    );
    let r = invoke(
        &h,
        "import_inventory",
        json!({"request": {"text": csv, "username": "admin", "password": "pw"}}),
    )
    .unwrap();
    assert_eq!(r["rows"], 2);
    assert_eq!(r["added"], 2);
    assert_eq!(r["sitesAdded"], 2);
    assert_eq!(r["passwordStored"], true);
    let again = invoke(
        &h,
        "import_inventory",
        json!({"request": {"text": csv, "username": "admin", "password": ""}}),
    )
    .unwrap();
    assert_eq!(again["added"], 0);
    assert_eq!(again["alreadyKnown"], 2);

    let sites = invoke(&h, "list_sites", json!({})).unwrap();
    let names: Vec<&str> = sites
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Lisbon POP", "Porto"]);
    let list = invoke(&h, "list_devices", json!({"intervalSecs": 60})).unwrap();
    let sim = list
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["port"] == port)
        .unwrap();
    assert_eq!(sim["tags"], json!(["core", "edge"]));
    assert_eq!(sim["siteId"], sites[0]["id"]);
    // The stored password works: the imported router polls.
    let k = invoke(&h, "poll_device", json!({"deviceId": sim["id"]})).unwrap();
    assert_eq!(k["identity"], "sim-router-0000");

    let err = invoke(
        &h,
        "import_inventory",
        json!({"request": {"text": "host,port\n10.9.0.3,notaport\n", "username": "admin", "password": ""}}),
    )
    .unwrap_err();
    assert_eq!(err["kind"], "invalid_input");
    assert!(err["message"].as_str().unwrap().contains("line 2"), "{err}");
    assert_eq!(
        invoke(&h, "list_devices", json!({"intervalSecs": 60}))
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

/// Background polling (started as the window does) covers routers with a
/// stored password, and a router that stops accepting the login gets a
/// health alert in its history, then "back online" when it recovers.
#[test]
fn background_polling_records_health_alerts() {
    let h = harness();
    invoke(
        &h,
        "save_settings",
        json!({"settings": {"theme": "light", "pollIntervalSecs": 5, "backgroundPolling": true, "pushConcurrency": 8, "codepage": "windows-1252"}}),
    )
    .unwrap();
    let dev = invoke(
        &h,
        "add_device",
        json!({"input": {"host": "127.0.0.1", "port": h.sim.port(0), "username": "admin", "password": "pw"}}),
    )
    .unwrap();
    let id = dev["id"].as_str().unwrap().to_owned();
    let before = invoke(&h, "polling_status", json!({})).unwrap();
    assert_eq!(
        before["routers"], 0,
        "not started before the window starts it"
    );

    let handle = h.window.app_handle().clone();
    let status = h
        ._rt
        .block_on(fleetdeck_app::start_background_polling(&handle))
        .unwrap();
    assert_eq!(status.routers, 1);
    let wait_for = |what: &str, ok: &dyn Fn() -> bool| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(40);
        while !ok() {
            assert!(
                std::time::Instant::now() < deadline,
                "timed out waiting for {what}"
            );
            std::thread::sleep(std::time::Duration::from_millis(250));
        }
    };
    wait_for("a background poll", &|| {
        invoke(&h, "polling_status", json!({})).unwrap()["pollsOk"]
            .as_u64()
            .unwrap()
            >= 1
    });
    let alerts = |h: &Harness| {
        invoke(h, "device_history", json!({"deviceId": id})).unwrap()["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                (
                    a["action"].as_str().unwrap().to_owned(),
                    a["detail"].as_str().unwrap().to_owned(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert!(alerts(&h).is_empty());

    // The open session is cut and new logins are refused.
    h.sim.device(0).set_faults(routeros_sim::Faults {
        reject_login: true,
        drop_after: Some(0),
        ..Default::default()
    });
    wait_for("health.degraded", &|| {
        alerts(&h).iter().any(|(a, _)| a == "health.degraded")
    });
    let (_, detail) = alerts(&h)
        .into_iter()
        .find(|(a, _)| a == "health.degraded")
        .unwrap();
    assert!(
        detail.contains(&format!("127.0.0.1:{}", h.sim.port(0))),
        "{detail}"
    );
    let status = invoke(&h, "polling_status", json!({})).unwrap();
    assert!(status["pollsFailed"].as_u64().unwrap() >= 1, "{status}");

    h.sim.device(0).set_faults(Default::default());
    wait_for("health.online", &|| {
        alerts(&h)
            .first()
            .is_some_and(|(a, _)| a == "health.online")
    });
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

/// Saved settings that cannot be read are said, not replaced by the
/// defaults (which would, say, switch background polling back on); saving
/// them again is the way out.
#[test]
fn unreadable_settings_are_an_error_not_the_defaults() {
    let h = harness();
    let path = fleet_core::settings::path().unwrap();
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(
        &path,
        r#"{"settings": {"pollIntervalSecs": "fast", "backgroundPolling": false}}"#,
    )
    .unwrap();
    let err = invoke(&h, "get_settings", json!({})).unwrap_err();
    assert!(
        err["message"].as_str().unwrap().contains("not valid"),
        "{err}"
    );
    invoke(
        &h,
        "save_settings",
        json!({"settings": {"theme": "light", "pollIntervalSecs": 30, "backgroundPolling": false, "pushConcurrency": 8, "codepage": "windows-1252"}}),
    )
    .unwrap();
    let back = invoke(&h, "get_settings", json!({})).unwrap();
    assert_eq!(back["backgroundPolling"], false);
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

/// "Copy diagnostics": what the store and polling are, and the end of the
/// rolling log, with a secret that slipped into a log line taken out.
#[test]
fn diagnostics_tell_the_state_and_the_log_without_secrets() {
    let h = harness();
    let data = fleet_core::fleet_store::default_data_dir().unwrap();
    let logs = fleet_core::diagnostics::log_dir(&data);
    std::fs::create_dir_all(&logs).unwrap();
    std::fs::write(
        logs.join("fleetdeck.2026-12-03.log"),
        "INFO background polling started\nWARN sync failed: mysql://fleet:Sup3rS3cret@db.example/fleet refused\n",
    )
    .unwrap();
    let text = invoke(&h, "diagnostics", json!({})).unwrap();
    let text = text.as_str().unwrap();
    for part in [
        "Store: sqlite",
        "Passwords:",
        "Polling:",
        "background polling started",
        "mysql://fleet:***@db.example",
    ] {
        assert!(text.contains(part), "{part:?} in\n{text}");
    }
    assert!(!text.contains("Sup3rS3cret"), "{text}");
}

/// Configuration history through IPC: back up, the fleet's standing, a
/// router's versions, a version's text, a diff against the router now.
#[test]
fn configuration_backups_through_ipc() {
    let h = harness();
    let dev = invoke(
        &h,
        "add_device",
        json!({"input": {"host": "127.0.0.1", "port": h.sim.port(0), "username": "admin", "password": "pw"}}),
    )
    .unwrap();
    let id = dev["id"].as_str().unwrap().to_owned();
    let report = invoke(&h, "backup_routers", json!({"deviceIds": null})).unwrap();
    assert_eq!(report["newVersions"], 1, "{report}");
    assert_eq!(report["routers"][0]["outcome"], "changed", "{report}");
    let version = report["routers"][0]["versionId"]
        .as_str()
        .unwrap()
        .to_owned();
    let status = invoke(&h, "backup_status", json!({})).unwrap();
    assert_eq!(status[0]["latest"]["id"], version.as_str(), "{status}");
    assert_eq!(status[0]["lastFailure"], Value::Null);
    let log = invoke(&h, "config_log", json!({"deviceId": id})).unwrap();
    assert_eq!(log.as_array().unwrap().len(), 1);
    let shown = invoke(
        &h,
        "config_show",
        json!({"deviceId": id, "versionId": version}),
    )
    .unwrap();
    assert!(
        shown["text"].as_str().unwrap().contains("sim-router-0000"),
        "{shown}"
    );
    let hits = invoke(&h, "config_search", json!({"text": "SIM-ROUTER-0000"})).unwrap();
    assert_eq!(hits[0]["deviceId"], id.as_str(), "{hits}");
    assert!(
        hits[0]["line"]
            .as_str()
            .unwrap()
            .starts_with("/system identity set"),
        "{hits}"
    );
    h.sim.device(0).set_identity("renamed-by-hand");
    let diff = invoke(
        &h,
        "config_diff",
        json!({"deviceId": id, "from": version, "to": null}),
    )
    .unwrap();
    let d = diff["diff"].as_str().unwrap();
    assert!(
        d.contains("+/system identity set name=renamed-by-hand"),
        "{d}"
    );
    assert_eq!(diff["to"], "the router now");
    // A router that refuses shows in the standing with its words.
    h.sim.device(0).set_faults(routeros_sim::Faults {
        reject_login: true,
        ..Default::default()
    });
    let report = invoke(&h, "backup_routers", json!({"deviceIds": [id]})).unwrap();
    assert_eq!(report["failed"], 1, "{report}");
    let status = invoke(&h, "backup_status", json!({})).unwrap();
    assert!(
        status[0]["lastFailure"]
            .as_str()
            .unwrap()
            .contains("password"),
        "{status}"
    );
}
