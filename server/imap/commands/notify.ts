// NOTIFY (RFC 5465): NOTIFY NONE, and NOTIFY SET [STATUS] with event groups, parsed here into
// a NotifyPlan that the session's notifier (../notifier.ts) carries out.
//
// Refused as the RFC allows, with NO [BADEVENT (the events supported)]: AnnotationChange (no
// ANNOTATE), MailboxMetadataChange and ServerMetadataChange (no METADATA), and any other event
// name. Syntax errors, a MessageNew without MessageExpunge (or the reverse), FlagChange
// without both, fetch attributes outside SELECTED and two SELECTED groups are BAD.
import { parseFetchItems } from '../protocol/parser.js';
import type { Token } from '../protocol/types.js';
import { Notifier, type NotifyEvent, type NotifyGroup, type NotifyPlan } from '../notifier.js';
import { SyntaxError } from './args.js';
import { AUTHENTICATED, bad, no, ok, type CommandSpec, type SessionContext } from './types.js';

export const SUPPORTED_EVENTS: readonly NotifyEvent[] = ['MessageNew', 'MessageExpunge', 'FlagChange', 'MailboxName', 'SubscriptionChange'];
/** Known to RFC 5465 but not offered here (no ANNOTATE, no METADATA). */
const REFUSED_EVENTS = ['AnnotationChange', 'MailboxMetadataChange', 'ServerMetadataChange'];
/** Bounds what one NOTIFY may ask to watch (as Dovecot's 100 names per namespace). */
const MAX_GROUPS = 64;
const MAX_NAMES = 1000;

class BadEvent extends Error {}

export const notify: CommandSpec = {
  names: ['NOTIFY'],
  states: AUTHENTICATED,
  capabilities: [{ word: 'NOTIFY' }],
  async handler({ session, args }) {
    if (!session.offers('NOTIFY')) return bad('NOTIFY is not offered');
    const verb = args.atom('NONE or SET').toUpperCase();
    if (verb === 'NONE') {
      args.end();
      session.setNotifier(null);
      return ok('NOTIFY completed');
    }
    if (verb !== 'SET') return bad('Expected NOTIFY NONE or NOTIFY SET');
    let plan: NotifyPlan;
    try {
      plan = parsePlan(args.rest(), session);
    } catch (err) {
      if (err instanceof BadEvent) return no('Unsupported NOTIFY events', `BADEVENT (${SUPPORTED_EVENTS.join(' ')})`);
      throw err;
    }
    if (plan.groups.reduce((n, g) => n + g.names.length, 0) > MAX_NAMES) return no('Too many mailbox names', 'NOTIFICATIONOVERFLOW');
    const notifier = new Notifier(session, plan);
    // The new plan replaces the old one before its STATUS responses are sent.
    session.setNotifier(notifier);
    try {
      await notifier.start();
    } catch (err) {
      session.setNotifier(null);
      throw err;
    }
    return ok('NOTIFY completed');
  },
};

function parsePlan(tokens: Token[], session: SessionContext): NotifyPlan {
  const plan: NotifyPlan = { status: false, selected: null, groups: [] };
  let i = 0;
  if (tokens[0]?.type === 'atom' && tokens[0].value.toUpperCase() === 'STATUS') {
    plan.status = true;
    i++;
  }
  if (i >= tokens.length) throw new SyntaxError('NOTIFY SET needs at least one event group');
  if (tokens.length - i > MAX_GROUPS) throw new SyntaxError('Too many event groups');
  let badEvent = false;
  for (; i < tokens.length; i++) {
    const group = tokens[i];
    if (group.type !== 'list' || group.items[0]?.type !== 'atom') throw new SyntaxError('Expected an event group: (filter events)');
    const items = group.items;
    const filter = (items[0] as { value: string }).value.toUpperCase();
    let next = 1;
    let names: string[] = [];
    if (filter === 'SUBTREE' || filter === 'MAILBOXES') {
      names = mailboxNames(items[next++], session);
    } else if (!['SELECTED', 'SELECTED-DELAYED', 'INBOXES', 'PERSONAL', 'SUBSCRIBED'].includes(filter)) {
      throw new SyntaxError(`Unknown mailbox filter ${filter.slice(0, 40)}`);
    }
    const selected = filter === 'SELECTED' || filter === 'SELECTED-DELAYED';
    const eventsToken = items[next++];
    if (!eventsToken || next !== items.length) throw new SyntaxError('Expected one list of events (or NONE) after the mailbox filter');
    const parsed = parseEvents(eventsToken, selected);
    badEvent ||= parsed.bad;
    if (selected) {
      if (plan.selected) throw new SyntaxError('Only one SELECTED or SELECTED-DELAYED group');
      plan.selected = { events: parsed.events, fetch: parsed.fetch, delayed: filter === 'SELECTED-DELAYED' };
      continue;
    }
    if (!parsed.events.size) continue; // NONE: nothing from these mailboxes (the default)
    const kind: NotifyGroup['filter'] = filter === 'INBOXES' ? 'personal' : (filter.toLowerCase() as NotifyGroup['filter']);
    plan.groups.push({ filter: kind, names, events: parsed.events });
  }
  if (badEvent) throw new BadEvent();
  return plan;
}

/** one-or-more-mailbox: a mailbox or a parenthesized list of them (store names). */
function mailboxNames(token: Token | undefined, session: SessionContext): string[] {
  if (!token) throw new SyntaxError('Missing mailbox names');
  const list = token.type === 'list' ? token.items : [token];
  if (!list.length) throw new SyntaxError('Missing mailbox names');
  return list.map((t) => {
    if (t.type === 'atom') return session.storeName(t.value);
    if (t.type === 'string') return session.storeName(t.value.toString('utf8'));
    throw new SyntaxError('Expected a mailbox name');
  });
}

function parseEvents(token: Token, selected: boolean): { events: Set<NotifyEvent>; fetch: Token | null; bad: boolean } {
  const events = new Set<NotifyEvent>();
  if (token.type === 'atom' && token.value.toUpperCase() === 'NONE') return { events, fetch: null, bad: false };
  if (token.type !== 'list' || !token.items.length) throw new SyntaxError('Expected a list of events or NONE');
  let fetch: Token | null = null;
  let bad = false;
  const items = token.items;
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    if (item.type !== 'atom') throw new SyntaxError('Expected an event name');
    const name = item.value.toLowerCase();
    const known = SUPPORTED_EVENTS.find((e) => e.toLowerCase() === name);
    if (known) events.add(known);
    else if (REFUSED_EVENTS.some((e) => e.toLowerCase() === name) || /^[A-Za-z][A-Za-z0-9-]*$/.test(item.value)) bad = true;
    else throw new SyntaxError('Expected an event name');
    if (known === 'MessageNew' && items[i + 1]?.type === 'list') {
      if (!selected) throw new SyntaxError('Fetch attributes are only for MessageNew of the selected mailbox');
      fetch = items[++i];
      if (!(fetch as { items: Token[] }).items.length) throw new SyntaxError('Missing fetch attributes');
      parseFetchItems([fetch]); // checked now: a bad one is BAD here, not a failure at each new message
    }
  }
  if (events.has('MessageNew') !== events.has('MessageExpunge')) throw new SyntaxError('MessageNew and MessageExpunge must be together');
  if (events.has('FlagChange') && !events.has('MessageNew')) throw new SyntaxError('FlagChange requires MessageNew and MessageExpunge');
  return { events, fetch, bad };
}
