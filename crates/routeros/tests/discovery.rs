//! MNDP discovery over real UDP sockets, on loopback only: the scanner binds
//! 127.0.0.1:0 and sends its trigger to a fake router on 127.0.0.1, which
//! answers the way a router with several interfaces does. Nothing here ever
//! sends to a broadcast address.

use std::{
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    time::Duration,
};

use futures::StreamExt;
use routeros::discovery::{discover, Discovery, DiscoveryOptions, MacAddr};
use routeros_proto::mndp::{self, Announcement};
use tokio::{net::UdpSocket, sync::mpsc, task::JoinHandle, time::timeout};

const HAP_MAC: [u8; 6] = [0x74, 0x4d, 0x28, 0x91, 0x0d, 0x2f];

fn loopback_opts(router: SocketAddr) -> DiscoveryOptions {
    DiscoveryOptions {
        bind: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
        targets: vec![router],
        trigger_interval: Duration::from_millis(200),
        reuse_port: false,
    }
}

/// The hAP ac² of the golden vector, announcing from one interface.
fn hap(mac_last: u8, iface: &str, ipv4: Ipv4Addr, ipv6: &str) -> Announcement {
    let mut mac = HAP_MAC;
    mac[5] = mac_last;
    Announcement::new()
        .with_mac(MacAddr(mac))
        .with_identity("MikroTik")
        .with_version("7.15.3 (stable) 2024-07-24 10:39:01")
        .with_platform("MikroTik")
        .with_uptime_secs(5596)
        .with_software_id("H792-MXJ3")
        .with_board("RBD52G-5HacD2HnD")
        .with_unpack(1)
        .with_ipv6(ipv6.parse().unwrap())
        .with_interface_name(iface)
        .with_ipv4(ipv4)
}

/// A second, factory-default router: same identity, other software ID.
fn chr() -> Announcement {
    Announcement::new()
        .with_mac(MacAddr([0x0c, 0, 0, 0, 0, 1]))
        .with_identity("MikroTik")
        .with_version("7.16.2 (stable)")
        .with_software_id("ABCD-EFGH")
        .with_board("CHR")
        .with_interface_name("ether1")
        .with_ipv4(Ipv4Addr::new(192, 168, 88, 2))
}

struct FakeRouter {
    addr: SocketAddr,
    /// Every datagram the router received.
    received: mpsc::UnboundedReceiver<Vec<u8>>,
    task: JoinHandle<()>,
}

impl Drop for FakeRouter {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A UDP socket on loopback that, on the first datagram it receives, sends
/// `replies` back to the sender, one datagram each, in order.
async fn fake_router(replies: Vec<Vec<u8>>) -> FakeRouter {
    let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
    let addr = socket.local_addr().unwrap();
    let (tx, received) = mpsc::unbounded_channel();
    let task = tokio::spawn(async move {
        let mut buf = [0u8; 2048];
        let mut replies = Some(replies);
        loop {
            let (n, from) = socket.recv_from(&mut buf).await.unwrap();
            assert!(from.ip().is_loopback());
            let _ = tx.send(buf[..n].to_vec());
            for reply in replies.take().into_iter().flatten() {
                socket.send_to(&reply, from).await.unwrap();
            }
        }
    });
    FakeRouter {
        addr,
        received,
        task,
    }
}

fn drain(rx: &mut mpsc::UnboundedReceiver<Vec<u8>>) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    while let Ok(d) = rx.try_recv() {
        out.push(d);
    }
    out
}

#[tokio::test]
async fn scan_groups_interfaces_and_survives_garbage() {
    let ether2 = hap(
        0x2f,
        "bridge/ether2",
        Ipv4Addr::new(192, 168, 88, 1),
        "fe80::764d:28ff:fe91:d2f",
    );
    let ether5 = hap(
        0x33,
        "ether5",
        Ipv4Addr::new(10, 0, 0, 1),
        "fe80::764d:28ff:fe91:d33",
    );
    let mut truncated = mndp::encode(&ether2);
    truncated.pop();
    let mut router = fake_router(vec![
        b"\x01\x02\x03".to_vec(),         // too short
        truncated,                        // TLV cut short
        mndp::encode(&ether2),            // first interface
        mndp::DISCOVERY_REQUEST.to_vec(), // someone's trigger
        vec![0x61, 0, 0, 7],              // no MAC, no identity
        b"GET / HTTP/1.1\r\n\r\n".to_vec(),
        mndp::encode(&ether5), // second interface
        mndp::encode(&chr()),  // another router
    ])
    .await;

    let mut discovery = Discovery::bind(loopback_opts(router.addr)).await.unwrap();
    assert!(discovery.local_addr().ip().is_loopback());
    assert_ne!(discovery.local_addr().port(), 0);
    let routers = discovery.scan(Duration::from_millis(1200)).await.unwrap();

    // The fake router heard only the 4-byte trigger, re-sent on schedule.
    let triggers = drain(&mut router.received);
    assert!(triggers.len() >= 3, "only {} triggers", triggers.len());
    assert!(triggers.iter().all(|t| t[..] == mndp::DISCOVERY_REQUEST));

    assert_eq!(routers.len(), 2, "{routers:#?}");
    let hap_ac2 = routers
        .iter()
        .find(|r| r.software_id.as_deref() == Some("H792-MXJ3"))
        .unwrap();
    assert_eq!(hap_ac2.identity, "MikroTik");
    assert_eq!(hap_ac2.identity_raw, b"MikroTik");
    assert_eq!(
        hap_ac2.version.as_deref(),
        Some("7.15.3 (stable) 2024-07-24 10:39:01")
    );
    assert_eq!(hap_ac2.version_token(), Some("7.15.3"));
    assert_eq!(hap_ac2.platform.as_deref(), Some("MikroTik"));
    assert_eq!(hap_ac2.board.as_deref(), Some("RBD52G-5HacD2HnD"));
    assert_eq!(hap_ac2.uptime, Some(Duration::from_secs(5596)));
    let macs: Vec<String> = hap_ac2.macs().iter().map(ToString::to_string).collect();
    assert_eq!(macs, ["74:4D:28:91:0D:2F", "74:4D:28:91:0D:33"]);
    assert_eq!(hap_ac2.interfaces.len(), 2);
    let (a, b) = (&hap_ac2.interfaces[0], &hap_ac2.interfaces[1]);
    assert_eq!(a.name.as_deref(), Some("bridge/ether2"));
    assert_eq!(a.mac, Some(MacAddr(HAP_MAC)));
    assert_eq!(a.ipv4, Some(Ipv4Addr::new(192, 168, 88, 1)));
    assert_eq!(
        a.ipv6,
        Some("fe80::764d:28ff:fe91:d2f".parse::<Ipv6Addr>().unwrap())
    );
    assert_eq!(a.source, router.addr);
    assert_eq!(b.name.as_deref(), Some("ether5"));
    assert_eq!(b.ipv4, Some(Ipv4Addr::new(10, 0, 0, 1)));
    assert_eq!(b.source, router.addr);
    assert!(b.last_seen >= a.last_seen);
    assert_eq!(
        hap_ac2.ipv4_addrs(),
        [Ipv4Addr::new(192, 168, 88, 1), Ipv4Addr::new(10, 0, 0, 1)]
    );
    // ether5 was heard last.
    assert_eq!(
        hap_ac2.address(),
        Some(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)))
    );
    assert!(hap_ac2.first_seen <= hap_ac2.last_seen);

    let chr_router = routers
        .iter()
        .find(|r| r.board.as_deref() == Some("CHR"))
        .unwrap();
    assert_eq!(chr_router.identity, "MikroTik");
    assert_eq!(chr_router.interfaces.len(), 1);
    assert_eq!(chr_router.version_token(), Some("7.16.2"));

    let stats = discovery.stats();
    assert_eq!(stats.malformed, 3);
    assert_eq!(stats.requests_seen, 1);
    assert_eq!(stats.ignored, 1);
    assert_eq!(stats.announcements, 3);
    assert_eq!(stats.send_errors, 0);
    assert!(stats.triggers_sent >= triggers.len() as u64);

    // A later scan keeps what was heard; clear() forgets it.
    assert_eq!(discovery.routers().len(), 2);
    discovery.clear();
    assert!(discovery.routers().is_empty());
}

#[tokio::test]
async fn update_stream_skips_garbage_and_yields_each_interface() {
    let router = fake_router(vec![
        vec![0xff; 3],
        mndp::encode(&hap(1, "ether1", Ipv4Addr::new(10, 1, 1, 1), "fe80::1")),
        vec![0, 0, 0, 0, 0, 5, 0, 9, b'x'],
        mndp::encode(&hap(2, "ether2", Ipv4Addr::new(10, 2, 2, 1), "fe80::2")),
    ])
    .await;
    let mut discovery = Discovery::bind(loopback_opts(router.addr)).await.unwrap();
    let mut got = Vec::new();
    {
        let updates = discovery.updates();
        futures::pin_mut!(updates);
        for _ in 0..2 {
            let router = timeout(Duration::from_secs(10), updates.next())
                .await
                .expect("no announcement within 10 s")
                .expect("stream ended")
                .expect("discovery failed");
            got.push(router);
        }
    }
    let (first, second) = (got[0].clone(), got[1].clone());
    assert_eq!(first.interfaces.len(), 1);
    assert_eq!(first.interfaces[0].name.as_deref(), Some("ether1"));
    // The second announcement joined the first router.
    assert_eq!(second.interfaces.len(), 2);
    assert_eq!(second.ipv4_addrs().len(), 2);
    assert_eq!(discovery.routers(), [second]);
    assert_eq!(discovery.stats().malformed, 2);
}

#[tokio::test]
async fn discover_scans_once_and_listen_only_sends_nothing() {
    let mut router = fake_router(vec![mndp::encode(&chr())]).await;
    let found = discover(loopback_opts(router.addr), Duration::from_millis(500))
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].board.as_deref(), Some("CHR"));
    assert_eq!(
        found[0].address(),
        Some(IpAddr::V4(Ipv4Addr::new(192, 168, 88, 2)))
    );

    // With no targets the scanner only listens.
    drain(&mut router.received);
    let mut opts = loopback_opts(router.addr);
    opts.targets.clear();
    let mut quiet = Discovery::bind(opts).await.unwrap();
    assert!(quiet
        .scan(Duration::from_millis(300))
        .await
        .unwrap()
        .is_empty());
    assert_eq!(quiet.stats().triggers_sent, 0);
    assert!(drain(&mut router.received).is_empty());
}

#[tokio::test]
async fn routers_announcing_unasked_are_heard() {
    // Routers announce every 60 s without a trigger; a listener hears them.
    let mut opts = loopback_opts(SocketAddr::from((Ipv4Addr::LOCALHOST, 9)));
    opts.targets.clear();
    let mut discovery = Discovery::bind(opts).await.unwrap();
    let to = discovery.local_addr();
    let sender = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
    sender.send_to(&mndp::encode(&chr()), to).await.unwrap();
    let r = timeout(Duration::from_secs(10), discovery.next_update())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(r.interfaces[0].source, sender.local_addr().unwrap());
}

#[test]
fn defaults_broadcast_on_the_mndp_port() {
    let d = DiscoveryOptions::default();
    assert_eq!(d.bind, "0.0.0.0:5678".parse::<SocketAddr>().unwrap());
    assert_eq!(
        d.targets,
        ["255.255.255.255:5678".parse::<SocketAddr>().unwrap()]
    );
    assert_eq!(d.trigger_interval, Duration::from_secs(5));
    assert!(d.reuse_port);
}
