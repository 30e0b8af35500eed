//! A running bulk push holds a lock file on this laptop for as long as its
//! process lives. The operating system drops the lock with the process,
//! even on `kill -9`, so a resume knows at once whether the process that
//! ran a batch is gone, instead of waiting for the batch's heartbeat to age.
//! A batch run on another laptop (the shared database) has no lock here;
//! its heartbeat still decides.

use std::{
    fs::{File, OpenOptions, TryLockError},
    path::PathBuf,
};

use fleet_store::{FleetStore, StoreUrl};

/// Held while this process runs a batch.
pub(crate) struct BatchLock {
    _file: File,
    path: PathBuf,
}

impl BatchLock {
    /// The batch ended: the lock and its file go.
    pub(crate) fn release(self) {
        let path = self.path.clone();
        drop(self);
        if let Err(e) = std::fs::remove_file(&path) {
            tracing::debug!(error = %e, path = %path.display(), "batch lock file not removed");
        }
    }
}

/// Whether the process that runs a batch is alive, as far as this laptop
/// can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Runner {
    /// A process here holds the batch's lock.
    Alive,
    /// The batch ran here and its process is gone.
    Gone,
    /// No lock here: it ran elsewhere, or the lock could not be looked at.
    Unknown,
}

/// The folder the locks live in: next to the embedded store, else the
/// data folder.
fn dir(store: &FleetStore) -> Option<PathBuf> {
    let base = match store.url() {
        StoreUrl::Sqlite(path) => path.parent().map(|p| p.to_path_buf()),
        StoreUrl::Mysql(_) => fleet_store::default_data_dir().ok(),
    }?;
    Some(base.join("batches"))
}

fn path(store: &FleetStore, batch_id: &str) -> Option<PathBuf> {
    // Batch ids are generated UUIDs; anything else gets no lock file.
    if batch_id.is_empty() || !batch_id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-') {
        return None;
    }
    Some(dir(store)?.join(format!("{batch_id}.lock")))
}

/// Takes the lock for a batch this process is about to run. `None` when
/// it cannot be taken (logged): the batch then runs on its heartbeat alone.
pub(crate) fn hold(store: &FleetStore, batch_id: &str) -> Option<BatchLock> {
    let path = path(store, batch_id)?;
    let taken = (|| {
        std::fs::create_dir_all(path.parent()?).ok()?;
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .ok()?;
        file.try_lock().ok()?;
        Some(file)
    })();
    match taken {
        Some(file) => Some(BatchLock { _file: file, path }),
        None => {
            tracing::warn!(path = %path.display(), "could not take the bulk push's lock; a resume will rely on its heartbeat");
            None
        }
    }
}

/// Whether the process that ran `batch_id` on this laptop still lives.
pub(crate) fn runner(store: &FleetStore, batch_id: &str) -> Runner {
    let Some(path) = path(store, batch_id) else {
        return Runner::Unknown;
    };
    let Ok(file) = OpenOptions::new().write(true).open(&path) else {
        return Runner::Unknown;
    };
    match file.try_lock() {
        Ok(()) => Runner::Gone,
        Err(TryLockError::WouldBlock) => Runner::Alive,
        Err(TryLockError::Error(e)) => {
            tracing::warn!(error = %e, path = %path.display(), "could not look at a bulk push's lock");
            Runner::Unknown
        }
    }
}
