//! The single writer: check-ins in batches, failures, events and pins, each
//! write retried until the store takes it (pollers wait meanwhile, on the
//! full channel: backpressure, never loss).

use std::{
    sync::{atomic::Ordering, Arc},
    time::Duration,
};

use fleet_store::{AuditEvent, Checkin, FleetStore};
use tokio::sync::{mpsc, oneshot};

use super::{bump, Counters, Msg, TelemetryConfig};

/// The single writer: batches check-ins, writes failures and events, and
/// retries a failed write until it lands.
pub(super) async fn writer(
    store: Arc<FleetStore>,
    mut rx: mpsc::Receiver<Msg>,
    cfg: TelemetryConfig,
    counters: Arc<Counters>,
) {
    let mut batch: Vec<Checkin> = Vec::with_capacity(cfg.batch_rows);
    let mut failures: Vec<(String, i64, String)> = Vec::new();
    let mut events: Vec<AuditEvent> = Vec::new();
    let mut pins: Vec<(String, String)> = Vec::new();
    let mut acks: Vec<oneshot::Sender<()>> = Vec::new();
    let mut deadline = tokio::time::Instant::now() + cfg.flush_every;
    loop {
        let msg = tokio::select! {
            m = rx.recv() => m,
            _ = tokio::time::sleep_until(deadline) => {
                write_all(&store, &mut batch, &mut failures, &mut events, &mut pins, &counters).await;
                deadline = tokio::time::Instant::now() + cfg.flush_every;
                continue;
            }
        };
        match msg {
            Some(Msg::Checkin(k)) => batch.push(*k),
            Some(Msg::Failure {
                device_id,
                at,
                message,
            }) => failures.push((device_id, at, message)),
            Some(Msg::Event(e)) => events.push(e),
            Some(Msg::Pin {
                device_id,
                fingerprint,
            }) => pins.push((device_id, fingerprint)),
            Some(Msg::Flush(ack)) => acks.push(ack),
            None => {
                write_all(
                    &store,
                    &mut batch,
                    &mut failures,
                    &mut events,
                    &mut pins,
                    &counters,
                )
                .await;
                return;
            }
        }
        if batch.len() >= cfg.batch_rows || !acks.is_empty() {
            write_all(
                &store,
                &mut batch,
                &mut failures,
                &mut events,
                &mut pins,
                &counters,
            )
            .await;
            deadline = tokio::time::Instant::now() + cfg.flush_every;
            for ack in acks.drain(..) {
                let _ = ack.send(());
            }
        }
    }
}

/// Writes everything buffered; a failure is retried (the pollers wait on
/// the full channel meanwhile) until the store takes it.
async fn write_all(
    store: &FleetStore,
    batch: &mut Vec<Checkin>,
    failures: &mut Vec<(String, i64, String)>,
    events: &mut Vec<AuditEvent>,
    pins: &mut Vec<(String, String)>,
    counters: &Counters,
) {
    let mut pause = Duration::from_millis(200);
    loop {
        let result = async {
            if !batch.is_empty() {
                let r = store.record_checkins(batch).await?;
                counters
                    .rows_written
                    .fetch_add(r.inserted, Ordering::Relaxed);
                counters
                    .rows_already_stored
                    .fetch_add(r.duplicates, Ordering::Relaxed);
                batch.clear();
            }
            while let Some((device, at, message)) = failures.first() {
                store.record_poll_failure(device, *at, message).await?;
                failures.remove(0);
            }
            if !events.is_empty() {
                store.record_audit(events).await?;
                events.clear();
            }
            while let Some((device, fp)) = pins.first() {
                store.pin_fingerprint(device, fp).await?;
                pins.remove(0);
            }
            Ok::<(), fleet_store::StoreError>(())
        }
        .await;
        match result {
            Ok(()) => return,
            Err(e) => {
                bump(&counters.write_failures);
                tracing::warn!(error = %e, rows = batch.len(), "store write failed; retrying");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(5));
            }
        }
    }
}
