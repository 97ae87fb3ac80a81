//! The thin tokio layer around [`Endpoint`]: one task owns the endpoint and the UDP socket,
//! TCP connections run in their own tasks and hand frames over a channel, and the application
//! talks to the endpoint through [`SipHandle`] commands and receives [`Event`]s.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, info, warn};

use crate::endpoint::{
    CallHandle, Endpoint, EndpointConfig, Event, OutgoingCall, RequestHandle, Transmit, Transport,
};
use crate::message::parse::Frame;
use crate::message::{Response, StreamFramer};

/// What the application can ask of the SIP stack.
#[derive(Debug)]
pub enum Command {
    /// Send 180/183 for a call.
    Ring(CallHandle, u16),
    /// Answer a call's pending (re-)INVITE with this SDP.
    Answer(CallHandle, Vec<u8>),
    /// Reject a call's pending INVITE.
    Reject(CallHandle, u16),
    /// Hang a call up.
    Hangup(CallHandle),
    /// Place a call (to a lawyer's phone); the handle comes back on the channel.
    Invite(Box<OutgoingCall>, oneshot::Sender<CallHandle>),
    /// Answer a REGISTER.
    Respond(RequestHandle, Box<Response>),
    /// Hang every call up and report when all BYEs are done (or the deadline passed).
    Shutdown(Duration, oneshot::Sender<()>),
}

/// Cloneable sender of commands to the SIP task.
#[derive(Debug, Clone)]
pub struct SipHandle(mpsc::UnboundedSender<Command>);

impl SipHandle {
    /// Queues a command; fails only when the SIP task has stopped.
    pub fn send(&self, cmd: Command) -> Result<(), DriverError> {
        self.0.send(cmd).map_err(|_| DriverError::Stopped)
    }
}

/// Driver failures.
#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    /// A socket could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: io::Error,
    },
    /// The SIP task is gone.
    #[error("the SIP task has stopped")]
    Stopped,
}

enum Inbound {
    Frame(Transport, SocketAddr, Vec<u8>),
    Connected(SocketAddr, mpsc::UnboundedSender<Vec<u8>>),
    Closed(SocketAddr),
}

/// Sockets bound and ready; [`SipDriver::run`] serves them.
pub struct SipDriver {
    udp: UdpSocket,
    tcp: TcpListener,
    endpoint: Endpoint,
    commands: mpsc::UnboundedReceiver<Command>,
    inbound_tx: mpsc::UnboundedSender<Inbound>,
    inbound: mpsc::UnboundedReceiver<Inbound>,
    connections: HashMap<SocketAddr, mpsc::UnboundedSender<Vec<u8>>>,
}

impl SipDriver {
    /// Binds UDP and TCP on `listen` (the same port for both, as RFC 3261 §18 expects).
    pub async fn bind(
        listen: SocketAddr,
        user_agent: &str,
    ) -> Result<(SipDriver, SipHandle), DriverError> {
        let bind_err = |source| DriverError::Bind {
            addr: listen,
            source,
        };
        let udp = UdpSocket::bind(listen).await.map_err(bind_err)?;
        let tcp = TcpListener::bind(listen).await.map_err(bind_err)?;
        let advertised = udp.local_addr().map_err(bind_err)?;
        let (cmd_tx, commands) = mpsc::unbounded_channel();
        let (inbound_tx, inbound) = mpsc::unbounded_channel();
        let endpoint = Endpoint::new(EndpointConfig {
            advertised,
            timers: Default::default(),
            user_agent: user_agent.to_owned(),
        });
        let driver = SipDriver {
            udp,
            tcp,
            endpoint,
            commands,
            inbound_tx,
            inbound,
            connections: HashMap::new(),
        };
        Ok((driver, SipHandle(cmd_tx)))
    }

    /// The bound SIP address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.udp.local_addr()
    }

    /// Serves until a [`Command::Shutdown`] completes, sending events to `events`.
    pub async fn run(mut self, events: mpsc::UnboundedSender<Event>) {
        let mut buf = vec![0u8; 65_535];
        let mut closing: Option<(Instant, oneshot::Sender<()>)> = None;
        loop {
            let wake = self.endpoint.poll_timeout();
            tokio::select! {
                r = self.udp.recv_from(&mut buf) => match r {
                    Ok((n, src)) => self.endpoint.handle_message(&buf[..n], Transport::Udp, src, Instant::now()),
                    Err(e) => debug!(error = %e, "UDP receive error"), // ICMP errors surface here on Linux
                },
                r = self.tcp.accept() => match r {
                    Ok((stream, peer)) => spawn_connection(stream, peer, self.inbound_tx.clone()),
                    Err(e) => warn!(error = %e, "TCP accept failed"),
                },
                Some(msg) = self.inbound.recv() => match msg {
                    Inbound::Frame(t, src, bytes) => self.endpoint.handle_message(&bytes, t, src, Instant::now()),
                    Inbound::Connected(peer, tx) => { self.connections.insert(peer, tx); }
                    Inbound::Closed(peer) => { self.connections.remove(&peer); }
                },
                Some(cmd) = self.commands.recv() => {
                    let now = Instant::now();
                    match cmd {
                        Command::Ring(c, s) => self.endpoint.ring(c, s, now),
                        Command::Answer(c, sdp) => self.endpoint.answer(c, sdp, now),
                        Command::Reject(c, s) => self.endpoint.reject(c, s, now),
                        Command::Hangup(c) => self.endpoint.hangup(c, now),
                        Command::Invite(call, reply) => {
                            let _ = reply.send(self.endpoint.invite(*call, now));
                        }
                        Command::Respond(h, r) => self.endpoint.respond(&h, *r, now),
                        Command::Shutdown(grace, done) => {
                            info!(calls = self.endpoint.active_calls(), "shutting down: hanging up calls");
                            self.endpoint.hangup_all(now);
                            closing = Some((now + grace, done));
                        }
                    }
                },
                _ = sleep_until(wake) => self.endpoint.handle_timeout(Instant::now()),
            }
            self.flush(&events).await;
            if let Some((deadline, _)) = &closing
                && (self.endpoint.is_idle() || Instant::now() >= *deadline)
            {
                if let Some((_, done)) = closing.take() {
                    let _ = done.send(());
                }
                return;
            }
        }
    }

    async fn flush(&mut self, events: &mpsc::UnboundedSender<Event>) {
        while let Some(t) = self.endpoint.poll_transmit() {
            self.transmit(t).await;
        }
        while let Some(ev) = self.endpoint.poll_event() {
            if events.send(ev).is_err() {
                debug!("application stopped listening to SIP events");
            }
        }
    }

    async fn transmit(&mut self, t: Transmit) {
        match t.transport {
            Transport::Udp => {
                if let Err(e) = self.udp.send_to(&t.bytes, t.dest).await {
                    debug!(dest = %t.dest, error = %e, "UDP send failed");
                }
            }
            Transport::Tcp => match self.connections.get(&t.dest) {
                Some(conn) if conn.send(t.bytes.clone()).is_ok() => {}
                _ => connect_and_send(t.dest, t.bytes, self.inbound_tx.clone()),
            },
        }
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(tokio::time::Instant::from_std(at)).await,
        None => std::future::pending().await,
    }
}

/// §18.2.2: when the connection a response belongs to is gone, open a new one to the peer.
fn connect_and_send(dest: SocketAddr, bytes: Vec<u8>, inbound: mpsc::UnboundedSender<Inbound>) {
    tokio::spawn(async move {
        match tokio::time::timeout(Duration::from_secs(5), TcpStream::connect(dest)).await {
            Ok(Ok(stream)) => {
                let tx = spawn_connection_inner(stream, dest, inbound);
                let _ = tx.send(bytes);
            }
            _ => debug!(%dest, "TCP connect for a response failed"),
        }
    });
}

fn spawn_connection(stream: TcpStream, peer: SocketAddr, inbound: mpsc::UnboundedSender<Inbound>) {
    spawn_connection_inner(stream, peer, inbound);
}

/// Runs one TCP connection: a reader that frames messages by Content-Length and answers CRLF
/// keep-alives, and a writer fed by the SIP task. Idle connections close after 10 minutes.
fn spawn_connection_inner(
    stream: TcpStream,
    peer: SocketAddr,
    inbound: mpsc::UnboundedSender<Inbound>,
) -> mpsc::UnboundedSender<Vec<u8>> {
    let (mut reader, mut writer) = stream.into_split();
    let (tx, mut rx) = mpsc::unbounded_channel::<Vec<u8>>();
    let _ = inbound.send(Inbound::Connected(peer, tx.clone()));
    let pong = tx.clone();
    tokio::spawn(async move {
        while let Some(bytes) = rx.recv().await {
            if writer.write_all(&bytes).await.is_err() {
                break;
            }
        }
    });
    tokio::spawn(async move {
        let mut framer = StreamFramer::default();
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let read = tokio::time::timeout(Duration::from_secs(600), reader.read(&mut buf)).await;
            let n = match read {
                Ok(Ok(n)) if n > 0 => n,
                _ => break,
            };
            framer.push(&buf[..n]);
            loop {
                match framer.next_frame() {
                    Ok(Some(Frame::Message(m))) => {
                        let _ = inbound.send(Inbound::Frame(Transport::Tcp, peer, m));
                    }
                    Ok(Some(Frame::Ping)) => {
                        let _ = pong.send(b"\r\n".to_vec());
                    }
                    Ok(None) => break,
                    Err(e) => {
                        debug!(%peer, error = %e, "unframeable TCP stream, closing");
                        let _ = inbound.send(Inbound::Closed(peer));
                        return;
                    }
                }
            }
        }
        let _ = inbound.send(Inbound::Closed(peer));
    });
    tx
}
