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
