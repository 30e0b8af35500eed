//! SingleStore (and MySQL/MariaDB) over the MySQL protocol via `mysql_async`.
//!
//! Writes are batched, parameterised multi-row statements; the pool has a
//! fixed size whatever the fleet size.

mod checkins;
mod configs;
mod dashboards;
mod history;
mod inventory;
mod rollups;

#[allow(unused_imports)]
use self::{checkins::*, dashboards::*, history::*, inventory::*};

use std::{collections::HashSet, future::Future, time::Duration};

use mysql_async::{
    prelude::*, Conn, Params, Pool, PoolConstraints, PoolOpts, Row, Transaction, TxOpts, Value,
};

use crate::{
    ingest::Aggregates,
    model::*,
    schema::{self, Dialect},
    sqlite::{non_empty, normalise_tags, summary, versions},
    OutboxEntry, StoreError, StoreUrl,
};

/// The pool never grows with the fleet: the seed company ran its database
/// out of connections bootstrapping hundreds of routers at once.
pub const DEFAULT_MAX_CONNECTIONS: usize = 8;

/// Rows per multi-row INSERT: 2,000 check-ins are 28,000 parameters, under
/// the protocol's 65,535 per statement.
const CHUNK: usize = 2000;

pub(crate) struct MysqlStore {
    pool: Pool,
    location: String,
    dialect: Dialect,
    timeout: Duration,
}

/// Idle connections are probed this often, so a dead path is noticed by
/// the operating system rather than at the next write.
const KEEPALIVE: Duration = Duration::from_secs(30);

/// Errors a migration statement gives when an earlier, interrupted run (or
/// another laptop at the same moment) already made its change: the table,
/// column or key exists, or the version is recorded.
const ALREADY_APPLIED: &[u16] = &[1050, 1060, 1061, 1062];

/// Serialises migrations across processes (MySQL and MariaDB); SingleStore
/// has no named locks and relies on the statements being re-runnable.
const MIGRATION_LOCK: &str = "fleetdeck.migrate";

const DEVICE_SELECT: &str = "SELECT d.id, d.site_id, d.host, d.port, d.username, d.transport,
        (SELECT GROUP_CONCAT(tag SEPARATOR '\u{1f}') FROM device_tags t WHERE t.device_id = d.id),
        l.identity, l.board, l.version, l.serial, d.created_at, l.checked_in_at, l.cpu_load,
        l.last_polled_at, l.last_error
     FROM devices d LEFT JOIN device_latest l ON l.device_id = d.id";

/// [`DEVICE_SELECT`] without the tags (column 6 is NULL).
const DEVICE_LIST_SELECT: &str = "SELECT d.id, d.site_id, d.host, d.port, d.username, d.transport,
        NULL, l.identity, l.board, l.version, l.serial, d.created_at, l.checked_in_at, l.cpu_load,
        l.last_polled_at, l.last_error
     FROM devices d LEFT JOIN device_latest l ON l.device_id = d.id";

fn take<T: FromValue>(r: &mut Row, i: usize) -> Result<T, StoreError> {
    match r.take_opt::<T, usize>(i) {
        Some(Ok(v)) => Ok(v),
        _ => Err(StoreError::Payload(format!(
            "unexpected value in column {i} of a fleet database row"
        ))),
    }
}

fn is_duplicate_key(e: &mysql_async::Error) -> bool {
    matches!(e, mysql_async::Error::Server(s) if s.code == 1062)
}

/// A deadlock or a lost race on a unique key: the whole batch is retried.
fn is_retryable(e: &StoreError) -> bool {
    matches!(e, StoreError::Mysql(mysql_async::Error::Server(s)) if matches!(s.code, 1062 | 1213 | 1205))
}

/// `(?, ?, …)` repeated `rows` times.
fn placeholders(rows: usize, cols: usize) -> String {
    let one = format!("({})", vec!["?"; cols].join(", "));
    vec![one; rows].join(", ")
}

impl MysqlStore {
    pub async fn open(
        url: &str,
        max_connections: usize,
        timeout: Duration,
    ) -> Result<Self, StoreError> {
        let location = StoreUrl::Mysql(url.to_owned()).redacted();
        let constraints =
            PoolConstraints::new(0, max_connections.max(1)).expect("0 <= max connections");
        let opts = crate::mysql_link::opts(url, &location)?
            .tcp_keepalive(Some(KEEPALIVE))
            // Strict, whatever the server's default: a value that does not
            // fit is refused (and quarantined by telemetry), never stored
            // silently changed. Run again after each pool reset.
            .setup(vec!["SET SESSION sql_mode = 'STRICT_ALL_TABLES'"])
            .pool_opts(PoolOpts::default().with_constraints(constraints));
        let pool = Pool::new(opts);
        let opening = async {
            let mut conn = pool
                .get_conn()
                .await
                .map_err(|source| StoreError::Unreachable {
                    location: location.clone(),
                    source,
                })?;
            let dialect = detect_dialect(&mut conn).await;
            migrate(&mut conn, dialect).await?;
            Ok::<_, StoreError>(dialect)
        };
        let dialect = match tokio::time::timeout(timeout, opening).await {
            Ok(d) => d?,
            Err(_) => {
                return Err(StoreError::TimedOut {
                    location,
                    after: timeout,
                })
            }
        };
        Ok(Self {
            pool,
            location,
            dialect,
            timeout,
        })
    }

    /// Runs one store call under the store's time bound.
    pub(crate) async fn bounded<T>(
        &self,
        call: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        tokio::time::timeout(self.timeout, call)
            .await
            .unwrap_or_else(|_| {
                Err(StoreError::TimedOut {
                    location: self.location.clone(),
                    after: self.timeout,
                })
            })
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    async fn conn(&self) -> Result<Conn, StoreError> {
        self.pool
            .get_conn()
            .await
            .map_err(|source| StoreError::Unreachable {
                location: self.location.clone(),
                source,
            })
    }

    async fn tx(&self) -> Result<Transaction<'static>, StoreError> {
        self.pool
            .start_transaction(TxOpts::default())
            .await
            .map_err(|source| StoreError::Unreachable {
                location: self.location.clone(),
                source,
            })
    }
}

/// SingleStore answers `@@memsql_version`; MySQL and MariaDB reject it.
async fn detect_dialect(c: &mut Conn) -> Dialect {
    match c.query_first::<String, _>("SELECT @@memsql_version").await {
        Ok(Some(v)) => {
            tracing::info!(version = %v, "SingleStore detected");
            Dialect::SingleStore
        }
        _ => Dialect::Mysql,
    }
}

/// Brings the schema up to date. Two laptops opening an empty shared
/// database at once take turns (a named lock where the server has them),
/// and every statement may be run again: an interrupted first open is
/// finished by the next, never left unopenable.
async fn migrate(c: &mut Conn, dialect: Dialect) -> Result<(), StoreError> {
    let locked = dialect == Dialect::Mysql;
    if locked {
        // Waits up to a minute for another process's migration to finish.
        let got: Option<i64> = c
            .exec_first("SELECT GET_LOCK(?, 60)", (MIGRATION_LOCK,))
            .await?
            .flatten();
        if got != Some(1) {
            return Err(StoreError::Option(
                "another Fleetdeck has been updating the fleet database's schema for a minute; try again when it has finished".into(),
            ));
        }
    }
    let result = migrate_locked(c, dialect).await;
    if locked {
        if let Err(e) = c.exec_drop("DO RELEASE_LOCK(?)", (MIGRATION_LOCK,)).await {
            // The lock ends with the connection anyway.
            tracing::warn!(error = %e, "the schema lock could not be released");
        }
    }
    result
}

async fn migrate_locked(c: &mut Conn, dialect: Dialect) -> Result<(), StoreError> {
    c.query_drop(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT NOT NULL PRIMARY KEY, applied_at BIGINT NOT NULL)",
    )
    .await?;
    let current: i64 = c
        .query_first::<Option<i64>, _>("SELECT MAX(version) FROM schema_migrations")
        .await?
        .flatten()
        .unwrap_or(0);
    let supported = schema::latest_version(dialect);
    if current > supported {
        return Err(StoreError::SchemaTooNew {
            found: current,
            supported,
        });
    }
    for (version, statements) in schema::migrations(dialect) {
        if *version <= current {
            continue;
        }
        // DDL commits implicitly in MySQL; the version row is written last so
        // an interrupted migration is run again, and what it had already
        // done is recognised and passed over.
        for s in *statements {
            tolerate_applied(c.query_drop(*s).await)?;
        }
        tolerate_applied(
            c.exec_drop(
                "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)",
                (version, now_ms()),
            )
            .await,
        )?;
        tracing::info!(version, ?dialect, "fleet database migrated");
    }
    Ok(())
}

/// A migration statement's error, unless it says the change is already
/// there.
fn tolerate_applied(r: Result<(), mysql_async::Error>) -> Result<(), StoreError> {
    match r {
        Err(mysql_async::Error::Server(e)) if ALREADY_APPLIED.contains(&e.code) => {
            tracing::info!(code = e.code, message = %e.message, "migration step already applied");
            Ok(())
        }
        other => Ok(other?),
    }
}
