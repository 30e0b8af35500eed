use crate::names::{AuditAction, BatchState, Named, PushState};
use serde::{Deserialize, Serialize};

/// One hour in ms: the resolution of the rollups.
pub const HOUR_MS: i64 = 3_600_000;

/// The start of the hour `at_ms` falls in.
pub fn hour_of(at_ms: i64) -> i64 {
    at_ms.div_euclid(HOUR_MS) * HOUR_MS
}

/// A site: a place routers live, with its own poll cadence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Site {
    /// Stable id (UUIDv7), the same in every store.
    pub id: String,
    pub name: String,
    pub poll_interval_secs: u32,
    /// Last edit, ms since the epoch; the newer edit wins a sync conflict.
    pub updated_at: i64,
}

/// A router to add to the inventory.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewDevice {
    pub host: String,
    pub port: u16,
    pub username: String,
    /// How its API session is secured.
    #[serde(default)]
    pub transport: Transport,
    #[serde(default)]
    pub site_id: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
}

/// How the API session to a router is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
pub enum Transport {
    /// Plain API, TCP 8728.
    #[default]
    Api,
    /// API-SSL with a certificate, pinned by fingerprint.
    ApiSsl,
    /// API-SSL without a certificate (anonymous Diffie-Hellman).
    ApiSslAnonymous,
}

impl Transport {
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Api => "api",
            Transport::ApiSsl => "api-ssl",
            Transport::ApiSslAnonymous => "api-ssl-anonymous",
        }
    }

    /// The port RouterOS's service for this transport listens on by default.
    pub fn default_port(self) -> u16 {
        match self {
            Transport::Api => 8728,
            Transport::ApiSsl | Transport::ApiSslAnonymous => 8729,
        }
    }

    /// The transport a stored or typed name means. A name Fleetdeck does
    /// not know is an error, never plain API: a record from a shared
    /// database that says `tls` or `API-SSL` must not downgrade the router
    /// to a login in clear.
    pub fn parse(s: &str) -> Result<Transport, crate::StoreError> {
        match s {
            "api" => Ok(Transport::Api),
            "api-ssl" => Ok(Transport::ApiSsl),
            "api-ssl-anonymous" => Ok(Transport::ApiSslAnonymous),
            other => Err(crate::StoreError::Option(format!(
                "a router's transport is {other:?}, which Fleetdeck does not know (api, api-ssl or \
                 api-ssl-anonymous); the record is refused rather than reached in clear"
            ))),
        }
    }
}

/// The inventory record of a router: what a sync copies and a conflict is
/// decided on. No live state, no secrets (passwords live in the keyring).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceRecord {
    pub id: String,
    pub site_id: Option<String>,
    pub host: String,
    pub port: u16,
    pub username: String,
    pub transport: Transport,
    /// SHA-256 of the router's certificate, pinned on first use.
    pub tls_fingerprint: Option<String>,
    pub tags: Vec<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A router in the inventory, with its latest known state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct Device {
    /// Stable id (UUIDv7), the same in every store the device is synced to.
    pub id: String,
    pub site_id: Option<String>,
    pub host: String,
    pub port: u16,
    pub username: String,
    pub transport: Transport,
    pub tags: Vec<String>,
    pub identity: Option<String>,
    pub board: Option<String>,
    pub version: Option<String>,
    pub serial: Option<String>,
    pub created_at: i64,
    pub last_checkin_at: Option<i64>,
    #[serde(rename = "cpuLoad")]
    pub last_cpu_load: Option<f64>,
    pub last_polled_at: Option<i64>,
    /// Why the most recent poll failed; cleared by a successful check-in.
    pub last_error: Option<String>,
}

/// One observation of a device. Append-only; identified by the device and
/// the time (ms since the epoch), so a check-in delivered twice is stored
/// once.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct Checkin {
    pub device_id: String,
    pub checked_in_at: i64,
    pub cpu_load: i64,
    pub cpu_count: i64,
    pub free_memory: i64,
    pub total_memory: i64,
    pub free_hdd: i64,
    pub total_hdd: i64,
    pub uptime_secs: i64,
    pub version: String,
    /// Board, identity and serial go to the latest state only; empty means
    /// unknown and keeps what is known.
    pub board_name: String,
    pub identity: String,
    pub serial: Option<String>,
    /// Sums of all interfaces' byte counters at the time of the check-in.
    pub rx_bytes: i64,
    pub tx_bytes: i64,
    /// Traffic rates from counter deltas, bits per second (0: unknown yet).
    pub rx_bps: i64,
    pub tx_bps: i64,
}

impl Checkin {
    /// Memory in use, percent of total (0 when the total is unknown).
    pub fn memory_used_pct(&self) -> f64 {
        used_pct(self.free_memory, self.total_memory)
    }
}

pub(crate) fn used_pct(free: i64, total: i64) -> f64 {
    if total <= 0 {
        0.0
    } else {
        100.0 * (total - free.clamp(0, total)) as f64 / total as f64
    }
}

/// What an ingest did: rows new to this store and rows it already had.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IngestReport {
    pub inserted: u64,
    pub duplicates: u64,
}

/// A RouterOS script template with typed placeholders.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct Template {
    pub id: String,
    pub name: String,
    pub body: String,
    pub updated_at: i64,
}

/// A compliance rule as stored; what it checks (`body`, JSON) and where
/// (`scope`) are fleet-core's to read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfigRuleRecord {
    pub id: String,
    pub name: String,
    pub scope: String,
    pub body: String,
    pub enabled: bool,
    pub updated_at: i64,
}

/// Something a person or Fleetdeck did, kept forever.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct AuditEvent {
    pub id: String,
    pub at: i64,
    pub device_id: Option<String>,
    /// Who: the technician's login on the laptop, or `fleetdeck`.
    pub actor: String,
    /// What: `push.started`, `health.offline`, … (kept as written when a
    /// newer Fleetdeck wrote a name this one does not know).
    pub action: Named<AuditAction>,
    /// Details for a human, JSON or text.
    pub detail: String,
}

/// One version of a router's configuration: when it was taken and from
/// what, and the hash of its normalised text, which is stored once however
/// many versions (of however many routers) share it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct ConfigVersion {
    pub id: String,
    pub device_id: String,
    pub taken_at: i64,
    /// When a backup last found the router still holding this version: a
    /// change found later happened after it.
    pub checked_at: i64,
    /// SHA-256 of the normalised text ([`config_hash`]).
    pub hash: String,
    pub routeros_version: Option<String>,
    pub board: Option<String>,
    pub serial: Option<String>,
    /// The Fleetdeck push that made this change, if one did.
    pub push_id: Option<String>,
    /// Changed outside Fleetdeck since the version before.
    pub drift: bool,
    /// Commands in the text.
    pub line_count: u32,
}

/// A version and its text, as they are copied from one store to another
/// (the outbox queues the version; its text is read when delivered).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigVersionRecord {
    pub version: ConfigVersion,
    pub text: String,
}

/// A line of a router's newest configuration that a search found, with
/// the lines around it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct ConfigHit {
    pub device_id: String,
    /// 1-based.
    pub line_no: u32,
    pub line: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// The content address of a normalised configuration text.
pub fn config_hash(text: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(text.as_bytes()))
}

/// One push of a template to one router, updated as it progresses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct PushRecord {
    pub id: String,
    pub device_id: String,
    pub template_id: Option<String>,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    pub status: Named<PushState>,
    pub summary: String,
    pub updated_at: i64,
    /// The bulk push this record belongs to, if any.
    #[serde(default)]
    pub batch_id: Option<String>,
}

/// A bulk push: which routers, with which options, and how far it got.
/// Kept so that a push cut short (the app closed, the laptop slept) is
/// found again: resumed, or marked interrupted, never a silent half.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PushBatch {
    pub id: String,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    pub status: Named<BatchState>,
    pub actor: String,
    /// The options as JSON (waves, concurrency, failure policy, …).
    pub options: String,
    /// Device ids in push order.
    pub targets: Vec<String>,
    pub summary: String,
    /// Refreshed while the push runs: a running batch whose heartbeat is
    /// old was cut short.
    pub updated_at: i64,
}

/// One point of a chart series: a bucket's start time and its value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SeriesPoint {
    pub at: i64,
    pub value: f64,
}

/// One bucket of a device's series: averages over the bucket.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DevicePoint {
    pub at: i64,
    pub cpu_load: f64,
    pub cpu_max: f64,
    pub memory_used_pct: f64,
    pub rx_bps: f64,
    pub tx_bps: f64,
    pub checkins: u64,
}

/// Which table a series came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum Resolution {
    /// Raw check-ins, bucketed in the database.
    Raw,
    /// Hourly rollups, for windows too long for raw rows.
    Hourly,
}

/// A device's series over a window at a resolution that fits it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceSeries {
    pub resolution: Resolution,
    pub bucket_ms: i64,
    pub points: Vec<DevicePoint>,
}

/// A device's hourly rollup row: what the long-window charts read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HourlyRollup {
    pub device_id: String,
    pub hour: i64,
    pub checkins: i64,
    pub cpu_sum: i64,
    pub cpu_max: i64,
    pub memory_used_pct_sum: f64,
    pub rx_bps_sum: i64,
    pub tx_bps_sum: i64,
}

/// The fleet-wide hourly rollup row.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct FleetHour {
    pub hour: i64,
    pub checkins: u64,
    pub avg_cpu: f64,
}

/// The latest state of a device, as a sync copies it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LatestState {
    pub device_id: String,
    pub checked_in_at: Option<i64>,
    pub cpu_load: Option<i64>,
    pub cpu_count: Option<i64>,
    pub free_memory: Option<i64>,
    pub total_memory: Option<i64>,
    pub free_hdd: Option<i64>,
    pub total_hdd: Option<i64>,
    pub uptime_secs: Option<i64>,
    pub version: Option<String>,
    pub board: Option<String>,
    pub identity: Option<String>,
    pub serial: Option<String>,
    pub rx_bps: Option<i64>,
    pub tx_bps: Option<i64>,
    pub last_polled_at: Option<i64>,
    pub last_error: Option<String>,
    /// Polls failed in a row since the last check-in.
    pub failures: i64,
}

/// When a device counts as degraded or offline, by the age of its last
/// check-in. Documented in the README; the defaults follow a 30 s cadence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HealthThresholds {
    /// Older than this: at least one poll missed.
    pub degraded_after_ms: i64,
    /// Older than this: three polls missed.
    pub offline_after_ms: i64,
}

impl HealthThresholds {
    /// Degraded after one missed poll (1.5 intervals), offline after three
    /// (3.5 intervals).
    pub fn for_interval_secs(secs: u32) -> Self {
        let i = i64::from(secs.max(1)) * 1000;
        Self {
            degraded_after_ms: i * 3 / 2,
            offline_after_ms: i * 7 / 2,
        }
    }
}

impl HealthThresholds {
    /// A router's state by the age of its last check-in at `now_ms`: the
    /// one rule the router list, the detail and the overview's counts
    /// (whose SQL compares against the same cut-offs) all show.
    pub fn state(&self, last_checkin_at: Option<i64>, now_ms: i64) -> RouterState {
        match last_checkin_at {
            None => RouterState::NeverSeen,
            Some(at) if at >= now_ms - self.degraded_after_ms => RouterState::Online,
            Some(at) if at >= now_ms - self.offline_after_ms => RouterState::Degraded,
            Some(_) => RouterState::Offline,
        }
    }
}

/// Where a router stands. The overview counts `never-seen` routers among
/// the offline ones (and says how many of them never checked in).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
pub enum RouterState {
    Online,
    /// A poll missed: the last check-in is older than 1.5 intervals.
    Degraded,
    /// Three polls missed: older than 3.5 intervals.
    Offline,
    /// Never checked in.
    NeverSeen,
}

impl Default for HealthThresholds {
    fn default() -> Self {
        Self::for_interval_secs(30)
    }
}

/// Counts by state: what the top of the fleet overview shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct FleetSummary {
    pub total: u64,
    pub online: u64,
    pub degraded: u64,
    pub offline: u64,
    /// Offline devices that never checked in.
    pub never_seen: u64,
}

/// A count per value (RouterOS version, CPU band).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Count<K> {
    pub key: K,
    pub devices: u64,
}

/// One device and one metric, for top-N lists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct DeviceMetric {
    pub device_id: String,
    /// Identity when known, else `host:port`.
    pub name: String,
    pub value: f64,
    pub checked_in_at: Option<i64>,
}

/// Memory and storage pressure across the fleet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct Pressure {
    /// Devices using at least `threshold_pct` of their memory.
    pub memory_high: u64,
    /// Devices using at least `threshold_pct` of their storage.
    pub storage_high: u64,
    pub threshold_pct: f64,
    pub top_memory: Vec<DeviceMetric>,
    pub top_storage: Vec<DeviceMetric>,
}

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

/// A new stable id: UUIDv7, time-ordered, unique across laptops.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn router_state_ages_by_missed_polls() {
        // A 60-s poll interval, judged at T.
        const T: i64 = 1_700_000_000_000;
        let t = HealthThresholds::for_interval_secs(60);
        assert_eq!(t.state(None, T), RouterState::NeverSeen);
        assert_eq!(t.state(Some(T - 5_000), T), RouterState::Online);
        assert_eq!(t.state(Some(0), 0), RouterState::Online);
        assert_eq!(t.state(Some(T - 90_000), T), RouterState::Online);
        assert_eq!(t.state(Some(T - 90_001), T), RouterState::Degraded);
        assert_eq!(t.state(Some(T - 210_000), T), RouterState::Degraded);
        assert_eq!(t.state(Some(T - 210_001), T), RouterState::Offline);
        // The same check-in is fresh again for a 10-minute interval.
        let slow = HealthThresholds::for_interval_secs(600);
        assert_eq!(slow.state(Some(T - 210_001), T), RouterState::Online);
        assert_eq!(
            serde_json::to_string(&RouterState::NeverSeen).unwrap(),
            "\"never-seen\""
        );
    }
}
