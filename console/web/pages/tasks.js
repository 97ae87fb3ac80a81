// Return-visit and callback tasks in the supervisor's scope: mark done or hand to a lawyer.
import { get, post } from '../api.js';
import { t, tc } from '../i18n.js';
import { h, fill, card, table, fmtTime, toast, field, select } from '../ui.js';

export async function render(main) {
  const kind = select('kind', [['return_visit', tc('kind', 'return_visit')], ['callback', tc('kind', 'callback')], ['', t('all')]], 'return_visit');
  const box = h('div', { id: 'task-list' });
  let lawyers = [];
  try { ({ lawyers } = await get('/api/lawyers')); } catch { /* assigning then shows ids only */ }
  async function load() {
    const q = new URLSearchParams({ status: 'open' });
    if (kind.value) q.set('kind', kind.value);
    try {
      const { tasks } = await get(`/api/tasks?${q}`);
      fill(box, table([
        { label: t('kind'), get: (r) => tc('kind', r.kind) },
        { label: t('caller'), get: (r) => r.caller || '—' },
        { label: t('due'), get: (r) => fmtTime(r.due_at || r.due) },
        { label: t('ticket'), get: (r) => (r.ticket_id ? h('a', { href: `#/tickets/${encodeURIComponent(r.ticket_id)}` }, r.ticket_number || r.ticket_id) : '—') },
        { label: t('lawyer'), get: (r) => assignForm(r) },
        { label: '', get: (r) => h('button', { type: 'button', onclick: () => act(`/api/tasks/${r.id}/done`) }, t('task_done')) },
      ], tasks));
    } catch (e) { fill(box, h('p', { class: 'error' }, e.message)); }
  }
  function assignForm(task) {
    const who = h('select', { name: 'to' }, h('option', { value: '' }, '—'),
      lawyers.map((l) => h('option', { value: l.id, selected: l.id === (task.assignee || task.assigned_to) }, l.name)));
    who.addEventListener('change', () => { if (who.value) act(`/api/tasks/${task.id}/assign`, { to: who.value }); });
    return who;
  }
  async function act(path, body) {
    try { await post(path, body); toast(t('saved')); load(); } catch (e) { toast(e.message, true); }
  }
  kind.addEventListener('change', load);
  fill(main, card(t('nav_tasks'), h('div', { class: 'filters' }, field(t('kind'), kind)), box));
  load();
}
