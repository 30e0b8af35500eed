//! `/import`: runs an uploaded RouterOS script against the configuration
//! model, line by line, stopping at the first failing line and keeping
//! everything before it (RouterOS imports are not transactional).
//!
//! Menu commands on the menus the simulator models are executed, and so
//! are `/system script run`, `/system backup save|load` and
//! `/system reboot` (the commands scheduler events use); lines for menus it
//! does not model, and scripting (`:global`, `:if`, `:log`, …), are
//! accepted without effect and counted, so real exports import cleanly.

use std::{collections::BTreeMap, sync::Arc};

use routeros_proto::script::{self, Arg, CommandKind, MenuCommand, ScriptCommand, Selector};

use crate::{
    device::{check_references, Device},
    model::{self, Address, Config, Failure, Item, Menu, MenuKind},
};

/// How deep `/system script run` may nest before the run is refused, as a
/// script that runs itself would otherwise never end.
const MAX_DEPTH: usize = 8;

/// A configuration being seeded from an export (see [`Mode`]).
pub(crate) struct Seeding<'a> {
    config: &'a mut Config,
    mode: Mode,
    /// Per menu, how many items the export has named so far: they are
    /// kept first, in the export's order.
    placed: BTreeMap<String, usize>,
}

impl<'a> Seeding<'a> {
    pub(crate) fn new(config: &'a mut Config, mode: Mode) -> Self {
        Self {
            config,
            mode,
            placed: BTreeMap::new(),
        }
    }
}

impl Target for Seeding<'_> {
    fn command(&mut self, menu: &str, m: &MenuCommand) -> Result<bool, Failure> {
        apply(self.config, menu, m, self.mode, Some(&mut self.placed))
    }

    fn script_source(&mut self, _name: &[u8]) -> Option<Vec<u8>> {
        // An export runs nothing.
        None
    }
}

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
        apply(self, menu, m, Mode::Import, None)
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
                let base = menu_of(menu);
                let before = if listening {
                    device.with_config(|c| c.get(base).map(|m| m.items.clone()))
                } else {
                    None
                };
                let done = device.with_config(|c| c.command(menu, m))?;
                if let Some(before) = before {
                    let after = device.items(base);
                    device.notify_items(base, &before, &after);
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

/// How a script treats the menus and items it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// `/import`: modelled menus are checked as a router checks them;
    /// menus the simulator does not model are kept as generic ones, and an
    /// item a selector names there is made, as the router would have had
    /// it.
    Import,
    /// The text is the router's configuration (an export it is seeded
    /// from): every item it names is made, references are trusted.
    Seed,
    /// Only what the router was made with: the menus the text names and
    /// the items its selectors name (ports, default profiles, positional
    /// items), without the text's properties.
    Factory,
}

/// One property a line gives.
enum Given {
    Value(String, Vec<u8>),
    /// `fib`: a flag written bare.
    Flag(String),
    /// `!keepalive`: not set.
    Unset(String),
}

/// What a line gives: named plain values, bare flags and `!unset`s;
/// anything computed (`$var`, `[...]`) is beyond the model and refused,
/// like a router refusing a bad value.
fn given(m: &MenuCommand) -> Result<Vec<Given>, Failure> {
    let mut out = Vec::new();
    for a in &m.expanded_args() {
        match a {
            Arg::Named { name, value } => {
                let v = value.literal().ok_or_else(|| {
                    Failure::new(
                        Some(1),
                        format!(
                            "value of {name} is computed; the simulator only imports plain values"
                        ),
                    )
                })?;
                out.push(Given::Value(name.clone(), v));
            }
            Arg::Positional(v) => match v.literal() {
                Some(b) if b.len() > 1 && b[0] == b'!' => {
                    out.push(Given::Unset(String::from_utf8_lossy(&b[1..]).into_owned()))
                }
                Some(b) if b.first().is_some_and(u8::is_ascii_lowercase) => {
                    out.push(Given::Flag(String::from_utf8_lossy(&b).into_owned()))
                }
                _ => return Err(Failure::new(Some(1), "expected end of command")),
            },
            Arg::Where(_) => return Err(Failure::new(Some(1), "expected end of command")),
        }
    }
    Ok(out)
}

/// The menu an export section's items live in: `/interface ethernet` is
/// the simulator's `interface` menu (its ports).
pub(crate) fn menu_of(section: &str) -> &str {
    match section {
        "interface/ethernet" => "interface",
        other => other,
    }
}

/// Runs one menu command of a script on a configuration.
/// `Ok(false)`: a command that changes nothing the simulator keeps.
pub(crate) fn apply(
    config: &mut Config,
    section: &str,
    m: &MenuCommand,
    mode: Mode,
    mut placed: Option<&mut BTreeMap<String, usize>>,
) -> Result<bool, Failure> {
    let verb = m.verb.as_str();
    if !matches!(verb, "add" | "set" | "remove" | "enable" | "disable") {
        // print, export, find …: nothing to change.
        return Ok(config.contains_key(menu_of(section)));
    }
    let menu_path = menu_of(section);
    if !config.contains_key(menu_path) {
        let kind = if verb == "set" && m.selector.is_none() && m.arg("numbers").is_none() {
            MenuKind::Singleton
        } else {
            MenuKind::Table
        };
        config.insert(menu_path.to_owned(), Menu::generic(kind));
        if mode == Mode::Import {
            config.note_section(section);
        }
    }
    let run = (mode != Mode::Import).then(|| config.note_run(section));
    if mode == Mode::Import && config.order.iter().any(|s| s == section) {
        config.last = Some(section.to_owned());
    }
    let mut given = given(m)?;
    match verb {
        "enable" => given.push(Given::Value("disabled".into(), b"no".to_vec())),
        "disable" => given.push(Given::Value("disabled".into(), b"yes".to_vec())),
        _ => {}
    }
    if mode == Mode::Import {
        let values: Vec<(String, Vec<u8>)> = given
            .iter()
            .filter_map(|g| match g {
                Given::Value(n, v) => Some((n.clone(), v.clone())),
                _ => None,
            })
            .collect();
        check_references(config, menu_path, &values)?;
    }
    if mode != Mode::Import {
        make_ports(config, &given);
    }
    let menu = config.get_mut(menu_path).expect("made above");
    for g in &given {
        if let Given::Flag(name) = g {
            if !menu.flags.contains(name) {
                menu.flags.push(name.clone());
            }
        }
    }
    let lenient = mode != Mode::Import || menu.generic;
    // Seeding keeps the items an export names first, in its order, each
    // printed in the section run it was given in.
    let mut place = |menu: &mut Menu, t: usize| -> usize {
        let Some(placed) = placed
            .as_deref_mut()
            .map(|p| p.entry(menu_path.to_owned()).or_default())
        else {
            return t;
        };
        let at = if t >= *placed {
            let item = menu.items.remove(t);
            menu.items.insert(*placed, item);
            *placed += 1;
            *placed - 1
        } else {
            t
        };
        menu.items[at].run = run;
        at
    };
    match verb {
        "add" if mode == Mode::Factory => Ok(true),
        "add" => {
            let values = given
                .iter()
                .filter_map(|g| match g {
                    Given::Value(n, v) => Some((n.clone(), v.clone())),
                    _ => None,
                })
                .collect();
            model::add_checked(menu, values, mode == Mode::Import)?;
            let at = place(menu, menu.items.len() - 1);
            let item = &mut menu.items[at];
            item.shown.clear();
            configure(item, &given);
            Ok(true)
        }
        "remove" => {
            match targets(menu, section, &m.selector, false)? {
                Some(t) if !t.is_empty() => {
                    for i in t.into_iter().rev() {
                        menu.items.remove(i);
                    }
                }
                _ if lenient => {}
                _ => return Err(Failure::new(Some(1), "no such item")),
            }
            Ok(true)
        }
        _ => {
            let mut targets = match menu.kind {
                MenuKind::Singleton => vec![0],
                MenuKind::Table => targets(menu, section, &m.selector, lenient)?
                    .filter(|t| !t.is_empty())
                    .ok_or_else(|| Failure::new(Some(1), "no such item"))?,
            };
            // Positional items keep their places: that is what names them.
            if !matches!(m.selector, Some(Selector::Number(_))) {
                for t in &mut targets {
                    *t = place(menu, *t);
                }
            } else if let Some(run) = run {
                for &t in &targets {
                    menu.items[t].run = Some(run);
                    if let Some(p) = placed.as_deref_mut() {
                        let n = p.entry(menu_path.to_owned()).or_default();
                        *n = (*n).max(t + 1);
                    }
                }
            }
            if mode == Mode::Factory {
                return Ok(true);
            }
            let values: Vec<(String, Vec<u8>)> = given
                .iter()
                .filter_map(|g| match g {
                    Given::Value(n, v) => Some((n.clone(), v.clone())),
                    _ => None,
                })
                .collect();
            if mode == Mode::Import {
                for &t in &targets {
                    model::check_unique(menu, &values, Some(t))?;
                }
            }
            for t in targets {
                configure(&mut menu.items[t], &given);
            }
            Ok(true)
        }
    }
}

/// The kind of a built-in port by its factory name (`ether7`,
/// `sfp-sfpplus12`, `wlan1`, `lo`), or `None` for a name someone chose.
fn builtin_port(name: &[u8]) -> Option<&'static str> {
    if name == b"lo" {
        return Some("loopback");
    }
    const KINDS: &[(&str, &str)] = &[
        ("sfp-sfpplus", "ether"),
        ("sfp28-", "ether"),
        ("qsfp28-", "ether"),
        ("qsfpplus", "ether"),
        ("sfpplus", "ether"),
        ("sfp", "ether"),
        ("ether", "ether"),
        ("combo", "ether"),
        ("wlan", "wlan"),
        ("wifi", "wifi"),
        ("lte", "lte"),
    ];
    KINDS.iter().find_map(|(prefix, kind)| {
        let rest = name.strip_prefix(prefix.as_bytes())?;
        let numbered = !rest.is_empty()
            && rest.first().is_some_and(u8::is_ascii_digit)
            && rest.iter().all(|c| c.is_ascii_digit() || *c == b'-');
        numbered.then_some(*kind)
    })
}

/// A seeding export names the ports its router was made with (a bridge
/// port on `ether7`, an address on `sfp-sfpplus12`) without listing them:
/// they are made, unconfigured, so the text's references hold.
fn make_ports(config: &mut Config, given: &[Given]) {
    for g in given {
        let Given::Value(name, value) = g else {
            continue;
        };
        if !matches!(name.as_str(), "interface" | "slaves" | "master-port") {
            continue;
        }
        for port in value.split(|b| *b == b',') {
            let Some(kind) = builtin_port(port) else {
                continue;
            };
            let known = config
                .iter()
                .filter(|(p, _)| *p == "interface" || p.starts_with("interface/"))
                .any(|(_, m)| {
                    m.items
                        .iter()
                        .any(|i| i.get("name") == Some(port) || i.get("default-name") == Some(port))
                });
            if known {
                continue;
            }
            if let Some(ports) = config.get_mut("interface") {
                let mut item = Item::new([
                    ("name", port.to_vec()),
                    ("default-name", port.to_vec()),
                    ("type", kind.as_bytes().to_vec()),
                ]);
                item.by = Address::Find(vec![("default-name".into(), port.to_vec())]);
                ports.push(item);
            }
        }
    }
}

/// Gives an item what a line says, in the line's order.
fn configure(item: &mut Item, given: &[Given]) {
    for g in given {
        match g {
            Given::Value(n, v) => item.configure(n, v.clone()),
            Given::Flag(n) => item.configure_flag(n, "true"),
            Given::Unset(n) => item.unset(n),
        }
    }
}

/// The indexes of the items a selector names; with `make`, an item that
/// is not there is made as the router would have had it (a port by its
/// `default-name`, item N of a positional listing, a named built-in).
fn targets(
    menu: &mut Menu,
    section: &str,
    selector: &Option<Selector>,
    make: bool,
) -> Result<Option<Vec<usize>>, Failure> {
    let found: Vec<usize> = match selector {
        None => return Ok(None),
        Some(Selector::Id(id)) => menu.find(id).into_iter().collect(),
        Some(Selector::Number(n)) => {
            let n = *n as usize;
            if make {
                while menu.items.len() <= n {
                    menu.push(Item {
                        by: Address::Position,
                        ..Item::default()
                    });
                }
            }
            (n < menu.items.len()).then_some(n).into_iter().collect()
        }
        Some(Selector::Find(find)) => {
            let eqs = find.equalities().ok_or_else(|| {
                Failure::new(Some(1), "find with an expression is beyond the simulator")
            })?;
            (0..menu.items.len())
                .filter(|&i| eqs.iter().all(|(k, v)| same_value(menu.items[i].get(k), v)))
                .collect()
        }
        Some(Selector::Value(v)) => {
            let name = v
                .literal()
                .ok_or_else(|| Failure::new(Some(1), "no such item"))?;
            (0..menu.items.len())
                .filter(|&i| menu.items[i].get("name") == Some(name.as_slice()))
                .collect()
        }
    };
    if !found.is_empty() || !make {
        return Ok(Some(found));
    }
    let mut item = Item::default();
    match selector {
        Some(Selector::Id(id)) => {
            item.by = Address::Id;
            menu.push_with_id(item, id);
        }
        Some(Selector::Find(find)) => {
            let eqs = find.equalities().unwrap_or_default();
            for (k, v) in &eqs {
                item.set(k, v.clone());
            }
            // A port, radio or other built-in interface is named as it was
            // made until someone renames it.
            if section.starts_with("interface/") && item.get("name").is_none() {
                if let Some(port) = item.get("default-name").map(<[u8]>::to_vec) {
                    item.set("name", port);
                }
            }
            if section == "interface/ethernet" {
                item.set("type", "ether");
            }
            item.by = Address::Find(eqs);
            menu.push(item);
        }
        Some(Selector::Value(v)) => {
            item.set("name", v.literal().unwrap_or_default());
            item.by = Address::Name;
            menu.push(item);
        }
        _ => return Ok(Some(Vec::new())),
    }
    Ok(Some(vec![menu.items.len() - 1]))
}

/// `default=yes` finds an item the router lists as `true`, as RouterOS
/// compares booleans by meaning, not by spelling.
fn same_value(have: Option<&[u8]>, want: &[u8]) -> bool {
    let truthy = |v: &[u8]| matches!(v, b"yes" | b"true");
    let falsy = |v: &[u8]| matches!(v, b"no" | b"false");
    match have {
        Some(h) if h == want => true,
        Some(h) => (truthy(h) && truthy(want)) || (falsy(h) && falsy(want)),
        None => false,
    }
}
