// The bench's BODY.PEEK[] step alone, repeated: `node --import tsx bench/bodies.ts MAILDIR [rounds] [ours|dovecot]`.
// Prints MB/s per round and the CPU time of server and client per MB. NODE_ARGS: node options for
// our server (e.g. --cpu-prof); IMAPD_BENCH_DIST: another build of ours (e.g. dist/ before a change); PRELUDE=1 runs the bench's earlier steps first; THREADS=1 prints
// the CPU time of each server thread (JIT and GC helpers).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnPreauth, stopProcess, memoryOf, shebangOptions } from './imap-client.js';
import { BENCH_ROOT } from './corpus.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
fs.mkdirSync(path.join(BENCH_ROOT, 'logs'), { recursive: true });
const maildir = process.argv[2]!;
const rounds = Number(process.argv[3] ?? 5);
const server = process.argv[4] ?? 'ours';
const imapd = path.join(process.env.IMAPD_BENCH_DIST ?? path.join(HERE, '../dist'), 'server/bin/imapd.js');
const argv = server === 'ours'
  ? [process.execPath, ...shebangOptions(imapd), ...(process.env.NODE_ARGS ? process.env.NODE_ARGS.split(' ') : []), imapd, maildir]
  : ['/bin/bash', path.join(process.env.IMAPD_PEERS ?? path.resolve(HERE, '../test/peers'), 'dovecot-preauth.sh'), maildir];
const proc = spawnPreauth(argv, server, path.join(BENCH_ROOT, 'logs', 'bodies.log'));
await proc.client.greeting(60_000);
await proc.client.command('SELECT INBOX', { timeoutMs: 60_000 });
const uids: number[] = [];
await proc.client.command('FETCH 1:* (UID)', { timeoutMs: 60_000, onUntagged: (r) => { const m = /UID (\d+)/.exec(r.text); if (m) uids.push(Number(m[1])); } });
if (process.env.PRELUDE) {
  for (const c of ['FETCH 1:* (UID FLAGS RFC822.SIZE ENVELOPE)', 'FETCH 1:* BODYSTRUCTURE', 'UID SEARCH TEXT "zorbulate"', 'UID SEARCH FROM "Wilhelmina Quist"']) {
    const r = await proc.client.command(c, { timeoutMs: 60_000 });
    console.log(c, r.ms.toFixed(0), 'ms');
  }
}
const chosen: number[] = [];
for (let i = 0; i < 1000; i++) chosen.push(uids[Math.floor((i * uids.length) / 1000)]!);
const set = chosen.join(',');
const cpu = (): number => {
  // utime + stime of the server (clock ticks of 10 ms), children included for the peer scripts' exec
  const f = fs.readFileSync(`/proc/${proc.pid}/stat`, 'latin1').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
};
const cpu0 = cpu();
function threads(): Map<string, number> {
  const out = new Map<string, number>();
  for (const t of fs.readdirSync(`/proc/${proc.pid}/task`)) {
    const f = fs.readFileSync(`/proc/${proc.pid}/task/${t}/stat`, 'latin1').split(') ')[1]!.split(' ');
    out.set(t, (Number(f[11]) + Number(f[12])) * 10);
  }
  return out;
}
const threads0 = threads();
const self0 = process.cpuUsage();
let totalBytes = 0;
const rates: number[] = [];
for (let r = 0; r < rounds; r++) {
  let bytes = 0;
  const res = await proc.client.command(`UID FETCH ${set} (BODY.PEEK[])`, { timeoutMs: 60_000, onUntagged: (x) => { bytes += x.literalBytes; } });
  rates.push(bytes / 1e6 / (res.ms / 1000));
  totalBytes += bytes;
}
rates.sort((a, b) => a - b);
console.log(`${server}: MB/s median ${rates[rates.length >> 1]!.toFixed(0)} all ${rates.map((x) => x.toFixed(0)).join(' ')} hwm ${(memoryOf(proc.pid)!.hwmKiB / 1024).toFixed(0)} MiB cpu ${((cpu() - cpu0) / (totalBytes / 1e6)).toFixed(2)} ms/MB client ${(((process.cpuUsage(self0).user + process.cpuUsage(self0).system) / 1000) / (totalBytes / 1e6)).toFixed(2)} ms/MB`);
if (process.env.THREADS) {
  const now = threads();
  console.log('threads during the rounds (ms):', [...now].map(([t, v]) => v - (threads0.get(t) ?? 0)).join(' '));
}
await proc.client.command('LOGOUT', { timeoutMs: 10_000 });
await stopProcess(proc.child, 5000);
