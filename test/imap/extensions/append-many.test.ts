// MULTIAPPEND (RFC 3502) now that the Maildir engine writes and syncs up to 8 messages at once
// (MaildirStore.appendMany): more messages than that, small ones (in memory) and large ones
// (streamed to tmp/ as they arrive) mixed, still get consecutive UIDs in the order sent, each
// with its own flags and bytes; one refused leaves nothing, in cur/ or tmp/; and to the Outbox every message is
// sent (in order) before any is stored, a refusal of the second storing none. `imapd` over
// stdio on real Maildirs.

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnImapd, type ImapTestClient, type Reply, type SpawnedImapd } from '../../helpers/imap-client.js';
import { emptyMaildir, messagesInUidOrder, removeTree, tempDir } from '../../helpers/maildir.js';

const dirs: string[] = [];
const servers: SpawnedImapd[] = [];

after(async () => {
  for (const s of servers) await s.close();
  for (const d of dirs) removeTree(d);
});

/** `imapd` on a new Maildir with an Outbox folder; `env` may depend on the Maildir's path. */
async function start(env: Record<string, string> | ((maildir: string) => Record<string, string>) = {}): Promise<{ c: ImapTestClient; maildir: string; dir: string }> {
  const dir = tempDir('append-many');
  dirs.push(dir);
  const maildir = emptyMaildir(path.join(dir, 'Maildir'));
  emptyMaildir(path.join(maildir, '.Outbox'));
  fs.writeFileSync(path.join(maildir, '.Outbox', 'maildirfolder'), '');
  const server = spawnImapd(maildir, { IMAP_MAXMSGSIZE: String(8 << 20), ...(typeof env === 'function' ? env(maildir) : env) });
  servers.push(server);
  await server.client.greeting;
  return { c: server.client, maildir, dir };
}

const lit = (data: string | Buffer): Buffer => Buffer.concat([Buffer.from(`{${Buffer.byteLength(data)}+}\r\n`), Buffer.from(data)]);

async function raw(c: ImapTestClient, ...parts: (string | Buffer)[]): Promise<Reply> {
  const tag = c.nextTag();
  c.send(Buffer.concat([Buffer.from(`${tag} `), ...parts.map((p) => Buffer.from(p)), Buffer.from('\r\n')]));
  return c.readUntilTagged(tag);
}

/** Message `i`: every fifth about 1.2 MB (streamed to tmp/ by the IMAP layer), the others small. */
function message(i: number): Buffer {
  const body = i % 5 === 2 ? `${`line ${i} `.repeat(10)}\r\n`.repeat(20_000) : `Hello ${i}.\r\n`;
  return Buffer.from(`From: a@example.org\r\nSubject: message ${i}\r\nMessage-ID: <m${i}@example.org>\r\n\r\n${body}`);
}

const FLAGS = ['(\\Seen)', '()', '(\\Flagged)', '(\\Seen \\Answered)', '(\\Draft)'];

test('a MULTIAPPEND of 21 messages, small and large mixed: consecutive UIDs in the order sent, each its own flags and bytes', async () => {
  const { c, maildir } = await start();
  const messages = Array.from({ length: 21 }, (_, i) => message(i));
  const parts: (string | Buffer)[] = ['APPEND INBOX'];
  messages.forEach((m, i) => parts.push(` ${FLAGS[i % FLAGS.length]} `, lit(m)));
  const reply = await raw(c, ...parts);
  const m = /^OK \[APPENDUID (\d+) 1:21\]/.exec(reply.tagged);
  assert.ok(m, reply.tagged);
  assert.deepEqual(messagesInUidOrder(maildir), messages);
  await c.command('SELECT INBOX');
  const fetched = await c.command('UID FETCH 1:* (FLAGS)');
  const flags = fetched.lines.filter((l) => l.includes('FETCH')).map((l) => /FLAGS \(([^)]*)\)/.exec(l)![1]!.split(' ').filter((f) => f && f !== '\\Recent').sort().join(' '));
  assert.deepEqual(flags, messages.map((_, i) => FLAGS[i % FLAGS.length]!.slice(1, -1).split(' ').filter(Boolean).sort().join(' ')));
  assert.deepEqual(fs.readdirSync(path.join(maildir, 'tmp')), []);
  // And the next one follows on.
  assert.match((await raw(c, 'APPEND INBOX ', lit(message(99)))).tagged, /^OK \[APPENDUID \d+ 22\]/);
});

test('a MULTIAPPEND whose 12th message is refused (empty) stores none of the 21, and leaves none of the large ones received before in tmp/', async () => {
  const { c, maildir } = await start();
  const parts: (string | Buffer)[] = ['APPEND INBOX'];
  for (let i = 0; i < 21; i++) parts.push(' ', lit(i === 11 ? '' : message(i)));
  const reply = await raw(c, ...parts);
  assert.match(reply.tagged, /^NO .*empty/);
  // The literals after the refused one are read to their end and dropped: gone from tmp/ by the next command.
  assert.match((await c.command('NOOP')).tagged, /^OK/);
  assert.deepEqual(messagesInUidOrder(maildir), []);
  assert.deepEqual(fs.readdirSync(path.join(maildir, 'tmp')), []);
  assert.match((await raw(c, 'APPEND INBOX ', lit(message(99)))).tagged, /^OK \[APPENDUID \d+ 1\]/);
});

test('a MULTIAPPEND to the Outbox: each message sent, in order, before any is stored; a refusal of the second stores none', async () => {
  const dir = tempDir('append-many-sendmail');
  dirs.push(dir);
  // A sendmail that notes how many messages the Outbox held when it was called, and fails on
  // the call numbered in "fail-at".
  const program = path.join(dir, 'sendmail.sh');
  fs.writeFileSync(program, `#!/bin/sh
d='${dir}'
n=$(( $(cat "$d/count" 2>/dev/null || echo 0) + 1 ))
echo $n > "$d/count"
ls "$OUTBOX_DIR/cur" | wc -l | tr -d ' ' > "$d/$n.stored"
cat > "$d/$n.stdin"
if [ "$(cat "$d/fail-at" 2>/dev/null)" = "$n" ]; then echo refused >&2; exit 75; fi
exit 0
`, { mode: 0o755 });
  const { c, maildir } = await start((md) => ({ OUTBOX: '.Outbox', SENDMAIL: program, AUTHADDR: 'bob@example.com', AUTHENTICATED: 'bob', OUTBOX_DIR: path.join(md, '.Outbox') }));
  const call = (n: number) => ({ stored: fs.readFileSync(path.join(dir, `${n}.stored`), 'utf8').trim(), stdin: fs.readFileSync(path.join(dir, `${n}.stdin`), 'utf8') });
  const three = [0, 1, 3].map(message);
  const sent = await raw(c, 'APPEND INBOX.Outbox ', lit(three[0]!), ' ', lit(three[1]!), ' ', lit(three[2]!));
  assert.match(sent.tagged, /^OK \[APPENDUID \d+ 1:3\]/);
  for (let n = 1; n <= 3; n++) {
    assert.equal(call(n).stored, '0', `call ${n}: nothing stored yet`);
    assert.match(call(n).stdin, new RegExp(`Subject: message ${[0, 1, 3][n - 1]}\\n`));
  }
  assert.deepEqual(messagesInUidOrder(path.join(maildir, '.Outbox')).map((b) => b.toString().replaceAll('\r\n', '\n')), three.map((b) => b.toString().replaceAll('\r\n', '\n')));
  // The second of the next three is refused: none of them is stored (the first was sent: mail cannot be called back).
  fs.writeFileSync(path.join(dir, 'fail-at'), '5');
  const refused = await raw(c, 'APPEND INBOX.Outbox ', lit(message(10)), ' ', lit(message(11)), ' ', lit(message(12)));
  assert.equal(refused.tagged, 'NO [ALERT] Unable to send E-mail message: refused');
  assert.equal(fs.readFileSync(path.join(dir, 'count'), 'utf8').trim(), '5', 'the third was not sent');
  assert.equal(messagesInUidOrder(path.join(maildir, '.Outbox')).length, 3);
  assert.deepEqual(fs.readdirSync(path.join(maildir, 'tmp')), []);
});
