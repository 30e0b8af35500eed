//! A sync cannot re-point a stored password.
//!
//! Whoever can write the shared database could rewrite a router's record
//! (its real id, a host of theirs, a far-future `updated_at`) so that the
//! next sync carries it into every laptop's store. The password entered
//! for the real router must then not be sent to the new address by any
//! path until the technician confirms the move on this laptop; and no
//! record, whatever its id, gets the shared database's password.

use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::Duration,
};

use fleet_core::{
    credentials::{CredentialStore, Sensitive},
    AddDevice, CredentialStatus, ErrorKind, Fleet, FleetStore, StoreUrl,
};
use fleet_store::DeviceRecord;
use routeros_sim::{SimConfig, SimFleet};
use tokio::net::TcpListener;

/// The attacker's host: counts every connection made to it.
async fn attacker() -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let hits = Arc::new(AtomicUsize::new(0));
    let count = hits.clone();
    tokio::spawn(async move {
        while let Ok((s, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            drop(s);
        }
    });
    (port, hits)
}

async fn record_of(store: &FleetStore, id: &str) -> DeviceRecord {
    store
        .device_records()
        .await
        .unwrap()
        .into_iter()
        .find(|d| d.id == id)
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_synced_record_that_moves_a_router_gets_no_password() {
    let sim = SimFleet::start(SimConfig {
        devices: 1,
        password: "real-router-pw".into(),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let (evil_port, hits) = attacker().await;
    let dir = tempfile::tempdir().unwrap();
    let embedded = FleetStore::open(&StoreUrl::Sqlite(dir.path().join("laptop.db")))
        .await
        .unwrap();
    let mut fleet = Fleet::new(
        embedded,
        CredentialStore::file(dir.path().join("credentials.json")),
    );
    fleet.poll_timeout = Duration::from_secs(5);
    fleet
        .credentials()
        .set_shared_store(&Sensitive::new("shared-db-pw".into()))
        .unwrap();
    let dev = fleet
        .add_device(AddDevice {
            host: "127.0.0.1".into(),
            port: sim.port(0),
            username: "admin".into(),
            password: Sensitive::new("real-router-pw".into()),
            transport: Default::default(),
        })
        .await
        .unwrap();
    fleet.poll_device(&dev.id).await.unwrap();

    // The shared database, written by someone else: the router's record
    // re-pointed, and a record whose id is the shared store's account.
    let shared = FleetStore::open(&StoreUrl::Sqlite(dir.path().join("shared.db")))
        .await
        .unwrap();
    let mut poisoned = record_of(fleet.store(), &dev.id).await;
    poisoned.port = evil_port;
    poisoned.updated_at = i64::MAX / 2;
    let mimic = DeviceRecord {
        id: "shared-store".into(),
        port: 1,
        ..poisoned.clone()
    };
    shared.save_devices(&[poisoned, mimic]).await.unwrap();
    fleet_store::sync::sync(fleet.store(), &shared, 0)
        .await
        .unwrap();
    let moved = record_of(fleet.store(), &dev.id).await;
    assert_eq!(moved.port, evil_port, "the sync did re-point the record");

    // Poll now: refused before connecting, saying why.
    let err = fleet.poll_device(&dev.id).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AddressChanged, "{err}");
    let text = err.to_string();
    assert!(
        text.contains(&format!("127.0.0.1:{evil_port} as admin")),
        "{text}"
    );
    assert!(
        text.contains(&format!("127.0.0.1:{} as admin", sim.port(0))),
        "{text}"
    );
    // Sessions for preview, confirm, monitor; push targets.
    assert_eq!(
        fleet.connect(&dev.id).await.err().unwrap().kind(),
        ErrorKind::AddressChanged
    );
    assert_eq!(
        fleet
            .targets_of(std::slice::from_ref(&dev.id))
            .await
            .err()
            .unwrap()
            .kind(),
        ErrorKind::AddressChanged
    );
    // Background polling leaves it out, and the mimic has no password.
    let inventory = fleet
        .inventory_targets(Duration::from_secs(30), "none")
        .await
        .unwrap();
    assert!(inventory.targets.is_empty());
    assert_eq!(
        (inventory.address_changed, inventory.without_password),
        (1, 1)
    );
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "nothing reached the new address"
    );
    assert_eq!(
        fleet.credential_status(&dev.id).await.unwrap(),
        CredentialStatus::AddressChanged {
            entered_for: format!("127.0.0.1:{} as admin", sim.port(0)),
            now: format!("127.0.0.1:{evil_port} as admin"),
        }
    );

    // Only the technician's confirmation here sends it there.
    fleet.confirm_address(&dev.id, "tech").await.unwrap();
    assert_eq!(
        fleet.credential_status(&dev.id).await.unwrap(),
        CredentialStatus::Stored
    );
    assert!(fleet.poll_device(&dev.id).await.is_err());
    assert_eq!(
        hits.load(Ordering::SeqCst),
        1,
        "sent only after the confirmation"
    );
    let audited: Vec<String> = fleet
        .store()
        .audit_events(Some(&dev.id), 0, 20)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action.to_string())
        .collect();
    assert!(
        audited.iter().any(|a| a == "credentials.address-confirmed"),
        "{audited:?}"
    );
}
