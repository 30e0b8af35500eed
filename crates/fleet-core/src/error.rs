use fleet_store::StoreError;
use serde::Serialize;

use crate::credentials::CredentialError;

/// The kind of a failure, as the UI and scripts branch on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The router refused the user name or password.
    Auth,
    /// The router could not be reached, or the connection broke.
    Unreachable,
    /// The router did not answer in time.
    Timeout,
    /// The router sent something that is not RouterOS API.
    Protocol,
    /// The router answered with an error of its own (`!trap`, `!fatal`).
    Router,
    /// The fleet store failed.
    Store,
    /// The credential store failed, or has no password for the device.
    Credentials,
    /// The router's address, port or user changed since its password was
    /// entered here: the technician confirms the new address first.
    AddressChanged,
    /// The request itself is wrong (bad address, duplicate device).
    InvalidInput,
    NotFound,
    Internal,
}

/// Every failure of a Fleetdeck operation, with a message a technician can
/// act on.
#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    #[error(transparent)]
    Router(#[from] routeros::Error),
    #[error("{0}")]
    UnexpectedReply(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Credentials(#[from] CredentialError),
    #[error("{0}")]
    InvalidInput(String),
    #[error("could not draw the chart: {0}")]
    Chart(String),
}

impl FleetError {
    /// The message as a sentence (capital first, full stop last), as the
    /// app shows it.
    pub fn as_sentence(&self) -> String {
        sentence(&self.to_string())
    }

    pub fn kind(&self) -> ErrorKind {
        match self {
            FleetError::Router(e) if e.is_auth() => ErrorKind::Auth,
            FleetError::Router(e) if e.is_timeout() => ErrorKind::Timeout,
            FleetError::Router(e) if e.is_io() => ErrorKind::Unreachable,
            FleetError::Router(e) if e.is_protocol() => ErrorKind::Protocol,
            FleetError::Router(_) => ErrorKind::Router,
            FleetError::UnexpectedReply(_) => ErrorKind::Protocol,
            FleetError::Store(StoreError::NotFound(_)) => ErrorKind::NotFound,
            FleetError::Store(StoreError::DuplicateDevice { .. }) => ErrorKind::InvalidInput,
            FleetError::Store(_) => ErrorKind::Store,
            FleetError::Credentials(CredentialError::Moved { .. }) => ErrorKind::AddressChanged,
            FleetError::Credentials(_) => ErrorKind::Credentials,
            FleetError::InvalidInput(_) => ErrorKind::InvalidInput,
            FleetError::Chart(_) => ErrorKind::Internal,
        }
    }
}

/// `text` with a capital first letter and a full stop at the end.
pub fn sentence(text: &str) -> String {
    let mut c = text.chars();
    match c.next() {
        Some(f) => {
            f.to_uppercase().chain(c).collect::<String>()
                + if text.ends_with('.') { "" } else { "." }
        }
        None => String::new(),
    }
}
