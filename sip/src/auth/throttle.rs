//! Per-source counting of failed authentications, against online password guessing.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

#[cfg(doc)]
use super::Verdict;

/// Default cap on the number of sources [`FailureThrottle`] tracks.
pub const DEFAULT_MAX_ENTRIES: usize = 100_000;

/// Minimum time between two sweeps of a full [`FailureThrottle`] table.
const SWEEP_INTERVAL: Duration = Duration::from_secs(1);

/// Per-source state: failures counted since `since`, or blocked since `since`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Entry {
    failures: u32,
    since: Instant,
    blocked: bool,
}

/// Counts failed authentications per source IP against online password
/// guessing (RFC 7616 §5.7): after `max_failures` within `window` (counted
/// from the first failure) the source is blocked for `block_for`, and a
/// blocked source gets 403 at once. Memory is bounded: expired entries are
/// dropped on access and by [`prune`](Self::prune), and the table is capped.
#[derive(Debug)]
pub struct FailureThrottle {
    max_failures: u32,
    window: Duration,
    block_for: Duration,
    max_entries: usize,
    pub(super) entries: HashMap<IpAddr, Entry>,
    last_sweep: Option<Instant>,
}

impl FailureThrottle {
    /// A throttle with the [`DEFAULT_MAX_ENTRIES`] cap (`max_failures` ≥ 1).
    pub fn new(max_failures: u32, window: Duration, block_for: Duration) -> Self {
        Self {
            max_failures: max_failures.max(1),
            window,
            block_for,
            max_entries: DEFAULT_MAX_ENTRIES,
            entries: HashMap::new(),
            last_sweep: None,
        }
    }

    /// Changes the cap on tracked sources (at least 1).
    pub fn with_max_entries(mut self, max_entries: usize) -> Self {
        self.max_entries = max_entries.max(1);
        self
    }

    fn full(&self) -> bool {
        self.entries.len() >= self.max_entries
    }

    /// Whether `e` still matters at `now` (window or block not yet over).
    fn live(&self, e: &Entry, now: Instant) -> bool {
        let span = if e.blocked {
            self.block_for
        } else {
            self.window
        };
        now.saturating_duration_since(e.since) < span
    }

    /// Whether `ip` is blocked now; forgets its entry if that has expired.
    pub fn is_blocked(&mut self, ip: IpAddr, now: Instant) -> bool {
        match self.entries.get(&ip).copied() {
            Some(e) if self.live(&e, now) => e.blocked,
            Some(_) => {
                self.entries.remove(&ip);
                false
            }
            None => false,
        }
    }

    /// Counts a failure (a [`Verdict::BadPassword`]) from `ip`. Failures while
    /// blocked do not extend the block. When the table is full, a sweep
    /// (at most one per second, so a flood of new sources cannot make every
    /// call O(n)) drops expired entries, then sources that are merely
    /// counting; if no room is left the new source is not tracked.
    pub fn record_failure(&mut self, ip: IpAddr, now: Instant) {
        if !self.entries.contains_key(&ip) && self.full() {
            let due = |t: Instant| now.saturating_duration_since(t) >= SWEEP_INTERVAL;
            if self.last_sweep.is_none_or(due) {
                self.last_sweep = Some(now);
                self.prune(now);
                if self.full() {
                    self.entries.retain(|_, e| e.blocked);
                }
            }
            if self.full() {
                return;
            }
        }
        let fresh = Entry {
            failures: 0,
            since: now,
            blocked: false,
        };
        let mut e = self.entries.get(&ip).copied().unwrap_or(fresh);
        if !self.live(&e, now) {
            e = fresh;
        } else if e.blocked {
            return;
        }
        e.failures = e.failures.saturating_add(1);
        if e.failures >= self.max_failures {
            (e.blocked, e.since) = (true, now);
        }
        self.entries.insert(ip, e);
    }

    /// Clears the failure count of `ip` after a successful authentication.
    /// An active block stays (a blocked source should not have got this far).
    pub fn record_success(&mut self, ip: IpAddr) {
        if self.entries.get(&ip).is_some_and(|e| !e.blocked) {
            self.entries.remove(&ip);
        }
    }

    /// Drops every expired entry; call periodically to return memory.
    pub fn prune(&mut self, now: Instant) {
        let mut entries = std::mem::take(&mut self.entries);
        entries.retain(|_, e| self.live(e, now));
        self.entries = entries;
    }
}
