//! A router's history as the technician reads it: its pushes, its audit
//! trail, its alerts and the backups its pushes took.

use fleet_store::{AuditAction, AuditEvent, PushRecord};
use serde::Serialize;

use crate::{Fleet, FleetError};

/// A backup a push took before changing the router.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct Backup {
    pub at: i64,
    /// The backup file on the router.
    pub file: String,
    /// The router's export before the push, kept in the audit trail.
    pub export: String,
}

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct DeviceHistory {
    pub pushes: Vec<PushRecord>,
    /// Audit events, newest first, without the per-step ones.
    pub events: Vec<AuditEvent>,
    /// Alerts and health changes, newest first.
    pub alerts: Vec<AuditEvent>,
    pub backups: Vec<Backup>,
}

/// How much of a router's trail is read for its history.
const EVENTS_READ: u32 = 5_000;
const EVENTS_SHOWN: usize = 200;
const ALERTS_SHOWN: usize = 100;

impl Fleet {
    /// A router's pushes, audit trail, alerts and the backups its pushes
    /// made. The export text lives in `backups` only, so the event list
    /// stays light.
    pub async fn device_history(&self, device_id: &str) -> Result<DeviceHistory, FleetError> {
        let store = self.store();
        let pushes = store.push_records(Some(device_id), 50).await?;
        let all = store.audit_events(Some(device_id), 0, EVENTS_READ).await?;
        let backups = all
            .iter()
            .filter(|e| e.action == AuditAction::PushBackup)
            .filter_map(|e| {
                let d: serde_json::Value = serde_json::from_str(&e.detail).ok()?;
                Some(Backup {
                    at: e.at,
                    file: d["file"].as_str()?.to_owned(),
                    export: d["export"].as_str().unwrap_or_default().to_owned(),
                })
            })
            .collect();
        let alerts = all
            .iter()
            .filter(|e| e.action.known().is_some_and(AuditAction::is_alert))
            .take(ALERTS_SHOWN)
            .cloned()
            .collect();
        let events = all
            .into_iter()
            .filter(|e| e.action != AuditAction::PushStep)
            .take(EVENTS_SHOWN)
            .map(|mut e| {
                if e.action == AuditAction::PushBackup {
                    if let Ok(mut d) = serde_json::from_str::<serde_json::Value>(&e.detail) {
                        d["export"] = "(see backups)".into();
                        e.detail = d.to_string();
                    }
                }
                e
            })
            .collect();
        Ok(DeviceHistory {
            pushes,
            events,
            alerts,
            backups,
        })
    }
}
