// State errors bench:stress found with its extension profiles (bench/stress-sessions.ts), each
// made into a test of two sessions on one folder, every response through the UntaggedChecker.

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
  world = await startOneAccountServer('stress-found');
  ({ maildir, port } = world);
});

after(() => world.stop());

const pair = (mode: PairMode) => sessionPair(mode, port, maildir, peerScript('dovecot-preauth.sh'));
const ok = commandOk;

/** A new folder of three messages, selected by both. */
async function folder(a: CheckedSession, b: CheckedSession): Promise<string> {
  const name = `INBOX.s${++folderCounter}`;
  await ok(b, `CREATE ${name}`);
  for (let i = 1; i <= 3; i++) assert.match((await b.append(name, simpleMessage(`message ${i}`))).tagged, /^OK/);
  await ok(a, `SELECT ${name}`);
  await ok(b, `SELECT ${name}`);
  return name;
}

for (const mode of ['network', 'processes', 'dovecot'] as const) {
  describe(`stress findings (${mode})`, { skip: mode === 'dovecot' ? dovecotSkip : false }, () => {
    it('STORE +FLAGS of a flag another session set first: the answer shows it', async () => {
      const [a, b] = await pair(mode);
      try {
        await folder(a, b);
        await ok(b, 'STORE 2 +FLAGS (\\Deleted)');
        const reply = await a.command('STORE 2 +FLAGS (\\Deleted)');
        a.check.assertClean();
        assert.match(reply.tagged, /^OK/);
      } finally {
        await a.close();
        await b.close();
      }
    });

    it('a message another session renamed is read by its new name; its new flags still reach this session', async () => {
      const [a, b] = await pair(mode);
      try {
        await folder(a, b);
        await ok(b, 'STORE 2 +FLAGS (\\Seen)');
        // Read before this session has looked at the folder again: the file has another name now.
        const body = await a.command('FETCH 2 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])');
        assert.match(body.tagged, /^OK/, 'renamed, not expunged');
        assert.match(body.lines.join('\n'), /Subject: message 2/);
        await new Promise((resolve) => setTimeout(resolve, 300));
        const noop = await ok(a, 'NOOP');
        const flags = await ok(a, 'FETCH 2 (FLAGS)');
        a.check.assertClean();
        // The other session's \Seen is told (by the NOOP, or with this FETCH) and shown.
        assert.match(flags.join('\n'), /^\* 2 FETCH \(FLAGS \(\\Seen( \\Recent)?\)\)$/m);
        assert.match([...body.lines, ...noop].join('\n'), /^\* 2 FETCH \(FLAGS \(\\Seen( \\Recent)?\)\)$/m);
      } finally {
        await a.close();
        await b.close();
      }
    });
  });
}
