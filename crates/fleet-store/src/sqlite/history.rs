//! The audit trail, push records and bulk batches, and the sync outbox.

use super::*;
use crate::rows::{self, AUDIT_COLUMNS, BATCH_COLUMNS, PUSH_COLUMNS};
use crate::{BatchState, Name};

impl SqliteStore {
    // ---- audit, pushes, outbox ------------------------------------------

    pub async fn record_audit(
        &self,
        events: Vec<AuditEvent>,
        queue: bool,
    ) -> Result<u64, StoreError> {
        self.write(move |tx| {
            let mut stmt = tx.prepare_cached(
                "INSERT OR IGNORE INTO audit_events (id, at, device_id, actor, action, detail)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            let mut fresh = Vec::new();
            for e in &events {
                if stmt.execute(params![
                    e.id,
                    e.at,
                    e.device_id,
                    e.actor,
                    e.action.as_str(),
                    e.detail
                ])? == 1
                {
                    fresh.push(e);
                }
            }
            if queue && !fresh.is_empty() {
                enqueue(tx, "audit", fresh.len(), &fresh)?;
            }
            Ok(fresh.len() as u64)
        })
        .await
    }

    pub async fn audit_events(
        &self,
        device_id: Option<&str>,
        since_ms: i64,
        limit: u32,
    ) -> Result<Vec<AuditEvent>, StoreError> {
        let id = device_id.map(str::to_owned);
        self.read(move |c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {AUDIT_COLUMNS} FROM audit_events
                 WHERE (?1 IS NULL OR device_id = ?1) AND at >= ?2
                 ORDER BY at DESC, id DESC LIMIT ?3"
            ))?;
            let rows = stmt.query_and_then(params![id, since_ms, limit], |mut r| {
                rows::audit_event(&mut r)
            })?;
            rows.collect()
        })
        .await
    }

    pub async fn save_pushes(
        &self,
        pushes: Vec<PushRecord>,
        queue: bool,
    ) -> Result<u64, StoreError> {
        self.write(move |tx| {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO push_records (id, device_id, template_id, started_at, finished_at,
                    status, summary, updated_at, batch_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                 ON CONFLICT (id) DO UPDATE SET finished_at = excluded.finished_at,
                    status = excluded.status, summary = excluded.summary,
                    updated_at = excluded.updated_at
                 WHERE excluded.updated_at > push_records.updated_at",
            )?;
            let mut changed = Vec::new();
            for p in &pushes {
                if stmt.execute(params![
                    p.id,
                    p.device_id,
                    p.template_id,
                    p.started_at,
                    p.finished_at,
                    p.status.as_str(),
                    p.summary,
                    p.updated_at,
                    p.batch_id
                ])? == 1
                {
                    changed.push(p);
                }
            }
            if queue && !changed.is_empty() {
                enqueue(tx, "push", changed.len(), &changed)?;
            }
            Ok(changed.len() as u64)
        })
        .await
    }

    pub async fn push_records(
        &self,
        device_id: Option<&str>,
        limit: u32,
    ) -> Result<Vec<PushRecord>, StoreError> {
        let id = device_id.map(str::to_owned);
        self.read(move |c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {PUSH_COLUMNS} FROM push_records WHERE (?1 IS NULL OR device_id = ?1)
                 ORDER BY started_at DESC, id DESC LIMIT ?2"
            ))?;
            let rows =
                stmt.query_and_then(params![id, limit], |mut r| rows::push_record(&mut r))?;
            rows.collect()
        })
        .await
    }

    pub async fn batch_pushes(&self, batch_id: &str) -> Result<Vec<PushRecord>, StoreError> {
        let id = batch_id.to_owned();
        self.read(move |c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {PUSH_COLUMNS} FROM push_records WHERE batch_id = ?1 ORDER BY started_at, id"
            ))?;
            let rows = stmt.query_and_then(params![id], |mut r| rows::push_record(&mut r))?;
            rows.collect()
        })
        .await
    }

    pub async fn save_batch(&self, b: PushBatch) -> Result<bool, StoreError> {
        self.write(move |tx| {
            let n = tx.execute(
                "INSERT INTO push_batches (id, started_at, finished_at, status, actor, options,
                    targets, summary, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                 ON CONFLICT (id) DO UPDATE SET finished_at = excluded.finished_at,
                    status = excluded.status, summary = excluded.summary,
                    updated_at = excluded.updated_at
                 WHERE excluded.updated_at >= push_batches.updated_at",
                params![
                    b.id,
                    b.started_at,
                    b.finished_at,
                    b.status.as_str(),
                    b.actor,
                    b.options,
                    serde_json::to_string(&b.targets)
                        .map_err(|e| StoreError::Payload(e.to_string()))?,
                    b.summary,
                    b.updated_at
                ],
            )?;
            Ok(n == 1)
        })
        .await
    }

    pub async fn push_batches(
        &self,
        status: Option<BatchState>,
        limit: u32,
    ) -> Result<Vec<PushBatch>, StoreError> {
        let status = status.map(Name::as_str);
        self.read(move |c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {BATCH_COLUMNS} FROM push_batches WHERE (?1 IS NULL OR status = ?1)
                 ORDER BY started_at DESC, id DESC LIMIT ?2"
            ))?;
            let rows =
                stmt.query_and_then(params![status, limit], |mut r| rows::push_batch(&mut r))?;
            rows.collect()
        })
        .await
    }

    pub async fn outbox_peek(&self, limit: u32) -> Result<Vec<OutboxEntry>, StoreError> {
        self.read(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT seq, kind, records, payload FROM outbox ORDER BY seq LIMIT ?1",
            )?;
            let rows = stmt.query_map([limit], |r| {
                Ok(OutboxEntry {
                    seq: r.get(0)?,
                    kind: r.get(1)?,
                    records: r.get(2)?,
                    payload: r.get(3)?,
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    pub async fn outbox_remove(&self, seq: i64) -> Result<(), StoreError> {
        self.write(move |tx| {
            tx.execute("DELETE FROM outbox WHERE seq = ?1", [seq])?;
            Ok(())
        })
        .await
    }

    pub async fn outbox_size(&self) -> Result<(u64, u64), StoreError> {
        self.read(|c| {
            let (entries, records): (i64, i64) = c.query_row(
                "SELECT COUNT(*), COALESCE(SUM(records), 0) FROM outbox",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            Ok((entries as u64, records as u64))
        })
        .await
    }
}
