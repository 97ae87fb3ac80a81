//! Non-INVITE client transaction (RFC 3261 §17.1.2, figure 6): BYE, OPTIONS, CANCEL, INFO we send.
//!
//! ```text
//!        request sent
//!             |
//!   Timer E Trying --Timer F / transport error--> Terminated
//!   resend    | 1xx              | 200-699
//!         Proceeding --200-699-->+
//!  (Timer E at T2)               v
//!                            Completed --Timer K (T4 unreliable, 0 reliable)--> Terminated
//! ```

use std::time::{Duration, Instant};

use super::{ClientEvent, Outbox, Timers, due, earliest};
use crate::message::{Request, Response};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Trying,
    Proceeding,
    Completed,
    Terminated,
}

/// Delivers one non-INVITE request with retransmissions and a hard 64*T1 deadline.
#[derive(Debug)]
pub struct ClientNonInvite {
    state: State,
    bytes: Vec<u8>,
    timers: Timers,
    reliable: bool,
    timer_e: Option<Instant>,
    e_interval: Duration,
    timer_f: Option<Instant>,
    timer_k: Option<Instant>,
    out: Outbox<ClientEvent>,
}

impl ClientNonInvite {
    /// Sends the request at `now`.
    pub fn new(request: &Request, reliable: bool, timers: Timers, now: Instant) -> Self {
        let bytes = request.to_bytes();
        let mut out = Outbox::default();
        out.transmits.push_back(bytes.clone());
        ClientNonInvite {
            state: State::Trying,
            bytes,
            timers,
            reliable,
            timer_e: (!reliable).then(|| now + timers.t1),
            e_interval: timers.t1,
            timer_f: Some(now + timers.timeout()),
            timer_k: None,
            out,
        }
    }

    /// A response matched this transaction.
    pub fn on_response(&mut self, response: Response, now: Instant) {
        match (self.state, response.is_final()) {
            (State::Trying | State::Proceeding, false) => {
                self.state = State::Proceeding;
                self.out.events.push_back(ClientEvent::Response(response));
            }
            (State::Trying | State::Proceeding, true) => {
                self.state = State::Completed;
                self.timer_e = None;
                self.timer_f = None;
                let wait = if self.reliable {
                    Duration::ZERO
                } else {
                    self.timers.t4
                };
                self.timer_k = Some(now + wait);
                self.out.events.push_back(ClientEvent::Response(response));
            }
            _ => {} // retransmitted finals are absorbed in Completed
        }
    }

    /// Advances timers E, F and K.
    pub fn handle_timeout(&mut self, now: Instant) {
        if matches!(self.state, State::Trying | State::Proceeding) {
            if due(self.timer_f, now) {
                self.terminate();
                self.out.events.push_back(ClientEvent::Timeout);
                return;
            }
            if due(self.timer_e, now) {
                self.out.transmits.push_back(self.bytes.clone());
                self.e_interval = if self.state == State::Proceeding {
                    self.timers.t2
                } else {
                    (self.e_interval * 2).min(self.timers.t2)
                };
                self.timer_e = Some(now + self.e_interval);
            }
        }
        if due(self.timer_k, now) {
            self.terminate();
        }
    }

    /// The transport failed.
    pub fn on_transport_error(&mut self) {
        self.terminate();
        self.out.events.push_back(ClientEvent::TransportError);
    }

    fn terminate(&mut self) {
        self.state = State::Terminated;
        self.timer_e = None;
        self.timer_f = None;
        self.timer_k = None;
    }

    /// Next bytes to send.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.out.transmits.pop_front()
    }

    /// Next event for the TU.
    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        self.out.events.pop_front()
    }

    /// When to call [`Self::handle_timeout`] next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        earliest(&[self.timer_e, self.timer_f, self.timer_k])
    }

    /// Whether a final response arrived (or the transaction gave up): nothing more to wait for.
    pub fn is_answered(&self) -> bool {
        matches!(self.state, State::Completed | State::Terminated)
    }

    /// Whether the endpoint may forget this transaction.
    pub fn is_terminated(&self) -> bool {
        self.state == State::Terminated
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{request, response};
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn run(tx: &mut ClientNonInvite, t0: Instant, until: Duration) -> Vec<u128> {
        let mut resends = Vec::new();
        while let Some(wake) = tx.poll_timeout() {
            if wake > t0 + until {
                break;
            }
            tx.handle_timeout(wake);
            while tx.poll_transmit().is_some() {
                resends.push((wake - t0).as_millis());
            }
            if tx.is_terminated() {
                break;
            }
        }
        resends
    }

    #[test]
    fn timer_e_doubles_to_t2_then_timer_f() {
        let t0 = Instant::now();
        let mut tx =
            ClientNonInvite::new(&request("BYE", "z9hG4bK-1"), false, Timers::default(), t0);
        tx.poll_transmit().unwrap();
        let resends = run(&mut tx, t0, ms(40_000));
        assert_eq!(&resends[..5], &[500, 1500, 3500, 7500, 11500]);
        assert_eq!(resends.last(), Some(&31500));
        assert_eq!(
            tx.poll_event(),
            Some(ClientEvent::Timeout),
            "Timer F -> 408"
        );
    }

    #[test]
    fn proceeding_resends_every_t2() {
        let t0 = Instant::now();
        let req = request("OPTIONS", "z9hG4bK-2");
        let mut tx = ClientNonInvite::new(&req, false, Timers::default(), t0);
        tx.poll_transmit();
        tx.on_response(response(&req, 100), t0 + ms(100));
        let resends = run(&mut tx, t0, ms(10_000));
        assert_eq!(resends, vec![500, 4500, 8500]);
    }

    #[test]
    fn final_response_then_timer_k() {
        let t0 = Instant::now();
        let req = request("BYE", "z9hG4bK-3");
        let mut tx = ClientNonInvite::new(&req, false, Timers::default(), t0);
        tx.poll_transmit();
        tx.on_response(response(&req, 200), t0 + ms(10));
        tx.on_response(response(&req, 200), t0 + ms(20));
        assert!(matches!(tx.poll_event(), Some(ClientEvent::Response(_))));
        assert!(tx.poll_event().is_none(), "retransmitted final absorbed");
        assert_eq!(tx.poll_timeout(), Some(t0 + ms(5010)), "Timer K = T4");
        tx.handle_timeout(t0 + ms(5010));
        assert!(tx.is_terminated());
    }

    #[test]
    fn tcp_has_no_retransmissions() {
        let t0 = Instant::now();
        let mut tx =
            ClientNonInvite::new(&request("BYE", "z9hG4bK-4"), true, Timers::default(), t0);
        tx.poll_transmit();
        assert_eq!(run(&mut tx, t0, ms(40_000)), Vec::<u128>::new());
        assert_eq!(tx.poll_event(), Some(ClientEvent::Timeout));
    }
}
