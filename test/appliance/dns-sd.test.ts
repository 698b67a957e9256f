// DNS-SD on the wire: the appliance host with its announcement on, and a real multicast DNS
// query from another mDNS stack in the same process (bonjour-service's browser, on its own
// sockets: what a Mac's or a phone's mail program does when it browses). With "Let other
// devices connect" off nothing of ours answers; switched on, _imap._tcp and _imaps._tcp
// answer with the listeners' ports and this computer's .local name (RFC 6763 section 4 and
// RFC 6186); switched off again, the services say goodbye (RFC 6762 section 10.1, TTL 0)
// and a new query finds nothing of ours. Where an Avahi daemon runs (Linux desktops), its
// avahi-browse, a second and independent mDNS implementation, must resolve them too.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { after, describe, it } from 'node:test';
import BonjourModule from 'bonjour-service';
import { ApplianceHost } from '../../server/appliance/index.js';
import { instanceName, localHostName } from '../../server/appliance/dns-sd.js';
import { tempDir, writeConfig } from '../helpers/appliance.js';

type Bonjour = InstanceType<typeof BonjourModule>;
type Service = InstanceType<typeof BonjourModule.Service>;

const dirs: string[] = [];
const hosts: ApplianceHost[] = [];
const browsers: Bonjour[] = [];
after(async () => {
  for (const b of browsers) await new Promise<void>((r) => b.destroy(() => r()));
  for (const h of hosts) await h.stop();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/** Services of a type found by a fresh query within `ms` (a query is sent at start and every second). */
async function browse(type: 'imap' | 'imaps', ms: number): Promise<Service[]> {
  const bonjour = new BonjourModule();
  browsers.push(bonjour);
  const browser = bonjour.find({ type, protocol: 'tcp' });
  const timer = setInterval(() => browser.update(), 1000);
  await new Promise((r) => setTimeout(r, ms));
  clearInterval(timer);
  const found = [...browser.services];
  browser.stop();
  return found;
}

/** Wait until a browser sees a service that matches, or fail after `ms`. */
function waitFor(browser: ReturnType<Bonjour['find']>, event: 'up' | 'down', match: (s: Service) => boolean, ms: number): Promise<Service> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "${event}" within ${ms} ms; services: ${JSON.stringify(browser.services.map((s) => [s.name, s.port]))}`)), ms);
    const seen = browser.services.find(match);
    if (event === 'up' && seen) {
      clearTimeout(timer);
      resolve(seen);
      return;
    }
    browser.on(event, (s: Service) => {
      if (!match(s)) return;
      clearTimeout(timer);
      resolve(s);
    });
  });
}

describe('DNS-SD announcement, answered to a real mDNS query', () => {
  it('is absent while only this computer may connect, present with "Let other devices connect", gone after', async () => {
    const data = tempDir('dnssd');
    dirs.push(data);
    writeConfig(data, 'PORT=0\n', 'SSLPORT=0\n');
    const host = await ApplianceHost.open({ dataDir: data, failureDelayMs: 20, stopGraceMs: 2000, announce: true, setupPort: 0 });
    hosts.push(host);
    const status = await host.start();
    assert.equal(status.state, 'running', status.problem ?? '');
    const ports = () => host.getStatus().then((s) => ({
      imap: s.listeners.find((l) => l.kind === 'imap')!.port,
      imaps: s.listeners.find((l) => l.kind === 'imaps')!.port,
    }));
    const before = await ports();
    const ours = (p: { imap: number; imaps: number }) => (s: Service) => s.port === p.imap || s.port === p.imaps;

    // Off: the listeners are on 127.0.0.1 and nothing of ours answers a query.
    assert.equal((await host.getOverview()).announced, false);
    const quiet = [...(await browse('imaps', 2500)), ...(await browse('imap', 1500))];
    assert.deepEqual(quiet.filter(ours(before)).map((s) => s.name), []);

    // On: both services answer, with the new listeners' ports and this computer's name.
    const watcher = new BonjourModule();
    browsers.push(watcher);
    const imapsBrowser = watcher.find({ type: 'imaps', protocol: 'tcp' });
    const imapBrowser = watcher.find({ type: 'imap', protocol: 'tcp' });
    const result = await host.setNetworkAccess(true);
    assert.ok(result.ok, JSON.stringify(result));
    const now = await ports();
    assert.equal((await host.getOverview()).announced, true);
    assert.equal((await host.getOverview()).announcedAs, instanceName());
    const poll = setInterval(() => (imapsBrowser.update(), imapBrowser.update()), 1000);
    try {
      const imaps = await waitFor(imapsBrowser, 'up', (s) => s.port === now.imaps, 10_000);
      const imap = await waitFor(imapBrowser, 'up', (s) => s.port === now.imap, 10_000);
      for (const s of [imaps, imap]) {
        assert.equal(s.host, localHostName());
        assert.equal(s.protocol, 'tcp');
        assert.equal(s.name, instanceName());
        assert.ok(s.fqdn.endsWith(`._${s.type}._tcp.local`), s.fqdn);
      }
      assert.equal(imaps.type, 'imaps');
      assert.equal(imap.type, 'imap');
      assert.ok((imaps.addresses ?? []).length > 0, 'the A/AAAA records of the host came with the answer');

      // Off again: goodbye packets take both services down at once in the running browser...
      const gone = Promise.all([
        waitFor(imapsBrowser, 'down', (s) => s.port === now.imaps, 10_000),
        waitFor(imapBrowser, 'down', (s) => s.port === now.imap, 10_000),
      ]);
      assert.ok((await host.setNetworkAccess(false)).ok);
      await gone;
    } finally {
      clearInterval(poll);
    }
    assert.equal((await host.getOverview()).announced, false);
    assert.equal((await host.getOverview()).announcedAs, null);
    // ...and a new query finds nothing of ours.
    const after = [...(await browse('imaps', 2500)), ...(await browse('imap', 1500))];
    assert.deepEqual(after.filter(ours(now)).map((s) => s.name), []);
  });
});

/** avahi-browse's resolved lines for a service type, or null where no Avahi daemon answers. */
function avahiBrowse(type: string): string[] | null {
  const r = spawnSync('avahi-browse', ['--resolve', '--terminate', '--parsable', type], { encoding: 'utf8', timeout: 15_000 });
  if (r.error || r.status !== 0) return null;
  return r.stdout.split('\n').filter((l) => l.startsWith('='));
}

describe('DNS-SD announcement, seen by Avahi', () => {
  const skip = avahiBrowse('_imaps._tcp') === null ? 'no Avahi daemon answers avahi-browse here' : false;
  it('resolves _imaps._tcp and _imap._tcp to the listeners\' ports while other devices may connect', { skip }, async () => {
    const data = tempDir('dnssd-avahi');
    dirs.push(data);
    writeConfig(data, 'PORT=0\n', 'SSLPORT=0\n');
    const host = await ApplianceHost.open({ dataDir: data, failureDelayMs: 20, stopGraceMs: 2000, announce: true });
    hosts.push(host);
    assert.equal((await host.start()).state, 'running');
    assert.ok((await host.setNetworkAccess(true)).ok);
    const status = await host.getStatus();
    await new Promise((r) => setTimeout(r, 2000));
    for (const kind of ['imaps', 'imap'] as const) {
      const port = status.listeners.find((l) => l.kind === kind)!.port;
      // =;eth0;IPv4;imapd-ts\032on\032vm;_imaps._tcp;local;vm.local;192.0.2.2;38103;"path=/"
      const lines = avahiBrowse(`_${kind}._tcp`)!.map((l) => l.split(';'));
      const ours = lines.find((f) => f[8] === String(port));
      assert.ok(ours, `avahi-browse did not resolve port ${port}: ${JSON.stringify(lines)}`);
      assert.equal(ours[6], localHostName());
      assert.match(ours[3]!, /^imapd-ts\\032on\\032/);
    }
    assert.ok((await host.setNetworkAccess(false)).ok);
    await new Promise((r) => setTimeout(r, 1000));
    const left = (avahiBrowse('_imaps._tcp') ?? []).filter((l) => l.split(';')[8] === String(status.listeners.find((x) => x.kind === 'imaps')!.port));
    assert.deepEqual(left, []);
  });
});
