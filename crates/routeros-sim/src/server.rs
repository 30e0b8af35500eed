//! Listeners, connections and command dispatch.

use std::{net::SocketAddr, sync::Arc};

use futures::{SinkExt, StreamExt};
use routeros_proto::{ApiCodec, Sentence};
use tokio::{
    net::{TcpListener, TcpStream},
    task::JoinSet,
};
use tokio_util::codec::Framed;
use tracing::debug;

use crate::device::{row_sentence, Device};

/// What to simulate.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Number of routers.
    pub devices: usize,
    /// Router `i` listens on `base_port + i`; 0 picks free ports instead.
    pub base_port: u16,
    pub username: String,
    pub password: String,
    /// RouterOS version every router reports.
    pub version: String,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            devices: 1,
            base_port: 0,
            username: "admin".into(),
            password: String::new(),
            version: "7.16.2".into(),
        }
    }
}

/// A running simulated fleet. Dropping it stops every listener and session.
pub struct SimFleet {
    devices: Vec<(SocketAddr, Arc<Device>)>,
    _tasks: JoinSet<()>,
}

impl SimFleet {
    pub async fn start(cfg: SimConfig) -> std::io::Result<SimFleet> {
        let creds = Arc::new((cfg.username.clone(), cfg.password.clone()));
        let mut tasks = JoinSet::new();
        let mut devices = Vec::with_capacity(cfg.devices);
        for i in 0..cfg.devices {
            let port = if cfg.base_port == 0 {
                0
            } else {
                u16::try_from(usize::from(cfg.base_port) + i).map_err(|_| {
                    std::io::Error::new(
                        std::io::ErrorKind::InvalidInput,
                        "port range runs past 65535",
                    )
                })?
            };
            let listener = TcpListener::bind(("127.0.0.1", port)).await?;
            let addr = listener.local_addr()?;
            let device = Arc::new(Device::new(i, &cfg.version));
            tasks.spawn(accept_loop(listener, device.clone(), creds.clone()));
            devices.push((addr, device));
        }
        Ok(SimFleet {
            devices,
            _tasks: tasks,
        })
    }

    pub fn ports(&self) -> Vec<u16> {
        self.devices.iter().map(|(a, _)| a.port()).collect()
    }

    pub fn port(&self, i: usize) -> u16 {
        self.devices[i].0.port()
    }

    pub fn device(&self, i: usize) -> &Arc<Device> {
        &self.devices[i].1
    }

    pub fn len(&self) -> usize {
        self.devices.len()
    }

    pub fn is_empty(&self) -> bool {
        self.devices.is_empty()
    }
}

async fn accept_loop(listener: TcpListener, device: Arc<Device>, creds: Arc<(String, String)>) {
    let mut sessions = JoinSet::new();
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                debug!(device = device.index(), %peer, "API session opened");
                sessions.spawn(serve(stream, device.clone(), creds.clone()));
            }
            Err(e) => {
                debug!("accept failed: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
        while sessions.try_join_next().is_some() {}
    }
}

/// What one command produced: the replies (untagged) and whether the
/// router closes the session after them.
struct Outcome {
    replies: Vec<Sentence>,
    close: bool,
}

impl Outcome {
    fn done() -> Self {
        Self::from(vec![Sentence::from_words(["!done"])])
    }
    fn from(replies: Vec<Sentence>) -> Self {
        Self {
            replies,
            close: false,
        }
    }
    fn trap(category: Option<u8>, message: &str) -> Self {
        let mut trap = Sentence::new();
        trap.push("!trap");
        if let Some(c) = category {
            trap.push(format!("=category={c}"));
        }
        trap.push(format!("=message={message}"));
        Self::from(vec![trap, Sentence::from_words(["!done"])])
    }
}

async fn serve(stream: TcpStream, device: Arc<Device>, creds: Arc<(String, String)>) {
    stream.set_nodelay(true).ok();
    let mut t = Framed::new(stream, ApiCodec::default());
    let mut logged_in = false;
    while let Some(frame) = t.next().await {
        let Ok(sentence) = frame else {
            // Garbage on the wire: a real router drops the session.
            return;
        };
        let tag = sentence.tag().map(<[u8]>::to_vec);
        let outcome = handle(&device, &creds, &mut logged_in, &sentence);
        for mut reply in outcome.replies {
            if let Some(tag) = &tag {
                let mut w = b".tag=".to_vec();
                w.extend_from_slice(tag);
                reply.push(w);
            }
            if t.feed(reply).await.is_err() {
                return;
            }
        }
        if t.flush().await.is_err() || outcome.close {
            return;
        }
    }
}

fn text(s: &Sentence, name: &str) -> Option<String> {
    s.attribute(name)
        .map(|v| String::from_utf8_lossy(v).into_owned())
}

fn handle(
    device: &Device,
    creds: &(String, String),
    logged_in: &mut bool,
    s: &Sentence,
) -> Outcome {
    let command = String::from_utf8_lossy(s.first_word().unwrap_or_default()).into_owned();
    if command == "/login" {
        let ok = text(s, "name").as_deref() == Some(creds.0.as_str())
            && text(s, "password").as_deref() == Some(creds.1.as_str());
        *logged_in = ok;
        return if ok {
            Outcome::done()
        } else {
            Outcome::trap(None, "invalid user name or password (6)")
        };
    }
    if command == "/quit" {
        return Outcome {
            replies: vec![Sentence::from_words([
                "!fatal",
                "session terminated on request",
            ])],
            close: true,
        };
    }
    if !*logged_in {
        return Outcome::trap(None, "not logged in");
    }
    let proplist: Option<Vec<String>> =
        text(s, ".proplist").map(|p| p.split(',').map(str::to_owned).collect());
    let rows = |rows: Vec<crate::device::Attrs>| {
        let mut out: Vec<Sentence> = rows
            .iter()
            .map(|r| row_sentence(r, proplist.as_deref()))
            .collect();
        out.push(Sentence::from_words(["!done"]));
        Outcome::from(out)
    };
    match command.as_str() {
        "/system/resource/print" | "/system/resource/getall" => rows(vec![device.resource()]),
        "/system/routerboard/print" | "/system/routerboard/getall" => {
            rows(vec![device.routerboard()])
        }
        "/system/identity/print" | "/system/identity/getall" => {
            rows(vec![vec![("name", device.identity())]])
        }
        "/system/identity/set" => match text(s, "name") {
            Some(name) if !name.is_empty() => {
                device.set_identity(&name);
                Outcome::done()
            }
            _ => Outcome::trap(Some(1), "value of name must not be empty"),
        },
        "/interface/print" | "/interface/getall" => rows(device.interfaces()),
        "/cancel" => Outcome::done(),
        _ => Outcome::trap(Some(0), "no such command prefix"),
    }
}
