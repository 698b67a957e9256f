// Numbers, sizes and times as people read them.

export function count(n: number): string {
  return n.toLocaleString('en');
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

export function duration(seconds: number): string {
  if (seconds < 60) return `${Math.max(0, Math.round(seconds))} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(seconds / 3600)} h ${Math.round((seconds % 3600) / 60)} min`;
}

export function time(ms: number): string {
  return new Date(ms).toLocaleTimeString('en-GB', { hour12: false });
}

export function dateTime(ms: number | null): string {
  if (ms === null) return 'never';
  const d = new Date(ms);
  const today = new Date();
  return d.toDateString() === today.toDateString() ? `today ${time(ms)}` : d.toLocaleString('en-GB', { hour12: false });
}

/** "12 min ago" style age of a moment. */
export function since(ms: number, now = Date.now()): string {
  return `${duration((now - ms) / 1000)} ago`;
}
