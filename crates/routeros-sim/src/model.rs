//! The simulated router's configuration: menus of items, as RouterOS keeps
//! them. Every menu the simulator models is a table of items with `.id`s;
//! singleton menus (`/system/identity`) hold exactly one item. The generic
//! `print`/`add`/`set`/`remove` of the API and of `/import` work on them.

use std::{
    collections::BTreeMap,
    ops::{Deref, DerefMut},
};

/// One item: attributes in the order RouterOS prints them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Item {
    pub attrs: Vec<(String, Vec<u8>)>,
    /// What `/export` prints of the item, in order: the properties that
    /// were configured (by `add`, `set`, an import or a seed), bare flags
    /// and unset properties. Factory values and defaults are not in it,
    /// which is what makes an export compact.
    pub(crate) shown: Vec<Shown>,
    /// How an export names the item.
    pub(crate) by: Address,
    /// The export section run ([`Config::order`]) it is printed in: an
    /// export may come back to a section (`/queue interface` after each
    /// interface kind), so items are printed where they were given.
    /// `None`: the section's first run.
    pub(crate) run: Option<usize>,
    /// Properties an export printed as `!name` before they were given a
    /// value: unset again over the API, they print as `!name` again.
    pub(crate) unset_at_first: Vec<String>,
}

/// One entry of what an export prints of an item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Shown {
    /// `name=value`, with the item's current value.
    Value(String),
    /// `name`, a flag written bare (`fib`, `passive`).
    Flag(String),
    /// `!name`: explicitly not set.
    Unset(String),
}

impl Shown {
    fn name(&self) -> &str {
        match self {
            Shown::Value(n) | Shown::Flag(n) | Shown::Unset(n) => n,
        }
    }
}

/// How an export addresses an item: items the router was made with are
/// `set` through a selector, items a configuration made are `add`ed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) enum Address {
    #[default]
    Added,
    /// `set [ find default-name=ether1 ]`, `set [ find default=yes ]`.
    Find(Vec<(String, Vec<u8>)>),
    /// `set 0`: its place in the menu's listing.
    Position,
    /// `set telnet`: its name.
    Name,
    /// `set *0`: its internal id.
    Id,
}

impl Item {
    pub fn new<I, K, V>(attrs: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<Vec<u8>>,
    {
        Self {
            attrs: attrs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
            ..Self::default()
        }
    }

    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_slice())
    }

    pub fn get_str(&self, name: &str) -> Option<String> {
        self.get(name)
            .map(|v| String::from_utf8_lossy(v).into_owned())
    }

    pub fn set(&mut self, name: &str, value: impl Into<Vec<u8>>) {
        let value = value.into();
        match self.attrs.iter_mut().find(|(k, _)| k == name) {
            Some(slot) => slot.1 = value,
            None => self.attrs.push((name.to_owned(), value)),
        }
    }

    pub fn id(&self) -> Option<String> {
        self.get_str(".id")
    }

    /// Sets a property as configuration: an export prints it.
    pub(crate) fn configure(&mut self, name: &str, value: impl Into<Vec<u8>>) {
        self.set(name, value);
        self.show(Shown::Value(name.to_owned()));
    }

    /// A bare flag (`fib`): true, and printed bare.
    pub(crate) fn configure_flag(&mut self, name: &str, value: &str) {
        self.set(name, value);
        self.show(Shown::Flag(name.to_owned()));
    }

    /// `!name`: the property is no longer set, and an export says so.
    pub(crate) fn unset(&mut self, name: &str) {
        self.attrs.retain(|(k, _)| k != name);
        self.show(Shown::Unset(name.to_owned()));
    }

    /// `unset value-name=name` over the API: the property goes back to its
    /// default, which an export leaves out, or to the `!name` it was
    /// printed as before it was set.
    pub(crate) fn reset(&mut self, name: &str) {
        self.attrs.retain(|(k, _)| k != name);
        if self.unset_at_first.iter().any(|n| n == name) {
            self.show(Shown::Unset(name.to_owned()));
        } else {
            self.shown.retain(|s| s.name() != name);
        }
    }

    /// Records `entry` in what an export prints, in place of an earlier
    /// entry for the same property (a flag set again with a value stays a
    /// flag when the value is empty, as the API sends flags).
    fn show(&mut self, entry: Shown) {
        match self.shown.iter_mut().find(|s| s.name() == entry.name()) {
            Some(slot) => {
                let keep_flag = matches!((&*slot, &entry), (Shown::Flag(_), Shown::Value(_)))
                    && self.attrs.iter().any(|(k, v)| {
                        k == entry.name() && (v.is_empty() || v == b"true" || v == b"yes")
                    });
                if matches!(slot, Shown::Unset(_)) && !matches!(entry, Shown::Unset(_)) {
                    self.unset_at_first.push(entry.name().to_owned());
                }
                if !keep_flag {
                    *slot = entry;
                }
            }
            None => self.shown.push(entry),
        }
    }
}

/// How a menu behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MenuKind {
    /// A list of items with ids; `add` and `remove` work.
    Table,
    /// Exactly one item; only `print` and `set`.
    Singleton,
}

/// What a property must look like when set, so bad values get the router's
/// own kind of trap.
#[derive(Debug, Clone)]
pub struct Menu {
    pub kind: MenuKind,
    pub items: Vec<Item>,
    /// Properties `add` requires.
    pub required: &'static [&'static str],
    /// Properties that must be unique among items (`name`).
    pub unique: &'static [&'static str],
    /// Default values filled in by `add`, in print order.
    pub defaults: &'static [(&'static str, &'static str)],
    /// A menu the simulator does not model, kept as it was given (by an
    /// import or a seed): no checks, and an item a selector names is made
    /// as the router would have had it.
    pub generic: bool,
    /// Properties known to be flags (an export wrote them bare, `fib`):
    /// the API sets one with an empty value, and an export prints it bare.
    pub(crate) flags: Vec<String>,
    next_id: u32,
}

impl Menu {
    pub fn table(
        required: &'static [&'static str],
        unique: &'static [&'static str],
        defaults: &'static [(&'static str, &'static str)],
    ) -> Self {
        Self {
            kind: MenuKind::Table,
            items: Vec::new(),
            required,
            unique,
            defaults,
            generic: false,
            flags: Vec::new(),
            next_id: 1,
        }
    }

    pub fn singleton(item: Item) -> Self {
        Self {
            kind: MenuKind::Singleton,
            items: vec![item],
            required: &[],
            unique: &[],
            defaults: &[],
            generic: false,
            flags: Vec::new(),
            next_id: 1,
        }
    }

    /// A menu the simulator does not model: a table, or a one-item menu
    /// when the script `set`s it without naming an item.
    pub fn generic(kind: MenuKind) -> Self {
        let mut menu = match kind {
            MenuKind::Table => Self::table(&[], &[], &[]),
            MenuKind::Singleton => Self::singleton(Item::default()),
        };
        menu.generic = true;
        menu
    }

    /// Adds an item, giving it the next `*N` id. Returns the id.
    pub fn push(&mut self, mut item: Item) -> String {
        let id = format!("*{:X}", self.next_id);
        self.next_id += 1;
        item.attrs.retain(|(k, _)| k != ".id");
        item.attrs
            .insert(0, (".id".into(), id.clone().into_bytes()));
        self.items.push(item);
        id
    }

    /// Adds an item with the internal id the router gave it (`*0`, an
    /// export's `set *0`).
    pub(crate) fn push_with_id(&mut self, mut item: Item, id: &str) {
        item.attrs.retain(|(k, _)| k != ".id");
        item.attrs.insert(0, (".id".into(), id.as_bytes().to_vec()));
        self.items.push(item);
    }

    pub fn find(&self, id: &str) -> Option<usize> {
        self.items
            .iter()
            .position(|i| i.id().as_deref() == Some(id))
    }
}

/// The configuration of one router: menu path (`ip/address`) to menu, and
/// the order an export prints its sections in.
#[derive(Debug, Clone, Default)]
pub struct Config {
    menus: BTreeMap<String, Menu>,
    /// Export section runs (`interface/ethernet`, `ip/address`, …, a
    /// section again where an export comes back to it), in the order
    /// RouterOS prints them: learned from the export a router was seeded
    /// from, else the simulator's own; menus that appear later go at the
    /// end.
    pub(crate) order: Vec<String>,
    /// The section the last imported command was in: a section an import
    /// brings goes right after it, as the script had it.
    pub(crate) last: Option<String>,
}

impl Config {
    pub fn new() -> Self {
        Self::default()
    }

    /// Puts `section` in the export order if it is not there yet: after
    /// the section the import was last in, else at the end.
    pub(crate) fn note_section(&mut self, section: &str) {
        if !self.order.iter().any(|s| s == section) {
            let after = self
                .last
                .as_ref()
                .and_then(|l| self.order.iter().rposition(|s| s == l));
            match after {
                Some(i) => {
                    self.order.insert(i + 1, section.to_owned());
                    // Items printed in later runs move along with them.
                    for menu in self.menus.values_mut() {
                        for item in &mut menu.items {
                            if let Some(r) = item.run.as_mut().filter(|r| **r > i) {
                                *r += 1;
                            }
                        }
                    }
                }
                None => self.order.push(section.to_owned()),
            }
        }
        self.last = Some(section.to_owned());
    }

    /// The run a seeding export is in at `section`: a new one when the
    /// text moved to it from another section.
    pub(crate) fn note_run(&mut self, section: &str) -> usize {
        if self.order.last().map(String::as_str) != Some(section) {
            self.order.push(section.to_owned());
        }
        self.order.len() - 1
    }
}

impl Deref for Config {
    type Target = BTreeMap<String, Menu>;
    fn deref(&self) -> &Self::Target {
        &self.menus
    }
}

impl DerefMut for Config {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.menus
    }
}

/// Why an operation on the configuration failed, as RouterOS words it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub category: Option<u8>,
    pub message: String,
}

impl Failure {
    pub fn new(category: Option<u8>, message: impl Into<String>) -> Self {
        Self {
            category,
            message: message.into(),
        }
    }
}

/// `add`: checks required and unique properties like RouterOS does.
pub fn add(menu: &mut Menu, attrs: Vec<(String, Vec<u8>)>) -> Result<String, Failure> {
    add_checked(menu, attrs, true)
}

/// `add`, checking required and unique properties only when `check`: a
/// seeding export is the router's state, taken as it is.
pub(crate) fn add_checked(
    menu: &mut Menu,
    attrs: Vec<(String, Vec<u8>)>,
    check: bool,
) -> Result<String, Failure> {
    if menu.kind == MenuKind::Singleton {
        return Err(Failure::new(Some(0), "no such command"));
    }
    if check {
        for r in menu.required {
            if !attrs.iter().any(|(k, _)| k == r) {
                return Err(Failure::new(Some(1), format!("failure: {r} not specified")));
            }
        }
        check_unique(menu, &attrs, None)?;
    }
    let mut item = Item::default();
    for (k, v) in attrs {
        configure(&mut item, &menu.flags, &k, v);
    }
    for (k, v) in menu.defaults {
        if item.get(k).is_none() {
            item.set(k, v.as_bytes());
        }
    }
    Ok(menu.push(item))
}

pub(crate) fn check_unique(
    menu: &Menu,
    attrs: &[(String, Vec<u8>)],
    except: Option<usize>,
) -> Result<(), Failure> {
    for u in menu.unique {
        if let Some((_, v)) = attrs.iter().find(|(k, _)| k == u) {
            let clash = menu
                .items
                .iter()
                .enumerate()
                .any(|(i, item)| Some(i) != except && item.get(u) == Some(v.as_slice()));
            if clash {
                return Err(Failure::new(
                    Some(1),
                    format!(
                        "failure: already have item with such {u} ({})",
                        String::from_utf8_lossy(v)
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// `set`: on a singleton the one item; on a table the items named by
/// `.id` (a comma-separated list, or a `name`).
pub fn set(
    menu: &mut Menu,
    ids: Option<&[u8]>,
    attrs: Vec<(String, Vec<u8>)>,
) -> Result<(), Failure> {
    let targets = match menu.kind {
        MenuKind::Singleton => vec![0],
        MenuKind::Table => resolve(
            menu,
            ids.ok_or_else(|| Failure::new(Some(1), "no such item"))?,
        )?,
    };
    for t in targets {
        check_unique(menu, &attrs, Some(t))?;
        for (k, v) in &attrs {
            configure(&mut menu.items[t], &menu.flags, k, v.clone());
        }
    }
    Ok(())
}

/// Sets a property given over the API: an empty value of a flag sets the
/// flag.
fn configure(item: &mut Item, flags: &[String], name: &str, value: Vec<u8>) {
    if value.is_empty() && flags.iter().any(|f| f == name) {
        item.configure_flag(name, "true");
    } else {
        item.configure(name, value);
    }
}

/// `unset value-name=NAME`: the property is no longer set (print leaves it
/// out) and goes back to what an export printed of it before it was set.
pub fn unset(menu: &mut Menu, ids: Option<&[u8]>, name: &str) -> Result<(), Failure> {
    let targets = match menu.kind {
        MenuKind::Singleton => vec![0],
        MenuKind::Table => resolve(
            menu,
            ids.ok_or_else(|| Failure::new(Some(1), "no such item"))?,
        )?,
    };
    for t in targets {
        if let Some(item) = menu.items.get_mut(t) {
            item.reset(name);
        }
    }
    Ok(())
}

pub fn remove(menu: &mut Menu, ids: &[u8]) -> Result<(), Failure> {
    if menu.kind == MenuKind::Singleton {
        return Err(Failure::new(Some(0), "no such command"));
    }
    let mut targets = resolve(menu, ids)?;
    targets.sort_unstable();
    for t in targets.into_iter().rev() {
        menu.items.remove(t);
    }
    Ok(())
}

/// Resolves `*1,*2` (or item names) to indexes; an unknown one is the
/// router's `no such item`.
fn resolve(menu: &Menu, ids: &[u8]) -> Result<Vec<usize>, Failure> {
    String::from_utf8_lossy(ids)
        .split(',')
        .map(|id| {
            menu.find(id)
                .or_else(|| {
                    menu.items
                        .iter()
                        .position(|i| i.get("name") == Some(id.as_bytes()))
                })
                .ok_or_else(|| Failure::new(Some(1), "no such item"))
        })
        .collect()
}

/// Evaluates RouterOS query words against an item (ROUTEROS.md §1.3): a
/// stack of booleans, conceptually full of `true`; the item matches when
/// no `false` is left.
pub fn matches(item: &Item, queries: &[Vec<u8>]) -> bool {
    let mut stack: Vec<bool> = Vec::new();
    for q in queries {
        let body = &q[1..];
        match body.first() {
            Some(b'#') => run_ops(&mut stack, &body[1..]),
            Some(b'-') => stack.push(item.get(&String::from_utf8_lossy(&body[1..])).is_none()),
            Some(op @ (b'=' | b'<' | b'>')) => {
                let rest = &body[1..];
                let (name, value) = split_eq(rest);
                stack.push(compare(item.get(&name), *op, value));
            }
            _ => {
                // `?name=value` or `?name`
                if body.contains(&b'=') {
                    let (name, value) = split_eq(body);
                    stack.push(compare(item.get(&name), b'=', value));
                } else {
                    stack.push(item.get(&String::from_utf8_lossy(body)).is_some());
                }
            }
        }
    }
    stack.iter().all(|b| *b)
}

fn split_eq(b: &[u8]) -> (String, &[u8]) {
    match b.iter().position(|&c| c == b'=') {
        Some(i) => (String::from_utf8_lossy(&b[..i]).into_owned(), &b[i + 1..]),
        None => (String::from_utf8_lossy(b).into_owned(), &b[b.len()..]),
    }
}

fn compare(have: Option<&[u8]>, op: u8, want: &[u8]) -> bool {
    let Some(have) = have else {
        return false;
    };
    if op == b'=' {
        return have == want;
    }
    let num = |v: &[u8]| std::str::from_utf8(v).ok()?.parse::<f64>().ok();
    let ord = match (num(have), num(want)) {
        (Some(a), Some(b)) => a.partial_cmp(&b),
        _ => Some(have.cmp(want)),
    };
    match op {
        b'<' => ord == Some(std::cmp::Ordering::Less),
        _ => ord == Some(std::cmp::Ordering::Greater),
    }
}

/// The `?#` operations: indexes, `!`, `&`, `|`, `.`.
fn run_ops(stack: &mut Vec<bool>, ops: &[u8]) {
    let top = |s: &Vec<bool>, i: usize| {
        if i < s.len() {
            s[s.len() - 1 - i]
        } else {
            true
        }
    };
    let mut i = 0;
    let mut last_was_index = false;
    while i < ops.len() {
        let c = ops[i];
        if c.is_ascii_digit() {
            let start = i;
            while i < ops.len() && ops[i].is_ascii_digit() {
                i += 1;
            }
            let idx: usize = std::str::from_utf8(&ops[start..i])
                .unwrap_or("0")
                .parse()
                .unwrap_or(0);
            let v = top(stack, idx);
            if i == ops.len() {
                stack.clear();
                stack.push(v);
            } else {
                stack.push(v);
            }
            last_was_index = true;
            continue;
        }
        match c {
            b'!' => {
                let v = stack.pop().unwrap_or(true);
                stack.push(!v);
            }
            b'&' | b'|' => {
                let a = stack.pop().unwrap_or(true);
                let b = stack.pop().unwrap_or(true);
                stack.push(if c == b'&' { a && b } else { a || b });
            }
            b'.' if !last_was_index => {
                let v = top(stack, 0);
                stack.push(v);
            }
            _ => {}
        }
        last_was_index = false;
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(pairs: &[(&str, &str)]) -> Item {
        Item::new(pairs.iter().map(|(k, v)| (*k, v.as_bytes())))
    }

    fn q(words: &[&str]) -> Vec<Vec<u8>> {
        words.iter().map(|w| w.as_bytes().to_vec()).collect()
    }

    #[test]
    fn query_stack_machine() {
        let ether = item(&[("type", "ether"), ("mtu", "1500")]);
        let vlan = item(&[("type", "vlan"), ("mtu", "1496"), ("comment", "x")]);
        let either = q(&["?type=ether", "?type=vlan", "?#|"]);
        assert!(matches(&ether, &either));
        assert!(matches(&vlan, &either));
        assert!(!matches(&item(&[("type", "bridge")]), &either));
        assert!(matches(&vlan, &q(&["?>comment="])));
        assert!(!matches(&ether, &q(&["?>comment="])));
        assert!(matches(&ether, &q(&["?-comment"])));
        assert!(matches(&ether, &q(&["?<mtu=1500", "?#!"])));
        assert!(matches(&vlan, &q(&["?<mtu=1500"])));
        assert!(matches(&ether, &q(&["?=type=vlan", "?#!"])));
        assert!(matches(&ether, &q(&[])));
    }

    #[test]
    fn table_add_set_remove() {
        let mut m = Menu::table(&["address", "interface"], &[], &[("disabled", "false")]);
        assert_eq!(
            add(&mut m, vec![("address".into(), b"10.0.0.1/24".to_vec())])
                .unwrap_err()
                .message,
            "failure: interface not specified"
        );
        let id = add(
            &mut m,
            vec![
                ("address".into(), b"10.0.0.1/24".to_vec()),
                ("interface".into(), b"ether1".to_vec()),
            ],
        )
        .unwrap();
        assert_eq!(id, "*1");
        set(
            &mut m,
            Some(b"*1"),
            vec![("comment".into(), b"wan".to_vec())],
        )
        .unwrap();
        assert_eq!(m.items[0].get_str("comment").as_deref(), Some("wan"));
        assert_eq!(m.items[0].get_str("disabled").as_deref(), Some("false"));
        assert_eq!(remove(&mut m, b"*9").unwrap_err().message, "no such item");
        remove(&mut m, b"*1").unwrap();
        assert!(m.items.is_empty());
    }
}
