//! The router list as the front ends show it: each inventory router with
//! its state judged here, once ([`HealthThresholds::state`]), against the
//! poll interval set, so the list, the detail and the overview's counts
//! cannot disagree.

use std::time::Duration;

use serde::Serialize;

use crate::{
    fleet_store::{Device, HealthThresholds, RouterState},
    Checkin, Fleet, FleetError,
};

/// An inventory router and where it stands.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct Router {
    #[serde(flatten)]
    pub device: Device,
    pub state: RouterState,
}

impl Fleet {
    /// Every router with its state at `now_ms`, judged against polls every
    /// `interval` (the settings' poll interval).
    pub async fn list_routers(
        &self,
        interval: Duration,
        now_ms: i64,
    ) -> Result<Vec<Router>, FleetError> {
        Ok(self
            .store()
            .list_devices()
            .await?
            .into_iter()
            .map(|device| Router::judged(device, interval, now_ms))
            .collect())
    }
}

impl Fleet {
    /// The router's last check-in in the store, whoever polled it
    /// (background polling, another laptop through a sync): what its
    /// detail shows. `None` before the first check-in, or when only hourly
    /// rollups of it were copied here.
    pub async fn latest_checkin(&self, device_id: &str) -> Result<Option<Checkin>, FleetError> {
        let device = self.store().get_device(device_id).await?;
        let Some(at) = device.last_checkin_at else {
            return Ok(None);
        };
        let latest = self.store().checkins_of(device_id, at, at).await?.pop();
        Ok(latest.map(|mut k| {
            k.identity = device.identity.unwrap_or_default();
            k.board_name = device.board.unwrap_or_default();
            k.serial = device.serial;
            k
        }))
    }
}

impl Router {
    /// `device` with its state at `now_ms` for polls every `interval`.
    pub fn judged(device: Device, interval: Duration, now_ms: i64) -> Router {
        Router {
            state: thresholds(interval).state(device.last_checkin_at, now_ms),
            device,
        }
    }
}

/// The thresholds for polls every `interval` (at least 5 s, as the
/// settings allow).
pub fn thresholds(interval: Duration) -> HealthThresholds {
    HealthThresholds::for_interval_secs(interval.as_secs().clamp(5, u64::from(u32::MAX)) as u32)
}
