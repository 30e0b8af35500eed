//! Driving the app's real window through `tauri-driver` (WebDriver):
//! shared by the end-to-end tests and the app benchmark.
#![allow(dead_code)]

use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use fantoccini::{Client, ClientBuilder};
use serde_json::json;

pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"))
}

pub fn tauri_driver() -> PathBuf {
    if let Some(p) = std::env::var_os("TAURI_DRIVER") {
        return p.into();
    }
    let local = target_dir().join("tools/bin/tauri-driver");
    assert!(
        local.exists(),
        "tauri-driver not found at {}: run scripts/test.sh, or cargo install tauri-driver --locked --root target/tools",
        local.display()
    );
    local
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Stops tauri-driver with SIGTERM (it then stops WebKitWebDriver and the
/// app; SIGKILL would orphan them), even when the test panics.
pub struct Driver(pub Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.0.kill();
    }
}

pub async fn connect(port: u16, app: &str) -> Client {
    let caps = json!({
        "tauri:options": { "application": app },
        "browserName": "wry",
    });
    let serde_json::Value::Object(caps) = caps else {
        unreachable!()
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let conn = hyper_util::client::legacy::connect::HttpConnector::new();
        match ClientBuilder::new(conn)
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(c) => return c,
            Err(e) if Instant::now() < deadline => {
                tracing_free_log(&format!("waiting for tauri-driver: {e}"));
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            Err(e) => panic!("could not start a WebDriver session through tauri-driver: {e}"),
        }
    }
}

pub fn tracing_free_log(msg: &str) {
    eprintln!("[e2e] {msg}");
}

/// Starts tauri-driver, and through it the app at `app`, with its data,
/// XDG folders and home under `run_dir`, and opens a WebDriver session.
pub async fn launch(run_dir: &Path, app: &str) -> (Driver, Client) {
    std::fs::create_dir_all(run_dir).unwrap();
    let (port, native_port) = (free_port(), free_port());
    let driver = Command::new(tauri_driver())
        .args([
            "--port",
            &port.to_string(),
            "--native-port",
            &native_port.to_string(),
        ])
        .env("FLEETDECK_DATA_DIR", run_dir.join("data"))
        .env("FLEETDECK_CREDENTIALS", "file")
        .env_remove("FLEETDECK_STORE")
        .env("XDG_DATA_HOME", run_dir.join("xdg-data"))
        .env("XDG_CACHE_HOME", run_dir.join("xdg-cache"))
        .env("XDG_CONFIG_HOME", run_dir.join("xdg-config"))
        .env("XDG_DOWNLOAD_DIR", run_dir.join("downloads"))
        .env("HOME", run_dir.join("home"))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(run_dir.join("tauri-driver.log")).unwrap())
        .spawn()
        .expect("start tauri-driver");
    let driver = Driver(driver);
    let c = connect(port, app).await;
    (driver, c)
}
