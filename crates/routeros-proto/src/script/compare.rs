//! Exports compared by what they say, not how they were printed
//! (ROUTEROS.md §4.4). For showing an export as a diff, fleet-core's
//! preview prints it one command per line as written; this is for deciding
//! whether two exports hold the same configuration.

use super::{quote_value, Arg, MenuCommand, ScriptError, Selector, Value};

/// The commands an export holds, one line each: full menu path, verb,
/// selector and properties with every value quoted one way. Two exports
/// with the same commands in the same order give the same lines, whatever
/// their wrapping, quoting, escapes or `terse` layout. Anything that is not
/// a plain export command (logic, computed values) is an error naming its
/// line.
pub fn export_commands(text: &[u8]) -> Result<Vec<String>, ScriptError> {
    let script = super::parse(text)?;
    script
        .commands
        .iter()
        .filter_map(|c| c.as_menu().map(|m| (c.line, m)))
        .map(|(line, m)| {
            command_line(m).ok_or_else(|| ScriptError {
                line,
                column: 1,
                message: "not a plain export command: a value or selector is computed".into(),
            })
        })
        .collect()
}

fn value(v: &Value) -> Option<String> {
    v.literal().map(|b| quote_value(&b))
}

fn command_line(m: &MenuCommand) -> Option<String> {
    let mut s = format!("/{} {}", m.path.join("/"), m.verb);
    match &m.selector {
        None => {}
        Some(Selector::Find(f)) => {
            let eqs: Vec<String> = f
                .equalities()?
                .iter()
                .map(|(k, v)| format!("{k}={}", quote_value(v)))
                .collect();
            s.push_str(&format!(" [find {}]", eqs.join(" ")));
        }
        Some(Selector::Id(id)) => s.push_str(&format!(" {id}")),
        Some(Selector::Number(n)) => s.push_str(&format!(" #{n}")),
        Some(Selector::Value(v)) => s.push_str(&format!(" {}", value(v)?)),
    }
    for a in &m.expanded_args() {
        match a {
            Arg::Named { name, value: v } => s.push_str(&format!(" {name}={}", value(v)?)),
            Arg::Positional(v) => s.push_str(&format!(" {}", quote_value(&v.literal()?))),
            Arg::Where(_) => return None,
        }
    }
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_commands_however_printed_compare_equal() {
        let sectioned = b"/interface ethernet\nset [ find default-name=ether1 ] name=wan\n/routing table\nadd fib name=t1\n/ip service\nset telnet disabled=yes\n";
        let terse = b"/interface ethernet set [ find default-name=\"ether1\" ] name=\"wan\"\n/routing table add fib name=t1\n/ip service set \"telnet\" disabled=yes\n";
        assert_eq!(
            export_commands(sectioned).unwrap(),
            export_commands(terse).unwrap()
        );
        let changed = b"/interface ethernet\nset [ find default-name=ether1 ] name=lan\n";
        assert_ne!(
            export_commands(changed).unwrap()[0],
            export_commands(sectioned).unwrap()[0]
        );
        // v7's grouped-property shorthand is the property it stands for.
        assert_eq!(
            export_commands(b"/routing bgp connection\nadd local.address=10.0.0.1 .role=ebgp\n")
                .unwrap(),
            export_commands(
                b"/routing/bgp/connection add local.address=10.0.0.1 local.role=ebgp\n"
            )
            .unwrap()
        );
        let e = export_commands(b"/ip address\nadd address=$a interface=ether1\n").unwrap_err();
        assert_eq!(e.line, 2);
    }
}
