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
//! Nothing is dropped: a full channel makes pollers wait (backpressure), and
//! a store that fails keeps the writer retrying the same batch.

use std::{
    collections::HashMap,
    hash::{Hash, Hasher},
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use fleet_store::{AuditEvent, Checkin, FleetStore};
use routeros::{Client, ConnectOptions};
use serde::Serialize;
use tokio::{
    sync::{mpsc, oneshot, watch, Semaphore},
    task::JoinHandle,
};

use crate::{poll, FleetError};

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
    /// A partial batch is written after this long.
    pub flush_every: Duration,
    /// Check-ins waiting for the writer before pollers wait.
    pub channel_capacity: usize,
    /// Reconnect backoff: doubles from `backoff_min` to `backoff_max`,
    /// with ±20 % jitter.
    pub backoff_min: Duration,
    pub backoff_max: Duration,
    pub missed_for_offline: u32,
    pub alerts: AlertRules,
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        Self {
            connect_concurrency: 256,
            batch_rows: 2_000,
            flush_every: Duration::from_secs(1),
            channel_capacity: 20_000,
            backoff_min: Duration::from_secs(2),
            backoff_max: Duration::from_secs(300),
            missed_for_offline: 3,
            alerts: AlertRules::default(),
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
    /// Check-ins handed to the writer and not yet stored.
    pub rows_pending: u64,
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
        let done = get(&self.rows_written) + get(&self.rows_already_stored);
        CounterSnapshot {
            polls: get(&self.polls),
            polls_ok: get(&self.polls_ok),
            polls_failed: get(&self.polls_failed),
            connects: get(&self.connects),
            rows_pending: queued.saturating_sub(done),
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
    cpu_high_since: Option<i64>,
    alerted: HashMap<&'static str, bool>,
}

struct Previous {
    at: i64,
    uptime_secs: i64,
    counters: HashMap<String, (u64, u64)>,
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
            cpu_high_since: None,
            alerted: HashMap::new(),
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
    writer: JoinHandle<()>,
    health: Arc<std::sync::Mutex<HashMap<String, Health>>>,
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
            // Aborted, not asked to stop: a poll in flight would otherwise
            // still report health for a router that is gone.
            if let Some(p) = self.pollers.remove(&id) {
                p.task.abort();
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
        let writer = tokio::spawn(writer(store, rx, cfg.clone(), counters.clone()));
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
                writer,
                health: Arc::default(),
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

    /// Stops polling, stores what is pending and returns the final counts.
    pub async fn stop(mut self) -> CounterSnapshot {
        for p in self.pollers.values() {
            let _ = p.stop.send(true);
        }
        for (_, p) in self.pollers.drain() {
            let _ = p.task.await;
        }
        // The pollers' context holds a sender too: the writer ends when
        // both are gone.
        self.ctx = None;
        drop(self.tx);
        let _ = self.writer.await;
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
    let result = poll_router(ctx, target, state).await;
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
            let health = if state.misses >= ctx.cfg.missed_for_offline {
                Health::Offline
            } else {
                Health::Degraded
            };
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

/// Connects if needed (gated, with backoff) and reads one check-in.
async fn poll_router(
    ctx: &Ctx,
    target: &Target,
    state: &mut RouterState,
) -> Result<Checkin, String> {
    if state.client.is_none() {
        let now = Instant::now();
        if now < state.next_attempt {
            return Err(format!(
                "waiting {} s before reconnecting; last error: {}",
                (state.next_attempt - now).as_secs(),
                state.last_error.as_deref().unwrap_or("none")
            ));
        }
        let connected = {
            let _permit = ctx.connect_gate.acquire().await;
            match state.pinned {
                Some(fp) => {
                    let mut opts = target.connect.clone();
                    opts.tls = routeros::TlsMode::Pinned(fp);
                    Client::connect(&opts).await
                }
                None => Client::connect(&target.connect).await,
            }
        };
        match connected {
            Ok(c) => {
                bump(&ctx.counters.connects);
                if state.pinned.is_none() {
                    if let Some(fp) = crate::reach::to_pin(&target.connect.tls, &c) {
                        state.pinned = Some(fp);
                        let _ = ctx
                            .tx
                            .send(Msg::Pin {
                                device_id: target.device_id.clone(),
                                fingerprint: fp.to_string(),
                            })
                            .await;
                        event(
                            ctx,
                            target,
                            "tls.pinned",
                            format!("{}: certificate {fp} pinned on first use", target.addr()),
                        )
                        .await;
                    }
                }
                state.client = Some(c);
            }
            Err(e) => return Err(fail(ctx, state, FleetError::from(e))),
        }
    }
    let client = state.client.as_ref().expect("connected above");
    // One deadline for the whole poll, on top of each command's.
    let deadline = target.connect.command_timeout + Duration::from_secs(1);
    let reading = match tokio::time::timeout(deadline, poll::read(client, &target.device_id)).await
    {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => return Err(fail(ctx, state, e)),
        Err(_) => {
            return Err(fail(
                ctx,
                state,
                FleetError::UnexpectedReply(format!(
                    "the router did not finish a poll within {} s",
                    deadline.as_secs()
                )),
            ))
        }
    };
    let mut checkin = reading.checkin;
    apply_rates(&mut checkin, &reading.interfaces, state.previous.as_ref());
    alerts(ctx, target, state, &checkin).await;
    state.previous = Some(Previous {
        at: checkin.checked_in_at,
        uptime_secs: checkin.uptime_secs,
        counters: reading
            .interfaces
            .iter()
            .map(|i| (i.name.clone(), (i.rx_bytes, i.tx_bytes)))
            .collect(),
    });
    Ok(checkin)
}

/// Drops the session and schedules the next attempt with backoff.
fn fail(ctx: &Ctx, state: &mut RouterState, e: FleetError) -> String {
    state.client = None;
    state.failures += 1;
    let exp = state.failures.saturating_sub(1).min(16);
    let backoff = ctx
        .cfg
        .backoff_min
        .saturating_mul(1u32 << exp)
        .min(ctx.cfg.backoff_max);
    state.next_attempt = Instant::now() + jitter(backoff);
    e.to_string()
}

/// Traffic rates from counter deltas per interface. A counter that went
/// backwards was reset (reboot, `reset-counters`): that interface adds
/// nothing this time rather than negative traffic.
fn apply_rates(
    checkin: &mut Checkin,
    interfaces: &[poll::InterfaceCounters],
    previous: Option<&Previous>,
) {
    let Some(prev) = previous else { return };
    let secs = (checkin.checked_in_at - prev.at) as f64 / 1000.0;
    if secs <= 0.0 {
        return;
    }
    let (mut rx, mut tx) = (0u64, 0u64);
    for i in interfaces {
        if let Some(&(prx, ptx)) = prev.counters.get(&i.name) {
            if i.rx_bytes >= prx {
                rx += i.rx_bytes - prx;
            }
            if i.tx_bytes >= ptx {
                tx += i.tx_bytes - ptx;
            }
        }
    }
    checkin.rx_bps = (rx as f64 * 8.0 / secs) as i64;
    checkin.tx_bps = (tx as f64 * 8.0 / secs) as i64;
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
    let action = match (from, to) {
        (a, b) if a == b => return,
        // The first poll of a session sets the baseline quietly unless it failed.
        (Health::Unknown, Health::Online) => return,
        (_, Health::Online) => "health.online",
        (Health::Offline, Health::Degraded) => return,
        (_, Health::Degraded) => "health.degraded",
        (_, Health::Offline) => "health.offline",
        (_, Health::Unknown) => return,
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

async fn event(ctx: &Ctx, target: &Target, action: &str, detail: String) {
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

/// `7.16.2 (stable)` → [7, 16, 2].
fn version_parts(v: &str) -> Vec<u32> {
    v.split_whitespace()
        .next()
        .unwrap_or("")
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|p| p.parse().ok())
        .collect()
}

async fn alerts(ctx: &Ctx, target: &Target, state: &mut RouterState, k: &Checkin) {
    let rules = &ctx.cfg.alerts;
    if let Some(prev) = &state.previous {
        if k.uptime_secs < prev.uptime_secs {
            event(
                ctx,
                target,
                "alert.rebooted",
                format!(
                    "{} rebooted: uptime {} s, was {} s",
                    target.addr(),
                    k.uptime_secs,
                    prev.uptime_secs
                ),
            )
            .await;
        }
    }
    // CPU high for a while: from the first poll at or above the threshold.
    let cpu_fires = if k.cpu_load >= rules.cpu_high_pct {
        let since = *state.cpu_high_since.get_or_insert(k.checked_in_at);
        k.checked_in_at - since >= rules.cpu_high_for.as_millis() as i64
    } else {
        state.cpu_high_since = None;
        false
    };
    let free_mem = 100.0 - k.memory_used_pct();
    let free_hdd = if k.total_hdd > 0 {
        100.0 * k.free_hdd as f64 / k.total_hdd as f64
    } else {
        100.0
    };
    let behind = rules
        .target_version
        .as_deref()
        .filter(|t| !k.version.is_empty() && version_parts(&k.version) < version_parts(t));
    let checks = [
        (
            "alert.cpu-high",
            cpu_fires,
            format!(
                "CPU load {} % for at least {} s (threshold {} %)",
                k.cpu_load,
                rules.cpu_high_for.as_secs(),
                rules.cpu_high_pct
            ),
        ),
        (
            "alert.memory-low",
            free_mem < rules.memory_low_free_pct,
            format!(
                "{free_mem:.1} % memory free (threshold {} %)",
                rules.memory_low_free_pct
            ),
        ),
        (
            "alert.storage-low",
            free_hdd < rules.storage_low_free_pct,
            format!(
                "{free_hdd:.1} % storage free (threshold {} %)",
                rules.storage_low_free_pct
            ),
        ),
        (
            "alert.firmware-behind",
            behind.is_some(),
            format!(
                "RouterOS {} is behind the fleet's target {}",
                k.version,
                behind.unwrap_or_default()
            ),
        ),
    ];
    // Edge-triggered: an alert fires when its condition starts, once.
    for (action, firing, detail) in checks {
        let was = state.alerted.insert(action, firing).unwrap_or(false);
        if firing && !was {
            event(ctx, target, action, format!("{}: {detail}", target.addr())).await;
        }
    }
}

/// The single writer: batches check-ins, writes failures and events, and
/// retries a failed write until it lands.
async fn writer(
    store: Arc<FleetStore>,
    mut rx: mpsc::Receiver<Msg>,
    cfg: TelemetryConfig,
    counters: Arc<Counters>,
) {
    let mut batch: Vec<Checkin> = Vec::with_capacity(cfg.batch_rows);
    let mut failures: Vec<(String, i64, String)> = Vec::new();
    let mut events: Vec<AuditEvent> = Vec::new();
    let mut pins: Vec<(String, String)> = Vec::new();
    let mut acks: Vec<oneshot::Sender<()>> = Vec::new();
    let mut deadline = tokio::time::Instant::now() + cfg.flush_every;
    loop {
        let msg = tokio::select! {
            m = rx.recv() => m,
            _ = tokio::time::sleep_until(deadline) => {
                write_all(&store, &mut batch, &mut failures, &mut events, &mut pins, &counters).await;
                deadline = tokio::time::Instant::now() + cfg.flush_every;
                continue;
            }
        };
        match msg {
            Some(Msg::Checkin(k)) => batch.push(*k),
            Some(Msg::Failure {
                device_id,
                at,
                message,
            }) => failures.push((device_id, at, message)),
            Some(Msg::Event(e)) => events.push(e),
            Some(Msg::Pin {
                device_id,
                fingerprint,
            }) => pins.push((device_id, fingerprint)),
            Some(Msg::Flush(ack)) => acks.push(ack),
            None => {
                write_all(
                    &store,
                    &mut batch,
                    &mut failures,
                    &mut events,
                    &mut pins,
                    &counters,
                )
                .await;
                return;
            }
        }
        if batch.len() >= cfg.batch_rows || !acks.is_empty() {
            write_all(
                &store,
                &mut batch,
                &mut failures,
                &mut events,
                &mut pins,
                &counters,
            )
            .await;
            deadline = tokio::time::Instant::now() + cfg.flush_every;
            for ack in acks.drain(..) {
                let _ = ack.send(());
            }
        }
    }
}

/// Writes everything buffered; a failure is retried (the pollers wait on
/// the full channel meanwhile) until the store takes it.
async fn write_all(
    store: &FleetStore,
    batch: &mut Vec<Checkin>,
    failures: &mut Vec<(String, i64, String)>,
    events: &mut Vec<AuditEvent>,
    pins: &mut Vec<(String, String)>,
    counters: &Counters,
) {
    let mut pause = Duration::from_millis(200);
    loop {
        let result = async {
            if !batch.is_empty() {
                let r = store.record_checkins(batch).await?;
                counters
                    .rows_written
                    .fetch_add(r.inserted, Ordering::Relaxed);
                counters
                    .rows_already_stored
                    .fetch_add(r.duplicates, Ordering::Relaxed);
                batch.clear();
            }
            while let Some((device, at, message)) = failures.first() {
                store.record_poll_failure(device, *at, message).await?;
                failures.remove(0);
            }
            if !events.is_empty() {
                store.record_audit(events).await?;
                events.clear();
            }
            while let Some((device, fp)) = pins.first() {
                store.pin_fingerprint(device, fp).await?;
                pins.remove(0);
            }
            Ok::<(), fleet_store::StoreError>(())
        }
        .await;
        match result {
            Ok(()) => return,
            Err(e) => {
                bump(&counters.write_failures);
                tracing::warn!(error = %e, rows = batch.len(), "store write failed; retrying");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(5));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_come_from_deltas_and_a_reset_is_not_negative() {
        let prev = Previous {
            at: 0,
            uptime_secs: 100,
            counters: [
                ("ether1".to_string(), (1_000, 500)),
                ("ether2".to_string(), (9_000, 9_000)),
            ]
            .into_iter()
            .collect(),
        };
        let mut k = Checkin {
            checked_in_at: 10_000,
            ..Checkin::default()
        };
        let now = [
            poll::InterfaceCounters {
                name: "ether1".into(),
                rx_bytes: 11_000,
                tx_bytes: 3_000,
            },
            // Reset: went backwards.
            poll::InterfaceCounters {
                name: "ether2".into(),
                rx_bytes: 10,
                tx_bytes: 10,
            },
            // New interface: no baseline yet.
            poll::InterfaceCounters {
                name: "wlan1".into(),
                rx_bytes: 5_000_000,
                tx_bytes: 0,
            },
        ];
        apply_rates(&mut k, &now, Some(&prev));
        assert_eq!(k.rx_bps, 10_000 * 8 / 10);
        assert_eq!(k.tx_bps, 2_500 * 8 / 10);
        let mut first = Checkin::default();
        apply_rates(&mut first, &now, None);
        assert_eq!((first.rx_bps, first.tx_bps), (0, 0));
    }

    #[test]
    fn versions_compare_numerically() {
        assert!(version_parts("7.9.2 (stable)") < version_parts("7.16"));
        assert!(version_parts("6.49.17 (long-term)") < version_parts("7.1"));
        assert!(version_parts("7.16.2") >= version_parts("7.16.2"));
    }

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
