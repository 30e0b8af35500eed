//! Helpers shared by several commands: duration flags and graceful shutdown.

use anyhow::Context;
use fleet_core::{Fleet, StoreUrl};

/// The fleet on `--store`, else the app's own store and keyring.
pub(crate) async fn open_fleet_at(store: Option<&str>) -> anyhow::Result<Fleet> {
    Ok(match store {
        Some(url) => Fleet::open(&url.parse::<StoreUrl>()?).await?,
        None => Fleet::open_default().await?,
    })
}

pub(crate) fn duration_arg(flag: &str, text: &str) -> anyhow::Result<std::time::Duration> {
    routeros_proto::value::parse_duration(text)
        .with_context(|| format!("{flag} {text:?} is not a duration like 30s, 5m or 24h"))
}

/// Ctrl-C or SIGTERM (a service manager, `timeout`): both stop gracefully.
pub(crate) async fn shutdown() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
