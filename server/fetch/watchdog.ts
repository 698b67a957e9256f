// A deadline for a fetch that moves too slowly: a provider that trickles (a few octets a
// second) never trips a socket's idle timeout, yet would hold its source's run for hours.
// The run must get a whole message, or STEP octets, within `ms` each time; otherwise `stall`
// is called (which closes the connection) and the run fails with a plain error.

/** Octets that count as progress (a MiB: 8 s on a 1 Mbit/s line). */
const STEP = 1 << 20;
/** Default deadline: 2 minutes for a MiB or a message. */
export const DEFAULT_STALL_MS = 120_000;

export class Watchdog {
  private timer: NodeJS.Timeout | null = null;
  private count = 0;
  fired = false;

  constructor(
    private readonly ms: number,
    private readonly stall: () => void,
  ) {
    this.reset();
  }

  /** Octets received. */
  octets(n: number): void {
    this.count += n;
    if (this.count >= STEP) this.progress();
  }

  /** A whole message (or answer) received. */
  progress(): void {
    this.count = 0;
    this.reset();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** The error for a run that the watchdog ended. */
  error(where: string): Error {
    return new Error(`${where} sent too little for ${Math.round(this.ms / 1000)} seconds (the connection is too slow or stuck); given up until the next attempt`);
  }

  private reset(): void {
    if (this.fired) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.fired = true;
      this.timer = null;
      this.stall();
    }, this.ms);
    this.timer.unref();
  }
}
