//! The router's clock and `/system scheduler`: items fire by `start-time`
//! and `interval` and run their `on-event` through the script interpreter
//! (`import.rs`), so a push's safety net really restores its backup.
//!
//! The clock starts at the wall clock and runs at a rate a test can raise
//! ([`Device::set_clock_rate`]) or jump ([`Device::advance_clock`]); the
//! fleet checks every router's schedulers a few times a second.
//!
//! What is not interpreted: `start-date` in the past with `interval=0`
//! never fires (RouterOS runs it once, at that moment, which has passed);
//! an `on-event` whose lines are scripting (`:if`, `:local`, `:log` …) runs
//! its menu commands only, as `/import` does; `policy` is not enforced.

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use routeros_proto::value;

use crate::{device::Device, import, model::Item};

/// How long after boot a `start-time=startup` item fires, as on RouterOS.
const STARTUP_DELAY_SECS: f64 = 3.0;

/// The router's clock: seconds since the Unix epoch, running at `rate`
/// times real time from where it was last set.
#[derive(Debug)]
pub(crate) struct Clock {
    base_real: Instant,
    base_unix: f64,
    rate: f64,
}

impl Clock {
    pub(crate) fn new() -> Self {
        Clock {
            base_real: Instant::now(),
            base_unix: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs_f64())
                .unwrap_or_default(),
            rate: 1.0,
        }
    }

    fn now(&self) -> f64 {
        self.base_unix + self.base_real.elapsed().as_secs_f64() * self.rate
    }

    fn rebase(&mut self) {
        self.base_unix = self.now();
        self.base_real = Instant::now();
    }
}

/// One firing of a scheduler item's `on-event`, for tests to wait on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchedulerRun {
    /// The scheduler item's name.
    pub name: String,
    /// The router's clock when it fired, seconds since the Unix epoch.
    pub at: u64,
    /// What the script did: `Err` holds the router's words for a failure.
    pub outcome: Result<(), String>,
}

/// When each scheduler item fires next, by `.id`.
#[derive(Debug, Default)]
pub(crate) struct Schedules {
    entries: HashMap<String, Entry>,
    runs: Vec<SchedulerRun>,
    run_counts: HashMap<String, u64>,
    /// The boot the router is in and the clock when it was first seen up:
    /// `startup` items count their delay from there.
    boot: Option<(u64, f64)>,
}

#[derive(Debug)]
struct Entry {
    /// `start-date`, `start-time`, `interval` as they were when the entry
    /// was worked out: a `set` of any of them starts it again.
    signature: [Option<Vec<u8>>; 3],
    next: Option<f64>,
    startup: bool,
    /// For `startup` items: the boot they last fired in.
    fired_in_boot: u64,
}

impl Entry {
    fn new(item: &Item, now: f64, boots: u64) -> Entry {
        let signature = signature(item);
        let interval = interval_secs(item);
        let start_time = item.get_str("start-time");
        if start_time.as_deref() == Some("startup") {
            return Entry {
                signature,
                next: None,
                startup: true,
                // Added while running: it fires at the next boot.
                fired_in_boot: boots,
            };
        }
        let start = start_time
            .as_deref()
            .and_then(|t| start_at(item.get_str("start-date").as_deref(), t, now))
            .unwrap_or(now);
        let next = if start > now {
            Some(start)
        } else if interval > 0.0 {
            Some(start + (((now - start) / interval).floor() + 1.0) * interval)
        } else {
            None
        };
        Entry {
            signature,
            next,
            startup: false,
            fired_in_boot: boots,
        }
    }
}

fn signature(item: &Item) -> [Option<Vec<u8>>; 3] {
    ["start-date", "start-time", "interval"].map(|k| item.get(k).map(<[u8]>::to_vec))
}

fn interval_secs(item: &Item) -> f64 {
    item.get_str("interval")
        .and_then(|i| routeros_proto::value::parse_duration(&i))
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

fn is_yes(item: &Item, key: &str) -> bool {
    matches!(item.get(key), Some(b"yes" | b"true"))
}

/// `start-date` (`mar/01/2018` on 6.x, `2018-03-01` on 7.x; today when
/// absent) and `start-time` (`15:55:00`) on the router's UTC clock.
fn start_at(date: Option<&str>, time: &str, now: f64) -> Option<f64> {
    let time = value::parse_time(time)?;
    let day = match date {
        None => (now / 86_400.0).floor() as i64,
        Some(d) => value::parse_date(d)?.days_since_epoch(),
    };
    Some(day as f64 * 86_400.0 + f64::from(time.seconds_of_day()))
}

impl Device {
    /// A moment on the router's clock as the router prints it
    /// (`2024-09-21 10:00:00` from 7.10, `sep/21/2024 10:00:00` before),
    /// with the protocol crate's date rules.
    pub(crate) fn clock_text(&self, secs: f64) -> String {
        let Some(at) = value::DateTime::from_unix_seconds(secs.floor() as i64) else {
            return String::new();
        };
        if self.profile().iso_dates() {
            at.to_string()
        } else {
            at.to_legacy_string()
        }
    }

    /// `/system scheduler print`: the items with `next-run` and
    /// `run-count`, as the router shows them.
    pub(crate) fn scheduler_items(&self) -> Vec<Item> {
        let now = self.clock_secs();
        let boots = self.boots();
        let mut items = self.items("system/scheduler");
        let mut schedules = self.schedules.lock().expect("schedules lock");
        for item in &mut items {
            let Some(id) = item.id() else { continue };
            let next = schedules
                .entries
                .entry(id.clone())
                .or_insert_with(|| Entry::new(item, now, boots))
                .next;
            let runs = schedules.run_counts.get(&id).copied().unwrap_or(0);
            if let Some(next) = next {
                item.set("next-run", self.clock_text(next));
            }
            item.set("run-count", runs.to_string());
        }
        items
    }

    /// The router's clock, seconds since the Unix epoch.
    pub fn clock_secs(&self) -> f64 {
        self.clock.lock().expect("clock lock").now()
    }

    /// Runs the router's clock `rate` times faster than real time from now
    /// on (1.0: real time), so a 10-minute safety net fires in seconds.
    pub fn set_clock_rate(&self, rate: f64) {
        let mut clock = self.clock.lock().expect("clock lock");
        clock.rebase();
        clock.rate = rate.max(0.0);
    }

    /// Moves the router's clock forward by `by` and fires every scheduler
    /// item due by then, before returning.
    pub fn advance_clock(self: &Arc<Self>, by: Duration) {
        // Items added since the last check start from before the jump.
        self.run_due_schedulers();
        self.clock.lock().expect("clock lock").base_unix += by.as_secs_f64();
        self.run_due_schedulers();
    }

    /// Every scheduler firing so far, oldest first.
    pub fn scheduler_runs(&self) -> Vec<SchedulerRun> {
        self.schedules.lock().expect("schedules lock").runs.clone()
    }

    /// Fires the scheduler items that are due on the router's clock. A
    /// router that is down (rebooting) runs nothing.
    pub(crate) fn run_due_schedulers(self: &Arc<Self>) {
        if !self.is_up() {
            return;
        }
        let now = self.clock_secs();
        let boots = self.boots();
        let items = self.items("system/scheduler");
        let mut due = Vec::new();
        {
            let mut schedules = self.schedules.lock().expect("schedules lock");
            let booted_at = match schedules.boot {
                Some((b, at)) if b == boots => at,
                _ => {
                    schedules.boot = Some((boots, now));
                    now
                }
            };
            let up_for = now - booted_at;
            schedules
                .entries
                .retain(|id, _| items.iter().any(|i| i.id().as_deref() == Some(id)));
            for item in &items {
                let Some(id) = item.id() else { continue };
                let entry = schedules
                    .entries
                    .entry(id)
                    .or_insert_with(|| Entry::new(item, now, boots));
                if entry.signature != signature(item) {
                    *entry = Entry::new(item, now, boots);
                }
                let fires = if entry.startup {
                    let fires = boots > entry.fired_in_boot && up_for >= STARTUP_DELAY_SECS;
                    if fires {
                        entry.fired_in_boot = boots;
                    }
                    fires
                } else {
                    match entry.next {
                        Some(next) if now >= next => {
                            let interval = interval_secs(item);
                            entry.next = (interval > 0.0).then(|| {
                                next + (((now - next) / interval).floor() + 1.0) * interval
                            });
                            true
                        }
                        _ => false,
                    }
                };
                if fires && !is_yes(item, "disabled") {
                    due.push(item.clone());
                }
            }
            for item in &due {
                if let Some(id) = item.id() {
                    *schedules.run_counts.entry(id).or_default() += 1;
                }
            }
        }
        for item in due {
            self.fire(&item, now);
        }
    }

    /// Runs one item's `on-event`: the name of a `/system script` runs that
    /// script, anything else runs as a script itself.
    fn fire(self: &Arc<Self>, item: &Item, now: f64) {
        let name = item.get_str("name").unwrap_or_default();
        let on_event = item.get("on-event").unwrap_or_default().to_vec();
        let mut target = import::OnDevice(self);
        let word = on_event.trim_ascii();
        let outcome = match import::Target::script_source(&mut target, word) {
            Some(source) if !word.is_empty() => import::run(&mut target, &source),
            _ => import::run(&mut target, &on_event),
        }
        .map(|_| ())
        .map_err(|f| f.message);
        match &outcome {
            Ok(()) => tracing::info!(router = self.index(), scheduler = %name, "scheduler fired"),
            Err(e) => {
                tracing::warn!(router = self.index(), scheduler = %name, error = %e, "scheduler script failed")
            }
        }
        let mut schedules = self.schedules.lock().expect("schedules lock");
        schedules.runs.push(SchedulerRun {
            name,
            at: now as u64,
            outcome,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_both_export_styles() {
        let at = |d, t| start_at(Some(d), t, 0.0).unwrap() as i64;
        assert_eq!(at("1970-01-01", "00:00:00"), 0);
        assert_eq!(at("2018-03-01", "15:55:00"), 1_519_919_700);
        assert_eq!(at("mar/01/2018", "15:55:00"), 1_519_919_700);
        assert_eq!(at("feb/29/2024", "23:59:59"), 1_709_251_199);
        assert_eq!(start_at(Some("smarch/01/2018"), "15:55:00", 0.0), None);
        assert_eq!(start_at(None, "startup", 0.0), None);
    }

    #[test]
    fn an_interval_fires_after_it_has_passed_and_then_on_its_beat() {
        let item = Item::new([("name", "net"), ("interval", "10m")]);
        let e = Entry::new(&item, 1_000.0, 0);
        assert_eq!(e.next, Some(1_600.0));
        let past = Item::new([
            ("name", "daily"),
            ("interval", "1d"),
            ("start-date", "1970-01-01"),
            ("start-time", "01:00:00"),
        ]);
        // Started long ago: the next beat after now, not now.
        let e = Entry::new(&past, 86_400.0 * 3.0 + 10.0, 0);
        assert_eq!(e.next, Some(86_400.0 * 3.0 + 3_600.0));
        let once = Item::new([("name", "once"), ("interval", "0s")]);
        assert_eq!(Entry::new(&once, 5.0, 0).next, None);
        let startup = Item::new([("name", "boot"), ("start-time", "startup")]);
        assert!(Entry::new(&startup, 5.0, 2).startup);
    }
}
