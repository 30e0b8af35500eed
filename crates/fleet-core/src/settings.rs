//! The technician's settings, one file in the data folder
//! (`settings.json`) so the app and the CLI read the same ones. The app
//! writes it (through `tauri-plugin-store`, as a JSON object of keys); this
//! module is where its shape, defaults and rules live. Credentials are
//! never here: they live in the keyring (see [`crate::credentials`]).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::{chart::Theme, fleet_store::sync::SyncReport, FleetError};

/// The settings file's name in the data folder.
pub const FILE: &str = "settings.json";
/// The keys of that file.
pub const SETTINGS_KEY: &str = "settings";
pub const SHARED_URL_KEY: &str = "sharedStoreUrl";
pub const LAST_SYNC_KEY: &str = "lastSync";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase", default)]
pub struct Settings {
    pub theme: Theme,
    /// How often routers are polled; health is judged against it.
    pub poll_interval_secs: u32,
    /// Poll every inventory router with a stored password in the background.
    pub background_polling: bool,
    /// Routers pushed at once in a bulk push.
    pub push_concurrency: u32,
    /// For identities and comments that are not UTF-8.
    pub codepage: String,
    /// When routers' configurations are backed up.
    pub backup_schedule: crate::backup_schedule::BackupSchedule,
    /// Also keep each backup with its secrets, sealed with a key in this
    /// machine's keyring (off: versions keep secrets masked only).
    pub sensitive_backups: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            theme: Theme::Light,
            poll_interval_secs: 60,
            background_polling: true,
            push_concurrency: 32,
            codepage: "windows-1252".into(),
            backup_schedule: Default::default(),
            sensitive_backups: false,
        }
    }
}

impl Settings {
    /// The rules a saved setting must meet, in a technician's words.
    pub fn validate(&self) -> Result<(), FleetError> {
        if !(5..=86_400).contains(&self.poll_interval_secs) {
            return Err(FleetError::InvalidInput(
                "the poll interval is between 5 seconds and one day".into(),
            ));
        }
        if !(1..=1024).contains(&self.push_concurrency) {
            return Err(FleetError::InvalidInput(
                "routers pushed at once: between 1 and 1024".into(),
            ));
        }
        self.backup_schedule.validate()?;
        if self.codepage.parse::<crate::Codepage>().is_err() {
            return Err(FleetError::InvalidInput(format!(
                "{:?} is not a codepage Fleetdeck knows (e.g. windows-1252, windows-1251, koi8-r)",
                self.codepage
            )));
        }
        Ok(())
    }

    /// Whether a change from `before` to `self` changes what background
    /// polling does.
    pub fn changes_polling(&self, before: &Settings) -> bool {
        (self.background_polling, self.poll_interval_secs)
            != (before.background_polling, before.poll_interval_secs)
    }
}

/// When the last sync with the shared database ran, and what it moved.
#[derive(Debug, Clone, Serialize, Deserialize, ts_rs::TS)]
pub struct LastSync {
    pub at: i64,
    pub report: SyncReport,
}

/// Everything the settings file holds.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SettingsFile {
    #[serde(default)]
    pub settings: Settings,
    /// The shared database's address, without its password.
    #[serde(rename = "sharedStoreUrl", default)]
    pub shared_url: Option<String>,
    #[serde(rename = "lastSync", default)]
    pub last_sync: Option<LastSync>,
}

/// The settings file in the data folder (`FLEETDECK_DATA_DIR` overrides it).
pub fn path() -> Result<PathBuf, FleetError> {
    Ok(crate::fleet_store::default_data_dir()?.join(FILE))
}

impl SettingsFile {
    /// The file at `path`; the defaults when there is none yet. A file that
    /// cannot be read or parsed is an error: silently falling back to the
    /// defaults would, say, switch background polling back on.
    pub fn load(path: &Path) -> Result<Self, FleetError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(e) => {
                return Err(FleetError::InvalidInput(format!(
                    "the settings file {} cannot be read: {e}",
                    path.display()
                )))
            }
        };
        serde_json::from_str(&text).map_err(|e| {
            FleetError::InvalidInput(format!(
                "the settings file {} is not valid: {e}; fix or remove it",
                path.display()
            ))
        })
    }

    /// The file in the data folder.
    pub fn load_default() -> Result<Self, FleetError> {
        Self::load(&path()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_file_gives_the_defaults_and_a_broken_one_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(FILE);
        assert_eq!(
            SettingsFile::load(&p).unwrap().settings,
            Settings::default()
        );
        std::fs::write(&p, "{not json").unwrap();
        let e = SettingsFile::load(&p).unwrap_err().to_string();
        assert!(e.contains("not valid"), "{e}");
    }

    #[test]
    fn the_apps_file_is_read_as_it_writes_it() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(FILE);
        std::fs::write(
            &p,
            r#"{"settings":{"theme":"dark","pollIntervalSecs":15,"backgroundPolling":false,
                "pushConcurrency":4,"codepage":"koi8-r"},
               "sharedStoreUrl":"mysql://fleet@db:3306/fleet"}"#,
        )
        .unwrap();
        let f = SettingsFile::load(&p).unwrap();
        assert_eq!(f.settings.poll_interval_secs, 15);
        assert!(!f.settings.background_polling);
        assert_eq!(f.settings.push_concurrency, 4);
        assert_eq!(f.shared_url.as_deref(), Some("mysql://fleet@db:3306/fleet"));
        assert!(f.last_sync.is_none());
    }

    #[test]
    fn rules_are_checked() {
        let ok = Settings::default();
        ok.validate().unwrap();
        let e = Settings {
            poll_interval_secs: 1,
            ..ok.clone()
        };
        assert!(e
            .validate()
            .unwrap_err()
            .to_string()
            .contains("poll interval"));
        let e = Settings {
            codepage: "klingon".into(),
            ..ok.clone()
        };
        assert!(e.validate().unwrap_err().to_string().contains("codepage"));
        assert!(Settings {
            background_polling: false,
            ..ok.clone()
        }
        .changes_polling(&ok));
        assert!(!Settings {
            push_concurrency: 3,
            ..ok.clone()
        }
        .changes_polling(&ok));
    }
}
