// IMAPD_TRACE=1: each command's time and the process's memory after it, on stderr (for profiling).

const TRACE = process.env.IMAPD_TRACE === '1';

/** With IMAPD_TRACE=1, a function to call when the command started now has ended; else undefined. */
export function traceStart(): ((name: string) => void) | undefined {
  if (!TRACE) return undefined;
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  return (name) => {
    const m = process.memoryUsage();
    const cpu = process.cpuUsage(cpuBefore);
    const mib = (n: number): string => (n / 1048576).toFixed(1);
    process.stderr.write(`trace: ${name} ${(performance.now() - started).toFixed(1)} ms cpu ${((cpu.user + cpu.system) / 1000).toFixed(1)} ms rss ${mib(m.rss)} heap ${mib(m.heapUsed)}/${mib(m.heapTotal)} external ${mib(m.external)} arrayBuffers ${mib(m.arrayBuffers)} MiB\n`);
  };
}
