//! An API-SSL router is reached over TLS by every path, never in clear.
//!
//! The router in the inventory says `api-ssl`, but its address answers
//! plain API (a port mix-up, or someone in the path hoping for a
//! downgrade). Every entry point — poll now, a session for preview,
//! confirm or the live monitor, background polling, a bulk push — must
//! start a TLS handshake there, never a plain `/login` with the password,
//! and fail saying TLS failed.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use fleet_core::{
    bulk::{self, BulkOptions, Control, PlanSource},
    credentials::{CredentialStore, Sensitive},
    plan,
    telemetry::{Telemetry, TelemetryConfig},
    Fleet, FleetStore, StoreUrl,
};
use tokio::{io::AsyncReadExt, net::TcpListener};

/// A plain-API listener that keeps the first bytes of every connection
/// and then hangs up, as a plain API service does on bytes that are not
/// API words.
async fn plain_listener() -> (u16, Arc<Mutex<Vec<Vec<u8>>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let keep = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = listener.accept().await else {
                break;
            };
            let keep = keep.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let n = tokio::time::timeout(Duration::from_secs(10), s.read(&mut buf))
                    .await
                    .ok()
                    .and_then(Result::ok)
                    .unwrap_or(0);
                keep.lock().unwrap().push(buf[..n].to_vec());
            });
        }
    });
    (port, seen)
}

fn says_tls_failed(message: &str) {
    assert!(
        message.contains("did not answer with TLS"),
        "the error says TLS failed: {message}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_ssl_router_is_never_sent_a_plain_login() {
    let (port, seen) = plain_listener().await;
    let dir = tempfile::tempdir().unwrap();
    let store = FleetStore::open(&StoreUrl::Sqlite(dir.path().join("f.db")))
        .await
        .unwrap();
    let mut fleet = Fleet::new(
        store,
        CredentialStore::file(dir.path().join("credentials.json")),
    );
    fleet.poll_timeout = Duration::from_secs(5);
    let csv = format!("host,port,transport\n127.0.0.1,{port},api-ssl\n");
    let specs = fleet_core::targets::parse_text(&csv).unwrap();
    let password = Sensitive::new("the-admin-password".to_string());
    let enrolled = fleet
        .enroll(&specs, "admin", Some(&password), Duration::from_secs(30))
        .await
        .unwrap();
    let id = enrolled[0].device_id.clone();
    let endpoint = fleet_core::bound::Endpoint {
        host: "127.0.0.1".into(),
        port,
        username: "admin".into(),
    };
    fleet
        .credentials()
        .set_router(&id, &endpoint, &password)
        .unwrap();
    let mut connections = 0;

    // Poll now (the app's "Poll now" and "Poll checked").
    let err = fleet.poll_device(&id).await.unwrap_err();
    says_tls_failed(&err.to_string());
    connections += 1;
    // A session for preview, confirm and the live monitor.
    let err = fleet.connect(&id).await.err().expect("no session in clear");
    says_tls_failed(&err.to_string());
    connections += 1;
    // Background polling.
    let inventory = fleet
        .inventory_targets(Duration::from_secs(30), "none")
        .await
        .unwrap();
    let report = Telemetry::sweep(
        fleet.shared_store(),
        inventory.targets,
        TelemetryConfig::default(),
    )
    .await;
    assert_eq!(report.counters.polls_failed, 1, "{report:?}");
    let device = fleet.store().get_device(&id).await.unwrap();
    says_tls_failed(device.last_error.as_deref().unwrap_or_default());
    connections += 1;
    // A bulk push.
    let report = bulk::push_all(
        fleet.shared_store(),
        fleet.targets_of(std::slice::from_ref(&id)).await.unwrap(),
        PlanSource::Plan(Arc::new(
            plan::compile("/system identity set name=x\n").unwrap(),
        )),
        BulkOptions::default(),
        Control::default(),
        |_| {},
    )
    .await
    .unwrap();
    assert_eq!(report.results[0].status, "unreachable", "{report:?}");
    says_tls_failed(&report.results[0].message);
    connections += 1;

    let seen = routeros_sim::wait::until_some(
        "every connection's first bytes",
        routeros_sim::wait::DEADLINE,
        || {
            let seen = seen.clone();
            async move {
                let s = seen.lock().unwrap().clone();
                (s.len() >= connections).then_some(s)
            }
        },
    )
    .await;
    assert_eq!(seen.len(), connections, "one connection per entry point");
    for bytes in &seen {
        assert_eq!(bytes.first(), Some(&0x16), "a TLS handshake: {bytes:02x?}");
        assert!(
            !bytes.windows(6).any(|w| w == b"/login"),
            "no plain /login: {bytes:02x?}"
        );
        assert!(
            !bytes.windows(9).any(|w| w == b"the-admin"),
            "no password in clear"
        );
    }
}

/// A router added with API-SSL (the form's default) is polled over TLS and
/// its certificate pinned on that first poll.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_router_added_with_api_ssl_is_polled_over_tls_and_pinned() {
    let sim = routeros_sim::SimFleet::start(routeros_sim::SimConfig {
        devices: 1,
        password: "pw".into(),
        tls: true,
        ..Default::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = FleetStore::open(&StoreUrl::Sqlite(dir.path().join("f.db")))
        .await
        .unwrap();
    let fleet = Fleet::new(store, CredentialStore::file(dir.path().join("c.json")));
    let device = fleet
        .add_device(fleet_core::AddDevice {
            host: "127.0.0.1".into(),
            port: sim.tls_port(0).unwrap(),
            username: "admin".into(),
            password: Sensitive::new("pw".into()),
            transport: fleet_store::Transport::ApiSsl,
        })
        .await
        .unwrap();
    assert_eq!(device.transport, fleet_store::Transport::ApiSsl);
    let checkin = fleet.poll_device(&device.id).await.unwrap();
    assert_eq!(checkin.identity, "sim-router-0000");
    let record = fleet
        .store()
        .device_records()
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.id == device.id)
        .unwrap();
    assert_eq!(
        record.tls_fingerprint,
        Some(routeros::Fingerprint(sim.fingerprint(0).unwrap()).to_string()),
        "pinned on first use"
    );
}
