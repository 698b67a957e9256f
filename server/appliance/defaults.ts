// The configuration files the appliance writes on its first start: Courier's format
// (each setting in a "##NAME:" block with its meaning as a comment, then its default),
// so that they read like Courier's own files and can be taken to a Courier server.

import { SETTINGS, encodeValue } from '../config/index.js';
import type { ConfigFileName } from './api.js';

/** Settings the appliance decides itself and does not offer in its files or GUI. */
export const APPLIANCE_FIXED_SETTINGS: ReadonlySet<string> = new Set(['IMAPD_DATADIR']);

function wrap(text: string, width = 76): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

/** The text of a configuration file with every setting at its default. */
export function defaultConfigText(which: ConfigFileName): string {
  const out = [
    `# ${which}: configuration of imapd-ts, in the format of Courier-IMAP's ${which} file.`,
    '#',
    '# Written with the defaults when the appliance first started. Change it here (then',
    '# restart the appliance) or in the appliance\'s Settings screen, which keeps your',
    '# comments. A setting that is left out takes its default.',
    '',
  ];
  for (const spec of SETTINGS) {
    if (spec.file !== which || APPLIANCE_FIXED_SETTINGS.has(spec.name)) continue;
    out.push(`##NAME: ${spec.name}:0`, '#');
    for (const line of wrap(spec.meaning)) out.push(`# ${line}`);
    out.push('#');
    if (spec.default === '') out.push(`#${spec.name}=`);
    else if (spec.default.includes('$')) out.push(`${spec.name}=${spec.default}`);
    else out.push(`${spec.name}=${encodeValue(spec.default, 'none').text}`);
    out.push('');
  }
  return out.join('\n');
}
