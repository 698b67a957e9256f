import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CommandInput } from '../../../server/imap/protocol/reader.js';
import { splitCommands } from '../../../server/imap/protocol/split-commands.js';
import {
  astringValue,
  atomValue,
  listItems,
  normalizeFlag,
  nstringValue,
  numberValue,
  parseCommand,
  parseFlagList,
  ProtocolError,
} from '../../../server/imap/protocol/parser.js';
import type { ParsedCommand, Token } from '../../../server/imap/protocol/types.js';

/** Parse one command written as it travels on the wire (literals inline). */
function parse(wire: string | Buffer): ParsedCommand {
  const data = typeof wire === 'string' ? Buffer.from(wire.endsWith('\n') ? wire : `${wire}\r\n`, 'latin1') : wire;
  const cmds = splitCommands(data);
  assert.equal(cmds.length, 1, 'exactly one command');
  return parseCommand(cmds[0]);
}

function line(text: string): CommandInput {
  return { lines: [Buffer.from(text, 'latin1')], literals: [] };
}

/** Tokens in a compact, comparable form. */
function show(tokens: Token[]): unknown[] {
  return tokens.map((t): unknown => {
    switch (t.type) {
      case 'atom':
        return t.value;
      case 'nil':
        return null;
      case 'string':
        return t.literal ? { lit: t.value.toString('latin1') } : { q: t.value.toString('latin1') };
      case 'list':
        return show(t.items);
      case 'section':
        return { section: t.raw, items: show(t.items) };
    }
  });
}

function bad(wire: string, pattern: RegExp, tag?: string | null): ProtocolError {
  let caught: unknown;
  try {
    parse(wire);
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof ProtocolError, `expected a ProtocolError for ${JSON.stringify(wire)}, got ${String(caught)}`);
  assert.match(caught.message, pattern);
  if (tag !== undefined) assert.equal(caught.tag, tag);
  return caught;
}

test('tag, upper-cased name, UID prefix joined', () => {
  assert.deepEqual(parse('a1 noop'), { tag: 'a1', name: 'NOOP', args: [] });
  const uid = parse('x.2 uid fetch 1:* FLAGS');
  assert.equal(uid.name, 'UID FETCH');
  assert.deepEqual(show(uid.args), ['1:*', 'FLAGS']);
  // "]" is an ASTRING-CHAR and allowed in tags
  assert.equal(parse('a]b NOOP').tag, 'a]b');
});

test('invalid tags give tag null (answered "* BAD")', () => {
  bad('+ NOOP', /tag/, null);
  bad('* NOOP', /tag/, null);
  bad('a(b NOOP', /tag/, null);
  bad('a"b NOOP', /tag/, null);
  bad('a{b NOOP', /tag/, null);
  bad('a%b NOOP', /tag/, null);
  bad('a\\b NOOP', /tag/, null);
  bad(' NOOP', /tag/, null);
  bad('t\xe9 NOOP', /tag/, null);
  assert.throws(() => parseCommand(line('')), (e: unknown) => e instanceof ProtocolError && e.tag === null && /Empty/.test(e.message));
});

test('missing or invalid command names keep the tag', () => {
  bad('a', /Missing command/, 'a');
  bad('a ', /Missing command/, 'a');
  bad('a 123', /Invalid command name/, 'a');
  bad('a (NOOP)', /Invalid command name/, 'a');
  bad('a UID', /Missing command after UID/, 'a');
  const e = bad('a FETCH (', /missing "\)"/, 'a');
  assert.equal(e.command, 'FETCH');
});

test('atoms, flags, wildcards and NIL', () => {
  const cmd = parse('a STORE 1:3,5 +FLAGS.SILENT (\\Seen $Junk) NIL nil "NIL" % * INBOX.*');
  assert.deepEqual(show(cmd.args), ['1:3,5', '+FLAGS.SILENT', ['\\Seen', '$Junk'], null, null, { q: 'NIL' }, '%', '*', 'INBOX.*']);
});

test('"[" and "]" are atom characters outside FETCH (mailbox names like [Gmail]/Sent)', () => {
  assert.deepEqual(show(parse('a SELECT [Gmail]/Sent').args), ['[Gmail]/Sent']);
  assert.deepEqual(show(parse('a SELECT BODY[x]').args), ['BODY[x]']);
});

test('quoted strings: escapes, 8-bit UTF-8, empty', () => {
  const cmd = parse(Buffer.from('a LOGIN "a\\\\b\\"c" "Caf\xc3\xa9" ""\r\n', 'latin1'));
  assert.deepEqual(show(cmd.args), [{ q: 'a\\b"c' }, { q: 'Caf\xc3\xa9' }, { q: '' }]);
  assert.equal(astringValue(cmd.args[1], 'x'), 'Café');
});

test('quoted string errors', () => {
  bad('a LOGIN "abc', /Unterminated/);
  bad('a LOGIN "a\\bc"', /escape/);
  bad('a LOGIN "abc\\"', /Unterminated/);
  assert.throws(() => parseCommand(line('a LOGIN "a\x00b"')), /NUL/);
});

test('literals: synchronizing, non-synchronizing, several, inside lists, empty', () => {
  const cmd = parse('a LOGIN {5}\r\nal ce {6+}\r\nsec\r\nt\r\n');
  assert.deepEqual(show(cmd.args), [{ lit: 'al ce' }, { lit: 'sec\r\nt' }]);
  const list = parse('a X ({3}\r\nabc (NIL {0}\r\n))\r\n');
  assert.deepEqual(show(list.args), [[{ lit: 'abc' }, [null, { lit: '' }]]]);
});

test('literal announcements in the middle of a line are errors', () => {
  bad('a LOGIN {3} x', /literal/i);
  bad('a LOGIN {abc}', /literal/i);
  bad('a LOGIN foo{3', /\{/);
});

test('literal data of the wrong size is rejected (hand-made CommandInput)', () => {
  const input: CommandInput = { lines: [Buffer.from('a LOGIN {3}'), Buffer.from('')], literals: [Buffer.from('ab')] };
  assert.throws(() => parseCommand(input), /Literal data/);
  assert.throws(() => parseCommand(line('a LOGIN {3}')), /Literal data/);
});

test('nested lists, empty lists, extra spaces tolerated', () => {
  assert.deepEqual(show(parse('a X (a (b (c)) ())').args), [['a', ['b', ['c']], []]]);
  assert.deepEqual(show(parse('a X  ( a  b )  c ').args), [['a', 'b'], 'c']);
});

test('unbalanced parentheses and missing separators', () => {
  bad('a X (a', /missing "\)"/);
  bad('a X ((a)', /missing "\)"/);
  bad('a X a)', /unexpected "\)"/);
  bad('a X (a))', /unexpected "\)"/);
  bad('a X )', /unexpected "\)"/);
  bad('a X (a)(b)', /Missing space/);
  bad('a X "a""b"', /Missing space/);
  bad('a X "a"b', /Missing space/);
  bad('a X {1}\r\nxy', /Missing space/);
});

test('very deep nesting is refused, not a stack overflow', () => {
  bad(`a X ${'('.repeat(5000)}${')'.repeat(5000)}`, /nested too deeply/);
});

test('control and 8-bit characters outside strings are refused', () => {
  assert.throws(() => parseCommand(line('a SELECT in\x01box')), /Invalid character 0x01/);
  assert.throws(() => parseCommand(line('a SELECT in\x7fbox')), /0x7f/);
  assert.throws(() => parseCommand(line('a SELECT Caf\xc3\xa9')), /8-bit/);
  bad('a SELECT a"b"', /quote inside an atom/);
});

test('FETCH sections: BODY[...] becomes atom + section (+ partial)', () => {
  const cmd = parse('a FETCH 1 (BODY.PEEK[HEADER.FIELDS (From "To")]<0.100> BODY[] body[1.2.mime] RFC822.SIZE)');
  assert.deepEqual(show(cmd.args), [
    '1',
    [
      'BODY.PEEK',
      { section: 'HEADER.FIELDS (From "To")', items: ['HEADER.FIELDS', ['From', { q: 'To' }]] },
      '<0.100>',
      'BODY',
      { section: '', items: [] },
      'body',
      { section: '1.2.mime', items: ['1.2.mime'] },
      'RFC822.SIZE',
    ],
  ]);
  const top = parse('a UID FETCH 1:* BODY[TEXT]<5.10>');
  assert.deepEqual(show(top.args), ['1:*', 'BODY', { section: 'TEXT', items: ['TEXT'] }, '<5.10>']);
});

test('a header list with a literal inside a section', () => {
  const cmd = parse('a FETCH 1 BODY[HEADER.FIELDS ({7}\r\nSubject)]\r\n');
  const section = cmd.args[2];
  assert.equal(section.type, 'section');
  assert.deepEqual(show([section]), [{ section: 'HEADER.FIELDS (Subject)', items: ['HEADER.FIELDS', [{ lit: 'Subject' }]] }]);
});

test('FETCH section syntax errors', () => {
  bad('a FETCH 1 BODY[HEADER', /Missing "\]"/);
  bad('a FETCH 1 (BODY[HEADER)', /unexpected "\)"|Missing "\]"/);
  bad('a FETCH 1 BODY[]x', /Missing space/);
  bad('a FETCH 1 BODY[]<0.10', /Missing ">"/);
  bad('a FETCH 1 (BODY[](FLAGS))', /Missing space/);
});

test('garbage never throws anything but ProtocolError', () => {
  let seed = 12345;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const alphabet = Buffer.from('abcAB09     ()()[]<>{}"\\*%+.:,~\x00\x01\xff\xc3\xa9UIDFETCHBODYPEEKHEADER', 'latin1');
  let parsed = 0;
  for (let i = 0; i < 20000; i++) {
    const len = rand(40);
    const bytes = Buffer.alloc(len);
    for (let k = 0; k < len; k++) bytes[k] = alphabet[rand(alphabet.length)];
    const input = i % 2 === 0 ? Buffer.concat([Buffer.from(rand(2) ? 'a FETCH ' : 't X '), bytes]) : bytes;
    try {
      const cmd = parseCommand({ lines: [input], literals: [] });
      assert.equal(typeof cmd.tag, 'string');
      parsed++;
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw new Error(`non-protocol error for ${JSON.stringify(input.toString('latin1'))}: ${String(err)}`);
    }
  }
  assert.ok(parsed > 100, 'some garbage is valid syntax');
});

test('token helpers', () => {
  const cmd = parse('a X atom "quoted" {3}\r\nlit NIL 42 (1 2) 4294967296\r\n');
  const [atom, quoted, lit, nil, num, list, big] = cmd.args;
  assert.equal(astringValue(atom, 'x'), 'atom');
  assert.equal(astringValue(quoted, 'x'), 'quoted');
  assert.equal(astringValue(lit, 'x'), 'lit');
  assert.equal(astringValue(nil, 'x'), 'NIL');
  assert.equal(nstringValue(nil, 'x'), null);
  assert.equal(nstringValue(quoted, 'x'), 'quoted');
  assert.throws(() => nstringValue(atom, 'x'), ProtocolError);
  assert.equal(atomValue(atom, 'x'), 'atom');
  assert.throws(() => atomValue(quoted, 'x'), /Expected x, got a quoted string/);
  assert.equal(numberValue(num, 'n'), 42);
  assert.throws(() => numberValue(big, 'n'), ProtocolError);
  assert.throws(() => numberValue(atom, 'n'), ProtocolError);
  assert.equal(listItems(list, 'l').length, 2);
  assert.throws(() => listItems(atom, 'l'), /parenthesized list/);
  assert.throws(() => astringValue(list, 'mailbox name'), /Expected mailbox name, got a parenthesized list/);
  assert.throws(() => astringValue(undefined, 'mailbox name'), /got nothing/);
});

test('flags: system flags canonical, keywords checked, \\Recent refused', () => {
  const cmd = parse('a STORE 1 FLAGS (\\seen \\DELETED $Forwarded \\Seen foo)');
  assert.deepEqual(parseFlagList(cmd.args[2]), ['\\Seen', '\\Deleted', '$Forwarded', 'foo']);
  assert.deepEqual(parseFlagList(parse('a STORE 1 FLAGS \\Answered').args[2]), ['\\Answered']);
  assert.deepEqual(parseFlagList(parse('a STORE 1 FLAGS ()').args[2]), []);
  assert.throws(() => normalizeFlag('\\Recent'), /Recent/);
  assert.equal(normalizeFlag('\\recent', { allowRecent: true }), '\\Recent');
  assert.throws(() => normalizeFlag('\\Unknown'), /Invalid flag/);
  assert.throws(() => normalizeFlag('\\*'), /Invalid flag/);
  assert.throws(() => normalizeFlag('a]b'), /Invalid keyword/);
  assert.throws(() => parseFlagList(parse('a STORE 1 FLAGS ("quoted")').args[2]), /Expected a flag/);
  assert.throws(() => parseFlagList(parse('a STORE 1 FLAGS ((\\Seen))').args[2]), /Expected a flag/);
});
