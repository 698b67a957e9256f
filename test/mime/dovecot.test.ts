// Differential test: our ENVELOPE, BODY, BODYSTRUCTURE, RFC822.SIZE and BODY[section] against
// Dovecot 2.3's imap on the same corpus (test/peers/dovecot-preauth.sh speaks IMAP on
// stdin/stdout). Both sides are parsed into trees and compared after the normalisations below;
// each one is a documented, intended difference:
//
// Always applied (symmetric, to both sides):
//  - whitespace: Dovecot collapses runs of whitespace in the subject and in display names and
//    keeps the whitespace left at the start of a folded Message-ID or at the end of a Date (its
//    imap_append_string_for_humans / nolf helpers); we send the unfolded value, trimmed
//    (RFC 5322 2.2.3 unfolding; leading and trailing CFWS is not part of the value), as Courier.
//  - quoted local parts: Dovecot drops the quotes of "john doe"@x; we keep them, since
//    RFC 3501 7.4.2 makes addr-mailbox the RFC 2822 local-part (quotes included).
//  - parameter order: Dovecot moves RFC 2231 parameters after the others; we keep header order
//    (RFC 3501 does not define an order). Parameters are compared as sorted pairs.
// Per message (the test also checks that each declared difference is really there):
//  - case: Dovecot sends type, subtype, encoding, parameter names and the disposition type as
//    written; we send them lower-case (RFC 2045 5.1, 6.1 and RFC 2183 2: case-insensitive),
//    as Courier does.
//  - epilogue-crlf: after a nested multipart's close delimiter, Dovecot counts the CRLF that
//    precedes the next outer delimiter in the inner multipart (2 more octets, 1 more line for
//    an enclosing message/rfc822, CRLF more in BODY[n]); RFC 2046 5.1.1 makes that CRLF part of
//    the outer delimiter ("delimiter := CRLF dash-boundary"), and so do we (Courier too).
//  - header-fields-blank-line: for a message with no body and no blank line, Dovecot still ends
//    HEADER.FIELDS(.NOT) with a blank line (though not HEADER); RFC 3501 6.4.5 says "the blank
//    line is included in all header fetches, except in the case of a message which has no body
//    and no blank line", which we follow for all of them.
//  - invalid-content-type: Dovecot describes "Content-Type: garbage" as ("garbage" "");
//    we use text/plain; charset=us-ascii as RFC 2045 5.2 recommends (Courier does too).
//  - duplicate-headers: the first Subject/From/... wins for us (as the brief asked); Dovecot
//    takes the last Subject and Message-ID and joins the address lists. RFC 5322 3.6 allows
//    one of each, so no rule decides.
//  - garbage-addresses: broken address syntax is recovered differently (no RFC rule).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { bodyStructureValue } from '../../server/wire/bodystructure.js';
import { envelopeValue } from '../../server/wire/envelope.js';
import { serialize } from '../../server/wire/writer.js';
import { parseMessage } from '../../server/mime/parse.js';
import { sectionBytes } from '../../server/mime/section.js';
import type { BodyPart, MessageMeta } from '../../server/mime/types.js';
import { bigMessage, corpus, typicalMessage, type CorpusEntry } from './corpus.js';
import { dovecotSkip, peerScript } from '../helpers/peers.js';
import { fetchItems, parseResponses, parseValue, type Tree } from './imap-parse.js';

const script = peerScript('dovecot-preauth.sh');

function skipReason(): string | false {
  return dovecotSkip;
}

function tree(v: Parameters<typeof serialize>[0]): Tree {
  return parseValue(serialize(v), 0)[0];
}

const str = (t: Tree): string | null => (t === null ? null : Buffer.isBuffer(t) ? t.toString('latin1') : String(t));
const buf = (s: string | null): Tree => (s === null ? null : Buffer.from(s, 'latin1'));
const collapse = (t: Tree): Tree => buf(str(t)?.replace(/[ \t\r\n]+/g, ' ').trim() ?? null);

function normAddresses(list: Tree): Tree {
  if (!Array.isArray(list)) return list;
  return list.map((a) => {
    const [name, adl, mailbox, host] = a as Tree[];
    const mb = str(mailbox);
    const unq = mb !== null && mb.length >= 2 && mb.startsWith('"') && mb.endsWith('"') ? mb.slice(1, -1) : mb;
    return [collapse(name), adl, buf(unq), host];
  });
}

function normEnvelope(env: Tree, known: Set<string>): Tree {
  if (known.has('duplicate-headers')) return 'skipped';
  const e = [...(env as Tree[])];
  for (const i of [0, 8, 9]) e[i] = buf(str(e[i])?.trim() ?? null);
  e[1] = collapse(e[1]);
  for (let i = 2; i <= 7; i++) e[i] = known.has('garbage-addresses') ? 'skipped' : normAddresses(e[i]);
  return e;
}

function normParams(p: Tree, known: Set<string>): Tree {
  if (!Array.isArray(p)) return p;
  const pairs: [string, string][] = [];
  for (let i = 0; i + 1 < p.length; i += 2) {
    let name = str(p[i])!;
    if (known.has('case')) name = name.toLowerCase();
    pairs.push([name, str(p[i + 1])!]);
  }
  pairs.sort((a, b) => (a[0] + '\0' + a[1] < b[0] + '\0' + b[1] ? -1 : 1));
  return pairs.flatMap(([a, b]) => [buf(a), buf(b)]);
}

/** `dovecot` marks Dovecot's side, for the one-sided epilogue-crlf adjustment. */
function normBody(b: Tree, known: Set<string>, dovecot = false): Tree {
  if (known.has('invalid-content-type')) return 'skipped';
  const items = [...(b as Tree[])];
  const lc = (t: Tree): Tree => (known.has('case') && t !== null ? buf(str(t)!.toLowerCase()) : t);
  if (Array.isArray(items[0])) {
    // multipart: children, subtype, [params, dsp, lang, loc]
    let i = 0;
    while (Array.isArray(items[i])) {
      items[i] = normBody(items[i], known, dovecot);
      i++;
    }
    items[i] = lc(items[i]);
    if (items.length > i + 1) items[i + 1] = normParams(items[i + 1], known);
    if (Array.isArray(items[i + 2])) items[i + 2] = [lc((items[i + 2] as Tree[])[0]), normParams((items[i + 2] as Tree[])[1], known)];
    return items;
  }
  items[0] = lc(items[0]);
  items[1] = lc(items[1]);
  items[2] = normParams(items[2], known);
  items[5] = lc(items[5]);
  let ext = 7;
  const type = str(items[0])?.toLowerCase();
  const subtype = str(items[1])?.toLowerCase();
  if (type === 'message' && subtype === 'rfc822') {
    items[7] = normEnvelope(items[7], known);
    if (dovecot && known.has('epilogue-crlf') && Array.isArray((items[8] as Tree[])[0])) {
      items[6] = (items[6] as number) - 2;
      items[9] = (items[9] as number) - 1;
    }
    items[8] = normBody(items[8], known, dovecot);
    ext = 10;
  } else if (type === 'text') {
    ext = 8;
  }
  if (Array.isArray(items[ext + 1])) {
    const dsp = items[ext + 1] as Tree[];
    items[ext + 1] = [lc(dsp[0]), normParams(dsp[1], known)];
  }
  return items;
}

/** Section specs to compare: the whole header and text, every part we know of, its MIME
 * header and (for messages) its HEADER/TEXT, plus parts that do not exist. */
function sectionsFor(meta: MessageMeta, big: boolean): string[] {
  const out = ['HEADER', 'TEXT', 'HEADER.FIELDS (FROM SUBJECT TO)', 'HEADER.FIELDS.NOT (SUBJECT FROM RECEIVED)', '9', '9.1'];
  const visit = (p: BodyPart, label: string): void => {
    if (!(big && p.size > 100000)) out.push(label);
    out.push(`${label}.MIME`);
    if (p.parts !== undefined) p.parts.forEach((c, i) => visit(c, `${label}.${i + 1}`));
    if (p.message !== undefined) {
      out.push(`${label}.HEADER`, `${label}.TEXT`, `${label}.HEADER.FIELDS (SUBJECT)`);
      messageBody(p.message.body, label);
    }
    out.push(`${label}.9`);
  };
  const messageBody = (body: BodyPart, prefix: string): void => {
    const pre = prefix === '' ? '' : prefix + '.';
    if (body.parts !== undefined) body.parts.forEach((c, i) => visit(c, `${pre}${i + 1}`));
    else visit(body, `${pre}1`);
  };
  messageBody(meta.body, '');
  return [...new Set(out)];
}

interface Compared {
  entry: CorpusEntry;
  meta: MessageMeta;
  dovecot: Map<string, Tree>;
  sections: string[];
}

function runDovecot(entries: CorpusEntry[], metas: MessageMeta[]): Compared[] {
  // Under /tmp (not a 0700 mktemp folder): Dovecot runs as the "mail" user and must reach it.
  const dir = path.join(os.tmpdir(), `mime-dovecot-${process.pid}-${Date.now()}`);
  const state = dir + '-state';
  fs.mkdirSync(path.join(dir, 'cur'), { recursive: true, mode: 0o755 });
  fs.mkdirSync(path.join(dir, 'new'), { mode: 0o755 });
  fs.mkdirSync(path.join(dir, 'tmp'), { mode: 0o755 });
  fs.chmodSync(dir, 0o755);
  try {
    entries.forEach((e, i) => {
      fs.writeFileSync(path.join(dir, 'cur', `${1000000000 + i}.M${i}P1.mimetest:2,`), e.raw);
    });
    const sections = metas.map((m, i) => sectionsFor(m, entries[i].raw.length > 1000000));
    let cmds = 'a SELECT INBOX\r\n';
    sections.forEach((secs, i) => {
      const peeks = secs.map((s) => `BODY.PEEK[${s}]`).join(' ');
      cmds += `f${i + 1} FETCH ${i + 1} (RFC822.SIZE ENVELOPE BODY BODYSTRUCTURE ${peeks})\r\n`;
    });
    cmds += 'z LOGOUT\r\n';
    const res = spawnSync(script, [dir], {
      input: cmds,
      env: { ...process.env, DOVECOT_BENCH_STATE: state },
      maxBuffer: 512 * 1024 * 1024,
      timeout: 60000,
    });
    assert.equal(res.status, 0, `dovecot-preauth.sh failed: ${res.stderr?.toString()}`);
    const responses = parseResponses(res.stdout);
    const byNumber = new Map<number, Map<string, Tree>>();
    for (const r of responses) {
      if (r[0] === '*' && r[2] === 'FETCH') {
        const n = r[1] as number;
        const items = byNumber.get(n) ?? new Map<string, Tree>();
        for (const [k, v] of fetchItems(r)) items.set(k, v);
        byNumber.set(n, items);
      }
    }
    return entries.map((entry, i) => ({ entry, meta: metas[i], dovecot: byNumber.get(i + 1)!, sections: sections[i] }));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(state, { recursive: true, force: true });
  }
}

function parseSection(spec: string): { part: number[]; kind: '' | 'HEADER' | 'HEADER.FIELDS' | 'HEADER.FIELDS.NOT' | 'TEXT' | 'MIME'; fields?: string[] } {
  const m = /^((?:\d+\.)*\d+)?\.?(HEADER\.FIELDS\.NOT|HEADER\.FIELDS|HEADER|TEXT|MIME)?(?: \((.*)\))?$/.exec(spec)!;
  return {
    part: m[1] === undefined ? [] : m[1].split('.').map(Number),
    kind: (m[2] ?? '') as '',
    fields: m[3]?.split(' '),
  };
}

const reason = skipReason();

test('differential against Dovecot: ENVELOPE, BODY, BODYSTRUCTURE, RFC822.SIZE, BODY[section]', { skip: reason, timeout: 120000 }, () => {
  const entries = [...corpus(), { name: 'typical', raw: typicalMessage() }, { name: 'big-20MB', raw: bigMessage(20 * 1024 * 1024 * 3 / 4) }];
  const metas = entries.map((e) => parseMessage(e.raw));
  const results = runDovecot(entries, metas);
  const failures: string[] = [];
  let comparisons = 0;
  for (const { entry, meta, dovecot, sections } of results) {
    assert.ok(dovecot !== undefined, `no FETCH response for ${entry.name}`);
    const known = new Set(entry.known ?? []);
    const check = (what: string, ours: Tree, theirs: Tree): void => {
      comparisons++;
      try {
        assert.deepEqual(ours, theirs);
      } catch {
        failures.push(`${entry.name} ${what}:\n  ours:    ${show(ours)}\n  dovecot: ${show(theirs)}`);
      }
    };
    check('RFC822.SIZE', meta.size, dovecot.get('RFC822.SIZE')!);
    const none = new Set<string>();
    // UTF8=ACCEPT form: Dovecot sends raw 8-bit header bytes; for other clients we downgrade them (format.test.ts).
    const ourEnv = tree(envelopeValue(meta.envelope, true));
    const ourBs = tree(bodyStructureValue(meta.body, true));
    const ourBody = tree(bodyStructureValue(meta.body, false));
    check('ENVELOPE', normEnvelope(ourEnv, known), normEnvelope(dovecot.get('ENVELOPE')!, known));
    check('BODYSTRUCTURE', normBody(ourBs, known), normBody(dovecot.get('BODYSTRUCTURE')!, known, true));
    check('BODY', normBody(ourBody, known), normBody(dovecot.get('BODY')!, known, true));
    // A declared difference must really be there, or the declaration is stale.
    let seen = 0;
    const envDiffers = JSON.stringify(normEnvelope(ourEnv, none)) !== JSON.stringify(normEnvelope(dovecot.get('ENVELOPE')!, none));
    const bsDiffers = JSON.stringify(normBody(ourBs, none)) !== JSON.stringify(normBody(dovecot.get('BODYSTRUCTURE')!, none));
    if (envDiffers && (known.has('duplicate-headers') || known.has('garbage-addresses'))) seen++;
    if (bsDiffers && (known.has('invalid-content-type') || known.has('case') || known.has('epilogue-crlf'))) seen++;
    for (const spec of sections) {
      const label = `BODY[${spec}]`;
      const theirs = dovecot.get(label) ?? null;
      const ours = sectionBytes(entry.raw, meta, parseSection(spec));
      const oursTree: Tree = ours === null ? Buffer.alloc(0) : Buffer.from(ours);
      if ((known.has('epilogue-crlf') || (known.has('header-fields-blank-line') && spec.includes('HEADER.FIELDS'))) && Buffer.isBuffer(theirs) && theirs.equals(Buffer.concat([oursTree as Buffer, Buffer.from('\r\n')]))) {
        seen++;
        continue;
      }
      check(label, oursTree, theirs);
    }
    if (known.size > 0 && seen === 0) failures.push(`${entry.name}: declared difference ${[...known].join(', ')} not seen`);
  }
  if (process.env.MIME_DIFF_VERBOSE) console.log(`${comparisons} comparisons`);
  assert.equal(failures.length, 0, `${failures.length} differences:\n${failures.join('\n')}`);
  assert.ok(comparisons > 300, `only ${comparisons} comparisons made`);
});

function show(t: Tree): string {
  if (t === null) return 'NIL';
  if (Buffer.isBuffer(t)) return JSON.stringify(t.length > 300 ? t.toString('latin1', 0, 300) + '...' : t.toString('latin1'));
  if (Array.isArray(t)) return '(' + t.map(show).join(' ') + ')';
  return String(t);
}
