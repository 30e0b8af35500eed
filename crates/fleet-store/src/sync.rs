//! Sync between the embedded store and the shared database.
//!
//! Two moves, both idempotent:
//!
//! - **Deliver** the outbox: records made on site (check-ins, devices,
//!   sites, templates, audit events, push records) were queued in the same
//!   transaction that stored them. Each queued entry is applied to the
//!   destination in one transaction and removed from the outbox only after
//!   that succeeded. An interruption at any point leaves the entry queued;
//!   applying it again stores nothing twice, because every record has a
//!   stable key (check-ins: device and time; the rest: UUIDv7).
//! - **Snapshot**: copy the shared database's sites, templates, devices,
//!   latest state, hourly rollups before the window, the check-ins of the
//!   window, and every audit event and push record into the embedded store, so a
//!   technician can review the fleet offline.
//!
//! Conflict rule for records edited on both sides (sites, templates,
//! devices, push records): the edit with the newer `updated_at` wins, on
//! either side; on a tie the destination keeps its copy. Check-ins and
//! audit events are never edited, so they cannot conflict. Latest state:
//! the newer poll wins. Rollups for hours before the window are the
//! source's (it holds every check-in of those hours); rollups inside the
//! window are rebuilt from the check-ins copied.

use serde::{Deserialize, Serialize};

use crate::{
    model::{
        hour_of, AuditEvent, Checkin, ConfigRuleRecord, ConfigVersion, ConfigVersionRecord,
        DeviceRecord, PushRecord, Site, Template,
    },
    FleetStore, OutboxEntry, StoreError,
};

/// What a sync did, for the UI and the CLI.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct SyncReport {
    /// Outbox entries delivered and the records they held.
    pub entries_delivered: u64,
    pub records_delivered: u64,
    /// Delivered records the destination already had.
    pub already_there: u64,
    pub sites: u64,
    pub templates: u64,
    pub devices: u64,
    pub latest: u64,
    pub rollups: u64,
    /// Configuration versions copied down.
    pub config_versions: u64,
    pub checkins: u64,
    pub audit_events: u64,
    pub pushes: u64,
}

/// Entries read from the outbox per round trip.
const PEEK: u32 = 64;

/// Delivers `from`'s outbox to `to`, oldest first, until it is empty.
/// Stops at the first entry that cannot be applied and returns that error;
/// everything not yet delivered stays queued.
pub async fn deliver_outbox(from: &FleetStore, to: &FleetStore) -> Result<SyncReport, StoreError> {
    let mut report = SyncReport::default();
    loop {
        let entries = from.outbox_peek(PEEK).await?;
        if entries.is_empty() {
            return Ok(report);
        }
        for entry in entries {
            let applied = apply(from, to, &entry).await?;
            from.outbox_remove(entry.seq).await?;
            report.entries_delivered += 1;
            report.records_delivered += entry.records as u64;
            report.already_there += (entry.records as u64).saturating_sub(applied);
        }
    }
}

fn decode<T: for<'de> Deserialize<'de>>(e: &OutboxEntry) -> Result<T, StoreError> {
    serde_json::from_str(&e.payload)
        .map_err(|err| StoreError::Payload(format!("outbox entry {} ({}): {err}", e.seq, e.kind)))
}

/// Applies one queued entry of `from`'s outbox to `to`; returns how many
/// of its records were new.
async fn apply(from: &FleetStore, to: &FleetStore, e: &OutboxEntry) -> Result<u64, StoreError> {
    Ok(match e.kind.as_str() {
        "checkins" => {
            let batch: Vec<Checkin> = decode(e)?;
            to.ingest(batch, false).await?.inserted
        }
        "device" => to.save_devices_unqueued(vec![decode(e)?]).await?,
        "site" => u64::from(to.save_site_unqueued(&decode::<Site>(e)?).await?),
        "template" => u64::from(to.save_template_unqueued(&decode::<Template>(e)?).await?),
        "config-rule" => u64::from(
            to.save_config_rule_unqueued(&decode::<ConfigRuleRecord>(e)?)
                .await?,
        ),
        "audit" => to.record_audit_unqueued(decode(e)?).await?,
        "push" => to.save_pushes_unqueued(decode(e)?).await?,
        "config" => {
            let version: ConfigVersion = decode(e)?;
            let text = from.config_text(&version.hash).await?.ok_or_else(|| {
                StoreError::Payload(format!(
                    "outbox entry {}: the text of configuration version {} is missing",
                    e.seq, version.id
                ))
            })?;
            u64::from(
                to.save_config_version_unqueued(ConfigVersionRecord { version, text })
                    .await?,
            )
        }
        "config-secret" => {
            let version_id: String = decode(e)?;
            let body = from.config_secret(&version_id).await?.ok_or_else(|| {
                StoreError::Payload(format!(
                    "outbox entry {}: the sealed export of configuration version {version_id} is missing",
                    e.seq
                ))
            })?;
            to.save_config_secret_unqueued(&version_id, &body).await?;
            1
        }
        other => {
            return Err(StoreError::Payload(format!(
                "outbox entry {} has unknown kind {other:?}; a newer Fleetdeck queued it",
                e.seq
            )))
        }
    })
}

/// Copies a snapshot of `from` into `to`, with raw check-ins from
/// `since_ms` (rounded down to the hour) on and hourly rollups before.
///
/// Only into an embedded store: copying rollups into the shared database
/// would overwrite hours it knows better. Deliver `to`'s own outbox to
/// `from` first (see [`sync`]), so nothing made on site is overwritten.
pub async fn snapshot(
    from: &FleetStore,
    to: &FleetStore,
    since_ms: i64,
) -> Result<SyncReport, StoreError> {
    if !to.is_embedded() {
        return Err(StoreError::Payload(
            "a snapshot is copied into the embedded store only; to send records to the shared database, deliver the outbox".into(),
        ));
    }
    let mut report = SyncReport::default();
    let window = hour_of(since_ms);
    for site in from.list_sites().await? {
        report.sites += u64::from(to.save_site_unqueued(&site).await?);
    }
    for t in from.list_templates().await? {
        report.templates += u64::from(to.save_template_unqueued(&t).await?);
    }
    // Compliance rules travel with the templates: few, and edited alike.
    for r in from.list_config_rules().await? {
        report.templates += u64::from(to.save_config_rule_unqueued(&r).await?);
    }
    let devices: Vec<DeviceRecord> = from.device_records().await?;
    report.devices = to.save_devices_unqueued(devices.clone()).await?;
    report.latest = to.merge_latest(&from.latest_states().await?).await?;

    let mut rollups = Vec::new();
    for d in &devices {
        rollups.extend(from.hourly_rollups(&d.id, window).await?);
        if rollups.len() >= 20_000 {
            report.rollups += rollups.len() as u64;
            to.replace_rollups(&std::mem::take(&mut rollups), &[])
                .await?;
        }
    }
    report.rollups += rollups.len() as u64;
    let fleet = from.fleet_rollups(window).await?;
    to.replace_rollups(&rollups, &fleet).await?;

    let mut batch = Vec::new();
    for d in &devices {
        batch.extend(from.checkins_of(&d.id, window, i64::MAX).await?);
        if batch.len() >= 20_000 {
            report.checkins += to.ingest(std::mem::take(&mut batch), false).await?.inserted;
        }
    }
    report.checkins += to.ingest(batch, false).await?.inserted;

    // The audit trail is small next to check-ins and is kept whole, for the
    // routers of the inventory copied above (and fleet-wide events): an
    // event or push written into the shared database for a router that is
    // not in it names nothing this laptop knows and is left there.
    let known: std::collections::HashSet<&str> = devices.iter().map(|d| d.id.as_str()).collect();
    let audit: Vec<AuditEvent> = from
        .audit_events(None, i64::MIN, u32::MAX)
        .await?
        .into_iter()
        .filter(|e| e.device_id.as_deref().is_none_or(|id| known.contains(id)))
        .collect();
    report.audit_events = to.record_audit_unqueued(audit).await?;
    let pushes: Vec<PushRecord> = from
        .push_records(None, u32::MAX)
        .await?
        .into_iter()
        .filter(|p| known.contains(p.device_id.as_str()))
        .collect();
    report.pushes = to.save_pushes_unqueued(pushes).await?;

    // Configuration history, whole, for offline review: only the versions
    // this copy does not have yet are fetched, each with its text.
    let have: std::collections::HashSet<String> = to
        .config_versions(None, u32::MAX)
        .await?
        .into_iter()
        .map(|v| v.id)
        .collect();
    for version in from.config_versions(None, u32::MAX).await? {
        if have.contains(&version.id) || !known.contains(version.device_id.as_str()) {
            continue;
        }
        let Some(text) = from.config_text(&version.hash).await? else {
            continue;
        };
        // Sealed: only a laptop with the key can open it.
        if let Some(body) = from.config_secret(&version.id).await? {
            to.save_config_secret_unqueued(&version.id, &body).await?;
        }
        report.config_versions += u64::from(
            to.save_config_version_unqueued(ConfigVersionRecord { version, text })
                .await?,
        );
    }
    Ok(report)
}

/// A full sync of a laptop: deliver the embedded store's outbox to the
/// shared database, then pull a snapshot back for offline review.
pub async fn sync(
    embedded: &FleetStore,
    shared: &FleetStore,
    since_ms: i64,
) -> Result<SyncReport, StoreError> {
    let up = deliver_outbox(embedded, shared).await?;
    let down = snapshot(shared, embedded, since_ms).await?;
    Ok(SyncReport {
        entries_delivered: up.entries_delivered,
        records_delivered: up.records_delivered,
        already_there: up.already_there,
        ..down
    })
}

/// One direction of a sync, as `fleetdeck-cli sync --from --to` runs it:
/// `from`'s outbox is delivered to `to`; when `to` is an embedded store it
/// also gets a snapshot of `from` (check-ins since `since_ms`) for offline
/// review. [`sync`] is both directions for a laptop.
pub async fn transfer(
    from: &FleetStore,
    to: &FleetStore,
    since_ms: i64,
) -> Result<SyncReport, StoreError> {
    let up = deliver_outbox(from, to).await?;
    if !to.is_embedded() {
        return Ok(up);
    }
    let down = snapshot(from, to, since_ms).await?;
    Ok(SyncReport {
        entries_delivered: up.entries_delivered,
        records_delivered: up.records_delivered,
        already_there: up.already_there,
        ..down
    })
}
