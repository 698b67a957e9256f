// Overview, the first screen: is the server running (Start, Stop), who can reach it, on
// which ports and how safely, since when, its certificate, the mail and the disk, who is
// connected, who failed to log in, and what needs attention. Kept live from the event
// stream: status events carry the state; the counted figures are fetched again (at most
// once a second) when something they show may have changed.

import type { ApplianceStatus, OverviewView } from '../../server/appliance/api.js';
import { h, placeInOrder, replaceChildren, unlessPressed } from '../dom.js';
import { bytes, count, dateTime, duration } from '../format.js';
import type { Context, Screen } from './types.js';

const REFRESH_MIN_MS = 1000;

function tile(id: string, label: string, value: Node | string, detail?: Node | string | null): HTMLElement {
  return h('div', { class: 'tile', id }, h('div', { class: 'tile-label' }, label), h('div', { class: 'tile-value' }, value), detail ? h('div', { class: 'tile-detail' }, detail) : null);
}

function stateText(s: ApplianceStatus): string {
  return s.state === 'running' ? 'Running' : s.state === 'error' ? 'Not running' : s.state[0]!.toUpperCase() + s.state.slice(1);
}

export function overviewScreen(ctx: Context): Screen {
  const element = h('section', { class: 'screen' });
  const body = h('div', { id: 'overview' }, h('p', { class: 'loading' }, 'Loading...'));
  let view: OverviewView | null = null;
  let lastFetch = 0;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let busy = false;
  // Made once: the Overview re-renders on every status event, and what is typed must stay.
  const passwordForm = adminPasswordForm(ctx);

  async function fetchNow(): Promise<void> {
    lastFetch = Date.now();
    try {
      view = await ctx.api.getOverview();
      render();
    } catch (err) {
      ctx.toast(`Cannot read the overview: ${(err as Error).message}`, 'error');
    }
  }

  /** At most one fetch a second, however many events come. */
  function refreshSoon(): void {
    if (timer) return;
    timer = setTimeout(() => {
      timer = null;
      void fetchNow();
    }, Math.max(0, lastFetch + REFRESH_MIN_MS - Date.now()));
  }

  async function startStop(start: boolean): Promise<void> {
    busy = true;
    render();
    try {
      const status = start ? await ctx.api.startServer() : await ctx.api.stopServer();
      if (view) view = { ...view, status };
      ctx.toast(start ? (status.state === 'running' ? 'Server started' : `The server could not start: ${status.problem ?? status.state}`) : 'Server stopped', status.state === 'error' ? 'error' : 'ok');
    } catch (err) {
      ctx.toast((err as Error).message, 'error');
    } finally {
      busy = false;
      await fetchNow();
    }
  }

  function render(): void {
    unlessPressed(draw);
  }

  // The card with the GUI password form stays in the page (placeInOrder), or what is being
  // typed would lose its focus at every update.
  const passwordCard = h('div', { class: 'card', id: 'overview-gui-password' });
  // The head with Start and Stop stays too: a button drawn anew loses the keyboard's focus.
  const startButton = h('button', { id: 'server-start', class: 'primary', onclick: () => void startStop(true) }, 'Start');
  const stopButton = h('button', { id: 'server-stop', class: 'danger', onclick: () => void startStop(false) }, 'Stop');
  const headInfo = h('div');
  const head = h('div', { class: 'overview-head card' }, headInfo, h('div', { class: 'buttons' }, startButton, stopButton));
  let passwordShown: boolean | undefined;

  function draw(): void {
    if (!view) return;
    const v = view;
    const s = v.status;
    const running = s.state === 'running';
    const stateBadge = h('span', { class: `badge ${running ? 'ok' : 'off'}`, id: 'overview-state' }, stateText(s));
    startButton.disabled = busy || running || s.state === 'starting';
    stopButton.disabled = busy || !running;
    const ports = s.listeners.map((l) =>
      h('li', {}, `Port ${l.port}: `, l.kind === 'imaps' ? 'SSL/TLS' : l.startTls ? 'STARTTLS' : h('strong', { class: 'bad' }, 'no encryption')),
    );
    const tls = s.tls;
    const daysLeft = tls ? Math.floor((tls.validTo - Date.now()) / 86_400_000) : null;
    const disk = v.disk;
    const diskUsed = disk ? disk.totalBytes - disk.freeBytes : 0;
    const failed = v.failedLogins;
    if (passwordShown !== !s.adminPassword) {
      passwordShown = !s.adminPassword;
      replaceChildren(passwordCard,
        h('h3', {}, 'Opening this page later'),
        s.adminPassword
          ? h('p', {}, 'A GUI password is set: bookmark this page and sign in with it, also from another computer through ssh -L (the command the appliance prints at start).')
          : passwordForm,
      );
    }
    replaceChildren(headInfo, h('h3', {}, 'IMAP server ', stateBadge), s.problem ? h('p', { class: 'field-error' }, s.problem) : null,
      running && s.startedAt ? h('p', { id: 'overview-uptime' }, `Up for ${duration((Date.now() - s.startedAt) / 1000)}, since ${dateTime(s.startedAt)}`) : null);
    placeInOrder(body, [
      head,
      v.warnings.length
        ? h('div', { class: 'banner warn', id: 'overview-warnings', role: 'alert' }, h('strong', {}, 'Needs attention'), h('ul', {}, v.warnings.map((w) => h('li', { 'data-kind': w.kind }, w.message))))
        : null,
      h('div', { class: 'tiles' },
        tile('overview-reach', 'Who can connect', v.network ? 'Other devices too' : 'This computer only',
          h('div', {},
            v.network ? h('div', { class: 'hint', id: 'overview-announced' }, v.announcedAs ? `Announced on the local network as "${v.announcedAs}" (Bonjour)` : 'Not announced on the local network') : null,
            h('button', { class: 'link', onclick: () => ctx.navigate('connect') }, v.network ? 'Set up a phone or laptop' : 'Let other devices connect'))),
        tile('overview-ports', 'Ports and security', s.listeners.length ? h('ul', { class: 'plain' }, ports) : 'not listening'),
        tile('overview-lmtp', 'Mail delivery (LMTP)', s.lmtp.length ? h('ul', { class: 'plain' }, s.lmtp.map((l) => h('li', {}, l.socket !== null ? `Socket ${l.socket}` : `${l.address} port ${l.port}`))) : 'off',
          s.lmtp.length ? 'Your mail server (Postfix, Exim) delivers here' : 'Set LMTP_PORT or LMTP_SOCKET in Settings to take mail from your mail server'),
        tile('overview-sessions', 'Connected now', `${count(s.sessions)} session${s.sessions === 1 ? '' : 's'}`,
          h('button', { class: 'link', onclick: () => ctx.navigate('sessions') }, 'See them')),
        tile('overview-mail', 'Mail', `${count(v.messages)} messages`, `${count(s.accounts)} account${s.accounts === 1 ? '' : 's'}, ${bytes(v.mailBytes)}`),
        tile('overview-disk', 'Disk', disk ? `${bytes(disk.freeBytes)} free` : 'unknown',
          disk ? h('div', {}, h('progress', { max: disk.totalBytes, value: diskUsed, title: `${bytes(diskUsed)} of ${bytes(disk.totalBytes)} used` }), h('div', { class: 'hint' }, `${bytes(diskUsed)} of ${bytes(disk.totalBytes)} used on the disk holding ${disk.path}`)) : null),
        tile('overview-certificate', 'Certificate', tls ? (daysLeft !== null && daysLeft < 0 ? 'expired' : `valid until ${new Date(tls.validTo).toLocaleDateString('en-GB')}`) : 'none (TLS off)',
          tls ? h('div', {}, h('div', { class: 'hint' }, tls.source === 'configured' ? 'from TLS_CERTFILE' : 'this server\'s own (self-signed)'), h('code', { class: 'small', id: 'overview-fingerprint' }, tls.fingerprint256)) : null),
      ),
      h('div', { class: 'card', id: 'overview-failed' },
        h('h3', {}, `Failed logins in the last day: ${count(failed.count)}`),
        failed.addresses.length === 0
          ? h('p', { class: 'empty' }, 'None.')
          : h('div', { class: 'table-wrap' }, h('table', { class: 'grid' },
              h('thead', {}, h('tr', {}, ['Address', 'Failures', 'Last', 'Usernames tried'].map((t) => h('th', {}, t)))),
              h('tbody', {}, failed.addresses.map((a) =>
                h('tr', { 'data-address': a.address },
                  h('td', { 'data-label': 'Address' }, h('code', {}, a.address)),
                  h('td', { class: 'num', 'data-label': 'Failures' }, count(a.count)),
                  h('td', { 'data-label': 'Last' }, dateTime(a.lastAt)),
                  h('td', { 'data-label': 'Usernames tried' }, a.usernames.join(', ')),
                ),
              )),
            )),
      ),
      passwordCard,
    ].filter((el): el is HTMLDivElement => el !== null));
  }

  // Uptime moves without events.
  setInterval(() => {
    if (!element.hidden && view?.status.state === 'running') {
      const el = body.querySelector('#overview-uptime');
      if (el && view.status.startedAt) el.textContent = `Up for ${duration((Date.now() - view.status.startedAt) / 1000)}, since ${dateTime(view.status.startedAt)}`;
    }
  }, 1000);

  element.append(h('h2', {}, 'Overview'), body);
  return {
    id: 'overview',
    title: 'Overview',
    element,
    shown: () => void fetchNow(),
    onEvent(event) {
      if (element.hidden) return;
      if (event.type === 'status' && view) {
        view = { ...view, status: event.status };
        render();
        refreshSoon();
      } else if (event.type === 'sessions' || event.type === 'accounts' || event.type === 'settings') refreshSoon();
      else if (event.type === 'log' && event.line.level !== 'debug' && /LOGIN FAILED|polling/.test(event.line.message)) refreshSoon();
    },
  };
}

/** Set the GUI password, so that the GUI can be opened without the token printed at start. */
function adminPasswordForm(ctx: Context): HTMLElement {
  const input = h('input', { type: 'password', id: 'admin-password', name: 'password', autocomplete: 'new-password', minlength: 10, required: true });
  const error = h('div', { class: 'field-error', 'data-for': 'password', role: 'alert' });
  const form = h('form', { id: 'admin-password-form', novalidate: true },
    h('p', {}, 'The link printed at start changes every time the appliance starts. Set a GUI password to bookmark this page and sign in with it (also from another computer, through ssh -L).'),
    h('div', { class: 'field' }, h('label', { for: 'admin-password' }, 'GUI password (10 characters or more)'), input, error),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Set GUI password')),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    ctx.api.setAdminPassword(input.value).then(
      () => {
        input.value = '';
        ctx.toast('GUI password set: sign in with it at this address from now on');
      },
      (err: unknown) => (error.textContent = (err as Error).message),
    );
  });
  return form;
}
