//! The live view: `/interface/monitor-traffic` of one router, streamed
//! until the caller drops it (which sends `/cancel` to the router).

use futures::{Stream, StreamExt};
use routeros::{Client, Command};
use serde::Serialize;

use crate::FleetError;

/// One second of traffic on one interface.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TrafficSample {
    pub interface: String,
    pub rx_bps: u64,
    pub tx_bps: u64,
    pub rx_pps: u64,
    pub tx_pps: u64,
}

/// Streams samples of `interface` (about one a second) until dropped.
pub async fn monitor_traffic(
    client: &Client,
    interface: &str,
) -> Result<impl Stream<Item = Result<TrafficSample, FleetError>>, FleetError> {
    let cmd = Command::new("/interface/monitor-traffic").attr("interface", interface);
    let stream = client.stream(&cmd).await?;
    let name = interface.to_owned();
    Ok(stream.map(move |row| {
        let row = row?;
        let n = |k: &str| row.get_u64(k).unwrap_or(0);
        Ok(TrafficSample {
            interface: row
                .get("name")
                .map_or_else(|| name.clone(), |v| v.into_owned()),
            rx_bps: n("rx-bits-per-second"),
            tx_bps: n("tx-bits-per-second"),
            rx_pps: n("rx-packets-per-second"),
            tx_pps: n("tx-packets-per-second"),
        })
    }))
}

/// An interface the live monitor can watch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct Interface {
    pub name: String,
    /// `ether`, `bridge`, `vlan`, `wlan`…
    pub kind: String,
    pub running: bool,
    pub disabled: bool,
}

/// The router's interfaces, running ones first, in the router's order.
pub async fn interfaces(client: &Client) -> Result<Vec<Interface>, FleetError> {
    let cmd = Command::new("/interface/print").proplist(["name", "type", "running", "disabled"]);
    let flag = |v: Option<std::borrow::Cow<'_, str>>| {
        v.and_then(|v| routeros_proto::value::parse_bool(&v))
            .unwrap_or(false)
    };
    let mut list: Vec<Interface> = client
        .run(&cmd)
        .await?
        .rows
        .iter()
        .filter_map(|r| {
            Some(Interface {
                name: r.get("name")?.into_owned(),
                kind: r.get("type").map(|t| t.into_owned()).unwrap_or_default(),
                running: flag(r.get("running")),
                disabled: flag(r.get("disabled")),
            })
        })
        .collect();
    list.sort_by_key(|i| !i.running);
    Ok(list)
}
