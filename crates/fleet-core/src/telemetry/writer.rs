//! The single writer: check-ins in batches, failures, events and pins.
//!
//! Nothing is lost and nothing stalls:
//! - a store that fails is retried (the pollers wait meanwhile, on the full
//!   channel: backpressure, never loss);
//! - the shared database unreachable or silent: what is pending goes to
//!   the spool on disk ([`super::spool`]), the pollers go on, and the spool
//!   is delivered when the database answers again;
//! - a row the database refuses (a value out of its column's range) is put
//!   aside in the quarantine file with the database's words, the router's
//!   last error says so, and the rest of its batch is stored.

use std::{
    path::PathBuf,
    sync::{atomic::Ordering, Arc},
    time::Duration,
};

use fleet_store::{Checkin, FleetStore, StoreError};
use tokio::{
    sync::{mpsc, oneshot},
    time::Instant,
};

use super::{
    bump,
    spool::{self, Record, Spool},
    Counters, Msg, TelemetryConfig,
};

/// The longest wait between two tries of a failing store.
const MAX_PAUSE: Duration = Duration::from_secs(5);

/// The single writer: batches check-ins, writes failures and events, and
/// keeps whatever the store does not take yet.
pub(super) async fn writer(
    store: Arc<FleetStore>,
    mut rx: mpsc::Receiver<Msg>,
    cfg: TelemetryConfig,
    counters: Arc<Counters>,
) {
    let mut sink = Sink::new(store, &cfg, counters);
    // What an earlier run left on disk goes first.
    sink.open_leftover_spool();
    sink.deliver_spool().await;
    let mut pending: Vec<Record> = Vec::new();
    let mut checkins = 0usize;
    let mut acks: Vec<oneshot::Sender<()>> = Vec::new();
    let mut deadline = Instant::now() + cfg.flush_every;
    loop {
        let msg = tokio::select! {
            m = rx.recv() => m,
            _ = tokio::time::sleep_until(deadline) => {
                sink.write(&mut pending).await;
                checkins = 0;
                sink.deliver_spool().await;
                deadline = Instant::now() + cfg.flush_every;
                continue;
            }
        };
        let record = match msg {
            Some(Msg::Checkin(k)) => {
                checkins += 1;
                Record::Checkin(k)
            }
            Some(Msg::Failure {
                device_id,
                at,
                message,
            }) => Record::Failure {
                device_id,
                at,
                message,
            },
            Some(Msg::Event(e)) => Record::Event(e),
            Some(Msg::Pin {
                device_id,
                fingerprint,
            }) => Record::Pin {
                device_id,
                fingerprint,
            },
            Some(Msg::Flush(ack)) => {
                acks.push(ack);
                sink.write(&mut pending).await;
                checkins = 0;
                deadline = Instant::now() + cfg.flush_every;
                for ack in acks.drain(..) {
                    let _ = ack.send(());
                }
                continue;
            }
            None => {
                sink.write(&mut pending).await;
                return;
            }
        };
        pending.push(record);
        if checkins >= cfg.batch_rows {
            sink.write(&mut pending).await;
            checkins = 0;
            deadline = Instant::now() + cfg.flush_every;
        }
    }
}

/// Where records go: the store, the spool while the store is down, the
/// quarantine when the store refuses one.
struct Sink {
    store: Arc<FleetStore>,
    counters: Arc<Counters>,
    /// Each write to the shared database is given up after this (then
    /// spooled): a silent database never holds the writer for long.
    write_within: Duration,
    batch_rows: usize,
    /// Records per delivery from the spool: halved each time a delivery
    /// is not answered in time (a slow database still drains), back to
    /// `batch_rows` once the spool is empty.
    deliver_rows: usize,
    /// Bytes of the spool delivered by this process: an interrupted
    /// delivery goes on from there (a restart begins again at 0, which
    /// stores nothing twice).
    delivered: u64,
    /// The data folder: the spool and the quarantine are kept there.
    dir: Option<PathBuf>,
    spool: Option<Spool>,
    /// Why the spool cannot be used, said once.
    no_spool: Option<String>,
    /// The shared database did not take the last write: records go
    /// straight to the spool until a delivery goes through.
    down: bool,
    next_try: Instant,
    pause: Duration,
}

impl Sink {
    fn new(store: Arc<FleetStore>, cfg: &TelemetryConfig, counters: Arc<Counters>) -> Self {
        Sink {
            store,
            counters,
            write_within: cfg.write_within,
            batch_rows: cfg.batch_rows.max(1),
            deliver_rows: cfg.batch_rows.max(1),
            delivered: 0,
            dir: cfg.spool_dir.clone(),
            spool: None,
            no_spool: None,
            down: false,
            next_try: Instant::now(),
            pause: Duration::from_millis(200),
        }
    }

    /// The embedded store is on this disk already: nothing to spool it to
    /// (a full disk is retried until there is room).
    fn spools(&self) -> bool {
        !self.store.is_embedded() && self.dir.is_some() && self.no_spool.is_none()
    }

    fn open_leftover_spool(&mut self) {
        let Some(dir) = self.dir.clone().filter(|_| self.spools()) else {
            return;
        };
        if spool::spool_path(&dir, &self.store.location()).exists() {
            self.ensure_spool();
            if let Some(s) = &self.spool {
                self.counters
                    .rows_spooled
                    .fetch_add(s.checkins(), Ordering::Relaxed);
            }
        }
    }

    fn ensure_spool(&mut self) -> bool {
        if self.spool.is_some() {
            return true;
        }
        if !self.spools() {
            return false;
        }
        let dir = self.dir.clone().expect("spools() checked the folder");
        match Spool::open(&dir, &self.store.location()) {
            Ok(s) => {
                self.spool = Some(s);
                true
            }
            Err(e) => {
                let why = format!(
                    "check-ins cannot be kept on disk while the database is down ({e}); they wait in memory"
                );
                tracing::error!("{why}");
                self.no_spool = Some(why);
                false
            }
        }
    }

    /// Writes `records` to the store, or keeps them: returns when none is
    /// left in memory, or, for a store that cannot be spooled from (the
    /// embedded store), once the store took them.
    async fn write(&mut self, records: &mut Vec<Record>) {
        loop {
            if records.is_empty() {
                return;
            }
            if self.down && self.keep_on_disk(records) {
                return;
            }
            let result = match self.put(records).await {
                Err(e) if e.is_refusal() => self.sort_out(records).await,
                other => other,
            };
            match result {
                Ok(()) => {
                    self.back_up();
                    return;
                }
                Err(e) => {
                    bump(&self.counters.write_failures);
                    if self.spools() {
                        if !self.down {
                            tracing::warn!(error = %e, "the database did not take check-ins; keeping them on disk until it answers");
                        }
                        self.down = true;
                        self.next_try = Instant::now() + self.pause;
                        if self.keep_on_disk(records) {
                            return;
                        }
                    }
                    tracing::warn!(error = %e, records = records.len(), "store write failed; retrying");
                    tokio::time::sleep(self.pause).await;
                    self.pause = (self.pause * 2).min(MAX_PAUSE);
                }
            }
        }
    }

    fn back_up(&mut self) {
        if self.down {
            tracing::info!("the database answers again");
        }
        self.down = false;
        self.pause = Duration::from_millis(200);
    }

    /// Appends `records` to the spool and lets go of them.
    fn keep_on_disk(&mut self, records: &mut Vec<Record>) -> bool {
        if !self.ensure_spool() {
            return false;
        }
        let spool = self.spool.as_mut().expect("ensured");
        match spool.append(records) {
            Ok(()) => {
                let checkins = records
                    .iter()
                    .filter(|r| matches!(r, Record::Checkin(_)))
                    .count() as u64;
                self.counters
                    .rows_spooled
                    .fetch_add(checkins, Ordering::Relaxed);
                records.clear();
                true
            }
            Err(e) => {
                tracing::error!(file = %spool.path().display(), "check-ins could not be kept on disk ({e}); they wait in memory");
                false
            }
        }
    }

    /// Delivers the spool when the time to try has come: a batch at a
    /// time, then empties it. Interrupted, it goes on from where it got to
    /// (from the beginning after a restart); nothing is stored twice
    /// (stable keys).
    async fn deliver_spool(&mut self) {
        let Some(spool) = &self.spool else {
            return;
        };
        if spool.is_empty() || Instant::now() < self.next_try {
            return;
        }
        let mut offset = self.delivered;
        loop {
            let spool = self.spool.as_ref().expect("checked above");
            let (mut chunk, next) = match spool.read_from(offset, self.deliver_rows) {
                Ok(read) => read,
                Err(e) => {
                    tracing::error!(file = %spool.path().display(), "the spool cannot be read: {e}");
                    self.next_try = Instant::now() + MAX_PAUSE;
                    return;
                }
            };
            if next == offset {
                break;
            }
            let checkins = chunk
                .iter()
                .filter(|r| matches!(r, Record::Checkin(_)))
                .count() as u64;
            let result = match self.put(&mut chunk).await {
                Err(e) if e.is_refusal() => self.sort_out(&mut chunk).await,
                other => other,
            };
            if let Err(e) = result {
                bump(&self.counters.write_failures);
                if matches!(e, StoreError::TimedOut { .. }) {
                    self.deliver_rows = (self.deliver_rows / 2).max(50);
                }
                self.down = true;
                self.next_try = Instant::now() + self.pause;
                self.pause = (self.pause * 2).min(MAX_PAUSE);
                tracing::debug!(error = %e, "the spool waits for the database");
                return;
            }
            self.counters
                .rows_spooled
                .fetch_sub(checkins, Ordering::Relaxed);
            offset = next;
            self.delivered = next;
        }
        let spool = self.spool.as_mut().expect("checked above");
        match spool.clear() {
            Ok(()) => {
                tracing::info!("the check-ins kept on disk are all stored");
                self.deliver_rows = self.batch_rows;
                self.delivered = 0;
                self.back_up();
            }
            Err(e) => {
                tracing::error!(file = %spool.path().display(), "the delivered spool could not be emptied (it is delivered again; nothing is stored twice): {e}")
            }
        }
    }

    /// Writes `records` once, removing each part the store took.
    async fn put(&self, records: &mut Vec<Record>) -> Result<(), StoreError> {
        if self.store.is_embedded() {
            return put(&self.store, records, &self.counters).await;
        }
        tokio::time::timeout(self.write_within, put(&self.store, records, &self.counters))
            .await
            .unwrap_or_else(|_| {
                Err(StoreError::TimedOut {
                    location: self.store.location(),
                    after: self.write_within,
                })
            })
    }

    /// The store refused something in `records`: each is written alone,
    /// and the ones refused are quarantined. Returns the first error that
    /// is not a refusal, with what is left still in `records`.
    async fn sort_out(&mut self, records: &mut Vec<Record>) -> Result<(), StoreError> {
        let all = std::mem::take(records);
        let mut rest = all.into_iter();
        while let Some(record) = rest.next() {
            let mut one = vec![record];
            match self.put(&mut one).await {
                Ok(()) => {}
                Err(e) if e.is_refusal() => self.quarantine(one.remove(0), &e).await,
                Err(e) => {
                    records.extend(one);
                    records.extend(rest);
                    return Err(e);
                }
            }
        }
        Ok(())
    }

    /// Puts a refused record aside with the database's words, and tells the
    /// router's record why its check-in is missing.
    async fn quarantine(&self, record: Record, e: &StoreError) {
        if matches!(record, Record::Checkin(_)) {
            bump(&self.counters.rows_quarantined);
        }
        let location = self.store.location();
        let kept = self
            .dir
            .as_ref()
            .map(|d| spool::quarantine(d, &location, &record, &e.to_string()));
        let where_kept = match &kept {
            Some(Ok(path)) => format!("it is kept in {}", path.display()),
            Some(Err(io)) => format!("it could not be kept aside ({io})"),
            None => "no data folder to keep it in".into(),
        };
        // The whole record in the log when it could not be kept on disk:
        // the last place it still exists.
        let record_text = serde_json::to_string(&record).unwrap_or_default();
        tracing::error!(error = %e, record = %record_text, "the database refused a record; {where_kept}");
        if let (Record::Checkin(c), Some(device)) = (&record, record.device_id()) {
            let message =
                format!("the database refused this router's check-in ({e}); {where_kept}");
            if let Err(e) = self
                .store
                .record_poll_failure(device, c.checked_in_at, &message)
                .await
            {
                tracing::warn!(error = %e, "the refused check-in could not be noted on its router");
            }
        }
    }
}

/// Writes `records` to `store` once, removing each part it took.
async fn put(
    store: &FleetStore,
    records: &mut Vec<Record>,
    counters: &Counters,
) -> Result<(), StoreError> {
    let checkins: Vec<Checkin> = records
        .iter()
        .filter_map(|r| match r {
            Record::Checkin(c) => Some((**c).clone()),
            _ => None,
        })
        .collect();
    if !checkins.is_empty() {
        let r = store.record_checkins(&checkins).await?;
        counters
            .rows_written
            .fetch_add(r.inserted, Ordering::Relaxed);
        counters
            .rows_already_stored
            .fetch_add(r.duplicates, Ordering::Relaxed);
        records.retain(|r| !matches!(r, Record::Checkin(_)));
    }
    let events: Vec<_> = records
        .iter()
        .filter_map(|r| match r {
            Record::Event(e) => Some(e.clone()),
            _ => None,
        })
        .collect();
    if !events.is_empty() {
        store.record_audit(&events).await?;
        records.retain(|r| !matches!(r, Record::Event(_)));
    }
    while let Some(r) = records.first() {
        match r {
            Record::Failure {
                device_id,
                at,
                message,
            } => {
                store.record_poll_failure(device_id, *at, message).await?;
            }
            Record::Pin {
                device_id,
                fingerprint,
            } => {
                store.pin_fingerprint(device_id, fingerprint).await?;
            }
            Record::Checkin(_) | Record::Event(_) => {}
        }
        records.remove(0);
    }
    Ok(())
}
