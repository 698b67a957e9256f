// Connect a client: what to type into a mail program (server name or address, port,
// security, username) and how to recognise this server's certificate.

import type { ConnectionInfoView } from '../../server/appliance/api.js';
import { copyText, h, replaceChildren } from '../dom.js';
import type { Context, Screen } from './types.js';

function copyButton(text: string, label = 'Copy'): HTMLButtonElement {
  const button = h('button', { type: 'button', class: 'copy', 'data-copy': text }, label);
  button.addEventListener('click', () => void copyText(text, button));
  return button;
}

export function connectScreen(ctx: Context): Screen {
  const element = h('section', { class: 'screen' });
  const body = h('div', { id: 'connect-info' });

  function render(info: ConnectionInfoView): void {
    const best = info.endpoints.find((e) => e.security === 'SSL/TLS') ?? info.endpoints[0];
    replaceChildren(
      body,
      info.endpoints.length === 0 ? h('p', { class: 'banner error' }, 'The IMAP server is not listening. See the problem at the top and fix it in Settings.') : null,
      h('div', { class: 'card' },
        h('h3', {}, 'Incoming mail server (IMAP)'),
        h('p', {}, 'In your mail program, choose IMAP and enter one of these as the server:'),
        h('table', { class: 'grid', id: 'connect-hosts' },
          h('tbody', {}, info.hosts.map((host) =>
            h('tr', {}, h('td', {}, h('code', {}, host.value)), h('td', { class: 'hint' }, host.note), h('td', {}, copyButton(host.value))),
          )),
        ),
        info.localOnly
          ? h('p', { class: 'banner info' }, 'The server listens on this computer only. To use it from a phone or another computer, set ADDRESS (and SSLADDRESS) to 0 in Settings, Network and limits.')
          : null,
      ),
      h('div', { class: 'card' },
        h('h3', {}, 'Port and security'),
        h('table', { class: 'grid', id: 'connect-ports' },
          h('thead', {}, h('tr', {}, h('th', {}, 'Port'), h('th', {}, 'Security'), h('th', {}, 'What it means'), h('th', {}))),
          h('tbody', {}, info.endpoints.map((e) =>
            h('tr', { class: e === best ? 'recommended' : '' },
              h('td', {}, h('code', {}, String(e.port))),
              h('td', {}, e.security, e === best ? h('span', { class: 'badge ok' }, 'recommended') : null),
              h('td', {}, e.description),
              h('td', {}, copyButton(String(e.port))),
            ),
          )),
        ),
        h('p', {}, info.usernameAdvice),
      ),
      h('div', { class: 'card' },
        h('h3', {}, 'Certificate'),
        info.fingerprint256
          ? h('div', { class: 'fingerprint' },
              h('div', { class: 'hint' }, 'SHA-256 fingerprint'),
              h('code', { id: 'fingerprint' }, info.fingerprint256),
              copyButton(info.fingerprint256, 'Copy fingerprint'),
            )
          : null,
        h('p', { id: 'certificate-advice' }, info.certificateAdvice),
      ),
    );
  }

  element.append(h('h2', {}, 'Connect a mail program'), body);
  return {
    id: 'connect',
    title: 'Connect a client',
    element,
    shown() {
      ctx.api.connectionInfo().then(render, (err: unknown) => ctx.toast((err as Error).message, 'error'));
    },
    onEvent(event) {
      if (event.type === 'settings' && !element.hidden) this.shown();
    },
  };
}
