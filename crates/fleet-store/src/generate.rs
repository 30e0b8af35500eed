//! A realistic synthetic fleet for benchmarks and demos: sites, routers
//! with RouterOS versions and boards in field proportions, and check-ins
//! with a diurnal load curve, memory drift, reboots and traffic.
//!
//! Deterministic for a seed: the same options give the same ids and rows,
//! so a re-run adds nothing twice.

use serde::Serialize;

use crate::{
    model::{Checkin, DeviceRecord, Site, Transport},
    FleetStore, StoreError,
};

#[derive(Debug, Clone)]
pub struct GenerateOptions {
    pub devices: u32,
    pub checkins_per_device: u32,
    /// Time between two check-ins of a router.
    pub interval_secs: u32,
    /// Time of the newest check-in, ms since the epoch.
    pub end_ms: i64,
    pub devices_per_site: u32,
    pub seed: u64,
}

impl Default for GenerateOptions {
    fn default() -> Self {
        Self {
            devices: 100,
            checkins_per_device: 100,
            interval_secs: 300,
            end_ms: crate::model::now_ms(),
            devices_per_site: 50,
            seed: 1,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GenerateReport {
    pub sites: u64,
    pub devices: u64,
    pub checkins: u64,
    pub seconds: f64,
    pub rows_per_second: f64,
}

/// SplitMix64: small, fast, good enough for synthetic data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo + 1) as u64) as i64
    }

    fn pick<'a, T>(&mut self, weighted: &'a [(T, u32)]) -> &'a T {
        let total: u32 = weighted.iter().map(|w| w.1).sum();
        let mut x = (self.next() % u64::from(total)) as u32;
        for (v, w) in weighted {
            if x < *w {
                return v;
            }
            x -= w;
        }
        &weighted[0].0
    }
}

const VERSIONS: &[(&str, u32)] = &[
    ("7.16.2 (stable)", 38),
    ("7.15.3 (stable)", 22),
    ("7.14.3 (stable)", 12),
    ("7.17 (stable)", 10),
    ("6.49.17 (long-term)", 13),
    ("6.48.6 (long-term)", 5),
];

/// Board, memory, storage.
const BOARDS: &[((&str, i64, i64), u32)] = &[
    (("RB4011iGS+", 1 << 30, 512 << 20), 20),
    (("hAP ac^2", 128 << 20, 16 << 20), 25),
    (("CCR2004-16G-2S+", 4 << 30, 128 << 20), 10),
    (("hEX S", 256 << 20, 16 << 20), 20),
    (("RB5009UG+S+", 1 << 30, 1 << 30), 15),
    (("CRS326-24G-2S+", 512 << 20, 16 << 20), 10),
];

const TAGS: &[&str] = &["core", "access", "backhaul", "customer", "lte", "wifi"];

/// Deterministic UUID-shaped id for the seed, kind and index.
fn stable_id(seed: u64, kind: u8, index: u64) -> String {
    let mut hi = Rng(seed ^ (u64::from(kind) << 56) ^ index.wrapping_mul(0x2545_F491_4F6C_DD1D));
    let v = (u128::from(hi.next()) << 64) | u128::from(hi.next());
    // Version 8 (custom), RFC 4122 variant.
    let v = (v & !(0xF << 76)) | (0x8 << 76);
    let v = (v & !(0x3 << 62)) | (0x2 << 62);
    uuid::Uuid::from_u128(v).to_string()
}

/// Fills `store` with a synthetic fleet, check-ins written device by
/// device in batches (not queued for sync). `progress` gets the number of
/// check-ins written so far.
pub async fn generate(
    store: &FleetStore,
    opts: &GenerateOptions,
    mut progress: impl FnMut(u64),
) -> Result<GenerateReport, StoreError> {
    let started = std::time::Instant::now();
    let per_site = opts.devices_per_site.max(1);
    let site_count = opts.devices.div_ceil(per_site);
    let mut sites = Vec::new();
    for s in 0..site_count {
        let site = Site {
            id: stable_id(opts.seed, 1, u64::from(s)),
            name: format!("site-{:04}", s + 1),
            poll_interval_secs: opts.interval_secs,
            updated_at: opts.end_ms,
        };
        store.save_site_unqueued(&site).await?;
        sites.push(site);
    }
    let mut rng = Rng(opts.seed);
    let mut records = Vec::new();
    for i in 0..opts.devices {
        let n = i + 1;
        let mut tags = vec![TAGS[(rng.next() % TAGS.len() as u64) as usize].to_owned()];
        if rng.unit() < 0.3 {
            tags.push(TAGS[(rng.next() % TAGS.len() as u64) as usize].to_owned());
        }
        records.push(DeviceRecord {
            id: stable_id(opts.seed, 2, u64::from(i)),
            site_id: sites.get((i / per_site) as usize).map(|s| s.id.clone()),
            host: format!("10.{}.{}.{}", (n >> 16) & 0xFF, (n >> 8) & 0xFF, n & 0xFF),
            port: 8728,
            username: "fleetdeck".into(),
            transport: Transport::Api,
            tls_fingerprint: None,
            tags,
            created_at: opts.end_ms
                - i64::from(opts.checkins_per_device) * i64::from(opts.interval_secs) * 1000,
            updated_at: opts.end_ms,
        });
    }
    for chunk in records.chunks(1000) {
        store.save_devices_unqueued(chunk.to_vec()).await?;
    }

    let interval_ms = i64::from(opts.interval_secs.max(1)) * 1000;
    let m = i64::from(opts.checkins_per_device);
    let mut batch: Vec<Checkin> = Vec::with_capacity(20_000);
    let mut written = 0u64;
    for (i, d) in records.iter().enumerate() {
        let site = (i as u32 / per_site) as usize;
        let version = rng.pick(VERSIONS).to_string();
        let (board, memory, storage) = *rng.pick(BOARDS);
        // One router in twenty runs hot: the busiest list has something to say.
        let cpu_base = if rng.next().is_multiple_of(20) {
            rng.range(55, 80)
        } else {
            rng.range(3, 35)
        } as f64;
        let cpu_swing = rng.range(5, 45) as f64;
        let mem_base = 0.25 + 0.45 * rng.unit();
        let hdd_used = 0.2 + 0.78 * rng.unit();
        let traffic = rng.range(1, 400) as f64 * 1e6;
        let mut uptime = rng.range(3_600, 60 * 86_400);
        let (mut rx, mut tx) = (rng.next() >> 24, rng.next() >> 26);
        let identity = format!("site-{:04}-rtr-{}", site + 1, i + 1);
        let serial = format!("HG{:08X}", rng.next() as u32);
        for j in 0..m {
            let at = opts.end_ms - (m - 1 - j) * interval_ms - rng.range(0, 1500);
            let hour = (at.rem_euclid(86_400_000)) as f64 / 3_600_000.0;
            // Busiest at 14:00, quietest at 02:00.
            let diurnal = 0.5 + 0.5 * ((hour - 8.0) / 24.0 * std::f64::consts::TAU).sin();
            let cpu = (cpu_base + cpu_swing * diurnal + 8.0 * (rng.unit() - 0.5)).clamp(0.0, 100.0)
                as i64;
            let mem_used = (mem_base + 0.15 * diurnal + 0.05 * rng.unit()).min(0.99);
            if rng.next().is_multiple_of(4_000) {
                uptime = rng.range(30, 300); // a reboot
            } else {
                uptime += i64::from(opts.interval_secs);
            }
            let rx_bps = (traffic * (0.2 + diurnal) * (0.8 + 0.4 * rng.unit())) as i64;
            let tx_bps = rx_bps / 4;
            rx = rx.wrapping_add((rx_bps as u64 / 8) * u64::from(opts.interval_secs));
            tx = tx.wrapping_add((tx_bps as u64 / 8) * u64::from(opts.interval_secs));
            batch.push(Checkin {
                device_id: d.id.clone(),
                checked_in_at: at,
                cpu_load: cpu,
                cpu_count: if memory >= 1 << 30 { 4 } else { 1 },
                free_memory: (memory as f64 * (1.0 - mem_used)) as i64,
                total_memory: memory,
                free_hdd: (storage as f64 * (1.0 - hdd_used)) as i64,
                total_hdd: storage,
                uptime_secs: uptime,
                version: version.clone(),
                board_name: if j == m - 1 {
                    board.into()
                } else {
                    String::new()
                },
                identity: if j == m - 1 {
                    identity.clone()
                } else {
                    String::new()
                },
                serial: (j == m - 1).then(|| serial.clone()),
                rx_bytes: (rx & (i64::MAX as u64)) as i64,
                tx_bytes: (tx & (i64::MAX as u64)) as i64,
                rx_bps,
                tx_bps,
            });
        }
        if batch.len() >= 20_000 || i + 1 == records.len() {
            written += store
                .ingest(std::mem::take(&mut batch), false)
                .await?
                .inserted;
            progress(written);
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    Ok(GenerateReport {
        sites: sites.len() as u64,
        devices: records.len() as u64,
        checkins: written,
        seconds,
        rows_per_second: written as f64 / seconds.max(1e-9),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_and_distinct() {
        assert_eq!(stable_id(1, 2, 3), stable_id(1, 2, 3));
        assert_ne!(stable_id(1, 2, 3), stable_id(1, 2, 4));
        assert_ne!(stable_id(1, 1, 3), stable_id(1, 2, 3));
        let id: uuid::Uuid = stable_id(7, 2, 0).parse().unwrap();
        assert_eq!(id.get_version_num(), 8);
    }

    #[test]
    fn weighted_pick_follows_weights() {
        let mut rng = Rng(42);
        let mut lts = 0;
        for _ in 0..10_000 {
            if rng.pick(VERSIONS).starts_with("6.") {
                lts += 1;
            }
        }
        // 18 % of the weight: allow sampling noise.
        assert!((1_500..2_100).contains(&lts), "{lts}");
    }
}
