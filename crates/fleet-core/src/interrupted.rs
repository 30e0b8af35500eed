//! Bulk pushes a crash left behind, found at start and resumed without
//! their caller: a batch keeps the push it ran ([`PushSpec`], in its
//! options), its secret values in the keyring under the batch (never in the
//! store, which is shared), so the app can offer "Resume" after it was
//! closed, killed or the laptop died mid-push.

use std::{collections::BTreeMap, time::Duration};

use fleet_store::{BatchState, PushBatch, PushState};
use serde::Serialize;

use crate::{
    bulk::{self, BulkReport},
    credentials::Sensitive,
    provision::{PushEvent, PushSpec},
    template::{Template, ValueType},
    Fleet, FleetError,
};

/// A batch left running this long without a heartbeat, by a process that
/// cannot be asked (another laptop), counts as interrupted.
const STALE: Duration = Duration::from_secs(60);

/// The keyring account of batch `id`'s secret values (one JSON object).
fn secrets_account(id: &str) -> String {
    format!("push-batch:{id}")
}

/// The names of `template`'s secret placeholders; `None` when it does
/// not parse (then which values are secret is not known).
fn secret_names(template: &str) -> Option<Vec<String>> {
    Template::parse(template).ok().map(|t| {
        t.placeholders()
            .iter()
            .filter(|p| p.value_type == ValueType::Secret)
            .map(|p| p.name.clone())
            .collect()
    })
}

/// `spec` to keep with its batch, and its secret values, kept apart. A
/// template that does not parse keeps no value at all: fail closed.
pub(crate) fn split_secrets(spec: &PushSpec) -> (PushSpec, BTreeMap<String, String>) {
    let mut kept = spec.clone();
    let Some(names) = secret_names(&spec.template) else {
        kept.values.clear();
        return (kept, BTreeMap::new());
    };
    let mut secrets = BTreeMap::new();
    for name in names {
        if let Some(v) = kept.values.remove(&name) {
            secrets.insert(name, v);
        }
    }
    (kept, secrets)
}

/// An interrupted bulk push this laptop can resume.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct InterruptedPush {
    pub batch_id: String,
    #[ts(type = "number")]
    pub started_at: i64,
    pub routers: usize,
    pub succeeded: usize,
    /// The batch's own words (how many were done, how many mid-push).
    pub summary: String,
    /// The template's first line, to recognise the push by.
    pub template_start: String,
    pub dry_run: bool,
}

/// The push `batch` ran, if it kept it.
fn recorded_spec(batch: &PushBatch) -> Option<PushSpec> {
    let options: serde_json::Value = serde_json::from_str(&batch.options).ok()?;
    serde_json::from_value(options.get("spec")?.clone()).ok()
}

impl Fleet {
    /// Keeps `spec`'s secret values in the keyring under batch `id`, and
    /// returns what the batch itself keeps. Where the keyring cannot take
    /// them, the batch keeps the rest and a resume asks for a new push.
    pub(crate) fn keep_push(&self, id: &str, spec: &PushSpec) -> serde_json::Value {
        let (kept, secrets) = split_secrets(spec);
        if !secrets.is_empty() {
            let json = serde_json::to_string(&secrets).unwrap_or_default();
            if let Err(e) = self
                .credentials()
                .set(&secrets_account(id), &Sensitive::new(json))
            {
                tracing::warn!(batch = %id, "the push's secret values could not be kept in the keyring ({e}); if it is interrupted, push it again instead of resuming");
            }
        }
        serde_json::to_value(kept).unwrap_or_default()
    }

    /// Forgets batch `id`'s secret values once it is finished.
    pub(crate) async fn forget_push_if_finished(&self, id: &str) {
        let finished = self
            .store()
            .push_batches(Some(BatchState::Finished), u32::MAX)
            .await
            .map(|b| b.iter().any(|b| b.id == id))
            .unwrap_or(false);
        if finished {
            if let Err(e) = self.credentials().delete(&secrets_account(id)) {
                tracing::warn!(batch = %id, "a finished push's secret values could not be removed from the keyring: {e}");
            }
        }
    }

    /// Bulk pushes cut short (the app closed, killed, the laptop died) that
    /// this laptop can resume by itself: batches whose process is gone are
    /// marked interrupted first. Newest first.
    pub async fn interrupted_pushes(&self) -> Result<Vec<InterruptedPush>, FleetError> {
        if self.running_push().is_some() {
            return Ok(Vec::new());
        }
        bulk::recover_interrupted(&self.shared_store(), STALE).await?;
        let mut out = Vec::new();
        for b in self
            .store()
            .push_batches(Some(BatchState::Interrupted), 50)
            .await?
        {
            let Some(spec) = recorded_spec(&b) else {
                continue;
            };
            let succeeded = self
                .store()
                .batch_pushes(&b.id)
                .await?
                .iter()
                .filter(|p| p.status == PushState::Succeeded || p.status == PushState::DryRun)
                .count();
            out.push(InterruptedPush {
                batch_id: b.id.clone(),
                started_at: b.started_at,
                routers: b.targets.len(),
                succeeded,
                summary: b.summary.clone(),
                template_start: spec
                    .template
                    .lines()
                    .find(|l| !l.trim().is_empty())
                    .unwrap_or("")
                    .chars()
                    .take(120)
                    .collect(),
                dry_run: spec.dry_run,
            });
        }
        Ok(out)
    }

    /// Resumes interrupted batch `batch_id` with the push it recorded (its
    /// secret values from the keyring), to its routers as the inventory
    /// reaches them: the routers it left mid-push are settled, the rest
    /// pushed, as `push --resume` does.
    pub async fn resume_push(
        &self,
        batch_id: &str,
        on_event: impl Fn(PushEvent) + Send + Sync + 'static,
    ) -> Result<BulkReport, FleetError> {
        let batch = self
            .store()
            .push_batches(None, u32::MAX)
            .await?
            .into_iter()
            .find(|b| b.id == batch_id)
            .ok_or_else(|| {
                FleetError::InvalidInput(format!("no bulk push {batch_id} in this store"))
            })?;
        let mut spec = recorded_spec(&batch).ok_or_else(|| {
            FleetError::InvalidInput(format!(
                "bulk push {batch_id} does not keep what it pushed: push it again from Provision"
            ))
        })?;
        let names = secret_names(&spec.template).unwrap_or_default();
        if !names.is_empty() {
            let kept = self
                .credentials()
                .get(&secrets_account(batch_id))?
                .and_then(|s| serde_json::from_str::<BTreeMap<String, String>>(s.expose()).ok())
                .ok_or_else(|| {
                    FleetError::InvalidInput(format!(
                        "bulk push {batch_id}'s secret values ({}) are not kept on this laptop: push it again from Provision with them",
                        names.join(", ")
                    ))
                })?;
            spec.values.extend(kept);
        }
        let targets = self.targets_of(&batch.targets).await?;
        self.push_to(targets, &spec, Some(batch_id), on_event).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_values_are_kept_apart_from_the_batch() {
        let spec = PushSpec {
            template: "/system identity set name={{ name: string }}\n/user set admin password={{ pw: secret }}\n".into(),
            values: [("name".into(), "edge".into()), ("pw".into(), "Hunter2!".into())].into(),
            import: false,
            waves: "100%".into(),
            concurrency: 2,
            stop_after: 0,
            confirm_within_minutes: 10,
            manual_confirm: false,
            dry_run: false,
        };
        let (kept, secrets) = split_secrets(&spec);
        assert_eq!(kept.values.get("name").map(String::as_str), Some("edge"));
        assert!(!kept.values.contains_key("pw"));
        assert!(!serde_json::to_string(&kept).unwrap().contains("Hunter2!"));
        assert_eq!(secrets.get("pw").map(String::as_str), Some("Hunter2!"));
        // Unparsable: no value is kept, since none can be told apart.
        let broken = PushSpec {
            template: "/x y={{ pw: secret \n".into(),
            ..spec
        };
        let (kept, secrets) = split_secrets(&broken);
        assert!(kept.values.is_empty() && secrets.is_empty());
    }
}
