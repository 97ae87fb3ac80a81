//! The user-agent core (RFC 3261 §8, §12-§17 glue) as one sans-IO state machine.
//!
//! The endpoint owns every transaction and call. Its driver feeds it datagrams and stream frames
//! ([`Endpoint::handle_message`]), commands from the transaction user (answer, hang up,
//! respond), and the time ([`Endpoint::handle_timeout`]); it is polled for [`Transmit`]s, for
//! [`Event`]s and for its next wake-up ([`Endpoint::poll_timeout`]).

mod calls;
mod timers;
mod uac;
mod uas;

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::time::Instant;

use tracing::debug;

use crate::message::{Message, Request, Response, Via, parse_message};
use crate::shrink::ShrinkSparse;
use crate::transaction::{ClientKey, ServerInvite, ServerKey, ServerNonInvite, Timers};
use timers::{TimerKey, TimerQueue};

pub use calls::CallHandle;
pub use uac::OutgoingCall;

/// The methods this user agent implements (advertised in `Allow`, §20.5).
pub const ALLOW: &str = "INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, INFO";

/// Which transport a message travelled on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    /// Unreliable: transactions retransmit.
    Udp,
    /// Reliable, stream-framed.
    Tcp,
}

impl Transport {
    /// Whether the transport is reliable (no retransmissions, §17).
    pub fn reliable(self) -> bool {
        self == Transport::Tcp
    }

    /// The Via transport token.
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Udp => "UDP",
            Transport::Tcp => "TCP",
        }
    }
}

/// Bytes to put on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// Transport to use; for TCP the driver reuses the connection to `dest` or opens one.
    pub transport: Transport,
    /// Destination address.
    pub dest: SocketAddr,
    /// The serialized message.
    pub bytes: Vec<u8>,
}

/// What the endpoint reports to the application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A new INVITE: answer with [`Endpoint::answer`], ring or reject it.
    IncomingCall {
        /// The call's handle for later commands.
        call: CallHandle,
        /// The INVITE (SDP offer in its body).
        request: Box<Request>,
        /// Where it came from.
        source: SocketAddr,
    },
    /// An outgoing call got a provisional response (180 Ringing: the lawyer's phone rings).
    Progress {
        /// The call.
        call: CallHandle,
        /// 180 or 183.
        status: u16,
    },
    /// An outgoing call was answered; the response carries the SDP answer. We have sent ACK.
    Answered {
        /// The call.
        call: CallHandle,
        /// The 2xx.
        response: Box<Response>,
    },
    /// The caller sent ACK for our 2xx: media may flow both ways.
    CallConfirmed {
        /// The call.
        call: CallHandle,
    },
    /// A re-INVITE (hold, unhold, codec change): answer it with [`Endpoint::answer`].
    Reoffer {
        /// The call.
        call: CallHandle,
        /// The re-INVITE.
        request: Box<Request>,
    },
    /// An INFO within a call (SIP INFO DTMF); already answered 200.
    Info {
        /// The call.
        call: CallHandle,
        /// The INFO.
        request: Box<Request>,
    },
    /// The call is over; its resources can be released.
    CallEnded {
        /// The call.
        call: CallHandle,
        /// Why.
        reason: EndReason,
    },
    /// A REGISTER to authenticate and apply; answer with [`Endpoint::respond`].
    Register {
        /// Handle for the response.
        handle: RequestHandle,
        /// The REGISTER.
        request: Box<Request>,
        /// Where it came from (for throttling failures).
        source: SocketAddr,
        /// Transport it came on.
        transport: Transport,
    },
}

/// Why a call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    /// The caller hung up (BYE).
    RemoteHangup,
    /// We hung up.
    LocalHangup,
    /// The caller cancelled before answer (§9).
    Cancelled,
    /// We rejected it with this status.
    Rejected(u16),
    /// The caller never acknowledged our 2xx (§13.3.1.4); a BYE was sent.
    NoAck,
    /// Our outgoing INVITE failed with this status (408 when nobody answered at all, §8.1.3.1).
    Failed(u16),
}

/// Identifies a server transaction the application must answer (REGISTER).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RequestHandle(ServerKey);

/// Endpoint settings.
#[derive(Debug, Clone)]
pub struct EndpointConfig {
    /// Address written in our Via and Contact headers.
    pub advertised: SocketAddr,
    /// Timer values.
    pub timers: Timers,
    /// Value of `Server`/`User-Agent`.
    pub user_agent: String,
}

#[derive(Debug)]
enum ServerTx {
    Invite(ServerInvite),
    NonInvite(ServerNonInvite),
}

#[derive(Debug)]
struct ServerEntry {
    tx: ServerTx,
    transport: Transport,
    dest: SocketAddr,
    /// The call an INVITE transaction belongs to (a CANCEL ends it).
    call: Option<CallHandle>,
}

/// The sans-IO SIP user agent.
#[derive(Debug)]
pub struct Endpoint {
    config: EndpointConfig,
    server: HashMap<ServerKey, ServerEntry>,
    client: HashMap<ClientKey, uac::ClientEntry>,
    calls: calls::Calls,
    timers: TimerQueue,
    transmits: VecDeque<Transmit>,
    events: VecDeque<Event>,
}

impl Endpoint {
    /// Creates an idle endpoint.
    pub fn new(config: EndpointConfig) -> Self {
        Endpoint {
            config,
            server: HashMap::new(),
            client: HashMap::new(),
            calls: calls::Calls::default(),
            timers: TimerQueue::default(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
        }
    }

    /// Feeds one datagram or stream frame received from `source`.
    pub fn handle_message(
        &mut self,
        bytes: &[u8],
        transport: Transport,
        source: SocketAddr,
        now: Instant,
    ) {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return; // a CRLF keep-alive (RFC 5626 §4.4.1), which some phones also send over UDP
        }
        match parse_message(bytes) {
            Ok(Message::Request(req)) => self.on_request(req, transport, source, now),
            Ok(Message::Response(resp)) => self.on_response(resp, now),
            Err(malformed) => self.on_malformed(malformed, transport, source),
        }
    }

    /// Advances every timer that is due.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some(key) = self.timers.pop_due(now) {
            match key {
                TimerKey::Server(k) => self.server_timeout(k, now),
                TimerKey::Client(k) => self.client_timeout(k, now),
                TimerKey::Call(c) => self.call_timeout(c, now),
            }
        }
    }

    /// Next instant [`Self::handle_timeout`] must be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.next()
    }

    /// Next message to send.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// Next event for the application.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Number of calls not yet ended (for health and shutdown).
    pub fn active_calls(&self) -> usize {
        self.calls.len()
    }

    /// Whether nothing is left in flight: no calls, and every request we sent (the BYEs of a
    /// shutdown) has its final response. Transactions lingering only to absorb retransmissions
    /// (Timer K) do not count.
    pub fn is_idle(&self) -> bool {
        self.calls.len() == 0 && self.client.values().all(|c| c.is_answered())
    }

    /// Answers a server transaction handed out in an event (REGISTER).
    pub fn respond(&mut self, handle: &RequestHandle, mut response: Response, now: Instant) {
        response
            .headers
            .push("Server", self.config.user_agent.clone());
        self.send_response(&handle.0, &response, now);
    }

    fn send_response(&mut self, key: &ServerKey, response: &Response, now: Instant) {
        let Some(entry) = self.server.get_mut(key) else {
            debug!(
                status = response.status,
                "response for a finished transaction dropped"
            );
            return;
        };
        match &mut entry.tx {
            ServerTx::Invite(tx) => tx.send_response(response, now),
            ServerTx::NonInvite(tx) => tx.send_response(response, now),
        }
        self.drain_server(key.clone(), now);
    }

    /// Moves a server transaction's output to the queues and re-arms its timer.
    fn drain_server(&mut self, key: ServerKey, now: Instant) {
        let Some(entry) = self.server.get_mut(&key) else {
            return;
        };
        loop {
            let bytes = match &mut entry.tx {
                ServerTx::Invite(tx) => tx.poll_transmit(),
                ServerTx::NonInvite(tx) => tx.poll_transmit(),
            };
            let Some(bytes) = bytes else { break };
            self.transmits.push_back(Transmit {
                transport: entry.transport,
                dest: entry.dest,
                bytes,
            });
        }
        let (terminated, wake, ack_timeout) = match &mut entry.tx {
            ServerTx::Invite(tx) => {
                let timed_out = std::iter::from_fn(|| tx.poll_event()).count() > 0;
                (tx.is_terminated(), tx.poll_timeout(), timed_out)
            }
            ServerTx::NonInvite(tx) => {
                while tx.poll_event().is_some() {}
                (tx.is_terminated(), tx.poll_timeout(), false)
            }
        };
        if ack_timeout {
            debug!("no ACK for a final error response (Timer H)");
        }
        if terminated {
            self.server.remove(&key);
            self.server.shrink_if_sparse();
        } else if let Some(at) = wake {
            self.timers.schedule(at.max(now), TimerKey::Server(key));
        }
    }

    fn server_timeout(&mut self, key: ServerKey, now: Instant) {
        if let Some(entry) = self.server.get_mut(&key) {
            match &mut entry.tx {
                ServerTx::Invite(tx) => tx.handle_timeout(now),
                ServerTx::NonInvite(tx) => tx.handle_timeout(now),
            }
            self.drain_server(key, now);
        }
    }
}

/// §18.2.1/RFC 3581: records where a request really came from in its top Via, so responses
/// reach callers behind NAT.
fn stamp_via(req: &mut Request, source: SocketAddr) {
    let Some(top) = req.headers.get("Via") else {
        return;
    };
    let Ok(mut via) = Via::parse(top) else { return };
    if via.host.ip() != Some(source.ip()) {
        via.params.set("received", Some(source.ip().to_string()));
    }
    if via.params.get("rport").is_some() {
        via.params.set("rport", Some(source.port().to_string()));
    }
    req.headers.replace_first("Via", via.to_string());
}

/// §18.2.2: where responses to a request go. Streams answer over the connection; UDP goes to
/// the source port when `rport` was asked for, else to the Via port at the source address.
fn response_dest(via: &Via, transport: Transport, source: SocketAddr) -> SocketAddr {
    if transport.reliable() || via.params.get("rport").is_some() {
        return source;
    }
    SocketAddr::new(source.ip(), via.port.unwrap_or(5060))
}

/// Random hex for tags and branches (§19.3: at least 32 bits of randomness).
pub fn random_token() -> String {
    let mut b = [0u8; 8];
    getrandom::fill(&mut b).expect("the OS random source is available");
    hex::encode(b)
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod tests_uac;
