// Several servers, one store (issue 17): its targets measured on two `imapd-server` processes
// serving one Maildir with the accounts in PostgreSQL (a private instance,
// test/peers/postgres-start.sh) and the file watcher off (IMAP_FILE_WATCH=0, as on NFS).
//
//   npm run bench:cluster -- [--idle-clients 100] [--rounds 40] [--logins 300]
//                            [--stress-clients 25] [--stress-seconds 600] [--seed 11] [--parts idle,login,stress]
//
//   idle    cross-server IDLE latency, p50/p99/max, with --idle-clients IDLE clients per server
//           (bench/cluster-idle.ts); every notification must arrive, none twice. Target: p99 under
//           100 ms at 100 clients per server.
//   login   LOGIN over the wire (connect, LOGIN timed, LOGOUT, one after another) against a server
//           of the cluster (PostgreSQL) and a server with the accounts in SQLite, interleaved; and
//           bench/accounts.ts (the authenticator in process). Target: PostgreSQL within 1.2x.
//   stress  bench:stress's clients, model and checks (stress-run.ts) with --stress-clients per
//           server on one INBOX for --stress-seconds. Target: no state errors, 2 x 25 for 10 minutes.
//
// Printed, and appended to results/<date>-cluster.md with the load average after each part.

import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startPostgres, type PostgresPeer } from '../test/helpers/account-peers.js';
import { measureIdle, type IdleFigures } from './cluster-idle.js';
import { CLUSTER_MODE, clusterTarget, sqliteServer, type Cluster } from './cluster-servers.js';
import { BENCH_ROOT, ensureCorpus, freshCopy } from './corpus.js';
import { connectTcp } from './imap-client.js';
import { fmt, percentile, runClients, type Stats } from './stress-run.js';
import { COMMANDS, PROFILES } from './stress-sessions.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.join(BENCH_ROOT, 'cluster');
const PARTS = ['idle', 'login', 'stress'] as const;
type Part = (typeof PARTS)[number];

interface Options {
  idleClients: number;
  rounds: number;
  logins: number;
  stressClients: number;
  stressSeconds: number;
  seed: number;
  parts: Part[];
}

function usage(message: string): never {
  process.stderr.write(`${message}\nusage: npm run bench:cluster -- [--idle-clients 100] [--rounds 40] [--logins 300] [--stress-clients 25] [--stress-seconds 600] [--seed 11] [--parts idle,login,stress]\n`);
  process.exit(2);
}

function parseArgs(argv: string[]): Options {
  const o: Options = { idleClients: 100, rounds: 40, logins: 300, stressClients: 25, stressSeconds: 600, seed: 11, parts: [...PARTS] };
  const whole = (name: string, value: string | undefined, max: number) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1 || n > max) usage(`${name}: a whole number 1-${max}`);
    return n;
  };
  for (let i = 0; i < argv.length; i += 2) {
    const value = argv[i + 1];
    switch (argv[i]) {
      case '--idle-clients': o.idleClients = whole(argv[i]!, value, 1000); break;
      case '--rounds': o.rounds = whole(argv[i]!, value, 10_000); break;
      case '--logins': o.logins = whole(argv[i]!, value, 100_000); break;
      case '--stress-clients': o.stressClients = whole(argv[i]!, value, 250); break;
      case '--stress-seconds': o.stressSeconds = whole(argv[i]!, value, 7200); break;
      case '--seed': o.seed = whole(argv[i]!, value, 1e9); break;
      case '--parts':
        o.parts = (value ?? '').split(',').filter(Boolean) as Part[];
        if (!o.parts.length || o.parts.some((p) => !PARTS.includes(p))) usage(`--parts: some of ${PARTS.join(',')}`);
        break;
      default: usage(`unknown option ${argv[i]}`);
    }
  }
  return o;
}

const log = (line: string) => process.stderr.write(`[cluster ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
const loadavg = () => fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const figures = (xs: number[]) => {
  const s = sorted(xs);
  return `${fmt(percentile(s, 50))} / ${fmt(percentile(s, 99))} / ${fmt(s.at(-1))}`;
};

/** Stopped on the way out, also on Ctrl-C. */
const running = new Set<{ stop(): Promise<void> }>();

function idleReport(f: IdleFigures, load: string): string[] {
  const p99 = percentile(sorted(f.cross), 99);
  return [
    `### Cross-server IDLE: ${f.perServer} IDLE clients per server, ${f.rounds} changes (APPEND, STORE \\Flagged; through A and B in turn)`, '',
    '| IDLE clients | notifications | p50 / p99 / max ms | missed | twice | unexplained |', '|---|---:|---:|---:|---:|---:|',
    `| on the other server (cross) | ${f.cross.length} | ${figures(f.cross)} | ${f.missed} (both) | ${f.duplicates} (both) | ${f.unexpected} (both) |`,
    `| on the writer's server | ${f.same.length} | ${figures(f.same)} | | | |`, '',
    `Latency from the writer sending its command (its own round trip: ${figures(f.writerMs)} ms) to the IDLE client reading the notification;`,
    `${f.broken} clients ended without a tagged OK to DONE; ${f.setupSeconds.toFixed(1)} s to put them all in IDLE. Target p99 < 100 ms: ${p99 !== undefined && p99 < 100 ? 'met' : 'not met'}. Load average after: ${load}.`, '',
  ];
}

async function wireLogins(ports: { pg: number; sqlite: number }, count: number): Promise<{ pg: number[]; sqlite: number[] }> {
  const out = { pg: [] as number[], sqlite: [] as number[] };
  for (let i = 0; i < 2 * count; i++) {
    const which = i % 2 === 0 ? 'pg' : 'sqlite';
    const { socket, client } = await connectTcp(ports[which], which, 30_000);
    try {
      await client.greeting(30_000);
      const r = await client.command('LOGIN alice secret', { timeoutMs: 60_000, onUntagged: () => undefined });
      if (r.status !== 'OK') throw new Error(`${which}: LOGIN ${r.status} ${r.text}`);
      out[which].push(r.ms);
      await client.command('LOGOUT', { timeoutMs: 30_000, onUntagged: () => undefined }).catch(() => undefined);
    } finally {
      socket.destroy();
    }
  }
  return out;
}

async function loginPart(cluster: Cluster, maildir: string, logins: number): Promise<string[]> {
  const sqlite = await sqliteServer(path.join(ROOT, 'sqlite'), maildir);
  running.add(sqlite);
  let wire: { pg: number[]; sqlite: number[] };
  try {
    await wireLogins({ pg: cluster.ports[0]!, sqlite: sqlite.port }, 20); // warm-up: JIT, pool connections
    wire = await wireLogins({ pg: cluster.ports[0]!, sqlite: sqlite.port }, logins);
  } finally {
    await sqlite.stop();
    running.delete(sqlite);
  }
  const wireLoad = loadavg();
  log('bench/accounts.ts (the authenticator in process)');
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', path.join(HERE, 'accounts.ts'), '--logins', '500'], { timeout: 600_000 });
  const ratio = percentile(sorted(wire.pg), 50)! / percentile(sorted(wire.sqlite), 50)!;
  return [
    `### LOGIN: PostgreSQL and SQLite`, '',
    `Over the wire, ${logins} of each interleaved (connect, LOGIN timed from sending to its OK, LOGOUT; the login cache on, as by default):`, '',
    '| store | LOGIN p50 / p99 / max ms |', '|---|---:|',
    `| PostgreSQL (a server of the cluster) | ${figures(wire.pg)} |`, `| SQLite | ${figures(wire.sqlite)} |`, '',
    `PostgreSQL / SQLite, medians: ${ratio.toFixed(2)}x (target 1.2x: ${ratio <= 1.2 ? 'met' : 'not met'}). Load average after: ${wireLoad}.`, '',
    '`npm run bench:accounts` (in process, no network, no session):', '', stdout.trim(), '', `Load average after: ${loadavg()}.`, '',
  ];
}

function stressReport(s: Stats & { mode: string }, perServer: number, seconds: number): string[] {
  const out = [
    `### Stress: 2 servers x ${perServer} clients on one INBOX (200 messages at the start) for ${seconds} s`, '',
    '| command | done (/s) | p50 / p99 ms | failed |', '|---|---:|---:|---:|',
  ];
  for (const cmd of COMMANDS) {
    const ms = sorted(s.ms.get(cmd) ?? []);
    out.push(`| ${cmd} | ${ms.length} (${(ms.length / (s.elapsedMs / 1000)).toFixed(1)}) | ${fmt(percentile(ms, 50))} / ${fmt(percentile(ms, 99))} | ${s.failed.get(cmd) ?? 0} |`);
  }
  out.push('', '| sessions | state errors | connection errors | peak RSS, both | server CPU ms per session | load |', '|---:|---:|---:|---:|---:|---:|');
  out.push(`| ${s.sessions} | ${s.stateErrors} | ${s.connectionErrors} | ${(s.peakRssKiB / 1024).toFixed(0)} MB (${s.peakProcesses}) | ${s.sessions ? (s.cpuMs / s.sessions).toFixed(1) : '-'} | ${s.load.toFixed(1)} |`, '');
  if (s.seen.size) out.push(`Responses checked: ${[...s.seen].sort().map(([k, c]) => `${k} ${c}`).join(', ')}`, '');
  out.push(`Clients by profile: ${s.profiles}`, '');
  if (s.samples.length) out.push('First problems seen:', ...s.samples.map((x) => `- ${x}`), '');
  if (s.kinds.size) out.push('State errors by kind:', ...[...s.kinds].sort((a, b) => b[1] - a[1]).map(([k, c]) => `- ${c} x ${k}`), '');
  return out;
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const started = new Date();
  const report: string[] = [
    `## Cluster, ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC`, '',
    `Command: \`npm run bench:cluster -- --idle-clients ${opts.idleClients} --rounds ${opts.rounds} --logins ${opts.logins} --stress-clients ${opts.stressClients} --stress-seconds ${opts.stressSeconds} --seed ${opts.seed} --parts ${opts.parts.join(',')}\``,
    '', `Machine: ${os.cpus().length} cores, Node ${process.version}; load average at the start: ${loadavg()}.`, '',
  ];
  fs.rmSync(ROOT, { recursive: true, force: true });
  fs.mkdirSync(ROOT, { recursive: true, mode: 0o755 });
  const corpus = ensureCorpus(200, log);
  const cur = path.join(corpus.dir, 'cur');
  const messages = fs.readdirSync(cur).sort().map((f) => Buffer.from(fs.readFileSync(path.join(cur, f), 'latin1').replace(/\r?\n/g, '\r\n'), 'latin1'));
  let pg: PostgresPeer | undefined;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      log(`${signal}: stopping the servers and PostgreSQL`);
      void Promise.allSettled([...running].map((r) => r.stop())).then(() => pg?.stop()).finally(() => process.exit(130));
    });
  }
  pg = await startPostgres();
  const database = pg.database.bind(pg);
  try {
    report.push(`Servers: ${CLUSTER_MODE}.`, '');
    if (opts.parts.includes('idle') || opts.parts.includes('login')) {
      const cluster = await clusterTarget(path.join(ROOT, 'idle'), database);
      running.add(cluster);
      const maildir = path.join(ROOT, 'idle', 'Maildir');
      try {
        await cluster.start(maildir, 2 * opts.idleClients);
        if (opts.parts.includes('idle')) {
          log(`idle: ${opts.idleClients} clients per server, ${opts.rounds} rounds`);
          const f = await measureIdle(cluster.ports, opts.idleClients, opts.rounds, (n) => messages[n % messages.length]!, log);
          report.push(...idleReport(f, loadavg()));
          log(`idle: cross p50/p99/max ${figures(f.cross)} ms, missed ${f.missed}, twice ${f.duplicates}, unexplained ${f.unexpected}`);
        }
        if (opts.parts.includes('login')) {
          log(`login: ${opts.logins} over the wire against each store`);
          report.push(...(await loginPart(cluster, maildir, opts.logins)));
        }
      } finally {
        await cluster.stop();
        running.delete(cluster);
      }
    }
    if (opts.parts.includes('stress')) {
      const base = path.join(ROOT, 'stress');
      const target = await clusterTarget(base, database);
      const maildir = freshCopy(corpus, path.join(base, 'Maildir'));
      log(`stress: 2 x ${opts.stressClients} clients for ${opts.stressSeconds} s on ports ${target.ports.join(', ')}`);
      running.add(target);
      try {
        const stats = await runClients({ name: 'ours', label: 'cluster', target, maildir, base, clients: 2 * opts.stressClients, seconds: opts.stressSeconds, seed: opts.seed, messages, procs: false, profiles: PROFILES }, log);
        log(`stress: ${stats.sessions} sessions, ${stats.stateErrors} state errors, ${stats.connectionErrors} connection errors${stats.stateErrors ? ` (each with its context in ${stats.errorLog})` : ''}`);
        report.push(...stressReport(stats, opts.stressClients, opts.stressSeconds));
      } finally {
        running.delete(target);
      }
    }
  } finally {
    await pg.stop();
  }
  const table = report.join('\n') + '\n';
  process.stdout.write('\n' + table);
  const file = path.join(HERE, 'results', `${started.toISOString().slice(0, 10)}-cluster.md`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.appendFileSync(file, (fs.existsSync(file) ? '\n---\n\n' : '') + table);
  log(`written to ${file}`);
}

await main();
