//! Scheduled backups: every router backed up once per its interval (daily
//! by default; per site or tag where the technician says otherwise). A
//! router is due when its last attempt, a backup that reached it or one
//! that failed, is an interval old, so a router that failed is tried again
//! at the next run, not hammered in between. The app runs the schedule in
//! the background; `fleetdeck-cli backup --due` runs it from cron.

use std::time::Duration;

use fleet_store::AuditAction;
use serde::{Deserialize, Serialize};

use crate::{
    compliance::RuleScope,
    configs::{BackupOptions, BackupReport},
    poll, Fleet, FleetError,
};

/// How often the app looks for routers that are due.
pub const TICK: Duration = Duration::from_secs(5 * 60);

/// An interval for the routers of a site or with a tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleOverride {
    pub scope: RuleScope,
    /// 0: these routers are not backed up on a schedule.
    pub every_hours: u32,
}

/// When routers are backed up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase", default)]
pub struct BackupSchedule {
    /// 0: no scheduled backups.
    pub every_hours: u32,
    /// The first that covers a router decides its interval.
    pub overrides: Vec<ScheduleOverride>,
}

impl Default for BackupSchedule {
    fn default() -> Self {
        Self {
            every_hours: 24,
            overrides: Vec::new(),
        }
    }
}

impl BackupSchedule {
    pub fn validate(&self) -> Result<(), FleetError> {
        let hours =
            std::iter::once(self.every_hours).chain(self.overrides.iter().map(|o| o.every_hours));
        if hours.into_iter().any(|h| h > 24 * 30) {
            return Err(FleetError::InvalidInput(
                "a backup interval is at most 720 hours (30 days); 0 switches it off".into(),
            ));
        }
        Ok(())
    }

    /// A router's interval; `None` when it is not scheduled.
    fn interval(&self, site_id: Option<&str>, tags: &[String]) -> Option<i64> {
        let hours = self
            .overrides
            .iter()
            .find(|o| o.scope.covers(site_id, tags))
            .map_or(self.every_hours, |o| o.every_hours);
        (hours > 0).then_some(i64::from(hours) * 3_600_000)
    }
}

impl Fleet {
    /// The routers whose backup is due at `now` (ms) under `schedule`.
    pub async fn backups_due(
        &self,
        schedule: &BackupSchedule,
        now: i64,
    ) -> Result<Vec<String>, FleetError> {
        let store = self.store();
        let latest = store.latest_config_versions().await?;
        let failures = store.audit_events(None, 0, 10_000).await?;
        Ok(store
            .list_devices()
            .await?
            .into_iter()
            .filter_map(|d| {
                let every = schedule.interval(d.site_id.as_deref(), &d.tags)?;
                let reached = latest
                    .iter()
                    .find(|v| v.device_id == d.id)
                    .map(|v| v.checked_at);
                let failed = failures
                    .iter()
                    .filter(|e| e.action.known() == Some(AuditAction::ConfigBackupFailed))
                    .find(|e| e.device_id.as_deref() == Some(d.id.as_str()))
                    .map(|e| e.at);
                let last = reached.max(failed);
                last.is_none_or(|at| now - at >= every).then_some(d.id)
            })
            .collect())
    }

    /// Backs up the routers due now; `None` when none is.
    pub async fn backup_due(
        &self,
        schedule: &BackupSchedule,
        opts: &BackupOptions,
    ) -> Result<Option<BackupReport>, FleetError> {
        let due = self.backups_due(schedule, poll::now_ms()).await?;
        if due.is_empty() {
            return Ok(None);
        }
        tracing::info!(routers = due.len(), "scheduled backup");
        self.backup(Some(due), opts).await.map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_override_that_covers_a_router_decides_its_interval() {
        let s = BackupSchedule {
            every_hours: 24,
            overrides: vec![
                ScheduleOverride {
                    scope: RuleScope::Tag { tag: "core".into() },
                    every_hours: 1,
                },
                ScheduleOverride {
                    scope: RuleScope::Site {
                        site_id: "lab".into(),
                    },
                    every_hours: 0,
                },
            ],
        };
        let core = vec!["core".to_owned()];
        assert_eq!(s.interval(Some("lab"), &core), Some(3_600_000));
        assert_eq!(s.interval(Some("lab"), &[]), None);
        assert_eq!(s.interval(None, &[]), Some(24 * 3_600_000));
        assert!(s.validate().is_ok());
        let too_long = BackupSchedule {
            every_hours: 24 * 31,
            overrides: vec![],
        };
        assert!(too_long.validate().is_err());
    }
}
