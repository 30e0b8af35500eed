//! The operations both front ends call.

use std::time::Duration;

use std::collections::HashMap;

use fleet_store::{
    default_data_dir, default_store_url, Checkin, Device, DeviceRecord, FleetStore, NewDevice,
    Site, StoreUrl,
};
use routeros::{ConnectOptions, TlsMode};

/// Who the inventory's own operations are recorded as in the audit trail.
const ACTOR: &str = "fleetdeck";

mod passwords;
pub use passwords::CredentialStatus;
use serde::{Deserialize, Serialize};

use crate::{
    bound::Endpoint,
    chart,
    credentials::{CredentialError, CredentialStore, Sensitive},
    poll, reach,
    targets::TargetSpec,
    telemetry::Target,
    FleetError,
};

/// What a technician enters to add a router.
#[derive(Clone, Deserialize, ts_rs::TS)]
pub struct AddDevice {
    pub host: String,
    pub port: u16,
    pub username: String,
    #[ts(as = "String")]
    pub password: Sensitive<String>,
    /// API-SSL (the form's default) or plain API; a caller that names none
    /// gets plain API, as a router fresh from the factory has no certificate.
    #[serde(default)]
    pub transport: fleet_store::Transport,
}

/// A device's CPU, memory and traffic charts over one window.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct DeviceCharts {
    pub from: i64,
    pub to: i64,
    /// Raw check-ins or hourly rollups, and the width of one point.
    pub resolution: fleet_store::Resolution,
    pub bucket_ms: i64,
    /// Points plotted (0: no check-ins in the window).
    pub points: usize,
    pub cpu_svg: String,
    pub memory_svg: String,
    pub traffic_svg: String,
}

/// What an inventory import did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct ImportReport {
    pub rows: usize,
    pub added: usize,
    /// Rows whose address and port were already in the inventory.
    pub already_known: usize,
    pub sites_added: usize,
    pub password_stored: bool,
}

/// The routers background polling covers.
#[derive(Default)]
pub struct InventoryTargets {
    pub targets: Vec<Target>,
    /// Routers left out because no password is stored for them.
    pub without_password: usize,
    /// Routers left out because they are now reached somewhere else than
    /// their password was entered for (a sync or an edit moved them): not
    /// polled until the technician confirms the new address.
    pub address_changed: usize,
}

/// The inventory after [`Fleet::add_specs`].
struct Inventory {
    known: HashMap<(String, u16), DeviceRecord>,
    sites: HashMap<String, Site>,
    added: Vec<DeviceRecord>,
    sites_added: usize,
}

/// The fleet: inventory and check-ins in a store, passwords in the
/// credential store, routers reached over the API.
pub struct Fleet {
    store: std::sync::Arc<FleetStore>,
    credentials: std::sync::Arc<CredentialStore>,
    /// Connect, login and command deadlines for polls.
    pub poll_timeout: Duration,
    /// Background polling ([`crate::monitoring`]).
    pub(crate) monitoring: tokio::sync::Mutex<crate::monitoring::Monitoring>,
    /// The running push ([`crate::provision`]).
    pub(crate) pushes: crate::provision::PushJobs,
    /// Live traffic monitors ([`crate::monitors`]).
    pub(crate) monitors: crate::monitors::Monitors,
}

impl Fleet {
    pub fn new(store: FleetStore, credentials: CredentialStore) -> Self {
        Self {
            store: std::sync::Arc::new(store),
            credentials: std::sync::Arc::new(credentials),
            poll_timeout: Duration::from_secs(10),
            monitoring: Default::default(),
            pushes: Default::default(),
            monitors: Default::default(),
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

    /// The store, shared with long-running work such as telemetry.
    pub fn shared_store(&self) -> std::sync::Arc<FleetStore> {
        self.store.clone()
    }

    /// Adds the named routers that are not in the inventory yet (and
    /// their sites). Returns the inventory by address, the sites by name,
    /// and the records added.
    async fn add_specs(
        &self,
        specs: &[TargetSpec],
        default_user: &str,
        default_interval: Duration,
    ) -> Result<Inventory, FleetError> {
        let mut sites: HashMap<String, Site> = self
            .store
            .list_sites()
            .await?
            .into_iter()
            .map(|s| (s.name.clone(), s))
            .collect();
        let mut sites_added = 0;
        for name in specs.iter().filter_map(|s| s.site.as_deref()) {
            if !sites.contains_key(name) {
                let site = Site {
                    id: fleet_store::new_id(),
                    name: name.to_owned(),
                    poll_interval_secs: default_interval.as_secs().max(1) as u32,
                    updated_at: poll::now_ms(),
                };
                self.store.save_site(&site).await?;
                sites.insert(name.to_owned(), site);
                sites_added += 1;
            }
        }
        let mut known: HashMap<(String, u16), DeviceRecord> = self
            .store
            .device_records()
            .await?
            .into_iter()
            .map(|d| ((d.host.clone(), d.port), d))
            .collect();
        let mut new = Vec::new();
        for spec in specs {
            let host = validate_host(&spec.host)?;
            if known.contains_key(&(host.clone(), spec.port)) {
                continue;
            }
            let now = poll::now_ms();
            let record = DeviceRecord {
                id: fleet_store::new_id(),
                site_id: spec
                    .site
                    .as_deref()
                    .and_then(|n| sites.get(n))
                    .map(|s| s.id.clone()),
                host: host.clone(),
                port: spec.port,
                username: spec
                    .username
                    .clone()
                    .unwrap_or_else(|| default_user.to_owned()),
                transport: spec.transport.unwrap_or_default(),
                tls_fingerprint: spec.fingerprint.clone(),
                tags: spec.tags.clone(),
                created_at: now,
                updated_at: now,
            };
            known.insert((host, spec.port), record.clone());
            new.push(record);
        }
        for chunk in new.chunks(1000) {
            self.store.save_devices(chunk).await?;
        }
        Ok(Inventory {
            known,
            sites,
            added: new,
            sites_added,
        })
    }

    /// Adds the routers of an inventory CSV (header `host,port,username,
    /// site,tags[,transport,fingerprint]`) or of a `host[:port]`-per-line
    /// list. Routers already in the inventory are left as they are. With a
    /// password, it is kept in the credential store for each router added.
    /// Nothing is sent to the routers.
    pub async fn import_inventory(
        &self,
        text: &str,
        default_user: &str,
        password: Option<&Sensitive<String>>,
    ) -> Result<ImportReport, FleetError> {
        let specs = crate::targets::parse_text(text)?;
        if specs.is_empty() {
            return Err(FleetError::InvalidInput(
                "the inventory has no routers: one host[:port] a line, or a CSV whose header names host".into(),
            ));
        }
        let default_user = default_user.trim();
        if default_user.is_empty() {
            return Err(FleetError::InvalidInput(
                "enter the API user name for routers whose row names none".into(),
            ));
        }
        let inv = self
            .add_specs(&specs, default_user, Duration::from_secs(60))
            .await?;
        if let Some(password) = password {
            for d in &inv.added {
                self.credentials
                    .set_router(&d.id, &Endpoint::of(d), password)?;
            }
        }
        Ok(ImportReport {
            rows: specs.len(),
            added: inv.added.len(),
            already_known: specs.len() - inv.added.len(),
            sites_added: inv.sites_added,
            password_stored: password.is_some() && !inv.added.is_empty(),
        })
    }

    /// Makes sure every named router is in the inventory (new ones are
    /// added, with their sites) and returns them as telemetry targets.
    /// `password` is used for every router when given (and not stored);
    /// otherwise each router's password comes from the credential store.
    pub async fn enroll(
        &self,
        specs: &[TargetSpec],
        default_user: &str,
        password: Option<&Sensitive<String>>,
        default_interval: Duration,
    ) -> Result<Vec<Target>, FleetError> {
        let Inventory { known, sites, .. } = self
            .add_specs(specs, default_user, default_interval)
            .await?;
        let interval_of: HashMap<&str, Duration> = sites
            .values()
            .map(|s| {
                (
                    s.id.as_str(),
                    Duration::from_secs(u64::from(s.poll_interval_secs.max(1))),
                )
            })
            .collect();
        let mut targets = Vec::with_capacity(specs.len());
        for spec in specs {
            let d = &known[&(validate_host(&spec.host)?, spec.port)];
            let password = match password {
                Some(p) => p.clone(),
                None => self.stored_password(d, self.credentials.router(&d.id)?)?,
            };
            let username = spec.username.as_deref().unwrap_or(&d.username);
            let interval = d
                .site_id
                .as_deref()
                .and_then(|s| interval_of.get(s).copied())
                .unwrap_or(default_interval);
            let mut target = self.target_for(d, username, &password, interval)?;
            // Polls keep the session busy; a probe is only needed when the
            // interval is long.
            target.connect.keepalive = None;
            targets.push(target);
        }
        Ok(targets)
    }

    /// Push targets for inventory routers, with their stored passwords
    /// and TLS settings, in the order given.
    pub async fn targets_of(&self, device_ids: &[String]) -> Result<Vec<Target>, FleetError> {
        let records: HashMap<String, DeviceRecord> = self
            .store
            .device_records()
            .await?
            .into_iter()
            .map(|d| (d.id.clone(), d))
            .collect();
        let mut secrets = self
            .credentials
            .routers(device_ids.iter().map(String::as_str))?;
        device_ids
            .iter()
            .map(|id| {
                let d = records.get(id).ok_or_else(|| {
                    FleetError::InvalidInput(format!("no router {id} in the inventory"))
                })?;
                let password = self.stored_password(d, secrets.remove(id))?;
                self.target_for(d, &d.username, &password, Duration::from_secs(60))
            })
            .collect()
    }

    /// Telemetry targets for every inventory router with a stored password,
    /// polled every `interval`, except those tagged `skip_tag` (the demo's
    /// routers, which it polls itself). Routers without a password are
    /// counted, not polled.
    pub async fn inventory_targets(
        &self,
        interval: Duration,
        skip_tag: &str,
    ) -> Result<InventoryTargets, FleetError> {
        let mut out = InventoryTargets::default();
        let records: Vec<DeviceRecord> = self
            .store
            .device_records()
            .await?
            .into_iter()
            .filter(|d| !d.tags.iter().any(|t| t == skip_tag))
            .collect();
        let mut secrets = self
            .credentials
            .routers(records.iter().map(|d| d.id.as_str()))?;
        for d in &records {
            match self.stored_password(d, secrets.remove(&d.id)) {
                Ok(password) => {
                    let mut t = self.target_for(d, &d.username, &password, interval)?;
                    t.connect.keepalive = None;
                    out.targets.push(t);
                }
                Err(FleetError::Credentials(CredentialError::Missing(_))) => {
                    out.without_password += 1
                }
                Err(FleetError::Credentials(CredentialError::Moved { was, now })) => {
                    tracing::warn!(device = %d.id, %was, %now, "not polled: the router's address changed since its password was entered");
                    out.address_changed += 1
                }
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    /// How a poll or push reaches one router: [`reach::target`] with this
    /// fleet's deadline.
    fn target_for(
        &self,
        d: &DeviceRecord,
        username: &str,
        password: &Sensitive<String>,
        interval: Duration,
    ) -> Result<Target, FleetError> {
        reach::target(d, username, password, self.poll_timeout, interval)
    }

    /// A logged-in session to an inventory router, reached as its record
    /// says (transport, pinned certificate; pinned now on first use).
    pub async fn connect(&self, device_id: &str) -> Result<routeros::Client, FleetError> {
        let mut target = self
            .targets_of(&[device_id.to_owned()])
            .await?
            .pop()
            .expect("one id, one target");
        reach::open(&self.store, &mut target, ACTOR).await
    }

    pub fn credentials(&self) -> &CredentialStore {
        &self.credentials
    }

    /// The credential store, shared (a push keeps its backup's password
    /// there while it runs).
    pub fn shared_credentials(&self) -> std::sync::Arc<CredentialStore> {
        self.credentials.clone()
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
                transport: input.transport,
                ..NewDevice::default()
            })
            .await?;
        let endpoint = Endpoint {
            host: device.host.clone(),
            port: device.port,
            username: device.username.clone(),
        };
        self.credentials
            .set_router(&device.id, &endpoint, &input.password)?;
        Ok(device)
    }

    pub async fn list_devices(&self) -> Result<Vec<Device>, FleetError> {
        Ok(self.store.list_devices().await?)
    }

    /// Polls a device in the inventory once and stores the check-in. A
    /// failure is stored on the device too, so the list shows why.
    pub async fn poll_device(&self, device_id: &str) -> Result<Checkin, FleetError> {
        let device = self.store.get_device(device_id).await?;
        let polled = async {
            let client = self.connect(device_id).await?;
            Ok(poll::read(&client, device_id).await?.checkin)
        }
        .await;
        self.record_poll(&device, polled).await
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
        // The address, login and TLS mode are the technician's, given
        // here; only the deadlines come from the fleet.
        let mut opts = ConnectOptions::new(&host, port, username, password.expose().as_str());
        opts.connect_timeout = self.poll_timeout.min(Duration::from_secs(5));
        opts.login_timeout = self.poll_timeout;
        opts.command_timeout = self.poll_timeout;
        opts.tls = tls;
        let polled = poll::poll_router(&opts, &device.id).await;
        self.record_poll(&device, polled).await
    }

    /// Stores a poll's check-in, or its failure on the device so the list
    /// shows why.
    async fn record_poll(
        &self,
        device: &Device,
        polled: Result<Checkin, FleetError>,
    ) -> Result<Checkin, FleetError> {
        match polled {
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

    /// CPU, memory and traffic of a device between `from_ms` and `to_ms`,
    /// in at most `max_points` points averaged in the store (raw check-ins
    /// for short windows, hourly rollups for long ones).
    pub async fn device_charts(
        &self,
        device_id: &str,
        from_ms: i64,
        to_ms: i64,
        max_points: u32,
        theme: chart::Theme,
    ) -> Result<DeviceCharts, FleetError> {
        use chart::{Line, TimeChart, Unit};
        if to_ms <= from_ms {
            return Err(FleetError::InvalidInput(
                "the chart window must end after it starts".into(),
            ));
        }
        let device = self.store.get_device(device_id).await?;
        let name = device
            .identity
            .clone()
            .unwrap_or_else(|| format!("{}:{}", device.host, device.port));
        let series = self
            .store
            .device_series(device_id, from_ms, to_ms, max_points)
            .await?;
        let pts = &series.points;
        let line = |label, f: fn(&fleet_store::DevicePoint) -> f64| Line {
            label,
            points: pts.iter().map(|p| (p.at, f(p))).collect(),
        };
        let render = |title: &str, y_desc, unit, lines: &[Line<'_>]| {
            chart::time_chart_svg(&TimeChart {
                title,
                y_desc,
                unit,
                lines,
                from_ms,
                to_ms,
                theme,
            })
        };
        Ok(DeviceCharts {
            from: from_ms,
            to: to_ms,
            resolution: series.resolution,
            bucket_ms: series.bucket_ms,
            points: pts.len(),
            cpu_svg: render(
                &format!("{name}: CPU load"),
                "CPU load",
                Unit::Percent,
                &[line("CPU", |p| p.cpu_load)],
            )?,
            memory_svg: render(
                &format!("{name}: memory in use"),
                "memory used",
                Unit::Percent,
                &[line("memory", |p| p.memory_used_pct)],
            )?,
            traffic_svg: render(
                &format!("{name}: traffic, all interfaces"),
                "rate",
                Unit::BitsPerSecond,
                &[line("received", |p| p.rx_bps), line("sent", |p| p.tx_bps)],
            )?,
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
