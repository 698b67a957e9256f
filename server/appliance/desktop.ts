// The desktop app's own behaviour, without Electron so that it can be tested with Node
// alone (electron/main.ts only wires it to Tray, Notification and BrowserWindow):
//   - the tray's lines: the same status as the Overview, in a few words;
//   - when to notify: one address failing to log in again and again, the disk filling up;
//   - the window's size and place, remembered in <data>/window.json;
//   - start at login on Linux (an XDG autostart entry; macOS and Windows use Electron's).

import { promises as fs } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { OverviewView } from './api.js';
import { writeFileAtomic } from '../config/index.js';

export function trayLines(o: OverviewView | null): string[] {
  if (!o) return ['Starting...'];
  const s = o.status;
  const lines = [
    s.state === 'running' ? `Running for ${o.network ? 'this computer and the network' : 'this computer only'}`
    : s.state === 'error' ? `Not running: ${s.problem ?? 'error'}`
    : s.state[0]!.toUpperCase() + s.state.slice(1),
  ];
  if (s.state === 'running') lines.push(`Ports ${s.listeners.map((l) => `${l.port} (${l.kind === 'imaps' ? 'SSL/TLS' : l.startTls ? 'STARTTLS' : 'no TLS'})`).join(', ')}`);
  lines.push(`${s.sessions} session${s.sessions === 1 ? '' : 's'}, ${s.accounts} account${s.accounts === 1 ? '' : 's'}, ${o.messages.toLocaleString('en')} messages`);
  if (o.disk) lines.push(`Disk: ${Math.round(o.disk.freeBytes / 1024 ** 3)} GB free`);
  if (o.failedLogins.count > 0) lines.push(`Failed logins today: ${o.failedLogins.count}`);
  if (o.warnings.length > 0) lines.push(`${o.warnings.length} warning${o.warnings.length === 1 ? '' : 's'}: open the Overview`);
  return lines.map((l) => (l.length > 80 ? l.slice(0, 77) + '...' : l));
}

export interface Notice {
  title: string;
  body: string;
}

/** Failures from one address that make a notice, and how often one address may cause one. */
export const REPEATED_FAILURES = 5;
const NOTICE_EVERY_MS = 3600_000;
export const DISK_LOW_FRACTION = 0.05;

/** Decides, from successive overviews, what deserves a desktop notification (each once). */
export class Notifier {
  private readonly lastPerAddress = new Map<string, { at: number; count: number }>();
  private diskLow = false;

  constructor(private readonly now: () => number = Date.now) {}

  check(o: OverviewView): Notice[] {
    const out: Notice[] = [];
    const now = this.now();
    for (const a of o.failedLogins.addresses) {
      const last = this.lastPerAddress.get(a.address);
      const fresh = last ? a.count - last.count : a.count;
      if (a.count >= REPEATED_FAILURES && fresh > 0 && (!last || now - last.at >= NOTICE_EVERY_MS)) {
        out.push({ title: 'Repeated failed logins', body: `${a.address} failed to log in ${a.count} times today (as ${a.usernames.join(', ')}). If that is not one of your devices with an old password, someone is guessing.` });
        this.lastPerAddress.set(a.address, { at: now, count: a.count });
      }
    }
    const disk = o.disk;
    const low = disk !== null && disk.totalBytes > 0 && disk.freeBytes / disk.totalBytes < DISK_LOW_FRACTION;
    if (low && !this.diskLow) out.push({ title: 'The disk is nearly full', body: `Only ${Math.round((disk!.freeBytes / disk!.totalBytes) * 100)}% is free on the disk holding the mail: new mail may be refused.` });
    this.diskLow = low;
    return out;
  }
}

export interface WindowBounds {
  width: number;
  height: number;
  x?: number;
  y?: number;
  maximized?: boolean;
}

const WINDOW_FILE = 'window.json';
export const DEFAULT_BOUNDS: WindowBounds = { width: 1200, height: 820 };

/** The saved window bounds, or the default for anything missing or absurd. */
export async function loadWindowBounds(dataDir: string): Promise<WindowBounds> {
  let raw: unknown;
  try {
    raw = JSON.parse(await fs.readFile(join(dataDir, WINDOW_FILE), 'utf8'));
  } catch {
    return { ...DEFAULT_BOUNDS };
  }
  const r = raw as Record<string, unknown>;
  const int = (v: unknown, min: number, max: number) => (typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max ? v : undefined);
  const width = int(r.width, 640, 10_000);
  const height = int(r.height, 480, 10_000);
  if (width === undefined || height === undefined) return { ...DEFAULT_BOUNDS };
  const x = int(r.x, -10_000, 20_000);
  const y = int(r.y, -10_000, 20_000);
  return { width, height, ...(x !== undefined && y !== undefined ? { x, y } : {}), ...(r.maximized === true ? { maximized: true } : {}) };
}

export async function saveWindowBounds(dataDir: string, bounds: WindowBounds): Promise<void> {
  await writeFileAtomic(join(dataDir, WINDOW_FILE), JSON.stringify(bounds) + '\n', { mode: 0o600 });
}

/** Linux: the XDG autostart entry that starts the app (hidden, in the tray) at login. */
export function autostartFile(env: NodeJS.ProcessEnv = process.env, home = homedir()): string {
  const config = env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME.startsWith('/') ? env.XDG_CONFIG_HOME : join(home, '.config');
  return join(config, 'autostart', 'imapd-ts.desktop');
}

export async function setLinuxAutostart(on: boolean, exec: string, file = autostartFile()): Promise<void> {
  if (!on) {
    await fs.rm(file, { force: true });
    return;
  }
  // Desktop Entry Exec quoting: the program in double quotes, with \ " ` $ escaped.
  const quoted = `"${exec.replace(/[\\"`$]/g, (c) => `\\\\${c}`)}"`;
  await fs.mkdir(join(file, '..'), { recursive: true });
  await fs.writeFile(file, `[Desktop Entry]\nType=Application\nName=imapd-ts\nComment=Home mail server\nExec=${quoted} --hidden\nX-GNOME-Autostart-enabled=true\nTerminal=false\n`);
}

export async function linuxAutostartOn(file = autostartFile()): Promise<boolean> {
  return fs.access(file).then(() => true, () => false);
}
