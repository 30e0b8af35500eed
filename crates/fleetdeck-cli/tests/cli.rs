//! The CLI binary as a technician runs it, against simulated routers.

use std::process::{Command, Output};

use fleet_store::{FleetStore, StoreUrl};
use routeros_sim::{SimConfig, SimFleet};

mod common;
use common::{cli, push_args, s};

async fn sim() -> SimFleet {
    SimFleet::start(SimConfig {
        devices: 1,
        password: "s3cret".into(),
        ..SimConfig::default()
    })
    .await
    .unwrap()
}

/// Each stdout line of `ros` as JSON.
fn json_lines(out: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ros_prints_each_reply_as_a_json_line() {
    let sim = sim().await;
    let port = sim.port(0).to_string();
    let out = cli(
        s(&[
            "ros",
            "--host",
            "127.0.0.1",
            "--port",
            &port,
            "--user",
            "admin",
            "--password-env",
            "RPW",
            "--",
            "/interface/print",
            ".proplist=name,rx-byte",
        ]),
        vec![("RPW", "s3cret".into())],
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 6, "5 interfaces and !done");
    assert_eq!(lines[0]["reply"], "!re");
    assert_eq!(lines[0]["attributes"]["name"], "ether1");
    assert_eq!(lines[0]["attributes"].as_object().unwrap().len(), 2);
    assert_eq!(lines[5]["reply"], "!done");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ros_reports_a_trap_and_exits_non_zero() {
    let sim = sim().await;
    let port = sim.port(0).to_string();
    let out = cli(
        s(&[
            "ros",
            "--host",
            "127.0.0.1",
            "--port",
            &port,
            "--password-env",
            "RPW",
            "--",
            "/no/such/print",
        ]),
        vec![("RPW", "s3cret".into())],
    )
    .await;
    assert_eq!(out.status.code(), Some(2));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("\"!trap\""), "{stdout}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("no such command prefix"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_password_is_explained() {
    let sim = sim().await;
    let port = sim.port(0).to_string();
    let out = cli(
        s(&[
            "ros",
            "--host",
            "127.0.0.1",
            "--port",
            &port,
            "--password-env",
            "RPW",
            "--",
            "/system/resource/print",
        ]),
        vec![("RPW", "nope".into())],
    )
    .await;
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("refused the login"), "{err}");
    assert!(!err.contains("nope"), "password must not be printed: {err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poll_stores_check_ins_in_the_named_store() {
    let sim = sim().await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("fleet.db");
    let url = format!("sqlite://{}", db.display());
    let port = sim.port(0).to_string();
    for _ in 0..2 {
        let out = cli(
            s(&[
                "poll",
                "--host",
                "127.0.0.1",
                "--port",
                &port,
                "--password-env",
                "RPW",
                "--store",
                &url,
            ]),
            vec![
                ("RPW", "s3cret".into()),
                ("FLEETDECK_DATA_DIR", dir.path().display().to_string()),
            ],
        )
        .await;
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let k: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(k["identity"], "sim-router-0000");
    }
    let store = FleetStore::open(&StoreUrl::Sqlite(db)).await.unwrap();
    let devices = store.list_devices().await.unwrap();
    assert_eq!(devices.len(), 1);
    assert_eq!(store.count_checkins(&devices[0].id).await.unwrap(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_commands_are_pipelined_and_printed_in_order() {
    let sim = sim().await;
    let port = sim.port(0).to_string();
    let out = cli(
        s(&[
            "ros",
            "--host",
            "127.0.0.1",
            "--port",
            &port,
            "--password-env",
            "RPW",
            "--proplist",
            "name",
            "--query",
            "?name=ether2",
            "--",
            "/interface/print",
            "--",
            "/system/identity/print",
        ]),
        vec![("RPW", "s3cret".into())],
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = json_lines(&out);
    let summary: Vec<(String, String)> = lines
        .iter()
        .map(|l| {
            (
                l["command"].as_str().unwrap().to_owned(),
                l["reply"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    // The query applies to both commands: no identity is named ether2.
    let want = [
        ("/interface/print", "!re"),
        ("/interface/print", "!done"),
        ("/system/identity/print", "!done"),
    ];
    let want: Vec<(String, String)> = want
        .iter()
        .map(|(c, r)| (c.to_string(), r.to_string()))
        .collect();
    assert_eq!(summary, want);
    assert_eq!(lines[0]["attributes"]["name"], "ether2");
    assert_eq!(lines[0]["attributes"].as_object().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_trust_on_first_use_prints_the_fingerprint_to_pin() {
    let sim = SimFleet::start(SimConfig {
        devices: 1,
        password: "s3cret".into(),
        tls: true,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let port = sim.tls_port(0).unwrap().to_string();
    let fp: Vec<String> = sim
        .fingerprint(0)
        .unwrap()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect();
    let fp = fp.join(":");
    let env = || vec![("RPW", "s3cret".to_string())];
    let args = |extra: &[&str]| {
        let mut a = s(&[
            "ros",
            "--host",
            "127.0.0.1",
            "--port",
            &port,
            "--password-env",
            "RPW",
        ]);
        a.extend(s(extra));
        a.extend(s(&["--", "/system/identity/print"]));
        a
    };
    let out = cli(args(&["--tls"]), env()).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains(&fp));
    let pinned = cli(args(&["--fingerprint", &fp]), env()).await;
    assert!(pinned.status.success());
    let zeros = format!("{}00", "00:".repeat(31));
    let wrong = cli(args(&["--fingerprint", &zeros]), env()).await;
    assert!(!wrong.status.success());
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("certificate has changed"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follow_streams_rows_for_the_duration() {
    let sim = sim().await;
    let port = sim.port(0).to_string();
    let out = cli(
        s(&[
            "ros",
            "--host",
            "127.0.0.1",
            "--port",
            &port,
            "--password-env",
            "RPW",
            "--follow",
            "--duration",
            "2s",
            "--",
            "/interface/monitor-traffic",
            "=interface=ether1",
            "=interval=500ms",
        ]),
        vec![("RPW", "s3cret".into())],
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows = String::from_utf8(out.stdout).unwrap().lines().count();
    assert!(
        (2..=5).contains(&rows),
        "about 4 rows in 2 s at 500 ms, got {rows}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_anonymous_reaches_a_router_without_a_certificate_and_warns() {
    let sim = SimFleet::start(SimConfig {
        devices: 1,
        password: "s3cret".into(),
        tls: true,
        tls_anonymous: true,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let port = sim.tls_port(0).unwrap().to_string();
    let args = |extra: &[&str]| {
        let mut a = s(&[
            "ros",
            "--host",
            "127.0.0.1",
            "--port",
            &port,
            "--password-env",
            "RPW",
        ]);
        a.extend(s(extra));
        a.extend(s(&["--", "/system/identity/print"]));
        a
    };
    let env = || vec![("RPW", "s3cret".to_string())];
    let out = cli(args(&["--tls-anonymous"]), env()).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let first: serde_json::Value =
        serde_json::from_str(String::from_utf8_lossy(&out.stdout).lines().next().unwrap()).unwrap();
    assert_eq!(first["attributes"]["name"], "sim-router-0000");
    assert!(stderr.contains("NOT authenticated"), "{stderr}");
    // Certificate TLS against the same router says what to do instead.
    let tofu = cli(args(&["--tls"]), env()).await;
    assert!(!tofu.status.success());
    let stderr = String::from_utf8_lossy(&tofu.stderr);
    assert!(stderr.contains("--tls-anonymous"), "{stderr}");
    // Anonymous and pinned at once makes no sense.
    let zeros = format!("{}00", "00:".repeat(31));
    let both = cli(args(&["--tls-anonymous", "--fingerprint", &zeros]), env()).await;
    assert_eq!(both.status.code(), Some(2), "clap usage error");
    assert!(String::from_utf8_lossy(&both.stderr).contains("cannot be used with"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poll_over_api_ssl_with_a_pinned_certificate() {
    let sim = SimFleet::start(SimConfig {
        devices: 1,
        password: "s3cret".into(),
        tls: true,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("fleet.db").display());
    let fp: Vec<String> = sim
        .fingerprint(0)
        .unwrap()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect();
    let port = sim.tls_port(0).unwrap().to_string();
    let out = cli(
        s(&[
            "poll",
            "--host",
            "127.0.0.1",
            "--port",
            &port,
            "--password-env",
            "RPW",
            "--fingerprint",
            &fp.join(":"),
            "--store",
            &url,
        ]),
        vec![
            ("RPW", "s3cret".into()),
            ("FLEETDECK_DATA_DIR", dir.path().display().to_string()),
        ],
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let k: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(k["identity"], "sim-router-0000");
    // Over the plain API port the same poll must not pretend to be TLS.
    let plain = cli(
        s(&[
            "poll",
            "--host",
            "127.0.0.1",
            "--port",
            &sim.port(0).to_string(),
            "--password-env",
            "RPW",
            "--fingerprint",
            &fp.join(":"),
            "--store",
            &url,
        ]),
        vec![
            ("RPW", "s3cret".into()),
            ("FLEETDECK_DATA_DIR", dir.path().display().to_string()),
        ],
    )
    .await;
    assert!(!plain.status.success());
    assert!(String::from_utf8_lossy(&plain.stderr).contains("did not answer with TLS"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_ddl_migrate_and_stats() {
    let ddl = cli(s(&["store", "ddl", "--dialect", "singlestore"]), vec![]).await;
    assert!(ddl.status.success());
    let text = String::from_utf8(ddl.stdout).unwrap();
    assert!(
        text.contains("SHARD KEY (device_id)") && text.contains("SORT KEY (checked_in_at)"),
        "{text}"
    );
    let bad = cli(s(&["store", "ddl", "--dialect", "oracle"]), vec![]).await;
    assert!(!bad.status.success());

    let sim = sim().await;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("fleet.db").display());
    let env = || {
        vec![
            ("RPW", "s3cret".to_string()),
            ("FLEETDECK_DATA_DIR", dir.path().display().to_string()),
        ]
    };
    let migrated = cli(s(&["store", "migrate", "--store", &url]), env()).await;
    assert!(String::from_utf8_lossy(&migrated.stdout).contains("sqlite store at"));
    let port = sim.port(0).to_string();
    let polled = cli(
        s(&[
            "poll",
            "--host",
            "127.0.0.1",
            "--port",
            &port,
            "--password-env",
            "RPW",
            "--store",
            &url,
        ]),
        env(),
    )
    .await;
    assert!(polled.status.success());
    let stats = cli(s(&["store", "stats", "--json", "--store", &url]), env()).await;
    let v: serde_json::Value = serde_json::from_slice(&stats.stdout).unwrap();
    assert_eq!(v["devices"], 1);
    assert_eq!(v["checkins"], 1);
    assert_eq!(v["device_latest"], 1);
    // The device and its check-in are queued for the next sync.
    assert_eq!(v["outbox"], 2);
}

/// A fresh MariaDB database for one test, dropped by the caller.
fn mariadb(db: &str) -> std::process::Output {
    Command::new("mysql")
        .args(["-h127.0.0.1", "-uroot", "-e"])
        .arg(format!(
            "DROP DATABASE IF EXISTS {db}; CREATE DATABASE {db}"
        ))
        .output()
        .expect("mysql client (scripts/test.sh installs it)")
}

fn stats_json(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generate_dashboard_and_sync_both_ways() {
    let dir = tempfile::tempdir().unwrap();
    let env = || vec![("FLEETDECK_DATA_DIR", dir.path().display().to_string())];
    let site = format!("sqlite://{}/site.db", dir.path().display());
    let copy = format!("sqlite://{}/copy.db", dir.path().display());
    let db = format!("fleetdeck_cli_{}", std::process::id());
    assert!(mariadb(&db).status.success());
    // Over verified TLS, as the shared database is reached by default: the
    // server's certificate is from the test CA scripts/test.sh makes.
    let ca = std::env::var("FLEETDECK_TEST_MYSQL_CA")
        .unwrap_or_else(|_| "/etc/mysql/fleetdeck-test-tls/ca.pem".into());
    let shared = format!("mysql://root@127.0.0.1:3306/{db}?ca={ca}");

    // A synthetic fleet in the shared database, and what its overview says.
    let gen = cli(
        s(&[
            "store",
            "generate",
            "--store",
            &shared,
            "--devices",
            "120",
            "--checkins-per-device",
            "30",
            "--interval",
            "5m",
            "--json",
        ]),
        env(),
    )
    .await;
    let report = stats_json(&gen);
    assert_eq!(report["devices"], 120);
    assert_eq!(report["checkins"], 3600);
    let dash = stats_json(
        &cli(
            s(&["store", "dashboard", "--store", &shared, "--json"]),
            env(),
        )
        .await,
    );
    assert_eq!(dash["summary"]["total"], 120);
    assert_eq!(dash["summary"]["online"], 120, "{dash}");
    let versions: u64 = dash["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["devices"].as_u64().unwrap())
        .sum();
    assert_eq!(versions, 120);
    let text = cli(s(&["store", "dashboard", "--store", &shared]), env()).await;
    assert!(String::from_utf8_lossy(&text.stdout).contains("120 devices: 120 online"));

    // Pull an offline copy; pulling again copies nothing new.
    for round in 0..2 {
        let out = stats_json(
            &cli(
                s(&[
                    "sync", "--from", &shared, "--to", &copy, "--window", "10m", "--json",
                ]),
                env(),
            )
            .await,
        );
        assert_eq!(out["devices"], if round == 0 { 120 } else { 0 });
        assert_eq!(out["stillQueued"], 0);
    }
    let copied = stats_json(&cli(s(&["store", "stats", "--json", "--store", &copy]), env()).await);
    assert_eq!(copied["devices"], 120);
    assert_eq!(copied["device_latest"], 120);
    assert!(copied["checkins"].as_u64().unwrap() > 0);
    assert!(
        copied["checkins"].as_u64().unwrap() < 3600,
        "only the window's raw rows"
    );

    // Records made on site go up with sync and are not queued twice.
    let sim = sim().await;
    let port = sim.port(0).to_string();
    let polled = cli(
        s(&[
            "poll",
            "--host",
            "127.0.0.1",
            "--port",
            &port,
            "--password-env",
            "RPW",
            "--store",
            &site,
        ]),
        vec![
            ("RPW", "s3cret".to_string()),
            ("FLEETDECK_DATA_DIR", dir.path().display().to_string()),
        ],
    )
    .await;
    assert!(
        polled.status.success(),
        "{}",
        String::from_utf8_lossy(&polled.stderr)
    );
    let up = stats_json(
        &cli(
            s(&["sync", "--from", &site, "--to", &shared, "--json"]),
            env(),
        )
        .await,
    );
    assert_eq!(
        up["recordsDelivered"], 2,
        "the device and its check-in: {up}"
    );
    assert_eq!(up["stillQueued"], 0);
    let after = stats_json(&cli(s(&["store", "stats", "--json", "--store", &shared]), env()).await);
    assert_eq!(after["devices"], 121);
    assert_eq!(after["checkins"], 3601);
    let again = stats_json(
        &cli(
            s(&["sync", "--from", &site, "--to", &shared, "--json"]),
            env(),
        )
        .await,
    );
    assert_eq!(again["recordsDelivered"], 0);

    // A database that is not there: a clear error, nothing lost.
    let gone = cli(
        s(&[
            "sync",
            "--from",
            &site,
            "--to",
            "mysql://root@127.0.0.1:1/none",
        ]),
        env(),
    )
    .await;
    assert!(!gone.status.success());
    assert!(
        String::from_utf8_lossy(&gone.stderr).contains("could not reach the fleet database"),
        "{}",
        String::from_utf8_lossy(&gone.stderr)
    );
    Command::new("mysql")
        .args(["-h127.0.0.1", "-uroot", "-e"])
        .arg(format!("DROP DATABASE IF EXISTS {db}"))
        .output()
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poll_targets_once_and_watch_live_traffic() {
    let sim = sim().await;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/fleet.db", dir.path().display());
    let list: String = sim
        .ports()
        .iter()
        .map(|p| format!("127.0.0.1:{p}\n"))
        .chain(["# a router that is not there\n127.0.0.1:1\n".to_string()])
        .collect();
    let file = dir.path().join("targets.txt");
    std::fs::write(&file, list).unwrap();
    let env = || {
        vec![
            ("RPW", "s3cret".to_string()),
            ("FLEETDECK_DATA_DIR", dir.path().display().to_string()),
        ]
    };
    let out = cli(
        s(&[
            "poll",
            "--targets",
            file.to_str().unwrap(),
            "--password-env",
            "RPW",
            "--store",
            &url,
            "--once",
            "--json",
        ]),
        env(),
    )
    .await;
    assert_eq!(out.status.code(), Some(2), "one router failed: exit 2");
    let report = &json_lines(&out)[0];
    let routers = sim.ports().len() as u64 + 1;
    assert_eq!(report["routers"], routers);
    assert_eq!(report["counters"]["pollsOk"], routers - 1);
    assert_eq!(report["counters"]["pollsFailed"], 1);
    assert_eq!(report["counters"]["rowsWritten"], routers - 1);
    // A second sweep reuses the inventory: no new devices.
    cli(
        s(&[
            "poll",
            "--targets",
            file.to_str().unwrap(),
            "--password-env",
            "RPW",
            "--store",
            &url,
            "--once",
        ]),
        env(),
    )
    .await;
    let stats = stats_json(&cli(s(&["store", "stats", "--json", "--store", &url]), env()).await);
    assert_eq!(stats["devices"], routers);
    assert_eq!(stats["checkins"], 2 * (routers - 1));

    let port = sim.port(0).to_string();
    let watched = cli(
        s(&[
            "watch",
            "--host",
            "127.0.0.1",
            "--port",
            &port,
            "--password-env",
            "RPW",
            "--interface",
            "ether1",
            "--duration",
            "2500ms",
        ]),
        env(),
    )
    .await;
    assert!(
        watched.status.success(),
        "{}",
        String::from_utf8_lossy(&watched.stderr)
    );
    let samples = json_lines(&watched);
    assert!(!samples.is_empty());
    assert!(samples.iter().all(|v| v["interface"] == "ether1"));
    assert!(samples.iter().any(|v| v["rxBps"].as_u64().unwrap() > 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn template_check_and_render_with_json_and_toml_values() {
    let dir = tempfile::tempdir().unwrap();
    let tpl = dir.path().join("bootstrap.rsc");
    std::fs::write(
        &tpl,
        "/system identity set name={{ id: name }}\n/ip address add address={{ wan: ipv4_cidr }} interface=ether1 comment={{ note: string }}\n/user add name=tech password={{ pw: secret }} group=full\n",
    )
    .unwrap();
    let out = cli(s(&["template", "check", tpl.to_str().unwrap()]), vec![]).await;
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "id: name\nwan: ipv4_cidr\nnote: string\npw: secret\n"
    );

    let json = dir.path().join("v.json");
    std::fs::write(
        &json,
        r#"{"id": "core-1", "wan": "10.1.1.2/30", "note": "$[/system reboot] \"x\"", "pw": "s3"}"#,
    )
    .unwrap();
    let out = cli(
        s(&[
            "template",
            "render",
            tpl.to_str().unwrap(),
            "--values",
            json.to_str().unwrap(),
        ]),
        vec![],
    )
    .await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains(r#"comment="\$[/system reboot] \"x\"""#),
        "{text}"
    );
    assert!(text.contains(r#"password="s3""#));
    let out = cli(
        s(&[
            "template",
            "render",
            tpl.to_str().unwrap(),
            "--values",
            json.to_str().unwrap(),
            "--preview",
        ]),
        vec![],
    )
    .await;
    assert!(String::from_utf8_lossy(&out.stdout).contains(r#"password="********""#));

    let toml = dir.path().join("v.toml");
    std::fs::write(
        &toml,
        "id = \"core-2\"\nwan = \"10.1.1.300/30\"\nnote = \"n\"\npw = \"p\"\n",
    )
    .unwrap();
    let out = cli(
        s(&[
            "template",
            "render",
            tpl.to_str().unwrap(),
            "--values",
            toml.to_str().unwrap(),
        ]),
        vec![],
    )
    .await;
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bootstrap.rsc:line 2, column 25: wan"),
        "{err}"
    );

    std::fs::write(
        &tpl,
        "/ip address add address={{ wan: ipv4 }}\n/x set y={{ wan: string }}\n",
    )
    .unwrap();
    let out = cli(s(&["template", "check", tpl.to_str().unwrap()]), vec![]).await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 2, column 10"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discover_hears_mndp_and_probes_api_ports() {
    let sim = sim().await;
    let port = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = format!("127.0.0.1:{port}");
    let announcer = sim
        .announce_mndp(
            listen.parse().unwrap(),
            std::time::Duration::from_millis(100),
        )
        .await
        .unwrap();
    let api = sim.port(0).to_string();
    let out = cli(
        s(&[
            "discover",
            "--listen",
            &listen,
            "--duration",
            "700ms",
            "--probe",
            "127.0.0.1",
            "--ports",
            &api,
            "--json",
        ]),
        vec![],
    )
    .await;
    announcer.abort();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = json_lines(&out);
    let mndp: Vec<&serde_json::Value> = lines.iter().filter_map(|l| l.get("mndp")).collect();
    assert_eq!(mndp.len(), 1, "{lines:?}");
    assert_eq!(mndp[0]["identity"], "sim-router-0000");
    let probe: Vec<&serde_json::Value> = lines.iter().filter_map(|l| l.get("probe")).collect();
    assert_eq!(probe.len(), 1);
    assert_eq!(probe[0]["port"], sim.port(0));
    // Rust says how each find is added: not the API-SSL port, plain API.
    assert_eq!(probe[0]["transport"], "api");
    assert_eq!(mndp[0]["transport"], "api");
    assert_eq!(mndp[0]["port"], 8728);
    let bad = cli(
        s(&["discover", "--probe", "10.0.0.0/8", "--duration", "1ms"]),
        vec![],
    )
    .await;
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("larger than a /16"));
}

/// The on-site flow from the terminal: preview a template on a router (the
/// diff names the changes, nothing is written), push it (JSON lines per
/// router and a summary), then preview again: nothing left to change.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preview_push_and_preview_again() {
    let sim = sim().await;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/fleet.db", dir.path().display());
    let tpl = dir.path().join("bootstrap.rsc");
    std::fs::write(
        &tpl,
        "/system identity set name={{ id: name }}\n/interface bridge add name=lan comment={{ note: string }}\n/ip address add address={{ lan: ipv4_cidr }} interface=lan\n",
    )
    .unwrap();
    let values = dir.path().join("v.toml");
    std::fs::write(
        &values,
        "id = \"shop-12\"\nnote = \"Joe's \\\"Café\\\" $[/system reset-configuration]\"\nlan = \"192.168.50.1/24\"\n",
    )
    .unwrap();
    let port = sim.port(0).to_string();
    let env = || {
        vec![
            ("RPW", "s3cret".to_string()),
            ("FLEETDECK_DATA_DIR", dir.path().display().to_string()),
        ]
    };
    let preview = |json: bool| {
        let mut a = s(&[
            "preview",
            "--host",
            "127.0.0.1",
            "--port",
            &port,
            "--password-env",
            "RPW",
            "--template",
            tpl.to_str().unwrap(),
            "--values",
            values.to_str().unwrap(),
        ]);
        if json {
            a.push("--json".into());
        }
        cli(a, env())
    };
    let out = preview(false).await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("-/system identity set name=sim-router-0000"),
        "{text}"
    );
    assert!(
        text.contains("+/system identity set name=shop-12"),
        "{text}"
    );
    assert!(
        text.contains(r#"+/interface bridge add name=lan comment="Joe's \"Caf\C3\A9\" \$[/system reset-configuration]""#),
        "{text}"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("3 of 3 steps would change"));

    let targets = format!("127.0.0.1:{port}");
    let out = cli(push_args(&tpl, &values, &targets, &url, &[]), env()).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = json_lines(&out);
    assert_eq!(lines[0]["status"], "succeeded", "{lines:?}");
    assert_eq!(lines[1]["succeeded"], 1);

    let out = preview(true).await;
    let p: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(p["changes"], 0, "{p}");
    assert_eq!(p["diff"], "");
    assert!(p["after"]
        .as_str()
        .unwrap()
        .contains(r#"comment="Joe's \"Caf\C3\A9\" \$[/system reset-configuration]""#));
}

/// A bulk push stopped by its failure policy is listed by `pushes` and
/// finished with `push --resume`; `confirm` lists and removes a pending
/// safety net by hand.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_bulk_push_is_listed_and_resumed() {
    let sim = SimFleet::start(SimConfig {
        devices: 3,
        password: "s3cret".into(),
        reboot_delay: std::time::Duration::from_millis(300),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    sim.device(0).set_faults(routeros_sim::Faults {
        trap: vec![("/system/identity/set".into(), "not allowed here".into())],
        ..Default::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/fleet.db", dir.path().display());
    let tpl = dir.path().join("t.rsc");
    std::fs::write(&tpl, "/system identity set name={{ id: name }}\n").unwrap();
    let values = dir.path().join("v.json");
    std::fs::write(&values, r#"{"id": "edge"}"#).unwrap();
    let targets = sim
        .ports()
        .iter()
        .map(|p| format!("127.0.0.1:{p}"))
        .collect::<Vec<_>>()
        .join(",");
    let env = || {
        vec![
            ("RPW", "s3cret".to_string()),
            ("FLEETDECK_DATA_DIR", dir.path().display().to_string()),
        ]
    };
    let push = |resume: Option<String>| {
        let resume: Vec<&str> = match &resume {
            Some(b) => vec!["--resume", b],
            None => vec![],
        };
        cli(push_args(&tpl, &values, &targets, &url, &resume), env())
    };
    let out = push(None).await;
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = json_lines(&out);
    assert_eq!(lines[0]["status"], "rolled-back", "{lines:?}");
    let batch = lines.last().unwrap()["batch"].as_str().unwrap().to_owned();
    assert_eq!(lines.last().unwrap()["skipped"], 2);

    let listed = cli(s(&["pushes", "--store", &url, "--json"]), env()).await;
    let b = &json_lines(&listed)[0];
    assert_eq!(b["id"], batch.as_str());
    assert_eq!(b["status"], "stopped");

    sim.device(0).set_faults(routeros_sim::Faults::default());
    // The rolled-back router loaded its backup and reboots, as RouterOS
    // does: wait for that reboot to begin and end (the simulator's boot
    // count, not a clock), then for the router to answer a login again.
    let router0 = sim.device(0).clone();
    routeros_sim::wait::until(
        "the rolled-back router to reboot and come back",
        routeros_sim::wait::DEADLINE,
        || {
            let d = router0.clone();
            async move { d.boots() >= 1 && !d.is_rebooting() }
        },
    )
    .await;
    let port0 = sim.port(0).to_string();
    let ros_args = s(&[
        "ros",
        "--host",
        "127.0.0.1",
        "--port",
        &port0,
        "--password-env",
        "RPW",
        "--",
        "/system/resource/print",
    ]);
    let answered = cli(ros_args, env()).await;
    assert!(
        answered.status.success(),
        "the router answers after its reboot: {}",
        String::from_utf8_lossy(&answered.stderr)
    );
    let out = push(Some(batch.clone())).await;
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = json_lines(&out);
    assert_eq!(lines.last().unwrap()["batch"], batch.as_str());
    assert_eq!(lines.last().unwrap()["succeeded"], 3, "{lines:?}");
    let listed = cli(s(&["pushes", "--store", &url, "--json"]), env()).await;
    assert_eq!(json_lines(&listed)[0]["status"], "finished");
    let routers = cli(
        s(&["pushes", "--store", &url, "--batch", &batch, "--json"]),
        env(),
    )
    .await;
    let statuses: Vec<String> = json_lines(&routers)
        .iter()
        .map(|p| p["status"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| *s == "succeeded").count(),
        3,
        "{statuses:?}"
    );
    assert_eq!(statuses.iter().filter(|s| *s == "rolled-back").count(), 1);

    // No pending safety net after confirmed pushes.
    let port = sim.port(1).to_string();
    let out = cli(
        s(&[
            "confirm",
            "--host",
            "127.0.0.1",
            "--port",
            &port,
            "--password-env",
            "RPW",
        ]),
        env(),
    )
    .await;
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no unconfirmed push"));
}

/// The same use cases as the app's: a preview fills `router.*` from the
/// router itself, and a push left for confirmation by hand is confirmed
/// from the terminal with the app's outcome (safety net gone, push record
/// succeeded and "confirmed by", `push.confirmed` audited).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preview_with_router_values_then_confirm_by_hand() {
    let sim = sim().await;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/fleet.db", dir.path().display());
    let tpl = dir.path().join("t.rsc");
    std::fs::write(
        &tpl,
        "/interface bridge add name=lan comment={{ router.identity: string }}\n",
    )
    .unwrap();
    let values = dir.path().join("v.json");
    std::fs::write(&values, "{}").unwrap();
    let port = sim.port(0).to_string();
    let env = || {
        vec![
            ("RPW", "s3cret".to_string()),
            ("FLEETDECK_DATA_DIR", dir.path().display().to_string()),
        ]
    };
    let login = |cmd: &str| {
        s(&[
            cmd,
            "--host",
            "127.0.0.1",
            "--port",
            &port,
            "--password-env",
            "RPW",
        ])
    };

    let mut args = login("preview");
    args.extend(s(&[
        "--template",
        tpl.to_str().unwrap(),
        "--values",
        values.to_str().unwrap(),
        "--store",
        &url,
    ]));
    let out = cli(args, env()).await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("+/interface bridge add")
                && l.contains("comment=sim-router-0000")),
        "{text}"
    );

    let targets = format!("127.0.0.1:{port}");
    let out = cli(
        push_args(&tpl, &values, &targets, &url, &["--confirm-by-hand"]),
        env(),
    )
    .await;
    let lines = json_lines(&out);
    assert_eq!(lines[0]["status"], "awaiting-confirmation", "{lines:?}");
    let bridge_comment = || {
        sim.device(0)
            .items("interface/bridge")
            .iter()
            .find(|b| b.get_str("name").as_deref() == Some("lan"))
            .and_then(|b| b.get_str("comment"))
    };
    assert_eq!(bridge_comment().as_deref(), Some("sim-router-0000"));

    let out = cli(login("confirm"), env()).await;
    let pending = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert!(
        !pending.is_empty() && !pending.contains('\n'),
        "{pending:?}"
    );
    let mut args = login("confirm");
    args.extend(s(&["--scheduler", &pending, "--store", &url]));
    let out = cli(args, env()).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = cli(login("confirm"), env()).await;
    assert!(String::from_utf8_lossy(&out.stderr).contains("no unconfirmed push"));

    let store = FleetStore::open(&url.parse::<StoreUrl>().unwrap())
        .await
        .unwrap();
    let device = &store.list_devices().await.unwrap()[0];
    let record = &store.push_records(Some(&device.id), 5).await.unwrap()[0];
    assert_eq!(record.status, "succeeded", "{record:?}");
    assert!(
        record.summary.contains("confirmed by"),
        "{}",
        record.summary
    );
    let audited: Vec<String> = store
        .audit_events(Some(&device.id), 0, 50)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action.to_string())
        .collect();
    assert!(audited.iter().any(|a| a == "push.confirmed"), "{audited:?}");
    // The router keeps what it was confirmed with.
    assert_eq!(bridge_comment().as_deref(), Some("sim-router-0000"));
}

/// A template value typed `secret`, previewed and pushed twice (the second
/// push's backup export holds it, the router having it now), with debug
/// logging on: not one byte of it is in any file of the data folder (the
/// store, its WAL and shared memory, the outbox inside it, settings,
/// credentials), nor in what the CLI printed or logged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_value_reaches_a_file_the_output_or_the_log() {
    const SECRET: &[u8] = b"Hunter2Secret";
    let sim = sim().await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let url = format!("sqlite://{}/fleet.db", data.display());
    let tpl = dir.path().join("vpn.rsc");
    std::fs::write(
        &tpl,
        "/system identity set name={{ id: name }}\n/system script add name=vpn source=\"/ppp secret add name=bob password={{ pw: secret }}\"\n",
    )
    .unwrap();
    let values = dir.path().join("v.toml");
    std::fs::write(&values, "id = \"shop-7\"\npw = \"Hunter2Secret\"\n").unwrap();
    let port = sim.port(0).to_string();
    let targets = format!("127.0.0.1:{port}");
    let env = || {
        vec![
            ("RPW", "s3cret".to_string()),
            ("FLEETDECK_DATA_DIR", data.display().to_string()),
            ("RUST_LOG", "debug".to_string()),
        ]
    };
    let mut printed = Vec::new();
    let preview = cli(
        s(&[
            "preview",
            "--host",
            "127.0.0.1",
            "--port",
            &port,
            "--password-env",
            "RPW",
            "--template",
            tpl.to_str().unwrap(),
            "--values",
            values.to_str().unwrap(),
        ]),
        env(),
    )
    .await;
    assert!(
        preview.status.success(),
        "{}",
        String::from_utf8_lossy(&preview.stderr)
    );
    printed.push(preview);
    for _ in 0..2 {
        let out = cli(push_args(&tpl, &values, &targets, &url, &[]), env()).await;
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(json_lines(&out)[0]["status"], "succeeded");
        printed.push(out);
    }
    let contains = |bytes: &[u8]| bytes.windows(SECRET.len()).any(|w| w == SECRET);
    // The router does hold it (read here on purpose): a leak would show.
    let held = cli(
        s(&[
            "ros",
            "--host",
            "127.0.0.1",
            "--port",
            &port,
            "--password-env",
            "RPW",
            "--",
            "/system/script/print",
        ]),
        vec![("RPW", "s3cret".to_string())],
    )
    .await;
    assert!(
        contains(&held.stdout),
        "{}",
        String::from_utf8_lossy(&held.stdout)
    );
    for out in &printed {
        assert!(
            !contains(&out.stdout),
            "in the output: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        assert!(
            !contains(&out.stderr),
            "in the log: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let mut files = 0;
    for entry in walk(&data) {
        files += 1;
        let bytes = std::fs::read(&entry).unwrap();
        assert!(!contains(&bytes), "the secret is in {}", entry.display());
    }
    assert!(files >= 2, "the store and its WAL were searched");
}

/// Every file under `dir`.
fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let path = e.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// Four Fleetdecks, each its own process, open one empty shared database
/// at the same moment (four laptops on their first start): every one
/// succeeds, and each schema version is recorded once (a named lock on
/// the server serialises the migrations; every step may run again).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn processes_migrating_one_empty_database_at_once_all_succeed() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("fleetdeck_race_{}", std::process::id());
    assert!(mariadb(&db).status.success());
    let ca = std::env::var("FLEETDECK_TEST_MYSQL_CA")
        .unwrap_or_else(|_| "/etc/mysql/fleetdeck-test-tls/ca.pem".into());
    let shared = format!("mysql://root@127.0.0.1:3306/{db}?ca={ca}");
    // All started before any is waited for.
    let children: Vec<std::process::Child> = (0..4)
        .map(|_| {
            Command::new(env!("CARGO_BIN_EXE_fleetdeck-cli"))
                .args(["store", "migrate", "--store", &shared])
                .env("FLEETDECK_DATA_DIR", dir.path())
                .env("FLEETDECK_CREDENTIALS", "file")
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outputs: Vec<Output> = tokio::task::spawn_blocking(move || {
        children
            .into_iter()
            .map(|c| c.wait_with_output().unwrap())
            .collect()
    })
    .await
    .unwrap();
    for out in &outputs {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let versions = Command::new("mysql")
        .args(["-h127.0.0.1", "-uroot", "-N", "-e"])
        .arg(format!(
            "SELECT version FROM {db}.schema_migrations ORDER BY version"
        ))
        .output()
        .unwrap();
    let versions: Vec<i64> = String::from_utf8_lossy(&versions.stdout)
        .lines()
        .map(|l| l.trim().parse().unwrap())
        .collect();
    let mut distinct = versions.clone();
    distinct.dedup();
    assert!(!versions.is_empty());
    assert_eq!(versions, distinct, "each version recorded once");
    // And the schema they made is whole: a store opens on it and works.
    let store = FleetStore::open(&shared.parse::<StoreUrl>().unwrap())
        .await
        .unwrap();
    assert_eq!(store.list_devices().await.unwrap().len(), 0);
    drop(store);
    Command::new("mysql")
        .args(["-h127.0.0.1", "-uroot", "-e"])
        .arg(format!("DROP DATABASE IF EXISTS {db}"))
        .output()
        .unwrap();
}
