//! The console's view of the running hotline ([`CallCenter`]): the ACD board and dialplan of
//! the call handler's [`FlowContext`], and the live event bus every IVR and ACD sink forwards
//! to. Live events stay on this node (a console connected to another node does not see them;
//! several nodes would need a shared bus); everything else the console shows is in the store.

use std::sync::Arc;

use hotline_console::{CallCenter, LiveEvent};
use hotline_ivr::board::Board;
use hotline_ivr::{Clock, Dialplan, LawyerEvent, LawyerId, LawyerState, SystemClock};
use tokio::sync::broadcast;

use crate::calls::flows::FlowContext;

/// [`CallCenter`] over the call handler's shared state.
pub struct ConsoleBridge {
    flow: Arc<FlowContext>,
    live: broadcast::Sender<LiveEvent>,
}

impl ConsoleBridge {
    pub fn new(flow: Arc<FlowContext>, live: broadcast::Sender<LiveEvent>) -> ConsoleBridge {
        ConsoleBridge { flow, live }
    }
}

impl CallCenter for ConsoleBridge {
    fn board(&self) -> Board {
        self.flow.acd.board()
    }

    fn lawyer_event(&self, lawyer: &LawyerId, event: LawyerEvent) -> Result<LawyerState, String> {
        self.flow
            .acd
            .apply(lawyer, event, SystemClock.now())
            .map_err(|e| e.to_string())
    }

    fn plan(&self) -> Arc<Dialplan> {
        self.flow.plan()
    }

    fn subscribe(&self) -> broadcast::Receiver<LiveEvent> {
        self.live.subscribe()
    }
}
