// Short guides for the usual mail programs, on the Connect screen: the steps with this
// server's own host, port and username filled in.

import { h } from '../dom.js';

export interface GuideFacts {
  host: string;
  port: number | null;
  security: string;
  username: string;
}

export function guides(f: GuideFacts): HTMLElement {
  const where = `server ${f.host}, port ${f.port ?? '?'}, ${f.security}, username ${f.username}`;
  const guide = (id: string, title: string, steps: string[]) =>
    h('details', { class: 'guide', 'data-guide': id }, h('summary', {}, title), h('ol', {}, steps.map((s) => h('li', {}, s))));
  return h('div', { class: 'card', id: 'guides' },
    h('h3', {}, 'Step by step'),
    guide('thunderbird', 'Thunderbird (Windows, macOS, Linux)', [
      'Account Settings, Account Actions, Add Mail Account. Enter your name, the username as the email address if it is one, and the password.',
      'Click "Configure manually". Incoming: IMAP, ' + where + ', authentication "Normal password".',
      'Outgoing (SMTP): your email provider\'s server; this appliance keeps mail, it does not send it.',
      'Done. When Thunderbird warns about the certificate, check the fingerprint shown on this screen and confirm the exception permanently.',
    ]),
    guide('apple', 'Apple Mail on iPhone, iPad and Mac', [
      'Easiest: scan the QR code of "iPhone, iPad and Mac" above with the camera, open the link, and install the downloaded profile in Settings (General, VPN & Device Management).',
      'Then Settings, General, About, Certificate Trust Settings: turn on full trust for this server\'s certificate.',
      'Or by hand: Settings, Mail, Accounts, Add Account, Other, Add Mail Account; choose IMAP; ' + where + '.',
    ]),
    guide('android', 'K-9 Mail / Thunderbird for Android', [
      'Add account, enter the username and password, then "Manual setup".',
      'Incoming server: IMAP, ' + where + ', authentication "Normal password".',
      'When asked about the certificate, compare the fingerprint with the one on this screen and accept it.',
    ]),
    guide('outlook', 'Outlook (Windows, classic)', [
      'File, Add Account, Advanced options, "Let me set up my account manually", then IMAP.',
      'Incoming mail: ' + where + '. Outgoing: your email provider\'s server.',
      'Outlook warns once about the certificate: view it, compare the fingerprint, and accept.',
    ]),
  );
}
