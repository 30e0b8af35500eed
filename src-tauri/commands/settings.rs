//! The user's settings, kept by `tauri-plugin-store` in `settings.json`
//! in the app's data folder. Credentials are never here: they live in the
//! keyring (see `fleet_core::credentials`).

use fleet_core::chart::Theme;
use serde::{Deserialize, Serialize};
use tauri::{AppHandle, Runtime};
use tauri_plugin_store::StoreExt;

use crate::CommandError;

const FILE: &str = "settings.json";
const KEY: &str = "settings";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Settings {
    pub theme: Theme,
    /// How often routers are polled; health is judged against it.
    pub poll_interval_secs: u32,
    /// Poll every inventory router with a stored password in the background.
    pub background_polling: bool,
    /// Routers pushed at once in a bulk push.
    pub push_concurrency: u32,
    /// For identities and comments that are not UTF-8.
    pub codepage: String,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            theme: Theme::Light,
            poll_interval_secs: 60,
            background_polling: true,
            push_concurrency: 32,
            codepage: "windows-1252".into(),
        }
    }
}

impl Settings {
    fn validate(&self) -> Result<(), CommandError> {
        if !(5..=86_400).contains(&self.poll_interval_secs) {
            return Err(CommandError::invalid(
                "the poll interval is between 5 seconds and one day",
            ));
        }
        if !(1..=1024).contains(&self.push_concurrency) {
            return Err(CommandError::invalid(
                "routers pushed at once: between 1 and 1024",
            ));
        }
        if self.codepage.parse::<fleet_core::Codepage>().is_ok() {
            Ok(())
        } else {
            Err(CommandError::invalid(format!(
                "{:?} is not a codepage Fleetdeck knows (e.g. windows-1252, windows-1251, koi8-r)",
                self.codepage
            )))
        }
    }
}

/// The saved settings, or the defaults.
pub fn load<R: Runtime>(app: &AppHandle<R>) -> Result<Settings, CommandError> {
    let store = app
        .store(FILE)
        .map_err(|e| CommandError::invalid(format!("the settings file cannot be read: {e}")))?;
    Ok(store
        .get(KEY)
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default())
}

#[tauri::command]
pub async fn get_settings<R: Runtime>(app: AppHandle<R>) -> Result<Settings, CommandError> {
    load(&app)
}

#[tauri::command]
pub async fn save_settings<R: Runtime>(
    app: AppHandle<R>,
    settings: Settings,
) -> Result<Settings, CommandError> {
    settings.validate()?;
    let previous = load(&app)?;
    let store = app
        .store(FILE)
        .map_err(|e| CommandError::invalid(format!("the settings file cannot be read: {e}")))?;
    store.set(
        KEY,
        serde_json::to_value(&settings).map_err(|e| CommandError::invalid(e.to_string()))?,
    );
    store
        .save()
        .map_err(|e| CommandError::invalid(format!("the settings could not be saved: {e}")))?;
    let before = (settings.background_polling, settings.poll_interval_secs);
    if before != (previous.background_polling, previous.poll_interval_secs) {
        crate::commands::polling::update_quietly(&app).await;
    }
    Ok(settings)
}
