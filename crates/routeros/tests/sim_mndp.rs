//! Discovery hears the simulator's MNDP announcements (loopback only).

use std::time::Duration;

use routeros::discovery::{Discovery, DiscoveryOptions};
use routeros_sim::{SimConfig, SimFleet};

#[tokio::test]
async fn discovery_finds_every_simulated_router() {
    let sim = SimFleet::start(SimConfig {
        devices: 3,
        versions: vec!["7.15.3".into(), "6.49.7".into()],
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let mut disc = Discovery::bind(DiscoveryOptions {
        bind: "127.0.0.1:0".parse().unwrap(),
        targets: Vec::new(),
        ..DiscoveryOptions::default()
    })
    .await
    .unwrap();
    let announcer = sim
        .announce_mndp(disc.local_addr(), Duration::from_millis(100))
        .await
        .unwrap();
    let mut routers = disc.scan(Duration::from_millis(400)).await.unwrap();
    announcer.abort();
    routers.sort_by(|a, b| a.identity.cmp(&b.identity));
    let ids: Vec<&str> = routers.iter().map(|r| r.identity.as_str()).collect();
    assert_eq!(
        ids,
        ["sim-router-0000", "sim-router-0001", "sim-router-0002"]
    );
    assert_eq!(routers[1].version_token(), Some("6.49.7"));
    assert_eq!(routers[0].board.as_deref(), Some("hAP ac^2"));
    assert!(routers[0].uptime.unwrap() >= Duration::from_secs(3600));

    assert!(
        sim.announce_mndp("192.0.2.1:5678".parse().unwrap(), Duration::from_secs(1))
            .await
            .is_err(),
        "never announces off loopback"
    );
}
