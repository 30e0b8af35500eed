//! Telemetry at fleet scale: one long-lived API session per router, polls
//! spread across the interval, check-ins through a bounded channel into a
//! single batching writer, router health and alerts.
//!
//! Health, by polls missed in a row (a poll is missed when it produced no
//! check-in: unreachable, wrong password, timeout, or skipped while waiting
//! to reconnect): *online* after a successful poll; *degraded* after one or
//! two misses; *offline* after `missed_for_offline` (default 3). Each change
//! is stored as an audit event (`health.degraded`, `health.offline`,
//! `health.online`), as are alerts (`alert.cpu-high`, `alert.memory-low`,
//! `alert.storage-low`, `alert.firmware-behind`, `alert.rebooted`).
//!
//! Nothing is dropped: a full channel makes pollers wait (backpressure); a
//! shared database that is down has the writer keep check-ins on disk and
//! deliver them when it answers; a row the database refuses is put aside
//! with its words, and the rest flow (see `writer`).

use std::{
    collections::HashMap,
    hash::{Hash, Hasher},
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use fleet_store::{AuditAction, AuditEvent, Checkin, FleetStore};
use routeros::{Client, ConnectOptions};
use serde::Serialize;
use tokio::{
    sync::{mpsc, oneshot, watch, Semaphore},
    task::JoinHandle,
};

use crate::poll;

mod rules;
mod session;
mod spool;
mod writer;

use rules::Previous;

/// One router to poll.
#[derive(Clone)]
pub struct Target {
    pub device_id: String,
    /// How the router is reached, with its password and deadlines.
    pub connect: ConnectOptions,
    /// Poll cadence (the router's site's, or the default).
    pub interval: Duration,
}

impl Target {
    fn addr(&self) -> String {
        format!("{}:{}", self.connect.host, self.connect.port)
    }
}

/// When an alert fires.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertRules {
    /// CPU load at or above this percentage ...
    pub cpu_high_pct: i64,
    /// ... for at least this long.
    pub cpu_high_for: Duration,
    /// Free memory below this percentage of total.
    pub memory_low_free_pct: f64,
    /// Free storage below this percentage of total.
    pub storage_low_free_pct: f64,
    /// The fleet's target RouterOS version (`7.16.2`); older is behind.
    pub target_version: Option<String>,
}

impl Default for AlertRules {
    fn default() -> Self {
        Self {
            cpu_high_pct: 90,
            cpu_high_for: Duration::from_secs(300),
            memory_low_free_pct: 10.0,
            storage_low_free_pct: 10.0,
            target_version: None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct TelemetryConfig {
    /// Connects and logins in progress at once, whatever the fleet size.
    pub connect_concurrency: usize,
    /// Check-ins per store write.
    pub batch_rows: usize,
    /// A partial batch is written after this long: the window a `kill -9`
    /// can lose check-ins in.
    pub flush_every: Duration,
    /// Check-ins waiting for the writer before pollers wait.
    pub channel_capacity: usize,
    /// Reconnect backoff: doubles from `backoff_min` to `backoff_max`,
    /// with ±20 % jitter.
    pub backoff_min: Duration,
    pub backoff_max: Duration,
    pub missed_for_offline: u32,
    pub alerts: AlertRules,
    /// The longest [`Telemetry::stop`] waits for the store to take what is
    /// pending; past it, what is left is given up and said.
    pub stop_within: Duration,
    /// The longest one write to the shared database may take before what
    /// it held is kept on disk instead (the store's own bound is longer).
    pub write_within: Duration,
    /// The data folder: while the shared database cannot be reached,
    /// check-ins are kept in a spool file here, and rows it refuses in
    /// `quarantine.jsonl`. `None`: kept in memory only.
    pub spool_dir: Option<std::path::PathBuf>,
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        Self {
            connect_concurrency: 256,
            batch_rows: 2_000,
            // Short: what is polled waits for the writer at most this long,
            // which is what a crash can lose; batches still fill first at
            // fleet scale.
            flush_every: Duration::from_millis(250),
            channel_capacity: 20_000,
            backoff_min: Duration::from_secs(2),
            backoff_max: Duration::from_secs(300),
            missed_for_offline: 3,
            alerts: AlertRules::default(),
            stop_within: Duration::from_secs(30),
            write_within: Duration::from_secs(10),
            spool_dir: fleet_store::default_data_dir().ok(),
        }
    }
}

/// Everything counted, so nothing is lost silently.
#[derive(Debug, Default)]
pub struct Counters {
    polls: AtomicU64,
    polls_ok: AtomicU64,
    polls_failed: AtomicU64,
    connects: AtomicU64,
    rows_queued: AtomicU64,
    rows_written: AtomicU64,
    rows_already_stored: AtomicU64,
    write_failures: AtomicU64,
    events: AtomicU64,
    rows_spooled: AtomicU64,
    rows_quarantined: AtomicU64,
}

/// A copy of the counters at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CounterSnapshot {
    pub polls: u64,
    pub polls_ok: u64,
    pub polls_failed: u64,
    /// Sessions opened (the first poll of a router, and reconnects).
    pub connects: u64,
    /// Check-ins handed to the writer and neither stored nor kept on disk.
    pub rows_pending: u64,
    /// Check-ins kept on disk while the shared database is down, waiting
    /// for it.
    pub rows_spooled: u64,
    /// Check-ins the database refused, put aside in the quarantine file.
    pub rows_quarantined: u64,
    pub rows_written: u64,
    pub rows_already_stored: u64,
    /// Store writes that failed and were retried.
    pub write_failures: u64,
    /// Health changes and alerts stored.
    pub events: u64,
}

impl Counters {
    pub fn snapshot(&self) -> CounterSnapshot {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let queued = get(&self.rows_queued);
        let done = get(&self.rows_written)
            + get(&self.rows_already_stored)
            + get(&self.rows_spooled)
            + get(&self.rows_quarantined);
        CounterSnapshot {
            polls: get(&self.polls),
            polls_ok: get(&self.polls_ok),
            polls_failed: get(&self.polls_failed),
            connects: get(&self.connects),
            rows_pending: queued.saturating_sub(done),
            rows_spooled: get(&self.rows_spooled),
            rows_quarantined: get(&self.rows_quarantined),
            rows_written: get(&self.rows_written),
            rows_already_stored: get(&self.rows_already_stored),
            write_failures: get(&self.write_failures),
            events: get(&self.events),
        }
    }
}

fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

/// A router's health by polls missed in a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Health {
    Unknown,
    Online,
    Degraded,
    Offline,
}

enum Msg {
    Checkin(Box<Checkin>),
    Failure {
        device_id: String,
        at: i64,
        message: String,
    },
    Event(AuditEvent),
    /// A certificate seen on first use, to pin.
    Pin {
        device_id: String,
        fingerprint: String,
    },
    Flush(oneshot::Sender<()>),
}

/// Shared by every poller.
struct Ctx {
    cfg: TelemetryConfig,
    counters: Arc<Counters>,
    connect_gate: Semaphore,
    tx: mpsc::Sender<Msg>,
}

/// What the engine keeps per router between polls.
struct RouterState {
    client: Option<Client>,
    /// The certificate pinned on first use in this run: later connects
    /// accept only it.
    pinned: Option<routeros::Fingerprint>,
    /// Consecutive polls without a check-in (health).
    misses: u32,
    /// Consecutive failed connects or polls (backoff).
    failures: u32,
    next_attempt: Instant,
    health: Health,
    last_error: Option<String>,
    previous: Option<Previous>,
    alert: rules::AlertState,
}

impl RouterState {
    fn new() -> Self {
        Self {
            client: None,
            pinned: None,
            misses: 0,
            failures: 0,
            next_attempt: Instant::now(),
            health: Health::Unknown,
            last_error: None,
            previous: None,
            alert: rules::AlertState::default(),
        }
    }
}

/// The running engine.
pub struct Telemetry {
    counters: Arc<Counters>,
    tx: mpsc::Sender<Msg>,
    /// Shared by the pollers; kept so targets can be added while running.
    ctx: Option<Arc<Ctx>>,
    /// One poller per router, by device id.
    pollers: HashMap<String, Poller>,
    /// Pollers of routers retargeted away, finishing the poll they had
    /// under way (and handing over its check-in) before they end.
    retired: Vec<JoinHandle<()>>,
    writer: JoinHandle<()>,
    health: Arc<std::sync::Mutex<HashMap<String, Health>>>,
    stop_within: Duration,
}

/// One router's polling task and what it was started with.
struct Poller {
    /// How the router is reached and how often: a change restarts it.
    key: String,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

/// What [`Telemetry::retarget`] changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Retargeted {
    /// Routers new to the engine: their polling started.
    pub added: usize,
    /// Routers gone from the list: their polling stopped.
    pub removed: usize,
    /// Routers whose address, login, TLS or interval changed: restarted.
    pub changed: usize,
    /// Routers left running, sessions and health untouched.
    pub kept: usize,
}

/// What identifies a poller's setup. The password is part of it (a new
/// one must reconnect) but the key is never logged or shown.
fn target_key(t: &Target) -> String {
    let c = &t.connect;
    format!(
        "{}|{}|{}|{}|{:?}|{}",
        c.host,
        c.port,
        c.username,
        c.password,
        c.tls,
        t.interval.as_millis()
    )
}

/// What one sweep did.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SweepReport {
    pub routers: usize,
    pub seconds: f64,
    pub counters: CounterSnapshot,
}

impl Telemetry {
    /// Starts polling every target at its interval, each at its own offset
    /// within the interval (no thundering herd), until [`Telemetry::stop`].
    pub fn start(store: Arc<FleetStore>, targets: Vec<Target>, cfg: TelemetryConfig) -> Self {
        let (mut engine, ctx) = Self::engine(store, cfg);
        engine.ctx = Some(ctx);
        engine.retarget(targets);
        engine
    }

    /// Polls exactly `targets` from now on: routers new to the engine start,
    /// routers no longer listed stop, routers whose address, login, TLS or
    /// interval changed restart; the rest keep their sessions, health and
    /// counters' baselines (adding one router to ten thousand reconnects
    /// one). A no-op on an engine from [`Telemetry::sweep`].
    pub fn retarget(&mut self, targets: Vec<Target>) -> Retargeted {
        let Some(ctx) = self.ctx.clone() else {
            return Retargeted::default();
        };
        let mut report = Retargeted::default();
        let mut wanted: HashMap<String, Target> = targets
            .into_iter()
            .map(|t| (t.device_id.clone(), t))
            .collect();
        let running: Vec<String> = self.pollers.keys().cloned().collect();
        for id in running {
            let keep = wanted
                .get(&id)
                .is_some_and(|t| self.pollers[&id].key == target_key(t));
            if keep {
                wanted.remove(&id);
                report.kept += 1;
                continue;
            }
            // Told to stop, not aborted: a poller waiting to hand over a
            // check-in (the writer behind) would lose it. It reports no
            // health once told (see `spawn_poller`).
            if let Some(p) = self.pollers.remove(&id) {
                let _ = p.stop.send(true);
                self.retired.push(p.task);
            }
            if wanted.contains_key(&id) {
                report.changed += 1;
            } else {
                report.removed += 1;
                if let Ok(mut h) = self.health.lock() {
                    h.remove(&id);
                }
            }
        }
        self.retired.retain(|t| !t.is_finished());
        report.added = wanted.len() - report.changed;
        for (id, target) in wanted {
            let poller = spawn_poller(ctx.clone(), target, self.health.clone());
            self.pollers.insert(id, poller);
        }
        report
    }

    /// Routers being polled.
    pub fn routers(&self) -> usize {
        self.pollers.len()
    }

    /// Pollers told to stop that have not ended yet: one that was mid-poll
    /// still hands its check-in over (nothing is lost), so a removed router
    /// may show one check-in more until this is zero.
    pub fn retiring(&self) -> usize {
        self.retired.iter().filter(|t| !t.is_finished()).count()
    }

    /// Polls every target once, as fast as the connect gate allows, waits
    /// until every check-in is stored, and reports.
    pub async fn sweep(
        store: Arc<FleetStore>,
        targets: Vec<Target>,
        cfg: TelemetryConfig,
    ) -> SweepReport {
        let started = Instant::now();
        let routers = targets.len();
        let (engine, ctx) = Self::engine(store, cfg);
        let pollers: Vec<JoinHandle<()>> = targets
            .into_iter()
            .map(|target| {
                let ctx = ctx.clone();
                tokio::spawn(async move {
                    let mut state = RouterState::new();
                    poll_once(&ctx, &target, &mut state).await;
                })
            })
            .collect();
        drop(ctx);
        for p in pollers {
            let _ = p.await;
        }
        let counters = engine.stop().await;
        SweepReport {
            routers,
            seconds: started.elapsed().as_secs_f64(),
            counters,
        }
    }

    fn engine(store: Arc<FleetStore>, cfg: TelemetryConfig) -> (Telemetry, Arc<Ctx>) {
        let counters = Arc::new(Counters::default());
        let (tx, rx) = mpsc::channel(cfg.channel_capacity.max(1));
        let writer = tokio::spawn(writer::writer(store, rx, cfg.clone(), counters.clone()));
        let stop_within = cfg.stop_within;
        let ctx = Arc::new(Ctx {
            connect_gate: Semaphore::new(cfg.connect_concurrency.max(1)),
            cfg,
            counters: counters.clone(),
            tx: tx.clone(),
        });
        (
            Telemetry {
                counters,
                tx,
                ctx: None,
                pollers: HashMap::new(),
                retired: Vec::new(),
                writer,
                health: Arc::default(),
                stop_within,
            },
            ctx,
        )
    }

    pub fn counters(&self) -> CounterSnapshot {
        self.counters.snapshot()
    }

    /// Each router's health as of its last poll.
    pub fn health(&self) -> HashMap<String, Health> {
        self.health.lock().map(|h| h.clone()).unwrap_or_default()
    }

    /// Waits until everything handed to the writer so far is stored.
    pub async fn flush(&self) {
        let (ack, done) = oneshot::channel();
        if self.tx.send(Msg::Flush(ack)).await.is_ok() {
            let _ = done.await;
        }
    }

    /// Stops polling, stores what is pending and returns the final counts,
    /// within `stop_within` whatever the store does (a pending write to a
    /// silent database, pollers waiting on a full channel). Past it, what
    /// the store has not taken is given up: counted in `rows_pending` and
    /// logged as an error.
    pub async fn stop(mut self) -> CounterSnapshot {
        for p in self.pollers.values() {
            let _ = p.stop.send(true);
        }
        let mut pollers: Vec<JoinHandle<()>> = self.pollers.drain().map(|(_, p)| p.task).collect();
        pollers.append(&mut self.retired);
        let mut aborts: Vec<tokio::task::AbortHandle> =
            pollers.iter().map(JoinHandle::abort_handle).collect();
        aborts.push(self.writer.abort_handle());
        // The pollers' context holds a sender too: the writer ends when
        // both are gone.
        self.ctx = None;
        let (tx, writer) = (self.tx, self.writer);
        let graceful = async move {
            for p in pollers {
                let _ = p.await;
            }
            drop(tx);
            let _ = writer.await;
        };
        if tokio::time::timeout(self.stop_within, graceful)
            .await
            .is_err()
        {
            for a in aborts {
                a.abort();
            }
            let left = self.counters.snapshot().rows_pending;
            tracing::error!(
                check_ins = left,
                "polling stopped without storing {left} check-ins: the store did not take them within {} s",
                self.stop_within.as_secs()
            );
        }
        self.counters.snapshot()
    }
}

/// Polls `target` at its interval, at its own offset within it (no
/// thundering herd), until told to stop.
fn spawn_poller(
    ctx: Arc<Ctx>,
    target: Target,
    health: Arc<std::sync::Mutex<HashMap<String, Health>>>,
) -> Poller {
    let key = target_key(&target);
    let (stop, mut stopped) = watch::channel(false);
    let task = tokio::spawn(async move {
        let offset = spread(&target.device_id, target.interval);
        let start = tokio::time::Instant::now() + offset;
        let mut ticks =
            tokio::time::interval_at(start, target.interval.max(Duration::from_millis(10)));
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let mut state = RouterState::new();
        loop {
            tokio::select! {
                _ = ticks.tick() => {}
                _ = stopped.changed() => break,
            }
            poll_once(&ctx, &target, &mut state).await;
            if *stopped.borrow() {
                // Retargeted away while polling: its health is no longer
                // this engine's to report.
                break;
            }
            if let Ok(mut h) = health.lock() {
                h.insert(target.device_id.clone(), state.health);
            }
        }
    });
    Poller { key, stop, task }
}

/// A router's fixed offset within its interval, from its id.
fn spread(device_id: &str, interval: Duration) -> Duration {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    device_id.hash(&mut h);
    let ms = interval.as_millis().max(1) as u64;
    Duration::from_millis(h.finish() % ms)
}

fn jitter(d: Duration) -> Duration {
    // ±20 %, from the clock's low bits: enough to break lockstep.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|t| t.subsec_nanos())
        .unwrap_or(0);
    let f = 0.8 + 0.4 * f64::from(nanos % 1000) / 1000.0;
    d.mul_f64(f)
}

async fn poll_once(ctx: &Ctx, target: &Target, state: &mut RouterState) {
    bump(&ctx.counters.polls);
    let result = session::poll_router(ctx, target, state).await;
    match result {
        Ok(checkin) => {
            bump(&ctx.counters.polls_ok);
            state.misses = 0;
            state.failures = 0;
            state.last_error = None;
            transition(ctx, target, state, Health::Online, None).await;
            ctx.counters.rows_queued.fetch_add(1, Ordering::Relaxed);
            // Waits when the writer is behind: backpressure, not memory.
            let _ = ctx.tx.send(Msg::Checkin(Box::new(checkin))).await;
        }
        Err(message) => {
            bump(&ctx.counters.polls_failed);
            state.misses += 1;
            let health = rules::health_after(state.misses, ctx.cfg.missed_for_offline);
            transition(ctx, target, state, health, Some(&message)).await;
            state.last_error = Some(message.clone());
            let _ = ctx
                .tx
                .send(Msg::Failure {
                    device_id: target.device_id.clone(),
                    at: poll::now_ms(),
                    message,
                })
                .await;
        }
    }
}

async fn transition(
    ctx: &Ctx,
    target: &Target,
    state: &mut RouterState,
    to: Health,
    why: Option<&str>,
) {
    let from = state.health;
    state.health = to;
    let Some(action) = rules::health_change(from, to) else {
        return;
    };
    let detail = match why {
        Some(w) => format!(
            "{} is {to:?} ({} polls missed): {w}",
            target.addr(),
            state.misses
        ),
        None => format!("{} is back online", target.addr()),
    };
    event(ctx, target, action, detail).await;
}

async fn event(ctx: &Ctx, target: &Target, action: AuditAction, detail: String) {
    bump(&ctx.counters.events);
    let _ = ctx
        .tx
        .send(Msg::Event(AuditEvent {
            id: fleet_store::new_id(),
            at: poll::now_ms(),
            device_id: Some(target.device_id.clone()),
            actor: "fleetdeck".into(),
            action: action.into(),
            detail,
        }))
        .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_spread_across_the_interval() {
        let interval = Duration::from_secs(30);
        let offsets: Vec<Duration> = (0..1000)
            .map(|i| spread(&format!("dev-{i}"), interval))
            .collect();
        assert!(offsets.iter().all(|o| *o < interval));
        let first_half = offsets.iter().filter(|o| **o < interval / 2).count();
        assert!((400..600).contains(&first_half), "{first_half}");
    }
}
