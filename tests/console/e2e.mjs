// The console end to end in headless Chromium (Debian's `chromium`, driven by playwright-core).
// Run by tests/console_e2e.rs, which starts the real hotline server, a linphonec lawyer phone
// and, when this script prints "E2E READY_FOR_CALL", a SIPp caller. Steps:
//   1. the lawyer signs in and clicks Ready;
//   2. the call arrives: the screen-pop shows the caller's region (Shicheng, 石城);
//   3. the lawyer fills in and saves the ticket (filed when the call ends);
//   4. a supervisor signs in: the live wallboard counts the call;
//   5. the supervisor opens the call's review, plays the recording (the audio element's
//      currentTime advances), sees the dialogue or the "no transcript yet" state, scores it;
//   6. the statistics charts render; the admin's roster editor shows file:line problems for
//      a broken roster (and keeps the running one); the desk on a tablet.
// Every step is screenshotted into E2E_ARTIFACTS; a failing step screenshots FAILED-<step>.png,
// prints why and exits 1. The whole run is bounded by E2E_TIMEOUT_MS.
//
// Environment: E2E_URL (http://127.0.0.1:PORT), E2E_ARTIFACTS (dir), E2E_LAWYER / E2E_LAWYER_PW,
// E2E_SUPERVISOR / E2E_SUPERVISOR_PW, E2E_ADMIN / E2E_ADMIN_PW, E2E_CALLER (the SIPp number),
// E2E_REGION (region id, e.g. shicheng), E2E_CHROMIUM (default /usr/bin/chromium).
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

const env = (k, d) => {
  const v = process.env[k] ?? d;
  if (v === undefined) { console.error(`E2E FAIL: ${k} is not set`); process.exit(2); }
  return v;
};
const URL_ = env('E2E_URL').replace(/\/$/, '');
const OUT = env('E2E_ARTIFACTS');
const CALLER = env('E2E_CALLER');
const REGION = env('E2E_REGION');
const TIMEOUT = Number(env('E2E_TIMEOUT_MS', '240000'));
const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--autoplay-policy=no-user-gesture-required',
  // loopback only: nothing but the server under test is resolved, and no proxy
  '--no-proxy-server', '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1'];

fs.mkdirSync(OUT, { recursive: true });
const shots = [];
const consoleErrors = [];
let current = 'start';
let browser;

const log = (...a) => console.log('E2E', ...a);

function fail(why) {
  console.error(`E2E FAIL in step "${current}": ${why}`);
  if (consoleErrors.length) console.error(`E2E browser console errors:\n  ${consoleErrors.join('\n  ')}`);
  process.exitCode = 1;
}

setTimeout(async () => {
  fail(`the whole run took longer than ${TIMEOUT} ms`);
  try { await browser?.close(); } catch { /* exiting anyway */ }
  process.exit(1);
}, TIMEOUT).unref();

function check(cond, why) { if (!cond) throw new Error(why); }

// fullPage grows the viewport for the capture, which makes Chart.js redraw its canvases a
// frame later; pages whose charts must show fit the viewport and are taken as they are.
async function shot(page, name, what, fullPage = true) {
  const file = path.join(OUT, `${name}.png`);
  await page.screenshot({ path: file, fullPage });
  shots.push({ file, what });
  log(`screenshot ${file}: ${what}`);
}

/** A browser context (own cookies) with its page; console errors and page errors are kept. */
async function newPage(who, viewport = { width: 1366, height: 768 }) {
  const ctx = await browser.newContext({ viewport, locale: 'zh-CN' });
  const page = await ctx.newPage();
  let signedIn = false;
  page.on('console', (m) => {
    // a waveform that cannot be drawn is only a warning in the page, but a failure here
    if (m.type() === 'warning' && m.text().startsWith('waveform')) {
      consoleErrors.push(`[${who}] ${m.text()}`);
      return;
    }
    if (m.type() !== 'error') return;
    // The page asks /api/me before anyone signed in: that 401 is how it learns to show the form.
    if (!signedIn && m.text().includes('status of 401')) return;
    // The admin step provokes the roster checker's 422 on purpose.
    if (current === 'admin-roster' && m.text().includes('status of 422')) return;
    consoleErrors.push(`[${who}] ${m.text()}`);
  });
  page.on('pageerror', (e) => consoleErrors.push(`[${who}] page error: ${e.message}`));
  page.markSignedIn = () => { signedIn = true; };
  page.setDefaultTimeout(15000);
  return page;
}

async function signIn(page, user, password) {
  await page.goto(`${URL_}/`);
  await page.waitForSelector('#login-form');
  await page.fill('#login-username', user);
  await page.fill('#login-password', password);
  page.markSignedIn();
  await page.click('#login-submit');
  await page.waitForSelector('#logout:not([hidden])');
}

/** fetch() inside the page (its session cookie) -> parsed JSON; throws on a non-2xx. */
async function apiGet(page, p) {
  return page.evaluate(async (url) => {
    const r = await fetch(url, { credentials: 'same-origin' });
    const text = await r.text();
    if (!r.ok) throw new Error(`GET ${url}: ${r.status} ${text}`);
    return JSON.parse(text);
  }, p);
}

async function waitFor(what, fn, ms, every = 500) {
  const deadline = Date.now() + ms;
  for (;;) {
    let v;
    try { v = await fn(); } catch (e) { v = undefined; if (Date.now() > deadline) throw new Error(`${what}: ${e.message}`); }
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, every));
  }
}

async function step(name, fn, page) {
  current = name;
  log(`step ${name}`);
  try {
    return await fn();
  } catch (e) {
    if (page) {
      try { await page.screenshot({ path: path.join(OUT, `FAILED-${name}.png`), fullPage: true }); } catch { /* no page */ }
    }
    throw e;
  }
}

/** Sum of the first dataset of the Chart.js chart drawn in canvas `id`. */
const chartSum = (page, id) => page.evaluate((cid) => {
  const c = window.Chart.getChart(document.getElementById(cid));
  return c ? c.data.datasets[0].data.reduce((a, b) => a + (Number(b) || 0), 0) : -1;
}, id);

async function main() {
  browser = await chromium.launch({ executablePath: env('E2E_CHROMIUM', '/usr/bin/chromium'), args: CHROMIUM_FLAGS, headless: true });
  log(`chromium ${browser.version()}`);

  // ---- 1. the lawyer signs in and is ready
  const lawyer = await newPage('lawyer');
  await step('lawyer-login', async () => {
    await lawyer.goto(`${URL_}/`);
    await lawyer.waitForSelector('#login-form');
    await shot(lawyer, '01-login', 'the sign-in page (Chinese UI, the default)');
    await signIn(lawyer, env('E2E_LAWYER'), env('E2E_LAWYER_PW'));
    await lawyer.waitForSelector('#desk-state-name');
  }, lawyer);
  await step('lawyer-ready', async () => {
    // the server signed the registered phone's lawyer in as ready already: go not-ready first,
    // so Ready is seen to change something
    await lawyer.click('#desk-not_ready');
    await lawyer.waitForSelector('#desk-state-name[data-state="not_ready"]');
    check((await apiGet(lawyer, '/api/desk')).state === 'not_ready', 'GET /api/desk after Not ready');
    await lawyer.click('#desk-ready');
    await lawyer.waitForSelector('#desk-state-name[data-state="ready"]');
    const desk = await apiGet(lawyer, '/api/desk');
    check(desk.state === 'ready', `GET /api/desk says ${desk.state} after Ready`);
    // the live socket is up before the call is placed
    await lawyer.waitForSelector('#live-dot.on', { timeout: 10000 });
    await shot(lawyer, '02-desk-ready', 'the lawyer desk after clicking Ready, live connection up');
  }, lawyer);

  // ---- 2. the call: the test harness places it now
  console.log('E2E READY_FOR_CALL');
  const callId = await step('screen-pop', async () => {
    await lawyer.waitForSelector('#screen-pop.ringing', { timeout: 90000 });
    const region = await lawyer.$eval('#pop-region', (e) => ({ id: e.dataset.region, text: e.textContent }));
    const caller = await lawyer.textContent('#pop-caller');
    check(caller.trim() === CALLER, `the screen-pop shows caller ${caller}, expected ${CALLER}`);
    check(region.id === REGION, `the screen-pop's region is ${region.id}, expected ${REGION}`);
    check(/石城|Shicheng/.test(region.text), `the screen-pop shows region "${region.text}", expected Shicheng / 石城`);
    const id = await lawyer.$eval('#screen-pop', (e) => e.dataset.callId);
    check(id, 'the screen-pop carries no call id');
    await shot(lawyer, '03-screen-pop', `the screen-pop: caller ${CALLER}, region ${region.text}, language, service, queue wait, earlier tickets; the ticket form prefilled`);
    return id;
  }, lawyer);
  log(`call ${callId}`);

  // ---- 3. the ticket
  const note = `e2e: 咨询拖欠工资，已解答 (${new Date().toISOString()})`;
  const ticketId = await step('ticket-save', async () => {
    await lawyer.selectOption('#ticket-category', 'consultation');
    await lawyer.selectOption('#ticket-outcome', 'resolved');
    await lawyer.fill('#ticket-note', note);
    await lawyer.click('#ticket-save');
    // the ticket is filed when the call ends: the form waits for it
    await lawyer.waitForSelector('#ticket-saved', { timeout: 120000 });
    const call = await apiGet(lawyer, `/api/calls/${encodeURIComponent(callId)}`);
    check(call.ticket_id, `the call has no ticket: ${JSON.stringify(call)}`);
    const tk = await apiGet(lawyer, `/api/tickets/${encodeURIComponent(call.ticket_id)}`);
    check(tk.outcome === 'resolved', `the saved ticket's outcome is ${tk.outcome}`);
    check(tk.category === 'consultation', `the saved ticket's category is ${tk.category}`);
    check((tk.notes || '').includes('咨询拖欠工资'), `the saved ticket's notes lack the note: ${tk.notes}`);
    await shot(lawyer, '04-ticket-saved', 'the ticket saved from the desk (category, outcome, note)');
    return call.ticket_id;
  }, lawyer);
  log(`ticket ${ticketId}`);

  // ---- 4. the supervisor's wallboard
  const sup = await newPage('supervisor');
  await step('wallboard', async () => {
    await signIn(sup, env('E2E_SUPERVISOR'), env('E2E_SUPERVISOR_PW'));
    await sup.goto(`${URL_}/#/wallboard`);
    await sup.waitForSelector('#wb-waiting-chart');
    await sup.waitForSelector('#wb-lawyers-chart');
    await sup.waitForSelector('#wb-wb_calls_today');
    const today = await waitFor('calls today on the wallboard', async () => {
      const n = Number(await sup.textContent('#wb-wb_calls_today .value'));
      return n >= 1 ? n : 0;
    }, 15000);
    log(`wallboard: ${today} call(s) today`);
    await sup.waitForSelector('#live-dot.on', { timeout: 10000 });
    await shot(sup, '05-wallboard', `the live wallboard: ${today} call(s) today, waiting by region and lawyers by state charts`);
  }, sup);

  // ---- 5. review: recording, transcript, QA
  await step('review-play', async () => {
    const call = await waitFor('the call ended with its recording', async () => {
      const c = await apiGet(sup, `/api/calls/${encodeURIComponent(callId)}`);
      return c.ended_at && c.has_recording ? c : null;
    }, 30000);
    await sup.goto(`${URL_}/#/review/${encodeURIComponent(callId)}`);
    await sup.waitForSelector('#review-audio');
    // the waveform is drawn only once the recording was fetched and decoded
    await sup.waitForSelector('#review-wave canvas', { state: 'attached' });
    await sup.click('#review-play');
    const t0 = await sup.$eval('#review-audio', (a) => a.currentTime);
    await waitFor('the recording plays (currentTime advances)', async () =>
      (await sup.$eval('#review-audio', (a) => a.currentTime)) > t0 + 1.0, 15000, 250);
    const played = await sup.$eval('#review-audio', (a) => ({ t: a.currentTime, d: a.duration, paused: a.paused }));
    log(`audio at ${played.t.toFixed(2)} s of ${played.d.toFixed(2)} s`);
    const tr = await apiGet(sup, `/api/calls/${encodeURIComponent(callId)}/transcript`);
    // this server runs without a whisper model (transcription is tested with real models in
    // tests/transcribe_peers.rs): the job waits in the queue and the page says so
    check(tr.status === 'queued', `transcript status ${tr.status}, expected queued (no model)`);
    await sup.waitForSelector('#review-no-transcript');
    await shot(sup, '06-review-playing', `the call review: waveform and player playing (${played.t.toFixed(1)} s of ${played.d.toFixed(1)} s), transcript ${tr.status}, call facts`);
    await sup.click('#review-play'); // pause
    check(call.region === REGION, `the call's region is ${call.region}`);
  }, sup);

  await step('qa-score', async () => {
    await sup.waitForSelector('#qa-form');
    const form = await apiGet(sup, '/api/qa/form');
    check(form.questions.length > 0, 'the QA form has no questions');
    // every question at its maximum but the first at 0: the expected weighted score
    const q0 = form.questions[0];
    await sup.selectOption(`#qa-${q0.id}`, '0');
    const total = form.questions.reduce((a, q) => a + q.weight, 0);
    const expected = (100 * (total - q0.weight)) / total;
    await sup.fill('#qa-comment', 'e2e: 问候不规范，解答准确');
    await sup.click('#qa-submit');
    await sup.waitForSelector('#qa-score');
    const score = Number(await sup.$eval('#qa-score', (e) => e.dataset.score));
    check(Math.abs(score - expected) < 0.51, `QA score ${score}, expected ${expected.toFixed(1)} (weights ${form.questions.map((q) => q.weight)})`);
    const stored = await apiGet(sup, `/api/calls/${encodeURIComponent(callId)}/qa`);
    const evals = Array.isArray(stored) ? stored : (stored.evaluations || stored.qa || []);
    check(evals.some((e) => Math.abs(e.score - score) < 0.01), `GET /api/calls/${callId}/qa lacks the score: ${JSON.stringify(stored)}`);
    await sup.waitForSelector('#qa-previous table');
    await shot(sup, '07-qa-scored', `the QA evaluation submitted: score ${score.toFixed(1)}%, listed with the call's evaluations`);
  }, sup);

  // ---- 6. statistics, admin, tablet
  await step('stats', async () => {
    await sup.goto(`${URL_}/#/stats`);
    for (const id of ['chart-hourly', 'chart-daily', 'chart-satisfaction', 'chart-categories', 'chart-regions']) {
      await sup.waitForSelector(`canvas#${id}`);
    }
    const hourly = await waitFor('calls in the hourly chart', async () => {
      const n = await chartSum(sup, 'chart-hourly');
      return n >= 1 ? n : 0;
    }, 10000);
    const regions = await chartSum(sup, 'chart-regions');
    check(regions >= 1, `the regions chart counts ${regions} calls`);
    await sup.waitForTimeout(400); // the charts' 250 ms animation
    await shot(sup, '08-stats', `the statistics charts: calls per hour (${hourly} today), answer rate by day, satisfaction, by category, by region`);
  }, sup);

  const admin = await newPage('admin');
  await step('admin-roster', async () => {
    await signIn(admin, env('E2E_ADMIN'), env('E2E_ADMIN_PW'));
    await admin.goto(`${URL_}/#/admin`);
    await admin.waitForSelector('#admin-users table');
    await waitFor('the roster in the editor', async () => (await admin.inputValue('#roster-text')).includes('[[lawyer]]'), 10000);
    const good = await admin.inputValue('#roster-text');
    // a shift for a lawyer nobody knows: refused with file:line, the running roster stays
    await admin.fill('#roster-text', `${good}\n[[shift]]\nlawyer = "nobody-e2e"\nregion = "shicheng"\ndays = ["mon"]\nfrom = "08:00"\nto = "12:00"\n`);
    await admin.click('#roster-save');
    await admin.waitForSelector('#roster-problems ul.problems li');
    const problem = await admin.textContent('#roster-problems ul.problems li');
    check(/roster\.toml:\d+/.test(problem), `the problem "${problem}" has no roster.toml:LINE`);
    const after = await apiGet(admin, '/api/admin/roster');
    check(after.toml === good, 'the broken roster replaced the running one');
    await shot(admin, '09-admin-roster', `the admin page: users, lawyers, and the roster editor refusing a broken edit (${problem.trim()})`);
  }, admin);

  await step('tablet', async () => {
    await lawyer.setViewportSize({ width: 768, height: 1024 });
    await lawyer.click('#lang-switch');
    await lawyer.waitForSelector('#desk-state-name');
    check((await lawyer.textContent('#nav-desk')) === 'Desk', 'the language switch did not switch to English');
    await shot(lawyer, '10-tablet-desk-en', 'the lawyer desk on a 768x1024 tablet, switched to English');
    await sup.setViewportSize({ width: 768, height: 1024 });
    await sup.goto(`${URL_}/#/wallboard`);
    await sup.waitForSelector('canvas#wb-lawyers-chart');
    await sup.waitForTimeout(400);
    await shot(sup, '11-tablet-wallboard', 'the supervisor wallboard on a 768x1024 tablet (after the call)', false);
  }, lawyer);

  current = 'console errors';
  check(consoleErrors.length === 0, `the browser console had errors:\n  ${consoleErrors.join('\n  ')}`);
  await browser.close();
  log('screenshots:');
  for (const s of shots) log(`  ${s.file} — ${s.what}`);
  log('PASSED');
}

main().catch(async (e) => {
  fail(e.stack || e.message);
  try { await browser?.close(); } catch { /* exiting anyway */ }
  process.exit(1);
});
