// Import: mail from elsewhere into an account, as a job with progress (counts and time left),
// Cancel, and a summary at the end. An mbox file, a Maildir (Courier's or Dovecot's, with its
// folders, flags and keywords) or a whole IMAP account. Running an import again goes on where
// it stopped and never stores a message twice.

import type { AccountView, ImportInput, JobView } from '../../server/appliance/api.js';
import { h, placeInOrder, replaceChildren } from '../dom.js';
import { bytes, count, duration } from '../format.js';
import type { Context, Screen } from './types.js';

function labelled(label: string, control: HTMLElement, name: string, hint?: string): HTMLElement {
  control.id ||= `import-${name}`;
  return h('div', { class: 'field', 'data-field': name }, h('label', { for: control.id }, label), control, hint ? h('div', { class: 'hint' }, hint) : null, h('div', { class: 'field-error', 'data-for': name, role: 'alert' }));
}

function option(value: string, text: string): HTMLOptionElement {
  return h('option', { value }, text);
}

const PORTS = { implicit: 993, starttls: 143, none: 143 } as const;

/** One line of what a job is doing, or (finished) what it did. */
export function importSummary(job: JobView): string {
  const took = `took ${duration(((job.finishedAt ?? Date.now()) - job.startedAt) / 1000)}`;
  if (job.state !== 'running') return `${job.message ?? `${count(job.imported ?? 0)} imported`} - ${took}`;
  const amount = job.unit === 'octets' ? `${bytes(job.done)} of ${bytes(job.total)} read` : `${count(job.done)} of ${count(job.total)} messages`;
  return [
    `${count(job.imported ?? 0)} imported, ${count(job.skipped ?? 0)} already there`,
    amount,
    job.foldersTotal > 1 ? `folder ${Math.min(job.foldersDone + 1, job.foldersTotal)} of ${job.foldersTotal}${job.folder ? ` (${job.folder})` : ''}` : null,
    job.secondsLeft === null ? 'estimating the time left...' : `about ${duration(job.secondsLeft)} left`,
  ].filter((p): p is string => Boolean(p)).join(' - ');
}

/** What the job is: "Importing the mbox file ... into alice", "... failed". */
export function importTitle(job: JobView): string {
  return job.state === 'running' ? `Importing ${job.source} into ${job.account}`
    : job.state === 'done' ? `Imported ${job.source} into ${job.account}`
    : `Import of ${job.source} into ${job.account} ${job.cancelled ? 'cancelled' : 'failed'}`;
}

export function importScreen(ctx: Context): Screen {
  const element = h('section', { class: 'screen' });
  const jobsList = h('div', { id: 'import-jobs' });
  const jobs = new Map<number, JobView>();

  const account = h('select', { name: 'account' });
  const kind = h('select', { name: 'kind' }, option('mbox', 'an mbox file'), option('maildir', 'a Maildir (Courier, Dovecot)'), option('imap', 'an IMAP account (all folders)'));
  const path = h('input', { name: 'path', autocomplete: 'off', placeholder: '/home/me/mail/old.mbox' });
  const format = h('select', { name: 'format' }, option('mboxrd', 'mboxrd (most programs)'), option('mboxo', 'mboxo'));
  const host = h('input', { name: 'host', autocomplete: 'off', placeholder: 'imap.example.com' });
  const tls = h('select', { name: 'tls' }, option('implicit', 'TLS (SSL)'), option('starttls', 'STARTTLS'), option('none', 'none (not encrypted)'));
  const port = h('input', { name: 'port', type: 'number', min: 1, max: 65535, value: 993 });
  const username = h('input', { name: 'username', autocomplete: 'off' });
  const password = h('input', { name: 'password', type: 'password', autocomplete: 'new-password' });
  const insecure = h('input', { name: 'insecure', type: 'checkbox' });
  const folder = h('input', { name: 'folder', autocomplete: 'off', placeholder: 'empty: INBOX itself' });
  const submit = h('button', { type: 'submit', class: 'primary', id: 'import-start' }, 'Start the import');
  const pathField = labelled('File', path, 'path', 'The whole path on the computer running the server.');
  const formatField = labelled('Format', format, 'format', 'mboxrd undoes ">From " quoting exactly; mboxo is the older kind.');
  const imapFields = [
    labelled('Server', host, 'host'),
    labelled('Security', tls, 'tls'),
    labelled('Port', port, 'port'),
    labelled('User name', username, 'username'),
    labelled('Password', password, 'password', 'Used for this import only, not stored.'),
    h('label', { class: 'check' }, insecure, " Accept the server's certificate even if it is not trusted"),
  ];
  const form = h('form', { id: 'import-form', class: 'card', novalidate: true },
    h('h3', {}, 'Import mail'),
    h('div', { class: 'row' },
      labelled('Into the account', account, 'account'),
      labelled('From', kind, 'kind'),
      pathField,
      formatField,
      ...imapFields,
      labelled('Into the folder', folder, 'folder', 'Below INBOX, e.g. "Archive" or "Old.2019" (made when missing); a Maildir\'s or server\'s other folders go below it.'),
    ),
    h('div', { class: 'field-error', 'data-for': 'form', role: 'alert' }),
    h('div', { class: 'actions' }, submit),
  );

  function showKind(): void {
    const k = kind.value;
    pathField.hidden = k === 'imap';
    formatField.hidden = k !== 'mbox';
    for (const f of imapFields) f.hidden = k !== 'imap';
    pathField.querySelector('label')!.textContent = k === 'maildir' ? 'Maildir' : 'File';
    path.placeholder = k === 'maildir' ? '/home/me/Maildir' : '/home/me/mail/old.mbox';
  }
  kind.addEventListener('change', showKind);
  tls.addEventListener('change', () => (port.value = String(PORTS[tls.value as keyof typeof PORTS])));

  function input(): ImportInput {
    const common = { account: account.value, folder: folder.value.trim() };
    if (kind.value === 'imap') {
      return {
        ...common, kind: 'imap', host: host.value.trim(), port: Number(port.value), tls: tls.value as 'implicit' | 'starttls' | 'none',
        username: username.value.trim(), password: password.value, allowInvalidCertificate: insecure.checked,
      };
    }
    return { ...common, kind: kind.value as 'mbox' | 'maildir', path: path.value.trim(), ...(kind.value === 'mbox' ? { format: format.value as 'mboxrd' | 'mboxo' } : {}) };
  }

  function showError(err: unknown): void {
    for (const slot of form.querySelectorAll('.field-error')) slot.textContent = '';
    const fieldName = (err as { field?: string }).field;
    const slot = (fieldName && form.querySelector(`.field-error[data-for="${fieldName}"]`)) || form.querySelector('.field-error[data-for="form"]');
    if (slot) slot.textContent = (err as Error).message;
  }

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    showError({ message: '' });
    submit.disabled = true;
    ctx.api.startImport(input()).then(
      (job) => {
        password.value = '';
        jobs.set(job.id, job);
        render();
      },
      showError,
    ).finally(() => (submit.disabled = false));
  });

  /** A job's card, made once and then updated in place: a card drawn anew at every progress
   * event took the Cancel button from under a press (mouse down on one button, up on its
   * successor: no click), and the import ran on. */
  interface JobCard {
    card: HTMLDivElement;
    title: HTMLDivElement;
    bar: HTMLProgressElement;
    details: HTMLDivElement;
    summary: HTMLDivElement;
    actions: HTMLDivElement;
  }
  const cards = new Map<number, JobCard>();

  function jobCard(id: number): JobCard {
    const known = cards.get(id);
    if (known) return known;
    const cancel = h('button', { class: 'danger', 'data-cancel': id }, 'Cancel');
    cancel.addEventListener('click', () => {
      cancel.disabled = true;
      ctx.api.cancelJob(id).then((v) => { jobs.set(v.id, v); render(); }, (err: unknown) => ctx.toast((err as Error).message, 'error'));
    });
    const parts = {
      title: h('div', { class: 'job-title' }),
      bar: h('progress'),
      details: h('div', { class: 'job-details' }),
      summary: h('div', { 'data-summary': id }),
      actions: h('div', { class: 'actions' }, cancel),
    };
    const made = { card: h('div', { 'data-import': id }, parts.title, parts.bar, parts.details, parts.actions), ...parts };
    cards.set(id, made);
    return made;
  }

  function update(c: JobCard, job: JobView): void {
    c.card.className = `card job ${job.state}`;
    c.card.dataset.state = job.cancelled ? 'cancelled' : job.state;
    c.title.textContent = importTitle(job);
    c.bar.max = Math.max(job.total, 1);
    c.bar.value = job.state === 'done' ? Math.max(job.total, 1) : job.done;
    c.details.textContent = job.state === 'running' ? importSummary(job) : `took ${duration(((job.finishedAt ?? Date.now()) - job.startedAt) / 1000)}`;
    const summary = job.state !== 'running' && job.message ? job.message : null;
    if (summary !== null) {
      c.summary.className = job.state === 'failed' && !job.cancelled ? 'field-error' : 'hint';
      c.summary.textContent = summary;
      if (c.summary.parentNode !== c.card) c.card.insertBefore(c.summary, c.actions.parentNode === c.card ? c.actions : null);
    } else c.summary.remove();
    if (job.state !== 'running') c.actions.remove();
    else if (c.actions.parentNode !== c.card) c.card.append(c.actions);
  }

  function render(): void {
    const list = [...jobs.values()].filter((j) => j.kind === 'import').sort((a, b) => b.id - a.id);
    if (list.length === 0) {
      replaceChildren(jobsList, h('p', { class: 'empty' }, 'No imports yet.'));
      return;
    }
    const wanted = list.map((job) => {
      const c = jobCard(job.id);
      update(c, job);
      return c.card;
    });
    placeInOrder(jobsList, wanted);
  }

  function refresh(): void {
    ctx.api.listAccounts().then((accounts: AccountView[]) => {
      const chosen = account.value;
      replaceChildren(account, accounts.map((a) => option(a.username, a.username)));
      if (chosen) account.value = chosen;
    }, (err: unknown) => ctx.toast((err as Error).message, 'error'));
    for (const job of ctx.status()?.jobs ?? []) if (job.kind === 'import' && !jobs.has(job.id)) jobs.set(job.id, job);
    render();
  }

  element.append(
    h('h2', {}, 'Import'),
    h('p', { class: 'hint' }, 'Bring old mail in: an mbox file, another Maildir, or a whole IMAP account with its folders, flags and dates. An import that stopped goes on where it was when started again, and never stores a message twice.'),
    form,
    h('h3', {}, 'Imports'),
    jobsList,
  );
  showKind();
  return {
    id: 'import',
    title: 'Import',
    element,
    shown: refresh,
    onEvent(event) {
      if (event.type !== 'progress' || event.job.kind !== 'import') return;
      jobs.set(event.job.id, event.job);
      if (!element.hidden) render();
    },
  };
}
