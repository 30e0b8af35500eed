//! Reading routers: `poll` (one router, or many until stopped) and `watch`
//! (live interface traffic).

use std::{process::ExitCode, time::Duration};

use fleet_core::{Fleet, StoreUrl};

use crate::{
    args::Login,
    ros::{connect, open_fleet, print_stream},
    util::{duration_arg, shutdown},
};

/// `poll --targets`: the flags as [`PollMany`], then [`poll_many`].
#[allow(clippy::too_many_arguments)]
pub(crate) async fn poll_targets(
    login: &Login,
    targets: &str,
    store: Option<&str>,
    interval: &str,
    once: bool,
    concurrency: usize,
    target_version: Option<String>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let opts = PollMany {
        interval: duration_arg("--interval", interval)?,
        once,
        concurrency,
        target_version,
        json,
    };
    poll_many(login, targets, store, opts).await
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
                        "polls {} ok {} failed {}; check-ins stored {} pending {} on disk {} refused {}; {} offline; {} events",
                        c.polls, c.polls_ok, c.polls_failed, c.rows_written, c.rows_pending, c.rows_spooled, c.rows_quarantined, offline, c.events
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
        "stopped: {} polls, {} check-ins stored, {} kept on disk until the database answers, {} refused by it (see quarantine.jsonl), {} not stored",
        c.polls, c.rows_written, c.rows_spooled, c.rows_quarantined, c.rows_pending
    );
    Ok(ExitCode::SUCCESS)
}

pub(crate) async fn watch(
    login: &Login,
    interface: &str,
    duration: Option<String>,
) -> anyhow::Result<ExitCode> {
    let limit = duration
        .map(|d| duration_arg("--duration", &d))
        .transpose()?;
    let client = match &login.device {
        Some(id) => open_fleet(None, login).await?.connect(id).await?,
        None => connect(login).await?,
    };
    let stream = fleet_core::live::monitor_traffic(&client, interface).await?;
    print_stream(&client, Box::pin(stream), limit, |s| {
        println!("{}", serde_json::to_string(&s)?);
        Ok(())
    })
    .await
}

pub(crate) async fn poll(login: &Login, store: Option<&str>) -> anyhow::Result<ExitCode> {
    let fleet = open_fleet(store, login).await?;
    if let Some(id) = &login.device {
        // The app's "Poll now": the inventory's transport, pin and password.
        let checkin = fleet.poll_device(id).await?;
        println!("{}", serde_json::to_string(&checkin)?);
        eprintln!(
            "stored check-in of {} ({id}) in {}",
            checkin.identity,
            fleet.store().location()
        );
        return Ok(ExitCode::SUCCESS);
    }
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
