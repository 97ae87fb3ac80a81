//! The interpreter's input nodes: menus (one key chooses a branch), digit collection (area
//! codes) and surveys (one key recorded as a value). All three prompt with barge-in, wait
//! `timeout` for a key, say `invalid` after unusable input and give up to `on_fail` after
//! `retries` further attempts.

use std::slice;

use crate::control::{CallControl, CollectOutcome};
use crate::events::{IvrEvent, RegionSource};
use crate::flow::{Collect, Input, Key, Menu, Resolve, Survey};
use crate::ids::NodeId;
use crate::interpreter::{Call, Gone, Step};

impl<C: CallControl> Call<'_, C> {
    /// One attempt at reading one key: the prompts (a key stops them), then up to `timeout`
    /// of silence. `None`: nothing was pressed.
    async fn one_key(&mut self, input: &Input) -> Step<Option<char>> {
        if let Some(k) = self.play(&input.prompts, true).await? {
            return Ok(Some(k));
        }
        match self.control.collect(None, 1, None, input.timeout).await {
            CollectOutcome::Digits(s) | CollectOutcome::Timeout(s) => Ok(s.chars().next()),
            CollectOutcome::CallerGone => Err(Gone),
        }
    }

    /// Reports unusable input and says so to the caller.
    async fn invalid(&mut self, node: &NodeId, input: &Input, what: String) -> Step<()> {
        self.emit(IvrEvent::InputInvalid {
            node: node.clone(),
            input: what,
        });
        if let Some(p) = &input.invalid {
            self.play(slice::from_ref(p), false).await?;
        }
        Ok(())
    }

    fn failed(&self, node: &NodeId, input: &Input) -> NodeId {
        self.emit(IvrEvent::InputFailed { node: node.clone() });
        input.on_fail.clone()
    }

    /// A menu: the chosen branch, with its variables and language set.
    pub(crate) async fn menu(&mut self, id: &NodeId, m: &Menu) -> Step<NodeId> {
        for _ in 0..=m.input.retries {
            let Some(c) = self.one_key(&m.input).await? else {
                continue;
            };
            match Key::new(c).and_then(|k| m.choice(k)) {
                Some(choice) => {
                    self.emit(IvrEvent::MenuChoice {
                        node: id.clone(),
                        key: c,
                    });
                    self.set_vars(&choice.set);
                    if let Some(l) = &choice.language {
                        self.set_language(l);
                    }
                    return Ok(choice.goto.clone());
                }
                None => self.invalid(id, &m.input, c.to_string()).await?,
            }
        }
        Ok(self.failed(id, &m.input))
    }

    /// Digits into a variable; with `resolve = "area_code"` they must name a known area and
    /// set the caller's region.
    pub(crate) async fn collect(&mut self, id: &NodeId, c: &Collect) -> Step<NodeId> {
        let terminator = c.terminator.map(Key::as_char);
        for _ in 0..=c.input.retries {
            let first = self.play(&c.input.prompts, true).await?;
            let got = match self
                .control
                .collect(first, c.max_digits as usize, terminator, c.input.timeout)
                .await
            {
                CollectOutcome::Digits(s) | CollectOutcome::Timeout(s) => s,
                CollectOutcome::CallerGone => return Err(Gone),
            };
            if got.is_empty() {
                continue;
            }
            if got.len() < c.min_digits as usize || !got.bytes().all(|b| b.is_ascii_digit()) {
                self.invalid(id, &c.input, got).await?;
                continue;
            }
            if c.resolve == Some(Resolve::AreaCode) {
                match self.plan.regions.resolve_area_code(&got) {
                    Some(r) => self.set_region(r, RegionSource::AreaCode),
                    None => {
                        self.invalid(id, &c.input, got).await?;
                        continue;
                    }
                }
            }
            self.set_var(&c.var, &got);
            return Ok(c.next.clone());
        }
        Ok(self.failed(id, &c.input))
    }

    /// A one-key question; the answer's value goes into the node's variable and the summary.
    pub(crate) async fn survey(&mut self, id: &NodeId, s: &Survey) -> Step<NodeId> {
        for _ in 0..=s.input.retries {
            let Some(c) = self.one_key(&s.input).await? else {
                continue;
            };
            match s.answers.iter().find(|(k, _)| k.as_char() == c) {
                Some((_, value)) => {
                    self.emit(IvrEvent::SurveyAnswer {
                        value: value.clone(),
                    });
                    self.set_var(&s.var, value);
                    self.survey = Some(value.clone());
                    return Ok(s.next.clone());
                }
                None => self.invalid(id, &s.input, c.to_string()).await?,
            }
        }
        Ok(self.failed(id, &s.input))
    }
}
