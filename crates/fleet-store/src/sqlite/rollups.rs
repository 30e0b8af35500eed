//! Latest state and hourly rollups as a sync copies them.

use super::*;

impl SqliteStore {
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
}
