//! A push's backup and safety net on the router: how they are named,
//! armed and taken down again.

use routeros::{Client, Command};

use crate::credentials::{CredentialStore, Sensitive};

/// Names of the safety schedulers a push arms.
pub const SAFETY_PREFIX: &str = "fleetdeck-safety-";

/// Names of the backups a push saves on the router: `fleetdeck-<token>`,
/// the same random token as its safety net's.
pub const BACKUP_PREFIX: &str = "fleetdeck-";

/// A push's backup and safety net, named by a random token nobody can
/// guess, encrypted with a random password.
pub(super) struct Backup {
    pub(super) token: String,
    pub(super) password: Sensitive<String>,
}

impl Backup {
    pub(super) fn new() -> Self {
        Backup {
            token: uuid::Uuid::new_v4().simple().to_string()[..16].to_owned(),
            password: Sensitive::new(uuid::Uuid::new_v4().simple().to_string()),
        }
    }

    pub(super) fn file(&self) -> String {
        backup_file(&self.token)
    }

    pub(super) fn net(&self) -> String {
        format!("{SAFETY_PREFIX}{}", self.token)
    }

    /// The safety net's script: it removes itself first, so it fires once
    /// even if the load fails, then loads the backup (the router reboots).
    /// Token and password are hexadecimal: nothing to escape.
    pub(super) fn on_event(&self) -> String {
        format!(
            "/system scheduler remove [find name=\"{}\"]; /system backup load name={} password=\"{}\"",
            self.net(),
            self.file(),
            self.password.expose()
        )
    }
}

pub(super) fn backup_file(token: &str) -> String {
    format!("{BACKUP_PREFIX}{token}.backup")
}

/// The token of a safety net's name (`fleetdeck-safety-<token>`).
pub(super) fn token_of(net: &str) -> Option<&str> {
    net.strip_prefix(SAFETY_PREFIX)
        .filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The safety schedulers of unconfirmed pushes on this router.
pub async fn pending_safety_nets(client: &Client) -> Result<Vec<String>, routeros::Error> {
    Ok(client
        .run(&Command::new("/system/scheduler/print").proplist(["name"]))
        .await?
        .rows
        .iter()
        .filter_map(|r| r.get("name").map(|n| n.into_owned()))
        .filter(|n| n.starts_with(SAFETY_PREFIX))
        .collect())
}

/// Removes the safety net `name`, then its backup (and the backup's
/// password from `keys`). A backup that cannot be removed is logged and
/// removed by the next push's pre-flight.
pub(super) async fn confirm_net(
    client: &Client,
    name: &str,
    keys: Option<&CredentialStore>,
) -> Result<bool, routeros::Error> {
    let Some(token) = token_of(name) else {
        return Ok(false);
    };
    if remove_schedulers(client, name).await? == 0 {
        return Ok(false);
    }
    if let Err(e) = remove_backup(client, keys, token).await {
        tracing::warn!(error = %e, "a confirmed push's backup could not be removed");
    }
    Ok(true)
}

/// Removes a push's backup file from the router and its password from
/// `keys`.
pub(super) async fn remove_backup(
    client: &Client,
    keys: Option<&CredentialStore>,
    token: &str,
) -> Result<(), routeros::Error> {
    let file = backup_file(token);
    let found = client
        .run(
            &Command::new("/file/print")
                .proplist([".id"])
                .word(format!("?name={file}")),
        )
        .await?;
    for row in &found.rows {
        if let Some(id) = row.get(".id") {
            client
                .run(&Command::new("/file/remove").attr(".id", id.as_ref()))
                .await?;
        }
    }
    if let Some(keys) = keys {
        if let Err(e) = keys.delete_push_backup(token) {
            tracing::warn!(error = %e, "a removed backup's password could not be deleted");
        }
    }
    Ok(())
}

/// Removes the backups earlier pushes left on the router (a restored
/// backup stays on its flash after the reboot). Only called with no safety
/// net pending, so no backup here is still needed.
pub(super) async fn remove_leftover_backups(client: &Client, keys: Option<&CredentialStore>) {
    let files = match client
        .run(&Command::new("/file/print").proplist(["name"]))
        .await
    {
        Ok(reply) => reply.rows,
        Err(e) => {
            tracing::warn!(error = %e, "could not list the router's files for old push backups");
            return;
        }
    };
    for row in files {
        let Some(name) = row.get("name") else {
            continue;
        };
        let Some(token) = name
            .strip_prefix(BACKUP_PREFIX)
            .and_then(|n| n.strip_suffix(".backup"))
            .filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_hexdigit()))
        else {
            continue;
        };
        if let Err(e) = remove_backup(client, keys, token).await {
            tracing::warn!(error = %e, "an old push backup could not be removed");
        }
    }
}

/// Removes every scheduler named `name`; how many there were.
pub(super) async fn remove_schedulers(
    client: &Client,
    name: &str,
) -> Result<usize, routeros::Error> {
    let found = client
        .run(
            &Command::new("/system/scheduler/print")
                .proplist([".id"])
                .word(format!("?name={name}")),
        )
        .await?;
    for row in &found.rows {
        if let Some(id) = row.get(".id") {
            client
                .run(&Command::new("/system/scheduler/remove").attr(".id", id.as_ref()))
                .await?;
        }
    }
    Ok(found.rows.len())
}
