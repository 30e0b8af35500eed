//! Live traffic monitors of inventory routers, held by the fleet so a
//! front end only starts and stops them by id. Each streams one interface
//! until stopped, until its receiver goes away, or until the router ends
//! it; dropping the stream sends `/cancel` to the router.

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex,
    },
};

use futures::StreamExt;
use serde::Serialize;

use crate::{live, Fleet, FleetError};

/// What a monitor reports.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    tag = "event"
)]
pub enum MonitorEvent {
    /// About one a second, from `/interface/monitor-traffic`.
    Sample {
        at: i64,
        rx_bps: u64,
        tx_bps: u64,
        rx_pps: u64,
        tx_pps: u64,
    },
    /// The monitor ended: stopped by the user, or `error` says why.
    Stopped { error: Option<String> },
}

/// Delivers an event; false when nobody listens any more.
type Sink = Arc<dyn Fn(MonitorEvent) -> bool + Send + Sync>;

#[derive(Default)]
pub(crate) struct Monitors {
    next: AtomicU64,
    running: Mutex<HashMap<u64, (tokio::task::JoinHandle<()>, Sink)>>,
}

impl Fleet {
    /// The router's interfaces, for choosing what to watch.
    pub async fn interfaces(&self, device_id: &str) -> Result<Vec<live::Interface>, FleetError> {
        live::interfaces(&self.connect(device_id).await?).await
    }

    /// Starts watching `interface` of a router; returns the monitor's id
    /// at once. `on_event` returns false when its receiver is gone, which
    /// stops the monitor.
    pub async fn start_monitor(
        &self,
        device_id: &str,
        interface: &str,
        on_event: impl Fn(MonitorEvent) -> bool + Send + Sync + 'static,
    ) -> Result<u64, FleetError> {
        let client = self.connect(device_id).await?;
        let stream = live::monitor_traffic(&client, interface).await?;
        let sink: Sink = Arc::new(on_event);
        let events = sink.clone();
        let task = tokio::spawn(async move {
            let mut stream = Box::pin(stream);
            let error = loop {
                match stream.next().await {
                    Some(Ok(s)) => {
                        let sample = MonitorEvent::Sample {
                            at: crate::poll::now_ms(),
                            rx_bps: s.rx_bps,
                            tx_bps: s.tx_bps,
                            rx_pps: s.rx_pps,
                            tx_pps: s.tx_pps,
                        };
                        if !events(sample) {
                            return;
                        }
                    }
                    Some(Err(e)) => break Some(e.as_sentence()),
                    None => break Some("The router ended the traffic monitor.".to_owned()),
                }
            };
            drop(stream);
            drop(client);
            events(MonitorEvent::Stopped { error });
        });
        let id = self.monitors.next.fetch_add(1, Ordering::Relaxed) + 1;
        let mut running = self
            .monitors
            .running
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        // Monitors that ended by themselves (the router went away) go now.
        running.retain(|_, (t, _)| !t.is_finished());
        running.insert(id, (task, sink));
        Ok(id)
    }

    /// Stops monitor `id` (the router is sent `/cancel`); nothing when it
    /// already ended.
    pub fn stop_monitor(&self, id: u64) {
        let stopped = self
            .monitors
            .running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&id);
        if let Some((task, events)) = stopped {
            task.abort();
            events(MonitorEvent::Stopped { error: None });
        }
    }

    /// Monitors running now.
    pub fn monitors_running(&self) -> usize {
        let mut running = self
            .monitors
            .running
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        running.retain(|_, (t, _)| !t.is_finished());
        running.len()
    }
}
