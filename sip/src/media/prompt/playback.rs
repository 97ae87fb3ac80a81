//! Playing queued prompts to one call in 20 ms frames, with barge-in and looping.

use super::{FRAME_SAMPLES, Prompt, SAMPLE_RATE_HZ};

/// Plays queued prompts to one call, 20 ms at a time, as the RTP sender needs them;
/// stoppable mid-prompt for barge-in and optionally looping for hold music.
#[derive(Debug, Clone)]
pub struct Playback {
    prompts: Vec<Prompt>,
    index: usize,
    offset: usize,
    looping: bool,
    stopped: bool,
    played: u64,
}

impl Playback {
    /// Plays `prompts` back to back without gaps (e.g. "your case number is" + digits).
    pub fn new(prompts: Vec<Prompt>) -> Playback {
        let mut playback = Playback {
            prompts,
            index: 0,
            offset: 0,
            looping: false,
            stopped: false,
            played: 0,
        };
        playback.skip_exhausted();
        playback
    }

    /// Repeats `prompt` until [`stop`](Playback::stop), for hold music. An empty prompt has
    /// nothing to repeat and is finished at once.
    pub fn looping(prompt: Prompt) -> Playback {
        Playback::looping_all(vec![prompt])
    }

    /// Repeats `prompts` in order until [`stop`](Playback::stop), e.g. music alternating with
    /// "all lawyers are busy, please hold". Finished at once if they are all empty.
    pub fn looping_all(prompts: Vec<Prompt>) -> Playback {
        let mut playback = Playback::new(prompts);
        playback.looping = !playback.is_finished();
        playback
    }

    /// Fills `frame` with the next 20 ms. Returns true if it holds audio (the last partial
    /// frame is padded with silence); returns false, with `frame` silent, once finished.
    pub fn next_frame(&mut self, frame: &mut [i16; FRAME_SAMPLES]) -> bool {
        let mut filled = 0;
        while filled < FRAME_SAMPLES && !self.is_finished() {
            let samples = self.prompts[self.index].samples();
            let n = (samples.len() - self.offset).min(FRAME_SAMPLES - filled);
            frame[filled..filled + n].copy_from_slice(&samples[self.offset..self.offset + n]);
            filled += n;
            self.offset += n;
            self.skip_exhausted();
        }
        frame[filled..].fill(0);
        self.played += filled as u64;
        filled > 0
    }

    /// True when nothing is left to play (or playback was stopped).
    pub fn is_finished(&self) -> bool {
        self.stopped || self.index >= self.prompts.len()
    }

    /// Stops playback at once, for barge-in: the caller pressed a digit mid-prompt.
    pub fn stop(&mut self) {
        self.stopped = true;
    }

    /// Milliseconds of audio handed out so far (across prompts and loops), e.g. to log how
    /// far into a menu the caller barged in.
    pub fn position_ms(&self) -> u64 {
        self.played * 1000 / u64::from(SAMPLE_RATE_HZ)
    }

    /// Moves past finished and empty prompts, wrapping around when looping.
    fn skip_exhausted(&mut self) {
        while self.index < self.prompts.len()
            && self.offset >= self.prompts[self.index].samples.len()
        {
            self.index += 1;
            self.offset = 0;
            if self.index == self.prompts.len() && self.looping {
                self.index = 0;
            }
        }
    }
}
