use std::time::Duration;

use fleet_core::demo::{Demo, DEMO_SITE, DEMO_TAG};
use serde::Serialize;
use tauri::State;

use crate::{AppState, CommandError};

/// Demo routers are polled this often, so charts move within a minute.
const DEMO_INTERVAL: Duration = Duration::from_secs(10);

#[derive(Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct DemoStatus {
    running: bool,
    routers: usize,
    site: &'static str,
    tag: &'static str,
}

fn status(demo: &Option<Demo>) -> DemoStatus {
    DemoStatus {
        running: demo.is_some(),
        routers: demo.as_ref().map_or(0, Demo::routers),
        site: DEMO_SITE,
        tag: DEMO_TAG,
    }
}

#[tauri::command]
pub async fn demo_status(state: State<'_, AppState>) -> Result<DemoStatus, CommandError> {
    Ok(status(&*state.demo.lock().await))
}

/// Starts simulated routers in the app and enrols them (labelled
/// simulated). A demo already running is kept.
#[tauri::command]
pub async fn start_demo(
    state: State<'_, AppState>,
    routers: usize,
) -> Result<DemoStatus, CommandError> {
    let fleet = state.fleet()?;
    let mut demo = state.demo.lock().await;
    if demo.is_none() {
        *demo = Some(Demo::start(&fleet, routers, DEMO_INTERVAL).await?);
    }
    Ok(status(&demo))
}

/// Stops polling the simulated routers and the simulators; their records
/// stay in the inventory, labelled simulated.
#[tauri::command]
pub async fn stop_demo(state: State<'_, AppState>) -> Result<DemoStatus, CommandError> {
    let mut demo = state.demo.lock().await;
    if let Some(d) = demo.take() {
        d.stop().await;
    }
    Ok(status(&demo))
}
