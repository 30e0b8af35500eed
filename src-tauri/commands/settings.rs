//! The technician's settings (`fleet_core::settings`): one file in the
//! data folder, written here through `tauri-plugin-store` and read by the
//! CLI too. Credentials are never here: they live in the keyring.

use std::sync::Arc;

use fleet_core::settings::{self, Settings, SETTINGS_KEY};
use tauri::{AppHandle, Runtime, State};
use tauri_plugin_store::{Store, StoreExt};

use crate::{AppState, CommandError};

/// The settings file, at its absolute place in the data folder.
pub fn file<R: Runtime>(app: &AppHandle<R>) -> Result<Arc<Store<R>>, CommandError> {
    app.store(settings::path()?)
        .map_err(|e| CommandError::invalid(format!("the settings file cannot be read: {e}")))
}

/// The saved settings, or the defaults.
pub fn load<R: Runtime>(app: &AppHandle<R>) -> Result<Settings, CommandError> {
    Ok(file(app)?
        .get(SETTINGS_KEY)
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default())
}

/// Writes `value` under `key` and saves the file.
pub fn save<R: Runtime>(
    app: &AppHandle<R>,
    key: &str,
    value: impl serde::Serialize,
) -> Result<(), CommandError> {
    let f = file(app)?;
    f.set(
        key,
        serde_json::to_value(value).map_err(|e| CommandError::invalid(e.to_string()))?,
    );
    f.save()
        .map_err(|e| CommandError::invalid(format!("the settings could not be saved: {e}")))
}

/// Brings background polling in line with the inventory after a change
/// whose own result does not depend on polling.
pub async fn update_polling<R: Runtime>(app: &AppHandle<R>, state: &AppState) {
    match (state.fleet(), load(app)) {
        (Ok(fleet), Ok(s)) => fleet.update_polling_quietly(&s).await,
        (Err(e), _) | (_, Err(e)) => {
            tracing::warn!("background polling could not be updated: {e}")
        }
    }
}

#[tauri::command]
pub async fn get_settings<R: Runtime>(app: AppHandle<R>) -> Result<Settings, CommandError> {
    load(&app)
}

#[tauri::command]
pub async fn save_settings<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    settings: Settings,
) -> Result<Settings, CommandError> {
    settings.validate()?;
    let previous = load(&app)?;
    save(&app, SETTINGS_KEY, &settings)?;
    if settings.changes_polling(&previous) {
        state.fleet()?.update_polling_quietly(&settings).await;
    }
    Ok(settings)
}
