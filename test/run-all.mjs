// The test phase of `npm test`, after the build: the GUI's end-to-end tests (Playwright) and the
// node tests (compiled to dist/tests/ by `npm run build:tests`) at the same time. Alone, neither
// keeps both cores busy (the node tests wait on sockets, peers and timers about half of their
// time, Playwright on the browser); together they finish in about the time of the node tests.
// Playwright's lines are prefixed "[e2e]"; it exits non-zero if either run failed.
//   node test/run-all.mjs [--no-e2e] [--concurrency N] [FILTER...]
// FILTER: run only the node test files whose path contains one of them (and no e2e).

import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const COMPILED = path.join(ROOT, 'dist', 'tests', 'test');

const args = process.argv.slice(2);
let e2e = true;
// Three files at a time on 2 cores: with the end-to-end tests beside them the cores stay busy
// without a queue long enough to slow the tests that measure time (their bounds are generous).
let concurrency = 3;
const filters = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--no-e2e') e2e = false;
  else if (args[i] === '--concurrency') concurrency = Number(args[++i]);
  else filters.push(args[i]);
}
if (filters.length > 0) e2e = false;

function testFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...testFiles(p));
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

let files;
try {
  files = testFiles(COMPILED).map((f) => path.relative(ROOT, f));
} catch {
  console.error(`No compiled tests in ${path.relative(ROOT, COMPILED)}: run \`npm run build:tests\` first.`);
  process.exit(2);
}
if (filters.length > 0) files = files.filter((f) => filters.some((x) => f.includes(x)));
if (files.length === 0) {
  console.error('No test files match.');
  process.exit(2);
}

const children = new Set();

/** The last lines each prefixed run printed, shown again at the end when it fails: interleaved
 * with the node tests, a Playwright failure would otherwise be lost in the middle of the log. */
const TAIL_LINES = 250;
const tails = new Map();

/** Runs a command to its end; resolves with its exit code (1 for a signal). */
function run(label, command, commandArgs, prefix) {
  return new Promise((resolve) => {
    const child = spawn(command, commandArgs, { cwd: ROOT, stdio: prefix ? ['ignore', 'pipe', 'pipe'] : 'inherit' });
    children.add(child);
    if (prefix) {
      const tail = [];
      tails.set(label, tail);
      const keep = (line) => {
        tail.push(line);
        if (tail.length > TAIL_LINES) tail.shift();
      };
      for (const stream of [child.stdout, child.stderr]) {
        let rest = '';
        stream.setEncoding('utf8');
        stream.on('data', (chunk) => {
          const lines = (rest + chunk).split('\n');
          rest = lines.pop();
          for (const line of lines) {
            process.stdout.write(`${prefix} ${line}\n`);
            keep(line);
          }
        });
        stream.on('end', () => {
          if (rest) {
            process.stdout.write(`${prefix} ${rest}\n`);
            keep(rest);
          }
        });
      }
    }
    child.on('error', (err) => {
      console.error(`${label}: ${err.message}`);
      resolve(1);
    });
    child.on('close', (code, signal) => {
      children.delete(child);
      if (signal) console.error(`${label}: ended by ${signal}`);
      resolve(code ?? 1);
    });
  });
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    for (const child of children) child.kill(signal);
  });
}

const started = Date.now();
const runs = [];
if (e2e) {
  const playwright = path.join(ROOT, 'node_modules', '@playwright', 'test', 'cli.js');
  runs.push(
    run('playwright test', process.execPath, [playwright, 'test'], '[e2e]').then((code) => ({ name: 'e2e (playwright test)', code, tail: tails.get('playwright test') })),
  );
}
runs.push(
  run('node --test', process.execPath, ['--enable-source-maps', '--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...files]).then((code) => ({
    name: `node tests (${files.length} files)`,
    code,
  })),
);
const results = await Promise.all(runs);
const seconds = ((Date.now() - started) / 1000).toFixed(0);
for (const r of results) {
  // Playwright's report of each failure ("  1) e2e/...") and its summary ("N failed", "N flaky"),
  // again: a test that passed only on its retry is shown too.
  const flaky = r.code === 0 && r.tail?.some((line) => /^\s*\d+ flaky\b/.test(line));
  if (!r.tail || (r.code === 0 && !flaky)) continue;
  const first = r.tail.findIndex((line) => /^\s+1\) /.test(line));
  console.log(`\n==== ${r.name} ${flaky ? 'passed, with tests that failed once' : 'failed'}; its report again ====`);
  for (const line of r.tail.slice(Math.max(0, first))) console.log(line);
  console.log(`==== end of ${r.name} ====\n`);
}
for (const r of results) console.log(`${r.code === 0 ? 'passed' : 'FAILED'}: ${r.name}`);
console.log(`test phase: ${seconds} s`);
process.exit(results.every((r) => r.code === 0) ? 0 : 1);
