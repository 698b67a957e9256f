// What follows the IMAP listeners onto the network: the setup server (setup-http.ts) with
// the files mail programs configure themselves from, and the DNS-SD announcement
// (dns-sd.ts), only while other devices may connect. Kept in step with the listeners by
// sync(), which the host calls whenever they may have changed.

import { hostname as osHostname } from 'node:os';
import QRCode from 'qrcode';
import type { ListenerInfo, TlsMaterial } from '../net/index.js';
import type { ClientSetupView } from './api.js';
import type { SetupTarget } from './client-setup.js';
import { Announcer, instanceName, localHostName, serviceConfigs } from './dns-sd.js';
import { SETUP_PATHS, SetupHttpServer } from './setup-http.js';

export interface NetworkServicesOptions {
  /** Port of the setup server; null: no setup server. A port in use falls back to a free one. */
  setupPort: number | null;
  /** Announce with DNS-SD while the listeners are on the network. */
  announce: boolean;
  endpoints(): ListenerInfo[];
  tls(): TlsMaterial | null;
  log(level: 'info' | 'warn', message: string): void;
}

const loopback = (a: string) => a === '::1' || a.startsWith('127.');

export class NetworkServices {
  private readonly setup: SetupHttpServer;
  private readonly announcer = new Announcer();
  private syncing: Promise<void> = Promise.resolve();

  constructor(private readonly options: NetworkServicesOptions) {
    this.setup = new SetupHttpServer((username) => this.target(username));
  }

  get setupPort(): number | null {
    return this.setup.port;
  }
  get announced(): boolean {
    return this.announcer.active;
  }
  /** The DNS-SD instance name mail programs see while announced, else null. */
  get announcedAs(): string | null {
    return this.announcer.active ? instanceName(localHostName(osHostname())) : null;
  }

  /** The address mail programs use: this computer's .local name on the network, else localhost. */
  host(): string {
    return this.onNetwork() ? localHostName(osHostname()) : 'localhost';
  }

  onNetwork(): boolean {
    return this.options.endpoints().some((e) => !loopback(e.address));
  }

  target(username: string): SetupTarget {
    const endpoints = this.options.endpoints();
    const imaps = endpoints.find((e) => e.kind === 'imaps') ?? null;
    const imap = endpoints.find((e) => e.kind === 'imap') ?? null;
    const tls = this.options.tls();
    return {
      username,
      host: this.host(),
      imaps: imaps?.port ?? null,
      imap: imap?.port ?? null,
      startTls: imap?.startTls ?? false,
      selfSignedCertPem: tls && tls.source !== 'configured' ? tls.cert : null,
      displayName: `imapd-ts on ${osHostname().split('.')[0]}`,
    };
  }

  /** Bring the setup server and the announcement in line with the listeners now. */
  sync(): Promise<void> {
    const run = this.syncing.then(() => this.syncNow());
    this.syncing = run.catch(() => undefined);
    return run;
  }

  private async syncNow(): Promise<void> {
    const endpoints = this.options.endpoints();
    const network = this.onNetwork();
    if (this.options.setupPort !== null) {
      // Where the IMAP listeners are: all addresses when one of them is, else loopback.
      const wide = endpoints.find((e) => !loopback(e.address));
      const address = endpoints.length === 0 ? null : wide ? wide.address : '127.0.0.1';
      if (address === null) await this.setup.stop();
      else if (this.setup.address !== address) {
        try {
          const port = await this.setup.start(address, this.setup.port ?? this.options.setupPort);
          this.options.log('info', `mail program setup files served on ${address} port ${port}`);
        } catch (err) {
          this.options.log('warn', `cannot serve the mail program setup files: ${(err as Error).message}`);
        }
      }
    }
    if (this.options.announce) {
      await this.announcer.set(network ? serviceConfigs(endpoints) : [], (err) => this.options.log('warn', `DNS-SD announcement: ${err.message}`));
    }
  }

  async stop(): Promise<void> {
    await this.syncing;
    await this.setup.stop();
    await this.announcer.stop();
  }

  async clientSetup(username: string): Promise<ClientSetupView> {
    const port = this.setup.port;
    const t = this.target(username);
    const problem =
      port === null ? 'The setup server is off (the appliance was started without one).'
      : t.imaps === null && !(t.imap !== null && t.startTls) ? 'The IMAP server offers no TLS port: turn on SSL/TLS or STARTTLS first.'
      : null;
    if (problem || port === null) return { username, host: t.host, methods: [], problem };
    const hostPart = t.host.includes(':') ? `[${t.host}]` : t.host;
    const base = `http://${hostPart}:${port}`;
    const q = encodeURIComponent(username);
    const methods: ClientSetupView['methods'] = [
      { id: 'mobileconfig', title: 'iPhone, iPad and Mac (Apple Mail)', url: `${base}${SETUP_PATHS.mobileconfig}?user=${q}`, qr: '', note: 'Open on the device, then install the profile in Settings. It includes this server\'s certificate: turn on full trust for it in Settings, General, About, Certificate Trust Settings.' },
      { id: 'autoconfig', title: 'Thunderbird, K-9 / Thunderbird for Android', url: `${base}${SETUP_PATHS.autoconfig}?emailaddress=${q}`, qr: '', note: 'Thunderbird looks here by itself when the account\'s domain points at this computer; otherwise use the settings below by hand.' },
      { id: 'autodiscover', title: 'Outlook', url: `${base}${SETUP_PATHS.autodiscover}?user=${q}`, qr: '', note: 'Outlook reads this file when its domain points here; the same settings can be typed in by hand.' },
    ];
    for (const m of methods) m.qr = await qrDataUrl(m.url);
    return { username, host: t.host, methods, problem: null };
  }
}

/** A QR code as an SVG data: URL (the GUI's Content-Security-Policy allows data: images). */
export async function qrDataUrl(text: string): Promise<string> {
  const svg = await QRCode.toString(text, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
  return `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}`;
}
