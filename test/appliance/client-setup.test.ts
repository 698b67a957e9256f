// The files mail programs set themselves up from, read back with real parsers (fast-xml-parser
// for the XML, the `plist` package for Apple's profile) and checked for the elements the
// published formats require; the setup server over real HTTP; and the DNS-SD records built
// for the listeners. (The mDNS send itself is not exercised: the package binds port 5353 on
// every interface and cannot be held to loopback, and tests must not multicast on the LAN.)

import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import * as plist from 'plist';
import { loadTlsMaterial } from '../../server/net/index.js';
import { autoconfigXml, autodiscoverXml, mobileconfig, type SetupTarget } from '../../server/appliance/client-setup.js';
import { serviceConfigs, serviceRecords } from '../../server/appliance/dns-sd.js';
import { SETUP_PATHS, SetupHttpServer, autodiscoverAddress } from '../../server/appliance/setup-http.js';
import { tempDir } from '../helpers/appliance.js';

let pem: string;
before(async () => {
  pem = (await loadTlsMaterial({ dataDir: tempDir('setup-cert') })).cert;
});

const target = (over: Partial<SetupTarget> = {}): SetupTarget => ({
  username: 'alice@example.org',
  host: 'homebox.local',
  imaps: 993,
  imap: 143,
  startTls: true,
  selfSignedCertPem: pem,
  displayName: 'imapd-ts on homebox',
  ...over,
});

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', isArray: (name) => ['incomingServer', 'Protocol'].includes(name) });

describe('mail program setup files', () => {
  it('Thunderbird autoconfig has the required elements, TLS ways only', () => {
    const xml = autoconfigXml(target());
    assert.equal(XMLValidator.validate(xml), true);
    const doc = parser.parse(xml);
    assert.equal(doc.clientConfig['@version'], '1.1');
    const provider = doc.clientConfig.emailProvider;
    assert.equal(provider['@id'], 'example.org');
    assert.equal(provider.domain, 'example.org');
    assert.ok(provider.displayName);
    const servers = provider.incomingServer as Record<string, unknown>[];
    assert.deepEqual(servers.map((s) => [s['@type'], s.hostname, s.port, s.socketType, s.authentication, s.username]), [
      ['imap', 'homebox.local', 993, 'SSL', 'password-cleartext', 'alice@example.org'],
      ['imap', 'homebox.local', 143, 'STARTTLS', 'password-cleartext', 'alice@example.org'],
    ]);
    // No plain port without STARTTLS is ever offered.
    const plainOnly = parser.parse(autoconfigXml(target({ imaps: null, startTls: false })));
    assert.equal(plainOnly.clientConfig.emailProvider.incomingServer, undefined);
  });

  it('escapes what a user name may hold', () => {
    const xml = autoconfigXml(target({ username: 'a<b>&"c\'' }));
    assert.equal(XMLValidator.validate(xml), true);
    assert.ok(xml.includes('<username>a&lt;b&gt;&amp;&quot;c&apos;</username>'));
    assert.equal(parser.parse(xml).clientConfig.emailProvider.incomingServer[0].username, 'a<b>&"c\'');
  });

  it('Outlook autodiscover follows the 2006a response schema', () => {
    const xml = autodiscoverXml(target({ username: 'alice' }));
    assert.equal(XMLValidator.validate(xml), true);
    const doc = parser.parse(xml);
    assert.equal(doc.Autodiscover['@xmlns'], 'http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006');
    const response = doc.Autodiscover.Response;
    assert.equal(response['@xmlns'], 'http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a');
    assert.equal(response.Account.AccountType, 'email');
    assert.equal(response.Account.Action, 'settings');
    const [ssl, starttls] = response.Account.Protocol as Record<string, unknown>[];
    assert.deepEqual([ssl!.Type, ssl!.Server, ssl!.Port, ssl!.LoginName, ssl!.SSL, ssl!.SPA, ssl!.AuthRequired], ['IMAP', 'homebox.local', 993, 'alice', 'on', 'off', 'on']);
    assert.equal(starttls!.Encryption, 'TLS');
    assert.equal(starttls!.Port, 143);
  });

  it('the Apple profile has an email payload and the certificate as a root payload', () => {
    const text = mobileconfig(target());
    const profile = plist.parse(text) as Record<string, unknown>;
    const uuid = /^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/;
    assert.equal(profile.PayloadType, 'Configuration');
    assert.equal(profile.PayloadVersion, 1);
    assert.match(String(profile.PayloadUUID), uuid);
    assert.ok(profile.PayloadIdentifier && profile.PayloadDisplayName);
    const content = profile.PayloadContent as Record<string, unknown>[];
    const root = content.find((p) => p.PayloadType === 'com.apple.security.root')!;
    const mail = content.find((p) => p.PayloadType === 'com.apple.mail.managed')!;
    for (const p of [root, mail]) {
      assert.equal(p.PayloadVersion, 1);
      assert.match(String(p.PayloadUUID), uuid);
      assert.ok(p.PayloadIdentifier);
    }
    assert.ok(Buffer.isBuffer(root.PayloadContent) || root.PayloadContent instanceof Uint8Array);
    const der = Buffer.from(root.PayloadContent as Uint8Array);
    assert.equal(new X509Certificate(der).fingerprint256, new X509Certificate(pem).fingerprint256);
    for (const key of ['EmailAccountType', 'IncomingMailServerHostName', 'IncomingMailServerPortNumber', 'IncomingMailServerAuthentication', 'OutgoingMailServerHostName', 'OutgoingMailServerAuthentication']) {
      assert.ok(mail[key] !== undefined, `${key} is required`);
    }
    assert.deepEqual([mail.EmailAccountType, mail.IncomingMailServerHostName, mail.IncomingMailServerPortNumber, mail.IncomingMailServerUseSSL, mail.IncomingMailServerUsername, mail.EmailAddress],
      ['EmailTypeIMAP', 'homebox.local', 993, true, 'alice@example.org', 'alice@example.org']);
    // The same account gives the same identifiers: installing again replaces the profile.
    assert.equal((plist.parse(mobileconfig(target())) as Record<string, unknown>).PayloadUUID, profile.PayloadUUID);
    // A configured (CA-issued) certificate is not put in.
    const noCert = plist.parse(mobileconfig(target({ selfSignedCertPem: null }))) as Record<string, unknown>;
    assert.equal((noCert.PayloadContent as unknown[]).length, 1);
  });
});

describe('setup server', () => {
  const server = new SetupHttpServer((username) => target({ username }));
  let base: string;
  before(async () => {
    base = `http://127.0.0.1:${await server.start('127.0.0.1', 0)}`;
  });
  after(() => server.stop());

  const request = (path: string, method = 'GET', body?: string) =>
    new Promise<{ status: number; type: string; body: string }>((resolve, reject) => {
      const req = http.request(base + path, { method, headers: body ? { 'Content-Type': 'text/xml' } : {} }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body: text }));
      });
      req.on('error', reject);
      req.end(body);
    });

  it('serves autoconfig at both Thunderbird paths', async () => {
    for (const path of [SETUP_PATHS.autoconfig, SETUP_PATHS.autoconfigShort]) {
      const r = await request(`${path}?emailaddress=bob%40example.org`);
      assert.equal(r.status, 200, path);
      assert.match(r.type, /^application\/xml/);
      assert.equal(parser.parse(r.body).clientConfig.emailProvider.incomingServer[0].username, 'bob@example.org');
    }
    assert.equal((await request(SETUP_PATHS.autoconfig)).status, 400);
  });

  it('answers Outlook\'s autodiscover POST, and serves the Apple profile', async () => {
    const outlook = `<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"><Request><EMailAddress>carol@example.org</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>`;
    const r = await request(SETUP_PATHS.autodiscover, 'POST', outlook);
    assert.equal(r.status, 200);
    assert.equal(parser.parse(r.body).Autodiscover.Response.Account.Protocol[0].LoginName, 'carol@example.org');
    assert.equal(autodiscoverAddress('<EMailAddress>unterminated'), null);
    const apple = await request(`${SETUP_PATHS.mobileconfig}?user=dave`);
    assert.equal(apple.status, 200);
    assert.equal(apple.type, 'application/x-apple-aspen-config');
    assert.equal((plist.parse(apple.body) as Record<string, unknown>).PayloadType, 'Configuration');
  });

  it('serves nothing else', async () => {
    assert.equal((await request('/')).status, 404);
    assert.equal((await request('/api/getStatus', 'POST', '[]')).status, 404);
    assert.equal((await request(`${SETUP_PATHS.mobileconfig}?user=${'x'.repeat(300)}`)).status, 400);
    assert.equal((await request(`${SETUP_PATHS.mobileconfig}?user=a%0Ab`)).status, 400);
  });
});

describe('DNS-SD announcement', () => {
  const listeners = [
    { kind: 'imap' as const, address: '::', port: 1143, startTls: true },
    { kind: 'imaps' as const, address: '::', port: 1993, startTls: false },
  ];

  it('announces _imaps._tcp and _imap._tcp with the listeners\' ports (RFC 6186 names)', () => {
    const configs = serviceConfigs(listeners, 'homebox.local');
    assert.deepEqual(configs.map((c) => [c.type, c.port, c.host]), [['imap', 1143, 'homebox.local'], ['imaps', 1993, 'homebox.local']]);
    const records = serviceRecords(configs[1]!);
    const ptr = records.find((r) => r.type === 'PTR' && r.name === '_imaps._tcp.local')!;
    assert.equal(ptr.data, 'imapd-ts on homebox._imaps._tcp.local');
    const srv = records.find((r) => r.type === 'SRV')!;
    assert.equal(srv.name, 'imapd-ts on homebox._imaps._tcp.local');
    assert.deepEqual(srv.data, { port: 1993, target: 'homebox.local' });
    assert.ok(records.some((r) => r.type === 'PTR' && r.name === '_services._dns-sd._udp.local' && r.data === '_imaps._tcp.local'));
  });

  it('announces nothing on loopback, and never a port without TLS', () => {
    assert.deepEqual(serviceConfigs(listeners.map((l) => ({ ...l, address: '127.0.0.1' }))), []);
    assert.deepEqual(serviceConfigs([{ kind: 'imap', address: '0.0.0.0', port: 143, startTls: false }]), []);
  });
});
