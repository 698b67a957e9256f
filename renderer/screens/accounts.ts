// Accounts: the list with each account's use of space, adding one (its Maildir is created
// when missing), changing a password or the quota, disabling, and removing (mail kept unless asked);
// below them, the shared folders (sharing.ts).

import { ApiError, MIN_ACCOUNT_PASSWORD, type AccountView, type MaildirInspection, type QuotaInput } from '../../server/appliance/api.js';
import { h, replaceChildren, syncRows, type KeptRow } from '../dom.js';
import { bytes, count, dateTime } from '../format.js';
import { sharingCard } from './sharing.js';
import type { Context, Screen } from './types.js';

/** Show an API error next to the field it names, or at the form's end. */
function showError(form: HTMLElement, err: unknown): void {
  for (const el of form.querySelectorAll('.field-error')) el.textContent = '';
  if (err === null) return;
  const field = err instanceof ApiError ? err.field : undefined;
  const slot = (field && form.querySelector(`.field-error[data-for="${field}"]`)) || form.querySelector('.field-error[data-for="form"]');
  if (slot) slot.textContent = (err as Error).message;
}

function field(label: string, input: HTMLInputElement | HTMLElement, name: string, hint?: string, extra?: HTMLElement): HTMLElement {
  // A select is its own control too (the Sharable Maildirs dialog's did not open without this).
  const control = input instanceof HTMLInputElement || input instanceof HTMLSelectElement ? input : input.querySelector('input')!;
  control.id ||= `field-${name}-${Math.random().toString(36).slice(2, 8)}`;
  return h(
    'div',
    { class: 'field' },
    h('label', { for: control.id }, label),
    input,
    hint ? h('div', { class: 'hint' }, hint) : null,
    extra ?? null,
    h('div', { class: 'field-error', 'data-for': name, role: 'alert' }),
  );
}

/** A password field with Show and Generate. */
function passwordField(input: HTMLInputElement, name: string, hint: string, label = 'Password'): HTMLElement {
  const show = h('button', { type: 'button', class: 'show-password', 'aria-pressed': 'false' }, 'Show');
  show.addEventListener('click', () => {
    const shown = input.type === 'text';
    input.type = shown ? 'password' : 'text';
    show.textContent = shown ? 'Show' : 'Hide';
    show.setAttribute('aria-pressed', String(!shown));
  });
  const generate = h('button', { type: 'button', class: 'generate-password' }, 'Generate');
  generate.addEventListener('click', () => {
    input.value = generatePassword();
    input.type = 'text';
    show.textContent = 'Hide';
    input.dispatchEvent(new Event('input'));
  });
  return field(label, h('div', { class: 'password-row' }, input, show, generate), name, hint);
}

/** 16 characters from an alphabet without look-alikes (0/O, 1/l/I): about 90 bits. */
export function generatePassword(length = 16): string {
  const alphabet = 'abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  const out: string[] = [];
  const bytes = new Uint8Array(length * 2);
  while (out.length < length) {
    crypto.getRandomValues(bytes);
    // Reject the top of the range so that every character is equally likely.
    for (const b of bytes) if (b < 220 && out.length < length) out.push(alphabet[b % alphabet.length]!);
  }
  return out.join('');
}

const MIN_PASSWORD = MIN_ACCOUNT_PASSWORD;
/** Quotas are typed in MB as the Size column shows them (1 MB = 1024 KB). */
const MB = 1024 * 1024;

/** A quota field's text as a limit: empty is none; otherwise a whole number from 1. */
function limitFrom(text: string, unit: number, field: string, what: string): number | null {
  const t = text.trim();
  if (t === '') return null;
  if (!/^[0-9]{1,15}$/.test(t) || Number(t) < 1) throw new ApiError('invalid-argument', `The ${what} is a whole number from 1, or empty for no limit.`, field);
  return Number(t) * unit;
}

export function accountsScreen(ctx: Context): Screen {
  const element = h('section', { class: 'screen' });
  const list = h('div', { id: 'account-list' });
  const dialog = h('dialog', { id: 'account-dialog' });
  const sharing = sharingCard(ctx);

  const username = h('input', { name: 'username', autocomplete: 'off', required: true, maxlength: 255 });
  const password = h('input', { name: 'password', type: 'password', autocomplete: 'new-password', required: true, minlength: MIN_PASSWORD });
  const maildir = h('input', { name: 'maildir', autocomplete: 'off', placeholder: 'default: in the data directory' });
  const quotaMb = h('input', { name: 'quotaBytes', inputmode: 'numeric', autocomplete: 'off', placeholder: 'no limit' });
  const inspection = h('div', { class: 'inspection hint', id: 'maildir-inspection', 'aria-live': 'polite' });
  const addButton = h('button', { type: 'submit', class: 'primary' }, 'Add account');
  /** The missing location the user agreed to create (asked once per path). */
  let createConfirmed: string | null = null;
  const addForm = h(
    'form',
    { id: 'add-account', class: 'card', novalidate: true },
    h('h3', {}, 'Add an account'),
    h('div', { class: 'row' },
      field('Username', username, 'username', 'What the mail program logs in with; no spaces.'),
      passwordField(password, 'password', `At least ${MIN_PASSWORD} characters: the mail program remembers it.`),
      field('Maildir location (optional)', maildir, 'maildir', 'A full path. An existing Maildir is used as it is, and indexed in the background.', inspection),
      field('Quota in MB (optional)', quotaMb, 'quotaBytes', 'Mail beyond it is refused (Courier\'s maildirsize). Empty: no limit.'),
    ),
    h('div', { class: 'field-error', 'data-for': 'form', role: 'alert' }),
    h('div', { class: 'actions' }, addButton),
  );
  username.addEventListener('input', () => {
    const slot = addForm.querySelector('.field-error[data-for="username"]')!;
    slot.textContent = /\s/.test(username.value.trim()) ? 'A username cannot contain spaces.' : '';
  });

  // Say what is at the Maildir location while the user types, before anything is saved.
  let inspectTimer: ReturnType<typeof setTimeout> | null = null;
  const inspect = async (): Promise<MaildirInspection | null> => {
    const path = maildir.value.trim();
    if (!path) {
      inspection.textContent = '';
      return null;
    }
    try {
      const found = await ctx.api.inspectMaildir(path);
      if (maildir.value.trim() !== path) return null;
      inspection.textContent = found.summary;
      inspection.className = `inspection ${found.kind === 'other' ? 'field-error' : 'hint'}`;
      inspection.dataset.kind = found.kind;
      return found;
    } catch (err) {
      inspection.textContent = (err as Error).message;
      inspection.className = 'inspection field-error';
      return null;
    }
  };
  maildir.addEventListener('input', () => {
    if (inspectTimer) clearTimeout(inspectTimer);
    inspectTimer = setTimeout(() => void inspect(), 300);
  });

  addForm.addEventListener('submit', (e) => {
    e.preventDefault();
    void (async () => {
      showError(addForm, null);
      const name = username.value.trim();
      if (!name) return showError(addForm, new ApiError('invalid-argument', 'Enter a username.', 'username'));
      if (/\s/.test(name)) return showError(addForm, new ApiError('invalid-argument', 'A username cannot contain spaces.', 'username'));
      if (password.value.length < MIN_PASSWORD) return showError(addForm, new ApiError('invalid-argument', `Use at least ${MIN_PASSWORD} characters.`, 'password'));
      let quota: QuotaInput | null = null;
      try {
        const limit = limitFrom(quotaMb.value, MB, 'quotaBytes', 'quota');
        if (limit !== null) quota = { bytes: limit, messages: null };
      } catch (err) {
        return showError(addForm, err);
      }
      const path = maildir.value.trim();
      if (path) {
        const found = await inspect();
        if (found?.kind === 'other') return showError(addForm, new ApiError('invalid-argument', found.summary, 'maildir'));
        if (found?.kind === 'missing' && createConfirmed !== found.path) {
          askToCreate(found.path);
          return;
        }
      }
      addButton.disabled = true;
      try {
        const account = await ctx.api.addAccount({ username: name, password: password.value, maildir: path || null, quota });
        ctx.toast(`Account ${account.username} added; its Maildir is ${account.maildir}`);
        username.value = password.value = maildir.value = quotaMb.value = '';
        inspection.textContent = '';
        createConfirmed = null;
        void refresh();
      } catch (err) {
        showError(addForm, err);
      } finally {
        addButton.disabled = false;
      }
    })();
  });

  function askToCreate(path: string): void {
    const form = h('form', { method: 'dialog', id: 'create-maildir' },
      h('h3', {}, 'Create a new Maildir?'),
      h('p', {}, `${path} does not exist. Create it as a new, empty Maildir for this account?`),
      h('p', { class: 'hint' }, 'If you meant an existing Maildir, check the path: nothing is there now.'),
      h('div', { class: 'actions' },
        h('button', { type: 'button', onclick: () => dialog.close() }, 'Cancel'),
        h('button', { type: 'submit', class: 'primary' }, 'Create it'),
      ),
    );
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      dialog.close();
      createConfirmed = path;
      addForm.requestSubmit();
    });
    replaceChildren(dialog, form);
    dialog.showModal();
  }

  /**
   * One of the account dialogs: `content`, then the form's error line, Cancel and `submit`.
   * `save` makes the call (its refusals, and what it throws, show at their fields) and gives
   * what the toast says; then the list is read again unless `reload` is false. Returns the
   * submit button (`danger` for what cannot be undone).
   */
  function formDialog(options: {
    id?: string;
    title: string;
    content: HTMLElement[];
    submit: string;
    danger?: boolean;
    /** What has the focus; absent: the dialog's first control. */
    focus?: HTMLElement;
    save: () => Promise<string>;
    reload?: boolean;
  }): HTMLButtonElement {
    const submit = h('button', { type: 'submit', class: options.danger ? 'danger' : 'primary' }, options.submit);
    const form = h(
      'form',
      { method: 'dialog', id: options.id },
      h('h3', {}, options.title),
      ...options.content,
      h('div', { class: 'field-error', 'data-for': 'form', role: 'alert' }),
      h('div', { class: 'actions' },
        h('button', { type: 'button', onclick: () => dialog.close() }, 'Cancel'),
        submit,
      ),
    );
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      let saving: Promise<string>;
      try {
        saving = options.save();
      } catch (err) {
        return showError(form, err);
      }
      saving.then(
        (message) => {
          dialog.close();
          ctx.toast(message);
          if (options.reload !== false) void refresh();
        },
        (err: unknown) => showError(form, err),
      );
    });
    replaceChildren(dialog, form);
    dialog.showModal();
    options.focus?.focus();
    return submit;
  }

  function passwordDialog(account: AccountView): void {
    const input = h('input', { type: 'password', name: 'password', autocomplete: 'new-password', required: true, minlength: MIN_PASSWORD });
    formDialog({
      title: `New password for ${account.username}`,
      content: [passwordField(input, 'password', `At least ${MIN_PASSWORD} characters.`, 'New password')],
      submit: 'Change password',
      focus: input,
      reload: false,
      save: () => {
        if (input.value.length < MIN_PASSWORD) throw new ApiError('invalid-argument', `Use at least ${MIN_PASSWORD} characters.`, 'password');
        return ctx.api.setPassword(account.username, input.value).then(() => `Password of ${account.username} changed`);
      },
    });
  }

  function quotaDialog(account: AccountView): void {
    const storage = h('input', { name: 'quotaBytes', inputmode: 'numeric', autocomplete: 'off', placeholder: 'no limit',
      value: account.quotaBytes === null ? '' : String(Math.max(1, Math.round(account.quotaBytes / MB))) });
    const messages = h('input', { name: 'quotaMessages', inputmode: 'numeric', autocomplete: 'off', placeholder: 'no limit',
      value: account.quotaMessages === null ? '' : String(account.quotaMessages) });
    const used = account.usage ? `Now ${bytes(account.usage.bytes)} in ${count(account.usage.messages)} messages.` : 'Not counted yet.';
    formDialog({
      id: 'quota-form',
      title: `Quota of ${account.username}`,
      content: [
        h('p', { class: 'hint' }, `${used} Mail that would go over a limit is refused; leave a field empty for no limit.`),
        field('Storage in MB', storage, 'quotaBytes'),
        field('Messages', messages, 'quotaMessages'),
      ],
      submit: 'Save quota',
      focus: storage,
      save: () => {
        const quota: QuotaInput = { bytes: limitFrom(storage.value, MB, 'quotaBytes', 'storage quota'), messages: limitFrom(messages.value, 1, 'quotaMessages', 'message quota') };
        return ctx.api.setQuota(account.username, quota.bytes === null && quota.messages === null ? null : quota).then((view) =>
          view.quotaBytes === null && view.quotaMessages === null ? `${account.username} has no quota now` : `Quota of ${account.username} saved`,
        );
      },
    });
  }

  /** Courier's proxy mode: the account's mail on another server, where IMAP_PROXY=1 relays its logins. */
  function mailhostDialog(account: AccountView): void {
    const input = h('input', { name: 'mailhost', autocomplete: 'off', spellcheck: 'false', placeholder: 'this server', value: account.mailhost ?? '' });
    formDialog({
      id: 'mailhost-form',
      title: `Mail server of ${account.username}`,
      content: [
        h('p', { class: 'hint' }, 'Leave empty when the mail is on this server. With another server (mail2.example.com, host:143, imaps://host:993; several separated by commas), and the setting IMAP_PROXY on, this server checks the password, logs in there over TLS and relays the session.'),
        field('Mail server', input, 'mailhost'),
      ],
      submit: 'Save',
      focus: input,
      save: () =>
        ctx.api.setMailhost(account.username, input.value.trim() === '' ? null : input.value).then((view) =>
          view.mailhost ? `Mail of ${account.username} is on ${view.mailhost}` : `Mail of ${account.username} is on this server`,
        ),
    });
  }

  /** Courier's sharable Maildirs (shared.NAME.FOLDER): which list the account sees, read-only. */
  function sharableDialog(account: AccountView): void {
    const choice = h('select', { name: 'sharable-choice' },
      h('option', { value: 'none' }, 'None'),
      h('option', { value: 'list' }, 'Those of the list (config/maildirshared)'),
      h('option', { value: 'group' }, 'Those of a group\'s list (config/maildirshared + group)'),
    ) as HTMLSelectElement;
    choice.value = account.sharable === null ? 'none' : account.sharable === '' ? 'list' : 'group';
    const group = h('input', { name: 'sharable', autocomplete: 'off', spellcheck: 'false', placeholder: 'family', value: account.sharable ?? '' });
    formDialog({
      id: 'sharable-form',
      title: `Sharable Maildirs for ${account.username}`,
      content: [
        h('p', { class: 'hint' }, 'Maildirs made with maildirmake -S and listed as "NAME PATH" lines in the list file; the account sees their folders as shared.NAME.FOLDER, read-only, with flags of its own. A list naming an account\'s Maildir is ignored.'),
        field('Show', choice, 'sharable-choice'),
        field('Group', group, 'sharable', 'letters, digits, ".", "_" and "-"; only for a group\'s list'),
      ],
      submit: 'Save',
      focus: choice,
      save: () => {
        const value = choice.value === 'none' ? null : choice.value === 'list' ? '' : group.value.trim();
        // An empty group would mean the list itself: say so rather than save that.
        if (choice.value === 'group' && value === '') throw new ApiError('invalid-argument', 'Name the group', 'sharable');
        return ctx.api.setSharable(account.username, value).then((view) =>
          view.sharable === null ? `${account.username} sees no sharable Maildirs` : `${account.username} sees the sharable Maildirs from the next login`,
        );
      },
    });
  }

  function removeDialog(account: AccountView): void {
    const deleteMail = h('input', { type: 'checkbox', id: 'remove-delete-mail', name: 'deleteMail' });
    const usage = account.usage ? `${count(account.usage.messages)} messages, ${bytes(account.usage.bytes)}` : 'no Maildir yet';
    const confirmButton = formDialog({
      title: `Remove the account ${account.username}?`,
      content: [
        h('p', {}, `Its mail programs can no longer log in. The mail stays in ${account.maildir} (${usage}) unless you tick the box.`),
        h('div', { class: 'check' }, deleteMail, h('label', { for: 'remove-delete-mail' }, 'Also delete the mail. This cannot be undone.')),
      ],
      submit: 'Remove account',
      danger: true,
      save: () =>
        ctx.api.removeAccount(account.username, !deleteMail.checked).then(() =>
          deleteMail.checked ? `Account ${account.username} removed and its mail deleted` : `Account ${account.username} removed; its mail is kept in ${account.maildir}`,
        ),
    });
    deleteMail.addEventListener('change', () => (confirmButton.textContent = deleteMail.checked ? 'Remove account and delete mail' : 'Remove account'));
  }

  const tbody = h('tbody');
  const table = h('table', { class: 'grid cards', id: 'account-table' },
    h('thead', {}, h('tr', {}, ['Username', 'State', 'Maildir', 'Messages', 'Size', 'Last login', 'Sessions', ''].map((t) => h('th', {}, t)))),
    tbody,
  );
  // Kept across updates (a login elsewhere, a delivery): an Actions menu the user has open stays
  // open, and a press on one of its items is not lost to an update.
  const rows = new Map<string, KeptRow<AccountView>>();

  function actionsCell(current: () => AccountView): HTMLTableCellElement {
    const act = (label: string, fn: () => Promise<unknown> | void, cls = '') =>
      h('button', {
        class: cls,
        onclick: (e: Event) => {
          (e.currentTarget as HTMLElement).closest('details')?.removeAttribute('open'); // an action chosen closes its menu
          void Promise.resolve(fn()).catch((err: unknown) => ctx.toast((err as Error).message, 'error'));
        },
      }, label);
    const name = current().username;
    // Enable or Disable, as the account is when pressed; its label follows (toggleLabel).
    const toggle = act('', () => (current().enabled ? ctx.api.disableAccount(name) : ctx.api.enableAccount(name)).then(() => refresh()));
    toggle.dataset.toggle = '';
    return h('td', { class: 'actions' },
      h('details', { class: 'row-menu' },
        h('summary', { 'aria-label': `Actions for ${name}` }, 'Actions'),
        h('div', { class: 'menu' },
          act('Change password', () => passwordDialog(current())),
          act('Quota', () => quotaDialog(current())),
          act('Mail server', () => mailhostDialog(current())),
          act('Sharable Maildirs', () => sharableDialog(current())),
          act('Share a folder', () => sharing.shareFrom(name)),
          toggle,
          act('Remove', () => removeDialog(current()), 'danger'),
        ),
      ),
    );
  }

  function toggleLabel(cell: HTMLTableCellElement, a: AccountView): void {
    const toggle = cell.querySelector<HTMLButtonElement>('button[data-toggle]')!;
    toggle.textContent = a.enabled ? 'Disable' : 'Enable';
  }

  function render(accounts: AccountView[]): void {
    if (accounts.length === 0) {
      rows.clear();
      replaceChildren(list, h('p', { class: 'empty' }, 'No accounts yet. Add one below: a username and a password for your mail program.'));
      return;
    }
    if (table.parentNode !== list) replaceChildren(list, table);
    syncRows(tbody, 'data-account', rows, accounts, (a) => a.username, (a) => [
      h('td', { class: 'name' }, a.username),
      h('td', { 'data-label': 'State' }, h('span', { class: `badge ${a.enabled ? 'ok' : 'off'}` }, a.enabled ? 'enabled' : 'disabled')),
      h('td', { class: 'path', title: a.maildir, 'data-label': 'Maildir' }, a.maildir, a.maildirExists ? null : h('span', { class: 'hint' }, ' (created at first login)'),
        a.mailhost ? h('span', { class: 'hint mailhost' }, ` (mail on ${a.mailhost})`) : null),
      h('td', { class: 'num', 'data-label': 'Messages' }, a.usage ? count(a.usage.messages) : '-'),
      h('td', { class: 'num', 'data-label': 'Size' }, a.usage ? bytes(a.usage.bytes) : '-',
        a.quotaBytes ? h('span', { class: 'hint quota-of' }, ` of ${bytes(a.quotaBytes)}`) : null,
        a.usage && a.quotaBytes ? h('progress', { class: 'quota-bar', max: a.quotaBytes, value: Math.min(a.usage.bytes, a.quotaBytes), title: `${bytes(a.usage.bytes)} of ${bytes(a.quotaBytes)}` }) : null),
      h('td', { 'data-label': 'Last login' }, a.lastLoginAt ? `${dateTime(a.lastLoginAt)} from ${a.lastLoginAddress ?? '?'}` : 'never'),
      h('td', { class: 'num', 'data-label': 'Sessions' }, count(a.sessions)),
    ], actionsCell, toggleLabel);
  }

  let pending = false;
  /** A change heard while a list was on its way: that list may be older, so another follows. */
  let again = false;
  async function refresh(): Promise<void> {
    if (pending) {
      again = true;
      return;
    }
    pending = true;
    try {
      do {
        again = false;
        const [accounts] = await Promise.all([ctx.api.listAccounts(), sharing.refresh()]);
        render(accounts);
      } while (again);
    } catch (err) {
      ctx.toast(`Cannot list the accounts: ${(err as Error).message}`, 'error');
    } finally {
      pending = false;
    }
  }

  element.append(h('h2', {}, 'Accounts'), list, addForm, sharing.element, dialog);
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
