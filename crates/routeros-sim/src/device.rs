//! One simulated router and the replies it gives.

use std::{
    sync::Mutex,
    time::{Instant, SystemTime, UNIX_EPOCH},
};

use routeros_proto::{value::format_duration, Sentence};

const BOARDS: &[(&str, &str, u32, u64)] = &[
    // board name, architecture, cpu count, total memory (bytes)
    ("hAP ac^2", "arm", 4, 128 << 20),
    ("RB4011iGS+", "arm", 4, 1 << 30),
    ("CCR2004-16G-2S+", "arm64", 4, 4 << 30),
    ("hEX", "mmips", 2, 256 << 20),
    ("CRS326-24G-2S+", "arm", 1, 512 << 20),
];

/// A simulated router's identity and live counters.
#[derive(Debug)]
pub struct Device {
    index: usize,
    identity: Mutex<String>,
    version: String,
    serial: String,
    started: Instant,
    uptime_offset: u64,
}

/// A row of `name=value` attributes, rendered into `!re` words.
pub(crate) type Attrs = Vec<(&'static str, String)>;

impl Device {
    pub fn new(index: usize, version: &str) -> Self {
        Self {
            index,
            identity: Mutex::new(format!("sim-router-{index:04}")),
            version: version.to_owned(),
            serial: format!("HG{:08X}", 0x5A00_0000u32.wrapping_add(index as u32 * 7919)),
            started: Instant::now(),
            uptime_offset: 3600 + (index as u64 * 7_307) % 2_000_000,
        }
    }

    pub fn index(&self) -> usize {
        self.index
    }

    pub fn identity(&self) -> String {
        self.identity.lock().expect("identity lock").clone()
    }

    pub fn set_identity(&self, name: &str) {
        *self.identity.lock().expect("identity lock") = name.to_owned();
    }

    fn board(&self) -> (&'static str, &'static str, u32, u64) {
        BOARDS[self.index % BOARDS.len()]
    }

    pub fn uptime_secs(&self) -> u64 {
        self.uptime_offset + self.started.elapsed().as_secs()
    }

    fn wall_secs() -> f64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or_default()
    }

    /// CPU load in percent: a per-router base, a slow wave and a little
    /// noise that changes every second.
    pub fn cpu_load(&self) -> u64 {
        let t = Self::wall_secs();
        let base = 8.0 + (self.index % 7) as f64 * 6.0;
        let wave = 18.0 * ((t / 90.0) + self.index as f64).sin();
        let noise = (mix(self.index as u64, t as u64) % 11) as f64 - 5.0;
        (base + wave + noise).clamp(0.0, 100.0).round() as u64
    }

    fn free_memory(&self) -> u64 {
        let total = self.board().3;
        let used_frac = 0.35 + 0.1 * ((Self::wall_secs() / 300.0) + self.index as f64).sin();
        (total as f64 * (1.0 - used_frac)) as u64
    }

    /// Bytes received and sent on interface `n` so far: a steady rate per
    /// interface, so counters only grow while the router is up.
    fn counters(&self, n: usize) -> (u64, u64) {
        let up = self.started.elapsed().as_secs_f64() + self.uptime_offset as f64;
        let rate = 12_500.0 * (1 + (self.index + n) % 9) as f64;
        ((up * rate) as u64, (up * rate * 0.42) as u64)
    }

    pub(crate) fn resource(&self) -> Attrs {
        let (board, arch, cpus, total_mem) = self.board();
        vec![
            ("uptime", format_duration(self.uptime_secs())),
            ("version", format!("{} (stable)", self.version)),
            ("build-time", "2024-09-20 13:00:27".into()),
            ("factory-software", "6.44.6".into()),
            ("free-memory", self.free_memory().to_string()),
            ("total-memory", total_mem.to_string()),
            (
                "cpu",
                if arch == "mmips" {
                    "MIPS 1004Kc V2.15"
                } else {
                    "ARM"
                }
                .into(),
            ),
            ("cpu-count", cpus.to_string()),
            ("cpu-frequency", "880".into()),
            ("cpu-load", self.cpu_load().to_string()),
            (
                "free-hdd-space",
                (9_437_184 + (self.index as u64 % 5) * 1_048_576).to_string(),
            ),
            ("total-hdd-space", "16777216".into()),
            ("write-sect-since-reboot", "1312".into()),
            ("write-sect-total", "48213".into()),
            ("architecture-name", arch.into()),
            ("board-name", board.into()),
            ("platform", "MikroTik".into()),
        ]
    }

    pub(crate) fn routerboard(&self) -> Attrs {
        let (board, ..) = self.board();
        vec![
            ("routerboard", "true".into()),
            ("board-name", board.into()),
            ("model", board.into()),
            ("serial-number", self.serial.clone()),
            ("firmware-type", "ipq4000L".into()),
            ("factory-firmware", "6.44.6".into()),
            ("current-firmware", self.version.clone()),
            ("upgrade-firmware", self.version.clone()),
        ]
    }

    pub(crate) fn interfaces(&self) -> Vec<Attrs> {
        (0..5)
            .map(|n| {
                let (rx, tx) = self.counters(n);
                let mac = format!(
                    "48:8F:5A:{:02X}:{:02X}:{:02X}",
                    (self.index >> 8) & 0xFF,
                    self.index & 0xFF,
                    n + 1
                );
                vec![
                    (".id", format!("*{:X}", n + 1)),
                    ("name", format!("ether{}", n + 1)),
                    ("default-name", format!("ether{}", n + 1)),
                    ("type", "ether".into()),
                    ("mtu", "1500".into()),
                    ("actual-mtu", "1500".into()),
                    ("l2mtu", "1598".into()),
                    ("mac-address", mac),
                    ("rx-byte", rx.to_string()),
                    ("tx-byte", tx.to_string()),
                    ("rx-packet", (rx / 800).to_string()),
                    ("tx-packet", (tx / 700).to_string()),
                    ("rx-drop", "0".into()),
                    ("tx-drop", "0".into()),
                    ("tx-queue-drop", "0".into()),
                    ("rx-error", "0".into()),
                    ("tx-error", "0".into()),
                    ("fp-rx-byte", (rx / 3).to_string()),
                    ("fp-tx-byte", (tx / 3).to_string()),
                    ("link-downs", "0".into()),
                    ("running", if n < 3 { "true" } else { "false" }.into()),
                    ("disabled", "false".into()),
                ]
            })
            .collect()
    }
}

/// A cheap deterministic hash for noise.
fn mix(a: u64, b: u64) -> u64 {
    let mut x = a.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ b.wrapping_mul(0xC2B2_AE3D_27D4_EB4F);
    x ^= x >> 31;
    x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^ (x >> 29)
}

/// Renders a row as an `!re` sentence, honouring `.proplist` when given.
pub(crate) fn row_sentence(attrs: &Attrs, proplist: Option<&[String]>) -> Sentence {
    let mut s = Sentence::new();
    s.push("!re");
    match proplist {
        Some(props) => {
            for p in props {
                if let Some((k, v)) = attrs.iter().find(|(k, _)| k == p) {
                    s.push(format!("={k}={v}"));
                }
            }
        }
        None => {
            for (k, v) in attrs {
                s.push(format!("={k}={v}"));
            }
        }
    }
    s
}
