// Live sessions: a row per connection, updated as the server reports changes (and every
// couple of seconds for the byte counts), with a button to disconnect it.

import type { SessionView } from '../../server/appliance/api.js';
import { h, replaceChildren, syncRows, type KeptRow } from '../dom.js';
import { bytes, since, time } from '../format.js';
import type { Context, Screen } from './types.js';

const STATE_NAMES: Record<string, string> = {
  handshake: 'TLS handshake',
  'not-authenticated': 'not logged in',
  authenticated: 'logged in',
  selected: 'folder open',
  logout: 'logging out',
};

export function sessionsScreen(ctx: Context): Screen {
  const element = h('section', { class: 'screen' });
  const body = h('div', { id: 'session-list' });
  let sessions: SessionView[] = [];
  /** Session events heard so far (see shown()). */
  let eventsHeard = 0;

  const tbody = h('tbody');
  const table = h('table', { class: 'grid cards', id: 'session-table' },
    h('thead', {}, h('tr', {}, ['Account', 'Remote address', 'TLS', 'State', 'Folder', 'IDLE', 'Connected since', 'In', 'Out', ''].map((t) => h('th', {}, t)))),
    tbody,
  );
  const rows = new Map<string, KeptRow<SessionView>>();

  function disconnectCell(current: () => SessionView): HTMLTableCellElement {
    const button = h('button', { class: 'danger', 'data-disconnect': current().id }, 'Disconnect');
    button.addEventListener('click', () => {
      const s = current();
      button.disabled = true;
      ctx.api.disconnectSession(s.id).then(
        (done) => ctx.toast(done ? `Session ${s.id}${s.account ? ` of ${s.account}` : ''} disconnected` : 'That session had already ended'),
        (err: unknown) => ctx.toast((err as Error).message, 'error'),
      );
    });
    return h('td', { class: 'actions' }, button);
  }

  function render(): void {
    if (sessions.length === 0) {
      rows.clear();
      replaceChildren(body, h('p', { class: 'empty' }, 'No mail program is connected right now.'));
      return;
    }
    const now = Date.now();
    if (table.parentNode !== body) replaceChildren(body, table);
    syncRows(tbody, 'data-session', rows, sessions, (s) => String(s.id), (s) => [
      h('td', { class: 'name' }, s.account ?? h('span', { class: 'hint' }, '(not logged in)')),
      h('td', { 'data-label': 'From' }, `${s.remoteAddress.includes(':') ? `[${s.remoteAddress}]` : s.remoteAddress}:${s.remotePort}`),
      h('td', { 'data-label': 'TLS' }, s.tls ? h('span', { class: 'badge ok' }, s.tlsProtocol ?? 'TLS') : h('span', { class: 'badge off' }, 'none')),
      h('td', { class: 'state', 'data-label': 'State' }, STATE_NAMES[s.state] ?? s.state),
      h('td', { class: 'folder', 'data-label': 'Folder' }, s.folder ?? '-'),
      h('td', { class: 'idle', 'data-label': 'IDLE' }, s.idle ? h('span', { class: 'badge ok' }, 'IDLE') : 'no'),
      h('td', { 'data-label': 'Connected' }, `${time(s.connectedAt)} (${since(s.connectedAt, now)})`),
      h('td', { class: 'num', 'data-label': 'In' }, bytes(s.bytesIn)),
      h('td', { class: 'num', 'data-label': 'Out' }, bytes(s.bytesOut)),
    ], disconnectCell);
  }

  element.append(
    h('h2', {}, 'Live sessions'),
    h('p', { class: 'hint' }, 'Every connection of a mail program, as it happens. Disconnecting sends it BYE; most programs reconnect by themselves.'),
    body,
  );
  return {
    id: 'sessions',
    title: 'Live sessions',
    element,
    shown() {
      // An event carries the whole list, and the last one is current: a list that comes back
      // after an event (two connections, no order between them) may be older, so it yields.
      const heard = eventsHeard;
      ctx.api.listSessions().then((list) => {
        if (eventsHeard === heard) sessions = list;
        render();
      }, (err: unknown) => ctx.toast((err as Error).message, 'error'));
    },
    onEvent(event) {
      if (event.type !== 'sessions') return;
      eventsHeard++;
      sessions = event.sessions;
      if (!element.hidden) render();
    },
  };
}
