//! The desktop app's figures (issue 7), printed, never asserted: cold start
//! to first paint, to the router list drawn, idle memory with the store's
//! routers loaded, and filter latency on the router list in the real
//! webview. `scripts/bench-app.sh` prepares a store of 10,000 routers and
//! runs it under Xvfb; `FLEETDECK_BENCH_APP` names the binary (default:
//! target/debug/fleetdeck), `FLEETDECK_BENCH_RUN` the prepared run folder.

use std::{
    path::PathBuf,
    time::{Duration, Instant},
};

use fantoccini::{Client, Locator};

#[path = "../tests/support/webdriver.rs"]
mod webdriver;

fn main() {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(run());
}

async fn wait_for(c: &Client, selector: &str, timeout: Duration) {
    c.wait()
        .at_most(timeout)
        .for_element(Locator::Css(selector))
        .await
        .unwrap_or_else(|e| panic!("{selector} did not appear: {e}"));
}

/// Memory of one process, KiB: resident, proportional (shared pages split
/// between the processes that map them) and anonymous (its own heap).
#[derive(Default, Clone, Copy)]
struct Mem {
    rss: u64,
    pss: u64,
    anon: u64,
}

impl std::ops::Add for Mem {
    type Output = Mem;
    fn add(self, o: Mem) -> Mem {
        Mem {
            rss: self.rss + o.rss,
            pss: self.pss + o.pss,
            anon: self.anon + o.anon,
        }
    }
}

impl std::fmt::Display for Mem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "RSS {:.0} MiB, PSS {:.0} MiB, anonymous {:.0} MiB",
            self.rss as f64 / 1024.0,
            self.pss as f64 / 1024.0,
            self.anon as f64 / 1024.0
        )
    }
}

/// When the process whose command line starts with `needle` started, ms
/// since the epoch: now, minus the time since boot (/proc/uptime), plus
/// its start in ticks since boot (10 ms each).
fn process_start_ms(needle: &str) -> Option<f64> {
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let dir = entry.path();
        let Ok(cmd) = std::fs::read(dir.join("cmdline")) else {
            continue;
        };
        let first = cmd.split(|b| *b == 0).next().unwrap_or_default();
        if first != needle.as_bytes() {
            continue;
        }
        let stat = std::fs::read_to_string(dir.join("stat")).ok()?;
        // The fields after the command name; the start time is the 22nd.
        let ticks: f64 = stat
            .rsplit_once(')')?
            .1
            .split_whitespace()
            .nth(19)?
            .parse()
            .ok()?;
        let uptime: f64 = std::fs::read_to_string("/proc/uptime")
            .ok()?
            .split_whitespace()
            .next()?
            .parse()
            .ok()?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .ok()?
            .as_secs_f64();
        return Some((now - uptime + ticks / 100.0) * 1000.0);
    }
    None
}

/// Memory of the processes whose command line names `needle`.
fn mem_of(needle: &str) -> Vec<Mem> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let dir = entry.path();
        let Ok(cmd) = std::fs::read(dir.join("cmdline")) else {
            continue;
        };
        if !String::from_utf8_lossy(&cmd).contains(needle) {
            continue;
        }
        let rollup = std::fs::read_to_string(dir.join("smaps_rollup")).unwrap_or_default();
        let field = |name: &str| {
            rollup
                .lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
                .unwrap_or(0)
        };
        out.push(Mem {
            rss: field("Rss:"),
            pss: field("Pss:"),
            anon: field("Anonymous:"),
        });
    }
    out
}

async fn run() {
    assert!(
        std::env::var_os("DISPLAY").is_some(),
        "run under Xvfb: scripts/bench-app.sh"
    );
    let app = std::env::var("FLEETDECK_BENCH_APP").unwrap_or_else(|_| {
        webdriver::target_dir()
            .join("debug/fleetdeck")
            .display()
            .to_string()
    });
    let run_dir: PathBuf = std::env::var_os("FLEETDECK_BENCH_RUN")
        .map(PathBuf::from)
        .expect(
            "FLEETDECK_BENCH_RUN: a run folder with data/fleet.db (scripts/bench-app.sh makes it)",
        );
    println!("app: {app}");

    let started = Instant::now();
    let (_driver, c) = webdriver::launch(&run_dir, &app).await;
    wait_for(&c, "[data-testid=store-status]", Duration::from_secs(60)).await;
    let first_paint = started.elapsed();
    wait_for(&c, "[data-testid=device-row]", Duration::from_secs(60)).await;
    let listed = started.elapsed();
    wait_for(&c, "[data-testid=stat-total]", Duration::from_secs(60)).await;
    let overview = started.elapsed();
    let routers: u64 = c
        .execute(
            "return document.querySelectorAll('[data-testid=device-row]').length + ' rows of ' + document.querySelector('[data-testid=stat-total] .n').textContent",
            vec![],
        )
        .await
        .unwrap()
        .as_str()
        .unwrap_or_default()
        .rsplit(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    // The app's own start: from its process's start time (/proc, 10 ms
    // ticks) to the first frame the page marks, without the drivers' start.
    let painted_at = c
        .execute(
            "const m = performance.getEntriesByName('fleetdeck-first-paint')[0]; return m ? performance.timeOrigin + m.startTime : null",
            vec![],
        )
        .await
        .unwrap()
        .as_f64();
    match (painted_at, process_start_ms(&app)) {
        (Some(p), Some(s)) => println!(
            "app process start to first paint: {:.2} s",
            (p - s) / 1000.0
        ),
        _ => println!("app process start to first paint: not measured (no mark or no process)"),
    }
    println!(
        "cold start (WebDriver session + app launch) to first paint: {:.2} s; router list drawn: {:.2} s; overview with figures: {:.2} s; routers in the store: {routers}",
        first_paint.as_secs_f64(),
        listed.as_secs_f64(),
        overview.as_secs_f64()
    );

    tokio::time::sleep(Duration::from_secs(10)).await;
    let sum = |v: Vec<Mem>| v.into_iter().fold(Mem::default(), |a, b| a + b);
    let app_mem = sum(mem_of(&app));
    let web = mem_of("WebKitWebProcess");
    let web_count = web.len();
    let web_mem = sum(web) + sum(mem_of("WebKitNetworkProcess"));
    println!(
        "idle memory after 10 s: app process {app_mem}; WebKit web and network processes ({} web) {web_mem}; together {}",
        web_count,
        app_mem + web_mem
    );
    println!(
        "WEBKIT_DISABLE_COMPOSITING_MODE={} (the app sets 1 unless it is set)",
        std::env::var("WEBKIT_DISABLE_COMPOSITING_MODE").unwrap_or_else(|_| "unset".into())
    );

    // Filter latency: from the keystroke's input event to the second
    // animation frame after it (the list re-rendered and painted).
    let queries = [
        "rtr-9", "7.18", "site-12 ", "zzz", "", "core", "10.0.3", "edge", "", "rtr-1234",
    ];
    let mut ms = Vec::new();
    for round in 0..3 {
        for q in queries {
            let v = c
                .execute_async(
                    r#"const [q, done] = arguments;
                       const input = document.querySelector('[data-testid=device-search]');
                       const t0 = performance.now();
                       input.value = q;
                       input.dispatchEvent(new Event('input', { bubbles: true }));
                       requestAnimationFrame(() => requestAnimationFrame(() =>
                         done([performance.now() - t0, document.querySelectorAll('[data-testid=device-row]').length])));"#,
                    vec![serde_json::Value::String(q.into())],
                )
                .await
                .unwrap();
            if round > 0 {
                ms.push(v[0].as_f64().unwrap_or(f64::NAN));
            }
        }
    }
    ms.sort_by(f64::total_cmp);
    println!(
        "filter latency on the router list ({} keystrokes): median {:.1} ms, p90 {:.1} ms, max {:.1} ms",
        ms.len(),
        ms[ms.len() / 2],
        ms[ms.len() * 9 / 10],
        ms[ms.len() - 1]
    );
    c.close().await.unwrap();
}
