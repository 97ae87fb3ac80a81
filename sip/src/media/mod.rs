//! Call media: RTP sessions with latching, jitter buffering, G.711, DTMF from three sources,
//! prompt playback, bridging and crash-safe stereo recording.
//!
//! Everything but [`engine`] is sans-IO; the engine is the one thread that owns the sockets and
//! the 20 ms clock.

pub mod dtmf;
pub mod engine;
pub mod g711;
pub mod jitter;
mod leg;
mod opener;
pub mod prompt;
pub mod recorder;
pub mod rtcp;
pub mod rtp_session;
pub mod stats;
pub mod tone_detector;

pub use engine::{FRAME, LegId, LegParams, MediaCommand, MediaEngine, MediaEvent};
pub use stats::MediaStats;
