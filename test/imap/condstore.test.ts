// CONDSTORE and QRESYNC (RFC 7162) on the wire, against imapd on real Maildirs: the grammar,
// the corner cases, modseqs that advance for changes of other processes and programs, VANISHED,
// and modseqs that survive a restart (imapd-ts.modseq).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnImapd, type SpawnedImapd } from '../helpers/imap-client.js';
import { deliver, emptyMaildir, removeTree, simpleMessage, tempDir } from '../helpers/maildir.js';

let dir: string;
before(() => {
  dir = tempDir('condstore');
});
after(() => removeTree(dir));

let count = 0;
function maildirWith(messages: number): string {
  const root = emptyMaildir(path.join(dir, `Maildir${++count}`));
  for (let i = 1; i <= messages; i++) deliver(root, simpleMessage(`message ${i}`));
  return root;
}

async function open(root: string): Promise<SpawnedImapd> {
  const imapd = spawnImapd(root);
  await imapd.client.greeting;
  return imapd;
}

function number(lines: readonly string[], pattern: RegExp): number {
  for (const line of lines) {
    const m = pattern.exec(line);
    if (m) return Number(m[1]);
  }
  throw new Error(`no ${pattern} in ${lines.join(' | ')}`);
}

const highestOf = (lines: readonly string[]): number => number(lines, /^\* OK \[HIGHESTMODSEQ (\d+)\]/);
const modseqOf = (lines: readonly string[], seq: number): number => number(lines, new RegExp(`^\\* ${seq} FETCH \\(.*MODSEQ \\((\\d+)\\)`));

/** Renames a message file in cur/ the way another mail program sets a flag. */
function renameWithFlags(root: string, index: number, letters: string): void {
  const cur = path.join(root, 'cur');
  const name = fs.readdirSync(cur).sort()[index];
  const base = name.split(':')[0];
  fs.renameSync(path.join(cur, name), path.join(cur, `${base}:2,${letters}`));
}

describe('CONDSTORE', () => {
  it('announces CONDSTORE and QRESYNC, ENABLEs them, and SELECT (CONDSTORE) reports HIGHESTMODSEQ', async () => {
    const imapd = await open(maildirWith(3));
    try {
      const c = imapd.client;
      const caps = await c.command('CAPABILITY');
      assert.match(caps.lines[0], / CONDSTORE /);
      assert.match(caps.lines[0], / QRESYNC /);
      const enabled = await c.command('ENABLE CONDSTORE');
      assert.deepEqual(enabled.lines, ['* ENABLED CONDSTORE']);
      assert.deepEqual((await c.command('ENABLE CONDSTORE')).lines, ['* ENABLED'], 'enabled once');
      const select = await c.command('SELECT INBOX (CONDSTORE)');
      assert.match(select.tagged, /^OK \[READ-WRITE\]/);
      const highest = highestOf(select.lines);
      assert.ok(highest > 0);
      const fetch = await c.command('FETCH 1:* (UID MODSEQ)');
      assert.equal(fetch.lines.length, 3);
      for (let seq = 1; seq <= 3; seq++) assert.ok(modseqOf(fetch.lines, seq) <= highest);
      // Grammar: unknown parameters and modifiers, a QRESYNC parameter without ENABLE QRESYNC.
      assert.match((await c.command('SELECT INBOX (FOO)')).tagged, /^BAD/);
      assert.match((await c.command('SELECT INBOX (QRESYNC (1 1))')).tagged, /^BAD/);
      assert.match((await c.command('FETCH 1 FLAGS (CHANGEDSINCE)')).tagged, /^BAD/);
      assert.match((await c.command('FETCH 1 FLAGS (CHANGEDSINCE x)')).tagged, /^BAD/);
      assert.match((await c.command('UID FETCH 1 FLAGS (CHANGEDSINCE 1 VANISHED)')).tagged, /^BAD/, 'VANISHED needs ENABLE QRESYNC');
      assert.match((await c.command('STORE 1 (UNCHANGEDSINCE) +FLAGS (\\Seen)')).tagged, /^BAD/);
      assert.match((await c.command('STATUS INBOX (HIGHESTMODSEQ)')).lines[0], /^\* STATUS "?INBOX"? \(HIGHESTMODSEQ \d+\)$/);
    } finally {
      await imapd.close();
    }
  });

  it('FETCH (CHANGEDSINCE) answers nothing without changes and only the changed message after a STORE', async () => {
    const imapd = await open(maildirWith(4));
    try {
      const c = imapd.client;
      const highest = highestOf((await c.command('SELECT INBOX (CONDSTORE)')).lines);
      const none = await c.command(`FETCH 1:* (FLAGS) (CHANGEDSINCE ${highest})`);
      assert.deepEqual(none.lines, []);
      assert.match(none.tagged, /^OK/);
      const stored = await c.command('STORE 3 +FLAGS (\\Flagged)');
      const after = modseqOf(stored.lines, 3);
      assert.ok(after > highest, 'a STORE gives a new modseq');
      assert.match(stored.lines[0], /^\* 3 FETCH \(FLAGS \(\\Flagged \\Recent\) MODSEQ \(\d+\)\)$/);
      const changed = await c.command(`UID FETCH 1:* (FLAGS) (CHANGEDSINCE ${highest})`);
      assert.deepEqual(changed.lines, [`* 3 FETCH (UID 3 FLAGS (\\Flagged \\Recent) MODSEQ (${after}))`]);
      // Storing what is there changes nothing: the modseq stays.
      const again = await c.command('STORE 3 +FLAGS (\\Flagged)');
      assert.equal(modseqOf(again.lines, 3), after);
      // SEARCH MODSEQ: the messages changed since, with the highest of their modseqs.
      assert.deepEqual((await c.command(`SEARCH MODSEQ ${highest + 1}`)).lines, [`* SEARCH 3 (MODSEQ ${after})`]);
      assert.deepEqual((await c.command(`UID SEARCH MODSEQ "/flags/\\\\flagged" all ${highest + 1}`)).lines, [`* SEARCH 3 (MODSEQ ${after})`]);
      assert.deepEqual((await c.command(`SEARCH MODSEQ ${after + 1}`)).lines, ['* SEARCH']);
    } finally {
      await imapd.close();
    }
  });

  it('FETCH (CHANGEDSINCE) keeps to the set named: ranges either way round, "*", UIDs, numbers beyond the mailbox', async () => {
    const imapd = await open(maildirWith(8));
    try {
      const c = imapd.client;
      const highest = highestOf((await c.command('SELECT INBOX (CONDSTORE)')).lines);
      await c.command('STORE 2,5,8 +FLAGS (\\Flagged)');
      await c.command('EXPUNGE'); // nothing: keeps the numbering
      const seqs = async (command: string): Promise<string[]> => (await c.command(command)).lines.map((l) => l.replace(/ MODSEQ \(\d+\)/, ''));
      assert.deepEqual(await seqs(`FETCH 1:* (FLAGS) (CHANGEDSINCE ${highest})`), ['* 2 FETCH (FLAGS (\\Flagged \\Recent))', '* 5 FETCH (FLAGS (\\Flagged \\Recent))', '* 8 FETCH (FLAGS (\\Flagged \\Recent))']);
      assert.deepEqual(await seqs(`FETCH 6:3 (FLAGS) (CHANGEDSINCE ${highest})`), ['* 5 FETCH (FLAGS (\\Flagged \\Recent))']);
      assert.deepEqual(await seqs(`FETCH *,1:2 (UID) (CHANGEDSINCE ${highest})`), ['* 2 FETCH (UID 2)', '* 8 FETCH (UID 8)']);
      assert.deepEqual(await seqs(`UID FETCH 5:* (UID) (CHANGEDSINCE ${highest})`), ['* 5 FETCH (UID 5)', '* 8 FETCH (UID 8)']);
      assert.deepEqual(await seqs(`UID FETCH 100:* (UID) (CHANGEDSINCE ${highest})`), ['* 8 FETCH (UID 8)'], '"*" is the highest UID even below 100');
      assert.deepEqual(await seqs(`UID FETCH 3,6,9:20 (UID) (CHANGEDSINCE ${highest})`), []);
      assert.deepEqual(await seqs(`FETCH 1:* (UID) (CHANGEDSINCE 0)`), [1, 2, 3, 4, 5, 6, 7, 8].map((n) => `* ${n} FETCH (UID ${n})`));
      assert.match((await c.command(`FETCH 2:9 (FLAGS) (CHANGEDSINCE ${highest})`)).tagged, /^(BAD|NO)/, 'no message 9');
    } finally {
      await imapd.close();
    }
  });

  it('STORE (UNCHANGEDSINCE) leaves changed messages alone and names them in MODIFIED', async () => {
    const imapd = await open(maildirWith(5));
    try {
      const c = imapd.client;
      const highest = highestOf((await c.command('SELECT INBOX (CONDSTORE)')).lines);
      const first = modseqOf((await c.command('STORE 2,4 +FLAGS (\\Seen)')).lines, 2);
      const conditional = await c.command(`STORE 1:5 (UNCHANGEDSINCE ${highest}) +FLAGS.SILENT (\\Deleted)`);
      assert.match(conditional.tagged, /^OK \[MODIFIED 2,4\]/);
      // .SILENT with CONDSTORE: MODSEQ alone for the messages this STORE changed (RFC 7162 3.1.3).
      assert.deepEqual(conditional.lines.map((l) => l.replace(/\d+\)\)$/, 'n))')), ['* 1 FETCH (MODSEQ (n))', '* 3 FETCH (MODSEQ (n))', '* 5 FETCH (MODSEQ (n))']);
      const flags = await c.command('FETCH 1:5 (FLAGS MODSEQ)');
      assert.match(flags.lines[1], /^\* 2 FETCH \(FLAGS \(\\Seen \\Recent\) MODSEQ \(\d+\)\)$/, 'message 2 was not given \\Deleted');
      assert.match(flags.lines[0], /\\Deleted/);
      assert.equal(modseqOf(flags.lines, 2), first);
      // UID STORE names UIDs; UNCHANGEDSINCE 0 always fails (RFC 7162 3.1.3).
      const zero = await c.command('UID STORE 3 (UNCHANGEDSINCE 0) +FLAGS (\\Answered)');
      assert.match(zero.tagged, /^OK \[MODIFIED 3\]/);
      assert.deepEqual(zero.lines, []);
      const current = modseqOf((await c.command('FETCH 3 MODSEQ')).lines, 3);
      const ok = await c.command(`UID STORE 3 (UNCHANGEDSINCE ${current}) +FLAGS (\\Answered)`);
      assert.match(ok.tagged, /^OK STORE completed/);
      assert.ok(modseqOf(ok.lines, 3) > current);
    } finally {
      await imapd.close();
    }
  });

  it("advances for another process's STORE and for a rename in cur/ by another program", async () => {
    const root = maildirWith(3);
    const a = await open(root);
    const b = await open(root);
    try {
      const highest = highestOf((await a.client.command('SELECT INBOX (CONDSTORE)')).lines);
      await b.client.command('SELECT INBOX');
      await b.client.command('STORE 1 +FLAGS (\\Answered)');
      // The other process's change reaches this one (watcher, or NOOP) with a new modseq.
      let noop = await a.client.command('NOOP');
      for (let i = 0; i < 20 && !noop.lines.some((l) => l.startsWith('* 1 FETCH')); i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        noop = await a.client.command('NOOP');
      }
      const fromB = modseqOf(noop.lines, 1);
      assert.ok(fromB > highest);
      assert.match(noop.lines.find((l) => l.startsWith('* 1 FETCH'))!, /FLAGS \(\\Answered \\Recent\) MODSEQ/);
      // A program renames a file (Courier setting \Flagged).
      renameWithFlags(root, 1, 'F');
      let seen = await a.client.command('NOOP');
      for (let i = 0; i < 20 && !seen.lines.some((l) => l.startsWith('* 2 FETCH')); i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        seen = await a.client.command('NOOP');
      }
      const renamed = modseqOf(seen.lines, 2);
      assert.ok(renamed > fromB, 'the rename gets a modseq above the last one');
      // The other process agrees on both (one log on disk), and its HIGHESTMODSEQ covers them.
      let inB = await b.client.command('FETCH 1:2 MODSEQ');
      for (let i = 0; i < 20 && modseqOf(inB.lines, 2) !== renamed; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        await b.client.command('NOOP');
        inB = await b.client.command('FETCH 1:2 MODSEQ');
      }
      assert.equal(modseqOf(inB.lines, 1), fromB);
      assert.equal(modseqOf(inB.lines, 2), renamed);
      const status = await a.client.command('STATUS INBOX (HIGHESTMODSEQ)');
      assert.equal(number(status.lines, /HIGHESTMODSEQ (\d+)/), renamed);
      const changed = await a.client.command(`FETCH 1:* (FLAGS) (CHANGEDSINCE ${highest})`);
      assert.equal(changed.lines.length, 2);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('keeps modseqs across a restart, and a change made while no imapd ran gets a higher one', async () => {
    const root = maildirWith(3);
    let a = await open(root);
    let before: string[];
    let highest: number;
    try {
      highest = highestOf((await a.client.command('SELECT INBOX (CONDSTORE)')).lines);
      await a.client.command('STORE 2 +FLAGS (\\Seen)');
      before = (await a.client.command('FETCH 1:* (UID MODSEQ)')).lines;
      highest = highestOf((await a.client.command('SELECT INBOX (CONDSTORE)')).lines);
    } finally {
      await a.close();
    }
    assert.ok(fs.existsSync(path.join(root, 'imapd-ts.modseq')));
    a = await open(root);
    try {
      const select = await a.client.command('SELECT INBOX (CONDSTORE)');
      assert.equal(highestOf(select.lines), highest);
      assert.deepEqual((await a.client.command('FETCH 1:* (UID MODSEQ)')).lines, before);
    } finally {
      await a.close();
    }
    renameWithFlags(root, 2, 'S');
    a = await open(root);
    try {
      const select = await a.client.command('SELECT INBOX (CONDSTORE)');
      assert.ok(highestOf(select.lines) > highest);
      const changed = await a.client.command(`FETCH 1:* (FLAGS) (CHANGEDSINCE ${highest})`);
      assert.deepEqual(changed.lines.map((l) => l.replace(/MODSEQ \(\d+\)/, 'MODSEQ (n)')), ['* 3 FETCH (FLAGS (\\Seen) MODSEQ (n))']);
    } finally {
      await a.close();
    }
  });
});

describe('QRESYNC', () => {
  it('reports EXPUNGE as VANISHED after ENABLE QRESYNC, and flag changes with UID and MODSEQ', async () => {
    const root = maildirWith(6);
    const a = await open(root);
    const b = await open(root);
    try {
      await a.client.command('ENABLE QRESYNC');
      await a.client.command('SELECT INBOX');
      await a.client.command('STORE 2:4,6 +FLAGS.SILENT (\\Deleted)');
      const expunge = await a.client.command('EXPUNGE');
      assert.deepEqual(expunge.lines, ['* VANISHED 2:4,6']);
      assert.match(expunge.tagged, /^OK \[HIGHESTMODSEQ \d+\]/);
      // Another process's flag change: UID and MODSEQ in the unsolicited FETCH.
      await b.client.command('SELECT INBOX');
      await b.client.command('STORE 2 +FLAGS (\\Flagged)');
      let noop = await a.client.command('NOOP');
      for (let i = 0; i < 20 && !noop.lines.length; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        noop = await a.client.command('NOOP');
      }
      assert.match(noop.lines[0], /^\* 2 FETCH \(UID 5 FLAGS \(\\Flagged \\Recent\) MODSEQ \(\d+\)\)$/);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('SELECT (QRESYNC ...) answers VANISHED (EARLIER) and the changed messages, with and without known UIDs', async () => {
    const root = maildirWith(8);
    let validity: number;
    let highest: number;
    const a = await open(root);
    try {
      const select = await a.client.command('SELECT INBOX (CONDSTORE)');
      validity = number(select.lines, /UIDVALIDITY (\d+)/);
      highest = highestOf(select.lines);
      await a.client.command('STORE 2,3,5 +FLAGS.SILENT (\\Deleted)');
      await a.client.command('EXPUNGE');
      await a.client.command('UID STORE 7 +FLAGS (\\Seen)');
    } finally {
      await a.close();
    }
    const b = await open(root);
    try {
      const c = b.client;
      await c.command('ENABLE QRESYNC');
      const full = await c.command(`SELECT INBOX (QRESYNC (${validity} ${highest}))`);
      const tail = full.lines.slice(full.lines.findIndex((l) => l.startsWith('* OK [HIGHESTMODSEQ')) + 1);
      assert.deepEqual(tail.map((l) => l.replace(/MODSEQ \(\d+\)/, 'MODSEQ (n)')), [
        '* VANISHED (EARLIER) 2:3,5',
        '* 4 FETCH (UID 7 FLAGS (\\Seen) MODSEQ (n))',
      ]);
      // Known UIDs narrow both answers; [CLOSED] tells the previous mailbox was closed.
      const narrow = await c.command(`EXAMINE INBOX (QRESYNC (${validity} ${highest} 1:4))`);
      assert.equal(narrow.lines[0], '* OK [CLOSED] Previous mailbox closed.');
      assert.ok(narrow.lines.includes('* VANISHED (EARLIER) 2:3'));
      assert.ok(!narrow.lines.some((l) => l.includes('FETCH')));
      // Nothing changed since the current HIGHESTMODSEQ: nothing but the usual answer.
      const now = highestOf(full.lines);
      const quiet = await c.command(`SELECT INBOX (QRESYNC (${validity} ${now} 1:8))`);
      assert.ok(!quiet.lines.some((l) => l.includes('VANISHED') || l.includes('FETCH')));
      // Another UIDVALIDITY: the parameter is ignored.
      const other = await c.command(`SELECT INBOX (QRESYNC (${validity + 1} ${highest}))`);
      assert.ok(!other.lines.some((l) => l.includes('VANISHED') || l.includes('FETCH')));
      // UID FETCH (CHANGEDSINCE n VANISHED): the UIDs of the set gone since, then what changed.
      const fetch = await c.command(`UID FETCH 1:6 (FLAGS) (CHANGEDSINCE ${highest} VANISHED)`);
      assert.deepEqual(fetch.lines, ['* VANISHED (EARLIER) 2:3,5']);
    } finally {
      await b.close();
    }
  });

  it('falls back to every known UID not in the mailbox for a modseq older than what is remembered, narrowed by seq-match', async () => {
    const root = maildirWith(6);
    const a = await open(root);
    try {
      const c = a.client;
      await c.command('ENABLE QRESYNC');
      const select = await c.command('SELECT INBOX');
      const validity = number(select.lines, /UIDVALIDITY (\d+)/);
      await c.command('STORE 2,5 +FLAGS.SILENT (\\Deleted)');
      await c.command('EXPUNGE');
      // Modseq 1 is older than the log (it starts from the clock): every known UID not there.
      const old = await c.command(`SELECT INBOX (QRESYNC (${validity} 1 1:10))`);
      assert.ok(old.lines.includes('* VANISHED (EARLIER) 2,5'), old.lines.join('\n'));
      assert.equal(old.lines.filter((l) => l.includes(' FETCH ')).length, 4, 'every message changed since modseq 1');
      // The client's numbering still holds up to UID 1 (seq 1) but not at UID 3 (seq 3, now 2).
      const matched = await c.command(`SELECT INBOX (QRESYNC (${validity} 1 1:10 (1,3 1,3)))`);
      assert.ok(matched.lines.includes('* VANISHED (EARLIER) 2,5'));
      // Its numbering holds up to UID 4 (seq 3 is UID 4 now): only UIDs above it are looked at.
      const later = await c.command(`SELECT INBOX (QRESYNC (${validity} 1 1:10 (1,3 1,4)))`);
      assert.ok(later.lines.includes('* VANISHED (EARLIER) 5'), later.lines.join('\n'));
    } finally {
      await a.close();
    }
  });
});
