//! The shared SingleStore/MySQL database next to the embedded store: its
//! address is a setting (no password in it), its password is in the
//! keyring (account `shared-store:password`), and a sync sends what was
//! recorded here up, then copies the fleet down for review offline.

use std::time::Duration;

use serde::Serialize;

use crate::{
    credentials::Sensitive,
    fleet_store::{self, sync::SyncReport, FleetStore, StoreOptions, StoreUrl},
    Fleet, FleetError,
};

/// Raw check-ins copied down by a sync; older hours come as rollups.
pub const WINDOW: Duration = Duration::from_secs(24 * 3600);

/// What connecting to a shared database found.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct SharedTest {
    pub backend: &'static str,
    pub devices: u64,
}

/// `mysql://user@host:port/db` as kept in the settings, with `password`
/// put in. A URL that carries a password itself is refused: the password
/// goes to the keyring, never into a setting.
pub fn url_with_password(url: &str, password: &str) -> Result<StoreUrl, FleetError> {
    let mut u = url::Url::parse(url.trim())
        .map_err(|e| FleetError::InvalidInput(format!("{url:?} is not a database URL: {e}")))?;
    if u.scheme() != "mysql" {
        return Err(FleetError::InvalidInput(
            "the shared database is a SingleStore or MySQL server: mysql://user@host:3306/database"
                .into(),
        ));
    }
    if u.password().is_some() {
        return Err(FleetError::InvalidInput(
            "leave the password out of the URL: type it in the password field, it goes to the keyring"
                .into(),
        ));
    }
    if !password.is_empty() {
        u.set_password(Some(password))
            .map_err(|_| FleetError::InvalidInput("this URL cannot carry a password".into()))?;
    }
    Ok(u.as_str().parse::<StoreUrl>()?)
}

/// The shared database, opened as a peer: records written to it are not
/// queued in an outbox of its own.
async fn open(url: &str, password: &str) -> Result<FleetStore, FleetError> {
    Ok(FleetStore::open_with(
        &url_with_password(url, password)?,
        StoreOptions {
            outbox: Some(false),
            ..Default::default()
        },
    )
    .await?)
}

impl Fleet {
    /// Connects to the shared database at `url` once and, when it answers,
    /// keeps `password` in the keyring. The caller keeps `url` in the
    /// settings.
    pub async fn set_shared_store(
        &self,
        url: &str,
        password: &Sensitive<String>,
    ) -> Result<SharedTest, FleetError> {
        let shared = open(url, password.expose()).await?;
        let devices = shared
            .stats()
            .await?
            .into_iter()
            .find(|(t, _)| *t == "devices")
            .map_or(0, |(_, n)| n);
        self.credentials().set_shared_store(password)?;
        Ok(SharedTest {
            backend: shared.backend_name(),
            devices,
        })
    }

    /// Sends what was recorded here up to the shared database at `url`
    /// (its password from the keyring), then copies the fleet down: raw
    /// check-ins of the last `window` (the app: [`WINDOW`]), rollups
    /// before. A lost connection keeps every record queued; running it
    /// again finishes the job.
    pub async fn sync_with_shared(
        &self,
        url: &str,
        window: Duration,
    ) -> Result<SyncReport, FleetError> {
        let password = self
            .credentials()
            .shared_store()?
            .map(|p| p.expose().clone())
            .unwrap_or_default();
        let shared = open(url, &password).await?;
        let since = crate::poll::now_ms() - window.as_millis() as i64;
        Ok(fleet_store::sync::sync(self.store(), &shared, since).await?)
    }
}
