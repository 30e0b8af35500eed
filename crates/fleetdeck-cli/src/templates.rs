//! The `template` command and reading templates and their values, rendering
//! them and turning them into plans.

use std::process::ExitCode;

use anyhow::Context;

use crate::args::TemplateCmd;

pub(crate) fn read_template(
    file: &std::path::Path,
) -> anyhow::Result<fleet_core::template::Template> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("cannot read the template {}", file.display()))?;
    fleet_core::template::Template::parse(&text).map_err(|errors| {
        for e in &errors {
            eprintln!("{}:{e}", file.display());
        }
        anyhow::anyhow!("{} error(s) in {}", errors.len(), file.display())
    })
}

/// Reads a template and its values and renders it; every error is printed
/// with the template's name, line and column.
pub(crate) fn render_template(
    file: &std::path::Path,
    values: &std::path::Path,
) -> anyhow::Result<fleet_core::template::Rendered> {
    let t = read_template(file)?;
    t.render(&read_values(values)?).map_err(|errors| {
        for e in &errors {
            eprintln!("{}:{e}", file.display());
        }
        anyhow::anyhow!("{} value error(s) for {}", errors.len(), file.display())
    })
}

/// Values by placeholder name, from JSON or TOML; numbers and booleans are
/// taken as their text.
pub(crate) fn read_values(
    file: &std::path::Path,
) -> anyhow::Result<std::collections::BTreeMap<String, String>> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("cannot read the values {}", file.display()))?;
    let table: serde_json::Map<String, serde_json::Value> = if file
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("toml"))
    {
        let t: toml::Table = toml::from_str(&text)
            .with_context(|| format!("{} is not valid TOML", file.display()))?;
        serde_json::to_value(t)?
            .as_object()
            .cloned()
            .unwrap_or_default()
    } else {
        serde_json::from_str(&text)
            .with_context(|| format!("{} is not a JSON object", file.display()))?
    };
    table
        .into_iter()
        .map(|(k, v)| {
            let text = match v {
                serde_json::Value::String(s) => s,
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::Bool(b) => b.to_string(),
                other => {
                    anyhow::bail!("value {k:?} must be text, a number or true/false, not {other}")
                }
            };
            Ok((k, text))
        })
        .collect()
}

pub(crate) fn template(action: TemplateCmd) -> anyhow::Result<ExitCode> {
    match action {
        TemplateCmd::Check { file } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read the template {}", file.display()))?;
            let check = fleet_core::template_check::check(&text);
            if !check.errors.is_empty() {
                for e in &check.errors {
                    eprintln!("{}:{e}", file.display());
                }
                anyhow::bail!("{} error(s) in {}", check.errors.len(), file.display());
            }
            for p in check.parameters {
                let filled = if p.automatic {
                    " (filled from the router)"
                } else {
                    ""
                };
                println!("{}: {}{filled}", p.name, p.r#type);
            }
            if let Some(r) = check.plan_refusal {
                eprintln!(
                    "{}:{}: cannot be pushed step by step: {}; push it with --import (one upload-and-/import) instead",
                    file.display(),
                    r.line,
                    r.message
                );
            }
        }
        TemplateCmd::Render {
            file,
            values,
            preview,
        } => {
            let rendered = render_template(&file, &values)?;
            print!(
                "{}",
                if preview {
                    rendered.preview
                } else {
                    rendered.text
                }
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
