//! The simulator's fidelity and the client's handling of it, over TCP:
//! version profiles, queries, `!empty`, streams and `/cancel`, files,
//! export, backups, reboots and injected faults.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use routeros::{Client, Command, ConnectOptions};
use routeros_proto::{ApiCodec, Query, ReplyKind, Sentence};
use routeros_sim::{Faults, SimConfig, SimFleet};
use tokio::net::TcpStream;
use tokio_util::codec::Framed;

async fn fleet(versions: &[&str]) -> SimFleet {
    SimFleet::start(SimConfig {
        devices: versions.len(),
        password: "pw".into(),
        versions: versions.iter().map(|v| v.to_string()).collect(),
        reboot_delay: Duration::from_millis(300),
        ..SimConfig::default()
    })
    .await
    .unwrap()
}

async fn login(port: u16) -> Client {
    let mut o = ConnectOptions::new("127.0.0.1", port, "admin", "pw");
    o.command_timeout = Duration::from_secs(5);
    Client::connect(&o).await.unwrap()
}

#[tokio::test]
async fn every_login_style_works_with_the_client() {
    let sim = fleet(&["6.42", "6.44", "6.49.7", "7.19.1"]).await;
    for (i, v) in ["6.42", "6.44", "6.49.7", "7.19.1"].iter().enumerate() {
        let c = login(sim.port(i)).await;
        let r = c
            .run(&Command::new("/system/resource/print"))
            .await
            .unwrap();
        assert_eq!(r.rows[0].get("version").unwrap(), format!("{v} (stable)"));
        let bad = Client::connect(&ConnectOptions::new(
            "127.0.0.1",
            sim.port(i),
            "admin",
            "nope",
        ))
        .await
        .err()
        .unwrap();
        assert!(bad.is_auth(), "{v}: {bad:?}");
    }
    assert_eq!(
        sim.device(0).profile().login(),
        routeros_sim::LoginStyle::ChallengeOnly
    );
}

#[tokio::test]
async fn empty_results_from_7_18_on() {
    let sim = fleet(&["7.16.2", "7.19.1"]).await;
    for (i, sends_empty) in [(0, false), (1, true)] {
        let c = login(sim.port(i)).await;
        let cmd = Command::new("/interface/print").query(&Query::eq("name", "nope"));
        let replies = c.execute(&cmd).await.unwrap();
        let kinds: Vec<_> = replies.iter().map(|r| r.kind.clone()).collect();
        if sends_empty {
            assert_eq!(kinds, [ReplyKind::Empty, ReplyKind::Done]);
        } else {
            assert_eq!(kinds, [ReplyKind::Done]);
        }
        assert!(c.run(&cmd).await.unwrap().rows.is_empty());
    }
}

#[tokio::test]
async fn queries_select_items() {
    let sim = fleet(&["7.16.2"]).await;
    let c = login(sim.port(0)).await;
    let r = c
        .run(&Command::new("/interface/print").query(&Query::any_of("name", ["ether1", "ether3"])))
        .await
        .unwrap();
    let names: Vec<String> = r
        .rows
        .iter()
        .map(|r| r.get("name").unwrap().into_owned())
        .collect();
    assert_eq!(names, ["ether1", "ether3"]);
    let r = c
        .run(&Command::new("/interface/print").query(&Query::not(Query::eq("running", "true"))))
        .await
        .unwrap();
    assert_eq!(r.rows.len(), 2);
}

#[tokio::test]
async fn configuration_changes_and_the_routers_traps() {
    let sim = fleet(&["7.16.2"]).await;
    let c = login(sim.port(0)).await;
    let err = c
        .run(
            &Command::new("/ip/address/add")
                .attr("address", "10.9.0.1/24")
                .attr("interface", "ether9"),
        )
        .await
        .unwrap_err();
    assert_eq!(err.trap_category(), Some(1));
    assert!(err
        .to_string()
        .contains("input does not match any value of interface"));
    let added = c
        .run(
            &Command::new("/ip/address/add")
                .attr("address", "10.9.0.1/24")
                .attr("interface", "ether2"),
        )
        .await
        .unwrap();
    let id = added.done.get("ret").unwrap().into_owned();
    assert!(id.starts_with('*'));
    c.run(
        &Command::new("/ip/address/set")
            .attr(".id", &id)
            .attr("comment", "lan"),
    )
    .await
    .unwrap();
    let items = sim.device(0).items("ip/address");
    assert_eq!(items[0].get_str("comment").as_deref(), Some("lan"));
    c.run(&Command::new("/ip/address/remove").attr(".id", &id))
        .await
        .unwrap();
    assert!(sim.device(0).items("ip/address").is_empty());
    c.run(&Command::new("/system/identity/set").attr("name", "core-1"))
        .await
        .unwrap();
    assert_eq!(sim.device(0).identity(), "core-1");
}

/// A session on raw sentences, logged in: for checks of the exact bytes.
async fn raw_session(port: u16) -> Framed<TcpStream, ApiCodec> {
    let s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let mut t = Framed::new(s, ApiCodec::default());
    t.send(Sentence::from_words([
        "/login",
        "=name=admin",
        "=password=pw",
    ]))
    .await
    .unwrap();
    assert_eq!(
        t.next().await.unwrap().unwrap().first_word(),
        Some(&b"!done"[..])
    );
    t
}

/// The exact reply order of `/cancel` on a `listen` (ROUTEROS.md §1.5),
/// checked on raw sentences.
#[tokio::test]
async fn cancel_reply_ordering_is_the_routers() {
    let sim = fleet(&["7.16.2"]).await;
    let mut t = raw_session(sim.port(0)).await;
    t.send(Sentence::from_words(["/interface/listen", ".tag=10"]))
        .await
        .unwrap();
    t.send(Sentence::from_words(["/cancel", "=tag=10", ".tag=20"]))
        .await
        .unwrap();
    let mut seen = Vec::new();
    for _ in 0..3 {
        let s = t.next().await.unwrap().unwrap();
        seen.push(format!(
            "{} {}",
            String::from_utf8_lossy(s.first_word().unwrap()),
            String::from_utf8_lossy(s.tag().unwrap())
        ));
        if seen.len() == 1 {
            assert_eq!(s.attribute("category"), Some(&b"2"[..]));
            assert_eq!(s.attribute("message"), Some(&b"interrupted"[..]));
        }
    }
    assert_eq!(seen, ["!trap 10", "!done 20", "!done 10"]);
}

/// Pipelined commands that arrive in one read are answered together: every
/// one, in order, also past the simulator's batch size; a command split
/// across writes waits for its rest; commands before garbage on the wire are
/// answered before the session is dropped.
#[tokio::test]
async fn pipelined_commands_in_one_write_are_all_answered_in_order() {
    use tokio::io::AsyncWriteExt;
    let sim = fleet(&["7.16.2"]).await;
    let mut t = raw_session(sim.port(0)).await;
    let command = |tag: usize| {
        Sentence::from_words(["/system/identity/print".to_owned(), format!(".tag={tag}")])
            .to_bytes()
    };
    let mut bytes = Vec::new();
    for tag in 0..600 {
        bytes.extend(command(tag));
    }
    let split = command(600);
    bytes.extend(&split[..10]);
    t.get_mut().write_all(&bytes).await.unwrap();
    for tag in 0..600 {
        let row = t.next().await.unwrap().unwrap();
        assert_eq!(row.first_word(), Some(&b"!re"[..]), "tag {tag}");
        assert_eq!(row.attribute("name"), Some(&b"sim-router-0000"[..]));
        let done = t.next().await.unwrap().unwrap();
        assert_eq!(done.first_word(), Some(&b"!done"[..]));
        assert_eq!(done.tag(), Some(tag.to_string().as_bytes()), "in order");
    }
    // Nothing for the half-sent command until its rest arrives.
    let early = tokio::time::timeout(Duration::from_millis(200), t.next()).await;
    assert!(early.is_err(), "a reply before the command was complete");
    let mut rest = split[10..].to_vec();
    rest.extend(command(601));
    rest.extend([0xF9, 0xFF, 0x00, 0x13, 0x37]);
    t.get_mut().write_all(&rest).await.unwrap();
    let mut tags = Vec::new();
    while let Some(Ok(reply)) = t.next().await {
        if reply.first_word() == Some(&b"!done"[..]) {
            tags.push(String::from_utf8_lossy(reply.tag().unwrap()).into_owned());
        }
    }
    assert_eq!(
        tags,
        ["600", "601"],
        "answered, then dropped for the garbage"
    );
}

#[tokio::test]
async fn follow_streams_changes_and_dropping_the_stream_cancels_it() {
    let sim = fleet(&["7.16.2"]).await;
    let watcher = login(sim.port(0)).await;
    let editor = login(sim.port(0)).await;
    editor
        .run(
            &Command::new("/ip/address/add")
                .attr("address", "10.0.0.1/24")
                .attr("interface", "ether1"),
        )
        .await
        .unwrap();
    let mut stream = watcher
        .stream(&Command::new("/ip/address/print").attr("follow", ""))
        .await
        .unwrap();
    let first = stream.next().await.unwrap().unwrap();
    assert_eq!(first.get("address").unwrap(), "10.0.0.1/24");
    let added = editor
        .run(
            &Command::new("/ip/address/add")
                .attr("address", "10.0.1.1/24")
                .attr("interface", "ether2"),
        )
        .await
        .unwrap();
    let second = stream.next().await.unwrap().unwrap();
    assert_eq!(second.get("address").unwrap(), "10.0.1.1/24");
    editor
        .run(
            &Command::new("/ip/address/remove")
                .attr(".id", added.done.get("ret").unwrap().as_bytes()),
        )
        .await
        .unwrap();
    let dead = stream.next().await.unwrap().unwrap();
    assert_eq!(dead.get(".dead").unwrap(), "true");
    drop(stream);
    // The watcher's session is still good after the cancel.
    assert!(watcher
        .run(&Command::new("/system/identity/print"))
        .await
        .is_ok());
}

#[tokio::test]
async fn monitor_traffic_streams_until_cancelled_and_once_finishes() {
    let sim = fleet(&["7.16.2"]).await;
    let c = login(sim.port(0)).await;
    let once = c
        .run(
            &Command::new("/interface/monitor-traffic")
                .attr("interface", "ether1")
                .attr("once", ""),
        )
        .await
        .unwrap();
    assert!(once.rows[0].get_u64("rx-bits-per-second").unwrap() > 0);
    let mut s = c
        .stream(
            &Command::new("/interface/monitor-traffic")
                .attr("interface", "ether1")
                .attr("interval", "100ms"),
        )
        .await
        .unwrap();
    for _ in 0..3 {
        let row = tokio::time::timeout(Duration::from_secs(2), s.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(row.get("name").unwrap(), "ether1");
    }
    drop(s);
    assert!(c.run(&Command::new("/system/identity/print")).await.is_ok());
}

#[tokio::test]
async fn files_export_and_execute_as_string() {
    let sim = fleet(&["7.16.2", "6.49.7"]).await;
    let c = login(sim.port(0)).await;
    c.run(
        &Command::new("/ip/address/add")
            .attr("address", "192.0.2.1/24")
            .attr("interface", "ether1"),
    )
    .await
    .unwrap();
    // Over the API, a plain /export says nothing.
    let plain = c.execute(&Command::new("/export")).await.unwrap();
    assert_eq!(plain.len(), 1);
    assert_eq!(plain[0].kind, ReplyKind::Done);
    let text = c
        .run(
            &Command::new("/execute")
                .attr("script", "/export")
                .attr("as-string", ""),
        )
        .await
        .unwrap()
        .done
        .get("ret")
        .unwrap()
        .into_owned();
    assert!(text.contains("by RouterOS 7.16.2"), "{text}");
    assert!(
        text.contains("/ip address\nadd address=192.0.2.1/24 interface=ether1\n"),
        "{text}"
    );
    c.run(&Command::new("/export").attr("file", "cfg"))
        .await
        .unwrap();
    let big = "x".repeat(40_000);
    c.run(
        &Command::new("/file/add")
            .attr("name", "big.txt")
            .attr("contents", &big),
    )
    .await
    .unwrap();
    let dup = c
        .run(
            &Command::new("/file/add")
                .attr("name", "big.txt")
                .attr("contents", "y"),
        )
        .await;
    assert!(dup.unwrap_err().to_string().contains("already exists"));
    let mut read = Vec::new();
    loop {
        let r = c
            .run(
                &Command::new("/file/read")
                    .attr("file", "big.txt")
                    .attr("offset", read.len().to_string())
                    .attr("chunk-size", "32768"),
            )
            .await
            .unwrap();
        let data = r.rows[0].get_bytes("data").unwrap().to_vec();
        if data.is_empty() {
            break;
        }
        read.extend(data);
    }
    assert_eq!(read, big.as_bytes());
    let cfg = c
        .run(&Command::new("/file/print").query(&Query::eq("name", "cfg.rsc")))
        .await
        .unwrap();
    assert!(cfg.rows[0].get("contents").unwrap().contains("/ip address"));
    // RouterOS 6 has neither /file/read nor =as-string=.
    let old = login(sim.port(1)).await;
    assert!(old
        .run(&Command::new("/file/read").attr("file", "x"))
        .await
        .unwrap_err()
        .is_trap());
    assert!(old
        .run(
            &Command::new("/execute")
                .attr("script", "/export")
                .attr("as-string", "")
        )
        .await
        .unwrap_err()
        .to_string()
        .contains("unknown parameter"));
}

#[tokio::test]
async fn backup_load_restores_and_reboot_drops_then_returns() {
    // A reboot that lasts until the test ends it, so "refuses sessions
    // while rebooting" is checked while it is surely rebooting.
    let sim = SimFleet::start(SimConfig {
        devices: 1,
        password: "pw".into(),
        versions: vec!["7.16.2".into()],
        reboot_delay: Duration::from_secs(3600),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let c = login(sim.port(0)).await;
    c.run(&Command::new("/system/backup/save").attr("name", "before"))
        .await
        .unwrap();
    c.run(&Command::new("/system/identity/set").attr("name", "changed"))
        .await
        .unwrap();
    c.run(
        &Command::new("/system/backup/load")
            .attr("name", "before")
            .attr("password", ""),
    )
    .await
    .unwrap();
    // The router reboots: the session ends.
    let device = sim.device(0).clone();
    routeros_sim::wait::until("the reboot to begin", routeros_sim::wait::DEADLINE, || {
        let d = device.clone();
        async move { d.boots() == 1 }
    })
    .await;
    let dropped = routeros_sim::wait::until_some(
        "the session to end with the reboot",
        routeros_sim::wait::DEADLINE,
        || {
            let c = c.clone();
            async move { c.run(&Command::new("/system/identity/print")).await.err() }
        },
    )
    .await;
    assert!(!dropped.to_string().is_empty());
    assert!(device.is_rebooting());
    let early = Client::connect(&ConnectOptions::new(
        "127.0.0.1",
        sim.port(0),
        "admin",
        "pw",
    ))
    .await;
    assert!(early.is_err(), "a rebooting router refuses sessions");
    device.finish_reboot();
    let c = login(sim.port(0)).await;
    let id = c
        .run(&Command::new("/system/identity/print"))
        .await
        .unwrap();
    assert_eq!(id.rows[0].get("name").unwrap(), "sim-router-0000");
    let up = c
        .run(&Command::new("/system/resource/print"))
        .await
        .unwrap();
    let uptime =
        routeros_proto::value::parse_duration_secs(&up.rows[0].get("uptime").unwrap()).unwrap();
    assert!(uptime < 5, "uptime restarts after a reboot: {uptime}");
}

#[tokio::test]
async fn faults_fragmented_writes_traps_stalls_drops_and_garbage() {
    let sim = fleet(&["7.16.2"]).await;
    let d = sim.device(0);
    d.set_faults(Faults {
        fragment: true,
        ..Faults::default()
    });
    let c = login(sim.port(0)).await;
    assert_eq!(
        c.run(&Command::new("/interface/print"))
            .await
            .unwrap()
            .rows
            .len(),
        5
    );

    d.set_faults(Faults {
        trap: vec![("/system/resource/print".into(), "action timed out".into())],
        stall: vec!["/system/health/print".into()],
        ..Faults::default()
    });
    let err = c
        .run(&Command::new("/system/resource/print"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("action timed out"));
    let err = c
        .execute_with_timeout(
            &Command::new("/system/health/print"),
            Duration::from_millis(150),
        )
        .await
        .unwrap_err();
    assert!(err.is_timeout());
    assert!(c.run(&Command::new("/system/identity/print")).await.is_ok());

    d.set_faults(Faults {
        garbage_after: Some(0),
        ..Faults::default()
    });
    let err = c
        .run(&Command::new("/system/identity/print"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("0xf9"), "{err}");

    d.set_faults(Faults {
        drop_after: Some(1),
        ..Faults::default()
    });
    let c = login(sim.port(0)).await;
    let err = c.run(&Command::new("/interface/print")).await.unwrap_err();
    assert!(err.is_io(), "{err:?}");
}
