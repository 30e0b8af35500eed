//! The embedded store: one SQLite file in WAL mode, one writer connection
//! and a small pool of readers (WAL lets readers run beside the writer).

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
};

use rusqlite::{params, Connection, OpenFlags, OptionalExtension, Row, Transaction};

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
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        crate::files::prepare_folder(path)?;
        crate::files::secure_files(path)?;
        let owned = path.to_owned();
        let conn = tokio::task::spawn_blocking(move || -> Result<Connection, StoreError> {
            let mut conn = Connection::open(&owned)?;
            conn.pragma_update(None, "journal_mode", "WAL")?;
            // The WAL and shared-memory files exist now: narrow any left
            // wider by an earlier version.
            crate::files::secure_files(&owned)?;
            conn.pragma_update(None, "synchronous", "NORMAL")?;
            configure(&conn, WRITER_CACHE_KIB)?;
            migrate(&mut conn)?;
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

    // ---- sites, templates, devices -------------------------------------

    pub async fn save_site(&self, site: &Site, queue: bool) -> Result<bool, StoreError> {
        let site = site.clone();
        self.write(move |tx| {
            let n = tx.execute(
                "INSERT INTO sites (id, name, poll_interval_secs, updated_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name,
                    poll_interval_secs = excluded.poll_interval_secs, updated_at = excluded.updated_at
                 WHERE excluded.updated_at > sites.updated_at",
                params![site.id, site.name, site.poll_interval_secs, site.updated_at],
            );
            let n = n.map_err(|e| unique_name(e, "site", &site.name))?;
            if queue && n > 0 {
                enqueue(tx, "site", 1, &site)?;
            }
            Ok(n > 0)
        })
        .await
    }

    pub async fn list_sites(&self) -> Result<Vec<Site>, StoreError> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, name, poll_interval_secs, updated_at FROM sites ORDER BY name",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok(Site {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    poll_interval_secs: r.get(2)?,
                    updated_at: r.get(3)?,
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    pub async fn save_template(&self, t: &Template, queue: bool) -> Result<bool, StoreError> {
        let t = t.clone();
        self.write(move |tx| {
            let n = tx
                .execute(
                    "INSERT INTO templates (id, name, body, updated_at) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (id) DO UPDATE SET name = excluded.name, body = excluded.body,
                        updated_at = excluded.updated_at
                     WHERE excluded.updated_at > templates.updated_at",
                    params![t.id, t.name, t.body, t.updated_at],
                )
                .map_err(|e| unique_name(e, "template", &t.name))?;
            if queue && n > 0 {
                enqueue(tx, "template", 1, &t)?;
            }
            Ok(n > 0)
        })
        .await
    }

    pub async fn list_templates(&self) -> Result<Vec<Template>, StoreError> {
        self.read(|c| {
            let mut stmt =
                c.prepare_cached("SELECT id, name, body, updated_at FROM templates ORDER BY name")?;
            let rows = stmt.query_map([], |r| {
                Ok(Template {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    body: r.get(2)?,
                    updated_at: r.get(3)?,
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    pub async fn add_device(&self, new: &NewDevice, queue: bool) -> Result<Device, StoreError> {
        let now = now_ms();
        let record = DeviceRecord {
            id: new_id(),
            site_id: new.site_id.clone(),
            host: new.host.clone(),
            port: new.port,
            username: new.username.clone(),
            transport: Transport::Api,
            tls_fingerprint: None,
            tags: normalise_tags(&new.tags),
            created_at: now,
            updated_at: now,
        };
        self.write(move |tx| {
            if let Some(site) = &record.site_id {
                let known: Option<i64> = tx
                    .query_row("SELECT 1 FROM sites WHERE id = ?1", [site], |r| r.get(0))
                    .optional()?;
                if known.is_none() {
                    return Err(StoreError::NotFound(format!("site {site}")));
                }
            }
            if find_device(tx, &record.host, record.port)?.is_some() {
                return Err(StoreError::DuplicateDevice {
                    host: record.host.clone(),
                    port: record.port,
                });
            }
            upsert_device(tx, &record)?;
            if queue {
                enqueue(tx, "device", 1, &record)?;
            }
            get_device(tx, &record.id)?.ok_or_else(|| StoreError::NotFound(record.id.clone()))
        })
        .await
    }

    /// Inserts or updates inventory records; the newer `updated_at` wins.
    /// Returns how many changed this store.
    pub async fn save_devices(
        &self,
        records: Vec<DeviceRecord>,
        queue: bool,
    ) -> Result<u64, StoreError> {
        self.write(move |tx| {
            let mut changed = Vec::new();
            for r in &records {
                if let Some(other) = find_device(tx, &r.host, r.port)? {
                    if other.id != r.id {
                        return Err(StoreError::AddressConflict {
                            host: r.host.clone(),
                            port: r.port,
                            existing: other.id,
                            incoming: r.id.clone(),
                        });
                    }
                }
                if upsert_device(tx, r)? {
                    changed.push(r.clone());
                }
            }
            if queue && !changed.is_empty() {
                for r in &changed {
                    enqueue(tx, "device", 1, r)?;
                }
            }
            Ok(changed.len() as u64)
        })
        .await
    }

    /// Pins a router's certificate on first use: only when none is pinned.
    pub async fn pin_fingerprint(
        &self,
        device_id: &str,
        fingerprint: &str,
    ) -> Result<bool, StoreError> {
        let (id, fp) = (device_id.to_owned(), fingerprint.to_owned());
        self.write(move |tx| {
            let n = tx.execute(
                "UPDATE devices SET tls_fingerprint = ?2, updated_at = ?3
                 WHERE id = ?1 AND tls_fingerprint IS NULL",
                params![id, fp, now_ms()],
            )?;
            Ok(n == 1)
        })
        .await
    }

    pub async fn device_records(&self) -> Result<Vec<DeviceRecord>, StoreError> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, site_id, host, port, username, transport, tls_fingerprint,
                    created_at, updated_at,
                    (SELECT group_concat(tag, char(31)) FROM device_tags t WHERE t.device_id = d.id)
                 FROM devices d ORDER BY key",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok(DeviceRecord {
                    id: r.get(0)?,
                    site_id: r.get(1)?,
                    host: r.get(2)?,
                    port: r.get(3)?,
                    username: r.get(4)?,
                    transport: transport_of(r, 5)?,
                    tls_fingerprint: r.get(6)?,
                    created_at: r.get(7)?,
                    updated_at: r.get(8)?,
                    tags: split_tags(r.get(9)?),
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    pub async fn get_device(&self, id: &str) -> Result<Option<Device>, StoreError> {
        let id = id.to_owned();
        self.read(move |c| get_device(c, &id)).await
    }

    pub async fn find_device(&self, host: &str, port: u16) -> Result<Option<Device>, StoreError> {
        let host = host.to_owned();
        self.read(move |c| match find_device(c, &host, port)? {
            Some(d) => get_device(c, &d.id),
            None => Ok(None),
        })
        .await
    }

    /// Every device with its latest state, tags left empty
    /// ([`Self::all_device_tags`] has them), in no particular order.
    pub async fn list_devices_untagged(&self) -> Result<Vec<Device>, StoreError> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(DEVICE_LIST_SELECT)?;
            let rows = stmt.query_map([], device_from_row)?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    /// Every device's tags, by device id. The table is kept in key order
    /// (device id, tag), so a device's tags come together and its id is
    /// read once for all of them.
    pub async fn all_device_tags(&self) -> Result<Vec<(String, Vec<String>)>, StoreError> {
        self.read(|c| {
            let mut stmt = c.prepare_cached("SELECT device_id, tag FROM device_tags")?;
            let mut rows = stmt.query([])?;
            let mut out: Vec<(String, Vec<String>)> = Vec::new();
            while let Some(r) = rows.next()? {
                let id = r.get_ref(0)?.as_str().map_err(|e| {
                    rusqlite::Error::FromSqlConversionFailure(
                        0,
                        rusqlite::types::Type::Text,
                        Box::new(e),
                    )
                })?;
                let tag: String = r.get(1)?;
                match out.last_mut() {
                    Some((last, tags)) if last == id => tags.push(tag),
                    _ => out.push((id.to_owned(), vec![tag])),
                }
            }
            Ok(out)
        })
        .await
    }

    // ---- check-ins ------------------------------------------------------

    /// Stores check-ins new to this store and, in the same transaction,
    /// updates the hourly rollups and the latest state from exactly those.
    pub async fn record_checkins(
        &self,
        batch: Vec<Checkin>,
        queue: bool,
    ) -> Result<IngestReport, StoreError> {
        self.write(move |tx| {
            let keys = device_keys(tx, batch.iter().map(|k| k.device_id.as_str()))?;
            let mut agg = Aggregates::default();
            let mut fresh = Vec::new();
            {
                let mut insert = tx.prepare_cached(
                    "INSERT OR IGNORE INTO checkins (device_key, checked_in_at, cpu_load, cpu_count,
                        free_memory, total_memory, free_hdd, total_hdd, uptime_secs, version,
                        rx_bytes, tx_bytes, rx_bps, tx_bps)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
                )?;
                for (i, k) in batch.iter().enumerate() {
                    let key = keys[k.device_id.as_str()];
                    let n = insert.execute(params![
                        key,
                        k.checked_in_at,
                        k.cpu_load,
                        k.cpu_count,
                        k.free_memory,
                        k.total_memory,
                        k.free_hdd,
                        k.total_hdd,
                        k.uptime_secs,
                        k.version,
                        k.rx_bytes,
                        k.tx_bytes,
                        k.rx_bps,
                        k.tx_bps
                    ])?;
                    if n == 1 {
                        agg.add(k);
                        fresh.push(i);
                    }
                }
            }
            write_aggregates(tx, &keys, &agg)?;
            let report = IngestReport {
                inserted: fresh.len() as u64,
                duplicates: (batch.len() - fresh.len()) as u64,
            };
            if queue && !fresh.is_empty() {
                let rows: Vec<&Checkin> = fresh.iter().map(|&i| &batch[i]).collect();
                enqueue(tx, "checkins", rows.len(), &rows)?;
            }
            Ok(report)
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
        self.write(move |tx| {
            let key = device_keys(tx, [id.as_str()])?[id.as_str()];
            tx.execute(
                "INSERT INTO device_latest (device_key, last_polled_at, last_error, failures)
                 VALUES (?1, ?2, ?3, 1)
                 ON CONFLICT (device_key) DO UPDATE SET last_polled_at = excluded.last_polled_at,
                    last_error = excluded.last_error, failures = failures + 1",
                params![key, at_ms, msg],
            )?;
            Ok(())
        })
        .await
    }

    pub async fn checkins_of(
        &self,
        device_id: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<Checkin>, StoreError> {
        let id = device_id.to_owned();
        self.read(move |c| {
            let Some(key) = device_key(c, &id)? else {
                return Err(StoreError::NotFound(id));
            };
            let mut stmt = c.prepare_cached(
                "SELECT checked_in_at, cpu_load, cpu_count, free_memory, total_memory, free_hdd,
                    total_hdd, uptime_secs, version, rx_bytes, tx_bytes, rx_bps, tx_bps
                 FROM checkins WHERE device_key = ?1 AND checked_in_at >= ?2 AND checked_in_at <= ?3
                 ORDER BY checked_in_at",
            )?;
            let rows = stmt.query_map(params![key, from_ms, to_ms], |r| {
                Ok(Checkin {
                    device_id: id.clone(),
                    checked_in_at: r.get(0)?,
                    cpu_load: r.get(1)?,
                    cpu_count: r.get(2)?,
                    free_memory: r.get(3)?,
                    total_memory: r.get(4)?,
                    free_hdd: r.get(5)?,
                    total_hdd: r.get(6)?,
                    uptime_secs: r.get(7)?,
                    version: r.get(8)?,
                    rx_bytes: r.get(9)?,
                    tx_bytes: r.get(10)?,
                    rx_bps: r.get(11)?,
                    tx_bps: r.get(12)?,
                    ..Checkin::default()
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    pub async fn checkin_span(
        &self,
        device_id: &str,
        from_ms: i64,
    ) -> Result<Option<(i64, i64)>, StoreError> {
        let id = device_id.to_owned();
        self.read(move |c| {
            let Some(key) = device_key(c, &id)? else {
                return Err(StoreError::NotFound(id));
            };
            let span: (Option<i64>, Option<i64>) = c.query_row(
                "SELECT (SELECT MIN(checked_in_at) FROM checkins WHERE device_key = ?1 AND checked_in_at >= ?2),
                        (SELECT MAX(checked_in_at) FROM checkins WHERE device_key = ?1 AND checked_in_at >= ?2)",
                params![key, from_ms],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            Ok(span.0.zip(span.1))
        })
        .await
    }

    pub async fn count_checkins(&self, device_id: &str) -> Result<u64, StoreError> {
        let id = device_id.to_owned();
        self.read(move |c| {
            let Some(key) = device_key(c, &id)? else {
                return Err(StoreError::NotFound(id));
            };
            let n: i64 = c.query_row(
                "SELECT COUNT(*) FROM checkins WHERE device_key = ?1",
                [key],
                |r| r.get(0),
            )?;
            Ok(n as u64)
        })
        .await
    }

    // ---- latest state and rollups (for sync) ----------------------------

    pub async fn latest_states(&self) -> Result<Vec<LatestState>, StoreError> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT d.id, l.checked_in_at, l.cpu_load, l.cpu_count, l.free_memory, l.total_memory,
                    l.free_hdd, l.total_hdd, l.uptime_secs, l.version, l.board, l.identity, l.serial,
                    l.rx_bps, l.tx_bps, l.last_polled_at, l.last_error, l.failures
                 FROM device_latest l JOIN devices d ON d.key = l.device_key ORDER BY d.key",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok(LatestState {
                    device_id: r.get(0)?,
                    checked_in_at: r.get(1)?,
                    cpu_load: r.get(2)?,
                    cpu_count: r.get(3)?,
                    free_memory: r.get(4)?,
                    total_memory: r.get(5)?,
                    free_hdd: r.get(6)?,
                    total_hdd: r.get(7)?,
                    uptime_secs: r.get(8)?,
                    version: r.get(9)?,
                    board: r.get(10)?,
                    identity: r.get(11)?,
                    serial: r.get(12)?,
                    rx_bps: r.get(13)?,
                    tx_bps: r.get(14)?,
                    last_polled_at: r.get(15)?,
                    last_error: r.get(16)?,
                    failures: r.get(17)?,
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    /// Takes each incoming latest state whose check-in is newer than ours.
    pub async fn merge_latest(&self, states: Vec<LatestState>) -> Result<u64, StoreError> {
        self.write(move |tx| {
            let keys = device_keys(tx, states.iter().map(|s| s.device_id.as_str()))?;
            let mut stmt = tx.prepare_cached(
                "INSERT INTO device_latest (device_key, checked_in_at, cpu_load, cpu_count,
                    free_memory, total_memory, free_hdd, total_hdd, uptime_secs, version, board,
                    identity, serial, rx_bps, tx_bps, last_polled_at, last_error, failures)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)
                 ON CONFLICT (device_key) DO UPDATE SET checked_in_at = excluded.checked_in_at,
                    cpu_load = excluded.cpu_load, cpu_count = excluded.cpu_count,
                    free_memory = excluded.free_memory, total_memory = excluded.total_memory,
                    free_hdd = excluded.free_hdd, total_hdd = excluded.total_hdd,
                    uptime_secs = excluded.uptime_secs, version = excluded.version,
                    board = excluded.board, identity = excluded.identity, serial = excluded.serial,
                    rx_bps = excluded.rx_bps, tx_bps = excluded.tx_bps,
                    last_polled_at = excluded.last_polled_at, last_error = excluded.last_error,
                    failures = excluded.failures
                 WHERE COALESCE(excluded.last_polled_at, excluded.checked_in_at, 0)
                     > COALESCE(device_latest.last_polled_at, device_latest.checked_in_at, 0)",
            )?;
            let mut n = 0;
            for s in &states {
                n += stmt.execute(params![
                    keys[s.device_id.as_str()],
                    s.checked_in_at,
                    s.cpu_load,
                    s.cpu_count,
                    s.free_memory,
                    s.total_memory,
                    s.free_hdd,
                    s.total_hdd,
                    s.uptime_secs,
                    s.version,
                    s.board,
                    s.identity,
                    s.serial,
                    s.rx_bps,
                    s.tx_bps,
                    s.last_polled_at,
                    s.last_error,
                    s.failures
                ])? as u64;
            }
            Ok(n)
        })
        .await
    }

    pub async fn hourly_rollups(
        &self,
        device_id: &str,
        before_hour: i64,
    ) -> Result<Vec<HourlyRollup>, StoreError> {
        let id = device_id.to_owned();
        self.read(move |c| {
            let Some(key) = device_key(c, &id)? else {
                return Err(StoreError::NotFound(id));
            };
            let mut stmt = c.prepare_cached(
                "SELECT hour, checkins, cpu_sum, cpu_max, memory_used_pct_sum, rx_bps_sum, tx_bps_sum
                 FROM device_hourly WHERE device_key = ?1 AND hour < ?2 ORDER BY hour",
            )?;
            let rows = stmt.query_map(params![key, before_hour], |r| {
                Ok(HourlyRollup {
                    device_id: id.clone(),
                    hour: r.get(0)?,
                    checkins: r.get(1)?,
                    cpu_sum: r.get(2)?,
                    cpu_max: r.get(3)?,
                    memory_used_pct_sum: r.get(4)?,
                    rx_bps_sum: r.get(5)?,
                    tx_bps_sum: r.get(6)?,
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    /// Replaces rollup rows with the source's (the source is authoritative
    /// for hours before the sync window).
    pub async fn replace_rollups(
        &self,
        rows: Vec<HourlyRollup>,
        fleet: Vec<(i64, i64, i64)>,
    ) -> Result<(), StoreError> {
        self.write(move |tx| {
            let keys = device_keys(tx, rows.iter().map(|r| r.device_id.as_str()))?;
            let mut stmt = tx.prepare_cached(
                "INSERT OR REPLACE INTO device_hourly (device_key, hour, checkins, cpu_sum, cpu_max,
                    memory_used_pct_sum, rx_bps_sum, tx_bps_sum)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?;
            for r in &rows {
                stmt.execute(params![
                    keys[r.device_id.as_str()],
                    r.hour,
                    r.checkins,
                    r.cpu_sum,
                    r.cpu_max,
                    r.memory_used_pct_sum,
                    r.rx_bps_sum,
                    r.tx_bps_sum
                ])?;
            }
            let mut stmt = tx.prepare_cached(
                "INSERT OR REPLACE INTO fleet_hourly (hour, checkins, cpu_sum) VALUES (?1, ?2, ?3)",
            )?;
            for (hour, n, cpu) in &fleet {
                stmt.execute(params![hour, n, cpu])?;
            }
            Ok(())
        })
        .await
    }

    pub async fn fleet_rollups(
        &self,
        before_hour: i64,
    ) -> Result<Vec<(i64, i64, i64)>, StoreError> {
        self.read(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT hour, checkins, cpu_sum FROM fleet_hourly WHERE hour < ?1 ORDER BY hour",
            )?;
            let rows = stmt.query_map([before_hour], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    // ---- audit, pushes, outbox ------------------------------------------

    pub async fn record_audit(
        &self,
        events: Vec<AuditEvent>,
        queue: bool,
    ) -> Result<u64, StoreError> {
        self.write(move |tx| {
            let mut stmt = tx.prepare_cached(
                "INSERT OR IGNORE INTO audit_events (id, at, device_id, actor, action, detail)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            let mut fresh = Vec::new();
            for e in &events {
                if stmt.execute(params![
                    e.id,
                    e.at,
                    e.device_id,
                    e.actor,
                    e.action,
                    e.detail
                ])? == 1
                {
                    fresh.push(e);
                }
            }
            if queue && !fresh.is_empty() {
                enqueue(tx, "audit", fresh.len(), &fresh)?;
            }
            Ok(fresh.len() as u64)
        })
        .await
    }

    pub async fn audit_events(
        &self,
        device_id: Option<&str>,
        since_ms: i64,
        limit: u32,
    ) -> Result<Vec<AuditEvent>, StoreError> {
        let id = device_id.map(str::to_owned);
        self.read(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, at, device_id, actor, action, detail FROM audit_events
                 WHERE (?1 IS NULL OR device_id = ?1) AND at >= ?2
                 ORDER BY at DESC, id DESC LIMIT ?3",
            )?;
            let rows = stmt.query_map(params![id, since_ms, limit], |r| {
                Ok(AuditEvent {
                    id: r.get(0)?,
                    at: r.get(1)?,
                    device_id: r.get(2)?,
                    actor: r.get(3)?,
                    action: r.get(4)?,
                    detail: r.get(5)?,
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    pub async fn save_pushes(
        &self,
        pushes: Vec<PushRecord>,
        queue: bool,
    ) -> Result<u64, StoreError> {
        self.write(move |tx| {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO push_records (id, device_id, template_id, started_at, finished_at,
                    status, summary, updated_at, batch_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                 ON CONFLICT (id) DO UPDATE SET finished_at = excluded.finished_at,
                    status = excluded.status, summary = excluded.summary,
                    updated_at = excluded.updated_at
                 WHERE excluded.updated_at > push_records.updated_at",
            )?;
            let mut changed = Vec::new();
            for p in &pushes {
                if stmt.execute(params![
                    p.id,
                    p.device_id,
                    p.template_id,
                    p.started_at,
                    p.finished_at,
                    p.status,
                    p.summary,
                    p.updated_at,
                    p.batch_id
                ])? == 1
                {
                    changed.push(p);
                }
            }
            if queue && !changed.is_empty() {
                enqueue(tx, "push", changed.len(), &changed)?;
            }
            Ok(changed.len() as u64)
        })
        .await
    }

    pub async fn push_records(
        &self,
        device_id: Option<&str>,
        limit: u32,
    ) -> Result<Vec<PushRecord>, StoreError> {
        let id = device_id.map(str::to_owned);
        self.read(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, device_id, template_id, started_at, finished_at, status, summary, updated_at, batch_id
                 FROM push_records WHERE (?1 IS NULL OR device_id = ?1)
                 ORDER BY started_at DESC, id DESC LIMIT ?2",
            )?;
            let rows = stmt.query_map(params![id, limit], push_row)?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    pub async fn batch_pushes(&self, batch_id: &str) -> Result<Vec<PushRecord>, StoreError> {
        let id = batch_id.to_owned();
        self.read(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, device_id, template_id, started_at, finished_at, status, summary, updated_at, batch_id
                 FROM push_records WHERE batch_id = ?1 ORDER BY started_at, id",
            )?;
            let rows = stmt.query_map(params![id], push_row)?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    pub async fn save_batch(&self, b: PushBatch) -> Result<bool, StoreError> {
        self.write(move |tx| {
            let n = tx.execute(
                "INSERT INTO push_batches (id, started_at, finished_at, status, actor, options,
                    targets, summary, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                 ON CONFLICT (id) DO UPDATE SET finished_at = excluded.finished_at,
                    status = excluded.status, summary = excluded.summary,
                    updated_at = excluded.updated_at
                 WHERE excluded.updated_at >= push_batches.updated_at",
                params![
                    b.id,
                    b.started_at,
                    b.finished_at,
                    b.status,
                    b.actor,
                    b.options,
                    serde_json::to_string(&b.targets)
                        .map_err(|e| StoreError::Payload(e.to_string()))?,
                    b.summary,
                    b.updated_at
                ],
            )?;
            Ok(n == 1)
        })
        .await
    }

    pub async fn push_batches(
        &self,
        status: Option<&str>,
        limit: u32,
    ) -> Result<Vec<PushBatch>, StoreError> {
        let status = status.map(str::to_owned);
        self.read(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, started_at, finished_at, status, actor, options, targets, summary, updated_at
                 FROM push_batches WHERE (?1 IS NULL OR status = ?1)
                 ORDER BY started_at DESC, id DESC LIMIT ?2",
            )?;
            let rows = stmt.query_map(params![status, limit], |r| {
                let targets: String = r.get(6)?;
                Ok(PushBatch {
                    id: r.get(0)?,
                    started_at: r.get(1)?,
                    finished_at: r.get(2)?,
                    status: r.get(3)?,
                    actor: r.get(4)?,
                    options: r.get(5)?,
                    targets: serde_json::from_str(&targets).unwrap_or_default(),
                    summary: r.get(7)?,
                    updated_at: r.get(8)?,
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    pub async fn outbox_peek(&self, limit: u32) -> Result<Vec<OutboxEntry>, StoreError> {
        self.read(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT seq, kind, records, payload FROM outbox ORDER BY seq LIMIT ?1",
            )?;
            let rows = stmt.query_map([limit], |r| {
                Ok(OutboxEntry {
                    seq: r.get(0)?,
                    kind: r.get(1)?,
                    records: r.get(2)?,
                    payload: r.get(3)?,
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    pub async fn outbox_remove(&self, seq: i64) -> Result<(), StoreError> {
        self.write(move |tx| {
            tx.execute("DELETE FROM outbox WHERE seq = ?1", [seq])?;
            Ok(())
        })
        .await
    }

    pub async fn outbox_size(&self) -> Result<(u64, u64), StoreError> {
        self.read(|c| {
            let (entries, records): (i64, i64) = c.query_row(
                "SELECT COUNT(*), COALESCE(SUM(records), 0) FROM outbox",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            Ok((entries as u64, records as u64))
        })
        .await
    }

    // ---- dashboards -----------------------------------------------------

    pub async fn fleet_summary(
        &self,
        now_ms: i64,
        t: HealthThresholds,
    ) -> Result<FleetSummary, StoreError> {
        self.read(move |c| {
            // One table scan of the latest state; offline is what is left.
            let total: i64 = c.query_row("SELECT COUNT(*) FROM devices", [], |r| r.get(0))?;
            let (online, degraded, seen): (i64, i64, i64) = c.query_row(
                "SELECT COALESCE(SUM(checked_in_at >= ?1), 0),
                    COALESCE(SUM(checked_in_at < ?1 AND checked_in_at >= ?2), 0),
                    COUNT(checked_in_at)
                 FROM device_latest",
                params![now_ms - t.degraded_after_ms, now_ms - t.offline_after_ms],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )?;
            let row = summary(total, online, degraded, seen);
            Ok(row)
        })
        .await
    }

    pub async fn version_distribution(&self) -> Result<Vec<Count<String>>, StoreError> {
        self.read(|c| {
            let total: i64 = c.query_row("SELECT COUNT(*) FROM devices", [], |r| r.get(0))?;
            let mut stmt = c.prepare_cached(
                "SELECT version, COUNT(*) FROM device_latest WHERE version IS NOT NULL
                 GROUP BY version",
            )?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as u64)))?;
            Ok(versions(total as u64, rows.collect::<Result<_, _>>()?))
        })
        .await
    }

    pub async fn cpu_distribution(&self, since_ms: i64) -> Result<Vec<(u8, u64)>, StoreError> {
        self.read(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT MIN(MAX(cpu_load, 0) / 10, 9) AS band, COUNT(*) FROM device_latest
                 WHERE checked_in_at >= ?1 GROUP BY band",
            )?;
            let rows = stmt.query_map([since_ms], |r| {
                Ok((r.get::<_, i64>(0)? as u8, r.get::<_, i64>(1)? as u64))
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    pub async fn top_cpu(&self, since_ms: i64, n: u32) -> Result<Vec<DeviceMetric>, StoreError> {
        self.read(move |c| {
            top(
                c,
                "CAST(l.cpu_load AS REAL)",
                "l.cpu_load IS NOT NULL",
                since_ms,
                n,
            )
        })
        .await
    }

    pub async fn pressure(
        &self,
        since_ms: i64,
        threshold_pct: f64,
        n: u32,
    ) -> Result<Pressure, StoreError> {
        self.read(move |c| {
            let (memory_high, storage_high): (i64, i64) = c.query_row(
                &format!(
                    "SELECT COALESCE(SUM({MEM} >= ?2), 0), COALESCE(SUM({HDD} >= ?2), 0)
                     FROM device_latest l WHERE l.checked_in_at >= ?1"
                ),
                params![since_ms, threshold_pct],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            Ok(Pressure {
                memory_high: memory_high as u64,
                storage_high: storage_high as u64,
                threshold_pct,
                top_memory: top(c, MEM, "l.total_memory > 0", since_ms, n)?,
                top_storage: top(c, HDD, "l.total_hdd > 0", since_ms, n)?,
            })
        })
        .await
    }

    pub async fn checkins_per_hour(
        &self,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<FleetHour>, StoreError> {
        self.read(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT hour, checkins, cpu_sum FROM fleet_hourly
                 WHERE hour >= ?1 AND hour <= ?2 ORDER BY hour",
            )?;
            let rows = stmt.query_map(params![hour_of(from_ms), to_ms], |r| {
                let n: i64 = r.get(1)?;
                let cpu: i64 = r.get(2)?;
                Ok(FleetHour {
                    hour: r.get(0)?,
                    checkins: n as u64,
                    avg_cpu: if n > 0 { cpu as f64 / n as f64 } else { 0.0 },
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    pub async fn device_series(
        &self,
        device_id: &str,
        from_ms: i64,
        to_ms: i64,
        bucket_ms: i64,
        resolution: Resolution,
    ) -> Result<Vec<DevicePoint>, StoreError> {
        let id = device_id.to_owned();
        self.read(move |c| {
            let Some(key) = device_key(c, &id)? else {
                return Err(StoreError::NotFound(id));
            };
            let sql = match resolution {
                Resolution::Raw => {
                    "SELECT ?2 + ((checked_in_at - ?2) / ?4) * ?4 AS bucket, AVG(cpu_load),
                        MAX(cpu_load),
                        AVG(CASE WHEN total_memory > 0
                            THEN 100.0 * (total_memory - free_memory) / total_memory END),
                        AVG(rx_bps), AVG(tx_bps), COUNT(*)
                     FROM checkins
                     WHERE device_key = ?1 AND checked_in_at >= ?2 AND checked_in_at <= ?3
                     GROUP BY bucket ORDER BY bucket"
                }
                Resolution::Hourly => {
                    "SELECT ?2 + ((hour - ?2) / ?4) * ?4 AS bucket,
                        1.0 * SUM(cpu_sum) / SUM(checkins), MAX(cpu_max),
                        SUM(memory_used_pct_sum) / SUM(checkins),
                        1.0 * SUM(rx_bps_sum) / SUM(checkins), 1.0 * SUM(tx_bps_sum) / SUM(checkins),
                        SUM(checkins)
                     FROM device_hourly
                     WHERE device_key = ?1 AND hour >= ?2 AND hour <= ?3
                     GROUP BY bucket ORDER BY bucket"
                }
            };
            let mut stmt = c.prepare_cached(sql)?;
            let from = match resolution {
                Resolution::Raw => from_ms,
                Resolution::Hourly => hour_of(from_ms),
            };
            let rows = stmt.query_map(params![key, from, to_ms, bucket_ms], |r| {
                Ok(DevicePoint {
                    at: r.get(0)?,
                    cpu_load: r.get(1)?,
                    cpu_max: r.get::<_, f64>(2)?,
                    memory_used_pct: r.get::<_, Option<f64>>(3)?.unwrap_or(0.0),
                    rx_bps: r.get(4)?,
                    tx_bps: r.get(5)?,
                    checkins: r.get::<_, i64>(6)? as u64,
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    pub async fn stats(&self) -> Result<Vec<(&'static str, u64)>, StoreError> {
        self.read(|c| {
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

    /// Bytes on disk: the database file and its write-ahead log.
    pub fn size_on_disk(&self) -> u64 {
        let wal = PathBuf::from(format!("{}-wal", self.path.display()));
        [self.path.as_path(), wal.as_path()]
            .iter()
            .filter_map(|p| std::fs::metadata(p).ok())
            .map(|m| m.len())
            .sum()
    }
}

const MEM: &str = "(100.0 * (l.total_memory - l.free_memory) / l.total_memory)";
const HDD: &str = "(100.0 * (l.total_hdd - l.free_hdd) / l.total_hdd)";

/// Top `n` devices by `expr` (a constant SQL expression, never input).
fn top(
    c: &Connection,
    expr: &str,
    filter: &str,
    since_ms: i64,
    n: u32,
) -> Result<Vec<DeviceMetric>, StoreError> {
    let mut stmt = c.prepare_cached(&format!(
        "SELECT d.id, COALESCE(l.identity, d.host || ':' || d.port), {expr} AS v, l.checked_in_at
         FROM device_latest l JOIN devices d ON d.key = l.device_key
         WHERE l.checked_in_at >= ?1 AND {filter}
         ORDER BY v DESC, d.id LIMIT ?2"
    ))?;
    let rows = stmt.query_map(params![since_ms, n], |r| {
        Ok(DeviceMetric {
            device_id: r.get(0)?,
            name: r.get(1)?,
            value: r.get(2)?,
            checked_in_at: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

const DEVICE_SELECT: &str = "SELECT d.id, d.site_id, d.host, d.port, d.username, d.transport,
        (SELECT group_concat(tag, char(31)) FROM device_tags t WHERE t.device_id = d.id),
        l.identity, l.board, l.version, l.serial, d.created_at, l.checked_in_at, l.cpu_load,
        l.last_polled_at, l.last_error
     FROM devices d LEFT JOIN device_latest l ON l.device_key = d.key";

/// [`DEVICE_SELECT`] without the tags (column 6 is NULL).
const DEVICE_LIST_SELECT: &str = "SELECT d.id, d.site_id, d.host, d.port, d.username, d.transport,
        NULL, l.identity, l.board, l.version, l.serial, d.created_at, l.checked_in_at, l.cpu_load,
        l.last_polled_at, l.last_error
     FROM devices d LEFT JOIN device_latest l ON l.device_key = d.key";

/// Column `i` as a transport; an unknown name fails the read (see
/// [`Transport::parse`]).
fn transport_of(r: &Row<'_>, i: usize) -> rusqlite::Result<Transport> {
    let conversion = |e: Box<dyn std::error::Error + Send + Sync>| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, e)
    };
    let name = r
        .get_ref(i)?
        .as_str()
        .map_err(|e| conversion(Box::new(e)))?;
    Transport::parse(name).map_err(|e| conversion(Box::new(e)))
}

fn device_from_row(r: &Row<'_>) -> rusqlite::Result<Device> {
    Ok(Device {
        id: r.get(0)?,
        site_id: r.get(1)?,
        host: r.get(2)?,
        port: r.get(3)?,
        username: r.get(4)?,
        transport: transport_of(r, 5)?,
        tags: split_tags(r.get(6)?),
        identity: r.get(7)?,
        board: r.get(8)?,
        version: r.get(9)?,
        serial: r.get(10)?,
        created_at: r.get(11)?,
        last_checkin_at: r.get(12)?,
        last_cpu_load: r.get::<_, Option<i64>>(13)?.map(|v| v as f64),
        last_polled_at: r.get(14)?,
        last_error: r.get(15)?,
    })
}

fn split_tags(joined: Option<String>) -> Vec<String> {
    let mut tags: Vec<String> = joined
        .map(|j| j.split('\u{1f}').map(str::to_owned).collect())
        .unwrap_or_default();
    tags.sort();
    tags
}

pub(crate) fn normalise_tags(tags: &[String]) -> Vec<String> {
    let mut out: Vec<String> = tags
        .iter()
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
        .collect();
    out.sort();
    out.dedup();
    out
}

fn get_device(c: &Connection, id: &str) -> Result<Option<Device>, StoreError> {
    Ok(
        c.prepare_cached(&format!("{DEVICE_SELECT} WHERE d.id = ?1"))?
            .query_row([id], device_from_row)
            .optional()?,
    )
}

fn find_device(c: &Connection, host: &str, port: u16) -> Result<Option<DeviceRecord>, StoreError> {
    Ok(
        c.prepare_cached("SELECT id FROM devices WHERE host = ?1 AND port = ?2")?
            .query_row(params![host, port], |r| r.get::<_, String>(0))
            .optional()?
            .map(|id| DeviceRecord {
                id,
                site_id: None,
                host: host.to_owned(),
                port,
                username: String::new(),
                transport: Transport::Api,
                tls_fingerprint: None,
                tags: Vec::new(),
                created_at: 0,
                updated_at: 0,
            }),
    )
}

/// Inserts or updates one inventory record (newer `updated_at` wins) and
/// its tags. Returns whether this store changed.
fn upsert_device(tx: &Transaction<'_>, r: &DeviceRecord) -> Result<bool, StoreError> {
    let n = tx
        .prepare_cached(
            "INSERT INTO devices (id, site_id, host, port, username, transport, tls_fingerprint,
            created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT (id) DO UPDATE SET site_id = excluded.site_id, host = excluded.host,
            port = excluded.port, username = excluded.username, transport = excluded.transport,
            tls_fingerprint = excluded.tls_fingerprint, updated_at = excluded.updated_at
         WHERE excluded.updated_at > devices.updated_at",
        )?
        .execute(params![
            r.id,
            r.site_id,
            r.host,
            r.port,
            r.username,
            r.transport.as_str(),
            r.tls_fingerprint,
            r.created_at,
            r.updated_at
        ])?;
    if n == 0 {
        return Ok(false);
    }
    tx.prepare_cached("DELETE FROM device_tags WHERE device_id = ?1")?
        .execute([&r.id])?;
    let mut add = tx.prepare_cached("INSERT INTO device_tags (device_id, tag) VALUES (?1, ?2)")?;
    for t in normalise_tags(&r.tags) {
        add.execute(params![r.id, t])?;
    }
    Ok(true)
}

fn device_key(c: &Connection, id: &str) -> Result<Option<i64>, StoreError> {
    Ok(c.prepare_cached("SELECT key FROM devices WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?)
}

/// Local integer keys of the given devices; an unknown device is an error
/// that names it (its records stay where they came from).
fn device_keys<'a>(
    c: &Connection,
    ids: impl IntoIterator<Item = &'a str>,
) -> Result<HashMap<&'a str, i64>, StoreError> {
    let mut keys = HashMap::new();
    let mut stmt = c.prepare_cached("SELECT key FROM devices WHERE id = ?1")?;
    for id in ids {
        if keys.contains_key(id) {
            continue;
        }
        let key: Option<i64> = stmt.query_row([id], |r| r.get(0)).optional()?;
        keys.insert(id, key.ok_or_else(|| StoreError::NotFound(id.to_owned()))?);
    }
    Ok(keys)
}

fn write_aggregates(
    tx: &Transaction<'_>,
    keys: &HashMap<&str, i64>,
    agg: &Aggregates<'_>,
) -> Result<(), StoreError> {
    let mut hourly = tx.prepare_cached(
        "INSERT INTO device_hourly (device_key, hour, checkins, cpu_sum, cpu_max,
            memory_used_pct_sum, rx_bps_sum, tx_bps_sum)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (device_key, hour) DO UPDATE SET checkins = checkins + excluded.checkins,
            cpu_sum = cpu_sum + excluded.cpu_sum, cpu_max = MAX(cpu_max, excluded.cpu_max),
            memory_used_pct_sum = memory_used_pct_sum + excluded.memory_used_pct_sum,
            rx_bps_sum = rx_bps_sum + excluded.rx_bps_sum,
            tx_bps_sum = tx_bps_sum + excluded.tx_bps_sum",
    )?;
    for ((device, hour), h) in &agg.hourly {
        hourly.execute(params![
            keys[device],
            hour,
            h.checkins,
            h.cpu_sum,
            h.cpu_max,
            h.memory_used_pct_sum,
            h.rx_bps_sum,
            h.tx_bps_sum
        ])?;
    }
    let mut fleet = tx.prepare_cached(
        "INSERT INTO fleet_hourly (hour, checkins, cpu_sum) VALUES (?1, ?2, ?3)
         ON CONFLICT (hour) DO UPDATE SET checkins = checkins + excluded.checkins,
            cpu_sum = cpu_sum + excluded.cpu_sum",
    )?;
    for (hour, (n, cpu)) in &agg.fleet {
        fleet.execute(params![hour, n, cpu])?;
    }
    let mut latest = tx.prepare_cached(
        "INSERT INTO device_latest (device_key, checked_in_at, cpu_load, cpu_count, free_memory,
            total_memory, free_hdd, total_hdd, uptime_secs, version, board, identity, serial,
            rx_bps, tx_bps, last_polled_at, last_error, failures)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?2, NULL, 0)
         ON CONFLICT (device_key) DO UPDATE SET
            last_error = CASE WHEN excluded.checked_in_at >= COALESCE(last_polled_at, 0)
                THEN NULL ELSE last_error END,
            failures = CASE WHEN excluded.checked_in_at >= COALESCE(last_polled_at, 0)
                THEN 0 ELSE failures END,
            last_polled_at = MAX(COALESCE(last_polled_at, 0), excluded.checked_in_at),
            cpu_load = excluded.cpu_load, cpu_count = excluded.cpu_count,
            free_memory = excluded.free_memory, total_memory = excluded.total_memory,
            free_hdd = excluded.free_hdd, total_hdd = excluded.total_hdd,
            uptime_secs = excluded.uptime_secs, version = excluded.version,
            board = COALESCE(excluded.board, board), identity = COALESCE(excluded.identity, identity),
            serial = COALESCE(excluded.serial, serial), rx_bps = excluded.rx_bps,
            tx_bps = excluded.tx_bps, checked_in_at = excluded.checked_in_at
         WHERE device_latest.checked_in_at IS NULL
            OR device_latest.checked_in_at <= excluded.checked_in_at",
    )?;
    for (device, k) in &agg.latest {
        latest.execute(params![
            keys[device],
            k.checked_in_at,
            k.cpu_load,
            k.cpu_count,
            k.free_memory,
            k.total_memory,
            k.free_hdd,
            k.total_hdd,
            k.uptime_secs,
            k.version,
            non_empty(&k.board_name),
            non_empty(&k.identity),
            k.serial.as_deref().and_then(non_empty),
            k.rx_bps,
            k.tx_bps
        ])?;
    }
    Ok(())
}

/// State counts from the device total and the latest-state counts.
pub(crate) fn summary(total: i64, online: i64, degraded: i64, seen: i64) -> FleetSummary {
    let total = total.max(0) as u64;
    let (online, degraded, seen) = (online as u64, degraded as u64, seen as u64);
    FleetSummary {
        total,
        online,
        degraded,
        offline: total.saturating_sub(online + degraded),
        never_seen: total.saturating_sub(seen),
    }
}

/// Versions most common first, with `unknown` for devices not yet seen.
pub(crate) fn versions(total: u64, mut known: Vec<(String, u64)>) -> Vec<Count<String>> {
    let unknown = total.saturating_sub(known.iter().map(|v| v.1).sum());
    if unknown > 0 {
        known.push(("unknown".into(), unknown));
    }
    known.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    known
        .into_iter()
        .map(|(key, devices)| Count { key, devices })
        .collect()
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
    Ok(())
}

fn push_row(r: &Row<'_>) -> rusqlite::Result<PushRecord> {
    Ok(PushRecord {
        id: r.get(0)?,
        device_id: r.get(1)?,
        template_id: r.get(2)?,
        started_at: r.get(3)?,
        finished_at: r.get(4)?,
        status: r.get(5)?,
        summary: r.get(6)?,
        updated_at: r.get(7)?,
        batch_id: r.get(8)?,
    })
}
