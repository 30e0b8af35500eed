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
