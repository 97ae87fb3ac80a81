//! Calls in the binary: the [`router`] owns SIP and media resources and routes events to one
//! task per call; [`live`] is that task's [`hotline_ivr::control::CallControl`]; [`flows`]
//! are what a call task runs.

pub mod flows;
mod live;
mod router;

pub use router::CallHandler;
