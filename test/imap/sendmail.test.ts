// Running SENDMAIL for the Outbox (server/imap/sendmail.ts): what goes in, and the reason
// given when it fails, as Courier reports it (control characters as "/", at most 512 characters).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { runSendmail } from '../../server/imap/sendmail.js';
import { removeTree, tempDir } from '../helpers/maildir.js';
import { fakeSendmail } from '../helpers/fake-sendmail.js';

const pieces = (...parts: string[]) => Readable.from(parts.map((p) => Buffer.from(p)));

describe('runSendmail', () => {
  it('pipes the message with Unix line ends (also a CRLF split between pieces), the header first', async () => {
    const dir = tempDir('sendmail');
    try {
      const fake = fakeSendmail(path.join(dir, 'fake'));
      const message = pieces('Subject: a\r', '\nTo: b@example.org\r\n\r\nline\r', '\r\nlone CR\rend\r');
      assert.equal(await runSendmail({ program: fake.program, sender: 'a@example.org', header: 'X-IMAP-Sender', message }), null);
      const [call] = fake.calls();
      assert.deepEqual(call.argv, ['-oi', '-t', '-f', 'a@example.org']);
      assert.equal(call.stdin.toString(), 'X-IMAP-Sender: a@example.org\nSubject: a\nTo: b@example.org\n\nline\r\nlone CR\rend\r');
    } finally {
      removeTree(dir);
    }
  });

  it('reports what sendmail said, a missing program, a signal, and a hang', async () => {
    const dir = tempDir('sendmail');
    try {
      const fake = fakeSendmail(path.join(dir, 'fake'));
      fake.failWith(`first line\nsecond line ${'x'.repeat(600)}`);
      const said = await runSendmail({ program: fake.program, sender: null, header: 'X-IMAP-Sender', message: pieces('To: b\n\nx\n') });
      assert.equal(said, `first line/second line ${'x'.repeat(600)}`.slice(0, 512));
      const missing = path.join(dir, 'no-such-sendmail');
      assert.match((await runSendmail({ program: missing, sender: null, header: null, message: pieces('x\n') }))!, /no-such-sendmail.*ENOENT/);
      const killer = path.join(dir, 'killed.sh');
      fs.writeFileSync(killer, '#!/bin/sh\ncat >/dev/null\nkill -TERM $$\n', { mode: 0o755 });
      assert.equal(await runSendmail({ program: killer, sender: null, header: null, message: pieces('x\n') }), `${killer} terminated with signal SIGTERM`);
      const hang = path.join(dir, 'hang.sh');
      fs.writeFileSync(hang, '#!/bin/sh\nexec sleep 30\n', { mode: 0o755 });
      const started = Date.now();
      assert.equal(await runSendmail({ program: hang, sender: null, header: null, message: pieces('x\n'), timeoutMs: 300 }), `${hang} did not finish within 1 s and was stopped`);
      assert.ok(Date.now() - started < 5000);
    } finally {
      removeTree(dir);
    }
  });
});
