//! A router that its own bulk push left mid-push (the process died) is
//! settled when the batch resumes, instead of being refused by pre-flight
//! because of the batch's own safety net. The net is recognised through the
//! interrupted push's audit trail, and then:
//! - every step is in place: the push is verified and confirmed, and
//!   counts as done;
//! - some are not: the router is restored to the backup that push took
//!   (its password is in the keyring), and is pushed again cleanly;
//! - the net is gone (it fired, or someone confirmed it): nothing is
//!   pending, and the router is pushed normally.

use std::time::Duration;

use fleet_store::{AuditAction, FleetStore, PushRecord, PushState};
use routeros::{Client, Command, ConnectOptions};

use super::net::{backup_file, confirm_net, pending_safety_nets, token_of};
use crate::{
    credentials::CredentialStore,
    plan::{self, Outcome, Plan},
    poll,
};

/// What settling found and did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settled {
    /// Every step was in place: verified and confirmed.
    Completed(String),
    /// Restored to the backup taken before the interrupted push; the
    /// router must be reached again (it rebooted) and pushed.
    Restored(String),
    /// Nothing of that push is pending on the router.
    Clear,
}

/// Settles the router behind `client`, whose push `record` was
/// interrupted. `Err`: it could not be settled (said in words); the
/// router is left as it is, with its safety net.
pub async fn settle_interrupted(
    store: &FleetStore,
    client: &Client,
    record: &PushRecord,
    plan: &Plan,
    keys: Option<&CredentialStore>,
    actor: &str,
) -> Result<Settled, String> {
    let trail = store
        .audit_events(Some(&record.device_id), 0, 10_000)
        .await
        .map_err(|e| format!("the interrupted push's audit trail could not be read ({e})"))?;
    let net = trail.iter().find_map(|e| {
        if e.action != AuditAction::PushSafetyNet {
            return None;
        }
        let detail: serde_json::Value = serde_json::from_str(&e.detail).ok()?;
        (detail.get("push")?.as_str()? == record.id)
            .then(|| detail.get("scheduler")?.as_str().map(str::to_owned))
            .flatten()
    });
    // Cut short before its net was armed: nothing was changed.
    let Some(net) = net else {
        return Ok(Settled::Clear);
    };
    let pending = pending_safety_nets(client)
        .await
        .map_err(|e| format!("the router's schedulers could not be read ({e})"))?;
    if !pending.contains(&net) {
        return Ok(Settled::Clear);
    }
    let checkable = plan.readable();
    let all_checkable = checkable.steps.len() == plan.steps.len();
    let in_place = all_checkable
        && plan::apply(client, &checkable, true)
            .await
            .iter()
            .all(|s| s.outcome == Outcome::Unchanged);
    if in_place {
        if !confirm_net(client, &net, keys)
            .await
            .map_err(|e| format!("its safety net {net} could not be removed ({e})"))?
        {
            return Ok(Settled::Clear);
        }
        let message =
            "settled on resume: every step was in place, so the push was verified and confirmed"
                .to_owned();
        finish(
            store,
            record,
            PushState::Succeeded,
            AuditAction::PushConfirmed,
            &net,
            &message,
            actor,
        )
        .await?;
        return Ok(Settled::Completed(message));
    }
    let token = token_of(&net).ok_or_else(|| format!("{net} is not a Fleetdeck safety net"))?;
    let password = keys
        .and_then(|k| k.push_backup(token).ok().flatten())
        .ok_or_else(|| {
            format!("it is half-pushed and the password of its backup is not on this laptop, so it cannot be restored here; its safety net ({net}) restores it, or confirm it by hand")
        })?;
    client
        .run(
            &Command::new("/system/backup/load")
                .attr("name", backup_file(token))
                .attr("password", password.expose()),
        )
        .await
        .map_err(|e| {
            format!("restoring its backup failed ({e}); its safety net ({net}) restores it")
        })?;
    // The router restarts to load it: this session ends.
    let since = std::time::Instant::now();
    while client
        .run(&Command::new("/system/identity/print"))
        .await
        .is_ok()
    {
        if since.elapsed() > Duration::from_secs(120) {
            return Err(format!("the router accepted its backup but did not restart within 120 s; its safety net ({net}) restores it"));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let message = "settled on resume: it was half-pushed, so the backup taken before that push was restored (the router rebooted); it is pushed again".to_owned();
    finish(
        store,
        record,
        PushState::RolledBack,
        AuditAction::PushRolledBack,
        &net,
        &message,
        actor,
    )
    .await?;
    Ok(Settled::Restored(message))
}

/// Reconnects to a router that is rebooting, for up to `within`.
pub async fn reconnect(connect: &ConnectOptions, within: Duration) -> Result<Client, String> {
    let since = std::time::Instant::now();
    loop {
        match Client::connect(connect).await {
            Ok(c) => return Ok(c),
            Err(e) if since.elapsed() >= within => {
                return Err(format!(
                    "it did not answer again within {} s after restoring its backup ({e})",
                    within.as_secs()
                ))
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(250)).await,
        }
    }
}

/// The interrupted push's record and trail say how it was settled.
async fn finish(
    store: &FleetStore,
    record: &PushRecord,
    state: PushState,
    action: AuditAction,
    net: &str,
    message: &str,
    actor: &str,
) -> Result<(), String> {
    let record = super::ended(record.clone(), state, message, poll::now_ms());
    let now = record.updated_at;
    store
        .save_pushes(std::slice::from_ref(&record))
        .await
        .map_err(|e| format!("the push record could not be updated ({e})"))?;
    super::record_event(
        store,
        now,
        Some(&record.device_id),
        actor,
        action,
        serde_json::json!({"push": record.id, "scheduler": net, "by": "resume", "message": message}),
    )
    .await
    .map_err(|e| format!("the audit trail could not be written ({e})"))
}
