//! Bulk pushes found again: interrupted batches marked, resumed with the
//! same push, what their process left mid-push settled.

use std::{
    collections::{BTreeMap, HashSet},
    sync::Arc,
    time::Duration,
};

use fleet_store::{AuditAction, BatchState, FleetStore, PushBatch, PushState};

use super::*;
use crate::{poll, telemetry::Target, FleetError};

/// What a batch pushes, as a fingerprint kept with the batch: a resume
/// with another plan, template, values or import choice is refused rather
/// than leaving two configurations in one batch. Secret values are left
/// out (the batch row is shared, and a fingerprint of a short password
/// could be guessed), so a changed secret alone is not noticed.
pub(super) fn source_fingerprint(source: &PlanSource) -> String {
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

/// Resumes a batch that was interrupted, paused, stopped or cancelled:
/// pushes to each of its routers that has not succeeded, in the original
/// order and waves. `targets` must reach those routers (the inventory's
/// targets; extra ones are ignored). The push must be the batch's own
/// (same plan or template and values, dry run or not). A router its
/// process left mid-push is settled first (`push::settle_interrupted`).
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
