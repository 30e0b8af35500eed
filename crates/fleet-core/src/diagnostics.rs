//! What a technician pastes into a support request: versions, where the
//! data is, how polling and the shared database are doing, and the end of
//! the log, with every secret taken out. The app's rolling log is written
//! to [`log_dir`]; the same place is read here.

use std::{
    fmt::Write as _,
    path::{Path, PathBuf},
    sync::LazyLock,
};

use regex::Regex;

use crate::{settings::SettingsFile, Fleet};

/// The log folder inside the data folder.
pub const LOG_DIR: &str = "logs";
/// Log files are `fleetdeck.YYYY-MM-DD.log`, one a day.
pub const LOG_PREFIX: &str = "fleetdeck";
pub const LOG_SUFFIX: &str = "log";
/// Daily files kept before the oldest is removed.
pub const LOG_FILES_KEPT: usize = 7;
/// Log lines at the end of the diagnostics.
const TAIL_LINES: usize = 200;

pub fn log_dir(data_dir: &Path) -> PathBuf {
    data_dir.join(LOG_DIR)
}

/// Secrets as they can appear in a log line or an error: a property or
/// field named like a secret, with its value; a password in a URL.
static SECRET_VALUE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?i)((?:password|passwd|secret|token|pre-shared-key|psk|private-key|authentication-key|auth-key)"?\s*[=:]\s*)("[^"]*"|[^\s"',&}]+)"#,
    )
    .expect("a valid pattern")
});
static URL_PASSWORD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(://[^:/@\s]+:)([^@\s]+)(@)").expect("a valid pattern"));

/// `text` with every secret value replaced by `***`.
pub fn redact(text: &str) -> String {
    let text = URL_PASSWORD.replace_all(text, "${1}***${3}");
    SECRET_VALUE.replace_all(&text, "${1}***").into_owned()
}

/// The last `n` lines of the newest log file in `dir`.
fn log_tail(dir: &Path, n: usize) -> String {
    let newest = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|f| f.to_str())
                .is_some_and(|f| f.starts_with(LOG_PREFIX) && f.ends_with(LOG_SUFFIX))
        })
        .max();
    let Some(path) = newest else {
        return format!("(no log file in {})", dir.display());
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let lines: Vec<&str> = text.lines().collect();
            let from = lines.len().saturating_sub(n);
            format!("{}:\n{}", path.display(), lines[from..].join("\n"))
        }
        Err(e) => format!("({} cannot be read: {e})", path.display()),
    }
}

impl Fleet {
    /// The diagnostics text: nothing secret in it (passwords live in the
    /// keyring and are never written; what could slip into a log line is
    /// taken out again here).
    pub async fn diagnostics(&self, data_dir: &Path) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "Fleetdeck {} on {} {}",
            env!("CARGO_PKG_VERSION"),
            std::env::consts::OS,
            std::env::consts::ARCH
        );
        let _ = writeln!(out, "Data folder: {}", data_dir.display());
        let store = self.store();
        let _ = writeln!(
            out,
            "Store: {} at {}{}",
            store.backend_name(),
            store.location(),
            store
                .size_on_disk()
                .map(|b| format!(" ({} MiB)", b / (1 << 20)))
                .unwrap_or_default()
        );
        let _ = writeln!(
            out,
            "Passwords: {:?}{}",
            self.credentials().backend(),
            self.credentials()
                .warning()
                .map(|w| format!(" ({w})"))
                .unwrap_or_default()
        );
        match SettingsFile::load(&data_dir.join(crate::settings::FILE)) {
            Ok(f) => {
                let _ = writeln!(
                    out,
                    "Settings: polling every {} s, background polling {}, push concurrency {}",
                    f.settings.poll_interval_secs,
                    if f.settings.background_polling {
                        "on"
                    } else {
                        "off"
                    },
                    f.settings.push_concurrency
                );
                let _ = writeln!(
                    out,
                    "Shared database: {}; last sync: {}",
                    f.shared_url.as_deref().unwrap_or("none"),
                    f.last_sync
                        .map(|s| format!("{} ms since the epoch", s.at))
                        .unwrap_or_else(|| "never".into())
                );
            }
            Err(e) => {
                let _ = writeln!(out, "Settings: {e}");
            }
        }
        match store.stats().await {
            Ok(stats) => {
                let counts: Vec<String> = stats
                    .iter()
                    .filter(|(t, _)| matches!(*t, "devices" | "checkins" | "outbox" | "pushes"))
                    .map(|(t, n)| format!("{t} {n}"))
                    .collect();
                let _ = writeln!(out, "Rows: {}", counts.join(", "));
            }
            Err(e) => {
                let _ = writeln!(out, "Rows: the store did not answer ({e})");
            }
        }
        let p = self.polling_status().await;
        let _ = writeln!(
            out,
            "Polling: {}; {} routers ({} online, {} degraded, {} offline, {} without a password); polls {} ok, {} failed; check-ins pending {}, on disk for the database {}, refused {}",
            if p.enabled { "on" } else { "off" },
            p.routers,
            p.online,
            p.degraded,
            p.offline,
            p.without_password,
            p.polls_ok,
            p.polls_failed,
            p.rows_pending,
            p.rows_spooled,
            p.rows_quarantined
        );
        if let Ok(text) = std::fs::read_to_string(data_dir.join("quarantine.jsonl")) {
            let _ = writeln!(
                out,
                "Quarantine: {} refused records in quarantine.jsonl",
                text.lines().count()
            );
        }
        let _ = writeln!(
            out,
            "\nLog, last {TAIL_LINES} lines of {}",
            log_tail(&log_dir(data_dir), TAIL_LINES)
        );
        redact(&out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_taken_out_wherever_they_appear() {
        let cases = [
            (
                "mysql://fleet:s3cr3t@db.example:3306/fleet",
                "mysql://fleet:***@db.example:3306/fleet",
            ),
            (
                "set wlan1 wpa2-pre-shared-key=hunter22 ssid=Shop",
                "set wlan1 wpa2-pre-shared-key=*** ssid=Shop",
            ),
            (
                r#"{"username":"admin","password":"pa ss"}"#,
                r#"{"username":"admin","password":***}"#,
            ),
            (
                "login failed: Password = x1y2",
                "login failed: Password = ***",
            ),
            ("secret=abc&tls=off", "secret=***&tls=off"),
        ];
        for (text, want) in cases {
            let got = redact(text);
            assert!(got.starts_with(want), "{text} -> {got}");
            assert!(!got.contains("s3cr3t") && !got.contains("hunter22") && !got.contains("ss\""));
        }
        assert_eq!(
            redact("cpu-load=12 identity=core"),
            "cpu-load=12 identity=core"
        );
    }

    #[test]
    fn the_tail_is_of_the_newest_log() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("fleetdeck.2026-12-01.log"), "old\n").unwrap();
        let lines: String = (0..300).map(|i| format!("line {i}\n")).collect();
        std::fs::write(dir.path().join("fleetdeck.2026-12-02.log"), lines).unwrap();
        let tail = log_tail(dir.path(), 200);
        assert!(tail.contains("line 299") && tail.contains("line 100"));
        assert!(!tail.contains("line 99\n") && !tail.contains("old"));
    }
}
