//! INVITE server transaction (RFC 3261 §17.2.1, figure 7, as amended by RFC 6026 §7.1).
//!
//! ```text
//!                 INVITE, pass to TU
//!                        |
//!                   Proceeding --+ INVITE: resend last 1xx
//!          300-699 /     |    \ 2xx from TU
//!                 v      |     v
//!          Completed     |   Accepted --+ INVITE absorbed; 2xx from TU sent
//!   (Timer G resend,     |     | Timer L (64*T1)
//!    Timer H give up)    |     v
//!                 | ACK  |   Terminated
//!                 v
//!           Confirmed -- Timer I (T4 unreliable, 0 reliable) --> Terminated
//! ```
//! The 2xx itself is retransmitted by the UAS core until the ACK arrives (§13.3.1.4), not here.

use std::time::{Duration, Instant};

use super::{Outbox, ServerEvent, Timers, due, earliest};
use crate::message::Response;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Proceeding,
    Completed,
    Confirmed,
    Accepted,
    Terminated,
}

/// Keeps a caller's INVITE retransmissions from reaching the IVR twice and makes sure an error
/// response reaches the caller over UDP.
#[derive(Debug)]
pub struct ServerInvite {
    state: State,
    reliable: bool,
    timers: Timers,
    last_response: Option<Vec<u8>>,
    timer_g: Option<Instant>,
    g_interval: Duration,
    timer_h: Option<Instant>,
    timer_i: Option<Instant>,
    timer_l: Option<Instant>,
    out: Outbox<ServerEvent>,
}

impl ServerInvite {
    /// Starts in Proceeding; the endpoint passes the INVITE to the TU.
    pub fn new(reliable: bool, timers: Timers) -> Self {
        ServerInvite {
            state: State::Proceeding,
            reliable,
            timers,
            last_response: None,
            timer_g: None,
            g_interval: timers.t1,
            timer_h: None,
            timer_i: None,
            timer_l: None,
            out: Outbox::default(),
        }
    }

    /// A retransmitted INVITE: resend the last provisional or final response, or absorb it.
    pub fn on_retransmission(&mut self) {
        if matches!(self.state, State::Proceeding | State::Completed)
            && let Some(r) = &self.last_response
        {
            self.out.transmits.push_back(r.clone());
        }
    }

    /// An ACK matched this transaction: it acknowledges our non-2xx final response.
    pub fn on_ack(&mut self, now: Instant) {
        if self.state == State::Completed {
            self.state = State::Confirmed;
            self.timer_g = None;
            self.timer_h = None;
            let wait = if self.reliable {
                Duration::ZERO
            } else {
                self.timers.t4
            };
            self.timer_i = Some(now + wait);
        }
    }

    /// The TU responds.
    pub fn send_response(&mut self, response: &Response, now: Instant) {
        let bytes = response.to_bytes();
        match (self.state, response.status) {
            (State::Proceeding, 100..=199) => {
                self.out.transmits.push_back(bytes.clone());
                self.last_response = Some(bytes);
            }
            (State::Proceeding, 200..=299) => {
                self.out.transmits.push_back(bytes);
                self.state = State::Accepted;
                self.timer_l = Some(now + self.timers.timeout());
            }
            // RFC 6026 §7.1: 2xx retransmissions from the TU pass through in Accepted.
            (State::Accepted, 200..=299) => self.out.transmits.push_back(bytes),
            (State::Proceeding, _) => {
                self.out.transmits.push_back(bytes.clone());
                self.last_response = Some(bytes);
                self.state = State::Completed;
                if !self.reliable {
                    self.timer_g = Some(now + self.g_interval);
                }
                self.timer_h = Some(now + self.timers.timeout());
            }
            _ => {}
        }
    }

    /// Advances timers G, H, I and L.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.state == State::Completed && due(self.timer_g, now) {
            if let Some(r) = &self.last_response {
                self.out.transmits.push_back(r.clone());
            }
            self.g_interval = (self.g_interval * 2).min(self.timers.t2);
            self.timer_g = Some(now + self.g_interval);
        }
        if self.state == State::Completed && due(self.timer_h, now) {
            self.terminate();
            self.out.events.push_back(ServerEvent::AckTimeout);
        }
        if due(self.timer_i, now) || due(self.timer_l, now) {
            self.terminate();
        }
    }

    /// The transport failed.
    pub fn on_transport_error(&mut self) {
        self.terminate();
        self.out.events.push_back(ServerEvent::TransportError);
    }

    fn terminate(&mut self) {
        self.state = State::Terminated;
        self.timer_g = None;
        self.timer_h = None;
        self.timer_i = None;
        self.timer_l = None;
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
        earliest(&[self.timer_g, self.timer_h, self.timer_i, self.timer_l])
    }

    /// Whether the endpoint may forget this transaction.
    pub fn is_terminated(&self) -> bool {
        self.state == State::Terminated
    }

    /// Whether a final response was sent (a CANCEL then gets only its own 200, §9.2).
    pub fn has_final(&self) -> bool {
        !matches!(self.state, State::Proceeding)
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
    fn retransmitted_invite_gets_last_provisional() {
        let t0 = Instant::now();
        let req = request("INVITE", "z9hG4bK-i");
        let mut tx = ServerInvite::new(false, Timers::default());
        tx.send_response(&response(&req, 100), t0);
        assert!(tx.poll_transmit().is_some());
        tx.on_retransmission();
        match sent(&tx.poll_transmit().unwrap()) {
            Message::Response(r) => assert_eq!(r.status, 100),
            Message::Request(_) => panic!(),
        }
    }

    #[test]
    fn error_response_retransmitted_with_timer_g_until_ack() {
        let t0 = Instant::now();
        let req = request("INVITE", "z9hG4bK-g");
        let mut tx = ServerInvite::new(false, Timers::default());
        tx.send_response(&response(&req, 486), t0);
        tx.poll_transmit().unwrap();
        // G fires at 0.5, 1.5, 3.5, 7.5, 11.5 s: doubling, capped at T2 = 4 s.
        let mut at = Vec::new();
        while let Some(wake) = tx.poll_timeout() {
            if wake > t0 + ms(12_000) {
                break;
            }
            tx.handle_timeout(wake);
            if tx.poll_transmit().is_some() {
                at.push((wake - t0).as_millis());
            }
        }
        assert_eq!(at, vec![500, 1500, 3500, 7500, 11500]);
        tx.on_ack(t0 + ms(12_000));
        assert_eq!(tx.poll_timeout(), Some(t0 + ms(17_000)), "Timer I = T4");
        tx.handle_timeout(t0 + ms(17_000));
        assert!(tx.is_terminated());
        assert!(tx.poll_event().is_none());
    }

    #[test]
    fn timer_h_gives_up_without_ack() {
        let t0 = Instant::now();
        let req = request("INVITE", "z9hG4bK-h");
        let mut tx = ServerInvite::new(true, Timers::default());
        tx.send_response(&response(&req, 487), t0);
        assert_eq!(
            tx.poll_timeout(),
            Some(t0 + ms(32_000)),
            "no Timer G on TCP"
        );
        tx.handle_timeout(t0 + ms(32_000));
        assert!(tx.is_terminated());
        assert_eq!(tx.poll_event(), Some(ServerEvent::AckTimeout));
    }

    #[test]
    fn accepted_absorbs_invites_and_passes_2xx_retransmissions() {
        let t0 = Instant::now();
        let req = request("INVITE", "z9hG4bK-a");
        let mut tx = ServerInvite::new(false, Timers::default());
        tx.send_response(&response(&req, 200), t0);
        tx.poll_transmit().unwrap();
        tx.on_retransmission();
        assert!(tx.poll_transmit().is_none(), "INVITE absorbed in Accepted");
        tx.send_response(&response(&req, 200), t0 + ms(500));
        assert!(
            tx.poll_transmit().is_some(),
            "TU's 2xx retransmission passes"
        );
        assert_eq!(tx.poll_timeout(), Some(t0 + ms(32_000)), "Timer L");
        tx.handle_timeout(t0 + ms(32_000));
        assert!(tx.is_terminated());
    }
}
