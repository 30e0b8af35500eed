//! A loopback TCP proxy (to MariaDB in the tests) that can cut every
//! connection once a byte budget from client to server is spent, and
//! refuse new connections until restored: a database that goes away in the
//! middle of a write. It can also go silent (a black hole), slow every
//! exchange down, or let a `COMMIT` through and lose its acknowledgement.
//! Shared by the fleet-store and fleet-core tests.
#![allow(dead_code)]

use std::{
    sync::{
        atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering},
        Arc,
    },
    time::Duration,
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
    faults: Arc<Faults>,
}

/// Faults applied to every connection's traffic.
#[derive(Default)]
struct Faults {
    /// Milliseconds each chunk waits before it is passed on, both ways.
    delay_ms: AtomicU64,
    /// The next `COMMIT` reaches the server; its answer is dropped and the
    /// connection cut (one-shot).
    lose_commit_ack: AtomicBool,
    /// How many acknowledgements were lost so.
    acks_lost: AtomicU64,
}

impl Proxy {
    pub async fn start(upstream: u16) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let budget = Arc::new(AtomicI64::new(i64::MAX));
        let refuse = Arc::new(AtomicBool::new(false));
        let silent = Arc::new(AtomicBool::new(false));
        let (kill, _) = broadcast::channel(4);
        let faults = Arc::new(Faults::default());
        let (b, r, s, k) = (budget.clone(), refuse.clone(), silent.clone(), kill.clone());
        let f = faults.clone();
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
                    f.clone(),
                ));
            }
        });
        Proxy {
            port,
            budget,
            refuse,
            silent,
            kill,
            faults,
        }
    }

    /// Every chunk, each way, waits `delay` before it is passed on: a slow
    /// database or a long, congested path.
    pub fn slow(&self, delay: Duration) {
        self.faults
            .delay_ms
            .store(delay.as_millis() as u64, Ordering::SeqCst);
    }

    /// The next `COMMIT` reaches the server and is done there, but its
    /// answer never reaches the client: the connection is cut instead.
    pub fn lose_next_commit_ack(&self) {
        self.faults.lose_commit_ack.store(true, Ordering::SeqCst);
    }

    /// Acknowledgements of a `COMMIT` lost so far.
    pub fn acks_lost(&self) -> u64 {
        self.faults.acks_lost.load(Ordering::SeqCst)
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
        self.faults.delay_ms.store(0, Ordering::SeqCst);
        self.faults.lose_commit_ack.store(false, Ordering::SeqCst);
    }
}

async fn delay(faults: &Faults) {
    let ms = faults.delay_ms.load(Ordering::SeqCst);
    if ms > 0 {
        tokio::time::sleep(Duration::from_millis(ms)).await;
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
    faults: Arc<Faults>,
) {
    let mut killed = kill.subscribe();
    // This connection sent the `COMMIT` whose answer is to be lost.
    let committing = AtomicBool::new(false);
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
            delay(&faults).await;
            if buf[..n].windows(6).any(|w| w == b"COMMIT")
                && faults.lose_commit_ack.swap(false, Ordering::SeqCst)
            {
                committing.store(true, Ordering::SeqCst);
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
            if committing.load(Ordering::SeqCst) {
                // The server has committed and said so: the answer is
                // dropped and the connection cut.
                faults.acks_lost.fetch_add(1, Ordering::SeqCst);
                return;
            }
            delay(&faults).await;
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
