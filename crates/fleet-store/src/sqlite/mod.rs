//! The embedded store: one SQLite file in WAL mode, one writer connection
//! and a small pool of readers (WAL lets readers run beside the writer).

mod checkins;
mod configs;
mod dashboards;
mod history;
mod inventory;
mod rollups;

#[allow(unused_imports)]
use self::{checkins::*, dashboards::*, history::*, inventory::*};
pub(crate) use dashboards::{summary, versions};
pub(crate) use inventory::normalise_tags;

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
};

use rusqlite::{params, Connection, OpenFlags, OptionalExtension, Transaction};

use crate::{
    ingest::Aggregates,
    model::*,
    schema::{self, Dialect},
    OutboxEntry, StoreError,
};

/// Idle reader connections kept open.
const READERS: usize = 4;

pub(crate) struct SqliteStore {
    path: PathBuf,
    writer: Arc<Mutex<Connection>>,
    readers: Arc<Mutex<Vec<Connection>>>,
}

/// Page cache per connection, KiB. The writer's holds a sweep's dirty
/// pages (10,000 routers touch about 40 MiB per commit); a reader's holds
/// the dashboards' working set (latest state, rollups, one router's recent
/// rows), which is small. The process's memory grows until these fill,
/// then stays flat.
const WRITER_CACHE_KIB: i64 = 64 * 1024;
const READER_CACHE_KIB: i64 = 16 * 1024;

fn configure(conn: &Connection, cache_kib: i64) -> rusqlite::Result<()> {
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "cache_size", -cache_kib)?;
    Ok(())
}

impl SqliteStore {
    pub async fn open(path: &Path, page_limit: Option<u64>) -> Result<Self, StoreError> {
        crate::files::prepare_folder(path)?;
        crate::files::secure_files(path)?;
        let owned = path.to_owned();
        let conn = tokio::task::spawn_blocking(move || -> Result<Connection, StoreError> {
            let conn = open_connection(&owned).map_err(|e| damaged(&owned, e))?;
            if let Some(pages) = page_limit {
                conn.pragma_update(None, "max_page_count", pages)?;
            }
            Ok(conn)
        })
        .await
        .map_err(|_| StoreError::Worker)??;
        Ok(Self {
            path: path.to_owned(),
            writer: Arc::new(Mutex::new(conn)),
            readers: Arc::new(Mutex::new(Vec::new())),
        })
    }
}

/// A file SQLite says is not a database, or is corrupt, gets words that
/// say so and the way out; other errors pass as they are.
fn damaged(path: &Path, e: StoreError) -> StoreError {
    match &e {
        StoreError::Sqlite(rusqlite::Error::SqliteFailure(f, _))
            if matches!(
                f.code,
                rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt
            ) =>
        {
            StoreError::Damaged {
                path: path.display().to_string(),
                detail: e.to_string(),
            }
        }
        _ => e,
    }
}

/// The writer connection: WAL, the files narrowed, the schema migrated.
fn open_connection(path: &Path) -> Result<Connection, StoreError> {
    let mut conn = Connection::open(path)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // The WAL and shared-memory files exist now: narrow any left wider by
    // an earlier version.
    crate::files::secure_files(path)?;
    // FULL: a commit is on disk before it is acknowledged, so a power cut
    // loses no check-in, push record or audit event the caller was told
    // is stored (NORMAL may lose the last commits). Writes are batched, so
    // this is one sync per batch.
    conn.pragma_update(None, "synchronous", "FULL")?;
    configure(&conn, WRITER_CACHE_KIB)?;
    migrate(&mut conn)?;
    Ok(conn)
}

impl SqliteStore {
    /// Runs `f` in one write transaction, off the async runtime's threads.
    async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> Result<T, StoreError> + Send + 'static,
    {
        let conn = self.writer.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = conn.lock().map_err(|_| StoreError::Worker)?;
            let tx = guard.transaction()?;
            let out = f(&tx)?;
            tx.commit()?;
            Ok(out)
        })
        .await
        .map_err(|_| StoreError::Worker)?
    }

    /// Runs `f` on a reader connection.
    async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let pool = self.readers.clone();
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || {
            let idle = pool.lock().map_err(|_| StoreError::Worker)?.pop();
            let conn = match idle {
                Some(c) => c,
                None => {
                    let c = Connection::open_with_flags(
                        &path,
                        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                    )?;
                    configure(&c, READER_CACHE_KIB)?;
                    c
                }
            };
            let out = f(&conn);
            let mut idle = pool.lock().map_err(|_| StoreError::Worker)?;
            if idle.len() < READERS {
                idle.push(conn);
            }
            out
        })
        .await
        .map_err(|_| StoreError::Worker)?
    }
}

pub(crate) fn non_empty(s: &str) -> Option<&str> {
    (!s.is_empty()).then_some(s)
}

/// Queues records for the next sync, in the same transaction that stored
/// them: a record is either stored and queued, or neither.
fn enqueue<T: serde::Serialize + ?Sized>(
    tx: &Transaction<'_>,
    kind: &str,
    records: usize,
    payload: &T,
) -> Result<(), StoreError> {
    let json = serde_json::to_string(payload).map_err(|e| StoreError::Payload(e.to_string()))?;
    tx.prepare_cached(
        "INSERT INTO outbox (kind, records, payload, created_at) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![kind, records as i64, json, now_ms()])?;
    Ok(())
}

fn unique_name(e: rusqlite::Error, what: &'static str, name: &str) -> StoreError {
    match &e {
        rusqlite::Error::SqliteFailure(f, _)
            if f.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            StoreError::DuplicateName {
                what,
                name: name.to_owned(),
            }
        }
        _ => e.into(),
    }
}

fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)",
        [],
    )?;
    let current: i64 = conn.query_row(
        "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
        [],
        |r| r.get(0),
    )?;
    let supported = schema::latest_version(Dialect::Sqlite);
    if current > supported {
        return Err(StoreError::SchemaTooNew {
            found: current,
            supported,
        });
    }
    for (version, statements) in schema::migrations(Dialect::Sqlite) {
        if *version <= current {
            continue;
        }
        let tx = conn.transaction()?;
        for s in *statements {
            tx.execute(s, [])?;
        }
        tx.execute(
            "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)",
            params![version, now_ms()],
        )?;
        tx.commit()?;
        tracing::info!(version, "embedded store migrated");
    }
    if current > 0 && current < 6 {
        let tx = conn.transaction()?;
        let routers = configs::reindex(&tx)?;
        tx.commit()?;
        tracing::info!(routers, "configuration search index rebuilt");
    }
    Ok(())
}
