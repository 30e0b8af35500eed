//! Background polling: every inventory router with a stored password is
//! polled at the settings' interval (the demo's routers are polled by the
//! demo itself), into check-ins, health changes and alerts. Updated
//! when the inventory or the settings change.

use std::time::Duration;

use fleet_core::{
    demo::DEMO_TAG,
    telemetry::{Health, Telemetry, TelemetryConfig},
};
use serde::Serialize;
use tauri::{AppHandle, Manager, Runtime, State};

use crate::{commands::settings, AppState, CommandError};

#[derive(Default)]
pub struct Polling {
    /// Set when the window starts ([`start`]); until then inventory
    /// changes do not start polling (the command tests drive the app
    /// without it, so their polls are their own).
    armed: bool,
    running: Option<Telemetry>,
    status: PollingStatus,
}

#[derive(Debug, Clone, Default, Serialize)]
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
}

/// Brings polling in line with the inventory and the settings: routers
/// added, changed or removed since the last call start, restart or stop;
/// the others keep polling on their sessions (adding one router does not
/// reconnect the rest). Switched off in the settings, it stops.
pub async fn update<R: Runtime>(app: &AppHandle<R>) -> Result<PollingStatus, CommandError> {
    let state = app.state::<AppState>();
    let fleet = state.fleet()?;
    let settings = settings::load(app)?;
    let mut polling = state.polling.lock().await;
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
        let inv = fleet.inventory_targets(interval, DEMO_TAG).await?;
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
                    fleet.shared_store(),
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

/// Starts background polling for the life of the app.
pub async fn start<R: Runtime>(app: &AppHandle<R>) -> Result<PollingStatus, CommandError> {
    app.state::<AppState>().polling.lock().await.armed = true;
    update(app).await
}

/// [`update`] after an inventory change, whose own result does not
/// depend on polling: a failure is logged, not returned.
pub async fn update_quietly<R: Runtime>(app: &AppHandle<R>) {
    if let Err(e) = update(app).await {
        tracing::warn!("background polling could not be updated: {e}");
    }
}

/// What background polling is doing now.
#[tauri::command]
pub async fn polling_status(state: State<'_, AppState>) -> Result<PollingStatus, CommandError> {
    let polling = state.polling.lock().await;
    let mut status = polling.status.clone();
    if let Some(t) = &polling.running {
        let c = t.counters();
        status.polls_ok = c.polls_ok;
        status.polls_failed = c.polls_failed;
        status.rows_pending = c.rows_pending;
        for h in t.health().values() {
            match h {
                Health::Online => status.online += 1,
                Health::Degraded => status.degraded += 1,
                Health::Offline => status.offline += 1,
                Health::Unknown => {}
            }
        }
    }
    Ok(status)
}
