// CONDSTORE and QRESYNC (RFC 7162) against Dovecot: the same steps on copies of one Maildir,
// answers compared line by line. Mod-sequence numbers differ between servers (Dovecot counts
// from 1, we from the clock): each is replaced by its rank among the numbers that server gave
// in the whole run, so that what must agree does: which messages changed after which, that a
// STORE gives its messages one new modseq above HIGHESTMODSEQ, that HIGHESTMODSEQ rises with
// every change and expunge and covers what FETCH and SEARCH report.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { copyTree, emptyMaildir, removeTree, simpleMessage, tempDir } from '../../helpers/maildir.js';
import { spawnDovecot, spawnImapd, type SpawnedImapd } from '../../helpers/imap-client.js';
import { dovecotSkip } from '../../helpers/peers.js';

const MODSEQ = /(MODSEQ \(|HIGHESTMODSEQ |MODSEQ )(\d+)/g;

/** What one server answered, step by step: untagged lines and the tagged status with its response code. */
interface Transcript {
  steps: { command: string; lines: string[]; tagged: string }[];
}

/** The same client steps on one server; numbers the later steps need come from its own answers. */
async function session(start: () => SpawnedImapd): Promise<Transcript> {
  const transcript: Transcript = { steps: [] };
  let server = start();
  await server.client.greeting;
  // Numbers taken from the server's answers, by name: commands are recorded with {name}.
  const names = new Map<string, string>();
  const run = async (template: string): Promise<string[]> => {
    const command = template.replace(/\{([\w+]+)\}/g, (_, name: string) => {
      const value = names.get(name);
      if (value === undefined) throw new Error(`no ${name} yet`);
      return value;
    });
    const reply = await server.client.command(command);
    const code = /^(OK|NO|BAD)( \[[^\]]*\])?/.exec(reply.tagged);
    // Dovecot warns of STATUS on the selected mailbox with [CLIENTBUG] (RFC 9051 6.3.11 discourages it).
    transcript.steps.push({ command: template, lines: reply.lines, tagged: (code ? code[0] : reply.tagged).replace(' [CLIENTBUG]', '') });
    return reply.lines;
  };
  const find = (lines: string[], pattern: RegExp): number => Number(lines.map((l) => pattern.exec(l)?.[1]).find(Boolean));
  try {
    const select = await run('SELECT INBOX (CONDSTORE)');
    const validity = find(select, /\[UIDVALIDITY (\d+)\]/);
    const h0 = find(select, /\[HIGHESTMODSEQ (\d+)\]/);
    names.set('validity', String(validity)).set('h0', String(h0)).set('h0+1', String(h0 + 1)).set('validity+1', String(validity + 1));
    await run('FETCH 1:* (UID MODSEQ)');
    await run('STORE 2,4 +FLAGS (\\Seen)');
    await run('STORE 1:6 (UNCHANGEDSINCE {h0}) +FLAGS.SILENT (\\Deleted)');
    await run('UID STORE 7 (UNCHANGEDSINCE 0) +FLAGS (\\Answered)');
    await run('FETCH 1:* (FLAGS) (CHANGEDSINCE {h0})');
    await run('UID FETCH 3:7 (FLAGS) (CHANGEDSINCE {h0})');
    await run('SEARCH MODSEQ {h0+1}');
    await run('UID SEARCH MODSEQ "/flags/\\\\seen" all {h0+1}');
    await run('SEARCH MODSEQ {h0+1} NOT DELETED');
    await run('STORE 5,6 -FLAGS.SILENT (\\Deleted)');
    await run('EXPUNGE');
    await run('STATUS INBOX (HIGHESTMODSEQ)');
    await server.close();

    // A client that comes back with what it knew at the start.
    server = start();
    await server.client.greeting;
    await run('ENABLE QRESYNC');
    await run('SELECT INBOX (QRESYNC ({validity} {h0}))');
    await run('EXAMINE INBOX (QRESYNC ({validity} {h0} 1:4))');
    await run('EXAMINE INBOX (QRESYNC ({validity} {h0} 1:8 (1:3 2,4,5)))');
    const current = find(await run('SELECT INBOX (QRESYNC ({validity+1} {h0}))'), /\[HIGHESTMODSEQ (\d+)\]/);
    names.set('current', String(current));
    await run('UID FETCH 1:* (FLAGS) (CHANGEDSINCE {h0} VANISHED)');
    await run('UID FETCH 4:6 (FLAGS) (CHANGEDSINCE {h0} VANISHED)');
    await run('FETCH 1:* (FLAGS) (CHANGEDSINCE {h0})');
    await run('STORE 3 +FLAGS (\\Flagged)');
    await run('STORE 2 +FLAGS.SILENT (\\Deleted)');
    await run('EXPUNGE');
    await run('UID EXPUNGE 1:100');
    await run('SEARCH MODSEQ {current}');
    await run('SELECT INBOX (QRESYNC ({validity} {current}))');
    const now = find(await run('STATUS INBOX (HIGHESTMODSEQ)'), /HIGHESTMODSEQ (\d+)/);
    names.set('now', String(now));
    await run('SELECT INBOX (QRESYNC ({validity} {now}))');
    // Another process of the same server changes a flag and expunges: the next NOOP that tells
    // (ours hears it from its file watcher, Dovecot reads its index at NOOP) names UIDs.
    const other = start();
    try {
      await other.client.greeting;
      await other.client.command('SELECT INBOX');
      await other.client.command('UID STORE 7 +FLAGS (\\Flagged)');
      await other.client.command('UID STORE 8 +FLAGS.SILENT (\\Deleted)');
      await other.client.command('EXPUNGE');
    } finally {
      await other.close();
    }
    for (let i = 0; i < 40; i++) {
      const reply = await server.client.command('NOOP');
      if (reply.lines.some((l) => l.includes('VANISHED'))) {
        // In either order: Dovecot sends the FETCH first, we the VANISHED (selected.ts).
        transcript.steps.push({ command: 'NOOP (after another process)', lines: [...reply.lines].sort(), tagged: reply.tagged.slice(0, 2) });
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await run('UID FETCH 1:* (FLAGS) (CHANGEDSINCE {now} VANISHED)');
  } finally {
    await server.close();
  }
  return transcript;
}

/** FETCH items in one order (Dovecot puts MODSEQ first in a STORE's answer, we last: both are allowed). */
function sortedItems(line: string): string {
  const m = /^(\* \d+ FETCH )\((.*)\)$/.exec(line);
  if (!m) return line;
  const items = [...m[2].matchAll(/(UID \d+|FLAGS \([^)]*\)|MODSEQ \(\S+\))/g)].map((x) => x[1]).sort();
  return `${m[1]}(${items.join(' ')})`;
}

/**
 * A run of EXPUNGE responses as the sequence numbers (before the first) of the messages that
 * went: Dovecot sends them from the highest down, we from the lowest up (RFC 3501 7.4.1 allows either).
 */
function expunged(lines: readonly string[]): string {
  const left = Array.from({ length: 1000 }, (_, i) => i + 1);
  const gone = lines.map((l) => left.splice(Number(/^\* (\d+) EXPUNGE$/.exec(l)![1]) - 1, 1)[0]);
  return `* EXPUNGE of ${gone.sort((a, b) => a - b).join(',')}`;
}

/** The lines that carry CONDSTORE/QRESYNC data, with modseqs as ranks and server-specific values out. */
function normalise(t: Transcript): string[] {
  const numbers = new Set<number>();
  for (const step of t.steps) for (const line of [...step.lines, step.tagged]) for (const m of line.matchAll(MODSEQ)) numbers.add(Number(m[2]));
  const rank = new Map([...numbers].sort((a, b) => a - b).map((n, i) => [n, i + 1]));
  const out: string[] = [];
  for (const step of t.steps) {
    out.push(`> ${step.command}`);
    const relevant = step.lines.filter((l) => /FETCH|VANISHED|SEARCH|EXPUNGE|EXISTS|HIGHESTMODSEQ|CLOSED|STATUS|ENABLED/.test(l));
    const expunges = relevant.filter((l) => / EXPUNGE$/.test(l));
    const lines = expunges.length ? [...relevant.filter((l) => !/ EXPUNGE$/.test(l)), expunged(expunges)] : relevant;
    for (const line of [...lines, step.tagged]) {
      out.push(sortedItems(line.replace(MODSEQ, (_, label: string, n: string) => `${label}m${rank.get(Number(n))}`).replace(/"INBOX"/, 'INBOX')));
    }
  }
  return out;
}

describe('CONDSTORE and QRESYNC against Dovecot', { skip: dovecotSkip }, () => {
  let dir: string;
  let base: string;

  before(() => {
    dir = tempDir('condstore-dovecot');
    base = emptyMaildir(path.join(dir, 'base'));
    // Named in cur/ (seen by neither yet) so that both servers number them alike.
    for (let i = 1; i <= 8; i++) fs.writeFileSync(path.join(base, 'cur', `${1700000000 + i}.M${i}P1.test:2,`), simpleMessage(`message ${i}`));
  });
  after(() => removeTree(dir));

  it('answers the same steps alike, mod-sequences compared by their order', async () => {
    copyTree(base, path.join(dir, 'ours'));
    copyTree(base, path.join(dir, 'dovecot'));
    const [ours, dovecot] = await Promise.all([
      session(() => spawnImapd(path.join(dir, 'ours'))),
      session(() => spawnDovecot(path.join(dir, 'dovecot'))),
    ]);
    assert.deepEqual(normalise(ours), normalise(dovecot));
    assert.ok(normalise(ours).includes('> NOOP (after another process)'), 'the other process was heard');
  });
});
