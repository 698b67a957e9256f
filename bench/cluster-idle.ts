// Cross-server IDLE (bench/cluster.ts, part a): N clients per server SELECT one INBOX and IDLE;
// a writer client on server A, then one on server B, APPENDs a message or turns \Flagged of
// message 1 on or off; every IDLE client, on both servers, must hear of it exactly once
// (`* n EXISTS` for the n-th message, `* 1 FETCH (FLAGS (...))` with the new state). The latency
// is from the writer sending its command to the IDLE client reading the notification; the
// other server's clients (cross) and the writer's own server's (same) are counted apart.

import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { connectTcp, type CommandResult, type ImapClient, type ImapResponse } from './imap-client.js';

export interface IdleFigures {
  perServer: number;
  rounds: number;
  /** Latencies (ms) of clients on the other server than the writer's, and on the same one. */
  cross: number[];
  same: number[];
  /** Notifications that did not arrive within the deadline. */
  missed: number;
  /** A `* n EXISTS` a client had already been given, or a second FETCH of the same change. */
  duplicates: number;
  /** A FETCH or EXISTS no change explains. */
  unexpected: number;
  /** The writers' APPEND and STORE round trips (ms). */
  writerMs: number[];
  /** Clients that ended their IDLE without a tagged OK, or whose connection failed. */
  broken: number;
  setupSeconds: number;
}

interface Expectation {
  kind: 'exists' | 'flags';
  n: number;
  flagged: boolean;
  t0: number;
  arrivedAt?: number;
}

interface Idler {
  server: number;
  socket: Socket;
  client: ImapClient;
  idle?: Promise<CommandResult>;
  exists: Set<number>;
  expect?: Expectation;
  figures: IdleFigures;
}

const EXISTS = /^\* (\d+) EXISTS/i;
const FETCH_FLAGS = /^\* (\d+) FETCH \(.*FLAGS \(([^)]*)\)/i;
const DEADLINE_MS = 5000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function login(port: number, label: string): Promise<{ socket: Socket; client: ImapClient }> {
  const conn = await connectTcp(port, label, 30_000);
  await conn.client.greeting(30_000);
  for (const command of ['LOGIN alice secret', 'SELECT INBOX']) {
    const r = await conn.client.command(command, { timeoutMs: 60_000, onUntagged: () => undefined });
    if (r.status !== 'OK') throw new Error(`${label}: ${command}: ${r.status} ${r.text.slice(0, 80)}`);
  }
  return conn;
}

function onNotification(c: Idler, r: ImapResponse): void {
  const e = c.expect;
  const exists = EXISTS.exec(r.text);
  if (exists) {
    const n = Number(exists[1]);
    if (c.exists.has(n)) c.figures.duplicates++;
    else if (!(e?.kind === 'exists' && n === e.n)) c.figures.unexpected++;
    c.exists.add(n);
    if (e?.kind === 'exists' && n === e.n && e.arrivedAt === undefined) e.arrivedAt = r.at;
    return;
  }
  const fetch = FETCH_FLAGS.exec(r.text);
  if (!fetch) return; // RECENT, keep-alive OKs
  const flagged = /\\Flagged/i.test(fetch[2]!);
  if (e?.kind === 'flags' && Number(fetch[1]) === e.n && flagged === e.flagged) {
    if (e.arrivedAt === undefined) e.arrivedAt = r.at;
    else c.figures.duplicates++;
  } else c.figures.unexpected++;
}

async function startIdler(port: number, server: number, figures: IdleFigures): Promise<Idler> {
  const conn = await login(port, `idle@${server}`);
  const c: Idler = { server, ...conn, exists: new Set([0]), figures };
  const handler = (r: ImapResponse) => onNotification(c, r);
  c.client.onUnsolicited = handler;
  const go = c.client.waitFor((r) => r.text.startsWith('+'), 30_000, 'IDLE continuation');
  c.idle = c.client.command('IDLE', { timeoutMs: 3 * 3600_000, onUntagged: handler });
  c.idle.catch(() => undefined);
  await Promise.race([go, c.idle.then((r) => Promise.reject(new Error(`IDLE: ${r.status} ${r.text.slice(0, 80)}`)))]);
  return c;
}

/** Runs `work` over 0..count-1 with at most `limit` at a time. */
async function pool(count: number, limit: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, count) }, async () => {
    while (next < count) await work(next++);
  }));
}

export async function measureIdle(ports: readonly number[], perServer: number, rounds: number, message: (n: number) => Buffer, log: (line: string) => void): Promise<IdleFigures> {
  const figures: IdleFigures = { perServer, rounds, cross: [], same: [], missed: 0, duplicates: 0, unexpected: 0, writerMs: [], broken: 0, setupSeconds: 0 };
  const setup = performance.now();
  const idlers: Idler[] = [];
  await pool(perServer * ports.length, 20, async (i) => {
    idlers.push(await startIdler(ports[i % ports.length]!, i % ports.length, figures));
  });
  figures.setupSeconds = (performance.now() - setup) / 1000;
  log(`${idlers.length} clients in IDLE (${perServer} per server) in ${figures.setupSeconds.toFixed(1)} s`);
  const writers = await Promise.all(ports.map((p, i) => login(p, `writer@${i}`)));
  for (const w of writers) w.client.onUnsolicited = () => undefined;
  let messages = 0;
  let flagged = false;
  try {
    for (let r = 0; r < rounds; r++) {
      const server = r % ports.length;
      const writer = writers[server]!.client;
      // two APPEND rounds (A, then B), then two STORE rounds
      const append = r % 4 < 2;
      const t0 = performance.now();
      const expect = append ? { kind: 'exists' as const, n: messages + 1, flagged: false } : { kind: 'flags' as const, n: 1, flagged: !flagged };
      for (const c of idlers) c.expect = { ...expect, t0 };
      const result = append
        ? await writer.append('INBOX', '', message(r), 60_000, () => undefined)
        : await writer.command(`STORE 1 ${flagged ? '-' : '+'}FLAGS (\\Flagged)`, { timeoutMs: 60_000, onUntagged: () => undefined });
      if (result.status !== 'OK') throw new Error(`round ${r}: ${result.status} ${result.text.slice(0, 80)}`);
      figures.writerMs.push(result.ms);
      if (append) messages++;
      else flagged = !flagged;
      while (idlers.some((c) => c.expect!.arrivedAt === undefined && !c.client.isClosed) && performance.now() - t0 < DEADLINE_MS) await sleep(2);
      for (const c of idlers) {
        const e = c.expect!;
        if (e.arrivedAt === undefined) figures.missed++;
        else (c.server === server ? figures.same : figures.cross).push(e.arrivedAt - e.t0);
      }
      // a duplicate would come soon after the first: give it time to show before the next change
      await sleep(50);
    }
    await sleep(1000);
  } finally {
    for (const c of idlers) c.expect = undefined;
    await Promise.all(idlers.map(async (c) => {
      if (!c.client.isClosed) c.client.write('DONE\r\n');
      const done = await Promise.race([c.idle!.catch(() => undefined), sleep(10_000).then(() => undefined)]);
      if (!done || done.status !== 'OK') figures.broken++;
      c.socket.destroy();
    }));
    for (const w of writers) w.socket.destroy();
  }
  return figures;
}
