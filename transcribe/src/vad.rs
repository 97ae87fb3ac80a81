//! Voice-activity detection. whisper invents text when it is fed silence, line noise or a
//! quiet hold-music bed ("Thank you for watching."), so only the stretches that carry a voice
//! go to it. An energy detector is enough for telephone channels: each channel carries one
//! side of the call, recorded digitally, so its noise floor is low and stable. The floor is
//! estimated per recording (a low percentile of frame energies), and a frame is speech when it
//! is well above the floor and above an absolute level.

/// Frame length: 30 ms at 16 kHz.
const FRAME: usize = 480;
/// Speech must be this far above the channel's noise floor (dB).
const ABOVE_FLOOR_DB: f32 = 15.0;
/// And above this absolute level (dBFS): quieter is line noise.
const MIN_LEVEL_DBFS: f32 = -50.0;
/// Gaps shorter than this inside speech are kept (pauses between words).
const MAX_GAP_MS: usize = 400;
/// Bursts shorter than this are clicks, not words.
const MIN_SPEECH_MS: usize = 200;
/// Context kept before and after each stretch so word edges are not cut.
const PAD_MS: usize = 150;

/// A stretch of speech, in samples of the 16 kHz channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    /// First sample.
    pub start: usize,
    /// One past the last sample.
    pub end: usize,
}

fn frame_db(frame: &[f32]) -> f32 {
    let energy = frame.iter().map(|s| s * s).sum::<f32>() / frame.len().max(1) as f32;
    10.0 * (energy + 1e-12).log10()
}

/// The speech regions of a 16 kHz channel, in order, padded and merged.
pub fn speech_regions(samples: &[f32]) -> Vec<Region> {
    let ms = |n: usize| n * 16;
    let dbs: Vec<f32> = samples.chunks(FRAME).map(frame_db).collect();
    if dbs.is_empty() {
        return Vec::new();
    }
    let mut sorted = dbs.clone();
    sorted.sort_by(f32::total_cmp);
    let floor = sorted[sorted.len() / 10];
    let threshold = (floor + ABOVE_FLOOR_DB).max(MIN_LEVEL_DBFS);
    let mut regions: Vec<Region> = Vec::new();
    for (i, &db) in dbs.iter().enumerate() {
        if db < threshold {
            continue;
        }
        let (start, end) = (i * FRAME, ((i + 1) * FRAME).min(samples.len()));
        match regions.last_mut() {
            Some(r) if start - r.end <= ms(MAX_GAP_MS) => r.end = end,
            _ => regions.push(Region { start, end }),
        }
    }
    regions.retain(|r| r.end - r.start >= ms(MIN_SPEECH_MS));
    for r in &mut regions {
        r.start = r.start.saturating_sub(ms(PAD_MS));
        r.end = (r.end + ms(PAD_MS)).min(samples.len());
    }
    regions
}

/// The parts of `regions` that lie inside `spans` (both in order, not overlapping), cut at
/// the spans' edges. Slivers shorter than a word are dropped: they are the tail of something
/// outside the span.
pub fn keep_within(regions: &[Region], spans: &[Region]) -> Vec<Region> {
    let mut kept = Vec::new();
    for r in regions {
        for s in spans {
            let (start, end) = (r.start.max(s.start), r.end.min(s.end));
            if end.saturating_sub(start) >= MIN_SPEECH_MS * 16 {
                kept.push(Region { start, end });
            }
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(n: usize, amp: f32) -> Vec<f32> {
        (0..n)
            .map(|i| amp * (i as f32 * 300.0 * std::f32::consts::TAU / 16_000.0).sin())
            .collect()
    }

    #[test]
    fn regions_are_cut_to_the_spans_and_slivers_dropped() {
        let r = |start: usize, end: usize| Region { start, end };
        let regions = [r(0, 16_000), r(32_000, 64_000)];
        assert_eq!(
            keep_within(&regions, &[r(8_000, 40_000)]),
            vec![r(8_000, 16_000), r(32_000, 40_000)]
        );
        // 100 ms of the first region inside the span: a sliver
        assert_eq!(
            keep_within(&regions, &[r(14_400, 80_000)]),
            vec![r(32_000, 64_000)]
        );
        assert!(keep_within(&regions, &[]).is_empty());
    }

    #[test]
    fn silence_and_faint_noise_have_no_speech() {
        assert!(speech_regions(&[]).is_empty());
        assert!(speech_regions(&vec![0.0; 16_000 * 5]).is_empty());
        let hiss: Vec<f32> = (0..16_000 * 5)
            .map(|i| ((i * 7919) % 97) as f32 / 97.0 * 0.001 - 0.0005)
            .collect();
        assert!(speech_regions(&hiss).is_empty());
    }

    #[test]
    fn a_burst_is_found_padded_and_pauses_are_bridged() {
        let mut s = vec![0.0; 16_000];
        s.extend(tone(8_000, 0.3)); // 1.0-1.5 s
        s.extend(vec![0.0; 3_200]); // 200 ms pause: same stretch
        s.extend(tone(8_000, 0.3)); // 1.7-2.2 s
        s.extend(vec![0.0; 32_000]); // 2 s silence
        s.extend(tone(800, 0.3)); // a 50 ms click: dropped
        s.extend(vec![0.0; 16_000]);
        let r = speech_regions(&s);
        assert_eq!(r.len(), 1, "{r:?}");
        assert!(r[0].start <= 16_000 && r[0].start >= 16_000 - 2_400 - FRAME);
        assert!(r[0].end >= 35_200 && r[0].end <= 35_200 + 2_400 + FRAME);
    }
}
