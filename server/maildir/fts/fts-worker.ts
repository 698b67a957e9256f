// The full-text index's writer (see fts-index.ts): reads message files, takes their text as
// SEARCH sees it and adds it to the folder's index, in a process of its own (forked by the
// server, in a session of its own) so that parsing, decoding and SQLite's inserts (some 2-3 ms
// of CPU a message) never hold up the sessions' commands.

import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { setPriority } from 'node:os';
import { indexPieces } from '../../mime/index-text.js';
import { parseStructure } from '../../mime/parse.js';
import { MESSAGE_READ_FLAGS, noMessageFile } from '../folderdir.js';
import { openForWriting, removeFtsFiles, writeTexts, type FtsDb, type MessageTokens } from './fts-db.js';
import { distinctTrigrams, distinctWords } from './fts-tokens.js';
import type { FtsRequest, FtsResponse } from './fts-protocol.js';

let open: { path: string; uidValidity: number; db: FtsDb } | undefined;

function database(path: string, uidValidity: number): FtsDb {
  if (open && (open.path !== path || open.uidValidity !== uidValidity)) closeDatabase();
  if (!open) open = { path, uidValidity, db: openForWriting(path, uidValidity) };
  return open.db;
}

/** Closed whenever the queue is empty: an open file would keep a folder from being renamed on Windows. */
function closeDatabase(): void {
  open?.db.close();
  open = undefined;
}

function readMessage(file: string): Buffer | null {
  let fd: number;
  try {
    fd = openSync(file, MESSAGE_READ_FLAGS);
  } catch (error) {
    if (noMessageFile(error)) return null;
    throw error;
  }
  try {
    return readFileSync(fd);
  } finally {
    closeSync(fd);
  }
}

function run(request: FtsRequest): FtsResponse {
  if (request.close) {
    closeDatabase();
    if (request.rebuild) removeFtsFiles(request.path);
    return { id: request.id, indexed: 0, missing: [] };
  }
  const db = database(request.path, request.uidValidity);
  // Trigrams are made before the write lock is taken: another process's writer waits only for the inserts.
  const texts: (MessageTokens | null)[] = request.files.map((file) => {
    const raw = readMessage(file);
    if (raw === null) return null;
    const { lines, texts: parts } = indexPieces(raw, parseStructure(raw).body);
    return { trigrams: distinctTrigrams([...lines, ...parts].join('\n')), words: distinctWords(parts) };
  });
  const { indexed, missing } = writeTexts(db, request.uids, texts, request.remove);
  if (request.last) closeDatabase();
  return { id: request.id, indexed, missing };
}

/**
 * The writer runs at the lowest CPU priority (nice 19), and on Linux so does its session's
 * autogroup (the scheduler's share between sessions): the server's commands come first.
 */
function lowerPriority(): void {
  try {
    setPriority(19);
  } catch {
    /* not allowed: the same priority as the server */
  }
  try {
    writeFileSync('/proc/self/autogroup', '19');
  } catch {
    /* not Linux, or no autogroups */
  }
}
lowerPriority();

const send = (message: FtsResponse | { ready: true }): void => {
  process.send!(message);
};
process.on('message', (request: FtsRequest) => {
  let response: FtsResponse;
  try {
    response = run(request);
  } catch (error) {
    closeDatabase();
    const e = error as { message?: string; code?: string };
    response = { id: request.id, indexed: 0, missing: [], error: e.message ?? String(error), code: e.code };
  }
  send(response);
});
// The server is gone (ended, or killed): so is its writer.
process.on('disconnect', () => {
  closeDatabase();
  process.exit(0);
});
send({ ready: true });
