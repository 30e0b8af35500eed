//! The simulator's clock and `/system scheduler`, driven over the API as a
//! push drives them: items fire by interval and start time, run their
//! `on-event` (scripts, backups, reboots), and a safety-net-shaped event
//! restores the backup.

use std::{sync::Arc, time::Duration};

use routeros::{Client, Command, ConnectOptions};
use routeros_sim::{wait, Device, SimConfig, SimFleet};

async fn router() -> SimFleet {
    SimFleet::start(SimConfig {
        devices: 1,
        password: "pw".into(),
        reboot_delay: Duration::from_millis(200),
        ..SimConfig::default()
    })
    .await
    .unwrap()
}

async fn login(sim: &SimFleet) -> Client {
    let mut o = ConnectOptions::new("127.0.0.1", sim.port(0), "admin", "pw");
    o.command_timeout = Duration::from_secs(10);
    wait::until_some("a session", wait::DEADLINE, || {
        let o = o.clone();
        async move { Client::connect(&o).await.ok() }
    })
    .await
}

async fn identity(c: &Client) -> String {
    c.run(&Command::new("/system/identity/print"))
        .await
        .unwrap()
        .rows[0]
        .get("name")
        .unwrap()
        .into_owned()
}

fn minutes(n: u64) -> Duration {
    Duration::from_secs(60 * n)
}

#[tokio::test]
async fn an_interval_fires_once_it_has_passed_and_then_on_its_beat() {
    let sim = router().await;
    let c = login(&sim).await;
    c.run(
        &Command::new("/system/scheduler/add")
            .attr("name", "rename")
            .attr("interval", "10m")
            .attr("on-event", "/system identity set name=renamed"),
    )
    .await
    .unwrap();
    let d = sim.device(0);
    // The router shows when it fires next, on its own clock.
    let shown = |c: Client| async move {
        let item = c
            .run(&Command::new("/system/scheduler/print"))
            .await
            .unwrap()
            .rows[0]
            .clone();
        let clock = c
            .run(&Command::new("/system/clock/print"))
            .await
            .unwrap()
            .rows[0]
            .clone();
        (
            item.get("next-run").unwrap().into_owned(),
            item.get("run-count").unwrap().into_owned(),
            format!(
                "{} {}",
                clock.get("date").unwrap(),
                clock.get("time").unwrap()
            ),
        )
    };
    let (next, count, now) = shown(c.clone()).await;
    assert_eq!(count, "0");
    assert!(next > now, "next run {next} after now {now}");
    assert_eq!(
        (&next[4..5], &next[7..8], &next[10..11]),
        ("-", "-", " "),
        "7.16 prints ISO dates: {next}"
    );
    d.advance_clock(minutes(9));
    assert!(d.scheduler_runs().is_empty(), "{:?}", d.scheduler_runs());
    assert_eq!(identity(&c).await, "sim-router-0000");
    d.advance_clock(minutes(2));
    let runs = d.scheduler_runs();
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(runs[0].name, "rename");
    assert_eq!(runs[0].outcome, Ok(()));
    assert_eq!(identity(&c).await, "renamed");
    let (next_after, count, _) = shown(c.clone()).await;
    assert_eq!(count, "1");
    assert!(next_after > next, "{next_after} after {next}");
    // Next beat at 20 min, not 21.
    d.advance_clock(minutes(8));
    assert_eq!(d.scheduler_runs().len(), 1);
    d.advance_clock(minutes(1));
    assert_eq!(d.scheduler_runs().len(), 2);
    // A disabled item does not fire.
    let id = c
        .run(&Command::new("/system/scheduler/print").proplist([".id"]))
        .await
        .unwrap()
        .rows[0]
        .get(".id")
        .unwrap()
        .into_owned();
    c.run(
        &Command::new("/system/scheduler/set")
            .attr(".id", &id)
            .attr("disabled", "yes"),
    )
    .await
    .unwrap();
    d.advance_clock(minutes(30));
    assert_eq!(d.scheduler_runs().len(), 2);
}

#[tokio::test]
async fn a_faster_clock_fires_in_real_time_without_a_test_pushing_it() {
    let sim = router().await;
    let c = login(&sim).await;
    sim.set_clock_rate(600.0);
    c.run(
        &Command::new("/system/scheduler/add")
            .attr("name", "soon")
            .attr("interval", "1m")
            .attr("on-event", "/system identity set name=ticked"),
    )
    .await
    .unwrap();
    let d = sim.device(0).clone();
    wait::until("the scheduler to fire on its own", wait::DEADLINE, || {
        let d = d.clone();
        async move { !d.scheduler_runs().is_empty() }
    })
    .await;
    assert_eq!(identity(&c).await, "ticked");
}

#[tokio::test]
async fn events_run_scripts_by_name_and_with_script_run() {
    let sim = router().await;
    let c = login(&sim).await;
    c.run(
        &Command::new("/system/script/add").attr("name", "tag").attr(
            "source",
            ":log info \"tagging\"\n/ip address add address=192.0.2.1/24 interface=ether2\n",
        ),
    )
    .await
    .unwrap();
    for (name, on_event, interval) in [
        ("by-name", "tag", "5m"),
        ("by-run", "/system script run tag", "7m"),
        (
            "broken",
            ":log info \"x\"\n/ip address add address=192.0.2.9/24 interface=nope",
            "8m",
        ),
    ] {
        c.run(
            &Command::new("/system/scheduler/add")
                .attr("name", name)
                .attr("interval", interval)
                .attr("on-event", on_event),
        )
        .await
        .unwrap();
    }
    let addresses = || async {
        c.run(&Command::new("/ip/address/print"))
            .await
            .unwrap()
            .rows
            .len()
    };
    let d = sim.device(0);
    d.advance_clock(minutes(6));
    let runs = d.scheduler_runs();
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(
        (runs[0].name.as_str(), &runs[0].outcome),
        ("by-name", &Ok(()))
    );
    assert_eq!(addresses().await, 1);
    d.advance_clock(Duration::from_secs(90));
    let runs = d.scheduler_runs();
    assert_eq!(runs.len(), 2, "{runs:?}");
    assert_eq!(
        (runs[1].name.as_str(), &runs[1].outcome),
        ("by-run", &Ok(()))
    );
    assert_eq!(addresses().await, 2);
    // A failing event is kept with the router's words and its line.
    d.advance_clock(minutes(1));
    let runs = d.scheduler_runs();
    assert_eq!(runs.len(), 3, "{runs:?}");
    assert_eq!(runs[2].name, "broken");
    let failed = runs[2].outcome.as_ref().unwrap_err();
    assert!(failed.contains("line 2"), "{failed}");
    assert_eq!(addresses().await, 2);
}

#[tokio::test]
async fn a_safety_net_shaped_event_restores_the_backup_and_reboots() {
    let sim = router().await;
    let c = login(&sim).await;
    c.run(
        &Command::new("/system/backup/save")
            .attr("name", "fleetdeck-abc")
            .attr("password", "secret"),
    )
    .await
    .unwrap();
    c.run(
        &Command::new("/system/scheduler/add")
            .attr("name", "fleetdeck-safety-abc")
            .attr("interval", "10m")
            .attr(
                "on-event",
                "/system scheduler remove [find name=\"fleetdeck-safety-abc\"]; /system backup load name=fleetdeck-abc.backup password=\"secret\"",
            ),
    )
    .await
    .unwrap();
    c.run(&Command::new("/system/identity/set").attr("name", "pushed"))
        .await
        .unwrap();
    let d: Arc<Device> = sim.device(0).clone();
    d.advance_clock(minutes(11));
    let runs = d.scheduler_runs();
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(runs[0].outcome, Ok(()));
    wait::until("the restore's reboot", wait::DEADLINE, || {
        let d = d.clone();
        async move { d.boots() == 1 }
    })
    .await;
    let c = login(&sim).await;
    assert_eq!(identity(&c).await, "sim-router-0000");
    let nets = c
        .run(&Command::new("/system/scheduler/print"))
        .await
        .unwrap()
        .rows
        .len();
    assert_eq!(
        nets, 0,
        "the net removed itself and the backup never held it"
    );
    // It fired once: the clock going on changes nothing.
    d.advance_clock(minutes(60));
    assert_eq!(d.scheduler_runs().len(), 1);
}

#[tokio::test]
async fn a_startup_item_fires_after_each_boot_only() {
    let sim = router().await;
    let c = login(&sim).await;
    c.run(
        &Command::new("/system/scheduler/add")
            .attr("name", "on-boot")
            .attr("start-time", "startup")
            .attr("on-event", "/system identity set name=booted"),
    )
    .await
    .unwrap();
    let d = sim.device(0).clone();
    d.advance_clock(minutes(5));
    assert!(
        d.scheduler_runs().is_empty(),
        "added while running: not yet"
    );
    c.run(&Command::new("/system/reboot")).await.unwrap();
    wait::until("a boot and the startup event", wait::DEADLINE, || {
        let d = d.clone();
        async move {
            d.advance_clock(Duration::from_secs(1));
            d.boots() == 1 && !d.scheduler_runs().is_empty()
        }
    })
    .await;
    let c = login(&sim).await;
    assert_eq!(identity(&c).await, "booted");
    d.advance_clock(minutes(60));
    assert_eq!(d.scheduler_runs().len(), 1, "once per boot");
}

#[tokio::test]
async fn a_start_date_in_either_export_style_sets_the_beat() {
    let sim = router().await;
    let c = login(&sim).await;
    let d = sim.device(0);
    // A daily item that started long ago at a time two hours from the
    // router's clock fires in two hours, not in a day.
    let now = d.clock_secs() as u64;
    let at = (now + 7_200) % 86_400;
    let time = format!("{:02}:{:02}:{:02}", at / 3600, at % 3600 / 60, at % 60);
    c.run(
        &Command::new("/system/scheduler/add")
            .attr("name", "daily")
            .attr("interval", "1d")
            .attr("start-date", "jan/01/2018")
            .attr("start-time", &time)
            .attr("on-event", "/system identity set name=daily"),
    )
    .await
    .unwrap();
    d.advance_clock(Duration::from_secs(7_000));
    assert!(d.scheduler_runs().is_empty());
    d.advance_clock(Duration::from_secs(400));
    assert_eq!(d.scheduler_runs().len(), 1);
}
