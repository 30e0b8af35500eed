//! Waiting for a state in tests: poll a condition until it holds, under a
//! generous deadline, instead of sleeping and hoping it has happened.
//! Machines here drift 3–4× from one day to the next; a deadline only
//! bounds a hang, it never decides a result.

use std::future::Future;
use std::time::{Duration, Instant};

/// The deadline tests use unless they say otherwise: long enough for a
/// loaded two-core machine, short enough that a hang fails the run.
pub const DEADLINE: Duration = Duration::from_secs(60);

/// Polls `check` every 20 ms until it returns `Some`, and returns that.
/// Panics naming `what` after `within`.
pub async fn until_some<T, F, Fut>(what: &str, within: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + within;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {within:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Polls `check` every 20 ms until it is true; panics naming `what` after
/// `within`.
pub async fn until<F, Fut>(what: &str, within: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    until_some(what, within, || {
        let f = check();
        async move { f.await.then_some(()) }
    })
    .await
}
