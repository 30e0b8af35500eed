//! A hostile router cannot use up this laptop's memory or hold a command
//! forever: one that answers a command with an endless stream of `!re`,
//! and one that stops reading what it is sent, played over real sockets.

use std::{
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::Duration,
};

use futures::{SinkExt, StreamExt};
use routeros::{Client, Command, ConnectOptions};
use routeros_proto::{ApiCodec, Sentence};
use tokio::{io::AsyncWriteExt, net::TcpListener, sync::oneshot};
use tokio_util::codec::Framed;

fn opts(port: u16) -> ConnectOptions {
    let mut o = ConnectOptions::new("127.0.0.1", port, "admin", "pw");
    o.login_timeout = Duration::from_secs(10);
    o.command_timeout = Duration::from_secs(2);
    o.keepalive = None;
    o
}

/// Accepts one session, answers the login, then runs `then` on it.
async fn router<F, Fut>(then: F) -> u16
where
    F: FnOnce(Framed<tokio::net::TcpStream, ApiCodec>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let (s, _) = listener.accept().await.unwrap();
        let mut t = Framed::new(s, ApiCodec::default());
        let Some(Ok(_login)) = t.next().await else {
            return;
        };
        t.send(Sentence::from_words(["!done"])).await.unwrap();
        then(t).await;
    });
    port
}

#[tokio::test]
async fn a_router_answering_without_end_is_cut_off_bounded_in_memory_and_time() {
    let sent = Arc::new(AtomicU64::new(0));
    let (closed_tx, closed) = oneshot::channel();
    let counter = sent.clone();
    let port = router(move |mut t| async move {
        let Some(Ok(cmd)) = t.next().await else {
            return;
        };
        let tag = [b".tag=".as_slice(), cmd.tag().unwrap_or_default()].concat();
        let row = Sentence::from_words([
            b"!re".to_vec(),
            [b"=data=".as_slice(), &[b'x'; 1024]].concat(),
            tag,
        ]);
        let bytes = row.to_bytes();
        // As if 10 GB were on the way: sent until the client hangs up.
        let stream = t.get_mut();
        while stream.write_all(&bytes).await.is_ok() {
            counter.fetch_add(bytes.len() as u64, Ordering::Relaxed);
        }
        let _ = closed_tx.send(());
    })
    .await;
    let mut o = opts(port);
    o.max_reply_bytes = 1 << 20;
    o.command_timeout = Duration::from_secs(60);
    let client = Client::connect(&o).await.unwrap();
    let err = tokio::time::timeout(
        Duration::from_secs(60),
        client.run(&Command::new("/ip/firewall/address-list/print")),
    )
    .await
    .expect("the command ends long before its deadline")
    .unwrap_err()
    .to_string();
    assert!(err.contains("more than 1 MiB"), "{err}");
    assert!(
        err.contains(&format!("127.0.0.1:{port}")),
        "names the router: {err}"
    );
    drop(client);
    tokio::time::timeout(Duration::from_secs(60), closed)
        .await
        .expect("the session is closed once the last handle goes")
        .unwrap();
    let total = sent.load(Ordering::Relaxed);
    // What was read is at most the budget plus what sat in socket buffers.
    assert!(total < 64 << 20, "read {total} bytes for a 1 MiB budget");
}

#[tokio::test]
async fn a_router_that_stops_reading_fails_the_command_within_its_deadline() {
    let (release, held) = oneshot::channel::<()>();
    let port = router(move |t| async move {
        // Holds the connection open and never reads from it again.
        let _ = held.await;
        drop(t);
    })
    .await;
    let client = Client::connect(&opts(port)).await.unwrap();
    // Larger than every socket buffer on the way: the write must block.
    let huge = "x".repeat(64 << 20);
    let err = tokio::time::timeout(
        Duration::from_secs(60),
        client.run(&Command::new("/file/set").attr("contents", huge)),
    )
    .await
    .expect("the write shares the command's deadline")
    .unwrap_err()
    .to_string();
    assert!(err.contains("stopped reading"), "{err}");
    assert!(
        err.contains(&format!("127.0.0.1:{port}")),
        "names the router: {err}"
    );
    // The session is over: the next command fails at once, clearly.
    let next = tokio::time::timeout(
        Duration::from_secs(60),
        client.run(&Command::new("/system/identity/print")),
    )
    .await
    .expect("no wait on a dead session")
    .unwrap_err();
    assert!(next.to_string().contains("stopped reading"), "{next}");
    let _ = release.send(());
}
