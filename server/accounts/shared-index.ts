// The shared index (Courier's IMAP_SHAREDINDEXFILE, README.sharedfolders) made from the
// account store: every other enabled account, so that a folder its owner shares through its
// ACL can be opened as "#shared.OWNER.FOLDER" (server/backend/shared.ts). Courier has an
// administrator rebuild a text file from the authentication database (authenumerate -s);
// our accounts live in the account store, so the list is read from it at each look, and written in
// Courier's format on request, for a Courier server that takes the Maildirs over.

import type { MailStore } from '../backend/mailstore.js';
import type { SharedAccount, SharedIndex } from '../backend/shared.js';
import { usernameKey, type Account, type AccountStore } from './account-store.js';

/** The other enabled accounts of the store, each opened (without creating anything) when first looked at. */
export function accountSharedIndex(
  accounts: AccountStore,
  self: string,
  open: (account: Account) => Promise<MailStore | null>,
): SharedIndex {
  const me = usernameKey(self);
  return {
    async accounts(): Promise<SharedAccount[]> {
      return (await accounts.list())
        .filter((a) => a.enabled && usernameKey(a.username) !== me)
        .map((a) => ({ name: a.username, open: () => open(a) }));
    },
  };
}

/**
 * Courier's shared index file (maildirnewshared.C): one line per account, "name", system uid,
 * system gid, home directory and Maildir, separated by tabs. Courier does nothing with the
 * uid and gid, but skips a line where either is 0, so root's are written as 1. Names with a
 * tab, a newline or "#" (a comment in that file) cannot be written and are left out.
 */
export function courierSharedIndexText(accounts: readonly Account[], maildirOf: (account: Account) => string): string {
  const uid = process.getuid?.() || 1;
  const gid = process.getgid?.() || 1;
  return accounts
    .filter((a) => a.enabled && ![a.username, a.home, maildirOf(a)].some((v) => /[\t\n\r#]/.test(v)))
    .map((a) => `${a.username}\t${uid}\t${gid}\t${a.home}\t${maildirOf(a)}\n`)
    .join('');
}
