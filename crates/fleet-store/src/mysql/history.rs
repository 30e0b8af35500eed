//! The audit trail, push records and bulk batches, and the sync outbox.

use super::*;
use crate::rows::{self, AUDIT_COLUMNS, BATCH_COLUMNS, PUSH_COLUMNS};
use crate::{BatchState, Name};

impl MysqlStore {
    // ---- audit, pushes, outbox ------------------------------------------

    pub async fn record_audit(
        &self,
        events: Vec<AuditEvent>,
        _queue: bool,
    ) -> Result<u64, StoreError> {
        if events.is_empty() {
            return Ok(0);
        }
        let mut c = self.conn().await?;
        let mut inserted = 0;
        for chunk in events.chunks(CHUNK) {
            let params = chunk
                .iter()
                .flat_map(|e| {
                    [
                        Value::from(&e.id),
                        e.at.into(),
                        e.device_id.clone().into(),
                        Value::from(&e.actor),
                        Value::from(e.action.as_str()),
                        Value::from(&e.detail),
                    ]
                })
                .collect();
            c.exec_drop(
                format!(
                    "INSERT IGNORE INTO audit_events (id, at, device_id, actor, action, detail)
                     VALUES {}",
                    placeholders(chunk.len(), 6)
                ),
                Params::Positional(params),
            )
            .await?;
            inserted += c.affected_rows();
        }
        Ok(inserted)
    }

    pub async fn audit_events(
        &self,
        device_id: Option<&str>,
        since_ms: i64,
        limit: u32,
    ) -> Result<Vec<AuditEvent>, StoreError> {
        let rows: Vec<Row> = self
            .conn()
            .await?
            .exec(
                format!(
                    "SELECT {AUDIT_COLUMNS} FROM audit_events
                     WHERE (? IS NULL OR device_id = ?) AND at >= ?
                     ORDER BY at DESC, id DESC LIMIT ?"
                ),
                (device_id, device_id, since_ms, limit),
            )
            .await?;
        rows.into_iter()
            .map(|mut r| rows::audit_event(&mut r))
            .collect()
    }

    pub async fn save_pushes(
        &self,
        pushes: Vec<PushRecord>,
        _queue: bool,
    ) -> Result<u64, StoreError> {
        let mut c = self.conn().await?;
        let mut changed = 0;
        for p in &pushes {
            c.exec_drop(
                "INSERT INTO push_records (id, device_id, template_id, started_at, finished_at,
                    status, summary, updated_at, batch_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                 ON DUPLICATE KEY UPDATE
                    finished_at = IF(VALUES(updated_at) > updated_at, VALUES(finished_at), finished_at),
                    status = IF(VALUES(updated_at) > updated_at, VALUES(status), status),
                    summary = IF(VALUES(updated_at) > updated_at, VALUES(summary), summary),
                    updated_at = GREATEST(updated_at, VALUES(updated_at))",
                (
                    &p.id,
                    &p.device_id,
                    &p.template_id,
                    p.started_at,
                    p.finished_at,
                    p.status.as_str(),
                    &p.summary,
                    p.updated_at,
                    &p.batch_id,
                ),
            )
            .await?;
            if c.affected_rows() > 0 {
                changed += 1;
            }
        }
        Ok(changed)
    }

    pub async fn push_records(
        &self,
        device_id: Option<&str>,
        limit: u32,
    ) -> Result<Vec<PushRecord>, StoreError> {
        let rows: Vec<Row> = self
            .conn()
            .await?
            .exec(
                format!(
                    "SELECT {PUSH_COLUMNS} FROM push_records WHERE (? IS NULL OR device_id = ?)
                     ORDER BY started_at DESC, id DESC LIMIT ?"
                ),
                (device_id, device_id, limit),
            )
            .await?;
        rows.into_iter()
            .map(|mut r| rows::push_record(&mut r))
            .collect()
    }

    pub async fn batch_pushes(&self, batch_id: &str) -> Result<Vec<PushRecord>, StoreError> {
        let rows: Vec<Row> = self
            .conn()
            .await?
            .exec(
                format!(
                    "SELECT {PUSH_COLUMNS} FROM push_records WHERE batch_id = ? ORDER BY started_at, id"
                ),
                (batch_id,),
            )
            .await?;
        rows.into_iter()
            .map(|mut r| rows::push_record(&mut r))
            .collect()
    }

    pub async fn save_batch(&self, b: PushBatch) -> Result<bool, StoreError> {
        let mut c = self.conn().await?;
        c.exec_drop(
            "INSERT INTO push_batches (id, started_at, finished_at, status, actor, options,
                targets, summary, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
             ON DUPLICATE KEY UPDATE
                finished_at = IF(VALUES(updated_at) >= updated_at, VALUES(finished_at), finished_at),
                status = IF(VALUES(updated_at) >= updated_at, VALUES(status), status),
                summary = IF(VALUES(updated_at) >= updated_at, VALUES(summary), summary),
                updated_at = GREATEST(updated_at, VALUES(updated_at))",
            (
                &b.id,
                b.started_at,
                b.finished_at,
                b.status.as_str(),
                &b.actor,
                &b.options,
                serde_json::to_string(&b.targets).map_err(|e| StoreError::Payload(e.to_string()))?,
                &b.summary,
                b.updated_at,
            ),
        )
        .await?;
        Ok(c.affected_rows() > 0)
    }

    pub async fn push_batches(
        &self,
        status: Option<BatchState>,
        limit: u32,
    ) -> Result<Vec<PushBatch>, StoreError> {
        let status = status.map(Name::as_str);
        let rows: Vec<Row> = self
            .conn()
            .await?
            .exec(
                format!(
                    "SELECT {BATCH_COLUMNS} FROM push_batches WHERE (? IS NULL OR status = ?)
                     ORDER BY started_at DESC, id DESC LIMIT ?"
                ),
                (status, status, limit),
            )
            .await?;
        rows.into_iter()
            .map(|mut r| rows::push_batch(&mut r))
            .collect()
    }

    /// The shared database is the destination of syncs, not a source of
    /// queued records: its outbox stays empty, and these read it as such.
    pub async fn outbox_peek(&self, limit: u32) -> Result<Vec<OutboxEntry>, StoreError> {
        let rows: Vec<(i64, String, i64, String)> = self
            .conn()
            .await?
            .exec(
                "SELECT seq, kind, records, payload FROM outbox ORDER BY seq LIMIT ?",
                (limit,),
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|(seq, kind, records, payload)| OutboxEntry {
                seq,
                kind,
                records,
                payload,
            })
            .collect())
    }

    pub async fn outbox_remove(&self, seq: i64) -> Result<(), StoreError> {
        self.conn()
            .await?
            .exec_drop("DELETE FROM outbox WHERE seq = ?", (seq,))
            .await?;
        Ok(())
    }

    pub async fn outbox_size(&self) -> Result<(u64, u64), StoreError> {
        let row: Option<(i64, i64)> = self
            .conn()
            .await?
            .query_first("SELECT COUNT(*), CAST(COALESCE(SUM(records), 0) AS SIGNED) FROM outbox")
            .await?;
        let (a, b) = row.unwrap_or_default();
        Ok((a as u64, b as u64))
    }
}
