// Shared folders as the GUI sees them: an owner lets another account into one of its folders
// with an access said in plain words (api.ts SHARE_ACCESS), which becomes an entry of the
// folder's ACL. The list is changed as SETACL and DELETEACL change it (server/imap/commands/acl.ts):
// the folder's list as it applies now (its own or its parent's), one entry set or removed,
// checked by unsafeAcl, written by the Maildir store where Courier keeps it. The other account
// then finds the folder as "#shared.OWNER.FOLDER" (server/backend/shared.ts).

import { normalizeRights, unsafeAcl, withEntry, type AclEntry } from '../backend/acl.js';
import { sharedLevel, SHARED_ROOT } from '../backend/shared.js';
import { usernameKey, type Account } from '../accounts/index.js';
import { aclOrigin, openMaildirStore, type MaildirStore } from '../maildir/index.js';
import { ApiError, SHARE_ACCESS, type ShareInput, type SharesView, type ShareView } from './api.js';
import { isDirectory, type HostContext } from './host-context.js';
import type { ImapRunner } from './imap-runner.js';
import { join } from 'node:path';

/** Entries that are the owner's or the administrators', never a share. */
const NOT_SHARES = new Set(['owner', 'administrators', 'group=administrators', '-owner', '-administrators', '-group=administrators']);

export class SharingService {
  constructor(
    private readonly ctx: HostContext,
    private readonly runner: ImapRunner,
  ) {}

  async listShares(): Promise<SharesView> {
    const view: SharesView = { accounts: [], shares: [] };
    for (const account of await this.ctx.accounts.list()) {
      const store = await this.open(account);
      if (!store) continue;
      try {
        const folders = (await store.listFolders()).filter((f) => f.selectable).map((f) => f.name);
        view.accounts.push({ username: account.username, folders });
        view.shares.push(...(await this.sharesOf(account, store, folders)));
      } finally {
        await store.close();
      }
    }
    return view;
  }

  async shareFolder(input: ShareInput): Promise<SharesView> {
    const owner = await this.account(input.owner, 'owner');
    const other = await this.account(input.account, 'account');
    if (usernameKey(owner.username) === usernameKey(other.username)) {
      throw new ApiError('invalid-argument', `${owner.username} owns the folder already; choose another account`, 'account');
    }
    if (/[\s=]/.test(other.username)) throw new ApiError('invalid-argument', `${other.username} cannot be named in an ACL`, 'account');
    const access = SHARE_ACCESS.find((a) => a.id === input.access)!;
    const said = await this.change(owner, input.folder, (entries) => withEntry(entries, `user=${other.username}`, access.rights));
    this.ctx.record('info', owner.username, `${said} shared with ${other.username}: ${access.label.toLowerCase()} (${access.rights})`);
    return this.listShares();
  }

  async unshareFolder(ownerName: string, folder: string, identifier: string): Promise<SharesView> {
    const owner = await this.account(ownerName, 'owner');
    if (NOT_SHARES.has(identifier)) throw new ApiError('invalid-argument', `${identifier} is the owner's own entry, not a share`, 'identifier');
    const said = await this.change(owner, folder, (entries) => {
      if (!entries.some((e) => e.identifier === identifier)) {
        throw new ApiError('not-found', `${folder} has no entry for ${identifier}`, 'identifier');
      }
      return withEntry(entries, identifier, '');
    });
    this.ctx.record('info', owner.username, `${said}: share with ${identifier.replace(/^user=/, '')} removed`);
    return this.listShares();
  }

  private async account(name: string, field: string): Promise<Account> {
    const account = await this.ctx.accounts.get(name);
    if (!account) throw new ApiError('not-found', `no account ${JSON.stringify(name)}`, field);
    return account;
  }

  /** Reads the folder's list as it applies, changes it, and writes it as the folder's own. */
  private async change(owner: Account, folder: string, edit: (entries: AclEntry[]) => AclEntry[]): Promise<string> {
    const store = await this.open(owner);
    if (!store) throw new ApiError('not-found', `${owner.username} has no Maildir yet (it is made at the first login)`, 'owner');
    try {
      // INBOX in any case, as in IMAP; the levels below it as spelt.
      const wanted = /^inbox(\.|$)/i.test(folder) ? `INBOX${folder.slice(5)}` : folder;
      const entry = (await store.listFolders()).find((f) => f.selectable && f.name === wanted);
      if (!entry) throw new ApiError('not-found', `${owner.username} has no folder ${JSON.stringify(folder)}`, 'folder');
      const updated = edit(await store.readAcl(entry.name));
      // As SETACL: never a list that locks the owner or the administrators out.
      if (unsafeAcl(updated) !== null) throw new ApiError('conflict', `this change would lock ${unsafeAcl(updated)} out of ${entry.name}`, 'identifier');
      await store.writeAcl(entry.name, updated);
      return entry.name;
    } finally {
      await store.close();
    }
  }

  private async sharesOf(account: Account, store: MaildirStore, folders: readonly string[]): Promise<ShareView[]> {
    const root = this.runner.maildirOf(account);
    const origins = new Map(folders.map((f) => [f, aclOrigin(root, f)]));
    const out: ShareView[] = [];
    for (const folder of folders) {
      if (origins.get(folder) !== folder) continue;
      const inheritedBy = folders.filter((f) => f !== folder && origins.get(f) === folder);
      for (const e of await store.readAcl(folder)) {
        if (NOT_SHARES.has(e.identifier)) continue;
        const rights = normalizeRights(e.rights);
        const named = /^user=/.test(e.identifier) ? e.identifier.slice(5) : null;
        out.push({
          owner: account.username,
          folder,
          identifier: e.identifier,
          account: named,
          access: (!e.identifier.startsWith('-') && SHARE_ACCESS.find((a) => a.rights === rights)?.id) || 'custom',
          rights,
          sharedName: `${SHARED_ROOT}.${sharedLevel(account.username)}${folder.slice('INBOX'.length)}`,
          inheritedBy,
        });
      }
    }
    return out;
  }

  /** The account's Maildir, or null when it does not exist yet. */
  private async open(account: Account): Promise<MaildirStore | null> {
    const root = this.runner.maildirOf(account);
    if (!(await isDirectory(join(root, 'cur')))) return null;
    return openMaildirStore({ root, create: false, watch: false, logger: this.ctx.serverLogger() }).catch(() => null);
  }
}
