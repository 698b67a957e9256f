// The fuzz run: parallel sessions per target draw numbered cases, the driver checks every
// answer, monitors watch for crashes, memory and a server that no longer greets; findings
// are confirmed by replay, minimized and saved.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Driver, type CaseOutcome, type FindingKind, type Problem } from './driver.js';
import { makeSeedMaildir, countMessages, strayFiles } from './maildir.js';
import { ddmin, sameFailure, showCommand, splitCommands } from './minimize.js';
import { makeCase } from './mutate.js';
import { Rng } from './random.js';
import { replay, type ReplayContext } from './replay.js';
import { NetServer, StdioTarget, rssMiB, type TargetName, type TargetSession } from './targets.js';

export interface FuzzOptions {
  seed: number;
  /** Most cases in all (both targets together). */
  cases: number;
  /** Most seconds of fuzzing (minimizing a finding comes on top, see minimizeSeconds). */
  seconds: number;
  target: 'stdio' | 'net' | 'both';
  /** Parallel sessions per target. */
  sessions: number;
  deadlineMs: number;
  maxRssMiB: number;
  casesPerSession: number;
  minimizeSeconds: number;
  /** Where findings are saved (a file per finding). */
  outDir: string;
  log: (line: string) => void;
}

export const DEFAULTS: Omit<FuzzOptions, 'seed' | 'log'> = {
  cases: 1_000_000,
  seconds: 60,
  target: 'both',
  sessions: 3,
  deadlineMs: 2000,
  maxRssMiB: 600,
  // Starting imapd costs about 0.25 s of CPU, a fifth of a loaded machine's stdio run at 40
  // cases a session; --cases-per-session 160 nearly doubled stdio cases per second (load 15-17).
  casesPerSession: 40,
  minimizeSeconds: 90,
  outDir: path.join(os.tmpdir(), 'imapd-ts-fuzz'),
};

export interface TargetStats {
  cases: number;
  commands: number;
  sessions: number;
  closedByServer: number;
  abandoned: number;
  probes: number;
  maxRssMiB: number;
  restarts: number;
  /** Why the server said BYE, with counts (LOGOUT's "Logging out" should lead). */
  byes: Record<string, number>;
}

/** What one session sent, case by case (the first entry may be its login). */
interface SessionLog {
  target: TargetName;
  secure: boolean;
  pid: number;
  cases: Buffer[][];
}

export interface Finding {
  target: TargetName;
  kind: FindingKind;
  detail: string;
  seed: number;
  caseIndex: number | null;
  caseLabel: string | null;
  stderr: string;
  suspects: SessionLog[];
  duplicates: number;
  /** After replay: null when not tried, false when no suspect's history failed alone. */
  reproduced: boolean | null;
  commands: Buffer[] | null;
  secure: boolean;
  file: string | null;
}

export interface FuzzReport {
  seed: number;
  elapsedMs: number;
  stats: Record<TargetName, TargetStats>;
  findings: Finding[];
}

const emptyStats = (): TargetStats => ({ cases: 0, commands: 0, sessions: 0, closedByServer: 0, abandoned: 0, probes: 0, maxRssMiB: 0, restarts: 0, byes: {} });
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
/** Case bytes differ per target (STARTTLS only on the network), so each has its own stream. */
const TARGET_SALT: Record<TargetName, number> = { stdio: 0, net: 0x5bd1e995 };
/** A COPY 1:* loop can double the shared Maildir; start again from the seed beyond this. */
const NET_MESSAGE_LIMIT = 3000;

export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const o = options;
  const started = Date.now();
  let stopAt = Infinity; // set once the servers are up: starting them is not fuzzing time
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'imapd-ts-fuzz-'));
  const template = path.join(work, 'seed');
  makeSeedMaildir(template);
  const stdio = new StdioTarget(template, work);
  const targets: TargetName[] = o.target === 'both' ? ['stdio', 'net'] : [o.target];
  const stats: Record<TargetName, TargetStats> = { stdio: emptyStats(), net: emptyStats() };
  const findings: Finding[] = [];
  const active = new Set<SessionLog>();
  const driverOpts = { deadlineMs: o.deadlineMs, loginDeadlineMs: o.deadlineMs + 35_000 };
  const greetMs = Math.max(20_000, o.deadlineMs);
  let nextCase = 0;
  let netStarted = 0;
  const done = () => Date.now() >= stopAt || nextCase >= o.cases;

  const record = (target: TargetName, problem: Problem, suspects: SessionLog[], extra: { caseIndex?: number; label?: string; stderr?: string }) => {
    // Same kind, same start of the detail (tags and numbers aside): the same finding again.
    const keyOf = (t: string, k: string, d: string) => `${t} ${k} ${d.replace(/"[^ ]* /, '"TAG ').replace(/\d+/g, 'N').slice(0, 60)}`;
    const key = keyOf(target, problem.kind, problem.detail);
    const same = findings.find((f) => keyOf(f.target, f.kind, f.detail) === key);
    if (same) {
      same.duplicates++;
      return;
    }
    o.log(`FINDING ${target} ${problem.kind}: ${problem.detail}`);
    findings.push({
      target, kind: problem.kind, detail: problem.detail, seed: o.seed, caseIndex: extra.caseIndex ?? null,
      caseLabel: extra.label ?? null, stderr: (extra.stderr ?? '').slice(-2000), suspects: suspects.map((s) => ({ ...s, cases: [...s.cases] })),
      duplicates: 0, reproduced: null, commands: null, secure: suspects[0]?.secure ?? false, file: null,
    });
  };

  // ---- the network server and its monitors ----
  let server: NetServer | null = null;
  let restarting = false;
  const netAlive = () => server !== null && server.alive && !restarting;
  const startServer = async () => {
    server = new NetServer(template, path.join(work, `net-${netStarted++}`));
    await server.start();
    const mine = server;
    void mine.exit!.then((info) => {
      if (mine.stopping) return;
      const suspects = [...active].filter((s) => s.target === 'net');
      record('net', { kind: 'exit', detail: `imapd-server exited (code ${info.code}, signal ${info.signal})` }, suspects, { stderr: mine.stderr() });
      if (!done()) void restart();
    });
  };
  /** Files left in tmp/ (or half written) in a stopped server's Maildirs. */
  const netStrays = (s: NetServer) => [...strayFiles(s.maildir), ...strayFiles(s.otherMaildir)].map((f) => `net ${f}`);
  /** `clean`: the server was well, only its Maildir grew too big; it is checked once stopped. */
  const restart = async (clean = false) => {
    if (restarting) return;
    restarting = true;
    stats.net.restarts++;
    const old = server;
    await old?.stop();
    const strays = clean && old ? netStrays(old) : [];
    if (strays.length) record('net', { kind: 'stray', detail: `stray or half-written files after a restart: ${strays.slice(0, 5).join(', ')}` }, [], {});
    await startServer();
    restarting = false;
  };
  if (targets.includes('net')) await startServer();
  stopAt = Date.now() + o.seconds * 1000;

  const timers: NodeJS.Timeout[] = [];
  let probing = false;
  timers.push(setInterval(() => {
    if (probing || !netAlive() || !targets.includes('net')) return;
    probing = true;
    const s = server!;
    void s.open({ secure: false, login: false, greetMs: o.deadlineMs }).then(async (probe) => {
      stats.net.probes++;
      if ('failed' in probe) {
        if (s === server && s.alive && !restarting) {
          record('net', { kind: 'no-greeting', detail: `a new connection got no greeting within ${o.deadlineMs} ms: ${probe.failed}` }, [...active].filter((x) => x.target === 'net'), { stderr: s.stderr() });
          // A frozen server would waste the rest of the run: start a new one.
          if (!done()) await restart();
        }
      } else {
        await probe.dispose();
        if (countMessages(s.maildir) > NET_MESSAGE_LIMIT && !done()) await restart(true);
      }
      probing = false;
    });
  }, 1000));
  timers.push(setInterval(() => {
    const pids = new Map<number, TargetName>();
    for (const s of active) pids.set(s.pid, s.target);
    if (netAlive()) pids.set(server!.pid, 'net');
    for (const [pid, target] of pids) {
      const rss = rssMiB(pid);
      stats[target].maxRssMiB = Math.max(stats[target].maxRssMiB, rss);
      if (rss > o.maxRssMiB) record(target, { kind: 'rss', detail: `RSS ${rss.toFixed(0)} MiB over ${o.maxRssMiB} MiB` }, [...active].filter((s) => s.pid === pid), {});
    }
  }, 500));

  // ---- the sessions ----
  let sessionCounter = 0;
  const worker = async (target: TargetName) => {
    while (!done()) {
      const srng = new Rng(o.seed ^ TARGET_SALT[target], 0x40000000 + sessionCounter++);
      const secure = target === 'net' && srng.chance(0.25);
      let session: TargetSession | { failed: string };
      if (target === 'stdio') session = await stdio.open(greetMs);
      else if (!netAlive()) {
        await sleep(200);
        continue;
      } else session = await server!.open({ secure, login: srng.chance(0.85), greetMs });
      if ('failed' in session) {
        if (target === 'stdio') record('stdio', { kind: 'exit', detail: session.failed }, [], {});
        await sleep(200);
        continue;
      }
      stats[target].sessions++;
      const preamble = [...session.preamble];
      if (srng.chance(0.7)) preamble.push(Buffer.from(`S1 ${srng.chance(0.8) ? 'SELECT' : 'EXAMINE'} INBOX\r\n`));
      const log: SessionLog = { target, secure, pid: session.pid, cases: [preamble] };
      active.add(log);
      const driver = new Driver(session.channel, driverOpts);
      let outcome: CaseOutcome = await driver.run(preamble);
      let last: { index: number; label: string } | null = null;
      for (let k = 0; k < o.casesPerSession && outcome.status === 'ok' && !done(); k++) {
        const index = nextCase++;
        const c = makeCase(new Rng(o.seed ^ TARGET_SALT[target], index), index, { net: target === 'net' });
        log.cases.push(c.chunks);
        stats[target].cases++;
        last = { index, label: c.label };
        let timer: NodeJS.Timeout | undefined;
        const cap = driverOpts.loginDeadlineMs + 30_000; // the harness itself never hangs
        outcome = await Promise.race([
          driver.run(c.chunks),
          new Promise<CaseOutcome>((r) => (timer = setTimeout(() => r({ status: 'problem', problem: { kind: 'stall', detail: `case did not finish within ${cap} ms` } }), cap))),
        ]);
        clearTimeout(timer);
      }
      stats[target].commands += driver.commandsAnswered;
      if (outcome.status === 'closed') {
        stats[target].closedByServer++;
        const why = session.channel.output.byeText.replace(/^\* BYE\s*/i, '').slice(0, 60) || '(closed)';
        stats[target].byes[why] = (stats[target].byes[why] ?? 0) + 1;
      }
      if (outcome.status === 'abandoned') stats[target].abandoned++;
      let problem: Problem | null = outcome.status === 'problem' ? outcome.problem : null;
      if (problem?.kind === 'dropped' && session.exit) {
        const info = await Promise.race([session.exit, sleep(1000).then(() => null)]);
        if (info) problem = { kind: 'exit', detail: `imapd exited (code ${info.code}, signal ${info.signal}) without BYE` };
      }
      const serverBefore = server;
      const info = await session.dispose();
      if (!problem && target === 'stdio' && (info === null || info.code !== 0 || info.signal !== null)) {
        problem = info === null
          ? { kind: 'stall', detail: 'imapd did not exit within 3 s of the end of its input' }
          : { kind: 'exit', detail: `imapd exited with code ${info.code}, signal ${info.signal}` };
      }
      if (!problem && session.strays?.length) {
        problem = { kind: 'stray', detail: `stray or half-written files after the session: ${session.strays.slice(0, 5).join(', ')}` };
      }
      active.delete(log);
      // On the network, a session cut off by a crash or a restart is the monitor's business.
      if (problem && (target === 'stdio' || (netAlive() && server === serverBefore))) {
        record(target, problem, [log], { caseIndex: last?.index, label: last?.label, stderr: session.stderr() });
      }
    }
  };
  const workers: Promise<void>[] = [];
  for (const t of targets) for (let i = 0; i < o.sessions; i++) workers.push(worker(t));
  const progress = setInterval(() => o.log(progressLine(stats, targets, started)), 10_000);
  let finished = false;
  try {
    await Promise.all(workers);
    finished = true;
  } finally {
    clearInterval(progress);
    for (const t of timers) clearInterval(t);
    // A run that throws must not leave the network server running: it would hold the caller's process open.
    if (!finished) await (server as NetServer | null)?.stop();
  }
  while (probing || restarting) await sleep(50);
  const last = server as NetServer | null;
  await last?.stop();
  // Once every session is over no tmp/ may hold a file (the other sessions' APPENDs are done).
  const strays = [
    ...(last && !last.crashed ? netStrays(last) : []),
    ...(targets.includes('stdio') ? strayFiles(stdio.otherMaildir).map((f) => `stdio other ${f}`) : []),
  ];
  if (strays.length) record(last ? 'net' : 'stdio', { kind: 'stray', detail: `stray or half-written files after the run: ${strays.slice(0, 5).join(', ')}` }, [], {});
  const elapsedMs = Date.now() - started;
  o.log(progressLine(stats, targets, started));

  await minimizeFindings(findings, o, { template, work, stdio, greetMs, driverOpts });
  fs.rmSync(work, { recursive: true, force: true, maxRetries: 20, retryDelay: 50 });
  return { seed: o.seed, elapsedMs, stats, findings };
}

function progressLine(stats: Record<TargetName, TargetStats>, targets: TargetName[], started: number): string {
  const parts = targets.map((t) => `${t}: ${stats[t].cases} cases, ${stats[t].commands} answers, ${stats[t].sessions} sessions`);
  return `[${((Date.now() - started) / 1000).toFixed(0)} s] ${parts.join('; ')}`;
}

async function minimizeFindings(
  findings: Finding[],
  o: FuzzOptions,
  env: { template: string; work: string; stdio: StdioTarget; greetMs: number; driverOpts: { deadlineMs: number; loginDeadlineMs: number } },
): Promise<void> {
  if (findings.length === 0) return;
  const deadline = Date.now() + o.minimizeSeconds * 1000;
  let replayServer: NetServer | null = null;
  let replays = 0;
  let fresh = true; // false after a replay that may have left the server busy or dead
  const ctx: ReplayContext = {
    stdio: env.stdio,
    driver: env.driverOpts,
    maxRssMiB: o.maxRssMiB,
    greetMs: env.greetMs,
    net: async () => {
      if (!replayServer || !replayServer.alive || !fresh || replays++ % 25 === 0) {
        fresh = true;
        await replayServer?.stop();
        replayServer = new NetServer(env.template, path.join(env.work, `replay-${replays}`));
        await replayServer.start();
      }
      return replayServer;
    },
  };
  fs.mkdirSync(o.outDir, { recursive: true });
  for (const [n, f] of findings.entries()) {
    const share = Math.max(5000, (deadline - Date.now()) / (findings.length - n));
    const until = Math.min(deadline, Date.now() + share);
    for (const suspect of [...f.suspects].reverse()) {
      if (Date.now() >= until) break;
      const preamble = splitCommands(Buffer.concat(suspect.cases[0] ?? []));
      const units = suspect.cases.flatMap((c) => splitCommands(Buffer.concat(c)));
      const fails = async (cmds: Buffer[]) => {
        const p = await replay(ctx, f.target, suspect.secure, cmds);
        if (p !== null) fresh = false;
        return p !== null && sameFailure(p.kind, f.kind);
      };
      if (await fails(units)) {
        f.reproduced = true;
        f.secure = suspect.secure;
        // Most findings need only the login and the last command or two: try those first.
        let start = units;
        for (const k of [1, 2]) {
          const quick = [...preamble, ...units.slice(-k)];
          if (units.length > quick.length && (await fails(quick))) {
            start = quick;
            break;
          }
        }
        f.commands = await ddmin(start, fails, until);
        break;
      }
      f.reproduced = false;
      f.commands ??= units;
    }
    f.file = path.join(o.outDir, `finding-${o.seed}-${n + 1}-${f.target}-${f.kind}.json`);
    fs.writeFileSync(f.file, JSON.stringify(findingFile(f), null, 1));
    o.log(describeFinding(f));
  }
  await (replayServer as NetServer | null)?.stop();
}

export function findingFile(f: Finding) {
  return {
    seed: f.seed, target: f.target, secure: f.secure, kind: f.kind, detail: f.detail, caseIndex: f.caseIndex, caseLabel: f.caseLabel,
    reproduced: f.reproduced, duplicates: f.duplicates, stderr: f.stderr,
    /** The commands as latin1 text; `npm run fuzz -- --replay FILE` sends them again. */
    commands: (f.commands ?? []).map((c) => c.toString('latin1')),
  };
}

export function describeFinding(f: Finding): string {
  const lines = [
    `--- ${f.kind} on ${f.target}${f.secure ? ' (TLS)' : ''}: ${f.detail}`,
    `    seed ${f.seed}, case ${f.caseIndex ?? '?'} (${f.caseLabel ?? '?'}), ${f.duplicates} more like it; ${f.reproduced === true ? 'reproduced alone' : f.reproduced === false ? 'NOT reproduced alone (full session below)' : 'not replayed'}`,
    `    ${f.reproduced ? 'minimal ' : ''}commands (${f.commands?.length ?? 0}):`,
    ...(f.commands ?? []).slice(0, 40).map((c) => `      ${showCommand(c)}`),
    ...((f.commands?.length ?? 0) > 40 ? [`      ... ${f.commands!.length - 40} more in the file`] : []),
    `    saved: ${f.file ?? '(not saved)'}`,
  ];
  return lines.join('\n');
}
