// The heart of bench/stress.ts, apart so that bench/cluster.ts runs the same clients, model and
// checks against two servers on one Maildir: start the target, probe its features, give each
// client its profile, run every client's sessions until the time is up, stop the target.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Rng } from './corpus.js';
import { PROFILES, planFor, probe, session, type CommandName, type Profile } from './stress-sessions.js';
import { DIST, type ServerName, type Target } from './stress-servers.js';

export class Stats {
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

export interface StressRun {
  name: ServerName;
  /** How the clients name the server in state errors and the log. */
  label: string;
  target: Target;
  /** The Maildir the target serves (for --procs clients). */
  maildir: string;
  /** The run's directory (logs). */
  base: string;
  clients: number;
  seconds: number;
  seed: number;
  messages: Buffer[];
  procs: boolean;
  profiles: readonly Profile[];
}

/** Starts the target, runs the clients for the run's time (client i on the target's port i mod n), stops the target. */
export async function runClients(run: StressRun, log: (line: string) => void): Promise<Stats & { mode: string }> {
  const { name, label, target, maildir, base, clients, seconds, seed, messages, procs, profiles } = run;
  const ports = target.ports ?? [target.port];
  const port = (i: number) => ports[i % ports.length]!;
  const stats = Object.assign(new Stats(), { mode: target.mode });
  stats.errorLog = path.join(base, 'state-errors.log');
  try {
    await target.start(maildir, clients);
    const features = await probe(ports[0]!, label, name === 'ours');
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
    log(`${label}: clients by profile: ${stats.profiles}`);
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
        while (performance.now() < deadline) await session(port(i), label, plans[i]!, rng, stats, messages, deadline);
      }),
    );
    stats.elapsedMs = performance.now() - started;
    stats.load = os.loadavg()[0]!;
    stats.cpuMs = target.cpuMs() - cpuBefore;
    clearInterval(sampler);
    sample();
  } finally {
    await target.stop();
  }
  return stats;
}

export function percentile(sorted: number[], p: number): number | undefined {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : undefined;
}

export const fmt = (ms: number | undefined) => (ms === undefined ? '-' : ms < 10 ? ms.toFixed(1) : ms.toFixed(0));

