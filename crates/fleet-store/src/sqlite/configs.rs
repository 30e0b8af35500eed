//! Configuration history: texts stored once by hash, versions per router.

use super::*;
use crate::rows::{self, CONFIG_COLUMNS};

impl SqliteStore {
    /// Stores a version, and its text if no version had it yet. `body` is
    /// the compressed text.
    pub async fn save_config_version(
        &self,
        record: ConfigVersionRecord,
        body: Vec<u8>,
        queue: bool,
    ) -> Result<bool, StoreError> {
        self.write(move |tx| {
            let v = &record.version;
            tx.prepare_cached(
                "INSERT OR IGNORE INTO config_texts (hash, size, body) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![v.hash, record.text.len() as i64, body])?;
            let fresh =
                tx.prepare_cached(&format!(
                    "INSERT OR IGNORE INTO config_versions ({CONFIG_COLUMNS})
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
                ))?
                .execute(params![
                    v.id,
                    v.device_id,
                    v.taken_at,
                    v.hash,
                    v.routeros_version,
                    v.board,
                    v.serial,
                    v.push_id,
                    i64::from(v.drift),
                    i64::from(v.line_count),
                    v.checked_at
                ])? == 1;
            if fresh {
                let newest: i64 = tx
                    .prepare_cached(
                        "SELECT MAX(taken_at) FROM config_versions WHERE device_id = ?1",
                    )?
                    .query_row(params![v.device_id], |r| r.get(0))?;
                if newest == v.taken_at {
                    tx.prepare_cached("DELETE FROM config_lines WHERE device_id = ?1")?
                        .execute(params![v.device_id])?;
                    let mut add = tx.prepare_cached(
                        "INSERT INTO config_lines (device_id, line_no, line) VALUES (?1, ?2, ?3)",
                    )?;
                    for (i, line) in record.text.lines().enumerate() {
                        add.execute(params![v.device_id, i as i64 + 1, line])?;
                    }
                }
            }
            // The outbox carries the version only; its text is read from
            // `config_texts` when the entry is delivered, so a queued text
            // is not kept twice, uncompressed.
            if queue && fresh {
                enqueue(tx, "config", 1, v)?;
            }
            Ok(fresh)
        })
        .await
    }

    /// Newest first; `device_id` narrows to one router.
    pub async fn config_versions(
        &self,
        device_id: Option<&str>,
        limit: u32,
    ) -> Result<Vec<ConfigVersion>, StoreError> {
        let id = device_id.map(str::to_owned);
        self.read(move |c| {
            // One router's history by its index; the fleet's by time.
            let (filter, order) = match id {
                Some(_) => (
                    "WHERE device_id = ?1",
                    "ORDER BY device_id DESC, taken_at DESC, id DESC",
                ),
                None => ("WHERE ?1 IS NULL", "ORDER BY taken_at DESC, id DESC"),
            };
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {CONFIG_COLUMNS} FROM config_versions {filter} {order} LIMIT ?2"
            ))?;
            let rows =
                stmt.query_and_then(params![id, limit], |mut r| rows::config_version(&mut r))?;
            rows.collect()
        })
        .await
    }

    /// A backup found the router still holding version `id` at `at`.
    pub async fn touch_config_version(&self, id: String, at: i64) -> Result<(), StoreError> {
        self.write(move |tx| {
            tx.prepare_cached(
                "UPDATE config_versions SET checked_at = MAX(checked_at, ?2) WHERE id = ?1",
            )?
            .execute(params![id, at])?;
            Ok(())
        })
        .await
    }

    /// Each router's newest version.
    pub async fn latest_config_versions(&self) -> Result<Vec<ConfigVersion>, StoreError> {
        self.read(move |c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {CONFIG_COLUMNS} FROM config_versions v
                 WHERE v.id = (SELECT w.id FROM config_versions w WHERE w.device_id = v.device_id
                               ORDER BY w.taken_at DESC, w.id DESC LIMIT 1)
                 ORDER BY device_id"
            ))?;
            let rows = stmt.query_and_then([], |mut r| rows::config_version(&mut r))?;
            rows.collect()
        })
        .await
    }

    /// The compressed text with this hash.
    pub async fn config_body(&self, hash: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let hash = hash.to_owned();
        self.read(move |c| {
            Ok(
                c.prepare_cached("SELECT body FROM config_texts WHERE hash = ?1")?
                    .query_row(params![hash], |r| r.get(0))
                    .optional()?,
            )
        })
        .await
    }

    /// Distinct texts kept and their compressed bytes.
    pub async fn config_storage(&self) -> Result<(u64, u64), StoreError> {
        self.read(move |c| {
            Ok(c.prepare_cached(
                "SELECT COUNT(*), COALESCE(SUM(LENGTH(body)), 0) FROM config_texts",
            )?
            .query_row([], |r| {
                Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64))
            })?)
        })
        .await
    }

    /// Lines of each router's newest configuration holding `needle`
    /// (case-insensitive), through the trigram index; a needle shorter
    /// than three characters, or holding `%`, `_` or `\`, is looked for
    /// line by line.
    pub async fn search_configs(
        &self,
        needle: String,
        limit: u32,
    ) -> Result<Vec<ConfigHit>, StoreError> {
        self.read(move |c| {
            let plain = !needle.contains(['%', '_', '\\']);
            let rows: Vec<(String, i64, String)> = if needle.chars().count() >= 3 && plain {
                // LIKE on the trigram index: it narrows to the lines holding
                // every trigram of the string, then checks the string.
                let mut stmt = c.prepare_cached(
                    "SELECT l.device_id, l.line_no, l.line FROM config_search s
                     JOIN config_lines l ON l.rowid = s.rowid
                     WHERE s.line LIKE ?1 ORDER BY l.device_id, l.line_no LIMIT ?2",
                )?;
                let rows = stmt.query_map(params![format!("%{needle}%"), limit], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })?;
                rows.collect::<Result<_, _>>()?
            } else {
                let pattern = format!(
                    "%{}%",
                    needle
                        .replace('\\', "\\\\")
                        .replace('%', "\\%")
                        .replace('_', "\\_")
                );
                let mut stmt = c.prepare_cached(
                    "SELECT device_id, line_no, line FROM config_lines
                     WHERE line LIKE ?1 ESCAPE '\\' ORDER BY device_id, line_no LIMIT ?2",
                )?;
                let rows = stmt.query_map(params![pattern, limit], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })?;
                rows.collect::<Result<_, _>>()?
            };
            let mut around = c.prepare_cached(
                "SELECT line FROM config_lines WHERE device_id = ?1 AND line_no = ?2",
            )?;
            let mut hits = Vec::with_capacity(rows.len());
            for (device_id, line_no, line) in rows {
                let mut at = |n: i64| -> Result<Option<String>, StoreError> {
                    Ok(around
                        .query_row(params![device_id, n], |r| r.get(0))
                        .optional()?)
                };
                let before = at(line_no - 1)?;
                let after = at(line_no + 1)?;
                hits.push(ConfigHit {
                    device_id,
                    line_no: line_no as u32,
                    line,
                    before,
                    after,
                });
            }
            Ok(hits)
        })
        .await
    }
}
