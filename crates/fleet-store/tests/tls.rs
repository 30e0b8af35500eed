//! The shared database is reached over TLS with its certificate verified,
//! by default: against the real MariaDB (which scripts/test.sh serves with
//! a certificate from a test CA), and against a server that offers no TLS
//! at all, which must never be sent the login.

mod common;

use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::Duration,
};

use common::*;
use fleet_store::{FleetStore, StoreUrl};
use mysql_async::prelude::*;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpListener,
};

async fn open(url: &str) -> Result<FleetStore, fleet_store::StoreError> {
    FleetStore::open(&url.parse::<StoreUrl>()?).await
}

/// `host:port` of the test server, from its base URL.
fn server() -> String {
    let base = mysql_base_url();
    let after_at = base.rsplit_once('@').map_or(base.as_str(), |(_, h)| h);
    after_at.split('/').next().unwrap().to_owned()
}

#[tokio::test]
async fn mariadb_is_reached_over_verified_tls_and_only_so() {
    let db = create_db().await;
    // A user the server lets in over TLS only: a store that logs in as it
    // did use TLS.
    let user = format!("t{}", &uuid_like()[..12]);
    let pool = mysql_async::Pool::new(mysql_base_url().as_str());
    let mut conn = pool.get_conn().await.unwrap();
    conn.query_drop(format!(
        "CREATE USER '{user}'@'%' IDENTIFIED BY 'tls-pw' REQUIRE SSL"
    ))
    .await
    .unwrap();
    conn.query_drop(format!("GRANT ALL ON {db}.* TO '{user}'@'%'"))
        .await
        .unwrap();
    let at = format!("mysql://{user}:tls-pw@{}/{db}", server());

    let store = open(&format!("{at}{}", tls_query()))
        .await
        .unwrap_or_else(|e| panic!("over TLS, trusting the test CA: {e}"));
    assert_eq!(store.list_devices().await.unwrap().len(), 0);
    drop(store);

    // Without the test CA the certificate is not trusted: refused.
    let err = open(&at)
        .await
        .err()
        .expect("an untrusted certificate is refused");
    let text = err.to_string();
    assert!(text.contains("certificate"), "{text}");
    assert!(!text.contains("tls-pw"), "no password in the error: {text}");

    // Plain only when asked for in the URL; this server then says no.
    assert!(open(&format!("{at}?tls=off")).await.is_err());

    conn.query_drop(format!("DROP USER '{user}'@'%'"))
        .await
        .unwrap();
    drop(conn);
    pool.disconnect().await.unwrap();
    drop_mysql_db(&db).await;
}

/// A MySQL server greeting (protocol 10) that offers no TLS.
fn greeting_without_tls() -> Vec<u8> {
    let mut p = vec![0x0a];
    p.extend(b"5.5.5-10.11.0-no-tls\0");
    p.extend(1u32.to_le_bytes());
    p.extend(b"abcdefgh\0");
    // Long password, connect with db, protocol 4.1, secure connection;
    // not CLIENT_SSL (0x0800).
    p.extend(0x8209u16.to_le_bytes());
    p.push(0x21);
    p.extend(0x0002u16.to_le_bytes());
    // Plugin auth.
    p.extend(0x0008u16.to_le_bytes());
    p.push(21);
    p.extend([0u8; 10]);
    p.extend(b"ijklmnopqrst\0");
    p.extend(b"mysql_native_password\0");
    let mut packet = (p.len() as u32).to_le_bytes()[..3].to_vec();
    packet.push(0);
    packet.extend(p);
    packet
}

/// A server without TLS; counts the bytes each client sends after the
/// greeting.
async fn server_without_tls() -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let received = Arc::new(AtomicUsize::new(0));
    let count = received.clone();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let count = count.clone();
            tokio::spawn(async move {
                s.write_all(&greeting_without_tls()).await.unwrap();
                let mut buf = [0u8; 512];
                while let Ok(Ok(n)) =
                    tokio::time::timeout(Duration::from_secs(2), s.read(&mut buf)).await
                {
                    if n == 0 {
                        break;
                    }
                    count.fetch_add(n, Ordering::SeqCst);
                }
            });
        }
    });
    (port, received)
}

#[tokio::test]
async fn a_server_without_tls_is_never_sent_the_login() {
    let (port, received) = server_without_tls().await;
    let err = open(&format!("mysql://fleet:secret@127.0.0.1:{port}/fleet"))
        .await
        .err()
        .expect("a server without TLS is refused");
    let text = err.to_string();
    assert!(text.contains("SSL"), "{text}");
    assert!(!text.contains("secret"), "{text}");
    assert_eq!(
        received.load(Ordering::SeqCst),
        0,
        "nothing, the login least of all, was sent"
    );

    // With TLS turned off in the URL, the login goes (and this fake server
    // then hangs up): the opt-out does what it says.
    let _ = open(&format!(
        "mysql://fleet:secret@127.0.0.1:{port}/fleet?tls=off"
    ))
    .await;
    assert!(received.load(Ordering::SeqCst) > 0);
}
