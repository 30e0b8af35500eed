use fleet_core::{ErrorKind, FleetError};
use serde::Serialize;

/// An error as the UI receives it: `{ "kind": "auth", "message": "…" }`.
/// The message is written for a technician and shown verbatim.
#[derive(Debug, Clone, Serialize, thiserror::Error, ts_rs::TS)]
#[error("{message}")]
pub struct CommandError {
    pub kind: ErrorKind,
    pub message: String,
}

impl From<FleetError> for CommandError {
    fn from(e: FleetError) -> Self {
        Self {
            kind: e.kind(),
            message: e.as_sentence(),
        }
    }
}

impl From<fleet_core::fleet_store::StoreError> for CommandError {
    fn from(e: fleet_core::fleet_store::StoreError) -> Self {
        FleetError::from(e).into()
    }
}

impl CommandError {
    /// A request the app refuses, with the reason.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::InvalidInput,
            message: fleet_core::sentence(&message.into()),
        }
    }
}
