// The Live sessions screen's rows, and what the Connect a client screen tells a mail program.
// Part of the appliance's API (../api.ts, which re-exports it): imports nothing outside api/.

export interface SessionView {
  id: number;
  account: string | null;
  remoteAddress: string;
  remotePort: number;
  listener: 'imap' | 'imaps';
  tls: boolean;
  tlsProtocol: string | null;
  /** not-authenticated, authenticated, selected, logout; or handshake while TLS is set up. */
  state: string;
  folder: string | null;
  idle: boolean;
  connectedAt: number;
  bytesIn: number;
  bytesOut: number;
}

export interface ClientEndpoint {
  port: number;
  /** "STARTTLS" on the IMAP port, "SSL/TLS" on the implicit-TLS port, "none" without TLS. */
  security: 'STARTTLS' | 'SSL/TLS' | 'none';
  /** One sentence for the user. */
  description: string;
}

export interface ConnectionInfoView {
  /** Names and addresses a mail program can use to reach this machine, best first. */
  hosts: { value: string; kind: 'name' | 'ipv4' | 'ipv6'; note: string }[];
  /** True when the server listens on the loopback address only (this computer). */
  localOnly: boolean;
  endpoints: ClientEndpoint[];
  fingerprint256: string | null;
  /** What to check when the mail program warns about the certificate, in plain words. */
  certificateAdvice: string;
  usernameAdvice: string;
}
