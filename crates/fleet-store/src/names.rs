//! Statuses and audit actions: closed sets of names, stored and sent over
//! IPC as strings, handled in code as enums. A name this version does not
//! know (written into the shared database by a newer Fleetdeck) is kept as
//! written and copied on unchanged: an audit trail is never rewritten.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A closed set of names with one spelling each.
pub trait Name: Copy + Eq + 'static {
    fn as_str(self) -> &'static str;
    fn parse(text: &str) -> Option<Self>;
}

macro_rules! names {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant,)*
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text,)* }
            }
        }

        impl Name for $name {
            fn as_str(self) -> &'static str {
                $name::as_str(self)
            }
            fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some($name::$variant),)* _ => None }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

names! {
    /// What an audit event records.
    AuditAction {
        PushStarted = "push.started",
        PushPreflight = "push.preflight",
        PushBackup = "push.backup",
        PushSafetyNet = "push.safety-net",
        PushStep = "push.step",
        PushConnectionLost = "push.connection-lost",
        PushVerifyFailed = "push.verify-failed",
        PushVerified = "push.verified",
        PushConfirmed = "push.confirmed",
        /// The push's safety net fired: the router restored its backup.
        PushRestoredByRouter = "push.restored-by-router",
        PushSucceeded = "push.succeeded",
        PushRolledBack = "push.rolled-back",
        PushFailed = "push.failed",
        PushDryRun = "push.dry-run",
        PushAwaitingConfirmation = "push.awaiting-confirmation",
        PushUnknown = "push.unknown",
        /// The router could not be reached; nothing was changed.
        PushUnreachable = "push.unreachable",
        /// The plan could not be made for this router; nothing was changed.
        PushInvalid = "push.invalid",
        BulkInterrupted = "bulk.interrupted",
        TlsPinned = "tls.pinned",
        CredentialsAddressConfirmed = "credentials.address-confirmed",
        HealthOnline = "health.online",
        HealthDegraded = "health.degraded",
        HealthOffline = "health.offline",
        AlertRebooted = "alert.rebooted",
        AlertCpuHigh = "alert.cpu-high",
        AlertMemoryLow = "alert.memory-low",
        AlertStorageLow = "alert.storage-low",
        AlertFirmwareBehind = "alert.firmware-behind",
        /// The configuration changed outside Fleetdeck.
        AlertConfigDrift = "alert.config-drift",
        /// A configuration backup could not be taken.
        ConfigBackupFailed = "config.backup-failed",
        /// A router was converged to a stored version of its configuration.
        ConfigRestored = "config.restored",
        /// The configuration breaks a compliance rule.
        AlertConfigRule = "alert.config-rule",
    }
}

impl AuditAction {
    /// Health changes and threshold alerts: what a router's detail lists
    /// under "alerts".
    pub fn is_alert(self) -> bool {
        self.as_str().starts_with("alert.") || self.as_str().starts_with("health.")
    }
}

names! {
    /// Where one router's push stands.
    PushState {
        Running = "running",
        Succeeded = "succeeded",
        /// A step failed and the backup was restored.
        RolledBack = "rolled-back",
        /// A step failed; the safety net restores the backup.
        Failed = "failed",
        DryRun = "dry-run",
        /// Applied and verified; the safety net is armed until confirmed.
        AwaitingConfirmation = "awaiting-confirmation",
        /// The router's state is not known (connection lost).
        Unknown = "unknown",
        /// Not confirmed in time: the safety net restored the backup.
        RestoredByRouter = "restored-by-router",
        /// Cut short with the app (found running with a stale batch).
        Interrupted = "interrupted",
    }
}

names! {
    /// Where a bulk push stands.
    BatchState {
        Running = "running",
        Paused = "paused",
        /// Every router went through.
        Finished = "finished",
        /// Some routers failed.
        Incomplete = "incomplete",
        /// The failure policy stopped it.
        Stopped = "stopped",
        Cancelled = "cancelled",
        /// Cut short (the app closed, the laptop slept); see its summary.
        Interrupted = "interrupted",
    }
}

/// A name as stored: one this version knows, or the text another wrote.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
#[serde(untagged)]
pub enum Named<T> {
    Known(T),
    Unrecognised(String),
}

impl<T: Name> Named<T> {
    /// Reads a stored name; text this version does not know is kept.
    pub fn from_text(text: String) -> Self {
        match T::parse(&text) {
            Some(known) => Named::Known(known),
            None => Named::Unrecognised(text),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Named::Known(k) => k.as_str(),
            Named::Unrecognised(text) => text,
        }
    }

    pub fn known(&self) -> Option<T> {
        match self {
            Named::Known(k) => Some(*k),
            Named::Unrecognised(_) => None,
        }
    }
}

impl<T: Name> From<T> for Named<T> {
    fn from(known: T) -> Self {
        Named::Known(known)
    }
}

impl<T: Name> PartialEq<T> for Named<T> {
    fn eq(&self, other: &T) -> bool {
        self.known() == Some(*other)
    }
}

impl<T: Name> PartialEq<&str> for Named<T> {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl<T: Name> fmt::Display for Named<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_reads_back_as_itself() {
        for a in AuditAction::ALL {
            assert_eq!(AuditAction::parse(a.as_str()), Some(*a));
            assert_eq!(serde_json::to_string(a).unwrap(), format!("\"{a}\""));
        }
        for s in PushState::ALL {
            assert_eq!(PushState::parse(s.as_str()), Some(*s));
        }
        for s in BatchState::ALL {
            assert_eq!(BatchState::parse(s.as_str()), Some(*s));
        }
    }

    #[test]
    fn a_name_from_a_newer_version_is_kept_as_written() {
        let n: Named<AuditAction> = Named::from_text("backup.taken".into());
        assert_eq!(n, Named::Unrecognised("backup.taken".into()));
        assert_eq!(serde_json::to_string(&n).unwrap(), "\"backup.taken\"");
        let back: Named<AuditAction> = serde_json::from_str("\"backup.taken\"").unwrap();
        assert_eq!(back, n);
        let known: Named<AuditAction> = serde_json::from_str("\"push.step\"").unwrap();
        assert_eq!(known, AuditAction::PushStep);
    }
}
