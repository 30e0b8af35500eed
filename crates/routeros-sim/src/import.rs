//! `/import`: runs an uploaded RouterOS script against the configuration
//! model, line by line, stopping at the first failing line and keeping
//! everything before it (RouterOS imports are not transactional).
//!
//! Menu commands on the menus the simulator models are executed; lines for
//! menus it does not model, and scripting (`:global`, `:if`, …), are
//! accepted without effect and counted, so real exports import cleanly.

use routeros_proto::script::{self, Arg, CommandKind, MenuCommand, ScriptCommand, Selector};

use crate::{
    device::check_references,
    model::{self, Config, Failure, Menu, MenuKind},
};

/// What an import did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ImportReport {
    pub executed: usize,
    pub skipped: usize,
}

/// Parses and runs `text` on `config`. Errors carry RouterOS's wording:
/// `failure: … (/ip/address/add; line 4)` or `Script Error: syntax error
/// (line 4 column 10)`.
pub(crate) fn run(config: &mut Config, text: &[u8]) -> Result<ImportReport, Failure> {
    let parsed = script::parse(text).map_err(|e| {
        Failure::new(
            Some(3),
            format!(
                "Script Error: syntax error (line {} column {}): {}",
                e.line, e.column, e.message
            ),
        )
    })?;
    let mut report = ImportReport::default();
    run_commands(config, &parsed.commands, &mut report)?;
    Ok(report)
}

fn run_commands(
    config: &mut Config,
    commands: &[ScriptCommand],
    report: &mut ImportReport,
) -> Result<(), Failure> {
    for c in commands {
        match &c.kind {
            CommandKind::Menu(m) => {
                let menu = m.path.join("/");
                if !config.contains_key(&menu) {
                    report.skipped += 1;
                    continue;
                }
                apply(config, &menu, m).map_err(|f| {
                    Failure::new(
                        f.category,
                        format!("{} ({}; line {})", f.message, m.api_path(), c.line),
                    )
                })?;
                report.executed += 1;
            }
            CommandKind::Block(b) => run_commands(config, &b.body, report)?,
            _ => report.skipped += 1,
        }
    }
    Ok(())
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
