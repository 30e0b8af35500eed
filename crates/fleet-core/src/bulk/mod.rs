//! Pushing to many routers: in waves (a canary, then a share, then the
//! rest), a bounded number at once, stopping when failures pass the
//! policy; pause, resume and cancel. Each router gets the full
//! single-router push (backup, safety net, verify, confirm) and its own
//! push record and audit trail.
//!
//! The bulk push itself is a [`PushBatch`] in the store: its routers and
//! options, a heartbeat while it runs, and its end. A batch whose
//! heartbeat stopped (the app closed, the laptop slept) is found by
//! [`recover_interrupted`] and marked interrupted, with the routers that
//! were mid-push; [`resume`] pushes to every router of it that has not
//! succeeded.
//!
//! A template can be rendered per router, with values read from the router
//! itself (`router.identity`, `router.serial`, `router.board`,
//! `router.version`, `router.address`) and its site (`site.name`), besides
//! the values the user gave.

use std::{
    collections::{BTreeMap, HashSet},
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use fleet_store::{BatchState, FleetStore, PushBatch};
use serde::Serialize;
use tokio::sync::{watch, Semaphore};

use crate::{
    plan::{self, Plan},
    poll,
    push::{PushOptions, PushReport, PushStatus},
    telemetry::Target,
    template::Template,
    FleetError,
};

mod resume;
mod router;

use resume::source_fingerprint;
pub use resume::{recover_interrupted, resume};
use router::push_one;
pub use router::router_values;

/// How far a wave reaches, cumulatively.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wave {
    /// The first N routers (a canary is `Count(1)`).
    Count(usize),
    /// This percentage of all routers.
    Percent(u8),
}

/// `1,10%,100%` → waves. A last wave short of everything gets one more
/// wave to 100 %.
pub fn parse_waves(text: &str) -> Result<Vec<Wave>, FleetError> {
    let mut waves = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let wave = match part.strip_suffix('%') {
            Some(p) => match p.parse::<u8>() {
                Ok(p) if (1..=100).contains(&p) => Wave::Percent(p),
                _ => {
                    return Err(FleetError::InvalidInput(format!(
                        "wave {part:?}: a percentage from 1% to 100%"
                    )))
                }
            },
            None => match part.parse::<usize>() {
                Ok(n) if n > 0 => Wave::Count(n),
                _ => {
                    return Err(FleetError::InvalidInput(format!(
                        "wave {part:?}: a number of routers or a percentage"
                    )))
                }
            },
        };
        waves.push(wave);
    }
    if waves.last() != Some(&Wave::Percent(100)) {
        waves.push(Wave::Percent(100));
    }
    Ok(waves)
}

/// Where each wave ends (exclusive), for `total` routers.
fn wave_ends(waves: &[Wave], total: usize) -> Vec<usize> {
    let mut ends = Vec::new();
    let mut last = 0;
    for w in waves {
        let end = match *w {
            Wave::Count(n) => n,
            Wave::Percent(p) => (total * usize::from(p)).div_ceil(100),
        }
        .clamp(last, total);
        if end > last {
            ends.push(end);
            last = end;
        }
    }
    ends
}

/// A router's push went as asked: applied and verified (confirmed or
/// awaiting confirmation), or a dry run.
fn went_through(status: RouterStatus) -> bool {
    matches!(
        status,
        RouterStatus::Pushed(
            PushStatus::Succeeded | PushStatus::DryRun | PushStatus::AwaitingConfirmation
        )
    )
}

/// What is pushed: one plan for every router, or a template rendered per
/// router with its own facts and site.
#[derive(Clone)]
pub enum PlanSource {
    Plan(Arc<Plan>),
    Template {
        template: Arc<Template>,
        /// The user's values; they win over the router's and site's.
        values: Arc<BTreeMap<String, String>>,
        /// Push the rendered script as one upload-and-/import step.
        import: bool,
    },
}

/// A callback given `(device id, step)`.
pub type StepFn = dyn Fn(&str, &plan::StepReport) + Send + Sync;

/// Sees each step of each router as it finishes.
#[derive(Clone)]
pub struct StepHook(pub Arc<StepFn>);

impl std::fmt::Debug for StepHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StepHook")
    }
}

#[derive(Debug, Clone)]
pub struct BulkOptions {
    pub concurrency: usize,
    pub waves: Vec<Wave>,
    /// Stop before the next wave (and start no further router) once this
    /// many routers failed. `None`: continue whatever fails.
    pub stop_after_failures: Option<usize>,
    pub push: PushOptions,
    /// How often a running batch refreshes its heartbeat in the store.
    pub heartbeat: Duration,
    /// Per-step progress, for a window that shows each step live.
    pub on_step: Option<StepHook>,
    /// The id a new batch gets (`None`: a fresh one), so the caller can
    /// keep things under it before the batch starts.
    pub batch_id: Option<String>,
    /// What the caller pushed, kept in the batch's options (`"spec"`) so
    /// the batch can be resumed without its caller (the app at start).
    /// Never holds a secret value.
    pub record: Option<serde_json::Value>,
}

impl Default for BulkOptions {
    fn default() -> Self {
        Self {
            concurrency: 32,
            waves: vec![Wave::Count(1), Wave::Percent(10), Wave::Percent(100)],
            stop_after_failures: Some(1),
            push: PushOptions::default(),
            heartbeat: Duration::from_secs(5),
            on_step: None,
            batch_id: None,
            record: None,
        }
    }
}

/// Why a router was not pushed at all (nothing was changed on it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
pub enum Refusal {
    /// It could not be reached.
    Unreachable,
    /// The plan could not be made for it (say, a template value missing).
    Invalid,
}

/// How one router of a bulk push ended: refused before anything was
/// changed, or pushed with a push's status. Sent as one string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(untagged)]
pub enum RouterStatus {
    Refused(Refusal),
    Pushed(PushStatus),
}

impl RouterStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RouterStatus::Refused(Refusal::Unreachable) => "unreachable",
            RouterStatus::Refused(Refusal::Invalid) => "invalid",
            RouterStatus::Pushed(s) => s.as_str(),
        }
    }
}

impl PartialEq<&str> for RouterStatus {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl std::fmt::Display for RouterStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One router's result.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct RouterResult {
    pub device_id: String,
    pub address: String,
    pub wave: usize,
    pub status: RouterStatus,
    pub message: String,
    pub report: Option<PushReport>,
}

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct BulkReport {
    /// The batch in the store (for `resume`).
    pub batch_id: String,
    pub routers: usize,
    pub succeeded: usize,
    pub failed: usize,
    /// Routers not pushed because the push stopped or was cancelled.
    pub skipped: usize,
    /// Routers a resumed batch had already pushed.
    pub already_done: usize,
    pub seconds: f64,
    /// Why the push stopped early, if it did.
    pub stopped: Option<String>,
    pub results: Vec<RouterResult>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RunState {
    Running,
    Paused,
    Cancelled,
}

/// Pauses, resumes or cancels a bulk push. Routers already being pushed
/// finish (a push is never cut mid-step); no new one starts while paused
/// or after a cancel.
#[derive(Clone)]
pub struct Control {
    state: Arc<watch::Sender<RunState>>,
    /// Routers whose turn has come but that wait for a resume.
    held: Arc<std::sync::atomic::AtomicUsize>,
}

impl Default for Control {
    fn default() -> Self {
        Self {
            state: Arc::new(watch::channel(RunState::Running).0),
            held: Arc::default(),
        }
    }
}

impl Control {
    pub fn pause(&self) {
        self.state.send_if_modified(|s| {
            let change = *s == RunState::Running;
            if change {
                *s = RunState::Paused;
            }
            change
        });
    }

    pub fn resume(&self) {
        self.state.send_if_modified(|s| {
            let change = *s == RunState::Paused;
            if change {
                *s = RunState::Running;
            }
            change
        });
    }

    pub fn cancel(&self) {
        self.state.send_replace(RunState::Cancelled);
    }

    pub fn is_paused(&self) -> bool {
        *self.state.borrow() == RunState::Paused
    }

    pub fn is_cancelled(&self) -> bool {
        *self.state.borrow() == RunState::Cancelled
    }

    /// How many routers have their turn (a concurrency slot) but are held
    /// by the pause: with every slot held, nothing is being pushed.
    pub fn held(&self) -> usize {
        self.held.load(Ordering::SeqCst)
    }

    /// Waits while paused; `false` once cancelled.
    async fn proceed(&self) -> bool {
        let mut rx = self.state.subscribe();
        let now = *rx.borrow_and_update();
        if now != RunState::Paused {
            return now == RunState::Running;
        }
        // Counted only once seen paused, so `held` never counts a router
        // that is merely passing through.
        self.held.fetch_add(1, Ordering::SeqCst);
        let state = match rx.wait_for(|s| *s != RunState::Paused).await {
            Ok(s) => *s,
            Err(_) => RunState::Cancelled,
        };
        self.held.fetch_sub(1, Ordering::SeqCst);
        state == RunState::Running
    }
}

/// Pushes to every target, wave by wave, as a new batch in the store.
/// `progress` sees each router's result as it finishes.
pub async fn push_all(
    store: Arc<FleetStore>,
    targets: Vec<Target>,
    source: PlanSource,
    opts: BulkOptions,
    control: Control,
    progress: impl Fn(&RouterResult) + Send + Sync + 'static,
) -> Result<BulkReport, FleetError> {
    let now = poll::now_ms();
    let batch = PushBatch {
        id: opts.batch_id.clone().unwrap_or_else(fleet_store::new_id),
        started_at: now,
        finished_at: None,
        status: BatchState::Running.into(),
        actor: opts.push.actor.clone(),
        options: options_json(&opts, &source),
        targets: targets.iter().map(|t| t.device_id.clone()).collect(),
        summary: format!("{} routers", targets.len()),
        updated_at: now,
    };
    store.save_batch(&batch).await?;
    Ok(run_batch(
        store,
        batch,
        targets,
        HashSet::new(),
        source,
        opts,
        control,
        progress,
    )
    .await)
}

fn options_json(opts: &BulkOptions, source: &PlanSource) -> String {
    serde_json::json!({
        "plan": source_fingerprint(source),
        "concurrency": opts.concurrency,
        "waves": opts.waves.iter().map(|w| match w {
            Wave::Count(n) => n.to_string(),
            Wave::Percent(p) => format!("{p}%"),
        }).collect::<Vec<_>>().join(","),
        "stopAfterFailures": opts.stop_after_failures,
        "confirmWithinSecs": opts.push.confirm_within.as_secs(),
        "dryRun": opts.push.dry_run,
        "spec": opts.record,
    })
    .to_string()
}

#[allow(clippy::too_many_arguments)]
async fn run_batch(
    store: Arc<FleetStore>,
    batch: PushBatch,
    targets: Vec<Target>,
    done: HashSet<String>,
    source: PlanSource,
    opts: BulkOptions,
    control: Control,
    progress: impl Fn(&RouterResult) + Send + Sync + 'static,
) -> BulkReport {
    let started = Instant::now();
    let total = targets.len();
    let ends = wave_ends(&opts.waves, total);
    let failures = Arc::new(AtomicUsize::new(0));
    let gate = Arc::new(Semaphore::new(opts.concurrency.max(1)));
    let progress = Arc::new(progress);
    let batch = Arc::new(tokio::sync::Mutex::new(batch));
    let batch_id = batch.lock().await.id.clone();
    // Held for as long as this future lives: a crash or a drop lets go.
    let lock = crate::batch_lock::hold(&store, &batch_id);
    // Tasks end with this future: dropped (the app closing), nothing of
    // the batch runs on, and its heartbeat stops, as in a crash.
    let mut heartbeat = tokio::task::JoinSet::new();
    {
        let (store, batch, control, every) = (
            store.clone(),
            batch.clone(),
            control.clone(),
            opts.heartbeat,
        );
        heartbeat.spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                let mut b = batch.lock().await;
                b.status = if control.is_paused() {
                    BatchState::Paused
                } else {
                    BatchState::Running
                }
                .into();
                b.updated_at = poll::now_ms().max(b.updated_at + 1);
                if let Err(e) = store.save_batch(&b).await {
                    tracing::warn!(error = %e, "could not record the bulk push's heartbeat");
                }
            }
        });
    }
    let push_opts = PushOptions {
        batch: Some(batch_id.clone()),
        ..opts.push.clone()
    };
    let mut results: Vec<RouterResult> = Vec::with_capacity(total);
    let mut already_done = 0;
    let mut stopped = None;
    let mut start = 0;
    for (wave, &end) in ends.iter().enumerate() {
        let too_many = opts
            .stop_after_failures
            .is_some_and(|k| failures.load(Ordering::SeqCst) >= k);
        if too_many || control.is_cancelled() {
            stopped = Some(if control.is_cancelled() {
                format!("cancelled before wave {}", wave + 1)
            } else {
                format!(
                    "stopped before wave {}: {} routers failed",
                    wave + 1,
                    failures.load(Ordering::SeqCst)
                )
            });
            break;
        }
        let mut tasks = tokio::task::JoinSet::new();
        for target in &targets[start..end] {
            if done.contains(&target.device_id) {
                already_done += 1;
                continue;
            }
            let (store, source, gate, failures, progress, control) = (
                store.clone(),
                source.clone(),
                gate.clone(),
                failures.clone(),
                progress.clone(),
                control.clone(),
            );
            let (target, push_opts, stop_after, on_step) = (
                target.clone(),
                push_opts.clone(),
                opts.stop_after_failures,
                opts.on_step.clone(),
            );
            // Taken here, in list order, so routers start in the order given.
            let Ok(permit) = gate.acquire_owned().await else {
                break;
            };
            tasks.spawn(async move {
                let _permit = permit;
                if !control.proceed().await
                    || stop_after.is_some_and(|k| failures.load(Ordering::SeqCst) >= k)
                {
                    return None;
                }
                let result =
                    push_one(&store, &target, &source, &push_opts, wave + 1, on_step).await;
                if !went_through(result.status) {
                    failures.fetch_add(1, Ordering::SeqCst);
                }
                progress(&result);
                Some(result)
            });
        }
        while let Some(t) = tasks.join_next().await {
            if let Ok(Some(r)) = t {
                results.push(r);
            }
        }
        start = end;
    }
    heartbeat.abort_all();
    // In push order, whatever order they finished in.
    let order: BTreeMap<&str, usize> = targets
        .iter()
        .enumerate()
        .map(|(i, t)| (t.device_id.as_str(), i))
        .collect();
    results.sort_by_key(|r| order.get(r.device_id.as_str()).copied());
    let succeeded = results.iter().filter(|r| went_through(r.status)).count();
    let failed = results.len() - succeeded;
    let skipped = total - results.len() - already_done;
    if stopped.is_none() && skipped > 0 {
        stopped = Some(format!(
            "{skipped} routers were not started: {}",
            if control.is_cancelled() {
                "cancelled"
            } else {
                "failure policy"
            }
        ));
    }
    let report = BulkReport {
        batch_id,
        routers: total,
        succeeded,
        failed,
        skipped,
        already_done,
        seconds: started.elapsed().as_secs_f64(),
        stopped,
        results,
    };
    let mut b = batch.lock().await;
    b.status = if control.is_cancelled() {
        BatchState::Cancelled
    } else if skipped > 0 {
        BatchState::Stopped
    } else if failed > 0 {
        BatchState::Incomplete
    } else {
        BatchState::Finished
    }
    .into();
    b.summary = format!(
        "{} succeeded, {} failed, {} not pushed{}{}",
        report.succeeded + report.already_done,
        report.failed,
        report.skipped,
        if report.already_done > 0 {
            format!(" ({} in an earlier run)", report.already_done)
        } else {
            String::new()
        },
        report
            .stopped
            .as_deref()
            .map(|s| format!("; {s}"))
            .unwrap_or_default()
    );
    b.finished_at = Some(poll::now_ms());
    b.updated_at = poll::now_ms().max(b.updated_at + 1);
    if let Err(e) = store.save_batch(&b).await {
        tracing::error!(error = %e, "could not record the end of bulk push {}", b.id);
    }
    drop(b);
    if let Some(lock) = lock {
        lock.release();
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waves_reach_cumulatively() {
        let w = parse_waves("1,10%,100%").unwrap();
        assert_eq!(wave_ends(&w, 50), vec![1, 5, 50]);
        assert_eq!(wave_ends(&w, 1), vec![1]);
        assert_eq!(
            wave_ends(&parse_waves("2,50%").unwrap(), 10),
            vec![2, 5, 10]
        );
        assert_eq!(wave_ends(&parse_waves("100%").unwrap(), 3), vec![3]);
        assert!(parse_waves("0").is_err());
        assert!(parse_waves("150%").is_err());
    }
}
