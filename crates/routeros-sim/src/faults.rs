//! Fault injection: the ways real routers and networks misbehave.

use std::time::Duration;

/// Faults applied to a router's API sessions; set per device or fleet-wide,
/// at start or while running.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Faults {
    /// Delay before each reply sentence.
    pub latency: Duration,
    /// Write every reply one byte at a time.
    pub fragment: bool,
    /// Drop the connection after this many reply sentences in a session.
    pub drop_after: Option<usize>,
    /// Commands (paths like `/system/resource/print`) that never finish.
    pub stall: Vec<String>,
    /// Commands answered with `!trap =message=<message>`.
    pub trap: Vec<(String, String)>,
    /// Send garbage bytes instead of the reply after this many sentences.
    pub garbage_after: Option<usize>,
    /// Refuse logins as if the password were wrong.
    pub reject_login: bool,
    /// `/system resource` properties reported as given instead of the
    /// model's: a broken or hostile router (a `cpu-count` of a trillion).
    pub resource: Vec<(String, String)>,
}
