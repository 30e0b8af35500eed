//! Sites, templates and the inventory of routers.

use super::*;
use crate::rows::{self, RULE_COLUMNS, TEMPLATE_COLUMNS};

impl MysqlStore {
    // ---- sites, templates, devices -------------------------------------

    pub async fn save_site(&self, site: &Site, _queue: bool) -> Result<bool, StoreError> {
        let mut c = self.conn().await?;
        // ON DUPLICATE KEY would match the unique name too: refuse first.
        let taken: Option<String> = c
            .exec_first(
                "SELECT id FROM sites WHERE name = ? AND id <> ?",
                (&site.name, &site.id),
            )
            .await?;
        if taken.is_some() {
            return Err(StoreError::DuplicateName {
                what: "site",
                name: site.name.clone(),
            });
        }
        let res = c
            .exec_drop(
                "INSERT INTO sites (id, name, poll_interval_secs, updated_at) VALUES (?, ?, ?, ?)
                 ON DUPLICATE KEY UPDATE
                    name = IF(VALUES(updated_at) > updated_at, VALUES(name), name),
                    poll_interval_secs = IF(VALUES(updated_at) > updated_at,
                        VALUES(poll_interval_secs), poll_interval_secs),
                    updated_at = GREATEST(updated_at, VALUES(updated_at))",
                (
                    &site.id,
                    &site.name,
                    site.poll_interval_secs,
                    site.updated_at,
                ),
            )
            .await;
        match res {
            Err(e) if is_duplicate_key(&e) => Err(StoreError::DuplicateName {
                what: "site",
                name: site.name.clone(),
            }),
            Err(e) => Err(e.into()),
            Ok(()) => Ok(c.affected_rows() > 0),
        }
    }

    pub async fn list_sites(&self) -> Result<Vec<Site>, StoreError> {
        let rows: Vec<(String, String, u32, i64)> = self
            .conn()
            .await?
            .query("SELECT id, name, poll_interval_secs, updated_at FROM sites ORDER BY name")
            .await?;
        Ok(rows
            .into_iter()
            .map(|(id, name, poll_interval_secs, updated_at)| Site {
                id,
                name,
                poll_interval_secs,
                updated_at,
            })
            .collect())
    }

    pub async fn save_template(&self, t: &Template, _queue: bool) -> Result<bool, StoreError> {
        let mut c = self.conn().await?;
        // ON DUPLICATE KEY would match the unique name too: refuse first.
        let taken: Option<String> = c
            .exec_first(
                "SELECT id FROM templates WHERE name = ? AND id <> ?",
                (&t.name, &t.id),
            )
            .await?;
        if taken.is_some() {
            return Err(StoreError::DuplicateName {
                what: "template",
                name: t.name.clone(),
            });
        }
        let res = c
            .exec_drop(
                "INSERT INTO templates (id, name, body, updated_at) VALUES (?, ?, ?, ?)
                 ON DUPLICATE KEY UPDATE
                    name = IF(VALUES(updated_at) > updated_at, VALUES(name), name),
                    body = IF(VALUES(updated_at) > updated_at, VALUES(body), body),
                    updated_at = GREATEST(updated_at, VALUES(updated_at))",
                (&t.id, &t.name, &t.body, t.updated_at),
            )
            .await;
        match res {
            Err(e) if is_duplicate_key(&e) => Err(StoreError::DuplicateName {
                what: "template",
                name: t.name.clone(),
            }),
            Err(e) => Err(e.into()),
            Ok(()) => Ok(c.affected_rows() > 0),
        }
    }

    pub async fn save_config_rule(
        &self,
        r: &ConfigRuleRecord,
        _queue: bool,
    ) -> Result<bool, StoreError> {
        let mut c = self.conn().await?;
        // ON DUPLICATE KEY would match the unique name too: refuse first.
        let taken: Option<String> = c
            .exec_first(
                "SELECT id FROM config_rules WHERE name = ? AND id <> ?",
                (&r.name, &r.id),
            )
            .await?;
        if taken.is_some() {
            return Err(StoreError::DuplicateName {
                what: "rule",
                name: r.name.clone(),
            });
        }
        let res = c
            .exec_drop(
                "INSERT INTO config_rules (id, name, scope, body, enabled, updated_at)
                 VALUES (?, ?, ?, ?, ?, ?)
                 ON DUPLICATE KEY UPDATE
                    name = IF(VALUES(updated_at) > updated_at, VALUES(name), name),
                    scope = IF(VALUES(updated_at) > updated_at, VALUES(scope), scope),
                    body = IF(VALUES(updated_at) > updated_at, VALUES(body), body),
                    enabled = IF(VALUES(updated_at) > updated_at, VALUES(enabled), enabled),
                    updated_at = GREATEST(updated_at, VALUES(updated_at))",
                (&r.id, &r.name, &r.scope, &r.body, r.enabled, r.updated_at),
            )
            .await;
        match res {
            Err(e) if is_duplicate_key(&e) => Err(StoreError::DuplicateName {
                what: "rule",
                name: r.name.clone(),
            }),
            Err(e) => Err(e.into()),
            Ok(()) => Ok(c.affected_rows() > 0),
        }
    }

    pub async fn list_config_rules(&self) -> Result<Vec<ConfigRuleRecord>, StoreError> {
        let rows: Vec<Row> = self
            .conn()
            .await?
            .query(format!(
                "SELECT {RULE_COLUMNS} FROM config_rules ORDER BY name"
            ))
            .await?;
        rows.into_iter()
            .map(|mut r| rows::config_rule(&mut r))
            .collect()
    }

    pub async fn list_templates(&self) -> Result<Vec<Template>, StoreError> {
        let rows: Vec<Row> = self
            .conn()
            .await?
            .query(format!(
                "SELECT {TEMPLATE_COLUMNS} FROM templates ORDER BY name"
            ))
            .await?;
        rows.into_iter()
            .map(|mut r| rows::template(&mut r))
            .collect()
    }

    pub async fn add_device(&self, new: &NewDevice, _queue: bool) -> Result<Device, StoreError> {
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
        let mut tx = self.tx().await?;
        if let Some(site) = &record.site_id {
            let known: Option<i64> = tx
                .exec_first("SELECT 1 FROM sites WHERE id = ?", (site,))
                .await?;
            if known.is_none() {
                return Err(StoreError::NotFound(format!("site {site}")));
            }
        }
        if find_device_id(&mut tx, &record.host, record.port)
            .await?
            .is_some()
        {
            return Err(StoreError::DuplicateDevice {
                host: record.host.clone(),
                port: record.port,
            });
        }
        match upsert_device(&mut tx, &record).await {
            Err(StoreError::Mysql(e)) if is_duplicate_key(&e) => {
                return Err(StoreError::DuplicateDevice {
                    host: record.host.clone(),
                    port: record.port,
                })
            }
            other => other?,
        };
        tx.commit().await?;
        self.get_device(&record.id)
            .await?
            .ok_or(StoreError::NotFound(record.id))
    }

    pub async fn save_devices(
        &self,
        records: Vec<DeviceRecord>,
        _queue: bool,
    ) -> Result<u64, StoreError> {
        let mut tx = self.tx().await?;
        let mut changed = 0;
        for r in &records {
            if let Some(other) = find_device_id(&mut tx, &r.host, r.port).await? {
                if other != r.id {
                    return Err(StoreError::AddressConflict {
                        host: r.host.clone(),
                        port: r.port,
                        existing: other,
                        incoming: r.id.clone(),
                    });
                }
            }
            if upsert_device(&mut tx, r).await? {
                changed += 1;
            }
        }
        tx.commit().await?;
        Ok(changed)
    }

    /// Pins a router's certificate on first use: only when none is pinned.
    pub async fn pin_fingerprint(
        &self,
        device_id: &str,
        fingerprint: &str,
    ) -> Result<bool, StoreError> {
        let mut c = self.conn().await?;
        c.exec_drop(
            "UPDATE devices SET tls_fingerprint = ?, updated_at = ?
             WHERE id = ? AND tls_fingerprint IS NULL",
            (fingerprint, now_ms(), device_id),
        )
        .await?;
        Ok(c.affected_rows() == 1)
    }

    pub async fn device_records(&self) -> Result<Vec<DeviceRecord>, StoreError> {
        let rows: Vec<Row> = self
            .conn()
            .await?
            .query(
                "SELECT id, site_id, host, port, username, transport, tls_fingerprint, created_at,
                    updated_at,
                    (SELECT GROUP_CONCAT(tag SEPARATOR '\u{1f}') FROM device_tags t WHERE t.device_id = d.id)
                 FROM devices d ORDER BY created_at, id",
            )
            .await?;
        rows.into_iter()
            .map(|mut r| rows::device_record(&mut r))
            .collect()
    }

    pub async fn get_device(&self, id: &str) -> Result<Option<Device>, StoreError> {
        let row: Option<Row> = self
            .conn()
            .await?
            .exec_first(format!("{DEVICE_SELECT} WHERE d.id = ?"), (id,))
            .await?;
        row.map(|mut r| rows::device(&mut r)).transpose()
    }

    pub async fn find_device(&self, host: &str, port: u16) -> Result<Option<Device>, StoreError> {
        let row: Option<Row> = self
            .conn()
            .await?
            .exec_first(
                format!("{DEVICE_SELECT} WHERE d.host = ? AND d.port = ?"),
                (host, port),
            )
            .await?;
        row.map(|mut r| rows::device(&mut r)).transpose()
    }

    /// Every device with its latest state, tags left empty
    /// ([`Self::all_device_tags`] has them), in no particular order.
    pub async fn list_devices_untagged(&self) -> Result<Vec<Device>, StoreError> {
        let rows: Vec<Row> = self.conn().await?.query(DEVICE_LIST_SELECT).await?;
        rows.into_iter().map(|mut r| rows::device(&mut r)).collect()
    }

    /// Every device's tags, by device id.
    pub async fn all_device_tags(&self) -> Result<Vec<(String, Vec<String>)>, StoreError> {
        let rows: Vec<(String, String)> = self
            .conn()
            .await?
            .query("SELECT device_id, tag FROM device_tags ORDER BY device_id")
            .await?;
        let mut out: Vec<(String, Vec<String>)> = Vec::new();
        for (id, tag) in rows {
            match out.last_mut() {
                Some((last, tags)) if *last == id => tags.push(tag),
                _ => out.push((id, vec![tag])),
            }
        }
        Ok(out)
    }
}

pub(super) async fn find_device_id(
    tx: &mut Transaction<'_>,
    host: &str,
    port: u16,
) -> Result<Option<String>, StoreError> {
    Ok(tx
        .exec_first(
            "SELECT id FROM devices WHERE host = ? AND port = ?",
            (host, port),
        )
        .await?)
}

/// Every device the batch names exists here; otherwise the batch is
/// refused whole, naming the device (its records stay where they were).
pub(super) async fn ensure_devices<'a>(
    tx: &mut Transaction<'_>,
    ids: impl IntoIterator<Item = &'a str>,
) -> Result<(), StoreError> {
    let wanted: Vec<&str> = ids
        .into_iter()
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    for chunk in wanted.chunks(CHUNK) {
        let found: Vec<String> = tx
            .exec(
                format!(
                    "SELECT id FROM devices WHERE id IN ({})",
                    vec!["?"; chunk.len()].join(", ")
                ),
                Params::Positional(chunk.iter().map(|s| Value::from(*s)).collect()),
            )
            .await?;
        if found.len() != chunk.len() {
            let found: HashSet<&str> = found.iter().map(String::as_str).collect();
            let missing = chunk
                .iter()
                .find(|id| !found.contains(**id))
                .unwrap_or(&"?");
            return Err(StoreError::NotFound((*missing).to_owned()));
        }
    }
    Ok(())
}

/// Keys of the batch's check-ins this database already holds.
pub(super) async fn existing_keys(
    tx: &mut Transaction<'_>,
    batch: &[Checkin],
) -> Result<HashSet<(String, i64)>, StoreError> {
    let devices: Vec<&str> = batch
        .iter()
        .map(|k| k.device_id.as_str())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let lo = batch.iter().map(|k| k.checked_in_at).min().unwrap_or(0);
    let hi = batch.iter().map(|k| k.checked_in_at).max().unwrap_or(0);
    let mut out = HashSet::new();
    for chunk in devices.chunks(CHUNK) {
        let mut params: Vec<Value> = chunk.iter().map(|s| Value::from(*s)).collect();
        params.push(lo.into());
        params.push(hi.into());
        let rows: Vec<(String, i64)> = tx
            .exec(
                format!(
                    "SELECT device_id, checked_in_at FROM checkins
                     WHERE device_id IN ({}) AND checked_in_at >= ? AND checked_in_at <= ?",
                    vec!["?"; chunk.len()].join(", ")
                ),
                Params::Positional(params),
            )
            .await?;
        out.extend(rows);
    }
    Ok(out)
}

pub(super) async fn upsert_device(
    tx: &mut Transaction<'_>,
    r: &DeviceRecord,
) -> Result<bool, StoreError> {
    let newer: Option<i64> = tx
        .exec_first("SELECT updated_at FROM devices WHERE id = ?", (&r.id,))
        .await?;
    if newer.is_some_and(|at| at >= r.updated_at) {
        return Ok(false);
    }
    tx.exec_drop(
        "INSERT INTO devices (id, site_id, host, port, username, transport, tls_fingerprint,
            created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON DUPLICATE KEY UPDATE site_id = VALUES(site_id), host = VALUES(host),
            port = VALUES(port), username = VALUES(username), transport = VALUES(transport),
            tls_fingerprint = VALUES(tls_fingerprint), updated_at = VALUES(updated_at)",
        Params::Positional(vec![
            Value::from(&r.id),
            r.site_id.clone().into(),
            Value::from(&r.host),
            r.port.into(),
            Value::from(&r.username),
            r.transport.as_str().into(),
            r.tls_fingerprint.clone().into(),
            r.created_at.into(),
            r.updated_at.into(),
        ]),
    )
    .await?;
    tx.exec_drop("DELETE FROM device_tags WHERE device_id = ?", (&r.id,))
        .await?;
    let tags = normalise_tags(&r.tags);
    if !tags.is_empty() {
        tx.exec_drop(
            format!(
                "INSERT INTO device_tags (device_id, tag) VALUES {}",
                placeholders(tags.len(), 2)
            ),
            Params::Positional(
                tags.iter()
                    .flat_map(|t| [Value::from(&r.id), Value::from(t)])
                    .collect(),
            ),
        )
        .await?;
    }
    Ok(true)
}
