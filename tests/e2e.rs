//! End to end through the real webview: the built app, driven by
//! `tauri-driver` and WebKitWebDriver under a display (Xvfb in the test
//! script), against simulated routers on loopback.
//!
//! It fails, never skips, when the display or the driver is missing: the
//! test script installs both. A screenshot of the window is kept in
//! `target/e2e/`.

use std::{
    path::PathBuf,
    process::Command,
    time::{Duration, Instant},
};

use fantoccini::{Client, Locator};
use routeros_sim::{SimConfig, SimFleet};

#[path = "../crates/fleet-store/tests/common/mod.rs"]
mod store_common;
#[path = "support/webdriver.rs"]
mod webdriver;
use webdriver::{target_dir, Driver};

async fn css(c: &Client, selector: &str) -> fantoccini::elements::Element {
    c.wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css(selector))
        .await
        .unwrap_or_else(|e| panic!("{selector} did not appear: {e}"))
}

/// Polls until the element's text contains `want`.
async fn wait_text(c: &Client, selector: &str, want: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let mut seen = String::new();
        if let Ok(els) = c.find_all(Locator::Css(selector)).await {
            for e in els {
                // textContent, not the WebDriver "visible text", which
                // WebKitWebDriver reports empty for some styled elements.
                if let Ok(Some(t)) = e.prop("textContent").await {
                    seen.push_str(&t);
                    seen.push('\n');
                }
            }
        }
        if seen.contains(want) {
            return seen;
        }
        if Instant::now() >= deadline {
            save_failure(c).await;
            let html = c.source().await.unwrap_or_default();
            panic!(
                "{selector} never showed {want:?}; last text: {seen:?}; page: {}",
                &html[..html.len().min(3000)]
            );
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
}

/// Keeps what the window showed when a check failed.
async fn save_failure(c: &Client) {
    if let Ok(png) = c.screenshot().await {
        let path = target_dir().join("e2e/failure.png");
        let _ = std::fs::write(&path, png);
        eprintln!("[e2e] failure screenshot: {}", path.display());
    }
}

async fn fill(c: &Client, selector: &str, value: &str) {
    let el = css(c, selector).await;
    el.clear().await.unwrap();
    if !value.is_empty() {
        el.send_keys(value).await.unwrap();
    }
}

async fn add_device(c: &Client, port: u16, password: &str) {
    // The simulated routers here serve plain API: chosen, as a technician
    // would, over the form's API-SSL default.
    css(c, "[data-testid=add-transport] option[value=api]")
        .await
        .click()
        .await
        .unwrap();
    fill(c, "[data-testid=add-host]", "127.0.0.1").await;
    fill(c, "[data-testid=add-port]", &port.to_string()).await;
    fill(c, "[data-testid=add-username]", "admin").await;
    fill(c, "[data-testid=add-password]", password).await;
    css(c, "[data-testid=add-submit]")
        .await
        .click()
        .await
        .unwrap();
}

/// Starts tauri-driver (and through it the app) on a fresh data folder
/// and opens a WebDriver session to the window.
async fn launch(name: &str) -> (Driver, Client) {
    launch_in(name, true).await
}

/// As [`launch`]; `fresh: false` keeps a data folder the test prepared.
async fn launch_in(name: &str, fresh: bool) -> (Driver, Client) {
    launch_app(name, fresh, env!("CARGO_BIN_EXE_fleetdeck")).await
}

/// As [`launch_in`], for the binary at `app`.
async fn launch_app(name: &str, fresh: bool, app: &str) -> (Driver, Client) {
    let run_dir = target_dir().join(format!("e2e/run-{name}-{}", std::process::id()));
    if fresh {
        let _ = std::fs::remove_dir_all(&run_dir);
    }
    webdriver::launch(&run_dir, app).await
}

/// A fleet in the data folder of the run `name`, prepared before the app
/// starts on it (`launch_in(name, false)`).
async fn prepared_fleet(name: &str) -> fleet_core::Fleet {
    let data = target_dir().join(format!("e2e/run-{name}-{}/data", std::process::id()));
    let _ = std::fs::remove_dir_all(data.parent().unwrap());
    std::fs::create_dir_all(&data).unwrap();
    let store = fleet_core::FleetStore::open(&fleet_core::StoreUrl::Sqlite(data.join("fleet.db")))
        .await
        .unwrap();
    fleet_core::Fleet::new(
        store,
        fleet_core::credentials::CredentialStore::file(data.join("credentials.json")),
    )
}

/// The routers of `sim` in the inventory of run `name` (empty passwords,
/// kept as the app keeps an entered one), before the app starts on it.
async fn enrolled_fleet(
    name: &str,
    sim: &SimFleet,
) -> (fleet_core::Fleet, Vec<fleet_core::telemetry::Target>) {
    let fleet = prepared_fleet(name).await;
    let specs = fleet_core::targets::parse_text(
        &sim.ports()
            .iter()
            .map(|p| format!("127.0.0.1:{p}\n"))
            .collect::<String>(),
    )
    .unwrap();
    let empty = fleet_core::credentials::Sensitive::new(String::new());
    let targets = fleet
        .enroll(&specs, "admin", Some(&empty), Duration::from_secs(60))
        .await
        .unwrap();
    for t in &targets {
        fleet
            .credentials()
            .set_router(&t.device_id, &(&t.connect).into(), &empty)
            .unwrap();
    }
    (fleet, targets)
}

/// Clicks the element `selector` names, once it is in the page.
async fn click(c: &Client, selector: &str) {
    css(c, selector).await.click().await.unwrap();
}

/// Scrolls an element into view (for the screenshot).
async fn show(c: &Client, selector: &str) {
    c.execute(
        "document.querySelector(arguments[0]).scrollIntoView({block: 'center'})",
        vec![serde_json::Value::String(selector.into())],
    )
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
}

async fn screenshot(c: &Client, name: &str) {
    let png = c.screenshot().await.unwrap();
    let shot = target_dir().join(format!("e2e/{name}.png"));
    std::fs::write(&shot, png).unwrap();
    eprintln!("[e2e] screenshot: {}", shot.display());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_poll_and_chart_a_router_in_the_real_window() {
    assert!(
        std::env::var_os("DISPLAY").is_some(),
        "the end-to-end test needs a display: run it under xvfb-run (scripts/test.sh does)"
    );
    let sim = SimFleet::start(SimConfig {
        devices: 2,
        password: "site-pass".into(),
        ..SimConfig::default()
    })
    .await
    .unwrap();

    let (_driver, c) = launch("add-poll").await;

    // The app opened on the embedded store with no configuration.
    wait_text(&c, "[data-testid=store-status]", "fleet.db").await;
    css(&c, "[data-testid=credentials-warning]").await;

    // A router with the right password: add, poll, see its row and chart.
    add_device(&c, sim.port(0), "site-pass").await;
    css(&c, "[data-testid=device-row]").await;
    click(&c, "[data-testid=poll-now]").await;
    wait_text(&c, "[data-testid=device-row]", "sim-router-0000").await;
    let chart = css(&c, "[data-testid=cpu-chart]").await;
    let src = chart.attr("src").await.unwrap().unwrap_or_default();
    assert!(
        src.starts_with("data:image/svg+xml;base64,"),
        "{}",
        &src[..src.len().min(60)]
    );
    css(&c, "[data-testid=memory-chart]").await;
    css(&c, "[data-testid=traffic-chart]").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    click(&c, "[data-testid=poll-now]").await;
    wait_text(&c, "[data-testid=device-detail]", "sim-router-0000").await;
    // A shorter window reads the same check-ins again.
    click(&c, "[data-testid=chart-window][data-secs='3600']").await;
    wait_text(&c, "[data-testid=chart-meta]", "from check-ins").await;

    // The live monitor streams the router's per-second traffic until stopped.
    click(&c, "[data-testid=live-start]").await;
    wait_text(&c, "[data-testid=live-now]", "bit/s").await;
    let iface = css(&c, "[data-testid=live-interface]")
        .await
        .prop("value")
        .await
        .unwrap()
        .unwrap_or_default();
    assert!(iface.starts_with("ether"), "{iface}");
    show(&c, "[data-testid=live-monitor]").await;
    // A few seconds of samples for the picture.
    tokio::time::sleep(Duration::from_secs(6)).await;
    screenshot(&c, "device-detail").await;
    click(&c, "[data-testid=live-stop]").await;
    css(&c, "[data-testid=live-start]").await;

    // A router with the wrong password: a readable error, not a blank screen.
    add_device(&c, sim.port(1), "wrong-pass").await;
    wait_text(
        &c,
        "[data-testid=device-row]",
        &format!("127.0.0.1:{}", sim.port(1)),
    )
    .await;
    click(&c, "[data-testid=poll-now]").await;
    let banner = wait_text(&c, "[data-testid=error-banner]", "refused the login").await;
    assert!(banner.contains("invalid user name or password"), "{banner}");

    // Back to the good router for the screenshot.
    let rows = c
        .find_all(Locator::Css("[data-testid=device-row]"))
        .await
        .unwrap();
    assert_eq!(rows.len(), 2);
    for r in rows {
        let text = r.prop("textContent").await.unwrap().unwrap_or_default();
        if text.contains("sim-router-0000") {
            // The list scrolls: bring the row into view first.
            c.execute(
                "arguments[0].scrollIntoView({block: 'center'})",
                vec![serde_json::to_value(&r).unwrap()],
            )
            .await
            .unwrap();
            r.click().await.unwrap();
        }
    }
    click(&c, "[data-testid=error-dismiss]").await;
    css(&c, "[data-testid=cpu-chart]").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    screenshot(&c, "fleetdeck").await;
    c.close().await.unwrap();
}

/// First launch on an empty store, then the demo fleet: simulated routers
/// appear labelled as such, are polled, and the overview's counts and
/// charts fill in; a chart's data is saved as CSV into the downloads
/// folder.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_launch_then_demo_fleet_to_dashboard() {
    assert!(
        std::env::var_os("DISPLAY").is_some(),
        "the end-to-end test needs a display: run it under xvfb-run (scripts/test.sh does)"
    );
    let (_driver, c) = launch("demo").await;
    wait_text(&c, "[data-testid=store-status]", "fleet.db").await;
    wait_text(
        &c,
        "[data-testid=overview-empty]",
        "No routers in the inventory yet",
    )
    .await;
    wait_text(&c, "[data-testid=device-list]", "No routers yet").await;
    screenshot(&c, "first-launch").await;

    click(&c, "[data-testid=demo-toggle]").await;
    wait_text(&c, "[data-testid=demo-panel]", "25 simulated routers").await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let rows = c
            .find_all(Locator::Css("[data-testid=device-row]"))
            .await
            .unwrap();
        let badges = c
            .find_all(Locator::Css("[data-testid=simulated-badge]"))
            .await
            .unwrap();
        if rows.len() == 25 && badges.len() == 25 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{} rows, {} badges",
            rows.len(),
            badges.len()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    // Every demo router is polled within one 10 s interval; the overview
    // reloads every 10 s.
    let deadline = Instant::now() + Duration::from_secs(45);
    loop {
        let online = wait_text(&c, "[data-testid=stat-online]", "online").await;
        let n: u32 = online
            .trim()
            .chars()
            .take_while(char::is_ascii_digit)
            .collect::<String>()
            .parse()
            .unwrap_or(0);
        if n == 25 {
            break;
        }
        if Instant::now() >= deadline {
            save_failure(&c).await;
            panic!("only {n} of 25 demo routers online: {online}");
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    wait_text(&c, "[data-testid=stat-total]", "25").await;
    // The list shows what the polls found.
    wait_text(&c, "[data-testid=device-list]", "sim-router-0024").await;
    for chart in ["states", "versions", "cpu", "checkins"] {
        let img = css(&c, &format!("[data-testid=chart-{chart}] img")).await;
        let src = img.attr("src").await.unwrap().unwrap_or_default();
        assert!(
            src.starts_with("data:image/svg+xml"),
            "{chart}: {}",
            &src[..src.len().min(60)]
        );
    }
    let versions = css(&c, "[data-testid=chart-versions] img").await;
    let src = versions.attr("src").await.unwrap().unwrap_or_default();
    assert!(
        src.contains("7.16.2"),
        "the versions chart names the simulated versions"
    );
    wait_text(&c, "[data-testid=top-cpu]", "sim-router-").await;

    click(&c, "[aria-label='Save RouterOS versions data as CSV']").await;
    let saved = wait_text(&c, "[data-testid=export-saved]", "fleetdeck-versions-").await;
    let path = saved.trim().trim_start_matches("Saved to ").to_owned();
    let csv = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    assert!(csv.starts_with("version,routers\n"), "{csv}");
    assert!(
        csv.contains("7.16.2 (stable),10"),
        "10 of 25 routers run 7.16.2: {csv}"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    screenshot(&c, "overview-demo").await;

    // Every screen is reachable from here.
    click(&c, "[data-testid=nav-templates]").await;
    css(&c, "[data-testid=templates]").await;
    click(&c, "[data-testid=nav-sync]").await;
    wait_text(&c, "[data-testid=last-sync]", "Never synced").await;
    wait_text(&c, "[data-testid=outbox]", "records").await;
    screenshot(&c, "data-sync").await;
    click(&c, "[data-testid=open-settings]").await;
    // Diagnostics for a support request, from the app's own state and log.
    click(&c, "[data-testid=copy-diagnostics]").await;
    wait_text(
        &c,
        "[data-testid=diagnostics-note]",
        "Passwords and keys are taken out",
    )
    .await;
    let diagnostics = css(&c, "[data-testid=diagnostics]")
        .await
        .prop("value")
        .await
        .unwrap()
        .unwrap_or_default();
    assert!(
        diagnostics.contains("Store: sqlite") && diagnostics.contains("Fleetdeck started"),
        "the state and the log's end: {diagnostics}"
    );
    show(&c, "[data-testid=diagnostics]").await;
    screenshot(&c, "settings-diagnostics").await;
    click(&c, "[data-testid=theme-dark]").await;
    click(&c, "[data-testid=settings-save]").await;
    click(&c, "[data-testid=nav-overview]").await;
    let theme = c
        .execute("return document.documentElement.dataset.theme", vec![])
        .await
        .unwrap();
    assert_eq!(theme, "dark");
    // The charts are drawn again in the dark palette.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let src = css(&c, "[data-testid=chart-versions] img")
            .await
            .attr("src")
            .await
            .unwrap()
            .unwrap_or_default();
        if src.contains("151C24") {
            break;
        }
        assert!(Instant::now() < deadline, "the charts never turned dark");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    screenshot(&c, "overview-dark").await;

    // Ctrl + five times: 200 %. The page lays itself out for the narrower
    // view (the router list above the page) and stays usable.
    let zoom = |key: &'static str| {
        c.execute(
            "window.dispatchEvent(new KeyboardEvent('keydown', {key: arguments[0], ctrlKey: true}))",
            vec![serde_json::Value::String(key.into())],
        )
    };
    for _ in 0..5 {
        zoom("=").await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    let layout = loop {
        let v = c
            .execute(
                "const side = document.querySelector('.sidebar').getBoundingClientRect();
                 const main = document.querySelector('main').getBoundingClientRect();
                 return [window.innerWidth, side.bottom <= main.top + 1, side.width];",
                vec![],
            )
            .await
            .unwrap();
        if v[0].as_f64().unwrap_or(9999.0) < 700.0 {
            break v;
        }
        assert!(Instant::now() < deadline, "the window never zoomed: {v}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(
        layout[1], true,
        "the router list stacks above the page at 200 %: {layout}"
    );
    css(&c, "[data-testid=nav-overview]").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    screenshot(&c, "zoom-200").await;
    zoom("0").await.unwrap();
    c.close().await.unwrap();
}

/// Offline review: the shared database (MariaDB behind a loopback proxy,
/// standing in for SingleStore) is synced once, then goes away. The
/// overview and a router's detail still show the fleet, marked as a
/// cached copy as of the last sync; "Sync now" says in words that the
/// database cannot be reached, and nothing on screen is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_review_with_the_shared_database_stopped() {
    // The shared fleet: three routers polled into it by another laptop.
    let sim = SimFleet::start(SimConfig {
        devices: 3,
        password: "office".into(),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let db = store_common::create_db().await;
    let direct = store_common::db_url(&db);
    {
        let dir = tempfile::tempdir().unwrap();
        let office = fleet_core::Fleet::new(
            fleet_core::FleetStore::open(&direct.parse().unwrap())
                .await
                .unwrap(),
            fleet_core::credentials::CredentialStore::file(dir.path().join("creds.json")),
        );
        let pw = fleet_core::credentials::Sensitive::new("office".to_owned());
        let list: String = (0..3)
            .map(|i| format!("127.0.0.1:{}\n", sim.port(i)))
            .collect();
        office
            .import_inventory(&list, "admin", Some(&pw))
            .await
            .unwrap();
        for i in 0..3 {
            office
                .poll_address(
                    "127.0.0.1",
                    sim.port(i),
                    "admin",
                    &pw,
                    routeros::TlsMode::Plain,
                )
                .await
                .unwrap();
        }
        // Their configuration history: backed up, one changed by hand,
        // backed up again.
        let opts = fleet_core::configs::BackupOptions::default();
        office.backup(None, &opts).await.unwrap();
        let hand = routeros::Client::connect(&routeros::ConnectOptions::new(
            "127.0.0.1",
            sim.port(0),
            "admin",
            "office",
        ))
        .await
        .unwrap();
        hand.run(&routeros::Command::new("/interface/bridge/add").attr("name", "by-hand"))
            .await
            .unwrap();
        let second = office.backup(None, &opts).await.unwrap();
        assert_eq!(second.drift, 1, "{second:?}");
    }
    let upstream = url::Url::parse(&direct).unwrap().port().unwrap_or(3306);
    let proxy = store_common::proxy::Proxy::start(upstream).await;
    let shared_url = direct.replacen(&format!(":{upstream}/"), &format!(":{}/", proxy.port), 1);

    let (_driver, c) = launch("offline-review").await;
    click(&c, "[data-testid=nav-sync]").await;
    fill(&c, "[data-testid=shared-url]", &shared_url).await;
    click(&c, "[data-testid=shared-test]").await;
    wait_text(&c, "[data-testid=shared-tested]", "3 routers there").await;
    click(&c, "[data-testid=sync-now]").await;
    let synced = wait_text(&c, "[data-testid=synced]", "copied down 3 routers").await;
    assert!(!synced.contains(" 0 check-ins"), "{synced}");

    // The shared database goes away.
    proxy.cut_now();

    click(&c, "[data-testid=nav-overview]").await;
    wait_text(
        &c,
        "[data-testid=overview-asof]",
        "Cached copy of the shared fleet database as of",
    )
    .await;
    wait_text(&c, "[data-testid=stat-total]", "3").await;
    let rows = c
        .find_all(Locator::Css("[data-testid=device-row]"))
        .await
        .unwrap();
    assert_eq!(rows.len(), 3);
    tokio::time::sleep(Duration::from_millis(500)).await;
    screenshot(&c, "offline-overview").await;

    rows[0].click().await.unwrap();
    wait_text(&c, "[data-testid=detail-cached]", "as of").await;
    css(&c, "[data-testid=cpu-chart]").await;
    wait_text(&c, "[data-testid=chart-meta]", "1 point").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    screenshot(&c, "offline-detail").await;

    // The configuration history came down with the sync: the changed
    // router's versions, and the diff between them, with the database gone.
    click(&c, "[data-testid=nav-backups]").await;
    wait_text(
        &c,
        "[data-testid=backup-counts]",
        "1 changed outside Fleetdeck",
    )
    .await;
    click(&c, "tr.drift .link").await;
    wait_text(
        &c,
        "[data-testid=device-config]",
        "changed outside Fleetdeck",
    )
    .await;
    let versions = c
        .find_all(Locator::Css(
            "[data-testid=device-config] [data-version-id]",
        ))
        .await
        .unwrap();
    assert_eq!(versions.len(), 2, "both versions are in the cached copy");
    click(&c, "[data-testid=config-compare]").await;
    let diff = wait_text(&c, "[data-testid=config-diff]", "by-hand").await;
    assert!(
        diff.lines()
            .any(|l| l.starts_with("+/interface bridge add name=by-hand")),
        "{diff}"
    );
    show(&c, "[data-testid=config-diff]").await;
    screenshot(&c, "offline-config-diff").await;

    // Syncing now fails in words, and the fleet stays on screen.
    click(&c, "[data-testid=nav-sync]").await;
    click(&c, "[data-testid=sync-now]").await;
    let banner = css(&c, "[data-testid=error-banner]")
        .await
        .text()
        .await
        .unwrap();
    eprintln!("[e2e] sync with the database gone: {banner}");
    assert!(
        banner.contains(&format!("127.0.0.1:{}", proxy.port))
            || banner.to_lowercase().contains("reach"),
        "{banner}"
    );
    wait_text(&c, "[data-testid=last-sync]", "Last sync").await;
    let rows = c
        .find_all(Locator::Css("[data-testid=device-row]"))
        .await
        .unwrap();
    assert_eq!(rows.len(), 3, "nothing was lost");
    screenshot(&c, "offline-sync-failed").await;
    c.close().await.unwrap();
    store_common::drop_mysql_db(&db).await;
}

/// The on-site flow in the window: a factory-default router (admin, no
/// password) added by address, a template filled in, the preview's diff,
/// the push with live steps, verified and left for the technician to
/// confirm, then confirmed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provision_a_factory_default_router_end_to_end() {
    assert!(
        std::env::var_os("DISPLAY").is_some(),
        "the end-to-end test needs a display: run it under xvfb-run (scripts/test.sh does)"
    );
    let sim = SimFleet::start(SimConfig {
        devices: 1,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let (_driver, c) = launch("provision").await;
    wait_text(&c, "[data-testid=store-status]", "fleet.db").await;
    add_device(&c, sim.port(0), "").await;
    css(&c, "[data-testid=device-detail]").await;

    click(&c, "[data-testid=nav-provision]").await;
    css(&c, "[data-testid=provision]").await;
    // The router open in the detail view is preselected.
    wait_text(&c, "[data-testid=push-selected]", "1 selected").await;
    fill(&c, "[data-testid=value-identity]", "shop-12").await;
    fill(
        &c,
        "[data-testid=value-site_note]",
        "Joe's \"Café\" $[/system reset-configuration]",
    )
    .await;
    fill(&c, "[data-testid=value-lan_address]", "192.168.50.1/24").await;
    fill(&c, "[data-testid=value-dns]", "9.9.9.9").await;
    click(&c, "[data-testid=preview]").await;
    wait_text(
        &c,
        "[data-testid=preview-summary]",
        "5 of 5 steps would change",
    )
    .await;
    let diff = wait_text(
        &c,
        "[data-testid=preview-diff]",
        "+/system identity set name=shop-12",
    )
    .await;
    assert!(
        diff.contains("-/system identity set name=sim-router-0000"),
        "{diff}"
    );
    assert!(
        diff.contains(r#"comment="Joe's \"Caf\C3\A9\" \$[/system reset-configuration]""#),
        "the hostile value is escaped in the diff: {diff}"
    );
    show(&c, "[data-testid=preview-diff]").await;
    screenshot(&c, "provision-preview").await;

    click(&c, "[data-testid=push]").await;
    let summary = wait_text(&c, "[data-testid=push-summary]", "routers went through").await;
    assert!(summary.contains("1 of 1 routers went through"), "{summary}");
    let row = wait_text(&c, "[data-testid=push-row]", "awaiting-confirmation").await;
    let cells = c
        .find_all(Locator::Css("[data-testid=push-row] td"))
        .await
        .unwrap();
    let steps = cells[1]
        .prop("textContent")
        .await
        .unwrap()
        .unwrap_or_default();
    assert_eq!(steps.trim(), "5", "every step was reported live");
    assert!(row.contains("unless you confirm"), "{row}");
    click(&c, "[data-testid=confirm]").await;
    wait_text(&c, "[data-testid=confirmed]", "keeps its new configuration").await;
    show(&c, "[data-testid=push-progress]").await;
    screenshot(&c, "provision-pushed").await;

    // The router's history: the push, confirmed by hand, and its backup.
    click(&c, "[data-testid=device-row]").await;
    let history = wait_text(&c, "[data-testid=history-push]", "confirmed by").await;
    assert!(history.contains("succeeded"), "{history}");
    wait_text(&c, "[data-testid=history-backup]", ".backup").await;

    // The router has the new configuration and no safety net left.
    let client = routeros::Client::connect(&routeros::ConnectOptions::new(
        "127.0.0.1",
        sim.port(0),
        "admin",
        "",
    ))
    .await
    .unwrap();
    let identity = client
        .run(&routeros::Command::new("/system/identity/print"))
        .await
        .unwrap();
    assert_eq!(identity.first().unwrap().get("name").unwrap(), "shop-12");
    let bridges = client
        .run(&routeros::Command::new("/interface/bridge/print"))
        .await
        .unwrap();
    assert_eq!(
        bridges.first().unwrap().get("comment").unwrap(),
        "Joe's \"Café\" $[/system reset-configuration]",
        "the value arrived exactly, never executed"
    );
    let nets = client
        .run(&routeros::Command::new("/system/scheduler/print"))
        .await
        .unwrap();
    assert!(nets.rows.is_empty(), "confirmed: no safety net left");
    c.close().await.unwrap();
}

/// A bulk push from the window to 20 routers of the inventory, one of
/// which refuses a step: the others go through, the report counts the
/// failure, and that router's row carries the router's own words.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_push_to_twenty_routers_reports_the_one_that_failed() {
    assert!(
        std::env::var_os("DISPLAY").is_some(),
        "the end-to-end test needs a display: run it under xvfb-run (scripts/test.sh does)"
    );
    let sim = SimFleet::start(SimConfig {
        devices: 20,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    sim.device(19).set_faults(routeros_sim::Faults {
        trap: vec![(
            "/system/identity/set".into(),
            "failure: not allowed by policy".into(),
        )],
        ..Default::default()
    });
    // The inventory as an import would leave it, before the app starts.
    enrolled_fleet("bulk", &sim).await;
    let (_driver, c) = launch_in("bulk", false).await;
    wait_text(&c, "[data-testid=device-list]", "127.0.0.1").await;
    click(&c, "[data-testid=nav-provision]").await;
    click(&c, "[data-testid=select-shown]").await;
    wait_text(&c, "[data-testid=push-selected]", "20 selected").await;
    fill(&c, "[data-testid=value-identity]", "branch").await;
    fill(&c, "[data-testid=value-site_note]", "wave test").await;
    fill(&c, "[data-testid=value-lan_address]", "192.168.60.1/24").await;
    fill(&c, "[data-testid=value-dns]", "1.1.1.1").await;
    click(&c, "[data-testid=manual-confirm]").await;
    fill(&c, "[data-testid=stop-after]", "0").await;
    click(&c, "[data-testid=push]").await;
    let summary = wait_text(&c, "[data-testid=push-summary]", "routers went through").await;
    assert!(
        summary.contains("19 of 20 routers went through, 1 failed"),
        "{summary}"
    );
    let rows = c
        .find_all(Locator::Css("[data-testid=push-row]"))
        .await
        .unwrap();
    assert_eq!(rows.len(), 20);
    let mut failed = Vec::new();
    for r in rows {
        if r.attr("data-status").await.unwrap().as_deref() == Some("rolled-back") {
            failed.push(r.prop("textContent").await.unwrap().unwrap_or_default());
        }
    }
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert!(
        failed[0].contains("not allowed by policy") && failed[0].contains("line 2"),
        "{}",
        failed[0]
    );
    show(&c, "[data-testid=push-progress]").await;
    screenshot(&c, "bulk-push").await;
    c.close().await.unwrap();
}

/// The Debian package built by the Tauri CLI (`scripts/package.sh
/// --debug`, which the test script runs first): it unpacks, holds the
/// binary, a desktop entry and icons, and the packaged binary starts under
/// Xvfb and paints its first screen.
/// A router whose record a sync moved to another address (the shared
/// database said so) is not sent its password: the detail says "Address
/// changed by sync — confirm", and only the technician's confirmation
/// lets Fleetdeck poll it there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_router_moved_by_a_sync_waits_for_confirmation() {
    let sim = SimFleet::start(SimConfig {
        devices: 2,
        password: "fieldpass".into(),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    {
        let fleet = prepared_fleet("moved").await;
        let dev = fleet
            .add_device(fleet_core::AddDevice {
                host: "127.0.0.1".into(),
                port: sim.port(0),
                username: "admin".into(),
                password: fleet_core::credentials::Sensitive::new("fieldpass".into()),
                transport: Default::default(),
            })
            .await
            .unwrap();
        // What a snapshot from the shared database does to the record.
        let mut moved = fleet
            .store()
            .device_records()
            .await
            .unwrap()
            .into_iter()
            .find(|d| d.id == dev.id)
            .unwrap();
        moved.port = sim.port(1);
        moved.updated_at += 1;
        fleet.store().save_devices(&[moved]).await.unwrap();
    }
    let (_driver, c) = launch_in("moved", false).await;
    let row = css(&c, "[data-testid=device-row]").await;
    row.click().await.unwrap();
    let banner = wait_text(
        &c,
        "[data-testid=address-changed]",
        "Address changed by sync",
    )
    .await;
    assert!(
        banner.contains(&format!("127.0.0.1:{} as admin", sim.port(0)))
            && banner.contains(&format!("127.0.0.1:{} as admin", sim.port(1))),
        "{banner}"
    );
    screenshot(&c, "address-changed").await;
    click(&c, "[data-testid=confirm-address]").await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while c
        .find(Locator::Css("[data-testid=address-changed]"))
        .await
        .is_ok()
    {
        assert!(
            Instant::now() < deadline,
            "the banner stayed after confirming"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    click(&c, "[data-testid=poll-now]").await;
    wait_text(&c, "[data-testid=device-detail]", "sim-router-0001").await;
    c.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_deb_unpacks_and_its_binary_paints_the_first_screen() {
    assert!(
        std::env::var_os("DISPLAY").is_some(),
        "the package test needs a display: run it under xvfb-run (scripts/test.sh does)"
    );
    let deb = std::env::var_os("FLEETDECK_DEB")
        .map(PathBuf::from)
        .or_else(|| {
            let dir = target_dir().join("debug/bundle/deb");
            std::fs::read_dir(&dir)
                .ok()?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "deb"))
                .max_by_key(|p| p.metadata().and_then(|m| m.modified()).ok())
        })
        .expect("no .deb under target/debug/bundle/deb: run scripts/package.sh --debug (scripts/test.sh does)");
    let root = tempfile::tempdir().unwrap();
    let out = Command::new("dpkg-deb")
        .arg("-x")
        .arg(&deb)
        .arg(root.path())
        .output()
        .expect("dpkg-deb");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bin = root.path().join("usr/bin/fleetdeck");
    assert!(bin.exists(), "the package holds usr/bin/fleetdeck");
    let desktop =
        std::fs::read_to_string(root.path().join("usr/share/applications/Fleetdeck.desktop"))
            .expect("a desktop entry");
    assert!(desktop.contains("Exec=fleetdeck"), "{desktop}");
    assert!(desktop.contains("Name=Fleetdeck"), "{desktop}");
    let icons = root.path().join("usr/share/icons/hicolor");
    assert!(
        std::fs::read_dir(&icons)
            .map(|d| d.count() > 0)
            .unwrap_or(false),
        "icons under {}",
        icons.display()
    );
    let (_driver, c) = launch_app("packaged", true, bin.to_str().unwrap()).await;
    wait_text(&c, "[data-testid=store-status]", "fleet.db").await;
    css(&c, "[data-testid=overview]").await;
    screenshot(&c, "packaged").await;
    c.close().await.unwrap();
}

/// A bulk push cut short before the window opened (its process gone, as
/// after a crash) is offered at start; Resume in the window finishes it
/// with the push the batch kept, and every router holds the pushed
/// configuration.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_push_is_offered_at_start_and_resumed_in_the_window() {
    assert!(
        std::env::var_os("DISPLAY").is_some(),
        "the end-to-end test needs a display: run it under xvfb-run (scripts/test.sh does)"
    );
    let sim = SimFleet::start(SimConfig {
        devices: 4,
        faults: routeros_sim::Faults {
            latency: Duration::from_millis(5),
            ..Default::default()
        },
        ..SimConfig::default()
    })
    .await
    .unwrap();
    {
        let (fleet, targets) = enrolled_fleet("resume", &sim).await;
        let spec = fleet_core::provision::PushSpec {
            template: "/system identity set name={{ name: string }}\n".into(),
            values: [("name".to_string(), "resumed-edge".to_string())].into(),
            import: false,
            waves: "100%".into(),
            concurrency: 1,
            stop_after: 0,
            confirm_within_minutes: 10,
            manual_confirm: false,
            dry_run: false,
        };
        // Cut short after the first router: the push is dropped, its
        // batch left running by a process that is gone.
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let push = fleet.push_to(targets, &spec, None, move |e| {
            if matches!(e, fleet_core::provision::PushEvent::Router { .. }) {
                let _ = tx.send(());
            }
        });
        tokio::select! {
            r = push => panic!("the push ended before it was cut: {r:?}"),
            _ = rx.recv() => {}
        }
    }
    let (_driver, c) = launch_in("resume", false).await;
    let offer = wait_text(&c, "[data-testid=interrupted-push]", "cut short").await;
    let offer = offer.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(offer.contains("1 of 4 done"), "{offer}");
    screenshot(&c, "interrupted-push").await;
    click(&c, "[data-testid=resume-push]").await;
    let done = wait_text(&c, "[data-testid=resumed-push]", "0 failed").await;
    assert!(done.contains("1 already done before"), "{done}");
    screenshot(&c, "resumed-push").await;
    for port in sim.ports() {
        let client = routeros::Client::connect(&routeros::ConnectOptions::new(
            "127.0.0.1",
            port,
            "admin",
            "",
        ))
        .await
        .unwrap();
        let name = client
            .run(&routeros::Command::new("/system/identity/print"))
            .await
            .unwrap()
            .rows[0]
            .get("name")
            .unwrap()
            .into_owned();
        assert_eq!(name, "resumed-edge", "router {port}");
    }
}

/// Backups in the real window: two routers seeded from real-shaped exports
/// are backed up from the Backups view, one is changed outside Fleetdeck,
/// the next backup flags it, and its Configuration card shows the change.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backups_flag_a_change_made_outside_fleetdeck_and_show_its_diff() {
    assert!(
        std::env::var_os("DISPLAY").is_some(),
        "the end-to-end test needs a display: run it under xvfb-run (scripts/test.sh does)"
    );
    let fixture = |name: &str| {
        std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/rsc")
                .join(name),
        )
        .unwrap()
    };
    let sim = SimFleet::start(SimConfig {
        devices: 2,
        seeds: vec![
            fixture("v7-vlan-switch.rsc"),
            fixture("v6-home-router-crlf.rsc"),
        ],
        versions: vec!["7.16.2".into(), "6.49.7".into()],
        ..SimConfig::default()
    })
    .await
    .unwrap();
    drop(enrolled_fleet("backups", &sim).await);
    let (_driver, c) = launch_in("backups", false).await;
    click(&c, "[data-testid=nav-backups]").await;
    wait_text(&c, "[data-testid=backup-counts]", "2 never backed up").await;
    click(&c, "[data-testid=backup-now]").await;
    let summary = wait_text(&c, "[data-testid=backup-summary]", "2 new versions").await;
    assert!(summary.contains("0 failed"), "{summary}");

    // Someone adds an address by hand.
    let client = routeros::Client::connect(&routeros::ConnectOptions::new(
        "127.0.0.1",
        sim.port(0),
        "admin",
        "",
    ))
    .await
    .unwrap();
    client
        .run(
            &routeros::Command::new("/ip/address/add")
                .attr("address", "198.51.100.7/24")
                .attr("interface", "br-trunk"),
        )
        .await
        .unwrap();
    click(&c, "[data-testid=backup-now]").await;
    wait_text(
        &c,
        "[data-testid=backup-summary]",
        "1 new version (1 changed",
    )
    .await;
    wait_text(
        &c,
        "[data-testid=backup-counts]",
        "1 changed outside Fleetdeck",
    )
    .await;
    // Which routers hold that address now?
    fill(&c, "[data-testid=config-search-text]", "198.51.100.7").await;
    click(&c, "[data-testid=config-search] button").await;
    let found = wait_text(&c, "[data-testid=config-hits]", "1 line found").await;
    assert!(found.contains("interface=br-trunk"), "{found}");
    screenshot(&c, "backups").await;

    // Its Configuration card: the last change, by default.
    click(&c, "tr.drift .link").await;
    wait_text(
        &c,
        "[data-testid=device-config]",
        "changed outside Fleetdeck",
    )
    .await;
    click(&c, "[data-testid=config-compare]").await;
    let diff = wait_text(&c, "[data-testid=config-diff]", "198.51.100.7").await;
    assert!(
        diff.lines()
            .any(|l| l.starts_with("+/ip address add address=198.51.100.7/24")),
        "{diff}"
    );
    show(&c, "[data-testid=config-diff]").await;
    screenshot(&c, "config-diff").await;

    // Restore the first version: the preview shows the address going, the
    // restore goes through the safety net and the router equals it after.
    let first = c
        .find_all(Locator::Css("[data-testid=config-version]"))
        .await
        .unwrap()
        .pop()
        .expect("two versions");
    first
        .find(Locator::Css("[data-testid=restore-open]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let preview = wait_text(&c, "[data-testid=restore-preview]", "1 removal").await;
    assert!(preview.contains("198.51.100.7"), "{preview}");
    show(&c, "[data-testid=restore-panel]").await;
    screenshot(&c, "restore-preview").await;
    click(&c, "[data-testid=restore-now]").await;
    let result = wait_text(&c, "[data-testid=restore-result]", "equals version").await;
    eprintln!("[e2e] restore: {result}");
    let still = client
        .run(&routeros::Command::new("/ip/address/print").proplist(["address"]))
        .await
        .unwrap();
    assert!(
        !still
            .rows
            .iter()
            .any(|r| r.get("address").as_deref() == Some("198.51.100.7/24")),
        "the restore removed the address on the router"
    );
    screenshot(&c, "restore-done").await;

    // A compliance rule over the fleet's stored configurations.
    click(&c, "[data-testid=nav-backups]").await;
    click(&c, "[data-testid=rule-add]").await;
    fill(&c, "[data-testid=rule-name]", "DNS from the NOC").await;
    css(&c, "[data-testid=rule-kind] option[value=propertyEquals]")
        .await
        .click()
        .await
        .unwrap();
    fill(&c, "[data-testid=rule-path]", "/ip dns").await;
    fill(&c, "[data-testid=rule-property]", "servers").await;
    fill(&c, "[data-testid=rule-value]", "10.99.0.1").await;
    click(&c, "[data-testid=rule-save]").await;
    let counts = wait_text(&c, "[data-testid=rule-counts]", "1 failed").await;
    assert!(counts.contains("1 passed"), "{counts}");
    let failure = wait_text(&c, "[data-testid=compliance-failure]", "not set").await;
    assert!(failure.contains("DNS from the NOC"), "{failure}");
    wait_text(&c, "[data-testid=rules-failed]", "DNS from the NOC").await;
    show(&c, "[data-testid=compliance]").await;
    screenshot(&c, "compliance").await;
}
