// IMAP4rev2 (RFC 9051), announced beside IMAP4rev1 and switched on with ENABLE IMAP4rev2
// (Appendix A): one test per change of Appendix E that a server makes, each beside the same
// step in a session that did not enable it. No server installable here implements IMAP4rev2
// (Debian's Dovecot 2.3 does not; Debian's Cyrus is 3.6, and Cyrus has it from 3.10), so the
// answers are held to the RFC's own examples instead: the last describe replays them.

import { after, afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { deliver, emptyMaildir, removeTree, simpleMessage, tempDir } from '../../helpers/maildir.js';
import { spawnImapd, type Reply, type SpawnedImapd } from '../../helpers/imap-client.js';

const dir = tempDir('imap4rev2');
let counter = 0;
const running: SpawnedImapd[] = [];

/** INBOX with two messages (the first \Seen, the second \Deleted) in cur/, one still in new/, and .Sent. */
function maildir(): string {
  const root = emptyMaildir(path.join(dir, `m${++counter}`));
  fs.writeFileSync(path.join(root, 'cur', '1000000001.M1P1.test:2,S'), simpleMessage('one'));
  fs.writeFileSync(path.join(root, 'cur', '1000000002.M2P1.test:2,T'), simpleMessage('two'));
  deliver(root, simpleMessage('three'));
  emptyMaildir(path.join(root, '.Sent'));
  fs.writeFileSync(path.join(root, '.Sent', 'maildirfolder'), '');
  return root;
}

async function start(root: string, env: Record<string, string> = {}): Promise<SpawnedImapd> {
  const imapd = spawnImapd(root, env);
  running.push(imapd);
  await imapd.client.greeting;
  return imapd;
}

async function rev2(root: string, env: Record<string, string> = {}): Promise<SpawnedImapd> {
  const imapd = await start(root, env);
  const reply = await imapd.client.command('ENABLE IMAP4rev2');
  assert.deepEqual(reply.lines, ['* ENABLED IMAP4rev2']);
  assert.match(reply.tagged, /^OK/);
  return imapd;
}

const ok = (reply: Reply): Reply => {
  assert.match(reply.tagged, /^OK/, reply.lines.join('\n') + '\n' + reply.tagged);
  return reply;
};
/** The client reads lines as latin1 (and sends commands as UTF-8): a UTF-8 text as it reads it. */
const utf8 = (text: string): string => Buffer.from(text, 'utf8').toString('latin1');

afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});
after(() => removeTree(dir));

describe('IMAP4rev2: announced, and switched on by ENABLE', () => {
  it('is announced after IMAP4rev1 by default, and ENABLE does not change CAPABILITY (6.3.1)', async () => {
    const { client } = await start(maildir());
    const before = ok(await client.command('CAPABILITY')).lines[0];
    assert.match(before, /^\* CAPABILITY IMAP4rev1 IMAP4rev2 /);
    ok(await client.command('ENABLE IMAP4rev2'));
    assert.equal(ok(await client.command('CAPABILITY')).lines[0], before);
    // Enabled once: a second ENABLE lists nothing (6.3.1: only what that command enabled).
    assert.deepEqual(ok(await client.command('ENABLE IMAP4rev2')).lines, ['* ENABLED']);
  });

  it('is neither announced nor enabled where IMAP_CAPABILITY leaves it out', async () => {
    const { client } = await start(maildir(), { IMAP_CAPABILITY: 'IMAP4rev1 IDLE' });
    assert.ok(!ok(await client.command('CAPABILITY')).lines[0].includes('IMAP4rev2'));
    assert.deepEqual(ok(await client.command('ENABLE IMAP4rev2')).lines, ['* ENABLED']);
    // Still IMAP4rev1: SEARCH answers SEARCH.
    ok(await client.command('SELECT INBOX'));
    assert.deepEqual(ok(await client.command('SEARCH ALL')).lines, ['* SEARCH 1 2 3']);
  });
});

describe('IMAP4rev2: SELECT and EXAMINE (6.3.2, 6.3.3; Appendix E items 9-12)', () => {
  it('answers FLAGS, EXISTS, LIST and the OK codes, without RECENT or UNSEEN', async () => {
    const { client } = await rev2(maildir());
    const reply = ok(await client.command('SELECT INBOX'));
    assert.match(reply.tagged, /^OK \[READ-WRITE\]/);
    // The kind of each line: FLAGS, EXISTS, LIST, or the code of an OK.
    const kinds = reply.lines.map((l) => /^\* (?:\d+ )?(?:OK \[)?([A-Z]+)/.exec(l)?.[1]);
    for (const required of ['FLAGS', 'EXISTS', 'LIST', 'PERMANENTFLAGS', 'UIDNEXT', 'UIDVALIDITY']) assert.ok(kinds.includes(required), `${required} in ${reply.lines.join(' | ')}`);
    assert.ok(!kinds.includes('RECENT'), reply.lines.join(' | '));
    assert.ok(!kinds.includes('UNSEEN'), reply.lines.join(' | '));
    assert.ok(reply.lines.includes('* 3 EXISTS'));
    // The mailbox's LIST line, its attributes accurate (INBOX has a child, .Sent; RFC 6154's \Sent on .Sent).
    assert.ok(reply.lines.includes('* LIST (\\HasChildren) "." "INBOX"'), reply.lines.join(' | '));
    assert.ok(!reply.lines.some((l) => /\\Recent/.test(l)));
    const examine = ok(await client.command('EXAMINE inbox.Sent'));
    assert.match(examine.tagged, /^OK \[READ-ONLY\]/);
    assert.ok(examine.lines.includes('* LIST (\\HasNoChildren \\Sent) "." "INBOX.Sent"'), examine.lines.join(' | '));
  });

  it('says [CLOSED] when a SELECT closes the mailbox selected before, also without QRESYNC announced', async () => {
    const { client } = await rev2(maildir(), { IMAP_CAPABILITY: 'IMAP4rev1 IMAP4rev2' });
    assert.ok(!ok(await client.command('SELECT INBOX')).lines.some((l) => l.includes('[CLOSED]')));
    const again = ok(await client.command('EXAMINE INBOX'));
    assert.match(again.lines[0], /^\* OK \[CLOSED\]/);
    // A failed SELECT leaves no mailbox selected.
    const failed = await client.command('SELECT INBOX.Nothing');
    assert.match(failed.tagged, /^NO/);
    assert.match(failed.lines[0] ?? '', /^\* OK \[CLOSED\]/);
    assert.match((await client.command('FETCH 1 FLAGS')).tagged, /^BAD/);
  });

  it('keeps RECENT, UNSEEN and no LIST line for an IMAP4rev1 session', async () => {
    const { client } = await start(maildir());
    const reply = ok(await client.command('SELECT INBOX'));
    assert.ok(reply.lines.includes('* 3 RECENT'));
    assert.ok(reply.lines.some((l) => l.startsWith('* OK [UNSEEN 2]')));
    assert.ok(!reply.lines.some((l) => l.startsWith('* LIST')));
  });
});

describe('IMAP4rev2: no \\Recent (Appendix E item 12)', () => {
  it('shows no \\Recent in FETCH FLAGS, and no RECENT after new mail', async () => {
    const root = maildir();
    const { client } = await rev2(root);
    ok(await client.command('SELECT INBOX'));
    assert.deepEqual(ok(await client.command('FETCH 3 FLAGS')).lines, ['* 3 FETCH (FLAGS ())']);
    deliver(root, simpleMessage('four'));
    const noop = ok(await client.command('NOOP'));
    assert.deepEqual(noop.lines, ['* 4 EXISTS']);
    assert.deepEqual(ok(await client.command('FETCH 4 (FLAGS)')).lines, ['* 4 FETCH (FLAGS ())']);
    // The same steps in IMAP4rev1.
    const old = await start(maildir());
    ok(await old.client.command('SELECT INBOX'));
    assert.deepEqual(ok(await old.client.command('FETCH 3 FLAGS')).lines, ['* 3 FETCH (FLAGS (\\Recent))']);
  });

  it('refuses the RECENT, NEW and OLD search keys and the RECENT status item', async () => {
    const { client } = await rev2(maildir());
    ok(await client.command('SELECT INBOX'));
    for (const key of ['RECENT', 'NEW', 'OLD', 'NOT (RECENT)', 'OR SEEN NEW']) {
      assert.match((await client.command(`SEARCH ${key}`)).tagged, /^BAD/, key);
    }
    assert.match((await client.command('STATUS INBOX (MESSAGES RECENT)')).tagged, /^BAD/);
    assert.match((await client.command('LIST "" INBOX RETURN (STATUS (RECENT))')).tagged, /^BAD/);
    assert.match((await client.command('SORT (DATE) UTF-8 NEW')).tagged, /^BAD/);
    // An IMAP4rev1 session keeps them.
    const old = await start(maildir());
    ok(await old.client.command('SELECT INBOX'));
    assert.deepEqual(ok(await old.client.command('SEARCH RECENT')).lines, ['* SEARCH 1 2 3']);
    ok(await old.client.command('STATUS INBOX (RECENT)'));
  });

  it('keeps RECENT after new mail for an IMAP4rev1 session', async () => {
    const root = maildir();
    const old = await start(root);
    ok(await old.client.command('SELECT INBOX'));
    deliver(root, simpleMessage('four'));
    assert.deepEqual(ok(await old.client.command('NOOP')).lines, ['* 4 EXISTS', '* 4 RECENT']);
  });
});

describe('IMAP4rev2: SEARCH answers ESEARCH (6.4.4, 7.3.4; Appendix E item 4)', () => {
  it('answers SEARCH and UID SEARCH with ESEARCH, also when nothing matches', async () => {
    const { client } = await rev2(maildir());
    ok(await client.command('SELECT INBOX'));
    let reply = ok(await client.command('SEARCH DELETED'));
    assert.deepEqual(reply.lines, [`* ESEARCH (TAG "t3") ALL 2`]);
    reply = ok(await client.command('UID SEARCH UNDELETED'));
    assert.deepEqual(reply.lines, [`* ESEARCH (TAG "t4") UID ALL 1,3`]);
    reply = ok(await client.command('SEARCH SUBJECT nothing-like-this'));
    assert.deepEqual(reply.lines, [`* ESEARCH (TAG "t5")`]);
    // CHARSET is optional, UTF-8 assumed (6.4.4).
    ok(await client.command('SEARCH CHARSET UTF-8 SUBJECT one'));
  });
});

describe('IMAP4rev2: STATUS DELETED and SIZE (6.3.11; Appendix E item 3)', () => {
  it('counts \\Deleted messages, in STATUS and in LIST RETURN (STATUS)', async () => {
    const { client } = await rev2(maildir());
    const reply = ok(await client.command('STATUS INBOX (MESSAGES DELETED)'));
    assert.deepEqual(reply.lines, ['* STATUS "INBOX" (MESSAGES 3 DELETED 1)']);
    const size = ok(await client.command('STATUS INBOX (SIZE)')).lines[0];
    assert.match(size, /^\* STATUS "INBOX" \(SIZE [1-9]\d*\)$/);
    const list = ok(await client.command('LIST "" "*" RETURN (STATUS (DELETED))'));
    assert.ok(list.lines.includes('* STATUS "INBOX" (DELETED 1)'), list.lines.join(' | '));
    assert.ok(list.lines.includes('* STATUS "INBOX.Sent" (DELETED 0)'), list.lines.join(' | '));
    // The selected mailbox answers from the session's view.
    ok(await client.command('SELECT INBOX'));
    ok(await client.command('STORE 1 +FLAGS (\\Deleted)'));
    assert.deepEqual(ok(await client.command('STATUS INBOX (DELETED)')).lines, ['* STATUS "INBOX" (DELETED 2)']);
  });
});

describe('IMAP4rev2: unsolicited FETCH carries the UID (7.5.2, 6.3.13; Appendix E item 21)', () => {
  it('reports another session\'s flag change with UID', async () => {
    const root = maildir();
    const { client } = await rev2(root);
    ok(await client.command('SELECT INBOX'));
    const other = await start(root);
    ok(await other.client.command('SELECT INBOX'));
    ok(await other.client.command('STORE 3 +FLAGS.SILENT (\\Flagged)'));
    const noop = ok(await client.command('NOOP'));
    assert.deepEqual(noop.lines, ['* 3 FETCH (UID 3 FLAGS (\\Flagged))']);
    // And during IDLE (6.3.13: "they MUST include a UID FETCH item").
    const tag = client.nextTag();
    client.send(`${tag} IDLE\r\n`);
    assert.match((await client.readResponseLine()).toString('latin1'), /^\+ /);
    ok(await other.client.command('STORE 2 +FLAGS.SILENT (\\Answered)'));
    assert.equal((await client.readResponseLine()).toString('latin1'), '* 2 FETCH (UID 2 FLAGS (\\Answered \\Deleted))');
    client.send('DONE\r\n');
    ok(await client.readUntilTagged(tag));
  });
});

describe('IMAP4rev2: mailbox names in UTF-8 (5.1, Appendix A; Appendix E item 16)', () => {
  it('lists, selects and creates names in UTF-8, and refuses names not in NFC', async () => {
    const root = maildir();
    const old = await start(root);
    ok(await old.client.command('CREATE INBOX.&JgA-'));
    const { client } = await rev2(root);
    const list = ok(await client.command('LIST "" "INBOX.*"'));
    assert.ok(list.lines.includes(utf8('* LIST (\\HasNoChildren) "." "INBOX.☀"')), list.lines.join(' | '));
    // A name the client writes as modified UTF-7 is taken as written (RFC 9051: UTF-8 names only).
    const select = ok(await client.command('SELECT "INBOX.☀"'));
    assert.ok(select.lines.includes(utf8('* LIST (\\HasNoChildren) "." "INBOX.☀"')), select.lines.join(' | '));
    assert.match((await client.command('SELECT INBOX.&JgA-')).tagged, /^NO/);
    // Net-Unicode: NFC only (5.1, 6.3.4: reject or convert; we reject).
    const denormalized = await client.command('CREATE "INBOX.A\u030a"');
    assert.match(denormalized.tagged, /^NO \[CANNOT\]/);
    ok(await client.command('CREATE "INBOX.\u00c5"'));
    assert.match((await client.command('RENAME "INBOX.\u00c5" "INBOX.O\u0308"')).tagged, /^NO \[CANNOT\]/);
    // The IMAP4rev1 session still sees modified UTF-7.
    const oldList = ok(await old.client.command('LIST "" "INBOX.*"'));
    assert.ok(oldList.lines.includes('* LIST (\\HasNoChildren) "." "INBOX.&AMU-"') || oldList.lines.includes('* LIST (\\HasNoChildren) "." INBOX.&AMU-'), oldList.lines.join(' | '));
    assert.ok(oldList.lines.some((l) => l.endsWith('INBOX.&JgA-') || l.endsWith('"INBOX.&JgA-"')), oldList.lines.join(' | '));
    // LSUB is deprecated but still answered, with UTF-8 names (Appendix E item 19).
    ok(await client.command('SUBSCRIBE "INBOX.☀"'));
    assert.deepEqual(ok(await client.command('LSUB "" "*"')).lines, [utf8('* LSUB () "." "INBOX.☀"')]);
  });
});

describe('IMAP4rev2: the folded-in extensions work even where IMAP_CAPABILITY leaves them out (Appendix E item 2)', () => {
  it('has ESEARCH, SEARCHRES, UNSELECT, MOVE, UIDPLUS, NAMESPACE, LIST-STATUS and STATUS=SIZE', async () => {
    const root = maildir();
    const { client } = await rev2(root, { IMAP_CAPABILITY: 'IMAP4rev1 IMAP4rev2' });
    ok(await client.command('NAMESPACE'));
    ok(await client.command('LIST "" "*" RETURN (STATUS (MESSAGES SIZE))'));
    ok(await client.command('SELECT INBOX'));
    assert.deepEqual(ok(await client.command('SEARCH RETURN (COUNT SAVE) SEEN')).lines, ['* ESEARCH (TAG "t5") COUNT 1']);
    assert.deepEqual(ok(await client.command('FETCH $ (UID)')).lines, ['* 1 FETCH (UID 1)']);
    // The FETCH side of BINARY (Appendix B).
    assert.match(ok(await client.command('FETCH 1 (BINARY.SIZE[1] BINARY.PEEK[1])')).lines[0], /^\* 1 FETCH \(BINARY\.SIZE\[1\] \d+ BINARY\[1\] /);
    const copy = ok(await client.command('UID COPY 1 INBOX.Sent'));
    assert.match(copy.tagged, /^OK \[COPYUID \d+ 1 1\]/);
    const move = ok(await client.command('UID MOVE 3 INBOX.Sent'));
    assert.match(move.lines[0], /^\* OK \[COPYUID \d+ 3 2\]/);
    assert.equal(move.lines[1], '* 3 EXPUNGE');
    // UID EXPUNGE removes only the named \Deleted messages, with EXPUNGE (no QRESYNC here).
    ok(await client.command('STORE 1 +FLAGS.SILENT (\\Deleted)'));
    assert.deepEqual(ok(await client.command('UID EXPUNGE 2')).lines, ['* 2 EXPUNGE']);
    ok(await client.command('UNSELECT'));
    // COPY to a mailbox that does not exist: TRYCREATE, nothing created (Appendix E item 8).
    ok(await client.command('SELECT INBOX'));
    assert.match((await client.command('COPY 1 INBOX.Nowhere')).tagged, /^NO \[TRYCREATE\]/);
    assert.ok(!fs.existsSync(path.join(root, '.Nowhere')));
    const append = await client.append('INBOX', simpleMessage('five'));
    assert.match(append.tagged, /^OK \[APPENDUID \d+ 4\]/);
  });

  it('keeps them off for an IMAP4rev1 session with the same settings', async () => {
    const { client } = await start(maildir(), { IMAP_CAPABILITY: 'IMAP4rev1 IMAP4rev2' });
    ok(await client.command('SELECT INBOX'));
    assert.match((await client.command('SEARCH RETURN (COUNT) SEEN')).tagged, /^BAD/);
  });
});

describe('IMAP4rev2: CHECK (Appendix E item 17)', () => {
  it('is still answered, as NOOP is, for clients that send it anyway', async () => {
    const root = maildir();
    const { client } = await rev2(root);
    ok(await client.command('SELECT INBOX'));
    deliver(root, simpleMessage('four'));
    assert.deepEqual(ok(await client.command('CHECK')).lines, ['* 4 EXISTS']);
  });
});

describe("IMAP4rev2: RFC 9051's own examples, replayed", () => {
  /** Eleven messages: 2, 10 and 11 \Flagged, 1 to 3 \Seen, 3 \Deleted, 11 with Russian text; none from Smith. */
  function exampleMaildir(): string {
    const root = emptyMaildir(path.join(dir, `m${++counter}`));
    for (let i = 1; i <= 11; i++) {
      const flags = ({ 1: 'S', 2: 'FS', 3: 'ST', 10: 'F', 11: 'F' } as Record<number, string>)[i] ?? '';
      const body = i === 11 ? 'Я ухожу в отпуск.\r\n' : 'Hello.\r\n';
      fs.writeFileSync(path.join(root, 'cur', `10000000${String(i).padStart(2, '0')}.M${i}P1.test:2,${flags}`), simpleMessage(`m${i}`, body, 'Content-Type: text/plain; charset=utf-8\r\n'));
    }
    return root;
  }

  async function exchange(imapd: SpawnedImapd, tag: string, command: string): Promise<Reply> {
    imapd.client.send(Buffer.from(`${tag} ${command}\r\n`, 'utf8'));
    return imapd.client.readUntilTagged(tag);
  }

  it('answers the SEARCH examples of 6.4.4 as the RFC shows them', async () => {
    const imapd = await rev2(exampleMaildir());
    ok(await imapd.client.command('SELECT INBOX'));
    const criteria = 'FLAGGED SINCE 1-Feb-1994 NOT FROM "Smith"';
    assert.deepEqual((await exchange(imapd, 'A282', `SEARCH RETURN (MIN COUNT) ${criteria}`)).lines, ['* ESEARCH (TAG "A282") MIN 2 COUNT 3']);
    assert.deepEqual((await exchange(imapd, 'A283', `SEARCH RETURN () ${criteria}`)).lines, ['* ESEARCH (TAG "A283") ALL 2,10:11']);
    assert.deepEqual((await exchange(imapd, 'A284', 'SEARCH TEXT "string not in mailbox"')).lines, ['* ESEARCH (TAG "A284")']);
    // The literal as the RFC sends it (12 octets of UTF-8), here non-synchronizing.
    assert.deepEqual((await exchange(imapd, 'A285', 'SEARCH CHARSET UTF-8 TEXT {12+}\r\nотпуск')).lines, ['* ESEARCH (TAG "A285") ALL 11']);
    // Without CHARSET, IMAP4rev2 servers assume UTF-8 (6.4.4).
    assert.deepEqual((await exchange(imapd, 'A287', 'SEARCH TEXT {12+}\r\nотпуск')).lines, ['* ESEARCH (TAG "A287") ALL 11']);
    assert.deepEqual((await exchange(imapd, 'A284', 'SEARCH RETURN (MIN) UNSEEN')).lines, ['* ESEARCH (TAG "A284") MIN 4']);
    assert.deepEqual((await exchange(imapd, 'A285', 'UID SEARCH RETURN (MIN MAX) 1:5000')).lines, ['* ESEARCH (TAG "A285") UID MIN 1 MAX 11']);
    assert.deepEqual((await exchange(imapd, 'A286', 'SEARCH RETURN (COUNT) DELETED')).lines, ['* ESEARCH (TAG "A286") COUNT 1']);
  });

  it('answers the ENABLE, SELECT and EXAMINE examples of 6.3.1-6.3.3 with the same responses', async () => {
    const imapd = await start(exampleMaildir());
    const before = (await exchange(imapd, 't1', 'CAPABILITY')).lines;
    // "X-GOOD-IDEA" is unknown here: ignored (6.3.1).
    assert.deepEqual((await exchange(imapd, 't2', 'ENABLE IMAP4rev2 CONDSTORE X-GOOD-IDEA')).lines, ['* ENABLED IMAP4rev2 CONDSTORE']);
    assert.deepEqual((await exchange(imapd, 't3', 'CAPABILITY')).lines, before);
    /** What a line is, for comparing with the RFC's example: its response name or code. */
    const shape = (lines: string[]) => lines.map((l) => /^\* (?:\d+ )?(?:OK \[)?([A-Z]+)/.exec(l)![1]).filter((k) => k !== 'MAILBOXID' && k !== 'MYRIGHTS' && k !== 'HIGHESTMODSEQ').sort();
    const rfcSelect = ['* 172 EXISTS', '* OK [UIDVALIDITY 3857529045] UIDs valid', '* OK [UIDNEXT 4392] Predicted next UID', '* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)', '* OK [PERMANENTFLAGS (\\Deleted \\Seen \\*)] Limited', '* LIST () "/" INBOX'];
    const select = await exchange(imapd, 'A142', 'SELECT INBOX');
    assert.match(select.tagged, /^OK \[READ-WRITE\]/);
    assert.deepEqual(shape(select.lines), shape(rfcSelect));
    const examine = await exchange(imapd, 'A932', 'EXAMINE INBOX');
    assert.match(examine.tagged, /^OK \[READ-ONLY\]/);
    // The second example: [CLOSED] first when another mailbox was selected.
    assert.deepEqual(shape(examine.lines), shape(['* OK [CLOSED] Previous mailbox is now closed', ...rfcSelect]));
    assert.match(examine.lines.find((l) => l.includes('PERMANENTFLAGS'))!, /\[PERMANENTFLAGS \(\)\]/);
  });
});
