//! Data and sync (`fleet_core::shared`): the shared SingleStore/MySQL
//! database next to the embedded store. Its address is a setting; its
//! password goes to the keyring, never into settings or the URL kept.

use fleet_core::{
    credentials::Sensitive,
    fleet_store::sync::SyncReport,
    settings::{LastSync, LAST_SYNC_KEY, SHARED_URL_KEY},
    shared::SharedTest,
};
use serde::Serialize;
use tauri::{AppHandle, Runtime, State};

use crate::{commands::settings, AppState, CommandError};

#[derive(Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct SyncStatus {
    backend: &'static str,
    location: String,
    outbox_entries: u64,
    outbox_records: u64,
    shared_url: Option<String>,
    last_sync: Option<LastSync>,
}

fn shared_url<R: Runtime>(app: &AppHandle<R>) -> Result<Option<String>, CommandError> {
    Ok(settings::file(app)?
        .get(SHARED_URL_KEY)
        .and_then(|v| v.as_str().map(str::to_owned)))
}

#[tauri::command]
pub async fn sync_status<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
) -> Result<SyncStatus, CommandError> {
    let fleet = state.fleet()?;
    let (entries, records) = fleet.store().outbox_size().await?;
    Ok(SyncStatus {
        backend: fleet.store().backend_name(),
        location: fleet.store().location(),
        outbox_entries: entries,
        outbox_records: records,
        shared_url: shared_url(&app)?,
        last_sync: settings::file(&app)?
            .get(LAST_SYNC_KEY)
            .and_then(|v| serde_json::from_value(v).ok()),
    })
}

/// Saves the shared database's address (and its password, to the
/// keyring) after connecting to it once.
#[tauri::command]
pub async fn set_shared_store<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    url: String,
    password: String,
) -> Result<SharedTest, CommandError> {
    let url = url.trim().to_owned();
    let test = state
        .fleet()?
        .set_shared_store(&url, &Sensitive::new(password))
        .await?;
    settings::save(&app, SHARED_URL_KEY, url)?;
    Ok(test)
}

/// Sends what was recorded here up to the shared database, then copies
/// the fleet down for review without a network.
#[tauri::command]
pub async fn sync_now<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
) -> Result<SyncReport, CommandError> {
    let url = shared_url(&app)?
        .ok_or_else(|| CommandError::invalid("no shared database set: enter its address first"))?;
    let report = state
        .fleet()?
        .sync_with_shared(&url, fleet_core::shared::WINDOW)
        .await?;
    let last = LastSync {
        at: fleet_core::poll::now_ms(),
        report: report.clone(),
    };
    if let Err(e) = settings::save(&app, LAST_SYNC_KEY, last) {
        tracing::warn!("the last sync could not be noted in the settings: {e}");
    }
    // The sync may have brought routers or moved some: polling follows.
    settings::update_polling(&app, &state).await;
    Ok(report)
}
