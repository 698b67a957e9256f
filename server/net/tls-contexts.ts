// The TLS side of one listener kind (implicit TLS on SSLPORT, or STARTTLS on PORT), as
// Courier's couriertls sets it up from imapd-ssl:
// - the certificate: TLS_CERTFILE, or TLS_CERTFILE.<ip> for a connection to that local address,
//   or TLS_CERTFILE.<domain> for the name the client asks for through SNI;
// - client certificates: TLS_VERIFYPEER (NONE, PEER, REQUIREPEER) against TLS_TRUSTCERTS;
// - the login name a verified certificate carries for AUTHENTICATE EXTERNAL (TLS_EXTERNAL).

import { isIP, type Socket } from 'node:net';
import { createServer, type PeerCertificate, type SecureContext, type Server, type TLSSocket } from 'node:tls';
import type { ImapdSettings } from '../config/index.js';
import { createServerContext, serverContextOptions, type TlsMaterial } from './tls.js';

export type TlsPeerSettings = Pick<ImapdSettings, 'tlsCipherList' | 'tlsVerifyPeer' | 'tlsExternal'>;

interface Waiting {
  resolve(secure: TLSSocket): void;
  reject(err: Error): void;
}

/**
 * Connections are handed to a tls.Server (never listening) rather than wrapped in a bare
 * TLSSocket: only the server verifies a client certificate (sets `authorized`). One server per
 * certificate chosen by local address (the main one and each TLS_CERTFILE.<ip>); SNI picks
 * among the TLS_CERTFILE.<domain> contexts.
 */
export class TlsContexts {
  private readonly byName = new Map<string, SecureContext>();
  private readonly servers = new Map<string, Server>();
  /** Handshakes under way, by the connection's addresses and ports (the TLSSocket shares them with the raw socket). */
  private readonly waiting = new Map<string, Waiting>();

  constructor(
    material: TlsMaterial,
    minVersion: ImapdSettings['tlsMinVersion'],
    private readonly settings: TlsPeerSettings,
    /** PEM certificate authorities for client certificates (TLS_TRUSTCERTS), when asked for. */
    ca: string[] | null,
  ) {
    const options = { minVersion, ciphers: settings.tlsCipherList, ca: ca ?? undefined };
    const hosts = material.virtualHosts ?? [];
    for (const host of hosts) this.byName.set(host.name, createServerContext(host.material, options));
    const serverFor = (m: Pick<TlsMaterial, 'cert' | 'key'>): Server => {
      const server = createServer({
        ...serverContextOptions(m, options),
        requestCert: settings.tlsVerifyPeer !== 'NONE',
        rejectUnauthorized: settings.tlsVerifyPeer === 'REQUIREPEER',
        // The name the client asks for, matched exactly (lower-cased); else the server's own certificate.
        SNICallback: (servername, callback) => callback(null, this.byName.get(servername.toLowerCase())),
        handshakeTimeout: 0, // the listener keeps its own deadline
      });
      server.on('secureConnection', (secure) => this.settle(secure, null));
      server.on('tlsClientError', (err, secure) => this.settle(secure, err));
      return server;
    };
    this.servers.set('', serverFor(material));
    for (const host of hosts) if (isIP(host.name)) this.servers.set(host.name, serverFor(host.material));
  }

  /** TLS on an accepted socket; resolves once the handshake (and the client certificate, if any) passed. */
  accept(socket: Socket): Promise<TLSSocket> {
    const key = connectionKey(socket);
    const local = (socket.localAddress ?? '').replace(/^::ffff:/i, '').toLowerCase();
    return new Promise((resolve, reject) => {
      this.waiting.set(key, { resolve, reject });
      (this.servers.get(local) ?? this.servers.get(''))!.emit('connection', socket);
    });
  }

  /** Forget a handshake the listener gave up on (deadline, closed). */
  abandon(socket: Socket): void {
    this.waiting.delete(connectionKey(socket));
  }

  private settle(secure: TLSSocket, err: Error | null): void {
    const key = connectionKey(secure);
    const waiter = this.waiting.get(key);
    if (!waiter) {
      secure.destroy();
      return;
    }
    this.waiting.delete(key);
    const refusal = err ? err.message : this.refusal(secure);
    if (refusal) {
      secure.destroy();
      waiter.reject(new Error(refusal));
    } else {
      waiter.resolve(secure);
    }
  }

  /**
   * After the handshake: PEER lets a client without a certificate in, but not one whose
   * certificate does not verify (REQUIREPEER refused both in the handshake).
   */
  private refusal(secure: TLSSocket): string | null {
    if (this.settings.tlsVerifyPeer !== 'PEER' || secure.authorized) return null;
    return presented(secure.getPeerCertificate()) ? `client certificate refused: ${String(secure.authorizationError)}` : null;
  }

  /** The login name in a verified client certificate's TLS_EXTERNAL subject field, or null. */
  externalIdentity(secure: TLSSocket): string | null {
    const field = this.settings.tlsExternal;
    if (!field || !secure.authorized) return null;
    const subject = secure.getPeerCertificate().subject as unknown as Record<string, string | string[]> | undefined;
    if (!subject) return null;
    const key = Object.keys(subject).find((k) => k.toLowerCase() === field.toLowerCase());
    const value = key === undefined ? undefined : subject[key];
    // A field that appears twice names no one account.
    return typeof value === 'string' && value !== '' ? value : null;
  }
}

function connectionKey(socket: Socket): string {
  return `${socket.remoteAddress}|${socket.remotePort}|${socket.localAddress}|${socket.localPort}`;
}

function presented(cert: PeerCertificate | null | undefined): boolean {
  return Boolean(cert && Object.keys(cert).length > 0);
}
