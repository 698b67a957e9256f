// The full-text index of the folders (fts-db.ts for the file): answers which messages may
// contain a string, and brings a folder's index up to date in the background.
//
// Never trusted beyond what it covers: a message is covered when the coverage (the UIDs the
// writer has indexed, as runs: fts-coverage.ts), read in the same read transaction as the
// query's answer, holds it, so that mail the writer has not reached (new mail, a folder
// changed by another program, an index being rebuilt) is reported as not covered and SEARCH
// scans it. A message's text never changes under its UID, so a covered
// message stays right; an expunged one is simply not asked about.
//
// Writing happens in one writer process per server process (fts-worker.ts), in batches of BATCH
// messages, each one transaction; the server thread only lists what is missing and reads
// answers. A lost file is made again from scratch, a corrupt one is removed and made again.

import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { TextCandidates } from '../../backend/mailstore.js';
import type { Logger } from '../../log/logger.js';
import { corruptIndex, ftsPath, metaValue, openForReading, readCoverage, trigramQuery, type FtsDb } from './fts-db.js';
import { NO_RUNS, notIn, possibleAmong, runsCount, runsHave, runsUids, type UidRuns } from './fts-coverage.js';
import type { FtsRequest, FtsResponse } from './fts-protocol.js';
import { wordNeedle } from './fts-tokens.js';

/** Messages per batch sent to the writer: some 100-200 ms of its work. */
const BATCH = 128;
/** A folder's catch-up starts this long after the change that asked for it, so that a burst of deliveries is one catch-up. */
const SETTLE_MS = 500;
/** The writer's semi-spaces (V8's young generation is made of them), in MB. */
const WORKER_SEMI_SPACE_MB = 2;
/** The writer stops after this long without work (a session in IDLE keeps no idle writer's memory). */
const WORKER_IDLE_MS = 5_000;

/** A folder as the index sees it. */
export interface FtsTarget {
  readonly dir: string;
  readonly uidValidity: number;
  /** The folder's UIDs now, ascending. */
  uids(): readonly number[];
  /** The file of a message (in cur/), or undefined when it is gone. */
  fileName(uid: number): string | undefined;
}

export interface FtsProgress {
  done: number;
  total: number;
}

export interface CatchUpOptions {
  onProgress?(progress: FtsProgress): void;
  cancelled?(): boolean;
}

/** What a folder's index covers. */
interface Coverage {
  generation: string;
  uidValidity: number;
  runs: UidRuns;
}

/** The coverage, in the caller's transaction. */
function coverageIn(db: FtsDb): Coverage {
  return { generation: metaValue(db, 'generation') ?? '', uidValidity: Number(metaValue(db, 'uidvalidity')), runs: readCoverage(db) };
}

export class FullTextIndex {
  private readonly running = new Map<string, Promise<FtsProgress>>();
  /** The folder's UID list (the array, its length and last UID) when the index last had all of it. */
  private readonly settled = new Map<string, { uids: readonly number[]; count: number; last: number | undefined; generation: string }>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private worker: ChildProcess | undefined;
  private workerReady: Promise<ChildProcess> | undefined;
  private readonly waiting = new Map<number, (response: FtsResponse) => void>();
  private nextId = 1;
  private closed = false;
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly logger?: Logger,
    /** How long the writer thread may have nothing to do before it is stopped. */
    private readonly idleMs = WORKER_IDLE_MS,
  ) {}

  /**
   * Which messages may contain `folded` (foldForSearch's form): null when the index cannot
   * say (string too short or with a control character, no index yet, a broken file). A
   * corrupt file is removed, to be made again.
   */
  candidates(dir: string, uidValidity: number, folded: string): TextCandidates | null {
    const query = trigramQuery(folded);
    if (query === null) return null;
    const path = ftsPath(dir);
    let db: FtsDb | null = null;
    try {
      db = openForReading(path);
      if (!db) return null;
      const reader = db;
      return reader.transaction(() => {
        const coverage = coverageIn(reader);
        if (coverage.uidValidity !== uidValidity) return null;
        const runs = coverage.runs;
        const list = reader.prepare('SELECT rowid FROM text WHERE text MATCH ?').pluck().all(query) as number[];
        const matches = new Set(list);
        // A needle of letters and digits: the messages whose text parts have a word that starts
        // with it (the word itself, or a longer one) are matches.
        const proven = wordNeedle(folded) ? new Set(reader.prepare('SELECT rowid FROM words WHERE words MATCH ?').pluck().all(`"${folded}" *`) as number[]) : undefined;
        return {
          covers: (uid: number) => runsHave(runs, uid),
          mayContain: (uid: number) => matches.has(uid),
          contains: proven ? (uid: number) => proven.has(uid) && runsHave(runs, uid) : undefined,
          possibleAmong: (count: number, uidAt: (index: number) => number) => possibleAmong(runs, list, count, uidAt),
        };
      })();
    } catch (error) {
      this.trouble(path, error);
      return null;
    } finally {
      db?.close();
    }
  }

  /** Brings the folder's index up to date soon, in the background. */
  schedule(target: FtsTarget): void {
    if (this.closed || this.timers.has(target.dir)) return;
    const timer = setTimeout(() => {
      this.timers.delete(target.dir);
      this.catchUp(target).catch((error: unknown) => this.logger?.log('warn', 'full-text index not updated', { folder: target.dir, error: (error as Error).message }));
    }, SETTLE_MS);
    timer.unref();
    this.timers.set(target.dir, timer);
  }

  /** Indexes the folder's messages the index does not cover and takes out expunged ones. One at a time per folder. */
  catchUp(target: FtsTarget, options: CatchUpOptions = {}): Promise<FtsProgress> {
    const path = ftsPath(target.dir);
    const running = this.running.get(path);
    if (running) return running.catch(() => undefined).then(() => this.catchUp(target, options));
    const work = this.runCatchUp(target, path, options).finally(() => this.running.delete(path));
    this.running.set(path, work);
    return work;
  }

  private async runCatchUp(target: FtsTarget, path: string, options: CatchUpOptions): Promise<FtsProgress> {
    let coverage = this.coverageOf(path);
    if (coverage === 'old') {
      // Of an older version: the writer makes it again (empty), then it is read.
      const response = await this.request({ id: 0, path, uidValidity: target.uidValidity, uids: [], files: [], remove: [], last: true });
      if (response.error !== undefined) throw Object.assign(new Error(response.error), { code: response.code });
      coverage = this.coverageOf(path);
      if (coverage === 'old') coverage = null;
    }
    const uids = target.uids();
    // Nothing changed since the index last had every message (each SEARCH asks for a catch-up):
    // no pass over 100,000 UIDs on the server thread.
    const settled = this.settled.get(path);
    if (settled && coverage && settled.uids === uids && settled.count === uids.length && settled.last === uids.at(-1) && settled.generation === coverage.generation) {
      const progress = { done: uids.length, total: uids.length };
      options.onProgress?.({ ...progress });
      return progress;
    }
    this.settled.delete(path);
    const covered = coverage && coverage.uidValidity === target.uidValidity ? coverage.runs : NO_RUNS;
    const missing = notIn(covered, uids);
    // Every covered UID still here: nothing to take out, and no set of 100,000 UIDs to make.
    let remove: number[] = [];
    if (runsCount(covered) > uids.length - missing.length) {
      const present = new Set(uids);
      for (const uid of runsUids(covered)) if (!present.has(uid)) remove.push(uid);
    }
    const progress: FtsProgress = { done: uids.length - missing.length, total: uids.length };
    options.onProgress?.({ ...progress });
    if (missing.length === 0 && remove.length === 0) {
      if (coverage) this.settled.set(path, { uids, count: uids.length, last: uids.at(-1), generation: coverage.generation });
      return progress;
    }
    for (let start = 0; start < Math.max(missing.length, 1); start += BATCH) {
      if (options.cancelled?.() || this.closed) break;
      const batch = missing.slice(start, start + BATCH);
      const files: string[] = [];
      const batchUids: number[] = [];
      for (const uid of batch) {
        const name = target.fileName(uid);
        if (name === undefined) continue;
        batchUids.push(uid);
        files.push(join(target.dir, 'cur', name));
      }
      const last = start + BATCH >= missing.length;
      const response = await this.request({ id: 0, path, uidValidity: target.uidValidity, uids: batchUids, files, remove: start === 0 ? remove : [], last });
      if (response.error !== undefined) {
        throw Object.assign(new Error(response.error), { code: response.code });
      }
      progress.done += batch.length;
      options.onProgress?.({ ...progress });
    }
    return progress;
  }

  /** The coverage of an index file: null when there is none (or it is unreadable), 'old' when
   * it is of the version before. */
  private coverageOf(path: string): Coverage | null | 'old' {
    let db: FtsDb | null = null;
    try {
      db = openForReading(path);
      if (!db) return existsSync(path) ? 'old' : null;
      const reader = db;
      return reader.transaction(() => coverageIn(reader))();
    } catch (error) {
      this.trouble(path, error);
      return null;
    } finally {
      db?.close();
    }
  }

  /** A read failed: a corrupt file is removed (the next catch-up makes it again); other errors are logged. */
  private trouble(path: string, error: unknown): void {
    if (corruptIndex(error)) {
      this.logger?.log('warn', 'full-text index corrupt: made again', { file: path, error: (error as Error).message });
      void this.request({ id: 0, path, uidValidity: 0, uids: [], files: [], remove: [], close: true, rebuild: true }).catch(() => undefined);
    } else {
      this.logger?.log('warn', 'full-text index not read', { file: path, error: (error as Error).message });
    }
  }

  private request(request: FtsRequest): Promise<FtsResponse> {
    return this.started().then(
      (worker) =>
        new Promise<FtsResponse>((resolve) => {
          request.id = this.nextId++;
          clearTimeout(this.idleTimer);
          if (this.waiting.size === 0) holdOpen(worker, true);
          this.waiting.set(request.id, resolve);
          worker.send(request);
        }),
    );
  }

  /**
   * The writer is a process of its own, in a session of its own: on Linux the scheduler shares
   * the CPU between sessions (autogroups) before threads, so a writer thread, however low its
   * priority, made the server's own session wait behind other programs (NOOP's median 4-5 ms
   * instead of 1 on a loaded machine, at 10,000 messages); a writer process in its own session
   * at nice 19 leaves the server's commands as fast as without indexing.
   */
  private started(): Promise<ChildProcess> {
    if (this.closed) return Promise.reject(new Error('the full-text index is closed'));
    this.workerReady ??= new Promise<ChildProcess>((resolve, reject) => {
      // Under tsx (the tests run the sources) the writer loads tsx's loader too. A session of its
      // own (detached) where that means no console window of its own (not on Windows).
      const here = import.meta.url;
      const fromSource = here.endsWith('.ts');
      const entry = fileURLToPath(new URL(fromSource ? './fts-worker.ts' : './fts-worker.js', here));
      // A small young generation: the writer's garbage is one batch's texts, and V8's default
      // (16 MB semi-spaces) cost about twice the memory for no speed.
      const execArgv = [...(fromSource ? ['--import', 'tsx'] : []), `--max-semi-space-size=${WORKER_SEMI_SPACE_MB}`];
      const worker = fork(entry, [], { execArgv, detached: process.platform !== 'win32', stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
      worker.on('message', (message: FtsResponse | { ready: true }) => {
        if ('ready' in message) {
          // Held while it starts (a request waits for it), let go when idle.
          if (this.waiting.size === 0) {
            holdOpen(worker, false);
            this.stopWhenIdle(worker);
          }
          resolve(worker);
          return;
        }
        const resolveOne = this.waiting.get(message.id);
        this.waiting.delete(message.id);
        if (this.waiting.size === 0) {
          holdOpen(worker, false);
          this.stopWhenIdle(worker);
        }
        resolveOne?.(message);
      });
      const failed = (error: Error): void => {
        if (this.worker !== worker) return; // one stopped when idle
        this.workerReady = undefined;
        this.worker = undefined;
        for (const [id, resolveOne] of this.waiting) resolveOne({ id, indexed: 0, missing: [], error: error.message });
        this.waiting.clear();
        reject(error);
      };
      worker.on('error', failed);
      worker.on('exit', (code) => failed(new Error(`full-text index writer exited (${code})`)));
      this.worker = worker;
    });
    return this.workerReady;
  }

  /** Stops the worker once it has had nothing to do for WORKER_IDLE_MS; the next request starts another. */
  private stopWhenIdle(worker: ChildProcess): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      if (this.worker !== worker || this.waiting.size > 0) return;
      this.worker = undefined;
      this.workerReady = undefined;
      worker.kill();
    }, this.idleMs);
    this.idleTimer.unref();
  }

  /** Waits for the work under way and stops the worker. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.idleTimer);
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    await Promise.allSettled([...this.running.values()]);
    const worker = this.worker;
    this.worker = undefined;
    this.workerReady = undefined;
    if (worker && worker.exitCode === null && worker.signalCode === null) {
      worker.removeAllListeners('exit');
      const exited = new Promise((resolve) => worker.once('exit', resolve));
      holdOpen(worker, true); // until it has exited
      worker.kill();
      await exited;
    }
  }
}

/** Whether the writer keeps this process running (while a request is under way) or not. */
function holdOpen(worker: ChildProcess, hold: boolean): void {
  const channel = worker.channel as { ref?(): void; unref?(): void } | undefined;
  if (hold) {
    worker.ref();
    channel?.ref?.();
  } else {
    worker.unref();
    channel?.unref?.();
  }
}

let shared: FullTextIndex | undefined;

/** One index writer per process, shared by every store (the appliance opens one per account). */
export function sharedFullTextIndex(logger?: Logger): FullTextIndex {
  shared ??= new FullTextIndex(logger);
  return shared;
}

/**
 * At the end of a server process: the batch under way finishes and the writer is stopped and
 * waited for, so that nothing writes in the Maildirs once the server has gone (the writer
 * otherwise ends on its own when it notices, after its batch).
 */
export async function closeSharedFullTextIndex(): Promise<void> {
  const index = shared;
  shared = undefined;
  await index?.close();
}
