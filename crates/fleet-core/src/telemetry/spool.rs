//! What telemetry keeps on disk: check-ins (and failures, events, pins)
//! written while the shared database cannot be reached, delivered when it
//! answers again; and rows the database refused, kept aside with its words.
//!
//! The spool is one JSON line per record, appended and synced before the
//! writer lets go of the records, so an outage costs disk, not memory, and
//! a `kill -9` during it loses nothing that was spooled. Delivery sends the
//! file again from its start after an interruption: every record has a
//! stable key (check-ins: router and time; events: their id), so nothing is
//! stored twice. The file is locked while a process uses it: two
//! Fleetdecks on one data folder never deliver each other's records half.

use std::{
    fs::{File, OpenOptions},
    io::{BufRead, BufReader, Write},
    path::{Path, PathBuf},
};

use fleet_store::{AuditEvent, Checkin};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// One thing the writer stores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub(super) enum Record {
    Checkin(Box<Checkin>),
    #[serde(rename_all = "camelCase")]
    Failure {
        device_id: String,
        at: i64,
        message: String,
    },
    Event(AuditEvent),
    #[serde(rename_all = "camelCase")]
    Pin {
        device_id: String,
        fingerprint: String,
    },
}

impl Record {
    pub(super) fn device_id(&self) -> Option<&str> {
        match self {
            Record::Checkin(c) => Some(&c.device_id),
            Record::Failure { device_id, .. } | Record::Pin { device_id, .. } => Some(device_id),
            Record::Event(e) => e.device_id.as_deref(),
        }
    }
}

/// Records kept on disk for one store.
pub(super) struct Spool {
    path: PathBuf,
    file: File,
    /// Records in the file not yet delivered.
    records: u64,
    /// Of which check-ins.
    checkins: u64,
}

/// The spool file for the store at `location` (a redacted URL) in `dir`:
/// one per store, so a spool is never delivered into another database.
pub(super) fn spool_path(dir: &Path, location: &str) -> PathBuf {
    let digest = Sha256::digest(location.as_bytes());
    let short: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    dir.join(format!("telemetry-spool-{short}.jsonl"))
}

impl Spool {
    /// Opens (or creates) the spool for `location` in `dir` and locks it
    /// for this process. Records a run before this one left are kept: they
    /// are delivered first.
    pub(super) fn open(dir: &Path, location: &str) -> std::io::Result<Spool> {
        std::fs::create_dir_all(dir)?;
        let path = spool_path(dir, location);
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .read(true)
            .open(&path)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            // Check-ins name routers and their addresses' state: the
            // owner's only, as the embedded store is.
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
        }
        if let Err(e) = file.try_lock() {
            return Err(std::io::Error::other(format!(
                "{} is in use by another Fleetdeck ({e})",
                path.display()
            )));
        }
        // A torn last line (a crash mid-append) is closed, so the next
        // append starts a line of its own.
        let len = file.metadata()?.len();
        if len > 0 {
            use std::io::{Read, Seek, SeekFrom};
            let mut last = [0u8; 1];
            let mut reader = &file;
            reader.seek(SeekFrom::Start(len - 1))?;
            reader.read_exact(&mut last)?;
            if last[0] != b'\n' {
                (&file).write_all(b"\n")?;
            }
        }
        let mut spool = Spool {
            path,
            file,
            records: 0,
            checkins: 0,
        };
        let mut offset = 0;
        loop {
            let (records, next) = spool.read_from(offset, 4096)?;
            if next == offset {
                break;
            }
            spool.records += records.len() as u64;
            spool.checkins += records
                .iter()
                .filter(|r| matches!(r, Record::Checkin(_)))
                .count() as u64;
            offset = next;
        }
        Ok(spool)
    }

    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    pub(super) fn is_empty(&self) -> bool {
        self.records == 0
    }

    pub(super) fn checkins(&self) -> u64 {
        self.checkins
    }

    /// Appends `records` and syncs them to disk before returning.
    pub(super) fn append(&mut self, records: &[Record]) -> std::io::Result<()> {
        let mut text = String::new();
        for r in records {
            text.push_str(&serde_json::to_string(r).map_err(std::io::Error::other)?);
            text.push('\n');
        }
        self.file.write_all(text.as_bytes())?;
        self.file.sync_data()?;
        self.records += records.len() as u64;
        self.checkins += records
            .iter()
            .filter(|r| matches!(r, Record::Checkin(_)))
            .count() as u64;
        Ok(())
    }

    /// Up to `max` spooled records from byte `offset` on, oldest first,
    /// and the offset after them: delivery reads the file a batch at a
    /// time, so a long outage's spool never has to fit in memory. A line
    /// that does not read (the tail of an append cut by a crash, which was
    /// never reported as kept) is skipped and logged.
    pub(super) fn read_from(&self, offset: u64, max: usize) -> std::io::Result<(Vec<Record>, u64)> {
        use std::io::{Seek, SeekFrom};
        let mut file = File::open(&self.path)?;
        file.seek(SeekFrom::Start(offset))?;
        let mut reader = BufReader::new(file);
        let (mut records, mut at, mut line) = (Vec::new(), offset, String::new());
        while records.len() < max {
            line.clear();
            let n = reader.read_line(&mut line)?;
            if n == 0 || !line.ends_with('\n') {
                // The end, or a line still being written: not read yet.
                break;
            }
            at += n as u64;
            if line.trim().is_empty() {
                continue;
            }
            match serde_json::from_str::<Record>(&line) {
                Ok(r) => records.push(r),
                Err(e) => tracing::warn!(
                    file = %self.path.display(),
                    "a spooled line at byte {} does not read and is skipped: {e}",
                    at - n as u64
                ),
            }
        }
        Ok((records, at))
    }

    /// Empties the spool once everything in it is stored.
    pub(super) fn clear(&mut self) -> std::io::Result<()> {
        self.file.set_len(0)?;
        self.file.sync_all()?;
        self.records = 0;
        self.checkins = 0;
        Ok(())
    }
}

/// Where refused rows go: `quarantine.jsonl` in the data folder, one line
/// per row with the database's words, for a person to read and replay.
pub(super) fn quarantine(
    dir: &Path,
    location: &str,
    record: &Record,
    error: &str,
) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join("quarantine.jsonl");
    let line = serde_json::json!({
        "at": crate::poll::now_ms(),
        "store": location,
        "error": error,
        "record": record,
    });
    let mut file = OpenOptions::new().create(true).append(true).open(&path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    }
    writeln!(file, "{line}")?;
    file.sync_data()?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checkin(at: i64) -> Record {
        Record::Checkin(Box::new(Checkin {
            device_id: "d1".into(),
            checked_in_at: at,
            ..Default::default()
        }))
    }

    #[test]
    fn records_survive_a_reopen_in_order_and_a_torn_tail_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let mut spool = Spool::open(dir.path(), "mysql://db/fleet").unwrap();
        spool.append(&[checkin(1), checkin(2)]).unwrap();
        spool
            .append(&[Record::Failure {
                device_id: "d1".into(),
                at: 3,
                message: "timed out".into(),
            }])
            .unwrap();
        let path = spool.path().to_owned();
        drop(spool);
        // A crash in the middle of an append.
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(br#"{"kind":"checkin","devi"#).unwrap();
        drop(f);
        let mut spool = Spool::open(dir.path(), "mysql://db/fleet").unwrap();
        assert_eq!((spool.records, spool.checkins()), (3, 2));
        // What comes after the torn line is kept.
        spool.append(&[checkin(4)]).unwrap();
        let (first, next) = spool.read_from(0, 2).unwrap();
        let (rest, end) = spool.read_from(next, 10).unwrap();
        assert_eq!((first.len(), rest.len()), (2, 2));
        assert!(matches!(&first[1], Record::Checkin(c) if c.checked_in_at == 2));
        assert!(matches!(&rest[1], Record::Checkin(c) if c.checked_in_at == 4));
        assert_eq!(spool.read_from(end, 10).unwrap(), (vec![], end));
        // Another store's spool is another file.
        let other = Spool::open(dir.path(), "mysql://db/other").unwrap();
        assert!(other.is_empty());
    }

    #[test]
    fn a_spool_in_use_is_not_opened_twice() {
        let dir = tempfile::tempdir().unwrap();
        let _first = Spool::open(dir.path(), "mysql://db/fleet").unwrap();
        let err = Spool::open(dir.path(), "mysql://db/fleet").err().unwrap();
        assert!(err.to_string().contains("in use"), "{err}");
    }
}
