// imapflow (the IMAP client library of Nodemailer and WildDuck) against the network server:
// a strict parser of every response we write. Implicit TLS and STARTTLS, LIST with
// special-use, SELECT, FETCH of envelopes, structures and sources, APPEND with UIDPLUS,
// flags, SEARCH, MOVE, STATUS, folder management, and IDLE pushes to a second client.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ImapFlow, type FetchMessageObject, type StatusObject } from 'imapflow';
import { SqliteAccountStore } from '../../server/accounts/index.js';
import type { ImapServer } from '../../server/net/index.js';
import { removeTree, simpleMessage, standardMaildir, tempDir } from '../helpers/maildir.js';
import { startNetworkServer } from '../helpers/network-server.js';

let dir: string;
let maildir: string;
let accounts: SqliteAccountStore;
let server: ImapServer;
let port: number;
let sslPort: number;

before(async () => {
  dir = tempDir('imapflow');
  const data = path.join(dir, 'data');
  fs.mkdirSync(data);
  maildir = standardMaildir(path.join(dir, 'alice'), 6);
  accounts = SqliteAccountStore.open(data);
  await accounts.add({ username: 'alice', password: 'secret', maildir });
  ({ server, port, sslPort } = await startNetworkServer({ dataDir: data, accounts, failureDelayMs: 200 }));
});

after(async () => {
  await server.stop();
  accounts.close();
  removeTree(dir);
});

// IMAPFLOW_DEBUG=1 prints the protocol exchange of every client.
const print = (entry: { cid?: string; msg?: string; src?: string }): void => {
  if (entry.src === 's' || entry.src === 'c') process.stderr.write(`${entry.cid?.slice(0, 4)} ${entry.src === 'c' ? 'C:' : 'S:'} ${entry.msg}\n`);
};
const debugLogger = { trace: print, debug: print, info: print, warn: print, error: print };

function client(secure: boolean): ImapFlow {
  return new ImapFlow({
    host: '127.0.0.1',
    port: secure ? sslPort : port,
    secure,
    doSTARTTLS: secure ? undefined : true,
    auth: { user: 'alice', pass: 'secret' },
    tls: { rejectUnauthorized: false },
    logger: process.env.IMAPFLOW_DEBUG ? debugLogger : false,
    disableAutoIdle: true,
  });
}

/** Every message file of a folder, by its Message-ID header. */
function messageIdsOnDisk(folderDir: string): string[] {
  const ids: string[] = [];
  for (const sub of ['cur', 'new']) {
    for (const name of fs.readdirSync(path.join(folderDir, sub))) {
      const text = fs.readFileSync(path.join(folderDir, sub, name), 'latin1');
      const id = /^Message-ID: (.*)$/im.exec(text)?.[1];
      if (id) ids.push(id.trim());
    }
  }
  return ids.sort();
}

/** STATUS of a folder (imapflow answers false when the command fails). */
async function statusOf(c: ImapFlow, folder: string): Promise<StatusObject> {
  const status = await c.status(folder, { messages: true, uidNext: true, unseen: true });
  assert.ok(status, `STATUS ${folder}`);
  return status;
}

function waitFor<T>(emitter: ImapFlow, event: string, accept: (data: T) => boolean, timeoutMs = 5000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, listener);
      reject(new Error(`no ${event} event within ${timeoutMs} ms`));
    }, timeoutMs);
    const listener = (data: T): void => {
      if (!accept(data)) return;
      clearTimeout(timer);
      emitter.off(event, listener);
      resolve(data);
    };
    emitter.on(event, listener);
  });
}

describe('imapflow', () => {
  it('reads the folder tree and every message over implicit TLS', async () => {
    const c = client(true);
    await c.connect();
    try {
      assert.ok(c.capabilities.has('IMAP4rev1'));
      assert.ok(c.capabilities.has('UIDPLUS') && c.capabilities.has('MOVE') && c.capabilities.has('IDLE'));

      const list = await c.list();
      const paths = list.map((m) => m.path).sort();
      assert.deepEqual(paths, ['INBOX', 'INBOX.Archive', 'INBOX.Archive.2025', 'INBOX.Sent']);
      assert.equal(list.find((m) => m.path === 'INBOX.Sent')!.delimiter, '.');
      assert.ok(list.find((m) => m.path === 'INBOX.Archive')!.flags.has('\\HasChildren'));

      const box = await c.mailboxOpen('INBOX');
      assert.equal(box.exists, 6);
      assert.ok(Number(box.uidValidity) > 0);

      const messages: FetchMessageObject[] = [];
      for await (const m of c.fetch('1:*', { uid: true, flags: true, envelope: true, bodyStructure: true, size: true, internalDate: true })) {
        messages.push(m);
      }
      assert.equal(messages.length, 6);
      assert.deepEqual(messages.map((m) => m.envelope!.messageId).sort(), messageIdsOnDisk(maildir));
      for (const m of messages) {
        assert.ok(m.uid > 0 && m.size! > 0 && m.internalDate instanceof Date, JSON.stringify(m, (_key, value: unknown) => (typeof value === 'bigint' ? String(value) : value)));
        assert.match(m.envelope!.from![0]!.address!, /@example\.org$/);
        assert.ok(m.bodyStructure!.type, 'a body structure');
      }
      // The generator makes message 3 multipart/mixed with a PDF and a message/rfc822.
      const mixed = messages.find((m) => m.bodyStructure!.type === 'multipart/mixed')!;
      assert.deepEqual(mixed.bodyStructure!.childNodes!.map((p) => p.type), ['text/plain', 'application/pdf', 'message/rfc822']);
      assert.equal(mixed.bodyStructure!.childNodes![1]!.dispositionParameters?.filename, `report-3.pdf`);

      // The full source of one message is the file with CRLF line ends, as RFC822.SIZE says.
      const one = await c.fetchOne(String(mixed.seq), { source: true, size: true });
      assert.ok(one);
      assert.equal(one.source!.length, one.size);
      assert.ok(one.source!.includes(Buffer.from('Caf=C3=A9.\r\n')));
      assert.equal(one.source!.indexOf(Buffer.from('\n')) - 1, one.source!.indexOf(Buffer.from('\r\n')));

      // A decoded part through imapflow's download (BODY.PEEK[1] with the part's encoding).
      const part = await c.download(String(mixed.seq), '1');
      const chunks: Buffer[] = [];
      assert.ok(part.content, 'a content stream');
      for await (const chunk of part.content) chunks.push(chunk as Buffer);
      assert.match(Buffer.concat(chunks).toString('utf8'), /Café\./);
    } finally {
      await c.logout();
    }
  });

  it('writes: APPEND with UIDPLUS, flags, SEARCH, MOVE, STATUS and folders, over STARTTLS', async () => {
    const c = client(false);
    await c.connect();
    try {
      assert.ok(c.secureConnection, 'STARTTLS was used');
      await c.mailboxOpen('INBOX');
      const appended = await c.append('INBOX', simpleMessage('From imapflow', 'Written by imapflow.\r\n'), ['\\Seen', 'imapflow-kw'], new Date('2024-05-01T10:00:00Z'));
      assert.ok(appended && appended.uid, 'APPENDUID gives the new UID');
      const uid = String(appended.uid);

      const fetched = await c.fetchOne(uid, { flags: true, envelope: true, internalDate: true }, { uid: true });
      assert.ok(fetched);
      assert.equal(fetched.envelope!.subject, 'From imapflow');
      // imapflow sends ENABLE IMAP4rev2 where it is announced (as by default): no \Recent then
      // (RFC 9051 Appendix E item 12), though the message arrived in the folder this session has selected.
      assert.ok(c.enabled.has('IMAP4REV2'));
      assert.deepEqual([...fetched.flags!].sort(), ['\\Seen', 'imapflow-kw']);
      assert.equal((fetched.internalDate as Date).toISOString(), '2024-05-01T10:00:00.000Z');

      assert.ok(await c.messageFlagsAdd(uid, ['\\Flagged'], { uid: true }));
      assert.deepEqual(await c.search({ flagged: true, subject: 'imapflow' }, { uid: true }), [appended.uid]);
      assert.ok(await c.messageFlagsRemove(uid, ['\\Flagged'], { uid: true }));
      assert.deepEqual(await c.search({ flagged: true, subject: 'imapflow' }, { uid: true }), []);

      const status = await statusOf(c, 'INBOX');
      assert.equal(status.messages, 7);
      assert.equal(status.uidNext, appended.uid + 1);

      const created = await c.mailboxCreate(['Projects', 'Flow']);
      assert.equal(created.path, 'INBOX.Projects.Flow');
      const moved = await c.messageMove(uid, 'INBOX.Projects.Flow', { uid: true });
      assert.ok(moved && moved.uidMap && moved.uidMap.get(appended.uid), 'COPYUID maps the moved message');
      const target = await statusOf(c, 'INBOX.Projects.Flow');
      assert.equal(target.messages, 1);
      assert.equal((await statusOf(c, 'INBOX')).messages, 6);

      await c.mailboxRename('INBOX.Projects.Flow', 'INBOX.Projects.Done');
      const names = (await c.list()).map((m) => m.path);
      assert.ok(names.includes('INBOX.Projects.Done') && !names.includes('INBOX.Projects.Flow'), names.join(' '));
      await c.mailboxDelete('INBOX.Projects.Done');
      assert.ok(!fs.existsSync(path.join(maildir, '.Projects.Done')));
    } finally {
      await c.logout();
    }
  });

  it('hears in IDLE what another client changes', async () => {
    const watcher = client(true);
    const actor = client(true);
    await watcher.connect();
    await actor.connect();
    try {
      // imapflow keeps updating the object it returns: keep the number.
      const exists = (await watcher.mailboxOpen('INBOX')).exists;
      await actor.mailboxOpen('INBOX');
      const idling = watcher.idle();

      const flagged = waitFor<{ uid?: number; flags: Set<string> }>(watcher, 'flags', (d) => d.flags.has('\\Flagged'));
      await actor.messageFlagsAdd('1', ['\\Flagged']);
      assert.ok((await flagged).flags.has('\\Flagged'));

      const grown = waitFor<{ count: number }>(watcher, 'exists', (d) => d.count === exists + 1);
      await actor.append('INBOX', simpleMessage('Pushed to IDLE'));
      assert.equal((await grown).count, exists + 1);

      const shrunk = waitFor<{ seq: number }>(watcher, 'expunge', () => true);
      await actor.messageDelete('1');
      assert.equal((await shrunk).seq, 1);

      await watcher.noop();
      await idling;
    } finally {
      await actor.logout();
      await watcher.logout();
    }
  });
});
