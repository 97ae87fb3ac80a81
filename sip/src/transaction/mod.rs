//! RFC 3261 §17 transactions as sans-IO state machines, with the RFC 6026 Accepted states.
//!
//! Each machine is fed messages and the current time, and is polled for bytes to transmit, for
//! events for its transaction user, and for the next instant it wants to be woken. None of them
//! reads a clock or touches a socket, so tests step them through fake time.
//!
//! The machines do not know where to send: the endpoint pairs each one with its destination
//! (the request's target, or the response address from the top Via, §18.2.2).

mod client_invite;
mod client_non_invite;
mod server_invite;
mod server_non_invite;

use std::collections::VecDeque;
use std::time::{Duration, Instant};

pub use client_invite::ClientInvite;
pub use client_non_invite::ClientNonInvite;
pub use server_invite::ServerInvite;
pub use server_non_invite::ServerNonInvite;

use crate::message::{Method, Request, Response, SipHeaders};

/// Timer base values (RFC 3261 §17.1.1.1, table 4). Tunable because a hotline on a carrier trunk
/// may be told to use a larger T1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timers {
    /// RTT estimate, 500 ms by default.
    pub t1: Duration,
    /// Longest retransmit interval for non-INVITE requests and INVITE responses, 4 s.
    pub t2: Duration,
    /// Longest time a message stays in the network, 5 s.
    pub t4: Duration,
}

impl Default for Timers {
    fn default() -> Self {
        Timers {
            t1: Duration::from_millis(500),
            t2: Duration::from_secs(4),
            t4: Duration::from_secs(5),
        }
    }
}

impl Timers {
    /// 64*T1: Timers B, F, H, J (unreliable), L and M.
    pub fn timeout(&self) -> Duration {
        self.t1 * 64
    }
}

/// What a client transaction tells its transaction user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientEvent {
    /// A response to pass up (provisional, final, or a retransmitted 2xx in Accepted).
    Response(Response),
    /// Timer B or F fired: the TU treats this as a 408 (§8.1.3.1).
    Timeout,
    /// The transport failed (§8.1.3.1: treat as 503).
    TransportError,
}

/// What a server transaction tells its transaction user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerEvent {
    /// Timer H fired: no ACK arrived for our final non-2xx response (§17.2.1).
    AckTimeout,
    /// The transport could not deliver a response (§17.2.4).
    TransportError,
}

/// Matching key for server transactions (§17.2.3): branch, sent-by and method, with ACK folded
/// into INVITE. Requests from RFC 2543 peers (no magic cookie) fall back to the dialog fields.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ServerKey {
    branch: String,
    sent_by: String,
    method: Method,
}

impl ServerKey {
    /// Computes the key of the transaction a request belongs to.
    pub fn of(req: &Request) -> Option<ServerKey> {
        let via = req.top_via().ok()?;
        let method = match &req.method {
            Method::Ack => Method::Invite,
            m => m.clone(),
        };
        let sent_by = format!("{}:{}", via.host, via.port.unwrap_or(5060)).to_ascii_lowercase();
        let branch = match via.branch() {
            Some(b) if b.starts_with("z9hG4bK") => b.to_owned(),
            _ => {
                // RFC 2543 matching (§17.2.3, simplified): the dialog-identifying fields.
                let cseq = req.cseq().ok()?;
                let from_tag = req.header_from().ok()?.tag().map(str::to_owned);
                format!(
                    "2543:{}:{}:{}:{}",
                    req.call_id().ok()?,
                    cseq.seq,
                    from_tag.unwrap_or_default(),
                    req.uri
                )
            }
        };
        Some(ServerKey {
            branch,
            sent_by,
            method,
        })
    }

    /// The key of the INVITE transaction a CANCEL targets (§9.2: same branch, method INVITE).
    pub fn invite_of_cancel(cancel: &Request) -> Option<ServerKey> {
        let mut key = ServerKey::of(cancel)?;
        key.method = Method::Invite;
        Some(key)
    }
}

/// Matching key for client transactions (§17.1.3): the branch we generated and the CSeq method.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClientKey {
    branch: String,
    method: Method,
}

impl ClientKey {
    /// Key of a response (or of the request we send).
    pub fn of(msg: &impl SipHeaders) -> Option<ClientKey> {
        let via = msg.top_via().ok()?;
        Some(ClientKey {
            branch: via.branch()?.to_owned(),
            method: msg.cseq().ok()?.method,
        })
    }
}

/// Outputs every machine queues, drained by the endpoint.
#[derive(Debug)]
struct Outbox<E> {
    transmits: VecDeque<Vec<u8>>,
    events: VecDeque<E>,
}

impl<E> Default for Outbox<E> {
    fn default() -> Self {
        Outbox {
            transmits: VecDeque::new(),
            events: VecDeque::new(),
        }
    }
}

/// Earliest of a set of optional deadlines.
fn earliest(deadlines: &[Option<Instant>]) -> Option<Instant> {
    deadlines.iter().flatten().min().copied()
}

/// Whether an optional deadline has passed.
fn due(deadline: Option<Instant>, now: Instant) -> bool {
    deadline.is_some_and(|d| d <= now)
}

#[cfg(test)]
pub(crate) mod test_support {
    use crate::message::{Message, Request, Response, parse_message};

    /// A request as SIPp would send it, for the state machine tests.
    pub fn request(method: &str, branch: &str) -> Request {
        let text = format!(
            "{method} sip:12348@127.0.0.1 SIP/2.0\r\n\
Via: SIP/2.0/UDP 127.0.0.1:5061;branch={branch}\r\n\
From: <sip:caller@127.0.0.1>;tag=f\r\n\
To: <sip:12348@127.0.0.1>\r\n\
Call-ID: tx-test\r\n\
CSeq: 1 {method}\r\n\
Content-Length: 0\r\n\r\n"
        );
        match parse_message(text.as_bytes()).unwrap() {
            Message::Request(r) => r,
            Message::Response(_) => unreachable!(),
        }
    }

    /// A response to `req` with a To tag.
    pub fn response(req: &Request, status: u16) -> Response {
        req.response(status, Some("srv"))
    }

    /// Parses transmitted bytes back to check what went out.
    pub fn sent(bytes: &[u8]) -> Message {
        parse_message(bytes).unwrap()
    }
}
