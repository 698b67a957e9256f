// The bench's sessions on one Maildir, with the server's peak RSS per command (sampled every
// 20 ms from /proc): `node --import tsx bench/memsteps.ts MAILDIR [first|bench]` ("first" also runs
// the first, cold session; "bench" runs run.ts's two sessions). CPU is user + system time of the server (all threads) per command.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnPreauth, stopProcess, memoryOf, shebangOptions } from './imap-client.js';
import { BENCH_ROOT } from './corpus.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const LOG = path.join(BENCH_ROOT, 'logs', 'memsteps.log');
fs.mkdirSync(path.dirname(LOG), { recursive: true });
const maildir = process.argv[2]!;
const nodeArgs = process.env.NODE_ARGS ? process.env.NODE_ARGS.split(' ') : [];
// IMAPD_BENCH_DIST: another build (e.g. a copy of dist/ made before a change), as for run.ts.
const dist = process.env.IMAPD_BENCH_DIST ?? path.join(HERE, '../dist');
const imapd = path.join(dist, 'server/bin/imapd.js');
// As run.ts: the options of imapd's #! line, then NODE_ARGS (a later option wins).
const argv = [process.execPath, ...shebangOptions(imapd), ...nodeArgs, imapd, maildir];

/** User + system CPU time of the server so far (all its threads), in ms. */
function cpuMs(pid: number): number {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'latin1').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
}

async function session(commands: string[]): Promise<void> {
  const proc = spawnPreauth(argv, 'ours', LOG);
  await proc.client.greeting(600_000);
  const uids: number[] = [];
  for (let command of commands) {
    if (command === 'BODIES') {
      const chosen: number[] = [];
      for (let i = 0; i < 1000; i++) chosen.push(uids[Math.floor((i * uids.length) / 1000)]!);
      command = `UID FETCH ${chosen.join(',')} (BODY.PEEK[])`;
    }
    const cpu0 = cpuMs(proc.pid);
    let peak = 0;
    const timer = setInterval(() => {
      const m = memoryOf(proc.pid);
      if (m) peak = Math.max(peak, m.rssKiB);
    }, 20);
    const r = await proc.client.command(command, {
      timeoutMs: 600_000,
      onUntagged: (x) => {
        const m = /^\* \d+ FETCH \(.*?\bUID (\d+)/.exec(x.text);
        if (m && command.startsWith('FETCH 1:* (UID')) uids.push(Number(m[1]));
      },
    });
    clearInterval(timer);
    const m = memoryOf(proc.pid)!;
    if (process.env.SNAP_AFTER && command.startsWith(process.env.SNAP_AFTER)) {
      // --heapsnapshot-signal=SIGUSR2 in NODE_ARGS: the snapshot is written before the next command is read
      process.kill(proc.pid, 'SIGUSR2');
      await proc.client.command('NOOP', { timeoutMs: 600_000 });
    }
    const cpu = cpuMs(proc.pid) - cpu0;
    console.log(`${command.slice(0, 50).padEnd(50)} ${r.status} ${(r.ms / 1000).toFixed(2)} s  cpu ${(cpu / 1000).toFixed(2)} s  peak RSS ${(peak / 1024).toFixed(0)} MiB  RSS ${(m.rssKiB / 1024).toFixed(0)}  HWM ${(m.hwmKiB / 1024).toFixed(0)} MiB`);
  }
  await proc.client.command('LOGOUT', { timeoutMs: 10_000 });
  await stopProcess(proc.child, 5000);
}

const LISTING = 'FETCH 1:* (UID FLAGS RFC822.SIZE ENVELOPE)';
const REST = ['FETCH 1:* BODYSTRUCTURE', 'UID SEARCH TEXT "zorbulate"', 'UID SEARCH FROM "Wilhelmina Quist"', 'BODIES', 'UID STORE 1:1000 +FLAGS (\\Seen)'];
if (process.argv[3] === 'bench') {
  // run.ts's order: session 1 does everything on the cold copy (without its APPENDs and the
  // wait for the full-text index), session 2 selects and lists.
  console.log('-- session 1');
  await session(['SELECT INBOX', LISTING, LISTING, ...REST]);
  console.log('-- session 2');
  await session(['SELECT INBOX', LISTING]);
} else {
  if (process.argv[3] === 'first') {
    console.log('-- first session');
    await session(['SELECT INBOX', LISTING]);
  }
  console.log('-- second session');
  await session(['SELECT INBOX', LISTING, ...REST]);
}
