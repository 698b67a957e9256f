// What a person needs to set up a mail program: the host names and addresses that reach
// this server, each port with its security in plain words, and how to check the certificate.

import { hostname as osHostname, networkInterfaces } from 'node:os';
import type { ListenerInfo, TlsMaterial } from '../net/index.js';
import type { ConnectionInfoView } from './api.js';

export function describeConnection(endpoints: readonly ListenerInfo[], tls: TlsMaterial | null): ConnectionInfoView {
  const loopback = (a: string) => a === '127.0.0.1' || a === '::1' || a.startsWith('127.');
  const localOnly = endpoints.length > 0 && endpoints.every((e) => loopback(e.address));
  const hosts: ConnectionInfoView['hosts'] = [];
  if (localOnly) {
    hosts.push({ value: endpoints[0]!.address === '::1' ? '::1' : '127.0.0.1', kind: endpoints[0]!.address === '::1' ? 'ipv6' : 'ipv4', note: 'this computer only' });
    hosts.push({ value: 'localhost', kind: 'name', note: 'this computer only' });
  } else {
    const name = osHostname();
    hosts.push({ value: name, kind: 'name', note: 'this computer\'s name, where your network resolves it' });
    if (!name.includes('.')) hosts.push({ value: `${name}.local`, kind: 'name', note: 'on the local network (Bonjour / mDNS)' });
    const bound = new Set(endpoints.map((e) => e.address));
    const all = bound.has('::') || bound.has('0.0.0.0');
    for (const list of Object.values(networkInterfaces())) {
      for (const nic of list ?? []) {
        if (nic.internal || (!all && !bound.has(nic.address))) continue;
        if (nic.family === 'IPv6' && nic.address.toLowerCase().startsWith('fe80')) continue; // link-local needs a zone
        hosts.push({ value: nic.address, kind: nic.family === 'IPv4' ? 'ipv4' : 'ipv6', note: 'this computer\'s address on the network' });
      }
    }
    if (all) hosts.push({ value: '127.0.0.1', kind: 'ipv4', note: 'this computer only' });
  }
  const out: ConnectionInfoView['endpoints'] = endpoints.map((e) =>
    e.kind === 'imaps'
      ? { port: e.port, security: 'SSL/TLS', description: `Port ${e.port} with SSL/TLS: encrypted from the first byte. Choose this if your mail program offers it.` }
      : e.startTls
        ? { port: e.port, security: 'STARTTLS', description: `Port ${e.port} with STARTTLS: the mail program switches to encryption before logging in.` }
        : { port: e.port, security: 'none', description: `Port ${e.port} without encryption: passwords travel in the clear. Use it only on this computer.` },
  );
  const fingerprint = tls?.fingerprint256 ?? null;
  const selfSigned = tls ? tls.source !== 'configured' : false;
  const certificateAdvice = !tls
    ? 'TLS is off: there is no certificate to check.'
    : selfSigned
      ? `This server uses its own (self-signed) certificate. The first time your mail program connects, it warns that it cannot verify the server. Compare the SHA-256 fingerprint it shows with ${fingerprint}; if they are the same, accept the certificate permanently. If they differ, do not accept: something else is answering.`
      : `This server uses the certificate in ${tls.certFile}, whose SHA-256 fingerprint is ${fingerprint}. Mail programs that trust its issuer connect without questions.`;
  return {
    hosts,
    localOnly,
    endpoints: out,
    fingerprint256: fingerprint,
    certificateAdvice,
    usernameAdvice: 'Log in with an account\'s username and password from the Accounts screen (not an email address unless the username is one).',
  };
}
