//! Latest state and hourly rollups as a sync copies them.

use super::*;

impl MysqlStore {
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
}
