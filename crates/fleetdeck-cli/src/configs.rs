//! `import`, `backup` and `config log|show|diff|search|restore`: the inventory and
//! configuration history use cases of `fleet_core`, printed.

use std::process::ExitCode;

use fleet_core::{
    configs::{BackupOptions, BackupOutcome},
    restore::{RestoreCheck, RestoreOptions},
};

mod rules;

use crate::{
    args::ConfigCmd,
    util::{duration_arg, open_fleet_at},
};

/// `import`: the inventory use case, with the password from the
/// environment.
pub(crate) async fn import(
    file: &std::path::Path,
    user: &str,
    password_env: Option<&str>,
    store: Option<&str>,
) -> anyhow::Result<ExitCode> {
    use anyhow::Context;
    let text = std::fs::read_to_string(file).with_context(|| format!("{}", file.display()))?;
    let password = password_env
        .map(|var| {
            std::env::var(var)
                .map(fleet_core::credentials::Sensitive::new)
                .with_context(|| format!("--password-env {var}: the variable is not set"))
        })
        .transpose()?;
    let fleet = open_fleet_at(store).await?;
    let r = fleet
        .import_inventory(&text, user, password.as_ref())
        .await?;
    println!(
        "{} rows: {} routers added, {} already known, {} sites added{}",
        r.rows,
        r.added,
        r.already_known,
        r.sites_added,
        if r.password_stored {
            "; password kept in the credential store"
        } else {
            ""
        }
    );
    Ok(ExitCode::SUCCESS)
}

pub(crate) async fn backup(
    devices: Vec<String>,
    store: Option<&str>,
    concurrency: usize,
    deadline: &str,
    due: bool,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let fleet = open_fleet_at(store).await?;
    // The settings the app keeps: the schedule, and whether exports are
    // also kept with their secrets, sealed.
    let settings = fleet_core::settings::SettingsFile::load_default()?.settings;
    let opts = BackupOptions {
        concurrency,
        deadline: duration_arg("--deadline", deadline)?,
        sensitive: settings.sensitive_backups,
    };
    let report = if due {
        match fleet.backup_due(&settings.backup_schedule, &opts).await? {
            Some(r) => r,
            None => {
                if !json {
                    println!("no router is due for a backup");
                }
                return Ok(ExitCode::SUCCESS);
            }
        }
    } else {
        fleet
            .backup((!devices.is_empty()).then_some(devices), &opts)
            .await?
    };
    if json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        for r in &report.routers {
            let what = match &r.outcome {
                BackupOutcome::Unchanged { .. } => "unchanged".to_owned(),
                BackupOutcome::Changed {
                    version_id,
                    push_id: Some(p),
                    ..
                } => format!("new version {version_id}, made by push {p}"),
                BackupOutcome::Changed {
                    version_id,
                    drift: true,
                    ..
                } => format!("new version {version_id}: CHANGED OUTSIDE FLEETDECK"),
                BackupOutcome::Changed { version_id, .. } => format!("new version {version_id}"),
                BackupOutcome::Failed { message } => format!("FAILED: {message}"),
            };
            println!("{:<24} {what}", r.name);
        }
        println!(
            "{} routers in {:.1} s: {} new versions ({} drift), {} unchanged, {} failed",
            report.routers.len(),
            report.seconds,
            report.new_versions,
            report.drift,
            report.unchanged,
            report.failed
        );
    }
    Ok(if report.failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

pub(crate) async fn config(action: ConfigCmd) -> anyhow::Result<ExitCode> {
    match action {
        ConfigCmd::Log {
            device,
            limit,
            store,
            json,
        } => {
            let fleet = open_fleet_at(store.as_deref()).await?;
            for v in fleet.config_log(&device, limit).await? {
                if json {
                    println!("{}", serde_json::to_string(&v)?);
                } else {
                    let why = match (&v.push_id, v.drift) {
                        (Some(p), _) => format!("push {p}"),
                        (None, true) => "changed outside Fleetdeck".into(),
                        (None, false) => String::new(),
                    };
                    println!(
                        "{} {} {:>5} lines  RouterOS {}  {why}",
                        v.id,
                        fleet_core::chart::iso_hour(v.taken_at),
                        v.line_count,
                        v.routeros_version.as_deref().unwrap_or("?"),
                    );
                }
            }
        }
        ConfigCmd::Show {
            device,
            version,
            sensitive,
            store,
            json,
        } => {
            let fleet = open_fleet_at(store.as_deref()).await?;
            if sensitive {
                let Some(text) = fleet.config_sealed(&device, version.as_deref()).await? else {
                    anyhow::bail!("this version has no sealed export this machine can open: turn sealed exports on in the settings, and back the router up");
                };
                print!("{}", text.expose());
                return Ok(ExitCode::SUCCESS);
            }
            let (v, text) = fleet.config_show(&device, version.as_deref()).await?;
            if json {
                println!("{}", serde_json::json!({ "version": v, "text": text }));
            } else {
                print!("{text}");
            }
        }
        ConfigCmd::Search {
            text,
            limit,
            store,
            json,
        } => {
            let fleet = open_fleet_at(store.as_deref()).await?;
            let hits = fleet.config_search(&text, limit).await?;
            for h in &hits {
                if json {
                    println!("{}", serde_json::to_string(h)?);
                } else {
                    println!("{}:{}: {}", h.name, h.hit.line_no, h.hit.line);
                }
            }
            if hits.is_empty() {
                eprintln!("no router's configuration holds {text:?}");
                return Ok(ExitCode::FAILURE);
            }
        }
        ConfigCmd::Restore {
            device,
            version,
            yes,
            confirm_within,
            manual_confirm,
            store,
            json,
        } => {
            let fleet = open_fleet_at(store.as_deref()).await?;
            if !yes {
                let p = fleet.restore_preview(&device, &version).await?;
                if json {
                    println!("{}", serde_json::to_string(&p)?);
                } else if p.diff.is_empty() {
                    println!("the router already holds version {}", p.version.id);
                } else {
                    print!("{}", p.diff);
                    println!(
                        "{} steps, {} of them removals; run again with --yes to restore",
                        p.plan.steps.len(),
                        p.removals
                    );
                }
                return Ok(ExitCode::SUCCESS);
            }
            let opts = RestoreOptions {
                confirm_within: std::time::Duration::from_secs(confirm_within.clamp(1, 1440) * 60),
                manual_confirm,
            };
            let r = fleet.restore(&device, &version, &opts, |_| {}).await?;
            if json {
                println!("{}", serde_json::to_string(&r)?);
            } else {
                println!("{}", r.message);
                if let RestoreCheck::Differs { diff } = &r.check {
                    print!("{diff}");
                }
            }
            let ok = matches!(
                r.check,
                RestoreCheck::Equal | RestoreCheck::OrderOnly { .. }
            );
            return Ok(if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            });
        }
        ConfigCmd::Check {
            devices,
            store,
            json,
        } => {
            let fleet = open_fleet_at(store.as_deref()).await?;
            let report = fleet
                .config_check((!devices.is_empty()).then_some(devices))
                .await?;
            if json {
                println!("{}", serde_json::to_string(&report)?);
            } else {
                print_check(&report);
            }
            return Ok(if report.problems() > 0 {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            });
        }
        ConfigCmd::Rule { action } => return rules::rule(action).await,
        ConfigCmd::Diff {
            device,
            from,
            to,
            store,
            json,
        } => {
            let fleet = open_fleet_at(store.as_deref()).await?;
            let d = fleet.config_diff(&device, &from, to.as_deref()).await?;
            if json {
                println!("{}", serde_json::to_string(&d)?);
            } else if d.diff.is_empty() {
                println!("no difference between {} and {}", d.from, d.to);
            } else {
                print!("{}", d.diff);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_check(report: &fleet_core::compliance::ComplianceReport) {
    for r in &report.routers {
        if r.version_id.is_none() && !r.outcomes.is_empty() {
            continue;
        }
        for o in r.outcomes.iter().filter(|o| !o.passed) {
            println!("{:<24} FAILS {:?}: {}", r.name, o.rule, o.detail);
        }
    }
    for rule in &report.rules {
        println!(
            "{:<32} {} passed, {} failed, {} without a backup to check",
            rule.name, rule.passed, rule.failed, rule.unchecked
        );
    }
    if report.rules.is_empty() {
        println!("no compliance rules are on: add one with `config rule add`");
    }
}
