// THREAD=ORDEREDSUBJECT and THREAD=REFERENCES (RFC 5256 section 3), THREAD=REFS (as Dovecot
// implements draft-ietf-morg-inthread) and the wire form of their result. Input: the messages that matched the search, with their parsed meta.
//
// Traversals are iterative, not recursive: a long reply chain is a deep tree.

import type { MessageInfo } from '../../backend/mailstore.js';
import type { MessageMeta } from '../../mime/types.js';
import { sentDate } from './dates.js';
import { comparatorFor } from './fold.js';
import { messageSubject } from './subject.js';

export type ThreadAlgorithm = 'ORDEREDSUBJECT' | 'REFERENCES' | 'REFS';

export interface ThreadMessage {
  seq: number;
  uid: number;
  info: MessageInfo;
  meta: MessageMeta;
}

/** One node of a thread tree. `id` is the message's sequence number or UID, null for a
 * placeholder of a missing parent (only at the top level, grouping sibling threads). */
export interface ThreadNode {
  id: number | null;
  children: ThreadNode[];
}

/**
 * Threads the messages with the given algorithm. The result lists the threads in order;
 * node ids are sequence numbers (`use` 'seq', for THREAD) or UIDs (for UID THREAD).
 */
export function threadMessages(
  algorithm: ThreadAlgorithm,
  messages: readonly ThreadMessage[],
  use: 'seq' | 'uid' = 'seq',
): ThreadNode[] {
  const ordered = [...messages].sort((a, b) => a.seq - b.seq);
  if (algorithm === 'ORDEREDSUBJECT') return orderedSubject(ordered, use);
  return algorithm === 'REFS' ? refs(ordered, use) : references(ordered, use);
}

/**
 * The wire form of a THREAD response's data, e.g. "(2)(3 6 (4 23)(44 7 96))"
 * (RFC 5256 section 4, thread-list). Write it after "* THREAD ".
 */
export function formatThreads(threads: readonly ThreadNode[]): string {
  let out = '';
  // Work items: a node to write, or a literal piece of text.
  const stack: (ThreadNode | string)[] = [];
  for (let i = threads.length - 1; i >= 0; i--) stack.push(')', threads[i], '(');
  while (stack.length > 0) {
    const item = stack.pop()!;
    if (typeof item === 'string') {
      out += item;
      continue;
    }
    // thread-members: the node, then a single child continues the chain after a space,
    // two or more children each become a parenthesised thread-list (thread-nested).
    const { id, children } = item;
    if (id !== null) out += String(id);
    const separator = id !== null && children.length > 0 ? ' ' : '';
    if (children.length === 1) {
      stack.push(children[0], separator);
    } else if (children.length > 1) {
      for (let i = children.length - 1; i >= 0; i--) stack.push(')', children[i], '(');
      stack.push(separator);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// Sent-date order (RFC 5256 section 2.2), ties by sequence number.

interface Dated {
  date: number;
  seq: number;
}

function compareDated(a: Dated, b: Dated): number {
  return a.date - b.date || a.seq - b.seq;
}

// ---------------------------------------------------------------------------
// ORDEREDSUBJECT: sort by base subject then sent date, split into runs of equal base
// subject; the first message of a run is the root, all others its children.

function orderedSubject(messages: readonly ThreadMessage[], use: 'seq' | 'uid'): ThreadNode[] {
  const entries = messages.map((m) => ({
    message: m,
    subject: messageSubject(m.meta).key,
    date: sentDate(m),
    seq: m.seq,
  }));
  const compareSubjects = comparatorFor(entries.map((e) => e.subject));
  entries.sort((a, b) => compareSubjects(a.subject, b.subject) || compareDated(a, b));

  const threads: { root: ThreadNode; first: Dated }[] = [];
  let current: ThreadNode | undefined;
  let currentSubject = '';
  for (const entry of entries) {
    const node: ThreadNode = { id: entry.message[use], children: [] };
    if (current && entry.subject === currentSubject) {
      current.children.push(node);
    } else {
      current = node;
      currentSubject = entry.subject;
      threads.push({ root: node, first: entry });
    }
  }
  threads.sort((a, b) => compareDated(a.first, b.first));
  return threads.map((t) => t.root);
}

// ---------------------------------------------------------------------------
// REFERENCES

class Container {
  message?: ThreadMessage;
  parent?: Container;
  readonly children: Container[] = [];
  /** Sent date and seq used for ordering: the message's own, or a dummy's first child's. */
  sortKey?: Dated;
  /** Base subject (collation key) and reply/forward flag of a real message. */
  subject?: { key: string; isReplyOrForward: boolean };

  /** Would making `this` the parent of `child` create a loop (is `this` child or below it)? */
  wouldLoop(child: Container): boolean {
    if (this === child) return true;
    // Walk up from `this` and down through child's subtree in step, one container each: the
    // shorter walk answers. Walking only up cost the depth for every link, and one message's
    // References can make a chain 20,000 deep (10,000 links to its end took 9 s).
    let up = this.parent;
    const down: { node: Container; next: number }[] = [{ node: child, next: 0 }];
    for (;;) {
      if (up === undefined) return false; // the top, without meeting child
      if (up === child) return true;
      up = up.parent;
      let visited = false;
      while (!visited && down.length > 0) {
        const top = down[down.length - 1];
        if (top.next < top.node.children.length) {
          const node = top.node.children[top.next++];
          if (node === this) return true;
          down.push({ node, next: 0 });
          visited = true;
        } else down.pop();
      }
      if (!visited) return false; // all of child's subtree seen, without `this`
    }
  }

  link(child: Container): void {
    child.parent = this;
    this.children.push(child);
  }

  unlinkFromParent(): void {
    if (this.parent) {
      const siblings = this.parent.children;
      // From the end: a container is most often unlinked soon after it was linked.
      siblings.splice(siblings.lastIndexOf(this), 1);
      this.parent = undefined;
    }
  }
}

/** "local@domain": RFC 5322 msg-id content, id-left "@" id-right. */
function isMessageIdContent(id: string): boolean {
  const at = id.indexOf('@');
  return at > 0 && at < id.length - 1;
}

/** Message IDs (without the angle brackets) found in a header value, in order.
 * A valid one is "<" id-left "@" id-right ">" (RFC 5322 msg-id); comparison is case-sensitive. */
export function extractMessageIds(value: string | null): string[] {
  if (value === null) return [];
  const ids: string[] = [];
  for (const match of value.matchAll(/<([^<>]*)>/g)) {
    const id = match[1].replace(/[ \t\r\n]+/g, '');
    if (isMessageIdContent(id)) ids.push(id);
  }
  return ids;
}

/**
 * The first valid Message ID of a header value or of one MessageMeta.references entry.
 * "<id>" alone (the common case) is taken apart without a regular expression; bare ids are
 * accepted only from references (the MIME parser may hand them over without brackets).
 */
function firstMessageId(value: string, allowBare: boolean): string | undefined {
  let id: string | undefined;
  if (value.startsWith('<') && value.endsWith('>')) id = value.slice(1, -1);
  else if (allowBare) id = value;
  if (id === undefined || /[\s<>]/.test(id)) return extractMessageIds(value)[0];
  return isMessageIdContent(id) ? id : undefined;
}

/**
 * The Message ID a message names as the first of its thread: the first of its references, else
 * its own; undefined for neither (THREADID, commands/fetch-ext.ts).
 */
export function threadRootId(meta: Pick<MessageMeta, 'references' | 'envelope'>): string | undefined {
  const first = referencesOf(meta)[0];
  if (first !== undefined) return first;
  return meta.envelope.messageId === null ? undefined : firstMessageId(meta.envelope.messageId.trim(), false);
}

function referencesOf(meta: Pick<MessageMeta, 'references' | 'envelope'>): string[] {
  // RFC 5256 REFERENCES step 1: the References header, or else the first valid Message ID
  // of In-Reply-To.
  const refs: string[] = [];
  for (const entry of meta.references) {
    const id = firstMessageId(entry, true);
    if (id !== undefined) refs.push(id);
  }
  if (refs.length > 0) return refs;
  return extractMessageIds(meta.envelope.inReplyTo).slice(0, 1);
}

/** REFERENCES steps (1) and (2): the containers without a parent, each with its tree below. */
function linkContainers(messages: readonly ThreadMessage[]): Container[] {
  const table = new Map<string, Container>();
  const containerFor = (id: string): Container => {
    let container = table.get(id);
    if (!container) {
      container = new Container(); // a dummy until a message with this ID shows up
      table.set(id, container);
    }
    return container;
  };

  // (1) Link messages to their parents, in sequence number order.
  const all: Container[] = [];
  for (const m of messages) {
    const id = m.meta.envelope.messageId === null ? undefined : firstMessageId(m.meta.envelope.messageId.trim(), false);
    // No valid Message-ID, or one already used by a lower sequence number: a unique
    // container not in the table, so nothing can refer to this message.
    let own: Container;
    const existing = id === undefined ? undefined : table.get(id);
    if (id !== undefined && (!existing || !existing.message)) own = containerFor(id);
    else own = new Container();
    own.message = m;
    own.subject = messageSubject(m.meta);
    own.sortKey = { date: sentDate(m), seq: m.seq };
    all.push(own);

    const refs = referencesOf(m.meta);
    // (1.A) Chain the references: each is the parent of the next, unless the child already
    // has a parent (the header may be truncated) or the link would make a loop.
    for (let i = 0; i + 1 < refs.length; i++) {
      const child = containerFor(refs[i + 1]);
      if (child.parent) continue; // (a dummy for refs[i] alone would be pruned in step 3 anyway)
      const parent = containerFor(refs[i]);
      if (!parent.wouldLoop(child)) parent.link(child);
    }
    // (1.B) The last reference is the parent of this message, replacing any parent 1.A gave.
    own.unlinkFromParent();
    if (refs.length > 0) {
      const parent = containerFor(refs[refs.length - 1]);
      if (!parent.wouldLoop(own)) parent.link(own);
    }
  }
  for (const container of table.values()) if (!container.message) all.push(container);

  // (2) Everything without a parent goes under the root.
  return all.filter((c) => !c.parent);
}

function references(messages: readonly ThreadMessage[], use: 'seq' | 'uid'): ThreadNode[] {
  // (3) Prune dummies.
  let roots = pruneDummies(linkContainers(messages));

  // (4) Sort the top level by sent date; a dummy sorts by its first child (after sorting its children).
  for (const c of roots) if (!c.message) sortChildren(c);
  roots.sort(compareContainers);

  // (5) Gather threads with the same base subject.
  roots = groupBySubject(roots);

  // (6) Sort all siblings by sent date, deepest first.
  sortAllSiblings(roots);
  roots.sort(compareContainers);

  return toNodes(roots, use);
}

/**
 * THREAD=REFS as Dovecot answers it (index-thread-finish.c, sort_root_nodes_ref2): the threads
 * of REFERENCES steps (1) to (3) and (6), without gathering by subject, ordered by the newest
 * sent date found in each thread (ties: by the root message, a dummy root first).
 */
function refs(messages: readonly ThreadMessage[], use: 'seq' | 'uid'): ThreadNode[] {
  // A dummy root keeps a single child here (Dovecot does not promote it); on the wire both read "(n ...)".
  const roots = pruneDummies(linkContainers(messages), false);
  sortAllSiblings(roots);
  const newest = new Map<Container, number>();
  for (const root of roots) {
    let latest = -Infinity;
    const stack = [root];
    while (stack.length > 0) {
      const c = stack.pop()!;
      if (c.message) latest = Math.max(latest, c.sortKey!.date);
      for (const child of c.children) stack.push(child);
    }
    newest.set(root, latest);
  }
  roots.sort((a, b) => newest.get(a)! - newest.get(b)! || (a.message?.seq ?? 0) - (b.message?.seq ?? 0));
  return toNodes(roots, use);
}

function compareContainers(a: Container, b: Container): number {
  return compareDated(a.sortKey!, b.sortKey!);
}

/** Sorts a container's children and, for a dummy, takes the first child's sort key. */
function sortChildren(c: Container): void {
  c.children.sort(compareContainers);
  if (!c.message) c.sortKey = c.children[0].sortKey;
}

/**
 * Step (3): a dummy without children is deleted; a dummy with children is replaced by
 * them, except that at the top level this happens only when it has one child.
 */
function pruneDummies(roots: Container[], promoteSingleChild = true): Container[] {
  // Top down: a container's dummy children are dissolved (through any depth of dummies) before
  // its children are visited, so each dummy is dissolved once and each container moves once.
  // Dummies removed one by one from a list of 60,000 siblings took 21 s, and a chain of dummies
  // handed a long list of children up level by level. Order within a list does not matter:
  // steps 4 and 6 sort every list.
  const stack = [...roots];
  while (stack.length > 0) {
    const c = stack.pop()!;
    if (!c.children.every((child) => child.message)) {
      const kept: Container[] = [];
      const pending = [...c.children];
      while (pending.length > 0) {
        const child = pending.pop()!;
        if (child.message) {
          child.parent = c;
          kept.push(child);
          continue;
        }
        for (const grandchild of child.children) pending.push(grandchild);
        child.children.length = 0;
        child.parent = undefined;
      }
      c.children.length = 0;
      for (const child of kept) c.children.push(child);
    }
    for (const child of c.children) stack.push(child);
  }
  const result: Container[] = [];
  for (const c of roots) {
    if (c.message || c.children.length > 1 || (c.children.length === 1 && !promoteSingleChild)) result.push(c);
    else if (c.children.length === 1) {
      const [only] = c.children;
      only.parent = undefined;
      result.push(only);
    }
  }
  return result;
}

/** Containers below the given ones (not the given ones themselves), every one before its
 * ancestors (a pre-order walk, reversed). */
function walkPostOrder(roots: readonly Container[]): Container[] {
  const out: Container[] = [];
  const stack: Container[] = [];
  for (const r of roots) stack.push(...r.children);
  while (stack.length > 0) {
    const c = stack.pop()!;
    out.push(c);
    for (const child of c.children) stack.push(child);
  }
  return out.reverse();
}

/** The subject of a top-level thread: its message's, or a dummy's first child's (step 5.B.i). */
function threadSubject(c: Container): { key: string; isReplyOrForward: boolean } {
  if (c.message) return c.subject!;
  const [first] = c.children;
  return first.subject!;
}

/** Step (5). */
function groupBySubject(roots: Container[]): Container[] {
  // (5.B) One container per base subject, preferring dummies, then non-replies.
  const subjects = new Map<string, Container>();
  for (const c of roots) {
    const subject = threadSubject(c).key;
    if (subject === '') continue;
    const held = subjects.get(subject);
    if (!held) subjects.set(subject, c);
    else if (held.message && (!c.message || (held.subject!.isReplyOrForward && !c.subject!.isReplyOrForward))) {
      subjects.set(subject, c);
    }
  }

  // (5.C) Merge every other thread with that subject into the one in the table.
  const removed = new Set<Container>();
  const added: Container[] = [];
  for (const c of roots) {
    if (removed.has(c)) continue; // already placed under a new dummy
    const subject = threadSubject(c);
    if (subject.key === '') continue;
    const held = subjects.get(subject.key)!;
    if (held === c) continue;
    removed.add(c);
    if (!held.message && !c.message) {
      for (const child of c.children) held.link(child);
      c.children.length = 0;
    } else if (!held.message) {
      held.link(c);
    } else if (c.message && subject.isReplyOrForward && !held.subject!.isReplyOrForward) {
      held.link(c);
    } else {
      // held is a top-level container (the table holds nothing else): it moves under a new dummy.
      const dummy = new Container();
      removed.add(held);
      dummy.link(held);
      dummy.link(c);
      subjects.set(subject.key, dummy);
      added.push(dummy);
    }
  }
  return [...roots, ...added].filter((c) => !removed.has(c) && !c.parent);
}

/** Step (6): sort the children of every container, deepest levels first. */
function sortAllSiblings(roots: readonly Container[]): void {
  const below = walkPostOrder(roots);
  for (const c of below) if (c.children.length > 1) sortChildren(c);
  for (const r of roots) if (r.children.length > 0) sortChildren(r);
}

function toNodes(roots: readonly Container[], use: 'seq' | 'uid'): ThreadNode[] {
  const makeNode = (c: Container): ThreadNode => ({ id: c.message ? c.message[use] : null, children: [] });
  const result = roots.map(makeNode);
  const containers = [...roots];
  const nodes = [...result];
  while (containers.length > 0) {
    const c = containers.pop()!;
    const node = nodes.pop()!;
    for (const child of c.children) {
      const childNode = makeNode(child);
      node.children.push(childNode);
      containers.push(child);
      nodes.push(childNode);
    }
  }
  return result;
}
