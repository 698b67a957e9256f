// Runs the real Courier-IMAP / Dovecot (PREAUTH on stdin/stdout, see test/peers) over a
// Maildir written from the test corpus, for differential tests.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PEERS, courierSkip, dovecotSkip } from '../../helpers/peers.js';


/** The peer's start script, or undefined when it (or the server binary) is not installed. */
export function peerScript(peer: 'dovecot' | 'courier'): string | undefined {
  if (peer === 'dovecot') return dovecotSkip ? undefined : path.join(PEERS, 'dovecot-preauth.sh');
  return courierSkip ? undefined : path.join(PEERS, 'courier-preauth.sh');
}

export interface MaildirMessage {
  raw: Buffer;
  internalDate: number;
  /** Maildir info letters, e.g. "FS". */
  flags?: string;
}

/** A temporary folder that the mail user (Dovecot drops privileges) can reach. */
export async function makeWorkDir(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'search-peers-'));
  await chmod(dir, 0o755);
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Writes the messages into a fresh Maildir; file name order = the given order = UID order. */
export async function makeMaildir(dir: string, messages: MaildirMessage[]): Promise<string> {
  for (const sub of ['cur', 'new', 'tmp']) await mkdir(path.join(dir, sub), { recursive: true });
  for (const [index, message] of messages.entries()) {
    const file = path.join(dir, 'cur', `${1700000000 + index}.M${index}P1.host:2,${message.flags ?? ''}`);
    await writeFile(file, message.raw);
    await utimes(file, message.internalDate / 1000, message.internalDate / 1000);
  }
  return dir;
}

/** A command: text, or text and literals alternating ([text, literal, text, ...]). */
export type PeerCommand = string | (string | Buffer)[];

/**
 * Selects INBOX, checks that the server's sequence numbers follow the file order (message i
 * carries the header "X-Seq: xSeqs[i]"), runs the commands and returns each one's response text.
 */
export async function runPeer(script: string, maildir: string, stateDir: string, xSeqs: number[], commands: PeerCommand[]): Promise<string[]> {
  const child = spawn(script, [maildir], {
    env: { ...process.env, DOVECOT_BENCH_STATE: stateDir },
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
  const send = async (tag: string, command: PeerCommand): Promise<string> => {
    const parts = typeof command === 'string' ? [command] : command;
    child.stdin.write(`${tag} `);
    for (const part of parts) {
      if (typeof part === 'string') child.stdin.write(part);
      else {
        child.stdin.write(`{${part.length}}\r\n`);
        await waitFor(/^\+[^\r\n]*\r\n/m);
        child.stdin.write(part);
      }
    }
    child.stdin.write('\r\n');
    const text = await waitFor(new RegExp(`^${tag} (OK|NO|BAD)[^\\r\\n]*\\r\\n`, 'm'));
    assert.match(text, new RegExp(`^${tag} OK`, 'm'), `${String(command)}: ${text}`);
    return text;
  };
  try {
    await waitFor(/^\* PREAUTH[^\r\n]*\r\n/m);
    await send('s', 'SELECT INBOX');
    const fetched = await send('f', 'FETCH 1:* (BODY.PEEK[HEADER.FIELDS (X-SEQ)])');
    const order = [...fetched.matchAll(/\* (\d+) FETCH [^\r\n]*\r\nX-Seq: (\d+)/g)].map((m) => [Number(m[1]), Number(m[2])]);
    assert.deepEqual(order, xSeqs.map((x, i) => [i + 1, x]), 'sequence numbers follow the file order');
    const results: string[] = [];
    for (const [i, command] of commands.entries()) results.push(await send(`t${i}`, command));
    child.stdin.end('z LOGOUT\r\n');
    await exited;
    return results;
  } finally {
    child.kill();
  }
}

/** The numbers of a "* SEARCH", "* SORT" or "* THREAD" response line ("" when empty). */
export function untaggedData(text: string, name: 'SEARCH' | 'SORT' | 'THREAD'): string {
  const match = new RegExp(`^\\* ${name}(?: ([^\\r\\n]*))?\\r$`, 'm').exec(text);
  assert.ok(match, `no * ${name} in ${text}`);
  return (match[1] ?? '').trim();
}
