// Mail sources: each account's mailboxes at providers (IMAP or POP3), fetched into it. A table
// with each source's state, last fetch, last error in plain words and count, updated live; a
// form to add or edit one, with Test connection; Fetch now and Remove per row.

import type { AccountView, MailSourceInput, MailSourceView } from '../../server/appliance/api.js';
import { h, replaceChildren, syncRows, type KeptRow } from '../dom.js';
import { count, dateTime } from '../format.js';
import type { Context, Screen } from './types.js';

/** What an event says of one source: its new view, or that it is gone. */
type SourceChange = MailSourceView | { id: number; removed: true };

const PORTS = { imap: { implicit: 993, starttls: 143, none: 143 }, pop3: { implicit: 995, starttls: 110, none: 110 } } as const;
const STATES: Record<MailSourceView['status']['state'], string> = {
  waiting: 'waiting for the next fetch',
  fetching: 'fetching',
  idle: 'connected, new mail arrives at once',
  error: 'failed, will retry',
  disabled: 'off',
};

/** The state, and while fetching the folder at work with a progress bar and counts. */
function stateCell(s: MailSourceView): (HTMLElement | string)[] {
  const p = s.status.progress;
  if (s.status.state !== 'fetching' || !p || p.total === 0) return [STATES[s.status.state]];
  return [
    `${STATES.fetching} ${p.folder}`,
    h('progress', { class: 'source-progress', max: p.total, value: p.done }),
    h('span', { class: 'source-count' }, `${count(p.done)} of ${count(p.total)}`),
  ];
}

function labelled(label: string, control: HTMLElement, name: string, hint?: string): HTMLElement {
  control.id ||= `source-${name}`;
  return h('div', { class: 'field' }, h('label', { for: control.id }, label), control, hint ? h('div', { class: 'hint' }, hint) : null, h('div', { class: 'field-error', 'data-for': name, role: 'alert' }));
}

function option(value: string, text: string): HTMLOptionElement {
  return h('option', { value }, text);
}

/** "INBOX -> INBOX" lines to mappings; "Lists" alone maps to INBOX.Lists. */
function parseFolders(text: string): { remote: string; local: string }[] {
  return text.split('\n').map((l) => l.trim()).filter(Boolean).map((line) => {
    const [remote, local] = line.split('->').map((s) => s.trim());
    return { remote: remote!, local: local || (remote!.toUpperCase() === 'INBOX' ? 'INBOX' : `INBOX.${remote}`) };
  });
}

export function mailSourcesScreen(ctx: Context): Screen {
  const element = h('section', { class: 'screen' });
  const list = h('div', { id: 'source-list' });
  const problem = h('div', { id: 'sources-problem', class: 'banner error', role: 'alert', hidden: true });
  let sources: MailSourceView[] = [];
  let editing: MailSourceView | null = null;

  const account = h('select', { name: 'account' });
  const kind = h('select', { name: 'kind' }, option('imap', 'IMAP'), option('pop3', 'POP3'));
  const tls = h('select', { name: 'tls' }, option('implicit', 'TLS (SSL)'), option('starttls', 'STARTTLS'), option('none', 'none (not encrypted)'));
  const host = h('input', { name: 'host', autocomplete: 'off', placeholder: 'imap.example.com', required: true });
  const port = h('input', { name: 'port', type: 'number', min: 1, max: 65535, value: 993 });
  const username = h('input', { name: 'username', autocomplete: 'off', required: true });
  const password = h('input', { name: 'password', type: 'password', autocomplete: 'new-password' });
  const folders = h('textarea', { name: 'folders', rows: 2 }, 'INBOX -> INBOX');
  const leave = h('select', { name: 'leave' }, option('keep', 'keep them'), option('0', 'remove them once fetched'), option('days', 'remove them after some days'));
  const days = h('input', { name: 'days', type: 'number', min: 1, max: 36500, value: 30 });
  const daysField = labelled('Days', days, 'days');
  daysField.classList.add('days-field');
  daysField.hidden = true;
  const poll = h('input', { name: 'poll', type: 'number', min: 1, max: 1440, value: 5 });
  const insecure = h('input', { name: 'insecure', type: 'checkbox' });
  const enabled = h('input', { name: 'enabled', type: 'checkbox', checked: true });
  const result = h('div', { id: 'source-test-result', class: 'hint', 'aria-live': 'polite' });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Add source');
  const cancel = h('button', { type: 'button', hidden: true }, 'Cancel');
  const test = h('button', { type: 'button', id: 'source-test' }, 'Test connection');
  const title = h('h3', {}, 'Add a mail source');
  const form = h('form', { id: 'source-form', class: 'card', novalidate: true },
    title,
    h('div', { class: 'row' },
      labelled('Account', account, 'account', 'Where the fetched mail goes.'),
      labelled('Kind', kind, 'kind'),
      labelled('Server', host, 'host', "The provider's IMAP or POP3 server."),
      labelled('Security', tls, 'tls'),
      labelled('Port', port, 'port'),
      labelled('User name', username, 'username'),
      labelled('Password', password, 'password', 'An app password where the provider asks for one. Stored encrypted; leave empty to keep it when editing.'),
      labelled('Folders (provider -> here)', folders, 'folders', 'One per line, e.g. "INBOX -> INBOX" or "Newsletters -> INBOX.Newsletters". POP3: INBOX only.'),
      labelled('At the provider, fetched messages:', leave, 'leaveOnServerDays'),
      daysField,
      labelled('Fetch every (minutes)', poll, 'pollSeconds', 'IMAP providers with IDLE send new INBOX mail at once.'),
      h('label', { class: 'check' }, insecure, " Accept the server's certificate even if it is not trusted"),
      h('label', { class: 'check' }, enabled, ' Fetch from this source'),
    ),
    result,
    h('div', { class: 'field-error', 'data-for': 'form', role: 'alert' }),
    h('div', { class: 'actions' }, test, submit, cancel),
  );

  const defaultPort = () => (port.value = String(PORTS[kind.value as 'imap' | 'pop3'][tls.value as 'implicit' | 'starttls' | 'none']));
  kind.addEventListener('change', defaultPort);
  tls.addEventListener('change', defaultPort);
  leave.addEventListener('change', () => (daysField.hidden = leave.value !== 'days'));

  function input(): MailSourceInput {
    return {
      kind: kind.value as 'imap' | 'pop3',
      host: host.value.trim(),
      port: Number(port.value),
      tls: tls.value as MailSourceInput['tls'],
      username: username.value.trim(),
      ...(password.value ? { password: password.value } : {}),
      folders: parseFolders(folders.value),
      leaveOnServerDays: leave.value === 'keep' ? null : leave.value === '0' ? 0 : Number(days.value),
      pollSeconds: Math.max(30, Math.round(Number(poll.value) * 60)),
      enabled: enabled.checked,
      allowInvalidCertificate: insecure.checked,
    };
  }

  function showError(err: unknown): void {
    for (const slot of form.querySelectorAll('.field-error')) slot.textContent = '';
    const fieldName = (err as { field?: string }).field;
    const slot = (fieldName && form.querySelector(`.field-error[data-for="${fieldName}"]`)) || form.querySelector('.field-error[data-for="form"]');
    if (slot) slot.textContent = (err as Error).message;
  }

  function edit(source: MailSourceView | null): void {
    editing = source;
    title.textContent = source ? `Edit ${source.username}@${source.host}` : 'Add a mail source';
    submit.textContent = source ? 'Save' : 'Add source';
    cancel.hidden = !source;
    account.disabled = Boolean(source);
    result.textContent = '';
    if (!source) {
      // Not form.reset(): the values were set as properties, which reset() would empty.
      for (const el of [host, username, password]) el.value = '';
      kind.value = 'imap';
      tls.value = 'implicit';
      defaultPort();
      folders.value = 'INBOX -> INBOX';
      leave.value = 'keep';
      days.value = '30';
      daysField.classList.add('days-field');
  daysField.hidden = true;
      poll.value = '5';
      insecure.checked = false;
      enabled.checked = true;
      return;
    }
    account.value = source.account;
    kind.value = source.kind;
    tls.value = source.tls;
    host.value = source.host;
    port.value = String(source.port);
    username.value = source.username;
    password.value = '';
    folders.value = source.folders.map((f) => `${f.remote} -> ${f.local}`).join('\n');
    leave.value = source.leaveOnServerDays === null ? 'keep' : source.leaveOnServerDays === 0 ? '0' : 'days';
    days.value = String(source.leaveOnServerDays ?? 30);
    daysField.hidden = leave.value !== 'days';
    poll.value = String(Math.round(source.pollSeconds / 60));
    insecure.checked = source.allowInvalidCertificate;
    enabled.checked = source.enabled;
  }

  cancel.addEventListener('click', () => edit(null));
  test.addEventListener('click', () => {
    result.textContent = 'Connecting...';
    test.disabled = true;
    ctx.api.testMailSource(input(), editing?.id).then(
      (r) => (result.textContent = r.ok ? r.message : `Failed: ${r.message}`),
      (err: unknown) => { result.textContent = ''; showError(err); },
    ).finally(() => (test.disabled = false));
  });
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    submit.disabled = true;
    const done = editing ? ctx.api.updateMailSource(editing.id, input()) : ctx.api.addMailSource(account.value, input());
    done.then(
      (s) => {
        ctx.toast(`${editing ? 'Saved' : 'Added'} ${s.username}@${s.host} for ${s.account}`);
        edit(null);
        refresh();
      },
      showError,
    ).finally(() => (submit.disabled = false));
  });

  const tbody = h('tbody');
  const table = h('table', { class: 'grid cards', id: 'source-table' },
    h('thead', {}, h('tr', {}, ['Account', 'Source', 'State', 'Last fetch', 'Fetched', 'Last error', ''].map((t) => h('th', {}, t)))),
    tbody,
  );
  const rows = new Map<string, KeptRow<MailSourceView>>();

  function actionsCell(current: () => MailSourceView): HTMLTableCellElement {
    const id = current().id;
    const fetchButton = h('button', { 'data-fetch': id }, 'Fetch now');
    fetchButton.addEventListener('click', () => {
      fetchButton.disabled = true;
      ctx.api.fetchMailSource(id).then(
        (v) => ctx.toast(v.status.lastError ? `Fetch failed: ${v.status.lastError}` : `Fetched: ${count(v.status.fetchedTotal)} in all`, v.status.lastError ? 'error' : 'ok'),
        (err: unknown) => ctx.toast((err as Error).message, 'error'),
      ).finally(() => (fetchButton.disabled = false));
    });
    const removeButton = h('button', { class: 'danger', 'data-remove': id }, 'Remove');
    removeButton.addEventListener('click', () => {
      const s = current();
      if (!confirm(`Stop fetching from ${s.username}@${s.host}? Mail already fetched stays.`)) return;
      ctx.api.removeMailSource(id).then(() => refresh(), (err: unknown) => ctx.toast((err as Error).message, 'error'));
    });
    return h('td', { class: 'actions' }, fetchButton, h('button', { 'data-edit': id, onclick: () => edit(current()) }, 'Edit'), removeButton);
  }

  function render(): void {
    if (sources.length === 0) {
      rows.clear();
      replaceChildren(list, h('p', { class: 'empty' }, 'No mail sources yet: add one below to fetch mail from a provider.'));
      return;
    }
    if (table.parentNode !== list) replaceChildren(list, table);
    syncRows(tbody, 'data-source', rows, sources, (s) => String(s.id), (s) => [
      h('td', { class: 'name' }, s.account),
      h('td', { 'data-label': 'Source' }, `${s.kind.toUpperCase()} ${s.username}@${s.host}:${s.port}`),
      h('td', { class: 'state', 'data-label': 'State' }, stateCell(s)),
      h('td', { 'data-label': 'Last fetch' }, s.status.lastFetchAt ? dateTime(s.status.lastFetchAt) : 'never'),
      h('td', { class: 'num fetched', 'data-label': 'Fetched' }, count(s.status.fetchedTotal)),
      h('td', { class: 'error', 'data-label': 'Last error' }, s.status.lastError ?? ''),
    ], actionsCell);
  }

  /**
   * The list and the events come over two connections, in no order between them: a list asked
   * for before a fetch landed may arrive after that fetch's events. So the events heard while a
   * list is on its way are applied again on top of it; the last event of a source carries its
   * newest state, whichever came first.
   */
  const heardDuringRefresh = new Set<SourceChange[]>();

  function apply(change: SourceChange): void {
    const i = sources.findIndex((s) => s.id === change.id);
    if ('removed' in change) {
      if (i >= 0) sources.splice(i, 1);
    } else if (i >= 0) sources[i] = change;
    else sources.push(change);
  }

  function refresh(): void {
    const heard: SourceChange[] = [];
    heardDuringRefresh.add(heard);
    Promise.all([ctx.api.listMailSources(), ctx.api.listAccounts(), ctx.api.mailSourcesProblem()]).then(([s, accounts, trouble]: [MailSourceView[], AccountView[], string | null]) => {
      sources = s;
      for (const change of heard) apply(change);
      problem.textContent = trouble ?? '';
      problem.hidden = trouble === null;
      const chosen = account.value;
      replaceChildren(account, accounts.map((a) => option(a.username, a.username)));
      if (chosen) account.value = chosen;
      render();
    }, (err: unknown) => ctx.toast((err as Error).message, 'error')).finally(() => heardDuringRefresh.delete(heard));
  }

  element.append(
    h('h2', {}, 'Mail sources'),
    problem,
    h('p', { class: 'hint' }, "Mailboxes at your providers whose mail is fetched into an account here. Messages are saved before they are removed at the provider, and never fetched twice."),
    list,
    form,
  );
  return {
    id: 'sources',
    title: 'Mail sources',
    element,
    shown: refresh,
    onEvent(event) {
      if (event.type !== 'mail-source') return;
      for (const heard of heardDuringRefresh) heard.push(event.source);
      apply(event.source);
      if (!element.hidden) render();
    },
  };
}
