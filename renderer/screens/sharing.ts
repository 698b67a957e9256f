// Shared folders, on the Accounts screen: an owner lets another account into one of its
// folders with an access in plain words (Courier's ACL letters shown second), the list of
// who has which access to what, and Remove. The other account's mail program finds the
// folder under "#shared.OWNER." (the server writes the folder's ACL as SETACL would).

import { ApiError, SHARE_ACCESS, type ShareAccess, type SharesView, type ShareView } from '../../server/appliance/api.js';
import { h, replaceChildren, syncRows, type KeptRow } from '../dom.js';
import type { Context } from './types.js';

/** "INBOX" is the Inbox; "INBOX.Projects.2026" is "Projects / 2026". */
export function folderLabel(folder: string): string {
  return folder === 'INBOX' ? 'Inbox' : folder.replace(/^INBOX\./, '').split('.').join(' / ');
}

function accessLabel(share: ShareView): string {
  return SHARE_ACCESS.find((a) => a.id === share.access)?.label ?? 'Custom';
}

export interface SharingCard {
  element: HTMLElement;
  refresh(): Promise<void>;
  /** Open the form with this account as the owner. */
  shareFrom(owner: string): Promise<void>;
}

export function sharingCard(ctx: Context): SharingCard {
  const owner = h('select', { name: 'owner', id: 'share-owner' });
  const folder = h('select', { name: 'folder', id: 'share-folder' });
  const other = h('select', { name: 'account', id: 'share-account' });
  const access = h('select', { name: 'access', id: 'share-access' },
    SHARE_ACCESS.map((a) => h('option', { value: a.id }, `${a.label} (${a.rights})`)));
  const meaning = h('div', { class: 'hint', id: 'share-access-meaning' });
  const list = h('div', { id: 'share-list' });
  const formError = h('div', { class: 'field-error', 'data-for': 'form', role: 'alert' });
  let view: SharesView = { accounts: [], shares: [] };

  const labelled = (text: string, control: HTMLSelectElement, name: string, extra?: HTMLElement) =>
    h('div', { class: 'field' }, h('label', { for: control.id }, text), control, extra ?? null, h('div', { class: 'field-error', 'data-for': name, role: 'alert' }));
  const form = h('form', { id: 'share-form', novalidate: true },
    h('h4', {}, 'Share a folder'),
    h('div', { class: 'row' },
      labelled('Owner', owner, 'owner'),
      labelled('Folder', folder, 'folder'),
      labelled('Share with', other, 'account'),
      labelled('Access', access, 'access', meaning),
    ),
    formError,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Share')),
  );
  const element = h('section', { class: 'card', id: 'sharing' },
    h('h3', {}, 'Shared folders'),
    h('p', { class: 'hint' }, 'Let another account use one of your folders. Its mail program shows it under "#shared", as Courier does; the letters are the folder\'s ACL (RFC 4314), as IMAP clients see them.'),
    list,
    form,
  );

  const showMeaning = () => {
    const a = SHARE_ACCESS.find((x) => x.id === access.value);
    meaning.textContent = a ? `Can ${a.meaning}.` : '';
  };
  access.addEventListener('change', showMeaning);

  /** The owner's folders and the other accounts, keeping what was chosen where it still exists. */
  const fillChoices = () => {
    const keep = (select: HTMLSelectElement, values: string[], label: (v: string) => string) => {
      const before = select.value;
      replaceChildren(select, values.map((v) => h('option', { value: v }, label(v))));
      if (values.includes(before)) select.value = before;
    };
    keep(owner, view.accounts.map((a) => a.username), (v) => v);
    const mine = view.accounts.find((a) => a.username === owner.value);
    keep(folder, mine?.folders ?? [], folderLabel);
    keep(other, view.accounts.map((a) => a.username).filter((n) => n !== owner.value), (v) => v);
  };
  owner.addEventListener('change', fillChoices);

  const showError = (err: unknown) => {
    for (const el of form.querySelectorAll('.field-error')) el.textContent = '';
    if (err === null) return;
    const field = err instanceof ApiError ? err.field : undefined;
    const slot = (field && form.querySelector(`.field-error[data-for="${field}"]`)) || formError;
    slot.textContent = (err as Error).message;
  };

  const shareBody = h('tbody');
  const shareTable = h('table', { class: 'grid cards', id: 'share-table' },
    h('thead', {}, h('tr', {}, ['Folder', 'Shared with', 'Access', 'ACL letters', 'Seen by them as', ''].map((t) => h('th', {}, t)))),
    shareBody,
  );
  // Kept by key across updates (logins and deliveries redraw the Accounts screen): a press on
  // Remove is not lost, and a row found on the page stays the row.
  const shareRows = new Map<string, KeptRow<ShareView>>();

  const renderList = () => {
    if (view.shares.length === 0) {
      shareRows.clear();
      replaceChildren(list, h('p', { class: 'empty' }, 'No folder is shared.'));
      return;
    }
    if (shareTable.parentNode !== list) replaceChildren(list, shareTable);
    syncRows(shareBody, 'data-share', shareRows, view.shares, (s) => `${s.owner} ${s.folder} ${s.identifier}`, (s) => [
      h('td', { class: 'name' }, `${s.owner}: ${folderLabel(s.folder)}`,
        s.inheritedBy.length ? h('div', { class: 'hint' }, `with ${s.inheritedBy.map(folderLabel).join(', ')}`) : null),
      h('td', { 'data-label': 'Shared with' }, s.account ?? (s.identifier.startsWith('-') ? `not ${s.identifier.slice(1).replace(/^user=/, '')}` : 'everyone')),
      h('td', { 'data-label': 'Access', class: 'access' }, accessLabel(s)),
      h('td', { 'data-label': 'ACL letters' }, h('code', { class: 'rights' }, s.rights)),
      h('td', { 'data-label': 'Seen by them as' }, h('code', {}, s.sharedName)),
    ], (current) => h('td', { class: 'actions' }, h('button', { class: 'danger', 'data-unshare': '', onclick: () => void unshare(current()) }, 'Remove')));
  };

  async function unshare(share: ShareView): Promise<void> {
    try {
      view = await ctx.api.unshareFolder(share.owner, share.folder, share.identifier);
      ctx.toast(`${share.owner}'s ${folderLabel(share.folder)} is no longer shared with ${share.account ?? share.identifier}`);
      fillChoices();
      renderList();
    } catch (err) {
      ctx.toast((err as Error).message, 'error');
    }
  }

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    showError(null);
    if (!owner.value || !folder.value) return showError(new ApiError('invalid-argument', 'Choose an account with a Maildir, and its folder.', 'folder'));
    if (!other.value) return showError(new ApiError('invalid-argument', 'Add another account to share with.', 'account'));
    const input = { owner: owner.value, folder: folder.value, account: other.value, access: access.value as ShareAccess };
    ctx.api.shareFolder(input).then(
      (next) => {
        view = next;
        const a = SHARE_ACCESS.find((x) => x.id === input.access)!;
        ctx.toast(`${folderLabel(input.folder)} of ${input.owner} shared with ${input.account}: ${a.label.toLowerCase()}`);
        fillChoices();
        renderList();
      },
      (err: unknown) => showError(err),
    );
  });

  showMeaning();
  return {
    element,
    async refresh() {
      try {
        view = await ctx.api.listShares();
      } catch (err) {
        ctx.toast(`Cannot list the shared folders: ${(err as Error).message}`, 'error');
        return;
      }
      fillChoices();
      renderList();
    },
    async shareFrom(name: string) {
      // Mail programs may have made folders since the list was read.
      await this.refresh();
      if (!view.accounts.some((a) => a.username === name)) {
        ctx.toast(`${name} has no Maildir yet: it is made at the first login`, 'error');
        return;
      }
      owner.value = name;
      fillChoices();
      element.scrollIntoView({ block: 'start' });
      folder.focus();
    },
  };
}
