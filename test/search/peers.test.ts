// Differential test: SORT and THREAD on the same Maildir in Dovecot, Courier and here.
// Dovecot must agree on everything; Courier on the commands and messages where it follows
// RFC 5256 (see the notes at COURIER_* below). Skipped when the peer servers are not installed.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { parseMessage } from '../../server/mime/parse.js';
import { parseSortCriteria, sortMessages } from '../../server/imap/search/sort.js';
import { formatThreads, threadMessages, type ThreadAlgorithm, type ThreadMessage } from '../../server/imap/search/thread.js';
import { CORPUS, corpusRaw } from './corpus.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const PEERS = [path.resolve(here, '../../../shared/peers'), '/work/shared/peers'].find((p) => existsSync(p));
const DOVECOT_IMAP = ['/opt/peers/dovecot-imapd/usr/lib/dovecot/imap', '/usr/lib/dovecot/imap'].find((p) => existsSync(p));
const COURIER_IMAP = existsSync('/usr/bin/imapd') ? '/usr/bin/imapd' : undefined;

const SORTS = ['SUBJECT', 'DATE', 'ARRIVAL', 'FROM', 'TO', 'CC', 'SIZE', 'REVERSE SUBJECT', 'REVERSE DATE', 'SUBJECT REVERSE DATE', 'REVERSE FROM SIZE'];
const DISPLAY_SORTS = ['DISPLAYFROM', 'DISPLAYTO'];
const THREADS: ThreadAlgorithm[] = ['REFERENCES', 'ORDEREDSUBJECT'];

// Courier breaks ties by descending sequence number (RFC 5256 section 3: "sorted according to
// the order in which they appear in the mailbox"), so it is compared on criteria lists that leave
// no ties; it writes ORDEREDSUBJECT children as a chain (RFC 5256 says they are siblings), has no
// DISPLAYFROM/DISPLAYTO, collates without decomposition (I18NLEVEL=1 asks for i;unicode-casemap),
// ignores INTERNALDATE for a missing Date: in THREAD, and sorts a group start marker as "".
// These messages exercise exactly those points and are left out of the Courier run.
const COURIER_LEFT_OUT = new Set([16, 17, 18, 19, 20, 21, 22, 23, 26, 27, 28]);
const COURIER_SORTS = ['ARRIVAL', 'SUBJECT DATE', 'DATE', 'REVERSE DATE', 'FROM DATE', 'TO DATE', 'CC DATE', 'SIZE DATE', 'REVERSE SUBJECT DATE'];
const COURIER_THREADS: ThreadAlgorithm[] = ['REFERENCES'];

let workDir = '';

before(async () => {
  workDir = await mkdtemp(path.join(tmpdir(), 'search-peers-'));
  await chmod(workDir, 0o755); // Dovecot runs as the mail user and must reach the Maildir
});

after(async () => {
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

/** Writes the corpus messages `numbers` into a fresh Maildir (file order = given order). */
async function makeMaildir(name: string, numbers: number[]): Promise<string> {
  const dir = path.join(workDir, name);
  for (const sub of ['cur', 'new', 'tmp']) await mkdir(path.join(dir, sub), { recursive: true });
  for (const [index, n] of numbers.entries()) {
    const file = path.join(dir, 'cur', `${1700000000 + index}.M${index}P1.host:2,S`);
    await writeFile(file, corpusRaw(n));
    const seconds = CORPUS[n - 1].internalDate / 1000;
    await utimes(file, seconds, seconds);
  }
  return dir;
}

/** Runs commands through a PREAUTH server on stdin/stdout; returns each command's untagged data. */
async function talk(script: string, maildir: string, commands: string[]): Promise<string[]> {
  const child = spawn(script, [maildir], {
    env: { ...process.env, DOVECOT_BENCH_STATE: path.join(workDir, 'dovecot-state') },
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  let buffer = '';
  let wake: (() => void) | undefined;
  child.stdout.setEncoding('latin1');
  child.stdout.on('data', (chunk: string) => {
    buffer += chunk;
    wake?.();
  });
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  const waitFor = async (pattern: RegExp): Promise<string> => {
    for (;;) {
      const match = pattern.exec(buffer);
      if (match) {
        const text = buffer.slice(0, match.index + match[0].length);
        buffer = buffer.slice(match.index + match[0].length);
        return text;
      }
      await Promise.race([new Promise<void>((resolve) => (wake = resolve)), exited]);
      if (child.exitCode !== null && !pattern.test(buffer)) throw new Error(`server exited; output: ${buffer}`);
    }
  };
  try {
    await waitFor(/^\* PREAUTH.*\r\n/m);
    const results: string[] = [];
    for (const [i, command] of commands.entries()) {
      child.stdin.write(`t${i} ${command}\r\n`);
      const text = await waitFor(new RegExp(`^t${i} (OK|NO|BAD).*\\r\\n`, 'm'));
      assert.match(text, new RegExp(`^t${i} OK`, 'm'), `${command}: ${text}`);
      results.push(text);
    }
    child.stdin.end('z LOGOUT\r\n');
    await exited;
    return results;
  } finally {
    child.kill();
  }
}

/** Our answers for the messages `numbers` (sequence number = position + 1). */
function ours(numbers: number[], sorts: string[], threads: ThreadAlgorithm[]): string[] {
  const messages: ThreadMessage[] = numbers.map((n, index) => {
    const meta = parseMessage(corpusRaw(n));
    return { seq: index + 1, uid: index + 1, info: { uid: index + 1, flags: new Set(), size: meta.size, internalDate: CORPUS[n - 1].internalDate }, meta };
  });
  return [
    ...sorts.map((words) => sortMessages(messages, parseSortCriteria(words.split(' '))!).map((m) => m.seq).join(' ')),
    ...threads.map((algorithm) => formatThreads(threadMessages(algorithm, messages))),
  ];
}

async function peer(script: string, name: string, numbers: number[], sorts: string[], threads: ThreadAlgorithm[]): Promise<string[]> {
  const maildir = await makeMaildir(name, numbers);
  const replies = await talk(script, maildir, [
    'SELECT INBOX',
    'FETCH 1:* (BODY.PEEK[HEADER.FIELDS (X-SEQ)])',
    ...sorts.map((words) => `SORT (${words}) US-ASCII ALL`),
    ...threads.map((algorithm) => `THREAD ${algorithm} US-ASCII ALL`),
  ]);
  // The server's sequence numbers must be the file order, or the comparison means nothing.
  const order = [...replies[1].matchAll(/\* (\d+) FETCH [^\r\n]*\r\nX-Seq: (\d+)/g)].map((m) => [Number(m[1]), Number(m[2])]);
  assert.deepEqual(order, numbers.map((n, index) => [index + 1, n]));
  return replies.slice(2).map((text) => (/^\* (?:SORT|THREAD) ?(.*)\r$/m.exec(text)?.[1] ?? '').trim());
}

const labels = (sorts: string[], threads: string[]) => [...sorts.map((s) => `SORT (${s})`), ...threads.map((t) => `THREAD ${t}`)];

test('SORT and THREAD agree with Dovecot', { skip: !PEERS || !DOVECOT_IMAP ? 'Dovecot is not installed' : false }, async () => {
  const numbers = CORPUS.map((_, i) => i + 1);
  const sorts = [...SORTS, ...DISPLAY_SORTS];
  const theirs = await peer(path.join(PEERS!, 'dovecot-preauth.sh'), 'dovecot', numbers, sorts, THREADS);
  const mine = ours(numbers, sorts, THREADS);
  labels(sorts, THREADS).forEach((label, i) => {
    assert.notEqual(theirs[i], '', label);
    assert.equal(mine[i], theirs[i], label);
  });
});

test('SORT and THREAD agree with Courier where Courier follows RFC 5256', { skip: !PEERS || !COURIER_IMAP ? 'Courier-IMAP is not installed' : false }, async () => {
  const numbers = CORPUS.map((_, i) => i + 1).filter((n) => !COURIER_LEFT_OUT.has(n));
  const theirs = await peer(path.join(PEERS!, 'courier-preauth.sh'), 'courier', numbers, COURIER_SORTS, COURIER_THREADS);
  const mine = ours(numbers, COURIER_SORTS, COURIER_THREADS);
  labels(COURIER_SORTS, COURIER_THREADS).forEach((label, i) => {
    assert.notEqual(theirs[i], '', label);
    assert.equal(mine[i], theirs[i], label);
  });
});
