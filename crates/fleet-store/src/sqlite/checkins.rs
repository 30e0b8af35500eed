//! Check-ins: stored once each, with the hourly rollups and latest state they update.

use super::*;
use crate::rows::{self, CHECKIN_COLUMNS};

impl SqliteStore {
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
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {CHECKIN_COLUMNS}
                 FROM checkins WHERE device_key = ?1 AND checked_in_at >= ?2 AND checked_in_at <= ?3
                 ORDER BY checked_in_at"
            ))?;
            let rows = stmt.query_and_then(params![key, from_ms, to_ms], |mut r| {
                rows::checkin(&id, &mut r)
            })?;
            rows.collect()
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
}

pub(super) fn write_aggregates(
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
