// The value after `--name` on the command line, or the fallback: the small benchmark scripts'
// options (the larger ones parse theirs with a usage text).

export function option(name: string, fallback: string): string;
export function option(name: string): string | undefined;
export function option(name: string, fallback?: string): string | undefined {
  const args = process.argv.slice(2);
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
}
