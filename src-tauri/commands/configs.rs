//! Configuration history: back up routers, the fleet's backup standing, a
//! router's versions, a version's text, diffs, and restoring a version.

use fleet_core::{
    compliance::{ComplianceReport, ComplianceRule, RuleInput},
    configs::{
        BackupOptions, BackupReport, ConfigDiff, ConfigSearchHit, ConfigText, RouterBackupStatus,
    },
    fleet_store::ConfigVersion,
    restore::{RestoreOptions, RestorePreview, RestoreReport},
};
use tauri::{AppHandle, Manager, Runtime, State};

use crate::{commands::settings, AppState, CommandError};

/// Backs up the routers that are due, every [`TICK`] for the life of the
/// app, under the schedule in the settings as they are at each tick.
///
/// [`TICK`]: fleet_core::backup_schedule::TICK
pub async fn run_backup_schedule<R: Runtime>(app: AppHandle<R>) {
    let mut tick = tokio::time::interval_at(
        tokio::time::Instant::now() + std::time::Duration::from_secs(60),
        fleet_core::backup_schedule::TICK,
    );
    loop {
        tick.tick().await;
        let due = async {
            let fleet = app.state::<AppState>().fleet()?;
            let settings = settings::load(&app)?;
            Ok::<_, CommandError>(
                fleet
                    .backup_due(&settings.backup_schedule, &backup_options(&settings))
                    .await?,
            )
        };
        match due.await {
            Ok(Some(r)) => tracing::info!(
                routers = r.routers.len(),
                new = r.new_versions,
                failed = r.failed,
                "scheduled backup done"
            ),
            Ok(None) => {}
            Err(e) => tracing::warn!("scheduled backup did not run: {}", e.message),
        }
    }
}

/// How backups are taken under the settings: sealed exports when opted in.
fn backup_options(settings: &fleet_core::settings::Settings) -> BackupOptions {
    BackupOptions {
        sensitive: settings.sensitive_backups,
        ..BackupOptions::default()
    }
}

/// Backs up the routers named (every router when none are).
#[tauri::command]
pub async fn backup_routers<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    device_ids: Option<Vec<String>>,
) -> Result<BackupReport, CommandError> {
    let opts = backup_options(&settings::load(&app)?);
    Ok(state.fleet()?.backup(device_ids, &opts).await?)
}

#[tauri::command]
pub async fn backup_status(
    state: State<'_, AppState>,
) -> Result<Vec<RouterBackupStatus>, CommandError> {
    Ok(state.fleet()?.backup_status().await?)
}

#[tauri::command]
pub async fn config_log(
    state: State<'_, AppState>,
    device_id: String,
) -> Result<Vec<ConfigVersion>, CommandError> {
    Ok(state.fleet()?.config_log(&device_id, 500).await?)
}

#[tauri::command]
pub async fn config_show(
    state: State<'_, AppState>,
    device_id: String,
    version_id: String,
) -> Result<ConfigText, CommandError> {
    let (version, text) = state
        .fleet()?
        .config_show(&device_id, Some(&version_id))
        .await?;
    Ok(ConfigText { version, text })
}

/// `to: None` compares with the router's live export.
#[tauri::command]
pub async fn config_diff(
    state: State<'_, AppState>,
    device_id: String,
    from: String,
    to: Option<String>,
) -> Result<ConfigDiff, CommandError> {
    Ok(state
        .fleet()?
        .config_diff(&device_id, &from, to.as_deref())
        .await?)
}

/// Lines of every router's newest configuration holding `text`.
#[tauri::command]
pub async fn config_search(
    state: State<'_, AppState>,
    text: String,
) -> Result<Vec<ConfigSearchHit>, CommandError> {
    Ok(state.fleet()?.config_search(&text, 200).await?)
}

/// What restoring `version_id` would change on the router now.
#[tauri::command]
pub async fn restore_preview(
    state: State<'_, AppState>,
    device_id: String,
    version_id: String,
) -> Result<RestorePreview, CommandError> {
    Ok(state
        .fleet()?
        .restore_preview(&device_id, &version_id)
        .await?)
}

/// Restores `version_id` through the push engine, and compares after.
#[tauri::command]
pub async fn restore_router(
    state: State<'_, AppState>,
    device_id: String,
    version_id: String,
) -> Result<RestoreReport, CommandError> {
    Ok(state
        .fleet()?
        .restore(&device_id, &version_id, &RestoreOptions::default(), |_| {})
        .await?)
}

/// Every compliance rule.
#[tauri::command]
pub async fn compliance_rules(
    state: State<'_, AppState>,
) -> Result<Vec<ComplianceRule>, CommandError> {
    Ok(state.fleet()?.compliance_rules().await?)
}

/// Adds a rule, or changes (or switches off) the one `rule.id` names.
#[tauri::command]
pub async fn save_compliance_rule(
    state: State<'_, AppState>,
    rule: RuleInput,
) -> Result<ComplianceRule, CommandError> {
    Ok(state.fleet()?.save_compliance_rule(&rule).await?)
}

/// Every router against the rules for it, from the store alone.
#[tauri::command]
pub async fn config_check(state: State<'_, AppState>) -> Result<ComplianceReport, CommandError> {
    Ok(state.fleet()?.config_check(None).await?)
}
