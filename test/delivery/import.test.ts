// mbox import: the reader (separators, mboxrd / mboxo quoting, line ends, Status flags, the
// From_ date) and imapd-import, stopped and resumed, with a stop between an append and its
// record, never storing a message twice.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { SqliteAccountStore } from '../../server/accounts/index.js';
import { IMPORTS_FILE } from '../../server/delivery/import.js';
import { ImportLedger } from '../../server/delivery/import-ledger.js';
import { fromLineDate, mboxFlags, readMbox } from '../../server/delivery/mbox.js';
import { ROOT } from '../helpers/imap-client.js';
import { removeTree, tempDir } from '../helpers/maildir.js';

const IMPORT = path.join(ROOT, 'dist/server/bin/imapd-import.js');

const MBOX = [
  'From alice@example.org Sat Dec  5 10:00:00 2026',
  'Subject: one',
  'Status: RO',
  'X-Status: AF',
  '',
  'first body',
  '>From the quoted line',
  '>>From twice quoted',
  '',
  'From bob@example.org Sun Dec  6 11:30:00 2026',
  'Subject: two',
  '',
  'second body, ends without blank line',
  'From not a separator: no blank line before it',
  '',
  'From carol@example.org Sun Dec  6 12:00:00 2026',
  'Subject: three',
  '',
  'third',
  '',
  'From dave@example.org Sun Dec  6 12:01:00 2026',
  'Subject: four',
  '',
  'fourth',
  '',
  'From erin@example.org Sun Dec  6 12:02:00 2026',
  'Subject: five',
  'Status: R',
  '',
  'fifth',
  '',
].join('\n');

let dir: string;
before(() => {
  dir = tempDir('import');
});
after(() => removeTree(dir));

describe('mbox reader', () => {
  it('splits on From_ lines after a blank line, unquotes mboxrd, keeps line ends', async () => {
    const file = path.join(dir, 'read.mbox');
    fs.writeFileSync(file, MBOX);
    const messages = [];
    for await (const m of readMbox(file)) messages.push(m);
    assert.equal(messages.length, 5);
    assert.equal(messages[0]!.raw.toString(), 'Subject: one\nStatus: RO\nX-Status: AF\n\nfirst body\nFrom the quoted line\n>From twice quoted\n');
    assert.equal(messages[1]!.raw.toString(), 'Subject: two\n\nsecond body, ends without blank line\nFrom not a separator: no blank line before it\n');
    assert.deepEqual(mboxFlags(messages[0]!.raw), ['\\Seen', '\\Answered', '\\Flagged']);
    assert.deepEqual(mboxFlags(messages[1]!.raw), []);
    assert.equal(fromLineDate(messages[0]!.fromLine), Date.UTC(2026, 11, 5, 10, 0, 0));
    const mboxo = [];
    for await (const m of readMbox(file, 'mboxo')) mboxo.push(m);
    assert.match(mboxo[0]!.raw.toString(), /\nFrom the quoted line\n>>From twice quoted\n$/);
    // CRLF files keep CRLF.
    const crlf = path.join(dir, 'crlf.mbox');
    fs.writeFileSync(crlf, 'From a@b Sat Dec  5 10:00:00 2026\r\nSubject: x\r\n\r\nbody\r\n\r\nFrom c@d Sat Dec  5 10:00:00 2026\r\nSubject: y\r\n\r\ny\r\n');
    const crlfMessages = [];
    for await (const m of readMbox(crlf)) crlfMessages.push(m.raw.toString());
    assert.deepEqual(crlfMessages, ['Subject: x\r\n\r\nbody\r\n', 'Subject: y\r\n\r\ny\r\n']);
  });
});

describe('imapd-import', () => {
  let data: string;
  const run = (...args: string[]) => spawnSync(process.execPath, [IMPORT, '--data', data, '--user', 'alice', ...args], { encoding: 'utf8', timeout: 60_000 });
  const archive = () => path.join(data, 'mail', 'alice', 'Maildir', '.Archive', 'cur');

  before(async () => {
    data = path.join(dir, 'data');
    const accounts = SqliteAccountStore.open(data);
    await accounts.add({ username: 'alice', password: 'alice-password' });
    accounts.close();
    fs.writeFileSync(path.join(dir, 'mail.mbox'), MBOX);
  });

  it('imports into a new folder with flags and dates, resumes after a stop, never twice', () => {
    const mbox = path.join(dir, 'mail.mbox');
    let r = run('--mbox', mbox, '--folder', 'Archive', '--limit', '2');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /INBOX\.Archive of alice: 2 imported, 0 already there/);
    assert.equal(fs.readdirSync(archive()).length, 2);

    // A stop between the append of the third message and its record: the ledger says pending.
    r = run('--mbox', mbox, '--folder', 'Archive', '--limit', '1');
    assert.equal(r.status, 0, r.stderr);
    const db = new Database(path.join(data, IMPORTS_FILE));
    assert.equal(db.prepare(`UPDATE import_items SET state = 'pending', uid = NULL WHERE item = '2'`).run().changes, 1);
    db.close();

    r = run('--mbox', mbox, '--folder', 'Archive');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /2 imported, 3 already there/);
    assert.match(r.stderr, /100%: 2 imported, 3 already there/);
    const names = fs.readdirSync(archive()).sort();
    assert.equal(names.length, 5);
    const bodies = names.map((n) => fs.readFileSync(path.join(archive(), n), 'utf8'));
    assert.deepEqual(bodies.map((b) => /^Subject: (\w+)/.exec(b)![1]).sort(), ['five', 'four', 'one', 'three', 'two']);
    const one = names[bodies.findIndex((b) => b.startsWith('Subject: one'))]!;
    assert.match(one, /:2,FRS$/);
    assert.equal(Math.floor(fs.statSync(path.join(archive(), one)).mtimeMs / 1000), Date.UTC(2026, 11, 5, 10, 0, 0) / 1000);

    // Again: nothing new.
    r = run('--mbox', mbox, '--folder', 'Archive', '--quiet');
    assert.match(r.stdout, /0 imported, 5 already there/);
    assert.equal(fs.readdirSync(archive()).length, 5);

    // A changed file is refused, not merged.
    fs.writeFileSync(mbox, MBOX.replace('first body', 'other body'));
    r = run('--mbox', mbox, '--folder', 'Archive');
    assert.equal(r.status, 1);
    assert.match(r.stderr, /the file changed/);
    assert.equal(fs.readdirSync(archive()).length, 5);
  });
});

describe('the import ledger', () => {
  it("takes over the first mbox import's rows (table imported, numbers) once", () => {
    const data = path.join(dir, 'old-ledger');
    fs.mkdirSync(data);
    const old = new Database(path.join(data, IMPORTS_FILE));
    old.exec(`CREATE TABLE imported (source TEXT NOT NULL, number INTEGER NOT NULL, hash TEXT NOT NULL, state TEXT NOT NULL, uid_next INTEGER NOT NULL, uid INTEGER, PRIMARY KEY (source, number)) STRICT;
      INSERT INTO imported VALUES ('["mbox","/a"]', 0, 'h0', 'done', 1, 1), ('["mbox","/a"]', 1, 'h1', 'pending', 2, NULL)`);
    old.close();
    const ledger = new ImportLedger(data);
    assert.deepEqual(ledger.row('["mbox","/a"]', '0'), { hash: 'h0', state: 'done', uidNext: 1, uid: 1 });
    assert.deepEqual(ledger.row('["mbox","/a"]', '1'), { hash: 'h1', state: 'pending', uidNext: 2, uid: null });
    ledger.close();
    const db = new Database(path.join(data, IMPORTS_FILE));
    assert.equal((db.prepare("SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'imported'").get() as { n: number }).n, 0);
    db.close();
  });
});
