// SELECT and EXAMINE (RFC 3501 6.3.1, 6.3.2). A new SELECT first closes the current
// mailbox without expunging (RFC 3501: "no expunge is performed").
import { myRightsCode, requireRights } from '../rights.js';
import { AUTHENTICATED, ok, type CommandContext, type CommandSpec } from './types.js';

async function open({ session, args }: CommandContext, readOnly: boolean) {
  const wire = args.astring('mailbox name');
  args.end();
  const name = session.storeName(wire);
  const denied = await requireRights(session, name, 'r', readOnly ? 'EXAMINE' : 'SELECT');
  if (denied) return (session.unselect(), denied);
  const view = await session.select(name, readOnly);
  for (const line of view.flagsAnnouncement(view.announcedKeywords(), view.keywordsAllowed)) session.untagged(line);
  session.untagged([view.exists, { atom: 'EXISTS' }]);
  session.untagged([view.recentCount, { atom: 'RECENT' }]);
  const firstUnseen = view.firstUnseen();
  if (firstUnseen > 0) session.untagged([{ atom: 'OK' }, { atom: `[UNSEEN ${firstUnseen}]` }, { atom: 'First unseen' }]);
  session.untagged([{ atom: 'OK' }, { atom: `[UIDVALIDITY ${view.uidValidity}]` }, { atom: 'UIDs valid' }]);
  session.untagged([{ atom: 'OK' }, { atom: `[UIDNEXT ${view.uidNext}]` }, { atom: 'Predicted next UID' }]);
  if (session.settings.acl) session.untagged([{ atom: 'OK' }, { atom: `[${await myRightsCode(session, name)}]` }, { atom: 'ACL' }]);
  return ok(readOnly ? 'EXAMINE completed' : 'SELECT completed', readOnly ? 'READ-ONLY' : 'READ-WRITE');
}

export const select: CommandSpec = {
  names: ['SELECT'],
  states: AUTHENTICATED,
  handler: (ctx) => open(ctx, false),
};

export const examine: CommandSpec = {
  names: ['EXAMINE'],
  states: AUTHENTICATED,
  handler: (ctx) => open(ctx, true),
};
