// A small pool of worker threads that read and parse message files the caches do not know yet
// (the first FETCH of a folder reads every file in full: RFC822.SIZE needs its bare LFs
// counted). Reading and parsing is most of that work, and a worker does it with the same code
// as the server thread (derive.ts, parseworker.ts), so the server thread is left with the
// responses and the cache files, and a second core helps.
//
// Workers are started on first use and kept (unreferenced while idle, so they never keep the
// process alive). If one cannot be started or fails, the pool is switched off and the server
// thread parses as before. IMAPD_PARSE_WORKERS sets their number (default 0: see below).

import { Worker } from 'node:worker_threads';

/** Job flags: what to compute, and which records the caches hold already. */
export const JOB_INFO = 1;
export const JOB_ENVELOPE = 2;
export const JOB_HEADER = 4;
export const JOB_STRUCTURE = 8;
export const JOB_HAS_HEADER = 16;
export const JOB_HAS_ENVELOPE = 32;
export const JOB_HAS_STRUCTURE = 64;

/** Per job in PoolResponse.meta: status, size, internal date, file size (size -1: no info), then
 * the lengths of the envelope, header and structure records (-1: none), then one spare. */
export const RESULT_FIELDS = 8;
export const STATUS_OK = 1;
export const STATUS_MISSING = 2;
export const STATUS_FAILED = 3;

export interface PoolRequest {
  id: number;
  files: string[];
  flags: number[];
  /** RFC822.SIZE from the name, -1 when it has none. */
  sizes: number[];
}

export interface PoolResponse {
  id: number;
  meta: Float64Array;
  /** The records, one after the other in job order. */
  data: ArrayBuffer;
}

/** Fewer jobs than this are done in the server thread (a round trip costs more). */
export const POOL_MIN_JOBS = 16;

interface Slot {
  worker: Worker;
  /** Requests sent and not answered. */
  pending: number;
  /** Its modules are loaded. */
  ready: boolean;
}

interface Waiting {
  request: PoolRequest;
  resolve: (response: PoolResponse) => void;
  reject: (error: Error) => void;
}

export class ParsePool {
  private readonly slots: Slot[] = [];
  private readonly inFlight = new Map<number, Waiting>();
  private nextId = 1;
  private broken = false;
  private ready = 0;
  /** Jobs the workers have answered (tests look). */
  handled = 0;

  constructor(private readonly size: number) {}

  /** Whether workers can take jobs now. The first call starts them (their modules take a while
   * to load: until they say they are ready, the server thread does the work itself). */
  get usable(): boolean {
    if (this.broken || this.size === 0) return false;
    this.start();
    return this.ready > 0;
  }

  /** Workers ready for jobs. */
  get workers(): number {
    return this.ready;
  }

  /** Runs the jobs, split evenly over the workers (all handed over at once, so that they work
   * while this thread does its own share); results in job order. Rejects when the pool broke. */
  async run(files: readonly string[], flags: readonly number[], sizes: readonly number[]): Promise<PoolResponse[]> {
    this.start();
    const parts: Promise<PoolResponse>[] = [];
    const slots = this.slots.filter((slot) => slot.ready);
    const per = Math.ceil(files.length / Math.max(slots.length, 1));
    for (let i = 0, w = 0; i < files.length; i += per, w++) {
      const request: PoolRequest = { id: this.nextId++, files: files.slice(i, i + per), flags: flags.slice(i, i + per), sizes: sizes.slice(i, i + per) };
      parts.push(new Promise<PoolResponse>((resolve, reject) => this.send(slots[w % slots.length], { request, resolve, reject })));
    }
    return Promise.all(parts);
  }

  private start(): void {
    if (this.slots.length > 0 || this.broken) return;
    // Under tsx (the tests run the sources) a worker does not get tsx's loader from --import:
    // it registers it itself before loading the .ts entry.
    const here = import.meta.url;
    const fromSource = here.endsWith('.ts');
    const entry = new URL(fromSource ? './parseworker.ts' : './parseworker.js', here);
    const boot = `import('tsx/esm/api').then((api) => { api.register(); return import(${JSON.stringify(entry.href)}); })`;
    try {
      for (let i = 0; i < this.size; i++) {
        const worker = fromSource ? new Worker(boot, { eval: true }) : new Worker(entry);
        const slot: Slot = { worker, pending: 0, ready: false };
        worker.on('message', (response: PoolResponse | 'ready') => {
          if (response !== 'ready') this.done(slot, response);
          else if (!slot.ready) {
            slot.ready = true;
            this.ready++;
          }
        });
        worker.on('error', (error: Error) => this.fail(error));
        worker.on('exit', (code) => {
          if (!this.broken) this.fail(new Error(`parse worker exited (${code})`));
        });
        worker.unref(); // after the listeners: adding a 'message' listener refs the port again
        this.slots.push(slot);
      }
    } catch (error) {
      this.fail(error instanceof Error ? error : new Error(String(error)));
    }
  }

  private send(slot: Slot | undefined, waiting: Waiting): void {
    if (!slot || this.broken) {
      waiting.reject(new Error('no parse workers'));
      return;
    }
    if (slot.pending++ === 0) slot.worker.ref(); // the process waits for an answer
    this.inFlight.set(waiting.request.id, waiting);
    slot.worker.postMessage(waiting.request);
  }

  private done(slot: Slot, response: PoolResponse): void {
    if (--slot.pending === 0) slot.worker.unref();
    const waiting = this.inFlight.get(response.id);
    this.inFlight.delete(response.id);
    this.handled += response.meta.length / RESULT_FIELDS;
    waiting?.resolve(response);
  }

  private fail(error: Error): void {
    if (this.broken) return;
    this.broken = true;
    for (const waiting of this.inFlight.values()) waiting.reject(error);
    this.inFlight.clear();
    for (const slot of this.slots) void slot.worker.terminate();
    this.slots.length = 0;
    this.ready = 0;
  }

  /** Stops the workers (tests; the process does not wait for them anyway). */
  async close(): Promise<void> {
    const slots = this.slots.splice(0);
    this.broken = true;
    this.ready = 0;
    await Promise.all(slots.map((slot) => slot.worker.terminate()));
  }
}

let shared: ParsePool | undefined;

/** The process's pool: IMAPD_PARSE_WORKERS workers (default none). Measured on a shared 2-core
 * machine, a worker did not make the first FETCH faster (the two threads slowed each other
 * down, and the worker loads its own copy of the parser) and took 30 MB more: opt-in. */
export function sharedParsePool(): ParsePool {
  if (!shared) {
    const setting = process.env.IMAPD_PARSE_WORKERS;
    shared = new ParsePool(setting !== undefined && /^\d+$/.test(setting) ? Math.min(Number(setting), 8) : 0);
  }
  return shared;
}
