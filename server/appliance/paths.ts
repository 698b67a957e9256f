// Where the appliance keeps its data when nobody says otherwise: the usual per-user
// application-data place of each operating system.

import { homedir } from 'node:os';
import { join } from 'node:path';

export const APP_DIR_NAME = 'imapd-ts';

/**
 * Linux and other Unixes: $XDG_DATA_HOME/imapd-ts (~/.local/share/imapd-ts);
 * macOS: ~/Library/Application Support/imapd-ts; Windows: %APPDATA%\imapd-ts.
 */
export function defaultDataDir(platform: NodeJS.Platform = process.platform, env: NodeJS.ProcessEnv = process.env, home = homedir()): string {
  if (platform === 'win32') return join(env.APPDATA || join(home, 'AppData', 'Roaming'), APP_DIR_NAME);
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', APP_DIR_NAME);
  const xdg = env.XDG_DATA_HOME;
  return join(xdg && xdg.startsWith('/') ? xdg : join(home, '.local', 'share'), APP_DIR_NAME);
}

/** <data>/config holds the Courier-style imapd and imapd-ssl files. */
export function configDirOf(dataDir: string): string {
  return join(dataDir, 'config');
}
