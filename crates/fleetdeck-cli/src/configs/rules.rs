//! `config rule list|add|disable`: the compliance rules of `fleet_core`.

use std::process::ExitCode;

use fleet_core::compliance::{RuleCheck, RuleInput, RuleScope};

use crate::{args::RuleCmd, util::open_fleet_at};

pub(crate) async fn rule(action: RuleCmd) -> anyhow::Result<ExitCode> {
    match action {
        RuleCmd::List { store, json } => {
            let fleet = open_fleet_at(store.as_deref()).await?;
            for r in fleet.compliance_rules().await? {
                if json {
                    println!("{}", serde_json::to_string(&r)?);
                } else {
                    let scope = match &r.scope {
                        RuleScope::All => "every router".to_owned(),
                        RuleScope::Site { site_id } => format!("site {site_id}"),
                        RuleScope::Tag { tag } => format!("tag {tag}"),
                    };
                    let on = if r.enabled { "" } else { " (off)" };
                    println!(
                        "{:<32} {scope}{on}: {}",
                        r.name,
                        serde_json::to_string(&r.check)?
                    );
                }
            }
        }
        RuleCmd::Add {
            name,
            tag,
            site,
            must_contain,
            must_not_contain,
            path,
            item,
            property,
            equals,
            store,
        } => {
            let check = match (must_contain, must_not_contain, path, property) {
                (Some(text), None, None, _) => RuleCheck::MustContain { text },
                (None, Some(text), None, _) => RuleCheck::MustNotContain { text },
                (None, None, Some(path), Some(property)) => RuleCheck::PropertyEquals {
                    path,
                    item,
                    property,
                    value: equals,
                },
                _ => anyhow::bail!(
                    "give one of --must-contain, --must-not-contain, or --path with --property"
                ),
            };
            let scope = match (tag, site) {
                (Some(tag), _) => RuleScope::Tag { tag },
                (None, Some(site_id)) => RuleScope::Site { site_id },
                (None, None) => RuleScope::All,
            };
            let fleet = open_fleet_at(store.as_deref()).await?;
            let id = fleet
                .compliance_rules()
                .await?
                .into_iter()
                .find(|r| r.name == name)
                .map(|r| r.id);
            let r = fleet
                .save_compliance_rule(&RuleInput {
                    id,
                    name,
                    scope,
                    check,
                    enabled: true,
                })
                .await?;
            println!("rule {:?} saved", r.name);
        }
        RuleCmd::Disable {
            name,
            enable,
            store,
        } => {
            let fleet = open_fleet_at(store.as_deref()).await?;
            let Some(r) = fleet
                .compliance_rules()
                .await?
                .into_iter()
                .find(|r| r.name == name)
            else {
                anyhow::bail!("there is no rule named {name:?}: `config rule list` shows them");
            };
            fleet
                .save_compliance_rule(&RuleInput {
                    id: Some(r.id),
                    name: r.name,
                    scope: r.scope,
                    check: r.check,
                    enabled: enable,
                })
                .await?;
            println!("rule {name:?} is {}", if enable { "on" } else { "off" });
        }
    }
    Ok(ExitCode::SUCCESS)
}
