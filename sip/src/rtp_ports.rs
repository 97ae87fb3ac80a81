//! The pool of RTP ports from `--rtp-ports`. RTP uses even ports, RTCP the next odd one
//! (RFC 3550 §11); a port goes back to the pool when its call ends, and an empty pool makes the
//! INVITE fail with 503 instead of hanging.

use std::collections::VecDeque;

/// Free even ports, handed out least-recently-used first so a port is not reused while stray
/// packets of its last call may still arrive.
#[derive(Debug)]
pub struct RtpPortPool {
    free: VecDeque<u16>,
    capacity: usize,
}

impl RtpPortPool {
    /// All even ports in `first..=last`.
    pub fn new(first: u16, last: u16) -> Self {
        let free: VecDeque<u16> = (first..=last).filter(|p| p % 2 == 0 && *p < last).collect();
        let capacity = free.len();
        RtpPortPool { free, capacity }
    }

    /// Takes a port, or `None` when every port is in use.
    pub fn allocate(&mut self) -> Option<u16> {
        self.free.pop_front()
    }

    /// Returns a port.
    pub fn release(&mut self, port: u16) {
        if !self.free.contains(&port) {
            self.free.push_back(port);
        }
    }

    /// Ports currently free (for health reporting and leak checks).
    pub fn available(&self) -> usize {
        self.free.len()
    }

    /// Ports in the pool.
    pub fn capacity(&self) -> usize {
        self.capacity
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn even_ports_exhaust_and_return() {
        let mut pool = RtpPortPool::new(30000, 30005);
        assert_eq!(pool.capacity(), 3);
        let ports: Vec<_> = std::iter::from_fn(|| pool.allocate()).collect();
        assert_eq!(ports, vec![30000, 30002, 30004]);
        assert_eq!(pool.allocate(), None);
        pool.release(30002);
        pool.release(30002);
        assert_eq!(pool.available(), 1);
        assert_eq!(pool.allocate(), Some(30002));
    }
}
