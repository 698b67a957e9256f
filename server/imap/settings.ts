// Session settings from Courier-style NAME=value variables: the environment in the
// command-line mode (Courier's imapd reads its settings from the environment that its
// init script exported from /etc/courier/imapd), or a parsed configuration file.

import { DEFAULT_CAPABILITY } from './capabilities.js';
import type { SessionSettings } from './host.js';

export type Vars = Record<string, string | undefined>;

const words = (value: string | undefined): string[] | undefined =>
  value === undefined ? undefined : value.split(/\s+/).filter(Boolean);

function flag(value: string | undefined, fallback: boolean): boolean {
  if (value === undefined || value.trim() === '') return fallback;
  return /^(1|y|yes|true|on)$/i.test(value.trim());
}

function integer(value: string | undefined, fallback: number): number {
  if (value === undefined || value.trim() === '') return fallback;
  const n = Number(value.trim());
  return Number.isInteger(n) && n >= 0 ? n : fallback;
}

export const DEFAULT_MAX_LINE = 64 * 1024;
export const DEFAULT_MAX_LITERAL = 64 * 1024 * 1024;

export function sessionSettingsFromVars(vars: Vars): SessionSettings {
  const capability = words(vars.IMAP_CAPABILITY) ?? DEFAULT_CAPABILITY;
  const capabilityTls = words(vars.IMAP_CAPABILITY_TLS) ?? [...capability, 'AUTH=PLAIN'];
  const prefix = vars.IMAP_NAMESPACE_PREFIX;
  return {
    capability,
    capabilityTls,
    namespacePrefix: prefix !== undefined && prefix.trim() === '' ? '' : 'INBOX.',
    enhancedIdle: flag(vars.IMAP_ENHANCEDIDLE, true),
    idleTimeout: integer(vars.IMAP_IDLE_TIMEOUT, 60) || 60,
    tlsRequired: flag(vars.IMAP_TLS_REQUIRED, false),
    disableThreadSort: flag(vars.IMAP_DISABLETHREADSORT, false),
    keywords: integer(vars.IMAP_KEYWORDS, 1) !== 0,
    // Courier offers ID when the variable is set at all, even empty (then it reveals the name only).
    idFields: vars.IMAP_ID_FIELDS === undefined ? null : integer(vars.IMAP_ID_FIELDS, 0),
    checkAllFolders: flag(vars.IMAP_CHECK_ALL_FOLDERS, false),
    obsoleteClient: flag(vars.IMAP_OBSOLETE_CLIENT, false),
    trashFolder: vars.IMAP_TRASHFOLDERNAME?.trim() || 'Trash',
    moveExpungeToTrash: flag(vars.IMAP_MOVE_EXPUNGE_TO_TRASH, false),
    maxLineLength: integer(vars.IMAP_MAXLINE, DEFAULT_MAX_LINE),
    maxLiteralSize: integer(vars.IMAP_MAXMSGSIZE, DEFAULT_MAX_LITERAL),
  };
}
