// Event-loop stall monitor (issue 9): one Node.js thread serves every session, so a command
// that keeps the CPU for long (a LIST pattern once took minutes) stops all of them, and the
// new connections' greetings too. A timer that should fire every 50 ms tells, by how late it
// is, how long the loop was blocked; the commands that ran since the previous tick are named.
// The timer is unref'd and costs nothing measurable; it cannot interrupt the stall, only
// report it afterwards, which is what the log and the appliance's status need.

import type { Logger } from './contracts.js';

export interface Stall {
  /** When it was noticed (ms since the epoch). */
  at: number;
  /** How long the loop was blocked, at least (ms). */
  ms: number;
  /** The commands that ran during it ("LIST"), without tags or arguments. */
  commands: string[];
}

export interface StallMonitorOptions {
  logger: Logger;
  /** A delay of the loop over this is reported (ms). Default 100. */
  thresholdMs?: number;
  /** How often the timer looks (ms). Default 50. */
  intervalMs?: number;
  /** Called after each stall is logged (the appliance counts them). */
  onStall?: (stall: Stall) => void;
}

export class StallMonitor {
  private readonly thresholdMs: number;
  private readonly intervalMs: number;
  private timer: NodeJS.Timeout | null = null;
  private lastTick = 0;
  /** Commands running now, by name, with how many sessions run each. */
  private readonly running = new Map<string, number>();
  /** Commands that ran at some moment since the last tick. */
  private seen = new Set<string>();
  /** Stalls seen since the start. */
  count = 0;
  last: Stall | null = null;

  constructor(private readonly options: StallMonitorOptions) {
    this.thresholdMs = options.thresholdMs ?? 100;
    this.intervalMs = options.intervalMs ?? 50;
  }

  start(): void {
    if (this.timer) return;
    this.lastTick = performance.now();
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** A command starts; call the function returned when it ends. */
  begin(command: string): () => void {
    this.running.set(command, (this.running.get(command) ?? 0) + 1);
    this.seen.add(command);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const n = (this.running.get(command) ?? 1) - 1;
      if (n > 0) this.running.set(command, n);
      else this.running.delete(command);
    };
  }

  private tick(): void {
    const now = performance.now();
    const late = now - this.lastTick - this.intervalMs;
    this.lastTick = now;
    if (late > this.thresholdMs) this.report(Math.round(late));
    this.seen = new Set(this.running.keys());
  }

  private report(ms: number): void {
    const commands = [...this.seen].sort();
    const stall: Stall = { at: Date.now(), ms, commands };
    this.count++;
    this.last = stall;
    const during = commands.length > 0 ? ` during ${commands.join(', ')}` : ' outside any command';
    this.options.logger.log('warn', `stall: ${ms} ms${during}`, { stallMs: ms });
    this.options.onStall?.(stall);
  }
}
