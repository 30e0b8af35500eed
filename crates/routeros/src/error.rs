use std::time::Duration;

use routeros_proto::ProtoError;

/// What went wrong talking to a router, in words a technician can act on.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("could not reach the router at {addr}: {source}. Check the address and port, that the router is powered on, and that the API service is enabled (/ip service)")]
    Connect {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the router at {addr} did not answer within {} s. Check the address, the cabling and any firewall between you and the router", .after.as_secs())]
    ConnectTimeout { addr: String, after: Duration },
    #[error("the router at {addr} refused the login: {message}. Check the user name and password, and that the user's group has the 'api' policy")]
    Auth { addr: String, message: String },
    #[error("the router rejected {command}: {message}")]
    Trap {
        command: String,
        category: Option<u8>,
        message: String,
        /// Further `!trap`s of the same command, if any.
        more: Vec<String>,
    },
    #[error("the router closed the API session: {reason}")]
    Fatal { reason: String },
    #[error("{command} got no answer within {} s and was cancelled", .after.as_secs_f32())]
    Timeout { command: String, after: Duration },
    #[error("the connection to the router at {addr} was lost: {reason}")]
    Closed { addr: String, reason: String },
    #[error("the router at {addr} {what}, so {command} was stopped")]
    Overloaded {
        addr: String,
        command: String,
        what: String,
    },
    #[error("the router sent data that is not valid RouterOS API: {0}")]
    Protocol(#[source] ProtoError),
    #[error("invalid command: {0}")]
    InvalidCommand(#[source] ProtoError),
    #[error("secure connection to {addr} failed: {message}")]
    Tls { addr: String, message: String },
    #[error("network error talking to {addr}: {source}")]
    Io {
        addr: String,
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    pub fn is_auth(&self) -> bool {
        matches!(self, Error::Auth { .. })
    }
    pub fn is_trap(&self) -> bool {
        matches!(self, Error::Trap { .. })
    }
    pub fn trap_category(&self) -> Option<u8> {
        match self {
            Error::Trap { category, .. } => *category,
            _ => None,
        }
    }
    pub fn is_timeout(&self) -> bool {
        matches!(self, Error::Timeout { .. } | Error::ConnectTimeout { .. })
    }
    pub fn is_fatal(&self) -> bool {
        matches!(self, Error::Fatal { .. })
    }
    /// The router could not be reached or the connection broke.
    pub fn is_io(&self) -> bool {
        matches!(
            self,
            Error::Connect { .. } | Error::Io { .. } | Error::Closed { .. }
        )
    }
    pub fn is_tls(&self) -> bool {
        matches!(self, Error::Tls { .. })
    }
    pub fn is_protocol(&self) -> bool {
        matches!(self, Error::Protocol(_))
    }
    /// Whether the router may have carried out the command without saying
    /// so: the session broke, the answer never came or could not be read.
    /// A trap is the router's answer (it did not), and an invalid command
    /// or a refused login never reached it.
    pub fn leaves_outcome_unknown(&self) -> bool {
        !matches!(
            self,
            Error::Trap { .. } | Error::InvalidCommand(_) | Error::Auth { .. }
        )
    }
}
