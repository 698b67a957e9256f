// The main benchmark's results (bench/run.ts): what one run measures of a server, and the
// tables of medians, ratios and server CPU time it prints and keeps in bench/results/.

export type ServerName = 'ours' | 'before' | 'courier' | 'dovecot';
export const SERVER_TITLES: Record<ServerName, string> = { ours: 'ours', before: 'ours before', courier: 'Courier', dovecot: 'Dovecot' };

/** One measured figure of one run. `value` is seconds, MB/s, messages/s or MiB depending on the metric. */
export interface Sample {
  value?: number;
  error?: string;
}

export interface Metric {
  key: string;
  label: string;
  unit: 's' | 'MB/s' | 'msg/s' | 'MiB';
  /** true when a bigger number is better */
  higherIsBetter: boolean;
}

export type RunResult = Record<string, Sample>;

export function median(values: number[]): number {
  const v = values.slice().sort((a, b) => a - b);
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}

function format(value: number, unit: Metric['unit']): string {
  if (unit === 's') return value < 1 ? `${(value * 1000).toFixed(value < 0.01 ? 2 : 0)} ms` : `${value.toFixed(2)} s`;
  if (unit === 'MiB') return `${value.toFixed(1)} MiB`;
  return `${value.toFixed(value < 10 ? 2 : 0)} ${unit}`;
}

/** The median of the successful runs, or the first error when no run succeeded. */
function summarize(samples: Sample[] | undefined, metric: Metric): { text: string; value?: number } {
  if (!samples || samples.length === 0) return { text: 'n/a' };
  const ok = samples.filter((s) => s.value !== undefined).map((s) => s.value!);
  if (ok.length === 0) return { text: samples.find((s) => s.error)?.error ?? 'n/a' };
  const m = median(ok);
  const failed = samples.length - ok.length;
  return { text: format(m, metric.unit) + (failed ? ` (${failed} of ${samples.length} runs failed)` : ''), value: m };
}

function ratio(ours: number | undefined, other: number | undefined, metric: Metric): string {
  if (ours === undefined || other === undefined || ours <= 0 || other <= 0) return '-';
  const r = metric.higherIsBetter ? ours / other : other / ours;
  return r >= 10 ? `${r.toFixed(0)}x` : r >= 0.1 ? `${r.toFixed(2)}x` : `${r.toPrecision(2)}x`;
}

/** Server CPU time (user + system, ms) per step: medians, in the columns of the main table. */
export function cpuTable(servers: ServerName[], results: Map<ServerName, RunResult[]>, metrics: readonly Metric[]): string {
  const cols = (['ours', 'before', 'courier', 'dovecot'] as ServerName[]).filter((c) => servers.includes(c));
  const lines = [`| server CPU, ms | ${cols.map((c) => SERVER_TITLES[c]).join(' | ')} |`, `|---|${cols.map(() => '---|').join('')}`];
  for (const metric of metrics) {
    if (metric.unit === 'MiB') continue;
    const cells = cols.map((c) => {
      const values = (results.get(c) ?? []).map((r) => r[`${metric.key}.cpu`]?.value).filter((v): v is number => v !== undefined);
      return values.length ? median(values).toFixed(0) : '-';
    });
    lines.push(`| ${metric.label} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

export function table(servers: ServerName[], results: Map<ServerName, RunResult[]>, metrics: readonly Metric[]): string {
  const withBefore = servers.includes('before');
  const cols: ServerName[] = withBefore ? ['ours', 'before', 'courier', 'dovecot'] : ['ours', 'courier', 'dovecot'];
  const lines = [
    `| operation | ${cols.map((c) => SERVER_TITLES[c]).join(' | ')} | ours vs Dovecot | ours vs Courier |${withBefore ? ' ours vs before |' : ''}`,
    `|---|${cols.map(() => '---|').join('')}---|---|${withBefore ? '---|' : ''}`,
  ];
  for (const metric of metrics) {
    const cell = new Map(cols.map((c) => [c, servers.includes(c) ? summarize(results.get(c)?.map((r) => r[metric.key] ?? { error: 'not run' }), metric) : { text: 'not run' }]));
    const v = (c: ServerName): number | undefined => cell.get(c)?.value;
    lines.push(`| ${metric.label} | ${cols.map((c) => cell.get(c)!.text).join(' | ')} | ${ratio(v('ours'), v('dovecot'), metric)} | ${ratio(v('ours'), v('courier'), metric)} |` +
      (withBefore ? ` ${ratio(v('ours'), v('before'), metric)} |` : ''));
  }
  return lines.join('\n');
}
