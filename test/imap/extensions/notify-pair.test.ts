// NOTIFY with checked sessions (every response of B through the RFC 3501 UntaggedChecker): B has
// a folder selected with SELECTED-DELAYED events and watches the other folders; A appends,
// flags, expunges and makes folders. Two sessions of one network server (in-process fan-out),
// two imapd processes on one Maildir (file watches), and Dovecot, which must agree.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { commandOk, noopUntil, sessionPair, type PairMode } from '../../helpers/checked-client.js';
import { dovecotSkip, peerScript } from '../../helpers/peers.js';
import { simpleMessage } from '../../helpers/maildir.js';
import { startOneAccountServer, type OneAccountServer } from '../../helpers/network-server.js';

let world: OneAccountServer;
let counter = 0;

before(async () => {
  world = await startOneAccountServer('notify-pair');
});
after(() => world.stop());

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const ok = commandOk;

for (const mode of ['network', 'processes', 'dovecot'] as const satisfies readonly PairMode[]) {
  // What B must not see (an expunge during FETCH, a second STATUS) needs a pause; what it must
  // see is waited for with noopUntil, as long as the watcher of a loaded machine takes.
  const settle = () => sleep(mode === 'network' ? 50 : 400);

  describe(`NOTIFY (${mode})`, { skip: mode === 'dovecot' ? dovecotSkip : false }, () => {
    it('SELECTED-DELAYED keeps expunges for a command that allows them; other folders get STATUS and LIST', async () => {
      const [a, b] = await sessionPair(mode, world.port, world.maildir, peerScript('dovecot-preauth.sh'));
      try {
        const n = ++counter;
        const selected = `INBOX.s${n}`;
        const other = `INBOX.o${n}`;
        await ok(a, `CREATE ${selected}`);
        await ok(a, `CREATE ${other}`);
        for (let i = 1; i <= 3; i++) assert.match((await a.append(selected, simpleMessage(`m${i}`))).tagged, /^OK/);
        await ok(a, `SELECT ${selected}`);
        await ok(b, `SELECT ${selected}`);
        await ok(b, `NOTIFY SET (selected-delayed (MessageNew (UID FLAGS) MessageExpunge FlagChange)) (subtree INBOX.o${n} (MessageNew MessageExpunge MailboxName))`);

        // A new message in the selected folder: EXISTS, then its fetch attributes.
        assert.match((await a.append(selected, simpleMessage('m4'))).tagged, /^OK/);
        const noop = await noopUntil(b, (lines) => lines.some((l) => /^\* 4 FETCH \(.*UID 4/.test(l)));
        assert.ok(noop.includes('* 4 EXISTS'), noop.join('\n'));
        assert.ok(noop.some((l) => /^\* 4 FETCH \(.*UID 4/.test(l)), noop.join('\n'));

        // An expunge waits during FETCH (by number), and comes with NOOP.
        await ok(a, 'STORE 1 +FLAGS.SILENT (\\Deleted)');
        await ok(a, 'EXPUNGE');
        await settle();
        const fetch = await ok(b, 'FETCH 1:* UID');
        assert.ok(!fetch.some((l) => /EXPUNGE/.test(l)), fetch.join('\n'));
        const after = await noopUntil(b, (lines) => lines.includes('* 1 EXPUNGE'));
        assert.ok(after.includes('* 1 EXPUNGE'), after.join('\n'));

        // A flag change in the selected folder (FlagChange): FETCH FLAGS.
        await ok(a, 'STORE 1 +FLAGS.SILENT (\\Flagged)');
        const flagged = (lines: string[]) => lines.some((l) => /^\* 1 FETCH \(.*\\Flagged/.test(l));
        assert.ok(flagged(await noopUntil(b, flagged)));

        // The other folder: STATUS for a new message, LIST when it is renamed away.
        assert.match((await a.append(other, simpleMessage('elsewhere'))).tagged, /^OK/);
        const told = await noopUntil(b, (lines) => lines.some((l) => l.startsWith('* STATUS')));
        await settle();
        const status = [...told, ...(await ok(b, 'NOOP'))].filter((l) => l.startsWith('* STATUS'));
        assert.equal(status.length, 1, status.join('\n'));
        assert.match(status[0], /MESSAGES 1 UIDNEXT 2/);
        await ok(a, `DELETE ${other}`);
        const gone = (lines: string[]) => lines.some((l) => /^\* LIST \(\\NonExistent\) "\." "?INBOX\.o\d+"?$/.test(l));
        assert.ok(gone(await noopUntil(b, gone)));

        await ok(b, 'NOTIFY NONE');
        b.check.assertClean();
        a.check.assertClean();
      } finally {
        await a.close();
        await b.close();
      }
    });
  });
}
