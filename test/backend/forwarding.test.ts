// The store wrappers (SharedMailStore for "#shared.", SharableMailStore for "shared.") pass
// every MailStore and Folder member they do not change through to the store below: each was
// once missing one (mailboxId, watchMailboxes, adoptUidValidity, Folder.textCandidates).
// The member lists below are typed against the interfaces, so tsc refuses this file when a
// member is added to MailStore or Folder and not listed here; the test then checks that every
// wrapper reaches the real Maildir store below for it.

import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { Folder, MailStore } from '../../server/backend/mailstore.js';
import { ForwardingMailStore } from '../../server/backend/forwarding.js';
import { SharedMailStore } from '../../server/backend/shared.js';
import { openMaildirStore } from '../../server/maildir/index.js';
import { SharableMailStore } from '../../server/maildir/sharable-store.js';
import { message, tempMaildir } from '../maildir/helpers.js';

type Use<T> = (target: T) => unknown;

/** One use of each MailStore member, on the account's own folders; in an order that works on one store. */
const STORE_MEMBERS = {
  hierarchySeparator: (s) => s.hierarchySeparator,
  sharedFolders: (s) => s.sharedFolders,
  sharableMaildirs: (s) => s.sharableMaildirs,
  folderOwner: (s) => s.folderOwner?.('INBOX'),
  readOnlyFolder: (s) => s.readOnlyFolder?.('INBOX'),
  hasNewMail: (s) => s.hasNewMail?.('INBOX'),
  listFolders: (s) => s.listFolders(),
  createFolder: (s) => s.createFolder('INBOX.a'),
  renameFolder: (s) => s.renameFolder('INBOX.a', 'INBOX.b'),
  deleteFolder: (s) => s.deleteFolder('INBOX.b'),
  listSubscriptions: (s) => s.listSubscriptions(),
  subscribe: (s) => s.subscribe('INBOX'),
  unsubscribe: (s) => s.unsubscribe('INBOX'),
  mailboxId: (s) => s.mailboxId?.('INBOX'),
  folderStatus: (s) => s.folderStatus('INBOX'),
  openFolder: async (s) => (await s.openFolder('INBOX')).release(),
  append: (s) => s.append('INBOX', message('appended')),
  beginAppend: async (s) => (await s.beginAppend('INBOX', 10)).abort(),
  stageMessage: async (s) => (await s.stageMessage(10)).abort(),
  checkAppend: (s) => s.checkAppend('INBOX', 10),
  appendMany: (s) => s.appendMany('INBOX', [{ message: message('many') }]),
  adoptUidValidity: async (s) => {
    await s.createFolder('INBOX.empty');
    return s.adoptUidValidity?.('INBOX.empty', 7, 1);
  },
  quota: (s) => s.quota(),
  readAcl: (s) => s.readAcl?.('INBOX'),
  writeAcl: (s) => s.writeAcl?.('INBOX.empty', [{ identifier: 'owner', rights: 'aceilrstwx' }]),
  watchMailboxes: (s) => s.watchMailboxes?.(() => undefined, { messages: false })?.(),
  close: (s) => s.close(),
} satisfies Record<keyof MailStore, Use<MailStore>>;

/** One use of each Folder member, on a folder holding one message (uid 1) and beside INBOX.b. */
const FOLDER_MEMBERS = {
  name: (f) => f.name,
  snapshot: (f) => f.snapshot(),
  refresh: (f) => f.refresh(),
  subscribe: (f) => f.subscribe(() => undefined)(),
  storeFlags: (f) => f.storeFlags([1], 'add', ['\\Flagged']),
  expungedSince: (f) => f.expungedSince(0, () => true),
  readMessage: (f) => f.readMessage(1),
  messageData: (f) => f.messageData([1], { info: true }),
  messageMeta: (f) => f.messageMeta(1),
  textCandidates: (f) => f.textCandidates?.('hello'),
  copyTo: (f) => f.copyTo([1], 'INBOX.b'),
  moveTo: (f) => f.moveTo([1], 'INBOX.b'),
  expunge: (f) => f.expunge([1]),
  release: (f) => f.release(),
} satisfies Record<keyof Folder, Use<Folder>>;

/** What the real Maildir store does not have of the optional members: answers as a store without them would mean. */
const STAND_INS: Partial<Record<keyof MailStore, unknown>> = {
  sharedFolders: false,
  sharableMaildirs: false,
  folderOwner: () => null,
  readOnlyFolder: async () => false,
};

/** `target` with every member it is asked for (a method when called) written into `used`. */
function recording<T extends object>(target: T, used: Set<string>, standIns: Partial<Record<string, unknown>>, wrapResult?: (key: string, result: unknown) => unknown): T {
  return new Proxy(target, {
    get(t, key, receiver) {
      if (typeof key !== 'string') return Reflect.get(t, key, receiver);
      const value = key in t ? Reflect.get(t, key, t) : standIns[key];
      if (typeof value !== 'function') {
        if (key in t || key in standIns) used.add(key);
        return value;
      }
      return (...args: unknown[]) => {
        used.add(key);
        const result: unknown = Reflect.apply(value as (...a: unknown[]) => unknown, t, args);
        return wrapResult ? wrapResult(key, result) : result;
      };
    },
  });
}

interface Wrapped {
  store: MailStore;
  /** Members of the store the wrapper was called with. */
  storeUsed: Set<string>;
  /** Members of the folders the store below opened. */
  folderUsed: Set<string>;
}

const cleanups: (() => void)[] = [];
after(() => {
  for (const cleanup of cleanups) cleanup();
});

async function wrapped(wrap: (own: MailStore, root: string) => MailStore): Promise<Wrapped> {
  const maildir = tempMaildir(['b']);
  cleanups.push(maildir.cleanup);
  const real = await openMaildirStore({ root: maildir.root, idleRetentionMs: 10 });
  await real.append('INBOX', message('first', 'hello there\n'));
  const storeUsed = new Set<string>();
  const folderUsed = new Set<string>();
  const own = recording<MailStore>(real, storeUsed, STAND_INS, (key, result) =>
    key === 'openFolder' ? (result as Promise<Folder>).then((folder) => recording(folder, folderUsed, {})) : result,
  );
  return { store: wrap(own, maildir.root), storeUsed, folderUsed };
}

const WRAPPERS: { name: string; wrap: (own: MailStore, root: string) => MailStore; answers: { store: string[]; folder: string[] } }[] = [
  { name: 'ForwardingMailStore', wrap: (own) => new ForwardingMailStore(own), answers: { store: [], folder: [] } },
  {
    name: 'SharedMailStore',
    wrap: (own) => new SharedMailStore(own, 'me', { accounts: async () => [] }),
    // Announces "#shared." itself; a folder carries the name the client used.
    answers: { store: ['sharedFolders'], folder: ['name'] },
  },
  {
    name: 'SharableMailStore',
    wrap: (own, root) => new SharableMailStore(own, { root, systemFile: null, open: (dir) => openMaildirStore({ root: dir, idleRetentionMs: 10 }) }),
    // Announces "shared." itself.
    answers: { store: ['sharableMaildirs'], folder: [] },
  },
];

/** Every use of the list on `target`; refusals count as uses (the store below was asked). */
async function useAll<T>(target: T, members: Record<string, Use<T>>): Promise<void> {
  for (const use of Object.values(members)) {
    try {
      await use(target);
    } catch {
      /* refused below: still forwarded */
    }
  }
}

for (const wrapper of WRAPPERS) {
  describe(wrapper.name, () => {
    test('every MailStore member reaches the store below', async () => {
      const w = await wrapped(wrapper.wrap);
      await useAll(w.store, STORE_MEMBERS);
      const missing = Object.keys(STORE_MEMBERS).filter((key) => !w.storeUsed.has(key) && !wrapper.answers.store.includes(key));
      assert.deepEqual(missing, []);
    });

    test('every Folder member reaches the folder below', async () => {
      const w = await wrapped(wrapper.wrap);
      const folder = await w.store.openFolder('INBOX');
      await useAll(folder, FOLDER_MEMBERS);
      const missing = Object.keys(FOLDER_MEMBERS).filter((key) => !w.folderUsed.has(key) && !wrapper.answers.folder.includes(key));
      assert.deepEqual(missing, []);
      await w.store.close();
    });
  });
}

test('an optional member the store below lacks is absent, not a stub', async () => {
  const maildir = tempMaildir();
  cleanups.push(maildir.cleanup);
  const real = await openMaildirStore({ root: maildir.root, idleRetentionMs: 10 });
  const store = new ForwardingMailStore(real);
  // The Maildir store has no readOnlyFolder or folderOwner: callers then take their defaults.
  assert.equal(store.readOnlyFolder, undefined);
  assert.equal(store.folderOwner, undefined);
  assert.equal(store.sharedFolders, undefined);
  // It has these: they are passed through.
  assert.equal(typeof store.adoptUidValidity, 'function');
  assert.equal(typeof store.watchMailboxes, 'function');
  const folder = await store.openFolder('INBOX');
  assert.equal(typeof folder.textCandidates, 'function');
  folder.release();
  await store.close();
});
