// The log: the appliance's recent lines, live, in sentences with their date and time,
// filtered by level, account and words, and downloadable as text.

import type { LogFilter, LogLevel, LogLine } from '../../server/appliance/api.js';
import { h, replaceChildren } from '../dom.js';
import { logSentence } from '../log-sentences.js';
import type { Context, Screen } from './types.js';

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };
const MAX_SHOWN = 1000;

export function logScreen(ctx: Context): Screen {
  const element = h('section', { class: 'screen' });
  const level = h('select', { id: 'log-level', name: 'level' },
    h('option', { value: 'debug' }, 'everything'),
    h('option', { value: 'info', selected: true }, 'info and above'),
    h('option', { value: 'warn' }, 'warnings and errors'),
    h('option', { value: 'error' }, 'errors only'),
  );
  const account = h('input', { id: 'log-account', name: 'account', placeholder: 'all accounts', autocomplete: 'off' });
  const words = h('input', { id: 'log-search', type: 'search', placeholder: 'search', autocomplete: 'off', 'aria-label': 'Search the log' });
  const download = h('button', { type: 'button', id: 'log-download' }, 'Download');
  const follow = h('input', { type: 'checkbox', id: 'log-follow', checked: true });
  /** The lines on screen, for the download. */
  let current: LogLine[] = [];
  const lines = h('div', { id: 'log-lines', class: 'log', role: 'log' });
  let shown = 0;

  const filter = (): LogFilter => ({ level: level.value as LogLevel, ...(account.value.trim() ? { account: account.value.trim() } : {}), limit: MAX_SHOWN });
  const matches = (line: LogLine): boolean => {
    const f = filter();
    if (RANK[line.level] < RANK[f.level ?? 'debug']) return false;
    if (f.account && (line.account ?? '').toLowerCase() !== f.account.toLowerCase()) return false;
    const wanted = words.value.toLowerCase().split(/\s+/).filter(Boolean);
    const text = `${line.account ?? ''} ${line.message} ${logSentence(line.message)}`.toLowerCase();
    return wanted.every((w) => text.includes(w));
  };
  const stamp = (ms: number) => {
    const d = new Date(ms);
    const pad = (n: number) => String(n).padStart(2, '0');
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  };
  const row = (line: LogLine) =>
    h('div', { class: `line ${line.level}`, 'data-seq': line.seq },
      h('span', { class: 'time' }, stamp(line.time)),
      h('span', { class: 'level' }, line.level),
      h('span', { class: 'account' }, line.account ?? ''),
      h('span', { class: 'message', title: line.message }, logSentence(line.message)),
    );

  async function reload(): Promise<void> {
    try {
      const got = (await ctx.api.getLog(filter())).filter(matches);
      current = got;
      replaceChildren(lines, got.length ? got.map(row) : h('p', { class: 'empty' }, 'No lines match.'));
      shown = got.length;
      if (follow.checked) lines.scrollTop = lines.scrollHeight;
    } catch (err) {
      ctx.toast((err as Error).message, 'error');
    }
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  level.addEventListener('change', () => void reload());
  words.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => void reload(), 250);
  });
  download.addEventListener('click', () => {
    const text = current.map((l) => `${stamp(l.time)} ${l.level.toUpperCase()} ${l.account ? `[${l.account}] ` : ''}${l.message}`).join('\n') + '\n';
    const link = h('a', { href: URL.createObjectURL(new Blob([text], { type: 'text/plain' })), download: `imapd-ts-log-${stamp(Date.now()).replace(/[ :]/g, '-')}.txt` });
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
  });
  account.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => void reload(), 250);
  });

  element.append(
    h('h2', {}, 'Log'),
    h('div', { class: 'toolbar' },
      h('label', { for: 'log-level' }, 'Show'), level,
      h('label', { for: 'log-account' }, 'Account'), account,
      words, download,
      h('span', { class: 'check' }, follow, h('label', { for: 'log-follow' }, 'follow new lines')),
    ),
    lines,
  );
  return {
    id: 'log',
    title: 'Log',
    element,
    shown: () => void reload(),
    onEvent(event) {
      if (event.type !== 'log' || element.hidden || !matches(event.line)) return;
      if (shown === 0) lines.querySelector('.empty')?.remove();
      lines.appendChild(row(event.line));
      current.push(event.line);
      if (current.length > MAX_SHOWN) current.shift();
      if (++shown > MAX_SHOWN) {
        lines.firstElementChild?.remove();
        shown--;
      }
      if (follow.checked) lines.scrollTop = lines.scrollHeight;
    },
  };
}
