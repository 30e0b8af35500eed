//! What one batch of new check-ins adds to the rollups and the latest
//! state, computed once in Rust and written by either backend in the same
//! transaction as the check-ins.

use std::collections::BTreeMap;

use crate::model::{hour_of, Checkin};

/// One device-hour's sums.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct HourAgg {
    pub checkins: i64,
    pub cpu_sum: i64,
    pub cpu_max: i64,
    pub memory_used_pct_sum: f64,
    pub rx_bps_sum: i64,
    pub tx_bps_sum: i64,
}

/// Sorted maps, so every writer touches rows in the same order (no
/// deadlocks between two writers on MySQL).
#[derive(Debug, Default)]
pub(crate) struct Aggregates<'a> {
    pub hourly: BTreeMap<(&'a str, i64), HourAgg>,
    /// hour → (check-ins, CPU sum).
    pub fleet: BTreeMap<i64, (i64, i64)>,
    /// The newest check-in per device in the batch.
    pub latest: BTreeMap<&'a str, &'a Checkin>,
}

impl<'a> Aggregates<'a> {
    /// Adds a check-in that is new to the store.
    pub fn add(&mut self, k: &'a Checkin) {
        let hour = hour_of(k.checked_in_at);
        let h = self.hourly.entry((k.device_id.as_str(), hour)).or_default();
        h.checkins += 1;
        h.cpu_sum += k.cpu_load;
        h.cpu_max = h.cpu_max.max(k.cpu_load);
        h.memory_used_pct_sum += k.memory_used_pct();
        h.rx_bps_sum += k.rx_bps;
        h.tx_bps_sum += k.tx_bps;
        let f = self.fleet.entry(hour).or_default();
        f.0 += 1;
        f.1 += k.cpu_load;
        let newest = self.latest.entry(k.device_id.as_str()).or_insert(k);
        if k.checked_in_at > newest.checked_in_at {
            *newest = k;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::HOUR_MS;

    #[test]
    fn sums_per_device_hour_and_keeps_the_newest() {
        let k = |dev: &str, at: i64, cpu: i64| Checkin {
            device_id: dev.into(),
            checked_in_at: at,
            cpu_load: cpu,
            free_memory: 25,
            total_memory: 100,
            rx_bps: 10,
            ..Checkin::default()
        };
        let rows = [
            k("a", 10, 5),
            k("a", HOUR_MS - 1, 15),
            k("a", HOUR_MS, 50),
            k("b", 20, 7),
        ];
        let mut agg = Aggregates::default();
        rows.iter().for_each(|r| agg.add(r));
        let a0 = &agg.hourly[&("a", 0)];
        assert_eq!((a0.checkins, a0.cpu_sum, a0.cpu_max), (2, 20, 15));
        assert_eq!(a0.memory_used_pct_sum, 150.0);
        assert_eq!(a0.rx_bps_sum, 20);
        assert_eq!(agg.hourly[&("a", HOUR_MS)].cpu_max, 50);
        assert_eq!(agg.fleet[&0], (3, 27));
        assert_eq!(agg.fleet[&HOUR_MS], (1, 50));
        assert_eq!(agg.latest["a"].checked_in_at, HOUR_MS);
        assert_eq!(agg.latest["b"].cpu_load, 7);
    }
}
