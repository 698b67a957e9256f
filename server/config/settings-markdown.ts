// The settings table of the README (and the GUI's help) in Markdown: our settings, then the
// Courier settings we read past. test/config/readme.test.ts checks the README against it.

import { COURIER_SETTINGS_NOT_HONOURED } from './not-honoured.js';
import { SETTINGS } from './settings.js';

/** The settings table in Markdown (for the README and the GUI's help). */
export function settingsTableMarkdown(): string {
  const cell = (text: string) => text.replaceAll('|', '\\|');
  const rows = SETTINGS.map((s) => {
    const shown = s.default === '' ? '(unset)' : `\`${s.default}\``;
    return `| ${s.name}${s.ours ? ' (ours)' : ''} | ${s.file} | ${cell(shown)} | ${cell(s.meaning)} |`;
  });
  // Courier's settings that are not honoured, each with its status: deliberately not built
  // first, then ignored (nothing to do here, with the reason), so that every setting of
  // Debian's two files has a row.
  const notHonoured = [...COURIER_SETTINGS_NOT_HONOURED].sort(([, a], [, b]) => Number(!a.notBuilt) - Number(!b.notBuilt));
  const others = notHonoured.map(([name, n]) => {
    const status = n.notBuilt ? 'not built' : n.status ?? 'ignored';
    const meaning = `${status.charAt(0).toUpperCase()}${status.slice(1)}: ${n.reason}.`;
    return `| ${name} (${status}) | ${n.file} | | ${cell(meaning)} |`;
  });
  return ['| Setting | File | Default | Meaning |', '|---|---|---|---|', ...rows, ...others].join('\n') + '\n';
}
