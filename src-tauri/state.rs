use std::{
    collections::HashMap,
    sync::{atomic::AtomicU64, Arc},
};

use fleet_core::Fleet;

use crate::CommandError;

/// What every command reaches: the fleet, or why it could not be opened.
pub struct AppState {
    fleet: Result<Arc<Fleet>, CommandError>,
    /// The demo fleet, while it runs.
    pub demo: tokio::sync::Mutex<Option<fleet_core::demo::Demo>>,
    /// The running push's pause/resume/cancel handle.
    pub push: tokio::sync::Mutex<Option<fleet_core::bulk::Control>>,
    /// Live traffic monitors by id: the task and its channel.
    pub monitors: tokio::sync::Mutex<HashMap<u64, Monitor>>,
    pub next_monitor: AtomicU64,
}

pub type Monitor = (
    tauri::async_runtime::JoinHandle<()>,
    tauri::ipc::Channel<crate::commands::devices::MonitorEvent>,
);

impl AppState {
    pub fn new(fleet: Fleet) -> Self {
        Self {
            fleet: Ok(Arc::new(fleet)),
            demo: Default::default(),
            push: Default::default(),
            monitors: Default::default(),
            next_monitor: AtomicU64::new(1),
        }
    }

    pub async fn open_default() -> Self {
        match Fleet::open_default().await {
            Ok(f) => Self::new(f),
            Err(e) => {
                tracing::error!("could not open the fleet store: {e}");
                Self {
                    fleet: Err(CommandError::from(e)),
                    demo: Default::default(),
                    push: Default::default(),
                    monitors: Default::default(),
                    next_monitor: AtomicU64::new(1),
                }
            }
        }
    }

    pub fn fleet(&self) -> Result<Arc<Fleet>, CommandError> {
        self.fleet.clone()
    }
}
