//! Confirming a push left awaiting confirmation, and settling one whose
//! safety net already fired.

use fleet_store::{AuditAction, FleetStore, PushRecord, PushState};
use routeros::{Client, Command};
use serde::Serialize;

use super::net::confirm_net;
use crate::{credentials::CredentialStore, poll};

/// Confirms an unconfirmed push by hand: removes its safety scheduler, so
/// the router keeps its current configuration. `Ok(false)`: no such net.
pub async fn confirm_safety_net(client: &Client, name: &str) -> Result<bool, routeros::Error> {
    confirm_net(client, name, None).await
}

/// Who is at this laptop, as the audit trail names them: the OS login,
/// else `fleetdeck`.
pub fn technician() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "fleetdeck".into())
}

/// What confirming a push found on the router.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "kebab-case", tag = "outcome")]
pub enum Confirmation {
    /// The safety net was removed: the router keeps its new configuration.
    Confirmed,
    /// The safety net had fired: the router restored its backup and
    /// restarted; the push's changes are undone.
    RestoredByRouter { message: String },
    /// No such safety net, and the router did not restart since the push:
    /// it was removed on the router, outside Fleetdeck.
    NotFound { message: String },
    /// Nothing was done: the net fires too soon to confirm safely, or when
    /// it fires could not be read.
    NotConfirmed { message: String },
}

/// Closer than this to its firing a safety net is not confirmed: the
/// router may already be running its event, and would restore the backup
/// under a push recorded as confirmed.
pub const CONFIRM_GUARD_SECS: i64 = 30;

/// Seconds until the safety net `scheduler` fires, on the router's own
/// clock (its `next-run` against its `/system clock`); `None`: no such net.
async fn seconds_to_firing(client: &Client, scheduler: &str) -> Result<Option<i64>, String> {
    let net = client
        .run(
            &Command::new("/system/scheduler/print")
                .proplist(["next-run"])
                .word(format!("?name={scheduler}")),
        )
        .await
        .map_err(|e| e.to_string())?;
    let Some(row) = net.first() else {
        return Ok(None);
    };
    let next = row
        .get("next-run")
        .and_then(|n| routeros_proto::value::parse_unix_seconds(&n))
        .ok_or("the router did not say when its safety net fires")?;
    let clock = client
        .run(&Command::new("/system/clock/print").proplist(["date", "time"]))
        .await
        .map_err(|e| e.to_string())?;
    let now = clock
        .first()
        .and_then(|c| {
            let (date, time) = (c.get("date")?, c.get("time")?);
            routeros_proto::value::parse_unix_seconds(&format!("{date} {time}"))
        })
        .ok_or("the router did not say what time it is")?;
    Ok(Some(next - now))
}

/// Confirms a push left awaiting confirmation by the technician: removes
/// its safety net, marks its push record succeeded (for a router in the
/// inventory, `device_id`) and records who confirmed. When the net is gone
/// the router is asked why: a restart since the push means the net fired
/// and restored the backup, and the push record says so.
pub async fn confirm(
    store: &FleetStore,
    client: &Client,
    device_id: Option<&str>,
    scheduler: &str,
    actor: &str,
    keys: Option<&CredentialStore>,
) -> Result<Confirmation, crate::FleetError> {
    let now = poll::now_ms();
    let awaiting = match device_id {
        Some(id) => awaiting_record(store, id, scheduler).await?,
        None => None,
    };
    match seconds_to_firing(client, scheduler).await {
        Ok(Some(left)) if left < CONFIRM_GUARD_SECS => {
            return Ok(Confirmation::NotConfirmed {
                message: format!("the safety net ({scheduler}) fires in {} s, too soon to confirm safely: the router may already be restoring its backup. Nothing was confirmed; let it restore, then push again", left.max(0)),
            })
        }
        Ok(_) => {}
        Err(why) => {
            return Ok(Confirmation::NotConfirmed {
                message: format!("{why}, so whether it is about to fire cannot be checked; nothing was confirmed"),
            })
        }
    }
    if !confirm_net(client, scheduler, keys).await? {
        return settle_gone(store, client, device_id, scheduler, actor, awaiting).await;
    }
    if let Some(record) = awaiting {
        let record = super::ended(
            record,
            PushState::Succeeded,
            &format!("confirmed by {actor}"),
            now,
        );
        store.save_pushes(&[record]).await?;
    }
    super::record_event(
        store,
        now,
        device_id,
        actor,
        AuditAction::PushConfirmed,
        serde_json::json!({"scheduler": scheduler, "by": "hand", "router": client.addr()}),
    )
    .await?;
    Ok(Confirmation::Confirmed)
}

/// The push record awaiting confirmation that armed `scheduler` (its
/// summary names it), else the router's latest one awaiting.
async fn awaiting_record(
    store: &FleetStore,
    device_id: &str,
    scheduler: &str,
) -> Result<Option<PushRecord>, crate::FleetError> {
    let awaiting: Vec<PushRecord> = store
        .push_records(Some(device_id), 50)
        .await?
        .into_iter()
        .filter(|p| p.status == PushState::AwaitingConfirmation)
        .collect();
    Ok(awaiting
        .iter()
        .find(|p| p.summary.contains(scheduler))
        .or(awaiting.first())
        .cloned())
}

/// The safety net is gone. The router's uptime says whether it restarted
/// since the push: if so the net fired and restored the backup. Both
/// findings go to the push record and the audit trail.
async fn settle_gone(
    store: &FleetStore,
    client: &Client,
    device_id: Option<&str>,
    scheduler: &str,
    actor: &str,
    awaiting: Option<PushRecord>,
) -> Result<Confirmation, crate::FleetError> {
    let now = poll::now_ms();
    let uptime = client
        .run(&Command::new("/system/resource/print").proplist(["uptime"]))
        .await?
        .first()
        .and_then(|r| r.get("uptime").map(|u| u.into_owned()))
        .as_deref()
        .and_then(routeros_proto::value::parse_duration_secs);
    // Since when the net was armed: the push's end, else its start.
    let armed_at = awaiting
        .as_ref()
        .map(|r| r.finished_at.unwrap_or(r.started_at));
    // Without a push record there is no moment to compare the uptime
    // with: only what is known is said.
    let restarted = match (uptime, armed_at) {
        (Some(up), Some(at)) => i64::try_from(up).unwrap_or(i64::MAX) * 1000 < now - at,
        _ => false,
    };
    if !restarted {
        // Not settled without evidence: a net that fired a moment ago has
        // the router restoring its backup and about to restart.
        let message = if armed_at.is_some() && uptime.is_some() {
            format!("the safety net ({scheduler}) is no longer on the router and the router has not restarted since the push: either it is restoring its backup right now, or the net was removed on the router by hand (then it keeps the pushed configuration). Nothing was confirmed; check again in a minute")
        } else {
            format!("no safety net {scheduler} on this router: it was confirmed or it fired already; check the router's configuration")
        };
        return Ok(Confirmation::NotFound { message });
    }
    let message = format!(
        "not confirmed in time: the safety net ({scheduler}) fired and the router restored its backup (it restarted {} ago); the push's changes are undone",
        routeros_proto::value::format_duration(uptime.unwrap_or_default())
    );
    let (state, action) = (
        PushState::RestoredByRouter,
        AuditAction::PushRestoredByRouter,
    );
    let outcome = Confirmation::RestoredByRouter {
        message: message.clone(),
    };
    if let Some(record) = awaiting {
        let record = super::ended(record, state, &message, now);
        store.save_pushes(std::slice::from_ref(&record)).await?;
        super::record_event(
            store,
            now,
            device_id,
            actor,
            action,
            serde_json::json!({
                "push": record.id,
                "scheduler": scheduler,
                "uptime": uptime,
                "message": message,
            }),
        )
        .await?;
    }
    Ok(outcome)
}
