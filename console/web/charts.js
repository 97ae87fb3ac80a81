// Chart.js (vendored UMD bundle, window.Chart) with the console's colours. Pages keep the
// charts they make and call destroyAll() when the user leaves, so canvases are not leaked.
import { h } from './ui.js';

export const COLORS = ['#1f6feb', '#2da44e', '#d29922', '#cf222e', '#8250df', '#0a7f8a', '#bf3989', '#6e7781'];

/** A chart in a fresh canvas inside a sized box; returns {box, chart}. */
export function makeChart(id, config) {
  const canvas = h('canvas', { id });
  const box = h('div', { class: 'chart-box' }, canvas);
  const chart = new window.Chart(canvas, {
    ...config,
    options: {
      responsive: true, maintainAspectRatio: false, animation: { duration: 250 },
      plugins: { legend: { position: 'bottom' } },
      ...(config.options || {}),
    },
  });
  return { box, chart };
}

/** Destroys every chart in `charts`. */
export function destroyAll(charts) {
  for (const c of charts) { try { c.destroy(); } catch { /* already gone */ } }
  charts.length = 0;
}
