//! Certificate-less API-SSL (anonymous Diffie-Hellman) against simulated
//! routers that have no certificate, and each side's clear refusal of the
//! other kind of TLS. Loopback only.

use std::time::Duration;

use routeros::{Client, Command, ConnectOptions, Fingerprint, TlsMode};
use routeros_sim::{SimConfig, SimFleet};

async fn sim(anonymous: bool) -> SimFleet {
    SimFleet::start(SimConfig {
        devices: 1,
        password: "pw".into(),
        tls: true,
        tls_anonymous: anonymous,
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
async fn anonymous_dh_logs_in_to_a_router_without_a_certificate() {
    let sim = sim(true).await;
    assert_eq!(sim.fingerprint(0), None, "no certificate, no fingerprint");
    let port = sim.tls_port(0).unwrap();
    let c = Client::connect(&opts(port, TlsMode::AnonymousDh))
        .await
        .unwrap();
    let r = c
        .run(&Command::new("/system/identity/print"))
        .await
        .unwrap();
    assert_eq!(r.rows[0].get("name").unwrap(), "sim-router-0000");
    assert_eq!(c.peer_fingerprint(), None);
    // Wrong password: the login runs inside the anonymous session.
    let mut bad = opts(port, TlsMode::AnonymousDh);
    bad.password = "nope".into();
    let err = Client::connect(&bad).await.err().unwrap();
    assert!(err.is_auth(), "{err:?}");
}

#[tokio::test]
async fn certificate_modes_against_a_router_without_a_certificate_are_explained() {
    let sim = sim(true).await;
    let port = sim.tls_port(0).unwrap();
    for mode in [
        TlsMode::TrustOnFirstUse,
        TlsMode::Pinned(Fingerprint([7; 32])),
    ] {
        let err = Client::connect(&opts(port, mode.clone()))
            .await
            .err()
            .unwrap();
        assert!(err.is_tls(), "{mode:?}: {err:?}");
        let text = err.to_string();
        assert!(
            text.contains("offers only certificate-less (anonymous"),
            "{mode:?}: {text}"
        );
        assert!(text.contains("AnonymousDh"), "{mode:?}: {text}");
        assert!(!text.contains("did not answer with TLS"), "{text}");
    }
}

#[tokio::test]
async fn anonymous_dh_against_a_router_with_a_certificate_is_explained() {
    let sim = sim(false).await;
    assert!(sim.fingerprint(0).is_some());
    let err = Client::connect(&opts(sim.tls_port(0).unwrap(), TlsMode::AnonymousDh))
        .await
        .err()
        .unwrap();
    assert!(err.is_tls(), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("has a certificate"), "{text}");
    assert!(text.contains("certificate pinning"), "{text}");
}

#[tokio::test]
async fn anonymous_dh_against_the_plain_api_port_is_explained() {
    let sim = sim(true).await;
    let err = Client::connect(&opts(sim.port(0), TlsMode::AnonymousDh))
        .await
        .err()
        .unwrap();
    assert!(err.is_tls(), "{err:?}");
    assert!(err.to_string().contains("did not answer with TLS"), "{err}");
}

#[tokio::test]
async fn plain_login_on_a_certificate_less_api_ssl_port_is_explained() {
    let sim = sim(true).await;
    let err = Client::connect(&opts(sim.tls_port(0).unwrap(), TlsMode::Plain))
        .await
        .err()
        .unwrap();
    let text = err.to_string();
    assert!(text.contains("API-SSL (8729) and needs TLS"), "{text}");
}
