// Messages between the server thread (fts-index.ts) and the index writer (fts-worker.ts).

export interface FtsRequest {
  id: number;
  /** The index file. */
  path: string;
  uidValidity: number;
  /** Messages to add: their UIDs and files. */
  uids: number[];
  files: string[];
  /** UIDs to take out (expunged). */
  remove: number[];
  /** The last batch for now: close the file after it. */
  last?: boolean;
  /** Only close the file. */
  close?: boolean;
  /** With close: remove the file (it is corrupt); the next batch makes it again. */
  rebuild?: boolean;
}

export interface FtsResponse {
  id: number;
  indexed: number;
  /** UIDs whose file was not there (expunged or renamed meanwhile). */
  missing: number[];
  error?: string;
  code?: string;
}
