use std::time::Duration;

use fleet_core::{
    chart::Theme,
    dashboard::{FleetOverview, OverviewCharts},
};
use serde::Serialize;
use tauri::State;

use crate::{AppState, CommandError};

/// Check-ins per hour are shown for this long.
const WINDOW: Duration = Duration::from_secs(24 * 3600);

#[derive(Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct Overview {
    overview: FleetOverview,
    charts: OverviewCharts,
}

/// The overview as of now, health judged against `interval_secs`.
async fn load(
    state: &State<'_, AppState>,
    interval_secs: u32,
) -> Result<FleetOverview, CommandError> {
    Ok(FleetOverview::load(
        state.fleet()?.store(),
        fleet_core::poll::now_ms(),
        Duration::from_secs(u64::from(interval_secs.max(5))),
        WINDOW,
    )
    .await?)
}

/// The fleet overview and its charts in the UI's theme. Health is judged
/// against the poll interval the user set.
#[tauri::command]
pub async fn fleet_overview(
    state: State<'_, AppState>,
    theme: Theme,
    interval_secs: u32,
) -> Result<Overview, CommandError> {
    let overview = load(&state, interval_secs).await?;
    Ok(Overview {
        charts: overview.charts(theme)?,
        overview,
    })
}

/// One overview chart's data as CSV.
#[tauri::command]
pub async fn overview_csv(
    state: State<'_, AppState>,
    chart: String,
    interval_secs: u32,
) -> Result<String, CommandError> {
    let overview = load(&state, interval_secs).await?;
    Ok(overview.csv(&chart)?)
}

/// Saves an export (a chart as PNG, its data as CSV) into the user's
/// downloads folder and says where. The name is the app's own
/// (`fleetdeck-versions.png`); anything else is refused, so the window
/// cannot write elsewhere.
#[tauri::command]
pub async fn save_export(file_name: String, contents: Vec<u8>) -> Result<String, CommandError> {
    let ok = file_name.starts_with("fleetdeck-")
        && file_name.len() <= 80
        && (file_name.ends_with(".png") || file_name.ends_with(".csv"))
        && file_name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && !file_name.contains("..");
    if !ok {
        return Err(CommandError::invalid(format!(
            "{file_name:?} is not an export name Fleetdeck writes"
        )));
    }
    let dir = directories::UserDirs::new()
        .and_then(|u| u.download_dir().map(|d| d.to_path_buf()))
        .or_else(|| directories::UserDirs::new().map(|u| u.home_dir().to_path_buf()))
        .ok_or_else(|| CommandError::invalid("no downloads or home folder to save into"))?;
    std::fs::create_dir_all(&dir)
        .map_err(|e| CommandError::invalid(format!("cannot create {}: {e}", dir.display())))?;
    let path = dir.join(&file_name);
    std::fs::write(&path, contents)
        .map_err(|e| CommandError::invalid(format!("cannot write {}: {e}", path.display())))?;
    Ok(path.display().to_string())
}
