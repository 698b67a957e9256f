// Realtime folder updates (issue 5), the seed's verification procedure step by step,
// over real sockets against the real server process: three clients IDLE on one folder,
// a fourth changes it; then a delivery from outside; then two server processes on one
// Maildir, as users with several machines sharing a Maildir over NFS have.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { SqliteAccountStore } from '../../server/accounts/index.js';
import { ImapTestClient, ROOT } from '../helpers/imap-client.js';
import { deliver, removeTree, simpleMessage, standardMaildir, tempDir } from '../helpers/maildir.js';

const SERVER = path.join(ROOT, 'dist/server/bin/imapd-server.js');

interface Server {
  child: ChildProcess;
  port: number;
  stop(): Promise<void>;
}

async function startServer(dataDir: string, maildir: string): Promise<Server> {
  const store = SqliteAccountStore.open(dataDir);
  if (!(await store.get('alice'))) await store.add({ username: 'alice', password: 'secret', maildir });
  store.close();
  const configDir = path.join(dataDir, 'config');
  fs.mkdirSync(configDir, { recursive: true });
  fs.writeFileSync(path.join(configDir, 'imapd'), 'MAXPERIP=50\nIMAP_ENHANCEDIDLE=1\nADDRESS=127.0.0.1\n');
  // Port 0: the kernel picks free ports; the server prints them.
  const child = spawn(process.execPath, [SERVER, '--config', configDir, '--data', dataDir, '--port', '0', '--sslport', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const deadline = Date.now() + 20_000;
  const listening = /listening on 127\.0\.0\.1:(\d+) \(IMAP with STARTTLS\)/;
  while (!listening.test(out)) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`server did not start:\n${out}\n${err}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const port = Number(listening.exec(out)![1]);
  return {
    child,
    port,
    async stop() {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

async function connect(port: number): Promise<{ client: ImapTestClient; socket: net.Socket }> {
  const socket = net.connect(port, '127.0.0.1');
  const client = new ImapTestClient(socket, socket);
  await client.greeting;
  const login = await client.command('LOGIN alice secret');
  assert.match(login.tagged, /^OK/);
  return { client, socket };
}

/** Put a client into IDLE on INBOX; returns the tag to end it with. */
async function idle(client: ImapTestClient): Promise<string> {
  const tag = client.nextTag();
  client.send(`${tag} IDLE\r\n`);
  assert.match((await client.readResponseLine()).toString(), /^\+ entering ENHANCED idle mode/);
  return tag;
}

/** Read pushed lines until one matches (or fail after timeoutMs). */
async function expectPushed(client: ImapTestClient, pattern: RegExp, timeoutMs = 5000): Promise<string[]> {
  const seen: string[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const line = (await client.readResponseLine(Math.max(1, deadline - Date.now()))).toString('latin1');
    seen.push(line);
    if (pattern.test(line)) return seen;
  }
}

describe('three IDLE clients and a fourth that changes the folder', () => {
  let dir: string;
  let server: Server;
  let md: string;
  const sockets: net.Socket[] = [];

  before(async () => {
    dir = tempDir('realtime');
    md = standardMaildir(path.join(dir, 'Maildir'), 5);
    server = await startServer(path.join(dir, 'data'), md);
  });
  after(async () => {
    for (const s of sockets) s.destroy();
    await server.stop();
    removeTree(dir);
  });

  it('pushes every flag change, the expunge and an outside delivery to all of them', async () => {
    // The actor selects first: the Maildir's messages are recent for it, none for the watchers.
    const { client: actor, socket } = await connect(server.port);
    sockets.push(socket);
    await actor.command('SELECT INBOX');
    const watchers: ImapTestClient[] = [];
    const recentAtSelect: number[] = [];
    for (let i = 0; i < 3; i++) {
      const { client, socket } = await connect(server.port);
      sockets.push(socket);
      const select = await client.command('SELECT INBOX');
      recentAtSelect.push(Number(/^\* (\d+) RECENT$/m.exec(select.lines.join('\n'))![1]));
      await idle(client);
      watchers.push(client);
    }

    // Step 1: \Deleted on message 1 reaches all three.
    await actor.command('STORE 1 +FLAGS (\\Deleted)');
    for (const w of watchers) await expectPushed(w, /^\* 1 FETCH \(FLAGS \([^)]*\\Deleted[^)]*\)\)$/);

    // Step 2: every toggle arrives, in order.
    for (let round = 0; round < 3; round++) {
      await actor.command('STORE 1 -FLAGS (\\Deleted)');
      for (const w of watchers) {
        const lines = await expectPushed(w, /^\* 1 FETCH \(FLAGS/);
        assert.doesNotMatch(lines[lines.length - 1], /\\Deleted/);
      }
      await actor.command('STORE 1 +FLAGS (\\Deleted)');
      for (const w of watchers) await expectPushed(w, /^\* 1 FETCH \(FLAGS \([^)]*\\Deleted/);
    }

    // Step 3: EXPUNGE reaches all.
    const ex = await actor.command('EXPUNGE');
    assert.deepEqual(ex.lines, ['* 1 EXPUNGE']);
    for (const w of watchers) await expectPushed(w, /^\* 1 EXPUNGE$/);

    // Step 4: a delivery from outside (tmp/ then rename into new/): the same EXISTS for
    // every client, \Recent for exactly one.
    await actor.command('UNSELECT');
    deliver(md, simpleMessage('delivered from outside'));
    const gained: number[] = [];
    for (const [i, w] of watchers.entries()) {
      const lines = await expectPushed(w, /^\* \d+ RECENT$/);
      assert.ok(lines.includes('* 5 EXISTS'), lines.join('\n'));
      gained.push(Number(/\d+/.exec(lines[lines.length - 1])![0]) - recentAtSelect[i]);
    }
    assert.deepEqual(gained.sort(), [0, 0, 1], 'exactly one client gets \\Recent for the new message');

    // All agree on the new message's UID.
    const uids = new Set<string>();
    for (const w of watchers) {
      w.send('DONE\r\n');
      await w.readResponseLine();
      const f = await w.command('FETCH 5 (UID)');
      uids.add(f.lines[0]);
    }
    assert.equal(uids.size, 1, [...uids].join(' | '));
  });
});

describe('two server processes on one Maildir', () => {
  let dir: string;
  let md: string;
  let a: Server;
  let b: Server;
  const sockets: net.Socket[] = [];

  before(async () => {
    dir = tempDir('two-servers');
    md = standardMaildir(path.join(dir, 'Maildir'), 3);
    [a, b] = await Promise.all([startServer(path.join(dir, 'data-a'), md), startServer(path.join(dir, 'data-b'), md)]);
  });
  after(async () => {
    for (const s of sockets) s.destroy();
    await Promise.all([a.stop(), b.stop()]);
    removeTree(dir);
  });

  it('notifies each other\'s IDLE clients with consistent UIDs', async () => {
    const onA = await connect(a.port);
    const onB = await connect(b.port);
    const actorA = await connect(a.port);
    const actorB = await connect(b.port);
    sockets.push(onA.socket, onB.socket, actorA.socket, actorB.socket);
    for (const c of [onA, onB, actorA, actorB]) await c.client.command('SELECT INBOX');
    await idle(onA.client);
    await idle(onB.client);

    // A flag change in server A reaches the IDLE client of server B, and the other way round.
    await actorA.client.command('STORE 2 +FLAGS (\\Flagged)');
    await expectPushed(onB.client, /^\* 2 FETCH \(FLAGS \([^)]*\\Flagged/);
    await expectPushed(onA.client, /^\* 2 FETCH \(FLAGS \([^)]*\\Flagged/);
    await actorB.client.command('STORE 3 +FLAGS (\\Answered)');
    await expectPushed(onA.client, /^\* 3 FETCH \(FLAGS \([^)]*\\Answered/);

    // Appends in both servers at the same time get different UIDs, and both sides agree.
    const [ra, rb] = await Promise.all([
      actorA.client.append('INBOX', simpleMessage('appended on A')),
      actorB.client.append('INBOX', simpleMessage('appended on B')),
    ]);
    assert.match(ra.tagged, /^OK/, ra.tagged);
    assert.match(rb.tagged, /^OK/, rb.tagged);
    const uidA = /APPENDUID \d+ (\d+)/.exec(ra.tagged)![1];
    const uidB = /APPENDUID \d+ (\d+)/.exec(rb.tagged)![1];
    assert.notEqual(uidA, uidB);
    for (const c of [onA.client, onB.client]) {
      await expectPushed(c, /^\* 5 EXISTS$/, 8000);
      c.send('DONE\r\n');
      await c.readResponseLine();
      const f = await c.command('FETCH 4:5 (UID)');
      const seen = f.lines.flatMap((l) => /^\* [45] FETCH \(UID (\d+)\)$/.exec(l)?.[1] ?? []).sort();
      assert.deepEqual(seen, [uidA, uidB].sort());
    }
  });
});
