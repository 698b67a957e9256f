// What the long-running commands (imapd-server, the headless appliance) share: a logger on
// standard error, a clean stop on SIGTERM and SIGINT, and an error that carries an exit code.

import { formatLogMessage } from '../log/format.js';
import type { Logger } from '../log/logger.js';

/** A failure that ends the command with this exit code (the message goes to standard error). */
export class ExitError extends Error {
  constructor(
    message: string,
    readonly code: number,
  ) {
    super(message);
  }
}

/** Timestamped lines on standard error; debug lines only with --verbose. */
export function stderrLogger(verbose: boolean): Logger {
  return {
    log(level, message, fields) {
      if (level === 'debug' && !verbose) return;
      process.stderr.write(`${new Date().toISOString()} ${level.toUpperCase()} ${formatLogMessage(message, fields)}\n`);
    },
  };
}

/**
 * On SIGTERM or SIGINT: say so, run `finish` once (sessions told BYE, listeners and stores
 * closed), say "stopped" and exit 0; a second signal exits at once with 1.
 */
export function stopOnSignals(command: string, finish: () => Promise<void>): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      process.stderr.write(`${command}: ${signal} again, exiting at once\n`);
      process.exit(1);
    }
    stopping = true;
    process.stdout.write(`${signal}: stopping\n`);
    finish().then(
      () => {
        process.stdout.write('stopped\n');
        process.exitCode = 0;
        // Everything is closed; do not wait for stray timers or watchers.
        setTimeout(() => process.exit(0), 1000).unref();
      },
      (err: unknown) => {
        process.stderr.write(`${command}: error while stopping: ${(err as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

/** Run a command's main; an error ends it with its message and code (ExitError) or 1. */
export async function runCommand(command: string, main: () => Promise<void>): Promise<void> {
  try {
    await main();
  } catch (err) {
    process.stderr.write(`${command}: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(err instanceof ExitError ? err.code : 1);
  }
}
