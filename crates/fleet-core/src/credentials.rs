//! Router passwords: in the OS keyring, or, only where no keyring exists, in
//! a file readable by the user alone (mode 0600). Never in settings or logs.
//! Accounts are reached through [`crate::bound`], which namespaces them and
//! binds each router's password to where it was entered for.

use std::{
    collections::BTreeMap,
    fmt,
    path::{Path, PathBuf},
    sync::Mutex,
};

const SERVICE: &str = "net.fleetdeck.router";

/// A secret whose `Debug` prints `<redacted>` and which cannot be serialised.
#[derive(Clone, PartialEq, Eq)]
pub struct Sensitive<T>(T);

impl<T> Sensitive<T> {
    pub fn new(value: T) -> Self {
        Self(value)
    }
    /// The secret itself, for the one place that must send it.
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> fmt::Debug for Sensitive<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Secrets come in from the UI and CLI; they never go out again.
impl<'de> serde::Deserialize<'de> for Sensitive<String> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Sensitive::new)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    #[error("the OS keyring failed: {0}")]
    Keyring(String),
    #[error("could not use the password file {path}: {source}")]
    File {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the password file {0} is damaged; remove it and enter the passwords again")]
    Corrupt(String),
    #[error("no password is stored for {0}; enter it again")]
    Missing(String),
    #[error("this router is now reached at {now}, but its password was entered on this laptop for {was}; the inventory changed (by a sync or an edit), so the password is not sent there until you confirm the new address")]
    Moved { was: String, now: String },
    #[error("the stored password of {0} is not in a form Fleetdeck reads; enter it again")]
    Unreadable(String),
}

/// Which store holds the passwords.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum CredentialBackend {
    Keyring,
    File,
}

enum Backend {
    Keyring,
    File { path: PathBuf, lock: Mutex<()> },
}

pub struct CredentialStore {
    backend: Backend,
}

impl fmt::Debug for CredentialStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CredentialStore({:?})", self.backend())
    }
}

impl CredentialStore {
    /// The OS keyring when one answers; otherwise a 0600 file in `data_dir`.
    /// `FLEETDECK_CREDENTIALS=file` forces the file (tests use it so they
    /// never touch a developer's real keyring).
    pub fn detect(data_dir: &Path) -> Self {
        let forced = std::env::var("FLEETDECK_CREDENTIALS").ok();
        if forced.as_deref() != Some("file") && keyring_available() {
            return Self {
                backend: Backend::Keyring,
            };
        }
        Self::file(data_dir.join("credentials.json"))
    }

    pub fn file(path: PathBuf) -> Self {
        Self {
            backend: Backend::File {
                path,
                lock: Mutex::new(()),
            },
        }
    }

    pub fn backend(&self) -> CredentialBackend {
        match self.backend {
            Backend::Keyring => CredentialBackend::Keyring,
            Backend::File { .. } => CredentialBackend::File,
        }
    }

    /// What the UI must tell the user about where passwords are kept.
    pub fn warning(&self) -> Option<String> {
        match &self.backend {
            Backend::Keyring => None,
            Backend::File { path, .. } => Some(format!(
                "No OS keyring is available, so router passwords are stored in {} (readable only by you, mode 0600).",
                path.display()
            )),
        }
    }

    pub(crate) fn set(
        &self,
        account: &str,
        secret: &Sensitive<String>,
    ) -> Result<(), CredentialError> {
        match &self.backend {
            Backend::Keyring => keyring::Entry::new(SERVICE, account)
                .and_then(|e| e.set_password(secret.expose()))
                .map_err(|e| CredentialError::Keyring(e.to_string())),
            Backend::File { path, lock } => {
                let _g = lock.lock().unwrap_or_else(|p| p.into_inner());
                let mut all = read_file(path)?;
                all.insert(account.to_owned(), secret.expose().clone());
                write_file(path, &all)
            }
        }
    }

    /// The passwords of many accounts at once (the file is read once, not
    /// once per router); accounts without one are left out.
    pub(crate) fn get_many<'a>(
        &self,
        accounts: impl IntoIterator<Item = &'a str>,
    ) -> Result<std::collections::HashMap<String, Sensitive<String>>, CredentialError> {
        match &self.backend {
            Backend::Keyring => {
                let mut out = std::collections::HashMap::new();
                for a in accounts {
                    if let Some(p) = self.get(a)? {
                        out.insert(a.to_owned(), p);
                    }
                }
                Ok(out)
            }
            Backend::File { path, lock } => {
                let _g = lock.lock().unwrap_or_else(|p| p.into_inner());
                let mut all = read_file(path)?;
                Ok(accounts
                    .into_iter()
                    .filter_map(|a| all.remove(a).map(|p| (a.to_owned(), Sensitive(p))))
                    .collect())
            }
        }
    }

    pub(crate) fn get(&self, account: &str) -> Result<Option<Sensitive<String>>, CredentialError> {
        match &self.backend {
            Backend::Keyring => {
                match keyring::Entry::new(SERVICE, account).and_then(|e| e.get_password()) {
                    Ok(p) => Ok(Some(Sensitive(p))),
                    Err(keyring::Error::NoEntry) => Ok(None),
                    Err(e) => Err(CredentialError::Keyring(e.to_string())),
                }
            }
            Backend::File { path, lock } => {
                let _g = lock.lock().unwrap_or_else(|p| p.into_inner());
                Ok(read_file(path)?.remove(account).map(Sensitive))
            }
        }
    }

    pub(crate) fn delete(&self, account: &str) -> Result<(), CredentialError> {
        match &self.backend {
            Backend::Keyring => {
                match keyring::Entry::new(SERVICE, account).and_then(|e| e.delete_credential()) {
                    Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
                    Err(e) => Err(CredentialError::Keyring(e.to_string())),
                }
            }
            Backend::File { path, lock } => {
                let _g = lock.lock().unwrap_or_else(|p| p.into_inner());
                let mut all = read_file(path)?;
                if all.remove(account).is_some() {
                    write_file(path, &all)?;
                }
                Ok(())
            }
        }
    }
}

/// A keyring "answers" when looking up an absent entry says "no entry"
/// rather than failing to reach the secret service.
fn keyring_available() -> bool {
    // Without a session bus there is no Secret Service, and asking libdbus
    // anyway may autolaunch a bus daemon that outlives the app.
    if cfg!(target_os = "linux") && std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none() {
        tracing::info!("no D-Bus session, so no OS keyring; using the password file");
        return false;
    }
    match keyring::Entry::new(SERVICE, "fleetdeck-probe").and_then(|e| e.get_password()) {
        Ok(_) | Err(keyring::Error::NoEntry) => true,
        Err(e) => {
            tracing::info!("no OS keyring ({e}); using the password file");
            false
        }
    }
}

fn file_error(path: &Path) -> impl FnOnce(std::io::Error) -> CredentialError + '_ {
    move |source| CredentialError::File {
        path: path.display().to_string(),
        source,
    }
}

fn read_file(path: &Path) -> Result<BTreeMap<String, String>, CredentialError> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map_err(|_| CredentialError::Corrupt(path.display().to_string())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
        Err(e) => Err(file_error(path)(e)),
    }
}

/// Writes a new file with mode 0600 from the start, then renames it over the
/// old one, so the secrets are never readable by others, even briefly.
fn write_file(path: &Path, all: &BTreeMap<String, String>) -> Result<(), CredentialError> {
    use std::io::Write;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(file_error(dir))?;
    }
    let tmp = path.with_extension("json.tmp");
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(&tmp).map_err(file_error(&tmp))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        f.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(file_error(&tmp))?;
    }
    let json = serde_json::to_vec_pretty(all).expect("a map of strings serialises");
    f.write_all(&json).map_err(file_error(&tmp))?;
    f.sync_all().map_err(file_error(&tmp))?;
    std::fs::rename(&tmp, path).map_err(file_error(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sensitive_never_prints_its_secret() {
        let s = Sensitive::new("hunter2".to_string());
        assert_eq!(format!("{s:?}"), "<redacted>");
        assert_eq!(format!("{:?}", Some(&s)), "Some(<redacted>)");
        assert_eq!(s.expose(), "hunter2");
    }

    #[cfg(unix)]
    #[test]
    fn file_store_round_trips_with_mode_0600() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/credentials.json");
        let store = CredentialStore::file(path.clone());
        assert_eq!(store.backend(), CredentialBackend::File);
        assert!(store.warning().unwrap().contains("0600"));
        assert_eq!(store.get("dev-1").unwrap(), None);
        store.set("dev-1", &Sensitive::new("p@ss".into())).unwrap();
        store.set("dev-2", &Sensitive::new(String::new())).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let again = CredentialStore::file(path.clone());
        assert_eq!(again.get("dev-1").unwrap().unwrap().expose(), "p@ss");
        assert_eq!(again.get("dev-2").unwrap().unwrap().expose(), "");
        let many = again.get_many(["dev-1", "dev-3", "dev-2"]).unwrap();
        assert_eq!(many.len(), 2, "dev-3 has none");
        assert_eq!(many["dev-1"].expose(), "p@ss");
        again.delete("dev-1").unwrap();
        assert_eq!(again.get("dev-1").unwrap(), None);
        assert!(again.get("dev-2").unwrap().is_some());
    }

    #[test]
    fn damaged_file_is_reported_not_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("credentials.json");
        std::fs::write(&path, b"{not json").unwrap();
        let store = CredentialStore::file(path.clone());
        assert!(matches!(store.get("x"), Err(CredentialError::Corrupt(_))));
        assert!(store.set("x", &Sensitive::new("y".into())).is_err());
        assert_eq!(std::fs::read(&path).unwrap(), b"{not json");
    }
}
