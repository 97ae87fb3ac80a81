// The console's shell: session, header (navigation by role, language switch, live dot) and a
// hash router that hands each page module the <main> element. A page's render() may return a
// cleanup function, called when the user leaves the page (timers, charts, live handlers).
import { get, post, setCsrf, startLive, stopLive, onLive } from './api.js';
import { t, setLang, lang, langChosen } from './i18n.js';
import { h, fill } from './ui.js';

const PAGES = {
  login: { load: () => import('./pages/login.js'), roles: null },
  desk: { load: () => import('./pages/desk.js'), roles: ['lawyer'], nav: 'nav_desk' },
  wallboard: { load: () => import('./pages/wallboard.js'), roles: ['supervisor', 'admin'], nav: 'nav_wallboard' },
  tickets: { load: () => import('./pages/tickets.js'), roles: ['lawyer', 'supervisor', 'admin'], nav: 'nav_tickets' },
  review: { load: () => import('./pages/review.js'), roles: ['supervisor', 'admin'] },
  queue: { load: () => import('./pages/queue.js'), roles: ['supervisor', 'admin'], nav: 'nav_queue' },
  tasks: { load: () => import('./pages/tasks.js'), roles: ['supervisor', 'admin'], nav: 'nav_tasks' },
  stats: { load: () => import('./pages/stats.js'), roles: ['supervisor', 'admin'], nav: 'nav_stats' },
  admin: { load: () => import('./pages/admin.js'), roles: ['admin'], nav: 'nav_admin' },
};

let user = null;
let cleanup = null;

/** The signed-in user ({username, name, role, lawyer_id, region, lang}) or null. */
export function currentUser() { return user; }

function home() { return user && user.role === 'lawyer' ? 'desk' : 'wallboard'; }

/** Called by the login page once the server accepted the password. */
export function signedIn(me) {
  user = me;
  setCsrf(me.csrf_token);
  if (!langChosen() && me.lang) setLang(me.lang);
  startLive();
  location.hash = `#/${home()}`;
  route();
}

/** Forgets everything of the signed-in user by reloading the page: page modules keep state
 *  at module level (the desk's last screen-pop holds the previous caller's number and
 *  history), and on a shared desk browser none of it may reach the next person. */
function forgetUser(hash) {
  user = null;
  setCsrf(null);
  stopLive();
  if (hash) history.replaceState(null, '', hash);
  location.reload();
}

async function signOut() {
  try { await post('/api/logout'); } catch { /* the session is gone either way */ }
  forgetUser('#/login');
}

function header() {
  document.title = t('title');
  const page = location.hash.replace(/^#\/?/, '').split('/')[0];
  fill(document.getElementById('nav'), user ? Object.entries(PAGES)
    .filter(([, p]) => p.nav && p.roles.includes(user.role))
    .map(([name, p]) => h('a', { href: `#/${name}`, class: name === page ? 'active' : '', id: `nav-${name}` }, t(p.nav))) : []);
  document.getElementById('lang-switch').textContent = lang() === 'zh' ? 'EN' : '中文';
  document.getElementById('who').textContent = user ? `${user.name || user.username} · ${t(`role_${user.role}`)}` : '';
  const out = document.getElementById('logout');
  out.hidden = !user;
  out.textContent = t('logout');
}

let routeGen = 0;

/** Renders the page the hash names; unknown or forbidden pages go home. Each render gets a
 *  fresh container, so a slow page the user already left only fills a detached element. */
export async function route() {
  const gen = ++routeGen;
  if (cleanup) { try { cleanup(); } catch (e) { console.warn(e); } cleanup = null; }
  const [name, ...params] = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  const main = document.getElementById('main');
  let page = PAGES[name];
  if (!user) {
    page = PAGES.login;
  } else if (!page || name === 'login') {
    location.hash = `#/${home()}`;
    return;
  } else if (!page.roles.includes(user.role)) {
    header();
    fill(main, h('p', { class: 'error' }, t('not_allowed')));
    return;
  }
  header();
  const box = h('div', { class: 'page', id: `page-${user ? name : 'login'}` }, h('p', { class: 'muted' }, t('loading')));
  fill(main, box);
  const mod = await page.load();
  if (gen !== routeGen) return;
  const done = await mod.render(box, params, user);
  if (typeof done !== 'function') return;
  if (gen === routeGen) cleanup = done;
  else done();
}

async function start() {
  document.getElementById('lang-switch').addEventListener('click', () => {
    setLang(lang() === 'zh' ? 'en' : 'zh', true);
    route();
  });
  document.getElementById('logout').addEventListener('click', signOut);
  window.addEventListener('hashchange', route);
  window.addEventListener('hotline:unauthorized', () => {
    // The session ended (expired or signed out elsewhere): reload, as on sign-out.
    if (user) forgetUser(null);
  });
  onLive('_status', ({ open }) => {
    const dot = document.getElementById('live-dot');
    dot.className = open ? 'dot on' : 'dot off';
    dot.title = open ? t('live_on') : t('live_off');
  });
  setLang(lang());
  try {
    const me = await get('/api/me');
    user = me;
    setCsrf(me.csrf_token);
    if (!langChosen() && me.lang) setLang(me.lang);
    startLive();
  } catch { user = null; }
  route();
}

start();
