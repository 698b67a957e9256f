// Four sessions on one folder for a few seconds, each doing random APPEND, STORE (with new
// keywords), EXPUNGE, NOOP, FETCH, SEARCH and IDLE from a fixed seed: two sessions of one
// network server (in-process fan-out) and two `imapd` processes (the file watcher). Every
// untagged response of every session goes through the UntaggedChecker; at the end, after a
// NOOP, every session must count the messages the folder has and agree on their flags. Then
// again with two sessions in QRESYNC and two in IMAP4rev2.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { networkSession, processSession, type CheckedSession } from '../helpers/checked-client.js';
import { simpleMessage } from '../helpers/maildir.js';
import { startOneAccountServer, type OneAccountServer } from '../helpers/network-server.js';

const SEED = 0x11c0ffee;
const RUN_MS = 8000;
/** Each session goes on past RUN_MS until it has run this many commands (a loaded machine is slow), ... */
const MIN_COMMANDS = 30;
/** ... but not past this. */
const MAX_RUN_MS = 90_000;
const FOLDER = 'INBOX.random';

let maildir: string;
let port: number;
let world: OneAccountServer;

before(async () => {
  world = await startOneAccountServer('updates-random');
  ({ maildir, port } = world);
});

after(() => world.stop());

/** mulberry32: a small seeded generator, so a failing run can be repeated. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SYSTEM = ['\\Seen', '\\Flagged', '\\Answered', '\\Draft'];

async function loop(session: CheckedSession, folder: string, rand: () => number, until: number, problems: string[]): Promise<number> {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)];
  const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  // Keywords from a growing pool: new ones keep appearing while the run goes on.
  let pool = 2;
  const flags = () => {
    const out = new Set<string>();
    for (let k = int(1, 3); k > 0; k--) {
      if (rand() < 0.5) out.add(pick(SYSTEM));
      else {
        if (rand() < 0.3) pool += 1;
        out.add(`$K${int(0, pool)}`);
      }
    }
    return `(${[...out].join(' ')})`;
  };
  const range = () => {
    const lo = int(1, session.check.count);
    return `${lo}:${Math.min(session.check.count, lo + int(0, 3))}`;
  };
  let commands = 0;
  const run = async (command: string) => {
    commands += 1;
    const reply = await session.command(command);
    // NO is allowed for a message another session expunged (RFC 3501 7.4.1); BAD is not.
    if (!/^(OK|NO)/.test(reply.tagged)) problems.push(`${session.name}: ${command} -> ${reply.tagged}`);
  };
  const limit = until - RUN_MS + MAX_RUN_MS;
  while ((Date.now() < until || commands < MIN_COMMANDS) && Date.now() < limit) {
    const count = session.check.count;
    const r = rand();
    if (r < 0.2 || (count === 0 && r < 0.6)) {
      commands += 1;
      const extra = rand() < 0.6 ? flags() : '';
      const reply = await session.append(folder, simpleMessage(`random ${commands}`), extra);
      if (!reply.tagged.startsWith('OK')) problems.push(`${session.name}: APPEND ${extra} -> ${reply.tagged}`);
    } else if (count === 0) {
      await run('NOOP');
    } else if (r < 0.4) {
      await run(`STORE ${range()} ${pick(['+', '-', '+'])}FLAGS${rand() < 0.2 ? '.SILENT' : ''} ${flags()}`);
    } else if (r < 0.5) {
      const lo = int(1, count + 5);
      await run(`UID STORE ${lo}:${lo + int(0, 10)} +FLAGS ${flags()}`);
    } else if (r < 0.6 + (count > 25 ? 0.15 : 0)) {
      await run(`STORE ${range()} +FLAGS.SILENT (\\Deleted)`);
      await run(rand() < 0.7 ? 'EXPUNGE' : `UID EXPUNGE 1:*`);
    } else if (r < 0.7) {
      await run('NOOP');
    } else if (r < 0.8) {
      await run(rand() < 0.5 ? 'FETCH 1:* (UID FLAGS)' : 'UID FETCH 1:* (FLAGS)');
    } else if (r < 0.88) {
      await run(`${rand() < 0.5 ? 'UID ' : ''}SEARCH KEYWORD $K${int(0, pool)}`);
    } else {
      commands += 1;
      await session.idle(int(20, 80));
    }
  }
  return commands;
}

/**
 * Four sessions (two of the network server, two `imapd` processes) change `folder` at random;
 * `enable[k]` is sent by session k first (ENABLE QRESYNC, ENABLE IMAP4rev2: the checker then
 * holds it to VANISHED, MODSEQ and the UID in unsolicited FETCH).
 */
async function randomRun(folder: string, enable: readonly string[]): Promise<void> {
  const sessions = [
    await networkSession('net1', port, 'alice', 'secret'),
    await networkSession('net2', port, 'alice', 'secret'),
    await processSession('proc1', maildir),
    await processSession('proc2', maildir),
  ];
  // All four add and remove the same flags at random: a STORE's FETCH may rightly show
  // another session's change made a moment later (RFC 3501 7.4.2). The rule that a STORE's
  // FETCH shows its own change is tested where one session changes flags (store-expunged).
  for (const s of sessions) s.check.storeResultsChecked = false;
  try {
    for (const [k, command] of enable.entries()) if (command) assert.match((await sessions[k].command(command)).tagged, /^OK/);
    assert.match((await sessions[0].command(`CREATE ${folder}`)).tagged, /^OK/);
    for (const s of sessions) assert.match((await s.command(`SELECT ${folder}`)).tagged, /^OK/);
    const problems: string[] = [];
    const until = Date.now() + RUN_MS;
    const counts = await Promise.all(sessions.map((s, k) => loop(s, folder, random(SEED + k), until, problems)));
    for (const s of sessions) s.check.assertClean();
    assert.deepEqual(problems, []);
    assert.ok(counts.every((n) => n > 20), `commands per session: ${counts.join(', ')}`);

    // Quiet now: after the watchers have had their turn, one NOOP brings every session up to date.
    await new Promise((resolve) => setTimeout(resolve, 600));
    const views: string[] = [];
    for (const s of sessions) {
      await s.command('NOOP');
      const status = await s.command(`STATUS ${folder} (MESSAGES)`);
      const messages = Number(/MESSAGES (\d+)/.exec(status.lines.join(' '))?.[1]);
      assert.equal(s.check.count, messages, `${s.name} counts ${s.check.count}, the folder has ${messages}`);
      const fetched = await s.command('FETCH 1:* (UID FLAGS)');
      views.push(fetched.lines.map((l) => l.replace(/ ?\\Recent/, '').replace(/ MODSEQ \(\d+\)/, '')).join('\n'));
      s.check.assertClean();
    }
    for (const view of views.slice(1)) assert.equal(view, views[0]);
  } finally {
    for (const s of sessions) await s.close();
  }
}

describe('random changes from four sessions, two in-process and two in processes of their own', () => {
  it('every untagged response is consistent, and all sessions end with the folder as it is', async () => {
    await randomRun(FOLDER, []);
  });

  it('the same with QRESYNC and IMAP4rev2 sessions (VANISHED, MODSEQ, UID in unsolicited FETCH)', async () => {
    await randomRun(`${FOLDER}2`, ['ENABLE QRESYNC', 'ENABLE IMAP4rev2', 'ENABLE IMAP4rev2', 'ENABLE QRESYNC']);
  });
});
