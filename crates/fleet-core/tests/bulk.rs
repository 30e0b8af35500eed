//! Bulk pushes against simulated routers: a template rendered per router
//! with its own facts and site; pause, resume and cancel; a bulk push cut
//! short (as when the app closes) found again, marked interrupted and
//! resumed.

use std::{sync::Arc, time::Duration};

use fleet_core::{
    bulk::{self, BulkOptions, Control, PlanSource},
    credentials::{CredentialStore, Sensitive},
    plan, push,
    telemetry::Target,
    template::Template,
    Fleet,
};
use fleet_store::{FleetStore, StoreUrl};
use routeros::{Client, Command, ConnectOptions};
use routeros_sim::{Faults, SimConfig, SimFleet};

struct Env {
    _dir: tempfile::TempDir,
    fleet: Fleet,
    sim: SimFleet,
    targets: Vec<Target>,
}

async fn env(devices: usize, sites: &[Option<&str>]) -> Env {
    let dir = tempfile::tempdir().unwrap();
    let store = FleetStore::open(&StoreUrl::Sqlite(dir.path().join("f.db")))
        .await
        .unwrap();
    let fleet = Fleet::new(store, CredentialStore::file(dir.path().join("c.json")));
    let sim = SimFleet::start(SimConfig {
        devices,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let mut specs = fleet_core::targets::parse_text(
        &sim.ports()
            .iter()
            .map(|p| format!("127.0.0.1:{p}\n"))
            .collect::<String>(),
    )
    .unwrap();
    for (spec, site) in specs.iter_mut().zip(sites) {
        spec.site = site.map(str::to_owned);
    }
    let targets = fleet
        .enroll(
            &specs,
            "admin",
            Some(&Sensitive::new(String::new())),
            Duration::from_secs(30),
        )
        .await
        .unwrap();
    Env {
        _dir: dir,
        fleet,
        sim,
        targets,
    }
}

async fn identity(sim: &SimFleet, i: usize) -> String {
    let c = Client::connect(&ConnectOptions::new("127.0.0.1", sim.port(i), "admin", ""))
        .await
        .unwrap();
    c.run(&Command::new("/system/identity/print"))
        .await
        .unwrap()
        .first()
        .and_then(|r| r.get("name").map(|n| n.into_owned()))
        .unwrap()
}

fn plan_of(text: &str) -> PlanSource {
    PlanSource::Plan(Arc::new(plan::compile(text).unwrap()))
}

/// `router.serial` and `site.name` are filled per router; the user's values
/// are the same for all; a router whose facts do not fit a placeholder's
/// type fails alone, with the template's line, and is not touched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_template_is_rendered_per_router_with_its_facts_and_site() {
    let e = env(3, &[Some("North Depot"), Some("North Depot"), None]).await;
    let template = Template::parse(
        "/system identity set name={{ router.serial: name }}\n/interface bridge add name=lan comment={{ site.name: string }}\n/ip dns set servers={{ dns: ipv4 }}\n",
    )
    .unwrap();
    let serials: Vec<String> = {
        let mut out = Vec::new();
        for i in 0..3 {
            let c = Client::connect(&ConnectOptions::new(
                "127.0.0.1",
                e.sim.port(i),
                "admin",
                "",
            ))
            .await
            .unwrap();
            let r = c
                .run(&Command::new("/system/routerboard/print"))
                .await
                .unwrap();
            out.push(
                r.first()
                    .unwrap()
                    .get("serial-number")
                    .unwrap()
                    .into_owned(),
            );
        }
        out
    };
    let report = bulk::push_all(
        e.fleet.shared_store(),
        e.targets.clone(),
        PlanSource::Template {
            template: Arc::new(template),
            values: Arc::new([("dns".to_owned(), "9.9.9.9".to_owned())].into()),
            import: false,
        },
        BulkOptions {
            waves: bulk::parse_waves("100%").unwrap(),
            stop_after_failures: None,
            ..Default::default()
        },
        Control::default(),
        |_| {},
    )
    .await
    .unwrap();
    // The third router has no site: site.name has no value.
    assert_eq!((report.succeeded, report.failed), (2, 1), "{report:?}");
    let third = &report.results[2];
    assert_eq!(third.status, "invalid");
    assert!(
        third.message.contains("line 2") && third.message.contains("no value for site.name"),
        "{}",
        third.message
    );
    assert!(third.message.ends_with("nothing was changed"));
    for (i, serial) in serials.iter().enumerate().take(2) {
        assert_eq!(&identity(&e.sim, i).await, serial);
    }
    assert_eq!(identity(&e.sim, 2).await, "sim-router-0002");
    let c = Client::connect(&ConnectOptions::new(
        "127.0.0.1",
        e.sim.port(0),
        "admin",
        "",
    ))
    .await
    .unwrap();
    let bridges = c
        .run(&Command::new("/interface/bridge/print"))
        .await
        .unwrap();
    assert_eq!(
        bridges.first().unwrap().get("comment").unwrap(),
        "North Depot"
    );
}

/// Paused: routers in progress finish, no new one starts, the batch is
/// recorded as paused; resumed, the rest follow; the batch ends finished.
/// Cancelled: the rest are not pushed and the batch says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_resume_and_cancel() {
    let e = env(6, &[]).await;
    let store = e.fleet.shared_store();
    let control = Control::default();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let run = tokio::spawn({
        let (store, targets, control) = (store.clone(), e.targets.clone(), control.clone());
        async move {
            bulk::push_all(
                store,
                targets,
                plan_of("/system identity set name=paused-and-resumed\n"),
                BulkOptions {
                    concurrency: 1,
                    waves: bulk::parse_waves("100%").unwrap(),
                    heartbeat: Duration::from_millis(50),
                    ..Default::default()
                },
                control,
                move |r| {
                    let _ = tx.send(r.device_id.clone());
                },
            )
            .await
            .unwrap()
        }
    });
    rx.recv().await.unwrap();
    control.pause();
    // With one router at a time, a router held by the pause holds the only
    // slot: every router before it has finished. Wait for that, and for the
    // engine to record the pause.
    routeros_sim::wait::until(
        "a router held by the pause and the pause recorded",
        routeros_sim::wait::DEADLINE,
        || {
            let (store, control) = (store.clone(), control.clone());
            async move {
                control.held() == 1
                    && store.push_batches(None, 1).await.unwrap()[0].status == "paused"
            }
        },
    )
    .await;
    let mut done_while_paused = 1;
    while rx.try_recv().is_ok() {
        done_while_paused += 1;
    }
    assert!(done_while_paused <= 2, "{done_while_paused} finished");
    let batch_id = store.push_batches(None, 1).await.unwrap()[0].id.clone();
    assert_eq!(
        store.batch_pushes(&batch_id).await.unwrap().len(),
        done_while_paused,
        "nothing started past the pause"
    );
    control.resume();
    let report = run.await.unwrap();
    assert_eq!(report.succeeded, 6, "{report:?}");
    let batch = &store.push_batches(None, 10).await.unwrap()[0];
    assert_eq!(batch.status, "finished");
    assert_eq!(store.batch_pushes(&batch.id).await.unwrap().len(), 6);

    let control = Control::default();
    let stop = control.clone();
    let report = bulk::push_all(
        store.clone(),
        e.targets.clone(),
        plan_of("/system identity set name=cancelled\n"),
        BulkOptions {
            concurrency: 1,
            waves: bulk::parse_waves("100%").unwrap(),
            ..Default::default()
        },
        control,
        move |_| stop.cancel(),
    )
    .await
    .unwrap();
    assert_eq!((report.succeeded, report.skipped), (1, 5), "{report:?}");
    assert!(report.stopped.unwrap().contains("cancelled"));
    assert_eq!(
        store.push_batches(None, 1).await.unwrap()[0].status,
        "cancelled"
    );
}

/// The process stops mid-push (the future is dropped, as when the app
/// closes): the batch and the router being pushed are left "running" with
/// a stale heartbeat. Recovery marks both interrupted; the router mid-push
/// still has its safety net, so resuming refuses it until the net is
/// confirmed; resumed after that, every router that had not succeeded is
/// pushed and the batch finishes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulk_push_cut_short_is_marked_interrupted_and_resumes() {
    let e = env(5, &[]).await;
    let store = e.fleet.shared_store();
    // One router hangs at its second step, so the push is caught in the
    // middle of it.
    e.sim.device(2).set_faults(Faults {
        stall: vec!["/interface/bridge/print".into()],
        ..Faults::default()
    });
    let opts = BulkOptions {
        concurrency: 1,
        waves: bulk::parse_waves("100%").unwrap(),
        stop_after_failures: None,
        heartbeat: Duration::from_millis(50),
        ..Default::default()
    };
    let source = plan_of("/system identity set name=resumed\n/interface bridge add name=lan\n");
    let run = tokio::spawn({
        let (store, targets, source, opts) = (
            store.clone(),
            e.targets.clone(),
            source.clone(),
            opts.clone(),
        );
        async move { bulk::push_all(store, targets, source, opts, Control::default(), |_| {}).await }
    });
    // Wait until that router is stuck past its safety net, then
    // "close the app".
    let at = e
        .targets
        .iter()
        .position(|t| t.connect.port == e.sim.port(2))
        .unwrap();
    let stuck = e.targets[at].device_id.clone();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let (batch_id, done) = loop {
        tokio::time::sleep(Duration::from_millis(5)).await;
        let Some(b) = store.push_batches(None, 1).await.unwrap().pop() else {
            continue;
        };
        let pushes = store.batch_pushes(&b.id).await.unwrap();
        let done = pushes.iter().filter(|p| p.status == "succeeded").count();
        let armed = store
            .audit_events(Some(&stuck), 0, 100)
            .await
            .unwrap()
            .iter()
            .any(|ev| ev.action == "push.safety-net");
        // The net is recorded before it is added, so the router itself
        // must show the push under way: its first step is in place.
        let half_pushed = e.sim.device(2).export().contains("name=resumed");
        if armed && half_pushed {
            break (b.id, done);
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the router never got stuck: {:?}",
            pushes.iter().map(|p| &p.status).collect::<Vec<_>>()
        );
    };
    assert_eq!(done, at, "the routers before it were pushed");
    run.abort();
    let _ = run.await;
    // Recovery marks the batch once its heartbeat is older than 150 ms.
    let marked = routeros_sim::wait::until_some(
        "the stopped batch to be found interrupted",
        routeros_sim::wait::DEADLINE,
        || {
            let store = store.clone();
            async move {
                let marked = bulk::recover_interrupted(&store, Duration::from_millis(150))
                    .await
                    .unwrap();
                (!marked.is_empty()).then_some(marked)
            }
        },
    )
    .await;
    assert_eq!(marked.len(), 1);
    assert_eq!(marked[0].id, batch_id);
    assert!(
        marked[0]
            .summary
            .contains(&format!("{at} of 5 routers succeeded, 1 were mid-push")),
        "{}",
        marked[0].summary
    );
    let pushes = store.batch_pushes(&batch_id).await.unwrap();
    let cut: Vec<_> = pushes
        .iter()
        .filter(|p| p.status == "interrupted")
        .collect();
    assert_eq!(cut.len(), 1, "{pushes:?}");
    assert!(cut[0].summary.contains("not known"));
    assert_eq!(
        store.push_batches(None, 1).await.unwrap()[0].status,
        "interrupted"
    );

    // Resumed at once: the router cut mid-push cannot be settled here (it
    // is half-pushed and, without the keyring, its backup's password is
    // unknown), so it fails and keeps its net; the others are pushed.
    e.sim.device(2).set_faults(Faults::default());
    let report = bulk::resume(
        store.clone(),
        &batch_id,
        e.targets.clone(),
        source.clone(),
        opts.clone(),
        Control::default(),
        |_| {},
    )
    .await
    .unwrap();
    assert_eq!(
        (report.already_done, report.succeeded, report.failed),
        (at, 4 - at, 1),
        "{report:?}"
    );
    let refused = report
        .results
        .iter()
        .find(|r| r.status == "failed")
        .unwrap();
    assert_eq!(refused.device_id, cut[0].device_id);
    assert!(
        refused.message.contains("could not be settled"),
        "{}",
        refused.message
    );

    // The technician confirms it; the next resume completes the batch.
    let c = Client::connect(&ConnectOptions::new(
        "127.0.0.1",
        e.sim.port(2),
        "admin",
        "",
    ))
    .await
    .unwrap();
    for net in push::pending_safety_nets(&c).await.unwrap() {
        assert!(push::confirm_safety_net(&c, &net).await.unwrap());
    }
    let report = bulk::resume(
        store.clone(),
        &batch_id,
        e.targets.clone(),
        source,
        opts,
        Control::default(),
        |_| {},
    )
    .await
    .unwrap();
    assert_eq!(
        (report.already_done, report.succeeded),
        (4, 1),
        "{report:?}"
    );
    assert_eq!(
        store.push_batches(None, 1).await.unwrap()[0].status,
        "finished"
    );
    for i in 0..5 {
        assert_eq!(identity(&e.sim, i).await, "resumed");
    }
    let again = bulk::resume(
        store.clone(),
        &batch_id,
        e.targets.clone(),
        plan_of("/system identity set name=x\n"),
        BulkOptions::default(),
        Control::default(),
        |_| {},
    )
    .await
    .unwrap_err();
    assert!(again.to_string().contains("already finished"), "{again}");
}

/// A resume pushes what its batch pushed: another plan, or a dry run
/// resumed for real, is refused before any router is touched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resume_must_push_what_its_batch_pushed() {
    let e = env(2, &[]).await;
    let store = e.fleet.shared_store();
    let source = plan_of("/system identity set name=batch-plan\n");
    let start = |dry_run: bool| {
        let (store, targets, source) = (store.clone(), e.targets.clone(), source.clone());
        async move {
            let control = Control::default();
            // Cancelled before the first router: a batch with all to do.
            control.cancel();
            let mut opts = BulkOptions::default();
            opts.push.dry_run = dry_run;
            bulk::push_all(store, targets, source, opts, control, |_| {})
                .await
                .unwrap()
                .batch_id
        }
    };
    let resume = |batch: String, source: PlanSource, dry_run: bool| {
        let (store, targets) = (store.clone(), e.targets.clone());
        async move {
            let mut opts = BulkOptions::default();
            opts.push.dry_run = dry_run;
            bulk::resume(
                store,
                &batch,
                targets,
                source,
                opts,
                Control::default(),
                |_| {},
            )
            .await
        }
    };

    let real = start(false).await;
    let other = resume(
        real.clone(),
        plan_of("/system identity set name=other\n"),
        false,
    )
    .await
    .unwrap_err();
    assert!(other.to_string().contains("another plan"), "{other}");
    let dry = start(true).await;
    let for_real = resume(dry.clone(), source.clone(), false)
        .await
        .unwrap_err();
    assert!(for_real.to_string().contains("was a dry run"), "{for_real}");
    for i in 0..2 {
        assert_ne!(
            identity(&e.sim, i).await,
            "batch-plan",
            "nothing was pushed"
        );
    }
    // The same plan resumes and pushes every router.
    let report = resume(real, source, false).await.unwrap();
    assert_eq!(report.succeeded, 2, "{report:?}");
    for i in 0..2 {
        assert_eq!(identity(&e.sim, i).await, "batch-plan");
    }
}

/// A resume knows at once whether the process that ran a batch on this
/// laptop is alive (it holds the batch's lock): refused while it runs,
/// accepted the moment it is gone, without waiting for the heartbeat to
/// age, and the router it left mid-push is marked interrupted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resume_knows_at_once_whether_its_batch_still_runs() {
    let e = env(2, &[]).await;
    let store = e.fleet.shared_store();
    // The second router hangs at its second step.
    e.sim.device(1).set_faults(Faults {
        stall: vec!["/interface/bridge/print".into()],
        ..Faults::default()
    });
    let opts = BulkOptions {
        concurrency: 1,
        waves: bulk::parse_waves("100%").unwrap(),
        stop_after_failures: None,
        // A heartbeat far older than the test: only the lock can tell.
        heartbeat: Duration::from_secs(3600),
        ..Default::default()
    };
    let source = plan_of("/system identity set name=locked\n/interface bridge add name=lan\n");
    let run = tokio::spawn({
        let (store, targets, source, opts) = (
            store.clone(),
            e.targets.clone(),
            source.clone(),
            opts.clone(),
        );
        async move { bulk::push_all(store, targets, source, opts, Control::default(), |_| {}).await }
    });
    let stuck = e
        .targets
        .iter()
        .find(|t| t.connect.port == e.sim.port(1))
        .unwrap()
        .device_id
        .clone();
    let batch_id = routeros_sim::wait::until_some(
        "the second router to be mid-push",
        routeros_sim::wait::DEADLINE,
        || {
            let (store, stuck) = (store.clone(), stuck.clone());
            async move {
                let b = store.push_batches(None, 1).await.unwrap().pop()?;
                let armed = store
                    .audit_events(Some(&stuck), 0, 100)
                    .await
                    .unwrap()
                    .iter()
                    .any(|ev| ev.action == "push.safety-net");
                armed.then_some(b.id)
            }
        },
    )
    .await;
    let resume = || {
        bulk::resume(
            store.clone(),
            &batch_id,
            e.targets.clone(),
            source.clone(),
            opts.clone(),
            Control::default(),
            |_| {},
        )
    };
    let refused = resume().await.unwrap_err();
    assert!(refused.to_string().contains("still running"), "{refused}");
    // The process "dies": its future is dropped, and the lock with it.
    run.abort();
    let _ = run.await;
    e.sim.device(1).set_faults(Faults::default());
    let report = resume().await.unwrap();
    assert_eq!(report.already_done, 1, "{report:?}");
    let cut = store
        .batch_pushes(&batch_id)
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.device_id == stuck && p.status == "interrupted");
    assert!(
        cut.is_some(),
        "the router left mid-push is marked interrupted"
    );
}

/// The process dies with two routers mid-push: one with every step in
/// place (stuck removing its safety net), one half-pushed (stuck at its
/// second step). The resume settles both instead of failing them on their
/// own safety nets: the first is verified and confirmed, the second is
/// restored to its backup and pushed again. Every router ends on the new
/// configuration with no net left armed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resume_settles_the_routers_its_batch_left_mid_push() {
    let e = env(3, &[]).await;
    let store = e.fleet.shared_store();
    let complete = e.sim.port(1);
    let half = e.sim.port(2);
    e.sim.device(1).set_faults(Faults {
        stall: vec!["/system/scheduler/remove".into()],
        ..Faults::default()
    });
    e.sim.device(2).set_faults(Faults {
        stall: vec!["/interface/bridge/print".into()],
        ..Faults::default()
    });
    let mut opts = BulkOptions {
        concurrency: 3,
        waves: bulk::parse_waves("100%").unwrap(),
        stop_after_failures: None,
        ..Default::default()
    };
    opts.push.backup_keys = Some(e.fleet.shared_credentials());
    opts.push.reconnect_within = Duration::from_secs(60);
    let source = plan_of("/system identity set name=settled\n/interface bridge add name=lan\n");
    let run = tokio::spawn({
        let (store, targets, source, opts) = (
            store.clone(),
            e.targets.clone(),
            source.clone(),
            opts.clone(),
        );
        async move { bulk::push_all(store, targets, source, opts, Control::default(), |_| {}).await }
    });
    let id_of = |port: u16| {
        e.targets
            .iter()
            .find(|t| t.connect.port == port)
            .unwrap()
            .device_id
            .clone()
    };
    let (complete_id, half_id) = (id_of(complete), id_of(half));
    let batch_id = routeros_sim::wait::until_some(
        "both routers stuck mid-push",
        routeros_sim::wait::DEADLINE,
        || {
            let (store, complete_id, half_id) =
                (store.clone(), complete_id.clone(), half_id.clone());
            let sim = &e.sim;
            async move {
                let b = store.push_batches(None, 1).await.unwrap().pop()?;
                let seen = |id: String, action: &'static str| {
                    let store = store.clone();
                    async move {
                        store
                            .audit_events(Some(&id), 0, 100)
                            .await
                            .unwrap()
                            .iter()
                            .any(|ev| ev.action == action)
                    }
                };
                // The router without faults done, and the half-pushed one
                // showing its first step (its net is recorded before it
                // is added, so the record alone is too early).
                let free_done = store
                    .batch_pushes(&b.id)
                    .await
                    .unwrap()
                    .iter()
                    .filter(|p| p.status == "succeeded")
                    .count()
                    == 1;
                let half_pushed = sim.device(2).export().contains("name=settled");
                (free_done
                    && half_pushed
                    && seen(complete_id, "push.verified").await
                    && seen(half_id, "push.safety-net").await)
                    .then_some(b.id)
            }
        },
    )
    .await;
    run.abort();
    let _ = run.await;
    e.sim.set_faults(&Faults::default());

    let report = bulk::resume(
        store.clone(),
        &batch_id,
        e.targets.clone(),
        source,
        opts,
        Control::default(),
        |_| {},
    )
    .await
    .unwrap();
    assert_eq!(
        (report.already_done, report.succeeded, report.failed),
        (1, 2, 0),
        "{report:?}"
    );
    let said = |id: &str| {
        report
            .results
            .iter()
            .find(|r| r.device_id == id)
            .unwrap()
            .message
            .clone()
    };
    assert!(
        said(&complete_id).contains("verified and confirmed"),
        "{}",
        said(&complete_id)
    );
    assert!(
        e.sim.device(2).boots() >= 1,
        "the half-pushed router was restored (a reboot)"
    );
    let records = store.batch_pushes(&batch_id).await.unwrap();
    let settled = |id: &str, state: &str| {
        records.iter().any(|p| {
            p.device_id == id && p.status == state && p.summary.contains("settled on resume")
        })
    };
    assert!(settled(&complete_id, "succeeded"), "{records:?}");
    assert!(settled(&half_id, "rolled-back"), "{records:?}");
    for i in 0..3 {
        assert_eq!(identity(&e.sim, i).await, "settled");
        let c = Client::connect(&ConnectOptions::new(
            "127.0.0.1",
            e.sim.port(i),
            "admin",
            "",
        ))
        .await
        .unwrap();
        assert!(
            push::pending_safety_nets(&c).await.unwrap().is_empty(),
            "router {i} has no net left armed"
        );
    }
    assert_eq!(
        store.push_batches(None, 1).await.unwrap()[0].status,
        "finished"
    );
}
