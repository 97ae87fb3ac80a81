// The lawyer's desk: status buttons (ready / not ready / after-call work with its wrap-up
// timer), the screen-pop the server pushes over the live socket when this lawyer's phone
// rings, the prefilled ticket form, and the callbacks assigned to this lawyer.
import { get, post, patch, onLive } from '../api.js';
import { t, tc } from '../i18n.js';
import { h, fill, card, table, fmtTime, fmtSecs, toast, field, select } from '../ui.js';

export const CATEGORIES = ['consultation', 'legal_aid', 'mediation', 'complaint', 'other'];
// The server accepts exactly these outcome codes (`OUTCOMES` in src/cases_api.rs; a test
// compares the lists).
export const OUTCOMES = ['resolved', 'referred', 'legal_aid', 'mediation', 'callback', 'complaint', 'other'];

/** How long the desk waits for the ticket a call is filed on when it ends. */
const TICKET_WAIT_MS = 90_000;

// The last screen-pop, kept while the lawyer looks at another page, shown again on return.
// It holds the caller's details, so app.js reloads the page on sign-out and on a lost session.
let lastPop = null;
onLive('screen_pop', (m) => { lastPop = m; });

export async function render(main) {
  const stateBox = h('div', { class: 'state', id: 'desk-state' });
  const buttons = h('div', { class: 'buttons' },
    [['ready', 'btn_ready'], ['not_ready', 'btn_not_ready'], ['after_call_work', 'btn_acw'], ['logged_out', 'btn_logged_out']]
      .map(([s, k]) => h('button', { type: 'button', id: `desk-${s}`, class: `state-btn s-${s}`, onclick: () => setState(s) }, t(k))));
  const popBox = h('div', { id: 'screen-pop', class: 'pop idle' }, h('p', { class: 'muted' }, t('pop_waiting')));
  const formBox = h('div', { id: 'ticket-form-box' });
  const tasksBox = h('div', { id: 'my-tasks' });
  const ticketsBox = h('div', { id: 'my-tickets' });

  fill(main, h('div', { class: 'grid desk' },
    card(t('my_status'), stateBox, buttons),
    card(t('pop_title'), popBox),
    card(t('ticket_form'), formBox),
    card(t('my_tasks'), tasksBox),
    card(t('my_tickets'), ticketsBox)));

  let desk = null;
  let timer = null;

  function showState(d) {
    desk = d;
    const left = d.until ? (d.until - Date.now()) / 1000 : null;
    fill(stateBox,
      h('span', { class: `badge s-${d.state}`, id: 'desk-state-name', dataset: { state: d.state } }, tc('st', d.state)),
      h('span', { class: 'muted' }, ` ${t('since')} ${fmtTime(d.since)}`),
      left !== null && left > 0 ? h('div', { class: 'wrapup', id: 'wrapup-timer' }, t('wrapup_left', { t: fmtSecs(left) })) : null);
    for (const b of buttons.children) b.classList.toggle('current', b.id === `desk-${d.state}`);
    // wrap-up starts by itself when a call ends; the button only shows (and keeps) it
    const acw = document.getElementById('desk-after_call_work');
    if (acw) { acw.disabled = d.state !== 'after_call_work'; acw.title = t('acw_hint'); }
  }

  async function setState(state) {
    try {
      showState(await post('/api/desk/state', { state }));
    } catch (e) { toast(e.message, true); }
  }

  // ---- the call in front of the lawyer and its ticket form
  let call = null; // the screen_pop message

  function showPop(pop) {
    call = pop;
    popBox.className = 'pop ringing';
    popBox.dataset.callId = pop.call_id || '';
    fill(popBox,
      h('dl', { class: 'facts' },
        h('dt', {}, t('caller')), h('dd', { id: 'pop-caller' }, pop.caller || '—'),
        h('dt', {}, t('region')), h('dd', { id: 'pop-region', dataset: { region: pop.region || '' } }, pop.region_name || pop.region || '—'),
        h('dt', {}, t('language')), h('dd', { id: 'pop-language' }, tc('lang', pop.language)),
        h('dt', {}, t('service')), h('dd', { id: 'pop-service' }, tc('cat', pop.category)),
        h('dt', {}, t('queue_wait')), h('dd', { id: 'pop-wait' }, fmtSecs(pop.queue_wait_secs))),
      h('h3', {}, t('earlier_tickets')),
      table([
        { label: t('number'), get: (r) => h('a', { href: `#/tickets/${r.id}` }, r.number || r.id) },
        { label: t('category'), get: (r) => tc('cat', r.category) },
        { label: t('status'), get: (r) => tc('tk', r.status) },
        { label: t('created'), get: (r) => fmtTime(r.created_at) },
      ], pop.earlier_tickets || []));
    showForm(pop);
  }

  function showForm(pop) {
    const ticket = pop.ticket || null;
    const category = select('category', CATEGORIES.map((c) => [c, tc('cat', c)]), (ticket && ticket.category) || pop.category || 'consultation');
    const outcome = select('outcome', [['', '—'], ...OUTCOMES.map((o) => [o, tc('out', o)])], (ticket && ticket.outcome) || '');
    const note = h('textarea', { name: 'note', id: 'ticket-note', rows: 4 });
    const msg = h('p', { class: 'muted', id: 'ticket-msg' });
    const saveBtn = h('button', { type: 'submit', class: 'primary', id: 'ticket-save' }, t('save_ticket'));
    const form = h('form', { id: 'ticket-form', class: 'form' },
      h('p', {}, t('ticket'), ': ', h('strong', { id: 'ticket-number' }, ticket ? (ticket.number || ticket.id) : '—'),
        ' · ', t('caller'), ' ', pop.caller || '—'),
      field(t('category'), category), field(t('outcome'), outcome), field(t('add_note'), note),
      ticket && ticket.notes ? h('pre', { class: 'notes' }, ticket.notes) : null,
      saveBtn, msg);
    category.id = 'ticket-category';
    outcome.id = 'ticket-outcome';
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      saveBtn.disabled = true;
      try {
        const id = await ticketId(pop, msg);
        const body = { category: category.value };
        if (outcome.value) body.outcome = outcome.value;
        if (note.value.trim()) body.note = note.value.trim();
        const saved = await patch(`/api/tickets/${encodeURIComponent(id)}`, body);
        pop.ticket = saved; // shown again as saved when the desk is drawn anew
        fill(msg, h('span', { class: 'ok', id: 'ticket-saved' }, `${t('ticket_saved')}: ${saved.number || saved.id}`));
        document.getElementById('ticket-number').textContent = saved.number || saved.id;
        note.value = '';
        toast(t('ticket_saved'));
        loadTickets();
      } catch (e) {
        msg.textContent = e.message;
        msg.className = 'error';
      } finally { saveBtn.disabled = false; }
    });
    fill(formBox, form);
  }

  // The ticket a call is on: in the screen-pop for a repeat caller, else filed when the call
  // ends; the form waits for it (asking /api/calls/{id}) so the lawyer can type during the call.
  async function ticketId(pop, msg) {
    if (pop.ticket && pop.ticket.id) return pop.ticket.id;
    const deadline = Date.now() + TICKET_WAIT_MS;
    for (;;) {
      let c = null;
      try {
        c = await get(`/api/calls/${encodeURIComponent(pop.call_id)}`);
      } catch (e) {
        // the call becomes this lawyer's when it is connected and filed: keep waiting
        if (![403, 404].includes(e.status) || Date.now() > deadline) throw e;
      }
      if (c && c.ticket_id) { pop.ticket = { id: c.ticket_id }; return c.ticket_id; }
      if (Date.now() > deadline) throw new Error(t('no_ticket'));
      msg.className = 'muted';
      msg.textContent = t('ticket_pending');
      await new Promise((r) => setTimeout(r, 1000));
    }
  }

  // ---- tasks and tickets
  async function loadTasks() {
    try {
      const { tasks } = await get('/api/tasks?mine=1&status=open');
      fill(tasksBox, table([
        { label: t('kind'), get: (r) => tc('kind', r.kind) },
        { label: t('caller'), get: (r) => r.caller || '—' },
        { label: t('due'), get: (r) => fmtTime(r.due_at || r.due) },
        { label: t('ticket'), get: (r) => (r.ticket_id ? h('a', { href: `#/tickets/${r.ticket_id}` }, r.ticket_number || r.ticket_id) : '—') },
        { label: '', get: (r) => h('button', { type: 'button', onclick: async () => { try { await post(`/api/tasks/${r.id}/done`); loadTasks(); } catch (e) { toast(e.message, true); } } }, t('task_done')) },
      ], tasks));
    } catch (e) { fill(tasksBox, h('p', { class: 'error' }, e.message)); }
  }

  async function loadTickets() {
    try {
      const { tickets } = await get('/api/tickets?mine=1&limit=10');
      fill(ticketsBox, table([
        { label: t('number'), get: (r) => h('a', { href: `#/tickets/${r.id}` }, r.number || r.id) },
        { label: t('caller'), get: (r) => r.caller },
        { label: t('category'), get: (r) => tc('cat', r.category) },
        { label: t('outcome'), get: (r) => tc('out', r.outcome) },
        { label: t('updated'), get: (r) => fmtTime(r.updated_at) },
      ], tickets));
    } catch (e) { fill(ticketsBox, h('p', { class: 'error' }, e.message)); }
  }

  const offs = [
    onLive('screen_pop', (m) => { showPop(m); }),
    onLive('desk', (m) => {
      // a change without its start time started now
      showState({ ...desk, ...m, since: m.since || (desk && desk.state === m.state ? desk.since : Date.now()) });
      loadTasks();
      loadTickets();
    }),
  ];
  timer = setInterval(() => { if (desk && desk.until) showState(desk); }, 1000);
  try { showState(await get('/api/desk')); } catch (e) { fill(stateBox, h('p', { class: 'error' }, e.message)); }
  if (lastPop) showPop(lastPop);
  loadTasks();
  loadTickets();
  return () => { offs.forEach((f) => f()); clearInterval(timer); };
}
