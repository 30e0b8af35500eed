//! Listeners: one loopback port per router.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use tokio::{net::TcpListener, task::JoinSet};
use tokio_rustls::TlsAcceptor;
use tracing::debug;

use crate::{
    device::Device,
    faults::Faults,
    session::{serve, Credentials},
    tls::router_cert,
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
        }
    }
}

/// A running simulated fleet. Dropping it stops every listener and session.
pub struct SimFleet {
    devices: Vec<(SocketAddr, Arc<Device>)>,
    /// API-SSL port and certificate fingerprint per router, when enabled.
    tls: Vec<(u16, [u8; 32])>,
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
        for i in 0..cfg.devices {
            let listener = TcpListener::bind(("127.0.0.1", port_at(cfg.base_port, i)?)).await?;
            let addr = listener.local_addr()?;
            let mut device = Device::new(i, &versions[i % versions.len()]);
            device.reboot_delay = cfg.reboot_delay;
            device.set_faults(cfg.faults.clone());
            let device = Arc::new(device);
            tasks.spawn(accept_loop(listener, device.clone(), creds.clone(), None));
            if cfg.tls {
                let cert = router_cert(&device.identity())?;
                let tls_listener =
                    TcpListener::bind(("127.0.0.1", port_at(cfg.tls_base_port, i)?)).await?;
                tls.push((tls_listener.local_addr()?.port(), cert.fingerprint));
                tasks.spawn(accept_loop(
                    tls_listener,
                    device.clone(),
                    creds.clone(),
                    Some(cert.acceptor),
                ));
            }
            devices.push((addr, device));
        }
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

    /// SHA-256 of router `i`'s certificate, when the fleet serves TLS.
    pub fn fingerprint(&self, i: usize) -> Option<[u8; 32]> {
        self.tls.get(i).map(|t| t.1)
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

    /// Sets the same faults on every router.
    pub fn set_faults(&self, faults: &Faults) {
        for (_, d) in &self.devices {
            d.set_faults(faults.clone());
        }
    }
}

async fn accept_loop(
    listener: TcpListener,
    device: Arc<Device>,
    creds: Arc<Credentials>,
    tls: Option<TlsAcceptor>,
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
                match tls.clone() {
                    None => {
                        sessions.spawn(serve(stream, device, creds));
                    }
                    Some(acceptor) => {
                        sessions.spawn(async move {
                            // A client that does not speak TLS gets an alert and
                            // the connection closes, as on a real API-SSL port.
                            if let Ok(Ok(s)) = tokio::time::timeout(
                                Duration::from_secs(10),
                                acceptor.accept(stream),
                            )
                            .await
                            {
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
