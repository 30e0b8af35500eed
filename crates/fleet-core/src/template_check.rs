//! The check a template gets as the technician types it (the app's
//! Templates and Provision screens, `fleetdeck-cli template check`).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::template::{filled_automatically, Template, TemplateError, ValueType};

/// A placeholder the template asks for.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct Parameter {
    pub name: String,
    /// The type as written (`ipv4_cidr`, `int(1..4094)`, …).
    pub r#type: String,
    /// Filled from the router or its site at push time.
    pub automatic: bool,
}

/// A template's parameters, or its errors with line and column.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct TemplateCheck {
    pub parameters: Vec<Parameter>,
    pub errors: Vec<TemplateError>,
    /// Why the template, filled with sample values, cannot be pushed step
    /// by step (script logic, a construct the plan does not model): it can
    /// still be pushed as one upload-and-`/import`. `None`: it compiles.
    pub plan_refusal: Option<TemplateError>,
}

/// A value of `ty` its own check accepts: the template is filled with
/// these to be checked whole, offline.
fn sample(ty: &ValueType) -> String {
    match ty {
        ValueType::String | ValueType::Secret => "sample".into(),
        ValueType::Name => "sample-name".into(),
        ValueType::Ipv4 => "192.0.2.1".into(),
        ValueType::Ipv4Cidr => "192.0.2.1/24".into(),
        ValueType::Ipv6 => "2001:db8::1".into(),
        ValueType::Mac => "02:00:00:00:00:01".into(),
        ValueType::Int { min, .. } => min.to_string(),
        ValueType::Bool => "yes".into(),
        ValueType::Duration => "1m".into(),
        ValueType::Enum { values } => values.first().cloned().unwrap_or_default(),
    }
}

/// Checks a template's text without any router: its placeholders, then the
/// script it makes with a sample value of each placeholder's type, as
/// RouterOS would read it (syntax errors with line and column), then the
/// plan that script compiles to.
pub fn check(text: &str) -> TemplateCheck {
    let t = match Template::parse(text) {
        Ok(t) => t,
        Err(errors) => {
            return TemplateCheck {
                parameters: Vec::new(),
                errors,
                plan_refusal: None,
            }
        }
    };
    let parameters: Vec<Parameter> = t
        .parameters()
        .into_iter()
        .map(|(name, ty)| Parameter {
            name: name.to_owned(),
            r#type: ty.to_string(),
            automatic: filled_automatically(name),
        })
        .collect();
    let samples: BTreeMap<String, String> = t
        .parameters()
        .into_iter()
        .map(|(name, ty)| (name.to_owned(), sample(ty)))
        .collect();
    let mut errors = Vec::new();
    let mut plan_refusal = None;
    // A sample a type's own check refuses would be this file's bug, not the
    // template's: then only the placeholders are checked.
    if let Ok(rendered) = t.render(&samples) {
        match routeros_proto::script::parse(rendered.text.as_bytes()) {
            Err(e) => errors.push(TemplateError {
                line: e.line,
                column: e.column,
                message: format!("syntax error: {}", e.message),
            }),
            Ok(_) => {
                if let Err(e) = crate::plan::compile(&rendered.text) {
                    plan_refusal = Some(TemplateError {
                        line: e.line,
                        column: 1,
                        message: e.message,
                    });
                }
            }
        }
    }
    TemplateCheck {
        parameters,
        errors,
        plan_refusal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sample_passes_its_own_types_check() {
        let text = "/x a={{ a: string }} b={{ b: secret }} c={{ c: name }} d={{ d: ipv4 }} e={{ e: ipv4_cidr }} f={{ f: ipv6 }} g={{ g: mac }} h={{ h: int(2..9) }} i={{ i: bool }} j={{ j: duration }} k={{ k: enum(on|off) }}\n";
        let t = Template::parse(text).unwrap();
        let samples: BTreeMap<String, String> = t
            .parameters()
            .into_iter()
            .map(|(n, ty)| (n.to_owned(), sample(ty)))
            .collect();
        assert!(t.render(&samples).is_ok(), "{:?}", t.render(&samples).err());
    }

    #[test]
    fn syntax_errors_are_found_with_line_and_column_and_refusals_said() {
        let merge = check("/system identity set name={{ id: name }}\n<<<<<<< HEAD\n/ip address add address=10.0.0.1/24 interface=ether1\n");
        assert_eq!(merge.errors.len(), 1, "{merge:?}");
        assert_eq!((merge.errors[0].line, merge.errors[0].column), (2, 1));
        assert!(merge.errors[0].message.starts_with("syntax error"));
        let bracket = check("/interface set [ find name=ether1 comment=x\n");
        assert_eq!(bracket.errors.len(), 1, "{bracket:?}");
        assert_eq!(bracket.errors[0].line, 1);
        let logic = check(":local x 1\n/system identity set name={{ id: name }}\n");
        assert!(logic.errors.is_empty(), "{logic:?}");
        let refusal = logic.plan_refusal.expect("logic is refused for a plan");
        assert_eq!(refusal.line, 1);
        assert!(refusal.message.contains(":local"), "{}", refusal.message);
        let fine = check("/system identity set name={{ id: name }}\n");
        assert!(fine.errors.is_empty() && fine.plan_refusal.is_none());
        assert_eq!(fine.parameters.len(), 1);
    }
}
