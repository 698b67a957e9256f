// What the Settings screen is told before a change is applied (configuration.ts): the
// problems of the listeners it would start (a port given twice, in use, or privileged; a
// certificate that does not load), and what applying would do, in plain words.

import net from 'node:net';
import { resolveEndpoints, SETTINGS, type ImapdSettings } from '../config/index.js';
import { loadTlsMaterial, TlsError } from '../net/index.js';
import type { SettingProblem } from './api.js';
import { APPLIANCE_FIXED_SETTINGS } from './defaults.js';
import { settingsEqual } from './host-context.js';
import { LISTENER_FIELDS, LIVE_FIELDS, type ImapRunner } from './imap-runner.js';

/** Fields read once, when the appliance starts: the account store is opened before anything else. */
export const AT_START_FIELDS: ReadonlySet<string> = new Set(['accounts']);

/**
 * The listeners of `s`, where they are to start: ports not twice, and free (ports we hold now
 * count as free: we let go of them first); the certificate, when TLS is on and its settings
 * change. `changed`: the settings the user changed, which a clash is blamed on.
 */
export async function listenerProblems(
  s: ImapdSettings,
  current: ImapdSettings,
  changed: ReadonlySet<string>,
  runner: Pick<ImapRunner, 'endpoints' | 'tls'>,
  dataDir: string,
): Promise<SettingProblem[]> {
  const errors: SettingProblem[] = [];
  const held = runner.endpoints();
  const wanted = [
    ...(s.plainStart ? resolveEndpoints(s.ports, s.address).map((e) => ({ ...e, setting: 'PORT' })) : []),
    ...(s.sslStart ? resolveEndpoints(s.sslPorts, s.sslAddress).map((e) => ({ ...e, setting: 'SSLPORT' })) : []),
  ];
  const seen = new Map<number, string>();
  for (const e of wanted) {
    if (e.port === 0) continue;
    const other = seen.get(e.port);
    if (other !== undefined) {
      // On the setting the user changed (PORT = SSLPORT typed into PORT marks PORT), else the later one.
      const [blamed, theOther] = changed.has(other) && !changed.has(e.setting) ? [other, e.setting] : [e.setting, other];
      errors.push({ setting: blamed, message: `port ${e.port} is also given for ${theOther}; each listener needs its own port` });
      continue;
    }
    seen.set(e.port, e.setting);
    const ours = held.some((h) => h.port === e.port);
    if (ours) continue;
    const problem = await probePort(e.address, e.port);
    if (problem) errors.push({ setting: e.setting, message: problem });
  }
  const needTls = (s.sslStart && s.sslPorts.length > 0) || (s.plainStart && s.startTls);
  const certChanged = s.tlsCertFile !== current.tlsCertFile || s.tlsPrivateKeyFile !== current.tlsPrivateKeyFile;
  if (needTls && (certChanged || !runner.tls)) {
    try {
      await loadTlsMaterial({ certFile: s.tlsCertFile, keyFile: s.tlsPrivateKeyFile, dataDir });
    } catch (err) {
      if (!(err instanceof TlsError)) throw err;
      errors.push({ setting: err.message.startsWith('TLS_PRIVATE_KEYFILE') ? 'TLS_PRIVATE_KEYFILE' : 'TLS_CERTFILE', message: err.message });
    }
  }
  return errors;
}

/** What applying `s` over `current` does: listeners restarting or starting, and when each change takes effect. */
export function applyEffects(current: ImapdSettings, s: ImapdSettings, restart: boolean, runner: Pick<ImapRunner, 'running' | 'sessionCount'>): string[] {
  const effects: string[] = [];
  if (restart) {
    const count = runner.sessionCount();
    effects.push(
      count > 0
        ? `The IMAP listeners restart: ${count} connected session${count === 1 ? ' is' : 's are'} told to reconnect.`
        : 'The IMAP listeners restart (nobody is connected).',
    );
  } else if (!runner.running) {
    effects.push('The IMAP listeners start.');
  }
  const changedFields = SETTINGS.filter((spec) => !settingsEqual(current[spec.field], s[spec.field]));
  const live = changedFields.filter((spec) => LIVE_FIELDS.has(spec.field)).map((spec) => spec.name);
  if (live.length) effects.push(`${live.join(', ')}: in force at once for new connections; connected sessions stay.`);
  const atStart = changedFields.filter((spec) => AT_START_FIELDS.has(spec.field)).map((spec) => spec.name);
  if (atStart.length) effects.push(`${atStart.join(', ')}: in force when the appliance starts again (the accounts in use stay until then).`);
  const later = changedFields.filter(
    (spec) => !LIVE_FIELDS.has(spec.field) && !LISTENER_FIELDS.has(spec.field) && !AT_START_FIELDS.has(spec.field) && !APPLIANCE_FIXED_SETTINGS.has(spec.name),
  );
  if (later.length) effects.push(`${later.map((spec) => spec.name).join(', ')}: for sessions that connect from now on.`);
  if (changedFields.length === 0 && !restart && runner.running) effects.push('Nothing changes.');
  return effects;
}

/** Try to listen on an address and port, and let go at once. Null when it could be used. */
function probePort(address: string | null, port: number): Promise<string | null> {
  return new Promise((resolvePromise) => {
    const server = net.createServer();
    server.once('error', (err: NodeJS.ErrnoException) => {
      const where = `${address ?? 'all addresses'} port ${port}`;
      resolvePromise(
        err.code === 'EADDRINUSE' ? `port ${port} is in use by another program (${where})`
        : err.code === 'EACCES' ? `port ${port} needs administrator privileges (ports below 1024; see PORTS.md), or pick one from 1024`
        : err.code === 'EADDRNOTAVAIL' ? `this machine has no address ${address}`
        : `cannot listen on ${where}: ${err.message}`,
      );
    });
    server.listen({ port, ...(address === null ? {} : { host: address }), exclusive: true }, () => server.close(() => resolvePromise(null)));
  });
}
