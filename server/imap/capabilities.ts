// The CAPABILITY list, computed from what the command modules declare (CommandSpec.capabilities
// in the command table) and from the settings. IMAP_CAPABILITY / IMAP_CAPABILITY_TLS keep
// Courier's meaning: the words listed there are announced, as written, if something here
// implements them; words nothing implements are dropped. The server adds some words by itself,
// as Courier's imapd does (STARTTLS, LOGINDISABLED, ENABLE, UTF8=ACCEPT): their declarations say when.
// The greeting carries the list too.

import type { SessionSettings } from '../config/session.js';
import { COMMAND_SPECS } from './commands/index.js';
import type { CapabilityWord, CommandSpec } from './commands/types.js';
import { READER_CAPABILITIES } from './protocol/reader.js';
import { outboxCapability } from './outbox.js';

export interface CapabilityContext {
  settings: SessionSettings;
  secure: boolean;
  canStartTls: boolean;
  authenticated: boolean;
  /** TLS verified a client certificate that names an account (TLS_EXTERNAL). */
  external?: boolean;
}

/** The protocol the command table as a whole implements: always announced, first. */
const BASE = 'IMAP4rev1';

/** Each implemented word (upper case) and its declaration, in table order. */
function declarations(specs: readonly CommandSpec[]): Map<string, CapabilityWord> {
  const all = new Map<string, CapabilityWord>();
  for (const word of [BASE, ...READER_CAPABILITIES]) all.set(word.toUpperCase(), { word });
  for (const spec of specs) for (const c of spec.capabilities ?? []) all.set(c.word.toUpperCase(), c);
  return all;
}

/** The words the server implements (those IMAP_CAPABILITY may usefully list). */
export function implementedWords(specs: readonly CommandSpec[] = COMMAND_SPECS): string[] {
  return [...declarations(specs).values()].map((c) => c.word);
}

/**
 * The list for the command table, by settings object and the rest of the context: asked for by
 * session.offers() several times per command (SELECT, FETCH MODSEQ), where computing it anew
 * took about 1 ms, half of a FETCH (CHANGEDSINCE) over 100,000 messages (bench/condstore.ts).
 */
const computed = new WeakMap<SessionSettings, Map<string, readonly string[]>>();

export function capabilities(ctx: CapabilityContext, specs: readonly CommandSpec[] = COMMAND_SPECS): string[] {
  if (specs !== COMMAND_SPECS) return compute(ctx, specs);
  let bySettings = computed.get(ctx.settings);
  if (!bySettings) computed.set(ctx.settings, (bySettings = new Map()));
  const key = `${ctx.secure} ${ctx.canStartTls} ${ctx.authenticated} ${Boolean(ctx.external)}`;
  let words = bySettings.get(key);
  if (!words) bySettings.set(key, (words = compute(ctx, specs)));
  return [...words];
}

function compute(ctx: CapabilityContext, specs: readonly CommandSpec[]): string[] {
  const declared = declarations(specs);
  const configured = ctx.secure ? ctx.settings.capabilityTls : ctx.settings.capability;
  const words: string[] = [];
  const name = (w: string) => w.toUpperCase().split('=')[0];
  const add = (w: string) => {
    const c = declared.get(name(w));
    // One APPENDLIMIT=n however often it is listed (words with values are one word by their name).
    if (!words.some((x) => x.toUpperCase() === w.toUpperCase() || (c?.value && name(x) === name(w)))) words.push(w);
  };
  const offered = (c: CapabilityWord) => !(c.beforeLogin && ctx.authenticated) && !(c.afterLogin && !ctx.authenticated);
  const added = (when: CapabilityWord['added']) => [...declared.values()].filter((c) => c.added === when && offered(c));

  add(BASE);
  for (const w of configured) {
    const upper = w.toUpperCase();
    // A word with a computed value (APPENDLIMIT) is listed by its name, its value ours.
    const valued = declared.get(upper.split('=')[0]);
    const c = declared.get(upper) ?? (valued?.value ? valued : undefined);
    // A word the server decides about by a setting of its own (ID) is not taken from the list.
    if (c && offered(c) && c.added !== 'id-fields' && c.added !== 'acl') add(c.value ? `${c.word}=${c.value(ctx.settings)}` : w);
  }
  // RFC 7888 section 5: a server does not announce both LITERAL+ and LITERAL-. LITERAL+ allows
  // every non-synchronizing literal, so it wins where both are listed (as in the default list);
  // LITERAL- is announced (and its 4096-octet limit kept, session.ts) when LITERAL+ is not listed.
  if (words.some((w) => w.toUpperCase() === 'LITERAL+')) {
    const minus = words.findIndex((w) => w.toUpperCase() === 'LITERAL-');
    if (minus >= 0) words.splice(minus, 1);
  }
  if (!ctx.authenticated) {
    if (ctx.canStartTls && !ctx.secure) for (const c of added('starttls')) add(c.word);
    if (ctx.external) for (const c of added('external')) add(c.word);
    if (ctx.settings.tlsRequired && !ctx.secure) {
      for (const c of added('tls-required')) add(c.word);
      // AUTHENTICATE is refused as LOGIN is (commands/login.ts): no mechanism is offered.
      return words.filter((w) => !w.toUpperCase().startsWith('AUTH='));
    }
  }
  // Courier announces ID when IMAP_ID_FIELDS is set, whatever its value, and only then.
  if (ctx.settings.idFields !== null) for (const c of added('id-fields')) add(c.word);
  // And ACL ACL2=UNION when IMAP_ACL=1, before ENABLE (Debian's Courier: `... IDLE ACL ACL2=UNION ENABLE UTF8=ACCEPT`).
  if (ctx.settings.acl) for (const c of added('acl')) add(c.word);
  // Courier's private word for the Outbox (OUTBOX), before and after login: XCOURIEROUTBOX=INBOX.Outbox.
  const outbox = outboxCapability(ctx.settings);
  if (outbox) add(outbox);
  for (const c of added('always')) add(c.word);
  return words;
}

/**
 * The greeting (RFC 3501 7.1): OK, PREAUTH for a session that starts logged in, or the answer to
 * the LOGIN that Courier's imaplogin ran before starting us (`loginTag`).
 */
export function greeting(words: readonly string[], preauth?: { loginTag?: string }): Buffer {
  if (preauth?.loginTag !== undefined) return Buffer.from(`${preauth.loginTag} OK LOGIN Ok.\r\n`);
  if (preauth) return Buffer.from(`* PREAUTH [CAPABILITY ${words.join(' ')}] Ready.\r\n`);
  return Buffer.from(`* OK [CAPABILITY ${words.join(' ')}] IMAP server ready.\r\n`);
}
