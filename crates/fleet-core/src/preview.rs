//! Preview: what a push would do to one router, before it does it.
//!
//! A preview holds the rendered script (secrets masked), the plan, the dry
//! run of that plan against the router's live state (the very steps and
//! decisions the push then executes), and a diff against the router's
//! current export, normalised as ROUTEROS.md §4.4 says: header comments
//! dropped, continuations joined, one command per line with its full menu
//! path. The "after" side is the same export with the dry run's changes
//! applied (only what the dry run says will change), so the diff shows
//! exactly the lines the push adds, changes and removes.
//!
//! An export lists only non-default values, so a property set to a value
//! the router already has by default shows up as an added `set` line; the
//! dry run (read over the API) is the authority on what changes.

use std::collections::BTreeMap;

use fleet_store::FleetStore;
use routeros::Client;
use routeros_proto::script::{self, Arg, CommandKind, Find, MenuCommand, Selector, Value};
use serde::Serialize;

use crate::{
    bulk,
    plan::{self, Action, Outcome, Plan, StepReport},
    template::{mask_secrets, Template, TemplateError},
    FleetError,
};

type Props = Vec<(String, Vec<u8>)>;

/// Everything the technician reviews before a push.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct Preview {
    /// The rendered script, secrets masked.
    pub rendered: String,
    pub plan: Plan,
    /// The dry run: each step's decision on this router's current state.
    pub steps: Vec<StepReport>,
    /// How many steps would change the router.
    pub changes: usize,
    /// The router's export, normalised.
    pub before: String,
    /// The same with the dry run's changes applied.
    pub after: String,
    /// A unified diff of `before` → `after` (empty: nothing changes).
    pub diff: String,
    /// What the diff cannot show.
    pub notes: Vec<String>,
}

/// A template previewed on one router: the template's value errors (line
/// and column; no preview then), or the preview.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct TemplatePreview {
    pub errors: Vec<TemplateError>,
    pub preview: Option<Preview>,
}

/// Previews `template` on the router behind `client`, the one use case
/// both front ends run: rendered with the router's facts and its site's
/// (`router.*`, `site.*`; `device_id` is the router's inventory id when it
/// has one) under the user's `values`, compiled to a plan (or one
/// upload-and-`/import` step with `import`), dry-run and diffed. Writes
/// nothing.
pub async fn template_on_router(
    store: &FleetStore,
    client: &Client,
    device_id: Option<&str>,
    template: &Template,
    values: &BTreeMap<String, String>,
    import: bool,
) -> Result<TemplatePreview, FleetError> {
    let values = bulk::router_values(store, client, device_id, values).await?;
    let rendered = match template.render(&values) {
        Ok(r) => r,
        Err(errors) => {
            return Ok(TemplatePreview {
                errors,
                preview: None,
            })
        }
    };
    let compile = |text: &str| {
        if import {
            Ok(plan::import_plan(text))
        } else {
            plan::compile(text).map_err(|e| {
                FleetError::InvalidInput(format!(
                    "{e}. Send it as one /import (\"send as one /import\" in the app, --import in the CLI) to let the router run it as it is"
                ))
            })
        }
    };
    let plan = compile(&rendered.text)?;
    let mut p = preview(client, &rendered.preview, &plan).await?;
    // What is shown never holds a secret: the plan as compiled from the
    // masked text (the same steps), the export and diff masked.
    if !rendered.secrets.is_empty() {
        p.plan = compile(&rendered.preview)?;
        for text in [&mut p.before, &mut p.after, &mut p.diff] {
            *text = mask_secrets(text, &rendered.secrets);
        }
    }
    Ok(TemplatePreview {
        errors: Vec::new(),
        preview: Some(p),
    })
}

/// Reads the router's export and dry-runs `plan` on it. `rendered` is the
/// text shown to the user (the masked preview of a rendered template).
pub async fn preview(client: &Client, rendered: &str, plan: &Plan) -> Result<Preview, FleetError> {
    let export = client
        .export_text(routeros::ExportMethod::Auto)
        .await
        .map_err(FleetError::Router)?;
    let steps = plan::apply(client, plan, true).await;
    if let Some(failed) = steps.iter().find_map(|s| match &s.outcome {
        Outcome::Failed { message, .. } => Some((s.line, message.clone())),
        _ => None,
    }) {
        return Err(FleetError::InvalidInput(format!(
            "line {}: {}; the preview stops here, and so would the push",
            failed.0, failed.1
        )));
    }
    let (before, after) = export_before_after(&export, plan, &steps)?;
    let changes = steps
        .iter()
        .filter(|s| !matches!(s.outcome, Outcome::Unchanged))
        .count();
    let notes = plan
        .steps
        .iter()
        .filter(|s| matches!(s.action, Action::Import { .. }))
        .map(|s| {
            format!(
                "line {}: the script is run by the router's /import; what it changes is known only after it runs, so the diff does not show it",
                s.line
            )
        })
        .collect();
    Ok(Preview {
        notes,
        rendered: rendered.to_owned(),
        plan: plan.clone(),
        diff: unified_diff(&before, &after),
        steps,
        changes,
        before,
        after,
    })
}

/// The export's commands, one per line with full paths (§4.4
/// normalisation: the header and comments dropped, continuations joined).
pub fn normalise_export(export: &[u8]) -> Result<String, FleetError> {
    let parsed = script::parse(export).map_err(|e| {
        FleetError::UnexpectedReply(format!("the router's export does not parse: {e}"))
    })?;
    script::Script {
        commands: menu_commands(&parsed.commands)
            .into_iter()
            .map(|m| script::ScriptCommand {
                line: 0,
                kind: CommandKind::Menu(m),
            })
            .collect(),
    }
    .to_text()
    .map_err(|e| FleetError::UnexpectedReply(format!("the export cannot be shown as text: {e}")))
}

/// Normalised `before`, and `after` = before with the dry run's decisions
/// applied. `steps` are the dry-run reports of `plan`, in order.
pub fn export_before_after(
    export: &[u8],
    plan: &Plan,
    steps: &[StepReport],
) -> Result<(String, String), FleetError> {
    let before = normalise_export(export)?;
    let parsed = script::parse(before.as_bytes())
        .map_err(|e| FleetError::UnexpectedReply(format!("normalised export: {e}")))?;
    let mut model = menu_commands(&parsed.commands);
    for (step, report) in plan.steps.iter().zip(steps) {
        apply_to_export(&mut model, &step.action, &report.outcome);
    }
    let after = script::Script {
        commands: model
            .into_iter()
            .map(|m| script::ScriptCommand {
                line: 0,
                kind: CommandKind::Menu(m),
            })
            .collect(),
    }
    .to_text()
    .map_err(|e| FleetError::UnexpectedReply(format!("the export cannot be shown as text: {e}")))?;
    Ok((before, after))
}

/// A unified diff with two lines of context; empty when equal.
pub fn unified_diff(before: &str, after: &str) -> String {
    labeled_diff(before, after, "router export", "after the push")
}

/// [`unified_diff`] with the two sides named.
pub fn labeled_diff(before: &str, after: &str, before_label: &str, after_label: &str) -> String {
    if before == after {
        return String::new();
    }
    similar::TextDiff::from_lines(before, after)
        .unified_diff()
        .context_radius(2)
        .header(before_label, after_label)
        .to_string()
}

/// Top-level menu commands, blocks flattened.
fn menu_commands(commands: &[script::ScriptCommand]) -> Vec<MenuCommand> {
    let mut out = Vec::new();
    for c in commands {
        match &c.kind {
            CommandKind::Menu(m) => out.push(m.clone()),
            CommandKind::Block(b) => out.extend(menu_commands(&b.body)),
            _ => {}
        }
    }
    out
}

fn menu_of(m: &MenuCommand) -> String {
    format!("/{}", m.path.join("/"))
}

fn literal(m: &MenuCommand, name: &str) -> Option<Vec<u8>> {
    m.args.iter().find_map(|a| match a {
        Arg::Named { name: n, value } if n == name => value.literal(),
        _ => None,
    })
}

/// Whether an exported `add` line is the item `find` names.
fn add_matches(m: &MenuCommand, find: &Props) -> bool {
    m.verb == "add"
        && find
            .iter()
            .all(|(k, v)| literal(m, k).as_deref() == Some(v.as_slice()))
}

/// Whether an exported `set [ find … ]` / `set name` line addresses `find`.
fn set_matches(m: &MenuCommand, find: &Props) -> bool {
    if m.verb != "set" {
        return false;
    }
    match &m.selector {
        Some(Selector::Find(f)) => f.equalities().as_ref() == Some(find),
        Some(Selector::Value(v)) => {
            find.len() == 1 && find[0].0 == "name" && v.literal().as_ref() == Some(&find[0].1)
        }
        _ => false,
    }
}

fn merge(m: &mut MenuCommand, props: &Props, only: Option<&[String]>) {
    for (k, v) in props {
        if only.is_some_and(|o| !o.contains(k)) {
            continue;
        }
        // What the line said of `k` (`k=…`, `k`, `!k`) is replaced in
        // place; a new property goes at the end.
        let unset = format!("!{k}");
        let says_k = |a: &Arg| match a {
            Arg::Named { name, .. } => name == k,
            Arg::Positional(p) => p
                .literal()
                .is_some_and(|b| b == k.as_bytes() || b == unset.as_bytes()),
            Arg::Where(_) => false,
        };
        let new = named(&vec![(k.clone(), v.clone())]).remove(0);
        match m.args.iter().position(says_k) {
            Some(i) => m.args[i] = new,
            None => m.args.push(new),
        }
    }
}

/// `props` as script arguments, a flag bare and an unset as `!name`, as
/// an export writes them.
fn named(props: &Props) -> Vec<Arg> {
    props
        .iter()
        .map(|(k, v)| match v.as_slice() {
            crate::plan::FLAG => Arg::Positional(Value::Bare(k.clone().into_bytes())),
            crate::plan::UNSET => Arg::Positional(Value::Bare(format!("!{k}").into_bytes())),
            _ => Arg::Named {
                name: k.clone(),
                value: Value::text(v.clone()),
            },
        })
        .collect()
}

fn new_command(menu: &str, verb: &str, selector: Option<Selector>, args: Vec<Arg>) -> MenuCommand {
    MenuCommand {
        path: menu
            .trim_start_matches('/')
            .split('/')
            .map(str::to_owned)
            .collect(),
        verb: verb.to_owned(),
        selector,
        args,
    }
}

/// Inserts after the last command of the same menu, else at the end, as an
/// export groups a menu's lines.
fn insert_in_menu(model: &mut Vec<MenuCommand>, cmd: MenuCommand) {
    let menu = menu_of(&cmd);
    match model.iter().rposition(|m| menu_of(m) == menu) {
        Some(i) => model.insert(i + 1, cmd),
        None => model.push(cmd),
    }
}

fn apply_to_export(model: &mut Vec<MenuCommand>, action: &Action, outcome: &Outcome) {
    let only = match outcome {
        Outcome::Unchanged | Outcome::Failed { .. } => return,
        Outcome::WouldChange { properties } | Outcome::Changed { properties, .. } => {
            Some(properties.as_slice())
        }
        _ => None,
    };
    match action {
        Action::FindOrAdd { menu, key, props } => {
            let found = model
                .iter_mut()
                .find(|m| &menu_of(m) == menu && add_matches(m, key));
            match (found, outcome) {
                (Some(m), _) => merge(m, props, only),
                (None, Outcome::WouldAdd | Outcome::Added { .. }) => {
                    insert_in_menu(model, new_command(menu, "add", None, named(props)))
                }
                // An item the export does not list (a default one): the
                // change shows as a set on it.
                (None, _) => insert_in_menu(
                    model,
                    new_command(
                        menu,
                        "set",
                        Some(find_selector(key)),
                        named(&filter(props, only)),
                    ),
                ),
            }
        }
        Action::SetSingleton { menu, props } => {
            match model
                .iter_mut()
                .find(|m| &menu_of(m) == menu && m.verb == "set" && m.selector.is_none())
            {
                Some(m) => merge(m, props, only),
                None => insert_in_menu(
                    model,
                    new_command(menu, "set", None, named(&filter(props, only))),
                ),
            }
        }
        Action::SetItems { menu, find, props } => {
            let mut hit = false;
            for m in model
                .iter_mut()
                .filter(|m| &menu_of(m) == menu && (add_matches(m, find) || set_matches(m, find)))
            {
                merge(m, props, only);
                hit = true;
            }
            if !hit {
                insert_in_menu(
                    model,
                    new_command(
                        menu,
                        "set",
                        Some(find_selector(find)),
                        named(&filter(props, only)),
                    ),
                );
            }
        }
        Action::SetPosition {
            menu,
            position,
            props,
        } => {
            let at = |m: &MenuCommand| {
                &menu_of(m) == menu
                    && m.verb == "set"
                    && matches!(m.selector, Some(Selector::Number(n)) if n == *position)
            };
            match model.iter_mut().find(|m| at(m)) {
                Some(m) => merge(m, props, only),
                None => insert_in_menu(
                    model,
                    new_command(
                        menu,
                        "set",
                        Some(Selector::Number(*position)),
                        named(&filter(props, only)),
                    ),
                ),
            }
        }
        Action::Remove { menu, find } => {
            model.retain(|m| !(&menu_of(m) == menu && add_matches(m, find)));
        }
        // Its effect is known only once the router has run it.
        Action::Import { .. } => {}
        Action::Run { path, props } => {
            let (menu, verb) = path.rsplit_once('/').unwrap_or(("", path));
            let mut props = props.clone();
            let selector = match props.first() {
                Some((n, _)) if n == "numbers" => {
                    Some(Selector::Value(Value::text(props.remove(0).1)))
                }
                _ => None,
            };
            model.push(new_command(menu, verb, selector, named(&props)));
        }
    }
}

fn filter(props: &Props, only: Option<&[String]>) -> Props {
    props
        .iter()
        .filter(|(k, _)| only.is_none_or(|o| o.contains(k)))
        .cloned()
        .collect()
}

fn find_selector(find: &Props) -> Selector {
    Selector::Find(Find { args: named(find) })
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXPORT: &str = "# 2025-03-11 12:00:00 by RouterOS 7.18.2\n# software id = AB12-CD34\n#\n/interface bridge\nadd comment=\"old lan\" \\\n    name=bridge1\n/ip address\nadd address=10.0.0.1/24 interface=bridge1\n/system identity\nset name=MikroTik\n";

    #[test]
    fn normalising_drops_the_header_and_joins_continuations() {
        let n = normalise_export(EXPORT.as_bytes()).unwrap();
        assert_eq!(
            n,
            "/interface bridge add comment=\"old lan\" name=bridge1\n/ip address add address=10.0.0.1/24 interface=bridge1\n/system identity set name=MikroTik\n"
        );
    }

    #[test]
    fn the_diff_shows_only_what_the_dry_run_changes() {
        let plan = plan::compile(
            "/system identity set name=core-1\n/interface bridge add name=bridge1 comment=\"old lan\"\n/ip address add address=192.168.88.1/24 interface=bridge1\n/ip address remove [ find address=10.0.0.1/24 ]\n",
        )
        .unwrap();
        let steps = [
            Outcome::WouldChange {
                properties: vec!["name".into()],
            },
            Outcome::Unchanged,
            Outcome::WouldAdd,
            Outcome::WouldRemove { items: 1 },
        ]
        .into_iter()
        .zip(&plan.steps)
        .map(|(outcome, s)| StepReport {
            line: s.line,
            outcome,
            item: None,
        })
        .collect::<Vec<_>>();
        let (before, after) = export_before_after(EXPORT.as_bytes(), &plan, &steps).unwrap();
        let diff = unified_diff(&before, &after);
        let changed: Vec<&str> = diff
            .lines()
            .filter(|l| {
                (l.starts_with('+') || l.starts_with('-'))
                    && !l.starts_with("+++")
                    && !l.starts_with("---")
            })
            .collect();
        assert_eq!(
            changed,
            vec![
                "-/ip address add address=10.0.0.1/24 interface=bridge1",
                "-/system identity set name=MikroTik",
                "+/ip address add address=192.168.88.1/24 interface=bridge1",
                "+/system identity set name=core-1",
            ],
            "{diff}"
        );
        assert!(unified_diff(&before, &before).is_empty());
    }
}
