//! The app's commands through Tauri's real IPC layer (mock runtime, no
//! display), with the app's real capabilities from tauri.conf.json.

use fleet_core::Fleet;
use fleetdeck_app::{builder, AppState};
use serde_json::Value;
use tauri::{
    ipc::{CallbackFn, InvokeBody},
    test::{get_ipc_response, mock_builder, MockRuntime, INVOKE_KEY},
    webview::InvokeRequest,
    WebviewWindow, WebviewWindowBuilder,
};

/// The app's window over `fleet`, as `run` builds it (without the
/// background polling the window starts).
pub fn window(fleet: Fleet) -> WebviewWindow<MockRuntime> {
    let app = builder(mock_builder())
        .manage(AppState::new(fleet))
        .build(tauri::generate_context!())
        .unwrap();
    WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .unwrap()
}

/// Calls `cmd` with `args` as the UI does; the error is the UI's
/// `{kind, message}`.
pub fn invoke(window: &WebviewWindow<MockRuntime>, cmd: &str, args: Value) -> Result<Value, Value> {
    get_ipc_response(
        window,
        InvokeRequest {
            cmd: cmd.into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            url: "tauri://localhost".parse().unwrap(),
            body: InvokeBody::Json(args),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        },
    )
    .map(|b| b.deserialize::<Value>().unwrap())
}
