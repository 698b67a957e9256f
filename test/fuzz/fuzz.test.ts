// A short fuzz run as part of the suite: once with a fixed seed (the same cases every
// time) and once with a random one (printed, to repeat with `npm run fuzz -- --seed N`).
// Any crash, dropped connection, internal error, memory over the limit, or stall that
// replays alone fails the test; a stall that does not replay alone (the machine was busy)
// is printed but does not.

import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { DEFAULTS, describeFinding, runFuzz, type Finding, type FuzzReport } from '../../fuzz/harness.js';
import { randomSeed } from '../../fuzz/random.js';

const SECONDS = Number(process.env.FUZZ_TEST_SECONDS ?? 10);

function failures(findings: Finding[]): Finding[] {
  return findings.filter((f) => !((f.kind === 'stall' || f.kind === 'no-greeting') && f.reproduced === false));
}

async function run(seed: number): Promise<FuzzReport> {
  const lines: string[] = [];
  const report = await runFuzz({
    ...DEFAULTS,
    seed,
    seconds: SECONDS,
    target: 'both',
    sessions: 2,
    minimizeSeconds: 20,
    outDir: path.join(os.tmpdir(), 'imapd-ts-fuzz-test'),
    log: (line) => lines.push(line),
  });
  for (const f of report.findings) console.log(describeFinding(f));
  for (const [target, s] of Object.entries(report.stats)) {
    console.log(`seed ${seed} ${target}: ${s.cases} cases, ${s.commands} answers, ${s.sessions} sessions, largest RSS ${s.maxRssMiB.toFixed(0)} MiB`);
  }
  return report;
}

function check(report: FuzzReport): void {
  assert.ok(report.stats.stdio.cases > 0 && report.stats.net.cases > 0, 'both targets ran cases');
  assert.ok(report.stats.stdio.commands > 0 && report.stats.net.commands > 0, 'both targets answered commands');
  assert.ok(report.stats.net.probes > 0, 'the network server was probed for its greeting');
  const bad = failures(report.findings);
  assert.equal(bad.length, 0, `seed ${report.seed}:\n${bad.map(describeFinding).join('\n')}`);
}

test('fuzz: fixed seed', { timeout: 180_000 }, async () => {
  check(await run(20261206));
});

test('fuzz: random seed', { timeout: 180_000 }, async () => {
  const seed = randomSeed();
  console.log(`fuzz random seed: ${seed} (repeat with npm run fuzz -- --seed ${seed})`);
  check(await run(seed));
});
