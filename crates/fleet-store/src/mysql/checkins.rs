//! Check-ins: stored once each, with the hourly rollups and latest state they update.

use super::*;
use crate::rows::{self, CHECKIN_COLUMNS};

impl MysqlStore {
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
                format!(
                    "SELECT {CHECKIN_COLUMNS}
                     FROM checkins WHERE device_id = ? AND checked_in_at >= ? AND checked_in_at <= ?
                     ORDER BY checked_in_at"
                ),
                (device_id, from_ms, to_ms),
            )
            .await?;
        rows.into_iter()
            .map(|mut r| rows::checkin(device_id, &mut r))
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
}

pub(super) async fn write_aggregates(
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
