// The fuzzer's own checks, against a small real server that misbehaves on request: a
// harness that cannot see a stall, a dropped connection or an internal error finds nothing.

import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { Driver } from '../../fuzz/driver.js';
import { ddmin, splitCommands } from '../../fuzz/minimize.js';
import { ServerOutput, connectSocket, socketChannel } from '../../fuzz/wire.js';

let server: net.Server;
let port = 0;

/** Answers "tag OK" to each line; STALL: nothing; DROP: closes without BYE; BUG: NO [SERVERBUG];
 * a line ending in {n} gets "+" and its n bytes are skipped ({n+}: skipped without "+");
 * IDLE waits for one raw line. */
const sockets = new Set<net.Socket>();
before(async () => {
  server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let buffer = '';
    let skip = 0;
    let idleTag: string | null = null;
    socket.write('* OK test server\r\n');
    socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('latin1');
      for (;;) {
        if (skip > 0) {
          const n = Math.min(skip, buffer.length);
          buffer = buffer.slice(n);
          skip -= n;
          if (skip > 0) return;
        }
        const lf = buffer.indexOf('\n');
        if (lf === -1) return;
        const line = buffer.slice(0, lf).replace(/\r$/, '');
        buffer = buffer.slice(lf + 1);
        if (idleTag !== null) {
          socket.write(`${idleTag} OK done\r\n`);
          idleTag = null;
          continue;
        }
        const literal = /\{(\d+)(\+?)\}$/.exec(line);
        if (literal) {
          skip = Number(literal[1]);
          if (!literal[2]) socket.write('+ go\r\n');
          continue;
        }
        const [tag, word] = line.split(' ');
        if (word === 'STALL') continue;
        if (word === 'DROP') socket.destroy();
        else if (word === 'BUG') socket.write(`${tag} NO [SERVERBUG] Internal error\r\n`);
        else if (word === 'IDLE') {
          idleTag = tag;
          socket.write('+ idling\r\n');
        } else if (word === 'LOGOUT') socket.end(`* BYE bye\r\n${tag} OK\r\n`);
        else socket.write(`* 1 FETCH (BODY[] {13}\r\nz OK forged\r\n)\r\n${tag} OK\r\n`);
      }
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as net.AddressInfo).port;
});
after(() => {
  for (const s of sockets) s.destroy();
  server.close();
});

async function driver(): Promise<Driver> {
  const socket = await connectSocket(port, false, Date.now() + 5000);
  assert.ok(socket);
  const channel = socketChannel(socket);
  assert.notEqual(await channel.output.next(Date.now() + 5000), 'timeout');
  return new Driver(channel, { deadlineMs: 300, loginDeadlineMs: 300 });
}

const b = (s: string) => Buffer.from(s, 'latin1');

test('answers, literals, IDLE and a literal that looks like a tagged line keep the driver in step', async () => {
  const d = await driver();
  const outcome = await d.run([b('a NOOP\r\nb LOGIN {3}\r\nabc\r\nc IDLE\r\nDONE\r\nd NOOP\r\n'), b('e NO'), b('OP')]);
  assert.deepEqual(outcome, { status: 'ok' });
  assert.equal(d.commandsAnswered, 7); // a, "+", b, "+ idling", DONE, d, e (completed by the driver)
  assert.deepEqual(await d.run([b('f LOGOUT\r\n')]), { status: 'closed' });
});

test('a command goes out in one write up to where the driver must wait (for "+" or the answer)', async () => {
  // It wrote every piece between literals by itself: 4,449 writes for a SEARCH of 2,224
  // "TEXT {1+} x" keys, each deflated and sync-flushed on its own after COMPRESS (150-580 ms of
  // the driver's CPU, counted against the server's deadline), and split by Nagle's algorithm.
  const d = await driver();
  const writes: string[] = [];
  const write = d.channel.write;
  d.channel.write = (data) => {
    writes.push(data.toString('latin1'));
    write(data);
  };
  const search = `a SEARCH ${'TEXT {1+}\r\nx '.repeat(3)}ALL\r\n`;
  assert.deepEqual(await d.run([b(`${search}b LOGIN {3}\r\nabc x\r\n`)]), { status: 'ok' });
  assert.deepEqual(writes, [search, 'b LOGIN {3}\r\n', 'abc x\r\n']);
  // A case cut inside a line or a literal: the driver's completion goes with it.
  writes.length = 0;
  assert.deepEqual(await d.run([b('c X {2+}\r\nq'), b(' NO')]), { status: 'ok' });
  assert.deepEqual(writes, ['c X {2+}\r\nq NO\r\n']);
  d.channel.destroy();
});

test('a command left unanswered is a stall, a connection closed without BYE is dropped, SERVERBUG is reported', async () => {
  const stalled = await driver();
  const s = await stalled.run([b('a NOOP\r\nb STALL\r\n')]);
  assert.equal(s.status === 'problem' && s.problem.kind, 'stall');
  stalled.channel.destroy();
  const dropped = await driver();
  const dr = await dropped.run([b('a DROP\r\n')]);
  assert.equal(dr.status === 'problem' && dr.problem.kind, 'dropped');
  const bug = await driver();
  const bg = await bug.run([b('a BUG\r\n')]);
  assert.equal(bg.status === 'problem' && bg.problem.kind, 'serverbug');
  bug.channel.destroy();
});

test('a case that ends in a literal announcement without CRLF: the driver completes the literal too', async () => {
  const d = await driver();
  // The driver sends CRLF, which makes "{3+}" a literal; it must send 3 bytes before waiting.
  assert.deepEqual(await d.run([b('a X {3+}')]), { status: 'ok' });
  assert.deepEqual(await d.run([b('b NOOP\r\n')]), { status: 'ok' });
  d.channel.destroy();
});

test('server output: a literal in a response is not read as lines', async () => {
  const out = new ServerOutput();
  out.push(b('* 1 FETCH (BODY[] {13}\r\nz OK forged\r\n)\r\n* BAD x\r\na OK done\r\n'));
  const deadline = Date.now() + 100;
  assert.deepEqual(await out.nextTerminating(deadline), { kind: 'bad', text: '* BAD x', status: 'BAD' });
  assert.deepEqual(await out.nextTerminating(deadline), { kind: 'tagged', text: 'a OK done', status: 'OK' });
  assert.equal(await out.nextTerminating(deadline), 'timeout');
});

test('commands are split at line ends outside literals; ddmin keeps what fails', async () => {
  const parts = splitCommands(b('a LOGIN {3}\r\nabc x\r\nb NOOP\r\nc part'));
  assert.deepEqual(parts.map((p) => p.toString('latin1')), ['a LOGIN {3}\r\nabc x\r\n', 'b NOOP\r\n', 'c part']);
  const units = Array.from({ length: 40 }, (_, i) => i);
  const fails = async (xs: number[]) => xs.includes(7) && xs.includes(31);
  assert.deepEqual(await ddmin(units, fails, Date.now() + 10_000), [7, 31]);
});

test('server output: after the OK to COMPRESS (whatever the length of its tag) the rest is inflated', async () => {
  const { deflateRawSync, constants } = await import('node:zlib');
  const tag = `t${'&AOk-'.repeat(200)}`;
  const out = new ServerOutput();
  out.expectCompress(tag);
  const compressed = deflateRawSync(b('* BAD inflated\r\nz OK done\r\n'), { finishFlush: constants.Z_SYNC_FLUSH });
  out.push(Buffer.concat([b(`${tag} OK Begin compression.\r\n`), compressed]));
  const deadline = Date.now() + 1000;
  assert.equal((await out.nextTerminating(deadline) as { status: string }).status, 'OK');
  assert.ok(out.compressed);
  assert.deepEqual(await out.nextTerminating(deadline), { kind: 'bad', text: '* BAD inflated', status: 'BAD' });
  assert.deepEqual(await out.nextTerminating(deadline), { kind: 'tagged', text: 'z OK done', status: 'OK' });
});
