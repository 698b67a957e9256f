// Courier's client-certificate and virtual-host settings of imapd-ssl on real TLS sockets:
// TLS_VERIFYPEER (PEER, REQUIREPEER) against TLS_TRUSTCERTS, AUTHENTICATE EXTERNAL with the
// TLS_EXTERNAL subject field, and TLS_CERTFILE.<domain> (SNI) / TLS_CERTFILE.<ip> certificates.
// Certificates are made with the openssl command for each run.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import net from 'node:net';
import fs from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { AccountAuthenticator, SqliteAccountStore } from '../../server/accounts/index.js';
import { ConfigError, loadSettings } from '../../server/config/index.js';
import { ImapServer, loadTlsMaterial } from '../../server/net/index.js';
import { emptyMaildir, removeTree, tempDir } from '../helpers/maildir.js';
import { courierSkip, peerScript } from '../helpers/peers.js';

let dir: string;
let pki: string;
/** The account named by the "ext" certificate's emailAddress (also in Courier's userdb, beside Courier). */
const EXT_USER = 'imapdts-ext';

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: pki, stdio: 'pipe' });
}

/** A key and a certificate for `subject`, signed by `ca` (or self-signed), into name.key / name.crt. */
function issue(name: string, subject: string, ca: string | null, extra: string[] = []): void {
  openssl('req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-subj', subject, '-out', `${name}.csr`);
  if (ca) openssl('x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-days', '30', '-out', `${name}.crt`, ...extra);
  else openssl('x509', '-req', '-in', `${name}.csr`, '-signkey', `${name}.key`, '-days', '30', '-out', `${name}.crt`, ...extra);
}

const read = (name: string) => fs.readFileSync(path.join(pki, name), 'utf8');

before(() => {
  dir = tempDir('client-certs');
  pki = path.join(dir, 'pki');
  fs.mkdirSync(pki);
  fs.writeFileSync(path.join(pki, 'ca.ext'), 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n');
  issue('ca', '/CN=Family CA', null, ['-extfile', 'ca.ext']);
  issue('other-ca', '/CN=Stranger CA', null, ['-extfile', 'ca.ext']);
  issue('alice', '/CN=Alice/emailAddress=alice', 'ca');
  issue('nobody', '/CN=Nobody/emailAddress=nobody', 'ca');
  issue('ext', '/CN=Ext/emailAddress=imapdts-ext', 'ca');
  issue('forged', '/CN=Alice/emailAddress=alice', 'other-ca');
  issue('server', '/CN=main.test', 'ca');
  issue('vhost', '/CN=mail.example.org', 'ca');
  issue('iphost', '/CN=by-address', 'ca');
  // Courier's layout: TLS_CERTFILE with its key, and TLS_CERTFILE.<name> beside it.
  const certs = path.join(dir, 'certs');
  fs.mkdirSync(certs);
  fs.writeFileSync(path.join(certs, 'imapd.pem'), read('server.crt') + read('server.key'), { mode: 0o600 });
  fs.writeFileSync(path.join(certs, 'imapd.pem.mail.example.org'), read('vhost.crt') + read('vhost.key'), { mode: 0o600 });
  fs.writeFileSync(path.join(certs, 'imapd.pem.127.0.0.2'), read('iphost.crt') + read('iphost.key'), { mode: 0o600 });
});

after(() => removeTree(dir));

interface Running {
  port: number;
  stop(): Promise<void>;
}

async function serve(overrides: Record<string, string>, shared: { sharedFolders?: boolean; sharable?: boolean } = {}): Promise<Running> {
  const data = fs.mkdtempSync(path.join(dir, 'data-'));
  const accounts = SqliteAccountStore.open(data);
  await accounts.add({ username: 'alice', password: 'secret', maildir: emptyMaildir(path.join(data, 'alice')) });
  if (shared.sharable) await accounts.setSharable('alice', '');
  await accounts.add({ username: EXT_USER, password: 'secret', maildir: emptyMaildir(path.join(data, EXT_USER)) });
  const authenticator = new AccountAuthenticator({
    accounts, logger: { log: () => undefined }, maildirPath: 'Maildir', useLocks: true, keywords: true,
    watch: false, pollIntervalMs: 60_000, trashFolder: 'Trash', failureDelayMs: 10,
    sharedFolders: shared.sharedFolders ?? false, maildirShared: path.join(data, 'maildirshared'),
  });
  const certFile = path.join(dir, 'certs', 'imapd.pem');
  const { settings } = await loadSettings({
    configDir: path.join(data, 'no-config'),
    overrides: { ADDRESS: '0.0.0.0', PORT: '0', SSLPORT: '0', TLS_CERTFILE: certFile, ...overrides },
  });
  const material = await loadTlsMaterial({ certFile, dataDir: data });
  const server = ImapServer.fromSettings(settings, { authenticator, tls: material });
  const endpoints = await server.start();
  return {
    port: endpoints.find((e) => e.kind === 'imaps')!.port,
    async stop() {
      await server.stop();
      accounts.close();
    },
  };
}

interface Session {
  socket: tls.TLSSocket;
  greeting: string;
  peerSubject: string;
  command(line: string): Promise<string>;
}

/** Connect with an optional client certificate; rejects if the server drops the connection before its greeting. */
function connect(port: number, options: { cert?: string; servername?: string; host?: string } = {}): Promise<Session> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: options.host ?? '127.0.0.1',
      port,
      rejectUnauthorized: false,
      ...(options.servername ? { servername: options.servername } : {}),
      ...(options.cert ? { cert: read(`${options.cert}.crt`), key: read(`${options.cert}.key`) } : {}),
    });
    let buffer = '';
    let waiting: { tag: string; resolve: (s: string) => void } | null = null;
    let greeted = false;
    socket.setEncoding('utf8');
    socket.on('error', (err) => { if (!greeted) reject(err); });
    socket.on('close', () => {
      if (!greeted) reject(new Error('closed before the greeting'));
      else if (waiting) waiting.resolve(`${buffer}closed`); // what came, then "closed" as the last line
    });
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      if (!greeted && buffer.includes('\r\n')) {
        greeted = true;
        const greeting = buffer.slice(0, buffer.indexOf('\r\n'));
        buffer = buffer.slice(greeting.length + 2);
        const subject = socket.getPeerCertificate().subject?.CN ?? '';
        resolve({
          socket, greeting, peerSubject: String(subject),
          command(line) {
            const tag = `t${Math.random().toString(36).slice(2, 8)}`;
            return new Promise((res) => {
              waiting = { tag, resolve: res };
              socket.write(`${tag} ${line}\r\n`);
            });
          },
        });
      }
      if (waiting) {
        const end = buffer.indexOf(`${waiting.tag} `);
        const stop = end >= 0 ? buffer.indexOf('\r\n', end) : -1;
        if (stop >= 0) {
          const reply = buffer.slice(0, stop);
          buffer = buffer.slice(stop + 2);
          const w = waiting;
          waiting = null;
          w.resolve(reply);
        }
      }
    });
  });
}

test('TLS_VERIFYPEER=REQUIREPEER refuses clients without a certificate, or with one from another authority', async () => {
  const s = await serve({ TLS_VERIFYPEER: 'REQUIREPEER', TLS_TRUSTCERTS: path.join(pki, 'ca.crt') });
  try {
    await assert.rejects(connect(s.port));
    await assert.rejects(connect(s.port, { cert: 'forged' }));
    const ok = await connect(s.port, { cert: 'alice' });
    assert.match(ok.greeting, /^\* OK /);
    ok.socket.destroy();
  } finally {
    await s.stop();
  }
});

test('TLS_VERIFYPEER=PEER: no certificate is let in, a bad one is refused; TLS_EXTERNAL logs in with a good one', async () => {
  const s = await serve({ TLS_VERIFYPEER: 'PEER', TLS_TRUSTCERTS: path.join(pki, 'ca.crt'), TLS_EXTERNAL: 'emailaddress' });
  try {
    const plain = await connect(s.port);
    assert.doesNotMatch(plain.greeting, /AUTH=EXTERNAL/);
    assert.match(await plain.command('AUTHENTICATE EXTERNAL ='), /^t\w+ NO /);
    plain.socket.destroy();

    await assert.rejects(connect(s.port, { cert: 'forged' }));

    const wrongName = await connect(s.port, { cert: 'alice' });
    assert.match(wrongName.greeting, /AUTH=EXTERNAL/);
    assert.match(await wrongName.command(`AUTHENTICATE EXTERNAL ${Buffer.from('bob').toString('base64')}`), /NO \[AUTHORIZATIONFAILED\]/);
    wrongName.socket.destroy();

    const alice = await connect(s.port, { cert: 'alice' });
    assert.match(await alice.command('AUTHENTICATE EXTERNAL ='), /OK \[CAPABILITY [^\]]*\] LOGIN Ok\./);
    assert.match(await alice.command('SELECT INBOX'), /OK \[READ-WRITE\]/);
    alice.socket.destroy();

    // A certificate of the right authority for a name with no account logs in as no one.
    const nobody = await connect(s.port, { cert: 'nobody' });
    assert.match(await nobody.command('AUTHENTICATE EXTERNAL ='), /NO \[AUTHENTICATIONFAILED\]/);
    nobody.socket.destroy();
  } finally {
    await s.stop();
  }
});

test('a login with a client certificate gets the shared namespaces a password login gets', async () => {
  const s = await serve({ TLS_VERIFYPEER: 'PEER', TLS_TRUSTCERTS: path.join(pki, 'ca.crt'), TLS_EXTERNAL: 'emailaddress' }, { sharedFolders: true, sharable: true });
  try {
    const alice = await connect(s.port, { cert: 'alice' });
    assert.match(await alice.command('AUTHENTICATE EXTERNAL ='), /OK \[CAPABILITY [^\]]*\] LOGIN Ok\./);
    assert.match(await alice.command('NAMESPACE'), /\* NAMESPACE \(\("INBOX\." "\."\)\) NIL \(\("#shared\." "\."\)\("shared\." "\."\)\)/);
    alice.socket.destroy();
  } finally {
    await s.stop();
  }
});

test('without TLS_EXTERNAL a verified certificate offers no AUTH=EXTERNAL', async () => {
  const s = await serve({ TLS_VERIFYPEER: 'PEER', TLS_TRUSTCERTS: path.join(pki, 'ca.crt') });
  try {
    const c = await connect(s.port, { cert: 'alice' });
    assert.doesNotMatch(c.greeting, /AUTH=EXTERNAL/);
    assert.match(await c.command('AUTHENTICATE EXTERNAL ='), /NO \[CANNOT\]/);
    c.socket.destroy();
  } finally {
    await s.stop();
  }
});

test('TLS_CERTFILE.<domain> answers the name asked for by SNI, TLS_CERTFILE.<ip> the address connected to', async () => {
  const s = await serve({});
  try {
    const named = await connect(s.port, { servername: 'mail.example.org' });
    assert.equal(named.peerSubject, 'mail.example.org');
    named.socket.destroy();
    const upper = await connect(s.port, { servername: 'MAIL.Example.ORG' });
    assert.equal(upper.peerSubject, 'mail.example.org');
    upper.socket.destroy();
    const other = await connect(s.port, { servername: 'other.example.org' });
    assert.equal(other.peerSubject, 'main.test');
    other.socket.destroy();
    const byAddress = await connect(s.port, { host: '127.0.0.2' });
    assert.equal(byAddress.peerSubject, 'by-address');
    byAddress.socket.destroy();
  } finally {
    await s.stop();
  }
});

test('client certificates without TLS_TRUSTCERTS refuse to start, with the reason', async () => {
  const configDir = fs.mkdtempSync(path.join(dir, 'conf-'));
  fs.writeFileSync(path.join(configDir, 'imapd-ssl'), 'TLS_VERIFYPEER=REQUIREPEER\n');
  await assert.rejects(loadSettings({ configDir }), (err: unknown) =>
    err instanceof ConfigError && /TLS_VERIFYPEER/.test(err.message) && /TLS_TRUSTCERTS/.test(err.message));
  fs.writeFileSync(path.join(configDir, 'imapd-ssl'), `TLS_VERIFYPEER=PEER\nTLS_TRUSTCERTS=${path.join(dir, 'missing.pem')}\n`);
  await assert.rejects(loadSettings({ configDir }), (err: unknown) => err instanceof ConfigError && /missing\.pem/.test(err.message));
  // Debian's file names a bundle that may be absent; with NONE it is never read.
  fs.writeFileSync(path.join(configDir, 'imapd-ssl'), `TLS_VERIFYPEER=NONE\nTLS_TRUSTCERTS=${path.join(dir, 'missing.pem')}\n`);
  assert.equal((await loadSettings({ configDir })).settings.tlsVerifyPeer, 'NONE');
});

// Beside Courier: couriertcpd -> couriertls -server -tcpd -> imaplogin -> imapd, as Debian's
// imapd-ssl start script runs it, with the same certificates and settings.
const COURIERTLS = '/usr/bin/couriertls';
const courierTlsSkip = courierSkip || (!fs.existsSync(COURIERTLS) && `${COURIERTLS} is not installed (npm run peers)`);

async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise<void>((r) => probe.close(() => r()));
  return port;
}

async function courierTls(settings: Record<string, string>): Promise<Running> {
  const state = fs.mkdtempSync(path.join(dir, 'courier-'));
  const maildir = emptyMaildir(path.join(state, 'Maildir'));
  const port = await freePort();
  const env = { PATH: '/usr/bin:/bin:/usr/sbin:/sbin', IMAP_TLS: '1', TLS_CERTFILE: path.join(dir, 'certs', 'imapd.pem'), ...settings };
  const child = spawn('/usr/sbin/couriertcpd', [
    `-pid=${path.join(state, 'pid')}`, `-stderr=${path.join(state, 'log')}`, '-address=0', '-nodnslookup', '-noidentlookup',
    String(port), COURIERTLS, '-server', '-tcpd', '/usr/lib/courier/courier/imaplogin', '/usr/bin/imapd', maildir,
  ], { env, stdio: 'ignore' });
  await new Promise((r) => child.once('exit', r)); // couriertcpd goes to the background
  for (let i = 0; i < 100; i++) {
    const up = await new Promise<boolean>((r) => {
      const c = net.connect(port, '127.0.0.1', () => { c.destroy(); r(true); });
      c.on('error', () => r(false));
    });
    if (up) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const pid = Number(fs.readFileSync(path.join(state, 'pid'), 'utf8'));
  return {
    port,
    async stop() {
      process.kill(pid, 'SIGTERM');
      for (let i = 0; i < 100; i++) {
        try { process.kill(pid, 0); } catch { return; }
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
}

/** 'greeted' with the server certificate's name, or 'refused'. */
async function outcome(port: number, options: { cert?: string; servername?: string; host?: string }): Promise<string> {
  try {
    const s = await connect(port, options);
    s.socket.destroy();
    return /^\* OK /.test(s.greeting) ? `greeted by ${s.peerSubject}` : `said ${s.greeting}`;
  } catch {
    return 'refused';
  }
}

test('client certificates, SNI and by-address certificates: the same clients get in, with the same server certificate, as with Courier\'s couriertls', { skip: courierTlsSkip, timeout: 120_000 }, async () => {
  const trust = { TLS_TRUSTCERTS: path.join(pki, 'ca.crt') };
  const clients: { cert?: string; servername?: string; host?: string }[] = [
    {}, { cert: 'alice' }, { cert: 'forged' }, { servername: 'mail.example.org' }, { servername: 'other.example.org' }, { cert: 'alice', servername: 'mail.example.org' },
    { host: '127.0.0.2' }, { host: '127.0.0.2', servername: 'mail.example.org' },
  ];
  for (const settings of [{ TLS_VERIFYPEER: 'REQUIREPEER', ...trust }, { TLS_VERIFYPEER: 'PEER', ...trust }, { TLS_VERIFYPEER: 'NONE' }]) {
    const ours = await serve(settings);
    const courier = await courierTls(settings);
    try {
      for (const client of clients) {
        const [a, b] = await Promise.all([outcome(ours.port, client), outcome(courier.port, client)]);
        assert.equal(a, b, `${settings.TLS_VERIFYPEER} ${JSON.stringify(client)}: ours ${a}, Courier ${b}`);
      }
    } finally {
      await Promise.all([ours.stop(), courier.stop()]);
    }
  }
});

test('TLS_EXTERNAL beside Courier (couriertls, imaplogin, authuserdb): AUTH=EXTERNAL offered to the same clients, the certificate\'s account logged in', {
  skip: courierTlsSkip || (process.getuid?.() !== 0 ? 'courier-login.sh needs root (it edits /etc/courier/userdb)' : false),
  timeout: 120_000,
}, async () => {
  const settings = { TLS_VERIFYPEER: 'PEER', TLS_TRUSTCERTS: path.join(pki, 'ca.crt'), TLS_EXTERNAL: 'emailaddress' };
  // courier-login.sh puts EXT_USER into Courier's userdb and starts authdaemond, which the
  // TLS listener's imaplogin asks.
  const env = { ...process.env, PEERS_STATE: path.join(dir, 'courier-login') };
  execFileSync(peerScript('courier-login.sh'), [String(await freePort()), EXT_USER, 'secret'], { env, stdio: 'pipe' });
  const ours = await serve(settings);
  const courier = await courierTls(settings);
  try {
    for (const cert of [undefined, 'ext', 'nobody']) {
      const answers: string[][] = [];
      for (const port of [ours.port, courier.port]) {
        const s = await connect(port, cert ? { cert } : {});
        const offered = /AUTH=EXTERNAL/.test(s.greeting) ? 'AUTH=EXTERNAL offered' : 'not offered';
        // Courier has no SASL-IR: the empty response ("use the certificate's name") on its own line.
        const login = offered === 'not offered' ? '' : (await s.command('AUTHENTICATE EXTERNAL\r\n')).split('\r\n').at(-1)!;
        const loggedIn = /^t\w+ OK /.test(login);
        answers.push([offered, loggedIn ? 'logged in' : 'not logged in', loggedIn ? (await s.command('SELECT INBOX')).split('\r\n').at(-1)!.split(' ')[1] : '']);
        s.socket.destroy();
      }
      // (An account the certificate names but authlib lacks: Courier says BYE, we say NO.)
      assert.deepEqual(answers[0], answers[1], `certificate ${cert ?? 'none'}: ours, then Courier`);
      if (cert === 'ext') assert.deepEqual(answers[0], ['AUTH=EXTERNAL offered', 'logged in', 'OK']);
    }
  } finally {
    await Promise.all([ours.stop(), courier.stop()]);
    execFileSync(peerScript('courier-stop.sh'), { env, stdio: 'pipe' });
    execFileSync('/usr/sbin/userdb', [EXT_USER, 'del'], { stdio: 'pipe' });
    execFileSync('/usr/sbin/makeuserdb', { stdio: 'pipe' });
  }
});
