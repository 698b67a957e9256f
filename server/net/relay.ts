// The relay of a proxied session (IMAP_PROXY, server/net/proxy.ts): after the login, bytes go
// from the client to the other server and back unchanged until either side closes, as
// Courier's proxyloop does. Each direction holds at most what the destination stream
// buffers (a chunk is read only when the previous one has been taken: pause on a full
// write, resume on 'drain'), so a client that does not read, or a server that does not,
// holds no more memory than its socket buffers.
//
// The client keeps the deadlines it had with the session (server/imap/session.ts): each
// command line must arrive within `literal` ms of its first byte and each literal within
// `literal` ms plus its size at 64 KiB/s, and `authenticated` ms without input end the
// connection. To know where lines and literals are, both directions are followed by a small
// framing tracker (lines end with LF; a line ending in "{n}", "{n+}" or "~{n}" is followed
// by n octets); it keeps the last 24 octets of a line, nothing more. The tracker of the
// server's output tells whether "* BYE" may be written (between two responses) when the
// relay is stopped; in the middle of a response the connection is closed without one.

import type { Readable, Writable } from 'node:stream';
import type { RelayClient, RelayHandle } from '../imap/contracts.js';

/** As in the session (server/imap/session.ts): the least rate a literal must arrive at. */
const LITERAL_MIN_RATE = 64 * 1024;
const MAX_TIMER_MS = 2 ** 31 - 1;
/** Sockets not closed by their peer this long after the relay ended are destroyed. */
const CLOSE_LINGER_MS = 5_000;
/** Enough for "~{" + 20 digits + "+}\r". */
const TAIL = 26;

export type FramingPart = { kind: 'line' | 'literal'; since: number; size: number };

/** Where an IMAP byte stream is: between lines, in a line, or in a literal. */
export class ImapFraming {
  private mode: 'between' | 'line' | 'literal' = 'between';
  private tail = '';
  private remaining = 0;
  private since = 0;
  private size = 0;

  /** The part being received, or null between lines. */
  get part(): FramingPart | null {
    return this.mode === 'between' ? null : { kind: this.mode, since: this.since, size: this.size };
  }

  observe(chunk: Buffer, now = Date.now()): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.mode === 'literal') {
        const take = Math.min(this.remaining, chunk.length - i);
        this.remaining -= take;
        i += take;
        if (this.remaining === 0) this.startLine(now);
        continue;
      }
      if (this.mode === 'between') this.startLine(now);
      const lf = chunk.indexOf(0x0a, i);
      const end = lf < 0 ? chunk.length : lf;
      this.tail = (this.tail + chunk.toString('latin1', Math.max(i, end - TAIL), end)).slice(-TAIL);
      if (lf < 0) break;
      i = lf + 1;
      const literal = literalAtEnd(this.tail);
      if (literal === null) {
        this.mode = 'between';
      } else if (literal > 0) {
        this.mode = 'literal';
        this.remaining = literal;
        this.size = literal;
        this.since = now;
      } else {
        this.startLine(now);
      }
    }
  }

  private startLine(now: number): void {
    this.mode = 'line';
    this.tail = '';
    this.since = now;
    this.size = 0;
  }
}

/** n when a line (without its LF) ends with "{n}", "{n+}" or "{n-}" and an optional CR; else null. */
export function literalAtEnd(line: string): number | null {
  let end = line.length;
  if (end > 0 && line.charCodeAt(end - 1) === 0x0d) end--;
  if (end < 3 || line[end - 1] !== '}') return null;
  end--;
  if (line[end - 1] === '+' || line[end - 1] === '-') end--;
  let start = end;
  while (start > 0 && line.charCodeAt(start - 1) >= 0x30 && line.charCodeAt(start - 1) <= 0x39) start--;
  if (start === end || start === 0 || line[start - 1] !== '{' || end - start > 20) return null;
  const n = Number(line.slice(start, end));
  return Number.isSafeInteger(n) ? n : Number.MAX_SAFE_INTEGER;
}

export interface RelayServer {
  input: Readable;
  output: Writable;
  /** What the server sent after its login answer, before the relay began (to go to the client first). */
  pending: Buffer;
  /** Destroy the server's connection. */
  destroy(): void;
}

/** Relay between a client and a server until either side closes; see the top of this file. */
export function startRelay(client: RelayClient, server: RelayServer, log?: (message: string, fields: Record<string, string | number>) => void): RelayHandle {
  const fromClient = new ImapFraming();
  const toClient = new ImapFraming();
  const bytes = { in: 0, out: 0 };
  let lastInput = Date.now();
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  const detach: (() => void)[] = [];
  const closing = { client: false, server: false };

  const pump = (from: Readable, to: Writable, framing: ImapFraming, count: (n: number) => void): void => {
    let waiting = false;
    const onDrain = (): void => {
      waiting = false;
      if (!stopped) from.resume();
    };
    const onData = (chunk: Buffer): void => {
      framing.observe(chunk);
      count(chunk.length);
      if (!to.write(chunk) && !waiting) {
        waiting = true;
        from.pause();
        to.once('drain', onDrain);
      }
    };
    from.on('data', onData);
    detach.push(() => {
      from.off('data', onData);
      to.off('drain', onDrain);
    });
  };

  const deadline = (): { at: number; reason: string } => {
    let at = lastInput + client.timeouts.authenticated;
    let reason = 'Disconnected for inactivity.';
    const part = fromClient.part;
    if (part) {
      const end = part.since + client.timeouts.literal + (part.kind === 'literal' ? (part.size / LITERAL_MIN_RATE) * 1000 : 0);
      if (end < at) {
        at = end;
        reason = part.kind === 'literal' ? 'Literal data too slow.' : 'Command line too slow.';
      }
    }
    return { at, reason };
  };
  const refreshDeadline = (): void => {
    if (stopped) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      const { at, reason } = deadline();
      if (Date.now() >= at) {
        log?.('relay deadline passed', { reason });
        stop(reason);
      } else refreshDeadline();
    }, Math.min(MAX_TIMER_MS, Math.max(0, deadline().at - Date.now())));
    timer.unref?.();
  };

  const finished = (): void => {
    if (closing.client && closing.server) resolveDone();
  };
  const whenGone = (stream: Readable | Writable, side: 'client' | 'server'): void => {
    const gone = (): void => {
      closing[side] = true;
      finished();
    };
    if (stream.destroyed) gone();
    else stream.once('close', gone);
  };

  function stop(reason: string | null): void {
    if (stopped) return;
    stopped = true;
    if (timer) clearTimeout(timer);
    for (const d of detach) d();
    // Nothing more is read from either side; a BYE only where it cannot cut a response in two.
    if (reason && toClient.part === null && !client.output.writableEnded) client.output.write(Buffer.from(`* BYE ${reason}\r\n`));
    if (!client.output.writableEnded) client.output.end();
    if (!server.output.writableEnded) server.output.end();
    client.input.resume(); // read and drop until the client closes
    server.input.resume();
    setTimeout(() => {
      (client.output as Writable & { destroy(): void }).destroy();
      server.destroy();
      closing.client = closing.server = true;
      finished();
    }, CLOSE_LINGER_MS).unref();
  }

  // Either side ending its output ends the relay (as Courier's proxyloop), after what it sent has gone on.
  const onClientEnd = (): void => stop(null);
  const onServerEnd = (): void => {
    // The server's last words (BYE, LOGOUT's OK) are already written to the client.
    stop(null);
  };
  const onError = (): void => {
    stop(null);
    (client.output as Writable & { destroy(): void }).destroy();
    server.destroy();
  };
  client.input.on('end', onClientEnd);
  client.input.on('error', onError);
  client.input.on('close', onClientEnd);
  server.input.on('end', onServerEnd);
  server.input.on('error', onError);
  server.input.on('close', onServerEnd);
  whenGone(client.output, 'client');
  whenGone(server.input, 'server');

  if (server.pending.length) {
    toClient.observe(server.pending);
    bytes.out += server.pending.length;
    client.output.write(server.pending);
  }
  if (client.pending.length) {
    fromClient.observe(client.pending);
    bytes.in += client.pending.length;
    server.output.write(client.pending);
  }
  pump(server.input, client.output, toClient, (n) => (bytes.out += n));
  pump(client.input, server.output, fromClient, (n) => {
    bytes.in += n;
    lastInput = Date.now();
    refreshDeadline();
  });
  client.input.resume();
  server.input.resume();
  refreshDeadline();
  return { done, stop, bytes };
}
