// run.ts's two SELECTs alone, for before/after comparisons of opening a folder: on a fresh copy
// of the corpus, session 1 selects (cold), lists, stores and appends; then messages are
// delivered into new/ and session 2, a new process, selects and lists.
//   node --import tsx bench/reopen.ts [--n 10000] [--rounds 5] [--appends 200] [--deliveries 200] [--dists dist,dist-before]
// Builds are alternated in each round; medians of wall time and of the server's CPU (user + system).
// IMAP_FTS_INDEX=0: the full-text writer stays out of the figures.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { option } from './args.js';
import { BENCH_ROOT, ensureCorpus, freshCopy } from './corpus.js';
import { shebangOptions, spawnPreauth, stopProcess, type ServerProcess } from './imap-client.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const n = Number(option('--n', '10000'));
const rounds = Number(option('--rounds', '5'));
const appends = Number(option('--appends', '200'));
const deliveries = Number(option('--deliveries', '200'));
const dists = option('--dists', 'dist').split(',').map((d) => path.resolve(HERE, '..', d));
const LOG = path.join(BENCH_ROOT, 'logs', 'reopen.log');
fs.mkdirSync(path.dirname(LOG), { recursive: true });
const LISTING = 'FETCH 1:* (UID FLAGS RFC822.SIZE ENVELOPE)';

function cpuMs(pid: number): number {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'latin1').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
}

function message(i: number, crlf: boolean): Buffer {
  const eol = crlf ? '\r\n' : '\n';
  const head = [`From: Bench <bench@example.org>`, `To: alice@example.com`, `Subject: message ${i}`, `Message-ID: <reopen.${i}@example.org>`, ''].join(eol);
  return Buffer.from(`${head}${eol}${`body of message ${i}${eol}`.repeat(200)}`, 'latin1');
}

/** Into new/ through tmp/, as a delivery agent does. */
function deliver(maildir: string, count: number): void {
  const now = Math.floor(Date.now() / 1000);
  for (let i = 0; i < count; i++) {
    const name = `${now}.M${i}P${process.pid}Q${i}.reopen.example.com`;
    fs.writeFileSync(path.join(maildir, 'tmp', name), message(10_000 + i, false));
    fs.renameSync(path.join(maildir, 'tmp', name), path.join(maildir, 'new', name));
  }
}

async function timed(proc: ServerProcess, command: string): Promise<{ ms: number; cpu: number }> {
  const cpu0 = cpuMs(proc.pid);
  const r = await proc.client.command(command, { timeoutMs: 600_000 });
  if (r.status !== 'OK') throw new Error(`${command}: ${r.status} ${r.text}`);
  return { ms: r.ms, cpu: cpuMs(proc.pid) - cpu0 };
}

async function start(dist: string, maildir: string, nodeArgs: string[] = []): Promise<ServerProcess> {
  const imapd = path.join(dist, 'server/bin/imapd.js');
  const proc = spawnPreauth([process.execPath, ...shebangOptions(imapd), ...nodeArgs, imapd, maildir], 'ours', LOG, { ...process.env, IMAP_FTS_INDEX: '0' });
  await proc.client.greeting(600_000);
  return proc;
}

async function stop(proc: ServerProcess): Promise<void> {
  await proc.client.command('LOGOUT', { timeoutMs: 10_000 });
  await stopProcess(proc.child, 5000);
}

type Figures = Record<'select1' | 'select2' | 'list2', { ms: number; cpu: number }[]>;
const results = new Map<string, Figures>(dists.map((d) => [d, { select1: [], select2: [], list2: [] }]));
const corpus = ensureCorpus(n, (l) => process.stderr.write(l + '\n'));
const loads: string[] = [];
for (let round = 0; round < rounds; round++) {
  for (const dist of round % 2 ? [...dists].reverse() : dists) {
    const figures = results.get(dist)!;
    const maildir = freshCopy(corpus, path.join(BENCH_ROOT, 'work', `reopen-n${n}`));
    const one = await start(dist, maildir);
    figures.select1.push(await timed(one, 'SELECT INBOX'));
    await timed(one, LISTING);
    await timed(one, 'UID STORE 1:1000 +FLAGS (\\Seen)');
    for (let i = 0; i < appends; i++) {
      const r = await one.client.append('INBOX', '\\Seen', message(i, true), 60_000);
      if (r.status !== 'OK') throw new Error(`APPEND: ${r.text}`);
    }
    await stop(one);
    deliver(maildir, deliveries);
    // PROFILE_DIR: a CPU profile of each session 2 (node's --cpu-prof) goes there.
    const two = await start(dist, maildir, process.env.PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.PROFILE_DIR}`] : []);
    figures.select2.push(await timed(two, 'SELECT INBOX'));
    figures.list2.push(await timed(two, LISTING));
    await stop(two);
    loads.push(fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '));
  }
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(`n=${n}, ${rounds} rounds, ${appends} appends, ${deliveries} deliveries; load averages: ${loads.join(', ')}`);
for (const [dist, figures] of results) {
  const line = Object.entries(figures).map(([k, v]) => `${k} ${median(v.map((x) => x.ms)).toFixed(1)} ms (cpu ${median(v.map((x) => x.cpu))} ms)`);
  console.log(`${path.relative(path.resolve(HERE, '..'), dist).padEnd(12)} ${line.join('  ')}`);
}
