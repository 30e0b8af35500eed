//! Plans: a rendered script compiled into ordered API steps, each tied to
//! its script line, that a rerun leaves unchanged.
//!
//! - `add` becomes **find-or-add**: the item is looked up by the
//!   properties that identify it (its `name` when given; address and
//!   interface for addresses; destination and gateway for routes; else every
//!   property given), then added only when missing, or given the properties
//!   that differ when found.
//! - `set` (on a singleton menu, or on `[ find … ]` / a named item) reads
//!   the current values first and writes only what differs.
//! - `remove` removes what matches, and nothing when nothing does.
//! - `set N` (an item by its position, as RouterOS's own export prints
//!   items without a name: `/system logging set 0 action=disk`) is resolved
//!   when the step runs, against the router's own listing, exactly as
//!   `/import` resolves it; then it is a `set` on that item.
//!
//! What the compiler does not model (`:if`, loops, `:global`/`:local`,
//! variables, `$[…]` substitutions, positions for anything but `set`, `find` with anything
//! but equalities) is refused with the line and the construct: such a
//! script must be pushed as an explicit upload-and-`/import` step instead.

use routeros_proto::script::{self, Arg, CommandKind, MenuCommand, ScriptCommand, Selector};
use serde::Serialize;

mod apply;
mod restore;

pub use apply::{apply, Applier, Outcome, StepReport};
pub use restore::restore_plan;

/// Properties as (name, literal bytes), in script order.
type Props = Vec<(String, Vec<u8>)>;

/// The value of a flag written bare (`passive`, `fib`, `blackhole`): sent
/// with an empty value, as the API takes flags, and found on a router that
/// reads it back as `true`, `yes` or empty. A NUL is never a RouterOS
/// value, so the marker cannot be mistaken for one.
pub const FLAG: &[u8] = b"\0flag";
/// The value of a property written `!name` (an export's "not set"): sent
/// as `unset value-name=name`, and already so where the router does not
/// list it.
pub const UNSET: &[u8] = b"\0unset";

/// A value as shown: the markers in words.
fn shown(v: &[u8]) -> std::borrow::Cow<'_, str> {
    match v {
        FLAG => "(flag)".into(),
        UNSET => "(unset)".into(),
        _ => String::from_utf8_lossy(v),
    }
}

/// Shown as `{"name": "value"}` (bytes that are not UTF-8 as U+FFFD).
fn props_text<S: serde::Serializer>(p: &Props, s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut m = s.serialize_map(Some(p.len()))?;
    for (k, v) in p {
        m.serialize_entry(k, &shown(v))?;
    }
    m.end()
}

/// Whether the router's `actual` value is what the plan wants. Booleans
/// compare by meaning: an export's `default=yes` is the API's
/// `default=true` on RouterOS 6.x and later.
fn same(actual: Option<&[u8]>, wanted: &[u8]) -> bool {
    let truthy = |v: &[u8]| matches!(v, b"true" | b"yes");
    let falsy = |v: &[u8]| matches!(v, b"false" | b"no");
    match (wanted, actual) {
        // A router lists some unset properties as empty (`servers=` in
        // `/ip dns`).
        (UNSET, _) => actual.is_none_or(|a| a == UNSET || a.is_empty()),
        (FLAG, _) => matches!(actual, Some(b"true" | b"yes" | b"" | FLAG)),
        (_, Some(a)) => a == wanted || (truthy(a) && truthy(wanted)) || (falsy(a) && falsy(wanted)),
        (_, None) => false,
    }
}

/// What one step does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum Action {
    FindOrAdd {
        menu: String,
        #[serde(serialize_with = "props_text")]
        #[ts(type = "Record<string, string>")]
        key: Props,
        #[serde(serialize_with = "props_text")]
        #[ts(type = "Record<string, string>")]
        props: Props,
    },
    SetSingleton {
        menu: String,
        #[serde(serialize_with = "props_text")]
        #[ts(type = "Record<string, string>")]
        props: Props,
    },
    SetItems {
        menu: String,
        #[serde(serialize_with = "props_text")]
        #[ts(type = "Record<string, string>")]
        find: Props,
        #[serde(serialize_with = "props_text")]
        #[ts(type = "Record<string, string>")]
        props: Props,
    },
    /// `set N`: the item at position `position` of the menu as the router
    /// lists it when the step runs (what `/import` does with an export's
    /// positional items).
    SetPosition {
        menu: String,
        position: u32,
        #[serde(serialize_with = "props_text")]
        #[ts(type = "Record<string, string>")]
        props: Props,
    },
    Remove {
        menu: String,
        #[serde(serialize_with = "props_text")]
        #[ts(type = "Record<string, string>")]
        find: Props,
    },
    /// Any other verb, sent as it is (`enable`, `disable`, …).
    Run {
        path: String,
        #[serde(serialize_with = "props_text")]
        #[ts(type = "Record<string, string>")]
        props: Props,
    },
    /// The whole script uploaded as `file` and run by the router's own
    /// `/import`: for scripts with logic the plan does not model, when the
    /// user chooses it. RouterOS stops at the first failing line and does
    /// not undo the lines before it; the push's backup and safety net do.
    Import { file: String, script: String },
}

/// One step of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct Step {
    /// The script line it came from.
    pub line: u32,
    pub action: Action,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct Plan {
    pub steps: Vec<Step>,
}

impl Plan {
    /// The steps a dry run can read back: a plain command (`enable`, …)
    /// or an imported script leaves nothing to compare, and a removal a
    /// later step adds again (a restore putting rules back in order) finds
    /// the item added again.
    pub fn readable(&self) -> Plan {
        let added_again = |i: usize, menu: &str, find: &Props| {
            self.steps[i + 1..].iter().any(|later| {
                matches!(&later.action, Action::FindOrAdd { menu: m, key, .. }
                    if m == menu && same_props(key, find))
            })
        };
        Plan {
            steps: self
                .steps
                .iter()
                .enumerate()
                .filter(|(i, s)| match &s.action {
                    Action::Run { .. } | Action::Import { .. } => false,
                    Action::Remove { menu, find } => !added_again(*i, menu, find),
                    _ => true,
                })
                .map(|(_, s)| s.clone())
                .collect(),
        }
    }
}

impl Plan {
    /// The plan to show: every value of a property `secret` names replaced
    /// by `***` (a restore from a sealed export carries the secrets).
    pub(crate) fn shown_masked(&self, secret: impl Fn(&str) -> bool) -> Plan {
        let mask = |p: &mut Props| {
            for (name, value) in p.iter_mut() {
                if secret(name) && !matches!(value.as_slice(), FLAG | UNSET) {
                    *value = b"***".to_vec();
                }
            }
        };
        let mut plan = self.clone();
        for step in &mut plan.steps {
            match &mut step.action {
                Action::FindOrAdd { key, props, .. } => {
                    mask(key);
                    mask(props);
                }
                Action::SetItems { find, props, .. } => {
                    mask(find);
                    mask(props);
                }
                Action::SetSingleton { props, .. }
                | Action::SetPosition { props, .. }
                | Action::Run { props, .. } => mask(props),
                Action::Remove { find, .. } => mask(find),
                Action::Import { .. } => {}
            }
        }
        plan
    }
}

/// Why a script cannot become a plan, at its line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[error("line {line}: {message}")]
pub struct PlanError {
    pub line: u32,
    pub message: String,
}

fn refuse(line: u32, message: impl Into<String>) -> PlanError {
    PlanError {
        line,
        message: message.into(),
    }
}

/// A plan of one step that uploads `text` and runs `/import` on it: what
/// the user chooses for a script [`compile`] refuses. Nothing about it is
/// idempotent or verifiable by read-back: the router runs it as it is.
pub fn import_plan(text: &str) -> Plan {
    let digest = text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    Plan {
        steps: vec![Step {
            line: 1,
            action: Action::Import {
                file: format!("fleetdeck-import-{digest:016x}.rsc"),
                script: text.to_owned(),
            },
        }],
    }
}

/// Compiles script text (a rendered template) into a plan.
pub fn compile(text: &str) -> Result<Plan, PlanError> {
    let parsed = script::parse(text.as_bytes()).map_err(|e| refuse(e.line, e.to_string()))?;
    let mut steps = Vec::new();
    flatten(&parsed.commands, &mut steps)?;
    Ok(Plan { steps })
}

fn flatten(commands: &[ScriptCommand], steps: &mut Vec<Step>) -> Result<(), PlanError> {
    for c in commands {
        match &c.kind {
            CommandKind::Menu(m) => steps.push(Step {
                line: c.line,
                action: menu_action(c.line, m)?,
            }),
            CommandKind::Block(b) => flatten(&b.body, steps)?,
            CommandKind::Keyword(k) => {
                return Err(refuse(
                    c.line,
                    format!(
                        ":{} is script logic the plan does not model; remove it, or push this script as an upload-and-/import step",
                        k.keyword
                    ),
                ))
            }
            CommandKind::Call(_) | CommandKind::Expr(_) => {
                return Err(refuse(
                    c.line,
                    "a function call or expression is evaluated on the router; the plan does not model it",
                ))
            }
        }
    }
    Ok(())
}

fn props(line: u32, m: &MenuCommand) -> Result<Props, PlanError> {
    let command = format!("/{} {}", m.path.join("/"), m.verb);
    let settable = matches!(m.verb.as_str(), "add" | "set");
    m.expanded_args()
        .iter()
        .map(|a| match a {
            Arg::Named { name, value } => value.literal().map(|v| (name.clone(), v)).ok_or_else(|| {
                refuse(
                    line,
                    format!("{command}: {name}= is computed on the router (a variable, $[…] or [ … ]); the plan needs the value itself: write it out, or push this script as one upload-and-/import"),
                )
            }),
            Arg::Positional(v) => match v.literal() {
                // `!keepalive`: an export's "not set".
                Some(b) if settable && b.len() > 1 && b[0] == b'!' && is_property(&b[1..]) => {
                    Ok((String::from_utf8_lossy(&b[1..]).into_owned(), UNSET.to_vec()))
                }
                // `passive`: a flag written bare.
                Some(b) if settable && is_property(&b) => {
                    Ok((String::from_utf8_lossy(&b).into_owned(), FLAG.to_vec()))
                }
                Some(b) => Err(refuse(
                    line,
                    format!(
                        "{command}: the unnamed argument {:?} has no API form; name the property (e.g. type=blackhole)",
                        String::from_utf8_lossy(&b)
                    ),
                )),
                None => Err(refuse(
                    line,
                    format!("{command}: an unnamed argument computed on the router ([ … ] or a variable) has no API form; write the value with its property name, or push this script as one upload-and-/import"),
                )),
            },
            Arg::Where(_) => Err(refuse(line, format!("{command}: a where filter outside find is not modelled"))),
        })
        .collect()
}

/// A property name as RouterOS writes them: lower-case letters, digits and
/// `-`, starting with a letter.
fn is_property(b: &[u8]) -> bool {
    b.first().is_some_and(u8::is_ascii_lowercase)
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
}

fn selector(line: u32, m: &MenuCommand) -> Result<Option<Props>, PlanError> {
    Ok(match &m.selector {
        None => None,
        Some(Selector::Find(f)) => Some(f.equalities().ok_or_else(|| {
            refuse(
                line,
                format!(
                    "/{} {}: this [ find … ] is not a list of property=value equalities (negations and patterns are evaluated on the router)",
                    m.path.join("/"),
                    m.verb
                ),
            )
        })?),
        Some(Selector::Value(v)) => {
            let name = v
                .literal()
                .ok_or_else(|| refuse(line, "the item is named by something computed on the router"))?;
            Some(vec![("name".into(), name)])
        }
        Some(Selector::Id(id)) => Some(vec![(".id".into(), id.clone().into_bytes())]),
        Some(Selector::Number(n)) => {
            return Err(refuse(
                line,
                format!(
                    "/{} {} {n}: item number {n} means a position in the router's own listing, which the plan resolves only for set; name the item instead ([ find name=… ])",
                    m.path.join("/"),
                    m.verb
                ),
            ))
        }
    })
}

/// The properties that identify a new item of `menu`: its name, or what
/// names it in that menu (an address and its interface), else every
/// property given.
fn identity_key(menu: &str, props: &Props) -> Props {
    identity_rule(menu, props).unwrap_or_else(|| props.clone())
}

/// The properties that name an item, where it has some; `None` for an
/// item of a list whose items are known only by all they hold (a firewall
/// rule), where the order is the meaning.
fn identity_rule(menu: &str, props: &Props) -> Option<Props> {
    let pick = |names: &[&str]| -> Option<Props> {
        let got: Props = props
            .iter()
            .filter(|(n, _)| names.contains(&n.as_str()))
            .cloned()
            .collect();
        (got.len() == names.len()).then_some(got)
    };
    pick(&["name"]).or_else(|| match menu {
        "/ip/address" | "/ipv6/address" => pick(&["address", "interface"]),
        "/ip/route" | "/ipv6/route" => pick(&["dst-address", "gateway"]),
        "/interface/bridge/port" => pick(&["bridge", "interface"]),
        _ => None,
    })
}

fn menu_action(line: u32, m: &MenuCommand) -> Result<Action, PlanError> {
    let menu = format!("/{}", m.path.join("/"));
    let props = props(line, m)?;
    if let (Some(Selector::Number(position)), "set") = (&m.selector, m.verb.as_str()) {
        return Ok(Action::SetPosition {
            menu,
            position: *position,
            props,
        });
    }
    let sel = selector(line, m)?;
    Ok(match (m.verb.as_str(), sel) {
        ("add", None) => Action::FindOrAdd {
            key: identity_key(&menu, &props),
            menu,
            props,
        },
        ("set", None) => Action::SetSingleton { menu, props },
        ("set", Some(find)) => Action::SetItems { menu, find, props },
        ("remove", Some(find)) => Action::Remove { menu, find },
        (verb, sel) => {
            let mut props = props;
            if let Some(find) = sel {
                // enable/disable of a named item: resolved by name at run time
                // is not modelled; only an id or name selector is sent.
                if find.len() != 1 || !matches!(find[0].0.as_str(), "name" | ".id") {
                    return Err(refuse(
                        line,
                        format!("{verb} on a [ find … ] selection is not modelled"),
                    ));
                }
                props.insert(0, ("numbers".into(), find[0].1.clone()));
            }
            Action::Run {
                path: format!("{menu}/{verb}"),
                props,
            }
        }
    })
}

/// The same properties, in any order.
fn same_props(a: &Props, b: &Props) -> bool {
    let sorted = |p: &Props| {
        let mut p = p.clone();
        p.sort();
        p
    };
    sorted(a) == sorted(b)
}

fn names(p: &Props) -> Vec<String> {
    p.iter().map(|(n, _)| n.clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_set_remove_compile_to_idempotent_steps() {
        let plan = compile(
            "/system identity set name=core-1\n/interface bridge\nadd name=bridge1\n/ip address add address=192.168.88.1/24 interface=bridge1 comment=lan\n/interface ethernet set [ find default-name=ether1 ] comment=wan\n/ip route remove [ find comment=old ]\n",
        )
        .unwrap();
        let lines: Vec<u32> = plan.steps.iter().map(|s| s.line).collect();
        assert_eq!(lines, vec![1, 3, 4, 5, 6]);
        assert!(
            matches!(&plan.steps[0].action, Action::SetSingleton { menu, .. } if menu == "/system/identity")
        );
        let Action::FindOrAdd { menu, key, .. } = &plan.steps[2].action else {
            panic!("{:?}", plan.steps[2])
        };
        assert_eq!(menu, "/ip/address");
        assert_eq!(names(key), vec!["address", "interface"]);
        assert!(
            matches!(&plan.steps[3].action, Action::SetItems { find, .. } if find[0].0 == "default-name")
        );
        assert!(matches!(&plan.steps[4].action, Action::Remove { .. }));
    }

    #[test]
    fn script_logic_is_refused_with_its_line() {
        let e = compile("/system identity set name=a\n:if ($x = 1) do={ /system reboot }\n")
            .unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.message.contains(":if"), "{e}");
        let e = compile("/ip address add address=$addr interface=ether1\n").unwrap_err();
        assert!(e.message.contains("address= is computed"), "{e}");
        let e = compile("/interface remove 0\n").unwrap_err();
        assert!(e.message.contains("position"), "{e}");
        assert!(e.message.contains("/interface remove 0"), "{e}");
    }

    /// Each kind of selector real exports use, and the ones refused with
    /// the reason.
    #[test]
    fn every_selector_class_compiles_or_is_refused_with_the_way_out() {
        let plan = compile(
            "/interface wireless security-profiles\nset [ find default=yes ] supplicant-identity=MikroTik\n/interface ethernet\nset [ find default-name=ether1 ] name=wan\n/ppp profile\nset *0 only-one=yes\n/ip service\nset telnet disabled=yes\n/system logging\nset 0 action=remote\n/routing bgp connection\nadd local.address=10.0.0.1 .role=ebgp name=pe\n",
        )
        .unwrap();
        let find = |i: usize| match &plan.steps[i].action {
            Action::SetItems { find, .. } => find.clone(),
            other => panic!("{other:?}"),
        };
        assert_eq!(find(0), vec![("default".to_owned(), b"yes".to_vec())]);
        assert_eq!(
            find(1),
            vec![("default-name".to_owned(), b"ether1".to_vec())]
        );
        assert_eq!(find(2), vec![(".id".to_owned(), b"*0".to_vec())]);
        assert_eq!(find(3), vec![("name".to_owned(), b"telnet".to_vec())]);
        assert!(matches!(
            &plan.steps[4].action,
            Action::SetPosition { position: 0, .. }
        ));
        let Action::FindOrAdd { props, .. } = &plan.steps[5].action else {
            panic!("{:?}", plan.steps[5]);
        };
        assert!(
            props.contains(&("local.role".to_owned(), b"ebgp".to_vec())),
            "{props:?}"
        );
        // A pattern or negation is evaluated on the router: refused, saying so.
        let e = compile("/ip firewall filter\nset [ find comment~\"old\" ] disabled=yes\n")
            .unwrap_err();
        assert_eq!(e.line, 2);
        assert!(
            e.message
                .contains("not a list of property=value equalities"),
            "{e}"
        );
        // An item named by something computed on the router.
        let e = compile("/interface set $port comment=x\n").unwrap_err();
        assert!(e.message.contains("named by something computed"), "{e}");
    }

    #[test]
    fn booleans_match_by_meaning_and_other_values_exactly() {
        // `[ find default=yes ]` finds the item a router lists as `true`.
        assert!(same(Some(b"true"), b"yes"));
        assert!(same(Some(b"no"), b"false"));
        assert!(!same(Some(b"true"), b"no"));
        assert!(!same(Some(b"yes "), b"yes"));
        assert!(same(Some(b"ether1"), b"ether1"));
        assert!(!same(Some(b"ether1"), b"ether2"));
        assert!(!same(None, b"yes"));
        assert!(same(None, UNSET));
        assert!(same(Some(b""), UNSET));
        assert!(same(Some(b""), FLAG));
    }

    #[test]
    fn bare_flags_and_unset_properties_compile_as_an_export_writes_them() {
        let plan = compile(
            "/routing ospf interface-template add area=backbone interfaces=ether1 passive\n/interface ethernet set [ find default-name=ether1 ] !power-cycle-ping-address comment=wan\n",
        )
        .unwrap();
        let Action::FindOrAdd { props, .. } = &plan.steps[0].action else {
            panic!("{:?}", plan.steps[0])
        };
        assert_eq!(props[2], ("passive".into(), FLAG.to_vec()));
        let Action::SetItems { props, .. } = &plan.steps[1].action else {
            panic!("{:?}", plan.steps[1])
        };
        assert_eq!(
            props[0],
            ("power-cycle-ping-address".into(), UNSET.to_vec())
        );
        // Shown in words, never as the marker.
        let shown = serde_json::to_string(&plan).unwrap();
        assert!(shown.contains("\"passive\":\"(flag)\""), "{shown}");
        assert!(
            shown.contains("(unset)") && !shown.contains("\\u0000"),
            "{shown}"
        );
        // A flag matches what a router reads back; an unset, its absence.
        assert!(same(Some(b"true"), FLAG) && same(Some(b""), FLAG) && !same(None, FLAG));
        assert!(same(None, UNSET) && !same(Some(b"10.0.0.1"), UNSET));
        let plan =
            compile("/interface wireless set [ find default-name=wlan1 ] basic-rates-a/g=6Mbps\n")
                .unwrap();
        let Action::SetItems { props, .. } = &plan.steps[0].action else {
            panic!("{:?}", plan.steps[0])
        };
        assert_eq!(props[0], ("basic-rates-a/g".into(), b"6Mbps".to_vec()));
        // Not a property name: still refused, with the word.
        let e = compile("/ip route add Blackhole dst-address=10.0.0.0/8\n").unwrap_err();
        assert!(e.message.contains("\"Blackhole\""), "{e}");
        let e = compile("/system package uninstall [ find name=wireless ]\n").unwrap_err();
        assert!(e.message.contains("write the value"), "{e}");
    }

    #[test]
    fn a_set_by_position_is_resolved_when_it_runs() {
        let plan = compile("/system logging\nset 0 action=disk\n").unwrap();
        assert_eq!(
            plan.steps[0].action,
            Action::SetPosition {
                menu: "/system/logging".into(),
                position: 0,
                props: vec![("action".into(), b"disk".to_vec())],
            }
        );
    }
}
