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

import { BrowserWindow, Menu, Notification, Tray, app, dialog, ipcMain, nativeImage, protocol, session, type IpcMainInvokeEvent } from 'electron';
import { promises as fs } from 'node:fs';
import { extname, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { API_METHODS, ApiError, IPC, errorEnvelope, ipcChannel, type Envelope, type OverviewView } from '../server/appliance/api.js';
import { DEFAULT_BOUNDS, Notifier, linuxAutostartOn, loadWindowBounds, saveWindowBounds, setLinuxAutostart, trayLines, type WindowBounds } from '../server/appliance/desktop.js';
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
let bounds: WindowBounds = { ...DEFAULT_BOUNDS };
let overview: OverviewView | null = null;
let linuxAutostart = false;
const notifier = new Notifier();

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
  let saveTimer: NodeJS.Timeout | null = null;
  const remember = () => {
    if (!mainWindow || mainWindow.isDestroyed() || !host) return;
    const maximized = mainWindow.isMaximized();
    bounds = { ...(maximized ? bounds : mainWindow.getBounds()), maximized };
    if (saveTimer) clearTimeout(saveTimer);
    saveTimer = setTimeout(() => void saveWindowBounds(host!.dataDir, bounds).catch(() => undefined), 500);
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

function trayMenu(o: OverviewView | null): Menu {
  const loginItem = process.platform === 'darwin' || process.platform === 'win32'
    ? [{
        label: 'Start at login',
        type: 'checkbox' as const,
        checked: app.getLoginItemSettings().openAtLogin,
        click: (item: Electron.MenuItem) => app.setLoginItemSettings({ openAtLogin: item.checked, args: ['--hidden'] }),
      }]
    : [{
        label: 'Start at login',
        type: 'checkbox' as const,
        checked: linuxAutostart,
        click: (item: Electron.MenuItem) => {
          linuxAutostart = item.checked;
          void setLinuxAutostart(item.checked, app.getPath('exe'));
        },
      }];
  return Menu.buildFromTemplate([
    ...trayLines(o).map((label) => ({ label, enabled: false })),
    { type: 'separator' },
    { label: 'Open imapd-ts', click: () => showWindow() },
    ...loginItem,
    { type: 'separator' },
    { label: 'Quit (stops the mail server)', click: () => app.quit() },
  ]);
}

/** The tray shows what the Overview shows; notices for repeated failed logins and a full disk. */
let trayTimer: NodeJS.Timeout | null = null;
function refreshTray(): void {
  if (trayTimer || !host) return;
  trayTimer = setTimeout(() => {
    trayTimer = null;
    host?.getOverview().then((o) => {
      overview = o;
      if (tray) {
        tray.setToolTip(`imapd-ts: ${trayLines(o)[0]}`);
        tray.setContextMenu(trayMenu(o));
      }
      if (Notification.isSupported()) for (const n of notifier.check(o)) new Notification({ title: n.title, body: n.body }).show();
    }, () => undefined);
  }, 1000);
}

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
    if (event.type === 'status' || event.type === 'sessions' || (event.type === 'log' && event.line.message.startsWith('LOGIN FAILED'))) refreshTray();
  });
  try {
    const image = nativeImage.createFromPath(ICON).resize({ width: 22, height: 22 });
    tray = new Tray(image);
    tray.on('click', () => showWindow());
    tray.setContextMenu(trayMenu(overview));
  } catch {
    tray = null; // no system tray on this desktop: the window is the app
  }
  bounds = await loadWindowBounds(host.dataDir);
  if (process.platform === 'linux') linuxAutostart = await linuxAutostartOn();
  await host.start();
  refreshTray();
  // The disk fills without events: look now and then.
  setInterval(refreshTray, 60_000).unref();
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
