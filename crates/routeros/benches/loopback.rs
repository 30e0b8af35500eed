//! Loopback benchmark of the client against the simulator: sequential
//! round trips, pipelined throughput, a raw TCP echo of the same bytes as
//! the physical limit, and client memory per logged-in session. Prints
//! figures; asserts nothing about speed.
//!
//! `scripts/bench-routeros.sh` runs it against a separate `routeros-sim`
//! process (so the RSS figures are the client's alone) and compares with
//! Python librouteros. Alone, `cargo bench -p routeros --bench loopback`
//! starts an in-process simulator.

use std::time::{Duration, Instant};

use clap::Parser;
use futures::{stream, StreamExt};
use routeros::{Client, Command, ConnectOptions};
use routeros_sim::{SimConfig, SimFleet};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};

#[derive(Parser, Debug)]
struct Args {
    /// First port of an external routeros-sim; omit to start one in-process.
    #[arg(long)]
    port: Option<u16>,
    /// Routers the external simulator serves (sessions are spread over them).
    #[arg(long, default_value_t = 10)]
    devices: u16,
    #[arg(long, default_value = "bench")]
    password: String,
    #[arg(long, default_value_t = 20_000)]
    sequential: usize,
    #[arg(long, default_value_t = 200_000)]
    pipelined: usize,
    #[arg(long, default_value_t = 64)]
    depth: usize,
    /// Session counts to measure client RSS at.
    #[arg(long, value_delimiter = ',', default_value = "1000,10000")]
    sessions: Vec<usize>,
    /// Tokio runtime: `multi` (work-stealing, what the app uses) or
    /// `current` (one thread: no cross-thread wake-ups between the caller
    /// and the connection's reader).
    #[arg(long, default_value = "multi")]
    runtime: String,
    /// Only the sequential figures (for repeated comparison runs).
    #[arg(long)]
    sequential_only: bool,
    /// Passed by `cargo bench`.
    #[arg(long, hide = true)]
    bench: bool,
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn opts(port: u16, password: &str) -> ConnectOptions {
    let mut o = ConnectOptions::new("127.0.0.1", port, "admin", password);
    o.connect_timeout = Duration::from_secs(30);
    o.login_timeout = Duration::from_secs(30);
    o.max_in_flight = 1024;
    o
}

fn rate(n: usize, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64()
}

async fn echo_server() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = l.accept().await else {
                return;
            };
            s.set_nodelay(true).ok();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 64 * 1024];
                loop {
                    match s.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => {
                            if s.write_all(&buf[..n]).await.is_err() {
                                return;
                            }
                        }
                    }
                }
            });
        }
    });
    port
}

/// Sequential and windowed echo of `msg`, the same bytes a command takes.
async fn echo(port: u16, msg: &[u8], n: usize, depth: usize) -> (f64, f64) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    s.set_nodelay(true).ok();
    let mut back = vec![0u8; msg.len()];
    let t = Instant::now();
    for _ in 0..n {
        s.write_all(msg).await.unwrap();
        s.read_exact(&mut back).await.unwrap();
    }
    let seq = rate(n, t.elapsed());
    let total = n * 10;
    let (mut r, mut w) = s.into_split();
    let window = std::sync::Arc::new(tokio::sync::Semaphore::new(depth));
    let w_window = window.clone();
    let msg = msg.to_vec();
    let t = Instant::now();
    let writer = tokio::spawn(async move {
        for _ in 0..total {
            w_window.acquire().await.unwrap().forget();
            w.write_all(&msg).await.unwrap();
        }
    });
    let mut got = 0usize;
    let mut buf = vec![0u8; 64 * 1024];
    let len = back.len();
    while got < total * len {
        let k = r.read(&mut buf).await.unwrap();
        let before = got / len;
        got += k;
        window.add_permits(got / len - before);
    }
    writer.await.unwrap();
    (seq, rate(total, t.elapsed()))
}

/// Sequential commands written and read with the bare codec on one socket:
/// what the simulator allows, without the client's tasks and channels.
async fn raw_round_trips(port: u16, password: &str, msg: &[u8], n: usize) -> f64 {
    use bytes::BytesMut;
    use routeros_proto::{Sentence, SentenceDecoder};
    let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    s.set_nodelay(true).ok();
    let login = Sentence::from_words([
        "/login".to_owned(),
        "=name=admin".into(),
        format!("=password={password}"),
    ]);
    s.write_all(&login.to_bytes()).await.unwrap();
    let mut dec = SentenceDecoder::default();
    let mut buf = BytesMut::with_capacity(4096);
    async fn read_done(s: &mut TcpStream, dec: &mut SentenceDecoder, buf: &mut BytesMut) {
        loop {
            while let Some(sent) = dec.decode(buf).unwrap() {
                if sent.first_word() == Some(&b"!done"[..]) {
                    return;
                }
            }
            let n = s.read_buf(buf).await.unwrap();
            assert!(n > 0, "simulator closed the connection");
        }
    }
    read_done(&mut s, &mut dec, &mut buf).await;
    let t = Instant::now();
    for _ in 0..n {
        s.write_all(msg).await.unwrap();
        read_done(&mut s, &mut dec, &mut buf).await;
    }
    rate(n, t.elapsed())
}

fn main() {
    let args = Args::parse();
    let rt = match args.runtime.as_str() {
        "current" => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build(),
        _ => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build(),
    }
    .unwrap();
    rt.block_on(run(args));
}

async fn run(args: Args) {
    let (_sim, first_port, devices) = match args.port {
        Some(p) => (None, p, args.devices),
        None => {
            eprintln!("(no --port: starting an in-process simulator; RSS figures include it)");
            let sim = SimFleet::start(SimConfig {
                devices: 10,
                password: args.password.clone(),
                ..SimConfig::default()
            })
            .await
            .unwrap();
            // In-process ports are not consecutive; sessions use router 0.
            let p = sim.port(0);
            (Some(sim), p, 1)
        }
    };
    let cmd = Command::new("/system/identity/print");
    println!(
        "RouterOS API client, loopback, {} cores, {} runtime",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        args.runtime
    );

    let client = Client::connect(&opts(first_port, &args.password))
        .await
        .unwrap();
    for _ in 0..1000 {
        client.run(&cmd).await.unwrap();
    }
    let t = Instant::now();
    for _ in 0..args.sequential {
        client.run(&cmd).await.unwrap();
    }
    let seq = rate(args.sequential, t.elapsed());
    println!(
        "sequential round trips, one connection: {seq:>10.0} commands/s ({:.1} us each)",
        1e6 / seq
    );

    if args.sequential_only {
        let msg = cmd.to_sentence(Some("12345")).unwrap().to_bytes();
        let floor = raw_round_trips(first_port, &args.password, &msg, args.sequential).await;
        println!("raw protocol round trips, no client machinery: {floor:>10.0} commands/s (the simulator's floor)");
        return;
    }
    let t = Instant::now();
    let done = stream::iter(0..args.pipelined)
        .map(|_| client.run(&cmd))
        .buffer_unordered(args.depth)
        .filter(|r| std::future::ready(r.is_ok()))
        .count()
        .await;
    assert_eq!(done, args.pipelined, "every pipelined command succeeded");
    let pipe = rate(args.pipelined, t.elapsed());
    println!(
        "pipelined, {} in flight, one connection: {pipe:>10.0} commands/s",
        args.depth
    );
    drop(client);

    let msg = cmd.to_sentence(Some("12345")).unwrap().to_bytes();
    let floor = raw_round_trips(first_port, &args.password, &msg, args.sequential).await;
    println!("raw protocol round trips, no client machinery: {floor:>10.0} commands/s (the simulator's floor)");
    let echo_port = echo_server().await;
    let (echo_seq, echo_pipe) = echo(echo_port, &msg, args.sequential, args.depth).await;
    println!("raw TCP echo of the same {} bytes, sequential: {echo_seq:>10.0} round trips/s (physical limit)", msg.len());
    println!(
        "raw TCP echo, {} in flight:                   {echo_pipe:>10.0} messages/s",
        args.depth
    );
    println!(
        "client sequential at {:.0} % of the echo limit",
        100.0 * seq / echo_seq
    );

    tokio::time::sleep(Duration::from_millis(200)).await;
    for &n in &args.sessions {
        let before = rss_kib();
        let t = Instant::now();
        let clients: Vec<Client> = stream::iter(0..n)
            .map(|i| {
                let port = first_port + (i as u16 % devices.max(1));
                let o = opts(port, &args.password);
                async move { Client::connect(&o).await }
            })
            .buffer_unordered(256)
            .filter_map(|c| std::future::ready(c.ok()))
            .collect()
            .await;
        let opened = clients.len();
        let elapsed = t.elapsed();
        // Prove they are live: one command on each.
        let ok = stream::iter(clients.iter())
            .map(|c| c.run(&cmd))
            .buffer_unordered(256)
            .filter(|r| std::future::ready(r.is_ok()))
            .count()
            .await;
        let after = rss_kib();
        println!(
            "{opened:>6} logged-in sessions ({ok} answered a command), opened in {:.2} s: client RSS {:.1} MiB -> {:.1} MiB, {:.1} KiB per session",
            elapsed.as_secs_f64(),
            before as f64 / 1024.0,
            after as f64 / 1024.0,
            (after.saturating_sub(before)) as f64 / opened.max(1) as f64
        );
        drop(clients);
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
