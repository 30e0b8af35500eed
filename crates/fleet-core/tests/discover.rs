//! Discovery on loopback: the simulator's MNDP announcements, and a probe
//! of API ports that finds exactly the ones that answer.

use std::{net::Ipv4Addr, time::Duration};

use fleet_core::discover;
use routeros::discovery::DiscoveryOptions;
use routeros_sim::{SimConfig, SimFleet};

#[tokio::test]
async fn mndp_lists_each_router_once_with_its_facts() {
    let sim = SimFleet::start(SimConfig {
        devices: 3,
        versions: vec!["7.16.2".into(), "6.49.17".into()],
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let port = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = format!("127.0.0.1:{port}").parse().unwrap();
    let announcer = sim
        .announce_mndp(listen, Duration::from_millis(100))
        .await
        .unwrap();
    let found = discover::listen(
        DiscoveryOptions {
            bind: listen,
            targets: Vec::new(),
            ..DiscoveryOptions::default()
        },
        Duration::from_millis(600),
    )
    .await
    .unwrap();
    announcer.abort();
    let mut ids: Vec<&str> = found.iter().map(|f| f.identity.as_str()).collect();
    ids.sort();
    assert_eq!(
        ids,
        ["sim-router-0000", "sim-router-0001", "sim-router-0002"]
    );
    assert!(found
        .iter()
        .all(|f| !f.macs.is_empty() && f.uptime_secs.is_some()));
    assert!(found
        .iter()
        .any(|f| f.version.as_deref() == Some("6.49.17")));
    assert!(
        found.iter().all(|f| f.hint.is_none()),
        "not at 192.168.88.1"
    );
}

#[tokio::test]
async fn the_probe_finds_open_api_ports_only() {
    let sim = SimFleet::start(SimConfig {
        devices: 2,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut ports = sim.ports();
    ports.push(closed);
    let hosts = discover::subnet_hosts("127.0.0.1/32").unwrap();
    let hits = discover::probe(&hosts, &ports, 8, Duration::from_millis(500)).await;
    let found: Vec<u16> = hits.iter().map(|h| h.port).collect();
    let mut expected = sim.ports();
    expected.sort();
    assert_eq!(found, expected);
    assert!(hits
        .iter()
        .all(|h| h.address == std::net::IpAddr::V4(Ipv4Addr::LOCALHOST)));
}
