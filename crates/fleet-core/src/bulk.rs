//! Pushing one plan to many routers: in waves (a canary, then a share,
//! then the rest), a bounded number at once, stopping when failures pass
//! the policy. Each router gets the full single-router push (backup,
//! safety net, verify, confirm) and its own push record and audit trail.

use std::{
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Arc,
    },
    time::Instant,
};

use fleet_store::FleetStore;
use routeros::Client;
use serde::Serialize;
use tokio::sync::Semaphore;

use crate::{
    plan::Plan,
    push::{self, PushOptions, PushReport, PushStatus},
    telemetry::Target,
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

#[derive(Debug, Clone)]
pub struct BulkOptions {
    pub concurrency: usize,
    pub waves: Vec<Wave>,
    /// Stop before the next wave (and start no further router) once this
    /// many routers failed. `None`: continue whatever fails.
    pub stop_after_failures: Option<usize>,
    pub push: PushOptions,
}

impl Default for BulkOptions {
    fn default() -> Self {
        Self {
            concurrency: 32,
            waves: vec![Wave::Count(1), Wave::Percent(10), Wave::Percent(100)],
            stop_after_failures: Some(1),
            push: PushOptions::default(),
        }
    }
}

/// One router's result.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RouterResult {
    pub device_id: String,
    pub address: String,
    pub wave: usize,
    pub status: String,
    pub message: String,
    pub report: Option<PushReport>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkReport {
    pub routers: usize,
    pub succeeded: usize,
    pub failed: usize,
    /// Routers not pushed because the push stopped or was cancelled.
    pub skipped: usize,
    pub seconds: f64,
    /// Why the push stopped early, if it did.
    pub stopped: Option<String>,
    pub results: Vec<RouterResult>,
}

/// Cancels a bulk push: running routers finish, no new one starts.
#[derive(Clone, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    fn is_set(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// Pushes `plan` to every target, wave by wave. `progress` sees each
/// router's result as it finishes.
pub async fn push_all(
    store: Arc<FleetStore>,
    targets: Vec<Target>,
    plan: Arc<Plan>,
    opts: BulkOptions,
    cancel: Cancel,
    progress: impl Fn(&RouterResult) + Send + Sync + 'static,
) -> BulkReport {
    let started = Instant::now();
    let total = targets.len();
    let ends = wave_ends(&opts.waves, total);
    let failures = Arc::new(AtomicUsize::new(0));
    let gate = Arc::new(Semaphore::new(opts.concurrency.max(1)));
    let progress = Arc::new(progress);
    let mut results: Vec<RouterResult> = Vec::with_capacity(total);
    let mut stopped = None;
    let mut start = 0;
    for (wave, &end) in ends.iter().enumerate() {
        let too_many = opts
            .stop_after_failures
            .is_some_and(|k| failures.load(Ordering::SeqCst) >= k);
        if too_many || cancel.is_set() {
            stopped = Some(if cancel.is_set() {
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
        let mut tasks = Vec::new();
        for target in &targets[start..end] {
            let (store, plan, gate, failures, progress, cancel) = (
                store.clone(),
                plan.clone(),
                gate.clone(),
                failures.clone(),
                progress.clone(),
                cancel.clone(),
            );
            let (target, push_opts, stop_after) =
                (target.clone(), opts.push.clone(), opts.stop_after_failures);
            tasks.push(tokio::spawn(async move {
                let _permit = gate.acquire_owned().await.ok()?;
                if cancel.is_set()
                    || stop_after.is_some_and(|k| failures.load(Ordering::SeqCst) >= k)
                {
                    return None;
                }
                let result = push_one(&store, &target, &plan, &push_opts, wave + 1).await;
                if result.status != "succeeded" && result.status != "dry-run" {
                    failures.fetch_add(1, Ordering::SeqCst);
                }
                progress(&result);
                Some(result)
            }));
        }
        for t in tasks {
            if let Ok(Some(r)) = t.await {
                results.push(r);
            }
        }
        start = end;
    }
    let succeeded = results
        .iter()
        .filter(|r| r.status == "succeeded" || r.status == "dry-run")
        .count();
    let failed = results.len() - succeeded;
    if stopped.is_none() && results.len() < total {
        stopped = Some(format!(
            "{} routers were not started: {}",
            total - results.len(),
            if cancel.is_set() {
                "cancelled"
            } else {
                "failure policy"
            }
        ));
    }
    BulkReport {
        routers: total,
        succeeded,
        failed,
        skipped: total - results.len(),
        seconds: started.elapsed().as_secs_f64(),
        stopped,
        results,
    }
}

async fn push_one(
    store: &FleetStore,
    target: &Target,
    plan: &Plan,
    opts: &PushOptions,
    wave: usize,
) -> RouterResult {
    let address = format!("{}:{}", target.connect.host, target.connect.port);
    match Client::connect(&target.connect).await {
        Err(e) => {
            let _ = store
                .record_audit(&[fleet_store::AuditEvent {
                    id: fleet_store::new_id(),
                    at: crate::poll::now_ms(),
                    device_id: Some(target.device_id.clone()),
                    actor: opts.actor.clone(),
                    action: "push.unreachable".into(),
                    detail: serde_json::json!({"message": e.to_string()}).to_string(),
                }])
                .await;
            RouterResult {
                device_id: target.device_id.clone(),
                address,
                wave,
                status: "unreachable".into(),
                message: format!("{e}; nothing was changed"),
                report: None,
            }
        }
        Ok(client) => {
            let opts = PushOptions {
                reconnect: Some(target.connect.clone()),
                ..opts.clone()
            };
            let report =
                push::push(store, &client, &target.device_id, None, plan, &opts, |_| {}).await;
            let status = match report.status {
                PushStatus::Succeeded => "succeeded",
                PushStatus::RolledBack => "rolled-back",
                PushStatus::Failed => "failed",
                PushStatus::DryRun => "dry-run",
                PushStatus::Unknown => "unknown",
            };
            RouterResult {
                device_id: target.device_id.clone(),
                address,
                wave,
                status: status.into(),
                message: report.message.clone(),
                report: Some(report),
            }
        }
    }
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
