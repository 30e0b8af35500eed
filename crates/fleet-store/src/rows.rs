//! Row decoding shared by both backends: each backend reads its columns
//! through [`Columns`], and the rules for turning them into records (names,
//! transports, tags, a batch's targets) live here once.

use crate::model::*;
use crate::names::Named;
use crate::StoreError;

/// Columns of one result row, whichever backend read it.
pub(crate) trait Columns {
    fn col<T: Cell>(&mut self, i: usize) -> Result<T, StoreError>;

    /// A transport column, read without a copy where the backend can.
    fn transport(&mut self, i: usize) -> Result<Transport, StoreError> {
        Transport::parse(&self.col::<String>(i)?)
    }
}

/// A value both backends can read from a column.
pub(crate) trait Cell: rusqlite::types::FromSql + mysql_async::prelude::FromValue {}
impl<T: rusqlite::types::FromSql + mysql_async::prelude::FromValue> Cell for T {}

impl Columns for &rusqlite::Row<'_> {
    fn col<T: Cell>(&mut self, i: usize) -> Result<T, StoreError> {
        Ok(self.get(i)?)
    }

    fn transport(&mut self, i: usize) -> Result<Transport, StoreError> {
        let name = self
            .get_ref(i)?
            .as_str()
            .map_err(|e| StoreError::Payload(format!("column {i}: {e}")))?;
        Transport::parse(name)
    }
}

impl Columns for mysql_async::Row {
    fn col<T: Cell>(&mut self, i: usize) -> Result<T, StoreError> {
        match self.take_opt::<T, usize>(i) {
            Some(Ok(v)) => Ok(v),
            _ => Err(StoreError::Payload(format!(
                "unexpected value in column {i} of a fleet database row"
            ))),
        }
    }
}

/// Tags joined by the unit separator (both dialects' aggregate), sorted.
pub(crate) fn split_tags(joined: Option<String>) -> Vec<String> {
    let mut tags: Vec<String> = joined
        .map(|j| j.split('\u{1f}').map(str::to_owned).collect())
        .unwrap_or_default();
    tags.sort();
    tags
}

/// `id, site_id, host, port, username, transport, tags, identity, board,
/// version, serial, created_at, checked_in_at, cpu_load, last_polled_at,
/// last_error` (the backends' `DEVICE_SELECT`).
pub(crate) fn device(r: &mut impl Columns) -> Result<Device, StoreError> {
    Ok(Device {
        id: r.col(0)?,
        site_id: r.col(1)?,
        host: r.col(2)?,
        port: r.col(3)?,
        username: r.col(4)?,
        transport: r.transport(5)?,
        tags: split_tags(r.col(6)?),
        identity: r.col(7)?,
        board: r.col(8)?,
        version: r.col(9)?,
        serial: r.col(10)?,
        created_at: r.col(11)?,
        last_checkin_at: r.col(12)?,
        last_cpu_load: r.col::<Option<i64>>(13)?.map(|v| v as f64),
        last_polled_at: r.col(14)?,
        last_error: r.col(15)?,
    })
}

/// `id, site_id, host, port, username, transport, tls_fingerprint,
/// created_at, updated_at, tags`.
pub(crate) fn device_record(r: &mut impl Columns) -> Result<DeviceRecord, StoreError> {
    Ok(DeviceRecord {
        id: r.col(0)?,
        site_id: r.col(1)?,
        host: r.col(2)?,
        port: r.col(3)?,
        username: r.col(4)?,
        transport: r.transport(5)?,
        tls_fingerprint: r.col(6)?,
        created_at: r.col(7)?,
        updated_at: r.col(8)?,
        tags: split_tags(r.col(9)?),
    })
}

pub(crate) const TEMPLATE_COLUMNS: &str = "id, name, body, updated_at";
pub(crate) const RULE_COLUMNS: &str = "id, name, scope, body, enabled, updated_at";

pub(crate) fn config_rule(r: &mut impl Columns) -> Result<ConfigRuleRecord, StoreError> {
    let enabled: i64 = r.col(4)?;
    Ok(ConfigRuleRecord {
        id: r.col(0)?,
        name: r.col(1)?,
        scope: r.col(2)?,
        body: r.col(3)?,
        enabled: enabled != 0,
        updated_at: r.col(5)?,
    })
}

pub(crate) fn template(r: &mut impl Columns) -> Result<Template, StoreError> {
    Ok(Template {
        id: r.col(0)?,
        name: r.col(1)?,
        body: r.col(2)?,
        updated_at: r.col(3)?,
    })
}

pub(crate) const AUDIT_COLUMNS: &str = "id, at, device_id, actor, action, detail";

pub(crate) const CONFIG_COLUMNS: &str =
    "id, device_id, taken_at, hash, routeros_version, board, serial, push_id, drift, line_count, checked_at";

pub(crate) fn config_version(r: &mut impl Columns) -> Result<ConfigVersion, StoreError> {
    Ok(ConfigVersion {
        id: r.col(0)?,
        device_id: r.col(1)?,
        taken_at: r.col(2)?,
        hash: r.col(3)?,
        routeros_version: r.col(4)?,
        board: r.col(5)?,
        serial: r.col(6)?,
        push_id: r.col(7)?,
        drift: r.col::<i64>(8)? != 0,
        line_count: r.col::<i64>(9)? as u32,
        checked_at: r.col(10)?,
    })
}

pub(crate) fn audit_event(r: &mut impl Columns) -> Result<AuditEvent, StoreError> {
    Ok(AuditEvent {
        id: r.col(0)?,
        at: r.col(1)?,
        device_id: r.col(2)?,
        actor: r.col(3)?,
        action: Named::from_text(r.col(4)?),
        detail: r.col(5)?,
    })
}

pub(crate) const PUSH_COLUMNS: &str =
    "id, device_id, template_id, started_at, finished_at, status, summary, updated_at, batch_id";

pub(crate) fn push_record(r: &mut impl Columns) -> Result<PushRecord, StoreError> {
    Ok(PushRecord {
        id: r.col(0)?,
        device_id: r.col(1)?,
        template_id: r.col(2)?,
        started_at: r.col(3)?,
        finished_at: r.col(4)?,
        status: Named::from_text(r.col(5)?),
        summary: r.col(6)?,
        updated_at: r.col(7)?,
        batch_id: r.col(8)?,
    })
}

pub(crate) const BATCH_COLUMNS: &str =
    "id, started_at, finished_at, status, actor, options, targets, summary, updated_at";

/// A batch whose target list cannot be read is an error, never an empty
/// batch: resumed as empty it would end "finished" with routers unpushed.
pub(crate) fn push_batch(r: &mut impl Columns) -> Result<PushBatch, StoreError> {
    let id: String = r.col(0)?;
    let targets: String = r.col(6)?;
    let targets = serde_json::from_str(&targets).map_err(|e| {
        StoreError::Payload(format!(
            "the router list of bulk push {id} is damaged ({e})"
        ))
    })?;
    Ok(PushBatch {
        id,
        started_at: r.col(1)?,
        finished_at: r.col(2)?,
        status: Named::from_text(r.col(3)?),
        actor: r.col(4)?,
        options: r.col(5)?,
        targets,
        summary: r.col(7)?,
        updated_at: r.col(8)?,
    })
}

pub(crate) const CHECKIN_COLUMNS: &str = "checked_in_at, cpu_load, cpu_count, free_memory, \
     total_memory, free_hdd, total_hdd, uptime_secs, version, rx_bytes, tx_bytes, rx_bps, tx_bps";

/// One stored check-in of `device_id` ([`CHECKIN_COLUMNS`]).
pub(crate) fn checkin(device_id: &str, r: &mut impl Columns) -> Result<Checkin, StoreError> {
    Ok(Checkin {
        device_id: device_id.to_owned(),
        checked_in_at: r.col(0)?,
        cpu_load: r.col(1)?,
        cpu_count: r.col(2)?,
        free_memory: r.col(3)?,
        total_memory: r.col(4)?,
        free_hdd: r.col(5)?,
        total_hdd: r.col(6)?,
        uptime_secs: r.col(7)?,
        version: r.col(8)?,
        rx_bytes: r.col(9)?,
        tx_bytes: r.col(10)?,
        rx_bps: r.col(11)?,
        tx_bps: r.col(12)?,
        ..Checkin::default()
    })
}

/// One bucket of a device's series: `bucket, cpu, cpu max, memory %,
/// rx bps, tx bps, check-ins`. A bucket without a memory reading shows 0.
pub(crate) fn device_point(r: &mut impl Columns) -> Result<DevicePoint, StoreError> {
    Ok(DevicePoint {
        at: r.col(0)?,
        cpu_load: r.col(1)?,
        cpu_max: r.col(2)?,
        memory_used_pct: r.col::<Option<f64>>(3)?.unwrap_or(0.0),
        rx_bps: r.col(4)?,
        tx_bps: r.col(5)?,
        checkins: r.col::<i64>(6)? as u64,
    })
}
