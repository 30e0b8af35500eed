//! Secrets bound to what they were entered for, in accounts namespaced by
//! kind, on top of the raw [`CredentialStore`].
//!
//! A router's password is kept with the address, port and user it was
//! entered for on this laptop, and is handed out only for that endpoint.
//! The inventory can change under it — a sync from the shared database, an
//! edit — and a record that now points elsewhere must not carry the
//! password there: whoever can write the shared database could otherwise
//! collect the fleet's passwords by re-pointing records at a host of their
//! own. Such a router keeps its record and its password, but is not
//! reached until the technician confirms the new address here.
//!
//! Accounts are `router:<device id>` and `shared-store:password`, so no
//! router record, whatever its id, can be given the shared database's
//! password.

use std::collections::HashMap;

use fleet_store::DeviceRecord;
use serde::{Deserialize, Serialize};

use crate::credentials::{CredentialError, CredentialStore, Sensitive};

const SHARED_STORE: &str = "shared-store:password";
const CONFIG_KEY: &str = "config-secrets:key";

fn push_backup_account(token: &str) -> String {
    format!("push-backup:{token}")
}

fn router_account(device_id: &str) -> String {
    format!("router:{device_id}")
}

/// Where a router password was entered for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoint {
    pub host: String,
    pub port: u16,
    pub username: String,
}

impl Endpoint {
    pub fn of(d: &DeviceRecord) -> Self {
        Self {
            host: d.host.clone(),
            port: d.port,
            username: d.username.clone(),
        }
    }
}

impl From<&routeros::ConnectOptions> for Endpoint {
    /// Where a session with these options logs in.
    fn from(o: &routeros::ConnectOptions) -> Self {
        Self {
            host: o.host.clone(),
            port: o.port,
            username: o.username.clone(),
        }
    }
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{} as {}", self.host, self.port, self.username)
    }
}

/// What is kept in a router's account.
#[derive(Serialize, Deserialize)]
struct Stored {
    #[serde(flatten)]
    endpoint: Endpoint,
    password: String,
}

/// A router's stored password and the endpoint it was entered for.
pub struct RouterSecret {
    pub endpoint: Endpoint,
    pub password: Sensitive<String>,
}

impl RouterSecret {
    /// The password, if `d` is still reached where it was entered for;
    /// otherwise the error that asks the technician to confirm the move.
    pub fn password_for(self, d: &DeviceRecord) -> Result<Sensitive<String>, CredentialError> {
        let now = Endpoint::of(d);
        if self.endpoint == now {
            Ok(self.password)
        } else {
            Err(CredentialError::Moved {
                was: self.endpoint.to_string(),
                now: now.to_string(),
            })
        }
    }
}

fn decode(device_id: &str, secret: Sensitive<String>) -> Result<RouterSecret, CredentialError> {
    let s: Stored = serde_json::from_str(secret.expose())
        .map_err(|_| CredentialError::Unreadable(format!("router {device_id}")))?;
    Ok(RouterSecret {
        endpoint: s.endpoint,
        password: Sensitive::new(s.password),
    })
}

impl CredentialStore {
    /// Keeps a router's password, bound to `endpoint`.
    pub fn set_router(
        &self,
        device_id: &str,
        endpoint: &Endpoint,
        password: &Sensitive<String>,
    ) -> Result<(), CredentialError> {
        let stored = Stored {
            endpoint: endpoint.clone(),
            password: password.expose().clone(),
        };
        let json = serde_json::to_string(&stored).expect("strings serialise");
        self.set(&router_account(device_id), &Sensitive::new(json))
    }

    /// A router's password and where it was entered for, if one is kept.
    pub fn router(&self, device_id: &str) -> Result<Option<RouterSecret>, CredentialError> {
        self.get(&router_account(device_id))?
            .map(|s| decode(device_id, s))
            .transpose()
    }

    /// Many routers' at once (the password file is read once).
    pub fn routers<'a>(
        &self,
        device_ids: impl IntoIterator<Item = &'a str>,
    ) -> Result<HashMap<String, RouterSecret>, CredentialError> {
        let accounts: Vec<(String, &str)> = device_ids
            .into_iter()
            .map(|id| (router_account(id), id))
            .collect();
        let mut found = self.get_many(accounts.iter().map(|(a, _)| a.as_str()))?;
        accounts
            .iter()
            .filter_map(|(account, id)| found.remove(account).map(|s| (*id, s)))
            .map(|(id, s)| Ok((id.to_owned(), decode(id, s)?)))
            .collect()
    }

    pub fn delete_router(&self, device_id: &str) -> Result<(), CredentialError> {
        self.delete(&router_account(device_id))
    }

    /// The password a push's backup on the router is encrypted with, kept
    /// while that backup exists (`token` names the backup and its safety
    /// net).
    pub fn set_push_backup(
        &self,
        token: &str,
        password: &Sensitive<String>,
    ) -> Result<(), CredentialError> {
        self.set(&push_backup_account(token), password)
    }

    pub fn push_backup(&self, token: &str) -> Result<Option<Sensitive<String>>, CredentialError> {
        self.get(&push_backup_account(token))
    }

    pub fn delete_push_backup(&self, token: &str) -> Result<(), CredentialError> {
        self.delete(&push_backup_account(token))
    }

    /// The key sealed exports are encrypted with (hex).
    pub(crate) fn set_config_key(&self, key: &Sensitive<String>) -> Result<(), CredentialError> {
        self.set(CONFIG_KEY, key)
    }

    pub(crate) fn config_key(&self) -> Result<Option<Sensitive<String>>, CredentialError> {
        self.get(CONFIG_KEY)
    }

    /// The shared database's password.
    pub fn set_shared_store(&self, password: &Sensitive<String>) -> Result<(), CredentialError> {
        self.set(SHARED_STORE, password)
    }

    pub fn shared_store(&self) -> Result<Option<Sensitive<String>>, CredentialError> {
        self.get(SHARED_STORE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str, host: &str, port: u16) -> DeviceRecord {
        DeviceRecord {
            id: id.into(),
            site_id: None,
            host: host.into(),
            port,
            username: "admin".into(),
            transport: fleet_store::Transport::Api,
            tls_fingerprint: None,
            tags: vec![],
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn a_password_is_handed_out_only_where_it_was_entered_for() {
        let dir = tempfile::tempdir().unwrap();
        let store = CredentialStore::file(dir.path().join("c.json"));
        let d = record("d1", "192.0.2.1", 8728);
        store
            .set_router("d1", &Endpoint::of(&d), &Sensitive::new("pw".into()))
            .unwrap();
        let got = store
            .router("d1")
            .unwrap()
            .unwrap()
            .password_for(&d)
            .unwrap();
        assert_eq!(got.expose(), "pw");
        for moved in [
            record("d1", "203.0.113.9", 8728),
            record("d1", "192.0.2.1", 18728),
            DeviceRecord {
                username: "other".into(),
                ..d.clone()
            },
        ] {
            let err = store
                .router("d1")
                .unwrap()
                .unwrap()
                .password_for(&moved)
                .expect_err("refused");
            assert!(matches!(err, CredentialError::Moved { .. }), "{err}");
            assert!(err.to_string().contains("192.0.2.1:8728 as admin"), "{err}");
        }
    }

    #[test]
    fn accounts_are_namespaced_by_kind() {
        let dir = tempfile::tempdir().unwrap();
        let store = CredentialStore::file(dir.path().join("c.json"));
        store
            .set_shared_store(&Sensitive::new("db-secret".into()))
            .unwrap();
        // A router record whose id mimics the shared store's account.
        for id in ["shared-store", "shared-store:password", "password"] {
            assert!(store.router(id).unwrap().is_none(), "{id}");
        }
        assert!(store
            .routers(["shared-store", "shared-store:password"])
            .unwrap()
            .is_empty());
        assert_eq!(store.shared_store().unwrap().unwrap().expose(), "db-secret");
    }
}
