//! The on-site flow and bulk pushes: discover, check a template, preview
//! on one router, push with live progress (an `ipc::Channel` of typed
//! events), pause, resume, cancel, confirm.

use std::{collections::BTreeMap, time::Duration};

use fleet_core::{
    bulk::BulkReport,
    discover,
    interrupted::InterruptedPush,
    preview::{self, TemplatePreview},
    provision::{PushAction, PushEvent, PushRequest},
    push,
    template::Template,
};
use tauri::{ipc::Channel, State};

use crate::{AppState, CommandError};

/// Listens for MNDP for `listen_secs` and, with `probe`, probes the API
/// ports of that subnet (at most a /16).
#[tauri::command]
pub async fn discover_routers(
    listen_secs: u32,
    probe: Option<String>,
) -> Result<discover::Discovered, CommandError> {
    let duration = Duration::from_secs(u64::from(listen_secs.clamp(1, 60)));
    Ok(discover::discover(
        Default::default(),
        duration,
        probe.as_deref(),
        &discover::API_PORTS,
        256,
    )
    .await?)
}

/// Checks a template as the user types: its parameters, or its errors
/// with line and column.
#[tauri::command]
pub fn check_template(text: String) -> fleet_core::template_check::TemplateCheck {
    fleet_core::template_check::check(&text)
}

/// What a push would do to one router: rendered script (secrets masked),
/// each step's decision, the diff against its export. Writes nothing.
#[tauri::command]
pub async fn preview_push(
    state: State<'_, AppState>,
    device_id: String,
    template: String,
    values: BTreeMap<String, String>,
    import: bool,
) -> Result<TemplatePreview, CommandError> {
    let fleet = state.fleet()?;
    let template = Template::parse(&template).map_err(|errors| {
        CommandError::invalid(format!(
            "the template has {} error(s); the first: {}",
            errors.len(),
            errors[0]
        ))
    })?;
    let client = fleet.connect(&device_id).await?;
    Ok(preview::template_on_router(
        fleet.store(),
        &client,
        Some(&device_id),
        &template,
        &values,
        import,
    )
    .await?)
}

/// Pushes a template to routers of the inventory, rendered per router,
/// in waves, reporting each step and each router on `on_event`; its
/// `started` event names the job [`control_push`] pauses, resumes or
/// cancels.
#[tauri::command]
pub async fn push_template(
    state: State<'_, AppState>,
    request: PushRequest,
    on_event: Channel<PushEvent>,
) -> Result<BulkReport, CommandError> {
    Ok(state
        .fleet()?
        .push_template(&request, move |e| {
            let _ = on_event.send(e);
        })
        .await?)
}

/// Bulk pushes cut short (the app closed or killed, the laptop died) that
/// this laptop can resume by itself; the window offers them at start.
#[tauri::command]
pub async fn interrupted_pushes(
    state: State<'_, AppState>,
) -> Result<Vec<InterruptedPush>, CommandError> {
    Ok(state.fleet()?.interrupted_pushes().await?)
}

/// Resumes interrupted bulk push `batch_id` with the push it recorded,
/// reporting on `on_event` as [`push_template`] does.
#[tauri::command]
pub async fn resume_push(
    state: State<'_, AppState>,
    batch_id: String,
    on_event: Channel<PushEvent>,
) -> Result<BulkReport, CommandError> {
    Ok(state
        .fleet()?
        .resume_push(&batch_id, move |e| {
            let _ = on_event.send(e);
        })
        .await?)
}

/// Pauses, resumes or cancels push `job`; false when it is not running.
#[tauri::command]
pub async fn control_push(
    state: State<'_, AppState>,
    job: String,
    action: PushAction,
) -> Result<bool, CommandError> {
    Ok(state.fleet()?.control_push(&job, action))
}

/// Confirms a push left awaiting confirmation: removes its safety net so
/// the router keeps its new configuration, or says that the net fired.
#[tauri::command]
pub async fn confirm_push(
    state: State<'_, AppState>,
    device_id: String,
    scheduler: String,
) -> Result<push::Confirmation, CommandError> {
    let fleet = state.fleet()?;
    let client = fleet.connect(&device_id).await?;
    Ok(push::confirm(
        fleet.store(),
        &client,
        Some(&device_id),
        &scheduler,
        &push::technician(),
        Some(fleet.credentials()),
    )
    .await?)
}
