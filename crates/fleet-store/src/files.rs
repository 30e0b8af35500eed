//! The embedded store's files are readable by the user alone: the fleet's
//! inventory, audit trail and router exports are in them. The folder
//! Fleetdeck creates is 0700 and the database with its WAL and shared-memory
//! files 0600; a wider mode found at start (an older version, a copy, a
//! umask) is narrowed and said in the log.

use std::path::Path;

use crate::{default_data_dir, StoreError};

/// Creates the folder of the store at `db` if missing (0700), and narrows
/// Fleetdeck's own data folder to 0700 if it is wider.
pub(crate) fn prepare_folder(db: &Path) -> Result<(), StoreError> {
    let Some(dir) = db.parent().filter(|d| !d.as_os_str().is_empty()) else {
        return Ok(());
    };
    let error = |source| StoreError::DataDir {
        path: dir.display().to_string(),
        source,
    };
    if !dir.exists() {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(dir).map_err(error)?;
    }
    // Only Fleetdeck's own folder: a store the user put in a shared
    // folder (say /tmp) leaves that folder as it is.
    let ours = default_data_dir().is_ok_and(|d| same_path(&d, dir));
    if ours {
        narrow(dir, 0o700).map_err(error)?;
    }
    Ok(())
}

/// Creates the database file 0600 before SQLite does (its WAL and
/// shared-memory files then take the same mode), or narrows the files of
/// an existing store.
pub(crate) fn secure_files(db: &Path) -> Result<(), StoreError> {
    let error = |path: &Path| {
        let path = path.display().to_string();
        move |source| StoreError::DataDir { path, source }
    };
    if !db.exists() {
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        match opts.open(db) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(error(db)(e)),
        }
    }
    for suffix in ["", "-wal", "-shm"] {
        let file = std::path::PathBuf::from(format!("{}{suffix}", db.display()));
        if file.exists() {
            narrow(&file, 0o600).map_err(error(&file))?;
        }
    }
    Ok(())
}

fn same_path(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

#[cfg(unix)]
fn narrow(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let now = std::fs::metadata(path)?.permissions().mode() & 0o777;
    if now & !mode != 0 {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
        tracing::warn!(
            path = %path.display(),
            "{} was readable by others (mode {now:o}); narrowed to {mode:o}",
            path.display()
        );
    }
    Ok(())
}

#[cfg(not(unix))]
fn narrow(_: &Path, _: u32) -> std::io::Result<()> {
    Ok(())
}
