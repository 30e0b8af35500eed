//! Changing routers and finding them: `push`, `preview`, `confirm`,
//! `pushes`, `plan` and `discover`.

use std::{process::ExitCode, time::Duration};

use anyhow::Context;
use fleet_core::{
    provision::{PushAction, PushEvent},
    Fleet, StoreUrl,
};

use crate::{
    args::Login,
    ros::{open_fleet, session},
    templates::{read_template, read_values},
    util::{duration_arg, shutdown},
};

#[allow(clippy::too_many_arguments)]
pub(crate) async fn push_cmd(
    login: &Login,
    file: &std::path::Path,
    values: &std::path::Path,
    targets: &str,
    resume: Option<&str>,
    store: Option<&str>,
    concurrency: usize,
    waves: &str,
    stop_after: usize,
    confirm_within: u64,
    confirm_by_hand: bool,
    dry_run: bool,
    import: bool,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let template = std::fs::read_to_string(file)
        .with_context(|| format!("cannot read the template {}", file.display()))?;
    // Errors with the template's name, line and column before anything else.
    read_template(file)?;
    let spec = fleet_core::provision::PushSpec {
        template,
        values: read_values(values)?,
        import,
        waves: waves.to_owned(),
        concurrency,
        stop_after,
        confirm_within_minutes: confirm_within,
        manual_confirm: confirm_by_hand,
        dry_run,
    };
    let specs = fleet_core::targets::parse(targets)?;
    let mut fleet = match store {
        Some(url) => Fleet::open(&url.parse::<StoreUrl>()?).await?,
        None => Fleet::open_default().await?,
    };
    fleet.poll_timeout = Duration::from_secs(login.timeout.max(1));
    let fleet = std::sync::Arc::new(fleet);
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
    control_by_signals(fleet.clone());
    let on_event = move |e: PushEvent| {
        let PushEvent::Router { result: r } = e else {
            return;
        };
        if json {
            let mut v = serde_json::to_value(&r).unwrap_or_default();
            if let Some(o) = v.as_object_mut() {
                // The steps stay in the store; the line keeps what a script
                // acts on: the push and the safety net left to confirm.
                if let Some(report) = o.remove("report") {
                    o.insert("pushId".into(), report["pushId"].clone());
                    o.insert("safetyNet".into(), report["safetyNet"].clone());
                }
            }
            println!("{v}");
        } else {
            println!(
                "wave {} {:<22} {:<12} {}",
                r.wave, r.address, r.status, r.message
            );
        }
    };
    let report = fleet.push_to(targets, &spec, resume, on_event).await?;
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

/// Ctrl-C cancels the running push and SIGUSR1 pauses or resumes it
/// (`Fleet::control_push`): routers in progress finish either way.
fn control_by_signals(fleet: std::sync::Arc<Fleet>) {
    let on_signal = fleet.clone();
    tokio::spawn(async move {
        shutdown().await;
        eprintln!("cancelling: routers in progress finish, no new one starts");
        if let Some((job, _)) = on_signal.running_push() {
            on_signal.control_push(&job, PushAction::Cancel);
        }
    });
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut usr1) = signal(SignalKind::user_defined1()) {
            tokio::spawn(async move {
                while usr1.recv().await.is_some() {
                    let Some((job, paused)) = fleet.running_push() else {
                        continue;
                    };
                    if paused {
                        eprintln!("resuming");
                        fleet.control_push(&job, PushAction::Resume);
                    } else {
                        eprintln!("pausing: routers in progress finish (SIGUSR1 again resumes)");
                        fleet.control_push(&job, PushAction::Pause);
                    }
                }
            });
        }
    }
}

/// Bulk pushes in the store, newest first, or one batch's routers; marks
/// batches whose heartbeat stopped as interrupted first.
pub(crate) async fn pushes(
    store: Option<String>,
    batch: Option<String>,
    limit: u32,
    json: bool,
) -> anyhow::Result<ExitCode> {
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

/// Lists a router's unconfirmed pushes, or confirms one by its safety
/// scheduler's name.
pub(crate) async fn confirm(
    login: &Login,
    scheduler: Option<String>,
    store: Option<String>,
) -> anyhow::Result<ExitCode> {
    let fleet = open_fleet(store.as_deref(), login).await?;
    let (client, device) = session(login, &fleet).await?;
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
            let confirmed = fleet_core::push::confirm(
                fleet.store(),
                &client,
                device.as_deref(),
                &name,
                &fleet_core::push::technician(),
                Some(fleet.credentials()),
            )
            .await?;
            match confirmed {
                fleet_core::push::Confirmation::Confirmed => {
                    eprintln!("confirmed: {name} removed, the router keeps its configuration");
                    Ok(ExitCode::SUCCESS)
                }
                fleet_core::push::Confirmation::RestoredByRouter { message }
                | fleet_core::push::Confirmation::NotFound { message }
                | fleet_core::push::Confirmation::NotConfirmed { message } => {
                    eprintln!("{message}");
                    Ok(ExitCode::from(2))
                }
            }
        }
    }
}

/// What a push of a template would do to one router; writes nothing to it.
pub(crate) async fn preview(
    login: &Login,
    file: std::path::PathBuf,
    values: std::path::PathBuf,
    import: bool,
    store: Option<String>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let template = read_template(&file)?;
    let values = read_values(&values)?;
    let fleet = open_fleet(store.as_deref(), login).await?;
    let (client, device) = session(login, &fleet).await?;
    let previewed = fleet_core::preview::template_on_router(
        fleet.store(),
        &client,
        device.as_deref(),
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
            if let Some(item) = &s.item {
                println!("           {item}");
            }
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

/// Compiles a script into the plan a push would run.
pub(crate) fn plan(file: std::path::PathBuf, json: bool) -> anyhow::Result<ExitCode> {
    let bytes = std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
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

pub(crate) async fn discover(
    listen: Option<std::net::SocketAddr>,
    duration: &str,
    probe: Option<&str>,
    ports: &[u16],
    concurrency: usize,
    json: bool,
) -> anyhow::Result<ExitCode> {
    use fleet_core::discover;
    let duration = duration_arg("--duration", duration)?;
    let mut opts = routeros::discovery::DiscoveryOptions::default();
    if let Some(addr) = listen {
        opts.bind = addr;
        if !addr.ip().is_unspecified() {
            opts.targets.clear();
        }
    }
    let discover::Discovered {
        found,
        probed: hits,
    } = discover::discover(opts, duration, probe, ports, concurrency).await?;
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
            if probe.is_some() {
                format!(", {} open API ports by probe", hits.len())
            } else {
                String::new()
            }
        );
    }
    Ok(ExitCode::SUCCESS)
}
