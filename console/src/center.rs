//! What the console needs from the running hotline, behind a trait so the console's routes are
//! tested without SIP. The binary implements it over its ACD board and dialplan
//! (`src/console_bridge.rs`); the tests use a real [`hotline_ivr::Acd`] with a test dialplan.
//!
//! Live events are per node: a call's events reach the consoles connected to the node that
//! handles the call. Several nodes would need a shared bus; everything else the console shows
//! comes from the store, which nodes share.

use std::sync::Arc;

use hotline_ivr::board::Board;
use hotline_ivr::{Dialplan, IvrEvent, LawyerEvent, LawyerId, LawyerState};
use tokio::sync::broadcast;

/// One IVR or ACD event as it happened, for the live WebSocket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveEvent {
    /// The call it belongs to (empty for lawyer events outside calls).
    pub call_id: String,
    /// When (unix ms).
    pub at: i64,
    /// The event, as it is logged.
    pub event: IvrEvent,
}

/// How many live events a slow WebSocket may fall behind before it skips some.
pub const LIVE_BUFFER: usize = 1024;

/// The running system as the console sees it.
pub trait CallCenter: Send + Sync + 'static {
    /// A copy of the ACD board: lawyer states and waiting callers.
    fn board(&self) -> Board;
    /// Applies a lawyer's own button (ready, not ready, log in/out) to the ACD.
    fn lawyer_event(&self, lawyer: &LawyerId, event: LawyerEvent) -> Result<LawyerState, String>;
    /// The dialplan in force: roster, hierarchy (supervisor scopes) and its directory (roster
    /// editing).
    fn plan(&self) -> Arc<Dialplan>;
    /// Subscribes to the live events of this node.
    fn subscribe(&self) -> broadcast::Receiver<LiveEvent>;
}
