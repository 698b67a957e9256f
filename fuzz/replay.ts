// Replaying a session's commands on a fresh target: to confirm a finding, to minimize it,
// and for `npm run fuzz -- --replay FILE`.

import { Driver, type DriverOptions, type Problem } from './driver.js';
import { NetServer, StdioTarget, rssMiB, type TargetName, type TargetSession } from './targets.js';

export interface ReplayContext {
  stdio: StdioTarget;
  /** Started on first use, restarted when a replay killed it. */
  net: () => Promise<NetServer>;
  driver: DriverOptions;
  maxRssMiB: number;
  greetMs: number;
}

/** Run `commands` on a new session; the first problem seen, or null. */
export async function replay(ctx: ReplayContext, target: TargetName, secure: boolean, commands: Buffer[]): Promise<Problem | null> {
  let session: TargetSession | { failed: string };
  let server: NetServer | null = null;
  if (target === 'stdio') {
    session = await ctx.stdio.open(ctx.greetMs);
  } else {
    server = await ctx.net();
    session = await server.open({ secure, login: false, greetMs: ctx.greetMs });
  }
  if ('failed' in session) return { kind: 'no-greeting', detail: session.failed };
  const driver = new Driver(session.channel, ctx.driver);
  let problem: Problem | null = null;
  for (const cmd of commands) {
    const outcome = await driver.run([cmd]);
    if (session.pid && rssMiB(session.pid) > ctx.maxRssMiB) {
      problem = { kind: 'rss', detail: `RSS ${rssMiB(session.pid).toFixed(0)} MiB` };
      break;
    }
    if (outcome.status === 'problem') {
      problem = outcome.problem;
      break;
    }
    if (outcome.status !== 'ok') break;
  }
  if (server && problem === null) {
    // A stall that froze the whole server shows as a missing greeting.
    const probe = await server.open({ secure: false, login: false, greetMs: ctx.driver.deadlineMs });
    if ('failed' in probe) problem = { kind: 'no-greeting', detail: probe.failed };
    else await probe.dispose();
  }
  if (problem?.kind === 'dropped' && session.exit) {
    const info = await Promise.race([session.exit, new Promise<null>((r) => setTimeout(() => r(null), 1000))]);
    if (info) problem = { kind: 'exit', detail: `imapd exited (code ${info.code}, signal ${info.signal}) without BYE` };
  }
  const info = await session.dispose();
  if (problem === null && target === 'stdio' && info && (info.code !== 0 || info.signal !== null)) {
    problem = { kind: 'exit', detail: `imapd exited with code ${info.code}, signal ${info.signal}` };
  }
  if (problem === null && session.strays?.length) problem = { kind: 'stray', detail: `stray or half-written files: ${session.strays.join(', ')}` };
  if (server && !server.alive && !server.stopping) {
    problem = { kind: 'exit', detail: `imapd-server died: ${server.stderr().slice(-400)}` };
  }
  return problem;
}
