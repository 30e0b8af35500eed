//! Async RouterOS API client.
//!
//! [`Client::connect`] opens a TCP connection, logs in (plain login, or the
//! pre-6.43 challenge when the router asks for it) and spawns one driver task
//! that owns the socket. The returned [`Client`] is a cheap `Clone` handle:
//! every command is tagged, its tag registered with the driver before the
//! command is written, and replies are routed back by tag, so many commands
//! can be in flight on one connection. Every command has a deadline; a
//! command that misses it is cancelled on the router with `/cancel`.

mod client;
pub mod config;
pub mod discovery;
mod error;
mod response;
pub mod tls;

pub use client::{Client, ConnectOptions, ReplyStream};
pub use config::{ExportMethod, Version};
pub use error::Error;
pub use response::{Response, Row};
pub use routeros_proto::{Command, Reply, ReplyKind};
pub use tls::{Fingerprint, TlsMode};
