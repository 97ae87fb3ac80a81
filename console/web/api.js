// The console API client: JSON over fetch with the session cookie and the CSRF header, and
// the live WebSocket (/api/live) with reconnects. Every call rejects with an ApiError that
// carries the server's {"error"} message, which pages show as is.

let csrf = null;

/** A failed API call: HTTP status and the server's message (and its problems, if any). */
export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body || {};
  }
}

/** Remembers the CSRF token the login or /api/me answer carried. */
export function setCsrf(token) { csrf = token || null; }

/** Calls the API; `body` is sent as JSON. Resolves with the parsed JSON answer (or null). */
export async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && csrf) headers['X-CSRF-Token'] = csrf;
  let resp;
  try {
    resp = await fetch(path, {
      method, headers, credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError(0, `network: ${e.message}`);
  }
  const text = await resp.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = { error: text.slice(0, 200) }; }
  }
  if (!resp.ok) {
    if (resp.status === 401 && path !== '/api/login') window.dispatchEvent(new Event('hotline:unauthorized'));
    throw new ApiError(resp.status, (data && data.error) || `HTTP ${resp.status}`, data);
  }
  return data;
}

export const get = (p) => api('GET', p);
export const post = (p, b) => api('POST', p, b === undefined ? {} : b);
export const patch = (p, b) => api('PATCH', p, b);
export const put = (p, b) => api('PUT', p, b);
export const del = (p) => api('DELETE', p);

// ---------------------------------------------------------------- live

const listeners = new Map();
let socket = null;
let wanted = false;
let backoff = 500;

/** Subscribes to live messages of one `type`; returns the unsubscribe function. */
export function onLive(type, fn) {
  if (!listeners.has(type)) listeners.set(type, new Set());
  listeners.get(type).add(fn);
  return () => listeners.get(type).delete(fn);
}

function emit(type, msg) {
  for (const fn of listeners.get(type) || []) {
    try { fn(msg); } catch (e) { console.warn('live handler', type, e); }
  }
}

/** Opens the live socket (after login) and keeps it open until stopLive(). */
export function startLive() {
  wanted = true;
  if (socket) return;
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/live`;
  const ws = new WebSocket(url);
  socket = ws;
  ws.onopen = () => { backoff = 500; emit('_status', { open: true }); };
  ws.onmessage = (ev) => {
    let msg;
    try { msg = JSON.parse(ev.data); } catch { return; }
    if (msg && msg.type) emit(msg.type, msg);
  };
  ws.onclose = () => {
    socket = null;
    emit('_status', { open: false });
    if (wanted) {
      setTimeout(() => { if (wanted) startLive(); }, backoff);
      backoff = Math.min(backoff * 2, 10000);
    }
  };
  ws.onerror = () => { /* onclose follows and reconnects */ };
}

/** Closes the live socket (logout). */
export function stopLive() {
  wanted = false;
  if (socket) socket.close();
  socket = null;
}
