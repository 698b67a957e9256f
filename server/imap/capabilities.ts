// The CAPABILITY list, computed in one place from the configured words (Courier's
// IMAP_CAPABILITY / IMAP_CAPABILITY_TLS) plus what the server adds by itself, as
// Courier's imapd does (STARTTLS, LOGINDISABLED, ENABLE, UTF8=ACCEPT).

import { SUPPORTED_WORDS, type SessionSettings } from '../config/session.js';

export interface CapabilityContext {
  settings: SessionSettings;
  secure: boolean;
  canStartTls: boolean;
  authenticated: boolean;
}

export function unsupportedWords(words: readonly string[]): string[] {
  return words.filter((w) => !SUPPORTED_WORDS.has(w.toUpperCase()));
}

export function capabilities(ctx: CapabilityContext): string[] {
  const configured = ctx.secure ? ctx.settings.capabilityTls : ctx.settings.capability;
  const words: string[] = [];
  const add = (w: string) => {
    if (!words.some((x) => x.toUpperCase() === w.toUpperCase())) words.push(w);
  };
  add('IMAP4rev1');
  for (const w of configured) {
    const upper = w.toUpperCase();
    if (!SUPPORTED_WORDS.has(upper)) continue;
    // IMAP_DISABLETHREADSORT leaves SORT and THREAD announced and refuses the commands, as Courier does.
    // IMAP_ID_FIELDS alone decides about ID (below).
    if (upper === 'ID') continue;
    if (upper.startsWith('AUTH=') && ctx.authenticated) continue;
    if (upper === 'SASL-IR' && ctx.authenticated) continue;
    add(upper === 'LITERAL+' ? 'LITERAL+' : w);
  }
  if (!ctx.authenticated) {
    if (ctx.canStartTls && !ctx.secure) add('STARTTLS');
    if (ctx.settings.tlsRequired && !ctx.secure) {
      add('LOGINDISABLED');
      return words.filter((w) => !w.toUpperCase().startsWith('AUTH='));
    }
  }
  // Courier announces ID when IMAP_ID_FIELDS is set, whatever its value.
  if (ctx.settings.idFields !== null) add('ID');
  add('ENABLE');
  add('UTF8=ACCEPT');
  return words;
}
