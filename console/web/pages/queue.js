// The QA review queue: the random sample of answered calls plus every red-alerted or
// unsatisfied call; each row opens the call review.
import { get } from '../api.js';
import { t, tc } from '../i18n.js';
import { h, fill, card, table, fmtTime } from '../ui.js';

export async function render(main) {
  const box = h('div', { id: 'review-queue' }, h('p', { class: 'muted' }, t('loading')));
  fill(main, card(t('nav_queue'), box));
  try {
    const { items } = await get('/api/review-queue');
    fill(box, table([
      { label: t('rq_added'), get: (r) => fmtTime(r.added_at) },
      { label: t('rq_reason'), get: (r) => h('span', { class: `badge r-${r.reason}` }, tc('rq', r.reason)) },
      { label: t('ticket'), get: (r) => (r.ticket_id ? h('a', { href: `#/tickets/${encodeURIComponent(r.ticket_id)}` }, r.ticket_id) : '—') },
      { label: t('rq_evaluated'), get: (r) => (r.evaluated ? t('yes') : t('no')) },
      { label: '', get: (r) => h('a', { href: `#/review/${encodeURIComponent(r.call_id)}`, class: 'button' }, t('review')) },
    ], items));
  } catch (e) { fill(box, h('p', { class: 'error' }, e.message)); }
}
