// Streaming IMAP command reader: turns the client's byte stream into complete commands
// (line text plus literal data), one at a time, with bounded memory.
// Its contract (what it hands its owner and is given) is in reader-types.ts, the reading of a
// command line's ends in line-peek.ts; splitCommands (split-commands.ts) runs it on a string.
//
// Usage (the session owns the reader and the socket):
//
//   const reader = new CommandReader({
//     maxLineLength: settings.maxLineLength,
//     maxLiteralSize: settings.maxLiteralSize,
//     onLiteral(req) {
//       // A synchronizing literal {n} was announced: accept (send "+") or refuse (send the
//       // tagged reply; the client then sends no data and the command is dropped).
//       if (req.name === 'APPEND' && req.size > quotaLeft) {
//         out.write(`${req.tag} NO [OVERQUOTA] Mailbox is full\r\n`);
//         return false;
//       }
//       out.write('+ Ready for literal data\r\n');
//       return true; // may also return a Promise<boolean>
//     },
//     onCommand(input) {            // the reader is now paused
//       let cmd: ParsedCommand;
//       try { cmd = parseCommand(input); } catch (e) { ...answer `${e.tag ?? '*'} BAD ...`; reader.resume(); return; }
//       runCommand(cmd).finally(() => reader.resume());   // one command at a time
//     },
//     onError(err) {                // line too long / literal too big: the command is skipped
//       out.write(`${err.tag ?? '*'} BAD ${err.message}\r\n`);
//       reader.resume();
//     },
//     onRawLine(line) {             // after reader.readRawLine(): IDLE's DONE, AUTHENTICATE data
//       if (line.toString('latin1').toUpperCase() === 'DONE') endIdle();
//       reader.resume();            // or readRawLine() again for the next SASL line
//     },
//   });
//   const detach = reader.attach(transport.input);  // 'data' -> push(), with backpressure
//   // IDLE:      out.write('+ idling\r\n'); reader.readRawLine();
//   // STARTTLS:  (inside onCommand) detach(); reader.discardBuffered(); ...after the TLS
//   //            handshake: reader.attach(tlsInput); reader.resume();
//   // COMPRESS:  detach(); inflater.write(...reader.takeBuffered()); reader.attach(inflater);
//   // Deadlines: reader.progress says since when the current line or literal is arriving.
//   // Streaming: onLiteral / onNonSyncLiteral may return a LiteralSink; the literal's data
//   //            then goes to it piece by piece and the command gets an empty Buffer in its place.
//
// After every onCommand / onError / onRawLine call the reader is paused until resume() or
// readRawLine() is called; resume() may be called synchronously inside the callback.

import type { Readable } from 'node:stream';
import { findAnnouncement, peekTagAndName, type Announcement } from './line-peek.js';
import type { CommandInput, CommandReaderOptions, LiteralRequest, LiteralSink, ReaderError, ReaderProgress } from './reader-types.js';

export type { CommandInput, CommandReaderOptions, LiteralRequest, LiteralSink, ReaderError, ReaderErrorCode, ReaderProgress } from './reader-types.js';
export { READER_CAPABILITIES } from './reader-types.js';

const LF = 0x0a;
const CR = 0x0d;
/** Enough of a line's end to recognise a literal announcement. */
const TAIL_KEEP = 40;
/** How much of a command's start is kept to name it in errors and literal requests. */
const HEAD_KEEP = 200;

type State =
  | { kind: 'line' }
  | { kind: 'literal'; remaining: number; parts: Buffer[]; sink: LiteralSink | null }
  | { kind: 'decision' } // waiting for an asynchronous onLiteral answer
  | { kind: 'skip'; remaining: number } // swallowing a refused non-synchronizing literal
  | { kind: 'discard' }; // dropping the rest of a rejected command's line

export class CommandReader {
  private readonly opts: CommandReaderOptions;
  private maxCommandSize: number;
  private readonly highWaterMark: number;

  // Unprocessed input.
  private queue: Buffer[] = [];
  private queued = 0;

  // The command being assembled.
  private state: State = { kind: 'line' };
  private segParts: Buffer[] = [];
  private segLength = 0;
  private lines: Buffer[] = [];
  private literals: Buffer[] = [];
  private streamed: boolean[] | undefined;
  private textLength = 0; // line text of this command so far (finished segments)
  private totalLength = 0; // text + literals so far
  private head: Buffer = Buffer.alloc(0);
  private tail = ''; // latin1 end of a line being discarded
  private pendingError: ReaderError | null = null;
  private raw = false; // the next line is a raw line
  private discardingRaw = false;

  private paused = false;
  private running = false;
  private needDrain = false;
  private generation = 0; // bumped by discardBuffered(), invalidates pending decisions
  private attachedResume: (() => void) | null = null;
  private sinkBusy = false; // a sink's write is in progress: the next piece waits
  private partSince = 0; // when the current line part or literal began (Date.now())
  private partSize = 0; // the literal's size, in the literal states

  constructor(options: CommandReaderOptions) {
    this.opts = options;
    this.maxCommandSize = options.maxCommandSize ?? options.maxLineLength + options.maxLiteralSize;
    this.highWaterMark = options.highWaterMark ?? 64 * 1024;
  }

  /**
   * Change the literal limit for the commands that follow (a server allows big literals
   * only after login: before it, nobody may make it buffer a 60 MB "user name").
   */
  setLiteralLimit(maxLiteralSize: number): void {
    this.opts.maxLiteralSize = maxLiteralSize;
    this.maxCommandSize = this.opts.maxLineLength + maxLiteralSize;
  }

  /** Feed input. Returns false when the caller should stop feeding until onDrain. */
  push(chunk: Buffer): boolean {
    if (chunk.length > 0) {
      this.queue.push(chunk);
      this.queued += chunk.length;
      this.process();
    }
    if (this.queued > this.highWaterMark) {
      this.needDrain = true;
      return false;
    }
    return true;
  }

  /** Stop delivering commands (input is buffered; see push()'s return value). */
  pause(): void {
    this.paused = true;
  }

  /** Continue with the next command (callbacks may run before resume() returns). */
  resume(): void {
    this.paused = false;
    this.process();
  }

  /** Deliver the next line as-is through onRawLine (no literals), then pause again. Resumes. */
  readRawLine(): void {
    this.raw = true;
    this.resume();
  }

  /**
   * Drop every byte received but not yet delivered, and any half-read command (after
   * STARTTLS, so that plaintext sent before the handshake cannot be injected). The
   * paused/running state is left as it is.
   */
  discardBuffered(): void {
    this.queue = [];
    this.queued = 0;
    this.raw = false;
    this.generation++;
    this.resetCommand();
    this.checkDrain();
  }

  /**
   * Hand over the bytes received but not yet processed, between commands (after COMPRESS they
   * are the start of the compressed stream, to be read through the inflater).
   */
  takeBuffered(): Buffer[] {
    const taken = this.queue;
    this.queue = [];
    this.queued = 0;
    this.checkDrain();
    return taken;
  }

  /** Since when the current line part or literal is arriving; null between commands. */
  get progress(): ReaderProgress | null {
    if (!this.midCommand) return null;
    return this.inLiteral ? { kind: 'literal', since: this.partSince, size: this.partSize } : { kind: 'line', since: this.partSince, size: 0 };
  }

  /** True while literal data is being received. */
  get inLiteral(): boolean {
    return this.state.kind === 'literal' || this.state.kind === 'skip';
  }

  /** True when part of a command has been received (between commands: false). */
  get midCommand(): boolean {
    return this.state.kind !== 'line' || this.segLength > 0 || this.lines.length > 0;
  }

  /** True while paused after delivering something (or by pause()). */
  get isPaused(): boolean {
    return this.paused;
  }

  /** Octets received and not yet processed. */
  get bufferedBytes(): number {
    return this.queued;
  }

  /**
   * Read from a stream: 'data' events go to push(), and the stream is paused while the
   * reader holds more than highWaterMark. Returns a function that detaches again.
   */
  attach(input: Readable): () => void {
    const onData = (chunk: Buffer | string): void => {
      if (!this.push(typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk)) input.pause();
    };
    const resumeInput = (): void => {
      input.resume();
    };
    this.attachedResume = resumeInput;
    input.on('data', onData);
    if (input.isPaused()) input.resume();
    return () => {
      input.off('data', onData);
      if (this.attachedResume === resumeInput) this.attachedResume = null;
    };
  }

  // -------------------------------------------------------------------------

  private resetCommand(): void {
    this.state = { kind: 'line' };
    this.segParts = [];
    this.segLength = 0;
    this.lines = [];
    this.literals = [];
    this.streamed = undefined;
    this.textLength = 0;
    this.totalLength = 0;
    this.head = Buffer.alloc(0);
    this.tail = '';
    this.pendingError = null;
    this.discardingRaw = false;
  }

  private checkDrain(): void {
    if (this.needDrain && this.queued <= this.highWaterMark) {
      this.needDrain = false;
      this.opts.onDrain?.();
      this.attachedResume?.();
    }
  }

  private process(): void {
    if (this.running) return; // re-entered from a callback: the outer loop continues
    this.running = true;
    try {
      while (!this.paused && this.state.kind !== 'decision' && !this.sinkBusy) {
        // A zero-length literal completes without input.
        if (this.state.kind === 'literal' && this.state.remaining === 0) {
          this.finishLiteral(this.state.parts, this.state.sink !== null);
          continue;
        }
        if (this.queued === 0) break;
        this.step();
      }
    } finally {
      this.running = false;
    }
    this.checkDrain();
  }

  /** Take up to n octets from the front of the queue. */
  private take(n: number): Buffer {
    const first = this.queue[0];
    if (n >= first.length) {
      this.queue.shift();
      this.queued -= first.length;
      return first;
    }
    this.queue[0] = first.subarray(n);
    this.queued -= n;
    return first.subarray(0, n);
  }

  private step(): void {
    const state = this.state;
    const chunk = this.queue[0];
    switch (state.kind) {
      case 'line': {
        const lf = chunk.indexOf(LF);
        const piece = this.take(lf === -1 ? chunk.length : lf + 1);
        const content = lf === -1 ? piece : piece.subarray(0, piece.length - 1);
        this.addLineBytes(content);
        if (lf !== -1 && this.state.kind === 'line') this.finishSegment();
        else if (lf !== -1 && this.state.kind === 'discard') this.endDiscardedLine();
        return;
      }
      case 'literal': {
        const piece = this.take(Math.min(state.remaining, chunk.length));
        state.remaining -= piece.length;
        if (state.sink) this.toSink(state.sink, piece);
        else state.parts.push(piece);
        if (state.remaining === 0) this.finishLiteral(state.parts, state.sink !== null);
        return;
      }
      case 'skip': {
        const piece = this.take(Math.min(state.remaining, chunk.length));
        state.remaining -= piece.length;
        if (state.remaining === 0) {
          this.tail = '';
          this.state = { kind: 'discard' };
          this.partSince = Date.now();
        }
        return;
      }
      case 'discard': {
        const lf = chunk.indexOf(LF);
        const piece = this.take(lf === -1 ? chunk.length : lf + 1);
        const content = lf === -1 ? piece : piece.subarray(0, piece.length - 1);
        this.keepTail(content);
        if (lf !== -1) this.endDiscardedLine();
        return;
      }
      case 'decision':
        return;
    }
  }

  private toSink(sink: LiteralSink, piece: Buffer): void {
    const written = sink.write(piece);
    if (!written) return;
    this.sinkBusy = true;
    const generation = this.generation;
    const next = (): void => {
      if (generation !== this.generation) return;
      this.sinkBusy = false;
      this.process();
    };
    // A failing sink keeps its error for whoever finishes the command.
    written.then(next, next);
  }

  private keepTail(content: Buffer): void {
    const text = content.subarray(Math.max(0, content.length - TAIL_KEEP)).toString('latin1');
    this.tail = (this.tail + text).slice(-TAIL_KEEP);
  }

  private addLineBytes(content: Buffer): void {
    if (content.length === 0) return;
    if (!this.midCommand) this.partSince = Date.now();
    if (this.lines.length === 0 && this.head.length < HEAD_KEEP) {
      this.head = Buffer.concat([this.head, content.subarray(0, HEAD_KEEP - this.head.length)]);
    }
    // +1: the CR of the line end is still part of the content here.
    if (this.textLength + this.segLength + content.length > this.opts.maxLineLength + 1) {
      // Too long: from here on nothing of this command is kept but the end of the line
      // (to see whether a non-synchronizing literal follows whose data must be swallowed).
      const who = peekTagAndName(this.head);
      this.pendingError = {
        code: 'line-too-long',
        message: 'Command line too long',
        tag: this.raw ? null : who.tag,
        name: this.raw ? null : who.name,
        raw: this.raw,
      };
      this.discardingRaw = this.raw;
      this.raw = false;
      this.tail = '';
      for (const part of this.segParts) this.keepTail(part);
      this.keepTail(content);
      this.segParts = [];
      this.segLength = 0;
      this.lines = [];
      this.literals = [];
      this.state = { kind: 'discard' };
      return;
    }
    this.segParts.push(content);
    this.segLength += content.length;
  }

  private segmentBuffer(): Buffer {
    let seg = this.segParts.length === 1 ? this.segParts[0] : Buffer.concat(this.segParts, this.segLength);
    if (seg.length > 0 && seg[seg.length - 1] === CR) seg = seg.subarray(0, seg.length - 1);
    this.segParts = [];
    this.segLength = 0;
    return seg;
  }

  private emit(fn: () => void): void {
    this.paused = true;
    fn();
  }

  private finishSegment(): void {
    const seg = this.segmentBuffer();
    if (this.raw) {
      this.raw = false;
      this.resetCommand();
      const onRawLine = this.opts.onRawLine;
      this.emit(() => onRawLine?.(seg));
      return;
    }
    this.lines.push(seg);
    this.textLength += seg.length;
    this.totalLength += seg.length;
    const ann = findAnnouncement(seg.subarray(Math.max(0, seg.length - TAIL_KEEP)).toString('latin1'));
    if (ann === null) {
      const input: CommandInput = { lines: this.lines, literals: this.literals, ...(this.streamed ? { streamed: this.streamed } : {}) };
      this.resetCommand();
      this.emit(() => this.opts.onCommand(input));
      return;
    }
    const who = peekTagAndName(this.head);
    if (ann.size > this.opts.maxLiteralSize || this.totalLength + ann.size > this.maxCommandSize) {
      const error: ReaderError = {
        code: 'literal-too-big',
        message: ann.size > this.opts.maxLiteralSize ? 'Literal too big' : 'Command too big',
        tag: who.tag,
        name: who.name,
        raw: false,
        literalSize: ann.size,
        nonSync: ann.nonSync,
      };
      if (ann.nonSync) {
        // The data is on its way already: report at once (the owner may close the
        // connection), then swallow it without keeping it, and the rest of the command.
        this.lines = [];
        this.literals = [];
        this.startSkip(ann.size);
        this.emit(() => this.opts.onError(error));
      } else {
        // The client waits for "+" and sends nothing more for this command.
        this.resetCommand();
        this.emit(() => this.opts.onError(error));
      }
      return;
    }
    this.totalLength += ann.size;
    const request: LiteralRequest = {
      tag: who.tag,
      name: who.name,
      size: ann.size,
      index: this.literals.length,
      binary: ann.binary,
    };
    const ask = ann.nonSync ? this.opts.onNonSyncLiteral : this.opts.onLiteral;
    const answer = ask ? ask.call(this.opts, request, this.lines) : true;
    if (!isPromise(answer)) {
      this.applyDecision(answer, ann);
      return;
    }
    this.state = { kind: 'decision' };
    const generation = this.generation;
    answer.then(
      (accepted) => {
        if (generation !== this.generation || this.state.kind !== 'decision') return;
        this.applyDecision(accepted, ann);
        this.process();
      },
      () => {
        if (generation !== this.generation || this.state.kind !== 'decision') return;
        this.applyDecision(false, ann);
        this.process();
      },
    );
  }

  private applyDecision(accepted: boolean | LiteralSink, ann: Announcement): void {
    if (accepted !== false) {
      this.state = { kind: 'literal', remaining: ann.size, parts: [], sink: accepted === true ? null : accepted };
      this.partSince = Date.now();
      this.partSize = ann.size;
    } else if (ann.nonSync) {
      // Refused, but the data is on its way: swallow it and the rest of the command.
      this.lines = [];
      this.literals = [];
      this.startSkip(ann.size);
    } else {
      // Refused: the owner has answered; the client sends neither the data nor the rest.
      this.resetCommand();
    }
  }

  private startSkip(size: number): void {
    this.pendingError = null;
    this.state = size === 0 ? { kind: 'discard' } : { kind: 'skip', remaining: size };
    this.partSince = Date.now();
    this.partSize = size;
  }

  private finishLiteral(parts: Buffer[], streamed: boolean): void {
    // A literal that went to a sink leaves an empty Buffer in its place.
    const data = parts.length === 1 ? parts[0] : Buffer.concat(parts);
    if (streamed) (this.streamed ??= [])[this.literals.length] = true;
    this.literals.push(data);
    this.state = { kind: 'line' };
    this.partSince = Date.now();
  }

  private endDiscardedLine(): void {
    let tail = this.tail;
    if (tail.endsWith('\r')) tail = tail.slice(0, -1);
    const ann = this.discardingRaw ? null : findAnnouncement(tail);
    this.tail = '';
    if (ann !== null && ann.nonSync) {
      const error = this.pendingError;
      this.startSkip(ann.size);
      this.pendingError = error;
      return;
    }
    // End of the command (a synchronizing literal here is never sent: the client waits
    // for "+" and takes our error reply as the refusal).
    const error = this.pendingError;
    this.resetCommand();
    if (error !== null) this.emit(() => this.opts.onError(error));
  }
}

function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}
