//! The on-site flow and bulk pushes: discover, check a template, preview
//! on one router, push with live progress (an `ipc::Channel` of typed
//! events), pause, resume, cancel, confirm.

use std::{
    collections::{BTreeMap, HashMap},
    sync::Arc,
    time::{Duration, Instant},
};

use fleet_core::{
    bulk::{self, BulkOptions, BulkReport, Control, PlanSource, RouterResult, StepHook},
    discover::{self, Found, ProbeHit},
    plan::StepReport,
    preview::{self, TemplatePreview},
    push::{self, PushOptions},
    template::{Template, TemplateError},
};
use serde::{Deserialize, Serialize};
use tauri::{ipc::Channel, State};

use crate::{AppState, CommandError};

#[derive(Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct Discovered {
    found: Vec<Found>,
    probed: Vec<ProbeHit>,
}

/// Listens for MNDP for `listen_secs` and, with `probe`, probes the API
/// ports of that subnet (at most a /16).
#[tauri::command]
pub async fn discover_routers(
    listen_secs: u32,
    probe: Option<String>,
) -> Result<Discovered, CommandError> {
    let duration = Duration::from_secs(u64::from(listen_secs.clamp(1, 60)));
    let probed = match probe.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
        Some(cidr) => {
            let hosts = discover::subnet_hosts(cidr)?;
            discover::probe(&hosts, &[8728, 8729], 256, Duration::from_millis(800)).await
        }
        None => Vec::new(),
    };
    let found = discover::listen(Default::default(), duration).await?;
    Ok(Discovered { found, probed })
}

#[derive(Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct Parameter {
    name: String,
    /// The type as written (`ipv4_cidr`, `int(1..4094)`, …).
    r#type: String,
    /// Filled from the router or its site at push time.
    automatic: bool,
}

#[derive(Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct TemplateCheck {
    parameters: Vec<Parameter>,
    errors: Vec<TemplateError>,
}

/// Checks a template as the user types: its parameters, or its errors
/// with line and column.
#[tauri::command]
pub fn check_template(text: String) -> TemplateCheck {
    match Template::parse(&text) {
        Ok(t) => TemplateCheck {
            parameters: t
                .parameters()
                .into_iter()
                .map(|(name, ty)| Parameter {
                    name: name.to_owned(),
                    r#type: ty.to_string(),
                    automatic: name.starts_with("router.") || name.starts_with("site."),
                })
                .collect(),
            errors: Vec::new(),
        },
        Err(errors) => TemplateCheck {
            parameters: Vec::new(),
            errors,
        },
    }
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

/// Step events per router are sent at most this often.
const STEP_EVERY: Duration = Duration::from_millis(100);

/// What a push reports as it goes.
#[derive(Clone, Serialize, ts_rs::TS)]
#[serde(
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    tag = "event"
)]
pub enum PushEvent {
    Started {
        batch: Option<String>,
        routers: usize,
    },
    /// A router's latest step and how many it has done. Throttled: at most
    /// one every [`STEP_EVERY`] per router (a failure always), so a bulk
    /// push of a thousand routers cannot flood the window; the `Router`
    /// event carries every step.
    Step {
        device_id: String,
        step: StepReport,
        done: usize,
    },
    Router {
        result: Box<RouterResult>,
    },
    Finished {
        report: Box<BulkReport>,
    },
}

#[derive(Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct PushRequest {
    device_ids: Vec<String>,
    template: String,
    values: BTreeMap<String, String>,
    #[serde(default)]
    import: bool,
    #[serde(default = "default_waves")]
    waves: String,
    concurrency: usize,
    /// 0: continue whatever fails.
    stop_after: usize,
    confirm_within_minutes: u64,
    /// Leave the safety net armed until the technician confirms.
    #[serde(default)]
    manual_confirm: bool,
    #[serde(default)]
    dry_run: bool,
}

fn default_waves() -> String {
    "1,10%,100%".into()
}

/// Pushes a template to routers of the inventory, rendered per router,
/// in waves, reporting each step and each router on `on_event`. One push
/// at a time; [`control_push`] pauses, resumes or cancels it.
#[tauri::command]
pub async fn push_template(
    state: State<'_, AppState>,
    request: PushRequest,
    on_event: Channel<PushEvent>,
) -> Result<BulkReport, CommandError> {
    let fleet = state.fleet()?;
    if request.device_ids.is_empty() {
        return Err(CommandError::invalid(
            "choose at least one router to push to",
        ));
    }
    let template = Template::parse(&request.template).map_err(|errors| {
        CommandError::invalid(format!(
            "the template has {} error(s); the first: {}",
            errors.len(),
            errors[0]
        ))
    })?;
    let control = Control::default();
    {
        let mut slot = state.push.lock().await;
        if slot.is_some() {
            return Err(CommandError::invalid(
                "a push is already running: wait for it, or cancel it",
            ));
        }
        *slot = Some(control.clone());
    }
    let result = async {
        let targets = fleet.targets_of(&request.device_ids).await?;
        let events = on_event.clone();
        let opts = BulkOptions {
            concurrency: request.concurrency.clamp(1, 1024),
            waves: bulk::parse_waves(&request.waves)?,
            stop_after_failures: (request.stop_after > 0).then_some(request.stop_after),
            push: PushOptions {
                dry_run: request.dry_run,
                confirm_within: Duration::from_secs(
                    request.confirm_within_minutes.clamp(1, 1440) * 60,
                ),
                auto_confirm: !request.manual_confirm,
                actor: push::technician(),
                ..Default::default()
            },
            on_step: Some(StepHook(Arc::new({
                let seen: std::sync::Mutex<HashMap<String, (usize, Instant)>> = Default::default();
                move |device_id: &str, step: &StepReport| {
                    let mut seen = seen.lock().unwrap_or_else(|p| p.into_inner());
                    let entry = seen
                        .entry(device_id.to_owned())
                        .or_insert((0, Instant::now() - STEP_EVERY));
                    entry.0 += 1;
                    let failed = matches!(step.outcome, fleet_core::plan::Outcome::Failed { .. });
                    if failed || entry.1.elapsed() >= STEP_EVERY {
                        entry.1 = Instant::now();
                        let _ = events.send(PushEvent::Step {
                            device_id: device_id.to_owned(),
                            step: step.clone(),
                            done: entry.0,
                        });
                    }
                }
            }))),
            ..Default::default()
        };
        let _ = on_event.send(PushEvent::Started {
            batch: None,
            routers: targets.len(),
        });
        let events = on_event.clone();
        let report = bulk::push_all(
            fleet.shared_store(),
            targets,
            PlanSource::Template {
                template: Arc::new(template),
                values: Arc::new(request.values),
                import: request.import,
            },
            opts,
            control,
            move |r| {
                let _ = events.send(PushEvent::Router {
                    result: Box::new(r.clone()),
                });
            },
        )
        .await?;
        let _ = on_event.send(PushEvent::Finished {
            report: Box::new(report.clone()),
        });
        Ok::<_, CommandError>(report)
    }
    .await;
    *state.push.lock().await = None;
    result
}

/// `pause`, `resume` or `cancel` the running push. Routers in progress
/// finish their push either way.
#[tauri::command]
pub async fn control_push(
    state: State<'_, AppState>,
    action: String,
) -> Result<bool, CommandError> {
    let slot = state.push.lock().await;
    let Some(control) = slot.as_ref() else {
        return Ok(false);
    };
    match action.as_str() {
        "pause" => control.pause(),
        "resume" => control.resume(),
        "cancel" => control.cancel(),
        other => {
            return Err(CommandError::invalid(format!(
                "{other:?}: pause, resume or cancel"
            )))
        }
    }
    Ok(true)
}

/// Confirms a push left awaiting confirmation: removes its safety net so
/// the router keeps its new configuration.
#[tauri::command]
pub async fn confirm_push(
    state: State<'_, AppState>,
    device_id: String,
    scheduler: String,
) -> Result<bool, CommandError> {
    let fleet = state.fleet()?;
    let client = fleet.connect(&device_id).await?;
    Ok(push::confirm(
        fleet.store(),
        &client,
        Some(&device_id),
        &scheduler,
        &push::technician(),
    )
    .await?)
}
