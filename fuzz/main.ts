// npm run fuzz -- [--seed N] [--cases N] [--seconds N] [--target stdio|net|both]
//                 [--sessions N] [--deadline-ms N] [--max-rss-mb N] [--out DIR]
//                 [--replay FILE]
// Exit code 0: no findings; 1: findings (printed with seed and commands, saved to --out).
// FUZZ_TRACE=1 prints the conversation; FUZZ_NODE_ARGS="--cpu-prof --cpu-prof-dir=DIR" profiles the servers.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULTS, describeFinding, runFuzz } from './harness.js';
import { makeSeedMaildir } from './maildir.js';
import { randomSeed } from './random.js';
import { replay } from './replay.js';
import { NetServer, StdioTarget, type TargetName } from './targets.js';

const USAGE = `Usage: npm run fuzz -- [options]
  --seed N          case generator seed (default: random, printed)
  --cases N         most cases in all (default ${DEFAULTS.cases})
  --seconds N       most seconds of fuzzing (default ${DEFAULTS.seconds})
  --target T        stdio, net or both (default ${DEFAULTS.target})
  --sessions N      parallel sessions per target (default ${DEFAULTS.sessions})
  --cases-per-session N  most cases one session (one imapd process on stdio) runs (default ${DEFAULTS.casesPerSession})
  --deadline-ms N   time a command may take to be answered (default ${DEFAULTS.deadlineMs})
  --max-rss-mb N    largest resident memory of a server process (default ${DEFAULTS.maxRssMiB})
  --minimize-seconds N  time for replaying and minimizing findings (default ${DEFAULTS.minimizeSeconds})
  --out DIR         where findings are saved (default ${DEFAULTS.outDir})
  --replay FILE     send a saved finding's commands again and print what happens
`;

function int(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} needs a whole number, not ${value}`);
  return n;
}

async function replayFile(file: string, deadlineMs: number): Promise<number> {
  const saved = JSON.parse(fs.readFileSync(file, 'utf8')) as { target: TargetName; secure: boolean; commands: string[] };
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'imapd-ts-fuzz-replay-'));
  const template = path.join(work, 'seed');
  makeSeedMaildir(template);
  let server: NetServer | null = null;
  try {
    const problem = await replay(
      {
        stdio: new StdioTarget(template, work),
        driver: { deadlineMs, loginDeadlineMs: deadlineMs + 35_000 },
        maxRssMiB: DEFAULTS.maxRssMiB,
        greetMs: 20_000,
        net: async () => {
          server ??= new NetServer(template, path.join(work, 'net'));
          if (!server.alive) await server.start();
          return server;
        },
      },
      saved.target,
      saved.secure,
      saved.commands.map((c) => Buffer.from(c, 'latin1')),
    );
    console.log(problem ? `reproduced: ${problem.kind}: ${problem.detail}` : 'no problem this time');
    return problem ? 1 : 0;
  } finally {
    await (server as NetServer | null)?.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      seed: { type: 'string' }, cases: { type: 'string' }, seconds: { type: 'string' }, target: { type: 'string' },
      sessions: { type: 'string' }, 'cases-per-session': { type: 'string' }, 'deadline-ms': { type: 'string' }, 'max-rss-mb': { type: 'string' },
      'minimize-seconds': { type: 'string' }, out: { type: 'string' }, replay: { type: 'string' }, help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const deadlineMs = int(values['deadline-ms'], DEFAULTS.deadlineMs, 'deadline-ms');
  if (values.replay) return replayFile(values.replay, deadlineMs);
  const target = values.target ?? DEFAULTS.target;
  if (target !== 'stdio' && target !== 'net' && target !== 'both') throw new Error(`--target is stdio, net or both, not ${target}`);
  const seed = int(values.seed, randomSeed(), 'seed') >>> 0;
  const log = (line: string) => console.log(line);
  log(`fuzz: seed ${seed} (repeat with --seed ${seed})`);
  const report = await runFuzz({
    ...DEFAULTS,
    seed,
    target,
    cases: int(values.cases, DEFAULTS.cases, 'cases'),
    seconds: int(values.seconds, DEFAULTS.seconds, 'seconds'),
    sessions: Math.max(1, int(values.sessions, DEFAULTS.sessions, 'sessions')),
    casesPerSession: Math.max(1, int(values['cases-per-session'], DEFAULTS.casesPerSession, 'cases-per-session')),
    deadlineMs,
    maxRssMiB: int(values['max-rss-mb'], DEFAULTS.maxRssMiB, 'max-rss-mb'),
    minimizeSeconds: int(values['minimize-seconds'], DEFAULTS.minimizeSeconds, 'minimize-seconds'),
    outDir: values.out ? path.resolve(values.out) : DEFAULTS.outDir,
    log,
  });
  for (const [t, s] of Object.entries(report.stats)) {
    if (s.sessions === 0) continue;
    log(`${t}: ${s.cases} cases, ${s.commands} answered command lines, ${s.sessions} sessions (${s.closedByServer} ended by BYE, ${s.abandoned} left in a huge literal), ` +
      `${s.probes} greeting probes, largest RSS ${s.maxRssMiB.toFixed(0)} MiB, ${s.restarts} restarts`);
    const byes = Object.entries(s.byes).map(([why, n]) => `${n} x "${why}"`).join(', ');
    if (byes) log(`  BYE: ${byes}`);
  }
  log(`${report.findings.length} findings in ${(report.elapsedMs / 1000).toFixed(0)} s (seed ${seed})`);
  for (const f of report.findings) if (!f.file) log(describeFinding(f));
  return report.findings.length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`fuzz: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(2);
  },
);
