//! Restoring a router to a stored version of its configuration: a plan of
//! only what differs (see [`plan::restore_plan`]), shown first, pushed
//! through the push engine (backup, safety net, verify, audit), then the
//! router's export compared with the version.

use std::time::Duration;

use fleet_store::{AuditAction, AuditEvent, ConfigVersion};
use serde::Serialize;

use crate::{
    bulk::Control,
    configs,
    credentials::Sensitive,
    plan::{self, Action, Plan, StepReport},
    poll, preview,
    push::{self, PushOptions, PushReport, PushStatus},
    reach,
    sealed::ConfigKey,
    Fleet, FleetError,
};

/// What a restore would do, before it does it.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct RestorePreview {
    pub version: ConfigVersion,
    /// The steps, removals first.
    pub plan: Plan,
    /// Items the router has that the version does not hold: removed.
    pub removals: usize,
    /// The router now against the version; empty when they are equal.
    pub diff: String,
}

/// How the router's configuration compares with the version after a
/// restore.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    tag = "kind"
)]
pub enum RestoreCheck {
    /// The router's export equals the version (normalised).
    Equal,
    /// The same items and settings, `lines` of them listed in another
    /// order: RouterOS lists named items in the order they were made, so
    /// an item made again comes last.
    OrderOnly { lines: usize },
    /// Still different: the router now against the version.
    Differs { diff: String },
    /// Not compared: the push did not finish, or the export could not be
    /// read.
    NotChecked { why: String },
}

/// A restore's outcome.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct RestoreReport {
    pub version_id: String,
    pub push: PushReport,
    pub check: RestoreCheck,
    /// What happened, in a technician's words.
    pub message: String,
}

/// How a restore is pushed.
#[derive(Debug, Clone)]
pub struct RestoreOptions {
    /// The safety net restores the pre-restore backup after this long
    /// unless confirmed.
    pub confirm_within: Duration,
    /// Leave the safety net armed until the technician confirms.
    pub manual_confirm: bool,
}

impl Default for RestoreOptions {
    fn default() -> Self {
        Self {
            confirm_within: Duration::from_secs(600),
            manual_confirm: false,
        }
    }
}

impl Fleet {
    /// What restoring `version_id` would change on the router now.
    pub async fn restore_preview(
        &self,
        device_id: &str,
        version_id: &str,
    ) -> Result<RestorePreview, FleetError> {
        let (version, stored) = self.config_show(device_id, Some(version_id)).await?;
        let client = self.connect(device_id).await?;
        let now = live_text(&client).await?;
        let (plan, _) = self.restore_plan_for(&client, &version, &stored).await?;
        // Shown in the app and the CLI: no secret, even from a sealed copy.
        let plan = plan.shown_masked(crate::sensitive::is_sensitive);
        Ok(RestorePreview {
            removals: removals(&plan),
            diff: preview::labeled_diff(&now, &stored, "the router now", &version.id),
            version,
            plan,
        })
    }

    /// Converges the router to `version_id` through the push engine, then
    /// compares its export with the version. One push at a time.
    pub async fn restore(
        &self,
        device_id: &str,
        version_id: &str,
        opts: &RestoreOptions,
        progress: impl FnMut(&StepReport),
    ) -> Result<RestoreReport, FleetError> {
        let job = fleet_store::new_id();
        let _slot = self.reserve_push(&job, &Control::default())?;
        let (version, stored) = self.config_show(device_id, Some(version_id)).await?;
        let mut target = self
            .targets_of(&[device_id.to_owned()])
            .await?
            .pop()
            .expect("one id, one target");
        let actor = push::technician();
        let client = reach::open(self.store(), &mut target, &actor).await?;
        let (plan, sealed) = self.restore_plan_for(&client, &version, &stored).await?;
        let report = push::push(
            self.store(),
            &client,
            device_id,
            None,
            &plan,
            &PushOptions {
                confirm_within: opts.confirm_within,
                auto_confirm: !opts.manual_confirm,
                actor: actor.clone(),
                reconnect: Some(target.connect.clone()),
                backup_keys: Some(self.shared_credentials()),
                ..PushOptions::default()
            },
            progress,
        )
        .await;
        let check = match report.status {
            PushStatus::Succeeded | PushStatus::AwaitingConfirmation => {
                match live_text(&client).await {
                    Ok(after) => compare(&after, &stored, &version),
                    Err(e) => RestoreCheck::NotChecked {
                        why: format!(
                            "the router's export could not be read ({})",
                            e.as_sentence()
                        ),
                    },
                }
            }
            _ => RestoreCheck::NotChecked {
                why: "the restore did not finish".into(),
            },
        };
        // The push kept what it made as a version from the masked text;
        // restored secrets are a version of their own, credited to it.
        if sealed && matches!(report.status, PushStatus::Succeeded) {
            if let Err(e) = self
                .keep_sealed_after(&client, device_id, &report.push_id)
                .await
            {
                tracing::warn!(device = %device_id, "the restored secrets were not recorded: {e}");
            }
        }
        let message = match &check {
            RestoreCheck::Equal => format!("{}; the router's configuration equals version {}", report.message, version.id),
            RestoreCheck::OrderOnly { lines } => format!("{}; the router holds version {} with {lines} line(s) in another order (an item made again is listed last)", report.message, version.id),
            RestoreCheck::Differs { .. } => format!("{}; the router still differs from version {}: see the diff", report.message, version.id),
            RestoreCheck::NotChecked { why } => format!("{}; not compared with version {}: {why}", report.message, version.id),
        };
        let event = AuditEvent {
            id: fleet_store::new_id(),
            at: poll::now_ms(),
            device_id: Some(device_id.to_owned()),
            actor,
            action: AuditAction::ConfigRestored.into(),
            detail: serde_json::json!({
                "version": version.id,
                "push": report.push_id,
                "status": report.status.as_str(),
                "check": &check,
            })
            .to_string(),
        };
        if let Err(e) = self.store().record_audit(&[event]).await {
            tracing::warn!(device = %device_id, error = %e, "the restore's audit event was not written");
        }
        Ok(RestoreReport {
            version_id: version.id,
            push: report,
            check,
            message,
        })
    }
}

impl Fleet {
    /// The plan from the router now to `version`: from the sealed exports
    /// with their secrets when the version has one this machine can open
    /// (so secrets come back too), else from the masked texts.
    /// Whether the plan came from the sealed exports.
    async fn restore_plan_for(
        &self,
        client: &routeros::Client,
        version: &ConfigVersion,
        stored: &str,
    ) -> Result<(Plan, bool), FleetError> {
        match configs::open_sealed(self.store(), self.credentials(), &version.id).await? {
            Some(sealed) => {
                let raw = client
                    .export_sensitive()
                    .await
                    .map_err(FleetError::Router)?;
                let now = preview::normalise_export(&raw)?;
                Ok((plan_for(version, sealed.expose(), &now)?, true))
            }
            None => Ok((plan_for(version, stored, &live_text(client).await?)?, false)),
        }
    }

    /// Records the router's configuration, secrets sealed, as made by
    /// push `push_id`.
    async fn keep_sealed_after(
        &self,
        client: &routeros::Client,
        device_id: &str,
        push_id: &str,
    ) -> Result<(), FleetError> {
        let Some(key) = ConfigKey::load(self.credentials())? else {
            return Ok(());
        };
        let export = client
            .export_text(routeros::ExportMethod::Auto)
            .await
            .map_err(FleetError::Router)?;
        let raw = client
            .export_sensitive()
            .await
            .map_err(FleetError::Router)?;
        let sealing = configs::Sealing {
            key: &key,
            text: Sensitive::new(preview::normalise_export(&raw)?),
        };
        configs::record_export(
            self.store(),
            device_id,
            &export,
            configs::identify(client).await,
            configs::Made::ByPush(push_id),
            Some(sealing),
        )
        .await?;
        Ok(())
    }
}

/// The router's export now, as a version keeps it.
async fn live_text(client: &routeros::Client) -> Result<String, FleetError> {
    let export = client
        .export_text(routeros::ExportMethod::Auto)
        .await
        .map_err(FleetError::Router)?;
    configs::stored_form(&export)
}

fn plan_for(version: &ConfigVersion, stored: &str, now: &str) -> Result<Plan, FleetError> {
    plan::restore_plan(stored, now).map_err(|e| {
        FleetError::InvalidInput(format!(
            "version {} cannot be restored as a plan: {e}",
            version.id
        ))
    })
}

fn removals(plan: &Plan) -> usize {
    plan.steps
        .iter()
        .filter(|s| matches!(s.action, Action::Remove { .. }))
        .count()
}

/// The router's text after a restore against the version's.
fn compare(after: &str, stored: &str, version: &ConfigVersion) -> RestoreCheck {
    if after == stored {
        return RestoreCheck::Equal;
    }
    if sorted_lines(after) == sorted_lines(stored) {
        let lines = after
            .lines()
            .zip(stored.lines())
            .filter(|(a, b)| a != b)
            .count();
        return RestoreCheck::OrderOnly { lines };
    }
    RestoreCheck::Differs {
        diff: preview::labeled_diff(stored, after, &version.id, "the router now"),
    }
}

fn sorted_lines(t: &str) -> Vec<&str> {
    let mut l: Vec<&str> = t.lines().collect();
    l.sort_unstable();
    l
}
