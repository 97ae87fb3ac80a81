// Statistics as charts (people would rather look than read): calls per hour of a day, answer
// rate and satisfaction over days, calls by category and by region. Days are Beijing time.
import { get } from '../api.js';
import { t, tc } from '../i18n.js';
import { h, fill, card, field } from '../ui.js';
import { makeChart, destroyAll, COLORS } from '../charts.js';

/** Today in Beijing time as YYYY-MM-DD. */
function beijingToday() {
  return new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10);
}

export async function render(main) {
  const charts = [];
  const day = h('input', { type: 'date', name: 'day', id: 'stats-day', value: beijingToday() });
  const days = h('select', { name: 'days', id: 'stats-days' }, [7, 14, 30, 90].map((n) => h('option', { value: n, selected: n === 14 }, String(n))));
  const grid = h('div', { class: 'grid two', id: 'stats-charts' });
  fill(main, card(t('st_title'), h('div', { class: 'filters' }, field(t('st_day'), day), field(t('st_days'), days))), grid);

  async function load() {
    destroyAll(charts);
    const n = days.value;
    let hourly, daily, cats, regions;
    try {
      [hourly, daily, cats, regions] = await Promise.all([
        get(`/api/stats/hourly?day=${day.value}`), get(`/api/stats/daily?days=${n}`),
        get(`/api/stats/categories?days=${n}`), get(`/api/stats/regions?days=${n}`)]);
    } catch (e) { fill(grid, h('p', { class: 'error' }, e.message)); return; }
    const add = (title, id, config) => {
      const c = makeChart(id, config);
      charts.push(c.chart);
      return card(title, c.box);
    };
    const hours = hourly.hours || [];
    const ds = daily.days || [];
    fill(grid,
      add(t('st_hourly'), 'chart-hourly', {
        type: 'bar',
        data: { labels: hours.map((x) => `${x.hour}`), datasets: [
          { label: t('st_calls'), data: hours.map((x) => x.calls), backgroundColor: COLORS[0] },
          { label: t('st_answered'), data: hours.map((x) => x.answered), backgroundColor: COLORS[1] }] },
        options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
      }),
      add(t('st_daily_rate'), 'chart-daily', {
        type: 'line',
        data: { labels: ds.map((x) => x.day.slice(5)), datasets: [
          { label: `${t('st_rate')} %`, data: ds.map((x) => (!x.calls || x.answer_rate === null ? null : Math.round(x.answer_rate * 1000) / 10)), borderColor: COLORS[1], backgroundColor: COLORS[1], yAxisID: 'y', spanGaps: true },
          { label: t('st_calls'), data: ds.map((x) => x.calls), borderColor: COLORS[0], backgroundColor: COLORS[0], yAxisID: 'y1', type: 'bar' }] },
        options: { scales: { y: { min: 0, max: 100, position: 'left' }, y1: { beginAtZero: true, position: 'right', grid: { drawOnChartArea: false }, ticks: { precision: 0 } } } },
      }),
      add(t('st_satisfaction'), 'chart-satisfaction', {
        type: 'bar',
        data: { labels: ds.map((x) => x.day.slice(5)), datasets: [
          { label: t('sat_satisfied'), data: ds.map((x) => x.satisfied), backgroundColor: COLORS[1] },
          { label: t('sat_basic'), data: ds.map((x) => x.basically_satisfied), backgroundColor: COLORS[2] },
          { label: t('sat_unsatisfied'), data: ds.map((x) => x.unsatisfied), backgroundColor: COLORS[3] }] },
        options: { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } } },
      }),
      add(t('st_categories'), 'chart-categories', {
        type: 'doughnut',
        data: { labels: (cats.categories || []).map((c) => tc('cat', c.category)), datasets: [{ data: (cats.categories || []).map((c) => c.calls), backgroundColor: COLORS }] },
      }),
      add(t('st_regions'), 'chart-regions', {
        type: 'bar',
        data: { labels: (regions.regions || []).map((r) => r.name || r.region), datasets: [{ label: t('st_calls'), data: (regions.regions || []).map((r) => r.calls), backgroundColor: COLORS[4] }] },
        options: { indexAxis: 'y', scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } },
      }));
  }
  day.addEventListener('change', load);
  days.addEventListener('change', load);
  await load();
  return () => destroyAll(charts);
}
