//! Gives memory back to the system after a burst of calls. Once an overload is over, glibc
//! keeps the freed heap pages of thousands of calls in its arenas: a server that idled at
//! 22 MiB stayed at 230 MiB with every call, leg and transaction gone, and `malloc_trim(0)`
//! took it to 114 MiB (BENCHMARKS.md). Trimming is done once the load has fallen to half of
//! its peak, not on a clock: under steady load the freed pages are reused anyway, and a trim
//! holds the allocator's locks for a moment.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use hotline_console::LiveStats;
use tracing::info;

/// How often the load is looked at.
const CHECK_EVERY: Duration = Duration::from_secs(10);
/// A peak of fewer calls and legs than this is not worth a trim (a few MiB at most).
const MIN_PEAK: usize = 100;
/// Checks between a burst's trim and its follow-up: the burst's last SIP transactions wait out
/// Timer J/K (64×T1 = 32 s, RFC 3261 §17.2.2) before they are freed, after the first trim.
const FOLLOW_UP_CHECKS: u32 = 6;

/// When to trim: after the load (calls + media legs) fell to half of its peak since the last
/// trim, only for peaks worth it, and once more a minute later for what the burst's lingering
/// transactions held.
#[derive(Debug, Default)]
struct TrimPolicy {
    peak: usize,
    follow_up_in: Option<u32>,
}

impl TrimPolicy {
    /// Takes the current load; true when it is time to trim.
    fn observe(&mut self, load: usize) -> bool {
        self.peak = self.peak.max(load);
        if self.peak >= MIN_PEAK && load * 2 <= self.peak {
            self.peak = load;
            self.follow_up_in = Some(FOLLOW_UP_CHECKS);
            return true;
        }
        match self.follow_up_in {
            Some(n) if n <= 1 => {
                self.follow_up_in = None;
                true
            }
            Some(n) => {
                self.follow_up_in = Some(n - 1);
                false
            }
            None => false,
        }
    }
}

/// Watches the load and trims the heap after each burst; runs for the life of the server.
pub async fn return_memory_after_bursts(stats: Arc<LiveStats>) {
    let mut policy = TrimPolicy::default();
    let mut every = tokio::time::interval(CHECK_EVERY);
    loop {
        every.tick().await;
        let load =
            stats.active_calls.load(Ordering::Relaxed) + stats.media_legs.load(Ordering::Relaxed);
        if !policy.observe(load) {
            continue;
        }
        let before = rss_mib();
        if tokio::task::spawn_blocking(trim).await.is_ok() {
            info!(
                load,
                rss_before_mib = before,
                rss_after_mib = rss_mib(),
                "load fell after a burst: freed heap memory returned to the system"
            );
        }
    }
}

/// Returns the free pages of every glibc arena to the system.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn trim() {
    // SAFETY: malloc_trim only walks the allocator's own free lists under its locks.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Other allocators return memory on their own terms.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn trim() {}

/// Resident memory of this process (MiB), for the log; 0 where /proc is not there.
fn rss_mib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("VmRSS:"))?;
            line.split_whitespace().nth(1)?.parse::<u64>().ok()
        })
        .map_or(0, |kib| kib / 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_once_a_burst_is_over_and_not_under_steady_load() {
        let mut p = TrimPolicy::default();
        // steady small load: never
        assert!((0..50).all(|_| !p.observe(40)));
        // a burst up to 6000, still high: not yet
        assert!(!p.observe(3000));
        assert!(!p.observe(6000));
        assert!(!p.observe(4000));
        // fallen to half the peak: trim, once
        assert!(p.observe(3000));
        assert!(!p.observe(2900));
        // back to normal: trim again (half of 3000), then the follow-up a minute later, then
        // nothing while the load stays normal
        assert!(p.observe(50));
        let next: Vec<bool> = (0..50).map(|_| p.observe(50)).collect();
        let trims: Vec<usize> = (0..50).filter(|&i| next[i]).collect();
        assert_eq!(trims, vec![FOLLOW_UP_CHECKS as usize - 1]);
    }

    #[test]
    fn small_peaks_are_not_worth_a_trim() {
        let mut p = TrimPolicy::default();
        assert!(!p.observe(80));
        assert!(!p.observe(0));
    }

    #[test]
    fn resident_memory_is_read() {
        assert!(rss_mib() > 0);
    }
}
