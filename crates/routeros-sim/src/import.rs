//! `/import`: runs an uploaded RouterOS script against the configuration
//! model, line by line, stopping at the first failing line and keeping
//! everything before it (RouterOS imports are not transactional).
//!
//! Menu commands on the menus the simulator models are executed, and so
//! are `/system script run`, `/system backup save|load` and
//! `/system reboot` (the commands scheduler events use); lines for menus it
//! does not model, and scripting (`:global`, `:if`, `:log`, …), are
//! accepted without effect and counted, so real exports import cleanly.

use std::sync::Arc;

use routeros_proto::script::{self, Arg, CommandKind, MenuCommand, ScriptCommand, Selector};

use crate::{
    device::{check_references, Device},
    model::{self, Config, Failure, Menu, MenuKind},
};

/// How deep `/system script run` may nest before the run is refused, as a
/// script that runs itself would otherwise never end.
const MAX_DEPTH: usize = 8;

/// What a script runs on: a configuration alone (a dry run), or a router,
/// where backups and reboots happen too.
pub(crate) trait Target {
    /// Runs one menu command; `Ok(false)`: the simulator does not model it.
    fn command(&mut self, menu: &str, m: &MenuCommand) -> Result<bool, Failure>;
    /// The source of the `/system script` item called `name`.
    fn script_source(&mut self, name: &[u8]) -> Option<Vec<u8>>;
}

impl Target for Config {
    fn command(&mut self, menu: &str, m: &MenuCommand) -> Result<bool, Failure> {
        if !self.contains_key(menu) {
            return Ok(false);
        }
        apply(self, menu, m).map(|()| true)
    }

    fn script_source(&mut self, name: &[u8]) -> Option<Vec<u8>> {
        self.get("system/script")?
            .items
            .iter()
            .find(|i| i.get("name") == Some(name))
            .and_then(|i| i.get("source").map(<[u8]>::to_vec))
    }
}

/// A script running on a router: configuration commands change its
/// configuration one line at a time (a failing line keeps the ones before
/// it), and the router's own actions happen.
pub(crate) struct OnDevice<'a>(pub &'a Arc<Device>);

impl Target for OnDevice<'_> {
    fn command(&mut self, menu: &str, m: &MenuCommand) -> Result<bool, Failure> {
        let device = self.0;
        match (menu, m.verb.as_str()) {
            ("system/backup", "save") => {
                device.save_backup(
                    text_arg(m, "name")?,
                    text_arg(m, "password")?,
                    text_arg(m, "dont-encrypt")?.as_deref() == Some("yes"),
                )?;
                Ok(true)
            }
            ("system/backup", "load") => {
                device.load_backup(
                    &text_arg(m, "name")?.unwrap_or_default(),
                    text_arg(m, "password")?.as_deref(),
                )?;
                Ok(true)
            }
            ("system", "reboot") => {
                device.reboot_soon();
                Ok(true)
            }
            _ => {
                let listening = device.changes.receiver_count() > 0;
                let before = if listening {
                    device.with_config(|c| c.get(menu).map(|m| m.items.clone()))
                } else {
                    None
                };
                let done = device.with_config(|c| c.command(menu, m))?;
                if let Some(before) = before {
                    let after = device.items(menu);
                    device.notify_items(menu, &before, &after);
                }
                Ok(done)
            }
        }
    }

    fn script_source(&mut self, name: &[u8]) -> Option<Vec<u8>> {
        self.0.with_config(|c| c.script_source(name))
    }
}

/// A named argument's plain value as text; a computed one is refused.
fn text_arg(m: &MenuCommand, name: &str) -> Result<Option<String>, Failure> {
    match m.arg(name) {
        None => Ok(None),
        Some(v) => v
            .literal()
            .map(|v| Some(String::from_utf8_lossy(&v).into_owned()))
            .ok_or_else(|| {
                Failure::new(
                    Some(1),
                    format!("value of {name} is computed; the simulator only runs plain values"),
                )
            }),
    }
}

/// What an import did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ImportReport {
    pub executed: usize,
    pub skipped: usize,
}

/// Parses and runs `text` on `target`. Errors carry RouterOS's wording:
/// `failure: … (/ip/address/add; line 4)` or `Script Error: syntax error
/// (line 4 column 10)`.
pub(crate) fn run(target: &mut impl Target, text: &[u8]) -> Result<ImportReport, Failure> {
    let mut report = ImportReport::default();
    run_text(target, text, 0, &mut report)?;
    Ok(report)
}

fn run_text(
    target: &mut impl Target,
    text: &[u8],
    depth: usize,
    report: &mut ImportReport,
) -> Result<(), Failure> {
    let parsed = script::parse(text).map_err(|e| {
        Failure::new(
            Some(3),
            format!(
                "Script Error: syntax error (line {} column {}): {}",
                e.line, e.column, e.message
            ),
        )
    })?;
    run_commands(target, &parsed.commands, depth, report)
}

fn run_commands(
    target: &mut impl Target,
    commands: &[ScriptCommand],
    depth: usize,
    report: &mut ImportReport,
) -> Result<(), Failure> {
    for c in commands {
        match &c.kind {
            CommandKind::Menu(m) => {
                let menu = m.path.join("/");
                let at_line = |f: Failure| {
                    Failure::new(
                        f.category,
                        format!("{} ({}; line {})", f.message, m.api_path(), c.line),
                    )
                };
                if menu == "system/script" && m.verb == "run" {
                    run_script(target, m, depth, report).map_err(at_line)?;
                    report.executed += 1;
                    continue;
                }
                if target.command(&menu, m).map_err(at_line)? {
                    report.executed += 1;
                } else {
                    report.skipped += 1;
                }
            }
            CommandKind::Block(b) => run_commands(target, &b.body, depth, report)?,
            _ => report.skipped += 1,
        }
    }
    Ok(())
}

/// `/system script run NAME`: the script's source, run on the same target.
fn run_script(
    target: &mut impl Target,
    m: &MenuCommand,
    depth: usize,
    report: &mut ImportReport,
) -> Result<(), Failure> {
    let name = match (&m.selector, m.arg("number")) {
        (Some(Selector::Value(v)), _) | (_, Some(v)) => v.literal(),
        _ => None,
    }
    .ok_or_else(|| Failure::new(Some(1), "no such item"))?;
    if depth >= MAX_DEPTH {
        return Err(Failure::new(
            Some(1),
            "scripts nested too deep (a script that runs itself?)",
        ));
    }
    let source = target
        .script_source(&name)
        .ok_or_else(|| Failure::new(Some(1), "no such item"))?;
    run_text(target, &source, depth + 1, report)
}

/// Named arguments with plain values; anything computed (`$var`, `[...]`)
/// is beyond the model and refused, like a router refusing a bad value.
fn attrs(m: &MenuCommand) -> Result<Vec<(String, Vec<u8>)>, Failure> {
    m.args
        .iter()
        .filter_map(|a| match a {
            Arg::Named { name, value } => Some((name, value)),
            _ => None,
        })
        .map(|(name, value)| {
            value.literal().map(|v| (name.clone(), v)).ok_or_else(|| {
                Failure::new(
                    Some(1),
                    format!("value of {name} is computed; the simulator only imports plain values"),
                )
            })
        })
        .collect()
}

/// The `.id`s a selector names in `menu`.
fn resolve(menu: &Menu, selector: &Option<Selector>) -> Result<Option<Vec<u8>>, Failure> {
    let ids: Vec<String> = match selector {
        None => return Ok(None),
        Some(Selector::Id(id)) => vec![id.clone()],
        Some(Selector::Number(n)) => menu
            .items
            .get(*n as usize)
            .and_then(|i| i.id())
            .into_iter()
            .collect(),
        Some(Selector::Find(find)) => {
            let eqs = find.equalities().ok_or_else(|| {
                Failure::new(Some(1), "find with an expression is beyond the simulator")
            })?;
            menu.items
                .iter()
                .filter(|i| eqs.iter().all(|(k, v)| i.get(k) == Some(v.as_slice())))
                .filter_map(|i| i.id())
                .collect()
        }
        Some(Selector::Value(v)) => {
            let name = v
                .literal()
                .ok_or_else(|| Failure::new(Some(1), "no such item"))?;
            menu.items
                .iter()
                .filter(|i| i.get("name") == Some(name.as_slice()))
                .filter_map(|i| i.id())
                .collect()
        }
    };
    if ids.is_empty() {
        return Err(Failure::new(Some(1), "no such item"));
    }
    Ok(Some(ids.join(",").into_bytes()))
}

fn apply(config: &mut Config, menu_path: &str, m: &MenuCommand) -> Result<(), Failure> {
    let mut args = attrs(m)?;
    check_references(config, menu_path, &args)?;
    let menu = config.get_mut(menu_path).expect("checked by the caller");
    match m.verb.as_str() {
        "add" => model::add(menu, args).map(|_| ()),
        "set" | "enable" | "disable" => {
            if m.verb != "set" {
                args.push((
                    "disabled".into(),
                    if m.verb == "disable" {
                        b"yes".to_vec()
                    } else {
                        b"no".to_vec()
                    },
                ));
            }
            let ids = resolve(menu, &m.selector)?;
            if ids.is_none() && menu.kind == MenuKind::Table {
                return Err(Failure::new(Some(1), "no such item"));
            }
            model::set(menu, ids.as_deref(), args)
        }
        "remove" => {
            let ids =
                resolve(menu, &m.selector)?.ok_or_else(|| Failure::new(Some(1), "no such item"))?;
            model::remove(menu, &ids)
        }
        // print, export, find …: nothing to change.
        _ => Ok(()),
    }
}
