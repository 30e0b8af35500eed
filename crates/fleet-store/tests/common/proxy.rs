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
    silent: Arc<AtomicBool>,
    kill: broadcast::Sender<()>,
}

impl Proxy {
    pub async fn start(upstream: u16) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let budget = Arc::new(AtomicI64::new(i64::MAX));
        let refuse = Arc::new(AtomicBool::new(false));
        let silent = Arc::new(AtomicBool::new(false));
        let (kill, _) = broadcast::channel(4);
        let (b, r, s, k) = (budget.clone(), refuse.clone(), silent.clone(), kill.clone());
        tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    return;
                };
                if r.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                if s.load(Ordering::SeqCst) {
                    // Accepted, and never answered.
                    tokio::spawn(swallow(client));
                    continue;
                }
                let server = TcpStream::connect(("127.0.0.1", upstream)).await.unwrap();
                tokio::spawn(pump(
                    client,
                    server,
                    b.clone(),
                    r.clone(),
                    s.clone(),
                    k.clone(),
                ));
            }
        });
        Proxy {
            port,
            budget,
            refuse,
            silent,
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

    /// A black hole: connections stay open and new ones are accepted, but
    /// nothing reaches the server or comes back (a path that silently
    /// drops packets).
    pub fn go_silent(&self) {
        self.silent.store(true, Ordering::SeqCst);
    }

    pub fn restore(&self) {
        self.budget.store(i64::MAX, Ordering::SeqCst);
        self.refuse.store(false, Ordering::SeqCst);
        self.silent.store(false, Ordering::SeqCst);
    }
}

/// Reads and drops whatever a client sends, for as long as it stays.
async fn swallow(mut client: TcpStream) {
    let mut buf = vec![0u8; 4096];
    while let Ok(n) = client.read(&mut buf).await {
        if n == 0 {
            return;
        }
    }
}

async fn pump(
    client: TcpStream,
    server: TcpStream,
    budget: Arc<AtomicI64>,
    refuse: Arc<AtomicBool>,
    silent: Arc<AtomicBool>,
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
            if silent.load(Ordering::SeqCst) {
                continue;
            }
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
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let n = match sr.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            if silent.load(Ordering::SeqCst) {
                continue;
            }
            if cw.write_all(&buf[..n]).await.is_err() {
                return;
            }
        }
    };
    tokio::select! {
        _ = up => {}
        _ = down => {}
        _ = killed.recv() => {}
    }
}
