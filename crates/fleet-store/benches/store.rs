//! Fleet store benchmarks (issue 4). Prints figures; asserts nothing.
//!
//! - Ingest into SQLite: sweeps of 10,000 routers (one batch per sweep, as
//!   the telemetry writer sends them), with and without the sync outbox.
//! - Ingest into MariaDB: one check-in per call versus batches, same API.
//! - Dashboards: p50/p95 of every dashboard query on a synthetic fleet of
//!   10,000 routers at each scale in `FLEETDECK_BENCH_SCALES` (default
//!   `1M,10M`; the full run uses `1M,10M,50M`) on SQLite, and at
//!   `FLEETDECK_BENCH_MYSQL_SCALE` (default `1M`; `10M` for the full run)
//!   on MariaDB, with generation time and size on disk.
//!
//! Data goes to a temporary folder (`FLEETDECK_BENCH_DIR` to choose it) and
//! to throwaway MariaDB databases, never into the repository.

use std::time::{Duration, Instant};

use fleet_store::{generate, *};

const DEVICES: u32 = 10_000;
const ITERATIONS: usize = 60;

fn mysql_base() -> String {
    std::env::var("FLEETDECK_TEST_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".into())
}

async fn fresh_mysql(name: &str) -> (StoreUrl, String) {
    use mysql_async::prelude::*;
    let pool = mysql_async::Pool::new(mysql_base().as_str());
    let mut c = pool.get_conn().await.expect("MariaDB on 127.0.0.1:3306");
    let db = format!("fleetdeck_bench_{name}");
    c.query_drop(format!("DROP DATABASE IF EXISTS {db}"))
        .await
        .unwrap();
    c.query_drop(format!("CREATE DATABASE {db}")).await.unwrap();
    drop(c);
    pool.disconnect().await.unwrap();
    // Over verified TLS, as stores reach the shared database by default.
    let ca = std::env::var("FLEETDECK_TEST_MYSQL_CA")
        .unwrap_or_else(|_| "/etc/mysql/fleetdeck-test-tls/ca.pem".into());
    let url = format!("{}/{db}?ca={ca}", mysql_base().rsplit_once('/').unwrap().0);
    (url.parse().unwrap(), db)
}

async fn drop_mysql(db: &str) {
    use mysql_async::prelude::*;
    let pool = mysql_async::Pool::new(mysql_base().as_str());
    let mut c = pool.get_conn().await.unwrap();
    c.query_drop(format!("DROP DATABASE IF EXISTS {db}"))
        .await
        .unwrap();
    drop(c);
    pool.disconnect().await.unwrap();
}

fn parse_scale(s: &str) -> u64 {
    let s = s.trim();
    let (num, mul) = match s.chars().last() {
        Some('M') | Some('m') => (&s[..s.len() - 1], 1_000_000.0),
        Some('K') | Some('k') => (&s[..s.len() - 1], 1_000.0),
        _ => (s, 1.0),
    };
    (num.parse::<f64>().expect("scale like 1M or 50.9M") * mul) as u64
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// Devices with check-ins every 30 s, for the ingest figures.
async fn devices(store: &FleetStore, n: u32) -> Vec<String> {
    let records: Vec<DeviceRecord> = (0..n)
        .map(|i| DeviceRecord {
            id: new_id(),
            site_id: None,
            host: format!("10.{}.{}.{}", i >> 16, (i >> 8) & 255, i & 255),
            port: 8728,
            username: "bench".into(),
            transport: Transport::Api,
            tls_fingerprint: None,
            tags: vec![],
            created_at: 0,
            updated_at: 0,
        })
        .collect();
    for chunk in records.chunks(2000) {
        store.save_devices(chunk).await.unwrap();
    }
    records.into_iter().map(|r| r.id).collect()
}

fn sweep(ids: &[String], at: i64) -> Vec<Checkin> {
    ids.iter()
        .enumerate()
        .map(|(i, id)| Checkin {
            device_id: id.clone(),
            checked_in_at: at + (i % 1000) as i64,
            cpu_load: (i % 100) as i64,
            cpu_count: 4,
            free_memory: 300 << 20,
            total_memory: 1 << 30,
            free_hdd: 50 << 20,
            total_hdd: 128 << 20,
            uptime_secs: at / 1000,
            version: "7.16.2 (stable)".into(),
            board_name: String::new(),
            identity: String::new(),
            serial: None,
            rx_bytes: at,
            tx_bytes: at,
            rx_bps: 1_000_000,
            tx_bps: 250_000,
        })
        .collect()
}

async fn ingest_sqlite(dir: &std::path::Path) {
    println!("\n## Ingest into SQLite (sweeps of {DEVICES} routers, one batch per sweep)");
    for outbox in [false, true] {
        let path = dir.join(format!("ingest-{outbox}.db"));
        let store = FleetStore::open_with(
            &StoreUrl::Sqlite(path),
            StoreOptions {
                outbox: Some(outbox),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let ids = devices(&store, DEVICES).await;
        let t0 = now_ms() - 100 * 30_000;
        let sweeps = 30;
        let started = Instant::now();
        let mut rows = 0;
        for s in 0..sweeps {
            rows += store
                .record_checkins(&sweep(&ids, t0 + s * 30_000))
                .await
                .unwrap()
                .inserted;
        }
        let secs = started.elapsed().as_secs_f64();
        println!(
            "sqlite ingest, outbox {}: {rows} rows in {secs:.2} s = {:.0} rows/s",
            if outbox { "on " } else { "off" },
            rows as f64 / secs
        );
    }
}

async fn ingest_mysql() {
    println!("\n## Ingest into MariaDB: single-row versus batched, same API");
    let (url, db) = fresh_mysql("ingest").await;
    let store = FleetStore::open(&url).await.unwrap();
    let ids = devices(&store, 2_000).await;
    let t0 = now_ms() - 1_000 * 30_000;
    let single = sweep(&ids, t0);
    let started = Instant::now();
    for k in &single {
        store.record_checkin(k).await.unwrap();
    }
    let single_rate = single.len() as f64 / started.elapsed().as_secs_f64();
    let started = Instant::now();
    let mut rows = 0;
    for s in 1..=50 {
        rows += store
            .record_checkins(&sweep(&ids, t0 + s * 30_000))
            .await
            .unwrap()
            .inserted;
    }
    let batched_rate = rows as f64 / started.elapsed().as_secs_f64();
    println!(
        "mariadb single-row: {} rows, {single_rate:.0} rows/s",
        single.len()
    );
    println!("mariadb batched (2,000-row batches): {rows} rows, {batched_rate:.0} rows/s");
    println!(
        "mariadb batched / single-row: {:.1}x",
        batched_rate / single_rate
    );
    drop(store);
    drop_mysql(&db).await;
}

struct Timing {
    name: &'static str,
    samples: Vec<Duration>,
}

fn pct(samples: &mut [Duration], p: f64) -> f64 {
    samples.sort();
    let i = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples[i].as_secs_f64() * 1000.0
}

macro_rules! time_query {
    ($timings:ident, $name:expr, $body:expr) => {{
        let mut samples = Vec::with_capacity(ITERATIONS);
        for i in 0..ITERATIONS + 3 {
            let started = Instant::now();
            let out = $body(i).await;
            std::hint::black_box(&out);
            if i >= 3 {
                samples.push(started.elapsed());
            }
        }
        $timings.push(Timing {
            name: $name,
            samples,
        });
    }};
}

/// Runs every dashboard query and prints p50/p95.
async fn dashboards(store: &FleetStore, ids: &[String], end_ms: i64, label: &str) {
    let mut t = Vec::new();
    let th = HealthThresholds::for_interval_secs(300);
    let since = end_ms - th.offline_after_ms;
    let now = end_ms + 10_000;
    time_query!(t, "fleet summary", |_| store.fleet_summary(now, th));
    time_query!(t, "version distribution", |_| store.version_distribution());
    time_query!(t, "CPU distribution", |_| store.cpu_distribution(since));
    time_query!(t, "top 10 busiest", |_| store.top_cpu(since, 10));
    time_query!(t, "memory and storage pressure", |_| store
        .pressure(since, 90.0, 10));
    time_query!(t, "check-ins per hour, 24 h", |_| store
        .checkins_per_hour(now - 86_400_000, now));
    time_query!(t, "check-ins per hour, 30 days", |_| store
        .checkins_per_hour(now - 30 * 86_400_000, now));
    time_query!(t, "device series, 6 h (raw)", |i: usize| store
        .device_series(
            &ids[(i * 7919) % ids.len()],
            now - 6 * 3_600_000,
            now,
            360
        ));
    time_query!(t, "device series, 30 days (hourly)", |i: usize| store
        .device_series(
            &ids[(i * 7919) % ids.len()],
            now - 30 * 86_400_000,
            now,
            360
        ));
    time_query!(t, "device list (10,000 with tags)", |_| store
        .list_devices());
    println!("\n| {label} | p50 ms | p95 ms |\n| --- | ---: | ---: |");
    for mut timing in t {
        let p50 = pct(&mut timing.samples, 0.5);
        let p95 = pct(&mut timing.samples, 0.95);
        println!("| {} | {p50:.2} | {p95:.2} |", timing.name);
    }
}

/// The router list against floors read in the same run straight from the
/// file (one connection, no pool): the bare rows, and the single query the
/// list used before (a tag subquery per router, sorted in SQL).
async fn device_list_floor(store: &FleetStore, path: &std::path::Path) {
    let conn = rusqlite::Connection::open(path).unwrap();
    let raw = |sql: &str| {
        let mut samples = Vec::with_capacity(ITERATIONS);
        let mut stmt = conn.prepare(sql).unwrap();
        for i in 0..ITERATIONS + 3 {
            let started = Instant::now();
            let rows: Vec<(String, String, Option<String>)> = stmt
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            std::hint::black_box(&rows);
            if i >= 3 {
                samples.push(started.elapsed());
            }
        }
        pct(&mut samples, 0.95)
    };
    let bare = raw("SELECT d.id, d.host, l.identity FROM devices d
                    LEFT JOIN device_latest l ON l.device_key = d.key");
    let before = raw("SELECT d.id, d.host,
                        (SELECT group_concat(tag, char(31)) FROM device_tags t WHERE t.device_id = d.id)
                      FROM devices d LEFT JOIN device_latest l ON l.device_key = d.key
                      ORDER BY COALESCE(l.identity, d.host), d.host, d.port");
    let mut samples = Vec::with_capacity(ITERATIONS);
    for i in 0..ITERATIONS + 3 {
        let started = Instant::now();
        std::hint::black_box(store.list_devices().await.unwrap());
        if i >= 3 {
            samples.push(started.elapsed());
        }
    }
    let list = pct(&mut samples, 0.95);
    println!(
        "\nrouter list p95: {list:.2} ms = {:.1}x the bare rows ({bare:.2} ms), {:.2}x the old single query's rows alone ({before:.2} ms)",
        list / bare,
        list / before
    );
}

async fn fill(store: &FleetStore, rows: u64) -> (Vec<String>, i64, f64) {
    let opts = generate::GenerateOptions {
        devices: DEVICES,
        checkins_per_device: (rows / u64::from(DEVICES)) as u32,
        interval_secs: 300,
        ..Default::default()
    };
    let report = generate::generate(store, &opts, |_| {}).await.unwrap();
    let ids: Vec<String> = store
        .device_records()
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    println!(
        "generated {} check-ins for {} routers in {:.1} s ({:.0} rows/s)",
        report.checkins, report.devices, report.seconds, report.rows_per_second
    );
    (ids, opts.end_ms, report.seconds)
}

#[tokio::main]
async fn main() {
    // `cargo bench` passes --bench; nothing else is read from the arguments.
    let tmp = match std::env::var_os("FLEETDECK_BENCH_DIR") {
        Some(d) => tempfile::tempdir_in(d).unwrap(),
        None => tempfile::tempdir().unwrap(),
    };
    // Comma-separated parts to run: ingest-sqlite, ingest-mysql, sqlite, mysql.
    let only = std::env::var("FLEETDECK_BENCH_ONLY").unwrap_or_default();
    let run = |part: &str| only.is_empty() || only.split(',').any(|p| p.trim() == part);
    if run("ingest-sqlite") {
        ingest_sqlite(tmp.path()).await;
    }
    if run("ingest-mysql") {
        ingest_mysql().await;
    }
    if run("sqlite") {
        let scales = std::env::var("FLEETDECK_BENCH_SCALES").unwrap_or_else(|_| "1M,10M".into());
        for scale in scales.split(',') {
            let rows = parse_scale(scale);
            println!("\n## SQLite, {scale} check-ins, {DEVICES} routers");
            let path = tmp.path().join(format!("fleet-{scale}.db"));
            let store = FleetStore::open_with(
                &StoreUrl::Sqlite(path.clone()),
                StoreOptions {
                    outbox: Some(false),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
            let (ids, end, _) = fill(&store, rows).await;
            println!(
                "size on disk: {:.2} GiB",
                store.size_on_disk().unwrap_or(0) as f64 / (1u64 << 30) as f64
            );
            dashboards(&store, &ids, end, &format!("SQLite, {scale} check-ins")).await;
            device_list_floor(&store, &path).await;
            drop(store);
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
        }
    }
    if run("mysql") {
        let scale = std::env::var("FLEETDECK_BENCH_MYSQL_SCALE").unwrap_or_else(|_| "1M".into());
        let rows = parse_scale(&scale);
        println!("\n## MariaDB, {scale} check-ins, {DEVICES} routers");
        let (url, db) = fresh_mysql("dashboards").await;
        let store = FleetStore::open(&url).await.unwrap();
        let (ids, end, _) = fill(&store, rows).await;
        dashboards(&store, &ids, end, &format!("MariaDB, {scale} check-ins")).await;
        drop(store);
        drop_mysql(&db).await;
    }
}
