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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ServeArgs;
    use hotline_ivr::IvrEvent;

    #[tokio::test]
    async fn lawyer_buttons_reach_the_board_and_their_events_the_live_bus() {
        let config = ServeArgs {
            dialplans: Some(concat!(env!("CARGO_MANIFEST_DIR"), "/dialplans").into()),
            ..Default::default()
        }
        .resolve()
        .unwrap();
        let (live, _) = broadcast::channel(16);
        let flow = Arc::new(FlowContext::new(&config, live.clone()).unwrap());
        let bridge = ConsoleBridge::new(flow, live);
        let mut events = bridge.subscribe();
        let lai = LawyerId::new("lai-zhiming");
        assert!(bridge.plan().roster.lawyer(&lai).is_some());
        let state = bridge.lawyer_event(&lai, LawyerEvent::Login).unwrap();
        assert!(matches!(state, LawyerState::Ready { .. }));
        assert_eq!(bridge.board().lawyers[&lai].state, state);
        let ev = events.recv().await.unwrap();
        assert_eq!(ev.call_id, "");
        assert!(
            matches!(&ev.event, IvrEvent::LawyerStateChanged { lawyer, .. } if *lawyer == lai),
            "{ev:?}"
        );
        assert!(bridge.lawyer_event(&lai, LawyerEvent::Answer).is_err());
    }
}
