//! Push jobs: a template pushed to routers in waves, with typed progress
//! events, paused, resumed or cancelled by job id. The one place both front
//! ends push from: the app's Push button and `fleetdeck-cli push`.

use std::{
    collections::{BTreeMap, HashMap},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use serde::{Deserialize, Serialize};

use crate::{
    bulk::{self, BulkOptions, BulkReport, Control, PlanSource, RouterResult, StepHook},
    plan::{self, Outcome, StepReport},
    push::{self, PushOptions},
    telemetry::Target,
    template::Template,
    Fleet, FleetError,
};

/// What to push and how, whoever the routers are. Kept with the batch
/// (secret values apart, in the keyring) so it can be resumed by itself.
#[derive(Debug, Clone, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct PushSpec {
    pub template: String,
    pub values: BTreeMap<String, String>,
    /// Send the rendered script as one upload-and-/import step.
    #[serde(default)]
    pub import: bool,
    #[serde(default = "default_waves")]
    pub waves: String,
    pub concurrency: usize,
    /// 0: continue whatever fails.
    pub stop_after: usize,
    pub confirm_within_minutes: u64,
    /// Leave the safety net armed until the technician confirms.
    #[serde(default)]
    pub manual_confirm: bool,
    #[serde(default)]
    pub dry_run: bool,
}

fn default_waves() -> String {
    "1,10%,100%".into()
}

/// A push to routers of the inventory.
#[derive(Debug, Clone, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct PushRequest {
    pub device_ids: Vec<String>,
    #[serde(flatten)]
    pub spec: PushSpec,
}

/// What a push reports as it goes.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    tag = "event"
)]
pub enum PushEvent {
    /// The job's id, for [`Fleet::control_push`].
    Started {
        job: String,
        routers: usize,
    },
    /// A router's latest step and how many it has done. Throttled: at most
    /// one every [`STEP_EVERY`] per router (a failure always), so a bulk
    /// push of a thousand routers cannot flood a window; the `Router`
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

/// Step events per router are sent at most this often.
pub const STEP_EVERY: Duration = Duration::from_millis(100);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum PushAction {
    Pause,
    Resume,
    Cancel,
}

/// The running push (one at a time: a laptop's uplink and the technician's
/// attention are both single), keyed by its job id.
#[derive(Default)]
pub(crate) struct PushJobs(Mutex<Option<(String, Control)>>);

/// Frees the job slot however the push ends.
struct JobSlot<'a>(&'a PushJobs);

impl Drop for JobSlot<'_> {
    fn drop(&mut self) {
        *self.0 .0.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }
}

impl PushSpec {
    /// The template parsed, and rendered and compiled once up front when it
    /// reads nothing from the routers, so a value error stops the push
    /// before it touches a router.
    fn source(&self) -> Result<PlanSource, FleetError> {
        let template = Template::parse(&self.template).map_err(|errors| {
            FleetError::InvalidInput(format!(
                "the template has {} error(s); the first: {}",
                errors.len(),
                errors[0]
            ))
        })?;
        if template.is_per_router() {
            return Ok(PlanSource::Template {
                template: Arc::new(template),
                values: Arc::new(self.values.clone()),
                import: self.import,
            });
        }
        let rendered = template.render(&self.values).map_err(|errors| {
            FleetError::InvalidInput(format!(
                "{} value error(s); the first: {}",
                errors.len(),
                errors[0]
            ))
        })?;
        let plan = if self.import {
            plan::import_plan(&rendered.text)
        } else {
            plan::compile(&rendered.text).map_err(|e| {
                FleetError::InvalidInput(format!(
                    "{e}; the script cannot be pushed as a plan (push it with import instead)"
                ))
            })?
        };
        Ok(PlanSource::Plan(Arc::new(plan)))
    }

    fn options(&self) -> Result<BulkOptions, FleetError> {
        Ok(BulkOptions {
            concurrency: self.concurrency.clamp(1, 1024),
            waves: bulk::parse_waves(&self.waves)?,
            stop_after_failures: (self.stop_after > 0).then_some(self.stop_after),
            push: PushOptions {
                dry_run: self.dry_run,
                confirm_within: Duration::from_secs(
                    self.confirm_within_minutes.clamp(1, 1440) * 60,
                ),
                auto_confirm: !self.manual_confirm,
                actor: push::technician(),
                ..Default::default()
            },
            ..Default::default()
        })
    }
}

/// Sends each router's steps at most every [`STEP_EVERY`] (a failure
/// always).
fn step_hook(on_event: Arc<dyn Fn(PushEvent) + Send + Sync>) -> StepHook {
    let seen: Mutex<HashMap<String, (usize, Instant)>> = Default::default();
    StepHook(Arc::new(move |device_id: &str, step: &StepReport| {
        let mut seen = seen.lock().unwrap_or_else(|p| p.into_inner());
        let entry = seen
            .entry(device_id.to_owned())
            .or_insert((0, Instant::now() - STEP_EVERY));
        entry.0 += 1;
        let failed = matches!(step.outcome, Outcome::Failed { .. });
        if failed || entry.1.elapsed() >= STEP_EVERY {
            entry.1 = Instant::now();
            on_event(PushEvent::Step {
                device_id: device_id.to_owned(),
                step: step.clone(),
                done: entry.0,
            });
        }
    }))
}

impl Fleet {
    /// Pushes a template to routers of the inventory, rendered per router,
    /// in waves, reporting on `on_event`.
    pub async fn push_template(
        &self,
        request: &PushRequest,
        on_event: impl Fn(PushEvent) + Send + Sync + 'static,
    ) -> Result<BulkReport, FleetError> {
        if request.device_ids.is_empty() {
            return Err(FleetError::InvalidInput(
                "choose at least one router to push to".into(),
            ));
        }
        let targets = self.targets_of(&request.device_ids).await?;
        self.push_to(targets, &request.spec, None, on_event).await
    }

    /// The push to `targets` resolved by the caller (the CLI's addresses,
    /// with the password it was given), or with `resume` the routers of an
    /// interrupted, paused or cancelled batch that have not succeeded.
    /// Batches a crash left running are marked interrupted first. One push
    /// at a time.
    pub async fn push_to(
        &self,
        targets: Vec<Target>,
        spec: &PushSpec,
        resume: Option<&str>,
        on_event: impl Fn(PushEvent) + Send + Sync + 'static,
    ) -> Result<BulkReport, FleetError> {
        let source = spec.source()?;
        let mut opts = spec.options()?;
        opts.push.backup_keys = Some(self.shared_credentials());
        let on_event: Arc<dyn Fn(PushEvent) + Send + Sync> = Arc::new(on_event);
        opts.on_step = Some(step_hook(on_event.clone()));
        let job = fleet_store::new_id();
        let control = Control::default();
        let _slot = self.reserve_push(&job, &control)?;
        if resume.is_none() {
            let id = fleet_store::new_id();
            opts.record = Some(self.keep_push(&id, spec));
            opts.batch_id = Some(id);
        }
        for b in bulk::recover_interrupted(&self.shared_store(), Duration::from_secs(60)).await? {
            tracing::warn!(batch = %b.id, "{}", b.summary);
        }
        on_event(PushEvent::Started {
            job,
            routers: targets.len(),
        });
        let events = on_event.clone();
        let progress = move |r: &RouterResult| {
            events(PushEvent::Router {
                result: Box::new(r.clone()),
            })
        };
        let store = self.shared_store();
        let report = match resume {
            Some(batch) => {
                bulk::resume(store, batch, targets, source, opts, control, progress).await?
            }
            None => bulk::push_all(store, targets, source, opts, control, progress).await?,
        };
        self.forget_push_if_finished(&report.batch_id).await;
        on_event(PushEvent::Finished {
            report: Box::new(report.clone()),
        });
        Ok(report)
    }

    /// Takes the one push slot for `job`, freed when the guard drops; an
    /// error when a push is running.
    pub(crate) fn reserve_push(
        &self,
        job: &str,
        control: &Control,
    ) -> Result<impl Drop + '_, FleetError> {
        let mut slot = self.pushes.0.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_some() {
            return Err(FleetError::InvalidInput(
                "a push is already running: wait for it, or cancel it".into(),
            ));
        }
        *slot = Some((job.to_owned(), control.clone()));
        Ok(JobSlot(&self.pushes))
    }

    /// Pauses, resumes or cancels push `job`. Routers in progress finish
    /// their push either way. False when that job is not running (it
    /// finished, or another one is).
    pub fn control_push(&self, job: &str, action: PushAction) -> bool {
        let slot = self.pushes.0.lock().unwrap_or_else(|p| p.into_inner());
        let Some((running, control)) = slot.as_ref().filter(|(id, _)| id == job) else {
            return false;
        };
        tracing::info!(job = %running, ?action, "push control");
        match action {
            PushAction::Pause => control.pause(),
            PushAction::Resume => control.resume(),
            PushAction::Cancel => control.cancel(),
        }
        true
    }

    /// The running push's job id and whether it is paused.
    pub fn running_push(&self) -> Option<(String, bool)> {
        let slot = self.pushes.0.lock().unwrap_or_else(|p| p.into_inner());
        slot.as_ref().map(|(id, c)| (id.clone(), c.is_paused()))
    }
}
