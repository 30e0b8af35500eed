//! Background polling of the inventory: every router with a stored
//! password (and an address it was entered for) is polled at the
//! settings' interval into check-ins, health changes and alerts. The
//! demo's routers are left to the demo. One engine per [`Fleet`], brought
//! in line with the inventory and the settings by [`Fleet::update_polling`].

use std::time::Duration;

use serde::Serialize;

use crate::{
    demo::DEMO_TAG,
    settings::Settings,
    telemetry::{Health, Telemetry, TelemetryConfig},
    Fleet, FleetError,
};

/// The fleet's background polling: off until armed, so a front end that
/// only runs one command (the CLI, the command tests) never starts it.
#[derive(Default)]
pub struct Monitoring {
    armed: bool,
    running: Option<Telemetry>,
    status: PollingStatus,
}

#[derive(Debug, Clone, Default, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct PollingStatus {
    pub enabled: bool,
    pub interval_secs: u32,
    /// Routers being polled.
    pub routers: usize,
    /// Routers left out: no password stored for them.
    pub without_password: usize,
    /// Moved by a sync or an edit since their password was entered: not
    /// polled until the new address is confirmed on this laptop.
    pub address_changed: usize,
    pub online: usize,
    pub degraded: usize,
    pub offline: usize,
    pub polls_ok: u64,
    pub polls_failed: u64,
    /// Check-ins waiting for the store.
    pub rows_pending: u64,
    /// Check-ins kept on disk while the shared database is down.
    pub rows_spooled: u64,
    /// Check-ins the database refused, put aside (`quarantine.jsonl`).
    pub rows_quarantined: u64,
}

impl Fleet {
    /// Arms background polling for the life of this fleet (the app does
    /// when its window opens) and starts it as `settings` say.
    pub async fn start_polling(&self, settings: &Settings) -> Result<PollingStatus, FleetError> {
        self.monitoring.lock().await.armed = true;
        self.update_polling(settings).await
    }

    /// Stops background polling for good and stores what it has pending,
    /// within the engine's bound: the app calls it as it exits (window
    /// closed, SIGTERM), so the check-ins of the last interval are kept.
    pub async fn stop_polling(&self) -> Option<crate::telemetry::CounterSnapshot> {
        let mut polling = self.monitoring.lock().await;
        polling.armed = false;
        let running = polling.running.take()?;
        let c = running.stop().await;
        tracing::info!(
            stored = c.rows_written,
            pending = c.rows_pending,
            on_disk = c.rows_spooled,
            "background polling stopped for exit: {} check-ins stored, {} kept on disk for the database, {} not stored",
            c.rows_written,
            c.rows_spooled,
            c.rows_pending
        );
        Some(c)
    }

    /// Brings polling in line with the inventory and `settings`: routers
    /// added, changed or removed since the last call start, restart or
    /// stop; the others keep polling on their sessions (adding one router
    /// does not reconnect the rest). Switched off in the settings, it
    /// stops. Before [`Fleet::start_polling`] it does nothing.
    pub async fn update_polling(&self, settings: &Settings) -> Result<PollingStatus, FleetError> {
        let mut polling = self.monitoring.lock().await;
        if !polling.armed {
            return Ok(polling.status.clone());
        }
        let interval = Duration::from_secs(settings.poll_interval_secs.into());
        let mut status = PollingStatus {
            enabled: settings.background_polling,
            interval_secs: settings.poll_interval_secs,
            ..PollingStatus::default()
        };
        if !settings.background_polling {
            if let Some(t) = polling.running.take() {
                t.stop().await;
                tracing::info!("background polling stopped");
            }
        } else {
            let inv = self.inventory_targets(interval, DEMO_TAG).await?;
            status.routers = inv.targets.len();
            status.without_password = inv.without_password;
            status.address_changed = inv.address_changed;
            match polling.running.as_mut() {
                Some(t) => {
                    let changes = t.retarget(inv.targets);
                    tracing::info!(
                        routers = status.routers,
                        added = changes.added,
                        changed = changes.changed,
                        removed = changes.removed,
                        "background polling updated"
                    );
                }
                None if !inv.targets.is_empty() => {
                    tracing::info!(
                        routers = status.routers,
                        interval_secs = status.interval_secs,
                        "background polling started"
                    );
                    polling.running = Some(Telemetry::start(
                        self.shared_store(),
                        inv.targets,
                        TelemetryConfig::default(),
                    ));
                }
                None => {}
            }
        }
        polling.status = status.clone();
        Ok(status)
    }

    /// [`Fleet::update_polling`] after an inventory change, whose own result
    /// does not depend on polling: a failure is logged, not returned.
    pub async fn update_polling_quietly(&self, settings: &Settings) {
        if let Err(e) = self.update_polling(settings).await {
            tracing::warn!("background polling could not be updated: {e}");
        }
    }

    /// What background polling is doing now, with the engine's counters
    /// and each router's health.
    pub async fn polling_status(&self) -> PollingStatus {
        let polling = self.monitoring.lock().await;
        let mut status = polling.status.clone();
        if let Some(t) = &polling.running {
            let c = t.counters();
            status.polls_ok = c.polls_ok;
            status.polls_failed = c.polls_failed;
            status.rows_pending = c.rows_pending;
            status.rows_spooled = c.rows_spooled;
            status.rows_quarantined = c.rows_quarantined;
            for h in t.health().values() {
                match h {
                    Health::Online => status.online += 1,
                    Health::Degraded => status.degraded += 1,
                    Health::Offline => status.offline += 1,
                    Health::Unknown => {}
                }
            }
        }
        status
    }
}
