/// Why the fleet store could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("invalid store URL {0:?}: use sqlite://PATH or mysql://USER@HOST:PORT/DATABASE")]
    InvalidUrl(String),
    /// A store URL option that is wrong or would weaken the link.
    #[error("{0}")]
    Option(String),
    #[error("could not find a folder for Fleetdeck's data; set FLEETDECK_DATA_DIR")]
    NoDataDir,
    #[error("could not create the data folder {path}: {source}")]
    DataDir {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("embedded store error: {0}")]
    Sqlite(rusqlite::Error),
    /// SQLite's "database or disk is full": the disk, or the store's size
    /// limit ([`crate::StoreOptions::page_limit`]).
    #[error("the embedded store cannot grow: the disk holding it is full (or it reached its size limit). Free some space; what was not stored is kept and stored when there is room")]
    DiskFull,
    #[error("fleet database error: {0}")]
    Mysql(#[from] mysql_async::Error),
    #[error("could not reach the fleet database at {location}: {source}")]
    Unreachable {
        location: String,
        #[source]
        source: mysql_async::Error,
    },
    #[error("the fleet database at {location} did not answer within {} s: it may be down, overloaded, or behind a network path that drops traffic", .after.as_secs())]
    TimedOut {
        location: String,
        after: std::time::Duration,
    },
    #[error("the embedded store {path} is damaged ({detail}). Fleetdeck changed nothing in it: move it aside (rename it, with any -wal and -shm files next to it) and Fleetdeck starts an empty store; keep the damaged file for recovery")]
    Damaged { path: String, detail: String },
    #[error("no device with id {0} in this store")]
    NotFound(String),
    #[error("a device at {host}:{port} is already in the inventory")]
    DuplicateDevice { host: String, port: u16 },
    #[error("the store's schema is version {found}, newer than this Fleetdeck understands ({supported}); update Fleetdeck")]
    SchemaTooNew { found: i64, supported: i64 },
    #[error("a {what} named {name:?} already exists")]
    DuplicateName { what: &'static str, name: String },
    #[error("the router at {host}:{port} is already in the destination as device {existing}, but this store knows it as {incoming}; remove one of them, then sync again")]
    AddressConflict {
        host: String,
        port: u16,
        existing: String,
        incoming: String,
    },
    #[error("a queued record could not be read: {0}")]
    Payload(String),
    #[error("the embedded store's worker stopped unexpectedly")]
    Worker,
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        match &e {
            rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::DiskFull => {
                StoreError::DiskFull
            }
            _ => StoreError::Sqlite(e),
        }
    }
}

/// MySQL and MariaDB server errors that refuse the data itself: a value
/// out of its column's range, too long, of the wrong type, a missing
/// reference, a failed check. Sent again, the same rows fail again.
const REFUSED_DATA: &[u16] = &[
    1048, // column cannot be null
    1264, // out of range
    1265, // data truncated
    1292, // incorrect value
    1300, // invalid character string
    1366, // incorrect value for the column's type
    1367, // illegal value
    1406, // data too long
    1411, // incorrect value for a function
    1452, // a referenced row is missing
    1690, // value out of range in an expression
    3140, // invalid JSON
    4025, // a CHECK constraint failed (MariaDB)
];

impl StoreError {
    /// The store refused the data itself: the same rows will be refused
    /// again, so retrying them would stall everything behind them. Every
    /// other error (unreachable, timed out, disk full, a deadlock) is about
    /// the store, and the same rows may go through later.
    pub fn is_refusal(&self) -> bool {
        match self {
            StoreError::Mysql(mysql_async::Error::Server(s)) => REFUSED_DATA.contains(&s.code),
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(f, _)) => matches!(
                f.code,
                rusqlite::ErrorCode::ConstraintViolation
                    | rusqlite::ErrorCode::TooBig
                    | rusqlite::ErrorCode::TypeMismatch
            ),
            StoreError::Payload(_) => true,
            _ => false,
        }
    }
}
