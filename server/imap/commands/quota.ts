// GETQUOTA, GETQUOTAROOT (RFC 2087, as Courier advertises QUOTA). One quota root,
// "ROOT", for the whole account from Maildir++ maildirsize; SETQUOTA is refused (the
// administrator sets quotas in the account store).
import { AUTHENTICATED, no, ok, type CommandSpec } from './types.js';
import type { Quota } from '../../backend/mailstore.js';
import type { ImapValue } from '../protocol/types.js';

function quotaResources(q: Quota): ImapValue[] {
  const out: ImapValue[] = [];
  if (q.storageLimit !== undefined) out.push({ atom: 'STORAGE' }, Math.ceil(q.storageUsed / 1024), Math.floor(q.storageLimit / 1024));
  if (q.messageLimit !== undefined) out.push({ atom: 'MESSAGE' }, q.messagesUsed, q.messageLimit);
  return out;
}

export const getquotaroot: CommandSpec = {
  names: ['GETQUOTAROOT'],
  states: AUTHENTICATED,
  capabilities: [{ word: 'QUOTA' }],
  async handler({ session, args }) {
    const wire = args.astring('mailbox name');
    args.end();
    session.storeName(wire);
    const q = await session.store.quota();
    if (!q) {
      session.untagged([{ atom: 'QUOTAROOT' }, wire]);
      return ok('GETQUOTAROOT completed');
    }
    session.untagged([{ atom: 'QUOTAROOT' }, wire, 'ROOT']);
    session.untagged([{ atom: 'QUOTA' }, 'ROOT', quotaResources(q)]);
    return ok('GETQUOTAROOT completed');
  },
};

export const getquota: CommandSpec = {
  names: ['GETQUOTA'],
  states: AUTHENTICATED,
  async handler({ session, args }) {
    const root = args.astring('quota root');
    args.end();
    // "" is the root of a folder without quota, as Courier answers it: no resources, no limits.
    if (root === '') {
      session.untagged([{ atom: 'QUOTA' }, '', []]);
      return ok('GETQUOTA completed');
    }
    const q = await session.store.quota();
    if (!q || root.toUpperCase() !== 'ROOT') return no('No such quota root', 'NONEXISTENT');
    session.untagged([{ atom: 'QUOTA' }, 'ROOT', quotaResources(q)]);
    return ok('GETQUOTA completed');
  },
};

export const setquota: CommandSpec = {
  names: ['SETQUOTA'],
  states: AUTHENTICATED,
  async handler({ args }) {
    args.rest();
    return no('Quotas are set by the administrator', 'NOPERM');
  },
};
