// Case tickets: the list (filtered by status or caller; lawyers see their own) and one ticket
// with its calls (each opens the call review), tasks, QA scores, notes, and the edit form.
import { get, patch, post } from '../api.js';
import { t, tc } from '../i18n.js';
import { h, fill, card, table, fmtTime, toast, field, select } from '../ui.js';
import { CATEGORIES, OUTCOMES } from './desk.js';
import { loadRegions, regionLabel } from '../regions.js';

const STATUSES = ['open', 'in_progress', 'resolved', 'closed'];

export async function render(main, params, user) {
  const regions = await loadRegions(user);
  if (params[0]) return detail(main, params[0], user, regions);
  const status = select('status', [['', t('all')], ...STATUSES.map((s) => [s, tc('tk', s)])], '');
  const caller = h('input', { name: 'caller', placeholder: t('caller'), inputmode: 'tel' });
  const list = h('div', { id: 'ticket-list' });
  async function load() {
    const q = new URLSearchParams({ limit: '100' });
    if (status.value) q.set('status', status.value);
    if (caller.value.trim()) q.set('caller', caller.value.trim());
    if (user.role === 'lawyer') q.set('mine', '1');
    try {
      const { tickets } = await get(`/api/tickets?${q}`);
      fill(list, table([
        { label: t('number'), get: (r) => h('a', { href: `#/tickets/${encodeURIComponent(r.id)}` }, r.number || r.id) },
        { label: t('caller'), get: (r) => r.caller },
        { label: t('region'), get: (r) => regionLabel(regions, r.region) },
        { label: t('category'), get: (r) => tc('cat', r.category) },
        { label: t('status'), get: (r) => tc('tk', r.status) },
        { label: t('lawyer'), get: (r) => r.lawyer_id || '—' },
        { label: '', get: (r) => [r.red_alert ? h('span', { class: 'badge bad' }, t('red_alert')) : null, (r.sla_breaches || []).length ? h('span', { class: 'badge warn' }, t('sla')) : null] },
        { label: t('updated'), get: (r) => fmtTime(r.updated_at) },
      ], tickets));
    } catch (e) { fill(list, h('p', { class: 'error' }, e.message)); }
  }
  const form = h('form', { class: 'filters' }, field(t('status'), status), field(t('caller'), caller), h('button', { type: 'submit' }, t('filter')));
  form.addEventListener('submit', (ev) => { ev.preventDefault(); load(); });
  fill(main, card(t('nav_tickets'), form, list));
  load();
}

async function detail(main, id, user, regions) {
  let tk;
  try { tk = await get(`/api/tickets/${encodeURIComponent(id)}`); } catch (e) { fill(main, h('p', { class: 'error' }, e.message)); return; }
  const staff = user.role !== 'lawyer';
  const facts = h('dl', { class: 'facts', id: 'ticket-facts' },
    h('dt', {}, t('number')), h('dd', {}, tk.number || tk.id),
    h('dt', {}, t('caller')), h('dd', {}, tk.caller),
    h('dt', {}, t('region')), h('dd', {}, regionLabel(regions, tk.region)),
    h('dt', {}, t('category')), h('dd', {}, tc('cat', tk.category)),
    h('dt', {}, t('outcome')), h('dd', {}, tc('out', tk.outcome)),
    h('dt', {}, t('status')), h('dd', {}, tc('tk', tk.status)),
    h('dt', {}, t('lawyer')), h('dd', {}, tk.lawyer_id || '—'),
    h('dt', {}, t('created')), h('dd', {}, fmtTime(tk.created_at)),
    h('dt', {}, t('due')), h('dd', {}, fmtTime(tk.review_due || tk.assign_due || tk.return_visit_due)),
    tk.red_alert ? [h('dt', {}, t('red_alert')), h('dd', { class: 'bad' }, t('yes'))] : null,
    (tk.sla_breaches || []).length ? [h('dt', {}, t('sla')), h('dd', { class: 'bad' }, tk.sla_breaches.map((b) => `${tc('sla', b.kind || b)} ${b.due ? fmtTime(b.due) : ''}`).join(', '))] : null);

  const category = select('category', CATEGORIES.map((c) => [c, tc('cat', c)]), tk.category);
  const outcome = select('outcome', [['', '—'], ...OUTCOMES.map((o) => [o, tc('out', o)])], tk.outcome || '');
  const status = select('status', STATUSES.map((s) => [s, tc('tk', s)]), tk.status);
  const note = h('textarea', { name: 'note', rows: 3 });
  const edit = h('form', { class: 'form', id: 'ticket-edit' },
    field(t('category'), category), field(t('outcome'), outcome), field(t('status'), status),
    field(t('add_note'), note), h('button', { type: 'submit', class: 'primary' }, t('save')));
  edit.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = { category: category.value };
    if (outcome.value) body.outcome = outcome.value;
    if (status.value !== tk.status) body.status = status.value;
    if (note.value.trim()) body.note = note.value.trim();
    try { await patch(`/api/tickets/${encodeURIComponent(tk.id)}`, body); toast(t('saved')); detail(main, id, user, regions); } catch (e) { toast(e.message, true); }
  });

  let assign = null;
  if (staff) {
    const who = h('select', { name: 'lawyer_id' });
    get('/api/lawyers').then(({ lawyers }) => fill(who, lawyers.map((l) => h('option', { value: l.id, selected: l.id === tk.lawyer_id }, `${l.name} (${l.id})`)))).catch(() => {});
    assign = h('form', { class: 'form inline' }, field(t('assign_to'), who), h('button', { type: 'submit' }, t('assign')),
      h('button', { type: 'button', onclick: async () => { try { await post(`/api/tickets/${encodeURIComponent(tk.id)}/review`); toast(t('saved')); } catch (e) { toast(e.message, true); } } }, t('review')));
    assign.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      try { await post(`/api/tickets/${encodeURIComponent(tk.id)}/assign`, { lawyer_id: who.value }); toast(t('saved')); detail(main, id, user, regions); } catch (e) { toast(e.message, true); }
    });
  }

  fill(main, h('div', { class: 'grid two' },
    card(`${t('ticket')} ${tk.number || tk.id}`, facts, tk.notes ? h('pre', { class: 'notes', id: 'ticket-notes' }, tk.notes) : null),
    card(t('save'), edit, assign),
    card(t('calls'), table([
      { label: t('arrived'), get: (c) => fmtTime(c.arrived_at) },
      { label: t('lawyer'), get: (c) => c.lawyer_id || '—' },
      { label: t('disposition'), get: (c) => tc('disp', c.disposition) },
      { label: '', get: (c) => (staff ? h('a', { href: `#/review/${encodeURIComponent(c.id)}` }, t('review')) : '') },
    ], tk.calls || [])),
    card(t('tasks'), table([
      { label: t('kind'), get: (r) => tc('kind', r.kind) },
      { label: t('status'), get: (r) => r.status },
      { label: t('due'), get: (r) => fmtTime(r.due_at || r.due) },
    ], tk.tasks || [])),
    card(t('qa'), table([
      { label: t('score'), get: (q) => `${Math.round(q.score)}%` },
      { label: t('comment'), get: (q) => q.comment || '' },
      { label: t('created'), get: (q) => fmtTime(q.created_at || q.at) },
    ], tk.qa || []))));
}
