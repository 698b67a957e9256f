// Python's standard imaplib driving our imapd through IMAP4_stream (a real client that
// parses every response; it raises on anything it does not understand).

import { it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { IMAPD, ROOT } from '../helpers/imap-client.js';
import { hasPython, removeTree, standardMaildir, tempDir } from '../helpers/maildir.js';

it('works with Python imaplib over IMAP4_stream', { skip: hasPython ? false : 'python3 missing' }, () => {
  const dir = tempDir('imaplib');
  const md = standardMaildir(path.join(dir, 'Maildir'), 8);
  try {
    const stdout = execFileSync('python3', [path.join(ROOT, 'test/clients/imaplib_stream.py'), `"${process.execPath}" "${IMAPD}" "${md}"`], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    const r = JSON.parse(stdout);
    assert.equal(r.state, 'AUTH');
    assert.ok(r.capabilities.includes('IDLE') && r.capabilities.includes('UIDPLUS'));
    assert.ok(r.list.includes('(\\HasNoChildren \\Sent) "." "INBOX.Sent"'), r.list.join('\n'));
    assert.deepEqual(r.select, ['OK', '8']);
    assert.equal(r.search_all, '1 2 3 4 5 6 7 8');
    assert.match(r.uid_search_from, /^8$/);
    assert.match(r.fetch1[0][0], /^1 \(UID 1 FLAGS \(\\Seen \\Recent\) RFC822\.SIZE \d+ BODY\[HEADER\.FIELDS \(SUBJECT\)\] \{\d+\}$/);
    assert.match(r.fetch1[0][1], /^Subject: Lunch on Friday\? #1\r\n\r\n$/);
    assert.ok(r.rfc822_len > 300);
    assert.match(r.store[1], /FLAGS \(.*\\Flagged/);
    assert.match(r.append[1], /^\[APPENDUID \d+ 9\]/);
    assert.equal(r.create, 'OK');
    assert.match(r.copy[1], /^\[COPYUID \d+ 1:2 1:2\]/);
    assert.equal(r.status, '"INBOX.PyFolder" (MESSAGES 2 UIDNEXT 3)');
    assert.deepEqual(r.expunge, ['OK', ['1']]);
    assert.equal(r.search_subject, '8');
    assert.equal(r.sort, '8 7 6 5 4 3 2 9');
    assert.equal(r.namespace, '(("INBOX." ".")) NIL (("#shared." ".")("shared." "."))');
    assert.equal(r.logout, 'BYE');
  } finally {
    removeTree(dir);
  }
});
