// The sessions bench/stress.ts runs: each client has a profile that decides what it enables
// and which commands it adds to the common round (LOGIN, SELECT, FETCH of all flags, FETCH of
// 10 envelopes, three STOREs, APPEND, EXPUNGE, LOGOUT), as mail programs differ:
//   rev1     the common round only (RFC 3501)
//   qresync  ENABLE QRESYNC; SELECT (QRESYNC (validity modseq)) with what its last session saw;
//            UID FETCH, UID STORE (one with UNCHANGEDSINCE), UID MOVE, UID EXPUNGE; expunges come
//            as VANISHED
//   rev2     ENABLE IMAP4rev2 (no \Recent, UID in unsolicited FETCH), SEARCH (ESEARCH), MOVE to
//            INBOX.Archive, a short IDLE
//   update   SEARCH RETURN (UPDATE) on a keyword of its own, which it sets and clears, then a
//            plain UID SEARCH and NOOP to compare (stress-checks.ts SearchUpdates)
//   notify   ENABLE CONDSTORE, NOTIFY SET STATUS on INBOX.Archive and INBOX.Sent (and
//            SELECTED-DELAYED), IDLE, STATUS of both (stress-checks.ts StatusTracker), then
//            SELECT INBOX.Archive, FETCH, NOOP
// rev1 and qresync clients end every other session with CLOSE instead of EXPUNGE.
//   append   MULTIAPPEND of two messages to INBOX and to INBOX.Sent, REPLACE of a message
//   shared   on INBOX.Archive, which alice shares with bob: every other one of these clients
//            logs in as bob and selects #shared.alice.Archive (only where the server has shared
//            folders and a bob; else as alice)
// Every third client also COMPRESSes (where the server offers COMPRESS=DEFLATE). A profile the
// server lacks the extension for runs the common round.

import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Rng } from './corpus.js';
import { ClosedError, connectTcp, deflateStreams, ImapClient, spawnPreauth, stopProcess, type CommandResult, type ImapResponse, type ServerProcess } from './imap-client.js';
import { SearchUpdates, StatusTracker } from './stress-checks.js';
import { expandSet, MailboxModel, type StoreExpectation } from './stress-model.js';

export const COMMANDS = [
  'CONNECT', 'LOGIN', 'COMPRESS', 'ENABLE', 'NOTIFY', 'SELECT', 'FETCH FLAGS', 'FETCH ENVELOPE', 'SEARCH UPDATE', 'SEARCH',
  'STORE', 'MOVE', 'APPEND', 'MULTIAPPEND', 'REPLACE', 'IDLE', 'NOOP', 'STATUS', 'EXPUNGE', 'LOGOUT',
] as const;
export type CommandName = (typeof COMMANDS)[number];
export const PROFILES = ['rev1', 'qresync', 'rev2', 'update', 'notify', 'append', 'shared'] as const;
export type Profile = (typeof PROFILES)[number];

const COMMAND_TIMEOUT_MS = 60_000;
/** STRESS_ECHO=PROFILE: every line of that profile's sessions to standard error (for looking at what the checks see). */
const ECHO = process.env.STRESS_ECHO;
const KEYWORDS = ['$Label1', '$Label2', '$Label3', '$Label4', '$Label5', 'Stress6', 'Stress7', 'Stress8'];
const OTHERS = ['INBOX.Archive', 'INBOX.Sent'];
/** Responses counted for the report, to show the checks had something to check. */
const SEEN = /^\* (?:\d+ (EXPUNGE|RECENT)\b|(VANISHED \(EARLIER\)|VANISHED|STATUS|LIST)\b|ESEARCH .*\b(ADDTO|REMOVEFROM)\b|\d+ FETCH .*\b(MODSEQ)\b)/i;

/** Where the figures and errors go (stress.ts Stats). */
export interface Recorder {
  done(cmd: CommandName, ms: number): void;
  fail(cmd: CommandName, why: string): void;
  stateError(message: string, context: string[]): void;
  /** Count a kind of response the checks looked at (VANISHED, notified STATUS, ...), for the report. */
  saw(kind: string): void;
  connectionErrors: number;
  sessions: number;
}

/** What the server offers: its CAPABILITY after LOGIN, and whether bob may open alice's INBOX.Archive. */
export interface Features {
  caps: Set<string>;
  shared: boolean;
}

export interface ClientPlan {
  index: number;
  profile: Profile;
  caps: Set<string>;
  compress: boolean;
  user: string;
  mailbox: string;
  /** Sessions this client has run (update alternates UID and message numbers). */
  sessions?: number;
  /**
   * Set for a client whose sessions each run in an `imapd` process of their own on the Maildir
   * (PREAUTH over stdio, as Courier's imaplogin runs it), beside the network server's sessions.
   */
  process?: { argv: string[]; stderr: string };
  /** What the last session of a QRESYNC client saw of its mailbox. */
  cache: { uidValidity?: number; modseq?: number; uids?: number[] };
}

export function planFor(index: number, features: Features, profiles: readonly Profile[] = PROFILES): ClientPlan {
  const has = (word: string) => features.caps.has(word);
  let profile: Profile = profiles[index % profiles.length]!;
  const needs: Partial<Record<Profile, string>> = { qresync: 'QRESYNC', rev2: 'IMAP4REV2', update: 'CONTEXT=SEARCH', notify: 'NOTIFY', append: 'MULTIAPPEND' };
  const need = needs[profile];
  if (need && !has(need)) profile = 'rev1';
  const bob = profile === 'shared' && features.shared && Math.floor(index / profiles.length) % 2 === 0;
  return {
    index, profile, caps: features.caps, compress: index % 3 === 2 && has('COMPRESS=DEFLATE'),
    user: bob ? 'bob' : 'alice',
    mailbox: profile === 'shared' ? (bob ? '#shared.alice.Archive' : 'INBOX.Archive') : 'INBOX',
    cache: {},
  };
}

/** One connection, logged in as alice: CAPABILITY, and alice's INBOX.Archive shared with bob where the server can. */
export async function probe(port: number, label: string, withBob: boolean): Promise<Features> {
  const { socket, client } = await connectTcp(port, label, 30_000);
  try {
    await client.greeting(30_000);
    const lines: string[] = [];
    const run = (c: string) => client.command(c, { timeoutMs: COMMAND_TIMEOUT_MS, onUntagged: (r) => lines.push(r.text) });
    if ((await run('LOGIN alice secret')).status !== 'OK') throw new Error(`${label}: LOGIN failed`);
    await run('CAPABILITY');
    const caps = new Set((lines.find((l) => /^\* CAPABILITY /i.test(l)) ?? '').toUpperCase().split(' ').slice(2));
    const shared = withBob && caps.has('ACL') && (await run('SETACL INBOX.Archive bob lrswitex')).status === 'OK';
    await run('LOGOUT').catch(() => undefined);
    return { caps, shared };
  } finally {
    socket.destroy();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One session of a client's profile; returns when it has logged out (or its connection failed). */
export async function session(port: number, label: string, plan: ClientPlan, rng: Rng, rec: Recorder, messages: Buffer[], deadline: number): Promise<void> {
  const model = new MailboxModel((m, context) => rec.stateError(`${label} [${plan.profile}${plan.compress ? '+compress' : ''}${plan.process ? '+process' : ''} ${plan.user}]: ${m}`, context));
  const searches = new SearchUpdates(model);
  const statuses = new StatusTracker(model);
  let statusCommand = false;
  let collected: string[] | undefined;
  const echo = ECHO === plan.profile ? (line: string) => process.stderr.write(`[${plan.index}] ${line.slice(0, 200)}\n`) : undefined;
  const onLine = (r: ImapResponse) => {
    echo?.(`S: ${r.text}`);
    searches.handle(r.text);
    model.handle(r.text);
    statuses.handle(r.text, statusCommand);
    collected?.push(r.text);
    const seen = SEEN.exec(r.text);
    const kind = seen && (seen[1] ?? seen[2] ?? seen[3] ?? seen[4]);
    if (kind) rec.saw(kind === 'STATUS' && statusCommand ? 'STATUS asked' : kind === 'STATUS' ? 'STATUS notified' : kind.toUpperCase());
  };
  const started = performance.now();
  let socket: Socket | undefined;
  let proc: ServerProcess | undefined;
  let client: ImapClient;
  try {
    if (plan.process) {
      proc = spawnPreauth(plan.process.argv, `${label} imapd`, plan.process.stderr);
      client = proc.client;
    } else {
      const conn = await connectTcp(port, label, 30_000);
      socket = conn.socket;
      client = conn.client;
    }
    const greeting = await client.greeting(30_000);
    if (!/^\* (OK|PREAUTH)\b/i.test(greeting.text)) throw new Error(greeting.text.slice(0, 100));
    rec.done('CONNECT', performance.now() - started);
  } catch (err) {
    socket?.destroy();
    if (proc) await stopProcess(proc.child, 2000);
    rec.fail('CONNECT', (err as Error).message);
    rec.connectionErrors++;
    await sleep(200);
    return;
  }
  client.onUnsolicited = onLine;

  /** Runs one command with the model watching; undefined when the session must end. */
  const step = async (
    name: CommandName, command: string,
    opts: { store?: StoreExpectation; literals?: { parts: string[]; data: Buffer[]; end?: string }; acceptNo?: boolean; tag?: string; collect?: string[] } = {},
  ): Promise<CommandResult | undefined> => {
    model.begin(command, opts.store);
    echo?.(`C: ${command}`);
    statusCommand = name === 'STATUS';
    collected = opts.collect;
    let result: CommandResult;
    try {
      result = opts.literals
        ? await client.literalCommand(opts.literals.parts, opts.literals.data, opts.literals.end ?? '', COMMAND_TIMEOUT_MS, onLine)
        : await client.command(command, { timeoutMs: COMMAND_TIMEOUT_MS, onUntagged: onLine, ...(opts.tag ? { tag: opts.tag } : {}) });
    } catch (err) {
      rec.fail(name, (err as Error).message);
      if (!(err instanceof ClosedError) || name !== 'LOGOUT') rec.connectionErrors++;
      return undefined;
    } finally {
      statusCommand = false;
      collected = undefined;
    }
    model.end(result.status, result.text);
    echo?.(`S: ${result.tag} ${result.text}`);
    if (result.status === 'OK' || (result.status === 'NO' && opts.acceptNo)) rec.done(name, result.ms);
    else rec.fail(name, `${result.status} ${result.text}`);
    return result;
  };
  const ok = async (...args: Parameters<typeof step>) => (await step(...args))?.status === 'OK';
  const more = () => performance.now() < deadline;
  const uidMode = plan.profile === 'qresync';
  /** A random message the session knows the UID of (0 when none). */
  const someUid = () => {
    const known = model.knownUids.filter(Boolean);
    return known.length ? rng.pick(known) : 0;
  };
  /** A STORE of flags on a random message: by UID in UID mode (of a known UID), else by number. */
  const store = async (op: '+FLAGS' | '-FLAGS', add: string[], remove: string[], contested: string[] = KEYWORDS, byUid = uidMode) => {
    const flags = `(${[...add, ...remove].join(' ')})`;
    if (byUid) {
      const uid = someUid();
      if (!uid) return true;
      return Boolean(await step('STORE', `UID STORE ${uid} ${op} ${flags}`, { store: { seq: model.seqOf(uid), add, remove, contested }, acceptNo: true }));
    }
    const seq = rng.int(1, model.exists);
    return Boolean(await step('STORE', `STORE ${seq} ${op} ${flags}`, { store: { seq, add, remove, contested }, acceptNo: true }));
  };

  try {
    if (!proc && !(await ok('LOGIN', `LOGIN ${plan.user} secret`))) return;
    if (plan.compress) {
      if (!(await ok('COMPRESS', 'COMPRESS DEFLATE'))) return;
      const input = proc ? proc.child.stdout! : socket!;
      input.removeAllListeners('data');
      const streams = deflateStreams(input, proc ? proc.child.stdin! : socket!);
      client = new ImapClient(streams.input, streams.output, label);
      client.onUnsolicited = onLine;
    }
    if (plan.profile === 'qresync') {
      if (!(await ok('ENABLE', 'ENABLE QRESYNC'))) return;
      model.qresync = model.condstore = true;
    } else if (plan.profile === 'rev2') {
      if (!(await ok('ENABLE', 'ENABLE IMAP4rev2'))) return;
      model.rev2 = true;
    } else if (plan.profile === 'notify') {
      // CONDSTORE: HIGHESTMODSEQ in the notified STATUS, and MODSEQ in every unsolicited FETCH
      if (plan.caps.has('CONDSTORE')) {
        if (!(await ok('ENABLE', 'ENABLE CONDSTORE'))) return;
        model.condstore = true;
      }
      const events = '(MessageNew MessageExpunge FlagChange)';
      if (!(await ok('NOTIFY', `NOTIFY SET STATUS (selected-delayed ${events}) (mailboxes (${OTHERS.join(' ')}) ${events})`))) return;
    }
    model.reset();
    model.selectedName = plan.mailbox;
    const resync = uidMode && plan.cache.uidValidity && plan.cache.modseq ? ` (QRESYNC (${plan.cache.uidValidity} ${plan.cache.modseq}))` : '';
    if (resync) model.resync = { uids: plan.cache.uids ?? [], modseq: plan.cache.modseq! };
    if (!more() || !(await ok('SELECT', `SELECT ${plan.mailbox}${resync}`))) return;
    // FETCH 1:* in an empty mailbox is BAD (no message numbers are valid), as in ours and Dovecot
    if (model.exists > 0 && (!more() || !(await step('FETCH FLAGS', uidMode ? 'UID FETCH 1:* (FLAGS MODSEQ)' : 'FETCH 1:* (UID FLAGS)')))) return;
    model.checkResync();
    if (more() && model.exists > 0) {
      const from = rng.int(1, model.exists);
      const to = Math.min(model.exists, from + 9);
      // NO [EXPUNGEISSUED] (RFC 5530) is a right answer when another session expunged one of them
      if (!(await step('FETCH ENVELOPE', `FETCH ${from}:${to} (UID ENVELOPE)`, { acceptNo: true }))) return;
    }
    if (plan.profile === 'update' && more() && model.exists > 0 && !(await keptSearch())) return;
    const stores: [op: '+FLAGS' | '-FLAGS', add: string[], remove: string[]][] = [
      ['+FLAGS', ['\\Flagged', rng.pick(KEYWORDS)], []],
      ['-FLAGS', [], [rng.pick(KEYWORDS)]],
      ['+FLAGS', ['\\Deleted'], []],
    ];
    for (const [op, add, remove] of stores) {
      if (!more() || model.exists === 0) break;
      if (!(await store(op, add, remove))) return;
    }
    if (plan.profile === 'qresync' && more() && !(await unchangedSince())) return;
    if (plan.profile === 'rev2' && more() && model.exists > 0 && !(await ok('SEARCH', 'SEARCH FLAGGED'))) return;
    if ((plan.profile === 'rev2' || plan.profile === 'qresync') && plan.caps.has('MOVE') && more() && model.exists > 1) {
      const uid = someUid();
      const command = plan.profile === 'qresync' ? (uid ? `UID MOVE ${uid} INBOX.Archive` : '') : `MOVE ${rng.int(1, model.exists)} INBOX.Archive`;
      if (command && !(await step('MOVE', command, { acceptNo: true }))) return;
    }
    if (plan.profile === 'append') {
      const two = () => [rng.pick(messages), rng.pick(messages)];
      for (const box of ['INBOX', 'INBOX.Sent']) {
        const data = two();
        if (more() && !(await step('MULTIAPPEND', `APPEND ${box}`, { literals: { parts: [`APPEND ${box} (\\Seen $Label1)`, ' ()'], data } }))) return;
      }
      if (more() && model.exists > 0 && plan.caps.has('REPLACE')) {
        const seq = rng.int(1, model.exists);
        const data = [rng.pick(messages)];
        if (!(await step('REPLACE', `REPLACE ${seq} INBOX`, { literals: { parts: [`REPLACE ${seq} INBOX`], data }, acceptNo: true }))) return;
      }
    } else if (more()) {
      if (!(await step('APPEND', `APPEND ${plan.mailbox}`, { literals: { parts: [`APPEND ${plan.mailbox} ()`], data: [rng.pick(messages)] } }))) return;
    }
    if ((plan.profile === 'notify' || plan.profile === 'rev2') && more() && !(await idle(plan.profile === 'notify' ? 800 : 300))) return;
    if (plan.profile === 'notify') {
      for (const box of OTHERS) {
        if (more() && !(await ok('STATUS', `STATUS ${box} (MESSAGES UIDNEXT UIDVALIDITY HIGHESTMODSEQ)`))) return;
      }
    }
    if (plan.profile === 'notify' && more()) {
      // another mailbox selected while NOTIFY watches it: its events now come as the selected one's
      model.reset();
      model.selectedName = 'INBOX.Archive';
      if (!(await ok('SELECT', 'SELECT INBOX.Archive'))) return;
      if (model.exists > 0 && more() && !(await step('FETCH FLAGS', 'FETCH 1:* (UID FLAGS)'))) return;
      if (more() && !(await ok('NOOP', 'NOOP'))) return;
    }
    if (more()) {
      const deleted = uidMode ? someUid() : 0;
      // CLOSE expunges too, without a word (RFC 3501 6.4.2): every other session of rev1 and qresync
      const close = (plan.profile === 'rev1' || uidMode) && rng.int(0, 1) === 0;
      if (close) {
        if (!(await step('EXPUNGE', 'CLOSE'))) return;
      } else if (deleted && plan.caps.has('UIDPLUS') && rng.int(0, 1) === 0) {
        if (!(await step('EXPUNGE', `UID EXPUNGE ${deleted}`))) return;
      } else if (!(await step('EXPUNGE', 'EXPUNGE'))) return;
    }
  } finally {
    // what a client keeps for its next SELECT (QRESYNC): the UIDs it knows, and the HIGHESTMODSEQ
    // of the SELECT whose changes it then fetched in full (not the highest MODSEQ it saw since)
    if (uidMode && model.uidValidity && model.selectModseq) plan.cache = { uidValidity: model.uidValidity, modseq: model.selectModseq, uids: model.knownUids.filter(Boolean) };
    if (!client.isClosed) await step('LOGOUT', 'LOGOUT');
    socket?.destroy();
    if (proc) await stopProcess(proc.child, 5000);
    rec.sessions++;
  }

  /**
   * UPDATE: the kept search of a keyword only this client sets, two STOREs of it, then a plain
   * SEARCH and NOOP to compare; by UID in one session, by message number in the next.
   */
  async function keptSearch(): Promise<boolean> {
    const keyword = `Own${plan.index}`;
    const byUid = (plan.sessions = (plan.sessions ?? 0) + 1) % 2 === 0;
    const uid = byUid ? 'UID ' : '';
    const tag = `k${plan.index}x${plan.sessions}`;
    searches.keep(tag, byUid);
    if (!(await ok('SEARCH UPDATE', `${uid}SEARCH RETURN (ALL UPDATE) KEYWORD ${keyword}`, { tag }))) return false;
    if (!(await store('+FLAGS', [keyword], [], [], true))) return false;
    const members = [...(searches.result(tag) ?? [])].filter((u) => model.seqOf(u) > 0);
    if (members.length) {
      const one = rng.pick(members);
      if (!(await step('STORE', `UID STORE ${one} -FLAGS (${keyword})`, { store: { seq: model.seqOf(one), add: [], remove: [keyword] }, acceptNo: true }))) return false;
    }
    const lines: string[] = [];
    if (!(await ok('SEARCH', `${uid}SEARCH KEYWORD ${keyword}`, { collect: lines }))) return false;
    const found = lines.flatMap((l) => (/^\* SEARCH\b/i.test(l) ? l.slice('* SEARCH'.length).trim().split(' ').filter(Boolean).map(Number) : /^\* ESEARCH\b.* ALL ([\d:,]+)/i.test(l) ? expandSet(/ ALL ([\d:,]+)/i.exec(l)![1]!) : []));
    // message numbers stand as the SEARCH left them (no EXPUNGE during it): UIDs now, before the NOOP moves them
    const plain = byUid ? found : found.map((n) => model.knownUids[n - 1] ?? 0).filter(Boolean);
    if (!(await ok('NOOP', 'NOOP'))) return false;
    searches.compare(tag, plain);
    return true;
  }

  /**
   * QRESYNC: STORE (UNCHANGEDSINCE m) of a message whose MODSEQ m the session saw: either
   * [MODIFIED] names it, or its FETCH shows a MODSEQ above m (RFC 7162 3.1.3).
   */
  async function unchangedSince(): Promise<boolean> {
    const uid = someUid();
    const since = uid ? model.modseqOf(uid) : 0;
    // a STORE that changes nothing need not raise the MODSEQ: only a message seen without \Seen
    if (!since || (model.flagsOf(uid) ?? '\\seen').split(' ').includes('\\seen')) return true;
    const lines: string[] = [];
    const r = await step('STORE', `UID STORE ${uid} (UNCHANGEDSINCE ${since}) +FLAGS (\\Seen)`, { collect: lines, acceptNo: true });
    if (!r) return false;
    const modified = /\[MODIFIED ([\d:,]+)\]/i.exec(r.text);
    if (r.status !== 'OK' || (modified && expandSet(modified[1]!).includes(uid))) return true;
    for (const line of lines) {
      const m = /^\* \d+ FETCH \(.*\bUID (\d+)\b.*\bMODSEQ \((\d+)\)/i.exec(line);
      if (m && Number(m[1]) === uid && Number(m[2]) <= since) model.fail(`UID STORE ${uid} (UNCHANGEDSINCE ${since}) OK without [MODIFIED], but its FETCH shows MODSEQ ${m[2]}`);
    }
    return true;
  }

  /** IDLE for `ms`, then DONE. */
  async function idle(ms: number): Promise<boolean> {
    model.begin('IDLE');
    const done = client.command('IDLE', { timeoutMs: COMMAND_TIMEOUT_MS, onUntagged: onLine });
    done.catch(() => undefined);
    try {
      const go = client.waitFor((r) => r.text.startsWith('+'), COMMAND_TIMEOUT_MS, 'IDLE continuation');
      go.catch(() => undefined);
      const first = await Promise.race([go.then(() => 'go' as const), done.then(() => 'done' as const)]);
      if (first === 'go') {
        await sleep(ms);
        client.write('DONE\r\n');
      }
      const result = await done;
      model.end(result.status, result.text);
      if (result.status !== 'OK') rec.fail('IDLE', `${result.status} ${result.text}`);
      else rec.done('IDLE', result.ms - ms);
      return true;
    } catch (err) {
      rec.fail('IDLE', (err as Error).message);
      rec.connectionErrors++;
      return false;
    }
  }
}
