//! `fleetdeck-cli`: Fleetdeck's operations from a terminal, for scripts,
//! benchmarks and technicians without the desktop app.

mod args;
mod configs;
mod poll;
mod provision;
mod ros;
mod store;
mod templates;
mod util;

use std::process::ExitCode;

use clap::Parser;

use args::{Cli, Cmd};

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
        } => ros::ros_cmd(&login, &proplist, &query, follow, duration, &words).await,
        Cmd::Poll {
            login,
            targets: None,
            store,
            ..
        } => poll::poll(&login, store.as_deref()).await,
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
            poll::poll_targets(
                &login,
                &targets,
                store.as_deref(),
                &interval,
                once,
                concurrency,
                target_version,
                json,
            )
            .await
        }
        Cmd::Template { action } => templates::template(action),
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
            provision::push_cmd(
                &login,
                &file,
                &values,
                &targets,
                resume.as_deref(),
                store.as_deref(),
                concurrency,
                &waves,
                stop_after,
                confirm_within,
                confirm_by_hand,
                dry_run,
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
        } => provision::pushes(store, batch, limit, json).await,
        Cmd::Confirm {
            login,
            scheduler,
            store,
        } => provision::confirm(&login, scheduler, store).await,
        Cmd::Preview {
            login,
            template: file,
            values,
            import,
            store,
            json,
        } => provision::preview(&login, file, values, import, store, json).await,
        Cmd::Plan { file, json } => provision::plan(file, json),
        Cmd::Discover {
            listen,
            duration,
            probe,
            ports,
            concurrency,
            json,
        } => {
            provision::discover(
                listen,
                &duration,
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
        } => poll::watch(&login, &interface, duration).await,
        Cmd::Store { action } => store::store(action).await,
        Cmd::Sync {
            shared: true,
            window,
            json,
            ..
        } => store::sync_shared(&window, json).await,
        Cmd::Sync {
            from,
            to,
            window,
            json,
            ..
        } => {
            store::sync(
                from.as_deref().unwrap_or_default(),
                to.as_deref().unwrap_or_default(),
                &window,
                json,
            )
            .await
        }
        Cmd::Settings { json } => store::settings(json),
        Cmd::Backup {
            devices,
            store,
            concurrency,
            deadline,
            due,
            json,
        } => configs::backup(devices, store.as_deref(), concurrency, &deadline, due, json).await,
        Cmd::Config { action } => configs::config(action).await,
        Cmd::Import {
            file,
            user,
            password_env,
            store,
        } => configs::import(&file, &user, password_env.as_deref(), store.as_deref()).await,
    }
}
