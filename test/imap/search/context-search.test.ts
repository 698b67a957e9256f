// CONTEXT=SEARCH (RFC 5267 4.3): a SEARCH with RETURN (UPDATE) is kept, and the session is told
// with ESEARCH ADDTO / REMOVEFROM when messages enter or leave its result: new messages (after
// their EXISTS), flag changes by another session or by its own STORE, expunges (before their
// EXPUNGE); CANCELUPDATE ends it. Two sessions of one network server (in-process fan-out), two
// imapd processes on one Maildir (the file watcher), and Dovecot, which must agree.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { commandOk, sessionPair, type CheckedSession, type PairMode } from '../../helpers/checked-client.js';
import { dovecotSkip, peerScript } from '../../helpers/peers.js';
import { simpleMessage } from '../../helpers/maildir.js';
import { startOneAccountServer, type OneAccountServer } from '../../helpers/network-server.js';

let world: OneAccountServer;
let folderCounter = 0;

before(async () => {
  world = await startOneAccountServer('context-search');
});
after(() => world.stop());

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const ok = commandOk;

/** A new folder with `count` unseen messages (UIDs 1..count), selected by both. */
async function setUp(a: CheckedSession, b: CheckedSession, count: number): Promise<string> {
  const folder = `INBOX.c${++folderCounter}`;
  await ok(b, `CREATE ${folder}`);
  for (let i = 1; i <= count; i++) assert.match((await b.append(folder, simpleMessage(`message ${i}`))).tagged, /^OK/);
  await ok(a, `SELECT ${folder}`);
  await ok(b, `SELECT ${folder}`);
  return folder;
}

/** The tag in an ESEARCH answer. */
function tagOf(lines: string[]): string {
  const match = lines.map((l) => /^\* ESEARCH \(TAG "([^"]+)"\)/.exec(l)).find(Boolean);
  assert.ok(match, lines.join('\n'));
  return match[1];
}

/** The lines that matter here, tags made generic: ESEARCH, EXISTS, EXPUNGE. */
function events(lines: string[], tags: Record<string, string>): string[] {
  return lines
    .filter((l) => /^\* (ESEARCH|\d+ EXISTS|\d+ EXPUNGE)/.test(l))
    .map((l) => l.replace(/\(TAG "([^"]+)"\)/, (_all, tag: string) => `(TAG ${tags[tag] ?? tag})`));
}

for (const mode of ['network', 'processes', 'dovecot'] as const satisfies readonly PairMode[]) {
  // Across processes a change reaches the other session through its file watcher and NOOP.
  const settle = () => sleep(mode === 'network' ? 0 : 400);

  describe(`CONTEXT=SEARCH (${mode})`, { skip: mode === 'dovecot' ? dovecotSkip : false }, () => {
    it('another session appends, flags and expunges: ADDTO after EXISTS, REMOVEFROM before EXPUNGE, UIDs or numbers as searched', async () => {
      const [a, b] = await sessionPair(mode, world.port, world.maildir, peerScript('dovecot-preauth.sh'));
      try {
        const folder = await setUp(a, b, 4);
        const first = await ok(a, 'UID SEARCH RETURN (UPDATE ALL) UNSEEN');
        const unseen = tagOf(first);
        assert.deepEqual(events(first, { [unseen]: 'U' }), ['* ESEARCH (TAG U) UID ALL 1:4']);
        const second = await ok(a, 'SEARCH RETURN (UPDATE COUNT) FLAGGED');
        const flagged = tagOf(second);
        const tags = { [unseen]: 'U', [flagged]: 'F' };
        assert.deepEqual(events(second, tags), ['* ESEARCH (TAG F) COUNT 0']);

        assert.match((await b.append(folder, simpleMessage('new one'))).tagged, /^OK/);
        await settle();
        assert.deepEqual(events(await ok(a, 'NOOP'), tags), ['* 5 EXISTS', '* ESEARCH (TAG U) UID ADDTO (0 5)']);

        await ok(b, 'STORE 2 +FLAGS (\\Seen \\Flagged)');
        await settle();
        assert.deepEqual(events(await ok(a, 'NOOP'), tags), ['* ESEARCH (TAG U) UID REMOVEFROM (0 2)', '* ESEARCH (TAG F) ADDTO (0 2)']);

        await ok(b, 'STORE 3 +FLAGS (\\Flagged \\Deleted)');
        await settle();
        assert.deepEqual(events(await ok(a, 'NOOP'), tags), ['* ESEARCH (TAG F) ADDTO (0 3)']);
        await ok(b, 'EXPUNGE');
        await settle();
        // Numbered before the EXPUNGE that follows (RFC 5267 4.3.4).
        assert.deepEqual(events(await ok(a, 'NOOP'), tags), ['* ESEARCH (TAG U) UID REMOVEFROM (0 3)', '* ESEARCH (TAG F) REMOVEFROM (0 3)', '* 3 EXPUNGE']);

        // Pushed during IDLE too.
        assert.match((await b.append(folder, simpleMessage('while idling'), '(\\Flagged)')).tagged, /^OK/);
        // Across processes the watcher pushes it: as soon as it may, or as late as load makes it.
        const idle = await a.idle(15_000, (lines) => events(lines, tags).length >= 3);
        assert.deepEqual(events(idle.lines, tags), ['* 5 EXISTS', '* ESEARCH (TAG U) UID ADDTO (0 6)', '* ESEARCH (TAG F) ADDTO (0 5)']);

        await ok(a, `CANCELUPDATE "${unseen}"`);
        await ok(b, 'STORE 1 +FLAGS (\\Seen \\Flagged)');
        await settle();
        assert.deepEqual(events(await ok(a, 'NOOP'), tags), ['* ESEARCH (TAG F) ADDTO (0 1)']);
        a.check.assertClean();
        b.check.assertClean();
      } finally {
        await a.close();
        await b.close();
      }
    });

    it("the session's own STORE and FETCH: the update comes with their answer; SELECT ends every kept search", async () => {
      const [a, b] = await sessionPair(mode, world.port, world.maildir, peerScript('dovecot-preauth.sh'));
      try {
        const folder = await setUp(a, b, 3);
        const first = await ok(a, 'UID SEARCH RETURN (UPDATE) UNSEEN');
        const unseen = tagOf(first);
        const tags = { [unseen]: 'U' };
        // UPDATE alone: an ESEARCH without data, as Dovecot.
        assert.deepEqual(events(first, tags), ['* ESEARCH (TAG U) UID']);
        assert.deepEqual(events(await ok(a, 'STORE 1 +FLAGS (\\Seen)'), tags), ['* ESEARCH (TAG U) UID REMOVEFROM (0 1)']);
        assert.deepEqual(events(await ok(a, 'FETCH 2 (BODY[TEXT])'), tags), ['* ESEARCH (TAG U) UID REMOVEFROM (0 2)']);
        assert.deepEqual(events(await ok(a, 'STORE 1:2 -FLAGS.SILENT (\\Seen)'), tags), ['* ESEARCH (TAG U) UID ADDTO (0 1:2)']);
        // A search that matches nothing new sends nothing.
        assert.deepEqual(events(await ok(a, 'STORE 3 +FLAGS (\\Flagged)'), tags), []);
        await ok(a, `SELECT ${folder}`);
        assert.deepEqual(events(await ok(a, 'STORE 1 +FLAGS (\\Seen)'), tags), []);
        a.check.assertClean();
      } finally {
        await a.close();
        await b.close();
      }
    });
  });
}

describe('CONTEXT=SEARCH errors (network)', () => {
  it('a tag in use is BAD, an unknown tag in CANCELUPDATE is NO, CANCELUPDATE needs quoted tags', async () => {
    const [a, b] = await sessionPair('network', world.port, world.maildir, peerScript('dovecot-preauth.sh'));
    try {
      await setUp(a, b, 2);
      const first = await ok(a, 'UID SEARCH RETURN (UPDATE) ALL');
      const tag = tagOf(first);
      assert.match((await a.command(`CANCELUPDATE "nothere"`)).tagged, /^NO/);
      assert.match((await a.command(`CANCELUPDATE ${tag}`)).tagged, /^BAD/);
      assert.match((await a.command('CANCELUPDATE')).tagged, /^BAD/);
      assert.match((await a.command(`CANCELUPDATE "${tag}"`)).tagged, /^OK/);
      assert.match((await a.command(`CANCELUPDATE "${tag}"`)).tagged, /^NO/);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
