//! Declares the app's commands so each must be granted by a capability in
//! tauri.conf.json: the window can call exactly what it lists.

/// Every `#[tauri::command]` of the app; keep in sync with `lib.rs`.
const COMMANDS: &[&str] = &[
    "store_info",
    "diagnostics",
    "list_devices",
    "add_device",
    "poll_device",
    "poll_devices",
    "latest_checkin",
    "credential_status",
    "confirm_router_address",
    "device_charts",
    "import_inventory",
    "list_sites",
    "list_interfaces",
    "start_monitor",
    "stop_monitor",
    "polling_status",
    "device_history",
    "fleet_overview",
    "overview_csv",
    "save_export",
    "demo_status",
    "start_demo",
    "stop_demo",
    "get_settings",
    "save_settings",
    "discover_routers",
    "check_template",
    "preview_push",
    "push_template",
    "interrupted_pushes",
    "resume_push",
    "control_push",
    "confirm_push",
    "list_templates",
    "save_template",
    "test_render",
    "sync_status",
    "set_shared_store",
    "sync_now",
    "backup_routers",
    "backup_status",
    "config_log",
    "config_show",
    "config_diff",
    "config_search",
    "restore_preview",
    "restore_router",
    "compliance_rules",
    "save_compliance_rule",
    "config_check",
];

fn main() {
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("tauri build script");
}
