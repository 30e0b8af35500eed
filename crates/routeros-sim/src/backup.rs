//! What a router does to itself: backups saved and loaded, reboots. Both
//! the API and scripts (imports, scheduler events) do these, so they live
//! on the device, not in a session.

use std::{sync::Arc, time::Duration};

use crate::{
    device::Device,
    model::{self, Failure, Menu},
};

/// `name` with the `.backup` suffix RouterOS adds when it is missing.
fn backup_file(name: String) -> String {
    if name.ends_with(".backup") {
        name
    } else {
        format!("{name}.backup")
    }
}

impl Device {
    /// `/system backup save`: snapshots the configuration into a file on
    /// the router's flash, encrypted with `password` unless `dont_encrypt`
    /// or none is given (RouterOS 6.43+).
    pub(crate) fn save_backup(
        &self,
        name: Option<String>,
        password: Option<String>,
        dont_encrypt: bool,
    ) -> Result<(), Failure> {
        let file = backup_file(name.unwrap_or_else(|| format!("{}-backup", self.identity())));
        let snapshot = self.with_config(|c| c.clone());
        let password = password.filter(|p| !p.is_empty() && !dont_encrypt);
        self.state
            .lock()
            .expect("state lock")
            .backups
            .insert(file.clone(), (snapshot, password));
        let item = vec![
            ("name".to_owned(), file.clone().into_bytes()),
            ("type".to_owned(), b"backup".to_vec()),
            ("size".to_owned(), b"23456".to_vec()),
        ];
        self.mutate("file", |m| {
            m.items.retain(|i| i.get("name") != Some(file.as_bytes()));
            model::add(m, item)
        })?;
        Ok(())
    }

    /// `/system backup load`: puts the saved configuration back and
    /// reboots. The file must still be on flash and the password right;
    /// files themselves live outside the backup, as on a router's flash.
    pub(crate) fn load_backup(
        self: &Arc<Device>,
        name: &str,
        password: Option<&str>,
    ) -> Result<(), Failure> {
        let Some(password) = password else {
            return Err(Failure::new(Some(1), "failure: password not specified"));
        };
        let file = backup_file(name.to_owned());
        let saved = self
            .state
            .lock()
            .expect("state lock")
            .backups
            .get(&file)
            .cloned();
        let on_flash = self
            .items("file")
            .iter()
            .any(|i| i.get("name") == Some(file.as_bytes()));
        let Some((mut saved, expected)) = saved.filter(|_| on_flash) else {
            return Err(Failure::new(Some(1), "failure: no such file"));
        };
        if expected.as_deref().is_some_and(|p| p != password) {
            return Err(Failure::new(
                Some(1),
                "failure: wrong password or damaged backup file",
            ));
        }
        self.with_config(|c| {
            if let Some(files) = c.remove("file") {
                saved.insert("file".into(), files);
            }
            *c = saved;
        });
        tracing::info!(router = self.index(), %file, "backup loaded; rebooting");
        self.reboot_soon();
        Ok(())
    }

    /// `/system reboot`: the reply (or the rest of a script line) goes out
    /// first, then the router goes down.
    pub(crate) fn reboot_soon(self: &Arc<Device>) {
        let device = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            device.reboot();
        });
    }

    /// Applies a change to a menu and tells `listen` streams about changed
    /// items. Changes are only worked out when someone listens: otherwise a
    /// change costs what the change itself costs.
    pub(crate) fn mutate<T>(
        &self,
        menu: &str,
        f: impl FnOnce(&mut Menu) -> Result<T, Failure>,
    ) -> Result<T, Failure> {
        let listening = self.changes.receiver_count() > 0;
        let (result, before, after) = self.with_config(|c| {
            let m = c
                .get_mut(menu)
                .ok_or_else(|| Failure::new(Some(0), "no such command prefix"))?;
            let before = if listening {
                m.items.clone()
            } else {
                Vec::new()
            };
            let r = f(m)?;
            let after = if listening {
                m.items.clone()
            } else {
                Vec::new()
            };
            Ok::<_, Failure>((r, before, after))
        })?;
        if listening {
            self.notify_items(menu, &before, &after);
        }
        Ok(result)
    }

    /// Tells streams which of a menu's items changed between two copies.
    pub(crate) fn notify_items(&self, menu: &str, before: &[model::Item], after: &[model::Item]) {
        for item in after {
            if !before.contains(item) {
                self.notify(menu, item.clone(), false);
            }
        }
        for item in before {
            if !after.iter().any(|a| a.id() == item.id()) {
                self.notify(menu, item.clone(), true);
            }
        }
    }
}
