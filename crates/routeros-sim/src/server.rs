//! Listeners: one loopback port per router.

use std::{net::SocketAddr, pin::Pin, sync::Arc, time::Duration};

use openssl::ssl::{Ssl, SslContext};
use tokio::{
    net::{TcpListener, TcpStream},
    task::JoinSet,
};
use tokio_rustls::TlsAcceptor;
use tracing::debug;

use crate::{
    device::Device,
    faults::Faults,
    session::{serve, Credentials},
    tls::{anonymous_context, router_cert},
};

/// What to simulate.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Number of routers.
    pub devices: usize,
    /// Router `i` listens on `base_port + i`; 0 picks free ports instead.
    pub base_port: u16,
    pub username: String,
    pub password: String,
    /// RouterOS versions: router `i` gets `versions[i % len]`.
    pub versions: Vec<String>,
    /// Faults every router starts with.
    pub faults: Faults,
    /// How long a rebooting router stays away.
    pub reboot_delay: Duration,
    /// Also serve API-SSL, each router with its own self-signed certificate.
    pub tls: bool,
    /// Router `i` serves API-SSL on `tls_base_port + i`; 0 picks free ports.
    pub tls_base_port: u16,
    /// With `tls`: the routers have **no certificate**, so API-SSL offers
    /// only anonymous Diffie-Hellman suites (OpenSSL, `ADH:@SECLEVEL=0`,
    /// TLS 1.2 at most) and [`SimFleet::fingerprint`] is `None`.
    pub tls_anonymous: bool,
    /// Exports to seed the routers from (see [`Device::seed`]): router `i`
    /// holds `seeds[i % len]`; none: every router is factory-fresh.
    pub seeds: Vec<Vec<u8>>,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            devices: 1,
            base_port: 0,
            username: "admin".into(),
            password: String::new(),
            versions: vec!["7.16.2".into()],
            faults: Faults::default(),
            reboot_delay: Duration::from_secs(2),
            tls: false,
            tls_base_port: 0,
            tls_anonymous: false,
            seeds: Vec::new(),
        }
    }
}

/// A running simulated fleet. Dropping it stops every listener and session.
pub struct SimFleet {
    devices: Vec<(SocketAddr, Arc<Device>)>,
    /// API-SSL port and certificate fingerprint (none for anonymous
    /// API-SSL) per router, when enabled.
    tls: Vec<(u16, Option<[u8; 32]>)>,
    _tasks: JoinSet<()>,
}

fn port_at(base: u16, i: usize) -> std::io::Result<u16> {
    if base == 0 {
        return Ok(0);
    }
    u16::try_from(usize::from(base) + i).map_err(|_| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "port range runs past 65535",
        )
    })
}

impl SimFleet {
    pub async fn start(cfg: SimConfig) -> std::io::Result<SimFleet> {
        let creds = Arc::new(Credentials {
            username: cfg.username.clone(),
            password: cfg.password.clone(),
        });
        let versions = if cfg.versions.is_empty() {
            SimConfig::default().versions
        } else {
            cfg.versions.clone()
        };
        let mut tasks = JoinSet::new();
        let mut devices = Vec::with_capacity(cfg.devices);
        let mut tls = Vec::new();
        // One OpenSSL context serves every certificate-less router.
        let anonymous = if cfg.tls && cfg.tls_anonymous {
            Some(anonymous_context()?)
        } else {
            None
        };
        for i in 0..cfg.devices {
            let listener = TcpListener::bind(("127.0.0.1", port_at(cfg.base_port, i)?)).await?;
            let addr = listener.local_addr()?;
            let mut device = Device::new(i, &versions[i % versions.len()]);
            device.reboot_delay = cfg.reboot_delay;
            device.set_faults(cfg.faults.clone());
            if !cfg.seeds.is_empty() {
                device.seed(&cfg.seeds[i % cfg.seeds.len()]).map_err(|e| {
                    std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        format!("router {i} cannot be seeded from its export: {e}"),
                    )
                })?;
            }
            let device = Arc::new(device);
            tasks.spawn(accept_loop(listener, device.clone(), creds.clone(), None));
            if cfg.tls {
                let (server_tls, fingerprint) = match &anonymous {
                    Some(ctx) => (ServerTls::Anonymous(ctx.clone()), None),
                    None => {
                        let cert = router_cert(&device.identity())?;
                        (
                            ServerTls::Certificate(cert.acceptor),
                            Some(cert.fingerprint),
                        )
                    }
                };
                let tls_listener =
                    TcpListener::bind(("127.0.0.1", port_at(cfg.tls_base_port, i)?)).await?;
                tls.push((tls_listener.local_addr()?.port(), fingerprint));
                tasks.spawn(accept_loop(
                    tls_listener,
                    device.clone(),
                    creds.clone(),
                    Some(server_tls),
                ));
            }
            devices.push((addr, device));
        }
        let clocks: Vec<Arc<Device>> = devices.iter().map(|(_, d)| d.clone()).collect();
        tasks.spawn(run_schedulers(clocks));
        Ok(SimFleet {
            devices,
            tls,
            _tasks: tasks,
        })
    }

    pub fn ports(&self) -> Vec<u16> {
        self.devices.iter().map(|(a, _)| a.port()).collect()
    }

    pub fn port(&self, i: usize) -> u16 {
        self.devices[i].0.port()
    }

    /// Router `i`'s API-SSL port, when the fleet serves TLS.
    pub fn tls_port(&self, i: usize) -> Option<u16> {
        self.tls.get(i).map(|t| t.0)
    }

    /// SHA-256 of router `i`'s certificate, when the fleet serves TLS
    /// with certificates (`None` for anonymous API-SSL).
    pub fn fingerprint(&self, i: usize) -> Option<[u8; 32]> {
        self.tls.get(i).and_then(|t| t.1)
    }

    pub fn device(&self, i: usize) -> &Arc<Device> {
        &self.devices[i].1
    }

    pub fn len(&self) -> usize {
        self.devices.len()
    }

    pub fn is_empty(&self) -> bool {
        self.devices.is_empty()
    }

    /// Announces every router over MNDP to `target` (a loopback address)
    /// now and every `interval`; stops when the handle is aborted.
    pub async fn announce_mndp(
        &self,
        target: SocketAddr,
        interval: Duration,
    ) -> std::io::Result<tokio::task::JoinHandle<()>> {
        let devices = self
            .devices
            .iter()
            .map(|(a, d)| (a.port(), d.clone()))
            .collect();
        crate::mndp::announce(devices, target, interval).await
    }

    /// Runs every router's clock `rate` times faster than real time.
    pub fn set_clock_rate(&self, rate: f64) {
        for (_, d) in &self.devices {
            d.set_clock_rate(rate);
        }
    }

    /// Sets the same faults on every router.
    pub fn set_faults(&self, faults: &Faults) {
        for (_, d) in &self.devices {
            d.set_faults(faults.clone());
        }
    }
}

/// How often the routers' schedulers are looked at, in real time.
const SCHEDULER_TICK: Duration = Duration::from_millis(200);

/// Fires the routers' scheduler items as their clocks reach them.
async fn run_schedulers(devices: Vec<Arc<Device>>) {
    let mut tick = tokio::time::interval(SCHEDULER_TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        for d in &devices {
            d.run_due_schedulers();
        }
    }
}

/// How a router's API-SSL port speaks TLS.
#[derive(Clone)]
enum ServerTls {
    /// rustls with the router's self-signed certificate.
    Certificate(TlsAcceptor),
    /// OpenSSL, anonymous Diffie-Hellman only: no certificate.
    Anonymous(SslContext),
}

/// How long a client has to finish the TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

async fn accept_loop(
    listener: TcpListener,
    device: Arc<Device>,
    creds: Arc<Credentials>,
    tls: Option<ServerTls>,
) {
    let mut sessions = JoinSet::new();
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                if !device.is_up() {
                    // Rebooting: the connection is refused.
                    drop(stream);
                    continue;
                }
                debug!(device = device.index(), %peer, tls = tls.is_some(), "API session opened");
                stream.set_nodelay(true).ok();
                let (device, creds) = (device.clone(), creds.clone());
                // A client that does not speak TLS, or has no suite in
                // common, gets an alert (OpenSSL often just resets the
                // connection when sent plain API words) and the connection
                // closes, as on a real API-SSL port.
                match tls.clone() {
                    None => {
                        sessions.spawn(serve(stream, device, creds));
                    }
                    Some(ServerTls::Certificate(acceptor)) => {
                        sessions.spawn(async move {
                            if let Ok(Ok(s)) =
                                tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream))
                                    .await
                            {
                                serve(s, device, creds).await;
                            }
                        });
                    }
                    Some(ServerTls::Anonymous(ctx)) => {
                        sessions.spawn(async move {
                            if let Some(s) = accept_anonymous(&ctx, stream).await {
                                serve(s, device, creds).await;
                            }
                        });
                    }
                }
            }
            Err(e) => {
                debug!("accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        while sessions.try_join_next().is_some() {}
    }
}

/// The OpenSSL handshake of a certificate-less API-SSL port.
async fn accept_anonymous(
    ctx: &SslContext,
    stream: TcpStream,
) -> Option<tokio_openssl::SslStream<TcpStream>> {
    let ssl = Ssl::new(ctx).ok()?;
    let mut s = tokio_openssl::SslStream::new(ssl, stream).ok()?;
    match tokio::time::timeout(HANDSHAKE_TIMEOUT, Pin::new(&mut s).accept()).await {
        Ok(Ok(())) => Some(s),
        Ok(Err(e)) => {
            debug!("anonymous TLS handshake failed: {e}");
            None
        }
        Err(_) => None,
    }
}
