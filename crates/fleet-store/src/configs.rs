//! Configuration history on either store: each distinct normalised text
//! kept once, compressed, by its hash; a version row per backup that
//! found something new. Versions made on the embedded store go through
//! the outbox like every record.

use crate::{model::*, Backend, FleetStore, StoreError};

/// zstd level: a 70 KB export compresses in about a millisecond.
const LEVEL: i32 = 3;

pub(crate) fn compress(text: &str) -> Result<Vec<u8>, StoreError> {
    zstd::encode_all(text.as_bytes(), LEVEL)
        .map_err(|e| StoreError::Payload(format!("compressing a configuration: {e}")))
}

pub(crate) fn decompress(hash: &str, body: &[u8]) -> Result<String, StoreError> {
    let bytes = zstd::decode_all(body).map_err(|e| {
        StoreError::Payload(format!("the stored configuration {hash} is damaged: {e}"))
    })?;
    String::from_utf8(bytes)
        .map_err(|_| StoreError::Payload(format!("the stored configuration {hash} is not text")))
}

impl FleetStore {
    /// Stores a version of a router's configuration with its normalised
    /// text. `version.hash` must be [`config_hash`] of `text`. Returns
    /// whether the version was new (storing the same version twice is
    /// harmless).
    pub async fn save_config_version(
        &self,
        version: &ConfigVersion,
        text: &str,
    ) -> Result<bool, StoreError> {
        let record = checked(version, text)?;
        let body = compress(text)?;
        dispatch!(self.save_config_version(record, body, self.outbox))
    }

    pub(crate) async fn save_config_version_unqueued(
        &self,
        record: ConfigVersionRecord,
    ) -> Result<bool, StoreError> {
        let record = checked(&record.version, &record.text)?;
        let body = compress(&record.text)?;
        dispatch!(self.save_config_version(record, body, false))
    }

    /// Versions, newest first; `device_id` narrows to one router.
    pub async fn config_versions(
        &self,
        device_id: Option<&str>,
        limit: u32,
    ) -> Result<Vec<ConfigVersion>, StoreError> {
        dispatch!(self.config_versions(device_id, limit))
    }

    /// Notes that a backup found the router still holding version `id`.
    pub async fn touch_config_version(&self, id: &str, at: i64) -> Result<(), StoreError> {
        dispatch!(self.touch_config_version(id.to_owned(), at))
    }

    /// Each router's newest version.
    pub async fn latest_config_versions(&self) -> Result<Vec<ConfigVersion>, StoreError> {
        dispatch!(self.latest_config_versions())
    }

    /// The normalised text with this hash.
    pub async fn config_text(&self, hash: &str) -> Result<Option<String>, StoreError> {
        let body: Option<Vec<u8>> = dispatch!(self.config_body(hash))?;
        body.map(|b| decompress(hash, &b)).transpose()
    }

    /// Lines of each router's newest configuration that hold `needle`
    /// (case-insensitive), with the lines around them, at most `limit`.
    pub async fn search_configs(
        &self,
        needle: &str,
        limit: u32,
    ) -> Result<Vec<ConfigHit>, StoreError> {
        if needle.trim().is_empty() {
            return Ok(Vec::new());
        }
        dispatch!(self.search_configs(needle.to_owned(), limit))
    }

    /// Keeps `body` (an export with its secrets, sealed by the caller) with
    /// version `version_id`; the newest body for a version wins. Through
    /// the outbox like the version.
    pub async fn save_config_secret(
        &self,
        version_id: &str,
        body: &[u8],
    ) -> Result<(), StoreError> {
        dispatch!(self.save_config_secret(version_id.to_owned(), body.to_vec(), self.outbox))
    }

    pub(crate) async fn save_config_secret_unqueued(
        &self,
        version_id: &str,
        body: &[u8],
    ) -> Result<(), StoreError> {
        dispatch!(self.save_config_secret(version_id.to_owned(), body.to_vec(), false))
    }

    /// The sealed body kept with version `version_id`, if any.
    pub async fn config_secret(&self, version_id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        dispatch!(self.config_secret(version_id.to_owned()))
    }

    /// How many distinct texts are kept, and their compressed bytes.
    pub async fn config_storage(&self) -> Result<(u64, u64), StoreError> {
        dispatch!(self.config_storage())
    }
}

/// A version whose hash is not its text's would point history at the
/// wrong configuration: refused.
fn checked(version: &ConfigVersion, text: &str) -> Result<ConfigVersionRecord, StoreError> {
    if config_hash(text) != version.hash {
        return Err(StoreError::Payload(format!(
            "configuration version {} does not match its text",
            version.id
        )));
    }
    Ok(ConfigVersionRecord {
        version: version.clone(),
        text: text.to_owned(),
    })
}
