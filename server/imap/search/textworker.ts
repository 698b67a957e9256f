// The worker thread of textpool.ts: answers SEARCH TEXT / BODY strings for batches of messages.

import { parentPort } from 'node:worker_threads';
import type { TextNeedle } from './textscan.js';
import { answer, type WorkerReply, type WorkerRequest } from './textpool.js';

const needles = new Map<string, TextNeedle>();

parentPort?.on('message', (request: WorkerRequest) => {
  let reply: WorkerReply;
  try {
    const raws: Buffer[] = [];
    for (let i = 0; i + 1 < request.offsets.length; i++) raws.push(Buffer.from(request.bytes, request.offsets[i], request.offsets[i + 1] - request.offsets[i]));
    reply = { id: request.id, answers: answer(raws, request.layouts, request.jobs, needles) };
  } catch (error) {
    reply = { id: request.id, error: String(error) };
  }
  if (reply.answers) parentPort!.postMessage(reply, [reply.answers.buffer as ArrayBuffer]);
  else parentPort!.postMessage(reply);
});
