// The files mail programs set themselves up from, for one account of this server:
//   Thunderbird (and K-9 / Thunderbird for Android, Evolution, ...): autoconfig,
//     config-v1.1.xml (https://wiki.mozilla.org/Thunderbird:Autoconfiguration:ConfigFileFormat)
//   Apple Mail, iOS and iPadOS: a configuration profile (.mobileconfig) with an email account
//     payload and, for our self-signed certificate, a com.apple.security.root payload so that
//     the device can be told to trust it
//   Outlook: autodiscover.xml (the POX "outlook" response schema of 2006a)
// No passwords go in: the mail program asks for it. Nothing here tells whether an account
// exists (the setup server answers for any name), so the files give nobody a list of users.

import { createHash, X509Certificate } from 'node:crypto';
import plistText from './plist.js';

export interface ServerEndpoints {
  /** The name or address mail programs use to reach this computer. */
  host: string;
  /** Implicit TLS (IMAPS) port, or null when not listening. */
  imaps: number | null;
  /** Plain IMAP port, and whether it offers STARTTLS. */
  imap: number | null;
  startTls: boolean;
}

export interface SetupTarget extends ServerEndpoints {
  username: string;
  /** The certificate (PEM) when it is our self-signed one, to be trusted by the device; else null. */
  selfSignedCertPem: string | null;
  /** The server's short name in the mail program. */
  displayName: string;
}

const escapeXml = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);

/** The domain part of a username that is an address, else the host: autoconfig wants a domain. */
export function domainOf(target: Pick<SetupTarget, 'username' | 'host'>): string {
  const at = target.username.lastIndexOf('@');
  return at > 0 && at < target.username.length - 1 ? target.username.slice(at + 1) : target.host;
}

/** The ways in, best first: implicit TLS, then STARTTLS (never a port without TLS). */
function incoming(t: ServerEndpoints): { port: number; socket: 'SSL' | 'STARTTLS' }[] {
  const out: { port: number; socket: 'SSL' | 'STARTTLS' }[] = [];
  if (t.imaps !== null) out.push({ port: t.imaps, socket: 'SSL' });
  if (t.imap !== null && t.startTls) out.push({ port: t.imap, socket: 'STARTTLS' });
  return out;
}

export function hasSecureEndpoint(t: ServerEndpoints): boolean {
  return incoming(t).length > 0;
}

export function autoconfigXml(t: SetupTarget): string {
  const domain = escapeXml(domainOf(t));
  const servers = incoming(t)
    .map(
      (e) => `    <incomingServer type="imap">
      <hostname>${escapeXml(t.host)}</hostname>
      <port>${e.port}</port>
      <socketType>${e.socket}</socketType>
      <authentication>password-cleartext</authentication>
      <username>${escapeXml(t.username)}</username>
    </incomingServer>
`,
    )
    .join('');
  return `<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1">
  <emailProvider id="${domain}">
    <domain>${domain}</domain>
    <displayName>${escapeXml(t.displayName)}</displayName>
    <displayShortName>${escapeXml(t.displayName)}</displayShortName>
${servers}  </emailProvider>
</clientConfig>
`;
}

export function autodiscoverXml(t: SetupTarget): string {
  const protocols = incoming(t)
    .map(
      (e) => `      <Protocol>
        <Type>IMAP</Type>
        <Server>${escapeXml(t.host)}</Server>
        <Port>${e.port}</Port>
        <DomainRequired>off</DomainRequired>
        <LoginName>${escapeXml(t.username)}</LoginName>
        <SPA>off</SPA>
        ${e.socket === 'SSL' ? '<SSL>on</SSL>' : '<Encryption>TLS</Encryption>'}
        <AuthRequired>on</AuthRequired>
      </Protocol>
`,
    )
    .join('');
  return `<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">
  <Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a">
    <Account>
      <AccountType>email</AccountType>
      <Action>settings</Action>
${protocols}    </Account>
  </Response>
</Autodiscover>
`;
}

/** A UUID made from stable inputs, so that installing the profile again replaces the old one. */
function stableUuid(...parts: string[]): string {
  const h = createHash('sha256').update(parts.join('\0')).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`.toUpperCase();
}

export function mobileconfig(t: SetupTarget): string {
  const best = incoming(t)[0];
  if (!best) throw new Error('the server offers no TLS port to set a mail program up with');
  const id = `local.imapd-ts.${t.host.replace(/[^A-Za-z0-9.-]/g, '-')}`;
  const user = t.username.replace(/[^A-Za-z0-9.-]/g, '-');
  const mail: Record<string, unknown> = {
    PayloadType: 'com.apple.mail.managed',
    PayloadVersion: 1,
    PayloadIdentifier: `${id}.mail.${user}`,
    PayloadUUID: stableUuid('mail', t.host, t.username),
    PayloadDisplayName: `Mail: ${t.username}`,
    EmailAccountDescription: `${t.displayName} (${t.username})`,
    EmailAccountType: 'EmailTypeIMAP',
    EmailAccountName: t.username,
    ...(t.username.includes('@') ? { EmailAddress: t.username } : {}),
    IncomingMailServerHostName: t.host,
    IncomingMailServerPortNumber: best.port,
    IncomingMailServerUseSSL: true,
    IncomingMailServerAuthentication: 'EmailAuthPassword',
    IncomingMailServerUsername: t.username,
    // Required by the payload; this appliance does not send mail: the user puts their
    // provider's outgoing server in afterwards.
    OutgoingMailServerHostName: t.host,
    OutgoingMailServerPortNumber: 587,
    OutgoingMailServerUseSSL: true,
    OutgoingMailServerAuthentication: 'EmailAuthPassword',
    OutgoingMailServerUsername: t.username,
  };
  const content: Record<string, unknown>[] = [mail];
  if (t.selfSignedCertPem) {
    const der = new X509Certificate(t.selfSignedCertPem).raw;
    content.unshift({
      PayloadType: 'com.apple.security.root',
      PayloadVersion: 1,
      PayloadIdentifier: `${id}.certificate`,
      PayloadUUID: stableUuid('cert', der.toString('base64')),
      PayloadDisplayName: `Certificate of ${t.host}`,
      PayloadCertificateFileName: `${t.host}.cer`,
      PayloadContent: der,
    });
  }
  return plistText({
    PayloadType: 'Configuration',
    PayloadVersion: 1,
    PayloadIdentifier: `${id}.${user}`,
    PayloadUUID: stableUuid('profile', t.host, t.username),
    PayloadDisplayName: `${t.displayName}: ${t.username}`,
    PayloadDescription: `Sets up the mail account ${t.username} on ${t.host}${t.selfSignedCertPem ? ', and installs the server\'s own certificate (turn on full trust for it in Settings, General, About, Certificate Trust Settings)' : ''}.`,
    PayloadOrganization: 'imapd-ts',
    PayloadContent: content,
  });
}
