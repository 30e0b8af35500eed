//! Sites, templates and the inventory of routers.

use super::*;
use crate::rows::{self, RULE_COLUMNS, TEMPLATE_COLUMNS};

impl SqliteStore {
    // ---- sites, templates, devices -------------------------------------

    pub async fn save_site(&self, site: &Site, queue: bool) -> Result<bool, StoreError> {
        let site = site.clone();
        self.write(move |tx| {
            let n = tx.execute(
                "INSERT INTO sites (id, name, poll_interval_secs, updated_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name,
                    poll_interval_secs = excluded.poll_interval_secs, updated_at = excluded.updated_at
                 WHERE excluded.updated_at > sites.updated_at",
                params![site.id, site.name, site.poll_interval_secs, site.updated_at],
            );
            let n = n.map_err(|e| unique_name(e, "site", &site.name))?;
            if queue && n > 0 {
                enqueue(tx, "site", 1, &site)?;
            }
            Ok(n > 0)
        })
        .await
    }

    pub async fn list_sites(&self) -> Result<Vec<Site>, StoreError> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, name, poll_interval_secs, updated_at FROM sites ORDER BY name",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok(Site {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    poll_interval_secs: r.get(2)?,
                    updated_at: r.get(3)?,
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    pub async fn save_template(&self, t: &Template, queue: bool) -> Result<bool, StoreError> {
        let t = t.clone();
        self.write(move |tx| {
            let n = tx
                .execute(
                    "INSERT INTO templates (id, name, body, updated_at) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (id) DO UPDATE SET name = excluded.name, body = excluded.body,
                        updated_at = excluded.updated_at
                     WHERE excluded.updated_at > templates.updated_at",
                    params![t.id, t.name, t.body, t.updated_at],
                )
                .map_err(|e| unique_name(e, "template", &t.name))?;
            if queue && n > 0 {
                enqueue(tx, "template", 1, &t)?;
            }
            Ok(n > 0)
        })
        .await
    }

    pub async fn save_config_rule(
        &self,
        r: &ConfigRuleRecord,
        queue: bool,
    ) -> Result<bool, StoreError> {
        let r = r.clone();
        self.write(move |tx| {
            let n = tx
                .execute(
                    "INSERT INTO config_rules (id, name, scope, body, enabled, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                     ON CONFLICT (id) DO UPDATE SET name = excluded.name, scope = excluded.scope,
                        body = excluded.body, enabled = excluded.enabled,
                        updated_at = excluded.updated_at
                     WHERE excluded.updated_at > config_rules.updated_at",
                    params![r.id, r.name, r.scope, r.body, r.enabled, r.updated_at],
                )
                .map_err(|e| unique_name(e, "rule", &r.name))?;
            if queue && n > 0 {
                enqueue(tx, "config-rule", 1, &r)?;
            }
            Ok(n > 0)
        })
        .await
    }

    pub async fn list_config_rules(&self) -> Result<Vec<ConfigRuleRecord>, StoreError> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {RULE_COLUMNS} FROM config_rules ORDER BY name"
            ))?;
            let rows = stmt.query_and_then([], |mut r| rows::config_rule(&mut r))?;
            rows.collect()
        })
        .await
    }

    pub async fn list_templates(&self) -> Result<Vec<Template>, StoreError> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {TEMPLATE_COLUMNS} FROM templates ORDER BY name"
            ))?;
            let rows = stmt.query_and_then([], |mut r| rows::template(&mut r))?;
            rows.collect()
        })
        .await
    }

    pub async fn add_device(&self, new: &NewDevice, queue: bool) -> Result<Device, StoreError> {
        let now = now_ms();
        let record = DeviceRecord {
            id: new_id(),
            site_id: new.site_id.clone(),
            host: new.host.clone(),
            port: new.port,
            username: new.username.clone(),
            transport: new.transport,
            tls_fingerprint: None,
            tags: normalise_tags(&new.tags),
            created_at: now,
            updated_at: now,
        };
        self.write(move |tx| {
            if let Some(site) = &record.site_id {
                let known: Option<i64> = tx
                    .query_row("SELECT 1 FROM sites WHERE id = ?1", [site], |r| r.get(0))
                    .optional()?;
                if known.is_none() {
                    return Err(StoreError::NotFound(format!("site {site}")));
                }
            }
            if find_device(tx, &record.host, record.port)?.is_some() {
                return Err(StoreError::DuplicateDevice {
                    host: record.host.clone(),
                    port: record.port,
                });
            }
            upsert_device(tx, &record)?;
            if queue {
                enqueue(tx, "device", 1, &record)?;
            }
            get_device(tx, &record.id)?.ok_or_else(|| StoreError::NotFound(record.id.clone()))
        })
        .await
    }

    /// Inserts or updates inventory records; the newer `updated_at` wins.
    /// Returns how many changed this store.
    pub async fn save_devices(
        &self,
        records: Vec<DeviceRecord>,
        queue: bool,
    ) -> Result<u64, StoreError> {
        self.write(move |tx| {
            let mut changed = Vec::new();
            for r in &records {
                if let Some(other) = find_device(tx, &r.host, r.port)? {
                    if other.id != r.id {
                        return Err(StoreError::AddressConflict {
                            host: r.host.clone(),
                            port: r.port,
                            existing: other.id,
                            incoming: r.id.clone(),
                        });
                    }
                }
                if upsert_device(tx, r)? {
                    changed.push(r.clone());
                }
            }
            if queue && !changed.is_empty() {
                for r in &changed {
                    enqueue(tx, "device", 1, r)?;
                }
            }
            Ok(changed.len() as u64)
        })
        .await
    }

    /// Pins a router's certificate on first use: only when none is pinned.
    pub async fn pin_fingerprint(
        &self,
        device_id: &str,
        fingerprint: &str,
    ) -> Result<bool, StoreError> {
        let (id, fp) = (device_id.to_owned(), fingerprint.to_owned());
        self.write(move |tx| {
            let n = tx.execute(
                "UPDATE devices SET tls_fingerprint = ?2, updated_at = ?3
                 WHERE id = ?1 AND tls_fingerprint IS NULL",
                params![id, fp, now_ms()],
            )?;
            Ok(n == 1)
        })
        .await
    }

    pub async fn device_records(&self) -> Result<Vec<DeviceRecord>, StoreError> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, site_id, host, port, username, transport, tls_fingerprint,
                    created_at, updated_at,
                    (SELECT group_concat(tag, char(31)) FROM device_tags t WHERE t.device_id = d.id)
                 FROM devices d ORDER BY key",
            )?;
            let rows = stmt.query_and_then([], |mut r| rows::device_record(&mut r))?;
            rows.collect()
        })
        .await
    }

    pub async fn get_device(&self, id: &str) -> Result<Option<Device>, StoreError> {
        let id = id.to_owned();
        self.read(move |c| get_device(c, &id)).await
    }

    pub async fn find_device(&self, host: &str, port: u16) -> Result<Option<Device>, StoreError> {
        let host = host.to_owned();
        self.read(move |c| match find_device(c, &host, port)? {
            Some(d) => get_device(c, &d.id),
            None => Ok(None),
        })
        .await
    }

    /// Every device with its latest state, tags left empty
    /// ([`Self::all_device_tags`] has them), in no particular order.
    /// Read in two halves of the key range on two readers at once:
    /// decoding 10,000 routers' rows is most of the list's time, and every
    /// laptop has a second core.
    pub async fn list_devices_untagged(&self) -> Result<Vec<Device>, StoreError> {
        let (first, last) = self
            .read(|c| {
                Ok(c.prepare_cached("SELECT min(key), max(key) FROM devices")?
                    .query_row([], |r| {
                        Ok((r.get::<_, Option<i64>>(0)?, r.get::<_, Option<i64>>(1)?))
                    })?)
            })
            .await?;
        let (Some(first), Some(last)) = (first, last) else {
            return Ok(Vec::new());
        };
        let middle = first + (last - first) / 2;
        let (mut low, high) = tokio::try_join!(
            self.read(move |c| devices_between(c, first, middle)),
            self.read(move |c| devices_between(c, middle + 1, last)),
        )?;
        low.extend(high);
        Ok(low)
    }

    /// Every device's tags, by device id. The table is kept in key order
    /// (device id, tag), so a device's tags come together and its id is
    /// read once for all of them.
    pub async fn all_device_tags(&self) -> Result<Vec<(String, Vec<String>)>, StoreError> {
        self.read(|c| {
            // The order is asked for: without it SQLite reads the smaller
            // tag index, which interleaves routers.
            let mut stmt =
                c.prepare_cached("SELECT device_id, tag FROM device_tags ORDER BY device_id, tag")?;
            let mut rows = stmt.query([])?;
            let mut out: Vec<(String, Vec<String>)> = Vec::new();
            while let Some(r) = rows.next()? {
                let id = r.get_ref(0)?.as_str().map_err(|e| {
                    rusqlite::Error::FromSqlConversionFailure(
                        0,
                        rusqlite::types::Type::Text,
                        Box::new(e),
                    )
                })?;
                let tag: String = r.get(1)?;
                match out.last_mut() {
                    Some((last, tags)) if last == id => tags.push(tag),
                    _ => out.push((id.to_owned(), vec![tag])),
                }
            }
            Ok(out)
        })
        .await
    }
}

pub(super) const DEVICE_SELECT: &str =
    "SELECT d.id, d.site_id, d.host, d.port, d.username, d.transport,
        (SELECT group_concat(tag, char(31)) FROM device_tags t WHERE t.device_id = d.id),
        l.identity, l.board, l.version, l.serial, d.created_at, l.checked_in_at, l.cpu_load,
        l.last_polled_at, l.last_error
     FROM devices d LEFT JOIN device_latest l ON l.device_key = d.key";

/// [`DEVICE_SELECT`] without the tags (column 6 is NULL).
pub(super) const DEVICE_LIST_SELECT: &str =
    "SELECT d.id, d.site_id, d.host, d.port, d.username, d.transport,
        NULL, l.identity, l.board, l.version, l.serial, d.created_at, l.checked_in_at, l.cpu_load,
        l.last_polled_at, l.last_error
     FROM devices d LEFT JOIN device_latest l ON l.device_key = d.key";

/// The routers whose key is in `first..=last`, with their latest state.
fn devices_between(c: &Connection, first: i64, last: i64) -> Result<Vec<Device>, StoreError> {
    let mut stmt = c.prepare_cached(&format!(
        "{DEVICE_LIST_SELECT} WHERE d.key BETWEEN ?1 AND ?2"
    ))?;
    let mut out = Vec::with_capacity(usize::try_from(last - first + 1).unwrap_or(0).min(1 << 16));
    for device in stmt.query_and_then(params![first, last], |mut r| rows::device(&mut r))? {
        out.push(device?);
    }
    Ok(out)
}

pub(crate) fn normalise_tags(tags: &[String]) -> Vec<String> {
    let mut out: Vec<String> = tags
        .iter()
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
        .collect();
    out.sort();
    out.dedup();
    out
}

pub(super) fn get_device(c: &Connection, id: &str) -> Result<Option<Device>, StoreError> {
    let mut stmt = c.prepare_cached(&format!("{DEVICE_SELECT} WHERE d.id = ?1"))?;
    let mut rows = stmt.query_and_then([id], |mut r| rows::device(&mut r))?;
    rows.next().transpose()
}

pub(super) fn find_device(
    c: &Connection,
    host: &str,
    port: u16,
) -> Result<Option<DeviceRecord>, StoreError> {
    Ok(
        c.prepare_cached("SELECT id FROM devices WHERE host = ?1 AND port = ?2")?
            .query_row(params![host, port], |r| r.get::<_, String>(0))
            .optional()?
            .map(|id| DeviceRecord {
                id,
                site_id: None,
                host: host.to_owned(),
                port,
                username: String::new(),
                transport: Transport::Api,
                tls_fingerprint: None,
                tags: Vec::new(),
                created_at: 0,
                updated_at: 0,
            }),
    )
}

/// Inserts or updates one inventory record (newer `updated_at` wins) and
/// its tags. Returns whether this store changed.
pub(super) fn upsert_device(tx: &Transaction<'_>, r: &DeviceRecord) -> Result<bool, StoreError> {
    let n = tx
        .prepare_cached(
            "INSERT INTO devices (id, site_id, host, port, username, transport, tls_fingerprint,
            created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT (id) DO UPDATE SET site_id = excluded.site_id, host = excluded.host,
            port = excluded.port, username = excluded.username, transport = excluded.transport,
            tls_fingerprint = excluded.tls_fingerprint, updated_at = excluded.updated_at
         WHERE excluded.updated_at > devices.updated_at",
        )?
        .execute(params![
            r.id,
            r.site_id,
            r.host,
            r.port,
            r.username,
            r.transport.as_str(),
            r.tls_fingerprint,
            r.created_at,
            r.updated_at
        ])?;
    if n == 0 {
        return Ok(false);
    }
    tx.prepare_cached("DELETE FROM device_tags WHERE device_id = ?1")?
        .execute([&r.id])?;
    let mut add = tx.prepare_cached("INSERT INTO device_tags (device_id, tag) VALUES (?1, ?2)")?;
    for t in normalise_tags(&r.tags) {
        add.execute(params![r.id, t])?;
    }
    Ok(true)
}

pub(super) fn device_key(c: &Connection, id: &str) -> Result<Option<i64>, StoreError> {
    Ok(c.prepare_cached("SELECT key FROM devices WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?)
}

/// Local integer keys of the given devices; an unknown device is an error
/// that names it (its records stay where they came from).
pub(super) fn device_keys<'a>(
    c: &Connection,
    ids: impl IntoIterator<Item = &'a str>,
) -> Result<HashMap<&'a str, i64>, StoreError> {
    let mut keys = HashMap::new();
    let mut stmt = c.prepare_cached("SELECT key FROM devices WHERE id = ?1")?;
    for id in ids {
        if keys.contains_key(id) {
            continue;
        }
        let key: Option<i64> = stmt.query_row([id], |r| r.get(0)).optional()?;
        keys.insert(id, key.ok_or_else(|| StoreError::NotFound(id.to_owned()))?);
    }
    Ok(keys)
}
