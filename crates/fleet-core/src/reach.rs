//! One way to reach a router: its stored transport (plain API, API-SSL,
//! anonymous API-SSL), its pinned certificate, and trust on first use.
//!
//! Every path that talks to an inventory router — a poll, background
//! polling, preview, push and its reconnect, confirm, the live monitor —
//! gets its connection options from [`target`] and opens its session with
//! [`open`] (background polling pins through its writer, with the same
//! [`to_pin`] rule), so no path can fall back to plain API or accept a
//! certificate another path would refuse.

use std::time::Duration;

use fleet_store::{AuditEvent, DeviceRecord, FleetStore, Transport};
use routeros::{Client, ConnectOptions, Fingerprint, TlsMode};

use crate::{credentials::Sensitive, poll, telemetry::Target, FleetError};

/// Deadlines for a session: `timeout` for the login and each command, at
/// most 5 s to open the TCP connection.
pub fn target(
    d: &DeviceRecord,
    username: &str,
    password: &Sensitive<String>,
    timeout: Duration,
    interval: Duration,
) -> Result<Target, FleetError> {
    let mut connect = ConnectOptions::new(&d.host, d.port, username, password.expose().as_str());
    connect.connect_timeout = timeout.min(Duration::from_secs(5));
    connect.login_timeout = timeout;
    connect.command_timeout = timeout;
    connect.tls = tls_mode(d)?;
    Ok(Target {
        device_id: d.id.clone(),
        connect,
        interval,
    })
}

/// How to reach a router by its inventory record: plain API, API-SSL with
/// its pinned certificate (trust on first use until one is pinned), or
/// anonymous-DH API-SSL for a router without a certificate.
pub fn tls_mode(d: &DeviceRecord) -> Result<TlsMode, FleetError> {
    Ok(match (d.transport, d.tls_fingerprint.as_deref()) {
        (Transport::Api, _) => TlsMode::Plain,
        (Transport::ApiSslAnonymous, _) => TlsMode::AnonymousDh,
        (Transport::ApiSsl, None) => TlsMode::TrustOnFirstUse,
        (Transport::ApiSsl, Some(fp)) => TlsMode::Pinned(fp.parse().map_err(|e| {
            FleetError::InvalidInput(format!(
                "the pinned certificate fingerprint of {}:{} is not valid ({e}); fix it in the inventory",
                d.host, d.port
            ))
        })?),
    })
}

/// The certificate to pin after a session opened with `tls`: the one the
/// router showed, when nothing was pinned yet.
pub fn to_pin(tls: &TlsMode, client: &Client) -> Option<Fingerprint> {
    match tls {
        TlsMode::TrustOnFirstUse => client.peer_fingerprint(),
        _ => None,
    }
}

/// Opens a logged-in session to `target`. On first use of an API-SSL
/// router the certificate it showed is pinned in the store (and audited
/// as `tls.pinned`), and `target` is switched to that pin, so a later
/// session — a reconnect after a reboot — refuses any other certificate.
pub async fn open(
    store: &FleetStore,
    target: &mut Target,
    actor: &str,
) -> Result<Client, FleetError> {
    let client = Client::connect(&target.connect).await?;
    if let Some(fp) = to_pin(&target.connect.tls, &client) {
        let fingerprint = fp.to_string();
        store
            .pin_fingerprint(&target.device_id, &fingerprint)
            .await?;
        store
            .record_audit(&[AuditEvent {
                id: fleet_store::new_id(),
                at: poll::now_ms(),
                device_id: Some(target.device_id.clone()),
                actor: actor.to_owned(),
                action: fleet_store::AuditAction::TlsPinned.into(),
                detail: format!(
                    "{}:{}: certificate {fingerprint} pinned on first use",
                    target.connect.host, target.connect.port
                ),
            }])
            .await?;
        target.connect.tls = TlsMode::Pinned(fp);
    }
    Ok(client)
}
