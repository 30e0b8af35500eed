//! The check a template gets as the technician types it (the app's
//! Templates and Provision screens, `fleetdeck-cli template check`).

use serde::Serialize;

use crate::template::{filled_automatically, Template, TemplateError};

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
}

/// Checks a template's text without any router.
pub fn check(text: &str) -> TemplateCheck {
    match Template::parse(text) {
        Ok(t) => TemplateCheck {
            parameters: t
                .parameters()
                .into_iter()
                .map(|(name, ty)| Parameter {
                    name: name.to_owned(),
                    r#type: ty.to_string(),
                    automatic: filled_automatically(name),
                })
                .collect(),
            errors: Vec::new(),
        },
        Err(errors) => TemplateCheck {
            parameters: Vec::new(),
            errors,
        },
    }
}
