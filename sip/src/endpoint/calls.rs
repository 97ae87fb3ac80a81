//! Calls and their life: answering incoming INVITEs, the 2xx retransmission the UAS core owns
//! (§13.3.1.4), re-INVITEs, hang-up in both directions. Outgoing INVITEs are in `uac`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tracing::{debug, info};

use super::timers::TimerKey;
use super::{EndReason, Endpoint, Event, ServerTx, Transmit, Transport};
use crate::dialog::Dialog;
use crate::message::{Method, Request, Response, SipHeaders};
use crate::shrink::ShrinkSparse;
use crate::transaction::ServerKey;

/// The application's name for a call; stable for the call's life and never reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CallHandle(pub u64);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum CallState {
    /// INVITE received, not answered.
    Offered,
    /// Our INVITE sent, not answered.
    Calling,
    /// 2xx sent, waiting for the ACK.
    Answered,
    /// ACK received.
    Confirmed,
}

/// §13.3.1.4: the 2xx is resent from T1 doubling to T2 until the ACK, for at most 64*T1.
#[derive(Debug)]
pub(super) struct OkRetransmit {
    bytes: Vec<u8>,
    cseq: u32,
    next: Instant,
    interval: Duration,
    give_up: Instant,
}

#[derive(Debug)]
pub(super) struct Call {
    pub(super) state: CallState,
    pub(super) local_tag: String,
    pub(super) call_id: String,
    pub(super) transport: Transport,
    pub(super) peer: SocketAddr,
    /// The INVITE (initial or re-INVITE) waiting for our answer.
    pub(super) pending_invite: Option<(ServerKey, Box<Request>)>,
    pub(super) dialog: Option<Dialog>,
    pub(super) ok_retransmit: Option<OkRetransmit>,
}

/// Every live call, by handle and by (Call-ID, our tag) for in-dialog requests.
#[derive(Debug, Default)]
pub(super) struct Calls {
    by_handle: HashMap<CallHandle, Call>,
    by_dialog: HashMap<(String, String), CallHandle>,
    next: u64,
}

impl Calls {
    pub(super) fn len(&self) -> usize {
        self.by_handle.len()
    }

    pub(super) fn insert(&mut self, call: Call) -> CallHandle {
        self.next += 1;
        let handle = CallHandle(self.next);
        self.by_dialog
            .insert((call.call_id.clone(), call.local_tag.clone()), handle);
        self.by_handle.insert(handle, call);
        handle
    }

    pub(super) fn get_mut(&mut self, h: CallHandle) -> Option<&mut Call> {
        self.by_handle.get_mut(&h)
    }

    pub(super) fn find(&self, call_id: &str, local_tag: &str) -> Option<CallHandle> {
        self.by_dialog
            .get(&(call_id.to_owned(), local_tag.to_owned()))
            .copied()
    }

    /// Handle of the call an INVITE with this Call-ID and From tag already created (merged
    /// request detection, §8.2.2.2).
    pub(super) fn find_by_remote(&self, call_id: &str, remote_tag: &str) -> Option<CallHandle> {
        self.by_handle
            .iter()
            .find(|(_, c)| {
                c.call_id == call_id
                    && c.pending_invite.as_ref().is_some_and(|(_, r)| {
                        r.header_from()
                            .ok()
                            .and_then(|f| f.tag().map(str::to_owned))
                            .as_deref()
                            == Some(remote_tag)
                    })
            })
            .map(|(h, _)| *h)
    }

    pub(super) fn remove(&mut self, h: CallHandle) -> Option<Call> {
        let call = self.by_handle.remove(&h)?;
        self.by_dialog
            .remove(&(call.call_id.clone(), call.local_tag.clone()));
        self.by_handle.shrink_if_sparse();
        self.by_dialog.shrink_if_sparse();
        Some(call)
    }

    pub(super) fn handles(&self) -> Vec<CallHandle> {
        self.by_handle.keys().copied().collect()
    }
}

impl Endpoint {
    /// Sends a provisional response (180 Ringing, 183) for a call not yet answered.
    pub fn ring(&mut self, call: CallHandle, status: u16, now: Instant) {
        let Some(c) = self.calls.by_handle.get(&call) else {
            return;
        };
        let Some((key, invite)) = c.pending_invite.clone() else {
            return;
        };
        let mut resp = invite.response(status, Some(&c.local_tag));
        resp.headers.push("Contact", self.contact(c.transport));
        self.send_response(&key, &resp, now);
    }

    /// Answers the pending INVITE or re-INVITE of a call with 200 OK and our SDP.
    pub fn answer(&mut self, call: CallHandle, sdp: Vec<u8>, now: Instant) {
        let Some(c) = self.calls.by_handle.get(&call) else {
            return;
        };
        let contact = self.contact(c.transport);
        let ua = self.config.user_agent.clone();
        let t1 = self.config.timers.t1;
        let give_up = now + self.config.timers.timeout();
        let Some(c) = self.calls.get_mut(call) else {
            return;
        };
        let Some((key, invite)) = c.pending_invite.take() else {
            return;
        };
        let mut resp = invite.response(200, Some(&c.local_tag));
        resp.headers.push("Contact", contact);
        resp.headers.push("Allow", super::ALLOW);
        resp.headers.push("Server", ua);
        let resp = resp.with_body("application/sdp", sdp);
        if c.dialog.is_none() {
            match Dialog::as_uas(&invite, &c.local_tag) {
                Ok(d) => c.dialog = Some(d),
                Err(e) => debug!(error = %e, "dialog not created"),
            }
        } else if let Some(d) = c.dialog.as_mut() {
            d.refresh_target(&invite);
        }
        c.state = if c.state == CallState::Offered {
            CallState::Answered
        } else {
            c.state
        };
        c.ok_retransmit = Some(OkRetransmit {
            bytes: resp.to_bytes(),
            cseq: invite.cseq().map(|s| s.seq).unwrap_or(0),
            next: now + t1,
            interval: t1,
            give_up,
        });
        self.timers.schedule(now + t1, TimerKey::Call(call));
        self.send_response(&key, &resp, now);
    }

    /// Rejects the call's pending INVITE (486, 480, 488, 503...). A rejected initial INVITE
    /// ends the call; a rejected re-INVITE leaves the call as it was (§14.2).
    pub fn reject(&mut self, call: CallHandle, status: u16, now: Instant) {
        let Some(c) = self.calls.get_mut(call) else {
            return;
        };
        let Some((key, invite)) = c.pending_invite.take() else {
            return;
        };
        let resp = invite.response(status, Some(&c.local_tag));
        let initial = c.state == CallState::Offered;
        self.send_response(&key, &resp, now);
        if initial {
            self.end_call(call, EndReason::Rejected(status));
        }
    }

    /// Hangs up: BYE for an answered call, 480 for one still ringing.
    pub fn hangup(&mut self, call: CallHandle, now: Instant) {
        let Some(c) = self.calls.get_mut(call) else {
            return;
        };
        match c.state {
            CallState::Offered => return self.reject(call, 480, now),
            CallState::Calling => return self.cancel_outgoing(call, now),
            CallState::Answered | CallState::Confirmed => {}
        }
        let (transport, peer) = (c.transport, c.peer);
        if let Some(mut dialog) = c.dialog.take() {
            self.send_in_dialog(&mut dialog, Method::Bye, transport, peer, now);
        }
        self.end_call(call, EndReason::LocalHangup);
    }

    /// Hangs up every call (shutdown).
    pub fn hangup_all(&mut self, now: Instant) {
        for h in self.calls.handles() {
            self.hangup(h, now);
        }
    }

    pub(super) fn end_call(&mut self, call: CallHandle, reason: EndReason) {
        if let Some(c) = self.calls.remove(call) {
            info!(call_id = %c.call_id, ?reason, "call ended");
            self.events.push_back(Event::CallEnded { call, reason });
        }
    }

    /// ACK for our 2xx (it matches the dialog, not a transaction, §17.2.3).
    pub(super) fn on_dialog_ack(&mut self, call: CallHandle, ack: &Request) {
        let Some(c) = self.calls.get_mut(call) else {
            return;
        };
        let seq = ack.cseq().map(|s| s.seq).ok();
        if c.ok_retransmit
            .as_ref()
            .is_some_and(|r| Some(r.cseq) == seq)
        {
            c.ok_retransmit = None;
        }
        if c.state == CallState::Answered {
            c.state = CallState::Confirmed;
            self.events.push_back(Event::CallConfirmed { call });
        }
    }

    pub(super) fn call_timeout(&mut self, call: CallHandle, now: Instant) {
        let t2 = self.config.timers.t2;
        let Some(c) = self.calls.get_mut(call) else {
            return;
        };
        let Some(r) = c.ok_retransmit.as_mut() else {
            return;
        };
        if r.give_up <= now {
            c.ok_retransmit = None;
            info!(call_id = %c.call_id, "no ACK for 200 OK within 64*T1, hanging up");
            let (transport, peer) = (c.transport, c.peer);
            if let Some(mut dialog) = c.dialog.take() {
                self.send_in_dialog(&mut dialog, Method::Bye, transport, peer, now);
            }
            self.end_call(call, EndReason::NoAck);
            return;
        }
        if r.next <= now {
            if !c.transport.reliable() {
                self.transmits.push_back(Transmit {
                    transport: c.transport,
                    dest: c.peer,
                    bytes: r.bytes.clone(),
                });
            }
            r.interval = (r.interval * 2).min(t2);
            r.next = now + r.interval;
        }
        let wake = r.next.min(r.give_up);
        self.timers.schedule(wake, TimerKey::Call(call));
    }

    /// A CANCEL matched the INVITE transaction of a call (§9.2).
    pub(super) fn cancel_invite(&mut self, invite_key: &ServerKey, now: Instant) {
        let Some(entry) = self.server.get(invite_key) else {
            return;
        };
        let already_final = match &entry.tx {
            ServerTx::Invite(tx) => tx.has_final(),
            ServerTx::NonInvite(_) => true,
        };
        let Some(call) = entry.call else { return };
        if already_final {
            return; // the CANCEL lost the race against our answer: only the 200 to it is sent
        }
        let Some(c) = self.calls.get_mut(call) else {
            return;
        };
        let Some((key, invite)) = c.pending_invite.take() else {
            return;
        };
        let resp = invite.response(487, Some(&c.local_tag));
        self.send_response(&key, &resp, now);
        self.end_call(call, EndReason::Cancelled);
    }

    /// Our Contact: where the peer sends in-dialog requests.
    pub(super) fn contact(&self, transport: Transport) -> String {
        match transport {
            Transport::Udp => format!("<sip:hotline@{}>", self.config.advertised),
            Transport::Tcp => format!("<sip:hotline@{};transport=tcp>", self.config.advertised),
        }
    }

    /// Builds a response with our tag for in-dialog requests and stateless answers.
    pub(super) fn simple_response(&self, req: &Request, status: u16) -> Response {
        let tag = req
            .header_to()
            .ok()
            .and_then(|t| t.tag().map(str::to_owned))
            .unwrap_or_else(super::random_token);
        let mut resp = req.response(status, Some(&tag));
        resp.headers.push("Server", self.config.user_agent.clone());
        resp
    }
}
