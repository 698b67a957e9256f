// LIST's new-mail marks (\Marked, \Unmarked) and IMAP_OBSOLETE_CLIENT's \Noinferiors, on our
// stdio imapd beside Courier's (issue 12): the same Maildir must list the same attributes.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { deliver, emptyMaildir, removeTree, tempDir } from '../helpers/maildir.js';
import { sideBySide, type SideBySide } from '../helpers/side-by-side.js';

const MESSAGE = 'From: a@example.com\nTo: b@example.com\nSubject: hello\n\nbody\n';

/** INBOX with one seen message; .Sent, .Sent.Old and .Trash empty. */
function baseMaildir(dir: string): string {
  const base = emptyMaildir(path.join(dir, 'base'));
  fs.writeFileSync(path.join(base, 'cur', '1000000000.M1P1.test:2,S'), MESSAGE);
  for (const folder of ['.Trash', '.Sent', '.Sent.Old']) {
    emptyMaildir(path.join(base, folder));
    fs.writeFileSync(path.join(base, folder, 'maildirfolder'), '');
  }
  return base;
}

/** Folder name -> its attributes, sorted (the servers order them differently). */
async function listed(peers: SideBySide): Promise<{ ours: Map<string, string[]>; courier: Map<string, string[]> | null }> {
  const { ours, courier } = await peers.both('LIST "" "*"');
  const parse = (lines: string[]) =>
    new Map(
      lines.map((l) => {
        const m = /^\* LIST \(([^)]*)\) "\." "?([^"]*)"?$/.exec(l);
        assert.ok(m, l);
        // Special-use attributes are ours alone (Courier has no SPECIAL-USE).
        const attributes = m[1].split(' ').filter((a) => a !== '' && !['\\Sent', '\\Trash', '\\Drafts', '\\Junk', '\\Archive'].includes(a));
        return [m[2], attributes.sort()];
      }),
    );
  return { ours: parse(ours.lines), courier: courier ? parse(courier.lines) : null };
}

async function withPeers(env: Record<string, string>, body: (peers: SideBySide, dir: string) => Promise<void>): Promise<void> {
  const dir = tempDir('parity-list');
  const peers = await sideBySide(baseMaildir(dir), dir, env);
  try {
    await body(peers, dir);
  } finally {
    await peers.close();
    removeTree(dir);
  }
}

/** A delivery into the same folder of both copies. */
function deliverBoth(peers: SideBySide, dir: string, folder: string): void {
  deliver(path.join(dir, 'ours'), MESSAGE, folder);
  if (peers.courier) deliver(path.join(dir, 'courier'), MESSAGE, folder);
}

describe('LIST \\Marked and \\Unmarked, beside Courier', () => {
  it('marks INBOX only, by default', () =>
    withPeers({}, async (peers, dir) => {
      let { ours, courier } = await listed(peers);
      assert.deepEqual(ours.get('INBOX'), ['\\HasChildren', '\\Unmarked']);
      assert.deepEqual(ours.get('INBOX.Sent'), ['\\HasChildren']);
      if (courier) assert.deepEqual(ours, courier);
      deliverBoth(peers, dir, '');
      deliverBoth(peers, dir, '.Sent');
      ({ ours, courier } = await listed(peers));
      assert.deepEqual(ours.get('INBOX'), ['\\HasChildren', '\\Marked']);
      assert.deepEqual(ours.get('INBOX.Sent'), ['\\HasChildren']);
      if (courier) assert.deepEqual(ours, courier);
    }));

  it('marks every folder with IMAP_CHECK_ALL_FOLDERS=1', () =>
    withPeers({ IMAP_CHECK_ALL_FOLDERS: '1' }, async (peers, dir) => {
      let { ours, courier } = await listed(peers);
      for (const name of ['INBOX', 'INBOX.Sent', 'INBOX.Sent.Old', 'INBOX.Trash']) assert.ok(ours.get(name)!.includes('\\Unmarked'), name);
      if (courier) assert.deepEqual(ours, courier);
      deliverBoth(peers, dir, '.Sent.Old');
      ({ ours, courier } = await listed(peers));
      assert.deepEqual(ours.get('INBOX.Sent.Old'), ['\\HasNoChildren', '\\Marked']);
      assert.ok(ours.get('INBOX')!.includes('\\Unmarked'));
      if (courier) assert.deepEqual(ours, courier);
      // Read, the message no longer marks the folder: Seen in cur/ (once SELECT moved it there).
      await peers.both('SELECT INBOX.Sent.Old');
      await peers.both('STORE 1 +FLAGS (\\Seen)');
      await peers.both('CLOSE');
      ({ ours, courier } = await listed(peers));
      assert.deepEqual(ours.get('INBOX.Sent.Old'), ['\\HasNoChildren', '\\Unmarked']);
      if (courier) assert.deepEqual(ours, courier);
    }));
});

describe('IMAP_OBSOLETE_CLIENT=1, beside Courier', () => {
  it('lists \\Noinferiors for folders without children instead of the CHILDREN attributes', () =>
    withPeers({ IMAP_OBSOLETE_CLIENT: '1', IMAP_CHECK_ALL_FOLDERS: '1' }, async (peers) => {
      const { ours, courier } = await listed(peers);
      assert.deepEqual(ours.get('INBOX.Sent.Old'), ['\\Noinferiors', '\\Unmarked']);
      assert.deepEqual(ours.get('INBOX.Sent'), ['\\Unmarked']);
      assert.deepEqual(ours.get('INBOX'), ['\\Unmarked']);
      if (courier) assert.deepEqual(ours, courier);
    }));
});
