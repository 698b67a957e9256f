// CONDSTORE / QRESYNC benchmark (RFC 7162): the resynchronisation steps of a client that comes
// back to a large folder, on our imapd and Dovecot (Courier has neither), in PREAUTH mode over
// stdin/stdout, each on a fresh copy of the same generated Maildir.
//
//   npm run bench:condstore -- [--size 100000] [--rounds 7] [--servers ours,dovecot] [--fts]
//
// In one session per server: SELECT INBOX (CONDSTORE) (cold), FETCH 1:* (UID) (every UID), NOOPs
// until the server is idle (warm), then --rounds times: UID STORE +FLAGS (a new keyword) of 10
// spread messages, FETCH 1:* (FLAGS) (CHANGEDSINCE m) with m the highest modseq before that STORE
// (10 answers expected). Then ENABLE QRESYNC and --rounds times
// SELECT INBOX (QRESYNC (uidvalidity highestmodseq)) with nothing changed (no answer expected;
// warm: the same process has the folder open before), and the same with known-uids 1:<max>.
// Ours runs with IMAP_FTS_INDEX=0 unless --fts is given (see runServer). Medians; table printed
// and appended to bench/results/<date>-condstore.md.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureCorpus, freshCopy, BENCH_ROOT } from './corpus.js';
import { spawnPreauth, stopProcess, type CommandResult, type ServerProcess } from './imap-client.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..');
const DIST = process.env.IMAPD_BENCH_DIST ?? path.join(REPO, 'dist');
const PEERS = process.env.IMAPD_PEERS ?? path.join(REPO, 'test', 'peers');
const CHANGES = 10;
const TIMEOUT_MS = 600_000;

type ServerName = 'ours' | 'dovecot';
const TITLES: Record<ServerName, string> = { ours: 'ours', dovecot: 'Dovecot' };

const STEPS = [
  ['select', 'SELECT INBOX (CONDSTORE), cold (first look at the folder)'],
  ['changedSince', `FETCH 1:* (FLAGS) (CHANGEDSINCE m), ${CHANGES} messages changed since m`],
  ['qresync', 'SELECT INBOX (QRESYNC (uidvalidity highestmodseq)), nothing changed, warm'],
  ['qresyncKnown', 'SELECT INBOX (QRESYNC (uidvalidity highestmodseq 1:<max uid>)), nothing changed, warm'],
] as const;
type StepKey = (typeof STEPS)[number][0];

function parseArgs(argv: string[]): { size: number; rounds: number; servers: ServerName[]; fts: boolean } {
  const opts = { size: 100_000, rounds: 7, servers: ['ours', 'dovecot'] as ServerName[], fts: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--fts') {
      opts.fts = true;
      continue;
    }
    const v = argv[++i];
    if (v === undefined) usage(`${a} needs a value`);
    if (a === '--size') opts.size = Number(v);
    else if (a === '--rounds') opts.rounds = Number(v);
    else if (a === '--servers') opts.servers = v.split(',').map((s) => s.trim() as ServerName);
    else usage(`unknown option ${a}`);
  }
  if (!Number.isInteger(opts.size) || opts.size < 1000) usage('--size: an integer >= 1000');
  if (!Number.isInteger(opts.rounds) || opts.rounds < 1) usage('--rounds: a positive integer');
  if (opts.servers.some((s) => !(s in TITLES))) usage('--servers: ours, dovecot');
  return opts;
}

function usage(message: string): never {
  process.stderr.write(`${message}\nusage: npm run bench:condstore -- [--size 100000] [--rounds 7] [--servers ours,dovecot] [--fts]\n`);
  process.exit(2);
}

function log(line: string): void {
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

function commandFor(server: ServerName, maildir: string): string[] {
  return server === 'ours'
    ? [process.execPath, ...(process.env.IMAPD_BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []), path.join(DIST, 'server/bin/imapd.js'), maildir]
    : ['/bin/bash', path.join(PEERS, 'dovecot-preauth.sh'), maildir];
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const notes: string[] = [];

async function runServer(server: ServerName, corpusDir: string, size: number, rounds: number, fts: boolean): Promise<Map<StepKey, number[]>> {
  const times = new Map<StepKey, number[]>(STEPS.map(([k]) => [k, []]));
  const maildir = path.join(BENCH_ROOT, 'work', `condstore-${server}-n${size}`);
  const logFile = path.join(BENCH_ROOT, 'logs', `condstore-${server}-n${size}.log`);
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  log(`${server}: copying the corpus`);
  freshCopy({ dir: corpusDir, manifest: undefined as never }, maildir);
  // Our full-text index would fill in the background from the first SELECT (a worker thread
  // reading 100,000 messages, minutes on 2 cores): a warm server has done that. --fts keeps it.
  const env = server === 'ours' && !fts ? { ...process.env, IMAP_FTS_INDEX: '0' } : process.env;
  const proc: ServerProcess = spawnPreauth(commandFor(server, maildir), TITLES[server], logFile, env);
  const run = async (command: string, onUntagged?: (text: string) => void): Promise<CommandResult> => {
    const r = await proc.client.command(command, { timeoutMs: TIMEOUT_MS, onUntagged: onUntagged ? (resp) => onUntagged(resp.text) : undefined });
    if (r.status !== 'OK') throw new Error(`${server}: ${command.slice(0, 60)}: ${r.status} ${r.text.slice(0, 200)}`);
    return r;
  };
  try {
    await proc.client.greeting(TIMEOUT_MS);
    let highest = 0;
    let uidValidity = 0;
    const select = await run('SELECT INBOX (CONDSTORE)', (t) => {
      const h = /\[HIGHESTMODSEQ (\d+)\]/.exec(t);
      if (h) highest = Number(h[1]);
      const v = /\[UIDVALIDITY (\d+)\]/.exec(t);
      if (v) uidValidity = Number(v[1]);
    });
    times.get('select')!.push(select.ms);
    const uids: number[] = [];
    await run('FETCH 1:* (UID)', (t) => {
      const m = /UID (\d+)/.exec(t);
      if (m) uids.push(Number(m[1]));
    });
    // Warm: what follows a first look at 100,000 messages (our listing and caches written, Dovecot's
    // index) is done once NOOPs come back at once, five in a row (at most a minute).
    for (let quick = 0, until = Date.now() + 60_000; quick < 5 && Date.now() < until; ) {
      quick = (await run('NOOP')).ms < 10 ? quick + 1 : 0;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const modseqOf = (t: string): void => {
      const m = /MODSEQ \((\d+)\)/.exec(t);
      if (m) highest = Math.max(highest, Number(m[1]));
    };
    for (let round = 0; round < rounds; round++) {
      const before = highest;
      const chosen = Array.from({ length: CHANGES }, (_, i) => uids[Math.floor(((i + round / rounds) * uids.length) / CHANGES)]!);
      // a keyword of this round: each of the messages changes
      await run(`UID STORE ${chosen.join(',')} +FLAGS (bench${round})`, modseqOf);
      let answers = 0;
      const r = await run(`FETCH 1:* (FLAGS) (CHANGEDSINCE ${before})`, (t) => {
        if (/^\* \d+ FETCH/.test(t)) answers++;
        modseqOf(t);
      });
      if (answers !== CHANGES) notes.push(`${TITLES[server]}: CHANGEDSINCE gave ${answers} answers, expected ${CHANGES}`);
      times.get('changedSince')!.push(r.ms);
    }
    await run('ENABLE QRESYNC');
    const maxUid = uids[uids.length - 1];
    for (const [key, extra] of [['qresync', ''], ['qresyncKnown', ` 1:${maxUid}`]] as const) {
      for (let round = 0; round < rounds; round++) {
        let answers = 0;
        const r = await run(`SELECT INBOX (QRESYNC (${uidValidity} ${highest}${extra}))`, (t) => {
          if (/^\* (\d+ FETCH|VANISHED)/.test(t)) answers++;
        });
        if (answers) notes.push(`${TITLES[server]}: QRESYNC SELECT with nothing changed gave ${answers} FETCH/VANISHED answers`);
        times.get(key)!.push(r.ms);
      }
    }
    await run('LOGOUT').catch(() => undefined);
  } finally {
    await stopProcess(proc.child, 5000);
  }
  return times;
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const corpus = ensureCorpus(opts.size, log);
  const results = new Map<ServerName, Map<StepKey, number[]>>();
  for (const server of opts.servers) {
    const times = await runServer(server, corpus.dir, opts.size, opts.rounds, opts.fts);
    for (const [key, list] of times) log(`${server} ${key}: ${list.map((ms) => ms.toFixed(1)).join(' ')} ms`);
    results.set(server, times);
  }
  const cell = (server: ServerName, key: StepKey): string => {
    const list = results.get(server)?.get(key);
    return list?.length ? `${median(list).toFixed(1)} ms` : 'not run';
  };
  const lines = [
    `## CONDSTORE/QRESYNC benchmark, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    '',
    `Machine: ${os.cpus().length} cores, load average ${os.loadavg()[0].toFixed(1)} at the end, Node ${process.version}. ${opts.size.toLocaleString('en-US')} messages, PREAUTH over stdin/stdout, ` +
      `median of ${opts.rounds} rounds (cold SELECT: one). Command: \`npm run bench:condstore -- --size ${opts.size} --rounds ${opts.rounds} --servers ${opts.servers.join(',')}${opts.fts ? ' --fts' : ''}\`` +
      (opts.fts ? '' : ' Ours with IMAP_FTS_INDEX=0 (a warm server has filled its full-text index).'),
    '',
    '| step | ours | Dovecot |',
    '|---|---|---|',
    ...STEPS.map(([key, label]) => `| ${label} | ${cell('ours', key)} | ${cell('dovecot', key)} |`),
    '',
    notes.length ? 'Wrong answers seen:\n' + [...new Set(notes)].map((n) => `- ${n}`).join('\n') : 'Every answer had the expected number of responses.',
  ];
  const report = lines.join('\n') + '\n';
  process.stdout.write('\n' + report);
  const out = path.join(HERE, 'results', `${new Date().toISOString().slice(0, 10)}-condstore.md`);
  if (fs.existsSync(out)) fs.appendFileSync(out, `\n---\n\n${report}`);
  else fs.writeFileSync(out, report);
  log(`written to ${path.relative(process.cwd(), out)}`);
}

await main();
