//! Finding routers on the local network with MNDP (UDP 5678).
//!
//! A [`Discovery`] owns one UDP socket. While it runs it sends the 4-byte
//! discovery request to its targets every few seconds, decodes whatever
//! arrives, drops its own (and other scanners') requests and malformed
//! datagrams, and folds the announcements into one [`DiscoveredRouter`] per
//! device. A router announces itself once per interface, each time with that
//! interface's MAC, name and addresses, so a device is recognised by any MAC
//! it has announced, then by its software ID, then by identity and board.
//!
//! By default the socket is bound to `0.0.0.0:5678` with `SO_REUSEADDR`,
//! `SO_REUSEPORT` (where the platform has it) and `SO_BROADCAST`, and the
//! request goes to `255.255.255.255:5678`: routers answer by broadcast to
//! port 5678, so a socket on any other port would hear nothing. Directed
//! broadcasts (one per local interface) can be added to
//! [`DiscoveryOptions::targets`].
//!
//! ```no_run
//! # async fn demo() -> Result<(), routeros::discovery::DiscoveryError> {
//! use std::time::Duration;
//! use routeros::discovery::{discover, DiscoveryOptions};
//!
//! for router in discover(DiscoveryOptions::default(), Duration::from_secs(10)).await? {
//!     println!("{} {:?} {:?}", router.identity, router.address(), router.version_token());
//! }
//! # Ok(()) }
//! ```

use std::{
    io,
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    time::{Duration, SystemTime},
};

use futures::Stream;
use routeros_proto::mndp::{self, decode_text, Announcement, Packet};
use socket2::{Domain, Protocol, Socket, Type};
use tokio::{
    net::UdpSocket,
    time::{Instant, Interval, MissedTickBehavior},
};
use tracing::{debug, warn};

pub use routeros_proto::mndp::MacAddr;

/// The shortest trigger interval; shorter settings are raised to this.
const MIN_TRIGGER_INTERVAL: Duration = Duration::from_millis(100);

/// Where to listen and where to send discovery requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscoveryOptions {
    /// Local address of the UDP socket. Default `0.0.0.0:5678`.
    pub bind: SocketAddr,
    /// Where the 4-byte discovery request goes. Default
    /// `255.255.255.255:5678`. Empty: listen only (routers still announce
    /// themselves every 60 s).
    pub targets: Vec<SocketAddr>,
    /// How often the request is repeated while scanning. Default 5 s (what
    /// WinBox reportedly does); at least 100 ms.
    pub trigger_interval: Duration,
    /// Also set `SO_REUSEPORT` where the platform has it, so WinBox or a
    /// second scanner can listen on 5678 at the same time. Default `true`.
    pub reuse_port: bool,
}

impl Default for DiscoveryOptions {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from((Ipv4Addr::UNSPECIFIED, mndp::PORT)),
            targets: vec![SocketAddr::from((Ipv4Addr::BROADCAST, mndp::PORT))],
            trigger_interval: Duration::from_secs(5),
            reuse_port: true,
        }
    }
}

/// Why discovery could not run.
#[derive(Debug, thiserror::Error)]
pub enum DiscoveryError {
    #[error("could not open UDP {addr} for router discovery: {source}. Another program (WinBox, The Dude, another scanner) may hold the port without sharing it; close it and scan again")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: io::Error,
    },
    #[error("router discovery on {addr} stopped: {source}")]
    Receive {
        addr: SocketAddr,
        #[source]
        source: io::Error,
    },
}

/// Counters since the [`Discovery`] was bound.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DiscoveryStats {
    /// Discovery requests sent (one per target per trigger).
    pub triggers_sent: u64,
    /// Requests that could not be sent (e.g. no route for a broadcast).
    pub send_errors: u64,
    /// Announcements folded into the router list.
    pub announcements: u64,
    /// Discovery requests received: our own looped back, or other scanners'.
    pub requests_seen: u64,
    /// Datagrams that are not valid MNDP.
    pub malformed: u64,
    /// Valid announcements without a MAC or an identity, which describe no
    /// device we could group.
    pub ignored: u64,
    /// Announcements refused because the table is full ([`MAX_ROUTERS`]
    /// routers, [`MAX_INTERFACES`] interfaces each): a flood of forged
    /// announcements cannot grow it without bound.
    pub refused_full: u64,
}

/// Most routers one scanner keeps (a site has tens; a /16 of routers all
/// on one segment is not a real network).
pub const MAX_ROUTERS: usize = 4096;
/// Most interfaces kept per router.
pub const MAX_INTERFACES: usize = 256;

/// One interface of a router, as announced from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscoveredInterface {
    /// The interface's MAC (not a chassis MAC).
    pub mac: Option<MacAddr>,
    /// Sender-side interface name, e.g. `bridge/ether2`.
    pub name: Option<String>,
    pub ipv4: Option<Ipv4Addr>,
    pub ipv6: Option<Ipv6Addr>,
    /// Where the announcement came from.
    pub source: SocketAddr,
    pub last_seen: SystemTime,
}

/// One device, grouped from its per-interface announcements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscoveredRouter {
    /// `/system identity`, decoded for display (UTF-8, else Windows-1252).
    pub identity: String,
    /// The identity exactly as announced.
    pub identity_raw: Vec<u8>,
    /// Full version text, e.g. `7.15.3 (stable) 2024-07-24 10:39:01`.
    pub version: Option<String>,
    pub platform: Option<String>,
    pub board: Option<String>,
    pub software_id: Option<String>,
    /// Uptime as of the latest announcement.
    pub uptime: Option<Duration>,
    /// Sorted by interface name, then MAC.
    pub interfaces: Vec<DiscoveredInterface>,
    pub first_seen: SystemTime,
    pub last_seen: SystemTime,
}

impl DiscoveredRouter {
    /// Every MAC the router has announced, sorted.
    pub fn macs(&self) -> Vec<MacAddr> {
        let mut macs: Vec<MacAddr> = self.interfaces.iter().filter_map(|i| i.mac).collect();
        macs.sort();
        macs.dedup();
        macs
    }

    pub fn ipv4_addrs(&self) -> Vec<Ipv4Addr> {
        self.interfaces.iter().filter_map(|i| i.ipv4).collect()
    }

    pub fn ipv6_addrs(&self) -> Vec<Ipv6Addr> {
        self.interfaces.iter().filter_map(|i| i.ipv6).collect()
    }

    /// The version's leading token, e.g. `7.15.3`.
    pub fn version_token(&self) -> Option<&str> {
        self.version.as_deref().and_then(mndp::version_token)
    }

    /// The interface heard from most recently.
    pub fn latest_interface(&self) -> Option<&DiscoveredInterface> {
        self.interfaces.iter().max_by_key(|i| i.last_seen)
    }

    /// The address to connect to: the announced IPv4 address of the
    /// interface heard most recently, else the address it was sent from.
    /// `None` when neither is usable (an interface without an address).
    pub fn address(&self) -> Option<IpAddr> {
        let latest = self.latest_interface()?;
        latest
            .ipv4
            .map(IpAddr::V4)
            .filter(|ip| !ip.is_unspecified())
            .or_else(|| Some(latest.source.ip()).filter(|ip| !ip.is_unspecified()))
    }
}

/// Discovered routers, grouped per device.
#[derive(Debug, Default)]
struct RouterTable {
    routers: Vec<DiscoveredRouter>,
}

impl RouterTable {
    /// Which known router an announcement belongs to: one that announced the
    /// same MAC; else one with the same software ID; else, when neither
    /// carries a software ID, one with the same identity and no conflicting
    /// board. (Many routers keep the default identity `MikroTik`, so the
    /// identity alone cannot tell devices apart.)
    fn find(&self, ann: &Announcement) -> Option<usize> {
        if let Some(mac) = ann.mac() {
            let by_mac = self
                .routers
                .iter()
                .position(|r| r.interfaces.iter().any(|i| i.mac == Some(mac)));
            if by_mac.is_some() {
                return by_mac;
            }
        }
        let software_id = text(ann.software_id()).filter(|s| !s.is_empty());
        let board = text(ann.board());
        let identity = ann.identity().unwrap_or_default();
        self.routers
            .iter()
            .position(|r| match (&software_id, &r.software_id) {
                (Some(a), Some(b)) => a == b,
                (None, None) => {
                    r.identity_raw == identity
                        && match (&board, &r.board) {
                            (Some(a), Some(b)) => a == b,
                            _ => true,
                        }
                }
                _ => false,
            })
    }

    /// Folds an announcement in; returns the index of its router, or
    /// `None` when it would take a new router or interface past the table's
    /// bounds.
    fn record(&mut self, ann: &Announcement, source: SocketAddr, now: SystemTime) -> Option<usize> {
        let idx = match self.find(ann) {
            Some(idx) => idx,
            None if self.routers.len() >= MAX_ROUTERS => return None,
            None => {
                self.routers.push(DiscoveredRouter {
                    identity: String::new(),
                    identity_raw: Vec::new(),
                    version: None,
                    platform: None,
                    board: None,
                    software_id: None,
                    uptime: None,
                    interfaces: Vec::new(),
                    first_seen: now,
                    last_seen: now,
                });
                self.routers.len() - 1
            }
        };
        let mac = ann.mac();
        let name = text(ann.interface_name());
        let existing = self.routers[idx]
            .interfaces
            .iter()
            .position(|i| match (mac, &name) {
                (Some(mac), _) => i.mac == Some(mac),
                (None, Some(name)) => i.mac.is_none() && i.name.as_ref() == Some(name),
                (None, None) => i.mac.is_none() && i.name.is_none() && i.source == source,
            });
        if existing.is_none() && self.routers[idx].interfaces.len() >= MAX_INTERFACES {
            return None;
        }
        let r = &mut self.routers[idx];
        if let Some(identity) = ann.identity() {
            r.identity = decode_text(identity).into_owned();
            r.identity_raw = identity.to_vec();
        }
        replace(&mut r.version, text(ann.version()));
        replace(&mut r.platform, text(ann.platform()));
        replace(&mut r.board, text(ann.board()));
        replace(&mut r.software_id, text(ann.software_id()));
        replace(&mut r.uptime, ann.uptime());
        r.last_seen = now;

        let iface = DiscoveredInterface {
            mac,
            name,
            ipv4: ann.ipv4(),
            ipv6: ann.ipv6(),
            source,
            last_seen: now,
        };
        match existing {
            Some(i) => r.interfaces[i] = iface,
            None => r.interfaces.push(iface),
        }
        r.interfaces
            .sort_by(|a, b| (&a.name, a.mac).cmp(&(&b.name, b.mac)));
        Some(idx)
    }

    /// Sorted by identity, then first MAC.
    fn sorted(&self) -> Vec<DiscoveredRouter> {
        let mut out = self.routers.clone();
        out.sort_by_cached_key(|r| (r.identity.clone(), r.macs().first().copied()));
        out
    }
}

fn text(bytes: Option<&[u8]>) -> Option<String> {
    bytes.map(|b| decode_text(b).into_owned())
}

/// Keeps the old value when the new announcement lacks the field.
fn replace<T>(slot: &mut Option<T>, new: Option<T>) {
    if new.is_some() {
        *slot = new;
    }
}

/// An MNDP scanner: one UDP socket, its trigger timer and the routers heard.
#[derive(Debug)]
pub struct Discovery {
    socket: UdpSocket,
    local_addr: SocketAddr,
    targets: Vec<SocketAddr>,
    ticker: Interval,
    buf: Vec<u8>,
    table: RouterTable,
    stats: DiscoveryStats,
}

impl Discovery {
    /// Opens the socket. Nothing is sent until the first scan or update.
    pub async fn bind(opts: DiscoveryOptions) -> Result<Discovery, DiscoveryError> {
        let bind_err = |source: io::Error| DiscoveryError::Bind {
            addr: opts.bind,
            source,
        };
        let std_socket = bind_socket(&opts).map_err(bind_err)?;
        let socket = UdpSocket::from_std(std_socket).map_err(bind_err)?;
        let local_addr = socket.local_addr().map_err(bind_err)?;
        let period = opts.trigger_interval.max(MIN_TRIGGER_INTERVAL);
        let mut ticker = tokio::time::interval_at(Instant::now(), period);
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        debug!(%local_addr, targets = ?opts.targets, "MNDP discovery socket open");
        Ok(Discovery {
            socket,
            local_addr,
            targets: opts.targets,
            ticker,
            buf: vec![0; 65_536],
            table: RouterTable::default(),
            stats: DiscoveryStats::default(),
        })
    }

    /// The bound address (with the real port when bound to port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    pub fn stats(&self) -> DiscoveryStats {
        self.stats
    }

    /// Every router heard so far, sorted by identity, then MAC.
    pub fn routers(&self) -> Vec<DiscoveredRouter> {
        self.table.sorted()
    }

    /// Forgets the routers heard so far (the counters stay).
    pub fn clear(&mut self) {
        self.table = RouterTable::default();
    }

    /// Sends the discovery request to every target now. A failed send is
    /// logged and counted, not fatal: other targets may work, and routers
    /// also announce themselves unasked.
    pub async fn trigger(&mut self) {
        for target in &self.targets {
            match self.socket.send_to(&mndp::DISCOVERY_REQUEST, target).await {
                Ok(_) => {
                    self.stats.triggers_sent += 1;
                    debug!(%target, "sent MNDP discovery request");
                }
                Err(error) => {
                    self.stats.send_errors += 1;
                    warn!(%target, %error, "could not send MNDP discovery request");
                }
            }
        }
    }

    /// Listens (re-sending the request on schedule) until an announcement
    /// is accepted, and returns its router as grouped so far. Cancel-safe.
    pub async fn next_update(&mut self) -> Result<DiscoveredRouter, DiscoveryError> {
        loop {
            let received = tokio::select! {
                _ = self.ticker.tick(), if !self.targets.is_empty() => None,
                r = self.socket.recv_from(&mut self.buf) => Some(r),
            };
            match received {
                None => self.trigger().await,
                Some(Ok((len, from))) => {
                    if let Some(idx) = self.accept(len, from) {
                        return Ok(self.table.routers[idx].clone());
                    }
                }
                // Windows reports an ICMP "port unreachable" for an earlier
                // send as a reset on the next receive; it is not fatal.
                Some(Err(e))
                    if matches!(
                        e.kind(),
                        io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionRefused
                    ) =>
                {
                    debug!(error = %e, "ignoring ICMP error on the MNDP socket");
                }
                Some(Err(source)) => {
                    return Err(DiscoveryError::Receive {
                        addr: self.local_addr,
                        source,
                    })
                }
            }
        }
    }

    /// Scans for `duration`: sends the request at once and then on schedule,
    /// collects announcements, and returns every router heard (including
    /// those from earlier scans; see [`Discovery::clear`]).
    pub async fn scan(
        &mut self,
        duration: Duration,
    ) -> Result<Vec<DiscoveredRouter>, DiscoveryError> {
        let deadline = Instant::now() + duration;
        self.ticker.reset_immediately();
        loop {
            match tokio::time::timeout_at(deadline, self.next_update()).await {
                Err(_elapsed) => break,
                Ok(Ok(_)) => {}
                Ok(Err(e)) => return Err(e),
            }
        }
        Ok(self.routers())
    }

    /// [`Discovery::next_update`] as a stream that runs until dropped. It
    /// ends after yielding an error.
    pub fn updates(
        &mut self,
    ) -> impl Stream<Item = Result<DiscoveredRouter, DiscoveryError>> + Send + '_ {
        futures::stream::unfold(Some(self), |state| async move {
            let discovery = state?;
            match discovery.next_update().await {
                Ok(router) => Some((Ok(router), Some(discovery))),
                Err(e) => Some((Err(e), None)),
            }
        })
    }

    /// Decodes the datagram in `buf` and folds it in if it is a usable
    /// announcement.
    fn accept(&mut self, len: usize, from: SocketAddr) -> Option<usize> {
        let ann = match mndp::decode(&self.buf[..len]) {
            Ok(Packet::Announcement(ann)) => ann,
            Ok(Packet::DiscoveryRequest) => {
                self.stats.requests_seen += 1;
                debug!(%from, "ignoring MNDP discovery request (ours or another scanner's)");
                return None;
            }
            Err(error) => {
                self.stats.malformed += 1;
                warn!(%from, len, %error, "ignoring malformed MNDP datagram");
                return None;
            }
        };
        if ann.mac().is_none() && ann.identity().is_none_or(<[u8]>::is_empty) {
            self.stats.ignored += 1;
            debug!(%from, "ignoring MNDP announcement without MAC or identity");
            return None;
        }
        let Some(idx) = self.table.record(&ann, from, SystemTime::now()) else {
            self.stats.refused_full += 1;
            if self.stats.refused_full == 1 {
                warn!(%from, "ignoring MNDP announcements: the table of routers heard is full ({MAX_ROUTERS} routers, {MAX_INTERFACES} interfaces each)");
            }
            return None;
        };
        self.stats.announcements += 1;
        let r = &self.table.routers[idx];
        debug!(%from, identity = %r.identity, mac = ?ann.mac(), "MNDP announcement");
        Some(idx)
    }
}

/// Binds a [`Discovery`] and scans once for `duration`.
pub async fn discover(
    opts: DiscoveryOptions,
    duration: Duration,
) -> Result<Vec<DiscoveredRouter>, DiscoveryError> {
    Discovery::bind(opts).await?.scan(duration).await
}

fn bind_socket(opts: &DiscoveryOptions) -> io::Result<std::net::UdpSocket> {
    let socket = Socket::new(
        Domain::for_address(opts.bind),
        Type::DGRAM,
        Some(Protocol::UDP),
    )?;
    socket.set_reuse_address(true)?;
    #[cfg(all(
        unix,
        not(any(
            target_os = "solaris",
            target_os = "illumos",
            target_os = "cygwin",
            target_os = "nuttx"
        ))
    ))]
    if opts.reuse_port {
        if let Err(error) = socket.set_reuse_port(true) {
            debug!(%error, "SO_REUSEPORT unavailable; continuing without it");
        }
    }
    if opts.bind.is_ipv4() {
        socket.set_broadcast(true)?;
    }
    socket.set_nonblocking(true)?;
    socket.bind(&opts.bind.into())?;
    Ok(socket.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src(last: u8) -> SocketAddr {
        SocketAddr::from(([192, 168, 88, last], mndp::PORT))
    }

    fn ann(mac_last: u8, identity: &str, software_id: Option<&str>, iface: &str) -> Announcement {
        let mut a = Announcement::new()
            .with_mac(MacAddr([0x74, 0x4d, 0x28, 0x91, 0x0d, mac_last]))
            .with_identity(identity)
            .with_board("RBD52G-5HacD2HnD")
            .with_interface_name(iface);
        if let Some(id) = software_id {
            a.set(mndp::tlv::SOFTWARE_ID, id);
        }
        a
    }

    /// A flood of forged announcements, each a new router, stops growing
    /// the table at its bound; a known router is still updated.
    #[test]
    fn the_table_of_routers_heard_is_bounded() {
        let mut t = RouterTable::default();
        let now = SystemTime::now();
        for i in 0..MAX_ROUTERS + 10 {
            let b = (i as u32).to_be_bytes();
            let a = Announcement::new()
                .with_mac(MacAddr([0x02, 0, b[0], b[1], b[2], b[3]]))
                .with_identity(format!("forged-{i}"))
                .with_software_id(format!("SW-{i}"));
            let kept = t.record(&a, src(1), now);
            assert_eq!(kept.is_some(), i < MAX_ROUTERS, "announcement {i}");
        }
        assert_eq!(t.routers.len(), MAX_ROUTERS);
        let again = Announcement::new()
            .with_mac(MacAddr([0x02, 0, 0, 0, 0, 5]))
            .with_identity("renamed");
        assert_eq!(t.record(&again, src(1), now), Some(5));
        assert_eq!(t.routers[5].identity, "renamed");
    }

    #[test]
    fn default_identity_routers_with_different_software_ids_stay_apart() {
        let mut t = RouterTable::default();
        let now = SystemTime::now();
        t.record(
            &ann(1, "MikroTik", Some("AAAA-1111"), "ether1"),
            src(1),
            now,
        );
        t.record(
            &ann(2, "MikroTik", Some("BBBB-2222"), "ether1"),
            src(2),
            now,
        );
        t.record(
            &ann(3, "MikroTik", Some("AAAA-1111"), "ether2"),
            src(1),
            now,
        );
        assert_eq!(t.routers.len(), 2);
        assert_eq!(t.routers[0].interfaces.len(), 2);
        assert_eq!(t.routers[1].interfaces.len(), 1);
    }

    #[test]
    fn without_software_id_identity_and_board_group() {
        let mut t = RouterTable::default();
        let now = SystemTime::now();
        t.record(&ann(1, "edge", None, "ether1"), src(1), now);
        t.record(&ann(2, "edge", None, "ether2"), src(1), now);
        t.record(&ann(3, "core", None, "ether1"), src(3), now);
        let other_board = ann(4, "edge", None, "ether1").with_board("CHR");
        t.record(&other_board, src(4), now);
        let ids: Vec<(&str, usize)> = t
            .routers
            .iter()
            .map(|r| (r.identity.as_str(), r.interfaces.len()))
            .collect();
        assert_eq!(ids, [("edge", 2), ("core", 1), ("edge", 1)]);
    }

    #[test]
    fn a_renamed_router_is_found_by_mac_and_keeps_its_fields() {
        let mut t = RouterTable::default();
        let now = SystemTime::now();
        let first = ann(1, "old", None, "ether1")
            .with_version("7.15.3 (stable)")
            .with_uptime_secs(10);
        t.record(&first, src(1), now);
        // Same interface, new name, fewer fields.
        let again = Announcement::new()
            .with_mac(MacAddr([0x74, 0x4d, 0x28, 0x91, 0x0d, 1]))
            .with_identity("new")
            .with_ipv4(Ipv4Addr::new(10, 0, 0, 1));
        t.record(&again, src(9), now);
        assert_eq!(t.routers.len(), 1);
        let r = &t.routers[0];
        assert_eq!(r.identity, "new");
        assert_eq!(r.version_token(), Some("7.15.3"));
        assert_eq!(r.uptime, Some(Duration::from_secs(10)));
        assert_eq!(r.interfaces.len(), 1);
        assert_eq!(r.interfaces[0].source, src(9));
        assert_eq!(r.address(), Some(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1))));
    }

    #[test]
    fn interfaces_without_mac_are_keyed_by_name() {
        let mut t = RouterTable::default();
        let now = SystemTime::now();
        let a = Announcement::new()
            .with_identity("nomac")
            .with_interface_name("ether1");
        t.record(&a, src(1), now);
        t.record(&a, src(1), now);
        t.record(&a.clone().with_interface_name("ether2"), src(1), now);
        assert_eq!(t.routers.len(), 1);
        assert_eq!(t.routers[0].interfaces.len(), 2);
        assert!(t.routers[0].macs().is_empty());
        // No IPv4 TLV: the source address is the one to use.
        assert_eq!(t.routers[0].address(), Some(src(1).ip()));
    }

    #[test]
    fn identity_falls_back_to_windows_1252() {
        let mut t = RouterTable::default();
        let a = Announcement::new()
            .with_mac(MacAddr([2, 0, 0, 0, 0, 1]))
            .with_identity(&b"Z\xfcrich"[..]);
        t.record(&a, src(1), SystemTime::now());
        assert_eq!(t.routers[0].identity, "Zürich");
        assert_eq!(t.routers[0].identity_raw, b"Z\xfcrich");
    }
}
