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
    Sqlite(#[from] rusqlite::Error),
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
