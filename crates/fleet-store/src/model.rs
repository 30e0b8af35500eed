use serde::{Deserialize, Serialize};

/// A router to add to the inventory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewDevice {
    pub host: String,
    pub port: u16,
    pub username: String,
}

/// A router in the inventory, with its latest known state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Device {
    /// Stable id (UUIDv7), the same in every store the device is synced to.
    pub id: String,
    pub host: String,
    pub port: u16,
    pub username: String,
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

/// One observation of a device. Append-only. Times are ms since the epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Checkin {
    pub id: String,
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
    pub board_name: String,
    pub identity: String,
    pub serial: Option<String>,
    /// Sums of all interfaces' byte counters at the time of the check-in.
    pub rx_bytes: i64,
    pub tx_bytes: i64,
}

/// One point of a chart series: a bucket's start time and its value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SeriesPoint {
    pub at: i64,
    pub value: f64,
}

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

pub(crate) fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}
