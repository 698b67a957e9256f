// The appliance's GUI. It talks only to window.api (the ApplianceApi of
// server/appliance/api.ts): Electron's preload provides it; in a browser, http-api.ts
// does, over the appliance's HTTP server. Same code for both.

import { API_METHODS, toApiError, type ApplianceApi, type ApplianceEvent, type ApplianceStatus, type JobView } from '../server/appliance/api.js';
import { h, replaceChildren } from './dom.js';
import { count, duration } from './format.js';
import { httpApi } from './http-api.js';
import { accountsScreen } from './screens/accounts.js';
import { connectScreen } from './screens/connect.js';
import { importScreen, importSummary, importTitle } from './screens/import.js';
import { logScreen } from './screens/log.js';
import { mailSourcesScreen } from './screens/mail-sources.js';
import { overviewScreen } from './screens/overview.js';
import { sessionsScreen } from './screens/sessions.js';
import { settingsScreen } from './screens/settings.js';
import type { Context, Screen, ScreenId } from './screens/types.js';

declare global {
  interface Window {
    api?: ApplianceApi;
  }
}

const connectionBanner = h('div', { id: 'connection', class: 'banner error', hidden: true }, 'The connection to the appliance is lost; trying again...');
/** Failed calls as ApiError (with the field at fault), whichever way they came. */
function withApiErrors(raw: ApplianceApi): ApplianceApi {
  const wrapped: Record<string, unknown> = {};
  for (const method of API_METHODS) {
    const fn = raw[method] as (...args: unknown[]) => Promise<unknown>;
    wrapped[method] = (...args: unknown[]) =>
      fn(...args).catch((err: unknown) => {
        throw toApiError(err);
      });
  }
  wrapped.subscribe = raw.subscribe;
  return wrapped as unknown as ApplianceApi;
}

const api: ApplianceApi = withApiErrors(window.api ?? httpApi((connected) => (connectionBanner.hidden = connected)));

const statusPill = h('span', { id: 'status', class: 'pill' }, 'starting...');
const firstSteps = h('section', { id: 'first-steps', class: 'banner info', hidden: true });
const configProblem = h('section', { id: 'config-problem', class: 'banner error', role: 'alert', hidden: true });
const jobsArea = h('section', { id: 'jobs', hidden: true });
const toastArea = h('div', { id: 'toast', role: 'status', 'aria-live': 'polite' });
const nav = h('nav', { role: 'tablist' });
const main = h('main');

let status: ApplianceStatus | null = null;
const jobs = new Map<number, JobView>();

const context: Context = {
  api,
  status: () => status,
  navigate: (id) => show(id),
  toast(message, kind = 'ok') {
    const el = h('div', { class: `toast ${kind}` }, message);
    toastArea.appendChild(el);
    setTimeout(() => el.remove(), kind === 'error' ? 8000 : 4000);
  },
};

const screens: Screen[] = [overviewScreen(context), accountsScreen(context), mailSourcesScreen(context), importScreen(context), sessionsScreen(context), logScreen(context), settingsScreen(context), connectScreen(context)];
const tabs = new Map<ScreenId, HTMLButtonElement>();
let current: Screen | null = null;

function show(id: ScreenId): void {
  const screen = screens.find((s) => s.id === id) ?? screens[0]!;
  for (const s of screens) s.element.hidden = s !== screen;
  for (const [tabId, tab] of tabs) tab.setAttribute('aria-selected', String(tabId === screen.id));
  if (current !== screen) {
    current = screen;
    screen.shown();
  }
  if (location.hash !== `#${screen.id}`) history.replaceState(null, '', `#${screen.id}`);
}

function renderStatus(): void {
  if (!status) return;
  const s = status;
  const ports = s.listeners.map((l) => `${l.kind === 'imaps' ? 'TLS ' : ''}${l.port}`).join(', ');
  const text =
    s.state === 'running' ? `Running on port${s.listeners.length > 1 ? 's' : ''} ${ports} - ${count(s.sessions)} session${s.sessions === 1 ? '' : 's'}, ${count(s.accounts)} account${s.accounts === 1 ? '' : 's'}`
    : s.state === 'error' ? `Not running: ${s.problem ?? 'error'}`
    : s.state;
  statusPill.textContent = text;
  statusPill.className = `pill ${s.state}`;
  configProblem.hidden = s.configProblem === null;
  configProblem.textContent = s.configProblem ?? '';
  firstSteps.hidden = s.firstSteps.length === 0;
  replaceChildren(firstSteps, h('strong', {}, 'What to do next'), h('ul', {}, s.firstSteps.map((step) => h('li', {}, step))));
  for (const job of s.jobs) jobs.set(job.id, job);
  renderJobs();
}

function renderJobs(): void {
  const visible = [...jobs.values()].filter((j) => j.state === 'running' || (j.finishedAt !== null && Date.now() - j.finishedAt < 10_000));
  jobsArea.hidden = visible.length === 0;
  replaceChildren(
    jobsArea,
    visible.map((job) => {
      if (job.kind === 'import') {
        return h('div', { class: `job ${job.state}`, 'data-job': job.id },
          h('div', { class: 'job-title' }, importTitle(job)),
          h('progress', { max: Math.max(job.total, 1), value: job.state === 'done' ? Math.max(job.total, 1) : job.done }),
          h('div', { class: 'job-details' }, importSummary(job)),
        );
      }
      const percent = job.total > 0 ? Math.floor((job.done / job.total) * 100) : job.state === 'done' ? 100 : 0;
      const what = job.kind === 'fts' ? 'the mail of ' + job.account + ' for searching its text' : 'the mail of ' + job.account;
      const title =
        job.state === 'running' ? `Indexing ${what}`
        : job.state === 'done' ? `Indexed ${what}`
        : `Indexing ${what} stopped`;
      const details =
        job.state === 'running' && job.total === 0
          ? ['counting the messages...']
          : [
              `${count(job.done)} of ${count(job.total)} messages (${percent}%)`,
              `${count(job.foldersDone)} of ${count(job.foldersTotal)} folders`,
              job.state === 'running' && job.folder ? `now in ${job.folder}` : null,
              job.state === 'running'
                ? job.secondsLeft === null ? 'estimating the time left...' : `about ${duration(job.secondsLeft)} left`
                : job.message ?? `took ${duration(((job.finishedAt ?? Date.now()) - job.startedAt) / 1000)}`,
            ].filter((x): x is string => Boolean(x));
      return h(
        'div',
        { class: `job ${job.state}`, 'data-job': job.id },
        h('div', { class: 'job-title' }, title),
        h('progress', { max: Math.max(job.total, 1), value: job.total > 0 ? job.done : job.state === 'done' ? 1 : 0 }),
        h('div', { class: 'job-details' }, details.join(' - ')),
      );
    }),
  );
}

function onEvent(event: ApplianceEvent): void {
  if (event.type === 'status') {
    status = event.status;
    renderStatus();
  } else if (event.type === 'progress') {
    jobs.set(event.job.id, event.job);
    renderJobs();
  }
  for (const screen of screens) screen.onEvent?.(event);
}

async function boot(): Promise<void> {
  const app = document.getElementById('app')!;
  for (const screen of screens) {
    const tab = h('button', { role: 'tab', id: `tab-${screen.id}`, 'aria-controls': `screen-${screen.id}`, onclick: () => show(screen.id) }, screen.title);
    tabs.set(screen.id, tab);
    nav.appendChild(tab);
    screen.element.id = `screen-${screen.id}`;
    screen.element.setAttribute('role', 'tabpanel');
    screen.element.hidden = true;
    main.appendChild(screen.element);
  }
  replaceChildren(
    app,
    h('header', {}, h('img', { src: 'icon.png', alt: '', class: 'logo', width: 28, height: 28 }), h('h1', {}, 'imapd-ts'), h('span', { class: 'subtitle' }, 'home mail server'), statusPill),
    nav,
    connectionBanner,
    configProblem,
    firstSteps,
    jobsArea,
    main,
    toastArea,
  );
  api.subscribe(onEvent);
  try {
    status = await api.getStatus();
    renderStatus();
  } catch (err) {
    context.toast(`Cannot reach the appliance: ${(err as Error).message}`, 'error');
  }
  const wanted = location.hash.slice(1) as ScreenId;
  show(screens.some((s) => s.id === wanted) ? wanted : 'overview');
  window.addEventListener('hashchange', () => show(location.hash.slice(1) as ScreenId));
  // Finished jobs fade out of the progress area.
  setInterval(renderJobs, 5000);
}

void boot();
