//! Restore: the plan that converges a router holding one configuration
//! (its export now) to another (a stored version), changing only what
//! differs. Never a blind `/import` of a whole export onto a configured
//! router: that adds duplicates and removes nothing.
//!
//! - Items the stored version holds are found or added, as any plan does;
//!   a property the router has that the stored item does not is unset (an
//!   export leaves out what is at its default).
//! - Items the router has that the stored version does not hold are
//!   removed, last made first (an export lists an item after what it
//!   refers to).
//! - In a list whose items have no name (firewall rules, queues: the order
//!   is their meaning), the items from the first one out of place are
//!   removed and added again in the stored order.
//! - A value an export masked (`***`) is a secret the version does not
//!   keep: the router's value is left as it is, and an item that would
//!   have to be made again with one is refused, naming its line.

use super::{compile, identity_rule, Action, Plan, PlanError, Props, Step, UNSET};

/// How a masked secret reads in a stored version.
const MASKED: &[u8] = b"***";

/// The plan that turns `current` (the router's export now) into `stored`,
/// both as versions keep them (normalised, secrets masked).
pub fn restore_plan(stored: &str, current: &str) -> Result<Plan, PlanError> {
    let want = compile(stored)?.steps;
    let have = compile(current)
        .map_err(|e| PlanError {
            line: e.line,
            message: format!("the router's export now: {}", e.message),
        })?
        .steps;
    let mut pair = pairs(&want, &have);
    reorder_unnamed_lists(&want, &mut pair);

    let mut paired_have = vec![false; have.len()];
    for h in pair.iter().flatten() {
        paired_have[*h] = true;
    }
    // Removals first, last made first.
    let mut steps: Vec<Step> = have
        .iter()
        .enumerate()
        .rev()
        .filter(|(i, _)| !paired_have[*i])
        .filter_map(|(_, h)| match &h.action {
            Action::FindOrAdd { menu, key, .. } => Some(Step {
                line: 0,
                action: Action::Remove {
                    menu: menu.clone(),
                    find: without_masked(key),
                },
            }),
            _ => None,
        })
        .collect();
    // Then settings the router has that the version leaves at their
    // default (a port renamed back before anything names it again).
    for (i, h) in have.iter().enumerate() {
        if paired_have[i] {
            continue;
        }
        let mut action = h.action.clone();
        let props = match &mut action {
            Action::SetSingleton { props, .. }
            | Action::SetItems { props, .. }
            | Action::SetPosition { props, .. } => props,
            _ => continue,
        };
        let reset = extra(&h.action, &Vec::new());
        if reset.is_empty() {
            continue;
        }
        *props = reset;
        steps.push(Step { line: 0, action });
    }
    // Then the version, item by item.
    for (w, h) in want.iter().zip(&pair) {
        let mut action = w.action.clone();
        let props = match &mut action {
            Action::FindOrAdd { key, props, .. } => {
                if h.is_none() && props.iter().any(|(_, v)| v == MASKED) {
                    return Err(PlanError {
                        line: w.line,
                        message: "this item is not on the router and holds a secret the version keeps masked (***): it cannot be made again from the version; add it by hand, or restore a version that has it".into(),
                    });
                }
                *key = without_masked(key);
                props
            }
            Action::SetSingleton { props, .. }
            | Action::SetItems { props, .. }
            | Action::SetPosition { props, .. } => props,
            _ => continue,
        };
        props.retain(|(_, v)| v != MASKED);
        if let Some(h) = h {
            for (name, value) in extra(&have[*h].action, props) {
                props.push((name, value));
            }
        }
        steps.push(Step {
            line: w.line,
            action,
        });
    }
    Ok(Plan { steps })
}

/// For each stored step, the step of the router's export that stands for
/// the same item (first unpaired, in order).
fn pairs(want: &[Step], have: &[Step]) -> Vec<Option<usize>> {
    let mut taken = vec![false; have.len()];
    want.iter()
        .map(|w| {
            let h = (0..have.len()).find(|h| !taken[*h] && same_item(&w.action, &have[*h].action));
            if let Some(h) = h {
                taken[h] = true;
            }
            h
        })
        .collect()
}

fn sorted(p: &Props) -> Props {
    let mut p = without_masked(p);
    p.sort();
    p
}

fn without_masked(p: &Props) -> Props {
    p.iter().filter(|(_, v)| v != MASKED).cloned().collect()
}

fn same_item(w: &Action, h: &Action) -> bool {
    match (w, h) {
        (
            Action::FindOrAdd {
                menu: a, key: ka, ..
            },
            Action::FindOrAdd {
                menu: b, key: kb, ..
            },
        ) => a == b && sorted(ka) == sorted(kb),
        (Action::SetSingleton { menu: a, .. }, Action::SetSingleton { menu: b, .. }) => a == b,
        (
            Action::SetItems {
                menu: a, find: fa, ..
            },
            Action::SetItems {
                menu: b, find: fb, ..
            },
        ) => a == b && sorted(fa) == sorted(fb),
        (
            Action::SetPosition {
                menu: a,
                position: pa,
                ..
            },
            Action::SetPosition {
                menu: b,
                position: pb,
                ..
            },
        ) => a == b && pa == pb,
        _ => false,
    }
}

/// An item whose identity is all its properties: one of a list where the
/// order is the meaning.
fn unnamed(a: &Action) -> Option<&str> {
    match a {
        Action::FindOrAdd { menu, props, .. } if identity_rule(menu, props).is_none() => Some(menu),
        _ => None,
    }
}

/// In each list of unnamed items, the router keeps the paired items in its
/// order and adds the rest at the end: from the first item that would be
/// out of place, the pairing is dropped so they are removed and added
/// again in the stored order.
fn reorder_unnamed_lists(want: &[Step], pair: &mut [Option<usize>]) {
    let mut menus: Vec<&str> = want.iter().filter_map(|w| unnamed(&w.action)).collect();
    menus.sort_unstable();
    menus.dedup();
    for menu in menus {
        let wanted: Vec<usize> = (0..want.len())
            .filter(|w| unnamed(&want[*w].action) == Some(menu))
            .collect();
        // The stored items the router keeps, in the router's order.
        let mut kept: Vec<usize> = wanted
            .iter()
            .copied()
            .filter(|w| pair[*w].is_some())
            .collect();
        kept.sort_by_key(|w| pair[*w]);
        let in_place = kept.iter().zip(&wanted).take_while(|(k, w)| k == w).count();
        for w in &kept[in_place..] {
            pair[*w] = None;
        }
    }
}

/// What `have` sets that `wanted` does not: each reset to its default. A
/// port's `name` goes back to its `default-name`; anything else is unset.
fn extra(have: &Action, wanted: &Props) -> Props {
    let (props, find) = match have {
        Action::FindOrAdd { props, .. }
        | Action::SetSingleton { props, .. }
        | Action::SetPosition { props, .. } => (props, None),
        Action::SetItems { props, find, .. } => (props, Some(find)),
        _ => return Vec::new(),
    };
    props
        .iter()
        .filter(|(n, v)| v != MASKED && !wanted.iter().any(|(w, _)| w == n))
        .map(|(n, _)| {
            let default_name = find
                .filter(|_| n == "name")
                .and_then(|f| f.iter().find(|(k, _)| k == "default-name"));
            match default_name {
                Some((_, original)) => (n.clone(), original.clone()),
                None => (n.clone(), UNSET.to_vec()),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(plan: &Plan) -> Vec<String> {
        plan.steps
            .iter()
            .map(|s| match &s.action {
                Action::FindOrAdd { menu, props, .. } => format!("add {menu} {}", text(props)),
                Action::Remove { menu, find } => format!("remove {menu} {}", text(find)),
                Action::SetSingleton { menu, props } => format!("set {menu} {}", text(props)),
                Action::SetItems { menu, find, props } => {
                    format!("set {menu} [{}] {}", text(find), text(props))
                }
                other => format!("{other:?}"),
            })
            .collect()
    }

    fn text(p: &Props) -> String {
        p.iter()
            .map(|(k, v)| format!("{k}={}", super::super::shown(v)))
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn what_differs_is_changed_what_is_extra_removed_and_defaults_reset() {
        let stored = "/interface bridge add name=br1\n/interface bridge add name=br2 comment=two\n/ip address add address=10.0.0.1/24 interface=br1\n/system identity set name=core\n";
        let current = "/interface bridge add name=br1 comment=new\n/interface bridge add name=br2 comment=two\n/interface bridge add name=rogue\n/ip address add address=10.9.9.9/24 interface=rogue\n/ip address add address=10.0.0.1/24 interface=br1\n/system identity set name=changed\n/ip service set telnet disabled=yes\n/interface ethernet set [ find default-name=ether1 ] name=wan\n";
        let plan = restore_plan(stored, current).unwrap();
        assert_eq!(
            kinds(&plan),
            vec![
                "remove /ip/address address=10.9.9.9/24 interface=rogue",
                "remove /interface/bridge name=rogue",
                "set /ip/service [name=telnet] disabled=(unset)",
                "set /interface/ethernet [default-name=ether1] name=ether1",
                "add /interface/bridge name=br1 comment=(unset)",
                "add /interface/bridge name=br2 comment=two",
                "add /ip/address address=10.0.0.1/24 interface=br1",
                "set /system/identity name=core",
            ]
        );
        // The same text: every step finds nothing to do, nothing removed.
        let same = restore_plan(stored, stored).unwrap();
        assert!(same
            .steps
            .iter()
            .all(|s| !matches!(s.action, Action::Remove { .. })));
        assert_eq!(same.steps.len(), 4);
    }

    #[test]
    fn an_ordered_list_is_rebuilt_from_the_first_rule_out_of_place() {
        let stored = "/ip firewall filter add action=accept chain=input comment=a\n/ip firewall filter add action=accept chain=input comment=b\n/ip firewall filter add action=drop chain=input comment=c\n";
        // Rule b was changed (disabled) outside: it is another rule now.
        let current = "/ip firewall filter add action=accept chain=input comment=a\n/ip firewall filter add action=accept chain=input comment=b disabled=yes\n/ip firewall filter add action=drop chain=input comment=c\n";
        let plan = restore_plan(stored, current).unwrap();
        assert_eq!(
            kinds(&plan),
            vec![
                "remove /ip/firewall/filter action=drop chain=input comment=c",
                "remove /ip/firewall/filter action=accept chain=input comment=b disabled=yes",
                "add /ip/firewall/filter action=accept chain=input comment=a",
                "add /ip/firewall/filter action=accept chain=input comment=b",
                "add /ip/firewall/filter action=drop chain=input comment=c",
            ]
        );
    }

    #[test]
    fn a_masked_secret_is_left_as_it_is_and_never_invented() {
        let stored = "/ppp secret add name=alice password=*** service=pptp\n/ppp secret add name=bob password=***\n";
        let current = "/ppp secret add name=alice password=*** service=l2tp\n";
        let e = restore_plan(stored, current).unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.message.contains("secret"), "{e}");
        let plan = restore_plan(
            "/ppp secret add name=alice password=*** service=pptp\n",
            current,
        )
        .unwrap();
        assert_eq!(
            kinds(&plan),
            vec!["add /ppp/secret name=alice service=pptp"]
        );
    }
}
