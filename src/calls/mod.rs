//! Calls in the binary: the [`router`] owns SIP and media resources and routes events to one
//! task per call; [`live`] is that task's [`hotline_ivr::control::CallControl`]; [`flows`]
//! are what a call task runs; [`filing`] files an IVR call on its ticket before a lawyer rings.

mod filing;
pub mod flows;
mod live;
mod roster_sync;
mod router;

pub use router::CallHandler;
