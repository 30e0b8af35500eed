//! The client against the simulator and against scripted byte streams,
//! always over real TCP sockets.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use routeros::{Client, Command, ConnectOptions};
use routeros_proto::{login::challenge_response, ApiCodec, Sentence};
use routeros_sim::{SimConfig, SimFleet};
use tokio::net::TcpListener;
use tokio_util::codec::Framed;

async fn sim(password: &str) -> SimFleet {
    SimFleet::start(SimConfig {
        devices: 2,
        password: password.into(),
        ..SimConfig::default()
    })
    .await
    .unwrap()
}

fn opts(port: u16, password: &str) -> ConnectOptions {
    ConnectOptions::new("127.0.0.1", port, "admin", password)
}

#[tokio::test]
async fn logs_in_and_reads_system_resource() {
    let fleet = sim("s3cret").await;
    let client = Client::connect(&opts(fleet.port(1), "s3cret"))
        .await
        .unwrap();
    let resp = client
        .run(&Command::new("/system/resource/print"))
        .await
        .unwrap();
    assert_eq!(resp.rows.len(), 1);
    let row = &resp.rows[0];
    let load = row.get_u64("cpu-load").unwrap();
    assert!(load <= 100);
    assert!(row.get_u64("total-memory").unwrap() > row.get_u64("free-memory").unwrap());
    assert_eq!(row.get("version").unwrap(), "7.16.2 (stable)");
    let ident = client
        .run(&Command::new("/system/identity/print"))
        .await
        .unwrap();
    assert_eq!(ident.rows[0].get("name").unwrap(), "sim-router-0001");
}

#[tokio::test]
async fn proplist_limits_the_returned_properties() {
    let fleet = sim("").await;
    let client = Client::connect(&opts(fleet.port(0), "")).await.unwrap();
    let resp = client
        .run(&Command::new("/interface/print").proplist(["name", "rx-byte"]))
        .await
        .unwrap();
    assert_eq!(resp.rows.len(), 5);
    for row in &resp.rows {
        let names: Vec<&str> = row.iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["name", "rx-byte"]);
    }
}

#[tokio::test]
async fn wrong_password_is_an_auth_error_with_the_routers_words() {
    let fleet = sim("right").await;
    let err = Client::connect(&opts(fleet.port(0), "wrong"))
        .await
        .err()
        .expect("login must fail");
    assert!(err.is_auth(), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("invalid user name or password (6)"), "{text}");
    assert!(text.contains("Check the user name and password"), "{text}");
}

#[tokio::test]
async fn unreachable_router_is_a_connect_error() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let err = Client::connect(&opts(port, "")).await.err().unwrap();
    assert!(err.is_io(), "{err:?}");
    assert!(
        err.to_string().contains("could not reach the router"),
        "{err}"
    );
}

#[tokio::test]
async fn trap_becomes_a_typed_error() {
    let fleet = sim("").await;
    let client = Client::connect(&opts(fleet.port(0), "")).await.unwrap();
    let err = client
        .run(&Command::new("/no/such/menu/print"))
        .await
        .unwrap_err();
    assert!(err.is_trap());
    assert_eq!(err.trap_category(), Some(0));
    assert!(err.to_string().contains("no such command prefix"));
    // The session survives a trap.
    assert!(client
        .run(&Command::new("/system/identity/print"))
        .await
        .is_ok());
}

#[tokio::test]
async fn many_commands_in_flight_on_one_connection() {
    let fleet = sim("").await;
    let client = Client::connect(&opts(fleet.port(0), "")).await.unwrap();
    let runs = (0..100).map(|i| {
        let c = client.clone();
        async move {
            let cmd = if i % 2 == 0 {
                Command::new("/system/identity/print")
            } else {
                Command::new("/interface/print")
            };
            (i, c.run(&cmd).await.unwrap().rows.len())
        }
    });
    for (i, rows) in futures::future::join_all(runs).await {
        assert_eq!(rows, if i % 2 == 0 { 1 } else { 5 }, "command {i}");
    }
}

#[tokio::test]
async fn quit_fails_with_the_fatal_reason() {
    let fleet = sim("").await;
    let client = Client::connect(&opts(fleet.port(0), "")).await.unwrap();
    let err = client.run(&Command::new("/quit")).await.unwrap_err();
    assert!(err.is_fatal(), "{err:?}");
    assert!(err.to_string().contains("session terminated on request"));
    // Later commands report why the session ended instead of hanging.
    let later = client
        .run(&Command::new("/system/identity/print"))
        .await
        .unwrap_err();
    assert!(later.is_fatal(), "{later:?}");
    assert!(later.to_string().contains("session terminated on request"));
}

/// A scripted router: answers login, then stays silent, and reports what it
/// received afterwards.
#[tokio::test]
async fn a_command_past_its_deadline_is_cancelled_on_the_router() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let router = tokio::spawn(async move {
        let (s, _) = listener.accept().await.unwrap();
        let mut t = Framed::new(s, ApiCodec::default());
        let login = t.next().await.unwrap().unwrap();
        assert_eq!(login.first_word(), Some(&b"/login"[..]));
        t.send(Sentence::from_words(["!done"])).await.unwrap();
        let stuck = t.next().await.unwrap().unwrap();
        let cancel = t.next().await.unwrap().unwrap();
        (stuck, cancel)
    });
    let client = Client::connect(&opts(port, "")).await.unwrap();
    let err = client
        .execute_with_timeout(
            &Command::new("/interface/lte/info"),
            Duration::from_millis(100),
        )
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    let (stuck, cancel) = router.await.unwrap();
    let tag = stuck.tag().unwrap().to_vec();
    assert_eq!(cancel.first_word(), Some(&b"/cancel"[..]));
    assert_eq!(cancel.attribute("tag"), Some(&tag[..]));
}

/// A scripted pre-6.43 router: the plain login gets a challenge, and only
/// the right MD5 response is accepted.
#[tokio::test]
async fn legacy_challenge_login() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let challenge = "abc123";
    let router = tokio::spawn(async move {
        let (s, _) = listener.accept().await.unwrap();
        let mut t = Framed::new(s, ApiCodec::default());
        let plain = t.next().await.unwrap().unwrap();
        assert_eq!(plain.attribute("name"), Some(&b"admin"[..]));
        t.send(Sentence::from_words(["!done", "=ret=abc123"]))
            .await
            .unwrap();
        let second = t.next().await.unwrap().unwrap();
        let want = challenge_response(b"passTest", challenge).unwrap();
        assert_eq!(second.attribute("response"), Some(want.as_bytes()));
        t.send(Sentence::from_words(["!done"])).await.unwrap();
        // Keep the socket open until the client is done.
        let _ = t.next().await;
    });
    let client = Client::connect(&opts(port, "passTest")).await.unwrap();
    drop(client);
    router.await.unwrap();
}

#[tokio::test]
async fn garbage_from_the_router_fails_pending_commands_clearly() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let (s, _) = listener.accept().await.unwrap();
        let mut t = Framed::new(s, ApiCodec::default());
        let _login = t.next().await.unwrap().unwrap();
        t.send(Sentence::from_words(["!done"])).await.unwrap();
        let _cmd = t.next().await.unwrap().unwrap();
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut s = t.into_inner();
        s.write_all(&[0xF9, 1, 2, 3]).await.unwrap();
        // Keep the socket open until the client gives up on it.
        let mut rest = Vec::new();
        let _ = s.read_to_end(&mut rest).await;
    });
    let client = Client::connect(&opts(port, "")).await.unwrap();
    let err = client
        .run(&Command::new("/system/resource/print"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("0xf9"), "{err}");
}

/// A scripted router that logs in and then never answers; it counts what
/// it receives.
async fn silent_router() -> (u16, tokio::sync::mpsc::UnboundedReceiver<Sentence>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        let (s, _) = listener.accept().await.unwrap();
        let mut t = Framed::new(s, ApiCodec::default());
        let _login = t.next().await.unwrap().unwrap();
        t.send(Sentence::from_words(["!done"])).await.unwrap();
        while let Some(Ok(s)) = t.next().await {
            if tx.send(s).is_err() {
                break;
            }
        }
    });
    (port, rx)
}

#[tokio::test]
async fn keepalive_declares_a_silent_router_dead() {
    let (port, mut seen) = silent_router().await;
    let mut o = opts(port, "");
    o.keepalive = Some(Duration::from_millis(100));
    o.command_timeout = Duration::from_secs(30);
    let client = Client::connect(&o).await.unwrap();
    let err = client
        .run(&Command::new("/system/resource/print"))
        .await
        .unwrap_err();
    // Failed by the keepalive, not by the 30 s command deadline (which is
    // a different error, `Timeout`): told apart by the error, not a clock.
    assert!(err.to_string().contains("stopped answering"), "{err}");
    assert!(!matches!(err, routeros::Error::Timeout { .. }), "{err:?}");
    let _cmd = seen.recv().await.unwrap();
    let probe = seen.recv().await.unwrap();
    assert_eq!(probe.first_word(), Some(&b"/system/identity/print"[..]));
}

/// A scripted router that logs in, forwards what it receives, and sends
/// whatever replies the test hands it.
async fn scripted_router() -> (
    u16,
    tokio::sync::mpsc::UnboundedReceiver<Sentence>,
    tokio::sync::mpsc::UnboundedSender<Sentence>,
) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (seen_tx, seen) = tokio::sync::mpsc::unbounded_channel();
    let (reply, mut replies) = tokio::sync::mpsc::unbounded_channel::<Sentence>();
    tokio::spawn(async move {
        let (s, _) = listener.accept().await.unwrap();
        let mut t = Framed::new(s, ApiCodec::default());
        let _login = t.next().await.unwrap().unwrap();
        t.send(Sentence::from_words(["!done"])).await.unwrap();
        loop {
            tokio::select! {
                got = t.next() => match got {
                    Some(Ok(s)) => {
                        if seen_tx.send(s).is_err() {
                            break;
                        }
                    }
                    _ => break,
                },
                out = replies.recv() => match out {
                    Some(s) => t.send(s).await.unwrap(),
                    None => break,
                },
            }
        }
    });
    (port, seen, reply)
}

#[tokio::test]
async fn commands_beyond_the_in_flight_cap_wait_their_turn() {
    let (port, mut seen, reply) = scripted_router().await;
    let mut o = opts(port, "");
    o.max_in_flight = 2;
    o.keepalive = None;
    let client = Client::connect(&o).await.unwrap();
    let mut runs = tokio::task::JoinSet::new();
    for _ in 0..5 {
        let c = client.clone();
        runs.spawn(async move { c.run(&Command::new("/system/identity/print")).await });
    }
    async fn next(seen: &mut tokio::sync::mpsc::UnboundedReceiver<Sentence>) -> Sentence {
        tokio::time::timeout(routeros_sim::wait::DEADLINE, seen.recv())
            .await
            .expect("a command reaches the router")
            .unwrap()
    }
    let first = next(&mut seen).await;
    let second = next(&mut seen).await;
    // With both slots taken nothing else is sent. (A quiet window can only
    // miss a client that breaks the cap late, never fail one that keeps it.)
    assert!(
        tokio::time::timeout(Duration::from_millis(300), seen.recv())
            .await
            .is_err(),
        "only two commands may be on the wire at once"
    );
    // An answer frees a slot: the third command follows it.
    let done = |s: &Sentence| {
        Sentence::from_words([
            "!done".to_string(),
            format!(".tag={}", String::from_utf8_lossy(s.tag().unwrap())),
        ])
    };
    reply.send(done(&first)).unwrap();
    let third = next(&mut seen).await;
    // The rest, one answer at a time.
    let mut outstanding = vec![second, third];
    let mut received = 3;
    while let Some(s) = outstanding.pop() {
        reply.send(done(&s)).unwrap();
        if received < 5 {
            outstanding.push(next(&mut seen).await);
            received += 1;
        }
    }
    let mut finished = 0;
    while let Some(r) = runs.join_next().await {
        r.unwrap().unwrap();
        finished += 1;
    }
    assert_eq!(finished, 5);
}

#[tokio::test]
async fn dropping_a_stream_cancels_its_command() {
    let (port, mut seen) = silent_router().await;
    let client = Client::connect(&opts(port, "")).await.unwrap();
    let stream = client
        .stream(&Command::new("/interface/listen"))
        .await
        .unwrap();
    let tag = stream.tag().to_owned();
    let listen = seen.recv().await.unwrap();
    assert_eq!(listen.tag(), Some(tag.as_bytes()));
    drop(stream);
    let cancel = seen.recv().await.unwrap();
    assert_eq!(cancel.first_word(), Some(&b"/cancel"[..]));
    assert_eq!(cancel.attribute("tag"), Some(tag.as_bytes()));
}
