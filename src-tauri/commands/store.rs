use fleet_core::credentials::CredentialBackend;
use serde::Serialize;
use tauri::State;

use crate::{AppState, CommandError};

#[derive(Serialize, ts_rs::TS)]
pub struct CredentialInfo {
    backend: CredentialBackend,
    warning: Option<String>,
}

#[derive(Serialize, ts_rs::TS)]
pub struct StoreInfo {
    backend: &'static str,
    location: String,
    credentials: CredentialInfo,
}

/// Which store the app is on and where passwords are kept.
#[tauri::command]
pub async fn store_info(state: State<'_, AppState>) -> Result<StoreInfo, CommandError> {
    let fleet = state.fleet()?;
    Ok(StoreInfo {
        backend: fleet.store().backend_name(),
        location: fleet.store().location(),
        credentials: CredentialInfo {
            backend: fleet.credentials().backend(),
            warning: fleet.credentials().warning(),
        },
    })
}

/// The diagnostics text for a support request: versions, where the data
/// is, how polling and the shared database are doing, the end of the log;
/// secrets taken out (`fleet_core::diagnostics`).
#[tauri::command]
pub async fn diagnostics(state: State<'_, AppState>) -> Result<String, CommandError> {
    let fleet = state.fleet()?;
    let data_dir = fleet_core::fleet_store::default_data_dir()?;
    Ok(fleet.diagnostics(&data_dir).await)
}
