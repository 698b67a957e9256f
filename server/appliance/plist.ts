// A property list (Apple's XML plist) from plain values: strings, whole numbers, booleans,
// Buffers (data), arrays and objects. Small enough not to need a package at run time (tests
// read the output back with the `plist` package).

type PlistValue = string | number | boolean | Buffer | PlistValue[] | { [key: string]: PlistValue } | unknown;

const escapeXml = (s: string) => s.replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]!);

function value(v: PlistValue, indent: string): string {
  if (typeof v === 'string') return `${indent}<string>${escapeXml(v)}</string>\n`;
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new Error('plist: only whole numbers are written');
    return `${indent}<integer>${v}</integer>\n`;
  }
  if (typeof v === 'boolean') return `${indent}<${v}/>\n`;
  if (Buffer.isBuffer(v)) return `${indent}<data>${v.toString('base64')}</data>\n`;
  if (Array.isArray(v)) return `${indent}<array>\n${v.map((x) => value(x, indent + '\t')).join('')}${indent}</array>\n`;
  if (typeof v === 'object' && v !== null) {
    const entries = Object.entries(v as Record<string, PlistValue>);
    return `${indent}<dict>\n${entries.map(([k, x]) => `${indent}\t<key>${escapeXml(k)}</key>\n${value(x, indent + '\t')}`).join('')}${indent}</dict>\n`;
  }
  throw new Error(`plist: cannot write ${typeof v}`);
}

export default function plistText(root: Record<string, unknown>): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
${value(root, '')}</plist>
`;
}
