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
            commands::provision::control_push,
            commands::provision::confirm_push,
            commands::templates::list_templates,
            commands::templates::save_template,
            commands::templates::test_render,
            commands::sync::sync_status,
            commands::sync::set_shared_store,
            commands::sync::sync_now,
        ])
}

/// Opens the fleet (the embedded store unless `FLEETDECK_STORE` names
/// another) and runs the window. A store that cannot be opened does not stop
/// the app: every command then reports why, in the window.
pub fn run() {
    #[cfg(target_os = "linux")]
    lean_linux_process();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let state = tauri::async_runtime::block_on(AppState::open_default());
    let app = builder(Builder::default())
        .manage(state)
        .setup(|app| {
            // Background polling starts with the window, not in the
            // command tests (which build the app without `run`).
            let handle = app.handle().clone();
            tauri::async_runtime::spawn(async move {
                if let Err(e) = start_background_polling(&handle).await {
                    tracing::warn!("background polling did not start: {e}");
                }
            });
            exit_on_sigterm(app.handle().clone());
            Ok(())
        })
        .build(tauri::generate_context!())
        .expect("error while starting Fleetdeck");
    app.run(|handle, event| {
        // Closing the window or SIGTERM: the check-ins polled so far are
        // stored before the process ends.
        if let tauri::RunEvent::Exit = event {
            if let Ok(fleet) = handle.state::<AppState>().fleet() {
                tauri::async_runtime::block_on(fleet.stop_polling());
            }
        }
    });
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
