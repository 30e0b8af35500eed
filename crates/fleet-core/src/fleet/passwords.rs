//! A router's password as the fleet hands it out: only for the endpoint it
//! was entered for on this laptop (see [`crate::bound`]), with the status
//! the UI shows and the technician's confirmation of a moved router.

use fleet_store::DeviceRecord;
use serde::Serialize;

use super::Fleet;
use crate::{
    bound::{Endpoint, RouterSecret},
    credentials::{CredentialError, Sensitive},
    poll, FleetError,
};

/// Where this laptop's password for a router stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    tag = "state"
)]
pub enum CredentialStatus {
    Stored,
    Missing,
    /// Kept for `entered_for`; the router is now reached at `now`.
    AddressChanged {
        entered_for: String,
        now: String,
    },
}

impl Fleet {
    /// A router's stored password, only for where it was entered for.
    pub(super) fn stored_password(
        &self,
        d: &DeviceRecord,
        secret: Option<RouterSecret>,
    ) -> Result<Sensitive<String>, FleetError> {
        let secret =
            secret.ok_or_else(|| CredentialError::Missing(format!("{}:{}", d.host, d.port)))?;
        Ok(secret.password_for(d)?)
    }

    /// Where this laptop's password for a router stands: kept for the
    /// router's current address, kept for another one (moved by a sync or
    /// an edit), or not kept.
    pub async fn credential_status(&self, device_id: &str) -> Result<CredentialStatus, FleetError> {
        let d = self.device_record(device_id).await?;
        Ok(match self.credentials.router(device_id)? {
            None => CredentialStatus::Missing,
            Some(s) if s.endpoint == Endpoint::of(&d) => CredentialStatus::Stored,
            Some(s) => CredentialStatus::AddressChanged {
                entered_for: s.endpoint.to_string(),
                now: Endpoint::of(&d).to_string(),
            },
        })
    }

    /// The technician confirms, on this laptop, that a router moved by a
    /// sync or an edit is really at its new address: its password is bound
    /// to that address from now on, and the confirmation is audited.
    pub async fn confirm_address(&self, device_id: &str, actor: &str) -> Result<(), FleetError> {
        let d = self.device_record(device_id).await?;
        let secret = self
            .credentials
            .router(device_id)?
            .ok_or_else(|| CredentialError::Missing(format!("{}:{}", d.host, d.port)))?;
        let now = Endpoint::of(&d);
        if secret.endpoint == now {
            return Ok(());
        }
        self.credentials
            .set_router(device_id, &now, &secret.password)?;
        self.store
            .record_audit(&[fleet_store::AuditEvent {
                id: fleet_store::new_id(),
                at: poll::now_ms(),
                device_id: Some(device_id.to_owned()),
                actor: actor.to_owned(),
                action: fleet_store::AuditAction::CredentialsAddressConfirmed.into(),
                detail:
                    serde_json::json!({"was": secret.endpoint.to_string(), "now": now.to_string()})
                        .to_string(),
            }])
            .await?;
        Ok(())
    }

    async fn device_record(&self, device_id: &str) -> Result<DeviceRecord, FleetError> {
        self.store
            .device_records()
            .await?
            .into_iter()
            .find(|d| d.id == device_id)
            .ok_or_else(|| {
                FleetError::InvalidInput(format!("no router {device_id} in the inventory"))
            })
    }
}
