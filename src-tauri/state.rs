use std::sync::Arc;

use fleet_core::Fleet;

use crate::CommandError;

/// What every command reaches: the fleet, or why it could not be opened.
pub struct AppState {
    fleet: Result<Arc<Fleet>, CommandError>,
    /// The demo fleet, while it runs.
    pub demo: tokio::sync::Mutex<Option<fleet_core::demo::Demo>>,
}

impl AppState {
    pub fn new(fleet: Fleet) -> Self {
        Self {
            fleet: Ok(Arc::new(fleet)),
            demo: Default::default(),
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
                }
            }
        }
    }

    pub fn fleet(&self) -> Result<Arc<Fleet>, CommandError> {
        self.fleet.clone()
    }
}
