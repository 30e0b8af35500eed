//! Configuration history benchmarks (issue 19). Prints figures; asserts
//! nothing.
//!
//! - Storage: `FLEETDECK_BENCH_ROUTERS` (default 1,000) routers, each with
//!   a synthetic export of about 40 KB (a firewall-heavy configuration,
//!   different per router), backed up daily for `FLEETDECK_BENCH_DAYS`
//!   (default 365) days with 1 % of routers changing one line a day, into
//!   the embedded store: versions stored, compressed bytes, file size
//!   (search index included), for routers whose lines are all their own and
//!   for a template fleet whose routers share all but six lines, and
//!   the ratio against keeping every daily export as it is (the naive
//!   baseline) and against keeping each version uncompressed.
//! - Search: one string across the newest configuration of
//!   `FLEETDECK_BENCH_SEARCH_ROUTERS` (default 10,000) routers of about
//!   200 lines each, p50 and p95 over rare and common needles, as a ratio
//!   against looking the line up by its key (router, line number).
//! - Diff: two 70 KB exports three lines apart, p50 and p95 of the unified
//!   diff, as a ratio against splitting both into lines (the floor of any
//!   line diff).

use std::time::{Duration, Instant};

use fleet_core::preview::labeled_diff;
use fleet_store::{config_hash, new_id, ConfigVersion, FleetStore, StoreUrl};

fn env_num(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

/// About `rules` × 100 bytes of normalised export, one router's own.
fn export(router: usize, rules: usize) -> Vec<String> {
    let mut lines = vec![
        format!("/system identity set name=site-{router:05}"),
        "/interface bridge add name=bridge1 vlan-filtering=yes".to_owned(),
    ];
    for r in 0..rules {
        lines.push(format!(
            "/ip firewall filter add action=accept chain=forward comment=\"site {router} rule {r}\" dst-address=10.{}.{}.0/24 protocol=tcp dst-port={}",
            router % 250,
            r % 250,
            1000 + (r * 7 + router) % 60000
        ));
    }
    lines
}

/// The same size of export from a template fleet: 400 lines every router
/// holds alike, and its own identity and addresses.
fn template_export(router: usize) -> Vec<String> {
    let mut lines = export(0, 400);
    lines[0] = format!("/system identity set name=site-{router:05}");
    for i in 0..5 {
        lines.push(format!(
            "/ip address add address=10.{}.{}.{}/24 interface=vlan{i}",
            router / 250,
            router % 250,
            i + 1
        ));
    }
    lines
}

fn text(lines: &[String]) -> String {
    let mut s = lines.join("\n");
    s.push('\n');
    s
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// Every router's lines its own (no two routers share a line: the most the
/// search index can cost), or a template fleet's.
#[derive(Clone, Copy, Debug)]
enum Shape {
    OwnLines,
    Template,
}

fn storage(rt: &tokio::runtime::Runtime, shape: Shape) {
    let routers = env_num("FLEETDECK_BENCH_ROUTERS", 1000);
    let days = env_num("FLEETDECK_BENCH_DAYS", 365);
    let dir = tempfile::tempdir().unwrap();
    let store = rt
        .block_on(FleetStore::open(&StoreUrl::Sqlite(
            dir.path().join("configs.db"),
        )))
        .unwrap();
    let mut configs: Vec<Vec<String>> = (0..routers)
        .map(|r| match shape {
            Shape::OwnLines => export(r, 400),
            Shape::Template => template_export(r),
        })
        .collect();
    let mut versions = 0u64;
    let mut plain = 0u64;
    let mut naive = 0u64;
    let started = Instant::now();
    let save = |store: &FleetStore, router: usize, day: usize, t: &str| {
        let v = ConfigVersion {
            id: new_id(),
            device_id: format!("router-{router:05}"),
            taken_at: day as i64 * 86_400_000,
            checked_at: day as i64 * 86_400_000,
            hash: config_hash(t),
            routeros_version: Some("7.16.2".into()),
            board: Some("RB5009UG+S+".into()),
            serial: None,
            push_id: None,
            drift: day > 0,
            line_count: t.lines().count() as u32,
        };
        rt.block_on(store.save_config_version(&v, t)).unwrap();
    };
    for (r, c) in configs.iter().enumerate() {
        let t = text(c);
        plain += t.len() as u64;
        versions += 1;
        save(&store, r, 0, &t);
    }
    let size = plain / routers as u64;
    naive += plain;
    let changed_per_day = (routers / 100).max(1);
    for day in 1..days {
        naive += plain;
        for k in 0..changed_per_day {
            let r = (day * 37 + k * 101) % routers;
            let line = 2 + (day * 13 + k) % 400;
            configs[r][line] = format!("{} log=yes log-prefix=day{day}", configs[r][line]);
            let t = text(&configs[r]);
            plain += t.len() as u64;
            versions += 1;
            save(&store, r, day, &t);
        }
    }
    let took = started.elapsed();
    let (texts, bytes) = rt.block_on(store.config_storage()).unwrap();
    let on_disk = store.size_on_disk().unwrap_or(0);
    println!(
        "storage ({shape:?}): {routers} routers × {days} days, {} B per export, 1 % changed a day: {versions} versions, {texts} texts, {:.1} MB compressed, {:.1} MB file (search index included); naive daily copies {:.0} MB ({:.0}× more), uncompressed versions {:.1} MB ({:.1}× more); stored in {:.1} s",
        size,
        bytes as f64 / 1e6,
        on_disk as f64 / 1e6,
        naive as f64 / 1e6,
        naive as f64 / bytes.max(1) as f64,
        plain as f64 / 1e6,
        plain as f64 / bytes.max(1) as f64,
        took.as_secs_f64()
    );
}

fn diff() {
    let a_lines = export(1, 700);
    let mut b_lines = a_lines.clone();
    for i in [10, 350, 690] {
        b_lines[i] = format!("{} disabled=yes", b_lines[i]);
    }
    let (a, b) = (text(&a_lines), text(&b_lines));
    let mut diffs = Vec::new();
    let mut floors = Vec::new();
    for _ in 0..200 {
        let t = Instant::now();
        let d = labeled_diff(&a, &b, "a", "b");
        diffs.push(t.elapsed());
        assert!(!d.is_empty());
        let t = Instant::now();
        let n = a.lines().count() + b.lines().count();
        floors.push(t.elapsed());
        assert!(n > 0);
    }
    diffs.sort();
    floors.sort();
    let p50 = pct(&diffs, 0.5);
    println!(
        "diff: two {:.0} KB exports, 3 lines apart: p50 {:.2} ms, p95 {:.2} ms; {:.0}× splitting both into lines ({:.3} ms)",
        a.len() as f64 / 1000.0,
        p50.as_secs_f64() * 1e3,
        pct(&diffs, 0.95).as_secs_f64() * 1e3,
        p50.as_secs_f64() / pct(&floors, 0.5).as_secs_f64().max(1e-9),
        pct(&floors, 0.5).as_secs_f64() * 1e3
    );
}

fn search(rt: &tokio::runtime::Runtime) {
    let routers = env_num("FLEETDECK_BENCH_SEARCH_ROUTERS", 10_000);
    let dir = tempfile::tempdir().unwrap();
    let store = rt
        .block_on(FleetStore::open(&StoreUrl::Sqlite(
            dir.path().join("search.db"),
        )))
        .unwrap();
    let started = Instant::now();
    let mut lines = 0usize;
    for r in 0..routers {
        let t = text(&export(r, 200));
        lines += t.lines().count();
        let v = ConfigVersion {
            id: new_id(),
            device_id: format!("router-{r:05}"),
            taken_at: 1,
            checked_at: 1,
            hash: config_hash(&t),
            routeros_version: None,
            board: None,
            serial: None,
            push_id: None,
            drift: false,
            line_count: t.lines().count() as u32,
        };
        rt.block_on(store.save_config_version(&v, &t)).unwrap();
    }
    let indexed = started.elapsed();
    let needles = [
        ("one router", format!("site-{:05}", routers / 2)),
        ("a port on many routers", "dst-port=1234".to_owned()),
        ("absent", "no-such-string".to_owned()),
    ];
    let mut all = Vec::new();
    for (label, needle) in &needles {
        let mut times = Vec::new();
        let mut found = 0;
        for _ in 0..30 {
            let t = Instant::now();
            found = rt
                .block_on(store.search_configs(needle, 200))
                .unwrap()
                .len();
            times.push(t.elapsed());
        }
        times.sort();
        println!(
            "search {label:<22} {found:>4} hits: p50 {:.2} ms, p95 {:.2} ms",
            pct(&times, 0.5).as_secs_f64() * 1e3,
            pct(&times, 0.95).as_secs_f64() * 1e3
        );
        all.extend(times);
    }
    all.sort();
    // The floor: one line fetched by its key through the same store.
    let mut floors = Vec::new();
    for _ in 0..30 {
        let t = Instant::now();
        rt.block_on(store.config_versions(Some("router-00001"), 1))
            .unwrap();
        floors.push(t.elapsed());
    }
    floors.sort();
    println!(
        "search: {routers} routers, {lines} lines indexed in {:.1} s; all needles p95 {:.2} ms, {:.0}× a lookup by key ({:.3} ms); file {:.0} MB",
        indexed.as_secs_f64(),
        pct(&all, 0.95).as_secs_f64() * 1e3,
        pct(&all, 0.95).as_secs_f64() / pct(&floors, 0.5).as_secs_f64().max(1e-9),
        pct(&floors, 0.5).as_secs_f64() * 1e3,
        store.size_on_disk().unwrap_or(0) as f64 / 1e6
    );
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    diff();
    search(&rt);
    storage(&rt, Shape::OwnLines);
    storage(&rt, Shape::Template);
}
