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
import path from 'node:path';
import { BENCH_ROOT, ensureCorpus, freshCopy, type Corpus } from './corpus.js';
import { COMMANDS, PROFILES, type Profile } from './stress-sessions.js';
import { SERVER_NAMES, TITLES, makeTarget, type ServerName, type Target } from './stress-servers.js';
import { fmt, percentile, runClients, type Stats } from './stress-run.js';

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

async function runOne(name: ServerName, clients: number, seconds: number, seed: number, messages: Buffer[], corpus: Corpus, procs: boolean, profiles: Profile[]): Promise<Stats & { mode: string }> {
  const base = path.join(STRESS_ROOT, `${name}-${clients}`);
  fs.rmSync(base, { recursive: true, force: true });
  const target = await makeTarget(name, base);
  const maildir = freshCopy(corpus, path.join(base, 'Maildir'));
  log(`${TITLES[name]}, ${clients} clients: starting (${target.mode}) on port ${target.port}`);
  running = target;
  let stats: Stats & { mode: string };
  try {
    stats = await runClients({ name, label: TITLES[name], target, maildir, base, clients, seconds, seed, messages, procs, profiles }, log);
  } finally {
    running = undefined;
  }
  log(`${TITLES[name]}, ${clients} clients: ${stats.sessions} sessions, ${stats.stateErrors} state errors, ${stats.connectionErrors} connection errors${stats.stateErrors ? ` (each with its context in ${stats.errorLog})` : ''}`);
  return stats;
}

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
