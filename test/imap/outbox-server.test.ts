// The Outbox and IMAPDEBUGFILE in imapd-server (issue 12): the sender comes from the account
// store, and the protocol record starts after login so that no password is in it. Then the
// Outbox with the real sendmail: Debian's Postfix (a private instance, test/helpers/postfix.ts)
// takes the message, drops Bcc, and delivers it over LMTP back to the accounts.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { SqliteAccountStore } from '../../server/accounts/index.js';
import { ImapTestClient, ROOT } from '../helpers/imap-client.js';
import { emptyMaildir, removeTree, tempDir } from '../helpers/maildir.js';
import { fakeSendmail, type FakeSendmail } from '../helpers/fake-sendmail.js';
import { postfixSkip, startPostfix, type PrivatePostfix } from '../helpers/postfix.js';

const SERVER = path.join(ROOT, 'dist/server/bin/imapd-server.js');
const PASSWORDS = { alice: 'alice-password-1', bob: 'bob-password-22', 'carol@example.net': 'carol-password-333' } as const;
type User = keyof typeof PASSWORDS;

interface RunningServer {
  imapPort: number;
  lmtpPort: number | null;
  maildirs: Record<User, string>;
  stop(): Promise<void>;
}

/** imapd-server on `dir` with the three accounts, `settings` in its imapd file and `env` in its environment. */
async function startServer(dir: string, settings: string[], env: Record<string, string> = {}): Promise<RunningServer> {
  const data = path.join(dir, 'data');
  const config = path.join(dir, 'config');
  fs.mkdirSync(config, { recursive: true });
  fs.writeFileSync(path.join(config, 'imapd'), ['PORT=0', 'IMAPDSTART=YES', 'OUTBOX=.Outbox', ...settings, ''].join('\n'));
  fs.writeFileSync(path.join(config, 'imapd-ssl'), 'IMAPDSSLSTART=NO\nIMAPDSTARTTLS=NO\n');
  const accounts = SqliteAccountStore.open(data);
  const maildirs = {} as Record<User, string>;
  for (const user of Object.keys(PASSWORDS) as User[]) {
    maildirs[user] = emptyMaildir(path.join(dir, 'mail', user));
    emptyMaildir(path.join(maildirs[user], '.Outbox'));
    fs.writeFileSync(path.join(maildirs[user], '.Outbox', 'maildirfolder'), '');
    await accounts.add({ username: user, password: PASSWORDS[user], maildir: maildirs[user] });
  }
  await accounts.addAddress('alice', 'alice@example.org');
  accounts.close();
  const server: ChildProcess = spawn(process.execPath, [SERVER, '--config', config, '--data', data], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let out = '';
  server.stderr!.on('data', () => undefined);
  const wantLmtp = settings.some((s) => s.startsWith('LMTP_PORT='));
  const ports = await new Promise<{ imap: number; lmtp: number | null }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`imapd-server did not start: ${out}`)), 20_000);
    server.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const imap = /listening on 127\.0\.0\.1:(\d+) \(IMAP without TLS\)/.exec(out);
      const lmtp = /listening on 127\.0\.0\.1:(\d+) \(LMTP delivery\)/.exec(out);
      if (imap && (lmtp || !wantLmtp)) {
        clearTimeout(timer);
        resolve({ imap: Number(imap[1]), lmtp: lmtp ? Number(lmtp[1]) : null });
      }
    });
    server.on('exit', (code) => reject(new Error(`imapd-server exited with ${code}: ${out}`)));
  });
  return {
    imapPort: ports.imap,
    lmtpPort: ports.lmtp,
    maildirs,
    async stop() {
      if (server.exitCode !== null) return;
      const exited = new Promise((resolve) => server.once('exit', resolve));
      server.kill('SIGTERM');
      await exited;
    },
  };
}

async function connect(port: number): Promise<{ client: ImapTestClient; close(): void }> {
  const socket = net.connect({ host: '127.0.0.1', port });
  const client = new ImapTestClient(socket, socket);
  await client.greeting;
  return { client, close: () => socket.destroy() };
}

async function login(port: number, user: User): Promise<{ client: ImapTestClient; close(): void }> {
  const c = await connect(port);
  assert.match((await c.client.command(`LOGIN "${user}" "${PASSWORDS[user]}"`)).tagged, /^OK/);
  return c;
}

const message = (to: string, subject: string) => Buffer.from(`From: someone@example.org\r\nTo: ${to}\r\nSubject: ${subject}\r\n\r\nSent through the Outbox.\r\n`);

describe('imapd-server: the Outbox\'s sender and IMAPDEBUGFILE', () => {
  let dir: string;
  let server: RunningServer;
  let sendmail: FakeSendmail;

  before(async () => {
    dir = tempDir('outbox-server');
    sendmail = fakeSendmail(path.join(dir, 'sendmail'));
    server = await startServer(dir, [`SENDMAIL=${sendmail.program}`, 'IMAPDEBUGFILE=imaplog.dat']);
  });

  after(async () => {
    await server?.stop();
    removeTree(dir);
  });

  it('the sender is the account\'s address: its username if an address, else its first address, else the username (sendmail adds its domain)', async () => {
    for (const user of ['alice', 'bob', 'carol@example.net'] as const) {
      const { client, close } = await login(server.imapPort, user);
      assert.match((await client.append('INBOX.Outbox', message('dave@example.org', `from ${user}`))).tagged, /^OK/);
      close();
    }
    assert.deepEqual(sendmail.calls().map((c) => c.argv.at(-1)), ['alice@example.org', 'bob', 'carol@example.net']);
    assert.match(sendmail.calls()[0].stdin.toString(), /^X-IMAP-Sender: alice@example\.org\nFrom: /);
  });

  it('IMAPDEBUGFILE records a session after login, without passwords or literal data; only where the file exists', async () => {
    const record = path.join(server.maildirs.alice, 'imaplog.dat');
    fs.writeFileSync(record, '');
    const plain = Buffer.from(`\0alice\0${PASSWORDS.alice}`).toString('base64');
    const { client, close } = await connect(server.imapPort);
    try {
      assert.match((await client.command(`AUTHENTICATE PLAIN ${plain}`)).tagged, /^OK/);
      await client.command('SELECT INBOX');
      assert.match((await client.append('INBOX', Buffer.from('Subject: literal data\r\n\r\nnot-in-the-record\r\n'))).tagged, /^OK/);
      await client.command('NOOP');
      // A LOGIN line sent while logged in is refused, and recorded without its arguments.
      assert.match((await client.command(`LOGIN alice ${PASSWORDS.alice}`)).tagged, /^BAD/);
      assert.match((await client.command('UNAUTHENTICATE')).tagged, /^OK/);
      // The record ended with the login it belonged to: the next password is not in it.
      assert.match((await client.command(`LOGIN alice "${PASSWORDS.alice}"`)).tagged, /^OK/);
      await client.command('LOGOUT');
    } finally {
      close();
    }
    await new Promise((r) => setTimeout(r, 200));
    const text = fs.readFileSync(record, 'utf8');
    assert.match(text, /^INFO: \S+ LOGIN, user=alice, ip=\[127\.0\.0\.1\]\n/);
    assert.match(text, /^READ: t2 SELECT INBOX$/m);
    assert.match(text, /^WRITE: \* \d+ EXISTS\r$/m);
    assert.match(text, /^READ: t3 APPEND INBOX \{\d+\}$/m);
    assert.match(text, /^READ: t4 NOOP$/m);
    assert.match(text, /^READ: t5 LOGIN \[arguments not recorded\]$/m);
    assert.match(text, /^READ: t6 UNAUTHENTICATE$/m);
    // The second login opened a record of its own, which saw LOGOUT.
    assert.equal(text.match(/^INFO: .* LOGIN, user=alice/gm)?.length, 2);
    assert.match(text, /^READ: t8 LOGOUT$/m);
    assert.doesNotMatch(text, /t7 LOGIN/);
    for (const secret of [PASSWORDS.alice, plain, 'not-in-the-record']) assert.ok(!text.includes(secret), `${secret} is in the record`);
    // bob has no such file: none is made.
    const bob = await login(server.imapPort, 'bob');
    await bob.client.command('LOGOUT');
    bob.close();
    assert.equal(fs.existsSync(path.join(server.maildirs.bob, 'imaplog.dat')), false);
  });

  it('IMAPDEBUGFILE is not followed through a symbolic link', async () => {
    const target = path.join(dir, 'not-bobs-file');
    fs.writeFileSync(target, '');
    fs.symlinkSync(target, path.join(server.maildirs.bob, 'imaplog.dat'));
    const bob = await login(server.imapPort, 'bob');
    await bob.client.command('NOOP');
    await bob.client.command('LOGOUT');
    bob.close();
    assert.equal(fs.readFileSync(target, 'utf8'), '');
  });
});

describe('imapd-server\'s Outbox with Postfix\'s sendmail', { skip: postfixSkip }, () => {
  let dir: string;
  let server: RunningServer;
  let postfix: PrivatePostfix;

  before(async () => {
    dir = tempDir('outbox-postfix');
    const postfixDir = path.join(dir, 'postfix');
    // sendmail finds the private instance through MAIL_CONFIG, which the server passes on.
    server = await startServer(dir, ['SENDMAIL=/usr/sbin/sendmail', 'LMTP_PORT=0'], { MAIL_CONFIG: path.join(postfixDir, 'etc') });
    postfix = await startPostfix(postfixDir, `lmtp:inet:127.0.0.1:${server.lmtpPort}`);
  });

  after(async () => {
    await postfix?.stop();
    await server?.stop();
    removeTree(dir);
  });

  /** The text of the first message in `maildir`'s INBOX whose text matches `pattern`, once it is there. */
  async function arrived(maildir: string, pattern: RegExp): Promise<string> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      for (const sub of ['new', 'cur']) {
        for (const name of fs.readdirSync(path.join(maildir, sub))) {
          const text = fs.readFileSync(path.join(maildir, sub, name), 'utf8');
          if (pattern.test(text)) return text;
        }
      }
      if (Date.now() > deadline) throw new Error(`no message matching ${pattern} in ${maildir}; Postfix log:\n${postfix.log()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it('a message put into the Outbox reaches its To and Bcc recipients, with X-IMAP-Sender and without Bcc', async () => {
    const { client, close } = await login(server.imapPort, 'alice');
    try {
      const sent = Buffer.from(`From: alice@example.org\r\nTo: alice@${postfix.hostname}\r\nBcc: bob@${postfix.hostname}\r\nSubject: through Postfix\r\n\r\nSent from the Outbox.\r\n`);
      assert.match((await client.append('INBOX.Outbox', sent)).tagged, /^OK \[APPENDUID /);
      for (const user of ['alice', 'bob'] as const) {
        const text = await arrived(server.maildirs[user], /Subject: through Postfix/);
        assert.match(text, /^X-IMAP-Sender: alice@example\.org$/m);
        assert.doesNotMatch(text, /^Bcc:/im);
      }
      assert.match(postfix.log(), /from=<alice@example\.org>/);
      // The stored copy is the one the client gave.
      assert.match((await client.command('STATUS INBOX.Outbox (MESSAGES)')).lines[0], /MESSAGES 1/);
    } finally {
      close();
    }
  });

  it('a message Postfix refuses (no recipients) is answered NO [ALERT] with Postfix\'s reason and not stored', async () => {
    const { client, close } = await login(server.imapPort, 'bob');
    try {
      const reply = await client.append('INBOX.Outbox', Buffer.from('From: bob@example.com\r\nSubject: nobody\r\n\r\nNo recipients.\r\n'));
      assert.match(reply.tagged, /^NO \[ALERT\] Unable to send E-mail message: .*No recipient addresses found in message header/);
      assert.match((await client.command('STATUS INBOX.Outbox (MESSAGES)')).lines[0], /MESSAGES 0/);
    } finally {
      close();
    }
  });
});
