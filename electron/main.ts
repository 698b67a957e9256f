// The Electron main process of the appliance: starts the appliance host (IMAP listeners,
// accounts, settings) when the app is ready, shows the GUI in a locked-down window, keeps
// a tray icon with the server's state, and stops the host cleanly on quit (sessions told
// BYE; an APPEND still being received is refused, and messages are only ever renamed into
// place complete, so no partial files are left).
//
// Security, after Electron's checklist: context isolation, sandbox, no Node in the
// renderer; the GUI is served from the app:// scheme with a strict Content-Security-Policy
// and nothing remote; navigation, new windows, webviews and permission requests are
// refused (clipboard writing for the copy buttons excepted); every IPC call is checked
// for its sender and its arguments before it reaches the host.

import { BrowserWindow, Menu, Notification, Tray, app, dialog, ipcMain, nativeImage, protocol, session, type IpcMainInvokeEvent, type MenuItemConstructorOptions } from 'electron';
import { promises as fs } from 'node:fs';
import { extname, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { API_METHODS, ApiError, IPC, errorEnvelope, ipcChannel, type Envelope } from '../server/appliance/api.js';
import { linuxAutostartOn, setLinuxAutostart } from '../server/appliance/desktop.js';
import { DesktopShell, type DesktopPlatform, type TrayEntry } from '../server/appliance/desktop-shell.js';
import { ApplianceHost } from '../server/appliance/host.js';
import { defaultDataDir } from '../server/appliance/paths.js';
import { invokeApi } from '../server/appliance/validate.js';

const SCHEME = 'app';
const ORIGIN = `${SCHEME}://gui`;
const RENDERER_DIR = fileURLToPath(new URL('../renderer/', import.meta.url));
const PRELOAD = fileURLToPath(new URL('./preload.cjs', import.meta.url));
const ICON = fileURLToPath(new URL('../../build/icon.png', import.meta.url));
/** The window needs no network at all: the API goes through IPC. */
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.png': 'image/png', '.svg': 'image/svg+xml' };

protocol.registerSchemesAsPrivileged([{ scheme: SCHEME, privileges: { standard: true, secure: true } }]);

function argValue(name: string): string | undefined {
  const prefix = `--${name}=`;
  return process.argv.find((a) => a.startsWith(prefix))?.slice(prefix.length);
}

let host: ApplianceHost | null = null;
let mainWindow: BrowserWindow | null = null;
let tray: Tray | null = null;
let quitting = false;
let stopped = false;
/** The tray, notices, start at login and the window's bounds (server/appliance/desktop-shell.ts). */
let shell: DesktopShell | null = null;

/** Only our own page, in our own window, may call the API. */
function trusted(event: IpcMainInvokeEvent): boolean {
  const url = event.senderFrame?.url ?? '';
  return mainWindow !== null && event.sender === mainWindow.webContents && (url === `${ORIGIN}/` || url.startsWith(`${ORIGIN}/`));
}

function registerIpc(api: ApplianceHost): void {
  for (const method of API_METHODS) {
    ipcMain.handle(ipcChannel(method), async (event, ...args: unknown[]): Promise<Envelope> => {
      if (!trusted(event)) return errorEnvelope(new ApiError('invalid-argument', 'calls are accepted from the appliance window only'));
      return invokeApi(api, method, args);
    });
  }
}

async function serveRenderer(request: Request): Promise<Response> {
  const url = new URL(request.url);
  if (url.host !== 'gui') return new Response('not found', { status: 404 });
  let relative: string;
  try {
    relative = decodeURIComponent(url.pathname === '/' ? '/index.html' : url.pathname);
  } catch {
    return new Response('bad address', { status: 400 });
  }
  const full = resolve(RENDERER_DIR, '.' + relative);
  const type = TYPES[extname(full)];
  if (!full.startsWith(resolve(RENDERER_DIR) + sep) || !type) return new Response('not found', { status: 404 });
  try {
    const data = await fs.readFile(full);
    return new Response(data, { headers: { 'Content-Type': type, 'Content-Security-Policy': CSP, 'X-Content-Type-Options': 'nosniff' } });
  } catch {
    return new Response('not found', { status: 404 });
  }
}

function lockDown(): void {
  session.defaultSession.setPermissionRequestHandler((_contents, permission, callback) => callback(permission === 'clipboard-sanitized-write'));
  session.defaultSession.setPermissionCheckHandler((_contents, permission) => permission === 'clipboard-sanitized-write');
  app.on('web-contents-created', (_event, contents) => {
    contents.on('will-navigate', (event, url) => {
      if (!url.startsWith(`${ORIGIN}/`)) event.preventDefault();
    });
    contents.on('will-redirect', (event, url) => {
      if (!url.startsWith(`${ORIGIN}/`)) event.preventDefault();
    });
    contents.on('will-attach-webview', (event) => event.preventDefault());
    contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  });
}

function showWindow(): void {
  if (mainWindow && !mainWindow.isDestroyed()) {
    if (mainWindow.isMinimized()) mainWindow.restore();
    mainWindow.show();
    mainWindow.focus();
    return;
  }
  const bounds = shell?.windowBounds() ?? { width: 1200, height: 820 };
  mainWindow = new BrowserWindow({
    ...bounds,
    title: 'imapd-ts',
    icon: ICON,
    autoHideMenuBar: true,
    show: false,
    webPreferences: {
      preload: PRELOAD,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
    },
  });
  mainWindow.once('ready-to-show', () => {
    if (bounds.maximized) mainWindow?.maximize();
    mainWindow?.show();
  });
  // The window's size and place, remembered for the next start.
  const remember = () => {
    if (!mainWindow || mainWindow.isDestroyed()) return;
    shell?.windowChanged(mainWindow.getBounds(), mainWindow.isMaximized());
  };
  for (const e of ['resize', 'move', 'maximize', 'unmaximize'] as const) mainWindow.on(e as 'resize', remember);
  mainWindow.on('close', (event) => {
    // With a tray icon the server keeps running when the window is closed.
    if (!quitting && tray) {
      event.preventDefault();
      mainWindow?.hide();
    }
  });
  mainWindow.on('closed', () => (mainWindow = null));
  void mainWindow.loadURL(`${ORIGIN}/index.html`);
}

function menuItem(entry: TrayEntry): MenuItemConstructorOptions {
  switch (entry.type) {
    case 'status': return { label: entry.label, enabled: false };
    case 'separator': return { type: 'separator' };
    case 'action': return { label: entry.label, click: () => entry.click() };
    case 'checkbox': return { label: entry.label, type: 'checkbox', checked: entry.checked, click: (item) => entry.click(item.checked) };
  }
}

/** Electron's side of the desktop shell; start at login is Electron's own on macOS and Windows, an XDG autostart entry on Linux. */
const platform: DesktopPlatform = {
  setTray(tooltip, menu) {
    if (!tray) return;
    tray.setToolTip(tooltip);
    tray.setContextMenu(Menu.buildFromTemplate(menu.map(menuItem)));
  },
  notify(notice) {
    if (Notification.isSupported()) new Notification({ title: notice.title, body: notice.body }).show();
  },
  async loginItemOn() {
    return process.platform === 'linux' ? linuxAutostartOn() : app.getLoginItemSettings().openAtLogin;
  },
  async setLoginItem(on) {
    if (process.platform === 'linux') await setLinuxAutostart(on, app.getPath('exe'));
    else app.setLoginItemSettings({ openAtLogin: on, args: ['--hidden'] });
  },
  showWindow: () => showWindow(),
  quit: () => app.quit(),
};

async function main(): Promise<void> {
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return;
  }
  app.on('second-instance', () => showWindow());
  app.on('activate', () => showWindow());
  app.on('before-quit', (event) => {
    if (stopped) return;
    event.preventDefault();
    if (quitting) return;
    quitting = true;
    shell?.stop();
    const finish = () => {
      stopped = true;
      app.quit();
    };
    (host ? host.stop() : Promise.resolve()).then(finish, finish);
  });
  // Closing the last window without a tray quits (and stops the server).
  app.on('window-all-closed', () => {
    if (!tray) app.quit();
  });

  await app.whenReady();
  lockDown();
  protocol.handle(SCHEME, serveRenderer);

  host = await ApplianceHost.open({ dataDir: argValue('data') ?? process.env.IMAPD_TS_DATA ?? defaultDataDir(), setupPort: Number(argValue('setup-port') ?? 8144), announce: argValue('announce') !== 'no' });
  registerIpc(host);
  host.subscribe((event) => {
    if (mainWindow && !mainWindow.isDestroyed()) mainWindow.webContents.send(IPC.event, event);
  });
  try {
    const image = nativeImage.createFromPath(ICON).resize({ width: 22, height: 22 });
    tray = new Tray(image);
    tray.on('click', () => showWindow());
  } catch {
    tray = null; // no system tray on this desktop: the window is the app
  }
  await host.start();
  shell = new DesktopShell(host, platform);
  await shell.start();
  const hidden = process.argv.includes('--hidden') || app.getLoginItemSettings().wasOpenedAtLogin;
  if (!hidden || !tray) showWindow();
}

main().catch((err: unknown) => {
  console.error('imapd-ts:', err);
  const message = err instanceof Error ? err.message : String(err);
  // In a development checkout, better-sqlite3 is built for Node, not for Electron.
  const hint = /NODE_MODULE_VERSION|was compiled against a different Node\.js version/.test(message)
    ? '\n\nThe native module better-sqlite3 is built for Node.js, not for Electron. Run "npm run electron:deps" (and "npm rebuild better-sqlite3" before running the tests with Node again), or use "npm run serve".'
    : '';
  dialog.showErrorBox('imapd-ts could not start', message + hint);
  app.exit(1);
});
