// COPY, UID COPY (RFC 3501 6.4.7, COPYUID of RFC 4315) and MOVE, UID MOVE (RFC 6851).
import { requireRights, stripForbiddenFlags } from '../rights.js';
import { SELECTED, no, ok, type CommandContext, type CommandSpec } from './types.js';
import { sequenceSetArg } from './esearch.js';
import { compactSet, resolveSet } from '../resolve-set.js';
import { sendBeforeCopy } from '../outbox.js';

async function transfer(ctx: CommandContext, move: boolean) {
  const { session, args, uid } = ctx;
  const view = session.selected!;
  const set = sequenceSetArg(ctx, 'sequence set');
  const destination = session.storeName(args.astring('mailbox name'));
  args.end();
  const seqs = resolveSet(view, set, uid);
  if (move && view.readOnly) return no('Mailbox is read-only', 'READ-ONLY');
  const denied = (await requireRights(session, destination, 'i', move ? 'MOVE' : 'COPY')) ?? (move ? await requireRights(session, view.folder.name, 'te', 'MOVE') : null);
  if (denied) return denied;
  const uids = seqs.map((s) => view.message(s)!.uid);
  if (uids.length === 0) return ok(move ? 'MOVE completed' : 'COPY completed');
  const refused = await sendBeforeCopy(session, view, uids, destination, move);
  if (refused) return refused;
  const result = move
    ? await view.folder.moveTo(uids, destination)
    : await view.folder.copyTo(uids, destination);
  // RFC 4314 4: flags the user may not set in the destination do not come along.
  const copied = new Set(result.mapping.map(([from]) => from));
  const sourceFlags = seqs.map((s) => view.message(s)!).filter((m) => copied.has(m.uid)).flatMap((m) => [...m.flags]);
  await stripForbiddenFlags(session, destination, result.mapping.map(([, to]) => to), sourceFlags);
  const code = result.mapping.length
    ? `COPYUID ${result.uidValidity} ${compactSet(result.mapping.map((p) => p[0]))} ${compactSet(result.mapping.map((p) => p[1]))}`
    : undefined;
  if (move) {
    // RFC 6851 3.3: COPYUID goes in an untagged OK before the EXPUNGE responses.
    if (code) session.untagged([{ atom: 'OK' }, { atom: `[${code}]` }, { atom: 'Moved' }]);
    return ok('MOVE completed');
  }
  return ok('COPY completed', code);
}

export const copy: CommandSpec = {
  names: ['COPY', 'UID COPY'],
  states: SELECTED,
  handler: (ctx) => transfer(ctx, false),
};

export const move: CommandSpec = {
  names: ['MOVE', 'UID MOVE'],
  states: SELECTED,
  capabilities: [{ word: 'MOVE' }],
  handler: (ctx) => transfer(ctx, true),
};
