//! SingleStore (and MySQL/MariaDB) over the MySQL protocol via `mysql_async`.
//!
//! Writes are batched, parameterised multi-row statements; the pool has a
//! fixed size whatever the fleet size.

mod checkins;
mod dashboards;
mod history;
mod inventory;
mod rollups;

#[allow(unused_imports)]
use self::{checkins::*, dashboards::*, history::*, inventory::*};

use std::collections::HashSet;

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
}

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
    pub async fn open(url: &str, max_connections: usize) -> Result<Self, StoreError> {
        let location = StoreUrl::Mysql(url.to_owned()).redacted();
        let constraints =
            PoolConstraints::new(0, max_connections.max(1)).expect("0 <= max connections");
        let opts = crate::mysql_link::opts(url, &location)?
            .pool_opts(PoolOpts::default().with_constraints(constraints));
        let pool = Pool::new(opts);
        let mut conn = pool
            .get_conn()
            .await
            .map_err(|source| StoreError::Unreachable {
                location: location.clone(),
                source,
            })?;
        let dialect = detect_dialect(&mut conn).await;
        migrate(&mut conn, dialect).await?;
        Ok(Self {
            pool,
            location,
            dialect,
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

async fn migrate(c: &mut Conn, dialect: Dialect) -> Result<(), StoreError> {
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
        // an interrupted migration is retried.
        for s in *statements {
            c.query_drop(*s).await?;
        }
        c.exec_drop(
            "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)",
            (version, now_ms()),
        )
        .await?;
        tracing::info!(version, ?dialect, "fleet database migrated");
    }
    Ok(())
}
