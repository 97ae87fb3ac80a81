//! Requests we originate: client transactions (BYE, CANCEL, our INVITEs) and outgoing calls to
//! lawyers' phones, including the ACK for a 2xx that belongs to the dialog (§13.2.2.4) and the
//! CANCEL rules of §9.1.

use std::net::SocketAddr;
use std::time::Instant;

use tracing::{debug, info};

use super::calls::{Call, CallState};
use super::timers::TimerKey;
use super::{CallHandle, EndReason, Endpoint, Event, Transmit, Transport, random_token};
use crate::dialog::Dialog;
use crate::message::{Headers, Method, NameAddr, Request, Response, SipHeaders, Uri};
use crate::shrink::ShrinkSparse;
use crate::transaction::{ClientEvent, ClientInvite, ClientKey, ClientNonInvite};

#[derive(Debug)]
pub(super) enum ClientTx {
    Invite(Box<ClientInvite>),
    NonInvite(ClientNonInvite),
}

#[derive(Debug)]
pub(super) struct ClientEntry {
    tx: ClientTx,
    transport: Transport,
    dest: SocketAddr,
    /// The outgoing call an INVITE belongs to.
    call: Option<CallHandle>,
    /// A CANCEL is owed as soon as a provisional response arrives (§9.1).
    cancel_pending: bool,
    /// The ACK we sent for a 2xx, resent when the 2xx is retransmitted.
    ack: Option<(Vec<u8>, String)>,
}

/// What the application gives to place a call to a lawyer's phone.
#[derive(Debug, Clone)]
pub struct OutgoingCall {
    /// Request-URI: the phone's registered Contact.
    pub target: Uri,
    /// Where to send it: the address the phone registered from (works through NAT).
    pub dest: SocketAddr,
    /// Transport the phone registered over.
    pub transport: Transport,
    /// Who the lawyer's phone shows as calling (the caller's number at the hotline).
    pub from: NameAddr,
    /// The lawyer's address-of-record.
    pub to: NameAddr,
    /// Our SDP offer.
    pub sdp: Vec<u8>,
}

impl ClientEntry {
    pub(super) fn is_answered(&self) -> bool {
        match &self.tx {
            ClientTx::Invite(tx) => tx.is_answered(),
            ClientTx::NonInvite(tx) => tx.is_answered(),
        }
    }
}

impl Endpoint {
    /// Places a call (INVITE with our offer). Progress, answer or failure come as events.
    pub fn invite(&mut self, call: OutgoingCall, now: Instant) -> CallHandle {
        let local_tag = random_token();
        let call_id = format!("{}@hotline", random_token());
        let mut from = call.from.clone();
        from.params.set("tag", Some(local_tag.clone()));
        let mut headers = Headers::default();
        headers.push("Via", self.new_via(call.transport));
        headers.push("Max-Forwards", "70");
        headers.push("From", from.to_string());
        headers.push("To", call.to.to_string());
        headers.push("Call-ID", call_id.clone());
        headers.push("CSeq", "1 INVITE");
        headers.push("Contact", self.contact(call.transport));
        headers.push("Allow", super::ALLOW);
        headers.push("User-Agent", self.config.user_agent.clone());
        headers.push("Content-Type", "application/sdp");
        let request = Request {
            method: Method::Invite,
            uri: call.target,
            headers,
            body: call.sdp,
        };
        let handle = self.calls.insert(Call {
            state: CallState::Calling,
            local_tag,
            call_id,
            transport: call.transport,
            peer: call.dest,
            pending_invite: None,
            dialog: None,
            ok_retransmit: None,
        });
        let key = ClientKey::of(&request).expect("our own INVITE has a branch");
        let tx = ClientInvite::new(request, call.transport.reliable(), self.config.timers, now);
        self.client.insert(
            key.clone(),
            ClientEntry {
                tx: ClientTx::Invite(Box::new(tx)),
                transport: call.transport,
                dest: call.dest,
                call: Some(handle),
                cancel_pending: false,
                ack: None,
            },
        );
        self.drain_client(key, now);
        handle
    }

    /// Cancels an outgoing call that has not been answered (§9.1). Without a provisional
    /// response yet, the CANCEL waits for one; a 2xx that still arrives is ACKed and hung up.
    pub(super) fn cancel_outgoing(&mut self, call: CallHandle, now: Instant) {
        let key = self
            .client
            .iter()
            .find(|(_, e)| e.call == Some(call) && matches!(e.tx, ClientTx::Invite(_)))
            .map(|(k, _)| k.clone());
        if let Some(key) = key {
            let entry = self.client.get_mut(&key).expect("found above");
            entry.call = None;
            let proceeding = matches!(&entry.tx, ClientTx::Invite(tx) if tx.is_proceeding());
            if proceeding {
                self.send_cancel(&key, now);
            } else {
                entry.cancel_pending = true;
            }
        }
        self.end_call(call, EndReason::LocalHangup);
    }

    fn send_cancel(&mut self, invite_key: &ClientKey, now: Instant) {
        let Some(entry) = self.client.get(invite_key) else {
            return;
        };
        let ClientTx::Invite(tx) = &entry.tx else {
            return;
        };
        let invite = tx.request();
        // §9.1: same Request-URI, Call-ID, To, From, CSeq number and top Via as the INVITE.
        let mut headers = Headers::default();
        for name in ["Via", "Max-Forwards", "From", "To", "Call-ID"] {
            if let Some(v) = invite.headers.get(name) {
                headers.push(name, v);
            }
        }
        for r in invite.headers.get_all("Route") {
            headers.push("Route", r);
        }
        let seq = invite.cseq().map(|c| c.seq).unwrap_or(1);
        headers.push("CSeq", format!("{seq} CANCEL"));
        let cancel = Request {
            method: Method::Cancel,
            uri: invite.uri.clone(),
            headers,
            body: Vec::new(),
        };
        let (transport, dest) = (entry.transport, entry.dest);
        self.send_request(&cancel, transport, dest, now);
    }

    /// Starts a non-INVITE client transaction towards `dest`.
    pub(super) fn send_request(
        &mut self,
        req: &Request,
        transport: Transport,
        dest: SocketAddr,
        now: Instant,
    ) {
        let Some(key) = ClientKey::of(req) else {
            return;
        };
        let tx = ClientNonInvite::new(req, transport.reliable(), self.config.timers, now);
        self.client.insert(
            key.clone(),
            ClientEntry {
                tx: ClientTx::NonInvite(tx),
                transport,
                dest,
                call: None,
                cancel_pending: false,
                ack: None,
            },
        );
        self.drain_client(key, now);
    }

    pub(super) fn drain_client(&mut self, key: ClientKey, now: Instant) {
        let Some(entry) = self.client.get_mut(&key) else {
            return;
        };
        let mut events = Vec::new();
        loop {
            let bytes = match &mut entry.tx {
                ClientTx::Invite(tx) => tx.poll_transmit(),
                ClientTx::NonInvite(tx) => tx.poll_transmit(),
            };
            let Some(bytes) = bytes else { break };
            self.transmits.push_back(Transmit {
                transport: entry.transport,
                dest: entry.dest,
                bytes,
            });
        }
        loop {
            let ev = match &mut entry.tx {
                ClientTx::Invite(tx) => tx.poll_event(),
                ClientTx::NonInvite(tx) => tx.poll_event(),
            };
            let Some(ev) = ev else { break };
            events.push(ev);
        }
        let (terminated, wake) = match &entry.tx {
            ClientTx::Invite(tx) => (tx.is_terminated(), tx.poll_timeout()),
            ClientTx::NonInvite(tx) => (tx.is_terminated(), tx.poll_timeout()),
        };
        let is_invite = matches!(entry.tx, ClientTx::Invite(_));
        for ev in events {
            if is_invite {
                self.on_invite_event(&key, ev, now);
            } else if let ClientEvent::Timeout | ClientEvent::TransportError = ev {
                debug!("our request got no answer (Timer F)");
            }
        }
        if terminated {
            self.client.remove(&key);
            self.client.shrink_if_sparse();
        } else if let Some(at) = wake {
            self.timers.schedule(at.max(now), TimerKey::Client(key));
        }
    }

    /// What a response to our INVITE means for its call.
    fn on_invite_event(&mut self, key: &ClientKey, ev: ClientEvent, now: Instant) {
        let Some(entry) = self.client.get_mut(key) else {
            return;
        };
        let call = entry.call;
        let response = match ev {
            ClientEvent::Response(r) => r,
            ClientEvent::Timeout | ClientEvent::TransportError => {
                let status = if ev == ClientEvent::Timeout { 408 } else { 503 };
                if let Some(c) = call {
                    self.end_call(c, EndReason::Failed(status));
                }
                return;
            }
        };
        match response.status {
            100 => {}
            101..=199 => {
                if entry.cancel_pending {
                    entry.cancel_pending = false;
                    self.send_cancel(key, now);
                } else if let Some(c) = call {
                    self.events.push_back(Event::Progress {
                        call: c,
                        status: response.status,
                    });
                }
            }
            200..=299 => self.on_invite_2xx(key, response, now),
            status => {
                if let Some(c) = call {
                    self.end_call(c, EndReason::Failed(status));
                }
            }
        }
    }

    /// §13.2.2.4: ACK every 2xx (retransmissions too); the first one for a live call confirms
    /// it, any other (a call we already hung up, a second fork) is ACKed and hung up.
    fn on_invite_2xx(&mut self, key: &ClientKey, response: Response, now: Instant) {
        let Some(entry) = self.client.get_mut(key) else {
            return;
        };
        let (transport, dest) = (entry.transport, entry.dest);
        let to_tag = response
            .header_to()
            .ok()
            .and_then(|t| t.tag().map(str::to_owned))
            .unwrap_or_default();
        if let Some((ack, tag)) = &entry.ack
            && *tag == to_tag
        {
            self.transmits.push_back(Transmit {
                transport,
                dest,
                bytes: ack.clone(),
            });
            return;
        }
        let ClientTx::Invite(tx) = &entry.tx else {
            return;
        };
        let invite = tx.request().clone();
        let Ok(mut dialog) = Dialog::as_uac(&invite, &response) else {
            debug!("2xx without usable Contact dropped");
            return;
        };
        let live = entry.ack.is_none() && entry.call.is_some();
        let call = entry.call;
        let seq = invite.cseq().map(|c| c.seq).unwrap_or(1);
        let via = self.new_via(transport);
        let ack = dialog.request(Method::Ack, via, Some(seq)).to_bytes();
        self.transmits.push_back(Transmit {
            transport,
            dest,
            bytes: ack.clone(),
        });
        if let Some(entry) = self.client.get_mut(key) {
            entry.ack = Some((ack, to_tag));
        }
        match call.filter(|_| live) {
            Some(c) => {
                if let Some(state) = self.calls.get_mut(c) {
                    state.state = CallState::Confirmed;
                    state.dialog = Some(dialog);
                }
                info!("outgoing call answered");
                self.events.push_back(Event::Answered {
                    call: c,
                    response: Box::new(response),
                });
            }
            None => self.send_in_dialog(&mut dialog, Method::Bye, transport, dest, now),
        }
    }

    pub(super) fn client_timeout(&mut self, key: ClientKey, now: Instant) {
        if let Some(entry) = self.client.get_mut(&key) {
            match &mut entry.tx {
                ClientTx::Invite(tx) => tx.handle_timeout(now),
                ClientTx::NonInvite(tx) => tx.handle_timeout(now),
            }
            self.drain_client(key, now);
        }
    }

    pub(super) fn on_response(&mut self, resp: Response, now: Instant) {
        let Some(key) = ClientKey::of(&resp) else {
            return;
        };
        match self.client.get_mut(&key) {
            Some(entry) => {
                match &mut entry.tx {
                    ClientTx::Invite(tx) => tx.on_response(resp, now),
                    ClientTx::NonInvite(tx) => tx.on_response(resp, now),
                }
                self.drain_client(key, now);
            }
            None => debug!(status = resp.status, "stray response dropped"),
        }
    }

    /// A Via for a request we originate, with a fresh branch (§8.1.1.7) and `rport` (RFC 3581).
    pub(super) fn new_via(&self, transport: Transport) -> String {
        format!(
            "SIP/2.0/{} {};branch=z9hG4bK{};rport",
            transport.as_str(),
            self.config.advertised,
            random_token()
        )
    }

    /// Sends an in-dialog request from `dialog` over the call's flow.
    pub(super) fn send_in_dialog(
        &mut self,
        dialog: &mut Dialog,
        method: Method,
        transport: Transport,
        dest: SocketAddr,
        now: Instant,
    ) {
        let via = self.new_via(transport);
        let mut req = dialog.request(method, via, None);
        req.headers
            .push("User-Agent", self.config.user_agent.clone());
        self.send_request(&req, transport, dest, now);
    }
}
