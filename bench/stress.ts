// Stress benchmark (issue 11): N clients loop on one shared INBOX, each checking every untagged
// response with a client-side model (stress-model.ts), against ours, Dovecot and Courier in the
// same run, each on a fresh copy of the same generated 200-message Maildir.
//
//   npm run bench:stress -- [--clients 10,50] [--seconds 30] [--servers ours,dovecot,courier] [--seed N]
//
// One session: connect, LOGIN, SELECT INBOX, FETCH 1:* (UID FLAGS), FETCH of 10 envelopes, STORE
// +FLAGS of \Flagged and a keyword, STORE -FLAGS of a keyword, STORE +FLAGS \Deleted, APPEND of a
// message of the generated set, EXPUNGE, LOGOUT; then the next session. Latency is from writing a
// command to reading its tagged reply. After --seconds the clients stop at their next command and
// log out. Printed: per command the completed count, rate, p50/p99 latency and failures; per
// server and N the state errors the models saw and the servers' peak RSS (all their processes).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { BENCH_ROOT, Rng, ensureCorpus, freshCopy, type Corpus } from './corpus.js';
import { COMMANDS, PROFILES, planFor, probe, session, type CommandName, type Profile } from './stress-sessions.js';
import { DIST, SERVER_NAMES, TITLES, makeTarget, type ServerName, type Target } from './stress-servers.js';

const STRESS_ROOT = path.join(BENCH_ROOT, 'stress');
const MESSAGES = 200;

interface Options {
  clients: number[];
  seconds: number;
  servers: ServerName[];
  seed: number;
  /** --procs: some of our clients in imapd processes of their own beside the network server. */
  procs: boolean;
  /** --profiles: the client profiles to cycle through (stress-sessions.ts). */
  profiles: Profile[];
}

function usage(message: string): never {
  process.stderr.write(`${message}\nusage: npm run bench:stress -- [--clients 10,50] [--seconds 30] [--servers ours,dovecot,courier] [--seed N] [--procs] [--profiles rev1,qresync,...]\n`);
  process.exit(2);
}

function parseArgs(argv: string[]): Options {
  const o: Options = { clients: [10, 50], seconds: 30, servers: [...SERVER_NAMES], seed: 11, procs: false, profiles: [...PROFILES] };
  for (let i = 0; i < argv.length; i++) {
    const value = argv[i + 1];
    const list = () => (value ?? usage(`${argv[i]} needs a value`)).split(',').filter(Boolean);
    switch (argv[i]) {
      case '--clients':
        o.clients = list().map(Number);
        if (o.clients.some((n) => !Number.isInteger(n) || n < 1 || n > 500)) usage('--clients: whole numbers 1-500');
        break;
      case '--seconds':
        o.seconds = Number(value);
        if (!(o.seconds > 0 && o.seconds <= 3600)) usage('--seconds: 1-3600');
        break;
      case '--servers':
        o.servers = list() as ServerName[];
        if (o.servers.some((s) => !SERVER_NAMES.includes(s))) usage(`--servers: some of ${SERVER_NAMES.join(',')}`);
        break;
      case '--seed':
        o.seed = Number(value);
        break;
      case '--profiles':
        o.profiles = list() as Profile[];
        if (o.profiles.some((p) => !PROFILES.includes(p))) usage(`--profiles: some of ${PROFILES.join(',')}`);
        break;
      case '--procs':
        o.procs = true;
        continue;
      default:
        usage(`unknown option ${argv[i]}`);
    }
    i++;
  }
  return o;
}

/** The server running now, stopped on Ctrl-C (ours is detached and Dovecot daemonizes: neither would go by itself). */
let running: Target | undefined;

const log = (line: string) => process.stderr.write(`[stress ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

class Stats {
  readonly ms = new Map<CommandName, number[]>();
  readonly failed = new Map<CommandName, number>();
  stateErrors = 0;
  connectionErrors = 0;
  sessions = 0;
  /** The first few state errors and failures, for the report (kept apart so that one kind cannot hide the other). */
  readonly stateSamples: string[] = [];
  readonly failureSamples: string[] = [];
  get samples(): string[] {
    return [...this.stateSamples, ...this.failureSamples];
  }
  peakRssKiB = 0;
  /** Server CPU ms spent during the run (all its processes). */
  cpuMs = 0;
  /** The machine's 1-minute load average at the end of the run (the figures are relative on a busy machine). */
  load = 0;
  peakProcesses = 0;
  elapsedMs = 0;
  readonly seen = new Map<string, number>();
  saw(kind: string): void {
    this.seen.set(kind, (this.seen.get(kind) ?? 0) + 1);
  }
  /** How many clients ran each profile (stress-sessions.ts). */
  profiles = '';

  done(cmd: CommandName, ms: number): void {
    const list = this.ms.get(cmd) ?? [];
    list.push(ms);
    this.ms.set(cmd, list);
  }

  fail(cmd: CommandName, why: string): void {
    this.failed.set(cmd, (this.failed.get(cmd) ?? 0) + 1);
    if (this.failureSamples.length < 6) this.failureSamples.push(`${cmd} failed: ${why.slice(0, 160)}`);
  }

  /** Every state error with its session's last lines goes here (see runOne). */
  errorLog: string | undefined;
  /** State errors by kind: the message with its numbers and names left out. */
  readonly kinds = new Map<string, number>();

  stateError(message: string, context: string[] = []): void {
    this.stateErrors++;
    if (this.stateSamples.length < 10) this.stateSamples.push(`state: ${message.slice(0, 160)}`);
    const kind = message.replace(/^[^:]*: /, '').replace(/\(.*?\)|\[.*?\]|\$?\w*\d+\w*/g, '_');
    this.kinds.set(kind, (this.kinds.get(kind) ?? 0) + 1);
    if (this.errorLog) fs.appendFileSync(this.errorLog, `${message}\n${context.map((l) => `    ${l}`).join('\n')}\n\n`);
  }
}

async function runOne(name: ServerName, clients: number, seconds: number, seed: number, messages: Buffer[], corpus: Corpus, procs: boolean, profiles: Profile[]): Promise<Stats & { mode: string }> {
  const base = path.join(STRESS_ROOT, `${name}-${clients}`);
  fs.rmSync(base, { recursive: true, force: true });
  const target = await makeTarget(name, base);
  const maildir = freshCopy(corpus, path.join(base, 'Maildir'));
  const stats = Object.assign(new Stats(), { mode: target.mode });
  stats.errorLog = path.join(base, 'state-errors.log');
  log(`${TITLES[name]}, ${clients} clients: starting (${target.mode}) on port ${target.port}`);
  running = target;
  try {
    await target.start(maildir, clients);
    const features = await probe(target.port, TITLES[name], name === 'ours');
    if (name === 'dovecot' && !process.env.STRESS_DOVECOT_UPDATE) {
      // Dovecot 2.3.x: its imap processes die of SIGSEGV (dozens a minute) with kept searches under this load
      features.caps.delete('CONTEXT=SEARCH');
      log('Dovecot: SEARCH RETURN (UPDATE) left out (its imap crashes with it here; STRESS_DOVECOT_UPDATE=1 keeps it)');
    }
    const plans = Array.from({ length: clients }, (_, i) => planFor(i, features, profiles));
    if (name === 'ours' && procs) {
      // every fourth client (not bob's) in an imapd process of its own per session, on the same Maildir
      for (const plan of plans.filter((p) => p.index % 4 === 3 && p.user === 'alice')) {
        plan.process = { argv: [process.execPath, path.join(DIST, 'server/bin/imapd.js'), maildir], stderr: path.join(base, 'imapd-processes.log') };
      }
    }
    stats.profiles = PROFILES.map((p) => `${p} ${plans.filter((x) => x.profile === p).length}`).join(', ') + `; compress ${plans.filter((x) => x.compress).length}; bob ${plans.filter((x) => x.user === 'bob').length}; imapd processes ${plans.filter((x) => x.process).length}`;
    log(`${TITLES[name]}: clients by profile: ${stats.profiles}`);
    const sample = () => {
      const m = target.memory();
      if (m.rssKiB > stats.peakRssKiB) stats.peakRssKiB = m.rssKiB;
      stats.peakProcesses = Math.max(stats.peakProcesses, m.processes);
    };
    const sampler = setInterval(sample, 500);
    const cpuBefore = target.cpuMs();
    const started = performance.now();
    const deadline = started + seconds * 1000;
    await Promise.all(
      Array.from({ length: clients }, async (_, i) => {
        const rng = new Rng(seed * 1000 + i);
        while (performance.now() < deadline) await session(target.port, TITLES[name], plans[i]!, rng, stats, messages, deadline);
      }),
    );
    stats.elapsedMs = performance.now() - started;
    stats.load = os.loadavg()[0]!;
    stats.cpuMs = target.cpuMs() - cpuBefore;
    clearInterval(sampler);
    sample();
  } finally {
    await target.stop();
    running = undefined;
  }
  log(`${TITLES[name]}, ${clients} clients: ${stats.sessions} sessions, ${stats.stateErrors} state errors, ${stats.connectionErrors} connection errors${stats.stateErrors ? ` (each with its context in ${stats.errorLog})` : ''}`);
  return stats;
}

function percentile(sorted: number[], p: number): number | undefined {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : undefined;
}

const fmt = (ms: number | undefined) => (ms === undefined ? '-' : ms < 10 ? ms.toFixed(1) : ms.toFixed(0));

function report(opts: Options, results: Map<string, Stats & { mode: string }>): string {
  const out: string[] = [];
  out.push(`## Stress: ${opts.seconds} s per run, clients ${opts.clients.join(', ')}, ${MESSAGES}-message INBOX, seed ${opts.seed}`, '');
  for (const n of opts.clients) {
    out.push(`### ${n} clients`, '');
    const present = opts.servers.filter((s) => results.has(`${s}-${n}`));
    out.push(`| command | ${present.map((s) => `${TITLES[s]} done (/s) | p50 / p99 ms | failed`).join(' | ')} |`);
    out.push(`|---|${present.map(() => '---:|---:|---:').join('|')}|`);
    for (const cmd of COMMANDS) {
      const cells = present.map((s) => {
        const r = results.get(`${s}-${n}`)!;
        const ms = [...(r.ms.get(cmd) ?? [])].sort((a, b) => a - b);
        const rate = ms.length / (r.elapsedMs / 1000);
        return `${ms.length} (${rate.toFixed(1)}) | ${fmt(percentile(ms, 50))} / ${fmt(percentile(ms, 99))} | ${r.failed.get(cmd) ?? 0}`;
      });
      out.push(`| ${cmd} | ${cells.join(' | ')} |`);
    }
    out.push('', '| server | sessions | state errors | connection errors | peak RSS (processes) | server CPU ms per session | load |', '|---|---:|---:|---:|---:|---:|---:|');
    for (const s of present) {
      const r = results.get(`${s}-${n}`)!;
      out.push(`| ${TITLES[s]} | ${r.sessions} | ${r.stateErrors} | ${r.connectionErrors} | ${(r.peakRssKiB / 1024).toFixed(0)} MB (${r.peakProcesses}) | ${r.sessions ? (r.cpuMs / r.sessions).toFixed(1) : '-'} | ${r.load.toFixed(1)} |`);
    }
    out.push('');
    for (const s of present) {
      const r = results.get(`${s}-${n}`)!;
      if (r.seen.size) out.push(`${TITLES[s]}, responses checked: ${[...r.seen].sort().map(([k, c]) => `${k} ${c}`).join(', ')}`, '');
      if (r.samples.length) out.push(`${TITLES[s]}, first problems seen:`, ...r.samples.map((x) => `- ${x}`), '');
      if (r.kinds.size) out.push(`${TITLES[s]}, state errors by kind:`, ...[...r.kinds].sort((a, b) => b[1] - a[1]).map(([k, c]) => `- ${c} x ${k}`), '');
    }
  }
  out.push('Servers (clients by profile, bench/stress-sessions.ts):', ...opts.servers.map((s) => {
    const r = [...results.entries()].find(([k]) => k.startsWith(s + '-'))?.[1];
    return `- ${TITLES[s]}: ${r ? `${r.mode} (last run: ${r.profiles})` : 'not run'}`;
  }));
  return out.join('\n') + '\n';
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.servers.includes('courier') && process.getuid?.() !== 0) {
    log('Courier needs root (its authdaemond and userdb); leaving it out');
    opts.servers = opts.servers.filter((s) => s !== 'courier');
  }
  // the generated corpus (bench/corpus.ts, seeded): the INBOX every server starts from, and the APPEND set
  const corpus = ensureCorpus(MESSAGES, log);
  const cur = path.join(corpus.dir, 'cur');
  const messages = fs.readdirSync(cur).sort().map((f) => Buffer.from(fs.readFileSync(path.join(cur, f), 'latin1').replace(/\r?\n/g, '\r\n'), 'latin1'));
  const results = new Map<string, Stats & { mode: string }>();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      log(`${signal}: stopping ${running ? TITLES[running.name] : 'nothing'} and exiting`);
      void (running?.stop() ?? Promise.resolve()).finally(() => process.exit(130));
    });
  }
  for (const n of opts.clients) {
    for (const s of opts.servers) {
      try {
        results.set(`${s}-${n}`, await runOne(s, n, opts.seconds, opts.seed, messages, corpus, opts.procs, opts.profiles));
      } catch (err) {
        log(`${TITLES[s]}, ${n} clients: ${(err as Error).message}`);
      }
    }
  }
  const table = report(opts, results);
  process.stdout.write('\n' + table);
  const resultsDir = path.join(path.dirname(new URL(import.meta.url).pathname), 'results');
  const file = path.join(resultsDir, `${new Date().toISOString().slice(0, 10)}-stress.md`);
  fs.mkdirSync(resultsDir, { recursive: true });
  fs.appendFileSync(file, (fs.existsSync(file) ? '\n---\n\n' : '') + table);
  log(`written to ${file}`);
}

await main();
