//! INVITE client transaction (RFC 3261 §17.1.1, figure 5, as amended by RFC 6026 §7.2).
//!
//! ```text
//!                INVITE sent
//!                     |
//!   Timer A resend  Calling --Timer B--> Terminated (Timeout)
//!                     | 1xx
//!                 Proceeding
//!        300-699 /         \ 2xx
//!               v           v
//!   ACK sent  Completed    Accepted --+ 2xx retransmissions passed to TU
//!   (resent on  | Timer D    | Timer M (64*T1)
//!   each final) v            v
//!             Terminated   Terminated
//! ```
//! The ACK for a 2xx belongs to the dialog (§13.2.2.4), not to this transaction.

use std::time::{Duration, Instant};

use super::{ClientEvent, Outbox, Timers, due, earliest};
use crate::message::{Method, Request, Response, SipHeaders};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Calling,
    Proceeding,
    Completed,
    Accepted,
    Terminated,
}

/// Delivers our INVITE (to a lawyer's phone) and acknowledges error responses.
#[derive(Debug)]
pub struct ClientInvite {
    state: State,
    request: Request,
    bytes: Vec<u8>,
    timers: Timers,
    reliable: bool,
    timer_a: Option<Instant>,
    a_interval: Duration,
    timer_b: Option<Instant>,
    timer_d: Option<Instant>,
    timer_m: Option<Instant>,
    ack: Option<Vec<u8>>,
    out: Outbox<ClientEvent>,
}

impl ClientInvite {
    /// Sends the INVITE at `now` and arms Timers A (unreliable only) and B.
    pub fn new(request: Request, reliable: bool, timers: Timers, now: Instant) -> Self {
        let bytes = request.to_bytes();
        let mut out = Outbox::default();
        out.transmits.push_back(bytes.clone());
        ClientInvite {
            state: State::Calling,
            request,
            bytes,
            timers,
            reliable,
            timer_a: (!reliable).then(|| now + timers.t1),
            a_interval: timers.t1,
            timer_b: Some(now + timers.timeout()),
            timer_d: None,
            timer_m: None,
            ack: None,
            out,
        }
    }

    /// The request this transaction sends (a CANCEL is built from it, §9.1).
    pub fn request(&self) -> &Request {
        &self.request
    }

    /// Whether a provisional response has arrived (only then may a CANCEL be sent, §9.1).
    pub fn is_proceeding(&self) -> bool {
        self.state == State::Proceeding
    }

    /// A response matched this transaction.
    pub fn on_response(&mut self, response: Response, now: Instant) {
        match (self.state, response.status) {
            (State::Calling | State::Proceeding, 100..=199) => {
                self.state = State::Proceeding;
                self.timer_a = None;
                self.out.events.push_back(ClientEvent::Response(response));
            }
            (State::Calling | State::Proceeding, 200..=299) => {
                self.state = State::Accepted;
                self.timer_a = None;
                self.timer_b = None;
                self.timer_m = Some(now + self.timers.timeout());
                self.out.events.push_back(ClientEvent::Response(response));
            }
            (State::Accepted, 200..=299) => {
                self.out.events.push_back(ClientEvent::Response(response));
            }
            (State::Calling | State::Proceeding, _) => {
                let ack = self.ack_for(&response).to_bytes();
                self.out.transmits.push_back(ack.clone());
                self.ack = Some(ack);
                self.state = State::Completed;
                self.timer_a = None;
                self.timer_b = None;
                let wait = if self.reliable {
                    Duration::ZERO
                } else {
                    Duration::from_secs(32)
                };
                self.timer_d = Some(now + wait);
                self.out.events.push_back(ClientEvent::Response(response));
            }
            (State::Completed, 300..=699) => {
                if let Some(ack) = &self.ack {
                    self.out.transmits.push_back(ack.clone());
                }
            }
            _ => {}
        }
    }

    /// §17.1.1.3: the ACK for a non-2xx final response, built from our INVITE.
    fn ack_for(&self, response: &Response) -> Request {
        let mut ack = Request {
            method: Method::Ack,
            uri: self.request.uri.clone(),
            headers: Default::default(),
            body: Vec::new(),
        };
        let h = &self.request.headers;
        if let Some(via) = h.get("Via") {
            ack.headers.push("Via", via);
        }
        for route in h.get_all("Route") {
            ack.headers.push("Route", route);
        }
        for name in ["Max-Forwards", "From"] {
            if let Some(v) = h.get(name) {
                ack.headers.push(name, v);
            }
        }
        if let Some(to) = response.headers.get("To") {
            ack.headers.push("To", to);
        }
        if let Some(v) = h.get("Call-ID") {
            ack.headers.push("Call-ID", v);
        }
        let seq = self.request.cseq().map(|c| c.seq).unwrap_or(1);
        ack.headers.push("CSeq", format!("{seq} ACK"));
        ack
    }

    /// Advances timers A, B, D and M.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.state == State::Calling && due(self.timer_a, now) {
            self.out.transmits.push_back(self.bytes.clone());
            self.a_interval *= 2; // §17.1.1.2: no T2 cap for INVITE
            self.timer_a = Some(now + self.a_interval);
        }
        if matches!(self.state, State::Calling | State::Proceeding) && due(self.timer_b, now) {
            self.terminate();
            self.out.events.push_back(ClientEvent::Timeout);
        }
        if due(self.timer_d, now) || due(self.timer_m, now) {
            self.terminate();
        }
    }

    /// The transport failed to send the INVITE.
    pub fn on_transport_error(&mut self) {
        self.terminate();
        self.out.events.push_back(ClientEvent::TransportError);
    }

    fn terminate(&mut self) {
        self.state = State::Terminated;
        self.timer_a = None;
        self.timer_b = None;
        self.timer_d = None;
        self.timer_m = None;
    }

    /// Next bytes to send to the request's destination.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.out.transmits.pop_front()
    }

    /// Next event for the TU.
    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        self.out.events.pop_front()
    }

    /// When to call [`Self::handle_timeout`] next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        earliest(&[self.timer_a, self.timer_b, self.timer_d, self.timer_m])
    }

    /// Whether a final response arrived (or the transaction gave up).
    pub fn is_answered(&self) -> bool {
        matches!(
            self.state,
            State::Completed | State::Accepted | State::Terminated
        )
    }

    /// Whether the endpoint may forget this transaction.
    pub fn is_terminated(&self) -> bool {
        self.state == State::Terminated
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{request, response, sent};
    use super::*;
    use crate::message::Message;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn timer_a_doubles_without_cap_and_timer_b_times_out() {
        let t0 = Instant::now();
        let mut tx =
            ClientInvite::new(request("INVITE", "z9hG4bK-c"), false, Timers::default(), t0);
        tx.poll_transmit().unwrap();
        let mut resends = Vec::new();
        while let Some(wake) = tx.poll_timeout() {
            tx.handle_timeout(wake);
            while tx.poll_transmit().is_some() {
                resends.push((wake - t0).as_millis());
            }
            if tx.is_terminated() {
                break;
            }
        }
        assert_eq!(resends, vec![500, 1500, 3500, 7500, 15500, 31500]);
        assert_eq!(
            tx.poll_event(),
            Some(ClientEvent::Timeout),
            "Timer B at 32 s -> 408"
        );
    }

    #[test]
    fn provisional_stops_retransmission() {
        let t0 = Instant::now();
        let req = request("INVITE", "z9hG4bK-p");
        let mut tx = ClientInvite::new(req.clone(), false, Timers::default(), t0);
        tx.poll_transmit();
        tx.on_response(response(&req, 180), t0 + ms(100));
        assert!(tx.is_proceeding());
        tx.handle_timeout(t0 + ms(600));
        assert!(tx.poll_transmit().is_none());
        assert!(matches!(tx.poll_event(), Some(ClientEvent::Response(r)) if r.status == 180));
    }

    #[test]
    fn error_response_is_acked_by_the_transaction_and_again_on_retransmission() {
        let t0 = Instant::now();
        let req = request("INVITE", "z9hG4bK-e");
        let mut tx = ClientInvite::new(req.clone(), false, Timers::default(), t0);
        tx.poll_transmit();
        tx.on_response(response(&req, 486), t0);
        let Message::Request(ack) = sent(&tx.poll_transmit().unwrap()) else {
            panic!()
        };
        assert_eq!(ack.method, Method::Ack);
        assert_eq!(ack.cseq().unwrap().method, Method::Ack);
        assert_eq!(ack.top_via().unwrap().branch(), Some("z9hG4bK-e"));
        assert_eq!(ack.header_to().unwrap().tag(), Some("srv"));
        tx.on_response(response(&req, 486), t0 + ms(500));
        assert!(
            tx.poll_transmit().is_some(),
            "ACK resent for retransmitted final"
        );
        tx.handle_timeout(t0 + ms(32_000));
        assert!(tx.is_terminated(), "Timer D");
    }

    #[test]
    fn accepted_passes_2xx_retransmissions_until_timer_m() {
        let t0 = Instant::now();
        let req = request("INVITE", "z9hG4bK-m");
        let mut tx = ClientInvite::new(req.clone(), true, Timers::default(), t0);
        tx.poll_transmit();
        tx.on_response(response(&req, 200), t0);
        tx.on_response(response(&req, 200), t0 + ms(500));
        assert_eq!(
            tx.poll_event().into_iter().chain(tx.poll_event()).count(),
            2
        );
        assert!(tx.poll_transmit().is_none(), "2xx ACK is the dialog's job");
        tx.handle_timeout(t0 + ms(32_000));
        assert!(tx.is_terminated());
    }
}
