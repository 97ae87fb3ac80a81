//! The hotline's SIP and RTP stack.
//!
//! Protocol logic is sans-IO: [`transaction`] and [`dialog`] state machines and the
//! [`endpoint`] that owns them are fed messages and the current time and return what to send
//! and when to wake; [`driver`] is the thin tokio layer that owns sockets and timers.

pub mod auth;
pub mod dialog;
pub mod driver;
pub mod endpoint;
pub mod media;
pub mod message;
pub mod registrar;
pub mod rtp_ports;
pub mod sdp;
pub mod shrink;
pub mod transaction;
