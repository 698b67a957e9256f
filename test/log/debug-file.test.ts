// IMAPDEBUGFILE (issue 12, item 5): the per-account protocol record. Its bounds (entry size,
// file size, never created, no symbolic links or FIFOs), and the stdio imapd beside Courier's
// imapd: both append the commands they receive and what they answer, without literal data.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ENTRY_MAX, openDebugFile } from '../../server/log/debug-file.js';
import { emptyMaildir, removeTree, tempDir } from '../helpers/maildir.js';
import { sideBySide } from '../helpers/side-by-side.js';

describe('the IMAPDEBUGFILE record', () => {
  it('is only opened, never created; symbolic links and FIFOs are refused', () => {
    const dir = tempDir('debugfile');
    try {
      const file = path.join(dir, 'imaplog.dat');
      assert.equal(openDebugFile(file, { maxBytes: 1000 }), null);
      assert.equal(fs.existsSync(file), false);
      fs.writeFileSync(path.join(dir, 'elsewhere'), '');
      fs.symlinkSync(path.join(dir, 'elsewhere'), file);
      assert.equal(openDebugFile(file, { maxBytes: 1000 }), null);
      fs.rmSync(file);
      execFileSync('mkfifo', [file]);
      // A FIFO without a reader would block the open for ever; with O_NONBLOCK it fails at once.
      assert.equal(openDebugFile(file, { maxBytes: 1000 }), null);
    } finally {
      removeTree(dir);
    }
  });

  it('cuts each entry at ENTRY_MAX octets and stops at maxBytes with one line saying so', () => {
    const dir = tempDir('debugfile');
    try {
      const file = path.join(dir, 'imaplog.dat');
      fs.writeFileSync(file, '');
      const record = openDebugFile(file, { maxBytes: 20_000, intro: 'test' })!;
      const fetch = Buffer.from(`* 1 FETCH (BODY[] {5000}\r\n${'x'.repeat(5000)})\r\n`);
      record.wrote(fetch);
      let text = fs.readFileSync(file, 'utf8');
      assert.ok(text.endsWith(`WRITE: ${fetch.subarray(0, ENTRY_MAX).toString()}[... ${fetch.length - ENTRY_MAX} more octets not recorded]\n`));
      // Control characters other than CR, LF and tab are not written as they are.
      record.read(Buffer.from('a1 SEARCH TEXT "\x1b[2J"'));
      assert.match(fs.readFileSync(file, 'utf8'), /^READ: a1 SEARCH TEXT "\?\[2J"$/m);
      for (let i = 0; i < 100; i++) record.read(Buffer.from(`a${i} NOOP ${'y'.repeat(500)}`));
      text = fs.readFileSync(file, 'utf8');
      assert.ok(text.length <= 20_000, `${text.length} octets`);
      assert.match(text, /INFO: IMAPDEBUGFILE reached its limit of 20000 bytes; nothing more is recorded until it is emptied\n$/);
      record.read(Buffer.from('a999 NOOP'));
      record.close();
      assert.equal(fs.readFileSync(file, 'utf8'), text);
      // Other sessions share the file: it still never passes the limit.
      for (let n = 0; n < 5; n++) {
        const next = openDebugFile(file, { maxBytes: 20_000, intro: 'again' })!;
        for (let i = 0; i < 50; i++) next.read(Buffer.from(`b${i} NOOP ${'z'.repeat(i * 10)}`));
        next.close();
      }
      assert.ok(fs.statSync(file).size <= 20_000, `${fs.statSync(file).size} octets`);
    } finally {
      removeTree(dir);
    }
  });
});

describe('IMAPDEBUGFILE in the stdio imapd, beside Courier', () => {
  it('records the commands received and the answers, not literal data; no file, no record', async () => {
    const dir = tempDir('debugfile-peers');
    const base = emptyMaildir(path.join(dir, 'base'));
    fs.writeFileSync(path.join(base, 'cur', '1000000000.M1P1.test:2,S'), 'Subject: one\n\nbody\n');
    fs.writeFileSync(path.join(base, 'imaplog.dat'), '');
    const peers = await sideBySide(base, dir, { IMAPDEBUGFILE: 'imaplog.dat' });
    try {
      await peers.both('SELECT INBOX');
      await peers.both('FETCH 1 (FLAGS)');
      const literal = Buffer.from('Subject: two\r\n\r\nliteral-data-not-recorded\r\n');
      await Promise.all([peers.ours.client.append('INBOX', literal), peers.courier?.client.append('INBOX', literal)]);
      await peers.both('NOOP');
    } finally {
      await peers.close();
    }
    try {
      const ours = fs.readFileSync(path.join(dir, 'ours', 'imaplog.dat'), 'latin1');
      assert.match(ours, /^WRITE: \* PREAUTH /m);
      assert.match(ours, /^READ: t1 SELECT INBOX$/m);
      assert.match(ours, /^WRITE: \* 1 EXISTS\r$/m);
      assert.match(ours, /^READ: t2 FETCH 1 \(FLAGS\)$/m);
      assert.match(ours, /^READ: t3 APPEND INBOX \{\d+\}$/m);
      assert.match(ours, /^READ: t5 LOGOUT$/m);
      assert.ok(!ours.includes('literal-data-not-recorded'));
      if (peers.courier) {
        // Courier writes tokens ("READ: ATOM: SELECT"), we write lines: the same commands and answers.
        const courier = fs.readFileSync(path.join(dir, 'courier', 'imaplog.dat'), 'latin1');
        for (const word of ['SELECT', 'FETCH', 'APPEND', 'NOOP', 'LOGOUT']) assert.match(courier, new RegExp(`^READ: ATOM: ${word}$`, 'm'));
        assert.match(courier, /^WRITE: \* PREAUTH /m);
        assert.match(courier, /\* 1 EXISTS\r$/m);
        assert.ok(!courier.includes('literal-data-not-recorded'));
      }
    } finally {
      removeTree(dir);
    }
    // Without the file, neither makes one.
    const dir2 = tempDir('debugfile-none');
    const base2 = emptyMaildir(path.join(dir2, 'base'));
    const none = await sideBySide(base2, dir2, { IMAPDEBUGFILE: 'imaplog.dat' });
    try {
      await none.both('NOOP');
    } finally {
      await none.close();
    }
    try {
      for (const side of ['ours', 'courier']) assert.equal(fs.existsSync(path.join(dir2, side, 'imaplog.dat')), false);
    } finally {
      removeTree(dir2);
    }
  });
});
