// Sends a case's bytes the way a client would (waiting for "+" before a synchronizing
// literal, for the answer after every complete command) and checks the answers: every
// complete command line gets a tagged reply, a continuation or BYE within the deadline.
// What goes out before the driver waits is one write, as a client sends a command: a write per
// piece between non-synchronizing literals cost 4,449 writes for a SEARCH of 2,224 of them, each
// deflated and sync-flushed by itself after COMPRESS (a thread-pool job each, 150-580 ms of the
// driver's CPU counted against the server's deadline) and held back by Nagle's algorithm.

import { TRACE, announcement, type Channel } from './wire.js';

export type FindingKind = 'exit' | 'dropped' | 'stall' | 'serverbug' | 'rss' | 'no-greeting' | 'protocol' | 'stray';

export interface Problem {
  kind: FindingKind;
  detail: string;
}

export interface DriverOptions {
  /** Milliseconds a command may take to be answered. */
  deadlineMs: number;
  /** Longer deadline for LOGIN and AUTHENTICATE (the failure delay is deliberate). */
  loginDeadlineMs: number;
}

/** Literal data up to this size is made up when a case ends inside a literal. */
const PAD_LIMIT = 1 << 20;
const LOGIN_LINE = /^[^ ]* (LOGIN|AUTHENTICATE)\b/i;
const STARTTLS_LINE = /^[^ ]+ STARTTLS\r?\n$/i;
const COMPRESS_LINE = /^([^ \r\n]+) COMPRESS DEFLATE\r?\n$/i;
/** A tagged reply is "tag OK", "tag NO" or "tag BAD" (RFC 3501 section 7.1), nothing else. */
const TAGGED_STATUS = /^(OK|NO|BAD)$/i;
/**
 * A case line "\0RAW <hex>" is not sent as it is: its bytes go straight to the transport, past
 * COMPRESS's deflater (garbage in a compressed stream), and then the client ends its input.
 */
export const RAW_PREFIX = '\0RAW ';

export function rawLine(data: Buffer): string {
  return `${RAW_PREFIX}${data.toString('hex')}\r\n`;
}

export type CaseOutcome =
  | { status: 'ok' }
  /** The server said BYE and closed (LOGOUT, or a BYE with a reason): start a new session. */
  | { status: 'closed' }
  /** The case left the connection where it cannot be resumed (a huge literal announced). */
  | { status: 'abandoned' }
  | { status: 'problem'; problem: Problem };

function show(line: Buffer): string {
  const text = line.toString('latin1', 0, Math.min(line.length, 120)).replace(/\r?\n$/, '');
  return JSON.stringify(text) + (line.length > 120 ? `... (${line.length} bytes)` : '');
}

/** One client session's state between cases. */
export class Driver {
  private literalLeft = 0;
  private rawNext = false;
  private rawIsLogin = false;
  private lineStart: Buffer | null = null; // first line of the command being sent
  private midLine = false;
  private partial: Buffer = Buffer.alloc(0);
  /** Bytes to send, written at once before the driver waits (or the case ends). */
  private pending: Buffer[] = [];
  commandsAnswered = 0;

  constructor(
    readonly channel: Channel,
    private readonly opts: DriverOptions,
  ) {}

  private write(data: Buffer, raw = false): void {
    if (!raw) {
      this.pending.push(data);
      return;
    }
    this.flush();
    this.trace(data, true);
    this.channel.writeRaw(data);
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    const data = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending);
    this.pending = [];
    this.trace(data, false);
    this.channel.write(data);
  }

  private trace(data: Buffer, raw: boolean): void {
    if (TRACE) process.stderr.write(`C${raw ? ' (raw)' : ''}: ${JSON.stringify(data.toString('latin1', 0, 200))}${data.length > 200 ? ` (${data.length} bytes)` : ''}\n`);
  }

  /** Wait for the answer to a complete client line. */
  private async answer(line: Buffer, raw: boolean): Promise<CaseOutcome | 'continue' | 'plus'> {
    this.flush();
    const first = this.lineStart ?? line;
    this.lineStart = null;
    const isLogin = raw ? this.rawIsLogin : LOGIN_LINE.test(first.toString('latin1', 0, 40));
    const wait = isLogin ? this.opts.loginDeadlineMs : this.opts.deadlineMs;
    const compress = raw ? null : COMPRESS_LINE.exec(first.toString('latin1'));
    if (compress) this.channel.output.expectCompress(compress[1]);
    const r = await this.channel.output.nextTerminating(Date.now() + wait);
    const out = this.channel.output;
    if (out.serverBug) return { status: 'problem', problem: { kind: 'serverbug', detail: `${out.serverBug} after ${show(first)}` } };
    if (r === 'timeout') {
      return { status: 'problem', problem: { kind: 'stall', detail: `no answer within ${wait} ms to ${show(first)}` } };
    }
    if (r === null) {
      if (out.byeSeen) return { status: 'closed' };
      return { status: 'problem', problem: { kind: 'dropped', detail: `connection closed without BYE after ${show(first)}` } };
    }
    this.commandsAnswered++;
    if (r.kind === 'bye') return { status: 'closed' };
    if (r.kind === 'tagged' && !TAGGED_STATUS.test(r.status)) {
      return { status: 'problem', problem: { kind: 'protocol', detail: `tagged reply ${JSON.stringify(r.text.slice(0, 80))} is not OK/NO/BAD, after ${show(first)}` } };
    }
    if (compress && r.kind === 'tagged' && this.channel.output.compressed) this.channel.compress();
    if (r.kind === 'continuation') {
      // AUTHENTICATE's response line may meet the failure delay; IDLE's DONE may not.
      this.rawIsLogin = isLogin;
      return 'plus';
    }
    if (r.kind === 'tagged' && this.channel.startTls && STARTTLS_LINE.test(first.toString('latin1')) && / OK\b/i.test(r.text)) {
      const ok = await this.channel.startTls(Date.now() + this.opts.deadlineMs);
      if (!ok) return { status: 'problem', problem: { kind: 'stall', detail: 'TLS handshake after STARTTLS did not finish' } };
    }
    return 'continue';
  }

  /** Send one case. */
  async run(chunks: Buffer[]): Promise<CaseOutcome> {
    try {
      return await this.send(chunks);
    } finally {
      this.flush();
    }
  }

  private async send(chunks: Buffer[]): Promise<CaseOutcome> {
    const data = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
    let pos = 0;
    const send = (b: Buffer) => this.write(b);
    while (pos < data.length) {
      if (this.channel.output.closed) break;
      if (this.literalLeft > 0) {
        const n = Math.min(this.literalLeft, data.length - pos);
        send(data.subarray(pos, pos + n));
        pos += n;
        this.literalLeft -= n;
        continue;
      }
      const lf = data.indexOf(0x0a, pos);
      if (lf === -1) {
        const rest = data.subarray(pos);
        if (!this.midLine && !this.rawNext) this.lineStart = rest;
        send(rest);
        this.keepPartial(rest);
        this.midLine = true;
        pos = data.length;
        break;
      }
      const line = data.subarray(pos, lf + 1);
      pos = lf + 1;
      if (!this.midLine && !this.rawNext && line.toString('latin1', 0, RAW_PREFIX.length) === RAW_PREFIX) return this.sendRaw(line);
      const outcome = await this.sendLine(line);
      if (outcome !== 'continue') return outcome;
    }
    return this.finishCase();
  }

  /** Garbage past the deflater: the server may close at once; else the client ends its input and it must close. */
  private async sendRaw(line: Buffer): Promise<CaseOutcome> {
    const hex = line.toString('latin1', RAW_PREFIX.length).trim();
    this.write(Buffer.from(hex, 'hex'), true);
    if (await this.closed(this.opts.deadlineMs)) return { status: 'closed' };
    this.channel.end();
    if (await this.closed(this.opts.deadlineMs * 2)) return { status: 'closed' };
    return { status: 'problem', problem: { kind: 'stall', detail: 'the server did not close after garbage and the end of its input' } };
  }

  /** The end of the line sent so far: a literal announcement may span two sends. */
  private keepPartial(piece: Buffer): void {
    const joined = this.partial.length ? Buffer.concat([this.partial, piece]) : piece;
    this.partial = joined.subarray(Math.max(0, joined.length - 64));
  }

  /** Send a line (or the end of one) and deal with its answer. */
  private async sendLine(piece: Buffer): Promise<CaseOutcome | 'continue'> {
    if (!this.midLine && !this.rawNext && this.lineStart === null) this.lineStart = piece;
    this.midLine = false;
    this.write(piece);
    const line = this.partial.length ? Buffer.concat([this.partial, piece]) : piece;
    this.partial = Buffer.alloc(0);
    if (this.rawNext) {
      this.rawNext = false;
      const r = await this.answer(line, true);
      if (r === 'plus') this.rawNext = true;
      return r === 'plus' ? 'continue' : r;
    }
    const ann = announcement(line);
    if (ann === null) {
      const r = await this.answer(line, false);
      if (r === 'plus') this.rawNext = true;
      return r === 'plus' ? 'continue' : r;
    }
    if (ann.nonSync) {
      this.literalLeft = ann.size;
      return 'continue';
    }
    // Synchronizing literal: "+" (send it) or a tagged refusal (the command is over).
    const first = this.lineStart;
    const r = await this.answer(line, false);
    if (r === 'plus') {
      this.literalLeft = ann.size;
      this.lineStart = first;
      return 'continue';
    }
    return r;
  }

  /** Complete a command the case left unfinished, so that the next case starts clean. */
  private async finishCase(): Promise<CaseOutcome> {
    if (this.channel.output.closed) {
      if (this.channel.output.byeSeen) return { status: 'closed' };
      return { status: 'problem', problem: { kind: 'dropped', detail: 'connection closed without BYE' } };
    }
    if (this.literalLeft > PAD_LIMIT) return { status: 'abandoned' };
    if (this.literalLeft > 0) {
      this.write(Buffer.alloc(this.literalLeft, 0x78));
      this.literalLeft = 0;
      this.midLine = true;
    }
    if (this.midLine) {
      const r = await this.sendLine(Buffer.from('\r\n'));
      if (r !== 'continue') return r;
      if (this.literalLeft > 0) return this.finishCase();
    }
    return { status: 'ok' };
  }

  /** Wait for the server to close after BYE (or after the client ended its input). */
  async closed(deadlineMs: number): Promise<boolean> {
    const deadline = Date.now() + deadlineMs;
    for (;;) {
      const r = await this.channel.output.nextTerminating(deadline);
      if (r === null) return true;
      if (r === 'timeout') return false;
    }
  }
}
