// The sign-in form. The server answers 401 with one message for an unknown user and a wrong
// password, and 429 after repeated failures; both are shown as the server wrote them.
import { post } from '../api.js';
import { t } from '../i18n.js';
import { h, fill } from '../ui.js';
import { signedIn } from '../app.js';

export function render(main) {
  const err = h('p', { class: 'error', id: 'login-error', role: 'alert' });
  const user = h('input', { name: 'username', id: 'login-username', autocomplete: 'username', required: true });
  const pass = h('input', { name: 'password', id: 'login-password', type: 'password', autocomplete: 'current-password', required: true });
  const form = h('form', { class: 'card login', id: 'login-form' },
    h('h1', {}, t('title')),
    h('label', { class: 'field' }, h('span', {}, t('username')), user),
    h('label', { class: 'field' }, h('span', {}, t('password')), pass),
    h('button', { type: 'submit', class: 'primary', id: 'login-submit' }, t('login')),
    err);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    err.textContent = '';
    try {
      const me = await post('/api/login', { username: user.value.trim(), password: pass.value });
      signedIn(me);
    } catch (e) {
      err.textContent = e.status === 401 ? t('bad_login') : e.message;
      pass.value = '';
      pass.focus();
    }
  });
  fill(main, form);
  user.focus();
}
