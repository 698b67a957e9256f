// Courier-IMAP and this engine on the same Maildir: each reads what the other wrote
// (UIDs, UIDVALIDITY, flags, keywords, expunges, subscriptions). Courier's imapd runs
// in PREAUTH mode through test/peers/courier-preauth.sh; skipped when missing.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { afterEach, beforeEach, test } from 'node:test';
import type { MailStore } from '../../server/backend/mailstore.js';
import { courierSkip, peerScript } from '../helpers/peers.js';
import { deliver, flagsOf, infoOf, message, store, tempMaildir, type TempMaildir, select } from './helpers.js';

const preauth = peerScript('courier-preauth.sh');
const skip = courierSkip;

let md: TempMaildir;
let mail: MailStore;

beforeEach(async () => {
  md = tempMaildir(['Sent']);
  mail = await store(md.root, { watch: false });
});

afterEach(async () => {
  await mail.close();
  md.cleanup();
});

/** Runs IMAP commands through Courier's imapd; returns its whole output. */
function courier(root: string, commands: string[]): Promise<string> {
  const input = [...commands, 'z LOGOUT'].map((line) => `${line}\r\n`).join('');
  return new Promise((resolve, reject) => {
    const proc = execFile('bash', [preauth, root], { timeout: 20_000, env: { ...process.env, IMAP_USELOCKS: '1' } }, (error, stdout) =>
      error ? reject(error) : resolve(stdout),
    );
    proc.stdin!.end(input);
  });
}

/** "* n FETCH (UID u FLAGS (...))" lines -> uid -> sorted flags. */
function fetchedFlags(output: string): Map<number, string[]> {
  const result = new Map<number, string[]>();
  for (const match of output.matchAll(/^\* \d+ FETCH \(UID (\d+) FLAGS \(([^)]*)\)/gm)) {
    result.set(Number(match[1]), match[2].split(' ').filter((f) => f && f !== '\\Recent').sort());
  }
  return result;
}

test('Courier reads what we wrote: UIDs, UIDVALIDITY, flags and keywords', { skip }, async () => {
  deliver(md.root, '', message('one'));
  deliver(md.root, '', message('two'));
  const inbox = await select(mail, 'INBOX');
  await inbox.refresh();
  await inbox.storeFlags([1], 'add', ['\\Answered', 'Project-X']);
  await inbox.storeFlags([2], 'add', ['\\Flagged', '$Label1', 'Project-X']);
  const appended = await mail.append('INBOX', message('three'), { flags: ['\\Seen', 'Later'] });
  const uidValidity = inbox.snapshot().uidValidity;
  inbox.release();

  const output = await courier(md.root, ['a SELECT INBOX', 'b UID FETCH 1:* (FLAGS)']);
  assert.match(output, new RegExp(`\\[UIDVALIDITY ${uidValidity}\\]`));
  assert.match(output, /\* 3 EXISTS/);
  assert.deepEqual([...fetchedFlags(output)], [
    [1, ['Project-X', '\\Answered']],
    [2, ['$Label1', 'Project-X', '\\Flagged']],
    [appended.uid, ['Later', '\\Seen']],
  ]);
});

test('we read what Courier wrote: claims, flags, keywords, expunges, appends, subscriptions', { skip }, async () => {
  deliver(md.root, '', message('one'));
  deliver(md.root, '', message('two'));
  deliver(md.root, '', message('three'));
  const appendBody = 'Subject: from courier\r\n\r\nhello\r\n';
  const output = await courier(md.root, [
    'a SELECT INBOX',
    'b STORE 1 +FLAGS (\\Flagged $Label1)',
    'c STORE 2 +FLAGS (\\Deleted)',
    'd EXPUNGE',
    'e STORE 2 +FLAGS (Courier-Kw)',
    `f APPEND INBOX.Sent (\\Seen) {${appendBody.length}}\r\n${appendBody}`,
    'g SUBSCRIBE INBOX.Sent',
    'h UID FETCH 1:* (FLAGS)',
  ]);
  assert.match(output, /^d OK/m);
  assert.match(output, /^f OK \[APPENDUID (\d+) 1\]/m);
  const courierView = fetchedFlags(output);
  assert.deepEqual([...courierView.keys()], [1, 3]);

  const inbox = await select(mail, 'INBOX');
  const snapshot = inbox.snapshot();
  assert.equal(snapshot.uidValidity, Number(/\[UIDVALIDITY (\d+)\]/.exec(output)![1]));
  assert.deepEqual(
    snapshot.messages.map((m) => [m.uid, flagsOf(m.flags)]),
    [...courierView],
  );
  assert.deepEqual(flagsOf(snapshot.messages[0].flags), ['$Label1', '\\Flagged']);
  assert.deepEqual(flagsOf(snapshot.messages[1].flags), ['Courier-Kw']);
  inbox.release();

  const sent = await select(mail, 'INBOX.Sent');
  const appendUidValidity = Number(/APPENDUID (\d+) 1/.exec(output)![1]);
  assert.equal(sent.snapshot().uidValidity, appendUidValidity);
  assert.deepEqual(sent.snapshot().messages.map((m) => [m.uid, flagsOf(m.flags)]), [[1, ['\\Seen']]]);
  assert.deepEqual((await infoOf(sent, [1])).map((m) => m.size), [appendBody.length]);
  sent.release();
  assert.deepEqual(await mail.listSubscriptions(), ['INBOX.Sent']);
});

test('keywords changed by us after Courier merged them are seen by Courier (update files win over :list)', { skip }, async () => {
  deliver(md.root, '', message('one'), { dir: 'cur' });
  await courier(md.root, ['a SELECT INBOX', 'b STORE 1 +FLAGS (Alpha Beta)']);
  const inbox = await select(mail, 'INBOX');
  assert.deepEqual(flagsOf(inbox.snapshot().messages[0].flags), ['Alpha', 'Beta']);
  await inbox.storeFlags([1], 'remove', ['Alpha']);
  inbox.release();
  const output = await courier(md.root, ['a SELECT INBOX', 'b UID FETCH 1 (FLAGS)']);
  assert.deepEqual([...fetchedFlags(output)], [[1, ['Beta']]]);
});
