//! Templates kept in the fleet store (synced like sites and routers):
//! list, save (checked first), and test-render with sample values.

use std::collections::BTreeMap;

use fleet_core::{
    fleet_store::Template as StoredTemplate,
    template::{Template, TemplateError},
};
use serde::Serialize;
use tauri::State;

use crate::{AppState, CommandError};

#[tauri::command]
pub async fn list_templates(
    state: State<'_, AppState>,
) -> Result<Vec<StoredTemplate>, CommandError> {
    let mut all = state.fleet()?.store().list_templates().await?;
    all.sort_by_key(|t| t.name.to_lowercase());
    Ok(all)
}

/// Saves a template that parses; `id` empty makes a new one.
#[tauri::command]
pub async fn save_template(
    state: State<'_, AppState>,
    id: String,
    name: String,
    body: String,
) -> Result<StoredTemplate, CommandError> {
    let name = name.trim();
    if name.is_empty() || name.len() > 120 {
        return Err(CommandError::invalid(
            "give the template a name (up to 120 characters)",
        ));
    }
    if let Err(errors) = Template::parse(&body) {
        return Err(CommandError::invalid(format!(
            "the template is not saved: {} error(s), the first at {}",
            errors.len(),
            errors[0]
        )));
    }
    let t = StoredTemplate {
        id: if id.is_empty() {
            fleet_core::fleet_store::new_id()
        } else {
            id
        },
        name: name.to_owned(),
        body,
        updated_at: fleet_core::poll::now_ms(),
    };
    state.fleet()?.store().save_template(&t).await?;
    Ok(t)
}

#[derive(Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct TestRender {
    /// The rendered script with secrets masked, when every value fits.
    rendered: Option<String>,
    errors: Vec<TemplateError>,
}

/// Renders a template with sample values (no router involved): the text
/// a push would send, secrets masked, or each value's error.
#[tauri::command]
pub fn test_render(body: String, values: BTreeMap<String, String>) -> TestRender {
    match Template::parse(&body).and_then(|t| t.render(&values)) {
        Ok(r) => TestRender {
            rendered: Some(r.preview),
            errors: Vec::new(),
        },
        Err(errors) => TestRender {
            rendered: None,
            errors,
        },
    }
}
