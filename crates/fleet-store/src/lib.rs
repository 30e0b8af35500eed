//! The fleet store: sites, devices, templates, check-ins with their hourly
//! rollups and latest state, audit events, push records and a sync outbox,
//! behind one API with two backends chosen by URL.
//!
//! - `sqlite://PATH`: the embedded default, a SQLite file in WAL mode. It
//!   needs no server, so the app works on a fresh laptop and offline.
//! - `mysql://USER[:PASS]@HOST:PORT/DB`: SingleStore, the shared fleet
//!   database (or MySQL/MariaDB, which the test suite uses), via
//!   `mysql_async` with a bounded connection pool.
//!
//! Every statement is parameterised. Ingest updates the rollups and the
//! latest state in the same transaction as the check-ins, so dashboards
//! read small tables and never scan raw check-ins.

mod error;
mod files;
mod fit;
pub mod generate;
mod ingest;
mod model;
mod mysql;
mod mysql_link;
mod names;
mod rows;
mod schema;
mod sqlite;
pub mod sync;
mod url;

pub use error::StoreError;
pub use model::*;
pub use mysql::DEFAULT_MAX_CONNECTIONS;
pub use names::{AuditAction, BatchState, Name, Named, PushState};
pub use schema::{ddl, Dialect, TABLES};
pub use url::{default_data_dir, default_store_url, StoreUrl};

/// How to open a store.
#[derive(Debug, Clone, Copy)]
pub struct StoreOptions {
    /// Queue records made here (check-ins, devices, audit events, pushes,
    /// sites, templates) for the next sync. Default: on for the embedded
    /// store, off for the shared database (the destination of syncs).
    pub outbox: Option<bool>,
    /// MySQL-protocol pool size; the fleet size never changes it.
    pub max_connections: usize,
    /// The longest one call to the shared database may take, connecting
    /// included: a database that accepts connections and never answers
    /// (a black-holed path) gets an error after this, not a hang.
    pub timeout: std::time::Duration,
    /// Caps the embedded store at this many pages of 4 KiB (SQLite's
    /// `max_page_count`): past it, writes fail as on a full disk. `None`:
    /// only the disk limits it. How a full disk is reproduced in tests.
    pub page_limit: Option<u64>,
}

/// [`StoreOptions::timeout`] unless said otherwise: far longer than any
/// single batched statement takes, short enough that a hung link is seen.
pub const DEFAULT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            outbox: None,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            timeout: DEFAULT_TIMEOUT,
            page_limit: None,
        }
    }
}

/// One queued record (or batch of records) waiting for a sync.
#[derive(Debug, Clone)]
pub struct OutboxEntry {
    pub seq: i64,
    pub kind: String,
    pub records: i64,
    pub payload: String,
}

/// One fleet store, whichever backend holds it.
pub struct FleetStore {
    url: StoreUrl,
    backend: Backend,
    outbox: bool,
}

enum Backend {
    Sqlite(sqlite::SqliteStore),
    Mysql(mysql::MysqlStore),
}

macro_rules! dispatch {
    ($self:ident . $method:ident ( $($arg:expr),* )) => {
        match &$self.backend {
            Backend::Sqlite(s) => s.$method($($arg),*).await,
            Backend::Mysql(s) => s.bounded(s.$method($($arg),*)).await,
        }
    };
}

// Uses `dispatch!`, so declared after it.
mod configs;

impl FleetStore {
    /// Opens the store and brings its schema up to date.
    pub async fn open(url: &StoreUrl) -> Result<FleetStore, StoreError> {
        Self::open_with(url, StoreOptions::default()).await
    }

    pub async fn open_with(url: &StoreUrl, opts: StoreOptions) -> Result<FleetStore, StoreError> {
        // The outbox decision is the façade's: only the embedded store keeps
        // one. Asked of the shared database, it would be a flag the backend
        // silently ignored, and records the caller thinks are queued would
        // never be.
        if matches!(url, StoreUrl::Mysql(_)) && opts.outbox == Some(true) {
            return Err(StoreError::Option(
                "the shared database keeps no outbox: what is written to it is already shared"
                    .into(),
            ));
        }
        let backend = match url {
            StoreUrl::Sqlite(path) => {
                Backend::Sqlite(sqlite::SqliteStore::open(path, opts.page_limit).await?)
            }
            StoreUrl::Mysql(u) => Backend::Mysql(
                mysql::MysqlStore::open(u, opts.max_connections, opts.timeout).await?,
            ),
        };
        let outbox = opts.outbox.unwrap_or(matches!(backend, Backend::Sqlite(_)));
        Ok(FleetStore {
            url: url.clone(),
            backend,
            outbox,
        })
    }

    /// `"sqlite"` or `"mysql"`.
    pub fn backend_name(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite(_) => "sqlite",
            Backend::Mysql(_) => "mysql",
        }
    }

    /// The dialect in use: SingleStore is detected on open.
    pub fn dialect(&self) -> Dialect {
        match &self.backend {
            Backend::Sqlite(_) => Dialect::Sqlite,
            Backend::Mysql(m) => m.dialect(),
        }
    }

    /// Whether this is the embedded store (the laptop's offline copy).
    pub fn is_embedded(&self) -> bool {
        matches!(self.backend, Backend::Sqlite(_))
    }

    /// Where the data lives, safe to show: a path, or the URL without its
    /// password.
    pub fn location(&self) -> String {
        self.url.redacted()
    }

    /// The URL the store was opened with (may hold a password: never shown).
    pub fn url(&self) -> &StoreUrl {
        &self.url
    }

    /// Bytes on disk, for the embedded store.
    pub fn size_on_disk(&self) -> Option<u64> {
        match &self.backend {
            Backend::Sqlite(s) => Some(s.size_on_disk()),
            Backend::Mysql(_) => None,
        }
    }

    // ---- sites and templates ---------------------------------------------

    /// Saves a site; an older edit than the stored one changes nothing.
    pub async fn save_site(&self, site: &Site) -> Result<bool, StoreError> {
        dispatch!(self.save_site(site, self.outbox))
    }

    pub async fn list_sites(&self) -> Result<Vec<Site>, StoreError> {
        dispatch!(self.list_sites())
    }

    pub async fn save_template(&self, template: &Template) -> Result<bool, StoreError> {
        dispatch!(self.save_template(template, self.outbox))
    }

    pub async fn list_templates(&self) -> Result<Vec<Template>, StoreError> {
        dispatch!(self.list_templates())
    }

    /// Saves a compliance rule (the newer `updated_at` wins); whether it
    /// changed anything.
    pub async fn save_config_rule(&self, rule: &ConfigRuleRecord) -> Result<bool, StoreError> {
        dispatch!(self.save_config_rule(rule, self.outbox))
    }

    pub async fn list_config_rules(&self) -> Result<Vec<ConfigRuleRecord>, StoreError> {
        dispatch!(self.list_config_rules())
    }

    // ---- devices ---------------------------------------------------------

    pub async fn add_device(&self, new: &NewDevice) -> Result<Device, StoreError> {
        dispatch!(self.add_device(new, self.outbox))
    }

    /// Inserts or updates inventory records (the newer `updated_at` wins).
    pub async fn save_devices(&self, records: &[DeviceRecord]) -> Result<u64, StoreError> {
        dispatch!(self.save_devices(records.to_vec(), self.outbox))
    }

    /// Records the certificate fingerprint of a router reached with
    /// trust-on-first-use; a fingerprint already pinned is never replaced
    /// (that takes a person). Returns whether it was pinned now.
    pub async fn pin_fingerprint(
        &self,
        device_id: &str,
        fingerprint: &str,
    ) -> Result<bool, StoreError> {
        dispatch!(self.pin_fingerprint(device_id, fingerprint))
    }

    /// Every inventory record, for a sync.
    pub async fn device_records(&self) -> Result<Vec<DeviceRecord>, StoreError> {
        dispatch!(self.device_records())
    }

    pub async fn get_device(&self, id: &str) -> Result<Device, StoreError> {
        dispatch!(self.get_device(id))?.ok_or_else(|| StoreError::NotFound(id.to_owned()))
    }

    pub async fn find_device(&self, host: &str, port: u16) -> Result<Option<Device>, StoreError> {
        dispatch!(self.find_device(host, port))
    }

    /// Every device with its latest state, ordered by identity then address.
    /// Two plain reads (devices with their latest state; every tag) joined
    /// and sorted here, the same for both backends: a tag subquery per
    /// router and an SQL sort made this the slowest read the app runs on
    /// every reload (docs/benchmarks.md).
    pub async fn list_devices(&self) -> Result<Vec<Device>, StoreError> {
        // Both reads at once, each on its own connection.
        let (mut devices, all_tags) =
            tokio::try_join!(async { dispatch!(self.list_devices_untagged()) }, async {
                dispatch!(self.all_device_tags())
            },)?;
        // Groups are merged, not collected: a backend whose read splits a
        // router's tags into two groups must not lose the first.
        let mut tags: std::collections::HashMap<String, Vec<String>> =
            std::collections::HashMap::with_capacity(all_tags.len());
        for (id, group) in all_tags {
            tags.entry(id).or_default().extend(group);
        }
        for d in &mut devices {
            if let Some(mut t) = tags.remove(&d.id) {
                t.sort();
                d.tags = t;
            }
        }
        fn name(d: &Device) -> &str {
            d.identity.as_deref().unwrap_or(&d.host)
        }
        devices.sort_unstable_by(|a, b| {
            name(a)
                .cmp(name(b))
                .then_with(|| a.host.cmp(&b.host))
                .then_with(|| a.port.cmp(&b.port))
        });
        Ok(devices)
    }

    // ---- check-ins -------------------------------------------------------

    /// Stores a batch of check-ins. Rows already stored are skipped; the
    /// new ones update the hourly rollups and the latest state in the same
    /// transaction.
    pub async fn record_checkins(&self, batch: &[Checkin]) -> Result<IngestReport, StoreError> {
        self.ingest(batch.to_vec(), self.outbox).await
    }

    pub async fn record_checkin(&self, checkin: &Checkin) -> Result<IngestReport, StoreError> {
        self.record_checkins(std::slice::from_ref(checkin)).await
    }

    pub(crate) async fn ingest(
        &self,
        batch: Vec<Checkin>,
        queue: bool,
    ) -> Result<IngestReport, StoreError> {
        if batch.is_empty() {
            return Ok(IngestReport::default());
        }
        let batch: Vec<Checkin> = batch.into_iter().map(fit::checkin).collect();
        dispatch!(self.record_checkins(batch, queue))
    }

    /// Remembers why the last poll of a device failed (shown in the UI).
    pub async fn record_poll_failure(
        &self,
        device_id: &str,
        at_ms: i64,
        message: &str,
    ) -> Result<(), StoreError> {
        dispatch!(self.record_poll_failure(device_id, at_ms, message))
    }

    /// A device's raw check-ins between two times, oldest first.
    pub async fn checkins_of(
        &self,
        device_id: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<Checkin>, StoreError> {
        dispatch!(self.checkins_of(device_id, from_ms, to_ms))
    }

    /// Earliest and latest check-in time of a device at or after `from_ms`.
    pub async fn checkin_span(
        &self,
        device_id: &str,
        from_ms: i64,
    ) -> Result<Option<(i64, i64)>, StoreError> {
        dispatch!(self.checkin_span(device_id, from_ms))
    }

    /// Number of check-ins stored for a device.
    pub async fn count_checkins(&self, device_id: &str) -> Result<u64, StoreError> {
        dispatch!(self.count_checkins(device_id))
    }

    pub async fn latest_states(&self) -> Result<Vec<LatestState>, StoreError> {
        dispatch!(self.latest_states())
    }

    /// Takes each latest state that is newer than the stored one.
    pub async fn merge_latest(&self, states: &[LatestState]) -> Result<u64, StoreError> {
        dispatch!(self.merge_latest(states.to_vec()))
    }

    /// A device's hourly rollups for hours before `before_hour`.
    pub async fn hourly_rollups(
        &self,
        device_id: &str,
        before_hour: i64,
    ) -> Result<Vec<HourlyRollup>, StoreError> {
        dispatch!(self.hourly_rollups(device_id, before_hour))
    }

    /// Fleet-wide hourly rows `(hour, check-ins, CPU sum)` before an hour.
    pub async fn fleet_rollups(
        &self,
        before_hour: i64,
    ) -> Result<Vec<(i64, i64, i64)>, StoreError> {
        dispatch!(self.fleet_rollups(before_hour))
    }

    /// Overwrites rollup rows with a source's (for a snapshot sync).
    pub async fn replace_rollups(
        &self,
        rows: &[HourlyRollup],
        fleet: &[(i64, i64, i64)],
    ) -> Result<(), StoreError> {
        dispatch!(self.replace_rollups(rows.to_vec(), fleet.to_vec()))
    }

    // ---- audit and pushes --------------------------------------------------

    /// Stores audit events (an event already stored is skipped).
    pub async fn record_audit(&self, events: &[AuditEvent]) -> Result<u64, StoreError> {
        dispatch!(self.record_audit(events.to_vec(), self.outbox))
    }

    /// Newest first; `device_id` narrows to one router.
    pub async fn audit_events(
        &self,
        device_id: Option<&str>,
        since_ms: i64,
        limit: u32,
    ) -> Result<Vec<AuditEvent>, StoreError> {
        dispatch!(self.audit_events(device_id, since_ms, limit))
    }

    /// Saves push records; an older update than the stored one is ignored.
    pub async fn save_pushes(&self, pushes: &[PushRecord]) -> Result<u64, StoreError> {
        dispatch!(self.save_pushes(pushes.to_vec(), self.outbox))
    }

    pub async fn push_records(
        &self,
        device_id: Option<&str>,
        limit: u32,
    ) -> Result<Vec<PushRecord>, StoreError> {
        dispatch!(self.push_records(device_id, limit))
    }

    /// The push records of one bulk push, in start order.
    pub async fn batch_pushes(&self, batch_id: &str) -> Result<Vec<PushRecord>, StoreError> {
        dispatch!(self.batch_pushes(batch_id))
    }

    /// Saves a bulk push's state; an older update than the stored one is
    /// ignored. Batches are this store's working state: not queued for
    /// sync (their push records and audit events are).
    pub async fn save_batch(&self, batch: &PushBatch) -> Result<bool, StoreError> {
        dispatch!(self.save_batch(batch.clone()))
    }

    /// Bulk pushes, newest first, optionally only those in `status`.
    pub async fn push_batches(
        &self,
        status: Option<BatchState>,
        limit: u32,
    ) -> Result<Vec<PushBatch>, StoreError> {
        dispatch!(self.push_batches(status, limit))
    }

    // ---- outbox ------------------------------------------------------------

    /// Queued entries and the records they hold.
    pub async fn outbox_size(&self) -> Result<(u64, u64), StoreError> {
        dispatch!(self.outbox_size())
    }

    pub(crate) async fn outbox_peek(&self, limit: u32) -> Result<Vec<OutboxEntry>, StoreError> {
        dispatch!(self.outbox_peek(limit))
    }

    pub(crate) async fn outbox_remove(&self, seq: i64) -> Result<(), StoreError> {
        dispatch!(self.outbox_remove(seq))
    }

    pub(crate) async fn save_site_unqueued(&self, site: &Site) -> Result<bool, StoreError> {
        dispatch!(self.save_site(site, false))
    }

    pub(crate) async fn save_template_unqueued(&self, t: &Template) -> Result<bool, StoreError> {
        dispatch!(self.save_template(t, false))
    }

    pub(crate) async fn save_config_rule_unqueued(
        &self,
        r: &ConfigRuleRecord,
    ) -> Result<bool, StoreError> {
        dispatch!(self.save_config_rule(r, false))
    }

    pub(crate) async fn save_devices_unqueued(
        &self,
        records: Vec<DeviceRecord>,
    ) -> Result<u64, StoreError> {
        dispatch!(self.save_devices(records, false))
    }

    pub(crate) async fn record_audit_unqueued(
        &self,
        events: Vec<AuditEvent>,
    ) -> Result<u64, StoreError> {
        dispatch!(self.record_audit(events, false))
    }

    pub(crate) async fn save_pushes_unqueued(
        &self,
        pushes: Vec<PushRecord>,
    ) -> Result<u64, StoreError> {
        dispatch!(self.save_pushes(pushes, false))
    }

    // ---- dashboards --------------------------------------------------------

    /// Total, online, degraded and offline devices by the age of their
    /// last check-in at `now_ms`.
    pub async fn fleet_summary(
        &self,
        now_ms: i64,
        thresholds: HealthThresholds,
    ) -> Result<FleetSummary, StoreError> {
        dispatch!(self.fleet_summary(now_ms, thresholds))
    }

    /// Devices per RouterOS version (`unknown` before the first check-in),
    /// most common first.
    pub async fn version_distribution(&self) -> Result<Vec<Count<String>>, StoreError> {
        dispatch!(self.version_distribution())
    }

    /// Devices checked in since `since_ms` per CPU-load band of ten
    /// percent: keys 0, 10, …, 90 (90 holds 90–100 %), all ten present.
    pub async fn cpu_distribution(&self, since_ms: i64) -> Result<Vec<Count<u8>>, StoreError> {
        let rows = dispatch!(self.cpu_distribution(since_ms))?;
        Ok((0u8..10)
            .map(|band| Count {
                key: band * 10,
                devices: rows.iter().find(|(b, _)| *b == band).map_or(0, |(_, n)| *n),
            })
            .collect())
    }

    /// The `n` busiest devices checked in since `since_ms`.
    pub async fn top_cpu(&self, since_ms: i64, n: u32) -> Result<Vec<DeviceMetric>, StoreError> {
        dispatch!(self.top_cpu(since_ms, n))
    }

    /// Devices at or above `threshold_pct` memory or storage use, and the
    /// `n` fullest of each.
    pub async fn pressure(
        &self,
        since_ms: i64,
        threshold_pct: f64,
        n: u32,
    ) -> Result<Pressure, StoreError> {
        dispatch!(self.pressure(since_ms, threshold_pct, n))
    }

    /// Check-ins per hour across the fleet, every hour of the window
    /// present (zero where none arrived).
    pub async fn checkins_per_hour(
        &self,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<FleetHour>, StoreError> {
        let rows = dispatch!(self.checkins_per_hour(from_ms, to_ms))?;
        let mut out = Vec::new();
        let mut rows = rows.into_iter().peekable();
        let mut hour = hour_of(from_ms);
        while hour <= to_ms && out.len() < 24 * 366 {
            match rows.peek() {
                Some(r) if r.hour == hour => out.push(rows.next().expect("peeked")),
                _ => out.push(FleetHour {
                    hour,
                    checkins: 0,
                    avg_cpu: 0.0,
                }),
            }
            hour += HOUR_MS;
        }
        Ok(out)
    }

    /// A device's CPU, memory and traffic between two times in at most
    /// about `max_points` buckets: from raw check-ins when the buckets are
    /// shorter than an hour, from the hourly rollups otherwise (and when
    /// the raw rows of an old window were not copied to this store).
    pub async fn device_series(
        &self,
        device_id: &str,
        from_ms: i64,
        to_ms: i64,
        max_points: u32,
    ) -> Result<DeviceSeries, StoreError> {
        let width = ((to_ms - from_ms).max(1) / i64::from(max_points.max(1))).max(1);
        if width < HOUR_MS {
            let points =
                dispatch!(self.device_series(device_id, from_ms, to_ms, width, Resolution::Raw))?;
            if !points.is_empty() {
                return Ok(DeviceSeries {
                    resolution: Resolution::Raw,
                    bucket_ms: width,
                    points,
                });
            }
        }
        let bucket = (width.max(1) + HOUR_MS - 1) / HOUR_MS * HOUR_MS;
        let points =
            dispatch!(self.device_series(device_id, from_ms, to_ms, bucket, Resolution::Hourly))?;
        Ok(DeviceSeries {
            resolution: Resolution::Hourly,
            bucket_ms: bucket,
            points,
        })
    }

    /// Average CPU load of one device in at most `max_points` buckets.
    pub async fn cpu_series(
        &self,
        device_id: &str,
        from_ms: i64,
        to_ms: i64,
        max_points: u32,
    ) -> Result<Vec<SeriesPoint>, StoreError> {
        Ok(self
            .device_series(device_id, from_ms, to_ms, max_points)
            .await?
            .points
            .iter()
            .map(|p| SeriesPoint {
                at: p.at,
                value: p.cpu_load,
            })
            .collect())
    }

    /// Rows per table, in [`TABLES`] order.
    pub async fn stats(&self) -> Result<Vec<(&'static str, u64)>, StoreError> {
        dispatch!(self.stats())
    }
}
