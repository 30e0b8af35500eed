//! One API session: login, command dispatch, streaming commands, `/cancel`.

use std::{collections::HashMap, sync::Arc, time::Duration};

use futures::{FutureExt, StreamExt};
use routeros_proto::{login::challenge_response, ApiCodec, Sentence};
use tokio::{
    io::{AsyncRead, AsyncWrite, AsyncWriteExt},
    sync::{broadcast, mpsc, oneshot},
    task::JoinSet,
};
use tokio_util::codec::FramedRead;

use crate::{
    device::Device,
    export::{export_text, ExportOptions},
    model::{self, Failure, Item},
    profile::LoginStyle,
};

pub(crate) struct Credentials {
    pub username: String,
    pub password: String,
}

type Tag = Option<Vec<u8>>;

/// A streaming command waiting for `/cancel`. `Some(tag)`: the stream also
/// writes the `/cancel`'s `!done` (with that tag), so the replies come in
/// the router's order; `None`: the canceller answers for itself.
type CancelTx = oneshot::Sender<Option<Tag>>;

struct Session {
    device: Arc<Device>,
    creds: Arc<Credentials>,
    /// For streaming commands, which outlive the sentence that started them.
    out: mpsc::UnboundedSender<Sentence>,
    /// Replies to the sentence being handled, written right after it.
    direct: Vec<Sentence>,
    logged_in: bool,
    challenge: Option<String>,
    streams: HashMap<Vec<u8>, CancelTx>,
    untagged_streams: Vec<CancelTx>,
    tasks: JoinSet<()>,
}

/// Most replies gathered from pipelined commands before they are written.
const MAX_BATCH: usize = 256;

pub(crate) async fn serve<S>(stream: S, device: Arc<Device>, creds: Arc<Credentials>)
where
    S: AsyncRead + AsyncWrite + Send + 'static,
{
    let (read, write) = tokio::io::split(stream);
    let writer = Arc::new(tokio::sync::Mutex::new(Writer {
        w: write,
        sent: 0,
        device: device.clone(),
        buf: Vec::with_capacity(1024),
    }));
    // Streaming commands write through this channel; everything else is
    // written directly by the session task, which saves a task hop per reply.
    let (out, rx) = mpsc::unbounded_channel();
    let mut stream_writer = tokio::spawn(write_streams(rx, writer.clone()));
    let mut boots = device.boots.subscribe();
    let mut frames = FramedRead::new(read, ApiCodec::default());
    let mut session = Session {
        device,
        creds,
        out,
        direct: Vec::new(),
        logged_in: false,
        challenge: None,
        streams: HashMap::new(),
        untagged_streams: Vec::new(),
        tasks: JoinSet::new(),
    };
    loop {
        tokio::select! {
            frame = frames.next() => match frame {
                Some(Ok(sentence)) => {
                    let mut go_on = session.handle(sentence);
                    // Pipelined commands that are already here are answered
                    // together, in one write, as a router's socket would.
                    let mut ended = false;
                    while go_on
                        && session.direct.len() < MAX_BATCH
                        && !frames.read_buffer().is_empty()
                    {
                        match frames.next().now_or_never() {
                            Some(Some(Ok(next))) => go_on = session.handle(next),
                            // EOF or garbage: answer what came before it, then stop.
                            Some(_) => {
                                ended = true;
                                break;
                            }
                            // Only part of the next command has arrived.
                            None => break,
                        }
                    }
                    if !session.direct.is_empty() {
                        let replies = std::mem::take(&mut session.direct);
                        if !writer.lock().await.write(&replies).await {
                            break;
                        }
                    }
                    if !go_on || ended {
                        break;
                    }
                }
                // EOF, or garbage on the wire: a real router drops the session.
                _ => break,
            },
            _ = boots.changed() => break,
            _ = &mut stream_writer => return,
        }
    }
    session.tasks.abort_all();
    drop(session);
    let _ = tokio::time::timeout(Duration::from_secs(2), stream_writer).await;
}

/// The session's side of the socket, applying the device's faults at the
/// moment of writing.
struct Writer<W> {
    w: W,
    sent: usize,
    device: Arc<Device>,
    buf: Vec<u8>,
}

impl<W: AsyncWrite + Unpin> Writer<W> {
    /// Writes replies; `false` when the connection is gone (or a fault
    /// ended it).
    async fn write(&mut self, replies: &[Sentence]) -> bool {
        let faults = self.device.faults();
        let plain = faults.latency.is_zero()
            && !faults.fragment
            && faults.drop_after.is_none()
            && faults.garbage_after.is_none();
        if plain {
            self.buf.clear();
            for r in replies {
                r.encode(&mut self.buf);
            }
            self.sent += replies.len();
            return self.w.write_all(&self.buf).await.is_ok() && self.w.flush().await.is_ok();
        }
        for r in replies {
            if !faults.latency.is_zero() {
                tokio::time::sleep(faults.latency).await;
            }
            if faults.drop_after.is_some_and(|n| self.sent >= n) {
                let _ = self.w.shutdown().await;
                return false;
            }
            if faults.garbage_after.is_some_and(|n| self.sent >= n) {
                let _ = self.w.write_all(&[0xF9, 0xFF, 0x00, 0x13, 0x37]).await;
                let _ = self.w.flush().await;
                tokio::time::sleep(Duration::from_millis(200)).await;
                return false;
            }
            let bytes = r.to_bytes();
            let chunk = if faults.fragment {
                1
            } else {
                bytes.len().max(1)
            };
            for piece in bytes.chunks(chunk) {
                if self.w.write_all(piece).await.is_err() || self.w.flush().await.is_err() {
                    return false;
                }
            }
            self.sent += 1;
        }
        true
    }
}

async fn write_streams<W: AsyncWrite + Unpin>(
    mut rx: mpsc::UnboundedReceiver<Sentence>,
    writer: Arc<tokio::sync::Mutex<Writer<W>>>,
) {
    let mut batch = Vec::new();
    while let Some(first) = rx.recv().await {
        batch.clear();
        batch.push(first);
        while let Ok(more) = rx.try_recv() {
            batch.push(more);
        }
        if !writer.lock().await.write(&batch).await {
            return;
        }
    }
}

fn tagged(mut s: Sentence, tag: &Tag) -> Sentence {
    if let Some(t) = tag {
        let mut w = b".tag=".to_vec();
        w.extend_from_slice(t);
        s.push(w);
    }
    s
}

fn done() -> Sentence {
    Sentence::from_words(["!done"])
}

fn trap(f: &Failure) -> Sentence {
    let mut s = Sentence::new();
    s.push("!trap");
    if let Some(c) = f.category {
        s.push(format!("=category={c}"));
    }
    s.push(format!("=message={}", f.message));
    s
}

fn row(item: &Item, proplist: Option<&[String]>) -> Sentence {
    let mut s = Sentence::new();
    s.push("!re");
    let mut push = |k: &str, v: &[u8]| {
        let mut w = Vec::with_capacity(k.len() + v.len() + 2);
        w.push(b'=');
        w.extend_from_slice(k.as_bytes());
        w.push(b'=');
        w.extend_from_slice(v);
        s.push(w);
    };
    match proplist {
        Some(props) => {
            for p in props {
                if let Some(v) = item.get(p) {
                    push(p, v);
                }
            }
        }
        None => {
            for (k, v) in &item.attrs {
                push(k, v);
            }
        }
    }
    s
}

/// The parsed words of a command sentence.
struct Args<'a> {
    s: &'a Sentence,
}

impl Args<'_> {
    fn get(&self, name: &str) -> Option<&[u8]> {
        self.s.attribute(name)
    }
    fn text(&self, name: &str) -> Option<String> {
        self.get(name)
            .map(|v| String::from_utf8_lossy(v).into_owned())
    }
    fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
    /// `=name=value` attributes, without API words.
    fn data(&self) -> Vec<(String, Vec<u8>)> {
        self.s
            .words()
            .iter()
            .skip(1)
            .filter(|w| w.first() == Some(&b'='))
            .filter_map(|w| {
                let rest = &w[1..];
                let i = rest.iter().position(|&b| b == b'=')?;
                Some((
                    String::from_utf8_lossy(&rest[..i]).into_owned(),
                    rest[i + 1..].to_vec(),
                ))
            })
            .filter(|(k, _)| !k.starts_with('.') && k != "numbers")
            .collect()
    }
    fn queries(&self) -> Vec<Vec<u8>> {
        self.s
            .words()
            .iter()
            .skip(1)
            .filter(|w| w.first() == Some(&b'?'))
            .cloned()
            .collect()
    }
    fn proplist(&self) -> Option<Vec<String>> {
        self.text(".proplist")
            .map(|p| p.split(',').map(str::to_owned).collect())
    }
    /// The items a `set`/`remove` names: `.id` or `numbers`.
    fn ids(&self) -> Option<&[u8]> {
        self.get(".id").or_else(|| self.get("numbers"))
    }
}

enum StreamKind {
    /// `listen`, or the follow part of `print =follow=`.
    Changes {
        menu: String,
        queries: Vec<Vec<u8>>,
        proplist: Option<Vec<String>>,
    },
    Monitor {
        interface: String,
        interval: Duration,
    },
    /// A command that never finishes (fault injection).
    Stall,
}

impl Session {
    /// Handles one sentence; `false` ends the session.
    fn handle(&mut self, s: Sentence) -> bool {
        let command = String::from_utf8_lossy(s.first_word().unwrap_or_default()).into_owned();
        let tag: Tag = s.tag().map(<[u8]>::to_vec);
        let args = Args { s: &s };
        let faults = self.device.faults();
        if command == "/login" {
            let replies = self.login(&args, faults.reject_login);
            self.send_all(replies, &tag);
            return true;
        }
        if command == "/quit" {
            self.send(
                Sentence::from_words(["!fatal", "session terminated on request"]),
                &None,
            );
            return false;
        }
        if !self.logged_in {
            self.send_all(
                vec![trap(&Failure::new(None, "not logged in")), done()],
                &tag,
            );
            return true;
        }
        self.device.commands.send_modify(|n| *n += 1);
        if command == "/cancel" {
            self.cancel(args.get("tag").map(<[u8]>::to_vec), tag);
            return true;
        }
        if faults.stall.contains(&command) {
            self.start_stream(StreamKind::Stall, tag);
            return true;
        }
        if let Some((_, message)) = faults.trap.iter().find(|(c, _)| *c == command) {
            self.send_all(
                vec![trap(&Failure::new(None, message.clone())), done()],
                &tag,
            );
            return true;
        }
        match self.dispatch(&command, &args, &tag) {
            Ok(Some(replies)) => self.send_all(replies, &tag),
            Ok(None) => {}
            Err(f) => self.send_all(vec![trap(&f), done()], &tag),
        }
        true
    }

    fn send(&mut self, s: Sentence, tag: &Tag) {
        self.direct.push(tagged(s, tag));
    }

    fn send_all(&mut self, replies: Vec<Sentence>, tag: &Tag) {
        for r in replies {
            self.send(r, tag);
        }
    }

    fn login(&mut self, args: &Args<'_>, reject: bool) -> Vec<Sentence> {
        let style = self.device.profile().login();
        let name = args.text("name");
        let name_ok = name.as_deref() == Some(self.creds.username.as_str()) && !reject;
        let fail = |msg: &str| vec![trap(&Failure::new(None, msg)), done()];
        if let Some(response) = args.text("response") {
            if style == LoginStyle::PlainOnly {
                return fail("invalid user name or password (6)");
            }
            let expected = self
                .challenge
                .take()
                .and_then(|c| challenge_response(self.creds.password.as_bytes(), &c).ok());
            return if name_ok && expected.as_deref() == Some(response.as_str()) {
                self.logged_in = true;
                vec![done()]
            } else {
                fail("cannot log in")
            };
        }
        let plain = args.has("password") && name.is_some();
        if plain && style != LoginStyle::ChallengeOnly {
            return if name_ok
                && args.text("password").as_deref() == Some(self.creds.password.as_str())
            {
                self.logged_in = true;
                vec![done()]
            } else {
                fail("invalid user name or password (6)")
            };
        }
        if style == LoginStyle::PlainOnly {
            return fail("invalid user name or password (6)");
        }
        // Pre-6.45.1: hand out a challenge (a pre-6.43 router ignores the
        // password of a plain login and does the same).
        let challenge = self.new_challenge();
        self.challenge = Some(challenge.clone());
        vec![Sentence::from_words([
            "!done".to_owned(),
            format!("=ret={challenge}"),
        ])]
    }

    fn new_challenge(&self) -> String {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or_default();
        let a = crate::device::mix(nanos, self.device.index() as u64);
        let b = crate::device::mix(a, nanos);
        format!("{a:016x}{b:016x}")
    }

    fn cancel(&mut self, target: Tag, own_tag: Tag) {
        match target {
            Some(t) => match self.streams.remove(&t) {
                // The stream answers: its !trap, this !done, its !done.
                Some(tx) => {
                    if tx.send(Some(own_tag.clone())).is_err() {
                        self.send(done(), &own_tag);
                    }
                }
                None => self.send(done(), &own_tag),
            },
            None => {
                for (_, tx) in self.streams.drain() {
                    let _ = tx.send(None);
                }
                for tx in self.untagged_streams.drain(..) {
                    let _ = tx.send(None);
                }
                self.send(done(), &own_tag);
            }
        }
    }

    fn start_stream(&mut self, kind: StreamKind, tag: Tag) {
        let (tx, rx) = oneshot::channel();
        match &tag {
            Some(t) => {
                self.streams.insert(t.clone(), tx);
            }
            None => self.untagged_streams.push(tx),
        }
        let device = self.device.clone();
        let out = self.out.clone();
        let changes = device.changes.subscribe();
        self.tasks
            .spawn(run_stream(kind, tag, device, out, changes, rx));
    }

    fn dispatch(
        &mut self,
        command: &str,
        args: &Args<'_>,
        tag: &Tag,
    ) -> Result<Option<Vec<Sentence>>, Failure> {
        let path = command.trim_start_matches('/');
        let (menu, verb) = path.rsplit_once('/').unwrap_or(("", path));
        // `/interface/ethernet` lists the ports the `interface` menu holds.
        let menu = crate::import::menu_of(menu);
        let device = self.device.clone();
        match (menu, verb) {
            ("system", "reboot") => {
                device.reboot_soon();
                return Ok(Some(vec![done()]));
            }
            ("interface", "monitor-traffic") => {
                let interface = args.text("interface").unwrap_or_default();
                let Some((rx, tx)) = device.traffic(&interface) else {
                    return Err(Failure::new(Some(1), "no such item"));
                };
                if args.has("once") {
                    let item = traffic_item(&interface, rx, tx);
                    return Ok(Some(vec![row(&item, args.proplist().as_deref()), done()]));
                }
                let interval = args
                    .text("interval")
                    .and_then(|i| routeros_proto::value::parse_duration(&i))
                    .unwrap_or(Duration::from_secs(1))
                    .max(Duration::from_millis(100));
                self.start_stream(
                    StreamKind::Monitor {
                        interface,
                        interval,
                    },
                    tag.clone(),
                );
                return Ok(None);
            }
            ("", "export") => return self.export(args),
            ("", "import") => return self.import(args),
            ("", "execute") => return self.execute(args),
            ("file", "read") => return self.file_read(args),
            ("file", "add") => {
                let mut attrs = args.data();
                let size = attrs
                    .iter()
                    .find(|(k, _)| k == "contents")
                    .map(|(_, v)| v.len())
                    .unwrap_or(0);
                attrs.push(("size".into(), size.to_string().into_bytes()));
                attrs.push(("type".into(), b".rsc file".to_vec()));
                let exists = attrs
                    .iter()
                    .find(|(k, _)| k == "name")
                    .map(|(_, n)| {
                        device
                            .items("file")
                            .iter()
                            .any(|i| i.get("name") == Some(n.as_slice()))
                    })
                    .unwrap_or(false);
                if exists {
                    return Err(Failure::new(Some(1), "failure: file already exists"));
                }
                let id = self.mutate("file", |m| model::add(m, attrs))?;
                return Ok(Some(vec![ret(&id)]));
            }
            ("system/backup", "save") => {
                device.save_backup(
                    args.text("name"),
                    args.text("password"),
                    args.text("dont-encrypt").as_deref() == Some("yes"),
                )?;
                return Ok(Some(vec![done()]));
            }
            ("system/backup", "load") => {
                device.load_backup(
                    &args.text("name").unwrap_or_default(),
                    args.text("password").as_deref(),
                )?;
                return Ok(Some(vec![done()]));
            }
            _ => {}
        }
        let known = device.print_items(menu).is_some();
        match verb {
            _ if !known => Err(Failure::new(Some(0), "no such command prefix")),
            "print" | "getall" => {
                let items = device.print_items(menu).unwrap_or_default();
                let queries = args.queries();
                let proplist = args.proplist();
                let follow_only = args.has("follow-only");
                let mut replies = Vec::new();
                if !follow_only {
                    for item in items.iter().filter(|i| model::matches(i, &queries)) {
                        replies.push(row(item, proplist.as_deref()));
                    }
                }
                if args.has("follow") || follow_only {
                    self.send_all(replies, tag);
                    self.start_stream(
                        StreamKind::Changes {
                            menu: menu.to_owned(),
                            queries,
                            proplist,
                        },
                        tag.clone(),
                    );
                    return Ok(None);
                }
                if replies.is_empty() && device.profile().sends_empty() {
                    replies.push(Sentence::from_words(["!empty"]));
                }
                replies.push(done());
                Ok(Some(replies))
            }
            "listen" => {
                self.start_stream(
                    StreamKind::Changes {
                        menu: menu.to_owned(),
                        queries: args.queries(),
                        proplist: args.proplist(),
                    },
                    tag.clone(),
                );
                Ok(None)
            }
            "get" => {
                let items = device.print_items(menu).unwrap_or_default();
                let item = match args.get("number").or_else(|| args.ids()) {
                    Some(id) => items
                        .iter()
                        .find(|i| i.get(".id") == Some(id) || i.get("name") == Some(id)),
                    None if items.len() == 1 => items.first(),
                    None => None,
                }
                .ok_or_else(|| Failure::new(Some(1), "no such item"))?;
                let name = args.text("value-name").unwrap_or_default();
                let v = item
                    .get(&name)
                    .ok_or_else(|| Failure::new(Some(1), "no such property"))?;
                Ok(Some(vec![ret_bytes(v)]))
            }
            "add" => {
                self.check_references(menu, &args.data())?;
                let id = self.mutate(menu, |m| model::add(m, args.data()))?;
                Ok(Some(vec![ret(&id)]))
            }
            "set" => {
                self.check_references(menu, &args.data())?;
                self.mutate(menu, |m| model::set(m, args.ids(), args.data()))?;
                Ok(Some(vec![done()]))
            }
            "unset" => {
                let name = args
                    .text("value-name")
                    .ok_or_else(|| Failure::new(Some(1), "expected value-name"))?;
                self.mutate(menu, |m| model::unset(m, args.ids(), &name))?;
                Ok(Some(vec![done()]))
            }
            "remove" => {
                let ids = args
                    .ids()
                    .ok_or_else(|| Failure::new(Some(1), "no such item"))?
                    .to_vec();
                self.mutate(menu, |m| model::remove(m, &ids))?;
                Ok(Some(vec![done()]))
            }
            _ => Err(Failure::new(Some(0), "no such command")),
        }
    }

    fn check_references(&self, menu: &str, attrs: &[(String, Vec<u8>)]) -> Result<(), Failure> {
        self.device
            .with_config(|c| crate::device::check_references(c, menu, attrs))
    }

    /// Applies a change to a menu and tells streams about changed items.
    fn mutate<T>(
        &self,
        menu: &str,
        f: impl FnOnce(&mut model::Menu) -> Result<T, Failure>,
    ) -> Result<T, Failure> {
        self.device.mutate(menu, f)
    }

    /// Over the API `/export` prints nothing (ROUTEROS.md §1.10); with
    /// `=file=` it writes `NAME.rsc`.
    fn export(&self, args: &Args<'_>) -> Result<Option<Vec<Sentence>>, Failure> {
        if let Some(file) = args.text("file") {
            let name = if file.ends_with(".rsc") {
                file
            } else {
                format!("{file}.rsc")
            };
            let options = ExportOptions::from_words(
                ["terse", "verbose", "show-sensitive", "hide-sensitive"]
                    .into_iter()
                    .filter(|w| args.has(w)),
            );
            let text = export_text(&self.device, options).into_bytes();
            self.mutate("file", |m| {
                m.items.retain(|i| i.get("name") != Some(name.as_bytes()));
                model::add(
                    m,
                    vec![
                        ("name".into(), name.clone().into_bytes()),
                        ("type".into(), b"script".to_vec()),
                        ("size".into(), text.len().to_string().into_bytes()),
                        ("contents".into(), text),
                    ],
                )
            })?;
        }
        Ok(Some(vec![done()]))
    }

    /// `/import =file-name=X [=verbose=yes] [=dry-run=]`: runs the file's
    /// lines; a dry run (7.16+, verbose only) checks without changing.
    fn import(&self, args: &Args<'_>) -> Result<Option<Vec<Sentence>>, Failure> {
        if args.has("file_name") {
            return Err(Failure::new(Some(1), "unknown parameter file_name"));
        }
        let name = args
            .text("file-name")
            .ok_or_else(|| Failure::new(Some(1), "missing value of file-name"))?;
        let dry_run = args.has("dry-run");
        if dry_run && !self.device.profile().has_dry_run() {
            return Err(Failure::new(Some(1), "unknown parameter dry-run"));
        }
        if dry_run && args.text("verbose").as_deref() != Some("yes") {
            return Err(Failure::new(Some(1), "dry-run requires verbose=yes"));
        }
        let files = self.device.items("file");
        let contents = files
            .iter()
            .find(|i| i.get("name") == Some(name.as_bytes()))
            .and_then(|f| f.get("contents").map(<[u8]>::to_vec))
            .ok_or_else(|| {
                Failure::new(
                    Some(3),
                    "Cannot open import file, file does not exist (:import; line 1)",
                )
            })?;
        // Streams hear about what the import changed, line by line, even
        // when a later line fails.
        let report = if dry_run {
            let mut copy = self.device.with_config(|c| c.clone());
            crate::import::run(&mut copy, &contents)
        } else {
            crate::import::run(&mut crate::import::OnDevice(&self.device), &contents)
        }?;
        let summary = format!(
            "Script file loaded and executed successfully ({} commands executed, {} not modelled by the simulator){}",
            report.executed,
            report.skipped,
            if dry_run { ", dry run: nothing changed" } else { "" }
        );
        Ok(Some(vec![ret(&summary)]))
    }

    /// `/execute =script=/export =as-string=` (7.x) returns the text in
    /// `!done =ret=`.
    fn execute(&self, args: &Args<'_>) -> Result<Option<Vec<Sentence>>, Failure> {
        let script = args.text("script").unwrap_or_default();
        if args.has("as-string") {
            if !self.device.profile().has_as_string() {
                return Err(Failure::new(Some(1), "unknown parameter as-string"));
            }
            let out = if script.trim_start().starts_with("/export") {
                export_text(
                    &self.device,
                    ExportOptions::from_words(script.split_whitespace()),
                )
            } else {
                format!("syntax error (line 1 column 1)\n{script}")
            };
            return Ok(Some(vec![ret(&out)]));
        }
        Ok(Some(vec![ret("*1")]))
    }

    /// `/file/read =file= =offset= =chunk-size=` (7.13+): up to 32 KiB in
    /// `=data=`.
    fn file_read(&self, args: &Args<'_>) -> Result<Option<Vec<Sentence>>, Failure> {
        if !self.device.profile().has_file_read() {
            return Err(Failure::new(Some(0), "no such command"));
        }
        let name = args.text("file").unwrap_or_default();
        let files = self.device.items("file");
        let file = files
            .iter()
            .find(|i| i.get("name") == Some(name.as_bytes()))
            .ok_or_else(|| Failure::new(Some(1), "failure: no such file"))?;
        let contents = file.get("contents").unwrap_or_default();
        let offset: usize = args
            .text("offset")
            .and_then(|o| o.parse().ok())
            .unwrap_or(0);
        let chunk: usize = args
            .text("chunk-size")
            .and_then(|c| c.parse().ok())
            .unwrap_or(32_768);
        if chunk > 32_768 {
            return Err(Failure::new(Some(1), "chunk-size must be at most 32768"));
        }
        let start = offset.min(contents.len());
        let end = (start + chunk).min(contents.len());
        let mut data = b"=data=".to_vec();
        data.extend_from_slice(&contents[start..end]);
        Ok(Some(vec![
            Sentence::from_words([b"!re".to_vec(), data]),
            done(),
        ]))
    }
}

fn ret(value: &str) -> Sentence {
    ret_bytes(value.as_bytes())
}

fn ret_bytes(value: &[u8]) -> Sentence {
    let mut w = b"=ret=".to_vec();
    w.extend_from_slice(value);
    Sentence::from_words([b"!done".to_vec(), w])
}

fn traffic_item(interface: &str, rx: u64, tx: u64) -> Item {
    Item::new([
        ("name", interface.to_owned()),
        ("rx-packets-per-second", (rx / 6400).to_string()),
        ("rx-bits-per-second", rx.to_string()),
        ("tx-packets-per-second", (tx / 5600).to_string()),
        ("tx-bits-per-second", tx.to_string()),
    ])
}

async fn run_stream(
    kind: StreamKind,
    tag: Tag,
    device: Arc<Device>,
    out: mpsc::UnboundedSender<Sentence>,
    mut changes: broadcast::Receiver<crate::device::Change>,
    mut cancel: oneshot::Receiver<Option<Tag>>,
) {
    let send = |s: Sentence| out.send(tagged(s, &tag)).is_ok();
    let cancel_tag = loop {
        match &kind {
            StreamKind::Stall => match (&mut cancel).await {
                Ok(t) => break t,
                Err(_) => return,
            },
            StreamKind::Monitor {
                interface,
                interval,
            } => {
                tokio::select! {
                    t = &mut cancel => match t { Ok(t) => break t, Err(_) => return },
                    _ = tokio::time::sleep(*interval) => {
                        let Some((rx, tx)) = device.traffic(interface) else { return };
                        if !send(row(&traffic_item(interface, rx, tx), None)) { return; }
                    }
                }
            }
            StreamKind::Changes {
                menu,
                queries,
                proplist,
            } => {
                tokio::select! {
                    t = &mut cancel => match t { Ok(t) => break t, Err(_) => return },
                    change = changes.recv() => {
                        let change = match change {
                            Ok(c) => c,
                            Err(broadcast::error::RecvError::Lagged(_)) => continue,
                            Err(_) => return,
                        };
                        if change.menu != *menu || !model::matches(&change.item, queries) {
                            continue;
                        }
                        let mut s = row(&change.item, proplist.as_deref());
                        if change.dead {
                            s = Sentence::from_words([b"!re".to_vec()]);
                            let mut id = b"=.id=".to_vec();
                            id.extend_from_slice(change.item.get(".id").unwrap_or_default());
                            s.push(id);
                            s.push(format!("=.dead={}", device.profile().dead_word()));
                        }
                        if !send(s) { return; }
                    }
                }
            }
        }
    };
    // The router's order: the stream's !trap, the /cancel's !done, then
    // the stream's own !done.
    send(trap(&Failure::new(Some(2), "interrupted")));
    if let Some(t) = cancel_tag {
        let _ = out.send(tagged(done(), &t));
    }
    send(done());
}
