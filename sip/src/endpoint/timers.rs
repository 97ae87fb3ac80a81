//! One min-heap of deadlines for every transaction and call, so waking up costs O(log n) even
//! with thousands of calls. Entries are not removed when a machine's deadline changes: a stale
//! entry just wakes the machine early, and every machine ignores a wake-up before its deadline.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Instant;

use super::CallHandle;
use crate::transaction::{ClientKey, ServerKey};

/// Which machine a deadline belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum TimerKey {
    Server(ServerKey),
    Client(ClientKey),
    Call(CallHandle),
}

#[derive(Debug, PartialEq, Eq)]
struct Entry(Instant, u64, TimerKey);

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Entry {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.0, self.1).cmp(&(other.0, other.1))
    }
}

#[derive(Debug, Default)]
pub(super) struct TimerQueue {
    heap: BinaryHeap<Reverse<Entry>>,
    seq: u64,
}

impl TimerQueue {
    pub(super) fn schedule(&mut self, at: Instant, key: TimerKey) {
        self.seq += 1;
        self.heap.push(Reverse(Entry(at, self.seq, key)));
    }

    pub(super) fn pop_due(&mut self, now: Instant) -> Option<TimerKey> {
        if self.heap.peek().is_some_and(|Reverse(e)| e.0 <= now) {
            self.heap.pop().map(|Reverse(e)| e.2)
        } else {
            None
        }
    }

    pub(super) fn next(&self) -> Option<Instant> {
        self.heap.peek().map(|Reverse(e)| e.0)
    }
}
