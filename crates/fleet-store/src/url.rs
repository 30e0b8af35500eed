use std::{fmt, path::PathBuf, str::FromStr};

use crate::StoreError;

/// Which store to open. `Debug` and `Display` mask the password.
#[derive(Clone, PartialEq, Eq)]
pub enum StoreUrl {
    /// The embedded SQLite file.
    Sqlite(PathBuf),
    /// A MySQL-protocol server (SingleStore, MySQL, MariaDB).
    Mysql(String),
}

impl FromStr for StoreUrl {
    type Err = StoreError;

    fn from_str(s: &str) -> Result<Self, StoreError> {
        if let Some(path) = s.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err(StoreError::InvalidUrl(mask_password(s)));
            }
            return Ok(StoreUrl::Sqlite(PathBuf::from(path)));
        }
        if s.starts_with("mysql://") || s.starts_with("singlestore://") {
            let url = StoreUrl::Mysql(s.replacen("singlestore://", "mysql://", 1));
            if let StoreUrl::Mysql(u) = &url {
                crate::mysql_link::opts(u, &url.redacted())?;
            }
            return Ok(url);
        }
        Err(StoreError::InvalidUrl(mask_password(s)))
    }
}

/// `scheme://user:secret@host…` with the secret replaced, for anything
/// shown or logged (a mistyped URL is echoed in its error too).
fn mask_password(u: &str) -> String {
    match (u.find("://"), u.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &u[scheme + 3..at];
            let user = creds.split(':').next().unwrap_or_default();
            let masked = if creds.contains(':') {
                format!("{user}:***")
            } else {
                user.to_owned()
            };
            format!("{}{}{}", &u[..scheme + 3], masked, &u[at..])
        }
        _ => u.to_owned(),
    }
}

impl fmt::Debug for StoreUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreUrl::Sqlite(p) => f.debug_tuple("Sqlite").field(p).finish(),
            StoreUrl::Mysql(_) => f.debug_tuple("Mysql").field(&self.redacted()).finish(),
        }
    }
}

impl StoreUrl {
    /// The URL with any password replaced, for display and logs.
    pub fn redacted(&self) -> String {
        match self {
            StoreUrl::Sqlite(p) => p.display().to_string(),
            StoreUrl::Mysql(u) => mask_password(u),
        }
    }
}

impl fmt::Display for StoreUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreUrl::Sqlite(p) => write!(f, "sqlite://{}", p.display()),
            StoreUrl::Mysql(_) => f.write_str(&self.redacted()),
        }
    }
}

/// Fleetdeck's data folder: `FLEETDECK_DATA_DIR` if set, otherwise the
/// platform's data folder (for example `~/.local/share/fleetdeck` on Linux).
pub fn default_data_dir() -> Result<PathBuf, StoreError> {
    if let Some(dir) = std::env::var_os("FLEETDECK_DATA_DIR").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    directories::ProjectDirs::from("net", "Fleetdeck", "fleetdeck")
        .map(|p| p.data_dir().to_path_buf())
        .ok_or(StoreError::NoDataDir)
}

/// The embedded store in the data folder: the default when nothing is set.
pub fn default_store_url() -> Result<StoreUrl, StoreError> {
    Ok(StoreUrl::Sqlite(default_data_dir()?.join("fleet.db")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_never_shows_in_debug_display_or_errors() {
        let url: StoreUrl = "mysql://fleet:hunter2@db:3306/fleet".parse().unwrap();
        for shown in [format!("{url:?}"), url.to_string(), url.redacted()] {
            assert!(!shown.contains("hunter2"), "{shown}");
            assert!(shown.contains("fleet:***@db"), "{shown}");
        }
        let typo = "mysq://fleet:hunter2@db:3306/fleet"
            .parse::<StoreUrl>()
            .unwrap_err();
        assert!(!typo.to_string().contains("hunter2"), "{typo}");
    }

    #[test]
    fn parses_both_schemes() {
        assert_eq!(
            "sqlite:///tmp/x.db".parse::<StoreUrl>().unwrap(),
            StoreUrl::Sqlite("/tmp/x.db".into())
        );
        assert_eq!(
            "sqlite://rel.db".parse::<StoreUrl>().unwrap(),
            StoreUrl::Sqlite("rel.db".into())
        );
        assert!(matches!(
            "mysql://root@127.0.0.1:3306/test"
                .parse::<StoreUrl>()
                .unwrap(),
            StoreUrl::Mysql(_)
        ));
        for bad in ["", "sqlite://", "postgres://x", "/tmp/x.db"] {
            assert!(bad.parse::<StoreUrl>().is_err(), "{bad}");
        }
    }

    #[test]
    fn redacts_passwords() {
        let u: StoreUrl = "mysql://fleet:hunter2@db.example:3306/fleet"
            .parse()
            .unwrap();
        assert_eq!(u.redacted(), "mysql://fleet:***@db.example:3306/fleet");
        assert!(!u.to_string().contains("hunter2"));
        let u: StoreUrl = "mysql://root@127.0.0.1:3306/test".parse().unwrap();
        assert_eq!(u.redacted(), "mysql://root@127.0.0.1:3306/test");
    }
}
