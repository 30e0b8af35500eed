//! Running a plan on a router: each menu read once and kept current,
//! only what differs written, a dry run that writes nothing.

use std::collections::BTreeMap;

use routeros::{Client, Command};
use serde::Serialize;

use super::{names, same, shown, Action, Plan, Props, Step, FLAG, UNSET};

/// What a step did on the router.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase", tag = "outcome")]
pub enum Outcome {
    Added {
        id: String,
    },
    Changed {
        items: usize,
        properties: Vec<String>,
    },
    Unchanged,
    Removed {
        items: usize,
    },
    Ran,
    /// Would change these properties (dry run).
    WouldChange {
        properties: Vec<String>,
    },
    WouldAdd,
    WouldRemove {
        items: usize,
    },
    /// A command the plan sends as it is (dry run: not sent).
    WouldRun,
    /// The router ran the uploaded script; `output` is what `/import`
    /// said.
    Imported {
        output: String,
    },
    /// Dry run of an import: `checked` when the router parsed it with
    /// `/import dry-run=` (RouterOS 7.16+); older versions cannot check a
    /// script without running it.
    WouldImport {
        checked: bool,
        output: String,
    },
    Failed {
        message: String,
        /// The connection was lost or the router did not answer: whether
        /// the step took effect is not known (a trap is `false`: the router
        /// said no).
        #[serde(default)]
        lost: bool,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct StepReport {
    pub line: u32,
    pub outcome: Outcome,
    /// The item a step that named it by position (`set 0`) resolved to on
    /// this router, e.g. `item 0 of /system/logging: *1 (topics=info)`:
    /// what the preview shows before anything is written.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub item: Option<String>,
}

/// `cmd` with `props` as attributes: a flag with an empty value, an unset
/// left out (see [`write`]).
fn with_props(mut cmd: Command, props: &Props) -> Command {
    for (k, v) in props {
        match v.as_slice() {
            UNSET => {}
            FLAG => cmd = cmd.attr(k, ""),
            _ => cmd = cmd.attr(k, v),
        }
    }
    cmd
}

/// Writes `diff` to the item `id` of `menu` (the menu itself for a
/// singleton): one `set` with the values, then one `unset` per property
/// to clear.
async fn write(
    client: &Client,
    menu: &str,
    id: Option<&str>,
    diff: &Props,
) -> Result<(), routeros::Error> {
    let with_id = |cmd: Command| match id {
        Some(id) => cmd.attr(".id", id),
        None => cmd,
    };
    if diff.iter().any(|(_, v)| v.as_slice() != UNSET) {
        client
            .run(&with_props(
                with_id(Command::new(format!("{menu}/set"))),
                diff,
            ))
            .await?;
    }
    for (k, _) in diff.iter().filter(|(_, v)| v.as_slice() == UNSET) {
        let cmd = match id {
            Some(id) => Command::new(format!("{menu}/unset")).attr("numbers", id),
            None => Command::new(format!("{menu}/unset")),
        };
        client.run(&cmd.attr("value-name", k)).await?;
    }
    Ok(())
}

/// Runs the plan step by step; stops at the first failure, which carries
/// the router's own message. With `dry_run` nothing is written: the report
/// says what would change.
///
/// Each menu is read once (with every property the plan names) and that
/// copy is kept current as steps add, change and remove items, so a
/// 200-step plan costs about 200 writes, not 200 reads and 200 writes.
pub async fn apply(client: &Client, plan: &Plan, dry_run: bool) -> Vec<StepReport> {
    let mut applier = Applier::new(plan);
    let mut reports = Vec::new();
    for step in &plan.steps {
        let r = applier.step(client, step, dry_run).await;
        let failed = matches!(r.outcome, Outcome::Failed { .. });
        reports.push(r);
        if failed {
            break;
        }
    }
    reports
}

/// Runs a plan's steps one at a time (for progress reports between them),
/// sharing one read of each menu.
pub struct Applier {
    cache: MenuCache,
}

impl Applier {
    pub fn new(plan: &Plan) -> Self {
        Self {
            cache: MenuCache::for_plan(plan),
        }
    }

    pub async fn step(&mut self, client: &Client, step: &Step, dry_run: bool) -> StepReport {
        let outcome = match run_step(client, &mut self.cache, &step.action, dry_run).await {
            Ok(o) => o,
            Err(e) => Outcome::Failed {
                message: with_id_hint(e.to_string(), &step.action),
                lost: e.leaves_outcome_unknown(),
            },
        };
        StepReport {
            line: step.line,
            outcome,
            item: self.cache.resolved.take(),
        }
    }
}

/// A refused step that names something by an internal id (`interface=*E`,
/// which an export prints for an interface since removed, or a dynamic
/// one) is explained: such an id belongs to the router the export was
/// taken from.
fn with_id_hint(message: String, action: &Action) -> String {
    let props: Vec<&Props> = match action {
        Action::FindOrAdd { props, .. }
        | Action::SetSingleton { props, .. }
        | Action::SetItems { props, .. }
        | Action::SetPosition { props, .. }
        | Action::Run { props, .. } => vec![props],
        _ => Vec::new(),
    };
    let is_id = |v: &[u8]| v.len() > 1 && v[0] == b'*' && v[1..].iter().all(u8::is_ascii_hexdigit);
    match props
        .into_iter()
        .flatten()
        .find(|(k, v)| k != ".id" && is_id(v))
    {
        Some((k, v)) => format!(
            "{message} ({k}={} is an internal id from the router the text was exported from, an item since removed or a dynamic one; it names nothing on another router: write the item's name, or leave the line out)",
            String::from_utf8_lossy(v)
        ),
        None => message,
    }
}

/// One item as read from the router: property → value.
type Item = BTreeMap<String, Vec<u8>>;

/// The plan's menus as read from the router, kept current by the steps.
struct MenuCache {
    /// Properties the plan reads or writes, per menu.
    wanted: BTreeMap<String, Vec<String>>,
    items: BTreeMap<String, Vec<Item>>,
    /// Per menu, the ids of items an `add` of this run already stands
    /// for: two identical lines (two `add topics=info` in
    /// `/system logging`) are two items, and a key that also fits an item
    /// an earlier line made does not find that one.
    claimed: BTreeMap<String, Vec<String>>,
    /// What the last positional step resolved to, for its report.
    resolved: Option<String>,
}

impl MenuCache {
    fn for_plan(plan: &Plan) -> Self {
        let mut wanted: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for s in &plan.steps {
            let (menu, props): (&str, Vec<&Props>) = match &s.action {
                Action::FindOrAdd { menu, key, props } => (menu, vec![key, props]),
                Action::SetSingleton { menu, props } => (menu, vec![props]),
                Action::SetItems { menu, find, props } => (menu, vec![find, props]),
                Action::SetPosition { menu, props, .. } => {
                    // Its name, where items have one, tells which item a
                    // position is.
                    let w = wanted.entry(menu.to_owned()).or_default();
                    if !w.iter().any(|n| n == "name") {
                        w.push("name".into());
                    }
                    (menu, vec![props])
                }
                Action::Remove { menu, find } => (menu, vec![find]),
                Action::Run { .. } | Action::Import { .. } => continue,
            };
            let w = wanted.entry(menu.to_owned()).or_default();
            for (n, _) in props.into_iter().flatten() {
                if !w.contains(n) {
                    w.push(n.clone());
                }
            }
        }
        Self {
            wanted,
            items: BTreeMap::new(),
            claimed: BTreeMap::new(),
            resolved: None,
        }
    }

    async fn menu(
        &mut self,
        client: &Client,
        menu: &str,
    ) -> Result<&mut Vec<Item>, routeros::Error> {
        if !self.items.contains_key(menu) {
            let mut names = vec![".id".to_owned()];
            names.extend(self.wanted.get(menu).cloned().unwrap_or_default());
            let rows = client
                .run(&Command::new(format!("{menu}/print")).proplist(&names))
                .await?;
            let items = rows
                .rows
                .iter()
                .map(|r| r.iter().map(|(k, v)| (k.to_owned(), v.to_vec())).collect())
                .collect();
            self.items.insert(menu.to_owned(), items);
        }
        Ok(self.items.get_mut(menu).expect("inserted above"))
    }

    /// A command with effects the plan does not model: read again.
    fn forget(&mut self) {
        self.items.clear();
    }

    fn claim(&mut self, menu: &str, id: String) {
        self.claimed.entry(menu.to_owned()).or_default().push(id);
    }
}

fn matches(item: &Item, find: &Props) -> bool {
    find.iter()
        .all(|(k, v)| same(item.get(k).map(Vec::as_slice), v))
}

/// The properties of `props` whose current value differs.
fn differing(item: &Item, props: &Props) -> Props {
    props
        .iter()
        .filter(|(k, v)| !same(item.get(k).map(Vec::as_slice), v))
        .cloned()
        .collect()
}

/// An item as the router lists it: its id and the values it has now of
/// the properties a step sets (what tells a technician which one it is).
fn describe(item: &Item, props: &Props) -> String {
    let now: Vec<String> = std::iter::once("name")
        .chain(
            props
                .iter()
                .map(|(k, _)| k.as_str())
                .filter(|k| *k != "name"),
        )
        .filter_map(|k| {
            item.get(k)
                .map(|v| format!("{k}={}", String::from_utf8_lossy(v)))
        })
        .collect();
    if now.is_empty() {
        id_of(item)
    } else {
        format!("{} ({})", id_of(item), now.join(" "))
    }
}

fn id_of(item: &Item) -> String {
    item.get(".id")
        .map(|v| String::from_utf8_lossy(v).into_owned())
        .unwrap_or_default()
}

async fn run_step(
    client: &Client,
    cache: &mut MenuCache,
    action: &Action,
    dry_run: bool,
) -> Result<Outcome, routeros::Error> {
    Ok(match action {
        Action::FindOrAdd { menu, key, props } => {
            let claimed = cache.claimed.get(menu).cloned().unwrap_or_default();
            let items = cache.menu(client, menu).await?;
            let found = items
                .iter()
                .position(|i| matches(i, key) && !claimed.contains(&id_of(i)));
            match found {
                Some(at) => {
                    let item = &mut items[at];
                    let id = id_of(item);
                    let diff = differing(item, props);
                    let outcome = if diff.is_empty() {
                        Outcome::Unchanged
                    } else if dry_run {
                        item.extend(diff.iter().cloned());
                        Outcome::WouldChange {
                            properties: names(&diff),
                        }
                    } else {
                        write(client, menu, Some(&id), &diff).await?;
                        item.extend(diff.iter().cloned());
                        Outcome::Changed {
                            items: 1,
                            properties: names(&diff),
                        }
                    };
                    cache.claim(menu, id);
                    outcome
                }
                None if dry_run => {
                    // Kept in the copy so later steps see it, as they will
                    // on the router.
                    let id = format!("(new {})", items.len());
                    let mut item: Item = props.iter().cloned().collect();
                    item.insert(".id".into(), id.clone().into_bytes());
                    items.push(item);
                    cache.claim(menu, id);
                    Outcome::WouldAdd
                }
                None => {
                    let r = client
                        .run(&with_props(Command::new(format!("{menu}/add")), props))
                        .await?;
                    let id = r
                        .done
                        .get("ret")
                        .map(|s| s.into_owned())
                        .unwrap_or_default();
                    let mut item: Item = props.iter().cloned().collect();
                    item.insert(".id".into(), id.clone().into_bytes());
                    cache.menu(client, menu).await?.push(item);
                    cache.claim(menu, id.clone());
                    Outcome::Added { id }
                }
            }
        }
        Action::SetSingleton { menu, props } => {
            let items = cache.menu(client, menu).await?;
            // No row: the router lists none of these properties (a
            // singleton whose asked-for values are all unset).
            let diff = differing(items.first().unwrap_or(&Item::new()), props);
            if diff.is_empty() {
                Outcome::Unchanged
            } else {
                if !dry_run {
                    write(client, menu, None, &diff).await?;
                }
                match items.first_mut() {
                    Some(item) => item.extend(diff.iter().cloned()),
                    None => items.push(diff.iter().cloned().collect()),
                }
                if dry_run {
                    return Ok(Outcome::WouldChange {
                        properties: names(&diff),
                    });
                }
                Outcome::Changed {
                    items: 1,
                    properties: names(&diff),
                }
            }
        }
        Action::SetItems { menu, find, props } => {
            let items = cache.menu(client, menu).await?;
            let matching: Vec<usize> = (0..items.len())
                .filter(|&i| matches(&items[i], find))
                .collect();
            if matching.is_empty() {
                return Ok(Outcome::Failed {
                    message: format!(
                        "no item in {menu} matches {}",
                        find.iter()
                            .map(|(k, v)| format!("{k}={}", shown(v)))
                            .collect::<Vec<_>>()
                            .join(" ")
                    ),
                    lost: false,
                });
            }
            let mut changed = 0;
            let mut props_changed: BTreeMap<String, ()> = BTreeMap::new();
            for i in matching {
                let diff = differing(&items[i], props);
                if diff.is_empty() {
                    continue;
                }
                changed += 1;
                props_changed.extend(diff.iter().map(|(n, _)| (n.clone(), ())));
                if !dry_run {
                    write(client, menu, Some(&id_of(&items[i])), &diff).await?;
                }
                items[i].extend(diff.iter().cloned());
            }
            let properties: Vec<String> = props_changed.into_keys().collect();
            match (changed, dry_run) {
                (0, _) => Outcome::Unchanged,
                (_, true) => Outcome::WouldChange { properties },
                (items, false) => Outcome::Changed { items, properties },
            }
        }
        Action::SetPosition {
            menu,
            position,
            props,
        } => {
            let items = cache.menu(client, menu).await?;
            let Some(item) = items.get_mut(*position as usize) else {
                return Ok(Outcome::Failed {
                    message: format!(
                        "item {position} of {menu} is not there: this router lists {} item(s) in {menu} (a position counts from 0 in the router's own listing, as its export prints it)",
                        items.len()
                    ),
                    lost: false,
                });
            };
            let described = describe(item, props);
            let diff = differing(item, props);
            cache.resolved = Some(format!("item {position} of {menu}: {described}"));
            let items = cache.menu(client, menu).await?;
            let item = &mut items[*position as usize];
            if diff.is_empty() {
                Outcome::Unchanged
            } else {
                if !dry_run {
                    write(client, menu, Some(&id_of(item)), &diff).await?;
                }
                item.extend(diff.iter().cloned());
                if dry_run {
                    Outcome::WouldChange {
                        properties: names(&diff),
                    }
                } else {
                    Outcome::Changed {
                        items: 1,
                        properties: names(&diff),
                    }
                }
            }
        }
        Action::Remove { menu, find } => {
            let items = cache.menu(client, menu).await?;
            let ids: Vec<String> = items
                .iter()
                .filter(|i| matches(i, find))
                .map(id_of)
                .collect();
            if ids.is_empty() {
                Outcome::Unchanged
            } else {
                if !dry_run {
                    client
                        .run(&Command::new(format!("{menu}/remove")).attr(".id", ids.join(",")))
                        .await?;
                }
                items.retain(|i| !matches(i, find));
                if dry_run {
                    Outcome::WouldRemove { items: ids.len() }
                } else {
                    Outcome::Removed { items: ids.len() }
                }
            }
        }
        Action::Import { file, script } => {
            if dry_run && client.version().await? < routeros::Version(7, 16, 0) {
                return Ok(Outcome::WouldImport {
                    checked: false,
                    output: "this RouterOS version has no /import dry-run: the script is checked only when it runs".into(),
                });
            }
            client.upload_file(file, script.as_bytes()).await?;
            let result = client.import_file(file, dry_run).await;
            let _ = client
                .run(&Command::new("/file/remove").attr("numbers", file.as_str()))
                .await;
            let output = result?;
            if dry_run {
                Outcome::WouldImport {
                    checked: true,
                    output,
                }
            } else {
                cache.forget();
                Outcome::Imported { output }
            }
        }
        Action::Run { .. } if dry_run => Outcome::WouldRun,
        Action::Run { path, props } => {
            client
                .run(&with_props(Command::new(path.clone()), props))
                .await?;
            cache.forget();
            Outcome::Ran
        }
    })
}
