//! MNDP announcements from simulated routers, to a loopback address only.

use std::{
    net::{Ipv4Addr, SocketAddr},
    sync::Arc,
    time::Duration,
};

use routeros_proto::mndp::{encode, Announcement, MacAddr};
use tokio::net::UdpSocket;

use crate::device::Device;

/// The announcement router `d` sends from its first interface.
pub fn announcement(d: &Device, port: u16) -> Announcement {
    let i = d.index();
    Announcement::new()
        .with_mac(MacAddr([0x48, 0x8F, 0x5A, (i >> 8) as u8, i as u8, 1]))
        .with_identity(d.identity())
        .with_version(format!(
            "{} (stable) 2024-09-20 13:00:27",
            d.profile().version
        ))
        .with_platform("MikroTik")
        .with_uptime_secs(d.uptime_secs().min(u64::from(u32::MAX)) as u32)
        .with_software_id(format!("SIM{:X}-{port}", i))
        .with_board(d.board_name())
        .with_interface_name("ether1")
        .with_ipv4(Ipv4Addr::LOCALHOST)
}

/// Sends every router's announcement to `target` now and then every
/// `interval`, until the returned task is dropped or aborted.
pub(crate) async fn announce(
    devices: Vec<(u16, Arc<Device>)>,
    target: SocketAddr,
    interval: Duration,
) -> std::io::Result<tokio::task::JoinHandle<()>> {
    if !target.ip().is_loopback() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("MNDP announcements go to loopback only, not {target}"),
        ));
    }
    let socket = UdpSocket::bind(("127.0.0.1", 0)).await?;
    Ok(tokio::spawn(async move {
        let mut seq = 0u16;
        loop {
            for (port, d) in &devices {
                let mut a = announcement(d, *port);
                a.sequence = seq;
                let _ = socket.send_to(&encode(&a), target).await;
            }
            seq = seq.wrapping_add(1);
            tokio::time::sleep(interval).await;
        }
    }))
}
