//! One poll: read a router's health over the API into a check-in.

use routeros::{Client, Command, ConnectOptions, Row};
use routeros_proto::value::parse_duration_secs;

use crate::FleetError;
use fleet_store::Checkin;

const RESOURCE_PROPS: &[&str] = &[
    "uptime",
    "version",
    "cpu-load",
    "cpu-count",
    "free-memory",
    "total-memory",
    "free-hdd-space",
    "total-hdd-space",
    "board-name",
];

/// Connects, logs in and reads one check-in.
pub async fn poll_router(opts: &ConnectOptions, device_id: &str) -> Result<Checkin, FleetError> {
    let client = Client::connect(opts).await?;
    Ok(read(&client, device_id).await?.checkin)
}

/// One interface's byte counters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterfaceCounters {
    pub name: String,
    pub rx_bytes: u64,
    pub tx_bytes: u64,
}

/// What one poll read: the check-in (rates not yet known), each
/// interface's counters for the next rate, and `/system/health` when the
/// router has one.
#[derive(Debug, Clone)]
pub struct Reading {
    pub checkin: Checkin,
    pub interfaces: Vec<InterfaceCounters>,
    /// `(name, value)` pairs from `/system/health` (temperature, voltage…);
    /// empty on CHR, x86 and boards without sensors.
    pub health: Vec<(String, String)>,
}

/// Reads resource, identity, routerboard, health and interface counters,
/// pipelined on one session and each with `.proplist`, stamped with the
/// current time.
pub async fn read(client: &Client, device_id: &str) -> Result<Reading, FleetError> {
    let resource_cmd = Command::new("/system/resource/print").proplist(RESOURCE_PROPS);
    let identity_cmd = Command::new("/system/identity/print").proplist(["name"]);
    let board_cmd = Command::new("/system/routerboard/print").proplist(["serial-number"]);
    let health_cmd = Command::new("/system/health/print");
    let iface_cmd = Command::new("/interface/print").proplist(["name", "rx-byte", "tx-byte"]);
    let (resource, identity, board, health, ifaces) = tokio::join!(
        client.run(&resource_cmd),
        client.run(&identity_cmd),
        client.run(&board_cmd),
        client.run(&health_cmd),
        client.run(&iface_cmd),
    );
    let resource = resource?;
    let res = resource
        .first()
        .ok_or_else(|| unexpected("/system/resource/print returned no row"))?;
    let identity = identity?
        .first()
        .and_then(|r| r.get("name").map(|n| n.into_owned()))
        .unwrap_or_default();
    // CHR and x86 have no routerboard and often no health menu; a trap
    // there is not a failed poll. A lost session is.
    let serial = optional(board)?.and_then(|b| {
        b.first()
            .and_then(|r| r.get("serial-number").map(|s| s.into_owned()))
    });
    let health = optional(health)?
        .map(|h| {
            h.rows
                .iter()
                .flat_map(|r| {
                    // v7 lists one sensor a row (name, value); v6 one row of
                    // attributes.
                    match (r.get("name"), r.get("value")) {
                        (Some(n), Some(v)) => vec![(n.into_owned(), v.into_owned())],
                        _ => r
                            .iter()
                            .filter(|(k, _)| !k.starts_with('.'))
                            .map(|(k, v)| (k.to_owned(), String::from_utf8_lossy(v).into_owned()))
                            .collect(),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let interfaces: Vec<InterfaceCounters> = ifaces?
        .rows
        .iter()
        .map(|r| InterfaceCounters {
            name: r.get("name").map(|n| n.into_owned()).unwrap_or_default(),
            rx_bytes: r.get_u64("rx-byte").unwrap_or(0),
            tx_bytes: r.get_u64("tx-byte").unwrap_or(0),
        })
        .collect();
    let (rx, tx) = interfaces.iter().fold((0u64, 0u64), |(rx, tx), i| {
        (rx.saturating_add(i.rx_bytes), tx.saturating_add(i.tx_bytes))
    });
    let checkin = Checkin {
        device_id: device_id.to_owned(),
        checked_in_at: now_ms(),
        cpu_load: number(res, "cpu-load")?,
        cpu_count: number(res, "cpu-count").unwrap_or(1),
        free_memory: number(res, "free-memory")?,
        total_memory: number(res, "total-memory")?,
        free_hdd: number(res, "free-hdd-space").unwrap_or(0),
        total_hdd: number(res, "total-hdd-space").unwrap_or(0),
        uptime_secs: res
            .get("uptime")
            .and_then(|u| parse_duration_secs(&u))
            .unwrap_or(0) as i64,
        version: res
            .get("version")
            .map(|v| v.into_owned())
            .unwrap_or_default(),
        board_name: res
            .get("board-name")
            .map(|v| v.into_owned())
            .unwrap_or_default(),
        identity,
        serial,
        rx_bytes: clamp_i64(rx),
        tx_bytes: clamp_i64(tx),
        // Rates need the previous poll: the telemetry engine fills them.
        rx_bps: 0,
        tx_bps: 0,
    };
    Ok(Reading {
        checkin,
        interfaces,
        health,
    })
}

/// A command the router may not have: its trap means "absent"; anything
/// else (lost session, timeout) is a failed poll.
fn optional(
    res: Result<routeros::Response, routeros::Error>,
) -> Result<Option<routeros::Response>, FleetError> {
    match res {
        Ok(r) => Ok(Some(r)),
        Err(routeros::Error::Trap { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

fn number(row: &Row, name: &str) -> Result<i64, FleetError> {
    row.get_u64(name)
        .map(clamp_i64)
        .ok_or_else(|| unexpected(&format!("/system/resource/print has no numeric {name}")))
}

fn clamp_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn unexpected(what: &str) -> FleetError {
    FleetError::UnexpectedReply(format!("the router's reply was not as expected: {what}"))
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}
