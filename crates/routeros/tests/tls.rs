//! API-SSL against simulated routers with self-signed certificates.

use std::time::Duration;

use routeros::{Client, Command, ConnectOptions, Fingerprint, TlsMode};
use routeros_sim::{SimConfig, SimFleet};

async fn sim() -> SimFleet {
    SimFleet::start(SimConfig {
        devices: 2,
        password: "pw".into(),
        tls: true,
        ..SimConfig::default()
    })
    .await
    .unwrap()
}

fn opts(port: u16, tls: TlsMode) -> ConnectOptions {
    let mut o = ConnectOptions::new("127.0.0.1", port, "admin", "pw");
    o.tls = tls;
    o.connect_timeout = Duration::from_secs(2);
    o
}

#[tokio::test]
async fn trust_on_first_use_then_pinned() {
    let sim = sim().await;
    let port = sim.tls_port(0).unwrap();
    let first = Client::connect(&opts(port, TlsMode::TrustOnFirstUse))
        .await
        .unwrap();
    let fp = first
        .peer_fingerprint()
        .expect("TLS sessions report the fingerprint");
    assert_eq!(fp.0, sim.fingerprint(0).unwrap());
    let pinned = Client::connect(&opts(port, TlsMode::Pinned(fp)))
        .await
        .unwrap();
    let r = pinned
        .run(&Command::new("/system/identity/print"))
        .await
        .unwrap();
    assert_eq!(r.rows[0].get("name").unwrap(), "sim-router-0000");
    assert_eq!(pinned.peer_fingerprint(), Some(fp));
}

#[tokio::test]
async fn a_changed_certificate_is_a_hard_error() {
    let sim = sim().await;
    // Router 1's certificate is not router 0's.
    let other = Fingerprint(sim.fingerprint(1).unwrap());
    let err = Client::connect(&opts(sim.tls_port(0).unwrap(), TlsMode::Pinned(other)))
        .await
        .err()
        .unwrap();
    assert!(err.is_tls(), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("certificate has changed"), "{text}");
    assert!(text.contains(&other.to_string()), "{text}");
}

#[tokio::test]
async fn plain_to_a_tls_port_and_tls_to_a_plain_port_are_explained() {
    let sim = sim().await;
    let err = Client::connect(&opts(sim.tls_port(0).unwrap(), TlsMode::Plain))
        .await
        .err()
        .unwrap();
    assert!(err.is_tls(), "{err:?}");
    assert!(err.to_string().contains("this port is API-SSL"), "{err}");

    let err = Client::connect(&opts(sim.port(0), TlsMode::TrustOnFirstUse))
        .await
        .err()
        .unwrap();
    assert!(err.is_tls(), "{err:?}");
    assert!(err.to_string().contains("did not answer with TLS"), "{err}");
}

#[tokio::test]
async fn plain_sessions_have_no_fingerprint() {
    let sim = sim().await;
    let c = Client::connect(&opts(sim.port(0), TlsMode::Plain))
        .await
        .unwrap();
    assert_eq!(c.peer_fingerprint(), None);
}
