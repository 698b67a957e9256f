import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import v8 from 'node:v8';
import vm from 'node:vm';
import { CommandReader, type CommandInput, type CommandReaderOptions, type LiteralRequest, type ReaderError } from '../../../server/imap/protocol/reader.js';
import { splitCommands } from '../../../server/imap/protocol/split-commands.js';

type Event =
  | { kind: 'command'; text: string; input: CommandInput }
  | { kind: 'error'; error: ReaderError }
  | { kind: 'raw'; line: string }
  | { kind: 'literal'; request: LiteralRequest };

/** The command as one string, literals in place, for easy comparison. */
function commandText(input: CommandInput): string {
  let out = '';
  input.lines.forEach((line, i) => {
    out += line.toString('latin1');
    if (i < input.literals.length) out += `\r\n${input.literals[i].toString('latin1')}`;
  });
  return out;
}

interface Harness {
  reader: CommandReader;
  events: Event[];
  commands(): string[];
}

function harness(options: Partial<CommandReaderOptions> & { autoResume?: boolean; decide?: (req: LiteralRequest) => boolean | Promise<boolean> } = {}): Harness {
  const events: Event[] = [];
  const autoResume = options.autoResume ?? true;
  const reader: CommandReader = new CommandReader({
    maxLineLength: 1000,
    maxLiteralSize: 10_000,
    ...options,
    onCommand(input) {
      events.push({ kind: 'command', text: commandText(input), input });
      if (autoResume) reader.resume();
    },
    onError(error) {
      events.push({ kind: 'error', error });
      if (autoResume) reader.resume();
    },
    onRawLine(line) {
      events.push({ kind: 'raw', line: line.toString('latin1') });
      if (autoResume) reader.resume();
    },
    onLiteral(request) {
      events.push({ kind: 'literal', request });
      return options.decide ? options.decide(request) : true;
    },
  });
  return {
    reader,
    events,
    commands: () => events.filter((e): e is Extract<Event, { kind: 'command' }> => e.kind === 'command').map((e) => e.text),
  };
}

const push = (r: CommandReader, s: string | Buffer): boolean => r.push(typeof s === 'string' ? Buffer.from(s, 'latin1') : s);

test('complete lines become commands; CRLF and bare LF both end a line', () => {
  const h = harness();
  push(h.reader, 'a NOOP\r\nb CAPABILITY\nc LOGOUT\r\n');
  assert.deepEqual(h.commands(), ['a NOOP', 'b CAPABILITY', 'c LOGOUT']);
  assert.equal(h.events[0].kind === 'command' && h.events[0].input.literals.length, 0);
});

test('input split into single bytes gives the same commands', () => {
  const data = 'a LOGIN {3}\r\nabc {5+}\r\nhe\r\no\r\nb SELECT "x y"\r\n';
  const whole = harness();
  push(whole.reader, data);
  const bytes = harness();
  for (const ch of data) push(bytes.reader, ch);
  assert.deepEqual(bytes.commands(), whole.commands());
  assert.deepEqual(whole.commands(), ['a LOGIN {3}\r\nabc {5+}\r\nhe\r\no', 'b SELECT "x y"']);
});

test('the reader pauses after each command until resume()', () => {
  const h = harness({ autoResume: false });
  push(h.reader, 'a NOOP\r\nb NOOP\r\nc NOOP\r\n');
  assert.deepEqual(h.commands(), ['a NOOP']);
  assert.equal(h.reader.isPaused, true);
  assert.equal(h.reader.bufferedBytes, 16);
  h.reader.resume();
  assert.deepEqual(h.commands(), ['a NOOP', 'b NOOP']);
  h.reader.resume();
  h.reader.resume();
  assert.deepEqual(h.commands(), ['a NOOP', 'b NOOP', 'c NOOP']);
  assert.equal(h.reader.bufferedBytes, 0);
});

test('a synchronizing literal asks the owner before any data is sent', () => {
  const h = harness();
  push(h.reader, 'A1 APPEND INBOX (\\Seen) {11}\r\n');
  assert.equal(h.events.length, 1);
  const ev = h.events[0];
  assert.equal(ev.kind, 'literal');
  assert.deepEqual(ev.kind === 'literal' && ev.request, { tag: 'A1', name: 'APPEND', size: 11, index: 0, binary: false });
  assert.equal(h.reader.inLiteral, true);
  push(h.reader, 'Hello');
  push(h.reader, ' world\r\n');
  assert.deepEqual(h.commands(), ['A1 APPEND INBOX (\\Seen) {11}\r\nHello world']);
  assert.equal(h.reader.inLiteral, false);
});

test('literal data is taken verbatim: CRLF, braces and 8-bit bytes inside are data', () => {
  const h = harness();
  const data = Buffer.from('x {3}\r\ny\r\n\xff\x00', 'latin1');
  push(h.reader, `a APPEND INBOX {${data.length}}\r\n`);
  push(h.reader, Buffer.concat([data, Buffer.from('\r\nb NOOP\r\n')]));
  const ev = h.events.find((e) => e.kind === 'command');
  assert.ok(ev && ev.kind === 'command');
  assert.deepEqual(ev.input.literals, [data]);
  assert.deepEqual(ev.input.lines.map((l) => l.toString()), [`a APPEND INBOX {${data.length}}`, '']);
  assert.deepEqual(h.commands()[1], 'b NOOP');
});

test('a refused synchronizing literal drops the command but not the next one', () => {
  const h = harness({ decide: (req) => req.size < 5 });
  push(h.reader, 'a APPEND INBOX {10}\r\n');
  assert.equal(h.reader.midCommand, false);
  // The client sends no data for a refused literal: the next bytes are a new command.
  push(h.reader, 'b NOOP\r\n');
  assert.deepEqual(h.commands(), ['b NOOP']);
  assert.equal(h.events.filter((e) => e.kind === 'error').length, 0);
});

test('the decision may be asynchronous (accept and refuse)', async () => {
  const h = harness({ decide: async (req) => req.size === 3 });
  push(h.reader, 'a LOGIN {3}\r\n');
  assert.equal(h.reader.midCommand, true);
  await new Promise((r) => setImmediate(r));
  push(h.reader, 'bob {2}\r\n');
  await new Promise((r) => setImmediate(r));
  push(h.reader, 'c NOOP\r\n');
  assert.deepEqual(h.commands(), ['c NOOP']);
  push(h.reader, 'd LOGIN {3}\r\nabc x\r\n'); // misbehaving client sends data before "+"
  assert.deepEqual(h.commands(), ['c NOOP']); // held until the decision
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(h.commands(), ['c NOOP', 'd LOGIN {3}\r\nabc x']);
});

test('non-synchronizing literals (LITERAL+) need no continuation', () => {
  const h = harness();
  push(h.reader, 'a LOGIN {5+}\r\nalice {6+}\r\nsecret\r\n');
  assert.deepEqual(h.commands(), ['a LOGIN {5+}\r\nalice {6+}\r\nsecret']);
  assert.equal(h.events.filter((e) => e.kind === 'literal').length, 0);
});

test('several literals in one command, mixed kinds, and zero-length literals', () => {
  const h = harness();
  push(h.reader, 'a LOGIN {0}\r\n {3+}\r\nabc\r\nb SEARCH SUBJECT {0+}\r\n\r\n');
  assert.deepEqual(h.commands(), ['a LOGIN {0}\r\n {3+}\r\nabc', 'b SEARCH SUBJECT {0+}\r\n']);
  const req = h.events.filter((e) => e.kind === 'literal');
  assert.equal(req.length, 1);
});

test('literal8 ~{n} is framed like a literal', () => {
  const h = harness();
  push(h.reader, 'a APPEND INBOX ~{2}\r\n\x00\x01\r\n');
  const ev = h.events.find((e) => e.kind === 'literal');
  assert.ok(ev && ev.kind === 'literal' && ev.request.binary);
  assert.deepEqual(h.commands(), ['a APPEND INBOX ~{2}\r\n\x00\x01']);
});

test('"{n}" that does not end the line is not a literal', () => {
  const h = harness();
  push(h.reader, 'a SEARCH SUBJECT "{5}" ALL\r\n');
  assert.deepEqual(h.commands(), ['a SEARCH SUBJECT "{5}" ALL']);
});

test('8-bit bytes and NUL in lines are passed on unchanged', () => {
  const h = harness();
  const line = Buffer.concat([Buffer.from('a SELECT "'), Buffer.from('Café', 'utf8'), Buffer.from('"\x00\r\n', 'latin1')]);
  h.reader.push(line);
  const ev = h.events[0];
  assert.ok(ev.kind === 'command');
  assert.deepEqual(ev.input.lines[0], line.subarray(0, line.length - 2));
});

test('an over-long line is reported with its tag and skipped up to its end', () => {
  const h = harness({ maxLineLength: 100 });
  push(h.reader, `t7 UID SEARCH ${'x'.repeat(200)}`);
  assert.equal(h.events.length, 0, 'nothing reported before the end of the line');
  push(h.reader, `${'y'.repeat(5000)}\r\nb NOOP\r\n`);
  assert.equal(h.events[0].kind, 'error');
  const err = h.events[0].kind === 'error' ? h.events[0].error : null;
  assert.equal(err?.code, 'line-too-long');
  assert.equal(err?.tag, 't7');
  assert.equal(err?.name, 'UID SEARCH');
  assert.deepEqual(h.commands(), ['b NOOP']);
});

test('a line of exactly maxLineLength octets is accepted', () => {
  const h = harness({ maxLineLength: 20 });
  push(h.reader, `a NOOP ${'x'.repeat(13)}\r\n`);
  assert.deepEqual(h.commands(), [`a NOOP ${'x'.repeat(13)}`]);
  push(h.reader, `a NOOP ${'x'.repeat(14)}\r\n`);
  assert.equal(h.events[1].kind, 'error');
});

test('the line limit counts all parts of a command, literals excluded', () => {
  const h = harness({ maxLineLength: 30 });
  push(h.reader, 'a LOGIN {3+}\r\nabc {3+}\r\ndef\r\n');
  assert.equal(h.commands().length, 1);
  push(h.reader, `b LOGIN {3+}\r\nabc ${'z'.repeat(20)} {3+}\r\ndef\r\nc NOOP\r\n`);
  assert.equal(h.events[1].kind, 'error');
  assert.deepEqual(h.commands().slice(1), ['c NOOP'], '"def" of the rejected command is not run');
});

test('an over-long line ending with a non-synchronizing literal: its data is swallowed', () => {
  const h = harness({ maxLineLength: 50 });
  const injected = 'x DELETE INBOX\r\n';
  push(h.reader, `a APPEND ${'n'.repeat(100)} {${injected.length}+}\r\n${injected}\r\nc NOOP\r\n`);
  assert.equal(h.events[0].kind, 'error');
  assert.deepEqual(h.commands(), ['c NOOP']);
});

test('an over-long line ending with a synchronizing literal ends the command (client waits)', () => {
  const h = harness({ maxLineLength: 50 });
  push(h.reader, `a APPEND ${'n'.repeat(100)} {5}\r\nb NOOP\r\n`);
  assert.equal(h.events[0].kind, 'error');
  assert.deepEqual(h.commands(), ['b NOOP']);
  assert.equal(h.events.filter((e) => e.kind === 'literal').length, 0);
});

test('a 100 MB synchronizing literal is refused at once, without asking and without data', () => {
  const h = harness({ maxLiteralSize: 10 * 1024 * 1024 });
  push(h.reader, 'A3 APPEND INBOX {104857600}\r\n');
  assert.equal(h.events.length, 1);
  const err = h.events[0].kind === 'error' ? h.events[0].error : null;
  assert.equal(err?.code, 'literal-too-big');
  assert.equal(err?.tag, 'A3');
  assert.equal(err?.name, 'APPEND');
  assert.equal(err?.literalSize, 104857600);
  assert.equal(err?.nonSync, false);
  assert.equal(h.reader.midCommand, false);
  assert.equal(h.reader.inLiteral, false);
  push(h.reader, 'A4 NOOP\r\n');
  assert.deepEqual(h.commands(), ['A4 NOOP']);
});

test('an absurd literal size is refused, not parsed into a wrong number', () => {
  const h = harness();
  push(h.reader, 'a APPEND INBOX {99999999999999999999999}\r\n');
  const err = h.events[0].kind === 'error' ? h.events[0].error : null;
  assert.equal(err?.code, 'literal-too-big');
});

function collectGarbage(): () => void {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  // Twice: one pass can leave freed backing stores to be released later.
  return () => {
    gc();
    gc();
  };
}

test('a 100 MB non-synchronizing literal over the limit is reported at once and swallowed without buffering', () => {
  const gc = collectGarbage();
  const h = harness({ maxLiteralSize: 1024 * 1024 });
  const size = 100 * 1024 * 1024;
  gc();
  const before = process.memoryUsage().arrayBuffers;
  push(h.reader, `big APPEND INBOX {${size}+}\r\n`);
  // Reported before any of the data (the owner may answer and close at once).
  assert.equal(h.events.length, 1);
  const err = h.events[0].kind === 'error' ? h.events[0].error : null;
  assert.equal(err?.code, 'literal-too-big');
  assert.equal(err?.nonSync, true);
  assert.equal(err?.tag, 'big');
  assert.equal(err?.literalSize, size);
  let peak = 0;
  const chunk = 1024 * 1024;
  for (let sent = 0; sent < size; sent += chunk) {
    h.reader.push(Buffer.alloc(chunk, 0x41)); // fresh buffers: kept ones would add up
    if (sent % (20 * chunk) === 0) {
      gc();
      peak = Math.max(peak, process.memoryUsage().arrayBuffers - before);
    }
    assert.equal(h.events.length, 1);
  }
  assert.equal(h.reader.inLiteral, false);
  push(h.reader, '\r\nnext NOOP\r\n');
  assert.ok(peak < 8 * 1024 * 1024, `memory grew by ${peak} bytes`);
  assert.deepEqual(h.commands(), ['next NOOP']);
});

test('an over-long line is discarded without buffering it', () => {
  const gc = collectGarbage();
  const h = harness({ maxLineLength: 64 * 1024 });
  gc();
  const before = process.memoryUsage().arrayBuffers;
  push(h.reader, 'a NOOP ');
  let peak = 0;
  for (let i = 0; i < 50; i++) {
    h.reader.push(Buffer.alloc(1024 * 1024, 0x61));
    gc();
    peak = Math.max(peak, process.memoryUsage().arrayBuffers - before);
  }
  push(h.reader, '\r\nb NOOP\r\n');
  assert.ok(peak < 8 * 1024 * 1024, `memory grew by ${peak} bytes`);
  assert.equal(h.events[0].kind, 'error');
  assert.deepEqual(h.commands(), ['b NOOP']);
});

test('a too-big non-synchronizing literal swallows the rest of its command, literals included', () => {
  const h = harness({ maxLiteralSize: 100 });
  const big = 'X'.repeat(500);
  push(h.reader, `a APPEND INBOX {500+}\r\n${big} INBOX {14+}\r\nz DELETE INBOX\r\nb NOOP\r\n`);
  assert.equal(h.events[0].kind, 'error');
  assert.deepEqual(h.commands(), ['b NOOP']);
});

test('a later literal over the limit spoils the whole command', () => {
  const h = harness({ maxLiteralSize: 100 });
  push(h.reader, `a APPEND INBOX {3+}\r\nabc {500+}\r\n${'Y'.repeat(500)}\r\nb NOOP\r\n`);
  assert.equal(h.events[0].kind, 'error');
  assert.deepEqual(h.commands(), ['b NOOP']);
});

test('the whole command size is limited (maxCommandSize)', () => {
  const h = harness({ maxLiteralSize: 100, maxCommandSize: 150 });
  push(h.reader, `a LOGIN {90}\r\n`);
  assert.equal(h.events[0].kind, 'literal');
  push(h.reader, `${'a'.repeat(90)} {90}\r\n`);
  const err = h.events[1].kind === 'error' ? h.events[1].error : null;
  assert.equal(err?.code, 'literal-too-big');
  assert.equal(err?.message, 'Command too big');
  push(h.reader, 'b NOOP\r\n');
  assert.deepEqual(h.commands(), ['b NOOP']);
});

test('a literal announced and never sent leaves the reader waiting; discardBuffered resets it', () => {
  const h = harness();
  push(h.reader, 'a LOGIN {5}\r\nab');
  assert.equal(h.reader.inLiteral, true);
  assert.equal(h.reader.midCommand, true);
  assert.equal(h.commands().length, 0);
  h.reader.discardBuffered();
  assert.equal(h.reader.inLiteral, false);
  assert.equal(h.reader.midCommand, false);
  push(h.reader, 'b NOOP\r\n');
  assert.deepEqual(h.commands(), ['b NOOP']);
});

test('raw line mode: the next line is delivered as-is (IDLE DONE, SASL data)', () => {
  const h = harness({ autoResume: false });
  push(h.reader, 'a IDLE\r\n');
  assert.deepEqual(h.commands(), ['a IDLE']);
  h.reader.readRawLine();
  push(h.reader, 'DONE {5}\r\nb NOOP\r\n'); // no literal processing in a raw line
  assert.deepEqual(h.events[1], { kind: 'raw', line: 'DONE {5}' });
  assert.equal(h.events.filter((e) => e.kind === 'literal').length, 0);
  h.reader.resume();
  assert.deepEqual(h.commands(), ['a IDLE', 'b NOOP']);
});

test('an over-long raw line is an error marked raw, and is skipped', () => {
  const h = harness({ autoResume: false, maxLineLength: 20 });
  h.reader.readRawLine();
  push(h.reader, `${'Q'.repeat(40)} {5+}\r\nc NOOP\r\n`);
  const err = h.events[0].kind === 'error' ? h.events[0].error : null;
  assert.equal(err?.raw, true);
  assert.equal(err?.tag, null);
  h.reader.resume();
  assert.deepEqual(h.commands(), ['c NOOP'], 'raw lines never announce literals');
});

test('discardBuffered drops plaintext pipelined after STARTTLS', () => {
  const h = harness({ autoResume: false });
  push(h.reader, 'a STARTTLS\r\nb LOGIN alice secret\r\nc LOGIN {3}\r\n');
  assert.deepEqual(h.commands(), ['a STARTTLS']);
  h.reader.discardBuffered();
  assert.equal(h.reader.bufferedBytes, 0);
  h.reader.resume();
  assert.deepEqual(h.commands(), ['a STARTTLS']);
  push(h.reader, 'd NOOP\r\n');
  assert.deepEqual(h.commands(), ['a STARTTLS', 'd NOOP']);
});

test('resume() inside the callback keeps order (re-entrancy)', () => {
  const seen: string[] = [];
  const reader: CommandReader = new CommandReader({
    maxLineLength: 100,
    maxLiteralSize: 100,
    onCommand(input) {
      seen.push(`start ${input.lines[0]}`);
      reader.resume();
      seen.push(`end ${input.lines[0]}`);
    },
    onError: () => assert.fail('no error expected'),
    onLiteral: () => true,
  });
  reader.push(Buffer.from('a X\r\nb Y\r\n'));
  assert.deepEqual(seen, ['start a X', 'end a X', 'start b Y', 'end b Y']);
});

test('push() reports back-pressure while paused and onDrain fires after resume', () => {
  let drains = 0;
  const got: string[] = [];
  const reader: CommandReader = new CommandReader({
    maxLineLength: 100,
    maxLiteralSize: 100,
    highWaterMark: 50,
    onCommand: (input) => got.push(input.lines[0].toString()),
    onError: () => assert.fail('no error expected'),
    onLiteral: () => true,
    onDrain: () => drains++,
  });
  assert.equal(reader.push(Buffer.from('a NOOP\r\n')), true);
  let ok = true;
  for (let i = 0; i < 10 && ok; i++) ok = reader.push(Buffer.from(`b${i} NOOP\r\n`));
  assert.equal(ok, false);
  assert.equal(drains, 0);
  while (reader.bufferedBytes > 0) reader.resume();
  assert.equal(drains, 1);
  assert.equal(got.length, 1 + 6);
});

test('attach() reads a stream and pauses it under back-pressure', async () => {
  const input = new PassThrough();
  const got: string[] = [];
  const reader: CommandReader = new CommandReader({
    maxLineLength: 100,
    maxLiteralSize: 100,
    highWaterMark: 20,
    onCommand: (cmd) => got.push(cmd.lines[0].toString()),
    onError: () => assert.fail('no error expected'),
    onLiteral: () => true,
  });
  const detach = reader.attach(input);
  for (let i = 0; i < 20; i++) input.write(`t${i} NOOP\r\n`);
  await new Promise((r) => setImmediate(r));
  assert.equal(got.length, 1);
  assert.equal(input.isPaused(), true);
  for (let i = 0; i < 40 && got.length < 20; i++) {
    reader.resume();
    await new Promise((r) => setImmediate(r));
  }
  assert.equal(got.length, 20);
  assert.equal(got[19], 't19 NOOP');
  detach();
  input.write('late NOOP\r\n');
  reader.resume();
  await new Promise((r) => setImmediate(r));
  assert.equal(got.length, 20);
});

test('empty lines are delivered as empty commands (the session answers BAD)', () => {
  const h = harness();
  push(h.reader, '\r\n\r\na NOOP\r\n');
  assert.deepEqual(h.commands(), ['', '', 'a NOOP']);
});

test('splitCommands splits a byte string and refuses nothing', () => {
  const cmds = splitCommands(Buffer.from('a LOGIN {1}\r\nx {1+}\r\ny\r\nb NOOP\r\n'));
  assert.equal(cmds.length, 2);
  assert.deepEqual(cmds[0].literals.map(String), ['x', 'y']);
});

test('a literal accepted with a sink goes to it piece by piece, waiting for slow writes', async () => {
  const got: Buffer[] = [];
  let release: (() => void) | null = null;
  const h = harness({
    decide: () => true,
  });
  // Replace the decision with a sink whose first write is slow.
  const sinkReader = new CommandReader({
    maxLineLength: 1000,
    maxLiteralSize: 10_000,
    onCommand(input) {
      h.events.push({ kind: 'command', text: input.lines.map((l) => l.toString('latin1')).join('|'), input });
      sinkReader.resume();
    },
    onError: () => assert.fail('no error expected'),
    onLiteral: () => ({
      write(chunk: Buffer) {
        got.push(Buffer.from(chunk));
        if (got.length === 1) return new Promise<void>((resolve) => (release = resolve));
      },
    }),
  });
  push(sinkReader, 'a APPEND INBOX {10}\r\n01234');
  assert.deepEqual(sinkReader.progress?.kind, 'literal');
  assert.equal(sinkReader.progress?.size, 10);
  push(sinkReader, '56789 rest\r\nb NOOP\r\n');
  assert.equal(got.length, 1, 'the second piece waits for the first write');
  (release as (() => void) | null)?.();
  await new Promise((r) => setImmediate(r));
  assert.equal(Buffer.concat(got).toString(), '0123456789');
  const commands = h.events.filter((e) => e.kind === 'command');
  assert.equal(commands.length, 2);
  const first = commands[0].kind === 'command' ? commands[0].input : null;
  assert.deepEqual(first?.literals.map((l) => l.length), [0]);
  assert.equal(first?.lines[1].toString(), ' rest');
  assert.equal(sinkReader.progress, null);
});
