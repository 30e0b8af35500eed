//! Configuration history: every router's export backed up, kept as a new
//! version only when its normalised text changed, each change attributed
//! to the Fleetdeck push that made it or flagged as drift (made outside
//! Fleetdeck), which raises an alert.

use std::time::{Duration, Instant};

use fleet_store::{
    config_hash, AuditAction, AuditEvent, ConfigHit, ConfigVersion, FleetStore, PushState,
};
use futures::StreamExt;
use serde::Serialize;

use crate::{
    credentials::{CredentialStore, Sensitive},
    poll, preview,
    sealed::ConfigKey,
    Fleet, FleetError,
};

const ACTOR: &str = "fleetdeck";

/// How a backup run goes.
#[derive(Debug, Clone)]
pub struct BackupOptions {
    /// Routers backed up at once.
    pub concurrency: usize,
    /// How long one router may take (connect, export, read back).
    pub deadline: Duration,
    /// Also keep each export with its secrets, sealed with this machine's
    /// key (see [`crate::sealed`]): opt-in.
    pub sensitive: bool,
}

impl Default for BackupOptions {
    fn default() -> Self {
        Self {
            concurrency: 16,
            deadline: Duration::from_secs(120),
            sensitive: false,
        }
    }
}

/// What a backup of one router found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    tag = "outcome"
)]
pub enum BackupOutcome {
    /// The configuration is as last stored: no new version.
    Unchanged { version_id: String },
    /// A new version: the first, one a Fleetdeck push made (`push_id`),
    /// or drift.
    Changed {
        version_id: String,
        push_id: Option<String>,
        drift: bool,
    },
    /// No backup: the router's words, or why it could not be asked.
    Failed { message: String },
}

/// One router's backup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct RouterBackup {
    pub device_id: String,
    pub name: String,
    #[serde(flatten)]
    pub outcome: BackupOutcome,
}

/// A backup run over several routers.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct BackupReport {
    pub routers: Vec<RouterBackup>,
    pub new_versions: usize,
    pub unchanged: usize,
    pub drift: usize,
    pub failed: usize,
    pub seconds: f64,
}

/// Where one router's backups stand: its newest version, and the last
/// failure since a backup last reached it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct RouterBackupStatus {
    pub device_id: String,
    pub name: String,
    pub latest: Option<ConfigVersion>,
    /// The router's words, when the last backup of it failed.
    pub last_failure: Option<String>,
    pub last_failure_at: Option<i64>,
    /// Compliance rules its newest version breaks, by name.
    pub rules_failed: Vec<String>,
}

/// A search hit in one router's newest configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct ConfigSearchHit {
    /// The router as the inventory names it.
    pub name: String,
    #[serde(flatten)]
    pub hit: ConfigHit,
}

/// A version and its normalised text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct ConfigText {
    pub version: ConfigVersion,
    pub text: String,
}

/// Two versions (or a version and the router now) side by side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct ConfigDiff {
    pub from: String,
    pub to: String,
    /// Unified diff of the normalised texts; empty when they are equal.
    pub diff: String,
}

impl Fleet {
    /// Backs up `device_ids` (every router in the inventory when `None`),
    /// at most `opts.concurrency` at once, each within `opts.deadline`. A
    /// router that fails is reported with the router's words (and an audit
    /// event), and is tried again next run.
    pub async fn backup(
        &self,
        device_ids: Option<Vec<String>>,
        opts: &BackupOptions,
    ) -> Result<BackupReport, FleetError> {
        let started = Instant::now();
        let devices = self.store().list_devices().await?;
        let chosen: Vec<(String, String)> = devices
            .iter()
            .filter(|d| device_ids.as_ref().is_none_or(|ids| ids.contains(&d.id)))
            .map(|d| {
                let name = d
                    .identity
                    .clone()
                    .unwrap_or_else(|| format!("{}:{}", d.host, d.port));
                (d.id.clone(), name)
            })
            .collect();
        if let Some(ids) = &device_ids {
            if let Some(missing) = ids.iter().find(|id| !chosen.iter().any(|(c, _)| c == *id)) {
                return Err(FleetError::InvalidInput(format!(
                    "no router {missing} in the inventory"
                )));
            }
        }
        // Sealed exports need the key: a run that cannot keep them sealed
        // does not take them.
        let key = match opts.sensitive {
            true => Some(ConfigKey::load_or_create(self.credentials()).map_err(|e| {
                FleetError::InvalidInput(format!(
                    "exports with their secrets are kept only sealed, and the key cannot be kept: {e}"
                ))
            })?),
            false => None,
        };
        let key = key.as_ref();
        let routers: Vec<RouterBackup> = futures::stream::iter(chosen)
            .map(|(id, name)| async move {
                let outcome = match self.backup_router(&id, opts.deadline, key).await {
                    Ok(o) => o,
                    Err(e) => BackupOutcome::Failed {
                        message: e.as_sentence(),
                    },
                };
                if let BackupOutcome::Failed { message } = &outcome {
                    self.audit(&id, AuditAction::ConfigBackupFailed, message.clone())
                        .await;
                }
                RouterBackup {
                    device_id: id,
                    name,
                    outcome,
                }
            })
            .buffer_unordered(opts.concurrency.max(1))
            .collect()
            .await;
        let count =
            |f: fn(&BackupOutcome) -> bool| routers.iter().filter(|r| f(&r.outcome)).count();
        Ok(BackupReport {
            new_versions: count(|o| matches!(o, BackupOutcome::Changed { .. })),
            unchanged: count(|o| matches!(o, BackupOutcome::Unchanged { .. })),
            drift: count(|o| matches!(o, BackupOutcome::Changed { drift: true, .. })),
            failed: count(|o| matches!(o, BackupOutcome::Failed { .. })),
            seconds: started.elapsed().as_secs_f64(),
            routers,
        })
    }

    /// One router's backup: its export now (within `deadline`),
    /// normalised, compared with the last stored version.
    async fn backup_router(
        &self,
        device_id: &str,
        deadline: Duration,
        key: Option<&ConfigKey>,
    ) -> Result<BackupOutcome, FleetError> {
        let fetch = async {
            let client = self.connect(device_id).await?;
            let export = client
                .export_text(routeros::ExportMethod::Auto)
                .await
                .map_err(FleetError::Router)?;
            let secrets = match key {
                Some(_) => Some(
                    client
                        .export_sensitive()
                        .await
                        .map_err(FleetError::Router)?,
                ),
                None => None,
            };
            let who = identify(&client).await;
            Ok::<_, FleetError>((export, secrets, who))
        };
        let (export, secrets, who) =
            tokio::time::timeout(deadline, fetch).await.map_err(|_| {
                FleetError::InvalidInput(format!(
                    "the router did not give its export within {} s",
                    deadline.as_secs()
                ))
            })??;
        let sealing = match (key, secrets) {
            (Some(key), Some(raw)) => Some(Sealing {
                key,
                text: Sensitive::new(preview::normalise_export(&raw)?),
            }),
            _ => None,
        };
        record_export(self.store(), device_id, &export, who, Made::Found, sealing).await
    }

    /// A version's export with its secrets, when one was kept sealed and
    /// this machine holds the key; `None` otherwise.
    pub async fn config_sealed(
        &self,
        device_id: &str,
        version_id: Option<&str>,
    ) -> Result<Option<Sensitive<String>>, FleetError> {
        let version = self.version_of(device_id, version_id).await?;
        open_sealed(self.store(), self.credentials(), &version.id).await
    }

    async fn audit(&self, device_id: &str, action: AuditAction, detail: String) {
        audit(self.store(), device_id, action, detail).await
    }

    /// Every router's backup standing: for the Backups view.
    pub async fn backup_status(&self) -> Result<Vec<RouterBackupStatus>, FleetError> {
        let store = self.store();
        let latest = store.latest_config_versions().await?;
        let compliance = self.config_check(None).await?;
        let failures: Vec<AuditEvent> = store
            .audit_events(None, 0, 10_000)
            .await?
            .into_iter()
            .filter(|e| e.action.known() == Some(AuditAction::ConfigBackupFailed))
            .collect();
        let mut out: Vec<RouterBackupStatus> = store
            .list_devices()
            .await?
            .into_iter()
            .map(|d| {
                let latest = latest.iter().find(|v| v.device_id == d.id).cloned();
                let seen = latest.as_ref().map_or(i64::MIN, |v| v.checked_at);
                // Newest first: the first failure of this router, if no
                // backup reached it since.
                let failure = failures
                    .iter()
                    .find(|e| e.device_id.as_deref() == Some(d.id.as_str()))
                    .filter(|e| e.at > seen);
                let rules_failed = compliance
                    .routers
                    .iter()
                    .find(|r| r.device_id == d.id)
                    .map(|r| {
                        r.outcomes
                            .iter()
                            .filter(|o| !o.passed)
                            .map(|o| o.rule.clone())
                            .collect()
                    })
                    .unwrap_or_default();
                RouterBackupStatus {
                    rules_failed,
                    name: d
                        .identity
                        .clone()
                        .unwrap_or_else(|| format!("{}:{}", d.host, d.port)),
                    device_id: d.id,
                    latest,
                    last_failure: failure.map(|e| e.detail.clone()),
                    last_failure_at: failure.map(|e| e.at),
                }
            })
            .collect();
        out.sort_by_key(|r| r.name.to_lowercase());
        Ok(out)
    }

    /// Lines of every router's newest configuration holding `needle`
    /// (case-insensitive): a string, or a path and property as the
    /// normalised text writes them (`/ip service set api address=`).
    pub async fn config_search(
        &self,
        needle: &str,
        limit: u32,
    ) -> Result<Vec<ConfigSearchHit>, FleetError> {
        let hits = self.store().search_configs(needle, limit).await?;
        let devices = self.store().list_devices().await?;
        Ok(hits
            .into_iter()
            .map(|hit| {
                let name = devices
                    .iter()
                    .find(|d| d.id == hit.device_id)
                    .map(|d| {
                        d.identity
                            .clone()
                            .unwrap_or_else(|| format!("{}:{}", d.host, d.port))
                    })
                    .unwrap_or_else(|| hit.device_id.clone());
                ConfigSearchHit { name, hit }
            })
            .collect())
    }

    /// A router's versions, newest first.
    pub async fn config_log(
        &self,
        device_id: &str,
        limit: u32,
    ) -> Result<Vec<ConfigVersion>, FleetError> {
        self.store().get_device(device_id).await?;
        Ok(self.store().config_versions(Some(device_id), limit).await?)
    }

    /// A version's text (the router's newest when `version_id` is `None`).
    pub async fn config_show(
        &self,
        device_id: &str,
        version_id: Option<&str>,
    ) -> Result<(ConfigVersion, String), FleetError> {
        let version = self.version_of(device_id, version_id).await?;
        let text = self.text_of(&version).await?;
        Ok((version, text))
    }

    /// Two versions side by side; `to: None` is the router's live export
    /// now.
    pub async fn config_diff(
        &self,
        device_id: &str,
        from: &str,
        to: Option<&str>,
    ) -> Result<ConfigDiff, FleetError> {
        let a = self.version_of(device_id, Some(from)).await?;
        let before = self.text_of(&a).await?;
        let (to_label, after) = match to {
            Some(id) => {
                let b = self.version_of(device_id, Some(id)).await?;
                (label(&b), self.text_of(&b).await?)
            }
            None => {
                let client = self.connect(device_id).await?;
                let export = client
                    .export_text(routeros::ExportMethod::Auto)
                    .await
                    .map_err(FleetError::Router)?;
                ("the router now".to_owned(), stored_form(&export)?)
            }
        };
        let from_label = label(&a);
        Ok(ConfigDiff {
            diff: preview::labeled_diff(&before, &after, &from_label, &to_label),
            from: from_label,
            to: to_label,
        })
    }

    async fn version_of(
        &self,
        device_id: &str,
        version_id: Option<&str>,
    ) -> Result<ConfigVersion, FleetError> {
        let versions = self.config_log(device_id, u32::MAX).await?;
        match version_id {
            None => versions.into_iter().next().ok_or_else(|| {
                FleetError::InvalidInput("this router has no configuration backup yet".into())
            }),
            Some(id) => {
                if let Some(v) = versions.iter().find(|v| v.id == id) {
                    return Ok(v.clone());
                }
                let matching: Vec<&ConfigVersion> = versions
                    .iter()
                    .filter(|v| id.len() >= 8 && v.id.starts_with(id))
                    .collect();
                match matching.as_slice() {
                    [one] => Ok((*one).clone()),
                    [] => Err(FleetError::InvalidInput(format!(
                        "this router has no configuration version {id}"
                    ))),
                    many => Err(FleetError::InvalidInput(format!(
                        "{id} is the start of {} versions of this router: give more of the id",
                        many.len()
                    ))),
                }
            }
        }
    }

    async fn text_of(&self, v: &ConfigVersion) -> Result<String, FleetError> {
        self.store().config_text(&v.hash).await?.ok_or_else(|| {
            FleetError::InvalidInput(format!(
                "the text of configuration version {} is not in this store (a partial copy?)",
                v.id
            ))
        })
    }
}

/// A version as a diff header names it.
fn label(v: &ConfigVersion) -> String {
    format!("{} ({})", v.id, crate::chart::iso_hour(v.taken_at))
}

/// RouterOS version, board and serial number, as well as the router says
/// them (a CHR has no RouterBOARD, so no serial).
pub(crate) async fn identify(client: &routeros::Client) -> Identity {
    let mut out = (None, None, None);
    if let Ok(r) = client
        .run(&routeros::Command::new("/system/resource/print").proplist(["version", "board-name"]))
        .await
    {
        if let Some(row) = r.rows.first() {
            out.0 = row.get("version").map(|v| v.into_owned());
            out.1 = row.get("board-name").map(|v| v.into_owned());
        }
    }
    if let Ok(r) = client
        .run(&routeros::Command::new("/system/routerboard/print").proplist(["serial-number"]))
        .await
    {
        out.2 = r
            .rows
            .first()
            .and_then(|row| row.get("serial-number").map(|v| v.into_owned()));
    }
    out
}

/// An export as a version keeps it: normalised (ROUTEROS.md §4.4), and
/// every secret the router printed (RouterOS 6 prints them all, and a
/// script's source may hold one) masked as `***`, so a version holds no
/// secret and a masked value compares equal from one backup to the next.
pub fn stored_form(export: &[u8]) -> Result<String, FleetError> {
    Ok(crate::sensitive::mask_config(&preview::normalise_export(
        export,
    )?))
}

/// Records an audit event; one that cannot be written is logged, and the
/// backup it reports on stands.
pub(crate) async fn audit(
    store: &FleetStore,
    device_id: &str,
    action: AuditAction,
    detail: String,
) {
    let event = AuditEvent {
        id: fleet_store::new_id(),
        at: poll::now_ms(),
        device_id: Some(device_id.to_owned()),
        actor: ACTOR.into(),
        action: action.into(),
        detail,
    };
    if let Err(e) = store.record_audit(&[event]).await {
        tracing::warn!(device = %device_id, action = action.as_str(), error = %e, "audit event not written");
    }
}

/// Who made the configuration an export shows.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Made<'a> {
    /// A backup found it: a change since the last version is a push's
    /// (one started since that version was last seen) or drift.
    Found,
    /// A push's own backup, taken before push `.0` changes anything: a
    /// change since the last version was not made by it.
    BeforePush(&'a str),
    /// Push `.0` made it (its export once verified).
    ByPush(&'a str),
}

/// RouterOS version, board and serial number of the router an export came
/// from.
pub(crate) type Identity = (Option<String>, Option<String>, Option<String>);

/// The export with its secrets, normalised, and the key to seal it with.
pub(crate) struct Sealing<'a> {
    pub key: &'a ConfigKey,
    pub text: Sensitive<String>,
}

/// The sealed export kept with `version_id`, opened; `None` when there is
/// none or this machine has no key.
pub(crate) async fn open_sealed(
    store: &FleetStore,
    credentials: &CredentialStore,
    version_id: &str,
) -> Result<Option<Sensitive<String>>, FleetError> {
    let Some(body) = store.config_secret(version_id).await? else {
        return Ok(None);
    };
    match ConfigKey::load(credentials)? {
        Some(key) => key.open(version_id, &body).map(Some),
        None => Ok(None),
    }
}

/// Stores `export` as `device_id`'s configuration now: a new version only
/// when its normalised text differs from the newest one (or, with
/// `sealing`, its secrets do), attributed to a push or flagged as drift
/// (with an alert); otherwise the newest version is marked as seen now.
/// One rule for backups and pushes alike.
pub(crate) async fn record_export(
    store: &FleetStore,
    device_id: &str,
    export: &[u8],
    (routeros_version, board, serial): Identity,
    made: Made<'_>,
    sealing: Option<Sealing<'_>>,
) -> Result<BackupOutcome, FleetError> {
    let text = stored_form(export)?;
    let hash = config_hash(&text);
    let latest = store.config_versions(Some(device_id), 1).await?.pop();
    let now = poll::now_ms();
    let mut secrets_changed = false;
    if let Some(l) = latest.as_ref().filter(|l| l.hash == hash) {
        let kept = match &sealing {
            Some(s) => match store.config_secret(&l.id).await? {
                Some(body) => match s.key.open(&l.id, &body) {
                    Ok(open) => Some(open.expose() == s.text.expose()),
                    // Sealed by another machine: not ours to compare.
                    Err(e) => {
                        tracing::warn!(version = %l.id, "{e}");
                        Some(true)
                    }
                },
                None => {
                    // Opted in since: the version gets its sealed copy.
                    store
                        .save_config_secret(&l.id, &s.key.seal(&l.id, s.text.expose())?)
                        .await?;
                    Some(true)
                }
            },
            None => None,
        };
        if kept != Some(false) {
            // Seen as it was: a later change is judged from now on.
            store.touch_config_version(&l.id, now).await?;
            return Ok(BackupOutcome::Unchanged {
                version_id: l.id.clone(),
            });
        }
        secrets_changed = true;
    }
    let push_id = match (made, &latest) {
        (Made::ByPush(id), _) => Some(id.to_owned()),
        (_, None) => None,
        (Made::Found, Some(l)) => push_since(store, device_id, l, None).await?,
        (Made::BeforePush(this), Some(l)) => push_since(store, device_id, l, Some(this)).await?,
    };
    let drift = latest.is_some() && push_id.is_none();
    let version = ConfigVersion {
        id: fleet_store::new_id(),
        device_id: device_id.to_owned(),
        taken_at: now,
        checked_at: now,
        hash,
        routeros_version,
        board,
        serial,
        push_id: push_id.clone(),
        drift,
        line_count: text.lines().count() as u32,
    };
    store.save_config_version(&version, &text).await?;
    if let Some(s) = &sealing {
        store
            .save_config_secret(&version.id, &s.key.seal(&version.id, s.text.expose())?)
            .await?;
    }
    let previous = latest.as_ref().map(|l| l.hash.as_str());
    if let Err(e) = crate::compliance::alert_on_new_version(store, device_id, &text, previous).await
    {
        tracing::warn!(device = %device_id, error = %e, "compliance rules not checked on the new version");
    }
    if drift {
        let previous = latest.map(|l| l.id).unwrap_or_default();
        audit(
            store,
            device_id,
            AuditAction::AlertConfigDrift,
            format!(
                "the configuration {}changed outside Fleetdeck: version {} differs from {previous}",
                if secrets_changed { "'s secrets " } else { "" },
                version.id
            ),
        )
        .await;
    }
    Ok(BackupOutcome::Changed {
        version_id: version.id,
        push_id,
        drift,
    })
}

/// The newest push that may have made the change since `latest`: one
/// started after the router was last seen as `latest` held it, not the
/// push `latest` is already credited to, and not `running` (a push whose
/// own backup this is).
async fn push_since(
    store: &FleetStore,
    device_id: &str,
    latest: &ConfigVersion,
    running: Option<&str>,
) -> Result<Option<String>, FleetError> {
    let pushes = store.push_records(Some(device_id), 50).await?;
    Ok(pushes
        .into_iter()
        .filter(|p| p.started_at >= latest.checked_at)
        .filter(|p| latest.push_id.as_deref() != Some(p.id.as_str()))
        .filter(|p| running != Some(p.id.as_str()))
        .filter(|p| {
            matches!(
                p.status.known(),
                Some(PushState::Succeeded | PushState::AwaitingConfirmation | PushState::Running)
            )
        })
        .max_by_key(|p| p.started_at)
        .map(|p| p.id))
}
