//! Finding routers on site: MNDP announcements on the local segment, and a
//! bounded probe of the API ports over a subnet the technician names (for
//! routers MNDP does not reach: another segment, MNDP disabled).

use std::{
    net::{IpAddr, Ipv4Addr, SocketAddr},
    sync::Arc,
    time::Duration,
};

use routeros::discovery::{DiscoveredRouter, Discovery, DiscoveryOptions};
use serde::Serialize;
use tokio::{net::TcpStream, sync::Semaphore};

use fleet_store::Transport;

use crate::FleetError;

/// RouterOS's default LAN address: a router answering there is probably
/// fresh out of the box (or reset).
pub const FACTORY_ADDRESS: Ipv4Addr = Ipv4Addr::new(192, 168, 88, 1);

/// A router heard by MNDP, as the app shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct Found {
    pub identity: String,
    pub address: Option<IpAddr>,
    pub version: Option<String>,
    pub board: Option<String>,
    pub macs: Vec<String>,
    pub uptime_secs: Option<u64>,
    /// A hint for the technician, e.g. that this looks factory-default.
    pub hint: Option<String>,
    /// The port and transport it is added with. MNDP does not say which
    /// API services run: a factory-default router has plain API on 8728
    /// and no certificate for API-SSL.
    pub port: u16,
    pub transport: Transport,
}

impl From<&DiscoveredRouter> for Found {
    fn from(r: &DiscoveredRouter) -> Self {
        let address = r.address();
        Found {
            identity: r.identity.clone(),
            address,
            version: r.version_token().map(str::to_owned),
            board: r.board.clone(),
            macs: r.macs().iter().map(|m| m.to_string()).collect(),
            uptime_secs: r.uptime.map(|u| u.as_secs()),
            hint: factory_hint(address, &r.identity),
            port: Transport::Api.default_port(),
            transport: Transport::Api,
        }
    }
}

/// "Factory default router?" when it answers at 192.168.88.1, more sure
/// when it still has the default identity.
pub fn factory_hint(address: Option<IpAddr>, identity: &str) -> Option<String> {
    if address != Some(IpAddr::V4(FACTORY_ADDRESS)) {
        return None;
    }
    Some(if identity == "MikroTik" {
        "factory-default router: default address and identity. Log in as admin (RouterOS 7: the password on the sticker; older: empty)".into()
    } else {
        "at the factory-default address 192.168.88.1 but renamed: configured before, or reset with a script".into()
    })
}

/// Listens for MNDP announcements (sending discovery requests to
/// `opts.targets`) for `duration`; one entry per router.
pub async fn listen(opts: DiscoveryOptions, duration: Duration) -> Result<Vec<Found>, FleetError> {
    let mut disc = Discovery::bind(opts)
        .await
        .map_err(|e| FleetError::InvalidInput(format!("cannot listen for MNDP: {e}")))?;
    let routers = disc
        .scan(duration)
        .await
        .map_err(|e| FleetError::InvalidInput(format!("MNDP listening failed: {e}")))?;
    let mut found: Vec<Found> = routers.iter().map(Found::from).collect();
    found.sort_by(|a, b| a.address.cmp(&b.address).then(a.identity.cmp(&b.identity)));
    Ok(found)
}

/// An open API port found by the probe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct ProbeHit {
    pub address: IpAddr,
    pub port: u16,
    /// How the router is added from this find ([`transport_for_port`]).
    pub transport: Transport,
    pub hint: Option<String>,
}

/// The transport a router found answering on `port` is added with: on the
/// API-SSL port, API-SSL (its certificate pinned on first use); otherwise
/// plain API.
pub fn transport_for_port(port: u16) -> Transport {
    if port == Transport::ApiSsl.default_port() {
        Transport::ApiSsl
    } else {
        Transport::Api
    }
}

/// What a search of the site found: routers heard by MNDP and open API
/// ports found by the probe.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct Discovered {
    pub found: Vec<Found>,
    pub probed: Vec<ProbeHit>,
}

/// The API ports a probe tries.
pub const API_PORTS: [u16; 2] = [8728, 8729];

/// Listens for MNDP for `duration` while probing `probe` (a CIDR or one
/// address, at most a /16) on `ports`, `concurrency` connects at a time.
pub async fn discover(
    opts: DiscoveryOptions,
    duration: Duration,
    probe: Option<&str>,
    ports: &[u16],
    concurrency: usize,
) -> Result<Discovered, FleetError> {
    let probe = probe.map(str::trim).filter(|p| !p.is_empty());
    let hosts = probe.map(subnet_hosts).transpose()?;
    let (found, probed) = tokio::join!(listen(opts, duration), async {
        match &hosts {
            Some(h) => self::probe(h, ports, concurrency, Duration::from_millis(800)).await,
            None => Vec::new(),
        }
    });
    Ok(Discovered {
        found: found?,
        probed,
    })
}

/// Largest subnet probed: a /16, 65,536 addresses.
const MAX_PREFIX_HOSTS: u32 = 1 << 16;

/// The addresses of an IPv4 CIDR, or of one address.
pub fn subnet_hosts(cidr: &str) -> Result<Vec<Ipv4Addr>, FleetError> {
    let bad = |why: &str| FleetError::InvalidInput(format!("{cidr:?} {why}"));
    let (addr, prefix) = match cidr.split_once('/') {
        Some((a, p)) => (
            a,
            p.parse::<u8>()
                .map_err(|_| bad("has no valid prefix length"))?,
        ),
        None => (cidr, 32),
    };
    let addr: Ipv4Addr = addr
        .parse()
        .map_err(|_| bad("is not an IPv4 address or subnet like 192.168.88.0/24"))?;
    if prefix > 32 {
        return Err(bad("has a prefix longer than 32"));
    }
    let size = 1u64 << (32 - u32::from(prefix));
    if size > u64::from(MAX_PREFIX_HOSTS) {
        return Err(bad("is larger than a /16; probe it in parts"));
    }
    let base = u32::from(addr) & (u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0));
    // Skip the network and broadcast addresses of subnets that have them.
    let (first, last) = if size > 2 {
        (1, size - 2)
    } else {
        (0, size - 1)
    };
    Ok((first..=last)
        .map(|i| Ipv4Addr::from(base + i as u32))
        .collect())
}

/// Tries a TCP connect to each port of each address, `concurrency` at a
/// time, each given `timeout`. Only reports what answered.
pub async fn probe(
    hosts: &[Ipv4Addr],
    ports: &[u16],
    concurrency: usize,
    timeout: Duration,
) -> Vec<ProbeHit> {
    let gate = Arc::new(Semaphore::new(concurrency.max(1)));
    let mut tasks = Vec::with_capacity(hosts.len() * ports.len());
    for &host in hosts {
        for &port in ports {
            let gate = gate.clone();
            tasks.push(tokio::spawn(async move {
                let _permit = gate.acquire_owned().await.ok()?;
                let addr = SocketAddr::from((host, port));
                match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
                    Ok(Ok(_)) => Some(ProbeHit {
                        address: IpAddr::V4(host),
                        port,
                        transport: transport_for_port(port),
                        hint: factory_hint(Some(IpAddr::V4(host)), ""),
                    }),
                    _ => None,
                }
            }));
        }
    }
    let mut hits = Vec::new();
    for t in tasks {
        if let Ok(Some(hit)) = t.await {
            hits.push(hit);
        }
    }
    hits.sort_by_key(|h| (h.address, h.port));
    hits
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_router_answering_on_the_api_ssl_port_is_added_with_api_ssl() {
        assert_eq!(transport_for_port(8729), Transport::ApiSsl);
        assert_eq!(transport_for_port(8728), Transport::Api);
        assert_eq!(transport_for_port(18728), Transport::Api);
    }

    #[test]
    fn subnets_expand_without_network_and_broadcast() {
        let h = subnet_hosts("192.168.88.0/30").unwrap();
        assert_eq!(
            h,
            vec![
                Ipv4Addr::new(192, 168, 88, 1),
                Ipv4Addr::new(192, 168, 88, 2)
            ]
        );
        assert_eq!(
            subnet_hosts("10.0.0.7").unwrap(),
            vec![Ipv4Addr::new(10, 0, 0, 7)]
        );
        assert_eq!(subnet_hosts("10.0.0.9/24").unwrap().len(), 254);
        assert_eq!(subnet_hosts("10.0.0.0/31").unwrap().len(), 2);
        assert!(subnet_hosts("10.0.0.0/15")
            .unwrap_err()
            .to_string()
            .contains("/16"));
        assert!(subnet_hosts("10.0.0.0/33").is_err());
        assert!(subnet_hosts("router.local").is_err());
    }

    #[test]
    fn the_factory_default_hint() {
        let fresh = factory_hint(Some(IpAddr::V4(FACTORY_ADDRESS)), "MikroTik").unwrap();
        assert!(fresh.contains("factory-default"));
        let renamed = factory_hint(Some(IpAddr::V4(FACTORY_ADDRESS)), "core-1").unwrap();
        assert!(renamed.contains("renamed"));
        assert_eq!(
            factory_hint(Some("10.0.0.1".parse().unwrap()), "MikroTik"),
            None
        );
        assert_eq!(factory_hint(None, "MikroTik"), None);
    }
}
