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
    /// The configuration version the push's export is.
    pub version_id: Option<String>,
    /// The router's export before the push (normalised when it is a
    /// version).
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
        let versions = store.config_versions(Some(device_id), u32::MAX).await?;
        let mut backups = Vec::new();
        for e in all.iter().filter(|e| e.action == AuditAction::PushBackup) {
            let Ok(d) = serde_json::from_str::<serde_json::Value>(&e.detail) else {
                continue;
            };
            let Some(file) = d["file"].as_str() else {
                continue;
            };
            // The export is a configuration version (or, from before
            // versions, or where one could not be stored, in the trail).
            let version = d["version"]
                .as_str()
                .and_then(|id| versions.iter().find(|v| v.id == id));
            let export = match version {
                Some(v) => store.config_text(&v.hash).await?.unwrap_or_default(),
                None => d["export"].as_str().unwrap_or_default().to_owned(),
            };
            backups.push(Backup {
                at: e.at,
                file: file.to_owned(),
                version_id: version.map(|v| v.id.clone()),
                export,
            });
        }
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
