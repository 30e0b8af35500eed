//! The fleet store commands: `store` (migrate, stats, ddl, generate,
//! dashboard) and `sync`, and opening a store by URL.

use std::process::ExitCode;

use anyhow::Context;
use fleet_core::StoreUrl;

use crate::{args::StoreCmd, util::duration_arg};

pub(crate) async fn open_store(url: Option<&str>) -> anyhow::Result<fleet_store::FleetStore> {
    let url = match url {
        Some(u) => u.parse::<StoreUrl>()?,
        None => fleet_store::default_store_url()?,
    };
    Ok(fleet_store::FleetStore::open(&url).await?)
}

pub(crate) async fn sync(
    from: &str,
    to: &str,
    window: &str,
    json: bool,
) -> anyhow::Result<ExitCode> {
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
    print_sync(&report, &from, json).await
}

/// `sync --shared`: the app's "Sync now" (`Fleet::sync_with_shared`) on
/// the shared database the settings name.
pub(crate) async fn sync_shared(window: &str, json: bool) -> anyhow::Result<ExitCode> {
    let window = duration_arg("--window", window)?;
    let url = fleet_core::settings::SettingsFile::load_default()?
        .shared_url
        .context("no shared database is set: set it in the app's Data and sync first")?;
    let fleet = fleet_core::Fleet::open_default().await?;
    let report = fleet
        .sync_with_shared(&url, window)
        .await
        .context("the sync stopped; what was not delivered stays queued, run sync again")?;
    print_sync(&report, fleet.store(), json).await
}

async fn print_sync(
    report: &fleet_store::sync::SyncReport,
    from: &fleet_store::FleetStore,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let (queued, queued_records) = from.outbox_size().await?;
    if json {
        let mut v = serde_json::to_value(report)?;
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

pub(crate) async fn store(action: StoreCmd) -> anyhow::Result<ExitCode> {
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

/// `settings`: the file the app keeps in the data folder.
pub(crate) fn settings(json: bool) -> anyhow::Result<ExitCode> {
    let path = fleet_core::settings::path()?;
    let file = fleet_core::settings::SettingsFile::load(&path)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&file)?);
    } else {
        let s = &file.settings;
        println!("settings file      {}", path.display());
        println!("theme              {:?}", s.theme);
        println!(
            "background polling {} every {} s",
            if s.background_polling { "on" } else { "off" },
            s.poll_interval_secs
        );
        println!("pushed at once     {}", s.push_concurrency);
        println!("codepage           {}", s.codepage);
        println!(
            "shared database    {}",
            file.shared_url.as_deref().unwrap_or("(none)")
        );
    }
    Ok(ExitCode::SUCCESS)
}
