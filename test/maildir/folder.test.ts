// An open folder: UIDs, \Recent, flags, keywords, expunge, copy, move, append,
// message contents and parsed structure, all on a real Maildir in a temp directory.

import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import { MailStoreError, type MailStore } from '../../server/backend/mailstore.js';
import type { MessageMeta } from '../../server/mime/types.js';
import { deliver, flagsOf, infoOf, message, recorder, store, tempMaildir, type TempMaildir, select } from './helpers.js';

let md: TempMaildir;
let mail: MailStore;

beforeEach(async () => {
  md = tempMaildir(['Sent', 'Trash']);
  mail = await store(md.root, { watch: false });
});

afterEach(async () => {
  await mail.close();
  md.cleanup();
});

test('refresh() claims new/ for the session that calls it: recent for it, not for others', async () => {
  const a = await mail.openFolder('INBOX');
  const b = await mail.openFolder('INBOX');
  const ra = recorder();
  const rb = recorder();
  a.subscribe(ra.listener);
  b.subscribe(rb.listener);
  const name = deliver(md.root, '', message('one'), { mtime: Date.UTC(2024, 0, 2, 3, 4, 5) });
  assert.equal(a.snapshot().messages.length, 0, 'open does not claim new/');

  await a.refresh();
  assert.equal(ra.changes.length, 1);
  assert.deepEqual(ra.plain(), [
    { kind: 'added', recent: true, messages: [{ uid: 1, flags: [] }] },
  ]);
  assert.deepEqual(await infoOf(a, [1]), [{ uid: 1, size: message('one').length + 6, internalDate: Date.UTC(2024, 0, 2, 3, 4, 5) }]);
  assert.deepEqual(rb.plain(), [{ ...(ra.plain()[0] as object), recent: false }]);
  // Moved to cur/ with an empty ":2," as Courier does, and numbered in courierimapuiddb.
  assert.deepEqual(readdirSync(path.join(md.root, 'new')), []);
  assert.deepEqual(readdirSync(path.join(md.root, 'cur')), [`${name}:2,`]);
  const uiddb = readFileSync(path.join(md.root, 'courierimapuiddb'), 'utf8').split('\n');
  assert.match(uiddb[0], /^1 \d+ 2$/);
  assert.equal(uiddb[1], `1 ${name}`);

  const snapshot = a.snapshot() as ReturnType<typeof a.snapshot> & { recent: number[] };
  assert.deepEqual(snapshot.recent, [1]);
  assert.deepEqual((b.snapshot() as typeof snapshot).recent, []);
  a.release();
  b.release();
});

test('UIDs and UIDVALIDITY stay the same across stores and restarts; new messages get higher UIDs', async () => {
  deliver(md.root, '', message('1'), { dir: 'cur', flags: 'S' });
  deliver(md.root, '', message('2'), { dir: 'cur' });
  const first = await select(mail, 'INBOX');
  const before = first.snapshot();
  assert.deepEqual(before.messages.map((m) => m.uid), [1, 2]);
  first.release();
  await mail.close();

  deliver(md.root, '', message('3'));
  mail = await store(md.root, { watch: false });
  const again = await select(mail, 'INBOX');
  await again.refresh();
  const after = again.snapshot();
  assert.equal(after.uidValidity, before.uidValidity);
  assert.deepEqual(after.messages.map((m) => m.uid), [1, 2, 3]);
  assert.equal(after.uidNext, 4);
  assert.deepEqual(flagsOf(after.messages[0].flags), ['\\Seen']);
  again.release();
});

test('STORE: system flags in the file name, keywords in courierimapkeywords, events to every session', async () => {
  deliver(md.root, '', message('1'), { dir: 'cur', flags: 'P' });
  deliver(md.root, '', message('2'), { dir: 'cur', flags: 'S' });
  const a = await select(mail, 'INBOX');
  const b = await select(mail, 'INBOX');
  const rb = recorder();
  b.subscribe(rb.listener);

  await a.storeFlags([1, 2], 'add', ['\\Flagged', '\\SEEN', '$Label1']);
  assert.deepEqual(rb.plain(), [
    { kind: 'flags', uid: 1, flags: ['$Label1', '\\Flagged', '\\Seen'] },
    { kind: 'flags', uid: 2, flags: ['$Label1', '\\Flagged', '\\Seen'] },
  ]);
  const files = readdirSync(path.join(md.root, 'cur')).sort();
  assert.ok(files[0].endsWith(':2,FPS'), `P is kept: ${files[0]}`);
  assert.ok(files[1].endsWith(':2,FS'));

  await a.storeFlags([1], 'remove', ['\\Flagged', '$label1']);
  assert.deepEqual(flagsOf(a.snapshot().messages[0].flags), ['\\Seen'], 'keywords match without regard to case');
  await a.storeFlags([2], 'replace', ['\\Draft', 'Foo']);
  assert.deepEqual(flagsOf(a.snapshot().messages[1].flags), ['Foo', '\\Draft']);
  await a.storeFlags([2], 'add', ['foo']);
  assert.deepEqual(flagsOf(a.snapshot().messages[1].flags), ['Foo', '\\Draft'], 'the folder spelling wins');

  // Another process (new store) reads the same state from disk.
  const other = await store(md.root, { watch: false });
  const view = await select(other, 'INBOX');
  assert.deepEqual(view.snapshot().messages.map((m) => flagsOf(m.flags)), [['\\Seen'], ['Foo', '\\Draft']]);
  view.release();
  await other.close();

  await assert.rejects(a.storeFlags([1], 'add', ['\\Bogus']), (e: unknown) => e instanceof MailStoreError);
  await assert.rejects(a.storeFlags([1], 'add', ['two words']), (e: unknown) => e instanceof MailStoreError);
  await a.storeFlags([1], 'add', ['\\Recent']); // ignored, not an error
  await a.storeFlags([99], 'add', ['\\Seen']); // unknown UID: nothing happens
  a.release();
  b.release();
});

test('keywords can be turned off (IMAP_KEYWORDS=0): they are dropped, system flags still stored', async () => {
  await mail.close();
  mail = await store(md.root, { watch: false, keywords: false });
  deliver(md.root, '', message('1'), { dir: 'cur' });
  const folder = await select(mail, 'INBOX');
  await folder.storeFlags([1], 'add', ['\\Seen', 'Foo']);
  assert.deepEqual(flagsOf(folder.snapshot().messages[0].flags), ['\\Seen']);
  assert.equal(existsSync(path.join(md.root, 'courierimapkeywords')), false);
  folder.release();
});

test('EXPUNGE removes the files, reports them once to every session, and the UIDs are never reused', async () => {
  for (let i = 0; i < 4; i++) deliver(md.root, '', message(String(i)), { dir: 'cur' });
  const a = await select(mail, 'INBOX');
  const b = await select(mail, 'INBOX');
  const ra = recorder();
  const rb = recorder();
  a.subscribe(ra.listener);
  b.subscribe(rb.listener);
  assert.deepEqual(await a.expunge([2, 4, 77]), [2, 4]);
  assert.deepEqual(ra.plain(), [{ kind: 'expunged', uids: [2, 4] }]);
  assert.deepEqual(rb.plain(), ra.plain());
  assert.equal(readdirSync(path.join(md.root, 'cur')).length, 2);
  await assert.rejects(a.readMessage(2), (e: unknown) => e instanceof MailStoreError && e.code === 'EXPUNGEISSUED');

  deliver(md.root, '', message('new'));
  await a.refresh();
  assert.deepEqual(a.snapshot().messages.map((m) => m.uid), [1, 3, 5]);
  a.release();
  b.release();
});

test('APPEND: flags, keywords, INTERNALDATE; the open folder hears of it, recent for its first session', async () => {
  const folder = await select(mail, 'INBOX.Sent');
  const r = recorder();
  folder.subscribe(r.listener);
  const content = Buffer.from('Subject: appended\r\n\r\nbody\r\n');
  const date = Date.UTC(2020, 5, 1, 12, 0, 0);
  const result = await mail.append('INBOX.Sent', content, { flags: ['\\Seen', 'Sent-by-me'], internalDate: date });
  assert.equal(result.uid, 1);
  assert.equal(result.uidValidity, folder.snapshot().uidValidity);
  assert.deepEqual(r.plain(), [
    { kind: 'added', recent: true, messages: [{ uid: 1, flags: ['Sent-by-me', '\\Seen'] }] },
  ]);
  assert.deepEqual(await infoOf(folder, [1]), [{ uid: 1, size: content.length, internalDate: date }]);
  assert.deepEqual(await folder.readMessage(1), content);
  const [file] = readdirSync(path.join(md.root, '.Sent', 'cur'));
  assert.match(file, new RegExp(`,S=${content.length},W=${content.length}:2,S$`));
  assert.equal(statSync(path.join(md.root, '.Sent', 'cur', file)).mtimeMs, date);
  assert.deepEqual(readdirSync(path.join(md.root, '.Sent', 'tmp')).filter((n) => !n.endsWith('.lock')), [], 'nothing left in tmp/');

  const second = await mail.append('INBOX.Sent', message('2'));
  assert.equal(second.uid, 2);
  await assert.rejects(mail.append('INBOX.Nope', message('x')), (e: unknown) => e instanceof MailStoreError && e.code === 'TRYCREATE');
  await assert.rejects(mail.append('INBOX.Sent', message('x'), { flags: ['\\Nope'] }), MailStoreError);
  folder.release();
});

test('COPY keeps flags, keywords and INTERNALDATE; UIDPLUS mapping in source order', async () => {
  const date = Date.UTC(2021, 1, 2, 3, 4, 5);
  deliver(md.root, '', message('a'), { dir: 'cur', flags: 'S', mtime: date });
  deliver(md.root, '', message('b'), { dir: 'cur', flags: 'F' });
  deliver(md.root, '', message('c'), { dir: 'cur' });
  const inbox = await select(mail, 'INBOX');
  await inbox.storeFlags([3], 'add', ['Important']);
  await mail.append('INBOX.Trash', message('already there'));
  const trash = await select(mail, 'INBOX.Trash');
  const r = recorder();
  trash.subscribe(r.listener);

  const result = await inbox.copyTo([3, 1], 'INBOX.Trash');
  assert.equal(result.uidValidity, trash.snapshot().uidValidity);
  assert.deepEqual(result.mapping, [[1, 2], [3, 3]]);
  const copied = trash.snapshot().messages.slice(1);
  assert.deepEqual(copied.map((m) => flagsOf(m.flags)), [['\\Seen'], ['Important']]);
  assert.equal((await infoOf(trash, [copied[0].uid]))[0].internalDate, date);
  assert.deepEqual(await trash.readMessage(2), message('a'));
  // Before them, the message appended earlier: nobody had been told of it, so it is recent here (known already).
  assert.deepEqual(
    r.changes.map((c) => c.kind === 'added' && [c.recent, c.messages.map((m) => m.uid)]),
    [[true, [1]], [true, [2, 3]]],
    'the destination session hears of the copies',
  );
  assert.equal(inbox.snapshot().messages.length, 3, 'the source is unchanged');
  await assert.rejects(inbox.copyTo([1], 'INBOX.Missing'), (e: unknown) => e instanceof MailStoreError && e.code === 'TRYCREATE');
  inbox.release();
  trash.release();
});

test('MOVE: the source reports EXPUNGE, the destination gets the messages with their flags', async () => {
  deliver(md.root, '', message('a'), { dir: 'cur', flags: 'S' });
  deliver(md.root, '', message('b'), { dir: 'cur' });
  const inbox = await select(mail, 'INBOX');
  await inbox.storeFlags([2], 'add', ['Later']);
  const r = recorder();
  inbox.subscribe(r.listener);
  const result = await inbox.moveTo([2], 'INBOX.Sent');
  assert.deepEqual(result.mapping, [[2, 1]]);
  assert.deepEqual(r.plain(), [{ kind: 'expunged', uids: [2] }]);
  assert.equal(readdirSync(path.join(md.root, 'cur')).length, 1);
  const sent = await select(mail, 'INBOX.Sent');
  assert.deepEqual(sent.snapshot().messages.map((m) => flagsOf(m.flags)), [['Later']]);
  assert.deepEqual(await sent.readMessage(1), message('b'));
  sent.release();

  // MOVE into the folder itself: new UIDs, old ones expunged.
  const self = await inbox.moveTo([1], 'INBOX');
  assert.deepEqual(self.mapping, [[1, 3]]);
  assert.deepEqual(inbox.snapshot().messages.map((m) => m.uid), [3]);
  inbox.release();
});

test('reading follows a file renamed by another process (flags changed behind our back)', async () => {
  const name = deliver(md.root, '', message('x'), { dir: 'cur' });
  const folder = await select(mail, 'INBOX');
  const { renameSync } = await import('node:fs');
  renameSync(path.join(md.root, 'cur', name), path.join(md.root, 'cur', `${name.slice(0, -3)}:2,RS`));
  assert.deepEqual(await folder.readMessage(1), message('x'));
  // A STORE on the stale name finds the file too, and keeps the other process's flags.
  await folder.storeFlags([1], 'add', ['\\Flagged']);
  assert.deepEqual(flagsOf(folder.snapshot().messages[0].flags), ['\\Answered', '\\Flagged', '\\Seen']);
  folder.release();
});

test('messageMeta parses once per message and is shared by sessions', async () => {
  await mail.close();
  let parses = 0;
  const fake = (raw: Buffer): MessageMeta => {
    parses += 1;
    return {
      size: raw.length,
      references: [],
      sentDate: null,
      decoded: { subject: raw.toString(), from: '', to: '', cc: '', bcc: '' },
      envelope: { date: null, subject: null, from: null, sender: null, replyTo: null, to: null, cc: null, bcc: null, inReplyTo: null, messageId: null },
      body: { type: 'text', subtype: 'plain', params: [] },
    } as unknown as MessageMeta;
  };
  mail = await store(md.root, { watch: false, parseMessage: fake, parserVersion: 'test-1' });
  deliver(md.root, '', message('meta'), { dir: 'cur' });
  const a = await select(mail, 'INBOX');
  const b = await select(mail, 'INBOX');
  const [m1, m2, m3] = await Promise.all([a.messageMeta(1), a.messageMeta(1), b.messageMeta(1)]);
  assert.equal(parses, 1);
  assert.equal(m1, m2);
  assert.equal(m1, m3);
  a.release();
  b.release();
  await mail.close();
  await new Promise((resolve) => setTimeout(resolve, 30)); // let the idle folder state go
  assert.ok(existsSync(path.join(md.root, 'imapd-ts.structure')));
  assert.ok(existsSync(path.join(md.root, 'imapd-ts.headers')));

  // With a parser version, the structure is kept on disk for the next process.
  mail = await store(md.root, { watch: false, parseMessage: fake, parserVersion: 'test-1' });
  const c = await select(mail, 'INBOX');
  assert.equal((await c.messageMeta(1)).decoded.subject, message('meta').toString());
  assert.equal(parses, 1, 'read from the cache files');
  c.release();
  await mail.close();

  // Another parser version: parsed again.
  mail = await store(md.root, { watch: false, parseMessage: fake, parserVersion: 'test-2' });
  const d = await select(mail, 'INBOX');
  await d.messageMeta(1);
  assert.equal(parses, 2);
  d.release();
});

test('header data and structure read back from the cache files are what the parser gave', async () => {
  const raw = Buffer.from(
    'Date: Tue, 3 Jan 2023 22:13:20 +0900\nFrom: "Ann, A." <ann@example.org>\nSender: s@example.org\nTo: Bob <b@x>, c@y\n' +
      'Cc: group: d@z;\nSubject: =?utf-8?B?w6l0w6k=?=\nMessage-ID: <m@x>\nIn-Reply-To: <p@x>\nReferences: <o@x> <p@x>\n' +
      'Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nhi\n--b--\n',
  );
  writeFileSync(path.join(md.root, 'cur', '1700000001.M1P1.test:2,S'), raw);
  const first = await select(mail, 'INBOX');
  const parsed = await first.messageMeta(1);
  const [data] = await first.messageData([1], { header: true, envelope: true, structure: true });
  first.release();
  await mail.close();
  mail = await store(md.root, { watch: false });
  const again = await select(mail, 'INBOX');
  const [cached] = await again.messageData([1], { header: true, envelope: true, structure: true });
  const plain = (h: { envelope: unknown; references: unknown; decoded: { subject: string; from: string; to: string; cc: string; bcc: string }; sentDate: unknown }) => ({
    envelope: h.envelope, references: h.references, sentDate: h.sentDate,
    decoded: { subject: h.decoded.subject, from: h.decoded.from, to: h.decoded.to, cc: h.decoded.cc, bcc: h.decoded.bcc },
  });
  assert.deepEqual(plain(cached!.header!), plain(parsed));
  assert.equal(parsed.decoded.subject, 'été');
  assert.deepEqual(cached!.structure, parsed.body);
  assert.ok(cached!.envelope!.equals(data!.envelope!));
  again.release();
});

test('the default parser gives the real structure (ENVELOPE subject, RFC822.SIZE)', async () => {
  deliver(md.root, '', message('Real parse'), { dir: 'cur' });
  const folder = await select(mail, 'INBOX');
  const meta = await folder.messageMeta(1);
  assert.equal(meta.envelope.subject, 'Real parse');
  assert.equal(meta.size, (await infoOf(folder, [1]))[0].size);
  assert.equal(meta.size, message('Real parse').length + message('Real parse').toString().split('\n').length - 1);
  folder.release();
});

test('a released handle and a closed store refuse further use', async () => {
  const folder = await select(mail, 'INBOX');
  folder.release();
  folder.release(); // twice is harmless
  await assert.rejects(folder.expunge([1]), MailStoreError);
  await mail.close();
  await assert.rejects(mail.listFolders(), MailStoreError);
});
