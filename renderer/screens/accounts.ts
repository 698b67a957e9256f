// Accounts: the list with each account's use of space, adding one (its Maildir is created
// when missing), changing a password, disabling, and removing (mail kept unless asked).

import { ApiError, type AccountView } from '../../server/appliance/api.js';
import { h, replaceChildren } from '../dom.js';
import { bytes, count, dateTime } from '../format.js';
import type { Context, Screen } from './types.js';

/** Show an API error next to the field it names, or at the form's end. */
function showError(form: HTMLElement, err: unknown): void {
  for (const el of form.querySelectorAll('.field-error')) el.textContent = '';
  if (err === null) return;
  const field = err instanceof ApiError ? err.field : undefined;
  const slot = (field && form.querySelector(`.field-error[data-for="${field}"]`)) || form.querySelector('.field-error[data-for="form"]');
  if (slot) slot.textContent = (err as Error).message;
}

function field(label: string, input: HTMLInputElement, name: string, hint?: string): HTMLElement {
  input.id ||= `field-${name}-${Math.random().toString(36).slice(2, 8)}`;
  return h(
    'div',
    { class: 'field' },
    h('label', { for: input.id }, label),
    input,
    hint ? h('div', { class: 'hint' }, hint) : null,
    h('div', { class: 'field-error', 'data-for': name, role: 'alert' }),
  );
}

export function accountsScreen(ctx: Context): Screen {
  const element = h('section', { class: 'screen' });
  const list = h('div', { id: 'account-list' });
  const dialog = h('dialog', { id: 'account-dialog' });

  const username = h('input', { name: 'username', autocomplete: 'off', required: true, maxlength: 255 });
  const password = h('input', { name: 'password', type: 'password', autocomplete: 'new-password', required: true });
  const maildir = h('input', { name: 'maildir', autocomplete: 'off', placeholder: 'default: in the data directory' });
  const addButton = h('button', { type: 'submit', class: 'primary' }, 'Add account');
  const addForm = h(
    'form',
    { id: 'add-account', class: 'card' },
    h('h3', {}, 'Add an account'),
    h('div', { class: 'row' },
      field('Username', username, 'username', 'What the mail program logs in with.'),
      field('Password', password, 'password', 'Make it long: the mail program remembers it.'),
      field('Maildir location (optional)', maildir, 'maildir', 'A full path; created when missing. An existing Maildir is indexed in the background.'),
    ),
    h('div', { class: 'field-error', 'data-for': 'form', role: 'alert' }),
    h('div', { class: 'actions' }, addButton),
  );
  addForm.addEventListener('submit', (e) => {
    e.preventDefault();
    addButton.disabled = true;
    ctx.api
      .addAccount({ username: username.value.trim(), password: password.value, maildir: maildir.value.trim() || null })
      .then(
        (account) => {
          ctx.toast(`Account ${account.username} added; its Maildir is ${account.maildir}`);
          username.value = password.value = maildir.value = '';
          showError(addForm, null);
          void refresh();
        },
        (err: unknown) => showError(addForm, err),
      )
      .finally(() => (addButton.disabled = false));
  });

  function passwordDialog(account: AccountView): void {
    const input = h('input', { type: 'password', name: 'password', autocomplete: 'new-password', required: true });
    const form = h(
      'form',
      { method: 'dialog' },
      h('h3', {}, `New password for ${account.username}`),
      field('New password', input, 'password'),
      h('div', { class: 'field-error', 'data-for': 'form', role: 'alert' }),
      h('div', { class: 'actions' },
        h('button', { type: 'button', onclick: () => dialog.close() }, 'Cancel'),
        h('button', { type: 'submit', class: 'primary' }, 'Change password'),
      ),
    );
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      ctx.api.setPassword(account.username, input.value).then(
        () => {
          dialog.close();
          ctx.toast(`Password of ${account.username} changed`);
        },
        (err: unknown) => showError(form, err),
      );
    });
    replaceChildren(dialog, form);
    dialog.showModal();
    input.focus();
  }

  function removeDialog(account: AccountView): void {
    const deleteMail = h('input', { type: 'checkbox', id: 'remove-delete-mail', name: 'deleteMail' });
    const usage = account.usage ? `${count(account.usage.messages)} messages, ${bytes(account.usage.bytes)}` : 'no Maildir yet';
    const confirmButton = h('button', { type: 'submit', class: 'danger' }, 'Remove account');
    const form = h(
      'form',
      { method: 'dialog' },
      h('h3', {}, `Remove the account ${account.username}?`),
      h('p', {}, `Its mail programs can no longer log in. The mail stays in ${account.maildir} (${usage}) unless you tick the box.`),
      h('div', { class: 'check' }, deleteMail, h('label', { for: 'remove-delete-mail' }, 'Also delete the mail. This cannot be undone.')),
      h('div', { class: 'field-error', 'data-for': 'form', role: 'alert' }),
      h('div', { class: 'actions' }, h('button', { type: 'button', onclick: () => dialog.close() }, 'Cancel'), confirmButton),
    );
    deleteMail.addEventListener('change', () => (confirmButton.textContent = deleteMail.checked ? 'Remove account and delete mail' : 'Remove account'));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      ctx.api.removeAccount(account.username, !deleteMail.checked).then(
        () => {
          dialog.close();
          ctx.toast(deleteMail.checked ? `Account ${account.username} removed and its mail deleted` : `Account ${account.username} removed; its mail is kept in ${account.maildir}`);
          void refresh();
        },
        (err: unknown) => showError(form, err),
      );
    });
    replaceChildren(dialog, form);
    dialog.showModal();
  }

  function render(accounts: AccountView[]): void {
    if (accounts.length === 0) {
      replaceChildren(list, h('p', { class: 'empty' }, 'No accounts yet. Add one below: a username and a password for your mail program.'));
      return;
    }
    const act = (label: string, fn: () => Promise<unknown> | void, cls = '') =>
      h('button', { class: cls, onclick: () => void Promise.resolve(fn()).catch((err: unknown) => ctx.toast((err as Error).message, 'error')) }, label);
    replaceChildren(
      list,
      h('table', { class: 'grid' },
        h('thead', {}, h('tr', {}, ['Username', 'State', 'Maildir', 'Messages', 'Size', 'Last login', 'Sessions', ''].map((t) => h('th', {}, t)))),
        h('tbody', {}, accounts.map((a) =>
          h('tr', { 'data-account': a.username },
            h('td', { class: 'name' }, a.username),
            h('td', {}, h('span', { class: `badge ${a.enabled ? 'ok' : 'off'}` }, a.enabled ? 'enabled' : 'disabled')),
            h('td', { class: 'path', title: a.maildir }, a.maildir, a.maildirExists ? null : h('span', { class: 'hint' }, ' (created at first login)')),
            h('td', { class: 'num' }, a.usage ? count(a.usage.messages) : '-'),
            h('td', { class: 'num' }, a.usage ? bytes(a.usage.bytes) : '-'),
            h('td', {}, a.lastLoginAt ? `${dateTime(a.lastLoginAt)} from ${a.lastLoginAddress ?? '?'}` : 'never'),
            h('td', { class: 'num' }, count(a.sessions)),
            h('td', { class: 'actions' },
              act('Change password', () => passwordDialog(a)),
              a.enabled
                ? act('Disable', () => ctx.api.disableAccount(a.username).then(() => refresh()))
                : act('Enable', () => ctx.api.enableAccount(a.username).then(() => refresh())),
              act('Remove', () => removeDialog(a), 'danger'),
            ),
          ),
        )),
      ),
    );
  }

  let pending = false;
  async function refresh(): Promise<void> {
    if (pending) return;
    pending = true;
    try {
      render(await ctx.api.listAccounts());
    } catch (err) {
      ctx.toast(`Cannot list the accounts: ${(err as Error).message}`, 'error');
    } finally {
      pending = false;
    }
  }

  element.append(h('h2', {}, 'Accounts'), list, addForm, dialog);
  return {
    id: 'accounts',
    title: 'Accounts',
    element,
    shown: () => void refresh(),
    onEvent(event) {
      if (element.hidden) return;
      if (event.type === 'accounts' || (event.type === 'progress' && event.job.state !== 'running')) void refresh();
    },
  };
}
