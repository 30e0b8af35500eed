//! Data and sync: the shared SingleStore/MySQL database next to the
//! embedded store. Its address is a setting; its password goes to the
//! keyring (account `shared-store`), never into settings or the URL kept.

use std::time::Duration;

use fleet_core::{
    credentials::Sensitive,
    fleet_store::{self, sync::SyncReport, FleetStore, StoreOptions, StoreUrl},
};
use serde::Serialize;
use tauri::{AppHandle, Runtime, State};
use tauri_plugin_store::StoreExt;

use crate::{AppState, CommandError};

const FILE: &str = "settings.json";
const URL_KEY: &str = "sharedStoreUrl";
const LAST_KEY: &str = "lastSync";
/// Raw check-ins copied down by a sync; older hours come as rollups.
const WINDOW: Duration = Duration::from_secs(24 * 3600);

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncStatus {
    backend: &'static str,
    location: String,
    outbox_entries: u64,
    outbox_records: u64,
    shared_url: Option<String>,
    last_sync: Option<serde_json::Value>,
}

fn settings<R: Runtime>(
    app: &AppHandle<R>,
) -> Result<std::sync::Arc<tauri_plugin_store::Store<R>>, CommandError> {
    app.store(FILE)
        .map_err(|e| CommandError::invalid(format!("the settings file cannot be read: {e}")))
}

#[tauri::command]
pub async fn sync_status<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
) -> Result<SyncStatus, CommandError> {
    let fleet = state.fleet()?;
    let (entries, records) = fleet.store().outbox_size().await?;
    let s = settings(&app)?;
    Ok(SyncStatus {
        backend: fleet.store().backend_name(),
        location: fleet.store().location(),
        outbox_entries: entries,
        outbox_records: records,
        shared_url: s.get(URL_KEY).and_then(|v| v.as_str().map(str::to_owned)),
        last_sync: s.get(LAST_KEY),
    })
}

/// `mysql://user@host:port/db` with the keyring's password put in.
fn with_password(url: &str, password: &str) -> Result<StoreUrl, CommandError> {
    let mut u = url::Url::parse(url)
        .map_err(|e| CommandError::invalid(format!("{url:?} is not a database URL: {e}")))?;
    if u.scheme() != "mysql" {
        return Err(CommandError::invalid(
            "the shared database is a SingleStore or MySQL server: mysql://user@host:3306/database",
        ));
    }
    if u.password().is_some() {
        return Err(CommandError::invalid(
            "leave the password out of the URL: type it in the password field, it goes to the keyring",
        ));
    }
    if !password.is_empty() {
        u.set_password(Some(password))
            .map_err(|_| CommandError::invalid("this URL cannot carry a password"))?;
    }
    Ok(u.as_str().parse::<StoreUrl>()?)
}

async fn open_shared(url: &str, password: &str) -> Result<FleetStore, CommandError> {
    Ok(FleetStore::open_with(
        &with_password(url, password)?,
        StoreOptions {
            outbox: Some(false),
            ..Default::default()
        },
    )
    .await?)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SharedTest {
    backend: &'static str,
    devices: u64,
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
    let fleet = state.fleet()?;
    let url = url.trim().to_owned();
    let shared = open_shared(&url, &password).await?;
    let devices = shared
        .stats()
        .await?
        .into_iter()
        .find(|(t, _)| *t == "devices")
        .map_or(0, |(_, n)| n);
    fleet
        .credentials()
        .set_shared_store(&Sensitive::new(password))
        .map_err(fleet_core::FleetError::from)?;
    let s = settings(&app)?;
    s.set(URL_KEY, url);
    s.save()
        .map_err(|e| CommandError::invalid(format!("the settings could not be saved: {e}")))?;
    Ok(SharedTest {
        backend: shared.backend_name(),
        devices,
    })
}

/// Sends what was recorded here up to the shared database, then copies
/// the fleet down (raw check-ins of the last day, rollups before), for
/// review without a network. A lost connection keeps every record queued.
#[tauri::command]
pub async fn sync_now<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
) -> Result<SyncReport, CommandError> {
    let fleet = state.fleet()?;
    let s = settings(&app)?;
    let url = s
        .get(URL_KEY)
        .and_then(|v| v.as_str().map(str::to_owned))
        .ok_or_else(|| CommandError::invalid("no shared database set: enter its address first"))?;
    let password = fleet
        .credentials()
        .shared_store()
        .map_err(fleet_core::FleetError::from)?
        .map(|p| p.expose().clone())
        .unwrap_or_default();
    let shared = open_shared(&url, &password).await?;
    let since = fleet_core::poll::now_ms() - WINDOW.as_millis() as i64;
    let report = fleet_store::sync::sync(fleet.store(), &shared, since).await?;
    s.set(
        LAST_KEY,
        serde_json::json!({"at": fleet_core::poll::now_ms(), "report": report}),
    );
    let _ = s.save();
    Ok(report)
}
