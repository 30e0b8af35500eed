//! SingleStore (and MySQL/MariaDB) over the MySQL protocol via `mysql_async`.
//!
//! Writes are batched, parameterised multi-row statements; the pool has a
//! fixed size whatever the fleet size.

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

fn device_from_row(mut r: Row) -> Result<Device, StoreError> {
    let transport: String = take(&mut r, 5)?;
    let tags: Option<String> = take(&mut r, 6)?;
    Ok(Device {
        id: take(&mut r, 0)?,
        site_id: take(&mut r, 1)?,
        host: take(&mut r, 2)?,
        port: take(&mut r, 3)?,
        username: take(&mut r, 4)?,
        transport: Transport::parse(&transport)?,
        tags: split_tags(tags),
        identity: take(&mut r, 7)?,
        board: take(&mut r, 8)?,
        version: take(&mut r, 9)?,
        serial: take(&mut r, 10)?,
        created_at: take(&mut r, 11)?,
        last_checkin_at: take(&mut r, 12)?,
        last_cpu_load: take::<Option<i64>>(&mut r, 13)?.map(|v| v as f64),
        last_polled_at: take(&mut r, 14)?,
        last_error: take(&mut r, 15)?,
    })
}

fn split_tags(joined: Option<String>) -> Vec<String> {
    let mut tags: Vec<String> = joined
        .map(|j| j.split('\u{1f}').map(str::to_owned).collect())
        .unwrap_or_default();
    tags.sort();
    tags
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

    // ---- sites, templates, devices -------------------------------------

    pub async fn save_site(&self, site: &Site, _queue: bool) -> Result<bool, StoreError> {
        let mut c = self.conn().await?;
        // ON DUPLICATE KEY would match the unique name too: refuse first.
        let taken: Option<String> = c
            .exec_first(
                "SELECT id FROM sites WHERE name = ? AND id <> ?",
                (&site.name, &site.id),
            )
            .await?;
        if taken.is_some() {
            return Err(StoreError::DuplicateName {
                what: "site",
                name: site.name.clone(),
            });
        }
        let res = c
            .exec_drop(
                "INSERT INTO sites (id, name, poll_interval_secs, updated_at) VALUES (?, ?, ?, ?)
                 ON DUPLICATE KEY UPDATE
                    name = IF(VALUES(updated_at) > updated_at, VALUES(name), name),
                    poll_interval_secs = IF(VALUES(updated_at) > updated_at,
                        VALUES(poll_interval_secs), poll_interval_secs),
                    updated_at = GREATEST(updated_at, VALUES(updated_at))",
                (
                    &site.id,
                    &site.name,
                    site.poll_interval_secs,
                    site.updated_at,
                ),
            )
            .await;
        match res {
            Err(e) if is_duplicate_key(&e) => Err(StoreError::DuplicateName {
                what: "site",
                name: site.name.clone(),
            }),
            Err(e) => Err(e.into()),
            Ok(()) => Ok(c.affected_rows() > 0),
        }
    }

    pub async fn list_sites(&self) -> Result<Vec<Site>, StoreError> {
        let rows: Vec<(String, String, u32, i64)> = self
            .conn()
            .await?
            .query("SELECT id, name, poll_interval_secs, updated_at FROM sites ORDER BY name")
            .await?;
        Ok(rows
            .into_iter()
            .map(|(id, name, poll_interval_secs, updated_at)| Site {
                id,
                name,
                poll_interval_secs,
                updated_at,
            })
            .collect())
    }

    pub async fn save_template(&self, t: &Template, _queue: bool) -> Result<bool, StoreError> {
        let mut c = self.conn().await?;
        // ON DUPLICATE KEY would match the unique name too: refuse first.
        let taken: Option<String> = c
            .exec_first(
                "SELECT id FROM templates WHERE name = ? AND id <> ?",
                (&t.name, &t.id),
            )
            .await?;
        if taken.is_some() {
            return Err(StoreError::DuplicateName {
                what: "template",
                name: t.name.clone(),
            });
        }
        let res = c
            .exec_drop(
                "INSERT INTO templates (id, name, body, updated_at) VALUES (?, ?, ?, ?)
                 ON DUPLICATE KEY UPDATE
                    name = IF(VALUES(updated_at) > updated_at, VALUES(name), name),
                    body = IF(VALUES(updated_at) > updated_at, VALUES(body), body),
                    updated_at = GREATEST(updated_at, VALUES(updated_at))",
                (&t.id, &t.name, &t.body, t.updated_at),
            )
            .await;
        match res {
            Err(e) if is_duplicate_key(&e) => Err(StoreError::DuplicateName {
                what: "template",
                name: t.name.clone(),
            }),
            Err(e) => Err(e.into()),
            Ok(()) => Ok(c.affected_rows() > 0),
        }
    }

    pub async fn list_templates(&self) -> Result<Vec<Template>, StoreError> {
        let rows: Vec<(String, String, String, i64)> = self
            .conn()
            .await?
            .query("SELECT id, name, body, updated_at FROM templates ORDER BY name")
            .await?;
        Ok(rows
            .into_iter()
            .map(|(id, name, body, updated_at)| Template {
                id,
                name,
                body,
                updated_at,
            })
            .collect())
    }

    pub async fn add_device(&self, new: &NewDevice, _queue: bool) -> Result<Device, StoreError> {
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
        let mut tx = self.tx().await?;
        if let Some(site) = &record.site_id {
            let known: Option<i64> = tx
                .exec_first("SELECT 1 FROM sites WHERE id = ?", (site,))
                .await?;
            if known.is_none() {
                return Err(StoreError::NotFound(format!("site {site}")));
            }
        }
        if find_device_id(&mut tx, &record.host, record.port)
            .await?
            .is_some()
        {
            return Err(StoreError::DuplicateDevice {
                host: record.host.clone(),
                port: record.port,
            });
        }
        match upsert_device(&mut tx, &record).await {
            Err(StoreError::Mysql(e)) if is_duplicate_key(&e) => {
                return Err(StoreError::DuplicateDevice {
                    host: record.host.clone(),
                    port: record.port,
                })
            }
            other => other?,
        };
        tx.commit().await?;
        self.get_device(&record.id)
            .await?
            .ok_or(StoreError::NotFound(record.id))
    }

    pub async fn save_devices(
        &self,
        records: Vec<DeviceRecord>,
        _queue: bool,
    ) -> Result<u64, StoreError> {
        let mut tx = self.tx().await?;
        let mut changed = 0;
        for r in &records {
            if let Some(other) = find_device_id(&mut tx, &r.host, r.port).await? {
                if other != r.id {
                    return Err(StoreError::AddressConflict {
                        host: r.host.clone(),
                        port: r.port,
                        existing: other,
                        incoming: r.id.clone(),
                    });
                }
            }
            if upsert_device(&mut tx, r).await? {
                changed += 1;
            }
        }
        tx.commit().await?;
        Ok(changed)
    }

    /// Pins a router's certificate on first use: only when none is pinned.
    pub async fn pin_fingerprint(
        &self,
        device_id: &str,
        fingerprint: &str,
    ) -> Result<bool, StoreError> {
        let mut c = self.conn().await?;
        c.exec_drop(
            "UPDATE devices SET tls_fingerprint = ?, updated_at = ?
             WHERE id = ? AND tls_fingerprint IS NULL",
            (fingerprint, now_ms(), device_id),
        )
        .await?;
        Ok(c.affected_rows() == 1)
    }

    pub async fn device_records(&self) -> Result<Vec<DeviceRecord>, StoreError> {
        let rows: Vec<Row> = self
            .conn()
            .await?
            .query(
                "SELECT id, site_id, host, port, username, transport, tls_fingerprint, created_at,
                    updated_at,
                    (SELECT GROUP_CONCAT(tag SEPARATOR '\u{1f}') FROM device_tags t WHERE t.device_id = d.id)
                 FROM devices d ORDER BY created_at, id",
            )
            .await?;
        rows.into_iter()
            .map(|mut r| {
                let transport: String = take(&mut r, 5)?;
                Ok(DeviceRecord {
                    id: take(&mut r, 0)?,
                    site_id: take(&mut r, 1)?,
                    host: take(&mut r, 2)?,
                    port: take(&mut r, 3)?,
                    username: take(&mut r, 4)?,
                    transport: Transport::parse(&transport)?,
                    tls_fingerprint: take(&mut r, 6)?,
                    created_at: take(&mut r, 7)?,
                    updated_at: take(&mut r, 8)?,
                    tags: split_tags(take(&mut r, 9)?),
                })
            })
            .collect()
    }

    pub async fn get_device(&self, id: &str) -> Result<Option<Device>, StoreError> {
        let row: Option<Row> = self
            .conn()
            .await?
            .exec_first(format!("{DEVICE_SELECT} WHERE d.id = ?"), (id,))
            .await?;
        row.map(device_from_row).transpose()
    }

    pub async fn find_device(&self, host: &str, port: u16) -> Result<Option<Device>, StoreError> {
        let row: Option<Row> = self
            .conn()
            .await?
            .exec_first(
                format!("{DEVICE_SELECT} WHERE d.host = ? AND d.port = ?"),
                (host, port),
            )
            .await?;
        row.map(device_from_row).transpose()
    }

    /// Every device with its latest state, tags left empty
    /// ([`Self::all_device_tags`] has them), in no particular order.
    pub async fn list_devices_untagged(&self) -> Result<Vec<Device>, StoreError> {
        let rows: Vec<Row> = self.conn().await?.query(DEVICE_LIST_SELECT).await?;
        rows.into_iter().map(device_from_row).collect()
    }

    /// Every device's tags, by device id.
    pub async fn all_device_tags(&self) -> Result<Vec<(String, Vec<String>)>, StoreError> {
        let rows: Vec<(String, String)> = self
            .conn()
            .await?
            .query("SELECT device_id, tag FROM device_tags ORDER BY device_id")
            .await?;
        let mut out: Vec<(String, Vec<String>)> = Vec::new();
        for (id, tag) in rows {
            match out.last_mut() {
                Some((last, tags)) if *last == id => tags.push(tag),
                _ => out.push((id, vec![tag])),
            }
        }
        Ok(out)
    }

    // ---- check-ins ------------------------------------------------------

    /// Stores check-ins new to this database and, in the same transaction,
    /// updates rollups and latest state from exactly those. A batch that
    /// loses a race with another writer is retried once.
    pub async fn record_checkins(
        &self,
        batch: Vec<Checkin>,
        _queue: bool,
    ) -> Result<IngestReport, StoreError> {
        match self.ingest_once(&batch).await {
            Err(e) if is_retryable(&e) => {
                tracing::debug!(error = %e, "check-in batch lost a race; retrying");
                self.ingest_once(&batch).await
            }
            other => other,
        }
    }

    async fn ingest_once(&self, batch: &[Checkin]) -> Result<IngestReport, StoreError> {
        if batch.is_empty() {
            return Ok(IngestReport::default());
        }
        let mut tx = self.tx().await?;
        ensure_devices(&mut tx, batch.iter().map(|k| k.device_id.as_str())).await?;
        let existing = existing_keys(&mut tx, batch).await?;
        let mut seen = HashSet::new();
        let fresh: Vec<&Checkin> = batch
            .iter()
            .filter(|k| {
                let key = (k.device_id.as_str(), k.checked_in_at);
                !existing.contains(&(key.0.to_owned(), key.1)) && seen.insert(key)
            })
            .collect();
        for chunk in fresh.chunks(CHUNK) {
            let mut params = Vec::with_capacity(chunk.len() * 14);
            for k in chunk {
                params.extend([
                    Value::from(&k.device_id),
                    k.checked_in_at.into(),
                    k.cpu_load.into(),
                    k.cpu_count.into(),
                    k.free_memory.into(),
                    k.total_memory.into(),
                    k.free_hdd.into(),
                    k.total_hdd.into(),
                    k.uptime_secs.into(),
                    Value::from(&k.version),
                    k.rx_bytes.into(),
                    k.tx_bytes.into(),
                    k.rx_bps.into(),
                    k.tx_bps.into(),
                ]);
            }
            tx.exec_drop(
                format!(
                    "INSERT INTO checkins (device_id, checked_in_at, cpu_load, cpu_count,
                        free_memory, total_memory, free_hdd, total_hdd, uptime_secs, version,
                        rx_bytes, tx_bytes, rx_bps, tx_bps) VALUES {}",
                    placeholders(chunk.len(), 14)
                ),
                Params::Positional(params),
            )
            .await?;
        }
        let mut agg = Aggregates::default();
        fresh.iter().for_each(|k| agg.add(k));
        write_aggregates(&mut tx, &agg).await?;
        tx.commit().await?;
        Ok(IngestReport {
            inserted: fresh.len() as u64,
            duplicates: (batch.len() - fresh.len()) as u64,
        })
    }

    pub async fn record_poll_failure(
        &self,
        device_id: &str,
        at_ms: i64,
        message: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.tx().await?;
        ensure_devices(&mut tx, [device_id]).await?;
        tx.exec_drop(
            "INSERT INTO device_latest (device_id, last_polled_at, last_error, failures)
             VALUES (?, ?, ?, 1)
             ON DUPLICATE KEY UPDATE last_polled_at = VALUES(last_polled_at),
                last_error = VALUES(last_error), failures = failures + 1",
            (device_id, at_ms, message),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn checkins_of(
        &self,
        device_id: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<Checkin>, StoreError> {
        let rows: Vec<Row> = self
            .conn()
            .await?
            .exec(
                "SELECT checked_in_at, cpu_load, cpu_count, free_memory, total_memory, free_hdd,
                    total_hdd, uptime_secs, version, rx_bytes, tx_bytes, rx_bps, tx_bps
                 FROM checkins WHERE device_id = ? AND checked_in_at >= ? AND checked_in_at <= ?
                 ORDER BY checked_in_at",
                (device_id, from_ms, to_ms),
            )
            .await?;
        rows.into_iter()
            .map(|mut r| {
                Ok(Checkin {
                    device_id: device_id.to_owned(),
                    checked_in_at: take(&mut r, 0)?,
                    cpu_load: take(&mut r, 1)?,
                    cpu_count: take(&mut r, 2)?,
                    free_memory: take(&mut r, 3)?,
                    total_memory: take(&mut r, 4)?,
                    free_hdd: take(&mut r, 5)?,
                    total_hdd: take(&mut r, 6)?,
                    uptime_secs: take(&mut r, 7)?,
                    version: take(&mut r, 8)?,
                    rx_bytes: take(&mut r, 9)?,
                    tx_bytes: take(&mut r, 10)?,
                    rx_bps: take(&mut r, 11)?,
                    tx_bps: take(&mut r, 12)?,
                    ..Checkin::default()
                })
            })
            .collect()
    }

    pub async fn checkin_span(
        &self,
        device_id: &str,
        from_ms: i64,
    ) -> Result<Option<(i64, i64)>, StoreError> {
        let span: Option<(Option<i64>, Option<i64>)> = self
            .conn()
            .await?
            .exec_first(
                "SELECT MIN(checked_in_at), MAX(checked_in_at) FROM checkins
                 WHERE device_id = ? AND checked_in_at >= ?",
                (device_id, from_ms),
            )
            .await?;
        Ok(span.and_then(|(a, b)| a.zip(b)))
    }

    pub async fn count_checkins(&self, device_id: &str) -> Result<u64, StoreError> {
        let n: Option<i64> = self
            .conn()
            .await?
            .exec_first(
                "SELECT COUNT(*) FROM checkins WHERE device_id = ?",
                (device_id,),
            )
            .await?;
        Ok(n.unwrap_or(0) as u64)
    }

    // ---- latest state and rollups (for sync) ----------------------------

    pub async fn latest_states(&self) -> Result<Vec<LatestState>, StoreError> {
        let rows: Vec<Row> = self
            .conn()
            .await?
            .query(
                "SELECT device_id, checked_in_at, cpu_load, cpu_count, free_memory, total_memory,
                    free_hdd, total_hdd, uptime_secs, version, board, identity, serial, rx_bps,
                    tx_bps, last_polled_at, last_error, failures
                 FROM device_latest ORDER BY device_id",
            )
            .await?;
        rows.into_iter()
            .map(|mut r| {
                Ok(LatestState {
                    device_id: take(&mut r, 0)?,
                    checked_in_at: take(&mut r, 1)?,
                    cpu_load: take(&mut r, 2)?,
                    cpu_count: take(&mut r, 3)?,
                    free_memory: take(&mut r, 4)?,
                    total_memory: take(&mut r, 5)?,
                    free_hdd: take(&mut r, 6)?,
                    total_hdd: take(&mut r, 7)?,
                    uptime_secs: take(&mut r, 8)?,
                    version: take(&mut r, 9)?,
                    board: take(&mut r, 10)?,
                    identity: take(&mut r, 11)?,
                    serial: take(&mut r, 12)?,
                    rx_bps: take(&mut r, 13)?,
                    tx_bps: take(&mut r, 14)?,
                    last_polled_at: take(&mut r, 15)?,
                    last_error: take(&mut r, 16)?,
                    failures: take(&mut r, 17)?,
                })
            })
            .collect()
    }

    pub async fn merge_latest(&self, states: Vec<LatestState>) -> Result<u64, StoreError> {
        let mut tx = self.tx().await?;
        ensure_devices(&mut tx, states.iter().map(|s| s.device_id.as_str())).await?;
        let newer = "COALESCE(VALUES(last_polled_at), VALUES(checked_in_at), 0) \
                     > COALESCE(last_polled_at, checked_in_at, 0)";
        let cols = [
            "cpu_load",
            "cpu_count",
            "free_memory",
            "total_memory",
            "free_hdd",
            "total_hdd",
            "uptime_secs",
            "version",
            "board",
            "identity",
            "serial",
            "rx_bps",
            "tx_bps",
            "last_error",
            "failures",
            "checked_in_at",
            // Compared on: assigned last.
            "last_polled_at",
        ];
        let updates = cols
            .iter()
            .map(|c| format!("{c} = IF({newer}, VALUES({c}), {c})"))
            .collect::<Vec<_>>()
            .join(", ");
        let mut changed = 0;
        for chunk in states.chunks(CHUNK) {
            let mut params = Vec::with_capacity(chunk.len() * 18);
            for s in chunk {
                params.extend([
                    Value::from(&s.device_id),
                    s.checked_in_at.into(),
                    s.cpu_load.into(),
                    s.cpu_count.into(),
                    s.free_memory.into(),
                    s.total_memory.into(),
                    s.free_hdd.into(),
                    s.total_hdd.into(),
                    s.uptime_secs.into(),
                    s.version.clone().into(),
                    s.board.clone().into(),
                    s.identity.clone().into(),
                    s.serial.clone().into(),
                    s.rx_bps.into(),
                    s.tx_bps.into(),
                    s.last_polled_at.into(),
                    s.last_error.clone().into(),
                    s.failures.into(),
                ]);
            }
            tx.exec_drop(
                format!(
                    "INSERT INTO device_latest (device_id, checked_in_at, cpu_load, cpu_count,
                        free_memory, total_memory, free_hdd, total_hdd, uptime_secs, version, board,
                        identity, serial, rx_bps, tx_bps, last_polled_at, last_error, failures)
                     VALUES {} ON DUPLICATE KEY UPDATE {updates}",
                    placeholders(chunk.len(), 18)
                ),
                Params::Positional(params),
            )
            .await?;
            changed += tx.affected_rows();
        }
        tx.commit().await?;
        Ok(changed)
    }

    pub async fn hourly_rollups(
        &self,
        device_id: &str,
        before_hour: i64,
    ) -> Result<Vec<HourlyRollup>, StoreError> {
        let rows: Vec<(i64, i64, i64, i64, f64, i64, i64)> = self
            .conn()
            .await?
            .exec(
                "SELECT hour, checkins, cpu_sum, cpu_max, memory_used_pct_sum, rx_bps_sum, tx_bps_sum
                 FROM device_hourly WHERE device_id = ? AND hour < ? ORDER BY hour",
                (device_id, before_hour),
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(
                |(hour, checkins, cpu_sum, cpu_max, mem, rx, tx)| HourlyRollup {
                    device_id: device_id.to_owned(),
                    hour,
                    checkins,
                    cpu_sum,
                    cpu_max,
                    memory_used_pct_sum: mem,
                    rx_bps_sum: rx,
                    tx_bps_sum: tx,
                },
            )
            .collect())
    }

    pub async fn replace_rollups(
        &self,
        rows: Vec<HourlyRollup>,
        fleet: Vec<(i64, i64, i64)>,
    ) -> Result<(), StoreError> {
        let mut tx = self.tx().await?;
        ensure_devices(&mut tx, rows.iter().map(|r| r.device_id.as_str())).await?;
        for chunk in rows.chunks(CHUNK) {
            let mut params = Vec::with_capacity(chunk.len() * 8);
            for r in chunk {
                params.extend([
                    Value::from(&r.device_id),
                    r.hour.into(),
                    r.checkins.into(),
                    r.cpu_sum.into(),
                    r.cpu_max.into(),
                    r.memory_used_pct_sum.into(),
                    r.rx_bps_sum.into(),
                    r.tx_bps_sum.into(),
                ]);
            }
            tx.exec_drop(
                format!(
                    "REPLACE INTO device_hourly (device_id, hour, checkins, cpu_sum, cpu_max,
                        memory_used_pct_sum, rx_bps_sum, tx_bps_sum) VALUES {}",
                    placeholders(chunk.len(), 8)
                ),
                Params::Positional(params),
            )
            .await?;
        }
        for chunk in fleet.chunks(CHUNK) {
            let params = chunk
                .iter()
                .flat_map(|&(h, n, c)| [Value::from(h), n.into(), c.into()])
                .collect();
            tx.exec_drop(
                format!(
                    "REPLACE INTO fleet_hourly (hour, checkins, cpu_sum) VALUES {}",
                    placeholders(chunk.len(), 3)
                ),
                Params::Positional(params),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn fleet_rollups(
        &self,
        before_hour: i64,
    ) -> Result<Vec<(i64, i64, i64)>, StoreError> {
        Ok(self
            .conn()
            .await?
            .exec(
                "SELECT hour, checkins, cpu_sum FROM fleet_hourly WHERE hour < ? ORDER BY hour",
                (before_hour,),
            )
            .await?)
    }

    // ---- audit, pushes, outbox ------------------------------------------

    pub async fn record_audit(
        &self,
        events: Vec<AuditEvent>,
        _queue: bool,
    ) -> Result<u64, StoreError> {
        if events.is_empty() {
            return Ok(0);
        }
        let mut c = self.conn().await?;
        let mut inserted = 0;
        for chunk in events.chunks(CHUNK) {
            let params = chunk
                .iter()
                .flat_map(|e| {
                    [
                        Value::from(&e.id),
                        e.at.into(),
                        e.device_id.clone().into(),
                        Value::from(&e.actor),
                        Value::from(&e.action),
                        Value::from(&e.detail),
                    ]
                })
                .collect();
            c.exec_drop(
                format!(
                    "INSERT IGNORE INTO audit_events (id, at, device_id, actor, action, detail)
                     VALUES {}",
                    placeholders(chunk.len(), 6)
                ),
                Params::Positional(params),
            )
            .await?;
            inserted += c.affected_rows();
        }
        Ok(inserted)
    }

    pub async fn audit_events(
        &self,
        device_id: Option<&str>,
        since_ms: i64,
        limit: u32,
    ) -> Result<Vec<AuditEvent>, StoreError> {
        let rows: Vec<(String, i64, Option<String>, String, String, String)> = self
            .conn()
            .await?
            .exec(
                "SELECT id, at, device_id, actor, action, detail FROM audit_events
                 WHERE (? IS NULL OR device_id = ?) AND at >= ?
                 ORDER BY at DESC, id DESC LIMIT ?",
                (device_id, device_id, since_ms, limit),
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|(id, at, device_id, actor, action, detail)| AuditEvent {
                id,
                at,
                device_id,
                actor,
                action,
                detail,
            })
            .collect())
    }

    pub async fn save_pushes(
        &self,
        pushes: Vec<PushRecord>,
        _queue: bool,
    ) -> Result<u64, StoreError> {
        let mut c = self.conn().await?;
        let mut changed = 0;
        for p in &pushes {
            c.exec_drop(
                "INSERT INTO push_records (id, device_id, template_id, started_at, finished_at,
                    status, summary, updated_at, batch_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                 ON DUPLICATE KEY UPDATE
                    finished_at = IF(VALUES(updated_at) > updated_at, VALUES(finished_at), finished_at),
                    status = IF(VALUES(updated_at) > updated_at, VALUES(status), status),
                    summary = IF(VALUES(updated_at) > updated_at, VALUES(summary), summary),
                    updated_at = GREATEST(updated_at, VALUES(updated_at))",
                (
                    &p.id,
                    &p.device_id,
                    &p.template_id,
                    p.started_at,
                    p.finished_at,
                    &p.status,
                    &p.summary,
                    p.updated_at,
                    &p.batch_id,
                ),
            )
            .await?;
            if c.affected_rows() > 0 {
                changed += 1;
            }
        }
        Ok(changed)
    }

    pub async fn push_records(
        &self,
        device_id: Option<&str>,
        limit: u32,
    ) -> Result<Vec<PushRecord>, StoreError> {
        let rows: Vec<Row> = self
            .conn()
            .await?
            .exec(
                "SELECT id, device_id, template_id, started_at, finished_at, status, summary, updated_at, batch_id
                 FROM push_records WHERE (? IS NULL OR device_id = ?)
                 ORDER BY started_at DESC, id DESC LIMIT ?",
                (device_id, device_id, limit),
            )
            .await?;
        rows.into_iter().map(push_row).collect()
    }

    pub async fn batch_pushes(&self, batch_id: &str) -> Result<Vec<PushRecord>, StoreError> {
        let rows: Vec<Row> = self
            .conn()
            .await?
            .exec(
                "SELECT id, device_id, template_id, started_at, finished_at, status, summary, updated_at, batch_id
                 FROM push_records WHERE batch_id = ? ORDER BY started_at, id",
                (batch_id,),
            )
            .await?;
        rows.into_iter().map(push_row).collect()
    }

    pub async fn save_batch(&self, b: PushBatch) -> Result<bool, StoreError> {
        let mut c = self.conn().await?;
        c.exec_drop(
            "INSERT INTO push_batches (id, started_at, finished_at, status, actor, options,
                targets, summary, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
             ON DUPLICATE KEY UPDATE
                finished_at = IF(VALUES(updated_at) >= updated_at, VALUES(finished_at), finished_at),
                status = IF(VALUES(updated_at) >= updated_at, VALUES(status), status),
                summary = IF(VALUES(updated_at) >= updated_at, VALUES(summary), summary),
                updated_at = GREATEST(updated_at, VALUES(updated_at))",
            (
                &b.id,
                b.started_at,
                b.finished_at,
                &b.status,
                &b.actor,
                &b.options,
                serde_json::to_string(&b.targets).map_err(|e| StoreError::Payload(e.to_string()))?,
                &b.summary,
                b.updated_at,
            ),
        )
        .await?;
        Ok(c.affected_rows() > 0)
    }

    pub async fn push_batches(
        &self,
        status: Option<&str>,
        limit: u32,
    ) -> Result<Vec<PushBatch>, StoreError> {
        let rows: Vec<Row> = self
            .conn()
            .await?
            .exec(
                "SELECT id, started_at, finished_at, status, actor, options, targets, summary, updated_at
                 FROM push_batches WHERE (? IS NULL OR status = ?)
                 ORDER BY started_at DESC, id DESC LIMIT ?",
                (status, status, limit),
            )
            .await?;
        rows.into_iter()
            .map(|mut r| {
                let targets: String = take(&mut r, 6)?;
                Ok(PushBatch {
                    id: take(&mut r, 0)?,
                    started_at: take(&mut r, 1)?,
                    finished_at: take(&mut r, 2)?,
                    status: take(&mut r, 3)?,
                    actor: take(&mut r, 4)?,
                    options: take(&mut r, 5)?,
                    targets: serde_json::from_str(&targets)
                        .map_err(|e| StoreError::Payload(e.to_string()))?,
                    summary: take(&mut r, 7)?,
                    updated_at: take(&mut r, 8)?,
                })
            })
            .collect()
    }

    /// The shared database is the destination of syncs, not a source of
    /// queued records: its outbox stays empty, and these read it as such.
    pub async fn outbox_peek(&self, limit: u32) -> Result<Vec<OutboxEntry>, StoreError> {
        let rows: Vec<(i64, String, i64, String)> = self
            .conn()
            .await?
            .exec(
                "SELECT seq, kind, records, payload FROM outbox ORDER BY seq LIMIT ?",
                (limit,),
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|(seq, kind, records, payload)| OutboxEntry {
                seq,
                kind,
                records,
                payload,
            })
            .collect())
    }

    pub async fn outbox_remove(&self, seq: i64) -> Result<(), StoreError> {
        self.conn()
            .await?
            .exec_drop("DELETE FROM outbox WHERE seq = ?", (seq,))
            .await?;
        Ok(())
    }

    pub async fn outbox_size(&self) -> Result<(u64, u64), StoreError> {
        let row: Option<(i64, i64)> = self
            .conn()
            .await?
            .query_first("SELECT COUNT(*), CAST(COALESCE(SUM(records), 0) AS SIGNED) FROM outbox")
            .await?;
        let (a, b) = row.unwrap_or_default();
        Ok((a as u64, b as u64))
    }

    // ---- dashboards -----------------------------------------------------

    pub async fn fleet_summary(
        &self,
        now_ms: i64,
        t: HealthThresholds,
    ) -> Result<FleetSummary, StoreError> {
        let online_since = now_ms - t.degraded_after_ms;
        let offline_before = now_ms - t.offline_after_ms;
        let mut c = self.conn().await?;
        let total: Option<i64> = c.query_first("SELECT COUNT(*) FROM devices").await?;
        // One scan of the latest state; offline is what is left.
        let row: Option<(i64, i64, i64)> = c
            .exec_first(
                "SELECT CAST(COALESCE(SUM(checked_in_at >= ?), 0) AS SIGNED),
                    CAST(COALESCE(SUM(checked_in_at < ? AND checked_in_at >= ?), 0) AS SIGNED),
                    COUNT(checked_in_at)
                 FROM device_latest",
                (online_since, online_since, offline_before),
            )
            .await?;
        let (online, degraded, seen) = row.unwrap_or_default();
        Ok(summary(total.unwrap_or(0), online, degraded, seen))
    }

    pub async fn version_distribution(&self) -> Result<Vec<Count<String>>, StoreError> {
        let mut c = self.conn().await?;
        let total: Option<i64> = c.query_first("SELECT COUNT(*) FROM devices").await?;
        let rows: Vec<(String, i64)> = c
            .query(
                "SELECT version, COUNT(*) FROM device_latest WHERE version IS NOT NULL
                 GROUP BY version",
            )
            .await?;
        Ok(versions(
            total.unwrap_or(0) as u64,
            rows.into_iter().map(|(v, n)| (v, n as u64)).collect(),
        ))
    }

    pub async fn cpu_distribution(&self, since_ms: i64) -> Result<Vec<(u8, u64)>, StoreError> {
        let rows: Vec<(i64, i64)> = self
            .conn()
            .await?
            .exec(
                "SELECT LEAST(GREATEST(cpu_load, 0) DIV 10, 9) AS band, COUNT(*) FROM device_latest
                 WHERE checked_in_at >= ? GROUP BY band",
                (since_ms,),
            )
            .await?;
        Ok(rows.into_iter().map(|(b, n)| (b as u8, n as u64)).collect())
    }

    pub async fn top_cpu(&self, since_ms: i64, n: u32) -> Result<Vec<DeviceMetric>, StoreError> {
        self.top("l.cpu_load + 0E0", "l.cpu_load IS NOT NULL", since_ms, n)
            .await
    }

    /// Top `n` devices by `expr` (a constant SQL expression, never input).
    async fn top(
        &self,
        expr: &str,
        filter: &str,
        since_ms: i64,
        n: u32,
    ) -> Result<Vec<DeviceMetric>, StoreError> {
        let rows: Vec<(String, String, f64, Option<i64>)> = self
            .conn()
            .await?
            .exec(
                // Rank on the latest state alone; join names for the top rows only.
                format!(
                    "SELECT d.id, COALESCE(t.identity, CONCAT(d.host, ':', d.port)), t.v,
                        t.checked_in_at
                     FROM (SELECT l.device_id, l.identity, {expr} AS v, l.checked_in_at
                           FROM device_latest l WHERE l.checked_in_at >= ? AND {filter}
                           ORDER BY v DESC, l.device_id LIMIT ?) t
                     JOIN devices d ON d.id = t.device_id
                     ORDER BY t.v DESC, d.id"
                ),
                (since_ms, n),
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|(device_id, name, value, checked_in_at)| DeviceMetric {
                device_id,
                name,
                value,
                checked_in_at,
            })
            .collect())
    }

    pub async fn pressure(
        &self,
        since_ms: i64,
        threshold_pct: f64,
        n: u32,
    ) -> Result<Pressure, StoreError> {
        let counts: Option<(i64, i64)> = self
            .conn()
            .await?
            .exec_first(
                format!(
                    "SELECT CAST(COALESCE(SUM({MEM} >= ?), 0) AS SIGNED),
                        CAST(COALESCE(SUM({HDD} >= ?), 0) AS SIGNED)
                     FROM device_latest l WHERE l.checked_in_at >= ?"
                ),
                (threshold_pct, threshold_pct, since_ms),
            )
            .await?;
        let (memory_high, storage_high) = counts.unwrap_or_default();
        Ok(Pressure {
            memory_high: memory_high as u64,
            storage_high: storage_high as u64,
            threshold_pct,
            top_memory: self.top(MEM, "l.total_memory > 0", since_ms, n).await?,
            top_storage: self.top(HDD, "l.total_hdd > 0", since_ms, n).await?,
        })
    }

    pub async fn checkins_per_hour(
        &self,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<FleetHour>, StoreError> {
        let rows: Vec<(i64, i64, i64)> = self
            .conn()
            .await?
            .exec(
                "SELECT hour, checkins, cpu_sum FROM fleet_hourly
                 WHERE hour >= ? AND hour <= ? ORDER BY hour",
                (hour_of(from_ms), to_ms),
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|(hour, n, cpu)| FleetHour {
                hour,
                checkins: n as u64,
                avg_cpu: if n > 0 { cpu as f64 / n as f64 } else { 0.0 },
            })
            .collect())
    }

    pub async fn device_series(
        &self,
        device_id: &str,
        from_ms: i64,
        to_ms: i64,
        bucket_ms: i64,
        resolution: Resolution,
    ) -> Result<Vec<DevicePoint>, StoreError> {
        let (sql, from) = match resolution {
            Resolution::Raw => (
                "SELECT ? + ((checked_in_at - ?) DIV ?) * ? AS bucket, AVG(cpu_load) + 0E0,
                    MAX(cpu_load) + 0E0,
                    AVG(CASE WHEN total_memory > 0
                        THEN 100E0 * (total_memory - free_memory) / total_memory END),
                    AVG(rx_bps) + 0E0, AVG(tx_bps) + 0E0, COUNT(*)
                 FROM checkins
                 WHERE device_id = ? AND checked_in_at >= ? AND checked_in_at <= ?
                 GROUP BY bucket ORDER BY bucket",
                from_ms,
            ),
            Resolution::Hourly => (
                "SELECT ? + ((hour - ?) DIV ?) * ? AS bucket, SUM(cpu_sum) / SUM(checkins) + 0E0,
                    MAX(cpu_max) + 0E0, SUM(memory_used_pct_sum) / SUM(checkins) + 0E0,
                    SUM(rx_bps_sum) / SUM(checkins) + 0E0, SUM(tx_bps_sum) / SUM(checkins) + 0E0,
                    CAST(SUM(checkins) AS SIGNED)
                 FROM device_hourly
                 WHERE device_id = ? AND hour >= ? AND hour <= ?
                 GROUP BY bucket ORDER BY bucket",
                hour_of(from_ms),
            ),
        };
        let rows: Vec<SeriesRow> = self
            .conn()
            .await?
            .exec(
                sql,
                (from, from, bucket_ms, bucket_ms, device_id, from, to_ms),
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|(at, cpu, max, mem, rx, tx, n)| DevicePoint {
                at,
                cpu_load: cpu,
                cpu_max: max,
                memory_used_pct: mem.unwrap_or(0.0),
                rx_bps: rx,
                tx_bps: tx,
                checkins: n as u64,
            })
            .collect())
    }

    pub async fn stats(&self) -> Result<Vec<(&'static str, u64)>, StoreError> {
        let mut c = self.conn().await?;
        let mut out = Vec::new();
        for t in schema::TABLES {
            // Table names come from a constant list, never from input.
            let n: Option<i64> = c.query_first(format!("SELECT COUNT(*) FROM {t}")).await?;
            out.push((*t, n.unwrap_or(0) as u64));
        }
        Ok(out)
    }
}

/// Bucket, CPU average and max, memory %, rx and tx rates, check-ins.
type SeriesRow = (i64, f64, f64, Option<f64>, f64, f64, i64);

const MEM: &str = "(100E0 * (l.total_memory - l.free_memory) / l.total_memory)";
const HDD: &str = "(100E0 * (l.total_hdd - l.free_hdd) / l.total_hdd)";

async fn find_device_id(
    tx: &mut Transaction<'_>,
    host: &str,
    port: u16,
) -> Result<Option<String>, StoreError> {
    Ok(tx
        .exec_first(
            "SELECT id FROM devices WHERE host = ? AND port = ?",
            (host, port),
        )
        .await?)
}

/// Every device the batch names exists here; otherwise the batch is
/// refused whole, naming the device (its records stay where they were).
async fn ensure_devices<'a>(
    tx: &mut Transaction<'_>,
    ids: impl IntoIterator<Item = &'a str>,
) -> Result<(), StoreError> {
    let wanted: Vec<&str> = ids
        .into_iter()
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    for chunk in wanted.chunks(CHUNK) {
        let found: Vec<String> = tx
            .exec(
                format!(
                    "SELECT id FROM devices WHERE id IN ({})",
                    vec!["?"; chunk.len()].join(", ")
                ),
                Params::Positional(chunk.iter().map(|s| Value::from(*s)).collect()),
            )
            .await?;
        if found.len() != chunk.len() {
            let found: HashSet<&str> = found.iter().map(String::as_str).collect();
            let missing = chunk
                .iter()
                .find(|id| !found.contains(**id))
                .unwrap_or(&"?");
            return Err(StoreError::NotFound((*missing).to_owned()));
        }
    }
    Ok(())
}

/// Keys of the batch's check-ins this database already holds.
async fn existing_keys(
    tx: &mut Transaction<'_>,
    batch: &[Checkin],
) -> Result<HashSet<(String, i64)>, StoreError> {
    let devices: Vec<&str> = batch
        .iter()
        .map(|k| k.device_id.as_str())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let lo = batch.iter().map(|k| k.checked_in_at).min().unwrap_or(0);
    let hi = batch.iter().map(|k| k.checked_in_at).max().unwrap_or(0);
    let mut out = HashSet::new();
    for chunk in devices.chunks(CHUNK) {
        let mut params: Vec<Value> = chunk.iter().map(|s| Value::from(*s)).collect();
        params.push(lo.into());
        params.push(hi.into());
        let rows: Vec<(String, i64)> = tx
            .exec(
                format!(
                    "SELECT device_id, checked_in_at FROM checkins
                     WHERE device_id IN ({}) AND checked_in_at >= ? AND checked_in_at <= ?",
                    vec!["?"; chunk.len()].join(", ")
                ),
                Params::Positional(params),
            )
            .await?;
        out.extend(rows);
    }
    Ok(out)
}

async fn upsert_device(tx: &mut Transaction<'_>, r: &DeviceRecord) -> Result<bool, StoreError> {
    let newer: Option<i64> = tx
        .exec_first("SELECT updated_at FROM devices WHERE id = ?", (&r.id,))
        .await?;
    if newer.is_some_and(|at| at >= r.updated_at) {
        return Ok(false);
    }
    tx.exec_drop(
        "INSERT INTO devices (id, site_id, host, port, username, transport, tls_fingerprint,
            created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON DUPLICATE KEY UPDATE site_id = VALUES(site_id), host = VALUES(host),
            port = VALUES(port), username = VALUES(username), transport = VALUES(transport),
            tls_fingerprint = VALUES(tls_fingerprint), updated_at = VALUES(updated_at)",
        Params::Positional(vec![
            Value::from(&r.id),
            r.site_id.clone().into(),
            Value::from(&r.host),
            r.port.into(),
            Value::from(&r.username),
            r.transport.as_str().into(),
            r.tls_fingerprint.clone().into(),
            r.created_at.into(),
            r.updated_at.into(),
        ]),
    )
    .await?;
    tx.exec_drop("DELETE FROM device_tags WHERE device_id = ?", (&r.id,))
        .await?;
    let tags = normalise_tags(&r.tags);
    if !tags.is_empty() {
        tx.exec_drop(
            format!(
                "INSERT INTO device_tags (device_id, tag) VALUES {}",
                placeholders(tags.len(), 2)
            ),
            Params::Positional(
                tags.iter()
                    .flat_map(|t| [Value::from(&r.id), Value::from(t)])
                    .collect(),
            ),
        )
        .await?;
    }
    Ok(true)
}

async fn write_aggregates(
    tx: &mut Transaction<'_>,
    agg: &Aggregates<'_>,
) -> Result<(), StoreError> {
    let hourly: Vec<_> = agg.hourly.iter().collect();
    for chunk in hourly.chunks(CHUNK) {
        let params = chunk
            .iter()
            .flat_map(|((device, hour), h)| {
                [
                    Value::from(*device),
                    (*hour).into(),
                    h.checkins.into(),
                    h.cpu_sum.into(),
                    h.cpu_max.into(),
                    h.memory_used_pct_sum.into(),
                    h.rx_bps_sum.into(),
                    h.tx_bps_sum.into(),
                ]
            })
            .collect();
        tx.exec_drop(
            format!(
                "INSERT INTO device_hourly (device_id, hour, checkins, cpu_sum, cpu_max,
                    memory_used_pct_sum, rx_bps_sum, tx_bps_sum) VALUES {}
                 ON DUPLICATE KEY UPDATE checkins = checkins + VALUES(checkins),
                    cpu_sum = cpu_sum + VALUES(cpu_sum), cpu_max = GREATEST(cpu_max, VALUES(cpu_max)),
                    memory_used_pct_sum = memory_used_pct_sum + VALUES(memory_used_pct_sum),
                    rx_bps_sum = rx_bps_sum + VALUES(rx_bps_sum),
                    tx_bps_sum = tx_bps_sum + VALUES(tx_bps_sum)",
                placeholders(chunk.len(), 8)
            ),
            Params::Positional(params),
        )
        .await?;
    }
    let fleet: Vec<_> = agg.fleet.iter().collect();
    for chunk in fleet.chunks(CHUNK) {
        let params = chunk
            .iter()
            .flat_map(|(hour, (n, cpu))| [Value::from(**hour), (*n).into(), (*cpu).into()])
            .collect();
        tx.exec_drop(
            format!(
                "INSERT INTO fleet_hourly (hour, checkins, cpu_sum) VALUES {}
                 ON DUPLICATE KEY UPDATE checkins = checkins + VALUES(checkins),
                    cpu_sum = cpu_sum + VALUES(cpu_sum)",
                placeholders(chunk.len(), 3)
            ),
            Params::Positional(params),
        )
        .await?;
    }
    // Assignments run left to right: the columns compared on come last.
    let newer = "(checked_in_at IS NULL OR checked_in_at <= VALUES(checked_in_at))";
    let cleared = "VALUES(checked_in_at) >= COALESCE(last_polled_at, 0)";
    let take_new = [
        "cpu_load",
        "cpu_count",
        "free_memory",
        "total_memory",
        "free_hdd",
        "total_hdd",
        "uptime_secs",
        "version",
        "rx_bps",
        "tx_bps",
    ]
    .iter()
    .map(|c| format!("{c} = IF({newer}, VALUES({c}), {c})"))
    .chain(
        ["board", "identity", "serial"]
            .iter()
            .map(|c| format!("{c} = IF({newer}, COALESCE(VALUES({c}), {c}), {c})")),
    )
    .collect::<Vec<_>>()
    .join(", ");
    let latest: Vec<_> = agg.latest.values().collect();
    for chunk in latest.chunks(CHUNK) {
        let mut params = Vec::with_capacity(chunk.len() * 15);
        for k in chunk {
            params.extend([
                Value::from(&k.device_id),
                k.checked_in_at.into(),
                k.cpu_load.into(),
                k.cpu_count.into(),
                k.free_memory.into(),
                k.total_memory.into(),
                k.free_hdd.into(),
                k.total_hdd.into(),
                k.uptime_secs.into(),
                Value::from(&k.version),
                non_empty(&k.board_name).into(),
                non_empty(&k.identity).into(),
                k.serial.as_deref().and_then(non_empty).into(),
                k.rx_bps.into(),
                k.tx_bps.into(),
            ]);
        }
        tx.exec_drop(
            format!(
                "INSERT INTO device_latest (device_id, checked_in_at, cpu_load, cpu_count,
                    free_memory, total_memory, free_hdd, total_hdd, uptime_secs, version, board,
                    identity, serial, rx_bps, tx_bps) VALUES {}
                 ON DUPLICATE KEY UPDATE
                    last_error = IF({cleared}, NULL, last_error),
                    failures = IF({cleared}, 0, failures),
                    last_polled_at = GREATEST(COALESCE(last_polled_at, 0), VALUES(checked_in_at)),
                    {take_new},
                    checked_in_at = IF({newer}, VALUES(checked_in_at), checked_in_at)",
                placeholders(chunk.len(), 15)
            ),
            Params::Positional(params),
        )
        .await?;
    }
    Ok(())
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

fn push_row(mut r: Row) -> Result<PushRecord, StoreError> {
    Ok(PushRecord {
        id: take(&mut r, 0)?,
        device_id: take(&mut r, 1)?,
        template_id: take(&mut r, 2)?,
        started_at: take(&mut r, 3)?,
        finished_at: take(&mut r, 4)?,
        status: take(&mut r, 5)?,
        summary: take(&mut r, 6)?,
        updated_at: take(&mut r, 7)?,
        batch_id: take(&mut r, 8)?,
    })
}
