// How a session is told of other sessions' changes (issue 11, bugs 1 and 2), with two
// sessions of one network server (in-process fan-out) and with two `imapd` processes on
// one Maildir (the file watcher). Every response goes through the UntaggedChecker; the
// scripts are the ones that failed, and Dovecot's answer is the expected order.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { commandOk, sessionPair, type CheckedSession, type PairMode } from '../helpers/checked-client.js';
import { dovecotSkip, peerScript } from '../helpers/peers.js';
import { simpleMessage } from '../helpers/maildir.js';
import { startOneAccountServer, type OneAccountServer } from '../helpers/network-server.js';

let maildir: string;
let port: number;
let world: OneAccountServer;
let folderCounter = 0;

before(async () => {
  world = await startOneAccountServer('updates');
  ({ maildir, port } = world);
});

after(() => world.stop());

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type Mode = PairMode;

const pair = (mode: Mode) => sessionPair(mode, port, maildir, peerScript('dovecot-preauth.sh'));

const ok = commandOk;

async function append(session: CheckedSession, folder: string, subject: string, extra = ''): Promise<string[]> {
  const reply = await session.append(folder, simpleMessage(subject), extra);
  assert.match(reply.tagged, /^OK/, `${session.name}: APPEND -> ${reply.tagged}`);
  return reply.lines;
}

/** A new folder holding `count` messages, selected by both sessions. */
async function setUp(a: CheckedSession, b: CheckedSession, count: number): Promise<string> {
  const folder = `INBOX.u${++folderCounter}`;
  await ok(b, `CREATE ${folder}`);
  for (let i = 1; i <= count; i++) await append(b, folder, `message ${i}`);
  await ok(a, `SELECT ${folder}`);
  assert.equal(a.check.count, count);
  await ok(b, `SELECT ${folder}`);
  return folder;
}

/** The kind of each untagged line: "FLAGS", "PERMANENTFLAGS", "1 EXPUNGE", "4 EXISTS", "4 FETCH". */
function kinds(lines: string[]): string[] {
  return lines.map((line) => {
    if (/^\* OK \[PERMANENTFLAGS/.test(line)) return 'PERMANENTFLAGS';
    const m = /^\* (\d+ )?([A-Z]+)/.exec(line);
    return m ? `${m[1] ?? ''}${m[2]}` : line;
  });
}

// Dovecot runs the same scripts: the checker and the expected orders hold for the reference too.
for (const mode of ['network', 'processes', 'dovecot'] as const) {
  // Across processes, each change of B reaches A through A's file watcher: wait for it, so
  // that A holds them as separate changes, as it does in one process.
  const settle = () => sleep(mode === 'network' ? 0 : 400);
  // Whether A is sure to have been told of B's changes before its next command. Across
  // processes only NOOP, CHECK, IDLE and APPEND look at the disk themselves; otherwise it
  // is the watcher's turn, which a loaded machine may delay beyond settle().
  const prompt = mode === 'network';

  describe(`updates from another session (${mode})`, { skip: mode === 'dovecot' ? dovecotSkip : false }, () => {
    it('APPEND after another session appended, flagged and expunged: FLAGS, PERMANENTFLAGS, 1 EXPUNGE, 4 EXISTS (as Dovecot)', async () => {
      const [a, b] = await pair(mode);
      try {
        const folder = await setUp(a, b, 3);
        await append(b, folder, 'from B');
        await settle();
        await ok(b, 'STORE 4 +FLAGS (\\Flagged \\Seen $Label1)');
        await settle();
        await ok(b, 'STORE 1 +FLAGS (\\Deleted)');
        await settle();
        await ok(b, 'EXPUNGE');
        await settle();
        const lines = await append(a, folder, 'from A');
        a.check.assertClean();
        b.check.assertClean();
        const seen = kinds(lines).filter((k) => !/^\d+ RECENT$/.test(k));
        assert.deepEqual(seen, ['FLAGS', 'PERMANENTFLAGS', '1 EXPUNGE', '4 EXISTS'], lines.join('\n'));
        assert.match(lines[0], /\$Label1/);
        // The new messages' flags, asked for, with A's numbering.
        const fetched = await ok(a, 'FETCH 3:4 (UID FLAGS)');
        assert.match(fetched.join('\n'), /^\* 3 FETCH \(UID \d+ FLAGS \([^)]*\$Label1/m);
        a.check.assertClean();
      } finally {
        await a.close();
        await b.close();
      }
    });

    it('a message appended and expunged by another session is never reported (no 13 EXPUNGE in a session that knows 12)', async () => {
      const [a, b] = await pair(mode);
      try {
        const folder = await setUp(a, b, 12);
        await append(b, folder, 'short-lived');
        await settle();
        await ok(b, 'STORE 13 +FLAGS (\\Deleted $Gone)');
        await settle();
        await ok(b, 'EXPUNGE');
        await settle();
        const lines = await ok(a, 'NOOP');
        a.check.assertClean();
        assert.ok(!lines.some((l) => /EXPUNGE|FETCH/.test(l)), lines.join('\n'));
        assert.equal(a.check.count, 12);
      } finally {
        await a.close();
        await b.close();
      }
    });

    it('EXPUNGE in a session that knows 0 messages: EXISTS before any FETCH, keywords announced first', async () => {
      const [a, b] = await pair(mode);
      try {
        const folder = await setUp(a, b, 0);
        for (let i = 1; i <= 3; i++) {
          await append(b, folder, `new ${i}`);
          await settle();
        }
        await ok(b, 'NOOP');
        await ok(b, 'STORE 3 +FLAGS (\\Answered $Label2)');
        await settle();
        const lines = await ok(a, 'EXPUNGE');
        a.check.assertClean();
        const seen = kinds(lines);
        if (prompt) assert.ok(seen.includes('3 EXISTS'), lines.join('\n'));
        const fetch = seen.indexOf('3 FETCH');
        if (fetch >= 0) assert.ok(fetch > seen.indexOf('3 EXISTS') && fetch > seen.indexOf('FLAGS'), lines.join('\n'));
        await ok(a, 'NOOP');
        a.check.assertClean();
        assert.equal(a.check.count, 3);
      } finally {
        await a.close();
        await b.close();
      }
    });

    it('STORE of new keywords: FLAGS and PERMANENTFLAGS come before the FETCH that shows them', async () => {
      const [a, b] = await pair(mode);
      try {
        await setUp(a, b, 2);
        const lines = await ok(a, 'STORE 1 +FLAGS (\\Draft $Label3 $Label4)');
        a.check.assertClean();
        assert.deepEqual(kinds(lines), ['FLAGS', 'PERMANENTFLAGS', '1 FETCH'], lines.join('\n'));
        assert.match(lines[0], /\$Label3 \$Label4/);
        // A keyword another session set on a message we STORE to shows in our answer: announced first too.
        await ok(b, 'STORE 2 +FLAGS ($Label5)');
        await settle();
        const second = await ok(a, 'STORE 2 +FLAGS (\\Seen)');
        a.check.assertClean();
        if (prompt) assert.match(second.join('\n'), /\$Label5/);
      } finally {
        await a.close();
        await b.close();
      }
    });

    it('during a non-UID FETCH, flag updates use the numbering the session has; the EXPUNGE waits for NOOP', async () => {
      const [a, b] = await pair(mode);
      try {
        const folder = await setUp(a, b, 3);
        await ok(b, 'STORE 3 +FLAGS ($Label6)');
        await settle();
        await ok(b, 'STORE 1 +FLAGS (\\Deleted)');
        await ok(b, 'EXPUNGE');
        await settle();
        await ok(b, 'STORE 1 +FLAGS (\\Answered)'); // UID 2, message 2 for A
        await settle();
        await append(b, folder, 'after the expunge'); // UID 4
        await settle();
        const fetched = await ok(a, 'FETCH 1:3 (UID FLAGS)');
        a.check.assertClean();
        assert.ok(!fetched.some((l) => /EXPUNGE/.test(l)), fetched.join('\n'));
        // The expunged message keeps its number until it may be reported: the new one is the 4th.
        if (prompt) assert.ok(fetched.includes('* 4 EXISTS'), fetched.join('\n'));
        const noop = await ok(a, 'NOOP');
        a.check.assertClean();
        assert.deepEqual(kinds(noop).filter((k) => k.endsWith('EXPUNGE')), ['1 EXPUNGE'], noop.join('\n'));
        assert.equal(a.check.count, 3);
        const final = (await ok(a, 'FETCH 1:3 (UID FLAGS)')).join('\n');
        assert.match(final, /^\* 1 FETCH \(UID 2 FLAGS \([^)]*\\Answered/m);
        assert.match(final, /^\* 2 FETCH \(UID 3 FLAGS \([^)]*\$Label6/m);
        assert.match(final, /^\* 3 FETCH \(UID 4 FLAGS/m);
        a.check.assertClean();
      } finally {
        await a.close();
        await b.close();
      }
    });
  });
}
