//! Non-INVITE server transaction (RFC 3261 §17.2.2, figure 8).
//!
//! ```text
//!            request received, pass to TU
//!                     |
//!                  Trying --1xx from TU--> Proceeding --+ request: resend 1xx
//!                     |                        |        |
//!         final from TU                  final from TU
//!                     v                        v
//!                  Completed  <-- request: resend final response
//!                     | Timer J (64*T1 unreliable, 0 reliable)
//!                  Terminated
//! ```

use std::time::Instant;

use super::{Outbox, ServerEvent, Timers, due, earliest};
use crate::message::Response;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Trying,
    Proceeding,
    Completed,
    Terminated,
}

/// Absorbs retransmitted requests and retransmits our last response until it is safe to forget.
#[derive(Debug)]
pub struct ServerNonInvite {
    state: State,
    reliable: bool,
    timers: Timers,
    last_response: Option<Vec<u8>>,
    timer_j: Option<Instant>,
    out: Outbox<ServerEvent>,
}

impl ServerNonInvite {
    /// Starts in Trying; the request has already been passed to the TU by the endpoint.
    pub fn new(reliable: bool, timers: Timers) -> Self {
        ServerNonInvite {
            state: State::Trying,
            reliable,
            timers,
            last_response: None,
            timer_j: None,
            out: Outbox::default(),
        }
    }

    /// A retransmission of the request arrived: resend the last response, if any.
    pub fn on_retransmission(&mut self) {
        if matches!(self.state, State::Proceeding | State::Completed)
            && let Some(r) = &self.last_response
        {
            self.out.transmits.push_back(r.clone());
        }
    }

    /// The TU answers. Responses after the final one are ignored (§17.2.2).
    pub fn send_response(&mut self, response: &Response, now: Instant) {
        if matches!(self.state, State::Completed | State::Terminated) {
            return;
        }
        let bytes = response.to_bytes();
        self.out.transmits.push_back(bytes.clone());
        self.last_response = Some(bytes);
        if response.is_final() {
            self.state = State::Completed;
            let wait = if self.reliable {
                std::time::Duration::ZERO
            } else {
                self.timers.timeout()
            };
            self.timer_j = Some(now + wait);
        } else {
            self.state = State::Proceeding;
        }
    }

    /// Advances timers.
    pub fn handle_timeout(&mut self, now: Instant) {
        if due(self.timer_j, now) {
            self.timer_j = None;
            self.state = State::Terminated;
        }
    }

    /// The transport failed to send our response.
    pub fn on_transport_error(&mut self) {
        self.state = State::Terminated;
        self.out.events.push_back(ServerEvent::TransportError);
    }

    /// Next bytes to send to the response address.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.out.transmits.pop_front()
    }

    /// Next event for the TU.
    pub fn poll_event(&mut self) -> Option<ServerEvent> {
        self.out.events.pop_front()
    }

    /// When to call [`Self::handle_timeout`] next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        earliest(&[self.timer_j])
    }

    /// Whether the endpoint may forget this transaction.
    pub fn is_terminated(&self) -> bool {
        self.state == State::Terminated
    }

    /// Whether the TU has already sent a final response.
    pub fn has_final(&self) -> bool {
        matches!(self.state, State::Completed | State::Terminated)
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{request, response};
    use super::*;
    use std::time::Duration;

    #[test]
    fn retransmissions_get_the_last_response_until_timer_j() {
        let t0 = Instant::now();
        let req = request("OPTIONS", "z9hG4bK-o");
        let mut tx = ServerNonInvite::new(false, Timers::default());
        tx.on_retransmission();
        assert!(tx.poll_transmit().is_none(), "nothing to resend in Trying");
        tx.send_response(&response(&req, 200), t0);
        assert!(tx.poll_transmit().is_some());
        tx.on_retransmission();
        assert!(tx.poll_transmit().is_some(), "final resent in Completed");
        assert_eq!(tx.poll_timeout(), Some(t0 + Duration::from_secs(32)));
        tx.handle_timeout(t0 + Duration::from_secs(31));
        assert!(!tx.is_terminated());
        tx.handle_timeout(t0 + Duration::from_secs(32));
        assert!(tx.is_terminated());
    }

    #[test]
    fn provisional_then_final_and_late_responses_ignored() {
        let t0 = Instant::now();
        let req = request("REGISTER", "z9hG4bK-r");
        let mut tx = ServerNonInvite::new(false, Timers::default());
        tx.send_response(&response(&req, 100), t0);
        tx.poll_transmit().unwrap();
        tx.on_retransmission();
        assert!(tx.poll_transmit().is_some(), "1xx resent in Proceeding");
        tx.send_response(&response(&req, 200), t0);
        tx.poll_transmit().unwrap();
        tx.send_response(&response(&req, 500), t0);
        assert!(tx.poll_transmit().is_none());
    }

    #[test]
    fn reliable_transport_terminates_at_once() {
        let t0 = Instant::now();
        let req = request("BYE", "z9hG4bK-b");
        let mut tx = ServerNonInvite::new(true, Timers::default());
        tx.send_response(&response(&req, 200), t0);
        tx.handle_timeout(t0);
        assert!(tx.is_terminated());
    }
}
