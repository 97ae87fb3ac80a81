// Region display names from hierarchy.toml (GET /api/regions, supervisors and admins), fetched
// once per page load; lists show ids where a name is unknown (and for lawyers).
import { get } from './api.js';
import { lang } from './i18n.js';

let cache = null;

/** Map region id -> {id, level, parent, zh, en}; empty when the user may not list regions. */
export function loadRegions(user) {
  if (!user || user.role === 'lawyer') return Promise.resolve(new Map());
  if (!cache) {
    cache = get('/api/regions')
      .then((r) => new Map((r.regions || []).map((x) => [x.id, x])))
      .catch(() => { cache = null; return new Map(); });
  }
  return cache;
}

/** The region's name in the UI language, else its id. */
export function regionLabel(regions, id) {
  if (!id) return '—';
  const r = regions.get(id);
  return r ? (lang() === 'zh' ? r.zh : r.en) || id : id;
}
