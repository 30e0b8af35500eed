//! "Poll checked": many inventory routers polled at once, each as "Poll
//! now" polls it ([`Fleet::poll_device`]), with progress as each answers.

use futures::{stream::FuturesUnordered, StreamExt};
use serde::Serialize;

use crate::{Checkin, Fleet};

/// Routers polled at once: enough to hide a slow router, few enough for a
/// site's uplink.
pub const AT_ONCE: usize = 8;

/// One router polled, and how far the sweep is.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct PollProgress {
    pub device_id: String,
    /// The check-in stored, or why there is none (also stored on the
    /// router, for the list).
    pub checkin: Option<Checkin>,
    pub error: Option<String>,
    pub done: usize,
    pub total: usize,
    pub failed: usize,
}

/// What a sweep did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct PollSweep {
    pub total: usize,
    pub failed: usize,
}

impl Fleet {
    /// Polls `device_ids`, [`AT_ONCE`] at a time, reporting each on
    /// `on_progress`. A router that fails does not stop the others.
    pub async fn poll_devices(
        &self,
        device_ids: &[String],
        on_progress: impl Fn(PollProgress),
    ) -> PollSweep {
        let total = device_ids.len();
        let (mut done, mut failed) = (0, 0);
        let mut ids = device_ids.iter();
        let mut polls = FuturesUnordered::new();
        loop {
            while polls.len() < AT_ONCE {
                let Some(id) = ids.next() else { break };
                polls.push(self.poll_tagged(id.clone()));
            }
            let Some((device_id, result)) = polls.next().await else {
                break;
            };
            done += 1;
            let (checkin, error) = match result {
                Ok(c) => (Some(c), None),
                Err(e) => {
                    failed += 1;
                    (None, Some(e.to_string()))
                }
            };
            on_progress(PollProgress {
                device_id,
                checkin,
                error,
                done,
                total,
                failed,
            });
        }
        PollSweep { total, failed }
    }

    async fn poll_tagged(&self, id: String) -> (String, Result<Checkin, crate::FleetError>) {
        let result = self.poll_device(&id).await;
        (id, result)
    }
}
