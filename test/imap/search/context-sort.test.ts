// CONTEXT=SORT (RFC 5267 4.3): a SORT with RETURN (UPDATE) is kept, and ADDTO / REMOVEFROM
// carry positions in the sorted result (1 for the first), to be applied in the order they come:
// a removal at the position of the message in the result as it stands after the removals before
// it, an insertion at the position the message has once inserted. Dovecot does not offer
// CONTEXT=SORT (its CAPABILITY has CONTEXT=SEARCH only): two sessions of one network server.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { commandOk, sessionPair, type CheckedSession } from '../../helpers/checked-client.js';
import { peerScript } from '../../helpers/peers.js';
import { simpleMessage } from '../../helpers/maildir.js';
import { startOneAccountServer, type OneAccountServer } from '../../helpers/network-server.js';

let world: OneAccountServer;
let folderCounter = 0;

before(async () => {
  world = await startOneAccountServer('context-sort');
});
after(() => world.stop());

const ok = commandOk;

/** A new folder with one unseen message per subject (UIDs in that order), selected by both. */
async function setUp(a: CheckedSession, b: CheckedSession, subjects: string[]): Promise<string> {
  const folder = `INBOX.s${++folderCounter}`;
  await ok(b, `CREATE ${folder}`);
  for (const subject of subjects) assert.match((await b.append(folder, simpleMessage(subject))).tagged, /^OK/);
  await ok(a, `SELECT ${folder}`);
  await ok(b, `SELECT ${folder}`);
  return folder;
}

/** The ESEARCH, EXISTS and EXPUNGE lines, the tags named. */
function events(lines: string[], tags: Record<string, string>): string[] {
  return lines
    .filter((l) => /^\* (ESEARCH|\d+ EXISTS|\d+ EXPUNGE)/.test(l))
    .map((l) => l.replace(/\(TAG "([^"]+)"\)/, (_all, tag: string) => `(TAG ${tags[tag] ?? tag})`));
}

function tagOf(lines: string[]): string {
  const match = lines.map((l) => /^\* ESEARCH \(TAG "([^"]+)"\)/.exec(l)).find(Boolean);
  assert.ok(match, lines.join('\n'));
  return match[1];
}

/** What a client holds: the result, changed by the ADDTO / REMOVEFROM of an ESEARCH line as RFC 5267 4.3.2 says. */
function apply(result: number[], line: string): number[] {
  const out = [...result];
  for (const [, kind, body] of line.matchAll(/(ADDTO|REMOVEFROM) \(([^)]*)\)/g)) {
    const words = body.split(' ');
    for (let i = 0; i < words.length; i += 2) {
      const position = Number(words[i]);
      const values = words[i + 1].split(',').flatMap((part) => {
        const [a, b = a] = part.split(':').map(Number);
        return Array.from({ length: Math.abs(b - a) + 1 }, (_, k) => (a <= b ? a + k : a - k));
      });
      values.forEach((value, k) => {
        if (kind === 'ADDTO') out.splice(position - 1 + k, 0, value);
        else {
          assert.equal(out[position - 1], value, `REMOVEFROM ${position} names ${value}: ${line}`);
          out.splice(position - 1, 1);
        }
      });
    }
  }
  return out;
}

describe('CONTEXT=SORT (network)', () => {
  it('announces CONTEXT=SORT; new, changed and expunged messages come as positions in the sorted result', async () => {
    const [a, b] = await sessionPair('network', world.port, world.maildir, peerScript('dovecot-preauth.sh'));
    try {
      assert.match((await ok(a, 'CAPABILITY'))[0], / CONTEXT=SEARCH CONTEXT=SORT /);
      const folder = await setUp(a, b, ['delta', 'bravo', 'foxtrot']);
      const first = await ok(a, 'UID SORT RETURN (UPDATE ALL) (SUBJECT) UTF-8 UNSEEN');
      const tag = tagOf(first);
      const tags = { [tag]: 'S' };
      assert.deepEqual(events(first, tags), ['* ESEARCH (TAG S) UID ALL 2,1,3']);
      let result = [2, 1, 3];
      const step = async (lines: string[], expected: string[], after: number[]): Promise<void> => {
        const seen = events(lines, tags);
        assert.deepEqual(seen, expected);
        for (const line of seen) if (line.startsWith('* ESEARCH')) result = apply(result, line);
        assert.deepEqual(result, after, 'the client ends up with the sorted result');
      };

      assert.match((await b.append(folder, simpleMessage('alpha'))).tagged, /^OK/);
      await step(await ok(a, 'NOOP'), ['* 4 EXISTS', '* ESEARCH (TAG S) UID ADDTO (1 4)'], [4, 2, 1, 3]);
      assert.match((await b.append(folder, simpleMessage('echo'))).tagged, /^OK/);
      assert.match((await b.append(folder, simpleMessage('charlie'))).tagged, /^OK/);
      await step(await ok(a, 'NOOP'), ['* 6 EXISTS', '* ESEARCH (TAG S) UID ADDTO (3 6 5 5)'], [4, 2, 6, 1, 5, 3]);

      await ok(b, 'UID STORE 2 +FLAGS (\\Seen)');
      await step(await ok(a, 'NOOP'), ['* ESEARCH (TAG S) UID REMOVEFROM (2 2)'], [4, 6, 1, 5, 3]);
      await ok(b, 'UID STORE 1,3 +FLAGS (\\Seen)');
      await step(await ok(a, 'NOOP'), ['* ESEARCH (TAG S) UID REMOVEFROM (3 1 4 3)'], [4, 6, 5]);
      await ok(b, 'UID STORE 1:3 -FLAGS (\\Seen)');
      await step(await ok(a, 'NOOP'), ['* ESEARCH (TAG S) UID ADDTO (2 2 4 1 6 3)'], [4, 2, 6, 1, 5, 3]);
      // Adjacent messages that stay adjacent make one set.
      await ok(b, 'UID STORE 2,6 +FLAGS (\\Seen)');
      await step(await ok(a, 'NOOP'), ['* ESEARCH (TAG S) UID REMOVEFROM (2 2,6)'], [4, 1, 5, 3]);

      // An expunge: REMOVEFROM before the EXPUNGE, at the message's position.
      await ok(b, 'UID STORE 5 +FLAGS.SILENT (\\Deleted)');
      await ok(b, 'EXPUNGE');
      await step(await ok(a, 'NOOP'), ['* ESEARCH (TAG S) UID REMOVEFROM (3 5)', '* 5 EXPUNGE'], [4, 1, 3]);

      // The session's own STORE: the update comes with its answer.
      await step(await ok(a, 'UID STORE 4 +FLAGS (\\Seen)'), ['* ESEARCH (TAG S) UID REMOVEFROM (1 4)'], [1, 3]);

      // SORT (not UID SORT): sequence numbers, reverse order; CANCELUPDATE ends either kind.
      const reverse = await ok(a, 'SORT RETURN (UPDATE MIN) (REVERSE SUBJECT) UTF-8 ALL');
      const r = tagOf(reverse);
      tags[r] = 'R';
      // Messages 1..5 now: delta bravo foxtrot alpha charlie; the first in reverse order is foxtrot (3).
      assert.deepEqual(events(reverse, tags), ['* ESEARCH (TAG R) MIN 3']);
      assert.match((await b.append(folder, simpleMessage('golf'))).tagged, /^OK/);
      assert.deepEqual(events(await ok(a, 'NOOP'), tags), ['* 6 EXISTS', '* ESEARCH (TAG S) UID ADDTO (3 7)', '* ESEARCH (TAG R) ADDTO (1 6)']);
      await ok(a, `CANCELUPDATE "${tag}" "${r}"`);
      assert.match((await b.append(folder, simpleMessage('hotel'))).tagged, /^OK/);
      assert.deepEqual(events(await ok(a, 'NOOP'), tags), ['* 7 EXISTS']);
      a.check.assertClean();
      b.check.assertClean();
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('CANCELUPDATE ends a kept SORT once; SORT takes PARTIAL', async () => {
    const [a, b] = await sessionPair('network', world.port, world.maildir, peerScript('dovecot-preauth.sh'));
    try {
      await setUp(a, b, ['one', 'two']);
      const tag = tagOf(await ok(a, 'SORT RETURN (UPDATE) (ARRIVAL) UTF-8 ALL'));
      assert.match((await a.command(`CANCELUPDATE "${tag}"`)).tagged, /^OK/);
      assert.match((await a.command(`CANCELUPDATE "${tag}"`)).tagged, /^NO/);
      assert.deepEqual(events(await ok(a, 'SORT RETURN (PARTIAL 2:2) (REVERSE ARRIVAL) UTF-8 ALL'), {}).map((l) => l.replace(/TAG \S+\)/, 'TAG t)')), ['* ESEARCH (TAG t) PARTIAL (2:2 1)']);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
