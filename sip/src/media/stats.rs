//! Live media figures shared between the media thread and whoever reports them (the console's
//! health page, benchmarks): how many legs run, and how late each packet left against the 20 ms
//! grid it was due on (the send jitter a phone's jitter buffer has to absorb).

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

/// Width of one histogram bucket.
const BUCKET_US: u64 = 50;
/// Buckets cover 0-20 ms; later packets land in the last one.
const BUCKETS: usize = 401;

/// Lock-free counters; the media thread writes, readers compute percentiles.
#[derive(Debug)]
pub struct MediaStats {
    lateness: Vec<AtomicU64>,
    /// Legs currently open.
    pub legs: AtomicUsize,
    /// RTP packets sent since start.
    pub packets_sent: AtomicU64,
    /// Ticks that started more than one frame late (the thread was starved).
    pub overruns: AtomicU64,
    /// Times the clock fell more than 5 frames behind and jumped to now: the frames of the
    /// skipped time were never sent (callers heard a gap).
    pub resyncs: AtomicU64,
    /// Milliseconds of media skipped by those jumps, summed.
    pub skipped_ms: AtomicU64,
}

impl Default for MediaStats {
    fn default() -> Self {
        MediaStats {
            lateness: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
            legs: AtomicUsize::new(0),
            packets_sent: AtomicU64::new(0),
            overruns: AtomicU64::new(0),
            resyncs: AtomicU64::new(0),
            skipped_ms: AtomicU64::new(0),
        }
    }
}

impl MediaStats {
    /// Records one packet sent `late` after its due time.
    pub fn record_send(&self, late: Duration) {
        let bucket = ((late.as_micros() as u64) / BUCKET_US).min(BUCKETS as u64 - 1) as usize;
        self.lateness[bucket].fetch_add(1, Ordering::Relaxed);
        self.packets_sent.fetch_add(1, Ordering::Relaxed);
    }

    /// The `p`-th percentile (0-100) of send lateness, to bucket resolution (upper edge).
    pub fn lateness_percentile(&self, p: f64) -> Duration {
        let counts: Vec<u64> = self
            .lateness
            .iter()
            .map(|c| c.load(Ordering::Relaxed))
            .collect();
        let total: u64 = counts.iter().sum();
        if total == 0 {
            return Duration::ZERO;
        }
        let target = ((p / 100.0) * total as f64).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (i, c) in counts.iter().enumerate() {
            seen += c;
            if seen >= target {
                return Duration::from_micros((i as u64 + 1) * BUCKET_US);
            }
        }
        Duration::from_micros(BUCKETS as u64 * BUCKET_US)
    }

    /// Clears the lateness histogram (a benchmark measures its steady state only).
    pub fn reset_lateness(&self) {
        for c in &self.lateness {
            c.store(0, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_follow_the_histogram() {
        let s = MediaStats::default();
        assert_eq!(s.lateness_percentile(99.0), Duration::ZERO);
        for _ in 0..98 {
            s.record_send(Duration::from_micros(120));
        }
        s.record_send(Duration::from_millis(3));
        s.record_send(Duration::from_millis(50));
        assert_eq!(s.lateness_percentile(50.0), Duration::from_micros(150));
        assert_eq!(s.lateness_percentile(99.0), Duration::from_micros(3050));
        assert_eq!(s.lateness_percentile(100.0), Duration::from_micros(20050));
        s.reset_lateness();
        assert_eq!(s.lateness_percentile(50.0), Duration::ZERO);
    }
}
