//! The fleet overview's queries and a router's chart series.

use super::*;

impl MysqlStore {
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
        let rows: Vec<Row> = self
            .conn()
            .await?
            .exec(
                sql,
                (from, from, bucket_ms, bucket_ms, device_id, from, to_ms),
            )
            .await?;
        rows.into_iter()
            .map(|mut r| crate::rows::device_point(&mut r))
            .collect()
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

pub(super) const MEM: &str = "(100E0 * (l.total_memory - l.free_memory) / l.total_memory)";
pub(super) const HDD: &str = "(100E0 * (l.total_hdd - l.free_hdd) / l.total_hdd)";
