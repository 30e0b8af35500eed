//! Fleetdeck's desktop shell: managed state and one command module per
//! domain, each command a few lines over `fleet-core`.

mod commands;
mod error;
mod state;

pub use commands::polling::start as start_background_polling;
pub use error::CommandError;
pub use state::AppState;
use tauri::{Builder, Runtime};

/// Registers plugins and commands; shared by [`run`] and the command tests.
pub fn builder<R: Runtime>(b: Builder<R>) -> Builder<R> {
    b.plugin(tauri_plugin_store::Builder::new().build())
        .invoke_handler(tauri::generate_handler![
            commands::store::store_info,
            commands::devices::list_devices,
            commands::devices::add_device,
            commands::devices::poll_device,
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
    // WebKitGTK's accelerated compositing costs about 100 MiB in the web
    // process and, without a GPU, draws through Mesa's software renderer;
    // this app has no animation that needs it (measured in
    // docs/benchmarks.md: 10,000-router list filters in a third of the
    // time). Set the variable yourself to choose otherwise. Set before any
    // thread starts.
    #[cfg(target_os = "linux")]
    if std::env::var_os("WEBKIT_DISABLE_COMPOSITING_MODE").is_none() {
        std::env::set_var("WEBKIT_DISABLE_COMPOSITING_MODE", "1");
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let state = tauri::async_runtime::block_on(AppState::open_default());
    builder(Builder::default())
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
            Ok(())
        })
        .run(tauri::generate_context!())
        .expect("error while running Fleetdeck");
}
