use fleet_core::{
    chart::Theme,
    credentials::Sensitive,
    live::Interface,
    monitors::MonitorEvent,
    routers::Router,
    sweep::{PollProgress, PollSweep},
    AddDevice, Checkin, CredentialStatus, DeviceCharts, ImportReport,
};
use serde::{Deserialize, Serialize};
use tauri::{ipc::Channel, AppHandle, Runtime, State};

use crate::{commands::settings, AppState, CommandError};

/// Points per device chart: enough for a smooth line at the chart's width.
const CHART_POINTS: u32 = 240;
/// The longest chart window offered (older data is in the hourly rollups
/// of the shared store).
const MAX_WINDOW_SECS: u64 = 90 * 86_400;

/// Every router with its state, judged against polls every
/// `interval_secs` (the settings' interval, as the overview is).
#[tauri::command]
pub async fn list_devices(
    state: State<'_, AppState>,
    interval_secs: u32,
) -> Result<Vec<Router>, CommandError> {
    Ok(state
        .fleet()?
        .list_routers(
            std::time::Duration::from_secs(interval_secs.into()),
            fleet_core::poll::now_ms(),
        )
        .await?)
}

#[tauri::command]
pub async fn add_device<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    input: AddDevice,
) -> Result<Router, CommandError> {
    let device = state.fleet()?.add_device(input).await?;
    settings::update_polling(&app, &state).await;
    let interval = std::time::Duration::from_secs(settings::load(&app)?.poll_interval_secs.into());
    Ok(Router::judged(device, interval, fleet_core::poll::now_ms()))
}

#[derive(Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct ImportRequest {
    /// The inventory CSV or a `host[:port]`-per-line list.
    text: String,
    /// For rows that name no user.
    username: String,
    /// Stored in the keyring for each router added; empty: none.
    #[ts(as = "String")]
    password: Sensitive<String>,
}

/// Adds the routers of an inventory CSV; routers already known are kept.
#[tauri::command]
pub async fn import_inventory<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    request: ImportRequest,
) -> Result<ImportReport, CommandError> {
    let password = (!request.password.expose().is_empty()).then_some(&request.password);
    let report = state
        .fleet()?
        .import_inventory(&request.text, &request.username, password)
        .await?;
    settings::update_polling(&app, &state).await;
    Ok(report)
}

#[derive(Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct SiteName {
    id: String,
    name: String,
}

/// Sites by id, for the router list's site filter.
#[tauri::command]
pub async fn list_sites(state: State<'_, AppState>) -> Result<Vec<SiteName>, CommandError> {
    let mut sites: Vec<SiteName> = state
        .fleet()?
        .store()
        .list_sites()
        .await?
        .into_iter()
        .map(|s| SiteName {
            id: s.id,
            name: s.name,
        })
        .collect();
    sites.sort_by_key(|s| s.name.to_lowercase());
    Ok(sites)
}

#[tauri::command]
pub async fn poll_device(
    state: State<'_, AppState>,
    device_id: String,
) -> Result<Checkin, CommandError> {
    Ok(state.fleet()?.poll_device(&device_id).await?)
}

/// The router's last check-in in the store, for its detail.
#[tauri::command]
pub async fn latest_checkin(
    state: State<'_, AppState>,
    device_id: String,
) -> Result<Option<Checkin>, CommandError> {
    Ok(state.fleet()?.latest_checkin(&device_id).await?)
}

/// "Poll checked": polls the routers, a few at a time, reporting each on
/// `on_progress` as it answers.
#[tauri::command]
pub async fn poll_devices(
    state: State<'_, AppState>,
    device_ids: Vec<String>,
    on_progress: Channel<PollProgress>,
) -> Result<PollSweep, CommandError> {
    Ok(state
        .fleet()?
        .poll_devices(&device_ids, |p| {
            let _ = on_progress.send(p);
        })
        .await)
}

/// Where this laptop's password for a router stands: kept for its
/// address, missing, or kept for an address a sync or an edit moved it
/// away from.
#[tauri::command]
pub async fn credential_status(
    state: State<'_, AppState>,
    device_id: String,
) -> Result<CredentialStatus, CommandError> {
    Ok(state.fleet()?.credential_status(&device_id).await?)
}

/// The technician confirms a moved router's new address: its password is
/// sent there from now on, and background polling takes it up.
#[tauri::command]
pub async fn confirm_router_address<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    device_id: String,
) -> Result<(), CommandError> {
    state
        .fleet()?
        .confirm_address(&device_id, &fleet_core::push::technician())
        .await?;
    settings::update_polling(&app, &state).await;
    Ok(())
}

/// CPU, memory and traffic charts of a router over the last `window_secs`.
#[tauri::command]
pub async fn device_charts(
    state: State<'_, AppState>,
    device_id: String,
    window_secs: u64,
    theme: Theme,
) -> Result<DeviceCharts, CommandError> {
    if !(60..=MAX_WINDOW_SECS).contains(&window_secs) {
        return Err(CommandError::invalid(
            "the chart window is between one minute and 90 days",
        ));
    }
    let to = fleet_core::poll::now_ms();
    let from = to - (window_secs * 1000) as i64;
    Ok(state
        .fleet()?
        .device_charts(&device_id, from, to, CHART_POINTS, theme)
        .await?)
}

/// The router's interfaces, for the live traffic monitor.
#[tauri::command]
pub async fn list_interfaces(
    state: State<'_, AppState>,
    device_id: String,
) -> Result<Vec<Interface>, CommandError> {
    Ok(state.fleet()?.interfaces(&device_id).await?)
}

/// Streams one interface's traffic on `on_event` until [`stop_monitor`]
/// or the window goes away; returns the monitor's id at once.
#[tauri::command]
pub async fn start_monitor(
    state: State<'_, AppState>,
    device_id: String,
    interface: String,
    on_event: Channel<MonitorEvent>,
) -> Result<u64, CommandError> {
    Ok(state
        .fleet()?
        .start_monitor(&device_id, &interface, move |e| on_event.send(e).is_ok())
        .await?)
}

/// Stops a traffic monitor (the router is sent `/cancel`).
#[tauri::command]
pub async fn stop_monitor(state: State<'_, AppState>, id: u64) -> Result<(), CommandError> {
    state.fleet()?.stop_monitor(id);
    Ok(())
}

/// A router's pushes, audit trail and the backups its pushes made.
#[tauri::command]
pub async fn device_history(
    state: State<'_, AppState>,
    device_id: String,
) -> Result<fleet_core::history::DeviceHistory, CommandError> {
    Ok(state.fleet()?.device_history(&device_id).await?)
}
