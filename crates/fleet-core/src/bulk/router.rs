//! One router of a bulk push: its values, its plan, its push.

use std::{collections::BTreeMap, sync::Arc};

use fleet_store::{AuditAction, FleetStore, PushState};
use routeros::Client;

use super::*;
use crate::{
    plan::{self, Plan},
    poll,
    push::{self, PushOptions, PushStatus},
    telemetry::Target,
    FleetError,
};

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

pub(super) async fn push_one(
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
