//! The fleet store: devices and their check-ins, behind one API with two
//! backends chosen by URL.
//!
//! - `sqlite://PATH`: the embedded default, a SQLite file in WAL mode. It
//!   needs no server, so the app works on a fresh laptop and offline.
//! - `mysql://USER[:PASS]@HOST:PORT/DB`: SingleStore, the shared fleet
//!   database (or MySQL/MariaDB, which the test suite uses), via
//!   `mysql_async` with a bounded connection pool.
//!
//! Every statement is parameterised. Dashboard queries aggregate in the
//! database; raw check-ins never travel to Rust to be summed.

mod error;
mod model;
mod mysql;
mod schema;
mod sqlite;
mod url;

pub use error::StoreError;
pub use model::{Checkin, Device, NewDevice, SeriesPoint};
pub use schema::{ddl, Dialect, TABLES};
pub use url::{default_data_dir, default_store_url, StoreUrl};

/// One fleet store, whichever backend holds it.
pub struct FleetStore {
    url: StoreUrl,
    backend: Backend,
}

enum Backend {
    Sqlite(sqlite::SqliteStore),
    Mysql(mysql::MysqlStore),
}

macro_rules! dispatch {
    ($self:ident . $method:ident ( $($arg:expr),* )) => {
        match &$self.backend {
            Backend::Sqlite(s) => s.$method($($arg),*).await,
            Backend::Mysql(s) => s.$method($($arg),*).await,
        }
    };
}

impl FleetStore {
    /// Opens the store and brings its schema up to date.
    pub async fn open(url: &StoreUrl) -> Result<FleetStore, StoreError> {
        let backend = match url {
            StoreUrl::Sqlite(path) => Backend::Sqlite(sqlite::SqliteStore::open(path).await?),
            StoreUrl::Mysql(u) => Backend::Mysql(mysql::MysqlStore::open(u).await?),
        };
        Ok(FleetStore {
            url: url.clone(),
            backend,
        })
    }

    /// `"sqlite"` or `"mysql"`.
    pub fn backend_name(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite(_) => "sqlite",
            Backend::Mysql(_) => "mysql",
        }
    }

    /// Where the data lives, safe to show: a path, or the URL without its
    /// password.
    pub fn location(&self) -> String {
        self.url.redacted()
    }

    pub async fn add_device(&self, new: &NewDevice) -> Result<Device, StoreError> {
        dispatch!(self.add_device(new))
    }

    pub async fn get_device(&self, id: &str) -> Result<Device, StoreError> {
        dispatch!(self.get_device(id))?.ok_or_else(|| StoreError::NotFound(id.to_owned()))
    }

    pub async fn find_device(&self, host: &str, port: u16) -> Result<Option<Device>, StoreError> {
        dispatch!(self.find_device(host, port))
    }

    /// Every device with its latest state, ordered by identity then address.
    pub async fn list_devices(&self) -> Result<Vec<Device>, StoreError> {
        dispatch!(self.list_devices())
    }

    /// Stores a check-in and updates the device's latest state in the same
    /// transaction.
    pub async fn record_checkin(&self, checkin: &Checkin) -> Result<(), StoreError> {
        dispatch!(self.record_checkin(checkin))
    }

    /// Remembers why the last poll of a device failed (shown in the UI).
    pub async fn record_poll_failure(
        &self,
        device_id: &str,
        at_ms: i64,
        message: &str,
    ) -> Result<(), StoreError> {
        dispatch!(self.record_poll_failure(device_id, at_ms, message))
    }

    /// Average CPU load of one device in at most `max_points` equal time
    /// buckets between `from_ms` and `to_ms`, computed in the database.
    pub async fn cpu_series(
        &self,
        device_id: &str,
        from_ms: i64,
        to_ms: i64,
        max_points: u32,
    ) -> Result<Vec<SeriesPoint>, StoreError> {
        let width = ((to_ms - from_ms).max(1) / i64::from(max_points.max(1))).max(1);
        dispatch!(self.cpu_series(device_id, from_ms, to_ms, width))
    }

    /// Earliest and latest check-in time of a device at or after `from_ms`.
    pub async fn checkin_span(
        &self,
        device_id: &str,
        from_ms: i64,
    ) -> Result<Option<(i64, i64)>, StoreError> {
        dispatch!(self.checkin_span(device_id, from_ms))
    }

    /// Rows per table, in [`TABLES`] order.
    pub async fn stats(&self) -> Result<Vec<(&'static str, u64)>, StoreError> {
        dispatch!(self.stats())
    }

    /// Number of check-ins stored for a device.
    pub async fn count_checkins(&self, device_id: &str) -> Result<u64, StoreError> {
        dispatch!(self.count_checkins(device_id))
    }
}
