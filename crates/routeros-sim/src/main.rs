//! `routeros-sim --devices N --port P`: serve N simulated routers on
//! 127.0.0.1, ports P..P+N-1, until interrupted.

use clap::Parser;
use routeros_sim::{Faults, SimConfig, SimFleet};

#[derive(Parser, Debug)]
#[command(
    version,
    about = "Simulated MikroTik routers speaking the RouterOS API on loopback"
)]
struct Args {
    /// Number of routers to simulate.
    #[arg(long, default_value_t = 1)]
    devices: usize,
    /// First port; router i listens on port + i. 0 picks free ports.
    #[arg(long, default_value_t = 8728)]
    port: u16,
    /// API user every router accepts.
    #[arg(long, default_value = "admin")]
    user: String,
    /// That user's password (empty, as on a factory-default router).
    #[arg(long, default_value = "", env = "ROUTEROS_SIM_PASSWORD")]
    password: String,
    /// RouterOS versions, comma-separated: router i gets the i-th, cycling
    /// (6.42: challenge login only; 6.44: both; 7.18+: `!empty`).
    #[arg(long, default_value = "7.16.2", value_delimiter = ',')]
    versions: Vec<String>,
    /// Delay before every reply, in milliseconds (fault injection).
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Write replies one byte at a time (fault injection).
    #[arg(long)]
    fragment: bool,
    /// Drop each session after this many reply sentences (fault injection).
    #[arg(long)]
    drop_after: Option<usize>,
    /// Also serve API-SSL from this port on (router i on tls-port + i), each
    /// router with its own self-signed certificate; prints the fingerprints.
    #[arg(long)]
    tls_port: Option<u16>,
    /// With --tls-port: the routers have no certificate, so API-SSL offers
    /// only anonymous Diffie-Hellman (ADH) suites, as a real router does
    /// before a certificate is installed; prints `tls PORT anonymous`.
    #[arg(long, requires = "tls_port")]
    tls_anonymous: bool,
    /// Announce every router over MNDP to this loopback ADDR:PORT every 5 s.
    #[arg(long, value_name = "ADDR:PORT")]
    mndp: Option<std::net::SocketAddr>,
    /// Runtime threads: 1 serves everything from one thread (lowest
    /// latency per command); 0 uses one per core.
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Commands that never finish, e.g. /interface/lte/info (fault injection).
    #[arg(long, value_delimiter = ',')]
    stall: Vec<String>,
    /// Flapping routers: every PERIOD a fresh PERCENT of the routers drop
    /// their sessions and refuse logins, and the previous ones recover
    /// (fault injection for soak tests), e.g. `10:90s`.
    #[arg(long, value_name = "PERCENT:PERIOD")]
    flap: Option<String>,
    /// Seed the routers from RouterOS exports (`.rsc`, repeatable): router
    /// i holds the i-th, cycling, and `/export` prints it back.
    #[arg(long, value_name = "FILE")]
    seed: Vec<std::path::PathBuf>,
}

/// Every `period`, a different `percent` of the routers is down.
async fn flap(fleet: &SimFleet, spec: &str) -> anyhow::Result<()> {
    let (pct, period) = spec
        .split_once(':')
        .ok_or_else(|| anyhow::anyhow!("--flap {spec:?}: use PERCENT:PERIOD, e.g. 10:90s"))?;
    let pct: usize = pct.parse()?;
    let period = routeros_proto::value::parse_duration(period)
        .ok_or_else(|| anyhow::anyhow!("--flap {spec:?}: {period:?} is not a duration"))?;
    let n = fleet.len();
    let down_count = (n * pct / 100).max(1);
    let down = Faults {
        drop_after: Some(0),
        reject_login: true,
        ..Faults::default()
    };
    let mut round = 0usize;
    loop {
        // A stride through the fleet: each round a different slice is down.
        let start = (round * down_count) % n;
        for i in 0..n {
            let offset = (i + n - start) % n;
            let faults = if offset < down_count {
                down.clone()
            } else {
                Faults::default()
            };
            fleet.device(i).set_faults(faults);
        }
        println!("flap round {round}: routers {start}.. down ({down_count})");
        round += 1;
        tokio::time::sleep(period).await;
    }
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let runtime = if args.threads == 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
    } else {
        let mut b = tokio::runtime::Builder::new_multi_thread();
        if args.threads > 1 {
            b.worker_threads(args.threads);
        }
        b.enable_all().build()?
    };
    runtime.block_on(run(args))
}

async fn run(args: Args) -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    anyhow::ensure!(args.devices > 0, "--devices must be at least 1");
    let fleet = SimFleet::start(SimConfig {
        devices: args.devices,
        base_port: args.port,
        username: args.user,
        password: args.password,
        versions: args.versions,
        faults: Faults {
            latency: std::time::Duration::from_millis(args.latency_ms),
            fragment: args.fragment,
            drop_after: args.drop_after,
            stall: args.stall,
            ..Faults::default()
        },
        tls: args.tls_port.is_some(),
        tls_base_port: args.tls_port.unwrap_or(0),
        tls_anonymous: args.tls_anonymous,
        seeds: args
            .seed
            .iter()
            .map(|p| std::fs::read(p).map_err(|e| anyhow::anyhow!("--seed {}: {e}", p.display())))
            .collect::<anyhow::Result<_>>()?,
        ..SimConfig::default()
    })
    .await?;
    for i in 0..fleet.len() {
        match (fleet.tls_port(i), fleet.fingerprint(i)) {
            (Some(port), Some(fp)) => {
                let hex: Vec<String> = fp.iter().map(|b| format!("{b:02X}")).collect();
                println!("tls {port} {}", hex.join(":"));
            }
            (Some(port), None) => println!("tls {port} anonymous"),
            _ => {}
        }
    }
    let _mndp = match args.mndp {
        Some(target) => Some(
            fleet
                .announce_mndp(target, std::time::Duration::from_secs(5))
                .await?,
        ),
        None => None,
    };
    println!("ready {} {}", fleet.port(0), fleet.len());
    let flapping = async {
        match &args.flap {
            Some(spec) => flap(&fleet, spec).await,
            None => std::future::pending().await,
        }
    };
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
        r = flapping => r?,
    }
    Ok(())
}
