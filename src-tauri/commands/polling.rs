//! Background polling (`fleet_core::monitoring`), started with the window.

use fleet_core::monitoring::PollingStatus;
use tauri::{AppHandle, Manager, Runtime, State};

use crate::{commands::settings, AppState, CommandError};

/// Starts background polling for the life of the app.
pub async fn start<R: Runtime>(app: &AppHandle<R>) -> Result<PollingStatus, CommandError> {
    let fleet = app.state::<AppState>().fleet()?;
    Ok(fleet.start_polling(&settings::load(app)?).await?)
}

/// What background polling is doing now.
#[tauri::command]
pub async fn polling_status(state: State<'_, AppState>) -> Result<PollingStatus, CommandError> {
    Ok(state.fleet()?.polling_status().await)
}
