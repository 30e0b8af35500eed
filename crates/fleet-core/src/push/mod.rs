//! Pushing a plan to one router, safely, with a record of everything.
//!
//! 1. **Pre-flight**: the router answers; its version and free space are
//!    read (a backup needs room).
//! 2. **Backup first**: `/system/backup/save` on the router, and its
//!    `/export` text kept locally in the audit trail.
//! 3. **Safety net**: a scheduler on the router that loads that backup
//!    after `confirm_within` unless the push confirms, so a push that locks
//!    the technician out undoes itself.
//! 4. **Steps**, in plan order, each reported with the router's own message;
//!    the first failure stops the push and, by default, restores the backup
//!    at once (the router reboots).
//! 5. **Verify**: the plan run again as a dry run must find nothing to do.
//! 6. **Confirm**: the safety scheduler is removed.
//!
//! Every stage is an audit event and the push record follows the status.
//! When the connection is lost or a step does not answer, the report says
//! what is known and that the safety net will restore the backup.

use std::time::Duration;

use fleet_store::{AuditAction, AuditEvent, FleetStore, PushRecord, PushState};
use routeros::{Client, Command};
use serde::Serialize;

use crate::{
    configs,
    credentials::CredentialStore,
    plan::{self, Outcome, Plan, StepReport},
    poll,
};

mod confirm;
mod net;
mod settle;

pub use confirm::{confirm, confirm_safety_net, technician, Confirmation};
pub use net::{pending_safety_nets, BACKUP_PREFIX, SAFETY_PREFIX};
use net::{remove_backup, remove_leftover_backups, remove_schedulers, Backup};
pub use settle::{reconnect, settle_interrupted, Settled};

/// One audit event about a push, outside a running push's own trail
/// (a confirm, a settling).
async fn record_event(
    store: &FleetStore,
    at: i64,
    device_id: Option<&str>,
    actor: &str,
    action: AuditAction,
    detail: serde_json::Value,
) -> Result<(), fleet_store::StoreError> {
    store
        .record_audit(&[AuditEvent {
            id: fleet_store::new_id(),
            at,
            device_id: device_id.map(str::to_owned),
            actor: actor.to_owned(),
            action: action.into(),
            detail: detail.to_string(),
        }])
        .await
        .map(|_| ())
}

/// `record` ended as `state` at `now`, with `note` added to its summary.
fn ended(mut record: PushRecord, state: PushState, note: &str, now: i64) -> PushRecord {
    record.status = state.into();
    record.summary = format!("{}; {note}", record.summary);
    record.finished_at = Some(now);
    record.updated_at = now.max(record.updated_at + 1);
    record
}

#[derive(Debug, Clone)]
pub struct PushOptions {
    /// Report what would change; nothing is written to the router.
    pub dry_run: bool,
    /// The safety net restores the backup after this long unless confirmed.
    pub confirm_within: Duration,
    /// Free storage a push needs (for the backup file).
    pub min_free_bytes: u64,
    /// Restore the backup at once when a step fails.
    pub rollback_on_failure: bool,
    /// Who pushes, for the audit trail.
    pub actor: String,
    /// How to reach the router again after a lost connection, to report
    /// what is known (did it restart, which steps are in place, is the
    /// safety net armed). `None`: report the loss only.
    pub reconnect: Option<routeros::ConnectOptions>,
    /// How long to keep trying to reconnect (a reboot takes a minute or
    /// two on real hardware).
    pub reconnect_within: Duration,
    /// The bulk push this push belongs to.
    pub batch: Option<String>,
    /// Remove the safety net once verified. Off: the push stops verified
    /// but unconfirmed, and the technician confirms (after checking they
    /// can still reach the router) or lets the net restore the backup.
    pub auto_confirm: bool,
    /// Where the backup's password is kept while the backup exists (the
    /// keyring). `None`: only the router's safety net holds it.
    pub backup_keys: Option<std::sync::Arc<CredentialStore>>,
    /// The most one router's push may take, reconnects included: a router
    /// that answers each command just in time cannot hold a push (and a
    /// bulk push's slot) forever.
    pub deadline: Duration,
}

impl Default for PushOptions {
    fn default() -> Self {
        Self {
            dry_run: false,
            confirm_within: Duration::from_secs(600),
            min_free_bytes: 1 << 20,
            rollback_on_failure: true,
            actor: "fleetdeck".into(),
            reconnect: None,
            reconnect_within: Duration::from_secs(180),
            batch: None,
            auto_confirm: true,
            backup_keys: None,
            deadline: Duration::from_secs(30 * 60),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
pub enum PushStatus {
    Succeeded,
    /// A step failed and the backup was restored.
    RolledBack,
    /// A step failed; the safety net will restore the backup.
    Failed,
    /// Nothing was written (dry run).
    DryRun,
    /// Applied and verified; the safety net is still armed until someone
    /// confirms (`auto_confirm` off).
    AwaitingConfirmation,
    /// The connection was lost or a step did not answer: the router's
    /// state is not known; the safety net restores the backup unless
    /// someone confirms.
    Unknown,
}

impl PushStatus {
    /// The push record's state once the push ended this way.
    pub fn state(self) -> PushState {
        match self {
            PushStatus::Succeeded => PushState::Succeeded,
            PushStatus::RolledBack => PushState::RolledBack,
            PushStatus::Failed => PushState::Failed,
            PushStatus::DryRun => PushState::DryRun,
            PushStatus::AwaitingConfirmation => PushState::AwaitingConfirmation,
            PushStatus::Unknown => PushState::Unknown,
        }
    }

    /// The audit event that records the push ending this way.
    pub fn audit_action(self) -> AuditAction {
        match self {
            PushStatus::Succeeded => AuditAction::PushSucceeded,
            PushStatus::RolledBack => AuditAction::PushRolledBack,
            PushStatus::Failed => AuditAction::PushFailed,
            PushStatus::DryRun => AuditAction::PushDryRun,
            PushStatus::AwaitingConfirmation => AuditAction::PushAwaitingConfirmation,
            PushStatus::Unknown => AuditAction::PushUnknown,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            PushStatus::Succeeded => "succeeded",
            PushStatus::RolledBack => "rolled-back",
            PushStatus::Failed => "failed",
            PushStatus::DryRun => "dry-run",
            PushStatus::AwaitingConfirmation => "awaiting-confirmation",
            PushStatus::Unknown => "unknown",
        }
    }
}

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct PushReport {
    pub push_id: String,
    pub status: PushStatus,
    pub steps: Vec<StepReport>,
    /// The backup file on the router.
    pub backup: Option<String>,
    /// The safety scheduler left armed (awaiting confirmation).
    pub safety_net: Option<String>,
    /// What happened, in a technician's words.
    pub message: String,
}

struct Audit<'a> {
    store: &'a FleetStore,
    device_id: &'a str,
    actor: &'a str,
    push_id: &'a str,
    /// Step events waiting to be stored with the next write.
    pending: std::sync::Mutex<Vec<AuditEvent>>,
}

/// Step events stored together, so a 200-step push is a handful of store
/// writes rather than 200.
const STEP_EVENTS_PER_WRITE: usize = 50;

impl Audit<'_> {
    /// Stage events are stored before the next stage starts (with any step
    /// events still pending, in order); step events in groups. A crash
    /// leaves the trail up to the last stage, and at most one group of
    /// step events short. An event that cannot be stored is an error: a
    /// push whose trail cannot be kept does not go on.
    async fn event(&self, action: AuditAction, detail: serde_json::Value) -> Result<(), String> {
        let mut detail = detail;
        detail["push"] = self.push_id.into();
        let e = AuditEvent {
            id: fleet_store::new_id(),
            at: poll::now_ms(),
            device_id: Some(self.device_id.to_owned()),
            actor: self.actor.to_owned(),
            action: action.into(),
            detail: detail.to_string(),
        };
        let batch = {
            let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
            pending.push(e);
            if action == AuditAction::PushStep && pending.len() < STEP_EVENTS_PER_WRITE {
                return Ok(());
            }
            std::mem::take(&mut *pending)
        };
        self.store.record_audit(&batch).await.map(|_| ()).map_err(|err| {
            tracing::error!(error = %err, action = action.as_str(), "could not store {} audit events", batch.len());
            format!("the audit trail could not be written ({err})")
        })
    }
}

/// An outcome as the audit trail keeps it: what `/import verbose=yes`
/// echoed may hold the script's secrets.
fn masked(outcome: &Outcome) -> Outcome {
    use crate::sensitive::mask_config;
    match outcome {
        Outcome::Imported { output } => Outcome::Imported {
            output: mask_config(output),
        },
        Outcome::WouldImport { checked, output } => Outcome::WouldImport {
            checked: *checked,
            output: mask_config(output),
        },
        other => other.clone(),
    }
}

/// Pushes `plan` to the router behind `client` (the device `device_id`).
/// `progress` sees each step as it finishes.
pub async fn push(
    store: &FleetStore,
    client: &Client,
    device_id: &str,
    template_id: Option<&str>,
    plan: &Plan,
    opts: &PushOptions,
    mut progress: impl FnMut(&StepReport),
) -> PushReport {
    let push_id = fleet_store::new_id();
    let audit = Audit {
        store,
        device_id,
        actor: &opts.actor,
        push_id: &push_id,
        pending: std::sync::Mutex::new(Vec::new()),
    };
    let mut record = PushRecord {
        id: push_id.clone(),
        device_id: device_id.to_owned(),
        template_id: template_id.map(str::to_owned),
        started_at: poll::now_ms(),
        finished_at: None,
        status: PushState::Running.into(),
        summary: format!("{} steps", plan.steps.len()),
        updated_at: poll::now_ms(),
        batch_id: opts.batch.clone(),
    };
    let started = match store.save_pushes(&[record.clone()]).await {
        Ok(_) => {
            audit
                .event(
                    AuditAction::PushStarted,
                    serde_json::json!({"steps": plan.steps.len(), "dryRun": opts.dry_run}),
                )
                .await
        }
        Err(e) => Err(format!("the push record could not be written ({e})")),
    };
    let mut report = PushReport {
        push_id: push_id.clone(),
        status: PushStatus::Unknown,
        steps: Vec::new(),
        backup: None,
        safety_net: None,
        message: String::new(),
    };
    let finish = |report: &mut PushReport, status: PushStatus, message: String| {
        report.status = status;
        report.message = message;
    };
    match started {
        Ok(()) => {
            let ran = tokio::time::timeout(
                opts.deadline,
                run(
                    client,
                    plan,
                    opts,
                    &audit,
                    &mut report,
                    &mut progress,
                    finish,
                ),
            )
            .await;
            if ran.is_err() {
                let after = format!(
                    "the push did not finish within {} s, so it was stopped",
                    opts.deadline.as_secs()
                );
                let message = if report.backup.is_none() {
                    (PushStatus::Failed, format!("{after}; nothing was changed"))
                } else {
                    let minutes = opts.confirm_within.as_secs().div_ceil(60).max(1);
                    (
                        PushStatus::Unknown,
                        format!("{after} after {} steps: what the router did is not known; its safety net restores the backup in {minutes} min unless the push is confirmed", report.steps.len()),
                    )
                };
                finish(&mut report, message.0, message.1);
            }
        }
        Err(why) => finish(
            &mut report,
            PushStatus::Failed,
            format!("{why}; the push did not start and nothing was changed"),
        ),
    }
    record.status = report.status.state().into();
    record.summary = report.message.clone();
    record.finished_at = Some(poll::now_ms());
    record.updated_at = poll::now_ms();
    if let Err(e) = store.save_pushes(&[record]).await {
        tracing::error!(error = %e, push = %push_id, "the push record's outcome could not be written");
        report.message = format!(
            "{}. The push record could not be updated ({e}): the history shows this push as still running",
            report.message
        );
    }
    if let Err(why) = audit
        .event(
            report.status.audit_action(),
            serde_json::json!({"message": report.message}),
        )
        .await
    {
        report.message = format!("{}. And {why}", report.message);
    }
    report
}

/// Reads the router's export and records it as a configuration version
/// (its id); what cannot be recorded comes back as the export's masked
/// text, or why there is none.
async fn keep_export(
    audit: &Audit<'_>,
    client: &Client,
    made: configs::Made<'_>,
) -> Result<String, String> {
    let export = client
        .export_text(routeros::ExportMethod::Auto)
        .await
        .map_err(|e| format!("(export failed: {e})"))?;
    let who = configs::identify(client).await;
    match configs::record_export(audit.store, audit.device_id, &export, who, made, None).await {
        Ok(configs::BackupOutcome::Changed { version_id, .. })
        | Ok(configs::BackupOutcome::Unchanged { version_id }) => Ok(version_id),
        Ok(configs::BackupOutcome::Failed { message }) => Err(message),
        Err(e) => {
            tracing::warn!(device = %audit.device_id, error = %e, "the export is kept in the trail, not as a version");
            Err(crate::sensitive::mask_config(&String::from_utf8_lossy(
                &export,
            )))
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn run(
    client: &Client,
    plan: &Plan,
    opts: &PushOptions,
    audit: &Audit<'_>,
    report: &mut PushReport,
    progress: &mut impl FnMut(&StepReport),
    finish: impl Fn(&mut PushReport, PushStatus, String),
) {
    // 1. Pre-flight.
    let resource = match client
        .run(&Command::new("/system/resource/print").proplist(["version", "free-hdd-space"]))
        .await
    {
        Ok(r) => r,
        Err(e) => {
            return finish(
                report,
                PushStatus::Failed,
                format!("pre-flight: {e}; nothing was changed"),
            )
        }
    };
    let row = resource.first().cloned().unwrap_or_default();
    let version = row
        .get("version")
        .map(|v| v.into_owned())
        .unwrap_or_default();
    // A check that cannot be made stops the push: no reading, no room.
    let free = row.get_u64("free-hdd-space");
    if let Err(why) = audit
        .event(
            AuditAction::PushPreflight,
            serde_json::json!({"version": version, "freeBytes": free}),
        )
        .await
    {
        return finish(
            report,
            PushStatus::Failed,
            format!("pre-flight: {why}; nothing was changed"),
        );
    }
    // A safety net of an earlier, unconfirmed push would load that push's
    // backup over this one: refuse until it is confirmed or has fired.
    let pending = match pending_safety_nets(client).await {
        Ok(p) => p,
        Err(e) => {
            return finish(
                report,
                PushStatus::Failed,
                format!("pre-flight: the router's schedulers could not be read to look for an earlier push's safety net ({e}); nothing was changed"),
            )
        }
    };
    if !pending.is_empty() && !opts.dry_run {
        return finish(
            report,
            PushStatus::Failed,
            format!(
                "pre-flight: an earlier push is not confirmed (scheduler {}); it restores that push's backup when it fires. Confirm it or let it revert, then push again; nothing was changed",
                pending.join(", ")
            ),
        );
    }
    if opts.dry_run {
        report.steps = plan::apply(client, plan, true).await;
        report.steps.iter().for_each(&mut *progress);
        let changes = report
            .steps
            .iter()
            .filter(|s| !matches!(s.outcome, Outcome::Unchanged))
            .count();
        return finish(
            report,
            PushStatus::DryRun,
            format!(
                "dry run: {changes} of {} steps would change the router",
                plan.steps.len()
            ),
        );
    }
    let free = match free {
        Some(free) => free,
        None => {
            return finish(
                report,
                PushStatus::Failed,
                "pre-flight: the router did not say how much storage is free, so there may be no room for the backup; nothing was changed".into(),
            )
        }
    };
    if free < opts.min_free_bytes {
        return finish(
            report,
            PushStatus::Failed,
            format!("pre-flight: only {free} bytes free on the router, a backup needs {}; nothing was changed", opts.min_free_bytes),
        );
    }

    // Backups of earlier pushes, confirmed or restored since: the router
    // no longer needs them, and each holds the whole configuration.
    if pending.is_empty() {
        remove_leftover_backups(client, opts.backup_keys.as_deref()).await;
    }

    // 2. Backup: on the router, encrypted with a password only this push
    // (and the keyring, while the backup exists) knows; the export text
    // here.
    let backup = Backup::new();
    if let Some(keys) = &opts.backup_keys {
        if let Err(e) = keys.set_push_backup(&backup.token, &backup.password) {
            return finish(
                report,
                PushStatus::Failed,
                format!("backup: its password could not be kept ({e}); nothing was changed"),
            );
        }
    }
    if let Err(e) = client
        .run(
            &Command::new("/system/backup/save")
                .attr("name", backup.file())
                .attr("password", backup.password.expose()),
        )
        .await
    {
        return finish(
            report,
            PushStatus::Failed,
            format!("backup: {e}; nothing was changed"),
        );
    }
    // The export before the push is a version of the router's
    // configuration history; where it cannot be one, its text stays in the
    // trail.
    let kept = keep_export(audit, client, configs::Made::BeforePush(audit.push_id)).await;
    report.backup = Some(backup.file());
    let mut detail = serde_json::json!({"file": backup.file(), "encrypted": true});
    match kept {
        Ok(version) => detail["version"] = version.into(),
        Err(export) => detail["export"] = export.into(),
    }
    if let Err(why) = audit.event(AuditAction::PushBackup, detail).await {
        return finish(
            report,
            PushStatus::Failed,
            format!("backup: {why}; nothing was changed"),
        );
    }

    // 3. Safety net: fires once, after `minutes`, unless confirmed. It is
    // in the trail before it is on the router, so a process killed between
    // the two leaves a net its batch's resume recognises as its own.
    let net = backup.net();
    let minutes = opts.confirm_within.as_secs().div_ceil(60).max(1);
    if let Err(why) = audit
        .event(
            AuditAction::PushSafetyNet,
            serde_json::json!({"scheduler": net, "minutes": minutes}),
        )
        .await
    {
        return finish(
            report,
            PushStatus::Failed,
            format!("safety net: {why}; nothing was changed"),
        );
    }
    if let Err(e) = client
        .run(
            &Command::new("/system/scheduler/add")
                .attr("name", &net)
                .attr("interval", format!("{minutes}m"))
                .attr("on-event", backup.on_event()),
        )
        .await
    {
        return finish(
            report,
            PushStatus::Failed,
            format!("safety net: {e}; nothing was changed"),
        );
    }

    // 4. Steps, one by one, sharing one read of each menu.
    let mut applier = plan::Applier::new(plan);
    for step in &plan.steps {
        let r = applier.step(client, step, false).await;
        progress(&r);
        let audited = audit
            .event(
                AuditAction::PushStep,
                serde_json::json!({"line": r.line, "outcome": masked(&r.outcome)}),
            )
            .await;
        report.steps.push(r.clone());
        if let Err(why) = audited {
            return finish(
                report,
                PushStatus::Failed,
                format!("line {}: {why}, so the push stopped here; the safety net restores the backup in {minutes} min", r.line),
            );
        }
        if let Outcome::Failed { message, lost } = &r.outcome {
            // Typed by the client, never guessed from the words: a trap
            // about `/ip/firewall/connection` is the router saying no.
            if *lost {
                let known = match &opts.reconnect {
                    Some(c) => after_loss(c, opts.reconnect_within, plan, &net, minutes).await,
                    None => format!("The safety net restores the backup in {minutes} min unless the push is confirmed"),
                };
                // Whatever the trail says, the outcome below is the same.
                let _ = audit
                    .event(
                        AuditAction::PushConnectionLost,
                        serde_json::json!({"line": r.line, "message": message, "known": known}),
                    )
                    .await;
                return finish(
                    report,
                    PushStatus::Unknown,
                    format!(
                        "line {}: {message}. What the router did with this step is not known. {known}",
                        r.line
                    ),
                );
            }
            if opts.rollback_on_failure {
                let restored = client
                    .run(
                        &Command::new("/system/backup/load")
                            .attr("name", backup.file())
                            .attr("password", backup.password.expose()),
                    )
                    .await;
                return match restored {
                    Ok(_) => finish(
                        report,
                        PushStatus::RolledBack,
                        format!("line {}: the router said: {message}. The backup was restored; the router reboots", r.line),
                    ),
                    Err(e) => finish(
                        report,
                        PushStatus::Failed,
                        format!("line {}: the router said: {message}. Restoring the backup failed too ({e}); the safety net restores it in {minutes} min", r.line),
                    ),
                };
            }
            return finish(
                report,
                PushStatus::Failed,
                format!("line {}: the router said: {message}. The safety net restores the backup in {minutes} min unless confirmed", r.line),
            );
        }
    }

    // 5. Verify: a dry run must find nothing left to do. A plain command
    // (`enable`, …) or an imported script has nothing to read back.
    let checkable = plan.readable();
    let unverified = plan.steps.len() - checkable.steps.len();
    let verify = plan::apply(client, &checkable, true).await;
    if let Some(bad) = verify.iter().find(|s| s.outcome != Outcome::Unchanged) {
        let _ = audit
            .event(
                AuditAction::PushVerifyFailed,
                serde_json::json!({"line": bad.line, "outcome": bad.outcome}),
            )
            .await;
        return finish(
            report,
            PushStatus::Failed,
            format!("verify: line {} still differs on the router ({:?}); the safety net restores the backup in {minutes} min unless confirmed", bad.line, bad.outcome),
        );
    }
    if let Err(why) = audit
        .event(AuditAction::PushVerified, serde_json::json!({}))
        .await
    {
        return finish(
            report,
            PushStatus::Failed,
            format!("verify: {why}, so the push is not confirmed; the safety net restores the backup in {minutes} min"),
        );
    }
    if !opts.auto_confirm {
        report.safety_net = Some(net.clone());
        return finish(
            report,
            PushStatus::AwaitingConfirmation,
            format!("applied and verified; the safety net ({net}) restores the backup in {minutes} min unless you confirm"),
        );
    }

    // 6. Confirm: remove the safety net.
    let removed = remove_schedulers(client, &net).await;
    match removed {
        Ok(1) => {
            // What the push made is the router's newest version. One that
            // cannot be read now is found, and credited, by the next backup.
            if let Err(why) = keep_export(audit, client, configs::Made::ByPush(audit.push_id)).await {
                tracing::warn!(push = %audit.push_id, "the configuration after the push was not recorded: {why}");
            }
            let cleanup = remove_backup(client, opts.backup_keys.as_deref(), &backup.token).await;
            if let Err(why) = audit
                .event(AuditAction::PushConfirmed, serde_json::json!({"scheduler": net}))
                .await
            {
                return finish(
                    report,
                    PushStatus::Unknown,
                    format!("confirmed on the router (scheduler {net} removed), but {why}"),
                );
            }
            let changed = report
                .steps
                .iter()
                .filter(|s| !matches!(s.outcome, Outcome::Unchanged))
                .count();
            let unverified = match unverified {
                0 => String::new(),
                n => format!(" ({n} of them cannot be read back: a command or an imported script)"),
            };
            let cleanup = match cleanup {
                Ok(()) => String::new(),
                Err(e) => format!("; its backup {} could not be removed ({e}), remove it by hand", backup.file()),
            };
            finish(
                report,
                PushStatus::Succeeded,
                format!("{changed} of {} steps changed the router; verified{unverified} and confirmed{cleanup}", plan.steps.len()),
            )
        }
        Ok(n) => finish(
            report,
            PushStatus::Unknown,
            format!("confirm: expected one safety scheduler {net}, found {n}; check the router's schedulers"),
        ),
        Err(e) => finish(
            report,
            PushStatus::Unknown,
            format!("confirm: {e}; the safety net may still restore the backup in {minutes} min: reconnect and remove scheduler {net}"),
        ),
    }
}

/// After a lost connection: reconnects (for up to `within`) and says what
/// is known: whether the router restarted, how many steps are in place,
/// whether the safety net is still armed. Reads only.
async fn after_loss(
    connect: &routeros::ConnectOptions,
    within: Duration,
    plan: &Plan,
    net: &str,
    minutes: u64,
) -> String {
    let lost_at = std::time::Instant::now();
    let client = loop {
        match Client::connect(connect).await {
            Ok(c) => break c,
            Err(e) if lost_at.elapsed() >= within => {
                return format!(
                    "It did not answer again within {} s ({e}); if it comes back, the safety net restores the backup in {minutes} min unless the push is confirmed",
                    within.as_secs()
                )
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(250)).await,
        }
    };
    let waited = lost_at.elapsed();
    let uptime = client
        .run(&Command::new("/system/resource/print").proplist(["uptime"]))
        .await
        .ok()
        .and_then(|r| {
            r.first()
                .and_then(|row| row.get("uptime").map(|u| u.into_owned()))
        });
    let restarted = match uptime
        .as_deref()
        .and_then(routeros_proto::value::parse_duration_secs)
    {
        // Up for less time than we were away (plus a margin): it restarted.
        Some(up) if up <= waited.as_secs() + 10 => format!("the router restarted (up {up} s)"),
        Some(up) => format!("the router did not restart (up {up} s)"),
        None => "whether the router restarted is not known".into(),
    };
    let checkable = plan.readable();
    let in_place = plan::apply(&client, &checkable, true)
        .await
        .iter()
        .filter(|s| s.outcome == Outcome::Unchanged)
        .count();
    let armed = client
        .run(
            &Command::new("/system/scheduler/print")
                .proplist(["name"])
                .word(format!("?name={net}")),
        )
        .await
        .map(|r| !r.rows.is_empty());
    let net_state = match armed {
        Ok(true) => format!("the safety net ({net}) is still armed and restores the backup within {minutes} min unless the push is confirmed"),
        Ok(false) => format!("the safety net ({net}) is gone: the backup may already have been restored"),
        Err(e) => format!("whether the safety net is armed could not be read ({e})"),
    };
    format!(
        "Reconnected after {:.1} s: {restarted}; {in_place} of {} checkable steps are in place; {net_state}",
        waited.as_secs_f64(),
        checkable.steps.len()
    )
}
