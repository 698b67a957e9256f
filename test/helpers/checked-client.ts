// Test sessions whose every response goes through an UntaggedChecker: over a socket to
// a network server (logged in with LOGIN), or on the stdio of an `imapd` process of its
// own (PREAUTH), so that one test can run the same script in-process and across processes;
// or in a peer's process (Dovecot, Courier), to run the same script against a reference.

import { spawn } from 'node:child_process';
import net from 'node:net';
import { ImapTestClient, spawnImapd, type Reply } from './imap-client.js';
import { UntaggedChecker } from './untagged-checker.js';

export interface CheckedSession {
  readonly name: string;
  readonly check: UntaggedChecker;
  /** Send a command, read its response, feed it to the checker. */
  command(text: string): Promise<Reply>;
  append(mailbox: string, message: Buffer, extra?: string): Promise<Reply>;
  /**
   * IDLE for `ms`, then DONE; the pushed lines are checked as IDLE's. With `until`, DONE as soon
   * as it holds for the lines pushed so far (`ms` is then only the limit).
   */
  idle(ms: number, until?: (lines: string[]) => boolean): Promise<Reply>;
  close(): Promise<void>;
}

function wrap(name: string, client: ImapTestClient, close: () => Promise<void>): CheckedSession {
  const check = new UntaggedChecker(name);
  return {
    name,
    check,
    async command(text) {
      const reply = await client.command(text);
      check.feed(text, reply.lines, reply.tag);
      return reply;
    },
    async append(mailbox, message, extra = '') {
      const reply = await client.append(mailbox, message, extra);
      check.feed(`APPEND ${mailbox}`, reply.lines);
      return reply;
    },
    async idle(ms, until) {
      const tag = client.nextTag();
      client.send(`${tag} IDLE\r\n`);
      check.begin('IDLE');
      for (;;) {
        const line = (await client.readResponseLine()).toString('latin1');
        if (line.startsWith('+')) break;
        check.line(line);
        if (line.startsWith(`${tag} `)) throw new Error(`IDLE refused: ${line}`);
      }
      const pushed: string[] = [];
      if (until) {
        const deadline = Date.now() + ms;
        while (!until(pushed) && Date.now() < deadline) {
          let line: string;
          try {
            line = (await client.readResponseLine(deadline - Date.now())).toString('latin1');
          } catch {
            break;
          }
          check.line(line);
          pushed.push(line);
        }
      } else {
        await new Promise((resolve) => setTimeout(resolve, ms));
      }
      client.send('DONE\r\n');
      const reply = await client.readUntilTagged(tag);
      for (const line of reply.lines) check.line(line);
      check.end();
      return { ...reply, lines: [...pushed, ...reply.lines] };
    },
    close,
  };
}

/** A session on the network server at `port`, logged in. */
export async function networkSession(name: string, port: number, user: string, password: string): Promise<CheckedSession> {
  const socket = net.connect(port, '127.0.0.1');
  const client = new ImapTestClient(socket, socket);
  await client.greeting;
  const login = await client.command(`LOGIN ${user} ${password}`);
  if (!login.tagged.startsWith('OK')) throw new Error(`LOGIN failed: ${login.tagged}`);
  return wrap(name, client, async () => {
    try {
      await client.command('LOGOUT', 3000);
    } catch {
      /* already gone */
    }
    socket.destroy();
  });
}

/** A session in an `imapd` process of its own on `maildir`. */
export async function processSession(name: string, maildir: string, env: Record<string, string> = {}): Promise<CheckedSession> {
  const imapd = spawnImapd(maildir, env);
  await imapd.client.greeting;
  return wrap(name, imapd.client, () => imapd.close());
}

/** A session in a peer's PREAUTH process (test/peers/*-preauth.sh MAILDIR), to hold the checker and the scripts against a reference server. */
export async function peerSession(name: string, script: string, maildir: string): Promise<CheckedSession> {
  const child = spawn(script, [maildir], { stdio: ['pipe', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '' } });
  child.stderr.resume();
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const client = new ImapTestClient(child.stdout, child.stdin);
  await client.greeting;
  return wrap(name, client, async () => {
    try {
      await client.command('LOGOUT', 3000);
    } catch {
      /* already gone */
    }
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  });
}

/** Where two checked sessions on one folder run: one network server, two imapd processes, or Dovecot. */
export type PairMode = 'network' | 'processes' | 'dovecot';

/** Two sessions A and B on alice's Maildir (network mode: the server on `port`, password "secret"). */
export async function sessionPair(mode: PairMode, port: number, maildir: string, dovecotScript: string): Promise<[CheckedSession, CheckedSession]> {
  if (mode === 'network') return [await networkSession('A', port, 'alice', 'secret'), await networkSession('B', port, 'alice', 'secret')];
  if (mode === 'processes') return [await processSession('A', maildir), await processSession('B', maildir)];
  return [await peerSession('A', dovecotScript, maildir), await peerSession('B', dovecotScript, maildir)];
}

/** Run a command that must answer OK; its untagged lines. */
export async function commandOk(session: CheckedSession, command: string): Promise<string[]> {
  const reply = await session.command(command);
  if (!/^OK/.test(reply.tagged)) throw new Error(`${session.name}: ${command} -> ${reply.tagged}`);
  return reply.lines;
}

/**
 * NOOP until `done` holds for the untagged lines of all of them so far (in order), for at most
 * `timeoutMs`: what another process changed reaches a session through its file watcher, which
 * a loaded machine may delay well beyond any fixed pause.
 */
export async function noopUntil(session: CheckedSession, done: (lines: string[]) => boolean, timeoutMs = 15_000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  const lines: string[] = [];
  for (;;) {
    lines.push(...(await commandOk(session, 'NOOP')));
    if (done(lines) || Date.now() > deadline) return lines;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
