//! Compliance rules: what every router's configuration must or must not
//! hold, per site or tag, checked over each router's newest stored version
//! (so a report needs no network), and again on every new version: a
//! change that breaks a rule raises an alert.

use fleet_store::{AuditAction, ConfigRuleRecord, Device, FleetStore};
use routeros_proto::script::{self, Arg, MenuCommand, Selector};
use serde::{Deserialize, Serialize};

use crate::{poll, Fleet, FleetError};

/// What a rule checks, over the normalised configuration (one command per
/// line, full menu path: `/ip service set api address=10.0.0.0/8`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    tag = "kind"
)]
pub enum RuleCheck {
    /// Some line holds `text` (exactly, case and all).
    MustContain { text: String },
    /// No line holds `text`.
    MustNotContain { text: String },
    /// In menu `path` (`/ip service`), the item `item` names (`api`,
    /// `default-name=ether1`; empty for a menu of settings such as
    /// `/ip dns`) has `property` equal to `value`. Not in the
    /// configuration means at the router's default, which only an empty
    /// `value` accepts.
    PropertyEquals {
        path: String,
        item: String,
        property: String,
        value: String,
    },
}

/// Which routers a rule is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    tag = "kind"
)]
pub enum RuleScope {
    All,
    Site { site_id: String },
    Tag { tag: String },
}

impl RuleScope {
    fn stored(&self) -> String {
        match self {
            RuleScope::All => String::new(),
            RuleScope::Site { site_id } => format!("site:{site_id}"),
            RuleScope::Tag { tag } => format!("tag:{tag}"),
        }
    }

    fn from_stored(s: &str) -> Self {
        match s.split_once(':') {
            Some(("site", id)) => RuleScope::Site {
                site_id: id.to_owned(),
            },
            Some(("tag", t)) => RuleScope::Tag { tag: t.to_owned() },
            _ => RuleScope::All,
        }
    }

    /// Whether a router of `site_id` with `tags` is one of these.
    pub fn covers(&self, site_id: Option<&str>, tags: &[String]) -> bool {
        match self {
            RuleScope::All => true,
            RuleScope::Site { site_id: s } => site_id == Some(s.as_str()),
            RuleScope::Tag { tag } => tags.iter().any(|t| t == tag),
        }
    }
}

/// A compliance rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct ComplianceRule {
    pub id: String,
    pub name: String,
    pub scope: RuleScope,
    pub check: RuleCheck,
    /// Off: kept (and synced), not checked.
    pub enabled: bool,
    pub updated_at: i64,
}

/// A rule as the technician writes it; `id` to edit one.
#[derive(Debug, Clone, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct RuleInput {
    #[serde(default)]
    pub id: Option<String>,
    pub name: String,
    pub scope: RuleScope,
    pub check: RuleCheck,
    pub enabled: bool,
}

/// One rule on one router.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct RuleOutcome {
    pub rule_id: String,
    pub rule: String,
    pub passed: bool,
    /// The line that decided it, or why none did.
    pub detail: String,
}

/// One router's standing against the rules for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct RouterCompliance {
    pub device_id: String,
    pub name: String,
    /// The version checked; `None`: no backup yet, so nothing could be
    /// checked (which is not a pass).
    pub version_id: Option<String>,
    pub outcomes: Vec<RuleOutcome>,
}

impl RouterCompliance {
    pub fn failed(&self) -> usize {
        self.outcomes.iter().filter(|o| !o.passed).count()
    }
}

/// One rule across the fleet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct RuleSummary {
    pub rule_id: String,
    pub name: String,
    pub passed: usize,
    pub failed: usize,
    /// Routers it is for that have no backup to check.
    pub unchecked: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct ComplianceReport {
    pub routers: Vec<RouterCompliance>,
    pub rules: Vec<RuleSummary>,
}

impl ComplianceReport {
    /// Rules failed, plus routers that could not be checked.
    pub fn problems(&self) -> usize {
        self.rules.iter().map(|r| r.failed + r.unchecked).sum()
    }
}

fn rule_of(r: ConfigRuleRecord) -> Result<ComplianceRule, FleetError> {
    let check = serde_json::from_str(&r.body).map_err(|e| {
        FleetError::UnexpectedReply(format!(
            "rule {:?} is stored in a form this Fleetdeck does not know ({e}); a newer Fleetdeck wrote it",
            r.name
        ))
    })?;
    Ok(ComplianceRule {
        id: r.id,
        name: r.name,
        scope: RuleScope::from_stored(&r.scope),
        check,
        enabled: r.enabled,
        updated_at: r.updated_at,
    })
}

/// The rules, as stored.
async fn rules(store: &FleetStore) -> Result<Vec<ComplianceRule>, FleetError> {
    store
        .list_config_rules()
        .await?
        .into_iter()
        .map(rule_of)
        .collect()
}

fn validate(input: &RuleInput) -> Result<(), FleetError> {
    let bad = |m: &str| Err(FleetError::InvalidInput(m.to_owned()));
    if input.name.trim().is_empty() {
        return bad("give the rule a name");
    }
    match &input.check {
        RuleCheck::MustContain { text } | RuleCheck::MustNotContain { text }
            if text.trim().is_empty() =>
        {
            bad("enter the text the configuration must (or must not) hold")
        }
        RuleCheck::PropertyEquals { path, property, .. } => {
            if menu_path(path).is_empty() {
                bad("enter the menu, e.g. /ip service")
            } else if property.trim().is_empty() || property.contains(['=', ' ']) {
                bad("enter the property's name, e.g. address")
            } else {
                Ok(())
            }
        }
        _ => Ok(()),
    }
}

impl Fleet {
    /// Every compliance rule, by name.
    pub async fn compliance_rules(&self) -> Result<Vec<ComplianceRule>, FleetError> {
        rules(self.store()).await
    }

    /// Adds a rule, or changes the one `input.id` names.
    pub async fn save_compliance_rule(
        &self,
        input: &RuleInput,
    ) -> Result<ComplianceRule, FleetError> {
        validate(input)?;
        let id = input.id.clone().unwrap_or_else(fleet_store::new_id);
        let existing = rules(self.store()).await?;
        let updated_at = existing
            .iter()
            .find(|r| r.id == id)
            .map_or(0, |r| r.updated_at + 1)
            .max(poll::now_ms());
        let rule = ComplianceRule {
            id,
            name: input.name.trim().to_owned(),
            scope: input.scope.clone(),
            check: input.check.clone(),
            enabled: input.enabled,
            updated_at,
        };
        let body = serde_json::to_string(&rule.check)
            .map_err(|e| FleetError::InvalidInput(e.to_string()))?;
        self.store()
            .save_config_rule(&ConfigRuleRecord {
                id: rule.id.clone(),
                name: rule.name.clone(),
                scope: rule.scope.stored(),
                body,
                enabled: rule.enabled,
                updated_at: rule.updated_at,
            })
            .await?;
        Ok(rule)
    }

    /// Every router (or those named) against the rules for it, over its
    /// newest stored version: answered from the store alone.
    pub async fn config_check(
        &self,
        device_ids: Option<Vec<String>>,
    ) -> Result<ComplianceReport, FleetError> {
        let store = self.store();
        let rules: Vec<ComplianceRule> = rules(store)
            .await?
            .into_iter()
            .filter(|r| r.enabled)
            .collect();
        let latest = store.latest_config_versions().await?;
        let devices: Vec<Device> = store
            .list_devices()
            .await?
            .into_iter()
            .filter(|d| device_ids.as_ref().is_none_or(|ids| ids.contains(&d.id)))
            .collect();
        let mut summaries: Vec<RuleSummary> = rules
            .iter()
            .map(|r| RuleSummary {
                rule_id: r.id.clone(),
                name: r.name.clone(),
                passed: 0,
                failed: 0,
                unchecked: 0,
            })
            .collect();
        let mut routers = Vec::new();
        for d in devices {
            let applicable: Vec<(usize, &ComplianceRule)> = rules
                .iter()
                .enumerate()
                .filter(|(_, r)| r.scope.covers(d.site_id.as_deref(), &d.tags))
                .collect();
            let name = d
                .identity
                .clone()
                .unwrap_or_else(|| format!("{}:{}", d.host, d.port));
            let version = latest.iter().find(|v| v.device_id == d.id);
            // Read only when a rule needs it: 10,000 texts are not read
            // for a fleet without rules.
            let text = match version {
                Some(v) if !applicable.is_empty() => store.config_text(&v.hash).await?,
                _ => None,
            };
            let mut outcomes = Vec::new();
            for (i, rule) in &applicable {
                match &text {
                    Some(text) => {
                        let (passed, detail) = evaluate(&rule.check, text);
                        if passed {
                            summaries[*i].passed += 1;
                        } else {
                            summaries[*i].failed += 1;
                        }
                        outcomes.push(RuleOutcome {
                            rule_id: rule.id.clone(),
                            rule: rule.name.clone(),
                            passed,
                            detail,
                        });
                    }
                    None => summaries[*i].unchecked += 1,
                }
            }
            routers.push(RouterCompliance {
                device_id: d.id,
                name,
                version_id: version
                    .filter(|_| applicable.is_empty() || text.is_some())
                    .map(|v| v.id.clone()),
                outcomes,
            });
        }
        routers.sort_by_key(|r| r.name.to_lowercase());
        Ok(ComplianceReport {
            routers,
            rules: summaries,
        })
    }
}

/// A new version of `device_id`'s configuration (the version with text
/// hash `previous` before it): each rule for the router it breaks, that
/// the previous one kept (or on the first version), is an alert.
pub(crate) async fn alert_on_new_version(
    store: &FleetStore,
    device_id: &str,
    text: &str,
    previous: Option<&str>,
) -> Result<(), FleetError> {
    let rules = rules(store).await?;
    if !rules.iter().any(|r| r.enabled) {
        return Ok(());
    }
    let device = store.get_device(device_id).await?;
    let previous = match previous {
        Some(hash) => store.config_text(hash).await?,
        None => None,
    };
    let previous = previous.as_deref();
    for rule in rules
        .iter()
        .filter(|r| r.enabled && r.scope.covers(device.site_id.as_deref(), &device.tags))
    {
        let (passed, detail) = evaluate(&rule.check, text);
        let kept_before = previous.is_none_or(|p| evaluate(&rule.check, p).0);
        if !passed && kept_before {
            crate::configs::audit(
                store,
                device_id,
                AuditAction::AlertConfigRule,
                format!("the configuration breaks rule {:?}: {detail}", rule.name),
            )
            .await;
        }
    }
    Ok(())
}

/// `/ip service`, `/ip/service` or `ip service` as path words.
fn menu_path(path: &str) -> Vec<String> {
    path.split(['/', ' '])
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Whether `check` holds for `text`, and the line (1-based) or reason.
pub fn evaluate(check: &RuleCheck, text: &str) -> (bool, String) {
    let line_with = |needle: &str| {
        text.lines()
            .enumerate()
            .find(|(_, l)| l.contains(needle))
            .map(|(i, l)| format!("line {}: {l}", i + 1))
    };
    match check {
        RuleCheck::MustContain { text: needle } => match line_with(needle) {
            Some(at) => (true, at),
            None => (false, format!("no line holds {needle:?}")),
        },
        RuleCheck::MustNotContain { text: needle } => match line_with(needle) {
            Some(at) => (false, at),
            None => (true, format!("no line holds {needle:?}")),
        },
        RuleCheck::PropertyEquals {
            path,
            item,
            property,
            value,
        } => property_equals(text, &menu_path(path), item.trim(), property, value),
    }
}

fn property_equals(
    text: &str,
    path: &[String],
    item: &str,
    property: &str,
    wanted: &str,
) -> (bool, String) {
    let menu = format!("/{}", path.join(" "));
    let what = if item.is_empty() {
        format!("{menu} {property}")
    } else {
        format!("{menu} {item} {property}")
    };
    let Ok(parsed) = script::parse(text.as_bytes()) else {
        return (
            false,
            "the stored configuration does not parse, so the rule cannot be checked".into(),
        );
    };
    let mut found: Option<(u32, Vec<u8>)> = None;
    for c in &parsed.commands {
        let Some(m) = c.as_menu() else { continue };
        if m.path != path || !names_item(m, item) {
            continue;
        }
        for a in m.expanded_args() {
            if let Arg::Named { name, value } = a {
                if name == property {
                    if let Some(v) = value.literal() {
                        found = Some((c.line, v));
                    }
                }
            }
        }
    }
    match found {
        Some((line, v)) => {
            let v = String::from_utf8_lossy(&v).into_owned();
            let passed = v == wanted;
            let detail = if passed {
                format!("line {line}: {what} is {v:?}")
            } else {
                format!("line {line}: {what} is {v:?}, the rule wants {wanted:?}")
            };
            (passed, detail)
        }
        None if wanted.is_empty() => (true, format!("{what} is not set (the router's default)")),
        None => (
            false,
            format!("{what} is not set (the router's default), the rule wants {wanted:?}"),
        ),
    }
}

/// Whether `m` is about the item `item` names: `api` is `name=api`;
/// `k=v` matches a `[ find k=v ]`, a `set v` for names, or an `add k=v`.
fn names_item(m: &MenuCommand, item: &str) -> bool {
    if item.is_empty() {
        return true;
    }
    let (k, v) = item.split_once('=').unwrap_or(("name", item));
    let v = v.trim_matches('"').as_bytes();
    match &m.selector {
        Some(Selector::Find(f)) => f
            .equalities()
            .is_some_and(|eqs| eqs.iter().any(|(ek, ev)| ek == k && ev == v)),
        Some(Selector::Value(name)) => k == "name" && name.literal().as_deref() == Some(v),
        Some(_) => false,
        None => m.expanded_args().iter().any(|a| {
            matches!(a, Arg::Named { name, value } if name == k && value.literal().as_deref() == Some(v))
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "/interface ethernet set [ find default-name=ether1 ] name=wan\n/ip service set telnet disabled=yes\n/ip service set api address=10.0.0.0/8\n/ip dns set servers=10.0.0.1\n/system identity set name=core-1\n";

    fn equals(path: &str, item: &str, property: &str, value: &str) -> RuleCheck {
        RuleCheck::PropertyEquals {
            path: path.into(),
            item: item.into(),
            property: property.into(),
            value: value.into(),
        }
    }

    #[test]
    fn each_kind_of_rule_passes_and_fails_with_the_deciding_line() {
        let contains = |t: &str| RuleCheck::MustContain { text: t.into() };
        let lacks = |t: &str| RuleCheck::MustNotContain { text: t.into() };
        assert_eq!(
            evaluate(&contains("telnet disabled=yes"), TEXT),
            (true, "line 2: /ip service set telnet disabled=yes".into())
        );
        assert!(!evaluate(&contains("ssh disabled=yes"), TEXT).0);
        let (ok, why) = evaluate(&lacks("name=core-1"), TEXT);
        assert!(!ok && why.starts_with("line 5"), "{why}");
        assert!(evaluate(&lacks("/ip service set www"), TEXT).0);

        let (ok, why) = evaluate(&equals("/ip service", "api", "address", "10.0.0.0/8"), TEXT);
        assert!(ok, "{why}");
        let (ok, why) = evaluate(&equals("/ip/service", "api", "address", "0.0.0.0/0"), TEXT);
        assert!(!ok && why.contains("is \"10.0.0.0/8\""), "{why}");
        // A service the configuration does not mention is at its default.
        let (ok, why) = evaluate(&equals("/ip service", "ssh", "address", "10.0.0.0/8"), TEXT);
        assert!(!ok && why.contains("not set"), "{why}");
        assert!(evaluate(&equals("/ip service", "ssh", "address", ""), TEXT).0);
        // A menu of settings, and an item found by another property.
        assert!(evaluate(&equals("ip dns", "", "servers", "10.0.0.1"), TEXT).0);
        assert!(
            evaluate(
                &equals("/interface ethernet", "default-name=ether1", "name", "wan"),
                TEXT
            )
            .0
        );
        assert!(
            !evaluate(
                &equals("/interface ethernet", "default-name=ether2", "name", "wan"),
                TEXT
            )
            .0
        );
    }

    #[test]
    fn scopes_cover_their_routers_and_round_trip_as_stored() {
        let tags = vec!["core".to_owned()];
        for scope in [
            RuleScope::All,
            RuleScope::Site {
                site_id: "s1".into(),
            },
            RuleScope::Tag { tag: "core".into() },
        ] {
            assert_eq!(RuleScope::from_stored(&scope.stored()), scope);
            assert!(scope.covers(Some("s1"), &tags));
        }
        assert!(!RuleScope::Site {
            site_id: "s1".into()
        }
        .covers(Some("s2"), &tags));
        assert!(!RuleScope::Tag { tag: "edge".into() }.covers(None, &tags));
    }
}
