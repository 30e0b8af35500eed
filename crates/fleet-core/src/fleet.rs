//! The operations both front ends call.

use std::time::Duration;

use fleet_store::{
    default_data_dir, default_store_url, Checkin, Device, FleetStore, NewDevice, StoreUrl,
};
use routeros::{ConnectOptions, TlsMode};
use serde::{Deserialize, Serialize};

use crate::{
    chart,
    credentials::{CredentialError, CredentialStore, Sensitive},
    poll, FleetError,
};

/// What a technician enters to add a router.
#[derive(Clone, Deserialize)]
pub struct AddDevice {
    pub host: String,
    pub port: u16,
    pub username: String,
    pub password: Sensitive<String>,
}

/// A rendered chart and how many points it shows (0: no data yet).
#[derive(Debug, Clone, Serialize)]
pub struct CpuChart {
    pub svg: String,
    pub points: usize,
}

/// The fleet: inventory and check-ins in a store, passwords in the
/// credential store, routers reached over the API.
pub struct Fleet {
    store: FleetStore,
    credentials: CredentialStore,
    /// Connect, login and command deadlines for polls.
    pub poll_timeout: Duration,
}

impl Fleet {
    pub fn new(store: FleetStore, credentials: CredentialStore) -> Self {
        Self {
            store,
            credentials,
            poll_timeout: Duration::from_secs(10),
        }
    }

    /// The embedded store and credential store in the data folder
    /// (`FLEETDECK_DATA_DIR` overrides it); `FLEETDECK_STORE` may name
    /// another store URL.
    pub async fn open_default() -> Result<Fleet, FleetError> {
        let url = match std::env::var("FLEETDECK_STORE") {
            Ok(u) if !u.is_empty() => u.parse()?,
            _ => default_store_url()?,
        };
        Self::open(&url).await
    }

    pub async fn open(url: &StoreUrl) -> Result<Fleet, FleetError> {
        let store = FleetStore::open(url).await?;
        let credentials = CredentialStore::detect(&default_data_dir()?);
        Ok(Self::new(store, credentials))
    }

    pub fn store(&self) -> &FleetStore {
        &self.store
    }

    pub fn credentials(&self) -> &CredentialStore {
        &self.credentials
    }

    /// Adds a router to the inventory and keeps its password in the
    /// credential store. Nothing is sent to the router yet.
    pub async fn add_device(&self, input: AddDevice) -> Result<Device, FleetError> {
        let host = validate_host(&input.host)?;
        if input.port == 0 {
            return Err(FleetError::InvalidInput(
                "the API port must be between 1 and 65535".into(),
            ));
        }
        let username = input.username.trim();
        if username.is_empty() {
            return Err(FleetError::InvalidInput(
                "enter the router's API user name".into(),
            ));
        }
        let device = self
            .store
            .add_device(&NewDevice {
                host,
                port: input.port,
                username: username.to_owned(),
                ..NewDevice::default()
            })
            .await?;
        self.credentials.set(&device.id, &input.password)?;
        Ok(device)
    }

    pub async fn list_devices(&self) -> Result<Vec<Device>, FleetError> {
        Ok(self.store.list_devices().await?)
    }

    /// Polls a device in the inventory once and stores the check-in. A
    /// failure is stored on the device too, so the list shows why.
    pub async fn poll_device(&self, device_id: &str) -> Result<Checkin, FleetError> {
        let device = self.store.get_device(device_id).await?;
        let password = self
            .credentials
            .get(&device.id)?
            .ok_or_else(|| CredentialError::Missing(format!("{}:{}", device.host, device.port)))?;
        let opts = self.connect_options(&device, password.expose());
        self.poll_and_record(&device, &opts).await
    }

    /// Polls a router by address with the given login (and TLS mode),
    /// adding it to the inventory first if it is new. What `fleetdeck-cli
    /// poll` does.
    pub async fn poll_address(
        &self,
        host: &str,
        port: u16,
        username: &str,
        password: &Sensitive<String>,
        tls: TlsMode,
    ) -> Result<Checkin, FleetError> {
        let host = validate_host(host)?;
        let device = match self.store.find_device(&host, port).await? {
            Some(d) => d,
            None => {
                self.store
                    .add_device(&NewDevice {
                        host: host.clone(),
                        port,
                        username: username.to_owned(),
                        ..NewDevice::default()
                    })
                    .await?
            }
        };
        let mut opts = self.connect_options(&device, password.expose());
        opts.username = username.to_owned();
        opts.tls = tls;
        self.poll_and_record(&device, &opts).await
    }

    async fn poll_and_record(
        &self,
        device: &Device,
        opts: &ConnectOptions,
    ) -> Result<Checkin, FleetError> {
        match poll::poll_router(opts, &device.id).await {
            Ok(checkin) => {
                self.store.record_checkin(&checkin).await?;
                Ok(checkin)
            }
            Err(e) => {
                let message = e.to_string();
                tracing::warn!(device = %device.id, "poll failed: {message}");
                self.store
                    .record_poll_failure(&device.id, poll::now_ms(), &message)
                    .await?;
                Err(e)
            }
        }
    }

    fn connect_options(&self, device: &Device, password: &str) -> ConnectOptions {
        let mut opts = ConnectOptions::new(&device.host, device.port, &device.username, password);
        opts.connect_timeout = self.poll_timeout.min(Duration::from_secs(5));
        opts.login_timeout = self.poll_timeout;
        opts.command_timeout = self.poll_timeout;
        opts
    }

    /// The CPU chart of a device over its check-ins in the last `window`,
    /// at most `max_points` points averaged in the store.
    pub async fn cpu_chart(
        &self,
        device_id: &str,
        window: Duration,
        max_points: u32,
    ) -> Result<CpuChart, FleetError> {
        let device = self.store.get_device(device_id).await?;
        let title = device
            .identity
            .clone()
            .unwrap_or_else(|| format!("{}:{}", device.host, device.port));
        let since = poll::now_ms() - window.as_millis() as i64;
        let Some((first, last)) = self.store.checkin_span(device_id, since).await? else {
            let now = poll::now_ms();
            return Ok(CpuChart {
                svg: chart::cpu_chart_svg(&title, &[], now - 60_000, now)?,
                points: 0,
            });
        };
        let series = self
            .store
            .cpu_series(device_id, first, last, max_points)
            .await?;
        Ok(CpuChart {
            svg: chart::cpu_chart_svg(&title, &series, first, last)?,
            points: series.len(),
        })
    }
}

/// A host is an IP address or a DNS name: no spaces, no scheme, no port.
fn validate_host(host: &str) -> Result<String, FleetError> {
    let host = host.trim();
    let ok = !host.is_empty()
        && host.len() <= 253
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '_'));
    if !ok {
        return Err(FleetError::InvalidInput(format!(
            "{host:?} is not a router address: enter an IP address such as 192.168.88.1 or a host name"
        )));
    }
    Ok(host.to_owned())
}
