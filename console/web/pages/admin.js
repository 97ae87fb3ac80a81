// Administration: users (add with a role, lawyer link and region scope; delete), the lawyers
// from the roster with their live state, the regions, and an editor for the dialplan files an
// admin may change (roster, hierarchy, regions, hours). An edit is checked by the server with
// the same checker as `hotline dialplan check`; its file:line problems are listed and the
// running plan stays until the edit checks.
import { get, post, put, del } from '../api.js';
import { t, tc } from '../i18n.js';
import { h, fill, card, table, fmtTime, toast, field, select } from '../ui.js';
import { loadRegions } from '../regions.js';

export async function render(main, params, user) {
  const users = h('div', { id: 'admin-users' });
  const lawyers = h('div', { id: 'admin-lawyers' });
  const regionsBox = h('div', { id: 'admin-regions' });
  const roster = h('textarea', { id: 'roster-text', class: 'code', rows: 24, spellcheck: false });
  const problems = h('div', { id: 'roster-problems' });

  async function loadUsers() {
    try {
      const r = await get('/api/users');
      fill(users, table([
        { label: t('username'), get: (u) => u.username },
        { label: t('ad_name'), get: (u) => u.name || '' },
        { label: t('ad_role'), get: (u) => t(`role_${u.role}`) },
        { label: t('ad_lawyer_id'), get: (u) => u.lawyer_id || '' },
        { label: t('ad_region'), get: (u) => u.region || '' },
        { label: '', get: (u) => h('button', { type: 'button', class: 'danger', onclick: async () => {
          if (!confirm(t('confirm_delete', { u: u.username }))) return;
          try { await del(`/api/users/${encodeURIComponent(u.username)}`); loadUsers(); } catch (e) { toast(e.message, true); }
        } }, t('delete')) },
      ], r.users || []));
    } catch (e) { fill(users, h('p', { class: 'error' }, e.message)); }
  }

  const f = {
    username: h('input', { name: 'username', required: true }),
    password: h('input', { name: 'password', type: 'password', required: true, minlength: 12, autocomplete: 'new-password' }),
    role: select('role', ['lawyer', 'supervisor', 'admin'].map((r) => [r, t(`role_${r}`)]), 'lawyer'),
    name: h('input', { name: 'name' }),
    lawyer_id: h('input', { name: 'lawyer_id' }),
    region: h('input', { name: 'region' }),
    lang: select('lang', [['zh', '中文'], ['en', 'English']], 'zh'),
  };
  const addForm = h('form', { class: 'form grid-form', id: 'user-add' },
    field(t('username'), f.username), field(t('password'), f.password), field(t('ad_role'), f.role),
    field(t('ad_name'), f.name), field(t('ad_lawyer_id'), f.lawyer_id), field(t('ad_region'), f.region),
    field(t('ad_lang'), f.lang), h('button', { type: 'submit', class: 'primary' }, t('ad_add_user')));
  addForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = Object.fromEntries(Object.entries(f).map(([k, el]) => [k, el.value.trim()]).filter(([, v]) => v !== ''));
    body.password = f.password.value;
    try { await post('/api/users', body); addForm.reset(); toast(t('saved')); loadUsers(); } catch (e) { toast(e.message, true); }
  });

  async function loadLawyers() {
    try {
      const r = await get('/api/lawyers');
      fill(lawyers, table([
        { label: t('ad_lawyer_id'), get: (l) => l.id },
        { label: t('ad_name'), get: (l) => l.name },
        { label: t('regions'), get: (l) => (l.regions || []).join(', ') },
        { label: t('skills'), get: (l) => (l.skills || []).map((s) => tc('cat', s)).join(', ') },
        { label: t('language'), get: (l) => (l.languages || []).map((x) => tc('lang', x)).join(', ') },
        { label: t('registered'), get: (l) => (l.registered ? t('yes') : t('no')) },
        { label: t('state'), get: (l) => h('span', { class: `badge s-${l.state}` }, tc('st', l.state)) },
        { label: t('since'), get: (l) => fmtTime(l.since) },
      ], r.lawyers || []));
    } catch (e) { fill(lawyers, h('p', { class: 'error' }, e.message)); }
  }

  // the dialplan files an admin may edit: the roster (lawyers, shifts), the region hierarchy,
  // the number-to-region table and the opening hours
  const FILES = ['roster.toml', 'hierarchy.toml', 'regions.toml', 'hours.toml'];
  const fileSel = select('file', FILES.map((f) => [f, f]), 'roster.toml');
  fileSel.id = 'dialplan-file';
  const filePath = () => `/api/admin/dialplan/${encodeURIComponent(fileSel.value)}`;
  async function loadRoster() {
    fill(problems);
    try { roster.value = (await get(filePath())).toml; } catch (e) { fill(problems, h('p', { class: 'error' }, e.message)); }
  }
  fileSel.addEventListener('change', loadRoster);
  const saveRoster = h('button', { type: 'button', class: 'primary', id: 'roster-save', onclick: async () => {
    fill(problems);
    try {
      await put(filePath(), { toml: roster.value });
      fill(problems, h('p', { class: 'ok' }, t('ad_file_saved', { f: fileSel.value })));
      loadLawyers();
    } catch (e) {
      const list = (e.body && e.body.problems) || [];
      fill(problems, h('p', { class: 'error' }, list.length ? t('ad_file_problems', { f: fileSel.value }) : e.message),
        list.length ? h('ul', { class: 'problems' }, list.map((p) => h('li', {}, h('code', {}, p)))) : null);
    }
  } }, t('ad_save_roster'));

  fill(main, h('div', { class: 'grid two' },
    card(t('ad_users'), users, h('h3', {}, t('ad_add_user')), addForm),
    card(t('ad_lawyers'), lawyers, h('h3', {}, t('regions')), regionsBox),
    h('section', { class: 'card wide' }, h('h2', {}, t('ad_dialplan')), h('div', { class: 'filters' }, field(t('ad_file'), fileSel)), roster, saveRoster, problems)));
  loadUsers();
  loadLawyers();
  loadRegions(user).then((m) => fill(regionsBox, table([
    { label: 'id', get: (r) => r.id },
    { label: t('ad_name'), get: (r) => `${r.zh} · ${r.en}` },
    { label: t('ad_level'), get: (r) => r.level },
    { label: t('ad_parent'), get: (r) => r.parent || '—' },
  ], [...m.values()])));
  loadRoster();
}
