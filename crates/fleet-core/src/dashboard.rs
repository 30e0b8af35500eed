//! The fleet overview: what the dashboard and `store dashboard` show, read
//! in one place, with its charts as themed SVG and each chart's data as
//! CSV.

use std::time::Duration;

use fleet_store::{Count, DeviceMetric, FleetHour, FleetStore, FleetSummary, Pressure};
use serde::Serialize;

use crate::{
    chart::{self, Theme},
    FleetError,
};

/// Memory or storage use at or above this is "under pressure".
pub const PRESSURE_PCT: f64 = 90.0;

/// The fleet at a glance.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct FleetOverview {
    /// When it was read (ms since the epoch): the UI says "as of".
    pub at: i64,
    pub summary: FleetSummary,
    pub versions: Vec<Count<String>>,
    /// Routers online per 10 % band of CPU load.
    pub cpu: Vec<Count<u8>>,
    pub top_cpu: Vec<DeviceMetric>,
    pub pressure: Pressure,
    pub checkins_per_hour: Vec<FleetHour>,
}

impl FleetOverview {
    /// Reads the overview at `now_ms`: health by the age of each router's
    /// last check-in for a poll `interval`; check-ins per hour over
    /// `window`.
    pub async fn load(
        store: &FleetStore,
        now_ms: i64,
        interval: Duration,
        window: Duration,
    ) -> Result<FleetOverview, FleetError> {
        let thresholds = crate::routers::thresholds(interval);
        let since = now_ms - thresholds.offline_after_ms;
        Ok(FleetOverview {
            at: now_ms,
            summary: store.fleet_summary(now_ms, thresholds).await?,
            versions: store.version_distribution().await?,
            cpu: store.cpu_distribution(since).await?,
            top_cpu: store.top_cpu(since, 5).await?,
            pressure: store.pressure(since, PRESSURE_PCT, 5).await?,
            checkins_per_hour: store
                .checkins_per_hour(now_ms - window.as_millis() as i64, now_ms)
                .await?,
        })
    }

    /// The overview's charts as SVG, in `theme`.
    pub fn charts(&self, theme: Theme) -> Result<OverviewCharts, FleetError> {
        let states = [
            ("online", self.summary.online),
            ("degraded", self.summary.degraded),
            ("offline", self.summary.offline - self.summary.never_seen),
            ("never seen", self.summary.never_seen),
        ];
        let versions: Vec<(String, u64)> = top_with_rest(
            self.versions
                .iter()
                .map(|v| (short_version(&v.key), v.devices)),
            8,
        );
        Ok(OverviewCharts {
            states: chart::bar_chart_svg(
                "Routers by state",
                &states.map(|(k, v)| (k.to_owned(), v)),
                "routers",
                theme,
            )?,
            versions: chart::bar_chart_svg("RouterOS versions", &versions, "routers", theme)?,
            cpu: chart::bar_chart_svg(
                "CPU load of routers online",
                &self
                    .cpu
                    .iter()
                    .map(|b| (format!("{}–{}%", b.key, b.key + 10), b.devices))
                    .collect::<Vec<_>>(),
                "routers",
                theme,
            )?,
            checkins: chart::hourly_chart_svg(
                "Check-ins per hour",
                &self
                    .checkins_per_hour
                    .iter()
                    .map(|h| (h.hour, h.checkins as f64))
                    .collect::<Vec<_>>(),
                "check-ins",
                theme,
            )?,
        })
    }

    /// One chart's data as CSV (`states`, `versions`, `cpu`, `checkins`).
    pub fn csv(&self, chart: &str) -> Result<String, FleetError> {
        let mut out = String::new();
        match chart {
            "states" => {
                out.push_str("state,routers\n");
                let s = &self.summary;
                for (k, v) in [
                    ("online", s.online),
                    ("degraded", s.degraded),
                    ("offline", s.offline - s.never_seen),
                    ("never seen", s.never_seen),
                ] {
                    out.push_str(&format!("{k},{v}\n"));
                }
            }
            "versions" => {
                out.push_str("version,routers\n");
                for v in &self.versions {
                    out.push_str(&format!("{},{}\n", csv_field(&v.key), v.devices));
                }
            }
            "cpu" => {
                out.push_str("cpu_from_pct,cpu_to_pct,routers\n");
                for b in &self.cpu {
                    out.push_str(&format!("{},{},{}\n", b.key, b.key + 10, b.devices));
                }
            }
            "checkins" => {
                out.push_str("hour_utc,checkins,avg_cpu_pct\n");
                for h in &self.checkins_per_hour {
                    out.push_str(&format!(
                        "{},{},{:.1}\n",
                        chart::iso_hour(h.hour),
                        h.checkins,
                        h.avg_cpu
                    ));
                }
            }
            other => {
                return Err(FleetError::InvalidInput(format!(
                    "no chart named {other:?}: states, versions, cpu or checkins"
                )))
            }
        }
        Ok(out)
    }
}

/// The overview's charts, SVG text each.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct OverviewCharts {
    pub states: String,
    pub versions: String,
    pub cpu: String,
    pub checkins: String,
}

/// The `n - 1` largest entries and the rest summed as "other".
fn top_with_rest(items: impl Iterator<Item = (String, u64)>, n: usize) -> Vec<(String, u64)> {
    let mut all: Vec<(String, u64)> = items.collect();
    all.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    if all.len() <= n {
        return all;
    }
    let rest: u64 = all[n - 1..].iter().map(|(_, v)| v).sum();
    all.truncate(n - 1);
    all.push(("other".into(), rest));
    all
}

/// A CSV field, quoted when it holds a comma, quote or line break; a
/// leading `=`, `+`, `-` or `@` is prefixed with `'` so a spreadsheet does
/// not run it as a formula.
pub fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// `7.16.2 (stable)` → `7.16.2`, `6.48.6 (long-term)` → `6.48.6 LT`: bar
/// labels short enough not to run into each other (the CSV keeps the
/// router's own words).
fn short_version(v: &str) -> String {
    let (number, channel) = match v.split_once(" (") {
        Some((n, c)) => (n, c.trim_end_matches(')')),
        None => (v, ""),
    };
    match channel {
        "" | "stable" => number.to_owned(),
        "long-term" => format!("{number} LT"),
        "testing" => format!("{number} test"),
        "development" => format!("{number} dev"),
        other => format!("{number} {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_labels_are_short() {
        assert_eq!(short_version("7.16.2 (stable)"), "7.16.2");
        assert_eq!(short_version("6.48.6 (long-term)"), "6.48.6 LT");
        assert_eq!(short_version("7.17rc2 (testing)"), "7.17rc2 test");
        assert_eq!(short_version("7.16.2"), "7.16.2");
    }

    #[test]
    fn the_largest_versions_and_the_rest() {
        let v = top_with_rest(
            [("a", 5), ("b", 1), ("c", 3), ("d", 2)]
                .into_iter()
                .map(|(k, n)| (k.to_owned(), n)),
            3,
        );
        assert_eq!(
            v,
            vec![("a".into(), 5), ("c".into(), 3), ("other".into(), 3)]
        );
    }

    #[test]
    fn csv_fields_are_quoted_and_defused() {
        assert_eq!(csv_field("7.16.2"), "7.16.2");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=cmd()"), "'=cmd()");
    }
}
