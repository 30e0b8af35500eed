//! The edge cases of ROUTEROS.md §5 that other clients' suites cover,
//! played by a scripted router over a real socket.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use routeros::{Client, Command, ConnectOptions};
use routeros_proto::{ApiCodec, Sentence};
use tokio::{io::AsyncWriteExt, net::TcpListener};
use tokio_util::codec::Framed;

/// What the scripted router does, in order.
enum Step {
    /// Read one sentence (and remember its tag).
    Read,
    /// Send these words, with the remembered tag appended when `tagged`.
    Send(&'static [&'static str], bool),
    /// Send raw bytes.
    Raw(&'static [u8]),
    /// Close the connection.
    Close,
}

async fn router(steps: Vec<Step>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let (s, _) = listener.accept().await.unwrap();
        let mut t = Framed::new(s, ApiCodec::default());
        let mut tag: Option<Vec<u8>> = None;
        for step in steps {
            match step {
                Step::Read => {
                    let Some(Ok(s)) = t.next().await else { return };
                    tag = s.tag().map(<[u8]>::to_vec);
                }
                Step::Send(words, tagged) => {
                    let mut s = Sentence::from_words(words.iter().copied());
                    if tagged {
                        let mut w = b".tag=".to_vec();
                        w.extend_from_slice(tag.as_deref().unwrap_or_default());
                        s.push(w);
                    }
                    if t.send(s).await.is_err() {
                        return;
                    }
                }
                Step::Raw(bytes) => {
                    let _ = t.get_mut().write_all(bytes).await;
                }
                Step::Close => return,
            }
        }
        // Stay open until the client goes.
        while let Some(Ok(_)) = t.next().await {}
    });
    port
}

fn opts(port: u16) -> ConnectOptions {
    let mut o = ConnectOptions::new("127.0.0.1", port, "admin", "pw");
    o.login_timeout = Duration::from_secs(2);
    o.command_timeout = Duration::from_secs(2);
    o
}

const LOGIN_OK: [Step; 2] = [Step::Read, Step::Send(&["!done"], false)];

async fn logged_in(mut then: Vec<Step>) -> Client {
    let mut steps: Vec<Step> = LOGIN_OK.into_iter().collect();
    steps.append(&mut then);
    Client::connect(&opts(router(steps).await)).await.unwrap()
}

#[tokio::test]
async fn an_invalid_hex_challenge_is_a_login_error() {
    let port = router(vec![
        Step::Read,
        Step::Send(&["!done", "=ret=not-hex!"], false),
    ])
    .await;
    let err = Client::connect(&opts(port)).await.err().unwrap();
    assert!(err.is_auth(), "{err:?}");
    assert!(err.to_string().contains("invalid login challenge"), "{err}");
}

#[tokio::test]
async fn eof_and_fatal_during_login_are_errors() {
    let port = router(vec![Step::Read, Step::Close]).await;
    let err = Client::connect(&opts(port)).await.err().unwrap();
    assert!(
        err.to_string()
            .contains("closed the connection before answering the login"),
        "{err}"
    );

    let port = router(vec![
        Step::Read,
        Step::Send(&["!fatal", "too many sessions"], false),
    ])
    .await;
    let err = Client::connect(&opts(port)).await.err().unwrap();
    assert!(err.is_fatal());
    assert!(err.to_string().contains("too many sessions"));

    // A partial reply, then silence: the login deadline, not a hang.
    let port = router(vec![Step::Read, Step::Raw(&[0x05, b'!', b'd'])]).await;
    let err = Client::connect(&opts(port)).await.err().unwrap();
    assert!(err.is_timeout(), "{err:?}");
}

#[tokio::test]
async fn unknown_reply_words_and_unknown_tags_are_skipped() {
    let c = logged_in(vec![
        Step::Read,
        Step::Send(&["!xxx", "=odd=1"], true),
        Step::Send(&["!re", "=name=a", ".tag=999"], false),
        Step::Send(&["!re", "=name=b"], true),
        Step::Send(&["!done"], true),
    ])
    .await;
    let r = c.run(&Command::new("/interface/print")).await.unwrap();
    let names: Vec<String> = r
        .rows
        .iter()
        .map(|r| r.get("name").unwrap().into_owned())
        .collect();
    assert_eq!(names, ["b"]);
}

#[tokio::test]
async fn empty_sequences_yield_no_rows() {
    let c = logged_in(vec![
        Step::Read,
        Step::Send(&["!empty"], true),
        Step::Send(&["!empty"], true),
        Step::Send(&["!done"], true),
        Step::Read,
        Step::Send(&["!empty"], true),
        Step::Send(&["!re"], true),
        Step::Send(&["!done"], true),
    ])
    .await;
    for _ in 0..2 {
        let r = c.run(&Command::new("/ip/route/print")).await.unwrap();
        assert!(r.rows.is_empty(), "{:?}", r.rows);
    }
}

#[tokio::test]
async fn every_trap_category_and_several_traps() {
    for cat in 0..=7u8 {
        let words: &'static [&'static str] = match cat {
            0 => &["!trap", "=category=0", "=message=no such command"],
            1 => &["!trap", "=category=1", "=message=bad value"],
            2 => &["!trap", "=category=2", "=message=interrupted"],
            3 => &["!trap", "=category=3", "=message=script failed"],
            4 => &["!trap", "=category=4", "=message=general failure"],
            5 => &["!trap", "=category=5", "=message=api failure"],
            6 => &["!trap", "=category=6", "=message=tty failure"],
            _ => &["!trap", "=category=7", "=message=return value"],
        };
        let c = logged_in(vec![
            Step::Read,
            Step::Send(words, true),
            Step::Send(&["!done"], true),
        ])
        .await;
        let err = c.run(&Command::new("/x/print")).await.unwrap_err();
        assert_eq!(err.trap_category(), Some(cat));
    }
    let c = logged_in(vec![
        Step::Read,
        Step::Send(&["!trap", "=message=first"], true),
        Step::Send(&["!trap", "=message=second"], true),
        Step::Send(&["!done"], true),
    ])
    .await;
    match c.run(&Command::new("/x/add")).await.unwrap_err() {
        routeros::Error::Trap {
            message,
            more,
            category,
            ..
        } => {
            assert_eq!(message, "first");
            assert_eq!(more, ["second"]);
            assert_eq!(category, None);
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn fatal_fails_every_command_in_flight() {
    let c = logged_in(vec![
        Step::Read,
        Step::Read,
        Step::Read,
        Step::Send(&["!fatal", "out of memory"], false),
    ])
    .await;
    let runs = (0..3).map(|_| {
        let c = c.clone();
        async move { c.run(&Command::new("/interface/print")).await }
    });
    for r in futures::future::join_all(runs).await {
        let e = r.unwrap_err();
        assert!(e.is_fatal(), "{e:?}");
        assert!(e.to_string().contains("out of memory"));
    }
}

#[tokio::test]
async fn a_word_over_the_limit_ends_the_session_with_a_clear_error() {
    // A 2 MiB word announced; the client allows 1 MiB.
    let port = router(vec![
        Step::Read,
        Step::Send(&["!done"], false),
        Step::Read,
        Step::Raw(&[0xE0, 0x20, 0x00, 0x00]),
    ])
    .await;
    let mut o = opts(port);
    o.limits.max_word = 1 << 20;
    let c = Client::connect(&o).await.unwrap();
    let err = c.run(&Command::new("/file/print")).await.unwrap_err();
    assert!(err.is_protocol(), "{err:?}");
    assert!(err.to_string().contains("exceeds the limit"), "{err}");
}
