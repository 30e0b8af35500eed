//! The fleet overview's queries and a router's chart series.

use super::*;

impl SqliteStore {
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
            let rows = stmt.query_and_then(params![key, from, to_ms, bucket_ms], |mut r| {
                crate::rows::device_point(&mut r)
            })?;
            rows.collect()
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

pub(super) const MEM: &str = "(100.0 * (l.total_memory - l.free_memory) / l.total_memory)";
pub(super) const HDD: &str = "(100.0 * (l.total_hdd - l.free_hdd) / l.total_hdd)";

/// Top `n` devices by `expr` (a constant SQL expression, never input).
pub(super) fn top(
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
