//! `fleetdeck-cli`: Fleetdeck's operations from a terminal, for scripts,
//! benchmarks and technicians without the desktop app.

use std::{process::ExitCode, time::Duration};

use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand};
use fleet_core::{credentials::Sensitive, Fleet, StoreUrl};
use routeros::{Client, Command, ConnectOptions, Fingerprint, Reply, TlsMode};

#[derive(Parser)]
#[command(
    name = "fleetdeck-cli",
    version,
    about = "Fleetdeck from a terminal: MikroTik RouterOS fleet operations"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run RouterOS API commands and print every reply sentence as a JSON line.
    ///
    /// Several commands, separated by `--`, are pipelined on one session and
    /// printed in order. Example:
    /// fleetdeck-cli ros --host 192.168.88.1 -- /interface/print ?type=ether -- /system/resource/print
    Ros {
        #[command(flatten)]
        login: Login,
        /// Only these properties (adds .proplist= to every command).
        #[arg(long, value_delimiter = ',')]
        proplist: Vec<String>,
        /// Query words added to every command, e.g. --query '?type=ether'.
        #[arg(long)]
        query: Vec<String>,
        /// Stream the (first) command's rows as they come (`=follow=` for a
        /// print; listen and monitor-traffic stream anyway) until --duration
        /// passes or Ctrl-C, then cancel it on the router.
        #[arg(long)]
        follow: bool,
        /// How long --follow streams, e.g. 30s, 5m; default: until Ctrl-C.
        #[arg(long, value_name = "DURATION")]
        duration: Option<String>,
        /// The command path and its words (=name=value, ?query, .proplist=a,b).
        #[arg(last = true, required = true, value_name = "COMMAND")]
        words: Vec<String>,
    },
    /// The fleet store: schema and row counts.
    Store {
        #[command(subcommand)]
        action: StoreCmd,
    },
    /// Deliver FROM's outbox (records made on site) to TO; when TO is an
    /// embedded store, then copy a snapshot of FROM into it for offline
    /// review. Safe to re-run after any interruption.
    Sync {
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
        /// Raw check-ins, audit events and pushes copied by the snapshot:
        /// this far back (older hours come as hourly rollups).
        #[arg(long, default_value = "24h")]
        window: String,
        #[arg(long)]
        json: bool,
    },
    /// Poll routers into the store: one router by --host, or many by
    /// --targets, every --interval until Ctrl-C, or one sweep with --once.
    Poll {
        #[command(flatten)]
        login: Login,
        /// A file (one host[:port] a line, or an inventory CSV with a
        /// header: host,port,username,site,tags) or HOST:PORT+N for N
        /// routers on consecutive ports. Without --password-env, each
        /// router's password comes from the credential store.
        #[arg(long, conflicts_with = "host")]
        targets: Option<String>,
        /// sqlite://PATH or mysql://USER@HOST:PORT/DB; default: the embedded store.
        #[arg(long, env = "FLEETDECK_STORE")]
        store: Option<String>,
        /// Poll cadence for routers whose site sets none.
        #[arg(long, default_value = "30s")]
        interval: String,
        /// One sweep of every target, then a report.
        #[arg(long)]
        once: bool,
        /// Connects and logins in progress at once.
        #[arg(long, default_value_t = 256)]
        concurrency: usize,
        /// Alert on routers older than this RouterOS version (e.g. 7.16.2).
        #[arg(long)]
        target_version: Option<String>,
        /// Reports as JSON lines.
        #[arg(long)]
        json: bool,
    },
    /// Find routers: MNDP on the local segment, and with --probe a TCP
    /// probe of the API ports over a subnet.
    Discover {
        /// Where to listen for MNDP (default 0.0.0.0:5678, sending
        /// discovery requests by broadcast; a specific address only listens).
        #[arg(long, value_name = "ADDR:PORT")]
        listen: Option<std::net::SocketAddr>,
        #[arg(long, default_value = "5s")]
        duration: String,
        /// Also probe this IPv4 subnet (at most a /16), e.g. 192.168.88.0/24.
        #[arg(long, value_name = "CIDR")]
        probe: Option<String>,
        #[arg(long, value_delimiter = ',', default_value = "8728,8729")]
        ports: Vec<u16>,
        /// Probe connections in progress at once.
        #[arg(long, default_value_t = 256)]
        concurrency: usize,
        #[arg(long)]
        json: bool,
    },
    /// Render a template and push it to routers in waves: backup, safety
    /// net, steps, verify, confirm, per router; an audit trail of all of it.
    Push {
        #[command(flatten)]
        login: Login,
        #[arg(long)]
        template: std::path::PathBuf,
        /// Placeholder values, JSON or TOML.
        #[arg(long)]
        values: std::path::PathBuf,
        /// A file, HOST[:PORT][,…] or HOST:PORT+N (see poll --targets).
        #[arg(long)]
        targets: String,
        /// Resume an interrupted, paused, stopped or cancelled bulk push
        /// (its id from `pushes`): every router of it that has not
        /// succeeded is pushed, in the original order and waves.
        #[arg(long, value_name = "BATCH")]
        resume: Option<String>,
        #[arg(long, env = "FLEETDECK_STORE")]
        store: Option<String>,
        /// Routers pushed at once.
        #[arg(long, default_value_t = 32)]
        concurrency: usize,
        /// Cumulative waves: a count of routers or a percentage.
        #[arg(long, default_value = "1,10%,100%")]
        waves: String,
        /// Stop after this many routers fail (0: never stop).
        #[arg(long, default_value_t = 1)]
        stop_after: usize,
        /// Minutes before the router restores its backup unless confirmed.
        #[arg(long, default_value_t = 10)]
        confirm_within: u64,
        /// Leave each router's safety net armed after it is verified, until
        /// `fleetdeck-cli confirm` removes it (the app's "I confirm"); without
        /// a confirmation the router restores its backup by itself.
        #[arg(long)]
        confirm_by_hand: bool,
        #[arg(long)]
        dry_run: bool,
        /// Send the rendered script as one upload-and-/import step instead
        /// of a plan: for scripts with logic (:if, loops, variables) the plan
        /// refuses. The router runs it as it is: not idempotent, checked
        /// beforehand only on RouterOS 7.16+ (dry-run), not verifiable by
        /// reading back; the backup and safety net still apply.
        #[arg(long)]
        import: bool,
        #[arg(long)]
        json: bool,
    },
    /// What a push of a template would do to one router: the rendered
    /// script (secrets masked), the plan, each step's decision on the
    /// router's current state, and a diff against its export. Writes
    /// nothing to the router.
    Preview {
        #[command(flatten)]
        login: Login,
        #[arg(long)]
        template: std::path::PathBuf,
        /// Placeholder values, JSON or TOML.
        #[arg(long)]
        values: std::path::PathBuf,
        /// Send the rendered script as one upload-and-/import step instead
        /// of a plan: for scripts with logic (:if, loops, variables) the plan
        /// refuses. The router runs it as it is: not idempotent, checked
        /// beforehand only on RouterOS 7.16+ (dry-run), not verifiable by
        /// reading back; the backup and safety net still apply.
        #[arg(long)]
        import: bool,
        /// Where the router's site is looked up for `site.*` values
        /// (default: the embedded store in the data folder).
        #[arg(long, env = "FLEETDECK_STORE")]
        store: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Bulk pushes in the store, newest first. Batches whose heartbeat
    /// stopped (the app or CLI was closed mid-push) are marked interrupted
    /// first, with the routers that were mid-push.
    Pushes {
        #[arg(long, env = "FLEETDECK_STORE")]
        store: Option<String>,
        /// Show this batch's routers.
        #[arg(long, value_name = "BATCH")]
        batch: Option<String>,
        #[arg(long, default_value_t = 20)]
        limit: u32,
        #[arg(long)]
        json: bool,
    },
    /// Confirm an unconfirmed push on a router by hand: removes its safety
    /// scheduler so the router keeps its current configuration. Without
    /// --scheduler, lists the unconfirmed pushes.
    Confirm {
        #[command(flatten)]
        login: Login,
        #[arg(long, value_name = "NAME")]
        scheduler: Option<String>,
        /// Where the push record is marked confirmed and the confirmation
        /// audited (default: the embedded store in the data folder).
        #[arg(long, env = "FLEETDECK_STORE")]
        store: Option<String>,
    },
    /// Compile a RouterOS script (e.g. a rendered template) into the plan a
    /// push would run, or say which line cannot be compiled and why.
    Plan {
        file: std::path::PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Check a template, or render it with values.
    Template {
        #[command(subcommand)]
        action: TemplateCmd,
    },
    /// Live traffic of one interface (/interface/monitor-traffic), until
    /// --duration or Ctrl-C; the command is cancelled on the router.
    Watch {
        #[command(flatten)]
        login: Login,
        #[arg(long, default_value = "ether1")]
        interface: String,
        #[arg(long)]
        duration: Option<String>,
    },
}

#[derive(Subcommand)]
enum TemplateCmd {
    /// Check placeholders and types; list the values the template needs.
    Check { file: std::path::PathBuf },
    /// Print the rendered script. Values: a JSON or TOML file (by
    /// extension), keys named as the placeholders. Secrets are printed, so
    /// mind where the output goes; --preview masks them.
    Render {
        file: std::path::PathBuf,
        #[arg(long)]
        values: std::path::PathBuf,
        #[arg(long)]
        preview: bool,
    },
}

#[derive(Subcommand)]
enum StoreCmd {
    /// Create or upgrade the schema, then print the store and its schema.
    Migrate {
        /// sqlite://PATH or mysql://USER@HOST:PORT/DB; default: the embedded store.
        #[arg(long, env = "FLEETDECK_STORE")]
        store: Option<String>,
    },
    /// Row counts per table.
    Stats {
        #[arg(long, env = "FLEETDECK_STORE")]
        store: Option<String>,
        /// One JSON object instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Print the schema (DDL) a dialect gets: sqlite, mysql or singlestore.
    Ddl {
        #[arg(long)]
        dialect: fleet_store::Dialect,
    },
    /// Fill a store with a realistic synthetic fleet (sites, versions,
    /// boards, diurnal load) for benchmarks and demos. Deterministic per
    /// seed: re-running adds nothing twice.
    Generate {
        #[arg(long, env = "FLEETDECK_STORE")]
        store: Option<String>,
        #[arg(long)]
        devices: u32,
        #[arg(long)]
        checkins_per_device: u32,
        /// Time between two check-ins of a router.
        #[arg(long, default_value = "5m")]
        interval: String,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long)]
        json: bool,
    },
    /// The fleet overview's figures: state counts, versions, CPU bands,
    /// busiest routers, memory and storage pressure, check-ins per hour.
    Dashboard {
        #[arg(long, env = "FLEETDECK_STORE")]
        store: Option<String>,
        /// Poll interval the health thresholds follow.
        #[arg(long, default_value = "30s")]
        interval: String,
        /// Check-ins per hour over this window.
        #[arg(long, default_value = "24h")]
        window: String,
        #[arg(long)]
        json: bool,
    },
}

fn duration_arg(flag: &str, text: &str) -> anyhow::Result<std::time::Duration> {
    routeros_proto::value::parse_duration(text)
        .with_context(|| format!("{flag} {text:?} is not a duration like 30s, 5m or 24h"))
}

async fn open_store(url: Option<&str>) -> anyhow::Result<fleet_store::FleetStore> {
    let url = match url {
        Some(u) => u.parse::<StoreUrl>()?,
        None => fleet_store::default_store_url()?,
    };
    Ok(fleet_store::FleetStore::open(&url).await?)
}

async fn sync(from: &str, to: &str, window: &str, json: bool) -> anyhow::Result<ExitCode> {
    let window = duration_arg("--window", window)?;
    let from = open_store(Some(from)).await?;
    let to = open_store(Some(to)).await?;
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .saturating_sub(window)
        .as_millis() as i64;
    let report = fleet_store::sync::transfer(&from, &to, since)
        .await
        .with_context(|| {
            format!(
                "the sync of {} to {} stopped; what was not delivered stays queued, run sync again",
                from.location(),
                to.location()
            )
        })?;
    let (queued, queued_records) = from.outbox_size().await?;
    if json {
        let mut v = serde_json::to_value(&report)?;
        v["stillQueued"] = queued_records.into();
        println!("{v}");
    } else {
        println!(
            "delivered {} queued records ({} already there); copied {} devices, {} check-ins, {} rollup hours, {} audit events; {} records ({} entries) still queued",
            report.records_delivered,
            report.already_there,
            report.devices,
            report.checkins,
            report.rollups,
            report.audit_events,
            queued_records,
            queued
        );
    }
    Ok(ExitCode::SUCCESS)
}

async fn store(action: StoreCmd) -> anyhow::Result<ExitCode> {
    match action {
        StoreCmd::Ddl { dialect } => print!("{}", fleet_store::ddl(dialect)),
        StoreCmd::Migrate { store } => {
            let s = open_store(store.as_deref()).await?;
            println!(
                "{} store at {} is up to date",
                s.backend_name(),
                s.location()
            );
        }
        StoreCmd::Stats { store, json } => {
            let s = open_store(store.as_deref()).await?;
            let stats = s.stats().await?;
            if json {
                let map: serde_json::Map<String, serde_json::Value> = stats
                    .iter()
                    .map(|(t, n)| (t.to_string(), (*n).into()))
                    .collect();
                println!("{}", serde_json::Value::Object(map));
            } else {
                for (t, n) in stats {
                    println!("{t:<16} {n:>12}");
                }
            }
        }
        StoreCmd::Generate {
            store,
            devices,
            checkins_per_device,
            interval,
            seed,
            json,
        } => {
            let s = open_store(store.as_deref()).await?;
            let interval = duration_arg("--interval", &interval)?;
            let opts = fleet_store::generate::GenerateOptions {
                devices,
                checkins_per_device,
                interval_secs: interval.as_secs().clamp(1, u64::from(u32::MAX)) as u32,
                seed,
                ..Default::default()
            };
            let total = u64::from(devices) * u64::from(checkins_per_device);
            let mut last_print = std::time::Instant::now();
            let report = fleet_store::generate::generate(&s, &opts, |n| {
                if !json && last_print.elapsed().as_secs() >= 5 {
                    eprintln!("  {n} of {total} check-ins written");
                    last_print = std::time::Instant::now();
                }
            })
            .await?;
            if json {
                println!("{}", serde_json::to_string(&report)?);
            } else {
                println!(
                    "generated {} sites, {} devices, {} check-ins in {:.1} s ({:.0} rows/s) into {}",
                    report.sites,
                    report.devices,
                    report.checkins,
                    report.seconds,
                    report.rows_per_second,
                    s.location()
                );
            }
        }
        StoreCmd::Dashboard {
            store,
            interval,
            window,
            json,
        } => {
            let s = open_store(store.as_deref()).await?;
            let interval = duration_arg("--interval", &interval)?;
            let window = duration_arg("--window", &window)?;
            let o = fleet_core::dashboard::FleetOverview::load(
                &s,
                fleet_core::poll::now_ms(),
                interval,
                window,
            )
            .await?;
            let (summary, versions, cpu, top, pressure, hours) = (
                &o.summary,
                &o.versions,
                &o.cpu,
                &o.top_cpu,
                &o.pressure,
                &o.checkins_per_hour,
            );
            if json {
                println!(
                    "{}",
                    serde_json::json!({
                        "summary": summary, "versions": versions, "cpu": cpu, "topCpu": top,
                        "pressure": pressure, "checkinsPerHour": hours,
                    })
                );
            } else {
                println!(
                    "{} devices: {} online, {} degraded, {} offline ({} never seen)",
                    summary.total,
                    summary.online,
                    summary.degraded,
                    summary.offline,
                    summary.never_seen
                );
                println!("versions:");
                for v in versions {
                    println!("  {:<24} {:>8}", v.key, v.devices);
                }
                println!("CPU load of routers online:");
                for b in cpu {
                    let top = if b.key == 90 { 100 } else { b.key + 9 };
                    println!("  {:>3}-{:<3}% {:>8}", b.key, top, b.devices);
                }
                println!("busiest:");
                for d in top {
                    println!("  {:<32} {:>5.0} %", d.name, d.value);
                }
                println!(
                    "memory >= {} %: {} routers; storage >= {} %: {} routers",
                    pressure.threshold_pct,
                    pressure.memory_high,
                    pressure.threshold_pct,
                    pressure.storage_high
                );
                let total: u64 = hours.iter().map(|h| h.checkins).sum();
                println!(
                    "check-ins in the last {}: {total}",
                    routeros_proto::value::format_duration(window.as_secs())
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Args)]
struct Login {
    /// Router address.
    #[arg(long)]
    host: Option<String>,
    /// API port (default 8728, or 8729 with --tls, --fingerprint or
    /// --tls-anonymous).
    #[arg(long)]
    port: Option<u16>,
    /// Use API-SSL. Without --fingerprint the router's certificate is
    /// trusted this once and its fingerprint printed, for pinning.
    #[arg(long)]
    tls: bool,
    /// The SHA-256 fingerprint of the router's certificate (implies --tls);
    /// any other certificate is refused.
    #[arg(long, value_name = "SHA256")]
    fingerprint: Option<String>,
    /// API-SSL to a router that has no certificate yet: anonymous
    /// Diffie-Hellman (implies TLS). This does NOT authenticate the router:
    /// anyone in the path can impersonate it and read the password. Use it
    /// only to bootstrap, e.g. to install a certificate, then use
    /// --tls / --fingerprint.
    #[arg(long, conflicts_with = "fingerprint")]
    tls_anonymous: bool,
    /// API user.
    #[arg(long, default_value = "admin")]
    user: String,
    /// Name of the environment variable holding the password (never pass
    /// passwords as arguments: they end up in shell history and `ps`).
    /// Without it the password is empty, as on a factory-default router.
    #[arg(long, value_name = "VAR")]
    password_env: Option<String>,
    /// Seconds to wait for each step (connect, login, each command).
    #[arg(long, default_value_t = 10)]
    timeout: u64,
}

impl Login {
    fn password(&self) -> anyhow::Result<Sensitive<String>> {
        match &self.password_env {
            None => Ok(Sensitive::new(String::new())),
            Some(var) => std::env::var(var).map(Sensitive::new).with_context(|| {
                format!("environment variable {var} (from --password-env) is not set")
            }),
        }
    }

    fn tls_mode(&self) -> anyhow::Result<TlsMode> {
        if self.tls_anonymous {
            return Ok(TlsMode::AnonymousDh);
        }
        Ok(match (&self.fingerprint, self.tls) {
            (Some(fp), _) => {
                TlsMode::Pinned(fp.parse::<Fingerprint>().map_err(anyhow::Error::msg)?)
            }
            (None, true) => TlsMode::TrustOnFirstUse,
            (None, false) => TlsMode::Plain,
        })
    }

    fn host(&self) -> anyhow::Result<&str> {
        self.host
            .as_deref()
            .context("name the router with --host (or several with --targets for poll)")
    }

    fn api_port(&self) -> u16 {
        let tls = self.tls || self.tls_anonymous || self.fingerprint.is_some();
        self.port.unwrap_or(if tls { 8729 } else { 8728 })
    }

    fn options(&self) -> anyhow::Result<ConnectOptions> {
        let mut o = ConnectOptions::new(
            self.host()?,
            self.api_port(),
            &self.user,
            self.password()?.expose().clone(),
        );
        o.tls = self.tls_mode()?;
        let t = Duration::from_secs(self.timeout.max(1));
        o.connect_timeout = t;
        o.login_timeout = t;
        o.command_timeout = t;
        Ok(o)
    }
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Cmd::Ros {
            login,
            proplist,
            query,
            follow,
            duration,
            words,
        } => {
            let commands = build_commands(&words, &proplist, &query)?;
            if follow {
                let limit = match duration {
                    Some(d) => {
                        Some(routeros_proto::value::parse_duration(&d).with_context(|| {
                            format!("--duration {d:?} is not a duration like 30s or 5m")
                        })?)
                    }
                    None => None,
                };
                follow_rows(&login, &commands[0], limit).await
            } else {
                ros(&login, &commands).await
            }
        }
        Cmd::Poll {
            login,
            targets: None,
            store,
            ..
        } => poll(&login, store.as_deref()).await,
        Cmd::Poll {
            login,
            targets: Some(targets),
            store,
            interval,
            once,
            concurrency,
            target_version,
            json,
        } => {
            let opts = PollMany {
                interval: duration_arg("--interval", &interval)?,
                once,
                concurrency,
                target_version,
                json,
            };
            poll_many(&login, &targets, store.as_deref(), opts).await
        }
        Cmd::Template { action } => template(action),
        Cmd::Push {
            login,
            template: file,
            values,
            targets,
            resume,
            store,
            concurrency,
            waves,
            stop_after,
            confirm_within,
            confirm_by_hand,
            dry_run,
            import,
            json,
        } => {
            let opts = fleet_core::bulk::BulkOptions {
                concurrency,
                waves: fleet_core::bulk::parse_waves(&waves)?,
                stop_after_failures: (stop_after > 0).then_some(stop_after),
                push: fleet_core::push::PushOptions {
                    dry_run,
                    confirm_within: Duration::from_secs(confirm_within.max(1) * 60),
                    actor: fleet_core::push::technician(),
                    auto_confirm: !confirm_by_hand,
                    ..Default::default()
                },
                ..Default::default()
            };
            push_cmd(
                &login,
                &file,
                &values,
                &targets,
                resume.as_deref(),
                store.as_deref(),
                opts,
                import,
                json,
            )
            .await
        }
        Cmd::Pushes {
            store,
            batch,
            limit,
            json,
        } => {
            let fleet = match store {
                Some(url) => Fleet::open(&url.parse::<StoreUrl>()?).await?,
                None => Fleet::open_default().await?,
            };
            let store = fleet.shared_store();
            let stale = Duration::from_secs(60);
            for b in fleet_core::bulk::recover_interrupted(&store, stale).await? {
                eprintln!("bulk push {} was cut short: {}", b.id, b.summary);
            }
            if let Some(id) = batch {
                for p in store.batch_pushes(&id).await? {
                    if json {
                        println!("{}", serde_json::to_string(&p)?);
                    } else {
                        println!("{} {:<12} {}", p.device_id, p.status, p.summary);
                    }
                }
                return Ok(ExitCode::SUCCESS);
            }
            for b in store.push_batches(None, limit).await? {
                if json {
                    println!("{}", serde_json::to_string(&b)?);
                } else {
                    println!(
                        "{} {:<12} {:>5} routers  {}",
                        b.id,
                        b.status,
                        b.targets.len(),
                        b.summary
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Confirm {
            login,
            scheduler,
            store,
        } => {
            let client = connect(&login).await?;
            match scheduler {
                None => {
                    let pending = fleet_core::push::pending_safety_nets(&client).await?;
                    if pending.is_empty() {
                        eprintln!("no unconfirmed push on this router");
                    }
                    for n in pending {
                        println!("{n}");
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Some(name) => {
                    let store = open_store(store.as_deref()).await?;
                    let device = store.find_device(login.host()?, login.api_port()).await?;
                    let confirmed = fleet_core::push::confirm(
                        &store,
                        &client,
                        device.as_ref().map(|d| d.id.as_str()),
                        &name,
                        &fleet_core::push::technician(),
                    )
                    .await?;
                    if confirmed {
                        eprintln!("confirmed: {name} removed, the router keeps its configuration");
                        Ok(ExitCode::SUCCESS)
                    } else {
                        eprintln!("no safety scheduler {name} on this router");
                        Ok(ExitCode::from(2))
                    }
                }
            }
        }
        Cmd::Preview {
            login,
            template: file,
            values,
            import,
            store,
            json,
        } => {
            let template = read_template(&file)?;
            let values = read_values(&values)?;
            let client = connect(&login).await?;
            let store = open_store(store.as_deref()).await?;
            let device = store.find_device(login.host()?, login.api_port()).await?;
            let previewed = fleet_core::preview::template_on_router(
                &store,
                &client,
                device.as_ref().map(|d| d.id.as_str()),
                &template,
                &values,
                import,
            )
            .await?;
            for e in &previewed.errors {
                eprintln!("{}:{e}", file.display());
            }
            let Some(p) = previewed.preview else {
                anyhow::bail!(
                    "{} value error(s) for {} on this router",
                    previewed.errors.len(),
                    file.display()
                );
            };
            if json {
                println!("{}", serde_json::to_string_pretty(&p)?);
            } else {
                println!("# rendered script\n{}", p.rendered.trim_end());
                println!("\n# plan on this router");
                for s in &p.steps {
                    println!("line {:>4}: {}", s.line, serde_json::to_string(&s.outcome)?);
                }
                println!("\n# diff against the router's export");
                if p.diff.is_empty() {
                    println!("(no change)");
                } else {
                    print!("{}", p.diff);
                }
                for n in &p.notes {
                    println!("note: {n}");
                }
            }
            eprintln!(
                "{} of {} steps would change the router",
                p.changes,
                p.plan.steps.len()
            );
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Plan { file, json } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let plan = fleet_core::plan::compile(&String::from_utf8_lossy(&bytes))
                .with_context(|| format!("{} cannot be pushed as a plan", file.display()))?;
            for step in &plan.steps {
                if json {
                    println!("{}", serde_json::to_string(step)?);
                } else {
                    println!(
                        "line {:>4}: {}",
                        step.line,
                        serde_json::to_string(&step.action)?
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Discover {
            listen,
            duration,
            probe,
            ports,
            concurrency,
            json,
        } => {
            let duration = duration_arg("--duration", &duration)?;
            discover(
                listen,
                duration,
                probe.as_deref(),
                &ports,
                concurrency,
                json,
            )
            .await
        }
        Cmd::Watch {
            login,
            interface,
            duration,
        } => {
            let limit = duration
                .map(|d| duration_arg("--duration", &d))
                .transpose()?;
            watch(&login, &interface, limit).await
        }
        Cmd::Store { action } => store(action).await,
        Cmd::Sync {
            from,
            to,
            window,
            json,
        } => sync(&from, &to, &window, json).await,
    }
}

/// Splits `-- cmd words -- cmd words` into commands, adding the shared
/// --proplist and --query words to each.
fn build_commands(
    words: &[String],
    proplist: &[String],
    query: &[String],
) -> anyhow::Result<Vec<Command>> {
    let mut commands = Vec::new();
    for group in words.split(|w| w == "--").filter(|g| !g.is_empty()) {
        let (path, rest) = group.split_first().expect("non-empty group");
        let mut cmd = rest
            .iter()
            .fold(Command::new(path.as_str()), |c, w| c.word(w.as_bytes()));
        for q in query {
            cmd = cmd.word(q.as_bytes());
        }
        if !proplist.is_empty() {
            cmd = cmd.proplist(proplist);
        }
        commands.push(cmd);
    }
    if commands.is_empty() {
        bail!("give a command after --, for example -- /system/resource/print");
    }
    Ok(commands)
}

async fn connect(login: &Login) -> anyhow::Result<Client> {
    let client = Client::connect(&login.options()?).await?;
    if let (TlsMode::TrustOnFirstUse, Some(fp)) = (login.tls_mode()?, client.peer_fingerprint()) {
        eprintln!("router certificate fingerprint: {fp}\n(pass --fingerprint {fp} to refuse any other certificate from now on)");
    }
    Ok(client)
}

async fn ros(login: &Login, commands: &[Command]) -> anyhow::Result<ExitCode> {
    let client = connect(login).await?;
    // Pipelined: every command is on the wire before the first answer.
    let results = futures::future::join_all(commands.iter().map(|c| client.execute(c))).await;
    let mut trapped = false;
    for (cmd, result) in commands.iter().zip(results) {
        let replies = result?;
        for r in &replies {
            let mut line = reply_json(r);
            if commands.len() > 1 {
                line["command"] = cmd.path().into();
            }
            println!("{line}");
        }
        if let Some(m) = replies
            .iter()
            .find(|r| r.kind == routeros::ReplyKind::Trap)
            .map(|r| r.message().unwrap_or_default())
        {
            trapped = true;
            eprintln!("error: the router rejected {}: {m}", cmd.path());
        }
    }
    Ok(if trapped {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

/// Streams one command's rows until the limit or Ctrl-C; dropping the
/// stream sends `/cancel`.
async fn follow_rows(
    login: &Login,
    cmd: &Command,
    limit: Option<Duration>,
) -> anyhow::Result<ExitCode> {
    let cmd = if cmd.path().ends_with("/print") {
        cmd.clone().attr("follow", "")
    } else {
        cmd.clone()
    };
    let client = connect(login).await?;
    let stream = client.stream(&cmd).await?;
    print_stream(&client, Box::pin(stream), limit, |row: routeros::Row| {
        let attrs: serde_json::Map<String, serde_json::Value> = row
            .iter()
            .map(|(k, v)| (k.to_owned(), String::from_utf8_lossy(v).into_owned().into()))
            .collect();
        println!(
            "{}",
            serde_json::json!({"reply": "!re", "attributes": attrs})
        );
        Ok(())
    })
    .await
}

/// Prints a router stream's items until `limit` or Ctrl-C, then drops the
/// stream (which sends `/cancel`) and gives the cancel a moment to reach
/// the router before the process ends.
async fn print_stream<T, E: Into<anyhow::Error>>(
    client: &Client,
    mut stream: std::pin::Pin<Box<dyn futures::Stream<Item = Result<T, E>> + Send + '_>>,
    limit: Option<Duration>,
    mut print: impl FnMut(T) -> anyhow::Result<()>,
) -> anyhow::Result<ExitCode> {
    use futures::StreamExt;
    let stop = async {
        match limit {
            Some(d) => tokio::time::sleep(d).await,
            None => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    };
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => break,
            item = stream.next() => match item {
                None => break,
                Some(Err(e)) => return Err(e.into()),
                Some(Ok(item)) => print(item)?,
            }
        }
    }
    drop(stream);
    let _ = tokio::time::timeout(
        Duration::from_millis(500),
        client.run(&Command::new("/system/identity/print")),
    )
    .await;
    Ok(ExitCode::SUCCESS)
}

/// `{"reply":"!re","attributes":{...}}`; `.tag` is the client's own and left out.
fn reply_json(r: &Reply) -> serde_json::Value {
    let mut attrs = serde_json::Map::new();
    for a in r.data() {
        attrs.insert(
            String::from_utf8_lossy(a.name).into_owned(),
            String::from_utf8_lossy(a.value).into_owned().into(),
        );
    }
    let mut obj = serde_json::Map::new();
    obj.insert(
        "reply".into(),
        String::from_utf8_lossy(r.sentence.first_word().unwrap_or_default())
            .into_owned()
            .into(),
    );
    obj.insert("attributes".into(), attrs.into());
    if let Some(m) = r.message().filter(|_| r.attribute("message").is_none()) {
        obj.insert("message".into(), m.into());
    }
    obj.into()
}

#[allow(clippy::too_many_arguments)]
async fn push_cmd(
    login: &Login,
    file: &std::path::Path,
    values: &std::path::Path,
    targets: &str,
    resume: Option<&str>,
    store: Option<&str>,
    opts: fleet_core::bulk::BulkOptions,
    import: bool,
    json: bool,
) -> anyhow::Result<ExitCode> {
    use fleet_core::bulk::PlanSource;
    let template = read_template(file)?;
    // A template that reads the router's or site's facts is rendered per
    // router; any other is rendered and compiled once, here, so a value
    // error stops the push before it touches a router.
    let per_router = template
        .parameters()
        .iter()
        .any(|(name, _)| name.starts_with("router.") || name.starts_with("site."));
    let source = if per_router {
        PlanSource::Template {
            template: std::sync::Arc::new(template),
            values: std::sync::Arc::new(read_values(values)?),
            import,
        }
    } else {
        let rendered = render_template(file, values)?;
        PlanSource::Plan(std::sync::Arc::new(plan_for(file, &rendered.text, import)?))
    };
    let specs = fleet_core::targets::parse(targets)?;
    let mut fleet = match store {
        Some(url) => Fleet::open(&url.parse::<StoreUrl>()?).await?,
        None => Fleet::open_default().await?,
    };
    fleet.poll_timeout = Duration::from_secs(login.timeout.max(1));
    let password = login
        .password_env
        .as_ref()
        .map(|_| login.password())
        .transpose()?;
    let targets = fleet
        .enroll(
            &specs,
            &login.user,
            password.as_ref(),
            Duration::from_secs(30),
        )
        .await?;
    let control = fleet_core::bulk::Control::default();
    let on_signal = control.clone();
    tokio::spawn(async move {
        shutdown().await;
        eprintln!("cancelling: routers in progress finish, no new one starts");
        on_signal.cancel();
    });
    #[cfg(unix)]
    {
        // SIGUSR1 pauses and resumes: routers in progress finish, no new
        // one starts while paused.
        use tokio::signal::unix::{signal, SignalKind};
        let on_usr1 = control.clone();
        if let Ok(mut usr1) = signal(SignalKind::user_defined1()) {
            tokio::spawn(async move {
                while usr1.recv().await.is_some() {
                    if on_usr1.is_paused() {
                        eprintln!("resuming");
                        on_usr1.resume();
                    } else {
                        eprintln!("pausing: routers in progress finish (SIGUSR1 again resumes)");
                        on_usr1.pause();
                    }
                }
            });
        }
    }
    let store = fleet.shared_store();
    for b in fleet_core::bulk::recover_interrupted(&store, Duration::from_secs(60)).await? {
        eprintln!("bulk push {} was cut short: {}", b.id, b.summary);
    }
    let print = move |r: &fleet_core::bulk::RouterResult| {
        if json {
            let mut v = serde_json::to_value(r).unwrap_or_default();
            if let Some(o) = v.as_object_mut() {
                o.remove("report");
            }
            println!("{v}");
        } else {
            println!(
                "wave {} {:<22} {:<12} {}",
                r.wave, r.address, r.status, r.message
            );
        }
    };
    let report = match resume {
        Some(batch) => {
            fleet_core::bulk::resume(store, batch, targets, source, opts, control, print).await?
        }
        None => fleet_core::bulk::push_all(store, targets, source, opts, control, print).await?,
    };
    let summary = format!(
        "bulk push {}: {} routers: {} succeeded, {} failed, {} not pushed{} in {:.1} s{}",
        report.batch_id,
        report.routers,
        report.succeeded,
        report.failed,
        report.skipped,
        if report.already_done > 0 {
            format!(", {} done in an earlier run", report.already_done)
        } else {
            String::new()
        },
        report.seconds,
        report
            .stopped
            .as_deref()
            .map(|s| format!("; {s}"))
            .unwrap_or_default()
    );
    if json {
        println!(
            "{}",
            serde_json::json!({"batch": report.batch_id, "routers": report.routers, "succeeded": report.succeeded, "failed": report.failed,
                "skipped": report.skipped, "alreadyDone": report.already_done, "seconds": report.seconds, "stopped": report.stopped})
        );
    }
    eprintln!("{summary}");
    Ok(if report.failed == 0 && report.skipped == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

async fn discover(
    listen: Option<std::net::SocketAddr>,
    duration: Duration,
    probe: Option<&str>,
    ports: &[u16],
    concurrency: usize,
    json: bool,
) -> anyhow::Result<ExitCode> {
    use fleet_core::discover;
    let mut opts = routeros::discovery::DiscoveryOptions::default();
    if let Some(addr) = listen {
        opts.bind = addr;
        if !addr.ip().is_unspecified() {
            opts.targets.clear();
        }
    }
    let hosts = probe.map(discover::subnet_hosts).transpose()?;
    let (found, hits) = tokio::join!(discover::listen(opts, duration), async {
        match &hosts {
            Some(h) => discover::probe(h, ports, concurrency, Duration::from_millis(800)).await,
            None => Vec::new(),
        }
    });
    let found = found?;
    if json {
        for f in &found {
            println!("{}", serde_json::json!({"mndp": f}));
        }
        for h in &hits {
            println!("{}", serde_json::json!({"probe": h}));
        }
    } else {
        for f in &found {
            let addr = f.address.map_or_else(|| "-".to_owned(), |a| a.to_string());
            println!(
                "{addr:<16} {:<24} {:<10} {:<18} {}",
                f.identity,
                f.version.as_deref().unwrap_or("?"),
                f.board.as_deref().unwrap_or("?"),
                f.macs.first().map(String::as_str).unwrap_or("")
            );
            if let Some(h) = &f.hint {
                println!("    {h}");
            }
        }
        for h in &hits {
            println!("{:<16} API port {} open", h.address, h.port);
            if let Some(hint) = &h.hint {
                println!("    {hint}");
            }
        }
        eprintln!(
            "{} routers by MNDP{}",
            found.len(),
            if hosts.is_some() {
                format!(", {} open API ports by probe", hits.len())
            } else {
                String::new()
            }
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn read_template(file: &std::path::Path) -> anyhow::Result<fleet_core::template::Template> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("cannot read the template {}", file.display()))?;
    fleet_core::template::Template::parse(&text).map_err(|errors| {
        for e in &errors {
            eprintln!("{}:{e}", file.display());
        }
        anyhow::anyhow!("{} error(s) in {}", errors.len(), file.display())
    })
}

/// Reads a template and its values and renders it; every error is printed
/// with the template's name, line and column.
fn render_template(
    file: &std::path::Path,
    values: &std::path::Path,
) -> anyhow::Result<fleet_core::template::Rendered> {
    let t = read_template(file)?;
    t.render(&read_values(values)?).map_err(|errors| {
        for e in &errors {
            eprintln!("{}:{e}", file.display());
        }
        anyhow::anyhow!("{} value error(s) for {}", errors.len(), file.display())
    })
}

/// The plan for a rendered template: compiled, or with `import` one
/// upload-and-/import step.
fn plan_for(
    file: &std::path::Path,
    rendered: &str,
    import: bool,
) -> anyhow::Result<fleet_core::plan::Plan> {
    if import {
        return Ok(fleet_core::plan::import_plan(rendered));
    }
    fleet_core::plan::compile(rendered).with_context(|| {
        format!(
            "{} cannot be pushed as a plan (--import sends it to the router's own /import instead)",
            file.display()
        )
    })
}

/// Values by placeholder name, from JSON or TOML; numbers and booleans are
/// taken as their text.
fn read_values(
    file: &std::path::Path,
) -> anyhow::Result<std::collections::BTreeMap<String, String>> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("cannot read the values {}", file.display()))?;
    let table: serde_json::Map<String, serde_json::Value> = if file
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("toml"))
    {
        let t: toml::Table = toml::from_str(&text)
            .with_context(|| format!("{} is not valid TOML", file.display()))?;
        serde_json::to_value(t)?
            .as_object()
            .cloned()
            .unwrap_or_default()
    } else {
        serde_json::from_str(&text)
            .with_context(|| format!("{} is not a JSON object", file.display()))?
    };
    table
        .into_iter()
        .map(|(k, v)| {
            let text = match v {
                serde_json::Value::String(s) => s,
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::Bool(b) => b.to_string(),
                other => {
                    anyhow::bail!("value {k:?} must be text, a number or true/false, not {other}")
                }
            };
            Ok((k, text))
        })
        .collect()
}

fn template(action: TemplateCmd) -> anyhow::Result<ExitCode> {
    match action {
        TemplateCmd::Check { file } => {
            let t = read_template(&file)?;
            for (name, ty) in t.parameters() {
                println!("{name}: {ty}");
            }
        }
        TemplateCmd::Render {
            file,
            values,
            preview,
        } => {
            let rendered = render_template(&file, &values)?;
            print!(
                "{}",
                if preview {
                    rendered.preview
                } else {
                    rendered.text
                }
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Ctrl-C or SIGTERM (a service manager, `timeout`): both stop gracefully.
async fn shutdown() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

struct PollMany {
    interval: Duration,
    once: bool,
    concurrency: usize,
    target_version: Option<String>,
    json: bool,
}

async fn poll_many(
    login: &Login,
    targets: &str,
    store: Option<&str>,
    opts: PollMany,
) -> anyhow::Result<ExitCode> {
    use fleet_core::telemetry::{Telemetry, TelemetryConfig};
    let specs = fleet_core::targets::parse(targets)?;
    let mut fleet = match store {
        Some(url) => Fleet::open(&url.parse::<StoreUrl>()?).await?,
        None => Fleet::open_default().await?,
    };
    fleet.poll_timeout = Duration::from_secs(login.timeout.max(1));
    let password = login
        .password_env
        .as_ref()
        .map(|_| login.password())
        .transpose()?;
    let targets = fleet
        .enroll(&specs, &login.user, password.as_ref(), opts.interval)
        .await?;
    let mut cfg = TelemetryConfig {
        connect_concurrency: opts.concurrency.max(1),
        ..Default::default()
    };
    cfg.alerts.target_version = opts.target_version;
    if opts.once {
        let report = Telemetry::sweep(fleet.shared_store(), targets, cfg).await;
        if opts.json {
            println!("{}", serde_json::to_string(&report)?);
        } else {
            let c = report.counters;
            println!(
                "polled {} routers in {:.2} s: {} ok, {} failed; {} check-ins stored ({} already there), {} events",
                report.routers, report.seconds, c.polls_ok, c.polls_failed, c.rows_written,
                c.rows_already_stored, c.events
            );
        }
        return Ok(if report.counters.polls_failed == 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(2)
        });
    }
    let routers = targets.len();
    let telemetry = Telemetry::start(fleet.shared_store(), targets, cfg);
    eprintln!(
        "polling {routers} routers every {} s into {}; Ctrl-C stops",
        opts.interval.as_secs(),
        fleet.store().location()
    );
    let mut every = tokio::time::interval(opts.interval.max(Duration::from_secs(1)));
    every.tick().await;
    loop {
        tokio::select! {
            _ = every.tick() => {
                let c = telemetry.counters();
                let health = telemetry.health();
                let offline = health.values().filter(|h| **h == fleet_core::telemetry::Health::Offline).count();
                if opts.json {
                    let mut v = serde_json::to_value(c)?;
                    v["offline"] = offline.into();
                    println!("{v}");
                } else {
                    println!(
                        "polls {} ok {} failed {}; check-ins stored {} pending {}; {} offline; {} events",
                        c.polls, c.polls_ok, c.polls_failed, c.rows_written, c.rows_pending, offline, c.events
                    );
                }
            }
            _ = shutdown() => break,
        }
    }
    // Stop polling and store every check-in still queued before exiting.
    let c = telemetry.stop().await;
    if opts.json {
        let mut v = serde_json::to_value(c)?;
        v["final"] = true.into();
        println!("{v}");
    }
    eprintln!(
        "stopped: {} polls, {} check-ins stored, {} pending",
        c.polls, c.rows_written, c.rows_pending
    );
    Ok(ExitCode::SUCCESS)
}

async fn watch(
    login: &Login,
    interface: &str,
    limit: Option<Duration>,
) -> anyhow::Result<ExitCode> {
    let client = connect(login).await?;
    let stream = fleet_core::live::monitor_traffic(&client, interface).await?;
    print_stream(&client, Box::pin(stream), limit, |s| {
        println!("{}", serde_json::to_string(&s)?);
        Ok(())
    })
    .await
}

async fn poll(login: &Login, store: Option<&str>) -> anyhow::Result<ExitCode> {
    let mut fleet = match store {
        Some(url) => Fleet::open(&url.parse::<StoreUrl>()?).await?,
        None => Fleet::open_default().await?,
    };
    fleet.poll_timeout = Duration::from_secs(login.timeout.max(1));
    let checkin = fleet
        .poll_address(
            login.host()?,
            login.api_port(),
            &login.user,
            &login.password()?,
            login.tls_mode()?,
        )
        .await?;
    println!("{}", serde_json::to_string(&checkin)?);
    eprintln!(
        "stored check-in of {} ({}:{}) in {}",
        checkin.identity,
        login.host()?,
        login.api_port(),
        fleet.store().location()
    );
    Ok(ExitCode::SUCCESS)
}
