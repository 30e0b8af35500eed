//! Plans against a simulated factory-default router over the real API:
//! a bootstrap from a template, a dry run that writes nothing, a rerun that
//! changes nothing, and a failure reported at its template line with the
//! router's own message.

use std::collections::BTreeMap;

use fleet_core::{
    plan::{self, Outcome},
    template::Template,
};
use routeros::{Client, Command, ConnectOptions};
use routeros_sim::{SimConfig, SimFleet};

const BOOTSTRAP: &str = r#"/system identity set name={{ id: name }}
/interface bridge add name=bridge1 comment={{ note: string }}
/interface bridge port add bridge=bridge1 interface=ether2
/ip address add address={{ lan: ipv4_cidr }} interface=bridge1
/system scheduler add name=hello interval=1d on-event="/log info \"{{ note }}\""
"#;

async fn router() -> (SimFleet, Client) {
    let sim = SimFleet::start(SimConfig::default()).await.unwrap();
    let client = Client::connect(&ConnectOptions::new("127.0.0.1", sim.port(0), "admin", ""))
        .await
        .unwrap();
    (sim, client)
}

fn rendered(note: &str) -> String {
    let values: BTreeMap<String, String> = [
        ("id", "site-7-core"),
        ("note", note),
        ("lan", "192.168.77.1/24"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    Template::parse(BOOTSTRAP)
        .unwrap()
        .render(&values)
        .unwrap()
        .text
}

async fn identity(c: &Client) -> String {
    c.run(&Command::new("/system/identity/print"))
        .await
        .unwrap()
        .first()
        .and_then(|r| r.get("name").map(|n| n.into_owned()))
        .unwrap()
}

#[tokio::test]
async fn bootstrap_then_rerun_changes_nothing() {
    let (_sim, client) = router().await;
    let note = "installed by \"tech\" $[/system reset-configuration]";
    let plan = plan::compile(&rendered(note)).unwrap();
    assert_eq!(plan.steps.len(), 5);

    // A dry run reports and writes nothing.
    let dry = plan::apply(&client, &plan, true).await;
    assert_eq!(dry.len(), 5);
    assert!(matches!(dry[0].outcome, Outcome::WouldChange { .. }));
    assert!(
        dry[1..].iter().all(|r| r.outcome == Outcome::WouldAdd),
        "{dry:?}"
    );
    assert_ne!(identity(&client).await, "site-7-core");

    let first = plan::apply(&client, &plan, false).await;
    assert!(
        matches!(first[0].outcome, Outcome::Changed { .. }),
        "{first:?}"
    );
    assert!(
        first[1..]
            .iter()
            .all(|r| matches!(r.outcome, Outcome::Added { .. })),
        "{first:?}"
    );
    assert_eq!(identity(&client).await, "site-7-core");
    let bridge = client
        .run(&Command::new("/interface/bridge/print").word("?name=bridge1"))
        .await
        .unwrap();
    assert_eq!(bridge.rows.len(), 1);
    assert_eq!(
        bridge.rows[0].get("comment").unwrap(),
        note,
        "stored exactly, never executed"
    );
    let sched = client
        .run(&Command::new("/system/scheduler/print").word("?name=hello"))
        .await
        .unwrap();
    let on_event = sched.rows[0].get("on-event").unwrap().into_owned();
    assert_eq!(
        on_event,
        format!("/log info \"{}\"", fleet_core::template::escape(note))
    );

    // The same plan again: every step finds the router as it should be.
    let again = plan::apply(&client, &plan, false).await;
    assert!(
        again.iter().all(|r| r.outcome == Outcome::Unchanged),
        "{again:?}"
    );
    let addresses = client
        .run(&Command::new("/ip/address/print").word("?interface=bridge1"))
        .await
        .unwrap();
    assert_eq!(addresses.rows.len(), 1, "no duplicate on rerun");

    // One value changed: only that property is written.
    let changed = plan::compile(&rendered("new note")).unwrap();
    let r = plan::apply(&client, &changed, false).await;
    assert_eq!(
        r[1].outcome,
        Outcome::Changed {
            items: 1,
            properties: vec!["comment".into()]
        }
    );
    assert_eq!(r[3].outcome, Outcome::Unchanged);
}

#[tokio::test]
async fn a_failing_step_stops_the_plan_at_its_line_with_the_routers_message() {
    let (_sim, client) = router().await;
    let text = "/system identity set name=a\n/ip address add address=10.9.9.1/24 interface=no-such-port\n/system identity set name=b\n";
    let plan = plan::compile(text).unwrap();
    let r = plan::apply(&client, &plan, false).await;
    assert_eq!(r.len(), 2, "stops at the failure: {r:?}");
    assert_eq!(r[1].line, 2);
    let Outcome::Failed { message, lost } = &r[1].outcome else {
        panic!("{r:?}")
    };
    assert!(
        !lost,
        "a trap is the router's answer, not a lost connection"
    );
    assert!(
        message.contains("no-such-port") || message.contains("interface"),
        "{message}"
    );
    assert_eq!(
        identity(&client).await,
        "a",
        "nothing after the failure ran"
    );
}

/// A file of the project's own fixtures (tests/fixtures/rsc), as bytes.
fn fixture(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/rsc")
        .join(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    String::from_utf8(bytes).unwrap()
}

/// A bootstrap file that is a plain list of configuration compiles to a
/// plan, lands on a factory-default router, and changes nothing the
/// second time.
#[tokio::test]
async fn a_plain_bootstrap_file_compiles_applies_and_converges() {
    let (_sim, client) = router().await;
    let plan = plan::compile(&fixture("bootstrap-plain.rsc")).unwrap();
    assert_eq!(plan.steps.len(), 5, "{plan:?}");
    let lines: Vec<u32> = plan.steps.iter().map(|s| s.line).collect();
    assert_eq!(
        lines,
        [3, 5, 7, 9, 11],
        "each step keeps its line in the file"
    );
    let first = plan::apply(&client, &plan, false).await;
    assert!(
        first
            .iter()
            .all(|r| !matches!(r.outcome, Outcome::Failed { .. })),
        "{first:?}"
    );
    assert_eq!(identity(&client).await, "site-router");
    let again = plan::apply(&client, &plan, false).await;
    assert!(
        again.iter().all(|r| r.outcome == Outcome::Unchanged),
        "{again:?}"
    );
}

/// A script with logic is refused before it reaches a router, naming the
/// construct and the line it is on.
#[test]
fn a_bootstrap_with_logic_is_refused_at_its_line() {
    let e = plan::compile(&fixture("bootstrap-with-logic.rsc")).unwrap_err();
    assert_eq!(e.line, 2, "{e}");
    assert!(e.message.contains("local"), "{e}");
}

/// `set N`, as RouterOS's export prints items without a name, is resolved
/// against the router's own listing when it runs: a dry run says what
/// would change and writes nothing, the push changes that item only, a
/// rerun changes nothing, and a position the router does not list fails
/// with how many it lists.
#[tokio::test]
async fn a_set_by_position_changes_the_item_the_router_lists_there() {
    let (_sim, c) = router().await;
    let listed = c.run(&Command::new("/interface/print")).await.unwrap();
    assert!(listed.rows.len() >= 2);
    let second = listed.rows[1].get("name").unwrap().into_owned();
    let second_id = listed.rows[1].get(".id").unwrap().into_owned();
    let plan = plan::compile("/interface\nset 1 comment=uplink\n").unwrap();
    let dry = plan::apply(&c, &plan, true).await;
    assert!(
        matches!(&dry[0].outcome, Outcome::WouldChange { properties } if properties == &["comment"]),
        "{dry:?}"
    );
    // The dry run names the item the position is on this router.
    assert_eq!(
        dry[0].item.as_deref(),
        Some(format!("item 1 of /interface: {second_id} (name={second})").as_str()),
        "{dry:?}"
    );
    let comment_of = |rows: &routeros::Response, name: &str| {
        rows.rows
            .iter()
            .find(|r| r.get("name").as_deref() == Some(name))
            .and_then(|r| r.get("comment").map(|c| c.into_owned()))
    };
    let after_dry = c.run(&Command::new("/interface/print")).await.unwrap();
    assert_eq!(
        comment_of(&after_dry, &second),
        None,
        "a dry run writes nothing"
    );
    let done = plan::apply(&c, &plan, false).await;
    assert!(
        matches!(done[0].outcome, Outcome::Changed { items: 1, .. }),
        "{done:?}"
    );
    let after = c.run(&Command::new("/interface/print")).await.unwrap();
    assert_eq!(comment_of(&after, &second).as_deref(), Some("uplink"));
    let first = listed.rows[0].get("name").unwrap().into_owned();
    assert_eq!(comment_of(&after, &first), None, "only that item");
    let again = plan::apply(&c, &plan, false).await;
    assert_eq!(again[0].outcome, Outcome::Unchanged);
    let beyond = plan::compile("/interface set 99 comment=x\n").unwrap();
    let r = plan::apply(&c, &beyond, false).await;
    let Outcome::Failed { message, lost } = &r[0].outcome else {
        panic!("{r:?}")
    };
    assert!(!lost);
    assert!(
        message.contains("item 99 of /interface is not there")
            && message.contains(&format!("lists {} item", listed.rows.len())),
        "{message}"
    );
}

/// A flag written bare (`disabled`-style) and a property written `!name`
/// (an export's "not set") are pushed the way the API takes them — the
/// flag with an empty value, the other with `unset` — and a rerun
/// changes nothing.
#[tokio::test]
async fn bare_flags_and_unsets_are_pushed_and_converge() {
    let (_sim, c) = router().await;
    // The router before: a bridge with a comment.
    let before = plan::compile("/interface bridge add name=br-flag comment=was-set\n").unwrap();
    plan::apply(&c, &before, false).await;
    let plan = plan::compile("/interface bridge set [ find name=br-flag ] !comment fast-forward\n")
        .unwrap();
    let dry = plan::apply(&c, &plan, true).await;
    assert!(
        matches!(&dry[0].outcome, Outcome::WouldChange { properties } if properties == &["comment", "fast-forward"]),
        "{dry:?}"
    );
    let first = plan::apply(&c, &plan, false).await;
    assert!(
        matches!(first[0].outcome, Outcome::Changed { items: 1, .. }),
        "{first:?}"
    );
    let rows = c
        .run(&Command::new("/interface/bridge/print"))
        .await
        .unwrap();
    let bridge = rows
        .rows
        .iter()
        .find(|r| r.get("name").as_deref() == Some("br-flag"))
        .unwrap();
    assert_eq!(bridge.get("comment"), None, "unset: no longer listed");
    assert_eq!(
        bridge.get("fast-forward").as_deref(),
        Some(""),
        "the flag sent with an empty value"
    );
    let again = plan::apply(&c, &plan, false).await;
    assert!(
        again.iter().all(|r| r.outcome == Outcome::Unchanged),
        "{again:?}"
    );
}
