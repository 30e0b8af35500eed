//! An export is taken with sensitive values hidden: RouterOS 7 hides them
//! by default, RouterOS 6 must be asked (`hide-sensitive`). Played by a
//! scripted RouterOS 6 router that records what it is asked.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use routeros::{Client, ConnectOptions, ExportMethod};
use routeros_proto::{ApiCodec, Sentence};
use tokio::{net::TcpListener, sync::mpsc};
use tokio_util::codec::Framed;

#[tokio::test]
async fn a_routeros_6_export_is_asked_to_hide_sensitive_values() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (seen_tx, mut seen) = mpsc::unbounded_channel::<Vec<String>>();
    tokio::spawn(async move {
        let (s, _) = listener.accept().await.unwrap();
        let mut t = Framed::new(s, ApiCodec::default());
        while let Some(Ok(cmd)) = t.next().await {
            let words: Vec<String> = cmd
                .words()
                .iter()
                .map(|w| String::from_utf8_lossy(w).into_owned())
                .collect();
            let tag = words
                .iter()
                .find(|w| w.starts_with(".tag="))
                .cloned()
                .unwrap_or_default();
            let reply = |words: Vec<String>| Sentence::from_words(words);
            let first = words[0].clone();
            let _ = seen_tx.send(words);
            let out = match first.as_str() {
                "/login" => vec![reply(vec!["!done".into()])],
                "/system/resource/print" => vec![
                    reply(vec![
                        "!re".into(),
                        "=version=6.49.10 (long-term)".into(),
                        tag.clone(),
                    ]),
                    reply(vec!["!done".into(), tag]),
                ],
                "/file/print" => vec![
                    reply(vec![
                        "!re".into(),
                        "=name=fleetdeck-export.rsc".into(),
                        "=contents=/system identity set name=r6\n".into(),
                        tag.clone(),
                    ]),
                    reply(vec!["!done".into(), tag]),
                ],
                _ => vec![reply(vec!["!done".into(), tag])],
            };
            for s in out {
                if t.send(s).await.is_err() {
                    return;
                }
            }
        }
    });
    let mut o = ConnectOptions::new("127.0.0.1", port, "admin", "pw");
    o.command_timeout = Duration::from_secs(10);
    let client = Client::connect(&o).await.unwrap();
    let text = client.export_text(ExportMethod::Auto).await.unwrap();
    assert_eq!(text, b"/system identity set name=r6\n");
    let mut exports = Vec::new();
    while let Ok(words) = seen.try_recv() {
        if words[0] == "/export" {
            exports.push(words);
        }
    }
    assert_eq!(exports.len(), 1, "{exports:?}");
    assert!(
        exports[0].iter().any(|w| w == "=hide-sensitive="),
        "{:?}",
        exports[0]
    );
}
