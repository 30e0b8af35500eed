//! The embedded store: one SQLite file in WAL mode.

use std::{
    path::Path,
    sync::{Arc, Mutex},
};

use rusqlite::{params, Connection, OptionalExtension, Row};

use crate::{
    model::{new_id, now_ms},
    schema::{self, Dialect},
    Checkin, Device, NewDevice, SeriesPoint, StoreError,
};

pub(crate) struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
}

const DEVICE_COLUMNS: &str =
    "id, host, port, username, identity, board, version, serial, created_at, \
     last_checkin_at, last_cpu_load, last_polled_at, last_error";

fn device_from_row(r: &Row<'_>) -> rusqlite::Result<Device> {
    Ok(Device {
        id: r.get(0)?,
        host: r.get(1)?,
        port: r.get(2)?,
        username: r.get(3)?,
        identity: r.get(4)?,
        board: r.get(5)?,
        version: r.get(6)?,
        serial: r.get(7)?,
        created_at: r.get(8)?,
        last_checkin_at: r.get(9)?,
        last_cpu_load: r.get(10)?,
        last_polled_at: r.get(11)?,
        last_error: r.get(12)?,
    })
}

impl SqliteStore {
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::DataDir {
                path: dir.display().to_string(),
                source,
            })?;
        }
        let path = path.to_owned();
        let conn = tokio::task::spawn_blocking(move || -> Result<Connection, StoreError> {
            let mut conn = Connection::open(&path)?;
            conn.pragma_update(None, "journal_mode", "WAL")?;
            conn.pragma_update(None, "synchronous", "NORMAL")?;
            conn.pragma_update(None, "foreign_keys", "ON")?;
            conn.busy_timeout(std::time::Duration::from_secs(5))?;
            migrate(&mut conn)?;
            Ok(conn)
        })
        .await
        .map_err(|_| StoreError::Worker)??;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs `f` on the connection off the async runtime's threads.
    async fn call<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = conn.lock().map_err(|_| StoreError::Worker)?;
            f(&mut guard)
        })
        .await
        .map_err(|_| StoreError::Worker)?
    }

    pub async fn add_device(&self, new: &NewDevice) -> Result<Device, StoreError> {
        let new = new.clone();
        self.call(move |c| {
            let id = new_id();
            let inserted = c.execute(
                "INSERT INTO devices (id, host, port, username, created_at) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (host, port) DO NOTHING",
                params![id, new.host, new.port, new.username, now_ms()],
            )?;
            if inserted == 0 {
                return Err(StoreError::DuplicateDevice {
                    host: new.host,
                    port: new.port,
                });
            }
            get_device(c, &id)?.ok_or(StoreError::NotFound(id))
        })
        .await
    }

    pub async fn get_device(&self, id: &str) -> Result<Option<Device>, StoreError> {
        let id = id.to_owned();
        self.call(move |c| get_device(c, &id)).await
    }

    pub async fn find_device(&self, host: &str, port: u16) -> Result<Option<Device>, StoreError> {
        let host = host.to_owned();
        self.call(move |c| {
            Ok(c.query_row(
                &format!("SELECT {DEVICE_COLUMNS} FROM devices WHERE host = ?1 AND port = ?2"),
                params![host, port],
                device_from_row,
            )
            .optional()?)
        })
        .await
    }

    pub async fn list_devices(&self) -> Result<Vec<Device>, StoreError> {
        self.call(|c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {DEVICE_COLUMNS} FROM devices ORDER BY COALESCE(identity, host), host, port"
            ))?;
            let rows = stmt.query_map([], device_from_row)?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    pub async fn record_checkin(&self, k: &Checkin) -> Result<(), StoreError> {
        let k = k.clone();
        self.call(move |c| {
            let tx = c.transaction()?;
            tx.execute(
                "INSERT INTO site_checkins (id, device_id, checked_in_at, cpu_load, cpu_count,
                    free_memory, total_memory, free_hdd, total_hdd, uptime_secs, version,
                    board_name, identity, rx_bytes, tx_bytes)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)
                 ON CONFLICT (id) DO NOTHING",
                params![
                    k.id,
                    k.device_id,
                    k.checked_in_at,
                    k.cpu_load,
                    k.cpu_count,
                    k.free_memory,
                    k.total_memory,
                    k.free_hdd,
                    k.total_hdd,
                    k.uptime_secs,
                    k.version,
                    k.board_name,
                    k.identity,
                    k.rx_bytes,
                    k.tx_bytes
                ],
            )?;
            let updated = tx.execute(
                "UPDATE devices SET identity = ?2, board = ?3, version = ?4,
                    serial = COALESCE(?5, serial), last_checkin_at = ?6, last_cpu_load = ?7,
                    last_polled_at = ?6, last_error = NULL
                 WHERE id = ?1 AND (last_checkin_at IS NULL OR last_checkin_at <= ?6)",
                params![
                    k.device_id,
                    k.identity,
                    k.board_name,
                    k.version,
                    k.serial,
                    k.checked_in_at,
                    k.cpu_load as f64
                ],
            )?;
            tracing::trace!(device = %k.device_id, updated, "check-in stored");
            tx.commit()?;
            Ok(())
        })
        .await
    }

    pub async fn record_poll_failure(
        &self,
        device_id: &str,
        at_ms: i64,
        message: &str,
    ) -> Result<(), StoreError> {
        let (id, msg) = (device_id.to_owned(), message.to_owned());
        self.call(move |c| {
            let n = c.execute(
                "UPDATE devices SET last_polled_at = ?2, last_error = ?3 WHERE id = ?1",
                params![id, at_ms, msg],
            )?;
            if n == 0 {
                return Err(StoreError::NotFound(id));
            }
            Ok(())
        })
        .await
    }

    pub async fn cpu_series(
        &self,
        device_id: &str,
        from_ms: i64,
        to_ms: i64,
        width: i64,
    ) -> Result<Vec<SeriesPoint>, StoreError> {
        let id = device_id.to_owned();
        self.call(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT ?2 + ((checked_in_at - ?2) / ?4) * ?4 AS bucket, AVG(cpu_load)
                 FROM site_checkins
                 WHERE device_id = ?1 AND checked_in_at >= ?2 AND checked_in_at <= ?3
                 GROUP BY bucket ORDER BY bucket",
            )?;
            let rows = stmt.query_map(params![id, from_ms, to_ms, width], |r| {
                Ok(SeriesPoint {
                    at: r.get(0)?,
                    value: r.get(1)?,
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    pub async fn checkin_span(
        &self,
        device_id: &str,
        from_ms: i64,
    ) -> Result<Option<(i64, i64)>, StoreError> {
        let id = device_id.to_owned();
        self.call(move |c| {
            let span: (Option<i64>, Option<i64>) = c.query_row(
                "SELECT MIN(checked_in_at), MAX(checked_in_at) FROM site_checkins
                 WHERE device_id = ?1 AND checked_in_at >= ?2",
                params![id, from_ms],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            Ok(span.0.zip(span.1))
        })
        .await
    }

    pub async fn stats(&self) -> Result<Vec<(&'static str, u64)>, StoreError> {
        self.call(|c| {
            schema::TABLES
                .iter()
                .map(|t| {
                    // Table names come from a constant list, never from input.
                    let n: i64 =
                        c.query_row(&format!("SELECT COUNT(*) FROM {t}"), [], |r| r.get(0))?;
                    Ok((*t, n as u64))
                })
                .collect()
        })
        .await
    }

    pub async fn count_checkins(&self, device_id: &str) -> Result<u64, StoreError> {
        let id = device_id.to_owned();
        self.call(move |c| {
            let n: i64 = c.query_row(
                "SELECT COUNT(*) FROM site_checkins WHERE device_id = ?1",
                params![id],
                |r| r.get(0),
            )?;
            Ok(n as u64)
        })
        .await
    }
}

fn get_device(c: &Connection, id: &str) -> Result<Option<Device>, StoreError> {
    Ok(c.query_row(
        &format!("SELECT {DEVICE_COLUMNS} FROM devices WHERE id = ?1"),
        params![id],
        device_from_row,
    )
    .optional()?)
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
    Ok(())
}
