// Benchmark corpus: a deterministic generator of realistic Maildir folders.
//
//   node --import tsx bench/corpus.ts --n 10000 [--out DIR]
//
// Without --out it fills (or reuses) the cache under /tmp/imapd-bench/cache/ and prints its path.
// The same seed and GENERATOR_VERSION always give byte-identical files and names, so figures from
// different runs and different servers are comparable. A manifest (JSON beside the Maildir) records
// what searches must find: how many messages contain each marker word, and how many are from each
// sender, so a benchmark can check the answers as well as time them.

import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { option } from './args.js';
import { MARKER_WORDS, MessageFactory, Pools, TARGET_SENDER } from './corpus-messages.js';
import { Rng } from './corpus-rng.js';

export { MARKER_WORDS, TARGET_SENDER } from './corpus-messages.js';
export { Rng } from './corpus-rng.js';

/** Bump whenever the output changes: the cache is keyed by it. */
export const GENERATOR_VERSION = 1;
export const BENCH_ROOT = process.env.IMAPD_BENCH_DIR ?? '/tmp/imapd-bench';
const DEFAULT_SEED = 20240601;

export interface CorpusManifest {
  version: number;
  seed: number;
  messages: number;
  totalBytes: number;
  largestBytes: number;
  /** message counts by size bucket: "<4K", "4-16K", "16-64K", ">=64K" */
  sizeBuckets: Record<string, number>;
  kinds: Record<string, number>;
  /** messages whose decoded body text contains the word (case-insensitive substring) */
  markerHits: Record<string, number>;
  /** messages whose From header (decoded) contains the name */
  senderHits: Record<string, number>;
  /** messages with In-Reply-To */
  replies: number;
  encodedHeaders: number;
  flags: Record<string, number>;
  generatedMs: number;
}

// ---------- Maildir writing and cache ----------

const HOST = 'bench.example.com';
const PID = 4242;

/** Courier-style file name without the info part. */
function baseName(time: number, seq: number, size: number): string {
  return `${time}.M${seq}P${PID}.${HOST},S=${size}`;
}

/**
 * Writes a Maildir with `count` messages in INBOX (all in cur/) plus small Sent/Trash folders.
 * `dir` must not exist. Returns the manifest (also written as `<dir>.json` by the cache).
 */
export function generateMaildir(dir: string, count: number, seed = DEFAULT_SEED): CorpusManifest {
  const started = Date.now();
  const rng = new Rng(seed);
  const pools = new Pools(rng);
  const factory = new MessageFactory(rng, pools, count);
  for (const sub of ['cur', 'new', 'tmp']) fs.mkdirSync(path.join(dir, sub), { recursive: true, mode: 0o755 });
  const manifest: CorpusManifest = {
    version: GENERATOR_VERSION, seed, messages: count, totalBytes: 0, largestBytes: 0,
    sizeBuckets: { '<4K': 0, '4-16K': 0, '16-64K': 0, '>=64K': 0 }, kinds: {},
    markerHits: Object.fromEntries(Object.keys(MARKER_WORDS).map((w) => [w, 0])),
    senderHits: { [TARGET_SENDER.name]: 0 }, replies: 0, encodedHeaders: 0, flags: {}, generatedMs: 0,
  };
  const cur = path.join(dir, 'cur');
  for (let i = 1; i <= count; i++) {
    const m = factory.build(i);
    const size = m.bytes.length;
    const file = path.join(cur, `${baseName(m.time, i, size)}:2,${m.flags}`);
    fs.writeFileSync(file, m.bytes);
    // INTERNALDATE is the file's mtime: a few seconds after the Date header, as delivered
    const delivered = m.time + 2 + (i % 7);
    fs.utimesSync(file, delivered, delivered);
    manifest.totalBytes += size;
    manifest.largestBytes = Math.max(manifest.largestBytes, size);
    manifest.sizeBuckets[size < 4096 ? '<4K' : size < 16384 ? '4-16K' : size < 65536 ? '16-64K' : '>=64K']!++;
    manifest.kinds[m.kind] = (manifest.kinds[m.kind] ?? 0) + 1;
    for (const w of m.markers) manifest.markerHits[w]!++;
    if (m.fromTarget) manifest.senderHits[TARGET_SENDER.name]!++;
    if (m.reply) manifest.replies++;
    if (m.encodedHeader) manifest.encodedHeaders++;
    manifest.flags[m.flags || '(none)'] = (manifest.flags[m.flags || '(none)'] ?? 0) + 1;
  }
  // small subfolders so that LIST and STATUS have something to show
  const sentRng = new Rng(seed + 1);
  const sentFactory = new MessageFactory(sentRng, pools, 20);
  for (const [folder, n] of [['.Sent', 20], ['.Trash', 0], ['.Archive', 0]] as const) {
    for (const sub of ['cur', 'new', 'tmp']) fs.mkdirSync(path.join(dir, folder, sub), { recursive: true, mode: 0o755 });
    fs.writeFileSync(path.join(dir, folder, 'maildirfolder'), '');
    for (let i = 1; i <= n; i++) {
      const m = sentFactory.build(i);
      fs.writeFileSync(path.join(dir, folder, 'cur', `${baseName(m.time, i, m.bytes.length)}:2,S`), m.bytes);
    }
  }
  manifest.generatedMs = Date.now() - started;
  return manifest;
}

export interface Corpus {
  /** the cached, pristine Maildir: never hand this to a server, copy it first */
  dir: string;
  manifest: CorpusManifest;
}

/** Returns the cached corpus of `count` messages, generating it once (atomically) if needed. */
export function ensureCorpus(count: number, log: (line: string) => void = () => {}): Corpus {
  const cacheDir = path.join(BENCH_ROOT, 'cache');
  fs.mkdirSync(cacheDir, { recursive: true, mode: 0o755 });
  fs.chmodSync(BENCH_ROOT, 0o755);
  const dir = path.join(cacheDir, `corpus-v${GENERATOR_VERSION}-n${count}`);
  const manifestFile = `${dir}.json`;
  // a server run on the cached copy by mistake leaves its metadata files beside cur/: start over then
  const pristine = (): boolean =>
    fs.readdirSync(dir).every((e) => ['cur', 'new', 'tmp', '.Sent', '.Trash', '.Archive'].includes(e)) &&
    fs.readdirSync(path.join(dir, 'new')).length === 0;
  if (fs.existsSync(manifestFile) && fs.existsSync(path.join(dir, 'cur')) && pristine()) {
    return { dir, manifest: JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as CorpusManifest };
  }
  const staging = `${dir}.partial-${process.pid}`;
  fs.rmSync(staging, { recursive: true, force: true });
  fs.rmSync(dir, { recursive: true, force: true });
  log(`generating ${count} messages into ${dir} ...`);
  const manifest = generateMaildir(staging, count);
  fs.renameSync(staging, dir);
  fs.writeFileSync(manifestFile, JSON.stringify(manifest, null, 2) + '\n');
  log(`generated ${count} messages, ${(manifest.totalBytes / 1048576).toFixed(0)} MB, in ${(manifest.generatedMs / 1000).toFixed(1)} s`);
  return { dir, manifest };
}

/** A fresh, writable copy of a corpus (cp -a keeps names and mtimes). `dest` is replaced. */
export function freshCopy(corpus: Corpus, dest: string): string {
  fs.rmSync(dest, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(dest), { recursive: true, mode: 0o755 });
  execFileSync('cp', ['-a', corpus.dir, dest], { stdio: 'inherit' });
  return dest;
}

// ---------- command line ----------

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const count = Number(option('--n') ?? 10000);
  if (!Number.isInteger(count) || count < 1) {
    process.stderr.write('usage: corpus.ts --n COUNT [--out DIR] [--seed N]\n');
    process.exit(2);
  }
  const out = option('--out');
  if (out) {
    if (fs.existsSync(out)) {
      process.stderr.write(`${out} exists; give a new directory\n`);
      process.exit(2);
    }
    const manifest = generateMaildir(out, count, Number(option('--seed') ?? DEFAULT_SEED));
    process.stdout.write(JSON.stringify(manifest, null, 2) + '\n');
  } else {
    const corpus = ensureCorpus(count, (l) => process.stderr.write(l + '\n'));
    process.stdout.write(corpus.dir + '\n' + JSON.stringify(corpus.manifest, null, 2) + '\n');
  }
}
