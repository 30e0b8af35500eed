//! Fleetdeck's desktop shell: managed state and one command module per
//! domain, each command a few lines over `fleet-core`.

pub mod bindings;
mod commands;
mod error;
mod state;

pub use commands::polling::start as start_background_polling;
pub use error::CommandError;
pub use state::AppState;
use tauri::{Builder, Manager, Runtime};

/// Registers plugins and commands; shared by [`run`] and the command tests.
pub fn builder<R: Runtime>(b: Builder<R>) -> Builder<R> {
    b.plugin(tauri_plugin_store::Builder::new().build())
        .invoke_handler(tauri::generate_handler![
            commands::store::store_info,
            commands::store::diagnostics,
            commands::devices::list_devices,
            commands::devices::add_device,
            commands::devices::poll_device,
            commands::devices::poll_devices,
            commands::devices::latest_checkin,
            commands::devices::credential_status,
            commands::devices::confirm_router_address,
            commands::devices::device_charts,
            commands::devices::import_inventory,
            commands::devices::list_sites,
            commands::devices::list_interfaces,
            commands::devices::start_monitor,
            commands::devices::stop_monitor,
            commands::polling::polling_status,
            commands::devices::device_history,
            commands::dashboard::fleet_overview,
            commands::dashboard::overview_csv,
            commands::dashboard::save_export,
            commands::demo::demo_status,
            commands::demo::start_demo,
            commands::demo::stop_demo,
            commands::settings::get_settings,
            commands::settings::save_settings,
            commands::provision::discover_routers,
            commands::provision::check_template,
            commands::provision::preview_push,
            commands::provision::push_template,
            commands::provision::interrupted_pushes,
            commands::provision::resume_push,
            commands::provision::control_push,
            commands::provision::confirm_push,
            commands::templates::list_templates,
            commands::templates::save_template,
            commands::templates::test_render,
            commands::sync::sync_status,
            commands::sync::set_shared_store,
            commands::sync::sync_now,
            commands::configs::backup_routers,
            commands::configs::backup_status,
            commands::configs::config_log,
            commands::configs::config_show,
            commands::configs::config_diff,
            commands::configs::config_search,
            commands::configs::restore_preview,
            commands::configs::restore_router,
            commands::configs::compliance_rules,
            commands::configs::save_compliance_rule,
            commands::configs::config_check,
        ])
}

/// Opens the fleet (the embedded store unless `FLEETDECK_STORE` names
/// another) and runs the window. A store that cannot be opened does not stop
/// the app: every command then reports why, in the window.
///
/// One Fleetdeck per data folder: a second launch brings the first's window
/// forward and ends (two would poll every router twice and take turns on
/// the embedded store's writer).
pub fn run() {
    #[cfg(target_os = "linux")]
    lean_linux_process();
    let data_dir = fleet_core::fleet_store::default_data_dir().ok();
    let log_guard = std::sync::Mutex::new(init_logging(data_dir.as_deref()));
    let mut single = tauri_plugin_single_instance::Builder::new().callback(|app, _argv, _cwd| {
        tracing::info!("Fleetdeck was launched again: bringing this window forward");
        if let Some(window) = app.get_webview_window("main") {
            let _ = window.unminimize();
            let _ = window.show();
            let _ = window.set_focus();
        }
    });
    if let Some(dir) = &data_dir {
        single = single.dbus_id(instance_name(dir));
    }
    let app = builder(Builder::default().plugin(single.build()))
        .setup(move |app| {
            // Where the desktop has no session bus the plugin cannot see the
            // first instance; the data folder's lock still can.
            if let Some(dir) = &data_dir {
                match instance_lock(dir) {
                    Ok(lock) => {
                        app.manage(InstanceLock(lock));
                    }
                    Err(why) => {
                        tracing::error!("{why}");
                        eprintln!("{why}");
                        std::process::exit(0);
                    }
                }
            }
            app.manage(tauri::async_runtime::block_on(AppState::open_default()));
            tracing::info!(
                data = %data_dir.as_deref().map(|d| d.display().to_string()).unwrap_or_default(),
                "Fleetdeck started"
            );
            // Background polling starts with the window, not in the
            // command tests (which build the app without `run`).
            let handle = app.handle().clone();
            tauri::async_runtime::spawn(async move {
                if let Err(e) = start_background_polling(&handle).await {
                    tracing::warn!("background polling did not start: {e}");
                }
            });
            tauri::async_runtime::spawn(commands::configs::run_backup_schedule(
                app.handle().clone(),
            ));
            exit_on_sigterm(app.handle().clone());
            Ok(())
        })
        .build(tauri::generate_context!())
        .expect("error while starting Fleetdeck");
    app.run(move |handle, event| {
        // Closing the window or SIGTERM: the check-ins polled so far are
        // stored before the process ends, then the log is flushed.
        if let tauri::RunEvent::Exit = event {
            if let Some(state) = handle.try_state::<AppState>() {
                if let Ok(fleet) = state.fleet() {
                    tauri::async_runtime::block_on(fleet.stop_polling());
                }
            }
            tracing::info!("Fleetdeck closed");
            if let Ok(mut guard) = log_guard.lock() {
                guard.take();
            }
        }
    });
}

/// The session-bus name of the instance on `data_dir`: one Fleetdeck per
/// data folder, so two on different folders (a second technician's
/// account, a test run) do not take each other for the same.
fn instance_name(data_dir: &std::path::Path) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    // Made first, so the first launch names it as every later one does.
    let _ = std::fs::create_dir_all(data_dir);
    std::fs::canonicalize(data_dir)
        .unwrap_or_else(|_| data_dir.to_owned())
        .hash(&mut h);
    format!("net.fleetdeck.desktop.f{:016x}", h.finish())
}

/// Held for the life of the process: the OS lets go of it when the
/// process ends, however it ends.
struct InstanceLock(#[allow(dead_code)] std::fs::File);

/// Locks `fleetdeck.lock` in the data folder, or says who holds it.
fn instance_lock(data_dir: &std::path::Path) -> Result<std::fs::File, String> {
    let path = data_dir.join("fleetdeck.lock");
    let file = std::fs::create_dir_all(data_dir)
        .and_then(|_| {
            std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&path)
        })
        .map_err(|e| {
            format!(
                "Fleetdeck cannot start: {} cannot be opened ({e})",
                path.display()
            )
        })?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(format!(
            "Fleetdeck is already running with the data folder {}: use its window",
            data_dir.display()
        )),
        Err(std::fs::TryLockError::Error(e)) => Err(format!(
            "Fleetdeck cannot start: {} cannot be locked ({e})",
            path.display()
        )),
    }
}

/// Logs to the terminal and to a daily file in the data folder's `logs`
/// (seven days kept), which "Copy diagnostics" reads. Nothing is dropped
/// when the file is slow (a lossless queue); the guard flushes it at exit.
fn init_logging(
    data_dir: Option<&std::path::Path>,
) -> Option<tracing_appender::non_blocking::WorkerGuard> {
    use fleet_core::diagnostics::{log_dir, LOG_FILES_KEPT, LOG_PREFIX, LOG_SUFFIX};
    use tracing_subscriber::{fmt, layer::SubscriberExt, util::SubscriberInitExt, EnvFilter};
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let file = data_dir.map(|d| {
        tracing_appender::rolling::Builder::new()
            .rotation(tracing_appender::rolling::Rotation::DAILY)
            .filename_prefix(LOG_PREFIX)
            .filename_suffix(LOG_SUFFIX)
            .max_log_files(LOG_FILES_KEPT)
            .build(log_dir(d))
    });
    let registry = tracing_subscriber::registry()
        .with(filter)
        .with(fmt::layer());
    match file {
        Some(Ok(appender)) => {
            let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
                .lossy(false)
                .finish(appender);
            registry
                .with(fmt::layer().with_ansi(false).with_writer(writer))
                .init();
            Some(guard)
        }
        Some(Err(e)) => {
            registry.init();
            tracing::warn!("the log file cannot be written ({e}): logging to the terminal only");
            None
        }
        None => {
            registry.init();
            None
        }
    }
}

/// SIGTERM (a logout, `systemctl`, `kill`) closes the app as its window's
/// close button does, so the exit hook runs; without this the process
/// would end at once.
fn exit_on_sigterm(handle: tauri::AppHandle) {
    #[cfg(unix)]
    tauri::async_runtime::spawn(async move {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                term.recv().await;
                tracing::info!("SIGTERM: closing");
                handle.exit(0);
            }
            Err(e) => tracing::warn!("SIGTERM is not handled: {e}"),
        }
    });
    #[cfg(not(unix))]
    let _ = handle;
}

/// Settings that keep the window's processes small on Linux, measured in
/// docs/benchmarks.md (10,000-router store: app process RSS 204 → ~125 MiB).
/// Each one is applied only when the user has not chosen it; called first
/// thing in [`run`], before any thread starts.
#[cfg(target_os = "linux")]
fn lean_linux_process() {
    fn set_default(name: &str, value: &str) {
        if std::env::var_os(name).is_none() {
            std::env::set_var(name, value);
        }
    }
    // WebKitGTK's accelerated compositing costs about 100 MiB in the web
    // process and, without a GPU, draws through Mesa's software renderer;
    // this app has no animation that needs it (the 10,000-router list
    // filters in half the time without it). Set the variable yourself to
    // choose otherwise, and the rest of this block is left alone too.
    if std::env::var_os("WEBKIT_DISABLE_COMPOSITING_MODE").is_none() {
        std::env::set_var("WEBKIT_DISABLE_COMPOSITING_MODE", "1");
        // With compositing off nothing in this process draws with GL, yet
        // GTK (GLX visuals), WebKit's DMA-BUF check and its search for the
        // GPU's render node (EGL) each load Mesa just to ask: that maps the
        // whole GL driver and libLLVM (~48 MiB resident). Naming the render
        // node skips the EGL query; when there is none, WebKit would have
        // found none either.
        set_default("GDK_GL", "disable");
        set_default("WEBKIT_DISABLE_DMABUF_RENDERER", "1");
        let render_node = std::fs::read_dir("/dev/dri")
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("renderD"))
            })
            .min()
            .unwrap_or_else(|| "/dev/dri/renderD128".into());
        set_default(
            "WEBKIT_WEB_RENDER_DEVICE_FILE",
            &render_node.display().to_string(),
        );
    }
    limit_malloc_arenas();
}

/// glibc gives each thread that allocates concurrently its own arena (up to
/// 8 per core), and freed memory stays in them: ~25 MiB resident for this
/// app's runtime, GTK and WebKit threads at idle. Two arenas serve a
/// desktop app's few busy threads. `MALLOC_ARENA_MAX` in the environment
/// still wins.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn limit_malloc_arenas() {
    if std::env::var_os("MALLOC_ARENA_MAX").is_some() {
        return;
    }
    // SAFETY: mallopt only changes an allocator parameter; glibc takes its
    // own lock, and it is called before this process starts any thread.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

#[cfg(all(target_os = "linux", not(target_env = "gnu")))]
fn limit_malloc_arenas() {}
