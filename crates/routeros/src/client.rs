use std::{
    collections::HashMap,
    pin::Pin,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex, OnceLock, Weak,
    },
    time::Duration,
};

use futures::{SinkExt, StreamExt};
use routeros_proto::{login, ApiCodec, CodecError, Command, Limits, Reply, ReplyKind, Sentence};
use tokio::{
    io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadHalf, WriteHalf},
    net::TcpStream,
    sync::{mpsc, oneshot, OwnedSemaphorePermit, Semaphore},
    task::AbortHandle,
    time::{timeout, Instant},
};
use tokio_util::codec::{Framed, FramedRead};
use tracing::{debug, warn};

use crate::{
    tls::{self, Answer, Fingerprint, PinVerifier, Sniff, TlsMode},
    Error, Response, Row,
};

/// Where and how to log in. The password is only held for the login.
#[derive(Clone)]
pub struct ConnectOptions {
    pub host: String,
    pub port: u16,
    pub username: String,
    pub password: String,
    pub connect_timeout: Duration,
    pub login_timeout: Duration,
    pub command_timeout: Duration,
    /// Most commands in flight on this connection at once; further ones wait.
    pub max_in_flight: usize,
    /// After this long without a reply, probe the router with a cheap
    /// command; if the probe is not answered within the same time, the
    /// connection is declared dead and every waiting command fails.
    pub keepalive: Option<Duration>,
    /// Plain API, API-SSL with a pinned certificate, or (bootstrap only,
    /// unauthenticated) API-SSL without a certificate.
    pub tls: TlsMode,
    /// Largest word and sentence accepted from the router: a hostile or
    /// broken length prefix fails the session instead of allocating
    /// gigabytes.
    pub limits: Limits,
    /// Most bytes one command's replies may take until its `!done`. A
    /// router that sends more ends the session: no real reply is that
    /// large, and a hostile one must not use up this laptop's memory.
    pub max_reply_bytes: usize,
    /// Most rows a streaming command may have waiting for its reader; a
    /// reader that falls further behind gets an error and the command is
    /// stopped on the router.
    pub stream_backlog: usize,
}

impl std::fmt::Debug for ConnectOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectOptions")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("tls", &self.tls)
            .finish()
    }
}

impl ConnectOptions {
    pub fn new(
        host: impl Into<String>,
        port: u16,
        username: impl Into<String>,
        password: impl Into<String>,
    ) -> Self {
        Self {
            host: host.into(),
            port,
            username: username.into(),
            password: password.into(),
            connect_timeout: Duration::from_secs(5),
            login_timeout: Duration::from_secs(10),
            command_timeout: Duration::from_secs(30),
            max_in_flight: 256,
            keepalive: Some(Duration::from_secs(30)),
            tls: TlsMode::Plain,
            limits: Limits::default(),
            max_reply_bytes: 256 << 20,
            stream_backlog: 4096,
        }
    }

    fn addr(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

type Shared<T> = Result<T, Arc<Error>>;

/// Who waits for a tag's replies.
enum Waiter {
    /// A plain command: replies are gathered here and handed over at
    /// `!done` in one wake-up.
    Collect {
        replies: Vec<Reply>,
        /// What `replies` hold, in bytes on the wire.
        bytes: usize,
        done: oneshot::Sender<Shared<Vec<Reply>>>,
    },
    /// A streaming command: each reply is handed over as it arrives, at
    /// most a backlog of them waiting; `overflow` says why a stream that
    /// fell behind was stopped.
    Stream {
        tx: mpsc::Sender<Shared<Reply>>,
        overflow: Arc<OnceLock<String>>,
    },
}

/// What the reader does after routing a reply.
#[derive(Debug)]
enum Routed {
    Delivered,
    /// A stream fell behind: stop the command with this tag on the router.
    Cancel(String),
    /// The router sent more than a command may take: end the session.
    End(String),
}

/// Tags in flight, and why the session ended once it has.
#[derive(Default)]
struct Pending {
    waiters: HashMap<String, Waiter>,
    ended: Option<Arc<Error>>,
}

impl Pending {
    /// Fails every waiter with the session's end.
    fn end(&mut self, why: Arc<Error>) {
        self.ended = Some(why.clone());
        for (_, w) in self.waiters.drain() {
            match w {
                Waiter::Collect { done, .. } => {
                    let _ = done.send(Err(why.clone()));
                }
                Waiter::Stream { tx, .. } => {
                    let _ = tx.try_send(Err(why.clone()));
                }
            }
        }
    }

    /// Hands a reply (`size` bytes on the wire) to its waiter; `!done`
    /// retires the tag. Replies without one of our (ASCII) tags are
    /// dropped. A collected reply past `max_bytes` ends the session; a
    /// stream whose reader is a backlog behind is stopped.
    fn route(&mut self, reply: Reply, size: usize, max_bytes: usize) -> Routed {
        let Some(Ok(tag)) = reply.tag().map(std::str::from_utf8) else {
            return Routed::Delivered;
        };
        let done = reply.kind == ReplyKind::Done;
        let too_much = || {
            Routed::End(format!(
                "it sent more than {} MiB in reply to one command; the session was ended so a router cannot use up this laptop's memory",
                max_bytes >> 20
            ))
        };
        // Collected replies, the common case: no allocation per reply.
        if let Some(Waiter::Collect { replies, bytes, .. }) = self.waiters.get_mut(tag) {
            *bytes += size;
            if *bytes > max_bytes {
                return too_much();
            }
            if !done {
                replies.push(reply);
                return Routed::Delivered;
            }
            if let Some(Waiter::Collect {
                mut replies, done, ..
            }) = self.waiters.remove(tag)
            {
                replies.push(reply);
                let _ = done.send(Ok(replies));
            }
            return Routed::Delivered;
        }
        let tag = tag.to_owned();
        let Some(Waiter::Stream { tx, overflow }) = self.waiters.get(&tag) else {
            // Late replies of a cancelled or timed-out command, keepalives.
            return Routed::Delivered;
        };
        match tx.try_send(Ok(reply)) {
            Ok(()) => {
                if done {
                    self.waiters.remove(&tag);
                }
                Routed::Delivered
            }
            Err(mpsc::error::TrySendError::Full(_)) => {
                let _ = overflow.set(format!(
                    "sent rows faster than they were read (more than {} waiting)",
                    tx.max_capacity()
                ));
                self.waiters.remove(&tag);
                Routed::Cancel(tag)
            }
            // The reader is gone; its drop cancels the command.
            Err(mpsc::error::TrySendError::Closed(_)) => {
                self.waiters.remove(&tag);
                Routed::Delivered
            }
        }
    }
}

/// The writing side of the socket, shared by every command of the session:
/// callers write their own sentences, saving a task hop per command.
struct Writer {
    w: WriteHalf<Box<dyn Io>>,
    buf: Vec<u8>,
}

/// Rows of a streaming command, as they arrive. Ends after `!done`; a
/// `!trap` (other than the `interrupted` of our own cancel) is an error.
/// Dropping it before the end cancels the command on the router.
pub struct ReplyStream {
    rx: mpsc::Receiver<Shared<Reply>>,
    overflow: Arc<OnceLock<String>>,
    tag: String,
    command: String,
    inner: Arc<Inner>,
    finished: bool,
    _permit: OwnedSemaphorePermit,
}

impl ReplyStream {
    /// The `.tag` the command runs under.
    pub fn tag(&self) -> &str {
        &self.tag
    }
}

impl futures::Stream for ReplyStream {
    type Item = Result<Row, Error>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        use std::task::Poll;
        loop {
            if self.finished {
                return Poll::Ready(None);
            }
            let reply = match self.rx.poll_recv(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => {
                    self.finished = true;
                    return Poll::Ready(self.overflow.get().map(|what| {
                        Err(Error::Overloaded {
                            addr: self.inner.addr.clone(),
                            command: self.command.clone(),
                            what: what.clone(),
                        })
                    }));
                }
                Poll::Ready(Some(Err(e))) => {
                    self.finished = true;
                    return Poll::Ready(Some(Err(clone_error(&e))));
                }
                Poll::Ready(Some(Ok(r))) => r,
            };
            match reply.kind {
                ReplyKind::Re => return Poll::Ready(Some(Ok(Row::from_reply(&reply)))),
                ReplyKind::Done => {
                    self.finished = true;
                    return Poll::Ready(None);
                }
                ReplyKind::Trap => {
                    if reply.category() == Some(2) {
                        continue; // interrupted: our cancel; !done follows
                    }
                    self.finished = true;
                    return Poll::Ready(Some(Err(Error::Trap {
                        command: self.command.clone(),
                        category: reply.category(),
                        message: reply.message().unwrap_or_else(|| "no message given".into()),
                        more: Vec::new(),
                    })));
                }
                _ => continue,
            }
        }
    }
}

impl Drop for ReplyStream {
    fn drop(&mut self) {
        if !self.finished {
            let inner = self.inner.clone();
            let tag = std::mem::take(&mut self.tag);
            if let Ok(rt) = tokio::runtime::Handle::try_current() {
                rt.spawn(async move { inner.cancel(&tag).await });
            }
        }
    }
}

/// A handle to one logged-in API session. Clones share the connection.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    writer: tokio::sync::Mutex<Writer>,
    pending: Mutex<Pending>,
    next_tag: AtomicU64,
    addr: String,
    command_timeout: Duration,
    max_reply_bytes: usize,
    stream_backlog: usize,
    in_flight: Arc<Semaphore>,
    fingerprint: Option<Fingerprint>,
    /// The reader task; stopped when the last handle goes.
    driver: Mutex<Option<AbortHandle>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(d) = self.driver.lock().map(|mut d| d.take()).ok().flatten() {
            d.abort();
        }
    }
}

impl Inner {
    fn closed(&self, reason: &str) -> Error {
        Error::Closed {
            addr: self.addr.clone(),
            reason: reason.into(),
        }
    }

    /// Writes one sentence by `deadline`. A failed write, or one the
    /// router stopped reading half-way, ends the session for everyone (the
    /// stream would no longer be framed); not getting a turn to write in
    /// time fails only this command.
    async fn write(
        &self,
        sentence: &Sentence,
        command: &str,
        deadline: Instant,
    ) -> Result<(), Error> {
        let timed_out = || Error::Timeout {
            command: command.to_owned(),
            after: self.command_timeout,
        };
        let mut w = tokio::time::timeout_at(deadline, self.writer.lock())
            .await
            .map_err(|_| timed_out())?;
        let Writer { w: io, buf } = &mut *w;
        buf.clear();
        sentence.encode(buf);
        let res = tokio::time::timeout_at(deadline, async {
            io.write_all(buf).await?;
            io.flush().await
        })
        .await;
        if buf.capacity() > 64 * 1024 {
            *buf = Vec::with_capacity(1024);
        }
        let e = match res {
            Ok(Ok(())) => return Ok(()),
            Ok(Err(source)) => Error::Io {
                addr: self.addr.clone(),
                source,
            },
            Err(_) => Error::Closed {
                addr: self.addr.clone(),
                reason: format!(
                    "it stopped reading what was sent ({command} could not be written within {} s)",
                    self.command_timeout.as_secs_f32()
                ),
            },
        };
        self.pending
            .lock()
            .expect("pending lock")
            .end(Arc::new(clone_error(&e)));
        Err(e)
    }

    /// Registers the tag's waiter, then writes the command: a reply can
    /// never arrive before someone waits for it.
    async fn start(
        &self,
        tag: &str,
        cmd: &Command,
        waiter: Waiter,
        deadline: Instant,
    ) -> Result<(), Error> {
        let sentence = cmd.to_sentence(Some(tag)).map_err(Error::InvalidCommand)?;
        {
            let mut p = self.pending.lock().expect("pending lock");
            if let Some(why) = &p.ended {
                return Err(clone_error(why));
            }
            p.waiters.insert(tag.to_owned(), waiter);
        }
        if let Err(e) = self.write(&sentence, cmd.path(), deadline).await {
            self.pending
                .lock()
                .expect("pending lock")
                .waiters
                .remove(tag);
            return Err(e);
        }
        Ok(())
    }

    /// Asks the router to stop the command tagged `tag`. Its last replies
    /// are dropped as they come.
    async fn cancel(&self, tag: &str) {
        self.pending
            .lock()
            .expect("pending lock")
            .waiters
            .remove(tag);
        if let Ok(s) = Command::new("/cancel")
            .attr("tag", tag)
            .to_sentence(Some(&format!("c{tag}")))
        {
            let _ = self
                .write(&s, "/cancel", Instant::now() + self.command_timeout)
                .await;
        }
    }
}

/// Any byte stream the API can run over: TCP, or TLS over TCP.
trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

type Transport = Framed<Box<dyn Io>, ApiCodec>;

impl Client {
    /// Connects, logs in and starts the connection's reader task.
    pub async fn connect(opts: &ConnectOptions) -> Result<Client, Error> {
        let addr = opts.addr();
        let stream = match timeout(opts.connect_timeout, TcpStream::connect(&addr)).await {
            Err(_) => {
                return Err(Error::ConnectTimeout {
                    addr,
                    after: opts.connect_timeout,
                })
            }
            Ok(Err(source)) => return Err(Error::Connect { addr, source }),
            Ok(Ok(s)) => s,
        };
        stream.set_nodelay(true).ok();
        let (io, fingerprint) = secure(stream, opts, &addr).await?;
        // Small initial buffers: ten thousand idle sessions must stay cheap.
        let mut transport = Framed::with_capacity(io, ApiCodec::new(opts.limits), 1024);
        match timeout(opts.login_timeout, login(&mut transport, opts, &addr)).await {
            Err(_) => {
                return Err(Error::Timeout {
                    command: "/login".into(),
                    after: opts.login_timeout,
                })
            }
            Ok(r) => r?,
        }
        let parts = transport.into_parts();
        let (read, write) = tokio::io::split(parts.io);
        let mut reader = FramedRead::with_capacity(read, parts.codec, 1024);
        reader.read_buffer_mut().extend_from_slice(&parts.read_buf);
        let inner = Arc::new(Inner {
            writer: tokio::sync::Mutex::new(Writer {
                w: write,
                buf: Vec::with_capacity(256),
            }),
            pending: Mutex::new(Pending::default()),
            next_tag: AtomicU64::new(1),
            addr: addr.clone(),
            command_timeout: opts.command_timeout,
            max_reply_bytes: opts.max_reply_bytes,
            stream_backlog: opts.stream_backlog.max(1),
            in_flight: Arc::new(Semaphore::new(opts.max_in_flight.max(1))),
            fingerprint,
            driver: Mutex::new(None),
        });
        let task = tokio::spawn(drive(reader, Arc::downgrade(&inner), addr, opts.keepalive));
        *inner.driver.lock().expect("driver lock") = Some(task.abort_handle());
        Ok(Client { inner })
    }

    /// The SHA-256 fingerprint of the router's certificate (API-SSL only):
    /// what a trust-on-first-use connection hands back for pinning.
    pub fn peer_fingerprint(&self) -> Option<Fingerprint> {
        self.inner.fingerprint
    }

    /// `host:port` of the router.
    pub fn addr(&self) -> &str {
        &self.inner.addr
    }

    /// Runs a command and returns every reply up to and including `!done`,
    /// `!trap`s included. What `fleetdeck-cli ros` prints.
    pub async fn execute(&self, cmd: &Command) -> Result<Vec<Reply>, Error> {
        self.execute_with_timeout(cmd, self.inner.command_timeout)
            .await
    }

    pub async fn execute_with_timeout(
        &self,
        cmd: &Command,
        deadline: Duration,
    ) -> Result<Vec<Reply>, Error> {
        let _permit = self.permit().await?;
        let tag = self.next_tag();
        let (tx, rx) = oneshot::channel();
        // Writing the command and waiting for its answer share the deadline.
        let until = Instant::now() + deadline;
        self.inner
            .start(
                &tag,
                cmd,
                Waiter::Collect {
                    replies: Vec::new(),
                    bytes: 0,
                    done: tx,
                },
                until,
            )
            .await?;
        match tokio::time::timeout_at(until, rx).await {
            Ok(Ok(Ok(replies))) => Ok(replies),
            Ok(Ok(Err(e))) => Err(clone_error(&e)),
            Ok(Err(_)) => Err(self
                .inner
                .closed("the connection ended before the command finished")),
            Err(_) => {
                self.inner.cancel(&tag).await;
                Err(Error::Timeout {
                    command: cmd.path().to_owned(),
                    after: deadline,
                })
            }
        }
    }

    /// Runs a command that streams (`listen`, `print =follow=`,
    /// `/interface/monitor-traffic`): rows arrive as they come. Dropping the
    /// stream cancels the command on the router with `/cancel`.
    pub async fn stream(&self, cmd: &Command) -> Result<ReplyStream, Error> {
        let permit = self.permit().await?;
        let tag = self.next_tag();
        let (tx, rx) = mpsc::channel(self.inner.stream_backlog);
        let overflow = Arc::new(OnceLock::new());
        let waiter = Waiter::Stream {
            tx,
            overflow: overflow.clone(),
        };
        let until = Instant::now() + self.inner.command_timeout;
        self.inner.start(&tag, cmd, waiter, until).await?;
        Ok(ReplyStream {
            rx,
            overflow,
            tag,
            command: cmd.path().to_owned(),
            inner: self.inner.clone(),
            finished: false,
            _permit: permit,
        })
    }

    /// Runs a command; `!trap` becomes [`Error::Trap`].
    pub async fn run(&self, cmd: &Command) -> Result<Response, Error> {
        let replies = self.execute(cmd).await?;
        into_response(cmd.path(), replies)
    }

    /// A slot under the in-flight cap.
    async fn permit(&self) -> Result<OwnedSemaphorePermit, Error> {
        self.inner
            .in_flight
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| self.inner.closed("the API session has ended"))
    }

    fn next_tag(&self) -> String {
        self.inner
            .next_tag
            .fetch_add(1, Ordering::Relaxed)
            .to_string()
    }
}

/// Folds replies into rows, or the router's `!trap` into an error.
fn into_response(command: &str, replies: Vec<Reply>) -> Result<Response, Error> {
    let mut resp = Response::default();
    let mut traps = Vec::new();
    for r in replies {
        match r.kind {
            // A `!re` without attributes carries nothing (librouteros drops it too).
            ReplyKind::Re if r.data().next().is_none() => {}
            ReplyKind::Re => resp.rows.push(Row::from_reply(&r)),
            ReplyKind::Done => resp.done = Row::from_reply(&r),
            ReplyKind::Trap => traps.push(r),
            ReplyKind::Empty | ReplyKind::Fatal | ReplyKind::Unknown(_) => {}
        }
    }
    if let Some(first) = traps.first() {
        return Err(Error::Trap {
            command: command.to_owned(),
            category: first.category(),
            message: first
                .message()
                .unwrap_or_else(|| "no message given".to_owned()),
            more: traps[1..].iter().filter_map(|t| t.message()).collect(),
        });
    }
    Ok(resp)
}

/// Errors reach several waiters; rebuild an owned copy for each.
fn clone_error(e: &Error) -> Error {
    match e {
        Error::Fatal { reason } => Error::Fatal {
            reason: reason.clone(),
        },
        Error::Protocol(p) => Error::Protocol(p.clone()),
        Error::Closed { addr, reason } => Error::Closed {
            addr: addr.clone(),
            reason: reason.clone(),
        },
        other => Error::Closed {
            addr: String::new(),
            reason: other.to_string(),
        },
    }
}

/// What a TLS client gets from a port that does not speak TLS.
const NOT_TLS: &str = "the router did not answer with TLS: this port is probably the plain API (8728), not API-SSL (8729)";

/// A certificate-checking client meets a router without a certificate.
const ONLY_ANONYMOUS: &str = "the router refused every certificate-based TLS cipher suite. That is what API-SSL does when the router has no certificate: it then offers only certificate-less (anonymous Diffie-Hellman) TLS, which cannot prove who the router is. Install a certificate on the router (/certificate, then /ip service set api-ssl certificate=...), or, accepting that the router is not authenticated, connect in anonymous mode (TlsMode::AnonymousDh, fleetdeck-cli --tls-anonymous)";

/// An anonymous client meets a router with a certificate.
const HAS_CERTIFICATE: &str = "the router refused certificate-less (anonymous) TLS, so its API-SSL service has a certificate: connect with certificate pinning instead (trust on first use, then pin the fingerprint; TlsMode::TrustOnFirstUse / TlsMode::Pinned), not in anonymous mode";

/// Wraps the socket in TLS when asked, checking the certificate pin.
async fn secure(
    stream: TcpStream,
    opts: &ConnectOptions,
    addr: &str,
) -> Result<(Box<dyn Io>, Option<Fingerprint>), Error> {
    let pin = match &opts.tls {
        TlsMode::Plain => return Ok((Box::new(stream), None)),
        TlsMode::AnonymousDh => return Ok((secure_anonymous(stream, opts, addr).await?, None)),
        TlsMode::Pinned(fp) => Some(*fp),
        TlsMode::TrustOnFirstUse => None,
    };
    let tls_error = |message: String| Error::Tls {
        addr: addr.to_owned(),
        message,
    };
    let verifier = PinVerifier::new(pin);
    let config = tls::client_config(verifier.clone()).map_err(|e| tls_error(e.to_string()))?;
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let handshake = connector.connect(tls::server_name(&opts.host), stream);
    let not_tls = || tls_error(NOT_TLS.into());
    let stream = match timeout(opts.connect_timeout, handshake).await {
        Err(_) => return Err(not_tls()),
        Ok(Err(e)) => {
            let seen = *verifier.seen.lock().expect("fingerprint lock");
            return Err(match (pin, seen) {
                (Some(want), Some(got)) if want != got => tls_error(format!(
                    "the router's certificate has changed: expected fingerprint {want}, got {got}. If the certificate was replaced on purpose, trust the new fingerprint; otherwise someone may be intercepting the connection"
                )),
                // Refused before any certificate was shown: no suite in
                // common, as with a router that only offers anonymous DH.
                (_, None) if refused_our_suites(&e) => tls_error(ONLY_ANONYMOUS.into()),
                // Garbage back, or the peer hung up on our ClientHello.
                _ if matches!(
                    e.kind(),
                    std::io::ErrorKind::InvalidData
                        | std::io::ErrorKind::UnexpectedEof
                        | std::io::ErrorKind::ConnectionReset
                ) =>
                {
                    not_tls()
                }
                _ => tls_error(format!("TLS handshake failed: {e}")),
            });
        }
        Ok(Ok(s)) => s,
    };
    let seen = *verifier.seen.lock().expect("fingerprint lock");
    Ok((Box::new(stream), seen))
}

/// The router answered our ClientHello with a handshake-failure (or
/// insufficient-security) alert: none of the suites rustls offers, all
/// certificate-authenticated, is acceptable to it.
fn refused_our_suites(e: &std::io::Error) -> bool {
    use rustls::AlertDescription as A;
    matches!(
        e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()),
        Some(rustls::Error::AlertReceived(
            A::HandshakeFailure | A::InsufficientSecurity
        ))
    )
}

/// Anonymous Diffie-Hellman through OpenSSL, for a router without a
/// certificate. Nothing about the peer is verified.
async fn secure_anonymous(
    stream: TcpStream,
    opts: &ConnectOptions,
    addr: &str,
) -> Result<Box<dyn Io>, Error> {
    let tls_error = |message: String| Error::Tls {
        addr: addr.to_owned(),
        message,
    };
    let connector = tls::anonymous_connector().map_err(tls_error)?;
    let ssl = connector
        .configure()
        .and_then(|c| {
            c.use_server_name_indication(false)
                .verify_hostname(false)
                .into_ssl(&opts.host)
        })
        .map_err(|e| tls_error(format!("OpenSSL could not start a session: {e}")))?;
    let mut stream = tokio_openssl::SslStream::new(ssl, Sniff::new(stream))
        .map_err(|e| tls_error(format!("OpenSSL could not start a session: {e}")))?;
    match timeout(opts.connect_timeout, Pin::new(&mut stream).connect()).await {
        Err(_) => return Err(tls_error(NOT_TLS.into())),
        Ok(Err(e)) => {
            // Judged from what the router sent back, not from OpenSSL's
            // error text, which differs between versions.
            return Err(match stream.get_ref().answer() {
                Answer::NotTls => tls_error(NOT_TLS.into()),
                Answer::Alert(
                    tls::ALERT_HANDSHAKE_FAILURE
                    | tls::ALERT_INSUFFICIENT_SECURITY
                    | tls::ALERT_PROTOCOL_VERSION,
                ) => tls_error(HAS_CERTIFICATE.into()),
                _ => tls_error(format!("anonymous TLS handshake failed: {e}")),
            });
        }
        Ok(Ok(())) => {}
    }
    warn!(
        addr,
        "API-SSL session without a certificate (anonymous Diffie-Hellman): the connection is encrypted but the router is NOT authenticated, anyone in the path could impersonate it. Install a certificate on the router and pin it"
    );
    Ok(Box::new(stream))
}

/// A TLS record (alert or handshake) where API words were expected: the
/// port speaks API-SSL.
fn looks_like_tls(buf: &[u8]) -> bool {
    matches!(buf, [0x15 | 0x16, 0x03, ..])
}

async fn read_until_done(t: &mut Transport, addr: &str) -> Result<Vec<Reply>, Error> {
    let mut out = Vec::new();
    loop {
        let next = t.next().await;
        if matches!(next, None | Some(Err(_))) && looks_like_tls(t.read_buffer()) {
            return Err(Error::Tls {
                addr: addr.to_owned(),
                message:
                    "the router answered with TLS: this port is API-SSL (8729); connect with TLS"
                        .into(),
            });
        }
        // Hung up before saying anything: an address-restricted API service
        // does that, and so does an API-SSL port (OpenSSL resets plain words).
        let silent = out.is_empty() && t.read_buffer().is_empty();
        let hung_up = match &next {
            None => true,
            Some(Err(CodecError::Io(e))) => matches!(
                e.kind(),
                std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::UnexpectedEof
            ),
            _ => false,
        };
        if silent && hung_up {
            return Err(Error::Closed {
                addr: addr.to_owned(),
                reason: "the router closed the connection before answering the login. The API service may be limited to other addresses (/ip service set api address=…), or this port is API-SSL (8729) and needs TLS".into(),
            });
        }
        let reply = match next {
            None => {
                return Err(Error::Closed {
                    addr: addr.to_owned(),
                    reason: "the router closed the connection during login".into(),
                })
            }
            Some(r) => Reply::parse(r.map_err(|e| codec_error(e, addr))?),
        };
        match reply.kind {
            ReplyKind::Fatal => {
                return Err(Error::Fatal {
                    reason: reply.message().unwrap_or_default(),
                })
            }
            ReplyKind::Done => {
                out.push(reply);
                return Ok(out);
            }
            _ => out.push(reply),
        }
    }
}

async fn login(t: &mut Transport, opts: &ConnectOptions, addr: &str) -> Result<(), Error> {
    let plain = Command::new("/login")
        .attr("name", &opts.username)
        .attr("password", &opts.password)
        .to_sentence(None)
        .map_err(Error::InvalidCommand)?;
    t.send(plain).await.map_err(|e| codec_error(e, addr))?;
    let replies = read_until_done(t, addr).await?;
    check_login(&replies, addr)?;
    let done = replies.last().expect("read_until_done ends with !done");
    // A pre-6.43 router ignores the password and answers with a challenge.
    let Some(challenge) = done.attribute("ret") else {
        return Ok(());
    };
    let challenge = String::from_utf8_lossy(challenge).into_owned();
    debug!(%addr, "router asked for the legacy challenge login");
    let response =
        login::challenge_response(opts.password.as_bytes(), &challenge).map_err(|_| {
            Error::Auth {
                addr: addr.to_owned(),
                message: format!("the router sent an invalid login challenge {challenge:?}"),
            }
        })?;
    let legacy = Command::new("/login")
        .attr("name", &opts.username)
        .attr("response", response)
        .to_sentence(None)
        .map_err(Error::InvalidCommand)?;
    t.send(legacy).await.map_err(|e| codec_error(e, addr))?;
    let replies = read_until_done(t, addr).await?;
    check_login(&replies, addr)
}

fn check_login(replies: &[Reply], addr: &str) -> Result<(), Error> {
    match replies.iter().find(|r| r.kind == ReplyKind::Trap) {
        Some(trap) => Err(Error::Auth {
            addr: addr.to_owned(),
            message: trap.message().unwrap_or_else(|| "login failed".to_owned()),
        }),
        None => Ok(()),
    }
}

fn codec_error(e: CodecError, addr: &str) -> Error {
    match e {
        CodecError::Io(source) => Error::Io {
            addr: addr.to_owned(),
            source,
        },
        CodecError::Protocol(p) => Error::Protocol(p),
    }
}

/// The connection's reader: routes replies by tag, probes a quiet router,
/// and fails every waiter when the connection ends. Stops when the last
/// [`Client`] handle is dropped.
async fn drive(
    mut reader: FramedRead<ReadHalf<Box<dyn Io>>, ApiCodec>,
    inner: Weak<Inner>,
    addr: String,
    keepalive: Option<Duration>,
) {
    let idle = keepalive.unwrap_or(Duration::from_secs(365 * 86_400));
    let mut last_heard = Instant::now();
    let mut probe_sent: Option<Instant> = None;
    let mut probes = 0u64;
    // One timer for the session, re-armed only when it fires: resetting it
    // on every reply would cost a timer-wheel update per reply.
    let quiet = tokio::time::sleep_until(last_heard + idle);
    tokio::pin!(quiet);
    let failure: Error = loop {
        tokio::select! {
            _ = &mut quiet => {
                let now = Instant::now();
                if let Some(at) = probe_sent {
                    if now < at + idle {
                        quiet.as_mut().reset(at + idle);
                        continue;
                    }
                    break Error::Closed {
                        addr: addr.clone(),
                        reason: format!("the router stopped answering (no reply to a keepalive within {} s)", idle.as_secs_f32()),
                    };
                }
                if now < last_heard + idle {
                    quiet.as_mut().reset(last_heard + idle);
                    continue;
                }
                let Some(inner) = inner.upgrade() else { return };
                probes += 1;
                let probe = Command::new("/system/identity/print")
                    .to_sentence(Some(&format!("k{probes}")))
                    .expect("a valid command");
                if let Err(e) = inner.write(&probe, "the keepalive", Instant::now() + idle).await {
                    break e;
                }
                probe_sent = Some(Instant::now());
                quiet.as_mut().reset(Instant::now() + idle);
            }
            frame = reader.next() => {
                let (reply, size) = match frame {
                    None => break Error::Closed { addr: addr.clone(), reason: "the router closed the connection".into() },
                    Some(Err(e)) => break codec_error(e, &addr),
                    Some(Ok(s)) => {
                        let size = s.encoded_len();
                        (Reply::parse(s), size)
                    }
                };
                last_heard = Instant::now();
                probe_sent = None;
                if reply.kind == ReplyKind::Fatal {
                    break Error::Fatal { reason: reply.message().unwrap_or_default() };
                }
                let Some(inner) = inner.upgrade() else { return };
                let routed = inner
                    .pending
                    .lock()
                    .expect("pending lock")
                    .route(reply, size, inner.max_reply_bytes);
                match routed {
                    Routed::Delivered => {}
                    Routed::Cancel(tag) => {
                        tokio::spawn(async move { inner.cancel(&tag).await });
                    }
                    Routed::End(reason) => break Error::Closed { addr: addr.clone(), reason },
                }
            }
        }
    };
    debug!(%addr, "API session ended: {failure}");
    if let Some(inner) = inner.upgrade() {
        inner
            .pending
            .lock()
            .expect("pending lock")
            .end(Arc::new(failure));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(words: &[&str]) -> Reply {
        Reply::parse(Sentence::from_words(words.iter().copied()))
    }

    /// `!done` retires a tag whoever waits for it, so a stream that ran to
    /// its end leaves nothing behind in a long-lived session.
    #[test]
    fn done_retires_collecting_and_streaming_tags() {
        let mut p = Pending::default();
        let (done, mut got) = oneshot::channel();
        p.waiters.insert(
            "1".into(),
            Waiter::Collect {
                replies: Vec::new(),
                bytes: 0,
                done,
            },
        );
        let (tx, mut rows) = mpsc::channel(8);
        let overflow = Arc::new(OnceLock::new());
        p.waiters
            .insert("2".into(), Waiter::Stream { tx, overflow });
        for words in [
            &["!re", "=name=a", ".tag=1"][..],
            &["!re", "=name=b", ".tag=2"],
            &["!re", "=name=c", ".tag=9"], // nobody's: dropped
            &["!done", ".tag=2"],
        ] {
            p.route(reply(words), 10, 1 << 20);
        }
        assert_eq!(p.waiters.len(), 1, "the finished stream is retired");
        p.route(reply(&["!done", ".tag=1"]), 10, 1 << 20);
        assert!(p.waiters.is_empty());

        let collected = got.try_recv().unwrap().unwrap();
        assert_eq!(collected.len(), 2);
        assert_eq!(collected[0].attribute("name"), Some(&b"a"[..]));
        assert_eq!(collected[1].kind, ReplyKind::Done);
        let streamed: Vec<_> = std::iter::from_fn(|| rows.try_recv().ok())
            .map(|r| r.unwrap().kind)
            .collect();
        assert_eq!(streamed, [ReplyKind::Re, ReplyKind::Done]);
    }

    /// A collected command past its byte budget ends the session; a
    /// stream a backlog behind is stopped with its reason kept.
    #[test]
    fn replies_past_the_bounds_are_refused() {
        let mut p = Pending::default();
        let (done, _got) = oneshot::channel();
        p.waiters.insert(
            "1".into(),
            Waiter::Collect {
                replies: Vec::new(),
                bytes: 0,
                done,
            },
        );
        assert!(matches!(
            p.route(reply(&["!re", ".tag=1"]), 600, 1000),
            Routed::Delivered
        ));
        assert!(matches!(
            p.route(reply(&["!re", ".tag=1"]), 600, 1000),
            Routed::End(_)
        ));
        let (tx, _rows) = mpsc::channel(2);
        let overflow = Arc::new(OnceLock::new());
        p.waiters.insert(
            "2".into(),
            Waiter::Stream {
                tx,
                overflow: overflow.clone(),
            },
        );
        for _ in 0..2 {
            assert!(matches!(
                p.route(reply(&["!re", ".tag=2"]), 1, 1000),
                Routed::Delivered
            ));
        }
        assert!(
            matches!(p.route(reply(&["!re", ".tag=2"]), 1, 1000), Routed::Cancel(t) if t == "2")
        );
        assert!(overflow.get().unwrap().contains("more than 2 waiting"));
        assert!(!p.waiters.contains_key("2"));
    }
}
