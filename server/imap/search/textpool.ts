// SEARCH TEXT / BODY answered on a worker thread, so that reading the next messages (on the
// main thread: file reads and the structure cache) and searching the last ones (decoding,
// matching) use both cores. One worker per process, started for the first large search and
// stopped when searches have been idle for a while; when it cannot run, the same work is done
// here.

import { Worker } from 'node:worker_threads';
import { bodyContains, headerContains, TextNeedle, type TextLayout } from './textscan.js';

/** A search string and what the search needs to know of it. */
export interface TextJob {
  /** Folded (foldForSearch). */
  folded: string;
  /** 'body': in the text parts; 'text': in a header or, failing that, in the text parts; 'both': each of them. */
  mode: 'body' | 'text' | 'both';
}

/** Bits of an answer, one byte per message and job. */
export const IN_BODY = 1;
export const IN_HEADER = 2;

export interface TextItem {
  raw: Buffer;
  layout: TextLayout;
}

/** The request a worker gets: the messages' bytes one after the other in `bytes`. */
export interface WorkerRequest {
  id: number;
  jobs: TextJob[];
  bytes: ArrayBuffer;
  /** Start of each message in `bytes`, and the end of the last. */
  offsets: number[];
  layouts: TextLayout[];
}

export interface WorkerReply {
  id: number;
  answers?: Uint8Array;
  error?: string;
}

/** The answers for messages, job after job (`jobs.length` bytes per message). */
export function answer(raws: readonly Buffer[], layouts: readonly TextLayout[], jobs: readonly TextJob[], needles: Map<string, TextNeedle>): Uint8Array {
  const answers = new Uint8Array(raws.length * jobs.length);
  const prepared = jobs.map((job) => {
    let needle = needles.get(job.folded);
    if (!needle) needles.set(job.folded, (needle = new TextNeedle(job.folded)));
    return needle;
  });
  for (let i = 0; i < raws.length; i++) {
    for (let j = 0; j < jobs.length; j++) {
      const { mode } = jobs[j];
      const needle = prepared[j];
      let bits = 0;
      if (mode !== 'body' && headerContains(raws[i], layouts[i], needle)) bits |= IN_HEADER;
      if (mode !== 'text' || bits === 0) {
        if (bodyContains(raws[i], layouts[i], needle)) bits |= IN_BODY;
      }
      answers[i * jobs.length + j] = bits;
    }
  }
  return answers;
}

/** Searches smaller than this are answered here: starting a worker costs more than it saves. */
export const WORKER_MIN_MESSAGES = 2000;
/** A worker nobody asked anything for this long is stopped (it holds some 10 MB). */
const IDLE_MS = 30_000;

const localNeedles = new Map<string, TextNeedle>();
let worker: Worker | undefined;
let workerBroken = false;
let nextId = 1;
const waiting = new Map<number, { resolve: (answers: Uint8Array) => void; reject: (error: Error) => void }>();
let idleTimer: NodeJS.Timeout | undefined;
const stopped = new Set<Worker>();
let answeredThere = 0;

/** Batches the worker has answered in this process (for tests). */
export function workerBatches(): number {
  return answeredThere;
}

/** Answers for these messages (null for one that is gone), on the worker when `large`. */
export async function answerText(items: readonly (TextItem | null)[], jobs: readonly TextJob[], large: boolean): Promise<(Uint8Array | null)[]> {
  const present = items.filter((item): item is TextItem => item !== null);
  let answers: Uint8Array | undefined;
  if (large && present.length > 0) answers = await onWorker(present, jobs);
  answers ??= answer(present.map((item) => item.raw), present.map((item) => item.layout), jobs, localNeedles);
  const out: (Uint8Array | null)[] = [];
  let k = 0;
  for (const item of items) out.push(item ? answers.subarray(k * jobs.length, ++k * jobs.length) : null);
  return out;
}

/** The answers from the worker; undefined when it cannot be used. */
async function onWorker(items: readonly TextItem[], jobs: readonly TextJob[]): Promise<Uint8Array | undefined> {
  const thread = startWorker();
  if (!thread) return undefined;
  // The messages are copied into one buffer that is handed over: the buffers themselves may be
  // shared with whoever read them.
  const offsets = [0];
  for (const item of items) offsets.push(offsets[offsets.length - 1] + item.raw.length);
  const bytes = new Uint8Array(offsets[offsets.length - 1]);
  items.forEach((item, i) => bytes.set(item.raw, offsets[i]));
  const id = nextId++;
  const request: WorkerRequest = { id, jobs: [...jobs], bytes: bytes.buffer, offsets, layouts: items.map((item) => item.layout) };
  const reply = new Promise<Uint8Array>((resolve, reject) => waiting.set(id, { resolve, reject }));
  thread.ref(); // a search in progress keeps the process up
  thread.postMessage(request, [bytes.buffer]);
  try {
    const answers = await reply;
    answeredThere++;
    return answers;
  } catch {
    return undefined; // the worker failed: answered here
  } finally {
    if (waiting.size === 0) {
      thread.unref();
      armIdleTimer();
    }
  }
}

function startWorker(): Worker | undefined {
  if (worker) return worker;
  if (workerBroken) return undefined;
  try {
    let thread: Worker;
    if (import.meta.url.endsWith('.ts')) {
      // Run from the TypeScript sources (tests, under tsx): the worker registers tsx itself.
      const file = new URL('./textworker.ts', import.meta.url).href;
      const tsx = import.meta.resolve('tsx/esm/api');
      thread = new Worker(`import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(file)}); });`, { eval: true });
    } else {
      thread = new Worker(new URL('./textworker.js', import.meta.url));
    }
    thread.unref();
    thread.on('message', (reply: WorkerReply) => {
      const entry = waiting.get(reply.id);
      if (!entry) return;
      waiting.delete(reply.id);
      if (reply.answers) entry.resolve(reply.answers);
      else entry.reject(new Error(reply.error ?? 'SEARCH worker failed'));
    });
    const fail = (error: Error): void => {
      if (worker === thread) worker = undefined;
      if (!workerBroken) process.emitWarning(`SEARCH worker thread failed, searching on the main thread from now on: ${error.message}`);
      workerBroken = true; // answered here from now on
      for (const entry of waiting.values()) entry.reject(error);
      waiting.clear();
    };
    thread.on('error', fail);
    thread.on('exit', (code) => {
      if (stopped.delete(thread)) return; // stopped for being idle
      fail(new Error(`SEARCH worker exited with code ${code}`));
    });
    worker = thread;
    return thread;
  } catch (error) {
    process.emitWarning(`SEARCH worker thread could not start, searching on the main thread: ${String(error)}`);
    workerBroken = true;
    return undefined;
  }
}

function armIdleTimer(): void {
  if (idleTimer) clearTimeout(idleTimer);
  idleTimer = setTimeout(() => {
    idleTimer = undefined;
    if (worker && waiting.size === 0) {
      const thread = worker;
      worker = undefined;
      stopped.add(thread);
      void thread.terminate();
    }
  }, IDLE_MS);
  idleTimer.unref();
}
