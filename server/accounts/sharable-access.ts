// Courier's sharable Maildirs ("shared.NAME.FOLDER", maildir/sharable.ts) for the accounts of
// imapd-server and the appliance.
//
// Courier shows every account the sharable Maildirs of the system list ($sysconfdir/
// maildirshared) and of its Maildir's own shared-maildirs, and lets Unix permissions decide
// who may read and write them. Here every account is served by one uid, so permissions cannot
// tell accounts apart; instead:
//   - an account sees sharable Maildirs only when its "sharable" option says which list
//     (Account.sharable: null, the default, none; "" the IMAPD_MAILDIRSHARED file; "GROUP"
//     that file's name with GROUP appended, as Courier appends "sharedgroup" to
//     IMAP_SHAREDINDEXFILE). NAMESPACE announces "shared." only then;
//   - the Maildir's own shared-maildirs is not read: whoever can write into an account's
//     Maildir (its owner on a desktop, an import) could name any path in it, another account's
//     Maildir included, and no permission would stop the server reading it;
//   - a list entry that is, lies in or holds an account's Maildir (real paths, symlinks
//     resolved) is left out, so no list can hand one account another's mail;
//   - every sharable folder is read-only for every account: no EXPUNGE, APPEND, COPY or MOVE
//     into or out of it (rights "lrsw"), while each account keeps its own flags in its
//     shared-folders/, as Courier does for a folder its user may read but not write.

import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import type { MailStore } from '../backend/mailstore.js';
import type { MessageLinks } from '../maildir/folder-entry.js';
import { SharableMailStore } from '../maildir/sharable-store.js';
import type { Account, AccountStore } from './store.js';

export interface SharableAccessOptions {
  /** IMAPD_MAILDIRSHARED: the list file, before an account's group is appended. */
  listFile: string;
  accounts: AccountStore;
  /** Where an account's Maildir is. */
  maildirOf(account: Account): string;
  /** Opens a Maildir: a private folder (with its message links) or a sharable Maildir itself. */
  open(root: string, messageLinks?: MessageLinks): Promise<MailStore>;
}

/** The list file an account's option names, or null for none. */
export function sharableListFile(listFile: string, option: string | null): string | null {
  return option === null ? null : listFile + option;
}

/** The account's store with "shared." in front when its option gives it a list; else `own` itself. */
export async function withSharableMaildirs(own: MailStore, account: Account, options: SharableAccessOptions): Promise<MailStore> {
  const systemFile = sharableListFile(options.listFile, account.sharable);
  if (systemFile === null) return own;
  return new SharableMailStore(own, {
    root: options.maildirOf(account),
    systemFile,
    ownList: false,
    readOnly: true,
    fenced: await accountMaildirs(options),
    open: options.open,
  });
}

/** Every account's Maildir as a real path (as resolved when it does not exist yet). */
async function accountMaildirs(options: SharableAccessOptions): Promise<string[]> {
  return (await options.accounts.list()).map((account) => {
    const dir = resolve(options.maildirOf(account));
    try {
      return realpathSync(dir);
    } catch {
      return dir;
    }
  });
}
