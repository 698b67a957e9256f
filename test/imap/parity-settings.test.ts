// Settings whose behaviour had drifted from Courier's (issue 12), each run on our stdio imapd
// and, where Courier has the behaviour, on Courier's imapd beside it with the same setting.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { deliver, emptyMaildir, removeTree, tempDir } from '../helpers/maildir.js';
import { PEERS } from '../helpers/peers.js';
import { spawnImapd, type SpawnedImapd } from '../helpers/imap-client.js';
import { sideBySide, status, type SideBySide } from '../helpers/side-by-side.js';

const MESSAGE = 'From: a@example.com\nTo: b@example.com\nSubject: hello\n\nbody\n';

function baseMaildir(dir: string): string {
  const base = emptyMaildir(path.join(dir, 'base'));
  fs.writeFileSync(path.join(base, 'cur', '1000000000.M1P1.test:2,S'), MESSAGE);
  for (const folder of ['.Trash', '.Sent']) {
    emptyMaildir(path.join(base, folder));
    fs.writeFileSync(path.join(base, folder, 'maildirfolder'), '');
  }
  return base;
}

/** Each test gets its own pair of servers on fresh copies, started with `env`. */
async function withPeers(name: string, env: Record<string, string>, body: (peers: SideBySide, dir: string) => Promise<void>): Promise<void> {
  const dir = tempDir(name);
  const peers = await sideBySide(baseMaildir(dir), dir, env);
  try {
    await body(peers, dir);
  } finally {
    await peers.close();
    removeTree(dir);
  }
}

const capabilityOf = (lines: string[]) => lines.find((l) => l.startsWith('* CAPABILITY '))!.split(' ').slice(2);

describe('IMAP_DISABLETHREADSORT, beside Courier', () => {
  it('keeps SORT and THREAD announced and refuses the commands', () =>
    withPeers('threadsort', { IMAP_DISABLETHREADSORT: '1' }, async (peers) => {
      const caps = await peers.both('CAPABILITY');
      for (const reply of [caps.ours, caps.courier]) {
        if (!reply) continue;
        const words = capabilityOf(reply.lines);
        assert.ok(words.includes('SORT') && words.includes('THREAD=REFERENCES'), words.join(' '));
      }
      await peers.both('SELECT INBOX');
      for (const command of ['SORT (DATE) UTF-8 ALL', 'THREAD REFERENCES UTF-8 ALL', 'UID SORT (ARRIVAL) UTF-8 ALL']) {
        const { ours, courier } = await peers.both(command);
        assert.equal(ours.tagged, 'NO This command is disabled by the system administrator.', command);
        if (courier) assert.equal(courier.tagged, ours.tagged, command);
      }
    }));
});

describe('the Trash folder, beside Courier', () => {
  it('refuses to delete it', () =>
    withPeers('trash-delete', {}, async (peers, dir) => {
      const { ours, courier } = await peers.both('DELETE INBOX.Trash');
      assert.equal(status(ours), 'NO');
      assert.match(ours.tagged, /Cannot delete this folder\.$/);
      if (courier) assert.equal(courier.tagged, 'NO Cannot delete this folder.');
      assert.ok(fs.existsSync(path.join(dir, 'ours', '.Trash', 'cur')));
      // (Ours alone: Courier takes four seconds over a DELETE.)
      const other = await peers.ours.client.command('DELETE INBOX.Sent');
      assert.equal(status(other), 'OK', 'other folders still go');
    }));

  it('follows IMAP_TRASHFOLDERNAME', () =>
    withPeers('trash-name', { IMAP_TRASHFOLDERNAME: 'Sent' }, async (peers) => {
      const { ours, courier } = await peers.both('DELETE INBOX.Sent');
      assert.equal(status(ours), 'NO');
      if (courier) assert.equal(courier.tagged, 'NO Cannot delete this folder.');
      assert.equal(status(await peers.ours.client.command('DELETE INBOX.Trash')), 'OK');
    }));
});

describe('GETQUOTA "", beside Courier', () => {
  it('answers the empty quota root with no resources', () =>
    withPeers('quota-root', {}, async (peers) => {
      const { ours, courier } = await peers.both('GETQUOTA ""');
      assert.equal(status(ours), 'OK', ours.tagged);
      // RFC 2087 section 5.1 requires the parenthesized list; Courier leaves it out.
      assert.deepEqual(ours.lines, ['* QUOTA "" ()']);
      if (courier) {
        assert.equal(status(courier), 'OK');
        assert.deepEqual(courier.lines, ['* QUOTA ""']);
      }
    }));
});

describe('IMAP_ID_FIELDS, beside Courier', () => {
  const idFields = (lines: string[]) => {
    const line = lines.find((l) => l.startsWith('* ID '));
    return line === undefined ? [] : [...line.matchAll(/"([^"]*)" "[^"]*"/g)].map((m) => m[1]);
  };

  it('without it, ID is neither announced nor answered', () =>
    withPeers('id-unset', {}, async (peers) => {
      const caps = await peers.both('CAPABILITY');
      assert.ok(!capabilityOf(caps.ours.lines).includes('ID'));
      if (caps.courier) assert.ok(!capabilityOf(caps.courier.lines).includes('ID'));
      const { ours, courier } = await peers.both('ID NIL');
      assert.notEqual(status(ours), 'OK');
      assert.deepEqual(ours.lines, []);
      if (courier) assert.notEqual(status(courier), 'OK');
    }));

  for (const [value, expected] of [
    ['0', ['name']],
    ['1', ['name', 'version']],
    ['3', ['name', 'version', 'os']],
    ['7', ['name', 'version', 'os', 'os-version']],
  ] as const) {
    it(`IMAP_ID_FIELDS=${value} announces ID and reveals ${expected.join(', ')}`, () =>
      withPeers('id-set', { IMAP_ID_FIELDS: value }, async (peers) => {
        const caps = await peers.both('CAPABILITY');
        assert.ok(capabilityOf(caps.ours.lines).includes('ID'));
        if (caps.courier) assert.ok(capabilityOf(caps.courier.lines).includes('ID'));
        const { ours, courier } = await peers.both('ID NIL');
        assert.deepEqual(idFields(ours.lines), expected);
        // Courier adds its vendor, which we have none of.
        if (courier) assert.deepEqual(idFields(courier.lines).filter((f) => f !== 'vendor'), expected);
      }));
  }
});

describe('IMAP_ENHANCEDIDLE=0, beside Courier', () => {
  it('reports new mail during IDLE at the next IMAP_IDLE_TIMEOUT check, not at once', () =>
    withPeers('idle-poll', { IMAP_ENHANCEDIDLE: '0', IMAP_IDLE_TIMEOUT: '3' }, async (peers, dir) => {
      await peers.both('SELECT INBOX');
      const servers = [peers.ours, peers.courier].filter((s): s is SpawnedImapd => s !== null);
      for (const s of servers) s.client.send('i1 IDLE\r\n');
      for (const s of servers) assert.match((await s.client.readResponseLine()).toString(), /^\+ /);
      const started = Date.now();
      deliver(path.join(dir, 'ours'), MESSAGE);
      if (peers.courier) deliver(path.join(dir, 'courier'), MESSAGE);
      // Nothing for the first second and a half (real time would report within milliseconds)...
      await Promise.all(servers.map((s) => assert.rejects(s.client.readResponseLine(1500), /timeout/)));
      for (const s of servers) {
        // ...then the check finds it (3 s after IDLE began, with room for a loaded machine).
        const line = (await s.client.readResponseLine(10_000)).toString();
        assert.match(line, /^\* 2 EXISTS$/);
        assert.ok(Date.now() - started >= 1400, `${Date.now() - started} ms`);
      }
      for (const s of servers) {
        s.client.send('DONE\r\n');
        assert.match((await s.client.readUntilTagged('i1')).tagged, /^OK/);
      }
    }));

  it('with 1 (ours), reports new mail at once', async () => {
    const dir = tempDir('idle-enhanced');
    const server = spawnImapd(baseMaildir(dir), { IMAP_ENHANCEDIDLE: '1', IMAP_IDLE_TIMEOUT: '60' });
    try {
      await server.client.greeting;
      await server.client.command('SELECT INBOX');
      server.client.send('i1 IDLE\r\n');
      await server.client.readResponseLine();
      deliver(path.join(dir, 'base'), MESSAGE);
      assert.match((await server.client.readResponseLine(5000)).toString(), /^\* 2 EXISTS$/);
      server.client.send('DONE\r\n');
      await server.client.readUntilTagged('i1');
    } finally {
      await server.close();
      removeTree(dir);
    }
  });
});

/** Builds test/peers/clock-shift.c, or says why it cannot. */
function clockShift(dir: string): string | null {
  try {
    const lib = path.join(dir, 'clock-shift.so');
    execFileSync('gcc', ['-shared', '-fPIC', '-O2', '-o', lib, path.join(PEERS, 'clock-shift.c'), '-ldl'], { stdio: 'pipe' });
    return lib;
  } catch {
    return null;
  }
}

describe('IMAP_EMPTYTRASH in the stdio imapd, beside Courier', () => {
  let dir: string;
  let lib: string | null;
  before(() => {
    dir = tempDir('emptytrash');
    lib = clockShift(dir);
  });
  after(() => removeTree(dir));

  it('purges old Trash messages at login and at logout', async (t) => {
    if (!lib) return t.skip('gcc is needed to build test/peers/clock-shift.c');
    // Eight days from now, a message moved to Trash today is older than Trash:7: our clock moves
    // forward, Courier's files age instead (see clock-shift.c).
    const eightDays = String(8 * 86400);
    const env = { IMAP_EMPTYTRASH: 'Trash:7', LD_PRELOAD: lib, CLOCK_SHIFT_SECONDS: eightDays };
    const base = baseMaildir(path.join(dir, 'run'));
    fs.writeFileSync(path.join(base, '.Trash', 'cur', '1000000001.M1P1.test:2,S'), MESSAGE);
    fs.mkdirSync(path.join(dir, 'run'), { recursive: true });
    const peers = await sideBySide(base, path.join(dir, 'run'), env, { IMAP_EMPTYTRASH: 'Trash:7', LD_PRELOAD: lib, CTIME_SHIFT_SECONDS: eightDays });
    const trash = (who: string) => fs.readdirSync(path.join(dir, 'run', who, '.Trash', 'cur')).concat(fs.readdirSync(path.join(dir, 'run', who, '.Trash', 'new')));
    const who = peers.courier ? ['ours', 'courier'] : ['ours'];
    try {
      // At login (ours purges just after the greeting): a NOOP, then the folder is looked at.
      const deadline = Date.now() + 5000;
      await peers.both('NOOP');
      while (who.some((w) => trash(w).length > 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      for (const w of who) assert.deepEqual(trash(w), [], `${w} at login`);
      // Moved to Trash during the session: gone once the session ends.
      for (const w of who) deliver(path.join(dir, 'run', w), MESSAGE, '.Trash');
      await peers.close();
      for (const w of who) assert.deepEqual(trash(w), [], `${w} at logout`);
      assert.equal(fs.readdirSync(path.join(dir, 'run', 'ours', 'cur')).length, 1, 'INBOX untouched');
    } finally {
      await peers.close();
    }
  });

  it('leaves Trash alone without IMAP_EMPTYTRASH (as Courier\'s imapd)', async () => {
    const base = baseMaildir(path.join(dir, 'unset'));
    fs.writeFileSync(path.join(base, '.Trash', 'cur', '1000000001.M1P1.test:2,S'), MESSAGE);
    const env: Record<string, string> = lib ? { LD_PRELOAD: lib, CLOCK_SHIFT_SECONDS: String(8 * 86400) } : {};
    const server = spawnImapd(base, env);
    await server.client.greeting;
    await server.client.command('NOOP');
    await server.close();
    assert.equal(fs.readdirSync(path.join(base, '.Trash', 'cur')).length, 1);
  });
});

describe('settings the stdio imapd does not apply', () => {
  it('are reported on standard error, as imapd-server reports them', async () => {
    const dir = tempDir('stdio-warn');
    const server = spawnImapd(baseMaildir(dir), { TLS_PRIORITY: 'NORMAL', TCPDOPTS: '-nodnslookup' });
    try {
      await server.client.greeting;
      await server.client.command('NOOP');
    } finally {
      await server.close();
      removeTree(dir);
    }
    const stderr = server.stderr();
    assert.match(stderr, /imapd: warning: environment: TLS_PRIORITY: GnuTLS priority strings are not understood/);
    assert.match(stderr, /imapd: note: Courier settings with no effect here: TCPDOPTS/);
  });
});
