// DNS-SD on the local network (RFC 6763 over multicast DNS, RFC 6762): the IMAP listeners
// announced as _imaps._tcp and _imap._tcp (the service names of RFC 6186), so that mail
// programs that browse for them find this server. Only while other devices may connect
// (the host starts it when a listener is bound beyond the loopback address).

import BonjourModule from 'bonjour-service';
import { hostname as osHostname } from 'node:os';
import type { ListenerInfo } from '../net/index.js';

type Bonjour = InstanceType<typeof BonjourModule>;
type ServiceConfig = Parameters<Bonjour['publish']>[0];

/** This computer's name on the local network: "name.local". */
export function localHostName(name = osHostname()): string {
  const short = name.split('.')[0]!.toLowerCase().replace(/[^a-z0-9-]/g, '-') || 'imapd-ts';
  return `${short}.local`;
}

const isLoopback = (a: string) => a === '::1' || a.startsWith('127.');

/** The service instance name (RFC 6763 section 4.1.1) mail programs show: "imapd-ts on homebox". */
export function instanceName(host = localHostName()): string {
  return `imapd-ts on ${host.replace(/\.local$/, '')}`;
}

/** The services to announce for these listeners (none for loopback-only listeners). */
export function serviceConfigs(endpoints: readonly ListenerInfo[], host = localHostName()): ServiceConfig[] {
  const seen = new Set<string>();
  const out: ServiceConfig[] = [];
  const instance = instanceName(host);
  for (const e of endpoints) {
    if (isLoopback(e.address)) continue;
    // Plain IMAP without STARTTLS would send passwords in the clear: not announced.
    if (e.kind === 'imap' && !e.startTls) continue;
    const type = e.kind === 'imaps' ? 'imaps' : 'imap';
    if (seen.has(type)) continue;
    seen.add(type);
    out.push({ name: instance, type, protocol: 'tcp', port: e.port, host, txt: { path: '/' }, probe: true });
  }
  return out;
}

/** The DNS records a service config becomes (what goes on the wire), built without sending. */
export function serviceRecords(config: ServiceConfig): { name: string; type: string; data: unknown }[] {
  const service = new BonjourModule.Service(config, () => undefined, () => undefined);
  return service.records().map((r) => ({ name: r.name, type: r.type, data: r.data }));
}

export class Announcer {
  private bonjour: Bonjour | null = null;
  private current = '';

  get active(): boolean {
    return this.bonjour !== null;
  }

  /** Announce exactly these services (none: stop announcing). */
  async set(configs: ServiceConfig[], onError: (err: Error) => void): Promise<void> {
    const key = JSON.stringify(configs);
    if (key === this.current && (configs.length > 0) === this.active) return;
    await this.stop();
    this.current = key;
    if (configs.length === 0) return;
    const bonjour = new BonjourModule({}, (err: Error) => onError(err));
    for (const config of configs) {
      const service = bonjour.publish(config);
      service.on('error', (err: Error) => onError(err));
    }
    this.bonjour = bonjour;
  }

  async stop(): Promise<void> {
    const bonjour = this.bonjour;
    this.current = '';
    if (!bonjour) return;
    this.bonjour = null;
    await new Promise<void>((resolve) => bonjour.unpublishAll(() => resolve()));
    await new Promise<void>((resolve) => bonjour.destroy(() => resolve()));
  }
}
