//! Maps sized for a burst give their memory back once it is over. A `HashMap` keeps its peak
//! capacity for good: after an overload of about 6,000 simultaneous calls, heaptrack found
//! 37 MB still held by the empty tables of calls, transactions and media legs (BENCHMARKS.md,
//! "memory after overload").

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash};

/// Below this capacity a table is left alone: shrinking it would save nothing worth a rehash.
const KEEP_CAPACITY: usize = 256;

/// Shrinking of tables that emptied out after a peak.
pub trait ShrinkSparse {
    /// When the table is under a quarter full, shrinks it to about twice its length. Calling
    /// it after every removal costs amortised O(1): a shrink rehashes `len` entries, and
    /// another is only due after the table lost half of what remains.
    fn shrink_if_sparse(&mut self);
}

impl<K: Eq + Hash, V, S: BuildHasher> ShrinkSparse for HashMap<K, V, S> {
    fn shrink_if_sparse(&mut self) {
        if self.capacity() > KEEP_CAPACITY && self.len() * 4 < self.capacity() {
            self.shrink_to((self.len() * 2).max(KEEP_CAPACITY / 2));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_emptied_after_a_peak_gives_its_memory_back() {
        let mut calls: HashMap<u64, [u8; 512]> = HashMap::new();
        for i in 0..10_000 {
            calls.insert(i, [0; 512]);
        }
        let peak = calls.capacity();
        for i in 0..10_000 {
            calls.remove(&i);
            calls.shrink_if_sparse();
        }
        assert!(
            calls.capacity() <= KEEP_CAPACITY,
            "{} of {peak}",
            calls.capacity()
        );
        // a table still in use is not shrunk below what it holds, nor rehashed on every removal
        for i in 0..1_000 {
            calls.insert(i, [0; 512]);
        }
        let cap = calls.capacity();
        calls.remove(&0);
        calls.shrink_if_sparse();
        // (a removal may leave a tombstone, which hashbrown counts off the capacity: one less)
        assert!(calls.capacity() + 1 >= cap, "{} of {cap}", calls.capacity());
        assert_eq!(calls.len(), 999);
    }
}
