//! A loopback TCP proxy (to MariaDB in the tests) that can cut every
//! connection once a byte budget from client to server is spent, and
//! refuse new connections until restored: a database that goes away in the
//! middle of a write. Shared by the fleet-store and fleet-core tests.
#![allow(dead_code)]

use std::sync::{
    atomic::{AtomicBool, AtomicI64, Ordering},
    Arc,
};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
    sync::broadcast,
};

/// A loopback TCP proxy to MariaDB that can cut every connection once a
/// byte budget from client to server is spent, and refuse new ones.
pub struct Proxy {
    pub port: u16,
    budget: Arc<AtomicI64>,
    refuse: Arc<AtomicBool>,
    kill: broadcast::Sender<()>,
}

impl Proxy {
    pub async fn start(upstream: u16) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let budget = Arc::new(AtomicI64::new(i64::MAX));
        let refuse = Arc::new(AtomicBool::new(false));
        let (kill, _) = broadcast::channel(4);
        let (b, r, k) = (budget.clone(), refuse.clone(), kill.clone());
        tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    return;
                };
                if r.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let server = TcpStream::connect(("127.0.0.1", upstream)).await.unwrap();
                tokio::spawn(pump(client, server, b.clone(), r.clone(), k.clone()));
            }
        });
        Proxy {
            port,
            budget,
            refuse,
            kill,
        }
    }

    /// Cut everything after `bytes` more bytes towards the server.
    pub fn cut_after(&self, bytes: i64) {
        self.budget.store(bytes, Ordering::SeqCst);
    }

    /// Refuse new connections and cut the open ones now.
    pub fn cut_now(&self) {
        self.refuse.store(true, Ordering::SeqCst);
        let _ = self.kill.send(());
    }

    pub fn restore(&self) {
        self.budget.store(i64::MAX, Ordering::SeqCst);
        self.refuse.store(false, Ordering::SeqCst);
    }
}

async fn pump(
    client: TcpStream,
    server: TcpStream,
    budget: Arc<AtomicI64>,
    refuse: Arc<AtomicBool>,
    kill: broadcast::Sender<()>,
) {
    let mut killed = kill.subscribe();
    let (mut cr, mut cw) = client.into_split();
    let (mut sr, mut sw) = server.into_split();
    let up = async {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let n = match cr.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            let left = budget.fetch_sub(n as i64, Ordering::SeqCst) - n as i64;
            if left < 0 {
                // Forward part of the packet, then the server goes away.
                let part = (n as i64 + left).max(0) as usize;
                let _ = sw.write_all(&buf[..part]).await;
                refuse.store(true, Ordering::SeqCst);
                let _ = kill.send(());
                return;
            }
            if sw.write_all(&buf[..n]).await.is_err() {
                return;
            }
        }
    };
    let down = async {
        let _ = tokio::io::copy(&mut sr, &mut cw).await;
    };
    tokio::select! {
        _ = up => {}
        _ = down => {}
        _ = killed.recv() => {}
    }
}
