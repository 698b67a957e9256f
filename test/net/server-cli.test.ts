import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../helpers/root.js';
import { SqliteAccountStore } from '../../server/accounts/index.js';
import { LineClient, eventually } from './client.js';

const repo = ROOT;
// The built command, as users run it (npm test builds first).
const bin = join(repo, 'dist/server/bin/imapd-server.js');
let root: string;
const children: ChildProcess[] = [];

before(async () => {
  root = await fs.mkdtemp(join(tmpdir(), 'imapd-server-'));
});
after(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await fs.rm(root, { recursive: true, force: true });
});

interface Running {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** The exit code, or the signal's name when a signal ended the process. */
  exited: Promise<number | string | null>;
}

function startServer(args: string[]): Running {
  const child = spawn(process.execPath, [bin, ...args], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<number | string | null>((r) => child.on('close', (code, signal) => r(code ?? signal)));
  return { child, stdout: () => out, stderr: () => err, exited };
}

async function configDir(name: string, files: Record<string, string>): Promise<string> {
  const dir = join(root, name);
  await fs.mkdir(dir, { recursive: true });
  for (const [file, text] of Object.entries(files)) await fs.writeFile(join(dir, file), text);
  return dir;
}

test('bad configuration: exit 2 with file, line and setting', async () => {
  const dir = await configDir('bad', { imapd: '# ok\nMAXDAEMONS=10\nMAXPERIP=lots\n' });
  const r = startServer(['--config', dir, '--data', join(root, 'data-bad')]);
  assert.equal(await r.exited, 2);
  assert.match(r.stderr(), new RegExp(`configuration error: ${join(dir, 'imapd')}:3: MAXPERIP: expected a whole number`));

  const dir2 = await configDir('badcert', { 'imapd-ssl': 'TLS_CERTFILE=/nonexistent/cert.pem\n' });
  const r2 = startServer(['--config', dir2, '--data', join(root, 'data-bad')]);
  assert.equal(await r2.exited, 2);
  assert.match(r2.stderr(), new RegExp(`${join(dir2, 'imapd-ssl')}:1: TLS_CERTFILE: file /nonexistent/cert.pem not found`));

  const r3 = startServer(['--data', join(root, 'data-bad'), '--port', '99999']);
  assert.equal(await r3.exited, 2);
  assert.match(r3.stderr(), /command line: PORT: port 99999 is out of range/);
});

test('starts, prints fingerprint and ports, serves a login, and stops on SIGTERM', async () => {
  const data = join(root, 'data');
  const store = SqliteAccountStore.open(data);
  await store.add({ username: 'alice', password: 'secret' });
  store.close();
  // Debian-like settings we do not honour only warn.
  const dir = await configDir('good', { imapd: 'TCPDOPTS="-nodnslookup"\nTLS_PRIORITY=NORMAL\nMAXPERIP=4\n' });
  const args = ['--config', dir, '--data', data, '--address', '127.0.0.1', '--port', '0', '--sslport', '0'];

  const r = startServer(args);
  await eventually(() => /IMAP over TLS/.test(r.stdout()), 20_000, 'listening lines');
  const out = r.stdout();
  const fingerprint = /SHA-256 fingerprint: ((?:[0-9A-F]{2}:){31}[0-9A-F]{2})/.exec(out)?.[1];
  assert.ok(fingerprint, out);
  assert.match(out, /self-signed, made now/);
  const port = Number(/listening on 127\.0\.0\.1:(\d+) \(IMAP with STARTTLS\)/.exec(out)?.[1]);
  const sslPort = Number(/listening on 127\.0\.0\.1:(\d+) \(IMAP over TLS\)/.exec(out)?.[1]);
  assert.ok(port > 0 && sslPort > 0, out);
  assert.match(r.stderr(), /warning: .*imapd:2: TLS_PRIORITY: GnuTLS priority strings are not understood/);
  assert.match(r.stderr(), /note: Courier settings with no effect here: TCPDOPTS/);

  const client = await LineClient.plain(port);
  assert.match(await client.line(), /^\* OK /);
  assert.match((await client.command('a', 'LOGIN alice secret')).at(-1)!, /^a OK/);
  const tlsClient = await LineClient.secure(sslPort);
  assert.match(await tlsClient.line(), /^\* OK /);
  assert.equal((tlsClient.socket as import('node:tls').TLSSocket).getPeerCertificate().fingerprint256, fingerprint);

  r.child.kill('SIGTERM');
  assert.equal(await client.line(), '* BYE Server shutting down.');
  assert.equal(await tlsClient.line(), '* BYE Server shutting down.');
  assert.equal(await r.exited, 0, r.stderr());
  assert.match(r.stdout(), /SIGTERM: stopping\nstopped\n$/);
  assert.match(r.stderr(), /LOGIN user=alice ip=127\.0\.0\.1/);

  // The second start reuses the certificate: same fingerprint.
  const again = startServer(args);
  await eventually(() => /IMAP over TLS/.test(again.stdout()), 20_000, 'listening lines');
  assert.match(again.stdout(), new RegExp(`SHA-256 fingerprint: ${fingerprint}`));
  assert.doesNotMatch(again.stdout(), /made now/);
  again.child.kill('SIGINT');
  assert.equal(await again.exited, 0, again.stderr());
  assert.match(again.stdout(), /SIGINT: stopping\nstopped\n$/);
});
