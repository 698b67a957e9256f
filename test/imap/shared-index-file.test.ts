// Courier's IMAP_SHAREDINDEXFILE read by the stdio imapd as courier-libs reads it
// (maildirnewshared.C): accounts, a group of accounts in a file of its own
// ("#shared.GROUP.ACCOUNT.FOLDER"), comments, default Maildir, the logged-in account's own
// Maildir left out, a bad line reported. Side by side with Courier's imapd on the same files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { parseCourierIndex, sharedGroupOption } from '../../server/accounts/courier-shared-index.js';
import { spawnCourier, spawnImapd, type SpawnedImapd } from '../helpers/imap-client.js';
import { courierSkip } from '../helpers/peers.js';
import { copyTree, deliver, emptyMaildir, removeTree, simpleMessage, tempDir } from '../helpers/maildir.js';

test('index lines are read as Courier reads them', () => {
  const text = [
    '# accounts',
    'alice\t1000\t1000\t/home/alice',
    'bob\t1000\t100\t/home/bob\tMail/box   # a comment',
    'carol\t7\t7\t/home/carol\t/srv/mail/carol',
    'grp\t*\tindexgrp',
    'root\t0\t0\t/root',
    'nogid\t5\t\t/x',
    'half\t*',
    '',
    'justaname',
  ].join('\n');
  const { entries, errors } = parseCourierIndex(text, '/etc/courier/shared/index');
  assert.deepEqual(entries, [
    { kind: 'account', name: 'alice', maildir: '/home/alice/./Maildir', line: 2 },
    { kind: 'account', name: 'bob', maildir: '/home/bob/Mail/box   ', line: 3 },
    { kind: 'account', name: 'carol', maildir: '/srv/mail/carol', line: 4 },
    { kind: 'group', name: 'grp', file: '/etc/courier/shared/indexgrp', line: 5 },
  ]);
  assert.deepEqual(errors, [6, 7, 8, 10]);
  assert.equal(sharedGroupOption('disableimap=0,sharedgroup=12,x=y'), '12');
  assert.equal(sharedGroupOption(undefined), '');
});

/** Each command, and what to compare of its answer besides the status. */
const SCRIPT: [string, RegExp | null][] = [
  ['NAMESPACE', /^\* NAMESPACE/],
  ['LIST "" "#shared.*"', /^\* LIST/],
  // (Not LIST "#shared." "%": Courier takes "#shared" for an invalid reference and lists nothing.)
  ['LIST "" "#shared.%"', /^\* LIST/],
  ['LIST "" "#shared.grp.%"', /^\* LIST/],
  ['MYRIGHTS #shared.grp.alice.Projects', /^\* MYRIGHTS/],
  ['STATUS #shared.grp.alice.Projects (MESSAGES)', /^\* STATUS/],
  ['STATUS #shared.carol (MESSAGES)', /^\* STATUS/],
  ['SELECT #shared.grp', null],
  ['SELECT #shared.bob', null],
  ['SELECT #shared.alice.Projects', null],
  ['SELECT #shared.grp.alice.Private', null],
  ['SELECT #shared.grp.alice.Projects', /EXISTS|MYRIGHTS|READ-/],
  ['FETCH 1 FLAGS', /^\* 1 FETCH/],
  ['EXAMINE #shared.carol', /EXISTS|MYRIGHTS|READ-/],
];

function maildirs(root: string): void {
  const alice = emptyMaildir(path.join(root, 'alice', 'Maildir'));
  emptyMaildir(path.join(root, 'bob', 'Maildir'));
  const carol = emptyMaildir(path.join(root, 'carol', 'Maildir'));
  for (const folder of ['.Projects', '.Private']) {
    for (const sub of ['cur', 'new', 'tmp']) fs.mkdirSync(path.join(alice, folder, sub), { recursive: true });
    fs.writeFileSync(path.join(alice, folder, 'maildirfolder'), '');
  }
  fs.writeFileSync(path.join(alice, '.Projects', 'courierimapacl'), 'owner aceilrstwx\nadministrators aceilrstwx\nuser=bob lrs\n');
  fs.writeFileSync(path.join(carol, 'courierimapacl'), 'owner aceilrstwx\nadministrators aceilrstwx\nanyone lr\n');
  deliver(alice, simpleMessage('plan'), '.Projects');
  deliver(carol, simpleMessage('hello'));
  deliver(carol, simpleMessage('again'));
}

/** The index files, in a directory of their own beside the Maildirs. */
function indexFiles(root: string): string {
  const dir = path.join(root, 'shared');
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'index'), [
    '# made by hand, as README.sharedfolders describes',
    `carol\t1000\t1000\t${root}/carol`,
    'grp\t*\tindexgrp',
    `bob\t1000\t1000\t${root}/bob\tMaildir`,
    'not an entry',
    '',
  ].join('\n'));
  fs.writeFileSync(path.join(dir, 'indexgrp'), `alice\t1000\t1000\t${root}/alice\t./Maildir\n`);
  return path.join(dir, 'index');
}

test('shared folders from a Courier index file, groups included, answer as in Courier', { skip: courierSkip ?? false }, async () => {
  const dir = tempDir('shared-index-file');
  const base = path.join(dir, 'base');
  maildirs(base);
  const oursRoot = path.join(dir, 'ours');
  const courierRoot = path.join(dir, 'courier');
  copyTree(base, oursRoot);
  copyTree(base, courierRoot);
  const env = (root: string) => ({ AUTHENTICATED: 'bob', IMAP_ACL: '1', IMAP_SHAREDINDEXFILE: indexFiles(root) });
  let ours: SpawnedImapd | null = null;
  let courier: SpawnedImapd | null = null;
  try {
    const o1 = (ours = spawnImapd(path.join(oursRoot, 'bob', 'Maildir'), env(oursRoot)));
    const c1 = (courier = spawnCourier(path.join(courierRoot, 'bob', 'Maildir'), env(courierRoot)));
    await o1.client.greeting;
    await c1.client.greeting;
    for (const [command, keep] of SCRIPT) {
      const o = await o1.client.command(command);
      const c = await c1.client.command(command);
      const status = (tagged: string) => tagged.split(' ')[0];
      assert.equal(status(o.tagged), status(c.tagged), `${command}: ours ${o.tagged} / Courier ${c.tagged}`);
      if (!keep) continue;
      const kept = (lines: string[]) => lines.filter((l) => keep.test(l)).map((l) => l.replace(/\[UIDVALIDITY \d+\]/, '')).sort();
      assert.deepEqual(kept(o.lines), kept(c.lines), command);
    }
    // The line that is no entry is reported as Courier reports it.
    assert.match(o1.stderr(), /ERR: .*shared\/index\(5\): syntax error\./);
  } finally {
    await ours?.close();
    await courier?.close();
    removeTree(dir);
  }
});
