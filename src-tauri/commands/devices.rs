use std::time::Duration;

use fleet_core::{AddDevice, Checkin, CpuChart, Device};
use tauri::State;

use crate::{AppState, CommandError};

/// How far back the device chart looks, and its resolution.
const CHART_WINDOW: Duration = Duration::from_secs(24 * 3600);
const CHART_POINTS: u32 = 240;

#[tauri::command]
pub async fn list_devices(state: State<'_, AppState>) -> Result<Vec<Device>, CommandError> {
    Ok(state.fleet()?.list_devices().await?)
}

#[tauri::command]
pub async fn add_device(
    state: State<'_, AppState>,
    input: AddDevice,
) -> Result<Device, CommandError> {
    Ok(state.fleet()?.add_device(input).await?)
}

#[tauri::command]
pub async fn poll_device(
    state: State<'_, AppState>,
    device_id: String,
) -> Result<Checkin, CommandError> {
    Ok(state.fleet()?.poll_device(&device_id).await?)
}

#[tauri::command]
pub async fn cpu_chart(
    state: State<'_, AppState>,
    device_id: String,
) -> Result<CpuChart, CommandError> {
    Ok(state
        .fleet()?
        .cpu_chart(&device_id, CHART_WINDOW, CHART_POINTS)
        .await?)
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Backup {
    at: i64,
    /// The backup file on the router.
    file: String,
    /// The router's export before the push, kept in the audit trail.
    export: String,
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceHistory {
    pushes: Vec<fleet_core::fleet_store::PushRecord>,
    /// Audit events, newest first, without the per-step ones.
    events: Vec<fleet_core::fleet_store::AuditEvent>,
    backups: Vec<Backup>,
}

/// A router's pushes, audit trail and the backups its pushes made.
#[tauri::command]
pub async fn device_history(
    state: State<'_, AppState>,
    device_id: String,
) -> Result<DeviceHistory, CommandError> {
    let fleet = state.fleet()?;
    let store = fleet.store();
    let pushes = store.push_records(Some(&device_id), 50).await?;
    let all = store.audit_events(Some(&device_id), 0, 5_000).await?;
    let backups = all
        .iter()
        .filter(|e| e.action == "push.backup")
        .filter_map(|e| {
            let d: serde_json::Value = serde_json::from_str(&e.detail).ok()?;
            Some(Backup {
                at: e.at,
                file: d["file"].as_str()?.to_owned(),
                export: d["export"].as_str().unwrap_or_default().to_owned(),
            })
        })
        .collect();
    let events = all
        .into_iter()
        .filter(|e| e.action != "push.step")
        .take(200)
        .map(|mut e| {
            // The export text lives in `backups`; keep the list light.
            if e.action == "push.backup" {
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
        backups,
    })
}
