// The first ENVELOPE listing of a folder our server never saw, alone and repeated:
// `node --import tsx bench/listing.ts [--n 10000] [--rounds 5]`. Each round takes a fresh copy of
// the corpus, starts imapd (PREAUTH), sends SELECT INBOX and `FETCH 1:* (UID FLAGS RFC822.SIZE
// ENVELOPE)`, and reports the listing's wall time and the server's CPU (user + system, all
// threads) during it. With IMAPD_BENCH_BEFORE_DIST=DIR the other build runs in the same rounds,
// alternated (which one goes first alternates too); medians and the load average are printed.
// NODE_ARGS adds node options to ours (e.g. --cpu-prof --cpu-prof-dir=DIR); IMAP_FTS_INDEX is 0
// unless set, so that the full-text writer stays out of the figure.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnPreauth, stopProcess, shebangOptions } from './imap-client.js';
import { option } from './args.js';
import { BENCH_ROOT, ensureCorpus, freshCopy } from './corpus.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const count = Number(option('--n', '10000'));
const rounds = Number(option('--rounds', '5'));
const nodeArgs = process.env.NODE_ARGS ? process.env.NODE_ARGS.split(' ') : [];
const builds: [string, string][] = [['after', process.env.IMAPD_BENCH_DIST ?? path.join(HERE, '../dist')]];
if (process.env.IMAPD_BENCH_BEFORE_DIST) builds.push(['before', process.env.IMAPD_BENCH_BEFORE_DIST]);
const work = path.join(BENCH_ROOT, 'work', `listing-${process.pid}`);
const log = path.join(BENCH_ROOT, 'logs', 'listing.log');
fs.mkdirSync(path.dirname(log), { recursive: true });

function cpuMs(pid: number): number {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'latin1').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function round(dist: string): Promise<{ wall: number; cpu: number }> {
  const corpus = ensureCorpus(count);
  const maildir = freshCopy(corpus, path.join(work, 'Maildir'));
  const imapd = path.join(dist, 'server/bin/imapd.js');
  const argv = [process.execPath, ...shebangOptions(imapd), ...nodeArgs, imapd, maildir];
  const proc = spawnPreauth(argv, 'ours', log, { ...process.env, IMAP_FTS_INDEX: process.env.IMAP_FTS_INDEX ?? '0' });
  try {
    await proc.client.greeting(600_000);
    await proc.client.command('SELECT INBOX', { timeoutMs: 600_000 });
    const cpu0 = cpuMs(proc.pid);
    const r = await proc.client.command('FETCH 1:* (UID FLAGS RFC822.SIZE ENVELOPE)', { timeoutMs: 600_000 });
    if (r.status !== 'OK') throw new Error(`listing: ${r.status}`);
    const cpu = cpuMs(proc.pid) - cpu0;
    await proc.client.command('LOGOUT', { timeoutMs: 10_000 });
    return { wall: r.ms, cpu };
  } finally {
    await stopProcess(proc.child, 5000);
  }
}

const results = new Map<string, { wall: number[]; cpu: number[] }>(builds.map(([name]) => [name, { wall: [], cpu: [] }]));
for (let i = 0; i < rounds; i++) {
  const order = i % 2 === 0 ? builds : [...builds].reverse();
  for (const [name, dist] of order) {
    const r = await round(dist);
    results.get(name)!.wall.push(r.wall);
    results.get(name)!.cpu.push(r.cpu);
    console.log(`round ${i + 1} ${name.padEnd(6)} wall ${r.wall.toFixed(0)} ms  cpu ${r.cpu} ms  load ${fs.readFileSync('/proc/loadavg', 'latin1').split(' ')[0]}`);
  }
}
fs.rmSync(work, { recursive: true, force: true });
for (const [name, r] of results) {
  console.log(`${name.padEnd(6)} median wall ${median(r.wall).toFixed(0)} ms  cpu ${median(r.cpu).toFixed(0)} ms  (${count} messages, ${rounds} rounds)`);
}
console.log(`load average ${fs.readFileSync('/proc/loadavg', 'latin1').trim()}`);
