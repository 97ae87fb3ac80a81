//! Playout order, loss, duplicates, resets and underruns of the buffer; loss and jitter of the
//! reception statistics.

use super::*;

const MS: Duration = Duration::from_millis(1);

fn buffer() -> JitterBuffer {
    JitterBuffer::new(JitterConfig::default())
}

fn push(jb: &mut JitterBuffer, seq: u16, now: Instant) -> Push {
    jb.push(1, seq, u32::from(seq) * 160, &seq.to_be_bytes(), now)
}

/// Pops `n` ticks 20 ms apart from `start`, rendering frames as their seq, gaps as `None`.
fn drain(jb: &mut JitterBuffer, start: Instant, n: u32) -> Vec<Option<u16>> {
    (0..n)
        .filter_map(|i| match jb.pop(start + 20 * MS * i) {
            Pop::Frame(f) => {
                assert_eq!(f.payload, f.seq.to_be_bytes());
                Some(Some(f.seq))
            }
            Pop::Missing { .. } => Some(None),
            Pop::Empty => None,
        })
        .collect()
}

#[test]
fn in_order_after_playout_delay() {
    let t0 = Instant::now();
    let mut jb = buffer();
    assert_eq!(jb.pop(t0), Pop::Empty);
    for (i, seq) in (10..14).enumerate() {
        assert_eq!(push(&mut jb, seq, t0 + 20 * MS * i as u32), Push::Queued);
    }
    assert_eq!(jb.pop(t0 + 59 * MS), Pop::Empty, "still buffering");
    assert_eq!(
        drain(&mut jb, t0 + 60 * MS, 4),
        [Some(10), Some(11), Some(12), Some(13)]
    );
}

#[test]
fn reordered_within_delay() {
    let t0 = Instant::now();
    let mut jb = buffer();
    for (i, seq) in [3, 2, 1].into_iter().enumerate() {
        push(&mut jb, seq, t0 + 10 * MS * i as u32);
    }
    assert_eq!(drain(&mut jb, t0 + 60 * MS, 3), [Some(1), Some(2), Some(3)]);
    // Reordering during playout: 5 before 4.
    push(&mut jb, 5, t0 + 100 * MS);
    push(&mut jb, 4, t0 + 101 * MS);
    assert_eq!(drain(&mut jb, t0 + 120 * MS, 2), [Some(4), Some(5)]);
}

#[test]
fn duplicate_late_and_gap() {
    let t0 = Instant::now();
    let mut jb = buffer();
    assert_eq!(push(&mut jb, 1, t0), Push::Queued);
    assert_eq!(push(&mut jb, 1, t0), Push::Duplicate);
    push(&mut jb, 2, t0);
    push(&mut jb, 4, t0);
    push(&mut jb, 5, t0);
    assert_eq!(drain(&mut jb, t0 + 60 * MS, 2), [Some(1), Some(2)]);
    assert_eq!(push(&mut jb, 1, t0 + 100 * MS), Push::Late);
    assert_eq!(drain(&mut jb, t0 + 100 * MS, 3), [None, Some(4), Some(5)]);
    assert_eq!(push(&mut jb, 3, t0 + 160 * MS), Push::Late);
    let s = jb.stats();
    assert_eq!((s.played, s.missing, s.duplicates, s.late), (4, 1, 1, 2));
}

#[test]
fn sequence_wraparound() {
    let t0 = Instant::now();
    let mut jb = buffer();
    for seq in [65533u16, 65534, 0, 65535, 1, 2] {
        let ts = (u32::MAX - 320).wrapping_add(u32::from(seq.wrapping_sub(65533)) * 160);
        assert_eq!(jb.push(1, seq, ts, &seq.to_be_bytes(), t0), Push::Queued);
    }
    let played = drain(&mut jb, t0 + 60 * MS, 6);
    assert_eq!(played, [65533, 65534, 65535, 0, 1, 2].map(Some));
    assert_eq!(jb.stats().resets, 0);
}

#[test]
fn ssrc_change_and_big_jumps_reset() {
    let t0 = Instant::now();
    let mut jb = buffer();
    push(&mut jb, 100, t0);
    push(&mut jb, 101, t0);
    assert_eq!(jb.push(2, 7000, 0, &[1], t0 + 10 * MS), Push::Reset);
    assert_eq!(jb.len(), 1);
    // The new stream re-buffers from its own arrival.
    assert_eq!(jb.pop(t0 + 60 * MS), Pop::Empty);
    assert!(matches!(
        jb.pop(t0 + 70 * MS),
        Pop::Frame(Frame { seq: 7000, .. })
    ));
    assert_eq!(
        jb.push(2, 7201, 160, &[1], t0 + 80 * MS),
        Push::Reset,
        "seq jump"
    );
    assert_eq!(
        jb.push(2, 7202, 900_000, &[1], t0 + 90 * MS),
        Push::Reset,
        "timestamp jump"
    );
    assert_eq!(jb.push(2, 7203, 900_160, &[1], t0 + 90 * MS), Push::Queued);
    assert_eq!(jb.stats().resets, 3);
}

#[test]
fn underrun_goes_idle_then_rebuffers() {
    let t0 = Instant::now();
    let mut jb = buffer();
    push(&mut jb, 1, t0);
    assert_eq!(
        drain(&mut jb, t0 + 60 * MS, 7),
        [Some(1), None, None, None, None, None]
    );
    assert_eq!(jb.stats().underruns, 1);
    // Stream resumes (DTX): a fresh playout delay, no stale "late" drops.
    let t1 = t0 + Duration::from_secs(1);
    assert_eq!(push(&mut jb, 1, t1), Push::Late);
    assert_eq!(push(&mut jb, 2, t1), Push::Queued);
    assert_eq!(jb.pop(t1), Pop::Empty);
    assert_eq!(drain(&mut jb, t1 + 60 * MS, 1), [Some(2)]);
}

#[test]
fn bounded_under_flood() {
    let t0 = Instant::now();
    let mut jb = buffer();
    let mut x: u32 = 12345;
    for i in 0..100_000u32 {
        x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        let seq = if i % 3 == 0 {
            (x >> 16) as u16
        } else {
            i as u16
        };
        jb.push(x % 2, seq, x, &[0; 160], t0 + MS * (i / 10));
        assert!(jb.len() <= 50);
        if i % 7 == 0 {
            jb.pop(t0 + MS * (i / 10));
        }
    }
    // A steady flood without pops slides the window instead of growing.
    let mut jb = buffer();
    for seq in 0..1000u16 {
        jb.push(1, seq, u32::from(seq) * 160, &[0; 160], t0);
    }
    assert_eq!(jb.len(), 50);
    assert_eq!(jb.stats().overflow, 950);
    assert!(matches!(
        jb.pop(t0 + 60 * MS),
        Pop::Frame(Frame { seq: 950, .. })
    ));
}

#[test]
fn reception_loss_fraction_duplicates_and_jumps() {
    let t0 = Instant::now();
    let mut s = ReceptionStats::new(7, 8000, 1);
    for seq in [1, 2, 3, 5, 4, 7] {
        assert!(s.record(seq, Some(u32::from(seq) * 160), 160, t0));
    }
    assert_eq!((s.packets(), s.cumulative_lost()), (6, 1));
    assert_eq!(s.extended_highest_seq(), 7);
    let b = s.report_block(0, 0);
    // 1 lost of 7 expected: 256 / 7.
    assert_eq!((b.ssrc, b.fraction_lost, b.cumulative_lost), (7, 36, 1));
    for seq in [8, 9, 10, 10] {
        assert!(s.record(seq, None, 160, t0));
    }
    // This interval: 3 expected, 4 received (a duplicate): nothing lost.
    let b = s.report_block(0, 0);
    assert_eq!((b.fraction_lost, b.cumulative_lost), (0, 0));
    assert_eq!(b.extended_highest_seq, 10);
    // A jump past MAX_DROPOUT is dropped once, then accepted as a restart (A.1).
    assert!(!s.record(20_000, None, 160, t0));
    assert!(s.record(20_001, None, 160, t0));
    assert_eq!((s.packets(), s.octets()), (1, 1760));
    assert_eq!(s.extended_highest_seq(), 20_001);
}

#[test]
fn reception_wraparound_and_jitter_by_hand() {
    let t0 = Instant::now();
    let mut s = ReceptionStats::new(7, 8000, 65_534);
    // Arrivals at 0, 20, 45, 60 ms = 0, 160, 360, 480 ticks; transit 0, 0, 40, 0.
    // J*16: 0, 0 + 0 - 0 = 0, 0 + 40 - 0 = 40, 40 + 40 - ((40 + 8) >> 4) = 77.
    let arrivals = [(65_534u16, 0u64), (65_535, 20), (0, 45), (1, 60)];
    for (i, (seq, ms)) in arrivals.into_iter().enumerate() {
        let at = t0 + Duration::from_millis(ms);
        assert!(s.record(seq, Some(160 * i as u32), 160, at));
    }
    assert_eq!((s.jitter16, s.jitter()), (77, 4));
    assert_eq!((s.extended_highest_seq(), s.cumulative_lost()), (65_537, 0));
}
