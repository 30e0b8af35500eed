//! Configuration history: texts stored once by hash, versions per router.

use super::*;
use crate::rows::{self, CONFIG_COLUMNS};

impl MysqlStore {
    /// Stores a version, and its text if no version had it yet, in one
    /// transaction. Backups of several routers save at once; one that
    /// loses a race (a deadlock) is tried again, up to three times.
    pub async fn save_config_version(
        &self,
        record: ConfigVersionRecord,
        body: Vec<u8>,
        _queue: bool,
    ) -> Result<bool, StoreError> {
        let mut attempt = 1;
        loop {
            match self.save_config_version_once(&record, &body).await {
                Err(e) if attempt < 3 && is_retryable(&e) => {
                    tracing::debug!(error = %e, attempt, "configuration version lost a race; retrying");
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    async fn save_config_version_once(
        &self,
        record: &ConfigVersionRecord,
        body: &[u8],
    ) -> Result<bool, StoreError> {
        let v = &record.version;
        let mut c = self.conn().await?;
        // Read committed: replacing one router's lines must not take gap
        // locks that another router's replacement waits on.
        let mut opts = TxOpts::default();
        opts.with_isolation_level(mysql_async::IsolationLevel::ReadCommitted);
        let mut tx = c.start_transaction(opts).await?;
        tx.exec_drop(
            "INSERT IGNORE INTO config_texts (hash, size, body) VALUES (?, ?, ?)",
            (&v.hash, record.text.len() as i64, body.to_vec()),
        )
        .await?;
        tx.exec_drop(
            format!(
                "INSERT IGNORE INTO config_versions ({CONFIG_COLUMNS})
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            ),
            Params::Positional(vec![
                Value::from(&v.id),
                Value::from(&v.device_id),
                v.taken_at.into(),
                Value::from(&v.hash),
                v.routeros_version.clone().into(),
                v.board.clone().into(),
                v.serial.clone().into(),
                v.push_id.clone().into(),
                i64::from(v.drift).into(),
                i64::from(v.line_count).into(),
                v.checked_at.into(),
            ]),
        )
        .await?;
        let fresh = tx.affected_rows() == 1;
        if fresh {
            let newest: Option<i64> = tx
                .exec_first(
                    "SELECT MAX(taken_at) FROM config_versions WHERE device_id = ?",
                    (&v.device_id,),
                )
                .await?;
            if newest == Some(v.taken_at) {
                tx.exec_drop(
                    "DELETE FROM config_lines WHERE device_id = ?",
                    (&v.device_id,),
                )
                .await?;
                let lines: Vec<&str> = record.text.lines().collect();
                for (c, chunk) in lines.chunks(CHUNK).enumerate() {
                    let params = chunk
                        .iter()
                        .enumerate()
                        .flat_map(|(i, line)| {
                            [
                                Value::from(&v.device_id),
                                ((c * CHUNK + i + 1) as i64).into(),
                                Value::from(*line),
                            ]
                        })
                        .collect();
                    tx.exec_drop(
                        format!(
                            "INSERT INTO config_lines (device_id, line_no, line) VALUES {}",
                            placeholders(chunk.len(), 3)
                        ),
                        Params::Positional(params),
                    )
                    .await?;
                }
            }
        }
        tx.commit().await?;
        Ok(fresh)
    }

    /// Newest first; `device_id` narrows to one router.
    pub async fn config_versions(
        &self,
        device_id: Option<&str>,
        limit: u32,
    ) -> Result<Vec<ConfigVersion>, StoreError> {
        let rows: Vec<Row> = self
            .conn()
            .await?
            .exec(
                format!(
                    "SELECT {CONFIG_COLUMNS} FROM config_versions
                     WHERE (? IS NULL OR device_id = ?)
                     ORDER BY taken_at DESC, id DESC LIMIT ?"
                ),
                (device_id, device_id, limit),
            )
            .await?;
        rows.into_iter()
            .map(|mut r| rows::config_version(&mut r))
            .collect()
    }

    /// A backup found the router still holding version `id` at `at`.
    pub async fn touch_config_version(&self, id: String, at: i64) -> Result<(), StoreError> {
        self.conn()
            .await?
            .exec_drop(
                "UPDATE config_versions SET checked_at = GREATEST(checked_at, ?) WHERE id = ?",
                (at, id),
            )
            .await?;
        Ok(())
    }

    /// Each router's newest version.
    pub async fn latest_config_versions(&self) -> Result<Vec<ConfigVersion>, StoreError> {
        let rows: Vec<Row> = self
            .conn()
            .await?
            .query(format!(
                "SELECT {CONFIG_COLUMNS} FROM config_versions v
                 JOIN (SELECT device_id AS d, MAX(taken_at) AS t FROM config_versions
                       GROUP BY device_id) m ON v.device_id = m.d AND v.taken_at = m.t
                 ORDER BY v.device_id, v.id DESC"
            ))
            .await?;
        let mut out: Vec<ConfigVersion> = Vec::new();
        for mut r in rows {
            let v = rows::config_version(&mut r)?;
            // Two versions taken in the same millisecond: the later id.
            if out.last().is_none_or(|l| l.device_id != v.device_id) {
                out.push(v);
            }
        }
        Ok(out)
    }

    /// The compressed text with this hash.
    pub async fn config_body(&self, hash: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .conn()
            .await?
            .exec_first("SELECT body FROM config_texts WHERE hash = ?", (hash,))
            .await?)
    }

    pub async fn save_config_secret(
        &self,
        version_id: String,
        body: Vec<u8>,
        _queue: bool,
    ) -> Result<(), StoreError> {
        self.conn()
            .await?
            .exec_drop(
                "INSERT INTO config_secrets (version_id, body) VALUES (?, ?)
                 ON DUPLICATE KEY UPDATE body = VALUES(body)",
                (version_id, body),
            )
            .await?;
        Ok(())
    }

    pub async fn config_secret(&self, version_id: String) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .conn()
            .await?
            .exec_first(
                "SELECT body FROM config_secrets WHERE version_id = ?",
                (version_id,),
            )
            .await?)
    }

    /// Distinct texts kept and their compressed bytes.
    pub async fn config_storage(&self) -> Result<(u64, u64), StoreError> {
        let row: Option<(i64, Option<i64>)> = self
            .conn()
            .await?
            .query_first(
                "SELECT COUNT(*), CAST(COALESCE(SUM(LENGTH(body)), 0) AS SIGNED) FROM config_texts",
            )
            .await?;
        let (n, bytes) = row.unwrap_or((0, None));
        Ok((n as u64, bytes.unwrap_or(0) as u64))
    }

    /// Lines of each router's newest configuration holding `needle`
    /// (case-insensitive: the column's collation).
    pub async fn search_configs(
        &self,
        needle: String,
        limit: u32,
    ) -> Result<Vec<ConfigHit>, StoreError> {
        let pattern = format!(
            "%{}%",
            needle
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        );
        let mut c = self.conn().await?;
        let rows: Vec<(String, i64, String)> = c
            .exec(
                "SELECT device_id, line_no, line FROM config_lines
                 WHERE line LIKE ? ORDER BY device_id, line_no LIMIT ?",
                (pattern, limit),
            )
            .await?;
        let mut hits = Vec::with_capacity(rows.len());
        for (device_id, line_no, line) in rows {
            let near: Vec<(i64, String)> = c
                .exec(
                    "SELECT line_no, line FROM config_lines
                     WHERE device_id = ? AND line_no IN (?, ?)",
                    (&device_id, line_no - 1, line_no + 1),
                )
                .await?;
            let at = |n: i64| near.iter().find(|(k, _)| *k == n).map(|(_, l)| l.clone());
            hits.push(ConfigHit {
                before: at(line_no - 1),
                after: at(line_no + 1),
                device_id,
                line_no: line_no as u32,
                line,
            });
        }
        Ok(hits)
    }
}
