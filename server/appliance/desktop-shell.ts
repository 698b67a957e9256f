// The desktop app's main-process behaviour, with Electron behind a small interface so that
// it runs (and is tested) in plain Node: electron/main.ts supplies a DesktopPlatform made of
// Tray, Menu, Notification, app.setLoginItemSettings and BrowserWindow, and forwards the
// window's events; everything else is here.
//   - the tray: its tooltip and menu show the Overview's status (desktop.ts trayLines), kept
//     up to date from the host's events (status, sessions, failed logins) and every minute
//     (the disk fills without events);
//   - notices: repeated failed logins from one address, the disk filling (desktop.ts Notifier);
//   - start at login: a checkbox in the tray menu;
//   - the window's size and place: saved shortly after it is resized or moved, restored at start.

import type { ApplianceEvent, OverviewView } from './api.js';
import { DEFAULT_BOUNDS, Notifier, loadWindowBounds, saveWindowBounds, trayLines, type Notice, type WindowBounds } from './desktop.js';

/** One entry of the tray menu, as Electron's MenuItemConstructorOptions has it. */
export type TrayEntry =
  | { type: 'status'; label: string }
  | { type: 'separator' }
  | { type: 'action'; label: string; click(): void }
  | { type: 'checkbox'; label: string; checked: boolean; click(checked: boolean): void };

/** What the desktop needs from Electron (or from a test). */
export interface DesktopPlatform {
  setTray(tooltip: string, menu: TrayEntry[]): void;
  /** Show a desktop notification (where the desktop supports them). */
  notify(notice: Notice): void;
  loginItemOn(): Promise<boolean>;
  setLoginItem(on: boolean): Promise<void>;
  showWindow(): void;
  quit(): void;
}

/** The part of the host the desktop reads. */
export interface DesktopHost {
  readonly dataDir: string;
  getOverview(): Promise<OverviewView>;
  subscribe(listener: (event: ApplianceEvent) => void): () => void;
}

export interface DesktopShellOptions {
  /** Events are gathered this long before the Overview is read again (default 1 s). */
  refreshDelayMs?: number;
  /** The Overview is read this often without events (default 60 s). */
  pollMs?: number;
  /** A resized or moved window is saved this long after the last change (default 500 ms). */
  saveDelayMs?: number;
}

/** Does this event change what the tray shows? */
export function changesTray(event: ApplianceEvent): boolean {
  return event.type === 'status' || event.type === 'sessions' || (event.type === 'log' && event.line.message.startsWith('LOGIN FAILED'));
}

export class DesktopShell {
  private readonly notifier = new Notifier();
  private overview: OverviewView | null = null;
  private loginItem = false;
  private refreshTimer: NodeJS.Timeout | null = null;
  private pollTimer: NodeJS.Timeout | null = null;
  private saveTimer: NodeJS.Timeout | null = null;
  private unsubscribe: (() => void) | null = null;
  private refreshing: Promise<void> = Promise.resolve();
  private bounds: WindowBounds = { ...DEFAULT_BOUNDS };
  private saving: Promise<void> = Promise.resolve();

  constructor(
    private readonly host: DesktopHost,
    private readonly platform: DesktopPlatform,
    private readonly options: DesktopShellOptions = {},
  ) {}

  /** Read the saved window bounds and the login item, show the tray, and follow the host. */
  async start(): Promise<void> {
    this.bounds = await loadWindowBounds(this.host.dataDir);
    this.loginItem = await this.platform.loginItemOn().catch(() => false);
    this.drawTray();
    this.unsubscribe = this.host.subscribe((event) => {
      if (changesTray(event)) this.scheduleRefresh();
    });
    this.pollTimer = setInterval(() => this.scheduleRefresh(), this.options.pollMs ?? 60_000);
    this.pollTimer.unref();
    await this.refresh();
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
    for (const t of [this.refreshTimer, this.pollTimer]) if (t) clearTimeout(t);
    this.refreshTimer = this.pollTimer = null;
    // A pending window save is written now rather than lost.
    if (this.saveTimer) {
      clearTimeout(this.saveTimer);
      this.saveTimer = null;
      this.saving = saveWindowBounds(this.host.dataDir, this.bounds).catch(() => undefined);
    }
  }

  /** The bounds to open the window with. */
  windowBounds(): WindowBounds {
    return { ...this.bounds };
  }

  /** The window was resized, moved, maximized or restored: remember it (maximized keeps the size to restore to). */
  windowChanged(current: { width: number; height: number; x: number; y: number }, maximized: boolean): void {
    const { maximized: _old, ...before } = this.bounds;
    this.bounds = { ...(maximized ? before : current), ...(maximized ? { maximized: true } : {}) };
    if (this.saveTimer) clearTimeout(this.saveTimer);
    this.saveTimer = setTimeout(() => {
      this.saveTimer = null;
      this.saving = saveWindowBounds(this.host.dataDir, this.bounds).catch(() => undefined);
    }, this.options.saveDelayMs ?? 500);
  }

  /** Resolves when the last window save has been written. */
  saved(): Promise<void> {
    return this.saving;
  }

  /** The Overview read now: the tray redrawn, due notices shown. */
  refresh(): Promise<void> {
    const run = this.refreshing.then(async () => {
      const o = await this.host.getOverview();
      this.overview = o;
      this.drawTray();
      for (const notice of this.notifier.check(o)) this.platform.notify(notice);
    });
    this.refreshing = run.catch(() => undefined);
    return run;
  }

  private scheduleRefresh(): void {
    if (this.refreshTimer) return;
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = null;
      void this.refresh().catch(() => undefined);
    }, this.options.refreshDelayMs ?? 1000);
  }

  /** The tray's menu now: the status lines, Open, Start at login, Quit. */
  trayMenu(): TrayEntry[] {
    return [
      ...trayLines(this.overview).map((label): TrayEntry => ({ type: 'status', label })),
      { type: 'separator' },
      { type: 'action', label: 'Open imapd-ts', click: () => this.platform.showWindow() },
      { type: 'checkbox', label: 'Start at login', checked: this.loginItem, click: (on) => void this.setStartAtLogin(on) },
      { type: 'separator' },
      { type: 'action', label: 'Quit (stops the mail server)', click: () => this.platform.quit() },
    ];
  }

  async setStartAtLogin(on: boolean): Promise<void> {
    await this.platform.setLoginItem(on);
    this.loginItem = await this.platform.loginItemOn().catch(() => on);
    this.drawTray();
  }

  private drawTray(): void {
    this.platform.setTray(`imapd-ts: ${trayLines(this.overview)[0]}`, this.trayMenu());
  }
}
