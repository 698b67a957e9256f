// The imapd command end to end: a real process on a real Maildir, spoken to over its
// standard input and output, as a shell user or Courier's imaplogin would.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnImapd, type SpawnedImapd } from '../helpers/imap-client.js';
import { deliver, emptyMaildir, removeTree, simpleMessage, standardMaildir, tempDir } from '../helpers/maildir.js';

function filesIn(root: string, sub: string): string[] {
  return fs.readdirSync(path.join(root, sub));
}

describe('imapd command line', () => {
  it('greets with PREAUTH and its capabilities, and MAILDIR wins over the argument', async () => {
    const dir = tempDir('cli');
    const real = emptyMaildir(path.join(dir, 'real'));
    const imapd = spawnImapd(path.join(dir, 'does-not-exist'), { MAILDIR: real });
    try {
      const greeting = await imapd.client.greeting;
      assert.match(greeting, /^\* PREAUTH \[CAPABILITY IMAP4rev1 [^\]]*IDLE[^\]]*\]/);
      assert.match(greeting, /UIDPLUS/);
      const r = await imapd.client.command('SELECT INBOX');
      assert.match(r.tagged, /^OK \[READ-WRITE\]/);
    } finally {
      await imapd.close();
      removeTree(dir);
    }
  });

  it('exits non-zero with a clear message when the Maildir is missing or not a Maildir', async () => {
    const dir = tempDir('cli');
    const missing = spawnImapd(path.join(dir, 'nope'));
    assert.notEqual(await missing.exited, 0);
    assert.match(missing.stderr(), /no such Maildir/);
    fs.mkdirSync(path.join(dir, 'plain'));
    const notMaildir = spawnImapd(path.join(dir, 'plain'));
    assert.notEqual(await notMaildir.exited, 0);
    assert.match(notMaildir.stderr(), /not a Maildir/);
    removeTree(dir);
  });

  it('answers the LOGIN tag given by imaplogin instead of greeting', async () => {
    const dir = tempDir('cli');
    const md = emptyMaildir(path.join(dir, 'Maildir'));
    const imapd = spawnImapd(md, { IMAPLOGINTAG: 'a001', AUTHENTICATED: 'alice' });
    try {
      assert.equal(await imapd.client.greeting, 'a001 OK LOGIN Ok.');
      const r = await imapd.client.command('NOOP');
      assert.match(r.tagged, /^OK/);
    } finally {
      await imapd.close();
      removeTree(dir);
    }
  });
});

describe('IMAP4rev1 session on the standard test Maildir', () => {
  let dir: string;
  let md: string;
  let imapd: SpawnedImapd;

  before(async () => {
    dir = tempDir('session');
    md = standardMaildir(path.join(dir, 'Maildir'), 12);
    imapd = spawnImapd(md);
    await imapd.client.greeting;
  });
  after(async () => {
    await imapd.close();
    removeTree(dir);
  });

  it('lists folders with children attributes and special use', async () => {
    const r = await imapd.client.command('LIST "" "*"');
    assert.equal(r.tagged, 'OK LIST completed');
    assert.deepEqual(r.lines, [
      '* LIST (\\Marked \\HasChildren) "." "INBOX"',
      '* LIST (\\HasChildren \\Archive) "." "INBOX.Archive"',
      '* LIST (\\HasNoChildren) "." "INBOX.Archive.2025"',
      '* LIST (\\HasNoChildren \\Sent) "." "INBOX.Sent"',
    ]);
    const pct = await imapd.client.command('LIST "" "INBOX.%"');
    assert.equal(pct.lines.length, 2, pct.lines.join('\n'));
    const root = await imapd.client.command('LIST "" ""');
    assert.deepEqual(root.lines, ['* LIST (\\Noselect) "." ""']);
  });

  it('selects INBOX: counts, recent, UIDVALIDITY, UIDNEXT, and new/ moved to cur/', async () => {
    const r = await imapd.client.command('SELECT INBOX');
    assert.match(r.tagged, /^OK \[READ-WRITE\]/);
    assert.ok(r.lines.includes('* 12 EXISTS'), r.lines.join('\n'));
    // The first session of a Maildir is told of every message: all recent, as in Courier and Dovecot.
    assert.ok(r.lines.includes('* 12 RECENT'), r.lines.join('\n'));
    assert.ok(r.lines.some((l) => /^\* OK \[UIDVALIDITY \d+\]/.test(l)));
    assert.ok(r.lines.some((l) => l.startsWith('* OK [UIDNEXT 13]')), r.lines.join('\n'));
    assert.ok(r.lines.some((l) => l.startsWith('* OK [PERMANENTFLAGS (') && l.includes('\\*')));
    assert.deepEqual(filesIn(md, 'new'), []);
    const uiddb = fs.readFileSync(path.join(md, 'courierimapuiddb'), 'utf8').split('\n');
    assert.match(uiddb[0], /^1 \d+ 13$/);
  });

  it('fetches flags, sizes, envelopes and body structures', async () => {
    const r = await imapd.client.command('FETCH 1:3 (UID FLAGS RFC822.SIZE ENVELOPE)');
    assert.equal(r.tagged, 'OK FETCH completed');
    assert.equal(r.lines.length, 3);
    assert.match(r.lines[0], /^\* 1 FETCH \(UID 1 FLAGS \(\\Seen \\Recent\) RFC822\.SIZE \d+ ENVELOPE \("Tue, 14 Nov 2023/);
    const bs = await imapd.client.command('FETCH 2 BODYSTRUCTURE');
    assert.match(bs.lines[0], /BODYSTRUCTURE \(\("text" "plain"/i);
    assert.match(bs.lines[0], /"alternative"/i);
  });

  it('fetches body sections with partial ranges, without setting \\Seen for PEEK', async () => {
    const peek = await imapd.client.command('FETCH 12 (BODY.PEEK[HEADER.FIELDS (SUBJECT)] FLAGS)');
    assert.match(peek.lines[0], /BODY\[HEADER\.FIELDS \(SUBJECT\)\] \{\d+\}\r\nSubject: /);
    assert.doesNotMatch(peek.lines[0], /\\Seen/);
    const partial = await imapd.client.command('FETCH 12 BODY.PEEK[]<0.10>');
    assert.match(partial.lines[0], /BODY\[\]<0> \{10\}\r\nReturn-Pat/);
    const text = await imapd.client.command('FETCH 12 BODY[TEXT]');
    assert.match(text.lines[0], /FLAGS \([^)]*\\Seen/);
  });

  it('stores flags and keywords, and reports them back', async () => {
    const r = await imapd.client.command('STORE 1 +FLAGS (\\Flagged $Label1)');
    assert.match(r.lines.join('\n'), /\* 1 FETCH \(FLAGS \([^)]*\\Flagged/);
    assert.ok(r.lines.some((l) => l.startsWith('* FLAGS (') && l.includes('$Label1')), r.lines.join('\n'));
    const silent = await imapd.client.command('UID STORE 2 +FLAGS.SILENT (\\Answered)');
    assert.deepEqual(silent.lines, []);
    const check = await imapd.client.command('UID FETCH 2 FLAGS');
    assert.match(check.lines[0], /\\Answered/);
  });

  it('searches by flag, header, body and UID, and sorts and threads', async () => {
    const flagged = await imapd.client.command('SEARCH FLAGGED');
    assert.equal(flagged.lines[0], '* SEARCH 1 3 9');
    const from = await imapd.client.command('UID SEARCH FROM "Carol"');
    assert.match(from.lines[0], /^\* SEARCH( \d+)+$/);
    const body = await imapd.client.command('SEARCH BODY "test message number 4."');
    assert.equal(body.lines[0], '* SEARCH 4');
    const star = await imapd.client.command('SEARCH *:3 NOT DELETED');
    assert.match(star.lines[0], /^\* SEARCH 3 4 5/);
    const sort = await imapd.client.command('SORT (REVERSE ARRIVAL) UTF-8 ALL');
    assert.match(sort.lines[0], /^\* SORT 12 11 10/);
    const thread = await imapd.client.command('THREAD REFERENCES UTF-8 ALL');
    assert.match(thread.lines[0], /^\* THREAD \(/);
  });

  it('copies and moves with COPYUID, and expunges with untagged EXPUNGE', async () => {
    const copy = await imapd.client.command('COPY 1:2 INBOX.Archive');
    assert.match(copy.tagged, /^OK \[COPYUID \d+ 1:2 1:2\]/);
    const move = await imapd.client.command('UID MOVE 3 INBOX.Archive');
    assert.match(move.lines[0], /^\* OK \[COPYUID \d+ 3 3\]/);
    assert.ok(move.lines.includes('* 3 EXPUNGE'), move.lines.join('\n'));
    await imapd.client.command('STORE 1 +FLAGS.SILENT (\\Deleted)');
    const ex = await imapd.client.command('EXPUNGE');
    assert.deepEqual(ex.lines, ['* 1 EXPUNGE']);
    const status = await imapd.client.command('STATUS INBOX.Archive (MESSAGES UIDNEXT UNSEEN)');
    assert.equal(status.lines[0], '* STATUS "INBOX.Archive" (MESSAGES 3 UIDNEXT 4 UNSEEN 0)');
  });

  it('appends with flags and date, and answers APPENDUID', async () => {
    const r = await imapd.client.append('INBOX', simpleMessage('appended'), '(\\Seen) "05-Jan-2024 10:11:12 +0100"');
    assert.match(r.tagged, /^OK \[APPENDUID \d+ 13\]/);
    assert.ok(r.lines.some((l) => /^\* \d+ EXISTS$/.test(l)), r.lines.join('\n'));
    const f = await imapd.client.command('UID FETCH 13 (INTERNALDATE FLAGS)');
    assert.match(f.lines[0], /INTERNALDATE "05-Jan-2024 \d\d:11:12 [+-]\d{4}"/);
    const missing = await imapd.client.append('INBOX.Nope', simpleMessage('x'));
    assert.match(missing.tagged, /^NO \[TRYCREATE\]/);
  });

  it('creates, renames, subscribes and deletes folders', async () => {
    assert.match((await imapd.client.command('CREATE INBOX.Projects.2026')).tagged, /^OK/);
    assert.ok(fs.existsSync(path.join(md, '.Projects.2026', 'maildirfolder')));
    assert.match((await imapd.client.command('CREATE Outside')).tagged, /^NO \[CANNOT\]/);
    assert.match((await imapd.client.command('SUBSCRIBE INBOX.Projects.2026')).tagged, /^OK/);
    const lsub = await imapd.client.command('LSUB "" "*"');
    assert.ok(lsub.lines.includes('* LSUB () "." "INBOX.Projects.2026"'), lsub.lines.join('\n'));
    assert.match((await imapd.client.command('RENAME INBOX.Projects INBOX.Work')).tagged, /^OK/);
    assert.ok(fs.existsSync(path.join(md, '.Work.2026')));
    assert.match((await imapd.client.command('DELETE INBOX.Work.2026')).tagged, /^OK/);
    assert.match((await imapd.client.command('DELETE INBOX')).tagged, /^NO/);
  });

  it('reports a delivery from outside at the next command', async () => {
    await imapd.client.command('NOOP');
    deliver(md, simpleMessage('from outside'));
    const r = await imapd.client.command('NOOP');
    assert.ok(r.lines.some((l) => /^\* \d+ EXISTS$/.test(l)), r.lines.join('\n'));
    assert.ok(r.lines.includes('* 1 RECENT') || r.lines.some((l) => /^\* [1-9]\d* RECENT$/.test(l)), r.lines.join('\n'));
  });

  it('pushes changes at once in IDLE', async () => {
    const c = imapd.client;
    const tag = c.nextTag();
    c.send(`${tag} IDLE\r\n`);
    assert.match((await c.readResponseLine()).toString(), /^\+ entering ENHANCED idle mode/);
    deliver(md, simpleMessage('while idling'));
    const pushed = (await c.readResponseLine(5000)).toString();
    assert.match(pushed, /^\* \d+ EXISTS$/);
    c.send('DONE\r\n');
    const done = await c.readUntilTagged(tag);
    assert.match(done.tagged, /^OK/);
  });

  it('answers bad input with BAD or NO and goes on', async () => {
    const c = imapd.client;
    assert.match((await c.command('FOO')).tagged, /^BAD/);
    assert.match((await c.command('FETCH 1:2 (FLAGS')).tagged, /^BAD/);
    assert.match((await c.command('FETCH 0 FLAGS')).tagged, /^BAD/);
    assert.match((await c.command('FETCH 99999 FLAGS')).tagged, /^BAD/);
    assert.match((await c.command('FETCH abc FLAGS')).tagged, /^BAD/);
    assert.match((await c.command('SELECT "../x"')).tagged, /^NO/);
    assert.match((await c.command('CREATE "INBOX/../.."')).tagged, /^NO/);
    assert.match((await c.command('CREATE "/etc"')).tagged, /^NO/);
    assert.match((await c.command('LOGIN a b')).tagged, /^BAD/);
    c.send('garbage without a command\r\n');
    c.send('t-big APPEND INBOX {104857600}\r\n');
    const line1 = (await c.readResponseLine()).toString();
    const line2 = (await c.readResponseLine()).toString();
    assert.match(line1, /BAD/);
    assert.match(line2, /^t-big NO \[TOOBIG\]/);
    assert.match((await c.command('NOOP')).tagged, /^OK/);
    assert.ok(!fs.existsSync(path.join(path.dirname(md), 'x')));
  });

  it('refuses sequence numbers on an empty folder', async () => {
    await imapd.client.command('CREATE INBOX.Empty');
    await imapd.client.command('SELECT INBOX.Empty');
    assert.match((await imapd.client.command('FETCH * FLAGS')).tagged, /^BAD/);
    assert.match((await imapd.client.command('UID FETCH 1:* FLAGS')).tagged, /^OK/);
    assert.match((await imapd.client.command('SEARCH ALL')).tagged, /^OK/);
  });
});

describe('literals and partial input', () => {
  it('leaves no file behind when a literal is announced and never sent', async () => {
    const dir = tempDir('literal');
    const md = emptyMaildir(path.join(dir, 'Maildir'));
    const imapd = spawnImapd(md);
    await imapd.client.greeting;
    imapd.client.send('a APPEND INBOX {5000}\r\n');
    assert.match((await imapd.client.readResponseLine()).toString(), /^\+/);
    imapd.client.send('only part of the message');
    imapd.child.stdin.end();
    await imapd.exited;
    assert.deepEqual(filesIn(md, 'cur'), []);
    assert.deepEqual(filesIn(md, 'new'), []);
    assert.deepEqual(filesIn(md, 'tmp'), []);
    removeTree(dir);
  });

  it('accepts non-synchronizing literals (LITERAL+)', async () => {
    const dir = tempDir('literal');
    const md = emptyMaildir(path.join(dir, 'Maildir'));
    const imapd = spawnImapd(md);
    await imapd.client.greeting;
    const msg = simpleMessage('literal plus');
    imapd.client.send(Buffer.concat([Buffer.from(`a APPEND INBOX {${msg.length}+}\r\n`), msg, Buffer.from('\r\n')]));
    const r = await imapd.client.readUntilTagged('a');
    assert.match(r.tagged, /^OK \[APPENDUID/);
    assert.equal(filesIn(md, 'cur').length, 1);
    await imapd.close();
    removeTree(dir);
  });
});

describe('namespaces and international folder names', () => {
  it('serves folders at the top level with IMAP_NAMESPACE_PREFIX empty', async () => {
    const dir = tempDir('namespace');
    const md = standardMaildir(path.join(dir, 'Maildir'), 3);
    const imapd = spawnImapd(md, { IMAP_NAMESPACE_PREFIX: '' });
    try {
      await imapd.client.greeting;
      const ns = await imapd.client.command('NAMESPACE');
      // The shared namespaces are announced as by Courier (sharable Maildirs are always looked for).
      assert.deepEqual(ns.lines, ['* NAMESPACE (("" ".")) NIL (("#shared." ".")("shared." "."))']);
      const list = await imapd.client.command('LIST "" "*"');
      assert.ok(list.lines.includes('* LIST (\\HasNoChildren \\Sent) "." "Sent"'), list.lines.join('\n'));
      assert.match((await imapd.client.command('CREATE Projects')).tagged, /^OK/);
      // On disk it is still Courier's layout, so Courier sees INBOX.Projects.
      assert.ok(fs.existsSync(path.join(md, '.Projects', 'maildirfolder')));
      const status = await imapd.client.command('STATUS Sent (MESSAGES)');
      assert.deepEqual(status.lines, ['* STATUS "Sent" (MESSAGES 3)']);
    } finally {
      await imapd.close();
      removeTree(dir);
    }
  });

  it('speaks modified UTF-7 names, and UTF-8 after ENABLE UTF8=ACCEPT', async () => {
    const dir = tempDir('utf7');
    const md = emptyMaildir(path.join(dir, 'Maildir'));
    const imapd = spawnImapd(md);
    try {
      await imapd.client.greeting;
      assert.match((await imapd.client.command('CREATE "INBOX.Caf&AOk-"')).tagged, /^OK/);
      const list = await imapd.client.command('LIST "" "INBOX.*"');
      assert.deepEqual(list.lines, ['* LIST (\\HasNoChildren) "." "INBOX.Caf&AOk-"']);
      assert.match((await imapd.client.command('CREATE "INBOX.bad&-name&"')).tagged, /^(BAD|NO)/);
      const enable = await imapd.client.command('ENABLE UTF8=ACCEPT');
      assert.deepEqual(enable.lines, ['* ENABLED UTF8=ACCEPT']);
      const utf8 = await imapd.client.command('LIST "" "INBOX.*"');
      assert.deepEqual(utf8.lines, [Buffer.from('* LIST (\\HasNoChildren) "." "INBOX.Café"').toString('latin1')]);
    } finally {
      await imapd.close();
      removeTree(dir);
    }
  });
});

describe('changes made by another process', () => {
  it('never sends EXPUNGE during FETCH, STORE or SEARCH, and sends it at the next NOOP', async () => {
    const dir = tempDir('expunge-rules');
    const md = standardMaildir(path.join(dir, 'Maildir'), 4);
    const a = spawnImapd(md);
    const b = spawnImapd(md);
    try {
      await Promise.all([a.client.greeting, b.client.greeting]);
      await a.client.command('SELECT INBOX');
      await b.client.command('SELECT INBOX');
      await b.client.command('STORE 1 +FLAGS.SILENT (\\Deleted)');
      assert.deepEqual((await b.client.command('EXPUNGE')).lines, ['* 1 EXPUNGE']);
      // Give A's watcher time to see it: it must still hold the expunge back.
      await new Promise((r) => setTimeout(r, 300));
      const fetch = await a.client.command('FETCH 1:4 (UID FLAGS)');
      assert.ok(!fetch.lines.some((l) => l.endsWith('EXPUNGE')), fetch.lines.join('\n'));
      // Other sessions' flag changes may come along as untagged FETCH (FLAGS); count the answers.
      assert.equal(fetch.lines.filter((l) => / FETCH \(UID /.test(l)).length, 4);
      const store = await a.client.command('STORE 2 +FLAGS (\\Flagged)');
      assert.ok(!store.lines.some((l) => l.endsWith('EXPUNGE')), store.lines.join('\n'));
      const search = await a.client.command('SEARCH ALL');
      assert.deepEqual(search.lines.filter((l) => !l.includes('FETCH')), ['* SEARCH 1 2 3 4']);
      const body = await a.client.command('FETCH 1 BODY.PEEK[]');
      assert.match(body.tagged, /^NO \[EXPUNGEISSUED\]/);
      const noop = await a.client.command('NOOP');
      assert.ok(noop.lines.includes('* 1 EXPUNGE'), noop.lines.join('\n'));
      const after = await a.client.command('FETCH 1:* (UID)');
      assert.deepEqual(after.lines.map((l) => /UID (\d+)/.exec(l)![1]), ['2', '3', '4']);
      // The UID forms name messages by UID: the EXPUNGE may come with their answer.
      await b.client.command('STORE 1 +FLAGS.SILENT (\\Deleted)');
      assert.deepEqual((await b.client.command('EXPUNGE')).lines, ['* 1 EXPUNGE']);
      // A hears of it through its watcher, as soon as a loaded machine lets it: ask until then.
      let uidFetch = await a.client.command('UID FETCH 1:* (FLAGS)');
      for (const deadline = Date.now() + 15_000; !uidFetch.lines.includes('* 1 EXPUNGE') && Date.now() < deadline;) {
        await new Promise((r) => setTimeout(r, 50));
        uidFetch = await a.client.command('UID FETCH 1:* (FLAGS)');
      }
      assert.ok(uidFetch.lines.includes('* 1 EXPUNGE'), uidFetch.lines.join('\n'));
    } finally {
      await Promise.all([a.close(), b.close()]);
      removeTree(dir);
    }
  });
});

describe('IMAP_MOVE_EXPUNGE_TO_TRASH', () => {
  it('moves expunged messages to Trash, making the folder when it is missing', async () => {
    const dir = tempDir('trash');
    const md = standardMaildir(path.join(dir, 'Maildir'), 3);
    const imapd = spawnImapd(md, { IMAP_MOVE_EXPUNGE_TO_TRASH: '1' });
    try {
      await imapd.client.greeting;
      await imapd.client.command('SELECT INBOX');
      await imapd.client.command('STORE 2 +FLAGS.SILENT (\\Deleted)');
      const ex = await imapd.client.command('EXPUNGE');
      assert.ok(ex.lines.includes('* 2 EXPUNGE'), ex.lines.join('\n'));
      const status = await imapd.client.command('STATUS INBOX.Trash (MESSAGES)');
      assert.deepEqual(status.lines, ['* STATUS "INBOX.Trash" (MESSAGES 1)']);
    } finally {
      await imapd.close();
      removeTree(dir);
    }
  });
});
