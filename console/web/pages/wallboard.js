// The supervisors' live wallboard: the server pushes the same body as GET /api/wallboard over
// the live socket every 2 s and on change; red alerts and call events arrive as they happen.
import { get, onLive } from '../api.js';
import { t, tc } from '../i18n.js';
import { h, fill, card, fmtSecs, fmtPct, fmtTime } from '../ui.js';
import { makeChart, destroyAll, COLORS } from '../charts.js';
import { loadRegions, regionLabel } from '../regions.js';

const STATES = ['ready', 'busy', 'ringing', 'after_call_work', 'not_ready', 'logged_out'];
const STATE_COLORS = { ready: '#2da44e', busy: '#1f6feb', ringing: '#d29922', after_call_work: '#8250df', not_ready: '#cf222e', logged_out: '#8c959f' };

export async function render(main, params, user) {
  const regions = await loadRegions(user);
  const tiles = h('div', { class: 'tiles', id: 'wb-tiles' });
  const charts = [];
  const waiting = makeChart('wb-waiting-chart', {
    type: 'bar',
    data: { labels: [], datasets: [{ label: t('wb_waiting'), data: [], backgroundColor: COLORS[0] }, { label: `${t('wb_longest')} (s)`, data: [], backgroundColor: COLORS[2], yAxisID: 'y1' }] },
    options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } }, y1: { beginAtZero: true, position: 'right', grid: { drawOnChartArea: false } } } },
  });
  const lawyers = makeChart('wb-lawyers-chart', {
    type: 'doughnut',
    data: { labels: STATES.map((s) => tc('st', s)), datasets: [{ data: STATES.map(() => 0), backgroundColor: STATES.map((s) => STATE_COLORS[s]) }] },
  });
  charts.push(waiting.chart, lawyers.chart);
  const alerts = h('ul', { class: 'alerts', id: 'wb-alerts' });
  const events = h('ul', { class: 'events', id: 'wb-events' });

  fill(main, h('div', { class: 'wallboard' },
    tiles,
    h('div', { class: 'grid two' },
      card(t('wb_waiting_by_region'), waiting.box),
      card(t('wb_lawyers'), lawyers.box)),
    h('div', { class: 'grid two' },
      card(t('wb_live_alerts'), alerts),
      card(t('wb_events'), events))));

  function tile(key, value, bad) {
    return h('div', { class: bad ? 'tile bad' : 'tile', id: `wb-${key}` }, h('div', { class: 'value' }, value), h('div', { class: 'label' }, t(key)));
  }

  function show(wb) {
    const waitingTotal = (wb.waiting || []).reduce((n, w) => n + (w.count || 0), 0);
    fill(tiles,
      tile('wb_waiting', waitingTotal, waitingTotal > 0 && wb.longest_wait_secs > 60),
      tile('wb_longest', fmtSecs(wb.longest_wait_secs || 0), wb.longest_wait_secs > 60),
      tile('wb_active', wb.active_calls ?? 0),
      tile('wb_calls_today', wb.calls_today ?? 0),
      tile('wb_answer_rate', fmtPct(wb.answer_rate_today), wb.answer_rate_today !== null && wb.answer_rate_today < 0.8 && wb.calls_today > 0),
      tile('wb_overflow', wb.overflow_today ?? 0),
      tile('wb_sla', wb.sla_breaches ?? 0, wb.sla_breaches > 0),
      tile('wb_alerts', wb.red_alerts_open ?? 0, wb.red_alerts_open > 0));
    const rows = wb.waiting || [];
    waiting.chart.data.labels = rows.map((w) => w.name || regionLabel(regions, w.region));
    waiting.chart.data.datasets[0].data = rows.map((w) => w.count);
    waiting.chart.data.datasets[1].data = rows.map((w) => w.longest_wait_secs);
    waiting.chart.update();
    const by = wb.lawyers_by_state || {};
    lawyers.chart.data.datasets[0].data = STATES.map((s) => by[s] || 0);
    lawyers.chart.update();
  }

  function addItem(list, item, max) {
    list.prepend(item);
    while (list.children.length > max) list.lastChild.remove();
  }

  const offs = [
    onLive('wallboard', show),
    onLive('alert', (a) => addItem(alerts, h('li', { class: 'alert' },
      h('strong', {}, t('red_alert')), ` ${fmtTime(a.at)} «${a.keyword}» `,
      a.call_id ? h('a', { href: `#/review/${encodeURIComponent(a.call_id)}` }, t('review')) : null), 20)),
    onLive('call_event', (e) => {
      const ev = e.event || {};
      const detail = ['region', 'lawyer', 'disposition', 'caller'].filter((k) => ev[k]).map((k) => `${k}=${ev[k]}`).join(' ');
      addItem(events, h('li', {}, h('code', {}, ev.event || '?'), ` ${detail}`), 30);
    }),
  ];
  try { show(await get('/api/wallboard')); } catch (e) { tiles.append(h('p', { class: 'error' }, e.message)); }
  return () => { offs.forEach((f) => f()); destroyAll(charts); };
}
