// LIST and LSUB (RFC 3501 6.3.8, 6.3.9) with CHILDREN (RFC 3348) and SPECIAL-USE
// (RFC 6154) attributes, LIST-EXTENDED (RFC 5258: selection and return options, several
// patterns) and LIST-STATUS (RFC 5819). Matching is done on the names as the client sees them.
import { lookupAllowed, myRights } from '../rights.js';
import { AUTHENTICATED, ok, type CommandContext, type CommandSpec, type SessionContext } from './types.js';
import { SEPARATOR } from '../names.js';
import { mailboxPatternMatcher } from '../pattern.js';
import { MailStoreError } from '../../backend/mailstore.js';
import { listOptions } from './list-options.js';
import { statusResponse } from './status-items.js';
import type { ImapValue } from '../protocol/types.js';

interface Listed {
  wire: string;
  selectable: boolean;
  specialUse?: string;
  /** Another account's folder, or a level above one: the store listed only what this user may look up. */
  shared?: boolean;
}

/** The folders, and with `shared` (a pattern in "#shared.", as Courier's mailbox_scan) other accounts' folders too. */
async function listed(session: SessionContext, shared: boolean): Promise<Map<string, Listed>> {
  const all = new Map<string, Listed>();
  for (const entry of await session.store.listFolders()) {
    const wire = session.wireName(entry.name);
    all.set(wire, { wire, selectable: entry.selectable, specialUse: entry.specialUse });
  }
  if (!all.has('INBOX')) all.set('INBOX', { wire: 'INBOX', selectable: true });
  if (shared && session.store.sharedFolders) {
    for (const entry of await session.store.listFolders({ shared: true })) {
      const wire = session.wireName(entry.name);
      all.set(wire, { wire, selectable: entry.selectable, shared: true });
    }
  }
  // Parents that exist only through their children are listed as \Noselect.
  for (const wire of [...all.keys()]) {
    const levels = wire.split(SEPARATOR);
    for (let i = 1; i < levels.length; i++) {
      const parent = levels.slice(0, i).join(SEPARATOR);
      if (parent && !all.has(parent)) all.set(parent, { wire: parent, selectable: false, shared: all.get(wire)!.shared });
    }
  }
  return all;
}

/** Names with at least one child, in one pass (a scan per listed name was quadratic). */
function withChildren(all: Map<string, Listed>): Set<string> {
  const parents = new Set<string>();
  // Every ancestor is in the map (listed() adds them), so the direct parents suffice.
  for (const wire of all.keys()) {
    const cut = wire.lastIndexOf(SEPARATOR);
    if (cut >= 0) parents.add(wire.slice(0, cut));
  }
  return parents;
}

function referenceAndPattern(ctx: CommandContext): { reference: string; pattern: string } {
  const reference = ctx.args.astring('reference name');
  const pattern = ctx.args.astring('mailbox pattern');
  ctx.args.end();
  return { reference, pattern };
}

export const list: CommandSpec = {
  names: ['LIST'],
  states: AUTHENTICATED,
  capabilities: [{ word: 'CHILDREN' }, { word: 'SPECIAL-USE' }, { word: 'LIST-EXTENDED' }, { word: 'LIST-STATUS' }],
  async handler(ctx) {
    const { session } = ctx;
    const options = listOptions(ctx.args, session);
    const { reference, patterns, select, ret } = options;
    // RFC 3501: the hierarchy delimiter and root of the reference (in RFC 3501's form only, as Dovecot).
    if (!options.extended && patterns[0] === '') {
      const root = reference.includes(SEPARATOR) ? reference.slice(0, reference.indexOf(SEPARATOR) + 1) : '';
      session.untagged([{ atom: 'LIST' }, [{ atom: '\\Noselect' }], SEPARATOR, root]);
      return ok('LIST completed');
    }
    const matchers = patterns.filter((p) => p !== '').map((p) => mailboxPatternMatcher(reference + p));
    const matches = (wire: string) => matchers.some((m) => m(wire));
    const all = await listed(session, patterns.some((p) => (reference + p).startsWith('#shared.')));
    const parents = withChildren(all);
    const subscribed = ret.subscribed ? new Set((await session.store.listSubscriptions()).map((n) => session.wireName(n))) : null;
    const meets = (wire: string) => (!select.subscribed || subscribed!.has(wire)) && (!select.specialUse || !!all.get(wire)?.specialUse);
    const candidates = [...(select.subscribed ? subscribed! : all.keys())].filter(meets);
    const out = new Map<string, boolean>(); // wire -> CHILDINFO ("SUBSCRIBED")
    for (const wire of candidates) if (matches(wire)) out.set(wire, false);
    if (select.recursiveMatch && select.subscribed) {
      // RFC 5258 section 3.5: a matching mailbox with a subscribed descendant that the
      // patterns do not reach is listed (whether subscribed or not) with CHILDINFO.
      for (const wire of candidates) {
        if (matches(wire)) continue;
        for (let cut = wire.indexOf(SEPARATOR); cut > 0; cut = wire.indexOf(SEPARATOR, cut + 1)) {
          const ancestor = wire.slice(0, cut);
          if (matches(ancestor)) out.set(ancestor, true);
        }
      }
    }
    const { checkAllFolders } = session.settings;
    // A folder without the "l" right is not listed (ACL, RFC 4314 section 4); shared ones were
    // checked by the store, and their levels are shown as Courier shows them, without a check.
    const allowed = new Set(await lookupAllowed(session, [...out.keys()].filter((w) => !all.get(w)?.shared)));
    for (const wire of [...out.keys()].filter((w) => all.get(w)?.shared || allowed.has(w)).sort(compareNames)) {
      const entry = all.get(wire);
      const attributes: { atom: string }[] = [];
      // RFC 5258 section 3.4: in the extended form a name that is only a parent does not exist.
      if (!entry || (!entry.selectable && options.extended)) attributes.push({ atom: '\\NonExistent' });
      else if (!entry.selectable) attributes.push({ atom: '\\Noselect' });
      // New mail as Courier marks it: INBOX always, the others with IMAP_CHECK_ALL_FOLDERS.
      else if ((wire === 'INBOX' || checkAllFolders) && session.store.hasNewMail) {
        const marked = await session.store.hasNewMail(session.storeName(wire));
        attributes.push({ atom: marked ? '\\Marked' : '\\Unmarked' });
      }
      // IMAP_OBSOLETE_CLIENT: RFC 3501's \Noinferiors for a folder without children, as Courier.
      attributes.push(...kinship(session, wire, parents, entry));
      if (subscribed?.has(wire)) attributes.push({ atom: '\\Subscribed' });
      const extra = out.get(wire) ? [['CHILDINFO', ['SUBSCRIBED']]] : [];
      session.untagged([{ atom: 'LIST' }, attributes, SEPARATOR, wire, ...extra]);
      // LIST-STATUS (RFC 5819): a STATUS after each selectable mailbox; one that cannot be
      // read (deleted meanwhile) is left out, as the RFC allows.
      if (ret.status && entry?.selectable && (await myRights(session, session.storeName(wire))).includes('r')) {
        try {
          session.untagged(await statusResponse(session, session.storeName(wire), ret.status));
        } catch (error) {
          if (!(error instanceof MailStoreError)) throw error;
        }
      }
    }
    return ok('LIST completed');
  },
};

export const lsub: CommandSpec = {
  names: ['LSUB'],
  states: AUTHENTICATED,
  async handler(ctx) {
    const { session } = ctx;
    const { reference, pattern } = referenceAndPattern(ctx);
    if (pattern === '') {
      session.untagged([{ atom: 'LSUB' }, [{ atom: '\\Noselect' }], SEPARATOR, '']);
      return ok('LSUB completed');
    }
    const matches = mailboxPatternMatcher(reference + pattern);
    const subscribed = new Set((await session.store.listSubscriptions()).map((n) => session.wireName(n)));
    const out = new Map<string, boolean>(); // wire -> \Noselect
    for (const wire of subscribed) {
      if (matches(wire)) out.set(wire, false);
      else {
        // RFC 3501 6.3.9: with %, a subscribed child makes its unsubscribed parent appear as \Noselect.
        const levels = wire.split(SEPARATOR);
        for (let i = levels.length - 1; i > 0; i--) {
          const parent = levels.slice(0, i).join(SEPARATOR);
          if (matches(parent)) {
            if (!out.has(parent)) out.set(parent, !subscribed.has(parent));
            break;
          }
        }
      }
    }
    for (const wire of [...out.keys()].sort(compareNames)) {
      session.untagged([{ atom: 'LSUB' }, out.get(wire) ? [{ atom: '\\Noselect' }] : [], SEPARATOR, wire]);
    }
    return ok('LSUB completed');
  },
};

/** The children (CHILDREN, or with IMAP_OBSOLETE_CLIENT RFC 3501's \Noinferiors for a folder
 * without children, as Courier) and special-use attributes of a listed name. */
function kinship(session: SessionContext, wire: string, parents: Set<string>, entry: Listed | undefined): { atom: string }[] {
  const attributes: { atom: string }[] = [];
  if (session.settings.obsoleteClient) {
    if (!parents.has(wire) && wire !== 'INBOX') attributes.push({ atom: '\\Noinferiors' });
  } else attributes.push({ atom: parents.has(wire) ? '\\HasChildren' : '\\HasNoChildren' });
  if (entry?.specialUse) attributes.push({ atom: entry.specialUse });
  return attributes;
}

/**
 * The LIST response IMAP4rev2's SELECT and EXAMINE answer for the mailbox they opened (RFC 9051
 * 6.3.2: its attributes accurate), as Cyrus: children and special use, no new-mail mark.
 */
export async function selectedListLine(session: SessionContext, name: string): Promise<ImapValue[]> {
  const wire = session.wireName(name);
  const all = await listed(session, wire.startsWith('#shared.'));
  return [{ atom: 'LIST' }, kinship(session, wire, withChildren(all), all.get(wire)), SEPARATOR, wire];
}

function compareNames(a: string, b: string): number {
  if (a === 'INBOX') return -1;
  if (b === 'INBOX') return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}
