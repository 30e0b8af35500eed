//! The embedded store's folder and files are readable by the user alone,
//! and a wider mode left by an earlier version is narrowed at start. (One
//! test in its own binary: it sets `FLEETDECK_DATA_DIR` for the process.)

#![cfg(unix)]

use std::{os::unix::fs::PermissionsExt, path::Path};

use fleet_store::{FleetStore, NewDevice, StoreUrl};

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .permissions()
        .mode()
        & 0o777
}

fn set_mode(p: &Path, m: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
}

fn store_files(db: &Path) -> Vec<std::path::PathBuf> {
    ["", "-wal", "-shm"]
        .iter()
        .map(|s| std::path::PathBuf::from(format!("{}{s}", db.display())))
        .filter(|p| p.exists())
        .collect()
}

#[tokio::test]
async fn the_embedded_store_is_the_users_alone() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("fleetdeck");
    std::env::set_var("FLEETDECK_DATA_DIR", &data);
    let db = data.join("fleet.db");
    let open = || async {
        FleetStore::open(&StoreUrl::Sqlite(db.clone()))
            .await
            .unwrap()
    };

    let store = open().await;
    store
        .add_device(&NewDevice {
            host: "192.0.2.1".into(),
            port: 8728,
            username: "admin".into(),
            ..NewDevice::default()
        })
        .await
        .unwrap();
    assert_eq!(mode(&data), 0o700, "the data folder Fleetdeck made");
    let files = store_files(&db);
    assert!(files.len() >= 2, "the database and its WAL: {files:?}");
    for f in &files {
        assert_eq!(mode(f), 0o600, "{}", f.display());
    }
    drop(store);

    // An earlier version (or a copy) left everything readable by others.
    set_mode(&data, 0o755);
    for f in store_files(&db) {
        set_mode(&f, 0o644);
    }
    let store = open().await;
    assert_eq!(store.list_devices().await.unwrap().len(), 1, "nothing lost");
    assert_eq!(mode(&data), 0o700);
    for f in store_files(&db) {
        assert_eq!(mode(&f), 0o600, "{}", f.display());
    }
    drop(store);

    // A store in a folder of the user's choosing: the folder is theirs to
    // set, the store's files are still narrowed.
    let elsewhere = dir.path().join("shared-folder");
    std::fs::create_dir(&elsewhere).unwrap();
    set_mode(&elsewhere, 0o755);
    let other = elsewhere.join("copy.db");
    drop(
        FleetStore::open(&StoreUrl::Sqlite(other.clone()))
            .await
            .unwrap(),
    );
    assert_eq!(mode(&elsewhere), 0o755);
    assert_eq!(mode(&other), 0o600);
}
