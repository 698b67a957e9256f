import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConfigError,
  SETTINGS,
  loadSettings,
  resolveEndpoints,
  sessionSettingsFrom,
} from '../../server/config/index.js';

let root: string;
let n = 0;
before(async () => {
  root = await fs.mkdtemp(join(tmpdir(), 'imapd-settings-'));
});
after(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

/** A fresh config directory with the given files. */
async function configDir(files: Record<string, string>): Promise<string> {
  const dir = join(root, `c${++n}`);
  await fs.mkdir(dir);
  for (const [name, text] of Object.entries(files)) await fs.writeFile(join(dir, name), text);
  return dir;
}

async function expectConfigError(dir: string, file: string, line: number, setting: string, reason: RegExp, overrides?: Record<string, string>) {
  await assert.rejects(loadSettings({ configDir: dir, ...(overrides ? { overrides } : {}) }), (err: unknown) => {
    assert.ok(err instanceof ConfigError, String(err));
    assert.equal(err.file, file);
    assert.equal(err.line, line);
    assert.equal(err.setting, setting);
    assert.match(err.reason, reason);
    return true;
  });
}

test('missing files give the defaults of an unprivileged appliance', async () => {
  const { settings, warnings } = await loadSettings({ configDir: join(root, 'does-not-exist') });
  assert.deepEqual(warnings, []);
  assert.equal(settings.address, '127.0.0.1');
  assert.deepEqual(settings.ports, [{ port: 1143 }]);
  assert.deepEqual(settings.sslPorts, [{ port: 1993 }]);
  assert.equal(settings.sslAddress, '127.0.0.1');
  assert.equal(settings.maxDaemons, 40);
  assert.equal(settings.maxPerIp, 4);
  assert.equal(settings.idleTimeout, 60);
  assert.equal(settings.enhancedIdle, true);
  assert.equal(settings.useLocks, true);
  assert.equal(settings.keywords, 1);
  assert.equal(settings.trashFolder, 'Trash');
  assert.equal(settings.startTls && settings.sslStart && settings.plainStart, true);
  assert.equal(settings.tlsRequired, false);
  assert.equal(settings.tlsCertFile, null);
  assert.equal(settings.tlsMinVersion, 'TLSv1.2');
  assert.equal(settings.maildirPath, 'Maildir');
  assert.equal(settings.namespacePrefix, 'INBOX.');
  assert.deepEqual(settings.capabilityTls, [...settings.capability, 'AUTH=PLAIN']);
  // Every default in the table is valid and every setting has a meaning.
  for (const spec of SETTINGS) assert.ok(spec.meaning.endsWith('.') && spec.meaning.length > 20, spec.name);
});

test("Debian's files: values read, unused settings warned about, not fatal", { skip: !existsSync('/etc/courier/imapd-ssl') && 'courier-imap not installed' }, async () => {
  const dir = await configDir({});
  await fs.copyFile('/etc/courier/imapd', join(dir, 'imapd'));
  // Debian's imapd-ssl names /etc/courier/imapd.pem, which exists on this machine.
  await fs.copyFile('/etc/courier/imapd-ssl', join(dir, 'imapd-ssl'));
  const { settings, warnings, sources } = await loadSettings({ configDir: dir });
  assert.equal(settings.address, null); // ADDRESS=0: all addresses
  assert.deepEqual(settings.ports, [{ port: 143 }]);
  assert.deepEqual(settings.sslPorts, [{ port: 993 }]);
  assert.equal(settings.maxPerIp, 20);
  assert.equal(settings.enhancedIdle, false);
  assert.equal(settings.tlsCertFile, '/etc/courier/imapd.pem');
  assert.deepEqual(settings.capability, 'IMAP4rev1 UIDPLUS CHILDREN NAMESPACE THREAD=ORDEREDSUBJECT THREAD=REFERENCES SORT QUOTA IDLE'.split(' '));
  assert.equal(settings.capabilityTls.at(-1), 'AUTH=PLAIN');
  assert.deepEqual(sources.get('MAXPERIP'), { file: join(dir, 'imapd'), line: 60 });
  const byName = new Map(warnings.map((w) => [w.setting, w]));
  assert.ok(!byName.has('IMAP_ACL'), 'IMAP_ACL is honoured (ACL, RFC 4314)');
  assert.ok(!byName.has('PIDFILE')); // honoured now (issue 12)
  assert.equal(settings.pidFile, '/run/courier/imapd.pid');
  assert.equal(settings.umask, 0o022);
  assert.equal(byName.get('TCPDOPTS')?.kind, 'ignored');
  assert.ok(!byName.has('TLS_VERIFYPEER')); // honoured now (client certificates, issue 12)
  assert.equal(settings.tlsVerifyPeer, 'NONE');
  assert.ok(!byName.has('IMAP_PROXY')); // honoured now (proxy mode, issue 12)
  assert.equal(settings.imapProxy, false);
  assert.equal(settings.imapProxyForeign, false);
  assert.ok(!byName.has('MAXPERIP'));
});

test('invalid values name file, line and setting', async () => {
  let dir = await configDir({ imapd: '# limits\n\nMAXDAEMONS=40\nMAXPERIP=abc\n' });
  await expectConfigError(dir, join(dir, 'imapd'), 4, 'MAXPERIP', /whole number/);

  dir = await configDir({ imapd: 'PORT=143\n', 'imapd-ssl': '\nSSLPORT=70000\n' });
  await expectConfigError(dir, join(dir, 'imapd-ssl'), 2, 'SSLPORT', /out of range/);

  dir = await configDir({ 'imapd-ssl': '# cert\nTLS_CERTFILE=/nonexistent/imapd.pem\n' });
  await expectConfigError(dir, join(dir, 'imapd-ssl'), 2, 'TLS_CERTFILE', /not found/);

  dir = await configDir({ imapd: 'ADDRESS=my.host.example\n' });
  await expectConfigError(dir, join(dir, 'imapd'), 1, 'ADDRESS', /IP address/);

  dir = await configDir({ imapd: 'IMAP_NAMESPACE_PREFIX=Mail/\n' });
  await expectConfigError(dir, join(dir, 'imapd'), 1, 'IMAP_NAMESPACE_PREFIX', /one of/);

  dir = await configDir({ 'imapd-ssl': 'TLS_CIPHER_LIST="NO-SUCH-CIPHER"\n' });
  await expectConfigError(dir, join(dir, 'imapd-ssl'), 1, 'TLS_CIPHER_LIST', /cipher list/);

  dir = await configDir({ imapd: 'IMAP_ENHANCEDIDLE=yes\n' });
  await expectConfigError(dir, join(dir, 'imapd'), 1, 'IMAP_ENHANCEDIDLE', /0 or 1/);

  dir = await configDir({ imapd: 'MAILDIRPATH=../elsewhere\n' });
  await expectConfigError(dir, join(dir, 'imapd'), 1, 'MAILDIRPATH', /home directory/);

  // The value that is wrong is the last one set, and imapd-ssl overrides imapd.
  dir = await configDir({ imapd: 'MAXDAEMONS=x\n', 'imapd-ssl': 'MAXDAEMONS=10\n' });
  assert.equal((await loadSettings({ configDir: dir })).settings.maxDaemons, 10);

  // Command-line overrides are checked the same way.
  dir = await configDir({});
  await expectConfigError(dir, 'command line', 0, 'PORT', /port number/, { PORT: 'imap' });

  dir = await configDir({ 'imapd-ssl': 'TLS_PRIVATE_KEYFILE=imapd-ssl\n' });
  await expectConfigError(dir, join(dir, 'imapd-ssl'), 1, 'TLS_PRIVATE_KEYFILE', /TLS_CERTFILE is not/);
});

test('references, lazy defaults, overrides and adjusted values', async () => {
  const dir = await configDir({
    imapd: 'IMAP_CAPABILITY="IMAP4rev1 IDLE XMAGICTRASH"\nPORT=127.0.0.1.1143,2143\nMAXPERIP=0\nTYPO_SETTING=1\n',
    'imapd-ssl': 'TLS_PROTOCOL=TLSv1.1++\nTLS_STARTTLS_PROTOCOL=TLSv1.3\nSSLADDRESS=::1\n',
  });
  const { settings, warnings } = await loadSettings({ configDir: dir, overrides: { ADDRESS: '0', SSLPORT: '0' } });
  // IMAP_CAPABILITY_TLS is not set, so its default follows IMAP_CAPABILITY.
  assert.deepEqual(settings.capabilityTls, ['IMAP4rev1', 'IDLE', 'XMAGICTRASH', 'AUTH=PLAIN']);
  assert.deepEqual(resolveEndpoints(settings.ports, settings.address), [
    { address: '127.0.0.1', port: 1143 },
    { address: null, port: 2143 },
  ]);
  assert.deepEqual(resolveEndpoints(settings.sslPorts, settings.sslAddress), [{ address: '::1', port: 0 }]);
  assert.equal(settings.maxPerIp, 0);
  assert.equal(settings.tlsMinVersion, 'TLSv1.2');
  assert.equal(settings.startTlsMinVersion, 'TLSv1.3');
  const kinds = warnings.map((w) => `${w.setting}:${w.kind}:${w.line}`).sort();
  assert.deepEqual(kinds, [
    'IMAP_CAPABILITY:unsupported:1',
    'IMAP_CAPABILITY_TLS:unsupported:0', // the default inherits the unknown XMAGICTRASH word
    'TLS_PROTOCOL:adjusted:1',
    'TYPO_SETTING:unknown:4',
  ]);
});

test('session settings are derived from the typed settings', async () => {
  const dir = await configDir({ imapd: 'IMAP_KEYWORDS=0\nIMAP_ID_FIELDS=3\nIMAP_NAMESPACE_PREFIX=\n', 'imapd-ssl': 'IMAP_TLS_REQUIRED=1\n' });
  const { settings } = await loadSettings({ configDir: dir });
  const s = sessionSettingsFrom(settings);
  assert.equal(s.keywords, false);
  assert.equal(s.idFields, 3);
  assert.equal(s.namespacePrefix, '');
  assert.equal(s.tlsRequired, true);
  assert.equal(s.enhancedIdle, true);
  assert.equal(s.trashFolder, 'Trash');
  assert.equal(s.maxLineLength, 65536);
  assert.deepEqual(s.capability, settings.capability);
});

test('the settings table for the README lists every setting with its default', async () => {
  const { settingsTableMarkdown } = await import('../../server/config/index.js');
  const table = settingsTableMarkdown();
  for (const spec of SETTINGS) assert.match(table, new RegExp(`^\\| ${spec.name}( \\(ours\\))? \\| ${spec.file} \\|`, 'm'));
  assert.match(table, /\| MAXPERIP \| imapd \| `4` \|/);
  assert.match(table, /\| TLS_CERTFILE \| imapd-ssl \| \(unset\) \|/);
});

test('TLS_VERIFYPEER=REQUIREPEER without TLS_TRUSTCERTS refuses to start instead of accepting no certificate', async () => {
  const dir = await configDir({ 'imapd-ssl': 'TLS_VERIFYPEER=REQUIREPEER\n' });
  await expectConfigError(dir, join(dir, 'imapd-ssl'), 1, 'TLS_VERIFYPEER', /needs TLS_TRUSTCERTS/);
  const none = await loadSettings({ configDir: await configDir({ 'imapd-ssl': 'TLS_VERIFYPEER=NONE\n' }) });
  assert.ok(!none.warnings.some((w) => w.setting === 'TLS_VERIFYPEER'));
  const external = await loadSettings({ configDir: await configDir({ 'imapd-ssl': 'TLS_EXTERNAL=emailaddress\n' }) });
  assert.match(external.warnings.find((w) => w.setting === 'TLS_EXTERNAL')?.message ?? '', /AUTHENTICATE EXTERNAL is never offered/);
});
