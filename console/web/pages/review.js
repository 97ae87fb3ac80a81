// Call review for supervisors: the stereo recording in the page (wavesurfer.js draws the
// waveform over the native <audio> element, which plays and seeks with HTTP ranges), the
// dialogue beside it (clicking a line seeks the audio, the line being heard is highlighted),
// and the QA evaluation form whose weighted score the server stores with the ticket.
import WaveSurfer from '../vendor/wavesurfer.esm.js';
import { get, post } from '../api.js';
import { t, tc, lang } from '../i18n.js';
import { h, fill, card, table, fmtTime, fmtSecs, toast } from '../ui.js';
import { loadRegions, regionLabel } from '../regions.js';

export async function render(main, params, user) {
  const id = params[0];
  const regions = await loadRegions(user);
  let call;
  try { call = await get(`/api/calls/${encodeURIComponent(id)}`); } catch (e) { fill(main, h('p', { class: 'error' }, e.message)); return; }

  const facts = h('dl', { class: 'facts', id: 'review-facts' },
    h('dt', {}, t('caller')), h('dd', {}, call.caller),
    h('dt', {}, t('region')), h('dd', { id: 'review-region', dataset: { region: call.region || '' } }, regionLabel(regions, call.region)),
    h('dt', {}, t('language')), h('dd', {}, tc('lang', call.language)),
    h('dt', {}, t('service')), h('dd', {}, tc('cat', call.category)),
    h('dt', {}, t('lawyer')), h('dd', {}, call.lawyer_id || '—'),
    h('dt', {}, t('arrived')), h('dd', {}, fmtTime(call.arrived_at)),
    h('dt', {}, t('queue_wait')), h('dd', {}, fmtSecs(call.queue_wait_secs)),
    h('dt', {}, t('disposition')), h('dd', {}, tc('disp', call.disposition)),
    h('dt', {}, t('survey')), h('dd', {}, call.survey || '—'),
    h('dt', {}, t('ticket')), h('dd', {}, call.ticket_id ? h('a', { href: `#/tickets/${encodeURIComponent(call.ticket_id)}` }, call.ticket_id) : '—'));

  // ---- recording
  const audio = h('audio', { id: 'review-audio', controls: true, preload: 'metadata' });
  const wave = h('div', { id: 'review-wave', class: 'wave' });
  const playBtn = h('button', { type: 'button', id: 'review-play', class: 'primary' }, t('rv_play'));
  const clock = h('span', { id: 'review-clock', class: 'muted' }, '0:00');
  let ws = null;
  let player;
  if (call.has_recording) {
    audio.src = `/api/calls/${encodeURIComponent(id)}/recording`;
    player = h('div', { class: 'player' }, wave, h('div', { class: 'controls' }, playBtn, clock), audio);
    playBtn.addEventListener('click', () => { if (audio.paused) audio.play().catch((e) => toast(e.message, true)); else audio.pause(); });
    audio.addEventListener('play', () => { playBtn.textContent = t('rv_pause'); });
    audio.addEventListener('pause', () => { playBtn.textContent = t('rv_play'); });
    audio.addEventListener('timeupdate', () => {
      clock.textContent = `${fmtSecs(audio.currentTime)} / ${fmtSecs(audio.duration)}`;
      highlight(audio.currentTime * 1000);
    });
    try {
      ws = WaveSurfer.create({
        container: wave, media: audio, url: audio.src, height: 96, splitChannels: [{ waveColor: '#1f6feb', progressColor: '#0b3d91' }, { waveColor: '#2da44e', progressColor: '#116329' }],
        normalize: true, dragToSeek: true,
      });
      ws.on('error', (e) => console.warn('waveform', e));
    } catch (e) { console.warn('waveform', e); }
  } else {
    player = h('p', { class: 'muted', id: 'review-no-recording' }, t('rv_no_recording'));
  }

  // ---- transcript
  const dialogue = h('div', { id: 'review-transcript', class: 'dialogue' }, h('p', { class: 'muted' }, t('loading')));
  let lines = [];
  function highlight(ms) {
    for (const l of lines) l.el.classList.toggle('now', ms >= l.seg.start_ms && ms < l.seg.end_ms);
  }
  get(`/api/calls/${encodeURIComponent(id)}/transcript`).then((tr) => {
    if (tr.status !== 'done' || !(tr.segments || []).length) {
      fill(dialogue, h('p', { class: 'muted', id: 'review-no-transcript', dataset: { status: tr.status } },
        t('rv_no_transcript'), ' · ', t('rv_transcript_status', { s: tr.status })));
      return;
    }
    lines = tr.segments.map((seg) => {
      const el = h('p', { class: `line ${seg.speaker}`, tabindex: 0, dataset: { start: seg.start_ms } },
        h('span', { class: 'who' }, tc('spk', seg.speaker)), h('span', { class: 'at' }, fmtSecs(seg.start_ms / 1000)), ' ', seg.text);
      const seek = () => { audio.currentTime = seg.start_ms / 1000; if (audio.paused) audio.play().catch(() => {}); };
      el.addEventListener('click', seek);
      el.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') seek(); });
      return { el, seg };
    });
    fill(dialogue, lines.map((l) => l.el),
      (tr.alerts || []).length ? h('p', { class: 'bad' }, t('red_alert'), ': ', tr.alerts.map((a) => a.keyword || a).join(', ')) : null);
  }).catch((e) => fill(dialogue, h('p', { class: 'error' }, e.message)));

  // ---- QA
  const qaBox = h('div', { id: 'qa-box' }, h('p', { class: 'muted' }, t('loading')));
  const previous = h('div', { id: 'qa-previous' });
  async function loadPrevious() {
    try {
      const r = await get(`/api/calls/${encodeURIComponent(id)}/qa`);
      const evals = Array.isArray(r) ? r : (r.evaluations || r.qa || []);
      fill(previous, h('h3', {}, t('qa_previous')), table([
        { label: t('score'), get: (q) => `${Math.round(q.score)}%` },
        { label: t('comment'), get: (q) => q.comment || '' },
        { label: t('created'), get: (q) => fmtTime(q.created_at || q.at) },
      ], evals));
    } catch (e) { fill(previous, h('p', { class: 'error' }, e.message)); }
  }
  get('/api/qa/form').then(({ questions }) => {
    const inputs = questions.map((q) => {
      const sel = h('select', { name: q.id, id: `qa-${q.id}` },
        Array.from({ length: q.max + 1 }, (_, i) => h('option', { value: i, selected: i === q.max }, String(i))));
      return { q, sel };
    });
    const comment = h('textarea', { name: 'comment', id: 'qa-comment', rows: 2 });
    const result = h('p', { id: 'qa-result' });
    const form = h('form', { class: 'form qa', id: 'qa-form' },
      inputs.map(({ q, sel }) => h('label', { class: 'field qa-q' },
        h('span', {}, lang() === 'zh' ? q.text_zh : q.text_en, h('small', { class: 'muted' }, ` ×${q.weight}`)), sel)),
      h('label', { class: 'field' }, h('span', {}, t('comment')), comment),
      h('button', { type: 'submit', class: 'primary', id: 'qa-submit' }, t('qa_submit')), result);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const answers = Object.fromEntries(inputs.map(({ q, sel }) => [q.id, Number(sel.value)]));
      try {
        const { score } = await post(`/api/calls/${encodeURIComponent(id)}/qa`, { answers, comment: comment.value });
        fill(result, h('strong', { class: 'ok', id: 'qa-score', dataset: { score } }, t('qa_scored', { s: Math.round(score * 10) / 10 })));
        loadPrevious();
      } catch (e) { fill(result, h('span', { class: 'error' }, e.message)); }
    });
    fill(qaBox, form);
  }).catch((e) => fill(qaBox, h('p', { class: 'error' }, e.message)));
  loadPrevious();

  fill(main, h('div', { class: 'review' },
    h('div', { class: 'grid review-top' },
      card(t('rv_recording'), player, facts),
      card(t('rv_transcript'), dialogue)),
    card(t('qa_form'), qaBox, previous)));
  return () => { audio.pause(); if (ws) ws.destroy(); };
}
