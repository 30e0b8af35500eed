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
    read_checkin(&client, device_id).await
}

/// Reads resource, identity, routerboard and interface counters, pipelined
/// on one session, into a check-in stamped with the current time.
pub async fn read_checkin(client: &Client, device_id: &str) -> Result<Checkin, FleetError> {
    let resource_cmd = Command::new("/system/resource/print").proplist(RESOURCE_PROPS);
    let identity_cmd = Command::new("/system/identity/print");
    let board_cmd = Command::new("/system/routerboard/print").proplist(["serial-number"]);
    let iface_cmd = Command::new("/interface/print").proplist(["name", "rx-byte", "tx-byte"]);
    let (resource, identity, board, ifaces) = tokio::join!(
        client.run(&resource_cmd),
        client.run(&identity_cmd),
        client.run(&board_cmd),
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
    // CHR and x86 have no routerboard; a trap there is not a failed poll.
    let serial = board.ok().and_then(|b| {
        b.first()
            .and_then(|r| r.get("serial-number").map(|s| s.into_owned()))
    });
    let ifaces = ifaces?;
    let (rx, tx) = ifaces.rows.iter().fold((0u64, 0u64), |(rx, tx), r| {
        (
            rx.saturating_add(r.get_u64("rx-byte").unwrap_or(0)),
            tx.saturating_add(r.get_u64("tx-byte").unwrap_or(0)),
        )
    });
    Ok(Checkin {
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
        // Rates need two polls of one session: the telemetry engine fills them.
        rx_bps: 0,
        tx_bps: 0,
    })
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

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}
