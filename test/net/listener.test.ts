import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AccountAuthenticator, SqliteAccountStore } from '../../server/accounts/index.js';
import { loadSettings, type ImapdSettings } from '../../server/config/index.js';
import {
  BYE_TOO_MANY,
  BYE_TOO_MANY_FROM_ADDRESS,
  ImapServer,
  loadTlsMaterial,
  type ConnectionInfo,
  type RejectedConnection,
  type TlsMaterial,
} from '../../server/net/index.js';
import { LineClient, eventually } from './client.js';

let data: string;
let accounts: SqliteAccountStore;
let tlsMaterial: TlsMaterial;
let authenticator: AccountAuthenticator;
const servers: ImapServer[] = [];
const clients: LineClient[] = [];

before(async () => {
  data = await fs.mkdtemp(join(tmpdir(), 'imapd-net-'));
  accounts = SqliteAccountStore.open(data);
  await accounts.add({ username: 'alice', password: 'secret' });
  tlsMaterial = await loadTlsMaterial({ dataDir: data });
  authenticator = new AccountAuthenticator({
    accounts,
    logger: { log: () => undefined },
    maildirPath: 'Maildir',
    useLocks: true,
    keywords: true,
    watch: false,
    pollIntervalMs: 60_000,
    trashFolder: 'Trash',
    failureDelayMs: 50,
  });
});
after(async () => {
  for (const c of clients) c.close();
  await Promise.all(servers.map((s) => s.stop()));
  accounts.close();
  await fs.rm(data, { recursive: true, force: true });
});

/** A server on free ports of 127.0.0.1 with the given Courier-style settings. */
async function startServer(values: Record<string, string> = {}, extra: { tlsHandshakeTimeoutMs?: number } = {}): Promise<{ server: ImapServer; port: number; sslPort: number; settings: ImapdSettings }> {
  const { settings } = await loadSettings({
    configDir: join(data, 'no-config'),
    overrides: { ADDRESS: '127.0.0.1', PORT: '0', SSLPORT: '0', ...values },
  });
  const server = ImapServer.fromSettings(settings, { authenticator, tls: tlsMaterial, ...extra });
  servers.push(server);
  const endpoints = await server.start();
  return {
    server,
    settings,
    port: endpoints.find((e) => e.kind === 'imap')?.port ?? 0,
    sslPort: endpoints.find((e) => e.kind === 'imaps')?.port ?? 0,
  };
}

async function connect(port: number): Promise<LineClient> {
  const c = await LineClient.plain(port);
  clients.push(c);
  return c;
}
async function connectTls(port: number, options = {}): Promise<LineClient> {
  const c = await LineClient.secure(port, options);
  clients.push(c);
  return c;
}

test('plain port: greeting, STARTTLS, login, registry and events, logout', async () => {
  const { server, port } = await startServer();
  const started: ConnectionInfo[] = [];
  const changed: ConnectionInfo[] = [];
  const ended: ConnectionInfo[] = [];
  server.on('session-start', (i) => started.push(i));
  server.on('session-change', (i) => changed.push(i));
  server.on('session-end', (i) => ended.push(i));

  const plain = await connect(port);
  assert.match(await plain.line(), /^\* OK /);
  const caps = (await plain.command('a', 'CAPABILITY')).join('\n');
  assert.match(caps, /STARTTLS/);
  assert.equal(started.length, 1);
  assert.equal(server.sessions()[0]!.tls, false);

  const secure = await plain.startTls({ maxVersion: 'TLSv1.2' });
  clients.push(secure);
  const capsTls = (await secure.command('b', 'CAPABILITY')).join('\n');
  assert.doesNotMatch(capsTls, /STARTTLS/);
  assert.match(capsTls, /AUTH=PLAIN/);
  assert.match((await secure.command('c', 'LOGIN alice secret')).at(-1)!, /^c OK/);
  assert.match((await secure.command('d', 'SELECT INBOX')).at(-1)!, /^d OK/);

  const [info] = server.sessions();
  assert.ok(info);
  assert.equal(info.user, 'alice');
  assert.equal(info.tls, true);
  assert.equal(info.tlsProtocol, 'TLSv1.2');
  assert.equal(info.state, 'selected');
  assert.equal(info.selected, 'INBOX');
  assert.equal(info.remoteAddress, '127.0.0.1');
  assert.equal(info.listener, 'imap');
  assert.ok(info.bytesIn > 100 && info.bytesOut > 100, `bytes ${info.bytesIn}/${info.bytesOut}`);
  assert.ok(changed.some((c) => c.user === 'alice' && c.state === 'authenticated'));

  const bye = await secure.command('e', 'LOGOUT');
  assert.match(bye[0]!, /^\* BYE/);
  await secure.closed;
  await eventually(() => ended.length === 1, 3000, 'session-end');
  assert.equal(ended[0]!.user, 'alice');
  assert.deepEqual(server.sessions(), []);
});

test('TLS 1.2 and 1.3 accepted; 1.0 and 1.1 refused even when the settings ask for them', async () => {
  // TLS_PROTOCOL=TLSv1 and a cipher list at OpenSSL security level 0 would let TLS 1.0
  // through (OpenSSL's default level alone refuses it); the floor of TLS 1.2 must hold.
  const { server, sslPort, port } = await startServer({ TLS_PROTOCOL: 'TLSv1', TLS_CIPHER_LIST: 'DEFAULT:@SECLEVEL=0' });
  const old = { minVersion: 'TLSv1', ciphers: 'DEFAULT:@SECLEVEL=0' } as const;
  for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
    const c = await connectTls(sslPort, { minVersion: version, maxVersion: version });
    assert.equal((c.socket as import('node:tls').TLSSocket).getProtocol(), version);
    assert.match(await c.line(), /^\* OK /);
    const caps = (await c.command('a', 'CAPABILITY')).join('\n');
    assert.doesNotMatch(caps, /STARTTLS/);
    c.close();
  }
  const logs: string[] = [];
  server.on('log', (e) => logs.push(e.message));
  for (const version of ['TLSv1', 'TLSv1.1'] as const) {
    await assert.rejects(connectTls(sslPort, { ...old, maxVersion: version }), /protocol|alert|ECONNRESET|socket hang up/i);
  }
  // Also after STARTTLS on the plain port.
  const plain = await connect(port);
  await plain.line();
  await assert.rejects(plain.startTls({ ...old, maxVersion: 'TLSv1.1' }), /protocol|alert|ECONNRESET|socket hang up/i);
  await plain.closed;
  assert.ok(logs.filter((l) => l.startsWith('TLS handshake failed')).length >= 3, logs.join('\n'));
  await eventually(() => server.sessions().length === 0, 3000, 'registry to empty');
});

test('TLS_PROTOCOL=TLSv1.3 refuses TLS 1.2 clients', async () => {
  const { sslPort } = await startServer({ TLS_PROTOCOL: 'TLSv1.3' });
  await assert.rejects(connectTls(sslPort, { maxVersion: 'TLSv1.2' }), /protocol|alert|ECONNRESET|socket hang up/i);
  const ok = await connectTls(sslPort);
  assert.equal((ok.socket as import('node:tls').TLSSocket).getProtocol(), 'TLSv1.3');
});

test('MAXPERIP=4: the fifth connection from 127.0.0.1 gets BYE, the first four stay', async () => {
  const { server, port, sslPort } = await startServer({ MAXPERIP: '4', MAXDAEMONS: '40' });
  const rejected: RejectedConnection[] = [];
  server.on('rejected', (r) => rejected.push(r));
  const four = [await connect(port), await connect(port), await connectTls(sslPort), await connect(port)];
  for (const c of four) assert.match(await c.line(), /^\* OK /);

  const fifth = await connect(port);
  assert.equal(await fifth.line(), `* BYE ${BYE_TOO_MANY_FROM_ADDRESS}`);
  await fifth.closed;
  // Over TLS the BYE comes through TLS.
  const sixth = await connectTls(sslPort);
  assert.equal(await sixth.line(), `* BYE ${BYE_TOO_MANY_FROM_ADDRESS}`);
  await sixth.closed;
  assert.deepEqual(rejected.map((r) => [r.listener, r.remoteAddress]), [['imap', '127.0.0.1'], ['imaps', '127.0.0.1']]);

  // The four are undisturbed.
  for (const [i, c] of four.entries()) {
    assert.equal(c.isClosed, false);
    assert.match((await c.command(`n${i}`, 'NOOP')).at(-1)!, new RegExp(`^n${i} OK`));
  }
  assert.equal(server.sessions().length, 4);

  // When one leaves, a new one is let in.
  four[0]!.close();
  await eventually(() => server.sessions().length === 3, 3000, 'one session to end');
  const again = await connect(port);
  assert.match(await again.line(), /^\* OK /);
});

test('MAXDAEMONS=3: the fourth connection from anywhere gets BYE', async () => {
  const { server, port, sslPort } = await startServer({ MAXPERIP: '0', MAXDAEMONS: '3' });
  const three = [await connect(port), await connectTls(sslPort), await connect(port)];
  for (const c of three) assert.match(await c.line(), /^\* OK /);
  const fourth = await connect(port);
  assert.equal(await fourth.line(), `* BYE ${BYE_TOO_MANY}`);
  await fourth.closed;
  const fifth = await connectTls(sslPort);
  assert.equal(await fifth.line(), `* BYE ${BYE_TOO_MANY}`);
  for (const c of three) assert.match((await c.command('x', 'NOOP')).at(-1)!, /^x OK/);
  assert.equal(server.sessions().length, 3);
});

test('a TLS handshake that does not come is dropped after the time limit', async () => {
  const { server, sslPort, port } = await startServer({}, { tlsHandshakeTimeoutMs: 300 });
  const silent = new net.Socket();
  const closed = new Promise<number>((resolve) => {
    const start = Date.now();
    silent.on('close', () => resolve(Date.now() - start));
  });
  silent.on('error', () => undefined);
  silent.connect(sslPort, '127.0.0.1');
  await eventually(() => server.sessions().some((s) => s.phase === 'handshake'), 2000, 'handshake phase');
  const after = await closed;
  assert.ok(after >= 250 && after < 3000, `closed after ${after} ms`);

  // STARTTLS followed by silence.
  const plain = await connect(port);
  await plain.line();
  assert.match((await plain.command('s', 'STARTTLS')).at(-1)!, /^s OK/);
  await plain.closed;
  await eventually(() => server.sessions().length === 0, 3000, 'registry to empty');
});

test('disconnect(id) and stop(): sessions get BYE, stop resolves when all are closed', async () => {
  const { server, port, sslPort } = await startServer();
  const a = await connect(port);
  const b = await connectTls(sslPort);
  const c = await connect(port);
  for (const x of [a, b, c]) await x.line();
  assert.match((await b.command('l', 'LOGIN alice secret')).at(-1)!, /^l OK/);
  assert.match((await b.command('s', 'SELECT INBOX')).at(-1)!, /^s OK/);

  const idOfC = server.sessions().find((s) => s.remotePort === c.socket.localPort)!.id;
  assert.equal(server.disconnect(idOfC), true);
  assert.equal(await c.line(), '* BYE Disconnected by the administrator.');
  await c.closed;
  assert.equal(server.disconnect(99999), false);

  await server.stop();
  assert.equal(await a.line(), '* BYE Server shutting down.');
  assert.equal(await b.line(), '* BYE Server shutting down.');
  await Promise.all([a.closed, b.closed]);
  assert.deepEqual(server.sessions(), []);
  await assert.rejects(LineClient.plain(port), /ECONNREFUSED/);
});

test('a port that is taken is a clear error, and nothing is left listening', async () => {
  const { port } = await startServer({ IMAPDSSLSTART: 'NO' });
  const { settings } = await loadSettings({ configDir: join(data, 'no-config'), overrides: { ADDRESS: '127.0.0.1', PORT: String(port), SSLPORT: '0' } });
  const clash = ImapServer.fromSettings(settings, { authenticator, tls: tlsMaterial });
  await assert.rejects(clash.start(), /cannot listen on 127\.0\.0\.1 port \d+ \(imap\): the port is in use/);
  assert.deepEqual(clash.endpoints(), []);
});
