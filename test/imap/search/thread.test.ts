import assert from 'node:assert/strict';
import { test } from 'node:test';

import { extractMessageIds, formatThreads, threadMessages, type ThreadMessage } from '../../../server/imap/search/thread.js';
import { fakeMeta, info, type FakeMessage } from './helpers.js';

const DAY = 86400000;
const BASE = Date.UTC(2024, 0, 1);

/** A message with sequence number `seq`, UID seq*10, sent `day` days after BASE. */
function msg(seq: number, day: number, fields: FakeMessage = {}): ThreadMessage {
  return { seq, uid: seq * 10, info: info(seq * 10), meta: fakeMeta({ sentDate: BASE + day * DAY, ...fields }) };
}

const ref = (id: string): FakeMessage => ({ references: [`<${id}@x>`] });
const id = (name: string): string => `<${name}@x>`;

test('formatThreads writes the RFC 5256 example shapes', () => {
  const leaf = (n: number) => ({ id: n, children: [] });
  assert.equal(
    formatThreads([
      leaf(2),
      { id: 3, children: [{ id: 6, children: [{ id: 4, children: [leaf(23)] }, { id: 44, children: [{ id: 7, children: [leaf(96)] }] }] }] },
    ]),
    '(2)(3 6 (4 23)(44 7 96))',
  );
  // ORDEREDSUBJECT shape: root with several children, and with one child
  assert.equal(formatThreads([{ id: 174, children: [leaf(175), leaf(176)] }, { id: 194, children: [leaf(195)] }]), '(174 (175)(176))(194 195)');
  // a dummy at the top level groups sibling threads
  assert.equal(formatThreads([{ id: null, children: [leaf(3), { id: 5, children: [leaf(6)] }] }]), '((3)(5 6))');
  assert.equal(formatThreads([]), '');
});

test('REFERENCES reproduces the RFC 5256 example thread', () => {
  const messages = [
    msg(2, 0, { subject: 'lone', messageId: id('m2') }),
    msg(3, 1, { subject: 'topic', messageId: id('m3') }),
    msg(4, 3, { subject: 'Re: topic', messageId: id('m4'), references: [id('m3'), id('m6')] }),
    msg(6, 2, { subject: 'Re: topic', messageId: id('m6'), references: [id('m3')] }),
    msg(7, 5, { subject: 'Re: topic', messageId: id('m7'), references: [id('m3'), id('m6'), id('m44')] }),
    msg(23, 6, { subject: 'Re: topic', messageId: id('m23'), references: [id('m3'), id('m6'), id('m4')] }),
    msg(44, 4, { subject: 'Re: topic', messageId: id('m44'), references: [id('m3'), id('m6')] }),
    msg(96, 7, { subject: 'Re: topic', messageId: id('m96'), references: [id('m3'), id('m6'), id('m44'), id('m7')] }),
  ];
  const threads = threadMessages('REFERENCES', messages);
  assert.equal(formatThreads(threads), '(2)(3 6 (4 23)(44 7 96))');
  assert.equal(formatThreads(threadMessages('REFERENCES', messages, 'uid')), '(20)(30 60 (40 230)(440 70 960))');
  // the input order does not matter
  assert.equal(formatThreads(threadMessages('REFERENCES', [...messages].reverse())), '(2)(3 6 (4 23)(44 7 96))');
});

test('REFERENCES: In-Reply-To is used when References is missing', () => {
  const messages = [
    msg(1, 0, { subject: 'a', messageId: id('a') }),
    msg(2, 1, { subject: 'b', messageId: id('b'), inReplyTo: `${id('a')} ${id('zzz')}` }),
  ];
  assert.equal(formatThreads(threadMessages('REFERENCES', messages)), '(1 2)');
});

test('REFERENCES: dummies for missing parents are pruned (step 3)', () => {
  // two replies to a message that is not there: a dummy keeps them together at the top
  assert.equal(
    formatThreads(threadMessages('REFERENCES', [msg(1, 0, { subject: 'x', ...ref('gone') }), msg(2, 1, { subject: 'y', ...ref('gone') })])),
    '((1)(2))',
  );
  // one reply to a missing message: the dummy goes, the reply moves up
  assert.equal(formatThreads(threadMessages('REFERENCES', [msg(1, 0, { subject: 'x', ...ref('gone') }), msg(2, 1, { subject: 'y' })])), '(1)(2)');
  // a missing message in the middle of a chain: its children are promoted below the root
  const chain = [
    msg(1, 0, { subject: 'x', messageId: id('r') }),
    msg(2, 1, { subject: 'y', messageId: id('c1'), references: [id('r'), id('missing')] }),
    msg(3, 2, { subject: 'z', messageId: id('c2'), references: [id('r'), id('missing')] }),
  ];
  assert.equal(formatThreads(threadMessages('REFERENCES', chain)), '(1 (2)(3))');
});

test('REFERENCES: threads are ordered by sent date, a dummy by its first child (step 4 and 6)', () => {
  const messages = [
    msg(1, 5, { subject: 'late' }),
    msg(2, 3, { subject: 'p', ...ref('gone') }),
    msg(3, 1, { subject: 'q', ...ref('gone') }),
    msg(4, 2, { subject: 'early' }),
  ];
  assert.equal(formatThreads(threadMessages('REFERENCES', messages)), '((3)(2))(4)(1)');
});

test('REFERENCES: equal sent dates fall back to sequence number', () => {
  const messages = [msg(2, 0, { subject: 'b' }), msg(1, 0, { subject: 'a' }), msg(3, 0, { subject: 'c' })];
  assert.equal(formatThreads(threadMessages('REFERENCES', messages)), '(1)(2)(3)');
});

test('REFERENCES: missing sent date uses INTERNALDATE', () => {
  const late = msg(1, 0, { subject: 'a', sentDate: null });
  late.info = info(10, [], 100, BASE + 10 * DAY);
  assert.equal(formatThreads(threadMessages('REFERENCES', [late, msg(2, 5, { subject: 'b' })])), '(2)(1)');
});

test('REFERENCES: duplicate and missing Message-IDs', () => {
  const messages = [
    msg(1, 0, { subject: 'a', messageId: id('dup') }),
    msg(2, 1, { subject: 'b', messageId: id('dup') }), // a second copy: gets a unique ID
    msg(3, 2, { subject: 'c', messageId: null, ...ref('dup') }), // replies to the first one
    msg(4, 3, { subject: 'd', messageId: 'not a message id', ...ref('dup') }),
  ];
  assert.equal(formatThreads(threadMessages('REFERENCES', messages)), '(1 (3)(4))(2)');
});

test('REFERENCES: references that would form a loop are not linked', () => {
  const messages = [
    msg(1, 0, { subject: 'a', messageId: id('a'), references: [id('b')] }),
    msg(2, 1, { subject: 'b', messageId: id('b'), references: [id('a')] }),
  ];
  assert.equal(formatThreads(threadMessages('REFERENCES', messages)), '(2 1)');
  // a message referring to itself
  assert.equal(formatThreads(threadMessages('REFERENCES', [msg(1, 0, { subject: 's', messageId: id('s'), references: [id('s')] })])), '(1)');
  // a References chain that contradicts an existing link does not move that link (step 1.A)
  const truncated = [
    msg(1, 0, { subject: 'r', messageId: id('r') }),
    msg(2, 1, { subject: 'x', messageId: id('x'), references: [id('r')] }),
    msg(3, 2, { subject: 'y', messageId: id('y'), references: [id('other'), id('x')] }),
  ];
  assert.equal(formatThreads(threadMessages('REFERENCES', truncated)), '(1 2 3)');
});

test('REFERENCES: the last reference wins over a parent from an earlier References chain (step 1.B)', () => {
  const messages = [
    msg(1, 0, { subject: 'p', messageId: id('p') }),
    // names q as the parent of c
    msg(2, 1, { subject: 'q', messageId: id('q'), references: [id('q0'), id('c')] }),
    // c itself says its parent is p
    msg(3, 2, { subject: 'c', messageId: id('c'), references: [id('p')] }),
  ];
  assert.equal(formatThreads(threadMessages('REFERENCES', messages)), '(1 3 2)');
});

test('REFERENCES: threads with the same base subject are merged (step 5)', () => {
  // a reply without references joins the thread of the original
  assert.equal(
    formatThreads(threadMessages('REFERENCES', [msg(1, 0, { subject: 'Lunch' }), msg(2, 1, { subject: 'Re: lunch' })])),
    '(1 2)',
  );
  // two non-replies with the same subject: siblings under a new dummy
  assert.equal(formatThreads(threadMessages('REFERENCES', [msg(1, 0, { subject: 'Lunch' }), msg(2, 1, { subject: 'lunch' })])), '((1)(2))');
  // the original is preferred over a reply that came first
  assert.equal(
    formatThreads(threadMessages('REFERENCES', [msg(1, 0, { subject: 'Re: Lunch' }), msg(2, 1, { subject: 'Lunch' })])),
    '(2 1)',
  );
  // a dummy holding the subject takes the other threads as children
  assert.equal(
    formatThreads(
      threadMessages('REFERENCES', [
        msg(1, 0, { subject: 'Lunch', ...ref('gone') }),
        msg(2, 1, { subject: 'Re: Lunch', ...ref('gone') }),
        msg(3, 2, { subject: 'Lunch' }),
      ]),
    ),
    '((1)(2)(3))',
  );
  // empty subjects are never merged
  assert.equal(formatThreads(threadMessages('REFERENCES', [msg(1, 0, { subject: '' }), msg(2, 1, { subject: 'Re:' })])), '(1)(2)');
});

test('ORDEREDSUBJECT groups by base subject and orders threads by their first message', () => {
  const messages = [
    msg(1, 3, { subject: 'beta' }),
    msg(2, 1, { subject: 'Re: alpha' }),
    msg(3, 2, { subject: 'Alpha' }),
    msg(4, 0, { subject: 'gamma' }),
    msg(5, 4, { subject: 'Re: Beta' }),
    msg(6, 5, { subject: 'Fwd: alpha' }),
  ];
  assert.equal(formatThreads(threadMessages('ORDEREDSUBJECT', messages)), '(4)(2 (3)(6))(1 5)');
  assert.equal(formatThreads(threadMessages('ORDEREDSUBJECT', messages, 'uid')), '(40)(20 (30)(60))(10 50)');
});

test('extractMessageIds', () => {
  assert.deepEqual(extractMessageIds('<a@b> (comment) <c@d>, <nope> <e@f'), ['a@b', 'c@d']);
  assert.deepEqual(extractMessageIds(' <a@ b\r\n > '), ['a@b']);
  assert.deepEqual(extractMessageIds(null), []);
});

test('REFERENCES costs no more than linear time for 60,000 replies to one missing message, each through a missing parent', () => {
  // Every message hangs below a dummy of its own, all dummies below one dummy root: removing
  // the dummies one by one from a list of 60,000 siblings was quadratic (about 20 s).
  const messages: ThreadMessage[] = [];
  for (let i = 1; i <= 60_000; i++) messages.push(msg(i, i, { subject: `s${i}`, messageId: `<m${i}@x>`, references: ['<root@x>', `<d${i}@x>`] }));
  const started = performance.now();
  const [thread, ...rest] = threadMessages('REFERENCES', messages);
  assert.equal(rest.length, 0);
  assert.equal(thread.id, null);
  assert.deepEqual(thread.children.map((c) => c.id), messages.map((m) => m.seq));
  assert.ok(performance.now() - started < 8000, `took ${Math.round(performance.now() - started)} ms`);
});

test('REFERENCES: a chain of 10,000 missing parents above 10,000 replies is pruned in linear time', () => {
  // One message's References make a chain of dummies; the replies hang at its end. Each level
  // of the chain handed the whole list of replies up to the next (10,000 x 10,000 moves).
  const messages: ThreadMessage[] = [msg(1, 0, { subject: 'chain', messageId: '<a@x>', references: Array.from({ length: 10_000 }, (_, i) => `<c${i}@x>`) })];
  for (let j = 0; j < 10_000; j++) messages.push(msg(j + 2, j + 1, { subject: `r${j}`, messageId: `<r${j}@x>`, references: ['<c9999@x>'] }));
  const started = performance.now();
  const threads = threadMessages('REFERENCES', messages);
  // <c0> is a dummy at the top with one child (<c1>... dissolved): a's and the replies' parent
  // chain collapses onto the top-level dummy of c0, which holds them all.
  assert.equal(threads.length, 1);
  assert.equal(threads[0].id, null);
  assert.deepEqual(threads[0].children.map((c) => c.id).sort((x, y) => x! - y!), messages.map((m) => m.seq));
  assert.ok(performance.now() - started < 5000, `took ${Math.round(performance.now() - started)} ms`);
});

test('REFERENCES: 10,000 messages with replies linked below a chain 20,000 deep cost linear time', () => {
  // Each link asked whether the new parent lies below the child by walking up from the parent:
  // 20,000 steps for each of 10,000 links (9 s).
  const messages: ThreadMessage[] = [msg(1, 0, { subject: 'chain', messageId: '<a@x>', references: Array.from({ length: 20_000 }, (_, i) => `<c${i}@x>`) })];
  for (let j = 0; j < 10_000; j++) messages.push(msg(j + 2, 1, { subject: `p${j}`, messageId: `<p${j}@x>`, references: [`<x${j}@x>`] }));
  for (let j = 0; j < 10_000; j++) messages.push(msg(j + 10_002, 2, { subject: `x${j}`, messageId: `<x${j}@x>`, references: ['<c19999@x>'] }));
  const started = performance.now();
  const [thread, ...rest] = threadMessages('REFERENCES', messages);
  assert.equal(rest.length, 0);
  // Below the chain's top dummy: a, and each x with its reply p.
  assert.equal(thread.children.length, 10_001);
  const x0 = thread.children.find((c) => c.id === 10_002)!;
  assert.deepEqual(x0.children.map((c) => c.id), [2]);
  assert.ok(performance.now() - started < 5000, `took ${Math.round(performance.now() - started)} ms`);
});
