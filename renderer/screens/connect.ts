// Connect a client: who may connect (this computer only, or other devices too, with one
// switch), what to type into a mail program, per account a QR code and a link for each way
// mail programs set themselves up, short guides, and how to recognise the certificate.

import type { AccountView, ClientSetupView, ConnectionInfoView } from '../../server/appliance/api.js';
import { copyText, h, replaceChildren } from '../dom.js';
import { guides } from './guides.js';
import type { Context, Screen } from './types.js';

function copyButton(text: string, label = 'Copy'): HTMLButtonElement {
  const button = h('button', { type: 'button', class: 'copy', 'data-copy': text }, label);
  button.addEventListener('click', () => void copyText(text, button));
  return button;
}

export function connectScreen(ctx: Context): Screen {
  const element = h('section', { class: 'screen' });
  const body = h('div', { id: 'connect-info' });
  const setupArea = h('div', { id: 'client-setup' });
  let chosen: string | null = null;

  function networkCard(info: ConnectionInfoView): HTMLElement {
    const on = !info.localOnly;
    const toggle = h('input', { type: 'checkbox', id: 'network-switch', role: 'switch', checked: on, 'aria-checked': String(on) });
    toggle.addEventListener('change', () => {
      toggle.disabled = true;
      ctx.api.setNetworkAccess(toggle.checked).then(
        (result) => {
          if (result.applied) ctx.toast(toggle.checked ? 'Other devices can connect now' : 'Only this computer can connect now');
          else ctx.toast(result.errors.map((e) => e.message).join('; ') || 'Not changed', 'error');
          void refresh();
        },
        (err: unknown) => {
          ctx.toast((err as Error).message, 'error');
          void refresh();
        },
      );
    });
    const lan = info.hosts.filter((x) => x.note !== 'this computer only');
    return h('div', { class: 'card', id: 'network-card' },
      h('label', { class: 'switch-row', for: 'network-switch' }, toggle, h('span', { class: 'switch' }), h('strong', {}, 'Let other devices connect')),
      h('p', { class: 'hint' }, on
        ? 'Phones and computers on your network can reach this server (ADDRESS and SSLADDRESS are 0: every address of this computer).'
        : 'Only mail programs on this computer can connect (the server listens on 127.0.0.1). Turn this on for a phone or another computer at home.'),
      on && lan.length
        ? h('div', { class: 'table-wrap' }, h('table', { class: 'grid', id: 'lan-addresses' },
            h('tbody', {}, lan.map((x) => h('tr', {}, h('td', {}, h('code', {}, x.value)), h('td', { class: 'hint' }, x.note), h('td', { class: 'actions' }, copyButton(x.value)))))))
        : null,
      h('details', { class: 'guide' }, h('summary', {}, 'Away from home?'),
        h('p', {}, 'At home, devices reach this computer directly. From outside, your router has to pass the port on: in the router\'s settings, find "port forwarding" (or "virtual server"), forward the SSL/TLS port below to this computer\'s address above, and give this computer a fixed address there ("DHCP reservation"). Then use your internet address, or a dynamic DNS name, as the server. Only ever forward the SSL/TLS port, never a port without encryption.')),
    );
  }

  function render(info: ConnectionInfoView, accounts: AccountView[]): void {
    const best = info.endpoints.find((e) => e.security === 'SSL/TLS') ?? info.endpoints[0];
    if (chosen === null || !accounts.some((a) => a.username === chosen)) chosen = accounts[0]?.username ?? null;
    const select = h('select', { id: 'setup-account' }, accounts.map((a) => h('option', { value: a.username, selected: a.username === chosen }, a.username)));
    select.addEventListener('change', () => {
      chosen = select.value;
      void showSetup();
    });
    replaceChildren(
      body,
      info.endpoints.length === 0 ? h('p', { class: 'banner error' }, 'The IMAP server is not listening. Start it on the Overview, or fix the problem shown at the top in Settings.') : null,
      networkCard(info),
      h('div', { class: 'card' },
        h('h3', {}, 'Set up a phone or laptop in a minute'),
        accounts.length === 0
          ? h('p', { class: 'empty' }, 'Add an account first (Accounts screen).')
          : h('div', {}, h('label', { for: 'setup-account' }, 'Account: '), select, setupArea),
      ),
      h('div', { class: 'card' },
        h('h3', {}, 'Incoming mail server (IMAP)'),
        h('p', {}, 'Or type it in: choose IMAP and enter one of these as the server:'),
        h('div', { class: 'table-wrap' }, h('table', { class: 'grid', id: 'connect-hosts' },
          h('tbody', {}, info.hosts.map((host) =>
            h('tr', {}, h('td', {}, h('code', {}, host.value)), h('td', { class: 'hint' }, host.note), h('td', { class: 'actions' }, copyButton(host.value))),
          )),
        )),
      ),
      h('div', { class: 'card' },
        h('h3', {}, 'Port and security'),
        h('div', { class: 'table-wrap' }, h('table', { class: 'grid', id: 'connect-ports' },
          h('thead', {}, h('tr', {}, h('th', {}, 'Port'), h('th', {}, 'Security'), h('th', {}, 'What it means'), h('th', {}))),
          h('tbody', {}, info.endpoints.map((e) =>
            h('tr', { class: e === best ? 'recommended' : '' },
              h('td', {}, h('code', {}, String(e.port))),
              h('td', {}, e.security, e === best ? h('span', { class: 'badge ok' }, 'recommended') : null),
              h('td', {}, e.description),
              h('td', { class: 'actions' }, copyButton(String(e.port))),
            ),
          )),
        )),
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
      guides({
        host: info.hosts[0]?.value ?? 'localhost',
        port: best?.port ?? null,
        security: best?.security ?? 'none',
        username: chosen ?? 'your username',
      }),
    );
    void showSetup();
  }

  async function showSetup(): Promise<void> {
    if (chosen === null) return;
    let setup: ClientSetupView;
    try {
      setup = await ctx.api.clientSetup(chosen);
    } catch (err) {
      replaceChildren(setupArea, h('p', { class: 'field-error' }, (err as Error).message));
      return;
    }
    replaceChildren(
      setupArea,
      setup.problem ? h('p', { class: 'banner info' }, setup.problem) : null,
      setup.host === 'localhost' && !setup.problem
        ? h('p', { class: 'hint' }, 'These links work on this computer only. For a phone, turn on "Let other devices connect" above first.')
        : null,
      h('div', { class: 'setup-methods' }, setup.methods.map((m) =>
        h('div', { class: 'setup-method', 'data-method': m.id },
          h('img', { src: m.qr, alt: `QR code for ${m.title}`, width: 148, height: 148, class: 'qr' }),
          h('div', {},
            h('strong', {}, m.title),
            h('div', {}, h('a', { href: m.url, target: '_blank', rel: 'noopener noreferrer', class: 'setup-link' }, m.url)),
            h('p', { class: 'hint' }, m.note),
            copyButton(m.url, 'Copy link'),
          ),
        ),
      )),
    );
  }

  async function refresh(): Promise<void> {
    try {
      const [info, accounts] = await Promise.all([ctx.api.connectionInfo(), ctx.api.listAccounts()]);
      render(info, accounts);
    } catch (err) {
      ctx.toast((err as Error).message, 'error');
    }
  }

  element.append(h('h2', {}, 'Connect a mail program'), body);
  return {
    id: 'connect',
    title: 'Connect a client',
    element,
    shown: () => void refresh(),
    onEvent(event) {
      if ((event.type === 'settings' || event.type === 'accounts') && !element.hidden) void refresh();
    },
  };
}
