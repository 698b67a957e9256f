// STORE to a message another session has expunged, before this session was told (the
// "ghost" of RFC 2180 4.2): the answer must not show flags that lack the change (RFC 3501
// 6.4.6). bench:stress saw `* 143 FETCH (FLAGS (\Deleted))` after `STORE 143 +FLAGS
// (\Flagged $Label4)` answered OK. Dovecot applies the STORE to its copy of the ghost;
// we leave it out of the answer and say NO [EXPUNGEISSUED] (RFC 5530), as FETCH does.
// Every response goes through the UntaggedChecker, which checks the STORE rule.

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
  world = await startOneAccountServer('store-expunged');
  ({ maildir, port } = world);
});

after(() => world.stop());

type Mode = PairMode;

const pair = (mode: Mode) => sessionPair(mode, port, maildir, peerScript('dovecot-preauth.sh'));

const ok = commandOk;

/** A new folder of three messages, selected by both; B then expunges message 2 (UID 2). */
async function ghost(a: CheckedSession, b: CheckedSession): Promise<void> {
  const folder = `INBOX.g${++folderCounter}`;
  await ok(b, `CREATE ${folder}`);
  for (let i = 1; i <= 3; i++) assert.match((await b.append(folder, simpleMessage(`message ${i}`))).tagged, /^OK/);
  await ok(a, `SELECT ${folder}`);
  await ok(b, `SELECT ${folder}`);
  await ok(b, 'STORE 2 +FLAGS (\\Deleted)');
  await ok(b, 'EXPUNGE');
}

for (const mode of ['network', 'processes', 'dovecot'] as const) {
  describe(`STORE to a message another session expunged (${mode})`, { skip: mode === 'dovecot' ? dovecotSkip : false }, () => {
    it('STORE n: no FETCH that lacks the change; the others are stored and shown', async () => {
      const [a, b] = await pair(mode);
      try {
        await ghost(a, b);
        const one = await a.command('STORE 2 +FLAGS (\\Flagged $Ghost)');
        const many = await a.command('STORE 1:3 +FLAGS (\\Seen)');
        a.check.assertClean();
        // Either the ghost took the change (Dovecot) or the answer is NO [EXPUNGEISSUED].
        for (const reply of [one, many]) {
          if (!reply.lines.some((l) => /^\* 2 FETCH/.test(l))) assert.match(reply.tagged, /^NO \[EXPUNGEISSUED\]/, reply.tagged);
        }
        assert.match(many.lines.join('\n'), /^\* 1 FETCH \(FLAGS \([^)]*\\Seen/m);
        assert.match(many.lines.join('\n'), /^\* 3 FETCH \(FLAGS \([^)]*\\Seen/m);
        const noop = await ok(a, 'NOOP');
        a.check.assertClean();
        assert.ok(noop.includes('* 2 EXPUNGE'), noop.join('\n'));
        const flags = (await ok(a, 'FETCH 1:2 (UID FLAGS)')).join('\n');
        assert.match(flags, /^\* 1 FETCH \(UID 1 FLAGS \([^)]*\\Seen/m);
        assert.match(flags, /^\* 2 FETCH \(UID 3 FLAGS \([^)]*\\Seen/m);
      } finally {
        await a.close();
        await b.close();
      }
    });

    it('UID STORE: the EXPUNGE may come at once, but no FETCH of the ghost without the change', async () => {
      const [a, b] = await pair(mode);
      try {
        await ghost(a, b);
        const reply = await a.command('UID STORE 1:3 +FLAGS (\\Answered)');
        a.check.assertClean();
        assert.match(reply.tagged, /^OK/, reply.tagged);
        assert.match(reply.lines.join('\n'), /^\* 1 FETCH \(UID 1 FLAGS \([^)]*\\Answered/m);
      } finally {
        await a.close();
        await b.close();
      }
    });
  });
}
