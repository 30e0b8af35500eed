//! Configuration history: texts stored once by hash, versions per router.

use super::*;
use std::collections::HashMap;

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
                    index_lines(tx, &v.device_id, &record.text)?;
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

    pub async fn save_config_secret(
        &self,
        version_id: String,
        body: Vec<u8>,
        queue: bool,
    ) -> Result<(), StoreError> {
        self.write(move |tx| {
            tx.prepare_cached(
                "INSERT INTO config_secrets (version_id, body) VALUES (?1, ?2)
                 ON CONFLICT (version_id) DO UPDATE SET body = excluded.body",
            )?
            .execute(params![version_id, body])?;
            // The body is read from here when the entry is delivered.
            if queue {
                enqueue(tx, "config-secret", 1, &version_id)?;
            }
            Ok(())
        })
        .await
    }

    pub async fn config_secret(&self, version_id: String) -> Result<Option<Vec<u8>>, StoreError> {
        self.read(move |c| {
            Ok(
                c.prepare_cached("SELECT body FROM config_secrets WHERE version_id = ?1")?
                    .query_row(params![version_id], |r| r.get(0))
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
    /// (case-insensitive), in router order, at most `limit`. The distinct
    /// lines holding it come from the trigram index (a needle shorter than
    /// three characters, or holding `%`, `_` or `\`, is looked for line by
    /// line); then each router's line ids say where it holds them.
    pub async fn search_configs(
        &self,
        needle: String,
        limit: u32,
    ) -> Result<Vec<ConfigHit>, StoreError> {
        self.read(move |c| {
            let plain = !needle.contains(['%', '_', '\\']);
            let (sql, pattern) = if needle.chars().count() >= 3 && plain {
                (
                    "SELECT t.id, t.line FROM config_search s
                     JOIN config_line_texts t ON t.id = s.rowid
                     WHERE s.line LIKE ?1 LIMIT ?2",
                    format!("%{needle}%"),
                )
            } else {
                (
                    "SELECT id, line FROM config_line_texts
                     WHERE line LIKE ?1 ESCAPE '\\' LIMIT ?2",
                    format!(
                        "%{}%",
                        needle
                            .replace('\\', "\\\\")
                            .replace('%', "\\%")
                            .replace('_', "\\_")
                    ),
                )
            };
            let matched: HashMap<i64, String> = c
                .prepare_cached(sql)?
                .query_map(params![pattern, MATCHED_LINES], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })?
                .collect::<Result<_, _>>()?;
            let mut hits = Vec::new();
            if matched.is_empty() {
                return Ok(hits);
            }
            // Which ids matched, a bit each: the scan below tests two
            // million ids for 10,000 routers.
            let top = matched.keys().copied().max().unwrap_or(0).max(0) as usize;
            let mut wanted = vec![0u64; top / 64 + 1];
            for id in matched.keys() {
                wanted[*id as usize / 64] |= 1 << (*id as usize % 64);
            }
            let is_wanted = |id: i64| {
                let id = id as usize;
                id <= top && wanted[id / 64] & (1 << (id % 64)) != 0
            };
            let mut text_of =
                c.prepare_cached("SELECT line FROM config_line_texts WHERE id = ?1")?;
            let mut stmt =
                c.prepare_cached("SELECT device_id, lines FROM config_lines ORDER BY device_id")?;
            let mut rows = stmt.query([])?;
            while let Some(row) = rows.next()? {
                let blob = row.get_ref(1)?.as_blob().map_err(rusqlite::Error::from)?;
                if !decode_ids_iter(blob).any(is_wanted) {
                    continue;
                }
                let device_id: String = row.get(0)?;
                let ids = decode_ids(blob);
                for (i, id) in ids.iter().enumerate() {
                    let Some(line) = matched.get(id) else {
                        continue;
                    };
                    let mut around = |at: Option<usize>| -> Result<Option<String>, StoreError> {
                        match at.and_then(|j| ids.get(j)) {
                            Some(id) => {
                                Ok(text_of.query_row(params![id], |r| r.get(0)).optional()?)
                            }
                            None => Ok(None),
                        }
                    };
                    hits.push(ConfigHit {
                        device_id: device_id.clone(),
                        line_no: i as u32 + 1,
                        line: line.clone(),
                        before: around(i.checked_sub(1))?,
                        after: around(Some(i + 1))?,
                    });
                    if hits.len() >= limit as usize {
                        return Ok(hits);
                    }
                }
            }
            Ok(hits)
        })
        .await
    }
}

/// At most this many distinct lines holding a needle are looked for in the
/// routers (a needle in every line of the fleet answers with `limit` hits
/// from among them).
const MATCHED_LINES: i64 = 50_000;

/// A line's key: the first 8 bytes of its SHA-256.
fn line_key(line: &str) -> i64 {
    use sha2::Digest;
    let d = sha2::Sha256::digest(line.as_bytes());
    i64::from_le_bytes(d[..8].try_into().expect("8 bytes"))
}

/// The id of `line`, kept now if it is new.
fn line_id(c: &Connection, line: &str) -> Result<i64, StoreError> {
    let mut key = line_key(line);
    loop {
        let found: Option<(i64, String)> = c
            .prepare_cached("SELECT id, line FROM config_line_texts WHERE key = ?1")?
            .query_row(params![key], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        match found {
            Some((id, kept)) if kept == line => return Ok(id),
            // Another line has this key: the next one.
            Some(_) => key = key.wrapping_add(1),
            None => {
                c.prepare_cached("INSERT INTO config_line_texts (key, line) VALUES (?1, ?2)")?
                    .execute(params![key, line])?;
                return Ok(c.last_insert_rowid());
            }
        }
    }
}

/// Makes `text` the newest configuration `device_id` is searched in.
fn index_lines(c: &Connection, device_id: &str, text: &str) -> Result<(), StoreError> {
    let mut blob = Vec::with_capacity(text.len() / 20);
    for line in text.lines() {
        encode_id(line_id(c, line)? as u64, &mut blob);
    }
    c.prepare_cached(
        "INSERT INTO config_lines (device_id, lines) VALUES (?1, ?2)
         ON CONFLICT (device_id) DO UPDATE SET lines = excluded.lines",
    )?
    .execute(params![device_id, blob])?;
    Ok(())
}

/// LEB128: seven bits a byte, the high bit set on all but the last.
fn encode_id(mut id: u64, out: &mut Vec<u8>) {
    loop {
        let low = (id & 0x7f) as u8;
        id >>= 7;
        if id == 0 {
            out.push(low);
            return;
        }
        out.push(low | 0x80);
    }
}

fn decode_ids(blob: &[u8]) -> Vec<i64> {
    decode_ids_iter(blob).collect()
}

/// The ids in `blob`, without allocating.
fn decode_ids_iter(blob: &[u8]) -> impl Iterator<Item = i64> + '_ {
    let (mut value, mut shift) = (0u64, 0u32);
    blob.iter().filter_map(move |b| {
        value |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            let id = value as i64;
            (value, shift) = (0, 0);
            Some(id)
        } else {
            shift += 7;
            None
        }
    })
}

/// Builds the search index from each router's newest version (a store
/// migrated from the row-per-line index); how many routers.
pub(super) fn reindex(c: &Connection) -> Result<usize, StoreError> {
    let newest: Vec<(String, String, Vec<u8>)> = c
        .prepare(
            "SELECT v.device_id, v.hash, t.body FROM config_versions v
             JOIN config_texts t ON t.hash = v.hash
             WHERE v.id = (SELECT w.id FROM config_versions w WHERE w.device_id = v.device_id
                           ORDER BY w.taken_at DESC, w.id DESC LIMIT 1)",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    for (device_id, hash, body) in &newest {
        index_lines(c, device_id, &crate::configs::decompress(hash, body)?)?;
    }
    Ok(newest.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{self, Dialect};

    /// A store made before the line index changed (schema 5, a row per
    /// line) is migrated with its routers' newest configurations indexed:
    /// search finds them without a new backup.
    #[test]
    fn a_store_from_before_the_line_index_is_searchable_after_the_migration() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        {
            let c = Connection::open(&path).unwrap();
            c.execute(
                "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)",
                [],
            )
            .unwrap();
            for (v, statements) in schema::migrations(Dialect::Sqlite) {
                if *v > 5 {
                    break;
                }
                for s in *statements {
                    c.execute(s, []).unwrap();
                }
                c.execute("INSERT INTO schema_migrations VALUES (?1, 0)", [v])
                    .unwrap();
            }
            for (device, at, text) in [
                ("dev-a", 1, "/system identity set name=old-a\n"),
                (
                    "dev-a",
                    2,
                    "/ip dns set servers=192.0.2.53\n/system identity set name=new-a\n",
                ),
            ] {
                let hash = crate::model::config_hash(text);
                c.execute(
                    "INSERT OR IGNORE INTO config_texts (hash, size, body) VALUES (?1, ?2, ?3)",
                    params![
                        hash,
                        text.len() as i64,
                        crate::configs::compress(text).unwrap()
                    ],
                )
                .unwrap();
                c.execute(
                    "INSERT INTO config_versions (id, device_id, taken_at, hash, drift, line_count, checked_at)
                     VALUES (?1, ?2, ?3, ?4, 0, 1, ?3)",
                    params![format!("v{at}"), device, at, hash],
                )
                .unwrap();
            }
        }
        let c = super::super::open_connection(&path).unwrap();
        let version: i64 = c
            .query_row("SELECT MAX(version) FROM schema_migrations", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(version, schema::latest_version(Dialect::Sqlite));
        let ids: Vec<u8> = c
            .query_row(
                "SELECT lines FROM config_lines WHERE device_id = 'dev-a'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(decode_ids(&ids).len(), 2, "the newest version, two lines");
        let found: Vec<String> = c
            .prepare(
                "SELECT t.line FROM config_search s JOIN config_line_texts t ON t.id = s.rowid
                 WHERE s.line LIKE '%192.0.2.53%'",
            )
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(found, vec!["/ip dns set servers=192.0.2.53".to_owned()]);
    }

    #[test]
    fn line_ids_round_trip_through_their_varints() {
        let dir = tempfile::tempdir().unwrap();
        let c = super::super::open_connection(&dir.path().join("f.db")).unwrap();
        let text = "a\nb\na\n".repeat(100);
        index_lines(&c, "r", &text).unwrap();
        let blob: Vec<u8> = c
            .query_row("SELECT lines FROM config_lines", [], |r| r.get(0))
            .unwrap();
        let ids = decode_ids(&blob);
        assert_eq!(ids.len(), 300);
        assert_eq!(ids[0], ids[2]);
        assert_ne!(ids[0], ids[1]);
        let distinct: i64 = c
            .query_row("SELECT COUNT(*) FROM config_line_texts", [], |r| r.get(0))
            .unwrap();
        assert_eq!(distinct, 2, "each line once");
        let mut big = Vec::new();
        for id in [0u64, 127, 128, 300_000, u32::MAX as u64] {
            encode_id(id, &mut big);
        }
        assert_eq!(
            decode_ids(&big),
            vec![0, 127, 128, 300_000, u32::MAX as i64]
        );
    }
}
