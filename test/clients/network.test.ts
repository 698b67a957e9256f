// The network server with real clients over real sockets (issue 4): Python imaplib with
// STARTTLS and implicit TLS, curl over imap:// and imaps://, mbsync syncing a Maildir to
// the server and back, and the hostile cases: wrong password, a 10 MB user name, a
// silent client, and a server killed during a 50 MB APPEND.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { SqliteAccountStore } from '../../server/accounts/index.js';
import type { ImapServer, TlsMaterial } from '../../server/net/index.js';
import { ImapTestClient, ROOT } from '../helpers/imap-client.js';
import { emptyMaildir, hasPython, removeTree, simpleMessage, standardMaildir, tempDir } from '../helpers/maildir.js';
import { startNetworkServer } from '../helpers/network-server.js';

const run = promisify(execFile);
const has = (cmd: string) => fs.existsSync(`/usr/bin/${cmd}`);

let dir: string;
let accounts: SqliteAccountStore;
let tls: TlsMaterial;
let server: ImapServer;
let port: number;
let sslPort: number;
const FAILURE_DELAY = 400;

before(async () => {
  dir = tempDir('network');
  const data = path.join(dir, 'data');
  fs.mkdirSync(data);
  accounts = SqliteAccountStore.open(data);
  await accounts.add({ username: 'alice', password: 'secret', maildir: standardMaildir(path.join(dir, 'alice'), 6) });
  await accounts.add({ username: 'bob', password: 'hunter2', maildir: emptyMaildir(path.join(dir, 'bob')) });
  ({ server, tls, port, sslPort } = await startNetworkServer({
    dataDir: data,
    accounts,
    failureDelayMs: FAILURE_DELAY,
    // Short, for the silent client below; the login deadline counts from connecting, so it
    // leaves room for a failed LOGIN (its delay grows) before a good one under load.
    timeouts: { unauthenticated: 5000, authenticated: 30 * 60_000, literal: 1500 },
  }));
});

after(async () => {
  await server.stop();
  accounts.close();
  removeTree(dir);
});

async function plainClient(): Promise<{ client: ImapTestClient; socket: net.Socket }> {
  const socket = net.connect(port, '127.0.0.1');
  const client = new ImapTestClient(socket, socket);
  await client.greeting;
  return { client, socket };
}

describe('real clients', () => {
  it('Python imaplib: IMAP4 with STARTTLS, and IMAP4_SSL', { skip: hasPython ? false : 'python3 missing' }, async () => {
    const script = `
import imaplib, ssl, json, sys
ctx = ssl.create_default_context(cafile=sys.argv[3]); ctx.check_hostname = False
out = {}
M = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]))
out['before'] = 'STARTTLS' in M.capabilities and 'LOGINDISABLED' not in M.capabilities
M.starttls(ssl_context=ctx)
out['tls_version'] = M.sock.version()
M.login('alice', 'secret')
out['select'] = M.select('INBOX')[1][0].decode()
out['fetch'] = M.fetch('1', '(BODY.PEEK[HEADER.FIELDS (SUBJECT)])')[1][0][1].decode().strip()
M.logout()
S = imaplib.IMAP4_SSL('127.0.0.1', int(sys.argv[2]), ssl_context=ctx)
S.login('alice', 'secret')
out['ssl_status'] = S.status('INBOX.Sent', '(MESSAGES)')[1][0].decode()
S.logout()
print(json.dumps(out))
`;
    const { stdout } = await run('python3', ['-c', script, String(port), String(sslPort), tls.certFile ?? path.join(dir, 'data', 'tls', 'cert.pem')]);
    const r = JSON.parse(stdout);
    assert.equal(r.before, true);
    assert.match(r.tls_version, /^TLSv1\.[23]$/);
    assert.equal(r.select, '6');
    assert.equal(r.fetch, 'Subject: Lunch on Friday? #1');
    assert.equal(r.ssl_status, '"INBOX.Sent" (MESSAGES 3)');
  });

  it('curl over imap:// with STARTTLS and over imaps://', { skip: has('curl') ? false : 'curl missing' }, async () => {
    const list = await run('curl', ['-s', '-k', '--ssl-reqd', '--max-time', '20', '-u', 'alice:secret', `imap://127.0.0.1:${port}/`]);
    assert.match(list.stdout, /\* LIST \(\\HasNoChildren \\Sent\) "\." "INBOX\.Sent"/);
    const message = await run('curl', ['-s', '-k', '--max-time', '20', '-u', 'alice:secret', `imaps://127.0.0.1:${sslPort}/INBOX;UID=2`]);
    assert.match(message.stdout, /^Return-Path: <carol@example\.org>/);
    assert.match(message.stdout, /This is a multi-part message in MIME format/);
    const search = await run('curl', ['-s', '-k', '--max-time', '20', '-u', 'alice:secret', '-X', 'SEARCH FROM "Dave"', `imaps://127.0.0.1:${sslPort}/INBOX`]);
    assert.match(search.stdout, /\* SEARCH 3/);
  });

  it('mbsync: a Maildir synced to the server and back keeps content and flags', { skip: has('mbsync') ? false : 'isync (mbsync) missing', timeout: 60_000 }, async () => {
    const local = path.join(dir, 'mbsync-local');
    const back = path.join(dir, 'mbsync-back');
    const messages = [
      { name: '1700000001.M1P1.laptop', flags: 'FS', data: simpleMessage('flagged and seen') },
      { name: '1700000002.M2P1.laptop', flags: '', data: simpleMessage('unread') },
      { name: '1700000003.M3P1.laptop', flags: 'RS', data: simpleMessage('answered', 'Bodies\r\nwith several lines\r\n') },
    ];
    emptyMaildir(path.join(local, 'INBOX'));
    for (const m of messages) fs.writeFileSync(path.join(local, 'INBOX', 'cur', `${m.name}:2,${m.flags}`), m.data);
    const config = (maildir: string, state: string) => `IMAPAccount server
Host 127.0.0.1
Port ${sslPort}
User bob
Pass hunter2
SSLType IMAPS
CertificateFile ${path.join(dir, 'data', 'tls', 'cert.pem')}

IMAPStore remote
Account server

MaildirStore local
Path ${maildir}/
Inbox ${maildir}/INBOX

Channel sync
Far :remote:
Near :local:
Patterns INBOX
Create Both
SyncState ${state}/
`;
    fs.mkdirSync(back);
    fs.mkdirSync(path.join(dir, 'state1'));
    fs.mkdirSync(path.join(dir, 'state2'));
    fs.writeFileSync(path.join(dir, 'push.rc'), config(local, path.join(dir, 'state1')));
    fs.writeFileSync(path.join(dir, 'pull.rc'), config(back, path.join(dir, 'state2')));
    await run('mbsync', ['-c', path.join(dir, 'push.rc'), '-a'], { timeout: 30_000 });
    await run('mbsync', ['-c', path.join(dir, 'pull.rc'), '-a'], { timeout: 30_000 });

    const read = (root: string) =>
      ['cur', 'new']
        .flatMap((sub) => fs.readdirSync(path.join(root, 'INBOX', sub)).map((f) => ({ f, sub })))
        .map(({ f, sub }) => ({
          // mbsync stores local files with LF line ends and adds X-TUID while it uploads.
          data: fs.readFileSync(path.join(root, 'INBOX', sub, f)).toString('latin1').replace(/^X-TUID: .*\r?\n/m, '').replace(/\r\n/g, '\n'),
          flags: sub === 'new' ? '' : (f.split(':2,')[1] ?? ''),
        }))
        .sort((a, b) => a.data.localeCompare(b.data));
    const expected = messages.map((m) => ({ data: m.data.toString('latin1').replace(/\r\n/g, '\n'), flags: m.flags })).sort((a, b) => a.data.localeCompare(b.data));
    assert.deepEqual(read(back), expected);
    // And the server holds them with the same flags.
    const { client, socket } = await plainClient();
    await client.command('LOGIN bob hunter2');
    const f = await client.command('SELECT INBOX');
    assert.ok(f.lines.includes('* 3 EXISTS'), f.lines.join('\n'));
    const flags = await client.command('SEARCH FLAGGED');
    assert.equal(flags.lines[0].split(' ').length, 3);
    socket.destroy();
  });
});

describe('hostile and broken clients', () => {
  it('answers a wrong password with NO after the failure delay', async () => {
    const { client, socket } = await plainClient();
    const start = Date.now();
    const r = await client.command('LOGIN alice wrong');
    assert.match(r.tagged, /^NO \[AUTHENTICATIONFAILED\]/);
    assert.ok(Date.now() - start >= FAILURE_DELAY * 0.9, `answered after ${Date.now() - start} ms`);
    const ok = await client.command('LOGIN alice secret');
    assert.match(ok.tagged, /^OK/);
    socket.destroy();
  });

  it('treats a user name that looks like SQL as a name, and refuses a 10 MB one without buffering it', async () => {
    const { client, socket } = await plainClient();
    const sql = await client.command(`LOGIN "alice' OR '1'='1" "x' OR '1'='1"`);
    assert.match(sql.tagged, /^NO/);
    const tag = client.nextTag();
    client.send(`${tag} LOGIN {${10 * 1024 * 1024}}\r\n`);
    const refused = (await client.readResponseLine()).toString();
    assert.match(refused, new RegExp(`^${tag} (NO|BAD) `));
    assert.match((await client.command('NOOP')).tagged, /^OK/);
    socket.destroy();
  });

  it('drops a client that sends nothing, with BYE, at the timeout', async () => {
    const { client, socket } = await plainClient();
    const start = Date.now();
    const bye = (await client.readResponseLine(10_000)).toString();
    assert.match(bye, /^\* BYE /);
    await new Promise<void>((resolve) => socket.once('close', () => resolve()));
    assert.ok(Date.now() - start >= 1000, `dropped after ${Date.now() - start} ms`);
  });
});

describe('a server killed during a 50 MB APPEND', () => {
  it('leaves no partial message in cur/ or new/', { timeout: 60_000 }, async () => {
    const base = tempDir('kill-append');
    const data = path.join(base, 'data');
    fs.mkdirSync(data);
    const maildir = emptyMaildir(path.join(base, 'Maildir'));
    const store = SqliteAccountStore.open(data);
    await store.add({ username: 'carol', password: 'pw', maildir });
    store.close();
    const configDir = path.join(base, 'config');
    fs.mkdirSync(configDir);
    const child = spawn(process.execPath, [path.join(ROOT, 'dist/server/bin/imapd-server.js'), '--config', configDir, '--data', data, '--port', '0', '--sslport', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    try {
      // Port 0: the kernel picks a free port, the server prints it.
      const listening = /listening on \S+:(\d+) \(IMAP with STARTTLS\)/;
      for (let i = 0; i < 200 && !listening.test(out); i++) await new Promise((r) => setTimeout(r, 50));
      const serverPort = Number(listening.exec(out)?.[1]);
      assert.ok(serverPort > 0, out);
      const socket = net.connect(serverPort, '127.0.0.1');
      socket.on('error', () => undefined);
      const client = new ImapTestClient(socket, socket);
      await client.greeting;
      assert.match((await client.command('LOGIN carol pw')).tagged, /^OK/);
      const size = 50 * 1024 * 1024;
      client.send(`a APPEND INBOX {${size}}\r\n`);
      assert.match((await client.readResponseLine()).toString(), /^\+/);
      const chunk = Buffer.alloc(1024 * 1024, 'x');
      for (let i = 0; i < 30; i++) client.send(chunk);
      await new Promise((r) => setTimeout(r, 300));
      child.kill('SIGKILL');
      await exited;
      socket.destroy();
      assert.deepEqual(fs.readdirSync(path.join(maildir, 'cur')), []);
      assert.deepEqual(fs.readdirSync(path.join(maildir, 'new')), []);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      removeTree(base);
    }
  });
});
