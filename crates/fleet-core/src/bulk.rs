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

use fleet_store::{AuditAction, BatchState, FleetStore, PushBatch, PushState};
use routeros::Client;
use serde::Serialize;
use tokio::sync::{watch, Semaphore};

use crate::{
    plan::{self, Plan},
    poll,
    push::{self, PushOptions, PushReport, PushStatus},
    telemetry::Target,
    template::Template,
    FleetError,
};

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

/// What a batch pushes, as a fingerprint kept with the batch: a resume
/// with another plan, template, values or import choice is refused rather
/// than leaving two configurations in one batch. Secret values are left
/// out (the batch row is shared, and a fingerprint of a short password
/// could be guessed), so a changed secret alone is not noticed.
fn source_fingerprint(source: &PlanSource) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    match source {
        PlanSource::Plan(plan) => {
            h.update(b"plan\0");
            h.update(serde_json::to_vec(plan.as_ref()).unwrap_or_default());
        }
        PlanSource::Template {
            template,
            values,
            import,
        } => {
            h.update(b"template\0");
            h.update(template.source().as_bytes());
            h.update([0, u8::from(*import)]);
            let secret: HashSet<&str> = template
                .placeholders()
                .iter()
                .filter(|p| p.value_type == crate::template::ValueType::Secret)
                .map(|p| p.name.as_str())
                .collect();
            for (name, value) in values.iter() {
                h.update(name.as_bytes());
                h.update([0]);
                if !secret.contains(name.as_str()) {
                    h.update(value.as_bytes());
                }
                h.update([0]);
            }
        }
    }
    format!("{:x}", h.finalize())
}

/// Refuses a resume that would push something else than the batch did, or
/// a dry run for real (or the reverse). A batch that does not say what it
/// pushed (recorded before batches kept it) is refused too: the check
/// cannot be made.
fn check_same_push(
    batch: &PushBatch,
    source: &PlanSource,
    opts: &BulkOptions,
) -> Result<(), FleetError> {
    let id = &batch.id;
    let recorded: serde_json::Value = serde_json::from_str(&batch.options).map_err(|e| {
        FleetError::InvalidInput(format!(
            "bulk push {id}: its recorded options cannot be read ({e}), so what it pushed cannot be checked; start a new push"
        ))
    })?;
    let Some(plan) = recorded.get("plan").and_then(|p| p.as_str()) else {
        return Err(FleetError::InvalidInput(format!(
            "bulk push {id} does not record what it pushed (it predates that), so a resume cannot be checked against it; start a new push"
        )));
    };
    if plan != source_fingerprint(source) {
        return Err(FleetError::InvalidInput(format!(
            "bulk push {id} pushed another plan, template or values: resume it with the same ones, or start a new push, so that one batch never holds two configurations"
        )));
    }
    let was_dry = recorded.get("dryRun").and_then(|d| d.as_bool()) == Some(true);
    if was_dry != opts.push.dry_run {
        return Err(FleetError::InvalidInput(if was_dry {
            format!("bulk push {id} was a dry run: it changed nothing, so it cannot be resumed as a real push; start a new push")
        } else {
            format!(
                "bulk push {id} was a real push: resume it as one, or preview with a new dry run"
            )
        }));
    }
    Ok(())
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
        id: fleet_store::new_id(),
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

/// Resumes a batch that was interrupted, paused, stopped or cancelled:
/// pushes to each of its routers that has not succeeded, in the original
/// order and waves. `targets` must reach those routers (the inventory's
/// targets; extra ones are ignored). A router interrupted mid-push still
/// carries that push's safety net: its pre-flight refuses it until the net
/// is confirmed or has restored the backup.
pub async fn resume(
    store: Arc<FleetStore>,
    batch_id: &str,
    targets: Vec<Target>,
    source: PlanSource,
    opts: BulkOptions,
    control: Control,
    progress: impl Fn(&RouterResult) + Send + Sync + 'static,
) -> Result<BulkReport, FleetError> {
    let mut batch = find_batch(&store, batch_id).await?;
    if batch.status == BatchState::Finished {
        return Err(FleetError::InvalidInput(format!(
            "bulk push {batch_id} already finished: every router was pushed"
        )));
    }
    if batch.status == BatchState::Running || batch.status == BatchState::Paused {
        match crate::batch_lock::runner(&store, batch_id) {
            crate::batch_lock::Runner::Alive => {
                return Err(FleetError::InvalidInput(format!(
                    "bulk push {batch_id} is still running in another Fleetdeck on this laptop; pause or cancel it there"
                )))
            }
            // Its process is gone: what it left mid-push is marked now.
            crate::batch_lock::Runner::Gone => {
                batch = mark_interrupted(&store, batch, poll::now_ms()).await?;
            }
            crate::batch_lock::Runner::Unknown
                if poll::now_ms() - batch.updated_at < 3 * opts.heartbeat.as_millis() as i64 =>
            {
                return Err(FleetError::InvalidInput(format!(
                    "bulk push {batch_id} is still running elsewhere (its heartbeat is fresh)"
                )))
            }
            crate::batch_lock::Runner::Unknown => {
                batch = mark_interrupted(&store, batch, poll::now_ms()).await?;
            }
        }
    }
    check_same_push(&batch, &source, &opts)?;
    // A dry run only counts as done for a dry run (checked above to be
    // one only when the batch was).
    let done_state = if opts.push.dry_run {
        PushState::DryRun
    } else {
        PushState::Succeeded
    };
    let done: HashSet<String> = store
        .batch_pushes(batch_id)
        .await?
        .into_iter()
        .filter(|p| p.status == done_state)
        .map(|p| p.device_id)
        .collect();
    let mut by_id: BTreeMap<String, Target> = targets
        .into_iter()
        .map(|t| (t.device_id.clone(), t))
        .collect();
    let mut ordered = Vec::new();
    for id in &batch.targets {
        match by_id.remove(id) {
            Some(t) => ordered.push(t),
            None if done.contains(id) => {}
            None => {
                return Err(FleetError::InvalidInput(format!(
                    "bulk push {batch_id}: router {id} is not among the targets given, so it cannot be resumed"
                )))
            }
        }
    }
    batch.status = BatchState::Running.into();
    batch.updated_at = poll::now_ms().max(batch.updated_at + 1);
    store.save_batch(&batch).await?;
    Ok(run_batch(store, batch, ordered, done, source, opts, control, progress).await)
}

async fn find_batch(store: &FleetStore, id: &str) -> Result<PushBatch, FleetError> {
    store
        .push_batches(None, u32::MAX)
        .await?
        .into_iter()
        .find(|b| b.id == id)
        .ok_or_else(|| FleetError::InvalidInput(format!("no bulk push {id} in this store")))
}

/// Marks batches whose heartbeat is older than `stale_after` as
/// interrupted, and their routers that were mid-push too (what those
/// routers did is not known; their safety nets restore the backups unless
/// confirmed). Returns the batches marked.
pub async fn recover_interrupted(
    store: &FleetStore,
    stale_after: Duration,
) -> Result<Vec<PushBatch>, FleetError> {
    let now = poll::now_ms();
    let mut marked = Vec::new();
    for status in [BatchState::Running, BatchState::Paused] {
        for b in store.push_batches(Some(status), u32::MAX).await? {
            let stale = now - b.updated_at >= stale_after.as_millis() as i64;
            match crate::batch_lock::runner(store, &b.id) {
                crate::batch_lock::Runner::Alive => continue,
                crate::batch_lock::Runner::Gone => {}
                crate::batch_lock::Runner::Unknown if !stale => continue,
                crate::batch_lock::Runner::Unknown => {}
            }
            marked.push(mark_interrupted(store, b, now).await?);
        }
    }
    Ok(marked)
}

/// Marks a batch whose process is gone as interrupted, and its routers
/// that were mid-push too (what those routers did is not known; their
/// safety nets restore the backups unless confirmed).
async fn mark_interrupted(
    store: &FleetStore,
    mut b: PushBatch,
    now: i64,
) -> Result<PushBatch, FleetError> {
    let pushes = store.batch_pushes(&b.id).await?;
    let mut cut = Vec::new();
    for mut p in pushes
        .iter()
        .filter(|p| p.status == PushState::Running)
        .cloned()
    {
        p.status = PushState::Interrupted.into();
        p.summary = "the push was cut short while this router was being pushed: what it did is not known; its safety net restores the backup unless the push is confirmed".into();
        p.finished_at = Some(now);
        p.updated_at = now.max(p.updated_at + 1);
        cut.push(p);
    }
    store.save_pushes(&cut).await?;
    let done = pushes
        .iter()
        .filter(|p| p.status == PushState::Succeeded)
        .count();
    b.status = BatchState::Interrupted.into();
    b.summary = format!(
        "interrupted: {done} of {} routers succeeded, {} were mid-push; resume with push --resume {}",
        b.targets.len(),
        cut.len(),
        b.id
    );
    b.updated_at = now.max(b.updated_at + 1);
    store.save_batch(&b).await?;
    // The batch and its records say it already; the event is the
    // trail's copy, and its loss is logged, not hidden.
    if let Err(e) = store
        .record_audit(&[fleet_store::AuditEvent {
            id: fleet_store::new_id(),
            at: now,
            device_id: None,
            actor: b.actor.clone(),
            action: AuditAction::BulkInterrupted.into(),
            detail: serde_json::json!({"batch": b.id, "summary": b.summary}).to_string(),
        }])
        .await
    {
        tracing::error!(error = %e, batch = %b.id, "the interrupted batch's audit event could not be written");
    }
    Ok(b)
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

/// The values a template gets for one router: its own facts and, for a
/// router in the inventory (`device_id`), its site's, overridden by the
/// user's.
pub async fn router_values(
    store: &FleetStore,
    client: &Client,
    device_id: Option<&str>,
    user: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, FleetError> {
    let reading = poll::read(client, device_id.unwrap_or_default()).await?;
    let c = &reading.checkin;
    let mut values = BTreeMap::from([
        ("router.identity".to_owned(), c.identity.clone()),
        ("router.board".to_owned(), c.board_name.clone()),
        ("router.version".to_owned(), c.version.clone()),
        ("router.address".to_owned(), client.addr().to_owned()),
    ]);
    if let Some(serial) = &c.serial {
        values.insert("router.serial".into(), serial.clone());
    }
    let site_id = match device_id {
        Some(id) => store.get_device(id).await?.site_id,
        None => None,
    };
    if let Some(site_id) = &site_id {
        if let Some(site) = store
            .list_sites()
            .await?
            .into_iter()
            .find(|s| &s.id == site_id)
        {
            values.insert("site.name".into(), site.name);
        }
    }
    values.extend(user.iter().map(|(k, v)| (k.clone(), v.clone())));
    Ok(values)
}

/// The plan for one router: the shared one, or the template rendered with
/// this router's values. A template error is the router's failure; nothing
/// is sent.
async fn plan_for(
    store: &FleetStore,
    client: &Client,
    device_id: &str,
    source: &PlanSource,
) -> Result<Arc<Plan>, String> {
    match source {
        PlanSource::Plan(p) => Ok(p.clone()),
        PlanSource::Template {
            template,
            values,
            import,
        } => {
            let values = router_values(store, client, Some(device_id), values)
                .await
                .map_err(|e| format!("reading the router's facts: {e}"))?;
            let rendered = template.render(&values).map_err(|errors| {
                errors
                    .iter()
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
                    .join("; ")
            })?;
            if *import {
                Ok(Arc::new(plan::import_plan(&rendered.text)))
            } else {
                plan::compile(&rendered.text)
                    .map(Arc::new)
                    .map_err(|e| e.to_string())
            }
        }
    }
}

async fn push_one(
    store: &FleetStore,
    target: &Target,
    source: &PlanSource,
    opts: &PushOptions,
    wave: usize,
    on_step: Option<StepHook>,
) -> RouterResult {
    let address = format!("{}:{}", target.connect.host, target.connect.port);
    let refuse = |status: Refusal, action: AuditAction, message: String| {
        let event = fleet_store::AuditEvent {
            id: fleet_store::new_id(),
            at: poll::now_ms(),
            device_id: Some(target.device_id.clone()),
            actor: opts.actor.clone(),
            action: action.into(),
            detail: serde_json::json!({"message": message, "batch": opts.batch}).to_string(),
        };
        let result = RouterResult {
            device_id: target.device_id.clone(),
            address: address.clone(),
            wave,
            status: RouterStatus::Refused(status),
            message: format!("{message}; nothing was changed"),
            report: None,
        };
        (event, result)
    };
    // Reached the one way every path uses; pinned here on first use, so
    // the push's reconnect after a reboot accepts only that certificate.
    let mut target = target.clone();
    let client = match crate::reach::open(store, &mut target, &opts.actor).await {
        Ok(c) => c,
        Err(e) => {
            let (event, result) = refuse(
                Refusal::Unreachable,
                AuditAction::PushUnreachable,
                e.to_string(),
            );
            return with_audit(store, event, result).await;
        }
    };
    let plan = match plan_for(store, &client, &target.device_id, source).await {
        Ok(p) => p,
        Err(message) => {
            let (event, result) = refuse(Refusal::Invalid, AuditAction::PushInvalid, message);
            return with_audit(store, event, result).await;
        }
    };
    let opts = PushOptions {
        reconnect: Some(target.connect.clone()),
        ..opts.clone()
    };
    // A router this batch left mid-push is settled first.
    let mut client = client;
    let interrupted = match &opts.batch {
        Some(batch) => store.batch_pushes(batch).await.ok().and_then(|pushes| {
            pushes
                .into_iter()
                .filter(|p| p.device_id == target.device_id && p.status == PushState::Interrupted)
                .max_by_key(|p| p.started_at)
        }),
        None => None,
    };
    if let Some(old) = interrupted {
        let settled = push::settle_interrupted(
            store,
            &client,
            &old,
            &plan,
            opts.backup_keys.as_deref(),
            &opts.actor,
        )
        .await;
        let failed = |message: String| RouterResult {
            device_id: target.device_id.clone(),
            address: address.clone(),
            wave,
            status: RouterStatus::Pushed(PushStatus::Failed),
            message,
            report: None,
        };
        match settled {
            Ok(push::Settled::Completed(message)) => {
                return RouterResult {
                    device_id: target.device_id.clone(),
                    address,
                    wave,
                    status: RouterStatus::Pushed(PushStatus::Succeeded),
                    message,
                    report: None,
                }
            }
            Ok(push::Settled::Restored(_)) => {
                match push::reconnect(&target.connect, opts.reconnect_within).await {
                    Ok(c) => client = c,
                    Err(why) => {
                        return failed(format!(
                            "settled on resume by restoring its backup, but {why}"
                        ))
                    }
                }
            }
            Ok(push::Settled::Clear) => {}
            Err(why) => {
                return failed(format!(
                    "this batch left it mid-push and it could not be settled: {why}"
                ))
            }
        }
    }
    let report = push::push(
        store,
        &client,
        &target.device_id,
        None,
        &plan,
        &opts,
        |step| {
            if let Some(hook) = &on_step {
                (hook.0)(&target.device_id, step)
            }
        },
    )
    .await;
    RouterResult {
        device_id: target.device_id.clone(),
        address,
        wave,
        status: RouterStatus::Pushed(report.status),
        message: report.message.clone(),
        report: Some(report),
    }
}

/// A refused router's result, with its audit event stored; an event that
/// cannot be stored is said in the result rather than dropped.
async fn with_audit(
    store: &FleetStore,
    event: fleet_store::AuditEvent,
    mut result: RouterResult,
) -> RouterResult {
    if let Err(e) = store.record_audit(&[event]).await {
        tracing::error!(error = %e, "a refused push's audit event could not be written");
        result.message = format!(
            "{}; the audit trail could not be written ({e})",
            result.message
        );
    }
    result
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
