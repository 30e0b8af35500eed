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

/// The saved settings, or the defaults when none are saved. Settings that
/// cannot be read are an error, not the defaults: falling back silently
/// would, say, switch background polling back on.
pub fn load<R: Runtime>(app: &AppHandle<R>) -> Result<Settings, CommandError> {
    match file(app)?.get(SETTINGS_KEY) {
        None => Ok(Settings::default()),
        Some(v) => serde_json::from_value(v).map_err(|e| {
            CommandError::invalid(format!(
                "the saved settings are not valid ({e}); save them again in Settings, or remove {}",
                settings::path()
                    .map(|p| p.display().to_string())
                    .unwrap_or_else(|_| settings::FILE.to_owned())
            ))
        }),
    }
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
    // Saving is the way out of unreadable settings: then polling is
    // brought in line with the new ones whatever they change.
    let previous = load(&app).ok();
    save(&app, SETTINGS_KEY, &settings)?;
    if previous.is_none_or(|p| settings.changes_polling(&p)) {
        state.fleet()?.update_polling_quietly(&settings).await;
    }
    Ok(settings)
}
