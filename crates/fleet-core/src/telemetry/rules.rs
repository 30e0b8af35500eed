//! Telemetry's rules as plain functions from readings to decisions: health
//! from missed polls, which health changes are worth an event, reconnect
//! backoff, traffic rates from counters, and alerts. The engine feeds them
//! and stores what they decide; they are tested here without a socket.

use std::{collections::HashMap, time::Duration};

use fleet_store::{AuditAction, Checkin};

use super::{AlertRules, Health};
use crate::poll;

/// What the engine remembers of a router's previous check-in.
pub(crate) struct Previous {
    pub at: i64,
    pub uptime_secs: i64,
    /// Byte counters per interface: (rx, tx).
    pub counters: HashMap<String, (u64, u64)>,
}

/// Health after `misses` polls in a row without a check-in.
pub(crate) fn health_after(misses: u32, missed_for_offline: u32) -> Health {
    match misses {
        0 => Health::Online,
        m if m >= missed_for_offline => Health::Offline,
        _ => Health::Degraded,
    }
}

/// The audit action a change of health is recorded as, if any: the first
/// poll of a session sets the baseline quietly unless it failed, and an
/// offline router that answers a poll late is not "degraded" news.
pub(crate) fn health_change(from: Health, to: Health) -> Option<AuditAction> {
    match (from, to) {
        (a, b) if a == b => None,
        (Health::Unknown, Health::Online) => None,
        (_, Health::Online) => Some(AuditAction::HealthOnline),
        (Health::Offline, Health::Degraded) => None,
        (_, Health::Degraded) => Some(AuditAction::HealthDegraded),
        (_, Health::Offline) => Some(AuditAction::HealthOffline),
        (_, Health::Unknown) => None,
    }
}

/// How long to wait before reconnecting after `failures` in a row:
/// doubling from `min`, at most `max` (the engine adds jitter).
pub(crate) fn backoff(failures: u32, min: Duration, max: Duration) -> Duration {
    let exp = failures.saturating_sub(1).min(16);
    min.saturating_mul(1u32 << exp).min(max)
}

/// Traffic rates from counter deltas per interface. A counter that went
/// backwards was reset (reboot, `reset-counters`): that interface adds
/// nothing this time rather than negative traffic.
pub(crate) fn apply_rates(
    checkin: &mut Checkin,
    interfaces: &[poll::InterfaceCounters],
    previous: Option<&Previous>,
) {
    let Some(prev) = previous else { return };
    let secs = (checkin.checked_in_at - prev.at) as f64 / 1000.0;
    if secs <= 0.0 {
        return;
    }
    let (mut rx, mut tx) = (0u64, 0u64);
    for i in interfaces {
        if let Some(&(prx, ptx)) = prev.counters.get(&i.name) {
            if i.rx_bytes >= prx {
                rx += i.rx_bytes - prx;
            }
            if i.tx_bytes >= ptx {
                tx += i.tx_bytes - ptx;
            }
        }
    }
    checkin.rx_bps = (rx as f64 * 8.0 / secs) as i64;
    checkin.tx_bps = (tx as f64 * 8.0 / secs) as i64;
}

/// `7.16.2 (stable)` → [7, 16, 2].
pub(crate) fn version_parts(v: &str) -> Vec<u32> {
    v.split_whitespace()
        .next()
        .unwrap_or("")
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|p| p.parse().ok())
        .collect()
}

/// What alerting remembers of a router between check-ins.
#[derive(Default)]
pub(crate) struct AlertState {
    cpu_high_since: Option<i64>,
    /// Whether each alert's condition held at the last check-in.
    alerted: HashMap<AuditAction, bool>,
}

/// The alerts check-in `k` of the router at `addr` raises, as (action,
/// detail). Edge-triggered: an alert fires when its condition starts, once,
/// and again only after it cleared. CPU counts as high once it stayed at
/// or above the threshold for `cpu_high_for`. A smaller uptime than the
/// previous check-in's is a reboot.
pub(crate) fn alerts(
    rules: &AlertRules,
    state: &mut AlertState,
    previous: Option<&Previous>,
    k: &Checkin,
    addr: &str,
) -> Vec<(AuditAction, String)> {
    let mut raised = Vec::new();
    if let Some(prev) = previous {
        if k.uptime_secs < prev.uptime_secs {
            raised.push((
                AuditAction::AlertRebooted,
                format!(
                    "{addr} rebooted: uptime {} s, was {} s",
                    k.uptime_secs, prev.uptime_secs
                ),
            ));
        }
    }
    let cpu_fires = if k.cpu_load >= rules.cpu_high_pct {
        let since = *state.cpu_high_since.get_or_insert(k.checked_in_at);
        k.checked_in_at - since >= rules.cpu_high_for.as_millis() as i64
    } else {
        state.cpu_high_since = None;
        false
    };
    let free_mem = 100.0 - k.memory_used_pct();
    let free_hdd = if k.total_hdd > 0 {
        100.0 * k.free_hdd as f64 / k.total_hdd as f64
    } else {
        100.0
    };
    let behind = rules
        .target_version
        .as_deref()
        .filter(|t| !k.version.is_empty() && version_parts(&k.version) < version_parts(t));
    let checks = [
        (
            AuditAction::AlertCpuHigh,
            cpu_fires,
            format!(
                "CPU load {} % for at least {} s (threshold {} %)",
                k.cpu_load,
                rules.cpu_high_for.as_secs(),
                rules.cpu_high_pct
            ),
        ),
        (
            AuditAction::AlertMemoryLow,
            free_mem < rules.memory_low_free_pct,
            format!(
                "{free_mem:.1} % memory free (threshold {} %)",
                rules.memory_low_free_pct
            ),
        ),
        (
            AuditAction::AlertStorageLow,
            free_hdd < rules.storage_low_free_pct,
            format!(
                "{free_hdd:.1} % storage free (threshold {} %)",
                rules.storage_low_free_pct
            ),
        ),
        (
            AuditAction::AlertFirmwareBehind,
            behind.is_some(),
            format!(
                "RouterOS {} is behind the fleet's target {}",
                k.version,
                behind.unwrap_or_default()
            ),
        ),
    ];
    for (action, firing, detail) in checks {
        let was = state.alerted.insert(action, firing).unwrap_or(false);
        if firing && !was {
            raised.push((action, format!("{addr}: {detail}")));
        }
    }
    raised
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_come_from_deltas_and_a_reset_is_not_negative() {
        let prev = Previous {
            at: 0,
            uptime_secs: 100,
            counters: [
                ("ether1".to_string(), (1_000, 500)),
                ("ether2".to_string(), (9_000, 9_000)),
            ]
            .into_iter()
            .collect(),
        };
        let mut k = Checkin {
            checked_in_at: 10_000,
            ..Checkin::default()
        };
        let now = [
            poll::InterfaceCounters {
                name: "ether1".into(),
                rx_bytes: 11_000,
                tx_bytes: 3_000,
            },
            // Reset: went backwards.
            poll::InterfaceCounters {
                name: "ether2".into(),
                rx_bytes: 10,
                tx_bytes: 10,
            },
            // New interface: no baseline yet.
            poll::InterfaceCounters {
                name: "wlan1".into(),
                rx_bytes: 5_000_000,
                tx_bytes: 0,
            },
        ];
        apply_rates(&mut k, &now, Some(&prev));
        assert_eq!(k.rx_bps, 10_000 * 8 / 10);
        assert_eq!(k.tx_bps, 2_500 * 8 / 10);
        let mut first = Checkin::default();
        apply_rates(&mut first, &now, None);
        assert_eq!((first.rx_bps, first.tx_bps), (0, 0));
    }

    #[test]
    fn versions_compare_numerically() {
        assert!(version_parts("7.9.2 (stable)") < version_parts("7.16"));
        assert!(version_parts("6.49.17 (long-term)") < version_parts("7.1"));
        assert!(version_parts("7.16.2") >= version_parts("7.16.2"));
    }

    #[test]
    fn health_follows_missed_polls_and_only_news_is_recorded() {
        assert_eq!(health_after(0, 3), Health::Online);
        assert_eq!(health_after(1, 3), Health::Degraded);
        assert_eq!(health_after(2, 3), Health::Degraded);
        assert_eq!(health_after(3, 3), Health::Offline);
        assert_eq!(health_after(9, 3), Health::Offline);
        use Health::*;
        assert_eq!(health_change(Unknown, Online), None, "a quiet baseline");
        assert_eq!(
            health_change(Unknown, Degraded),
            Some(AuditAction::HealthDegraded)
        );
        assert_eq!(
            health_change(Online, Degraded),
            Some(AuditAction::HealthDegraded)
        );
        assert_eq!(health_change(Degraded, Degraded), None);
        assert_eq!(
            health_change(Degraded, Offline),
            Some(AuditAction::HealthOffline)
        );
        assert_eq!(health_change(Offline, Degraded), None);
        assert_eq!(
            health_change(Offline, Online),
            Some(AuditAction::HealthOnline)
        );
    }

    #[test]
    fn backoff_doubles_up_to_its_cap() {
        let (min, max) = (Duration::from_secs(1), Duration::from_secs(60));
        let waits: Vec<u64> = (1..=9).map(|f| backoff(f, min, max).as_secs()).collect();
        assert_eq!(waits, vec![1, 2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(backoff(u32::MAX, min, max), max);
    }

    fn reading(at: i64, cpu: i64, uptime: i64) -> Checkin {
        Checkin {
            checked_in_at: at,
            cpu_load: cpu,
            uptime_secs: uptime,
            free_memory: 500,
            total_memory: 1000,
            free_hdd: 500,
            total_hdd: 1000,
            version: "7.16.2 (stable)".into(),
            ..Checkin::default()
        }
    }

    #[test]
    fn alerts_fire_once_when_a_condition_starts() {
        let rules = AlertRules {
            cpu_high_pct: 90,
            cpu_high_for: Duration::from_secs(60),
            target_version: Some("7.18".into()),
            ..AlertRules::default()
        };
        let mut state = AlertState::default();
        let actions =
            |v: Vec<(AuditAction, String)>| v.into_iter().map(|(a, _)| a).collect::<Vec<_>>();
        // Behind the target: fires once, not on every check-in.
        let first = alerts(&rules, &mut state, None, &reading(0, 95, 100), "r1");
        assert_eq!(actions(first), vec![AuditAction::AlertFirmwareBehind]);
        // CPU high for 30 s: not yet; for 60 s: fires; still high: silent.
        assert!(alerts(&rules, &mut state, None, &reading(30_000, 95, 130), "r1").is_empty());
        let high = alerts(&rules, &mut state, None, &reading(60_000, 97, 160), "r1");
        assert_eq!(high.len(), 1);
        assert_eq!(high[0].0, AuditAction::AlertCpuHigh);
        assert!(high[0].1.starts_with("r1: CPU load 97 %"), "{}", high[0].1);
        assert!(alerts(&rules, &mut state, None, &reading(90_000, 99, 190), "r1").is_empty());
        // It cleared, then came back: a new high period starts from zero.
        assert!(alerts(&rules, &mut state, None, &reading(120_000, 10, 220), "r1").is_empty());
        assert!(alerts(&rules, &mut state, None, &reading(150_000, 95, 250), "r1").is_empty());
        // A smaller uptime than before is a reboot.
        let prev = Previous {
            at: 150_000,
            uptime_secs: 250,
            counters: HashMap::new(),
        };
        let rebooted = alerts(
            &rules,
            &mut state,
            Some(&prev),
            &reading(180_000, 5, 20),
            "r1",
        );
        assert_eq!(actions(rebooted), vec![AuditAction::AlertRebooted]);
    }
}
