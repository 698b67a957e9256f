// The bench's sessions on one Maildir, with the server's peak RSS per command (sampled every
// 20 ms from /proc): `node --import tsx bench/memsteps.ts MAILDIR [first]` ("first" also runs
// the first, cold session).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnPreauth, stopProcess, memoryOf } from './imap-client.js';
import { BENCH_ROOT } from './corpus.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const LOG = path.join(BENCH_ROOT, 'logs', 'memsteps.log');
fs.mkdirSync(path.dirname(LOG), { recursive: true });
const maildir = process.argv[2]!;
const nodeArgs = process.env.NODE_ARGS ? process.env.NODE_ARGS.split(' ') : [];
const argv = [process.execPath, ...nodeArgs, path.join(HERE, '../dist/server/bin/imapd.js'), maildir];

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
    console.log(`${command.slice(0, 50).padEnd(50)} ${r.status} ${(r.ms / 1000).toFixed(2)} s  peak RSS ${(peak / 1024).toFixed(0)} MiB  RSS ${(m.rssKiB / 1024).toFixed(0)}  HWM ${(m.hwmKiB / 1024).toFixed(0)} MiB`);
  }
  await proc.client.command('LOGOUT', { timeoutMs: 10_000 });
  await stopProcess(proc.child, 5000);
}

if (process.argv[3] === 'first') {
  console.log('-- first session');
  await session(['SELECT INBOX', 'FETCH 1:* (UID FLAGS RFC822.SIZE ENVELOPE)']);
}
console.log('-- second session');
await session(['SELECT INBOX', 'FETCH 1:* (UID FLAGS RFC822.SIZE ENVELOPE)', 'FETCH 1:* BODYSTRUCTURE', 'UID SEARCH TEXT "zorbulate"', 'UID SEARCH FROM "Wilhelmina Quist"', 'BODIES', 'UID STORE 1:1000 +FLAGS (\\Seen)']);
