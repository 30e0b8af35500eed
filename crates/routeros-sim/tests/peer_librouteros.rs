//! The Python `librouteros` client, a real peer, against the simulator.
//!
//! The interpreter comes from `FLEETDECK_PEER_PYTHON`, else the virtualenv
//! the test script installs into `target/peer-venv` (under CARGO_TARGET_DIR
//! when set, then the workspace's `target/`). A missing peer fails the
//! test: it is how we know the simulator speaks the protocol as real clients
//! expect.

use std::{path::PathBuf, process::Command};

use routeros_sim::{peer_python, SimConfig, SimFleet};
use serde_json::Value;
use sha2::{Digest, Sha256};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn librouteros_logs_in_and_reads_the_simulator() {
    let fleet = SimFleet::start(SimConfig {
        devices: 1,
        password: "p4ss word".into(),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/peer/librouteros_peer.py");
    let port = fleet.port(0).to_string();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(peer_python())
            .arg(script)
            .args([port.as_str(), "admin", "p4ss word"])
            .output()
            .expect("run the librouteros peer")
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "librouteros failed: {stderr}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("peer prints JSON");
    let resource = &v["resource"][0];
    let load: u64 = resource["cpu-load"].as_u64().expect("cpu-load");
    assert!(load <= 100);
    assert_eq!(resource["version"], "7.16.2 (stable)");
    assert_eq!(v["identity"][0]["name"], "sim-router-0000");
    assert_eq!(v["interfaces"].as_array().unwrap().len(), 5);
    assert!(v["interfaces"][0]["rx-byte"].as_u64().unwrap() > 0);
    assert!(v["trap"]
        .as_str()
        .unwrap()
        .contains("no such command prefix"));
    assert!(v["bad_login"]
        .as_str()
        .unwrap()
        .contains("invalid user name or password"));
}

/// Runs `tests/peer/librouteros_edges.py MODE USER PASSWORD PORTS...` and
/// returns the JSON it prints.
async fn edges(mode: &str, password: &str, ports: &[u16]) -> Value {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/peer/librouteros_edges.py");
    let mut args = vec![mode.to_owned(), "admin".to_owned(), password.to_owned()];
    args.extend(ports.iter().map(u16::to_string));
    let out = tokio::task::spawn_blocking(move || {
        Command::new(peer_python())
            .arg(script)
            .args(&args)
            .output()
            .expect("run the librouteros peer")
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "librouteros ({mode}) failed: {stderr}"
    );
    serde_json::from_slice(&out.stdout).expect("peer prints JSON")
}

async fn fleet(versions: &[&str], password: &str) -> SimFleet {
    SimFleet::start(SimConfig {
        devices: versions.len(),
        password: password.into(),
        versions: versions.iter().map(|v| (*v).to_owned()).collect(),
        ..SimConfig::default()
    })
    .await
    .unwrap()
}

fn ports(fleet: &SimFleet, n: usize) -> Vec<u16> {
    (0..n).map(|i| fleet.port(i)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn librouteros_challenge_login_on_6_42_and_both_logins_on_6_44() {
    let fleet = fleet(&["6.42", "6.44"], "s3cret").await;
    let v = edges("login", "s3cret", &ports(&fleet, 2)).await;

    // librouteros's MD5 answer is ours (go-routeros's vector, ROUTEROS.md §1.4).
    let ours = routeros_proto::login::challenge_response(b"passTest", "abc123").unwrap();
    assert_eq!(v["md5_vector"], "0021277bff9ac7caf06aa608e46616d47f");
    assert_eq!(v["md5_vector"], ours.as_str());

    for (key, version, identity) in [
        ("v6_42", "6.42 (stable)", "sim-router-0000"),
        ("v6_44", "6.44 (stable)", "sim-router-0001"),
    ] {
        let r = &v[key];
        // login_method=token: the pre-6.43 challenge, then real reads.
        assert_eq!(r["token_identity"][0], identity, "{key}: {r}");
        assert_eq!(r["token_version"][0], version, "{key}");
        assert_eq!(r["token_wrong_password"], "cannot log in", "{key}");
        let wrong_plain = if key == "v6_42" {
            // 6.42 ignores the password of a plain login and answers with a
            // challenge, which librouteros's plain login does not check.
            "returned"
        } else {
            "invalid user name or password (6)"
        };
        assert_eq!(r["plain_wrong_password"], wrong_plain, "{key}");
    }

    // 6.42: a plain /login gets `!done =ret=<32 hex>`: a challenge, not a
    // session. librouteros's connect() returns, and the first command fails
    // with a clear trap.
    let r = &v["v6_42"];
    let reply = r["plain_login_reply"].as_array().unwrap();
    assert_eq!(reply.len(), 1, "{r}");
    let ret = reply[0]["ret"].as_str().unwrap();
    assert_eq!(ret.len(), 32, "{ret}");
    assert!(ret.bytes().all(|b| b.is_ascii_hexdigit()), "{ret}");
    assert_eq!(r["plain_connect"], "returned");
    assert_eq!(r["plain_first_command"], "TrapError: not logged in");
    assert!(r.get("plain_identity").is_none());

    // 6.44 takes both: a plain login is a session at once.
    let r = &v["v6_44"];
    assert_eq!(r["plain_login_reply"], serde_json::json!([]));
    assert_eq!(r["plain_connect"], "returned");
    assert_eq!(r["plain_identity"][0], "sim-router-0001");
    assert!(r.get("plain_first_command").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn librouteros_reads_empty_on_7_19_as_zero_rows() {
    let fleet = fleet(&["7.19.1", "7.16.2"], "").await;
    let v = edges("empty", "", &ports(&fleet, 2)).await;
    for (key, empty) in [("v7_19", true), ("v7_16", false)] {
        let r = &v[key];
        let nothing: &[&str] = if empty {
            &["!empty", "!done"]
        } else {
            &["!done"]
        };
        for case in ["query_none", "raw_none"] {
            assert_eq!(r[case]["rows"], serde_json::json!([]), "{key} {case}: {r}");
            assert_eq!(
                r[case]["replies"],
                serde_json::json!(nothing),
                "{key} {case}"
            );
        }
        assert_eq!(
            r["query_one"]["rows"],
            serde_json::json!([{ "name": "ether1" }]),
            "{key}"
        );
        assert_eq!(
            r["query_one"]["replies"],
            serde_json::json!(["!re", "!done"]),
            "{key}"
        );
        let idx = if empty { "0000" } else { "0001" };
        assert_eq!(
            r["after"]["rows"],
            serde_json::json!([format!("sim-router-{idx}")]),
            "{key}"
        );
        assert_eq!(r["after"]["replies"], serde_json::json!(["!re", "!done"]));
    }
}

/// The printable, non-repeating filler the Python side sends
/// (`pattern()` in librouteros_edges.py).
fn pattern(n: usize) -> Vec<u8> {
    (0..n)
        .map(|i| 33 + ((i * 31 + i / 97) % 94) as u8)
        .collect()
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn librouteros_long_words_at_every_length_prefix_boundary() {
    let fleet = fleet(&["7.16.2"], "pw").await;
    let v = edges("long-words", "pw", &ports(&fleet, 1)).await;
    let cases = v["identity"].as_array().unwrap();
    let lens: Vec<u64> = cases
        .iter()
        .map(|c| c["word_len"].as_u64().unwrap())
        .collect();
    assert_eq!(
        lens,
        [6, 0x7E, 0x7F, 0x80, 0x3FFE, 0x3FFF, 0x4000, 0x1F_FFFE, 0x1F_FFFF, 0x20_0000]
    );
    for c in cases {
        let word_len = c["word_len"].as_u64().unwrap() as u32;
        let value_len = word_len as usize - "=name=".len();
        // librouteros's prefix is the shortest form, as ours.
        let mut prefix = Vec::new();
        routeros_proto::encode_length(word_len, &mut prefix);
        let prefix: String = prefix.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(c["prefix"], prefix.as_str(), "{c}");
        assert_eq!(c["equal"], true, "word of {word_len:#x} bytes: {c}");
        assert_eq!(c["got_len"], value_len, "{c}");
        assert_eq!(c["got_sha256"], sha256_hex(&pattern(value_len)).as_str());
    }
    let prefixes: Vec<&str> = cases
        .iter()
        .map(|c| c["prefix"].as_str().unwrap())
        .collect();
    for p in ["7f", "8080", "bfff", "c04000", "dfffff", "e0200000"] {
        assert!(prefixes.contains(&p), "no word with prefix {p}");
    }

    let f = &v["file"];
    assert_eq!(f["small_inline_equal"], true, "{f}");
    assert_eq!(f["small_size"], 0x3FFF - "=contents=".len());
    let big = 0x20_0000 - "=contents=".len();
    assert_eq!(f["big_size"], big);
    assert_eq!(f["big_inline"], false, "over 60 KiB: no inline contents");
    assert_eq!(f["big_chunks"], big.div_ceil(32_768));
    assert_eq!(f["big_read_len"], big);
    assert_eq!(f["big_read_sha256"], sha256_hex(&pattern(big)).as_str());
    assert_eq!(f["big_equal"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn librouteros_pipelines_tagged_commands() {
    let fleet = fleet(&["7.19.1"], "pw").await;
    let v = edges("pipeline", "pw", &ports(&fleet, 1)).await;
    let t = &v["by_tag"];
    let replies = |tag: &str| -> Vec<String> {
        t[tag]
            .as_array()
            .unwrap_or_else(|| panic!("no replies for tag {tag}: {v}"))
            .iter()
            .map(|r| r["reply"].as_str().unwrap().to_owned())
            .collect()
    };
    assert!(v["bytes_sent"].as_u64().unwrap() > 200);
    assert_eq!(replies("1"), ["!re", "!done"]);
    assert_eq!(t["1"][0]["name"], "sim-router-0000");
    assert_eq!(replies("2"), ["!re", "!done"]);
    assert_eq!(t["2"][0]["name"], "ether2");
    assert_eq!(t["2"][0]["type"], "ether");
    assert_eq!(
        t["2"][0].as_object().unwrap().len(),
        3,
        "proplist: {}",
        t["2"]
    );
    assert_eq!(replies("3"), ["!trap", "!done"]);
    assert_eq!(t["3"][0]["message"], "no such command prefix");
    assert_eq!(replies("4"), ["!empty", "!done"]);
    assert_eq!(replies("5"), ["!done"]);
    // Commands run in the order they were written: 6 sees 5's change.
    assert_eq!(replies("6"), ["!re", "!done"]);
    assert_eq!(t["6"][0]["name"], "piped");
    assert_eq!(replies("7"), ["!trap", "!done"]);
    assert_eq!(t["7"][0]["category"], "2");
    assert_eq!(t["7"][0]["message"], "interrupted");
    assert_eq!(replies("8"), ["!done"]);
    assert_eq!(replies("9"), ["!trap", "!done"]);
    assert_eq!(t["9"][0]["category"], "1");
    assert_eq!(
        t["9"][0]["message"],
        "input does not match any value of interface"
    );
    assert!(t.get("null").is_none(), "untagged reply: {v}");
    // The cancelled listen's order (ROUTEROS.md §1.5): its !trap, the
    // /cancel's !done, then its own !done.
    let order: Vec<&str> = v["order"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o.as_str().unwrap())
        .collect();
    let at = |s: &str| order.iter().position(|o| *o == s).unwrap();
    assert!(
        at("!trap:7") < at("!done:8") && at("!done:8") < at("!done:7"),
        "{order:?}"
    );
    assert_eq!(order.len(), 16, "{order:?}");
    assert_eq!(v["after"], serde_json::json!(["piped"]));
}
